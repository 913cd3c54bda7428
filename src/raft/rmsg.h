/*
 * rmsg: the wire encoding of raft messages between Sluice nodes (pure: no I/O).
 *
 * Every message of every Raft group on a node travels over one peer connection (peer/peer.h) as
 * the payload of a peer frame on channel PEER_CHANNEL_RAFT. rmsg encodes one
 * `struct raft_message` plus the id of the group it belongs to, and decodes it back. The format
 * (version RMSG_FORMAT_VERSION, big-endian) is documented as an offset table in rmsg.c.
 *
 * AppendEntries carries its entries' payloads; since canonical raft sends every entry from the
 * follower's next index at once (no cap), rmsg_encode() cuts one AppendEntries into several
 * valid AppendEntries of at most `frame_bytes_max` each (each with prev_log_index/term derived
 * from the entries before it), so no frame exceeds the transport's limit.
 *
 * Decoding validates everything (lengths, counts, types, and the properties raft 0.15.0 asserts
 * on: ids and entry terms above zero, known entry types and roles) and never asserts on input: a
 * bad message yields SLUICE_EMALFORMED (SLUICE_EVERSION for another format version) with a
 * reason. Decoded entries live in one raft_malloc'd batch that raft frees (entries[i].batch), as
 * raft's recv contract requires.
 *
 * The sender: raft fills msg->server_id/server_address with the *destination* of a send. The
 * encoder writes whatever the message holds, so the io copies raft's message (a shallow struct
 * copy) and puts its own id and address there before encoding; the receiver then sees the
 * sender's, as raft's recv expects.
 */
#ifndef SLUICE_RAFT_RMSG_H
#define SLUICE_RAFT_RMSG_H

#include <raft.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define RMSG_FORMAT_VERSION 1

/* Longest address (sender's or a configuration server's), in bytes without the NUL. A host name
 * is at most 253 bytes plus ":65535"; twice that leaves room for any scheme a caller invents. */
#define RMSG_ADDRESS_BYTES_MAX 512
/* Most servers in an InstallSnapshot configuration: raft_configuration_add is linear in the
 * servers already added, and no real Raft group comes near this. */
#define RMSG_CONF_SERVERS_MAX 1024
/* Size of the big-endian u32 length before each message in rmsg_encode's output. */
#define RMSG_PREFIX_BYTES 4

/*
 * Appends the encoding of (group, msg) to `out` as one or more records [u32 length][message].
 * For APPEND_ENTRIES whose encoding exceeds `frame_bytes_max` (the limit on one message,
 * prefix excluded; values above UINT32_MAX count as UINT32_MAX), appends several valid
 * AppendEntries, each as large as fits: chunk k > 0 has prev_log_index/prev_log_term of the last
 * entry of chunk k-1 and leader_commit clamped to its own last index (Raft §5.3: a follower may
 * only commit what it knows matches the leader); the last chunk keeps the original
 * leader_commit, the first the original prev.
 *
 * Returns the number of records appended (>= 1); or SLUICE_ETOOLARGE when one message that
 * cannot be split (or one entry with its AppendEntries header) exceeds the limit; SLUICE_EINVAL
 * for a message that cannot be represented (unknown type, NULL or over-long address, empty
 * InstallSnapshot configuration); SLUICE_ENOMEM. On error `out` holds what it held before
 * (after ENOMEM its `oom` flag stays set, as wbuf's contract says).
 */
int rmsg_encode(struct wbuf *out, uint64_t group, const struct raft_message *msg,
		size_t frame_bytes_max);

/*
 * Walks the records of an rmsg_encode output held in p[0..n): starting with *off = 0, each call
 * sets *msg and *len to the next message (prefix stripped) and advances *off. Returns 1 for a
 * record, 0 at the end, SLUICE_EMALFORMED if the bytes end inside a record.
 */
int rmsg_record_next(const uint8_t *p, size_t n, size_t *off, const uint8_t **msg, size_t *len);

/*
 * Decodes one message (without its u32 length prefix) of exactly `n` bytes. On success returns
 * 0 and fills *group and *msg: msg->server_address, the entries array, their batch, and the
 * InstallSnapshot configuration and data are raft_malloc'd and owned by *msg. Handing the
 * message to raft's recv gives raft the entries (with their batch) and the snapshot's
 * configuration and data, but not the address: free that with rmsg_release_address() after recv
 * returns, or everything with rmsg_release() if the message is not delivered.
 *
 * On failure returns SLUICE_EMALFORMED, SLUICE_EVERSION or SLUICE_ENOMEM with `errmsg` (may be
 * NULL) saying why; nothing is left allocated and *msg is zeroed.
 */
int rmsg_decode(const uint8_t *p, size_t n, uint64_t *group, struct raft_message *msg,
		char *errmsg);

/* Frees msg->server_address (as rmsg_decode allocated it) and sets it to NULL. Accepts a message
 * whose address is already NULL. */
void rmsg_release_address(struct raft_message *msg);

/* Frees everything rmsg_decode allocated for a message that was not delivered to raft, and
 * zeroes what it freed. Accepts a zeroed message. */
void rmsg_release(struct raft_message *msg);

#endif
