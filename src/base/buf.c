/*
 * buf: reference-counted buffers, slices, the growable writer and the bounded reader (see buf.h).
 *
 * Happy path: a decoder wraps received bytes in an rbuf and reads a whole message, checking `err`
 * once at the end; an encoder appends to a wbuf and hands the result on with wbuf_take(), which
 * turns the writer's memory into a struct buf without copying it; readers of stored data hold
 * slices of one shared buf instead of copies.
 *
 * Failure modes:
 *   - Allocation failure: buf_new/buf_copy/wbuf_take return NULL; a wbuf sets `oom`, drops that
 *     write and every later one, so an encoder checks once at the end.
 *   - Reads past the end of an rbuf (or a malformed varint in it): `err` is set, the read returns
 *     zero or NULL, and every later read fails the same way. Input is never asserted on.
 *
 * Design choices:
 *   - The wbuf allocates its storage with room for a struct buf header in front of `data`, so
 *     wbuf_take() only fills in the header: an encoded batch is not copied once more on its way to
 *     the disk or a socket.
 *   - Reference counts are plain integers, not atomics: a buf is shared among owners on one thread
 *     (the loop). Handing a buf to a worker thread moves a reference; it does not share one.
 *
 * Invariants: those of buf.h, plus
 *   1. a wbuf with data != NULL owns a block that starts with a struct buf header at
 *      data - offsetof(struct buf, data), holding cap bytes after it.
 */
#include "base/buf.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"

/* First allocation of a wbuf: big enough for most request headers, small enough not to matter. */
#define WBUF_CAP_MIN 256

/* Returns the header that precedes a wbuf's data (invariant 1). */
static struct buf *wbuf_header(const struct wbuf *w)
{
	assert(w->data != NULL);
	return (struct buf *)(void *)(w->data - offsetof(struct buf, data));
}

struct buf *buf_new(size_t cap)
{
	struct buf *b;

	if (cap > SIZE_MAX - sizeof *b)
		return NULL;
	b = malloc(sizeof *b + cap);
	if (b == NULL)
		return NULL;
	b->refs = 1;
	b->len = 0;
	b->cap = cap;
	return b;
}

struct buf *buf_copy(const void *p, size_t n)
{
	struct buf *b = buf_new(n);

	if (b == NULL)
		return NULL;
	if (n > 0)
		memcpy(b->data, p, n);
	b->len = n;
	return b;
}

struct buf *buf_ref(struct buf *b)
{
	assert(b != NULL);
	assert(b->refs > 0);
	assert(b->refs < UINT32_MAX);
	b->refs++;
	return b;
}

void buf_unref(struct buf *b)
{
	if (b == NULL)
		return;
	assert(b->refs > 0);
	assert(b->len <= b->cap);
	if (--b->refs == 0)
		free(b);
}

int slice_init(struct slice *s, struct buf *b, size_t off, size_t len)
{
	assert(b != NULL);
	if (off > b->len || len > b->len - off)
		return SLUICE_ERANGE;
	s->buf = buf_ref(b);
	s->off = off;
	s->len = len;
	return 0;
}

void slice_release(struct slice *s)
{
	if (s->buf != NULL) {
		assert(s->off + s->len <= s->buf->len);
		buf_unref(s->buf);
	}
	s->buf = NULL;
	s->off = 0;
	s->len = 0;
}

void wbuf_init(struct wbuf *w)
{
	w->data = NULL;
	w->len = 0;
	w->cap = 0;
	w->oom = false;
}

void wbuf_free(struct wbuf *w)
{
	if (w->data != NULL)
		free(wbuf_header(w));
	wbuf_init(w);
}

/* Returns true when room for `n` more bytes exists, growing by doubling; on failure sets `oom`
 * and keeps the bytes already written. */
bool wbuf_reserve(struct wbuf *w, size_t n)
{
	assert(w->len <= w->cap);
	if (w->oom)
		return false;
	if (n <= w->cap - w->len)
		return true;
	if (n > SIZE_MAX - sizeof(struct buf) - w->len) {
		w->oom = true;
		return false;
	}
	size_t need = w->len + n;
	size_t cap = w->cap > 0 ? w->cap : WBUF_CAP_MIN;
	while (cap < need)
		cap = cap <= (SIZE_MAX - sizeof(struct buf)) / 2 ? cap * 2 : need;

	struct buf *old = w->data != NULL ? wbuf_header(w) : NULL;
	struct buf *b = realloc(old, sizeof(struct buf) + cap);
	if (b == NULL) {
		w->oom = true;
		return false;
	}
	w->data = b->data;
	w->cap = cap;
	return true;
}

void wbuf_put(struct wbuf *w, const void *p, size_t n)
{
	if (!wbuf_reserve(w, n) || n == 0)
		return;
	memcpy(w->data + w->len, p, n);
	w->len += n;
}

void wbuf_u8(struct wbuf *w, uint8_t v)
{
	if (!wbuf_reserve(w, 1))
		return;
	w->data[w->len++] = v;
}

void wbuf_be16(struct wbuf *w, uint16_t v)
{
	if (!wbuf_reserve(w, 2))
		return;
	be16_put(w->data + w->len, v);
	w->len += 2;
}

void wbuf_be32(struct wbuf *w, uint32_t v)
{
	if (!wbuf_reserve(w, 4))
		return;
	be32_put(w->data + w->len, v);
	w->len += 4;
}

void wbuf_be64(struct wbuf *w, uint64_t v)
{
	if (!wbuf_reserve(w, 8))
		return;
	be64_put(w->data + w->len, v);
	w->len += 8;
}

void wbuf_uvarint(struct wbuf *w, uint64_t v)
{
	if (!wbuf_reserve(w, uvarint_len(v)))
		return;
	w->len += uvarint_put(w->data + w->len, v);
}

void wbuf_varint(struct wbuf *w, int64_t v)
{
	wbuf_uvarint(w, zigzag_encode(v));
}

/* On success the returned buf (one reference) owns the bytes and `w` is empty and reusable; after
 * an earlier allocation failure the partial content is discarded and NULL returned. */
struct buf *wbuf_take(struct wbuf *w)
{
	struct buf *b;

	if (w->oom) {
		wbuf_free(w);
		return NULL;
	}
	if (w->data == NULL)
		return buf_new(0);
	b = wbuf_header(w);
	b->refs = 1;
	b->len = w->len;
	b->cap = w->cap;
	wbuf_init(w);
	return b;
}

/* A read of `n` bytes fails, setting err, when an earlier one failed or fewer than `n` remain. */
static bool rbuf_need(struct rbuf *r, size_t n)
{
	assert(r->pos <= r->len);
	if (r->err || n > r->len - r->pos) {
		r->err = true;
		return false;
	}
	return true;
}

uint8_t rbuf_u8(struct rbuf *r)
{
	if (!rbuf_need(r, 1))
		return 0;
	return r->p[r->pos++];
}

uint16_t rbuf_be16(struct rbuf *r)
{
	if (!rbuf_need(r, 2))
		return 0;
	uint16_t v = be16_get(r->p + r->pos);
	r->pos += 2;
	return v;
}

uint32_t rbuf_be32(struct rbuf *r)
{
	if (!rbuf_need(r, 4))
		return 0;
	uint32_t v = be32_get(r->p + r->pos);
	r->pos += 4;
	return v;
}

uint64_t rbuf_be64(struct rbuf *r)
{
	if (!rbuf_need(r, 8))
		return 0;
	uint64_t v = be64_get(r->p + r->pos);
	r->pos += 8;
	return v;
}

/* A truncated or over-long varint sets err like a read past the end. */
uint64_t rbuf_uvarint(struct rbuf *r)
{
	uint64_t v;

	if (!rbuf_need(r, 1))
		return 0;
	int rc = uvarint_get(r->p + r->pos, r->len - r->pos, &v);
	if (rc < 0) {
		r->err = true;
		return 0;
	}
	r->pos += (size_t)rc;
	return v;
}

int64_t rbuf_varint(struct rbuf *r)
{
	return zigzag_decode(rbuf_uvarint(r));
}

/* For n == 0 the result is a valid pointer to no bytes even when the reader wraps NULL, so a
 * NULL result always means failure. */
const uint8_t *rbuf_bytes(struct rbuf *r, size_t n)
{
	static const uint8_t empty[1];
	const uint8_t *p;

	if (!rbuf_need(r, n))
		return NULL;
	if (n == 0)
		return r->p != NULL ? r->p + r->pos : empty;
	p = r->p + r->pos;
	r->pos += n;
	return p;
}

void rbuf_skip(struct rbuf *r, size_t n)
{
	if (!rbuf_need(r, n))
		return;
	r->pos += n;
}
