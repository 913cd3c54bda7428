/*
 * applyq: group commit in front of raft_apply (mitigation M7 for raft 0.15.0's 1996d32, and
 * the fcc4c8d discipline).
 *
 * Why. 0.15.0 checks the commit quorum only at the leader's own last_stored index. Under a
 * steady stream of one-entry raft_apply calls the leader's last_stored is always ahead of what
 * the followers have acknowledged, so commit_index stalls until the stream pauses. With at most
 * `applies_max` raft_apply calls in flight, and everything proposed meanwhile coalesced into the
 * next call, the leader's last_stored equals the end of an in-flight batch when the followers'
 * results for it arrive, and every batch commits one round trip after it is written.
 *
 * Happy path. applyq_propose() queues a buffer; whenever fewer than applies_max batches are in
 * flight, up to bufs_per_apply_max queued buffers become one raft_apply call (one raft entry
 * per buffer). When raft fires that call's callback, every proposer of the batch completes, in
 * index order, with the Raft index of its own entry (raft's request index plus its position in
 * the batch, never raft_last_applied(), which 0.15.0 bumps only after the callback: fcc4c8d),
 * and the next batch is submitted.
 *
 * Failure modes: raft failing a batch (RAFT_LEADERSHIPLOST when the leader steps down or
 * closes) completes its proposers with SLUICE_ENOTLEADER - ambiguous, the entries may still
 * commit under the next leader - and every proposal still queued with SLUICE_ENOTLEADER too
 * (those never reached raft, so they certainly did not commit). Nothing is submitted from a
 * failure callback: raft fires those while tearing down leader state.
 *
 * Invariants:
 *   1. At most applies_max raft_apply calls are in flight.
 *   2. Proposals complete in the order they were proposed.
 *   3. A proposal is on exactly one of: the queue, an in-flight batch, or completed.
 */
#ifndef SLUICE_RAFT_APPLYQ_H
#define SLUICE_RAFT_APPLYQ_H

#include <raft.h>
#include <stddef.h>

struct applyq_req;

/* `status` is 0 (the entry is committed; `index` is its Raft index), SLUICE_ENOTLEADER,
 * SLUICE_ENOMEM or SLUICE_ECLOSED. raft fires one callback per raft_apply, while applying the
 * batch's first entry: the FSM has applied the entries before `index` and the batch's first,
 * and applies the rest in the same loop right after the callbacks return. Ownership of the buffer: once a proposal
 * reached raft, raft owns its bytes and req->buf.base is NULL; a proposal that failed before
 * reaching raft still has req->buf.base set, and the proposer owns (frees) it. */
typedef void (*applyq_cb)(struct applyq_req *req, int status, raft_index index);

/* A proposal. The caller owns the struct and keeps it valid until its callback. */
struct applyq_req {
	void *data;             /* for the caller */
	struct raft_buffer buf; /* read-only for the caller; see applyq_cb for ownership */
	/* private */
	applyq_cb cb;
	struct applyq_req *next;
};

struct applyq_config {
	unsigned applies_max; /* raft_apply calls in flight, >= 1 (1 = strict group commit) */
	unsigned bufs_per_apply_max; /* entries per raft_apply call, >= 1 */
	size_t queued_max;           /* proposals waiting for a slot, >= 1 */
};

struct applyq;

/* Creates a queue for `r`. Returns 0, SLUICE_EINVAL for a zero limit, or SLUICE_ENOMEM. */
int applyq_new(struct raft *r, const struct applyq_config *cfg, struct applyq **out);

/* Proposes `buf` (allocated with raft_malloc; on success raft owns it once its batch is
 * submitted). Returns 0, SLUICE_ENOTLEADER if `r` is not leader, SLUICE_EBUSY if queued_max
 * proposals are waiting; on error `cb` never runs and the caller keeps `buf`. `cb` runs before
 * applyq_propose returns only if raft refuses the batch synchronously (out of memory). */
int applyq_propose(struct applyq *q, struct applyq_req *req, struct raft_buffer buf, applyq_cb cb);

/* Batches in flight and proposals waiting. */
unsigned applyq_inflight(const struct applyq *q);
size_t applyq_queued(const struct applyq *q);

/* Fails every queued (not yet submitted) proposal with `status`. */
void applyq_fail_queued(struct applyq *q, int status);

/* Fails queued proposals with SLUICE_ECLOSED and frees the queue. NULL is accepted.
 * Precondition: no batch in flight (raft_close's callback has run, or every batch completed). */
void applyq_free(struct applyq *q);

#endif
