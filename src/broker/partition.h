/*
 * partition: one partition replica on this node — its Raft group (raft/cons.h) and log, the
 * high watermark, idempotent producers' state, and the fetches waiting for data.
 *
 * The high watermark is the group's commit offset: a batch is visible to consumers once a
 * majority of the replicas stored it. Only the ready leader (cons_is_leader) takes produces and
 * serves fetches; other replicas answer NOT_LEADER_OR_FOLLOWER.
 *
 * Producer state: the leader records a batch when it proposes it (its offsets are known then);
 * every replica records committed batches as Raft applies them, unless already recorded
 * (offsets below pid_end); a cut of the log drops what it removed. So a replica that becomes
 * leader has exactly the producer state of its log.
 *
 * Invariants:
 *   1. hw == cons_commit_offset(group) and never decreases while the partition is open.
 *   2. Every waiter is on exactly one partition's list until it is woken or cancelled.
 *   3. Every batch below pid_end is in `producers` (when it carries a producer id).
 */
#ifndef SLUICE_BROKER_PARTITION_H
#define SLUICE_BROKER_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "broker/pidstate.h"
#include "storage/plog.h"

struct partition;

/* Someone (a parked Fetch) waiting for the high watermark to pass `offset`. `wake` is called
 * each time the high watermark moves past `offset` while the waiter is registered; it must not
 * add or remove waiters (it marks its owner ready; the owner completes later, outside). */
struct partition_waiter {
	struct partition *p;
	int64_t offset;
	void (*wake)(struct partition_waiter *w);
	void *data;
	struct partition_waiter *prev, *next;
};

struct cons_node;
struct cons_group;

struct partition {
	struct topic *topic;
	int32_t index;
	struct cons_group *group; /* NULL when this node holds no (started) replica */
	struct cons_group *prepared; /* opened off the loop, not started yet */
	bool opening;                /* a worker is preparing it */
	struct plog *log;         /* the group's log */
	int64_t hw;
	struct pidstate producers;
	int64_t pid_end; /* batches below it are recorded in `producers` */
	int64_t apply_end; /* batches below it were given to on_apply (or replayed by the owner) */
	struct partition_waiter *waiters;
	uint64_t appends_inflight;
	bool closing; /* partition_close called: no new work, no more advances */
	bool was_leader;
	int64_t removed_since_ms; /* the image stopped listing this node as a replica */
	bool removal_confirmed;    /* and the group's leader said it is no longer a member */
	/* Compaction (cleanup.policy=compact), scheduled by the broker (broker.c). */
	int64_t cleaned_end;  /* offsets below it were seen by the last successful compaction */
	int64_t cleaned_ms;   /* wall clock of that compaction */
	bool tombstones_left; /* it kept tombstones that expire later */
	/* The broker's hooks: a committed batch applied (every replica), leadership or high
	 * watermark changed. Optional. */
	void (*on_apply)(struct partition *p, const uint8_t *batch, size_t len);
	void (*on_change)(struct partition *p);
	void *owner;
};

struct partition_open_args {
	const char *dir;
	const char *name; /* e.g. "orders-3" */
	uint64_t group_id;
	const uint32_t *replicas; /* the initial voters */
	int n_replicas;
	bool preferred; /* this node is the first replica (the preferred leader) */
	struct plog_config config;
};

/* Opens (recovering) or creates the replica in `dir`, starts its Raft group on `node`, and
 * rebuilds producer state from the stored batches' headers. Blocking. On failure `errmsg` names
 * the cause. */
int partition_open(struct partition *p, struct topic *topic, int32_t index,
		   struct cons_node *node, const struct partition_open_args *args, char *errmsg);

/* partition_open in two steps: partition_prepare does the blocking part (opens the files,
 * bootstraps a pristine replica, rebuilds producer state) and may run on a worker thread;
 * partition_start starts the Raft group on the loop thread; partition_discard drops a prepared
 * partition that will not be started. */
int partition_prepare(struct partition *p, struct topic *topic, int32_t index,
		      struct cons_node *node, const struct partition_open_args *args, char *errmsg);
int partition_start(struct partition *p, char *errmsg);
void partition_discard(struct partition *p);

/* Stops the group and closes the log; calls cb when done. */
void partition_close(struct partition *p, void (*cb)(void *arg), void *arg);

/* Proposes a batch the broker built (offset commits, tombstones) with plog's callback
 * convention: on success req->base_offset/last_offset are set and `cb(req, status)` runs once
 * the batch is committed (status 0) or failed. Returns an error (the callback then never runs)
 * as cons_propose does. */
int partition_append(struct partition *p, struct plog_append_req *req, struct buf *b,
		     plog_append_cb cb);

/* True when this replica is the ready leader (it may take produces and serve fetches). */
bool partition_is_leader(const struct partition *p);
/* The ready leader holds its read lease (cons_read_lease). */
bool partition_read_lease(const struct partition *p);

void partition_wait(struct partition *p, struct partition_waiter *w);
void partition_unwait(struct partition_waiter *w);

#endif
