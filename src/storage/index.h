/*
 * index: a segment's sparse offset index and time index, in memory and on disk.
 *
 * The offset index maps a record offset (relative to the segment's base) to the byte position of
 * the batch that starts there; an entry is added when at least index.interval.bytes of log have
 * been written since the last one, so a lookup lands at most that many bytes before the batch it
 * seeks. The time index maps the largest timestamp seen so far in the segment to the relative
 * offset of the batch that raised it, with the same spacing; it finds where to start scanning for
 * the first batch whose MaxTimestamp reaches a given time.
 *
 * Both live in memory while the segment is open and are written to `<base>.index` and
 * `<base>.timeindex` when the segment is closed (rolled) and on clean shutdown. The header records
 * how many bytes of the log file the index describes (`covered_bytes`), the segment's next offset
 * and its largest timestamp, so a closed segment opens without reading its log. An index whose
 * checksum fails or whose covered size disagrees with the log file is rebuilt from the log.
 *
 * On-disk format, version INDEX_FORMAT_VERSION (all big-endian):
 *
 *   offset size field          meaning
 *   0      4    magic          "SLIX" (offset index) or "SLTX" (time index)
 *   4      2    version        1
 *   6      2    entry_bytes    8 (offset index) or 12 (time index)
 *   8      8    base_offset    the segment's base offset (must match its file name)
 *   16     8    next_offset    one past the last offset in the covered bytes
 *   24     8    covered_bytes  bytes of the log file this index describes
 *   32     8    max_timestamp  largest MaxTimestamp in the covered bytes (-1 if none)
 *   40     8    max_ts_offset  offset of the batch holding max_timestamp (-1 if none)
 *   48     4    count          number of entries
 *   52     4    crc            CRC-32C of bytes [0, 52) and of all entries
 *   56     ...  entries
 *
 *   offset index entry: relative offset u32, byte position u32
 *   time index entry:   timestamp i64, relative offset u32
 *
 * Invariants: entries are strictly increasing in relative offset and position (offset index) and
 * in timestamp and relative offset (time index); every position is the start of a batch.
 */
#ifndef SLUICE_STORAGE_INDEX_H
#define SLUICE_STORAGE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INDEX_FORMAT_VERSION 1
#define INDEX_HEADER_BYTES 56

struct offidx_entry {
	uint32_t rel_offset;
	uint32_t position;
};

struct timeidx_entry {
	int64_t timestamp;
	uint32_t rel_offset;
};

struct index {
	struct offidx_entry *off;
	uint32_t off_count;
	uint32_t off_cap;
	struct timeidx_entry *time;
	uint32_t time_count;
	uint32_t time_cap;
};

/* What an index file's header says besides its entries. */
struct index_meta {
	int64_t base_offset;
	int64_t next_offset;
	uint64_t covered_bytes;
	int64_t max_timestamp;
	int64_t max_ts_offset;
};

void index_init(struct index *ix);
void index_free(struct index *ix);

/* Appends an offset entry; entries must arrive in increasing order. SLUICE_ENOMEM on OOM. */
int index_add_offset(struct index *ix, uint32_t rel_offset, uint32_t position);
/* Appends a time entry if `timestamp` exceeds the last one. */
int index_add_time(struct index *ix, int64_t timestamp, uint32_t rel_offset);

/* Returns the position of the last offset entry with rel_offset <= `rel`, or 0 if none. */
uint32_t index_lookup_offset(const struct index *ix, uint32_t rel);

/* Returns the relative offset of the last time entry whose timestamp is below `ts` (every batch
 * up to and including it has MaxTimestamp < ts, so a scan for ts may start after it), or -1 if
 * the scan must start at the segment's beginning. */
int64_t index_lookup_time(const struct index *ix, int64_t ts);

/* Drops offset entries at positions >= `position` and time entries at offsets >= `rel`. */
void index_truncate(struct index *ix, uint32_t position, uint32_t rel);

/* Serialises the offset index (time = false) or the time index (time = true) with `meta` into
 * a malloc'd buffer. Returns 0 or SLUICE_ENOMEM. */
int index_encode(const struct index *ix, const struct index_meta *meta, bool time, uint8_t **out,
		 size_t *n_out);

/* Parses a file image into the offset or time part of `ix` (which must be empty for that part)
 * and *meta. Returns 0, SLUICE_ECORRUPT (bad magic, checksum or entries out of order),
 * SLUICE_EVERSION, or SLUICE_ENOMEM. */
int index_decode(struct index *ix, struct index_meta *meta, bool time, const uint8_t *p, size_t n);

#endif
