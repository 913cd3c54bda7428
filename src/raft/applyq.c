/*
 * applyq: group commit in front of raft_apply (see applyq.h for the why and the contract).
 *
 * Memory: every batch slot (one struct raft_apply plus the list of its proposals) and the
 * scratch array of buffers handed to raft_apply are allocated once in applyq_new, so proposing
 * allocates nothing. Proposals are intrusive (struct applyq_req::next).
 *
 * Invariants (besides applyq.h's):
 *   1. A slot is on the free stack iff it has no proposals.
 *   2. n_inflight + free slots == applies_max.
 */
#include "raft/applyq.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "base/err.h"

struct slot {
	struct raft_apply req; /* raft's request; req.data points back at the slot */
	struct applyq *q;
	struct applyq_req *head; /* proposals of this batch, in index order */
	unsigned n;
	struct slot *next_free;
};

struct applyq {
	struct raft *r;
	struct applyq_config cfg;
	struct slot *slots;
	struct slot *free_slots;
	unsigned n_inflight;
	struct applyq_req *head, *tail; /* queued */
	size_t n_queued;
	struct raft_buffer *bufs; /* scratch for raft_apply, bufs_per_apply_max long */
};

static int map_status(int raft_status)
{
	switch (raft_status) {
	case 0:
		return 0;
	case RAFT_NOMEM:
		return SLUICE_ENOMEM;
	default: /* RAFT_NOTLEADER, RAFT_LEADERSHIPLOST, RAFT_SHUTDOWN, io errors (without M1) */
		return SLUICE_ENOTLEADER;
	}
}

/* Completes the proposals of `list` in order. `first` is the Raft index of the first. */
static void complete(struct applyq_req *list, int status, raft_index first)
{
	raft_index index = first;
	while (list != NULL) {
		struct applyq_req *req = list;
		list = req->next;
		req->next = NULL;
		req->cb(req, status, status == 0 ? index : 0);
		index++;
	}
}

static void pump(struct applyq *q);

static void apply_cb(struct raft_apply *req, int status, void *result)
{
	struct slot *slot = req->data;
	struct applyq *q = slot->q;
	struct applyq_req *list = slot->head;
	raft_index first = req->index;
	(void)result; /* the FSM result of the batch's first entry only; proposers need none */

	slot->head = NULL;
	slot->n = 0;
	slot->next_free = q->free_slots;
	q->free_slots = slot;
	assert(q->n_inflight > 0);
	q->n_inflight--;

	/* raft_apply's callback fires when the batch's first entry is applied; the commit index
	 * of 0.15.0 only ever lands on the end of a leader append (it is the leader's
	 * last_stored), so the whole batch is committed by then. */
	complete(list, map_status(status), first);
	if (status == 0)
		pump(q);
	else
		applyq_fail_queued(q, SLUICE_ENOTLEADER);
}

/* Submits queued proposals while a slot is free. */
static void pump(struct applyq *q)
{
	while (q->free_slots != NULL && q->head != NULL) {
		if (raft_state(q->r) != RAFT_LEADER) {
			applyq_fail_queued(q, SLUICE_ENOTLEADER);
			return;
		}
		struct slot *slot = q->free_slots;
		unsigned n = 0;
		struct applyq_req *last = NULL;
		for (struct applyq_req *p = q->head; p != NULL && n < q->cfg.bufs_per_apply_max;
		     p = p->next) {
			q->bufs[n++] = p->buf;
			last = p;
		}
		int rv = raft_apply(q->r, &slot->req, q->bufs, n, apply_cb);
		/* Detach the batch from the queue either way. */
		struct applyq_req *batch = q->head;
		q->head = last->next;
		if (q->head == NULL)
			q->tail = NULL;
		last->next = NULL;
		q->n_queued -= n;
		if (rv != 0) {
			complete(batch, map_status(rv), 0);
			continue;
		}
		for (struct applyq_req *p = batch; p != NULL; p = p->next) {
			p->buf.base = NULL; /* raft's now */
			p->buf.len = 0;
		}
		q->free_slots = slot->next_free;
		slot->next_free = NULL;
		slot->head = batch;
		slot->n = n;
		q->n_inflight++;
	}
}

int applyq_new(struct raft *r, const struct applyq_config *cfg, struct applyq **out)
{
	if (r == NULL || cfg == NULL || out == NULL || cfg->applies_max == 0 ||
	    cfg->bufs_per_apply_max == 0 || cfg->queued_max == 0)
		return SLUICE_EINVAL;
	struct applyq *q = calloc(1, sizeof(*q));
	if (q == NULL)
		return SLUICE_ENOMEM;
	q->slots = calloc(cfg->applies_max, sizeof(*q->slots));
	if (q->slots == NULL)
		goto err_after_q;
	q->bufs = calloc(cfg->bufs_per_apply_max, sizeof(*q->bufs));
	if (q->bufs == NULL)
		goto err_after_slots;
	q->r = r;
	q->cfg = *cfg;
	for (unsigned i = cfg->applies_max; i-- > 0;) {
		q->slots[i].q = q;
		q->slots[i].req.data = &q->slots[i];
		q->slots[i].next_free = q->free_slots;
		q->free_slots = &q->slots[i];
	}
	*out = q;
	return 0;

err_after_slots:
	free(q->slots);
err_after_q:
	free(q);
	return SLUICE_ENOMEM;
}

int applyq_propose(struct applyq *q, struct applyq_req *req, struct raft_buffer buf, applyq_cb cb)
{
	if (raft_state(q->r) != RAFT_LEADER)
		return SLUICE_ENOTLEADER;
	if (q->n_queued >= q->cfg.queued_max)
		return SLUICE_EBUSY;
	req->buf = buf;
	req->cb = cb;
	req->next = NULL;
	if (q->tail != NULL)
		q->tail->next = req;
	else
		q->head = req;
	q->tail = req;
	q->n_queued++;
	pump(q);
	return 0;
}

unsigned applyq_inflight(const struct applyq *q)
{
	return q->n_inflight;
}

size_t applyq_queued(const struct applyq *q)
{
	return q->n_queued;
}

void applyq_fail_queued(struct applyq *q, int status)
{
	struct applyq_req *list = q->head;
	q->head = NULL;
	q->tail = NULL;
	q->n_queued = 0;
	complete(list, status, 0);
}

void applyq_free(struct applyq *q)
{
	if (q == NULL)
		return;
	assert(q->n_inflight == 0);
	applyq_fail_queued(q, SLUICE_ECLOSED);
	free(q->bufs);
	free(q->slots);
	free(q);
}
