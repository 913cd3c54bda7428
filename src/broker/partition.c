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

int partition_open(struct partition *p, struct topic *topic, int32_t index,
		   const struct plog_open_args *args, char *errmsg)
{
	int rv;

	memset(p, 0, sizeof *p);
	p->topic = topic;
	p->index = index;
	pidstate_init(&p->producers);
	rv = plog_open(args, &p->log, errmsg);
	if (rv != 0)
		return rv;
	p->hw = plog_durable_offset(p->log);
	if (!plog_needs_repair(p->log)) {
		rv = rebuild_producers(p);
		if (rv != 0)
			SLOG_WARN(MOD, "msg=\"could not rebuild producer state; idempotent producers "
				       "will restart their sequences\" partition=%s err=\"%s\"",
				  args->name, err_str(rv));
	}
	return 0;
}

void partition_close(struct partition *p, void (*cb)(void *arg), void *arg)
{
	/* Waiters belong to fetches; the broker answers them before closing partitions. */
	p->closing = true;
	pidstate_free(&p->producers);
	plog_close(p->log, cb, arg);
}

void partition_advance(struct partition *p)
{
	int64_t d = plog_durable_offset(p->log);
	if (d <= p->hw)
		return;
	p->hw = d;
	/* wake() only marks its owner ready (see partition.h), so the list is stable here. */
	for (struct partition_waiter *w = p->waiters; w != NULL; w = w->next)
		if (p->hw > w->offset)
			w->wake(w);
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
