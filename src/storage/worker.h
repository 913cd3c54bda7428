/*
 * worker: the executor (base/exec.h) that runs storage's blocking work on libuv's thread pool
 * and completes it on the loop. libuv's pool has UV_THREADPOOL_SIZE threads (default 4); each
 * partition log keeps at most one job in flight, so one slow disk cannot take every thread for
 * one partition.
 */
#ifndef SLUICE_STORAGE_WORKER_H
#define SLUICE_STORAGE_WORKER_H

#include <uv.h>

#include "base/exec.h"

struct worker {
	struct exec exec;
	uv_loop_t *loop;
	uint64_t inflight; /* jobs submitted and not yet done */
};

void worker_init(struct worker *w, uv_loop_t *loop);

#endif
