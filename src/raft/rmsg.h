/*
 * rmsg: the wire encoding of raft messages between Sluice nodes (pure: no I/O).
 *
 * Every message of every Raft group on a node travels over one peer connection (peer/peer.h) as
 * the payload of a peer frame on channel PEER_CHANNEL_RAFT. rmsg encodes one
 * `struct raft_message` plus the id of the group it belongs to, and decodes it back. The format
 * (version RMSG_FORMAT_VERSION, big-endian) is documented as an offset table in rmsg.c.
 *
 * AppendEntries carries its entries' payloads; since canonical raft sends every entry from the
 * follower's next index at once (no cap), rmsg_encode_split() cuts one AppendEntries into several
 * valid AppendEntries of at most `frame_bytes_max` each (each with prev_log_index/term derived
 * from the entries before it), so no frame exceeds the transport's limit.
 *
 * Decoding validates everything (lengths, counts, types) and never asserts on input: a bad
 * frame yields SLUICE_EMALFORMED with a reason. Decoded entries live in one raft_malloc'd batch
 * that raft frees (entries[i].batch), as raft's recv contract requires.
 */
#ifndef SLUICE_RAFT_RMSG_H
#define SLUICE_RAFT_RMSG_H

#include <raft.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define RMSG_FORMAT_VERSION 1

/* Appends the encoding of (group, msg) to `out`. For APPEND_ENTRIES, when the entries exceed
 * `frame_bytes_max`, appends several messages one after another, each prefixed by its u32
 * length (so `out` always holds a sequence of [u32 length][message] records). Returns the
 * number of messages appended (>= 1), or SLUICE_ETOOLARGE when a single entry alone exceeds
 * the limit, or SLUICE_ENOMEM. */
int rmsg_encode(struct wbuf *out, uint64_t group, const struct raft_message *msg,
		size_t frame_bytes_max);

/* Decodes one message (without its u32 length prefix). On success *group and *msg are filled;
 * entries and InstallSnapshot data are raft_malloc'd and owned by *msg until handed to raft
 * (raft's recv takes them) or released with rmsg_release. */
int rmsg_decode(const uint8_t *p, size_t n, uint64_t *group, struct raft_message *msg,
		char *errmsg);

/* Frees what rmsg_decode allocated for a message that was not delivered to raft. */
void rmsg_release(struct raft_message *msg);

#endif
