/*
 * peer: the node-to-node transport. One TCP connection per node pair carries every message
 * between the two nodes (Raft messages of every group, leadership announcements, controller
 * requests, log catch-up), as frames tagged with a channel.
 *
 * By default the node with the lower id dials and the other accepts; a node can be declared
 * with the other direction (peer_net_add_node_dial: a node joining a cluster dials the voters,
 * which learn of it from its HELLO when accept_unknown is set). The dialer sends a HELLO
 * (format version, cluster id hash, its node id, the id it meant to reach) first and the
 * acceptor answers with its own; a connection with another format version, a wrong cluster id,
 * an unknown node id (unless accept_unknown), a node dialling the wrong way, or one that
 * reached the wrong node is closed with a log line. Frames
 * queued in one loop turn go out in one write (coalescing: heartbeats of many groups share a
 * packet). Each peer has a bounded send queue (`queue_bytes_max`): a send that does not fit is
 * refused with SLUICE_EBUSY, so a slow or dead peer never grows memory without limit (Raft
 * retries on its own). A lost connection is redialled with exponential backoff and jitter
 * (backoff_ms_min..backoff_ms_max); a dial (resolve, connect and HELLO) that does not complete in
 * connect_timeout_ms is abandoned; a connection on which nothing arrives for idle_timeout_ms is
 * closed, and each side sends a keepalive when it has written nothing for a third of that.
 * A frame over frame_bytes_max, or any other breach of the format, closes the connection with a
 * log line naming the peer and the reason.
 *
 * Frame format (version PEER_FORMAT_VERSION, big-endian), documented beside the code in peer.c.
 *
 * Invariants:
 *   1. Frames between two nodes arrive in the order they were sent, or not at all (a connection
 *      lost mid-queue drops what it held: frames queued or being written when an established
 *      connection is lost are discarded and counted in dropped_lost).
 *   2. Memory queued per peer is at most queue_bytes_max plus one frame.
 *   3. Every callback runs on the loop thread; none runs after peer_net_close() except its cb.
 */
#ifndef SLUICE_PEER_PEER_H
#define SLUICE_PEER_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <uv.h>

#define PEER_FORMAT_VERSION 1

/* Longest host name or address text accepted for a node or the listener (a DNS name is at most
 * 253 bytes). */
#define PEER_HOST_BYTES_MAX 255

enum peer_channel {
	PEER_CHANNEL_RAFT = 1,    /* rmsg-encoded raft messages */
	PEER_CHANNEL_LEADERS = 2, /* leadership announcements */
	PEER_CHANNEL_CONTROL = 3, /* requests forwarded to the controller and their answers */
	PEER_CHANNEL_CATCHUP = 4, /* log range fetches for snapshot installs */
};

/* Who opens the connection to a node. */
enum peer_dial {
	PEER_DIAL_AUTO, /* the node with the lower id dials */
	PEER_DIAL_OUT,  /* we dial it */
	PEER_DIAL_IN,   /* it dials us (we may not know its address) */
};

struct peer_config {
	uint32_t node_id;            /* > 0 */
	uint64_t cluster_id_hash;    /* peers must agree */
	const char *listen_host;     /* NULL: do not listen; copied by peer_net_start */
	uint16_t listen_port;        /* 0: pick one (see peer_net_port) */
	size_t frame_bytes_max;      /* largest frame payload accepted or sent, 1..UINT32_MAX
				      * (default 16 MiB) */
	size_t queue_bytes_max;      /* per peer: frames queued or being written, headers included
				      * (default 64 MiB) */
	unsigned backoff_ms_min;     /* default 50; >= 1 */
	unsigned backoff_ms_max;     /* default 2000; >= backoff_ms_min */
	unsigned connect_timeout_ms; /* default 2000; 0: none */
	unsigned idle_timeout_ms;    /* default 10000; peers send a keepalive every third of it;
				      * 0: no idle timeout and no keepalives */
	bool accept_unknown;         /* accept a HELLO from a node not added yet (it becomes a
				      * PEER_DIAL_IN node without an address); default false */
};

void peer_config_default(struct peer_config *c);

/* A frame arrived from node `from` on `channel`. `p` is valid only during the call. The callback
 * may call peer_net_send() and peer_net_close(). */
typedef void (*peer_recv_cb)(void *arg, uint32_t from, uint16_t channel, const uint8_t *p,
			     size_t n);
/* The connection to `node` came up (`up` true: the HELLOs were exchanged) or an established one
 * went down. Failed dials are not reported. May call peer_net_send() and peer_net_close(). */
typedef void (*peer_link_cb)(void *arg, uint32_t node, bool up);

struct peer_net;

/* Starts listening (if configured) on `loop`. `cfg` is copied; `link` may be NULL. A listen host
 * that is not a numeric address is resolved here, blocking: call this at start-up. Returns 0 and
 * sets *out, or SLUICE_EINVAL (bad configuration), SLUICE_EIO (bind or listen failed),
 * SLUICE_ENOMEM, with `errmsg` (may be NULL) naming the cause. After a failure the loop may hold
 * closing handles: running it once more finishes them. */
int peer_net_start(uv_loop_t *loop, const struct peer_config *cfg, peer_recv_cb recv,
		   peer_link_cb link, void *arg, struct peer_net **out, char *errmsg);

/* Declares a peer node and where to reach it (`host` numeric or a name, resolved
 * asynchronously at each dial). Calling it again for the same id updates the address (the next
 * dial uses it). If our id is the lower one, dialling starts at once. Returns 0, SLUICE_EINVAL
 * (id 0 or ours, empty or over-long host, port 0), SLUICE_ERANGE (too many nodes),
 * SLUICE_ECLOSED (closing) or SLUICE_ENOMEM. */
int peer_net_add_node(struct peer_net *n, uint32_t id, const char *host, uint16_t port);
/* peer_net_add_node with an explicit direction. With PEER_DIAL_IN, `host` NULL and `port` 0
 * declare a node whose address we do not know (it dials us). Calling it for a known node changes
 * its direction too (and its address unless none is given). */
int peer_net_add_node_dial(struct peer_net *n, uint32_t id, const char *host, uint16_t port,
			   enum peer_dial dial);

/* Queues one frame (the concatenation of iov) for `node`: 0, SLUICE_EBUSY when the peer's queue
 * is full (counted in dropped_full), SLUICE_ENOTFOUND for an unknown node, SLUICE_ETOOLARGE over
 * frame_bytes_max, SLUICE_ECLOSED after peer_net_close, SLUICE_ENOMEM. The bytes are copied; the
 * caller keeps ownership of iov. A frame to a peer that is not connected is queued (within the
 * limit) and sent once connected. */
int peer_net_send(struct peer_net *n, uint32_t node, uint16_t channel, const struct iovec *iov,
		  int iovcnt);

bool peer_net_connected(const struct peer_net *n, uint32_t node);
/* The port listened on (the one picked for listen_port 0), 0 when not listening. */
uint16_t peer_net_port(const struct peer_net *n);
/* Bytes queued or being written for `node` (what queue_bytes_max bounds); 0 if unknown. */
size_t peer_net_queued_bytes(const struct peer_net *n, uint32_t node);

struct peer_stats {
	uint64_t frames_sent, frames_recv, bytes_sent, bytes_recv; /* frames: data frames only;
								    * bytes: all on the wire */
	uint64_t writes;       /* write calls for queued frames (frames per write = coalescing) */
	uint64_t dropped_full; /* sends refused because a queue was full */
	uint64_t dropped_lost; /* frames discarded because their connection was lost or closed */
	uint64_t rejected; /* connections closed for breaking the protocol (bad HELLO or frame) */
	uint64_t connects, disconnects; /* established connections made and lost */
};
void peer_net_stats(const struct peer_net *n, struct peer_stats *out);

/* Closes every connection and the listener and drops every queued frame; no recv or link
 * callback runs after this call. `cb` (may be NULL) runs when all handles are closed, after which
 * `n` is freed. Call at most once; may be called from a recv or link callback. */
void peer_net_close(struct peer_net *n, void (*cb)(void *arg), void *arg);

#endif
