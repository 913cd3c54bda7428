/*
 * cleaner: the record-level compactor of compacted topics (cleanup.policy=compact), which
 * storage's plog_compact drives on the I/O worker. It keeps the latest record per key: pass 1
 * (scan) maps every key to the offset of its latest record; pass 2 (rewrite) rebuilds each batch
 * of a closed segment with only the records that are still the latest for their key.
 *
 * What is removed, as Apache Kafka's log cleaner does:
 *   - a record whose key has a later record in the log (at or below `max_offset`);
 *   - a tombstone (null value) that is the latest for its key, once its batch's MaxTimestamp is
 *     older than now - delete.retention.ms;
 *   - a record without a key (a compacted topic cannot say which record it supersedes; Kafka's
 *     cleaner discards them too).
 * What is kept: control batches whole; every batch's header (BaseOffset, LastOffsetDelta,
 * timestamps, ProducerId, ProducerEpoch, BaseSequence, Attributes but the compression bits), so a
 * batch that loses all its records stays as an empty batch and offsets stay contiguous; a batch
 * whose records do not parse or inflate, unchanged. A rebuilt batch is uncompressed.
 *
 * Memory: the key map holds copies of keys up to `key_bytes_max`; keys that do not fit are not
 * tracked and their records are all kept (never wrongly dropped), so a huge key space makes
 * compaction partial, not unsafe. Inflated batches are bounded by CLEANER_BATCH_BYTES_MAX.
 *
 * Invariants:
 *   1. A record is dropped only if a later record with the same key was seen by scan, or it is
 *      an expired tombstone, or it has no key.
 *   2. Every batch rewrite returns keeps BaseOffset, LastOffsetDelta and each record's bytes
 *      (so its OffsetDelta) and carries a fresh CRC.
 */
#ifndef SLUICE_BROKER_CLEANER_H
#define SLUICE_BROKER_CLEANER_H

#include <stddef.h>
#include <stdint.h>

#include "storage/plog.h"

/* Kafka's log.cleaner.delete.retention.ms default: tombstones stay one day. */
#define CLEANER_DELETE_RETENTION_MS_DEFAULT 86400000LL
/* Key map memory per compaction (Kafka's log.cleaner.dedupe.buffer.size is 128 MiB). */
#define CLEANER_KEY_BYTES_MAX ((size_t)64 << 20)
/* Largest inflated batch the cleaner looks into; larger ones are kept as they are. */
#define CLEANER_BATCH_BYTES_MAX ((size_t)64 << 20)

struct cleaner_config {
	int64_t now_ms;              /* wall clock at the start of the compaction */
	int64_t delete_retention_ms; /* tombstones older than this are removed */
	int64_t max_offset;          /* only records below it are looked at (the high watermark) */
	size_t key_bytes_max;        /* 0 = CLEANER_KEY_BYTES_MAX */
	void *data;                  /* the caller's (plog_compact's done gets the cleaner) */
};

struct cleaner_stats {
	uint64_t records_kept;
	uint64_t records_removed;
	uint64_t tombstones_kept; /* latest-for-key tombstones not yet old enough */
	uint64_t tombstones_removed;
	uint64_t keys;
	uint64_t keys_untracked;  /* did not fit in key_bytes_max */
	uint64_t batches_unparsed; /* kept whole: records that do not parse or inflate */
};

struct cleaner;

/* The compactor to pass to plog_compact with a cleaner as its argument. */
extern const struct plog_compactor cleaner_compactor;

/* Returns a new cleaner for one compaction, or NULL (OOM). */
struct cleaner *cleaner_new(const struct cleaner_config *cfg);
/* Accepts NULL. */
void cleaner_free(struct cleaner *c);
const struct cleaner_stats *cleaner_stats(const struct cleaner *c);
void *cleaner_data(const struct cleaner *c);

#endif
