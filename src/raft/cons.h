/*
 * cons: Sluice's consensus interface. Everything above it (partitions, the controller) sees
 * replicated logs, proposals, commit offsets and leadership; nothing above it sees the Raft
 * library, so another implementation can replace canonical raft 0.15.0 without touching them.
 *
 * A cons_node is one Sluice node's consensus runtime: the Raft groups it hosts (one per
 * partition replica, one for the controller), one tick source for all of them, and one outgoing
 * path (a transport the owner provides: the peer TCP transport in the server, a simulated
 * network in tests). Each group's raft_io ("rio", inside cons.c) stores entries through rlog
 * (raft/rlog.h: a Raft entry is one RecordBatch in the group's partition log) and sends through
 * the node; the shim (raft/shim.h) sits between raft and rio and applies the mitigations for
 * the library's known defects.
 *
 * Happy path of a proposal (acks=all): cons_propose() copies the batch into a Raft entry; raft
 * appends it (rio -> rlog assigns its Kafka offsets in place, so they are known when
 * cons_propose returns), replicates it, and once a majority stored it and the leader applied it
 * the proposal's callback runs with status 0. With CONS_WAIT_LOCAL the callback runs once the
 * leader's own copy is durable (acks=1).
 *
 * Failure modes:
 *   - leadership lost with proposals pending: their callbacks get SLUICE_ENOTLEADER (the outcome
 *     is ambiguous: the entry may still commit; idempotent producers make the retry safe);
 *   - storage error: the group stops (M1) and `failed` is called; the owner may reopen it;
 *   - a peer that is slow or gone: its messages are dropped at the bounded transport queue and
 *     Raft retransmits.
 *
 * Invariants:
 *   1. cons_commit_offset() never decreases while a group is open.
 *   2. A group reports itself leader (cons_is_leader) only after the barrier of its term has
 *      committed (M2), so its commit offset is then exact.
 *   3. Every callback runs on the loop thread.
 */
#ifndef SLUICE_RAFT_CONS_H
#define SLUICE_RAFT_CONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/exec.h"
#include "storage/fs.h"
#include "storage/plog.h"

/* Groups on one node: bounds memory (each group costs a few KiB idle plus its in-memory tail). */
#define CONS_GROUPS_MAX 20000
/* Proposal bytes waiting for a raft_apply slot per group: back-pressure beyond it. */
#define CONS_QUEUED_BYTES_MAX (64u << 20)
/* Replicas (voters) per partition group. */
#define CONS_REPLICAS_MAX 7
/* Voters and standbys of any group (the controller: its voters, and every other node of the
 * cluster as a standby). */
#define CONS_VOTERS_MAX 16
#define CONS_STANDBYS_MAX 1024

struct cons_node;
struct cons_group;

/* How a group's messages leave the node. `send` copies the bytes (or refuses: SLUICE_EBUSY when
 * the peer's queue is full, SLUICE_ENOTFOUND for an unknown node); Raft tolerates the loss. */
struct cons_transport {
	int (*send)(struct cons_transport *t, uint32_t node, const struct iovec *iov, int iovcnt);
};

struct cons_node_config {
	uint32_t node_id;
	struct fs *fs;
	struct exec *exec;
	struct clock *clock;
	struct cons_transport *transport;
	unsigned heartbeat_ms;    /* Raft heartbeat (default 100) */
	unsigned election_ms;     /* Raft election timeout (default 1000; randomised 1-2x) */
	size_t frame_bytes_max;   /* largest message handed to the transport (default 4 MiB) */
	size_t tail_bytes_max;    /* in-memory Raft tail per group (default 4 MiB) */
	unsigned applies_max;     /* raft_apply batches in flight per group (M7, default 4) */
	uint64_t seed;            /* election timeout randomisation */
};

void cons_node_config_default(struct cons_node_config *c);

/* Creates the node runtime. Blocking-free. */
int cons_node_new(const struct cons_node_config *cfg, struct cons_node **out);

/* The owner calls this every heartbeat_ms (one timer for every group). */
void cons_node_tick(struct cons_node *n);

/* A frame that arrived from node `from` on the Raft channel. Malformed frames are dropped with
 * a log line. */
void cons_node_recv(struct cons_node *n, uint32_t from, const uint8_t *p, size_t len);

/* Completes deferred work (send and snapshot_get callbacks, released held messages). The owner
 * calls it once per loop turn (a uv_check handle), tests after each step. */
void cons_node_flush(struct cons_node *n);

/* A peer's link went down/up (lets catch-ups restart promptly). */
void cons_node_link(struct cons_node *n, uint32_t node, bool up);

/* Frees the node. Every group must be closed first. */
void cons_node_free(struct cons_node *n);

/* For crash simulation only: frees the node and every group it hosts as if the process had
 * died: no file I/O, no callback to any owner (pending proposals are dropped unanswered), the
 * logs abandoned (plog_abandon). Raft's own memory is released. The executor's queued jobs must
 * be dropped too (they point into the abandoned logs), and the file system then crashed.
 * Groups being closed (cons_group_close not yet called back) are abandoned too; their close
 * callbacks never run. */
void cons_node_abandon(struct cons_node *n);

enum cons_role { CONS_FOLLOWER, CONS_CANDIDATE, CONS_LEADER, CONS_STOPPED };

/* What the owner of a group (a partition, the controller) is told. All optional. */
struct cons_group_ops {
	/* A committed command entry, in log order, on every replica: the RecordBatch bytes as
	 * proposed (BaseOffset and PartitionLeaderEpoch filled in), and its Raft index. */
	void (*apply)(void *arg, uint64_t index, const uint8_t *batch, size_t len);
	/* Snapshot of the owner's state machine (small for a partition, the image for the
	 * controller). Appends to `out`; returns 0 or an error (the snapshot is then skipped). */
	int (*snapshot)(void *arg, struct wbuf *out);
	/* Replace the state machine with a snapshot (a follower installing the leader's). */
	int (*restore)(void *arg, const uint8_t *p, size_t len);
	/* Role, term, leader, readiness or commit offset changed. */
	void (*changed)(void *arg);
	/* The log was cut: offsets >= `offset` are gone (a deposed leader's uncommitted tail, or a
	 * catch-up that restarted the log). State derived from them must be dropped. */
	void (*truncated)(void *arg, int64_t offset);
	/* The group stopped after a storage failure; `why` names it. */
	void (*failed)(void *arg, const char *why);
	void *arg;
};

struct cons_group_config {
	uint64_t group_id;
	const char *dir;  /* the replica's directory */
	const char *name; /* for logs */
	struct plog_config plog;
	const uint32_t *voters; /* initial configuration (used when the replica is pristine) */
	int n_voters;
	/* The controller: the snapshot holds everything, so an install needs no log fetch. */
	bool data_in_snapshot;
	/* This replica is the preferred leader: when the group is created (bootstrapped here) it
	 * campaigns at once instead of after an election timeout, so new partitions start led by
	 * the replicas the placement chose and serve sooner. */
	bool campaign_first;
	struct cons_group_ops ops;
};

/* Opens (loading what is on disk) or creates (bootstrapping `voters`) a replica and starts its
 * Raft instance. Blocking (reads the log tail): call at start-up or when a replica is added. */
int cons_group_open(struct cons_node *n, const struct cons_group_config *cfg,
		    struct cons_group **out, char *errmsg);

/* cons_group_open in two steps, so that the blocking part runs off the loop:
 * cons_group_prepare opens the replica's files and bootstraps it when pristine (blocking; safe
 * on a worker thread: it reads only the node's configuration); cons_group_start starts raft on
 * the loop thread (and frees the group on failure); cons_group_discard drops a prepared group
 * that will not be started (loop thread). */
int cons_group_prepare(struct cons_node *n, const struct cons_group_config *cfg,
		       struct cons_group **out, char *errmsg);
int cons_group_start(struct cons_group *g, char *errmsg);
void cons_group_discard(struct cons_group *g);

/* Stops the group; `cb` runs when raft and the files are closed, then the group is freed.
 * Pending proposals complete with SLUICE_ECLOSED. */
void cons_group_close(struct cons_group *g, void (*cb)(void *arg), void *arg);

enum cons_wait { CONS_WAIT_COMMIT, CONS_WAIT_LOCAL };

/* status 0: the proposal is committed (CONS_WAIT_COMMIT) or durable on the leader
 * (CONS_WAIT_LOCAL) at offsets [base_offset, last_offset]. Otherwise SLUICE_ENOTLEADER
 * (leadership lost: outcome unknown), SLUICE_ECLOSED (group closing). */
typedef void (*cons_propose_cb)(void *arg, int status, int64_t base_offset, int64_t last_offset);

/* Proposes the whole RecordBatch bytes at `batch` (copied; the caller validated it). The ready
 * leader assigns the batch its Kafka offsets at once (BaseOffset = the end of everything already
 * in or proposed to the log; PartitionLeaderEpoch = the Raft term), written into the copy and
 * returned in *base_offset and *last_offset. Proposals are coalesced into raft_apply calls, at most
 * applies_max in flight (M7). `cb` (may be NULL, for acks=0) runs exactly once, later, unless an
 * error is returned: SLUICE_ENOTLEADER when this replica is not the ready leader, SLUICE_EBUSY
 * when more than CONS_QUEUED_BYTES_MAX wait, SLUICE_EMALFORMED for a batch too short to carry
 * a header, SLUICE_ENOMEM. */
int cons_propose(struct cons_group *g, const uint8_t *batch, size_t len, enum cons_wait wait,
		 cons_propose_cb cb, void *arg, int64_t *base_offset, int64_t *last_offset);

enum cons_role cons_role(const struct cons_group *g);
/* The ready leader (M2 barrier committed in its term). */
bool cons_is_leader(const struct cons_group *g);
/* The ready leader's read lease: a majority of the voters (itself included) accepted its
 * leadership (answered an AppendEntries of its term) within the last CONS_LEASE_PERCENT of the
 * election timeout, and none of those links has gone down since. A follower does not start an
 * election before a whole election timeout without hearing from the leader (or a moment after
 * its link to the leader broke, which the leader sees too), so while the lease holds no other
 * leader can have committed anything: committed data read here is the latest. Without it the
 * broker answers reads with NOT_LEADER_OR_FOLLOWER (the leader steps down soon anyway). */
bool cons_read_lease(const struct cons_group *g);
/* The part of the election timeout a read lease lasts: the rest covers the round trip between
 * the follower's receipt of an AppendEntries and the leader's receipt of its answer. */
#define CONS_LEASE_PERCENT 80

/* Known leader's node id, or 0. */
uint32_t cons_leader(const struct cons_group *g);
uint64_t cons_term(const struct cons_group *g);
/* One past the last committed offset (the high watermark). */
int64_t cons_commit_offset(const struct cons_group *g);
uint64_t cons_group_id(const struct cons_group *g);
struct plog *cons_log(struct cons_group *g);
/* Voters of the current configuration (up to `max`); returns how many. */
int cons_voters(const struct cons_group *g, uint32_t *out, int max);

/* Moves the group's membership one step towards `voters` (leader only; raft changes one
 * server at a time): adds a missing replica as a spare, makes it a standby (it replicates and
 * catches up), promotes it to voter once its log matches, then removes the replicas not wanted
 * (the leader hands leadership to a wanted voter before removing itself). Proposals get
 * SLUICE_EBUSY while a change is being committed (its configuration entry takes an offset).
 * Call it again (e.g. every tick) until it returns SLUICE_EEXIST: the configuration matches.
 * Returns 0 when a step started, SLUICE_EBUSY (a change in flight, or waiting for catch-up),
 * SLUICE_ENOTLEADER, SLUICE_EINVAL. */
int cons_reconfigure(struct cons_group *g, const uint32_t *voters, int n);

/* cons_reconfigure towards `voters` (1..CONS_VOTERS_MAX) plus `standbys` (0..CONS_STANDBYS_MAX,
 * disjoint from voters): members that replicate the log without voting (the controller's
 * followers outside controller.quorum.voters). A missing standby is added as a spare, then made
 * a standby; a wanted standby that is already a voter is left a voter. */
int cons_reconfigure_standbys(struct cons_group *g, const uint32_t *voters, int n,
			      const uint32_t *standbys, int m);

/* Whether `node` is in the group's current configuration, and its raft role (0 standby,
 * 1 voter, 2 spare). */
bool cons_member(const struct cons_group *g, uint32_t node, int *role);

/* On the leader, with no membership change in flight: 1 if `node` is in the committed
 * configuration, 0 if not; -1 when this replica cannot tell (not the ready leader, or a change
 * not committed yet). */
int cons_member_committed(const struct cons_group *g, uint32_t node);

/* Asks leadership to move to `target` (0: the most up-to-date voter). Returns 0 if the transfer
 * started, SLUICE_ENOTLEADER, SLUICE_EINVAL. The outcome shows as a role change. */
int cons_transfer(struct cons_group *g, uint32_t target);

/* The mitigations in shim.c read canonical raft 0.15.0's internals (struct raft fields, the
 * union layout), so the library loaded at run time must be that version: the build pins the
 * headers (meson: raft == 0.15.0); this checks the loaded library exports no symbol of a later
 * release and names it in `errmsg` otherwise. Returns 0 or SLUICE_EVERSION. */
int cons_library_check(char *errmsg);

struct cons_stats {
	uint64_t groups;
	uint64_t ticks;
	uint64_t msgs_sent, msgs_recv, msgs_dropped, msgs_bad;
	uint64_t proposals, commits;
};
void cons_node_stats(const struct cons_node *n, struct cons_stats *out);

/* The mitigation counters of the group's shim (raft/shim.h), for tests and logs. */
struct shim_stats;
const struct shim_stats *cons_shim_stats(const struct cons_group *g);

#endif
