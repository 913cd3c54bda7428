/*
 * rlog: a Raft group's durable state on top of the partition log (storage/plog.h).
 *
 * A Raft entry is stored once, as one RecordBatch in the group's plog:
 *   - RAFT_COMMAND entries ARE RecordBatch v2 bytes (the leader's producer batch, or a metadata
 *     command wrapped in a batch); they are written as they are, with PartitionLeaderEpoch set to
 *     the entry's term and BaseOffset set to the log's next offset (the leader assigns it at
 *     append time, in place in the entry's buffer, so the bytes raft then sends to followers
 *     already carry it; followers store the same bytes with PLOG_APPEND_KEEP_OFFSETS).
 *   - RAFT_BARRIER and RAFT_CHANGE entries are written as control batches (attributes bit 5) of
 *     one record, which every Kafka client skips: key = ControlRecord {version 0, type
 *     RLOG_CTRL_BARRIER or RLOG_CTRL_CHANGE}, value = the entry's payload (the encoded
 *     configuration for RAFT_CHANGE). Their BaseOffset is the log's next offset, their
 *     PartitionLeaderEpoch the entry's term, their timestamps a deterministic function of the
 *     log (so every replica writes identical bytes).
 * So raft index i and the i-th stored batch correspond one to one: rlog keeps, in memory, the
 * base offset of every entry from the first loadable index to the last (raft keeps those entries
 * in memory anyway), and persists an anchor (a raft index and the BaseOffset of its batch) in the
 * snapshot file so load() can count batches from there.
 *
 * Term and vote live in the partition's state file (storage/state.h). rlog_set_term/vote update
 * memory at once and write the file off the loop (coalescing: at most one write in flight, the
 * next carries the latest values); the caller (rio) holds the group's outgoing messages until
 * rlog_meta_durable() says the values are on disk, so nothing a peer can observe depends on an
 * unsynced term or vote.
 *
 * Snapshots are small: raft's metadata (index, term, configuration, configuration index) plus
 * the state machine's bytes plus the anchor, in `<dir>/raft.snap`, written atomically. For a
 * partition the state machine's bytes are a few hundred bytes (the data is the log); the
 * controller's are the whole metadata image.
 *
 * Failure modes: any I/O error while appending, truncating or storing a snapshot makes the group
 * failed (rlog_failed) and is reported through `fatal` - never to raft (mitigation M1). Torn
 * tails are cut by plog on open; load() checks that the batches it returns are contiguous and
 * counts them against the anchor, and reports SLUICE_ECORRUPT naming the offset otherwise.
 *
 * Invariants:
 *   1. Appends complete in submission order, each after it is durable.
 *   2. truncate(i) cuts the plog at the BaseOffset of entry i, ordered after earlier appends.
 *   3. Entry i's batch sits at offsets [base(i), base(i+1)).
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
	struct plog_config config;
	void (*fatal)(void *arg, const char *why); /* storage failed: stop the group (M1) */
	void *arg;
};

struct rlog;

/* Opens the replica's plog, state file and snapshot file. Blocking (start-up or a worker).
 * Errors name the cause in `errmsg`. */
int rlog_open(const struct rlog_open_args *args, struct rlog **out, char *errmsg);

/* Flushes and closes; `cb` (may be NULL) runs when the files are closed. Pending appends
 * complete with SLUICE_ECANCELED before that. */
void rlog_close(struct rlog *l, void (*cb)(void *arg), void *arg);

/* raft_io.load: the persisted term and vote, the latest snapshot (NULL when none; raft_malloc'd,
 * one buf, as raft wants it), the first index returned and every entry from there to the end of
 * the log (raft_malloc'd array; each entry's buf is raft_malloc'd and entry.batch points to it).
 * Returns 0, SLUICE_ECORRUPT or an I/O error, with `errmsg`. */
int rlog_load(struct rlog *l, raft_term *term, raft_id *vote, struct raft_snapshot **snapshot,
	      raft_index *start_index, struct raft_entry **entries, size_t *n_entries,
	      char *errmsg);

/* raft_io.bootstrap: the log must be empty and term 0: stores term 1 and entry 1 = RAFT_CHANGE
 * (conf) durably before returning (blocking; only at group creation). SLUICE_EEXIST when the
 * state is not pristine. */
int rlog_bootstrap(struct rlog *l, const struct raft_configuration *conf, char *errmsg);

/* raft_io.set_term / set_vote: memory now, disk soon (see above). Returns a sequence number;
 * the values are durable once rlog_meta_durable(l) >= it. `durable` is called (on the loop)
 * each time the durable sequence advances. */
uint64_t rlog_set_term(struct rlog *l, raft_term term);
uint64_t rlog_set_vote(struct rlog *l, raft_id vote);
uint64_t rlog_meta_durable(const struct rlog *l);
void rlog_on_meta_durable(struct rlog *l, void (*durable)(void *arg), void *arg);

/* raft_io.append: stores `entries` (see the format above) and calls `cb(arg, 0)` once all are
 * durable, in submission order. The entries' buffers must stay valid until then (raft
 * guarantees that). For a RAFT_COMMAND entry, rlog writes BaseOffset and PartitionLeaderEpoch
 * into the buffer in place before returning, so the caller can read the assigned offsets right
 * away (rlog_entry_offsets). Returns 0, or an error when the group already failed (the callback
 * is then never called). An I/O error later goes to `fatal`, never to `cb`. */
int rlog_append(struct rlog *l, const struct raft_entry entries[], unsigned n,
		void (*cb)(void *arg, int status), void *arg);

/* The Kafka offsets [base, last] of the stored entry `index`; SLUICE_ERANGE when rlog no longer
 * (or not yet) tracks it. */
int rlog_entry_offsets(const struct rlog *l, raft_index index, int64_t *base, int64_t *last);
/* Raft index of the entry whose batch holds `offset`, or 0 when untracked. */
raft_index rlog_index_of_offset(const struct rlog *l, int64_t offset);

/* raft_io.truncate: deletes entries >= index, ordered after earlier appends. */
int rlog_truncate(struct rlog *l, raft_index index);

/* raft_io.snapshot_put with trailing > 0: persist the snapshot (metadata + state-machine bytes +
 * anchor) atomically, keep every segment (retention deletes them on its own schedule), and
 * forget the in-memory offsets of entries below snapshot->index - trailing. `cb(arg, 0)` when
 * durable, ordered after earlier appends. */
int rlog_snapshot_put(struct rlog *l, unsigned trailing, const struct raft_snapshot *snapshot,
		      void (*cb)(void *arg, int status), void *arg);

/* raft_io.snapshot_get: a raft_malloc'd copy of the latest snapshot (one buf). SLUICE_ENOTFOUND
 * when there is none. */
int rlog_snapshot_get(struct rlog *l, struct raft_snapshot **out);

/* Installing a leader's snapshot (snapshot_put with trailing 0) on this replica happens in
 * three steps driven by rio, which fetches the missing log range from the leader:
 *   1. rlog_install_begin: keeps the local prefix up to and including entry `keep_index`
 *      (the last entry this replica knows to be committed, so it matches the leader), truncates
 *      the rest, and says from which offset the leader's batches are needed: *from_offset (the
 *      end of the kept prefix) up to *to_offset (the end of the snapshot's last entry, from the
 *      snapshot's anchor). When the state machine's bytes hold everything (the controller),
 *      rio may skip step 2.
 *   2. rlog_install_data: appends the leader's batches as they are (PLOG_APPEND_KEEP_OFFSETS),
 *      or rlog_install_reset when the leader no longer has `from_offset` (retention): the local
 *      log is emptied and restarts at the leader's log start.
 *   3. rlog_install_finish: syncs, stores the snapshot, and calls cb(arg, 0).
 */
int rlog_install_begin(struct rlog *l, const struct raft_snapshot *snapshot, raft_index keep_index,
		       int64_t *from_offset, int64_t *to_offset);
int rlog_install_data(struct rlog *l, struct buf *b, size_t off, size_t len);
int rlog_install_reset(struct rlog *l, int64_t start_offset);
int rlog_install_finish(struct rlog *l, void (*cb)(void *arg, int status), void *arg);

/* Reads whole committed batches for a follower's catch-up (same contract as plog_read). */
int rlog_read(struct rlog *l, int64_t offset, int64_t max_offset, size_t max_bytes,
	      struct plog_read_result *out);

struct plog *rlog_plog(struct rlog *l);
bool rlog_failed(const struct rlog *l);

#endif
