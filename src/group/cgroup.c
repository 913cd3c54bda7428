/*
 * cgroup: the KIP-848 consumer-group coordinator (see cgroup.h for the protocol, the failure
 * modes and the invariants).
 *
 * Layout: a coordinator holds groups in an array (linear search, bounded by CGROUP_GROUPS_MAX);
 * a group holds its members; a member holds three partition sets: `assigned` (what it may own
 * now, what its last answer told it), `revoking` (what it was told to give up and has not yet
 * confirmed) and `target` (what the assignor wants it to own at the group's assignment epoch).
 * Reconciliation happens lazily, on the member's own heartbeat: nothing changes a member's
 * `assigned` set behind its back, so the answer can always say whether it changed.
 *
 * The target is recomputed whenever the group epoch moves past the assignment epoch: members
 * joining or leaving, a subscription or assignor change, or topic metadata changing (a
 * signature of the subscribed topics' ids and partition counts is compared on each heartbeat).
 */
#include "group/cgroup.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Kafka error codes used here (the protocol guide's table). */
enum {
	E_NONE = 0,
	E_INVALID_GROUP_ID = 24,
	E_UNKNOWN_MEMBER_ID = 25,
	E_INVALID_REQUEST = 42,
	E_NON_EMPTY_GROUP = 68,
	E_GROUP_ID_NOT_FOUND = 69,
	E_GROUP_MAX_SIZE_REACHED = 81,
	E_FENCED_MEMBER_EPOCH = 110,
	E_UNRELEASED_INSTANCE_ID = 111,
	E_UNSUPPORTED_ASSIGNOR = 112,
	E_STALE_MEMBER_EPOCH = 113,
	E_INVALID_REGULAR_EXPRESSION = 128,
};

static const char *const assignor_names[] = {"uniform", "range"};
#define ASSIGNORS_COUNT 2

/* An owned copy of a string; NUL-terminated for convenience; len -1 = null. */
struct sstr {
	char *p;
	int32_t len;
};

struct tpset {
	struct cgroup_tp *v;
	int32_t n;
	int32_t cap;
};

/* A member's reconciliation state (Kafka's MemberState). */
enum mstate {
	M_STABLE,
	M_UNREVOKED, /* told to revoke `revoking`; stays at its epoch until it confirms */
	M_UNRELEASED, /* at the target epoch, waiting for partitions others still own */
};

struct member {
	struct sstr id;
	struct sstr instance_id;
	struct sstr rack_id;
	struct sstr client_id;
	struct sstr client_host;
	int32_t epoch;
	int32_t prev_epoch;
	enum mstate state;
	int32_t rebalance_timeout_ms;
	struct sstr *topics;
	int32_t ntopics;
	const char *assignor; /* preferred ServerAssignor, NULL = none */
	struct tpset assigned;
	struct tpset revoking;
	struct tpset target;
	int64_t session_deadline_ms;
	int64_t revoke_deadline_ms; /* meaningful in M_UNREVOKED */
	bool left_static;           /* sent epoch -2: keeps its place until the session ends */
};

struct cgroup {
	struct sstr id;
	int32_t epoch;
	int32_t assignment_epoch;
	uint64_t meta_sig;
	const char *assignor;
	struct member **m;
	int32_t nm;
	int32_t mcap;
};

struct cgroup_coordinator {
	struct cgroup_config cfg;
	cgroup_topic_fn topic;
	void *topic_arg;
	uint64_t rng;
	struct cgroup **g;
	int32_t ng;
	int32_t gcap;
	struct cgroup_describe_member *dm; /* describe results */
	int32_t dmcap;
	struct cgroup_str *dt; /* describe results: every member's topics */
	int32_t dtcap;
	struct sstr left_id; /* a leaving member's id, for its answer */
};

void cgroup_config_default(struct cgroup_config *c)
{
	c->heartbeat_interval_ms = 5000;
	c->session_timeout_ms = 45000;
	c->default_assignor = "uniform";
}

/* ---- small helpers ------------------------------------------------------------------------ */

static bool str_eq(struct cgroup_str a, struct sstr b)
{
	return a.len == b.len && (a.len <= 0 || memcmp(a.p, b.p, (size_t)a.len) == 0);
}

static int sstr_set(struct sstr *s, struct cgroup_str in)
{
	char *p = NULL;

	if (in.len >= 0) {
		p = malloc((size_t)in.len + 1);
		if (p == NULL)
			return -1;
		if (in.len > 0)
			memcpy(p, in.p, (size_t)in.len);
		p[in.len] = '\0';
	}
	free(s->p);
	s->p = p;
	s->len = in.len < 0 ? -1 : in.len;
	return 0;
}

static struct cgroup_str cs(const struct sstr *s)
{
	return (struct cgroup_str){s->p, s->len};
}

static int tp_cmp(const struct cgroup_tp *a, const struct cgroup_tp *b)
{
	int c = memcmp(a->topic_id, b->topic_id, 16);
	if (c != 0)
		return c;
	return a->partition < b->partition ? -1 : a->partition > b->partition;
}

static bool tpset_has(const struct tpset *s, const struct cgroup_tp *tp)
{
	for (int32_t i = 0; i < s->n; i++)
		if (tp_cmp(&s->v[i], tp) == 0)
			return true;
	return false;
}

static int tpset_add(struct tpset *s, const struct cgroup_tp *tp)
{
	if (s->n == s->cap) {
		int32_t ncap = s->cap ? s->cap * 2 : 8;
		struct cgroup_tp *v = realloc(s->v, (size_t)ncap * sizeof *v);
		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = ncap;
	}
	s->v[s->n++] = *tp;
	return 0;
}

static bool tpset_equal(const struct tpset *a, const struct tpset *b)
{
	if (a->n != b->n)
		return false;
	for (int32_t i = 0; i < a->n; i++)
		if (!tpset_has(b, &a->v[i]))
			return false;
	return true;
}

static int tpset_copy(struct tpset *dst, const struct tpset *src)
{
	dst->n = 0;
	for (int32_t i = 0; i < src->n; i++)
		if (tpset_add(dst, &src->v[i]) != 0)
			return -1;
	return 0;
}

static uint64_t rnd(struct cgroup_coordinator *cc)
{
	/* xorshift64*: member ids need uniqueness, not secrecy. */
	cc->rng ^= cc->rng >> 12;
	cc->rng ^= cc->rng << 25;
	cc->rng ^= cc->rng >> 27;
	return cc->rng * 0x2545F4914F6CDD1DULL;
}

/* Member ids the coordinator makes: 22 characters of base64url, like a Kafka Uuid's string
 * form. Returns `given` when the client chose one (KIP-1082), else one written to `buf`. */
#define MEMBER_ID_CHARS 22
static struct cgroup_str new_member_id(struct cgroup_coordinator *cc, struct cgroup_str given,
				       char *buf)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint64_t a = rnd(cc), b = rnd(cc);

	if (given.len > 0)
		return given;
	for (int i = 0; i < MEMBER_ID_CHARS; i++)
		buf[i] = al[(i < 11 ? a >> (6 * i) : b >> (6 * (i - 11))) & 63];
	return (struct cgroup_str){buf, MEMBER_ID_CHARS};
}

/* ---- groups and members ------------------------------------------------------------------- */

static struct cgroup *group_find(struct cgroup_coordinator *cc, struct cgroup_str id)
{
	for (int32_t i = 0; i < cc->ng; i++)
		if (str_eq(id, cc->g[i]->id))
			return cc->g[i];
	return NULL;
}

static struct cgroup *group_create(struct cgroup_coordinator *cc, struct cgroup_str id)
{
	struct cgroup *g;

	if (cc->ng == CGROUP_GROUPS_MAX)
		return NULL;
	if (cc->ng == cc->gcap) {
		int32_t ncap = cc->gcap ? cc->gcap * 2 : 16;
		struct cgroup **v = realloc(cc->g, (size_t)ncap * sizeof *v);
		if (v == NULL)
			return NULL;
		cc->g = v;
		cc->gcap = ncap;
	}
	g = calloc(1, sizeof *g);
	if (g == NULL || sstr_set(&g->id, id) != 0) {
		free(g);
		return NULL;
	}
	g->assignor = cc->cfg.default_assignor;
	cc->g[cc->ng++] = g;
	return g;
}

static void member_free(struct member *m)
{
	if (m == NULL)
		return;
	free(m->id.p);
	free(m->instance_id.p);
	free(m->rack_id.p);
	free(m->client_id.p);
	free(m->client_host.p);
	for (int32_t i = 0; i < m->ntopics; i++)
		free(m->topics[i].p);
	free(m->topics);
	free(m->assigned.v);
	free(m->revoking.v);
	free(m->target.v);
	free(m);
}

static void group_free(struct cgroup *g)
{
	for (int32_t i = 0; i < g->nm; i++)
		member_free(g->m[i]);
	free(g->m);
	free(g->id.p);
	free(g);
}

static struct member *member_find(struct cgroup *g, struct cgroup_str id)
{
	if (g == NULL || id.len <= 0)
		return NULL;
	for (int32_t i = 0; i < g->nm; i++)
		if (str_eq(id, g->m[i]->id))
			return g->m[i];
	return NULL;
}

static struct member *member_by_instance(struct cgroup *g, struct cgroup_str iid)
{
	if (g == NULL || iid.len < 0)
		return NULL;
	for (int32_t i = 0; i < g->nm; i++)
		if (str_eq(iid, g->m[i]->instance_id))
			return g->m[i];
	return NULL;
}

/* Removes a member: its partitions become free at once and the group epoch moves, so the next
 * heartbeat of any member computes a new target without it. */
static void member_remove(struct cgroup *g, struct member *m)
{
	for (int32_t i = 0; i < g->nm; i++) {
		if (g->m[i] != m)
			continue;
		g->m[i] = g->m[--g->nm];
		member_free(m);
		g->epoch++;
		return;
	}
	assert(false);
}

/* True when a member other than `self` owns `tp` (assigned or still revoking). */
static bool owned_by_other(const struct cgroup *g, const struct member *self,
			   const struct cgroup_tp *tp)
{
	for (int32_t i = 0; i < g->nm; i++) {
		const struct member *o = g->m[i];
		if (o != self && (tpset_has(&o->assigned, tp) || tpset_has(&o->revoking, tp)))
			return true;
	}
	return false;
}

/* ---- metadata and the target assignment -------------------------------------------------- */

struct topic_info {
	const struct sstr *name;
	uint8_t id[16];
	int32_t partitions;
	int32_t first; /* index of its partition 0 in the partition list */
};

static int name_cmp(const void *a, const void *b)
{
	const struct sstr *x = *(const struct sstr *const *)a;
	const struct sstr *y = *(const struct sstr *const *)b;
	int32_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, (size_t)n);
	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = *(const struct member *const *)a;
	const struct member *y = *(const struct member *const *)b;
	return name_cmp(&(const struct sstr *){&x->id}, &(const struct sstr *){&y->id});
}

/* The distinct subscribed topics that exist, sorted by name, into *out (malloc'd; caller
 * frees). Returns the count, or -1 on OOM. */
static int32_t collect_topics(struct cgroup_coordinator *cc, const struct cgroup *g,
			      struct topic_info **out)
{
	int32_t total = 0, n = 0;
	const struct sstr **names;
	struct topic_info *ti;

	for (int32_t i = 0; i < g->nm; i++)
		total += g->m[i]->ntopics;
	names = malloc(((size_t)total + 1) * sizeof *names);
	ti = malloc(((size_t)total + 1) * sizeof *ti);
	if (names == NULL || ti == NULL) {
		free(names);
		free(ti);
		return -1;
	}
	for (int32_t i = 0, k = 0; i < g->nm; i++)
		for (int32_t j = 0; j < g->m[i]->ntopics; j++)
			names[k++] = &g->m[i]->topics[j];
	qsort(names, (size_t)total, sizeof *names, name_cmp);
	for (int32_t i = 0; i < total; i++) {
		if (i > 0 && name_cmp(&names[i - 1], &names[i]) == 0)
			continue;
		ti[n].name = names[i];
		if (!cc->topic(cc->topic_arg, names[i]->p, (size_t)names[i]->len, ti[n].id,
			       &ti[n].partitions) ||
		    ti[n].partitions <= 0)
			continue;
		n++;
	}
	free(names);
	*out = ti;
	return n;
}

static uint64_t signature(const struct topic_info *ti, int32_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (int32_t i = 0; i < n; i++) {
		for (int32_t j = 0; j < ti[i].name->len; j++)
			h = (h ^ (uint8_t)ti[i].name->p[j]) * 1099511628211ULL;
		for (int j = 0; j < 16; j++)
			h = (h ^ ti[i].id[j]) * 1099511628211ULL;
		h = (h ^ (uint64_t)(uint32_t)ti[i].partitions) * 1099511628211ULL;
	}
	return h;
}

static bool subscribes(const struct member *m, const struct sstr *topic)
{
	for (int32_t i = 0; i < m->ntopics; i++)
		if (name_cmp(&(const struct sstr *){&m->topics[i]}, &topic) == 0)
			return true;
	return false;
}

/* The uniform assignor: every partition goes to one of its topic's subscribers; partitions stay
 * with their previous target owner while that owner is within its share (floor(P/N), and
 * floor+1 for at most P mod N members), the rest go to the least-loaded subscriber. With equal
 * subscriptions every member ends with floor(P/N) or floor(P/N)+1 partitions. */
static void assign_uniform(struct member **ms, int32_t nm, const struct topic_info *ti,
			   int32_t nt, const bool *sub, int32_t *owner, int32_t np, int32_t *load)
{
	int32_t *prev = malloc(((size_t)np + 1) * sizeof *prev);
	int32_t base = np / nm, extra = np % nm, extra_used = 0;

	if (prev == NULL)
		prev = owner; /* OOM: no stickiness, still a valid assignment */
	for (int32_t i = 0; i < np; i++)
		prev[i] = -1;
	for (int32_t m = 0; m < nm && prev != owner; m++) {
		for (int32_t k = 0; k < ms[m]->target.n; k++) {
			const struct cgroup_tp *tp = &ms[m]->target.v[k];
			for (int32_t t = 0; t < nt; t++)
				if (memcmp(ti[t].id, tp->topic_id, 16) == 0 && sub[m * nt + t] &&
				    tp->partition < ti[t].partitions)
					prev[ti[t].first + tp->partition] = m;
		}
	}
	for (int32_t i = 0; i < np; i++)
		owner[i] = -1;
	for (int pass = 0; pass < 2 && prev != owner; pass++) {
		for (int32_t i = 0; i < np; i++) {
			int32_t m = prev[i];
			if (m < 0 || owner[i] >= 0)
				continue;
			if (load[m] < base || (pass == 1 && load[m] == base && extra_used < extra)) {
				if (load[m] == base)
					extra_used++;
				owner[i] = m;
				load[m]++;
			}
		}
	}
	for (int32_t t = 0; t < nt; t++) {
		for (int32_t p = 0; p < ti[t].partitions; p++) {
			int32_t i = ti[t].first + p, best = -1;
			if (owner[i] >= 0)
				continue;
			for (int32_t m = 0; m < nm; m++)
				if (sub[m * nt + t] && (best < 0 || load[m] < load[best]))
					best = m;
			owner[i] = best;
			if (best >= 0)
				load[best]++;
		}
	}
	if (prev != owner)
		free(prev);
}

/* The range assignor: per topic, its subscribers in member-id order get consecutive ranges,
 * the first (partitions mod subscribers) of them one partition more. */
static void assign_range(int32_t nm, const struct topic_info *ti, int32_t nt, const bool *sub,
			 int32_t *owner)
{
	for (int32_t t = 0; t < nt; t++) {
		int32_t ns = 0, k = 0;
		for (int32_t m = 0; m < nm; m++)
			ns += sub[m * nt + t];
		for (int32_t p = 0; p < ti[t].partitions; p++)
			owner[ti[t].first + p] = -1;
		if (ns == 0)
			continue;
		int32_t q = ti[t].partitions / ns, r = ti[t].partitions % ns;
		for (int32_t m = 0; m < nm; m++) {
			if (!sub[m * nt + t])
				continue;
			int32_t lo = k * q + (k < r ? k : r);
			int32_t hi = lo + q + (k < r ? 1 : 0);
			for (int32_t p = lo; p < hi; p++)
				owner[ti[t].first + p] = m;
			k++;
		}
	}
}

/* Chooses the group's assignor: the one most members prefer, else the default. */
static void choose_assignor(struct cgroup_coordinator *cc, struct cgroup *g)
{
	int32_t votes[ASSIGNORS_COUNT] = {0};
	int best = -1;

	for (int32_t i = 0; i < g->nm; i++)
		for (int a = 0; a < ASSIGNORS_COUNT; a++)
			if (g->m[i]->assignor == assignor_names[a])
				votes[a]++;
	for (int a = 0; a < ASSIGNORS_COUNT; a++)
		if (votes[a] > 0 && (best < 0 || votes[a] > votes[best]))
			best = a;
	g->assignor = best >= 0 ? assignor_names[best] : cc->cfg.default_assignor;
}

/* Brings the target assignment to the group epoch (after noticing metadata changes). Returns 0
 * or -1 on OOM (the old target stays; the next heartbeat retries). */
static int refresh_target(struct cgroup_coordinator *cc, struct cgroup *g)
{
	struct topic_info *ti;
	int32_t nt = collect_topics(cc, g, &ti), np = 0, nm = g->nm;
	struct member **ms = NULL;
	bool *sub = NULL;
	int32_t *owner = NULL, *load = NULL;
	int rv = -1;
	uint64_t sig;

	if (nt < 0)
		return -1;
	sig = signature(ti, nt);
	if (sig != g->meta_sig) {
		g->meta_sig = sig;
		if (g->epoch == g->assignment_epoch)
			g->epoch++; /* unless a new target is already due */
	}
	if (g->assignment_epoch == g->epoch) {
		free(ti);
		return 0;
	}
	for (int32_t t = 0; t < nt; t++) {
		if (np + ti[t].partitions > CGROUP_PARTITIONS_MAX) {
			nt = t; /* bounded: the rest stay unassigned */
			break;
		}
		ti[t].first = np;
		np += ti[t].partitions;
	}
	ms = malloc(((size_t)nm + 1) * sizeof *ms);
	sub = calloc((size_t)nm * (size_t)nt + 1, sizeof *sub);
	owner = malloc(((size_t)np + 1) * sizeof *owner);
	load = calloc((size_t)nm + 1, sizeof *load);
	if (ms == NULL || sub == NULL || owner == NULL || load == NULL)
		goto out;
	if (nm > 0) {
		memcpy(ms, g->m, (size_t)nm * sizeof *ms);
		qsort(ms, (size_t)nm, sizeof *ms, member_cmp);
	}
	for (int32_t m = 0; m < nm; m++)
		for (int32_t t = 0; t < nt; t++)
			sub[m * nt + t] = subscribes(ms[m], ti[t].name);
	choose_assignor(cc, g);
	if (nm > 0 && strcmp(g->assignor, "range") == 0)
		assign_range(nm, ti, nt, sub, owner);
	else if (nm > 0)
		assign_uniform(ms, nm, ti, nt, sub, owner, np, load);
	for (int32_t m = 0; m < nm; m++)
		ms[m]->target.n = 0;
	for (int32_t t = 0; t < nt; t++) {
		for (int32_t p = 0; p < ti[t].partitions; p++) {
			int32_t o = owner[ti[t].first + p];
			struct cgroup_tp tp;
			if (o < 0)
				continue;
			memcpy(tp.topic_id, ti[t].id, 16);
			tp.partition = p;
			if (tpset_add(&ms[o]->target, &tp) != 0)
				goto out;
		}
	}
	g->assignment_epoch = g->epoch;
	rv = 0;
out:
	free(ti);
	free(ms);
	free(sub);
	free(owner);
	free(load);
	return rv;
}

/* ---- reconciliation ----------------------------------------------------------------------- */

/* Moves member `m` towards its target (Kafka's CurrentAssignmentBuilder). `owned` is what the
 * member reported owning (nowned -1: not reported). */
static int reconcile(struct cgroup *g, struct member *m, const struct cgroup_tp *owned,
		     int32_t nowned, int32_t rebalance_timeout_ms, int64_t now_ms)
{
	struct tpset keep = {0};
	bool revoke = false;

	if (m->state == M_UNREVOKED) {
		if (nowned < 0)
			return 0;
		for (int32_t i = 0; i < nowned; i++)
			if (tpset_has(&m->revoking, &owned[i]))
				return 0; /* not revoked yet */
		m->revoking.n = 0;
		m->state = M_STABLE;
	}
	if (m->epoch == g->assignment_epoch && m->state == M_STABLE)
		return 0;
	for (int32_t i = 0; i < m->assigned.n; i++) {
		const struct cgroup_tp *tp = &m->assigned.v[i];
		if (tpset_has(&m->target, tp)) {
			if (tpset_add(&keep, tp) != 0)
				goto err_oom;
		} else {
			if (tpset_add(&m->revoking, tp) != 0)
				goto err_oom;
			revoke = true;
		}
	}
	if (revoke) {
		/* Step 1: keep the intersection, revoke the rest, stay at this epoch. */
		free(m->assigned.v);
		m->assigned = keep;
		m->state = M_UNREVOKED;
		m->revoke_deadline_ms = now_ms + (rebalance_timeout_ms > 0 ? rebalance_timeout_ms : 0);
		return 0;
	}
	free(keep.v);
	/* Step 2: move to the target epoch, take what is free. */
	bool all = true;
	for (int32_t i = 0; i < m->target.n; i++) {
		const struct cgroup_tp *tp = &m->target.v[i];
		if (tpset_has(&m->assigned, tp))
			continue;
		if (owned_by_other(g, m, tp)) {
			all = false;
			continue;
		}
		if (tpset_add(&m->assigned, tp) != 0)
			return -1;
	}
	if (m->epoch != g->assignment_epoch) {
		m->prev_epoch = m->epoch;
		m->epoch = g->assignment_epoch;
	}
	m->state = all ? M_STABLE : M_UNRELEASED;
	return 0;

err_oom:
	free(keep.v);
	m->revoking.n = 0;
	return -1;
}

static bool group_invariants(const struct cgroup *g);

/* ---- the API ------------------------------------------------------------------------------ */

struct cgroup_coordinator *cgroup_new(const struct cgroup_config *cfg, cgroup_topic_fn topic,
				      void *topic_arg, uint64_t random_seed)
{
	struct cgroup_coordinator *cc = calloc(1, sizeof *cc);

	if (cc == NULL)
		return NULL;
	cc->cfg = *cfg;
	if (cc->cfg.default_assignor == NULL || strcmp(cc->cfg.default_assignor, "range") != 0)
		cc->cfg.default_assignor = assignor_names[0];
	else
		cc->cfg.default_assignor = assignor_names[1];
	cc->topic = topic;
	cc->topic_arg = topic_arg;
	cc->rng = random_seed | 1;
	cc->left_id.len = -1;
	return cc;
}

void cgroup_free(struct cgroup_coordinator *cc)
{
	if (cc == NULL)
		return;
	for (int32_t i = 0; i < cc->ng; i++)
		group_free(cc->g[i]);
	free(cc->g);
	free(cc->dm);
	free(cc->dt);
	free(cc->left_id.p);
	free(cc);
}

static const char *assignor_find(struct cgroup_str name)
{
	for (int a = 0; a < ASSIGNORS_COUNT; a++)
		if (name.len == (int32_t)strlen(assignor_names[a]) &&
		    memcmp(name.p, assignor_names[a], (size_t)name.len) == 0)
			return assignor_names[a];
	return NULL;
}

/* Replaces the member's subscription; returns 1 if it changed, 0 if not, -1 on OOM. */
static int set_topics(struct member *m, const struct cgroup_str *topics, int32_t n)
{
	bool same = n == m->ntopics;
	struct sstr *v;

	for (int32_t i = 0; same && i < n; i++)
		same = str_eq(topics[i], m->topics[i]);
	if (same)
		return 0;
	v = calloc((size_t)n + 1, sizeof *v);
	if (v == NULL)
		return -1;
	for (int32_t i = 0; i < n; i++) {
		if (sstr_set(&v[i], topics[i].len < 0 ? (struct cgroup_str){"", 0} : topics[i]) !=
		    0) {
			for (int32_t j = 0; j < i; j++)
				free(v[j].p);
			free(v);
			return -1;
		}
	}
	for (int32_t i = 0; i < m->ntopics; i++)
		free(m->topics[i].p);
	free(m->topics);
	m->topics = v;
	m->ntopics = n;
	return 1;
}

static void fail(struct cgroup_heartbeat_result *res, int16_t err, const char *msg)
{
	res->error = err;
	res->error_message = msg;
}

static void heartbeat_leave(struct cgroup_coordinator *cc, struct cgroup *g,
			    const struct cgroup_heartbeat_req *req,
			    struct cgroup_heartbeat_result *res)
{
	struct member *m = member_find(g, req->member_id);

	if (m == NULL)
		m = member_by_instance(g, req->instance_id);
	if (m == NULL) {
		fail(res, E_UNKNOWN_MEMBER_ID, "unknown member");
		return;
	}
	if (sstr_set(&cc->left_id, req->member_id) == 0)
		res->member_id = cs(&cc->left_id);
	res->member_epoch = req->member_epoch;
	if (req->member_epoch == CGROUP_STATIC_LEAVE_EPOCH && m->instance_id.len >= 0) {
		/* A static member leaving for a while keeps its partitions and target. */
		m->left_static = true;
		return;
	}
	member_remove(g, m);
	refresh_target(cc, g);
}

void cgroup_heartbeat(struct cgroup_coordinator *cc, const struct cgroup_heartbeat_req *req,
		      int64_t now_ms, struct cgroup_heartbeat_result *res)
{
	struct cgroup *g;
	struct member *m;
	const char *assignor = NULL;
	bool bump = false, full = false;
	int32_t before_epoch = -1;
	struct tpset before = {0};

	memset(res, 0, sizeof *res);
	res->member_id = req->member_id;
	res->member_epoch = req->member_epoch;
	res->heartbeat_interval_ms = cc->cfg.heartbeat_interval_ms;
	if (req->group_id.len <= 0 || req->group_id.len > CGROUP_ID_BYTES_MAX) {
		fail(res, E_INVALID_GROUP_ID, "GroupId must be 1..255 bytes");
		return;
	}
	if (req->member_id.len > CGROUP_ID_BYTES_MAX ||
	    (req->member_id.len <= 0 && req->member_epoch != CGROUP_JOIN_EPOCH)) {
		fail(res, E_INVALID_REQUEST, "MemberId must be set");
		return;
	}
	if (req->classic_live) {
		fail(res, E_GROUP_ID_NOT_FOUND, "the group is a classic group with members");
		return;
	}
	g = group_find(cc, req->group_id);
	if (req->member_epoch == CGROUP_LEAVE_EPOCH ||
	    req->member_epoch == CGROUP_STATIC_LEAVE_EPOCH) {
		heartbeat_leave(cc, g, req, res);
		return;
	}
	if (req->member_epoch < 0) {
		fail(res, E_INVALID_REQUEST, "MemberEpoch must be -2, -1 or >= 0");
		return;
	}
	if (req->regex.len > 0) { /* librdkafka sends "" for "no regex" */
		fail(res, E_INVALID_REGULAR_EXPRESSION,
		     "regular-expression subscriptions are not supported; subscribe by topic names");
		return;
	}
	if (req->ntopics > CGROUP_TOPICS_PER_MEMBER_MAX) {
		fail(res, E_INVALID_REQUEST, "too many subscribed topics");
		return;
	}
	if (req->assignor.len >= 0 && (assignor = assignor_find(req->assignor)) == NULL) {
		fail(res, E_UNSUPPORTED_ASSIGNOR, "ServerAssignor must be uniform or range");
		return;
	}
	if (req->member_epoch == CGROUP_JOIN_EPOCH) {
		if (req->ntopics < 0 || req->rebalance_timeout_ms == -1) {
			fail(res, E_INVALID_REQUEST,
			     "a join needs SubscribedTopicNames and RebalanceTimeoutMs");
			return;
		}
		if (g == NULL && (g = group_create(cc, req->group_id)) == NULL) {
			fail(res, E_GROUP_MAX_SIZE_REACHED, "no room for another group");
			return;
		}
		full = true;
		m = member_find(g, req->member_id);
		struct member *st = member_by_instance(g, req->instance_id);
		if (st != NULL && st != m) {
			if (!st->left_static) {
				fail(res, E_UNRELEASED_INSTANCE_ID,
				     "the instance id is held by another live member");
				return;
			}
			/* The static member is back under a new member id: it takes over the
			 * old one's epoch and partitions, without a rebalance. */
			if (m != NULL)
				member_remove(g, m);
			char idbuf[MEMBER_ID_CHARS];
			struct cgroup_str nid = new_member_id(cc, req->member_id, idbuf);
			if (sstr_set(&st->id, nid) != 0) {
				fail(res, E_GROUP_MAX_SIZE_REACHED, "out of memory");
				return;
			}
			st->left_static = false;
			m = st;
		} else if (m != NULL) {
			/* A rejoin (after FENCED_MEMBER_EPOCH): it owns nothing any more. */
			m->assigned.n = 0;
			m->revoking.n = 0;
			m->state = M_STABLE;
			m->prev_epoch = m->epoch;
			m->epoch = 0;
			m->left_static = false;
		} else {
			if (g->nm >= CGROUP_MEMBERS_MAX) {
				fail(res, E_GROUP_MAX_SIZE_REACHED, "the group is full");
				return;
			}
			if (g->nm == g->mcap) {
				int32_t ncap = g->mcap ? g->mcap * 2 : 8;
				struct member **v = realloc(g->m, (size_t)ncap * sizeof *v);
				if (v == NULL)
					goto err_oom;
				g->m = v;
				g->mcap = ncap;
			}
			m = calloc(1, sizeof *m);
			if (m == NULL)
				goto err_oom;
			m->instance_id.len = m->rack_id.len = -1;
			m->client_id.len = m->client_host.len = -1;
			char idbuf[MEMBER_ID_CHARS];
			struct cgroup_str nid = new_member_id(cc, req->member_id, idbuf);
			if (sstr_set(&m->id, nid) != 0 ||
			    sstr_set(&m->instance_id, req->instance_id) != 0) {
				member_free(m);
				goto err_oom;
			}
			g->m[g->nm++] = m;
			bump = true;
		}
	} else {
		m = member_find(g, req->member_id);
		if (m == NULL) {
			fail(res, E_UNKNOWN_MEMBER_ID, "unknown member");
			return;
		}
		if (req->member_epoch > m->epoch) {
			fail(res, E_FENCED_MEMBER_EPOCH, "member epoch is ahead of the coordinator's");
			return;
		}
		if (req->member_epoch < m->epoch) {
			/* Only a lost answer is forgiven: the previous epoch, owning a subset. */
			bool subset = req->member_epoch == m->prev_epoch && req->nowned >= 0;
			for (int32_t i = 0; subset && i < req->nowned; i++)
				subset = tpset_has(&m->assigned, &req->owned[i]);
			if (!subset) {
				fail(res, E_FENCED_MEMBER_EPOCH, "member epoch is stale");
				return;
			}
			full = true;
		}
		m->left_static = false;
	}

	/* The member's fields: whatever the request carries. */
	before_epoch = m->epoch;
	if (tpset_copy(&before, &m->assigned) != 0)
		goto err_oom;
	if (req->ntopics >= 0) {
		int c = set_topics(m, req->topics, req->ntopics);
		if (c < 0)
			goto err_oom;
		bump |= c > 0;
	}
	if (assignor != NULL && assignor != m->assignor) {
		m->assignor = assignor;
		bump = true;
	}
	if (req->rack_id.len >= 0 && sstr_set(&m->rack_id, req->rack_id) != 0)
		goto err_oom;
	if (req->client_id.len >= 0 && sstr_set(&m->client_id, req->client_id) != 0)
		goto err_oom;
	if (req->client_host.len >= 0 && sstr_set(&m->client_host, req->client_host) != 0)
		goto err_oom;
	if (req->rebalance_timeout_ms > 0)
		m->rebalance_timeout_ms = req->rebalance_timeout_ms;
	m->session_deadline_ms = now_ms + cc->cfg.session_timeout_ms;
	if (bump)
		g->epoch++;
	if (refresh_target(cc, g) != 0 ||
	    reconcile(g, m, req->owned, req->nowned, m->rebalance_timeout_ms, now_ms) != 0)
		goto err_oom;

	res->member_id = cs(&m->id);
	res->member_epoch = m->epoch;
	bool reported_differs = false;
	if (req->nowned >= 0) {
		struct tpset rep = {(struct cgroup_tp *)req->owned, req->nowned, req->nowned};
		reported_differs = !tpset_equal(&rep, &m->assigned) && m->state != M_UNREVOKED;
	}
	if (full || before_epoch != m->epoch || !tpset_equal(&before, &m->assigned) ||
	    reported_differs) {
		res->has_assignment = true;
		res->assignment = m->assigned.v;
		res->nassignment = m->assigned.n;
	}
	free(before.v);
	assert(group_invariants(g));
	return;

err_oom:
	free(before.v);
	fail(res, E_GROUP_MAX_SIZE_REACHED, "out of memory");
}

void cgroup_describe(struct cgroup_coordinator *cc, struct cgroup_str group_id,
		     struct cgroup_describe_result *res)
{
	struct cgroup *g = group_find(cc, group_id);

	memset(res, 0, sizeof *res);
	if (g == NULL) {
		res->error = E_GROUP_ID_NOT_FOUND;
		res->state = "Dead";
		res->assignor = "";
		return;
	}
	res->group_epoch = g->epoch;
	res->assignment_epoch = g->assignment_epoch;
	res->assignor = g->assignor;
	if (g->nm == 0)
		res->state = "Empty";
	else if (g->assignment_epoch != g->epoch)
		res->state = "Assigning";
	else
		res->state = "Stable";
	if (g->nm > cc->dmcap) {
		struct cgroup_describe_member *v = realloc(cc->dm, (size_t)g->nm * sizeof *v);
		if (v == NULL) {
			res->error = E_GROUP_MAX_SIZE_REACHED; /* out of memory */
			return;
		}
		cc->dm = v;
		cc->dmcap = g->nm;
	}
	int32_t nt = 0, at = 0;
	for (int32_t i = 0; i < g->nm; i++)
		nt += g->m[i]->ntopics;
	if (nt > cc->dtcap) {
		struct cgroup_str *v = realloc(cc->dt, (size_t)nt * sizeof *v);
		if (v == NULL) {
			res->error = E_GROUP_MAX_SIZE_REACHED; /* out of memory */
			return;
		}
		cc->dt = v;
		cc->dtcap = nt;
	}
	for (int32_t i = 0; i < g->nm; i++) {
		const struct member *m = g->m[i];
		struct cgroup_describe_member *d = &cc->dm[i];
		if (m->epoch != g->assignment_epoch || m->state != M_STABLE)
			res->state = "Reconciling";
		d->member_id = cs(&m->id);
		d->instance_id = cs(&m->instance_id);
		d->rack_id = cs(&m->rack_id);
		d->client_id = cs(&m->client_id);
		d->client_host = cs(&m->client_host);
		d->member_epoch = m->epoch;
		d->topics = cc->dt + at;
		d->ntopics = m->ntopics;
		for (int32_t k = 0; k < m->ntopics; k++)
			cc->dt[at++] = cs(&m->topics[k]);
		d->assigned = m->assigned.v;
		d->nassigned = m->assigned.n;
		d->target = m->target.v;
		d->ntarget = m->target.n;
	}
	res->members = cc->dm;
	res->nmembers = g->nm;
}

bool cgroup_exists(struct cgroup_coordinator *cc, struct cgroup_str group_id)
{
	return group_find(cc, group_id) != NULL;
}

int32_t cgroup_members(struct cgroup_coordinator *cc, struct cgroup_str group_id)
{
	struct cgroup *g = group_find(cc, group_id);
	return g != NULL ? g->nm : 0;
}

int16_t cgroup_delete(struct cgroup_coordinator *cc, struct cgroup_str group_id)
{
	for (int32_t i = 0; i < cc->ng; i++) {
		struct cgroup *g = cc->g[i];
		if (!str_eq(group_id, g->id))
			continue;
		if (g->nm > 0)
			return E_NON_EMPTY_GROUP;
		cc->g[i] = cc->g[--cc->ng];
		group_free(g);
		return E_NONE;
	}
	return E_GROUP_ID_NOT_FOUND;
}

int16_t cgroup_commit_check(struct cgroup_coordinator *cc, struct cgroup_str group_id,
			    struct cgroup_str member_id, int32_t member_epoch)
{
	struct cgroup *g = group_find(cc, group_id);
	struct member *m;

	if (g == NULL)
		return E_NONE;
	if (member_epoch < 0 && g->nm == 0)
		return E_NONE;
	m = member_find(g, member_id);
	if (m == NULL)
		return E_UNKNOWN_MEMBER_ID;
	if (member_epoch > m->epoch)
		return E_FENCED_MEMBER_EPOCH;
	if (member_epoch < m->epoch && member_epoch != m->prev_epoch)
		return E_STALE_MEMBER_EPOCH;
	return E_NONE;
}

void cgroup_list(struct cgroup_coordinator *cc,
		 void (*fn)(void *arg, struct cgroup_str group_id, const char *state), void *arg)
{
	for (int32_t i = 0; i < cc->ng; i++) {
		struct cgroup_describe_result d;
		cgroup_describe(cc, cs(&cc->g[i]->id), &d);
		fn(arg, cs(&cc->g[i]->id), d.state);
	}
}

int64_t cgroup_tick(struct cgroup_coordinator *cc, int64_t now_ms)
{
	int64_t next = -1;

	for (int32_t i = 0; i < cc->ng; i++) {
		struct cgroup *g = cc->g[i];
		bool changed = false;
		for (int32_t j = 0; j < g->nm;) {
			struct member *m = g->m[j];
			if (m->session_deadline_ms <= now_ms ||
			    (m->state == M_UNREVOKED && m->revoke_deadline_ms <= now_ms)) {
				member_remove(g, m); /* moves the last member into slot j */
				changed = true;
				continue;
			}
			int64_t d = m->session_deadline_ms - now_ms;
			if (m->state == M_UNREVOKED && m->revoke_deadline_ms - now_ms < d)
				d = m->revoke_deadline_ms - now_ms;
			if (next < 0 || d < next)
				next = d;
			j++;
		}
		if (changed)
			refresh_target(cc, g);
	}
	return next;
}

static bool group_invariants(const struct cgroup *g)
{
	if (g->assignment_epoch > g->epoch)
		return false;
	{
		for (int32_t j = 0; j < g->nm; j++) {
			const struct member *m = g->m[j];
			if (m->epoch > g->assignment_epoch)
				return false;
			if (m->revoking.n > 0 && m->state != M_UNREVOKED)
				return false;
			for (int32_t k = 0; k < m->assigned.n; k++)
				if (owned_by_other(g, m, &m->assigned.v[k]) ||
				    tpset_has(&m->revoking, &m->assigned.v[k]))
					return false;
			for (int32_t k = 0; k < m->revoking.n; k++)
				if (owned_by_other(g, m, &m->revoking.v[k]))
					return false;
		}
	}
	return true;
}

bool cgroup_invariants(const struct cgroup_coordinator *cc)
{
	for (int32_t i = 0; i < cc->ng; i++)
		if (!group_invariants(cc->g[i]))
			return false;
	return true;
}
