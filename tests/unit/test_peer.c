/*
 * Tests of src/peer: the node-to-node transport, against a real libuv loop on 127.0.0.1 with
 * ephemeral ports. Like the net suite, this one needs a loop and sockets, because what it checks
 * is exactly how the layer meets them: several nets (one per simulated node) share the test's
 * loop, and hand-made sockets (struct raw) play strangers, silent peers and broken peers.
 *
 * Every loop run is bounded: run_until() arms a guard timer that stops the loop and fails the
 * wait after WAIT_MS_MAX; the teardown closes every net and checks that the loop then has no
 * handle left (uv_loop_close succeeds), which with ASan also proves nothing leaked.
 *
 * Frames carry [u32 seq][u32 length][pattern] so the receiver checks order per sender and
 * channel, and content, of everything it gets.
 *
 * One Suite "peer"; TCases: exchange, coalescing, limits, handshake, recovery, lifetime.
 */
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "base/codec.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "base/slog.h"
#include "peer/peer.h"

/* Longest a test waits for anything the loop should bring about. */
#define WAIT_MS_MAX 8000
/* Node ids used: 1..NODES. */
#define NODES 4
/* Channels a test sends on (1..CHANNELS). */
#define CHANNELS 4
/* Captured log text. */
#define LOG_BYTES_MAX (256 * 1024)
/* Test frame header: seq and total length. */
#define TFRAME_HEADER_BYTES 8
#define CLUSTER 0x5eedc1u

struct tnet {
	struct peer_net *net;
	struct peer_config cfg;
	uint16_t port;
	bool open;
	int close_cbs;
	bool allow_gaps;       /* frames may be lost (reconnect tests): order still holds */
	bool close_in_recv;    /* close the net from the first recv callback */
	uint64_t frames;       /* data frames received (test frames) */
	uint64_t empty_frames; /* empty data frames received */
	uint64_t bytes;        /* payload bytes received */
	uint64_t after_close;  /* callbacks after peer_net_close (must stay 0) */
	uint32_t next_seq[NODES + 1][CHANNELS + 1]; /* expected from sender, channel */
	uint32_t sent_seq[NODES + 1][CHANNELS + 1]; /* sent to node, channel */
	int ups[NODES + 1];
	int downs[NODES + 1];
};

static struct fixture {
	uv_loop_t loop;
	uv_timer_t poll;
	uv_timer_t guard;
	bool (*cond)(void *);
	void *cond_arg;
	bool timed_out;
	struct tnet nets[NODES + 1];
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

/* True when one captured line contains every one of the (up to 3) needles. */
static bool log_line_has(const char *a, const char *b, const char *c)
{
	const char *line = fx.log;

	while (*line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		char buf[4096];
		if (len >= sizeof buf)
			len = sizeof buf - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (strstr(buf, a) != NULL && (b == NULL || strstr(buf, b) != NULL) &&
		    (c == NULL || strstr(buf, c) != NULL))
			return true;
		if (end == NULL)
			break;
		line = end + 1;
	}
	return false;
}

/* ---------------------------------------------------------------------------------------------
 * Bounded loop runs
 */

static void poll_cb(uv_timer_t *t)
{
	(void)t;
	if (fx.cond(fx.cond_arg))
		uv_stop(&fx.loop);
}

static void guard_cb(uv_timer_t *t)
{
	(void)t;
	fx.timed_out = true;
	uv_stop(&fx.loop);
}

/* Runs the loop until cond(arg) holds (checked every 2 ms); false if the guard timer fires
 * first, after `ms`. */
static bool run_until_ms(bool (*cond)(void *), void *arg, uint64_t ms)
{
	if (cond(arg))
		return true;
	fx.cond = cond;
	fx.cond_arg = arg;
	fx.timed_out = false;
	uv_timer_start(&fx.poll, poll_cb, 2, 2);
	uv_timer_start(&fx.guard, guard_cb, ms, 0);
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	uv_timer_stop(&fx.poll);
	uv_timer_stop(&fx.guard);
	return cond(arg);
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

#define WAIT(cond, arg) ck_assert_msg(run_until_ms((cond), (arg), WAIT_MS_MAX), "timed out: " #cond)

/* ---------------------------------------------------------------------------------------------
 * Nets
 */

static void pattern(uint8_t *p, size_t n, uint32_t seq)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seq * 31u + i * 7u);
}

static void on_recv(void *arg, uint32_t from, uint16_t channel, const uint8_t *p, size_t n)
{
	struct tnet *t = arg;

	if (!t->open) {
		t->after_close++;
		return;
	}
	ck_assert_uint_ge(from, 1);
	ck_assert_uint_le(from, NODES);
	ck_assert_uint_ge(channel, 1);
	ck_assert_uint_le(channel, CHANNELS);
	if (n == 0) {
		t->empty_frames++;
		return;
	}
	ck_assert_uint_ge(n, TFRAME_HEADER_BYTES);
	uint32_t seq = be32_get(p);
	ck_assert_uint_eq(be32_get(p + 4), n);
	if (t->allow_gaps)
		ck_assert_uint_ge(seq, t->next_seq[from][channel]);
	else
		ck_assert_msg(seq == t->next_seq[from][channel],
			      "node %" PRIu32 " from %" PRIu32 " channel %u: seq %" PRIu32
			      ", expected %" PRIu32,
			      t->cfg.node_id, from, channel, seq, t->next_seq[from][channel]);
	t->next_seq[from][channel] = seq + 1;
	/* One assertion per frame: check's passing assertions are not free. */
	size_t bad = 0;
	for (size_t i = TFRAME_HEADER_BYTES; i < n; i++)
		bad += p[i] != (uint8_t)(seq * 31u + (i - TFRAME_HEADER_BYTES) * 7u);
	ck_assert_msg(bad == 0, "frame %" PRIu32 ": %zu bytes differ", seq, bad);
	t->frames++;
	t->bytes += n;
	if (t->close_in_recv) {
		t->open = false;
		peer_net_close(t->net, NULL, NULL);
		/* The transport must not touch p's memory before we return: read it again. */
		ck_assert_uint_eq(be32_get(p + 4), n);
	}
}

static void on_link(void *arg, uint32_t node, bool up)
{
	struct tnet *t = arg;

	if (!t->open) {
		t->after_close++;
		return;
	}
	ck_assert_uint_le(node, NODES);
	if (up)
		t->ups[node]++;
	else
		t->downs[node]++;
}

static void tnet_config(uint32_t id)
{
	struct tnet *t = &fx.nets[id];

	peer_config_default(&t->cfg);
	t->cfg.node_id = id;
	t->cfg.cluster_id_hash = CLUSTER;
	t->cfg.listen_host = "127.0.0.1";
	t->cfg.listen_port = t->port; /* 0 the first time: ephemeral */
	t->cfg.backoff_ms_min = 10;
	t->cfg.backoff_ms_max = 100;
	t->cfg.connect_timeout_ms = 1000;
}

/* Starts net `id` with t->cfg as it is now. */
static void tnet_start(uint32_t id)
{
	struct tnet *t = &fx.nets[id];
	errmsg_t err = "";

	memset(t->next_seq, 0, sizeof t->next_seq);
	int rv = peer_net_start(&fx.loop, &t->cfg, on_recv, on_link, t, &t->net, err);
	ck_assert_msg(rv == 0, "peer_net_start %" PRIu32 ": %s", id, err);
	t->port = peer_net_port(t->net);
	ck_assert_uint_gt(t->port, 0);
	t->open = true;
}

static void close_cb(void *arg)
{
	((struct tnet *)arg)->close_cbs++;
}

static bool tnet_closed(void *arg)
{
	return ((struct tnet *)arg)->close_cbs > 0;
}

static void tnet_close(uint32_t id)
{
	struct tnet *t = &fx.nets[id];

	ck_assert(t->open);
	t->open = false;
	t->close_cbs = 0;
	peer_net_close(t->net, close_cb, t);
	WAIT(tnet_closed, t);
	t->net = NULL;
}

/* Declares every other started net of 1..count to net `id`. */
static void tnet_meet(uint32_t id, uint32_t count)
{
	for (uint32_t j = 1; j <= count; j++)
		if (j != id)
			ck_assert_int_eq(peer_net_add_node(fx.nets[id].net, j, "127.0.0.1",
							   fx.nets[j].port),
					 0);
}

/* Starts nets 1..count, each knowing all the others. */
static void mesh_start(uint32_t count)
{
	for (uint32_t i = 1; i <= count; i++) {
		tnet_config(i);
		tnet_start(i);
	}
	for (uint32_t i = 1; i <= count; i++)
		tnet_meet(i, count);
}

struct pair {
	uint32_t a, b;
};

static bool linked(void *arg)
{
	struct pair *p = arg;

	return peer_net_connected(fx.nets[p->a].net, p->b) &&
	       peer_net_connected(fx.nets[p->b].net, p->a);
}

static bool link_down(void *arg)
{
	struct pair *p = arg;

	return fx.nets[p->a].downs[p->b] > 0;
}

static bool mesh_linked(void *arg)
{
	uint32_t count = *(uint32_t *)arg;

	for (uint32_t i = 1; i <= count; i++)
		for (uint32_t j = 1; j <= count; j++)
			if (i != j && !peer_net_connected(fx.nets[i].net, j))
				return false;
	return true;
}

/* Sends `count` test frames of `size` bytes (>= 8) from net `from` to node `to` on `channel`;
 * each must be accepted. */
static void send_frames(uint32_t from, uint32_t to, uint16_t channel, int count, size_t size)
{
	struct tnet *t = &fx.nets[from];
	uint8_t *buf = malloc(size);

	ck_assert(buf != NULL && size >= TFRAME_HEADER_BYTES);
	for (int i = 0; i < count; i++) {
		uint32_t seq = t->sent_seq[to][channel]++;
		/* Two iovecs: the transport must concatenate them. */
		be32_put(buf, seq);
		be32_put(buf + 4, (uint32_t)size);
		pattern(buf + TFRAME_HEADER_BYTES, size - TFRAME_HEADER_BYTES, seq);
		struct iovec iov[2] = {
			{ buf, 3 },
			{ buf + 3, size - 3 },
		};
		int rv = peer_net_send(t->net, to, channel, iov, 2);
		ck_assert_msg(rv == 0, "send %" PRIu32 "->%" PRIu32 ": %s", from, to, err_name(rv));
	}
	free(buf);
}

/* True once every frame sent so far between the first `count` nets has arrived. */
static bool all_delivered(void *arg)
{
	uint32_t count = *(uint32_t *)arg;

	for (uint32_t to = 1; to <= count; to++)
		for (uint32_t from = 1; from <= count; from++)
			for (uint16_t ch = 1; ch <= CHANNELS; ch++)
				if (fx.nets[to].next_seq[from][ch] !=
				    fx.nets[from].sent_seq[to][ch])
					return false;
	return true;
}

struct log_wait {
	const char *a, *b, *c;
};

static bool log_seen(void *arg)
{
	struct log_wait *w = arg;

	return log_line_has(w->a, w->b, w->c);
}

/* ---------------------------------------------------------------------------------------------
 * Raw sockets: strangers and broken peers
 */

struct raw {
	uv_tcp_t tcp;
	uv_connect_t connect;
	uv_write_t write;
	uint8_t out[256];
	size_t out_len;
	bool connected;
	bool eof;
	bool closed;
	size_t nread;
	uint8_t in[1024];
	uv_tcp_t listener; /* raw_listen: accepts one connection into tcp and stays silent */
	bool listening;
	bool tcp_inited;
	int accepts;
};

static void raw_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct raw *r = h->data;

	(void)suggested;
	if (r->nread < sizeof r->in)
		*b = uv_buf_init((char *)r->in + r->nread, (unsigned)(sizeof r->in - r->nread));
	else
		*b = uv_buf_init((char *)r->in, sizeof r->in); /* overwrite: only EOF matters now */
}

static void raw_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct raw *r = s->data;

	(void)b;
	if (nread < 0) {
		r->eof = true;
		uv_read_stop(s);
		return;
	}
	if (r->nread + (size_t)nread <= sizeof r->in)
		r->nread += (size_t)nread;
}

static void raw_write_cb(uv_write_t *req, int status)
{
	(void)req;
	(void)status;
}

static void raw_connect_cb(uv_connect_t *req, int status)
{
	struct raw *r = req->data;

	ck_assert_int_eq(status, 0);
	r->connected = true;
	uv_read_start((uv_stream_t *)&r->tcp, raw_alloc_cb, raw_read_cb);
	if (r->out_len > 0) {
		uv_buf_t b = uv_buf_init((char *)r->out, (unsigned)r->out_len);
		ck_assert_int_eq(uv_write(&r->write, (uv_stream_t *)&r->tcp, &b, 1, raw_write_cb),
				 0);
	}
}

/* Connects a raw socket to `port` that writes r->out once connected and then reads. */
static void raw_connect(struct raw *r, uint16_t port)
{
	struct sockaddr_in sa;

	uv_tcp_init(&fx.loop, &r->tcp);
	r->tcp_inited = true;
	r->tcp.data = r;
	r->connect.data = r;
	uv_ip4_addr("127.0.0.1", port, &sa);
	ck_assert_int_eq(
		uv_tcp_connect(&r->connect, &r->tcp, (struct sockaddr *)&sa, raw_connect_cb), 0);
}

static void raw_close_cb(uv_handle_t *h)
{
	struct raw *r = h->data;

	r->closed = true;
}

static bool raw_closed(void *arg)
{
	struct raw *r = arg;

	return r->closed && (!r->listening || uv_is_closing((uv_handle_t *)&r->listener));
}

static void raw_close(struct raw *r)
{
	if (r->listening)
		uv_close((uv_handle_t *)&r->listener, NULL);
	if (!r->tcp_inited)
		r->closed = true;
	else if (!uv_is_closing((uv_handle_t *)&r->tcp))
		uv_close((uv_handle_t *)&r->tcp, raw_close_cb);
	WAIT(raw_closed, r);
}

static void raw_free_cb(uv_handle_t *h)
{
	free(h);
}

static void raw_listen_cb(uv_stream_t *l, int status)
{
	struct raw *r = l->data;

	ck_assert_int_eq(status, 0);
	if (r->accepts++ > 0) {
		/* Later dials: accept and close, so the dialer sees a quick failure. */
		uv_tcp_t *t = malloc(sizeof *t);
		ck_assert(t != NULL);
		uv_tcp_init(&fx.loop, t);
		ck_assert_int_eq(uv_accept(l, (uv_stream_t *)t), 0);
		uv_close((uv_handle_t *)t, raw_free_cb);
		return;
	}
	uv_tcp_init(&fx.loop, &r->tcp);
	r->tcp_inited = true;
	r->tcp.data = r;
	ck_assert_int_eq(uv_accept(l, (uv_stream_t *)&r->tcp), 0);
	r->connected = true;
	uv_read_start((uv_stream_t *)&r->tcp, raw_alloc_cb, raw_read_cb);
}

/* A listener that accepts its first connection and never answers; returns its port. */
static uint16_t raw_listen(struct raw *r)
{
	struct sockaddr_in sa;
	struct sockaddr_storage bound;
	int len = sizeof bound;

	uv_tcp_init(&fx.loop, &r->listener);
	r->listener.data = r;
	r->listening = true;
	uv_ip4_addr("127.0.0.1", 0, &sa);
	ck_assert_int_eq(uv_tcp_bind(&r->listener, (struct sockaddr *)&sa, 0), 0);
	ck_assert_int_eq(uv_listen((uv_stream_t *)&r->listener, 8, raw_listen_cb), 0);
	ck_assert_int_eq(uv_tcp_getsockname(&r->listener, (struct sockaddr *)&bound, &len), 0);
	return ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

static bool raw_eof(void *arg)
{
	return ((struct raw *)arg)->eof;
}

static bool raw_accepted_twice(void *arg)
{
	return ((struct raw *)arg)->accepts >= 2;
}

static bool raw_got_hello(void *arg)
{
	return ((struct raw *)arg)->nread >= 32;
}

/* Appends a frame header as peer.c's table lays it out. */
static size_t frame_header(uint8_t *p, uint32_t len, uint16_t channel, uint8_t kind)
{
	be32_put(p, len);
	be16_put(p + 4, channel);
	p[6] = kind;
	p[7] = 0;
	be32_put(p + 8, crc32c(0, p, 8));
	return 12;
}

/* Appends a HELLO frame from `from` to `to`. */
static size_t hello_frame(uint8_t *p, uint32_t from, uint32_t to, uint64_t cluster)
{
	size_t n = frame_header(p, 20, 0, 1);

	be16_put(p + n, PEER_FORMAT_VERSION);
	be16_put(p + n + 2, 0);
	be32_put(p + n + 4, from);
	be32_put(p + n + 8, to);
	be64_put(p + n + 12, cluster);
	return n + 20;
}

/* ---------------------------------------------------------------------------------------------
 * Fixture
 */

static void setup(void)
{
	memset(&fx, 0, sizeof fx);
	signal(SIGPIPE, SIG_IGN);
	slog_set_sink(log_sink, NULL);
	ck_assert_int_eq(uv_loop_init(&fx.loop), 0);
	uv_timer_init(&fx.loop, &fx.poll);
	uv_timer_init(&fx.loop, &fx.guard);
}

static void walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	fprintf(stderr, "handle left open: %s\n", uv_handle_type_name(uv_handle_get_type(h)));
}

/* Closes what a test left open and checks that the loop has nothing left: every handle of
 * every net was closed and (under ASan) every byte freed. */
static void teardown(void)
{
	for (uint32_t i = 1; i <= NODES; i++)
		if (fx.nets[i].open)
			tnet_close(i);
	for (uint32_t i = 1; i <= NODES; i++)
		ck_assert_uint_eq(fx.nets[i].after_close, 0);
	uv_close((uv_handle_t *)&fx.poll, NULL);
	uv_close((uv_handle_t *)&fx.guard, NULL);
	uv_run(&fx.loop, UV_RUN_NOWAIT);
	int rv = uv_loop_close(&fx.loop);
	if (rv != 0)
		uv_walk(&fx.loop, walk_cb, NULL);
	ck_assert_int_eq(rv, 0);
	slog_set_sink(NULL, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * exchange
 */

/* Two nets exchange frames on every channel in both directions, some queued before the
 * connection exists: all arrive, in order per channel, intact, with one link-up each. */
START_TEST(test_peer_two_nets_deliver_every_channel_in_order)
{
	uint32_t count = 2;
	struct pair p = { 1, 2 };

	mesh_start(count);
	for (uint16_t ch = 1; ch <= CHANNELS; ch++) {
		send_frames(1, 2, ch, 20, 8 + ch * 10);
		send_frames(2, 1, ch, 20, 8 + ch * 3);
	}
	WAIT(linked, &p);
	for (uint16_t ch = 1; ch <= CHANNELS; ch++) {
		send_frames(1, 2, ch, 100, 8 + (size_t)ch * 100);
		send_frames(2, 1, ch, 100, 8);
	}
	WAIT(all_delivered, &count);
	ck_assert_uint_eq(fx.nets[2].frames, 4 * 120);
	ck_assert_uint_eq(fx.nets[1].frames, 4 * 120);
	ck_assert_int_eq(fx.nets[1].ups[2], 1);
	ck_assert_int_eq(fx.nets[2].ups[1], 1);
	ck_assert_int_eq(fx.nets[1].downs[2], 0);

	struct peer_stats s1, s2;
	peer_net_stats(fx.nets[1].net, &s1);
	peer_net_stats(fx.nets[2].net, &s2);
	ck_assert_uint_eq(s1.frames_sent, 4 * 120);
	ck_assert_uint_eq(s2.frames_recv, 4 * 120);
	ck_assert_uint_eq(s1.connects, 1);
	ck_assert_uint_eq(s2.connects, 1);
	ck_assert_uint_eq(s1.dropped_full + s1.dropped_lost + s1.rejected, 0);
	ck_assert_uint_eq(s2.dropped_full + s2.dropped_lost + s2.rejected, 0);
	ck_assert_uint_eq(peer_net_queued_bytes(fx.nets[1].net, 2), 0);
	ck_assert(log_line_has("msg=\"connected\"", "node=2", "dir=out"));
}
END_TEST

/* Three nets, each sending to both others on every channel: the full mesh comes up (1 dials 2
 * and 3, 2 dials 3) and everything arrives in order. */
START_TEST(test_peer_three_nets_deliver_in_order_across_the_mesh)
{
	uint32_t count = 3;

	mesh_start(count);
	for (int round = 0; round < 3; round++) {
		for (uint32_t from = 1; from <= count; from++)
			for (uint32_t to = 1; to <= count; to++)
				for (uint16_t ch = 1; ch <= CHANNELS; ch++)
					if (from != to)
						send_frames(from, to, ch, 30, 8 + from * 7 + to);
		run_for(5);
	}
	WAIT(mesh_linked, &count);
	WAIT(all_delivered, &count);
	for (uint32_t i = 1; i <= count; i++) {
		ck_assert_uint_eq(fx.nets[i].frames, 2 * CHANNELS * 90);
		for (uint32_t j = 1; j <= count; j++)
			if (i != j)
				ck_assert_int_eq(fx.nets[i].ups[j], 1);
	}
}
END_TEST

/* Payloads from empty to several read buffers long (assembled across reads and read straight
 * into their own buffer) arrive intact and in order. */
START_TEST(test_peer_large_and_empty_frames_arrive_intact)
{
	uint32_t count = 2;
	struct pair p = { 1, 2 };
	static const size_t sizes[] = { 8, 65535, 65536 + 12, 1 << 20, 3 * 65536 + 5, 8, 200000 };

	mesh_start(count);
	WAIT(linked, &p);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		send_frames(1, 2, PEER_CHANNEL_CATCHUP, 1, sizes[i]);
		send_frames(2, 1, PEER_CHANNEL_RAFT, 2, sizes[i]);
	}
	/* An empty frame is legal too (the test payload needs 8 bytes, so send it raw). */
	ck_assert_int_eq(peer_net_send(fx.nets[1].net, 2, PEER_CHANNEL_LEADERS, NULL, 0),
			 SLUICE_OK);
	WAIT(all_delivered, &count);
	run_for(10);
	ck_assert_uint_eq(fx.nets[2].empty_frames, 1);
	struct peer_stats s;
	peer_net_stats(fx.nets[2].net, &s);
	ck_assert_uint_eq(s.frames_recv, 7 + 1);
	peer_net_stats(fx.nets[1].net, &s);
	ck_assert_uint_eq(s.frames_recv, 7 * 2);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * coalescing
 */

struct frames_wait {
	uint32_t net;
	uint64_t frames;
};

static bool frames_reach(void *arg)
{
	struct frames_wait *w = arg;

	return fx.nets[w->net].frames >= w->frames;
}

/* A thousand small frames sent in one loop turn leave in one write (their chunks fit one
 * uv_write), not a thousand. */
START_TEST(test_peer_sends_of_one_turn_leave_in_one_write)
{
	struct pair p = { 1, 2 };
	struct peer_stats before, after;

	mesh_start(2);
	WAIT(linked, &p);
	run_for(20); /* let the HELLO and any keepalive settle */
	peer_net_stats(fx.nets[1].net, &before);
	for (uint16_t ch = 1; ch <= CHANNELS; ch++)
		send_frames(1, 2, ch, 250, 40);
	struct frames_wait w = { 2, 1000 };
	WAIT(frames_reach, &w);
	peer_net_stats(fx.nets[1].net, &after);
	ck_assert_uint_eq(after.frames_sent - before.frames_sent, 1000);
	ck_assert_uint_eq(after.writes - before.writes, 1);
	ck_assert_uint_eq(after.bytes_sent - before.bytes_sent, 1000 * (12 + 40));
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * limits
 */

/* To a node that cannot be reached, sends queue up to queue_bytes_max and are then refused
 * with SLUICE_EBUSY and counted; what is held never exceeds the limit plus one frame. The
 * other argument errors come back as documented. */
START_TEST(test_peer_full_queue_refuses_with_ebusy_and_counts)
{
	struct tnet *t = &fx.nets[1];
	uint8_t buf[1000];
	struct iovec iov = { buf, sizeof buf };
	int accepted = 0, refused = 0;

	memset(buf, 1, sizeof buf);
	tnet_config(1);
	t->cfg.queue_bytes_max = 10000;
	t->cfg.frame_bytes_max = 4096;
	tnet_start(1);
	/* Nothing listens on the discard port of loopback: the dials fail, the queue stays. */
	ck_assert_int_eq(peer_net_add_node(t->net, 2, "127.0.0.1", 9), 0);
	for (int i = 0; i < 50; i++) {
		int rv = peer_net_send(t->net, 2, PEER_CHANNEL_RAFT, &iov, 1);
		if (rv == 0)
			accepted++;
		else {
			ck_assert_int_eq(rv, SLUICE_EBUSY);
			refused++;
		}
		ck_assert_uint_le(peer_net_queued_bytes(t->net, 2), t->cfg.queue_bytes_max);
	}
	ck_assert_int_eq(accepted, 10000 / (12 + 1000));
	ck_assert_int_eq(refused, 50 - accepted);
	struct peer_stats s;
	peer_net_stats(t->net, &s);
	ck_assert_uint_eq(s.dropped_full, (uint64_t)refused);
	ck_assert(!peer_net_connected(t->net, 2));

	/* A failed dial keeps the queue (frames wait for a connection) and is retried. */
	struct log_wait lw = { "connect failed", "node=2", NULL };
	WAIT(log_seen, &lw);
	ck_assert_uint_eq(peer_net_queued_bytes(t->net, 2), (size_t)accepted * 1012);

	/* Argument errors. */
	uint8_t big[4097];
	struct iovec bigv = { big, sizeof big };
	ck_assert_int_eq(peer_net_send(t->net, 2, 1, &bigv, 1), SLUICE_ETOOLARGE);
	ck_assert_int_eq(peer_net_send(t->net, 3, 1, &iov, 1), SLUICE_ENOTFOUND);
	ck_assert_int_eq(peer_net_add_node(t->net, 1, "127.0.0.1", 1), SLUICE_EINVAL);
	ck_assert_int_eq(peer_net_add_node(t->net, 0, "127.0.0.1", 1), SLUICE_EINVAL);
	ck_assert_int_eq(peer_net_add_node(t->net, 3, "", 1), SLUICE_EINVAL);
	ck_assert_int_eq(peer_net_add_node(t->net, 3, "127.0.0.1", 0), SLUICE_EINVAL);
	ck_assert_uint_eq(peer_net_queued_bytes(t->net, 3), 0);

	/* Bad configurations are refused before anything starts. */
	struct peer_config bad;
	struct peer_net *n = NULL;
	errmsg_t err = "";
	peer_config_default(&bad);
	ck_assert_int_eq(peer_net_start(&fx.loop, &bad, on_recv, NULL, NULL, &n, err),
			 SLUICE_EINVAL);
	ck_assert(strstr(err, "node_id") != NULL);
	bad.node_id = 5;
	bad.backoff_ms_min = 5000;
	ck_assert_int_eq(peer_net_start(&fx.loop, &bad, on_recv, NULL, NULL, &n, err),
			 SLUICE_EINVAL);
	ck_assert(strstr(err, "backoff") != NULL);
	/* A listen address in use: SLUICE_EIO naming it. */
	peer_config_default(&bad);
	bad.node_id = 5;
	bad.listen_host = "127.0.0.1";
	bad.listen_port = t->port;
	ck_assert_int_eq(peer_net_start(&fx.loop, &bad, on_recv, NULL, NULL, &n, err), SLUICE_EIO);
	ck_assert_msg(strstr(err, "127.0.0.1:") != NULL, "%s", err);
	run_for(5); /* the failed net's handles close */
}
END_TEST

/* A peer sending a frame larger than our frame_bytes_max is cut off with a log line naming it
 * and the reason, the frame is not delivered, and the connection is then redialled. */
START_TEST(test_peer_oversized_frame_closes_the_connection_with_a_reason)
{
	struct pair p = { 1, 2 };

	tnet_config(1);
	tnet_config(2);
	fx.nets[2].cfg.frame_bytes_max = 1024;
	tnet_start(1);
	tnet_start(2);
	tnet_meet(1, 2);
	tnet_meet(2, 2);
	WAIT(linked, &p);
	send_frames(1, 2, PEER_CHANNEL_RAFT, 1, 1000);
	fx.nets[1].allow_gaps = fx.nets[2].allow_gaps = true;
	send_frames(1, 2, PEER_CHANNEL_RAFT, 1, 4096);
	struct log_wait lw = { "exceeds frame_bytes_max 1024", "node=1", "frame of 4096 bytes" };
	WAIT(log_seen, &lw);
	ck_assert_uint_eq(fx.nets[2].frames, 1);
	struct peer_stats s;
	peer_net_stats(fx.nets[2].net, &s);
	ck_assert_uint_eq(s.rejected, 1);
	/* The dialler comes back and frames within the limit flow again. */
	WAIT(linked, &p);
	send_frames(1, 2, PEER_CHANNEL_RAFT, 5, 100);
	struct frames_wait w = { 2, 6 };
	WAIT(frames_reach, &w);
	ck_assert_int_eq(fx.nets[2].downs[1], 1);
}
END_TEST

/* Bytes that are not Sluice frames, from a stranger, close its connection at the first header
 * (the header check), before any length is believed. */
START_TEST(test_peer_garbage_from_a_stranger_closes_the_connection)
{
	struct raw r = { 0 };

	tnet_config(2);
	tnet_start(2);
	memcpy(r.out, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
	r.out_len = 27;
	raw_connect(&r, fx.nets[2].port);
	WAIT(raw_eof, &r);
	ck_assert(log_line_has("bad frame header check", "node=?", "dir=in"));
	ck_assert_uint_eq(r.nread, 0); /* no HELLO is sent to a stranger */
	raw_close(&r);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * handshake
 */

/* A node of another cluster is refused by the acceptor, with the two cluster ids in the log;
 * the link never comes up and nothing is delivered. */
START_TEST(test_peer_wrong_cluster_id_is_rejected)
{
	tnet_config(1);
	tnet_config(2);
	fx.nets[1].cfg.cluster_id_hash = 0xbad;
	tnet_start(1);
	tnet_start(2);
	tnet_meet(1, 2);
	tnet_meet(2, 2);
	send_frames(1, 2, PEER_CHANNEL_RAFT, 3, 16);
	struct log_wait lw = { "cluster id hash 0000000000000bad", "ours 00000000005eedc1", NULL };
	WAIT(log_seen, &lw);
	run_for(50);
	ck_assert(!peer_net_connected(fx.nets[1].net, 2));
	ck_assert(!peer_net_connected(fx.nets[2].net, 1));
	ck_assert_int_eq(fx.nets[1].ups[2] + fx.nets[2].ups[1], 0);
	ck_assert_uint_eq(fx.nets[2].frames, 0);
	struct peer_stats s;
	peer_net_stats(fx.nets[2].net, &s);
	ck_assert_uint_ge(s.rejected, 1);
	ck_assert_uint_eq(s.connects, 0);
}
END_TEST

/* A node joining a cluster (higher id, known to nobody) dials the members itself
 * (PEER_DIAL_OUT); members with accept_unknown take its HELLO, learn the node from it and talk
 * back over that connection; a member without accept_unknown refuses it. When the joiner later
 * becomes known with an address and PEER_DIAL_IN, the member still does not dial it. */
START_TEST(test_peer_joining_node_dials_members_that_accept_unknown_nodes)
{
	struct pair p12 = { 1, 2 };
	uint32_t three = 3;

	for (uint32_t i = 1; i <= 3; i++) {
		tnet_config(i);
		fx.nets[i].cfg.accept_unknown = i != 3;
		tnet_start(i);
	}
	/* 1 and 2 know each other; 3 (the joiner) knows 1 and 2 and dials them. */
	tnet_meet(1, 2);
	tnet_meet(2, 2);
	ck_assert_int_eq(peer_net_add_node_dial(fx.nets[3].net, 1, "127.0.0.1", fx.nets[1].port,
						 PEER_DIAL_OUT), 0);
	ck_assert_int_eq(peer_net_add_node_dial(fx.nets[3].net, 2, "127.0.0.1", fx.nets[2].port,
						 PEER_DIAL_OUT), 0);
	WAIT(linked, &p12);
	struct pair p31 = { 3, 1 }, p32 = { 3, 2 };
	WAIT(linked, &p31);
	WAIT(linked, &p32);
	ck_assert(log_line_has("node added", "node=3", "dial=no"));
	/* Frames both ways over the joiner's connections. */
	send_frames(1, 3, PEER_CHANNEL_RAFT, 5, 64);
	send_frames(3, 1, PEER_CHANNEL_CONTROL, 5, 64);
	send_frames(2, 3, PEER_CHANNEL_LEADERS, 5, 64);
	WAIT(all_delivered, &three);
	/* Learning the joiner's address with PEER_DIAL_IN changes nothing: no second dial. */
	ck_assert_int_eq(peer_net_add_node_dial(fx.nets[1].net, 3, "127.0.0.1", fx.nets[3].port,
						 PEER_DIAL_IN), 0);
	run_for(100);
	struct peer_stats s;
	peer_net_stats(fx.nets[1].net, &s);
	ck_assert_uint_eq(s.rejected, 0);
	ck_assert_uint_eq(fx.nets[1].ups[3], 1);
	/* The joiner refuses a HELLO from a node it does not know (no accept_unknown). */
	ck_assert_uint_eq(fx.nets[3].ups[4], 0);
	struct raw r = { 0 };
	r.out_len = hello_frame(r.out, 4, 3, CLUSTER);
	raw_connect(&r, fx.nets[3].port);
	WAIT(raw_eof, &r);
	ck_assert(log_line_has("HELLO from unknown node 4", "dir=in", NULL));
	raw_close(&r);
	/* The member restarts: the joiner redials it and the link comes back. */
	tnet_close(1);
	tnet_config(1); /* the same port */
	fx.nets[1].cfg.accept_unknown = true;
	tnet_start(1);
	tnet_meet(1, 2);
	WAIT(linked, &p12);
	WAIT(linked, &p31);
}
END_TEST

/* HELLOs from a node the acceptor does not know, from a node with a higher id (it must not
 * dial), meant for another node, or of another format version are refused, each with its
 * reason; a valid HELLO from a raw socket gets the acceptor's HELLO back. */
START_TEST(test_peer_bad_hellos_are_rejected_with_their_reason)
{
	static const struct {
		uint32_t from, to;
		uint16_t version;
		const char *why;
	} cases[] = {
		{ 4, 2, PEER_FORMAT_VERSION, "HELLO from unknown node 4" },
		{ 3, 2, PEER_FORMAT_VERSION, "HELLO from node 3, which we dial (its id is above ours)" },
		{ 1, 3, PEER_FORMAT_VERSION, "meant for node 3, we are 2" },
		{ 1, 2, 9, "format version 9, ours 1" },
	};
	struct pair down = { 2, 1 };

	tnet_config(2);
	tnet_start(2);
	ck_assert_int_eq(peer_net_add_node(fx.nets[2].net, 1, "127.0.0.1", 9), 0);
	ck_assert_int_eq(peer_net_add_node(fx.nets[2].net, 3, "127.0.0.1", 9), 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct raw r = { 0 };
		r.out_len = hello_frame(r.out, cases[i].from, cases[i].to, CLUSTER);
		be16_put(r.out + 12, cases[i].version);
		raw_connect(&r, fx.nets[2].port);
		WAIT(raw_eof, &r);
		ck_assert_msg(log_line_has(cases[i].why, "dir=in", NULL), "no '%s' in\n%s",
			      cases[i].why, fx.log);
		raw_close(&r);
	}
	struct peer_stats s;
	peer_net_stats(fx.nets[2].net, &s);
	ck_assert_uint_eq(s.rejected, 4);
	ck_assert_int_eq(fx.nets[2].ups[1], 0);

	/* A good HELLO: the answer is a HELLO from 2 to 1, and the link is up. */
	struct raw r = { 0 };
	uint8_t want[32];
	r.out_len = hello_frame(r.out, 1, 2, CLUSTER);
	hello_frame(want, 2, 1, CLUSTER);
	raw_connect(&r, fx.nets[2].port);
	WAIT(raw_got_hello, &r);
	ck_assert(memcmp(r.in, want, 32) == 0);
	ck_assert(peer_net_connected(fx.nets[2].net, 1));
	ck_assert_int_eq(fx.nets[2].ups[1], 1);
	raw_close(&r);
	WAIT(link_down, &down);
}
END_TEST

/* A peer that accepts the TCP connection but never answers the HELLO is abandoned after
 * connect_timeout_ms, with a log line saying so, and redialled. */
START_TEST(test_peer_silent_acceptor_makes_the_dial_time_out)
{
	struct raw r = { 0 };
	uint16_t port = raw_listen(&r);

	tnet_config(1);
	fx.nets[1].cfg.connect_timeout_ms = 100;
	tnet_start(1);
	ck_assert_int_eq(peer_net_add_node(fx.nets[1].net, 2, "127.0.0.1", port), 0);
	struct log_wait lw = { "HELLO exchange did not complete in 100 ms", "node=2", "dir=out" };
	WAIT(log_seen, &lw);
	/* The raw listener got our HELLO, from 1 to 2. */
	uint8_t want[32];
	hello_frame(want, 1, 2, CLUSTER);
	ck_assert_uint_eq(r.nread, 32);
	ck_assert(memcmp(r.in, want, 32) == 0);
	ck_assert_int_eq(fx.nets[1].ups[2], 0);
	/* Redialled: the raw listener sees a second connection. */
	WAIT(raw_accepted_twice, &r);
	raw_close(&r);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * recovery
 */

/* The accepting node goes away and comes back on the same port: the dialler sees the link go
 * down, redials with backoff until it is back, and delivery resumes in order. */
START_TEST(test_peer_reconnects_after_the_acceptor_restarts)
{
	uint32_t count = 2;
	struct pair p = { 1, 2 };

	mesh_start(count);
	WAIT(linked, &p);
	send_frames(1, 2, PEER_CHANNEL_RAFT, 10, 64);
	WAIT(all_delivered, &count);

	tnet_close(2);
	WAIT(link_down, &p);
	ck_assert(!peer_net_connected(fx.nets[1].net, 2));
	run_for(150);                                 /* a few failed redials */
	fx.nets[2].cfg.listen_port = fx.nets[2].port; /* same port, same id */
	tnet_start(2);
	ck_assert_int_eq(peer_net_add_node(fx.nets[2].net, 1, "127.0.0.1", fx.nets[1].port), 0);
	/* The new net 2 starts counting from 0: so does what net 1 sends it. */
	memset(fx.nets[1].sent_seq, 0, sizeof fx.nets[1].sent_seq);
	WAIT(linked, &p);
	send_frames(1, 2, PEER_CHANNEL_RAFT, 10, 64);
	send_frames(2, 1, PEER_CHANNEL_RAFT, 10, 64);
	fx.nets[1].next_seq[2][PEER_CHANNEL_RAFT] = 0;
	WAIT(all_delivered, &count);
	ck_assert_int_eq(fx.nets[1].ups[2], 2);
	ck_assert_int_eq(fx.nets[1].downs[2], 1);
	struct peer_stats s;
	peer_net_stats(fx.nets[1].net, &s);
	ck_assert_uint_eq(s.connects, 2);
	ck_assert_uint_eq(s.disconnects, 1);
	ck_assert(log_line_has("connect failed", "node=2", NULL));
}
END_TEST

/* The dialling node goes away and comes back: the acceptor sees the link drop and come up
 * again when the new dialler connects, and delivery resumes. */
START_TEST(test_peer_reconnects_after_the_dialer_restarts)
{
	uint32_t count = 2;
	struct pair p = { 1, 2 }, q = { 2, 1 };

	mesh_start(count);
	WAIT(linked, &p);
	send_frames(2, 1, PEER_CHANNEL_CONTROL, 10, 64);
	WAIT(all_delivered, &count);
	tnet_close(1);
	WAIT(link_down, &q);
	/* Frames for 1 while it is away wait in 2's queue and arrive once it is back. */
	memset(fx.nets[2].sent_seq, 0, sizeof fx.nets[2].sent_seq);
	send_frames(2, 1, PEER_CHANNEL_CONTROL, 10, 64);
	tnet_start(1);
	tnet_meet(1, count);
	fx.nets[2].next_seq[1][PEER_CHANNEL_CONTROL] = 0;
	memset(fx.nets[1].sent_seq, 0, sizeof fx.nets[1].sent_seq);
	WAIT(linked, &p);
	send_frames(1, 2, PEER_CHANNEL_CONTROL, 10, 64);
	WAIT(all_delivered, &count);
	ck_assert_int_eq(fx.nets[2].ups[1], 2);
	ck_assert_int_eq(fx.nets[2].downs[1], 1);
}
END_TEST

/* An idle pair stays connected across several idle timeouts because each side sends
 * keepalives, which are not delivered as frames. */
START_TEST(test_peer_idle_connection_stays_up_with_keepalives)
{
	struct pair p = { 1, 2 };

	tnet_config(1);
	tnet_config(2);
	fx.nets[1].cfg.idle_timeout_ms = 90;
	fx.nets[2].cfg.idle_timeout_ms = 90;
	tnet_start(1);
	tnet_start(2);
	tnet_meet(1, 2);
	tnet_meet(2, 2);
	WAIT(linked, &p);
	struct peer_stats before;
	peer_net_stats(fx.nets[2].net, &before);
	run_for(600);
	struct peer_stats after;
	peer_net_stats(fx.nets[2].net, &after);
	ck_assert(linked(&p));
	ck_assert_uint_eq(after.disconnects, 0);
	ck_assert_uint_eq(after.frames_recv, 0);
	ck_assert_uint_ge(after.bytes_recv - before.bytes_recv, 12 * 5); /* keepalives came */
	ck_assert_uint_ge(after.bytes_sent - before.bytes_sent, 12 * 5); /* and went */
}
END_TEST

/* A peer that completes the HELLO and then says nothing (and reads nothing) is closed after
 * idle_timeout_ms with a log line naming it. */
START_TEST(test_peer_silent_peer_is_closed_after_the_idle_timeout)
{
	struct raw r = { 0 };

	tnet_config(2);
	fx.nets[2].cfg.idle_timeout_ms = 120;
	tnet_start(2);
	ck_assert_int_eq(peer_net_add_node(fx.nets[2].net, 1, "127.0.0.1", 9), 0);
	r.out_len = hello_frame(r.out, 1, 2, CLUSTER);
	raw_connect(&r, fx.nets[2].port);
	WAIT(raw_eof, &r);
	ck_assert(log_line_has("nothing received for", "limit 120 ms", "node=1"));
	ck_assert_int_eq(fx.nets[2].ups[1], 1);
	ck_assert_int_eq(fx.nets[2].downs[1], 1);
	raw_close(&r);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * lifetime
 */

/* Closing nets with megabytes queued and being written to a connected peer, frames queued for
 * a node being dialled by name, and a dial in progress frees everything: the teardown finds
 * no handle left, and ASan no leak. */
START_TEST(test_peer_close_with_pending_data_frees_everything)
{
	struct pair p = { 1, 2 };

	mesh_start(2);
	WAIT(linked, &p);
	ck_assert_int_eq(peer_net_add_node(fx.nets[1].net, 3, "localhost", 9), 0);
	ck_assert_int_eq(peer_net_add_node(fx.nets[1].net, 4, "127.0.0.1", 9), 0);
	for (int i = 0; i < 4; i++) {
		send_frames(1, 2, PEER_CHANNEL_CATCHUP, 4, 1 << 20);
		send_frames(1, 3, PEER_CHANNEL_RAFT, 50, 100);
		send_frames(1, 4, PEER_CHANNEL_RAFT, 50, 100);
		send_frames(2, 1, PEER_CHANNEL_RAFT, 500, 100);
		run_for(1);
	}
	/* Close while writes are in flight. */
	fx.nets[2].allow_gaps = true;
	tnet_close(1);
	tnet_close(2);
}
END_TEST

/* A net closed from inside its own recv callback stops delivering at once, and the payload it
 * is delivering stays readable until the callback returns. */
START_TEST(test_peer_close_from_inside_recv_stops_delivery)
{
	struct pair p = { 1, 2 };

	mesh_start(2);
	WAIT(linked, &p);
	fx.nets[2].close_in_recv = true;
	send_frames(1, 2, PEER_CHANNEL_RAFT, 100, 64);
	send_frames(1, 2, PEER_CHANNEL_CATCHUP, 1, 300000);
	struct frames_wait w = { 2, 1 };
	WAIT(frames_reach, &w);
	run_for(20);
	ck_assert_uint_eq(fx.nets[2].frames, 1);
	ck_assert_uint_eq(fx.nets[2].after_close, 0);
	/* Net 1 sees the link go down. */
	WAIT(link_down, &p);
	fx.nets[2].net = NULL;
}
END_TEST

static Suite *peer_suite(void)
{
	Suite *s = suite_create("peer");
	TCase *tc;

	tc = tcase_create("exchange");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_peer_two_nets_deliver_every_channel_in_order);
	tcase_add_test(tc, test_peer_three_nets_deliver_in_order_across_the_mesh);
	tcase_add_test(tc, test_peer_large_and_empty_frames_arrive_intact);
	suite_add_tcase(s, tc);

	tc = tcase_create("coalescing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_peer_sends_of_one_turn_leave_in_one_write);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_peer_full_queue_refuses_with_ebusy_and_counts);
	tcase_add_test(tc, test_peer_oversized_frame_closes_the_connection_with_a_reason);
	tcase_add_test(tc, test_peer_garbage_from_a_stranger_closes_the_connection);
	suite_add_tcase(s, tc);

	tc = tcase_create("handshake");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_peer_wrong_cluster_id_is_rejected);
	tcase_add_test(tc, test_peer_bad_hellos_are_rejected_with_their_reason);
	tcase_add_test(tc, test_peer_joining_node_dials_members_that_accept_unknown_nodes);
	tcase_add_test(tc, test_peer_silent_acceptor_makes_the_dial_time_out);
	suite_add_tcase(s, tc);

	tc = tcase_create("recovery");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_peer_reconnects_after_the_acceptor_restarts);
	tcase_add_test(tc, test_peer_reconnects_after_the_dialer_restarts);
	tcase_add_test(tc, test_peer_idle_connection_stays_up_with_keepalives);
	tcase_add_test(tc, test_peer_silent_peer_is_closed_after_the_idle_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifetime");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_peer_close_with_pending_data_frees_everything);
	tcase_add_test(tc, test_peer_close_from_inside_recv_stops_delivery);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(peer_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
