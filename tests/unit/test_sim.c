/*
 * test_sim: deterministic simulation of Sluice's replication (cons, rlog, rmsg, shim over
 * canonical raft 0.15.0), in the spirit of TigerBeetle's VOPR and FoundationDB's simulator.
 *
 * One seed drives everything. A round builds 3-5 simulated nodes, each with its own in-memory
 * disk (simfs: a crash keeps only what was synced, plus a seeded prefix of the rest, possibly a
 * torn page), its own executor (every disk job completes at a seeded virtual time, so disk
 * completions interleave with deliveries, and jobs of different logs complete in any order, as
 * in libuv's thread pool), and a cons_node hosting 2-3 partition groups of 3 replicas (5 in
 * some 5-node rounds). All nodes share one virtual clock. A simulated network carries every
 * frame: seeded delay (hence reordering), drop, duplication, and partitions (a matrix of cut
 * directed links, which also loses what is in flight on a cut link).
 *
 * The scheduler is a discrete-event loop over one priority queue ordered by (virtual time,
 * sequence): deliver a frame, complete a disk job, tick a node (every heartbeat_ms), produce on
 * a ready leader (acks=all, some acks=1), inject a fault: crash (cons_node_abandon + simfs
 * crash; sometimes in the middle of a clean shutdown, while the logs write their last bytes)
 * and later restart, clean restart (cons_group_close, reopen), cut or heal links,
 * isolate a node, split the cluster, a slow disk, a leadership transfer, and in some rounds
 * disk errors (simfs_fail_nth EIO on writes, syncs, truncations: the group stops and its owner
 * closes and reopens it). After every event the node it touched gets cons_node_flush(), and the
 * checks below run. A chaos phase is followed by a settle phase: every node up, every link
 * healed, no more faults, until each group has one ready leader, every replica holds the
 * leader's log and everything is committed and durable.
 *
 * Checks (a violation ends the round and prints the seed, the reason, the last events and every
 * replica's state):
 *   1. Truth: for each group the sim builds the committed log from what replicas report as
 *      committed (offsets below cons_commit_offset, read back with plog_read). Every replica's
 *      committed prefix must equal it byte for byte, also after restarts: committed data is
 *      never lost or changed, and replicas' committed prefixes are identical.
 *   2. Every proposal acknowledged with status 0 (CONS_WAIT_COMMIT) is in the truth at the
 *      offsets cons_propose returned, with the bytes proposed (BaseOffset and
 *      PartitionLeaderEpoch aside); every committed data batch is one proposal, at its
 *      assigned offsets, exactly once; an acks=1 acknowledgement comes with the leader's log
 *      durable past it; callbacks run exactly once and never inside cons_propose.
 *   3. cons_commit_offset never decreases on a replica while it is up; it never exceeds the
 *      replica's log end; data a replica had durably committed is still there when it reopens.
 *   4. ops.apply sees committed batches only, in increasing offset order; ops.truncated never
 *      cuts below the replica's commit offset; ops.failed runs only after a disk fault.
 *   5. Election safety: at most one ready leader per (group, term).
 *   6. After the settle phase: convergence as said above, no proposal left unanswered on a live
 *      leader, applied batches all committed, and the shim's counters sane (no M1 stop without
 *      a disk fault). Closing every group through cons_group_close must complete.
 *
 * Environment: SIM_SEEDS=<n> rounds (default 2000, 800 under a sanitizer), SIM_FIRST_SEED=<n>
 * (default 1), SIM_SEED=<n> runs that one round only (a failing seed replays exactly: the
 * simulation has no other input), SIM_TRACE=1 prints every event (with the raft messages
 * decoded, and the frames the network drops) and the final state, SIM_KEEP_GOING=1 runs every
 * seed and lists the failing ones, SIM_RETENTION=0 runs no round with log retention, 2 runs
 * every round with it (default 1: the quarter of the rounds that draw it; see retention_mode).
 */
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/codec.h"
#include "base/err.h"
#include "base/exec.h"
#include "base/slog.h"
#include "raft/cons.h"
#include "raft/rmsg.h"
#include "raft/shim.h"
#include "storage/batch.h"
#include "storage/plog.h"
#include "storage/simfs.h"

#include "batchgen.h"

#if defined(__SANITIZE_ADDRESS__)
#define SIM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_SANITIZED 1
#endif
#endif
#ifndef SIM_SANITIZED
#define SIM_SANITIZED 0
#endif

/* Nodes per simulated cluster (ids 1..n). */
#define SIM_NODES_MAX 5
/* Groups (partitions) per cluster. */
#define SIM_GROUPS_MAX 3
/* Events kept for the trace printed on a failure. */
#define TRACE_EVENTS 64
/* Bytes of a log line kept in the trace. */
#define TRACE_TEXT_BYTES 200
/* Virtual time the settle phase may take before the round counts as not converging. */
#define SETTLE_MS_MAX 60000
/* Events one round may process: a bound on a round that never settles. */
#define ROUND_EVENTS_MAX 2000000
/* Wall time start of the virtual clock (fixed: replay must not depend on the host). */
#define SIM_WALL_START_MS 1700000000000LL
/* BaseTimestamp of proposal uid u is TS_BASE + u * TS_STRIDE: identifies the proposal. */
#define TS_BASE 1700000000000LL
#define TS_STRIDE 16

/* Out of memory in the harness: no test can go on. (Check's own ck_assert records its location
 * in a file at every call, too slow for the simulation's hot paths.) */
#define need(cond)                                                                                 \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "sim: %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* ---- random numbers: one xorshift64* generator per round ---- */

static uint64_t rng_step(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* ---- the simulation's data ---- */

enum ev_type {
	EV_MSG,     /* a frame arrives at `node` from `peer` */
	EV_DISK,    /* a disk job of `node` completes (work, then done) */
	EV_TICK,    /* `node`'s heartbeat timer */
	EV_PRODUCE, /* propose on a ready leader */
	EV_FAULT,   /* inject a fault */
	EV_RESTART, /* `node` comes back after a crash */
	EV_REOPEN,  /* `node` reopens its group `peer` (index), which stopped on a disk error */
	EV_RETENTION, /* every open log applies retention (what the broker does on a timer) */
	EV_CRASH,   /* `node` crashes (soon after it started closing groups) */
};

struct event {
	uint64_t t_us;
	uint64_t seq;
	uint8_t type;
	uint8_t node;
	uint8_t peer;
	uint32_t gen; /* incarnation of `node` the event belongs to (EV_DISK, EV_RESTART) */
	void *p;      /* EV_MSG: the frame (malloc'd); EV_DISK: the job */
	size_t len;
};

enum tr_kind {
	TR_EVENT,
	TR_LOG,
	TR_NOTE,
};

struct trace_entry {
	uint64_t t_us;
	int kind;
	struct event ev; /* TR_EVENT: a copy (p not owned) */
	uint8_t first;   /* TR_EVENT EV_MSG: the frame kind */
	char text[TRACE_TEXT_BYTES];
};

struct sim;
struct simnode;

struct sim_exec {
	struct exec exec;
	struct simnode *node;
};

struct sim_transport {
	struct cons_transport t;
	struct simnode *node;
};

/* What the sim knows about one replica (node, group) during one incarnation of the node. */
struct replica {
	struct sim *sim;
	struct simnode *node;
	int gi;                 /* group index */
	struct cons_group *g;   /* NULL while the node is down or the replica absent */
	int64_t hw_seen;        /* largest commit offset seen this incarnation */
	int64_t verified;       /* offsets below it were checked against the truth */
	int64_t durable_committed; /* committed, checked and durable: must survive a crash */
	int64_t applied_next;   /* ops.apply: the next batch must start at or after it */
	bool stopped;           /* ops.failed ran: the owner closes and reopens the group */
	bool closing;           /* cons_group_close in progress */
	bool reopen;            /* closed (or failed to open): open it again */
	/* applied batches not yet covered by the truth: (base, crc) */
	int64_t *pend_base;
	uint32_t *pend_crc;
	size_t npend, cappend;
};

struct simnode {
	struct sim *sim;
	uint32_t id;
	bool up;
	uint32_t gen; /* incarnation, bumped by every crash or restart */
	uint64_t disk_slow_until_us;
	struct simfs *fs;
	struct sim_exec exec;
	struct sim_transport tr;
	struct cons_node *cn;
	struct replica rep[SIM_GROUPS_MAX];
	bool hosts[SIM_GROUPS_MAX];
	bool closing; /* a clean restart: groups are being closed */
	int closes_pending;
	uint64_t disk_faults; /* I/O errors armed on its simfs (a group may then stop) */
};

/* One batch of the truth (a group's committed log as the sim knows it). */
struct tbatch {
	int64_t base, last;
	size_t pos, len;
};

struct simgroup {
	uint64_t id;
	uint32_t voters[SIM_NODES_MAX];
	int nvoters;
	/* the truth */
	uint8_t *bytes;
	size_t nbytes, capbytes;
	struct tbatch *batches;
	size_t nbatches, capbatches;
	int64_t end; /* next offset after the truth */
	/* election safety: leader_of_term[t] = ready leader seen in term t */
	uint8_t *leader_of_term;
	size_t nterms;
};

enum prop_state {
	PROP_OUTSTANDING,
	PROP_ACKED,       /* CONS_WAIT_COMMIT, status 0: must be committed */
	PROP_ACKED_LOCAL, /* CONS_WAIT_LOCAL, status 0: was durable on the leader */
	PROP_FAILED,
	PROP_ORPHANED,
};

struct sprop {
	struct sim *sim;
	uint32_t uid;
	int gi;
	uint32_t node, gen; /* leader it was proposed on */
	struct buf *bytes;  /* as proposed (BaseOffset 0) */
	int64_t base, last; /* as cons_propose assigned them */
	bool local;         /* proposed with CONS_WAIT_LOCAL (acks=1) */
	int state;
	bool verified;  /* seen in the truth (acked ones must be) */
	bool committed; /* some committed batch is this proposal */
};

struct sim_params {
	int nnodes;
	int ngroups;
	int replicas;
	unsigned heartbeat_ms;
	unsigned election_ms;
	size_t tail_bytes_max;
	uint64_t segment_bytes;
	uint64_t chaos_ms;
	unsigned net_delay_us_min, net_delay_us_max;
	unsigned drop_pm, dup_pm, reorder_pm; /* per mille */
	unsigned disk_us_min, disk_us_max;
	unsigned produce_ms_max;
	unsigned fault_ms_min, fault_ms_max;
	bool faults;     /* crashes, restarts, partitions */
	bool torn;       /* simfs torn writes on crash */
	bool disk_faults; /* inject EIO on writes and syncs */
	int64_t retention_bytes; /* -1: none; else plog retention, enforced every few 100 ms */
	unsigned records_max;
};

struct sim_counters {
	uint64_t events, msgs, msgs_dropped, msgs_dup, disk_jobs, ticks;
	uint64_t crashes, clean_restarts, cuts, heals, isolations, splits, slow_disks;
	uint64_t disk_faults, group_stops, reopens, transfers, crashes_closing;
	uint64_t segments_deleted, log_resets;
	uint64_t proposals, acked, acked_local, failed, orphaned, committed_batches;
	uint64_t committed_refetched; /* see op_truncated */
	uint64_t settle_ms;
	/* summed shim counters of every closed group */
	struct shim_stats shim;
};

struct sim {
	uint64_t seed;
	uint64_t rng;
	struct sim_params prm;
	struct clock_fake clock;
	uint64_t now_us;
	struct event *heap;
	size_t nheap, capheap;
	uint64_t seq;
	int nnodes;
	struct simnode nodes[SIM_NODES_MAX + 1];
	int ngroups;
	struct simgroup groups[SIM_GROUPS_MAX];
	bool cut[SIM_NODES_MAX + 1][SIM_NODES_MAX + 1];
	struct sprop **props;
	size_t nprops, capprops;
	struct sprop **unverified; /* acked, not yet seen in the truth */
	size_t nunverified, capunverified;
	bool chaos;
	bool producing;
	bool in_propose;
	struct trace_entry trace[TRACE_EVENTS];
	uint64_t ntrace;
	bool verbose;
	bool failed;
	char failmsg[1024];
	uint64_t digest;
	struct sim_counters c;
};

/* The round running now, for the crash handler and the slog sink. */
static struct sim *current_sim;

/* Which rounds run with log retention (small segments, retention enforced every few 100 ms, so
 * leaders delete what lagging followers still need and catch-ups reset their logs). SIM_RETENTION
 * picks the mode; the draw is made in every mode, so the rest of a round's parameters, and the
 * seed that replays it, do not depend on it. */
enum retention_mode {
	RETENTION_NONE = 0,  /* SIM_RETENTION=0 */
	RETENTION_DRAWN = 1, /* default: the rounds whose seed draws it (RETENTION_DRAWN_PM) */
	RETENTION_ALL = 2,   /* SIM_RETENTION=2: every round (a stress run) */
};
/* Share of the rounds drawn with retention, per mille: a quarter, enough for CI to meet the
 * catch-up resets every run (those found the two rlog bugs of seeds 4449 and 2406: a reopen
 * after an interrupted first install, a snapshot stored behind a failed reset). */
#define RETENTION_DRAWN_PM 250
static enum retention_mode retention_mode = RETENTION_DRAWN;

/* What a replay command needs besides the seed. */
static const char *retention_env(void)
{
	switch (retention_mode) {
	case RETENTION_NONE:
		return "SIM_RETENTION=0 ";
	case RETENTION_ALL:
		return "SIM_RETENTION=2 ";
	default:
		return "";
	}
}

static uint64_t rnd(struct sim *s)
{
	return rng_step(&s->rng);
}

/* Uniform in [lo, hi]. */
static uint64_t rnd_range(struct sim *s, uint64_t lo, uint64_t hi)
{
	return hi <= lo ? lo : lo + rnd(s) % (hi - lo + 1);
}

static bool rnd_pm(struct sim *s, unsigned per_mille)
{
	return rnd(s) % 1000 < per_mille;
}

static void digest_mix(struct sim *s, uint64_t v)
{
	s->digest ^= v;
	s->digest *= 0x100000001b3ull;
}

/* ---- trace and failure ---- */

static const char *ev_name(int type)
{
	switch (type) {
	case EV_MSG:
		return "msg";
	case EV_DISK:
		return "disk";
	case EV_TICK:
		return "tick";
	case EV_PRODUCE:
		return "produce";
	case EV_FAULT:
		return "fault";
	case EV_RESTART:
		return "restart";
	case EV_REOPEN:
		return "reopen";
	case EV_RETENTION:
		return "retention";
	case EV_CRASH:
		return "crash";
	}
	return "?";
}

static struct trace_entry *trace_next(struct sim *s)
{
	struct trace_entry *e = &s->trace[s->ntrace++ % TRACE_EVENTS];
	e->t_us = s->now_us;
	e->text[0] = '\0';
	return e;
}

static void trace_format(const struct trace_entry *e, char *out, size_t n)
{
	uint64_t ms = e->t_us / 1000, us = e->t_us % 1000;
	switch (e->kind) {
	case TR_EVENT:
		if (e->ev.type == EV_MSG)
			snprintf(out, n, "%6" PRIu64 ".%03" PRIu64 " msg %u->%u kind=%u bytes=%zu", ms,
				 us, e->ev.peer, e->ev.node, e->first, e->ev.len);
		else
			snprintf(out, n, "%6" PRIu64 ".%03" PRIu64 " %s node=%u", ms, us,
				 ev_name(e->ev.type), e->ev.node);
		break;
	default:
		snprintf(out, n, "%6" PRIu64 ".%03" PRIu64 " %s %s", ms, us,
			 e->kind == TR_LOG ? "log" : "   ", e->text);
	}
}

static void note(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct sim *s, const char *fmt, ...)
{
	struct trace_entry *e = trace_next(s);
	va_list ap;
	e->kind = TR_NOTE;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	if (s->verbose)
		fprintf(stderr, "sim %8.3f    %s\n", (double)s->now_us / 1000, e->text);
}

static void trace_print(struct sim *s, FILE *f)
{
	uint64_t first = s->ntrace > TRACE_EVENTS ? s->ntrace - TRACE_EVENTS : 0;
	char line[TRACE_TEXT_BYTES + 80];
	fprintf(f, "sim: last %" PRIu64 " events (virtual ms):\n", s->ntrace - first);
	for (uint64_t i = first; i < s->ntrace; i++) {
		trace_format(&s->trace[i % TRACE_EVENTS], line, sizeof(line));
		fprintf(f, "  %s\n", line);
	}
}

/* Records the first violation; the round stops after the current event. */
static void sim_fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sim_fail(struct sim *s, const char *fmt, ...)
{
	if (s->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->failmsg, sizeof(s->failmsg), fmt, ap);
	va_end(ap);
	s->failed = true;
	note(s, "VIOLATION: %s", s->failmsg);
}

static void slog_sink(void *arg, enum slog_level level, const char *line)
{
	(void)arg;
	struct sim *s = current_sim;
	if (s == NULL) {
		if (level >= SLOG_WARN)
			fprintf(stderr, "%s\n", line);
		return;
	}
	struct trace_entry *e = trace_next(s);
	e->kind = TR_LOG;
	/* skip the timestamp (the trace has virtual time) */
	const char *p = strstr(line, "level=");
	snprintf(e->text, sizeof(e->text), "%s", p ? p : line);
	if (s->verbose)
		fprintf(stderr, "sim %8.3f log %s\n", (double)s->now_us / 1000, e->text);
}

/* A crash of the test process itself (an assertion in raft, cons, rlog or the shim, or a
 * sanitizer report) still names the seed that replays it. */
static void crash_report(const char *what)
{
	struct sim *s = current_sim;
	if (s == NULL)
		return;
	fprintf(stderr, "\nsim: %s in round seed=%" PRIu64 " at t=%.3f ms\n", what, s->seed,
		(double)s->now_us / 1000);
	trace_print(s, stderr);
	fprintf(stderr, "sim: replay with %sSIM_SEED=%" PRIu64 "\n", retention_env(), s->seed);
	current_sim = NULL;
}

static void crash_handler(int sig)
{
	crash_report(strsignal(sig));
	signal(sig, SIG_DFL);
	raise(sig);
}

#if SIM_SANITIZED
#include <sanitizer/common_interface_defs.h>
static void sanitizer_death(void)
{
	crash_report("sanitizer report");
}
#endif

/* ---- the event queue: a binary heap on (t_us, seq) ---- */

static bool ev_before(const struct event *a, const struct event *b)
{
	return a->t_us != b->t_us ? a->t_us < b->t_us : a->seq < b->seq;
}

static void push_event(struct sim *s, struct event ev)
{
	if (s->nheap == s->capheap) {
		s->capheap = s->capheap ? 2 * s->capheap : 1024;
		s->heap = realloc(s->heap, s->capheap * sizeof(*s->heap));
		need(s->heap != NULL);
	}
	ev.seq = s->seq++;
	size_t i = s->nheap++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!ev_before(&ev, &s->heap[parent]))
			break;
		s->heap[i] = s->heap[parent];
		i = parent;
	}
	s->heap[i] = ev;
}

static struct event pop_event(struct sim *s)
{
	struct event top = s->heap[0];
	struct event last = s->heap[--s->nheap];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct event *best = &last;
		if (l < s->nheap && ev_before(&s->heap[l], best)) {
			m = l;
			best = &s->heap[l];
		}
		if (r < s->nheap && ev_before(&s->heap[r], best))
			m = r;
		if (m == i)
			break;
		s->heap[i] = s->heap[m];
		i = m;
	}
	if (s->nheap > 0)
		s->heap[i] = last;
	return top;
}

static void schedule(struct sim *s, uint64_t at_us, int type, uint32_t node, uint32_t peer,
		     void *p, size_t len)
{
	struct event ev = {
		.t_us = at_us,
		.type = (uint8_t)type,
		.node = (uint8_t)node,
		.peer = (uint8_t)peer,
		.gen = node ? s->nodes[node].gen : 0,
		.p = p,
		.len = len,
	};
	push_event(s, ev);
}

/* ---- the executor: each job completes at its own seeded virtual time ---- */

static int sim_exec_submit(struct exec *e, struct exec_job *job)
{
	struct simnode *n = ((struct sim_exec *)e)->node;
	struct sim *s = n->sim;
	uint64_t lat = rnd_range(s, s->prm.disk_us_min, s->prm.disk_us_max);
	if (s->now_us < n->disk_slow_until_us)
		lat += rnd_range(s, 20000, 300000);
	schedule(s, s->now_us + lat, EV_DISK, n->id, 0, job, 0);
	return 0;
}

/* ---- the network ---- */

static void print_frame(const uint8_t *frame, size_t len);

static void net_send_copy(struct sim *s, uint32_t from, uint32_t to, const uint8_t *p, size_t len)
{
	uint64_t delay = rnd_range(s, s->prm.net_delay_us_min, s->prm.net_delay_us_max);
	if (rnd_pm(s, s->prm.reorder_pm))
		delay += rnd_range(s, 1000, 100000);
	uint8_t *copy = malloc(len ? len : 1);
	need(copy != NULL);
	memcpy(copy, p, len);
	schedule(s, s->now_us + delay, EV_MSG, to, from, copy, len);
}

static int sim_transport_send(struct cons_transport *t, uint32_t node, const struct iovec *iov,
			      int iovcnt)
{
	struct simnode *from = ((struct sim_transport *)t)->node;
	struct sim *s = from->sim;
	if (node == 0 || node > (uint32_t)s->nnodes)
		return SLUICE_ENOTFOUND;
	size_t len = 0;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	uint8_t *flat = malloc(len ? len : 1);
	need(flat != NULL);
	size_t pos = 0;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(flat + pos, iov[i].iov_base, iov[i].iov_len);
		pos += iov[i].iov_len;
	}
	if (s->cut[from->id][node] || rnd_pm(s, s->prm.drop_pm)) {
		s->c.msgs_dropped++;
		if (s->verbose) {
			fprintf(stderr, "sim %8.3f dropped %u->%u kind=%u bytes=%zu%s\n",
				(double)s->now_us / 1000, from->id, node, len ? flat[0] : 0, len,
				s->cut[from->id][node] ? " (cut)" : "");
			print_frame(flat, len);
		}
	} else {
		net_send_copy(s, from->id, node, flat, len);
		if (rnd_pm(s, s->prm.dup_pm)) {
			s->c.msgs_dup++;
			net_send_copy(s, from->id, node, flat, len);
		}
	}
	free(flat);
	return 0;
}

/* ---- truth ---- */

static struct tbatch *truth_find(struct simgroup *sg, int64_t base)
{
	size_t lo = 0, hi = sg->nbatches;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (sg->batches[mid].base < base)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sg->nbatches && sg->batches[lo].base == base ? &sg->batches[lo] : NULL;
}

static struct sprop *prop_of_batch(struct sim *s, int gi, const uint8_t *p, size_t len)
{
	struct batch_header h;
	if (batch_header_decode(p, len, &h) != 0)
		return NULL;
	if (h.base_timestamp < TS_BASE || (h.base_timestamp - TS_BASE) % TS_STRIDE != 0)
		return NULL;
	uint64_t uid = (uint64_t)(h.base_timestamp - TS_BASE) / TS_STRIDE;
	if (uid >= s->nprops || s->props[uid]->gi != gi)
		return NULL;
	return s->props[uid];
}

/* Same proposal bytes, apart from BaseOffset and PartitionLeaderEpoch (outside the CRC). */
static bool prop_bytes_match(const struct sprop *pr, const uint8_t *p, size_t len)
{
	const uint8_t *q = pr->bytes->data;
	if (len != pr->bytes->len)
		return false;
	return memcmp(p + 8, q + 8, 4) == 0 && memcmp(p + 16, q + 16, len - 16) == 0;
}

/* A committed batch the truth did not have yet. */
static void truth_append(struct sim *s, int gi, const uint8_t *p, size_t len,
			 const struct batch_header *h, uint32_t node)
{
	struct simgroup *sg = &s->groups[gi];
	if (sg->nbytes + len > sg->capbytes) {
		sg->capbytes = (sg->nbytes + len) * 2;
		sg->bytes = realloc(sg->bytes, sg->capbytes);
		need(sg->bytes != NULL);
	}
	if (sg->nbatches == sg->capbatches) {
		sg->capbatches = sg->capbatches ? 2 * sg->capbatches : 64;
		sg->batches = realloc(sg->batches, sg->capbatches * sizeof(*sg->batches));
		need(sg->batches != NULL);
	}
	memcpy(sg->bytes + sg->nbytes, p, len);
	sg->batches[sg->nbatches++] = (struct tbatch){
		.base = h->base_offset,
		.last = batch_last_offset(h),
		.pos = sg->nbytes,
		.len = len,
	};
	sg->nbytes += len;
	sg->end = batch_last_offset(h) + 1;
	digest_mix(s, h->crc);
	if (h->attributes & BATCH_ATTR_CONTROL)
		return;
	s->c.committed_batches++;
	struct sprop *pr = prop_of_batch(s, gi, p, len);
	if (pr == NULL) {
		sim_fail(s, "group %d: committed data batch at %" PRId64 " (from node %u) is no "
			    "proposal of this group",
			 gi + 1, h->base_offset, node);
		return;
	}
	if (pr->committed)
		sim_fail(s, "group %d: proposal uid=%u committed twice (again at %" PRId64 ")", gi + 1,
			 pr->uid, h->base_offset);
	pr->committed = true;
	if (h->base_offset != pr->base || batch_last_offset(h) != pr->last)
		sim_fail(s, "group %d: proposal uid=%u committed at [%" PRId64 ",%" PRId64
			    "] but was assigned [%" PRId64 ",%" PRId64 "]",
			 gi + 1, pr->uid, h->base_offset, batch_last_offset(h), pr->base, pr->last);
	if (!prop_bytes_match(pr, p, len))
		sim_fail(s, "group %d: proposal uid=%u committed with other bytes", gi + 1, pr->uid);
}

/* Reads replica `r`'s committed, durable log from r->verified up to its commit offset and holds
 * it against the truth (extending the truth where this replica is ahead). */
static void verify_replica(struct sim *s, struct replica *r)
{
	struct plog *pl = cons_log(r->g);
	int64_t hw = cons_commit_offset(r->g);
	int64_t durable = plog_durable_offset(pl);
	int64_t limit = hw < durable ? hw : durable;
	struct simgroup *sg = &s->groups[r->gi];
	if (r->verified < plog_start_offset(pl) && r->verified < limit) {
		/* retention removed the prefix (checked when it was committed), or a catch-up
		 * restarted the log at the leader's start */
		if (s->prm.retention_bytes < 0)
			sim_fail(s, "node %u group %d: log starts at %" PRId64
				    " without retention; offset %" PRId64 " is committed",
				 r->node->id, r->gi + 1, plog_start_offset(pl), r->verified);
		if (plog_start_offset(pl) > limit)
			return; /* nothing committed here yet beyond the new start */
		r->verified = plog_start_offset(pl);
	}
	while (r->verified < limit && !s->failed) {
		struct plog_read_result rr = {0};
		int rv = plog_read(pl, r->verified, limit, 1u << 20, &rr);
		if (rv != 0) {
			sim_fail(s, "node %u group %d: plog_read(%" PRId64 ", hw %" PRId64
				    ") failed: %s",
				 r->node->id, r->gi + 1, r->verified, hw, err_str(rv));
			return;
		}
		if (rr.buf == NULL || rr.len == 0) {
			buf_unref(rr.buf);
			return; /* a batch straddles the limit: later */
		}
		size_t pos = 0;
		while (pos < rr.len && !s->failed) {
			struct batch_header h;
			const uint8_t *p = rr.buf->data + pos;
			if (batch_header_decode(p, rr.len - pos, &h) != 0 ||
			    batch_total_bytes(&h) > rr.len - pos) {
				sim_fail(s, "node %u group %d: undecodable batch at %" PRId64,
					 r->node->id, r->gi + 1, r->verified);
				break;
			}
			size_t len = batch_total_bytes(&h);
			if (h.base_offset != r->verified) {
				sim_fail(s, "node %u group %d: batch at %" PRId64 " where %" PRId64
					    " was expected",
					 r->node->id, r->gi + 1, h.base_offset, r->verified);
				break;
			}
			if (h.base_offset < sg->end) {
				struct tbatch *tb = truth_find(sg, h.base_offset);
				if (tb == NULL || tb->len != len ||
				    memcmp(sg->bytes + tb->pos, p, len) != 0) {
					sim_fail(s, "node %u group %d: committed batch at %" PRId64
						    " differs from the committed truth (%s)",
						 r->node->id, r->gi + 1, h.base_offset,
						 tb == NULL ? "no batch starts there" : "other bytes");
					break;
				}
			} else if (h.base_offset == sg->end) {
				truth_append(s, r->gi, p, len, &h, r->node->id);
			} else {
				sim_fail(s, "node %u group %d: committed batch at %" PRId64
					    " beyond the truth's end %" PRId64,
					 r->node->id, r->gi + 1, h.base_offset, sg->end);
				break;
			}
			r->verified = batch_last_offset(&h) + 1;
			pos += len;
		}
		buf_unref(rr.buf);
	}
	if (r->verified > r->durable_committed)
		r->durable_committed = r->verified;
}

/* ---- owner callbacks (struct cons_group_ops) ---- */

static void op_apply(void *arg, uint64_t index, const uint8_t *batch, size_t len)
{
	(void)index;
	struct replica *r = arg;
	struct sim *s = r->sim;
	struct batch_header h;
	if (batch_header_decode(batch, len, &h) != 0) {
		sim_fail(s, "node %u group %d: apply got an undecodable batch", r->node->id,
			 r->gi + 1);
		return;
	}
	if (h.base_offset < r->applied_next)
		sim_fail(s, "node %u group %d: apply at %" PRId64 " after %" PRId64 " was applied",
			 r->node->id, r->gi + 1, h.base_offset, r->applied_next);
	r->applied_next = batch_last_offset(&h) + 1;
	if (r->npend == r->cappend) {
		r->cappend = r->cappend ? 2 * r->cappend : 32;
		r->pend_base = realloc(r->pend_base, r->cappend * sizeof(*r->pend_base));
		r->pend_crc = realloc(r->pend_crc, r->cappend * sizeof(*r->pend_crc));
		need(r->pend_base && r->pend_crc);
	}
	r->pend_base[r->npend] = h.base_offset;
	r->pend_crc[r->npend++] = h.crc;
}

static void op_truncated(void *arg, int64_t offset)
{
	struct replica *r = arg;
	struct sim *s = r->sim;
	int64_t hw = r->g ? cons_commit_offset(r->g) : r->hw_seen;
	if (offset == 0 && s->prm.retention_bytes >= 0) {
		/* a catch-up found the leader's log starting beyond this replica's and restarted
		 * it there (cons.c catchup_receive): what retention deleted on the leader goes
		 * here too */
		note(s, "node %u group %d: log reset by a catch-up", r->node->id, r->gi + 1);
		s->c.log_resets++;
		r->verified = 0;
		r->durable_committed = 0;
		return;
	}
	if (offset < hw || offset < r->verified)
		sim_fail(s, "node %u group %d: log cut at %" PRId64 " below its commit offset %" PRId64
			    " (checked up to %" PRId64 ")",
			 r->node->id, r->gi + 1, offset, hw, r->verified);
	note(s, "node %u group %d truncated at %" PRId64, r->node->id, r->gi + 1, offset);
	if (offset < r->durable_committed) {
		/* Data this replica knew committed before its last restart, but does not know
		 * committed now (raft's commit index restarts from the snapshot): a snapshot
		 * install keeps only the prefix up to the current commit index and fetches the rest
		 * again. Safe as long as what comes back is the committed data (the truth check
		 * sees to that) - a majority holds everything up to the snapshot - but counted. */
		s->c.committed_refetched++;
		r->durable_committed = offset;
	}
}

static void op_failed(void *arg, const char *why)
{
	struct replica *r = arg;
	struct sim *s = r->sim;
	if (r->node->disk_faults == 0) {
		sim_fail(s, "node %u group %d stopped without a disk fault: %s", r->node->id,
			 r->gi + 1, why);
		return;
	}
	/* The owner reopens a stopped group; not from inside the callback (rlog.h). */
	note(s, "node %u group %d stopped: %s", r->node->id, r->gi + 1, why);
	s->c.group_stops++;
	if (!r->stopped) {
		r->stopped = true;
		schedule(s, s->now_us + rnd_range(s, 0, 300) * 1000, EV_REOPEN, r->node->id,
			 (uint32_t)r->gi, NULL, 0);
	}
}

/* ---- proposals ---- */

static void prop_cb(void *arg, int status, int64_t base, int64_t last)
{
	struct sprop *pr = arg;
	struct sim *s = pr->sim;
	if (s->in_propose)
		sim_fail(s, "proposal uid=%u: callback inside cons_propose", pr->uid);
	if (pr->state != PROP_OUTSTANDING) {
		sim_fail(s, "proposal uid=%u: callback ran twice (status %d)", pr->uid, status);
		return;
	}
	if (status == 0 && pr->local) {
		/* acks=1: durable on the leader when acknowledged, committed or not */
		pr->state = PROP_ACKED_LOCAL;
		s->c.acked_local++;
		struct replica *r = &s->nodes[pr->node].rep[pr->gi];
		if (s->nodes[pr->node].gen == pr->gen && r->g != NULL &&
		    plog_durable_offset(cons_log(r->g)) <= pr->last)
			sim_fail(s, "proposal uid=%u (acks=1) acknowledged at [%" PRId64 ",%" PRId64
				    "] but the leader's log is durable only below %" PRId64,
				 pr->uid, base, last, plog_durable_offset(cons_log(r->g)));
		if (base != pr->base || last != pr->last)
			sim_fail(s, "proposal uid=%u acked at [%" PRId64 ",%" PRId64
				    "], assigned [%" PRId64 ",%" PRId64 "]",
				 pr->uid, base, last, pr->base, pr->last);
	} else if (status == 0) {
		pr->state = PROP_ACKED;
		s->c.acked++;
		if (s->nunverified == s->capunverified) {
			s->capunverified = s->capunverified ? 2 * s->capunverified : 256;
			s->unverified = realloc(s->unverified,
						s->capunverified * sizeof(*s->unverified));
			need(s->unverified != NULL);
		}
		s->unverified[s->nunverified++] = pr;
		if (base != pr->base || last != pr->last)
			sim_fail(s, "proposal uid=%u acked at [%" PRId64 ",%" PRId64
				    "], assigned [%" PRId64 ",%" PRId64 "]",
				 pr->uid, base, last, pr->base, pr->last);
	} else {
		pr->state = PROP_FAILED;
		s->c.failed++;
	}
}

/* Picks a ready leader of a random group and proposes a small batch there. */
static void produce(struct sim *s)
{
	int gi = (int)rnd_range(s, 0, (uint64_t)s->ngroups - 1);
	uint32_t cand[SIM_NODES_MAX];
	int nc = 0;
	for (int i = 1; i <= s->nnodes; i++) {
		struct replica *r = &s->nodes[i].rep[gi];
		if (s->nodes[i].up && r->g != NULL && cons_is_leader(r->g))
			cand[nc++] = (uint32_t)i;
	}
	if (nc == 0)
		return;
	uint32_t ni = cand[rnd_range(s, 0, (uint64_t)nc - 1)];
	struct replica *r = &s->nodes[ni].rep[gi];
	if (s->nprops == s->capprops) {
		s->capprops = s->capprops ? 2 * s->capprops : 256;
		s->props = realloc(s->props, s->capprops * sizeof(*s->props));
		need(s->props != NULL);
	}
	struct sprop *pr = calloc(1, sizeof(*pr));
	need(pr != NULL);
	pr->sim = s;
	pr->uid = (uint32_t)s->nprops;
	pr->gi = gi;
	pr->node = ni;
	pr->gen = s->nodes[ni].gen;
	int nrec = (int)rnd_range(s, 1, s->prm.records_max);
	size_t vbytes = (size_t)rnd_range(s, 0, 64);
	pr->bytes = batchgen(nrec, vbytes, TS_BASE + (int64_t)pr->uid * TS_STRIDE,
			     (uint32_t)(s->seed * 7919u + pr->uid));
	need(pr->bytes != NULL);
	s->props[s->nprops++] = pr;
	pr->local = rnd_pm(s, 150);
	s->in_propose = true;
	int rv = cons_propose(r->g, pr->bytes->data, pr->bytes->len,
			      pr->local ? CONS_WAIT_LOCAL : CONS_WAIT_COMMIT, prop_cb, pr, &pr->base,
			      &pr->last);
	s->in_propose = false;
	s->c.proposals++;
	if (rv != 0) {
		pr->state = PROP_FAILED;
		note(s, "propose uid=%u on node %u group %d refused: %s", pr->uid, ni, gi + 1,
		     err_str(rv));
		return;
	}
	if (pr->last - pr->base != nrec - 1)
		sim_fail(s, "proposal uid=%u assigned [%" PRId64 ",%" PRId64 "] for %d records",
			 pr->uid, pr->base, pr->last, nrec);
	note(s, "propose uid=%u on node %u group %d -> [%" PRId64 ",%" PRId64 "] term %" PRIu64,
	     pr->uid, ni, gi + 1, pr->base, pr->last, cons_term(r->g));
}

/* ---- nodes ---- */

static void open_replica(struct sim *s, struct simnode *n, int gi);
static void check_shim_stats(struct sim *s, struct simnode *n, int only_gi);

static void node_open_groups(struct sim *s, struct simnode *n)
{
	struct cons_node_config cfg;
	cons_node_config_default(&cfg);
	cfg.node_id = n->id;
	cfg.fs = simfs_fs(n->fs);
	cfg.exec = &n->exec.exec;
	cfg.clock = &s->clock.clock;
	cfg.transport = &n->tr.t;
	cfg.heartbeat_ms = s->prm.heartbeat_ms;
	cfg.election_ms = s->prm.election_ms;
	cfg.tail_bytes_max = s->prm.tail_bytes_max;
	cfg.seed = rnd(s) | 1;
	need(cons_node_new(&cfg, &n->cn) == 0);
	for (int gi = 0; gi < s->ngroups; gi++)
		if (n->hosts[gi])
			open_replica(s, n, gi);
}

/* Opens (loading what is on disk) the node's replica of group `gi`. */
static void open_replica(struct sim *s, struct simnode *n, int gi)
{
	{
		struct simgroup *sg = &s->groups[gi];
		struct replica *r = &n->rep[gi];
		char dir[32], name[32], errmsg[256] = "";
		snprintf(dir, sizeof(dir), "/p%d", gi + 1);
		snprintf(name, sizeof(name), "n%u-p%d", n->id, gi + 1);
		struct cons_group_config gc = {
			.group_id = sg->id,
			.dir = dir,
			.name = name,
			.voters = sg->voters,
			.n_voters = sg->nvoters,
			.ops =
				{
					.apply = op_apply,
					.truncated = op_truncated,
					.failed = op_failed,
					.arg = r,
				},
		};
		plog_config_default(&gc.plog);
		gc.plog.segment_bytes = s->prm.segment_bytes;
		gc.plog.index_interval_bytes = 256;
		gc.plog.roll_ms = -1;
		gc.plog.retention_ms = -1;
		gc.plog.retention_bytes = s->prm.retention_bytes;
		r->hw_seen = 0;
		r->verified = 0;
		r->applied_next = 0;
		r->npend = 0;
		r->stopped = false;
		r->reopen = false;
		int rv = cons_group_open(n->cn, &gc, &r->g, errmsg);
		if (rv != 0) {
			r->g = NULL;
			if (n->disk_faults > 0 && (rv == SLUICE_EIO || rv == SLUICE_ENOSPC)) {
				/* an injected fault hit the open: try again later */
				note(s, "node %u group %d: open failed: %s (%s)", n->id, gi + 1,
				     err_str(rv), errmsg);
				r->stopped = true;
				schedule(s, s->now_us + rnd_range(s, 1, 300) * 1000, EV_REOPEN, n->id,
					 (uint32_t)gi, NULL, 0);
				return;
			}
			sim_fail(s, "node %u group %d: cons_group_open after restart: %s (%s)", n->id,
				 gi + 1, err_str(rv), errmsg);
			return;
		}
		/* What this replica had durably committed before must still be there. */
		int64_t end = plog_end_offset(cons_log(r->g));
		if (end < r->durable_committed)
			sim_fail(s, "node %u group %d: log ends at %" PRId64 " after restart; %" PRId64
				    " was committed and durable",
				 n->id, gi + 1, end, r->durable_committed);
	}
}

static void replica_closed_cb(void *arg)
{
	struct replica *r = arg;
	r->closing = false;
	r->reopen = true;
}

/* EV_REOPEN: close the stopped group through its normal path; after_step reopens it. */
static void replica_reopen(struct sim *s, struct simnode *n, int gi)
{
	struct replica *r = &n->rep[gi];
	if (!n->up || n->closing || r->closing || !r->stopped)
		return;
	s->c.reopens++;
	if (r->g == NULL) { /* the last open failed */
		r->reopen = true;
		return;
	}
	note(s, "node %u group %d: closing the stopped group", n->id, gi + 1);
	check_shim_stats(s, n, gi);
	struct cons_group *g = r->g;
	r->g = NULL;
	r->closing = true;
	cons_group_close(g, replica_closed_cb, r);
}

static bool node_has_closing_replica(struct sim *s, struct simnode *n)
{
	for (int gi = 0; gi < s->ngroups; gi++)
		if (n->rep[gi].closing)
			return true;
	return false;
}

static void node_start(struct sim *s, struct simnode *n)
{
	n->exec.exec.submit = sim_exec_submit;
	n->exec.node = n;
	n->tr.t.send = sim_transport_send;
	n->tr.node = n;
	n->up = true;
	n->gen++;
	node_open_groups(s, n);
	/* Ticks: one periodic event per incarnation, at a seeded phase. */
	schedule(s, s->now_us + rnd_range(s, 1, s->prm.heartbeat_ms * 1000u), EV_TICK, n->id, 0,
		 NULL, 0);
}

/* Orphans the proposals outstanding on `n`'s current incarnation (their callbacks never
 * come). */
static void orphan_proposals(struct sim *s, struct simnode *n)
{
	for (size_t i = 0; i < s->nprops; i++) {
		struct sprop *pr = s->props[i];
		if (pr->node == n->id && pr->gen == n->gen && pr->state == PROP_OUTSTANDING) {
			pr->state = PROP_ORPHANED;
			s->c.orphaned++;
		}
	}
}

static void shim_add(struct sim_counters *c, const struct cons_group *g)
{
	const struct shim_stats *st = cons_shim_stats(g);
	if (st == NULL)
		return;
	c->shim.barriers += st->barriers;
	c->shim.results_held += st->results_held;
	c->shim.ticks_skipped += st->ticks_skipped;
	c->shim.timeout_now_held += st->timeout_now_held;
	c->shim.clamped += st->clamped;
	c->shim.dropped_stale += st->dropped_stale;
	c->shim.dropped_role += st->dropped_role;
	c->shim.failures += st->failures;
}

/* Adds the shim counters of the node's open groups (or of group `only_gi` when >= 0) to the
 * round's, checking them. */
static void check_shim_stats(struct sim *s, struct simnode *n, int only_gi)
{
	for (int gi = 0; gi < s->ngroups; gi++) {
		struct replica *r = &n->rep[gi];
		if (r->g == NULL || (only_gi >= 0 && gi != only_gi))
			continue;
		const struct shim_stats *st = cons_shim_stats(r->g);
		if (st == NULL)
			continue;
		if (st->failures != 0 && n->disk_faults == 0)
			sim_fail(s, "node %u group %d: shim reports %" PRIu64
				    " storage failures without a disk fault",
				 n->id, gi + 1, st->failures);
		shim_add(&s->c, r->g);
	}
}

/* Power loss: every in-memory object of the node goes, unsynced data is lost or torn. */
static void node_crash(struct sim *s, struct simnode *n)
{
	note(s, "CRASH node %u", n->id);
	check_shim_stats(s, n, -1);
	orphan_proposals(s, n);
	if (n->closing || node_has_closing_replica(s, n))
		s->c.crashes_closing++;
	for (int gi = 0; gi < s->ngroups; gi++) {
		n->rep[gi].g = NULL;
		n->rep[gi].stopped = false;
		n->rep[gi].reopen = false;
		n->rep[gi].closing = false;
	}
	n->closing = false;
	n->closes_pending = 0;
	cons_node_abandon(n->cn);
	n->cn = NULL;
	simfs_crash(n->fs);
	n->up = false;
	n->gen++; /* its queued disk jobs and ticks are void */
	s->c.crashes++;
}

static void node_restart(struct sim *s, struct simnode *n)
{
	note(s, "RESTART node %u", n->id);
	node_start(s, n);
}

static void clean_close_cb(void *arg)
{
	struct simnode *n = arg;
	n->closes_pending--;
}

/* Closes the node's groups through their normal close path (the sim keeps driving its disk),
 * then reopens them: a clean restart. */
static void node_clean_restart(struct sim *s, struct simnode *n)
{
	note(s, "CLEAN RESTART node %u (closing)", n->id);
	check_shim_stats(s, n, -1);
	n->closing = true;
	n->closes_pending = 0;
	for (int gi = 0; gi < s->ngroups; gi++) {
		struct replica *r = &n->rep[gi];
		if (r->g == NULL)
			continue;
		n->closes_pending++;
		struct cons_group *g = r->g;
		r->g = NULL;
		cons_group_close(g, clean_close_cb, n);
	}
	s->c.clean_restarts++;
	/* power loss during the shutdown, while the logs write their last bytes */
	if (rnd_pm(s, 300))
		schedule(s, s->now_us + rnd_range(s, 0, 5000), EV_CRASH, n->id, 0, NULL, 0);
}

/* Called after each event touching a closing node: once its groups are closed, reopen. */
static void node_clean_restart_finish(struct sim *s, struct simnode *n)
{
	if (!n->closing || n->closes_pending > 0)
		return;
	n->closing = false;
	cons_node_free(n->cn);
	n->cn = NULL;
	n->up = false;
	n->gen++;
	note(s, "CLEAN RESTART node %u (reopening)", n->id);
	node_start(s, n);
}

/* ---- faults ---- */

static void heal_all(struct sim *s)
{
	for (int a = 1; a <= s->nnodes; a++)
		for (int b = 1; b <= s->nnodes; b++) {
			if (!s->cut[a][b])
				continue;
			s->cut[a][b] = false;
			if (s->nodes[a].up && s->nodes[a].cn && !s->nodes[a].closing)
				cons_node_link(s->nodes[a].cn, (uint32_t)b, true);
		}
	s->c.heals++;
}

static void set_link(struct sim *s, int a, int b, bool cut)
{
	s->cut[a][b] = cut;
	if (!cut && s->nodes[a].up && s->nodes[a].cn && !s->nodes[a].closing)
		cons_node_link(s->nodes[a].cn, (uint32_t)b, true);
}

static void inject_fault(struct sim *s)
{
	unsigned what = (unsigned)rnd_range(s, 0, 99);
	if (s->prm.disk_faults && rnd_pm(s, 150))
		what = 92; /* rounds with disk faults get more of them */
	int a = (int)rnd_range(s, 1, (uint64_t)s->nnodes);
	int b = (int)rnd_range(s, 1, (uint64_t)s->nnodes);
	struct simnode *n = &s->nodes[a];
	if (what < 30) {
		/* crash (also while groups are being closed), back after a while */
		if (!n->up)
			return;
		node_crash(s, n);
		uint64_t down = rnd_range(s, 0, 4000) * 1000;
		schedule(s, s->now_us + down, EV_RESTART, n->id, 0, NULL, 0);
	} else if (what < 36) {
		if (!n->up || n->closing || node_has_closing_replica(s, n))
			return;
		node_clean_restart(s, n);
	} else if (what < 56) {
		if (a == b)
			return;
		bool both = rnd_pm(s, 500);
		note(s, "CUT %d->%d%s", a, b, both ? " and back" : "");
		set_link(s, a, b, true);
		if (both)
			set_link(s, b, a, true);
		s->c.cuts++;
	} else if (what < 66) {
		note(s, "ISOLATE node %d", a);
		for (int i = 1; i <= s->nnodes; i++)
			if (i != a) {
				set_link(s, a, i, true);
				set_link(s, i, a, true);
			}
		s->c.isolations++;
	} else if (what < 74) {
		/* split into two sides at random */
		uint32_t side = (uint32_t)rnd(s);
		note(s, "SPLIT sides mask=%x", side & ((1u << (s->nnodes + 1)) - 2));
		for (int i = 1; i <= s->nnodes; i++)
			for (int j = 1; j <= s->nnodes; j++)
				if (i != j && ((side >> i) & 1) != ((side >> j) & 1))
					set_link(s, i, j, true);
		s->c.splits++;
	} else if (what < 80) {
		if (!n->up)
			return;
		note(s, "SLOW DISK node %d", a);
		n->disk_slow_until_us = s->now_us + rnd_range(s, 200, 3000) * 1000;
		s->c.slow_disks++;
	} else if (what < 87) {
		note(s, "HEAL all");
		heal_all(s);
	} else if (what < 92) {
		/* move a group's leadership (to a chosen voter or the most up-to-date one) */
		int gi = (int)rnd_range(s, 0, (uint64_t)s->ngroups - 1);
		struct simgroup *sg = &s->groups[gi];
		uint32_t target = rnd_pm(s, 300) ? 0 : sg->voters[rnd_range(s, 0, (uint64_t)sg->nvoters - 1)];
		for (int i = 1; i <= s->nnodes; i++) {
			struct replica *r = &s->nodes[i].rep[gi];
			if (!s->nodes[i].up || r->g == NULL || !cons_is_leader(r->g) || target == (uint32_t)i)
				continue;
			int rv = cons_transfer(r->g, target);
			note(s, "TRANSFER group %d from %d to %u: %s", gi + 1, i, target, err_str(rv));
			s->c.transfers++;
			break;
		}
	} else if (what < 95) {
		if (!s->prm.disk_faults || !n->up)
			return;
		static const enum simfs_op ops[] = {SIMFS_OP_WRITE, SIMFS_OP_SYNC, SIMFS_OP_TRUNCATE};
		enum simfs_op op = ops[rnd_range(s, 0, 2)];
		int nth = (int)rnd_range(s, 1, 40);
		note(s, "DISK FAULT node %d: op %d #%d fails with EIO", a, (int)op, nth);
		simfs_fail_nth(n->fs, op, nth, SLUICE_EIO);
		n->disk_faults++;
		s->c.disk_faults++;
	} else {
		if (a == b)
			return;
		note(s, "HEAL %d<->%d", a, b);
		set_link(s, a, b, false);
		set_link(s, b, a, false);
	}
}

/* ---- per-step checks ---- */

static void check_replica(struct sim *s, struct replica *r)
{
	int64_t hw = cons_commit_offset(r->g);
	if (hw < r->hw_seen)
		sim_fail(s, "node %u group %d: commit offset went back from %" PRId64 " to %" PRId64,
			 r->node->id, r->gi + 1, r->hw_seen, hw);
	if (hw > r->hw_seen) {
		r->hw_seen = hw;
		int64_t end = plog_end_offset(cons_log(r->g));
		if (hw > end)
			sim_fail(s, "node %u group %d: commit offset %" PRId64
				    " beyond the log end %" PRId64,
				 r->node->id, r->gi + 1, hw, end);
	}
	if (hw > r->verified)
		verify_replica(s, r);
	/* applied batches: each must be committed, in the truth, same CRC */
	struct simgroup *sg = &s->groups[r->gi];
	size_t k = 0;
	for (size_t i = 0; i < r->npend; i++) {
		if (r->pend_base[i] >= sg->end) {
			r->pend_base[k] = r->pend_base[i];
			r->pend_crc[k++] = r->pend_crc[i];
			continue;
		}
		struct tbatch *tb = truth_find(sg, r->pend_base[i]);
		if (tb == NULL || be32_get(sg->bytes + tb->pos + 17) != r->pend_crc[i])
			sim_fail(s, "node %u group %d: applied batch at %" PRId64
				    " is not the committed one",
				 r->node->id, r->gi + 1, r->pend_base[i]);
	}
	r->npend = k;
	/* election safety */
	if (cons_is_leader(r->g)) {
		uint64_t term = cons_term(r->g);
		if (term >= sg->nterms) {
			size_t nt = (size_t)term * 2 + 16;
			sg->leader_of_term = realloc(sg->leader_of_term, nt);
			need(sg->leader_of_term != NULL);
			memset(sg->leader_of_term + sg->nterms, 0, nt - sg->nterms);
			sg->nterms = nt;
		}
		uint8_t *l = &sg->leader_of_term[term];
		if (*l == 0) {
			*l = (uint8_t)r->node->id;
			note(s, "node %u group %d ready leader in term %" PRIu64 " hw %" PRId64,
			     r->node->id, r->gi + 1, term, hw);
		} else if (*l != r->node->id) {
			sim_fail(s, "group %d: nodes %u and %u both ready leaders in term %" PRIu64,
				 r->gi + 1, *l, r->node->id, term);
		}
	}
}

static void check_props(struct sim *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->nunverified; i++) {
		struct sprop *pr = s->unverified[i];
		struct simgroup *sg = &s->groups[pr->gi];
		if (pr->last >= sg->end) {
			s->unverified[k++] = pr;
			continue;
		}
		struct tbatch *tb = truth_find(sg, pr->base);
		if (tb == NULL || tb->last != pr->last ||
		    !prop_bytes_match(pr, sg->bytes + tb->pos, tb->len)) {
			sim_fail(s, "group %d: acknowledged proposal uid=%u [%" PRId64 ",%" PRId64
				    "] is not what was committed there",
				 pr->gi + 1, pr->uid, pr->base, pr->last);
		}
		pr->verified = true;
	}
	s->nunverified = k;
}

static void check_all(struct sim *s)
{
	for (int i = 1; i <= s->nnodes && !s->failed; i++) {
		struct simnode *n = &s->nodes[i];
		if (!n->up)
			continue;
		for (int gi = 0; gi < s->ngroups; gi++)
			if (n->rep[gi].g != NULL)
				check_replica(s, &n->rep[gi]);
	}
	check_props(s);
}

/* ---- the scheduler ---- */

/* Decodes the raft messages of a frame for SIM_TRACE. */
static void print_frame(const uint8_t *frame, size_t len)
{
	if (len < 1 || frame[0] != 1)
		return;
	const uint8_t *p = frame + 1;
	size_t off = 0, mlen;
	const uint8_t *m;
	while (rmsg_record_next(p, len - 1, &off, &m, &mlen) == 1) {
		uint64_t gid;
		struct raft_message msg;
		char err[256];
		if (rmsg_decode(m, mlen, &gid, &msg, err) != 0)
			continue;
		fprintf(stderr, "             group=%" PRIu64 " type=%d", gid, msg.type);
		if (msg.type == RAFT_IO_APPEND_ENTRIES)
			fprintf(stderr,
				" term=%" PRIu64 " prev=%" PRIu64 "/%" PRIu64
				" n=%u commit=%" PRIu64,
				(uint64_t)msg.append_entries.term,
				(uint64_t)msg.append_entries.prev_log_index,
				(uint64_t)msg.append_entries.prev_log_term,
				msg.append_entries.n_entries,
				(uint64_t)msg.append_entries.leader_commit);
		else if (msg.type == RAFT_IO_APPEND_ENTRIES_RESULT)
			fprintf(stderr, " term=%" PRIu64 " rejected=%" PRIu64
					" last=%" PRIu64,
				(uint64_t)msg.append_entries_result.term,
				(uint64_t)msg.append_entries_result.rejected,
				(uint64_t)msg.append_entries_result.last_log_index);
		else if (msg.type == RAFT_IO_REQUEST_VOTE)
			fprintf(stderr, " term=%" PRIu64 " last=%" PRIu64 "/%" PRIu64,
				(uint64_t)msg.request_vote.term,
				(uint64_t)msg.request_vote.last_log_index,
				(uint64_t)msg.request_vote.last_log_term);
		else if (msg.type == RAFT_IO_INSTALL_SNAPSHOT)
			fprintf(stderr, " term=%" PRIu64 " last=%" PRIu64 "/%" PRIu64,
				(uint64_t)msg.install_snapshot.term,
				(uint64_t)msg.install_snapshot.last_index,
				(uint64_t)msg.install_snapshot.last_term);
		fprintf(stderr, "\n");
		rmsg_release(&msg);
	}
}

static void trace_event(struct sim *s, const struct event *ev)
{
	struct trace_entry *e = trace_next(s);
	e->kind = TR_EVENT;
	e->ev = *ev;
	e->first = ev->type == EV_MSG && ev->len > 0 ? ((uint8_t *)ev->p)[0] : 0;
	digest_mix(s, ev->t_us);
	digest_mix(s, (uint64_t)ev->type << 16 | (uint64_t)ev->node << 8 | ev->peer);
	digest_mix(s, ev->len);
	if (s->verbose) {
		char line[TRACE_TEXT_BYTES + 80];
		trace_format(e, line, sizeof(line));
		fprintf(stderr, "sim %s\n", line);
		if (ev->type == EV_MSG)
			print_frame(ev->p, ev->len);
	}
}

static void set_time(struct sim *s, uint64_t t_us)
{
	if (t_us < s->now_us)
		t_us = s->now_us;
	s->now_us = t_us;
	s->clock.mono = (mono_ns_t)t_us * 1000u;
	s->clock.wall = SIM_WALL_START_MS + (wall_ms_t)(t_us / 1000);
}

static void schedule_produce(struct sim *s)
{
	schedule(s, s->now_us + rnd_range(s, 1, s->prm.produce_ms_max) * 1000, EV_PRODUCE, 0, 0,
		 NULL, 0);
}

static void schedule_fault(struct sim *s)
{
	schedule(s, s->now_us + rnd_range(s, s->prm.fault_ms_min, s->prm.fault_ms_max) * 1000,
		 EV_FAULT, 0, 0, NULL, 0);
}

static void enforce_retention(struct sim *s)
{
	for (int i = 1; i <= s->nnodes; i++) {
		struct simnode *n = &s->nodes[i];
		for (int gi = 0; gi < s->ngroups && n->up; gi++) {
			struct replica *r = &n->rep[gi];
			if (r->g == NULL)
				continue;
			int k = plog_enforce_retention(cons_log(r->g));
			s->c.segments_deleted += (uint64_t)(k > 0 ? k : 0);
		}
	}
}

/* Processes one event; returns the node it touched (0 when none). */
static uint32_t step(struct sim *s)
{
	struct event ev = pop_event(s);
	set_time(s, ev.t_us);
	s->c.events++;
	struct simnode *n = ev.node ? &s->nodes[ev.node] : NULL;
	switch (ev.type) {
	case EV_MSG:
		trace_event(s, &ev);
		s->c.msgs++;
		/* a cut link also loses what was in flight on it */
		if (n->up && n->cn != NULL && !s->cut[ev.peer][ev.node])
			cons_node_recv(n->cn, ev.peer, ev.p, ev.len);
		free(ev.p);
		return ev.node;
	case EV_DISK:
		if (ev.gen != n->gen)
			return 0; /* the node crashed: the job went with its memory */
		trace_event(s, &ev);
		s->c.disk_jobs++;
		{
			struct exec_job *job = ev.p;
			job->work(job);
			job->done(job);
		}
		return ev.node;
	case EV_TICK:
		if (ev.gen != n->gen)
			return 0;
		s->c.ticks++;
		schedule(s, s->now_us + s->prm.heartbeat_ms * 1000u, EV_TICK, ev.node, 0, NULL, 0);
		if (!n->up || n->cn == NULL || n->closing)
			return 0;
		trace_event(s, &ev);
		cons_node_tick(n->cn);
		return ev.node;
	case EV_PRODUCE:
		if (!s->producing)
			return 0;
		trace_event(s, &ev);
		produce(s);
		schedule_produce(s);
		return 0;
	case EV_FAULT:
		if (!s->chaos)
			return 0;
		trace_event(s, &ev);
		inject_fault(s);
		schedule_fault(s);
		return 0;
	case EV_RESTART:
		if (ev.gen != n->gen || n->up)
			return 0;
		trace_event(s, &ev);
		node_restart(s, n);
		return ev.node;
	case EV_REOPEN:
		if (ev.gen != n->gen)
			return 0;
		trace_event(s, &ev);
		replica_reopen(s, n, ev.peer);
		return ev.node;
	case EV_CRASH:
		if (ev.gen != n->gen || !n->up || !s->chaos)
			return 0;
		trace_event(s, &ev);
		node_crash(s, n);
		schedule(s, s->now_us + rnd_range(s, 0, 2000) * 1000, EV_RESTART, n->id, 0, NULL, 0);
		return 0;
	case EV_RETENTION:
		trace_event(s, &ev);
		enforce_retention(s);
		schedule(s, s->now_us + rnd_range(s, 100, 500) * 1000, EV_RETENTION, 0, 0, NULL, 0);
		return 0;
	}
	return 0;
}

static void after_step(struct sim *s, uint32_t node)
{
	if (node != 0 && s->nodes[node].cn != NULL)
		cons_node_flush(s->nodes[node].cn);
	for (int i = 1; i <= s->nnodes; i++) {
		struct simnode *n = &s->nodes[i];
		node_clean_restart_finish(s, n);
		for (int gi = 0; gi < s->ngroups && n->up && !n->closing; gi++)
			if (n->rep[gi].reopen) {
				note(s, "node %d group %d: reopening", i, gi + 1);
				open_replica(s, n, gi);
			}
	}
	check_all(s);
}

/* Runs events up to virtual time `until_us` (or until a violation). */
static void run_until(struct sim *s, uint64_t until_us)
{
	while (!s->failed && s->nheap > 0 && s->heap[0].t_us <= until_us) {
		if (s->c.events > ROUND_EVENTS_MAX) {
			sim_fail(s, "more than %d events in one round", ROUND_EVENTS_MAX);
			return;
		}
		after_step(s, step(s));
	}
	if (!s->failed)
		set_time(s, until_us);
}

/* True when every group has one ready leader that every replica follows, with identical logs
 * that are wholly committed and durable everywhere. */
static bool settled(struct sim *s)
{
	for (int gi = 0; gi < s->ngroups; gi++) {
		struct replica *lead = NULL;
		for (int i = 1; i <= s->nnodes; i++) {
			struct simnode *n = &s->nodes[i];
			if (!n->hosts[gi])
				continue;
			if (!n->up || n->closing || n->rep[gi].g == NULL)
				return false;
			if (cons_is_leader(n->rep[gi].g)) {
				if (lead != NULL)
					return false;
				lead = &n->rep[gi];
			}
		}
		if (lead == NULL)
			return false;
		struct plog *lp = cons_log(lead->g);
		int64_t end = plog_end_offset(lp);
		for (int i = 1; i <= s->nnodes; i++) {
			struct simnode *n = &s->nodes[i];
			if (!n->hosts[gi])
				continue;
			struct cons_group *g = n->rep[gi].g;
			struct plog *pl = cons_log(g);
			if (cons_commit_offset(g) != end || plog_end_offset(pl) != end ||
			    plog_durable_offset(pl) != end || n->rep[gi].verified != end ||
			    cons_leader(g) != lead->node->id)
				return false;
		}
	}
	return true;
}

/* ---- rounds ---- */


static void params_random(struct sim *s, struct sim_params *p)
{
	memset(p, 0, sizeof(*p));
	p->nnodes = (int)rnd_range(s, 3, 5);
	p->ngroups = (int)rnd_range(s, 2, 3);
	p->replicas = p->nnodes == 5 && rnd_pm(s, 300) ? 5 : 3;
	p->heartbeat_ms = 50;
	p->election_ms = 500;
	static const size_t tails[] = {2048, 8192, 4u << 20};
	p->tail_bytes_max = tails[rnd_range(s, 0, 2)];
	static const uint64_t segs[] = {2048, 16384, 1u << 20};
	p->segment_bytes = segs[rnd_range(s, 0, 2)];
	p->chaos_ms = rnd_range(s, 2000, 6000);
	p->net_delay_us_min = (unsigned)rnd_range(s, 100, 2000);
	p->net_delay_us_max = p->net_delay_us_min + (unsigned)rnd_range(s, 0, 30000);
	p->drop_pm = (unsigned)rnd_range(s, 0, 100);
	p->dup_pm = (unsigned)rnd_range(s, 0, 50);
	p->reorder_pm = (unsigned)rnd_range(s, 0, 50);
	p->disk_us_min = (unsigned)rnd_range(s, 50, 1000);
	p->disk_us_max = p->disk_us_min + (unsigned)rnd_range(s, 0, 10000);
	p->produce_ms_max = (unsigned)rnd_range(s, 5, 80);
	p->fault_ms_min = 100;
	p->fault_ms_max = (unsigned)rnd_range(s, 300, 2000);
	p->faults = true;
	p->torn = rnd_pm(s, 800);
	p->disk_faults = rnd_pm(s, 300);
	p->retention_bytes = -1;
	bool retention = rnd_pm(s, RETENTION_DRAWN_PM);
	int64_t retention_bytes = (int64_t)rnd_range(s, 2048, 16384);
	if ((retention && retention_mode == RETENTION_DRAWN) || retention_mode == RETENTION_ALL) {
		/* small segments, small snapshots: retention deletes, catch-ups may reset */
		p->retention_bytes = retention_bytes;
		p->segment_bytes = 2048;
		p->tail_bytes_max = 2048;
	}
	p->records_max = (unsigned)rnd_range(s, 1, 4);
}

static void sim_init(struct sim *s, uint64_t seed, const struct sim_params *override)
{
	memset(s, 0, sizeof(*s));
	s->seed = seed;
	s->rng = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
	if (s->rng == 0)
		s->rng = 1;
	s->digest = 0xcbf29ce484222325ull;
	const char *tr = getenv("SIM_TRACE");
	s->verbose = tr != NULL && *tr != '\0' && *tr != '0';
	params_random(s, &s->prm);
	if (override != NULL)
		s->prm = *override;
	clock_fake_init(&s->clock, SIM_WALL_START_MS);
	set_time(s, 0);
	s->nnodes = s->prm.nnodes;
	s->ngroups = s->prm.ngroups;
	for (int gi = 0; gi < s->ngroups; gi++) {
		struct simgroup *sg = &s->groups[gi];
		sg->id = 100 + (uint64_t)gi;
		/* a seeded choice of `replicas` distinct nodes */
		uint32_t all[SIM_NODES_MAX];
		for (int i = 0; i < s->nnodes; i++)
			all[i] = (uint32_t)i + 1;
		for (int i = s->nnodes - 1; i > 0; i--) {
			int j = (int)rnd_range(s, 0, (uint64_t)i);
			uint32_t t = all[i];
			all[i] = all[j];
			all[j] = t;
		}
		sg->nvoters = s->prm.replicas < s->nnodes ? s->prm.replicas : s->nnodes;
		memcpy(sg->voters, all, (size_t)sg->nvoters * sizeof(uint32_t));
	}
	for (int i = 1; i <= s->nnodes; i++) {
		struct simnode *n = &s->nodes[i];
		n->sim = s;
		n->id = (uint32_t)i;
		n->fs = simfs_new(rnd(s));
		need(n->fs != NULL);
		simfs_set_torn_writes(n->fs, s->prm.torn);
		for (int gi = 0; gi < s->ngroups; gi++) {
			struct replica *r = &n->rep[gi];
			r->sim = s;
			r->node = n;
			r->gi = gi;
			for (int k = 0; k < s->groups[gi].nvoters; k++)
				if (s->groups[gi].voters[k] == n->id)
					n->hosts[gi] = true;
		}
	}
	note(s, "round seed=%" PRIu64 " nodes=%d groups=%d retention=%" PRId64 " disk_faults=%d"
		" tail=%zu seg=%" PRIu64
		" chaos=%" PRIu64 "ms net=%u-%uus drop=%u dup=%u reorder=%u disk=%u-%uus torn=%d",
	     seed, s->nnodes, s->ngroups, s->prm.retention_bytes, s->prm.disk_faults,
	     s->prm.tail_bytes_max, s->prm.segment_bytes,
	     s->prm.chaos_ms, s->prm.net_delay_us_min, s->prm.net_delay_us_max, s->prm.drop_pm,
	     s->prm.dup_pm, s->prm.reorder_pm, s->prm.disk_us_min, s->prm.disk_us_max,
	     s->prm.torn);
	for (int gi = 0; gi < s->ngroups; gi++) {
		struct simgroup *sg = &s->groups[gi];
		note(s, "group %d voters %u %u %u %u %u", gi + 1, sg->voters[0],
		     sg->nvoters > 1 ? sg->voters[1] : 0, sg->nvoters > 2 ? sg->voters[2] : 0,
		     sg->nvoters > 3 ? sg->voters[3] : 0, sg->nvoters > 4 ? sg->voters[4] : 0);
	}
}

static void sim_start(struct sim *s)
{
	for (int i = 1; i <= s->nnodes; i++)
		node_start(s, &s->nodes[i]);
	s->producing = true;
	schedule_produce(s);
	if (s->prm.retention_bytes >= 0)
		schedule(s, s->now_us + 100000, EV_RETENTION, 0, 0, NULL, 0);
	if (s->prm.faults) {
		s->chaos = true;
		schedule_fault(s);
	}
}

/* Ends the chaos: everything up and connected, production stops once `produce_ms` more have
 * passed, then waits (bounded) for convergence. */
static void sim_settle(struct sim *s, uint64_t produce_ms)
{
	s->chaos = false;
	note(s, "SETTLE: heal all, restart every node, no more disk faults");
	heal_all(s);
	for (int i = 1; i <= s->nnodes; i++)
		for (int op = 0; op < SIMFS_OP__COUNT; op++)
			simfs_fail_nth(s->nodes[i].fs, (enum simfs_op)op, 0, 0);
	for (int i = 1; i <= s->nnodes; i++) {
		struct simnode *n = &s->nodes[i];
		if (!n->up && !n->closing) {
			node_restart(s, n);
			after_step(s, n->id);
		}
		n->disk_slow_until_us = 0;
	}
	uint64_t t0 = s->now_us;
	run_until(s, s->now_us + produce_ms * 1000);
	s->producing = false;
	uint64_t deadline = t0 + (uint64_t)SETTLE_MS_MAX * 1000;
	while (!s->failed && !settled(s)) {
		if (s->now_us >= deadline) {
			sim_fail(s, "no convergence %d virtual ms after healing", SETTLE_MS_MAX);
			break;
		}
		run_until(s, s->now_us + 10000);
	}
	s->c.settle_ms = (s->now_us - t0) / 1000;
	if (s->failed)
		return;
	/* Every acked proposal is in the converged logs; nothing stays unanswered on a live
	 * leader incarnation. */
	check_all(s);
	for (size_t i = 0; i < s->nprops && !s->failed; i++) {
		struct sprop *pr = s->props[i];
		if (pr->state == PROP_ACKED && !pr->verified)
			sim_fail(s, "acknowledged proposal uid=%u [%" PRId64 ",%" PRId64
				    "] of group %d missing after convergence",
				 pr->uid, pr->base, pr->last, pr->gi + 1);
		if (pr->state == PROP_OUTSTANDING && s->nodes[pr->node].gen == pr->gen)
			sim_fail(s, "proposal uid=%u on node %u still unanswered after convergence",
				 pr->uid, pr->node);
	}
	for (int i = 1; i <= s->nnodes && !s->failed; i++)
		for (int gi = 0; gi < s->ngroups; gi++) {
			struct replica *r = &s->nodes[i].rep[gi];
			if (r->g != NULL && r->npend > 0)
				sim_fail(s, "node %d group %d: %zu applied batches never committed", i,
					 gi + 1, r->npend);
		}
}

/* Frees the round. After a success the groups go through their normal close path (driven by
 * the sim's disk events); after a failure the nodes are abandoned. */
static void sim_destroy(struct sim *s)
{
	bool clean = !s->failed;
	s->producing = false;
	s->chaos = false;
	if (clean) {
		for (int i = 1; i <= s->nnodes; i++) {
			struct simnode *n = &s->nodes[i];
			if (!n->up || n->closing)
				continue;
			check_shim_stats(s, n, -1);
			n->closing = true;
			n->closes_pending = 0;
			for (int gi = 0; gi < s->ngroups; gi++) {
				struct replica *r = &n->rep[gi];
				if (r->g == NULL)
					continue;
				n->closes_pending++;
				struct cons_group *g = r->g;
				r->g = NULL;
				cons_group_close(g, clean_close_cb, n);
			}
		}
		/* drive disks until every close completed */
		for (uint64_t k = 0; k < 1000000; k++) {
			bool pending = false;
			for (int i = 1; i <= s->nnodes; i++)
				pending |= s->nodes[i].closing && s->nodes[i].closes_pending > 0;
			if (!pending || s->nheap == 0)
				break;
			struct event ev = pop_event(s);
			set_time(s, ev.t_us);
			struct simnode *n = ev.node ? &s->nodes[ev.node] : NULL;
			if (ev.type == EV_MSG) {
				free(ev.p);
			} else if (ev.type == EV_DISK && ev.gen == n->gen) {
				struct exec_job *job = ev.p;
				job->work(job);
				job->done(job);
				if (n->cn)
					cons_node_flush(n->cn);
			}
		}
		for (int i = 1; i <= s->nnodes; i++) {
			struct simnode *n = &s->nodes[i];
			if (n->closing && n->closes_pending > 0) {
				sim_fail(s, "node %d: %d groups never finished closing", i,
					 n->closes_pending);
				clean = false;
				continue;
			}
			if (n->cn != NULL) {
				cons_node_free(n->cn);
				n->cn = NULL;
			}
		}
	}
	for (int i = 1; i <= s->nnodes; i++) {
		struct simnode *n = &s->nodes[i];
		if (n->cn != NULL)
			cons_node_abandon(n->cn);
		n->cn = NULL;
		simfs_free(n->fs);
		for (int gi = 0; gi < s->ngroups; gi++) {
			free(n->rep[gi].pend_base);
			free(n->rep[gi].pend_crc);
		}
	}
	while (s->nheap > 0) {
		struct event ev = pop_event(s);
		if (ev.type == EV_MSG)
			free(ev.p);
	}
	free(s->heap);
	for (size_t i = 0; i < s->nprops; i++) {
		buf_unref(s->props[i]->bytes);
		free(s->props[i]);
	}
	free(s->props);
	free(s->unverified);
	for (int gi = 0; gi < s->ngroups; gi++) {
		free(s->groups[gi].bytes);
		free(s->groups[gi].batches);
		free(s->groups[gi].leader_of_term);
	}
}

/* Every replica's view, for a failure report. */
static void dump_state(struct sim *s, FILE *f)
{
	static const char *roles[] = {"follower", "candidate", "leader", "stopped"};
	for (int gi = 0; gi < s->ngroups; gi++) {
		fprintf(f, "sim: group %d truth end %" PRId64 "\n", gi + 1, s->groups[gi].end);
		for (int i = 1; i <= s->nnodes; i++) {
			struct simnode *n = &s->nodes[i];
			struct replica *r = &n->rep[gi];
			if (!n->hosts[gi])
				continue;
			if (r->g == NULL) {
				fprintf(f, "  node %d: %s\n", i, n->closing ? "closing" : "down");
				continue;
			}
			struct plog *pl = cons_log(r->g);
			const struct shim_stats *st = cons_shim_stats(r->g);
			fprintf(f,
				"  node %d: %s%s term %" PRIu64 " leader %u hw %" PRId64
				" end %" PRId64 " durable %" PRId64 " verified %" PRId64,
				i, roles[cons_role(r->g)], cons_is_leader(r->g) ? " (ready)" : "",
				cons_term(r->g), cons_leader(r->g), cons_commit_offset(r->g),
				plog_end_offset(pl), plog_durable_offset(pl), r->verified);
			if (st != NULL)
				fprintf(f,
					" shim: barriers %" PRIu64 " held %" PRIu64 " skipped %" PRIu64
					" tn_held %" PRIu64 " failures %" PRIu64,
					st->barriers, st->results_held, st->ticks_skipped,
					st->timeout_now_held, st->failures);
			fprintf(f, "\n");
		}
	}
}

static void report_failure(struct sim *s)
{
	fprintf(stderr, "\nsim: VIOLATION in round seed=%" PRIu64 " at t=%.3f ms: %s\n", s->seed,
		(double)s->now_us / 1000, s->failmsg);
	trace_print(s, stderr);
	dump_state(s, stderr);
	fprintf(stderr, "sim: replay with %sSIM_SEED=%" PRIu64 " (add SIM_TRACE=1 for every event)\n",
		retention_env(), s->seed);
}

/* Runs one whole round; returns true when it passed. `summary` (may be NULL) gets counters;
 * `digest` (may be NULL) the round's event digest. */
static bool run_round(uint64_t seed, const struct sim_params *override, struct sim_counters *sum,
		      uint64_t *digest)
{
	struct sim *s = calloc(1, sizeof(*s));
	ck_assert_ptr_nonnull(s);
	current_sim = s;
	sim_init(s, seed, override);
	sim_start(s);
	run_until(s, s->prm.chaos_ms * 1000);
	if (!s->failed)
		sim_settle(s, 500);
	bool ok = !s->failed;
	if (!ok)
		report_failure(s);
	else if (s->verbose)
		dump_state(s, stderr);
	if (digest != NULL)
		*digest = s->digest;
	sim_destroy(s);
	struct sim_counters c = s->c; /* destroy adds the shim counters of the closed groups */
	if (ok && s->failed) { /* closing failed */
		report_failure(s);
		ok = false;
	}
	current_sim = NULL;
	free(s);
	if (sum != NULL) {
		sum->events += c.events;
		sum->msgs += c.msgs;
		sum->msgs_dropped += c.msgs_dropped;
		sum->msgs_dup += c.msgs_dup;
		sum->disk_jobs += c.disk_jobs;
		sum->ticks += c.ticks;
		sum->crashes += c.crashes;
		sum->clean_restarts += c.clean_restarts;
		sum->cuts += c.cuts;
		sum->heals += c.heals;
		sum->isolations += c.isolations;
		sum->splits += c.splits;
		sum->slow_disks += c.slow_disks;
		sum->disk_faults += c.disk_faults;
		sum->group_stops += c.group_stops;
		sum->reopens += c.reopens;
		sum->transfers += c.transfers;
		sum->crashes_closing += c.crashes_closing;
		sum->segments_deleted += c.segments_deleted;
		sum->log_resets += c.log_resets;
		sum->proposals += c.proposals;
		sum->acked += c.acked;
		sum->acked_local += c.acked_local;
		sum->failed += c.failed;
		sum->orphaned += c.orphaned;
		sum->committed_batches += c.committed_batches;
		sum->committed_refetched += c.committed_refetched;
		sum->settle_ms = c.settle_ms > sum->settle_ms ? c.settle_ms : sum->settle_ms;
		sum->shim.barriers += c.shim.barriers;
		sum->shim.results_held += c.shim.results_held;
		sum->shim.ticks_skipped += c.shim.ticks_skipped;
		sum->shim.timeout_now_held += c.shim.timeout_now_held;
		sum->shim.clamped += c.shim.clamped;
		sum->shim.dropped_stale += c.shim.dropped_stale;
		sum->shim.dropped_role += c.shim.dropped_role;
		sum->shim.failures += c.shim.failures;
	}
	return ok;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	if (v == NULL || *v == '\0')
		return dflt;
	return strtoull(v, NULL, 0);
}

static void install_handlers(void)
{
	uint64_t rm = env_u64("SIM_RETENTION", RETENTION_DRAWN);
	retention_mode = rm == 0 ? RETENTION_NONE : rm == 1 ? RETENTION_DRAWN : RETENTION_ALL;
	slog_set_sink(slog_sink, NULL);
	slog_set_level(SLOG_INFO);
	signal(SIGABRT, crash_handler);
	signal(SIGSEGV, crash_handler);
	signal(SIGBUS, crash_handler);
	signal(SIGFPE, crash_handler);
#if SIM_SANITIZED
	__sanitizer_set_death_callback(sanitizer_death);
#endif
}

static double wall_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_summary(const char *what, uint64_t rounds, double secs,
			  const struct sim_counters *c)
{
	fprintf(stderr,
		"sim: %s: %" PRIu64 " rounds in %.1f s: %" PRIu64 " events, %" PRIu64
		" msgs (%" PRIu64 " dropped, %" PRIu64 " duplicated), %" PRIu64 " disk jobs; %" PRIu64
		" crashes (%" PRIu64 " while closing groups), %" PRIu64 " clean restarts, %" PRIu64
		" cuts, %" PRIu64
		" isolations, %" PRIu64 " splits, %" PRIu64 " slow disks, %" PRIu64
		" disk faults (%" PRIu64 " group stops, %" PRIu64 " reopens), %" PRIu64
		" transfers, %" PRIu64 " segments deleted by retention, %" PRIu64
		" catch-up log resets; %" PRIu64
		" proposals: %" PRIu64 " acked (+%" PRIu64 " acks=1), %" PRIu64 " failed, %" PRIu64
		" orphaned; %" PRIu64 " committed batches, %" PRIu64
		" committed tails refetched after a restart; longest settle %" PRIu64 " ms\n",
		what, rounds, secs, c->events, c->msgs, c->msgs_dropped, c->msgs_dup, c->disk_jobs,
		c->crashes, c->crashes_closing, c->clean_restarts, c->cuts, c->isolations, c->splits,
		c->slow_disks,
		c->disk_faults, c->group_stops, c->reopens, c->transfers, c->segments_deleted,
		c->log_resets,
		c->proposals, c->acked, c->acked_local, c->failed, c->orphaned, c->committed_batches,
		c->committed_refetched, c->settle_ms);
	fprintf(stderr,
		"sim: %s: shim: %" PRIu64 " barriers (M2), %" PRIu64 " results held (M3), %" PRIu64
		" ticks skipped and %" PRIu64 " TimeoutNow held (M4), %" PRIu64
		" clamped (M5a), %" PRIu64 " stale dropped (M5b), %" PRIu64
		" role dropped (M5c), %" PRIu64 " failures (M1)\n",
		what, c->shim.barriers, c->shim.results_held, c->shim.ticks_skipped,
		c->shim.timeout_now_held, c->shim.clamped, c->shim.dropped_stale,
		c->shim.dropped_role, c->shim.failures);
}

/* ---- tests ---- */

/* Thousands of seeded rounds of produce / crash / restart / partition on 3-5 nodes keep every
 * acknowledged and committed entry, identically on every replica. */
START_TEST(test_sim_seeded_rounds_keep_committed_data)
{
	install_handlers();
	uint64_t one = env_u64("SIM_SEED", 0);
	uint64_t first = env_u64("SIM_FIRST_SEED", 1);
	uint64_t n = one ? 1 : env_u64("SIM_SEEDS", SIM_SANITIZED ? 800 : 2000);
	bool keep_going = env_u64("SIM_KEEP_GOING", 0) != 0;
	struct sim_counters sum = {0};
	uint64_t failures = 0;
	double t0 = wall_seconds();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t seed = one ? one : first + i;
		if (!run_round(seed, NULL, &sum, NULL)) {
			failures++;
			if (!keep_going)
				ck_abort_msg("sim: seed %" PRIu64 " failed; replay with SIM_SEED=%" PRIu64,
					     seed, seed);
			fprintf(stderr, "sim: FAILED seed %" PRIu64 "\n", seed);
		}
	}
	print_summary("random rounds", n, wall_seconds() - t0, &sum);
	ck_assert_msg(failures == 0, "sim: %" PRIu64 " of %" PRIu64 " seeds failed", failures, n);
	ck_assert_uint_gt(sum.acked, 0);
	ck_assert_uint_le(sum.shim.failures, sum.group_stops);
	if (!one && n >= 100) {
		/* the faults actually happened and the mitigations were exercised */
		ck_assert_uint_gt(sum.crashes, 0);
		ck_assert_uint_gt(sum.cuts + sum.isolations + sum.splits, 0);
		ck_assert_uint_gt(sum.shim.barriers, 0);
	}
	if (!one && n >= 400 && retention_mode != RETENTION_NONE) {
		/* retention deleted segments a follower still needed, and catch-ups reset logs */
		ck_assert_uint_gt(sum.segments_deleted, 0);
		ck_assert_uint_gt(sum.log_resets, 0);
	}
}
END_TEST

/* A round replays exactly: the same seed gives the same events and the same committed logs. */
START_TEST(test_sim_same_seed_replays_the_same_events)
{
	install_handlers();
	for (uint64_t seed = 11; seed <= 13; seed++) {
		uint64_t d1 = 0, d2 = 0;
		ck_assert(run_round(seed, NULL, NULL, &d1));
		ck_assert(run_round(seed, NULL, NULL, &d2));
		ck_assert_msg(d1 == d2, "seed %" PRIu64 ": digests %" PRIx64 " and %" PRIx64, seed,
			      d1, d2);
	}
}
END_TEST

/* With 5 nodes, 5-voter groups and a minority of 2 cut off (whoever leads), the 3 others keep
 * electing, committing and acknowledging; once healed, the minority converges. */
START_TEST(test_sim_majority_commits_while_minority_partitioned)
{
	install_handlers();
	uint64_t seeds = SIM_SANITIZED ? 10 : 40;
	for (uint64_t seed = 1000; seed < 1000 + seeds; seed++) {
		struct sim *s = calloc(1, sizeof(*s));
		ck_assert_ptr_nonnull(s);
		current_sim = s;
		struct sim_params p;
		{
			/* parameters seeded like a random round, then pinned */
			struct sim tmp = {.rng = seed * 0x9E3779B97F4A7C15ull + 1};
			params_random(&tmp, &p);
		}
		p.nnodes = 5;
		p.ngroups = 2;
		p.replicas = 5;
		p.faults = false;
		p.drop_pm = 10;
		p.chaos_ms = 0;
		sim_init(s, seed, &p);
		sim_start(s);
		/* a healthy cluster first */
		run_until(s, 3000 * 1000);
		ck_assert_msg(!s->failed, "%s", s->failmsg);
		/* cut off two nodes, one of them a current leader when there is one */
		int a = 1;
		for (int i = 1; i <= s->nnodes; i++)
			if (s->nodes[i].rep[0].g && cons_is_leader(s->nodes[i].rep[0].g))
				a = i;
		int b = a % s->nnodes + 1;
		note(s, "PARTITION {%d,%d} from the rest", a, b);
		for (int i = 1; i <= s->nnodes; i++) {
			if (i == a || i == b)
				continue;
			set_link(s, a, i, true);
			set_link(s, i, a, true);
			set_link(s, b, i, true);
			set_link(s, i, b, true);
		}
		uint64_t acked_before = s->c.acked;
		int64_t hw_before[SIM_GROUPS_MAX], majority_end[SIM_GROUPS_MAX];
		for (int gi = 0; gi < s->ngroups; gi++) {
			hw_before[gi] = s->groups[gi].end;
			majority_end[gi] = 0;
			for (int i = 1; i <= s->nnodes; i++) {
				int64_t e = plog_end_offset(cons_log(s->nodes[i].rep[gi].g));
				if (i != a && i != b && e > majority_end[gi])
					majority_end[gi] = e;
			}
		}
		run_until(s, s->now_us + 8000 * 1000);
		if (s->failed)
			report_failure(s);
		ck_assert_msg(!s->failed, "seed %" PRIu64 ": %s", seed, s->failmsg);
		ck_assert_msg(s->c.acked > acked_before + 10,
			      "seed %" PRIu64 ": majority acked only %" PRIu64 " in 8 s", seed,
			      s->c.acked - acked_before);
		for (int gi = 0; gi < s->ngroups; gi++) {
			ck_assert_msg(s->groups[gi].end > hw_before[gi],
				      "seed %" PRIu64 " group %d: no commit during the partition",
				      seed, gi + 1);
			/* the minority cannot commit on its own: it may still learn that entries
			 * replicated before the cut are committed (a leader among them counts
			 * acknowledgements it had), but nothing the majority side did not hold
			 * when the links were cut */
			for (int k = 0; k < 2; k++) {
				struct replica *r = &s->nodes[k ? b : a].rep[gi];
				ck_assert_msg(cons_commit_offset(r->g) <= majority_end[gi],
					      "seed %" PRIu64 " group %d: minority node %u committed "
					      "%" PRId64 " > %" PRId64,
					      seed, gi + 1, r->node->id, cons_commit_offset(r->g),
					      majority_end[gi]);
			}
			for (int i = 1; i <= s->nnodes; i++)
				if (i != a && i != b && cons_is_leader(s->nodes[i].rep[gi].g))
					goto majority_leads;
			ck_abort_msg("seed %" PRIu64 " group %d: no ready leader in the majority",
				     seed, gi + 1);
		majority_leads:;
		}
		sim_settle(s, 200);
		if (s->failed)
			report_failure(s);
		ck_assert_msg(!s->failed, "seed %" PRIu64 ": %s", seed, s->failmsg);
		sim_destroy(s);
		ck_assert_msg(!s->failed, "seed %" PRIu64 ": %s", seed, s->failmsg);
		current_sim = NULL;
		free(s);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("rounds");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_sim_seeded_rounds_keep_committed_data);
	tcase_add_test(tc, test_sim_same_seed_replays_the_same_events);
	suite_add_tcase(s, tc);
	TCase *tp = tcase_create("partition");
	tcase_set_timeout(tp, 600);
	tcase_add_test(tp, test_sim_majority_commits_while_minority_partitioned);
	suite_add_tcase(s, tp);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
