/*
 * net: listener, framing, ordered responses and back-pressure (see net.h for the contract).
 *
 * Wire format of a frame, both directions (Kafka's "RequestOrResponse"):
 *
 *   offset  size  meaning
 *   0       4     Size: int32, big-endian, bytes that follow (0 <= Size <= frame_bytes_max)
 *   4       Size  the request or response itself (opaque to this layer)
 *
 * Happy path. The loop reads into one server-wide read buffer; conn_read_cb() copies each frame
 * into its own struct buf, sized exactly, and delivers it. A frame's tail that is at least a read
 * buffer long is read straight into the frame's buf instead (no copy for large produces). Each
 * delivered request takes a slot in the connection's ring, in seq order. Answers fill slots;
 * when the oldest slot is answered the connection is put on the server's "turn" list, and an idle
 * handle flushes that list once per loop turn: the answered slots at the front of each ring leave
 * in one writev (at most NET_WRITE_RESPONSES_MAX responses per write request).
 *
 * Why one read buffer for all connections: libuv on Unix calls alloc_cb, read(2) and read_cb
 * back to back for one stream, and conn_read_cb() consumes every byte before returning (into a
 * frame buf or the 4-byte prefix staging), so nothing lives in the buffer between callbacks. An
 * idle connection then costs no read memory: 10000 connections with a 64 KiB buffer each would be
 * 640 MiB.
 *
 * Back-pressure. A connection reads only while (a) its ring holds fewer than
 * inflight_requests_max requests, (b) its output bytes are below output_bytes_max and (c) no
 * frame already read is waiting for delivery. Frames parsed after the ring filled up inside one
 * read callback wait in the connection's pending queue (bounded by one read buffer's worth of
 * bytes); they are delivered from the turn handle when slots free up, never re-entrantly from
 * net_conn_respond(). One read callback delivers only the frames that read brought in.
 *
 * Failure modes: see net.h. A closing connection drops its partial frame, pending frames and
 * answered responses at once; writes still queued in libuv complete with UV_ECANCELED before the
 * handle's close callback, so their buffers are released before on_close().
 *
 * Invariants:
 *   1. Connection states move OPEN -> CLOSING -> CLOSED only (conn_move checks the table).
 *   2. ring_count <= ring_cap, ring_count <= inflight_requests_max, and the ring holds seqs
 *      [head_seq, head_seq + ring_count) in order; next seq to deliver is head_seq + ring_count.
 *   3. A connection is on the turn list iff `scheduled`, and only while OPEN.
 *   4. Only an OPEN connection reads; `reading` mirrors uv_read_start/uv_read_stop.
 *   5. on_close() runs once, when both of the connection's handles have closed; the connection is
 *      freed when it has run and the last reference is gone.
 *   6. The server is freed only after net_server_stop(), when its listener, its turn handle and
 *      every connection (and every rejected socket) have closed.
 */
#include "net/net.h"

#include <arpa/inet.h>
#include <assert.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/codec.h"
#include "base/err.h"
#include "base/list.h"
#include "base/slog.h"
#include "net/sockaddr.h"

#define NET_MODULE "net"

/* Size of the server-wide read buffer: one read(2) brings in at most this much, which bounds the
 * frames one read callback can deliver and the pending queue of a paused connection. */
#define NET_READ_BUF_BYTES (64u * 1024u)
/* A frame with at least this many bytes still to come is read directly into its own buf. */
#define NET_READ_DIRECT_BYTES_MIN NET_READ_BUF_BYTES
/* Responses gathered into one uv_write; two iovecs each stays below Linux's IOV_MAX (1024). */
#define NET_WRITE_RESPONSES_MAX 256u
/* Size of the "RequestOrResponse" length field. */
#define NET_PREFIX_BYTES 4u
/* Slots a connection's ring starts with; it doubles up to the inflight limit. */
#define NET_RING_SLOTS_MIN 8u
/* Pending connections the kernel queues for accept(2). */
#define NET_LISTEN_BACKLOG 1024

_Static_assert(2 * NET_WRITE_RESPONSES_MAX <= 1024, "one write's iovecs must fit IOV_MAX");
_Static_assert((NET_RING_SLOTS_MIN & (NET_RING_SLOTS_MIN - 1)) == 0, "ring sizes are powers of 2");

enum conn_state { CONN_OPEN, CONN_CLOSING, CONN_CLOSED, CONN_STATE_COUNT };

static const bool conn_transitions[CONN_STATE_COUNT][CONN_STATE_COUNT] = {
	[CONN_OPEN][CONN_CLOSING] = true,
	[CONN_CLOSING][CONN_CLOSED] = true,
};

enum slot_state { SLOT_WAITING, SLOT_ANSWERED, SLOT_SKIPPED };

struct net_slot {
	struct buf *resp; /* SLOT_ANSWERED: the response, owned */
	size_t len;
	enum slot_state state;
};

struct net_conn {
	struct net_server *server; /* NULL once on_close has run */
	uv_tcp_t tcp;
	uv_timer_t idle_timer;
	enum conn_state state;
	unsigned handles_open; /* of tcp and idle_timer */
	uint32_t refs;         /* the net layer's own plus the handler's */
	uint64_t id;
	char peer[NET_ADDR_BYTES_MAX];
	void *data;

	bool reading;
	bool scheduled;            /* on server->turn_list */
	struct list_link conn_link; /* in server->conns while not CLOSED */
	struct list_link turn_link; /* in server->turn_list while scheduled */
	uint64_t last_active_ms;   /* uv_now() of the last byte read or written */

	/* Framing: the size prefix being collected, then the frame being filled. */
	uint8_t prefix[NET_PREFIX_BYTES];
	unsigned prefix_have;
	struct buf *frame;
	size_t frame_have;

	/* Frames read but not yet delivered (ring full): a FIFO array. */
	struct buf **pending;
	size_t pending_head;
	size_t pending_count;
	size_t pending_cap;

	/* Requests delivered and not yet handed to the socket (invariant 2). */
	struct net_slot *ring;
	uint32_t ring_cap; /* power of two */
	uint32_t ring_head;
	uint32_t ring_count;
	uint64_t head_seq;

	size_t output_bytes; /* answered, not yet written (prefixes included) */
};

struct net_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	uv_idle_t turn;
	struct net_limits lim;
	struct net_handler h;
	void *arg;
	int port;
	char addr[NET_ADDR_BYTES_MAX];

	struct list_link conns;     /* every connection not yet CLOSED */
	struct list_link turn_list; /* connections to flush in the next turn */
	uint32_t turn_count;
	uint32_t conns_open;
	uint32_t handles_open; /* listener, turn, rejected sockets being closed */
	uint64_t next_conn_id;
	bool stopping;
	void (*stop_cb)(void *arg);
	void *stop_arg;

	bool rbuf_busy; /* between alloc_cb and read_cb, to check the shared-buffer reasoning */
	struct net_stats stats;
	uint8_t rbuf[NET_READ_BUF_BYTES];
};

/* One writev: for response i, iov[2i] is its prefix and iov[2i+1] its body. */
struct net_write {
	uv_write_t req;
	struct net_conn *conn;
	size_t bytes;
	uint32_t n;
	uint32_t niov;
	struct buf **resps;
	uint8_t (*prefixes)[NET_PREFIX_BYTES];
	uv_buf_t iov[];
};

static void conn_close(struct net_conn *c, enum slog_level level, const char *reason);
static void conn_update_reading(struct net_conn *c);

void net_limits_default(struct net_limits *lim)
{
	lim->frame_bytes_max = 100u * 1024u * 1024u;
	lim->inflight_requests_max = 100;
	lim->output_bytes_max = 16u * 1024u * 1024u;
	lim->idle_ms_max = 600000;
	lim->connections_max = 10000;
}

static void peer_format(uv_tcp_t *tcp, char *out, size_t n)
{
	struct sockaddr_storage ss;
	int len = (int)sizeof ss;

	if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) != 0) {
		snprintf(out, n, "?");
		return;
	}
	sockaddr_format((struct sockaddr *)&ss, out, n);
}

/* ---------------------------------------------------------------------------------------------
 * Connection state and lifetime
 */

static void conn_move(struct net_conn *c, enum conn_state to)
{
	assert(conn_transitions[c->state][to]);
	c->state = to;
}

static void conn_free(struct net_conn *c)
{
	assert(c->state == CONN_CLOSED && c->refs == 0);
	assert(c->frame == NULL && c->pending_count == 0);
	free(c->pending);
	free(c->ring);
	free(c);
}

void net_conn_ref(struct net_conn *c)
{
	assert(c->refs > 0);
	c->refs++;
}

void net_conn_unref(struct net_conn *c)
{
	assert(c->refs > 0);
	if (--c->refs == 0)
		conn_free(c);
}

bool net_conn_is_open(const struct net_conn *c)
{
	return c->state == CONN_OPEN;
}

void net_conn_set_data(struct net_conn *c, void *data)
{
	c->data = data;
}

void *net_conn_data(const struct net_conn *c)
{
	return c->data;
}

const char *net_conn_peer(const struct net_conn *c)
{
	return c->peer;
}

uint64_t net_conn_id(const struct net_conn *c)
{
	return c->id;
}

static void server_maybe_stopped(struct net_server *s)
{
	if (!s->stopping || s->handles_open > 0 || !list_empty(&s->conns))
		return;
	assert(s->conns_open == 0 && s->turn_count == 0);
	if (s->stop_cb != NULL)
		s->stop_cb(s->stop_arg);
	free(s);
}

static void server_handle_close_cb(uv_handle_t *h)
{
	struct net_server *s = h->data;

	assert(s->handles_open > 0);
	s->handles_open--;
	server_maybe_stopped(s);
}

/* Both handles of `c` closed: the connection is gone. Runs on_close (invariant 5). */
static void conn_close_cb(uv_handle_t *h)
{
	struct net_conn *c = h->data;
	struct net_server *s = c->server;

	assert(c->state == CONN_CLOSING && c->handles_open > 0);
	if (--c->handles_open > 0)
		return;
	conn_move(c, CONN_CLOSED);
	/* Writes were cancelled before this callback; nothing can still be queued. */
	assert(c->output_bytes == 0);
	list_remove(&c->conn_link);
	s->conns_open--;
	if (s->h.on_close != NULL)
		s->h.on_close(s->arg, c);
	c->server = NULL;
	net_conn_unref(c);
	server_maybe_stopped(s);
}

/* Releases every buffer `c` holds for the socket: the partial frame, frames not delivered, and
 * answered responses not yet written. Requests the handler holds stay its business. */
static void conn_release_buffers(struct net_conn *c)
{
	buf_unref(c->frame);
	c->frame = NULL;
	while (c->pending_count > 0) {
		buf_unref(c->pending[c->pending_head]);
		c->pending_head = (c->pending_head + 1) % c->pending_cap;
		c->pending_count--;
	}
	for (uint32_t i = 0; i < c->ring_count; i++) {
		struct net_slot *sl = &c->ring[(c->ring_head + i) & (c->ring_cap - 1)];
		if (sl->state == SLOT_ANSWERED) {
			c->output_bytes -= NET_PREFIX_BYTES + sl->len;
			buf_unref(sl->resp);
			sl->resp = NULL;
		}
	}
	c->ring_count = 0;
}

/* Starts closing `c` and logs `reason` at `level` (nothing is logged for a NULL reason: the
 * caller logged already). */
static void conn_close(struct net_conn *c, enum slog_level level, const char *reason)
{
	struct net_server *s = c->server;

	if (c->state != CONN_OPEN)
		return;
	conn_move(c, CONN_CLOSING);
	if (reason != NULL && slog_get_level() <= level)
		slog_write(level, NET_MODULE,
			   "msg=\"connection closed\" listener=%s peer=%s conn=%" PRIu64
			   " reason=\"%s\"",
			   s->addr, c->peer, c->id, reason);
	if (c->scheduled) {
		list_remove(&c->turn_link);
		c->scheduled = false;
		s->turn_count--;
	}
	c->reading = false; /* uv_close stops reading */
	conn_release_buffers(c);
	uv_close((uv_handle_t *)&c->tcp, conn_close_cb);
	uv_close((uv_handle_t *)&c->idle_timer, conn_close_cb);
}

void net_conn_close(struct net_conn *c, const char *reason)
{
	conn_close(c, SLOG_INFO, reason != NULL ? reason : "closed by handler");
}

/* ---------------------------------------------------------------------------------------------
 * Ring of requests in flight
 */

static struct net_slot *ring_slot(struct net_conn *c, uint64_t seq)
{
	assert(seq - c->head_seq < c->ring_count);
	return &c->ring[(c->ring_head + (uint32_t)(seq - c->head_seq)) & (c->ring_cap - 1)];
}

/* Appends a WAITING slot; returns its seq, or SLUICE_ENOMEM when the ring cannot grow. */
static int ring_push(struct net_conn *c, uint64_t *seq)
{
	assert(c->ring_count < c->server->lim.inflight_requests_max);
	if (c->ring_count == c->ring_cap) {
		uint32_t cap = c->ring_cap == 0 ? NET_RING_SLOTS_MIN : c->ring_cap * 2;
		struct net_slot *r = malloc(cap * sizeof *r);
		if (r == NULL)
			return SLUICE_ENOMEM;
		for (uint32_t i = 0; i < c->ring_count; i++)
			r[i] = c->ring[(c->ring_head + i) & (c->ring_cap - 1)];
		free(c->ring);
		c->ring = r;
		c->ring_cap = cap;
		c->ring_head = 0;
	}
	*seq = c->head_seq + c->ring_count;
	c->ring_count++;
	struct net_slot *sl = ring_slot(c, *seq);
	sl->state = SLOT_WAITING;
	sl->resp = NULL;
	sl->len = 0;
	return 0;
}

static void ring_pop(struct net_conn *c)
{
	assert(c->ring_count > 0);
	c->ring_head = (c->ring_head + 1) & (c->ring_cap - 1);
	c->ring_count--;
	c->head_seq++;
}

/* ---------------------------------------------------------------------------------------------
 * Turn: flushing answered responses and delivering held frames, once per loop turn
 */

static void turn_cb(uv_idle_t *idle);

/* Puts `c` on the server's turn list (invariant 3). */
static void conn_schedule(struct net_conn *c)
{
	struct net_server *s = c->server;

	if (c->scheduled || c->state != CONN_OPEN)
		return;
	c->scheduled = true;
	list_insert_tail(&s->turn_list, &c->turn_link);
	s->turn_count++;
	if (!uv_is_active((uv_handle_t *)&s->turn))
		uv_idle_start(&s->turn, turn_cb);
}

static void conn_write_cb(uv_write_t *req, int status)
{
	struct net_write *w = req->data;
	struct net_conn *c = w->conn;
	struct net_server *s = c->server;

	for (uint32_t i = 0; i < w->n; i++)
		buf_unref(w->resps[i]);
	assert(c->output_bytes >= w->bytes);
	c->output_bytes -= w->bytes;
	if (status == 0) {
		s->stats.bytes_out += w->bytes;
		s->stats.responses += w->n;
		s->stats.writes++;
		c->last_active_ms = uv_now(s->loop);
	}
	free(w);
	if (status < 0 && status != UV_ECANCELED) {
		char reason[128];
		snprintf(reason, sizeof reason, "write failed: %s", uv_strerror(status));
		conn_close(c, SLOG_INFO, reason);
		return;
	}
	conn_update_reading(c);
}

/* Writes the answered responses at the front of `c`'s ring, NET_WRITE_RESPONSES_MAX per write
 * request, and pops their slots (and those of skipped requests). Returns 0 or SLUICE_ENOMEM /
 * SLUICE_EIO, after which the caller closes `c`. */
static int conn_flush(struct net_conn *c)
{
	while (c->ring_count > 0 && ring_slot(c, c->head_seq)->state != SLOT_WAITING) {
		uint32_t n = 0;

		for (uint32_t i = 0; i < c->ring_count && n < NET_WRITE_RESPONSES_MAX; i++) {
			enum slot_state st = ring_slot(c, c->head_seq + i)->state;
			if (st == SLOT_WAITING)
				break;
			n += st == SLOT_ANSWERED;
		}
		if (n == 0) {
			/* Only skipped (acks=0) requests at the front. */
			while (c->ring_count > 0 &&
			       ring_slot(c, c->head_seq)->state == SLOT_SKIPPED)
				ring_pop(c);
			continue;
		}

		size_t size = sizeof(struct net_write) + 2 * n * sizeof(uv_buf_t) +
			      n * sizeof(struct buf *) + n * NET_PREFIX_BYTES;
		struct net_write *w = malloc(size);
		if (w == NULL)
			return SLUICE_ENOMEM;
		w->req.data = w;
		w->conn = c;
		w->bytes = 0;
		w->n = 0;
		w->niov = 0;
		w->resps = (struct buf **)(void *)&w->iov[2 * n];
		w->prefixes = (uint8_t(*)[NET_PREFIX_BYTES])(void *)&w->resps[n];
		while (w->n < n) {
			struct net_slot *sl = ring_slot(c, c->head_seq);
			assert(sl->state != SLOT_WAITING);
			if (sl->state == SLOT_ANSWERED) {
				uint32_t i = w->n++;
				w->resps[i] = sl->resp;
				be32_put(w->prefixes[i], (uint32_t)sl->len);
				char *prefix = (char *)w->prefixes[i];
				w->iov[w->niov++] = uv_buf_init(prefix, NET_PREFIX_BYTES);
				if (sl->len > 0) {
					char *body = (char *)sl->resp->data;
					w->iov[w->niov++] = uv_buf_init(body, (unsigned)sl->len);
				}
				w->bytes += NET_PREFIX_BYTES + sl->len;
				sl->resp = NULL;
			}
			ring_pop(c);
		}
		int rv = uv_write(&w->req, (uv_stream_t *)&c->tcp, w->iov, w->niov, conn_write_cb);
		if (rv != 0) {
			/* The responses left the ring; give their bytes back before closing. */
			for (uint32_t i = 0; i < w->n; i++)
				buf_unref(w->resps[i]);
			c->output_bytes -= w->bytes;
			free(w);
			return SLUICE_EIO;
		}
	}
	return 0;
}

static void conn_deliver(struct net_conn *c, struct buf *frame);

static struct buf *pending_pop(struct net_conn *c)
{
	struct buf *b = c->pending[c->pending_head];

	assert(c->pending_count > 0);
	c->pending_head = (c->pending_head + 1) % c->pending_cap;
	c->pending_count--;
	return b;
}

static int pending_push(struct net_conn *c, struct buf *frame)
{
	if (c->pending_count == c->pending_cap) {
		size_t cap = c->pending_cap == 0 ? 16 : c->pending_cap * 2;
		struct buf **p = malloc(cap * sizeof *p);
		if (p == NULL)
			return SLUICE_ENOMEM;
		for (size_t i = 0; i < c->pending_count; i++)
			p[i] = c->pending[(c->pending_head + i) % c->pending_cap];
		free(c->pending);
		c->pending = p;
		c->pending_cap = cap;
		c->pending_head = 0;
	}
	c->pending[(c->pending_head + c->pending_count) % c->pending_cap] = frame;
	c->pending_count++;
	return 0;
}

/* Once per loop turn: for the connections scheduled before this turn began (later ones wait for
 * the next turn, so the turn is bounded), write what is ready, deliver held frames into freed
 * slots, and resume reading if the limits allow. */
static void turn_cb(uv_idle_t *idle)
{
	struct net_server *s = idle->data;
	uint32_t budget = s->turn_count;

	while (budget-- > 0 && !list_empty(&s->turn_list)) {
		struct net_conn *c = LIST_ENTRY(s->turn_list.next, struct net_conn, turn_link);

		list_remove(&c->turn_link);
		c->scheduled = false;
		s->turn_count--;
		assert(c->state == CONN_OPEN);
		if (conn_flush(c) != 0) {
			conn_close(c, SLOG_ERROR, "cannot queue write");
			continue;
		}
		while (c->state == CONN_OPEN && c->pending_count > 0 &&
		       c->ring_count < s->lim.inflight_requests_max)
			conn_deliver(c, pending_pop(c));
		conn_update_reading(c);
	}
	if (list_empty(&s->turn_list))
		uv_idle_stop(&s->turn);
}

/* ---------------------------------------------------------------------------------------------
 * Reading and framing
 */

static void conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
	struct net_conn *c = h->data;
	struct net_server *s = c->server;

	(void)suggested;
	assert(!s->rbuf_busy);
	s->rbuf_busy = true;
	if (c->frame != NULL && c->frame->len - c->frame_have >= NET_READ_DIRECT_BYTES_MIN) {
		*out = uv_buf_init((char *)c->frame->data + c->frame_have,
				   (unsigned)(c->frame->len - c->frame_have));
		return;
	}
	*out = uv_buf_init((char *)s->rbuf, sizeof s->rbuf);
}

/* Hands `frame` to the handler in a new ring slot. */
static void conn_deliver(struct net_conn *c, struct buf *frame)
{
	struct net_server *s = c->server;
	uint64_t seq;

	assert(c->state == CONN_OPEN);
	if (ring_push(c, &seq) != 0) {
		buf_unref(frame);
		conn_close(c, SLOG_ERROR, "out of memory for a request slot");
		return;
	}
	s->stats.requests++;
	s->h.on_request(s->arg, c, seq, frame, frame->len);
}

/* A frame is complete: deliver it now if a slot is free and nothing read earlier waits, else
 * hold it until the turn handle can deliver it. */
static void conn_frame_done(struct net_conn *c)
{
	struct buf *frame = c->frame;

	c->frame = NULL;
	c->frame_have = 0;
	if (c->pending_count == 0 && c->ring_count < c->server->lim.inflight_requests_max) {
		conn_deliver(c, frame);
		return;
	}
	if (pending_push(c, frame) != 0) {
		buf_unref(frame);
		conn_close(c, SLOG_ERROR, "out of memory for a pending frame");
	}
}

/* The size prefix is complete: validate it (Kafka's NetworkReceive rules) and start a frame.
 * Returns false if the connection was closed. */
static bool conn_frame_start(struct net_conn *c)
{
	struct net_server *s = c->server;
	uint32_t raw = be32_get(c->prefix);
	int64_t size = raw > INT32_MAX ? (int64_t)raw - ((int64_t)1 << 32) : (int64_t)raw;

	c->prefix_have = 0;
	if (size < 0 || (uint64_t)size > s->lim.frame_bytes_max) {
		s->stats.frames_rejected++;
		SLOG_WARN(NET_MODULE,
			  "msg=\"invalid request size, closing connection\" listener=%s peer=%s "
			  "conn=%" PRIu64 " size=%" PRId64 " limit=%zu",
			  s->addr, c->peer, c->id, size, s->lim.frame_bytes_max);
		conn_close(c, SLOG_WARN, NULL);
		return false;
	}
	c->frame = buf_new((size_t)size);
	if (c->frame == NULL) {
		SLOG_ERROR(NET_MODULE,
			   "msg=\"out of memory for a request, closing connection\" listener=%s "
			   "peer=%s conn=%" PRIu64 " size=%" PRId64,
			   s->addr, c->peer, c->id, size);
		conn_close(c, SLOG_ERROR, NULL);
		return false;
	}
	c->frame->len = (size_t)size;
	c->frame_have = 0;
	return true;
}

static void conn_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *ub)
{
	struct net_conn *c = stream->data;
	struct net_server *s = c->server;

	assert(s->rbuf_busy);
	s->rbuf_busy = false;
	if (nread == 0)
		return; /* EAGAIN */
	if (nread < 0) {
		if (nread == UV_EOF) {
			conn_close(c, SLOG_DEBUG, "peer closed the connection");
		} else {
			char reason[128];
			snprintf(reason, sizeof reason, "read failed: %s", uv_strerror((int)nread));
			conn_close(c, SLOG_INFO, reason);
		}
		return;
	}
	assert(c->state == CONN_OPEN);
	s->stats.bytes_in += (uint64_t)nread;
	c->last_active_ms = uv_now(s->loop);

	if ((uint8_t *)ub->base != s->rbuf) {
		/* Read directly into the frame (conn_alloc_cb). */
		assert(c->frame != NULL && (uint8_t *)ub->base == c->frame->data + c->frame_have);
		c->frame_have += (size_t)nread;
		assert(c->frame_have <= c->frame->len);
		if (c->frame_have == c->frame->len)
			conn_frame_done(c);
		conn_update_reading(c);
		return;
	}

	/* Every byte is consumed before returning: the buffer is shared by all connections. */
	const uint8_t *p = s->rbuf;
	size_t left = (size_t)nread;

	while (c->state == CONN_OPEN) {
		if (c->frame == NULL) {
			size_t take = NET_PREFIX_BYTES - c->prefix_have;
			if (take > left)
				take = left;
			memcpy(c->prefix + c->prefix_have, p, take);
			c->prefix_have += (unsigned)take;
			p += take;
			left -= take;
			if (c->prefix_have < NET_PREFIX_BYTES)
				break;
			if (!conn_frame_start(c))
				return;
		} else {
			size_t take = c->frame->len - c->frame_have;
			if (take > left)
				take = left;
			memcpy(c->frame->data + c->frame_have, p, take);
			c->frame_have += take;
			p += take;
			left -= take;
		}
		if (c->frame_have == c->frame->len)
			conn_frame_done(c); /* may run the handler, which may close c */
		else if (left == 0)
			break;
	}
	conn_update_reading(c);
}

/* Starts or stops reading to match the back-pressure rules (design note). */
static void conn_update_reading(struct net_conn *c)
{
	struct net_server *s = c->server;

	if (c->state != CONN_OPEN)
		return;
	bool want = c->ring_count < s->lim.inflight_requests_max &&
		    c->output_bytes < s->lim.output_bytes_max && c->pending_count == 0;
	if (want && !c->reading) {
		int rv = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb, conn_read_cb);
		if (rv != 0) {
			char reason[128];
			snprintf(reason, sizeof reason, "cannot read: %s", uv_strerror(rv));
			conn_close(c, SLOG_ERROR, reason);
			return;
		}
		c->reading = true;
	} else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
		s->stats.read_pauses++;
	}
}

/* ---------------------------------------------------------------------------------------------
 * Answers
 */

void net_conn_respond(struct net_conn *c, uint64_t seq, struct buf *resp, size_t len)
{
	assert(resp != NULL && len <= resp->cap && len <= INT32_MAX);
	if (c->state != CONN_OPEN) {
		buf_unref(resp);
		return;
	}
	struct net_slot *sl = ring_slot(c, seq);
	assert(sl->state == SLOT_WAITING);
	sl->state = SLOT_ANSWERED;
	sl->resp = resp;
	sl->len = len;
	c->output_bytes += NET_PREFIX_BYTES + len;
	if (seq == c->head_seq)
		conn_schedule(c);
	if (c->output_bytes >= c->server->lim.output_bytes_max)
		conn_update_reading(c);
}

void net_conn_no_response(struct net_conn *c, uint64_t seq)
{
	if (c->state != CONN_OPEN)
		return;
	struct net_slot *sl = ring_slot(c, seq);
	assert(sl->state == SLOT_WAITING);
	sl->state = SLOT_SKIPPED;
	if (seq == c->head_seq)
		conn_schedule(c);
}

/* ---------------------------------------------------------------------------------------------
 * Accepting and idleness
 */

static void conn_idle_cb(uv_timer_t *t)
{
	struct net_conn *c = t->data;
	struct net_server *s = c->server;
	uint64_t idle_ms_max = s->lim.idle_ms_max;
	uint64_t now = uv_now(s->loop);

	assert(c->state == CONN_OPEN);
	/* A connection waiting for the broker (a long-polling Fetch) is not idle. */
	if (c->ring_count > 0 || c->pending_count > 0 || c->output_bytes > 0) {
		uv_timer_start(t, conn_idle_cb, idle_ms_max, 0);
		return;
	}
	uint64_t idle_ms = now - c->last_active_ms;
	if (idle_ms >= idle_ms_max) {
		char reason[128];
		snprintf(reason, sizeof reason, "idle for %" PRIu64 " ms, limit %" PRIu64 " ms",
			 idle_ms, idle_ms_max);
		conn_close(c, SLOG_INFO, reason);
		return;
	}
	uv_timer_start(t, conn_idle_cb, idle_ms_max - idle_ms, 0);
}

static void reject_close_cb(uv_handle_t *h)
{
	struct net_server *s = h->data;

	free(h);
	assert(s->handles_open > 0);
	s->handles_open--;
	server_maybe_stopped(s);
}

/* Accepts the waiting connection and closes it at once (connections_max reached). */
static void server_reject(struct net_server *s)
{
	uv_tcp_t *t = malloc(sizeof *t);
	char peer[NET_ADDR_BYTES_MAX];

	if (t == NULL) {
		SLOG_ERROR(NET_MODULE, "msg=\"out of memory rejecting a connection\" listener=%s",
			   s->addr);
		return;
	}
	uv_tcp_init(s->loop, t);
	t->data = s;
	s->handles_open++;
	if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)t) == 0) {
		peer_format(t, peer, sizeof peer);
		s->stats.connections_accepted++;
		s->stats.connections_rejected++;
		SLOG_WARN(NET_MODULE,
			  "msg=\"too many connections, closing new connection\" listener=%s "
			  "peer=%s open=%" PRIu32 " limit=%" PRIu32,
			  s->addr, peer, s->conns_open, s->lim.connections_max);
	}
	uv_close((uv_handle_t *)t, reject_close_cb);
}

static void server_connection_cb(uv_stream_t *listener, int status)
{
	struct net_server *s = listener->data;
	struct net_conn *c;
	int rv;

	if (status < 0) {
		SLOG_WARN(NET_MODULE, "msg=\"accept failed\" listener=%s error=\"%s\"", s->addr,
			  uv_strerror(status));
		return;
	}
	if (s->conns_open >= s->lim.connections_max) {
		server_reject(s);
		return;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		SLOG_ERROR(NET_MODULE, "msg=\"out of memory accepting a connection\" listener=%s",
			   s->addr);
		return;
	}
	c->server = s;
	c->refs = 1;
	c->state = CONN_OPEN;
	list_init(&c->conn_link);
	list_init(&c->turn_link);
	uv_tcp_init(s->loop, &c->tcp);
	uv_timer_init(s->loop, &c->idle_timer);
	c->tcp.data = c;
	c->idle_timer.data = c;
	c->handles_open = 2;
	c->id = ++s->next_conn_id;
	list_insert_tail(&s->conns, &c->conn_link);
	s->conns_open++;
	s->stats.connections_accepted++;

	rv = uv_accept(listener, (uv_stream_t *)&c->tcp);
	if (rv != 0) {
		snprintf(c->peer, sizeof c->peer, "?");
		char reason[128];
		snprintf(reason, sizeof reason, "accept failed: %s", uv_strerror(rv));
		conn_close(c, SLOG_WARN, reason);
		return;
	}
	peer_format(&c->tcp, c->peer, sizeof c->peer);
	/* Responses are written whole per turn; Nagle would only delay the last segment. */
	uv_tcp_nodelay(&c->tcp, 1);
	c->last_active_ms = uv_now(s->loop);
	if (s->lim.idle_ms_max > 0)
		uv_timer_start(&c->idle_timer, conn_idle_cb, s->lim.idle_ms_max, 0);
	SLOG_DEBUG(NET_MODULE, "msg=\"connection accepted\" listener=%s peer=%s conn=%" PRIu64,
		   s->addr, c->peer, c->id);
	conn_update_reading(c);
}

/* ---------------------------------------------------------------------------------------------
 * Server
 */

static int limits_check(const struct net_limits *lim, char *errmsg)
{
	if (lim->frame_bytes_max == 0 || lim->frame_bytes_max > INT32_MAX) {
		errmsg_printf(errmsg, "frame_bytes_max %zu outside 1..%d", lim->frame_bytes_max,
			      INT32_MAX);
		return SLUICE_EINVAL;
	}
	if (lim->inflight_requests_max == 0 || lim->inflight_requests_max > (1u << 20)) {
		errmsg_printf(errmsg, "inflight_requests_max %" PRIu32 " outside 1..%u",
			      lim->inflight_requests_max, 1u << 20);
		return SLUICE_EINVAL;
	}
	if (lim->output_bytes_max == 0) {
		errmsg_printf(errmsg, "output_bytes_max must be positive");
		return SLUICE_EINVAL;
	}
	if (lim->connections_max == 0) {
		errmsg_printf(errmsg, "connections_max must be positive");
		return SLUICE_EINVAL;
	}
	return 0;
}

int net_server_start(uv_loop_t *loop, const char *host, int port, const struct net_limits *lim,
		     const struct net_handler *h, void *arg, struct net_server **out, char *errmsg)
{
	struct sockaddr_storage ss;
	struct net_server *s;
	int rv;

	assert(loop != NULL && lim != NULL && h != NULL && h->on_request != NULL && out != NULL);
	if (port < 0 || port > 65535) {
		errmsg_printf(errmsg, "listen %s:%d: port outside 0..65535", host ? host : "",
			      port);
		return SLUICE_EINVAL;
	}
	rv = limits_check(lim, errmsg);
	if (rv != 0) {
		errmsg_wrapf(errmsg, "listen %s:%d", host ? host : "", port);
		return rv;
	}
	rv = sockaddr_listen(host, port, &ss, errmsg);
	if (rv != 0) {
		errmsg_wrapf(errmsg, "listen %s:%d", host ? host : "", port);
		return rv;
	}
	s = calloc(1, sizeof *s);
	if (s == NULL) {
		errmsg_printf(errmsg, "listen %s:%d: out of memory", host ? host : "", port);
		return SLUICE_ENOMEM;
	}
	s->loop = loop;
	s->lim = *lim;
	s->h = *h;
	s->arg = arg;
	list_init(&s->conns);
	list_init(&s->turn_list);
	sockaddr_format((struct sockaddr *)&ss, s->addr, sizeof s->addr);
	uv_tcp_init(loop, &s->listener);
	uv_idle_init(loop, &s->turn);
	s->listener.data = s;
	s->turn.data = s;
	s->handles_open = 2;

	rv = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&s->listener, NET_LISTEN_BACKLOG,
			       server_connection_cb);
	if (rv != 0) {
		errmsg_printf(errmsg, "listen %s: %s", s->addr, uv_strerror(rv));
		goto err_after_init;
	}
	uint16_t bound_port;
	if (sockaddr_bound(&s->listener, s->addr, sizeof s->addr, &bound_port, errmsg) != 0)
		goto err_after_init;
	s->port = bound_port;
	SLOG_INFO(NET_MODULE, "msg=\"listening\" listener=%s", s->addr);
	*out = s;
	return 0;

err_after_init:
	/* The handles must close through the loop; the server frees itself when they have. */
	s->stopping = true;
	uv_close((uv_handle_t *)&s->listener, server_handle_close_cb);
	uv_close((uv_handle_t *)&s->turn, server_handle_close_cb);
	return SLUICE_EIO;
}

int net_server_port(const struct net_server *s)
{
	return s->port;
}

void net_server_stats(const struct net_server *s, struct net_stats *out)
{
	*out = s->stats;
	out->connections_open = s->conns_open;
}

void net_server_stop(struct net_server *s, void (*cb)(void *arg), void *arg)
{
	struct list_link *l;

	assert(!s->stopping);
	s->stopping = true;
	s->stop_cb = cb;
	s->stop_arg = arg;
	SLOG_INFO(NET_MODULE, "msg=\"stopping listener\" listener=%s connections=%" PRIu32, s->addr,
		  s->conns_open);
	uv_close((uv_handle_t *)&s->listener, server_handle_close_cb);
	/* conn_close() leaves conn_link in place until the close callback, so walking is safe. */
	for (l = s->conns.next; l != &s->conns; l = l->next) {
		struct net_conn *c = LIST_ENTRY(l, struct net_conn, conn_link);
		conn_close(c, SLOG_DEBUG, "server stopping");
	}
	assert(list_empty(&s->turn_list));
	uv_close((uv_handle_t *)&s->turn, server_handle_close_cb);
}
