/*
 * segment: one file of a partition log, `<dir>/<base_offset>.log` (20 digits, zero-padded, as
 * Kafka names them), with its in-memory sparse indexes.
 *
 * A segment holds RecordBatch v2 batches back to back, with contiguous offsets starting at its
 * base offset. The loop thread owns the struct (assigned and durable sizes, indexes); the I/O
 * worker only uses `fd` and byte ranges fixed when a job is built, so the two never race: see
 * plog.c for the ownership rules.
 *
 * Recovery reads a segment batch by batch and checks each one's framing (length within the file,
 * Magic 2), its CRC-32C and that its BaseOffset continues the previous batch. segment_scan stops
 * at the first batch that fails and reports where and why; the caller decides whether that is a
 * torn tail to cut (last segment) or corruption to report (closed segment).
 */
#ifndef SLUICE_STORAGE_SEGMENT_H
#define SLUICE_STORAGE_SEGMENT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h"
#include "storage/batch.h"
#include "storage/fs.h"
#include "storage/index.h"

/* Largest batch the log accepts or recovers; a length field above it is corruption. Well above
 * message.max.bytes' maximum so that no valid batch is refused. */
#define SEGMENT_BATCH_BYTES_MAX (256u << 20)
/* Largest segment file: index positions are 32-bit. */
#define SEGMENT_BYTES_MAX ((uint64_t)UINT32_MAX)

struct segment {
	char path[PATH_MAX]; /* the .log file */
	int64_t base_offset;
	int fd; /* -1 until the worker creates or opens the file */

	/* Assigned: includes bytes queued for writing but not yet durable. */
	int64_t next_offset;
	uint64_t size;
	int64_t max_timestamp; /* largest MaxTimestamp, -1 when empty */
	int64_t max_ts_offset;
	uint64_t bytes_since_off_entry;
	uint64_t bytes_since_time_entry;
	struct index ix;

	/* Durable: what a crash cannot take away. */
	int64_t durable_next;
	uint64_t durable_size;

	wall_ms_t created_ms; /* for log.roll.ms */
	bool closed;          /* rolled; receives no more appends */
};

/* Allocates a segment for `base_offset` in `dir` (no file I/O). NULL on OOM. */
struct segment *segment_new(const char *dir, int64_t base_offset, wall_ms_t now);
/* Frees the struct; the caller closed fd. Accepts NULL. */
void segment_free(struct segment *s);

/* Writes the path of `<dir>/<base>.<ext>` into `out` (PATH_MAX bytes). */
void segment_file_path(char *out, const char *dir, int64_t base_offset, const char *ext);
/* Parses a segment log file name ("00000000000000004096.log"); true with *base on success. */
bool segment_parse_name(const char *name, int64_t *base);

/* Records a batch appended at `position` (header `h`, base offset already assigned): advances
 * next_offset, size and max timestamp and adds sparse index entries per `interval_bytes`. */
int segment_note_batch(struct segment *s, const struct batch_header *h, uint64_t position,
		       uint32_t interval_bytes);

/* Cuts the in-memory view back to `size` bytes / `next_offset` (both at a batch boundary). The
 * largest timestamp is kept unless the cut removes its batch, in which case it is recomputed by
 * the caller through a scan (see plog.c); returns true when that is needed. */
bool segment_cut(struct segment *s, uint64_t size, int64_t next_offset);

/* Why a scan stopped early. */
struct segment_scan_stop {
	uint64_t position; /* byte position of the first bad batch */
	const char *reason;
};

/* Reads the segment's file from `position` (a batch boundary; the struct describes everything
 * before it) to `file_size`, checking every batch and noting the good ones. Returns 0 when all
 * bytes were good; SLUICE_ECORRUPT with *stop filled at the first bad batch; or an I/O error. */
int segment_scan(struct fs *fs, struct segment *s, uint64_t position, uint64_t file_size,
		 uint32_t interval_bytes, struct segment_scan_stop *stop);

/* Loads `<base>.index` and `<base>.timeindex`; on success the struct describes the first
 * covered_bytes of the log (returned in *covered). SLUICE_ENOTFOUND or SLUICE_ECORRUPT (index
 * unusable: the caller rebuilds by scanning from 0). */
int segment_load_index(struct fs *fs, const char *dir, struct segment *s, uint64_t file_size,
		       uint64_t *covered);

/* Encodes both index files describing the segment's current assigned content. */
int segment_encode_index(const struct segment *s, uint8_t **off, size_t *off_n, uint8_t **time,
			 size_t *time_n);

/* Writes (and datasyncs) both index files from encoded images. Runs on the worker. */
int segment_write_index(struct fs *fs, const char *dir, int64_t base_offset, const uint8_t *off,
			size_t off_n, const uint8_t *time, size_t time_n);

/* Removes both index files (missing files are fine). */
int segment_unlink_index(struct fs *fs, const char *dir, int64_t base_offset);

/* Finds the byte position of the batch containing `offset` (base <= offset < next, durable
 * bytes only) by an index lookup and a short header scan. Returns 0, SLUICE_ERANGE, or an I/O or
 * SLUICE_ECORRUPT error. */
int segment_find(struct fs *fs, const struct segment *s, int64_t offset, uint64_t *pos_out);

/* Finds the first durable batch whose MaxTimestamp >= ts; *offset_out is its base offset.
 * SLUICE_ENOTFOUND when none in this segment. */
int segment_find_time(struct fs *fs, const struct segment *s, int64_t ts, int64_t *offset_out,
		      int64_t *batch_ts_out);

#endif
