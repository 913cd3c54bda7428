/*
 * peer: the node-to-node transport. One TCP connection per node pair carries every message
 * between the two nodes (Raft messages of every group, leadership announcements, controller
 * requests, log catch-up), as frames tagged with a channel.
 *
 * The node with the lower id dials; the other accepts. The dialer sends a HELLO (cluster id,
 * its node id) first; a connection with a wrong cluster id or an unknown node id is closed with a
 * log line. Frames written in one loop turn go out in one write (coalescing: heartbeats of many
 * groups share a packet). Each peer has a bounded send queue (`queue_bytes_max`): a send that
 * does not fit is refused with SLUICE_EBUSY, so a slow or dead peer never grows memory without
 * limit (Raft retries on its own). A lost connection is redialled with exponential backoff
 * (backoff_ms_min..backoff_ms_max); a dial that does not complete in connect_timeout_ms is
 * abandoned; a connection on which nothing arrives for idle_timeout_ms is closed.
 *
 * Frame format (version PEER_FORMAT_VERSION, big-endian), documented beside the code in peer.c.
 *
 * Invariants:
 *   1. Frames between two nodes arrive in the order they were sent, or not at all (a connection
 *      lost mid-queue drops what it held).
 *   2. Memory queued per peer is at most queue_bytes_max plus one frame.
 *   3. Every callback runs on the loop thread.
 */
#ifndef SLUICE_PEER_PEER_H
#define SLUICE_PEER_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <uv.h>

#define PEER_FORMAT_VERSION 1

enum peer_channel {
	PEER_CHANNEL_RAFT = 1,    /* rmsg-encoded raft messages */
	PEER_CHANNEL_LEADERS = 2, /* leadership announcements */
	PEER_CHANNEL_CONTROL = 3, /* requests forwarded to the controller and their answers */
	PEER_CHANNEL_CATCHUP = 4, /* log range fetches for snapshot installs */
};

struct peer_config {
	uint32_t node_id;
	uint64_t cluster_id_hash;   /* peers must agree */
	const char *listen_host;    /* NULL: do not listen */
	uint16_t listen_port;       /* 0: pick one (see peer_net_port) */
	size_t frame_bytes_max;     /* largest frame accepted or sent (default 16 MiB) */
	size_t queue_bytes_max;     /* per peer send queue (default 64 MiB) */
	unsigned backoff_ms_min;    /* default 50 */
	unsigned backoff_ms_max;    /* default 2000 */
	unsigned connect_timeout_ms;/* default 2000 */
	unsigned idle_timeout_ms;   /* default 10000; peers send a keepalive every third of it */
};

void peer_config_default(struct peer_config *c);

/* A frame arrived from node `from` on `channel`. `p` is valid only during the call. */
typedef void (*peer_recv_cb)(void *arg, uint32_t from, uint16_t channel, const uint8_t *p,
			     size_t n);
/* The connection to `node` came up (`up` true) or went down. */
typedef void (*peer_link_cb)(void *arg, uint32_t node, bool up);

struct peer_net;

/* Starts listening (if configured). Errors name the cause in `errmsg`. */
int peer_net_start(uv_loop_t *loop, const struct peer_config *cfg, peer_recv_cb recv,
		   peer_link_cb link, void *arg, struct peer_net **out, char *errmsg);

/* Declares a peer node and where to reach it. Calling it again for the same id updates the
 * address (the next dial uses it). */
int peer_net_add_node(struct peer_net *n, uint32_t id, const char *host, uint16_t port);

/* Queues one frame (the concatenation of iov) for `node`: 0, SLUICE_EBUSY when the peer's queue
 * is full, SLUICE_ENOTFOUND for an unknown node, SLUICE_ETOOLARGE over frame_bytes_max. The
 * bytes are copied; the caller keeps ownership of iov. A frame to a peer that is not connected
 * is queued (within the limit) and sent once connected. */
int peer_net_send(struct peer_net *n, uint32_t node, uint16_t channel, const struct iovec *iov,
		  int iovcnt);

bool peer_net_connected(const struct peer_net *n, uint32_t node);
uint16_t peer_net_port(const struct peer_net *n);

struct peer_stats {
	uint64_t frames_sent, frames_recv, bytes_sent, bytes_recv;
	uint64_t writes;       /* write calls (frames per write = coalescing) */
	uint64_t dropped_full; /* sends refused because a queue was full */
	uint64_t connects, disconnects;
};
void peer_net_stats(const struct peer_net *n, struct peer_stats *out);

/* Closes every connection and the listener; `cb` runs when all handles are closed. */
void peer_net_close(struct peer_net *n, void (*cb)(void *arg), void *arg);

#endif
