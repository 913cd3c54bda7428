/*
 * fs: the POSIX file layer (fs_posix) and the two helpers written once against struct fs
 * (fs_write_atomic, fs_read_all). See fs.h for the contract shared with simfs.
 *
 * Happy path: each struct fs function is one system call, with a handle being the file
 * descriptor. Failure modes handled here:
 *   - EINTR: every call is retried, except close(), which Linux has already completed when it
 *     reports EINTR (retrying could close a descriptor another thread just opened).
 *   - Short reads and writes: pread loops until `n` bytes or end of file; pwritev advances
 *     through the iovec array, a window of at most IOV_WINDOW_MAX entries per call, so callers
 *     may pass more iovecs than IOV_MAX and a partial write resumes mid-iovec.
 *   - errno values become SLUICE_E* codes through err_from_errno().
 *
 * Invariants:
 *   1. fs_posix() holds no state besides its table of functions, so it is safe from any thread.
 *   2. No call moves more than IO_BYTES_MAX bytes, which stays far below SSIZE_MAX and below
 *      Linux's own per-call cap, so a return value can never be mistaken for an error.
 */
#include "storage/fs.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/err.h"

/* Iovecs handed to one pwritev(2) call: 256 keeps the window (4 KiB) cheap on a worker thread's
 * stack and well below IOV_MAX (1024 on Linux), which POSIX only guarantees to be >= 16. */
#define IOV_WINDOW_MAX 256
#if defined(IOV_MAX) && IOV_MAX < IOV_WINDOW_MAX
#undef IOV_WINDOW_MAX
#define IOV_WINDOW_MAX IOV_MAX
#endif

/* Bytes moved by one read or write call (1 GiB): see invariant 2. */
#define IO_BYTES_MAX ((size_t)1 << 30)

_Static_assert(IO_BYTES_MAX <= (size_t)SSIZE_MAX, "a call's byte count must fit ssize_t");

/* Mode bits of created files and directories (before the umask). */
#define FILE_MODE 0644
#define DIR_MODE 0755

/* Returns true if `off` (plus `n` bytes) can be expressed as an off_t. */
static bool off_fits(uint64_t off, uint64_t n)
{
	return off <= (uint64_t)INT64_MAX && n <= (uint64_t)INT64_MAX - off;
}

static int posix_open(struct fs *fs, const char *path, int flags, int *fd_out)
{
	int oflags = O_RDWR | O_CLOEXEC;
	int fd;

	(void)fs;
	if (flags & FS_OPEN_CREATE)
		oflags |= O_CREAT;
	if (flags & FS_OPEN_EXCL)
		oflags |= O_EXCL;
	if (flags & FS_OPEN_TRUNC)
		oflags |= O_TRUNC;
	do {
		fd = open(path, oflags, FILE_MODE);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return err_from_errno(errno);
	*fd_out = fd;
	return 0;
}

static int posix_close(struct fs *fs, int fd)
{
	(void)fs;
	/* Not retried on EINTR: see the design note. */
	if (close(fd) != 0 && errno != EINTR)
		return err_from_errno(errno);
	return 0;
}

static ssize_t posix_pread(struct fs *fs, int fd, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	(void)fs;
	assert(n <= (size_t)SSIZE_MAX);
	if (!off_fits(off, n))
		return SLUICE_EINVAL;
	while (done < n) {
		size_t want = n - done < IO_BYTES_MAX ? n - done : IO_BYTES_MAX;
		ssize_t got = pread(fd, (char *)buf + done, want, (off_t)(off + done));

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return err_from_errno(errno);
		}
		if (got == 0)
			break; /* end of file */
		done += (size_t)got;
	}
	return (ssize_t)done;
}

/* Writes all bytes of iov[0..iovcnt) at `off`. `idx` and `skip` track the first byte not yet
 * written (iovec index and offset inside it); each round copies a window of at most
 * IOV_WINDOW_MAX iovecs and IO_BYTES_MAX bytes, the first one shortened by `skip`. */
static int posix_pwritev(struct fs *fs, int fd, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct iovec win[IOV_WINDOW_MAX];
	uint64_t total = 0;
	size_t skip = 0;
	int idx = 0;

	(void)fs;
	assert(iovcnt >= 0);
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (!off_fits(off, total))
		return SLUICE_EINVAL;
	for (;;) {
		size_t win_bytes = 0;
		int nwin = 0;

		while (idx < iovcnt && iov[idx].iov_len == skip) {
			idx++; /* finished (or empty) iovecs */
			skip = 0;
		}
		if (idx == iovcnt)
			return 0;
		for (int i = idx; i < iovcnt && nwin < IOV_WINDOW_MAX && win_bytes < IO_BYTES_MAX;
		     i++) {
			size_t from = i == idx ? skip : 0;
			size_t len = iov[i].iov_len - from;

			if (len == 0)
				continue;
			if (len > IO_BYTES_MAX - win_bytes)
				len = IO_BYTES_MAX - win_bytes;
			win[nwin].iov_base = (char *)iov[i].iov_base + from;
			win[nwin].iov_len = len;
			win_bytes += len;
			nwin++;
		}
		assert(nwin > 0 && win_bytes > 0);

		ssize_t put = pwritev(fd, win, nwin, (off_t)off);

		if (put < 0) {
			if (errno == EINTR)
				continue;
			return err_from_errno(errno);
		}
		if (put == 0)
			return SLUICE_EIO; /* no progress and no errno: never loop forever */
		assert((size_t)put <= win_bytes);
		off += (uint64_t)put;
		/* Advance (idx, skip) by `put` bytes. */
		size_t left = (size_t)put;
		while (left > 0) {
			size_t rest = iov[idx].iov_len - skip;

			if (left < rest) {
				skip += left;
				left = 0;
			} else {
				left -= rest;
				idx++;
				skip = 0;
			}
		}
	}
}

static int posix_datasync(struct fs *fs, int fd)
{
	int rv;

	(void)fs;
	do {
		rv = fdatasync(fd);
	} while (rv != 0 && errno == EINTR);
	return rv == 0 ? 0 : err_from_errno(errno);
}

static int posix_truncate(struct fs *fs, int fd, uint64_t size)
{
	int rv;

	(void)fs;
	if (!off_fits(size, 0))
		return SLUICE_EINVAL;
	do {
		rv = ftruncate(fd, (off_t)size);
	} while (rv != 0 && errno == EINTR);
	return rv == 0 ? 0 : err_from_errno(errno);
}

static int posix_size(struct fs *fs, int fd, uint64_t *size_out)
{
	struct stat st;
	int rv;

	(void)fs;
	do {
		rv = fstat(fd, &st);
	} while (rv != 0 && errno == EINTR);
	if (rv != 0)
		return err_from_errno(errno);
	*size_out = (uint64_t)st.st_size;
	return 0;
}

static int posix_unlink(struct fs *fs, const char *path)
{
	int rv;

	(void)fs;
	do {
		rv = unlink(path);
	} while (rv != 0 && errno == EINTR);
	return rv == 0 ? 0 : err_from_errno(errno);
}

static int posix_rename(struct fs *fs, const char *from, const char *to)
{
	int rv;

	(void)fs;
	do {
		rv = rename(from, to);
	} while (rv != 0 && errno == EINTR);
	return rv == 0 ? 0 : err_from_errno(errno);
}

static int posix_mkdir(struct fs *fs, const char *path)
{
	int rv;

	(void)fs;
	do {
		rv = mkdir(path, DIR_MODE);
	} while (rv != 0 && errno == EINTR);
	return rv == 0 ? 0 : err_from_errno(errno);
}

static int posix_sync_dir(struct fs *fs, const char *path)
{
	int fd, rv;

	(void)fs;
	do {
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return err_from_errno(errno);
	do {
		rv = fsync(fd);
	} while (rv != 0 && errno == EINTR);
	/* A file system that cannot sync directories (EINVAL) has nothing to make durable. */
	if (rv != 0 && errno == EINVAL)
		rv = 0;
	rv = rv == 0 ? 0 : err_from_errno(errno);
	close(fd);
	return rv;
}

static int posix_list_dir(struct fs *fs, const char *path, fs_list_fn fn, void *arg)
{
	struct dirent *de;
	DIR *d;
	int rv = 0;

	(void)fs;
	do {
		d = opendir(path);
	} while (d == NULL && errno == EINTR);
	if (d == NULL)
		return err_from_errno(errno);
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rv = err_from_errno(errno);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fn(arg, de->d_name) != 0)
			break;
	}
	closedir(d);
	return rv;
}

static struct fs posix_fs = {
	.open = posix_open,
	.close = posix_close,
	.pread = posix_pread,
	.pwritev = posix_pwritev,
	.datasync = posix_datasync,
	.truncate = posix_truncate,
	.size = posix_size,
	.unlink = posix_unlink,
	.rename = posix_rename,
	.mkdir = posix_mkdir,
	.sync_dir = posix_sync_dir,
	.list_dir = posix_list_dir,
};

struct fs *fs_posix(void)
{
	return &posix_fs;
}

/* The temporary file is `path` with this suffix, so it lives in the same directory (rename is
 * atomic only within one file system) and a listing can recognise a leftover. */
#define ATOMIC_TMP_SUFFIX ".tmp"

int fs_write_file(struct fs *fs, const char *path, const void *data, size_t n)
{
	struct iovec iov = {.iov_base = (void *)data, .iov_len = n};
	int fd, rv, rv2;

	rv = fs->open(fs, path, FS_OPEN_CREATE | FS_OPEN_TRUNC, &fd);
	if (rv != 0)
		return rv;
	rv = fs->pwritev(fs, fd, &iov, 1, 0);
	if (rv == 0)
		rv = fs->datasync(fs, fd);
	rv2 = fs->close(fs, fd);
	return rv != 0 ? rv : rv2;
}

int fs_write_atomic(struct fs *fs, const char *dir, const char *path, const void *data, size_t n)
{
	char tmp[PATH_MAX];
	int rv;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s%s", path, ATOMIC_TMP_SUFFIX) >= sizeof tmp)
		return SLUICE_EINVAL;
	rv = fs_write_file(fs, tmp, data, n);
	if (rv != 0)
		goto err_after_create;
	rv = fs->rename(fs, tmp, path);
	if (rv != 0)
		goto err_after_create;
	/* From here `path` holds the new content; if this sync fails, a crash may still bring the
	 * old file back (never a mix of the two), and the caller learns it was not made durable. */
	return fs->sync_dir(fs, dir);

err_after_create:
	/* Best effort: a leftover .tmp is harmless, and the next attempt overwrites it. */
	fs->unlink(fs, tmp);
	return rv;
}

int fs_read_all(struct fs *fs, const char *path, size_t n_max, void **data_out, size_t *n_out)
{
	uint64_t size;
	void *data;
	ssize_t got;
	int fd, rv;

	rv = fs->open(fs, path, 0, &fd);
	if (rv != 0)
		return rv;
	rv = fs->size(fs, fd, &size);
	if (rv != 0)
		goto err_after_open;
	if (size > n_max || size > (uint64_t)SSIZE_MAX) {
		rv = SLUICE_ETOOLARGE;
		goto err_after_open;
	}
	/* malloc(0) may return NULL; one spare byte keeps "empty file" distinct from OOM. */
	data = malloc((size_t)size + 1);
	if (data == NULL) {
		rv = SLUICE_ENOMEM;
		goto err_after_open;
	}
	got = fs->pread(fs, fd, data, (size_t)size, 0);
	if (got < 0) {
		rv = (int)got;
		goto err_after_alloc;
	}
	fs->close(fs, fd); /* read-only use: a close error cannot lose data */
	*data_out = data;
	*n_out = (size_t)got; /* less than `size` only if the file shrank meanwhile */
	return 0;

err_after_alloc:
	free(data);
err_after_open:
	fs->close(fs, fd);
	return rv;
}
