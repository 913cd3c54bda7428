/*
 * codec: big-endian integers, unsigned varints (LEB128, as protobuf and Kafka use them) and
 * zigzag-encoded signed varints, on raw byte pointers.
 *
 * The put functions write into memory the caller sized; the get functions of varints check the
 * length they are given and return how many bytes they consumed, or a negative code for a
 * truncated or over-long encoding. A uint64 varint is at most VARINT_BYTES_MAX bytes.
 */
#ifndef SLUICE_BASE_CODEC_H
#define SLUICE_BASE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_BYTES_MAX 10

static inline void be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void be64_put(uint8_t *p, uint64_t v)
{
	be32_put(p, (uint32_t)(v >> 32));
	be32_put(p + 4, (uint32_t)v);
}

static inline uint16_t be16_get(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t be64_get(const uint8_t *p)
{
	return (uint64_t)be32_get(p) << 32 | be32_get(p + 4);
}

static inline uint64_t zigzag_encode(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t zigzag_decode(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Writes `v` as an unsigned varint at `p` (room for VARINT_BYTES_MAX bytes); returns the length. */
size_t uvarint_put(uint8_t *p, uint64_t v);

/* Returns the encoded length of `v` (1..VARINT_BYTES_MAX). */
size_t uvarint_len(uint64_t v);

/* Reads an unsigned varint from at most `n` bytes at `p` into *v. Returns the bytes consumed, or
 * SLUICE_EMALFORMED when the input ends inside the varint or it is longer than 10 bytes or
 * overflows 64 bits. */
int uvarint_get(const uint8_t *p, size_t n, uint64_t *v);

/* Signed (zigzag) forms of the above. */
size_t varint_put(uint8_t *p, int64_t v);
int varint_get(const uint8_t *p, size_t n, int64_t *v);

#endif
