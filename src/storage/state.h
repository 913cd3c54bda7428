/*
 * state: a partition replica's small state file, `<dir>/state`, written atomically (temp file,
 * fsync, rename, directory fsync) so a crash leaves either the old or the new content.
 *
 * It holds what is not derivable from the segments: the log start offset (which retention and
 * DeleteRecords move forward and which must not move back after a crash), and, for the Raft
 * group, the current term and vote.
 *
 * Format, version STATE_FORMAT_VERSION (all big-endian):
 *
 *   offset size field             meaning
 *   0      4    magic             "SLST"
 *   4      2    version           1
 *   6      2    payload_bytes     bytes from offset 8 to the CRC (32 in version 1)
 *   8      8    log_start_offset  first offset readers may ask for
 *   16     8    term              Raft current term (0 before any election)
 *   24     8    vote              Raft node voted for in `term` (0 = none)
 *   32     8    flags             bit 0: needs repair
 *   40     4    crc               CRC-32C of bytes [0, 40)
 *
 * A reader accepts a larger payload_bytes from a newer minor layout and ignores the extra bytes.
 */
#ifndef SLUICE_STORAGE_STATE_H
#define SLUICE_STORAGE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "storage/fs.h"

#define STATE_FORMAT_VERSION 1
#define STATE_FILE_NAME "state"
#define STATE_FLAG_NEEDS_REPAIR 1u

struct pstate {
	int64_t log_start_offset;
	uint64_t term;
	uint64_t vote;
	uint64_t flags;
};

/* Loads `<dir>/state` into *st. A missing file yields SLUICE_ENOTFOUND (and *st zeroed); a
 * damaged one SLUICE_ECORRUPT with the reason in `errmsg`. */
int pstate_load(struct fs *fs, const char *dir, struct pstate *st, char *errmsg);

/* Stores *st durably and atomically. */
int pstate_store(struct fs *fs, const char *dir, const struct pstate *st, char *errmsg);

#endif
