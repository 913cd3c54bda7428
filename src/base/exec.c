/*
 * exec: the inline executor for deterministic tests (see exec.h). The libuv executor lives in
 * storage/worker.c.
 */
#include "base/exec.h"

#include <stddef.h>

static void push(struct exec_inline *e, struct exec_job *job)
{
	job->next = NULL;
	if (e->tail != NULL)
		e->tail->next = job;
	else
		e->head = job;
	e->tail = job;
}

static struct exec_job *pop(struct exec_inline *e)
{
	struct exec_job *job = e->head;

	if (job == NULL)
		return NULL;
	e->head = job->next;
	if (e->head == NULL)
		e->tail = NULL;
	job->next = NULL;
	return job;
}

/* impl[0] records whether the job's work has run. */
static int inline_submit(struct exec *exec, struct exec_job *job)
{
	struct exec_inline *e = (struct exec_inline *)exec;

	job->impl[0] = NULL;
	if (!e->defer_work) {
		job->work(job);
		job->impl[0] = job;
	}
	push(e, job);
	return 0;
}

void exec_inline_init(struct exec_inline *e)
{
	e->exec.submit = inline_submit;
	e->head = NULL;
	e->tail = NULL;
	e->defer_work = false;
}

int exec_inline_step(struct exec_inline *e)
{
	struct exec_job *job = pop(e);

	if (job == NULL)
		return 0;
	if (job->impl[0] == NULL)
		job->work(job);
	job->done(job);
	return 1;
}

int exec_inline_run(struct exec_inline *e)
{
	int n = 0;

	while (exec_inline_step(e))
		n++;
	return n;
}
