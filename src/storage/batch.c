/*
 * batch: RecordBatch v2 header decoding and CRC checks (layout in batch.h).
 */
#include "storage/batch.h"

#include "base/codec.h"
#include "base/crc32c.h"
#include "base/err.h"

int batch_header_decode(const uint8_t *p, size_t n, struct batch_header *h)
{
	if (n < BATCH_HEADER_BYTES)
		return SLUICE_EMALFORMED;
	h->base_offset = (int64_t)be64_get(p);
	h->batch_length = (int32_t)be32_get(p + 8);
	h->partition_leader_epoch = (int32_t)be32_get(p + 12);
	h->magic = (int8_t)p[16];
	h->crc = be32_get(p + 17);
	h->attributes = (int16_t)be16_get(p + 21);
	h->last_offset_delta = (int32_t)be32_get(p + 23);
	h->base_timestamp = (int64_t)be64_get(p + 27);
	h->max_timestamp = (int64_t)be64_get(p + 35);
	h->producer_id = (int64_t)be64_get(p + 43);
	h->producer_epoch = (int16_t)be16_get(p + 51);
	h->base_sequence = (int32_t)be32_get(p + 53);
	h->record_count = (int32_t)be32_get(p + 57);
	if (h->magic != BATCH_MAGIC_V2)
		return SLUICE_EMALFORMED;
	if (h->batch_length < BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD)
		return SLUICE_EMALFORMED;
	if (h->last_offset_delta < 0 || h->record_count < 0)
		return SLUICE_EMALFORMED;
	if ((int64_t)h->record_count > (int64_t)h->last_offset_delta + 1)
		return SLUICE_EMALFORMED;
	return 0;
}

bool batch_crc_ok(const uint8_t *p, size_t total)
{
	if (total < BATCH_HEADER_BYTES)
		return false;
	return crc32c(0, p + BATCH_CRC_START, total - BATCH_CRC_START) == be32_get(p + 17);
}

void batch_set_base_offset(uint8_t *p, int64_t base_offset)
{
	be64_put(p, (uint64_t)base_offset);
}

void batch_set_leader_epoch(uint8_t *p, int32_t epoch)
{
	be32_put(p + 12, (uint32_t)epoch);
}

void batch_set_crc(uint8_t *p, size_t total)
{
	be32_put(p + 17, crc32c(0, p + BATCH_CRC_START, total - BATCH_CRC_START));
}
