/*
 * Tests of src/raft/shim (and src/raft/applyq): one scenario per defect of canonical raft
 * 0.15.0 listed in shared/raft-defects.md §1, run on the library's own raft_fixture with the
 * shim installed on every fixture server's io.
 *
 * Each test runs its scenario twice: with the relevant mitigation switched off it asserts that
 * the defect shows (an acknowledged entry lost, a false commit, a candidate with writes in
 * flight, a crash...), with it on it asserts the safe outcome. Debian's libraft2 is built with
 * NDEBUG: raft's own assert()s are compiled out, so the "assertion" rows do not abort - they
 * read through a NULL pointer (baa8f52) or corrupt the heap (8be539d), or silently carry on
 * (23ed201, d144504). Scenarios that end in a crash, or that leak inside libraft, run that half
 * in a forked child that reports what it saw through a pipe; the suite itself never crashes.
 *
 * Layers on each fixture server's io, top to bottom: raft -> shim -> "ctl" (this file's
 * wrappers: they observe messages, fail chosen appends or snapshot stores asynchronously,
 * count writes in flight, drop chosen messages) -> the fixture's in-memory io. The fixture is
 * deterministic (time is simulated, every server's randomized election timeout is set), so every
 * scenario is exactly reproducible.
 *
 * One Suite "shim"; TCases: safety (S rows), crash (C rows), liveness (L rows and API
 * discipline), mechanics (the shim's own bookkeeping: thousands of groups, start-up barrier).
 * SHIM_TEST_TRACE=1 prints the servers' logs at the points a scenario marks with dump().
 */
#include <check.h>
#include <fcntl.h>
#include <raft.h>
#include <raft/fixture.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "raft/applyq.h"
#include "raft/shim.h"

/* A sanitizer turns a crash (SIGSEGV, glibc's double-free abort) into a report and exit(1). */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* Servers per fixture: the largest scenario (Figure 8, N1, 35479fc) needs five. */
#define N_MAX 5
/* Raft indexes an FSM records: every scenario stays far below. */
#define AT_MAX 512
/* Client requests one scenario can issue. */
#define APPLIES_MAX 1024

/* ---------------------------------------------------------------------------------------------
 * Harness: fixture + FSMs + ctl wrappers + shims
 */

/* What one server's FSM applied: the first payload byte at each index. */
struct fsm_state {
	unsigned i;
	char at[AT_MAX];
};

/* A request the ctl layer holds on the shim's behalf (append or snapshot_put). */
struct ctl_req {
	union {
		struct raft_io_append append;
		struct raft_io_snapshot_put put;
	} u;
	unsigned i;
	void *orig;
	raft_io_append_cb append_cb;
	raft_io_snapshot_put_cb put_cb;
	bool fail;
	bool install;
	raft_time due; /* failed installs: when to report */
	struct ctl_req *next;
};

/* A send whose completion the ctl layer reports later (dropped or "slow" messages). */
struct ctl_send {
	struct raft_io_send *req;
	raft_io_send_cb cb;
	raft_time due;
	bool slow; /* the io still references `req` until due (c6cfe58 model) */
	struct ctl_send *next;
};

/* A snapshot_get on a server that never stored a snapshot (reported as RAFT_NOTFOUND). */
struct ctl_get {
	struct raft_io_snapshot_get *req;
	raft_io_snapshot_get_cb cb;
	struct ctl_get *next;
};

/* Test-local state of one fixture server, under its shim. */
struct ctl {
	/* the fixture's methods */
	int (*start)(struct raft_io *, unsigned, raft_io_tick_cb, raft_io_recv_cb);
	int (*append)(struct raft_io *, struct raft_io_append *, const struct raft_entry[],
		      unsigned, raft_io_append_cb);
	int (*snapshot_put)(struct raft_io *, unsigned, struct raft_io_snapshot_put *,
			    const struct raft_snapshot *, raft_io_snapshot_put_cb);
	int (*send)(struct raft_io *, struct raft_io_send *, const struct raft_message *,
		    raft_io_send_cb);
	int (*snapshot_get)(struct raft_io *, struct raft_io_snapshot_get *,
			    raft_io_snapshot_get_cb);
	raft_io_recv_cb shim_recv;
	unsigned snapshots_stored;
	unsigned appends_pending;
	unsigned installs_pending;
	bool fail_next_append;
	bool fail_next_install;
	bool in_install_cb;
	unsigned fatal_count;
	char fatal_why[256];
};

struct harness {
	struct raft_fixture f;
	unsigned n;
	struct raft_fsm fsm[N_MAX];
	struct fsm_state st[N_MAX];
	struct shim *shim[N_MAX];
	struct ctl ctl[N_MAX];
	struct shim_config cfg;
	bool kill_on_fatal;
	struct ctl_req *failing_installs;
	struct ctl_send *sends;
	struct ctl_get *empty_gets;
	/* scenario hooks */
	void (*on_step)(void);
	void (*on_change)(void *arg); /* the shims' change hook (arg: server index) */
	void (*on_recv)(unsigned i, const struct raft_message *m);
	/* return true to lose the message in the network */
	bool (*on_send)(unsigned i, const struct raft_message *m, raft_io_send_cb cb);
	/* return true to model an io that keeps `req` for `slow_ms` */
	bool (*slow_send)(unsigned i, const struct raft_message *m, raft_io_send_cb cb);
	unsigned slow_ms;
	void (*slow_touch)(struct raft_io_send *req); /* the slow io touches req */
};

static struct harness H;

static struct raft *R(unsigned i)
{
	return raft_fixture_get(&H.f, i);
}

static unsigned index_of_io(const struct raft_io *io)
{
	for (unsigned i = 0; i < H.n; i++)
		if (&H.f.servers[i].io == io)
			return i;
	ck_abort_msg("unknown io");
	return 0;
}

/* Term of `index` in server i's in-memory log (struct raft_log is public in 0.15.0), 0 if
 * absent. */
static raft_term term_at(unsigned i, raft_index index)
{
	const struct raft_log *l = &R(i)->log;
	size_t n = l->front <= l->back ? l->back - l->front : l->size - l->front + l->back;
	if (index <= l->offset || index > l->offset + n)
		return 0;
	return l->entries[(l->front + (size_t)(index - 1 - l->offset)) % l->size].term;
}

/* First payload byte of the entry at `index` in server i's in-memory log, 0 if absent. */
static char data_at(unsigned i, raft_index index)
{
	const struct raft_log *l = &R(i)->log;
	size_t n = l->front <= l->back ? l->back - l->front : l->size - l->front + l->back;
	if (index <= l->offset || index > l->offset + n)
		return 0;
	const struct raft_entry *e =
		&l->entries[(l->front + (size_t)(index - 1 - l->offset)) % l->size];
	return e->type == RAFT_COMMAND && e->buf.len > 0 ? ((const char *)e->buf.base)[0] : 0;
}

/* ---- FSM ---- */

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
	struct fsm_state *st = fsm->data;
	/* 0.15.0 bumps last_applied after this callback (fcc4c8d). */
	raft_index index = R(st->i)->last_applied + 1;
	if (index < AT_MAX)
		st->at[index] = buf->len > 0 ? ((const char *)buf->base)[0] : '?';
	*result = NULL;
	return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct fsm_state *st = fsm->data;
	*bufs = raft_malloc(sizeof(**bufs));
	ck_assert_ptr_nonnull(*bufs);
	(*bufs)[0].len = sizeof(st->at);
	(*bufs)[0].base = raft_malloc(sizeof(st->at));
	ck_assert_ptr_nonnull((*bufs)[0].base);
	memcpy((*bufs)[0].base, st->at, sizeof(st->at));
	*n_bufs = 1;
	return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct fsm_state *st = fsm->data;
	if (buf->len == sizeof(st->at))
		memcpy(st->at, buf->base, sizeof(st->at));
	raft_free(buf->base);
	return 0;
}

/* ---- client requests ---- */

struct capply {
	struct raft_apply req;
	char c;
	bool done;
	int status;
	raft_index index; /* raft's index for the entry */
};
static struct capply applies[APPLIES_MAX];
static unsigned n_applies;

static void capply_cb(struct raft_apply *req, int status, void *result)
{
	struct capply *a = req->data;
	(void)result;
	a->done = true;
	a->status = status;
}

static struct raft_buffer payload(char c)
{
	struct raft_buffer b = { .len = 8, .base = raft_malloc(8) };
	ck_assert_ptr_nonnull(b.base);
	memset(b.base, 0, 8);
	((char *)b.base)[0] = c;
	return b;
}

/* raft_apply of one entry whose payload starts with `c`; returns the request or NULL. */
static struct capply *client_apply(unsigned i, char c)
{
	ck_assert_uint_lt(n_applies, APPLIES_MAX);
	struct capply *a = &applies[n_applies];
	memset(a, 0, sizeof(*a));
	a->req.data = a;
	a->c = c;
	struct raft_buffer b = payload(c);
	int rv = raft_apply(R(i), &a->req, &b, 1, capply_cb);
	if (rv != 0) {
		raft_free(b.base);
		return NULL;
	}
	a->index = a->req.index;
	n_applies++;
	return a;
}

/* Adds a persisted entry to server i's fixture disk before start. */
static void disk_add(unsigned i, raft_term term, char c)
{
	struct raft_entry e;
	memset(&e, 0, sizeof(e));
	e.term = term;
	e.type = RAFT_COMMAND;
	e.buf = payload(c);
	raft_fixture_add_entry(&H.f, i, &e);
}

/* ---- forked runs for scenarios that crash inside libraft ---- */

/* Keys of the facts a forked child reports before it (possibly) dies; their meaning is the
 * scenario's. */
enum { NOTE_STEP_A, NOTE_STEP_B, NOTE_STEP_C, NOTE_KEYS };

static int report_fd = -1;

/* Records (key, value) in the child's report to the parent. */
static void child_note(int key, long value)
{
	long rec[2] = { key, value };
	if (report_fd >= 0 && write(report_fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec))
		_exit(99);
}

/* ---- ctl: the test's wrappers under the shim ---- */

static void ctl_append_cb(struct raft_io_append *inner, int status)
{
	struct ctl_req *w = (struct ctl_req *)inner;
	struct ctl *c = &H.ctl[w->i];
	c->appends_pending--;
	w->append_cb(w->orig, w->fail ? RAFT_IOERR : status);
	free(w);
}

static int ctl_append(struct raft_io *io, struct raft_io_append *req,
		      const struct raft_entry entries[], unsigned n, raft_io_append_cb cb)
{
	unsigned i = index_of_io(io);
	struct ctl *c = &H.ctl[i];
	struct ctl_req *w = calloc(1, sizeof(*w));
	ck_assert_ptr_nonnull(w);
	w->i = i;
	w->orig = req;
	w->append_cb = cb;
	w->fail = c->fail_next_append;
	c->fail_next_append = false;
	/* A failing write reaches the disk with no entries: nothing lands, and it completes in
	 * FIFO order with the others, after the disk latency, as a real failed write would. */
	int rv = c->append(io, &w->u.append, entries, w->fail ? 0 : n, ctl_append_cb);
	if (rv != 0) {
		free(w);
		return rv;
	}
	c->appends_pending++;
	return 0;
}

static void ctl_put_cb(struct raft_io_snapshot_put *inner, int status)
{
	struct ctl_req *w = (struct ctl_req *)inner;
	struct ctl *c = &H.ctl[w->i];
	if (w->install)
		c->installs_pending--;
	if (!w->fail && status == 0)
		c->snapshots_stored++;
	c->in_install_cb = w->install;
	w->put_cb(w->orig, w->fail ? RAFT_IOERR : status);
	c->in_install_cb = false;
	free(w);
}

static int ctl_snapshot_put(struct raft_io *io, unsigned trailing, struct raft_io_snapshot_put *req,
			    const struct raft_snapshot *snap, raft_io_snapshot_put_cb cb)
{
	unsigned i = index_of_io(io);
	struct ctl *c = &H.ctl[i];
	struct ctl_req *w = calloc(1, sizeof(*w));
	ck_assert_ptr_nonnull(w);
	w->i = i;
	w->orig = req;
	w->put_cb = cb;
	w->install = trailing == 0;
	if (w->install)
		c->installs_pending++;
	if (w->install && c->fail_next_install) {
		/* Nothing is stored; the failure is reported 10 ms later, from the step hook. */
		c->fail_next_install = false;
		w->fail = true;
		w->due = raft_fixture_time(&H.f) + 10;
		w->next = H.failing_installs;
		H.failing_installs = w;
		return 0;
	}
	int rv = c->snapshot_put(io, trailing, &w->u.put, snap, ctl_put_cb);
	if (rv != 0) {
		if (w->install)
			c->installs_pending--;
		free(w);
	}
	return rv;
}

/* The fixture dereferences a NULL snapshot when asked for one it does not have (a leader whose
 * log was cut below a follower's next index asks for it, see 0cac59c); a real io reports that
 * it has none. */
static int ctl_snapshot_get(struct raft_io *io, struct raft_io_snapshot_get *req,
			    raft_io_snapshot_get_cb cb)
{
	unsigned i = index_of_io(io);
	if (H.ctl[i].snapshots_stored > 0)
		return H.ctl[i].snapshot_get(io, req, cb);
	struct ctl_get *g = calloc(1, sizeof(*g));
	ck_assert_ptr_nonnull(g);
	g->req = req;
	g->cb = cb;
	g->next = H.empty_gets;
	H.empty_gets = g;
	return 0;
}

static void ctl_send_done_cb(struct raft_io_send *req, int status)
{
	(void)status;
	free(req);
}

static int ctl_send(struct raft_io *io, struct raft_io_send *req, const struct raft_message *m,
		    raft_io_send_cb cb)
{
	unsigned i = index_of_io(io);
	struct ctl *c = &H.ctl[i];
	bool lose = H.on_send != NULL && H.on_send(i, m, cb);
	bool slow = !lose && H.slow_send != NULL && H.slow_send(i, m, cb);
	if (lose || slow) {
		struct ctl_send *d = calloc(1, sizeof(*d));
		ck_assert_ptr_nonnull(d);
		d->req = req;
		d->cb = cb;
		d->slow = slow;
		d->due = raft_fixture_time(&H.f) + (slow ? H.slow_ms : 0);
		d->next = H.sends;
		H.sends = d;
		if (lose)
			return 0;
		/* The slow io transmits a copy now but keeps `req` until `due`. */
		struct raft_io_send *own = calloc(1, sizeof(*own));
		ck_assert_ptr_nonnull(own);
		return c->send(io, own, m, ctl_send_done_cb);
	}
	return c->send(io, req, m, cb);
}

static void ctl_recv(struct raft_io *io, struct raft_message *m)
{
	unsigned i = index_of_io(io);
	if (H.on_recv != NULL)
		H.on_recv(i, m);
	H.ctl[i].shim_recv(io, m);
}

static int ctl_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv)
{
	unsigned i = index_of_io(io);
	H.ctl[i].shim_recv = recv;
	return H.ctl[i].start(io, msecs, tick, ctl_recv);
}

/* Reports failed installs and completes lost/slow sends whose time has come. */
static void ctl_pump(void)
{
	raft_time now = raft_fixture_time(&H.f);
	for (struct ctl_get *g; (g = H.empty_gets) != NULL;) {
		H.empty_gets = g->next;
		g->cb(g->req, NULL, RAFT_NOTFOUND);
		free(g);
	}
	for (struct ctl_req **p = &H.failing_installs; *p != NULL;) {
		struct ctl_req *w = *p;
		if (w->due > now) {
			p = &w->next;
			continue;
		}
		*p = w->next;
		ctl_put_cb(&w->u.put, 0);
	}
	for (struct ctl_send **p = &H.sends; *p != NULL;) {
		struct ctl_send *d = *p;
		if (d->due > now) {
			p = &d->next;
			continue;
		}
		*p = d->next;
		/* the slow io reads req->cb at completion, as the fixture and raft_uv do */
		if (d->slow && H.slow_touch != NULL)
			H.slow_touch(d->req);
		if (d->cb != NULL)
			d->cb(d->req, 0);
		free(d);
	}
}

static void step_hook(struct raft_fixture *f, struct raft_fixture_event *ev)
{
	(void)f;
	(void)ev;
	ctl_pump();
	if (H.on_step != NULL)
		H.on_step();
}

static void on_fatal(void *arg, const char *why)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	H.ctl[i].fatal_count++;
	snprintf(H.ctl[i].fatal_why, sizeof(H.ctl[i].fatal_why), "%s", why);
	/* The owner stops the group; in the fixture, the server "crashes". */
	if (H.kill_on_fatal)
		raft_fixture_kill(&H.f, i);
}

/* Creates n servers (the first n_voters voting), bootstrapped, not started. */
static void h_init(unsigned n, unsigned n_voters, const struct shim_config *cfg)
{
	memset(&H, 0, sizeof(H));
	memset(applies, 0, sizeof(applies));
	n_applies = 0;
	H.n = n;
	H.cfg = *cfg;
	H.kill_on_fatal = true;
	ck_assert_int_eq(raft_fixture_initialize(&H.f), 0);
	for (unsigned i = 0; i < n; i++) {
		H.st[i].i = i;
		H.fsm[i].version = 1;
		H.fsm[i].data = &H.st[i];
		H.fsm[i].apply = fsm_apply;
		H.fsm[i].snapshot = fsm_snapshot;
		H.fsm[i].restore = fsm_restore;
		ck_assert_int_eq(raft_fixture_grow(&H.f, &H.fsm[i]), 0);
	}
	struct raft_configuration conf;
	ck_assert_int_eq(raft_fixture_configuration(&H.f, n_voters, &conf), 0);
	ck_assert_int_eq(raft_fixture_bootstrap(&H.f, &conf), 0);
	raft_configuration_close(&conf);
}

/* Wraps every io (ctl, then the shim above it) and starts the fixture. */
static void h_start(void)
{
	for (unsigned i = 0; i < H.n; i++) {
		struct raft_io *io = &H.f.servers[i].io;
		struct ctl *c = &H.ctl[i];
		c->start = io->start;
		c->append = io->append;
		c->snapshot_put = io->snapshot_put;
		c->send = io->send;
		c->snapshot_get = io->snapshot_get;
		io->snapshot_get = ctl_snapshot_get;
		io->start = ctl_start;
		io->append = ctl_append;
		io->snapshot_put = ctl_snapshot_put;
		io->send = ctl_send;
		struct shim_hooks hooks = { .fatal = on_fatal,
					    .change = H.on_change,
					    .arg = (void *)(uintptr_t)i };
		H.shim[i] = shim_install(R(i), io, &H.cfg, &hooks);
		ck_assert_ptr_nonnull(H.shim[i]);
	}
	raft_fixture_hook(&H.f, step_hook);
	ck_assert_int_eq(raft_fixture_start(&H.f), 0);
	for (unsigned i = 0; i < H.n; i++)
		shim_started(H.shim[i]);
}

static void h_close(void)
{
	H.on_step = NULL;
	H.on_send = NULL;
	H.slow_send = NULL;
	/* Deliver what the ctl layer still holds, so raft releases its memory. */
	for (struct ctl_send *d; (d = H.sends) != NULL;) {
		H.sends = d->next;
		if (d->cb != NULL)
			d->cb(d->req, RAFT_CANCELED);
		free(d);
	}
	for (struct ctl_get *g; (g = H.empty_gets) != NULL;) {
		H.empty_gets = g->next;
		g->cb(g->req, NULL, RAFT_NOTFOUND);
		free(g);
	}
	for (struct ctl_req *w; (w = H.failing_installs) != NULL;) {
		H.failing_installs = w->next;
		ctl_put_cb(&w->u.put, 0);
	}
	raft_fixture_close(&H.f);
	for (unsigned i = 0; i < H.n; i++)
		shim_free(H.shim[i]);
}

static void step(void)
{
	raft_fixture_step(&H.f);
}

static bool step_until(bool (*pred)(void), unsigned ms)
{
	raft_time end = raft_fixture_time(&H.f) + ms;
	while (raft_fixture_time(&H.f) < end) {
		step();
		if (pred())
			return true;
	}
	return false;
}

static void step_for(unsigned ms)
{
	raft_time end = raft_fixture_time(&H.f) + ms;
	while (raft_fixture_time(&H.f) < end)
		step();
}

static unsigned leader_among(unsigned mask)
{
	for (unsigned i = 0; i < H.n; i++)
		if ((mask & (1u << i)) && raft_fixture_alive(&H.f, i) &&
		    raft_state(R(i)) == RAFT_LEADER)
			return i;
	return H.n;
}

static void saturate_both(unsigned a, unsigned b)
{
	raft_fixture_saturate(&H.f, a, b);
	raft_fixture_saturate(&H.f, b, a);
}

static void desaturate_both(unsigned a, unsigned b)
{
	raft_fixture_desaturate(&H.f, a, b);
	raft_fixture_desaturate(&H.f, b, a);
}

/* With SHIM_TEST_TRACE set, prints every server's state and log (for debugging scenarios). */
static void dump(const char *what)
{
	if (getenv("SHIM_TEST_TRACE") == NULL)
		return;
	fprintf(stderr, "-- t=%llu %s\n", (unsigned long long)raft_fixture_time(&H.f), what);
	for (unsigned i = 0; i < H.n; i++) {
		struct raft *r = R(i);
		fprintf(stderr,
			"  S%u st=%d term=%llu commit=%llu applied=%llu stored=%llu%s log:", i,
			raft_state(r), (unsigned long long)r->current_term,
			(unsigned long long)r->commit_index, (unsigned long long)r->last_applied,
			(unsigned long long)r->last_stored,
			raft_fixture_alive(&H.f, i) ? "" : " DOWN");
		for (raft_index k = r->log.offset + 1; k <= raft_last_index(r); k++)
			fprintf(stderr, " %llu:t%llu%c", (unsigned long long)k,
				(unsigned long long)term_at(i, k),
				data_at(i, k) ? data_at(i, k) : '.');
		fprintf(stderr, "\n");
	}
}

static struct shim_config cfg_all(void)
{
	struct shim_config c;
	shim_config_default(&c);
	return c;
}

struct child_result {
	bool exited;
	int exit_code;
	int sig;
	long notes[NOTE_KEYS]; /* by key; -1 when not reported */
};

/* Runs fn() in a child process and returns how it ended and what it reported through
 * child_note(). Its stderr (crash reports) goes to /dev/null unless SHIM_TEST_VERBOSE is set. */
static struct child_result run_forked(void (*fn)(void))
{
	struct child_result res;
	memset(&res, 0, sizeof(res));
	for (int k = 0; k < NOTE_KEYS; k++)
		res.notes[k] = -1;
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		report_fd = fds[1];
		if (getenv("SHIM_TEST_VERBOSE") == NULL) {
			int dn = open("/dev/null", O_WRONLY);
			if (dn >= 0)
				dup2(dn, 2);
		}
		fn();
		_exit(0);
	}
	close(fds[1]);
	long rec[2];
	while (read(fds[0], rec, sizeof(rec)) == (ssize_t)sizeof(rec))
		if (rec[0] >= 0 && rec[0] < NOTE_KEYS)
			res.notes[rec[0]] = rec[1];
	close(fds[0]);
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status)) {
		res.exited = true;
		res.exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		res.sig = WTERMSIG(status);
	}
	return res;
}

/* =============================================================================================
 * Scenarios
 */

/* ---- 524f735: Figure 8, commit of an old-term entry by counting replicas ---- */

static struct {
	bool s1_acked; /* S0, leader, has received S1's first AE result */
	bool s0_s1_cut;
	bool old_term_commit; /* S0's commit_index landed on an entry of an older term */
	raft_index s0_commit;
} fig8;

static void fig8_recv(unsigned i, const struct raft_message *m)
{
	if (i == 0 && m->type == RAFT_IO_APPEND_ENTRIES_RESULT && m->server_id == 2 &&
	    raft_state(R(0)) == RAFT_LEADER)
		fig8.s1_acked = true;
}

static void fig8_step(void)
{
	struct raft *r = R(0);
	if (fig8.s1_acked && !fig8.s0_s1_cut) {
		/* The S0->S1 link fails right after S1's first reply reached S0, so S1 never
		 * gets S0's barrier: the barrier alone cannot help. */
		raft_fixture_saturate(&H.f, 0, 1);
		fig8.s0_s1_cut = true;
	}
	if (r->commit_index != fig8.s0_commit) {
		if (raft_state(r) == RAFT_LEADER && term_at(0, r->commit_index) < r->current_term)
			fig8.old_term_commit = true;
		fig8.s0_commit = r->commit_index;
	}
}

static bool fig8_s0_leader(void)
{
	return raft_state(R(0)) == RAFT_LEADER;
}

static bool fig8_s0_committed(void)
{
	return R(0)->commit_index >= 2;
}

static bool fig8_s4_leader(void)
{
	return raft_state(R(4)) == RAFT_LEADER;
}

static bool fig8_any_leader_1_4(void)
{
	return leader_among(0x1e) < H.n;
}

static bool fig8_all_applied(void)
{
	for (unsigned i = 1; i < 5; i++)
		if (H.st[i].at[3] == 0 && H.st[i].at[4] == 0 && H.st[i].at[5] == 0)
			return false;
	return true;
}

static void fig8_partition_123(bool on)
{
	for (unsigned a = 1; a <= 3; a++)
		for (unsigned b = 1; b <= 3; b++)
			if (a != b) {
				if (on)
					raft_fixture_saturate(&H.f, a, b);
				else
					raft_fixture_desaturate(&H.f, a, b);
			}
}

/* Runs the Figure 8 (c)->(d) scenario; returns whether the FSMs diverged at index 2 (S0
 * applied "A", the others "B"). */
static bool fig8_run(const struct shim_config *cfg)
{
	memset(&fig8, 0, sizeof(fig8));
	h_init(5, 5, cfg);
	/* Figure 8 (c): S0 led term 2 and reached S1; S4 led term 3 and reached nobody. */
	disk_add(0, 2, 'A');
	disk_add(1, 2, 'A');
	disk_add(4, 3, 'B');
	for (unsigned i = 0; i < 5; i++)
		raft_fixture_set_term(&H.f, i, 3);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	for (unsigned i = 1; i < 5; i++)
		raft_fixture_set_randomized_election_timeout(&H.f, i, 5000);
	raft_fixture_set_disk_latency(&H.f, 0, 300); /* S0's fsync is slower than a round trip */
	raft_fixture_kill(&H.f, 4);
	saturate_both(0, 3); /* S3 cut off from S0 during phase 1 */
	H.on_recv = fig8_recv;
	H.on_step = fig8_step;
	h_start();

	/* Phase 1: S0 wins term 4 with S1, S2 (S3 unreachable, S4 down), replicates [2:t2] to
	 * S2, then crashes right after any commit. */
	ck_assert(step_until(fig8_s0_leader, 5000));
	step_until(fig8_s0_committed, 3000);
	raft_fixture_kill(&H.f, 0);

	/* Phase 2: S4 returns; S1, S2, S3 only reach S4, whose last term (3) beats theirs. */
	fig8_partition_123(true);
	raft_fixture_revive(&H.f, 4);
	raft_fixture_set_randomized_election_timeout(&H.f, 4, 300);
	for (unsigned i = 1; i <= 3; i++)
		raft_fixture_set_randomized_election_timeout(&H.f, i, 1000);
	if (!step_until(fig8_s4_leader, 10000)) {
		fig8_partition_123(false);
		raft_fixture_set_randomized_election_timeout(&H.f, 1, 1000);
		raft_fixture_set_randomized_election_timeout(&H.f, 2, 1400);
		raft_fixture_set_randomized_election_timeout(&H.f, 3, 1800);
		raft_fixture_set_randomized_election_timeout(&H.f, 4, 3000);
		ck_assert(step_until(fig8_any_leader_1_4, 10000));
	}
	unsigned l = leader_among(0x1e);
	ck_assert_uint_lt(l, 5);
	ck_assert_ptr_nonnull(client_apply(l, 'C'));
	fig8_partition_123(false);
	step_until(fig8_all_applied, 10000);

	bool diverged = false;
	char ref = 0;
	for (unsigned i = 0; i < 5; i++) {
		char c = H.st[i].at[2];
		if (c == 0)
			continue;
		if (ref == 0)
			ref = c;
		else if (c != ref)
			diverged = true;
	}
	h_close();
	return diverged;
}

/* Figure 8: S0 wins term 4 and its commit index reaches an entry of term 2 by counting
 * replicas; S4 (last term 3) later wins and overwrites it. Without M2+M3 the committed, applied
 * "A" is lost; with the barrier alone too (S1 never gets it); with the barrier and held results
 * S0 never commits the old entry and nothing diverges. */
START_TEST(test_524f735_old_term_entry_committed_by_counting)
{
	struct shim_config cfg = cfg_all();
	cfg.m2_barrier = false;
	cfg.m3_hold_results = false;
	ck_assert_msg(fig8_run(&cfg), "OFF: expected the committed entry to be lost");
	ck_assert(fig8.old_term_commit);

	cfg = cfg_all();
	cfg.m3_hold_results = false;
	ck_assert_msg(fig8_run(&cfg), "barrier only: expected the committed entry to be lost");
	ck_assert(fig8.old_term_commit);

	cfg = cfg_all();
	ck_assert_msg(!fig8_run(&cfg), "ON: FSMs diverged");
	ck_assert(!fig8.old_term_commit);
}
END_TEST

/* ---- N1: stale tail in a synchronous AppendEntries success reply ---- */

static struct {
	bool s1_got_hb;
	bool s2_s1_cut;
	bool s2_won;
	raft_index c_index;
	bool c_acked;
	unsigned d_leader;
	raft_index d_index;
	uint64_t clamped;
} n1;

static void n1_recv(unsigned i, const struct raft_message *m)
{
	if (i == 1 && m->type == RAFT_IO_APPEND_ENTRIES && m->server_id == 3 &&
	    m->append_entries.term == 4)
		n1.s1_got_hb = true;
}

static void n1_step(void)
{
	if (!n1.s2_won && raft_state(R(2)) == RAFT_LEADER && R(2)->current_term == 4) {
		/* A client write reaches the new leader at once; the S2->S4 link fails. */
		n1.s2_won = true;
		struct capply *a = client_apply(2, 'C');
		ck_assert_ptr_nonnull(a);
		n1.c_index = a->index;
		raft_fixture_saturate(&H.f, 2, 4);
	}
	if (n1.s1_got_hb && !n1.s2_s1_cut) {
		/* S2->S1 fails right after S1 got S2's first heartbeat. */
		raft_fixture_saturate(&H.f, 2, 1);
		n1.s2_s1_cut = true;
	}
	n1.clamped = 0;
	for (unsigned i = 0; i < 5; i++)
		n1.clamped += shim_stats(H.shim[i])->clamped;
}

static bool n1_s2_leader(void)
{
	return raft_state(R(2)) == RAFT_LEADER;
}

static bool n1_c_committed(void)
{
	return n1.c_index != 0 && R(2)->commit_index >= n1.c_index;
}

static bool n1_d_ready(void)
{
	return shim_leader_ready(H.shim[n1.d_leader]);
}

static bool n1_live_leader(void)
{
	return leader_among(0x13) < H.n;
}

static bool n1_d_applied(void)
{
	return raft_last_applied(R(n1.d_leader)) >= n1.d_index &&
	       raft_last_applied(R(1)) >= n1.d_index && raft_last_applied(R(4)) >= n1.d_index;
}

/* Runs the N1 scenario; returns whether the acknowledged write "C" was lost. */
static bool n1_run(const struct shim_config *cfg)
{
	memset(&n1, 0, sizeof(n1));
	h_init(5, 5, cfg);
	/* All hold [2:t1]; S0 and S1 also a stale tail [3:t3][4:t3] from a term-3 leader. */
	for (unsigned i = 0; i < 5; i++) {
		disk_add(i, 1, 'X');
		raft_fixture_set_term(&H.f, i, 3);
	}
	disk_add(0, 3, 'P');
	disk_add(0, 3, 'Q');
	disk_add(1, 3, 'P');
	disk_add(1, 3, 'Q');
	for (unsigned i = 0; i < 5; i++)
		raft_fixture_set_randomized_election_timeout(&H.f, i, i == 2 ? 1000 : 5000);
	raft_fixture_set_disk_latency(&H.f, 2, 100); /* leader's fsync slower than a round trip */
	raft_fixture_kill(&H.f, 0);
	H.on_recv = n1_recv;
	H.on_step = n1_step;
	h_start();

	/* Phase 1: S2 wins term 4 with S3 and S4; S1 answers S2's first heartbeat (prev 2) with
	 * success and last_log_index 4, its stale tail. */
	ck_assert(step_until(n1_s2_leader, 5000));
	step_until(n1_c_committed, 3000);
	for (unsigned k = 0; k < n_applies; k++)
		if (applies[k].c == 'C' && applies[k].done && applies[k].status == 0)
			n1.c_acked = true;
	/* S2 and S3 crash: two failures, within what five voters tolerate. */
	raft_fixture_kill(&H.f, 2);
	raft_fixture_kill(&H.f, 3);

	/* Phase 2: S0, S1 and S4 elect a leader, which writes "D". */
	raft_fixture_revive(&H.f, 0);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 300);
	raft_fixture_set_randomized_election_timeout(&H.f, 1, 1000);
	raft_fixture_set_randomized_election_timeout(&H.f, 4, 3000);
	ck_assert(step_until(n1_live_leader, 20000));
	n1.d_leader = leader_among(0x13);
	ck_assert(step_until(n1_d_ready, 5000));
	struct capply *d = client_apply(n1.d_leader, 'D');
	ck_assert_ptr_nonnull(d);
	n1.d_index = d->index;
	step_until(n1_d_applied, 10000);

	bool lost = false;
	if (n1.c_acked)
		for (unsigned i = 0; i < 5; i++) {
			char c = H.st[i].at[n1.c_index];
			if (c != 0 && c != 'C')
				lost = true;
		}
	h_close();
	return lost;
}

/* N1: S1's success reply to a heartbeat (prev 2) reports last_log_index 4, its stale term-3
 * tail; the leader S2 records a match on entries S1 does not have, commits and acknowledges
 * "C" held by S2 and S3 only, and after those two crash the others overwrite it. Without the
 * clamp (M5a) the acknowledged write is lost (with M2+M3 on: they do not help here); with it
 * S1's reply says 2, "C" is never acknowledged and nothing acknowledged is lost. */
START_TEST(test_n1_stale_tail_in_sync_reply_loses_acked_write)
{
	struct shim_config cfg = cfg_all();
	cfg.m5a_clamp = false;
	ck_assert_msg(n1_run(&cfg), "OFF: expected the acknowledged write to be lost");
	ck_assert(n1.c_acked);
	ck_assert_uint_eq(n1.clamped, 0);

	cfg = cfg_all();
	ck_assert_msg(!n1_run(&cfg), "ON: an acknowledged write was lost");
	ck_assert(!n1.c_acked);
	ck_assert_uint_gt(n1.clamped, 0);
}
END_TEST

/* ---- 35479fc: a follower's reply for an older term's entries counts for the new leader ---- */

static struct {
	bool c_won;
	bool b_got_c;
	bool c_b_cut;
	raft_index c_index;
	bool c_acked;
	unsigned holders; /* servers whose log really holds C's entry at c_index */
	unsigned final_leader;
	raft_index d_index;
	uint64_t dropped_stale;
} r35;

static void r35_recv(unsigned i, const struct raft_message *m)
{
	if (i == 1 && m->type == RAFT_IO_APPEND_ENTRIES && m->server_id == 3 &&
	    m->append_entries.term >= 4)
		r35.b_got_c = true;
}

static void r35_step(void)
{
	/* A (S0) wins term 3 with B and E; from then on A only reaches B. */
	if (raft_state(R(0)) == RAFT_LEADER && !raft_fixture_saturated(&H.f, 0, 2)) {
		raft_fixture_saturate(&H.f, 0, 2);
		raft_fixture_saturate(&H.f, 0, 3);
		raft_fixture_saturate(&H.f, 0, 4);
		ck_assert_ptr_nonnull(client_apply(0, 'p'));
		ck_assert_ptr_nonnull(client_apply(0, 'q'));
	}
	/* C (S2) wins term 4 with D and E, takes a client write, and loses its link to E. */
	if (!r35.c_won && raft_state(R(2)) == RAFT_LEADER) {
		r35.c_won = true;
		struct capply *a = client_apply(2, 'c');
		ck_assert_ptr_nonnull(a);
		r35.c_index = a->index;
		raft_fixture_saturate(&H.f, 2, 4);
	}
	/* C->B fails right after B got C's first AppendEntries (which B rejects: its entry at
	 * C's prev index is A's). */
	if (r35.b_got_c && !r35.c_b_cut) {
		raft_fixture_saturate(&H.f, 2, 1);
		r35.c_b_cut = true;
	}
	r35.dropped_stale = shim_stats(H.shim[1])->dropped_stale;
}

static bool r35_b_has_tail(void)
{
	return term_at(1, 5) == 3;
}

static bool r35_c_leader(void)
{
	return raft_state(R(2)) == RAFT_LEADER;
}

static bool r35_c_committed(void)
{
	return r35.c_index != 0 && R(2)->commit_index >= r35.c_index;
}

/* A leader of A, B, E whose barrier committed (A itself still believes it leads term 3). */
static bool r35_ready_leader(void)
{
	static const unsigned cand[] = { 0, 1, 4 };
	for (unsigned k = 0; k < 3; k++)
		if (shim_leader_ready(H.shim[cand[k]])) {
			r35.final_leader = cand[k];
			return true;
		}
	return false;
}

static bool r35_d_applied(void)
{
	return raft_last_applied(R(0)) >= r35.d_index && raft_last_applied(R(1)) >= r35.d_index &&
	       raft_last_applied(R(4)) >= r35.d_index;
}

/* Returns whether the acknowledged write "c" was lost. */
static bool r35_run(const struct shim_config *cfg)
{
	memset(&r35, 0, sizeof(r35));
	h_init(5, 5, cfg);
	/* Common [2:t1]; C and D also hold [3:t2] from a term-2 leader that reached only them. */
	for (unsigned i = 0; i < 5; i++) {
		disk_add(i, 1, 'x');
		raft_fixture_set_term(&H.f, i, 2);
	}
	disk_add(2, 2, 'y');
	disk_add(3, 2, 'y');
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	raft_fixture_set_randomized_election_timeout(&H.f, 2, 1500);
	raft_fixture_set_randomized_election_timeout(&H.f, 1, 10000);
	raft_fixture_set_randomized_election_timeout(&H.f, 3, 10000);
	raft_fixture_set_randomized_election_timeout(&H.f, 4, 10000);
	raft_fixture_set_disk_latency(&H.f, 1, 2000); /* B's disk is slow */
	H.on_recv = r35_recv;
	H.on_step = r35_step;
	h_start();

	/* A leads term 3 and sends [3..5:t3] to B only; B holds them in memory, writing. */
	ck_assert(step_until(r35_b_has_tail, 3000));
	ck_assert_uint_gt(H.ctl[1].appends_pending, 0);
	raft_fixture_kill(&H.f, 0);
	/* C wins term 4; B learns of it from an AppendEntries it rejects; then B's writes of A's
	 * entries complete and B replies "success, last_log_index 5" to C in term 4. */
	ck_assert(step_until(r35_c_leader, 3000));
	ck_assert_uint_eq(R(2)->current_term, 4);
	step_until(r35_c_committed, 4000);
	r35.c_acked = false;
	for (unsigned k = 0; k < n_applies; k++)
		if (applies[k].c == 'c' && applies[k].done && applies[k].status == 0)
			r35.c_acked = true;
	dump("35479fc after C's window");
	r35.holders = 0;
	for (unsigned i = 0; i < 5; i++)
		if (term_at(i, r35.c_index) == 4 && R(i)->last_stored >= r35.c_index)
			r35.holders++;

	/* C and D crash; A, B and E elect a leader, which writes "d" over index c_index. */
	raft_fixture_kill(&H.f, 2);
	raft_fixture_kill(&H.f, 3);
	raft_fixture_revive(&H.f, 0);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 300);
	raft_fixture_set_randomized_election_timeout(&H.f, 1, 1000);
	raft_fixture_set_randomized_election_timeout(&H.f, 4, 3000);
	ck_assert(step_until(r35_ready_leader, 20000));
	dump("35479fc final leader");
	struct capply *d = client_apply(r35.final_leader, 'd');
	ck_assert_ptr_nonnull(d);
	r35.d_index = d->index;
	step_until(r35_d_applied, 10000);

	bool lost = false;
	if (r35.c_acked)
		for (unsigned i = 0; i < 5; i++) {
			char c = H.st[i].at[r35.c_index];
			if (c != 0 && c != 'c')
				lost = true;
		}
	h_close();
	return lost;
}

/* 35479fc: B has A's term-3 entries in flight when it learns of C (term 4) from an
 * AppendEntries it rejects; when B's writes complete, 0.15.0 replies "success, last_log_index
 * 5" to C, which takes it as a match on its own entries and commits (and acknowledges) "c"
 * stored on C and D only. Without M5b, "c" is acknowledged with two real replicas out of five
 * and lost once C and D crash; with it, B's reply is dropped and "c" is never acknowledged. */
START_TEST(test_35479fc_reply_after_term_change_false_commit)
{
	struct shim_config cfg = cfg_all();
	cfg.m5b_stale_term = false;
	ck_assert_msg(r35_run(&cfg), "OFF: expected the acknowledged write to be lost");
	ck_assert(r35.c_acked);
	ck_assert_uint_eq(r35.holders, 2); /* committed by a "majority" of 2 real copies */

	cfg = cfg_all();
	ck_assert_msg(!r35_run(&cfg), "ON: an acknowledged write was lost");
	ck_assert(!r35.c_acked);
	ck_assert_uint_gt(r35.dropped_stale, 0);
}
END_TEST

/* ---- a54636b: elections advertise the in-memory log, not the persisted one ---- */

struct cchange {
	struct raft_change req;
	bool done;
	int status;
};

static void cchange_cb(struct raft_change *req, int status)
{
	struct cchange *c = req->data;
	c->done = true;
	c->status = status;
}

static struct {
	raft_index k; /* index of the change that demotes S1 */
	bool s1_advertised_unpersisted;
	bool s1_led;
	bool split_brain; /* two leaders committed different entries at one index */
	struct cchange demote, promote;
} r546;

static bool r546_send(unsigned i, const struct raft_message *m, raft_io_send_cb cb)
{
	(void)cb;
	if (i == 1 && m->type == RAFT_IO_REQUEST_VOTE &&
	    m->request_vote.last_log_index > R(1)->last_stored)
		r546.s1_advertised_unpersisted = true;
	return false;
}

static void r546_step(void)
{
	if (raft_state(R(1)) == RAFT_LEADER)
		r546.s1_led = true;
	raft_index upto = R(0)->commit_index < R(1)->commit_index ? R(0)->commit_index :
								    R(1)->commit_index;
	for (raft_index x = r546.k; x <= upto && x > 0; x++)
		if (term_at(0, x) != 0 && term_at(1, x) != 0 && term_at(0, x) != term_at(1, x))
			r546.split_brain = true;
}

static bool r546_s0_ready(void)
{
	return shim_leader_ready(H.shim[0]);
}

static bool r546_demoted(void)
{
	return r546.demote.done;
}

static bool r546_promoted(void)
{
	return r546.promote.done;
}

static void r546_run(const struct shim_config *cfg)
{
	memset(&r546, 0, sizeof(r546));
	h_init(4, 3, cfg); /* S0..S2 voters, S3 stand-by */
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	raft_fixture_set_randomized_election_timeout(&H.f, 1, 1100);
	raft_fixture_set_randomized_election_timeout(&H.f, 2, 2500);
	raft_fixture_set_randomized_election_timeout(&H.f, 3, 8000);
	H.on_send = r546_send;
	H.on_step = r546_step;
	h_start();
	ck_assert(step_until(r546_s0_ready, 3000));

	/* S1's disk becomes slow; S0 demotes S1 and then promotes S3. Both changes commit with
	 * S0 and S2; S1 receives both but has persisted neither, so S1 still runs the old
	 * configuration {S0, S1, S2}. */
	raft_fixture_set_disk_latency(&H.f, 1, 5000);
	r546.k = raft_last_index(R(0)) + 1;
	r546.demote.req.data = &r546.demote;
	r546.promote.req.data = &r546.promote;
	ck_assert_int_eq(raft_assign(R(0), &r546.demote.req, 2, RAFT_STANDBY, cchange_cb), 0);
	ck_assert(step_until(r546_demoted, 2000));
	ck_assert_int_eq(r546.demote.status, 0);
	ck_assert_int_eq(raft_assign(R(0), &r546.promote.req, 4, RAFT_VOTER, cchange_cb), 0);
	ck_assert(step_until(r546_promoted, 2000));
	ck_assert_int_eq(r546.promote.status, 0);
	ck_assert_uint_ge(raft_last_index(R(1)), r546.k + 1);
	ck_assert_uint_lt(R(1)->last_stored, r546.k);

	/* Partition {S0, S3} | {S1, S2}: S0 keeps a majority of the new configuration, S1 would
	 * have one of the old one. */
	saturate_both(0, 1);
	saturate_both(0, 2);
	saturate_both(3, 1);
	saturate_both(3, 2);
	for (unsigned t = 0; t < 150; t++) {
		step_for(100);
		if (shim_leader_ready(H.shim[0]) && t % 10 == 0)
			client_apply(0, 'X');
		if (shim_leader_ready(H.shim[1]) && t % 10 == 0)
			client_apply(1, 'Y');
	}
	dump("a54636b end");
	h_close();
}

/* a54636b: S1 holds, unpersisted, the entries that demote it and promote S3. It times out and
 * campaigns with the old configuration, advertising its in-memory last index, so S2 (which has
 * those entries) votes for it. Without M4, S1 wins a majority of the old configuration while
 * S0 leads with a majority of the new one, and both commit different entries at the same index;
 * with M4, S1 cannot campaign until its writes land, by which time it knows it is a stand-by.
 * M3 is off in both runs: with it, S1's own 5 s fsync holds S2's acknowledgements past the
 * election timeout, so S1 steps down before it commits anything - it still wins the election
 * it must not win, but the split brain would not get as far as two commits. */
START_TEST(test_a54636b_election_with_unpersisted_entries)
{
	struct shim_config cfg = cfg_all();
	cfg.m3_hold_results = false;
	cfg.m4_no_candidacy_in_flight = false;
	r546_run(&cfg);
	ck_assert(r546.s1_advertised_unpersisted);
	ck_assert(r546.s1_led);
	ck_assert_msg(r546.split_brain, "OFF: expected two leaders committing different entries");

	cfg = cfg_all();
	cfg.m3_hold_results = false;
	r546_run(&cfg);
	ck_assert(!r546.s1_advertised_unpersisted);
	ck_assert(!r546.s1_led);
	ck_assert(!r546.split_brain);
}
END_TEST

/* ---- 29bb302: no no-op entry when a leader takes office ---- */

static struct {
	bool had_leader;
	raft_index max_commit;
} r29;

static void r29_step(void)
{
	for (unsigned i = 0; i < 3; i++) {
		if (raft_state(R(i)) == RAFT_LEADER)
			r29.had_leader = true;
		if (R(i)->commit_index > r29.max_commit)
			r29.max_commit = R(i)->commit_index;
	}
}

static void r29_run(const struct shim_config *cfg)
{
	memset(&r29, 0, sizeof(r29));
	h_init(3, 3, cfg);
	/* [2:t2] reached S0 and S1 from a term-2 leader that then crashed. */
	disk_add(0, 2, 'o');
	disk_add(1, 2, 'o');
	for (unsigned i = 0; i < 3; i++)
		raft_fixture_set_term(&H.f, i, 2);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	raft_fixture_set_randomized_election_timeout(&H.f, 1, 1200);
	raft_fixture_set_randomized_election_timeout(&H.f, 2, 1400);
	H.on_step = r29_step;
	h_start();
	step_for(4000); /* no client writes at all */
	h_close();
}

/* 29bb302: a new leader with an uncommitted entry of an older term and no client writes. With
 * old-term counting already refused (M3 on in both runs), without M2's barrier the entry is
 * never committed (and, its acknowledgements held, the leader cannot even keep its term); with
 * M2 the barrier commits it within a round trip. */
START_TEST(test_29bb302_no_noop_leaves_old_entries_uncommitted)
{
	struct shim_config cfg = cfg_all();
	cfg.m2_barrier = false;
	r29_run(&cfg);
	ck_assert(r29.had_leader);
	ck_assert_uint_lt(r29.max_commit, 2);

	cfg = cfg_all();
	r29_run(&cfg);
	ck_assert(r29.had_leader);
	ck_assert_uint_ge(r29.max_commit, 3); /* [2:t2] and the barrier [3:t3] */
}
END_TEST

/* ---- 634cb11: a follower becomes candidate while its appends are in flight ---- */

static struct {
	bool candidate_while_writing;
	bool candidate_later;
	uint64_t ticks_skipped;
} r634;

static void r634_step(void)
{
	if (raft_state(R(1)) == RAFT_CANDIDATE) {
		if (H.ctl[1].appends_pending > 0)
			r634.candidate_while_writing = true;
		else
			r634.candidate_later = true;
	}
	r634.ticks_skipped = shim_stats(H.shim[1])->ticks_skipped;
}

static bool s0_ready(void)
{
	return shim_leader_ready(H.shim[0]);
}

static raft_index r634_index;
static bool r634_s1_received(void)
{
	return raft_last_index(R(1)) >= r634_index;
}

static void r634_run(const struct shim_config *cfg)
{
	memset(&r634, 0, sizeof(r634));
	h_init(3, 3, cfg);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	raft_fixture_set_randomized_election_timeout(&H.f, 1, 1100);
	raft_fixture_set_randomized_election_timeout(&H.f, 2, 3000);
	H.on_step = r634_step;
	h_start();
	ck_assert(step_until(s0_ready, 3000));
	/* S1's disk stalls for 10 s; S0 replicates one entry; then S0 and S1 lose each other. */
	raft_fixture_set_disk_latency(&H.f, 1, 10000);
	struct capply *a = client_apply(0, 'a');
	ck_assert_ptr_nonnull(a);
	r634_index = a->index;
	ck_assert(step_until(r634_s1_received, 1000));
	saturate_both(0, 1);
	step_for(12000);
	h_close();
}

/* 634cb11 (upstream inflightAppendBlocksCandidacy): S1 has an append in flight (10 s disk) when
 * it loses its leader. Without M4 it becomes candidate within about its election timeout while
 * the write is pending; with M4 its ticks are skipped until the write lands, and only then may
 * it campaign. */
START_TEST(test_634cb11_candidate_while_appends_in_flight)
{
	struct shim_config cfg = cfg_all();
	cfg.m4_no_candidacy_in_flight = false;
	r634_run(&cfg);
	ck_assert(r634.candidate_while_writing);

	cfg = cfg_all();
	r634_run(&cfg);
	ck_assert(!r634.candidate_while_writing);
	ck_assert_uint_gt(r634.ticks_skipped, 0);
	ck_assert(r634.candidate_later); /* it does campaign once the write landed */
}
END_TEST

/* ---- f65b6e7: TimeoutNow converts a follower to candidate while it is persisting ---- */

static struct {
	struct raft_transfer xfer;
	bool xfer_done;
	bool candidate_while_writing;
	bool s1_led;
	uint64_t tn_held;
} r65;

static void r65_xfer_cb(struct raft_transfer *req)
{
	(void)req;
	r65.xfer_done = true;
}

static void r65_step(void)
{
	int st = raft_state(R(1));
	if (st == RAFT_CANDIDATE && H.ctl[1].appends_pending > 0)
		r65.candidate_while_writing = true;
	if (st == RAFT_LEADER)
		r65.s1_led = true;
	r65.tn_held = shim_stats(H.shim[1])->timeout_now_held;
}

static void r65_run(const struct shim_config *cfg)
{
	memset(&r65, 0, sizeof(r65));
	h_init(3, 3, cfg);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	raft_fixture_set_randomized_election_timeout(&H.f, 1, 3000);
	raft_fixture_set_randomized_election_timeout(&H.f, 2, 3000);
	H.on_step = r65_step;
	h_start();
	ck_assert(step_until(s0_ready, 3000));
	/* S1's disk becomes slow; S0 writes an entry and at once hands leadership to S1: 0.15.0
	 * judges S1 up to date from the optimistic next index and sends TimeoutNow right behind
	 * the AppendEntries. */
	raft_fixture_set_disk_latency(&H.f, 1, 2000);
	ck_assert_ptr_nonnull(client_apply(0, 'a'));
	ck_assert_int_eq(raft_transfer(R(0), &r65.xfer, 2, r65_xfer_cb), 0);
	step_for(5000);
	h_close();
}

/* f65b6e7: the transfer's TimeoutNow reaches S1 while it is still writing the entry it just
 * received. Without M4, S1 campaigns at once, with the write in flight (advertising an
 * unpersisted log); with M4 the TimeoutNow is held until the write completes and then
 * delivered, and S1 still takes over. */
START_TEST(test_f65b6e7_timeout_now_while_persisting)
{
	struct shim_config cfg = cfg_all();
	cfg.m4_no_candidacy_in_flight = false;
	r65_run(&cfg);
	ck_assert(r65.candidate_while_writing);

	cfg = cfg_all();
	r65_run(&cfg);
	ck_assert(!r65.candidate_while_writing);
	ck_assert_uint_eq(r65.tn_held, 1);
	ck_assert(r65.s1_led);
}
END_TEST

/* ---- snapshot install scenarios (4fbd3c0, 05746af/191a07e, 2a38d3d, d144504) ---- */

static struct {
	bool candidate_while_installing;
	bool garbage_dest; /* an AE result from S2's install completion to a non-member */
	bool stale_reply;  /* an AE result from S2's install completion in a newer term */
	raft_term install_term;
	raft_index commit_before;
	raft_index min_commit_after;
	uint64_t dropped_role, dropped_stale, ticks_skipped;
} rsn;

static bool rsn_send(unsigned i, const struct raft_message *m, raft_io_send_cb cb)
{
	(void)cb;
	if (i != 2 || m->type != RAFT_IO_APPEND_ENTRIES_RESULT || !H.ctl[2].in_install_cb)
		return false;
	if (m->server_id == 0 || m->server_id > H.n)
		rsn.garbage_dest = true;
	else if (m->append_entries_result.term != rsn.install_term)
		rsn.stale_reply = true;
	return false;
}

static void rsn_step(void)
{
	if (H.ctl[2].installs_pending > 0) {
		if (rsn.install_term == 0)
			rsn.install_term = R(2)->current_term;
		if (raft_state(R(2)) == RAFT_CANDIDATE)
			rsn.candidate_while_installing = true;
	}
	if (R(2)->commit_index < rsn.min_commit_after)
		rsn.min_commit_after = R(2)->commit_index;
	rsn.dropped_role = shim_stats(H.shim[2])->dropped_role;
	rsn.dropped_stale = shim_stats(H.shim[2])->dropped_stale;
	rsn.ticks_skipped = shim_stats(H.shim[2])->ticks_skipped;
}

static bool rsn_installing(void)
{
	return H.ctl[2].installs_pending > 0;
}

static bool rsn_s2_applied(void)
{
	return R(2)->last_applied >= raft_last_index(R(0));
}

static bool rsn_s0_applied(void)
{
	/* applied, and any snapshot that triggered stored (the log compacts on its completion) */
	return R(0)->last_applied == raft_last_index(R(0)) && R(0)->snapshot.pending.term == 0;
}

/* S0 leads; S2 applies one entry and is cut off while S0 commits entries one by one
 * (threshold 4, trailing 2) until S0's latest snapshot ends exactly at its last entry; then S2
 * comes back with a disk of latency `disk_ms` and S0 sends it that snapshot. Returns with the
 * install in flight on S2 (or, with `fail_install`, about to fail). */
static void rsn_setup(const struct shim_config *cfg, unsigned disk_ms, bool fail_install)
{
	memset(&rsn, 0, sizeof(rsn));
	rsn.min_commit_after = (raft_index)-1;
	h_init(3, 3, cfg);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	raft_fixture_set_randomized_election_timeout(&H.f, 1, 3000);
	raft_fixture_set_randomized_election_timeout(&H.f, 2, 1200);
	for (unsigned i = 0; i < 3; i++) {
		raft_set_snapshot_threshold(R(i), 4);
		raft_set_snapshot_trailing(R(i), 2);
	}
	H.on_send = rsn_send;
	H.on_step = rsn_step;
	h_start();
	ck_assert(step_until(s0_ready, 3000));
	ck_assert_ptr_nonnull(client_apply(0, 'a'));
	ck_assert(step_until(rsn_s2_applied, 1000));
	rsn.commit_before = R(2)->commit_index;
	ck_assert_uint_gt(R(2)->last_applied, 1);
	saturate_both(0, 2);
	for (int k = 0; k < 16; k++) {
		ck_assert_ptr_nonnull(client_apply(0, (char)('b' + k)));
		ck_assert(step_until(rsn_s0_applied, 500));
		if (k >= 6 && R(0)->log.snapshot.last_index == raft_last_index(R(0)))
			break;
	}
	ck_assert_uint_eq(R(0)->log.snapshot.last_index, raft_last_index(R(0)));
	ck_assert_uint_gt(R(0)->log.offset, R(2)->commit_index + 1); /* S2 needs the snapshot */
	raft_fixture_set_disk_latency(&H.f, 2, disk_ms);
	H.ctl[2].fail_next_install = fail_install;
	desaturate_both(0, 2);
	ck_assert(step_until(rsn_installing, 2000));
	ck_assert_int_eq(raft_state(R(0)), RAFT_LEADER);
}

/* 4fbd3c0: S2 is writing a snapshot from S0 (5 s disk) when it loses S0. Without M4 it
 * campaigns during the install, advertising the unpersisted snapshot; with M4 (which counts an
 * install as a write in flight) it does not. */
START_TEST(test_4fbd3c0_candidate_while_installing_snapshot)
{
	struct shim_config cfg = cfg_all();
	cfg.m4_no_candidacy_in_flight = false;
	rsn_setup(&cfg, 5000, false);
	raft_fixture_saturate(&H.f, 0, 2);
	step_for(6000);
	h_close();
	ck_assert(rsn.candidate_while_installing);

	cfg = cfg_all();
	rsn_setup(&cfg, 5000, false);
	raft_fixture_saturate(&H.f, 0, 2);
	step_for(6000);
	h_close();
	ck_assert(!rsn.candidate_while_installing);
	ck_assert_uint_gt(rsn.ticks_skipped, 0);
}
END_TEST

/* 05746af/191a07e: with candidacy during an install allowed (M4 off in both runs), the install
 * completes while S2 is candidate, and installSnapshotCb sends its result to "the leader" read
 * from the follower half of a union that now holds candidate data: a destination that is no
 * server at all. Without M5c that send reaches the io; with M5c it is dropped. */
START_TEST(test_05746af_install_result_to_garbage_destination)
{
	struct shim_config cfg = cfg_all();
	cfg.m4_no_candidacy_in_flight = false;
	cfg.m5b_stale_term = false; /* it would drop the reply too (its term moved on) */
	cfg.m5c_role_dest = false;
	rsn_setup(&cfg, 5000, false);
	raft_fixture_saturate(&H.f, 0, 2);
	step_for(6000);
	h_close();
	ck_assert(rsn.candidate_while_installing);
	ck_assert(rsn.garbage_dest);

	cfg = cfg_all();
	cfg.m4_no_candidacy_in_flight = false;
	cfg.m5b_stale_term = false;
	rsn_setup(&cfg, 5000, false);
	raft_fixture_saturate(&H.f, 0, 2);
	step_for(6000);
	h_close();
	ck_assert(rsn.candidate_while_installing);
	ck_assert(!rsn.garbage_dest);
	ck_assert_uint_gt(rsn.dropped_role, 0);
}
END_TEST

/* 2a38d3d: while S2 writes S0's snapshot (3 s disk), S0 hands leadership to S1; S1's
 * RequestVote (disrupt_leader) moves S2 to the new term and S1's heartbeat makes S1 its leader.
 * When the install completes, 0.15.0 reports it to S1 in the new term. Without M5b that reply
 * leaves; with M5b it is dropped. (The reply is benign - a snapshot holds only committed data -
 * but it speaks for another leader's message.) */
static struct raft_transfer r2a_xfer;
static void r2a_xfer_cb(struct raft_transfer *req)
{
	(void)req;
}

static void r2a_run(const struct shim_config *cfg)
{
	rsn_setup(cfg, 3000, false);
	memset(&r2a_xfer, 0, sizeof(r2a_xfer));
	ck_assert_int_eq(raft_transfer(R(0), &r2a_xfer, 2, r2a_xfer_cb), 0);
	step_for(5000);
	dump("2a38d3d end");
	ck_assert_uint_gt(R(2)->current_term, rsn.install_term);
	h_close();
}

START_TEST(test_2a38d3d_install_reply_after_term_change)
{
	struct shim_config cfg = cfg_all();
	cfg.m5b_stale_term = false;
	r2a_run(&cfg);
	ck_assert(rsn.stale_reply);

	cfg = cfg_all();
	r2a_run(&cfg);
	ck_assert(!rsn.stale_reply);
	ck_assert_uint_gt(rsn.dropped_stale, 0);
}
END_TEST

/* d144504: S2's snapshot store fails. 0.15.0 leaves last_stored at 0 with no install in
 * progress, so the next heartbeat (prev = the snapshot index, which S2's restored log matches)
 * sets commit_index = min(leader_commit, last_stored) = 0, below what S2 already applied (the
 * assert in replicationApply that would catch it is compiled out in Debian's NDEBUG build).
 * Without M1 S2's commit index goes back to 0; with M1 the failure never reaches raft, the group
 * is stopped (fatal hook) and its commit index never goes down. */
static void d144_run(const struct shim_config *cfg)
{
	rsn_setup(cfg, 10, true);
	rsn.min_commit_after = R(2)->commit_index;
	step_for(3000);
	dump("d144504 end");
	h_close();
}

/* The OFF half runs in a child: raft 0.15.0 also leaks the install's bufs array on this path
 * (2a38d3d), which a sanitizer build would report at exit. */
static void d144_child(void)
{
	struct shim_config cfg = cfg_all();
	cfg.m1_fail_stop = false;
	d144_run(&cfg);
	child_note(NOTE_STEP_A, (long)rsn.commit_before);
	child_note(NOTE_STEP_B, (long)rsn.min_commit_after);
}

START_TEST(test_d144504_failed_install_moves_commit_index_back)
{
	struct child_result res = run_forked(d144_child);
	ck_assert(res.exited && res.exit_code == 0);
	ck_assert_int_gt(res.notes[NOTE_STEP_A], 1); /* S2 had committed past the bootstrap */
	ck_assert_int_eq(res.notes[NOTE_STEP_B], 0); /* ... and its commit index fell to 0 */

	struct shim_config cfg = cfg_all();
	d144_run(&cfg);
	ck_assert_uint_ge(rsn.min_commit_after, rsn.commit_before);
	ck_assert_uint_eq(H.ctl[2].fatal_count, 1);
	ck_assert_ptr_nonnull(strstr(H.ctl[2].fatal_why, "snapshot"));
}
END_TEST

/* ---- leader write failures: 0cac59c, 23ed201, 8be539d ---- */

static struct capply *find_apply(char c)
{
	for (unsigned k = 0; k < n_applies; k++)
		if (applies[k].c == c)
			return &applies[k];
	return NULL;
}

static bool fsms_diverged(void)
{
	for (unsigned x = 0; x < AT_MAX; x++) {
		char ref = 0;
		for (unsigned i = 0; i < H.n; i++) {
			char c = H.st[i].at[x];
			if (c == 0)
				continue;
			if (ref == 0)
				ref = c;
			else if (c != ref)
				return true;
		}
	}
	return false;
}

/* Entry `index` on server i's disk (the fixture's store, read through its load method): its
 * term, and its first payload byte in *c. 0 when absent. */
static raft_term disk_term_at(unsigned i, raft_index index, char *c)
{
	struct raft_io *io = &H.f.servers[i].io;
	raft_term term;
	raft_id vote;
	struct raft_snapshot *snap = NULL;
	raft_index start;
	struct raft_entry *entries = NULL;
	size_t n = 0;
	ck_assert_int_eq(io->load(io, &term, &vote, &snap, &start, &entries, &n), 0);
	ck_assert_ptr_null(snap);
	raft_term t = 0;
	*c = 0;
	if (index >= start && index - start < n) {
		const struct raft_entry *e = &entries[index - start];
		t = e->term;
		if (e->type == RAFT_COMMAND && e->buf.len > 0)
			*c = ((const char *)e->buf.base)[0];
	}
	if (n > 0)
		raft_free(entries[0].batch); /* the fixture copies all entries into one batch */
	raft_free(entries);
	return t;
}

static struct {
	bool leader_after_failure; /* S0 still leader once raft saw its write fail */
	bool truncated_own_log;    /* ... with the failed entry gone from its log */
	bool accepted_writes;      /* ... and still taking writes, at the same indexes */
	bool diverged;             /* two FSMs applied different entries at one index */
	bool b_wrong_ack;      /* 'b' acknowledged while the leader applied another entry there */
	bool stored_unwritten; /* S0's last_stored covered 'c' before c's write completed */
	bool disk_differs;     /* S0's disk and memory hold different entries at c's index */
	bool ready_elsewhere;  /* ON: S1 or S2 took over */
	raft_index a_index;
} rlw;

static bool rlw_a_done(void)
{
	struct capply *a = find_apply('a');
	return (a != NULL && a->done) || H.ctl[0].fatal_count > 0;
}

static bool rlw_writes_done(void)
{
	return H.ctl[0].appends_pending == 0;
}

static bool rlw_other_ready(void)
{
	return shim_leader_ready(H.shim[1]) || shim_leader_ready(H.shim[2]);
}

static void rlw_step(void)
{
	struct capply *c = find_apply('c');
	/* c's write is the newest but one or the newest in flight; while any write of S0 is
	 * pending, c's index counted as stored means a stale completion vouched for it. */
	if (c != NULL && H.ctl[0].appends_pending >= 2 && R(0)->last_stored >= c->index &&
	    !rlw.stored_unwritten) {
		rlw.stored_unwritten = true;
		child_note(NOTE_STEP_B, 1);
	}
}

/* S0 leads; its write of 'a' fails while the write of 'b' (next index) is in flight. If S0
 * still leads, it then takes 'c' and 'd' - `at_once`: right after the failure, with b's write
 * still pending (8be539d); otherwise once every write completed (0cac59c, 23ed201) - which
 * land at the indexes of 'a' and 'b', in the same term. */
static void rlw_run(const struct shim_config *cfg, bool at_once)
{
	memset(&rlw, 0, sizeof(rlw));
	h_init(3, 3, cfg);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	raft_fixture_set_randomized_election_timeout(&H.f, 1, 2000);
	raft_fixture_set_randomized_election_timeout(&H.f, 2, 2200);
	H.on_step = rlw_step;
	h_start();
	ck_assert(step_until(s0_ready, 3000));
	H.ctl[0].fail_next_append = true;
	struct capply *a = client_apply(0, 'a');
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(client_apply(0, 'b'));
	rlw.a_index = a->index;
	ck_assert(step_until(rlw_a_done, 1000));
	if (H.ctl[0].fatal_count == 0) {
		rlw.leader_after_failure = raft_state(R(0)) == RAFT_LEADER;
		rlw.truncated_own_log = raft_last_index(R(0)) < rlw.a_index;
		child_note(NOTE_STEP_A, rlw.leader_after_failure);
		if (!at_once)
			ck_assert(step_until(rlw_writes_done, 1000));
		struct capply *c = client_apply(0, 'c');
		struct capply *d = client_apply(0, 'd');
		rlw.accepted_writes = c != NULL && d != NULL && c->index == rlw.a_index;
		ck_assert(rlw.accepted_writes);
		ck_assert(step_until(rlw_writes_done, 1000));
		char disk_c;
		ck_assert_uint_ne(disk_term_at(0, c->index, &disk_c), 0);
		rlw.disk_differs = disk_c != 'c';
		child_note(NOTE_STEP_C, rlw.disk_differs);
		step_for(3000);
	} else {
		ck_assert(step_until(rlw_other_ready, 5000));
		rlw.ready_elsewhere = true;
		step_for(1000);
	}
	struct capply *b = find_apply('b');
	rlw.b_wrong_ack = b->done && b->status == 0 && H.st[0].at[b->index] != 'b';
	rlw.diverged = fsms_diverged();
	dump("leader write failure end");
	h_close();
}

/* 0cac59c: the leader's own log write fails. Without M1 raft truncates the failed entry from
 * the leader's log but the node keeps leading and takes new writes at the same indexes in the
 * same term; the followers, which already hold the truncated entries under that (index, term),
 * keep them, so the FSMs of leader and followers apply different entries at one index. With
 * M1 raft never hears of the failure, the group stops (fatal hook; the test's owner "crashes"
 * the node), another node takes over and nothing diverges. */
START_TEST(test_0cac59c_leader_keeps_leading_after_failed_write)
{
	struct shim_config cfg = cfg_all();
	cfg.m1_fail_stop = false;
	rlw_run(&cfg, false);
	ck_assert(rlw.leader_after_failure);
	ck_assert(rlw.truncated_own_log);
	ck_assert(rlw.accepted_writes);
	ck_assert_msg(rlw.diverged, "OFF: expected FSM divergence");

	cfg = cfg_all();
	rlw_run(&cfg, false);
	ck_assert_uint_eq(H.ctl[0].fatal_count, 1);
	ck_assert_ptr_nonnull(strstr(H.ctl[0].fatal_why, "append"));
	ck_assert(rlw.ready_elsewhere);
	ck_assert(!rlw.diverged);
}
END_TEST

/* 23ed201: on a failed leader write 0.15.0 fails only the request at the write's first index
 * (asserting, in debug builds, that it is a command; Debian's NDEBUG build has no assert). The
 * request for the next index ('b', written separately, now truncated away) stays queued and
 * is matched by index when 'd' is later appended there: 'b''s client gets status 0 although
 * the leader applied 'd' at that index. Without M1 'b' is acknowledged for another entry; with
 * M1 it is not. */
START_TEST(test_23ed201_failed_write_acknowledges_wrong_request)
{
	struct shim_config cfg = cfg_all();
	cfg.m1_fail_stop = false;
	rlw_run(&cfg, false);
	ck_assert(rlw.b_wrong_ack);

	cfg = cfg_all();
	rlw_run(&cfg, false);
	ck_assert(!rlw.b_wrong_ack);
	ck_assert_uint_eq(H.ctl[0].fatal_count, 1);
}
END_TEST

/* 8be539d: the leader re-appends at the failed write's indexes, in the same term, while the
 * write of 'b' still references the old entry at b's index. Debug builds assert in
 * refsTryInsert; Debian's NDEBUG build inserts a second reference-count slot, and when b's
 * write completes raft matches it by (index, term) to the new entry: last_stored covers 'c'
 * while c's own write is still pending, S0's disk holds 'b' where its memory holds 'c', and
 * the reference counts go wrong - an entry still in the log is freed (use after free, then a
 * double free). Without M1 the forked run reports the first two and dies of the corruption;
 * with M1 raft never sees the failure, the group stops and nothing is corrupted. */
static void r8be_child(void)
{
	struct shim_config cfg = cfg_all();
	cfg.m1_fail_stop = false;
	rlw_run(&cfg, true);
}

START_TEST(test_8be539d_reappend_same_index_and_term)
{
	struct child_result res = run_forked(r8be_child);
	ck_assert_int_eq(res.notes[NOTE_STEP_A], 1); /* still leader after its write failed */
	ck_assert_int_eq(res.notes[NOTE_STEP_B], 1); /* a stale completion vouched for 'c' */
	/* disk 'b' vs memory 'c' (a sanitizer build stops at the use after free before this) */
	ck_assert_int_ne(res.notes[NOTE_STEP_C], 0);
	/* heap corruption: glibc aborts on the double free, a sanitizer build exits non-zero */
	if (SANITIZED) /* a sanitizer report: an exit status, or SIGABRT with abort_on_error */
		ck_assert((res.exited && res.exit_code != 0) || res.sig != 0);
	else
		ck_assert_int_eq(res.sig, SIGABRT);

	struct shim_config cfg = cfg_all();
	rlw_run(&cfg, true);
	ck_assert_uint_eq(H.ctl[0].fatal_count, 1);
	ck_assert(!rlw.stored_unwritten);
	ck_assert(!rlw.diverged);
}
END_TEST

/* ---- 857e17e: a failed follower write leaves its entries in the in-memory log ---- */

static struct {
	raft_index a_index;
	bool misplaced;     /* S1's disk holds, at some index, an entry other than S1's memory */
	bool ahead_of_disk; /* S1's memory holds an entry its disk does not */
} r857;

static bool r857_b_written(void)
{
	struct capply *b = find_apply('b');
	return b != NULL && raft_last_index(R(1)) >= b->index && H.ctl[1].appends_pending == 0;
}

static void r857_run(const struct shim_config *cfg)
{
	memset(&r857, 0, sizeof(r857));
	h_init(3, 3, cfg);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	raft_fixture_set_randomized_election_timeout(&H.f, 1, 3000);
	raft_fixture_set_randomized_election_timeout(&H.f, 2, 3000);
	h_start();
	ck_assert(step_until(s0_ready, 3000));
	H.ctl[1].fail_next_append = true;
	struct capply *a = client_apply(0, 'a');
	ck_assert_ptr_nonnull(a);
	r857.a_index = a->index;
	step_for(300);
	ck_assert_ptr_nonnull(client_apply(0, 'b'));
	step_until(r857_b_written, 1000);
	step_for(300);
	for (raft_index x = 1; x <= raft_last_index(R(1)); x++) {
		char disk, mem = data_at(1, x);
		raft_term t = disk_term_at(1, x, &disk);
		if (t == 0)
			r857.ahead_of_disk = true;
		else if (t != term_at(1, x) || disk != mem)
			r857.misplaced = true;
	}
	dump("857e17e end");
	h_close();
}

/* 857e17e: S1's write of 'a' fails. Without M1 raft rejects the entries but keeps them in
 * S1's in-memory log; io->append carries no index, so S1's next write ('b') lands on disk where
 * 'a' should be: S1's disk and memory disagree (after a restart S1 would hold 'b' at a's
 * index). With M1 the failure stops the group before anything else is written: S1's disk stays
 * a prefix of its log. */
START_TEST(test_857e17e_failed_follower_write_misplaces_later_entries)
{
	struct shim_config cfg = cfg_all();
	cfg.m1_fail_stop = false;
	r857_run(&cfg);
	ck_assert(r857.misplaced);

	cfg = cfg_all();
	r857_run(&cfg);
	ck_assert(!r857.misplaced);
	ck_assert_uint_eq(H.ctl[1].fatal_count, 1);
	ck_assert_ptr_nonnull(strstr(H.ctl[1].fatal_why, "append"));
}
END_TEST

/* ---- baa8f52: configuration rollback after the committed configuration was compacted ---- */

static struct {
	struct cchange add;
	raft_index k; /* index of the uncommitted configuration entry */
} rba;

static bool rba_all_applied(void)
{
	for (unsigned i = 0; i < 5; i++)
		if (R(i)->last_applied < raft_last_index(R(0)))
			return false;
	return true;
}

static bool rba_s1_uncommitted(void)
{
	return R(1)->configuration_uncommitted_index == rba.k;
}

static bool rba_s2_ready(void)
{
	return shim_leader_ready(H.shim[2]) || H.ctl[1].fatal_count > 0;
}

/* Five voters, threshold 8, trailing 2: everyone compacts the bootstrap configuration entry
 * away. S0 appends a configuration change (add a spare) that reaches only S1 and dies; S2 wins
 * without it and overwrites that index. */
static void rba_run(const struct shim_config *cfg)
{
	memset(&rba, 0, sizeof(rba));
	h_init(5, 5, cfg);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	raft_fixture_set_randomized_election_timeout(&H.f, 1, 30000);
	raft_fixture_set_randomized_election_timeout(&H.f, 2, 1200);
	raft_fixture_set_randomized_election_timeout(&H.f, 3, 1500);
	raft_fixture_set_randomized_election_timeout(&H.f, 4, 1800);
	for (unsigned i = 0; i < 5; i++) {
		raft_set_snapshot_threshold(R(i), 8);
		raft_set_snapshot_trailing(R(i), 2);
	}
	h_start();
	ck_assert(step_until(s0_ready, 3000));
	for (int k = 0; k < 20; k++)
		ck_assert_ptr_nonnull(client_apply(0, (char)('a' + k)));
	ck_assert(step_until(rba_all_applied, 3000));
	step_for(200);
	ck_assert_uint_eq(R(1)->configuration_index, 1);
	ck_assert_uint_gt(R(1)->log.offset, 1); /* entry 1 compacted on S1 */
	raft_fixture_saturate(&H.f, 0, 2);
	raft_fixture_saturate(&H.f, 0, 3);
	raft_fixture_saturate(&H.f, 0, 4);
	rba.k = raft_last_index(R(0)) + 1;
	rba.add.req.data = &rba.add;
	ck_assert_int_eq(raft_add(R(0), &rba.add.req, 6, "6", cchange_cb), 0);
	ck_assert(step_until(rba_s1_uncommitted, 1000));
	child_note(NOTE_STEP_A, (long)R(1)->configuration_uncommitted_index);
	raft_fixture_kill(&H.f, 0);
	step_until(rba_s2_ready, 20000);
	step_for(1000);
	child_note(NOTE_STEP_B, 1); /* survived */
}

/* baa8f52: S1 must roll back an uncommitted configuration when S2 overwrites its index, and
 * membershipRollback fetches the last committed configuration entry from the log - compacted
 * into a snapshot long ago. Debug builds assert(entry != NULL); Debian's NDEBUG build reads
 * through the NULL entry. Without the guard the forked run dies of SIGSEGV right there; with
 * it the shim sees the AppendEntries coming, discards it and stops S1's group through the
 * fatal hook, and the process lives on. */
static void rba_child(void)
{
	struct shim_config cfg = cfg_all();
	cfg.rollback_guard = false;
	rba_run(&cfg);
}

START_TEST(test_baa8f52_rollback_after_compaction_crashes)
{
	struct child_result res = run_forked(rba_child);
	ck_assert_int_gt(res.notes[NOTE_STEP_A], 0); /* S1 held the uncommitted change */
	ck_assert_int_eq(res.notes[NOTE_STEP_B], -1);
	if (SANITIZED) /* a sanitizer report: an exit status, or SIGABRT with abort_on_error */
		ck_assert((res.exited && res.exit_code != 0) || res.sig != 0);
	else
		ck_assert_int_eq(res.sig, SIGSEGV);

	struct shim_config cfg = cfg_all();
	rba_run(&cfg);
	ck_assert_uint_eq(H.ctl[1].fatal_count, 1);
	ck_assert_ptr_nonnull(strstr(H.ctl[1].fatal_why, "baa8f52"));
	ck_assert_uint_eq(shim_stats(H.shim[1])->rollbacks_refused, 1);
	ck_assert(shim_leader_ready(H.shim[2]));
	h_close();
}
END_TEST

/* ---- 64b0b8b: a leadership transfer whose TimeoutNow is ignored just fails ---- */

static struct {
	bool drop_next_ae;
	struct raft_transfer xfer;
	unsigned raft_cbs;
	bool shim_done;
	int shim_status;
} r64;

static bool r64_send(unsigned i, const struct raft_message *m, raft_io_send_cb cb)
{
	(void)cb;
	/* The AppendEntries carrying S0's newest entry to S1 is lost in the network. */
	if (r64.drop_next_ae && i == 0 && m->type == RAFT_IO_APPEND_ENTRIES && m->server_id == 2 &&
	    m->append_entries.n_entries > 0) {
		r64.drop_next_ae = false;
		return true;
	}
	return false;
}

static void r64_raft_cb(struct raft_transfer *req)
{
	(void)req;
	r64.raft_cbs++;
}

static void r64_shim_cb(void *arg, int status)
{
	(void)arg;
	r64.shim_done = true;
	r64.shim_status = status;
}

/* S0 leads and is asked to hand over to S1 right after writing an entry whose AppendEntries
 * to S1 was lost: 0.15.0 takes S1 as up to date from its optimistic next index and sends
 * TimeoutNow, which S1 ignores (its log lacks the entry); the attempt expires after an
 * election timeout. `retry`: through shim_transfer (M7: retry), else one raft_transfer. */
static void r64_run(bool retry)
{
	memset(&r64, 0, sizeof(r64));
	struct shim_config cfg = cfg_all();
	h_init(3, 3, &cfg);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	raft_fixture_set_randomized_election_timeout(&H.f, 1, 3000);
	raft_fixture_set_randomized_election_timeout(&H.f, 2, 3000);
	H.on_send = r64_send;
	h_start();
	ck_assert(step_until(s0_ready, 3000));
	r64.drop_next_ae = true;
	ck_assert_ptr_nonnull(client_apply(0, 'a'));
	if (retry)
		ck_assert_int_eq(shim_transfer(H.shim[0], 2, 3, r64_shim_cb, NULL), 0);
	else
		ck_assert_int_eq(raft_transfer(R(0), &r64.xfer, 2, r64_raft_cb), 0);
	step_for(4000);
	dump("64b0b8b end");
}

/* 64b0b8b: without the retry discipline the single attempt fails and S0 stays leader; with
 * shim_transfer the second attempt, made after S1 caught up, hands leadership to S1. */
START_TEST(test_64b0b8b_transfer_fails_without_retry)
{
	r64_run(false);
	ck_assert_uint_eq(r64.raft_cbs, 1);
	ck_assert_int_eq(raft_state(R(0)), RAFT_LEADER);
	ck_assert_int_ne(raft_state(R(1)), RAFT_LEADER);
	h_close();

	r64_run(true);
	ck_assert(r64.shim_done);
	ck_assert_int_eq(r64.shim_status, 0);
	ck_assert_int_eq(raft_state(R(1)), RAFT_LEADER);
	ck_assert_uint_ge(shim_stats(H.shim[0])->transfer_attempts, 2);
	h_close();
}
END_TEST

/* ---- c6cfe58: raft_transfer's TimeoutNow is sent without callback from the caller's memory */

static struct {
	struct raft_transfer xfer; /* the caller's request */
	bool released;             /* the caller considers it free (its callback ran) */
	bool touched_after_release;
	bool touched_caller_req;
	bool done;
} r6;

static bool r6_slow(unsigned i, const struct raft_message *m, raft_io_send_cb cb)
{
	(void)cb;
	return i == 0 && m->type == RAFT_IO_TIMEOUT_NOW;
}

static void r6_touch(struct raft_io_send *req)
{
	if (req == &r6.xfer.send) {
		r6.touched_caller_req = true;
		if (r6.released)
			r6.touched_after_release = true;
	}
}

static void r6_cb(struct raft_transfer *req)
{
	(void)req;
	r6.done = true;
	r6.released = true; /* a real caller frees it here (cons.c does) */
}

/* The io under test keeps a send's request until the write completes 3 s later (as raft_uv
 * does with a slow connection); the transfer succeeds well before that. */
static void r6_run(const struct shim_config *cfg)
{
	memset(&r6, 0, sizeof(r6));
	h_init(3, 3, cfg);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	raft_fixture_set_randomized_election_timeout(&H.f, 1, 3000);
	raft_fixture_set_randomized_election_timeout(&H.f, 2, 3000);
	H.slow_send = r6_slow;
	H.slow_ms = 3000;
	H.slow_touch = r6_touch;
	h_start();
	ck_assert(step_until(s0_ready, 3000));
	ck_assert_int_eq(raft_transfer(R(0), &r6.xfer, 2, r6_cb), 0);
	step_for(4000);
	ck_assert(r6.done);
	ck_assert_int_eq(raft_state(R(1)), RAFT_LEADER);
	h_close();
}

/* c6cfe58: without M6 the io receives the raft_transfer's embedded request and still holds it
 * (and reads req->cb) after the transfer completed and the caller released it: a use after
 * free in the io. With M6 the io only ever sees a shim-owned request. */
START_TEST(test_c6cfe58_transfer_request_used_after_release)
{
	struct shim_config cfg = cfg_all();
	cfg.m6_send_req = false;
	r6_run(&cfg);
	ck_assert(r6.touched_caller_req);
	ck_assert(r6.touched_after_release);

	cfg = cfg_all();
	r6_run(&cfg);
	ck_assert(!r6.touched_caller_req);
	ck_assert(!r6.touched_after_release);
}
END_TEST

/* ---- fcc4c8d: last_applied is bumped only after the apply callback ---- */

static struct {
	unsigned n;
	unsigned wrong_last_applied; /* callbacks where raft_last_applied() != the entry's index */
	unsigned wrong_index;        /* applyq completions whose index holds another payload */
	unsigned completed;
	raft_index last_index;
	bool out_of_order;
} rfc;

static void rfc_raft_cb(struct raft_apply *req, int status, void *result)
{
	struct capply *a = req->data;
	capply_cb(req, status, result);
	if (status == 0 && raft_last_applied(R(0)) != a->index)
		rfc.wrong_last_applied++;
}

struct rfc_prop {
	struct applyq_req req;
	char c;
	raft_index index;
};
static struct rfc_prop rfc_props[64];

static void rfc_q_cb(struct applyq_req *req, int status, raft_index index)
{
	struct rfc_prop *p = req->data;
	ck_assert_int_eq(status, 0);
	p->index = index;
	if (index <= rfc.last_index)
		rfc.out_of_order = true;
	rfc.last_index = index;
	rfc.completed++;
}

/* fcc4c8d: inside raft's apply callback, raft_last_applied() still names the previous entry,
 * so a broker that reports it as the write's position acknowledges the wrong offset (OFF: every
 * callback). The discipline - applyq passes each proposer the index raft gave its entry - gets
 * every position right (ON). */
START_TEST(test_fcc4c8d_last_applied_lags_in_apply_callback)
{
	memset(&rfc, 0, sizeof(rfc));
	struct shim_config cfg = cfg_all();
	h_init(3, 3, &cfg);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	h_start();
	ck_assert(step_until(s0_ready, 3000));
	for (int k = 0; k < 5; k++) {
		struct capply *a = &applies[n_applies++];
		memset(a, 0, sizeof(*a));
		a->req.data = a;
		a->c = (char)('a' + k);
		struct raft_buffer b = payload(a->c);
		ck_assert_int_eq(raft_apply(R(0), &a->req, &b, 1, rfc_raft_cb), 0);
		a->index = a->req.index;
	}
	step_for(500);
	ck_assert_uint_eq(rfc.wrong_last_applied, 5);

	struct applyq *q;
	struct applyq_config qc = { .applies_max = 2, .bufs_per_apply_max = 4, .queued_max = 64 };
	ck_assert_int_eq(applyq_new(R(0), &qc, &q), 0);
	for (int k = 0; k < 20; k++) {
		rfc_props[k].c = (char)('A' + k);
		rfc_props[k].req.data = &rfc_props[k];
		ck_assert_int_eq(
			applyq_propose(q, &rfc_props[k].req, payload(rfc_props[k].c), rfc_q_cb), 0);
	}
	step_for(1000);
	ck_assert_uint_eq(rfc.completed, 20);
	for (int k = 0; k < 20; k++)
		if (H.st[0].at[rfc_props[k].index] != rfc_props[k].c)
			rfc.wrong_index++;
	ck_assert_uint_eq(rfc.wrong_index, 0);
	ck_assert(!rfc.out_of_order);
	h_close();
	applyq_free(q);
}
END_TEST

/* ---- 1996d32: commit stalls under continuous one-entry applies ---- */

static struct {
	unsigned proposed, completed, failed;
	raft_index commit_at_start, commit_at_end_of_load;
	raft_index last_at_end_of_load;
	raft_index last_index_done;
	bool out_of_order;
} r19;

static struct applyq_req r19_reqs[APPLIES_MAX];

static void r19_cb(struct applyq_req *req, int status, raft_index index)
{
	(void)req;
	if (status != 0) {
		r19.failed++;
		return;
	}
	if (index <= r19.last_index_done)
		r19.out_of_order = true;
	r19.last_index_done = index;
	r19.completed++;
}

/* S0 (ready) gets one proposal every 5 ms for 2 s, then none for 1 s. `q` NULL: each one is
 * its own raft_apply; else it goes through the apply queue. */
static void r19_load(struct applyq *q)
{
	r19.commit_at_start = R(0)->commit_index;
	raft_time end = raft_fixture_time(&H.f) + 2000;
	raft_time next = raft_fixture_time(&H.f);
	while (raft_fixture_time(&H.f) < end) {
		while (raft_fixture_time(&H.f) < next)
			step();
		next += 5;
		char c = (char)('a' + r19.proposed % 26);
		if (q == NULL) {
			ck_assert_ptr_nonnull(client_apply(0, c));
		} else {
			ck_assert_uint_lt(r19.proposed, APPLIES_MAX);
			ck_assert_int_eq(
				applyq_propose(q, &r19_reqs[r19.proposed], payload(c), r19_cb), 0);
		}
		r19.proposed++;
	}
	r19.commit_at_end_of_load = R(0)->commit_index;
	r19.last_at_end_of_load = raft_last_index(R(0));
	step_for(1000);
}

/* 1996d32: 0.15.0 tests the commit quorum only at the leader's own last_stored, which a
 * steady stream of applies keeps ahead of every follower's acknowledgement. Without group
 * commit (one raft_apply per write) the commit index does not move during the 2 s of load
 * and jumps once it stops; with the apply queue (one batch in flight, the rest coalesced) it
 * keeps up, and every proposer completes in order. */
START_TEST(test_1996d32_commit_stalls_under_continuous_applies)
{
	memset(&r19, 0, sizeof(r19));
	struct shim_config cfg = cfg_all();
	h_init(3, 3, &cfg);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	h_start();
	ck_assert(step_until(s0_ready, 3000));
	r19_load(NULL);
	ck_assert_uint_eq(r19.commit_at_end_of_load, r19.commit_at_start);
	ck_assert_uint_gt(r19.last_at_end_of_load, r19.commit_at_start + 300);
	ck_assert_uint_eq(R(0)->commit_index, raft_last_index(R(0))); /* jumps once idle */
	h_close();

	memset(&r19, 0, sizeof(r19));
	h_init(3, 3, &cfg);
	raft_fixture_set_randomized_election_timeout(&H.f, 0, 1000);
	h_start();
	ck_assert(step_until(s0_ready, 3000));
	struct applyq *q;
	struct applyq_config qc = { .applies_max = 1,
				    .bufs_per_apply_max = 64,
				    .queued_max = 1024 };
	ck_assert_int_eq(applyq_new(R(0), &qc, &q), 0);
	r19_load(q);
	/* all but the last round trip's worth committed while the load ran */
	ck_assert_uint_ge(r19.commit_at_end_of_load + 20, r19.last_at_end_of_load);
	ck_assert_uint_gt(r19.commit_at_end_of_load, r19.commit_at_start + 300);
	ck_assert_uint_eq(r19.completed, r19.proposed);
	ck_assert_uint_eq(r19.failed, 0);
	ck_assert(!r19.out_of_order);
	h_close();
	applyq_free(q);
}
END_TEST

/* ---- mechanics of the shim itself ---- */

static int sentinel_append(struct raft_io *io, struct raft_io_append *req,
			   const struct raft_entry entries[], unsigned n, raft_io_append_cb cb)
{
	(void)io;
	(void)req;
	(void)entries;
	(void)n;
	(void)cb;
	return RAFT_IOERR;
}

#define MANY_GROUPS 3000

/* Thousands of groups on one thread: every io is wrapped and found again (the lookup table
 * grows, and deletions in any order keep every other io reachable); a wrapped io cannot be
 * wrapped twice; shim_free restores the io's methods. */
START_TEST(test_shim_many_groups_install_and_free)
{
	static struct raft rafts[MANY_GROUPS];
	static struct raft_io ios[MANY_GROUPS];
	static struct shim *shims[MANY_GROUPS];
	memset(rafts, 0, sizeof(rafts));
	memset(ios, 0, sizeof(ios));
	for (unsigned i = 0; i < MANY_GROUPS; i++) {
		ios[i].append = sentinel_append;
		shims[i] = shim_install(&rafts[i], &ios[i], NULL, NULL);
		ck_assert_ptr_nonnull(shims[i]);
		ck_assert(ios[i].append != sentinel_append);
	}
	for (unsigned i = 0; i < MANY_GROUPS; i++)
		ck_assert_ptr_null(shim_install(&rafts[i], &ios[i], NULL, NULL));
	/* free every third, then re-check that all others are still registered */
	for (unsigned i = 0; i < MANY_GROUPS; i += 3) {
		shim_free(shims[i]);
		shims[i] = NULL;
		ck_assert(ios[i].append == sentinel_append);
	}
	for (unsigned i = 0; i < MANY_GROUPS; i++) {
		if (shims[i] != NULL) {
			ck_assert_ptr_null(shim_install(&rafts[i], &ios[i], NULL, NULL));
		} else {
			shims[i] = shim_install(&rafts[i], &ios[i], NULL, NULL);
			ck_assert_ptr_nonnull(shims[i]);
		}
	}
	for (unsigned i = MANY_GROUPS; i-- > 0;) {
		shim_free(shims[i]);
		ck_assert(ios[i].append == sentinel_append);
	}
	shim_free(NULL);
}
END_TEST

static unsigned mech_changes;
static void mech_change_cb(void *arg)
{
	(void)arg;
	mech_changes++;
}

static bool mech_ready(void)
{
	return shim_leader_ready(H.shim[0]);
}

/* A single voter is leader as soon as raft_start returns: shim_started issues its barrier,
 * readiness follows once it is applied, and the change hook reports both steps. */
START_TEST(test_shim_single_voter_gets_barrier_at_start)
{
	struct shim_config cfg = cfg_all();
	h_init(1, 1, &cfg);
	mech_changes = 0;
	H.on_change = mech_change_cb;
	h_start();
	ck_assert_int_eq(raft_state(R(0)), RAFT_LEADER);
	ck_assert(!shim_leader_ready(H.shim[0]));
	ck_assert_uint_eq(shim_stats(H.shim[0])->barriers, 1);
	unsigned after_start = mech_changes;
	ck_assert_uint_ge(after_start, 1);
	ck_assert(step_until(mech_ready, 1000));
	ck_assert_uint_gt(mech_changes, after_start);
	h_close();
}
END_TEST

/* TESTS-GO-HERE */

static Suite *shim_suite(void)
{
	Suite *s = suite_create("shim");
	TCase *safety = tcase_create("safety");
	TCase *crash = tcase_create("crash");
	TCase *liveness = tcase_create("liveness");
	TCase *mechanics = tcase_create("mechanics");
	tcase_add_test(safety, test_524f735_old_term_entry_committed_by_counting);
	tcase_add_test(safety, test_n1_stale_tail_in_sync_reply_loses_acked_write);
	tcase_add_test(safety, test_35479fc_reply_after_term_change_false_commit);
	tcase_add_test(safety, test_a54636b_election_with_unpersisted_entries);
	tcase_add_test(safety, test_29bb302_no_noop_leaves_old_entries_uncommitted);
	tcase_add_test(safety, test_634cb11_candidate_while_appends_in_flight);
	tcase_add_test(safety, test_f65b6e7_timeout_now_while_persisting);
	tcase_add_test(safety, test_4fbd3c0_candidate_while_installing_snapshot);
	tcase_add_test(crash, test_05746af_install_result_to_garbage_destination);
	tcase_add_test(liveness, test_2a38d3d_install_reply_after_term_change);
	tcase_add_test(crash, test_d144504_failed_install_moves_commit_index_back);
	tcase_add_test(safety, test_0cac59c_leader_keeps_leading_after_failed_write);
	tcase_add_test(safety, test_23ed201_failed_write_acknowledges_wrong_request);
	tcase_add_test(crash, test_8be539d_reappend_same_index_and_term);
	tcase_add_test(safety, test_857e17e_failed_follower_write_misplaces_later_entries);
	tcase_add_test(crash, test_baa8f52_rollback_after_compaction_crashes);
	tcase_add_test(liveness, test_64b0b8b_transfer_fails_without_retry);
	tcase_add_test(crash, test_c6cfe58_transfer_request_used_after_release);
	tcase_add_test(liveness, test_fcc4c8d_last_applied_lags_in_apply_callback);
	tcase_add_test(liveness, test_1996d32_commit_stalls_under_continuous_applies);
	tcase_add_test(mechanics, test_shim_many_groups_install_and_free);
	tcase_add_test(mechanics, test_shim_single_voter_gets_barrier_at_start);
	/* TCASES-GO-HERE */
	/* Simulated time runs fast, but a sanitizer build copies a lot of fixture logs. */
	tcase_set_timeout(safety, 60);
	tcase_set_timeout(crash, 60);
	tcase_set_timeout(liveness, 60);
	tcase_set_timeout(mechanics, 60);
	suite_add_tcase(s, safety);
	suite_add_tcase(s, crash);
	suite_add_tcase(s, liveness);
	suite_add_tcase(s, mechanics);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(shim_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
