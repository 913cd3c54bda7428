/*
 * simfs: an in-memory struct fs that injects faults and simulates power loss (see simfs.h).
 *
 * Model. Files are inodes; a name table maps full, normalised paths to inodes twice over: `cur`
 * (what the name means now) and `dur` (what it meant at the last sync_dir of its directory).
 * Each inode holds two images, `cur` (what readers see) and `durable` (its content at the last
 * datasync), and the list of writes and truncations made since that datasync, in order. The
 * pending list is the heart of crash simulation:
 *   - datasync replays the pending list onto `durable` (cost proportional to the bytes written
 *     since, not to the file size) and empties it;
 *   - simfs_crash reverts every name to `dur`, and gives each surviving inode `durable` plus the
 *     first k pending operations (k chosen by the seeded generator, 0..all), possibly followed by
 *     a torn prefix of operation k+1: its first bytes, then old content where it overwrote and,
 *     sometimes, zeroes up to the end of the 4 KiB page where it extended the file. A pending
 *     truncation is likewise either kept or lost, together with everything after it.
 *
 * Paths are normalised ("a//b/./c/" becomes "a/b/c"); ".." is refused. A name's directory is
 * the text before its last '/': "/" and "." always exist and are separate roots, other
 * directories come from mkdir. Simplifications, chosen so tests exercise files, not the tree:
 * mkdir is durable at once (a crash never removes a directory), directories cannot be renamed
 * or removed, and a crash that leaves one inode under two synced names keeps them as hard links.
 *
 * Handles are numbers from a counter that is never reused, so a handle from before a crash (or a
 * closed one) can never alias a new file: operations on it return SLUICE_EIO. An unlinked file
 * stays readable and writable through handles open on it until they close, as in POSIX.
 *
 * Faults: a countdown per simfs_op; the call that brings it to zero fails with the armed code
 * and changes nothing. The space cap counts `cur` bytes of every inode that still has a name or
 * an open handle (as a real disk frees an unlinked file's blocks at its last close).
 *
 * Invariants (checked by simfs_invariants under assert):
 *   1. An inode's ncur, ndur and nopen equal the names and handles that point at it, and an
 *      inode exists only while one of them is non-zero.
 *   2. Replaying an inode's pending list onto `durable` yields `cur` (lengths checked on datasync).
 *   3. `used` is the sum of cur.len over live inodes.
 *   4. Every name's directory exists; no name is also a directory (for `cur`).
 *
 * One mutex guards everything. list_dir copies the names out and calls back unlocked, so the
 * callback may use the file system.
 */
#include "storage/simfs.h"

#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

/* Largest file simfs stores (1 TiB): a bigger offset is a bug in a test, and refusing it (as a
 * real file system refuses with EFBIG) beats attempting the allocation. */
#define FILE_BYTES_MAX ((uint64_t)1 << 40)

/* Granularity of a torn write's zero fill: the page a real disk or page cache writes at once. */
#define TORN_PAGE_BYTES 4096u

/* Handle numbers start above stdin/stdout/stderr, so they look like descriptors in logs. */
#define FIRST_FD 3

struct image {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* One write or truncation made since the last datasync. */
struct pending {
	bool is_truncate;
	uint64_t off; /* write: offset; truncate: the new size */
	size_t len;   /* write only */
	uint8_t *data;
};

struct inode {
	struct image cur;
	struct image durable;
	struct pending *ops;
	size_t nops, ops_cap;
	int ncur, ndur, nopen;
	struct inode *prev, *next;
};

struct entry {
	char *path;
	struct inode *cur; /* NULL: no such file now */
	struct inode *dur; /* NULL: no such file after a crash */
};

struct handle {
	int fd;
	struct inode *ino;
};

struct fault {
	int countdown; /* 0: disarmed */
	int code;
};

struct simfs {
	struct fs fs; /* first, so simfs_fs() and from_fs() are casts */
	pthread_mutex_t mu;
	uint64_t rng;
	bool torn_writes;
	struct inode *inodes;
	struct entry *ents;
	size_t nents, ents_cap;
	char **dirs;
	size_t ndirs, dirs_cap;
	struct handle *hs;
	size_t nhs, hs_cap;
	int next_fd;
	uint64_t used;
	uint64_t space_max;
	struct fault faults[SIMFS_OP__COUNT];
};

static struct simfs *from_fs(struct fs *fs)
{
	return (struct simfs *)fs;
}

/* splitmix64: the crash choices, reproducible from the seed. */
static uint64_t rng_next(struct simfs *s)
{
	uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Grows the array `*p` of `*cap` elements of `size` bytes to hold at least `n`. */
static int array_reserve(void **p, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap != 0 ? *cap : 8;
	void *q;

	if (n <= *cap)
		return 0;
	while (c < n)
		c *= 2;
	q = realloc(*p, c * size);
	if (q == NULL)
		return SLUICE_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Paths
 */

/* Writes the normalised form of `in` to `out` (PATH_MAX bytes): empty and "." components and
 * repeated or trailing slashes dropped. Returns 0, SLUICE_ENOTFOUND for "", or SLUICE_EINVAL for
 * ".." components or a path that does not fit. */
static int path_norm(const char *in, char *out)
{
	size_t o = 0;
	const char *p = in;

	if (*in == '\0')
		return SLUICE_ENOTFOUND;
	if (*p == '/')
		out[o++] = '/';
	while (*p != '\0') {
		const char *c;
		size_t n;

		while (*p == '/')
			p++;
		c = p;
		while (*p != '\0' && *p != '/')
			p++;
		n = (size_t)(p - c);
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return SLUICE_EINVAL;
		if (o > 0 && out[o - 1] != '/')
			out[o++] = '/';
		if (o + n + 1 > PATH_MAX)
			return SLUICE_EINVAL;
		memcpy(out + o, c, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	return 0;
}

/* Returns the length of the directory part of normalised `p` and sets *dir_out to it; for "a"
 * the directory is "." and for "/a" it is "/" (both returned as string constants). */
static size_t path_dir(const char *p, const char **dir_out)
{
	const char *slash = strrchr(p, '/');

	if (slash == NULL) {
		*dir_out = ".";
		return 1;
	}
	if (slash == p) {
		*dir_out = "/";
		return 1;
	}
	*dir_out = p;
	return (size_t)(slash - p);
}

/* Returns true if normalised `p` is a direct child of directory `dir`. */
static bool path_in_dir(const char *p, const char *dir)
{
	const char *d;
	size_t n;

	if (strcmp(p, "/") == 0 || strcmp(p, ".") == 0)
		return false;
	n = path_dir(p, &d);
	return strlen(dir) == n && memcmp(d, dir, n) == 0;
}

static const char *path_base(const char *p)
{
	const char *slash = strrchr(p, '/');

	return slash != NULL ? slash + 1 : p;
}

static bool dir_exists(const struct simfs *s, const char *p)
{
	if (strcmp(p, "/") == 0 || strcmp(p, ".") == 0)
		return true;
	for (size_t i = 0; i < s->ndirs; i++)
		if (strcmp(s->dirs[i], p) == 0)
			return true;
	return false;
}

static bool parent_exists(const struct simfs *s, const char *p)
{
	char dir[PATH_MAX];
	const char *d;
	size_t n = path_dir(p, &d);

	memcpy(dir, d, n);
	dir[n] = '\0';
	return dir_exists(s, dir);
}

/* ---------------------------------------------------------------------------------------------
 * Images and pending operations
 */

static int image_reserve(struct image *im, size_t n)
{
	size_t c = im->cap != 0 ? im->cap : 4096;
	uint8_t *q;

	if (n <= im->cap)
		return 0;
	while (c < n)
		c *= 2;
	q = realloc(im->data, c);
	if (q == NULL)
		return SLUICE_ENOMEM;
	im->data = q;
	im->cap = c;
	return 0;
}

/* Sets the length to `n`, zero-filling any growth; the capacity must already suffice. */
static void image_resize(struct image *im, size_t n)
{
	assert(n <= im->cap || n <= im->len);
	if (n > im->len)
		memset(im->data + im->len, 0, n - im->len);
	im->len = n;
}

/* Writes `n` bytes at `off`, zero-filling a gap; the capacity must already suffice. */
static void image_write(struct image *im, size_t off, const uint8_t *p, size_t n)
{
	assert(off + n <= im->cap);
	if (off > im->len)
		memset(im->data + im->len, 0, off - im->len);
	memcpy(im->data + off, p, n);
	if (off + n > im->len)
		im->len = off + n;
}

static void image_free(struct image *im)
{
	free(im->data);
	memset(im, 0, sizeof *im);
}

/* Returns the largest length an image of length `len` reaches while ops[0..k) are applied. */
static size_t ops_peak(size_t len, const struct pending *ops, size_t k)
{
	size_t peak = len;

	for (size_t i = 0; i < k; i++) {
		const struct pending *op = &ops[i];
		size_t end = op->is_truncate ? (size_t)op->off : (size_t)op->off + op->len;

		if (end > peak)
			peak = end;
	}
	return peak;
}

static void ops_apply(struct image *im, const struct pending *ops, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		if (ops[i].is_truncate)
			image_resize(im, (size_t)ops[i].off);
		else
			image_write(im, (size_t)ops[i].off, ops[i].data, ops[i].len);
	}
}

/* Makes room for one more pending operation. */
static int ops_reserve(struct inode *ino)
{
	return array_reserve((void **)&ino->ops, &ino->ops_cap, ino->nops + 1, sizeof *ino->ops);
}

static void ops_clear(struct inode *ino)
{
	for (size_t i = 0; i < ino->nops; i++)
		free(ino->ops[i].data);
	ino->nops = 0;
}

/* ---------------------------------------------------------------------------------------------
 * Inodes, names and handles
 */

static bool ino_live(const struct inode *ino)
{
	return ino->ncur > 0 || ino->nopen > 0;
}

static struct inode *ino_new(struct simfs *s)
{
	struct inode *ino = calloc(1, sizeof *ino);

	if (ino == NULL)
		return NULL;
	ino->next = s->inodes;
	if (s->inodes != NULL)
		s->inodes->prev = ino;
	s->inodes = ino;
	return ino;
}

static void ino_free(struct simfs *s, struct inode *ino)
{
	if (ino->prev != NULL)
		ino->prev->next = ino->next;
	else
		s->inodes = ino->next;
	if (ino->next != NULL)
		ino->next->prev = ino->prev;
	ops_clear(ino);
	free(ino->ops);
	image_free(&ino->cur);
	image_free(&ino->durable);
	free(ino);
}

/* Adds the deltas to the inode's reference counts, keeping `used` in step with its liveness,
 * and frees it when nothing refers to it any more. */
static void ino_ref(struct simfs *s, struct inode *ino, int dcur, int ddur, int dopen)
{
	bool was_live = ino_live(ino);

	ino->ncur += dcur;
	ino->ndur += ddur;
	ino->nopen += dopen;
	assert(ino->ncur >= 0 && ino->ndur >= 0 && ino->nopen >= 0);
	if (was_live && !ino_live(ino))
		s->used -= ino->cur.len;
	else if (!was_live && ino_live(ino))
		s->used += ino->cur.len;
	if (ino->ncur == 0 && ino->ndur == 0 && ino->nopen == 0)
		ino_free(s, ino);
}

static void entry_set_cur(struct simfs *s, struct entry *e, struct inode *ino)
{
	struct inode *old = e->cur;

	if (old == ino)
		return;
	if (ino != NULL)
		ino_ref(s, ino, 1, 0, 0);
	e->cur = ino;
	if (old != NULL)
		ino_ref(s, old, -1, 0, 0);
}

static void entry_set_dur(struct simfs *s, struct entry *e, struct inode *ino)
{
	struct inode *old = e->dur;

	if (old == ino)
		return;
	if (ino != NULL)
		ino_ref(s, ino, 0, 1, 0);
	e->dur = ino;
	if (old != NULL)
		ino_ref(s, old, 0, -1, 0);
}

static struct entry *entry_find(struct simfs *s, const char *path)
{
	for (size_t i = 0; i < s->nents; i++)
		if (strcmp(s->ents[i].path, path) == 0)
			return &s->ents[i];
	return NULL;
}

/* Returns the entry for `path`, adding an empty one if needed, or NULL (OOM). Adding may move
 * the table: earlier entry pointers are invalid afterwards. */
static struct entry *entry_get(struct simfs *s, const char *path)
{
	struct entry *e = entry_find(s, path);
	char *copy;

	if (e != NULL)
		return e;
	if (array_reserve((void **)&s->ents, &s->ents_cap, s->nents + 1, sizeof *s->ents) != 0)
		return NULL;
	copy = strdup(path);
	if (copy == NULL)
		return NULL;
	e = &s->ents[s->nents++];
	*e = (struct entry){.path = copy};
	return e;
}

/* Drops entries that name nothing now and nothing after a crash. */
static void entries_gc(struct simfs *s)
{
	size_t o = 0;

	for (size_t i = 0; i < s->nents; i++) {
		if (s->ents[i].cur == NULL && s->ents[i].dur == NULL)
			free(s->ents[i].path);
		else
			s->ents[o++] = s->ents[i];
	}
	s->nents = o;
}

static struct handle *handle_find(struct simfs *s, int fd)
{
	for (size_t i = 0; i < s->nhs; i++)
		if (s->hs[i].fd == fd)
			return &s->hs[i];
	return NULL;
}

/* Returns the armed code if this call of `op` is the one to fail, else 0. */
static int fault_hit(struct simfs *s, enum simfs_op op)
{
	struct fault *f = &s->faults[op];

	if (f->countdown == 0 || --f->countdown > 0)
		return 0;
	return f->code;
}

/* Returns true if `grow` more live bytes would exceed the space cap. */
static bool over_cap(const struct simfs *s, uint64_t grow)
{
	return grow > 0 && (s->used >= s->space_max || grow > s->space_max - s->used);
}

static uint64_t used_recompute(const struct simfs *s)
{
	uint64_t used = 0;

	for (const struct inode *ino = s->inodes; ino != NULL; ino = ino->next)
		if (ino_live(ino))
			used += ino->cur.len;
	return used;
}

/* Checks the invariants of the design note; quadratic, so only used under assert at quiet
 * points (crash, simfs_used), hence unused when NDEBUG compiles the asserts out. */
__attribute__((unused)) static bool simfs_invariants(const struct simfs *s)
{
	for (const struct inode *ino = s->inodes; ino != NULL; ino = ino->next) {
		int ncur = 0, ndur = 0, nopen = 0;

		for (size_t i = 0; i < s->nents; i++) {
			ncur += s->ents[i].cur == ino;
			ndur += s->ents[i].dur == ino;
		}
		for (size_t i = 0; i < s->nhs; i++)
			nopen += s->hs[i].ino == ino;
		if (ncur != ino->ncur || ndur != ino->ndur || nopen != ino->nopen)
			return false;
		if (ncur + ndur + nopen == 0)
			return false;
		if (ops_peak(ino->durable.len, ino->ops, ino->nops) < ino->cur.len)
			return false;
	}
	for (size_t i = 0; i < s->nents; i++) {
		if (!parent_exists(s, s->ents[i].path))
			return false;
		if (s->ents[i].cur != NULL && dir_exists(s, s->ents[i].path))
			return false;
	}
	return s->used == used_recompute(s);
}

/* ---------------------------------------------------------------------------------------------
 * struct fs
 */

static int sim_open(struct fs *fs, const char *path, int flags, int *fd_out)
{
	struct simfs *s = from_fs(fs);
	char p[PATH_MAX];
	struct inode *ino = NULL;
	struct entry *e;
	int rv;

	pthread_mutex_lock(&s->mu);
	rv = fault_hit(s, SIMFS_OP_OPEN);
	if (rv == 0)
		rv = path_norm(path, p);
	if (rv != 0)
		goto out;
	if (dir_exists(s, p)) {
		rv = SLUICE_EIO; /* EISDIR: open() asks for read-write access */
		goto out;
	}
	if (!parent_exists(s, p)) {
		rv = SLUICE_ENOTFOUND;
		goto out;
	}
	rv = array_reserve((void **)&s->hs, &s->hs_cap, s->nhs + 1, sizeof *s->hs);
	if (rv != 0)
		goto out;
	e = entry_find(s, p);
	if (e != NULL && e->cur != NULL) {
		if ((flags & FS_OPEN_CREATE) && (flags & FS_OPEN_EXCL)) {
			rv = SLUICE_EEXIST;
			goto out;
		}
		ino = e->cur;
		if ((flags & FS_OPEN_TRUNC) && ino->cur.len > 0) {
			rv = ops_reserve(ino);
			if (rv != 0)
				goto out;
			ino->ops[ino->nops++] = (struct pending){.is_truncate = true, .off = 0};
			s->used -= ino->cur.len; /* live: it has a name */
			image_resize(&ino->cur, 0);
		}
	} else {
		if (!(flags & FS_OPEN_CREATE)) {
			rv = SLUICE_ENOTFOUND;
			goto out;
		}
		e = entry_get(s, p);
		if (e == NULL) {
			rv = SLUICE_ENOMEM;
			goto out;
		}
		ino = ino_new(s);
		if (ino == NULL) {
			entries_gc(s); /* the entry may have just been added */
			rv = SLUICE_ENOMEM;
			goto out;
		}
		entry_set_cur(s, e, ino);
	}
	s->hs[s->nhs++] = (struct handle){.fd = s->next_fd, .ino = ino};
	ino_ref(s, ino, 0, 0, 1);
	assert(s->next_fd < INT_MAX);
	*fd_out = s->next_fd++;
out:
	pthread_mutex_unlock(&s->mu);
	return rv;
}

static int sim_close(struct fs *fs, int fd)
{
	struct simfs *s = from_fs(fs);
	struct handle *h;
	int rv = 0;

	pthread_mutex_lock(&s->mu);
	h = handle_find(s, fd);
	if (h == NULL) {
		rv = SLUICE_EIO; /* EBADF, or a handle from before a crash */
		goto out;
	}
	struct inode *ino = h->ino;
	*h = s->hs[--s->nhs];
	ino_ref(s, ino, 0, 0, -1);
out:
	pthread_mutex_unlock(&s->mu);
	return rv;
}

/* The common start of an operation on an open handle: takes the lock (the caller unlocks),
 * applies the countdown fault of `op`, and finds the handle's inode. Returns it, or NULL with
 * *rv set (the fault's code, or SLUICE_EIO for an unknown handle or one from before a crash). */
static struct inode *handle_op_begin(struct simfs *s, enum simfs_op op, int fd, int *rv)
{
	struct handle *h;

	pthread_mutex_lock(&s->mu);
	*rv = fault_hit(s, op);
	if (*rv != 0)
		return NULL;
	h = handle_find(s, fd);
	if (h == NULL) {
		*rv = SLUICE_EIO;
		return NULL;
	}
	return h->ino;
}

static ssize_t sim_pread(struct fs *fs, int fd, void *buf, size_t n, uint64_t off)
{
	struct simfs *s = from_fs(fs);
	struct inode *ino;
	ssize_t rv;
	int err;

	assert(n <= (size_t)SSIZE_MAX);
	ino = handle_op_begin(s, SIMFS_OP_READ, fd, &err);
	rv = err;
	if (ino == NULL)
		goto out;
	const struct image *im = &ino->cur;
	if (off >= im->len) {
		rv = 0;
		goto out;
	}
	if (n > im->len - off)
		n = im->len - (size_t)off;
	memcpy(buf, im->data + off, n);
	rv = (ssize_t)n;
out:
	pthread_mutex_unlock(&s->mu);
	return rv;
}

static int sim_pwritev(struct fs *fs, int fd, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct simfs *s = from_fs(fs);
	struct inode *ino;
	uint64_t total = 0, end, grow;
	uint8_t *data;
	int rv;

	assert(iovcnt >= 0);
	ino = handle_op_begin(s, SIMFS_OP_WRITE, fd, &rv);
	if (ino == NULL)
		goto out;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > FILE_BYTES_MAX - total) {
			rv = SLUICE_EIO; /* EFBIG */
			goto out;
		}
		total += iov[i].iov_len;
	}
	if (total == 0)
		goto out;
	if (off > FILE_BYTES_MAX - total) {
		rv = SLUICE_EIO; /* EFBIG */
		goto out;
	}
	end = off + total;
	grow = end > ino->cur.len ? end - ino->cur.len : 0;
	if (over_cap(s, grow)) {
		rv = SLUICE_ENOSPC;
		goto out;
	}
	rv = SLUICE_ENOMEM;
	if (ops_reserve(ino) != 0 ||
	    image_reserve(&ino->cur, (size_t)end) != 0)
		goto out;
	data = malloc((size_t)total);
	if (data == NULL)
		goto out;
	rv = 0;
	size_t at = 0;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0)
			memcpy(data + at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	image_write(&ino->cur, (size_t)off, data, (size_t)total);
	ino->ops[ino->nops++] =
		(struct pending){.off = off, .len = (size_t)total, .data = data};
	assert(ino_live(ino));
	s->used += grow;
out:
	pthread_mutex_unlock(&s->mu);
	return rv;
}

static int sim_datasync(struct fs *fs, int fd)
{
	struct simfs *s = from_fs(fs);
	struct inode *ino;
	int rv;

	ino = handle_op_begin(s, SIMFS_OP_SYNC, fd, &rv);
	if (ino == NULL)
		goto out;
	rv = image_reserve(&ino->durable, ops_peak(ino->durable.len, ino->ops, ino->nops));
	if (rv != 0)
		goto out;
	ops_apply(&ino->durable, ino->ops, ino->nops);
	ops_clear(ino);
	assert(ino->durable.len == ino->cur.len);
out:
	pthread_mutex_unlock(&s->mu);
	return rv;
}

static int sim_truncate(struct fs *fs, int fd, uint64_t size)
{
	struct simfs *s = from_fs(fs);
	struct inode *ino;
	int rv;

	ino = handle_op_begin(s, SIMFS_OP_TRUNCATE, fd, &rv);
	if (ino == NULL)
		goto out;
	if (size > FILE_BYTES_MAX) {
		rv = SLUICE_EIO; /* EFBIG */
		goto out;
	}
	if (size == ino->cur.len)
		goto out;
	if (size > ino->cur.len && over_cap(s, size - ino->cur.len)) {
		rv = SLUICE_ENOSPC;
		goto out;
	}
	rv = SLUICE_ENOMEM;
	if (ops_reserve(ino) != 0 ||
	    image_reserve(&ino->cur, (size_t)size) != 0)
		goto out;
	rv = 0;
	ino->ops[ino->nops++] = (struct pending){.is_truncate = true, .off = size};
	s->used = s->used - ino->cur.len + size;
	image_resize(&ino->cur, (size_t)size);
out:
	pthread_mutex_unlock(&s->mu);
	return rv;
}

static int sim_size(struct fs *fs, int fd, uint64_t *size_out)
{
	struct simfs *s = from_fs(fs);
	struct handle *h;
	int rv = 0;

	pthread_mutex_lock(&s->mu);
	h = handle_find(s, fd);
	if (h == NULL)
		rv = SLUICE_EIO;
	else
		*size_out = h->ino->cur.len;
	pthread_mutex_unlock(&s->mu);
	return rv;
}

static int sim_unlink(struct fs *fs, const char *path)
{
	struct simfs *s = from_fs(fs);
	char p[PATH_MAX];
	struct entry *e;
	int rv;

	pthread_mutex_lock(&s->mu);
	rv = fault_hit(s, SIMFS_OP_UNLINK);
	if (rv == 0)
		rv = path_norm(path, p);
	if (rv != 0)
		goto out;
	if (dir_exists(s, p)) {
		rv = SLUICE_EIO; /* EISDIR */
		goto out;
	}
	e = entry_find(s, p);
	if (e == NULL || e->cur == NULL) {
		rv = SLUICE_ENOTFOUND;
		goto out;
	}
	entry_set_cur(s, e, NULL);
	entries_gc(s);
out:
	pthread_mutex_unlock(&s->mu);
	return rv;
}

static int sim_rename(struct fs *fs, const char *from, const char *to)
{
	struct simfs *s = from_fs(fs);
	char pf[PATH_MAX], pt[PATH_MAX];
	struct entry *ef, *et;
	int rv;

	pthread_mutex_lock(&s->mu);
	rv = fault_hit(s, SIMFS_OP_RENAME);
	if (rv == 0)
		rv = path_norm(from, pf);
	if (rv == 0)
		rv = path_norm(to, pt);
	if (rv != 0)
		goto out;
	if (dir_exists(s, pf)) {
		rv = SLUICE_EINVAL; /* renaming directories is not modelled */
		goto out;
	}
	ef = entry_find(s, pf);
	if (ef == NULL || ef->cur == NULL || !parent_exists(s, pt)) {
		rv = SLUICE_ENOTFOUND;
		goto out;
	}
	if (dir_exists(s, pt)) {
		rv = SLUICE_EIO; /* EISDIR */
		goto out;
	}
	if (strcmp(pf, pt) == 0)
		goto out;
	et = entry_get(s, pt);
	if (et == NULL) {
		rv = SLUICE_ENOMEM;
		goto out;
	}
	ef = entry_find(s, pf); /* entry_get may have moved the table */
	entry_set_cur(s, et, ef->cur);
	entry_set_cur(s, ef, NULL);
	entries_gc(s);
out:
	pthread_mutex_unlock(&s->mu);
	return rv;
}

static int sim_mkdir(struct fs *fs, const char *path)
{
	struct simfs *s = from_fs(fs);
	char p[PATH_MAX];
	struct entry *e;
	char *copy;
	int rv;

	pthread_mutex_lock(&s->mu);
	rv = path_norm(path, p);
	if (rv != 0)
		goto out;
	e = entry_find(s, p);
	if (dir_exists(s, p) || (e != NULL && e->cur != NULL)) {
		rv = SLUICE_EEXIST;
		goto out;
	}
	if (!parent_exists(s, p)) {
		rv = SLUICE_ENOTFOUND;
		goto out;
	}
	rv = SLUICE_ENOMEM;
	if (array_reserve((void **)&s->dirs, &s->dirs_cap, s->ndirs + 1, sizeof *s->dirs) != 0)
		goto out;
	copy = strdup(p);
	if (copy == NULL)
		goto out;
	rv = 0;
	s->dirs[s->ndirs++] = copy;
	/* The directory is durable at once (design note), so its entry in the parent is too:
	 * a file name that a crash would otherwise bring back at this path is gone for good. */
	if (e != NULL) {
		entry_set_dur(s, e, NULL);
		entries_gc(s);
	}
out:
	pthread_mutex_unlock(&s->mu);
	return rv;
}

static int sim_sync_dir(struct fs *fs, const char *path)
{
	struct simfs *s = from_fs(fs);
	char p[PATH_MAX];
	int rv;

	pthread_mutex_lock(&s->mu);
	rv = fault_hit(s, SIMFS_OP_SYNC);
	if (rv == 0)
		rv = path_norm(path, p);
	if (rv != 0)
		goto out;
	if (!dir_exists(s, p)) {
		struct entry *e = entry_find(s, p);

		rv = e != NULL && e->cur != NULL ? SLUICE_EIO /* ENOTDIR */ : SLUICE_ENOTFOUND;
		goto out;
	}
	for (size_t i = 0; i < s->nents; i++)
		if (path_in_dir(s->ents[i].path, p))
			entry_set_dur(s, &s->ents[i], s->ents[i].cur);
	entries_gc(s);
out:
	pthread_mutex_unlock(&s->mu);
	return rv;
}

static void names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int sim_list_dir(struct fs *fs, const char *path, fs_list_fn fn, void *arg)
{
	struct simfs *s = from_fs(fs);
	char p[PATH_MAX];
	char **names = NULL;
	size_t n = 0;
	int rv;

	pthread_mutex_lock(&s->mu);
	rv = path_norm(path, p);
	if (rv != 0)
		goto err_locked;
	if (!dir_exists(s, p)) {
		struct entry *e = entry_find(s, p);

		rv = e != NULL && e->cur != NULL ? SLUICE_EIO /* ENOTDIR */ : SLUICE_ENOTFOUND;
		goto err_locked;
	}
	names = calloc(s->nents + s->ndirs + 1, sizeof *names);
	if (names == NULL) {
		rv = SLUICE_ENOMEM;
		goto err_locked;
	}
	for (size_t i = 0; i < s->nents + s->ndirs; i++) {
		const char *q = i < s->nents ? s->ents[i].path : s->dirs[i - s->nents];

		if (i < s->nents && s->ents[i].cur == NULL)
			continue;
		if (!path_in_dir(q, p))
			continue;
		names[n] = strdup(path_base(q));
		if (names[n] == NULL) {
			rv = SLUICE_ENOMEM;
			goto err_after_names;
		}
		n++;
	}
	pthread_mutex_unlock(&s->mu);
	/* Unlocked: the callback may call back into this file system. */
	for (size_t i = 0; i < n; i++)
		if (fn(arg, names[i]) != 0)
			break;
	names_free(names, n);
	return 0;

err_after_names:
	names_free(names, n);
err_locked:
	pthread_mutex_unlock(&s->mu);
	return rv;
}

/* ---------------------------------------------------------------------------------------------
 * Test interface
 */

struct simfs *simfs_new(uint64_t seed)
{
	struct simfs *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		free(s);
		return NULL;
	}
	s->fs = (struct fs){
		.open = sim_open,
		.close = sim_close,
		.pread = sim_pread,
		.pwritev = sim_pwritev,
		.datasync = sim_datasync,
		.truncate = sim_truncate,
		.size = sim_size,
		.unlink = sim_unlink,
		.rename = sim_rename,
		.mkdir = sim_mkdir,
		.sync_dir = sim_sync_dir,
		.list_dir = sim_list_dir,
	};
	s->rng = seed;
	s->torn_writes = true;
	s->next_fd = FIRST_FD;
	s->space_max = UINT64_MAX;
	return s;
}

void simfs_free(struct simfs *s)
{
	if (s == NULL)
		return;
	while (s->inodes != NULL)
		ino_free(s, s->inodes);
	for (size_t i = 0; i < s->nents; i++)
		free(s->ents[i].path);
	free(s->ents);
	names_free(s->dirs, s->ndirs);
	free(s->hs);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

struct fs *simfs_fs(struct simfs *s)
{
	return &s->fs;
}

void simfs_fail_nth(struct simfs *s, enum simfs_op op, int nth, int code)
{
	assert(op >= 0 && op < SIMFS_OP__COUNT && nth >= 0);
	pthread_mutex_lock(&s->mu);
	s->faults[op] = (struct fault){.countdown = nth, .code = code};
	pthread_mutex_unlock(&s->mu);
}

void simfs_set_space(struct simfs *s, uint64_t bytes_max)
{
	pthread_mutex_lock(&s->mu);
	s->space_max = bytes_max;
	pthread_mutex_unlock(&s->mu);
}

uint64_t simfs_used(struct simfs *s)
{
	uint64_t used;

	pthread_mutex_lock(&s->mu);
	assert(simfs_invariants(s));
	used = s->used;
	pthread_mutex_unlock(&s->mu);
	return used;
}

void simfs_set_torn_writes(struct simfs *s, bool on)
{
	pthread_mutex_lock(&s->mu);
	s->torn_writes = on;
	pthread_mutex_unlock(&s->mu);
}

/* Out of memory inside simfs_crash, which cannot report failure: a test cannot go on. */
static void crash_oom(void)
{
	fprintf(stderr, "simfs: out of memory while simulating a crash\n");
	abort();
}

/* Applies a torn prefix of write `w` to `d`: its first `cut` bytes (old content stays after
 * them where it overwrote) and, half the time, zeroes to the end of the page holding the cut,
 * as when the file's new size reached the disk before all of the last page's data. */
static void crash_torn_write(struct simfs *s, struct image *d, const struct pending *w)
{
	size_t cut = (size_t)(rng_next(s) % w->len);
	size_t cut_end = (size_t)w->off + cut;
	size_t page_end = cut_end - cut_end % TORN_PAGE_BYTES + TORN_PAGE_BYTES;
	size_t w_end = (size_t)w->off + w->len;
	size_t zero_end = page_end < w_end ? page_end : w_end;

	assert(!w->is_truncate && w->len > 0);
	image_write(d, (size_t)w->off, w->data, cut);
	if (rng_next(s) % 2 == 0 && zero_end > d->len)
		image_resize(d, zero_end);
}

/* Decides what of the inode's pending operations reached the disk (design note) and makes that
 * both its durable and its current content. */
static void crash_inode(struct simfs *s, struct inode *ino)
{
	struct image *d = &ino->durable;

	if (s->torn_writes && ino->nops > 0) {
		size_t k = (size_t)(rng_next(s) % (ino->nops + 1));

		if (image_reserve(d, ops_peak(d->len, ino->ops, ino->nops)) != 0)
			crash_oom();
		ops_apply(d, ino->ops, k);
		if (k < ino->nops && !ino->ops[k].is_truncate && rng_next(s) % 2 == 0)
			crash_torn_write(s, d, &ino->ops[k]);
	}
	ops_clear(ino);
	if (image_reserve(&ino->cur, d->len) != 0)
		crash_oom();
	if (d->len > 0)
		memcpy(ino->cur.data, d->data, d->len);
	ino->cur.len = d->len;
}

void simfs_crash(struct simfs *s)
{
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nents; i++)
		entry_set_cur(s, &s->ents[i], s->ents[i].dur);
	for (size_t i = 0; i < s->nhs; i++)
		ino_ref(s, s->hs[i].ino, 0, 0, -1); /* frees files that only a handle kept */
	s->nhs = 0;
	entries_gc(s);
	for (struct inode *ino = s->inodes; ino != NULL; ino = ino->next)
		crash_inode(s, ino);
	s->used = used_recompute(s);
	assert(simfs_invariants(s));
	pthread_mutex_unlock(&s->mu);
}

int simfs_file_size(struct simfs *s, const char *path, uint64_t *size_out)
{
	char p[PATH_MAX];
	struct entry *e;
	int rv;

	pthread_mutex_lock(&s->mu);
	rv = path_norm(path, p);
	if (rv != 0)
		goto out;
	e = entry_find(s, p);
	if (e == NULL || e->cur == NULL)
		rv = SLUICE_ENOTFOUND;
	else
		*size_out = e->cur->cur.len;
out:
	pthread_mutex_unlock(&s->mu);
	return rv;
}

/* Rot hits the medium, so it is written into `durable` directly; where the range lies beyond
 * the durable image, or pending operations could overwrite it on replay, it is also appended as
 * a pending write so that replaying still yields `cur` (invariant 2). */
int simfs_corrupt(struct simfs *s, const char *path, uint64_t off, const void *bytes, size_t n)
{
	char p[PATH_MAX];
	struct entry *e;
	struct inode *ino;
	uint8_t *copy = NULL;
	int rv;

	pthread_mutex_lock(&s->mu);
	rv = path_norm(path, p);
	if (rv != 0)
		goto out;
	e = entry_find(s, p);
	if (e == NULL || e->cur == NULL) {
		rv = SLUICE_ENOTFOUND;
		goto out;
	}
	ino = e->cur;
	if (off > ino->cur.len || n > ino->cur.len - off) {
		rv = SLUICE_ERANGE;
		goto out;
	}
	if (n == 0)
		goto out;
	if (ino->nops > 0) {
		rv = SLUICE_ENOMEM;
		copy = malloc(n);
		if (copy == NULL || ops_reserve(ino) != 0) {
			free(copy);
			goto out;
		}
		rv = 0;
		memcpy(copy, bytes, n);
		ino->ops[ino->nops++] = (struct pending){.off = off, .len = n, .data = copy};
	}
	memcpy(ino->cur.data + off, bytes, n);
	if (off < ino->durable.len) {
		size_t m = ino->durable.len - (size_t)off < n ? ino->durable.len - (size_t)off : n;

		memcpy(ino->durable.data + off, bytes, m);
	}
out:
	pthread_mutex_unlock(&s->mu);
	return rv;
}
