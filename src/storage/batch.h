/*
 * batch: the Kafka RecordBatch v2 header, the unit the partition log stores.
 *
 * The log keeps batches exactly as producers sent them (compressed batches stay compressed); it
 * reads only the fixed 61-byte header and checks the CRC. Record-level parsing lives in the Kafka
 * protocol module (src/kafka/records.c), which builds on this header.
 *
 * RecordBatch v2 header (all big-endian; the protocol guide's names):
 *
 *   offset size field                 meaning
 *   0      8    BaseOffset            offset of the first record; assigned by the log on append
 *   8      4    BatchLength           bytes after this field (whole batch = 12 + BatchLength)
 *   12     4    PartitionLeaderEpoch  leader epoch (Raft term) when appended
 *   16     1    Magic                 2
 *   17     4    CRC                   CRC-32C of bytes [21, end) (Attributes to the last record)
 *   21     2    Attributes            bits 0-2 compression, 3 timestamp type, 4 transactional,
 *                                     5 control, 6 delete horizon
 *   23     4    LastOffsetDelta       offset of the last record minus BaseOffset
 *   27     8    BaseTimestamp         (FirstTimestamp) timestamp of the first record
 *   35     8    MaxTimestamp          largest timestamp in the batch
 *   43     8    ProducerId            -1 when not idempotent
 *   51     2    ProducerEpoch
 *   53     4    BaseSequence
 *   57     4    RecordCount (the length of the Records array)
 *   61     ...  Records
 *
 * Because BaseOffset, BatchLength, PartitionLeaderEpoch and Magic lie outside the CRC, the log can
 * assign BaseOffset and PartitionLeaderEpoch without recomputing it.
 */
#ifndef SLUICE_STORAGE_BATCH_H
#define SLUICE_STORAGE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BATCH_HEADER_BYTES 61
#define BATCH_LENGTH_OFFSET 8
#define BATCH_LOG_OVERHEAD 12 /* BaseOffset + BatchLength */
#define BATCH_CRC_START 21
#define BATCH_MAGIC_V2 2

enum {
	BATCH_ATTR_COMPRESSION_MASK = 0x07,
	BATCH_ATTR_TIMESTAMP_LOG_APPEND = 0x08,
	BATCH_ATTR_TRANSACTIONAL = 0x10,
	BATCH_ATTR_CONTROL = 0x20,
	BATCH_ATTR_DELETE_HORIZON = 0x40,
};

struct batch_header {
	int64_t base_offset;
	int32_t batch_length;
	int32_t partition_leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t record_count;
};

/* Decodes the header at `p` (at least `n` bytes available) into *h. Returns 0, or
 * SLUICE_EMALFORMED when fewer than BATCH_HEADER_BYTES are available, Magic is not 2,
 * BatchLength is below the header's size, LastOffsetDelta or RecordCount is negative, or
 * RecordCount exceeds LastOffsetDelta + 1. Does not check the CRC or that the body is present. */
int batch_header_decode(const uint8_t *p, size_t n, struct batch_header *h);

/* Total bytes of the batch on disk and on the wire: 12 + BatchLength. */
static inline size_t batch_total_bytes(const struct batch_header *h)
{
	return (size_t)BATCH_LOG_OVERHEAD + (size_t)h->batch_length;
}

static inline int64_t batch_last_offset(const struct batch_header *h)
{
	return h->base_offset + h->last_offset_delta;
}

/* True when the CRC field matches CRC-32C of bytes [21, total) of the whole batch at `p`
 * (`total` = batch_total_bytes). */
bool batch_crc_ok(const uint8_t *p, size_t total);

/* Writes BaseOffset and PartitionLeaderEpoch into the batch at `p` (both outside the CRC). */
void batch_set_base_offset(uint8_t *p, int64_t base_offset);
void batch_set_leader_epoch(uint8_t *p, int32_t epoch);

/* Recomputes and stores the CRC of the batch at `p` of `total` bytes (for tests and for batches
 * the broker builds itself, such as control batches). */
void batch_set_crc(uint8_t *p, size_t total);

#endif
