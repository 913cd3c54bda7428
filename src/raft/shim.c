/*
 * shim: mitigations for canonical raft 0.15.0's safety defects, applied around a group's raft_io
 * (see shim.h for the list and docs/raft-defects.md for the defect -> test table).
 *
 * How it hooks in. shim_install() copies the io's method pointers into `inner` and points the
 * io at the shim's functions, and registers io -> shim in a thread-local hash table (linear
 * probing, so a lookup is O(1)); every method raft calls finds its shim there. io->start is
 * wrapped so that the inner io calls the shim's tick and recv, which call raft's. Asynchronous
 * requests (append, snapshot_put, snapshot_get, and sends without callback) are handed to the
 * inner io as a shim-owned request (struct sreq) that remembers raft's request, its callback and
 * the term at submission; completions therefore land in the shim first. sreqs are recycled
 * through a small per-shim cache, so steady state allocates nothing per message.
 *
 * Happy path of one entry into raft (tick, recv or completion): the shim decides whether to
 * deliver (M3/M4 may hold, the rollback guard may refuse), marks the context the send wrapper
 * needs (M5a: delivering AppendEntries with limit prev+n; M5b/c: firing a completion submitted
 * in term T), calls raft, and then, only in the outermost entry, "settles": issues the M2
 * barrier for a new leader, delivers held messages whose gate opened, retries a pending
 * transfer, fires the callbacks of dropped sends, and reports changes through the change hook.
 *
 * Failure modes handled:
 *   - Storage error (M1): the completion is parked, the group is stopped (fatal hook) and frozen:
 *     no tick, message or completion reaches raft any more. At close, parked completions are
 *     handed to raft (now RAFT_UNAVAILABLE) so it releases its memory: appends as status 0
 *     (raft then only releases references; with a failure status raft would truncate its log at
 *     each parked write's index, and a second truncation past the log's end is undefined in
 *     0.15.0), snapshot_put as RAFT_CANCELED (raft leaks the install's bufs array on that path
 *     - 2a38d3d - so the shim frees it), snapshot_get with its own status and snapshot.
 *   - A message that would crash raft in membershipRollback (baa8f52): discarded, group
 *     stopped.
 *   - A full M3 hold queue: the newest result is dropped (AE results may be lost in transit
 *     anyway; the leader resends).
 *
 * Invariants:
 *   1. `inflight` = appends + trailing-0 snapshot_puts handed to the inner io and not completed.
 *   2. Every sreq is either in the cache, in the inner io, parked, or deferred (live counts all
 *      but the cache).
 *   3. After `stopped`, raft is entered only by raft_close's own path.
 *   4. settle() runs only at depth 0, so raft is never re-entered from inside itself by the shim.
 */
#include "raft/shim.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

#define CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Recycled sreqs kept per group: enough for a pipeline of appends plus a snapshot, small enough
 * that thousands of idle groups cost little. */
#define SREQ_CACHE_MAX 16
/* AE results held for one leader while its gate is closed: followers x heartbeats during one
 * local fsync stays far below this; past it, results are dropped (the leader resends). */
#define HELD_RESULTS_MAX 256
/* Rounds of barrier/drain/retry per settle: each round can only open gates, so two or three
 * suffice; the bound keeps one settle finite whatever raft does. */
#define SETTLE_ROUNDS_MAX 8

/* ---- io -> shim lookup ---------------------------------------------------------------- */

struct reg_slot {
	const struct raft_io *io;
	struct shim *s;
};

/* Thread-local: a loop thread owns its groups (shim.h invariant 3). */
static _Thread_local struct {
	struct reg_slot *slots;
	size_t cap; /* power of two, or 0 */
	size_t n;
} reg;

static size_t reg_hash(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static int reg_grow(void)
{
	size_t cap = reg.cap == 0 ? 16 : reg.cap * 2;
	struct reg_slot *slots = calloc(cap, sizeof(*slots));
	if (slots == NULL)
		return SLUICE_ENOMEM;
	for (size_t i = 0; i < reg.cap; i++) {
		if (reg.slots[i].io == NULL)
			continue;
		size_t j = reg_hash(reg.slots[i].io) & (cap - 1);
		while (slots[j].io != NULL)
			j = (j + 1) & (cap - 1);
		slots[j] = reg.slots[i];
	}
	free(reg.slots);
	reg.slots = slots;
	reg.cap = cap;
	return 0;
}

/* Returns the slot index of `io`, or reg.cap when absent. */
static size_t reg_find(const struct raft_io *io)
{
	if (reg.cap == 0)
		return 0;
	size_t mask = reg.cap - 1;
	for (size_t i = reg_hash(io) & mask;; i = (i + 1) & mask) {
		if (reg.slots[i].io == io)
			return i;
		if (reg.slots[i].io == NULL)
			return reg.cap;
	}
}

static struct shim *reg_get(const struct raft_io *io)
{
	size_t i = reg_find(io);
	return i < reg.cap ? reg.slots[i].s : NULL;
}

/* Adds io -> s; `io` must be absent. Returns 0 or SLUICE_ENOMEM. */
static int reg_put(const struct raft_io *io, struct shim *s)
{
	if ((reg.n + 1) * 2 > reg.cap) {
		int rv = reg_grow();
		if (rv != 0)
			return rv;
	}
	size_t mask = reg.cap - 1;
	size_t i = reg_hash(io) & mask;
	while (reg.slots[i].io != NULL)
		i = (i + 1) & mask;
	reg.slots[i].io = io;
	reg.slots[i].s = s;
	reg.n++;
	return 0;
}

/* Removes `io` (backward-shift deletion keeps probe chains intact); frees the table when the
 * last shim of the thread is gone. */
static void reg_del(const struct raft_io *io)
{
	size_t i = reg_find(io);
	if (i >= reg.cap)
		return;
	size_t mask = reg.cap - 1;
	reg.slots[i].io = NULL;
	for (size_t j = (i + 1) & mask; reg.slots[j].io != NULL; j = (j + 1) & mask) {
		size_t k = reg_hash(reg.slots[j].io) & mask;
		/* Entry j stays if its home k lies cyclically in (i, j]. */
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (stays)
			continue;
		reg.slots[i] = reg.slots[j];
		reg.slots[j].io = NULL;
		i = j;
	}
	reg.n--;
	if (reg.n == 0) {
		free(reg.slots);
		reg.slots = NULL;
		reg.cap = 0;
	}
}

/* ---- state ---------------------------------------------------------------------------- */

enum sreq_kind { SREQ_APPEND = 1, SREQ_PUT, SREQ_GET, SREQ_SEND_COPY, SREQ_SEND_DEFERRED };

/* A request the shim hands to the inner io (or keeps, parked or deferred) on raft's behalf. */
struct sreq {
	union {
		struct raft_io_append append;
		struct raft_io_snapshot_put put;
		struct raft_io_snapshot_get get;
		struct raft_io_send send;
	} inner;
	struct shim *s;
	int kind;
	void *orig; /* raft's request; NULL for SREQ_SEND_COPY */
	union {
		raft_io_append_cb append;
		raft_io_snapshot_put_cb put;
		raft_io_snapshot_get_cb get;
		raft_io_send_cb send;
	} orig_cb;
	raft_term term;                 /* r->current_term at submission (M5b) */
	bool counted;                   /* counts in s->inflight (M4) */
	bool install;                   /* snapshot_put with trailing 0 */
	int status;                     /* parked/deferred completion status */
	void *snap_bufs;                /* install: raft's bufs array, freed by the shim at close */
	struct raft_snapshot *snapshot; /* parked snapshot_get result */
	struct sreq *next;
};

struct held_result {
	raft_id from;
	struct raft_append_entries_result result;
};

/* What the change hook compares. */
struct view {
	int state;
	raft_term term;
	raft_id leader;
	raft_index commit;
	bool ready;
};

struct shim {
	struct raft *r;
	struct raft_io *io;
	struct shim_config cfg;
	struct shim_hooks hooks;
	struct shim_stats stats;

	/* The inner io's methods (restored by shim_free). */
	struct {
		void (*close)(struct raft_io *, raft_io_close_cb);
		int (*start)(struct raft_io *, unsigned, raft_io_tick_cb, raft_io_recv_cb);
		int (*set_term)(struct raft_io *, raft_term);
		int (*set_vote)(struct raft_io *, raft_id);
		int (*send)(struct raft_io *, struct raft_io_send *, const struct raft_message *,
			    raft_io_send_cb);
		int (*append)(struct raft_io *, struct raft_io_append *, const struct raft_entry[],
			      unsigned, raft_io_append_cb);
		int (*truncate)(struct raft_io *, raft_index);
		int (*snapshot_put)(struct raft_io *, unsigned, struct raft_io_snapshot_put *,
				    const struct raft_snapshot *, raft_io_snapshot_put_cb);
		int (*snapshot_get)(struct raft_io *, struct raft_io_snapshot_get *,
				    raft_io_snapshot_get_cb);
	} inner;
	raft_io_tick_cb tick_cb; /* raft's */
	raft_io_recv_cb recv_cb; /* raft's */
	raft_io_close_cb close_cb;

	unsigned depth; /* nesting of entries into raft through the shim */
	bool stopped;   /* fatal hook fired: raft is frozen */
	bool closing;   /* io->close was called */
	unsigned inflight;

	/* Send contexts. */
	bool ae_ctx; /* delivering an AppendEntries (M5a) */
	raft_index ae_limit;
	bool cb_ctx; /* firing an append/snapshot_put completion (M5b/c) */
	raft_term cb_term;

	/* M2 */
	struct raft_barrier barrier;
	bool barrier_pending;
	raft_term barrier_term; /* term of the last barrier issued */
	raft_term ready_term;   /* term whose barrier was applied */

	/* M3 */
	struct held_result *held;
	unsigned n_held;
	unsigned cap_held;

	/* M4 */
	bool tn_held;
	raft_id tn_from;
	raft_term tn_term; /* r->current_term when held */
	struct raft_timeout_now tn;

	/* sreqs */
	struct sreq *cache;
	unsigned n_cache;
	unsigned live;
	struct sreq *parked_head, *parked_tail;
	struct sreq *deferred_head, *deferred_tail;

	/* shim_transfer */
	struct raft_transfer xfer;
	bool xfer_active;  /* a shim_transfer is running */
	bool xfer_in_raft; /* raft holds s->xfer */
	bool xfer_retry;   /* settle() must call raft_transfer again */
	raft_id xfer_target;
	unsigned xfer_left;
	shim_transfer_cb xfer_cb;
	void *xfer_arg;

	struct view reported;
};

void shim_config_default(struct shim_config *c)
{
	c->m1_fail_stop = true;
	c->m2_barrier = true;
	c->m3_hold_results = true;
	c->m4_no_candidacy_in_flight = true;
	c->m5a_clamp = true;
	c->m5b_stale_term = true;
	c->m5c_role_dest = true;
	c->m6_send_req = true;
	c->rollback_guard = true;
}

/* ---- reading raft 0.15.0 state (struct raft and struct raft_log are public) ------------- */

static size_t log_n(const struct raft_log *l)
{
	return l->front <= l->back ? l->back - l->front : l->size - l->front + l->back;
}

/* Same answer as log.c:logTermOf, without its assertions: 0 when the index is unknown. */
static raft_term log_term(const struct raft *r, raft_index index)
{
	const struct raft_log *l = &r->log;
	raft_index last = l->offset + log_n(l);
	if (index == 0 || (index < l->offset + 1 && index != l->snapshot.last_index) ||
	    index > last)
		return 0;
	if (index == l->snapshot.last_index)
		return l->snapshot.last_term;
	return l->entries[(l->front + (size_t)(index - 1 - l->offset)) % l->size].term;
}

/* Same answer as log.c:logGet(...) != NULL. */
static bool log_has(const struct raft *r, raft_index index)
{
	const struct raft_log *l = &r->log;
	return index > l->offset && index <= l->offset + log_n(l);
}

static const struct raft_server *config_get(const struct raft *r, raft_id id)
{
	for (unsigned i = 0; i < r->configuration.n; i++)
		if (r->configuration.servers[i].id == id)
			return &r->configuration.servers[i];
	return NULL;
}

/* Held messages lose the receiving io's address string; raft only traces it and needs it
 * non-NULL, so the configuration's copy (or "") stands in. */
static const char *config_address(const struct raft *r, raft_id id)
{
	const struct raft_server *srv = config_get(r, id);
	return srv != NULL && srv->address != NULL ? srv->address : "";
}

/* ---- sreq cache ----------------------------------------------------------------------- */

static struct sreq *sreq_get(struct shim *s, int kind)
{
	struct sreq *q = s->cache;
	if (q != NULL) {
		s->cache = q->next;
		s->n_cache--;
	} else {
		q = malloc(sizeof(*q));
		if (q == NULL)
			return NULL;
	}
	memset(q, 0, sizeof(*q));
	q->s = s;
	q->kind = kind;
	s->live++;
	return q;
}

static void sreq_put(struct shim *s, struct sreq *q)
{
	assert(s->live > 0);
	s->live--;
	if (s->n_cache < SREQ_CACHE_MAX) {
		q->next = s->cache;
		s->cache = q;
		s->n_cache++;
	} else {
		free(q);
	}
}

static void list_push(struct sreq **head, struct sreq **tail, struct sreq *q)
{
	q->next = NULL;
	if (*tail != NULL)
		(*tail)->next = q;
	else
		*head = q;
	*tail = q;
}

static struct sreq *list_pop(struct sreq **head, struct sreq **tail)
{
	struct sreq *q = *head;
	if (q != NULL) {
		*head = q->next;
		if (*head == NULL)
			*tail = NULL;
	}
	return q;
}

/* ---- stop (M1 and the rollback guard) -------------------------------------------------- */

static void stop(struct shim *s, const char *why)
{
	if (s->stopped)
		return;
	s->stopped = true;
	s->stats.failures++;
	if (s->hooks.fatal != NULL)
		s->hooks.fatal(s->hooks.arg, why);
}

static void park(struct shim *s, struct sreq *q, int status)
{
	q->status = status;
	list_push(&s->parked_head, &s->parked_tail, q);
}

/* Frees what raft would have freed had it received the message (recv.c:recvCb on
 * RAFT_UNAVAILABLE). */
static void message_discard(struct raft_message *m)
{
	switch (m->type) {
	case RAFT_IO_APPEND_ENTRIES: {
		struct raft_entry *e = m->append_entries.entries;
		void *batch = NULL;
		for (unsigned i = 0; e != NULL && i < m->append_entries.n_entries; i++) {
			if (e[i].batch != NULL && e[i].batch != batch) {
				batch = e[i].batch;
				raft_free(batch);
			}
		}
		raft_free(e);
		m->append_entries.entries = NULL;
		m->append_entries.n_entries = 0;
		break;
	}
	case RAFT_IO_INSTALL_SNAPSHOT:
		raft_configuration_close(&m->install_snapshot.conf);
		raft_free(m->install_snapshot.data.base);
		m->install_snapshot.data.base = NULL;
		break;
	default:
		break;
	}
}

/* ---- deferred send completions (M5 drops, sends while stopped) --------------------------- */

static int defer_send(struct shim *s, struct raft_io_send *req, raft_io_send_cb cb, int status)
{
	if (cb == NULL)
		return 0;
	struct sreq *q = sreq_get(s, SREQ_SEND_DEFERRED);
	if (q == NULL)
		return RAFT_NOMEM; /* raft frees req and carries on: the message is lost anyway */
	q->orig = req;
	q->orig_cb.send = cb;
	q->status = status;
	req->cb = cb;
	list_push(&s->deferred_head, &s->deferred_tail, q);
	return 0;
}

static void fire_deferred(struct shim *s)
{
	struct sreq *q;
	while ((q = list_pop(&s->deferred_head, &s->deferred_tail)) != NULL) {
		struct raft_io_send *req = q->orig;
		raft_io_send_cb cb = q->orig_cb.send;
		int status = q->status;
		sreq_put(s, q);
		cb(req, status);
	}
}

/* Hands parked completions to raft, which is RAFT_UNAVAILABLE by now (see the design note). */
static void release_parked(struct shim *s)
{
	struct sreq *q;
	while ((q = list_pop(&s->parked_head, &s->parked_tail)) != NULL) {
		void *orig = q->orig;
		switch (q->kind) {
		case SREQ_APPEND: {
			raft_io_append_cb cb = q->orig_cb.append;
			sreq_put(s, q);
			cb(orig, 0);
			break;
		}
		case SREQ_PUT: {
			raft_io_snapshot_put_cb cb = q->orig_cb.put;
			void *bufs = q->install ? q->snap_bufs : NULL;
			sreq_put(s, q);
			cb(orig, RAFT_CANCELED);
			raft_free(bufs);
			break;
		}
		case SREQ_GET: {
			raft_io_snapshot_get_cb cb = q->orig_cb.get;
			struct raft_snapshot *snap = q->snapshot;
			int status = q->status;
			sreq_put(s, q);
			cb(orig, snap, status);
			break;
		}
		default:
			assert(false);
		}
	}
}

/* ---- settle: what runs after the outermost entry into raft -------------------------------- */

static struct view view_now(const struct shim *s)
{
	struct view v;
	const char *addr = NULL;
	v.state = raft_state(s->r);
	v.term = s->r->current_term;
	v.leader = 0;
	raft_leader(s->r, &v.leader, &addr);
	v.commit = s->r->commit_index;
	v.ready = shim_leader_ready(s);
	return v;
}

/* M3 gate: the leader's last stored entry is of its current term, so replicationQuorum
 * (which 0.15.0 only ever calls with r->last_stored) counts replicas of a current-term entry
 * and commits older ones only implicitly. With M2 this opens once the barrier is stored. */
static bool gate_open(const struct shim *s)
{
	const struct raft *r = s->r;
	return log_term(r, r->last_stored) == r->current_term;
}

static void barrier_cb(struct raft_barrier *req, int status)
{
	struct shim *s = CONTAINER_OF(req, struct shim, barrier);
	s->barrier_pending = false;
	/* The term recorded at submission, not raft_last_applied() (fcc4c8d). */
	if (status == 0 && s->barrier_term == s->r->current_term)
		s->ready_term = s->barrier_term;
}

static void maybe_barrier(struct shim *s)
{
	struct raft *r = s->r;
	if (!s->cfg.m2_barrier || raft_state(r) != RAFT_LEADER ||
	    s->barrier_term == r->current_term)
		return;
	s->barrier_term = r->current_term;
	/* A pending barrier of an older term cannot exist: raft fails every leader request when
	 * it steps down (convertClearLeader). Should it ever, this term simply never gets ready. */
	if (s->barrier_pending)
		return;
	s->barrier_pending = true;
	s->stats.barriers++;
	int rv = raft_barrier(r, &s->barrier, barrier_cb);
	if (rv != 0) {
		s->barrier_pending = false;
		char why[96];
		snprintf(why, sizeof(why), "raft_barrier for term %llu failed: %s",
			 (unsigned long long)r->current_term, raft_strerror(rv));
		stop(s, why);
	}
}

static void deliver(struct shim *s, struct raft_message *m)
{
	s->recv_cb(s->io, m);
}

static bool drain_results(struct shim *s)
{
	struct raft *r = s->r;
	if (s->n_held == 0 || (raft_state(r) == RAFT_LEADER && !gate_open(s)))
		return false;
	for (unsigned i = 0; i < s->n_held && !s->stopped && !s->closing; i++) {
		struct raft_message m;
		memset(&m, 0, sizeof(m));
		m.type = RAFT_IO_APPEND_ENTRIES_RESULT;
		m.server_id = s->held[i].from;
		m.server_address = config_address(r, m.server_id);
		m.append_entries_result = s->held[i].result;
		deliver(s, &m);
	}
	s->n_held = 0;
	return true;
}

static bool drain_timeout_now(struct shim *s)
{
	struct raft *r = s->r;
	if (!s->tn_held || s->inflight > 0)
		return false;
	s->tn_held = false;
	if (r->current_term != s->tn_term) {
		s->stats.timeout_now_stale++;
		return false;
	}
	struct raft_message m;
	memset(&m, 0, sizeof(m));
	m.type = RAFT_IO_TIMEOUT_NOW;
	m.server_id = s->tn_from;
	m.server_address = config_address(r, s->tn_from);
	m.timeout_now = s->tn;
	deliver(s, &m);
	return true;
}

static void xfer_finish(struct shim *s, int status)
{
	shim_transfer_cb cb = s->xfer_cb;
	void *arg = s->xfer_arg;
	s->xfer_active = false;
	s->xfer_retry = false;
	s->xfer_cb = NULL;
	if (cb != NULL)
		cb(arg, status);
}

static void xfer_raft_cb(struct raft_transfer *req);

/* Starts one raft_transfer attempt. Returns 0 or raft's error. */
static int xfer_attempt(struct shim *s)
{
	memset(&s->xfer, 0, sizeof(s->xfer));
	s->xfer_left--;
	s->stats.transfer_attempts++;
	int rv = raft_transfer(s->r, &s->xfer, s->xfer_target, xfer_raft_cb);
	if (rv == 0)
		s->xfer_in_raft = true;
	return rv;
}

/* raft's transfer callback: leadership moved, the attempt expired, or raft is closing. The
 * decision is taken in settle() (or at close), outside raft. */
static void xfer_raft_cb(struct raft_transfer *req)
{
	struct shim *s = CONTAINER_OF(req, struct shim, xfer);
	s->xfer_in_raft = false;
	s->xfer_retry = true;
}

static bool transfer_step(struct shim *s)
{
	if (!s->xfer_retry || s->xfer_in_raft)
		return false;
	s->xfer_retry = false;
	if (s->stopped) {
		xfer_finish(s, SLUICE_ECLOSED);
		return false;
	}
	if (raft_state(s->r) != RAFT_LEADER) {
		xfer_finish(s, 0);
		return true;
	}
	if (s->xfer_left == 0 || xfer_attempt(s) != 0)
		xfer_finish(s, SLUICE_ETIMEDOUT);
	return true;
}

static void settle(struct shim *s)
{
	if (s->depth > 0 || s->closing)
		return;
	s->depth++;
	for (int round = 0; round < SETTLE_ROUNDS_MAX && !s->stopped; round++) {
		if (raft_state(s->r) == RAFT_UNAVAILABLE)
			break;
		maybe_barrier(s);
		bool moved = drain_results(s);
		moved = drain_timeout_now(s) || moved;
		moved = transfer_step(s) || moved;
		if (!moved)
			break;
	}
	if (s->stopped && s->xfer_active && !s->xfer_in_raft)
		xfer_finish(s, SLUICE_ECLOSED);
	fire_deferred(s);
	s->depth--;

	struct view v = view_now(s);
	if (memcmp(&v, &s->reported, sizeof(v)) != 0) {
		s->reported = v;
		if (s->hooks.change != NULL)
			s->hooks.change(s->hooks.arg);
	}
}

/* ---- the baa8f52 guard ------------------------------------------------------------------ */

/* True when delivering `ae` would reach membershipRollback (via deleteConflictingEntries) while
 * the last committed configuration entry is not in the in-memory log: a debug build of raft
 * aborts on `assert(entry != NULL)`, Debian's NDEBUG build dereferences the NULL entry.
 * Mirrors the checks recvAppendEntries and replicationAppend make before getting there. */
static bool rollback_would_abort(const struct raft *r, const struct raft_append_entries *ae)
{
	if (ae->term < r->current_term || r->configuration_uncommitted_index == 0)
		return false;
	/* replicationInstallSnapshotBusy: entries are ignored while installing. */
	if (r->last_stored == 0 && r->snapshot.put.data != NULL && ae->n_entries > 0)
		return false;
	if (ae->prev_log_index > 0 && log_term(r, ae->prev_log_index) != ae->prev_log_term)
		return false; /* rejected (or the shutdown path), nothing deleted */
	for (unsigned j = 0; j < ae->n_entries; j++) {
		raft_index index = ae->prev_log_index + 1 + j;
		raft_term local = log_term(r, index);
		if (local == 0)
			return false;
		if (local != ae->entries[j].term) {
			if (index <= r->commit_index || r->configuration_uncommitted_index < index)
				return false;
			return r->configuration_index == 0 || !log_has(r, r->configuration_index);
		}
	}
	return false;
}

/* ---- io methods ------------------------------------------------------------------------ */

static void tick_cb(struct raft_io *io)
{
	struct shim *s = reg_get(io);
	assert(s != NULL);
	if (s->stopped || s->closing)
		return;
	if (s->cfg.m4_no_candidacy_in_flight && s->inflight > 0 &&
	    raft_state(s->r) == RAFT_FOLLOWER) {
		/* tickCb only runs the follower's election timer (and leader-only transfer expiry):
		 * skipping postpones candidacy until the writes land (M4, 634cb11/4fbd3c0). */
		s->stats.ticks_skipped++;
		return;
	}
	s->depth++;
	s->tick_cb(io);
	s->depth--;
	settle(s);
}

static void hold_result(struct shim *s, const struct raft_message *m)
{
	if (s->n_held == s->cap_held) {
		if (s->cap_held == HELD_RESULTS_MAX) {
			s->stats.results_overflow++;
			return;
		}
		unsigned cap = s->cap_held == 0 ? 8 : s->cap_held * 2;
		struct held_result *h = realloc(s->held, cap * sizeof(*h));
		if (h == NULL) {
			s->stats.results_overflow++;
			return;
		}
		s->held = h;
		s->cap_held = cap;
	}
	s->held[s->n_held].from = m->server_id;
	s->held[s->n_held].result = m->append_entries_result;
	s->n_held++;
	s->stats.results_held++;
}

static void recv_cb(struct raft_io *io, struct raft_message *m)
{
	struct shim *s = reg_get(io);
	assert(s != NULL);
	struct raft *r = s->r;
	if (s->stopped || s->closing) {
		message_discard(m);
		return;
	}
	switch (m->type) {
	case RAFT_IO_APPEND_ENTRIES_RESULT: {
		const struct raft_append_entries_result *res = &m->append_entries_result;
		/* Only a success of the current term can move a match_index; rejections and higher
		 * terms go through at once (they keep contact and make a stale leader step down). */
		if (s->cfg.m3_hold_results && raft_state(r) == RAFT_LEADER && res->rejected == 0 &&
		    res->term == r->current_term && !gate_open(s)) {
			hold_result(s, m);
			return;
		}
		break;
	}
	case RAFT_IO_TIMEOUT_NOW:
		if (s->cfg.m4_no_candidacy_in_flight && s->inflight > 0 &&
		    raft_state(r) == RAFT_FOLLOWER) {
			s->tn_held = true;
			s->tn_from = m->server_id;
			s->tn_term = r->current_term;
			s->tn = m->timeout_now;
			s->stats.timeout_now_held++;
			return;
		}
		break;
	case RAFT_IO_APPEND_ENTRIES:
		if (s->cfg.rollback_guard && rollback_would_abort(r, &m->append_entries)) {
			char why[160];
			snprintf(why, sizeof(why),
				 "AppendEntries from %llu would roll back configuration %llu but "
				 "committed configuration %llu is compacted (raft baa8f52)",
				 (unsigned long long)m->server_id,
				 (unsigned long long)r->configuration_uncommitted_index,
				 (unsigned long long)r->configuration_index);
			s->stats.rollbacks_refused++;
			message_discard(m);
			stop(s, why);
			return;
		}
		break;
	default:
		break;
	}

	bool ae_ctx = s->ae_ctx, cb_ctx = s->cb_ctx;
	raft_index ae_limit = s->ae_limit;
	s->ae_ctx = m->type == RAFT_IO_APPEND_ENTRIES;
	if (s->ae_ctx)
		s->ae_limit = m->append_entries.prev_log_index + m->append_entries.n_entries;
	s->cb_ctx = false;
	s->depth++;
	deliver(s, m);
	s->depth--;
	s->ae_ctx = ae_ctx;
	s->ae_limit = ae_limit;
	s->cb_ctx = cb_ctx;
	settle(s);
}

static int shim_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
		      raft_io_recv_cb recv)
{
	struct shim *s = reg_get(io);
	assert(s != NULL);
	s->tick_cb = tick;
	s->recv_cb = recv;
	return s->inner.start(io, msecs, tick_cb, recv_cb);
}

static int shim_set_term(struct raft_io *io, raft_term term)
{
	struct shim *s = reg_get(io);
	int rv = s->inner.set_term(io, term);
	if (rv != 0 && s->cfg.m1_fail_stop)
		stop(s, "persisting the term failed");
	return rv;
}

static int shim_set_vote(struct raft_io *io, raft_id id)
{
	struct shim *s = reg_get(io);
	int rv = s->inner.set_vote(io, id);
	if (rv != 0 && s->cfg.m1_fail_stop)
		stop(s, "persisting the vote failed");
	return rv;
}

/* Fires a completion into raft with the M5b/c context of its submission. */
static void enter_completion(struct shim *s, raft_term term)
{
	s->depth++;
	s->cb_ctx = true;
	s->cb_term = term;
	s->ae_ctx = false;
}

static void leave_completion(struct shim *s, bool cb_ctx, raft_term cb_term, bool ae_ctx)
{
	s->cb_ctx = cb_ctx;
	s->cb_term = cb_term;
	s->ae_ctx = ae_ctx;
	s->depth--;
	settle(s);
}

static void append_cb(struct raft_io_append *inner, int status)
{
	struct sreq *q = CONTAINER_OF(inner, struct sreq, inner.append);
	struct shim *s = q->s;
	if (q->counted) {
		q->counted = false;
		s->inflight--;
	}
	if (s->closing) {
		struct raft_io_append *orig = q->orig;
		raft_io_append_cb cb = q->orig_cb.append;
		sreq_put(s, q);
		cb(orig, status);
		return;
	}
	if (s->stopped) {
		park(s, q, status);
		return;
	}
	if (status != 0 && s->cfg.m1_fail_stop) {
		char why[96];
		snprintf(why, sizeof(why), "log append failed: %s", raft_strerror(status));
		park(s, q, status);
		stop(s, why);
		return;
	}
	struct raft_io_append *orig = q->orig;
	raft_io_append_cb cb = q->orig_cb.append;
	raft_term term = q->term;
	sreq_put(s, q);
	bool cb_ctx = s->cb_ctx, ae_ctx = s->ae_ctx;
	raft_term cb_term = s->cb_term;
	enter_completion(s, term);
	cb(orig, status);
	leave_completion(s, cb_ctx, cb_term, ae_ctx);
}

static int shim_append(struct raft_io *io, struct raft_io_append *req,
		       const struct raft_entry entries[], unsigned n, raft_io_append_cb cb)
{
	struct shim *s = reg_get(io);
	struct sreq *q = sreq_get(s, SREQ_APPEND);
	if (q == NULL) {
		/* Nothing to park: raft's own error path runs (it truncates what it appended). */
		if (s->cfg.m1_fail_stop)
			stop(s, "out of memory submitting a log append");
		return RAFT_NOMEM;
	}
	q->orig = req;
	q->orig_cb.append = cb;
	q->term = s->r->current_term;
	req->cb = cb;
	if (s->stopped || s->closing) {
		park(s, q, RAFT_CANCELED);
		return 0;
	}
	q->counted = true;
	s->inflight++;
	int rv = s->inner.append(io, &q->inner.append, entries, n, append_cb);
	if (rv != 0) {
		q->counted = false;
		s->inflight--;
		if (!s->cfg.m1_fail_stop) {
			sreq_put(s, q);
			return rv;
		}
		char why[96];
		snprintf(why, sizeof(why), "log append refused: %s", raft_strerror(rv));
		park(s, q, rv);
		stop(s, why);
	}
	return 0;
}

static int shim_truncate(struct raft_io *io, raft_index index)
{
	struct shim *s = reg_get(io);
	if (s->stopped)
		return 0;
	int rv = s->inner.truncate(io, index);
	if (rv != 0 && s->cfg.m1_fail_stop) {
		char why[96];
		snprintf(why, sizeof(why), "log truncate at %llu failed: %s",
			 (unsigned long long)index, raft_strerror(rv));
		stop(s, why);
		return 0; /* frozen from here: raft's view no longer matters */
	}
	return rv;
}

static void put_cb(struct raft_io_snapshot_put *inner, int status)
{
	struct sreq *q = CONTAINER_OF(inner, struct sreq, inner.put);
	struct shim *s = q->s;
	if (q->counted) {
		q->counted = false;
		s->inflight--;
	}
	if (s->closing) {
		/* raft is RAFT_UNAVAILABLE: installSnapshotCb takes its discard path whatever the
		 * status and leaks the bufs array there (2a38d3d); the shim frees it. */
		struct raft_io_snapshot_put *orig = q->orig;
		raft_io_snapshot_put_cb cb = q->orig_cb.put;
		void *bufs = q->install ? q->snap_bufs : NULL;
		sreq_put(s, q);
		cb(orig, status);
		raft_free(bufs);
		return;
	}
	if (s->stopped) {
		park(s, q, status);
		return;
	}
	if (status != 0 && s->cfg.m1_fail_stop) {
		char why[96];
		snprintf(why, sizeof(why), "snapshot store failed: %s", raft_strerror(status));
		park(s, q, status);
		stop(s, why);
		return;
	}
	struct raft_io_snapshot_put *orig = q->orig;
	raft_io_snapshot_put_cb cb = q->orig_cb.put;
	raft_term term = q->term;
	sreq_put(s, q);
	bool cb_ctx = s->cb_ctx, ae_ctx = s->ae_ctx;
	raft_term cb_term = s->cb_term;
	enter_completion(s, term);
	cb(orig, status);
	leave_completion(s, cb_ctx, cb_term, ae_ctx);
}

static int shim_snapshot_put(struct raft_io *io, unsigned trailing,
			     struct raft_io_snapshot_put *req, const struct raft_snapshot *snapshot,
			     raft_io_snapshot_put_cb cb)
{
	struct shim *s = reg_get(io);
	struct sreq *q = sreq_get(s, SREQ_PUT);
	if (q == NULL)
		return RAFT_NOMEM;
	q->orig = req;
	q->orig_cb.put = cb;
	q->term = s->r->current_term;
	q->install = trailing == 0;
	q->snap_bufs = snapshot->bufs;
	req->cb = cb;
	if (s->stopped || s->closing) {
		park(s, q, RAFT_CANCELED);
		return 0;
	}
	q->counted = q->install;
	if (q->counted)
		s->inflight++;
	int rv = s->inner.snapshot_put(io, trailing, &q->inner.put, snapshot, put_cb);
	if (rv != 0) {
		if (q->counted)
			s->inflight--;
		q->counted = false;
		if (!s->cfg.m1_fail_stop) {
			sreq_put(s, q);
			return rv;
		}
		park(s, q, rv);
		stop(s, "snapshot store refused");
	}
	return 0;
}

static void get_cb(struct raft_io_snapshot_get *inner, struct raft_snapshot *snapshot, int status)
{
	struct sreq *q = CONTAINER_OF(inner, struct sreq, inner.get);
	struct shim *s = q->s;
	struct raft_io_snapshot_get *orig = q->orig;
	raft_io_snapshot_get_cb cb = q->orig_cb.get;
	if (!s->closing && (s->stopped || (status != 0 && s->cfg.m1_fail_stop))) {
		q->snapshot = snapshot;
		park(s, q, status);
		if (status != 0)
			stop(s, "snapshot load failed");
		return;
	}
	sreq_put(s, q);
	if (s->closing) {
		cb(orig, snapshot, status);
		return;
	}
	s->depth++;
	cb(orig, snapshot, status);
	s->depth--;
	settle(s);
}

static int shim_snapshot_get(struct raft_io *io, struct raft_io_snapshot_get *req,
			     raft_io_snapshot_get_cb cb)
{
	struct shim *s = reg_get(io);
	struct sreq *q = sreq_get(s, SREQ_GET);
	if (q == NULL)
		return RAFT_NOMEM;
	q->orig = req;
	q->orig_cb.get = cb;
	req->cb = cb;
	if (s->stopped || s->closing) {
		park(s, q, RAFT_CANCELED);
		return 0;
	}
	int rv = s->inner.snapshot_get(io, &q->inner.get, get_cb);
	if (rv != 0)
		sreq_put(s, q);
	return rv;
}

static void send_copy_cb(struct raft_io_send *inner, int status)
{
	struct sreq *q = CONTAINER_OF(inner, struct sreq, inner.send);
	(void)status;
	sreq_put(q->s, q);
}

/* M5: returns true when the AE result in `m` must not leave; may clamp `m` (M5a). */
static bool filter_result(struct shim *s, struct raft_message *m)
{
	struct raft *r = s->r;
	struct raft_append_entries_result *res = &m->append_entries_result;
	if (s->cfg.m5c_role_dest) {
		/* installSnapshotCb reads the follower_state union whatever the role (05746af): out
		 * of follower state the destination is candidate or leader data. A follower's
		 * current leader is real even when outside its configuration (a leader removing
		 * itself), so membership is not checked. */
		bool bad_dest = m->server_id == 0 || m->server_address == NULL;
		bool bad_role = s->cb_ctx && raft_state(r) != RAFT_FOLLOWER;
		if (bad_dest || bad_role) {
			s->stats.dropped_role++;
			return true;
		}
	}
	if (s->cfg.m5b_stale_term && s->cb_ctx && s->cb_term != r->current_term) {
		/* The reply speaks for entries (or a snapshot) received in an older term, possibly
		 * from another leader (35479fc, 2a38d3d). */
		s->stats.dropped_stale++;
		return true;
	}
	if (s->cfg.m5a_clamp && s->ae_ctx && !s->cb_ctx && res->rejected == 0 &&
	    res->last_log_index > s->ae_limit) {
		/* matchIndex must be prevLogIndex + len(entries) (Raft Figure 2); last_stored may
		 * include a stale tail from an older leader (N1). */
		res->last_log_index = s->ae_limit;
		s->stats.clamped++;
	}
	return false;
}

static int shim_send(struct raft_io *io, struct raft_io_send *req, const struct raft_message *msg,
		     raft_io_send_cb cb)
{
	struct shim *s = reg_get(io);
	if (s->stopped || s->closing)
		return defer_send(s, req, cb, RAFT_CANCELED);
	struct raft_message copy;
	if (msg->type == RAFT_IO_APPEND_ENTRIES_RESULT) {
		copy = *msg;
		if (filter_result(s, &copy))
			return defer_send(s, req, cb, 0);
		msg = &copy;
	}
	if (cb == NULL && s->cfg.m6_send_req) {
		/* raft_transfer's TimeoutNow: `req` lives in the caller's raft_transfer, which the
		 * caller may free as soon as the transfer completes (c6cfe58). */
		struct sreq *q = sreq_get(s, SREQ_SEND_COPY);
		if (q == NULL)
			return RAFT_NOMEM;
		s->stats.sends_copied++;
		int rv = s->inner.send(io, &q->inner.send, msg, send_copy_cb);
		if (rv != 0)
			sreq_put(s, q);
		return rv;
	}
	return s->inner.send(io, req, msg, cb);
}

static void close_cb(struct raft_io *io)
{
	struct shim *s = reg_get(io);
	assert(s != NULL);
	release_parked(s);
	fire_deferred(s);
	raft_io_close_cb cb = s->close_cb;
	/* raft's callback may free the shim (cons.c does): nothing touches `s` after it. */
	if (cb != NULL)
		cb(io);
}

static void shim_close(struct raft_io *io, raft_io_close_cb cb)
{
	struct shim *s = reg_get(io);
	s->closing = true;
	s->close_cb = cb;
	s->n_held = 0;
	s->tn_held = false;
	/* raft_close ran convertToUnavailable first: raft can take these now. */
	release_parked(s);
	fire_deferred(s);
	if (s->xfer_active && !s->xfer_in_raft)
		xfer_finish(s, SLUICE_ECLOSED);
	s->inner.close(io, close_cb);
}

/* ---- API ------------------------------------------------------------------------------- */

struct shim *shim_install(struct raft *r, struct raft_io *io, const struct shim_config *cfg,
			  const struct shim_hooks *hooks)
{
	if (r == NULL || io == NULL || reg_get(io) != NULL)
		return NULL;
	struct shim *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->r = r;
	s->io = io;
	if (cfg != NULL)
		s->cfg = *cfg;
	else
		shim_config_default(&s->cfg);
	if (hooks != NULL)
		s->hooks = *hooks;
	if (reg_put(io, s) != 0) {
		free(s);
		return NULL;
	}
	s->inner.close = io->close;
	s->inner.start = io->start;
	s->inner.set_term = io->set_term;
	s->inner.set_vote = io->set_vote;
	s->inner.send = io->send;
	s->inner.append = io->append;
	s->inner.truncate = io->truncate;
	s->inner.snapshot_put = io->snapshot_put;
	s->inner.snapshot_get = io->snapshot_get;
	io->close = shim_close;
	io->start = shim_start;
	io->set_term = shim_set_term;
	io->set_vote = shim_set_vote;
	io->send = shim_send;
	io->append = shim_append;
	io->truncate = shim_truncate;
	io->snapshot_put = shim_snapshot_put;
	io->snapshot_get = shim_snapshot_get;
	s->reported = view_now(s);
	return s;
}

void shim_started(struct shim *s)
{
	if (s != NULL)
		settle(s);
}

bool shim_leader_ready(const struct shim *s)
{
	if (s == NULL || s->stopped || raft_state(s->r) != RAFT_LEADER)
		return false;
	return !s->cfg.m2_barrier || s->ready_term == s->r->current_term;
}

bool shim_stopped(const struct shim *s)
{
	return s != NULL && s->stopped;
}

int shim_transfer(struct shim *s, raft_id target, unsigned attempts_max, shim_transfer_cb cb,
		  void *arg)
{
	if (s == NULL || attempts_max == 0)
		return SLUICE_EINVAL;
	if (s->xfer_active || s->r->transfer != NULL)
		return SLUICE_EBUSY;
	if (s->stopped || s->closing || raft_state(s->r) != RAFT_LEADER)
		return SLUICE_ENOTLEADER;
	s->xfer_target = target;
	s->xfer_left = attempts_max;
	s->xfer_retry = false;
	int rv = xfer_attempt(s);
	if (rv != 0)
		return rv == RAFT_NOTLEADER ? SLUICE_ENOTLEADER : SLUICE_EINVAL;
	s->xfer_active = true;
	s->xfer_cb = cb;
	s->xfer_arg = arg;
	return 0;
}

const struct shim_stats *shim_stats(const struct shim *s)
{
	return &s->stats;
}

void shim_free(struct shim *s)
{
	if (s == NULL)
		return;
	struct raft_io *io = s->io;
	io->close = s->inner.close;
	io->start = s->inner.start;
	io->set_term = s->inner.set_term;
	io->set_vote = s->inner.set_vote;
	io->send = s->inner.send;
	io->append = s->inner.append;
	io->truncate = s->inner.truncate;
	io->snapshot_put = s->inner.snapshot_put;
	io->snapshot_get = s->inner.snapshot_get;
	reg_del(io);
	/* Parked and deferred requests only exist if raft was never closed; every other live
	 * sreq would still be in the inner io, which the precondition excludes. */
	unsigned n = 0;
	struct sreq *q;
	while ((q = list_pop(&s->parked_head, &s->parked_tail)) != NULL) {
		free(q);
		n++;
	}
	while ((q = list_pop(&s->deferred_head, &s->deferred_tail)) != NULL) {
		free(q);
		n++;
	}
	assert(n == s->live);
	(void)n;
	while ((q = s->cache) != NULL) {
		s->cache = q->next;
		free(q);
	}
	free(s->held);
	free(s);
}
