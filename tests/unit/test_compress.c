/*
 * Unit tests of src/kafka/compress: batches built with records_build whose records section the
 * test compresses itself with each library, in the framings Kafka clients write (gzip streams,
 * raw and xerial-framed snappy, LZ4 frames, zstd frames, and several members or frames back to
 * back), then inflates and compares record by record with the original. Corrupt and truncated
 * input must fail cleanly (run under ASan+UBSan in CI), and output beyond the bound must be
 * refused with SLUICE_ETOOLARGE. No loop, socket or file.
 *
 * One Suite "compress"; TCases: roundtrip, errors, bounds.
 */
#define ZLIB_CONST

#include <check.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "base/buf.h"
#include "base/codec.h"
#include "base/err.h"
#include "kafka/compress.h"
#include "kafka/records.h"
#include "storage/batch.h"

/* Bound for tests that are not about the bound: far above any batch they build. */
#define TEST_OUT_BYTES_MAX ((size_t)64 << 20)

/* ---- compressing, as producers do ---- */

/* The framings under test: a codec and how its blob is laid out. */
enum framing {
	GZIP_ONE,      /* one gzip member (Java GZIPOutputStream) */
	GZIP_TWO,      /* two members back to back */
	SNAPPY_RAW,    /* one raw snappy block (librdkafka may send this) */
	SNAPPY_XERIAL, /* xerial framing with 32 KiB blocks (Java client) */
	LZ4_PLAIN,     /* one LZ4 frame, default preferences */
	LZ4_CHECKSUMS, /* 64 KiB blocks, block and content checksums, content size (Kafka) */
	LZ4_TWO,       /* two frames back to back */
	ZSTD_ONE,      /* one zstd frame */
	ZSTD_TWO,      /* two frames back to back */
	FRAMINGS,
};

static const struct {
	int codec;
	const char *name;
} framings[FRAMINGS] = {
	[GZIP_ONE] = { COMPRESS_GZIP, "gzip" },
	[GZIP_TWO] = { COMPRESS_GZIP, "gzip, two members" },
	[SNAPPY_RAW] = { COMPRESS_SNAPPY, "snappy raw" },
	[SNAPPY_XERIAL] = { COMPRESS_SNAPPY, "snappy xerial" },
	[LZ4_PLAIN] = { COMPRESS_LZ4, "lz4" },
	[LZ4_CHECKSUMS] = { COMPRESS_LZ4, "lz4 with checksums" },
	[LZ4_TWO] = { COMPRESS_LZ4, "lz4, two frames" },
	[ZSTD_ONE] = { COMPRESS_ZSTD, "zstd" },
	[ZSTD_TWO] = { COMPRESS_ZSTD, "zstd, two frames" },
};

#define XERIAL_BLOCK_BYTES (32u << 10)

static void gzip_append(const uint8_t *src, size_t n, struct wbuf *out)
{
	z_stream zs;

	memset(&zs, 0, sizeof zs);
	ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	size_t bound = deflateBound(&zs, (uLong)n);
	ck_assert(wbuf_reserve(out, bound));
	zs.next_in = src;
	zs.avail_in = (uInt)n;
	zs.next_out = out->data + out->len;
	zs.avail_out = (uInt)bound;
	ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	out->len += bound - zs.avail_out;
	deflateEnd(&zs);
}

static void snappy_raw_append(const uint8_t *src, size_t n, struct wbuf *out)
{
	size_t got = snappy_max_compressed_length(n);

	ck_assert(wbuf_reserve(out, got));
	ck_assert_int_eq(snappy_compress((const char *)src, n, (char *)out->data + out->len, &got),
			 SNAPPY_OK);
	out->len += got;
}

static void snappy_xerial_append(const uint8_t *src, size_t n, struct wbuf *out)
{
	static const uint8_t magic[8] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0 };

	wbuf_put(out, magic, sizeof magic);
	wbuf_be32(out, 1); /* version */
	wbuf_be32(out, 1); /* minimum compatible version */
	for (size_t pos = 0; pos < n; pos += XERIAL_BLOCK_BYTES) {
		size_t chunk = n - pos < XERIAL_BLOCK_BYTES ? n - pos : XERIAL_BLOCK_BYTES;
		size_t at = out->len;
		wbuf_be32(out, 0); /* the length, patched below */
		snappy_raw_append(src + pos, chunk, out);
		be32_put(out->data + at, (uint32_t)(out->len - at - 4));
	}
	ck_assert(!out->oom);
}

static void lz4_append(const uint8_t *src, size_t n, bool checksums, struct wbuf *out)
{
	LZ4F_preferences_t prefs;

	memset(&prefs, 0, sizeof prefs);
	if (checksums) {
		prefs.frameInfo.blockSizeID = LZ4F_max64KB;
		prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
		prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
		prefs.frameInfo.contentSize = n;
	}
	size_t bound = LZ4F_compressFrameBound(n, &prefs);
	ck_assert(wbuf_reserve(out, bound));
	size_t got = LZ4F_compressFrame(out->data + out->len, bound, src, n, &prefs);
	ck_assert_msg(!LZ4F_isError(got), "%s", LZ4F_getErrorName(got));
	out->len += got;
}

static void zstd_append(const uint8_t *src, size_t n, struct wbuf *out)
{
	size_t bound = ZSTD_compressBound(n);

	ck_assert(wbuf_reserve(out, bound));
	size_t got = ZSTD_compress(out->data + out->len, bound, src, n, 3);
	ck_assert_msg(!ZSTD_isError(got), "%s", ZSTD_getErrorName(got));
	out->len += got;
}

/* Appends `n` bytes at `src` compressed in framing `f` to `out`. */
static void compress_append(enum framing f, const uint8_t *src, size_t n, struct wbuf *out)
{
	size_t half = n / 2;

	switch (f) {
	case GZIP_ONE:
		gzip_append(src, n, out);
		break;
	case GZIP_TWO:
		gzip_append(src, half, out);
		gzip_append(src + half, n - half, out);
		break;
	case SNAPPY_RAW:
		snappy_raw_append(src, n, out);
		break;
	case SNAPPY_XERIAL:
		snappy_xerial_append(src, n, out);
		break;
	case LZ4_PLAIN:
		lz4_append(src, n, false, out);
		break;
	case LZ4_CHECKSUMS:
		lz4_append(src, n, true, out);
		break;
	case LZ4_TWO:
		lz4_append(src, half, false, out);
		lz4_append(src + half, n - half, true, out);
		break;
	case ZSTD_ONE:
		zstd_append(src, n, out);
		break;
	case ZSTD_TWO:
		zstd_append(src, half, out);
		zstd_append(src + half, n - half, out);
		break;
	default:
		ck_abort_msg("framing %d", (int)f);
	}
	ck_assert(!out->oom);
}

/* ---- batches ---- */

/* Builds into `w` an uncompressed batch of `count` records: keys "key-<i>" (null every 7th),
 * values of 0 to 300 bytes of text (null every 11th), a header on every 5th record, timestamps
 * 1000 + 3 i, BaseOffset 100, leader epoch 7 and a producer id, so every header field is set. */
static void build_plain(struct wbuf *w, int32_t count)
{
	static const struct records_header hdrs[2] = {
		{ { (const uint8_t *)"trace", 5 }, { (const uint8_t *)"abc", 3 } },
		{ { (const uint8_t *)"none", 4 }, { NULL, -1 } },
	};
	struct records_batch_params bp;
	struct records_new *recs = calloc((size_t)count, sizeof *recs);
	char *text = malloc((size_t)count * 320);

	ck_assert(recs != NULL && text != NULL);
	records_batch_params_default(&bp);
	bp.base_offset = 100;
	bp.partition_leader_epoch = 7;
	bp.producer_id = 4242;
	bp.producer_epoch = 3;
	bp.base_sequence = 17;
	for (int32_t i = 0; i < count; i++) {
		char *k = text + (size_t)i * 320;
		char *v = k + 20;
		int kl = snprintf(k, 20, "key-%d", i);
		int vl = (int)((uint32_t)i * 37u % 301u);
		for (int j = 0; j < vl; j++)
			v[j] = (char)('a' + (i + j * 3) % 26);
		recs[i].timestamp = 1000 + 3 * (int64_t)i;
		recs[i].key = i % 7 == 3 ? (struct kafka_bytes){ NULL, -1 } :
					   (struct kafka_bytes){ (const uint8_t *)k, kl };
		recs[i].value = i % 11 == 5 ? (struct kafka_bytes){ NULL, -1 } :
					      (struct kafka_bytes){ (const uint8_t *)v, vl };
		recs[i].headers_count = i % 5 == 0 ? 2 : 0;
		recs[i].headers = hdrs;
	}
	wbuf_init(w);
	ck_assert_int_eq(records_build(w, &bp, recs, count), 0);
	free(text);
	free(recs);
}

/* Builds into `out` the batch `plain` with its records section replaced by `blob` (`blob_bytes`)
 * and the codec bits of `codec`, with BatchLength and CRC to match, as a producer sends it. */
static void build_with_blob(const struct wbuf *plain, int codec, const uint8_t *blob,
			    size_t blob_bytes, struct wbuf *out)
{
	wbuf_init(out);
	wbuf_put(out, plain->data, BATCH_HEADER_BYTES);
	wbuf_put(out, blob, blob_bytes);
	ck_assert(!out->oom);
	uint16_t attrs = be16_get(out->data + BATCH_CRC_START);
	attrs = (uint16_t)((attrs & ~BATCH_ATTR_COMPRESSION_MASK) | codec);
	be16_put(out->data + BATCH_CRC_START, attrs);
	be32_put(out->data + BATCH_LENGTH_OFFSET, (uint32_t)(out->len - BATCH_LOG_OVERHEAD));
	batch_set_crc(out->data, out->len);
}

/* Builds into `out` the batch `plain` compressed in framing `f`; the blob alone goes to `blob`
 * when it is not NULL. */
static void build_compressed(const struct wbuf *plain, enum framing f, struct wbuf *out,
			     struct wbuf *blob)
{
	struct wbuf b;

	wbuf_init(&b);
	compress_append(f, plain->data + BATCH_HEADER_BYTES, plain->len - BATCH_HEADER_BYTES, &b);
	build_with_blob(plain, framings[f].codec, b.data, b.len, out);
	if (blob != NULL)
		*blob = b;
	else
		wbuf_free(&b);
}

static bool bytes_eq(struct kafka_bytes a, struct kafka_bytes b)
{
	return a.len == b.len && (a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}

/* Asserts that the batches at `want` and `got` hold the same records, field by field. */
static void check_same_records(const uint8_t *want, size_t want_bytes, const uint8_t *got,
			       size_t got_bytes, const char *what)
{
	struct records_iter a, b;
	struct records_record ra, rb;
	int i = 0, rc;

	ck_assert_int_eq(records_iter_init(&a, want, want_bytes), 0);
	ck_assert_msg(records_iter_init(&b, got, got_bytes) == 0, "%s: iter_init", what);
	while ((rc = records_iter_next(&a, &ra)) == 1) {
		ck_assert_msg(records_iter_next(&b, &rb) == 1, "%s: record %d missing", what, i);
		ck_assert_msg(ra.offset == rb.offset && ra.timestamp == rb.timestamp &&
				      ra.attributes == rb.attributes &&
				      ra.headers_count == rb.headers_count,
			      "%s: record %d differs", what, i);
		ck_assert_msg(bytes_eq(ra.key, rb.key), "%s: record %d key", what, i);
		ck_assert_msg(bytes_eq(ra.value, rb.value), "%s: record %d value", what, i);
		ck_assert_msg(ra.headers_bytes == rb.headers_bytes &&
				      memcmp(ra.headers, rb.headers, ra.headers_bytes) == 0,
			      "%s: record %d headers", what, i);
		i++;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(records_iter_next(&b, &rb) == 0, "%s: extra records", what);
	ck_assert_msg(b.p == b.end, "%s: bytes after the last record", what);
	ck_assert_int_eq(i, a.h.record_count);
}

/* Inflates `batch` and, when that succeeds, walks its records until the end or an error: what a
 * reader of a corrupt batch does. Returns the inflate result. */
static int inflate_and_walk(const uint8_t *batch, size_t n, size_t out_bytes_max)
{
	struct buf *out = (struct buf *)1; /* must be overwritten */
	struct records_iter it;
	struct records_record rec;
	errmsg_t msg = "";

	int rc = compress_inflate_batch(batch, n, out_bytes_max, &out, msg);
	if (rc != 0) {
		ck_assert_ptr_null(out);
		ck_assert_msg(msg[0] != '\0', "rc %d without a message", rc);
		return rc;
	}
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_le(out->len, out_bytes_max);
	if (records_iter_init(&it, out->data, out->len) == 0) {
		int32_t seen = 0;
		while (records_iter_next(&it, &rec) == 1)
			seen++;
		ck_assert_int_le(seen, it.h.record_count);
	}
	buf_unref(out);
	return 0;
}

/* ---- roundtrip ---- */

/* Every framing of batches of 1, 40 and 3,000 records (the last spans several LZ4 and xerial
 * blocks and several output growth steps) inflates to a batch whose header matches the original
 * apart from the codec bits and BatchLength, and whose records equal the original's. */
START_TEST(test_compress_every_framing_inflates_to_the_same_records)
{
	static const int32_t counts[] = { 1, 40, 3000 };

	for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
		struct wbuf plain;
		build_plain(&plain, counts[c]);
		for (int f = 0; f < FRAMINGS; f++) {
			struct wbuf comp;
			struct buf *out = NULL;
			struct batch_header hp, hc, ho;
			struct records_iter it;
			errmsg_t msg = "";
			char what[80];

			snprintf(what, sizeof what, "%s, %d records", framings[f].name, counts[c]);
			build_compressed(&plain, (enum framing)f, &comp, NULL);
			ck_assert_int_eq(records_iter_init(&it, comp.data, comp.len),
					 SLUICE_EINVAL);
			ck_assert(batch_crc_ok(comp.data, comp.len));
			int rc = compress_inflate_batch(comp.data, comp.len, TEST_OUT_BYTES_MAX,
							&out, msg);
			ck_assert_msg(rc == 0, "%s: %s (%s)", what, err_name(rc), msg);
			ck_assert_uint_eq(out->len, plain.len);
			ck_assert_int_eq(batch_header_decode(plain.data, plain.len, &hp), 0);
			ck_assert_int_eq(batch_header_decode(comp.data, comp.len, &hc), 0);
			ck_assert_int_eq(batch_header_decode(out->data, out->len, &ho), 0);
			ck_assert_int_eq(hc.attributes & BATCH_ATTR_COMPRESSION_MASK,
					 framings[f].codec);
			ck_assert_int_eq(ho.attributes, hp.attributes);
			ck_assert_int_eq(ho.batch_length, hp.batch_length);
			ck_assert_uint_eq(ho.crc, hc.crc); /* documented: not recomputed */
			ck_assert_int_eq(ho.base_offset, 100);
			ck_assert_int_eq(ho.partition_leader_epoch, 7);
			ck_assert_int_eq(ho.producer_id, 4242);
			ck_assert_int_eq(ho.producer_epoch, 3);
			ck_assert_int_eq(ho.base_sequence, 17);
			ck_assert_int_eq(ho.record_count, counts[c]);
			ck_assert_int_eq(ho.base_timestamp, hp.base_timestamp);
			ck_assert_int_eq(ho.max_timestamp, hp.max_timestamp);
			/* Apart from the CRC, the bytes are exactly the uncompressed batch's. */
			ck_assert_int_eq(memcmp(out->data, plain.data, 17), 0);
			ck_assert_int_eq(memcmp(out->data + BATCH_CRC_START,
						plain.data + BATCH_CRC_START,
						plain.len - BATCH_CRC_START),
					 0);
			check_same_records(plain.data, plain.len, out->data, out->len, what);
			buf_unref(out);
			wbuf_free(&comp);
		}
		wbuf_free(&plain);
	}
}
END_TEST

/* An uncompressed batch comes back as a byte-for-byte copy, and a batch followed by other bytes
 * (the next batch of a log read) is inflated alone. */
START_TEST(test_compress_uncompressed_batch_is_copied_and_trailing_bytes_ignored)
{
	struct wbuf plain, comp;
	struct buf *out = NULL;
	errmsg_t msg = "";

	build_plain(&plain, 5);
	ck_assert_int_eq(
		compress_inflate_batch(plain.data, plain.len, TEST_OUT_BYTES_MAX, &out, msg), 0);
	ck_assert_uint_eq(out->len, plain.len);
	ck_assert_int_eq(memcmp(out->data, plain.data, plain.len), 0);
	buf_unref(out);

	build_compressed(&plain, ZSTD_ONE, &comp, NULL);
	size_t one = comp.len;
	wbuf_put(&comp, plain.data, plain.len); /* another batch after it */
	ck_assert_int_eq(compress_inflate_batch(comp.data, comp.len, TEST_OUT_BYTES_MAX, &out, msg),
			 0);
	check_same_records(plain.data, plain.len, out->data, out->len, "zstd + next batch");
	ck_assert_uint_lt(one, comp.len);
	buf_unref(out);
	wbuf_free(&comp);
	wbuf_free(&plain);
}
END_TEST

/* compress_inflate appends after what the writer already holds, and on failure leaves it as it
 * was. */
START_TEST(test_compress_inflate_appends_and_restores_on_failure)
{
	static const uint8_t text[] = "a short text that compresses a short text that compresses";
	struct wbuf blob, w;
	errmsg_t msg = "";

	for (int f = 0; f < FRAMINGS; f++) {
		wbuf_init(&blob);
		compress_append((enum framing)f, text, sizeof text, &blob);
		wbuf_init(&w);
		wbuf_put(&w, "xyz", 3);
		ck_assert_int_eq(
			compress_inflate(framings[f].codec, blob.data, blob.len, 1000, &w, msg), 0);
		ck_assert_uint_eq(w.len, 3 + sizeof text);
		ck_assert_int_eq(memcmp(w.data, "xyz", 3), 0);
		ck_assert_int_eq(memcmp(w.data + 3, text, sizeof text), 0);
		/* One byte short of the output: refused, and the writer keeps its 3 + text bytes. */
		ck_assert_int_eq(compress_inflate(framings[f].codec, blob.data, blob.len,
						  sizeof text - 1, &w, msg),
				 SLUICE_ETOOLARGE);
		ck_assert_uint_eq(w.len, 3 + sizeof text);
		ck_assert_int_eq(compress_inflate(framings[f].codec, blob.data, blob.len - 1, 1000,
						  &w, msg),
				 SLUICE_EMALFORMED);
		ck_assert_uint_eq(w.len, 3 + sizeof text);
		wbuf_free(&w);
		wbuf_free(&blob);
	}
}
END_TEST

/* ---- errors ---- */

/* Codec ids 5-7, a header that does not decode and a batch longer than the bytes given are
 * malformed. */
START_TEST(test_compress_unknown_codec_and_bad_header_are_malformed)
{
	struct wbuf plain, comp;
	struct buf *out = NULL;
	errmsg_t msg = "";

	build_plain(&plain, 3);
	for (int codec = 5; codec <= 7; codec++) {
		build_with_blob(&plain, codec, plain.data + BATCH_HEADER_BYTES,
				plain.len - BATCH_HEADER_BYTES, &comp);
		ck_assert_int_eq(compress_inflate_batch(comp.data, comp.len, TEST_OUT_BYTES_MAX,
							&out, msg),
				 SLUICE_EMALFORMED);
		ck_assert_ptr_null(out);
		ck_assert_ptr_nonnull(strstr(msg, "unknown compression codec"));
		wbuf_free(&comp);
	}
	build_compressed(&plain, GZIP_ONE, &comp, NULL);
	ck_assert_int_eq(compress_inflate_batch(comp.data, BATCH_HEADER_BYTES - 1,
						TEST_OUT_BYTES_MAX, &out, msg),
			 SLUICE_EMALFORMED);
	ck_assert_int_eq(compress_inflate_batch(comp.data, comp.len - 1, TEST_OUT_BYTES_MAX, &out,
						msg),
			 SLUICE_EMALFORMED);
	comp.data[16] = 1; /* magic 1 */
	ck_assert_int_eq(compress_inflate_batch(comp.data, comp.len, TEST_OUT_BYTES_MAX, &out, msg),
			 SLUICE_EMALFORMED);
	ck_assert_ptr_null(out);
	wbuf_free(&comp);
	wbuf_free(&plain);
}
END_TEST

/* For every codec, an empty blob and a blob of plain text are malformed. */
START_TEST(test_compress_empty_and_garbage_blobs_are_malformed)
{
	static const char garbage[] = "this is not compressed at all, not in any format";
	struct wbuf plain, comp;
	errmsg_t msg = "";

	build_plain(&plain, 2);
	for (int codec = COMPRESS_GZIP; codec <= COMPRESS_ZSTD; codec++) {
		build_with_blob(&plain, codec, NULL, 0, &comp);
		ck_assert_msg(inflate_and_walk(comp.data, comp.len, TEST_OUT_BYTES_MAX) ==
				      SLUICE_EMALFORMED,
			      "%s: empty", compress_codec_name(codec));
		wbuf_free(&comp);
		build_with_blob(&plain, codec, (const uint8_t *)garbage, sizeof garbage, &comp);
		ck_assert_msg(inflate_and_walk(comp.data, comp.len, TEST_OUT_BYTES_MAX) ==
				      SLUICE_EMALFORMED,
			      "%s: garbage", compress_codec_name(codec));
		wbuf_free(&comp);
		ck_assert_int_eq(compress_inflate(codec, NULL, 0, 100, &comp, msg),
				 SLUICE_EMALFORMED);
		wbuf_free(&comp);
	}
	wbuf_free(&plain);
}
END_TEST

/* Every byte of a small compressed batch, header included, flipped in three ways: inflating
 * either fails with SLUICE_EMALFORMED / SLUICE_ETOOLARGE or yields a batch whose records can be
 * walked; nothing crashes or reads out of bounds (ASan). An LZ4 frame with header, block and
 * content checksums must reject every change to its blob. */
START_TEST(test_compress_every_corrupted_byte_fails_cleanly)
{
	static const uint8_t flips[] = { 0x01, 0x80, 0xff };
	struct wbuf plain;

	build_plain(&plain, 4);
	for (int f = 0; f < FRAMINGS; f++) {
		struct wbuf comp;
		build_compressed(&plain, (enum framing)f, &comp, NULL);
		for (size_t i = 0; i < comp.len; i++) {
			for (size_t k = 0; k < sizeof flips; k++) {
				comp.data[i] ^= flips[k];
				int rc = inflate_and_walk(comp.data, comp.len, 1u << 20);
				comp.data[i] ^= flips[k];
				ck_assert_msg(rc == 0 || rc == SLUICE_EMALFORMED ||
						      rc == SLUICE_ETOOLARGE,
					      "%s: byte %zu ^ 0x%02x: %s", framings[f].name, i,
					      flips[k], err_name(rc));
				/* A frame with checksums over its header, every block and the
				 * content rejects any change to the blob. */
				if (f == LZ4_CHECKSUMS && i >= BATCH_HEADER_BYTES)
					ck_assert_msg(rc != 0,
						      "%s: blob byte %zu ^ 0x%02x accepted",
						      framings[f].name, i - BATCH_HEADER_BYTES,
						      flips[k]);
			}
		}
		wbuf_free(&comp);
	}
	wbuf_free(&plain);
}
END_TEST

/* The bytes of the first of two members or frames in framing `f`, where a cut leaves a valid
 * shorter stream; 16 (the header alone, no blocks) for xerial; 0 for the others. */
static size_t valid_cut_bytes(enum framing f, const struct wbuf *plain)
{
	const uint8_t *records = plain->data + BATCH_HEADER_BYTES;
	size_t half = (plain->len - BATCH_HEADER_BYTES) / 2;
	struct wbuf first;
	size_t n;

	wbuf_init(&first);
	switch (f) {
	case GZIP_TWO:
		compress_append(GZIP_ONE, records, half, &first);
		break;
	case LZ4_TWO:
		compress_append(LZ4_PLAIN, records, half, &first);
		break;
	case ZSTD_TWO:
		compress_append(ZSTD_ONE, records, half, &first);
		break;
	case SNAPPY_XERIAL:
		wbuf_free(&first);
		return 16;
	default:
		break;
	}
	n = first.len;
	wbuf_free(&first);
	return n;
}

/* Every truncation of the compressed blob (with BatchLength and CRC fixed to match, as a
 * producer could send it) is malformed. The exceptions are cuts between two members or frames,
 * or after a xerial header: those are valid shorter streams that inflate to fewer records bytes
 * (whose walk then fails). */
START_TEST(test_compress_every_truncation_is_malformed)
{
	struct wbuf plain;

	build_plain(&plain, 4);
	for (int f = 0; f < FRAMINGS; f++) {
		struct wbuf comp, blob;
		size_t valid_cut = valid_cut_bytes((enum framing)f, &plain);
		build_compressed(&plain, (enum framing)f, &comp, &blob);
		for (size_t cut = 0; cut < blob.len; cut++) {
			struct wbuf part;
			build_with_blob(&plain, framings[f].codec, blob.data, cut, &part);
			int rc = inflate_and_walk(part.data, part.len, 1u << 20);
			if (valid_cut != 0 && cut == valid_cut)
				ck_assert_msg(rc == 0, "%s cut at %zu: %s", framings[f].name, cut,
					      err_name(rc));
			else
				ck_assert_msg(rc == SLUICE_EMALFORMED, "%s cut at %zu of %zu: %s",
					      framings[f].name, cut, blob.len, err_name(rc));
			wbuf_free(&part);
		}
		/* The batch itself cut short (BatchLength not fixed) is malformed too. */
		for (size_t cut = 0; cut < comp.len; cut++)
			ck_assert_int_eq(inflate_and_walk(comp.data, cut, 1u << 20),
					 SLUICE_EMALFORMED);
		wbuf_free(&blob);
		wbuf_free(&comp);
	}
	wbuf_free(&plain);
}
END_TEST

/* ---- bounds ---- */

/* 16 MiB of zeros compresses to a few KiB in every framing (a decompression bomb): with a 1 MiB
 * bound every one is refused with SLUICE_ETOOLARGE; a bound exactly the size of the result is
 * enough, and one byte less is not. */
START_TEST(test_compress_bomb_beyond_bound_is_too_large)
{
	const size_t zeros_bytes = (size_t)16 << 20;
	uint8_t *zeros = calloc(1, zeros_bytes);
	struct wbuf plain;

	ck_assert_ptr_nonnull(zeros);
	build_plain(&plain, 1);
	for (int f = 0; f < FRAMINGS; f++) {
		struct wbuf blob, comp;
		struct buf *out = NULL;
		errmsg_t msg = "";

		wbuf_init(&blob);
		compress_append((enum framing)f, zeros, zeros_bytes, &blob);
		ck_assert_uint_lt(blob.len, zeros_bytes / 16);
		build_with_blob(&plain, framings[f].codec, blob.data, blob.len, &comp);
		int rc = compress_inflate_batch(comp.data, comp.len, 1u << 20, &out, msg);
		ck_assert_msg(rc == SLUICE_ETOOLARGE, "%s: %s (%s)", framings[f].name, err_name(rc),
			      msg);
		ck_assert_ptr_null(out);
		size_t exact = BATCH_HEADER_BYTES + zeros_bytes;
		ck_assert_int_eq(compress_inflate_batch(comp.data, comp.len, exact - 1, &out, msg),
				 SLUICE_ETOOLARGE);
		rc = compress_inflate_batch(comp.data, comp.len, exact, &out, msg);
		ck_assert_msg(rc == 0, "%s: %s (%s)", framings[f].name, err_name(rc), msg);
		ck_assert_uint_eq(out->len, exact);
		ck_assert_int_eq(be32_get(out->data + BATCH_LENGTH_OFFSET), exact - 12);
		ck_assert_int_eq(memcmp(out->data + BATCH_HEADER_BYTES, zeros, zeros_bytes), 0);
		buf_unref(out);
		/* A bound below the header itself. */
		ck_assert_int_eq(compress_inflate_batch(comp.data, comp.len, 60, &out, msg),
				 SLUICE_ETOOLARGE);
		wbuf_free(&comp);
		wbuf_free(&blob);
	}
	wbuf_free(&plain);
	free(zeros);
}
END_TEST

/* A raw snappy block that claims 4 GiB in its length preamble is refused from the claim, before
 * anything is allocated or decoded. */
START_TEST(test_compress_snappy_claimed_length_beyond_bound_is_too_large)
{
	/* varint 0xffffffff, then a literal tag and some bytes */
	static const uint8_t blob[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0c, 'a', 'b', 'c', 'd' };
	struct wbuf plain, comp;

	build_plain(&plain, 1);
	build_with_blob(&plain, COMPRESS_SNAPPY, blob, sizeof blob, &comp);
	ck_assert_int_eq(inflate_and_walk(comp.data, comp.len, TEST_OUT_BYTES_MAX),
			 SLUICE_ETOOLARGE);
	wbuf_free(&comp);
	wbuf_free(&plain);
}
END_TEST

/* A zstd frame of unknown content size whose window is 128 MiB (what a streaming compressor at a
 * high level writes) is refused when the bound is 1 MiB rather than costing a 128 MiB window; a
 * bound of 128 MiB accepts it. */
START_TEST(test_compress_zstd_window_beyond_bound_is_too_large)
{
	static const uint8_t text[] = "a small zstd frame with a very large window";
	struct wbuf plain, blob, comp;
	errmsg_t msg = "";

	build_plain(&plain, 1);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	ck_assert_ptr_nonnull(cctx);
	ck_assert(!ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 27)));
	wbuf_init(&blob);
	ck_assert(wbuf_reserve(&blob, 1024));
	ZSTD_inBuffer in = { text, sizeof text, 0 };
	ZSTD_outBuffer o = { blob.data, blob.cap, 0 };
	/* continue first, so that the compressor does not learn the content size */
	ck_assert(!ZSTD_isError(ZSTD_compressStream2(cctx, &o, &in, ZSTD_e_continue)));
	size_t left;
	do {
		left = ZSTD_compressStream2(cctx, &o, &in, ZSTD_e_end);
		ck_assert(!ZSTD_isError(left));
	} while (left != 0);
	blob.len = o.pos;
	ZSTD_freeCCtx(cctx);
	ck_assert_uint_eq(ZSTD_getFrameContentSize(blob.data, blob.len), ZSTD_CONTENTSIZE_UNKNOWN);

	build_with_blob(&plain, COMPRESS_ZSTD, blob.data, blob.len, &comp);
	wbuf_free(&blob);
	ck_assert_int_eq(inflate_and_walk(comp.data, comp.len, 1u << 20), SLUICE_ETOOLARGE);
	struct wbuf w;
	wbuf_init(&w);
	ck_assert_int_eq(compress_inflate(COMPRESS_ZSTD, comp.data + BATCH_HEADER_BYTES,
					  comp.len - BATCH_HEADER_BYTES, (size_t)128 << 20, &w,
					  msg),
			 0);
	ck_assert_uint_eq(w.len, sizeof text);
	ck_assert_int_eq(memcmp(w.data, text, sizeof text), 0);
	wbuf_free(&w);
	wbuf_free(&comp);
	wbuf_free(&plain);
}
END_TEST

static Suite *compress_suite(void)
{
	Suite *s = suite_create("compress");
	TCase *tc;

	tc = tcase_create("roundtrip");
	tcase_add_test(tc, test_compress_every_framing_inflates_to_the_same_records);
	tcase_add_test(tc, test_compress_uncompressed_batch_is_copied_and_trailing_bytes_ignored);
	tcase_add_test(tc, test_compress_inflate_appends_and_restores_on_failure);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_compress_unknown_codec_and_bad_header_are_malformed);
	tcase_add_test(tc, test_compress_empty_and_garbage_blobs_are_malformed);
	tcase_add_test(tc, test_compress_every_corrupted_byte_fails_cleanly);
	tcase_add_test(tc, test_compress_every_truncation_is_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("bounds");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_compress_bomb_beyond_bound_is_too_large);
	tcase_add_test(tc, test_compress_snappy_claimed_length_beyond_bound_is_too_large);
	tcase_add_test(tc, test_compress_zstd_window_beyond_bound_is_too_large);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(compress_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
