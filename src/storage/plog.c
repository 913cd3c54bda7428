/*
 * plog: the partition log (contract in plog.h).
 *
 * Design. The loop thread owns every struct segment and all offset bookkeeping. Disk work is
 * done by "ops" that run one at a time, in the order they were queued, on the executor's worker:
 *
 *   OP_WRITE     write the batches of a run of appends (group commit), fdatasync, and on a roll
 *                sync the old segment, write its indexes and create the next segment's file
 *   OP_TRUNCATE  remove segments above a cut, shorten the cut segment, drop its stale indexes
 *   OP_DELETE    persist the new log start, then remove segments dropped by retention
 *   OP_COMPACT   pass a compactor every durable batch (pass 1), then rewrite the closed
 *                segments at the start of the log through it, one by one, oldest first: each
 *                into `<base>.log.cleaned`, fdatasync, stale indexes removed, rename over
 *                `<base>.log`, directory fsync, new indexes (pass 2)
 *   OP_CLOSE     write the active segment's indexes and close every file
 *   OP_STATE     write the state file (log start, Raft term and vote, flags)
 *   OP_RESET     write the state file with the new log start, then remove every old segment
 *   OP_WORK      run a caller's function (plog_submit_work), ordered with the rest
 *
 * The state file has one writer, this queue: OP_DELETE, OP_STATE and OP_RESET carry a copy of it.
 * A new term or vote (plog_set_raft_state) updates every such op that is queued but not started,
 * or queues an OP_STATE when there is none, so writes coalesce and never go back to an older
 * term. Two OP_STATE ops are allocated at open (at most one queued and one in flight), so
 * recording a term cannot fail for lack of memory.
 *
 * Appends are queued into the newest not-yet-started OP_WRITE, so everything that arrives while
 * one write+sync is in flight goes out in the next one. Offsets, byte positions and segment rolls
 * are decided on the loop at append time; an op carries everything its worker step needs (file
 * descriptors, positions, encoded index images), so the worker never reads loop-owned state, and
 * `fd` of a segment is written only by the op that creates the file, before any later op or the
 * loop may use it.
 *
 * A failed write rolls the file back (in the worker) to the size it had before the op, removes
 * files the op created, and then, on the loop, fails the op's appends and every append queued
 * behind it (their positions assumed the failed bytes), and resets the in-memory state to the
 * durable state. If the rollback itself fails the log is marked failed until reopened.
 *
 * A compaction's segment set is fixed when the op starts (kick), from the loop's view: the
 * closed, fully durable prefix of the log. The worker builds the rewritten segment's in-memory
 * state in a fresh struct segment (by segment_scan of the new file, which also checks it); on
 * the loop, op_done moves that state and the new fd into the loop's struct and closes the old
 * fd. Reads in between use the old fd, which still sees the old file. Crash safety is argued in
 * docs/storage.md (Compaction).
 *
 * Invariants (checked by plog_invariants in debug builds):
 *   1. segs[0..nsegs) are ordered by base offset; segs[i].next_offset == segs[i+1].base_offset.
 *   2. Only the last segment is open for appends (closed == false).
 *   3. At most one op is in flight; ops complete in queue order.
 *   4. pending_bytes is the sum of the lengths of appends whose callback has not run.
 */
#include "storage/plog.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/slog.h"
#include "storage/batch.h"
#include "storage/segment.h"
#include "storage/state.h"

#define MOD "storage"

/* One append's bytes are at most this much (a Produce request's records for one partition);
 * above it SLUICE_ETOOLARGE. */
#define PLOG_APPEND_BYTES_MAX SEGMENT_BATCH_BYTES_MAX
/* pwritev takes at most this many buffers per call; fs_posix splits larger arrays itself. */
#define OP_IOV_BATCH 256

enum op_kind { OP_WRITE, OP_TRUNCATE, OP_DELETE, OP_COMPACT, OP_CLOSE, OP_STATE, OP_RESET, OP_WORK };

/* Suffix of a segment being rewritten by compaction; such files are removed on open. */
#define CLEANED_SUFFIX ".cleaned"
/* Compaction reads segments in chunks of this size (grown for larger batches). */
#define COMPACT_READ_BYTES (1u << 20)

/* One segment of a compaction, as it was when the op started. */
struct compact_seg {
	struct segment *seg; /* the loop's struct: the worker reads only `path` (immutable) */
	int fd;
	uint64_t size;
	int64_t next_offset;
	wall_ms_t created_ms;
	bool rewrite;           /* closed: pass 2 rewrites it */
	struct segment *fresh;  /* out: the replacement's state and fd, NULL if unchanged */
};

/* A roll: the old segment's encoded indexes, written after its data is synced. */
struct plog_roll {
	int64_t base_offset;
	uint8_t *off;
	size_t off_n;
	uint8_t *time;
	size_t time_n;
	bool written;
};

struct touched {
	struct segment *seg;
	uint64_t pre_size; /* durable size when the op started, for rollback */
	bool created;      /* the op created the file */
};

struct op {
	struct exec_job job; /* first: the executor hands it back */
	struct plog *log;
	enum op_kind kind;
	struct op *next;
	int status;
	bool fatal; /* rollback failed: the log must be reopened */
	uint32_t nsyncs; /* fdatasyncs of segment files, counted by the worker */
	errmsg_t errmsg;

	/* OP_WRITE */
	struct plog_append_req *head;
	struct plog_append_req *tail;
	struct touched *touched;
	int ntouched;
	bool any_created;

	/* OP_TRUNCATE: the cut segment and its new size; OP_DELETE/OP_TRUNCATE: doomed segments */
	struct segment *cut;
	uint64_t cut_size;
	struct segment **doomed;
	int ndoomed;

	/* OP_DELETE, OP_STATE, OP_RESET: the state file to write. `state_seq` is the Raft state
	 * sequence it carries; the worker sets `state_written` once the file is durable. */
	struct pstate state;
	bool carries_state;
	bool state_written;
	uint64_t state_seq;

	/* OP_RESET */
	void (*reset_done)(void *arg, int status);
	void *reset_arg;

	/* OP_WORK */
	struct plog_work *work;
	bool skip; /* a write before it failed: do not run, complete with `status` */

	/* OP_COMPACT */
	const struct plog_compactor *compactor;
	void *compact_arg;
	plog_compact_cb compact_cb;
	struct compact_seg *csegs;
	int ncsegs;
	struct plog_compact_stats cstats;

	/* OP_CLOSE */
	int *fds;
	int nfds;
	struct plog_roll final;
	int64_t final_base;
	bool write_final;
	void (*close_cb)(void *arg);
	void *close_arg;
};

struct plog {
	char dir[PATH_MAX];
	char name[128];
	struct fs *fs;
	struct exec *exec;
	struct clock *clock;
	struct plog_config cfg;

	struct segment **segs;
	int nsegs;
	int segs_cap;

	int64_t log_start;
	uint64_t flags;    /* persisted STATE_FLAG_* */
	struct pstate pst; /* as last stored; term and vote belong to the replication layer */
	struct op *close_op; /* allocated at open so that closing cannot fail */
	uint64_t pending_bytes;
	uint64_t size_bytes; /* assigned bytes over all segments */

	struct op *ops_head; /* queued, not started */
	struct op *ops_tail;
	struct op *inflight;

	bool closing;
	bool failed;
	bool opened;    /* plog_open returned: state writes go through the op queue */
	bool sync_mode; /* run ops on the calling thread (plog_append_sync & co.) */
	errmsg_t failure;
	struct plog_stats stats;

	/* Raft state (see plog.h) */
	uint64_t state_seq;     /* last sequence handed out */
	uint64_t state_durable; /* every sequence <= it is durable */
	plog_raft_state_cb state_cb;
	void *state_arg;
	struct op *state_spare[2]; /* free OP_STATE ops */
	errmsg_t state_error;      /* why the last state write failed */

	int64_t retention_limit; /* retention keeps segments holding offsets >= it */

	void (*failed_cb)(void *arg, const char *why); /* plog_on_failed */
	void *failed_arg;
	bool failed_told;
};

static void kick(struct plog *l);
static void cancel_from(struct plog *l, int64_t offset);

/* Runs the plog_on_failed hook once, after the log stopped itself. Called last in the
 * completions that can stop it. */
static void tell_failed(struct plog *l)
{
	if (!l->failed || l->failed_told)
		return;
	l->failed_told = true;
	if (l->failed_cb != NULL)
		l->failed_cb(l->failed_arg, l->failure);
}

static struct segment *active(const struct plog *l)
{
	return l->segs[l->nsegs - 1];
}

__attribute__((unused)) static bool plog_invariants(const struct plog *l)
{
	if (l->nsegs < 1)
		return false;
	for (int i = 0; i < l->nsegs; i++) {
		const struct segment *s = l->segs[i];
		if (s->durable_next > s->next_offset || s->durable_size > s->size)
			return false;
		if (i + 1 < l->nsegs && !s->closed)
			return false;
		/* A partition needing repair may have holes: that is why it is refused. */
		if (i + 1 < l->nsegs && s->next_offset != l->segs[i + 1]->base_offset &&
		    !(l->flags & STATE_FLAG_NEEDS_REPAIR))
			return false;
	}
	return !active(l)->closed && l->log_start <= active(l)->next_offset;
}

void plog_config_default(struct plog_config *c)
{
	c->segment_bytes = (uint64_t)1 << 30;
	c->roll_ms = 7LL * 24 * 3600 * 1000;
	c->retention_ms = 7LL * 24 * 3600 * 1000;
	c->retention_bytes = -1;
	c->index_interval_bytes = 4096;
	c->pending_bytes_max = (uint64_t)64 << 20;
}

/* ---- segment list ---------------------------------------------------------------------- */

static int segs_push(struct plog *l, struct segment *s)
{
	if (l->nsegs == l->segs_cap) {
		int ncap = l->segs_cap ? l->segs_cap * 2 : 8;
		struct segment **p = realloc(l->segs, (size_t)ncap * sizeof *p);
		if (p == NULL)
			return SLUICE_ENOMEM;
		l->segs = p;
		l->segs_cap = ncap;
	}
	l->segs[l->nsegs++] = s;
	return 0;
}

/* Index of the segment holding `offset` (the last one whose base is <= offset). */
static int seg_for_offset(const struct plog *l, int64_t offset)
{
	int lo = 0, hi = l->nsegs;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (l->segs[mid]->base_offset <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? 0 : lo - 1;
}

static void recount_size(struct plog *l)
{
	l->size_bytes = 0;
	for (int i = 0; i < l->nsegs; i++)
		l->size_bytes += l->segs[i]->size;
}

/* ---- ops queue ---------------------------------------------------------------------------- */

static void op_work(struct exec_job *job);
static void op_done(struct exec_job *job);

static struct op *op_new(struct plog *l, enum op_kind kind)
{
	struct op *op = calloc(1, sizeof *op);

	if (op == NULL)
		return NULL;
	op->log = l;
	op->kind = kind;
	op->job.work = op_work;
	op->job.done = op_done;
	return op;
}

static void op_enqueue(struct plog *l, struct op *op)
{
	op->next = NULL;
	if (l->ops_tail != NULL)
		l->ops_tail->next = op;
	else
		l->ops_head = op;
	l->ops_tail = op;
	kick(l);
}

static void roll_free(struct plog_roll *r)
{
	if (r == NULL)
		return;
	free(r->off);
	free(r->time);
	free(r);
}

static void op_free(struct op *op)
{
	for (struct plog_append_req *r = op->head; r != NULL; r = r->next)
		roll_free(r->roll_before), r->roll_before = NULL;
	free(op->touched);
	free(op->doomed);
	free(op->fds);
	for (int i = 0; i < op->ncsegs; i++)
		segment_free(op->csegs[i].fresh);
	free(op->csegs);
	free(op->final.off);
	free(op->final.time);
	free(op);
}

/* ---- worker side -------------------------------------------------------------------------- */

static int flush_iov(struct plog *l, struct op *op, struct segment *seg, struct iovec *iov,
		     int *niov, uint64_t *pos)
{
	int rv;

	if (*niov == 0)
		return 0;
	rv = l->fs->pwritev(l->fs, seg->fd, iov, *niov, *pos);
	if (rv != 0) {
		errmsg_printf(op->errmsg, "%s: write at byte %" PRIu64 ": %s", seg->path, *pos,
			      err_str(rv));
		return rv;
	}
	for (int i = 0; i < *niov; i++)
		*pos += iov[i].iov_len;
	*niov = 0;
	return 0;
}

static int sync_seg(struct plog *l, struct op *op, struct segment *seg)
{
	int rv = l->fs->datasync(l->fs, seg->fd);

	op->nsyncs++;
	if (rv != 0)
		errmsg_printf(op->errmsg, "%s: fdatasync: %s", seg->path, err_str(rv));
	return rv;
}

static struct touched *touched_find(struct op *op, struct segment *seg)
{
	for (int i = 0; i < op->ntouched; i++)
		if (op->touched[i].seg == seg)
			return &op->touched[i];
	return NULL;
}

static int write_roll(struct plog *l, struct op *op, struct segment *old, struct plog_roll *roll)
{
	int rv;

	if (old != NULL && old->fd >= 0) {
		rv = sync_seg(l, op, old);
		if (rv != 0)
			return rv;
	}
	rv = segment_write_index(l->fs, l->dir, roll->base_offset, roll->off, roll->off_n,
				 roll->time, roll->time_n);
	if (rv != 0) {
		/* Indexes are rebuilt from the log when missing: not a reason to fail appends. */
		SLOG_WARN(MOD, "msg=\"index write failed; it will be rebuilt on open\" log=%s "
			       "segment=%" PRId64 " err=\"%s\"",
			  l->name, roll->base_offset, err_str(rv));
		segment_unlink_index(l->fs, l->dir, roll->base_offset);
		return 0;
	}
	roll->written = true;
	return 0;
}

static int write_work(struct plog *l, struct op *op)
{
	struct iovec iov[OP_IOV_BATCH];
	int niov = 0;
	struct segment *cur = NULL;
	uint64_t pos = 0;
	struct segment *prev_seg = NULL;
	int rv;

	for (struct plog_append_req *r = op->head; r != NULL; r = r->next) {
		if (r->roll_before != NULL) {
			if (cur != NULL) {
				rv = flush_iov(l, op, cur, iov, &niov, &pos);
				if (rv != 0)
					return rv;
			}
			rv = write_roll(l, op, prev_seg, r->roll_before);
			if (rv != 0)
				return rv;
			cur = NULL;
		}
		if (r->seg->fd < 0) {
			struct touched *t = touched_find(op, r->seg);
			rv = l->fs->open(l->fs, r->seg->path, FS_OPEN_CREATE | FS_OPEN_TRUNC,
					 &r->seg->fd);
			if (rv != 0) {
				errmsg_printf(op->errmsg, "%s: create: %s", r->seg->path,
					      err_str(rv));
				return rv;
			}
			assert(t != NULL);
			t->created = true;
			op->any_created = true;
		}
		if (r->seg != cur || pos != r->pos || niov == OP_IOV_BATCH) {
			if (cur != NULL) {
				rv = flush_iov(l, op, cur, iov, &niov, &pos);
				if (rv != 0)
					return rv;
				if (r->seg != cur) {
					rv = sync_seg(l, op, cur);
					if (rv != 0)
						return rv;
				}
			}
			cur = r->seg;
			pos = r->pos;
		}
		iov[niov].iov_base = r->bytes;
		iov[niov].iov_len = r->len;
		niov++;
		prev_seg = r->seg;
	}
	if (cur != NULL) {
		rv = flush_iov(l, op, cur, iov, &niov, &pos);
		if (rv != 0)
			return rv;
		rv = sync_seg(l, op, cur);
		if (rv != 0)
			return rv;
	}
	if (op->any_created) {
		rv = l->fs->sync_dir(l->fs, l->dir);
		if (rv != 0) {
			errmsg_printf(op->errmsg, "%s: directory fsync: %s", l->dir, err_str(rv));
			return rv;
		}
	}
	return 0;
}

/* Undo a failed write: files back to their pre-op sizes, created files removed. */
static void write_rollback(struct plog *l, struct op *op)
{
	int rv;

	for (struct plog_append_req *r = op->head; r != NULL; r = r->next)
		if (r->roll_before != NULL && r->roll_before->written)
			segment_unlink_index(l->fs, l->dir, r->roll_before->base_offset);
	for (int i = 0; i < op->ntouched; i++) {
		struct touched *t = &op->touched[i];
		if (t->seg->fd < 0)
			continue;
		if (t->created) {
			l->fs->close(l->fs, t->seg->fd);
			t->seg->fd = -1;
			rv = l->fs->unlink(l->fs, t->seg->path);
			if (rv != 0 && rv != SLUICE_ENOTFOUND)
				op->fatal = true;
			continue;
		}
		rv = l->fs->truncate(l->fs, t->seg->fd, t->pre_size);
		if (rv == 0)
			rv = l->fs->datasync(l->fs, t->seg->fd);
		if (rv != 0)
			op->fatal = true;
	}
	l->fs->sync_dir(l->fs, l->dir);
}

static int unlink_segment_files(struct plog *l, struct segment *s)
{
	int rv;

	if (s->fd >= 0) {
		l->fs->close(l->fs, s->fd);
		s->fd = -1;
	}
	rv = l->fs->unlink(l->fs, s->path);
	if (rv != 0 && rv != SLUICE_ENOTFOUND)
		return rv;
	return segment_unlink_index(l->fs, l->dir, s->base_offset);
}

static int truncate_work(struct plog *l, struct op *op)
{
	uint64_t size;
	int rv;

	for (int i = 0; i < op->ndoomed; i++) {
		rv = unlink_segment_files(l, op->doomed[i]);
		if (rv != 0) {
			errmsg_printf(op->errmsg, "%s: remove: %s", op->doomed[i]->path,
				      err_str(rv));
			return rv;
		}
	}
	/* A cut segment that a failed write had created is already gone (forget_segment). */
	if (op->cut == NULL)
		return l->fs->sync_dir(l->fs, l->dir);
	/* The cut segment's indexes describe bytes that are going away. */
	rv = segment_unlink_index(l->fs, l->dir, op->cut->base_offset);
	if (rv == 0)
		rv = l->fs->sync_dir(l->fs, l->dir);
	if (rv != 0) {
		errmsg_printf(op->errmsg, "%s: removing stale index: %s", op->cut->path,
			      err_str(rv));
		return rv;
	}
	if (op->cut->fd < 0)
		return 0;
	rv = l->fs->size(l->fs, op->cut->fd, &size);
	if (rv == 0 && size > op->cut_size) {
		rv = l->fs->truncate(l->fs, op->cut->fd, op->cut_size);
		if (rv == 0)
			rv = l->fs->datasync(l->fs, op->cut->fd);
	}
	if (rv != 0)
		errmsg_printf(op->errmsg, "%s: truncate to %" PRIu64 ": %s", op->cut->path,
			      op->cut_size, err_str(rv));
	return rv;
}

static int delete_work(struct plog *l, struct op *op)
{
	int rv;

	/* The new log start is durable before any file goes, so a crash in between cannot move
	 * it back; on open, segments wholly below it are removed. */
	rv = pstate_store(l->fs, l->dir, &op->state, op->errmsg);
	if (rv != 0)
		return rv;
	op->state_written = true;
	for (int i = 0; i < op->ndoomed; i++) {
		rv = unlink_segment_files(l, op->doomed[i]);
		if (rv != 0) {
			errmsg_printf(op->errmsg, "%s: remove: %s", op->doomed[i]->path,
				      err_str(rv));
			return rv;
		}
	}
	return l->fs->sync_dir(l->fs, l->dir);
}

static int state_work(struct plog *l, struct op *op)
{
	int rv = pstate_store(l->fs, l->dir, &op->state, op->errmsg);

	op->state_written = rv == 0;
	return rv;
}

/* A reset: the new log start is durable before any old segment goes, and the old segments go
 * oldest first, so a crash leaves an empty log at the new start or a suffix of the old log (open
 * removes the segments wholly below the persisted start), never a log with a hole. */
static int reset_work(struct plog *l, struct op *op)
{
	int rv = pstate_store(l->fs, l->dir, &op->state, op->errmsg);

	if (rv != 0)
		return rv;
	op->state_written = true;
	for (int i = 0; i < op->ndoomed; i++) {
		rv = unlink_segment_files(l, op->doomed[i]);
		if (rv != 0) {
			errmsg_printf(op->errmsg, "%s: remove: %s", op->doomed[i]->path,
				      err_str(rv));
			return rv;
		}
	}
	rv = l->fs->sync_dir(l->fs, l->dir);
	if (rv != 0)
		errmsg_printf(op->errmsg, "%s: directory fsync: %s", l->dir, err_str(rv));
	return rv;
}

static int close_work(struct plog *l, struct op *op)
{
	int rv = 0;

	if (op->write_final)
		rv = segment_write_index(l->fs, l->dir, op->final_base, op->final.off,
					 op->final.off_n, op->final.time, op->final.time_n);
	if (rv != 0)
		errmsg_printf(op->errmsg, "writing indexes of segment %" PRId64 ": %s",
			      op->final_base, err_str(rv));
	for (int i = 0; i < op->nfds; i++)
		l->fs->close(l->fs, op->fds[i]);
	return rv;
}

/* Reads the batches of one segment file in order, in chunks. */
struct batch_reader {
	struct fs *fs;
	int fd;
	uint64_t end;     /* durable size when the op started */
	uint64_t pos;     /* file position of the next batch */
	uint64_t buf_pos; /* file position of buf[0] */
	uint8_t *buf;
	size_t len;
	size_t cap;
};

/* Returns 1 with the next whole batch (CRC checked) at *p (`*n` bytes, valid until the next
 * call) and its position in *at, 0 at the end, or a negative code (SLUICE_ECORRUPT for a batch
 * that does not check out; the caller names the file). */
static int reader_next(struct batch_reader *r, const uint8_t **p, size_t *n, uint64_t *at,
		       struct batch_header *h)
{
	size_t off, total;

	if (r->pos >= r->end)
		return 0;
	if (r->end - r->pos < BATCH_HEADER_BYTES)
		return SLUICE_ECORRUPT;
	/* At most three looks: the header may be missing, then the rest of a batch above cap. */
	for (int round = 0; round < 3; round++) {
		off = (size_t)(r->pos - r->buf_pos);
		total = BATCH_HEADER_BYTES;
		if (r->len - off >= BATCH_HEADER_BYTES) {
			if (batch_header_decode(r->buf + off, r->len - off, h) != 0)
				return SLUICE_ECORRUPT;
			total = batch_total_bytes(h);
			if (total > SEGMENT_BATCH_BYTES_MAX || total > r->end - r->pos)
				return SLUICE_ECORRUPT;
			if (r->len - off >= total)
				break;
		}
		/* Refill from r->pos with room for at least this batch. */
		memmove(r->buf, r->buf + off, r->len - off);
		r->len -= off;
		r->buf_pos = r->pos;
		if (total > r->cap) {
			uint8_t *nb = realloc(r->buf, total);
			if (nb == NULL)
				return SLUICE_ENOMEM;
			r->buf = nb;
			r->cap = total;
		}
		while (r->len < total) {
			size_t want = r->cap - r->len;
			if (want > r->end - (r->buf_pos + r->len))
				want = (size_t)(r->end - (r->buf_pos + r->len));
			ssize_t got = r->fs->pread(r->fs, r->fd, r->buf + r->len, want,
						   r->buf_pos + r->len);
			if (got < 0)
				return (int)got;
			if (got == 0)
				return SLUICE_ECORRUPT;
			r->len += (size_t)got;
		}
		if (round == 2)
			return SLUICE_ECORRUPT; /* unreachable: the refill read the whole batch */
	}
	off = (size_t)(r->pos - r->buf_pos);
	if (!batch_crc_ok(r->buf + off, total))
		return SLUICE_ECORRUPT;
	*p = r->buf + off;
	*n = total;
	*at = r->pos;
	r->pos += total;
	return 1;
}

static int reader_init(struct batch_reader *r, struct fs *fs, int fd, uint64_t end)
{
	memset(r, 0, sizeof *r);
	r->fs = fs;
	r->fd = fd;
	r->end = end;
	r->cap = COMPACT_READ_BYTES;
	r->buf = malloc(r->cap);
	return r->buf != NULL ? 0 : SLUICE_ENOMEM;
}

/* Checks that the compactor's output for the batch `h` keeps what the log's recovery relies on:
 * one whole batch with the same BaseOffset and LastOffsetDelta and a valid CRC. */
static bool rewrite_ok(const struct batch_header *h, const struct wbuf *out)
{
	struct batch_header nh;

	if (out->oom || batch_header_decode(out->data, out->len, &nh) != 0)
		return false;
	return batch_total_bytes(&nh) == out->len && nh.base_offset == h->base_offset &&
	       nh.last_offset_delta == h->last_offset_delta && batch_crc_ok(out->data, out->len);
}

/* Copies bytes [0, n) of `from` to the start of `to`. */
static int copy_prefix(struct plog *l, int from, int to, uint64_t n)
{
	size_t cap = COMPACT_READ_BYTES;
	uint8_t *b = malloc(cap);
	uint64_t at = 0;
	int rv = 0;

	if (b == NULL)
		return SLUICE_ENOMEM;
	while (at < n && rv == 0) {
		size_t want = n - at < cap ? (size_t)(n - at) : cap;
		ssize_t got = l->fs->pread(l->fs, from, b, want, at);
		if (got <= 0) {
			rv = got < 0 ? (int)got : SLUICE_EIO;
			break;
		}
		struct iovec iov = {.iov_base = b, .iov_len = (size_t)got};
		rv = l->fs->pwritev(l->fs, to, &iov, 1, at);
		at += (size_t)got;
	}
	free(b);
	return rv;
}

/* Pass 2 for one closed segment: writes the compactor's output to `<base>.log.cleaned` once the
 * first batch changes (a segment nothing is removed from is not rewritten), then makes it the
 * segment (see the design note). Fills cs->fresh when the segment was replaced. */
static int compact_segment(struct plog *l, struct op *op, struct compact_seg *cs)
{
	const struct plog_compactor *c = op->compactor;
	struct batch_reader r;
	struct wbuf out = {0};
	struct segment *fresh = NULL;
	struct segment_scan_stop stop = {0};
	char cpath[PATH_MAX + sizeof CLEANED_SUFFIX];
	const uint8_t *p;
	size_t n;
	uint64_t at, wpos = 0;
	struct batch_header h;
	int cfd = -1, rv;
	uint8_t *off = NULL, *time = NULL;
	size_t off_n, time_n;

	snprintf(cpath, sizeof cpath, "%s%s", cs->seg->path, CLEANED_SUFFIX);
	rv = reader_init(&r, l->fs, cs->fd, cs->size);
	if (rv != 0)
		return rv;
	while ((rv = reader_next(&r, &p, &n, &at, &h)) == 1) {
		out.len = 0;
		rv = c->rewrite(op->compact_arg, p, n, &out);
		if (rv == 0 && !rewrite_ok(&h, &out))
			rv = out.oom ? SLUICE_ENOMEM : SLUICE_EINVAL;
		if (rv != 0) {
			errmsg_printf(op->errmsg, "%s: compactor failed on the batch at offset %" PRId64
						  ": %s",
				      cs->seg->path, h.base_offset, err_str(rv));
			goto err_cleanup;
		}
		if (cfd < 0 && out.len == n && memcmp(out.data, p, n) == 0)
			continue; /* unchanged so far: nothing to write yet */
		if (cfd < 0) {
			rv = l->fs->open(l->fs, cpath, FS_OPEN_CREATE | FS_OPEN_TRUNC, &cfd);
			if (rv == 0)
				rv = copy_prefix(l, cs->fd, cfd, at);
			if (rv != 0)
				goto err_io;
			wpos = at;
		}
		struct iovec iov = {.iov_base = out.data, .iov_len = out.len};
		rv = l->fs->pwritev(l->fs, cfd, &iov, 1, wpos);
		if (rv != 0)
			goto err_io;
		wpos += out.len;
		if (wpos > SEGMENT_BYTES_MAX) {
			rv = SLUICE_ETOOLARGE;
			goto err_io;
		}
	}
	if (rv != 0) {
		errmsg_printf(op->errmsg, "%s: reading for compaction at byte %" PRIu64 ": %s",
			      cs->seg->path, r.pos, err_str(rv));
		goto err_cleanup;
	}
	if (cfd < 0)
		goto out; /* nothing removed from this segment */
	rv = l->fs->datasync(l->fs, cfd);
	op->nsyncs++;
	if (rv != 0)
		goto err_io;
	/* The new file's in-memory state, built (and its every batch checked) before it is used. */
	fresh = segment_new(l->dir, cs->seg->base_offset, cs->created_ms);
	if (fresh == NULL) {
		rv = SLUICE_ENOMEM;
		goto err_io;
	}
	fresh->fd = cfd;
	rv = segment_scan(l->fs, fresh, 0, wpos, l->cfg.index_interval_bytes, &stop);
	if (rv == 0 && (fresh->size != wpos || fresh->next_offset != cs->next_offset))
		rv = SLUICE_ECORRUPT;
	if (rv == 0)
		rv = segment_encode_index(fresh, &off, &off_n, &time, &time_n);
	if (rv != 0)
		goto err_io;
	/* Stale indexes go (durably) before the new file takes the name: no crash can leave them
	 * describing it. Without indexes the old file is still whole; they are rebuilt on open. */
	rv = segment_unlink_index(l->fs, l->dir, cs->seg->base_offset);
	if (rv == 0)
		rv = l->fs->sync_dir(l->fs, l->dir);
	if (rv == 0)
		rv = l->fs->rename(l->fs, cpath, cs->seg->path);
	if (rv != 0)
		goto err_io;
	/* From here the name holds the new file: the loop must switch to it whatever follows. */
	fresh->durable_size = fresh->size;
	fresh->durable_next = fresh->next_offset;
	fresh->closed = true;
	cs->fresh = fresh;
	op->cstats.segments_rewritten++;
	op->cstats.bytes_before += cs->size;
	op->cstats.bytes_after += wpos;
	rv = l->fs->sync_dir(l->fs, l->dir);
	if (rv != 0) {
		errmsg_printf(op->errmsg, "%s: directory fsync after compaction: %s", l->dir,
			      err_str(rv));
		goto out;
	}
	if (segment_write_index(l->fs, l->dir, cs->seg->base_offset, off, off_n, time,
				time_n) != 0) {
		/* Rebuilt from the log on the next open. */
		SLOG_WARN(MOD, "msg=\"index write after compaction failed; it will be rebuilt on "
			       "open\" file=%s",
			  cs->seg->path);
		segment_unlink_index(l->fs, l->dir, cs->seg->base_offset);
	}
	goto out;

err_io:
	errmsg_printf(op->errmsg, "%s: compaction: %s", cpath, err_str(rv));
err_cleanup:
	if (cfd >= 0) {
		l->fs->close(l->fs, cfd);
		l->fs->unlink(l->fs, cpath);
	}
	segment_free(fresh);
out:
	free(off);
	free(time);
	wbuf_free(&out);
	free(r.buf);
	return rv;
}

static int compact_work(struct plog *l, struct op *op)
{
	struct batch_reader r;
	const uint8_t *p;
	size_t n;
	uint64_t at;
	struct batch_header h;
	int rv = 0;

	/* Pass 1: the compactor sees every durable batch, oldest first. */
	for (int i = 0; i < op->ncsegs && rv == 0; i++) {
		struct compact_seg *cs = &op->csegs[i];
		if (cs->fd < 0 || cs->size == 0)
			continue;
		rv = reader_init(&r, l->fs, cs->fd, cs->size);
		if (rv != 0)
			return rv;
		while ((rv = reader_next(&r, &p, &n, &at, &h)) == 1) {
			rv = op->compactor->scan(op->compact_arg, p, n);
			if (rv != 0)
				break;
		}
		if (rv != 0)
			errmsg_printf(op->errmsg, "%s: compaction scan at byte %" PRIu64 ": %s",
				      cs->seg->path, r.pos, err_str(rv));
		free(r.buf);
	}
	/* Pass 2: oldest first, stopping at the first failure. The order matters for tombstones:
	 * a record a tombstone shadows lies in the same or an earlier segment, so by the time a
	 * tombstone's segment is replaced every record it shadows is gone for good. */
	for (int i = 0; i < op->ncsegs && rv == 0; i++)
		if (op->csegs[i].rewrite)
			rv = compact_segment(l, op, &op->csegs[i]);
	return rv;
}

static void op_work(struct exec_job *job)
{
	struct op *op = (struct op *)job;
	struct plog *l = op->log;

	switch (op->kind) {
	case OP_WRITE:
		op->status = write_work(l, op);
		if (op->status != 0)
			write_rollback(l, op);
		break;
	case OP_TRUNCATE:
		op->status = truncate_work(l, op);
		break;
	case OP_DELETE:
		op->status = delete_work(l, op);
		break;
	case OP_COMPACT:
		op->status = compact_work(l, op);
		break;
	case OP_CLOSE:
		op->status = close_work(l, op);
		break;
	case OP_STATE:
		op->status = state_work(l, op);
		break;
	case OP_RESET:
		op->status = reset_work(l, op);
		break;
	case OP_WORK:
		if (!op->skip)
			op->work->work(op->work);
		break;
	}
}

/* ---- loop side: completion ---------------------------------------------------------------- */

/* Recomputes a segment's largest timestamp from its durable batches. */
static void recompute_max_ts(struct plog *l, struct segment *s)
{
	uint64_t pos = 0;
	uint8_t hdr[BATCH_HEADER_BYTES];
	struct batch_header h;

	s->max_timestamp = -1;
	s->max_ts_offset = -1;
	while (pos + BATCH_HEADER_BYTES <= s->durable_size) {
		ssize_t got = l->fs->pread(l->fs, s->fd, hdr, sizeof hdr, pos);
		if (got != (ssize_t)sizeof hdr || batch_header_decode(hdr, sizeof hdr, &h) != 0)
			break;
		if (h.max_timestamp > s->max_timestamp) {
			s->max_timestamp = h.max_timestamp;
			s->max_ts_offset = h.base_offset;
		}
		pos += batch_total_bytes(&h);
	}
}

/* Resets every segment's assigned state to its durable state after a failed write, dropping
 * segments the failed op created. */
/* Frees a segment that only a failed write had created, first removing every reference a
 * queued op holds to it (a truncation or reset queued behind the failed write may name it; its
 * file is already gone). */
static void forget_segment(struct plog *l, struct segment *seg)
{
	for (struct op *q = l->ops_head; q != NULL; q = q->next) {
		if (q->cut == seg)
			q->cut = NULL;
		for (int i = 0; i < q->ndoomed;) {
			if (q->doomed[i] == seg) {
				memmove(&q->doomed[i], &q->doomed[i + 1],
					(size_t)(q->ndoomed - i - 1) * sizeof *q->doomed);
				q->ndoomed--;
			} else {
				i++;
			}
		}
	}
	segment_free(seg);
}

static void reset_to_durable(struct plog *l, struct op *op)
{
	for (int i = 0; i < op->ntouched; i++) {
		struct touched *t = &op->touched[i];
		if (t->created || t->seg->fd < 0) {
			/* Created (and removed again) by this op: forget it unless it is the only
			 * segment, which then stays as an empty active segment. */
			for (int j = 0; j < l->nsegs; j++) {
				if (l->segs[j] == t->seg && l->nsegs > 1 && j > 0) {
					memmove(&l->segs[j], &l->segs[j + 1],
						(size_t)(l->nsegs - j - 1) * sizeof *l->segs);
					l->nsegs--;
					forget_segment(l, t->seg);
					t->seg = NULL;
					break;
				}
			}
		}
	}
	/* Drop any further segments that only queued appends had opened. */
	while (l->nsegs > 1 && active(l)->durable_size == 0 && active(l)->fd < 0) {
		forget_segment(l, active(l));
		l->nsegs--;
	}
	for (int i = 0; i < l->nsegs; i++) {
		struct segment *s = l->segs[i];
		if (s->size != s->durable_size || s->next_offset != s->durable_next) {
			if (segment_cut(s, s->durable_size, s->durable_next))
				recompute_max_ts(l, s);
		}
	}
	active(l)->closed = false;
	recount_size(l);
}

static void finish_reqs(struct plog_append_req *head, int status, struct plog *l)
{
	while (head != NULL) {
		struct plog_append_req *r = head;
		head = r->next;
		r->next = NULL;
		if (l != NULL)
			l->pending_bytes -= r->len;
		buf_unref(r->buf);
		r->buf = NULL;
		r->cb(r, r->canceled ? SLUICE_ECANCELED : status);
	}
}

static void write_done(struct plog *l, struct op *op)
{
	struct plog_append_req *failed = NULL, **failed_tail = &failed;

	if (op->status == 0) {
		l->stats.writes++;
		for (struct plog_append_req *r = op->head; r != NULL; r = r->next) {
			if (r->canceled)
				continue;
			if (r->pos + r->len > r->seg->durable_size)
				r->seg->durable_size = r->pos + r->len;
			if (r->last_offset + 1 > r->seg->durable_next)
				r->seg->durable_next = r->last_offset + 1;
		}
		struct plog_append_req *head = op->head;
		op->head = NULL;
		/* Roll images are freed with the op; detach them from the requests first. */
		for (struct plog_append_req *r = head; r != NULL; r = r->next)
			roll_free(r->roll_before), r->roll_before = NULL;
		op_free(op);
		kick(l);
		finish_reqs(head, 0, l);
		return;
	}

	l->stats.failures++;
	SLOG_ERROR(MOD, "msg=\"append failed; queued appends fail too\" log=%s err=\"%s\"", l->name,
		   op->errmsg);
	if (op->fatal) {
		l->failed = true;
		errmsg_printf(l->failure, "%s (rollback failed; reopen to recover)", op->errmsg);
		SLOG_ERROR(MOD, "msg=\"log stopped: could not roll back a failed write\" log=%s",
			   l->name);
	}
	/* Fail this op's appends and every queued write behind it. */
	*failed_tail = op->head;
	while (*failed_tail != NULL)
		failed_tail = &(*failed_tail)->next;
	op->head = NULL;
	for (struct op **pp = &l->ops_head; *pp != NULL;) {
		struct op *q = *pp;
		if (q->kind == OP_WORK && !q->skip) {
			/* Work ordered after these appends must not run as if they were durable. */
			q->skip = true;
			q->status = op->status;
		}
		if (q->kind != OP_WRITE) {
			pp = &q->next;
			continue;
		}
		*failed_tail = q->head;
		while (*failed_tail != NULL)
			failed_tail = &(*failed_tail)->next;
		q->head = NULL;
		*pp = q->next;
		if (l->ops_tail == q)
			l->ops_tail = NULL;
		op_free(q);
	}
	if (l->ops_tail == NULL) /* recompute the tail after removals */
		for (struct op *q = l->ops_head; q != NULL; q = q->next)
			l->ops_tail = q;
	for (struct plog_append_req *r = failed; r != NULL; r = r->next)
		roll_free(r->roll_before), r->roll_before = NULL;
	reset_to_durable(l, op);
	int status = op->status;
	op_free(op);
	assert(plog_invariants(l));
	kick(l);
	finish_reqs(failed, status, l);
	tell_failed(l);
}

static bool seg_in_log(const struct plog *l, const struct segment *s)
{
	for (int i = 0; i < l->nsegs; i++)
		if (l->segs[i] == s)
			return true;
	return false;
}

/* Switches each rewritten segment to its new file and state. A segment that retention removed
 * meanwhile keeps its old fd (the queued deletion closes it) and the new one is closed here. */
static void compact_done(struct plog *l, struct op *op)
{
	plog_compact_cb cb = op->compact_cb;
	void *arg = op->compact_arg;
	struct plog_compact_stats st = op->cstats;
	int status = op->status;

	for (int i = 0; i < op->ncsegs; i++) {
		struct compact_seg *cs = &op->csegs[i];
		struct segment *s = cs->seg, *fresh = cs->fresh;
		struct index ix;
		int old_fd;
		if (fresh == NULL)
			continue;
		if (!seg_in_log(l, s)) {
			l->fs->close(l->fs, fresh->fd);
			continue;
		}
		/* plog_truncate refuses to cut a segment under compaction, and appends go only to
		 * the active segment, so the segment is as it was when the op started. */
		assert(s->closed && s->size == cs->size && s->next_offset == fresh->next_offset);
		old_fd = s->fd;
		s->fd = fresh->fd;
		ix = s->ix;
		s->ix = fresh->ix;
		fresh->ix = ix;
		s->size = s->durable_size = fresh->size;
		s->max_timestamp = fresh->max_timestamp;
		s->max_ts_offset = fresh->max_ts_offset;
		s->bytes_since_off_entry = fresh->bytes_since_off_entry;
		s->bytes_since_time_entry = fresh->bytes_since_time_entry;
		l->fs->close(l->fs, old_fd);
	}
	recount_size(l);
	if (status != 0)
		SLOG_ERROR(MOD, "msg=\"compaction failed\" log=%s err=\"%s\"", l->name, op->errmsg);
	else if (st.segments_rewritten > 0)
		SLOG_INFO(MOD, "msg=\"compacted\" log=%s segments=%d bytes_before=%" PRIu64
			       " bytes_after=%" PRIu64,
			  l->name, st.segments_rewritten, st.bytes_before, st.bytes_after);
	l->stats.compactions++;
	op_free(op);
	assert(plog_invariants(l));
	kick(l);
	cb(arg, status, &st);
}

/* ---- Raft state ---------------------------------------------------------------------------- */

static struct op *state_op_get(struct plog *l)
{
	for (int i = 0; i < 2; i++) {
		struct op *op = l->state_spare[i];
		if (op != NULL) {
			l->state_spare[i] = NULL;
			memset(op, 0, sizeof *op);
			op->log = l;
			op->kind = OP_STATE;
			op->job.work = op_work;
			op->job.done = op_done;
			return op;
		}
	}
	return NULL;
}

static void state_op_put(struct plog *l, struct op *op)
{
	for (int i = 0; i < 2; i++) {
		if (l->state_spare[i] == NULL) {
			l->state_spare[i] = op;
			return;
		}
	}
	assert(0 && "more OP_STATE ops than allocated");
	op_free(op);
}

/* Brings the next state-file write up to date with l->pst: every queued (not started) op that
 * writes the state file gets the latest term, vote and flags (their log start stays theirs:
 * any later change of it is queued behind them); if none is queued, an OP_STATE is. */
static void queue_state_write(struct plog *l)
{
	bool queued = false;
	struct op *op;

	for (op = l->ops_head; op != NULL; op = op->next) {
		if (!op->carries_state)
			continue;
		op->state.term = l->pst.term;
		op->state.vote = l->pst.vote;
		op->state.flags |= l->pst.flags;
		op->state_seq = l->state_seq;
		queued = true;
	}
	if (queued || l->closing)
		return;
	op = state_op_get(l);
	/* At most one OP_STATE is queued (this function queues one only when none is) and one is
	 * in flight, so a spare is always there. */
	assert(op != NULL);
	op->state = l->pst;
	op->state.log_start_offset = l->log_start;
	op->state.flags = l->flags;
	op->carries_state = true;
	op->state_seq = l->state_seq;
	op_enqueue(l, op);
}

/* Runs last in op_done for an op that carried the state file: advances the durable sequence and
 * tells the hook, or reports a failed write that carried a sequence not yet durable. */
static void state_report(struct plog *l, bool written, uint64_t seq, int status)
{
	if (seq <= l->state_durable)
		return;
	if (written) {
		l->state_durable = seq;
		status = 0;
	} else if (status == 0) {
		return;
	}
	if (l->state_cb != NULL)
		l->state_cb(l->state_arg, l->state_durable, status);
}

static void op_done(struct exec_job *job)
{
	struct op *op = (struct op *)job;
	struct plog *l = op->log;

	assert(l->inflight == op);
	l->inflight = NULL;
	l->stats.syncs += op->nsyncs;
	switch (op->kind) {
	case OP_WRITE:
		write_done(l, op);
		return;
	case OP_TRUNCATE:
	case OP_DELETE: {
		bool carries = op->carries_state, written = op->state_written;
		uint64_t seq = op->state_seq;
		int status = op->status;
		if (op->status != 0) {
			SLOG_ERROR(MOD, "msg=\"%s failed\" log=%s err=\"%s\"",
				   op->kind == OP_TRUNCATE ? "truncate" : "segment deletion",
				   l->name, op->errmsg);
			if (op->kind == OP_TRUNCATE) {
				l->failed = true;
				errmsg_printf(l->failure, "%s", op->errmsg);
			}
		}
		l->stats.segments_deleted += (uint64_t)(op->kind == OP_DELETE ? op->ndoomed : 0);
		for (int i = 0; i < op->ndoomed; i++)
			segment_free(op->doomed[i]);
		if (status != 0 && carries && !written)
			snprintf(l->state_error, sizeof l->state_error, "%s", op->errmsg);
		op_free(op);
		kick(l);
		if (carries)
			state_report(l, written, seq, status);
		tell_failed(l);
		return;
	}
	case OP_STATE: {
		bool written = op->state_written;
		uint64_t seq = op->state_seq;
		int status = op->status;
		if (status != 0) {
			SLOG_ERROR(MOD, "msg=\"state file write failed\" log=%s err=\"%s\"", l->name,
				   op->errmsg);
			snprintf(l->state_error, sizeof l->state_error, "%s", op->errmsg);
		}
		state_op_put(l, op);
		kick(l);
		state_report(l, written, seq, status);
		return;
	}
	case OP_RESET: {
		bool written = op->state_written;
		uint64_t seq = op->state_seq;
		int status = op->status;
		void (*done)(void *, int) = op->reset_done;
		void *arg = op->reset_arg;
		if (status != 0) {
			SLOG_ERROR(MOD, "msg=\"reset failed; reopen to recover\" log=%s err=\"%s\"",
				   l->name, op->errmsg);
			l->failed = true;
			errmsg_printf(l->failure, "%s", op->errmsg);
			if (!written)
				snprintf(l->state_error, sizeof l->state_error, "%s", op->errmsg);
		}
		l->stats.segments_deleted += (uint64_t)op->ndoomed;
		for (int i = 0; i < op->ndoomed; i++)
			segment_free(op->doomed[i]);
		op_free(op);
		kick(l);
		state_report(l, written, seq, status);
		if (done != NULL)
			done(arg, status);
		tell_failed(l);
		return;
	}
	case OP_WORK: {
		struct plog_work *w = op->work;
		int status = op->status;
		op_free(op);
		kick(l);
		w->done(w, status);
		return;
	}
	case OP_COMPACT:
		compact_done(l, op);
		return;
	case OP_CLOSE: {
		void (*cb)(void *) = op->close_cb;
		void *arg = op->close_arg;
		if (op->status != 0)
			SLOG_WARN(MOD, "msg=\"close: %s\" log=%s", op->errmsg, l->name);
		op_free(op);
		for (int i = 0; i < l->nsegs; i++)
			segment_free(l->segs[i]);
		free(l->segs);
		free(l->state_spare[0]);
		free(l->state_spare[1]);
		free(l);
		if (cb != NULL)
			cb(arg);
		return;
	}
	}
}

/* ---- loop side: dispatch ------------------------------------------------------------------ */

static int prepare_write(struct op *op)
{
	int cap = 0;

	for (struct plog_append_req *r = op->head; r != NULL; r = r->next) {
		if (touched_find(op, r->seg) != NULL)
			continue;
		if (op->ntouched == cap) {
			int ncap = cap ? cap * 2 : 4;
			struct touched *p = realloc(op->touched, (size_t)ncap * sizeof *p);
			if (p == NULL)
				return SLUICE_ENOMEM;
			op->touched = p;
			cap = ncap;
		}
		op->touched[op->ntouched++] = (struct touched){
			.seg = r->seg, .pre_size = r->seg->durable_size, .created = false};
	}
	return 0;
}

static int prepare_close(struct plog *l, struct op *op)
{
	struct segment *s = active(l);
	int rv;

	op->fds = calloc((size_t)l->nsegs, sizeof *op->fds);
	if (op->fds == NULL)
		return SLUICE_ENOMEM;
	for (int i = 0; i < l->nsegs; i++)
		if (l->segs[i]->fd >= 0)
			op->fds[op->nfds++] = l->segs[i]->fd;
	if (s->fd >= 0 && s->size > 0 && s->size == s->durable_size && !l->failed) {
		rv = segment_encode_index(s, &op->final.off, &op->final.off_n, &op->final.time,
					  &op->final.time_n);
		if (rv != 0)
			return rv;
		op->final_base = s->base_offset;
		op->write_final = true;
	}
	return 0;
}

/* Fixes a compaction's segment set: the closed, fully durable prefix of the log is rewritten;
 * every segment's durable bytes are scanned. */
static int prepare_compact(struct plog *l, struct op *op)
{
	bool prefix = true;

	if (l->flags & STATE_FLAG_NEEDS_REPAIR)
		return SLUICE_EREPAIR;
	if (l->failed)
		return SLUICE_EIO;
	op->csegs = calloc((size_t)l->nsegs, sizeof *op->csegs);
	if (op->csegs == NULL)
		return SLUICE_ENOMEM;
	op->cstats.cleaned_end = l->segs[0]->base_offset;
	for (int i = 0; i < l->nsegs; i++) {
		struct segment *s = l->segs[i];
		struct compact_seg *cs = &op->csegs[op->ncsegs++];
		*cs = (struct compact_seg){.seg = s, .fd = s->fd, .size = s->durable_size,
					   .next_offset = s->durable_next,
					   .created_ms = s->created_ms};
		prefix = prefix && s->closed && s->fd >= 0 && s->durable_size == s->size &&
			 s->durable_next == s->next_offset;
		cs->rewrite = prefix;
		if (prefix) {
			op->cstats.segments_examined++;
			op->cstats.cleaned_end = s->next_offset;
		}
	}
	return 0;
}

static void kick(struct plog *l)
{
	struct op *op;
	int rv = 0;

	if (l->inflight != NULL || l->ops_head == NULL)
		return;
	op = l->ops_head;
	l->ops_head = op->next;
	if (l->ops_head == NULL)
		l->ops_tail = NULL;
	op->next = NULL;
	if ((op->kind == OP_WRITE || op->kind == OP_WORK) && l->failed) {
		/* The log stopped (a rollback, truncation or reset failed): its files are not what
		 * these appends' positions assume, and caller work ordered behind the failed op
		 * must not run as if it had succeeded (the Raft log would store a snapshot over a
		 * log that was never emptied). Both fail without touching the disk; work already
		 * skipped behind a failed write keeps that write's error. */
		l->inflight = op;
		if (op->kind == OP_WRITE || !op->skip) {
			op->status = SLUICE_EIO;
			errmsg_printf(op->errmsg, "log stopped: %s", l->failure);
		}
		op->skip = true;
		op_done(&op->job);
		return;
	}
	if (op->kind == OP_WRITE)
		rv = prepare_write(op);
	else if (op->kind == OP_CLOSE)
		rv = prepare_close(l, op);
	else if (op->kind == OP_COMPACT)
		rv = prepare_compact(l, op);
	l->inflight = op;
	if (rv != 0) {
		/* Out of memory preparing it: complete it as failed without running the work. */
		op->status = rv;
		errmsg_printf(op->errmsg, "could not start disk work: %s", err_str(rv));
		op_done(&op->job);
		return;
	}
	if (l->sync_mode || exec_submit(l->exec, &op->job) != 0) {
		/* Blocking mode (plog_append_sync), or the executor could not take it (out of
		 * memory): do the work here rather than lose the ordering of ops. */
		op_work(&op->job);
		op_done(&op->job);
	}
}

/* ---- append ------------------------------------------------------------------------------- */

static struct op *tail_write_op(struct plog *l)
{
	struct op *op = l->ops_tail;

	if (op != NULL && op->kind == OP_WRITE)
		return op;
	op = op_new(l, OP_WRITE);
	if (op == NULL)
		return NULL;
	op->next = NULL;
	if (l->ops_tail != NULL)
		l->ops_tail->next = op;
	else
		l->ops_head = op;
	l->ops_tail = op;
	return op;
}

/* Validates the batches of an append and counts offsets. */
static int scan_append(const uint8_t *p, size_t len, int64_t first_expected, bool keep,
		       int64_t *count_out)
{
	size_t at = 0;
	int64_t next = first_expected;

	if (len == 0)
		return SLUICE_EMALFORMED;
	while (at < len) {
		struct batch_header h;
		if (batch_header_decode(p + at, len - at, &h) != 0)
			return SLUICE_EMALFORMED;
		if (batch_total_bytes(&h) > len - at)
			return SLUICE_EMALFORMED;
		if (keep && h.base_offset != next)
			return SLUICE_EINVAL;
		next += (int64_t)h.last_offset_delta + 1;
		at += batch_total_bytes(&h);
	}
	*count_out = next - first_expected;
	return 0;
}

static bool roll_due(struct plog *l, struct segment *s, size_t len)
{
	if (s->size == 0)
		return false;
	if (s->size + len > l->cfg.segment_bytes || s->size + len > SEGMENT_BYTES_MAX)
		return true;
	if (l->cfg.roll_ms >= 0 && clock_wall_ms(l->clock) - s->created_ms >= l->cfg.roll_ms)
		return true;
	return false;
}

/* Closes the active segment and opens the next at `base`; returns the roll record for the
 * write op, or NULL on OOM (nothing changed then). */
static struct plog_roll *roll(struct plog *l)
{
	struct segment *old = active(l);
	struct plog_roll *r = calloc(1, sizeof *r);
	struct segment *s;

	if (r == NULL)
		return NULL;
	if (segment_encode_index(old, &r->off, &r->off_n, &r->time, &r->time_n) != 0)
		goto err_after_alloc;
	r->base_offset = old->base_offset;
	s = segment_new(l->dir, old->next_offset, clock_wall_ms(l->clock));
	if (s == NULL)
		goto err_after_encode;
	if (segs_push(l, s) != 0)
		goto err_after_segment;
	old->closed = true;
	l->stats.rolls++;
	return r;

err_after_segment:
	segment_free(s);
err_after_encode:
	free(r->off);
	free(r->time);
err_after_alloc:
	free(r);
	return NULL;
}

/* The append itself, for bytes at `p` that `b` holds a reference to (plog_append) or that the
 * caller keeps valid (plog_append_bytes, b == NULL). */
static int append_bytes(struct plog *l, struct plog_append_req *req, struct buf *b, uint8_t *p,
			size_t len, int32_t leader_epoch, int flags, plog_append_cb cb)
{
	struct segment *s;
	struct op *op;
	struct plog_roll *rl = NULL;
	int64_t count, next;
	size_t at;
	int rv;

	if (l->closing)
		return SLUICE_ECLOSED;
	if (l->flags & STATE_FLAG_NEEDS_REPAIR)
		return SLUICE_EREPAIR;
	if (l->failed)
		return SLUICE_EIO;
	if (len > PLOG_APPEND_BYTES_MAX)
		return SLUICE_ETOOLARGE;
	if (l->pending_bytes > 0 && l->pending_bytes + len > l->cfg.pending_bytes_max)
		return SLUICE_EBUSY;
	next = active(l)->next_offset;
	rv = scan_append(p, len, next, flags & PLOG_APPEND_KEEP_OFFSETS, &count);
	if (rv != 0)
		return rv;
	op = tail_write_op(l);
	if (op == NULL)
		return SLUICE_ENOMEM;
	if (roll_due(l, active(l), len)) {
		rl = roll(l);
		if (rl == NULL)
			return SLUICE_ENOMEM;
	}
	s = active(l);
	/* Assign offsets and epochs in place, and note each batch in the segment's indexes. */
	req->pos = s->size;
	at = 0;
	while (at < len) {
		struct batch_header h;
		batch_header_decode(p + at, len - at, &h);
		if (!(flags & PLOG_APPEND_KEEP_OFFSETS)) {
			batch_set_base_offset(p + at, s->next_offset);
			h.base_offset = s->next_offset;
		}
		if (leader_epoch >= 0)
			batch_set_leader_epoch(p + at, leader_epoch);
		rv = segment_note_batch(s, &h, s->size, l->cfg.index_interval_bytes);
		assert(rv == 0 || rv == SLUICE_ENOMEM);
		if (rv != 0) {
			/* Out of memory for an index entry: the index is only an accelerator,
			 * so carry on; lookups scan a little further. */
			s->next_offset = batch_last_offset(&h) + 1;
			s->size += batch_total_bytes(&h);
		}
		at += batch_total_bytes(&h);
	}
	req->base_offset = next;
	req->last_offset = next + count - 1;
	req->buf = b != NULL ? buf_ref(b) : NULL;
	req->bytes = p;
	req->len = len;
	req->seg = s;
	req->roll_before = rl;
	req->cb = cb;
	req->canceled = false;
	req->next = NULL;
	if (op->tail != NULL)
		op->tail->next = req;
	else
		op->head = req;
	op->tail = req;
	l->pending_bytes += len;
	l->size_bytes += len;
	l->stats.appends++;
	l->stats.append_bytes += len;
	assert(plog_invariants(l));
	kick(l);
	return 0;
}

int plog_append(struct plog *l, struct plog_append_req *req, struct buf *b, size_t off, size_t len,
		int32_t leader_epoch, int flags, plog_append_cb cb)
{
	if (off > b->len || len > b->len - off)
		return SLUICE_EINVAL;
	return append_bytes(l, req, b, b->data + off, len, leader_epoch, flags, cb);
}

int plog_append_bytes(struct plog *l, struct plog_append_req *req, uint8_t *p, size_t len,
		      int32_t leader_epoch, int flags, plog_append_cb cb)
{
	return append_bytes(l, req, NULL, p, len, leader_epoch, flags, cb);
}

/* ---- blocking calls for start-up ---------------------------------------------------------- */

struct sync_wait {
	bool done;
	int status;
};

static void sync_append_cb(struct plog_append_req *req, int status)
{
	struct sync_wait *w = req->data;

	w->done = true;
	w->status = status;
}

int plog_append_sync(struct plog *l, struct buf *b, size_t off, size_t len, int32_t leader_epoch,
		     char *errmsg)
{
	struct sync_wait w = {0};
	struct plog_append_req req = {.data = &w};
	int rv;

	if (l->inflight != NULL || l->ops_head != NULL) {
		errmsg_printf(errmsg, "%s: disk work pending", l->name);
		return SLUICE_EBUSY;
	}
	l->sync_mode = true;
	rv = plog_append(l, &req, b, off, len, leader_epoch, 0, sync_append_cb);
	l->sync_mode = false;
	if (rv == 0) {
		assert(w.done && l->inflight == NULL);
		rv = w.status;
	}
	if (rv != 0)
		errmsg_printf(errmsg, "%s: append: %s", l->name, err_str(rv));
	return rv;
}

int plog_set_raft_state_sync(struct plog *l, uint64_t term, uint64_t vote, char *errmsg)
{
	uint64_t seq;

	if (l->inflight != NULL || l->ops_head != NULL) {
		errmsg_printf(errmsg, "%s: disk work pending", l->name);
		return SLUICE_EBUSY;
	}
	l->sync_mode = true;
	seq = plog_set_raft_state(l, term, vote);
	l->sync_mode = false;
	assert(l->inflight == NULL);
	if (l->state_durable < seq) {
		errmsg_printf(errmsg, "%s", l->state_error);
		return SLUICE_EIO;
	}
	return 0;
}

/* ---- Raft state --------------------------------------------------------------------------- */

uint64_t plog_set_raft_state(struct plog *l, uint64_t term, uint64_t vote)
{
	l->pst.term = term;
	l->pst.vote = vote;
	l->state_seq++;
	queue_state_write(l);
	return l->state_seq;
}

void plog_raft_state(const struct plog *l, uint64_t *term, uint64_t *vote)
{
	*term = l->pst.term;
	*vote = l->pst.vote;
}

uint64_t plog_raft_state_durable(const struct plog *l)
{
	return l->state_durable;
}

void plog_on_raft_state(struct plog *l, plog_raft_state_cb cb, void *arg)
{
	l->state_cb = cb;
	l->state_arg = arg;
}

/* ---- reset and caller work ---------------------------------------------------------------- */

int plog_reset(struct plog *l, int64_t start_offset, void (*done)(void *arg, int status),
	       void *arg)
{
	struct segment *s;
	struct op *op;

	if (l->closing)
		return SLUICE_ECLOSED;
	if (l->failed)
		return SLUICE_EIO;
	if (start_offset < 0)
		return SLUICE_EINVAL;
	op = op_new(l, OP_RESET);
	if (op == NULL)
		return SLUICE_ENOMEM;
	op->doomed = malloc((size_t)l->nsegs * sizeof *op->doomed);
	s = segment_new(l->dir, start_offset, clock_wall_ms(l->clock));
	if (op->doomed == NULL || s == NULL) {
		segment_free(s);
		op_free(op);
		return SLUICE_ENOMEM;
	}
	/* Every segment goes, oldest first; appends not yet durable are canceled (their bytes
	 * land in files about to be removed). */
	memcpy(op->doomed, l->segs, (size_t)l->nsegs * sizeof *op->doomed);
	op->ndoomed = l->nsegs;
	cancel_from(l, INT64_MIN);
	l->segs[0] = s;
	l->nsegs = 1;
	l->log_start = start_offset;
	recount_size(l);
	l->pst.log_start_offset = start_offset;
	l->pst.flags = l->flags;
	op->state = l->pst;
	op->carries_state = true;
	op->state_seq = l->state_seq;
	op->reset_done = done;
	op->reset_arg = arg;
	SLOG_INFO(MOD, "msg=\"log reset\" log=%s start=%" PRId64 " segments_removed=%d", l->name,
		  start_offset, op->ndoomed);
	assert(plog_invariants(l));
	op_enqueue(l, op);
	return 0;
}

int plog_submit_work(struct plog *l, struct plog_work *w)
{
	struct op *op;

	if (l->closing)
		return SLUICE_ECLOSED;
	if (l->failed)
		return SLUICE_EIO;
	op = op_new(l, OP_WORK);
	if (op == NULL)
		return SLUICE_ENOMEM;
	op->work = w;
	op_enqueue(l, op);
	return 0;
}

void plog_set_retention_limit(struct plog *l, int64_t offset)
{
	l->retention_limit = offset;
}

void plog_on_failed(struct plog *l, void (*cb)(void *arg, const char *why), void *arg)
{
	l->failed_cb = cb;
	l->failed_arg = arg;
}

/* ---- truncate ----------------------------------------------------------------------------- */

/* Finds the byte position in `s` where the batch starting at `offset` lies, looking at queued
 * appends first and then at durable bytes. */
static int batch_position(struct plog *l, struct segment *s, int64_t offset, uint64_t *pos)
{
	struct op *ops[2] = {l->inflight, NULL};

	if (offset == s->next_offset) {
		*pos = s->size;
		return 0;
	}
	if (offset == s->base_offset) {
		*pos = 0;
		return 0;
	}
	for (int k = 0; k < 2; k++) {
		for (struct op *op = k == 0 ? ops[0] : l->ops_head; op != NULL;
		     op = k == 0 ? NULL : op->next) {
			if (op->kind != OP_WRITE)
				continue;
			for (struct plog_append_req *r = op->head; r != NULL; r = r->next) {
				size_t at = 0;
				/* A canceled append (cut by an earlier truncation, still queued)
				 * may cover the same offsets with other batches. */
				if (r->canceled || r->seg != s || offset < r->base_offset ||
				    offset > r->last_offset)
					continue;
				while (at < r->len) {
					struct batch_header h;
					batch_header_decode(r->bytes + at, r->len - at, &h);
					if (h.base_offset == offset) {
						*pos = r->pos + at;
						return 0;
					}
					at += batch_total_bytes(&h);
				}
				return SLUICE_EINVAL;
			}
		}
	}
	if (offset < s->durable_next) {
		uint8_t hdr[BATCH_HEADER_BYTES];
		struct batch_header h;
		int rv = segment_find(l->fs, s, offset, pos);
		if (rv != 0)
			return rv;
		if (l->fs->pread(l->fs, s->fd, hdr, sizeof hdr, *pos) != (ssize_t)sizeof hdr ||
		    batch_header_decode(hdr, sizeof hdr, &h) != 0)
			return SLUICE_EIO;
		return h.base_offset == offset ? 0 : SLUICE_EINVAL;
	}
	return SLUICE_EINVAL;
}

static void cancel_from(struct plog *l, int64_t offset)
{
	struct op *ops[2] = {l->inflight, NULL};

	for (int k = 0; k < 2; k++)
		for (struct op *op = k == 0 ? ops[0] : l->ops_head; op != NULL;
		     op = k == 0 ? NULL : op->next)
			if (op->kind == OP_WRITE)
				for (struct plog_append_req *r = op->head; r != NULL; r = r->next)
					if (r->base_offset >= offset)
						r->canceled = true;
}

int plog_truncate(struct plog *l, int64_t offset)
{
	struct op *op;
	struct segment *s;
	uint64_t pos;
	int idx, rv;

	if (l->closing)
		return SLUICE_ECLOSED;
	if (l->failed)
		return SLUICE_EIO;
	if (offset < l->log_start || offset > active(l)->next_offset)
		return SLUICE_ERANGE;
	if (offset == active(l)->next_offset)
		return 0;
	/* The cut position would be the old file's; the rewritten one has others. */
	if (l->inflight != NULL && l->inflight->kind == OP_COMPACT &&
	    offset < l->inflight->cstats.cleaned_end)
		return SLUICE_EBUSY;
	idx = seg_for_offset(l, offset);
	s = l->segs[idx];
	rv = batch_position(l, s, offset, &pos);
	if (rv != 0)
		return rv;
	op = op_new(l, OP_TRUNCATE);
	if (op == NULL)
		return SLUICE_ENOMEM;
	op->ndoomed = l->nsegs - idx - 1;
	if (op->ndoomed > 0) {
		op->doomed = malloc((size_t)op->ndoomed * sizeof *op->doomed);
		if (op->doomed == NULL) {
			op_free(op);
			return SLUICE_ENOMEM;
		}
		memcpy(op->doomed, &l->segs[idx + 1], (size_t)op->ndoomed * sizeof *op->doomed);
	}
	cancel_from(l, offset);
	l->nsegs = idx + 1;
	s->closed = false;
	if (segment_cut(s, pos, offset))
		recompute_max_ts(l, s);
	op->cut = s;
	op->cut_size = pos;
	recount_size(l);
	SLOG_INFO(MOD, "msg=\"log truncated\" log=%s offset=%" PRId64 " segments_removed=%d",
		  l->name, offset, op->ndoomed);
	assert(plog_invariants(l));
	op_enqueue(l, op);
	return 0;
}

/* ---- retention ---------------------------------------------------------------------------- */

int plog_enforce_retention(struct plog *l)
{
	wall_ms_t now = clock_wall_ms(l->clock);
	uint64_t total = l->size_bytes;
	int n = 0;
	struct op *op;

	if (l->closing || l->failed)
		return 0;
	while (n < l->nsegs - 1) {
		struct segment *s = l->segs[n];
		bool by_time = l->cfg.retention_ms >= 0 && s->max_timestamp >= 0 &&
			       now - s->max_timestamp > l->cfg.retention_ms;
		bool by_size = l->cfg.retention_bytes >= 0 &&
			       total - s->size >= (uint64_t)l->cfg.retention_bytes;
		if (!(by_time || by_size) || s->durable_size != s->size ||
		    s->next_offset > l->retention_limit)
			break;
		total -= s->size;
		n++;
	}
	if (n == 0)
		return 0;
	op = op_new(l, OP_DELETE);
	if (op == NULL)
		return 0;
	op->doomed = malloc((size_t)n * sizeof *op->doomed);
	if (op->doomed == NULL) {
		op_free(op);
		return 0;
	}
	memcpy(op->doomed, l->segs, (size_t)n * sizeof *op->doomed);
	op->ndoomed = n;
	memmove(l->segs, l->segs + n, (size_t)(l->nsegs - n) * sizeof *l->segs);
	l->nsegs -= n;
	l->log_start = l->segs[0]->base_offset;
	recount_size(l);
	l->pst.log_start_offset = l->log_start;
	l->pst.flags = l->flags;
	op->state = l->pst;
	op->carries_state = true;
	op->state_seq = l->state_seq;
	SLOG_INFO(MOD, "msg=\"retention\" log=%s segments_deleted=%d log_start=%" PRId64, l->name, n,
		  l->log_start);
	op_enqueue(l, op);
	return n;
}

/* ---- compaction --------------------------------------------------------------------------- */

int plog_compact(struct plog *l, const struct plog_compactor *c, void *arg, plog_compact_cb done)
{
	struct op *op;

	if (l->closing)
		return SLUICE_ECLOSED;
	if (l->flags & STATE_FLAG_NEEDS_REPAIR)
		return SLUICE_EREPAIR;
	if (l->failed)
		return SLUICE_EIO;
	op = op_new(l, OP_COMPACT);
	if (op == NULL)
		return SLUICE_ENOMEM;
	op->compactor = c;
	op->compact_arg = arg;
	op->compact_cb = done;
	op_enqueue(l, op);
	return 0;
}

uint64_t plog_closed_bytes_from(const struct plog *l, int64_t offset)
{
	uint64_t n = 0;

	for (int i = 0; i < l->nsegs; i++) {
		const struct segment *s = l->segs[i];
		if (s->closed && s->durable_size == s->size && s->base_offset >= offset)
			n += s->size;
	}
	return n;
}

/* ---- close -------------------------------------------------------------------------------- */

void plog_close(struct plog *l, void (*cb)(void *arg), void *arg)
{
	struct op *op;

	assert(!l->closing);
	l->closing = true;
	op = l->close_op;
	l->close_op = NULL;
	op->close_cb = cb;
	op->close_arg = arg;
	op_enqueue(l, op);
}

/* ---- reads -------------------------------------------------------------------------------- */

static void mark_repair(struct plog *l, const char *why)
{
	struct pstate st;
	errmsg_t em;

	if (l->flags & STATE_FLAG_NEEDS_REPAIR)
		return;
	l->flags |= STATE_FLAG_NEEDS_REPAIR;
	SLOG_ERROR(MOD, "msg=\"partition needs repair; refusing reads and appends\" log=%s "
			"cause=\"%s\"",
		   l->name, why);
	l->pst.flags = l->flags;
	if (l->opened) {
		/* Reads and appends are refused from now on (in memory); the flag goes to the state
		 * file through the op queue, its only writer, so it cannot race a retention or Raft
		 * state write. */
		l->pst.log_start_offset = l->log_start;
		queue_state_write(l);
		return;
	}
	/* During open nothing else writes the file yet (and l->log_start is not known yet: the
	 * loaded log start stays). */
	st = l->pst;
	if (pstate_store(l->fs, l->dir, &st, em) != 0)
		SLOG_ERROR(MOD, "msg=\"could not persist the repair flag\" log=%s err=\"%s\"",
			   l->name, em);
}

static int64_t durable_end(const struct plog *l)
{
	/* Segments before the last are durable in full once their successor has durable data;
	 * the last durable offset is that of the last segment that has any. */
	for (int i = l->nsegs - 1; i >= 0; i--)
		if (l->segs[i]->durable_next > l->segs[i]->base_offset || i == 0)
			return l->segs[i]->durable_next;
	return l->log_start;
}

int plog_read(struct plog *l, int64_t offset, int64_t max_offset, size_t max_bytes,
	      struct plog_read_result *out)
{
	int64_t end = durable_end(l);
	struct segment *s;
	uint64_t pos, want;
	uint8_t hdr[BATCH_HEADER_BYTES];
	struct batch_header h;
	struct buf *b;
	size_t at, keep;
	ssize_t got;
	int rv;

	memset(out, 0, sizeof *out);
	out->next_offset = offset;
	if (l->flags & STATE_FLAG_NEEDS_REPAIR)
		return SLUICE_EREPAIR;
	if (offset < l->log_start || offset > end)
		return SLUICE_ERANGE;
	if (max_offset > end)
		max_offset = end;
	if (offset >= max_offset)
		return 0;
	s = l->segs[seg_for_offset(l, offset)];
	if (offset >= s->durable_next)
		return 0;
	rv = segment_find(l->fs, s, offset, &pos);
	if (rv != 0)
		goto err;
	got = l->fs->pread(l->fs, s->fd, hdr, sizeof hdr, pos);
	if (got < 0) {
		rv = (int)got;
		goto err;
	}
	if (got != (ssize_t)sizeof hdr || batch_header_decode(hdr, sizeof hdr, &h) != 0) {
		rv = SLUICE_ECORRUPT;
		goto err;
	}
	if (batch_last_offset(&h) >= max_offset)
		return 0;
	out->next_offset = h.base_offset; /* the batch holding `offset` may start before it */
	want = s->durable_size - pos;
	if (want > max_bytes)
		want = max_bytes;
	if (want < batch_total_bytes(&h))
		want = batch_total_bytes(&h);
	b = buf_new((size_t)want);
	if (b == NULL)
		return SLUICE_ENOMEM;
	got = l->fs->pread(l->fs, s->fd, b->data, (size_t)want, pos);
	if (got < 0) {
		buf_unref(b);
		rv = (int)got;
		goto err;
	}
	/* Keep whole batches below max_offset, each checked against its CRC. */
	keep = 0;
	at = 0;
	while ((size_t)got - at >= BATCH_HEADER_BYTES) {
		if (batch_header_decode(b->data + at, (size_t)got - at, &h) != 0 ||
		    h.base_offset != out->next_offset) {
			if (keep == 0) {
				buf_unref(b);
				rv = SLUICE_ECORRUPT;
				goto err;
			}
			break;
		}
		if (batch_total_bytes(&h) > (size_t)got - at || batch_last_offset(&h) >= max_offset)
			break;
		if (!batch_crc_ok(b->data + at, batch_total_bytes(&h))) {
			buf_unref(b);
			rv = SLUICE_ECORRUPT;
			SLOG_ERROR(MOD, "msg=\"checksum mismatch on read\" file=%s pos=%" PRIu64,
				   s->path, pos + at);
			goto err;
		}
		at += batch_total_bytes(&h);
		keep = at;
		out->next_offset = batch_last_offset(&h) + 1;
	}
	if (keep == 0) {
		buf_unref(b);
		return 0;
	}
	b->len = keep;
	out->buf = b;
	out->len = keep;
	return 0;

err:
	if (rv == SLUICE_ECORRUPT) {
		char why[PATH_MAX + 64];
		snprintf(why, sizeof why, "%s: corrupt batch near byte %" PRIu64, s->path, pos);
		mark_repair(l, why);
		return SLUICE_EREPAIR;
	}
	return rv;
}

int plog_offset_for_time(struct plog *l, int64_t ts, int64_t *offset_out, int64_t *ts_out)
{
	if (l->flags & STATE_FLAG_NEEDS_REPAIR)
		return SLUICE_EREPAIR;
	for (int i = 0; i < l->nsegs; i++) {
		struct segment *s = l->segs[i];
		int rv;
		if (s->max_timestamp < ts || s->durable_size == 0)
			continue;
		rv = segment_find_time(l->fs, s, ts, offset_out, ts_out);
		if (rv != SLUICE_ENOTFOUND)
			return rv;
	}
	return SLUICE_ENOTFOUND;
}

void plog_abandon(struct plog *l)
{
	struct op *ops[2] = {l->inflight, l->ops_head};

	for (int k = 0; k < 2; k++) {
		struct op *op = ops[k];
		while (op != NULL) {
			struct op *next = k == 0 ? NULL : op->next;
			for (struct plog_append_req *r = op->head; r != NULL; r = r->next) {
				buf_unref(r->buf);
				r->buf = NULL;
			}
			for (int i = 0; i < op->ndoomed; i++)
				segment_free(op->doomed[i]);
			op_free(op);
			op = next;
		}
	}
	for (int i = 0; i < l->nsegs; i++)
		segment_free(l->segs[i]);
	free(l->segs);
	free(l->close_op);
	free(l->state_spare[0]);
	free(l->state_spare[1]);
	free(l);
}

/* ---- accessors ---------------------------------------------------------------------------- */

int64_t plog_start_offset(const struct plog *l)
{
	return l->log_start;
}

int64_t plog_end_offset(const struct plog *l)
{
	return active(l)->next_offset;
}

int64_t plog_durable_offset(const struct plog *l)
{
	return durable_end(l);
}

uint64_t plog_size_bytes(const struct plog *l)
{
	return l->size_bytes;
}

int plog_segment_count(const struct plog *l)
{
	return l->nsegs;
}

bool plog_needs_repair(const struct plog *l)
{
	return (l->flags & STATE_FLAG_NEEDS_REPAIR) != 0;
}

bool plog_failed(const struct plog *l)
{
	return l->failed;
}

uint64_t plog_pending_bytes(const struct plog *l)
{
	return l->pending_bytes;
}

const struct plog_stats *plog_stats(const struct plog *l)
{
	return &l->stats;
}

/* ---- open and recovery -------------------------------------------------------------------- */

struct listing {
	int64_t *bases;
	int n;
	int cap;
	int err;
	struct plog *l;
};

static int list_cb(void *arg, const char *name)
{
	struct listing *ls = arg;
	int64_t base;
	size_t n = strlen(name);

	if ((n > 4 && strcmp(name + n - 4, ".tmp") == 0) ||
	    (n > strlen(CLEANED_SUFFIX) &&
	     strcmp(name + n - strlen(CLEANED_SUFFIX), CLEANED_SUFFIX) == 0)) {
		char path[2 * PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", ls->l->dir, name);
		/* A state write or a compaction that did not finish. */
		ls->l->fs->unlink(ls->l->fs, path);
		return 0;
	}
	if (!segment_parse_name(name, &base))
		return 0;
	if (ls->n == ls->cap) {
		int ncap = ls->cap ? ls->cap * 2 : 16;
		int64_t *p = realloc(ls->bases, (size_t)ncap * sizeof *p);
		if (p == NULL) {
			ls->err = SLUICE_ENOMEM;
			return 1;
		}
		ls->bases = p;
		ls->cap = ncap;
	}
	ls->bases[ls->n++] = base;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Opens one existing segment file and brings its in-memory state up to date. `last` says
 * whether a bad tail may be cut (the active segment) or means corruption (a closed one). */
static int open_segment(struct plog *l, int64_t base, bool last, char *errmsg)
{
	struct segment *s = segment_new(l->dir, base, clock_wall_ms(l->clock));
	struct segment_scan_stop stop = {0};
	uint64_t file_size, covered = 0;
	int rv;

	if (s == NULL)
		return SLUICE_ENOMEM;
	rv = l->fs->open(l->fs, s->path, 0, &s->fd);
	if (rv == 0)
		rv = l->fs->size(l->fs, s->fd, &file_size);
	if (rv != 0) {
		errmsg_printf(errmsg, "%s: open: %s", s->path, err_str(rv));
		goto err_after_segment;
	}
	if (segment_load_index(l->fs, l->dir, s, file_size, &covered) != 0)
		covered = 0;
	if (covered == file_size && !last) {
		/* A closed segment whose index matches its size: trust it, read nothing. */
	} else {
		if (!last && covered != file_size && covered != 0) {
			/* Stale index for a closed segment: rebuild from scratch. */
			index_free(&s->ix);
			index_init(&s->ix);
			s->next_offset = base;
			s->size = 0;
			s->max_timestamp = s->max_ts_offset = -1;
			covered = 0;
		}
		rv = segment_scan(l->fs, s, covered, file_size, l->cfg.index_interval_bytes, &stop);
		if (rv == SLUICE_ECORRUPT && last) {
			SLOG_WARN(MOD, "msg=\"torn or corrupt tail truncated\" file=%s pos=%" PRIu64
				       " bytes_cut=%" PRIu64 " reason=\"%s\"",
				  s->path, stop.position, file_size - stop.position, stop.reason);
			rv = l->fs->truncate(l->fs, s->fd, stop.position);
			if (rv == 0)
				rv = l->fs->datasync(l->fs, s->fd);
			if (rv != 0) {
				errmsg_printf(errmsg, "%s: cutting the torn tail: %s", s->path,
					      err_str(rv));
				goto err_after_segment;
			}
		} else if (rv == SLUICE_ECORRUPT) {
			char why[PATH_MAX + 128];
			snprintf(why, sizeof why, "%s: %s at byte %" PRIu64, s->path, stop.reason,
				 stop.position);
			SLOG_ERROR(MOD, "msg=\"corruption in a closed segment\" file=%s pos=%" PRIu64
					" reason=\"%s\"",
				   s->path, stop.position, stop.reason);
			mark_repair(l, why);
			rv = 0;
		} else if (rv != 0) {
			errmsg_printf(errmsg, "%s: reading: %s", s->path, err_str(rv));
			goto err_after_segment;
		} else if (!last) {
			/* Rebuilt a closed segment's indexes: store them for the next open. */
			uint8_t *off, *time;
			size_t off_n, time_n;
			if (segment_encode_index(s, &off, &off_n, &time, &time_n) == 0) {
				segment_write_index(l->fs, l->dir, base, off, off_n, time,
						    time_n);
				free(off);
				free(time);
			}
			SLOG_INFO(MOD, "msg=\"index rebuilt\" file=%s", s->path);
		}
	}
	s->durable_size = s->size;
	s->durable_next = s->next_offset;
	s->closed = !last;
	if (l->nsegs > 0 && active(l)->next_offset != base) {
		char why[PATH_MAX + 128];
		snprintf(why, sizeof why, "%s: starts at offset %" PRId64 " but the previous segment "
					  "ends at %" PRId64,
			 s->path, base, active(l)->next_offset);
		mark_repair(l, why);
	}
	rv = segs_push(l, s);
	if (rv != 0)
		goto err_after_segment;
	return 0;

err_after_segment:
	if (s->fd >= 0)
		l->fs->close(l->fs, s->fd);
	segment_free(s);
	return rv;
}

/* Makes what open found durable: the active segment's bytes, the state file and the names in
 * the directory. After a write whose sync failed, a restart without power loss could otherwise
 * read data a later crash takes away, and the Raft log reports what it loads as stored. */
static int sync_found(struct plog *l, char *errmsg)
{
	char path[PATH_MAX + sizeof STATE_FILE_NAME + 1];
	int fd, rv = 0;

	if (active(l)->fd >= 0)
		rv = l->fs->datasync(l->fs, active(l)->fd);
	if (rv != 0) {
		errmsg_printf(errmsg, "%s: fdatasync: %s", active(l)->path, err_str(rv));
		return rv;
	}
	snprintf(path, sizeof path, "%s/%s", l->dir, STATE_FILE_NAME);
	rv = l->fs->open(l->fs, path, 0, &fd);
	if (rv == 0) {
		rv = l->fs->datasync(l->fs, fd);
		l->fs->close(l->fs, fd);
	} else if (rv == SLUICE_ENOTFOUND) {
		rv = 0;
	}
	if (rv == 0)
		rv = l->fs->sync_dir(l->fs, l->dir);
	if (rv != 0)
		errmsg_printf(errmsg, "%s: making the state durable: %s", l->dir, err_str(rv));
	return rv;
}

int plog_open(const struct plog_open_args *a, struct plog **out, char *errmsg)
{
	struct plog *l = calloc(1, sizeof *l);
	struct listing ls = {0};
	struct pstate st;
	errmsg_t em;
	int rv, first = 0;

	if (l == NULL)
		return SLUICE_ENOMEM;
	snprintf(l->dir, sizeof l->dir, "%s", a->dir);
	snprintf(l->name, sizeof l->name, "%s", a->name != NULL ? a->name : a->dir);
	l->fs = a->fs;
	l->exec = a->exec;
	l->clock = a->clock;
	l->cfg = a->config;
	if (l->cfg.index_interval_bytes == 0 || l->cfg.segment_bytes < BATCH_HEADER_BYTES) {
		errmsg_printf(errmsg, "%s: bad log configuration", l->name);
		rv = SLUICE_EINVAL;
		goto err_after_alloc;
	}
	rv = l->fs->mkdir(l->fs, l->dir);
	if (rv == 0) {
		/* The new directory's name is durable once its parent is synced. */
		char parent[PATH_MAX];
		char *slash;
		snprintf(parent, sizeof parent, "%s", l->dir);
		slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else if (slash != NULL)
			*slash = '\0';
		else
			snprintf(parent, sizeof parent, ".");
		rv = l->fs->sync_dir(l->fs, parent);
	}
	if (rv != 0 && rv != SLUICE_EEXIST) {
		errmsg_printf(errmsg, "%s: create directory: %s", l->dir, err_str(rv));
		goto err_after_alloc;
	}
	rv = pstate_load(l->fs, l->dir, &st, em);
	if (rv == SLUICE_ENOTFOUND) {
		memset(&st, 0, sizeof st);
	} else if (rv != 0) {
		errmsg_printf(errmsg, "%s", em);
		goto err_after_alloc;
	}
	l->flags = st.flags;
	l->pst = st;
	l->retention_limit = INT64_MAX;
	l->close_op = op_new(l, OP_CLOSE);
	l->state_spare[0] = op_new(l, OP_STATE);
	l->state_spare[1] = op_new(l, OP_STATE);
	if (l->close_op == NULL || l->state_spare[0] == NULL || l->state_spare[1] == NULL) {
		rv = SLUICE_ENOMEM;
		goto err_after_alloc;
	}
	if (l->flags & STATE_FLAG_NEEDS_REPAIR)
		SLOG_ERROR(MOD, "msg=\"partition is marked as needing repair\" log=%s", l->name);
	ls.l = l;
	rv = l->fs->list_dir(l->fs, l->dir, list_cb, &ls);
	if (rv == 0)
		rv = ls.err;
	if (rv != 0) {
		errmsg_printf(errmsg, "%s: listing: %s", l->dir, err_str(rv));
		goto err_after_list;
	}
	if (ls.n > 0)
		qsort(ls.bases, (size_t)ls.n, sizeof *ls.bases, cmp_i64);
	/* Segments wholly below the persisted log start were being deleted: finish that. */
	while (first + 1 < ls.n && ls.bases[first + 1] <= st.log_start_offset) {
		char path[PATH_MAX];
		segment_file_path(path, l->dir, ls.bases[first], "log");
		l->fs->unlink(l->fs, path);
		segment_unlink_index(l->fs, l->dir, ls.bases[first]);
		first++;
	}
	for (int i = first; i < ls.n; i++) {
		rv = open_segment(l, ls.bases[i], i == ls.n - 1, errmsg);
		if (rv != 0)
			goto err_after_segments;
	}
	if (l->nsegs == 0) {
		struct segment *s = segment_new(l->dir, st.log_start_offset,
						clock_wall_ms(l->clock));
		if (s == NULL || segs_push(l, s) != 0) {
			segment_free(s);
			rv = SLUICE_ENOMEM;
			goto err_after_segments;
		}
	}
	l->log_start = st.log_start_offset > l->segs[0]->base_offset ? st.log_start_offset
								   : l->segs[0]->base_offset;
	if (l->log_start > active(l)->next_offset)
		l->log_start = active(l)->next_offset;
	recount_size(l);
	rv = sync_found(l, errmsg);
	if (rv != 0)
		goto err_after_segments;
	free(ls.bases);
	SLOG_INFO(MOD, "msg=\"log opened\" log=%s segments=%d log_start=%" PRId64
		       " log_end=%" PRId64 " bytes=%" PRIu64,
		  l->name, l->nsegs, l->log_start, active(l)->next_offset, l->size_bytes);
	assert(plog_invariants(l));
	l->opened = true;
	*out = l;
	return 0;

err_after_segments:
	for (int i = 0; i < l->nsegs; i++) {
		if (l->segs[i]->fd >= 0)
			l->fs->close(l->fs, l->segs[i]->fd);
		segment_free(l->segs[i]);
	}
	free(l->segs);
err_after_list:
	free(ls.bases);
err_after_alloc:
	free(l->close_op);
	free(l->state_spare[0]);
	free(l->state_spare[1]);
	free(l);
	return rv;
}
