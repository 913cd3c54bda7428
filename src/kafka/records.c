/*
 * records: RecordBatch v2 validation, iteration and building (contract and record layout in
 * records.h, batch header layout in storage/batch.h).
 *
 * records_validate walks the field batch by batch: it reads BatchLength and Magic itself (so magic
 * 0/1 gets its own error before the v2 header decoder rejects it), lets batch_header_decode check
 * the header, checks the CRC, the client rules of Kafka's LogValidator (BaseOffset 0,
 * RecordCount > 0 and equal to LastOffsetDelta + 1), and for uncompressed batches parses every
 * record with the iterator and checks that OffsetDelta runs 0, 1, ... LastOffsetDelta.
 *
 * Invariants: every read is bounded by the batch's end (BatchLength, itself bounded by the
 * field); the iterator never returns more records than RecordCount.
 */
#include "kafka/records.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

#include "base/codec.h"
#include "kafka/kafka.h"

int16_t records_kafka_error(int rc)
{
	switch (rc) {
	case 0:
		return KAFKA_ERR_NONE;
	case SLUICE_EVERSION:
		return KAFKA_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
	default:
		return KAFKA_ERR_CORRUPT_MESSAGE;
	}
}

/* Reads a zigzag varint that must fit in int32. */
static int32_t read_varint32(struct rbuf *r)
{
	int64_t v = rbuf_varint(r);
	if (v < INT32_MIN || v > INT32_MAX) {
		r->err = true;
		return 0;
	}
	return (int32_t)v;
}

/* Reads a varint length (-1 = null when `nullable`) and the bytes after it. */
static struct kafka_bytes read_lenbytes(struct rbuf *r, bool nullable)
{
	struct kafka_bytes b = { NULL, -1 };
	int32_t n = read_varint32(r);

	if (r->err)
		return b;
	if (n < -1 || (n == -1 && !nullable)) {
		r->err = true;
		return b;
	}
	if (n >= 0) {
		b.ptr = rbuf_bytes(r, (size_t)n);
		b.len = n;
	}
	return b;
}

int records_iter_init(struct records_iter *it, const uint8_t *p, size_t n)
{
	memset(it, 0, sizeof *it);
	if (batch_header_decode(p, n, &it->h) != 0)
		return SLUICE_EMALFORMED;
	if ((it->h.attributes & BATCH_ATTR_COMPRESSION_MASK) != 0)
		return SLUICE_EINVAL;
	size_t total = batch_total_bytes(&it->h);
	if (total > n)
		return SLUICE_EMALFORMED;
	it->p = p + BATCH_HEADER_BYTES;
	it->end = p + total;
	it->left = it->h.record_count;
	return 0;
}

int records_iter_next(struct records_iter *it, struct records_record *rec)
{
	struct rbuf r, body;

	if (it->left == 0)
		return 0;
	rbuf_init(&r, it->p, (size_t)(it->end - it->p));
	int32_t len = read_varint32(&r);
	if (r.err || len < 0 || (size_t)len > rbuf_left(&r))
		return SLUICE_EMALFORMED;
	rbuf_init(&body, r.p + r.pos, (size_t)len);
	memset(rec, 0, sizeof *rec);
	rec->attributes = (int8_t)rbuf_u8(&body);
	int64_t ts_delta = rbuf_varint(&body);
	rec->offset_delta = read_varint32(&body);
	rec->key = read_lenbytes(&body, true);
	rec->value = read_lenbytes(&body, true);
	rec->headers_count = read_varint32(&body);
	if (body.err || rec->headers_count < 0)
		return SLUICE_EMALFORMED;
	rec->headers = body.p + body.pos;
	for (int32_t i = 0; i < rec->headers_count && !body.err; i++) {
		(void)read_lenbytes(&body, false);
		(void)read_lenbytes(&body, true);
	}
	if (body.err || rbuf_left(&body) != 0)
		return SLUICE_EMALFORMED;
	rec->headers_bytes = (size_t)(body.p + body.pos - rec->headers);
	/* Wrapping arithmetic: a hostile delta must not be undefined behaviour. */
	rec->timestamp = (int64_t)((uint64_t)it->h.base_timestamp + (uint64_t)ts_delta);
	rec->offset = (int64_t)((uint64_t)it->h.base_offset + (uint64_t)(int64_t)rec->offset_delta);
	it->p += r.pos + (size_t)len;
	it->left--;
	return 1;
}

int records_header_next(const struct records_record *rec, size_t *pos, struct records_header *hdr)
{
	struct rbuf r;

	if (*pos >= rec->headers_bytes)
		return 0;
	rbuf_init(&r, rec->headers + *pos, rec->headers_bytes - *pos);
	hdr->key = read_lenbytes(&r, false);
	hdr->value = read_lenbytes(&r, true);
	if (r.err)
		return SLUICE_EMALFORMED;
	*pos += r.pos;
	return 1;
}

/* Checks the records of one uncompressed batch against its header. */
static int validate_records(const uint8_t *p, size_t total, char *errmsg)
{
	struct records_iter it;
	struct records_record rec;
	int32_t i = 0;
	int rc;

	if (records_iter_init(&it, p, total) != 0) {
		errmsg_printf(errmsg, "bad batch header");
		return SLUICE_EMALFORMED;
	}
	while ((rc = records_iter_next(&it, &rec)) == 1) {
		if (rec.offset_delta != i) {
			errmsg_printf(errmsg, "record %d has OffsetDelta %d", i, rec.offset_delta);
			return SLUICE_EMALFORMED;
		}
		i++;
	}
	if (rc < 0) {
		errmsg_printf(errmsg, "record %d does not parse", i);
		return SLUICE_EMALFORMED;
	}
	if (it.p != it.end) {
		errmsg_printf(errmsg, "%zu bytes after RecordCount %d records",
			      (size_t)(it.end - it.p), it.h.record_count);
		return SLUICE_EMALFORMED;
	}
	return 0;
}

int records_validate(const uint8_t *p, size_t n, struct records_info *info, char *errmsg)
{
	struct records_info tmp;
	size_t off = 0;

	if (info == NULL)
		info = &tmp;
	memset(info, 0, sizeof *info);
	info->max_timestamp = -1;
	if (n == 0) {
		errmsg_printf(errmsg, "no record batch");
		return SLUICE_EMALFORMED;
	}
	while (off < n) {
		const uint8_t *b = p + off;
		size_t left = n - off;
		struct batch_header h;

		if (left < BATCH_LOG_OVERHEAD + 5) {
			errmsg_printf(errmsg, "batch at byte %zu: truncated header", off);
			return SLUICE_EMALFORMED;
		}
		int32_t blen = (int32_t)be32_get(b + BATCH_LENGTH_OFFSET);
		int8_t magic = (int8_t)b[16];
		if (magic == 0 || magic == 1) {
			errmsg_printf(errmsg, "batch at byte %zu: magic %d", off, magic);
			return SLUICE_EVERSION;
		}
		if (blen < 0 || (size_t)blen > left - BATCH_LOG_OVERHEAD) {
			errmsg_printf(errmsg, "batch at byte %zu: BatchLength %d, %zu bytes left",
				      off, blen, left);
			return SLUICE_EMALFORMED;
		}
		size_t total = BATCH_LOG_OVERHEAD + (size_t)blen;
		if (batch_header_decode(b, total, &h) != 0) {
			errmsg_printf(errmsg, "batch at byte %zu: bad header", off);
			return SLUICE_EMALFORMED;
		}
		assert(batch_total_bytes(&h) == total);
		if (!batch_crc_ok(b, total)) {
			errmsg_printf(errmsg, "batch at byte %zu: CRC mismatch", off);
			return SLUICE_ECORRUPT;
		}
		if (h.base_offset != 0 || h.record_count <= 0 ||
		    h.record_count > RECORDS_PER_BATCH_MAX ||
		    (int64_t)h.last_offset_delta + 1 != h.record_count) {
			errmsg_printf(errmsg,
				      "batch at byte %zu: BaseOffset %lld, RecordCount %d, "
				      "LastOffsetDelta %d",
				      off, (long long)h.base_offset, h.record_count,
				      h.last_offset_delta);
			return SLUICE_EMALFORMED;
		}
		if ((h.attributes & BATCH_ATTR_COMPRESSION_MASK) == 0) {
			int rc = validate_records(b, total, errmsg);
			if (rc != 0) {
				errmsg_wrapf(errmsg, "batch at byte %zu", off);
				return rc;
			}
		} else {
			info->compressed = true;
		}
		if (info->batches == 0)
			info->first = h;
		info->batches++;
		info->records += h.record_count;
		if (h.max_timestamp > info->max_timestamp)
			info->max_timestamp = h.max_timestamp;
		info->transactional |= (h.attributes & BATCH_ATTR_TRANSACTIONAL) != 0;
		info->control |= (h.attributes & BATCH_ATTR_CONTROL) != 0;
		off += total;
	}
	return 0;
}

void records_batch_params_default(struct records_batch_params *bp)
{
	memset(bp, 0, sizeof *bp);
	bp->producer_id = -1;
	bp->producer_epoch = -1;
	bp->base_sequence = -1;
}

static bool len_ok(int32_t len, const void *ptr, bool nullable)
{
	return len >= 0 ? (len == 0 || ptr != NULL) : (nullable && len == -1);
}

static void put_lenbytes(struct wbuf *w, struct kafka_bytes b)
{
	wbuf_varint(w, b.len);
	if (b.len > 0)
		wbuf_put(w, b.ptr, (size_t)b.len);
}

int records_build(struct wbuf *w, const struct records_batch_params *bp,
		  const struct records_new *recs, int32_t count)
{
	struct wbuf body;
	int64_t base_ts, max_ts;

	if (count < 1 || count > RECORDS_PER_BATCH_MAX ||
	    (bp->attributes & BATCH_ATTR_COMPRESSION_MASK) != 0)
		return SLUICE_EINVAL;
	base_ts = max_ts = recs[0].timestamp;
	for (int32_t i = 0; i < count; i++) {
		const struct records_new *r = &recs[i];
		if (!len_ok(r->key.len, r->key.ptr, true) ||
		    !len_ok(r->value.len, r->value.ptr, true) || r->headers_count < 0 ||
		    (r->headers_count > 0 && r->headers == NULL))
			return SLUICE_EINVAL;
		for (int32_t j = 0; j < r->headers_count; j++)
			if (!len_ok(r->headers[j].key.len, r->headers[j].key.ptr, false) ||
			    !len_ok(r->headers[j].value.len, r->headers[j].value.ptr, true))
				return SLUICE_EINVAL;
		if (r->timestamp > max_ts)
			max_ts = r->timestamp;
	}
	wbuf_init(&body);
	for (int32_t i = 0; i < count; i++) {
		const struct records_new *r = &recs[i];
		struct wbuf one;
		wbuf_init(&one);
		wbuf_u8(&one, 0); /* Attributes */
		wbuf_varint(&one, (int64_t)((uint64_t)r->timestamp - (uint64_t)base_ts));
		wbuf_varint(&one, i); /* OffsetDelta */
		put_lenbytes(&one, r->key);
		put_lenbytes(&one, r->value);
		wbuf_varint(&one, r->headers_count);
		for (int32_t j = 0; j < r->headers_count; j++) {
			put_lenbytes(&one, r->headers[j].key);
			put_lenbytes(&one, r->headers[j].value);
		}
		wbuf_varint(&body, (int64_t)one.len);
		wbuf_put(&body, one.data, one.len);
		bool oom = one.oom;
		wbuf_free(&one);
		if (oom)
			body.oom = true;
	}
	if (body.oom || body.len > (size_t)INT32_MAX - BATCH_HEADER_BYTES) {
		int rc = body.oom ? SLUICE_ENOMEM : SLUICE_EINVAL;
		wbuf_free(&body);
		return rc;
	}
	size_t start = w->len;
	wbuf_be64(w, (uint64_t)bp->base_offset);
	wbuf_be32(w, (uint32_t)(BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD + body.len));
	wbuf_be32(w, (uint32_t)bp->partition_leader_epoch);
	wbuf_u8(w, BATCH_MAGIC_V2);
	wbuf_be32(w, 0); /* CRC, set below */
	wbuf_be16(w, (uint16_t)bp->attributes);
	wbuf_be32(w, (uint32_t)(count - 1)); /* LastOffsetDelta */
	wbuf_be64(w, (uint64_t)base_ts);
	wbuf_be64(w, (uint64_t)max_ts);
	wbuf_be64(w, (uint64_t)bp->producer_id);
	wbuf_be16(w, (uint16_t)bp->producer_epoch);
	wbuf_be32(w, (uint32_t)bp->base_sequence);
	wbuf_be32(w, (uint32_t)count);
	wbuf_put(w, body.data, body.len);
	wbuf_free(&body);
	if (w->oom)
		return SLUICE_ENOMEM;
	batch_set_crc(w->data + start, w->len - start);
	return 0;
}
