/*
 * Tests of src/net: framing, ordered responses, limits, back-pressure and lifetimes, against a
 * real libuv loop listening on 127.0.0.1 (ephemeral ports). Unlike the other unit suites this one
 * needs a loop and sockets, because what it checks is exactly how the layer meets them.
 *
 * The loop runs on the test's thread; clients are plain blocking sockets in a helper thread
 * (struct client). Every wait is bounded: the loop is driven by run_until() with a deadline, and
 * client sockets have send and receive timeouts, so a broken server fails a test instead of
 * hanging it. Client threads record failures in `err` and the test asserts on it after joining.
 *
 * One Suite "net"; TCases: framing, ordering, limits, lifetime, server.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "base/buf.h"
#include "base/codec.h"
#include "base/err.h"
#include "base/slog.h"
#include "net/net.h"

/* Longest a test waits for anything the loop should bring about. */
#define WAIT_MS_MAX 10000
/* Send and receive timeouts of client sockets. */
#define CLIENT_IO_MS_MAX 5000
/* Requests a test handler can hold unanswered. */
#define HELD_MAX 2048
/* Captured log text. */
#define LOG_BYTES_MAX (256 * 1024)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * Fixture: a loop, a server and a handler whose behaviour each test picks.
 */

enum mode {
	MODE_ECHO, /* answer at once with the frame itself; 'N' frames: no response; 'C': close */
	MODE_HOLD, /* keep every request in fx.held until the test answers it */
	MODE_BIG,  /* answer each request with fx.big */
};

struct held {
	struct net_conn *conn;
	uint64_t seq;
	struct buf *frame; /* NULL once answered */
};

static struct fixture {
	uv_loop_t loop;
	uv_timer_t tick;
	struct net_server *srv;
	int port;
	enum mode mode;
	bool ref_held;         /* MODE_HOLD takes a net_conn_ref per held request */
	bool answer_in_close;  /* on_close answers the first held request */
	struct held held[HELD_MAX];
	size_t nheld;
	uint64_t requests;
	uint64_t closes;
	uint64_t closes_at_stop_cb;
	int stop_calls;
	struct buf *big;
	char log[LOG_BYTES_MAX];
	size_t log_len;
} fx;

static void log_sink(void *arg, enum slog_level level, const char *line)
{
	size_t n = strlen(line);

	(void)arg;
	(void)level;
	if (fx.log_len + n + 2 <= sizeof fx.log) {
		memcpy(fx.log + fx.log_len, line, n);
		fx.log_len += n;
		fx.log[fx.log_len++] = '\n';
		fx.log[fx.log_len] = '\0';
	}
}

static bool log_has(const char *needle)
{
	return strstr(fx.log, needle) != NULL;
}

static void on_request(void *arg, struct net_conn *c, uint64_t seq, struct buf *frame, size_t len)
{
	(void)arg;
	ck_assert_uint_eq(frame->len, len);
	fx.requests++;
	switch (fx.mode) {
	case MODE_ECHO:
		if (len > 0 && frame->data[0] == 'C') {
			net_conn_close(c, "test asked to close");
			/* Answering a closing connection drops the response. */
			net_conn_respond(c, seq, frame, len);
		} else if (len > 0 && frame->data[0] == 'N') {
			net_conn_no_response(c, seq);
			buf_unref(frame);
		} else {
			net_conn_respond(c, seq, frame, len);
		}
		break;
	case MODE_HOLD:
		ck_assert_uint_lt(fx.nheld, HELD_MAX);
		if (fx.ref_held)
			net_conn_ref(c);
		fx.held[fx.nheld++] = (struct held){ .conn = c, .seq = seq, .frame = frame };
		break;
	case MODE_BIG:
		buf_unref(frame);
		net_conn_respond(c, seq, buf_ref(fx.big), fx.big->len);
		break;
	}
}

static void on_close(void *arg, struct net_conn *c)
{
	(void)arg;
	fx.closes++;
	ck_assert(!net_conn_is_open(c));
	if (fx.answer_in_close && fx.nheld > 0 && fx.held[0].frame != NULL) {
		net_conn_respond(c, fx.held[0].seq, fx.held[0].frame, fx.held[0].frame->len);
		fx.held[0].frame = NULL;
	}
}

static const struct net_handler handler = { .on_request = on_request, .on_close = on_close };

/* Answers held request `i` with its own frame (an echo); no_response for frames starting 'N'. */
static void answer_held(size_t i)
{
	struct held *h = &fx.held[i];

	ck_assert_ptr_nonnull(h->frame);
	if (h->frame->len > 0 && h->frame->data[0] == 'N') {
		net_conn_no_response(h->conn, h->seq);
		buf_unref(h->frame);
	} else {
		net_conn_respond(h->conn, h->seq, h->frame, h->frame->len);
	}
	h->frame = NULL;
	if (fx.ref_held)
		net_conn_unref(h->conn);
}

static void tick_cb(uv_timer_t *t)
{
	(void)t;
}

static void setup(void)
{
	memset(&fx, 0, sizeof fx);
	signal(SIGPIPE, SIG_IGN);
	slog_set_sink(log_sink, NULL);
	ck_assert_int_eq(uv_loop_init(&fx.loop), 0);
	/* Keeps UV_RUN_ONCE from blocking for long, so run_until() can check its deadline. */
	uv_timer_init(&fx.loop, &fx.tick);
	uv_timer_start(&fx.tick, tick_cb, 1, 1);
}

static void teardown(void)
{
	slog_set_sink(NULL, NULL);
}

static void fx_start(const struct net_limits *lim)
{
	errmsg_t err = "";
	int rv = net_server_start(&fx.loop, "127.0.0.1", 0, lim, &handler, NULL, &fx.srv, err);

	ck_assert_msg(rv == 0, "net_server_start: %s", err);
	fx.port = net_server_port(fx.srv);
	ck_assert_int_gt(fx.port, 0);
}

/* Runs the loop until cond(arg) holds; false if WAIT_MS_MAX (or `ms`) passes first. */
static bool run_until_ms(bool (*cond)(void *), void *arg, uint64_t ms)
{
	uint64_t deadline = now_ms() + ms;

	while (!cond(arg)) {
		if (now_ms() > deadline)
			return false;
		uv_run(&fx.loop, UV_RUN_ONCE);
	}
	return true;
}

static bool run_until(bool (*cond)(void *), void *arg)
{
	return run_until_ms(cond, arg, WAIT_MS_MAX);
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

/* Runs the loop for `ms` milliseconds. */
static void run_for(uint64_t ms)
{
	run_until_ms(never, NULL, ms);
}

static bool requests_reach(void *arg)
{
	return fx.requests >= *(uint64_t *)arg;
}

static bool closes_reach(void *arg)
{
	return fx.closes >= *(uint64_t *)arg;
}

static bool stopped(void *arg)
{
	(void)arg;
	return fx.stop_calls > 0;
}

static void wait_requests(uint64_t n)
{
	ck_assert_msg(run_until(requests_reach, &n), "requests %" PRIu64 " of %" PRIu64,
		      fx.requests, n);
}

static void wait_closes(uint64_t n)
{
	ck_assert_msg(run_until(closes_reach, &n), "closes %" PRIu64 " of %" PRIu64, fx.closes, n);
}

static void stop_cb(void *arg)
{
	ck_assert_ptr_eq(arg, &fx);
	fx.stop_calls++;
	fx.closes_at_stop_cb = fx.closes;
}

/* Stops the server (unless the test did), releases what the handler still holds, and checks that
 * no handle is left: uv_loop_close fails with UV_EBUSY otherwise. */
static void fx_finish(void)
{
	if (fx.srv != NULL) {
		net_server_stop(fx.srv, stop_cb, &fx);
		fx.srv = NULL;
		ck_assert(run_until(stopped, NULL));
		ck_assert_int_eq(fx.stop_calls, 1);
	}
	for (size_t i = 0; i < fx.nheld; i++) {
		if (fx.held[i].frame != NULL) {
			buf_unref(fx.held[i].frame);
			fx.held[i].frame = NULL;
			if (fx.ref_held)
				net_conn_unref(fx.held[i].conn);
		}
	}
	buf_unref(fx.big);
	uv_close((uv_handle_t *)&fx.tick, NULL);
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&fx.loop), 0);
}

static struct net_limits limits(void)
{
	struct net_limits lim;

	net_limits_default(&lim);
	return lim;
}

/* ---------------------------------------------------------------------------------------------
 * Clients: blocking sockets in a helper thread.
 */

struct client {
	pthread_t tid;
	void (*script)(struct client *);
	int port;
	atomic_bool done;
	atomic_bool go; /* set by the test when a script waits for it */
	char err[512];
	/* Script parameters and results. */
	int n;
	uint64_t elapsed_ms;
	atomic_bool sent;
};

static void cl_fail(struct client *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cl_fail(struct client *cl, const char *fmt, ...)
{
	va_list ap;

	if (cl->err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(cl->err, sizeof cl->err, fmt, ap);
	va_end(ap);
}

static int cl_connect(struct client *cl)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)cl->port) };
	struct timeval tv = { .tv_sec = CLIENT_IO_MS_MAX / 1000 };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		cl_fail(cl, "socket: %s", strerror(errno));
		return -1;
	}
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		cl_fail(cl, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static bool cl_send(struct client *cl, int fd, const void *p, size_t n)
{
	const uint8_t *q = p;

	while (n > 0) {
		ssize_t w = send(fd, q, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			cl_fail(cl, "send: %s", w < 0 ? strerror(errno) : "sent nothing");
			return false;
		}
		q += w;
		n -= (size_t)w;
	}
	return true;
}

static bool cl_recv(struct client *cl, int fd, void *p, size_t n)
{
	uint8_t *q = p;

	while (n > 0) {
		ssize_t r = recv(fd, q, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			cl_fail(cl, "recv: %s", r < 0 ? strerror(errno) : "connection closed");
			return false;
		}
		q += r;
		n -= (size_t)r;
	}
	return true;
}

/* True once the server has closed `fd` (end of stream or reset), discarding any data. */
static bool cl_wait_closed(struct client *cl, int fd)
{
	uint8_t tmp[4096];

	for (;;) {
		ssize_t r = recv(fd, tmp, sizeof tmp, 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cl_fail(cl, "waiting for the server to close: %s", strerror(errno));
			return false;
		}
	}
}

/* Fills a frame body of `n` bytes for request `id`: 'D', the id, then a pattern of both. */
static void frame_fill(uint8_t *p, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131u + id * 7u);
	if (n > 0)
		p[0] = 'D';
	if (n >= 5)
		be32_put(p + 1, id);
}

/* Appends prefix and body of frame `id` (n bytes, first byte `kind` if nonzero) to `out`. */
static size_t frame_put(uint8_t *out, size_t n, uint32_t id, uint8_t kind)
{
	be32_put(out, (uint32_t)n);
	frame_fill(out + 4, n, id);
	if (kind != 0 && n > 0)
		out[4] = kind;
	return 4 + n;
}

/* Receives one response and checks it is the echo of frame `id` of `n` bytes. */
static bool cl_expect_echo(struct client *cl, int fd, size_t n, uint32_t id)
{
	uint8_t prefix[4];
	uint8_t *want = malloc(n + 1);
	uint8_t *got = malloc(n + 1);
	bool ok = false;

	if (want == NULL || got == NULL) {
		cl_fail(cl, "out of memory");
		goto out;
	}
	if (!cl_recv(cl, fd, prefix, 4))
		goto out;
	if (be32_get(prefix) != n) {
		cl_fail(cl, "response %" PRIu32 ": size %" PRIu32 ", want %zu", id,
			be32_get(prefix), n);
		goto out;
	}
	if (!cl_recv(cl, fd, got, n))
		goto out;
	frame_fill(want, n, id);
	if (memcmp(want, got, n) != 0) {
		cl_fail(cl, "response %" PRIu32 " of %zu bytes differs from its request", id, n);
		goto out;
	}
	ok = true;
out:
	free(want);
	free(got);
	return ok;
}

static void *client_main(void *arg)
{
	struct client *cl = arg;

	cl->script(cl);
	atomic_store(&cl->done, true);
	return NULL;
}

static void client_start(struct client *cl, void (*script)(struct client *), int n)
{
	memset(cl, 0, sizeof *cl);
	cl->script = script;
	cl->port = fx.port;
	cl->n = n;
	ck_assert_int_eq(pthread_create(&cl->tid, NULL, client_main, cl), 0);
}

static bool client_done(void *arg)
{
	return atomic_load(&((struct client *)arg)->done);
}

/* Runs the loop until the client's script ends, then checks it succeeded. */
static void client_join(struct client *cl)
{
	ck_assert_msg(run_until(client_done, cl), "client did not finish");
	pthread_join(cl->tid, NULL);
	ck_assert_msg(cl->err[0] == '\0', "client: %s", cl->err);
}

static bool flag_set(void *arg)
{
	return atomic_load((atomic_bool *)arg);
}

/* Sizes of the n-th request in the pipelining and many-frames tests. */
static size_t pipelined_size(int i)
{
	return 5 + (size_t)((i * 37) % 200);
}

/* Sends n frames in one write, then reads and checks n echoes in order. */
static void script_pipeline(struct client *cl)
{
	size_t total = 0;
	uint8_t *out;
	int fd;

	for (int i = 0; i < cl->n; i++)
		total += 4 + pipelined_size(i);
	out = malloc(total);
	fd = cl_connect(cl);
	if (out == NULL || fd < 0)
		goto out;
	total = 0;
	for (int i = 0; i < cl->n; i++)
		total += frame_put(out + total, pipelined_size(i), (uint32_t)i, 0);
	if (!cl_send(cl, fd, out, total))
		goto out;
	for (int i = 0; i < cl->n; i++)
		if (!cl_expect_echo(cl, fd, pipelined_size(i), (uint32_t)i))
			goto out;
out:
	free(out);
	if (fd >= 0)
		close(fd);
}

/* ---------------------------------------------------------------------------------------------
 * framing
 */

static const size_t tiny_sizes[] = { 0, 1, 2, 3, 4, 5, 6, 17, 100, 255, 256, 1000 };
#define TINY_COUNT (sizeof tiny_sizes / sizeof tiny_sizes[0])
static const size_t large_sizes[] = { 70000, 200000, 65536, 65535 + 4 };
#define LARGE_COUNT (sizeof large_sizes / sizeof large_sizes[0])

/* Small frames trickle in 1-3 bytes per send; large ones in 1000-byte sends, then one send with
 * a large frame's tail and the next frame's head. Each echo is checked. */
static void script_tiny_writes(struct client *cl)
{
	uint8_t *out = malloc(4 + 300000);
	int fd = cl_connect(cl);
	uint32_t id = 0;

	if (out == NULL || fd < 0)
		goto out;
	for (int round = 0; round < 2; round++) {
		size_t len = 0;
		for (size_t i = 0; i < TINY_COUNT; i++)
			len += frame_put(out + len, tiny_sizes[i], id + (uint32_t)i, 0);
		for (size_t off = 0, step = 1; off < len; off += step, step = step % 3 + 1) {
			if (!cl_send(cl, fd, out + off, off + step > len ? len - off : step))
				goto out;
			sleep_us(20);
		}
		for (size_t i = 0; i < TINY_COUNT; i++)
			if (!cl_expect_echo(cl, fd, tiny_sizes[i], id + (uint32_t)i))
				goto out;
		id += TINY_COUNT;
	}
	for (size_t i = 0; i < LARGE_COUNT; i++, id++) {
		size_t len = frame_put(out, large_sizes[i], id, 0);
		for (size_t off = 0; off < len; off += 1000) {
			if (!cl_send(cl, fd, out + off, off + 1000 > len ? len - off : 1000))
				goto out;
			if (off % 16000 == 0)
				sleep_us(100);
		}
		if (!cl_expect_echo(cl, fd, large_sizes[i], id))
			goto out;
	}
	/* A large frame whose tail shares a send with a whole small frame and half a prefix. */
	size_t len = frame_put(out, 100000, id, 0);
	len += frame_put(out + len, 10, id + 1, 0);
	len += frame_put(out + len, 20, id + 2, 0);
	if (!cl_send(cl, fd, out, len - 22))
		goto out;
	sleep_us(20000);
	if (!cl_send(cl, fd, out + len - 22, 22))
		goto out;
	if (!cl_expect_echo(cl, fd, 100000, id) || !cl_expect_echo(cl, fd, 10, id + 1) ||
	    !cl_expect_echo(cl, fd, 20, id + 2))
		goto out;
out:
	free(out);
	if (fd >= 0)
		close(fd);
}

/* Frames sent a few bytes at a time, and large frames in many sends, arrive whole and in order,
 * and each is delivered as a buf of exactly its size. */
START_TEST(test_net_frames_split_across_tiny_writes_parse)
{
	struct net_limits lim = limits();
	struct client cl;

	fx_start(&lim);
	fx.mode = MODE_ECHO;
	client_start(&cl, script_tiny_writes, 0);
	client_join(&cl);
	ck_assert_uint_eq(fx.requests, 2 * TINY_COUNT + LARGE_COUNT + 3);
	fx_finish();
}
END_TEST

/* 500 frames of assorted sizes in a single send all parse and are echoed in order. */
START_TEST(test_net_many_frames_in_one_write_parse)
{
	struct net_limits lim = limits();
	struct net_stats st;
	struct client cl;

	lim.inflight_requests_max = 1000;
	fx_start(&lim);
	fx.mode = MODE_ECHO;
	client_start(&cl, script_pipeline, 500);
	client_join(&cl);
	ck_assert_uint_eq(fx.requests, 500);
	net_server_stats(fx.srv, &st);
	ck_assert_uint_eq(st.requests, 500);
	ck_assert_uint_eq(st.responses, 500);
	ck_assert_uint_eq(st.bytes_in, st.bytes_out);
	fx_finish();
}
END_TEST

/* Sends a 4-byte size prefix (and a few bytes after it) and expects the server to close. */
static void script_bad_prefix(struct client *cl)
{
	uint8_t out[16] = { 0 };
	int fd = cl_connect(cl);

	if (fd < 0)
		return;
	be32_put(out, (uint32_t)cl->n);
	if (cl_send(cl, fd, out, sizeof out))
		cl_wait_closed(cl, fd);
	close(fd);
}

/* One frame of exactly frame_bytes_max, echoed. */
static void script_one_max_frame(struct client *cl)
{
	uint8_t *out = malloc(4 + (size_t)cl->n);
	int fd = cl_connect(cl);

	if (out != NULL && fd >= 0) {
		size_t len = frame_put(out, (size_t)cl->n, 42, 0);
		if (cl_send(cl, fd, out, len))
			cl_expect_echo(cl, fd, (size_t)cl->n, 42);
	}
	free(out);
	if (fd >= 0)
		close(fd);
}

/* A size prefix one above frame_bytes_max closes that connection with a warning naming peer,
 * size and limit; a new connection is then served, and a frame at the limit is accepted. */
START_TEST(test_net_oversize_prefix_closes_and_server_keeps_serving)
{
	struct net_limits lim = limits();
	struct net_stats st;
	struct client cl;

	lim.frame_bytes_max = 1024;
	fx_start(&lim);
	fx.mode = MODE_ECHO;
	client_start(&cl, script_bad_prefix, 1025);
	client_join(&cl);
	wait_closes(1);
	ck_assert_uint_eq(fx.requests, 0);
	ck_assert_msg(log_has("level=warn") && log_has("peer=127.0.0.1:") &&
			      log_has("size=1025 limit=1024"),
		      "log: %s", fx.log);

	client_start(&cl, script_one_max_frame, 1024);
	client_join(&cl);
	ck_assert_uint_eq(fx.requests, 1);
	net_server_stats(fx.srv, &st);
	ck_assert_uint_eq(st.frames_rejected, 1);
	ck_assert_uint_eq(st.connections_accepted, 2);
	fx_finish();
}
END_TEST

/* A negative size prefix (0xFFFFFFFF is -1) closes the connection with a warning. */
START_TEST(test_net_negative_prefix_closes)
{
	struct net_limits lim = limits();
	struct client cl;

	fx_start(&lim);
	fx.mode = MODE_ECHO;
	client_start(&cl, script_bad_prefix, -1);
	client_join(&cl);
	wait_closes(1);
	ck_assert_uint_eq(fx.requests, 0);
	ck_assert_msg(log_has("size=-1 limit=104857600"), "log: %s", fx.log);
	fx_finish();
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * ordering
 */

/* 1,000 pipelined requests answered in reverse order come back in request order, written in
 * batches, and the counters add up. */
START_TEST(test_net_responses_answered_in_reverse_leave_in_request_order)
{
	struct net_limits lim = limits();
	struct net_stats st;
	struct client cl;
	size_t bytes = 0;

	lim.inflight_requests_max = 1000;
	fx_start(&lim);
	fx.mode = MODE_HOLD;
	client_start(&cl, script_pipeline, 1000);
	wait_requests(1000);
	for (size_t i = 0; i < 1000; i++) {
		ck_assert_uint_eq(fx.held[i].seq, i);
		bytes += 4 + pipelined_size((int)i);
	}
	run_for(20);
	net_server_stats(fx.srv, &st);
	ck_assert_uint_eq(st.responses, 0);
	for (size_t i = 1000; i-- > 0;)
		answer_held(i);
	client_join(&cl);

	net_server_stats(fx.srv, &st);
	ck_assert_uint_eq(st.requests, 1000);
	ck_assert_uint_eq(st.responses, 1000);
	/* Released together by the answer to seq 0: NET_WRITE_RESPONSES_MAX (256) per writev. */
	ck_assert_uint_eq(st.writes, 4);
	ck_assert_uint_eq(st.bytes_in, bytes);
	ck_assert_uint_eq(st.bytes_out, bytes);
	ck_assert_uint_eq(st.connections_accepted, 1);
	fx_finish();
}
END_TEST

/* Sends ten frames (those at positions 0, 3, 4 and 9 ask for no response), reads the six
 * responses, then sends one more frame and reads its echo. */
static void script_no_response(struct client *cl)
{
	uint8_t out[64 * 20];
	size_t len = 0;
	int fd = cl_connect(cl);

	if (fd < 0)
		return;
	for (uint32_t i = 0; i < 10; i++) {
		bool quiet = i == 0 || i == 3 || i == 4 || i == 9;
		len += frame_put(out + len, 20 + i, i, quiet ? 'N' : 0);
	}
	if (!cl_send(cl, fd, out, len))
		goto out;
	for (uint32_t i = 0; i < 10; i++) {
		if (i == 0 || i == 3 || i == 4 || i == 9)
			continue;
		if (!cl_expect_echo(cl, fd, 20 + i, i))
			goto out;
	}
	len = frame_put(out, 33, 10, 0);
	if (cl_send(cl, fd, out, len))
		cl_expect_echo(cl, fd, 33, 10);
out:
	close(fd);
}

/* Requests answered with no response (acks=0), first, in the middle and last, answered in reverse
 * order, do not hold back or reorder the responses around them. */
START_TEST(test_net_no_response_keeps_order_of_later_responses)
{
	struct net_limits lim = limits();
	struct client cl;

	fx_start(&lim);
	fx.mode = MODE_HOLD;
	client_start(&cl, script_no_response, 0);
	wait_requests(10);
	for (size_t i = 10; i-- > 0;)
		answer_held(i);
	wait_requests(11);
	answer_held(10);
	client_join(&cl);
	fx_finish();
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * limits
 */

/* With inflight_requests_max 4 and 10 pipelined requests, the fifth is delivered only after the
 * oldest is answered; an answer behind an unanswered one frees nothing; all 10 complete. */
START_TEST(test_net_inflight_limit_stops_delivery_until_answered)
{
	struct net_limits lim = limits();
	struct net_stats st;
	struct client cl;

	lim.inflight_requests_max = 4;
	fx_start(&lim);
	fx.mode = MODE_HOLD;
	client_start(&cl, script_pipeline, 10);
	wait_requests(4);
	run_for(200);
	ck_assert_uint_eq(fx.requests, 4);

	answer_held(0);
	wait_requests(5);
	run_for(100);
	ck_assert_uint_eq(fx.requests, 5);

	answer_held(2); /* held behind seq 1: still counts against the limit */
	run_for(100);
	ck_assert_uint_eq(fx.requests, 5);

	answer_held(1); /* 1 and 2 leave: two slots free */
	wait_requests(7);
	run_for(100);
	ck_assert_uint_eq(fx.requests, 7);

	for (size_t answered = 3; answered < 10;) {
		uint64_t want = answered + 1;
		while (answered < fx.nheld)
			answer_held(answered++);
		if (answered < 10)
			wait_requests(want + 1 > 10 ? 10 : want + 1);
	}
	client_join(&cl);
	ck_assert_uint_eq(fx.requests, 10);
	net_server_stats(fx.srv, &st);
	ck_assert_uint_ge(st.read_pauses, 1);
	fx_finish();
}
END_TEST

/* Sends one small request every 2 ms without reading, then, once the test says go, reads every
 * 1 MiB response. */
static void script_slow_reader(struct client *cl)
{
	uint8_t out[64];
	uint8_t *resp = malloc(1u << 20);
	int fd = cl_connect(cl);

	if (fd < 0 || resp == NULL)
		goto out;
	for (int i = 0; i < cl->n; i++) {
		size_t len = frame_put(out, 10, (uint32_t)i, 0);
		if (!cl_send(cl, fd, out, len))
			goto out;
		sleep_us(2000);
	}
	atomic_store(&cl->sent, true);
	uint64_t deadline = now_ms() + WAIT_MS_MAX;
	while (!atomic_load(&cl->go) && now_ms() < deadline)
		sleep_us(1000);
	for (int i = 0; i < cl->n; i++) {
		uint8_t prefix[4];
		if (!cl_recv(cl, fd, prefix, 4))
			goto out;
		if (be32_get(prefix) != 1u << 20) {
			cl_fail(cl, "response %d: size %" PRIu32, i, be32_get(prefix));
			goto out;
		}
		if (!cl_recv(cl, fd, resp, 1u << 20))
			goto out;
	}
out:
	free(resp);
	if (fd >= 0)
		close(fd);
}

/* A client that sends requests but does not read: once output_bytes_max of responses are queued
 * the server stops reading, so requests stop being delivered; when the client reads, every
 * request is served. */
START_TEST(test_net_output_limit_stops_reading_until_drained)
{
	struct net_limits lim = limits();
	struct client cl;
	uint64_t stalled;

	lim.output_bytes_max = 256 * 1024;
	fx_start(&lim);
	fx.mode = MODE_BIG;
	fx.big = buf_new(1u << 20);
	ck_assert_ptr_nonnull(fx.big);
	memset(fx.big->data, 'x', 1u << 20);
	fx.big->len = 1u << 20;
	client_start(&cl, script_slow_reader, 64);
	ck_assert(run_until(flag_set, &cl.sent));
	run_for(300);
	stalled = fx.requests;
	/* Kernel socket buffers absorb a few MiB at most (tcp_wmem and tcp_rmem maxima). */
	ck_assert_uint_lt(stalled, 32);
	run_for(200);
	ck_assert_uint_eq(fx.requests, stalled);
	atomic_store(&cl.go, true);
	client_join(&cl);
	ck_assert_uint_eq(fx.requests, 64);
	fx_finish();
}
END_TEST

/* Connects and waits (without sending) until the server closes; records how long it took. */
static void script_idle(struct client *cl)
{
	uint64_t start = now_ms();
	int fd = cl_connect(cl);

	if (fd < 0)
		return;
	cl_wait_closed(cl, fd);
	cl->elapsed_ms = now_ms() - start;
	close(fd);
}

/* Sends a request every 20 ms for n rounds (each echoed), then closes. */
static void script_busy(struct client *cl)
{
	uint8_t out[64];
	int fd = cl_connect(cl);

	if (fd < 0)
		return;
	for (int i = 0; i < cl->n; i++) {
		size_t len = frame_put(out, 16, (uint32_t)i, 0);
		if (!cl_send(cl, fd, out, len) || !cl_expect_echo(cl, fd, 16, (uint32_t)i))
			break;
		sleep_us(20000);
	}
	close(fd);
}

/* With idle_ms_max 150, a silent connection is closed after about 150 ms while one that sends a
 * request every 20 ms for 400 ms stays open. */
START_TEST(test_net_idle_connection_is_closed)
{
	struct net_limits lim = limits();
	struct client idle, busy;

	lim.idle_ms_max = 150;
	fx_start(&lim);
	fx.mode = MODE_ECHO;
	client_start(&idle, script_idle, 0);
	client_start(&busy, script_busy, 20);
	client_join(&idle);
	client_join(&busy);
	ck_assert_uint_ge(idle.elapsed_ms, 140);
	ck_assert_uint_lt(idle.elapsed_ms, 3000);
	ck_assert_uint_eq(fx.requests, 20);
	wait_closes(2);
	ck_assert_msg(log_has("reason=\"idle for"), "log: %s", fx.log);
	fx_finish();
}
END_TEST

/* Opens two connections that each get an echo, a third that must be closed by the server, then
 * closes the first and retries a new one until it is served (the server frees the slot once it
 * has seen the close). */
static void script_connections_max(struct client *cl)
{
	uint8_t out[64];
	size_t len = frame_put(out, 8, 1, 0);
	int a = cl_connect(cl), b = cl_connect(cl), c = -1, d = -1;

	if (a < 0 || b < 0)
		goto out;
	if (!cl_send(cl, a, out, len) || !cl_expect_echo(cl, a, 8, 1) ||
	    !cl_send(cl, b, out, len) || !cl_expect_echo(cl, b, 8, 1))
		goto out;
	c = cl_connect(cl);
	if (c < 0 || !cl_wait_closed(cl, c))
		goto out;
	close(a);
	a = -1;
	for (int attempt = 0; attempt < 200; attempt++) {
		d = cl_connect(cl);
		if (d < 0)
			goto out;
		if (cl_send(cl, d, out, len) && cl_expect_echo(cl, d, 8, 1)) {
			cl->err[0] = '\0'; /* failures of earlier attempts were expected */
			goto out;
		}
		close(d);
		d = -1;
		sleep_us(20000);
	}
	cl_fail(cl, "no connection accepted after one closed");
out:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	if (c >= 0)
		close(c);
	if (d >= 0)
		close(d);
}

/* With connections_max 2, a third connection is accepted and closed at once with a log line, and
 * a slot freed by a client's close serves a new connection. */
START_TEST(test_net_connections_beyond_limit_are_closed)
{
	struct net_limits lim = limits();
	struct net_stats st;
	struct client cl;

	lim.connections_max = 2;
	fx_start(&lim);
	fx.mode = MODE_ECHO;
	client_start(&cl, script_connections_max, 0);
	client_join(&cl);
	net_server_stats(fx.srv, &st);
	ck_assert_uint_ge(st.connections_rejected, 1);
	ck_assert_uint_le(st.connections_open, 2);
	ck_assert_msg(log_has("too many connections") && log_has("limit=2"), "log: %s", fx.log);
	/* Rejected sockets never reach the handler. */
	ck_assert_uint_eq(st.connections_accepted - st.connections_rejected,
			  fx.closes + st.connections_open);
	fx_finish();
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * lifetime
 */

/* Sends n frames and closes the socket without reading. */
static void script_send_and_leave(struct client *cl)
{
	uint8_t out[64 * 8];
	size_t len = 0;
	int fd = cl_connect(cl);

	if (fd < 0)
		return;
	for (int i = 0; i < cl->n; i++)
		len += frame_put(out + len, 30, (uint32_t)i, 0);
	cl_send(cl, fd, out, len);
	close(fd);
}

/* A client that leaves with five requests pending: on_close runs once; answers given in on_close
 * and after it (the handler holds references) are dropped without harm (run under ASan). */
START_TEST(test_net_client_leaving_with_pending_requests_drops_answers)
{
	struct net_limits lim = limits();
	struct client cl;

	fx_start(&lim);
	fx.mode = MODE_HOLD;
	fx.ref_held = true;
	fx.answer_in_close = true;
	client_start(&cl, script_send_and_leave, 5);
	client_join(&cl);
	wait_closes(1);
	ck_assert_uint_eq(fx.requests, 5);
	ck_assert_ptr_null(fx.held[0].frame); /* answered inside on_close */
	net_conn_unref(fx.held[0].conn);
	ck_assert(!net_conn_is_open(fx.held[1].conn));
	ck_assert_str_ne(net_conn_peer(fx.held[1].conn), "");
	for (size_t i = 1; i < 5; i++)
		answer_held(i);
	run_for(50);
	ck_assert_uint_eq(fx.closes, 1);
	fx_finish();
}
END_TEST

/* Sends a frame asking the handler to close, and expects the close. */
static void script_close_request(struct client *cl)
{
	uint8_t out[64];
	size_t len = frame_put(out, 12, 0, 'C');
	int fd = cl_connect(cl);

	if (fd < 0)
		return;
	if (cl_send(cl, fd, out, len))
		cl_wait_closed(cl, fd);
	close(fd);
}

/* net_conn_close from inside on_request closes the connection with its reason logged; the answer
 * given right after is dropped; on_close runs once, later. */
START_TEST(test_net_handler_close_logs_reason_and_drops_answer)
{
	struct net_limits lim = limits();
	struct net_stats st;
	struct client cl;

	fx_start(&lim);
	fx.mode = MODE_ECHO;
	client_start(&cl, script_close_request, 0);
	client_join(&cl);
	wait_closes(1);
	ck_assert_msg(log_has("reason=\"test asked to close\"") && log_has("peer=127.0.0.1:"),
		      "log: %s", fx.log);
	net_server_stats(fx.srv, &st);
	ck_assert_uint_eq(st.responses, 0);
	ck_assert_uint_eq(st.connections_open, 0);
	fx_finish();
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * server
 */

/* Connects, optionally sends one frame, then waits for the server to close. */
static void script_wait_for_stop(struct client *cl)
{
	uint8_t out[64];
	int fd = cl_connect(cl);

	if (fd < 0)
		return;
	if (cl->n > 0 && !cl_send(cl, fd, out, frame_put(out, 9, 0, 0)))
		goto out;
	atomic_store(&cl->sent, true);
	cl_wait_closed(cl, fd);
out:
	close(fd);
}

static bool three_open(void *arg)
{
	struct net_stats st;

	(void)arg;
	net_server_stats(fx.srv, &st);
	return st.connections_open == 3 && fx.requests == 1;
}

/* net_server_stop with three connections (one with a request held) closes them all, calls each
 * on_close, then the callback once, and leaves no handle on the loop. */
START_TEST(test_net_server_stop_closes_everything_then_calls_back)
{
	struct net_limits lim = limits();
	struct client cl[3];

	fx_start(&lim);
	fx.mode = MODE_HOLD;
	for (int i = 0; i < 3; i++)
		client_start(&cl[i], script_wait_for_stop, i == 0);
	ck_assert(run_until(three_open, NULL));
	net_server_stop(fx.srv, stop_cb, &fx);
	fx.srv = NULL;
	ck_assert(run_until(stopped, NULL));
	ck_assert_int_eq(fx.stop_calls, 1);
	ck_assert_uint_eq(fx.closes_at_stop_cb, 3);
	for (int i = 0; i < 3; i++)
		client_join(&cl[i]);
	fx_finish();
}
END_TEST

/* A port already in use is reported with the address; bad ports and limits are refused; the
 * failed start leaves nothing on the loop once it has run. */
START_TEST(test_net_start_errors_name_the_address)
{
	struct net_limits lim = limits();
	struct net_server *other = NULL;
	errmsg_t err = "";
	char want[64];

	fx_start(&lim);
	ck_assert_int_eq(net_server_start(&fx.loop, "127.0.0.1", fx.port, &lim, &handler, NULL,
					  &other, err),
			 SLUICE_EIO);
	snprintf(want, sizeof want, "listen 127.0.0.1:%d: ", fx.port);
	ck_assert_msg(strstr(err, want) != NULL, "errmsg: %s", err);
	ck_assert_ptr_null(other);

	ck_assert_int_eq(
		net_server_start(&fx.loop, "127.0.0.1", 70000, &lim, &handler, NULL, &other, err),
		SLUICE_EINVAL);
	ck_assert_msg(strstr(err, "127.0.0.1:70000") != NULL, "errmsg: %s", err);

	lim.inflight_requests_max = 0;
	ck_assert_int_eq(
		net_server_start(&fx.loop, "127.0.0.1", 0, &lim, &handler, NULL, &other, err),
		SLUICE_EINVAL);
	ck_assert_msg(strstr(err, "inflight_requests_max") != NULL, "errmsg: %s", err);

	run_for(10);
	fx_finish();
}
END_TEST

/* A server on the IPv6 loopback, if the host has one, serves like the IPv4 one. */
START_TEST(test_net_listens_on_ipv6_loopback)
{
	struct net_limits lim = limits();
	struct net_server *s6 = NULL;
	errmsg_t err = "";
	int rv = net_server_start(&fx.loop, "[::1]", 0, &lim, &handler, NULL, &s6, err);

	if (rv != 0) {
		/* No IPv6 here: the failure must still name the address. */
		ck_assert_msg(strstr(err, "[::1]:0") != NULL, "errmsg: %s", err);
		run_for(10);
	} else {
		ck_assert_int_gt(net_server_port(s6), 0);
		ck_assert_msg(log_has("listener=[::1]:"), "log: %s", fx.log);
		net_server_stop(s6, stop_cb, &fx);
		ck_assert(run_until(stopped, NULL));
		ck_assert_int_eq(fx.stop_calls, 1);
	}
	fx_finish();
}
END_TEST

static Suite *net_suite(void)
{
	Suite *s = suite_create("net");
	TCase *tc;

	tc = tcase_create("framing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_net_frames_split_across_tiny_writes_parse);
	tcase_add_test(tc, test_net_many_frames_in_one_write_parse);
	tcase_add_test(tc, test_net_oversize_prefix_closes_and_server_keeps_serving);
	tcase_add_test(tc, test_net_negative_prefix_closes);
	suite_add_tcase(s, tc);

	tc = tcase_create("ordering");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_net_responses_answered_in_reverse_leave_in_request_order);
	tcase_add_test(tc, test_net_no_response_keeps_order_of_later_responses);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_net_inflight_limit_stops_delivery_until_answered);
	tcase_add_test(tc, test_net_output_limit_stops_reading_until_drained);
	tcase_add_test(tc, test_net_idle_connection_is_closed);
	tcase_add_test(tc, test_net_connections_beyond_limit_are_closed);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifetime");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_net_client_leaving_with_pending_requests_drops_answers);
	tcase_add_test(tc, test_net_handler_close_logs_reason_and_drops_answer);
	suite_add_tcase(s, tc);

	tc = tcase_create("server");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_net_server_stop_closes_everything_then_calls_back);
	tcase_add_test(tc, test_net_start_errors_name_the_address);
	tcase_add_test(tc, test_net_listens_on_ipv6_loopback);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(net_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
