/*
 * rlog: a Raft group's durable state on top of the partition log (storage/plog.h).
 *
 * A Raft entry is stored once, as one RecordBatch in the group's plog:
 *   - RAFT_COMMAND entries ARE RecordBatch v2 bytes, exactly one whole batch (the leader's
 *     producer batch, or a metadata command wrapped in a batch); they are written as they are,
 *     with PartitionLeaderEpoch set to the entry's term and BaseOffset set to the log's next
 *     offset (the leader assigns it at append time, in place in the entry's buffer, so the bytes
 *     raft then sends to followers already carry it; followers store the same bytes, keeping
 *     and checking the offsets).
 *   - RAFT_BARRIER and RAFT_CHANGE entries are written as control batches (attributes bit 5) of
 *     one record, which every Kafka client skips (librdkafka, the Java client and kafkajs; see
 *     docs/storage.md): key = ControlRecord {version 0, type RLOG_CTRL_BARRIER or
 *     RLOG_CTRL_CHANGE} (exactly 4 bytes, as librdkafka requires), value = the configuration
 *     raft encoded for RAFT_CHANGE (the padding raft leaves uninitialised zeroed), null for
 *     RAFT_BARRIER (raft ignores a barrier's payload; a loaded barrier gets 8 zero bytes). Their BaseOffset is the log's next offset, their
 *     PartitionLeaderEpoch the entry's term, their timestamps 0, ProducerId/Epoch/BaseSequence
 *     -1: a function of (offset, term, type, payload) only, so every replica writes identical
 *     bytes.
 * So raft index i and the i-th stored batch correspond one to one: rlog keeps, in memory, the
 * base offset of every entry from the first loadable index to the last (raft keeps those entries
 * in memory anyway), and persists anchors (a raft index and the BaseOffset of its batch) in the
 * snapshot file so load() can count batches from there.
 *
 * Term and vote live in the partition's state file (storage/state.h), written only through the
 * plog's op queue (plog_set_raft_state). rlog_set_term/vote update memory at once and write the
 * file off the loop (coalescing: at most one write queued, carrying the latest values); the
 * caller (rio) holds the group's outgoing messages until rlog_meta_durable() says the values are
 * on disk, so nothing a peer can observe depends on an unsynced term or vote.
 *
 * Snapshots are small: raft's metadata (index, term, configuration, configuration index) plus
 * the state machine's bytes plus the anchors, in `<dir>/raft.snap`, written atomically (format
 * in rlog.c and docs/storage.md). For a partition the state machine's bytes are a few hundred
 * bytes (the data is the log); the controller's are the whole metadata image. Retention never
 * deletes past the end of the latest snapshot (plog_set_retention_limit), so load() can always
 * count from an anchor.
 *
 * Failure modes: any I/O error while appending, truncating, writing the state file or storing a
 * snapshot makes the group failed (rlog_failed) and is reported once through `fatal` - never to
 * raft (mitigation M1): the callbacks of requests pending then are held, and run with
 * SLUICE_ECANCELED only inside rlog_close (raft needs every append callback before its close
 * completes). Torn tails are cut by plog on open; load() checks that the batches it returns are
 * contiguous and counts them against the anchors, and reports SLUICE_ECORRUPT naming the offset
 * otherwise. A crash in the middle of a snapshot install that had emptied the log leaves a log
 * the old snapshot's anchors do not reach: load() then returns the old snapshot and no entries,
 * and the next append or install empties the plog again at the right offset. During a first
 * install (no snapshot yet) it leaves a log without a snapshot that starts past offset 0, where
 * entry 1 is in every replica's log: load() then returns no snapshot and no entries, and the
 * next append or install empties the plog again at offset 0. A reset that fails stops the plog,
 * so the install's snapshot, queued behind it, is never stored.
 *
 * Invariants:
 *   1. Appends complete in submission order, each after it is durable (or truncated away by
 *      raft's own truncate, which raft then does not count); status is always 0, except
 *      SLUICE_ECANCELED inside rlog_close for what the group could not complete.
 *   2. truncate(i) cuts the plog at the BaseOffset of entry i, ordered after earlier appends.
 *   3. Entry i's batch sits at offsets [base(i), base(i+1)); base(last+1) is the plog's end.
 *   4. A snapshot's anchors only name entries that are durable when the file is written.
 */
#ifndef SLUICE_RAFT_RLOG_H
#define SLUICE_RAFT_RLOG_H

#include <raft.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/exec.h"
#include "storage/fs.h"
#include "storage/plog.h"

/* Control record types of Raft-internal batches (Kafka uses 0-6; these are ours). */
#define RLOG_CTRL_BARRIER 0x5301
#define RLOG_CTRL_CHANGE 0x5302

#define RLOG_SNAP_FILE_NAME "raft.snap"
#define RLOG_SNAP_FORMAT_VERSION 1

struct rlog_open_args {
	const char *dir;  /* the replica's directory (created if missing) */
	const char *name; /* for log lines, e.g. "orders-3" */
	struct fs *fs;
	struct exec *exec;
	struct clock *clock;
	/* pending_bytes_max is ignored: raft cannot take SLUICE_EBUSY from an append, so the
	 * caller applies back-pressure before raft_apply (plog_pending_bytes(rlog_plog(l))). */
	struct plog_config config;
	/* Storage failed: stop the group (M1). Called at most once, on the loop, possibly from
	 * inside an rlog call: the owner must not close the rlog from within it. */
	void (*fatal)(void *arg, const char *why);
	void *arg;
};

struct rlog;

/* Opens the replica's plog, state file and snapshot file. Blocking (start-up or a worker).
 * Errors (SLUICE_ECORRUPT for a damaged snapshot file, I/O errors) name the cause in
 * `errmsg`. */
int rlog_open(const struct rlog_open_args *args, struct rlog **out, char *errmsg);

/* Flushes and closes; `cb` (may be NULL) runs when the files are closed and the rlog is freed.
 * Appends and snapshots queued before are written and complete normally (status 0); those the
 * group can no longer complete (it failed, or they were held by an install) complete with
 * SLUICE_ECANCELED before `cb`. Nothing else may be called after rlog_close. */
void rlog_close(struct rlog *l, void (*cb)(void *arg), void *arg);

/* raft_io.load: the persisted term and vote, the latest snapshot (NULL when none; raft_malloc'd,
 * one buf, as raft wants it), the first index returned and every entry from there to the end of
 * the log (raft_malloc'd array, NULL when empty; each entry's buf is raft_malloc'd and
 * entry.batch points to it). Without a snapshot *start_index is 1 and the first entry is a
 * RAFT_CHANGE; with one it is at most snapshot->index + 1 (earlier when trailing entries are
 * still in the log) and never below the plog's start. Call once, before any append. Returns 0,
 * SLUICE_ECORRUPT or an I/O error, with `errmsg`; nothing is allocated then. */
int rlog_load(struct rlog *l, raft_term *term, raft_id *vote, struct raft_snapshot **snapshot,
	      raft_index *start_index, struct raft_entry **entries, size_t *n_entries,
	      char *errmsg);

/* raft_io.bootstrap: the log must be empty at offset 0, with no snapshot, term <= 1 and no vote
 * (a crash in an earlier bootstrap may leave term 1): stores term 1 and entry 1 = RAFT_CHANGE(conf)
 * durably before returning (blocking; only at group creation, before rlog_load). SLUICE_EEXIST
 * when the state is not pristine. */
int rlog_bootstrap(struct rlog *l, const struct raft_configuration *conf, char *errmsg);

/* raft_io.set_term / set_vote: memory now, disk soon (see above). set_term clears the vote.
 * Returns a sequence number; the values are durable once rlog_meta_durable(l) >= it. `durable`
 * is called (on the loop) each time the durable sequence advances. A failed write goes to
 * `fatal`. */
uint64_t rlog_set_term(struct rlog *l, raft_term term);
uint64_t rlog_set_vote(struct rlog *l, raft_id vote);
uint64_t rlog_meta_durable(const struct rlog *l);
void rlog_on_meta_durable(struct rlog *l, void (*durable)(void *arg), void *arg);
raft_term rlog_term(const struct rlog *l);
raft_id rlog_vote(const struct rlog *l);

/* How a RAFT_COMMAND batch's BaseOffset is treated (control batches are always built at the
 * log's next offset). */
enum {
	/* Default: a batch whose BaseOffset is 0 is a leader's fresh batch (producers send 0, and
	 * the controller must wrap its commands the same way): rlog assigns the offsets. Any
	 * other BaseOffset was assigned by the leader and must equal the log's next offset. */
	RLOG_APPEND_AUTO = 0,
	/* raft's appendLeader: always assign. */
	RLOG_APPEND_LEADER = 1 << 0,
	/* raft's appendFollower: always keep, and check that it continues the log. */
	RLOG_APPEND_FOLLOWER = 1 << 1,
};

/* raft_io.append: stores `entries` at the end of the log (see the format above) and calls
 * `cb(arg, 0)` once all are durable, in submission order. The entries array and buffers must
 * stay valid until then (raft guarantees that). When rlog assigns a RAFT_COMMAND batch's
 * offsets it writes BaseOffset and PartitionLeaderEpoch into the buffer in place before
 * returning, so the caller can read them right away (rlog_entry_offsets); a kept batch gets its
 * PartitionLeaderEpoch (re)set to the entry's term. While an install is in progress the entries
 * are held and written after it (raft does append entries that follow the snapshot being
 * installed). Returns 0; or SLUICE_ECLOSED/SLUICE_EIO when the group is closing or already
 * failed; or, after calling `fatal`, SLUICE_EMALFORMED / SLUICE_EINVAL for an entry rlog cannot
 * store (a command that is not exactly one valid batch, a term of 0 or above INT32_MAX, an
 * unknown type) or SLUICE_ENOMEM. The callback is never called when an error is returned. A
 * kept BaseOffset that does not continue the log (plog refuses it) also goes to `fatal`, but
 * the request is accepted (0 is returned; its callback runs canceled in rlog_close), as is
 * any later I/O error: never to `cb`. */
int rlog_append(struct rlog *l, const struct raft_entry entries[], unsigned n, int flags,
		void (*cb)(void *arg, int status), void *arg);

/* The Kafka offsets [base, last] of the stored entry `index`; SLUICE_ERANGE when rlog no longer
 * (or not yet) tracks it. */
int rlog_entry_offsets(const struct rlog *l, raft_index index, int64_t *base, int64_t *last);
/* Raft index of the entry whose batch holds `offset`, or 0 when untracked. */
raft_index rlog_index_of_offset(const struct rlog *l, int64_t offset);
/* The offset just past entry `index` (= BaseOffset of index + 1) when `index` is the latest
 * snapshot's index or a tracked entry or the one just before the first tracked one; else
 * SLUICE_ERANGE. The leader sends it along with a snapshot: the follower's
 * rlog_install_begin needs it as `end_offset`. */
int rlog_end_offset_of(const struct rlog *l, raft_index index, int64_t *end);
/* First and last tracked index (last < first when none). */
raft_index rlog_first_index(const struct rlog *l);
raft_index rlog_last_index(const struct rlog *l);

/* raft_io.truncate: deletes entries >= index, ordered after earlier appends (their callbacks
 * still run with 0; raft does not count the truncated ones). Returns 0, SLUICE_ECLOSED /
 * SLUICE_EIO when closing or failed, or (after `fatal`) SLUICE_ERANGE for an index below the
 * tracked window or another plog error. */
int rlog_truncate(struct rlog *l, raft_index index);

/* raft_io.snapshot_put with trailing > 0: persist the snapshot (metadata + state-machine bytes
 * of every buf + anchors) atomically, keep every segment (retention deletes them on its own
 * schedule, never past the snapshot's end), and forget the in-memory offsets of entries below
 * snapshot->index - trailing + 1 (what raft keeps). `cb(arg, 0)` when durable, ordered after
 * earlier appends. The snapshot is copied: the caller's buffers are free to go on return.
 * Returns 0, SLUICE_ECLOSED/SLUICE_EIO when closing or failed, SLUICE_EINVAL for trailing 0 (use
 * the install calls), or (after `fatal`) SLUICE_ERANGE when snapshot->index is not a stored
 * entry, or SLUICE_ENOMEM. */
int rlog_snapshot_put(struct rlog *l, unsigned trailing, const struct raft_snapshot *snapshot,
		      void (*cb)(void *arg, int status), void *arg);

/* raft_io.snapshot_get: a raft_malloc'd copy of the latest durable snapshot (one buf holding
 * the state machine's bytes; the caller frees it as raft does). SLUICE_ENOTFOUND when there is
 * none, SLUICE_ENOMEM. */
int rlog_snapshot_get(struct rlog *l, struct raft_snapshot **out);

/* Installing a leader's snapshot (snapshot_put with trailing 0) on this replica happens in
 * three steps driven by rio, which fetches the missing log range from the leader:
 *   1. rlog_install_begin, called from within raft's snapshot_put (so no append slips in
 *      between): keeps the local prefix up to and including entry `keep_index` (raft's commit
 *      index: the last entry this replica knows to be committed, so it matches the leader;
 *      clamped to the tracked window), truncates the rest, and says from which offset the
 *      leader's batches are needed: *from_offset (the end of the kept prefix) up to
 *      `end_offset`, the end of the snapshot's last entry on the leader (rlog_end_offset_of
 *      there; rio carries it inside the state machine's snapshot bytes). The snapshot is
 *      copied.
 *   2. rlog_install_data: appends the leader's batches as they are (offsets and epochs kept,
 *      CRCs checked, contiguous from *from_offset, below end_offset), or rlog_install_reset
 *      when the leader no longer has the next offset (retention): the local log is emptied and
 *      restarts at the leader's log start, which must lie in [next offset, end_offset] (when
 *      the leader's start is beyond end_offset, reset to end_offset: raft sends the entries
 *      after the snapshot itself). When
 *      the state machine's bytes hold everything (the controller), rio still has to bring the
 *      log to end_offset: with data, or with rlog_install_reset(end_offset).
 *   3. rlog_install_finish: once the log ends at end_offset, waits for the data to be durable,
 *      stores the snapshot, and calls cb(arg, 0); then writes the entries raft appended
 *      meanwhile.
 * Steps 1-3 return 0, SLUICE_ECLOSED/SLUICE_EIO when closing or failed, SLUICE_ESTATE when
 * called out of order, SLUICE_EINVAL/SLUICE_ECORRUPT/SLUICE_ERANGE for data that does not fit
 * (nothing stored: rio may fetch again), or SLUICE_ENOMEM. rlog_install_begin also calls `fatal`
 * when it cannot start (a kept prefix that ends past end_offset, a plog error):
 * raft must not see snapshot_put fail (M1). A crash before step 3 completes leaves the old
 * snapshot and a log it can load (see the failure modes above). */
int rlog_install_begin(struct rlog *l, const struct raft_snapshot *snapshot, raft_index keep_index,
		       int64_t end_offset, int64_t *from_offset);
int rlog_install_data(struct rlog *l, struct buf *b, size_t off, size_t len);
int rlog_install_reset(struct rlog *l, int64_t start_offset);
int rlog_install_finish(struct rlog *l, void (*cb)(void *arg, int status), void *arg);
/* The next offset rlog_install_data expects (valid between begin and finish). */
int64_t rlog_install_next_offset(const struct rlog *l);

/* Reads whole committed batches for a follower's catch-up (same contract as plog_read). */
int rlog_read(struct rlog *l, int64_t offset, int64_t max_offset, size_t max_bytes,
	      struct plog_read_result *out);

struct plog *rlog_plog(struct rlog *l);
bool rlog_failed(const struct rlog *l);

/* For crash simulation in tests: frees everything as if the process had died (plog_abandon),
 * without file I/O and without calling any callback. */
void rlog_abandon(struct rlog *l);

#endif
