/*
 * rlog: a Raft group's log, term, vote and snapshots on the partition log (contract in rlog.h).
 *
 * Design. All disk work goes through the group's plog and its one ordered op queue: entries are
 * plog appends (one per entry, so plog's group commit batches them), truncation is
 * plog_truncate, term and vote are plog_set_raft_state (the state file's only writer), and the
 * snapshot file is written by a plog_submit_work job, which runs after every earlier op, so a
 * snapshot is never stored before the entries it names are durable, and never after a write,
 * truncation or reset that failed (plog skips the job then: an install's snapshot stored over
 * a log whose reset failed would end past that log, and the replica could not load again).
 * rlog itself keeps, on the loop:
 *
 *   - the window: the BaseOffset of every tracked entry [first, first + n) in a compact array,
 *     and next_offset, the BaseOffset the next entry gets (the plog's end). It grows with
 *     appends, is cut by truncate, loses its front when a snapshot is stored (raft drops those
 *     entries from memory too), and is rebuilt by load() by counting batches from an anchor;
 *   - a FIFO of append requests: each completes to raft once all its plog appends have
 *     (canceled ones included: they were truncated away, and raft does not count them), in
 *     submission order, and only while the group has not failed;
 *   - the latest durable snapshot, as its file image (snapshot_get copies from it);
 *   - during an install, the install's state and the appends/truncates raft issued meanwhile,
 *     replayed once the snapshot is stored.
 *
 * Failure modes: an error from plog (a failed write, sync, truncate, reset, state write or
 * snapshot write, or a synchronous refusal) marks the group failed and calls `fatal` once; from
 * then on no callback reaches raft until rlog_close cancels what is still pending. Data read at
 * load that does not add up (a batch that is not a Raft entry, anchors that do not fall on batch
 * boundaries, counts that disagree) is SLUICE_ECORRUPT with the offset named.
 *
 * raft.snap, format version RLOG_SNAP_FORMAT_VERSION (big-endian), written atomically
 * (fs_write_atomic: temp file, fdatasync, rename, directory fsync):
 *
 *   offset   size  field                meaning
 *   0        4     magic                "SLRS"
 *   4        2     version              1
 *   6        2     header_bytes         68: where the configuration starts
 *   8        8     index                raft index of the last entry the snapshot covers
 *   16       8     term                 that entry's term
 *   24       8     configuration_index  index of the configuration held below
 *   32       8     anchor_index         first entry load() may return (<= index + 1)
 *   40       8     anchor_offset        BaseOffset of anchor_index's batch
 *   48       8     end_offset           BaseOffset of entry index + 1: one past entry `index`
 *   56       4     configuration_bytes  C
 *   60       8     data_bytes           D
 *   68       C     configuration        u32 count, then per server: u64 id, u8 role,
 *                                       u16 address length, address bytes
 *   68+C     D     data                 the state machine's bytes
 *   68+C+D   4     crc                  CRC-32C of bytes [0, 68+C+D)
 *
 * Invariants:
 *   1. next_offset == plog_end_offset(plog), except while detached (load found a log the
 *      snapshot's anchors do not reach, or a log without a snapshot that does not start at
 *      FIRST_ENTRY_OFFSET; next_offset is the snapshot's end, or FIRST_ENTRY_OFFSET, and the
 *      next append or install resets the plog there) or installing (next_offset is the kept
 *      prefix's end).
 *   2. bases[head..head+n) are strictly increasing and below next_offset.
 *   3. The FIFO's requests complete in order; a request is freed only after its last plog
 *      append completed.
 */
#include "raft/rlog.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "base/slog.h"
#include "kafka/records.h"
#include "storage/batch.h"

#define MOD "rlog"

#define SNAP_MAGIC "SLRS"
#define SNAP_HEADER_BYTES 68
#define SNAP_CRC_BYTES 4
/* A snapshot file above this is damage: the largest state machine image (the controller's
 * metadata) is orders of magnitude smaller. */
#define SNAP_FILE_BYTES_MAX (256u << 20)

/* load() reads the log in chunks of this size (whole batches; bigger batches come whole). */
#define LOAD_READ_BYTES (1u << 20)
/* BaseOffset of entry 1 in every replica's log: bootstrap writes it on a fresh plog, which
 * starts at 0, and a replica that was not bootstrapped starts empty at 0 and keeps the leader's
 * offsets. Without a snapshot only a reset moves a log's start past it. */
#define FIRST_ENTRY_OFFSET 0
/* raft's own barrier payload size; a loaded barrier gets this many zero bytes. */
#define BARRIER_PAYLOAD_BYTES 8
/* The window's array is shrunk when it has room for this many entries and is less than a
 * quarter full (so a burst of entries does not pin its memory). */
#define WINDOW_SHRINK_ENTRIES_MIN 4096

_Static_assert(SNAP_HEADER_BYTES == 68, "raft.snap header layout");
_Static_assert(RLOG_CTRL_BARRIER <= INT16_MAX && RLOG_CTRL_CHANGE <= INT16_MAX,
	       "control record types are int16");

/* The latest snapshot as stored: the file image and its decoded fields. */
struct snap {
	uint8_t *image;
	size_t len;
	raft_index index;
	raft_term term;
	raft_index conf_index;
	raft_index anchor_index;
	int64_t anchor_offset;
	int64_t end_offset;
	size_t conf_at;
	size_t conf_len;
	size_t data_at;
	size_t data_len;
};

struct rlog;

/* One rlog_append call: a plog append per entry. */
struct append {
	struct rlog *l;
	void (*cb)(void *arg, int status);
	void *arg;
	const struct raft_entry *entries;
	unsigned n;
	int flags;
	bool started;   /* submitted to plog (false while held by an install) */
	unsigned left;  /* plog appends submitted and not yet completed */
	struct append *next; /* the FIFO */
	struct plog_append_req reqs[];
};

/* An operation raft issued during an install, replayed after it. */
struct deferred {
	struct append *append; /* or NULL for a truncate */
	raft_index index;
	struct deferred *next;
};

/* One plog append of an install's data. */
struct install_append {
	struct plog_append_req req;
	struct rlog *l;
	struct install_append *prev, *next;
};

/* A snapshot file write, ordered behind the log's earlier disk work. */
struct snap_job {
	struct plog_work w;
	struct rlog *l;
	struct snap *snap; /* the new snapshot (owned until it becomes l->snap) */
	bool install;
	raft_index trim_first; /* snapshot_put: the first index raft keeps */
	void (*cb)(void *arg, int status);
	void *arg;
	int status; /* the worker's */
	struct snap_job *prev, *next; /* l->jobs */
};

struct install {
	struct snap *snap; /* to store at finish (moved into the job) */
	raft_index keep;   /* last entry kept */
	int64_t from;      /* end of the kept prefix */
	int64_t next;      /* next offset expected */
	int64_t to;        /* end of the snapshot's last entry */
	uint64_t batches;  /* batches appended (meaningful without reset) */
	bool reset;
	bool finishing;
};

struct rlog {
	char dir[PATH_MAX];
	char snap_path[PATH_MAX];
	char name[128];
	struct fs *fs;
	struct plog *plog;
	void (*fatal)(void *arg, const char *why);
	void *fatal_arg;
	void (*durable_cb)(void *arg);
	void *durable_arg;

	raft_term term;
	raft_id vote;
	struct snap *snap; /* latest durable snapshot, or NULL */

	/* The window (see the design note). */
	raft_index first;
	int64_t *bases;
	size_t head;
	size_t n;
	size_t cap;
	int64_t next_offset;

	struct append *fifo_head;
	struct append *fifo_tail;
	bool completing;

	struct install *inst;
	struct deferred *def_head;
	struct deferred *def_tail;
	struct install_append *iappends;
	struct snap_job *jobs; /* submitted, not done */
	struct snap_job *held; /* done after the group failed: canceled at close */

	bool loaded;
	bool detached;
	bool failed;
	bool closing;
	void (*close_cb)(void *arg);
	void *close_arg;
	errmsg_t why;
};

/* ---- failure ------------------------------------------------------------------------------ */

static void fail(struct rlog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Marks the group failed and tells the owner once (M1: never raft). */
static void fail(struct rlog *l, const char *fmt, ...)
{
	errmsg_t why;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (l->failed) {
		SLOG_WARN(MOD, "msg=\"further failure\" log=%s err=\"%s\"", l->name, why);
		return;
	}
	l->failed = true;
	snprintf(l->why, sizeof l->why, "%.100s: %.400s", l->name, why);
	SLOG_ERROR(MOD, "msg=\"raft log failed; the group must stop\" log=%s err=\"%s\"", l->name,
		   why);
	if (!l->closing && l->fatal != NULL)
		l->fatal(l->fatal_arg, l->why);
}

/* ---- the window --------------------------------------------------------------------------- */

static int64_t wbase(const struct rlog *l, raft_index i)
{
	assert(i >= l->first && i < l->first + l->n);
	return l->bases[l->head + (size_t)(i - l->first)];
}

/* BaseOffset of entry i, for i in [first, first + n]. */
static int64_t wbase_or_end(const struct rlog *l, raft_index i)
{
	return i == l->first + l->n ? l->next_offset : wbase(l, i);
}

static int window_reserve(struct rlog *l, size_t more)
{
	size_t ncap;
	int64_t *p;

	if (l->head + l->n + more <= l->cap)
		return 0;
	if (l->head > 0) {
		memmove(l->bases, l->bases + l->head, l->n * sizeof *l->bases);
		l->head = 0;
		if (l->n + more <= l->cap)
			return 0;
	}
	ncap = l->cap ? l->cap : 64;
	while (ncap < l->n + more)
		ncap *= 2;
	p = realloc(l->bases, ncap * sizeof *p);
	if (p == NULL)
		return SLUICE_ENOMEM;
	l->bases = p;
	l->cap = ncap;
	return 0;
}

static void window_push(struct rlog *l, int64_t base)
{
	assert(l->head + l->n < l->cap);
	assert(l->n == 0 || base > l->bases[l->head + l->n - 1]);
	l->bases[l->head + l->n++] = base;
}

/* Forgets the entries below `first` (raft dropped them from memory). */
static void window_trim(struct rlog *l, raft_index first)
{
	size_t k;

	if (first <= l->first)
		return;
	k = (size_t)(first - l->first);
	if (k > l->n)
		k = l->n;
	l->head += k;
	l->n -= k;
	l->first += k;
	if (l->n == 0)
		l->head = 0;
	if (l->cap >= WINDOW_SHRINK_ENTRIES_MIN && l->n < l->cap / 4) {
		int64_t *p;
		memmove(l->bases, l->bases + l->head, l->n * sizeof *l->bases);
		l->head = 0;
		p = realloc(l->bases, (l->cap / 2) * sizeof *p);
		if (p != NULL) {
			l->bases = p;
			l->cap /= 2;
		}
	}
}

/* Forgets entries >= index; `index` must be in [first, first + n]. */
static void window_cut(struct rlog *l, raft_index index)
{
	assert(index >= l->first && index <= l->first + l->n);
	l->next_offset = wbase_or_end(l, index);
	l->n = (size_t)(index - l->first);
}

static void window_reset(struct rlog *l, raft_index first, int64_t next_offset)
{
	l->first = first;
	l->head = 0;
	l->n = 0;
	l->next_offset = next_offset;
}

/* ---- batches ------------------------------------------------------------------------------ */

/* What a stored batch is: RAFT_BARRIER or RAFT_CHANGE for one of rlog's control batches (with
 * its payload, the record's value), RAFT_COMMAND for anything else. */
static unsigned short classify(const uint8_t *p, size_t n, struct kafka_bytes *payload)
{
	struct batch_header h;
	struct records_iter it;
	struct records_record rec;

	if (batch_header_decode(p, n, &h) != 0 || !(h.attributes & BATCH_ATTR_CONTROL) ||
	    h.record_count != 1)
		return RAFT_COMMAND;
	if (records_iter_init(&it, p, n) != 0 || records_iter_next(&it, &rec) != 1)
		return RAFT_COMMAND;
	if (rec.key.len != 4 || be16_get(rec.key.ptr) != 0)
		return RAFT_COMMAND;
	switch (be16_get(rec.key.ptr + 2)) {
	case RLOG_CTRL_BARRIER:
		*payload = rec.value;
		return RAFT_BARRIER;
	case RLOG_CTRL_CHANGE:
		*payload = rec.value;
		return RAFT_CHANGE;
	default:
		return RAFT_COMMAND;
	}
}

/* raft 0.15 encodes a configuration (configuration.c, format 1) as u8 format, u64 count
 * (little-endian), then per server u64 id, the address with its NUL and u8 role, and pads that
 * to a multiple of 8 with bytes it never initialises. Returns the length before the padding, or
 * `len` when the bytes are not that format (they are then kept whole). */
static size_t raft_conf_used_bytes(const uint8_t *p, size_t len)
{
	uint64_t n = 0;
	size_t at = 9;

	if (len < 9 || p[0] != 1)
		return len;
	for (int i = 0; i < 8; i++)
		n |= (uint64_t)p[1 + i] << (8 * i);
	if (n > len / 10)
		return len;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *nul;
		if (len - at < 8)
			return len;
		at += 8;
		nul = memchr(p + at, 0, len - at);
		if (nul == NULL)
			return len;
		at = (size_t)(nul - p) + 1;
		if (at >= len)
			return len;
		at++;
	}
	return at;
}

/* Builds the control batch of a RAFT_BARRIER or RAFT_CHANGE entry at `base_offset`: one record,
 * key {version 0, type}, value the configuration with its padding zeroed (null for a barrier),
 * timestamps 0, no producer. Every field is a function of the arguments, so all replicas build
 * the same bytes (raft leaves the padding of its encoding uninitialised: each node's bootstrap
 * would otherwise differ). NULL on ENOMEM or a payload over INT32_MAX bytes. */
static struct buf *control_batch(int64_t base_offset, raft_term term, unsigned short type,
				 const struct raft_buffer *payload)
{
	uint16_t ctl = type == RAFT_BARRIER ? RLOG_CTRL_BARRIER : RLOG_CTRL_CHANGE;
	uint8_t key[4] = {0, 0, (uint8_t)(ctl >> 8), (uint8_t)(ctl & 0xff)};
	struct records_batch_params bp;
	struct records_new rec = {.timestamp = 0, .key = {key, 4}, .value = {NULL, -1}};
	uint8_t *value = NULL;
	struct wbuf w;
	int rv;

	assert(type == RAFT_BARRIER || type == RAFT_CHANGE);
	if (type == RAFT_CHANGE) {
		size_t used;
		if (payload->len > INT32_MAX)
			return NULL;
		value = calloc(1, payload->len > 0 ? payload->len : 1);
		if (value == NULL)
			return NULL;
		used = raft_conf_used_bytes(payload->base, payload->len);
		memcpy(value, payload->base, used);
		rec.value.ptr = value;
		rec.value.len = (int32_t)payload->len;
	}
	records_batch_params_default(&bp);
	bp.base_offset = base_offset;
	bp.partition_leader_epoch = (int32_t)term;
	bp.attributes = BATCH_ATTR_CONTROL;
	wbuf_init(&w);
	rv = records_build(&w, &bp, &rec, 1);
	free(value);
	if (rv != 0) {
		wbuf_free(&w);
		return NULL;
	}
	return wbuf_take(&w);
}

/* Checks a RAFT_COMMAND entry: exactly one whole RecordBatch v2 with a good CRC that rlog would
 * not mistake for one of its control batches on reload. */
static int check_command(const struct raft_entry *e, char *why, size_t why_n)
{
	struct batch_header h;
	struct kafka_bytes payload;

	if (e->buf.base == NULL || batch_header_decode(e->buf.base, e->buf.len, &h) != 0) {
		snprintf(why, why_n, "not a RecordBatch v2 (%zu bytes)", e->buf.len);
		return SLUICE_EMALFORMED;
	}
	if (batch_total_bytes(&h) != e->buf.len) {
		snprintf(why, why_n, "holds %zu bytes, its batch %zu: one whole batch expected",
			 e->buf.len, batch_total_bytes(&h));
		return SLUICE_EMALFORMED;
	}
	if (!batch_crc_ok(e->buf.base, e->buf.len)) {
		snprintf(why, why_n, "CRC mismatch");
		return SLUICE_EMALFORMED;
	}
	if (classify(e->buf.base, e->buf.len, &payload) != RAFT_COMMAND) {
		snprintf(why, why_n, "is an rlog control batch");
		return SLUICE_EMALFORMED;
	}
	return 0;
}

/* ---- snapshot file and envelope ----------------------------------------------------------- */

static void snap_free(struct snap *s)
{
	if (s == NULL)
		return;
	free(s->image);
	free(s);
}

static int conf_size(const struct raft_configuration *c, size_t *out)
{
	size_t n = 4;

	for (unsigned i = 0; i < c->n; i++) {
		size_t alen = c->servers[i].address != NULL ? strlen(c->servers[i].address) : 0;
		if (alen > UINT16_MAX)
			return SLUICE_EINVAL;
		n += 8 + 1 + 2 + alen;
	}
	*out = n;
	return 0;
}

static uint8_t *conf_put(uint8_t *p, const struct raft_configuration *c)
{
	be32_put(p, c->n);
	p += 4;
	for (unsigned i = 0; i < c->n; i++) {
		const struct raft_server *s = &c->servers[i];
		size_t alen = s->address != NULL ? strlen(s->address) : 0;
		be64_put(p, s->id);
		p[8] = (uint8_t)s->role;
		be16_put(p + 9, (uint16_t)alen);
		memcpy(p + 11, s->address != NULL ? s->address : "", alen);
		p += 11 + alen;
	}
	return p;
}

/* Decodes a configuration into `c` (initialised by the caller; closed by the caller on
 * error too). SLUICE_ECORRUPT or SLUICE_ENOMEM. */
static int conf_get(const uint8_t *p, size_t n, struct raft_configuration *c)
{
	struct rbuf r;
	uint32_t count;
	char addr[UINT16_MAX + 1];

	rbuf_init(&r, p, n);
	count = rbuf_be32(&r);
	if (r.err || count > n / 11)
		return SLUICE_ECORRUPT;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t id = rbuf_be64(&r);
		uint8_t role = rbuf_u8(&r);
		uint16_t alen = rbuf_be16(&r);
		const uint8_t *a = rbuf_bytes(&r, alen);
		int rv;
		if (r.err)
			return SLUICE_ECORRUPT;
		memcpy(addr, a, alen);
		addr[alen] = '\0';
		rv = raft_configuration_add(c, id, addr, role);
		if (rv != 0)
			return rv == RAFT_NOMEM ? SLUICE_ENOMEM : SLUICE_ECORRUPT;
	}
	return rbuf_left(&r) == 0 ? 0 : SLUICE_ECORRUPT;
}

/* Encodes a snapshot file image from raft's snapshot metadata, the state machine's bytes (the
 * concatenation of `bufs`) and the anchors. */
static int snap_build(const struct raft_snapshot *rs, const struct raft_buffer *bufs,
		      unsigned n_bufs, raft_index anchor_index, int64_t anchor_offset,
		      int64_t end_offset, struct snap **out)
{
	struct snap *s;
	size_t conf_len, data_len = 0;
	uint8_t *p;
	int rv;

	rv = conf_size(&rs->configuration, &conf_len);
	if (rv != 0 || conf_len > UINT32_MAX)
		return SLUICE_EINVAL;
	for (unsigned i = 0; i < n_bufs; i++)
		data_len += bufs[i].len;
	/* A file load() would refuse must not be written. */
	if (data_len > SNAP_FILE_BYTES_MAX ||
	    SNAP_HEADER_BYTES + conf_len + data_len + SNAP_CRC_BYTES > SNAP_FILE_BYTES_MAX)
		return SLUICE_ETOOLARGE;
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return SLUICE_ENOMEM;
	s->len = SNAP_HEADER_BYTES + conf_len + data_len + SNAP_CRC_BYTES;
	s->image = malloc(s->len);
	if (s->image == NULL) {
		free(s);
		return SLUICE_ENOMEM;
	}
	s->index = rs->index;
	s->term = rs->term;
	s->conf_index = rs->configuration_index;
	s->anchor_index = anchor_index;
	s->anchor_offset = anchor_offset;
	s->end_offset = end_offset;
	s->conf_at = SNAP_HEADER_BYTES;
	s->conf_len = conf_len;
	s->data_at = SNAP_HEADER_BYTES + conf_len;
	s->data_len = data_len;
	p = s->image;
	memcpy(p, SNAP_MAGIC, 4);
	be16_put(p + 4, RLOG_SNAP_FORMAT_VERSION);
	be16_put(p + 6, SNAP_HEADER_BYTES);
	be64_put(p + 8, rs->index);
	be64_put(p + 16, rs->term);
	be64_put(p + 24, rs->configuration_index);
	be64_put(p + 32, anchor_index);
	be64_put(p + 40, (uint64_t)anchor_offset);
	be64_put(p + 48, (uint64_t)end_offset);
	be32_put(p + 56, (uint32_t)conf_len);
	be64_put(p + 60, data_len);
	p = conf_put(p + SNAP_HEADER_BYTES, &rs->configuration);
	for (unsigned i = 0; i < n_bufs; i++) {
		if (bufs[i].len > 0)
			memcpy(p, bufs[i].base, bufs[i].len);
		p += bufs[i].len;
	}
	be32_put(p, crc32c(0, s->image, s->len - SNAP_CRC_BYTES));
	*out = s;
	return 0;
}

/* Decodes and checks a snapshot file image (taking ownership of `image` on success). */
static int snap_parse(uint8_t *image, size_t len, struct snap **out, char *errmsg)
{
	struct raft_configuration conf;
	struct snap *s;
	uint64_t data_len;
	size_t header, conf_len;
	int rv;

	if (len < SNAP_HEADER_BYTES + SNAP_CRC_BYTES || memcmp(image, SNAP_MAGIC, 4) != 0) {
		errmsg_printf(errmsg, "not a snapshot file (bad magic or %zu bytes)", len);
		return SLUICE_ECORRUPT;
	}
	if (be16_get(image + 4) != RLOG_SNAP_FORMAT_VERSION) {
		errmsg_printf(errmsg, "unsupported snapshot format version %u", be16_get(image + 4));
		return SLUICE_EVERSION;
	}
	header = be16_get(image + 6);
	conf_len = be32_get(image + 56);
	data_len = be64_get(image + 60);
	if (header < SNAP_HEADER_BYTES || header > len || conf_len > len - header ||
	    data_len > len - header - conf_len ||
	    header + conf_len + data_len + SNAP_CRC_BYTES != len) {
		errmsg_printf(errmsg, "bad lengths (header %zu, configuration %zu, data %" PRIu64
				      ", file %zu)",
			      header, conf_len, data_len, len);
		return SLUICE_ECORRUPT;
	}
	if (crc32c(0, image, len - SNAP_CRC_BYTES) != be32_get(image + len - SNAP_CRC_BYTES)) {
		errmsg_printf(errmsg, "checksum mismatch");
		return SLUICE_ECORRUPT;
	}
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return SLUICE_ENOMEM;
	s->index = be64_get(image + 8);
	s->term = be64_get(image + 16);
	s->conf_index = be64_get(image + 24);
	s->anchor_index = be64_get(image + 32);
	s->anchor_offset = (int64_t)be64_get(image + 40);
	s->end_offset = (int64_t)be64_get(image + 48);
	s->conf_at = header;
	s->conf_len = conf_len;
	s->data_at = header + conf_len;
	s->data_len = (size_t)data_len;
	if (s->index == 0 || s->term == 0 || s->anchor_index == 0 ||
	    s->anchor_index > s->index + 1 || s->anchor_offset < 0 ||
	    s->anchor_offset > s->end_offset) {
		errmsg_printf(errmsg, "inconsistent fields (index %" PRIu64 ", term %" PRIu64
				      ", anchor %" PRIu64 " at offset %" PRId64 ", end offset %" PRId64
				      ")",
			      (uint64_t)s->index, (uint64_t)s->term, (uint64_t)s->anchor_index,
			      s->anchor_offset, s->end_offset);
		free(s);
		return SLUICE_ECORRUPT;
	}
	raft_configuration_init(&conf);
	rv = conf_get(image + s->conf_at, s->conf_len, &conf);
	raft_configuration_close(&conf);
	if (rv != 0) {
		errmsg_printf(errmsg, "bad configuration: %s", err_str(rv));
		free(s);
		return rv;
	}
	s->image = image;
	s->len = len;
	*out = s;
	return 0;
}

/* A raft_malloc'd raft_snapshot of `s` (one buf: the state machine's bytes). */
static int snap_to_raft(const struct snap *s, struct raft_snapshot **out)
{
	struct raft_snapshot *rs = raft_calloc(1, sizeof *rs);
	size_t len = s->data_len;
	uint8_t *p;
	int rv;

	if (rs == NULL)
		return SLUICE_ENOMEM;
	rs->index = s->index;
	rs->term = s->term;
	rs->configuration_index = s->conf_index;
	raft_configuration_init(&rs->configuration);
	rv = conf_get(s->image + s->conf_at, s->conf_len, &rs->configuration);
	if (rv != 0)
		goto err_after_conf;
	rs->bufs = raft_malloc(sizeof *rs->bufs);
	if (rs->bufs == NULL) {
		rv = SLUICE_ENOMEM;
		goto err_after_conf;
	}
	p = raft_malloc(len > 0 ? len : 1);
	if (p == NULL) {
		rv = SLUICE_ENOMEM;
		goto err_after_bufs;
	}
	if (s->data_len > 0)
		memcpy(p, s->image + s->data_at, s->data_len);
	rs->bufs[0].base = p;
	rs->bufs[0].len = len;
	rs->n_bufs = 1;
	*out = rs;
	return 0;

err_after_bufs:
	raft_free(rs->bufs);
err_after_conf:
	raft_configuration_close(&rs->configuration);
	raft_free(rs);
	return rv;
}

/* ---- completion of appends ---------------------------------------------------------------- */

/* Completes, in order, the requests at the head of the FIFO whose appends are all done. */
static void complete_appends(struct rlog *l)
{
	struct append *a;

	if (l->completing)
		return;
	l->completing = true;
	while ((a = l->fifo_head) != NULL && a->started && a->left == 0 && !l->failed) {
		void (*cb)(void *, int) = a->cb;
		void *arg = a->arg;
		l->fifo_head = a->next;
		if (l->fifo_head == NULL)
			l->fifo_tail = NULL;
		free(a);
		cb(arg, 0);
	}
	l->completing = false;
}

static void append_cb(struct plog_append_req *req, int status)
{
	struct append *a = req->data;
	struct rlog *l = a->l;

	/* SLUICE_ECANCELED: truncated (or reset) away before it was durable; raft, which asked
	 * for that, does not count the entry. */
	if (status != 0 && status != SLUICE_ECANCELED)
		fail(l, "writing the entry at offset %" PRId64 ": %s", req->base_offset,
		     err_str(status));
	assert(a->left > 0);
	a->left--;
	complete_appends(l);
}

static void reset_done(void *arg, int status)
{
	struct rlog *l = arg;

	if (status != 0)
		fail(l, "emptying the log: %s", err_str(status));
}

/* Empties the plog and restarts it at `offset` (plog_reset, ordered with its other disk work;
 * a failure goes to fail() through reset_done). Without a snapshot load counts from the log's
 * first batch, so retention must not move the new start either (rlog_open's rule). Returns 0
 * or plog_reset's error (the caller reports it). */
static int reset_log(struct rlog *l, int64_t offset)
{
	int rv = plog_reset(l->plog, offset, reset_done, l);

	if (rv == 0 && l->snap == NULL)
		plog_set_retention_limit(l->plog, offset);
	return rv;
}

/* Empties the plog at next_offset after a load that found the log out of the anchors' reach
 * (the snapshot's end; offset 0, where entry 1 is, when there is no snapshot). */
static int undetach(struct rlog *l)
{
	int rv;

	assert(l->detached);
	l->detached = false;
	rv = reset_log(l, l->next_offset);
	if (rv != 0)
		fail(l, "emptying the log at offset %" PRId64 ": %s", l->next_offset, err_str(rv));
	else
		SLOG_WARN(MOD, "msg=\"log restarted where the next entry belongs\" log=%s "
			       "offset=%" PRId64 " snapshot=%" PRIu64,
			  l->name, l->next_offset, (uint64_t)(l->snap != NULL ? l->snap->index : 0));
	return rv;
}

/* Hands an accepted request's entries to plog. Errors go to fail(); the request stays in the
 * FIFO either way (its callback then runs, canceled, in rlog_close). */
static void submit_append(struct rlog *l, struct append *a)
{
	int rv;

	a->started = true;
	if (l->failed)
		return;
	if (window_reserve(l, a->n) != 0) {
		fail(l, "out of memory for the offsets of %u entries", a->n);
		return;
	}
	if (l->detached && undetach(l) != 0)
		return;
	for (unsigned i = 0; i < a->n; i++) {
		const struct raft_entry *e = &a->entries[i];
		struct plog_append_req *req = &a->reqs[i];
		int64_t next = l->next_offset;
		req->data = a;
		if (e->type == RAFT_COMMAND) {
			bool keep = (a->flags & RLOG_APPEND_FOLLOWER) ||
				    (!(a->flags & RLOG_APPEND_LEADER) &&
				     be64_get(e->buf.base) != 0);
			rv = plog_append_bytes(l->plog, req, e->buf.base, e->buf.len,
					       (int32_t)e->term, keep ? PLOG_APPEND_KEEP_OFFSETS : 0,
					       append_cb);
		} else {
			struct buf *b = control_batch(next, e->term, e->type, &e->buf);
			rv = b != NULL ? plog_append(l->plog, req, b, 0, b->len, (int32_t)e->term,
						     PLOG_APPEND_KEEP_OFFSETS, append_cb)
				       : SLUICE_ENOMEM;
			buf_unref(b);
		}
		if (rv != 0) {
			fail(l, "appending a type %u entry of term %" PRIu64 " at offset %" PRId64
				": %s%s",
			     e->type, (uint64_t)e->term, next, err_str(rv),
			     rv == SLUICE_EINVAL ? " (its BaseOffset does not continue the log)" : "");
			return;
		}
		assert(req->base_offset == next);
		a->left++;
		window_push(l, next);
		l->next_offset = req->last_offset + 1;
	}
}

/* ---- truncation --------------------------------------------------------------------------- */

static int do_truncate(struct rlog *l, raft_index index)
{
	int64_t off;
	int rv;

	if (index < l->first) {
		fail(l, "truncate at index %" PRIu64 " below the first tracked entry %" PRIu64,
		     (uint64_t)index, (uint64_t)l->first);
		return SLUICE_ERANGE;
	}
	if (index >= l->first + l->n)
		return 0; /* nothing stored at or after it */
	off = wbase(l, index);
	rv = plog_truncate(l->plog, off);
	if (rv != 0) {
		fail(l, "truncating at index %" PRIu64 " (offset %" PRId64 "): %s", (uint64_t)index,
		     off, err_str(rv));
		return rv;
	}
	window_cut(l, index);
	return 0;
}

/* ---- snapshot jobs ------------------------------------------------------------------------ */

static void job_link(struct rlog *l, struct snap_job *j)
{
	j->prev = NULL;
	j->next = l->jobs;
	if (l->jobs != NULL)
		l->jobs->prev = j;
	l->jobs = j;
}

static void job_unlink(struct rlog *l, struct snap_job *j)
{
	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		l->jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	j->prev = j->next = NULL;
}

static void job_free(struct snap_job *j)
{
	snap_free(j->snap);
	free(j);
}

static void job_hold(struct rlog *l, struct snap_job *j)
{
	j->next = l->held;
	l->held = j;
}

static void snap_job_work(struct plog_work *w)
{
	struct snap_job *j = w->data;
	struct rlog *l = j->l;

	/* l->fs, l->dir and l->snap_path never change after open: safe to read here. */
	j->status = fs_write_atomic(l->fs, l->dir, l->snap_path, j->snap->image, j->snap->len);
}

static void install_done(struct rlog *l);

static void snap_job_done(struct plog_work *w, int status)
{
	struct snap_job *j = w->data;
	struct rlog *l = j->l;
	void (*cb)(void *, int);
	void *arg;

	job_unlink(l, j);
	if (status == 0)
		status = j->status;
	if (status != 0) {
		fail(l, "storing snapshot %" PRIu64 ": %s", (uint64_t)j->snap->index,
		     err_str(status));
		job_hold(l, j);
		return;
	}
	snap_free(l->snap);
	l->snap = j->snap;
	j->snap = NULL;
	/* Retention may now delete up to the new snapshot's end (never past it: load() counts
	 * from there). */
	plog_set_retention_limit(l->plog, l->snap->end_offset);
	if (j->install)
		install_done(l);
	else
		window_trim(l, j->trim_first);
	if (l->failed) {
		job_hold(l, j);
		return;
	}
	cb = j->cb;
	arg = j->arg;
	free(j);
	cb(arg, 0);
}

static int submit_snap_job(struct rlog *l, struct snap *s, bool install, raft_index trim_first,
			   void (*cb)(void *arg, int status), void *arg)
{
	struct snap_job *j = calloc(1, sizeof *j);
	int rv;

	if (j == NULL) {
		snap_free(s);
		return SLUICE_ENOMEM;
	}
	j->w.work = snap_job_work;
	j->w.done = snap_job_done;
	j->w.data = j;
	j->l = l;
	j->snap = s;
	j->install = install;
	j->trim_first = trim_first;
	j->cb = cb;
	j->arg = arg;
	rv = plog_submit_work(l->plog, &j->w);
	if (rv != 0) {
		job_free(j);
		return rv;
	}
	job_link(l, j);
	return 0;
}

/* ---- open, close, abandon ----------------------------------------------------------------- */

static void plog_failed_cb(void *arg, const char *why)
{
	struct rlog *l = arg;

	fail(l, "the partition log stopped: %s", why);
}

static void state_cb(void *arg, uint64_t durable_seq, int status)
{
	struct rlog *l = arg;

	(void)durable_seq;
	if (status != 0) {
		fail(l, "writing term and vote to the state file: %s", err_str(status));
		return;
	}
	if (!l->closing && l->durable_cb != NULL)
		l->durable_cb(l->durable_arg);
}

int rlog_open(const struct rlog_open_args *a, struct rlog **out, char *errmsg)
{
	struct rlog *l = calloc(1, sizeof *l);
	struct plog_open_args pa;
	uint64_t term, vote;
	void *data = NULL;
	size_t n = 0;
	errmsg_t em = "";
	int rv;

	if (l == NULL)
		return SLUICE_ENOMEM;
	snprintf(l->dir, sizeof l->dir, "%s", a->dir);
	snprintf(l->name, sizeof l->name, "%s", a->name != NULL ? a->name : a->dir);
	snprintf(l->snap_path, sizeof l->snap_path, "%s/%s", a->dir, RLOG_SNAP_FILE_NAME);
	l->fs = a->fs;
	l->fatal = a->fatal;
	l->fatal_arg = a->arg;
	l->first = 1;

	/* The snapshot file first: nothing to undo if it is damaged. */
	rv = fs_read_all(l->fs, l->snap_path, SNAP_FILE_BYTES_MAX, &data, &n);
	if (rv == 0) {
		int fd;
		rv = snap_parse(data, n, &l->snap, em);
		if (rv != 0) {
			free(data);
			errmsg_printf(errmsg, "%s: %s", l->snap_path, em);
			goto err_after_alloc;
		}
		/* What we load must be durable (a write whose directory sync failed may be
		 * visible): the file now, its name with plog_open's directory sync. */
		rv = l->fs->open(l->fs, l->snap_path, 0, &fd);
		if (rv == 0) {
			rv = l->fs->datasync(l->fs, fd);
			l->fs->close(l->fs, fd);
		}
		if (rv != 0) {
			errmsg_printf(errmsg, "%s: fdatasync: %s", l->snap_path, err_str(rv));
			goto err_after_snap;
		}
	} else if (rv != SLUICE_ENOTFOUND) {
		errmsg_printf(errmsg, "%s: %s", l->snap_path, err_str(rv));
		goto err_after_alloc;
	}

	pa = (struct plog_open_args){.dir = a->dir, .name = l->name, .fs = a->fs,
				     .exec = a->exec, .clock = a->clock, .config = a->config};
	/* raft cannot take SLUICE_EBUSY from an append: back-pressure is the caller's. */
	pa.config.pending_bytes_max = UINT64_MAX;
	rv = plog_open(&pa, &l->plog, errmsg);
	if (rv != 0)
		goto err_after_snap;
	plog_raft_state(l->plog, &term, &vote);
	l->term = term;
	l->vote = vote;
	/* Without a snapshot, load() counts from the log's first batch: retention must not move
	 * it. With one, it may go up to the snapshot's end. */
	plog_set_retention_limit(l->plog, l->snap != NULL ? l->snap->end_offset
							   : plog_start_offset(l->plog));
	plog_on_raft_state(l->plog, state_cb, l);
	plog_on_failed(l->plog, plog_failed_cb, l);
	*out = l;
	return 0;

err_after_snap:
	snap_free(l->snap);
err_after_alloc:
	free(l);
	return rv;
}

static void plog_closed_cb(void *arg)
{
	struct rlog *l = arg;
	void (*cb)(void *) = l->close_cb;
	void *cb_arg = l->close_arg;

	l->plog = NULL;
	/* What could not complete: raft needs every callback before its close finishes. */
	while (l->fifo_head != NULL) {
		struct append *a = l->fifo_head;
		l->fifo_head = a->next;
		a->cb(a->arg, SLUICE_ECANCELED);
		free(a);
	}
	l->fifo_tail = NULL;
	while (l->held != NULL) {
		struct snap_job *j = l->held;
		l->held = j->next;
		j->cb(j->arg, SLUICE_ECANCELED);
		job_free(j);
	}
	assert(l->jobs == NULL && l->iappends == NULL);
	while (l->def_head != NULL) {
		struct deferred *d = l->def_head;
		l->def_head = d->next;
		free(d);
	}
	if (l->inst != NULL) {
		snap_free(l->inst->snap);
		free(l->inst);
	}
	snap_free(l->snap);
	free(l->bases);
	free(l);
	if (cb != NULL)
		cb(cb_arg);
}

void rlog_close(struct rlog *l, void (*cb)(void *arg), void *arg)
{
	assert(!l->closing);
	l->closing = true;
	l->close_cb = cb;
	l->close_arg = arg;
	/* plog writes what is queued first: those appends and snapshots complete normally. */
	plog_close(l->plog, plog_closed_cb, l);
}

void rlog_abandon(struct rlog *l)
{
	/* plog first: its ops still point at our requests. */
	plog_abandon(l->plog);
	while (l->fifo_head != NULL) {
		struct append *a = l->fifo_head;
		l->fifo_head = a->next;
		free(a);
	}
	while (l->iappends != NULL) {
		struct install_append *ia = l->iappends;
		l->iappends = ia->next;
		free(ia);
	}
	while (l->jobs != NULL) {
		struct snap_job *j = l->jobs;
		l->jobs = j->next;
		job_free(j);
	}
	while (l->held != NULL) {
		struct snap_job *j = l->held;
		l->held = j->next;
		job_free(j);
	}
	while (l->def_head != NULL) {
		struct deferred *d = l->def_head;
		l->def_head = d->next;
		free(d);
	}
	if (l->inst != NULL) {
		snap_free(l->inst->snap);
		free(l->inst);
	}
	snap_free(l->snap);
	free(l->bases);
	free(l);
}

/* ---- load --------------------------------------------------------------------------------- */

struct scan {
	struct raft_entry *entries; /* raft_malloc'd */
	int64_t *bases;             /* malloc'd */
	size_t n;
	size_t cap;
};

static void scan_free(struct scan *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		raft_free(sc->entries[i].buf.base);
	raft_free(sc->entries);
	free(sc->bases);
	memset(sc, 0, sizeof *sc);
}

static int scan_push(struct scan *sc, const uint8_t *p, size_t total, const struct batch_header *h,
		     char *errmsg)
{
	struct raft_entry *e;
	struct kafka_bytes payload = {NULL, -1};
	unsigned short type;
	size_t len;

	if (sc->n == sc->cap) {
		size_t ncap = sc->cap ? sc->cap * 2 : 64;
		struct raft_entry *ne = raft_realloc(sc->entries, ncap * sizeof *ne);
		int64_t *nb;
		if (ne == NULL)
			return SLUICE_ENOMEM;
		sc->entries = ne;
		nb = realloc(sc->bases, ncap * sizeof *nb);
		if (nb == NULL)
			return SLUICE_ENOMEM;
		sc->bases = nb;
		sc->cap = ncap;
	}
	if (h->partition_leader_epoch <= 0) {
		errmsg_printf(errmsg, "the batch at offset %" PRId64 " is not a Raft entry "
				      "(PartitionLeaderEpoch %" PRId32 ")",
			      h->base_offset, h->partition_leader_epoch);
		return SLUICE_ECORRUPT;
	}
	if (sc->n > 0 && sc->entries[sc->n - 1].term > (raft_term)h->partition_leader_epoch) {
		errmsg_printf(errmsg, "the term goes back from %" PRIu64 " to %" PRId32
				      " at offset %" PRId64,
			      (uint64_t)sc->entries[sc->n - 1].term, h->partition_leader_epoch,
			      h->base_offset);
		return SLUICE_ECORRUPT;
	}
	type = classify(p, total, &payload);
	if (type == RAFT_COMMAND)
		len = total;
	else if (type == RAFT_BARRIER)
		len = BARRIER_PAYLOAD_BYTES;
	else
		len = payload.len > 0 ? (size_t)payload.len : 0;
	e = &sc->entries[sc->n];
	memset(e, 0, sizeof *e);
	e->term = (raft_term)h->partition_leader_epoch;
	e->type = type;
	e->buf.base = raft_malloc(len > 0 ? len : 1);
	if (e->buf.base == NULL)
		return SLUICE_ENOMEM;
	e->buf.len = len;
	if (type == RAFT_COMMAND)
		memcpy(e->buf.base, p, total);
	else if (type == RAFT_BARRIER)
		memset(e->buf.base, 0, len);
	else if (len > 0)
		memcpy(e->buf.base, payload.ptr, len);
	e->batch = e->buf.base;
	sc->bases[sc->n] = h->base_offset;
	sc->n++;
	return 0;
}

/* Reads every batch in [from, end) into entries. */
static int scan_log(struct rlog *l, int64_t from, int64_t end, struct scan *sc, char *errmsg)
{
	int64_t off = from;

	while (off < end) {
		struct plog_read_result rr;
		size_t at = 0;
		int rv = plog_read(l->plog, off, end, LOAD_READ_BYTES, &rr);
		if (rv != 0) {
			errmsg_printf(errmsg, "reading offset %" PRId64 ": %s", off, err_str(rv));
			return rv == SLUICE_EREPAIR ? SLUICE_ECORRUPT : rv;
		}
		if (rr.len == 0 || rr.next_offset <= off) {
			buf_unref(rr.buf);
			errmsg_printf(errmsg, "no batch at offset %" PRId64 " (log end %" PRId64 ")",
				      off, end);
			return SLUICE_ECORRUPT;
		}
		while (at < rr.len) {
			struct batch_header h;
			if (batch_header_decode(rr.buf->data + at, rr.len - at, &h) != 0 ||
			    h.base_offset != off) {
				buf_unref(rr.buf);
				errmsg_printf(errmsg, "offset %" PRId64 " does not start a batch", off);
				return SLUICE_ECORRUPT;
			}
			rv = scan_push(sc, rr.buf->data + at, batch_total_bytes(&h), &h, errmsg);
			if (rv != 0) {
				buf_unref(rr.buf);
				return rv;
			}
			at += batch_total_bytes(&h);
			off = batch_last_offset(&h) + 1;
		}
		buf_unref(rr.buf);
	}
	return 0;
}

int rlog_load(struct rlog *l, raft_term *term, raft_id *vote, struct raft_snapshot **snapshot,
	      raft_index *start_index, struct raft_entry **entries, size_t *n_entries,
	      char *errmsg)
{
	struct scan sc = {0};
	struct snap *sn = l->snap;
	int64_t start = plog_start_offset(l->plog), end = plog_end_offset(l->plog), from;
	raft_index first = 1;
	struct raft_snapshot *rs = NULL;
	errmsg_t em = "";
	int rv;

	assert(!l->loaded && l->fifo_head == NULL);
	assert(plog_durable_offset(l->plog) == end);
	if (sn != NULL && start > sn->end_offset) {
		/* A reset for an install emptied the log and the crash came before the new snapshot
		 * was stored: the old snapshot's entries are not in this log. Raft gets the old
		 * snapshot and no entry; the next append or install resets the log to its end. */
		SLOG_WARN(MOD, "msg=\"log starts after the snapshot's end; it will restart there\" "
			       "log=%s log_start=%" PRId64 " snapshot_end=%" PRId64,
			  l->name, start, sn->end_offset);
		l->detached = true;
		first = sn->index + 1;
		goto done;
	}
	if (sn == NULL && start > FIRST_ENTRY_OFFSET) {
		/* The same crash during a first install (no snapshot yet): only a reset moves the
		 * start of a log without a snapshot (retention may not, see rlog_open), so the
		 * batches here, if any, are the leader's entries at indexes nothing on disk names.
		 * Raft gets no snapshot and no entry (it starts empty, as a new replica does, and
		 * gets the leader's snapshot again); the next append or install empties the log
		 * again where entry 1 belongs. */
		SLOG_WARN(MOD, "msg=\"log without a snapshot starts past entry 1; it will restart "
			       "there\" log=%s log_start=%" PRId64 " log_end=%" PRId64,
			  l->name, start, end);
		l->detached = true;
		first = 1;
		goto done;
	}
	if (sn != NULL && end < sn->end_offset) {
		errmsg_printf(errmsg, "%s: the log ends at offset %" PRId64 ", before the end of "
				      "snapshot %" PRIu64 " at offset %" PRId64,
			      l->name, end, (uint64_t)sn->index, sn->end_offset);
		return SLUICE_ECORRUPT;
	}
	from = start;
	if (sn != NULL && sn->anchor_offset > from)
		from = sn->anchor_offset;
	rv = scan_log(l, from, end, &sc, em);
	if (rv != 0) {
		errmsg_printf(errmsg, "%s: %s", l->name, em);
		goto err_after_scan;
	}
	if (sn != NULL) {
		/* Entry index+1 starts at end_offset: count the batches before it. */
		size_t k = 0;
		while (k < sc.n && sc.bases[k] < sn->end_offset)
			k++;
		if ((k < sc.n && sc.bases[k] != sn->end_offset) || (k == sc.n && end != sn->end_offset)) {
			errmsg_printf(errmsg, "%s: the end of snapshot %" PRIu64 ", offset %" PRId64
					      ", is not a batch boundary",
				      l->name, (uint64_t)sn->index, sn->end_offset);
			rv = SLUICE_ECORRUPT;
			goto err_after_scan;
		}
		if (k > sn->index) {
			errmsg_printf(errmsg, "%s: %zu batches before the end of snapshot %" PRIu64,
				      l->name, k, (uint64_t)sn->index);
			rv = SLUICE_ECORRUPT;
			goto err_after_scan;
		}
		first = sn->index + 1 - k;
		if (from == sn->anchor_offset && first != sn->anchor_index) {
			errmsg_printf(errmsg, "%s: %zu batches between the anchor at offset %" PRId64
					      " and the end of snapshot %" PRIu64
					      " at offset %" PRId64 ", expected %" PRIu64,
				      l->name, k, sn->anchor_offset, (uint64_t)sn->index,
				      sn->end_offset, (uint64_t)(sn->index + 1 - sn->anchor_index));
			rv = SLUICE_ECORRUPT;
			goto err_after_scan;
		}
		if (k > 0 && sc.entries[k - 1].term != sn->term) {
			errmsg_printf(errmsg, "%s: entry %" PRIu64 " at offset %" PRId64
					      " has term %" PRIu64 ", snapshot %" PRIu64 " says %" PRIu64,
				      l->name, (uint64_t)sn->index, sc.bases[k - 1],
				      (uint64_t)sc.entries[k - 1].term, (uint64_t)sn->index,
				      (uint64_t)sn->term);
			rv = SLUICE_ECORRUPT;
			goto err_after_scan;
		}
	} else if (sc.n > 0 && sc.entries[0].type != RAFT_CHANGE) {
		/* raft_start asserts this; say it instead. */
		errmsg_printf(errmsg, "%s: no snapshot and the first batch (offset %" PRId64
				      ") is not a configuration entry",
			      l->name, sc.bases[0]);
		rv = SLUICE_ECORRUPT;
		goto err_after_scan;
	}

done:
	if (sn != NULL) {
		rv = snap_to_raft(sn, &rs);
		if (rv != 0) {
			errmsg_printf(errmsg, "%s: snapshot: %s", l->name, err_str(rv));
			goto err_after_scan;
		}
	}
	free(l->bases);
	l->bases = sc.bases;
	l->cap = sc.cap;
	l->head = 0;
	l->n = sc.n;
	l->first = first;
	if (l->detached)
		l->next_offset = sn != NULL ? sn->end_offset : FIRST_ENTRY_OFFSET;
	else
		l->next_offset = end;
	l->loaded = true;
	*term = l->term;
	*vote = l->vote;
	*snapshot = rs;
	*start_index = first;
	*entries = sc.entries;
	*n_entries = sc.n;
	SLOG_INFO(MOD, "msg=\"loaded\" log=%s term=%" PRIu64 " vote=%" PRIu64 " snapshot=%" PRIu64
		       " start_index=%" PRIu64 " entries=%zu next_offset=%" PRId64,
		  l->name, (uint64_t)l->term, (uint64_t)l->vote,
		  (uint64_t)(sn != NULL ? sn->index : 0), (uint64_t)first, sc.n, l->next_offset);
	return 0;

err_after_scan:
	scan_free(&sc);
	return rv;
}

/* ---- bootstrap, term and vote ------------------------------------------------------------- */

/* raft_configuration_encode pads its output to 8 bytes without clearing the padding, and every
 * replica encodes the bootstrap configuration itself: zero the bytes after the last server so
 * that every replica stores the same batch. Layout (raft 0.15 configuration.c): u8 version,
 * u64 count, then per server u64 id, NUL-terminated address, u8 role. */
static void zero_config_padding(struct raft_buffer *enc)
{
	uint8_t *p = enc->base;
	size_t n = enc->len, pos = 9;

	if (n < 9)
		return;
	uint64_t count = 0;
	for (int i = 0; i < 8; i++)
		count |= (uint64_t)p[1 + i] << (8 * i);
	for (uint64_t k = 0; k < count && pos < n; k++) {
		pos += 8;
		while (pos < n && p[pos] != 0)
			pos++;
		pos += 2; /* the NUL and the role */
	}
	if (pos < n)
		memset(p + pos, 0, n - pos);
}

int rlog_bootstrap(struct rlog *l, const struct raft_configuration *conf, char *errmsg)
{
	struct raft_buffer enc;
	struct buf *b;
	int64_t start = plog_start_offset(l->plog);
	int rv;

	/* A log that starts past entry 1's offset was emptied by an install's reset: it is not
	 * pristine (load finds it detached), and entry 1 written there would not sit where every
	 * other replica has it. */
	if (l->snap != NULL || start != FIRST_ENTRY_OFFSET || plog_end_offset(l->plog) != start ||
	    l->term > 1 || l->vote != 0) {
		errmsg_printf(errmsg, "%s: not pristine (term %" PRIu64 ", log [%" PRId64 ", %" PRId64
				      ")%s)",
			      l->name, (uint64_t)l->term, start, plog_end_offset(l->plog),
			      l->snap != NULL ? ", snapshot" : "");
		return SLUICE_EEXIST;
	}
	rv = raft_configuration_encode(conf, &enc);
	if (rv != 0) {
		errmsg_printf(errmsg, "%s: encoding the configuration: %s", l->name,
			      raft_strerror(rv));
		return rv == RAFT_NOMEM ? SLUICE_ENOMEM : SLUICE_EINVAL;
	}
	zero_config_padding(&enc);
	b = control_batch(start, 1, RAFT_CHANGE, &enc);
	raft_free(enc.base);
	if (b == NULL)
		return SLUICE_ENOMEM;
	/* Term first (as raft's own io does): a crash in between leaves term 1 and an empty
	 * log, which is still pristine enough to bootstrap again. */
	rv = plog_set_raft_state_sync(l->plog, 1, 0, errmsg);
	if (rv == 0)
		rv = plog_append_sync(l->plog, b, 0, b->len, 1, errmsg);
	buf_unref(b);
	if (rv != 0)
		return rv;
	l->term = 1;
	l->vote = 0;
	return 0;
}

uint64_t rlog_set_term(struct rlog *l, raft_term term)
{
	l->term = term;
	l->vote = 0;
	return plog_set_raft_state(l->plog, term, 0);
}

uint64_t rlog_set_vote(struct rlog *l, raft_id vote)
{
	l->vote = vote;
	return plog_set_raft_state(l->plog, l->term, vote);
}

uint64_t rlog_meta_durable(const struct rlog *l)
{
	return plog_raft_state_durable(l->plog);
}

void rlog_on_meta_durable(struct rlog *l, void (*durable)(void *arg), void *arg)
{
	l->durable_cb = durable;
	l->durable_arg = arg;
}

raft_term rlog_term(const struct rlog *l)
{
	return l->term;
}

raft_id rlog_vote(const struct rlog *l)
{
	return l->vote;
}

/* ---- append and truncate ------------------------------------------------------------------ */

static int defer_op(struct rlog *l, struct append *a, raft_index index)
{
	struct deferred *d = calloc(1, sizeof *d);

	if (d == NULL)
		return SLUICE_ENOMEM;
	d->append = a;
	d->index = index;
	if (l->def_tail != NULL)
		l->def_tail->next = d;
	else
		l->def_head = d;
	l->def_tail = d;
	return 0;
}

int rlog_append(struct rlog *l, const struct raft_entry entries[], unsigned n, int flags,
		void (*cb)(void *arg, int status), void *arg)
{
	struct append *a;
	char why[256];

	if (l->closing)
		return SLUICE_ECLOSED;
	if (l->failed)
		return SLUICE_EIO;
	assert(l->loaded);
	if (n == 0)
		return SLUICE_EINVAL;
	/* Check every entry before anything is written, so a bad one fails alone. */
	for (unsigned i = 0; i < n; i++) {
		const struct raft_entry *e = &entries[i];
		int rv = 0;
		if (e->term == 0 || e->term > INT32_MAX) {
			snprintf(why, sizeof why, "term %" PRIu64 " does not fit PartitionLeaderEpoch",
				 (uint64_t)e->term);
			rv = SLUICE_EINVAL;
		} else if (e->type == RAFT_COMMAND) {
			rv = check_command(e, why, sizeof why);
		} else if (e->type == RAFT_CHANGE && e->buf.len > INT32_MAX) {
			snprintf(why, sizeof why, "configuration of %zu bytes", e->buf.len);
			rv = SLUICE_EINVAL;
		} else if (e->type != RAFT_BARRIER && e->type != RAFT_CHANGE) {
			snprintf(why, sizeof why, "unknown type");
			rv = SLUICE_EINVAL;
		}
		if (rv != 0) {
			fail(l, "entry %u of %u (type %u, term %" PRIu64 ") cannot be stored: %s",
			     i + 1, n, e->type, (uint64_t)e->term, why);
			return rv;
		}
	}
	a = calloc(1, sizeof *a + (size_t)n * sizeof a->reqs[0]);
	if (a == NULL) {
		fail(l, "out of memory for an append of %u entries", n);
		return SLUICE_ENOMEM;
	}
	a->l = l;
	a->cb = cb;
	a->arg = arg;
	a->entries = entries;
	a->n = n;
	a->flags = flags;
	if (l->inst != NULL && defer_op(l, a, 0) != 0) {
		free(a);
		fail(l, "out of memory holding an append during an install");
		return SLUICE_ENOMEM;
	}
	if (l->fifo_tail != NULL)
		l->fifo_tail->next = a;
	else
		l->fifo_head = a;
	l->fifo_tail = a;
	if (l->inst == NULL)
		submit_append(l, a);
	return 0;
}

int rlog_truncate(struct rlog *l, raft_index index)
{
	if (l->closing)
		return SLUICE_ECLOSED;
	if (l->failed)
		return SLUICE_EIO;
	if (l->inst != NULL) {
		if (defer_op(l, NULL, index) != 0) {
			fail(l, "out of memory holding a truncate during an install");
			return SLUICE_ENOMEM;
		}
		return 0;
	}
	return do_truncate(l, index);
}

/* ---- lookups ------------------------------------------------------------------------------ */

int rlog_entry_offsets(const struct rlog *l, raft_index index, int64_t *base, int64_t *last)
{
	if (index < l->first || index >= l->first + l->n)
		return SLUICE_ERANGE;
	*base = wbase(l, index);
	*last = wbase_or_end(l, index + 1) - 1;
	return 0;
}

raft_index rlog_index_of_offset(const struct rlog *l, int64_t offset)
{
	size_t lo = 0, hi = l->n;

	if (l->n == 0 || offset < l->bases[l->head] || offset >= l->next_offset)
		return 0;
	/* The last entry whose base is <= offset. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->bases[l->head + mid] <= offset)
			lo = mid;
		else
			hi = mid;
	}
	return l->first + lo;
}

int rlog_end_offset_of(const struct rlog *l, raft_index index, int64_t *end)
{
	if (l->snap != NULL && index == l->snap->index) {
		*end = l->snap->end_offset;
		return 0;
	}
	if (index + 1 >= l->first && index + 1 <= l->first + l->n) {
		*end = wbase_or_end(l, index + 1);
		return 0;
	}
	return SLUICE_ERANGE;
}

raft_index rlog_first_index(const struct rlog *l)
{
	return l->first;
}

raft_index rlog_last_index(const struct rlog *l)
{
	return l->first + l->n - 1;
}

/* ---- snapshots ---------------------------------------------------------------------------- */

int rlog_snapshot_put(struct rlog *l, unsigned trailing, const struct raft_snapshot *snapshot,
		      void (*cb)(void *arg, int status), void *arg)
{
	raft_index s_index = snapshot->index, anchor;
	struct snap *s;
	int rv;

	if (l->closing)
		return SLUICE_ECLOSED;
	if (l->failed)
		return SLUICE_EIO;
	if (trailing == 0)
		return SLUICE_EINVAL;
	if (l->inst != NULL)
		return SLUICE_ESTATE;
	if (s_index < l->first || s_index >= l->first + l->n) {
		fail(l, "snapshot %" PRIu64 " is not a stored entry (tracked %" PRIu64 "..%" PRIu64 ")",
		     (uint64_t)s_index, (uint64_t)l->first, (uint64_t)(l->first + l->n - 1));
		return SLUICE_ERANGE;
	}
	/* raft keeps entries > index - trailing: the first of them anchors the next load. */
	anchor = s_index >= trailing ? s_index - trailing + 1 : 1;
	if (anchor < l->first)
		anchor = l->first;
	rv = snap_build(snapshot, snapshot->bufs, snapshot->n_bufs, anchor, wbase(l, anchor),
			wbase_or_end(l, s_index + 1), &s);
	if (rv == 0)
		rv = submit_snap_job(l, s, false, anchor, cb, arg);
	if (rv != 0) {
		fail(l, "storing snapshot %" PRIu64 ": %s", (uint64_t)s_index, err_str(rv));
		return rv;
	}
	return 0;
}

int rlog_snapshot_get(struct rlog *l, struct raft_snapshot **out)
{
	if (l->snap == NULL)
		return SLUICE_ENOTFOUND;
	return snap_to_raft(l->snap, out);
}

/* ---- install ------------------------------------------------------------------------------ */

int rlog_install_begin(struct rlog *l, const struct raft_snapshot *snapshot, raft_index keep_index,
		       int64_t end_offset, int64_t *from_offset)
{
	struct install *in;
	struct snap *s = NULL;
	raft_index keep;
	int64_t from, to = end_offset;
	int rv;

	if (l->closing)
		return SLUICE_ECLOSED;
	if (l->failed)
		return SLUICE_EIO;
	if (l->inst != NULL)
		return SLUICE_ESTATE;
	assert(l->loaded);
	keep = keep_index;
	if (keep + 1 < l->first)
		keep = l->first - 1;
	if (keep > l->first + l->n - 1)
		keep = l->first + l->n - 1;
	from = wbase_or_end(l, keep + 1);
	if (to < from || snapshot->index <= keep) {
		fail(l, "install of snapshot %" PRIu64 " ending at offset %" PRId64
			": the kept prefix (entry %" PRIu64 ") ends at offset %" PRId64,
		     (uint64_t)snapshot->index, to, (uint64_t)keep, from);
		return SLUICE_EINVAL;
	}
	in = calloc(1, sizeof *in);
	rv = in != NULL ? snap_build(snapshot, snapshot->bufs, snapshot->n_bufs, snapshot->index + 1,
				     to, to, &s)
			: SLUICE_ENOMEM;
	if (rv != 0) {
		free(in);
		fail(l, "install of snapshot %" PRIu64 ": %s", (uint64_t)snapshot->index,
		     err_str(rv));
		return rv;
	}
	/* Keep the prefix; cancel what follows (raft ignores those appends' results while it
	 * installs). A prefix the plog does not hold (detached) is replaced by an empty log. */
	if (l->detached || from < plog_start_offset(l->plog)) {
		l->detached = false;
		rv = reset_log(l, from);
	} else {
		rv = plog_truncate(l->plog, from);
	}
	if (rv != 0) {
		snap_free(s);
		free(in);
		fail(l, "install of snapshot %" PRIu64 ": cutting the log at offset %" PRId64 ": %s",
		     (uint64_t)snapshot->index, from, err_str(rv));
		return rv;
	}
	window_cut(l, keep + 1);
	assert(l->next_offset == from);
	in->snap = s;
	in->keep = keep;
	in->from = in->next = from;
	in->to = to;
	l->inst = in;
	*from_offset = from;
	SLOG_INFO(MOD, "msg=\"installing snapshot\" log=%s index=%" PRIu64 " keep=%" PRIu64
		       " from=%" PRId64 " to=%" PRId64,
		  l->name, (uint64_t)snapshot->index, (uint64_t)keep, from, to);
	return 0;
}

static void install_append_cb(struct plog_append_req *req, int status)
{
	struct install_append *ia = (struct install_append *)req;
	struct rlog *l = ia->l;

	if (status != 0 && status != SLUICE_ECANCELED)
		fail(l, "install: writing the batches at offset %" PRId64 ": %s", req->base_offset,
		     err_str(status));
	if (ia->prev != NULL)
		ia->prev->next = ia->next;
	else
		l->iappends = ia->next;
	if (ia->next != NULL)
		ia->next->prev = ia->prev;
	free(ia);
}

int rlog_install_data(struct rlog *l, struct buf *b, size_t off, size_t len)
{
	struct install *in = l->inst;
	struct install_append *ia;
	int64_t next;
	uint64_t count = 0;
	size_t at = 0;
	int rv;

	if (l->closing)
		return SLUICE_ECLOSED;
	if (l->failed)
		return SLUICE_EIO;
	if (in == NULL || in->finishing)
		return SLUICE_ESTATE;
	if (off > b->len || len > b->len - off || len == 0)
		return SLUICE_EINVAL;
	/* The leader's bytes: whole, checked, contiguous from where we are, within the snapshot. */
	next = in->next;
	while (at < len) {
		const uint8_t *p = b->data + off + at;
		struct batch_header h;
		if (batch_header_decode(p, len - at, &h) != 0 || batch_total_bytes(&h) > len - at ||
		    !batch_crc_ok(p, batch_total_bytes(&h)))
			return SLUICE_ECORRUPT;
		if (h.base_offset != next || h.partition_leader_epoch <= 0)
			return SLUICE_EINVAL;
		if (batch_last_offset(&h) >= in->to)
			return SLUICE_ERANGE;
		next = batch_last_offset(&h) + 1;
		at += batch_total_bytes(&h);
		count++;
	}
	ia = calloc(1, sizeof *ia);
	if (ia == NULL)
		return SLUICE_ENOMEM;
	ia->l = l;
	rv = plog_append(l->plog, &ia->req, b, off, len, -1, PLOG_APPEND_KEEP_OFFSETS,
			 install_append_cb);
	if (rv != 0) {
		free(ia);
		fail(l, "install: appending at offset %" PRId64 ": %s", in->next, err_str(rv));
		return rv;
	}
	ia->next = l->iappends;
	if (l->iappends != NULL)
		l->iappends->prev = ia;
	l->iappends = ia;
	in->next = next;
	in->batches += count;
	return 0;
}

int rlog_install_reset(struct rlog *l, int64_t start_offset)
{
	struct install *in = l->inst;
	int rv;

	if (l->closing)
		return SLUICE_ECLOSED;
	if (l->failed)
		return SLUICE_EIO;
	if (in == NULL || in->finishing)
		return SLUICE_ESTATE;
	if (start_offset < in->next || start_offset > in->to)
		return SLUICE_ERANGE;
	rv = reset_log(l, start_offset);
	if (rv != 0) {
		fail(l, "install: emptying the log at offset %" PRId64 ": %s", start_offset,
		     err_str(rv));
		return rv;
	}
	SLOG_WARN(MOD, "msg=\"install: log emptied, restarting at the leader's log start\" "
		       "log=%s offset=%" PRId64,
		  l->name, start_offset);
	in->next = start_offset;
	in->reset = true;
	return 0;
}

int rlog_install_finish(struct rlog *l, void (*cb)(void *arg, int status), void *arg)
{
	struct install *in = l->inst;
	uint64_t expected;
	int rv;

	if (l->closing)
		return SLUICE_ECLOSED;
	if (l->failed)
		return SLUICE_EIO;
	if (in == NULL || in->finishing)
		return SLUICE_ESTATE;
	if (in->next != in->to)
		return SLUICE_EINVAL;
	expected = in->snap->index - in->keep;
	if (!in->reset && in->batches != expected) {
		fail(l, "install of snapshot %" PRIu64 ": %" PRIu64 " batches between offsets %" PRId64
			" and %" PRId64 ", %" PRIu64 " entries expected",
		     (uint64_t)in->snap->index, in->batches, in->from, in->to, expected);
		return SLUICE_ECORRUPT;
	}
	assert(plog_end_offset(l->plog) == in->to);
	/* Ordered behind the data's writes: stored only once they are durable. */
	rv = submit_snap_job(l, in->snap, true, 0, cb, arg);
	in->snap = NULL;
	if (rv != 0) {
		fail(l, "install: storing the snapshot: %s", err_str(rv));
		return rv;
	}
	in->finishing = true;
	return 0;
}

int64_t rlog_install_next_offset(const struct rlog *l)
{
	return l->inst != NULL ? l->inst->next : -1;
}

/* The install's snapshot is durable: the log now starts after it; then what raft appended or
 * truncated meanwhile is replayed, in order, before raft hears that the install is done. */
static void install_done(struct rlog *l)
{
	struct install *in = l->inst;

	assert(in != NULL && in->finishing);
	window_reset(l, l->snap->index + 1, in->to);
	l->inst = NULL;
	free(in);
	SLOG_INFO(MOD, "msg=\"snapshot installed\" log=%s index=%" PRIu64 " next_offset=%" PRId64,
		  l->name, (uint64_t)l->snap->index, l->next_offset);
	while (l->def_head != NULL && !l->failed) {
		struct deferred *d = l->def_head;
		l->def_head = d->next;
		if (l->def_head == NULL)
			l->def_tail = NULL;
		if (d->append != NULL)
			submit_append(l, d->append);
		else
			do_truncate(l, d->index);
		free(d);
	}
}

/* ---- the rest ----------------------------------------------------------------------------- */

int rlog_read(struct rlog *l, int64_t offset, int64_t max_offset, size_t max_bytes,
	      struct plog_read_result *out)
{
	return plog_read(l->plog, offset, max_offset, max_bytes, out);
}

struct plog *rlog_plog(struct rlog *l)
{
	return l->plog;
}

bool rlog_failed(const struct rlog *l)
{
	return l->failed;
}
