/*
 * partition: a partition replica's log plus the broker state around it (see partition.h).
 */
#include "broker/partition.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/slog.h"
#include "base/codec.h"
#include "broker/topics.h"
#include "raft/cons.h"
#include "storage/batch.h"

#define MOD "broker"

/* Replays stored batch headers into the producer table. Reads the whole log's headers: the
 * cost is one header per batch (see docs/broker.md for the bound and future snapshots). */
static int rebuild_producers(struct partition *p)
{
	int64_t off = plog_start_offset(p->log);
	int64_t end = plog_durable_offset(p->log);

	while (off < end) {
		struct plog_read_result r;
		int rv = plog_read(p->log, off, end, 1 << 20, &r);
		if (rv != 0)
			return rv;
		if (r.len == 0)
			break;
		for (size_t at = 0; at < r.len;) {
			struct batch_header h;
			if (batch_header_decode(r.buf->data + at, r.len - at, &h) != 0)
				break;
			if (h.producer_id >= 0 && h.base_sequence >= 0) {
				rv = pidstate_record(&p->producers, h.producer_id, h.producer_epoch,
						     h.base_sequence,
						     h.base_sequence + h.last_offset_delta,
						     h.base_offset, batch_last_offset(&h));
				if (rv != 0) {
					buf_unref(r.buf);
					return rv;
				}
			}
			at += batch_total_bytes(&h);
		}
		off = r.next_offset;
		buf_unref(r.buf);
	}
	return 0;
}

static void record_batch(struct partition *p, const struct batch_header *h)
{
	if (h->producer_id >= 0 && h->base_sequence >= 0 &&
	    pidstate_record(&p->producers, h->producer_id, h->producer_epoch, h->base_sequence,
			    h->base_sequence + h->last_offset_delta, h->base_offset,
			    batch_last_offset(h)) != 0)
		SLOG_WARN(MOD, "msg=\"producer state full or out of memory\" partition=%s-%d",
			  p->topic->name, p->index);
}

static void part_apply(void *arg, uint64_t index, const uint8_t *batch, size_t len)
{
	(void)index;
	struct partition *p = arg;
	struct batch_header h;

	if (batch_header_decode(batch, len, &h) != 0)
		return;
	if (h.base_offset >= p->pid_end) {
		record_batch(p, &h);
		p->pid_end = batch_last_offset(&h) + 1;
	}
	if (p->on_apply && h.base_offset >= p->apply_end) {
		p->on_apply(p, batch, len);
		p->apply_end = batch_last_offset(&h) + 1;
	}
}

static void part_truncated(void *arg, int64_t offset)
{
	struct partition *p = arg;

	pidstate_truncate(&p->producers, offset);
	if (p->pid_end > offset)
		p->pid_end = offset;
}

static void part_changed(void *arg)
{
	struct partition *p = arg;

	if (p->closing || p->group == NULL)
		return; /* still opening, or closing */
	int64_t hw = cons_commit_offset(p->group);
	if (hw > p->hw) {
		p->hw = hw;
		/* wake() only marks its owner ready (see partition.h), so the list is stable. */
		for (struct partition_waiter *w = p->waiters; w != NULL; w = w->next)
			if (p->hw > w->offset)
				w->wake(w);
	}
	bool leader = cons_is_leader(p->group);
	if (leader != p->was_leader) {
		p->was_leader = leader;
		SLOG_INFO(MOD, "msg=\"%s\" partition=%s-%d term=%" PRIu64,
			  leader ? "leading" : "no longer leading", p->topic->name, p->index,
			  cons_term(p->group));
		if (!leader) {
			/* Parked fetches re-check leadership when woken. */
			for (struct partition_waiter *w = p->waiters; w != NULL; w = w->next)
				w->wake(w);
		}
	}
	if (p->on_change)
		p->on_change(p);
}

static void part_failed(void *arg, const char *why)
{
	struct partition *p = arg;
	SLOG_ERROR(MOD, "msg=\"replica stopped\" partition=%s-%d reason=\"%s\"", p->topic->name,
		   p->index, why);
	part_changed(p);
}

/* The state machine's snapshot: the data is the log, so only a format marker and the high
 * watermark (informational; the commit index comes from Raft). */
static int part_snapshot(void *arg, struct wbuf *out)
{
	struct partition *p = arg;
	wbuf_be16(out, 1);
	wbuf_be64(out, (uint64_t)p->hw);
	return out->oom ? SLUICE_ENOMEM : 0;
}

static int part_restore(void *arg, const uint8_t *data, size_t len)
{
	(void)arg;
	return len >= 2 && be16_get(data) == 1 ? 0 : SLUICE_EMALFORMED;
}

int partition_prepare(struct partition *p, struct topic *topic, int32_t index,
		      struct cons_node *node, const struct partition_open_args *args, char *errmsg)
{
	int rv;

	/* The caller zeroed *p on the loop thread (this may run on a worker). */
	p->topic = topic;
	p->index = index;
	pidstate_init(&p->producers);
	struct cons_group_config gc = {
		.group_id = args->group_id,
		.dir = args->dir,
		.name = args->name,
		.plog = args->config,
		.voters = args->replicas,
		.n_voters = args->n_replicas,
		.campaign_first = args->preferred,
		.ops = {.apply = part_apply,
			.snapshot = part_snapshot,
			.restore = part_restore,
			.changed = part_changed,
			.truncated = part_truncated,
			.failed = part_failed,
			.arg = p},
	};
	rv = cons_group_prepare(node, &gc, &p->prepared, errmsg);
	if (rv != 0) {
		pidstate_free(&p->producers);
		return rv;
	}
	p->log = cons_log(p->prepared);
	if (!plog_needs_repair(p->log)) {
		rv = rebuild_producers(p);
		if (rv != 0)
			SLOG_WARN(MOD, "msg=\"could not rebuild producer state; idempotent producers "
				       "will restart their sequences\" partition=%s err=\"%s\"",
				  args->name, err_str(rv));
	}
	p->pid_end = plog_durable_offset(p->log);
	return 0;
}

int partition_start(struct partition *p, char *errmsg)
{
	struct cons_group *g = p->prepared;
	p->prepared = NULL;
	int rv = cons_group_start(g, errmsg);
	if (rv != 0) {
		p->log = NULL;
		pidstate_free(&p->producers);
		return rv;
	}
	p->group = g;
	part_changed(p);
	return 0;
}

void partition_discard(struct partition *p)
{
	if (p->prepared == NULL)
		return;
	cons_group_discard(p->prepared);
	p->prepared = NULL;
	p->log = NULL;
	pidstate_free(&p->producers);
}

int partition_open(struct partition *p, struct topic *topic, int32_t index,
		   struct cons_node *node, const struct partition_open_args *args, char *errmsg)
{
	memset(p, 0, sizeof *p);
	int rv = partition_prepare(p, topic, index, node, args, errmsg);
	return rv != 0 ? rv : partition_start(p, errmsg);
}

void partition_close(struct partition *p, void (*cb)(void *arg), void *arg)
{
	/* Waiters belong to fetches; the broker answers them before closing partitions. */
	p->closing = true;
	pidstate_free(&p->producers);
	if (p->group == NULL) {
		if (cb)
			cb(arg);
		return;
	}
	struct cons_group *g = p->group;
	p->group = NULL;
	cons_group_close(g, cb, arg);
}

static void append_committed_cb(void *arg, int status, int64_t base, int64_t last)
{
	struct plog_append_req *req = arg;
	(void)base;
	(void)last;
	req->cb(req, status);
}

int partition_append(struct partition *p, struct plog_append_req *req, struct buf *b,
		     plog_append_cb cb)
{
	if (p->group == NULL || p->closing)
		return SLUICE_ENOTLEADER;
	req->cb = cb;
	return cons_propose(p->group, b->data, b->len, CONS_WAIT_COMMIT, append_committed_cb, req,
			    &req->base_offset, &req->last_offset);
}

bool partition_read_lease(const struct partition *p)
{
	return p->group != NULL && !p->closing && cons_read_lease(p->group);
}

bool partition_is_leader(const struct partition *p)
{
	return p->group != NULL && !p->closing && cons_is_leader(p->group);
}

void partition_wait(struct partition *p, struct partition_waiter *w)
{
	w->p = p;
	w->prev = NULL;
	w->next = p->waiters;
	if (p->waiters != NULL)
		p->waiters->prev = w;
	p->waiters = w;
}

void partition_unwait(struct partition_waiter *w)
{
	if (w->p == NULL)
		return;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		w->p->waiters = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->p = NULL;
	w->prev = w->next = NULL;
}
