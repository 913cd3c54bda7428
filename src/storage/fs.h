/*
 * fs: the file layer under the partition log, an interface so tests can swap the real POSIX
 * files for an in-memory file system that injects faults and simulates crashes.
 *
 * Files are named by path and handled by an int handle (a file descriptor for fs_posix). Every
 * function returns 0 (or a count) on success and a negative SLUICE_E* code on failure, with
 * ENOSPC/EDQUOT mapped to SLUICE_ENOSPC and other I/O errors to SLUICE_EIO. pwrite writes all
 * bytes or fails. Durability follows POSIX: written bytes survive a crash only after datasync of
 * that file; creation, rename and unlink of a name survive only after sync_dir of its directory.
 *
 * Thread-safety: the log calls an fs from its I/O worker and from the loop thread at once (reads
 * of durable data while the worker appends); implementations must allow that.
 */
#ifndef SLUICE_STORAGE_FS_H
#define SLUICE_STORAGE_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

enum {
	FS_OPEN_CREATE = 1 << 0, /* create if missing */
	FS_OPEN_EXCL = 1 << 1,   /* with CREATE: fail with SLUICE_EEXIST if it exists */
	FS_OPEN_TRUNC = 1 << 2,  /* truncate to 0 on open */
};

/* Called once per directory entry (not "." or ".."); return non-zero to stop early. */
typedef int (*fs_list_fn)(void *arg, const char *name);

struct fs {
	int (*open)(struct fs *fs, const char *path, int flags, int *fd_out);
	int (*close)(struct fs *fs, int fd);
	/* Returns the bytes read (short only at end of file) or a negative code. */
	ssize_t (*pread)(struct fs *fs, int fd, void *buf, size_t n, uint64_t off);
	/* Writes all of iov at `off` or returns a negative code (some bytes may have been written). */
	int (*pwritev)(struct fs *fs, int fd, const struct iovec *iov, int iovcnt, uint64_t off);
	int (*datasync)(struct fs *fs, int fd);
	int (*truncate)(struct fs *fs, int fd, uint64_t size);
	int (*size)(struct fs *fs, int fd, uint64_t *size_out);
	int (*unlink)(struct fs *fs, const char *path);
	int (*rename)(struct fs *fs, const char *from, const char *to);
	int (*mkdir)(struct fs *fs, const char *path); /* SLUICE_EEXIST if it exists */
	int (*sync_dir)(struct fs *fs, const char *path);
	int (*list_dir)(struct fs *fs, const char *path, fs_list_fn fn, void *arg);
};

/* The real file system (POSIX calls, retried on EINTR). */
struct fs *fs_posix(void);

/* Creates or truncates `path`, writes `n` bytes and datasyncs it (the name itself is durable only
 * after a sync_dir of its directory). */
int fs_write_file(struct fs *fs, const char *path, const void *data, size_t n);

/* Writes `n` bytes to `path` atomically and durably: write `path`.tmp, datasync, rename over
 * `path`, sync the directory `dir`. On failure the old file (if any) is untouched. */
int fs_write_atomic(struct fs *fs, const char *dir, const char *path, const void *data, size_t n);

/* Reads a whole small file into a malloc'd buffer (*data_out, *n_out), refusing files larger than
 * `n_max` with SLUICE_ETOOLARGE. SLUICE_ENOTFOUND if it does not exist. */
int fs_read_all(struct fs *fs, const char *path, size_t n_max, void **data_out, size_t *n_out);

#endif
