/*
 * worker: libuv thread-pool executor (see worker.h).
 */
#include "storage/worker.h"

#include <stdlib.h>

#include "base/err.h"

struct worker_req {
	uv_work_t req;
	struct worker *w;
	struct exec_job *job;
};

static void worker_work_cb(uv_work_t *req)
{
	struct worker_req *wr = req->data;

	wr->job->work(wr->job);
}

static void worker_after_cb(uv_work_t *req, int status)
{
	struct worker_req *wr = req->data;
	struct exec_job *job = wr->job;

	/* uv_cancel is never called on these, so status is always 0 and work has run. */
	(void)status;
	wr->w->inflight--;
	free(wr);
	job->done(job);
}

static int worker_submit(struct exec *e, struct exec_job *job)
{
	struct worker *w = (struct worker *)e;
	struct worker_req *wr = malloc(sizeof *wr);
	int rv;

	if (wr == NULL)
		return SLUICE_ENOMEM;
	wr->req.data = wr;
	wr->w = w;
	wr->job = job;
	rv = uv_queue_work(w->loop, &wr->req, worker_work_cb, worker_after_cb);
	if (rv != 0) {
		free(wr);
		return SLUICE_EIO;
	}
	w->inflight++;
	return 0;
}

void worker_init(struct worker *w, uv_loop_t *loop)
{
	w->exec.submit = worker_submit;
	w->loop = loop;
	w->inflight = 0;
}
