/*
 * crc32c: CRC-32C (Castagnoli), two implementations held to the same vectors (see crc32c.h).
 *
 * The checksum is the reflected CRC with polynomial 0x82F63B78, initial value 0xFFFFFFFF and a
 * final inversion (RFC 3720 appendix B.4). The inversions are done at the edges of every call, so
 * the value passed in and returned is the finished CRC: crc32c(0, p, n) is the standard checksum
 * and passing a previous result continues it over more bytes.
 *
 *   - crc32c_sw: slicing-by-8. Eight 256-entry tables let one step fold eight input bytes with
 *     eight lookups; table k maps a byte to its CRC contribution when followed by k zero bytes.
 *     Bytes are assembled explicitly, so the code is the same on any endianness and alignment.
 *   - crc32c_hw: the SSE4.2 crc32 instruction, 8 bytes per instruction. It is compiled with a
 *     target attribute, so the library builds for any x86-64 and runs it only where the CPU
 *     reports SSE4.2. Non-x86 builds have only the software path.
 *
 * crc32c() picks an implementation once, at first use, behind pthread_once, which also builds the
 * tables; afterwards a call costs one indirect jump.
 *
 * Invariants:
 *   1. crc32c_sw and crc32c_hw return the same value for every input (checked by the unit suite).
 *   2. crc32c(crc32c(0, a, n1), b, n2) == crc32c(0, a || b, n1 + n2).
 */
#include "base/crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

/* Reflected form of the Castagnoli polynomial 0x1EDC6F41. */
#define CRC32C_POLY_REFLECTED 0x82F63B78u

static uint32_t table[8][256];
static uint32_t (*impl)(uint32_t crc, const void *p, size_t n);
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void tables_build(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int bit = 0; bit < 8; bit++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY_REFLECTED : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++)
			table[k][i] = (table[k - 1][i] >> 8) ^ table[0][table[k - 1][i] & 0xFF];
}

static void init(void)
{
	tables_build();
	impl = crc32c_hw_available() ? crc32c_hw : crc32c_sw;
}

/* Returns the running CRC after `n` more bytes at `p`. The tables must be built. */
static uint32_t sw_update(uint32_t crc, const uint8_t *p, size_t n)
{
	uint32_t c = ~crc;

	while (n >= 8) {
		uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				   (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
			      (uint32_t)p[7] << 24;

		c = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^ table[5][(lo >> 16) & 0xFF] ^
		    table[4][lo >> 24] ^ table[3][hi & 0xFF] ^ table[2][(hi >> 8) & 0xFF] ^
		    table[1][(hi >> 16) & 0xFF] ^ table[0][hi >> 24];
		p += 8;
		n -= 8;
	}
	while (n > 0) {
		c = (c >> 8) ^ table[0][(c ^ *p) & 0xFF];
		p++;
		n--;
	}
	return ~c;
}

/* Returns the CRC-32C of `n` bytes at `p` continued from `crc`, using tables only. */
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n)
{
	pthread_once(&init_once, init);
	if (n == 0)
		return crc;
	return sw_update(crc, p, n);
}

#if defined(__x86_64__)

bool crc32c_hw_available(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("sse4.2");
}

/* Returns the CRC-32C of `n` bytes at `p` continued from `crc`, with the SSE4.2 instruction.
 * Loads go through memcpy, which compiles to one unaligned load on x86-64. */
__attribute__((target("sse4.2"))) uint32_t crc32c_hw(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t c = (uint32_t)~crc;

	while (n >= 8) {
		uint64_t word;

		memcpy(&word, b, sizeof word);
		c = _mm_crc32_u64(c, word);
		b += 8;
		n -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (n > 0) {
		c32 = _mm_crc32_u8(c32, *b);
		b++;
		n--;
	}
	return ~c32;
}

#else

bool crc32c_hw_available(void)
{
	return false;
}

/* No instruction exists on this architecture; callers are told so by crc32c_hw_available(), and
 * the software path keeps a mistaken call correct rather than crashing. */
uint32_t crc32c_hw(uint32_t crc, const void *p, size_t n)
{
	return crc32c_sw(crc, p, n);
}

#endif

uint32_t crc32c(uint32_t crc, const void *p, size_t n)
{
	pthread_once(&init_once, init);
	return impl(crc, p, n);
}
