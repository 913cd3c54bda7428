/*
 * compress: inflating the records of compressed RecordBatch v2 batches, so that the broker can
 * read what producers compressed (ListOffsets by timestamp looks at record timestamps inside a
 * batch, as Apache Kafka does). Pure: no I/O; the only allocations are the output and the codec
 * libraries' own state.
 *
 * Codecs (Attributes bits 0-2; the wire formats Kafka's clients write, kafka-notes §2):
 *
 *   id codec   format of the blob that follows RecordCount
 *   1  gzip    a gzip stream (RFC 1952); several members back to back are read as one
 *   2  snappy  xerial framing as the Java client writes it, or raw snappy as librdkafka may:
 *                offset size meaning (xerial)
 *                0      8    magic "\x82SNAPPY\0"
 *                8      4    version (ignored)
 *                12     4    minimum compatible version (ignored)
 *                16     ...  blocks: int32 length (big-endian), then that many bytes of raw snappy
 *              Raw snappy cannot begin with that magic (its first element would have to be a copy
 *              with nothing to copy from), so the magic decides which one the blob is.
 *   3  lz4     LZ4 frames (magic 0x184D2204) with a correct header checksum; the KAFKA-3160
 *              broken checksum exists only for magic 0, which Sluice does not accept
 *   4  zstd    zstd frames (and skippable frames)
 *
 * Failure modes, all returned, never asserted: a blob that does not decode (corrupt, truncated,
 * trailing bytes that are not another frame or member, an unknown codec id) is SLUICE_EMALFORMED;
 * output beyond the caller's bound is SLUICE_ETOOLARGE, detected while decoding so a decompression
 * bomb costs at most the bound (plus the doubling slack of the growing buffer) and never the size
 * it claims; allocation failure is SLUICE_ENOMEM. The records themselves are not parsed here:
 * records_iter_next() rejects records that do not parse.
 */
#ifndef SLUICE_KAFKA_COMPRESS_H
#define SLUICE_KAFKA_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* Attributes bits 0-2 of a RecordBatch (CompressionType.java ids). */
enum compress_codec {
	COMPRESS_NONE = 0,
	COMPRESS_GZIP = 1,
	COMPRESS_SNAPPY = 2,
	COMPRESS_LZ4 = 3,
	COMPRESS_ZSTD = 4,
};

/* The largest batch compress_inflate_batch() can return: BatchLength is an int32. A larger
 * out_bytes_max is treated as this. */
#define COMPRESS_BATCH_BYTES_MAX ((size_t)12 + (size_t)INT32_MAX)

/* Returns the codec's name ("gzip"), or "unknown" for an id outside the table. */
const char *compress_codec_name(int codec);

/* Decompresses the `n` bytes at `src`, compressed with `codec`, appending the result to `w`.
 * Appends at most `out_bytes_max` bytes. Returns 0; SLUICE_ETOOLARGE when the output would exceed
 * `out_bytes_max`; SLUICE_EMALFORMED when `src` does not decode or `codec` is not one of gzip,
 * snappy, lz4 or zstd; SLUICE_ENOMEM. On failure `w->len` is what it was before the call and the
 * reason is in `errmsg` (may be NULL). The caller keeps ownership of `w`. */
int compress_inflate(int codec, const uint8_t *src, size_t n, size_t out_bytes_max, struct wbuf *w,
		     char *errmsg);

/* Returns in *out a new buf (one reference, owned by the caller) holding the batch at `batch` (`n`
 * bytes available, at least the whole batch) with its records decompressed: the same 61-byte
 * header except that Attributes has its compression bits cleared and BatchLength counts the
 * decompressed records, followed by those records. records_iter_init()/records_iter_next() read
 * it unchanged. The CRC is NOT recomputed: it still holds the CRC of the compressed batch, so the
 * result is for reading inside the broker and must never be stored or sent to a client.
 * An uncompressed batch comes back as a copy. The whole result is at most `out_bytes_max` bytes.
 *
 * Returns 0; SLUICE_EMALFORMED for a bad header, a batch longer than `n`, an unknown codec or
 * records that do not decompress; SLUICE_ETOOLARGE when the result would exceed `out_bytes_max`;
 * SLUICE_ENOMEM. On failure *out is NULL and the reason is in `errmsg` (may be NULL). Does not
 * check the CRC (the log and records_validate do). */
int compress_inflate_batch(const uint8_t *batch, size_t n, size_t out_bytes_max, struct buf **out,
			   char *errmsg);

#endif
