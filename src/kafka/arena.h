/*
 * arena: a per-request bump allocator for decoded protocol messages.
 *
 * Decoding a request allocates its arrays (and nullable structs) here; the whole request is
 * released at once with arena_reset() when its response has been sent. Strings and `records`
 * fields are not copied: they point into the frame, which the caller keeps alive alongside.
 *
 * Failure modes: an allocation that would take the arena above `bytes_max`, or a failing malloc,
 * returns NULL and leaves the arena usable; decoders turn that into an error for the request, so a
 * small frame can never make the node allocate without bound.
 *
 * Invariants:
 *   1. used_bytes <= bytes_max, where used_bytes counts every block's capacity.
 *   2. Every pointer returned is aligned for any object type and its bytes are zero.
 *   3. Memory returned stays valid until arena_reset() or arena_free().
 */
#ifndef SLUICE_KAFKA_ARENA_H
#define SLUICE_KAFKA_ARENA_H

#include <stddef.h>

/* First block's size; later blocks double up to ARENA_BLOCK_BYTES_MAX (bounded growth step, so a
 * large request does not over-allocate by more than one step). */
#define ARENA_BLOCK_BYTES_MIN 4096
#define ARENA_BLOCK_BYTES_MAX (1024 * 1024)

struct arena_block;

struct arena {
	struct arena_block *head; /* newest block; allocations come from it */
	size_t used_bytes;        /* capacity of all blocks held */
	size_t bytes_max;         /* limit on used_bytes */
	size_t next_block_bytes;  /* capacity of the next block to allocate */
};

/* Initialises an empty arena that will hold at most `bytes_max` bytes of blocks. */
void arena_init(struct arena *a, size_t bytes_max);

/* Returns `n` zeroed bytes aligned for any type, or NULL when the limit would be exceeded or
 * memory is short. The arena owns the memory. n == 0 returns a valid unique-enough pointer. */
void *arena_alloc(struct arena *a, size_t n);

/* Frees every block; the arena stays initialised with the same limit. */
void arena_reset(struct arena *a);

/* Same as arena_reset(); accepts NULL. */
void arena_free(struct arena *a);

#endif
