/*
 * exec: where blocking work runs.
 *
 * Storage does its writes, fsyncs, file creation and deletion off the event loop: it hands a
 * struct exec_job to an executor, whose `work` runs on some thread and whose `done` then runs on
 * the loop thread. Two executors exist: the libuv thread pool (storage/worker.c) for the server,
 * and exec_inline here for deterministic tests: `work` runs at once inside submit, and `done`
 * runs when the test calls exec_inline_run(), so a test controls exactly when completions land.
 *
 * Invariant: `done` of a job runs exactly once, after its `work`, on the thread that calls into
 * the owner of the job (the loop).
 */
#ifndef SLUICE_BASE_EXEC_H
#define SLUICE_BASE_EXEC_H

#include <stdbool.h>

struct exec_job;
typedef void (*exec_work_fn)(struct exec_job *job);
typedef void (*exec_done_fn)(struct exec_job *job);

struct exec_job {
	exec_work_fn work;
	exec_done_fn done;
	void *impl[4]; /* executor-private */
	struct exec_job *next;
};

struct exec {
	/* Queues `job`; returns 0. */
	int (*submit)(struct exec *e, struct exec_job *job);
};

static inline int exec_submit(struct exec *e, struct exec_job *job)
{
	return e->submit(e, job);
}

struct exec_inline {
	struct exec exec;
	struct exec_job *head; /* completed jobs awaiting done(), FIFO */
	struct exec_job *tail;
	bool defer_work; /* if true, work also waits for exec_inline_run (lets tests crash mid-flight) */
};

void exec_inline_init(struct exec_inline *e);
/* Runs queued work and done callbacks (including those queued by callbacks) until none is left.
 * Returns how many done callbacks ran. */
int exec_inline_run(struct exec_inline *e);
/* Runs at most one job's work and done. Returns 1 if one ran, 0 if nothing was queued. */
int exec_inline_step(struct exec_inline *e);

#endif
