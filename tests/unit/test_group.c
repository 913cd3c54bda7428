/*
 * Unit tests of src/group: the classic consumer-group coordinator, driven with fake time (plain
 * integers) and a recording `complete` callback. No loop, socket or file.
 *
 * One Suite "group"; TCases: rebalance, membership, errors, protocol, static, admin, bounds,
 * random. Each test counts the parked requests it expects to complete and asserts exact totals.
 * The random test uses fixed seeds, so a failure reproduces.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group/group.h"

/* Kafka error codes the tests expect (the protocol guide's table). */
enum {
	E_NONE = 0,
	E_COORDINATOR_NOT_AVAILABLE = 15,
	E_ILLEGAL_GENERATION = 22,
	E_INCONSISTENT_GROUP_PROTOCOL = 23,
	E_INVALID_GROUP_ID = 24,
	E_UNKNOWN_MEMBER_ID = 25,
	E_INVALID_SESSION_TIMEOUT = 26,
	E_REBALANCE_IN_PROGRESS = 27,
	E_INVALID_REQUEST = 42,
	E_NON_EMPTY_GROUP = 68,
	E_GROUP_ID_NOT_FOUND = 69,
	E_MEMBER_ID_REQUIRED = 79,
	E_GROUP_MAX_SIZE_REACHED = 81,
	E_FENCED_INSTANCE_ID = 82,
};

#define ID_CHARS 160
#define MEMBERS_SEEN_MAX 16
#define TOKENS_MAX 200000

/* ---- recording callback ---- */

/* A copy of one answer, with its strings, so it outlives the coordinator's memory. */
struct answer {
	bool is_join;
	int16_t error;
	int32_t generation;
	char member_id[ID_CHARS];
	char leader[ID_CHARS];
	char protocol[64];
	int32_t nmembers;
	char members[MEMBERS_SEEN_MAX][ID_CHARS];
	char metadata[MEMBERS_SEEN_MAX][64];
	char assignment[64];
};

static struct answer answers[TOKENS_MAX]; /* by token */
static uint8_t completions[TOKENS_MAX];   /* callbacks per token */
static int ncompletions;
static uintptr_t next_token = 1;
static int64_t now;
static struct group_coordinator *gc;
static struct group_config cfg;

static void copy_str(char *out, size_t n, struct group_bytes b)
{
	size_t len = b.len > 0 ? (size_t)b.len : 0;
	if (len >= n)
		len = n - 1;
	if (len > 0)
		memcpy(out, b.p, len);
	out[len] = '\0';
}

static void save_join(struct answer *a, const struct group_join_result *r)
{
	memset(a, 0, sizeof(*a));
	a->is_join = true;
	a->error = r->error;
	a->generation = r->generation;
	copy_str(a->member_id, sizeof(a->member_id), r->member_id);
	copy_str(a->leader, sizeof(a->leader), r->leader);
	copy_str(a->protocol, sizeof(a->protocol), r->protocol_name);
	a->nmembers = r->nmembers;
	for (int32_t i = 0; i < r->nmembers && i < MEMBERS_SEEN_MAX; i++) {
		copy_str(a->members[i], sizeof(a->members[i]), r->members[i].member_id);
		copy_str(a->metadata[i], sizeof(a->metadata[i]), r->members[i].metadata);
	}
}

static void save_sync(struct answer *a, const struct group_sync_result *r)
{
	memset(a, 0, sizeof(*a));
	a->error = r->error;
	copy_str(a->protocol, sizeof(a->protocol), r->protocol_name);
	copy_str(a->assignment, sizeof(a->assignment), r->assignment);
}

static void (*extra_cb)(uintptr_t token);

static void record_cb(void *arg, void *token, const struct group_join_result *join,
		      const struct group_sync_result *sync)
{
	(void)arg;
	uintptr_t t = (uintptr_t)token;
	ck_assert_msg(t > 0 && t < TOKENS_MAX, "token %ju", (uintmax_t)t);
	ck_assert_msg((join == NULL) != (sync == NULL), "exactly one of join/sync");
	ck_assert_msg(completions[t] == 0, "token %ju completed twice", (uintmax_t)t);
	completions[t]++;
	ncompletions++;
	if (join != NULL)
		save_join(&answers[t], join);
	else
		save_sync(&answers[t], sync);
	if (extra_cb != NULL)
		extra_cb(t);
}

static void setup_with(int32_t initial_delay_ms)
{
	memset(completions, 0, sizeof(completions));
	ncompletions = 0;
	next_token = 1;
	now = 0;
	extra_cb = NULL;
	group_config_default(&cfg);
	cfg.session_timeout_min_ms = 1000;
	cfg.session_timeout_max_ms = 600000;
	cfg.initial_rebalance_delay_ms = initial_delay_ms;
	gc = group_new(&cfg, record_cb, NULL, 42);
	ck_assert_ptr_nonnull(gc);
}

static const char *G;
static int32_t session_ms;
static int32_t rebalance_ms;
static const char *protocol_type;

static void setup(void)
{
	G = "g1";
	session_ms = 10000;
	rebalance_ms = 30000;
	protocol_type = "consumer";
	setup_with(3000);
}

static void setup_zero_delay(void)
{
	setup();
	group_free(gc);
	setup_with(0);
}

static void teardown(void)
{
	group_free(gc);
	gc = NULL;
}

/* ---- request helpers ---- */

static bool bytes_equal_for_test(struct group_bytes a, struct group_bytes b)
{
	return a.len == b.len && (a.len <= 0 || memcmp(a.p, b.p, (size_t)a.len) == 0);
}

static struct group_bytes B(const char *s) {
	if (s == NULL)
		return (struct group_bytes){ NULL, -1 };
	return (struct group_bytes){ (const uint8_t *)s, (int32_t)strlen(s) };
}

/* A client as the tests see it: its member id, generation and last answers. */
struct client {
	char id[ID_CHARS];
	const char *instance; /* NULL unless static */
	int32_t generation;
	uintptr_t join_token; /* 0 if none parked or answered */
	uintptr_t sync_token;
	const char *protocols; /* "range,roundrobin" */
	const char *metadata;
};

/* Sends a JoinGroup with the client's member id and protocols (the same metadata for each).
 * Returns the token; answers[token] holds the answer when completions or the return say so. */
static uintptr_t join_v(struct client *c, int16_t version, bool *done)
{
	struct group_protocol protos[GROUP_PROTOCOLS_MAX + 1];
	char names[512];
	int32_t n = 0;
	snprintf(names, sizeof(names), "%s", c->protocols);
	for (char *save = NULL, *tok = strtok_r(names, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		protos[n].name = B(tok);
		protos[n].metadata = B(c->metadata);
		n++;
	}
	struct group_join_req req = {
		.group_id = B(G),
		.member_id = B(c->id),
		.instance_id = B(c->instance),
		.client_id = B("client"),
		.client_host = B("/127.0.0.1"),
		.protocol_type = B(protocol_type),
		.protocols = protos,
		.nprotocols = n,
		.session_timeout_ms = session_ms,
		.rebalance_timeout_ms = rebalance_ms,
		.version = version,
	};
	uintptr_t t = next_token++;
	struct group_join_result res;
	bool d = group_join(gc, &req, now, (void *)t, &res);
	if (d)
		save_join(&answers[t], &res);
	if (done != NULL)
		*done = d;
	c->join_token = t;
	return t;
}

static uintptr_t join(struct client *c, bool *done)
{
	return join_v(c, 3, done);
}

/* Applies a join answer to the client (member id and generation). */
static void client_joined(struct client *c)
{
	const struct answer *a = &answers[c->join_token];
	ck_assert_int_eq(a->error, E_NONE);
	snprintf(c->id, sizeof(c->id), "%s", a->member_id);
	c->generation = a->generation;
}

static uintptr_t sync_with(struct client *c, const struct group_assignment *as, int32_t n,
			   bool *done)
{
	struct group_sync_req req = {
		.group_id = B(G),
		.member_id = B(c->id),
		.instance_id = B(c->instance),
		.generation = c->generation,
		.assignments = as,
		.nassignments = n,
	};
	uintptr_t t = next_token++;
	struct group_sync_result res;
	bool d = group_sync(gc, &req, now, (void *)t, &res);
	if (d)
		save_sync(&answers[t], &res);
	if (done != NULL)
		*done = d;
	c->sync_token = t;
	return t;
}

static int16_t heartbeat(const struct client *c)
{
	return group_heartbeat(gc, B(G), B(c->id), B(c->instance), c->generation, now);
}

static int16_t commit(const struct client *c)
{
	return group_commit_check(gc, B(G), B(c->id), B(c->instance), c->generation, now);
}

static int16_t leave(const struct client *c)
{
	return group_leave(gc, B(G), B(c->id), B(c->instance), now);
}

/* Ticks at every deadline until `until` (inclusive). */
static void run_until(int64_t until)
{
	for (;;) {
		int64_t next = group_tick(gc, now);
		if (next < 0 || now + next > until)
			break;
		now += next;
	}
	now = until;
	group_tick(gc, now);
}

/* Ticks from deadline to deadline until `total` callbacks have been made. */
static void run_until_completions(int total)
{
	for (;;) {
		int64_t next = group_tick(gc, now);
		if (ncompletions >= total)
			break;
		ck_assert_int_ge(next, 0);
		now += next;
	}
}

static struct client client_new(const char *instance)
{
	struct client c = { .instance = instance, .protocols = "range", .metadata = "meta" };
	return c;
}

static enum group_state state(void)
{
	struct group_describe_result d;
	group_describe(gc, B(G), &d);
	ck_assert_int_eq(d.error, E_NONE);
	return d.state;
}

/* Brings n clients (v3 joins at `now`) through one rebalance and the SyncGroup, the leader
 * (clients[0]) assigning "a<i>" to clients[i]. */
static void make_stable(struct client *cs, int n)
{
	int before = ncompletions;
	for (int i = 0; i < n; i++) {
		bool done;
		join(&cs[i], &done);
		ck_assert(!done);
	}
	run_until_completions(before + n);
	ck_assert_int_eq(ncompletions - before, n);
	for (int i = 0; i < n; i++)
		client_joined(&cs[i]);
	ck_assert_str_eq(answers[cs[0].join_token].leader, cs[0].id);
	struct group_assignment as[16];
	static char texts[16][16];
	for (int i = 0; i < n; i++) {
		snprintf(texts[i], sizeof(texts[i]), "a%d", i);
		as[i] = (struct group_assignment){ B(cs[i].id), B(texts[i]) };
	}
	for (int i = 1; i < n; i++) {
		bool done;
		sync_with(&cs[i], NULL, 0, &done);
		ck_assert(!done);
	}
	bool done;
	sync_with(&cs[0], as, n, &done);
	ck_assert(done);
	ck_assert_str_eq(answers[cs[0].sync_token].assignment, "a0");
	for (int i = 1; i < n; i++) {
		ck_assert_int_eq(completions[cs[i].sync_token], 1);
		ck_assert_int_eq(answers[cs[i].sync_token].error, E_NONE);
		ck_assert_str_eq(answers[cs[i].sync_token].assignment, texts[i]);
	}
	ck_assert_int_eq(state(), GROUP_STABLE);
}

/* ---------------------------------------------------------------------------------------------
 * rebalance
 */

/* Two members join an empty group, one rebalance makes generation 1, the leader sees both
 * members' metadata, both get their assignment from SyncGroup, and heartbeats answer NONE. */
START_TEST(test_group_two_members_join_sync_and_heartbeat)
{
	struct client a = client_new(NULL), b = client_new(NULL);
	a.metadata = "meta-a";
	b.metadata = "meta-b";
	bool done;
	join(&a, &done);
	ck_assert(!done);
	ck_assert_int_eq(state(), GROUP_PREPARING_REBALANCE);
	now = 100;
	join(&b, &done);
	ck_assert(!done);
	ck_assert_int_eq(ncompletions, 0);
	run_until_completions(2);
	ck_assert_int_eq(now, 6000); /* b's join extended the initial delay once */
	const struct answer *ja = &answers[a.join_token], *jb = &answers[b.join_token];
	ck_assert_int_eq(ja->error, E_NONE);
	ck_assert_int_eq(ja->generation, 1);
	ck_assert_int_eq(jb->generation, 1);
	ck_assert_str_eq(ja->protocol, "range");
	ck_assert_str_eq(ja->leader, ja->member_id);
	ck_assert_str_eq(jb->leader, ja->member_id);
	ck_assert_str_ne(ja->member_id, jb->member_id);
	ck_assert_int_eq(ja->nmembers, 2);
	ck_assert_str_eq(ja->members[0], ja->member_id);
	ck_assert_str_eq(ja->metadata[0], "meta-a");
	ck_assert_str_eq(ja->members[1], jb->member_id);
	ck_assert_str_eq(ja->metadata[1], "meta-b");
	ck_assert_int_eq(jb->nmembers, 0);
	ck_assert_int_eq(state(), GROUP_COMPLETING_REBALANCE);
	client_joined(&a);
	client_joined(&b);

	sync_with(&b, NULL, 0, &done);
	ck_assert(!done);
	struct group_assignment as[] = { { B(a.id), B("p0") }, { B(b.id), B("p1") } };
	sync_with(&a, as, 2, &done);
	ck_assert(done);
	ck_assert_int_eq(answers[a.sync_token].error, E_NONE);
	ck_assert_str_eq(answers[a.sync_token].assignment, "p0");
	ck_assert_str_eq(answers[a.sync_token].protocol, "range");
	ck_assert_int_eq(completions[b.sync_token], 1);
	ck_assert_str_eq(answers[b.sync_token].assignment, "p1");
	ck_assert_int_eq(state(), GROUP_STABLE);
	ck_assert_int_eq(ncompletions, 3);

	ck_assert_int_eq(heartbeat(&a), E_NONE);
	ck_assert_int_eq(heartbeat(&b), E_NONE);
	/* A SyncGroup in a STABLE group answers the current assignment at once. */
	sync_with(&b, NULL, 0, &done);
	ck_assert(done);
	ck_assert_str_eq(answers[b.sync_token].assignment, "p1");
}
END_TEST

/* The first generation waits the initial delay; a member joining during it earns one more
 * delay, and the total never passes the rebalance timeout. */
START_TEST(test_group_initial_delay_postpones_and_extends_first_generation)
{
	rebalance_ms = 10000;
	struct client a = client_new(NULL), b = client_new(NULL);
	join(&a, NULL);
	ck_assert_int_eq(group_tick(gc, now), 3000);
	run_until(2999);
	ck_assert_int_eq(ncompletions, 0);
	now = 2000;
	join(&b, NULL);
	run_until(3000);
	ck_assert_int_eq(ncompletions, 0); /* extended: b joined during the delay */
	ck_assert_int_eq(group_tick(gc, now), 3000);
	run_until(5999);
	ck_assert_int_eq(ncompletions, 0);
	run_until(6000);
	ck_assert_int_eq(ncompletions, 2);
	ck_assert_int_eq(answers[a.join_token].generation, 1);

	/* Another group, rebalance timeout 4000: the extension is cut to what is left (1000). */
	G = "g2";
	rebalance_ms = 4000;
	struct client c = client_new(NULL), d = client_new(NULL);
	now = 100000;
	join(&c, NULL);
	now = 101000;
	join(&d, NULL);
	run_until(103000);
	ck_assert_int_eq(ncompletions, 2);
	run_until(103999);
	ck_assert_int_eq(ncompletions, 2);
	run_until(104000);
	ck_assert_int_eq(ncompletions, 4);
	ck_assert_int_eq(answers[d.join_token].generation, 1);

	/* Without a second joiner the first generation comes after exactly one delay. */
	G = "g3";
	rebalance_ms = 30000;
	struct client e = client_new(NULL);
	now = 200000;
	join(&e, NULL);
	run_until(202999);
	ck_assert_int_eq(ncompletions, 4);
	run_until(203000);
	ck_assert_int_eq(ncompletions, 5);
	G = "g1";
}
END_TEST

/* With no initial delay a lone joiner gets generation 1 at once, from the JoinGroup itself. */
START_TEST(test_group_zero_delay_answers_first_join_at_once)
{
	struct client a = client_new(NULL);
	bool done;
	join(&a, &done);
	ck_assert(done);
	ck_assert_int_eq(answers[a.join_token].error, E_NONE);
	ck_assert_int_eq(answers[a.join_token].generation, 1);
	ck_assert_int_eq(ncompletions, 0);
}
END_TEST

/* A third member joins a STABLE group: the others' heartbeats say REBALANCE_IN_PROGRESS, they
 * rejoin, and generation 2 has three members under the same leader. */
START_TEST(test_group_third_member_triggers_rebalance_of_stable_group)
{
	struct client cs[3] = { client_new(NULL), client_new(NULL), client_new(NULL) };
	make_stable(cs, 2);
	now += 1000;
	bool done;
	join(&cs[2], &done);
	ck_assert(!done);
	ck_assert_int_eq(state(), GROUP_PREPARING_REBALANCE);
	ck_assert_int_eq(heartbeat(&cs[0]), E_REBALANCE_IN_PROGRESS);
	ck_assert_int_eq(heartbeat(&cs[1]), E_REBALANCE_IN_PROGRESS);
	/* Commits of the current generation are still accepted while preparing. */
	ck_assert_int_eq(commit(&cs[0]), E_NONE);
	int before = ncompletions;
	join(&cs[1], &done);
	ck_assert(!done);
	join(&cs[0], &done); /* the last one in completes the join phase itself */
	ck_assert(done);
	ck_assert_int_eq(ncompletions - before, 2);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(answers[cs[i].join_token].generation, 2);
		ck_assert_str_eq(answers[cs[i].join_token].leader, cs[0].id);
	}
	ck_assert_int_eq(answers[cs[0].join_token].nmembers, 3);
	ck_assert_int_eq(state(), GROUP_COMPLETING_REBALANCE);
	/* During COMPLETING_REBALANCE heartbeats are normal (Kafka 2.3+) and commits are told to
	 * wait. */
	client_joined(&cs[1]);
	ck_assert_int_eq(heartbeat(&cs[1]), E_NONE);
	ck_assert_int_eq(commit(&cs[1]), E_REBALANCE_IN_PROGRESS);
}
END_TEST

/* A follower rejoining a STABLE group with the same metadata gets the current generation back
 * without a rebalance; the leader rejoining starts one. */
START_TEST(test_group_follower_rejoin_keeps_generation_leader_rejoin_rebalances)
{
	struct client cs[2] = { client_new(NULL), client_new(NULL) };
	make_stable(cs, 2);
	bool done;
	join(&cs[1], &done);
	ck_assert(done);
	ck_assert_int_eq(answers[cs[1].join_token].generation, 1);
	ck_assert_int_eq(answers[cs[1].join_token].nmembers, 0);
	ck_assert_int_eq(state(), GROUP_STABLE);
	join(&cs[0], &done);
	ck_assert(!done);
	ck_assert_int_eq(state(), GROUP_PREPARING_REBALANCE);
	/* A follower with changed metadata also rebalances. */
	cs[1].metadata = "changed";
	join(&cs[1], &done);
	ck_assert(done);
	ck_assert_int_eq(answers[cs[1].join_token].generation, 2);
}
END_TEST

/* A member whose session expires is removed by group_tick and the group rebalances without it. */
START_TEST(test_group_session_expiry_removes_member_and_rebalances)
{
	struct client cs[2] = { client_new(NULL), client_new(NULL) };
	make_stable(cs, 2);
	int64_t t0 = now;
	now = t0 + 5000;
	ck_assert_int_eq(heartbeat(&cs[0]), E_NONE);
	ck_assert_int_eq(group_tick(gc, now), 5000); /* cs[1]'s session */
	now = t0 + 9999;
	ck_assert_int_eq(heartbeat(&cs[0]), E_NONE);
	group_tick(gc, now);
	ck_assert_int_eq(state(), GROUP_STABLE);
	now = t0 + 10000;
	group_tick(gc, now);
	ck_assert_int_eq(state(), GROUP_PREPARING_REBALANCE);
	ck_assert_int_eq(heartbeat(&cs[1]), E_UNKNOWN_MEMBER_ID);
	ck_assert_int_eq(heartbeat(&cs[0]), E_REBALANCE_IN_PROGRESS);
	bool done;
	join(&cs[0], &done);
	ck_assert(done);
	ck_assert_int_eq(answers[cs[0].join_token].generation, 2);
	ck_assert_int_eq(answers[cs[0].join_token].nmembers, 1);
}
END_TEST

/* LeaveGroup of one of two members starts a rebalance; the last member leaving empties it. */
START_TEST(test_group_leave_rebalances_then_empties_group)
{
	struct client cs[2] = { client_new(NULL), client_new(NULL) };
	make_stable(cs, 2);
	ck_assert_int_eq(leave(&cs[0]), E_NONE); /* the leader */
	ck_assert_int_eq(state(), GROUP_PREPARING_REBALANCE);
	ck_assert_int_eq(leave(&cs[0]), E_UNKNOWN_MEMBER_ID);
	bool done;
	join(&cs[1], &done);
	ck_assert(done);
	client_joined(&cs[1]);
	ck_assert_int_eq(cs[1].generation, 2);
	ck_assert_str_eq(answers[cs[1].join_token].leader, cs[1].id);
	ck_assert_int_eq(leave(&cs[1]), E_NONE);
	ck_assert_int_eq(state(), GROUP_EMPTY);
	/* Generation went to 3 with the group empty: the old generation is refused. */
	ck_assert_int_eq(heartbeat(&cs[1]), E_UNKNOWN_MEMBER_ID);
	ck_assert_int_eq(group_tick(gc, now), -1);
}
END_TEST

/* A member that does not rejoin within the rebalance timeout is dropped, even though its
 * heartbeats kept its session alive. */
START_TEST(test_group_rebalance_timeout_removes_member_that_did_not_rejoin)
{
	struct client cs[3] = { client_new(NULL), client_new(NULL), client_new(NULL) };
	make_stable(cs, 2);
	int64_t t0 = now;
	join(&cs[2], NULL);
	join(&cs[0], NULL);
	for (int64_t t = t0 + 9000; t < t0 + 30000; t += 9000) {
		run_until(t);
		ck_assert_int_eq(heartbeat(&cs[1]), E_REBALANCE_IN_PROGRESS);
		ck_assert_int_eq(heartbeat(&cs[0]), E_REBALANCE_IN_PROGRESS);
	}
	int before = ncompletions;
	run_until(t0 + 29999);
	ck_assert_int_eq(ncompletions, before);
	run_until(t0 + 30000);
	ck_assert_int_eq(ncompletions - before, 2);
	ck_assert_int_eq(answers[cs[0].join_token].generation, 2);
	ck_assert_int_eq(answers[cs[0].join_token].nmembers, 2);
	ck_assert_int_eq(heartbeat(&cs[1]), E_UNKNOWN_MEMBER_ID);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * membership
 */

/* JoinGroup v4 and later with an empty member id gets MEMBER_ID_REQUIRED and the id to use;
 * v0-v3 are added at once; a pending id that never comes back expires. */
START_TEST(test_group_member_id_required_only_from_v4)
{
	struct client a = client_new(NULL);
	bool done;
	join_v(&a, 4, &done);
	ck_assert(done);
	const struct answer *r = &answers[a.join_token];
	ck_assert_int_eq(r->error, E_MEMBER_ID_REQUIRED);
	ck_assert_int_eq(r->generation, -1);
	ck_assert_int_gt(strlen(r->member_id), 0);
	ck_assert(strncmp(r->member_id, "client-", 7) == 0);
	ck_assert_int_eq(state(), GROUP_EMPTY);
	snprintf(a.id, sizeof(a.id), "%s", r->member_id);
	join_v(&a, 5, &done);
	ck_assert(!done);
	ck_assert_int_eq(state(), GROUP_PREPARING_REBALANCE);

	for (int16_t v = 0; v <= 3; v++) {
		struct client b = client_new(NULL);
		join_v(&b, v, &done);
		ck_assert(!done);
	}
	run_until_completions(5);
	ck_assert_int_eq(answers[a.join_token].nmembers, 5);

	/* An unknown member id (not pending, not a member) is refused. */
	struct client z = client_new(NULL);
	snprintf(z.id, sizeof(z.id), "nobody");
	join_v(&z, 5, &done);
	ck_assert(done);
	ck_assert_int_eq(answers[z.join_token].error, E_UNKNOWN_MEMBER_ID);

	/* A pending id not used within the session timeout is forgotten. */
	G = "g-pending";
	struct client p = client_new(NULL);
	join_v(&p, 4, &done);
	snprintf(p.id, sizeof(p.id), "%s", answers[p.join_token].member_id);
	ck_assert_int_eq(group_tick(gc, now), session_ms);
	run_until(now + session_ms);
	join_v(&p, 4, &done);
	ck_assert(done);
	ck_assert_int_eq(answers[p.join_token].error, E_UNKNOWN_MEMBER_ID);
	G = "g1";
}
END_TEST

/* A second JoinGroup from a member whose first one is parked answers the first with
 * REBALANCE_IN_PROGRESS, so each parked request completes exactly once. */
START_TEST(test_group_duplicate_parked_join_answers_the_older_one)
{
	struct client cs[2] = { client_new(NULL), client_new(NULL) };
	make_stable(cs, 2);
	join(&cs[0], NULL);
	uintptr_t first = cs[0].join_token;
	join(&cs[0], NULL);
	ck_assert_int_eq(completions[first], 1);
	ck_assert_int_eq(answers[first].error, E_REBALANCE_IN_PROGRESS);
	bool done;
	join(&cs[1], &done);
	ck_assert(done);
	ck_assert_int_eq(completions[cs[0].join_token], 1);
	ck_assert_int_eq(answers[cs[0].join_token].generation, 2);
}
END_TEST

/* Freeing the coordinator answers every parked request with COORDINATOR_NOT_AVAILABLE. */
START_TEST(test_group_free_answers_parked_requests)
{
	struct client a = client_new(NULL), b = client_new(NULL);
	join(&a, NULL);
	join(&b, NULL);
	group_free(gc);
	gc = NULL;
	ck_assert_int_eq(ncompletions, 2);
	ck_assert_int_eq(answers[a.join_token].error, E_COORDINATOR_NOT_AVAILABLE);
	ck_assert_int_eq(answers[b.join_token].error, E_COORDINATOR_NOT_AVAILABLE);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * errors
 */

/* SyncGroup, Heartbeat and the commit check refuse unknown groups and members, stale
 * generations, and SyncGroup during PREPARING_REBALANCE. */
START_TEST(test_group_sync_heartbeat_commit_errors)
{
	struct client cs[2] = { client_new(NULL), client_new(NULL) };
	struct client ghost = client_new(NULL);
	snprintf(ghost.id, sizeof(ghost.id), "ghost");
	ghost.generation = 1;
	bool done;
	sync_with(&ghost, NULL, 0, &done);
	ck_assert(done);
	ck_assert_int_eq(answers[ghost.sync_token].error, E_UNKNOWN_MEMBER_ID);
	ck_assert_int_eq(heartbeat(&ghost), E_UNKNOWN_MEMBER_ID);
	ck_assert_int_eq(commit(&ghost), E_ILLEGAL_GENERATION); /* unknown group */

	make_stable(cs, 2);
	sync_with(&ghost, NULL, 0, &done);
	ck_assert_int_eq(answers[ghost.sync_token].error, E_UNKNOWN_MEMBER_ID);
	ck_assert_int_eq(heartbeat(&ghost), E_UNKNOWN_MEMBER_ID);
	ck_assert_int_eq(commit(&ghost), E_UNKNOWN_MEMBER_ID);

	struct client stale = cs[1];
	stale.generation = 0;
	sync_with(&stale, NULL, 0, &done);
	ck_assert(done);
	ck_assert_int_eq(answers[stale.sync_token].error, E_ILLEGAL_GENERATION);
	ck_assert_int_eq(heartbeat(&stale), E_ILLEGAL_GENERATION);
	ck_assert_int_eq(commit(&stale), E_ILLEGAL_GENERATION);
	ck_assert_int_eq(commit(&cs[1]), E_NONE);

	join(&cs[0], NULL); /* leader rejoins: PREPARING_REBALANCE */
	sync_with(&cs[1], NULL, 0, &done);
	ck_assert(done);
	ck_assert_int_eq(answers[cs[1].sync_token].error, E_REBALANCE_IN_PROGRESS);
	ck_assert_int_eq(ncompletions, 3);
}
END_TEST

/* Session timeouts outside [min, max] get INVALID_SESSION_TIMEOUT and nothing is created. */
START_TEST(test_group_session_timeout_out_of_range)
{
	struct client a = client_new(NULL);
	bool done;
	session_ms = 999;
	join(&a, &done);
	ck_assert(done);
	ck_assert_int_eq(answers[a.join_token].error, E_INVALID_SESSION_TIMEOUT);
	session_ms = 600001;
	join(&a, &done);
	ck_assert_int_eq(answers[a.join_token].error, E_INVALID_SESSION_TIMEOUT);
	session_ms = 10000;
	struct group_describe_result d;
	group_describe(gc, B(G), &d);
	ck_assert_int_eq(d.state, GROUP_DEAD);
}
END_TEST

/* A follower that synced before the leader is answered REBALANCE_IN_PROGRESS when a new member
 * starts another rebalance first. */
START_TEST(test_group_parked_sync_answered_when_rebalance_restarts)
{
	struct client cs[3] = { client_new(NULL), client_new(NULL), client_new(NULL) };
	join(&cs[0], NULL);
	join(&cs[1], NULL);
	run_until_completions(2);
	client_joined(&cs[0]);
	client_joined(&cs[1]);
	bool done;
	sync_with(&cs[1], NULL, 0, &done);
	ck_assert(!done);
	join(&cs[2], &done);
	ck_assert(!done);
	ck_assert_int_eq(completions[cs[1].sync_token], 1);
	ck_assert_int_eq(answers[cs[1].sync_token].error, E_REBALANCE_IN_PROGRESS);
	ck_assert_int_eq(state(), GROUP_PREPARING_REBALANCE);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * protocol
 */

/* The protocol is chosen among those every member supports, by each member's first choice; a
 * tie goes to the first member's preference. */
START_TEST(test_group_protocol_selected_by_vote)
{
	const char *sets[][3] = {
		/* members' protocol lists, in preference order -> expected choice */
		{ "range,roundrobin", "roundrobin,range", "range" },
		{ "range,roundrobin", "roundrobin,range", NULL },
		{ "range,roundrobin,sticky", "sticky,roundrobin", "roundrobin" },
	};
	const char *want[] = { "range", "range", "roundrobin" };
	const char *groups[] = { "v1", "v2", "v3" };
	for (int s = 0; s < 3; s++) {
		G = groups[s];
		struct client cs[3];
		int n = 0;
		for (int i = 0; i < 3 && sets[s][i] != NULL; i++) {
			cs[n] = client_new(NULL);
			cs[n].protocols = sets[s][i];
			join(&cs[n], NULL);
			n++;
		}
		run_until_completions(ncompletions + n);
		for (int i = 0; i < n; i++)
			ck_assert_str_eq(answers[cs[i].join_token].protocol, want[s]);
	}
	/* Two votes against one. */
	G = "v4";
	struct client cs[3] = { client_new(NULL), client_new(NULL), client_new(NULL) };
	cs[0].protocols = "range,roundrobin";
	cs[1].protocols = "roundrobin,range";
	cs[2].protocols = "roundrobin,range";
	for (int i = 0; i < 3; i++)
		join(&cs[i], NULL);
	run_until_completions(ncompletions + 3);
	ck_assert_str_eq(answers[cs[0].join_token].protocol, "roundrobin");
	ck_assert_str_eq(answers[cs[0].join_token].metadata[0], "meta");
	G = "g1";
}
END_TEST

/* A join with another protocol type, no protocol in common, or no protocol at all gets
 * INCONSISTENT_GROUP_PROTOCOL and leaves the group as it was. */
START_TEST(test_group_inconsistent_protocol_refused)
{
	struct client cs[2] = { client_new(NULL), client_new(NULL) };
	cs[0].protocols = "range,roundrobin";
	cs[1].protocols = "roundrobin";
	make_stable(cs, 2);
	struct client x = client_new(NULL);
	x.protocols = "range"; /* cs[1] does not support it */
	bool done;
	join(&x, &done);
	ck_assert(done);
	ck_assert_int_eq(answers[x.join_token].error, E_INCONSISTENT_GROUP_PROTOCOL);
	x.protocols = "roundrobin";
	protocol_type = "connect";
	join(&x, &done);
	ck_assert(done);
	ck_assert_int_eq(answers[x.join_token].error, E_INCONSISTENT_GROUP_PROTOCOL);
	protocol_type = "";
	join(&x, &done);
	ck_assert_int_eq(answers[x.join_token].error, E_INCONSISTENT_GROUP_PROTOCOL);
	protocol_type = "consumer";
	/* A known member changing to a protocol the other lacks is refused too. */
	cs[1].protocols = "sticky";
	join(&cs[1], &done);
	ck_assert(done);
	ck_assert_int_eq(answers[cs[1].join_token].error, E_INCONSISTENT_GROUP_PROTOCOL);
	ck_assert_int_eq(state(), GROUP_STABLE);
	ck_assert_int_eq(heartbeat(&cs[0]), E_NONE);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * static membership
 */

/* A static member restarting within its session timeout gets a new member id, keeps its
 * assignment and the generation without a rebalance; the old id is fenced. The leader is told
 * it still leads. */
START_TEST(test_group_static_restart_keeps_assignment_and_fences_old_id)
{
	struct client cs[2] = { client_new("inst-a"), client_new("inst-b") };
	make_stable(cs, 2);
	struct client old_a = cs[0], old_b = cs[1];
	struct client a = client_new("inst-a"), b = client_new("inst-b");
	now += 2000;
	bool done;
	join_v(&a, 5, &done); /* no MEMBER_ID_REQUIRED for static members */
	ck_assert(done);
	const struct answer *r = &answers[a.join_token];
	ck_assert_int_eq(r->error, E_NONE);
	ck_assert_int_eq(r->generation, 1);
	ck_assert_str_ne(r->member_id, old_a.id);
	ck_assert_str_eq(r->leader, r->member_id);
	ck_assert_int_eq(r->nmembers, 2);
	ck_assert_int_eq(state(), GROUP_STABLE);
	client_joined(&a);

	join_v(&b, 5, &done);
	ck_assert(done);
	ck_assert_int_eq(answers[b.join_token].generation, 1);
	ck_assert_str_eq(answers[b.join_token].leader, a.id);
	ck_assert_int_eq(answers[b.join_token].nmembers, 0);
	client_joined(&b);

	ck_assert_int_eq(heartbeat(&old_a), E_FENCED_INSTANCE_ID);
	ck_assert_int_eq(commit(&old_b), E_FENCED_INSTANCE_ID);
	sync_with(&old_a, NULL, 0, &done);
	ck_assert_int_eq(answers[old_a.sync_token].error, E_FENCED_INSTANCE_ID);
	bool d2;
	join_v(&old_b, 5, &d2);
	ck_assert_int_eq(answers[old_b.join_token].error, E_FENCED_INSTANCE_ID);

	ck_assert_int_eq(heartbeat(&a), E_NONE);
	sync_with(&a, NULL, 0, &done);
	ck_assert(done);
	ck_assert_str_eq(answers[a.sync_token].assignment, "a0");
	sync_with(&b, NULL, 0, &done);
	ck_assert_str_eq(answers[b.sync_token].assignment, "a1");
	ck_assert_int_eq(state(), GROUP_STABLE);

	/* Restarting with other metadata does rebalance. */
	struct client b2 = client_new("inst-b");
	b2.metadata = "new";
	join_v(&b2, 5, &done);
	ck_assert(!done);
	ck_assert_int_eq(state(), GROUP_PREPARING_REBALANCE);
	/* And a static member leaves by instance id alone. */
	struct client by_instance = client_new("inst-a");
	ck_assert_int_eq(leave(&by_instance), E_NONE);
	ck_assert_int_eq(completions[b2.join_token], 1);
	ck_assert_int_eq(answers[b2.join_token].generation, 2);
	ck_assert_int_eq(answers[b2.join_token].nmembers, 1);
}
END_TEST

/* A static member that goes silent past its session timeout is removed like any other. */
START_TEST(test_group_static_member_expires_after_session_timeout)
{
	struct client cs[2] = { client_new("inst-a"), client_new("inst-b") };
	make_stable(cs, 2);
	int64_t t0 = now;
	for (int64_t t = t0 + 4000; t <= t0 + 12000; t += 4000) {
		now = t;
		ck_assert_int_eq(heartbeat(&cs[0]), E_NONE);
		group_tick(gc, now);
	}
	ck_assert_int_eq(state(), GROUP_PREPARING_REBALANCE);
	ck_assert_int_eq(heartbeat(&cs[1]), E_UNKNOWN_MEMBER_ID);
	struct client b = client_new("inst-b");
	bool done;
	join_v(&b, 5, &done);
	ck_assert(!done); /* a new static member now */
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * admin: commits, describe, list, delete
 */

/* A "simple" commit (generation -1, no member id) is allowed for unknown and EMPTY groups and
 * refused while the group has members; it creates no group. */
START_TEST(test_group_simple_commit_only_without_live_members)
{
	struct client simple = client_new(NULL);
	simple.generation = -1;
	ck_assert_int_eq(commit(&simple), E_NONE);
	struct group_describe_result d;
	group_describe(gc, B(G), &d);
	ck_assert_int_eq(d.state, GROUP_DEAD);
	struct client cs[1] = { client_new(NULL) };
	make_stable(cs, 1);
	ck_assert_int_eq(commit(&simple), E_UNKNOWN_MEMBER_ID);
	ck_assert_int_eq(commit(&cs[0]), E_NONE);
	ck_assert_int_eq(leave(&cs[0]), E_NONE);
	ck_assert_int_eq(state(), GROUP_EMPTY);
	ck_assert_int_eq(commit(&simple), E_NONE);
}
END_TEST

struct listed {
	int n;
	char ids[8][32];
	enum group_state states[8];
};

static void list_cb(void *arg, struct group_bytes id, struct group_bytes type, enum group_state s)
{
	struct listed *l = arg;
	ck_assert_int_lt(l->n, 8);
	copy_str(l->ids[l->n], sizeof(l->ids[0]), id);
	ck_assert_int_eq(type.len, 8); /* "consumer" */
	l->states[l->n++] = s;
}

static int listed_find(const struct listed *l, const char *id)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->ids[i], id) == 0)
			return i;
	return -1;
}

/* DescribeGroups shows members with metadata and assignments once STABLE; ListGroups lists
 * every group; DeleteGroups removes only empty groups. */
START_TEST(test_group_describe_list_delete)
{
	struct group_describe_result d;
	group_describe(gc, B("nope"), &d);
	ck_assert_int_eq(d.error, E_NONE);
	ck_assert_int_eq(d.state, GROUP_DEAD);
	ck_assert_int_eq(d.nmembers, 0);

	struct client cs[2] = { client_new(NULL), client_new(NULL) };
	make_stable(cs, 2);
	group_describe(gc, B(G), &d);
	ck_assert_int_eq(d.state, GROUP_STABLE);
	ck_assert_str_eq(group_state_name(d.state), "Stable");
	ck_assert_int_eq(d.nmembers, 2);
	char buf[ID_CHARS];
	copy_str(buf, sizeof(buf), d.protocol_type);
	ck_assert_str_eq(buf, "consumer");
	copy_str(buf, sizeof(buf), d.protocol_name);
	ck_assert_str_eq(buf, "range");
	copy_str(buf, sizeof(buf), d.members[1].member_id);
	ck_assert_str_eq(buf, cs[1].id);
	copy_str(buf, sizeof(buf), d.members[1].assignment);
	ck_assert_str_eq(buf, "a1");
	copy_str(buf, sizeof(buf), d.members[1].metadata);
	ck_assert_str_eq(buf, "meta");
	copy_str(buf, sizeof(buf), d.members[1].client_host);
	ck_assert_str_eq(buf, "/127.0.0.1");
	ck_assert_int_eq(d.members[0].instance_id.len, -1);

	G = "other";
	struct client o = client_new(NULL);
	join(&o, NULL);
	struct listed l = { 0 };
	group_list(gc, list_cb, &l);
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.states[listed_find(&l, "g1")], GROUP_STABLE);
	ck_assert_int_eq(l.states[listed_find(&l, "other")], GROUP_PREPARING_REBALANCE);

	ck_assert_int_eq(group_delete(gc, B("g1")), E_NON_EMPTY_GROUP);
	ck_assert_int_eq(group_delete(gc, B("nope")), E_GROUP_ID_NOT_FOUND);
	ck_assert_int_eq(group_delete(gc, B("")), E_INVALID_GROUP_ID);
	ck_assert_int_eq(group_delete(gc, B("other")), E_NON_EMPTY_GROUP);
	run_until_completions(ncompletions + 1);
	client_joined(&o);
	ck_assert_int_eq(leave(&o), E_NONE);
	ck_assert_int_eq(group_delete(gc, B("other")), E_NONE);
	group_describe(gc, B("other"), &d);
	ck_assert_int_eq(d.state, GROUP_DEAD);
	memset(&l, 0, sizeof(l));
	group_list(gc, list_cb, &l);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(listed_find(&l, "other"), -1);
	G = "g1";
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * bounds
 */

/* Group ids that are empty, null or too long get INVALID_GROUP_ID from every call. */
START_TEST(test_group_invalid_group_ids_refused)
{
	char long_id[GROUP_ID_BYTES_MAX + 2];
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	const char *bad[] = { "", long_id };
	struct client c = client_new(NULL);
	snprintf(c.id, sizeof(c.id), "m");
	for (int i = 0; i < 2; i++) {
		G = bad[i];
		bool done;
		join(&c, &done);
		ck_assert(done);
		ck_assert_int_eq(answers[c.join_token].error, E_INVALID_GROUP_ID);
		sync_with(&c, NULL, 0, &done);
		ck_assert_int_eq(answers[c.sync_token].error, E_INVALID_GROUP_ID);
		ck_assert_int_eq(heartbeat(&c), E_INVALID_GROUP_ID);
		ck_assert_int_eq(leave(&c), E_INVALID_GROUP_ID);
		ck_assert_int_eq(commit(&c), E_INVALID_GROUP_ID);
		ck_assert_int_eq(group_delete(gc, B(G)), E_INVALID_GROUP_ID);
		struct group_describe_result d;
		group_describe(gc, B(G), &d);
		ck_assert_int_eq(d.error, E_INVALID_GROUP_ID);
	}
	long_id[GROUP_ID_BYTES_MAX] = '\0'; /* exactly the limit is fine */
	G = long_id;
	bool done;
	c.id[0] = '\0';
	join(&c, &done);
	ck_assert(!done);
	G = "g1";
}
END_TEST

/* A group holds GROUP_MEMBERS_MAX members (pending ids count); one more gets
 * GROUP_MAX_SIZE_REACHED. More than GROUP_PROTOCOLS_MAX protocols is an invalid request. */
START_TEST(test_group_member_and_protocol_bounds)
{
	for (int i = 0; i < GROUP_MEMBERS_MAX; i++) {
		struct client c = client_new(NULL);
		bool done;
		join_v(&c, (int16_t)(i % 2 == 0 ? 4 : 3), &done);
		if (i % 2 == 0)
			ck_assert_int_eq(answers[c.join_token].error, E_MEMBER_ID_REQUIRED);
		else
			ck_assert(!done);
	}
	struct client extra = client_new(NULL);
	bool done;
	join_v(&extra, 3, &done);
	ck_assert(done);
	ck_assert_int_eq(answers[extra.join_token].error, E_GROUP_MAX_SIZE_REACHED);
	join_v(&extra, 4, &done);
	ck_assert_int_eq(answers[extra.join_token].error, E_GROUP_MAX_SIZE_REACHED);

	G = "protos";
	char many[GROUP_PROTOCOLS_MAX * 8];
	many[0] = '\0';
	for (int i = 0; i <= GROUP_PROTOCOLS_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sp%d", i ? "," : "",
			 i);
	struct client p = client_new(NULL);
	p.protocols = many;
	join(&p, &done);
	ck_assert(done);
	ck_assert_int_eq(answers[p.join_token].error, E_INVALID_REQUEST);
	G = "g1";
}
END_TEST

/* The coordinator holds GROUP_GROUPS_MAX groups; a join that would create one more gets
 * COORDINATOR_NOT_AVAILABLE until a group is deleted. */
START_TEST(test_group_coordinator_group_bound)
{
	char id[32];
	for (int i = 0; i < GROUP_GROUPS_MAX; i++) {
		snprintf(id, sizeof(id), "g-%d", i);
		G = id;
		struct client c = client_new(NULL);
		bool done;
		join_v(&c, 4, &done);
		ck_assert_int_eq(answers[c.join_token].error, E_MEMBER_ID_REQUIRED);
		next_token = 1; /* answers are not kept; reuse the slots */
	}
	G = "one-more";
	struct client c = client_new(NULL);
	bool done;
	join_v(&c, 4, &done);
	ck_assert_int_eq(answers[c.join_token].error, E_COORDINATOR_NOT_AVAILABLE);
	ck_assert_int_eq(group_delete(gc, B("g-7")), E_NONE);
	join_v(&c, 4, &done);
	ck_assert_int_eq(answers[c.join_token].error, E_MEMBER_ID_REQUIRED);
	/* The pending ids of all those groups expire in one tick. */
	run_until(now + session_ms);
	ck_assert_int_eq(group_tick(gc, now), -1);
	G = "g1";
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * random
 */

#define R_GROUPS 2
#define R_CLIENTS 8
#define R_STEPS 3000

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

struct rclient {
	struct client c;
	int group;
	bool leader;
	char members[MEMBERS_SEEN_MAX][ID_CHARS];
	int nmembers;
};

static struct rclient rcs[R_CLIENTS];
static uint8_t parked[TOKENS_MAX]; /* 1 = parked, not yet completed */
static int owner[TOKENS_MAX];      /* client index of a token */
static int32_t last_generation[R_GROUPS];
static const char *rgroups[R_GROUPS] = { "ra", "rb" };

/* Applies a completed JoinGroup to its client if it is still that client's latest request. */
static void rapply_join(int ci, uintptr_t t)
{
	struct rclient *rc = &rcs[ci];
	const struct answer *a = &answers[t];
	if (rc->c.join_token != t)
		return;
	if (a->error == E_MEMBER_ID_REQUIRED) {
		snprintf(rc->c.id, sizeof(rc->c.id), "%s", a->member_id);
		return;
	}
	if (a->error != E_NONE) {
		if (a->error == E_UNKNOWN_MEMBER_ID || a->error == E_FENCED_INSTANCE_ID)
			rc->c.id[0] = '\0';
		return;
	}
	ck_assert_int_ge(a->generation, last_generation[rc->group]);
	last_generation[rc->group] = a->generation;
	snprintf(rc->c.id, sizeof(rc->c.id), "%s", a->member_id);
	rc->c.generation = a->generation;
	rc->leader = strcmp(a->leader, a->member_id) == 0;
	if (rc->leader) {
		ck_assert_int_ge(a->nmembers, 1);
		bool self = false;
		rc->nmembers = a->nmembers < MEMBERS_SEEN_MAX ? a->nmembers : MEMBERS_SEEN_MAX;
		for (int i = 0; i < rc->nmembers; i++) {
			snprintf(rc->members[i], ID_CHARS, "%s", a->members[i]);
			self = self || strcmp(a->members[i], a->member_id) == 0;
		}
		ck_assert(self);
	} else {
		ck_assert_int_eq(a->nmembers, 0);
	}
}

static void rcomplete(uintptr_t t)
{
	ck_assert_msg(parked[t] == 1, "token %ju completed but not parked", (uintmax_t)t);
	parked[t] = 0;
	if (answers[t].is_join)
		rapply_join(owner[t], t);
}

static long rstable_seen;

static void rcheck_group(int gi)
{
	struct group_describe_result d;
	group_describe(gc, B(rgroups[gi]), &d);
	ck_assert_int_eq(d.error, E_NONE);
	switch (d.state) {
	case GROUP_EMPTY:
	case GROUP_DEAD:
		ck_assert_int_eq(d.nmembers, 0);
		break;
	case GROUP_STABLE:
		rstable_seen++;
		ck_assert_int_gt(d.nmembers, 0);
		ck_assert_int_gt(d.protocol_name.len, 0);
		break;
	case GROUP_PREPARING_REBALANCE:
	case GROUP_COMPLETING_REBALANCE:
		ck_assert_int_eq(d.protocol_name.len, 0);
		break;
	}
	if (d.state == GROUP_COMPLETING_REBALANCE)
		ck_assert_int_gt(d.nmembers, 0);
	for (int32_t i = 0; i < d.nmembers; i++)
		for (int32_t j = i + 1; j < d.nmembers; j++)
			ck_assert(!bytes_equal_for_test(d.members[i].member_id,
							d.members[j].member_id));
}

static void rstep(void)
{
	int ci = (int)rnd(R_CLIENTS);
	struct rclient *rc = &rcs[ci];
	G = rgroups[rc->group];
	uintptr_t t;
	bool done;
	switch (rnd(10)) {
	case 0:
	case 1: {
		if (rnd(8) == 0)
			rc->c.id[0] = '\0'; /* a restart */
		rc->c.metadata = rnd(6) == 0 ? "meta2" : "meta";
		rc->c.protocols = rnd(12) == 0 ? "other" : (rnd(2) ? "range,rr" : "rr,range");
		session_ms = 1000 + (int32_t)rnd(9000);
		rebalance_ms = rnd(3) == 0 ? -1 : 1000 + (int32_t)rnd(20000);
		t = join_v(&rc->c, (int16_t)rnd(6), &done);
		owner[t] = ci;
		if (done)
			rapply_join(ci, t);
		else
			parked[t] = 1;
		break;
	}
	case 2:
	case 3: {
		struct group_assignment as[MEMBERS_SEEN_MAX];
		int n = 0;
		if (rc->leader)
			for (; n < rc->nmembers; n++)
				as[n] = (struct group_assignment){ B(rc->members[n]), B("x") };
		t = sync_with(&rc->c, as, n, &done);
		owner[t] = ci;
		if (!done)
			parked[t] = 1;
		break;
	}
	case 4:
	case 5:
		heartbeat(&rc->c);
		break;
	case 6:
		if (rnd(4) == 0)
			leave(&rc->c);
		else
			commit(&rc->c);
		break;
	case 7:
	case 8:
		now += rnd(4000);
		group_tick(gc, now);
		break;
	case 9:
		if (rnd(10) == 0 && group_delete(gc, B(G)) == E_NONE)
			last_generation[rc->group] = 0;
		rcheck_group(rc->group);
		break;
	}
}

/* Many seeds of random joins, syncs, heartbeats, leaves, commits, deletes and ticks: the
 * coordinator's own invariant asserts hold, every parked request completes exactly once (the
 * last ones when the coordinator is freed), and generations never go back. */
START_TEST(test_group_random_operations_complete_every_parked_request_once)
{
	group_free(gc); /* the fixture's; each seed gets its own */
	long stable_seen = 0, joins_ok = 0, syncs_ok = 0;
	for (uint64_t seed = 1; seed <= 40; seed++) {
		rng = seed * 0x9E3779B97F4A7C15ull;
		memset(completions, 0, sizeof(completions));
		memset(parked, 0, sizeof(parked));
		memset(last_generation, 0, sizeof(last_generation));
		next_token = 1;
		ncompletions = 0;
		now = 0;
		gc = group_new(&cfg, record_cb, NULL, seed);
		extra_cb = rcomplete;
		static const char *instances[R_CLIENTS] = { "s0", "s1" };
		for (int i = 0; i < R_CLIENTS; i++) {
			memset(&rcs[i], 0, sizeof(rcs[i]));
			rcs[i].c = client_new(instances[i]);
			rcs[i].group = i % R_GROUPS;
		}
		for (int s = 0; s < R_STEPS; s++)
			rstep();
		for (int gi = 0; gi < R_GROUPS; gi++)
			rcheck_group(gi);
		group_free(gc);
		gc = NULL;
		extra_cb = NULL;
		for (uintptr_t t = 1; t < next_token; t++)
			ck_assert_msg(parked[t] == 0, "seed %ju: token %ju never completed",
				      (uintmax_t)seed, (uintmax_t)t);
		ck_assert_int_gt(ncompletions, 0);
		for (uintptr_t t = 1; t < next_token; t++) {
			joins_ok += answers[t].is_join && answers[t].error == E_NONE;
			syncs_ok += !answers[t].is_join && answers[t].error == E_NONE &&
				    answers[t].protocol[0] != '\0';
		}
		stable_seen += rstable_seen;
		rstable_seen = 0;
	}
	/* The walk reached every phase often, not only the error paths. */
	ck_assert_int_gt(joins_ok, 1000);
	ck_assert_int_gt(syncs_ok, 1000);
	ck_assert_int_gt(stable_seen, 100);
	gc = group_new(&cfg, record_cb, NULL, 0); /* for the teardown */
	G = "g1";
	session_ms = 10000;
	rebalance_ms = 30000;
}
END_TEST

static Suite *group_suite(void)
{
	Suite *s = suite_create("group");
	TCase *tc;

	tc = tcase_create("rebalance");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_group_two_members_join_sync_and_heartbeat);
	tcase_add_test(tc, test_group_initial_delay_postpones_and_extends_first_generation);
	tcase_add_test(tc, test_group_third_member_triggers_rebalance_of_stable_group);
	tcase_add_test(tc, test_group_follower_rejoin_keeps_generation_leader_rejoin_rebalances);
	tcase_add_test(tc, test_group_session_expiry_removes_member_and_rebalances);
	tcase_add_test(tc, test_group_leave_rebalances_then_empties_group);
	tcase_add_test(tc, test_group_rebalance_timeout_removes_member_that_did_not_rejoin);
	tcase_add_test(tc, test_group_parked_sync_answered_when_rebalance_restarts);
	suite_add_tcase(s, tc);

	tc = tcase_create("zero_delay");
	tcase_add_checked_fixture(tc, setup_zero_delay, teardown);
	tcase_add_test(tc, test_group_zero_delay_answers_first_join_at_once);
	suite_add_tcase(s, tc);

	tc = tcase_create("membership");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_group_member_id_required_only_from_v4);
	tcase_add_test(tc, test_group_duplicate_parked_join_answers_the_older_one);
	tcase_add_test(tc, test_group_free_answers_parked_requests);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_group_sync_heartbeat_commit_errors);
	tcase_add_test(tc, test_group_session_timeout_out_of_range);
	suite_add_tcase(s, tc);

	tc = tcase_create("protocol");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_group_protocol_selected_by_vote);
	tcase_add_test(tc, test_group_inconsistent_protocol_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("static");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_group_static_restart_keeps_assignment_and_fences_old_id);
	tcase_add_test(tc, test_group_static_member_expires_after_session_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("admin");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_group_simple_commit_only_without_live_members);
	tcase_add_test(tc, test_group_describe_list_delete);
	suite_add_tcase(s, tc);

	tc = tcase_create("bounds");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_group_invalid_group_ids_refused);
	tcase_add_test(tc, test_group_member_and_protocol_bounds);
	tcase_add_test(tc, test_group_coordinator_group_bound);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_group_random_operations_complete_every_parked_request_once);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(group_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
