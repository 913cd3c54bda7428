/*
 * pidstate: idempotent-producer state of one partition: for each producer id, its epoch and the
 * sequence ranges and offsets of its last PIDSTATE_BATCHES_MAX batches (Kafka keeps five, the
 * most a producer may have in flight with idempotence on).
 *
 * Rules (Kafka's, ProducerStateManager): a batch from an older epoch is fenced
 * (INVALID_PRODUCER_EPOCH); a newer epoch must start at sequence 0; within an epoch a batch must
 * start at the last sequence + 1 (wrapping after INT32_MAX to 0), else it is out of order,
 * unless it repeats one of the cached batches exactly, in which case it is a duplicate and the
 * broker answers with the offsets it assigned the first time instead of appending it again.
 * A producer id not seen before may start at any sequence only if it is 0.
 *
 * Pure: no I/O. The broker rebuilds it on start-up by feeding every stored batch's header to
 * pidstate_record.
 */
#ifndef SLUICE_BROKER_PIDSTATE_H
#define SLUICE_BROKER_PIDSTATE_H

#include <stdint.h>

#define PIDSTATE_BATCHES_MAX 5
/* Producers tracked per partition; the least recently used is forgotten beyond this bound. */
#define PIDSTATE_PRODUCERS_MAX 10000

enum pidstate_verdict {
	PIDSTATE_OK,
	PIDSTATE_DUPLICATE,
	PIDSTATE_OUT_OF_ORDER,
	PIDSTATE_FENCED,
};

struct pidstate_batch {
	int32_t first_seq;
	int32_t last_seq;
	int64_t base_offset;
	int64_t last_offset;
};

struct pidstate_producer {
	int64_t pid;
	int16_t epoch;
	int n; /* cached batches, oldest first */
	struct pidstate_batch batches[PIDSTATE_BATCHES_MAX];
	uint64_t last_used;
};

struct pidstate {
	struct pidstate_producer *v;
	int n;
	int cap;
	uint64_t clock;
};

void pidstate_init(struct pidstate *ps);
void pidstate_free(struct pidstate *ps);

/* Judges a batch. For PIDSTATE_DUPLICATE, *dup gets the original batch's offsets. */
enum pidstate_verdict pidstate_check(struct pidstate *ps, int64_t pid, int16_t epoch,
				     int32_t first_seq, int32_t last_seq,
				     struct pidstate_batch *dup);

/* Records an appended batch (after pidstate_check said OK, or when replaying the log). Returns
 * 0 or SLUICE_ENOMEM. */
int pidstate_record(struct pidstate *ps, int64_t pid, int16_t epoch, int32_t first_seq,
		    int32_t last_seq, int64_t base_offset, int64_t last_offset);

/* Drops batches at or after `offset` (after a log truncation); producers left with none are
 * forgotten. */
void pidstate_truncate(struct pidstate *ps, int64_t offset);

#endif
