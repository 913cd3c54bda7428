/*
 * net: the Kafka listener's TCP layer. It accepts connections, cuts the byte stream into request
 * frames (a 4-byte big-endian size, then that many bytes: the protocol guide's "RequestOrResponse
 * => Size (MessageSize)"), hands each frame to a handler, and writes the handler's responses back
 * in request order. It knows nothing about what a frame contains.
 *
 * Happy path: a client connects; every complete frame reaches on_request() with a per-connection
 * sequence number; the handler answers it at any later time, from any callback on the loop
 * thread, with net_conn_respond() (or net_conn_no_response() for acks=0 produce); responses that
 * are ready are collected once per loop turn and written with one writev per connection.
 *
 * Failure modes handled (each closes only the connection concerned, with a log line):
 *   - a size prefix that is negative or above frame_bytes_max (Kafka's InvalidReceiveException);
 *   - read or write errors, the peer closing, idleness beyond idle_ms_max;
 *   - more than connections_max connections: the new one is accepted and closed at once;
 *   - out of memory for a frame.
 * A slow reader or a flood of pipelined requests is met with back-pressure: the connection stops
 * reading until the handler and the socket catch up. Nothing is buffered without a bound.
 *
 * Connection lifetime (the rule the handler relies on):
 *   1. on_close() is called exactly once per accepted connection, after its socket is closed,
 *      whatever closed it (peer, error, limit, net_conn_close(), net_server_stop()).
 *   2. A struct net_conn stays valid until on_close() returns, or, if the handler took
 *      references with net_conn_ref(), until the last net_conn_unref(). After that the handler
 *      must not touch it.
 *   3. Once a connection is closing, net_conn_respond() and net_conn_no_response() drop the
 *      response (unref'ing it) and return; requests still held by the handler may simply be
 *      answered, or forgotten, as long as their frame buffers are unref'd.
 *
 * Everything here runs on the loop thread. The process must ignore SIGPIPE (sluice-server does):
 * libuv writes to sockets with writev(2), which raises it when the peer has gone.
 */
#ifndef SLUICE_NET_NET_H
#define SLUICE_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"

/* Longest "host:port" text of a peer or listen address, NUL included ("[v6]:65535"). */
#define NET_ADDR_BYTES_MAX 64

struct net_limits {
	/* socket.request.max.bytes: largest request frame (size prefix excluded), at most
	 * INT32_MAX since the prefix is an int32. Bounds the memory one connection can make us
	 * allocate at once. Default 100 MiB, as Kafka's. */
	size_t frame_bytes_max;
	/* Requests of one connection delivered to the handler whose responses have not yet been
	 * handed to the socket (answered ones held behind an earlier unanswered one count too).
	 * At the limit the connection stops reading. Default 100. */
	uint32_t inflight_requests_max;
	/* Response bytes (prefixes included) of one connection answered but not yet written to the
	 * socket; at or above it the connection stops reading. Default 16 MiB. */
	size_t output_bytes_max;
	/* connections.max.idle.ms: a connection with no bytes read or written and no request in
	 * flight for this long is closed. 0 disables the timeout. Default 600000 (10 minutes). */
	uint64_t idle_ms_max;
	/* Open connections per server; further ones are accepted and closed at once so the client
	 * sees a clean close rather than a hanging connect. Default 10000. */
	uint32_t connections_max;
};

/* Fills `lim` with the defaults above. */
void net_limits_default(struct net_limits *lim);

struct net_server;
struct net_conn;

struct net_handler {
	/* A complete request frame arrived: `frame` holds exactly `len` bytes (frame->len == len),
	 * the size prefix stripped. The handler owns this reference to `frame` and unrefs it when
	 * done (it may keep it alive as long as it likes, zero-copy). `seq` counts the requests of
	 * this connection from 0; the handler answers each seq exactly once. Must not block. */
	void (*on_request)(void *arg, struct net_conn *c, uint64_t seq, struct buf *frame,
			   size_t len);
	/* The connection is closed (see the lifetime rules above). May be NULL. */
	void (*on_close)(void *arg, struct net_conn *c);
};

/* Counters for metrics; all totals since the server started except connections_open. */
struct net_stats {
	uint64_t connections_open;     /* accepted and not yet fully closed */
	uint64_t connections_accepted; /* including rejected ones */
	uint64_t connections_rejected; /* closed at once because of connections_max */
	uint64_t requests;             /* frames delivered to on_request */
	uint64_t responses;            /* responses written to a socket */
	uint64_t writes;               /* writev calls that carried them (batching) */
	uint64_t frames_rejected;      /* size prefixes that closed a connection */
	uint64_t bytes_in;             /* bytes read from sockets */
	uint64_t bytes_out;            /* bytes written to sockets */
	uint64_t read_pauses;          /* times a connection stopped reading for back-pressure */
};

/*
 * Binds `host`:`port` (port 0 picks an ephemeral port, see net_server_port()) with SO_REUSEADDR
 * (libuv sets it on every TCP bind), listens, and starts accepting on `loop`. `host` is a numeric
 * IPv4 or IPv6 address (brackets allowed), a name to resolve (resolution blocks, so call this at
 * start-up only), or NULL or "" for every IPv4 interface. `lim` and `h` are copied; `arg` is passed
 * to the handler's callbacks.
 *
 * Returns 0 and sets *out, or SLUICE_EINVAL (bad port, host or limits), SLUICE_EIO (bind or
 * listen failed), SLUICE_ENOMEM, with `errmsg` (may be NULL) naming the address, e.g.
 * "listen 127.0.0.1:9092: address already in use". On failure the loop may still hold a closing
 * handle: running the loop once more finishes it.
 */
int net_server_start(uv_loop_t *loop, const char *host, int port, const struct net_limits *lim,
		     const struct net_handler *h, void *arg, struct net_server **out, char *errmsg);

/* The port the server listens on (the ephemeral one chosen when started with port 0). */
int net_server_port(const struct net_server *s);

/* Copies the server's counters into *out. */
void net_server_stats(const struct net_server *s, struct net_stats *out);

/*
 * Stops accepting and closes every connection (each gets its on_close()). When every handle of
 * the server is closed, calls `cb(arg)` (cb may be NULL) and frees the server: `s` must not be
 * used after this call. Call at most once.
 */
void net_server_stop(struct net_server *s, void (*cb)(void *arg), void *arg);

/*
 * Queues `resp` (its first `len` bytes) as the response to request `seq` of `c`; the net layer
 * adds the size prefix and takes over the reference to `resp` in every case. Responses leave in
 * request order: this one waits until every earlier request of `c` is answered. If `c` is closing
 * or closed, the response is dropped. `seq` must be a request of `c` not yet answered.
 */
void net_conn_respond(struct net_conn *c, uint64_t seq, struct buf *resp, size_t len);

/* Marks request `seq` of `c` as answered with no response (Kafka produce with acks=0): later
 * responses no longer wait for it. Same rules for `seq` and closed connections as above. */
void net_conn_no_response(struct net_conn *c, uint64_t seq);

/* Closes `c`, logging `reason` with the peer's address. Does nothing if it is already closing.
 * on_close() follows from a later callback, never from inside this call. */
void net_conn_close(struct net_conn *c, const char *reason);

/* Keep `c` valid past on_close() (see lifetime rule 2); each ref needs one unref. */
void net_conn_ref(struct net_conn *c);
void net_conn_unref(struct net_conn *c);

/* True until the connection starts closing. */
bool net_conn_is_open(const struct net_conn *c);

/* Handler data of `c` (NULL until set). */
void net_conn_set_data(struct net_conn *c, void *data);
void *net_conn_data(const struct net_conn *c);

/* The peer's address, "127.0.0.1:54321" or "[::1]:54321", valid as long as `c` is. */
const char *net_conn_peer(const struct net_conn *c);

/* A number that identifies `c` among its server's connections, for logs (from 1). */
uint64_t net_conn_id(const struct net_conn *c);

#endif
