/*
 * pidstate: idempotent-producer sequence tracking (rules in pidstate.h).
 *
 * Invariant: within a producer, cached batches are in append order with increasing offsets and
 * n <= PIDSTATE_BATCHES_MAX.
 */
#include "broker/pidstate.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

void pidstate_init(struct pidstate *ps)
{
	memset(ps, 0, sizeof *ps);
}

void pidstate_free(struct pidstate *ps)
{
	free(ps->v);
	pidstate_init(ps);
}

static struct pidstate_producer *find(struct pidstate *ps, int64_t pid)
{
	for (int i = 0; i < ps->n; i++)
		if (ps->v[i].pid == pid)
			return &ps->v[i];
	return NULL;
}

static int32_t next_seq(int32_t seq)
{
	return seq == INT32_MAX ? 0 : seq + 1;
}

enum pidstate_verdict pidstate_check(struct pidstate *ps, int64_t pid, int16_t epoch,
				     int32_t first_seq, int32_t last_seq,
				     struct pidstate_batch *dup)
{
	struct pidstate_producer *p = find(ps, pid);

	if (p == NULL)
		return first_seq == 0 ? PIDSTATE_OK : PIDSTATE_OUT_OF_ORDER;
	if (epoch < p->epoch)
		return PIDSTATE_FENCED;
	if (epoch > p->epoch)
		return first_seq == 0 ? PIDSTATE_OK : PIDSTATE_OUT_OF_ORDER;
	for (int i = 0; i < p->n; i++) {
		if (p->batches[i].first_seq == first_seq && p->batches[i].last_seq == last_seq) {
			*dup = p->batches[i];
			return PIDSTATE_DUPLICATE;
		}
	}
	if (p->n == 0)
		return first_seq == 0 ? PIDSTATE_OK : PIDSTATE_OUT_OF_ORDER;
	if (first_seq != next_seq(p->batches[p->n - 1].last_seq))
		return PIDSTATE_OUT_OF_ORDER;
	return PIDSTATE_OK;
}

int pidstate_record(struct pidstate *ps, int64_t pid, int16_t epoch, int32_t first_seq,
		    int32_t last_seq, int64_t base_offset, int64_t last_offset)
{
	struct pidstate_producer *p = find(ps, pid);

	if (p == NULL) {
		if (ps->n == PIDSTATE_PRODUCERS_MAX) {
			/* Forget the least recently used producer. */
			int lru = 0;
			for (int i = 1; i < ps->n; i++)
				if (ps->v[i].last_used < ps->v[lru].last_used)
					lru = i;
			ps->v[lru] = ps->v[--ps->n];
		}
		if (ps->n == ps->cap) {
			int ncap = ps->cap ? ps->cap * 2 : 8;
			struct pidstate_producer *v = realloc(ps->v, (size_t)ncap * sizeof *v);
			if (v == NULL)
				return SLUICE_ENOMEM;
			ps->v = v;
			ps->cap = ncap;
		}
		p = &ps->v[ps->n++];
		memset(p, 0, sizeof *p);
		p->pid = pid;
		p->epoch = epoch;
	}
	if (epoch != p->epoch) {
		p->epoch = epoch;
		p->n = 0;
	}
	if (p->n == PIDSTATE_BATCHES_MAX) {
		memmove(&p->batches[0], &p->batches[1], (PIDSTATE_BATCHES_MAX - 1) * sizeof p->batches[0]);
		p->n--;
	}
	p->batches[p->n++] = (struct pidstate_batch){first_seq, last_seq, base_offset, last_offset};
	p->last_used = ++ps->clock;
	return 0;
}

void pidstate_truncate(struct pidstate *ps, int64_t offset)
{
	for (int i = 0; i < ps->n;) {
		struct pidstate_producer *p = &ps->v[i];
		while (p->n > 0 && p->batches[p->n - 1].base_offset >= offset)
			p->n--;
		if (p->n == 0)
			ps->v[i] = ps->v[--ps->n];
		else
			i++;
	}
}
