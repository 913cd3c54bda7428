/*
 * arena: bump allocation in a chain of malloc'd blocks (contract in arena.h).
 *
 * Each block holds a header followed by its bytes; allocation rounds the cursor up to the
 * alignment of max_align_t. A request larger than the next block size gets a block of its own
 * size. Blocks are zeroed with calloc so every allocation starts out zero.
 */
#include "kafka/arena.h"

#include <assert.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

struct arena_block {
	struct arena_block *next;
	size_t cap;
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

#define ARENA_ALIGN (alignof(max_align_t))

_Static_assert(ARENA_BLOCK_BYTES_MIN <= ARENA_BLOCK_BYTES_MAX, "block sizes ordered");
_Static_assert((ARENA_ALIGN & (ARENA_ALIGN - 1)) == 0, "alignment is a power of two");

void arena_init(struct arena *a, size_t bytes_max)
{
	a->head = NULL;
	a->used_bytes = 0;
	a->bytes_max = bytes_max;
	a->next_block_bytes = ARENA_BLOCK_BYTES_MIN;
}

static size_t round_up(size_t n)
{
	return (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;

	if (n > SIZE_MAX / 2)
		return NULL;
	n = round_up(n == 0 ? 1 : n);
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = a->next_block_bytes;
		if (cap < n)
			cap = n;
		if (cap > a->bytes_max || a->used_bytes > a->bytes_max - cap)
			return NULL;
		b = calloc(1, sizeof *b + cap);
		if (b == NULL)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
		a->used_bytes += cap;
		if (a->next_block_bytes < ARENA_BLOCK_BYTES_MAX)
			a->next_block_bytes *= 2;
	}
	void *p = b->data + b->used;
	b->used += n;
	assert(b->used <= b->cap);
	assert(a->used_bytes <= a->bytes_max);
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_block *b = a->head;

	while (b != NULL) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->used_bytes = 0;
	a->next_block_bytes = ARENA_BLOCK_BYTES_MIN;
}

void arena_free(struct arena *a)
{
	if (a != NULL)
		arena_reset(a);
}
