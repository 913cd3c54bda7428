/*
 * codec: unsigned LEB128 varints and their zigzag signed form (see codec.h; the big-endian
 * helpers are inline there).
 *
 * Encoding, as Kafka's ByteUtils.writeUnsignedVarint and protobuf do it: seven bits per byte,
 * least significant group first, the high bit of each byte set when another byte follows.
 *
 *   value            bytes
 *   0                00
 *   127              7F
 *   128              80 01
 *   300              AC 02
 *   UINT64_MAX       FF FF FF FF FF FF FF FF FF 01   (VARINT_BYTES_MAX = 10)
 *
 * Signed values are zigzag-mapped first (0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3, ...), so small
 * magnitudes of either sign stay short.
 *
 * Decoding reads bytes from the network and from disk, so it validates rather than asserts:
 *   1. input that ends while the high bit still says "more" is SLUICE_EMALFORMED;
 *   2. a tenth byte may carry only bit 0 (bits 63 and up); anything larger, including a
 *      continuation bit asking for an eleventh byte, overflows 64 bits and is SLUICE_EMALFORMED.
 * Non-minimal encodings (80 00 for 0) are accepted, as Kafka's reader accepts them.
 */
#include "base/codec.h"

#include <assert.h>

#include "base/err.h"

size_t uvarint_len(uint64_t v)
{
	size_t len = 1;

	while (v >= 0x80) {
		v >>= 7;
		len++;
	}
	assert(len <= VARINT_BYTES_MAX);
	return len;
}

size_t uvarint_put(uint8_t *p, uint64_t v)
{
	size_t i = 0;

	while (v >= 0x80) {
		p[i++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[i++] = (uint8_t)v;
	assert(i <= VARINT_BYTES_MAX);
	return i;
}

int uvarint_get(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t value = 0;

	for (size_t i = 0; i < VARINT_BYTES_MAX; i++) {
		if (i == n)
			return SLUICE_EMALFORMED;
		uint8_t b = p[i];
		if (i == VARINT_BYTES_MAX - 1 && b > 1)
			return SLUICE_EMALFORMED;
		value |= (uint64_t)(b & 0x7F) << (7 * i);
		if ((b & 0x80) == 0) {
			*v = value;
			return (int)(i + 1);
		}
	}
	/* The tenth byte either ended the varint or was rejected above. */
	assert(0 && "unreachable");
	return SLUICE_EMALFORMED;
}

size_t varint_put(uint8_t *p, int64_t v)
{
	return uvarint_put(p, zigzag_encode(v));
}

int varint_get(const uint8_t *p, size_t n, int64_t *v)
{
	uint64_t u;
	int rc = uvarint_get(p, n, &u);

	if (rc < 0)
		return rc;
	*v = zigzag_decode(u);
	return rc;
}
