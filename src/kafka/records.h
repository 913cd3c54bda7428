/*
 * records: RecordBatch v2 contents for Produce — validation of what clients send, iteration over
 * the records of an uncompressed batch, and building batches (tests, the CLI, control batches).
 *
 * Builds on storage/batch.h, which decodes the fixed 61-byte header and checks the CRC. A Produce
 * partition's `Records` field must hold one or more whole batches, back to back:
 *
 *   Record (DefaultRecord; zigzag varints, unlike the unsigned varints of flexible fields):
 *     Length varint            bytes after this field
 *     Attributes int8          unused
 *     TimestampDelta varlong   timestamp minus the batch's BaseTimestamp
 *     OffsetDelta varint       offset minus the batch's BaseOffset
 *     KeyLength varint, Key    -1 = null
 *     ValueLength varint, Value -1 = null
 *     HeadersCount varint, then per header: HeaderKeyLength varint, HeaderKey,
 *                                           HeaderValueLength varint (-1 = null), HeaderValue
 *
 * Failure modes (records_validate): magic 0 or 1 returns SLUICE_EVERSION (the broker answers
 * UNSUPPORTED_FOR_MESSAGE_FORMAT); a CRC mismatch SLUICE_ECORRUPT (CORRUPT_MESSAGE); any other
 * defect (a truncated or trailing batch, a bad header, records that do not parse, a count or
 * offset deltas that disagree with RecordCount and LastOffsetDelta) SLUICE_EMALFORMED
 * (CORRUPT_MESSAGE). records_kafka_error() does this mapping. Compressed batches are checked up to
 * the header and CRC only; their records are not inflated here.
 */
#ifndef SLUICE_KAFKA_RECORDS_H
#define SLUICE_KAFKA_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "kafka/messages.h"
#include "storage/batch.h"

/* A batch may not claim more records than this: a bound on the work one batch can cause, far
 * above what fits in the default 1 MiB message.max.bytes. */
#define RECORDS_PER_BATCH_MAX (1 << 24)

struct records_info {
	int32_t batches;           /* whole batches in the field */
	int64_t records;           /* sum of RecordCount */
	int64_t max_timestamp;     /* largest MaxTimestamp of the batches */
	struct batch_header first; /* header of the first batch (ProducerId, BaseSequence ...) */
	bool compressed;           /* some batch is compressed */
	bool transactional;        /* some batch has the transactional bit */
	bool control;              /* some batch is a control batch */
};

/* Validates a Produce `Records` field of `n` bytes at `p` as above (BaseOffset must be 0, as
 * Kafka's LogValidator requires of clients). Fills *info (may be NULL) on success. Returns 0 or
 * SLUICE_EVERSION / SLUICE_ECORRUPT / SLUICE_EMALFORMED, with the reason in `errmsg` (may be
 * NULL). */
int records_validate(const uint8_t *p, size_t n, struct records_info *info, char *errmsg);

/* The Kafka error code the broker returns for a records_validate() result. */
int16_t records_kafka_error(int rc);

struct records_record {
	int8_t attributes;
	int64_t timestamp; /* BaseTimestamp + TimestampDelta */
	int64_t offset;    /* BaseOffset + OffsetDelta */
	int32_t offset_delta;
	struct kafka_bytes key;   /* len -1 = null; points into the batch */
	struct kafka_bytes value; /* len -1 = null */
	int32_t headers_count;
	const uint8_t *headers; /* the raw headers, `headers_bytes` long, for records_header_next */
	size_t headers_bytes;
};

struct records_header {
	struct kafka_bytes key;
	struct kafka_bytes value; /* len -1 = null */
};

struct records_iter {
	struct batch_header h;
	const uint8_t *p; /* next record */
	const uint8_t *end;
	int32_t left; /* records not yet returned */
};

/* Starts iterating the records of the uncompressed batch at `p` (`n` bytes, at least the whole
 * batch). Returns 0, SLUICE_EINVAL for a compressed batch, or SLUICE_EMALFORMED. Does not check
 * the CRC (records_validate and the log do). */
int records_iter_init(struct records_iter *it, const uint8_t *p, size_t n);

/* Returns 1 and fills *rec with the next record, 0 after the last one, or SLUICE_EMALFORMED. */
int records_iter_next(struct records_iter *it, struct records_record *rec);

/* Reads the next header of `rec` from *pos (start with *pos = 0). Returns 1, 0 at the end, or
 * SLUICE_EMALFORMED. */
int records_header_next(const struct records_record *rec, size_t *pos, struct records_header *hdr);

struct records_new {
	int64_t timestamp;
	struct kafka_bytes key;   /* len -1 = null */
	struct kafka_bytes value; /* len -1 = null */
	int32_t headers_count;
	const struct records_header *headers;
};

struct records_batch_params {
	int64_t base_offset;
	int32_t partition_leader_epoch;
	int16_t attributes;  /* compression bits must be 0: this builder does not compress */
	int64_t producer_id; /* -1 when not idempotent */
	int16_t producer_epoch;
	int32_t base_sequence;
};

/* Sets *bp to a plain batch: offset 0, no producer (-1/-1/-1), no attributes. */
void records_batch_params_default(struct records_batch_params *bp);

/* Appends one uncompressed batch of `count` (>= 1) records to `w`, with offset deltas 0..count-1,
 * BaseTimestamp from the first record, MaxTimestamp the largest, and a valid CRC. Returns 0,
 * SLUICE_EINVAL (count out of range, compression requested, a negative length other than -1) or
 * SLUICE_ENOMEM. */
int records_build(struct wbuf *w, const struct records_batch_params *bp,
		  const struct records_new *recs, int32_t count);

#endif
