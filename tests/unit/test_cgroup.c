/*
 * Unit tests of src/group/cgroup: the KIP-848 consumer-group coordinator, driven with fake time
 * (plain integers) and a fake topic registry. No loop, socket or file.
 *
 * One Suite "cgroup"; TCases: join, assignment, reconcile, fencing, timeouts, static, commit.
 * Helpers play the client's side: hb() sends a heartbeat and remembers the member's epoch and
 * the partitions it was told to own, so a test reads as a conversation.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group/cgroup.h"

enum {
	E_NONE = 0,
	E_UNKNOWN_MEMBER_ID = 25,
	E_INVALID_REQUEST = 42,
	E_GROUP_ID_NOT_FOUND = 69,
	E_FENCED_MEMBER_EPOCH = 110,
	E_UNRELEASED_INSTANCE_ID = 111,
	E_UNSUPPORTED_ASSIGNOR = 112,
	E_STALE_MEMBER_EPOCH = 113,
	E_INVALID_REGULAR_EXPRESSION = 128,
};

#define TOPICS_MAX 4
#define OWN_MAX 64

/* The fake registry: topic "t<i>" has id {i+1, 0...} and parts[i] partitions (0 = missing). */
static int32_t parts[TOPICS_MAX];

static bool topic_lookup(void *arg, const char *name, size_t len, uint8_t id[16],
			 int32_t *partitions)
{
	(void)arg;
	if (len != 2 || name[0] != 't' || name[1] < '0' || name[1] >= '0' + TOPICS_MAX)
		return false;
	int i = name[1] - '0';
	if (parts[i] == 0)
		return false;
	memset(id, 0, 16);
	id[0] = (uint8_t)(i + 1);
	*partitions = parts[i];
	return true;
}

static struct cgroup_coordinator *cc;
static int64_t now;

/* The client's view of one member. */
struct client {
	char id[64];
	char instance[32];
	int32_t epoch;
	struct cgroup_tp owned[OWN_MAX];
	int32_t nowned;
	int16_t error;
	bool got_assignment;
};

static struct cgroup_str S(const char *s)
{
	return (struct cgroup_str){s, s != NULL ? (int32_t)strlen(s) : -1};
}

static void setup(void)
{
	struct cgroup_config cfg;
	cgroup_config_default(&cfg);
	memset(parts, 0, sizeof parts);
	parts[0] = 6;
	now = 1000;
	cc = cgroup_new(&cfg, topic_lookup, NULL, 42);
	ck_assert_ptr_nonnull(cc);
}

static void teardown(void)
{
	ck_assert(cgroup_invariants(cc));
	cgroup_free(cc);
	cc = NULL;
}

/* Sends a heartbeat as client `c` with epoch `epoch`, subscription `topics` (NULL = unchanged)
 * and reporting its owned partitions when `report`. Adopts the answer like a client: the new
 * epoch, and the assignment when present (revoked partitions are dropped at once). */
static int16_t hb_full(struct client *c, int32_t epoch, const char *const *topics, int ntopics,
		       const char *assignor, bool report)
{
	struct cgroup_heartbeat_req req;
	struct cgroup_heartbeat_result res;
	struct cgroup_str ts[TOPICS_MAX];

	memset(&req, 0, sizeof req);
	req.group_id = S("g");
	req.member_id = S(c->id);
	req.member_epoch = epoch;
	req.instance_id = c->instance[0] ? S(c->instance) : S(NULL);
	req.rack_id = S(NULL);
	req.client_id = S("client");
	req.client_host = S("/127.0.0.1");
	req.rebalance_timeout_ms = epoch == 0 ? 300000 : -1;
	for (int i = 0; i < ntopics; i++)
		ts[i] = S(topics[i]);
	req.topics = ts;
	req.ntopics = topics != NULL ? ntopics : -1;
	req.regex = S(NULL);
	req.assignor = S(assignor);
	req.owned = c->owned;
	req.nowned = report || epoch == 0 ? (epoch == 0 ? 0 : c->nowned) : -1;
	cgroup_heartbeat(cc, &req, now, &res);
	c->error = res.error;
	c->got_assignment = res.has_assignment;
	if (res.error != E_NONE)
		return res.error;
	ck_assert_int_le(res.member_id.len, 63);
	memcpy(c->id, res.member_id.p, (size_t)res.member_id.len);
	c->id[res.member_id.len] = '\0';
	c->epoch = res.member_epoch;
	ck_assert_int_eq(res.heartbeat_interval_ms, 5000);
	if (res.has_assignment) {
		ck_assert_int_le(res.nassignment, OWN_MAX);
		if (res.nassignment > 0) /* an empty assignment may come with a NULL array */
			memcpy(c->owned, res.assignment,
			       (size_t)res.nassignment * sizeof *c->owned);
		c->nowned = res.nassignment;
	}
	ck_assert(cgroup_invariants(cc));
	return E_NONE;
}

static const char *const T0[] = {"t0"};
static const char *const T01[] = {"t0", "t1"};

static int16_t join(struct client *c, const char *id)
{
	memset(c, 0, sizeof *c);
	snprintf(c->id, sizeof c->id, "%s", id);
	return hb_full(c, 0, T0, 1, NULL, false);
}

/* A regular heartbeat that reports the owned partitions (as clients do after reconciling). */
static int16_t hb(struct client *c)
{
	return hb_full(c, c->epoch, NULL, 0, NULL, true);
}

/* Heartbeats every client until nothing changes (bounded), as their timers would. */
static void settle(struct client **cs, int n)
{
	for (int round = 0; round < 10; round++)
		for (int i = 0; i < n; i++)
			ck_assert_int_eq(hb(cs[i]), E_NONE);
}

static bool owns(const struct client *c, int topic, int32_t p)
{
	for (int32_t i = 0; i < c->nowned; i++)
		if (c->owned[i].topic_id[0] == topic + 1 && c->owned[i].partition == p)
			return true;
	return false;
}

/* Every partition of topic `t` is owned by exactly one of the clients. */
static void assert_exactly_once(struct client **cs, int n, int t)
{
	for (int32_t p = 0; p < parts[t]; p++) {
		int owners = 0;
		for (int i = 0; i < n; i++)
			owners += owns(cs[i], t, p);
		ck_assert_msg(owners == 1, "t%d-%d has %d owners", t, p, owners);
	}
}

/* ---- join ---- */

/* The first member gets every partition at epoch 1 and a coordinator-made member id. */
START_TEST(test_cgroup_first_member_gets_everything)
{
	struct client a;
	ck_assert_int_eq(join(&a, ""), E_NONE);
	ck_assert_int_eq((int)strlen(a.id), 22);
	ck_assert_int_eq(a.epoch, 1);
	ck_assert(a.got_assignment);
	ck_assert_int_eq(a.nowned, 6);
	ck_assert_int_eq(hb(&a), E_NONE);
	ck_assert(!a.got_assignment); /* unchanged: no Assignment in the answer */
	ck_assert_int_eq(a.epoch, 1);
}
END_TEST

/* A client-chosen member id (KIP-1082) is kept. */
START_TEST(test_cgroup_join_keeps_client_member_id)
{
	struct client a;
	ck_assert_int_eq(join(&a, "my-own-id"), E_NONE);
	ck_assert_str_eq(a.id, "my-own-id");
}
END_TEST

/* A join without a subscription, with a regex or an unknown assignor is refused. */
START_TEST(test_cgroup_join_rejects_bad_requests)
{
	struct client a;
	memset(&a, 0, sizeof a);
	strcpy(a.id, "a");
	ck_assert_int_eq(hb_full(&a, 0, NULL, 0, NULL, false), E_INVALID_REQUEST);
	ck_assert_int_eq(hb_full(&a, 0, T0, 1, "sticky", false), E_UNSUPPORTED_ASSIGNOR);
	struct cgroup_heartbeat_req req;
	struct cgroup_heartbeat_result res;
	memset(&req, 0, sizeof req);
	req.group_id = S("g");
	req.member_id = S("a");
	req.instance_id = req.rack_id = req.assignor = S(NULL);
	req.regex = S("t.*");
	req.ntopics = -1;
	req.nowned = 0;
	req.rebalance_timeout_ms = 1000;
	cgroup_heartbeat(cc, &req, now, &res);
	ck_assert_int_eq(res.error, E_INVALID_REGULAR_EXPRESSION);
	req.regex = S(NULL);
	req.ntopics = 0;
	req.classic_live = true;
	cgroup_heartbeat(cc, &req, now, &res);
	ck_assert_int_eq(res.error, E_GROUP_ID_NOT_FOUND);
}
END_TEST

/* ---- assignment ---- */

/* Uniform: three members on 6 + 4 partitions get 4, 3, 3 and every partition once. */
START_TEST(test_cgroup_uniform_balances_members)
{
	struct client a, b, c;
	struct client *cs[] = {&a, &b, &c};
	parts[1] = 4;
	memset(&a, 0, sizeof a);
	strcpy(a.id, "a");
	ck_assert_int_eq(hb_full(&a, 0, T01, 2, NULL, false), E_NONE);
	memset(&b, 0, sizeof b);
	strcpy(b.id, "b");
	ck_assert_int_eq(hb_full(&b, 0, T01, 2, NULL, false), E_NONE);
	memset(&c, 0, sizeof c);
	strcpy(c.id, "c");
	ck_assert_int_eq(hb_full(&c, 0, T01, 2, NULL, false), E_NONE);
	settle(cs, 3);
	assert_exactly_once(cs, 3, 0);
	assert_exactly_once(cs, 3, 1);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_ge(cs[i]->nowned, 3);
		ck_assert_int_le(cs[i]->nowned, 4);
		ck_assert_int_eq(cs[i]->epoch, a.epoch);
	}
	struct cgroup_describe_result d;
	cgroup_describe(cc, S("g"), &d);
	ck_assert_int_eq(d.error, E_NONE);
	ck_assert_str_eq(d.state, "Stable");
	ck_assert_str_eq(d.assignor, "uniform");
	ck_assert_int_eq(d.nmembers, 3);
	ck_assert_int_eq(d.members[0].ntopics, 2);
}
END_TEST

/* Range: with members a and b on t0 (6) and t1 (4), a gets t0-0..2 and t1-0..1. */
START_TEST(test_cgroup_range_gives_consecutive_ranges)
{
	struct client a, b;
	struct client *cs[] = {&a, &b};
	parts[1] = 4;
	memset(&a, 0, sizeof a);
	strcpy(a.id, "a");
	ck_assert_int_eq(hb_full(&a, 0, T01, 2, "range", false), E_NONE);
	memset(&b, 0, sizeof b);
	strcpy(b.id, "b");
	ck_assert_int_eq(hb_full(&b, 0, T01, 2, "range", false), E_NONE);
	settle(cs, 2);
	for (int32_t p = 0; p < 3; p++)
		ck_assert(owns(&a, 0, p) && owns(&b, 0, p + 3));
	for (int32_t p = 0; p < 2; p++)
		ck_assert(owns(&a, 1, p) && owns(&b, 1, p + 2));
	struct cgroup_describe_result d;
	cgroup_describe(cc, S("g"), &d);
	ck_assert_str_eq(d.assignor, "range");
}
END_TEST

/* More partitions (metadata change) reach the members without anyone rejoining. */
START_TEST(test_cgroup_new_partitions_are_assigned)
{
	struct client a;
	ck_assert_int_eq(join(&a, "a"), E_NONE);
	parts[0] = 8;
	ck_assert_int_eq(hb(&a), E_NONE);
	ck_assert_int_eq(a.nowned, 8);
	ck_assert_int_eq(a.epoch, 2);
}
END_TEST

/* ---- reconcile ---- */

/* A second member gets nothing until the first revokes; then it gets its half. */
START_TEST(test_cgroup_revocation_before_reassignment)
{
	struct client a, b;
	struct client *cs[] = {&a, &b};
	ck_assert_int_eq(join(&a, "a"), E_NONE);
	ck_assert_int_eq(join(&b, "b"), E_NONE);
	ck_assert_int_eq(b.epoch, 2);
	ck_assert_int_eq(b.nowned, 0); /* a still owns everything */
	/* a is told to keep 3 and stays at epoch 1 until it confirms. */
	ck_assert_int_eq(hb_full(&a, a.epoch, NULL, 0, NULL, false), E_NONE);
	ck_assert(a.got_assignment);
	ck_assert_int_eq(a.nowned, 3);
	ck_assert_int_eq(a.epoch, 1);
	/* b still gets nothing while a has not confirmed. */
	ck_assert_int_eq(hb(&b), E_NONE);
	ck_assert_int_eq(b.nowned, 0);
	/* a confirms (reports 3 owned): it moves to epoch 2; then b gets the other 3. */
	ck_assert_int_eq(hb(&a), E_NONE);
	ck_assert_int_eq(a.epoch, 2);
	ck_assert_int_eq(hb(&b), E_NONE);
	ck_assert_int_eq(b.nowned, 3);
	settle(cs, 2);
	assert_exactly_once(cs, 2, 0);
}
END_TEST

/* A member that leaves (epoch -1) hands its partitions to the others. */
START_TEST(test_cgroup_leave_moves_partitions)
{
	struct client a, b;
	struct client *cs[] = {&a, &b};
	ck_assert_int_eq(join(&a, "a"), E_NONE);
	ck_assert_int_eq(join(&b, "b"), E_NONE);
	settle(cs, 2);
	ck_assert_int_eq(a.nowned, 3);
	ck_assert_int_eq(hb_full(&b, -1, NULL, 0, NULL, false), E_NONE);
	ck_assert_int_eq(b.epoch, -1);
	ck_assert_int_eq(hb(&a), E_NONE);
	ck_assert_int_eq(a.nowned, 6);
	ck_assert_int_eq(cgroup_members(cc, S("g")), 1);
	/* Leaving again is an unknown member. */
	strcpy(b.id, "b");
	ck_assert_int_eq(hb_full(&b, -1, NULL, 0, NULL, false), E_UNKNOWN_MEMBER_ID);
}
END_TEST

/* ---- fencing ---- */

/* Epochs ahead of the member's, or stale, are fenced; unknown ids are UNKNOWN_MEMBER_ID; the
 * fenced member rejoins with epoch 0 and gets its partitions back. */
START_TEST(test_cgroup_fencing)
{
	struct client a, x;
	ck_assert_int_eq(join(&a, "a"), E_NONE);
	ck_assert_int_eq(hb_full(&a, a.epoch + 1, NULL, 0, NULL, true), E_FENCED_MEMBER_EPOCH);
	memset(&x, 0, sizeof x);
	strcpy(x.id, "nobody");
	x.epoch = 1;
	ck_assert_int_eq(hb(&x), E_UNKNOWN_MEMBER_ID);
	parts[0] = 7; /* epoch 2 */
	ck_assert_int_eq(hb(&a), E_NONE);
	ck_assert_int_eq(a.epoch, 2);
	/* Epoch 1 with a subset of the partitions: a lost answer, forgiven. */
	ck_assert_int_eq(hb_full(&a, 1, NULL, 0, NULL, true), E_NONE);
	ck_assert_int_eq(a.epoch, 2);
	parts[0] = 8; /* epoch 3 */
	ck_assert_int_eq(hb(&a), E_NONE);
	ck_assert_int_eq(hb_full(&a, 1, NULL, 0, NULL, true), E_FENCED_MEMBER_EPOCH);
	ck_assert_int_eq(hb_full(&a, 0, T0, 1, NULL, false), E_NONE);
	ck_assert_int_eq(a.nowned, 8);
}
END_TEST

/* ---- timeouts ---- */

/* A member silent past the session timeout (45 s) is removed; the other takes over. */
START_TEST(test_cgroup_session_expiry)
{
	struct client a, b;
	struct client *cs[] = {&a, &b};
	ck_assert_int_eq(join(&a, "a"), E_NONE);
	ck_assert_int_eq(join(&b, "b"), E_NONE);
	settle(cs, 2);
	now += 40000;
	ck_assert_int_eq(hb(&a), E_NONE);
	ck_assert_int_gt(cgroup_tick(cc, now), 0);
	ck_assert_int_eq(cgroup_members(cc, S("g")), 2);
	now += 5001;
	cgroup_tick(cc, now);
	ck_assert_int_eq(cgroup_members(cc, S("g")), 1);
	ck_assert_int_eq(hb(&b), E_UNKNOWN_MEMBER_ID);
	ck_assert_int_eq(hb(&a), E_NONE);
	ck_assert_int_eq(a.nowned, 6);
}
END_TEST

/* A member that never confirms its revocation is removed after its rebalance timeout. */
START_TEST(test_cgroup_revocation_timeout)
{
	struct client a, b;
	ck_assert_int_eq(join(&a, "a"), E_NONE);
	ck_assert_int_eq(join(&b, "b"), E_NONE);
	ck_assert_int_eq(hb_full(&a, a.epoch, NULL, 0, NULL, false), E_NONE); /* told to revoke */
	for (int i = 0; i < 11; i++) {
		now += 30000;
		ck_assert_int_eq(hb(&b), E_NONE);
		ck_assert_int_eq(hb_full(&a, a.epoch, NULL, 0, NULL, false),
				 i < 10 ? E_NONE : E_UNKNOWN_MEMBER_ID);
		cgroup_tick(cc, now);
	}
	ck_assert_int_eq(hb(&b), E_NONE);
	ck_assert_int_eq(b.nowned, 6);
}
END_TEST

/* ---- static ---- */

/* A static member leaving with -2 comes back under a new member id with its partitions and epoch;
 * while it is live, its instance id cannot be taken (UNRELEASED_INSTANCE_ID). */
START_TEST(test_cgroup_static_member_returns)
{
	struct client a, b, a2;
	struct client *cs[] = {&a, &b};
	memset(&a, 0, sizeof a);
	strcpy(a.id, "a1");
	strcpy(a.instance, "inst-a");
	ck_assert_int_eq(hb_full(&a, 0, T0, 1, NULL, false), E_NONE);
	ck_assert_int_eq(join(&b, "b"), E_NONE);
	settle(cs, 2);
	int32_t epoch = a.epoch;
	memset(&a2, 0, sizeof a2);
	strcpy(a2.id, "a2");
	strcpy(a2.instance, "inst-a");
	ck_assert_int_eq(hb_full(&a2, 0, T0, 1, NULL, false), E_UNRELEASED_INSTANCE_ID);
	ck_assert_int_eq(hb_full(&a, -2, NULL, 0, NULL, false), E_NONE);
	ck_assert_int_eq(a.epoch, -2);
	ck_assert_int_eq(cgroup_members(cc, S("g")), 2);
	ck_assert_int_eq(hb_full(&a2, 0, T0, 1, NULL, false), E_NONE);
	ck_assert_int_eq(a2.epoch, epoch); /* no rebalance */
	ck_assert_int_eq(a2.nowned, 3);
	ck_assert_int_eq(hb(&b), E_NONE);
	ck_assert_int_eq(b.epoch, epoch);
	/* The old member id is gone. */
	a.epoch = epoch;
	ck_assert_int_eq(hb(&a), E_UNKNOWN_MEMBER_ID);
}
END_TEST

/* A static member that left temporarily and never came back is removed at session timeout. */
START_TEST(test_cgroup_static_member_expires)
{
	struct client a, b;
	memset(&a, 0, sizeof a);
	strcpy(a.id, "a1");
	strcpy(a.instance, "inst-a");
	ck_assert_int_eq(hb_full(&a, 0, T0, 1, NULL, false), E_NONE);
	ck_assert_int_eq(join(&b, "b"), E_NONE);
	ck_assert_int_eq(hb_full(&a, -2, NULL, 0, NULL, false), E_NONE);
	now += 46000;
	cgroup_tick(cc, now);
	ck_assert_int_eq(cgroup_members(cc, S("g")), 0);
	ck_assert_int_eq(hb_full(&b, 0, T0, 1, NULL, false), E_NONE); /* b expired too: rejoin */
	ck_assert_int_eq(b.nowned, 6);
	ck_assert_int_eq(cgroup_members(cc, S("g")), 1);
}
END_TEST

/* ---- commit ---- */

/* OffsetCommit checks: current or previous epoch pass, others and unknown members do not;
 * epoch -1 passes only for an empty group. */
START_TEST(test_cgroup_commit_check)
{
	struct client a;
	ck_assert_int_eq(cgroup_commit_check(cc, S("g"), S(""), -1), E_NONE);
	ck_assert_int_eq(join(&a, "a"), E_NONE);
	ck_assert_int_eq(cgroup_commit_check(cc, S("g"), S("a"), 1), E_NONE);
	ck_assert_int_eq(cgroup_commit_check(cc, S("g"), S("a"), 2), E_FENCED_MEMBER_EPOCH);
	ck_assert_int_eq(cgroup_commit_check(cc, S("g"), S("zz"), 1), E_UNKNOWN_MEMBER_ID);
	ck_assert_int_eq(cgroup_commit_check(cc, S("g"), S(""), -1), E_UNKNOWN_MEMBER_ID);
	parts[0] = 7;
	ck_assert_int_eq(hb(&a), E_NONE);
	parts[0] = 8;
	ck_assert_int_eq(hb(&a), E_NONE);
	ck_assert_int_eq(a.epoch, 3);
	ck_assert_int_eq(cgroup_commit_check(cc, S("g"), S("a"), 2), E_NONE);
	ck_assert_int_eq(cgroup_commit_check(cc, S("g"), S("a"), 1), E_STALE_MEMBER_EPOCH);
	ck_assert(cgroup_exists(cc, S("g")));
	ck_assert_int_eq(cgroup_delete(cc, S("g")), 68);
	ck_assert_int_eq(hb_full(&a, -1, NULL, 0, NULL, false), E_NONE);
	ck_assert_int_eq(cgroup_delete(cc, S("g")), E_NONE);
	ck_assert(!cgroup_exists(cc, S("g")));
}
END_TEST

static Suite *cgroup_suite(void)
{
	Suite *s = suite_create("cgroup");
	struct {
		const char *name;
		const TTest *tests[8];
	} cases[] = {
		{"join",
		 {test_cgroup_first_member_gets_everything, test_cgroup_join_keeps_client_member_id,
		  test_cgroup_join_rejects_bad_requests}},
		{"assignment",
		 {test_cgroup_uniform_balances_members, test_cgroup_range_gives_consecutive_ranges,
		  test_cgroup_new_partitions_are_assigned}},
		{"reconcile", {test_cgroup_revocation_before_reassignment, test_cgroup_leave_moves_partitions}},
		{"fencing", {test_cgroup_fencing}},
		{"timeouts", {test_cgroup_session_expiry, test_cgroup_revocation_timeout}},
		{"static", {test_cgroup_static_member_returns, test_cgroup_static_member_expires}},
		{"commit", {test_cgroup_commit_check}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_add_checked_fixture(tc, setup, teardown);
		for (int j = 0; j < 8 && cases[i].tests[j] != NULL; j++)
			tcase_add_test(tc, cases[i].tests[j]);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cgroup_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
