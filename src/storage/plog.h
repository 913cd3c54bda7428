/*
 * plog: the partition log, an ordered, durable, segmented log of Kafka RecordBatch v2 batches.
 *
 * A partition replica's directory holds segments (`<base>.log`, see segment.h), their indexes
 * (index.h) and a state file (state.h). The log assigns offsets on append, writes and fdatasyncs
 * off the event loop through an executor (group commit: everything appended while one write+sync
 * is in flight goes out together in the next), and tells each append when its offsets are
 * durable. Reads return whole batches up to a limit (the high watermark); timestamps resolve to
 * the first batch that reaches them; truncation cuts the log back at a batch boundary (Raft needs
 * it); retention deletes whole closed segments by age and size; compaction rewrites closed
 * segments through a record-level compactor supplied by the caller (plog_compact).
 *
 * All functions run on the loop thread (the thread that calls the executor's completions).
 * Failure modes handled:
 *   - ENOSPC/EIO on write or sync: the appends in that write and every append queued after it
 *     fail with the error; the file is cut back to its durable size, nothing durable is touched,
 *     and later appends work again once space returns. If even the cut fails, the log stops
 *     accepting appends (plog_failed) until it is reopened, which recovers from the files.
 *   - a torn or corrupt tail in the last segment after a crash: cut at the first bad batch on
 *     open, with a log line naming the file, byte position and bytes removed.
 *   - corruption in a closed segment (found on open or by a read's CRC check): the partition is
 *     marked as needing repair (persisted in the state file); reads and appends then fail with
 *     SLUICE_EREPAIR instead of serving bad data.
 *
 * Invariants:
 *   1. log_start <= durable_end <= end (next offset to assign).
 *   2. Offsets are contiguous across segments; only the last segment receives appends.
 *   3. An append's callback runs exactly once; status 0 means every byte of it is durable and
 *      every earlier append is durable too (completions come in append order).
 *   4. Reads never return bytes at or beyond the durable end.
 */
#ifndef SLUICE_STORAGE_PLOG_H
#define SLUICE_STORAGE_PLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/exec.h"
#include "storage/fs.h"

struct plog_config {
	uint64_t segment_bytes;         /* roll when the next append would pass this size */
	int64_t roll_ms;                /* roll a segment this old (ms); -1 = never by age */
	int64_t retention_ms;           /* delete closed segments older than this; -1 = keep */
	int64_t retention_bytes;        /* delete oldest closed segments beyond this; -1 = keep */
	uint32_t index_interval_bytes;  /* log bytes between sparse index entries */
	uint64_t pending_bytes_max;     /* appended but not yet durable; above it appends get
					 * SLUICE_EBUSY (back-pressure instead of unbounded memory) */
};

/* Defaults: 1 GiB segments, 7-day roll and retention, no size retention, 4 KiB index
 * interval, 64 MiB pending. */
void plog_config_default(struct plog_config *c);

struct plog_open_args {
	const char *dir;  /* the partition directory; created if missing */
	const char *name; /* for log lines, e.g. "orders-3" */
	struct fs *fs;
	struct exec *exec;
	struct clock *clock;
	struct plog_config config;
};

struct plog;
struct plog_append_req;
struct plog_roll;

typedef void (*plog_append_cb)(struct plog_append_req *req, int status);

/* One append. The caller allocates it and keeps it valid until its callback. */
struct plog_append_req {
	void *data;          /* the caller's */
	int64_t base_offset; /* out: first offset assigned */
	int64_t last_offset; /* out: last offset assigned */
	/* private to plog */
	struct buf *buf; /* NULL for plog_append_bytes */
	uint8_t *bytes;  /* the batches */
	size_t len;
	struct segment *seg;
	uint64_t pos;
	struct plog_roll *roll_before;
	plog_append_cb cb;
	bool canceled;
	struct plog_append_req *next;
};

enum {
	/* Keep the batches' BaseOffsets (a follower storing the leader's entries): the first must
	 * equal plog_end_offset() and the rest follow contiguously, else SLUICE_EINVAL. */
	PLOG_APPEND_KEEP_OFFSETS = 1 << 0,
};

struct plog_stats {
	uint64_t appends;
	uint64_t append_bytes;
	uint64_t writes;     /* write+sync rounds (group commits) */
	uint64_t syncs;      /* fdatasync calls on segment files */
	uint64_t failures;   /* failed write rounds */
	uint64_t rolls;
	uint64_t segments_deleted;
	uint64_t compactions; /* compaction ops completed, successful or not */
};

/* Opens (recovering as described above) or creates the log. Blocking: call at start-up or from
 * a worker. On success *out owns the log; errors name the cause in `errmsg`. */
int plog_open(const struct plog_open_args *args, struct plog **out, char *errmsg);

/* Flushes queued appends, writes the active segment's indexes so the next open reads no log
 * bytes, closes the files and frees the log, then calls `cb` (may be NULL). Appends after this
 * fail with SLUICE_ECLOSED. */
void plog_close(struct plog *l, void (*cb)(void *arg), void *arg);

/* Appends the whole batches in [off, off+len) of `b`, which must be valid RecordBatch v2 bytes
 * (the caller checked CRCs). Assigns BaseOffsets (unless PLOG_APPEND_KEEP_OFFSETS) and, when
 * `leader_epoch` >= 0, PartitionLeaderEpoch, in place. On success fills req->base_offset and
 * req->last_offset, takes a reference on `b`, and later calls `cb` with 0 once durable or with
 * an error. On failure (SLUICE_EMALFORMED, SLUICE_EBUSY, SLUICE_ETOOLARGE, SLUICE_ECLOSED,
 * SLUICE_EREPAIR, SLUICE_EIO when the log failed) the callback is never called. */
int plog_append(struct plog *l, struct plog_append_req *req, struct buf *b, size_t off, size_t len,
		int32_t leader_epoch, int flags, plog_append_cb cb);

/* As plog_append, for bytes the caller owns (no copy, no reference): `p` must stay valid and
 * unchanged until `cb` runs (or, after plog_abandon, until the log is gone). Used by the Raft
 * log, whose entries live in raft's own buffers until their append completes. */
int plog_append_bytes(struct plog *l, struct plog_append_req *req, uint8_t *p, size_t len,
		      int32_t leader_epoch, int flags, plog_append_cb cb);

/* Blocking append for a log with no disk work queued or in flight (at start-up, e.g. Raft
 * bootstrap): writes and syncs on the calling thread and returns only once the batches are
 * durable. Assigns offsets and epoch as plog_append does (no PLOG_APPEND_KEEP_OFFSETS). Returns
 * 0, SLUICE_EBUSY when disk work is pending, or the append's or the write's error (with
 * `errmsg`). */
int plog_append_sync(struct plog *l, struct buf *b, size_t off, size_t len, int32_t leader_epoch,
		     char *errmsg);

/* ---- Raft state in the state file ----------------------------------------------------------
 * The state file (state.h) holds the log start and the Raft term and vote; the log's op queue is
 * its only writer (retention, repair marks, resets and these calls all go through it, in order),
 * so no two writes of it ever race and none carries an older term than one before it.
 *
 * plog_set_raft_state records term and vote in memory at once and returns a sequence number
 * (1, 2, ...). The values reach the file with the next state write: every state-carrying op that
 * is queued but not started is updated to the latest values; if there is none, a state write is
 * queued behind the log's other disk work. So writes coalesce: at most one is queued at a time,
 * and it carries the latest values. Once a write that carried sequence `s` is durable,
 * plog_raft_state_durable() >= s and the hook set with plog_on_raft_state runs with status 0; a
 * failed write calls the hook with its error (the durable sequence does not move). */
typedef void (*plog_raft_state_cb)(void *arg, uint64_t durable_seq, int status);
uint64_t plog_set_raft_state(struct plog *l, uint64_t term, uint64_t vote);
void plog_raft_state(const struct plog *l, uint64_t *term, uint64_t *vote);
uint64_t plog_raft_state_durable(const struct plog *l);
void plog_on_raft_state(struct plog *l, plog_raft_state_cb cb, void *arg);
/* Blocking variant (start-up only, like plog_append_sync): stores term and vote durably before
 * returning. SLUICE_EBUSY when disk work is pending. */
int plog_set_raft_state_sync(struct plog *l, uint64_t term, uint64_t vote, char *errmsg);

/* Empties the log and restarts it at `start_offset` (which may be below or above the current
 * start): every segment goes, and the next append gets `start_offset`. Ordered with the log's
 * other disk work. Appends not yet durable complete with SLUICE_ECANCELED. On disk the new log
 * start is written to the state file first, then the old segments are removed oldest first, so
 * a crash in between leaves either an empty log at `start_offset` or a suffix of the old log.
 * `done` (may be NULL) runs on the loop once that is durable, with 0 or an error (the log is then
 * failed until reopened, as after a failed truncation: appends and caller work queued behind it
 * fail with SLUICE_EIO without running). Returns 0, SLUICE_ECLOSED, SLUICE_EIO
 * (log failed) or SLUICE_ENOMEM; `done` is not called then. */
int plog_reset(struct plog *l, int64_t start_offset, void (*done)(void *arg, int status),
	       void *arg);

/* Caller work ordered with the log's disk work: `work` runs on the I/O worker after every op
 * queued before it completed (so after earlier appends are durable), then `done` on the loop
 * with 0. If a write queued before it failed, `work` does not run and `done` gets that error;
 * if the log stopped before it started (plog_failed: a rollback, truncation or reset queued
 * before it failed), `work` does not run and `done` gets SLUICE_EIO. So `done(w, 0)` means
 * every op queued before it succeeded. The struct belongs to the log from submit until
 * `done`. */
struct plog_work {
	void (*work)(struct plog_work *w); /* on the worker: must touch only its own data */
	void (*done)(struct plog_work *w, int status);
	void *data; /* the caller's */
};
/* Returns 0, or SLUICE_ECLOSED / SLUICE_EIO (log failed) / SLUICE_ENOMEM; `done` is not called
 * then. */
int plog_submit_work(struct plog *l, struct plog_work *w);

/* Called once, on the loop, when the log stops itself (plog_failed becomes true: a failed write
 * could not be rolled back, or a truncation or reset failed), with the reason. Appends and
 * caller work (plog_submit_work) queued then fail with SLUICE_EIO without touching the disk. */
void plog_on_failed(struct plog *l, void (*cb)(void *arg, const char *why), void *arg);

/* Retention never deletes a segment holding an offset >= `offset` (INT64_MAX, the default, means
 * no limit). The Raft log sets it to the end of its latest snapshot, so retention never removes
 * entries it still has to count from. */
void plog_set_retention_limit(struct plog *l, int64_t offset);

struct plog_read_result {
	struct buf *buf;     /* whole batches (NULL when none); the caller unrefs */
	size_t len;
	int64_t next_offset; /* offset just after the last batch returned */
};

/* Reads whole durable batches starting with the one that contains `offset`, stopping before any
 * batch whose last offset is >= `max_offset` (the high watermark) and after `max_bytes` — but
 * always at least one whole batch when one is available (KIP-74), and never across a segment
 * boundary. Returns 0 (possibly with no data at the end of the log), SLUICE_ERANGE when `offset`
 * is below the log start or beyond the durable end, SLUICE_EREPAIR/SLUICE_ECORRUPT when the data
 * is damaged (the log is then marked as needing repair), or an I/O error. */
int plog_read(struct plog *l, int64_t offset, int64_t max_offset, size_t max_bytes,
	      struct plog_read_result *out);

/* Finds the first durable batch whose MaxTimestamp >= `ts`: *offset_out is its BaseOffset and
 * *ts_out its MaxTimestamp. (Record-level precision inside the batch is the caller's.)
 * SLUICE_ENOTFOUND when no batch reaches `ts`. */
int plog_offset_for_time(struct plog *l, int64_t ts, int64_t *offset_out, int64_t *ts_out);

/* Cuts the log so that `offset` becomes the next offset to assign. `offset` must be the first
 * offset of a batch, or the end. Appends at or beyond it that are not yet durable complete with
 * SLUICE_ECANCELED. Returns 0 or SLUICE_EINVAL/SLUICE_ERANGE, or SLUICE_EBUSY when a compaction
 * in flight is rewriting the segment holding `offset` (retry once it completes). */
int plog_truncate(struct plog *l, int64_t offset);

/* Applies retention now: deletes (off the loop) closed, fully durable segments older than
 * retention_ms (by their largest timestamp) or beyond retention_bytes, oldest first, and moves
 * the log start. Returns the number of segments scheduled for deletion. */
int plog_enforce_retention(struct plog *l);

/* What one compaction did. */
struct plog_compact_stats {
	int segments_examined;  /* closed segments offered to rewrite */
	int segments_rewritten; /* of them, those whose content changed and was replaced */
	uint64_t bytes_before;  /* size of the rewritten segments before */
	uint64_t bytes_after;   /* and after */
	int64_t cleaned_end;    /* one past the last offset of the segments examined */
};

/* A record-level compactor, called on the I/O worker (never concurrently with itself, and not
 * on the loop thread while the compaction runs: `arg` belongs to the compaction until `done`).
 * The log knows only RecordBatch headers; the compactor knows records and keys. */
struct plog_compactor {
	/* Pass 1: called with every durable batch of the log, oldest first (`n` bytes at `batch`,
	 * CRC checked), including batches of segments that will not be rewritten, so that a key
	 * overwritten there counts. Returns 0, or a negative code that ends the compaction before
	 * anything is written. */
	int (*scan)(void *arg, const uint8_t *batch, size_t n);
	/* Pass 2: called with every batch of each closed segment to rewrite, oldest segment first.
	 * Appends to `out` (empty on entry) either the batch unchanged or a rebuilt batch that keeps
	 * BaseOffset and LastOffsetDelta, each retained record's OffsetDelta, and has a fresh CRC;
	 * RecordCount may shrink, even to 0. Returns 0, or a negative code that ends the compaction
	 * (segments already replaced stay replaced; nothing later is touched). */
	int (*rewrite)(void *arg, const uint8_t *batch, size_t n, struct wbuf *out);
};

typedef void (*plog_compact_cb)(void *arg, int status, const struct plog_compact_stats *st);

/* Queues a compaction, ordered with the log's other disk work. The closed, fully durable segments
 * at the start of the log are rewritten through `c` one by one, oldest first, each atomically
 * (`<base>.log.cleaned` written and synced, then renamed over `<base>.log`): after a crash each
 * segment is either the old or the new file, never a mix. The active segment is only scanned.
 * `done` runs on the loop exactly once (unless the log is abandoned), with 0 or the first error,
 * and the stats (segments rewritten before an error stay rewritten). While a compaction is in
 * flight, plog_truncate below its cleaned_end returns SLUICE_EBUSY. Returns 0, SLUICE_ECLOSED,
 * SLUICE_EREPAIR, SLUICE_EIO (log failed) or SLUICE_ENOMEM; `done` is not called then. */
int plog_compact(struct plog *l, const struct plog_compactor *c, void *arg, plog_compact_cb done);

/* Bytes of closed, fully durable segments whose base offset is >= `offset` (what a compaction
 * that last cleaned up to `offset` has not seen yet). */
uint64_t plog_closed_bytes_from(const struct plog *l, int64_t offset);

/* For crash simulation only: frees the log's memory as if its process had died, without any
 * file I/O and without calling any callback. The executor's queued jobs for it must be dropped
 * too (a fresh exec_inline). */
void plog_abandon(struct plog *l);

int64_t plog_start_offset(const struct plog *l);
int64_t plog_end_offset(const struct plog *l);     /* next offset to assign */
int64_t plog_durable_offset(const struct plog *l); /* every offset below it is durable */
uint64_t plog_size_bytes(const struct plog *l);
int plog_segment_count(const struct plog *l);
bool plog_needs_repair(const struct plog *l);
bool plog_failed(const struct plog *l);
/* Bytes appended whose callback has not run yet (for back-pressure above the log). */
uint64_t plog_pending_bytes(const struct plog *l);
const struct plog_stats *plog_stats(const struct plog *l);

#endif
