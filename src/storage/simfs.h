/*
 * simfs: an in-memory struct fs for tests, with fault injection and crash simulation (in the
 * spirit of SQLite's crash VFS and TigerBeetle's simulated storage).
 *
 * Each file keeps two images: what a reader sees now, and what would survive a crash (its state
 * at the last datasync). Each directory likewise keeps its current names and the names as of its
 * last sync_dir. simfs_crash() throws away everything not yet durable: every directory reverts to
 * its synced names, and every file reverts to its synced content plus, chosen by the seeded
 * random generator, a prefix of the writes made since, possibly ending in a torn, partially
 * written 4 KiB page (bytes of the new data followed by zeroes or by the old content). All open
 * handles become invalid. Then the test reopens the log and checks what survived.
 *
 * Faults: fail the Nth call of an operation kind with a given code (countdown), or cap the total
 * bytes stored so writes fail with SLUICE_ENOSPC until space is freed. A mutex makes simfs safe
 * for the log's worker thread and the loop thread.
 */
#ifndef SLUICE_STORAGE_SIMFS_H
#define SLUICE_STORAGE_SIMFS_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/fs.h"

enum simfs_op {
	SIMFS_OP_WRITE,
	SIMFS_OP_SYNC, /* datasync and sync_dir */
	SIMFS_OP_OPEN,
	SIMFS_OP_TRUNCATE,
	SIMFS_OP_RENAME,
	SIMFS_OP_UNLINK,
	SIMFS_OP_READ,
	SIMFS_OP__COUNT
};

struct simfs;

/* Returns a new empty file system whose crash choices come from `seed`, or NULL (OOM). */
struct simfs *simfs_new(uint64_t seed);
void simfs_free(struct simfs *s);
struct fs *simfs_fs(struct simfs *s);

/* The `nth` (1-based, counting from now) call of `op` fails with `code`; 0 disarms. One countdown
 * per op kind; it fires once. */
void simfs_fail_nth(struct simfs *s, enum simfs_op op, int nth, int code);

/* Caps the bytes stored over all files (current images); writes or truncations that would grow
 * the total beyond it fail with SLUICE_ENOSPC and store nothing. UINT64_MAX removes the cap. */
void simfs_set_space(struct simfs *s, uint64_t bytes_max);
uint64_t simfs_used(struct simfs *s);

/* Simulates power loss as described above. */
void simfs_crash(struct simfs *s);

/* If false, simfs_crash keeps exactly the durable image (no torn or partial unsynced writes). */
void simfs_set_torn_writes(struct simfs *s, bool on);

/* Test helpers: current size of a file (SLUICE_ENOTFOUND if absent); overwrite bytes in place in
 * both images (to simulate bit rot). */
int simfs_file_size(struct simfs *s, const char *path, uint64_t *size_out);
int simfs_corrupt(struct simfs *s, const char *path, uint64_t off, const void *bytes, size_t n);

#endif
