/*
 * group: the classic consumer-group coordinator (see group.h for the contract). Pure: no I/O, no
 * clock, no timers; time arrives as `now_ms` and deadlines leave through group_tick().
 *
 * Happy path. Members send JoinGroup; the first join of an EMPTY group moves it to
 * PREPARING_REBALANCE and every JoinGroup parks. The join phase ends when every member has
 * rejoined (after group.initial.rebalance.delay.ms for a group that was EMPTY, extended while new
 * members keep arriving, never past the rebalance timeout) or when the largest rebalance timeout
 * of the members passes. Then the generation goes up, a protocol is chosen by vote, and every
 * parked JoinGroup completes (the leader's answer lists every member's metadata): the group is
 * COMPLETING_REBALANCE. Followers' SyncGroups park until the leader's SyncGroup brings the
 * assignments; then the group is STABLE and every parked SyncGroup completes with its member's
 * assignment. Heartbeats keep sessions alive and tell members when to rejoin.
 *
 * State machine (enum group_state, the table `group_transitions`, checked by group_move()):
 *   EMPTY -> PREPARING_REBALANCE: a member joins an empty group.
 *   EMPTY -> DEAD: DeleteGroups removes the empty group.
 *   PREPARING_REBALANCE -> COMPLETING_REBALANCE: the join phase ends with members left.
 *   PREPARING_REBALANCE -> EMPTY: the join phase ends with no member left (generation still +1).
 *   COMPLETING_REBALANCE -> STABLE: the leader's SyncGroup stores the assignments.
 *   COMPLETING_REBALANCE -> PREPARING_REBALANCE: a join with new metadata, a leave or an expiry.
 *   STABLE -> PREPARING_REBALANCE: a new member, the leader's or a changed join, a leave, an expiry.
 *
 * Failure modes handled: unknown groups and members (UNKNOWN_MEMBER_ID), stale generations
 * (ILLEGAL_GENERATION), requests during a rebalance (REBALANCE_IN_PROGRESS), a protocol type or
 * protocol set that does not fit the group (INCONSISTENT_GROUP_PROTOCOL), session timeouts out of
 * range (INVALID_SESSION_TIMEOUT), full groups (GROUP_MAX_SIZE_REACHED), a full coordinator or
 * OOM (COORDINATOR_NOT_AVAILABLE, retriable), replaced static members (FENCED_INSTANCE_ID),
 * members that go silent (session expiry), members that do not rejoin (rebalance timeout), and
 * clients that send a second JoinGroup or SyncGroup while the first is parked (the first is
 * answered REBALANCE_IN_PROGRESS, so each parked request completes exactly once).
 *
 * Memory. Everything the coordinator allocates carries a small header (union mem_hdr) so that
 * memory a result may point into (a removed member, a replaced member id or protocol set, a
 * deleted group) is put on a "dead" list instead of being freed, and freed at the start of the
 * next call. That is how results stay valid until the next call without any allocation on the
 * paths that remove things. Arrays a result points into (the leader's member list) have their
 * capacity reserved when a member is added, so completing a rebalance never allocates.
 *
 * Invariants (group_invariants(), asserted on every state move and at the end of every call):
 *   1. nmembers + npending <= GROUP_MEMBERS_MAX.
 *   2. The leader is NULL iff there is no member, and otherwise is one of the members.
 *   3. A JoinGroup is parked only in PREPARING_REBALANCE; a SyncGroup only in
 *      COMPLETING_REBALANCE.
 *   4. EMPTY and DEAD have no member; EMPTY, DEAD and PREPARING_REBALANCE have no chosen
 *      protocol; COMPLETING_REBALANCE and STABLE have members, a chosen protocol that every
 *      member supports, and a generation > 0.
 *   5. Any accepted set of members has at least one protocol in common (a join is refused with
 *      INCONSISTENT_GROUP_PROTOCOL otherwise), so the vote always finds one.
 *   6. A group is in the deadline heap iff it has a deadline, and heap order holds.
 */
#include "group/group.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kafka error codes used here (the protocol guide's error table; same values as KAFKA_ERR_* in
 * kafka/kafka.h, which this pure module does not link against). */
enum {
	ERR_NONE = 0,
	ERR_COORDINATOR_NOT_AVAILABLE = 15,
	ERR_ILLEGAL_GENERATION = 22,
	ERR_INCONSISTENT_GROUP_PROTOCOL = 23,
	ERR_INVALID_GROUP_ID = 24,
	ERR_UNKNOWN_MEMBER_ID = 25,
	ERR_INVALID_SESSION_TIMEOUT = 26,
	ERR_REBALANCE_IN_PROGRESS = 27,
	ERR_INVALID_REQUEST = 42,
	ERR_NON_EMPTY_GROUP = 68,
	ERR_GROUP_ID_NOT_FOUND = 69,
	ERR_MEMBER_ID_REQUIRED = 79,
	ERR_GROUP_MAX_SIZE_REACHED = 81,
	ERR_FENCED_INSTANCE_ID = 82,
};

/* Protocol type and protocol names are kept in the group in fixed buffers (so choosing a
 * protocol never allocates); real ones are short ("consumer", "range", "cooperative-sticky"). */
#define NAME_BYTES_MAX 255
/* Instance ids are compared on every static request; the same bound as group ids. */
#define INSTANCE_ID_BYTES_MAX GROUP_ID_BYTES_MAX
/* The client id part of a generated member id is cut here so member ids stay short. */
#define MEMBER_ID_CLIENT_BYTES_MAX 128
/* Hash buckets at start; the table doubles when it holds more groups than buckets. */
#define BUCKETS_MIN 64

_Static_assert(GROUP_PROTOCOLS_MAX > 0 && GROUP_PROTOCOLS_MAX <= 1024, "vote array on stack");
_Static_assert(GROUP_MEMBERS_MAX < INT32_MAX / 2, "member counts fit int32");
_Static_assert(GROUP_GROUPS_MAX < UINT32_MAX / 4, "bucket count fits uint32");

#define DEADLINE_NONE INT64_MAX

/* ---------------------------------------------------------------------------------------------
 * Memory with a deferred free list
 */

union mem_hdr {
	union mem_hdr *next;
	max_align_t align;
};

static void *mem_alloc(size_t n)
{
	if (n > SIZE_MAX - sizeof(union mem_hdr))
		return NULL;
	union mem_hdr *h = malloc(sizeof(*h) + n);
	if (h == NULL)
		return NULL;
	h->next = NULL;
	return h + 1;
}

static void *mem_zalloc(size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		return NULL;
	void *p = mem_alloc(count * size);
	if (p != NULL)
		memset(p, 0, count * size);
	return p;
}

/* Frees `p` at once: only for memory no result can point into. Accepts NULL. */
static void mem_free(void *p)
{
	if (p != NULL)
		free((union mem_hdr *)p - 1);
}

/* ---------------------------------------------------------------------------------------------
 * Types
 */

/* An owned byte string; len -1 = null (p NULL), len 0 = empty (p NULL). */
struct obytes {
	uint8_t *p;
	int32_t len;
};

struct proto {
	struct obytes name;
	struct obytes metadata;
};

struct member {
	struct obytes id;
	struct obytes instance_id; /* null unless static */
	struct obytes client_id;
	struct obytes client_host;
	struct proto *protocols; /* in the member's preference order */
	int32_t nprotocols;
	struct obytes assignment; /* from the leader's SyncGroup of this generation */
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms;
	int64_t session_deadline_ms;
	bool join_parked; /* in PREPARING_REBALANCE this also means "has rejoined" */
	bool sync_parked;
	void *join_token;
	void *sync_token;
	struct group_join_result join_res; /* the last answer, valid until the next call */
	struct group_sync_result sync_res;
};

/* A member id handed out with MEMBER_ID_REQUIRED, waiting for the client to rejoin with it. */
struct pending {
	struct obytes id;
	int64_t deadline_ms;
};

struct group {
	struct group *hash_next;
	uint64_t hash;
	struct obytes id;
	enum group_state state;
	int32_t generation;
	uint8_t protocol_type[NAME_BYTES_MAX];
	int32_t protocol_type_len; /* -1 until a member joined */
	uint8_t protocol_name[NAME_BYTES_MAX];
	int32_t protocol_name_len;              /* -1 unless COMPLETING_REBALANCE or STABLE */
	struct member **members;                /* in join order */
	struct group_join_member *join_members; /* the leader's list; capacity members_cap */
	int32_t nmembers;
	int32_t members_cap;
	struct member *leader;
	struct pending *pending;
	int32_t npending;
	int32_t pending_cap;
	/* PREPARING_REBALANCE only. */
	int64_t rebalance_deadline_ms;
	bool initial_delay; /* the join phase of a group that was EMPTY */
	bool new_member_added;
	int64_t initial_deadline_ms;
	int64_t initial_remaining_ms;
	/* The earliest deadline of this group, and its place in the coordinator's heap. */
	int64_t deadline_ms;
	int32_t heap_index; /* -1 when not in the heap */
};

struct group_coordinator {
	struct group_config cfg;
	group_complete_fn complete;
	void *arg;
	uint64_t rng;
	uint64_t member_counter;
	struct group **buckets;
	uint32_t nbuckets;
	uint32_t ngroups;
	struct group **heap; /* min-heap on deadline_ms */
	uint32_t heap_len;
	uint32_t heap_cap;
	union mem_hdr *dead; /* freed at the start of the next call */
	bool in_callback;
	/* The member whose request the current call is answering: its completion fills the
	 * caller's result instead of calling `complete`. */
	struct member *inline_join;
	struct group_join_result *inline_join_res;
	bool inline_join_done;
	struct member *inline_sync;
	struct group_sync_result *inline_sync_res;
	bool inline_sync_done;
	struct group_describe_member *describe;
	int32_t describe_cap;
};

/* Puts `p` on the dead list; it is freed at the start of the next call. Accepts NULL. */
static void mem_defer(struct group_coordinator *gc, void *p)
{
	if (p == NULL)
		return;
	union mem_hdr *h = (union mem_hdr *)p - 1;
	h->next = gc->dead;
	gc->dead = h;
}

static void mem_flush(struct group_coordinator *gc)
{
	while (gc->dead != NULL) {
		union mem_hdr *h = gc->dead;
		gc->dead = h->next;
		free(h);
	}
}

/* ---------------------------------------------------------------------------------------------
 * Byte strings
 */

static const uint8_t empty_bytes[1];

static struct group_bytes view(const struct obytes *o)
{
	if (o->len < 0)
		return (struct group_bytes){ NULL, -1 };
	return (struct group_bytes){ o->len > 0 ? o->p : empty_bytes, o->len };
}

static struct group_bytes view_raw(const uint8_t *p, int32_t len)
{
	if (len < 0)
		return (struct group_bytes){ NULL, -1 };
	return (struct group_bytes){ len > 0 ? p : empty_bytes, len };
}

static const struct group_bytes bytes_empty = { empty_bytes, 0 };

static bool bytes_present(struct group_bytes b)
{
	return b.len > 0 && b.p != NULL;
}

static bool bytes_eq(struct group_bytes a, struct group_bytes b)
{
	if (a.len <= 0 || b.len <= 0)
		return a.len == b.len;
	return a.len == b.len && memcmp(a.p, b.p, (size_t)a.len) == 0;
}

static bool obytes_eq(const struct obytes *o, struct group_bytes b)
{
	return bytes_eq(view(o), b);
}

/* Copies `b` into *out. Returns false on OOM (then *out is untouched). */
static bool obytes_copy(struct obytes *out, struct group_bytes b)
{
	if (b.len < 0 || (b.len > 0 && b.p == NULL)) {
		*out = (struct obytes){ NULL, -1 };
		return true;
	}
	if (b.len == 0) {
		*out = (struct obytes){ NULL, 0 };
		return true;
	}
	uint8_t *p = mem_alloc((size_t)b.len);
	if (p == NULL)
		return false;
	memcpy(p, b.p, (size_t)b.len);
	*out = (struct obytes){ p, b.len };
	return true;
}

static uint64_t hash_bytes(struct group_bytes b)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (int32_t i = 0; i < b.len; i++) {
		h ^= b.p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t rng_next(struct group_coordinator *gc)
{
	uint64_t x = gc->rng; /* xorshift64* */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	gc->rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Generates "<client_id>-<counter>-<random>" into *out. Returns false on OOM. */
static bool member_id_generate(struct group_coordinator *gc, struct group_bytes client_id,
			       struct obytes *out)
{
	int32_t clen = client_id.len > 0 ? client_id.len : 0;
	if (clen > MEMBER_ID_CLIENT_BYTES_MAX)
		clen = MEMBER_ID_CLIENT_BYTES_MAX;
	char tail[64];
	int n = snprintf(tail, sizeof(tail), "-%llu-%016llx",
			 (unsigned long long)++gc->member_counter,
			 (unsigned long long)rng_next(gc));
	assert(n > 0 && (size_t)n < sizeof(tail));
	uint8_t *p = mem_alloc((size_t)clen + (size_t)n);
	if (p == NULL)
		return false;
	if (clen > 0)
		memcpy(p, client_id.p, (size_t)clen);
	memcpy(p + clen, tail, (size_t)n);
	*out = (struct obytes){ p, clen + n };
	return true;
}

/* ---------------------------------------------------------------------------------------------
 * State machine
 */

enum { GROUP_STATE_COUNT = GROUP_DEAD + 1 };

static const bool group_transitions[GROUP_STATE_COUNT][GROUP_STATE_COUNT] = {
	[GROUP_EMPTY][GROUP_PREPARING_REBALANCE] = true,
	[GROUP_EMPTY][GROUP_DEAD] = true,
	[GROUP_PREPARING_REBALANCE][GROUP_COMPLETING_REBALANCE] = true,
	[GROUP_PREPARING_REBALANCE][GROUP_EMPTY] = true,
	[GROUP_COMPLETING_REBALANCE][GROUP_STABLE] = true,
	[GROUP_COMPLETING_REBALANCE][GROUP_PREPARING_REBALANCE] = true,
	[GROUP_STABLE][GROUP_PREPARING_REBALANCE] = true,
};

static bool member_supports(const struct member *m, struct group_bytes name)
{
	for (int32_t i = 0; i < m->nprotocols; i++)
		if (obytes_eq(&m->protocols[i].name, name))
			return true;
	return false;
}

static bool group_invariants(const struct group *g)
{
	if (g->nmembers < 0 || g->npending < 0 || g->nmembers > g->members_cap ||
	    g->nmembers + g->npending > GROUP_MEMBERS_MAX)
		return false;
	if ((g->leader == NULL) != (g->nmembers == 0))
		return false;
	bool leader_found = g->leader == NULL;
	struct group_bytes chosen = view_raw(g->protocol_name, g->protocol_name_len);
	for (int32_t i = 0; i < g->nmembers; i++) {
		const struct member *m = g->members[i];
		if (m == g->leader)
			leader_found = true;
		if (m->join_parked && g->state != GROUP_PREPARING_REBALANCE)
			return false;
		if (m->sync_parked && g->state != GROUP_COMPLETING_REBALANCE)
			return false;
		if (m->nprotocols < 1 || m->nprotocols > GROUP_PROTOCOLS_MAX)
			return false;
		if (g->protocol_name_len >= 0 && !member_supports(m, chosen))
			return false;
	}
	if (!leader_found)
		return false;
	switch (g->state) {
	case GROUP_EMPTY:
	case GROUP_DEAD:
		return g->nmembers == 0 && g->protocol_name_len < 0;
	case GROUP_PREPARING_REBALANCE:
		return g->protocol_name_len < 0;
	case GROUP_COMPLETING_REBALANCE:
	case GROUP_STABLE:
		return g->nmembers > 0 && g->protocol_name_len >= 0 && g->generation > 0;
	}
	return false;
}

static void group_move(struct group *g, enum group_state to)
{
	assert(group_transitions[g->state][to]);
	g->state = to;
	assert(group_invariants(g));
}

const char *group_state_name(enum group_state s)
{
	/* The names DescribeGroups and ListGroups carry (Kafka's GroupState.toString). */
	switch (s) {
	case GROUP_EMPTY:
		return "Empty";
	case GROUP_PREPARING_REBALANCE:
		return "PreparingRebalance";
	case GROUP_COMPLETING_REBALANCE:
		return "CompletingRebalance";
	case GROUP_STABLE:
		return "Stable";
	case GROUP_DEAD:
		return "Dead";
	}
	return "Unknown";
}

void group_config_default(struct group_config *c)
{
	c->session_timeout_min_ms = 6000;
	c->session_timeout_max_ms = 1800000;
	c->initial_rebalance_delay_ms = 3000;
}

/* ---------------------------------------------------------------------------------------------
 * Deadline heap
 */

static bool heap_less(const struct group_coordinator *gc, uint32_t a, uint32_t b)
{
	return gc->heap[a]->deadline_ms < gc->heap[b]->deadline_ms;
}

static void heap_swap(struct group_coordinator *gc, uint32_t a, uint32_t b)
{
	struct group *t = gc->heap[a];
	gc->heap[a] = gc->heap[b];
	gc->heap[b] = t;
	gc->heap[a]->heap_index = (int32_t)a;
	gc->heap[b]->heap_index = (int32_t)b;
}

static void heap_sift(struct group_coordinator *gc, uint32_t i)
{
	while (i > 0 && heap_less(gc, i, (i - 1) / 2)) {
		heap_swap(gc, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, min = i;
		if (l < gc->heap_len && heap_less(gc, l, min))
			min = l;
		if (r < gc->heap_len && heap_less(gc, r, min))
			min = r;
		if (min == i)
			break;
		heap_swap(gc, i, min);
		i = min;
	}
}

static void heap_remove(struct group_coordinator *gc, struct group *g)
{
	if (g->heap_index < 0)
		return;
	uint32_t i = (uint32_t)g->heap_index;
	uint32_t last = --gc->heap_len;
	g->heap_index = -1;
	if (i != last) {
		gc->heap[i] = gc->heap[last];
		gc->heap[i]->heap_index = (int32_t)i;
		heap_sift(gc, i);
	}
}

/* Recomputes the group's earliest deadline and its place in the heap. Never allocates: the heap
 * has room for every group (reserved in group_create()). */
static void group_schedule(struct group_coordinator *gc, struct group *g)
{
	int64_t d = DEADLINE_NONE;
	for (int32_t i = 0; i < g->npending; i++)
		if (g->pending[i].deadline_ms < d)
			d = g->pending[i].deadline_ms;
	for (int32_t i = 0; i < g->nmembers; i++) {
		const struct member *m = g->members[i];
		/* A member waiting on us for an answer is not expected to heartbeat. */
		if (!m->join_parked && !m->sync_parked && m->session_deadline_ms < d)
			d = m->session_deadline_ms;
	}
	if (g->state == GROUP_PREPARING_REBALANCE) {
		int64_t r = g->initial_delay ? g->initial_deadline_ms : g->rebalance_deadline_ms;
		if (r < d)
			d = r;
	}
	g->deadline_ms = d;
	if (d == DEADLINE_NONE) {
		heap_remove(gc, g);
		return;
	}
	if (g->heap_index < 0) {
		assert(gc->heap_len < gc->heap_cap);
		g->heap_index = (int32_t)gc->heap_len;
		gc->heap[gc->heap_len++] = g;
	}
	heap_sift(gc, (uint32_t)g->heap_index);
}

/* ---------------------------------------------------------------------------------------------
 * Groups: lookup, creation, removal
 */

static bool group_id_valid(struct group_bytes id)
{
	return id.p != NULL && id.len > 0 && id.len <= GROUP_ID_BYTES_MAX;
}

static struct group *group_find(struct group_coordinator *gc, struct group_bytes id)
{
	if (!group_id_valid(id))
		return NULL;
	uint64_t h = hash_bytes(id);
	for (struct group *g = gc->buckets[h & (gc->nbuckets - 1)]; g != NULL; g = g->hash_next)
		if (g->hash == h && obytes_eq(&g->id, id))
			return g;
	return NULL;
}

/* Makes room for one more group in the hash table and the heap. Returns false on OOM. */
static bool groups_reserve(struct group_coordinator *gc)
{
	if (gc->ngroups + 1 > gc->heap_cap) {
		uint32_t cap = gc->heap_cap * 2;
		struct group **heap = mem_zalloc(cap, sizeof(*heap));
		if (heap == NULL)
			return false;
		memcpy(heap, gc->heap, gc->heap_len * sizeof(*heap));
		mem_free(gc->heap);
		gc->heap = heap;
		gc->heap_cap = cap;
	}
	if (gc->ngroups + 1 > gc->nbuckets) {
		uint32_t n = gc->nbuckets * 2;
		struct group **b = mem_zalloc(n, sizeof(*b));
		if (b == NULL)
			return false;
		for (uint32_t i = 0; i < gc->nbuckets; i++) {
			while (gc->buckets[i] != NULL) {
				struct group *g = gc->buckets[i];
				gc->buckets[i] = g->hash_next;
				g->hash_next = b[g->hash & (n - 1)];
				b[g->hash & (n - 1)] = g;
			}
		}
		mem_free(gc->buckets);
		gc->buckets = b;
		gc->nbuckets = n;
	}
	return true;
}

/* Returns a new EMPTY group, or NULL when the coordinator is full or out of memory. */
static struct group *group_create(struct group_coordinator *gc, struct group_bytes id)
{
	assert(group_id_valid(id));
	if (gc->ngroups >= GROUP_GROUPS_MAX || !groups_reserve(gc))
		return NULL;
	struct group *g = mem_zalloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	if (!obytes_copy(&g->id, id)) {
		mem_free(g);
		return NULL;
	}
	g->hash = hash_bytes(id);
	g->state = GROUP_EMPTY;
	g->protocol_type_len = -1;
	g->protocol_name_len = -1;
	g->deadline_ms = DEADLINE_NONE;
	g->heap_index = -1;
	struct group **b = &gc->buckets[g->hash & (gc->nbuckets - 1)];
	g->hash_next = *b;
	*b = g;
	gc->ngroups++;
	assert(group_invariants(g));
	return g;
}

/* Releases a member and everything it owns, through `release` (mem_defer for a member results
 * may point into, an immediate free for one that was never linked). */
static void member_release(struct group_coordinator *gc, struct member *m,
			   void (*release)(struct group_coordinator *gc, void *p))
{
	release(gc, m->id.p);
	release(gc, m->instance_id.p);
	release(gc, m->client_id.p);
	release(gc, m->client_host.p);
	for (int32_t i = 0; i < m->nprotocols; i++) {
		release(gc, m->protocols[i].name.p);
		release(gc, m->protocols[i].metadata.p);
	}
	release(gc, m->protocols);
	release(gc, m->assignment.p);
	release(gc, m);
}

static void mem_free_now(struct group_coordinator *gc, void *p)
{
	(void)gc;
	mem_free(p);
}

/* Unlinks an EMPTY group from the table and the heap and defers its memory. */
static void group_destroy(struct group_coordinator *gc, struct group *g)
{
	assert(g->nmembers == 0);
	heap_remove(gc, g);
	struct group **pp = &gc->buckets[g->hash & (gc->nbuckets - 1)];
	while (*pp != g)
		pp = &(*pp)->hash_next;
	*pp = g->hash_next;
	gc->ngroups--;
	for (int32_t i = 0; i < g->npending; i++)
		mem_defer(gc, g->pending[i].id.p);
	mem_defer(gc, g->pending);
	mem_defer(gc, g->members);
	mem_defer(gc, g->join_members);
	mem_defer(gc, g->id.p);
	mem_defer(gc, g);
}

/* Makes room for one more member (and the leader's list). Returns false on OOM. */
static bool members_reserve(struct group_coordinator *gc, struct group *g)
{
	if (g->nmembers < g->members_cap)
		return true;
	int32_t cap = g->members_cap == 0 ? 4 : g->members_cap * 2;
	if (cap > GROUP_MEMBERS_MAX)
		cap = GROUP_MEMBERS_MAX;
	struct member **members = mem_zalloc((size_t)cap, sizeof(*members));
	struct group_join_member *jm = mem_zalloc((size_t)cap, sizeof(*jm));
	if (members == NULL || jm == NULL) {
		mem_free(members);
		mem_free(jm);
		return false;
	}
	if (g->nmembers > 0)
		memcpy(members, g->members, (size_t)g->nmembers * sizeof(*members));
	mem_defer(gc, g->members);
	mem_defer(gc, g->join_members);
	g->members = members;
	g->join_members = jm;
	g->members_cap = cap;
	return true;
}

static int32_t member_index(const struct group *g, struct group_bytes id)
{
	if (id.len <= 0)
		return -1;
	for (int32_t i = 0; i < g->nmembers; i++)
		if (obytes_eq(&g->members[i]->id, id))
			return i;
	return -1;
}

static struct member *member_find(const struct group *g, struct group_bytes id)
{
	int32_t i = member_index(g, id);
	return i < 0 ? NULL : g->members[i];
}

static struct member *member_by_instance(const struct group *g, struct group_bytes instance_id)
{
	if (!bytes_present(instance_id))
		return NULL;
	for (int32_t i = 0; i < g->nmembers; i++)
		if (obytes_eq(&g->members[i]->instance_id, instance_id))
			return g->members[i];
	return NULL;
}

static int32_t pending_index(const struct group *g, struct group_bytes id)
{
	if (id.len <= 0)
		return -1;
	for (int32_t i = 0; i < g->npending; i++)
		if (obytes_eq(&g->pending[i].id, id))
			return i;
	return -1;
}

static void pending_remove(struct group_coordinator *gc, struct group *g, int32_t i)
{
	assert(i >= 0 && i < g->npending);
	mem_defer(gc, g->pending[i].id.p);
	memmove(&g->pending[i], &g->pending[i + 1],
		(size_t)(g->npending - i - 1) * sizeof(g->pending[0]));
	g->npending--;
}

/* Static membership: is this request from an instance whose member id has been replaced? */
static bool instance_fenced(const struct group *g, struct group_bytes member_id,
			    struct group_bytes instance_id)
{
	const struct member *s = member_by_instance(g, instance_id);
	return s != NULL && !obytes_eq(&s->id, member_id);
}

/* ---------------------------------------------------------------------------------------------
 * Completing parked requests
 */

static void member_refresh(struct member *m, int64_t now_ms)
{
	m->session_deadline_ms = now_ms + m->session_timeout_ms;
}

/* Answers m's parked JoinGroup with *res (copied into the member) and refreshes its session. */
static void join_finish(struct group_coordinator *gc, struct member *m,
			const struct group_join_result *res, int64_t now_ms)
{
	assert(m->join_parked);
	m->join_parked = false;
	m->join_res = *res;
	member_refresh(m, now_ms);
	if (m == gc->inline_join) {
		*gc->inline_join_res = m->join_res;
		gc->inline_join_done = true;
		gc->inline_join = NULL;
		return;
	}
	gc->in_callback = true;
	gc->complete(gc->arg, m->join_token, &m->join_res, NULL);
	gc->in_callback = false;
}

static void join_finish_error(struct group_coordinator *gc, struct member *m, int16_t error,
			      int64_t now_ms)
{
	struct group_join_result r = {
		.error = error,
		.generation = -1,
		.protocol_type = bytes_empty,
		.protocol_name = bytes_empty,
		.leader = bytes_empty,
		.member_id = view(&m->id),
	};
	join_finish(gc, m, &r, now_ms);
}

static void sync_finish(struct group_coordinator *gc, const struct group *g, struct member *m,
			int16_t error, int64_t now_ms)
{
	assert(m->sync_parked);
	m->sync_parked = false;
	m->sync_res = (struct group_sync_result){
		.error = error,
		.protocol_type = error ? bytes_empty :
					 view_raw(g->protocol_type, g->protocol_type_len),
		.protocol_name = error ? bytes_empty :
					 view_raw(g->protocol_name, g->protocol_name_len),
		.assignment = error ? bytes_empty : view(&m->assignment),
	};
	member_refresh(m, now_ms);
	if (m == gc->inline_sync) {
		*gc->inline_sync_res = m->sync_res;
		gc->inline_sync_done = true;
		gc->inline_sync = NULL;
		return;
	}
	gc->in_callback = true;
	gc->complete(gc->arg, m->sync_token, NULL, &m->sync_res);
	gc->in_callback = false;
}

/* Removes members[i], answering its parked requests with UNKNOWN_MEMBER_ID. The leader moves to
 * the first remaining member. Does not change the group state. */
static void member_remove(struct group_coordinator *gc, struct group *g, int32_t i, int64_t now_ms)
{
	assert(i >= 0 && i < g->nmembers);
	struct member *m = g->members[i];
	if (m->join_parked)
		join_finish_error(gc, m, ERR_UNKNOWN_MEMBER_ID, now_ms);
	if (m->sync_parked)
		sync_finish(gc, g, m, ERR_UNKNOWN_MEMBER_ID, now_ms);
	memmove(&g->members[i], &g->members[i + 1],
		(size_t)(g->nmembers - i - 1) * sizeof(g->members[0]));
	g->nmembers--;
	if (g->leader == m)
		g->leader = g->nmembers > 0 ? g->members[0] : NULL;
	member_release(gc, m, mem_defer);
}

/* ---------------------------------------------------------------------------------------------
 * Rebalancing
 */

/* Kafka's vote: of the protocols every member supports, each member votes for the first in its
 * own preference order; most votes wins, ties go to the first member's preference. */
static struct group_bytes protocol_select(const struct group *g)
{
	assert(g->nmembers > 0);
	const struct member *first = g->members[0];
	bool candidate[GROUP_PROTOCOLS_MAX] = { false };
	int32_t votes[GROUP_PROTOCOLS_MAX] = { 0 };
	for (int32_t c = 0; c < first->nprotocols; c++) {
		struct group_bytes name = view(&first->protocols[c].name);
		candidate[c] = true;
		for (int32_t i = 1; i < g->nmembers && candidate[c]; i++)
			candidate[c] = member_supports(g->members[i], name);
	}
	for (int32_t i = 0; i < g->nmembers; i++) {
		const struct member *m = g->members[i];
		for (int32_t p = 0; p < m->nprotocols; p++) {
			int32_t c;
			for (c = 0; c < first->nprotocols; c++)
				if (candidate[c] && obytes_eq(&first->protocols[c].name,
							      view(&m->protocols[p].name)))
					break;
			if (c < first->nprotocols) {
				votes[c]++;
				break;
			}
		}
	}
	int32_t best = -1;
	for (int32_t c = 0; c < first->nprotocols; c++)
		if (candidate[c] && (best < 0 || votes[c] > votes[best]))
			best = c;
	assert(best >= 0); /* invariant 5 */
	return view(&first->protocols[best].name);
}

static struct group_bytes member_metadata(const struct member *m, struct group_bytes protocol)
{
	for (int32_t i = 0; i < m->nprotocols; i++)
		if (obytes_eq(&m->protocols[i].name, protocol))
			return view(&m->protocols[i].metadata);
	return bytes_empty;
}

/* Fills the JoinGroup answer of the current generation for m; the leader gets every member's
 * metadata for the chosen protocol (in g->join_members, reserved with the members). */
static void join_current(struct group *g, const struct member *m, struct group_join_result *res)
{
	assert(g->protocol_name_len >= 0 && g->leader != NULL);
	struct group_bytes protocol = view_raw(g->protocol_name, g->protocol_name_len);
	*res = (struct group_join_result){
		.error = ERR_NONE,
		.generation = g->generation,
		.protocol_type = view_raw(g->protocol_type, g->protocol_type_len),
		.protocol_name = protocol,
		.leader = view(&g->leader->id),
		.member_id = view(&m->id),
	};
	if (m != g->leader)
		return;
	for (int32_t i = 0; i < g->nmembers; i++) {
		const struct member *x = g->members[i];
		g->join_members[i] = (struct group_join_member){
			.member_id = view(&x->id),
			.instance_id = view(&x->instance_id),
			.metadata = member_metadata(x, protocol),
		};
	}
	res->members = g->join_members;
	res->nmembers = g->nmembers;
}

/* Ends the join phase (Kafka's onCompleteJoin): members that did not rejoin are removed, the
 * generation goes up, and every parked JoinGroup is answered. */
static void join_complete(struct group_coordinator *gc, struct group *g, int64_t now_ms)
{
	assert(g->state == GROUP_PREPARING_REBALANCE);
	for (int32_t i = g->nmembers - 1; i >= 0; i--)
		if (!g->members[i]->join_parked)
			member_remove(gc, g, i, now_ms);
	g->generation++;
	g->initial_delay = false;
	g->new_member_added = false;
	if (g->nmembers == 0) {
		g->protocol_name_len = -1;
		group_move(g, GROUP_EMPTY);
		return;
	}
	struct group_bytes chosen = protocol_select(g);
	assert(chosen.len >= 0 && chosen.len <= NAME_BYTES_MAX);
	memcpy(g->protocol_name, chosen.p, (size_t)chosen.len);
	g->protocol_name_len = chosen.len;
	for (int32_t i = 0; i < g->nmembers; i++) {
		struct member *m = g->members[i];
		mem_defer(gc, m->assignment.p);
		m->assignment = (struct obytes){ NULL, 0 };
	}
	/* Every remaining member has a parked JoinGroup; they are answered before the move, since
	 * a parked join outside PREPARING_REBALANCE would break invariant 3. */
	for (int32_t i = 0; i < g->nmembers; i++) {
		struct member *m = g->members[i];
		struct group_join_result r;
		join_current(g, m, &r);
		join_finish(gc, m, &r, now_ms);
	}
	group_move(g, GROUP_COMPLETING_REBALANCE);
}

static int32_t rebalance_timeout_max(const struct group *g)
{
	int32_t t = 0;
	for (int32_t i = 0; i < g->nmembers; i++)
		if (g->members[i]->rebalance_timeout_ms > t)
			t = g->members[i]->rebalance_timeout_ms;
	return t;
}

/* Starts a join phase (Kafka's prepareRebalance). Parked SyncGroups of the generation being
 * abandoned are answered REBALANCE_IN_PROGRESS. */
static void rebalance_prepare(struct group_coordinator *gc, struct group *g, int64_t now_ms)
{
	assert(g->state == GROUP_EMPTY || g->state == GROUP_STABLE ||
	       g->state == GROUP_COMPLETING_REBALANCE);
	if (g->state == GROUP_COMPLETING_REBALANCE)
		for (int32_t i = 0; i < g->nmembers; i++)
			if (g->members[i]->sync_parked)
				sync_finish(gc, g, g->members[i], ERR_REBALANCE_IN_PROGRESS,
					    now_ms);
	/* The chosen protocol belongs to the generation being abandoned; the next one votes anew. */
	g->protocol_name_len = -1;
	int32_t timeout_ms = rebalance_timeout_max(g);
	g->rebalance_deadline_ms = now_ms + timeout_ms;
	g->initial_delay = g->state == GROUP_EMPTY;
	g->new_member_added = false;
	if (g->initial_delay) {
		/* Kafka's InitialDelayedJoin: wait the configured delay (at most the rebalance
		 * timeout); each new joiner earns another delay out of what is left. */
		int32_t delay = gc->cfg.initial_rebalance_delay_ms;
		if (delay > timeout_ms)
			delay = timeout_ms;
		g->initial_deadline_ms = now_ms + delay;
		g->initial_remaining_ms = timeout_ms > delay ? timeout_ms - delay : 0;
	}
	group_move(g, GROUP_PREPARING_REBALANCE);
}

/* Ends the join phase if it is due (every member rejoined, or a deadline passed). */
static void join_maybe_complete(struct group_coordinator *gc, struct group *g, int64_t now_ms)
{
	if (g->state != GROUP_PREPARING_REBALANCE)
		return;
	if (g->nmembers == 0) {
		join_complete(gc, g, now_ms);
		return;
	}
	if (g->initial_delay) {
		if (now_ms < g->initial_deadline_ms)
			return;
		int64_t extra = gc->cfg.initial_rebalance_delay_ms;
		if (extra > g->initial_remaining_ms)
			extra = g->initial_remaining_ms;
		if (g->new_member_added && extra > 0) {
			g->new_member_added = false;
			g->initial_remaining_ms -= extra;
			g->initial_deadline_ms = now_ms + extra;
			return;
		}
		join_complete(gc, g, now_ms);
		return;
	}
	bool all_joined = g->npending == 0;
	for (int32_t i = 0; i < g->nmembers && all_joined; i++)
		all_joined = g->members[i]->join_parked;
	if (all_joined || now_ms >= g->rebalance_deadline_ms)
		join_complete(gc, g, now_ms);
}

/* Removes members[i] and lets the group react (Kafka's removeMemberAndUpdateGroup). */
static void member_remove_and_update(struct group_coordinator *gc, struct group *g, int32_t i,
				     int64_t now_ms)
{
	member_remove(gc, g, i, now_ms);
	if (g->state == GROUP_STABLE || g->state == GROUP_COMPLETING_REBALANCE)
		rebalance_prepare(gc, g, now_ms);
	join_maybe_complete(gc, g, now_ms);
}

/* Parks m's JoinGroup (answering an older parked one first), starts a join phase if none runs
 * and completes it if it is already due. Returns true when m's answer is in *res. */
static bool join_park(struct group_coordinator *gc, struct group *g, struct member *m,
		      int64_t now_ms, void *token, struct group_join_result *res)
{
	if (m->join_parked)
		join_finish_error(gc, m, ERR_REBALANCE_IN_PROGRESS, now_ms);
	if (g->state != GROUP_PREPARING_REBALANCE)
		rebalance_prepare(gc, g, now_ms);
	m->join_parked = true;
	m->join_token = token;
	gc->inline_join = m;
	gc->inline_join_res = res;
	gc->inline_join_done = false;
	join_maybe_complete(gc, g, now_ms);
	gc->inline_join = NULL;
	return gc->inline_join_done;
}

/* ---------------------------------------------------------------------------------------------
 * JoinGroup
 */

/* Copies the request's protocols into a new array. Returns NULL on OOM. */
static struct proto *protocols_copy(const struct group_join_req *req)
{
	struct proto *p = mem_zalloc((size_t)req->nprotocols, sizeof(*p));
	if (p == NULL)
		return NULL;
	for (int32_t i = 0; i < req->nprotocols; i++) {
		if (!obytes_copy(&p[i].name, req->protocols[i].name) ||
		    !obytes_copy(&p[i].metadata, req->protocols[i].metadata)) {
			for (int32_t j = 0; j <= i; j++) {
				mem_free(p[j].name.p);
				mem_free(p[j].metadata.p);
			}
			mem_free(p);
			return NULL;
		}
	}
	return p;
}

static bool protocols_equal(const struct member *m, const struct group_join_req *req)
{
	if (m->nprotocols != req->nprotocols)
		return false;
	for (int32_t i = 0; i < m->nprotocols; i++)
		if (!obytes_eq(&m->protocols[i].name, req->protocols[i].name) ||
		    !obytes_eq(&m->protocols[i].metadata, req->protocols[i].metadata))
			return false;
	return true;
}

/* Replaces m's protocols by the request's. Returns false on OOM (m unchanged). */
static bool member_set_protocols(struct group_coordinator *gc, struct member *m,
				 const struct group_join_req *req)
{
	struct proto *p = protocols_copy(req);
	if (p == NULL)
		return false;
	for (int32_t i = 0; i < m->nprotocols; i++) {
		mem_defer(gc, m->protocols[i].name.p);
		mem_defer(gc, m->protocols[i].metadata.p);
	}
	mem_defer(gc, m->protocols);
	m->protocols = p;
	m->nprotocols = req->nprotocols;
	return true;
}

static int32_t rebalance_timeout_of(const struct group_join_req *req)
{
	/* JoinGroup v0 has no RebalanceTimeoutMs: the session timeout serves. */
	return req->rebalance_timeout_ms < 0 ? req->session_timeout_ms : req->rebalance_timeout_ms;
}

/* Returns a new unlinked member with id `id` (owned on success) and the request's fields, or
 * NULL on OOM (then the caller still owns `id`). */
static struct member *member_new(struct obytes id, const struct group_join_req *req, int64_t now_ms)
{
	struct member *m = mem_zalloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->instance_id = (struct obytes){ NULL, -1 };
	m->protocols = protocols_copy(req);
	if (m->protocols == NULL)
		goto err_after_alloc;
	m->nprotocols = req->nprotocols;
	if (bytes_present(req->instance_id) && !obytes_copy(&m->instance_id, req->instance_id))
		goto err_after_alloc;
	if (!obytes_copy(&m->client_id, req->client_id) ||
	    !obytes_copy(&m->client_host, req->client_host))
		goto err_after_alloc;
	m->id = id;
	m->assignment = (struct obytes){ NULL, 0 };
	m->session_timeout_ms = req->session_timeout_ms;
	m->rebalance_timeout_ms = rebalance_timeout_of(req);
	member_refresh(m, now_ms);
	return m;

err_after_alloc:
	m->id = (struct obytes){ NULL, -1 };
	member_release(NULL, m, mem_free_now);
	return NULL;
}

/* Whether a join with these protocols fits the group (Kafka's supportsProtocols): the same
 * protocol type, and some protocol of the request that every other member supports. `self` is
 * the joining member if it is already known (its old protocols do not count). */
static bool protocols_fit(const struct group *g, const struct member *self,
			  const struct group_join_req *req)
{
	if (g->nmembers == 0 || (g->nmembers == 1 && g->members[0] == self))
		return true;
	if (!bytes_eq(view_raw(g->protocol_type, g->protocol_type_len), req->protocol_type))
		return false;
	for (int32_t p = 0; p < req->nprotocols; p++) {
		bool all = true;
		for (int32_t i = 0; i < g->nmembers && all; i++)
			if (g->members[i] != self)
				all = member_supports(g->members[i], req->protocols[p].name);
		if (all)
			return true;
	}
	return false;
}

static bool join_error(struct group_join_result *res, int16_t error, struct group_bytes member_id)
{
	*res = (struct group_join_result){
		.error = error,
		.generation = -1,
		.protocol_type = bytes_empty,
		.protocol_name = bytes_empty,
		.leader = bytes_empty,
		.member_id = member_id,
	};
	return true;
}

/* Checks what does not depend on the group. Returns 0 or a Kafka error code. */
static int16_t join_validate(const struct group_coordinator *gc, const struct group_join_req *req)
{
	if (!group_id_valid(req->group_id))
		return ERR_INVALID_GROUP_ID;
	/* A session must last at least a millisecond, whatever the configured minimum. */
	if (req->session_timeout_ms <= 0 ||
	    req->session_timeout_ms < gc->cfg.session_timeout_min_ms ||
	    req->session_timeout_ms > gc->cfg.session_timeout_max_ms)
		return ERR_INVALID_SESSION_TIMEOUT;
	/* The group stores the protocol type and the chosen name in fixed buffers; a client
	 * offering more than GROUP_PROTOCOLS_MAX protocols or absurd names is malformed. */
	if (req->nprotocols > GROUP_PROTOCOLS_MAX || req->protocol_type.len > NAME_BYTES_MAX ||
	    req->instance_id.len > INSTANCE_ID_BYTES_MAX)
		return ERR_INVALID_REQUEST;
	if (!bytes_present(req->protocol_type) || req->nprotocols < 1 || req->protocols == NULL)
		return ERR_INCONSISTENT_GROUP_PROTOCOL;
	for (int32_t i = 0; i < req->nprotocols; i++) {
		if (req->protocols[i].name.len > NAME_BYTES_MAX)
			return ERR_INVALID_REQUEST;
		if (!bytes_present(req->protocols[i].name))
			return ERR_INCONSISTENT_GROUP_PROTOCOL;
	}
	return ERR_NONE;
}

/* Adds m (already allocated, room reserved) and parks its join. */
static bool join_add_member(struct group_coordinator *gc, struct group *g, struct member *m,
			    const struct group_join_req *req, int64_t now_ms, void *token,
			    struct group_join_result *res)
{
	assert(g->nmembers < g->members_cap);
	if (g->nmembers == 0) {
		memcpy(g->protocol_type, req->protocol_type.p, (size_t)req->protocol_type.len);
		g->protocol_type_len = req->protocol_type.len;
	}
	g->members[g->nmembers++] = m;
	if (g->leader == NULL)
		g->leader = m;
	if (g->state == GROUP_PREPARING_REBALANCE && g->initial_delay)
		g->new_member_added = true;
	return join_park(gc, g, m, now_ms, token, res);
}

/* A static member restarts (known instance id, empty member id): it gets a new member id, the
 * old one is fenced, and in a STABLE group with unchanged protocols it keeps its assignment and
 * the generation (KIP-345); the leader is told it leads (KIP-814). */
static bool join_static_replace(struct group_coordinator *gc, struct group *g, struct member *old,
				const struct group_join_req *req, int64_t now_ms, void *token,
				struct group_join_result *res)
{
	struct obytes id;
	if (!member_id_generate(gc, req->client_id, &id))
		return join_error(res, ERR_COORDINATOR_NOT_AVAILABLE, bytes_empty);
	struct member *m = member_new(id, req, now_ms);
	if (m == NULL) {
		mem_free(id.p);
		return join_error(res, ERR_COORDINATOR_NOT_AVAILABLE, bytes_empty);
	}
	bool same = protocols_equal(old, req);
	if (old->join_parked)
		join_finish_error(gc, old, ERR_FENCED_INSTANCE_ID, now_ms);
	if (old->sync_parked)
		sync_finish(gc, g, old, ERR_FENCED_INSTANCE_ID, now_ms);
	m->assignment = old->assignment;
	old->assignment = (struct obytes){ NULL, 0 };
	int32_t i = member_index(g, view(&old->id));
	assert(i >= 0);
	g->members[i] = m;
	if (g->leader == old)
		g->leader = m;
	member_release(gc, old, mem_defer);
	if (g->state == GROUP_STABLE && same) {
		join_current(g, m, res);
		m->join_res = *res;
		return true;
	}
	return join_park(gc, g, m, now_ms, token, res);
}

/* JoinGroup with an empty member id. */
static bool join_unknown(struct group_coordinator *gc, struct group *g,
			 const struct group_join_req *req, int64_t now_ms, void *token,
			 struct group_join_result *res)
{
	bool is_static = bytes_present(req->instance_id);
	struct member *old = is_static ? member_by_instance(g, req->instance_id) : NULL;
	if (!protocols_fit(g, old, req))
		return join_error(res, ERR_INCONSISTENT_GROUP_PROTOCOL, bytes_empty);
	if (old != NULL)
		return join_static_replace(gc, g, old, req, now_ms, token, res);
	if (g->nmembers + g->npending >= GROUP_MEMBERS_MAX)
		return join_error(res, ERR_GROUP_MAX_SIZE_REACHED, bytes_empty);
	struct obytes id;
	if (!member_id_generate(gc, req->client_id, &id))
		return join_error(res, ERR_COORDINATOR_NOT_AVAILABLE, bytes_empty);
	if (!is_static && req->version >= 4) {
		/* KIP-394: the client must come back with this id, so that a client whose join
		 * response is lost does not leave a ghost member behind. */
		if (g->npending == g->pending_cap) {
			int32_t cap = g->pending_cap == 0 ? 4 : g->pending_cap * 2;
			struct pending *p = mem_zalloc((size_t)cap, sizeof(*p));
			if (p == NULL) {
				mem_free(id.p);
				return join_error(res, ERR_COORDINATOR_NOT_AVAILABLE, bytes_empty);
			}
			if (g->npending > 0)
				memcpy(p, g->pending, (size_t)g->npending * sizeof(*p));
			mem_defer(gc, g->pending);
			g->pending = p;
			g->pending_cap = cap;
		}
		g->pending[g->npending++] = (struct pending){ id,
							      now_ms + req->session_timeout_ms };
		return join_error(res, ERR_MEMBER_ID_REQUIRED, view(&id));
	}
	struct member *m = members_reserve(gc, g) ? member_new(id, req, now_ms) : NULL;
	if (m == NULL) {
		mem_free(id.p);
		return join_error(res, ERR_COORDINATOR_NOT_AVAILABLE, bytes_empty);
	}
	return join_add_member(gc, g, m, req, now_ms, token, res);
}

/* JoinGroup with a member id: a pending member completing KIP-394, or a known member. */
static bool join_known(struct group_coordinator *gc, struct group *g,
		       const struct group_join_req *req, int64_t now_ms, void *token,
		       struct group_join_result *res)
{
	if (instance_fenced(g, req->member_id, req->instance_id))
		return join_error(res, ERR_FENCED_INSTANCE_ID, bytes_empty);
	int32_t p = pending_index(g, req->member_id);
	if (p >= 0) {
		if (!protocols_fit(g, NULL, req))
			return join_error(res, ERR_INCONSISTENT_GROUP_PROTOCOL, bytes_empty);
		struct obytes id;
		if (!obytes_copy(&id, req->member_id))
			return join_error(res, ERR_COORDINATOR_NOT_AVAILABLE, bytes_empty);
		struct member *m = members_reserve(gc, g) ? member_new(id, req, now_ms) : NULL;
		if (m == NULL) {
			mem_free(id.p);
			return join_error(res, ERR_COORDINATOR_NOT_AVAILABLE, bytes_empty);
		}
		pending_remove(gc, g, p);
		return join_add_member(gc, g, m, req, now_ms, token, res);
	}
	struct member *m = member_find(g, req->member_id);
	if (m == NULL)
		return join_error(res, ERR_UNKNOWN_MEMBER_ID, bytes_empty);
	if (!protocols_fit(g, m, req))
		return join_error(res, ERR_INCONSISTENT_GROUP_PROTOCOL, view(&m->id));
	bool same = protocols_equal(m, req);
	if (!same && !member_set_protocols(gc, m, req))
		return join_error(res, ERR_COORDINATOR_NOT_AVAILABLE, view(&m->id));
	m->session_timeout_ms = req->session_timeout_ms;
	m->rebalance_timeout_ms = rebalance_timeout_of(req);
	member_refresh(m, now_ms);
	switch (g->state) {
	case GROUP_PREPARING_REBALANCE:
		return join_park(gc, g, m, now_ms, token, res);
	case GROUP_COMPLETING_REBALANCE:
		/* Same metadata: the member probably lost the JoinGroup response; repeat it. */
		if (same) {
			join_current(g, m, res);
			return true;
		}
		return join_park(gc, g, m, now_ms, token, res);
	case GROUP_STABLE:
		/* A follower with unchanged metadata gets the current generation back; the leader
		 * rejoins to have metadata changes (new partitions) taken into account. */
		if (same && m != g->leader) {
			join_current(g, m, res);
			return true;
		}
		return join_park(gc, g, m, now_ms, token, res);
	case GROUP_EMPTY:
	case GROUP_DEAD:
		break;
	}
	assert(false && "a known member in an EMPTY or DEAD group");
	return join_error(res, ERR_UNKNOWN_MEMBER_ID, bytes_empty);
}

/* Common entry of every public call: no re-entry from `complete`, and memory deferred by the
 * previous call is released now that its results are no longer in use. */
static void enter(struct group_coordinator *gc)
{
	assert(!gc->in_callback && "complete must not call into the coordinator");
	mem_flush(gc);
}

/* Common exit for a call that touched g: check it and reschedule its deadline. */
static void leave_group(struct group_coordinator *gc, struct group *g)
{
	assert(group_invariants(g));
	group_schedule(gc, g);
}

bool group_join(struct group_coordinator *gc, const struct group_join_req *req, int64_t now_ms,
		void *token, struct group_join_result *res)
{
	enter(gc);
	int16_t err = join_validate(gc, req);
	if (err != ERR_NONE)
		return join_error(res, err, bytes_empty);
	bool known = req->member_id.len > 0;
	struct group *g = group_find(gc, req->group_id);
	if (g == NULL) {
		if (known)
			return join_error(res, ERR_UNKNOWN_MEMBER_ID, bytes_empty);
		g = group_create(gc, req->group_id);
		if (g == NULL)
			return join_error(res, ERR_COORDINATOR_NOT_AVAILABLE, bytes_empty);
	}
	bool done = known ? join_known(gc, g, req, now_ms, token, res) :
			    join_unknown(gc, g, req, now_ms, token, res);
	leave_group(gc, g);
	return done;
}

/* ---------------------------------------------------------------------------------------------
 * SyncGroup, Heartbeat, LeaveGroup, OffsetCommit checks
 */

static bool sync_error(struct group_sync_result *res, int16_t error)
{
	*res = (struct group_sync_result){
		.error = error,
		.protocol_type = bytes_empty,
		.protocol_name = bytes_empty,
		.assignment = bytes_empty,
	};
	return true;
}

/* Finds the member a request comes from. Returns 0 with *out set, or the error to answer. */
static int16_t member_identify(struct group *g, struct group_bytes member_id,
			       struct group_bytes instance_id, struct member **out)
{
	*out = NULL;
	if (g == NULL)
		return ERR_UNKNOWN_MEMBER_ID;
	if (instance_fenced(g, member_id, instance_id))
		return ERR_FENCED_INSTANCE_ID;
	*out = member_find(g, member_id);
	return *out == NULL ? ERR_UNKNOWN_MEMBER_ID : ERR_NONE;
}

/* Stores the leader's assignments (members it names that are not in the group are ignored; the
 * others get an empty assignment). Returns false on OOM with nothing changed. */
static bool assignments_store(struct group_coordinator *gc, struct group *g,
			      const struct group_sync_req *req)
{
	struct obytes *copies = mem_zalloc((size_t)g->nmembers, sizeof(*copies));
	if (copies == NULL)
		return false;
	for (int32_t a = 0; a < req->nassignments; a++) {
		int32_t i = member_index(g, req->assignments[a].member_id);
		if (i < 0)
			continue;
		mem_free(copies[i].p); /* a repeated member id: the last one wins */
		copies[i] = (struct obytes){ NULL, 0 };
		if (!obytes_copy(&copies[i], req->assignments[a].assignment)) {
			for (int32_t j = 0; j < g->nmembers; j++)
				mem_free(copies[j].p);
			mem_free(copies);
			return false;
		}
	}
	for (int32_t i = 0; i < g->nmembers; i++) {
		struct member *m = g->members[i];
		mem_defer(gc, m->assignment.p);
		m->assignment = copies[i].len < 0 ? (struct obytes){ NULL, 0 } : copies[i];
	}
	mem_free(copies);
	return true;
}

bool group_sync(struct group_coordinator *gc, const struct group_sync_req *req, int64_t now_ms,
		void *token, struct group_sync_result *res)
{
	enter(gc);
	if (!group_id_valid(req->group_id))
		return sync_error(res, ERR_INVALID_GROUP_ID);
	struct group *g = group_find(gc, req->group_id);
	struct member *m;
	int16_t err = member_identify(g, req->member_id, req->instance_id, &m);
	if (err != ERR_NONE)
		return sync_error(res, err);
	bool done = true;
	if (req->generation != g->generation) {
		sync_error(res, ERR_ILLEGAL_GENERATION);
		goto out;
	}
	member_refresh(m, now_ms);
	switch (g->state) {
	case GROUP_PREPARING_REBALANCE:
		sync_error(res, ERR_REBALANCE_IN_PROGRESS);
		break;
	case GROUP_STABLE:
		*res = (struct group_sync_result){
			.error = ERR_NONE,
			.protocol_type = view_raw(g->protocol_type, g->protocol_type_len),
			.protocol_name = view_raw(g->protocol_name, g->protocol_name_len),
			.assignment = view(&m->assignment),
		};
		m->sync_res = *res;
		break;
	case GROUP_COMPLETING_REBALANCE:
		if (m == g->leader && !assignments_store(gc, g, req)) {
			sync_error(res, ERR_COORDINATOR_NOT_AVAILABLE);
			break;
		}
		if (m->sync_parked)
			sync_finish(gc, g, m, ERR_REBALANCE_IN_PROGRESS, now_ms);
		m->sync_parked = true;
		m->sync_token = token;
		if (m != g->leader) {
			done = false;
			break;
		}
		/* The leader's SyncGroup: every parked SyncGroup, its own included, completes. */
		gc->inline_sync = m;
		gc->inline_sync_res = res;
		gc->inline_sync_done = false;
		for (int32_t i = 0; i < g->nmembers; i++)
			if (g->members[i]->sync_parked)
				sync_finish(gc, g, g->members[i], ERR_NONE, now_ms);
		gc->inline_sync = NULL;
		assert(gc->inline_sync_done);
		group_move(g, GROUP_STABLE);
		break;
	case GROUP_EMPTY:
	case GROUP_DEAD:
		assert(false && "a known member in an EMPTY or DEAD group");
		sync_error(res, ERR_UNKNOWN_MEMBER_ID);
		break;
	}
out:
	leave_group(gc, g);
	return done;
}

int16_t group_heartbeat(struct group_coordinator *gc, struct group_bytes group_id,
			struct group_bytes member_id, struct group_bytes instance_id,
			int32_t generation, int64_t now_ms)
{
	enter(gc);
	if (!group_id_valid(group_id))
		return ERR_INVALID_GROUP_ID;
	struct group *g = group_find(gc, group_id);
	struct member *m;
	int16_t err = member_identify(g, member_id, instance_id, &m);
	if (err != ERR_NONE)
		return err;
	if (generation != g->generation) {
		err = ERR_ILLEGAL_GENERATION;
	} else {
		member_refresh(m, now_ms);
		/* Kafka 2.3+ treats a heartbeat between the JoinGroup answer and the SyncGroup as
		 * normal (COMPLETING_REBALANCE); only a rebalance still collecting members asks
		 * the member to rejoin. */
		err = g->state == GROUP_PREPARING_REBALANCE ? ERR_REBALANCE_IN_PROGRESS : ERR_NONE;
	}
	leave_group(gc, g);
	return err;
}

int16_t group_leave(struct group_coordinator *gc, struct group_bytes group_id,
		    struct group_bytes member_id, struct group_bytes instance_id, int64_t now_ms)
{
	enter(gc);
	if (!group_id_valid(group_id))
		return ERR_INVALID_GROUP_ID;
	struct group *g = group_find(gc, group_id);
	if (g == NULL)
		return ERR_UNKNOWN_MEMBER_ID;
	int16_t err = ERR_NONE;
	int32_t i;
	if (member_id.len <= 0) {
		/* LeaveGroup v3 names static members by instance id alone. */
		const struct member *m = member_by_instance(g, instance_id);
		i = m == NULL ? -1 : member_index(g, view(&m->id));
	} else if (instance_fenced(g, member_id, instance_id)) {
		err = ERR_FENCED_INSTANCE_ID;
		goto out;
	} else {
		i = member_index(g, member_id);
		int32_t p = i < 0 ? pending_index(g, member_id) : -1;
		if (p >= 0) {
			/* A member that got MEMBER_ID_REQUIRED and gave up. */
			pending_remove(gc, g, p);
			join_maybe_complete(gc, g, now_ms);
			goto out;
		}
	}
	if (i < 0) {
		err = ERR_UNKNOWN_MEMBER_ID;
		goto out;
	}
	member_remove_and_update(gc, g, i, now_ms);
out:
	leave_group(gc, g);
	return err;
}

int16_t group_commit_check(struct group_coordinator *gc, struct group_bytes group_id,
			   struct group_bytes member_id, struct group_bytes instance_id,
			   int32_t generation, int64_t now_ms)
{
	enter(gc);
	if (!group_id_valid(group_id))
		return ERR_INVALID_GROUP_ID;
	struct group *g = group_find(gc, group_id);
	if (g == NULL)
		/* A group that only stores offsets in Kafka; a generation >= 0 is a leftover of a
		 * group this coordinator does not know (Kafka answers ILLEGAL_GENERATION). */
		return generation < 0 ? ERR_NONE : ERR_ILLEGAL_GENERATION;
	if (instance_fenced(g, member_id, instance_id))
		return ERR_FENCED_INSTANCE_ID;
	if (generation < 0 && g->state == GROUP_EMPTY)
		return ERR_NONE;
	struct member *m = member_find(g, member_id);
	if (m == NULL)
		return ERR_UNKNOWN_MEMBER_ID;
	if (generation != g->generation)
		return ERR_ILLEGAL_GENERATION;
	/* During PREPARING_REBALANCE the commit of the current generation still counts: the
	 * member learns about the rebalance from its next heartbeat (as in Kafka). */
	if (g->state == GROUP_COMPLETING_REBALANCE)
		return ERR_REBALANCE_IN_PROGRESS;
	member_refresh(m, now_ms);
	leave_group(gc, g);
	return ERR_NONE;
}

/* ---------------------------------------------------------------------------------------------
 * DescribeGroups, ListGroups, DeleteGroups
 */

void group_describe(struct group_coordinator *gc, struct group_bytes group_id,
		    struct group_describe_result *res)
{
	enter(gc);
	*res = (struct group_describe_result){
		.error = ERR_NONE,
		.state = GROUP_DEAD,
		.protocol_type = bytes_empty,
		.protocol_name = bytes_empty,
	};
	if (!group_id_valid(group_id)) {
		res->error = ERR_INVALID_GROUP_ID;
		return;
	}
	struct group *g = group_find(gc, group_id);
	if (g == NULL)
		return;
	if (g->nmembers > gc->describe_cap) {
		int32_t cap = g->members_cap;
		struct group_describe_member *d = mem_zalloc((size_t)cap, sizeof(*d));
		if (d == NULL) {
			res->error = ERR_COORDINATOR_NOT_AVAILABLE;
			return;
		}
		mem_free(gc->describe);
		gc->describe = d;
		gc->describe_cap = cap;
	}
	/* As Kafka's GroupMetadata.summary: metadata and assignments only for a STABLE group. */
	bool stable = g->state == GROUP_STABLE;
	struct group_bytes protocol = view_raw(g->protocol_name, g->protocol_name_len);
	for (int32_t i = 0; i < g->nmembers; i++) {
		const struct member *m = g->members[i];
		gc->describe[i] = (struct group_describe_member){
			.member_id = view(&m->id),
			.instance_id = view(&m->instance_id),
			.client_id = view(&m->client_id),
			.client_host = view(&m->client_host),
			.metadata = stable ? member_metadata(m, protocol) : bytes_empty,
			.assignment = stable ? view(&m->assignment) : bytes_empty,
		};
	}
	res->state = g->state;
	res->protocol_type = g->protocol_type_len < 0 ?
				     bytes_empty :
				     view_raw(g->protocol_type, g->protocol_type_len);
	res->protocol_name = stable ? protocol : bytes_empty;
	res->members = g->nmembers > 0 ? gc->describe : NULL;
	res->nmembers = g->nmembers;
}

void group_list(struct group_coordinator *gc,
		void (*fn)(void *arg, struct group_bytes group_id, struct group_bytes protocol_type,
			   enum group_state state),
		void *arg)
{
	enter(gc);
	gc->in_callback = true;
	for (uint32_t b = 0; b < gc->nbuckets; b++)
		for (struct group *g = gc->buckets[b]; g != NULL; g = g->hash_next)
			if (g->state != GROUP_DEAD)
				fn(arg, view(&g->id),
				   g->protocol_type_len < 0 ?
					   bytes_empty :
					   view_raw(g->protocol_type, g->protocol_type_len),
				   g->state);
	gc->in_callback = false;
}

int16_t group_delete(struct group_coordinator *gc, struct group_bytes group_id)
{
	enter(gc);
	if (!group_id_valid(group_id))
		return ERR_INVALID_GROUP_ID;
	struct group *g = group_find(gc, group_id);
	if (g == NULL)
		return ERR_GROUP_ID_NOT_FOUND;
	if (g->state != GROUP_EMPTY)
		return ERR_NON_EMPTY_GROUP;
	group_move(g, GROUP_DEAD);
	group_destroy(gc, g);
	return ERR_NONE;
}

/* ---------------------------------------------------------------------------------------------
 * Timeouts
 */

/* Handles every deadline of g that is due at now_ms. Afterwards no deadline of g is <= now_ms:
 * each step either removes what expired or ends the join phase (which refreshes sessions). */
static void group_expire(struct group_coordinator *gc, struct group *g, int64_t now_ms)
{
	for (int32_t p = g->npending - 1; p >= 0; p--)
		if (g->pending[p].deadline_ms <= now_ms)
			pending_remove(gc, g, p);
	/* Each pass removes one member, so this runs at most nmembers + 1 times. */
	for (bool again = true; again;) {
		again = false;
		for (int32_t i = 0; i < g->nmembers; i++) {
			const struct member *m = g->members[i];
			if (!m->join_parked && !m->sync_parked &&
			    m->session_deadline_ms <= now_ms) {
				member_remove_and_update(gc, g, i, now_ms);
				again = true;
				break;
			}
		}
	}
	join_maybe_complete(gc, g, now_ms);
}

int64_t group_tick(struct group_coordinator *gc, int64_t now_ms)
{
	enter(gc);
	while (gc->heap_len > 0 && gc->heap[0]->deadline_ms <= now_ms) {
		struct group *g = gc->heap[0];
		group_expire(gc, g, now_ms);
		leave_group(gc, g);
		assert(g->deadline_ms > now_ms); /* progress: the loop ends */
	}
	return gc->heap_len > 0 ? gc->heap[0]->deadline_ms - now_ms : -1;
}

/* ---------------------------------------------------------------------------------------------
 * Lifetime
 */

struct group_coordinator *group_new(const struct group_config *cfg, group_complete_fn complete,
				    void *arg, uint64_t random_seed)
{
	struct group_coordinator *gc = mem_zalloc(1, sizeof(*gc));
	if (gc == NULL)
		return NULL;
	gc->cfg = *cfg;
	gc->complete = complete;
	gc->arg = arg;
	gc->rng = random_seed ^ 0x9E3779B97F4A7C15ull;
	if (gc->rng == 0)
		gc->rng = 1; /* xorshift's one fixed point */
	gc->nbuckets = BUCKETS_MIN;
	gc->buckets = mem_zalloc(gc->nbuckets, sizeof(*gc->buckets));
	gc->heap_cap = BUCKETS_MIN;
	gc->heap = mem_zalloc(gc->heap_cap, sizeof(*gc->heap));
	if (gc->buckets == NULL || gc->heap == NULL) {
		mem_free(gc->buckets);
		mem_free(gc->heap);
		mem_free(gc);
		return NULL;
	}
	return gc;
}

void group_free(struct group_coordinator *gc)
{
	if (gc == NULL)
		return;
	enter(gc);
	for (uint32_t b = 0; b < gc->nbuckets; b++) {
		while (gc->buckets[b] != NULL) {
			struct group *g = gc->buckets[b];
			gc->buckets[b] = g->hash_next;
			for (int32_t i = 0; i < g->nmembers; i++) {
				struct member *m = g->members[i];
				if (m->join_parked)
					join_finish_error(gc, m, ERR_COORDINATOR_NOT_AVAILABLE, 0);
				if (m->sync_parked)
					sync_finish(gc, g, m, ERR_COORDINATOR_NOT_AVAILABLE, 0);
				member_release(gc, m, mem_defer);
			}
			g->nmembers = 0;
			g->leader = NULL;
			g->hash_next = NULL;
			g->heap_index = -1;
			for (int32_t i = 0; i < g->npending; i++)
				mem_defer(gc, g->pending[i].id.p);
			mem_defer(gc, g->pending);
			mem_defer(gc, g->members);
			mem_defer(gc, g->join_members);
			mem_defer(gc, g->id.p);
			mem_defer(gc, g);
		}
	}
	mem_flush(gc);
	mem_free(gc->buckets);
	mem_free(gc->heap);
	mem_free(gc->describe);
	mem_free(gc);
}
