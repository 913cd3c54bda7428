/*
 * cleaner: keeps the latest record per key in compacted topics (contract in cleaner.h).
 *
 * Happy path: plog_compact calls cleaner_scan with every durable batch, oldest first; each keyed
 * record below max_offset sets map[key] = its offset, so the map ends with each key's latest
 * offset. Then cleaner_rewrite sees each batch of the closed segments and keeps a record only if
 * map[key] is its own offset (and it is not an expired tombstone). A batch that keeps everything
 * is returned byte for byte; otherwise its header is kept (compression bits cleared), RecordCount
 * and BatchLength are set for the retained records, whose bytes are copied unchanged (so their
 * OffsetDelta and TimestampDelta still hold), and the CRC is recomputed.
 *
 * Failure modes: a batch whose records do not inflate or parse is skipped by scan and kept whole
 * by rewrite; a key that does not fit in the map is not tracked, and every record of an untracked
 * key is kept; allocation failure in rewrite ends the compaction (SLUICE_ENOMEM) with nothing
 * half-written (storage throws the partial segment away).
 */
#include "broker/cleaner.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/codec.h"
#include "base/err.h"
#include "kafka/compress.h"
#include "kafka/records.h"
#include "storage/batch.h"

/* Offsets of RecordBatch v2 header fields rewritten here (batch.h has the table). */
#define HDR_BATCH_LENGTH 8
#define HDR_ATTRIBUTES 21
#define HDR_RECORD_COUNT 57

struct key_entry {
	uint64_t hash;
	int64_t offset;
	uint8_t *key; /* NULL when the slot is empty; a zero-length key points at `empty` */
	uint32_t len;
};

struct cleaner {
	struct cleaner_config cfg;
	struct key_entry *map;
	size_t cap; /* power of two */
	size_t n;
	size_t bytes; /* memory held by the map */
	struct cleaner_stats stats;
	uint8_t empty; /* target of zero-length keys */
};

static uint64_t key_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

static struct key_entry *map_slot(struct key_entry *map, size_t cap, uint64_t h, const uint8_t *k,
				  uint32_t len)
{
	size_t i = (size_t)h & (cap - 1);

	for (;;) {
		struct key_entry *e = &map[i];
		if (e->key == NULL ||
		    (e->hash == h && e->len == len && (len == 0 || memcmp(e->key, k, len) == 0)))
			return e;
		i = (i + 1) & (cap - 1);
	}
}

static bool map_grow(struct cleaner *c)
{
	size_t ncap = c->cap ? c->cap * 2 : 1024;
	size_t add = ncap * sizeof(struct key_entry);
	struct key_entry *nm;

	if (c->bytes + add > c->cfg.key_bytes_max)
		return false;
	nm = calloc(ncap, sizeof *nm);
	if (nm == NULL)
		return false;
	for (size_t i = 0; i < c->cap; i++)
		if (c->map[i].key != NULL)
			*map_slot(nm, ncap, c->map[i].hash, c->map[i].key, c->map[i].len) = c->map[i];
	c->bytes = c->bytes - c->cap * sizeof(struct key_entry) + add;
	free(c->map);
	c->map = nm;
	c->cap = ncap;
	return true;
}

/* Records that the latest record seen for `key` is at `offset`. */
static void map_put(struct cleaner *c, struct kafka_bytes key, int64_t offset)
{
	uint64_t h = key_hash(key.ptr, (size_t)key.len);
	struct key_entry *e;

	if (c->cap > 0) {
		e = map_slot(c->map, c->cap, h, key.ptr, (uint32_t)key.len);
		if (e->key != NULL) {
			e->offset = offset;
			return;
		}
	}
	/* A new key: keep the load factor at most 1/2. */
	if ((c->n + 1) * 2 > c->cap && !map_grow(c))
		goto untracked;
	if (c->bytes + (size_t)key.len > c->cfg.key_bytes_max)
		goto untracked;
	e = map_slot(c->map, c->cap, h, key.ptr, (uint32_t)key.len);
	if (key.len == 0) {
		e->key = &c->empty;
	} else {
		e->key = malloc((size_t)key.len);
		if (e->key == NULL)
			goto untracked;
		memcpy(e->key, key.ptr, (size_t)key.len);
	}
	e->hash = h;
	e->len = (uint32_t)key.len;
	e->offset = offset;
	c->n++;
	c->bytes += (size_t)key.len;
	c->stats.keys++;
	return;

untracked:
	c->stats.keys_untracked++;
}

/* The latest offset seen for `key`, or -1 when it is not tracked. */
static int64_t map_get(const struct cleaner *c, struct kafka_bytes key)
{
	const struct key_entry *e;

	if (c->cap == 0)
		return -1;
	e = map_slot(c->map, c->cap, key_hash(key.ptr, (size_t)key.len), key.ptr,
		     (uint32_t)key.len);
	return e->key != NULL ? e->offset : -1;
}

struct cleaner *cleaner_new(const struct cleaner_config *cfg)
{
	struct cleaner *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->cfg = *cfg;
	if (c->cfg.key_bytes_max == 0)
		c->cfg.key_bytes_max = CLEANER_KEY_BYTES_MAX;
	return c;
}

void cleaner_free(struct cleaner *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->cap; i++)
		if (c->map[i].key != NULL && c->map[i].key != &c->empty)
			free(c->map[i].key);
	free(c->map);
	free(c);
}

const struct cleaner_stats *cleaner_stats(const struct cleaner *c)
{
	return &c->stats;
}

void *cleaner_data(const struct cleaner *c)
{
	return c->cfg.data;
}

/* Opens the records of `batch` for reading: directly if uncompressed, else through an inflated
 * copy returned in *inflated (the caller unrefs it). Returns 0 or a negative code. */
static int open_records(const uint8_t *batch, size_t n, const struct batch_header *h,
			struct buf **inflated, struct records_iter *it)
{
	*inflated = NULL;
	if ((h->attributes & BATCH_ATTR_COMPRESSION_MASK) == 0)
		return records_iter_init(it, batch, n);
	int rv = compress_inflate_batch(batch, n, CLEANER_BATCH_BYTES_MAX, inflated, NULL);
	if (rv != 0)
		return rv;
	rv = records_iter_init(it, (*inflated)->data, (*inflated)->len);
	if (rv != 0) {
		buf_unref(*inflated);
		*inflated = NULL;
	}
	return rv;
}

/* Whether the batch is one the cleaner leaves alone: control batches (transaction markers and
 * the log's own entries), and batches at or above max_offset. */
static bool batch_untouchable(const struct cleaner *c, const struct batch_header *h)
{
	return (h->attributes & BATCH_ATTR_CONTROL) != 0 || batch_last_offset(h) >= c->cfg.max_offset;
}

static int cleaner_scan(void *arg, const uint8_t *batch, size_t n)
{
	struct cleaner *c = arg;
	struct batch_header h;
	struct records_iter it;
	struct records_record rec;
	struct buf *inflated;
	int rv;

	if (batch_header_decode(batch, n, &h) != 0)
		return SLUICE_ECORRUPT; /* storage checked it: not expected */
	if (batch_untouchable(c, &h))
		return 0;
	if (open_records(batch, n, &h, &inflated, &it) != 0) {
		c->stats.batches_unparsed++;
		return 0;
	}
	while ((rv = records_iter_next(&it, &rec)) == 1)
		if (rec.key.len >= 0)
			map_put(c, rec.key, rec.offset);
	if (rv < 0)
		c->stats.batches_unparsed++; /* the records before the bad one still count */
	buf_unref(inflated);
	return 0;
}

/* Whether `rec` of a batch with header `h` survives. */
static bool retain(struct cleaner *c, const struct batch_header *h,
		   const struct records_record *rec)
{
	int64_t latest;

	if (rec->key.len < 0)
		return false;
	latest = map_get(c, rec->key);
	if (latest >= 0 && latest != rec->offset)
		return false;
	if (rec->value.len < 0) {
		if (c->cfg.delete_retention_ms >= 0 &&
		    h->max_timestamp < c->cfg.now_ms - c->cfg.delete_retention_ms) {
			c->stats.tombstones_removed++;
			return false;
		}
		c->stats.tombstones_kept++;
	}
	return true;
}

static int cleaner_rewrite(void *arg, const uint8_t *batch, size_t n, struct wbuf *out)
{
	struct cleaner *c = arg;
	struct batch_header h;
	struct records_iter it;
	struct records_record rec;
	struct buf *inflated;
	struct wbuf kept = {0};
	int32_t nkept = 0, nseen = 0;
	uint8_t hdr[BATCH_HEADER_BYTES];
	int rv;

	if (batch_header_decode(batch, n, &h) != 0)
		return SLUICE_ECORRUPT;
	n = batch_total_bytes(&h);
	if (batch_untouchable(c, &h) || open_records(batch, n, &h, &inflated, &it) != 0)
		goto unchanged;
	for (;;) {
		const uint8_t *start = it.p;
		rv = records_iter_next(&it, &rec);
		if (rv < 0) {
			c->stats.batches_unparsed++;
			wbuf_free(&kept);
			buf_unref(inflated);
			goto unchanged;
		}
		if (rv == 0)
			break;
		nseen++;
		if (retain(c, &h, &rec)) {
			wbuf_put(&kept, start, (size_t)(it.p - start));
			nkept++;
		}
	}
	buf_unref(inflated);
	c->stats.records_kept += (uint64_t)nkept;
	c->stats.records_removed += (uint64_t)(nseen - nkept);
	if (kept.oom) {
		wbuf_free(&kept);
		return SLUICE_ENOMEM;
	}
	if (nkept == nseen) {
		wbuf_free(&kept);
		goto unchanged;
	}
	/* The original header with the retained records: BaseOffset, LastOffsetDelta, timestamps
	 * and producer fields stay; compression goes (the records are stored inflated). */
	memcpy(hdr, batch, sizeof hdr);
	be32_put(hdr + HDR_BATCH_LENGTH,
		 (uint32_t)(BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD + kept.len));
	be16_put(hdr + HDR_ATTRIBUTES,
		 (uint16_t)(h.attributes & ~(int16_t)BATCH_ATTR_COMPRESSION_MASK));
	be32_put(hdr + HDR_RECORD_COUNT, (uint32_t)nkept);
	if (!wbuf_reserve(out, sizeof hdr + kept.len)) {
		wbuf_free(&kept);
		return SLUICE_ENOMEM;
	}
	size_t at = out->len;
	wbuf_put(out, hdr, sizeof hdr);
	wbuf_put(out, kept.data, kept.len);
	wbuf_free(&kept);
	batch_set_crc(out->data + at, out->len - at);
	return out->oom ? SLUICE_ENOMEM : 0;

unchanged:
	wbuf_put(out, batch, n);
	return out->oom ? SLUICE_ENOMEM : 0;
}

const struct plog_compactor cleaner_compactor = {
	.scan = cleaner_scan,
	.rewrite = cleaner_rewrite,
};
