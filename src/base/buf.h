/*
 * buf: reference-counted byte buffers, slices of them, and bounded readers and writers.
 *
 * A struct buf is one heap allocation holding its bytes; data read from a disk or a socket is
 * shared by taking references rather than copied. A struct slice names a range of a buf and holds
 * one reference. struct wbuf is a growable writer for encoders; struct rbuf is a cursor over bytes
 * that never reads past its end: a read beyond it sets `err` and returns zeroes, so a decoder can
 * run a whole message and check `err` once.
 *
 * Invariants:
 *   1. A buf is freed exactly when its last reference is dropped (refs reaches 0).
 *   2. A slice's range lies inside its buf: off + len <= buf->len.
 *   3. rbuf: pos <= len always; once err is set it stays set.
 *   4. wbuf: len <= cap; after an allocation failure `oom` stays set and further writes are dropped.
 */
#ifndef SLUICE_BASE_BUF_H
#define SLUICE_BASE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint32_t refs;
	size_t len; /* bytes in use */
	size_t cap; /* bytes allocated in data[] */
	uint8_t data[];
};

/* Returns a new buf with capacity `cap`, len 0 and one reference, or NULL when out of memory. */
struct buf *buf_new(size_t cap);

/* Returns a new buf holding a copy of `n` bytes at `p` (len = cap = n), or NULL. */
struct buf *buf_copy(const void *p, size_t n);

/* Takes one more reference; returns `b` for convenience. */
struct buf *buf_ref(struct buf *b);

/* Drops one reference; frees the buf on the last one. Accepts NULL. */
void buf_unref(struct buf *b);

struct slice {
	struct buf *buf;
	size_t off;
	size_t len;
};

/* Makes `s` name [off, off+len) of `b`, taking a reference. Returns SLUICE_ERANGE if the range is
 * outside the buf. */
int slice_init(struct slice *s, struct buf *b, size_t off, size_t len);

/* Drops the slice's reference and clears it. Accepts a cleared slice. */
void slice_release(struct slice *s);

static inline const uint8_t *slice_data(const struct slice *s)
{
	return s->buf->data + s->off;
}

/* Growable writer. Zero-initialise (or wbuf_init) before use; wbuf_free releases the memory. */
struct wbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool oom;
};

void wbuf_init(struct wbuf *w);
void wbuf_free(struct wbuf *w);
/* Ensures room for `n` more bytes; returns false (and sets oom) on allocation failure. */
bool wbuf_reserve(struct wbuf *w, size_t n);
void wbuf_put(struct wbuf *w, const void *p, size_t n);
void wbuf_u8(struct wbuf *w, uint8_t v);
void wbuf_be16(struct wbuf *w, uint16_t v);
void wbuf_be32(struct wbuf *w, uint32_t v);
void wbuf_be64(struct wbuf *w, uint64_t v);
void wbuf_uvarint(struct wbuf *w, uint64_t v);
void wbuf_varint(struct wbuf *w, int64_t v); /* zigzag */
/* Moves the written bytes into a new struct buf (len = w->len) and resets `w`. NULL on OOM. */
struct buf *wbuf_take(struct wbuf *w);

/* Bounded reader. */
struct rbuf {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool err;
};

static inline void rbuf_init(struct rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->pos = 0;
	r->err = false;
}

static inline size_t rbuf_left(const struct rbuf *r)
{
	return r->len - r->pos;
}

uint8_t rbuf_u8(struct rbuf *r);
uint16_t rbuf_be16(struct rbuf *r);
uint32_t rbuf_be32(struct rbuf *r);
uint64_t rbuf_be64(struct rbuf *r);
uint64_t rbuf_uvarint(struct rbuf *r);
int64_t rbuf_varint(struct rbuf *r); /* zigzag */
/* Returns a pointer to the next `n` bytes and advances, or NULL (and sets err) if fewer remain. */
const uint8_t *rbuf_bytes(struct rbuf *r, size_t n);
/* Advances `n` bytes; sets err if fewer remain. */
void rbuf_skip(struct rbuf *r, size_t n);

#endif
