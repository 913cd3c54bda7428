/*
 * Tests of src/raft/rmsg: the wire encoding of raft messages. Pure: no loop, socket or file.
 *
 * raft's allocator is replaced by a counting heap (struct theap) for every test, so each test
 * ends by checking that every raft_malloc'd byte the decoder produced was freed, and the
 * out-of-memory tests fail the Nth allocation. Random messages come from a seeded generator; a
 * failing assertion prints the seed and iteration.
 *
 * One Suite "rmsg"; TCases: roundtrip, split, reject.
 */
#include <check.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/codec.h"
#include "base/err.h"
#include "raft/rmsg.h"

/* Iterations of the randomised tests: enough to meet every branch many times, fast under ASan. */
#define RANDOM_ROUNDS 600
#define FLIP_ROUNDS 4000

/* ---------------------------------------------------------------------------------------------
 * A counting raft heap with fault injection
 */

static struct theap {
	long live;        /* allocations not yet freed */
	long fail_at;     /* fail the allocation with this number (1-based); 0: never */
	long allocations; /* allocations attempted */
} th;

static bool theap_fail(void)
{
	th.allocations++;
	return th.fail_at > 0 && th.allocations == th.fail_at;
}

static void *theap_malloc(void *data, size_t size)
{
	(void)data;
	if (theap_fail())
		return NULL;
	void *p = malloc(size > 0 ? size : 1);
	if (p != NULL)
		th.live++;
	return p;
}

static void theap_free(void *data, void *ptr)
{
	(void)data;
	if (ptr != NULL)
		th.live--;
	free(ptr);
}

static void *theap_calloc(void *data, size_t nmemb, size_t size)
{
	(void)data;
	if (theap_fail())
		return NULL;
	void *p = calloc(nmemb > 0 ? nmemb : 1, size > 0 ? size : 1);
	if (p != NULL)
		th.live++;
	return p;
}

static void *theap_realloc(void *data, void *ptr, size_t size)
{
	(void)data;
	if (theap_fail())
		return NULL;
	void *p = realloc(ptr, size > 0 ? size : 1);
	if (p != NULL && ptr == NULL)
		th.live++;
	return p;
}

static void *theap_aligned_alloc(void *data, size_t alignment, size_t size)
{
	(void)data;
	if (theap_fail())
		return NULL;
	void *p = aligned_alloc(alignment, size);
	if (p != NULL)
		th.live++;
	return p;
}

static void theap_aligned_free(void *data, size_t alignment, void *ptr)
{
	(void)alignment;
	theap_free(data, ptr);
}

static struct raft_heap theap = {
	.malloc = theap_malloc,
	.free = theap_free,
	.calloc = theap_calloc,
	.realloc = theap_realloc,
	.aligned_alloc = theap_aligned_alloc,
	.aligned_free = theap_aligned_free,
};

static void setup(void)
{
	memset(&th, 0, sizeof th);
	raft_heap_set(&theap);
}

static void teardown(void)
{
	raft_heap_set_default();
	ck_assert_msg(th.live == 0, "%ld raft allocations leaked", th.live);
}

/* ---------------------------------------------------------------------------------------------
 * Random messages
 */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* Uniform-ish in [lo, hi]. */
static uint64_t rnd_range(uint64_t lo, uint64_t hi)
{
	if (lo == 0 && hi == UINT64_MAX)
		return rnd();
	return lo + rnd() % (hi - lo + 1);
}

/* A value in [lo, hi] biased to the edges, where encodings go wrong. */
static uint64_t rnd_field(uint64_t lo, uint64_t hi)
{
	switch (rnd() % 6) {
	case 0:
		return lo;
	case 1:
		return hi;
	case 2:
		return rnd_range(lo, lo + 1000 < hi && lo + 1000 > lo ? lo + 1000 : hi);
	default:
		return rnd_range(lo, hi);
	}
}

static bool rnd_bool(void)
{
	return rnd() & 1;
}

/* A message built by the test, with the memory it points to (owned by the test, like the
 * entries raft hands to send). */
struct gen {
	struct raft_message m;
	uint64_t group;
	char address[RMSG_ADDRESS_BYTES_MAX + 1];
	struct raft_entry *entries;
	uint8_t *payloads;
	struct raft_server *servers;
	char (*server_addresses)[64];
	uint8_t *data;
};

static void rnd_address(char *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (char)rnd_range(0x21, 0x7e);
	out[len] = '\0';
}

static void gen_entries(struct gen *g, unsigned n, size_t payload_bytes_max, raft_term lo,
			raft_term hi)
{
	struct raft_append_entries *ae = &g->m.append_entries;
	size_t total = 0;

	g->entries = n > 0 ? calloc(n, sizeof *g->entries) : NULL;
	size_t *lens = calloc(n + 1, sizeof *lens);
	ck_assert(lens != NULL && (n == 0 || g->entries != NULL));
	for (unsigned i = 0; i < n; i++) {
		lens[i] = rnd() % 4 == 0 ? 0 : rnd_range(0, payload_bytes_max);
		total += lens[i];
	}
	g->payloads = malloc(total + 1);
	ck_assert(g->payloads != NULL);
	for (size_t i = 0; i < total; i++)
		g->payloads[i] = (uint8_t)rnd();
	raft_term term = lo;
	size_t off = 0;
	for (unsigned i = 0; i < n; i++) {
		if (rnd() % 3 == 0)
			term = rnd_range(term, hi);
		g->entries[i].term = term;
		g->entries[i].type = (unsigned short)rnd_range(RAFT_COMMAND, RAFT_CHANGE);
		g->entries[i].buf.base = g->payloads + off;
		g->entries[i].buf.len = lens[i];
		g->entries[i].batch = NULL;
		off += lens[i];
	}
	ae->entries = g->entries;
	ae->n_entries = n;
	free(lens);
}

/* Fills `g` with a random valid message of `type` (one that rmsg_decode accepts). */
static void gen_message(struct gen *g, unsigned type)
{
	struct raft_message *m = &g->m;
	size_t alen = rnd() % 8 == 0 ? RMSG_ADDRESS_BYTES_MAX : rnd_range(0, 40);

	memset(g, 0, sizeof *g);
	rnd_address(g->address, alen);
	g->group = rnd_field(0, UINT64_MAX);
	m->type = (unsigned short)type;
	m->server_id = rnd_field(1, UINT64_MAX);
	m->server_address = g->address;
	switch (type) {
	case RAFT_IO_APPEND_ENTRIES: {
		struct raft_append_entries *ae = &m->append_entries;
		unsigned n = rnd() % 4 == 0 ? 0 : (unsigned)rnd_range(1, 24);
		ae->term = rnd_field(1, UINT64_MAX);
		ae->prev_log_term = rnd_field(0, ae->term);
		ae->prev_log_index = rnd_field(0, UINT64_MAX - n);
		ae->leader_commit = rnd_field(0, UINT64_MAX);
		gen_entries(g, n, 300, ae->prev_log_term > 0 ? ae->prev_log_term : 1, ae->term);
		break;
	}
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		m->append_entries_result.term = rnd_field(0, UINT64_MAX);
		m->append_entries_result.rejected = rnd_field(0, UINT64_MAX);
		m->append_entries_result.last_log_index = rnd_field(0, UINT64_MAX);
		break;
	case RAFT_IO_REQUEST_VOTE:
		m->request_vote.term = rnd_field(1, UINT64_MAX);
		m->request_vote.candidate_id = rnd_field(1, UINT64_MAX);
		m->request_vote.last_log_index = rnd_field(0, UINT64_MAX);
		m->request_vote.last_log_term = rnd_field(0, UINT64_MAX);
		m->request_vote.disrupt_leader = rnd_bool();
		m->request_vote.pre_vote = rnd_bool();
		break;
	case RAFT_IO_REQUEST_VOTE_RESULT:
		m->request_vote_result.term = rnd_field(0, UINT64_MAX);
		m->request_vote_result.vote_granted = rnd_bool();
		m->request_vote_result.pre_vote = (raft_tribool)rnd_range(0, 2);
		break;
	case RAFT_IO_INSTALL_SNAPSHOT: {
		struct raft_install_snapshot *is = &m->install_snapshot;
		unsigned n = (unsigned)rnd_range(1, 7);
		is->term = rnd_field(1, UINT64_MAX);
		is->last_term = rnd_field(1, is->term);
		is->last_index = rnd_field(1, UINT64_MAX);
		is->conf_index = rnd_field(1, is->last_index);
		g->servers = calloc(n, sizeof *g->servers);
		g->server_addresses = calloc(n, sizeof *g->server_addresses);
		ck_assert(g->servers != NULL && g->server_addresses != NULL);
		for (unsigned i = 0; i < n; i++) {
			/* Distinct ids and addresses: raft_configuration_add refuses duplicates. */
			g->servers[i].id = i == 0 ? rnd_field(1, UINT64_MAX - 8) :
						    g->servers[0].id + i;
			snprintf(g->server_addresses[i], sizeof g->server_addresses[i],
				 "10.%u.0.%u:%u", (unsigned)(rnd() % 256), i,
				 (unsigned)rnd_range(1, 65535));
			g->servers[i].address = g->server_addresses[i];
			g->servers[i].role = (int)rnd_range(RAFT_STANDBY, RAFT_SPARE);
		}
		is->conf.servers = g->servers;
		is->conf.n = n;
		size_t d = rnd() % 5 == 0 ? 0 : rnd_range(1, 2000);
		g->data = malloc(d + 1);
		ck_assert(g->data != NULL);
		for (size_t i = 0; i < d; i++)
			g->data[i] = (uint8_t)rnd();
		is->data.base = d > 0 ? g->data : NULL;
		is->data.len = d;
		break;
	}
	case RAFT_IO_TIMEOUT_NOW:
		m->timeout_now.term = rnd_field(1, UINT64_MAX);
		m->timeout_now.last_log_index = rnd_field(0, UINT64_MAX);
		m->timeout_now.last_log_term = rnd_field(0, UINT64_MAX);
		break;
	default:
		ck_abort_msg("no generator for type %u", type);
	}
}

static void gen_free(struct gen *g)
{
	free(g->entries);
	free(g->payloads);
	free(g->servers);
	free(g->server_addresses);
	free(g->data);
}

/* ---------------------------------------------------------------------------------------------
 * Comparison
 */

static void assert_entries_equal(const struct raft_entry *a, const struct raft_entry *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_eq(a[i].term, b[i].term);
		ck_assert_uint_eq(a[i].type, b[i].type);
		ck_assert_uint_eq(a[i].buf.len, b[i].buf.len);
		if (a[i].buf.len > 0)
			ck_assert(memcmp(a[i].buf.base, b[i].buf.base, a[i].buf.len) == 0);
	}
}

/* Asserts that the decoded `d` equals the generated `e` field by field. */
static void assert_message_equal(const struct raft_message *e, const struct raft_message *d)
{
	ck_assert_uint_eq(d->type, e->type);
	ck_assert_uint_eq(d->server_id, e->server_id);
	ck_assert_ptr_nonnull(d->server_address);
	ck_assert_str_eq(d->server_address, e->server_address);
	switch (e->type) {
	case RAFT_IO_APPEND_ENTRIES: {
		const struct raft_append_entries *x = &e->append_entries, *y = &d->append_entries;
		ck_assert_uint_eq(y->term, x->term);
		ck_assert_uint_eq(y->prev_log_index, x->prev_log_index);
		ck_assert_uint_eq(y->prev_log_term, x->prev_log_term);
		ck_assert_uint_eq(y->leader_commit, x->leader_commit);
		ck_assert_uint_eq(y->n_entries, x->n_entries);
		assert_entries_equal(x->entries, y->entries, x->n_entries);
		break;
	}
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		ck_assert_uint_eq(d->append_entries_result.term, e->append_entries_result.term);
		ck_assert_uint_eq(d->append_entries_result.rejected,
				  e->append_entries_result.rejected);
		ck_assert_uint_eq(d->append_entries_result.last_log_index,
				  e->append_entries_result.last_log_index);
		break;
	case RAFT_IO_REQUEST_VOTE:
		ck_assert_uint_eq(d->request_vote.term, e->request_vote.term);
		ck_assert_uint_eq(d->request_vote.candidate_id, e->request_vote.candidate_id);
		ck_assert_uint_eq(d->request_vote.last_log_index, e->request_vote.last_log_index);
		ck_assert_uint_eq(d->request_vote.last_log_term, e->request_vote.last_log_term);
		ck_assert_int_eq(d->request_vote.disrupt_leader, e->request_vote.disrupt_leader);
		ck_assert_int_eq(d->request_vote.pre_vote, e->request_vote.pre_vote);
		break;
	case RAFT_IO_REQUEST_VOTE_RESULT:
		ck_assert_uint_eq(d->request_vote_result.term, e->request_vote_result.term);
		ck_assert_int_eq(d->request_vote_result.vote_granted,
				 e->request_vote_result.vote_granted);
		ck_assert_int_eq(d->request_vote_result.pre_vote, e->request_vote_result.pre_vote);
		break;
	case RAFT_IO_INSTALL_SNAPSHOT: {
		const struct raft_install_snapshot *x = &e->install_snapshot,
						   *y = &d->install_snapshot;
		ck_assert_uint_eq(y->term, x->term);
		ck_assert_uint_eq(y->last_index, x->last_index);
		ck_assert_uint_eq(y->last_term, x->last_term);
		ck_assert_uint_eq(y->conf_index, x->conf_index);
		ck_assert_uint_eq(y->conf.n, x->conf.n);
		for (unsigned i = 0; i < x->conf.n; i++) {
			ck_assert_uint_eq(y->conf.servers[i].id, x->conf.servers[i].id);
			ck_assert_int_eq(y->conf.servers[i].role, x->conf.servers[i].role);
			ck_assert_str_eq(y->conf.servers[i].address, x->conf.servers[i].address);
		}
		ck_assert_uint_eq(y->data.len, x->data.len);
		ck_assert_ptr_nonnull(y->data.base);
		if (x->data.len > 0)
			ck_assert(memcmp(y->data.base, x->data.base, x->data.len) == 0);
		break;
	}
	case RAFT_IO_TIMEOUT_NOW:
		ck_assert_uint_eq(d->timeout_now.term, e->timeout_now.term);
		ck_assert_uint_eq(d->timeout_now.last_log_index, e->timeout_now.last_log_index);
		ck_assert_uint_eq(d->timeout_now.last_log_term, e->timeout_now.last_log_term);
		break;
	}
}

/* Asserts the layout raft's recv requires of decoded entries (rmsg.c invariant 2). */
static void assert_one_batch(const struct raft_append_entries *ae)
{
	if (ae->n_entries == 0) {
		ck_assert_ptr_null(ae->entries);
		return;
	}
	ck_assert_ptr_nonnull(ae->entries);
	const uint8_t *batch = ae->entries[0].batch;
	const uint8_t *next = batch;
	ck_assert_ptr_nonnull(batch);
	for (unsigned i = 0; i < ae->n_entries; i++) {
		ck_assert_ptr_eq(ae->entries[i].batch, batch);
		ck_assert_ptr_eq(ae->entries[i].buf.base, next);
		next += ae->entries[i].buf.len;
	}
}

/* Encodes `g` with no effective limit; asserts one record and returns its message bytes. */
static void encode_one(struct wbuf *w, const struct gen *g, const uint8_t **p, size_t *n)
{
	size_t off = 0;

	wbuf_init(w);
	ck_assert_int_eq(rmsg_encode(w, g->group, &g->m, SIZE_MAX), 1);
	ck_assert_int_eq(rmsg_record_next(w->data, w->len, &off, p, n), 1);
	ck_assert_uint_eq(off, w->len);
}

static const unsigned all_types[] = {
	RAFT_IO_APPEND_ENTRIES,      RAFT_IO_APPEND_ENTRIES_RESULT, RAFT_IO_REQUEST_VOTE,
	RAFT_IO_REQUEST_VOTE_RESULT, RAFT_IO_INSTALL_SNAPSHOT,      RAFT_IO_TIMEOUT_NOW,
};
#define TYPES_COUNT (sizeof all_types / sizeof all_types[0])

/* ---------------------------------------------------------------------------------------------
 * roundtrip
 */

/* Random messages of every type, with fields at their edges, decode to what was encoded, and
 * entries arrive in one batch as raft's recv requires. */
START_TEST(test_rmsg_every_type_roundtrips_with_random_fields)
{
	rng_state = 0x5eed0001u + (uint64_t)_i;
	for (unsigned t = 0; t < TYPES_COUNT; t++) {
		for (int round = 0; round < RANDOM_ROUNDS; round++) {
			struct gen g;
			struct raft_message d;
			struct wbuf w;
			const uint8_t *p;
			size_t n;
			uint64_t group = 0;
			errmsg_t err = "";

			gen_message(&g, all_types[t]);
			encode_one(&w, &g, &p, &n);
			int rv = rmsg_decode(p, n, &group, &d, err);
			ck_assert_msg(rv == 0, "type %u round %d: %s", all_types[t], round, err);
			ck_assert_uint_eq(group, g.group);
			assert_message_equal(&g.m, &d);
			if (d.type == RAFT_IO_APPEND_ENTRIES)
				assert_one_batch(&d.append_entries);
			rmsg_release(&d);
			ck_assert_ptr_null(d.server_address);
			wbuf_free(&w);
			gen_free(&g);
		}
	}
}
END_TEST

/* A heartbeat (no entries) decodes with entries == NULL, and an AppendEntries whose entries are
 * all empty still gets a batch, which raft frees. */
START_TEST(test_rmsg_heartbeat_has_no_entries_and_empty_entries_have_a_batch)
{
	struct raft_entry e[3] = {
		{ .term = 5, .type = RAFT_BARRIER },
		{ .term = 5, .type = RAFT_COMMAND },
		{ .term = 6, .type = RAFT_COMMAND },
	};
	struct raft_message m = {
		.type = RAFT_IO_APPEND_ENTRIES,
		.server_id = 1,
		.server_address = "127.0.0.1:9192",
		.append_entries = { .term = 6, .prev_log_index = 10, .prev_log_term = 4 },
	};
	struct raft_message d;
	struct wbuf w;
	const uint8_t *p;
	size_t n, off = 0;
	uint64_t group;

	wbuf_init(&w);
	ck_assert_int_eq(rmsg_encode(&w, 7, &m, 1 << 20), 1);
	ck_assert_int_eq(rmsg_record_next(w.data, w.len, &off, &p, &n), 1);
	ck_assert_int_eq(rmsg_decode(p, n, &group, &d, NULL), 0);
	ck_assert_uint_eq(group, 7);
	ck_assert_uint_eq(d.append_entries.n_entries, 0);
	ck_assert_ptr_null(d.append_entries.entries);
	rmsg_release(&d);

	m.append_entries.entries = e;
	m.append_entries.n_entries = 3;
	w.len = 0;
	off = 0;
	ck_assert_int_eq(rmsg_encode(&w, 7, &m, 1 << 20), 1);
	ck_assert_int_eq(rmsg_record_next(w.data, w.len, &off, &p, &n), 1);
	ck_assert_int_eq(rmsg_decode(p, n, &group, &d, NULL), 0);
	assert_one_batch(&d.append_entries);
	ck_assert_uint_eq(d.append_entries.entries[2].term, 6);
	ck_assert_uint_eq(d.append_entries.entries[0].type, RAFT_BARRIER);
	/* What raft does with a delivered message: free the batch and the array, then we free the
	 * address. */
	raft_free(d.append_entries.entries[0].batch);
	raft_free(d.append_entries.entries);
	rmsg_release_address(&d);
	wbuf_free(&w);
}
END_TEST

/* The layout in rmsg.c's table, byte for byte, for a RequestVote: the format is a contract
 * with other nodes, so a change to it must fail a test. */
START_TEST(test_rmsg_request_vote_bytes_match_the_documented_table)
{
	struct raft_message m = {
		.type = RAFT_IO_REQUEST_VOTE,
		.server_id = 3,
		.server_address = "n3:1",
		.request_vote = { .term = 9,
				  .candidate_id = 3,
				  .last_log_index = 0x0102,
				  .last_log_term = 8,
				  .disrupt_leader = true,
				  .pre_vote = true },
	};
	static const uint8_t want[] = {
		0,    0,   0,   57,                    /* record length */
		1,    3,   0,   4,                     /* version, type, address length */
		0,    0,   0,   0,   0, 0, 0,    0x2a, /* group 42 */
		0,    0,   0,   0,   0, 0, 0,    3,    /* server_id */
		'n',  '3', ':', '1',                   /* address */
		0,    0,   0,   0,   0, 0, 0,    9,    /* term */
		0,    0,   0,   0,   0, 0, 0,    3,    /* candidate_id */
		0,    0,   0,   0,   0, 0, 0x01, 0x02, /* last_log_index */
		0,    0,   0,   0,   0, 0, 0,    8,    /* last_log_term */
		0x03,                                  /* disrupt_leader | pre_vote */
	};
	struct wbuf w;

	wbuf_init(&w);
	ck_assert_int_eq(rmsg_encode(&w, 42, &m, 1 << 20), 1);
	ck_assert_uint_eq(w.len, sizeof want);
	ck_assert(memcmp(w.data, want, sizeof want) == 0);
	wbuf_free(&w);
}
END_TEST

/* Records appended after existing bytes leave those bytes alone, and rmsg_record_next walks
 * them; a record cut short is reported, not read past. */
START_TEST(test_rmsg_records_append_and_walk)
{
	struct raft_message m = {
		.type = RAFT_IO_TIMEOUT_NOW,
		.server_id = 2,
		.server_address = "b",
		.timeout_now = { .term = 4, .last_log_index = 100, .last_log_term = 4 },
	};
	struct wbuf w;
	const uint8_t *p;
	size_t n, off = 0;
	int count = 0;

	wbuf_init(&w);
	wbuf_put(&w, "xy", 2);
	ck_assert_int_eq(rmsg_encode(&w, 1, &m, 4096), 1);
	ck_assert_int_eq(rmsg_encode(&w, 2, &m, 4096), 1);
	ck_assert(memcmp(w.data, "xy", 2) == 0);
	off = 2;
	while (rmsg_record_next(w.data, w.len, &off, &p, &n) == 1) {
		struct raft_message d;
		uint64_t group;
		ck_assert_int_eq(rmsg_decode(p, n, &group, &d, NULL), 0);
		ck_assert_uint_eq(group, (uint64_t)++count);
		rmsg_release(&d);
	}
	ck_assert_int_eq(count, 2);
	off = 2;
	ck_assert_int_eq(rmsg_record_next(w.data, w.len - 1, &off, &p, &n), 1);
	ck_assert_int_eq(rmsg_record_next(w.data, w.len - 1, &off, &p, &n), SLUICE_EMALFORMED);
	off = 2;
	ck_assert_int_eq(rmsg_record_next(w.data, 5, &off, &p, &n), SLUICE_EMALFORMED);
	wbuf_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * split
 */

/* An AppendEntries larger than the limit leaves as several records, each within the limit and
 * each a valid AppendEntries: together they carry every entry in order, chunk k's prev is the
 * last entry of chunk k-1, the first keeps the original prev, and leader_commit never runs ahead
 * of a chunk's last index except in the last chunk, which keeps the original. */
START_TEST(test_rmsg_large_append_entries_splits_into_valid_chunks)
{
	rng_state = 0x5eed0002u;
	for (int round = 0; round < RANDOM_ROUNDS; round++) {
		struct gen g;
		struct wbuf w;
		const struct raft_append_entries *ae = &g.m.append_entries;

		gen_message(&g, RAFT_IO_APPEND_ENTRIES);
		size_t alen = strlen(g.address);
		size_t largest = 0;
		for (unsigned i = 0; i < ae->n_entries; i++)
			if (ae->entries[i].buf.len > largest)
				largest = ae->entries[i].buf.len;
		/* From "one entry per chunk" up to "everything fits". */
		size_t limit = 20 + alen + 36 + 16 + largest + rnd_range(0, 2000);

		wbuf_init(&w);
		int records = rmsg_encode(&w, g.group, &g.m, limit);
		ck_assert_msg(records >= 1, "round %d: %s", round, err_name(records));

		size_t off = 0, len;
		const uint8_t *p;
		unsigned seen = 0;
		int k = 0;
		while (rmsg_record_next(w.data, w.len, &off, &p, &len) == 1) {
			struct raft_message d;
			uint64_t group;
			errmsg_t err = "";
			ck_assert_uint_le(len, limit);
			ck_assert_msg(rmsg_decode(p, len, &group, &d, err) == 0, "%s", err);
			const struct raft_append_entries *c = &d.append_entries;
			ck_assert_uint_eq(group, g.group);
			ck_assert_uint_eq(d.type, RAFT_IO_APPEND_ENTRIES);
			ck_assert_uint_eq(c->term, ae->term);
			ck_assert(c->n_entries > 0 || ae->n_entries == 0);
			if (k == 0) {
				ck_assert_uint_eq(c->prev_log_index, ae->prev_log_index);
				ck_assert_uint_eq(c->prev_log_term, ae->prev_log_term);
			} else {
				ck_assert_uint_eq(c->prev_log_index, ae->prev_log_index + seen);
				ck_assert_uint_eq(c->prev_log_term, ae->entries[seen - 1].term);
			}
			assert_entries_equal(&ae->entries[seen], c->entries, c->n_entries);
			assert_one_batch(c);
			seen += c->n_entries;
			if (k == records - 1)
				ck_assert_uint_eq(c->leader_commit, ae->leader_commit);
			else
				ck_assert_uint_le(c->leader_commit, ae->prev_log_index + seen);
			rmsg_release(&d);
			k++;
		}
		ck_assert_int_eq(k, records);
		ck_assert_uint_eq(seen, ae->n_entries);
		ck_assert_uint_eq(off, w.len);
		wbuf_free(&w);
		gen_free(&g);
	}
}
END_TEST

/* An entry that cannot fit in a frame with its AppendEntries header, or any other message over
 * the limit, is SLUICE_ETOOLARGE and appends nothing. */
START_TEST(test_rmsg_entry_or_message_over_the_limit_is_too_large)
{
	uint8_t big[600];
	struct raft_entry e[2] = {
		{ .term = 1, .type = RAFT_COMMAND, .buf = { big, 10 } },
		{ .term = 1, .type = RAFT_COMMAND, .buf = { big, sizeof big } },
	};
	struct raft_message m = {
		.type = RAFT_IO_APPEND_ENTRIES,
		.server_id = 1,
		.server_address = "a",
		.append_entries = { .term = 1, .entries = e, .n_entries = 2 },
	};
	struct raft_server servers[1] = { { .id = 1, .address = "a", .role = RAFT_VOTER } };
	struct raft_message snap = {
		.type = RAFT_IO_INSTALL_SNAPSHOT,
		.server_id = 1,
		.server_address = "a",
		.install_snapshot = { .term = 1,
				      .last_index = 5,
				      .last_term = 1,
				      .conf_index = 1,
				      .conf = { servers, 1 },
				      .data = { big, sizeof big } },
	};
	struct wbuf w;

	memset(big, 7, sizeof big);
	wbuf_init(&w);
	wbuf_put(&w, "keep", 4);
	ck_assert_int_eq(rmsg_encode(&w, 1, &m, 512), SLUICE_ETOOLARGE);
	ck_assert_int_eq(rmsg_encode(&w, 1, &snap, 512), SLUICE_ETOOLARGE);
	ck_assert_uint_eq(w.len, 4);
	/* The header alone over the limit. */
	m.append_entries.n_entries = 0;
	ck_assert_int_eq(rmsg_encode(&w, 1, &m, 40), SLUICE_ETOOLARGE);
	ck_assert_uint_eq(w.len, 4);
	/* With room, the same messages encode: the second entry gets a record of its own. */
	m.append_entries.n_entries = 2;
	ck_assert_int_eq(rmsg_encode(&w, 1, &m, 680), 2);
	ck_assert_int_eq(rmsg_encode(&w, 1, &snap, 680), 1);
	wbuf_free(&w);
}
END_TEST

/* Messages the format cannot carry are refused with SLUICE_EINVAL, appending nothing. */
START_TEST(test_rmsg_unrepresentable_messages_are_invalid)
{
	char longaddr[RMSG_ADDRESS_BYTES_MAX + 2];
	struct raft_message m = { .type = RAFT_IO_TIMEOUT_NOW, .server_id = 1 };
	struct wbuf w;

	wbuf_init(&w);
	ck_assert_int_eq(rmsg_encode(&w, 1, &m, 4096), SLUICE_EINVAL); /* NULL address */
	memset(longaddr, 'a', sizeof longaddr - 1);
	longaddr[sizeof longaddr - 1] = '\0';
	m.server_address = longaddr;
	ck_assert_int_eq(rmsg_encode(&w, 1, &m, 4096), SLUICE_EINVAL);
	m.server_address = "a";
	m.type = 7;
	ck_assert_int_eq(rmsg_encode(&w, 1, &m, 4096), SLUICE_EINVAL);
	m.type = RAFT_IO_INSTALL_SNAPSHOT;
	m.install_snapshot.term = 1;
	ck_assert_int_eq(rmsg_encode(&w, 1, &m, 4096), SLUICE_EINVAL); /* empty configuration */
	ck_assert_uint_eq(w.len, 0);
	wbuf_free(&w);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * reject
 */

/* Every strict prefix of a valid message of every type is rejected, without a leak. */
START_TEST(test_rmsg_every_prefix_of_a_valid_message_is_rejected)
{
	rng_state = 0x5eed0003u;
	for (unsigned t = 0; t < TYPES_COUNT; t++) {
		for (int round = 0; round < 20; round++) {
			struct gen g;
			struct wbuf w;
			const uint8_t *p;
			size_t n;

			gen_message(&g, all_types[t]);
			encode_one(&w, &g, &p, &n);
			for (size_t k = 0; k < n; k++) {
				struct raft_message d;
				uint64_t group;
				errmsg_t err = "";
				/* A copy of exactly k bytes, so ASan sees any read past them. */
				uint8_t *q = malloc(k + 1);
				ck_assert(q != NULL);
				memcpy(q, p, k);
				int rv = rmsg_decode(q, k, &group, &d, err);
				ck_assert_msg(rv == SLUICE_EMALFORMED,
					      "type %u prefix %zu of %zu: %s (%s)", all_types[t], k,
					      n, err_name(rv), err);
				ck_assert(err[0] != '\0');
				ck_assert_ptr_null(d.server_address);
				free(q);
			}
			ck_assert_int_eq(th.live, 0);
			wbuf_free(&w);
			gen_free(&g);
		}
	}
}
END_TEST

/* Random bit flips in valid messages never crash or leak: each gives an error, or a message that
 * encodes back to exactly the flipped bytes (the encoding is canonical). */
START_TEST(test_rmsg_bit_flips_yield_an_error_or_a_valid_message)
{
	long decoded = 0, rejected = 0;

	rng_state = 0x5eed0004u;
	for (int round = 0; round < FLIP_ROUNDS; round++) {
		struct gen g;
		struct wbuf w, again;
		const uint8_t *p;
		size_t n;

		gen_message(&g, all_types[round % TYPES_COUNT]);
		encode_one(&w, &g, &p, &n);
		uint8_t *q = malloc(n);
		ck_assert(q != NULL);
		memcpy(q, p, n);
		int flips = (int)rnd_range(1, 3);
		for (int i = 0; i < flips; i++)
			q[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));

		struct raft_message d;
		uint64_t group;
		errmsg_t err = "";
		int rv = rmsg_decode(q, n, &group, &d, err);
		if (rv == 0) {
			const uint8_t *p2;
			size_t n2, off = 0;
			decoded++;
			wbuf_init(&again);
			ck_assert_int_eq(rmsg_encode(&again, group, &d, SIZE_MAX), 1);
			ck_assert_int_eq(rmsg_record_next(again.data, again.len, &off, &p2, &n2),
					 1);
			ck_assert_uint_eq(n2, n);
			ck_assert(memcmp(p2, q, n) == 0);
			wbuf_free(&again);
			rmsg_release(&d);
		} else {
			rejected++;
			ck_assert_msg(rv == SLUICE_EMALFORMED || rv == SLUICE_EVERSION, "%s",
				      err_name(rv));
			ck_assert(err[0] != '\0');
		}
		ck_assert_int_eq(th.live, 0);
		free(q);
		wbuf_free(&w);
		gen_free(&g);
	}
	/* Both outcomes happen: flips in payload bytes are valid, flips in lengths are not. */
	ck_assert_int_gt(decoded, 0);
	ck_assert_int_gt(rejected, 0);
}
END_TEST

/* Appends a header (version 1) with address "a" from server 1 in group 1, for hand-made
 * messages. */
static void put_hdr(struct wbuf *w, uint8_t type)
{
	wbuf_u8(w, RMSG_FORMAT_VERSION);
	wbuf_u8(w, type);
	wbuf_be16(w, 1);
	wbuf_be64(w, 1);
	wbuf_be64(w, 1);
	wbuf_u8(w, 'a');
}

/* Decodes w's bytes, expecting `code`; the error message must contain `why`. */
static void expect_reject(struct wbuf *w, int code, const char *why)
{
	struct raft_message d;
	uint64_t group;
	errmsg_t err = "";

	int rv = rmsg_decode(w->data, w->len, &group, &d, err);
	ck_assert_msg(rv == code, "want %s got %s (%s)", err_name(code), err_name(rv), err);
	ck_assert_msg(strstr(err, why) != NULL, "'%s' does not say '%s'", err, why);
	ck_assert_int_eq(th.live, 0);
	w->len = 0;
}

/* Hand-made messages break each rule in rmsg.c's table and are rejected with a reason that
 * names it; none of them allocates for a count the bytes cannot back. */
START_TEST(test_rmsg_each_rule_rejects_with_a_reason)
{
	struct wbuf w;

	wbuf_init(&w);
	/* Version. */
	put_hdr(&w, RAFT_IO_TIMEOUT_NOW);
	w.data[0] = 2;
	wbuf_be64(&w, 1), wbuf_be64(&w, 1), wbuf_be64(&w, 1);
	expect_reject(&w, SLUICE_EVERSION, "format version 2");
	/* Type. */
	put_hdr(&w, 7);
	expect_reject(&w, SLUICE_EMALFORMED, "type 7");
	/* Sender id 0. */
	put_hdr(&w, RAFT_IO_TIMEOUT_NOW);
	memset(w.data + 12, 0, 8);
	wbuf_be64(&w, 1), wbuf_be64(&w, 1), wbuf_be64(&w, 1);
	expect_reject(&w, SLUICE_EMALFORMED, "server id 0");
	/* NUL in the sender address. */
	put_hdr(&w, RAFT_IO_TIMEOUT_NOW);
	w.data[20] = '\0';
	wbuf_be64(&w, 1), wbuf_be64(&w, 1), wbuf_be64(&w, 1);
	expect_reject(&w, SLUICE_EMALFORMED, "NUL");
	/* Trailing bytes. */
	put_hdr(&w, RAFT_IO_TIMEOUT_NOW);
	wbuf_be64(&w, 1), wbuf_be64(&w, 1), wbuf_be64(&w, 1), wbuf_u8(&w, 0);
	expect_reject(&w, SLUICE_EMALFORMED, "1 bytes after");
	/* TimeoutNow term 0. */
	put_hdr(&w, RAFT_IO_TIMEOUT_NOW);
	wbuf_be64(&w, 0), wbuf_be64(&w, 1), wbuf_be64(&w, 1);
	expect_reject(&w, SLUICE_EMALFORMED, "term 0");
	/* RequestVote: unknown flag, candidate 0. */
	put_hdr(&w, RAFT_IO_REQUEST_VOTE);
	wbuf_be64(&w, 1), wbuf_be64(&w, 1), wbuf_be64(&w, 1), wbuf_be64(&w, 1), wbuf_u8(&w, 4);
	expect_reject(&w, SLUICE_EMALFORMED, "flags");
	put_hdr(&w, RAFT_IO_REQUEST_VOTE);
	wbuf_be64(&w, 1), wbuf_be64(&w, 0), wbuf_be64(&w, 1), wbuf_be64(&w, 1), wbuf_u8(&w, 0);
	expect_reject(&w, SLUICE_EMALFORMED, "candidate 0");
	/* RequestVoteResult: granted 2, pre_vote 3. */
	put_hdr(&w, RAFT_IO_REQUEST_VOTE_RESULT);
	wbuf_be64(&w, 1), wbuf_u8(&w, 2), wbuf_u8(&w, 0);
	expect_reject(&w, SLUICE_EMALFORMED, "vote_granted 2");
	put_hdr(&w, RAFT_IO_REQUEST_VOTE_RESULT);
	wbuf_be64(&w, 1), wbuf_u8(&w, 1), wbuf_u8(&w, 3);
	expect_reject(&w, SLUICE_EMALFORMED, "pre_vote 3");
	/* AppendEntries: a count the bytes cannot hold (nothing allocated for it). */
	put_hdr(&w, RAFT_IO_APPEND_ENTRIES);
	wbuf_be64(&w, 1), wbuf_be64(&w, 0), wbuf_be64(&w, 0), wbuf_be64(&w, 0);
	wbuf_be32(&w, UINT32_MAX);
	expect_reject(&w, SLUICE_EMALFORMED, "do not fit");
	/* AppendEntries: entry term 0, above the message term, going backwards; type 9;
	 * reserved bytes; payload lengths that lie; index overflow. */
	struct {
		uint64_t prev_index, prev_term, t1, t2;
		uint8_t type, reserved;
		uint32_t len;
		const char *why;
	} cases[] = {
		{ 0, 0, 0, 1, RAFT_COMMAND, 0, 0, "term 0 outside" },
		{ 0, 0, 1, 6, RAFT_COMMAND, 0, 0, "term 6 outside" },
		{ 0, 0, 3, 2, RAFT_COMMAND, 0, 0, "term 2 outside" },
		{ 5, 4, 3, 4, RAFT_COMMAND, 0, 0, "term 3 outside" },
		{ 0, 0, 1, 1, 9, 0, 0, "type 9" },
		{ 0, 0, 1, 1, RAFT_COMMAND, 1, 0, "reserved" },
		{ 0, 0, 1, 1, RAFT_COMMAND, 0, 100, "payloads exceed" },
		{ UINT64_MAX - 1, 0, 1, 1, RAFT_COMMAND, 0, 0, "overflows" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		put_hdr(&w, RAFT_IO_APPEND_ENTRIES);
		wbuf_be64(&w, 5), wbuf_be64(&w, cases[i].prev_index);
		wbuf_be64(&w, cases[i].prev_term), wbuf_be64(&w, 0), wbuf_be32(&w, 2);
		wbuf_be64(&w, cases[i].t1), wbuf_u8(&w, cases[i].type);
		wbuf_u8(&w, cases[i].reserved), wbuf_be16(&w, 0), wbuf_be32(&w, cases[i].len);
		wbuf_be64(&w, cases[i].t2), wbuf_u8(&w, RAFT_COMMAND), wbuf_u8(&w, 0);
		wbuf_be16(&w, 0), wbuf_be32(&w, 0);
		expect_reject(&w, SLUICE_EMALFORMED, cases[i].why);
	}
	/* InstallSnapshot: duplicate server ids, duplicate addresses, role 5, id 0, no servers,
	 * conf_index beyond last_index, data length beyond the bytes. */
	struct {
		uint64_t id2;
		const char *addr2;
		uint8_t role2;
		uint32_t servers;
		uint64_t conf_index;
		uint32_t data_len;
		const char *why;
	} snaps[] = {
		{ 1, "y", RAFT_VOTER, 2, 1, 0, "already in use" },
		{ 2, "x", RAFT_VOTER, 2, 1, 0, "already in use" },
		{ 2, "y", 5, 2, 1, 0, "role" },
		{ 0, "y", RAFT_VOTER, 2, 1, 0, "id 0" },
		{ 2, "y", RAFT_VOTER, 0, 1, 0, "0 servers" },
		{ 2, "y", RAFT_VOTER, 2, 9, 0, "conf_index 9" },
		{ 2, "y", RAFT_VOTER, 2, 1, 50, "data of 50 bytes" },
	};
	for (size_t i = 0; i < sizeof snaps / sizeof snaps[0]; i++) {
		put_hdr(&w, RAFT_IO_INSTALL_SNAPSHOT);
		wbuf_be64(&w, 3), wbuf_be64(&w, 8), wbuf_be64(&w, 3),
			wbuf_be64(&w, snaps[i].conf_index);
		wbuf_be32(&w, snaps[i].servers);
		if (snaps[i].servers > 0) {
			wbuf_be64(&w, 1), wbuf_u8(&w, RAFT_VOTER), wbuf_be16(&w, 1),
				wbuf_u8(&w, 'x');
			wbuf_be64(&w, snaps[i].id2), wbuf_u8(&w, snaps[i].role2), wbuf_be16(&w, 1);
			wbuf_u8(&w, (uint8_t)snaps[i].addr2[0]);
		}
		wbuf_be32(&w, snaps[i].data_len);
		expect_reject(&w, SLUICE_EMALFORMED, snaps[i].why);
	}
	wbuf_free(&w);
}
END_TEST

/* Failing each raft allocation in turn while decoding messages that allocate (an address,
 * entries and their batch, a configuration and snapshot data) gives SLUICE_ENOMEM and leaks
 * nothing; once no allocation fails, the message decodes. */
START_TEST(test_rmsg_out_of_memory_while_decoding_leaks_nothing)
{
	static const unsigned types[] = { RAFT_IO_APPEND_ENTRIES, RAFT_IO_INSTALL_SNAPSHOT,
					  RAFT_IO_REQUEST_VOTE };

	rng_state = 0x5eed0005u;
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		struct gen g;
		struct wbuf w;
		const uint8_t *p;
		size_t n;

		do {
			gen_message(&g, types[t]);
			if (g.m.type != RAFT_IO_APPEND_ENTRIES || g.m.append_entries.n_entries > 0)
				break;
			gen_free(&g);
		} while (1);
		encode_one(&w, &g, &p, &n);
		for (long fail = 1;; fail++) {
			struct raft_message d;
			uint64_t group;
			errmsg_t err = "";

			th.allocations = 0;
			th.fail_at = fail;
			int rv = rmsg_decode(p, n, &group, &d, err);
			th.fail_at = 0;
			ck_assert_int_eq(th.live, rv == 0 ? th.live : 0);
			if (rv == 0) {
				ck_assert_int_gt(fail, 1);
				assert_message_equal(&g.m, &d);
				rmsg_release(&d);
				break;
			}
			ck_assert_msg(rv == SLUICE_ENOMEM, "fail at %ld: %s (%s)", fail,
				      err_name(rv), err);
			ck_assert(strstr(err, "out of memory") != NULL);
		}
		wbuf_free(&w);
		gen_free(&g);
	}
}
END_TEST

static Suite *rmsg_suite(void)
{
	Suite *s = suite_create("rmsg");
	TCase *tc;

	tc = tcase_create("roundtrip");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_rmsg_every_type_roundtrips_with_random_fields, 0, 2);
	tcase_add_test(tc, test_rmsg_heartbeat_has_no_entries_and_empty_entries_have_a_batch);
	tcase_add_test(tc, test_rmsg_request_vote_bytes_match_the_documented_table);
	tcase_add_test(tc, test_rmsg_records_append_and_walk);
	suite_add_tcase(s, tc);

	tc = tcase_create("split");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rmsg_large_append_entries_splits_into_valid_chunks);
	tcase_add_test(tc, test_rmsg_entry_or_message_over_the_limit_is_too_large);
	tcase_add_test(tc, test_rmsg_unrepresentable_messages_are_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("reject");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rmsg_every_prefix_of_a_valid_message_is_rejected);
	tcase_add_test(tc, test_rmsg_bit_flips_yield_an_error_or_a_valid_message);
	tcase_add_test(tc, test_rmsg_each_rule_rejects_with_a_reason);
	tcase_add_test(tc, test_rmsg_out_of_memory_while_decoding_leaks_nothing);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rmsg_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
