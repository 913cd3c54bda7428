/*
 * cons: the consensus runtime of one node (see cons.h), and "rio", the raft_io every group uses.
 *
 * rio maps raft's io contract onto Sluice's pieces:
 *   load/bootstrap/append/truncate/snapshot_put/snapshot_get -> rlog (the group's partition log);
 *   set_term/set_vote -> rlog (state file written off the loop); every outgoing message of the
 *       group is held until the term and vote it may depend on are durable;
 *   send -> rmsg encoding, handed to the node's transport at once (copied: M6), completion
 *       deferred to cons_node_flush (raft must not see a send complete inside send);
 *   start/tick -> the node's single tick (cons_node_tick walks every group);
 *   time/random -> the node's clock and a seeded generator (deterministic under simulation).
 * docs/replication.md lists each callback with what must be durable when.
 *
 * Between raft and rio sits the shim (shim.h, mitigations M1-M6). M7 lives here: proposals are
 * coalesced into raft_apply calls with at most applies_max in flight.
 *
 * Frames between nodes (the transport's payload; big-endian):
 *
 *   offset size  field
 *   0      1     kind: 1 raft messages, 2 catch-up request, 3 catch-up response
 *   kind 1: 1 ... one or more [u32 length][rmsg message] records (rmsg.h)
 *   kind 2: 1 8 group id, 9 8 request id, 17 8 from offset, 25 8 to offset
 *   kind 3: 1 8 group id, 9 8 request id, 17 1 status (0 data, 1 reset: the leader's log now
 *           starts at `start`), 18 8 start, 26 8 next offset after the data, 34 ... whole
 *           RecordBatches
 *
 * Catch-up: a partition follower installing the leader's snapshot keeps its committed prefix
 * and fetches the missing offsets from the leader with kind 2/3 frames before telling raft the
 * snapshot is stored (raft-notes §3). A request unanswered for CATCHUP_RETRY_MS is sent again,
 * to whoever is leader then.
 *
 * Invariants:
 *   1. A proposal is on exactly one of a group's queued or pending lists until its callback.
 *   2. pending is ordered by Raft index, all from the term recorded in lead_term.
 *   3. hw never decreases.
 */
#include "raft/cons.h"

#include <assert.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <stddef.h>
#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"
#include "base/slog.h"
#include "raft/rlog.h"
#include "raft/rmsg.h"
#include "raft/shim.h"
#include "storage/batch.h"

#define MOD "cons"

enum { FRAME_RAFT = 1, FRAME_CATCHUP_REQ = 2, FRAME_CATCHUP_RESP = 3 };

/* State-machine snapshot bytes as rio stores them (big-endian): u32 magic "SLSN", u32 length of
 * the owner's bytes, i64 end offset of the snapshot's last entry (where a follower installing it
 * must bring its log), then the owner's bytes. */
#define SNAP_MAGIC 0x534c534eu
#define SNAP_HEADER_BYTES 16

/* Bytes of messages held for one group while its term/vote is being synced. */
#define HELD_BYTES_MAX (8u << 20)
/* Election timeouts a leader waits for a follower's InstallSnapshot result (see
 * cons_group_open). */
#define INSTALL_RESULT_WAIT_ELECTIONS 4
/* A catch-up request unanswered this long is sent again. */
#define CATCHUP_RETRY_MS 1000
/* Bytes per catch-up response. */
#define CATCHUP_CHUNK_BYTES (1u << 20)
/* Bytes appended but not yet durable in a group's log above which no more raft_apply. */
#define CONS_PENDING_BYTES_MAX (64u << 20)
/* Proposals per raft_apply call. */
#define APPLY_BUFS_MAX 64
/* Group lookup table size (power of two, open hashing by chaining). */
#define GROUP_BUCKETS 4096

struct prop {
	void *base; /* raft_malloc'd copy; raft owns it once raft_apply succeeded */
	size_t len;
	enum cons_wait wait;
	cons_propose_cb cb;
	void *arg;
	raft_index index;
	int64_t base_offset;
	int64_t last_offset;
	struct prop *next;
};

struct held {
	uint64_t seq; /* meta sequence that must be durable first */
	uint32_t node;
	struct buf *frame;
	struct held *next;
};

struct deferred {
	struct cons_group *g;
	int kind; /* 0 send, 1 snapshot_get */
	struct raft_io_send *send_req;
	raft_io_send_cb send_cb;
	struct raft_io_snapshot_get *get_req;
	raft_io_snapshot_get_cb get_cb;
	struct raft_snapshot *snap;
	int status;
	struct deferred *next;
};

struct install {
	bool active;
	struct raft_io_snapshot_put *req;
	raft_io_snapshot_put_cb cb;
	uint64_t req_id;
	int64_t next;
	int64_t to;
	uint32_t source;
	uint64_t sent_ms;
	bool finishing;
};

/* When a leader last heard a follower accept its leadership (an AppendEntries result of its
 * term): what the read lease counts (cons_read_lease). */
struct heard {
	uint32_t node;
	uint64_t term;
	uint64_t ms;
};

struct cons_group {
	struct cons_node *node;
	uint64_t id;
	struct heard heard[CONS_VOTERS_MAX];
	int nheard;
	char *name;
	char *dir;
	bool data_in_snapshot;
	struct cons_group_ops ops;
	struct raft raft;
	struct raft_io io;
	struct raft_fsm fsm;
	struct shim *shim;
	struct rlog *log;
	raft_io_tick_cb tick_cb;
	raft_io_recv_cb recv_cb;
	bool started;
	bool closing;
	bool failed;
	bool abandoning; /* cons_node_abandon: closing without I/O or owner callbacks */
	bool closing_listed; /* on the node's closing list */
	/* storage requests in flight (only cons_node_abandon walks them) */
	struct append_ctx *appends;
	struct put_ctx *puts;
	raft_io_close_cb io_close_cb;
	void (*close_cb)(void *arg);
	void *close_arg;
	/* outgoing messages waiting for term/vote durability */
	uint64_t meta_needed;
	struct held *held_head, *held_tail;
	size_t held_bytes;
	/* proposals */
	struct prop *queued_head, *queued_tail;
	size_t queued_bytes;
	struct prop *pending_head, *pending_tail;
	unsigned applies_inflight;
	uint64_t lead_term;
	int64_t next_offset; /* leader: offset the next proposal gets */
	struct prop *proposing; /* the proposal cons_propose is placing right now */
	int proposing_rv;
	/* membership change (cons_reconfigure): one at a time; proposals pause meanwhile, since
	 * the configuration entry takes an offset in the log */
	struct raft_change change;
	bool change_inflight;
	bool paused;
	uint64_t pause_since_ms;
	bool campaign_first; /* bootstrapped here and preferred: elect at start */
	/* observed state, for change detection */
	int role;
	uint64_t term;
	uint32_t leader;
	bool ready;
	raft_index commit_index;
	int64_t hw;
	/* snapshot sizing: average entry bytes (EWMA) */
	double entry_bytes_avg;
	uint64_t appends_total;
	unsigned threshold;
	struct install install;
	struct cons_group *hash_next;
	struct cons_group *prev, *next; /* node's list */
};

struct cons_node {
	struct cons_node_config cfg;
	struct cons_group *buckets[GROUP_BUCKETS];
	struct cons_group *head;
	uint64_t ngroups;
	uint64_t rng;
	struct deferred *def_head, *def_tail;
	uint64_t catchup_seq;
	struct cons_stats stats;
	/* groups between cons_group_close and its callback (only cons_node_abandon walks them;
	 * linked through prev/next, which the node's list no longer uses then) */
	struct cons_group *closing_head;
};

static struct cons_group *group_of_io(struct raft_io *io)
{
	return io->impl;
}

static uint64_t now_ms(struct cons_node *n)
{
	return clock_mono_ns(n->cfg.clock) / 1000000u;
}

void cons_node_config_default(struct cons_node_config *c)
{
	memset(c, 0, sizeof(*c));
	c->heartbeat_ms = 200;
	c->election_ms = 1000;
	c->frame_bytes_max = 4u << 20;
	c->tail_bytes_max = 4u << 20;
	c->applies_max = 2;
	c->seed = 1;
}

int cons_node_new(const struct cons_node_config *cfg, struct cons_node **out)
{
	struct cons_node *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return SLUICE_ENOMEM;
	n->cfg = *cfg;
	n->rng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ull;
	*out = n;
	return 0;
}

void cons_node_free(struct cons_node *n)
{
	if (n == NULL)
		return;
	assert(n->head == NULL);
	cons_node_flush(n);
	free(n);
}

static uint64_t rng_next(struct cons_node *n)
{
	uint64_t x = n->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	n->rng = x;
	return x;
}

static unsigned bucket_of(uint64_t id)
{
	return (unsigned)((id * 0x9e3779b97f4a7c15ull) >> 52) & (GROUP_BUCKETS - 1);
}

static struct cons_group *node_find(struct cons_node *n, uint64_t id)
{
	for (struct cons_group *g = n->buckets[bucket_of(id)]; g != NULL; g = g->hash_next)
		if (g->id == id)
			return g;
	return NULL;
}

static void node_link(struct cons_node *n, struct cons_group *g)
{
	unsigned b = bucket_of(g->id);
	g->hash_next = n->buckets[b];
	n->buckets[b] = g;
	g->prev = NULL;
	g->next = n->head;
	if (n->head)
		n->head->prev = g;
	n->head = g;
	n->ngroups++;
}

static void node_unlink(struct cons_node *n, struct cons_group *g)
{
	struct cons_group **pp = &n->buckets[bucket_of(g->id)];
	while (*pp != g)
		pp = &(*pp)->hash_next;
	*pp = g->hash_next;
	if (g->prev)
		g->prev->next = g->next;
	else
		n->head = g->next;
	if (g->next)
		g->next->prev = g->prev;
	n->ngroups--;
}

/* ---- outgoing frames ---- */

static void transport_send(struct cons_group *g, uint32_t node, struct buf *frame)
{
	struct cons_node *n = g->node;
	struct iovec iov = {.iov_base = frame->data, .iov_len = frame->len};
	int rv = n->cfg.transport->send(n->cfg.transport, node, &iov, 1);
	if (rv != 0)
		n->stats.msgs_dropped++;
	else
		n->stats.msgs_sent++;
}

/* Sends or holds (until the group's term/vote is durable) one frame. Takes `frame`. */
static void group_send_frame(struct cons_group *g, uint32_t node, struct buf *frame)
{
	if (g->meta_needed > rlog_meta_durable(g->log) || g->held_head != NULL) {
		if (g->held_bytes + frame->len > HELD_BYTES_MAX) {
			g->node->stats.msgs_dropped++;
			buf_unref(frame);
			return;
		}
		struct held *h = malloc(sizeof(*h));
		if (h == NULL) {
			buf_unref(frame);
			return;
		}
		h->seq = g->meta_needed;
		h->node = node;
		h->frame = frame;
		h->next = NULL;
		if (g->held_tail)
			g->held_tail->next = h;
		else
			g->held_head = h;
		g->held_tail = h;
		g->held_bytes += frame->len;
		return;
	}
	transport_send(g, node, frame);
	buf_unref(frame);
}

static void release_held(struct cons_group *g)
{
	uint64_t durable = rlog_meta_durable(g->log);
	while (g->held_head != NULL && g->held_head->seq <= durable) {
		struct held *h = g->held_head;
		g->held_head = h->next;
		if (g->held_head == NULL)
			g->held_tail = NULL;
		g->held_bytes -= h->frame->len;
		transport_send(g, h->node, h->frame);
		buf_unref(h->frame);
		free(h);
	}
}

static void drop_held(struct cons_group *g)
{
	while (g->held_head != NULL) {
		struct held *h = g->held_head;
		g->held_head = h->next;
		buf_unref(h->frame);
		free(h);
	}
	g->held_tail = NULL;
	g->held_bytes = 0;
}

static void meta_durable_cb(void *arg)
{
	release_held(arg);
}

static void defer(struct cons_node *n, struct deferred *d)
{
	d->next = NULL;
	if (n->def_tail)
		n->def_tail->next = d;
	else
		n->def_head = d;
	n->def_tail = d;
}

static void run_deferred(struct deferred *d)
{
	if (d->kind == 0) {
		if (d->send_cb)
			d->send_cb(d->send_req, d->status);
	} else {
		d->get_cb(d->get_req, d->snap, d->status);
	}
	free(d);
}

void cons_node_flush(struct cons_node *n)
{
	/* Callbacks may defer more work: take the list as it is now, run it, repeat a bounded
	 * number of times so one turn never loops without end. */
	for (int round = 0; round < 4 && n->def_head != NULL; round++) {
		struct deferred *d = n->def_head;
		n->def_head = n->def_tail = NULL;
		while (d != NULL) {
			struct deferred *next = d->next;
			run_deferred(d);
			d = next;
		}
	}
}

/* Completes the group's deferred callbacks now (closing): raft ignores them by then. */
static void flush_group_deferred(struct cons_group *g)
{
	struct cons_node *n = g->node;
	struct deferred **pp = &n->def_head, *mine = NULL, **mt = &mine;
	n->def_tail = NULL;
	while (*pp != NULL) {
		struct deferred *d = *pp;
		if (d->g == g) {
			*pp = d->next;
			d->next = NULL;
			*mt = d;
			mt = &d->next;
		} else {
			n->def_tail = d;
			pp = &d->next;
		}
	}
	while (mine != NULL) {
		struct deferred *next = mine->next;
		mine->status = RAFT_CANCELED;
		if (mine->kind == 1 && mine->snap != NULL) {
			/* raft gets nothing; free the copy ourselves */
			for (unsigned i = 0; i < mine->snap->n_bufs; i++)
				raft_free(mine->snap->bufs[i].base);
			raft_free(mine->snap->bufs);
			raft_configuration_close(&mine->snap->configuration);
			raft_free(mine->snap);
			mine->snap = NULL;
		}
		run_deferred(mine);
		mine = next;
	}
}

/* ---- proposals ---- */

static void prop_complete(struct prop *p, int status)
{
	if (p->cb)
		p->cb(p->arg, status, p->base_offset, p->last_offset);
	free(p);
}

/* Completes a proposal that failed, unless it is the one cons_propose is still placing: its
 * caller gets the error as the return value instead, never a callback before the call
 * returns. */
static void fail_prop(struct cons_group *g, struct prop *p, int status)
{
	if (p == g->proposing) {
		g->proposing_rv = status;
		g->proposing = NULL;
		free(p);
		return;
	}
	prop_complete(p, status);
}

static void fail_all(struct cons_group *g, int status)
{
	while (g->queued_head != NULL) {
		struct prop *p = g->queued_head;
		g->queued_head = p->next;
		raft_free(p->base);
		p->base_offset = p->last_offset = -1;
		fail_prop(g, p, status);
	}
	g->queued_tail = NULL;
	g->queued_bytes = 0;
	while (g->pending_head != NULL) {
		struct prop *p = g->pending_head;
		g->pending_head = p->next;
		fail_prop(g, p, status);
	}
	g->pending_tail = NULL;
}

static void apply_cb(struct raft_apply *req, int status, void *result)
{
	struct cons_group *g = req->data;
	(void)result;
	(void)status; /* a failure shows as a role change in refresh() */
	free(req);
	g->applies_inflight--;
}

static void refresh(struct cons_group *g);
static void group_fail(struct cons_group *g, const char *why);

/* Moves queued proposals into the Raft log, at most applies_max raft_apply calls in flight. */
static void dispatch(struct cons_group *g)
{
	/* raft cannot be told "busy" by storage: hold proposals while the log has too much
	 * written but not yet durable (they wait in the queue, bounded by its own limit). */
	while (g->queued_head != NULL && g->applies_inflight < g->node->cfg.applies_max &&
	       !g->closing && !g->failed &&
	       plog_pending_bytes(rlog_plog(g->log)) < CONS_PENDING_BYTES_MAX) {
		struct raft_buffer bufs[APPLY_BUFS_MAX];
		struct prop *batch[APPLY_BUFS_MAX];
		unsigned nb = 0;
		size_t bytes = 0;
		while (g->queued_head != NULL && nb < APPLY_BUFS_MAX &&
		       (nb == 0 || bytes + g->queued_head->len <= g->node->cfg.frame_bytes_max)) {
			struct prop *p = g->queued_head;
			g->queued_head = p->next;
			bufs[nb].base = p->base;
			bufs[nb].len = p->len;
			bytes += p->len;
			g->queued_bytes -= p->len;
			batch[nb++] = p;
		}
		if (g->queued_head == NULL)
			g->queued_tail = NULL;
		struct raft_apply *req = malloc(sizeof(*req));
		int rv = req ? 0 : RAFT_NOMEM;
		if (req != NULL) {
			req->data = g;
			rv = raft_apply(&g->raft, req, bufs, nb, apply_cb);
		}
		if (rv != 0) {
			free(req);
			/* The proposals still queued were given offsets after this batch's, so
			 * none can be stored where promised: fail them too, and assign from the
			 * log's end again. Otherwise a leader that stays leader (raft refuses
			 * raft_apply during a leadership transfer that then does not happen) leaves
			 * a hole, and rlog stops the group at the next append (found by
			 * test_sim). Detached first: a callback may propose again. */
			struct prop *rest = g->queued_head;
			g->queued_head = g->queued_tail = NULL;
			g->queued_bytes = 0;
			g->next_offset = plog_end_offset(rlog_plog(g->log));
			for (unsigned i = 0; i < nb; i++) {
				raft_free(batch[i]->base);
				batch[i]->base_offset = batch[i]->last_offset = -1;
				fail_prop(g, batch[i], SLUICE_ENOTLEADER);
			}
			while (rest != NULL) {
				struct prop *p = rest;
				rest = p->next;
				raft_free(p->base);
				p->base_offset = p->last_offset = -1;
				fail_prop(g, p, SLUICE_ENOTLEADER);
			}
			continue;
		}
		g->applies_inflight++;
		g->node->stats.proposals += nb;
		raft_index first = raft_last_index(&g->raft) - nb + 1;
		bool mismatch = false;
		for (unsigned i = 0; i < nb; i++) {
			struct prop *p = batch[i];
			p->base = NULL; /* raft's now */
			p->index = first + i;
			int64_t b = -1, l = -1;
			if (rlog_entry_offsets(g->log, p->index, &b, &l) != 0 || b != p->base_offset ||
			    l != p->last_offset)
				mismatch = true;
			p->next = NULL;
			if (g->pending_tail)
				g->pending_tail->next = p;
			else
				g->pending_head = p;
			g->pending_tail = p;
		}
		if (mismatch) {
			/* The log placed an entry elsewhere than the offsets promised to its
			 * producer: never acknowledge that. */
			group_fail(g, "proposal stored at other offsets than assigned");
			return;
		}
	}
}

int cons_propose(struct cons_group *g, const uint8_t *batch, size_t len, enum cons_wait wait,
		 cons_propose_cb cb, void *arg, int64_t *base_offset, int64_t *last_offset)
{
	if (g->closing || g->failed)
		return SLUICE_ECLOSED;
	if (!cons_is_leader(g))
		return SLUICE_ENOTLEADER;
	if (len < BATCH_HEADER_BYTES)
		return SLUICE_EMALFORMED;
	if (g->paused || g->queued_bytes + len > CONS_QUEUED_BYTES_MAX)
		return SLUICE_EBUSY;
	struct prop *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return SLUICE_ENOMEM;
	p->base = raft_malloc(len);
	if (p->base == NULL) {
		free(p);
		return SLUICE_ENOMEM;
	}
	memcpy(p->base, batch, len);
	/* RecordBatch v2: BaseOffset at 0, PartitionLeaderEpoch at 12, LastOffsetDelta at 23;
	 * the CRC (from Attributes on) covers none of the fields written here. */
	uint8_t *h = p->base;
	int64_t delta = (int32_t)be32_get(h + 23);
	if (delta < 0) {
		raft_free(p->base);
		free(p);
		return SLUICE_EMALFORMED;
	}
	p->base_offset = g->next_offset;
	p->last_offset = g->next_offset + delta;
	be64_put(h, (uint64_t)p->base_offset);
	be32_put(h + 12, (uint32_t)g->lead_term);
	g->next_offset = p->last_offset + 1;
	*base_offset = p->base_offset;
	*last_offset = p->last_offset;
	p->len = len;
	p->wait = wait;
	p->cb = cb;
	p->arg = arg;
	if (g->queued_tail)
		g->queued_tail->next = p;
	else
		g->queued_head = p;
	g->queued_tail = p;
	g->queued_bytes += len;
	g->proposing = p;
	g->proposing_rv = 0;
	dispatch(g);
	g->proposing = NULL;
	return g->proposing_rv;
}

/* ---- change detection (raft 0.15 has no state callback) ---- */

static int map_role(int state)
{
	switch (state) {
	case RAFT_FOLLOWER:
		return CONS_FOLLOWER;
	case RAFT_CANDIDATE:
		return CONS_CANDIDATE;
	case RAFT_LEADER:
		return CONS_LEADER;
	default:
		return CONS_STOPPED;
	}
}

static void retune_snapshots(struct cons_group *g)
{
	/* Raft keeps threshold + trailing entries in memory: size both so that the tail stays
	 * near tail_bytes_max whatever the batch size (raft-notes §3). */
	double avg = g->entry_bytes_avg > 64 ? g->entry_bytes_avg : 64;
	double n = (double)g->node->cfg.tail_bytes_max / 2 / avg;
	unsigned t = n < 8 ? 8 : n > 1024 ? 1024 : (unsigned)n;
	if (t != g->threshold) {
		g->threshold = t;
		raft_set_snapshot_threshold(&g->raft, t);
		raft_set_snapshot_trailing(&g->raft, t);
	}
}

static void refresh(struct cons_group *g)
{
	if (g->failed || !g->started)
		return;
	struct raft *r = &g->raft;
	int role = map_role(raft_state(r));
	uint64_t term = r->current_term;
	raft_id lid = 0;
	const char *laddr = NULL;
	raft_leader(r, &lid, &laddr);
	bool ready = shim_leader_ready(g->shim);
	bool changed = role != g->role || term != g->term || (uint32_t)lid != g->leader ||
		       ready != g->ready;

	if (ready && !g->ready) {
		g->lead_term = term;
		g->next_offset = plog_end_offset(rlog_plog(g->log));
	}
	if ((!ready || term != g->lead_term) && (g->queued_head || g->pending_head))
		fail_all(g, SLUICE_ENOTLEADER);
	if (!ready)
		g->paused = false;
	g->role = role;
	g->term = term;
	g->leader = (uint32_t)lid;
	g->ready = ready;

	/* Local durability (acks=1) and commitment (acks=all) of pending proposals. */
	struct prop **pp = &g->pending_head, *last = NULL;
	while (*pp != NULL) {
		struct prop *p = *pp;
		bool done = p->index <= r->commit_index ||
			    (p->wait == CONS_WAIT_LOCAL && p->index <= r->last_stored);
		if (done) {
			*pp = p->next;
			if (p->index <= r->commit_index)
				g->node->stats.commits++;
			prop_complete(p, 0);
		} else {
			last = p;
			pp = &p->next;
		}
	}
	g->pending_tail = last;

	if (r->commit_index != g->commit_index) {
		/* rlog_end_offset_of also maps the latest snapshot's index: right after a follower
		 * installed a snapshot, raft's commit index is that index, which no tracked entry
		 * holds (rlog_entry_offsets would fail and the hw would stay behind until the next
		 * entry commits). An index rlog cannot map yet is retried on the next refresh. */
		int64_t end;
		if (rlog_end_offset_of(g->log, r->commit_index, &end) == 0) {
			g->commit_index = r->commit_index;
			if (end > g->hw) {
				g->hw = end;
				changed = true;
			}
		}
	}
	if (changed && g->ops.changed)
		g->ops.changed(g->ops.arg);
	if (ready)
		dispatch(g);
}

static void on_shim_change(void *arg)
{
	refresh(arg);
}

static void group_fail(struct cons_group *g, const char *why)
{
	if (g->failed)
		return;
	g->failed = true;
	SLOG_ERROR(MOD, "group=%s event=stopped reason=\"%s\"", g->name, why);
	fail_all(g, SLUICE_ECLOSED);
	if (g->ops.failed)
		g->ops.failed(g->ops.arg, why);
}

static void on_shim_fatal(void *arg, const char *why)
{
	group_fail(arg, why);
}

static void rlog_fatal_cb(void *arg, const char *why)
{
	group_fail(arg, why);
}

/* ---- rio: the raft_io ---- */

static int rio_init(struct raft_io *io, raft_id id, const char *address)
{
	(void)io;
	(void)id;
	(void)address;
	return 0;
}

static void rio_log_closed_cb(void *arg)
{
	struct cons_group *g = arg;
	g->log = NULL;
	g->io_close_cb(&g->io);
}

static void rio_abandon_requests(struct cons_group *g);

static void rio_close(struct raft_io *io, raft_io_close_cb cb)
{
	struct cons_group *g = group_of_io(io);
	g->io_close_cb = cb;
	g->started = false;
	flush_group_deferred(g);
	drop_held(g);
	if (g->abandoning) {
		/* A simulated crash: the log goes without I/O first (so nothing refers to raft's
		 * buffers any more), then raft gets its storage requests back, as canceled, so
		 * that it holds no references when it frees its log. */
		rlog_abandon(g->log);
		g->log = NULL;
		rio_abandon_requests(g);
		g->io_close_cb(&g->io);
		return;
	}
	/* An install whose rlog_install_finish is queued completes through install_finished_cb
	 * (rlog_close runs it first); only one still fetching data is canceled here. Completing
	 * it twice hands raft's request back to the shim after it was recycled (found by
	 * test_sim: a clean restart during an install, shim.c sreq_put's `live > 0`). */
	if (g->install.active && !g->install.finishing && g->install.cb) {
		g->install.active = false;
		g->install.cb(g->install.req, RAFT_CANCELED);
	}
	rlog_close(g->log, rio_log_closed_cb, g);
}

static int rio_load(struct raft_io *io, raft_term *term, raft_id *vote,
		    struct raft_snapshot **snapshot, raft_index *start_index,
		    struct raft_entry *entries[], size_t *n_entries)
{
	struct cons_group *g = group_of_io(io);
	int rv = rlog_load(g->log, term, vote, snapshot, start_index, entries, n_entries,
			   io->errmsg);
	return rv == 0 ? 0 : RAFT_IOERR;
}

static int rio_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
		     raft_io_recv_cb recv)
{
	struct cons_group *g = group_of_io(io);
	(void)msecs; /* the node ticks every heartbeat_ms, which is what raft asks for */
	g->tick_cb = tick;
	g->recv_cb = recv;
	g->started = true;
	return 0;
}

static int rio_bootstrap(struct raft_io *io, const struct raft_configuration *conf)
{
	struct cons_group *g = group_of_io(io);
	int rv = rlog_bootstrap(g->log, conf, io->errmsg);
	if (rv == SLUICE_EEXIST)
		return RAFT_CANTBOOTSTRAP;
	return rv == 0 ? 0 : RAFT_IOERR;
}

static int rio_recover(struct raft_io *io, const struct raft_configuration *conf)
{
	(void)conf;
	snprintf(io->errmsg, sizeof(io->errmsg), "recover is not supported");
	return RAFT_NOTFOUND;
}

static int rio_set_term(struct raft_io *io, raft_term term)
{
	struct cons_group *g = group_of_io(io);
	g->meta_needed = rlog_set_term(g->log, term);
	return 0;
}

static int rio_set_vote(struct raft_io *io, raft_id vote)
{
	struct cons_group *g = group_of_io(io);
	g->meta_needed = rlog_set_vote(g->log, vote);
	return 0;
}

/* Sends the [u32 len][message] records in `w` (after its first byte, the frame kind) to `node`,
 * cutting them into several frames when they exceed frame_bytes_max. */
static void send_records(struct cons_group *g, uint32_t node, struct wbuf *w)
{
	size_t max = g->node->cfg.frame_bytes_max;
	if (w->len <= max) {
		struct buf *b = wbuf_take(w);
		if (b != NULL)
			group_send_frame(g, node, b);
		return;
	}
	size_t pos = 1;
	while (pos < w->len) {
		size_t end = pos;
		while (end < w->len) {
			uint32_t n = be32_get(w->data + end);
			if (end > pos && end + 4 + n - pos + 1 > max)
				break;
			end += 4 + n;
		}
		struct buf *b = buf_new(end - pos + 1);
		if (b == NULL)
			break;
		b->data[0] = FRAME_RAFT;
		memcpy(b->data + 1, w->data + pos, end - pos);
		b->len = end - pos + 1;
		group_send_frame(g, node, b);
		pos = end;
	}
	wbuf_free(w);
}

static uint32_t parse_node_id(const char *address)
{
	if (address == NULL)
		return 0;
	char *end = NULL;
	unsigned long v = strtoul(address, &end, 10);
	if (end == address || *end != '\0' || v == 0 || v > UINT32_MAX)
		return 0;
	return (uint32_t)v;
}

static int rio_send(struct raft_io *io, struct raft_io_send *req, const struct raft_message *msg,
		    raft_io_send_cb cb)
{
	struct cons_group *g = group_of_io(io);
	uint32_t node = (uint32_t)msg->server_id;
	struct deferred *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return RAFT_NOMEM;
	int status = 0;
	if (node == 0 || node != parse_node_id(msg->server_address) || node == g->node->cfg.node_id) {
		status = RAFT_NOCONNECTION;
	} else {
		struct wbuf w;
		wbuf_init(&w);
		wbuf_u8(&w, FRAME_RAFT);
		/* raft addresses a message by the recipient's id; the recipient's raft wants
		 * the sender's, so the frame carries ours. */
		struct raft_message m = *msg;
		char self[16];
		snprintf(self, sizeof(self), "%u", g->node->cfg.node_id);
		m.server_id = g->node->cfg.node_id;
		m.server_address = self;
		int rv = rmsg_encode(&w, g->id, &m, g->node->cfg.frame_bytes_max - 8);
		if (rv < 0) {
			wbuf_free(&w);
			status = RAFT_IOERR;
		} else {
			send_records(g, node, &w);
		}
	}
	/* M6: the message was copied; when there is no callback we never touch req again. */
	d->g = g;
	d->kind = 0;
	d->send_req = cb ? req : NULL;
	d->send_cb = cb;
	d->status = status;
	defer(g->node, d);
	return 0;
}

struct append_ctx {
	struct cons_group *g;
	struct raft_io_append *req;
	raft_io_append_cb cb;
	struct append_ctx *prev, *next; /* the group's appends in flight */
};

static void append_ctx_unlink(struct append_ctx *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->g->appends = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

static void rio_append_done(void *arg, int status)
{
	struct append_ctx *c = arg;
	struct cons_group *g = c->g;
	append_ctx_unlink(c);
	if (status != 0 && !g->closing) {
		/* rlog promises never to do this (M1); if it does, stop rather than lie. */
		group_fail(g, "append completed with an error");
		free(c);
		return;
	}
	/* Closing (raft is RAFT_UNAVAILABLE): an append rlog_close cancels (the group had
	 * failed) reaches raft as 0, as the shim does with parked ones: raft then only releases
	 * its references, whereas a failure status makes appendLeaderCb truncate its log once per
	 * canceled append and crash on the second (found by test_sim: closing a group stopped by
	 * a disk error, with several appends held). */
	c->cb(c->req, 0);
	free(c);
	refresh(g);
}

static int rio_append(struct raft_io *io, struct raft_io_append *req,
		      const struct raft_entry entries[], unsigned n, raft_io_append_cb cb)
{
	struct cons_group *g = group_of_io(io);
	struct append_ctx *c = malloc(sizeof(*c));
	if (c == NULL)
		return RAFT_NOMEM;
	c->g = g;
	c->req = req;
	c->cb = cb;
	size_t bytes = 0;
	for (unsigned i = 0; i < n; i++)
		bytes += entries[i].buf.len;
	if (n > 0) {
		double avg = (double)bytes / n;
		g->entry_bytes_avg = g->entry_bytes_avg == 0 ? avg : 0.9 * g->entry_bytes_avg + 0.1 * avg;
		if ((++g->appends_total & 15) == 0)
			retune_snapshots(g);
	}
	c->prev = NULL;
	c->next = g->appends;
	if (g->appends)
		g->appends->prev = c;
	g->appends = c;
	/* Commands always carry their offsets: cons_propose assigned them on the leader, and
	 * rlog checks that they continue the log on every replica. */
	int rv = rlog_append(g->log, entries, n, RLOG_APPEND_FOLLOWER, rio_append_done, c);
	if (rv != 0) {
		append_ctx_unlink(c);
		free(c);
		return RAFT_IOERR;
	}
	return 0;
}

static int rio_truncate(struct raft_io *io, raft_index index)
{
	struct cons_group *g = group_of_io(io);
	int64_t base = -1, last;
	if (rlog_entry_offsets(g->log, index, &base, &last) != 0)
		base = -1;
	if (rlog_truncate(g->log, index) != 0)
		return RAFT_IOERR;
	if (base >= 0 && g->ops.truncated)
		g->ops.truncated(g->ops.arg, base);
	return 0;
}

struct put_ctx {
	struct cons_group *g;
	struct raft_io_snapshot_put *req;
	raft_io_snapshot_put_cb cb;
	struct put_ctx *prev, *next; /* the group's snapshot_puts in flight */
};

static void put_ctx_unlink(struct put_ctx *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->g->puts = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

static void rio_put_done(void *arg, int status)
{
	struct put_ctx *c = arg;
	put_ctx_unlink(c);
	c->cb(c->req, status == 0 ? 0 : RAFT_CANCELED);
	struct cons_group *g = c->g;
	free(c);
	refresh(g);
}

static void catchup_send_request(struct cons_group *g)
{
	struct install *in = &g->install;
	uint32_t to = in->source;
	if (g->leader != 0 && g->leader != g->node->cfg.node_id)
		to = g->leader;
	uint8_t f[33];
	f[0] = FRAME_CATCHUP_REQ;
	be64_put(f + 1, g->id);
	be64_put(f + 9, in->req_id);
	be64_put(f + 17, (uint64_t)in->next);
	be64_put(f + 25, (uint64_t)in->to);
	struct buf *b = buf_copy(f, sizeof(f));
	if (b != NULL)
		group_send_frame(g, to, b);
	in->sent_ms = now_ms(g->node);
}

static void install_finished_cb(void *arg, int status)
{
	struct cons_group *g = arg;
	struct install *in = &g->install;
	if (!in->active)
		return; /* already completed (canceled) */
	in->active = false;
	in->finishing = false;
	SLOG_INFO(MOD, "group=%s event=install_done status=%d", g->name, status);
	in->cb(in->req, status == 0 ? 0 : RAFT_CANCELED);
	refresh(g);
}

static void install_finish(struct cons_group *g)
{
	struct install *in = &g->install;
	in->finishing = true;
	int rv = rlog_install_finish(g->log, install_finished_cb, g);
	if (rv != 0)
		group_fail(g, "install: storing the snapshot failed");
}

static int rio_snapshot_put(struct raft_io *io, unsigned trailing,
			    struct raft_io_snapshot_put *req, const struct raft_snapshot *snapshot,
			    raft_io_snapshot_put_cb cb)
{
	struct cons_group *g = group_of_io(io);
	if (trailing > 0) {
		struct put_ctx *c = malloc(sizeof(*c));
		if (c == NULL)
			return RAFT_NOMEM;
		c->g = g;
		c->req = req;
		c->cb = cb;
		c->prev = NULL;
		c->next = g->puts;
		if (g->puts)
			g->puts->prev = c;
		g->puts = c;
		int rv = rlog_snapshot_put(g->log, trailing, snapshot, rio_put_done, c);
		if (rv != 0) {
			put_ctx_unlink(c);
			free(c);
			return RAFT_IOERR;
		}
		return 0;
	}
	/* A follower installing the leader's snapshot. */
	struct install *in = &g->install;
	/* raft's live commit index: a cached, lower one would cut committed entries. */
	raft_index commit = g->raft.commit_index;
	raft_index keep = commit < snapshot->index ? commit : snapshot->index;
	int64_t from = 0, to = 0;
	if (snapshot->n_bufs < 1 || snapshot->bufs[0].len < SNAP_HEADER_BYTES)
		return RAFT_MALFORMED;
	to = (int64_t)be64_get((const uint8_t *)snapshot->bufs[0].base + 8);
	int rv = rlog_install_begin(g->log, snapshot, keep, to, &from);
	if (rv != 0)
		return RAFT_IOERR;
	if (g->ops.truncated)
		g->ops.truncated(g->ops.arg, from);
	memset(in, 0, sizeof(*in));
	in->active = true;
	in->req = req;
	in->cb = cb;
	in->req_id = ++g->node->catchup_seq;
	in->next = from;
	in->to = to;
	in->source = g->leader;
	SLOG_INFO(MOD, "group=%s event=install_begin snapshot_index=%" PRIu64 " from=%" PRId64
		  " to=%" PRId64 " source=%u",
		  g->name, (uint64_t)snapshot->index, from, to, in->source);
	if (g->data_in_snapshot || from >= to) {
		if (g->data_in_snapshot && from < to && rlog_install_reset(g->log, to) != 0)
			return RAFT_IOERR;
		install_finish(g);
		return 0;
	}
	catchup_send_request(g);
	return 0;
}

static int rio_snapshot_get(struct raft_io *io, struct raft_io_snapshot_get *req,
			    raft_io_snapshot_get_cb cb)
{
	struct cons_group *g = group_of_io(io);
	struct raft_snapshot *snap = NULL;
	int rv = rlog_snapshot_get(g->log, &snap);
	if (rv != 0)
		return RAFT_IOERR;
	struct deferred *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return RAFT_NOMEM;
	d->g = g;
	d->kind = 1;
	d->get_req = req;
	d->get_cb = cb;
	d->snap = snap;
	defer(g->node, d);
	return 0;
}

/* Completes every storage request raft still waits for (cons_node_abandon), so that raft
 * (RAFT_UNAVAILABLE by now) releases its references. Appends complete with status 0, as the
 * shim does with parked ones at close: raft then only releases them, whereas a failure status
 * makes appendLeaderCb truncate its log once per append, and a second truncation past the new
 * end trips removeSuffix's assertion. */
static void rio_abandon_requests(struct cons_group *g)
{
	while (g->appends != NULL) {
		struct append_ctx *c = g->appends;
		append_ctx_unlink(c);
		c->cb(c->req, 0);
		free(c);
	}
	while (g->puts != NULL) {
		struct put_ctx *c = g->puts;
		put_ctx_unlink(c);
		c->cb(c->req, RAFT_CANCELED);
		free(c);
	}
	if (g->install.active && g->install.cb) {
		g->install.active = false;
		g->install.cb(g->install.req, RAFT_CANCELED);
	}
}

static raft_time rio_time(struct raft_io *io)
{
	return now_ms(group_of_io(io)->node);
}

static int rio_random(struct raft_io *io, int min, int max)
{
	struct cons_node *n = group_of_io(io)->node;
	if (max <= min)
		return min;
	return min + (int)(rng_next(n) % (uint64_t)(max - min));
}

/* ---- the state machine raft sees ---- */

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
	struct cons_group *g = fsm->data;
	*result = NULL;
	if (g->ops.apply) {
		/* The entry's index, from its offsets (raft 0.15 passes none; fcc4c8d warns
		 * against raft_last_applied here). */
		uint64_t index = 0;
		if (buf->len >= BATCH_HEADER_BYTES)
			index = rlog_index_of_offset(g->log, (int64_t)be64_get(buf->base));
		g->ops.apply(g->ops.arg, index, buf->base, buf->len);
	}
	return 0;
}


static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct cons_group *g = fsm->data;
	struct wbuf w;
	wbuf_init(&w);
	wbuf_be32(&w, SNAP_MAGIC);
	size_t at = w.len;
	wbuf_be32(&w, 0);
	/* The snapshot is taken at last_applied; its end offset lets a follower that installs it
	 * know how far to fetch the leader's log. */
	int64_t first = 0, l = -1;
	if (rlog_entry_offsets(g->log, g->raft.last_applied, &first, &l) != 0) {
		int64_t end = 0;
		if (rlog_end_offset_of(g->log, g->raft.last_applied, &end) != 0) {
			wbuf_free(&w);
			return RAFT_BUSY;
		}
		l = end - 1;
	}
	wbuf_be64(&w, (uint64_t)(l + 1));
	if (g->ops.snapshot) {
		int rv = g->ops.snapshot(g->ops.arg, &w);
		if (rv != 0) {
			wbuf_free(&w);
			return RAFT_BUSY;
		}
	}
	if (w.oom) {
		wbuf_free(&w);
		return RAFT_NOMEM;
	}
	be32_put(w.data + at, (uint32_t)(w.len - SNAP_HEADER_BYTES));
	struct raft_buffer *b = raft_malloc(sizeof(*b));
	void *p = raft_malloc(w.len);
	if (b == NULL || p == NULL) {
		raft_free(b);
		raft_free(p);
		wbuf_free(&w);
		return RAFT_NOMEM;
	}
	memcpy(p, w.data, w.len);
	b->base = p;
	b->len = w.len;
	wbuf_free(&w);
	*bufs = b;
	*n_bufs = 1;
	return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct cons_group *g = fsm->data;
	int rv = 0;
	const uint8_t *p = buf->base;
	if (buf->len < SNAP_HEADER_BYTES || be32_get(p) != SNAP_MAGIC ||
	    be32_get(p + 4) != buf->len - SNAP_HEADER_BYTES) {
		SLOG_ERROR(MOD, "group=%s event=restore_rejected reason=\"bad snapshot header\"",
			   g->name);
		rv = RAFT_MALFORMED;
	} else if (g->ops.restore) {
		rv = g->ops.restore(g->ops.arg, p + SNAP_HEADER_BYTES, buf->len - SNAP_HEADER_BYTES) == 0
			     ? 0
			     : RAFT_MALFORMED;
	}
	if (rv == 0)
		raft_free(buf->base);
	return rv;
}

/* ---- groups ---- */

static void free_group(struct cons_group *g)
{
	free(g->name);
	free(g->dir);
	free(g);
}

int cons_group_prepare(struct cons_node *n, const struct cons_group_config *cfg,
		       struct cons_group **out, char *errmsg)
{
	/* Runs on a worker thread: only n->cfg (immutable) is read. */
	struct cons_group *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return SLUICE_ENOMEM;
	g->node = n;
	g->id = cfg->group_id;
	g->name = strdup(cfg->name);
	g->dir = strdup(cfg->dir);
	g->data_in_snapshot = cfg->data_in_snapshot;
	g->ops = cfg->ops;
	g->role = CONS_STOPPED;
	if (g->name == NULL || g->dir == NULL) {
		free_group(g);
		return SLUICE_ENOMEM;
	}

	struct rlog_open_args la = {
		.dir = cfg->dir,
		.name = cfg->name,
		.fs = n->cfg.fs,
		.exec = n->cfg.exec,
		.clock = n->cfg.clock,
		.config = cfg->plog,
		.fatal = rlog_fatal_cb,
		.arg = g,
	};
	int rv = rlog_open(&la, &g->log, errmsg);
	if (rv != 0) {
		free_group(g);
		return rv;
	}
	if (cfg->n_voters > 0) {
		/* A pristine replica is bootstrapped with the partition's replica list (every
		 * replica writes the same first entry); one that is not is left as it is. */
		struct raft_configuration conf;
		raft_configuration_init(&conf);
		rv = 0;
		for (int i = 0; i < cfg->n_voters && rv == 0; i++) {
			char a[16];
			snprintf(a, sizeof(a), "%u", cfg->voters[i]);
			if (raft_configuration_add(&conf, cfg->voters[i], a, RAFT_VOTER) != 0) {
				snprintf(errmsg, 256, "bad voter list");
				rv = SLUICE_EINVAL;
			}
		}
		if (rv == 0) {
			rv = rlog_bootstrap(g->log, &conf, errmsg);
			if (rv == 0)
				g->campaign_first = cfg->campaign_first;
			if (rv == SLUICE_EEXIST)
				rv = 0;
		}
		raft_configuration_close(&conf);
		if (rv != 0) {
			rlog_close(g->log, NULL, NULL);
			free_group(g);
			return rv;
		}
	}
	*out = g;
	return 0;
}

void cons_group_discard(struct cons_group *g)
{
	if (g == NULL)
		return;
	rlog_close(g->log, NULL, NULL);
	free_group(g);
}

int cons_group_start(struct cons_group *g, char *errmsg)
{
	struct cons_node *n = g->node;
	int rv;

	if (node_find(n, g->id) != NULL) {
		snprintf(errmsg, 256, "group %" PRIu64 " is already open", g->id);
		rv = SLUICE_EEXIST;
		goto err_discard;
	}
	if (n->ngroups >= CONS_GROUPS_MAX) {
		snprintf(errmsg, 256, "too many groups on this node (max %d)", CONS_GROUPS_MAX);
		rv = SLUICE_EBUSY;
		goto err_discard;
	}
	rlog_on_meta_durable(g->log, meta_durable_cb, g);

	struct raft_io *io = &g->io;
	io->version = 1;
	io->impl = g;
	io->init = rio_init;
	io->close = rio_close;
	io->load = rio_load;
	io->start = rio_start;
	io->bootstrap = rio_bootstrap;
	io->recover = rio_recover;
	io->set_term = rio_set_term;
	io->set_vote = rio_set_vote;
	io->send = rio_send;
	io->append = rio_append;
	io->truncate = rio_truncate;
	io->snapshot_put = rio_snapshot_put;
	io->snapshot_get = rio_snapshot_get;
	io->time = rio_time;
	io->random = rio_random;
	g->fsm.version = 1;
	g->fsm.data = g;
	g->fsm.apply = fsm_apply;
	g->fsm.snapshot = fsm_snapshot;
	g->fsm.restore = fsm_restore;

	char addr[16];
	snprintf(addr, sizeof(addr), "%u", n->cfg.node_id);
	rv = raft_init(&g->raft, io, &g->fsm, n->cfg.node_id, addr);
	if (rv != 0) {
		snprintf(errmsg, 256, "raft_init: %s", raft_strerror(rv));
		rv = SLUICE_ENOMEM;
		goto err_discard;
	}
	raft_set_heartbeat_timeout(&g->raft, n->cfg.heartbeat_ms);
	raft_set_election_timeout(&g->raft, n->cfg.election_ms);
	/* How long a leader waits for an InstallSnapshot result before probing again. While it
	 * waits (PROGRESS__SNAPSHOT) raft 0.15.0 ignores the follower's heartbeat rejections, so a
	 * lost result stalls the follower for the whole timeout (found by test_sim: 120 s with a
	 * dropped reply). A short timeout costs only a resent InstallSnapshot, which a follower
	 * still catching up ignores (RAFT_BUSY) and one that finished answers at once, so a long
	 * catch-up (raft-notes §3) is not restarted by it. */
	raft_set_install_snapshot_timeout(&g->raft, INSTALL_RESULT_WAIT_ELECTIONS * n->cfg.election_ms);
	g->entry_bytes_avg = 1024;
	retune_snapshots(g);

	struct shim_config sc;
	shim_config_default(&sc);
	struct shim_hooks hooks = {.fatal = on_shim_fatal, .change = on_shim_change, .arg = g};
	g->shim = shim_install(&g->raft, io, &sc, &hooks);
	if (g->shim == NULL) {
		snprintf(errmsg, 256, "out of memory installing the raft shim");
		rv = SLUICE_ENOMEM;
		goto err_discard;
	}

	node_link(n, g);
	rv = raft_start(&g->raft);
	if (rv != 0) {
		snprintf(errmsg, 256, "raft_start: %s (%s)", raft_strerror(rv),
			 raft_errmsg(&g->raft));
		rv = SLUICE_EIO;
		goto err_after_link;
	}
	shim_started(g->shim);
	if (g->campaign_first && raft_state(&g->raft) == RAFT_FOLLOWER) {
		/* A fresh group: nobody leads yet, so no one is disrupted. */
		struct raft *r = &g->raft;
		raft_time now = now_ms(n);
		unsigned timeout = r->follower_state.randomized_election_timeout;
		r->election_timer_start = now > timeout ? now - timeout : 0;
	}
	refresh(g);
	return 0;

err_after_link:
	node_unlink(n, g);
	shim_free(g->shim);
err_discard:
	/* raft_init'd but not started (or not even that): close the log directly. */
	cons_group_discard(g);
	return rv;
}

int cons_group_open(struct cons_node *n, const struct cons_group_config *cfg,
		    struct cons_group **out, char *errmsg)
{
	struct cons_group *g = NULL;
	int rv = cons_group_prepare(n, cfg, &g, errmsg);
	if (rv != 0)
		return rv;
	rv = cons_group_start(g, errmsg);
	if (rv != 0)
		return rv;
	*out = g;
	return 0;
}

static void closing_unlink(struct cons_group *g)
{
	struct cons_node *n = g->node;
	if (!g->closing_listed)
		return;
	g->closing_listed = false;
	if (g->prev)
		g->prev->next = g->next;
	else
		n->closing_head = g->next;
	if (g->next)
		g->next->prev = g->prev;
}

static void raft_closed_cb(struct raft *r)
{
	struct cons_group *g = (struct cons_group *)((char *)r - offsetof(struct cons_group, raft));
	closing_unlink(g);
	void (*cb)(void *) = g->close_cb;
	void *arg = g->close_arg;
	shim_free(g->shim);
	free_group(g);
	if (cb)
		cb(arg);
}

void cons_group_close(struct cons_group *g, void (*cb)(void *arg), void *arg)
{
	assert(!g->closing);
	g->closing = true;
	g->close_cb = cb;
	g->close_arg = arg;
	fail_all(g, SLUICE_ECLOSED);
	node_unlink(g->node, g);
	struct cons_node *n = g->node;
	g->prev = NULL;
	g->next = n->closing_head;
	if (n->closing_head)
		n->closing_head->prev = g;
	n->closing_head = g;
	g->closing_listed = true;
	raft_close(&g->raft, raft_closed_cb);
}

/* Drops every proposal without its callback: a crashed node answers no one. */
static void drop_proposals(struct cons_group *g)
{
	while (g->queued_head != NULL) {
		struct prop *p = g->queued_head;
		g->queued_head = p->next;
		raft_free(p->base);
		free(p);
	}
	g->queued_tail = NULL;
	g->queued_bytes = 0;
	while (g->pending_head != NULL) {
		struct prop *p = g->pending_head;
		g->pending_head = p->next;
		free(p);
	}
	g->pending_tail = NULL;
}

void cons_node_abandon(struct cons_node *n)
{
	if (n == NULL)
		return;
	while (n->head != NULL) {
		struct cons_group *g = n->head;
		g->abandoning = true;
		g->closing = true;
		g->close_cb = NULL;
		drop_proposals(g);
		node_unlink(n, g);
		/* raft_close calls rio_close, which completes at once when abandoning; the group
		 * is freed (raft_closed_cb) before raft_close returns. */
		raft_close(&g->raft, raft_closed_cb);
	}
	/* Groups being closed: rio_close ran and rlog_close is under way. Abandon the log
	 * instead, give raft its requests back and finish raft's close now, without the
	 * owner's callback. */
	while (n->closing_head != NULL) {
		struct cons_group *g = n->closing_head;
		closing_unlink(g);
		g->abandoning = true;
		g->close_cb = NULL;
		if (g->log != NULL) {
			rlog_abandon(g->log);
			g->log = NULL;
		}
		rio_abandon_requests(g);
		g->io_close_cb(&g->io); /* frees the group (raft_closed_cb) */
	}
	assert(n->def_head == NULL);
	free(n);
}

/* ---- node entry points ---- */

void cons_node_tick(struct cons_node *n)
{
	uint64_t now = now_ms(n);
	for (struct cons_group *g = n->head; g != NULL; g = g->next) {
		if (!g->started || g->failed || g->closing)
			continue;
		n->stats.ticks++;
		g->tick_cb(&g->io);
		struct install *in = &g->install;
		if (in->active && !in->finishing && now - in->sent_ms >= CATCHUP_RETRY_MS)
			catchup_send_request(g);
		if ((n->stats.ticks & 63) == 0)
			retune_snapshots(g);
		/* The shim reports every change a tick causes (on_shim_change); a tick only needs
		 * its own refresh for proposals waiting on the log's back-pressure. */
		if (g->queued_head != NULL)
			refresh(g);
	}
}

/* An AppendEntries whose prev_log_index this follower has already compacted into its own
 * snapshot (S = r->log.snapshot.last_index) is moved up to start at S. raft 0.15.0 (and later
 * versions) reject it otherwise - logTermOf() is 0 below the in-memory log - and the leader
 * answers a rejection by lowering next_index, never raising it, so a follower whose success
 * reply was lost while it then compacted past the leader's next_index is rejected forever
 * (found by test_sim). Sound because S is committed (a snapshot covers applied entries only):
 * by Leader Completeness the leader holds the same entries up to S, so its entry S has term
 * r->log.snapshot.last_term and entries up to S add nothing. Entries of the message up to S are
 * dropped (they share one batch, freed here when none is left). */
static void skip_compacted_prefix(struct cons_group *g, struct raft_message *msg)
{
	struct raft *r = &g->raft;
	struct raft_append_entries *ae = &msg->append_entries;
	raft_index s = r->log.snapshot.last_index;
	if (msg->type != RAFT_IO_APPEND_ENTRIES || ae->term < r->current_term ||
	    ae->prev_log_index == 0 || ae->prev_log_index >= s ||
	    ae->prev_log_index > r->log.offset || s > r->commit_index)
		return;
	unsigned skip = 0;
	if (ae->prev_log_index + ae->n_entries >= s) {
		skip = (unsigned)(s - ae->prev_log_index);
		if (ae->entries[skip - 1].term != r->log.snapshot.last_term)
			return; /* not the committed entry: let raft judge */
	} else {
		skip = ae->n_entries;
	}
	if (skip == ae->n_entries && skip > 0) {
		raft_free(ae->entries[0].batch);
	} else if (skip > 0) {
		memmove(ae->entries, ae->entries + skip,
			(ae->n_entries - skip) * sizeof(*ae->entries));
	}
	ae->n_entries -= skip;
	ae->prev_log_index = s;
	ae->prev_log_term = r->log.snapshot.last_term;
}

/* Records (ms > 0) or forgets (ms 0) when `node` last accepted our leadership. */
static void heard_note(struct cons_group *g, uint32_t node, uint64_t ms)
{
	for (int i = 0; i < g->nheard; i++) {
		if (g->heard[i].node == node) {
			g->heard[i].ms = ms;
			g->heard[i].term = g->raft.current_term;
			return;
		}
	}
	if (ms == 0)
		return;
	if (g->nheard == CONS_VOTERS_MAX) {
		/* Full of nodes that are no longer voters: drop the stalest. */
		int k = 0;
		for (int i = 1; i < g->nheard; i++)
			if (g->heard[i].ms < g->heard[k].ms)
				k = i;
		g->heard[k] = g->heard[--g->nheard];
	}
	g->heard[g->nheard++] =
		(struct heard){.node = node, .term = g->raft.current_term, .ms = ms};
}

static void recv_raft(struct cons_node *n, uint32_t from, const uint8_t *p, size_t len)
{
	size_t pos = 0;
	while (pos + 4 <= len) {
		uint32_t m = be32_get(p + pos);
		if (m > len - pos - 4) {
			n->stats.msgs_bad++;
			SLOG_WARN(MOD, "event=bad_frame from=%u reason=\"record length %u exceeds "
				       "frame\"",
				  from, m);
			return;
		}
		uint64_t gid;
		struct raft_message msg;
		char errmsg[256] = "";
		int rv = rmsg_decode(p + pos + 4, m, &gid, &msg, errmsg);
		pos += 4 + m;
		if (rv != 0) {
			n->stats.msgs_bad++;
			SLOG_WARN(MOD, "event=bad_message from=%u reason=\"%s\"", from, errmsg);
			continue;
		}
		struct cons_group *g = node_find(n, gid);
		if (g == NULL || !g->started || g->failed || g->closing ||
		    (uint32_t)msg.server_id != from) {
			rmsg_release(&msg);
			continue;
		}
		n->stats.msgs_recv++;
		if (msg.type == RAFT_IO_INSTALL_SNAPSHOT)
			g->install.source = from;
		int role = -1;
		if (msg.type == RAFT_IO_APPEND_ENTRIES_RESULT &&
		    msg.append_entries_result.term == g->raft.current_term &&
		    cons_member(g, from, &role) && role == RAFT_VOTER)
			heard_note(g, from, now_ms(n)); /* voters only: standbys never fill it */
		skip_compacted_prefix(g, &msg);
		g->recv_cb(&g->io, &msg);
		/* raft took the entries; the sender's address string is still ours (the shim
		 * copies what it holds). */
		rmsg_release_address(&msg);
		refresh(g);
	}
}

static void catchup_serve(struct cons_node *n, uint32_t from, const uint8_t *p, size_t len)
{
	if (len < 32)
		return;
	uint64_t gid = be64_get(p);
	uint64_t req_id = be64_get(p + 8);
	int64_t off = (int64_t)be64_get(p + 16);
	int64_t to = (int64_t)be64_get(p + 24);
	struct cons_group *g = node_find(n, gid);
	if (g == NULL || g->failed || g->closing || off < 0 || to < off)
		return;
	struct plog *pl = rlog_plog(g->log);
	uint8_t status = 0;
	int64_t start = plog_start_offset(pl);
	struct plog_read_result rr = {0};
	if (off < start) {
		status = 1;
		rr.next_offset = start;
	} else {
		int rv = rlog_read(g->log, off, to, CATCHUP_CHUNK_BYTES, &rr);
		if (rv != 0) {
			SLOG_WARN(MOD, "group=%s event=catchup_read_failed offset=%" PRId64 " rv=%d",
				  g->name, off, rv);
			return;
		}
		if (rr.buf == NULL)
			return; /* not durable here yet; the follower asks again */
	}
	size_t dl = rr.buf ? rr.len : 0;
	struct buf *b = buf_new(34 + dl);
	if (b != NULL) {
		b->data[0] = FRAME_CATCHUP_RESP;
		be64_put(b->data + 1, gid);
		be64_put(b->data + 9, req_id);
		b->data[17] = status;
		be64_put(b->data + 18, (uint64_t)start);
		be64_put(b->data + 26, (uint64_t)rr.next_offset);
		if (dl)
			memcpy(b->data + 34, rr.buf->data, dl);
		b->len = 34 + dl;
		struct iovec iov = {.iov_base = b->data, .iov_len = b->len};
		n->cfg.transport->send(n->cfg.transport, from, &iov, 1);
		buf_unref(b);
	}
	if (rr.buf)
		buf_unref(rr.buf);
}

static void catchup_receive(struct cons_node *n, const uint8_t *p, size_t len)
{
	if (len < 33)
		return;
	uint64_t gid = be64_get(p);
	uint64_t req_id = be64_get(p + 8);
	uint8_t status = p[16];
	int64_t start = (int64_t)be64_get(p + 17);
	int64_t next = (int64_t)be64_get(p + 25);
	struct cons_group *g = node_find(n, gid);
	if (g == NULL || g->failed || g->closing)
		return;
	struct install *in = &g->install;
	if (!in->active || in->finishing || in->req_id != req_id)
		return;
	if (status == 1) {
		int64_t at = start < in->to ? start : in->to;
		if (at > in->next) {
			SLOG_WARN(MOD, "group=%s event=catchup_reset from=%" PRId64 " to=%" PRId64
				       " reason=\"leader no longer has these offsets\"",
				  g->name, in->next, at);
			if (rlog_install_reset(g->log, at) != 0) {
				group_fail(g, "install: resetting the log failed");
				return;
			}
			if (g->ops.truncated)
				g->ops.truncated(g->ops.arg, 0);
			in->next = at;
		}
	} else if (len > 33) {
		if (next <= in->next || next > in->to)
			return;
		struct buf *b = buf_copy(p + 33, len - 33);
		if (b == NULL)
			return;
		int rv = rlog_install_data(g->log, b, 0, b->len);
		buf_unref(b);
		if (rv != 0) {
			SLOG_WARN(MOD, "group=%s event=catchup_rejected rv=%d", g->name, rv);
			return;
		}
		in->next = next;
	}
	if (in->next >= in->to)
		install_finish(g);
	else
		catchup_send_request(g);
}

void cons_node_recv(struct cons_node *n, uint32_t from, const uint8_t *p, size_t len)
{
	if (len < 1)
		return;
	switch (p[0]) {
	case FRAME_RAFT:
		recv_raft(n, from, p + 1, len - 1);
		break;
	case FRAME_CATCHUP_REQ:
		catchup_serve(n, from, p + 1, len - 1);
		break;
	case FRAME_CATCHUP_RESP:
		catchup_receive(n, p + 1, len - 1);
		break;
	default:
		n->stats.msgs_bad++;
		SLOG_WARN(MOD, "event=bad_frame from=%u kind=%u", from, p[0]);
	}
}

/* The connection to a follower's leader broke (a crashed leader resets every connection):
 * rather than wait a whole election timeout and then lose a first election to followers that
 * still believe in the dead leader (raft refuses votes while it knows a leader, §4.2.3), the
 * follower forgets the leader and lets its election timer expire after a short delay.
 * The delays are staggered by rank, not drawn at random: the remaining voters, ordered by id
 * and rotated by the group id (so that the first to campaign differs from group to group),
 * campaign LINK_DOWN_ELECTION_STAGGER_MS apart. Random delays in 50-300 ms let two followers
 * campaign within one term/vote fsync of each other often enough (a split vote, then a whole
 * randomized election timeout: failovers of 2-3 s); a stagger longer than an fsync and a round
 * trip leaves the second follower to grant its vote instead. A little jitter stays, for
 * groups whose followers' links break at different moments.
 * Safety is untouched: this only changes when an ordinary election starts (and M4 still keeps
 * a follower with writes in flight from starting one). It reads raft 0.15.0's follower state,
 * as the shim does (version pinned). */
#define LINK_DOWN_ELECTION_MS_MIN 50
#define LINK_DOWN_ELECTION_STAGGER_MS 150
#define LINK_DOWN_ELECTION_JITTER_MS 20

static void expedite_election(struct cons_group *g, uint32_t dead)
{
	struct raft *r = &g->raft;
	uint32_t self = g->node->cfg.node_id;
	int role = -1;
	if (raft_state(r) != RAFT_FOLLOWER || !cons_member(g, self, &role) || role != RAFT_VOTER)
		return;
	if (r->follower_state.current_leader.address != NULL)
		raft_free(r->follower_state.current_leader.address);
	r->follower_state.current_leader.address = NULL;
	r->follower_state.current_leader.id = 0;
	/* Our rank among the voters left, by id, rotated by the group id. */
	const struct raft_configuration *c = &r->configuration;
	unsigned n = 0, below = 0;
	for (unsigned k = 0; k < c->n; k++) {
		uint32_t id = (uint32_t)c->servers[k].id;
		if (c->servers[k].role != RAFT_VOTER || id == dead)
			continue;
		n++;
		below += id < self;
	}
	unsigned rank = n > 0 ? (unsigned)((below + g->id) % n) : 0;
	unsigned delay = LINK_DOWN_ELECTION_MS_MIN + rank * LINK_DOWN_ELECTION_STAGGER_MS +
			 (unsigned)(rng_next(g->node) % LINK_DOWN_ELECTION_JITTER_MS);
	unsigned timeout = r->follower_state.randomized_election_timeout;
	raft_time now = now_ms(g->node);
	r->election_timer_start = now + delay > timeout ? now + delay - timeout : 0;
	SLOG_DEBUG(MOD, "group=%s event=leader_link_down election_in_ms=%u rank=%u", g->name,
		   delay, rank);
}

void cons_node_link(struct cons_node *n, uint32_t node, bool up)
{
	if (!up) {
		for (struct cons_group *g = n->head; g != NULL; g = g->next) {
			/* The follower may elect someone else within LINK_DOWN_ELECTION_MS_MIN: it
			 * no longer counts for our read lease. */
			heard_note(g, node, 0);
			if (g->started && !g->failed && !g->closing && g->leader == node)
				expedite_election(g, node);
		}
		return;
	}
	for (struct cons_group *g = n->head; g != NULL; g = g->next)
		if (g->install.active && !g->install.finishing && g->install.source == node)
			catchup_send_request(g);
}

void cons_node_stats(const struct cons_node *n, struct cons_stats *out)
{
	*out = n->stats;
	out->groups = n->ngroups;
}

/* ---- queries ---- */

enum cons_role cons_role(const struct cons_group *g)
{
	return g->failed ? CONS_STOPPED : (enum cons_role)g->role;
}

bool cons_is_leader(const struct cons_group *g)
{
	/* Not while raft transfers leadership: raft_apply then fails (RAFT_NOTLEADER), and
	 * cons_propose would call the proposal's callback before returning (found by test_sim). */
	return !g->failed && !g->closing && g->started && g->role == CONS_LEADER &&
	       g->raft.transfer == NULL && shim_leader_ready(g->shim);
}

bool cons_read_lease(const struct cons_group *g)
{
	if (!cons_is_leader(g))
		return false;
	const struct raft_configuration *c = &g->raft.configuration;
	uint64_t now = now_ms(g->node);
	uint64_t lease = (uint64_t)g->node->cfg.election_ms * CONS_LEASE_PERCENT / 100;
	unsigned voters = 0, fresh = 0;
	for (unsigned k = 0; k < c->n; k++) {
		if (c->servers[k].role != RAFT_VOTER)
			continue;
		voters++;
		uint32_t id = (uint32_t)c->servers[k].id;
		if (id == g->node->cfg.node_id) {
			fresh++;
			continue;
		}
		for (int i = 0; i < g->nheard; i++)
			if (g->heard[i].node == id && g->heard[i].ms != 0 &&
			    g->heard[i].term == g->raft.current_term && now - g->heard[i].ms < lease)
				fresh++;
	}
	return fresh > voters / 2;
}

uint32_t cons_leader(const struct cons_group *g)
{
	return g->failed ? 0 : g->leader;
}

uint64_t cons_term(const struct cons_group *g)
{
	return g->term;
}

int64_t cons_commit_offset(const struct cons_group *g)
{
	return g->hw;
}

uint64_t cons_group_id(const struct cons_group *g)
{
	return g->id;
}

struct plog *cons_log(struct cons_group *g)
{
	return rlog_plog(g->log);
}

const struct shim_stats *cons_shim_stats(const struct cons_group *g)
{
	return shim_stats(g->shim);
}

int cons_voters(const struct cons_group *g, uint32_t *out, int max)
{
	int k = 0;
	const struct raft_configuration *c = &g->raft.configuration;
	for (unsigned i = 0; i < c->n && k < max; i++)
		if (c->servers[i].role == RAFT_VOTER)
			out[k++] = (uint32_t)c->servers[i].id;
	return k;
}

static void change_cb(struct raft_change *req, int status)
{
	struct cons_group *g = req->data;
	g->change_inflight = false;
	g->paused = false;
	if (status != 0) {
		SLOG_WARN(MOD, "group=%s event=membership_change_failed status=%s", g->name,
			  raft_strerror(status));
	} else {
		SLOG_INFO(MOD, "group=%s event=membership_changed voters_now=%u", g->name,
			  g->raft.configuration.n);
	}
	/* The configuration entry took an offset: proposals continue after it. */
	if (cons_is_leader(g))
		g->next_offset = plog_end_offset(rlog_plog(g->log));
	refresh(g);
}

static bool wanted(const uint32_t *want, int n, raft_id id)
{
	for (int i = 0; i < n; i++)
		if (want[i] == id)
			return true;
	return false;
}

int cons_reconfigure(struct cons_group *g, const uint32_t *want, int n)
{
	if (n <= 0 || n > CONS_REPLICAS_MAX)
		return SLUICE_EINVAL;
	return cons_reconfigure_standbys(g, want, n, NULL, 0);
}

int cons_reconfigure_standbys(struct cons_group *g, const uint32_t *want, int n,
			      const uint32_t *standbys, int m)
{
	struct raft *r = &g->raft;
	const struct raft_configuration *c = &r->configuration;

	if (!cons_is_leader(g))
		return SLUICE_ENOTLEADER;
	if (g->change_inflight || r->configuration_uncommitted_index != 0)
		return SLUICE_EBUSY;
	if (n <= 0 || n > CONS_VOTERS_MAX || m < 0 || m > CONS_STANDBYS_MAX ||
	    (m > 0 && standbys == NULL))
		return SLUICE_EINVAL;

	/* One step, in this order: add a missing replica as spare, make it a standby (it
	 * replicates), promote a wanted voter to voter once it has caught up, then remove the
	 * replicas no longer wanted (the leader itself last, after handing leadership to a
	 * wanted voter). A wanted standby that is a voter stays one. */
	int op = 0; /* 1 add, 2 standby, 3 voter, 4 remove */
	raft_id id = 0;
	unsigned idx = 0;
	for (int i = 0; i < n + m && op == 0; i++) {
		uint32_t w = i < n ? want[i] : standbys[i - n];
		unsigned k;
		for (k = 0; k < c->n && c->servers[k].id != w; k++)
			;
		if (k == c->n) {
			op = 1;
			id = w;
		} else if (c->servers[k].role == RAFT_SPARE) {
			op = 2;
			id = w;
		} else if (c->servers[k].role == RAFT_STANDBY && i < n) {
			op = 3;
			id = w;
			idx = k;
		}
	}
	for (unsigned k = 0; k < c->n && op == 0; k++) {
		if (!wanted(want, n, c->servers[k].id) &&
		    (m == 0 || !wanted(standbys, m, c->servers[k].id))) {
			op = 4;
			id = c->servers[k].id;
		}
	}
	if (op == 0)
		return SLUICE_EEXIST; /* the configuration already matches */
	if (op == 4 && id == g->node->cfg.node_id) {
		/* Hand leadership to a wanted voter first; the new leader removes us. */
		for (int i = 0; i < n; i++)
			for (unsigned k = 0; k < c->n; k++)
				if (c->servers[k].id == want[i] && c->servers[k].role == RAFT_VOTER)
				{
					(void)cons_transfer(g, want[i]);
					return SLUICE_EBUSY;
				}
		return SLUICE_EBUSY;
	}
	uint64_t now = now_ms(g->node);
	if (op == 3) {
		/* raft 0.15 appends the promotion at once only when the standby's log already
		 * matches the leader's last index; pause proposals so it can get there, for a
		 * bounded time (then let them flow again and retry later). */
		raft_index match = r->leader_state.progress[idx].match_index;
		if (match + 64 < raft_last_index(r))
			return SLUICE_EBUSY; /* still catching up under load */
		if (match != raft_last_index(r) || g->queued_head != NULL) {
			if (!g->paused) {
				g->paused = true;
				g->pause_since_ms = now;
			} else if (now - g->pause_since_ms > 2000) {
				g->paused = false; /* give up for now */
			}
			return SLUICE_EBUSY;
		}
	}
	if (g->queued_head != NULL) {
		g->paused = true;
		g->pause_since_ms = now;
		return SLUICE_EBUSY;
	}
	char addr[16];
	snprintf(addr, sizeof(addr), "%u", (uint32_t)id);
	g->change.data = g;
	int rv;
	switch (op) {
	case 1:
		rv = raft_add(r, &g->change, id, addr, change_cb);
		break;
	case 2:
		rv = raft_assign(r, &g->change, id, RAFT_STANDBY, change_cb);
		break;
	case 3:
		rv = raft_assign(r, &g->change, id, RAFT_VOTER, change_cb);
		break;
	default:
		rv = raft_remove(r, &g->change, id, change_cb);
		break;
	}
	if (rv != 0) {
		g->paused = false;
		SLOG_WARN(MOD, "group=%s event=membership_change_refused op=%d node=%u err=%s",
			  g->name, op, (uint32_t)id, raft_strerror(rv));
		return SLUICE_EBUSY;
	}
	SLOG_INFO(MOD, "group=%s event=membership_change op=%s node=%u", g->name,
		  op == 1 ? "add" : op == 2 ? "standby" : op == 3 ? "voter" : "remove", (uint32_t)id);
	g->change_inflight = true;
	g->paused = true; /* until the entry commits (change_cb) */
	g->pause_since_ms = now;
	return 0;
}

bool cons_member(const struct cons_group *g, uint32_t node, int *role)
{
	const struct raft_configuration *c = &g->raft.configuration;
	for (unsigned k = 0; k < c->n; k++) {
		if (c->servers[k].id == node) {
			if (role)
				*role = c->servers[k].role;
			return true;
		}
	}
	return false;
}

int cons_member_committed(const struct cons_group *g, uint32_t node)
{
	if (!cons_is_leader(g) || g->change_inflight || g->raft.configuration_uncommitted_index != 0)
		return -1;
	return cons_member(g, node, NULL) ? 1 : 0;
}

int cons_transfer(struct cons_group *g, uint32_t target)
{
	if (!cons_is_leader(g))
		return SLUICE_ENOTLEADER;
	/* M7: the shim owns the request, waits for raft's attempt and retries it (64b0b8b,
	 * f65b6e7, c6cfe58). */
	return shim_transfer(g->shim, target, 3, NULL, NULL);
}

int cons_library_check(char *errmsg)
{
	/* Entry points added after 0.15.0 (version query in 0.16, state callbacks and voter
	 * contacts in 0.18); 0.15.0 exports none of them but does export the fixture. */
	static const char *const later[] = {"raft_version_number", "raft_version_string",
					    "raft_register_state_cb", "raft_voter_contacts"};
	for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
		if (dlsym(RTLD_DEFAULT, later[i]) != NULL) {
			snprintf(errmsg, 256,
				 "the loaded libraft exports %s, so it is newer than 0.15.0; Sluice's "
				 "raft mitigations are written for 0.15.0 (docs/raft-defects.md)",
				 later[i]);
			return SLUICE_EVERSION;
		}
	}
	if (dlsym(RTLD_DEFAULT, "raft_fixture_init") == NULL || dlsym(RTLD_DEFAULT, "raft_init") == NULL) {
		snprintf(errmsg, 256, "the loaded libraft is not canonical raft 0.15.0");
		return SLUICE_EVERSION;
	}
	return 0;
}
