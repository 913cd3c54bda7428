/*
 * partition: one partition replica on this node — its log, the high watermark, idempotent
 * producers' state, and the fetches waiting for data.
 *
 * On a single node the high watermark is the log's durable offset: an acks=all produce is
 * answered when its batch is durable, and consumers see only durable data. (With replication
 * the high watermark becomes the Raft commit index.)
 *
 * Invariants:
 *   1. hw == plog_durable_offset(log) and never decreases while the partition is open.
 *   2. Every waiter is on exactly one partition's list until it is woken or cancelled.
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

struct partition {
	struct topic *topic;
	int32_t index;
	struct plog *log;
	int64_t hw;
	struct pidstate producers;
	struct partition_waiter *waiters;
	uint64_t appends_inflight;
	bool closing; /* partition_close called: no new work, no more advances */
	/* Compaction (cleanup.policy=compact), scheduled by the broker (broker.c). */
	int64_t cleaned_end;  /* offsets below it were seen by the last successful compaction */
	int64_t cleaned_ms;   /* wall clock of that compaction */
	bool tombstones_left; /* it kept tombstones that expire later */
};

/* Opens (recovering) the partition's log in `dir` and rebuilds producer state from the stored
 * batches' headers. On failure `errmsg` names the cause. */
int partition_open(struct partition *p, struct topic *topic, int32_t index,
		   const struct plog_open_args *args, char *errmsg);

/* Flushes and closes the log; calls cb when done. */
void partition_close(struct partition *p, void (*cb)(void *arg), void *arg);

/* Called by the owner of each append once it completes successfully: moves the high watermark
 * and wakes waiters whose offset it passed. */
void partition_advance(struct partition *p);

void partition_wait(struct partition *p, struct partition_waiter *w);
void partition_unwait(struct partition_waiter *w);

#endif
