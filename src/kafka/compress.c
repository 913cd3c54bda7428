/*
 * compress: decompression of RecordBatch records with zlib, snappy, liblz4 and libzstd (formats,
 * contract and failure modes in compress.h).
 *
 * Happy path: compress_inflate_batch() decodes the header, copies its 61 bytes into a growing
 * wbuf, lets compress_inflate() append the decompressed records, then patches Attributes and
 * BatchLength and hands the wbuf's memory over as a struct buf without copying it.
 *
 * The streaming decoders (gzip, lz4, zstd) all run the same loop: give the library the room left
 * in the output, append what it wrote, stop when the stream is complete and the input used up.
 * Snappy states its decompressed length up front, which is checked against the bound before
 * anything is allocated.
 *
 * Invariants:
 *   1. Output never grows past the bound plus one byte: out_room() offers room only up to
 *      `len_stop` = start + out_bytes_max + 1, and the extra byte is how a streaming decoder shows
 *      that more output follows (SLUICE_ETOOLARGE) without our having to guess.
 *   2. Every loop iteration consumes input or produces output, or ends the loop with an error; so
 *      each loop runs at most (input bytes + output bound + 1) times and corrupt input cannot spin.
 *   3. Nothing read from `src` is asserted on; the libraries' return codes are checked on every
 *      call, and the claimed sizes in frames (snappy's length, xerial block lengths) are checked
 *      against the input and the bound before they are used.
 *   4. Decoder memory is bounded too: zstd's window is limited (ZSTD_d_windowLogMax) to the
 *      output bound, though never below 8 MiB, so a frame cannot make the decoder allocate
 *      128 MiB for a few bytes of output; zlib and lz4 need at most 32 KiB and ~4 MiB.
 */
#define ZLIB_CONST

#include "kafka/compress.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "base/codec.h"
#include "storage/batch.h"

/* The first step of output growth; after it the output doubles (wbuf), so a 64 MiB result costs
 * about 10 reallocations, and a tiny one does not allocate megabytes. */
#define OUT_CHUNK_BYTES_MIN ((size_t)64 << 10)

/* The xerial framing's header: magic, version, minimum compatible version. */
#define XERIAL_HEADER_BYTES 16
static const uint8_t xerial_magic[8] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0 };

/* zstd windows allowed whatever the output bound: 8 MiB (log 23) covers zstd-jni's streaming
 * frames up to level 18, and decoder memory stays small next to a 64 MiB bound. The ceiling 27 is
 * zstd's own default limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT, 128 MiB). */
#define ZSTD_WINDOW_LOG_MIN 23
#define ZSTD_WINDOW_LOG_MAX 27

/* Attributes is the first field the CRC covers (storage/batch.h). */
#define ATTRIBUTES_OFFSET BATCH_CRC_START

_Static_assert(XERIAL_HEADER_BYTES >= sizeof xerial_magic, "xerial header holds the magic");
_Static_assert(COMPRESS_BATCH_BYTES_MAX > BATCH_HEADER_BYTES, "a batch bound fits a header");

const char *compress_codec_name(int codec)
{
	switch (codec) {
	case COMPRESS_NONE:
		return "none";
	case COMPRESS_GZIP:
		return "gzip";
	case COMPRESS_SNAPPY:
		return "snappy";
	case COMPRESS_LZ4:
		return "lz4";
	case COMPRESS_ZSTD:
		return "zstd";
	default:
		return "unknown";
	}
}

/* Makes room for more output in `w` without letting it pass `len_stop` (invariant 1). Returns the
 * bytes of room now available after w->len (at least 1), or 0 when out of memory. */
static size_t out_room(struct wbuf *w, size_t len_stop)
{
	assert(w->len < len_stop);
	size_t left = len_stop - w->len;

	if (w->cap == w->len) {
		size_t want = w->len < OUT_CHUNK_BYTES_MIN ? OUT_CHUNK_BYTES_MIN : w->len;
		if (want > left)
			want = left;
		if (!wbuf_reserve(w, want))
			return 0;
	}
	size_t room = w->cap - w->len;
	return room < left ? room : left;
}

/* gzip (RFC 1952) with zlib; members back to back are decoded one after the other, as
 * java.util.zip.GZIPInputStream does. */
static int inflate_gzip(const uint8_t *src, size_t n, size_t len_stop, struct wbuf *w, char *errmsg)
{
	z_stream zs;
	size_t in_pos = 0;
	int rv = 0;

	memset(&zs, 0, sizeof zs);
	int zrc = inflateInit2(&zs, 16 + MAX_WBITS); /* 16: expect a gzip wrapper */
	if (zrc != Z_OK) {
		errmsg_printf(errmsg, "gzip: inflateInit2 failed (%d)", zrc);
		return zrc == Z_MEM_ERROR ? SLUICE_ENOMEM : SLUICE_EINVAL;
	}
	for (;;) {
		if (zs.avail_in == 0 && in_pos < n) {
			size_t chunk = n - in_pos < UINT_MAX ? n - in_pos : UINT_MAX;
			zs.next_in = src + in_pos;
			zs.avail_in = (uInt)chunk;
			in_pos += chunk;
		}
		size_t room = out_room(w, len_stop);
		if (room == 0) {
			rv = SLUICE_ENOMEM;
			errmsg_printf(errmsg, "gzip: out of memory for %zu bytes of output",
				      w->len);
			goto out_end;
		}
		if (room > UINT_MAX)
			room = UINT_MAX;
		zs.next_out = w->data + w->len;
		zs.avail_out = (uInt)room;
		zrc = inflate(&zs, Z_NO_FLUSH);
		w->len += room - zs.avail_out;
		if (w->len >= len_stop) {
			rv = SLUICE_ETOOLARGE;
			errmsg_printf(errmsg, "gzip: output exceeds the bound");
			goto out_end;
		}
		if (zrc == Z_STREAM_END) {
			if (zs.avail_in == 0 && in_pos == n)
				break;
			/* Another member follows; a header that does not parse fails below. */
			zrc = inflateReset(&zs);
			if (zrc != Z_OK) {
				rv = SLUICE_EINVAL;
				errmsg_printf(errmsg, "gzip: inflateReset failed (%d)", zrc);
				goto out_end;
			}
			continue;
		}
		if (zrc == Z_OK)
			continue;
		if (zrc == Z_MEM_ERROR) {
			rv = SLUICE_ENOMEM;
			errmsg_printf(errmsg, "gzip: out of memory");
			goto out_end;
		}
		/* Z_BUF_ERROR with room left means no input is left: the stream is truncated.
		 * Z_DATA_ERROR, Z_NEED_DICT and Z_STREAM_ERROR are corrupt input. */
		rv = SLUICE_EMALFORMED;
		if (zrc == Z_BUF_ERROR)
			errmsg_printf(errmsg, "gzip: truncated stream after %zu bytes", n);
		else
			errmsg_printf(errmsg, "gzip: %s at input byte %zu",
				      zs.msg != NULL ? zs.msg : "corrupt stream",
				      in_pos - zs.avail_in);
		goto out_end;
	}
out_end:
	inflateEnd(&zs);
	return rv;
}

/* One raw snappy block: its stated length is checked against the bound before allocating. */
static int inflate_snappy_raw(const uint8_t *src, size_t n, size_t len_stop, struct wbuf *w,
			      char *errmsg)
{
	size_t want;

	if (snappy_uncompressed_length((const char *)src, n, &want) != SNAPPY_OK) {
		errmsg_printf(errmsg, "snappy: bad length preamble");
		return SLUICE_EMALFORMED;
	}
	if (want >= len_stop - w->len) {
		errmsg_printf(errmsg, "snappy: block of %zu bytes exceeds the bound", want);
		return SLUICE_ETOOLARGE;
	}
	if (!wbuf_reserve(w, want)) {
		errmsg_printf(errmsg, "snappy: out of memory for %zu bytes", want);
		return SLUICE_ENOMEM;
	}
	size_t got = want;
	if (snappy_uncompress((const char *)src, n, (char *)w->data + w->len, &got) != SNAPPY_OK ||
	    got != want) {
		errmsg_printf(errmsg, "snappy: corrupt block of %zu bytes", n);
		return SLUICE_EMALFORMED;
	}
	w->len += got;
	return 0;
}

/* Snappy as Kafka clients write it: xerial-framed (Java) or raw (librdkafka may). */
static int inflate_snappy(const uint8_t *src, size_t n, size_t len_stop, struct wbuf *w,
			  char *errmsg)
{
	if (n < XERIAL_HEADER_BYTES || memcmp(src, xerial_magic, sizeof xerial_magic) != 0)
		return inflate_snappy_raw(src, n, len_stop, w, errmsg);

	size_t pos = XERIAL_HEADER_BYTES;
	while (pos < n) {
		if (n - pos < 4) {
			errmsg_printf(errmsg, "snappy: truncated xerial block length at byte %zu",
				      pos);
			return SLUICE_EMALFORMED;
		}
		uint32_t block_bytes = be32_get(src + pos);
		pos += 4;
		if (block_bytes > INT32_MAX || block_bytes > n - pos) {
			errmsg_printf(errmsg,
				      "snappy: xerial block of %" PRIu32 " bytes at byte %zu "
				      "overruns the %zu-byte blob",
				      block_bytes, pos - 4, n);
			return SLUICE_EMALFORMED;
		}
		int rc = inflate_snappy_raw(src + pos, block_bytes, len_stop, w, errmsg);
		if (rc != 0) {
			errmsg_wrapf(errmsg, "xerial block at byte %zu", pos - 4);
			return rc;
		}
		pos += block_bytes;
	}
	return 0;
}

/* LZ4 frames with liblz4's frame decoder, which checks the header checksum and, when the frame
 * has them, block and content checksums. */
static int inflate_lz4(const uint8_t *src, size_t n, size_t len_stop, struct wbuf *w, char *errmsg)
{
	LZ4F_dctx *dctx;
	size_t pos = 0;
	size_t hint = 1; /* LZ4F_decompress's "bytes expected next"; 0 once a frame is complete */
	int rv = 0;

	if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) {
		errmsg_printf(errmsg, "lz4: cannot create a decompression context");
		return SLUICE_ENOMEM;
	}
	while (hint != 0 || pos < n) {
		size_t room = out_room(w, len_stop);
		if (room == 0) {
			rv = SLUICE_ENOMEM;
			errmsg_printf(errmsg, "lz4: out of memory for %zu bytes of output", w->len);
			goto out_free;
		}
		size_t dst_bytes = room;
		size_t src_bytes = n - pos;
		hint = LZ4F_decompress(dctx, w->data + w->len, &dst_bytes, src + pos, &src_bytes,
				       NULL);
		if (LZ4F_isError(hint)) {
			rv = SLUICE_EMALFORMED;
			errmsg_printf(errmsg, "lz4: %s near input byte %zu",
				      LZ4F_getErrorName(hint), pos);
			goto out_free;
		}
		assert(dst_bytes <= room && src_bytes <= n - pos);
		pos += src_bytes;
		w->len += dst_bytes;
		if (w->len >= len_stop) {
			rv = SLUICE_ETOOLARGE;
			errmsg_printf(errmsg, "lz4: output exceeds the bound");
			goto out_free;
		}
		if (src_bytes == 0 && dst_bytes == 0) { /* invariant 2 */
			rv = SLUICE_EMALFORMED;
			errmsg_printf(errmsg, "lz4: truncated frame after %zu bytes", n);
			goto out_free;
		}
	}
out_free:
	LZ4F_freeDecompressionContext(dctx);
	return rv;
}

/* The smallest log2 of a zstd window to allow for an output bound (invariant 4). */
static int zstd_window_log(size_t bytes_max)
{
	int log = ZSTD_WINDOW_LOG_MIN;
	while (log < ZSTD_WINDOW_LOG_MAX && ((size_t)1 << log) < bytes_max)
		log++;
	return log;
}

/* zstd frames (any number, skippable ones included) with the streaming decoder. */
static int inflate_zstd(const uint8_t *src, size_t n, size_t len_stop, struct wbuf *w, char *errmsg)
{
	ZSTD_inBuffer in = { src, n, 0 };
	size_t zrc = 1; /* 0 once a frame is complete and flushed */
	int rv = 0;

	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	if (dctx == NULL) {
		errmsg_printf(errmsg, "zstd: cannot create a decompression context");
		return SLUICE_ENOMEM;
	}
	zrc = ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, zstd_window_log(len_stop - w->len));
	if (ZSTD_isError(zrc)) {
		rv = SLUICE_EINVAL;
		errmsg_printf(errmsg, "zstd: %s", ZSTD_getErrorName(zrc));
		goto out_free;
	}
	zrc = 1;
	while (zrc != 0 || in.pos < in.size) {
		size_t room = out_room(w, len_stop);
		if (room == 0) {
			rv = SLUICE_ENOMEM;
			errmsg_printf(errmsg, "zstd: out of memory for %zu bytes of output",
				      w->len);
			goto out_free;
		}
		ZSTD_outBuffer out = { w->data + w->len, room, 0 };
		size_t in_before = in.pos;
		zrc = ZSTD_decompressStream(dctx, &out, &in);
		if (ZSTD_isError(zrc)) {
			switch (ZSTD_getErrorCode(zrc)) {
			case ZSTD_error_frameParameter_windowTooLarge:
				rv = SLUICE_ETOOLARGE;
				break;
			case ZSTD_error_memory_allocation:
				rv = SLUICE_ENOMEM;
				break;
			default:
				rv = SLUICE_EMALFORMED;
				break;
			}
			errmsg_printf(errmsg, "zstd: %s near input byte %zu",
				      ZSTD_getErrorName(zrc), in_before);
			goto out_free;
		}
		assert(out.pos <= room && in.pos <= in.size);
		w->len += out.pos;
		if (w->len >= len_stop) {
			rv = SLUICE_ETOOLARGE;
			errmsg_printf(errmsg, "zstd: output exceeds the bound");
			goto out_free;
		}
		if (in.pos == in_before && out.pos == 0) { /* invariant 2 */
			rv = SLUICE_EMALFORMED;
			errmsg_printf(errmsg, "zstd: truncated frame after %zu bytes", n);
			goto out_free;
		}
	}
out_free:
	ZSTD_freeDCtx(dctx);
	return rv;
}

int compress_inflate(int codec, const uint8_t *src, size_t n, size_t out_bytes_max, struct wbuf *w,
		     char *errmsg)
{
	size_t start = w->len;
	int rc;

	assert(src != NULL || n == 0);
	if (out_bytes_max > SIZE_MAX - 1 - start)
		out_bytes_max = SIZE_MAX - 1 - start;
	size_t len_stop = start + out_bytes_max + 1;

	switch (codec) {
	case COMPRESS_GZIP:
		rc = inflate_gzip(src, n, len_stop, w, errmsg);
		break;
	case COMPRESS_SNAPPY:
		rc = inflate_snappy(src, n, len_stop, w, errmsg);
		break;
	case COMPRESS_LZ4:
		rc = inflate_lz4(src, n, len_stop, w, errmsg);
		break;
	case COMPRESS_ZSTD:
		rc = inflate_zstd(src, n, len_stop, w, errmsg);
		break;
	default:
		errmsg_printf(errmsg, "unknown compression codec %d", codec);
		return SLUICE_EMALFORMED;
	}
	if (rc != 0) {
		w->len = start;
		return rc;
	}
	assert(w->len >= start && w->len - start <= out_bytes_max);
	return 0;
}

int compress_inflate_batch(const uint8_t *batch, size_t n, size_t out_bytes_max, struct buf **out,
			   char *errmsg)
{
	struct batch_header h;
	struct wbuf w;
	int rc;

	*out = NULL;
	if (batch_header_decode(batch, n, &h) != 0) {
		errmsg_printf(errmsg, "bad RecordBatch header");
		return SLUICE_EMALFORMED;
	}
	size_t total = batch_total_bytes(&h);
	if (total > n) {
		errmsg_printf(errmsg, "batch of %zu bytes but only %zu present", total, n);
		return SLUICE_EMALFORMED;
	}
	if (out_bytes_max > COMPRESS_BATCH_BYTES_MAX)
		out_bytes_max = COMPRESS_BATCH_BYTES_MAX;
	int codec = h.attributes & BATCH_ATTR_COMPRESSION_MASK;
	if (codec == COMPRESS_NONE) {
		if (total > out_bytes_max) {
			errmsg_printf(errmsg, "batch of %zu bytes exceeds the bound of %zu", total,
				      out_bytes_max);
			return SLUICE_ETOOLARGE;
		}
		*out = buf_copy(batch, total);
		return *out != NULL ? 0 : SLUICE_ENOMEM;
	}
	if (out_bytes_max < BATCH_HEADER_BYTES) {
		errmsg_printf(errmsg, "bound of %zu bytes is below the batch header",
			      out_bytes_max);
		return SLUICE_ETOOLARGE;
	}

	wbuf_init(&w);
	wbuf_put(&w, batch, BATCH_HEADER_BYTES);
	if (w.oom) {
		rc = SLUICE_ENOMEM;
		goto err_after_init;
	}
	rc = compress_inflate(codec, batch + BATCH_HEADER_BYTES, total - BATCH_HEADER_BYTES,
			      out_bytes_max - BATCH_HEADER_BYTES, &w, errmsg);
	if (rc != 0) {
		errmsg_wrapf(errmsg, "%s batch at offset %" PRId64, compress_codec_name(codec),
			     h.base_offset);
		goto err_after_init;
	}
	assert(w.len >= BATCH_HEADER_BYTES && w.len <= out_bytes_max);
	/* BatchLength counts the bytes after itself; out_bytes_max <= COMPRESS_BATCH_BYTES_MAX keeps
	 * it within int32. The CRC is left as it was (see compress.h). */
	be32_put(w.data + BATCH_LENGTH_OFFSET, (uint32_t)(w.len - BATCH_LOG_OVERHEAD));
	be16_put(w.data + ATTRIBUTES_OFFSET,
		 (uint16_t)((uint16_t)h.attributes & ~(uint16_t)BATCH_ATTR_COMPRESSION_MASK));
	*out = wbuf_take(&w);
	if (*out == NULL) {
		rc = SLUICE_ENOMEM;
		goto err_after_init;
	}
	return 0;

err_after_init:
	wbuf_free(&w);
	return rc;
}
