/*
 * peer: node-to-node connections, HELLO, framing, coalesced writes, bounded queues, redial and
 * keepalive (see peer.h for the contract).
 *
 * Wire format, version PEER_FORMAT_VERSION, both directions, all integers big-endian. Every
 * frame is a 12-byte header and a payload:
 *
 *   offset  size  meaning
 *   0       4     L: payload length (DATA: 0..frame_bytes_max; HELLO: 20; KEEPALIVE: 0)
 *   4       2     channel (DATA: the caller's, e.g. PEER_CHANNEL_RAFT; HELLO, KEEPALIVE: 0)
 *   6       1     kind: 0 DATA, 1 HELLO, 2 KEEPALIVE
 *   7       1     reserved, zero
 *   8       4     header check: CRC-32C of bytes 0..7
 *   12      L     payload
 *
 * HELLO payload (the first frame each way; the dialer speaks first, the acceptor answers):
 *
 *   offset  size  meaning
 *   0       2     format version (PEER_FORMAT_VERSION)
 *   2       2     reserved, zero
 *   4       4     sender's node id
 *   8       4     receiver's node id as the sender believes it (catches a wrong address)
 *   12      8     cluster id hash
 *
 * Why a header check and no payload checksum: TCP and the link layer already checksum every
 * segment, and the payloads that matter (Kafka record batches inside raft entries) carry their
 * own CRC-32C, checked where they are stored. What TCP cannot catch is our own framing going out
 * of step, or something that is not a Sluice peer talking to the port; a CRC over the 8 header
 * bytes catches both before a garbage length is believed, for a cost independent of the payload.
 * A payload CRC would add a pass over every replicated byte on both ends of the loop thread.
 *
 * Happy path. peer_net_send() copies the frame (header and payload) into the node's queue of
 * chunks: small frames are packed into one chunk of up to PEER_CHUNK_BYTES, grown by realloc,
 * and a large frame gets a chunk of its own. An idle handle, started when a node with an
 * established connection gets something to send, runs once in the next loop turn and hands every
 * queued chunk of every such node to libuv in one uv_write (PEER_WRITE_CHUNKS_MAX iovecs at most
 * per write), so everything queued during a turn (heartbeats of many groups, replies to what was
 * read) leaves in one write. Reading uses one read buffer for the whole net (libuv calls alloc,
 * read and read_cb back to back, and the read callback consumes every byte); a payload that lies
 * whole in it is delivered from it without a copy, a longer one is assembled in its own buffer,
 * and once enough of it is missing the socket reads straight into that buffer.
 *
 * Failure modes, each closing only the connection concerned with a log line naming the node, its
 * address and the reason: a bad header check, reserved bits, unknown kind, a payload over
 * frame_bytes_max, a HELLO out of place or with the wrong version, cluster, node ids or
 * direction; read and write errors; the peer closing; idleness; a dial not completing in time;
 * out of memory. Inbound connections that have not said HELLO are limited to
 * PEER_PENDING_CONNS_MAX; more are accepted and closed at once. The dialling side redials after
 * every closed or failed connection, after a backoff that doubles from backoff_ms_min to
 * backoff_ms_max (reset once a connection is established), each delay drawn uniformly from
 * [backoff/2, backoff] so that nodes restarted together do not dial in lockstep.
 *
 * Invariants:
 *   1. Connection states move CONNECTING -> HANDSHAKE -> ESTABLISHED -> CLOSING, and from any
 *      state to CLOSING (conn_move checks the table).
 *   2. node->conn is NULL or a connection to that node that is not CLOSING; an inbound connection
 *      is attached to its node only once its HELLO is accepted, and is then ESTABLISHED.
 *   3. queued_bytes(node) = bytes of node->queue + bytes of node->conn's writes in flight, and a
 *      send is refused when it would take a non-empty queue above queue_bytes_max.
 *   4. Only ESTABLISHED connections write queued chunks; a node is on the flush list iff
 *      flush_scheduled.
 *   5. The net is freed only after peer_net_close(), when every handle has closed and every
 *      resolve request has called back.
 */
#include "peer/peer.h"

#include <arpa/inet.h>
#include <assert.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/codec.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "base/list.h"
#include "base/slog.h"
#include "net/sockaddr.h"

#define PEER_MODULE "peer"

/* Frame header and HELLO payload sizes (table above). */
#define PEER_HEADER_BYTES 12u
#define PEER_HELLO_BYTES 20u
/* One read(2) brings in at most this much; it bounds the copy of a partly read payload. */
#define PEER_READ_BUF_BYTES (64u * 1024u)
/* Small frames share chunks up to this size: big enough that a turn's heartbeats to a node take
 * one or two iovecs, small enough that an idle node's slack is negligible. */
#define PEER_CHUNK_BYTES (64u * 1024u)
/* First allocation of a chunk for small frames. */
#define PEER_CHUNK_BYTES_MIN 1024u
/* Chunks per uv_write; below Linux's IOV_MAX (1024) so libuv writes them with one writev. */
#define PEER_WRITE_CHUNKS_MAX 512u
/* Nodes one net knows: a cluster is a handful to a few hundred; lookups are linear. */
#define PEER_NODES_MAX 1024u
/* Inbound connections that have not said HELLO yet: bounds what a port scan costs us. */
#define PEER_PENDING_CONNS_MAX 64u
/* Pending connections the kernel queues for accept(2). */
#define PEER_LISTEN_BACKLOG 128
/* "host:port" or "[v6]:port" of a node or a socket, NUL included. */
#define PEER_ADDR_BYTES_MAX (PEER_HOST_BYTES_MAX + 9)

_Static_assert(PEER_WRITE_CHUNKS_MAX <= 1024, "one write's iovecs must fit IOV_MAX");
_Static_assert(PEER_CHUNK_BYTES_MIN <= PEER_CHUNK_BYTES, "chunks grow from min to max");

enum frame_kind { KIND_DATA = 0, KIND_HELLO = 1, KIND_KEEPALIVE = 2 };

/* Frames packed back to back, not yet handed to libuv (in node->queue) or being written (in a
 * peer_write). */
struct peer_chunk {
	struct list_link link;
	size_t len;
	size_t cap;
	uint32_t frames; /* DATA frames in it, for the counters */
	uint8_t data[];
};

enum conn_state {
	CONN_CONNECTING,
	CONN_HANDSHAKE,
	CONN_ESTABLISHED,
	CONN_CLOSING,
	CONN_STATE_COUNT
};

static const char *const conn_state_names[CONN_STATE_COUNT] = {
	"connecting",
	"handshake",
	"established",
	"closing",
};

static const bool conn_transitions[CONN_STATE_COUNT][CONN_STATE_COUNT] = {
	[CONN_CONNECTING][CONN_HANDSHAKE] = true,  [CONN_CONNECTING][CONN_CLOSING] = true,
	[CONN_HANDSHAKE][CONN_ESTABLISHED] = true, [CONN_HANDSHAKE][CONN_CLOSING] = true,
	[CONN_ESTABLISHED][CONN_CLOSING] = true,
};

struct peer_node;
struct peer_resolve;

struct peer_conn {
	struct peer_net *net;
	struct peer_node *node; /* outbound: the node dialled; inbound: NULL until its HELLO */
	bool outbound;
	enum conn_state state;
	uv_tcp_t tcp;
	uv_timer_t timer; /* dial/HELLO deadline, then keepalive and idle checks */
	uv_connect_t connect;
	struct peer_resolve *resolve; /* name resolution in flight, or NULL */
	unsigned handles_open;        /* of tcp and timer */
	uint64_t serial;              /* for logs */
	char addr[PEER_ADDR_BYTES_MAX];
	struct list_link link; /* in net->conns until freed */

	/* Framing: the header being collected, then the payload. */
	uint8_t hdr[PEER_HEADER_BYTES];
	unsigned hdr_have;
	bool in_body;
	uint8_t kind;
	uint16_t channel;
	uint32_t body_len;
	uint8_t *body; /* assembled payload, or NULL while none of it was copied */
	size_t body_have;

	uint64_t last_recv_ms;
	uint64_t last_send_ms;
	size_t inflight_bytes; /* of this connection's writes not yet completed */
};

struct peer_node {
	struct peer_net *net;
	uint32_t id;
	char host[PEER_HOST_BYTES_MAX + 1];
	uint16_t port;
	char addr[PEER_ADDR_BYTES_MAX]; /* host:port, for dials and logs ("" when unknown) */
	enum peer_dial dial;            /* who dials (peer.h) */
	struct peer_conn *conn;         /* invariant 2 */
	uv_timer_t redial;              /* dialling side: the backoff before the next dial */
	unsigned backoff_ms;            /* the next backoff */
	unsigned dial_failures;         /* since the last established connection, for logs */
	struct list_link queue;         /* of peer_chunk */
	size_t queued_bytes;            /* in queue (not in flight) */
	uint32_t queued_frames;         /* DATA frames in queue */
	bool flush_scheduled;
	struct list_link flush_link;
};

struct peer_resolve {
	uv_getaddrinfo_t req;
	struct peer_net *net;
	struct peer_conn *conn; /* NULL once the connection gave up on it */
};

struct peer_write {
	uv_write_t req;
	struct peer_conn *conn;
	struct list_link chunks;
	size_t bytes;
	uint32_t frames;
	uv_buf_t iov[];
};

/* The HELLO, written on its own before anything queued. */
struct peer_hello_write {
	uv_write_t req;
	struct peer_conn *conn;
	uint8_t bytes[PEER_HEADER_BYTES + PEER_HELLO_BYTES];
};

struct peer_net {
	uv_loop_t *loop;
	struct peer_config cfg;
	char listen_host[PEER_HOST_BYTES_MAX + 1];
	char listen_addr[PEER_ADDR_BYTES_MAX];
	peer_recv_cb recv;
	peer_link_cb link;
	void *arg;

	uv_tcp_t listener;
	bool listening;
	uint16_t port;
	uv_idle_t flush;
	struct list_link flush_list; /* of peer_node, invariant 4 */
	unsigned flush_count;

	struct peer_node **nodes;
	unsigned nodes_count;
	unsigned nodes_cap;
	struct list_link conns; /* every connection not yet freed */
	unsigned pending_inbound;

	unsigned handles_open;
	unsigned resolves_pending;
	bool closing;
	void (*close_cb)(void *arg);
	void *close_arg;

	struct peer_stats stats;
	uint64_t next_serial;
	uint64_t rng;
	bool rbuf_busy;
	uint8_t rbuf[PEER_READ_BUF_BYTES];
};

static void conn_close(struct peer_conn *c, enum slog_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void node_schedule_dial(struct peer_node *node);
static void node_schedule_flush(struct peer_node *node);
static void net_maybe_closed(struct peer_net *n);

void peer_config_default(struct peer_config *c)
{
	memset(c, 0, sizeof *c);
	c->frame_bytes_max = 16u * 1024u * 1024u;
	c->queue_bytes_max = 64u * 1024u * 1024u;
	c->backoff_ms_min = 50;
	c->backoff_ms_max = 2000;
	c->connect_timeout_ms = 2000;
	c->idle_timeout_ms = 10000;
}

/* ---------------------------------------------------------------------------------------------
 * Small helpers
 */

/* xorshift64*: jitter only, no need for more. */
static uint64_t net_random(struct peer_net *n)
{
	n->rng ^= n->rng >> 12;
	n->rng ^= n->rng << 25;
	n->rng ^= n->rng >> 27;
	return n->rng * 0x2545F4914F6CDD1DULL;
}

/* Fills `ss` from a numeric IPv4 or IPv6 host (brackets allowed). Returns false for a name. */
static bool numeric_addr(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
	char h[PEER_HOST_BYTES_MAX + 1];
	size_t len = strlen(host);

	memset(ss, 0, sizeof *ss);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']' && len - 2 < sizeof h) {
		memcpy(h, host + 1, len - 2);
		h[len - 2] = '\0';
		host = h;
	}
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
		return true;
	if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
		return true;
	return false;
}

static void header_put(uint8_t *p, uint32_t len, uint16_t channel, enum frame_kind kind)
{
	be32_put(p, len);
	be16_put(p + 4, channel);
	p[6] = (uint8_t)kind;
	p[7] = 0;
	be32_put(p + 8, crc32c(0, p, 8));
}

static struct peer_node *node_find(const struct peer_net *n, uint32_t id)
{
	for (unsigned i = 0; i < n->nodes_count; i++)
		if (n->nodes[i]->id == id)
			return n->nodes[i];
	return NULL;
}

/* Whether we dial this node (peer.h, enum peer_dial); never without an address. */
static bool node_we_dial(const struct peer_node *node)
{
	switch (node->dial) {
	case PEER_DIAL_OUT:
		return node->port != 0;
	case PEER_DIAL_IN:
		return false;
	default:
		return node->port != 0 && node->net->cfg.node_id < node->id;
	}
}

static struct peer_node *node_new(struct peer_net *n, uint32_t id, const char *host,
				  uint16_t port, enum peer_dial dial);

/* Bytes that count against queue_bytes_max for `node` (invariant 3). */
static size_t node_held_bytes(const struct peer_node *node)
{
	return node->queued_bytes + (node->conn != NULL ? node->conn->inflight_bytes : 0);
}

/* ---------------------------------------------------------------------------------------------
 * Queues
 */

static void chunks_free(struct list_link *list)
{
	while (!list_empty(list)) {
		struct peer_chunk *ch = LIST_ENTRY(list->next, struct peer_chunk, link);
		list_remove(&ch->link);
		free(ch);
	}
}

/* Discards everything queued for `node` (its connection was lost, or the net is closing). */
static void node_drop_queue(struct peer_node *node)
{
	node->net->stats.dropped_lost += node->queued_frames;
	chunks_free(&node->queue);
	node->queued_bytes = 0;
	node->queued_frames = 0;
}

/* Returns the chunk a frame of `size` bytes goes into: the queue's last one if it has or can
 * grow the room, else a new one at the tail. NULL when out of memory. */
static struct peer_chunk *queue_room(struct peer_node *node, size_t size)
{
	struct peer_chunk *tail = NULL;

	if (!list_empty(&node->queue))
		tail = LIST_ENTRY(node->queue.prev, struct peer_chunk, link);
	if (tail != NULL && size <= tail->cap - tail->len)
		return tail;
	if (tail != NULL && tail->len < PEER_CHUNK_BYTES && size <= PEER_CHUNK_BYTES - tail->len) {
		/* Grow the tail: it is not being written, so it may move. */
		size_t cap = tail->cap * 2;
		if (cap < tail->len + size)
			cap = tail->len + size;
		if (cap > PEER_CHUNK_BYTES)
			cap = PEER_CHUNK_BYTES;
		list_remove(&tail->link);
		struct peer_chunk *grown = realloc(tail, sizeof *grown + cap);
		if (grown != NULL) {
			grown->cap = cap;
			list_insert_tail(&node->queue, &grown->link);
			return grown;
		}
		list_insert_tail(&node->queue, &tail->link);
	}
	size_t cap = size < PEER_CHUNK_BYTES_MIN ? PEER_CHUNK_BYTES_MIN : size;
	struct peer_chunk *ch = malloc(sizeof *ch + cap);
	if (ch == NULL)
		return NULL;
	ch->len = 0;
	ch->cap = cap;
	ch->frames = 0;
	list_insert_tail(&node->queue, &ch->link);
	return ch;
}

/* Appends one frame (header, then the iov's `len` bytes) to `node`'s queue. Returns 0 or
 * SLUICE_ENOMEM. */
static int queue_frame(struct peer_node *node, enum frame_kind kind, uint16_t channel,
		       const struct iovec *iov, int iovcnt, size_t len)
{
	size_t size = PEER_HEADER_BYTES + len;
	struct peer_chunk *ch = queue_room(node, size);

	if (ch == NULL)
		return SLUICE_ENOMEM;
	assert(ch->cap - ch->len >= size);
	uint8_t *p = ch->data + ch->len;
	header_put(p, (uint32_t)len, channel, kind);
	p += PEER_HEADER_BYTES;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0)
			memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	ch->len += size;
	node->queued_bytes += size;
	if (kind == KIND_DATA) {
		ch->frames++;
		node->queued_frames++;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Connections: state, lifetime, closing
 */

static void conn_move(struct peer_conn *c, enum conn_state to)
{
	assert(conn_transitions[c->state][to]);
	c->state = to;
}

static bool conn_live(const struct peer_conn *c)
{
	return c->state == CONN_HANDSHAKE || c->state == CONN_ESTABLISHED;
}

static void conn_close_cb(uv_handle_t *h)
{
	struct peer_conn *c = h->data;
	struct peer_net *n = c->net;

	assert(c->state == CONN_CLOSING && c->handles_open > 0 && n->handles_open > 0);
	n->handles_open--;
	if (--c->handles_open > 0)
		return;
	/* Writes were cancelled (their callbacks ran) before the stream's close callback. */
	assert(c->inflight_bytes == 0 && c->body == NULL && c->resolve == NULL);
	list_remove(&c->link);
	free(c);
	net_maybe_closed(n);
}

/* Starts closing `c`, logging the reason (printf-style) at `level`. When it was the node's
 * established connection: counts the loss, drops the node's queue (invariant 1 of peer.h) and
 * tells the link callback. The dialling side schedules a redial. Does nothing if `c` is already
 * closing. */
static void conn_close(struct peer_conn *c, enum slog_level level, const char *fmt, ...)
{
	struct peer_net *n = c->net;
	struct peer_node *node = c->node;
	char reason[256];
	va_list ap;

	if (c->state == CONN_CLOSING)
		return;
	bool was_established = c->state == CONN_ESTABLISHED;
	enum conn_state from = c->state;
	conn_move(c, CONN_CLOSING);

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	if (slog_get_level() <= level) {
		char id[16] = "?";
		if (node != NULL)
			snprintf(id, sizeof id, "%" PRIu32, node->id);
		slog_write(level, PEER_MODULE,
			   "msg=\"connection closed\" node=%s addr=%s conn=%" PRIu64
			   " dir=%s state=%s reason=\"%s\"",
			   id, c->addr, c->serial, c->outbound ? "out" : "in",
			   conn_state_names[from], reason);
	}

	if (!c->outbound && node == NULL) {
		assert(n->pending_inbound > 0);
		n->pending_inbound--;
	}
	if (c->resolve != NULL) {
		c->resolve->conn = NULL;
		uv_cancel((uv_req_t *)&c->resolve->req);
		c->resolve = NULL;
	}
	free(c->body);
	c->body = NULL;
	uv_close((uv_handle_t *)&c->tcp, conn_close_cb);
	uv_close((uv_handle_t *)&c->timer, conn_close_cb);

	if (node == NULL || node->conn != c)
		return;
	node->conn = NULL;
	if (was_established) {
		n->stats.disconnects++;
		node_drop_queue(node);
	} else if (c->outbound) {
		node->dial_failures++;
	}
	if (n->closing)
		return;
	if (c->outbound)
		node_schedule_dial(node);
	if (was_established && n->link != NULL)
		n->link(n->arg, node->id, false);
}

/* Closes `c` for breaking the protocol: counted, logged at WARN with the reason. */
#define conn_reject(c, ...)                                                                        \
	do {                                                                                       \
		(c)->net->stats.rejected++;                                                        \
		conn_close((c), SLOG_WARN, __VA_ARGS__);                                           \
	} while (0)

/* Allocates a connection with its handles initialised (they must be closed with conn_close).
 * NULL when out of memory. */
static struct peer_conn *conn_new(struct peer_net *n, bool outbound)
{
	struct peer_conn *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->net = n;
	c->outbound = outbound;
	c->state = outbound ? CONN_CONNECTING : CONN_HANDSHAKE;
	c->serial = ++n->next_serial;
	snprintf(c->addr, sizeof c->addr, "?");
	uv_tcp_init(n->loop, &c->tcp);
	uv_timer_init(n->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->handles_open = 2;
	n->handles_open += 2;
	list_insert_tail(&n->conns, &c->link);
	return c;
}

/* ---------------------------------------------------------------------------------------------
 * Writing: HELLO, flushing queues once per turn, keepalives
 */

static void hello_write_cb(uv_write_t *req, int status)
{
	struct peer_hello_write *hw = req->data;
	struct peer_conn *c = hw->conn;

	if (status == 0)
		c->net->stats.bytes_sent += sizeof hw->bytes;
	free(hw);
	if (status < 0 && status != UV_ECANCELED)
		conn_close(c, SLOG_INFO, "HELLO write failed: %s", uv_strerror(status));
}

/* Writes our HELLO to `c`, addressed to node `to`. Returns false if `c` was closed. */
static bool hello_send(struct peer_conn *c, uint32_t to)
{
	struct peer_net *n = c->net;
	struct peer_hello_write *hw = malloc(sizeof *hw);

	if (hw == NULL) {
		conn_close(c, SLOG_ERROR, "out of memory for a HELLO");
		return false;
	}
	hw->req.data = hw;
	hw->conn = c;
	header_put(hw->bytes, PEER_HELLO_BYTES, 0, KIND_HELLO);
	uint8_t *p = hw->bytes + PEER_HEADER_BYTES;
	be16_put(p, PEER_FORMAT_VERSION);
	be16_put(p + 2, 0);
	be32_put(p + 4, n->cfg.node_id);
	be32_put(p + 8, to);
	be64_put(p + 12, n->cfg.cluster_id_hash);
	uv_buf_t b = uv_buf_init((char *)hw->bytes, sizeof hw->bytes);
	int rv = uv_write(&hw->req, (uv_stream_t *)&c->tcp, &b, 1, hello_write_cb);
	if (rv != 0) {
		free(hw);
		conn_close(c, SLOG_INFO, "cannot write HELLO: %s", uv_strerror(rv));
		return false;
	}
	c->last_send_ms = uv_now(n->loop);
	return true;
}

static void write_cb(uv_write_t *req, int status)
{
	struct peer_write *w = req->data;
	struct peer_conn *c = w->conn;
	struct peer_net *n = c->net;

	chunks_free(&w->chunks);
	assert(c->inflight_bytes >= w->bytes);
	c->inflight_bytes -= w->bytes;
	if (status == 0) {
		n->stats.frames_sent += w->frames;
		n->stats.bytes_sent += w->bytes;
	} else {
		n->stats.dropped_lost += w->frames;
	}
	free(w);
	if (status < 0 && status != UV_ECANCELED)
		conn_close(c, SLOG_INFO, "write failed: %s", uv_strerror(status));
}

/* Hands every chunk queued for c's node to libuv, PEER_WRITE_CHUNKS_MAX per write. Closes `c`
 * on failure. */
static void conn_flush(struct peer_conn *c)
{
	struct peer_net *n = c->net;
	struct peer_node *node = c->node;

	assert(c->state == CONN_ESTABLISHED && node->conn == c);
	while (!list_empty(&node->queue)) {
		unsigned count = 0;
		for (struct list_link *l = node->queue.next;
		     l != &node->queue && count < PEER_WRITE_CHUNKS_MAX; l = l->next)
			count++;
		struct peer_write *w = malloc(sizeof *w + count * sizeof(uv_buf_t));
		if (w == NULL) {
			conn_close(c, SLOG_ERROR, "out of memory for a write");
			return;
		}
		w->req.data = w;
		w->conn = c;
		w->bytes = 0;
		w->frames = 0;
		list_init(&w->chunks);
		for (unsigned i = 0; i < count; i++) {
			struct peer_chunk *ch = LIST_ENTRY(node->queue.next, struct peer_chunk,
							   link);
			list_remove(&ch->link);
			list_insert_tail(&w->chunks, &ch->link);
			w->iov[i] = uv_buf_init((char *)ch->data, (unsigned)ch->len);
			w->bytes += ch->len;
			w->frames += ch->frames;
		}
		assert(node->queued_bytes >= w->bytes && node->queued_frames >= w->frames);
		node->queued_bytes -= w->bytes;
		node->queued_frames -= w->frames;
		c->inflight_bytes += w->bytes;
		int rv = uv_write(&w->req, (uv_stream_t *)&c->tcp, w->iov, count, write_cb);
		if (rv != 0) {
			c->inflight_bytes -= w->bytes;
			n->stats.dropped_lost += w->frames;
			chunks_free(&w->chunks);
			free(w);
			conn_close(c, SLOG_INFO, "cannot write: %s", uv_strerror(rv));
			return;
		}
		n->stats.writes++;
		c->last_send_ms = uv_now(n->loop);
	}
}

/* Once per loop turn while nodes wait: write what each node with an established connection has
 * queued. Only the nodes scheduled before the turn began are served, so the turn is bounded. */
static void flush_cb(uv_idle_t *idle)
{
	struct peer_net *n = idle->data;
	unsigned budget = n->flush_count;

	while (budget-- > 0 && !list_empty(&n->flush_list)) {
		struct peer_node *node = LIST_ENTRY(n->flush_list.next, struct peer_node,
						    flush_link);
		list_remove(&node->flush_link);
		node->flush_scheduled = false;
		n->flush_count--;
		if (node->conn != NULL && node->conn->state == CONN_ESTABLISHED)
			conn_flush(node->conn);
	}
	if (list_empty(&n->flush_list))
		uv_idle_stop(&n->flush);
}

/* Puts `node` on the flush list if its connection is established (invariant 4). */
static void node_schedule_flush(struct peer_node *node)
{
	struct peer_net *n = node->net;

	if (node->flush_scheduled || n->closing || node->conn == NULL ||
	    node->conn->state != CONN_ESTABLISHED)
		return;
	node->flush_scheduled = true;
	list_insert_tail(&n->flush_list, &node->flush_link);
	n->flush_count++;
	if (!uv_is_active((uv_handle_t *)&n->flush))
		uv_idle_start(&n->flush, flush_cb);
}

/* Every third of idle_timeout_ms on an established connection: close it if nothing arrived for
 * idle_timeout_ms, send a keepalive if we have been quiet. */
static void keepalive_cb(uv_timer_t *t)
{
	struct peer_conn *c = t->data;
	struct peer_net *n = c->net;
	uint64_t now = uv_now(n->loop);
	uint64_t idle_ms = n->cfg.idle_timeout_ms;
	uint64_t interval_ms = uv_timer_get_repeat(t);

	assert(c->state == CONN_ESTABLISHED);
	if (now - c->last_recv_ms >= idle_ms) {
		conn_close(c, SLOG_WARN,
			   "nothing received for %" PRIu64 " ms, limit %" PRIu64 " ms",
			   now - c->last_recv_ms, idle_ms);
		return;
	}
	/* Half an interval, so timer slack never stretches our silence to the peer's limit. */
	if (now - c->last_send_ms >= interval_ms / 2 && list_empty(&c->node->queue) &&
	    c->inflight_bytes == 0) {
		if (queue_frame(c->node, KIND_KEEPALIVE, 0, NULL, 0, 0) != 0) {
			conn_close(c, SLOG_ERROR, "out of memory for a keepalive");
			return;
		}
		node_schedule_flush(c->node);
	}
}

/* ---------------------------------------------------------------------------------------------
 * Handshake
 */

/* The HELLOs are exchanged: the connection carries data from now on. */
static void conn_establish(struct peer_conn *c)
{
	struct peer_net *n = c->net;
	struct peer_node *node = c->node;
	uint64_t now = uv_now(n->loop);

	conn_move(c, CONN_ESTABLISHED);
	uv_timer_stop(&c->timer);
	if (n->cfg.idle_timeout_ms > 0) {
		uint64_t interval_ms = n->cfg.idle_timeout_ms / 3 > 0 ? n->cfg.idle_timeout_ms / 3 :
									1;
		uv_timer_start(&c->timer, keepalive_cb, interval_ms, interval_ms);
	}
	c->last_recv_ms = now;
	n->stats.connects++;
	SLOG_INFO(PEER_MODULE,
		  "msg=\"connected\" node=%" PRIu32 " addr=%s conn=%" PRIu64
		  " dir=%s failed_dials=%u",
		  node->id, c->addr, c->serial, c->outbound ? "out" : "in", node->dial_failures);
	node->backoff_ms = n->cfg.backoff_ms_min;
	node->dial_failures = 0;
	node_schedule_flush(node);
	if (n->link != NULL)
		n->link(n->arg, node->id, true);
}

/* A HELLO arrived on `c` (in HANDSHAKE): check it against our configuration (peer.h), attach an
 * inbound connection to its node, answer it, and establish. */
static void hello_recv(struct peer_conn *c, const uint8_t *p)
{
	struct peer_net *n = c->net;
	uint16_t version = be16_get(p);
	uint16_t reserved = be16_get(p + 2);
	uint32_t from = be32_get(p + 4);
	uint32_t to = be32_get(p + 8);
	uint64_t cluster = be64_get(p + 12);
	uint32_t self = n->cfg.node_id;

	assert(c->state == CONN_HANDSHAKE);
	if (version != PEER_FORMAT_VERSION) {
		conn_reject(c, "HELLO from node %" PRIu32 ": format version %u, ours %d", from,
			    version, PEER_FORMAT_VERSION);
		return;
	}
	if (cluster != n->cfg.cluster_id_hash) {
		conn_reject(c,
			    "HELLO from node %" PRIu32 ": cluster id hash %016" PRIx64
			    ", ours %016" PRIx64,
			    from, cluster, n->cfg.cluster_id_hash);
		return;
	}
	if (reserved != 0) {
		conn_reject(c, "HELLO from node %" PRIu32 ": reserved field %u", from, reserved);
		return;
	}
	if (to != self) {
		conn_reject(c,
			    "HELLO from node %" PRIu32 " meant for node %" PRIu32
			    ", we are %" PRIu32,
			    from, to, self);
		return;
	}
	if (c->outbound) {
		if (from != c->node->id) {
			conn_reject(c, "HELLO answered by node %" PRIu32 ", dialled node %" PRIu32,
				    from, c->node->id);
			return;
		}
		conn_establish(c);
		return;
	}

	struct peer_node *node = node_find(n, from);
	if (node == NULL && n->cfg.accept_unknown && from != 0 && from != self) {
		/* A node that knows us before we know it (one joining the cluster): it dials. */
		node = node_new(n, from, NULL, 0, PEER_DIAL_IN);
		if (node == NULL) {
			conn_reject(c, "HELLO from node %" PRIu32 ": cannot add it (%u nodes known)",
				    from, n->nodes_count);
			return;
		}
	}
	if (node == NULL) {
		conn_reject(c, "HELLO from unknown node %" PRIu32, from);
		return;
	}
	if (node_we_dial(node)) {
		conn_reject(c,
			    "HELLO from node %" PRIu32 ", which we dial (%s): it must wait for us",
			    from, node->dial == PEER_DIAL_OUT ? "it joined through us" :
							       "its id is above ours");
		return;
	}
	if (node->conn != NULL) {
		/* The peer dials only when it has no connection: the old one is dead to it. */
		assert(node->conn->state == CONN_ESTABLISHED && !node->conn->outbound);
		conn_close(node->conn, SLOG_INFO, "replaced by a new connection from the node");
		if (n->closing || c->state != CONN_HANDSHAKE)
			return; /* the link callback closed the net */
	}
	assert(node->conn == NULL);
	n->pending_inbound--;
	node->conn = c;
	c->node = node;
	if (!hello_send(c, from))
		return;
	conn_establish(c);
}

/* ---------------------------------------------------------------------------------------------
 * Reading and framing
 */

static void conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
	struct peer_conn *c = h->data;
	struct peer_net *n = c->net;

	(void)suggested;
	assert(!n->rbuf_busy);
	n->rbuf_busy = true;
	if (c->in_body && c->body != NULL && c->body_len - c->body_have >= PEER_READ_BUF_BYTES) {
		*out = uv_buf_init((char *)c->body + c->body_have,
				   (unsigned)(c->body_len - c->body_have));
		return;
	}
	*out = uv_buf_init((char *)n->rbuf, sizeof n->rbuf);
}

/* The header is complete: validate it. Returns false if `c` was closed. */
static bool frame_start(struct peer_conn *c)
{
	const uint8_t *h = c->hdr;
	uint32_t len = be32_get(h);
	uint16_t channel = be16_get(h + 4);
	uint8_t kind = h[6];

	c->hdr_have = 0;
	if (be32_get(h + 8) != crc32c(0, h, 8)) {
		conn_reject(c, "bad frame header check (not a Sluice peer, or out of step)");
		return false;
	}
	if (h[7] != 0) {
		conn_reject(c, "frame header reserved byte %u", h[7]);
		return false;
	}
	switch (kind) {
	case KIND_DATA:
		if (c->state != CONN_ESTABLISHED) {
			conn_reject(c, "data frame before HELLO");
			return false;
		}
		if (len > c->net->cfg.frame_bytes_max) {
			conn_reject(c,
				    "frame of %" PRIu32 " bytes on channel %u exceeds "
				    "frame_bytes_max %zu",
				    len, channel, c->net->cfg.frame_bytes_max);
			return false;
		}
		break;
	case KIND_HELLO:
		if (c->state != CONN_HANDSHAKE) {
			conn_reject(c, "second HELLO");
			return false;
		}
		if (len != PEER_HELLO_BYTES || channel != 0) {
			conn_reject(c, "HELLO of %" PRIu32 " bytes on channel %u", len, channel);
			return false;
		}
		break;
	case KIND_KEEPALIVE:
		if (c->state != CONN_ESTABLISHED) {
			conn_reject(c, "keepalive before HELLO");
			return false;
		}
		if (len != 0 || channel != 0) {
			conn_reject(c, "keepalive of %" PRIu32 " bytes on channel %u", len,
				    channel);
			return false;
		}
		break;
	default:
		conn_reject(c, "frame kind %u unknown", kind);
		return false;
	}
	c->in_body = true;
	c->kind = kind;
	c->channel = channel;
	c->body_len = len;
	c->body_have = 0;
	assert(c->body == NULL);
	return true;
}

/* A whole frame's payload `p` arrived (frame_start validated its header and the state). */
static void frame_deliver(struct peer_conn *c, const uint8_t *p, size_t len)
{
	struct peer_net *n = c->net;

	switch (c->kind) {
	case KIND_HELLO:
		hello_recv(c, p);
		break;
	case KIND_KEEPALIVE:
		break; /* its arrival already counted as activity */
	case KIND_DATA:
		n->stats.frames_recv++;
		n->recv(n->arg, c->node->id, c->channel, p, len);
		break;
	default:
		assert(0 && "frame_start admits only known kinds");
	}
}

/* The payload being assembled in c->body is complete: detach it (the callback may close `c`,
 * which frees a partial body) and deliver it. */
static void frame_body_done(struct peer_conn *c)
{
	uint8_t *body = c->body;

	assert(c->in_body && c->body_have == c->body_len);
	c->body = NULL;
	c->in_body = false;
	frame_deliver(c, body, c->body_len);
	free(body);
}

static void conn_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *ub)
{
	struct peer_conn *c = stream->data;
	struct peer_net *n = c->net;

	/* libuv may report an error or EOF without having asked for a buffer (a reset
	 * connection: ub->base is NULL then), so only a call that got the buffer returns it. */
	if (ub != NULL && ub->base != NULL) {
		assert(n->rbuf_busy);
		n->rbuf_busy = false;
	}
	if (nread == 0)
		return; /* EAGAIN */
	if (nread < 0) {
		if (nread == UV_EOF)
			conn_close(c, c->state == CONN_ESTABLISHED ? SLOG_INFO : SLOG_WARN,
				   "peer closed the connection");
		else
			conn_close(c, SLOG_INFO, "read failed: %s", uv_strerror((int)nread));
		return;
	}
	assert(conn_live(c));
	n->stats.bytes_recv += (uint64_t)nread;
	c->last_recv_ms = uv_now(n->loop);

	if ((uint8_t *)ub->base != n->rbuf) {
		/* Read straight into the payload (conn_alloc_cb). */
		assert(c->body != NULL && (uint8_t *)ub->base == c->body + c->body_have);
		c->body_have += (size_t)nread;
		assert(c->body_have <= c->body_len);
		if (c->body_have == c->body_len)
			frame_body_done(c);
		return;
	}

	/* Every byte is consumed before returning: the buffer is shared by all connections. */
	const uint8_t *p = n->rbuf;
	size_t left = (size_t)nread;
	while (conn_live(c)) {
		if (!c->in_body) {
			if (left == 0)
				break;
			size_t take = PEER_HEADER_BYTES - c->hdr_have;
			if (take > left)
				take = left;
			memcpy(c->hdr + c->hdr_have, p, take);
			c->hdr_have += (unsigned)take;
			p += take;
			left -= take;
			if (c->hdr_have < PEER_HEADER_BYTES)
				break;
			if (!frame_start(c))
				return;
		}
		if (c->body == NULL && c->body_len <= left) {
			/* The whole payload is in the read buffer: no copy. */
			const uint8_t *body = p;
			p += c->body_len;
			left -= c->body_len;
			c->in_body = false;
			frame_deliver(c, body, c->body_len);
			continue;
		}
		if (left == 0)
			break;
		if (c->body == NULL) {
			c->body = malloc(c->body_len);
			if (c->body == NULL) {
				conn_close(c, SLOG_ERROR,
					   "out of memory for a frame of %" PRIu32 " bytes",
					   c->body_len);
				return;
			}
		}
		size_t take = c->body_len - c->body_have;
		if (take > left)
			take = left;
		memcpy(c->body + c->body_have, p, take);
		c->body_have += take;
		p += take;
		left -= take;
		if (c->body_have == c->body_len)
			frame_body_done(c);
	}
}

static bool conn_read_start(struct peer_conn *c)
{
	int rv = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb, conn_read_cb);

	if (rv != 0) {
		conn_close(c, SLOG_ERROR, "cannot read: %s", uv_strerror(rv));
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------------------------------------
 * Dialling
 */

/* The dial or the HELLO exchange took longer than connect_timeout_ms. */
static void handshake_timeout_cb(uv_timer_t *t)
{
	struct peer_conn *c = t->data;

	assert(c->state == CONN_CONNECTING || c->state == CONN_HANDSHAKE);
	conn_close(c, c->outbound && c->node->dial_failures > 0 ? SLOG_DEBUG : SLOG_WARN,
		   "%s did not complete in %u ms",
		   c->state == CONN_CONNECTING ? "connect" : "HELLO exchange",
		   c->net->cfg.connect_timeout_ms);
}

static void connect_cb(uv_connect_t *req, int status)
{
	struct peer_conn *c = req->data;

	if (status == UV_ECANCELED || c->state != CONN_CONNECTING)
		return; /* closing */
	if (status < 0) {
		conn_close(c, c->node->dial_failures > 0 ? SLOG_DEBUG : SLOG_INFO,
			   "connect failed: %s", uv_strerror(status));
		return;
	}
	conn_move(c, CONN_HANDSHAKE);
	/* Frames are written whole per turn; Nagle would only delay the last segment. */
	uv_tcp_nodelay(&c->tcp, 1);
	if (hello_send(c, c->node->id))
		conn_read_start(c);
}

static void connect_to(struct peer_conn *c, const struct sockaddr *sa)
{
	c->connect.data = c;
	int rv = uv_tcp_connect(&c->connect, &c->tcp, sa, connect_cb);

	if (rv != 0)
		conn_close(c, c->node->dial_failures > 0 ? SLOG_DEBUG : SLOG_INFO,
			   "cannot connect: %s", uv_strerror(rv));
}

static void resolve_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct peer_resolve *r = req->data;
	struct peer_net *n = r->net;
	struct peer_conn *c = r->conn;

	free(r);
	assert(n->resolves_pending > 0);
	n->resolves_pending--;
	if (c == NULL) {
		/* The connection gave up on the name (closed, or the net is closing). */
		uv_freeaddrinfo(res);
		net_maybe_closed(n);
		return;
	}
	assert(c->state == CONN_CONNECTING);
	c->resolve = NULL;
	if (status < 0 || res == NULL) {
		conn_close(c, c->node->dial_failures > 0 ? SLOG_DEBUG : SLOG_WARN,
			   "cannot resolve host: %s",
			   status < 0 ? uv_strerror(status) : "no address");
		uv_freeaddrinfo(res);
		return;
	}
	connect_to(c, res->ai_addr);
	uv_freeaddrinfo(res);
}

/* Starts a dial to `node`: resolve (if the host is a name), connect, HELLO, all within
 * connect_timeout_ms. */
static void node_dial(struct peer_node *node)
{
	struct peer_net *n = node->net;
	struct sockaddr_storage ss;

	assert(node_we_dial(node) && node->conn == NULL && !n->closing);
	struct peer_conn *c = conn_new(n, true);
	if (c == NULL) {
		SLOG_ERROR(PEER_MODULE,
			   "msg=\"out of memory for a connection\" node=%" PRIu32 " addr=%s",
			   node->id, node->addr);
		node_schedule_dial(node);
		return;
	}
	c->node = node;
	node->conn = c;
	snprintf(c->addr, sizeof c->addr, "%s", node->addr);
	SLOG_DEBUG(PEER_MODULE, "msg=\"dialling\" node=%" PRIu32 " addr=%s conn=%" PRIu64, node->id,
		   node->addr, c->serial);
	if (n->cfg.connect_timeout_ms > 0)
		uv_timer_start(&c->timer, handshake_timeout_cb, n->cfg.connect_timeout_ms, 0);
	if (numeric_addr(node->host, node->port, &ss)) {
		connect_to(c, (struct sockaddr *)&ss);
		return;
	}

	struct peer_resolve *r = malloc(sizeof *r);
	char port[8];
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	if (r == NULL) {
		conn_close(c, SLOG_ERROR, "out of memory for a name resolution");
		return;
	}
	r->req.data = r;
	r->net = n;
	r->conn = c;
	snprintf(port, sizeof port, "%u", (unsigned)node->port);
	int rv = uv_getaddrinfo(n->loop, &r->req, resolve_cb, node->host, port, &hints);
	if (rv != 0) {
		free(r);
		conn_close(c, SLOG_WARN, "cannot resolve host: %s", uv_strerror(rv));
		return;
	}
	c->resolve = r;
	n->resolves_pending++;
}

static void redial_cb(uv_timer_t *t)
{
	struct peer_node *node = t->data;

	if (node->conn == NULL && !node->net->closing)
		node_dial(node);
}

/* Arms the redial timer with the current backoff, jittered, and doubles the backoff. */
static void node_schedule_dial(struct peer_node *node)
{
	struct peer_net *n = node->net;

	if (n->closing || !node_we_dial(node))
		return;
	unsigned backoff = node->backoff_ms;
	uint64_t delay = backoff / 2 + net_random(n) % (backoff - backoff / 2 + 1);
	node->backoff_ms = backoff >= n->cfg.backoff_ms_max / 2 ? n->cfg.backoff_ms_max :
								  backoff * 2;
	uv_timer_start(&node->redial, redial_cb, delay, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Accepting
 */

static void reject_close_cb(uv_handle_t *h)
{
	struct peer_net *n = h->data;

	free(h);
	assert(n->handles_open > 0);
	n->handles_open--;
	net_maybe_closed(n);
}

/* Accepts the waiting connection and closes it at once (too many pending, or no memory). */
static void listener_reject(struct peer_net *n, const char *why)
{
	uv_tcp_t *t = malloc(sizeof *t);

	if (t == NULL) {
		SLOG_ERROR(PEER_MODULE, "msg=\"out of memory rejecting a connection\" listener=%s",
			   n->listen_addr);
		return;
	}
	uv_tcp_init(n->loop, t);
	t->data = n;
	n->handles_open++;
	if (uv_accept((uv_stream_t *)&n->listener, (uv_stream_t *)t) == 0)
		SLOG_WARN(PEER_MODULE, "msg=\"connection refused\" listener=%s reason=\"%s\"",
			  n->listen_addr, why);
	uv_close((uv_handle_t *)t, reject_close_cb);
}

static void listener_connection_cb(uv_stream_t *listener, int status)
{
	struct peer_net *n = listener->data;
	struct sockaddr_storage ss;
	int len = (int)sizeof ss;

	if (status < 0) {
		SLOG_WARN(PEER_MODULE, "msg=\"accept failed\" listener=%s error=\"%s\"",
			  n->listen_addr, uv_strerror(status));
		return;
	}
	if (n->pending_inbound >= PEER_PENDING_CONNS_MAX) {
		listener_reject(n, "too many connections waiting for HELLO");
		return;
	}
	struct peer_conn *c = conn_new(n, false);
	if (c == NULL) {
		listener_reject(n, "out of memory");
		return;
	}
	n->pending_inbound++;
	int rv = uv_accept(listener, (uv_stream_t *)&c->tcp);
	if (rv != 0) {
		conn_close(c, SLOG_WARN, "accept failed: %s", uv_strerror(rv));
		return;
	}
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
		sockaddr_format((struct sockaddr *)&ss, c->addr, sizeof c->addr);
	uv_tcp_nodelay(&c->tcp, 1);
	c->last_recv_ms = uv_now(n->loop);
	if (n->cfg.connect_timeout_ms > 0)
		uv_timer_start(&c->timer, handshake_timeout_cb, n->cfg.connect_timeout_ms, 0);
	SLOG_DEBUG(PEER_MODULE, "msg=\"connection accepted\" addr=%s conn=%" PRIu64, c->addr,
		   c->serial);
	conn_read_start(c);
}

/* ---------------------------------------------------------------------------------------------
 * The net
 */

static void net_maybe_closed(struct peer_net *n)
{
	if (!n->closing || n->handles_open > 0 || n->resolves_pending > 0)
		return;
	assert(list_empty(&n->conns));
	for (unsigned i = 0; i < n->nodes_count; i++) {
		assert(list_empty(&n->nodes[i]->queue) && n->nodes[i]->conn == NULL);
		free(n->nodes[i]);
	}
	free(n->nodes);
	void (*cb)(void *) = n->close_cb;
	void *arg = n->close_arg;
	free(n);
	if (cb != NULL)
		cb(arg);
}

/* Close callback of the listener and the flush handle (data: the net). */
static void net_handle_close_cb(uv_handle_t *h)
{
	struct peer_net *n = h->data;

	assert(n->handles_open > 0);
	n->handles_open--;
	net_maybe_closed(n);
}

/* Close callback of a node's redial timer (data: the node). */
static void node_redial_close_cb(uv_handle_t *h)
{
	struct peer_node *node = h->data;
	struct peer_net *n = node->net;

	assert(n->handles_open > 0);
	n->handles_open--;
	net_maybe_closed(n);
}

static int config_check(const struct peer_config *cfg, char *errmsg)
{
	if (cfg->node_id == 0) {
		errmsg_printf(errmsg, "node_id must be positive");
		return SLUICE_EINVAL;
	}
	if (cfg->frame_bytes_max == 0 || cfg->frame_bytes_max > UINT32_MAX) {
		errmsg_printf(errmsg, "frame_bytes_max %zu outside 1..%" PRIu32,
			      cfg->frame_bytes_max, UINT32_MAX);
		return SLUICE_EINVAL;
	}
	if (cfg->queue_bytes_max == 0) {
		errmsg_printf(errmsg, "queue_bytes_max must be positive");
		return SLUICE_EINVAL;
	}
	if (cfg->backoff_ms_min == 0 || cfg->backoff_ms_min > cfg->backoff_ms_max) {
		errmsg_printf(errmsg, "backoff_ms_min %u must be in 1..backoff_ms_max (%u)",
			      cfg->backoff_ms_min, cfg->backoff_ms_max);
		return SLUICE_EINVAL;
	}
	if (cfg->listen_host != NULL && strlen(cfg->listen_host) > PEER_HOST_BYTES_MAX) {
		errmsg_printf(errmsg, "listen host longer than %d bytes", PEER_HOST_BYTES_MAX);
		return SLUICE_EINVAL;
	}
	return 0;
}

/* Binds and listens on cfg's host and port. Returns 0 or SLUICE_EINVAL / SLUICE_EIO. */
static int net_listen(struct peer_net *n, char *errmsg)
{
	struct sockaddr_storage ss;
	const char *host = n->listen_host[0] != '\0' ? n->listen_host : "0.0.0.0";
	int rv;

	errmsg_t why = "";
	rv = sockaddr_listen(host, n->cfg.listen_port, &ss, why);
	if (rv != 0) {
		errmsg_printf(errmsg, "listen %s:%u: %s", host, (unsigned)n->cfg.listen_port, why);
		return rv;
	}
	sockaddr_format((struct sockaddr *)&ss, n->listen_addr, sizeof n->listen_addr);
	uv_tcp_init(n->loop, &n->listener);
	n->listener.data = n;
	n->handles_open++;
	n->listening = true;
	rv = uv_tcp_bind(&n->listener, (struct sockaddr *)&ss, 0);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&n->listener, PEER_LISTEN_BACKLOG,
			       listener_connection_cb);
	if (rv != 0) {
		errmsg_printf(errmsg, "listen %s: %s", n->listen_addr, uv_strerror(rv));
		return SLUICE_EIO;
	}
	return sockaddr_bound(&n->listener, n->listen_addr, sizeof n->listen_addr, &n->port, errmsg);
}

int peer_net_start(uv_loop_t *loop, const struct peer_config *cfg, peer_recv_cb recv,
		   peer_link_cb link, void *arg, struct peer_net **out, char *errmsg)
{
	struct peer_net *n;
	int rv;

	assert(loop != NULL && cfg != NULL && recv != NULL && out != NULL);
	rv = config_check(cfg, errmsg);
	if (rv != 0)
		return rv;
	n = calloc(1, sizeof *n);
	if (n == NULL) {
		errmsg_printf(errmsg, "out of memory");
		return SLUICE_ENOMEM;
	}
	n->loop = loop;
	n->cfg = *cfg;
	if (cfg->listen_host != NULL)
		snprintf(n->listen_host, sizeof n->listen_host, "%s", cfg->listen_host);
	n->cfg.listen_host = cfg->listen_host != NULL ? n->listen_host : NULL;
	n->recv = recv;
	n->link = link;
	n->arg = arg;
	list_init(&n->flush_list);
	list_init(&n->conns);
	n->rng = ((uint64_t)cfg->node_id * 0x9E3779B97F4A7C15ULL) ^ uv_hrtime();
	if (n->rng == 0)
		n->rng = 1;
	uv_idle_init(loop, &n->flush);
	n->flush.data = n;
	n->handles_open = 1;
	if (cfg->listen_host != NULL) {
		rv = net_listen(n, errmsg);
		if (rv != 0)
			goto err_after_handles;
		SLOG_INFO(PEER_MODULE, "msg=\"listening\" listener=%s node=%" PRIu32,
			  n->listen_addr, cfg->node_id);
	}
	*out = n;
	return 0;

err_after_handles:
	/* The handles close through the loop; the net frees itself when they have. */
	n->closing = true;
	if (n->listening)
		uv_close((uv_handle_t *)&n->listener, net_handle_close_cb);
	uv_close((uv_handle_t *)&n->flush, net_handle_close_cb);
	return rv;
}

/* Creates node `id` (not known yet); host NULL: no address (it dials us). NULL when full or out
 * of memory. */
static struct peer_node *node_new(struct peer_net *n, uint32_t id, const char *host,
				  uint16_t port, enum peer_dial dial)
{
	if (n->nodes_count == PEER_NODES_MAX)
		return NULL;
	if (n->nodes_count == n->nodes_cap) {
		unsigned cap = n->nodes_cap == 0 ? 8 : n->nodes_cap * 2;
		struct peer_node **nodes = realloc(n->nodes, cap * sizeof *nodes);
		if (nodes == NULL)
			return NULL;
		n->nodes = nodes;
		n->nodes_cap = cap;
	}
	struct peer_node *node = calloc(1, sizeof *node);
	if (node == NULL)
		return NULL;
	node->net = n;
	node->id = id;
	node->dial = dial;
	if (host != NULL) {
		snprintf(node->host, sizeof node->host, "%s", host);
		node->port = port;
		snprintf(node->addr, sizeof node->addr, "%s:%u", host, (unsigned)port);
	}
	node->backoff_ms = n->cfg.backoff_ms_min;
	list_init(&node->queue);
	list_init(&node->flush_link);
	uv_timer_init(n->loop, &node->redial);
	node->redial.data = node;
	n->handles_open++;
	n->nodes[n->nodes_count++] = node;
	SLOG_INFO(PEER_MODULE, "msg=\"node added\" node=%" PRIu32 " addr=%s dial=%s", id,
		  node->addr[0] ? node->addr : "-", node_we_dial(node) ? "yes" : "no");
	return node;
}

int peer_net_add_node(struct peer_net *n, uint32_t id, const char *host, uint16_t port)
{
	return peer_net_add_node_dial(n, id, host, port, PEER_DIAL_AUTO);
}

int peer_net_add_node_dial(struct peer_net *n, uint32_t id, const char *host, uint16_t port,
			   enum peer_dial dial)
{
	struct peer_node *node;

	if (n->closing)
		return SLUICE_ECLOSED;
	bool no_addr = host == NULL && port == 0;
	if (id == 0 || id == n->cfg.node_id || (no_addr && dial != PEER_DIAL_IN) ||
	    (!no_addr && (host == NULL || host[0] == '\0' || strlen(host) > PEER_HOST_BYTES_MAX ||
			  port == 0)))
		return SLUICE_EINVAL;
	node = node_find(n, id);
	if (node != NULL) {
		bool was_dialling = node_we_dial(node);
		if (!no_addr && (node->port != port || strcmp(node->host, host) != 0)) {
			snprintf(node->host, sizeof node->host, "%s", host);
			node->port = port;
			snprintf(node->addr, sizeof node->addr, "%s:%u", host, (unsigned)port);
			SLOG_INFO(PEER_MODULE,
				  "msg=\"node address updated\" node=%" PRIu32 " addr=%s", id,
				  node->addr);
		}
		node->dial = dial;
		if (node_we_dial(node) && !was_dialling && node->conn == NULL)
			uv_timer_start(&node->redial, redial_cb, 0, 0);
		else if (!node_we_dial(node))
			uv_timer_stop(&node->redial);
		return 0;
	}
	node = node_new(n, id, host, port, dial);
	if (node == NULL)
		return n->nodes_count == PEER_NODES_MAX ? SLUICE_ERANGE : SLUICE_ENOMEM;
	if (node_we_dial(node))
		uv_timer_start(&node->redial, redial_cb, 0, 0);
	return 0;
}

int peer_net_send(struct peer_net *n, uint32_t node_id, uint16_t channel, const struct iovec *iov,
		  int iovcnt)
{
	struct peer_node *node;
	size_t len = 0;

	assert(iovcnt >= 0 && (iovcnt == 0 || iov != NULL));
	if (n->closing)
		return SLUICE_ECLOSED;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > n->cfg.frame_bytes_max - len)
			return SLUICE_ETOOLARGE;
		len += iov[i].iov_len;
	}
	node = node_find(n, node_id);
	if (node == NULL)
		return SLUICE_ENOTFOUND;
	size_t held = node_held_bytes(node);
	size_t size = PEER_HEADER_BYTES + len;
	if (held > 0 && (held >= n->cfg.queue_bytes_max || size > n->cfg.queue_bytes_max - held)) {
		n->stats.dropped_full++;
		return SLUICE_EBUSY;
	}
	int rv = queue_frame(node, KIND_DATA, channel, iov, iovcnt, len);
	if (rv != 0)
		return rv;
	node_schedule_flush(node);
	return 0;
}

bool peer_net_connected(const struct peer_net *n, uint32_t node_id)
{
	const struct peer_node *node = node_find(n, node_id);

	return node != NULL && node->conn != NULL && node->conn->state == CONN_ESTABLISHED;
}

uint16_t peer_net_port(const struct peer_net *n)
{
	return n->port;
}

size_t peer_net_queued_bytes(const struct peer_net *n, uint32_t node_id)
{
	const struct peer_node *node = node_find(n, node_id);

	return node != NULL ? node_held_bytes(node) : 0;
}

void peer_net_stats(const struct peer_net *n, struct peer_stats *out)
{
	*out = n->stats;
}

void peer_net_close(struct peer_net *n, void (*cb)(void *arg), void *arg)
{
	assert(!n->closing);
	n->closing = true;
	n->close_cb = cb;
	n->close_arg = arg;
	SLOG_INFO(PEER_MODULE, "msg=\"closing\" node=%" PRIu32 " nodes=%u", n->cfg.node_id,
		  n->nodes_count);
	if (n->listening)
		uv_close((uv_handle_t *)&n->listener, net_handle_close_cb);
	uv_close((uv_handle_t *)&n->flush, net_handle_close_cb);
	/* conn_close leaves the connection in n->conns until its handles have closed. */
	for (struct list_link *l = n->conns.next; l != &n->conns; l = l->next) {
		struct peer_conn *c = LIST_ENTRY(l, struct peer_conn, link);
		conn_close(c, SLOG_DEBUG, "closing");
	}
	while (!list_empty(&n->flush_list)) {
		struct peer_node *node = LIST_ENTRY(n->flush_list.next, struct peer_node,
						    flush_link);
		list_remove(&node->flush_link);
		node->flush_scheduled = false;
	}
	n->flush_count = 0;
	for (unsigned i = 0; i < n->nodes_count; i++) {
		node_drop_queue(n->nodes[i]);
		uv_close((uv_handle_t *)&n->nodes[i]->redial, node_redial_close_cb);
	}
}
