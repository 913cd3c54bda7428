/*
 * rmsg: encoding and decoding of raft messages (see rmsg.h for the contract).
 *
 * Happy path. The io hands rmsg_encode() the message raft gave its send(), with its own id and
 * address as the sender; the result is one [u32 length][message] record (several for a large
 * AppendEntries), each sent as one peer frame. The receiving io passes each frame to
 * rmsg_decode() and the message to raft's recv.
 *
 * Failure modes handled:
 *   - Input that is truncated, too long, has an unknown version, type, entry type or role, a
 *     zero id or term where raft asserts a positive one, an address with a NUL in it, duplicate
 *     configuration servers, counts that cannot fit in the bytes left, or index arithmetic that
 *     would overflow: SLUICE_EMALFORMED (SLUICE_EVERSION for the version) with a reason. Counts
 *     are checked against the bytes present before anything is allocated, so a lying count
 *     cannot make the decoder allocate more than the input's size.
 *   - Allocation failure while decoding: SLUICE_ENOMEM, everything allocated so far is freed.
 *   - An AppendEntries too large for one frame is split; a single entry too large for a frame
 *     (or any other message too large) is SLUICE_ETOOLARGE, which the io reports to raft as a
 *     failed send.
 *
 * Wire format, version RMSG_FORMAT_VERSION; all integers big-endian, no padding. Every message:
 *
 *   offset  size  meaning
 *   0       1     format version (RMSG_FORMAT_VERSION)
 *   1       1     message type: RAFT_IO_APPEND_ENTRIES (1) .. RAFT_IO_TIMEOUT_NOW (6)
 *   2       2     A: length of the sender's address (0..RMSG_ADDRESS_BYTES_MAX)
 *   4       8     group id
 *   12      8     server_id: the sender's raft id (> 0)
 *   20      A     server_address: the sender's address, no NUL
 *   B=20+A  ...   body, by type (below); the message ends exactly where its body ends
 *
 * APPEND_ENTRIES (raft_append_entries):
 *   B+0     8     term (> 0)
 *   B+8     8     prev_log_index
 *   B+16    8     prev_log_term
 *   B+24    8     leader_commit
 *   B+32    4     N: n_entries (prev_log_index + N must not overflow)
 *   B+36    16*N  entry headers, each:
 *                   +0   8  term (> 0, <= message term, >= prev_log_term, non-decreasing)
 *                   +8   1  type: RAFT_COMMAND (1), RAFT_BARRIER (2), RAFT_CHANGE (3)
 *                   +9   3  reserved, zero
 *                   +12  4  L: payload length
 *   B+36+16N      payloads, concatenated in entry order (sum of L bytes)
 *
 * APPEND_ENTRIES_RESULT (raft_append_entries_result):
 *   B+0     8     term
 *   B+8     8     rejected
 *   B+16    8     last_log_index
 *
 * REQUEST_VOTE (raft_request_vote):
 *   B+0     8     term (> 0)
 *   B+8     8     candidate_id (> 0)
 *   B+16    8     last_log_index
 *   B+24    8     last_log_term
 *   B+32    1     flags: bit 0 disrupt_leader, bit 1 pre_vote, other bits zero
 *
 * REQUEST_VOTE_RESULT (raft_request_vote_result):
 *   B+0     8     term
 *   B+8     1     vote_granted (0 or 1)
 *   B+9     1     pre_vote: raft_tribool (0 unknown, 1 true, 2 false)
 *
 * INSTALL_SNAPSHOT (raft_install_snapshot):
 *   B+0     8     term (> 0)
 *   B+8     8     last_index (> 0)
 *   B+16    8     last_term (> 0, <= term)
 *   B+24    8     conf_index (> 0, <= last_index)
 *   B+32    4     S: servers in conf (1..RMSG_CONF_SERVERS_MAX)
 *   B+36    ...   S servers, each:
 *                   +0   8  id (> 0, distinct)
 *                   +8   1  role: RAFT_STANDBY (0), RAFT_VOTER (1), RAFT_SPARE (2)
 *                   +9   2  C: address length (0..RMSG_ADDRESS_BYTES_MAX)
 *                   +11  C  address, no NUL, distinct
 *   then    4     D: data length
 *   then    D     data
 *
 * TIMEOUT_NOW (raft_timeout_now):
 *   B+0     8     term (> 0)
 *   B+8     8     last_log_index
 *   B+16    8     last_log_term
 *
 * Lengths are u32: every message travels in one record whose length is a u32, so no field can
 * be longer. There is no checksum here: the peer transport frames and checks the stream, and
 * the entries' payloads (Kafka record batches) carry their own CRC-32C.
 *
 * Invariants:
 *   1. Every record rmsg_encode appends is at most min(frame_bytes_max, UINT32_MAX) bytes after
 *      its prefix, and decodes (rmsg_decode) to a message equal to the one encoded, or to a
 *      chunk of it as rmsg.h describes.
 *   2. A decoded AppendEntries with N > 0 entries has one batch, entries[i].batch == batch and
 *      entries[i].buf.base inside it; with N == 0 it has entries == NULL (raft's
 *      entryBatchesDestroy asserts that).
 */
#include "raft/rmsg.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"

enum {
	HEADER_BYTES = 20,      /* before the sender's address */
	AE_FIXED_BYTES = 36,    /* AppendEntries body before the entry headers */
	AE_ENTRY_BYTES = 16,    /* one entry header */
	AE_RESULT_BYTES = 24,   /* AppendEntriesResult body */
	RV_BYTES = 33,          /* RequestVote body */
	RV_RESULT_BYTES = 10,   /* RequestVoteResult body */
	IS_FIXED_BYTES = 36,    /* InstallSnapshot body before the servers */
	IS_SERVER_BYTES = 11,   /* one server, before its address */
	IS_DATA_LEN_BYTES = 4,  /* InstallSnapshot data length */
	TIMEOUT_NOW_BYTES = 24, /* TimeoutNow body */
};

#define RV_FLAG_DISRUPT_LEADER 0x01u
#define RV_FLAG_PRE_VOTE 0x02u

_Static_assert(RMSG_ADDRESS_BYTES_MAX <= UINT16_MAX, "address lengths are u16 on the wire");
_Static_assert(RMSG_CONF_SERVERS_MAX <= UINT32_MAX / 2, "server counts are u32 on the wire");
_Static_assert(RAFT_IO_APPEND_ENTRIES == 1 && RAFT_IO_TIMEOUT_NOW == 6,
	       "the wire's type codes are raft 0.15.0's");
_Static_assert(RAFT_COMMAND == 1 && RAFT_BARRIER == 2 && RAFT_CHANGE == 3,
	       "the wire's entry types are raft 0.15.0's");
_Static_assert(RAFT_STANDBY == 0 && RAFT_VOTER == 1 && RAFT_SPARE == 2,
	       "the wire's roles are raft 0.15.0's");

static const char *type_name(unsigned type)
{
	switch (type) {
	case RAFT_IO_APPEND_ENTRIES:
		return "AppendEntries";
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		return "AppendEntriesResult";
	case RAFT_IO_REQUEST_VOTE:
		return "RequestVote";
	case RAFT_IO_REQUEST_VOTE_RESULT:
		return "RequestVoteResult";
	case RAFT_IO_INSTALL_SNAPSHOT:
		return "InstallSnapshot";
	case RAFT_IO_TIMEOUT_NOW:
		return "TimeoutNow";
	default:
		return "unknown";
	}
}

/* ---------------------------------------------------------------------------------------------
 * Encoding
 */

/* Returns the largest message rmsg_encode may produce for a limit of `frame_bytes_max`. */
static size_t limit_of(size_t frame_bytes_max)
{
	return frame_bytes_max > UINT32_MAX ? UINT32_MAX : frame_bytes_max;
}

/* Starts a record: reserves its length prefix and returns where it is. */
static size_t record_begin(struct wbuf *w)
{
	size_t at = w->len;

	wbuf_be32(w, 0);
	return at;
}

/* Ends the record begun at `at`: fills in its length, which must be `expect` (the size the
 * caller computed and checked against the limit). */
static void record_end(struct wbuf *w, size_t at, size_t expect)
{
	if (w->oom)
		return;
	size_t len = w->len - at - RMSG_PREFIX_BYTES;
	assert(len == expect);
	assert(len <= UINT32_MAX);
	(void)expect;
	be32_put(w->data + at, (uint32_t)len);
}

static void put_header(struct wbuf *w, uint8_t type, uint64_t group, const struct raft_message *m,
		       size_t alen)
{
	wbuf_u8(w, RMSG_FORMAT_VERSION);
	wbuf_u8(w, type);
	wbuf_be16(w, (uint16_t)alen);
	wbuf_be64(w, group);
	wbuf_be64(w, m->server_id);
	wbuf_put(w, m->server_address, alen);
}

/* Encodes an AppendEntries carrying entries[0..n) with the given prev and commit. */
static void put_append_entries(struct wbuf *w, uint64_t group, const struct raft_message *m,
			       size_t alen, raft_index prev_index, raft_term prev_term,
			       raft_index commit, const struct raft_entry *entries, unsigned n)
{
	const struct raft_append_entries *ae = &m->append_entries;

	put_header(w, RAFT_IO_APPEND_ENTRIES, group, m, alen);
	wbuf_be64(w, ae->term);
	wbuf_be64(w, prev_index);
	wbuf_be64(w, prev_term);
	wbuf_be64(w, commit);
	wbuf_be32(w, n);
	for (unsigned i = 0; i < n; i++) {
		assert(entries[i].buf.len <= UINT32_MAX);
		wbuf_be64(w, entries[i].term);
		wbuf_u8(w, (uint8_t)entries[i].type);
		wbuf_u8(w, 0);
		wbuf_be16(w, 0);
		wbuf_be32(w, (uint32_t)entries[i].buf.len);
	}
	for (unsigned i = 0; i < n; i++)
		wbuf_put(w, entries[i].buf.base, entries[i].buf.len);
}

/* Appends the AppendEntries `m` as one record, or as several when it exceeds `max` (rmsg.h).
 * Returns the number of records or SLUICE_ETOOLARGE. */
static int encode_append_entries(struct wbuf *w, uint64_t group, const struct raft_message *m,
				 size_t alen, size_t max)
{
	const struct raft_append_entries *ae = &m->append_entries;
	const size_t fixed = HEADER_BYTES + alen + AE_FIXED_BYTES;
	size_t total = fixed;
	int records = 0;

	if (ae->n_entries > 0 && ae->entries == NULL)
		return SLUICE_EINVAL;
	for (unsigned i = 0; i < ae->n_entries; i++) {
		size_t len = ae->entries[i].buf.len;
		if (len > UINT32_MAX || len > max)
			return SLUICE_ETOOLARGE;
		if (len > 0 && ae->entries[i].buf.base == NULL)
			return SLUICE_EINVAL;
		/* Stops adding once above the limit (which is at most UINT32_MAX): no overflow. */
		if (total <= max)
			total += AE_ENTRY_BYTES + len;
	}
	if (fixed > max)
		return SLUICE_ETOOLARGE;
	if (total <= max) {
		size_t at = record_begin(w);
		put_append_entries(w, group, m, alen, ae->prev_log_index, ae->prev_log_term,
				   ae->leader_commit, ae->entries, ae->n_entries);
		record_end(w, at, total);
		return 1;
	}

	/* Split: greedy chunks, each a valid AppendEntries (rmsg.h). */
	unsigned i = 0;
	while (i < ae->n_entries) {
		size_t size = fixed;
		unsigned j = i;
		while (j < ae->n_entries && AE_ENTRY_BYTES + ae->entries[j].buf.len <= max - size) {
			size += AE_ENTRY_BYTES + ae->entries[j].buf.len;
			j++;
		}
		if (j == i)
			return SLUICE_ETOOLARGE;
		raft_index prev_index = ae->prev_log_index;
		raft_term prev_term = ae->prev_log_term;
		if (i > 0) {
			prev_index = ae->prev_log_index + i;
			prev_term = ae->entries[i - 1].term;
		}
		raft_index commit = ae->leader_commit;
		if (j < ae->n_entries && commit > ae->prev_log_index + j)
			commit = ae->prev_log_index + j;
		size_t at = record_begin(w);
		put_append_entries(w, group, m, alen, prev_index, prev_term, commit,
				   &ae->entries[i], j - i);
		record_end(w, at, size);
		records++;
		i = j;
	}
	return records;
}

/* Returns the size of the InstallSnapshot `m`'s message, or SLUICE_EINVAL. */
static int install_snapshot_size(const struct raft_message *m, size_t alen, size_t *size)
{
	const struct raft_install_snapshot *is = &m->install_snapshot;
	size_t total = HEADER_BYTES + alen + IS_FIXED_BYTES + IS_DATA_LEN_BYTES;

	if (is->conf.n == 0 || is->conf.n > RMSG_CONF_SERVERS_MAX || is->conf.servers == NULL)
		return SLUICE_EINVAL;
	for (unsigned i = 0; i < is->conf.n; i++) {
		const char *a = is->conf.servers[i].address;
		size_t clen = a != NULL ? strlen(a) : 0;
		if (a == NULL || clen > RMSG_ADDRESS_BYTES_MAX)
			return SLUICE_EINVAL;
		total += IS_SERVER_BYTES + clen;
	}
	if (is->data.len > 0 && is->data.base == NULL)
		return SLUICE_EINVAL;
	if (is->data.len > UINT32_MAX || is->data.len > SIZE_MAX - total) {
		*size = SIZE_MAX;
		return 0;
	}
	*size = total + is->data.len;
	return 0;
}

static void put_install_snapshot(struct wbuf *w, uint64_t group, const struct raft_message *m,
				 size_t alen)
{
	const struct raft_install_snapshot *is = &m->install_snapshot;

	put_header(w, RAFT_IO_INSTALL_SNAPSHOT, group, m, alen);
	wbuf_be64(w, is->term);
	wbuf_be64(w, is->last_index);
	wbuf_be64(w, is->last_term);
	wbuf_be64(w, is->conf_index);
	wbuf_be32(w, is->conf.n);
	for (unsigned i = 0; i < is->conf.n; i++) {
		const struct raft_server *s = &is->conf.servers[i];
		size_t clen = strlen(s->address);
		wbuf_be64(w, s->id);
		wbuf_u8(w, (uint8_t)s->role);
		wbuf_be16(w, (uint16_t)clen);
		wbuf_put(w, s->address, clen);
	}
	wbuf_be32(w, (uint32_t)is->data.len);
	wbuf_put(w, is->data.base, is->data.len);
}

/* Encodes one of the messages whose body has a fixed size. */
static void put_fixed(struct wbuf *w, uint64_t group, const struct raft_message *m, size_t alen)
{
	put_header(w, (uint8_t)m->type, group, m, alen);
	switch (m->type) {
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		wbuf_be64(w, m->append_entries_result.term);
		wbuf_be64(w, m->append_entries_result.rejected);
		wbuf_be64(w, m->append_entries_result.last_log_index);
		break;
	case RAFT_IO_REQUEST_VOTE: {
		const struct raft_request_vote *rv = &m->request_vote;
		uint8_t flags = (rv->disrupt_leader ? RV_FLAG_DISRUPT_LEADER : 0) |
				(rv->pre_vote ? RV_FLAG_PRE_VOTE : 0);
		wbuf_be64(w, rv->term);
		wbuf_be64(w, rv->candidate_id);
		wbuf_be64(w, rv->last_log_index);
		wbuf_be64(w, rv->last_log_term);
		wbuf_u8(w, flags);
		break;
	}
	case RAFT_IO_REQUEST_VOTE_RESULT:
		wbuf_be64(w, m->request_vote_result.term);
		wbuf_u8(w, m->request_vote_result.vote_granted ? 1 : 0);
		wbuf_u8(w, (uint8_t)m->request_vote_result.pre_vote);
		break;
	case RAFT_IO_TIMEOUT_NOW:
		wbuf_be64(w, m->timeout_now.term);
		wbuf_be64(w, m->timeout_now.last_log_index);
		wbuf_be64(w, m->timeout_now.last_log_term);
		break;
	default:
		assert(0 && "put_fixed: not a fixed-size message");
	}
}

/* Returns the body size of a message whose body has a fixed size, 0 for the others. */
static size_t fixed_body_bytes(unsigned type)
{
	switch (type) {
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		return AE_RESULT_BYTES;
	case RAFT_IO_REQUEST_VOTE:
		return RV_BYTES;
	case RAFT_IO_REQUEST_VOTE_RESULT:
		return RV_RESULT_BYTES;
	case RAFT_IO_TIMEOUT_NOW:
		return TIMEOUT_NOW_BYTES;
	default:
		return 0;
	}
}

int rmsg_encode(struct wbuf *out, uint64_t group, const struct raft_message *msg,
		size_t frame_bytes_max)
{
	const size_t start = out->len;
	const size_t max = limit_of(frame_bytes_max);
	size_t alen, size, at;
	int rv;

	assert(out != NULL && msg != NULL);
	if (msg->server_address == NULL)
		return SLUICE_EINVAL;
	alen = strlen(msg->server_address);
	if (alen > RMSG_ADDRESS_BYTES_MAX)
		return SLUICE_EINVAL;

	switch (msg->type) {
	case RAFT_IO_APPEND_ENTRIES:
		rv = encode_append_entries(out, group, msg, alen, max);
		break;
	case RAFT_IO_INSTALL_SNAPSHOT:
		rv = install_snapshot_size(msg, alen, &size);
		if (rv != 0)
			break;
		if (size > max) {
			rv = SLUICE_ETOOLARGE;
			break;
		}
		at = record_begin(out);
		put_install_snapshot(out, group, msg, alen);
		record_end(out, at, size);
		rv = 1;
		break;
	case RAFT_IO_REQUEST_VOTE_RESULT:
		if ((unsigned)msg->request_vote_result.pre_vote > raft_tribool_false) {
			rv = SLUICE_EINVAL;
			break;
		}
		/* fall through */
	case RAFT_IO_APPEND_ENTRIES_RESULT:
	case RAFT_IO_REQUEST_VOTE:
	case RAFT_IO_TIMEOUT_NOW:
		size = HEADER_BYTES + alen + fixed_body_bytes(msg->type);
		if (size > max) {
			rv = SLUICE_ETOOLARGE;
			break;
		}
		at = record_begin(out);
		put_fixed(out, group, msg, alen);
		record_end(out, at, size);
		rv = 1;
		break;
	default:
		rv = SLUICE_EINVAL;
	}
	if (rv >= 0 && out->oom)
		rv = SLUICE_ENOMEM;
	if (rv < 0 && out->len > start)
		out->len = start; /* nothing appended, as promised */
	return rv;
}

int rmsg_record_next(const uint8_t *p, size_t n, size_t *off, const uint8_t **msg, size_t *len)
{
	assert(*off <= n);
	if (*off == n)
		return 0;
	if (n - *off < RMSG_PREFIX_BYTES)
		return SLUICE_EMALFORMED;
	size_t l = be32_get(p + *off);
	if (l > n - *off - RMSG_PREFIX_BYTES)
		return SLUICE_EMALFORMED;
	*msg = p + *off + RMSG_PREFIX_BYTES;
	*len = l;
	*off += RMSG_PREFIX_BYTES + l;
	return 1;
}

/* ---------------------------------------------------------------------------------------------
 * Decoding
 */

/* Copies `n` bytes at `p` into a new raft_malloc'd NUL-terminated string, rejecting embedded
 * NULs (raft compares addresses with strcmp). Returns 0, SLUICE_EMALFORMED or SLUICE_ENOMEM. */
static int address_dup(const uint8_t *p, size_t n, char **out)
{
	if (n > 0 && memchr(p, '\0', n) != NULL)
		return SLUICE_EMALFORMED;
	char *s = raft_malloc(n + 1);
	if (s == NULL)
		return SLUICE_ENOMEM;
	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	*out = s;
	return 0;
}

/* Fails decoding with `code` and a reason. */
#define FAIL(code, ...)                                                                            \
	do {                                                                                       \
		errmsg_printf(errmsg, __VA_ARGS__);                                                \
		rv = (code);                                                                       \
		goto err;                                                                          \
	} while (0)

static int decode_append_entries(struct rbuf *r, struct raft_append_entries *ae, char *errmsg)
{
	struct rbuf headers;
	uint64_t payload_bytes = 0;
	raft_term last_term;
	uint8_t *batch = NULL;
	int rv;

	ae->term = rbuf_be64(r);
	ae->prev_log_index = rbuf_be64(r);
	ae->prev_log_term = rbuf_be64(r);
	ae->leader_commit = rbuf_be64(r);
	uint32_t n = rbuf_be32(r);
	if (r->err)
		FAIL(SLUICE_EMALFORMED, "truncated before the entries");
	if (ae->term == 0)
		FAIL(SLUICE_EMALFORMED, "term 0");
	if (ae->prev_log_term > ae->term)
		FAIL(SLUICE_EMALFORMED, "prev_log_term %llu above term %llu", ae->prev_log_term,
		     ae->term);
	if (n > UINT64_MAX - ae->prev_log_index)
		FAIL(SLUICE_EMALFORMED, "prev_log_index %llu + %" PRIu32 " entries overflows",
		     ae->prev_log_index, n);
	if (n > rbuf_left(r) / AE_ENTRY_BYTES)
		FAIL(SLUICE_EMALFORMED, "%" PRIu32 " entries do not fit in %zu bytes", n,
		     rbuf_left(r));

	/* First pass: validate the headers and add up the payloads before allocating. */
	rbuf_init(&headers, rbuf_bytes(r, (size_t)n * AE_ENTRY_BYTES), (size_t)n * AE_ENTRY_BYTES);
	last_term = ae->prev_log_term;
	for (uint32_t i = 0; i < n; i++) {
		raft_term term = rbuf_be64(&headers);
		uint8_t type = rbuf_u8(&headers);
		uint8_t reserved = rbuf_u8(&headers);
		uint16_t reserved2 = rbuf_be16(&headers);
		uint32_t len = rbuf_be32(&headers);
		if (term == 0 || term > ae->term || term < last_term)
			FAIL(SLUICE_EMALFORMED,
			     "entry %" PRIu32 " of %" PRIu32 ": term %llu outside %llu..%llu", i, n,
			     term, last_term > 0 ? last_term : 1, ae->term);
		if (type != RAFT_COMMAND && type != RAFT_BARRIER && type != RAFT_CHANGE)
			FAIL(SLUICE_EMALFORMED, "entry %" PRIu32 " of %" PRIu32 ": type %u unknown",
			     i, n, type);
		if (reserved != 0 || reserved2 != 0)
			FAIL(SLUICE_EMALFORMED,
			     "entry %" PRIu32 " of %" PRIu32 ": reserved bytes not zero", i, n);
		last_term = term;
		payload_bytes += len;
		if (payload_bytes > rbuf_left(r))
			FAIL(SLUICE_EMALFORMED,
			     "entry %" PRIu32 " of %" PRIu32 ": payloads exceed the %zu bytes left",
			     i, n, rbuf_left(r));
	}
	assert(!headers.err);
	if (payload_bytes != rbuf_left(r))
		FAIL(SLUICE_EMALFORMED, "entries hold %" PRIu64 " payload bytes, %zu present",
		     payload_bytes, rbuf_left(r));
	ae->n_entries = n;
	if (n == 0) {
		ae->entries = NULL; /* raft's entryBatchesDestroy asserts it for no entries */
		return 0;
	}

	/* Second pass: one batch for all payloads (raft frees entries[0].batch only). */
	ae->entries = raft_malloc((size_t)n * sizeof *ae->entries);
	if (ae->entries == NULL)
		FAIL(SLUICE_ENOMEM, "out of memory for %" PRIu32 " entries", n);
	batch = raft_malloc(payload_bytes > 0 ? (size_t)payload_bytes : 1);
	if (batch == NULL)
		FAIL(SLUICE_ENOMEM, "out of memory for %" PRIu64 " bytes of entries",
		     payload_bytes);
	memcpy(batch, rbuf_bytes(r, (size_t)payload_bytes), (size_t)payload_bytes);
	headers.pos = 0;
	size_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct raft_entry *e = &ae->entries[i];
		e->term = rbuf_be64(&headers);
		e->type = rbuf_u8(&headers);
		rbuf_skip(&headers, 3);
		e->buf.len = rbuf_be32(&headers);
		e->buf.base = batch + off;
		e->batch = batch;
		off += e->buf.len;
	}
	assert(!headers.err && off == payload_bytes);
	return 0;

err:
	raft_free(batch);
	raft_free(ae->entries);
	ae->entries = NULL;
	ae->n_entries = 0;
	return rv;
}

static int decode_install_snapshot(struct rbuf *r, struct raft_install_snapshot *is, char *errmsg)
{
	int rv;

	raft_configuration_init(&is->conf);
	is->data.base = NULL;
	is->data.len = 0;
	is->term = rbuf_be64(r);
	is->last_index = rbuf_be64(r);
	is->last_term = rbuf_be64(r);
	is->conf_index = rbuf_be64(r);
	uint32_t n = rbuf_be32(r);
	if (r->err)
		FAIL(SLUICE_EMALFORMED, "truncated before the configuration");
	if (is->term == 0 || is->last_index == 0 || is->last_term == 0)
		FAIL(SLUICE_EMALFORMED, "term %llu, last_index %llu, last_term %llu: zero",
		     is->term, is->last_index, is->last_term);
	if (is->last_term > is->term)
		FAIL(SLUICE_EMALFORMED, "last_term %llu above term %llu", is->last_term, is->term);
	if (is->conf_index == 0 || is->conf_index > is->last_index)
		FAIL(SLUICE_EMALFORMED, "conf_index %llu outside 1..%llu", is->conf_index,
		     is->last_index);
	if (n == 0 || n > RMSG_CONF_SERVERS_MAX)
		FAIL(SLUICE_EMALFORMED, "%" PRIu32 " servers outside 1..%d", n,
		     RMSG_CONF_SERVERS_MAX);
	if (n > rbuf_left(r) / IS_SERVER_BYTES)
		FAIL(SLUICE_EMALFORMED, "%" PRIu32 " servers do not fit in %zu bytes", n,
		     rbuf_left(r));
	for (uint32_t i = 0; i < n; i++) {
		char address[RMSG_ADDRESS_BYTES_MAX + 1];
		raft_id id = rbuf_be64(r);
		uint8_t role = rbuf_u8(r);
		uint16_t clen = rbuf_be16(r);
		const uint8_t *a = clen <= RMSG_ADDRESS_BYTES_MAX ? rbuf_bytes(r, clen) : NULL;
		if (r->err)
			FAIL(SLUICE_EMALFORMED, "server %" PRIu32 " of %" PRIu32 ": truncated", i,
			     n);
		if (a == NULL)
			FAIL(SLUICE_EMALFORMED,
			     "server %" PRIu32 " of %" PRIu32 ": address of %u bytes, limit %d", i,
			     n, clen, RMSG_ADDRESS_BYTES_MAX);
		if (id == 0)
			FAIL(SLUICE_EMALFORMED, "server %" PRIu32 " of %" PRIu32 ": id 0", i, n);
		if (clen > 0 && memchr(a, '\0', clen) != NULL)
			FAIL(SLUICE_EMALFORMED, "server %" PRIu32 " of %" PRIu32 ": NUL in address",
			     i, n);
		memcpy(address, a, clen);
		address[clen] = '\0';
		/* raft_configuration_add checks the role and duplicate ids and addresses. */
		int rrv = raft_configuration_add(&is->conf, id, address, role);
		if (rrv == RAFT_NOMEM)
			FAIL(SLUICE_ENOMEM, "out of memory for server %" PRIu32, i);
		if (rrv != 0)
			FAIL(SLUICE_EMALFORMED, "server %" PRIu32 " of %" PRIu32 " (id %llu): %s",
			     i, n, id, raft_strerror(rrv));
	}
	uint32_t d = rbuf_be32(r);
	const uint8_t *data = rbuf_bytes(r, d);
	if (r->err)
		FAIL(SLUICE_EMALFORMED, "data of %" PRIu32 " bytes, %zu present", d, rbuf_left(r));
	is->data.base = raft_malloc(d > 0 ? d : 1);
	if (is->data.base == NULL)
		FAIL(SLUICE_ENOMEM, "out of memory for %" PRIu32 " bytes of snapshot", d);
	memcpy(is->data.base, data, d);
	is->data.len = d;
	return 0;

err:
	raft_configuration_close(&is->conf);
	raft_configuration_init(&is->conf);
	return rv;
}

int rmsg_decode(const uint8_t *p, size_t n, uint64_t *group, struct raft_message *msg, char *errmsg)
{
	struct rbuf r;
	char *address = NULL;
	int rv;

	assert(group != NULL && msg != NULL);
	/* From here on *msg owns what it points to, so the one error path is rmsg_release(). */
	memset(msg, 0, sizeof *msg);
	rbuf_init(&r, p, n);
	uint8_t version = rbuf_u8(&r);
	uint8_t type = rbuf_u8(&r);
	uint16_t alen = rbuf_be16(&r);
	uint64_t g = rbuf_be64(&r);
	raft_id from = rbuf_be64(&r);
	if (r.err)
		FAIL(SLUICE_EMALFORMED, "%zu bytes, shorter than the %d-byte header", n,
		     HEADER_BYTES);
	if (version != RMSG_FORMAT_VERSION)
		FAIL(SLUICE_EVERSION, "format version %u, expected %d", version,
		     RMSG_FORMAT_VERSION);
	if (type < RAFT_IO_APPEND_ENTRIES || type > RAFT_IO_TIMEOUT_NOW)
		FAIL(SLUICE_EMALFORMED, "message type %u unknown", type);
	if (from == 0)
		FAIL(SLUICE_EMALFORMED, "%s from server id 0", type_name(type));
	if (alen > RMSG_ADDRESS_BYTES_MAX)
		FAIL(SLUICE_EMALFORMED, "%s: sender address of %u bytes, limit %d", type_name(type),
		     alen, RMSG_ADDRESS_BYTES_MAX);
	const uint8_t *a = rbuf_bytes(&r, alen);
	if (a == NULL)
		FAIL(SLUICE_EMALFORMED, "%s: truncated in the sender address", type_name(type));
	rv = address_dup(a, alen, &address);
	if (rv == SLUICE_EMALFORMED)
		FAIL(rv, "%s: NUL in the sender address", type_name(type));
	if (rv != 0)
		FAIL(rv, "%s: out of memory for the sender address", type_name(type));
	msg->type = type;
	msg->server_id = from;
	msg->server_address = address;

	switch (type) {
	case RAFT_IO_APPEND_ENTRIES:
		/* On failure the body decoders free what they allocated. */
		rv = decode_append_entries(&r, &msg->append_entries, errmsg);
		if (rv != 0) {
			errmsg_wrapf(errmsg, "%s", type_name(type));
			goto err;
		}
		break;
	case RAFT_IO_INSTALL_SNAPSHOT:
		rv = decode_install_snapshot(&r, &msg->install_snapshot, errmsg);
		if (rv != 0) {
			errmsg_wrapf(errmsg, "%s", type_name(type));
			goto err;
		}
		break;
	case RAFT_IO_APPEND_ENTRIES_RESULT:
		msg->append_entries_result.term = rbuf_be64(&r);
		msg->append_entries_result.rejected = rbuf_be64(&r);
		msg->append_entries_result.last_log_index = rbuf_be64(&r);
		break;
	case RAFT_IO_REQUEST_VOTE: {
		struct raft_request_vote *rvote = &msg->request_vote;
		rvote->term = rbuf_be64(&r);
		rvote->candidate_id = rbuf_be64(&r);
		rvote->last_log_index = rbuf_be64(&r);
		rvote->last_log_term = rbuf_be64(&r);
		uint8_t flags = rbuf_u8(&r);
		rvote->disrupt_leader = (flags & RV_FLAG_DISRUPT_LEADER) != 0;
		rvote->pre_vote = (flags & RV_FLAG_PRE_VOTE) != 0;
		if (r.err)
			break;
		if (rvote->term == 0 || rvote->candidate_id == 0)
			FAIL(SLUICE_EMALFORMED, "RequestVote: term %llu, candidate %llu: zero",
			     rvote->term, rvote->candidate_id);
		if ((flags & ~(RV_FLAG_DISRUPT_LEADER | RV_FLAG_PRE_VOTE)) != 0)
			FAIL(SLUICE_EMALFORMED, "RequestVote: unknown flags 0x%02x", flags);
		break;
	}
	case RAFT_IO_REQUEST_VOTE_RESULT: {
		msg->request_vote_result.term = rbuf_be64(&r);
		uint8_t granted = rbuf_u8(&r);
		uint8_t pre_vote = rbuf_u8(&r);
		if (r.err)
			break;
		if (granted > 1)
			FAIL(SLUICE_EMALFORMED, "RequestVoteResult: vote_granted %u", granted);
		if (pre_vote > raft_tribool_false)
			FAIL(SLUICE_EMALFORMED, "RequestVoteResult: pre_vote %u", pre_vote);
		msg->request_vote_result.vote_granted = granted == 1;
		msg->request_vote_result.pre_vote = (raft_tribool)pre_vote;
		break;
	}
	case RAFT_IO_TIMEOUT_NOW:
		msg->timeout_now.term = rbuf_be64(&r);
		msg->timeout_now.last_log_index = rbuf_be64(&r);
		msg->timeout_now.last_log_term = rbuf_be64(&r);
		if (!r.err && msg->timeout_now.term == 0)
			FAIL(SLUICE_EMALFORMED, "TimeoutNow: term 0");
		break;
	}
	if (r.err)
		FAIL(SLUICE_EMALFORMED, "%s: truncated body (%zu bytes)", type_name(type), n);
	if (rbuf_left(&r) != 0)
		FAIL(SLUICE_EMALFORMED, "%s: %zu bytes after the message", type_name(type),
		     rbuf_left(&r));
	*group = g;
	return 0;

err:
	rmsg_release(msg);
	memset(msg, 0, sizeof *msg);
	return rv;
}

void rmsg_release_address(struct raft_message *msg)
{
	raft_free((char *)msg->server_address);
	msg->server_address = NULL;
}

void rmsg_release(struct raft_message *msg)
{
	if (msg == NULL)
		return;
	rmsg_release_address(msg);
	switch (msg->type) {
	case RAFT_IO_APPEND_ENTRIES:
		if (msg->append_entries.n_entries > 0 && msg->append_entries.entries != NULL)
			raft_free(msg->append_entries.entries[0].batch);
		raft_free(msg->append_entries.entries);
		msg->append_entries.entries = NULL;
		msg->append_entries.n_entries = 0;
		break;
	case RAFT_IO_INSTALL_SNAPSHOT:
		raft_configuration_close(&msg->install_snapshot.conf);
		raft_configuration_init(&msg->install_snapshot.conf);
		raft_free(msg->install_snapshot.data.base);
		msg->install_snapshot.data.base = NULL;
		msg->install_snapshot.data.len = 0;
		break;
	default:
		break;
	}
}
