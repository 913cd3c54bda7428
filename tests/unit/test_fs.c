/*
 * Unit tests of the file layer: fs_posix, simfs and the helpers fs_write_atomic and fs_read_all.
 *
 * One Suite "fs". The round-trip checks are written once against struct fs and run on both
 * implementations; fs_posix runs them in a fresh mkdtemp directory (the only tests here that
 * touch the real disk, as the file layer has nothing to test without one). The simfs TCases
 * check crash simulation, fault injection and the space cap. Data and crash seeds come from
 * fixed-seed generators, so a failure reproduces.
 */
#include <check.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "storage/fs.h"
#include "storage/simfs.h"

/* xorshift64*: deterministic test data. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static void rng_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng_next() | 1); /* never zero, so torn zeroes are recognisable */
}

/* Creates (or truncates) `path` with `n` bytes of `data`, datasyncs it if `sync`. */
static void put_file(struct fs *fs, const char *path, const void *data, size_t n, bool sync)
{
	struct iovec iov = {.iov_base = (void *)data, .iov_len = n};
	int fd;

	ck_assert_int_eq(fs->open(fs, path, FS_OPEN_CREATE | FS_OPEN_TRUNC, &fd), 0);
	ck_assert_int_eq(fs->pwritev(fs, fd, &iov, 1, 0), 0);
	if (sync)
		ck_assert_int_eq(fs->datasync(fs, fd), 0);
	ck_assert_int_eq(fs->close(fs, fd), 0);
}

/* Appends `n` bytes to an open handle at its current end. */
static int append(struct fs *fs, int fd, const void *data, size_t n)
{
	struct iovec iov = {.iov_base = (void *)data, .iov_len = n};
	uint64_t size;

	ck_assert_int_eq(fs->size(fs, fd, &size), 0);
	return fs->pwritev(fs, fd, &iov, 1, size);
}

/* Returns true if the file's whole content equals data[0..n). */
static bool file_is(struct fs *fs, const char *path, const void *data, size_t n)
{
	void *got;
	size_t got_n;
	bool same;

	if (fs_read_all(fs, path, SIZE_MAX / 2, &got, &got_n) != 0)
		return false;
	same = got_n == n && (n == 0 || memcmp(got, data, n) == 0);
	free(got);
	return same;
}

static bool file_exists(struct fs *fs, const char *path)
{
	int fd;

	if (fs->open(fs, path, 0, &fd) != 0)
		return false;
	fs->close(fs, fd);
	return true;
}

/* Collects the names list_dir reports, joined with '|' in sorted order. */
struct listing {
	char names[32][64];
	int n;
	int stop_after; /* 0: never stop early */
};

static int listing_cb(void *arg, const char *name)
{
	struct listing *l = arg;

	ck_assert_int_lt(l->n, 32);
	snprintf(l->names[l->n++], sizeof l->names[0], "%s", name);
	return l->stop_after != 0 && l->n >= l->stop_after;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void list_names(struct fs *fs, const char *dir, char *out, size_t cap)
{
	struct listing l = {.n = 0};
	size_t o = 0;

	ck_assert_int_eq(fs->list_dir(fs, dir, listing_cb, &l), 0);
	qsort(l.names, (size_t)l.n, sizeof l.names[0], name_cmp);
	out[0] = '\0';
	for (int i = 0; i < l.n; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i > 0 ? "|" : "", l.names[i]);
}

/* ---------------------------------------------------------------------------------------------
 * Round trips shared by both implementations; `dir` exists and is empty.
 */

/* Writes through 3000 iovecs (more than IOV_MAX, some empty) and reads the bytes back. */
static void check_pwritev_many_iovecs(struct fs *fs, const char *dir)
{
	enum { NIOV = 3000 };
	static struct iovec iov[NIOV];
	static uint8_t data[NIOV * 97];
	static uint8_t back[NIOV * 97 + 10];
	char path[PATH_MAX];
	size_t total = 0;
	uint64_t size;
	int fd;

	rng_fill(data, sizeof data);
	for (int i = 0; i < NIOV; i++) {
		size_t len = i % 7 == 0 ? 0 : (size_t)(rng_next() % 97);

		iov[i].iov_base = data + total;
		iov[i].iov_len = len;
		total += len;
	}
	snprintf(path, sizeof path, "%s/many", dir);
	ck_assert_int_eq(fs->open(fs, path, FS_OPEN_CREATE | FS_OPEN_EXCL, &fd), 0);
	ck_assert_int_eq(fs->pwritev(fs, fd, iov, NIOV, 10), 0);
	ck_assert_int_eq(fs->size(fs, fd, &size), 0);
	ck_assert_uint_eq(size, total + 10);
	/* The 10-byte hole before the data reads as zeroes. */
	ck_assert_int_eq(fs->pread(fs, fd, back, sizeof back, 0), (ssize_t)(total + 10));
	for (int i = 0; i < 10; i++)
		ck_assert_uint_eq(back[i], 0);
	ck_assert_mem_eq(back + 10, data, total);
	/* Short only at end of file, and 0 past it. */
	ck_assert_int_eq(fs->pread(fs, fd, back, 100, total + 5), 5);
	ck_assert_mem_eq(back, data + total - 5, 5);
	ck_assert_int_eq(fs->pread(fs, fd, back, 100, total + 10), 0);
	ck_assert_int_eq(fs->pread(fs, fd, back, 100, total + 1000), 0);
	ck_assert_int_eq(fs->datasync(fs, fd), 0);
	ck_assert_int_eq(fs->truncate(fs, fd, 50), 0);
	ck_assert_int_eq(fs->size(fs, fd, &size), 0);
	ck_assert_uint_eq(size, 50);
	ck_assert_int_eq(fs->pread(fs, fd, back, sizeof back, 0), 50);
	ck_assert_mem_eq(back + 10, data, 40);
	ck_assert_int_eq(fs->close(fs, fd), 0);
	ck_assert_int_eq(fs->open(fs, path, FS_OPEN_CREATE | FS_OPEN_EXCL, &fd), SLUICE_EEXIST);
	ck_assert_int_eq(fs->unlink(fs, path), 0);
}

/* Creates, lists, renames and unlinks names, and checks the errors for missing ones. */
static void check_names(struct fs *fs, const char *dir)
{
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX], sub[PATH_MAX], names[512];
	struct listing l = {.stop_after = 1};
	int fd;

	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	snprintf(c, sizeof c, "%s/c", dir);
	snprintf(sub, sizeof sub, "%s/sub", dir);
	put_file(fs, a, "alpha", 5, true);
	put_file(fs, b, "beta", 4, false);
	ck_assert_int_eq(fs->mkdir(fs, sub), 0);
	ck_assert_int_eq(fs->mkdir(fs, sub), SLUICE_EEXIST);
	ck_assert_int_eq(fs->sync_dir(fs, dir), 0);
	list_names(fs, dir, names, sizeof names);
	ck_assert_str_eq(names, "a|b|sub");
	ck_assert_int_eq(fs->list_dir(fs, dir, listing_cb, &l), 0);
	ck_assert_int_eq(l.n, 1); /* the callback stopped the listing */

	ck_assert_int_eq(fs->rename(fs, a, c), 0);
	ck_assert_int_eq(fs->open(fs, a, 0, &fd), SLUICE_ENOTFOUND);
	ck_assert(file_is(fs, c, "alpha", 5));
	ck_assert_int_eq(fs->rename(fs, c, b), 0); /* replaces b */
	ck_assert(file_is(fs, b, "alpha", 5));
	list_names(fs, dir, names, sizeof names);
	ck_assert_str_eq(names, "b|sub");
	ck_assert_int_eq(fs->rename(fs, a, c), SLUICE_ENOTFOUND);
	ck_assert_int_eq(fs->unlink(fs, b), 0);
	ck_assert_int_eq(fs->unlink(fs, b), SLUICE_ENOTFOUND);
	ck_assert_int_eq(fs->sync_dir(fs, dir), 0);
	list_names(fs, dir, names, sizeof names);
	ck_assert_str_eq(names, "sub");
	list_names(fs, sub, names, sizeof names);
	ck_assert_str_eq(names, "");
	snprintf(c, sizeof c, "%s/missing/x", dir);
	ck_assert_int_eq(fs->open(fs, c, FS_OPEN_CREATE, &fd), SLUICE_ENOTFOUND);
	snprintf(c, sizeof c, "%s/missing", dir);
	ck_assert_int_eq(fs->list_dir(fs, c, listing_cb, &l), SLUICE_ENOTFOUND);
	ck_assert_int_eq(fs->sync_dir(fs, c), SLUICE_ENOTFOUND);
}

/* fs_write_atomic creates and then replaces a file; fs_read_all honours n_max. */
static void check_atomic_and_read_all(struct fs *fs, const char *dir)
{
	char path[PATH_MAX], tmp[PATH_MAX], names[512];
	uint8_t big[10000];
	void *data;
	size_t n;

	snprintf(path, sizeof path, "%s/state", dir);
	snprintf(tmp, sizeof tmp, "%s/state.tmp", dir);
	rng_fill(big, sizeof big);
	ck_assert_int_eq(fs_read_all(fs, path, 100, &data, &n), SLUICE_ENOTFOUND);
	ck_assert_int_eq(fs_write_atomic(fs, dir, path, big, sizeof big), 0);
	ck_assert(file_is(fs, path, big, sizeof big));
	ck_assert_int_eq(fs_write_atomic(fs, dir, path, "new", 3), 0);
	ck_assert(!file_exists(fs, tmp));
	ck_assert_int_eq(fs_read_all(fs, path, 3, &data, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(data, "new", 3);
	free(data);
	ck_assert_int_eq(fs_read_all(fs, path, 2, &data, &n), SLUICE_ETOOLARGE);
	ck_assert_int_eq(fs_write_atomic(fs, dir, path, "", 0), 0);
	ck_assert_int_eq(fs_read_all(fs, path, 0, &data, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(data);
	list_names(fs, dir, names, sizeof names);
	ck_assert_str_eq(names, "state");
	ck_assert_int_eq(fs->unlink(fs, path), 0);
}

/* ---------------------------------------------------------------------------------------------
 * fs_posix
 */

static char posix_dir[64];

static int rm_cb(void *arg, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", (const char *)arg, name);
	if (unlink(path) != 0)
		rmdir(path);
	return 0;
}

static void posix_setup(void)
{
	snprintf(posix_dir, sizeof posix_dir, "/tmp/sluice-test-fs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(posix_dir));
}

static void posix_teardown(void)
{
	struct fs *fs = fs_posix();
	char sub[PATH_MAX];

	snprintf(sub, sizeof sub, "%s/sub", posix_dir);
	fs->list_dir(fs, sub, rm_cb, sub);
	fs->list_dir(fs, posix_dir, rm_cb, posix_dir);
	rmdir(posix_dir);
}

/* Bytes written through more iovecs than IOV_MAX read back in full on the real file system. */
START_TEST(test_posix_pwritev_many_iovecs_reads_back)
{
	check_pwritev_many_iovecs(fs_posix(), posix_dir);
}
END_TEST

/* Creating, listing, renaming and unlinking names on the real file system behave as POSIX. */
START_TEST(test_posix_names_list_rename_unlink)
{
	check_names(fs_posix(), posix_dir);
}
END_TEST

/* fs_write_atomic replaces an existing real file and leaves no temporary file behind. */
START_TEST(test_posix_write_atomic_replaces_and_read_all_limits)
{
	check_atomic_and_read_all(fs_posix(), posix_dir);
}
END_TEST

/* An unknown descriptor is an I/O error, not a crash. */
START_TEST(test_posix_bad_descriptor_is_eio)
{
	struct fs *fs = fs_posix();
	uint64_t size;
	char b[4];

	ck_assert_int_eq(fs->size(fs, -1, &size), SLUICE_EIO);
	ck_assert_int_eq(fs->pread(fs, -1, b, sizeof b, 0), SLUICE_EIO);
	ck_assert_int_eq(fs->datasync(fs, -1), SLUICE_EIO);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * simfs round trips
 */

static struct simfs *sim;
static struct fs *sfs;

static void sim_setup(void)
{
	sim = simfs_new(1);
	ck_assert_ptr_nonnull(sim);
	sfs = simfs_fs(sim);
	ck_assert_int_eq(sfs->mkdir(sfs, "/d"), 0);
	ck_assert_int_eq(sfs->sync_dir(sfs, "/"), 0);
}

static void sim_teardown(void)
{
	simfs_free(sim);
	sim = NULL;
}

/* Bytes written through 3000 iovecs read back in full from simfs, holes reading as zeroes. */
START_TEST(test_simfs_pwritev_many_iovecs_reads_back)
{
	check_pwritev_many_iovecs(sfs, "/d");
}
END_TEST

/* Creating, listing, renaming and unlinking names on simfs behave as on POSIX. */
START_TEST(test_simfs_names_list_rename_unlink)
{
	check_names(sfs, "/d");
}
END_TEST

/* fs_write_atomic replaces an existing simfs file and leaves no temporary file behind. */
START_TEST(test_simfs_write_atomic_replaces_and_read_all_limits)
{
	check_atomic_and_read_all(sfs, "/d");
}
END_TEST

/* Equivalent spellings of a path name the same file, and relative names live under ".". */
START_TEST(test_simfs_paths_are_normalised)
{
	char names[512];

	put_file(sfs, "//d/./x/", "x", 1, false);
	ck_assert(file_is(sfs, "/d/x", "x", 1));
	put_file(sfs, "rel", "r", 1, false);
	ck_assert(file_is(sfs, "./rel", "r", 1));
	list_names(sfs, ".", names, sizeof names);
	ck_assert_str_eq(names, "rel");
	list_names(sfs, "/", names, sizeof names);
	ck_assert_str_eq(names, "d");
	ck_assert_int_eq(sfs->unlink(sfs, "/d/../d/x"), SLUICE_EINVAL);
	ck_assert_int_eq(sfs->mkdir(sfs, "/d/x"), SLUICE_EEXIST);
	ck_assert_int_eq(sfs->unlink(sfs, "/d"), SLUICE_EIO);
}
END_TEST

/* An unlinked file stays usable through a handle opened before, until that handle closes. */
START_TEST(test_simfs_unlinked_open_file_keeps_working)
{
	char b[8];
	int fd;

	put_file(sfs, "/d/f", "12345", 5, false);
	ck_assert_int_eq(sfs->open(sfs, "/d/f", 0, &fd), 0);
	ck_assert_int_eq(sfs->unlink(sfs, "/d/f"), 0);
	ck_assert(!file_exists(sfs, "/d/f"));
	ck_assert_int_eq(append(sfs, fd, "67", 2), 0);
	ck_assert_int_eq(sfs->pread(sfs, fd, b, sizeof b, 0), 7);
	ck_assert_mem_eq(b, "1234567", 7);
	ck_assert_uint_eq(simfs_used(sim), 7);
	ck_assert_int_eq(sfs->close(sfs, fd), 0);
	ck_assert_uint_eq(simfs_used(sim), 0);
	ck_assert_int_eq(sfs->close(sfs, fd), SLUICE_EIO);
}
END_TEST

/* simfs_corrupt overwrites bytes that a crash then keeps, and simfs_file_size reports sizes. */
START_TEST(test_simfs_corrupt_survives_crash)
{
	uint64_t size;
	int fd;

	put_file(sfs, "/d/f", "aaaaaaaaaa", 10, true);
	ck_assert_int_eq(sfs->sync_dir(sfs, "/d"), 0);
	ck_assert_int_eq(simfs_file_size(sim, "/d/f", &size), 0);
	ck_assert_uint_eq(size, 10);
	ck_assert_int_eq(simfs_file_size(sim, "/d/g", &size), SLUICE_ENOTFOUND);
	ck_assert_int_eq(simfs_corrupt(sim, "/d/f", 2, "XY", 2), 0);
	ck_assert_int_eq(simfs_corrupt(sim, "/d/f", 9, "XY", 2), SLUICE_ERANGE);
	ck_assert(file_is(sfs, "/d/f", "aaXYaaaaaa", 10));
	/* With a pending write, a datasync must not undo the rot. */
	ck_assert_int_eq(sfs->open(sfs, "/d/f", 0, &fd), 0);
	ck_assert_int_eq(append(sfs, fd, "bb", 2), 0);
	ck_assert_int_eq(simfs_corrupt(sim, "/d/f", 9, "Z", 1), 0);
	ck_assert_int_eq(sfs->datasync(sfs, fd), 0);
	ck_assert(file_is(sfs, "/d/f", "aaXYaaaaaZbb", 12));
	simfs_crash(sim);
	ck_assert(file_is(sfs, "/d/f", "aaXYaaaaaZbb", 12));
}
END_TEST

/* A writer thread: appends `rounds` chunks of 'w' to `path`, datasyncing every tenth. */
struct writer_arg {
	const char *path;
	int rounds;
};

static void *writer_main(void *arg)
{
	struct writer_arg *w = arg;
	uint8_t chunk[100];
	int fd;

	memset(chunk, 'w', sizeof chunk);
	if (sfs->open(sfs, w->path, FS_OPEN_CREATE, &fd) != 0)
		return (void *)1;
	for (int i = 0; i < w->rounds; i++) {
		struct iovec iov = {.iov_base = chunk, .iov_len = sizeof chunk};

		if (sfs->pwritev(sfs, fd, &iov, 1, (uint64_t)i * sizeof chunk) != 0 ||
		    (i % 10 == 0 && sfs->datasync(sfs, fd) != 0))
			return (void *)1;
	}
	return sfs->close(sfs, fd) == 0 ? NULL : (void *)1;
}

/* Two threads append to their own files while a third lists and reads; every byte arrives. */
START_TEST(test_simfs_concurrent_writers_and_reader)
{
	struct writer_arg wa = {"/d/a", 2000}, wb = {"/d/b", 2000};
	pthread_t ta, tb;
	void *ra, *rb;
	uint64_t size;

	ck_assert_int_eq(pthread_create(&ta, NULL, writer_main, &wa), 0);
	ck_assert_int_eq(pthread_create(&tb, NULL, writer_main, &wb), 0);
	for (int i = 0; i < 200; i++) {
		struct listing l = {.n = 0};
		void *data;
		size_t n;

		ck_assert_int_eq(sfs->list_dir(sfs, "/d", listing_cb, &l), 0);
		if (fs_read_all(sfs, "/d/a", SIZE_MAX / 2, &data, &n) == 0) {
			size_t j = 0;

			while (j < n && ((uint8_t *)data)[j] == 'w')
				j++;
			free(data);
			ck_assert_uint_eq(j, n); /* one check per read: Check's asserts are slow */
		}
	}
	pthread_join(ta, &ra);
	pthread_join(tb, &rb);
	ck_assert_ptr_null(ra);
	ck_assert_ptr_null(rb);
	ck_assert_int_eq(simfs_file_size(sim, "/d/a", &size), 0);
	ck_assert_uint_eq(size, 200000);
	ck_assert_uint_eq(simfs_used(sim), 400000);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * simfs crashes
 */

/* Without torn writes, a crash keeps exactly the data as of the last datasync. */
START_TEST(test_crash_drops_unsynced_writes)
{
	int fd;

	simfs_set_torn_writes(sim, false);
	ck_assert_int_eq(sfs->open(sfs, "/d/f", FS_OPEN_CREATE, &fd), 0);
	ck_assert_int_eq(sfs->sync_dir(sfs, "/d"), 0);
	ck_assert_int_eq(append(sfs, fd, "synced", 6), 0);
	ck_assert_int_eq(sfs->datasync(sfs, fd), 0);
	ck_assert_int_eq(append(sfs, fd, "-lost", 5), 0);
	ck_assert_int_eq(sfs->truncate(sfs, fd, 3), 0);
	ck_assert_uint_eq(simfs_used(sim), 3);
	simfs_crash(sim);
	ck_assert(file_is(sfs, "/d/f", "synced", 6));
	ck_assert_uint_eq(simfs_used(sim), 6);
}
END_TEST

/* With torn writes on, data that was datasynced (in a dir-synced file) survives every seed. */
START_TEST(test_crash_keeps_synced_data_exactly)
{
	uint8_t data[20000];

	rng_fill(data, sizeof data);
	for (uint64_t seed = 0; seed < 200; seed++) {
		struct simfs *s = simfs_new(seed);
		struct fs *fs = simfs_fs(s);
		size_t n = 1 + (size_t)(rng_next() % sizeof data);
		int fd;

		ck_assert_int_eq(fs->mkdir(fs, "/d"), 0);
		ck_assert_int_eq(fs->open(fs, "/d/f", FS_OPEN_CREATE, &fd), 0);
		ck_assert_int_eq(append(fs, fd, data, n / 2), 0);
		ck_assert_int_eq(append(fs, fd, data + n / 2, n - n / 2), 0);
		ck_assert_int_eq(fs->datasync(fs, fd), 0);
		ck_assert_int_eq(fs->sync_dir(fs, "/d"), 0);
		simfs_crash(s);
		ck_assert(file_is(fs, "/d/f", data, n));
		simfs_free(s);
	}
}
END_TEST

/* Over many seeds, a crash after unsynced appends leaves the durable bytes, then a prefix of
 * the appended bytes, then possibly zeroes confined to the last 4 KiB page; every kind of
 * outcome (nothing, all, a cut, a torn page) occurs. */
START_TEST(test_crash_torn_writes_leave_durable_and_new_prefix)
{
	static uint8_t data[60000];
	int seen_none = 0, seen_all = 0, seen_cut = 0, seen_zeroes = 0;

	rng_fill(data, sizeof data);
	for (uint64_t seed = 0; seed < 1000; seed++) {
		struct simfs *s = simfs_new(seed);
		struct fs *fs = simfs_fs(s);
		size_t durable = (size_t)(rng_next() % 10000);
		size_t total = durable;
		void *got;
		size_t n, p;
		int fd;

		ck_assert_int_eq(fs->open(fs, "/f", FS_OPEN_CREATE, &fd), 0);
		ck_assert_int_eq(fs->sync_dir(fs, "/"), 0);
		ck_assert_int_eq(append(fs, fd, data, durable), 0);
		ck_assert_int_eq(fs->datasync(fs, fd), 0);
		for (int w = 0; w < 5; w++) {
			size_t len = 1 + (size_t)(rng_next() % 9000);

			ck_assert_int_eq(append(fs, fd, data + total, len), 0);
			total += len;
		}
		simfs_crash(s);
		ck_assert_int_eq(fs_read_all(fs, "/f", SIZE_MAX / 2, &got, &n), 0);
		ck_assert_uint_ge(n, durable);
		ck_assert_uint_le(n, total);
		for (p = 0; p < n && ((uint8_t *)got)[p] == data[p]; p++)
			;
		ck_assert_uint_ge(p, durable);
		size_t z = p;
		while (z < n && ((uint8_t *)got)[z] == 0)
			z++;
		ck_assert_uint_eq(z, n); /* after the common prefix, only zeroes */
		if (p < n)
			ck_assert_uint_eq(p / 4096, (n - 1) / 4096);
		seen_none += n == durable;
		seen_all += n == total;
		seen_cut += p == n && n > durable && n < total;
		seen_zeroes += p < n;
		free(got);
		simfs_free(s);
	}
	ck_assert_int_gt(seen_none, 0);
	ck_assert_int_gt(seen_all, 0);
	ck_assert_int_gt(seen_cut, 0);
	ck_assert_int_gt(seen_zeroes, 0);
}
END_TEST

/* An unsynced truncation is either kept or undone by a crash, and both happen across seeds. */
START_TEST(test_crash_keeps_or_undoes_unsynced_truncate)
{
	static uint8_t data[10000];
	int seen_old = 0, seen_cut = 0;

	rng_fill(data, sizeof data);
	for (uint64_t seed = 0; seed < 100; seed++) {
		struct simfs *s = simfs_new(seed);
		struct fs *fs = simfs_fs(s);
		int fd;

		put_file(fs, "/f", data, sizeof data, true);
		ck_assert_int_eq(fs->sync_dir(fs, "/"), 0);
		ck_assert_int_eq(fs->open(fs, "/f", 0, &fd), 0);
		ck_assert_int_eq(fs->truncate(fs, fd, 3000), 0);
		simfs_crash(s);
		if (file_is(fs, "/f", data, sizeof data))
			seen_old++;
		else if (file_is(fs, "/f", data, 3000))
			seen_cut++;
		else
			ck_abort_msg("seed %d: neither the old nor the truncated file", (int)seed);
		simfs_free(s);
	}
	ck_assert_int_gt(seen_old, 0);
	ck_assert_int_gt(seen_cut, 0);
}
END_TEST

/* A file created and datasynced, but whose directory was never synced, is gone after a crash. */
START_TEST(test_crash_removes_file_created_without_dir_sync)
{
	char names[512];

	put_file(sfs, "/d/kept", "k", 1, true);
	ck_assert_int_eq(sfs->sync_dir(sfs, "/d"), 0);
	put_file(sfs, "/d/new", "n", 1, true);
	simfs_crash(sim);
	ck_assert(!file_exists(sfs, "/d/new"));
	list_names(sfs, "/d", names, sizeof names);
	ck_assert_str_eq(names, "kept");
	ck_assert_uint_eq(simfs_used(sim), 1);
}
END_TEST

/* A file unlinked without a directory sync comes back, with its durable content, after a crash. */
START_TEST(test_crash_undoes_unlink_without_dir_sync)
{
	int fd;

	simfs_set_torn_writes(sim, false);
	put_file(sfs, "/d/f", "durable", 7, true);
	ck_assert_int_eq(sfs->sync_dir(sfs, "/d"), 0);
	ck_assert_int_eq(sfs->open(sfs, "/d/f", 0, &fd), 0);
	ck_assert_int_eq(append(sfs, fd, "+unsynced", 9), 0);
	ck_assert_int_eq(sfs->close(sfs, fd), 0);
	ck_assert_int_eq(sfs->unlink(sfs, "/d/f"), 0);
	put_file(sfs, "/d/f", "replacement", 11, true); /* same name, new file, never dir-synced */
	simfs_crash(sim);
	ck_assert(file_is(sfs, "/d/f", "durable", 7));
	/* After a sync_dir the unlink sticks. */
	ck_assert_int_eq(sfs->unlink(sfs, "/d/f"), 0);
	ck_assert_int_eq(sfs->sync_dir(sfs, "/d"), 0);
	simfs_crash(sim);
	ck_assert(!file_exists(sfs, "/d/f"));
}
END_TEST

/* A rename without a directory sync is undone by a crash, including the file it replaced. */
START_TEST(test_crash_undoes_rename_without_dir_sync)
{
	put_file(sfs, "/d/a", "AAAA", 4, true);
	put_file(sfs, "/d/b", "BB", 2, true);
	ck_assert_int_eq(sfs->sync_dir(sfs, "/d"), 0);
	ck_assert_int_eq(sfs->rename(sfs, "/d/a", "/d/b"), 0);
	ck_assert(!file_exists(sfs, "/d/a"));
	simfs_crash(sim);
	ck_assert(file_is(sfs, "/d/a", "AAAA", 4));
	ck_assert(file_is(sfs, "/d/b", "BB", 2));
	/* Synced, the rename survives. */
	ck_assert_int_eq(sfs->rename(sfs, "/d/a", "/d/b"), 0);
	ck_assert_int_eq(sfs->sync_dir(sfs, "/d"), 0);
	simfs_crash(sim);
	ck_assert(!file_exists(sfs, "/d/a"));
	ck_assert(file_is(sfs, "/d/b", "AAAA", 4));
	ck_assert_uint_eq(simfs_used(sim), 4);
}
END_TEST

/* Handles opened before a crash fail with SLUICE_EIO afterwards; new handles work. */
START_TEST(test_crash_invalidates_handles)
{
	struct iovec iov = {.iov_base = "x", .iov_len = 1};
	uint64_t size;
	char b[4];
	int fd, fd2;

	put_file(sfs, "/d/f", "abc", 3, true);
	ck_assert_int_eq(sfs->sync_dir(sfs, "/d"), 0);
	ck_assert_int_eq(sfs->open(sfs, "/d/f", 0, &fd), 0);
	simfs_crash(sim);
	ck_assert_int_eq(sfs->pread(sfs, fd, b, sizeof b, 0), SLUICE_EIO);
	ck_assert_int_eq(sfs->pwritev(sfs, fd, &iov, 1, 0), SLUICE_EIO);
	ck_assert_int_eq(sfs->datasync(sfs, fd), SLUICE_EIO);
	ck_assert_int_eq(sfs->truncate(sfs, fd, 0), SLUICE_EIO);
	ck_assert_int_eq(sfs->size(sfs, fd, &size), SLUICE_EIO);
	ck_assert_int_eq(sfs->close(sfs, fd), SLUICE_EIO);
	ck_assert_int_eq(sfs->open(sfs, "/d/f", 0, &fd2), 0);
	ck_assert_int_ne(fd2, fd);
	ck_assert_int_eq(sfs->pread(sfs, fd2, b, sizeof b, 0), 3);
	ck_assert_int_eq(sfs->close(sfs, fd2), 0);
}
END_TEST

/* fs_write_atomic over an existing file, failed at each of its steps (or not at all) and then
 * crashed, leaves exactly the old or the new content under every seed, never a mix; without a
 * fault the new content is durable, and with a fault before the rename the old one is intact. */
START_TEST(test_write_atomic_is_old_or_new_after_fault_and_crash)
{
	static const struct {
		enum simfs_op op;
		int nth;
		bool before_rename;
	} steps[] = {
		{SIMFS_OP_OPEN, 0, false}, /* no fault */
		{SIMFS_OP_OPEN, 1, true},
		{SIMFS_OP_WRITE, 1, true},
		{SIMFS_OP_SYNC, 1, true}, /* datasync of the temporary file */
		{SIMFS_OP_RENAME, 1, true},
		{SIMFS_OP_SYNC, 2, false}, /* sync_dir after the rename */
	};
	static uint8_t old_data[5000], new_data[9000];
	int seen_old = 0, seen_new = 0;

	rng_fill(old_data, sizeof old_data);
	rng_fill(new_data, sizeof new_data);
	for (uint64_t seed = 0; seed < 100; seed++) {
		for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
			struct simfs *s = simfs_new(seed * 64 + i);
			struct fs *fs = simfs_fs(s);
			int rv;

			ck_assert_int_eq(fs->mkdir(fs, "/d"), 0);
			ck_assert_int_eq(fs_write_atomic(fs, "/d", "/d/state", old_data,
							 sizeof old_data),
					 0);
			simfs_fail_nth(s, steps[i].op, steps[i].nth, SLUICE_EIO);
			rv = fs_write_atomic(fs, "/d", "/d/state", new_data, sizeof new_data);
			ck_assert_int_eq(rv, steps[i].nth == 0 ? 0 : SLUICE_EIO);
			if (steps[i].before_rename)
				ck_assert(file_is(fs, "/d/state", old_data, sizeof old_data));
			/* Leftover unsynced state from a failed attempt must not matter either. */
			simfs_crash(s);
			if (file_is(fs, "/d/state", new_data, sizeof new_data)) {
				ck_assert(!steps[i].before_rename);
				seen_new++;
			} else {
				ck_assert_msg(file_is(fs, "/d/state", old_data, sizeof old_data),
					      "seed %d step %d: neither old nor new", (int)seed,
					      (int)i);
				ck_assert_int_ne(steps[i].nth, 0);
				seen_old++;
			}
			simfs_free(s);
		}
	}
	ck_assert_int_gt(seen_old, 0);
	ck_assert_int_gt(seen_new, 0);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * simfs faults and space
 */

/* The 3rd write after arming fails with the armed code, writes nothing, and fires only once. */
START_TEST(test_fail_nth_write_fires_once_on_nth_call)
{
	uint64_t size;
	int fd;

	ck_assert_int_eq(sfs->open(sfs, "/d/f", FS_OPEN_CREATE, &fd), 0);
	ck_assert_int_eq(append(sfs, fd, "1", 1), 0);
	simfs_fail_nth(sim, SIMFS_OP_WRITE, 3, SLUICE_EIO);
	ck_assert_int_eq(append(sfs, fd, "2", 1), 0);
	ck_assert_int_eq(append(sfs, fd, "3", 1), 0);
	ck_assert_int_eq(append(sfs, fd, "4", 1), SLUICE_EIO);
	ck_assert_int_eq(sfs->size(sfs, fd, &size), 0);
	ck_assert_uint_eq(size, 3);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(append(sfs, fd, "5", 1), 0);
	ck_assert_int_eq(sfs->close(sfs, fd), 0);
	/* Arming with 0 disarms. */
	simfs_fail_nth(sim, SIMFS_OP_WRITE, 1, SLUICE_EIO);
	simfs_fail_nth(sim, SIMFS_OP_WRITE, 0, 0);
	put_file(sfs, "/d/g", "g", 1, false);
}
END_TEST

/* datasync and sync_dir share one countdown; the failed datasync leaves the data unsynced. */
START_TEST(test_fail_nth_sync_fires_once_on_nth_call)
{
	int fd;

	simfs_set_torn_writes(sim, false);
	ck_assert_int_eq(sfs->open(sfs, "/d/f", FS_OPEN_CREATE, &fd), 0);
	simfs_fail_nth(sim, SIMFS_OP_SYNC, 2, SLUICE_EIO);
	ck_assert_int_eq(sfs->sync_dir(sfs, "/d"), 0);
	ck_assert_int_eq(append(sfs, fd, "data", 4), 0);
	ck_assert_int_eq(sfs->datasync(sfs, fd), SLUICE_EIO);
	simfs_crash(sim);
	ck_assert(file_is(sfs, "/d/f", "", 0));
	ck_assert_int_eq(sfs->open(sfs, "/d/f", 0, &fd), 0);
	ck_assert_int_eq(append(sfs, fd, "data", 4), 0);
	ck_assert_int_eq(sfs->datasync(sfs, fd), 0);
	simfs_crash(sim);
	ck_assert(file_is(sfs, "/d/f", "data", 4));
}
END_TEST

/* The 2nd open fails with the armed code and creates nothing; later opens succeed. */
START_TEST(test_fail_nth_open_fires_once_on_nth_call)
{
	int fd;

	simfs_fail_nth(sim, SIMFS_OP_OPEN, 2, SLUICE_ENOSPC);
	put_file(sfs, "/d/a", "a", 1, false);
	ck_assert_int_eq(sfs->open(sfs, "/d/b", FS_OPEN_CREATE, &fd), SLUICE_ENOSPC);
	ck_assert(!file_exists(sfs, "/d/b")); /* this open is the 3rd call: no fault any more */
	put_file(sfs, "/d/b", "b", 1, false);
	ck_assert(file_is(sfs, "/d/b", "b", 1));
}
END_TEST

/* Truncate, rename, unlink and read countdowns fail their call and change nothing. */
START_TEST(test_fail_nth_other_ops_change_nothing)
{
	uint64_t size;
	char b[4];
	int fd;

	put_file(sfs, "/d/a", "abc", 3, false);
	ck_assert_int_eq(sfs->open(sfs, "/d/a", 0, &fd), 0);
	simfs_fail_nth(sim, SIMFS_OP_TRUNCATE, 1, SLUICE_EIO);
	ck_assert_int_eq(sfs->truncate(sfs, fd, 1), SLUICE_EIO);
	ck_assert_int_eq(sfs->size(sfs, fd, &size), 0);
	ck_assert_uint_eq(size, 3);
	simfs_fail_nth(sim, SIMFS_OP_READ, 1, SLUICE_EIO);
	ck_assert_int_eq(sfs->pread(sfs, fd, b, sizeof b, 0), SLUICE_EIO);
	ck_assert_int_eq(sfs->pread(sfs, fd, b, sizeof b, 0), 3);
	ck_assert_int_eq(sfs->close(sfs, fd), 0);
	simfs_fail_nth(sim, SIMFS_OP_RENAME, 1, SLUICE_EIO);
	ck_assert_int_eq(sfs->rename(sfs, "/d/a", "/d/b"), SLUICE_EIO);
	ck_assert(file_exists(sfs, "/d/a"));
	simfs_fail_nth(sim, SIMFS_OP_UNLINK, 1, SLUICE_EIO);
	ck_assert_int_eq(sfs->unlink(sfs, "/d/a"), SLUICE_EIO);
	ck_assert(file_is(sfs, "/d/a", "abc", 3));
}
END_TEST

/* Past the space cap writes and growing truncations fail with SLUICE_ENOSPC and store nothing;
 * overwrites in place still work; unlinking a file frees its space once its last handle closes. */
START_TEST(test_space_cap_refuses_growth_until_unlink_frees_space)
{
	static uint8_t data[8000];
	uint64_t size;
	int fa, fb;

	rng_fill(data, sizeof data);
	simfs_set_space(sim, 10000);
	ck_assert_int_eq(sfs->open(sfs, "/d/a", FS_OPEN_CREATE, &fa), 0);
	ck_assert_int_eq(append(sfs, fa, data, 8000), 0);
	ck_assert_uint_eq(simfs_used(sim), 8000);
	ck_assert_int_eq(sfs->open(sfs, "/d/b", FS_OPEN_CREATE, &fb), 0);
	ck_assert_int_eq(append(sfs, fb, data, 4000), SLUICE_ENOSPC);
	ck_assert_int_eq(sfs->size(sfs, fb, &size), 0);
	ck_assert_uint_eq(size, 0);
	ck_assert_int_eq(sfs->truncate(sfs, fb, 2001), SLUICE_ENOSPC);
	ck_assert_int_eq(sfs->truncate(sfs, fb, 2000), 0);
	ck_assert_uint_eq(simfs_used(sim), 10000);
	struct iovec iov = {.iov_base = data, .iov_len = 100};
	ck_assert_int_eq(sfs->pwritev(sfs, fa, &iov, 1, 0), 0); /* in place: no growth */
	ck_assert_int_eq(sfs->unlink(sfs, "/d/a"), 0);
	ck_assert_uint_eq(simfs_used(sim), 10000); /* still open */
	ck_assert_int_eq(sfs->close(sfs, fa), 0);
	ck_assert_uint_eq(simfs_used(sim), 2000);
	ck_assert_int_eq(append(sfs, fb, data, 4000), 0);
	ck_assert_uint_eq(simfs_used(sim), 6000);
	ck_assert_int_eq(sfs->close(sfs, fb), 0);
	simfs_set_space(sim, UINT64_MAX);
	put_file(sfs, "/d/big", data, sizeof data, false);
}
END_TEST

/* The space accounting after a crash counts exactly what survived. */
START_TEST(test_space_recomputed_after_crash)
{
	int fd;

	simfs_set_torn_writes(sim, false);
	put_file(sfs, "/d/a", "12345", 5, true);
	ck_assert_int_eq(sfs->sync_dir(sfs, "/d"), 0);
	ck_assert_int_eq(sfs->open(sfs, "/d/a", 0, &fd), 0);
	ck_assert_int_eq(append(sfs, fd, "678", 3), 0);
	put_file(sfs, "/d/b", "xx", 2, true);
	ck_assert_uint_eq(simfs_used(sim), 10);
	simfs_crash(sim);
	ck_assert_uint_eq(simfs_used(sim), 5);
}
END_TEST

static Suite *fs_suite(void)
{
	Suite *s = suite_create("fs");
	TCase *tc;

	tc = tcase_create("posix");
	tcase_add_checked_fixture(tc, posix_setup, posix_teardown);
	tcase_add_test(tc, test_posix_pwritev_many_iovecs_reads_back);
	tcase_add_test(tc, test_posix_names_list_rename_unlink);
	tcase_add_test(tc, test_posix_write_atomic_replaces_and_read_all_limits);
	tcase_add_test(tc, test_posix_bad_descriptor_is_eio);
	suite_add_tcase(s, tc);

	tc = tcase_create("simfs");
	tcase_add_checked_fixture(tc, sim_setup, sim_teardown);
	tcase_add_test(tc, test_simfs_pwritev_many_iovecs_reads_back);
	tcase_add_test(tc, test_simfs_names_list_rename_unlink);
	tcase_add_test(tc, test_simfs_write_atomic_replaces_and_read_all_limits);
	tcase_add_test(tc, test_simfs_paths_are_normalised);
	tcase_add_test(tc, test_simfs_unlinked_open_file_keeps_working);
	tcase_add_test(tc, test_simfs_corrupt_survives_crash);
	tcase_add_test(tc, test_simfs_concurrent_writers_and_reader);
	suite_add_tcase(s, tc);

	tc = tcase_create("crash");
	tcase_add_checked_fixture(tc, sim_setup, sim_teardown);
	tcase_add_test(tc, test_crash_drops_unsynced_writes);
	tcase_add_test(tc, test_crash_keeps_synced_data_exactly);
	tcase_add_test(tc, test_crash_torn_writes_leave_durable_and_new_prefix);
	tcase_add_test(tc, test_crash_keeps_or_undoes_unsynced_truncate);
	tcase_add_test(tc, test_crash_removes_file_created_without_dir_sync);
	tcase_add_test(tc, test_crash_undoes_unlink_without_dir_sync);
	tcase_add_test(tc, test_crash_undoes_rename_without_dir_sync);
	tcase_add_test(tc, test_crash_invalidates_handles);
	tcase_add_test(tc, test_write_atomic_is_old_or_new_after_fault_and_crash);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_add_checked_fixture(tc, sim_setup, sim_teardown);
	tcase_add_test(tc, test_fail_nth_write_fires_once_on_nth_call);
	tcase_add_test(tc, test_fail_nth_sync_fires_once_on_nth_call);
	tcase_add_test(tc, test_fail_nth_open_fires_once_on_nth_call);
	tcase_add_test(tc, test_fail_nth_other_ops_change_nothing);
	tcase_add_test(tc, test_space_cap_refuses_growth_until_unlink_frees_space);
	tcase_add_test(tc, test_space_recomputed_after_crash);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fs_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
