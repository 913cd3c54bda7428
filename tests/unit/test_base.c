/*
 * Unit tests of src/base: crc32c, codec, buf, slog, clock and config. No loop, socket or file is
 * needed (config_parse_file is only pointed at paths that do not exist and at /dev/null).
 *
 * One Suite "base", one TCase per module. Random inputs come from a fixed-seed generator, so a
 * failure reproduces.
 */
#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/codec.h"
#include "base/config.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "base/slog.h"

/* xorshift64*: deterministic bytes for the random tests. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static void rng_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next();
}

/* ---------------------------------------------------------------------------------------------
 * crc32c
 */

typedef uint32_t (*crc_fn)(uint32_t crc, const void *p, size_t n);

struct crc_vector {
	uint8_t data[32];
	size_t len;
	uint32_t crc;
};

/* "123456789" is the CRC catalogue's check input; the four 32-byte vectors are RFC 3720 B.4. */
static struct crc_vector crc_vectors[5];

static void crc_vectors_build(void)
{
	memcpy(crc_vectors[0].data, "123456789", 9);
	crc_vectors[0].len = 9;
	crc_vectors[0].crc = 0xE3069283u;

	memset(crc_vectors[1].data, 0x00, 32);
	crc_vectors[1].len = 32;
	crc_vectors[1].crc = 0x8A9136AAu;

	memset(crc_vectors[2].data, 0xFF, 32);
	crc_vectors[2].len = 32;
	crc_vectors[2].crc = 0x62A8AB43u;

	for (int i = 0; i < 32; i++)
		crc_vectors[3].data[i] = (uint8_t)i;
	crc_vectors[3].len = 32;
	crc_vectors[3].crc = 0x46DD794Eu;

	for (int i = 0; i < 32; i++)
		crc_vectors[4].data[i] = (uint8_t)(31 - i);
	crc_vectors[4].len = 32;
	crc_vectors[4].crc = 0x113FDB5Cu;
}

/* Returns the implementations to test: software, dispatching, and hardware where the CPU has it. */
static size_t crc_impls(crc_fn *fns)
{
	size_t n = 0;

	fns[n++] = crc32c_sw;
	fns[n++] = crc32c;
	if (crc32c_hw_available())
		fns[n++] = crc32c_hw;
	return n;
}

/* Every implementation gives the catalogue check value for "123456789". */
START_TEST(test_crc32c_check_value_of_123456789)
{
	crc_fn fns[3];
	size_t n = crc_impls(fns);

	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(fns[i](0, "123456789", 9), 0xE3069283u);
}
END_TEST

/* Every implementation gives the RFC 3720 B.4 values for the four 32-byte patterns. */
START_TEST(test_crc32c_matches_rfc3720_vectors)
{
	crc_fn fns[3];
	size_t n = crc_impls(fns);

	crc_vectors_build();
	for (size_t i = 0; i < n; i++)
		for (size_t v = 0; v < 5; v++)
			ck_assert_uint_eq(fns[i](0, crc_vectors[v].data, crc_vectors[v].len),
					  crc_vectors[v].crc);
}
END_TEST

/* Splitting a vector at any point and continuing from the first part's CRC gives the whole CRC. */
START_TEST(test_crc32c_continues_across_every_split_point)
{
	crc_fn fns[3];
	size_t n = crc_impls(fns);

	crc_vectors_build();
	for (size_t i = 0; i < n; i++) {
		for (size_t v = 0; v < 5; v++) {
			const struct crc_vector *cv = &crc_vectors[v];

			for (size_t split = 0; split <= cv->len; split++) {
				uint32_t c = fns[i](0, cv->data, split);

				c = fns[i](c, cv->data + split, cv->len - split);
				ck_assert_uint_eq(c, cv->crc);
			}
		}
	}
}
END_TEST

/* The vectors give the same CRC when they start at every offset within a 16-byte alignment. */
START_TEST(test_crc32c_is_independent_of_alignment)
{
	crc_fn fns[3];
	size_t n = crc_impls(fns);
	uint8_t *mem = malloc(64 + 16);

	ck_assert_ptr_nonnull(mem);
	crc_vectors_build();
	for (size_t i = 0; i < n; i++) {
		for (size_t v = 0; v < 5; v++) {
			for (size_t off = 0; off < 16; off++) {
				memcpy(mem + off, crc_vectors[v].data, crc_vectors[v].len);
				ck_assert_uint_eq(fns[i](0, mem + off, crc_vectors[v].len),
						  crc_vectors[v].crc);
			}
		}
	}
	free(mem);
}
END_TEST

/* No bytes leave the running value unchanged, even with a NULL pointer. */
START_TEST(test_crc32c_of_nothing_returns_running_value)
{
	crc_fn fns[3];
	size_t n = crc_impls(fns);

	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(fns[i](0, NULL, 0), 0);
		ck_assert_uint_eq(fns[i](0xE3069283u, NULL, 0), 0xE3069283u);
	}
}
END_TEST

/* The hardware path agrees with the table on random lengths, offsets and running values. */
START_TEST(test_crc32c_hw_matches_sw_on_random_buffers)
{
	enum { BYTES_MAX = 4096 };
	uint8_t *mem = malloc(BYTES_MAX + 8);

	if (!crc32c_hw_available()) {
		free(mem);
		return;
	}
	ck_assert_ptr_nonnull(mem);
	for (int round = 0; round < 2000; round++) {
		size_t off = rng_next() % 8;
		size_t len = round < 200 ? (size_t)round : rng_next() % BYTES_MAX;
		uint32_t seed = round % 3 == 0 ? 0 : (uint32_t)rng_next();

		rng_fill(mem + off, len);
		ck_assert_uint_eq(crc32c_hw(seed, mem + off, len), crc32c_sw(seed, mem + off, len));
	}
	free(mem);
}
END_TEST

/* The dispatching crc32c() uses the hardware path exactly when the CPU offers it. */
START_TEST(test_crc32c_dispatch_agrees_with_both_paths_on_random_buffers)
{
	uint8_t mem[1000];

	rng_fill(mem, sizeof mem);
	ck_assert_uint_eq(crc32c(7, mem, sizeof mem), crc32c_sw(7, mem, sizeof mem));
	if (crc32c_hw_available())
		ck_assert_uint_eq(crc32c(7, mem, sizeof mem), crc32c_hw(7, mem, sizeof mem));
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * codec
 */

static const uint64_t uvarint_boundaries[] = {
	0,
	1,
	127,
	128,
	16383,
	16384,
	(1ull << 21) - 1,
	1ull << 21,
	(uint64_t)INT32_MAX,
	1ull << 32,
	(uint64_t)INT64_MAX,
	(uint64_t)INT64_MAX + 1,
	UINT64_MAX - 1,
	UINT64_MAX,
};

static const int64_t varint_boundaries[] = {
	0,
	1,
	-1,
	63,
	-64,
	64,
	-65,
	127,
	128,
	16383,
	16384,
	INT32_MAX,
	INT32_MIN,
	(int64_t)1 << 32,
	INT64_MAX,
	INT64_MIN,
	INT64_MIN + 1,
};

/* Unsigned values at each 7-bit boundary decode to themselves, consuming the encoded length. */
START_TEST(test_uvarint_round_trips_at_boundaries)
{
	for (size_t i = 0; i < sizeof uvarint_boundaries / sizeof uvarint_boundaries[0]; i++) {
		uint8_t p[VARINT_BYTES_MAX];
		uint64_t v = uvarint_boundaries[i];
		uint64_t got = 12345;
		size_t len = uvarint_put(p, v);

		ck_assert_uint_eq(len, uvarint_len(v));
		ck_assert_int_eq(uvarint_get(p, len, &got), (int)len);
		ck_assert_uint_eq(got, v);
		/* Extra bytes after the varint are not consumed. */
		ck_assert_int_eq(uvarint_get(p, VARINT_BYTES_MAX, &got), (int)len);
	}
}
END_TEST

/* Signed values, including INT64_MIN and INT64_MAX, survive zigzag encoding and decoding. */
START_TEST(test_varint_round_trips_at_boundaries)
{
	for (size_t i = 0; i < sizeof varint_boundaries / sizeof varint_boundaries[0]; i++) {
		uint8_t p[VARINT_BYTES_MAX];
		int64_t v = varint_boundaries[i];
		int64_t got = 12345;
		size_t len = varint_put(p, v);

		ck_assert_uint_eq(len, uvarint_len(zigzag_encode(v)));
		ck_assert_int_eq(varint_get(p, len, &got), (int)len);
		ck_assert_int_eq(got, v);
	}
}
END_TEST

/* Known encodings: 300 is AC 02, the 7-bit edges take one and two bytes, UINT64_MAX takes ten. */
START_TEST(test_uvarint_writes_known_encodings)
{
	uint8_t p[VARINT_BYTES_MAX];
	static const uint8_t max[VARINT_BYTES_MAX] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
						       0xFF, 0xFF, 0xFF, 0xFF, 0x01 };

	ck_assert_uint_eq(uvarint_put(p, 300), 2);
	ck_assert_uint_eq(p[0], 0xAC);
	ck_assert_uint_eq(p[1], 0x02);

	ck_assert_uint_eq(uvarint_put(p, 0), 1);
	ck_assert_uint_eq(p[0], 0x00);
	ck_assert_uint_eq(uvarint_put(p, 127), 1);
	ck_assert_uint_eq(p[0], 0x7F);
	ck_assert_uint_eq(uvarint_put(p, 128), 2);
	ck_assert_uint_eq(p[0], 0x80);
	ck_assert_uint_eq(p[1], 0x01);

	ck_assert_uint_eq(uvarint_put(p, UINT64_MAX), VARINT_BYTES_MAX);
	ck_assert_mem_eq(p, max, VARINT_BYTES_MAX);
}
END_TEST

/* Zigzag maps 0, -1, 1, -2 to 0, 1, 2, 3 and the extremes to the top of the unsigned range. */
START_TEST(test_zigzag_keeps_small_magnitudes_small)
{
	uint8_t p[VARINT_BYTES_MAX];

	ck_assert_uint_eq(zigzag_encode(0), 0);
	ck_assert_uint_eq(zigzag_encode(-1), 1);
	ck_assert_uint_eq(zigzag_encode(1), 2);
	ck_assert_uint_eq(zigzag_encode(-2), 3);
	ck_assert_uint_eq(zigzag_encode(INT64_MAX), UINT64_MAX - 1);
	ck_assert_uint_eq(zigzag_encode(INT64_MIN), UINT64_MAX);
	ck_assert_int_eq(zigzag_decode(1), -1);
	ck_assert_int_eq(zigzag_decode(UINT64_MAX), INT64_MIN);

	ck_assert_uint_eq(varint_put(p, -1), 1);
	ck_assert_uint_eq(p[0], 0x01);
	ck_assert_uint_eq(varint_put(p, 1), 1);
	ck_assert_uint_eq(p[0], 0x02);
}
END_TEST

/* Cutting a ten-byte varint anywhere before its last byte is reported as malformed. */
START_TEST(test_uvarint_every_truncation_fails)
{
	uint8_t p[VARINT_BYTES_MAX];
	size_t len = uvarint_put(p, UINT64_MAX);

	for (size_t n = 0; n < len; n++) {
		uint64_t u = 42;
		int64_t s = 42;

		ck_assert_int_eq(uvarint_get(p, n, &u), SLUICE_EMALFORMED);
		ck_assert_uint_eq(u, 42); /* untouched on failure */
		ck_assert_int_eq(varint_get(p, n, &s), SLUICE_EMALFORMED);
		ck_assert_int_eq(s, 42);
	}
}
END_TEST

/* A tenth byte above 1 would overflow 64 bits, and an eleventh byte is never allowed. */
START_TEST(test_uvarint_rejects_overflowing_tenth_byte)
{
	uint8_t p[11];
	uint64_t v;

	memset(p, 0xFF, sizeof p);
	p[9] = 0x02;
	ck_assert_int_eq(uvarint_get(p, 10, &v), SLUICE_EMALFORMED);
	p[9] = 0x7F;
	ck_assert_int_eq(uvarint_get(p, 10, &v), SLUICE_EMALFORMED);
	/* Continuation bit on the tenth byte asks for an eleventh. */
	p[9] = 0x81;
	p[10] = 0x00;
	ck_assert_int_eq(uvarint_get(p, 11, &v), SLUICE_EMALFORMED);
	p[9] = 0x80;
	ck_assert_int_eq(uvarint_get(p, 11, &v), SLUICE_EMALFORMED);
	/* The largest legal tenth byte is 1. */
	p[9] = 0x01;
	ck_assert_int_eq(uvarint_get(p, 11, &v), 10);
	ck_assert_uint_eq(v, UINT64_MAX);
}
END_TEST

/* A non-minimal encoding (80 00 for 0) is accepted, as Kafka's reader accepts it. */
START_TEST(test_uvarint_accepts_non_minimal_encoding)
{
	static const uint8_t p[] = { 0x80, 0x80, 0x00 };
	uint64_t v = 99;

	ck_assert_int_eq(uvarint_get(p, sizeof p, &v), 3);
	ck_assert_uint_eq(v, 0);
}
END_TEST

/* The big-endian helpers put the most significant byte first and read back what they wrote. */
START_TEST(test_big_endian_helpers_round_trip)
{
	uint8_t p[8];

	be16_put(p, 0x1234);
	ck_assert_uint_eq(p[0], 0x12);
	ck_assert_uint_eq(p[1], 0x34);
	ck_assert_uint_eq(be16_get(p), 0x1234);
	be32_put(p, 0xDEADBEEFu);
	ck_assert_uint_eq(p[0], 0xDE);
	ck_assert_uint_eq(p[3], 0xEF);
	ck_assert_uint_eq(be32_get(p), 0xDEADBEEFu);
	be64_put(p, 0x0102030405060708ull);
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq(p[i], (unsigned)i + 1);
	ck_assert_uint_eq(be64_get(p), 0x0102030405060708ull);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * buf
 */

/* A new buf is empty, has the capacity asked for and one reference. */
START_TEST(test_buf_new_starts_empty_with_one_reference)
{
	struct buf *b = buf_new(100);

	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->refs, 1);
	ck_assert_uint_eq(b->len, 0);
	ck_assert_uint_eq(b->cap, 100);
	memset(b->data, 0xAB, 100); /* the capacity is really there (ASan checks) */
	buf_unref(b);
}
END_TEST

/* buf_copy holds its own copy of the bytes, including the empty copy of nothing. */
START_TEST(test_buf_copy_holds_its_own_bytes)
{
	char text[] = "hello";
	struct buf *b = buf_copy(text, 5);
	struct buf *e = buf_copy(NULL, 0);

	ck_assert_ptr_nonnull(b);
	text[0] = 'j';
	ck_assert_uint_eq(b->len, 5);
	ck_assert_uint_eq(b->cap, 5);
	ck_assert_mem_eq(b->data, "hello", 5);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->len, 0);
	buf_unref(b);
	buf_unref(e);
}
END_TEST

/* A buf stays alive until its last reference is dropped; buf_unref(NULL) does nothing. */
START_TEST(test_buf_lives_until_last_reference_is_dropped)
{
	struct buf *b = buf_copy("abc", 3);

	ck_assert_ptr_eq(buf_ref(b), b);
	ck_assert_uint_eq(b->refs, 2);
	buf_unref(b);
	ck_assert_uint_eq(b->refs, 1);
	ck_assert_mem_eq(b->data, "abc", 3); /* still valid: ASan would report a use after free */
	buf_unref(b);
	buf_unref(NULL);
}
END_TEST

/* A slice names part of a buf, holds a reference, and releasing it drops that reference. */
START_TEST(test_slice_holds_a_reference_until_released)
{
	struct buf *b = buf_copy("0123456789", 10);
	struct slice s;

	ck_assert_int_eq(slice_init(&s, b, 3, 4), 0);
	ck_assert_uint_eq(b->refs, 2);
	ck_assert_mem_eq(slice_data(&s), "3456", 4);
	buf_unref(b); /* the slice keeps the bytes alive on its own */
	ck_assert_mem_eq(slice_data(&s), "3456", 4);
	slice_release(&s);
	ck_assert_ptr_null(s.buf);
	ck_assert_uint_eq(s.len, 0);
	slice_release(&s); /* a cleared slice may be released again */
}
END_TEST

/* A range that does not lie inside the buf's bytes is refused without taking a reference. */
START_TEST(test_slice_init_rejects_range_outside_buf)
{
	struct buf *b = buf_copy("0123456789", 10);
	struct slice s = { 0 };

	ck_assert_int_eq(slice_init(&s, b, 11, 0), SLUICE_ERANGE);
	ck_assert_int_eq(slice_init(&s, b, 5, 6), SLUICE_ERANGE);
	ck_assert_int_eq(slice_init(&s, b, 1, SIZE_MAX), SLUICE_ERANGE);
	ck_assert_int_eq(slice_init(&s, b, SIZE_MAX, 2), SLUICE_ERANGE);
	ck_assert_uint_eq(b->refs, 1);
	/* The edges themselves are fine. */
	ck_assert_int_eq(slice_init(&s, b, 10, 0), 0);
	slice_release(&s);
	ck_assert_int_eq(slice_init(&s, b, 0, 10), 0);
	slice_release(&s);
	ck_assert_uint_eq(b->refs, 1);
	buf_unref(b);
}
END_TEST

/* A wbuf writes big-endian integers and varints in the wire layout. */
START_TEST(test_wbuf_writes_wire_layout)
{
	struct wbuf w;
	static const uint8_t want[] = { 0x7F, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x01,
					0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xAC,
					0x02, 0x01, 'x',  'y' };

	wbuf_init(&w);
	wbuf_u8(&w, 0x7F);
	wbuf_be16(&w, 0x1234);
	wbuf_be32(&w, 0xDEADBEEFu);
	wbuf_be64(&w, 0x0102030405060708ull);
	wbuf_uvarint(&w, 300);
	wbuf_varint(&w, -1);
	wbuf_put(&w, "xy", 2);
	wbuf_put(&w, NULL, 0);
	ck_assert(!w.oom);
	ck_assert_uint_eq(w.len, sizeof want);
	ck_assert_mem_eq(w.data, want, sizeof want);
	wbuf_free(&w);
	ck_assert_ptr_null(w.data);
	ck_assert_uint_eq(w.len, 0);
}
END_TEST

/* Growing one byte at a time, capacity doubles, so it stays under twice what is used. */
START_TEST(test_wbuf_grows_by_doubling)
{
	struct wbuf w = { 0 }; /* zero-initialised is as good as wbuf_init */
	size_t grows = 0;
	size_t cap = 0;

	for (size_t i = 0; i < 100000; i++) {
		wbuf_u8(&w, (uint8_t)i);
		if (w.cap != cap) {
			ck_assert(cap == 0 || w.cap == 2 * cap);
			cap = w.cap;
			grows++;
		}
		ck_assert_uint_le(w.len, w.cap);
	}
	ck_assert(!w.oom);
	ck_assert_uint_lt(w.cap, 2 * w.len);
	ck_assert_uint_le(grows, 20);
	for (size_t i = 0; i < 100000; i++)
		ck_assert_uint_eq(w.data[i], (uint8_t)i);
	wbuf_free(&w);
}
END_TEST

/* wbuf_reserve makes room for a large write at once. */
START_TEST(test_wbuf_reserve_makes_room_in_one_step)
{
	struct wbuf w;

	wbuf_init(&w);
	wbuf_u8(&w, 1);
	ck_assert(wbuf_reserve(&w, 5000));
	ck_assert_uint_ge(w.cap - w.len, 5000);
	ck_assert_uint_eq(w.len, 1);
	ck_assert_uint_eq(w.data[0], 1);
	wbuf_free(&w);
}
END_TEST

/* wbuf_take moves the written bytes into a buf with one reference and leaves the writer empty. */
START_TEST(test_wbuf_take_moves_bytes_into_buf_and_resets_writer)
{
	struct wbuf w;
	struct buf *b;
	struct buf *b2;

	wbuf_init(&w);
	wbuf_put(&w, "record batch", 12);
	b = wbuf_take(&w);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->refs, 1);
	ck_assert_uint_eq(b->len, 12);
	ck_assert_uint_ge(b->cap, 12);
	ck_assert_mem_eq(b->data, "record batch", 12);
	ck_assert_ptr_null(w.data);
	ck_assert_uint_eq(w.len, 0);
	ck_assert_uint_eq(w.cap, 0);

	wbuf_put(&w, "again", 5);
	b2 = wbuf_take(&w);
	ck_assert_ptr_nonnull(b2);
	ck_assert_mem_eq(b2->data, "again", 5);
	buf_unref(b);
	buf_unref(b2);
}
END_TEST

/* Taking from a writer that never wrote gives an empty buf. */
START_TEST(test_wbuf_take_of_empty_writer_returns_empty_buf)
{
	struct wbuf w;
	struct buf *b;

	wbuf_init(&w);
	b = wbuf_take(&w);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->len, 0);
	ck_assert_uint_eq(b->refs, 1);
	buf_unref(b);
}
END_TEST

/* After an allocation fails, oom stays set, later writes are dropped and take returns NULL. */
START_TEST(test_wbuf_oom_drops_later_writes_and_take_returns_null)
{
	struct wbuf w;

	wbuf_init(&w);
	wbuf_put(&w, "abc", 3);
	ck_assert(!wbuf_reserve(&w, SIZE_MAX)); /* no allocator can satisfy this */
	ck_assert(w.oom);
	ck_assert_uint_eq(w.len, 3);
	ck_assert_mem_eq(w.data, "abc", 3); /* what was written is kept until freed */
	wbuf_u8(&w, 1);
	wbuf_be32(&w, 1);
	wbuf_uvarint(&w, 1);
	wbuf_put(&w, "x", 1);
	ck_assert_uint_eq(w.len, 3);
	ck_assert(!wbuf_reserve(&w, 1));
	ck_assert_ptr_null(wbuf_take(&w));
	ck_assert_ptr_null(w.data);
	ck_assert(!w.oom); /* the writer is reset and usable again */
	wbuf_free(&w);
}
END_TEST

/* An rbuf reads back exactly what a wbuf wrote and ends with nothing left and no error. */
START_TEST(test_rbuf_reads_what_wbuf_wrote)
{
	struct wbuf w;
	struct rbuf r;

	wbuf_init(&w);
	wbuf_u8(&w, 0xA5);
	wbuf_be16(&w, 0xBEEF);
	wbuf_be32(&w, 0xCAFEBABEu);
	wbuf_be64(&w, UINT64_MAX - 5);
	wbuf_uvarint(&w, 1ull << 40);
	wbuf_varint(&w, INT64_MIN);
	wbuf_put(&w, "tail", 4);

	rbuf_init(&r, w.data, w.len);
	ck_assert_uint_eq(rbuf_u8(&r), 0xA5);
	ck_assert_uint_eq(rbuf_be16(&r), 0xBEEF);
	ck_assert_uint_eq(rbuf_be32(&r), 0xCAFEBABEu);
	ck_assert_uint_eq(rbuf_be64(&r), UINT64_MAX - 5);
	ck_assert_uint_eq(rbuf_uvarint(&r), 1ull << 40);
	ck_assert_int_eq(rbuf_varint(&r), INT64_MIN);
	ck_assert_mem_eq(rbuf_bytes(&r, 4), "tail", 4);
	ck_assert_uint_eq(rbuf_left(&r), 0);
	ck_assert(!r.err);
	wbuf_free(&w);
}
END_TEST

/* Each reader, run with one byte too few, sets err and returns zero without moving. */
START_TEST(test_rbuf_read_past_end_sets_err_and_returns_zero)
{
	static const uint8_t p[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct rbuf r;

	rbuf_init(&r, p, 0);
	ck_assert_uint_eq(rbuf_u8(&r), 0);
	ck_assert(r.err);

	rbuf_init(&r, p, 1);
	ck_assert_uint_eq(rbuf_be16(&r), 0);
	ck_assert(r.err);

	rbuf_init(&r, p, 3);
	ck_assert_uint_eq(rbuf_be32(&r), 0);
	ck_assert(r.err);

	rbuf_init(&r, p, 7);
	ck_assert_uint_eq(rbuf_be64(&r), 0);
	ck_assert(r.err);
	ck_assert_uint_le(r.pos, r.len);

	rbuf_init(&r, p, 7);
	ck_assert_ptr_null(rbuf_bytes(&r, 8));
	ck_assert(r.err);

	rbuf_init(&r, p, 7);
	rbuf_skip(&r, 8);
	ck_assert(r.err);
	ck_assert_uint_le(r.pos, r.len);

	rbuf_init(&r, NULL, 0);
	ck_assert_uint_eq(rbuf_uvarint(&r), 0);
	ck_assert(r.err);
}
END_TEST

/* Once a read fails, later reads fail too, even ones that would fit in what remains. */
START_TEST(test_rbuf_err_is_sticky)
{
	static const uint8_t p[3] = { 9, 8, 7 };
	struct rbuf r;

	rbuf_init(&r, p, sizeof p);
	ck_assert_uint_eq(rbuf_be32(&r), 0);
	ck_assert(r.err);
	ck_assert_uint_eq(rbuf_u8(&r), 0);
	ck_assert_ptr_null(rbuf_bytes(&r, 0));
	ck_assert(r.err);
}
END_TEST

/* A truncated or over-long varint in the input sets err like a short read. */
START_TEST(test_rbuf_malformed_varint_sets_err)
{
	static const uint8_t truncated[] = { 0x80, 0x80 };
	static const uint8_t overlong[] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
					    0xFF, 0xFF, 0xFF, 0xFF, 0x01 };
	struct rbuf r;

	rbuf_init(&r, truncated, sizeof truncated);
	ck_assert_int_eq(rbuf_varint(&r), 0);
	ck_assert(r.err);

	rbuf_init(&r, overlong, sizeof overlong);
	ck_assert_uint_eq(rbuf_uvarint(&r), 0);
	ck_assert(r.err);
}
END_TEST

/* rbuf_bytes returns pointers into the input and skip moves past bytes; zero bytes always fit. */
START_TEST(test_rbuf_bytes_and_skip_walk_the_input)
{
	static const uint8_t p[] = "abcdefgh";
	struct rbuf r;

	rbuf_init(&r, p, 8);
	ck_assert_ptr_eq(rbuf_bytes(&r, 2), p);
	rbuf_skip(&r, 3);
	ck_assert_ptr_eq(rbuf_bytes(&r, 0), p + 5);
	ck_assert_ptr_eq(rbuf_bytes(&r, 3), p + 5);
	ck_assert_uint_eq(rbuf_left(&r), 0);
	ck_assert_ptr_nonnull(rbuf_bytes(&r, 0));
	ck_assert(!r.err);

	/* A reader over no memory at all still hands out zero bytes without an error. */
	rbuf_init(&r, NULL, 0);
	ck_assert_ptr_nonnull(rbuf_bytes(&r, 0));
	rbuf_skip(&r, 0);
	ck_assert(!r.err);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * slog
 */

#define CAPTURE_LINES_MAX 1024

struct capture {
	size_t n;
	enum slog_level levels[CAPTURE_LINES_MAX];
	char *lines[CAPTURE_LINES_MAX];
};

static struct capture capture;

static void capture_sink(void *arg, enum slog_level level, const char *line)
{
	struct capture *c = arg;

	if (c->n < CAPTURE_LINES_MAX) {
		c->levels[c->n] = level;
		c->lines[c->n] = strdup(line);
		c->n++;
	}
}

static void slog_setup(void)
{
	memset(&capture, 0, sizeof capture);
	slog_set_level(SLOG_INFO);
	slog_set_sink(capture_sink, &capture);
}

static void slog_teardown(void)
{
	slog_set_sink(NULL, NULL);
	slog_set_level(SLOG_INFO);
	for (size_t i = 0; i < capture.n; i++)
		free(capture.lines[i]);
	memset(&capture, 0, sizeof capture);
}

static bool matches(const char *re, const char *text)
{
	regex_t rx;
	int rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);

	ck_assert_int_eq(rc, 0);
	rc = regexec(&rx, text, 0, NULL, 0);
	regfree(&rx);
	return rc == 0;
}

/* A line starts with the UTC time to the millisecond, the level and the module, then the text. */
START_TEST(test_slog_line_has_utc_time_level_module_and_text)
{
	struct tm tm = { 0 };
	struct timespec ts;
	/* CLOCK_REALTIME, as slog reads it: time(2) uses a coarser clock that can still show the
	 * previous second when slog already writes the next one. */
	clock_gettime(CLOCK_REALTIME, &ts);
	time_t before = ts.tv_sec;

	SLOG_INFO("storage", "msg=\"%s\" pos=%d", "segment rolled", 4096);
	clock_gettime(CLOCK_REALTIME, &ts);
	time_t after = ts.tv_sec;

	ck_assert_uint_eq(capture.n, 1);
	ck_assert_int_eq(capture.levels[0], SLOG_INFO);
	ck_assert_msg(matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
			      "level=info module=storage msg=\"segment rolled\" pos=4096$",
			      capture.lines[0]),
		      "line: %s", capture.lines[0]);
	/* The timestamp is UTC and now. */
	ck_assert_ptr_nonnull(strptime(capture.lines[0], "%Y-%m-%dT%H:%M:%S", &tm));
	time_t logged = timegm(&tm);
	ck_assert_int_ge(logged, before);
	ck_assert_int_le(logged, after);
}
END_TEST

/* Each level writes its own name, and the sink receives the level of the line. */
START_TEST(test_slog_names_every_level)
{
	slog_set_level(SLOG_DEBUG);
	SLOG_DEBUG("m", "msg=\"a\"");
	SLOG_INFO("m", "msg=\"b\"");
	SLOG_WARN("m", "msg=\"c\"");
	SLOG_ERROR("m", "msg=\"d\"");
	ck_assert_uint_eq(capture.n, 4);
	ck_assert_ptr_nonnull(strstr(capture.lines[0], " level=debug module=m msg=\"a\""));
	ck_assert_ptr_nonnull(strstr(capture.lines[1], " level=info module=m msg=\"b\""));
	ck_assert_ptr_nonnull(strstr(capture.lines[2], " level=warn module=m msg=\"c\""));
	ck_assert_ptr_nonnull(strstr(capture.lines[3], " level=error module=m msg=\"d\""));
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(capture.levels[i], (enum slog_level)i);
}
END_TEST

/* Lines below the configured level are dropped, through the macros and slog_write alike. */
START_TEST(test_slog_drops_lines_below_level)
{
	slog_set_level(SLOG_WARN);
	ck_assert_int_eq(slog_get_level(), SLOG_WARN);
	SLOG_DEBUG("m", "msg=\"no\"");
	SLOG_INFO("m", "msg=\"no\"");
	slog_write(SLOG_INFO, "m", "msg=\"no\"");
	SLOG_WARN("m", "msg=\"yes\"");
	SLOG_ERROR("m", "msg=\"yes\"");
	ck_assert_uint_eq(capture.n, 2);
	ck_assert_ptr_nonnull(strstr(capture.lines[0], "level=warn"));
	ck_assert_ptr_nonnull(strstr(capture.lines[1], "level=error"));
}
END_TEST

/* Level names parse in any case; anything else is SLUICE_EINVAL and leaves the output alone. */
START_TEST(test_slog_parse_level_accepts_names_and_rejects_others)
{
	enum slog_level l = SLOG_ERROR;

	ck_assert_int_eq(slog_parse_level("debug", &l), 0);
	ck_assert_int_eq(l, SLOG_DEBUG);
	ck_assert_int_eq(slog_parse_level("info", &l), 0);
	ck_assert_int_eq(l, SLOG_INFO);
	ck_assert_int_eq(slog_parse_level("WARN", &l), 0);
	ck_assert_int_eq(l, SLOG_WARN);
	ck_assert_int_eq(slog_parse_level("error", &l), 0);
	ck_assert_int_eq(l, SLOG_ERROR);
	ck_assert_int_eq(slog_parse_level("warning", &l), SLUICE_EINVAL);
	ck_assert_int_eq(slog_parse_level("", &l), SLUICE_EINVAL);
	ck_assert_int_eq(slog_parse_level(NULL, &l), SLUICE_EINVAL);
	ck_assert_int_eq(l, SLOG_ERROR);
}
END_TEST

/* A line that fits exactly is kept whole; one byte more and it is cut, ending in "...". */
START_TEST(test_slog_cuts_long_lines_with_ellipsis)
{
	char *text = malloc(3 * SLOG_LINE_BYTES_MAX);

	ck_assert_ptr_nonnull(text);
	SLOG_INFO("t", "%s", "");
	size_t prefix = strlen(capture.lines[0]);
	/* The limit counts the '\n' that stderr gets, which the sink does not see. */
	size_t fits = SLOG_LINE_BYTES_MAX - 1 - prefix;

	memset(text, 'x', fits);
	text[fits] = '\0';
	SLOG_INFO("t", "%s", text);
	ck_assert_uint_eq(strlen(capture.lines[1]), SLOG_LINE_BYTES_MAX - 1);
	ck_assert(capture.lines[1][SLOG_LINE_BYTES_MAX - 2] == 'x');

	memset(text, 'x', fits + 1);
	text[fits + 1] = '\0';
	SLOG_INFO("t", "%s", text);
	ck_assert_uint_eq(strlen(capture.lines[2]), SLOG_LINE_BYTES_MAX - 1);
	ck_assert_str_eq(capture.lines[2] + SLOG_LINE_BYTES_MAX - 4, "...");

	memset(text, 'y', 3 * SLOG_LINE_BYTES_MAX - 1);
	text[3 * SLOG_LINE_BYTES_MAX - 1] = '\0';
	SLOG_INFO("t", "msg=\"%s\"", text);
	ck_assert_uint_eq(strlen(capture.lines[3]), SLOG_LINE_BYTES_MAX - 1);
	ck_assert_str_eq(capture.lines[3] + SLOG_LINE_BYTES_MAX - 4, "...");
	free(text);
}
END_TEST

/* Cutting a line never leaves half of a multi-byte UTF-8 character before the "...". */
START_TEST(test_slog_cut_keeps_utf8_characters_whole)
{
	char *text = malloc(2 * SLOG_LINE_BYTES_MAX + 1);
	size_t n = 0;

	ck_assert_ptr_nonnull(text);
	while (n + 2 <= 2 * SLOG_LINE_BYTES_MAX) {
		text[n++] = (char)0xC3; /* U+00E9, two bytes */
		text[n++] = (char)0xA9;
	}
	text[n] = '\0';
	for (int shift = 0; shift < 2; shift++) {
		SLOG_INFO(shift ? "ab" : "a", "%s", text);
		const char *line = capture.lines[capture.n - 1];
		size_t len = strlen(line);

		ck_assert_uint_le(len, SLOG_LINE_BYTES_MAX - 1);
		ck_assert_str_eq(line + len - 3, "...");
		/* The byte before the mark ends a character: it is the second byte of U+00E9. */
		ck_assert_uint_eq((unsigned char)line[len - 4], 0xA9);
	}
	free(text);
}
END_TEST

/* A newline inside the text cannot start a forged line: it becomes a space. */
START_TEST(test_slog_replaces_newlines_in_text)
{
	SLOG_WARN("kafka", "msg=\"bad client\" client_id=\"%s\"", "x\r\n2026-01-01T00:00:00.000Z");
	ck_assert_uint_eq(capture.n, 1);
	ck_assert_ptr_null(strchr(capture.lines[0], '\n'));
	ck_assert_ptr_null(strchr(capture.lines[0], '\r'));
	ck_assert_ptr_nonnull(
		strstr(capture.lines[0], "client_id=\"x  2026-01-01T00:00:00.000Z\""));
}
END_TEST

/* Without a sink a line goes to stderr, once, ending in a newline. */
START_TEST(test_slog_without_sink_writes_one_line_to_stderr)
{
	int fds[2];
	char got[SLOG_LINE_BYTES_MAX + 1];
	int saved = dup(STDERR_FILENO);

	ck_assert_int_ge(saved, 0);
	ck_assert_int_eq(pipe(fds), 0);
	slog_set_sink(NULL, NULL);
	ck_assert_int_ge(dup2(fds[1], STDERR_FILENO), 0);
	SLOG_ERROR("server", "msg=\"to stderr\"");
	ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
	close(saved);
	close(fds[1]);
	ssize_t n = read(fds[0], got, sizeof got - 1);
	close(fds[0]);

	ck_assert_int_gt(n, 0);
	got[n] = '\0';
	ck_assert_msg(
		matches("^[0-9T:.-]{23}Z level=error module=server msg=\"to stderr\"\n$", got),
		"got: %s", got);
	ck_assert_uint_eq(capture.n, 0);
}
END_TEST

struct slog_thread_arg {
	int id;
};

enum { SLOG_THREADS = 4, SLOG_LINES_PER_THREAD = 200 };

static void *slog_thread_main(void *arg)
{
	struct slog_thread_arg *a = arg;

	for (int i = 0; i < SLOG_LINES_PER_THREAD; i++)
		SLOG_INFO("t", "msg=\"concurrent\" thread=%d i=%d", a->id, i);
	return NULL;
}

/* Lines logged from several threads at once all arrive, each whole. */
START_TEST(test_slog_lines_from_threads_arrive_whole)
{
	pthread_t threads[SLOG_THREADS];
	struct slog_thread_arg args[SLOG_THREADS];
	int seen[SLOG_THREADS] = { 0 };

	for (int i = 0; i < SLOG_THREADS; i++) {
		args[i].id = i;
		ck_assert_int_eq(pthread_create(&threads[i], NULL, slog_thread_main, &args[i]), 0);
	}
	for (int i = 0; i < SLOG_THREADS; i++)
		pthread_join(threads[i], NULL);
	ck_assert_uint_eq(capture.n, SLOG_THREADS * SLOG_LINES_PER_THREAD);
	for (size_t i = 0; i < capture.n; i++) {
		int id;
		int seq;
		const char *text = strstr(capture.lines[i], " module=t msg=\"concurrent\" thread=");

		ck_assert_ptr_nonnull(text);
		int got = sscanf(text, " module=t msg=\"concurrent\" thread=%d i=%d", &id, &seq);

		ck_assert_int_eq(got, 2);
		ck_assert_int_eq(seq, seen[id]); /* each thread's lines arrive in its order */
		seen[id]++;
	}
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * clock
 */

/* The system's monotonic time never goes backwards and advances across a short sleep. */
START_TEST(test_clock_system_monotonic_time_never_goes_back)
{
	struct clock *c = clock_system();
	mono_ns_t prev = clock_mono_ns(c);

	for (int i = 0; i < 10000; i++) {
		mono_ns_t now = clock_mono_ns(c);

		ck_assert_uint_ge(now, prev);
		prev = now;
	}
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 2000000 };
	nanosleep(&ts, NULL);
	ck_assert_uint_ge(clock_mono_ns(c) - prev, 2000000);
}
END_TEST

/* The system's wall time is milliseconds since the epoch, agreeing with time(). */
START_TEST(test_clock_system_wall_time_is_epoch_milliseconds)
{
	time_t before = time(NULL);
	wall_ms_t wall = clock_wall_ms(clock_system());
	time_t after = time(NULL);

	ck_assert_int_ge(wall, (wall_ms_t)before * 1000);
	ck_assert_int_le(wall, (wall_ms_t)after * 1000 + 999);
}
END_TEST

/* A fake clock starts where told and moves both times only when advanced. */
START_TEST(test_clock_fake_moves_only_when_advanced)
{
	struct clock_fake f;
	struct clock *c = &f.clock;

	clock_fake_init(&f, 1764103801123);
	ck_assert_uint_eq(clock_mono_ns(c), 0);
	ck_assert_int_eq(clock_wall_ms(c), 1764103801123);
	ck_assert_uint_eq(clock_mono_ns(c), 0);

	clock_fake_advance_ms(&f, 1500);
	ck_assert_uint_eq(clock_mono_ns(c), 1500000000ull);
	ck_assert_int_eq(clock_wall_ms(c), 1764103802623);
	clock_fake_advance_ms(&f, 0);
	ck_assert_uint_eq(clock_mono_ns(c), 1500000000ull);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * config
 */

struct test_config {
	int64_t segment_bytes;
	int64_t retention_ms;
	int64_t delta;
	bool flush;
	char dirs[CONFIG_STRING_BYTES_MAX];
	char name[CONFIG_STRING_BYTES_MAX];
};

static const struct config_key schema[] = {
	{ "log.segment.bytes", CONFIG_INT, offsetof(struct test_config, segment_bytes), 1024,
	  1ll << 30, "64m", "segment size" },
	{ "log.retention.ms", CONFIG_INT, offsetof(struct test_config, retention_ms), -1,
	  INT64_MAX, "604800000", "retention" },
	{ "test.delta", CONFIG_INT, offsetof(struct test_config, delta), INT64_MIN, INT64_MAX, "-5",
	  "any integer" },
	{ "log.flush.enabled", CONFIG_BOOL, offsetof(struct test_config, flush), 0, 0, "true",
	  "flush" },
	{ "log.dirs", CONFIG_STRING, offsetof(struct test_config, dirs), 0, 0, "/var/lib/sluice",
	  "dirs" },
	{ "node.name", CONFIG_STRING, offsetof(struct test_config, name), 0, 0, NULL, "name" },
};

#define SCHEMA_N (sizeof schema / sizeof schema[0])

static struct test_config cfg;
static errmsg_t msg;

static void config_setup(void)
{
	memset(&cfg, 0x5A, sizeof cfg);
	msg[0] = '\0';
	ck_assert_int_eq(config_defaults(schema, SCHEMA_N, &cfg, msg), 0);
}

/* Parses `text` as "node.properties" and returns the result; the message lands in `msg`. */
static int parse(const char *text)
{
	msg[0] = '\0';
	return config_parse(schema, SCHEMA_N, &cfg, text, "node.properties", msg);
}

/* Defaults fill every key, with suffixes applied and a missing default meaning empty. */
START_TEST(test_config_defaults_fill_every_key)
{
	ck_assert_int_eq(cfg.segment_bytes, 64ll << 20);
	ck_assert_int_eq(cfg.retention_ms, 604800000);
	ck_assert_int_eq(cfg.delta, -5);
	ck_assert(cfg.flush);
	ck_assert_str_eq(cfg.dirs, "/var/lib/sluice");
	ck_assert_str_eq(cfg.name, "");
}
END_TEST

/* A missing default is 0 for an integer and false for a boolean. */
START_TEST(test_config_missing_defaults_mean_zero_and_false)
{
	struct {
		int64_t i;
		bool b;
	} t;
	static const struct config_key keys[] = {
		{ "i", CONFIG_INT, 0, -10, 10, NULL, "" },
		{ "b", CONFIG_BOOL, sizeof(int64_t), 0, 0, NULL, "" },
	};

	memset(&t, 0x5A, sizeof t);
	ck_assert_int_eq(config_defaults(keys, 2, &t, msg), 0);
	ck_assert_int_eq(t.i, 0);
	ck_assert(!t.b);
}
END_TEST

/* A default that breaks its own key's limits is reported, naming the key. */
START_TEST(test_config_defaults_report_an_invalid_default)
{
	int64_t v;
	static const struct config_key keys[] = {
		{ "queue.depth", CONFIG_INT, 0, 1, 100, "1000", "" },
	};

	ck_assert_int_eq(config_defaults(keys, 1, &v, msg), SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "default: queue.depth: value '1000' is out of range [1, 100]");
}
END_TEST

/* Comments, blank lines, spaces around '=', CRLF endings and trailing blanks are all handled. */
START_TEST(test_config_parse_reads_keys_comments_and_blank_lines)
{
	static const char text[] = "# Sluice node\n"
				   "! also a comment = with an equals sign\n"
				   "\n"
				   "   \t\n"
				   "log.segment.bytes=2048\n"
				   "  log.retention.ms = 1000  \t\n"
				   "log.flush.enabled\t=\tFALSE\r\n"
				   "log.dirs = /data/a=b #not a comment   \n"
				   "    # indented comment\n"
				   "node.name=n1";

	ck_assert_int_eq(parse(text), 0);
	ck_assert_int_eq(cfg.segment_bytes, 2048);
	ck_assert_int_eq(cfg.retention_ms, 1000);
	ck_assert(!cfg.flush);
	ck_assert_str_eq(cfg.dirs, "/data/a=b #not a comment");
	ck_assert_str_eq(cfg.name, "n1");
	ck_assert_int_eq(cfg.delta, -5); /* keys not in the file keep their defaults */
}
END_TEST

/* Empty text is a valid, empty configuration. */
START_TEST(test_config_parse_of_empty_text_changes_nothing)
{
	ck_assert_int_eq(parse(""), 0);
	ck_assert_int_eq(parse("\n\n# nothing\n"), 0);
	ck_assert_int_eq(cfg.segment_bytes, 64ll << 20);
}
END_TEST

/* A key given twice takes its later value, as Kafka does. */
START_TEST(test_config_parse_later_duplicate_wins)
{
	ck_assert_int_eq(parse("log.segment.bytes=2048\nlog.segment.bytes=4096\n"), 0);
	ck_assert_int_eq(cfg.segment_bytes, 4096);
}
END_TEST

/* Size suffixes k, m and g multiply by powers of 1024 in either case; signs are accepted. */
START_TEST(test_config_integers_accept_suffixes_and_signs)
{
	ck_assert_int_eq(parse("log.segment.bytes=4k"), 0);
	ck_assert_int_eq(cfg.segment_bytes, 4096);
	ck_assert_int_eq(parse("log.segment.bytes=4K"), 0);
	ck_assert_int_eq(cfg.segment_bytes, 4096);
	ck_assert_int_eq(parse("log.segment.bytes=3m"), 0);
	ck_assert_int_eq(cfg.segment_bytes, 3ll << 20);
	ck_assert_int_eq(parse("log.segment.bytes=1G"), 0);
	ck_assert_int_eq(cfg.segment_bytes, 1ll << 30);
	ck_assert_int_eq(parse("log.segment.bytes=+2048"), 0);
	ck_assert_int_eq(cfg.segment_bytes, 2048);
	ck_assert_int_eq(parse("log.retention.ms=-1"), 0);
	ck_assert_int_eq(cfg.retention_ms, -1);
	ck_assert_int_eq(parse("test.delta=-2g"), 0);
	ck_assert_int_eq(cfg.delta, -(2ll << 30));
	ck_assert_int_eq(parse("test.delta=007"), 0);
	ck_assert_int_eq(cfg.delta, 7);
}
END_TEST

/* The full int64_t range parses exactly, and one past either end is out of range. */
START_TEST(test_config_integers_detect_overflow)
{
	ck_assert_int_eq(parse("test.delta=9223372036854775807"), 0);
	ck_assert_int_eq(cfg.delta, INT64_MAX);
	ck_assert_int_eq(parse("test.delta=-9223372036854775808"), 0);
	ck_assert_int_eq(cfg.delta, INT64_MIN);
	ck_assert_int_eq(parse("test.delta=-8589934592g"), 0); /* -2^33 * 2^30 = INT64_MIN */
	ck_assert_int_eq(cfg.delta, INT64_MIN);

	ck_assert_int_eq(parse("test.delta=9223372036854775808"), SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "node.properties:1: test.delta: value '9223372036854775808' is out "
			      "of range [-9223372036854775808, 9223372036854775807]");
	ck_assert_int_eq(parse("test.delta=-9223372036854775809"), SLUICE_ECONFIG);
	ck_assert_int_eq(parse("test.delta=99999999999999999999999"), SLUICE_ECONFIG);
	ck_assert_int_eq(parse("test.delta=8589934592g"), SLUICE_ECONFIG);
	ck_assert_int_eq(parse("test.delta=18014398509481984k"), SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "node.properties:1: test.delta: value '18014398509481984k' is out "
			      "of range [-9223372036854775808, 9223372036854775807]");
	ck_assert_int_eq(cfg.delta, INT64_MIN); /* failed values leave the field alone */
}
END_TEST

/* An unknown key stops parsing with the source, line number and key. */
START_TEST(test_config_unknown_key_names_source_and_line)
{
	ck_assert_int_eq(parse("# comment\nlog.segment.bytes=2048\nlog.segmnet.bytes=1\n"),
			 SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "node.properties:3: unknown key 'log.segmnet.bytes'");
	/* Matching is exact: a prefix of a key is not the key. */
	ck_assert_int_eq(parse("log.dir=/x"), SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "node.properties:1: unknown key 'log.dir'");
}
END_TEST

/* A value that is not a decimal integer (with optional suffix) is reported as such. */
START_TEST(test_config_non_integer_value_is_reported)
{
	static const char *const bad[] = { "abc", "", "12abc", "1kb", "k", "-", "1 2", "0x10",
					   "1.5", "--1", "4 k" };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char text[64];
		char want[128];

		snprintf(text, sizeof text, "\nlog.segment.bytes=%s", bad[i]);
		snprintf(want, sizeof want,
			 "node.properties:2: log.segment.bytes: value '%s' is not an integer",
			 bad[i]);
		ck_assert_int_eq(parse(text), SLUICE_ECONFIG);
		ck_assert_str_eq(msg, want);
	}
}
END_TEST

/* A value outside the key's [min, max] is reported with both limits. */
START_TEST(test_config_out_of_range_value_is_reported)
{
	ck_assert_int_eq(parse("log.segment.bytes=1023"), SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "node.properties:1: log.segment.bytes: value '1023' is out of range "
			      "[1024, 1073741824]");
	ck_assert_int_eq(parse("log.segment.bytes=2g"), SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "node.properties:1: log.segment.bytes: value '2g' is out of range "
			      "[1024, 1073741824]");
	ck_assert_int_eq(parse("log.retention.ms=-2"), SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "node.properties:1: log.retention.ms: value '-2' is out of range "
			      "[-1, 9223372036854775807]");
	ck_assert_int_eq(cfg.segment_bytes, 64ll << 20);
}
END_TEST

/* A boolean accepts true and false in any case and nothing else. */
START_TEST(test_config_bad_boolean_is_reported)
{
	ck_assert_int_eq(parse("log.flush.enabled=false"), 0);
	ck_assert(!cfg.flush);
	ck_assert_int_eq(parse("log.flush.enabled=True"), 0);
	ck_assert(cfg.flush);
	ck_assert_int_eq(parse("log.flush.enabled=yes"), SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "node.properties:1: log.flush.enabled: value 'yes' is not true or "
			      "false");
	ck_assert_int_eq(parse("log.flush.enabled=1"), SLUICE_ECONFIG);
	ck_assert_int_eq(parse("log.flush.enabled="), SLUICE_ECONFIG);
	ck_assert_str_eq(msg,
			 "node.properties:1: log.flush.enabled: value '' is not true or false");
}
END_TEST

/* A line without '=' or without a key before it is a syntax error naming the line. */
START_TEST(test_config_line_without_equals_is_reported)
{
	ck_assert_int_eq(parse("log.segment.bytes=2048\nlog.segment.bytes 4096\n"), SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "node.properties:2: expected key=value");
	ck_assert_int_eq(parse("log.segment.bytes: 4096\n"), SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "node.properties:1: expected key=value");
	ck_assert_int_eq(parse("\n\n  = 5\n"), SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "node.properties:3: expected key=value");
}
END_TEST

/* A string of CONFIG_STRING_BYTES_MAX - 1 bytes fits; one byte more is refused. */
START_TEST(test_config_string_longer_than_limit_is_reported)
{
	char text[64 + CONFIG_STRING_BYTES_MAX];
	int prefix = snprintf(text, sizeof text, "log.dirs=");

	memset(text + prefix, 'd', CONFIG_STRING_BYTES_MAX - 1);
	text[prefix + CONFIG_STRING_BYTES_MAX - 1] = '\0';
	ck_assert_int_eq(parse(text), 0);
	ck_assert_uint_eq(strlen(cfg.dirs), CONFIG_STRING_BYTES_MAX - 1);

	text[prefix + CONFIG_STRING_BYTES_MAX - 1] = 'd';
	text[prefix + CONFIG_STRING_BYTES_MAX] = '\0';
	ck_assert_int_eq(parse(text), SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "node.properties:1: log.dirs: value is longer than 511 bytes");
	ck_assert_uint_eq(strlen(cfg.dirs), CONFIG_STRING_BYTES_MAX - 1);
}
END_TEST

/* A line of CONFIG_LINE_BYTES_MAX bytes is read; a longer one is refused, naming its number. */
START_TEST(test_config_line_longer_than_limit_is_reported)
{
	char *text = malloc(CONFIG_LINE_BYTES_MAX + 64);
	int prefix = snprintf(text, CONFIG_LINE_BYTES_MAX + 64, "# first\nlog.dirs=/x");
	size_t first_len = strlen("# first\n");

	ck_assert_ptr_nonnull(text);
	/* Pad the second line with trailing blanks up to exactly the limit. */
	size_t line2 = (size_t)prefix - first_len;
	memset(text + prefix, ' ', CONFIG_LINE_BYTES_MAX - line2);
	text[first_len + CONFIG_LINE_BYTES_MAX] = '\n';
	text[first_len + CONFIG_LINE_BYTES_MAX + 1] = '\0';
	ck_assert_int_eq(parse(text), 0);
	ck_assert_str_eq(cfg.dirs, "/x");

	text[first_len + CONFIG_LINE_BYTES_MAX] = ' ';
	text[first_len + CONFIG_LINE_BYTES_MAX + 1] = '\n';
	text[first_len + CONFIG_LINE_BYTES_MAX + 2] = '\0';
	ck_assert_int_eq(parse(text), SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "node.properties:2: line is longer than 4096 bytes");
	free(text);
}
END_TEST

/* A very long bad value is quoted only in part, so the message still says what is wrong. */
START_TEST(test_config_long_bad_value_is_quoted_in_part)
{
	char text[600];
	int prefix = snprintf(text, sizeof text, "log.segment.bytes=");

	memset(text + prefix, '9', 500);
	text[prefix + 500] = '\0';
	ck_assert_int_eq(parse(text), SLUICE_ECONFIG);
	ck_assert_ptr_nonnull(strstr(msg, "9999...' is out of range [1024, 1073741824]"));
	ck_assert_uint_lt(strlen(msg), 300);
}
END_TEST

/* Command-line overrides apply like file lines and report errors with the source "command line". */
START_TEST(test_config_set_reports_errors_as_command_line)
{
	ck_assert_int_eq(config_set(schema, SCHEMA_N, &cfg, "log.segment.bytes", "8k", msg), 0);
	ck_assert_int_eq(cfg.segment_bytes, 8192);
	ck_assert_int_eq(config_set(schema, SCHEMA_N, &cfg, "node.name", "n 2", msg), 0);
	ck_assert_str_eq(cfg.name, "n 2");

	ck_assert_int_eq(config_set(schema, SCHEMA_N, &cfg, "log.segmnet.bytes", "1", msg),
			 SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "command line: unknown key 'log.segmnet.bytes'");
	ck_assert_int_eq(config_set(schema, SCHEMA_N, &cfg, "log.segment.bytes", "abc", msg),
			 SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "command line: log.segment.bytes: value 'abc' is not an integer");
	ck_assert_int_eq(config_set(schema, SCHEMA_N, &cfg, "log.segment.bytes", "1", msg),
			 SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "command line: log.segment.bytes: value '1' is out of range "
			      "[1024, 1073741824]");
	ck_assert_int_eq(config_set(schema, SCHEMA_N, &cfg, "log.flush.enabled", "on", msg),
			 SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "command line: log.flush.enabled: value 'on' is not true or false");
	ck_assert_int_eq(config_set(schema, SCHEMA_N, &cfg, "log.flush.enabled", NULL, msg),
			 SLUICE_ECONFIG);
	ck_assert_str_eq(msg, "command line: log.flush.enabled: missing value");
	ck_assert_int_eq(cfg.segment_bytes, 8192);
}
END_TEST

/* A file that cannot be opened is reported with its path; /dev/null is an empty configuration. */
START_TEST(test_config_parse_file_reports_missing_file)
{
	ck_assert_int_eq(config_parse_file(schema, SCHEMA_N, &cfg,
					   "/nonexistent-sluice-dir/node.properties", msg),
			 SLUICE_ENOTFOUND);
	ck_assert_str_eq(msg, "/nonexistent-sluice-dir/node.properties: No such file or directory");
	ck_assert_int_eq(config_parse_file(schema, SCHEMA_N, &cfg, "/dev/null", msg), 0);
	ck_assert_int_eq(cfg.segment_bytes, 64ll << 20);
}
END_TEST

/* The error buffer may be NULL when the caller does not want the message. */
START_TEST(test_config_accepts_null_errmsg)
{
	ck_assert_int_eq(config_parse(schema, SCHEMA_N, &cfg, "x=1", "f", NULL), SLUICE_ECONFIG);
	ck_assert_int_eq(config_set(schema, SCHEMA_N, &cfg, "log.dirs", "/y", NULL), 0);
	ck_assert_str_eq(cfg.dirs, "/y");
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * suite
 */

static Suite *base_suite(void)
{
	Suite *s = suite_create("base");
	TCase *tc;

	tc = tcase_create("crc32c");
	tcase_add_test(tc, test_crc32c_check_value_of_123456789);
	tcase_add_test(tc, test_crc32c_matches_rfc3720_vectors);
	tcase_add_test(tc, test_crc32c_continues_across_every_split_point);
	tcase_add_test(tc, test_crc32c_is_independent_of_alignment);
	tcase_add_test(tc, test_crc32c_of_nothing_returns_running_value);
	tcase_add_test(tc, test_crc32c_hw_matches_sw_on_random_buffers);
	tcase_add_test(tc, test_crc32c_dispatch_agrees_with_both_paths_on_random_buffers);
	suite_add_tcase(s, tc);

	tc = tcase_create("codec");
	tcase_add_test(tc, test_uvarint_round_trips_at_boundaries);
	tcase_add_test(tc, test_varint_round_trips_at_boundaries);
	tcase_add_test(tc, test_uvarint_writes_known_encodings);
	tcase_add_test(tc, test_zigzag_keeps_small_magnitudes_small);
	tcase_add_test(tc, test_uvarint_every_truncation_fails);
	tcase_add_test(tc, test_uvarint_rejects_overflowing_tenth_byte);
	tcase_add_test(tc, test_uvarint_accepts_non_minimal_encoding);
	tcase_add_test(tc, test_big_endian_helpers_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("buf");
	tcase_add_test(tc, test_buf_new_starts_empty_with_one_reference);
	tcase_add_test(tc, test_buf_copy_holds_its_own_bytes);
	tcase_add_test(tc, test_buf_lives_until_last_reference_is_dropped);
	tcase_add_test(tc, test_slice_holds_a_reference_until_released);
	tcase_add_test(tc, test_slice_init_rejects_range_outside_buf);
	tcase_add_test(tc, test_wbuf_writes_wire_layout);
	tcase_add_test(tc, test_wbuf_grows_by_doubling);
	tcase_add_test(tc, test_wbuf_reserve_makes_room_in_one_step);
	tcase_add_test(tc, test_wbuf_take_moves_bytes_into_buf_and_resets_writer);
	tcase_add_test(tc, test_wbuf_take_of_empty_writer_returns_empty_buf);
	tcase_add_test(tc, test_wbuf_oom_drops_later_writes_and_take_returns_null);
	tcase_add_test(tc, test_rbuf_reads_what_wbuf_wrote);
	tcase_add_test(tc, test_rbuf_read_past_end_sets_err_and_returns_zero);
	tcase_add_test(tc, test_rbuf_err_is_sticky);
	tcase_add_test(tc, test_rbuf_malformed_varint_sets_err);
	tcase_add_test(tc, test_rbuf_bytes_and_skip_walk_the_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("slog");
	tcase_add_checked_fixture(tc, slog_setup, slog_teardown);
	tcase_add_test(tc, test_slog_line_has_utc_time_level_module_and_text);
	tcase_add_test(tc, test_slog_names_every_level);
	tcase_add_test(tc, test_slog_drops_lines_below_level);
	tcase_add_test(tc, test_slog_parse_level_accepts_names_and_rejects_others);
	tcase_add_test(tc, test_slog_cuts_long_lines_with_ellipsis);
	tcase_add_test(tc, test_slog_cut_keeps_utf8_characters_whole);
	tcase_add_test(tc, test_slog_replaces_newlines_in_text);
	tcase_add_test(tc, test_slog_without_sink_writes_one_line_to_stderr);
	tcase_add_test(tc, test_slog_lines_from_threads_arrive_whole);
	suite_add_tcase(s, tc);

	tc = tcase_create("clock");
	tcase_add_test(tc, test_clock_system_monotonic_time_never_goes_back);
	tcase_add_test(tc, test_clock_system_wall_time_is_epoch_milliseconds);
	tcase_add_test(tc, test_clock_fake_moves_only_when_advanced);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_add_checked_fixture(tc, config_setup, NULL);
	tcase_add_test(tc, test_config_defaults_fill_every_key);
	tcase_add_test(tc, test_config_missing_defaults_mean_zero_and_false);
	tcase_add_test(tc, test_config_defaults_report_an_invalid_default);
	tcase_add_test(tc, test_config_parse_reads_keys_comments_and_blank_lines);
	tcase_add_test(tc, test_config_parse_of_empty_text_changes_nothing);
	tcase_add_test(tc, test_config_parse_later_duplicate_wins);
	tcase_add_test(tc, test_config_integers_accept_suffixes_and_signs);
	tcase_add_test(tc, test_config_integers_detect_overflow);
	tcase_add_test(tc, test_config_unknown_key_names_source_and_line);
	tcase_add_test(tc, test_config_non_integer_value_is_reported);
	tcase_add_test(tc, test_config_out_of_range_value_is_reported);
	tcase_add_test(tc, test_config_bad_boolean_is_reported);
	tcase_add_test(tc, test_config_line_without_equals_is_reported);
	tcase_add_test(tc, test_config_string_longer_than_limit_is_reported);
	tcase_add_test(tc, test_config_line_longer_than_limit_is_reported);
	tcase_add_test(tc, test_config_long_bad_value_is_quoted_in_part);
	tcase_add_test(tc, test_config_set_reports_errors_as_command_line);
	tcase_add_test(tc, test_config_parse_file_reports_missing_file);
	tcase_add_test(tc, test_config_accepts_null_errmsg);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(base_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
