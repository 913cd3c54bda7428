/*
 * Unit suite for the Raft log adapter (raft/rlog.c): a Raft group's entries, term, vote and
 * snapshots on the partition log.
 *
 * Every test runs on simfs (in-memory, fault-injecting, crash-simulating) with the inline
 * executor, so each disk operation, failure and crash is deterministic. The randomized test at
 * the end drives many seeds of appends, truncations, snapshots, term changes, faults and crashes
 * against an in-memory model of what raft may and must find after a restart.
 */
#include <check.h>
#include <inttypes.h>
#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/codec.h"
#include "base/err.h"
#include "base/exec.h"
#include "base/slog.h"
#include "batchgen.h"
#include "kafka/records.h"
#include "raft/rlog.h"
#include "storage/batch.h"
#include "storage/simfs.h"

#define DIR "/data/t-0"
#define DIR_F "/data/t-0-follower"

/* ---- fixture ------------------------------------------------------------------------------- */

struct fx {
	struct simfs *sim;
	struct fs *fs;
	struct exec_inline ex;
	struct clock_fake clk;
	struct plog_config cfg;
	struct raft_configuration conf;
	struct rlog *log;
	int fatal_calls;
	char fatal_why[600];
	int durable_calls;
};

static struct fx F;

static void quiet_sink(void *arg, enum slog_level level, const char *line)
{
	(void)arg;
	(void)level;
	(void)line;
}

static void fatal_cb(void *arg, const char *why)
{
	(void)arg;
	F.fatal_calls++;
	snprintf(F.fatal_why, sizeof F.fatal_why, "%s", why);
}

static void durable_cb(void *arg)
{
	(void)arg;
	F.durable_calls++;
}

static struct rlog *open_at(const char *dir)
{
	struct rlog_open_args a = {.dir = dir, .name = dir, .fs = F.fs, .exec = &F.ex.exec,
				   .clock = &F.clk.clock, .config = F.cfg, .fatal = fatal_cb};
	struct rlog *l = NULL;
	errmsg_t em = "";
	int rv = rlog_open(&a, &l, em);
	ck_assert_msg(rv == 0, "open %s: %s (%s)", dir, err_str(rv), em);
	rlog_on_meta_durable(l, durable_cb, NULL);
	return l;
}

static void fx_open(void)
{
	F.log = open_at(DIR);
	F.fatal_calls = 0;
}

static void closed_cb(void *arg)
{
	*(int *)arg = 1;
}

static void close_log(struct rlog *l)
{
	int closed = 0;
	rlog_close(l, closed_cb, &closed);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(closed, 1);
}

static void fx_close(void)
{
	close_log(F.log);
	F.log = NULL;
}

/* Power loss: unsynced data goes (torn tails included), in-flight work is dropped. */
static void fx_crash(void)
{
	simfs_fail_nth(F.sim, SIMFS_OP_WRITE, 0, 0);
	simfs_fail_nth(F.sim, SIMFS_OP_SYNC, 0, 0);
	simfs_crash(F.sim);
	exec_inline_init(&F.ex);
	rlog_abandon(F.log);
	F.log = NULL;
	fx_open();
}

static void fx_setup(void)
{
	memset(&F, 0, sizeof F);
	slog_set_sink(quiet_sink, NULL);
	F.sim = simfs_new(42);
	F.fs = simfs_fs(F.sim);
	F.fs->mkdir(F.fs, "/data");
	exec_inline_init(&F.ex);
	clock_fake_init(&F.clk, 1700000000000LL);
	plog_config_default(&F.cfg);
	raft_configuration_init(&F.conf);
	ck_assert_int_eq(raft_configuration_add(&F.conf, 1, "n1:9092", RAFT_VOTER), 0);
	ck_assert_int_eq(raft_configuration_add(&F.conf, 2, "n2:9092", RAFT_VOTER), 0);
	ck_assert_int_eq(raft_configuration_add(&F.conf, 3, "n3:9092", RAFT_STANDBY), 0);
	fx_open();
}

static void fx_teardown(void)
{
	if (F.log != NULL)
		fx_close();
	raft_configuration_close(&F.conf);
	simfs_free(F.sim);
	slog_set_sink(NULL, NULL);
}

/* ---- load results -------------------------------------------------------------------------- */

struct loaded {
	raft_term term;
	raft_id vote;
	struct raft_snapshot *snap;
	raft_index start;
	struct raft_entry *entries;
	size_t n;
};

static void loaded_free(struct loaded *ld)
{
	for (size_t i = 0; i < ld->n; i++)
		raft_free(ld->entries[i].batch);
	raft_free(ld->entries);
	if (ld->snap != NULL) {
		raft_configuration_close(&ld->snap->configuration);
		raft_free(ld->snap->bufs[0].base);
		raft_free(ld->snap->bufs);
		raft_free(ld->snap);
	}
	memset(ld, 0, sizeof *ld);
}

static int load_log(struct rlog *l, struct loaded *ld, char *em)
{
	memset(ld, 0, sizeof *ld);
	return rlog_load(l, &ld->term, &ld->vote, &ld->snap, &ld->start, &ld->entries, &ld->n, em);
}

static void load_ok(struct rlog *l, struct loaded *ld)
{
	errmsg_t em = "";
	int rv = load_log(l, ld, em);
	ck_assert_msg(rv == 0, "load: %s (%s)", err_str(rv), em);
	for (size_t i = 0; i < ld->n; i++)
		ck_assert_ptr_eq(ld->entries[i].batch, ld->entries[i].buf.base);
}

static void bootstrap_ok(struct rlog *l)
{
	errmsg_t em = "";
	int rv = rlog_bootstrap(l, &F.conf, em);
	ck_assert_msg(rv == 0, "bootstrap: %s (%s)", err_str(rv), em);
}

/* ---- appends ------------------------------------------------------------------------------- */

/* One rlog_append call and what the test keeps alive for it until its callback. */
struct areq {
	struct raft_entry e[8];
	struct buf *bufs[8];
	unsigned n;
	int done;
	int status;
	int order;
	struct areq *next_live;
};

static int cb_order;
static struct areq *live; /* requests whose callback has not run */

static void areq_unlink(struct areq *r)
{
	for (struct areq **pp = &live; *pp != NULL; pp = &(*pp)->next_live)
		if (*pp == r) {
			*pp = r->next_live;
			return;
		}
}

static void areq_free(struct areq *r)
{
	for (unsigned i = 0; i < r->n; i++)
		buf_unref(r->bufs[i]);
	free(r);
}

static void areq_cb(void *arg, int status)
{
	struct areq *r = arg;
	ck_assert_int_eq(r->done, 0);
	r->done = 1;
	r->status = status;
	r->order = ++cb_order;
}

static struct areq *areq_new(void)
{
	struct areq *r = calloc(1, sizeof *r);
	ck_assert_ptr_nonnull(r);
	r->next_live = live;
	live = r;
	return r;
}

/* A RAFT_COMMAND entry holding a generated batch (BaseOffset 0, as producers send it). */
static void add_command(struct areq *r, raft_term term, int nrecords, size_t value_bytes,
			uint32_t seed)
{
	struct buf *b = batchgen(nrecords, value_bytes, 1000 + seed, seed);
	r->bufs[r->n] = b;
	r->e[r->n] = (struct raft_entry){.term = term, .type = RAFT_COMMAND,
					 .buf = {.base = b->data, .len = b->len}};
	r->n++;
}

/* Bytes of raft's encoding of a configuration before its padding (which raft leaves
 * uninitialised and rlog stores as zeroes): format, count, then per server id, address with its
 * NUL, role. */
static size_t conf_used_bytes(const struct raft_configuration *c)
{
	size_t n = 1 + 8;
	for (unsigned i = 0; i < c->n; i++)
		n += 8 + strlen(c->servers[i].address) + 1 + 1;
	return n;
}

/* A RAFT_BARRIER (8 bytes, as raft_barrier makes) or RAFT_CHANGE (the encoded configuration,
 * padding zeroed). */
static void add_control(struct areq *r, raft_term term, unsigned short type)
{
	struct buf *b;
	if (type == RAFT_CHANGE) {
		struct raft_buffer enc;
		ck_assert_int_eq(raft_configuration_encode(&F.conf, &enc), 0);
		b = buf_copy(enc.base, enc.len);
		raft_free(enc.base);
		memset(b->data + conf_used_bytes(&F.conf), 0, b->len - conf_used_bytes(&F.conf));
	} else {
		uint8_t junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
		b = buf_copy(junk, sizeof junk);
	}
	r->bufs[r->n] = b;
	r->e[r->n] = (struct raft_entry){.term = term, .type = type,
					 .buf = {.base = b->data, .len = b->len}};
	r->n++;
}

static int submit(struct rlog *l, struct areq *r, int flags)
{
	int rv = rlog_append(l, r->e, r->n, flags, areq_cb, r);
	if (rv != 0) {
		areq_unlink(r);
		areq_free(r);
	}
	return rv;
}

/* Frees the requests whose callbacks ran (or that a crash made moot). */
static void reap(bool all)
{
	for (struct areq **pp = &live; *pp != NULL;) {
		struct areq *r = *pp;
		if (r->done || all) {
			*pp = r->next_live;
			areq_free(r);
		} else {
			pp = &r->next_live;
		}
	}
}

/* For snapshot and install callbacks: p[0] calls, p[1] last status, p[2] its place among all
 * callbacks. */
static void status_cb(void *arg, int status)
{
	int *p = arg;
	p[0]++;
	p[1] = status;
	p[2] = ++cb_order;
}

/* A snapshot for rlog_snapshot_put: the fixture's configuration and `n` bytes of data. */
static void make_snapshot(struct raft_snapshot *s, struct raft_buffer *buf, raft_index index,
			  raft_term term, size_t n, uint8_t fill)
{
	memset(s, 0, sizeof *s);
	s->index = index;
	s->term = term;
	s->configuration = F.conf;
	s->configuration_index = 1;
	buf->base = malloc(n > 0 ? n : 1);
	buf->len = n;
	memset(buf->base, fill, n);
	s->bufs = buf;
	s->n_bufs = 1;
}

/* ---- tests: bootstrap, append, reload ------------------------------------------------------ */

/* A bootstrapped group loads term 1 and entry 1, the RAFT_CHANGE with raft's own encoding of the
 * configuration; bootstrapping again is refused. */
START_TEST(test_rlog_bootstrap_then_load_returns_the_configuration_entry)
{
	struct loaded ld;
	struct raft_buffer enc;
	errmsg_t em;

	bootstrap_ok(F.log);
	ck_assert_int_eq(rlog_bootstrap(F.log, &F.conf, em), SLUICE_EEXIST);
	fx_close();
	fx_open();
	ck_assert_int_eq(rlog_bootstrap(F.log, &F.conf, em), SLUICE_EEXIST);
	load_ok(F.log, &ld);
	ck_assert_uint_eq(ld.term, 1);
	ck_assert_uint_eq(ld.vote, 0);
	ck_assert_ptr_null(ld.snap);
	ck_assert_uint_eq(ld.start, 1);
	ck_assert_uint_eq(ld.n, 1);
	ck_assert_uint_eq(ld.entries[0].type, RAFT_CHANGE);
	ck_assert_uint_eq(ld.entries[0].term, 1);
	ck_assert_int_eq(raft_configuration_encode(&F.conf, &enc), 0);
	ck_assert_uint_eq(ld.entries[0].buf.len, enc.len);
	/* raft's encoding without its padding (which raft leaves uninitialised; rlog zeroes it):
	 * format, count, then id, address and NUL, role per server. */
	size_t used = conf_used_bytes(&F.conf);
	ck_assert_uint_le(used, enc.len);
	ck_assert(memcmp(ld.entries[0].buf.base, enc.base, used) == 0);
	for (size_t i = used; i < enc.len; i++)
		ck_assert_uint_eq(((uint8_t *)ld.entries[0].buf.base)[i], 0);
	raft_free(enc.base);
	int64_t base, last;
	ck_assert_int_eq(rlog_entry_offsets(F.log, 1, &base, &last), 0);
	ck_assert_int_eq(base, 0);
	ck_assert_int_eq(last, 0);
	loaded_free(&ld);
}
END_TEST

/* An empty replica loads nothing: no snapshot, start index 1, no entries. */
START_TEST(test_rlog_empty_replica_loads_nothing)
{
	struct loaded ld;

	load_ok(F.log, &ld);
	ck_assert_ptr_null(ld.snap);
	ck_assert_uint_eq(ld.start, 1);
	ck_assert_uint_eq(ld.n, 0);
	ck_assert_uint_eq(ld.term, 0);
	loaded_free(&ld);
}
END_TEST

/* Commands, barriers and configuration changes reload with identical terms, types and
 * payloads, and each sits at the offsets it was given. */
START_TEST(test_rlog_append_all_types_then_reload_identical)
{
	struct loaded ld;
	int64_t base[16], last[16];

	bootstrap_ok(F.log);
	load_ok(F.log, &ld);
	loaded_free(&ld);
	struct areq *r1 = areq_new();
	add_command(r1, 2, 3, 100, 1);
	add_control(r1, 2, RAFT_BARRIER);
	add_command(r1, 2, 1, 10, 2);
	ck_assert_int_eq(submit(F.log, r1, RLOG_APPEND_LEADER), 0);
	struct areq *r2 = areq_new();
	add_control(r2, 3, RAFT_CHANGE);
	add_command(r2, 3, 5, 7, 3);
	ck_assert_int_eq(submit(F.log, r2, RLOG_APPEND_LEADER), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(r1->done, 1);
	ck_assert_int_eq(r1->status, 0);
	ck_assert_int_eq(r2->status, 0);
	ck_assert_int_lt(r1->order, r2->order);
	for (raft_index i = 1; i <= 6; i++)
		ck_assert_int_eq(rlog_entry_offsets(F.log, i, &base[i], &last[i]), 0);
	/* 1 config, 3 records, 1 barrier, 1 record, 1 change, 5 records. */
	int64_t want_base[] = {0, 0, 1, 4, 5, 6, 7}, want_last[] = {0, 0, 3, 4, 5, 6, 11};
	for (int i = 1; i <= 6; i++) {
		ck_assert_int_eq(base[i], want_base[i]);
		ck_assert_int_eq(last[i], want_last[i]);
	}
	ck_assert_uint_eq(rlog_index_of_offset(F.log, 2), 2);
	ck_assert_uint_eq(rlog_index_of_offset(F.log, 11), 6);
	ck_assert_uint_eq(rlog_index_of_offset(F.log, 12), 0);
	fx_close();
	fx_open();
	load_ok(F.log, &ld);
	ck_assert_uint_eq(ld.start, 1);
	ck_assert_uint_eq(ld.n, 6);
	const struct raft_entry *want[] = {NULL, NULL, &r1->e[0], &r1->e[1], &r1->e[2], &r2->e[0],
					   &r2->e[1]};
	for (int i = 2; i <= 6; i++) {
		const struct raft_entry *e = &ld.entries[i - 1];
		ck_assert_uint_eq(e->term, want[i]->term);
		ck_assert_uint_eq(e->type, want[i]->type);
		if (e->type == RAFT_BARRIER) {
			ck_assert_uint_eq(e->buf.len, 8); /* raft ignores a barrier's payload */
			continue;
		}
		ck_assert_uint_eq(e->buf.len, want[i]->buf.len);
		ck_assert(memcmp(e->buf.base, want[i]->buf.base, e->buf.len) == 0);
	}
	for (raft_index i = 1; i <= 6; i++) {
		int64_t b, l;
		ck_assert_int_eq(rlog_entry_offsets(F.log, i, &b, &l), 0);
		ck_assert_int_eq(b, base[i]);
		ck_assert_int_eq(l, last[i]);
	}
	loaded_free(&ld);
	reap(true);
}
END_TEST

/* The leader's append writes BaseOffset and PartitionLeaderEpoch into raft's buffer before
 * rlog_append returns, so the offsets are known (and sent to followers) at once. */
START_TEST(test_rlog_leader_assigns_offsets_in_place)
{
	struct loaded ld;

	bootstrap_ok(F.log);
	load_ok(F.log, &ld);
	loaded_free(&ld);
	F.ex.defer_work = true;
	struct areq *r = areq_new();
	add_command(r, 4, 2, 10, 1);
	add_command(r, 4, 3, 10, 2);
	ck_assert_int_eq(submit(F.log, r, RLOG_APPEND_LEADER), 0);
	struct batch_header h;
	ck_assert_int_eq(batch_header_decode(r->e[1].buf.base, r->e[1].buf.len, &h), 0);
	ck_assert_int_eq(h.base_offset, 3);
	ck_assert_int_eq(h.partition_leader_epoch, 4);
	ck_assert(batch_crc_ok(r->e[1].buf.base, r->e[1].buf.len));
	int64_t b, l;
	ck_assert_int_eq(rlog_entry_offsets(F.log, 3, &b, &l), 0);
	ck_assert_int_eq(b, 3);
	ck_assert_int_eq(l, 5);
	ck_assert_int_eq(r->done, 0); /* not durable yet */
	exec_inline_run(&F.ex);
	ck_assert_int_eq(r->done, 1);
	ck_assert_int_eq(r->status, 0);
	/* The default mode treats BaseOffset 0 as a fresh batch to number. */
	struct areq *r2 = areq_new();
	add_command(r2, 4, 1, 10, 3);
	ck_assert_int_eq(submit(F.log, r2, RLOG_APPEND_AUTO), 0);
	ck_assert_int_eq((int64_t)be64_get(r2->e[0].buf.base), 6);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(r2->status, 0);
	reap(true);
}
END_TEST

/* A follower stores the leader's bytes as they are (offsets kept); a batch whose BaseOffset does
 * not continue the log is refused through `fatal`, and its callback only runs, canceled, when
 * the log is closed. Both replicas end up with byte-identical logs. */
START_TEST(test_rlog_follower_keeps_offsets_and_replicas_match_byte_for_byte)
{
	struct loaded ld;
	struct rlog *fl = open_at(DIR_F);

	bootstrap_ok(F.log);
	bootstrap_ok(fl);
	load_ok(F.log, &ld);
	loaded_free(&ld);
	load_ok(fl, &ld);
	loaded_free(&ld);
	/* Leader: assign. Follower: the same entries, bytes copied after the leader stamped them
	 * (raft copies entries on the follower). */
	struct areq *lr = areq_new();
	add_command(lr, 2, 4, 30, 1);
	add_control(lr, 2, RAFT_BARRIER);
	add_control(lr, 2, RAFT_CHANGE);
	add_command(lr, 2, 2, 30, 2);
	ck_assert_int_eq(submit(F.log, lr, RLOG_APPEND_LEADER), 0);
	struct areq *fr = areq_new();
	for (unsigned i = 0; i < lr->n; i++) {
		struct buf *b = buf_copy(lr->e[i].buf.base, lr->e[i].buf.len);
		fr->bufs[i] = b;
		fr->e[i] = lr->e[i];
		fr->e[i].buf.base = b->data;
	}
	fr->n = lr->n;
	ck_assert_int_eq(submit(fl, fr, RLOG_APPEND_FOLLOWER), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(lr->status, 0);
	ck_assert_int_eq(fr->status, 0);
	/* Byte-identical logs. */
	struct plog_read_result a, b;
	ck_assert_int_eq(rlog_read(F.log, 0, INT64_MAX, 1 << 20, &a), 0);
	ck_assert_int_eq(rlog_read(fl, 0, INT64_MAX, 1 << 20, &b), 0);
	ck_assert_uint_gt(a.len, 0);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert(memcmp(a.buf->data, b.buf->data, a.len) == 0);
	buf_unref(a.buf);
	buf_unref(b.buf);
	/* A gap: the leader's next batch claims offset 100. */
	struct areq *bad = areq_new();
	add_command(bad, 2, 1, 10, 9);
	batch_set_base_offset(bad->e[0].buf.base, 100);
	ck_assert_int_eq(submit(fl, bad, RLOG_APPEND_FOLLOWER), 0);
	ck_assert_int_eq(F.fatal_calls, 1);
	ck_assert(rlog_failed(fl));
	exec_inline_run(&F.ex);
	ck_assert_int_eq(bad->done, 0);
	struct areq *after = areq_new();
	add_command(after, 2, 1, 10, 10);
	ck_assert_int_eq(submit(fl, after, RLOG_APPEND_FOLLOWER), SLUICE_EIO);
	close_log(fl);
	ck_assert_int_eq(bad->done, 1);
	ck_assert_int_eq(bad->status, SLUICE_ECANCELED);
	ck_assert_int_eq(F.fatal_calls, 1);
	reap(true);
}
END_TEST

/* An entry rlog cannot store (a command that is not one whole valid batch, a term that does not
 * fit PartitionLeaderEpoch) fails the append at once, through `fatal`, with no callback. */
START_TEST(test_rlog_malformed_entries_are_refused)
{
	struct loaded ld;

	bootstrap_ok(F.log);
	load_ok(F.log, &ld);
	loaded_free(&ld);
	struct areq *r = areq_new();
	add_command(r, 2, 2, 10, 1);
	r->e[0].buf.len -= 1; /* not a whole batch */
	ck_assert_int_eq(submit(F.log, r, RLOG_APPEND_LEADER), SLUICE_EMALFORMED);
	ck_assert_int_eq(F.fatal_calls, 1);
	fx_close();
	fx_open();
	load_ok(F.log, &ld);
	loaded_free(&ld);
	r = areq_new();
	add_command(r, (raft_term)INT32_MAX + 1, 1, 10, 1);
	ck_assert_int_eq(submit(F.log, r, RLOG_APPEND_LEADER), SLUICE_EINVAL);
	ck_assert_int_eq(F.fatal_calls, 1);
	reap(true);
}
END_TEST

/* Truncation while appends are in flight: every callback still runs, in order, with 0; the
 * entries after the cut are gone and new ones (of a later term) take their offsets. */
START_TEST(test_rlog_truncate_then_append)
{
	struct loaded ld;

	bootstrap_ok(F.log);
	load_ok(F.log, &ld);
	loaded_free(&ld);
	struct areq *r1 = areq_new();
	for (int i = 0; i < 4; i++)
		add_command(r1, 2, 2, 10, (uint32_t)i);
	ck_assert_int_eq(submit(F.log, r1, RLOG_APPEND_LEADER), 0);
	exec_inline_run(&F.ex);
	F.ex.defer_work = true;
	struct areq *r2 = areq_new();
	add_command(r2, 2, 2, 10, 10);
	add_command(r2, 2, 2, 10, 11);
	ck_assert_int_eq(submit(F.log, r2, RLOG_APPEND_LEADER), 0); /* entries 6, 7 */
	ck_assert_uint_eq(rlog_last_index(F.log), 7);
	ck_assert_int_eq(rlog_truncate(F.log, 4), 0); /* entries 4..7 go */
	ck_assert_uint_eq(rlog_last_index(F.log), 3);
	struct areq *r3 = areq_new();
	add_command(r3, 3, 1, 10, 20);
	ck_assert_int_eq(submit(F.log, r3, RLOG_APPEND_LEADER), 0);
	int64_t b, l;
	ck_assert_int_eq(rlog_entry_offsets(F.log, 4, &b, &l), 0);
	ck_assert_int_eq(b, 5); /* 1 + 2 + 2 */
	exec_inline_run(&F.ex);
	ck_assert_int_eq(r2->status, 0);
	ck_assert_int_eq(r3->status, 0);
	ck_assert_int_lt(r2->order, r3->order);
	ck_assert_int_eq(rlog_truncate(F.log, 9), 0); /* past the end: nothing */
	fx_close();
	fx_open();
	load_ok(F.log, &ld);
	ck_assert_uint_eq(ld.n, 4);
	ck_assert_uint_eq(ld.entries[3].term, 3);
	ck_assert(memcmp(ld.entries[3].buf.base, r3->e[0].buf.base, r3->e[0].buf.len) == 0);
	ck_assert(memcmp(ld.entries[2].buf.base, r1->e[1].buf.base, r1->e[1].buf.len) == 0);
	loaded_free(&ld);
	reap(true);
}
END_TEST

/* ---- tests: term and vote ------------------------------------------------------------------ */

/* set_term/set_vote update memory at once; the returned sequence becomes durable off the loop
 * (the hook runs); a crash before that loses the values, after it keeps them. set_term clears
 * the vote. */
START_TEST(test_rlog_term_and_vote_durable_sequence_survives_crash)
{
	struct loaded ld;

	simfs_set_torn_writes(F.sim, false);
	bootstrap_ok(F.log);
	load_ok(F.log, &ld);
	loaded_free(&ld);
	F.ex.defer_work = true;
	uint64_t s1 = rlog_set_term(F.log, 5);
	uint64_t s2 = rlog_set_vote(F.log, 2);
	ck_assert_uint_gt(s2, s1);
	ck_assert_uint_eq(rlog_term(F.log), 5);
	ck_assert_uint_eq(rlog_vote(F.log), 2);
	ck_assert_uint_lt(rlog_meta_durable(F.log), s1);
	exec_inline_run(&F.ex);
	ck_assert_uint_ge(rlog_meta_durable(F.log), s2);
	ck_assert_int_ge(F.durable_calls, 1);
	uint64_t s3 = rlog_set_term(F.log, 6); /* not durable when the power goes */
	ck_assert_uint_eq(rlog_vote(F.log), 0);
	ck_assert_uint_lt(rlog_meta_durable(F.log), s3);
	fx_crash();
	load_ok(F.log, &ld);
	ck_assert_uint_eq(ld.term, 5);
	ck_assert_uint_eq(ld.vote, 2);
	loaded_free(&ld);
	rlog_set_term(F.log, 6);
	exec_inline_run(&F.ex);
	fx_crash();
	load_ok(F.log, &ld);
	ck_assert_uint_eq(ld.term, 6);
	ck_assert_uint_eq(ld.vote, 0);
	loaded_free(&ld);
}
END_TEST

/* A failed state-file write goes to `fatal`; the durable sequence does not move. */
START_TEST(test_rlog_term_write_failure_is_fatal)
{
	struct loaded ld;

	bootstrap_ok(F.log);
	load_ok(F.log, &ld);
	loaded_free(&ld);
	simfs_fail_nth(F.sim, SIMFS_OP_SYNC, 1, SLUICE_EIO);
	uint64_t s = rlog_set_term(F.log, 3);
	exec_inline_run(&F.ex);
	ck_assert_uint_lt(rlog_meta_durable(F.log), s);
	ck_assert_int_eq(F.fatal_calls, 1);
	ck_assert(rlog_failed(F.log));
}
END_TEST

/* ---- tests: crashes ------------------------------------------------------------------------ */

/* A crash while appends are in flight (torn tails included) reloads a prefix of what was
 * appended that holds every acknowledged entry, at every crash point. */
START_TEST(test_rlog_crash_mid_append_reloads_a_prefix_with_every_acknowledged_entry)
{
	for (int steps = 0; steps < 12; steps++) {
		for (uint64_t seed = 1; seed <= 4; seed++) {
			struct loaded ld;
			fx_teardown();
			fx_setup();
			simfs_free(F.sim);
			F.sim = simfs_new(seed * 100 + (uint64_t)steps);
			F.fs = simfs_fs(F.sim);
			F.fs->mkdir(F.fs, "/data");
			rlog_abandon(F.log);
			fx_open();
			bootstrap_ok(F.log);
			load_ok(F.log, &ld);
			loaded_free(&ld);
			F.ex.defer_work = true;
			struct areq *reqs[10];
			for (int i = 0; i < 10; i++) {
				reqs[i] = areq_new();
				add_command(reqs[i], 2, 1 + i % 3, 500 + (size_t)i * 300, (uint32_t)i);
				if (i % 4 == 3)
					add_control(reqs[i], 2, RAFT_BARRIER);
				ck_assert_int_eq(submit(F.log, reqs[i], RLOG_APPEND_LEADER), 0);
				if (i % 3 == 2)
					for (int k = 0; k < steps / 4; k++)
						exec_inline_step(&F.ex);
			}
			for (int k = 0; k < steps % 4; k++)
				exec_inline_step(&F.ex);
			raft_index acked = 1;
			raft_index idx = 1;
			for (int i = 0; i < 10; i++) {
				idx += reqs[i]->n;
				if (reqs[i]->done) {
					ck_assert_int_eq(reqs[i]->status, 0);
					acked = idx;
				}
			}
			fx_crash();
			load_ok(F.log, &ld);
			ck_assert_uint_ge(ld.start + ld.n - 1, acked);
			/* A prefix: entry by entry the same as appended. */
			idx = 2;
			for (int i = 0; i < 10 && idx < ld.start + ld.n; i++)
				for (unsigned j = 0; j < reqs[i]->n && idx < ld.start + ld.n; j++, idx++) {
					const struct raft_entry *e = &ld.entries[idx - 1];
					ck_assert_uint_eq(e->type, reqs[i]->e[j].type);
					if (e->type == RAFT_COMMAND)
						ck_assert(memcmp(e->buf.base, reqs[i]->e[j].buf.base,
								 e->buf.len) == 0);
				}
			loaded_free(&ld);
			reap(true);
		}
	}
}
END_TEST

/* ---- tests: snapshots ---------------------------------------------------------------------- */

/* snapshot_put waits for the appends before it, stores the snapshot, and forgets the entries
 * raft no longer keeps; a reload starts at the trailing anchor, returns the snapshot (one buf,
 * the same configuration and data), and the entries after it. */
START_TEST(test_rlog_snapshot_put_then_reload_starts_at_the_trailing_anchor)
{
	struct loaded ld;
	struct raft_snapshot s;
	struct raft_buffer data;
	int put[3] = {0, -1, 0};

	bootstrap_ok(F.log);
	load_ok(F.log, &ld);
	loaded_free(&ld);
	struct areq *r = areq_new();
	for (int i = 0; i < 8; i++)
		add_command(r, 2, 2, 20, (uint32_t)i);
	ck_assert_int_eq(submit(F.log, r, RLOG_APPEND_LEADER), 0); /* entries 2..9 */
	exec_inline_run(&F.ex);
	F.ex.defer_work = true;
	struct areq *r2 = areq_new();
	for (int i = 0; i < 6; i++)
		add_command(r2, 3, 1, 20, (uint32_t)(10 + i));
	ck_assert_int_eq(submit(F.log, r2, RLOG_APPEND_LEADER), 0); /* entries 10..15 */
	make_snapshot(&s, &data, 12, 3, 100, 0xab);
	ck_assert_int_eq(rlog_snapshot_put(F.log, 4, &s, status_cb, put), 0);
	free(data.base); /* copied */
	exec_inline_run(&F.ex);
	ck_assert_int_eq(put[0], 1);
	ck_assert_int_eq(put[1], 0);
	ck_assert_int_eq(r2->done, 1);
	ck_assert_int_lt(r2->order, put[2]); /* the appends before it completed first */
	ck_assert_uint_eq(rlog_first_index(F.log), 9); /* raft keeps > 12 - 4 */
	int64_t b, l, end;
	ck_assert_int_eq(rlog_entry_offsets(F.log, 8, &b, &l), SLUICE_ERANGE);
	ck_assert_int_eq(rlog_end_offset_of(F.log, 12, &end), 0);
	ck_assert_int_eq(rlog_entry_offsets(F.log, 13, &b, &l), 0);
	ck_assert_int_eq(end, b);
	struct raft_snapshot *got;
	ck_assert_int_eq(rlog_snapshot_get(F.log, &got), 0);
	ck_assert_uint_eq(got->index, 12);
	ck_assert_uint_eq(got->term, 3);
	ck_assert_uint_eq(got->n_bufs, 1);
	ck_assert_uint_eq(got->bufs[0].len, 100);
	ck_assert_uint_eq(got->configuration.n, 3);
	ck_assert_str_eq(got->configuration.servers[2].address, "n3:9092");
	ck_assert_int_eq(got->configuration.servers[2].role, RAFT_STANDBY);
	struct loaded tmp = {.snap = got};
	loaded_free(&tmp);
	fx_close();
	fx_open();
	load_ok(F.log, &ld);
	ck_assert_ptr_nonnull(ld.snap);
	ck_assert_uint_eq(ld.snap->index, 12);
	ck_assert_uint_eq(ld.snap->configuration_index, 1);
	ck_assert_uint_eq(ld.snap->bufs[0].len, 100);
	ck_assert_uint_eq(((uint8_t *)ld.snap->bufs[0].base)[99], 0xab);
	ck_assert_uint_eq(ld.start, 9);
	ck_assert_uint_eq(ld.n, 7); /* 9..15 */
	ck_assert(memcmp(ld.entries[0].buf.base, r->e[7].buf.base, r->e[7].buf.len) == 0);
	ck_assert(memcmp(ld.entries[6].buf.base, r2->e[5].buf.base, r2->e[5].buf.len) == 0);
	loaded_free(&ld);
	reap(true);
}
END_TEST

/* When retention has removed the trailing entries, load starts at the log start instead,
 * counting back from the snapshot's end; retention never goes past that end. */
START_TEST(test_rlog_load_after_retention_counts_back_from_the_snapshot_end)
{
	struct loaded ld;
	struct raft_snapshot s;
	struct raft_buffer data;
	int put[3] = {0, -1, 0};

	fx_close();
	F.cfg.segment_bytes = 1024;
	F.cfg.retention_bytes = 0;
	F.cfg.retention_ms = -1;
	fx_open();
	bootstrap_ok(F.log);
	load_ok(F.log, &ld);
	loaded_free(&ld);
	struct areq *r = areq_new();
	for (int i = 0; i < 8; i++)
		add_command(r, 2, 1, 300, (uint32_t)i);
	ck_assert_int_eq(submit(F.log, r, RLOG_APPEND_LEADER), 0); /* entries 2..9 */
	exec_inline_run(&F.ex);
	/* Without a snapshot retention may not delete anything. */
	ck_assert_int_eq(plog_enforce_retention(rlog_plog(F.log)), 0);
	make_snapshot(&s, &data, 7, 2, 10, 1);
	ck_assert_int_eq(rlog_snapshot_put(F.log, 5, &s, status_cb, put), 0);
	free(data.base);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(put[1], 0);
	ck_assert_int_gt(plog_enforce_retention(rlog_plog(F.log)), 0);
	exec_inline_run(&F.ex);
	int64_t start = plog_start_offset(rlog_plog(F.log)), end;
	ck_assert_int_eq(rlog_end_offset_of(F.log, 7, &end), 0);
	ck_assert_int_gt(start, 0);
	ck_assert_int_le(start, end);
	fx_close();
	fx_open();
	load_ok(F.log, &ld);
	ck_assert_uint_le(ld.start, 8);
	ck_assert_uint_eq(ld.start + ld.n - 1, 9);
	int64_t b, l;
	ck_assert_int_eq(rlog_entry_offsets(F.log, ld.start, &b, &l), 0);
	ck_assert_int_eq(b, start);
	ck_assert(memcmp(ld.entries[ld.n - 1].buf.base, r->e[7].buf.base, r->e[7].buf.len) == 0);
	loaded_free(&ld);
	reap(true);
}
END_TEST

/* A failed snapshot write goes to `fatal`, never to the callback, which runs canceled at close;
 * the old snapshot stays. */
START_TEST(test_rlog_snapshot_write_failure_is_fatal)
{
	struct loaded ld;
	struct raft_snapshot s;
	struct raft_buffer data;
	int put[3] = {0, -1, 0};

	bootstrap_ok(F.log);
	load_ok(F.log, &ld);
	loaded_free(&ld);
	struct areq *r = areq_new();
	for (int i = 0; i < 4; i++)
		add_command(r, 2, 1, 30, (uint32_t)i);
	ck_assert_int_eq(submit(F.log, r, RLOG_APPEND_LEADER), 0);
	exec_inline_run(&F.ex);
	make_snapshot(&s, &data, 3, 2, 10, 1);
	simfs_fail_nth(F.sim, SIMFS_OP_RENAME, 1, SLUICE_EIO);
	ck_assert_int_eq(rlog_snapshot_put(F.log, 2, &s, status_cb, put), 0);
	free(data.base);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(put[0], 0);
	ck_assert_int_eq(F.fatal_calls, 1);
	fx_close();
	ck_assert_int_eq(put[0], 1);
	ck_assert_int_eq(put[1], SLUICE_ECANCELED);
	fx_open();
	load_ok(F.log, &ld);
	ck_assert_ptr_null(ld.snap);
	ck_assert_uint_eq(ld.n, 5);
	loaded_free(&ld);
	reap(true);
}
END_TEST

/* ---- tests: install ------------------------------------------------------------------------ */

struct pair {
	struct rlog *leader;
	struct rlog *follower;
	struct areq *reqs[64];
	int n;
};

/* Appends `count` single-entry commands on the leader, and the same bytes on the follower for
 * the first `follower_count` of them. */
static void pair_append(struct pair *p, int count, int follower_count, raft_term term)
{
	for (int i = 0; i < count; i++) {
		struct areq *r = areq_new();
		add_command(r, term, 1 + i % 3, 40, (uint32_t)(p->n + 100));
		ck_assert_int_eq(submit(p->leader, r, RLOG_APPEND_LEADER), 0);
		if (i < follower_count) {
			struct areq *f = areq_new();
			struct buf *b = buf_copy(r->e[0].buf.base, r->e[0].buf.len);
			f->bufs[0] = b;
			f->e[0] = r->e[0];
			f->e[0].buf.base = b->data;
			f->n = 1;
			ck_assert_int_eq(submit(p->follower, f, RLOG_APPEND_FOLLOWER), 0);
		}
		p->reqs[p->n++] = r;
	}
	exec_inline_run(&F.ex);
}

static void pair_setup(struct pair *p)
{
	struct loaded ld;
	memset(p, 0, sizeof *p);
	p->leader = F.log;
	p->follower = open_at(DIR_F);
	bootstrap_ok(p->leader);
	bootstrap_ok(p->follower);
	load_ok(p->leader, &ld);
	loaded_free(&ld);
	load_ok(p->follower, &ld);
	loaded_free(&ld);
}

/* The leader takes a snapshot at `index` and hands it out as raft would send it. */
static struct raft_snapshot *leader_snapshot(struct pair *p, raft_index index, int64_t *end)
{
	struct raft_snapshot s, *got;
	struct raft_buffer data;
	int put[3] = {0, -1, 0};
	make_snapshot(&s, &data, index, 2, 64, 0x5a);
	ck_assert_int_eq(rlog_snapshot_put(p->leader, 2, &s, status_cb, put), 0);
	free(data.base);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(put[1], 0);
	ck_assert_int_eq(rlog_snapshot_get(p->leader, &got), 0);
	ck_assert_int_eq(rlog_end_offset_of(p->leader, index, end), 0);
	return got;
}

static void free_snapshot(struct raft_snapshot *s)
{
	struct loaded tmp = {.snap = s};
	loaded_free(&tmp);
}

/* Copies the leader's batches [from, to) into the follower's install. */
static void copy_range(struct pair *p, int64_t from, int64_t to)
{
	while (from < to) {
		struct plog_read_result rr;
		ck_assert_int_eq(rlog_read(p->leader, from, to, 300, &rr), 0);
		ck_assert_uint_gt(rr.len, 0);
		ck_assert_int_eq(rlog_install_data(p->follower, rr.buf, 0, rr.len), 0);
		from = rr.next_offset;
		buf_unref(rr.buf);
	}
}

/* A follower that kept a committed prefix installs the leader's snapshot: it cuts its
 * uncommitted tail, fetches the missing batches, stores the snapshot, and an entry raft
 * appended meanwhile is written after it. A reload starts after the snapshot. */
START_TEST(test_rlog_install_begin_data_finish)
{
	struct pair p;
	struct loaded ld;
	int fin[3] = {0, -1, 0};
	int64_t end, from;

	pair_setup(&p);
	pair_append(&p, 10, 4, 2); /* leader 2..11, follower 2..5 */
	/* The follower also has a stale entry 6 of its own (a different term). */
	struct areq *stale = areq_new();
	add_command(stale, 2, 1, 5, 999);
	batch_set_base_offset(stale->e[0].buf.base,
			      (int64_t)be64_get(p.reqs[4]->e[0].buf.base));
	ck_assert_int_eq(submit(p.follower, stale, RLOG_APPEND_FOLLOWER), 0);
	exec_inline_run(&F.ex);
	struct raft_snapshot *snap = leader_snapshot(&p, 9, &end);
	/* Keep 1..4 (the follower's commit index). */
	ck_assert_int_eq(rlog_install_begin(p.follower, snap, 4, end, &from), 0);
	ck_assert_int_eq(from, (int64_t)be64_get(p.reqs[3]->e[0].buf.base));
	/* raft appends entry 10 (from the leader) while the install is on: held. */
	struct areq *held = areq_new();
	struct buf *hb = buf_copy(p.reqs[8]->e[0].buf.base, p.reqs[8]->e[0].buf.len);
	held->bufs[0] = hb;
	held->e[0] = p.reqs[8]->e[0];
	held->e[0].buf.base = hb->data;
	held->n = 1;
	ck_assert_int_eq(submit(p.follower, held, RLOG_APPEND_FOLLOWER), 0);
	ck_assert_int_eq(rlog_install_finish(p.follower, status_cb, fin), SLUICE_EINVAL);
	copy_range(&p, from, end);
	ck_assert_int_eq(rlog_install_finish(p.follower, status_cb, fin), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(fin[0], 1);
	ck_assert_int_eq(fin[1], 0);
	ck_assert_int_eq(held->done, 1);
	ck_assert_int_eq(held->status, 0);
	ck_assert_int_eq(stale->status, 0);
	ck_assert_int_eq(F.fatal_calls, 0);
	ck_assert_uint_eq(rlog_first_index(p.follower), 10);
	ck_assert_uint_eq(rlog_last_index(p.follower), 10);
	/* Same bytes as the leader up to entry 10. */
	int64_t lb, ll;
	ck_assert_int_eq(rlog_entry_offsets(p.leader, 10, &lb, &ll), 0);
	struct plog_read_result a, b;
	ck_assert_int_eq(rlog_read(p.leader, 0, ll + 1, 1 << 20, &a), 0);
	ck_assert_int_eq(rlog_read(p.follower, 0, ll + 1, 1 << 20, &b), 0);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert(memcmp(a.buf->data, b.buf->data, a.len) == 0);
	buf_unref(a.buf);
	buf_unref(b.buf);
	close_log(p.follower);
	p.follower = open_at(DIR_F);
	load_ok(p.follower, &ld);
	ck_assert_ptr_nonnull(ld.snap);
	ck_assert_uint_eq(ld.snap->index, 9);
	ck_assert_uint_eq(ld.snap->bufs[0].len, 64);
	ck_assert_uint_eq(ld.start, 10);
	ck_assert_uint_eq(ld.n, 1);
	loaded_free(&ld);
	close_log(p.follower);
	free_snapshot(snap);
	reap(true);
}
END_TEST

/* When the leader no longer has the offsets, the follower's log is emptied and restarts at the
 * snapshot's end; a reload finds the snapshot and an empty log there. */
START_TEST(test_rlog_install_reset_restarts_the_log)
{
	struct pair p;
	struct loaded ld;
	int fin[3] = {0, -1, 0};
	int64_t end, from;

	pair_setup(&p);
	pair_append(&p, 8, 2, 2);
	struct raft_snapshot *snap = leader_snapshot(&p, 8, &end);
	ck_assert_int_eq(rlog_install_begin(p.follower, snap, 3, end, &from), 0);
	ck_assert_int_lt(from, end);
	ck_assert_int_eq(rlog_install_reset(p.follower, end + 1), SLUICE_ERANGE);
	ck_assert_int_eq(rlog_install_reset(p.follower, end), 0);
	ck_assert_int_eq(rlog_install_finish(p.follower, status_cb, fin), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(fin[1], 0);
	close_log(p.follower);
	p.follower = open_at(DIR_F);
	load_ok(p.follower, &ld);
	ck_assert_uint_eq(ld.snap->index, 8);
	ck_assert_uint_eq(ld.start, 9);
	ck_assert_uint_eq(ld.n, 0);
	ck_assert_int_eq(plog_start_offset(rlog_plog(p.follower)), end);
	ck_assert_int_eq(plog_end_offset(rlog_plog(p.follower)), end);
	loaded_free(&ld);
	/* Raft then appends entry 9 at the snapshot's end. */
	struct areq *r = areq_new();
	struct buf *b = buf_copy(p.reqs[7]->e[0].buf.base, p.reqs[7]->e[0].buf.len);
	r->bufs[0] = b;
	r->e[0] = p.reqs[7]->e[0];
	r->e[0].buf.base = b->data;
	r->n = 1;
	ck_assert_int_eq((int64_t)be64_get(b->data), end);
	ck_assert_int_eq(submit(p.follower, r, RLOG_APPEND_FOLLOWER), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(r->status, 0);
	close_log(p.follower);
	free_snapshot(snap);
	reap(true);
}
END_TEST

/* A crash after an install emptied the log but before it stored the snapshot: the reload
 * returns the old snapshot and no entry (the log is out of its anchors' reach), and the next
 * append restarts the log at the old snapshot's end. */
START_TEST(test_rlog_install_interrupted_after_reset_reloads_the_old_snapshot)
{
	struct pair p;
	struct loaded ld;
	struct raft_snapshot s;
	struct raft_buffer data;
	int put[3] = {0, -1, 0};
	int64_t end, from, old_end;

	pair_setup(&p);
	pair_append(&p, 10, 5, 2); /* follower 2..6 */
	make_snapshot(&s, &data, 4, 2, 8, 7);
	ck_assert_int_eq(rlog_snapshot_put(p.follower, 1, &s, status_cb, put), 0);
	free(data.base);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(rlog_end_offset_of(p.follower, 4, &old_end), 0);
	struct raft_snapshot *snap = leader_snapshot(&p, 10, &end);
	ck_assert_int_eq(rlog_install_begin(p.follower, snap, 5, end, &from), 0);
	ck_assert_int_eq(rlog_install_reset(p.follower, end), 0);
	exec_inline_run(&F.ex);
	/* The follower's process dies (the leader's log is fine). */
	rlog_abandon(p.follower);
	exec_inline_init(&F.ex);
	p.follower = open_at(DIR_F);
	load_ok(p.follower, &ld);
	ck_assert_uint_eq(ld.snap->index, 4);
	ck_assert_uint_eq(ld.start, 5);
	ck_assert_uint_eq(ld.n, 0);
	loaded_free(&ld);
	/* Entry 5 comes again from the leader, at the old snapshot's end. */
	struct areq *r = areq_new();
	struct buf *b = buf_copy(p.reqs[3]->e[0].buf.base, p.reqs[3]->e[0].buf.len);
	r->bufs[0] = b;
	r->e[0] = p.reqs[3]->e[0];
	r->e[0].buf.base = b->data;
	r->n = 1;
	ck_assert_int_eq((int64_t)be64_get(b->data), old_end);
	ck_assert_int_eq(submit(p.follower, r, RLOG_APPEND_FOLLOWER), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(r->status, 0);
	ck_assert_int_eq(F.fatal_calls, 0);
	close_log(p.follower);
	p.follower = open_at(DIR_F);
	load_ok(p.follower, &ld);
	ck_assert_uint_eq(ld.start, 5);
	ck_assert_uint_eq(ld.n, 1);
	ck_assert(memcmp(ld.entries[0].buf.base, b->data, b->len) == 0);
	loaded_free(&ld);
	close_log(p.follower);
	free_snapshot(snap);
	reap(true);
}
END_TEST

/* Follower `p` appends, with the leader's offsets, a copy of the leader's entry `index` (entry 1
 * is the bootstrap configuration, the same bytes on every replica). */
static struct areq *follow_entry(struct pair *p, raft_index index)
{
	struct areq *r = areq_new();
	if (index == 1) {
		add_control(r, 1, RAFT_CHANGE);
	} else {
		const struct raft_entry *e = &p->reqs[index - 2]->e[0];
		struct buf *b = buf_copy(e->buf.base, e->buf.len);
		r->bufs[0] = b;
		r->e[0] = *e;
		r->e[0].buf.base = b->data;
		r->n = 1;
	}
	ck_assert_int_eq(submit(p->follower, r, RLOG_APPEND_FOLLOWER), 0);
	return r;
}

/* A replica with no snapshot yet is stopped during its first install, after the reset moved its
 * log to the leader's log start and some of the leader's batches were written there (found by
 * test_sim with retention, seed 4449). The reload returns no snapshot and no entry instead of
 * failing on a first batch that is not a configuration entry; bootstrap does not take the log
 * for pristine; the leader's entries from entry 1 on are then stored at the leader's offsets,
 * retention (which has no snapshot end to stop at) deletes none of them, and they reload. */
START_TEST(test_rlog_first_install_interrupted_after_reset_reloads_empty_and_restarts_at_entry_1)
{
	struct pair p;
	struct loaded ld;
	errmsg_t em = "";
	int64_t end, from, start, stop;

	pair_setup(&p);
	pair_append(&p, 10, 3, 2); /* leader 1..11, follower 1..4 */
	struct raft_snapshot *snap = leader_snapshot(&p, 10, &end);
	ck_assert_int_eq(rlog_install_begin(p.follower, snap, 4, end, &from), 0);
	start = (int64_t)be64_get(p.reqs[5]->e[0].buf.base); /* entry 7 */
	stop = (int64_t)be64_get(p.reqs[8]->e[0].buf.base);  /* entry 10 */
	ck_assert_int_gt(start, from);
	ck_assert_int_eq(rlog_install_reset(p.follower, start), 0);
	copy_range(&p, start, stop);
	exec_inline_run(&F.ex);
	/* The follower's process dies before install_finish. */
	rlog_abandon(p.follower);
	exec_inline_init(&F.ex);
	/* Small segments and size retention, so retention would delete what it may. */
	F.cfg.segment_bytes = 256;
	F.cfg.retention_bytes = 1;
	p.follower = open_at(DIR_F);
	ck_assert_int_eq(plog_start_offset(rlog_plog(p.follower)), start);
	ck_assert_int_eq(plog_end_offset(rlog_plog(p.follower)), stop);
	ck_assert_int_eq(rlog_bootstrap(p.follower, &F.conf, em), SLUICE_EEXIST);
	load_ok(p.follower, &ld);
	ck_assert_ptr_null(ld.snap);
	ck_assert_uint_eq(ld.start, 1);
	ck_assert_uint_eq(ld.n, 0);
	loaded_free(&ld);
	/* The leader sends everything from entry 1 again (it still has it here). */
	struct areq *got[11];
	for (raft_index i = 1; i <= 11; i++)
		got[i - 1] = follow_entry(&p, i);
	exec_inline_run(&F.ex);
	for (int i = 0; i < 11; i++)
		ck_assert_int_eq(got[i]->status, 0);
	ck_assert_int_eq(F.fatal_calls, 0);
	ck_assert_int_eq(plog_start_offset(rlog_plog(p.follower)), 0);
	ck_assert_int_gt(plog_segment_count(rlog_plog(p.follower)), 2);
	ck_assert_int_eq(plog_enforce_retention(rlog_plog(p.follower)), 0);
	exec_inline_run(&F.ex);
	close_log(p.follower);
	p.follower = open_at(DIR_F);
	load_ok(p.follower, &ld);
	ck_assert_ptr_null(ld.snap);
	ck_assert_uint_eq(ld.start, 1);
	ck_assert_uint_eq(ld.n, 11);
	ck_assert_uint_eq(ld.entries[0].type, RAFT_CHANGE);
	for (size_t i = 1; i < ld.n; i++) {
		const struct raft_entry *want = &p.reqs[i - 1]->e[0];
		ck_assert_uint_eq(ld.entries[i].buf.len, want->buf.len);
		ck_assert(memcmp(ld.entries[i].buf.base, want->buf.base, want->buf.len) == 0);
	}
	loaded_free(&ld);
	close_log(p.follower);
	free_snapshot(snap);
	reap(true);
}
END_TEST

/* The same interruption right after the reset (an empty log at the leader's log start, term 1
 * still): bootstrap must not write entry 1 there, the reload is empty, and the install starts
 * over when the leader sends its snapshot again: the log is emptied at entry 1's offset and
 * restarted at the leader's log start, and the install completes and reloads. */
START_TEST(test_rlog_first_install_interrupted_after_reset_can_install_again)
{
	struct pair p;
	struct loaded ld;
	errmsg_t em = "";
	int fin[3] = {0, -1, 0};
	int64_t end, from, start;

	pair_setup(&p);
	pair_append(&p, 10, 3, 2);
	struct raft_snapshot *snap = leader_snapshot(&p, 10, &end);
	ck_assert_int_eq(rlog_install_begin(p.follower, snap, 4, end, &from), 0);
	start = (int64_t)be64_get(p.reqs[5]->e[0].buf.base);
	ck_assert_int_eq(rlog_install_reset(p.follower, start), 0);
	exec_inline_run(&F.ex);
	fx_crash(); /* the leader (F.log) reopens too */
	p.leader = F.log;
	load_ok(p.leader, &ld);
	loaded_free(&ld);
	rlog_abandon(p.follower);
	p.follower = open_at(DIR_F);
	ck_assert_int_eq(plog_start_offset(rlog_plog(p.follower)), start);
	ck_assert_int_eq(plog_end_offset(rlog_plog(p.follower)), start);
	ck_assert_uint_eq(rlog_term(p.follower), 1);
	ck_assert_int_eq(rlog_bootstrap(p.follower, &F.conf, em), SLUICE_EEXIST);
	load_ok(p.follower, &ld);
	ck_assert_ptr_null(ld.snap);
	ck_assert_uint_eq(ld.n, 0);
	loaded_free(&ld);
	/* raft's commit index is 0 after the restart: nothing to keep. */
	ck_assert_int_eq(rlog_install_begin(p.follower, snap, 0, end, &from), 0);
	ck_assert_int_eq(from, 0);
	ck_assert_int_eq(rlog_install_reset(p.follower, start), 0);
	copy_range(&p, start, end);
	ck_assert_int_eq(rlog_install_finish(p.follower, status_cb, fin), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(fin[0], 1);
	ck_assert_int_eq(fin[1], 0);
	ck_assert_int_eq(F.fatal_calls, 0);
	close_log(p.follower);
	p.follower = open_at(DIR_F);
	load_ok(p.follower, &ld);
	ck_assert_ptr_nonnull(ld.snap);
	ck_assert_uint_eq(ld.snap->index, 10);
	ck_assert_uint_eq(ld.start, 11);
	ck_assert_uint_eq(ld.n, 0);
	ck_assert_int_eq(plog_start_offset(rlog_plog(p.follower)), start);
	ck_assert_int_eq(plog_end_offset(rlog_plog(p.follower)), end);
	loaded_free(&ld);
	close_log(p.follower);
	free_snapshot(snap);
	reap(true);
}
END_TEST

/* An install whose reset fails (the state file write with the new log start gets EIO, found by
 * test_sim with retention, seed 2406) goes to `fatal`, and its snapshot, queued behind the
 * reset, is never stored: the replica reopens with the log the failed reset left and no
 * snapshot, instead of a snapshot that ends past its log. */
START_TEST(test_rlog_install_reset_failure_never_stores_the_snapshot)
{
	struct pair p;
	struct loaded ld;
	int fin[3] = {0, -1, 0};
	void *data = NULL;
	size_t n = 0;
	int64_t end, from;

	pair_setup(&p);
	pair_append(&p, 8, 2, 2); /* follower 1..3 */
	struct raft_snapshot *snap = leader_snapshot(&p, 8, &end);
	ck_assert_int_eq(rlog_install_begin(p.follower, snap, 3, end, &from), 0);
	exec_inline_run(&F.ex);
	F.ex.defer_work = true;
	simfs_fail_nth(F.sim, SIMFS_OP_RENAME, 1, SLUICE_EIO);
	ck_assert_int_eq(rlog_install_reset(p.follower, end), 0);
	ck_assert_int_eq(rlog_install_finish(p.follower, status_cb, fin), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.fatal_calls, 1);
	ck_assert(rlog_failed(p.follower));
	ck_assert_int_eq(fin[0], 0);
	ck_assert_int_eq(fs_read_all(F.fs, DIR_F "/" RLOG_SNAP_FILE_NAME, 1 << 20, &data, &n),
			 SLUICE_ENOTFOUND);
	close_log(p.follower);
	ck_assert_int_eq(fin[0], 1);
	ck_assert_int_eq(fin[1], SLUICE_ECANCELED);
	F.ex.defer_work = false;
	p.follower = open_at(DIR_F);
	load_ok(p.follower, &ld);
	ck_assert_ptr_null(ld.snap);
	ck_assert_uint_eq(ld.start, 1);
	ck_assert_uint_eq(ld.n, 3);
	loaded_free(&ld);
	close_log(p.follower);
	free_snapshot(snap);
	reap(true);
}
END_TEST

/* A crash in the middle of an install's data (before the snapshot is stored): the reload counts
 * the kept prefix and the leader's batches that made it to disk as ordinary entries, identical
 * to the leader's. */
START_TEST(test_rlog_install_interrupted_mid_data_reloads_a_consistent_log)
{
	struct pair p;
	struct loaded ld;
	int64_t end, from;

	pair_setup(&p);
	pair_append(&p, 12, 3, 2); /* leader 2..13, follower 2..4 */
	struct raft_snapshot *snap = leader_snapshot(&p, 12, &end);
	ck_assert_int_eq(rlog_install_begin(p.follower, snap, 4, end, &from), 0);
	F.ex.defer_work = true;
	/* Half of the range, then the power goes (the leader's process survives in this test:
	 * only the follower is abandoned, and simfs_crash drops what it had not synced). */
	int64_t half = (int64_t)be64_get(p.reqs[8]->e[0].buf.base);
	copy_range(&p, from, half);
	exec_inline_step(&F.ex);
	simfs_crash(F.sim);
	exec_inline_init(&F.ex);
	rlog_abandon(p.follower);
	rlog_abandon(p.leader);
	F.log = NULL;
	p.follower = open_at(DIR_F);
	load_ok(p.follower, &ld);
	ck_assert_ptr_null(ld.snap);
	ck_assert_uint_eq(ld.start, 1);
	ck_assert_uint_ge(ld.n, 4);
	ck_assert_uint_le(ld.n, 9);
	for (size_t i = 1; i < ld.n; i++) {
		const struct raft_entry *want = &p.reqs[i - 1]->e[0];
		ck_assert_uint_eq(ld.entries[i].buf.len, want->buf.len);
		ck_assert(memcmp(ld.entries[i].buf.base, want->buf.base, want->buf.len) == 0);
	}
	loaded_free(&ld);
	close_log(p.follower);
	free_snapshot(snap);
	reap(true);
}
END_TEST

/* Install data must be whole, checked, contiguous batches below the snapshot's end; anything
 * else is refused without storing a byte. */
START_TEST(test_rlog_install_data_is_checked)
{
	struct pair p;
	int64_t end, from;

	pair_setup(&p);
	pair_append(&p, 6, 1, 2);
	struct raft_snapshot *snap = leader_snapshot(&p, 5, &end);
	ck_assert_int_eq(rlog_install_data(p.follower, p.reqs[0]->bufs[0], 0, 10), SLUICE_ESTATE);
	ck_assert_int_eq(rlog_install_begin(p.follower, snap, 2, end, &from), 0);
	struct plog_read_result rr;
	ck_assert_int_eq(rlog_read(p.leader, from, INT64_MAX, 1 << 20, &rr), 0);
	ck_assert_int_eq(rlog_install_data(p.follower, rr.buf, 0, rr.len), SLUICE_ERANGE);
	struct batch_header h;
	ck_assert_int_eq(batch_header_decode(rr.buf->data, rr.len, &h), 0);
	size_t one = batch_total_bytes(&h);
	struct batch_header h2;
	ck_assert_int_eq(batch_header_decode(rr.buf->data + one, rr.len - one, &h2), 0);
	ck_assert_int_eq(rlog_install_data(p.follower, rr.buf, 0, one - 1), SLUICE_ECORRUPT);
	ck_assert_int_eq(rlog_install_data(p.follower, rr.buf, one, batch_total_bytes(&h2)),
			 SLUICE_EINVAL); /* a gap */
	rr.buf->data[one - 1] ^= 1;
	ck_assert_int_eq(rlog_install_data(p.follower, rr.buf, 0, one), SLUICE_ECORRUPT);
	rr.buf->data[one - 1] ^= 1;
	ck_assert_int_eq(rlog_install_data(p.follower, rr.buf, 0, one), 0);
	ck_assert_int_eq(rlog_install_next_offset(p.follower), h.base_offset + h.last_offset_delta + 1);
	buf_unref(rr.buf);
	ck_assert_int_eq(F.fatal_calls, 0);
	close_log(p.follower);
	free_snapshot(snap);
	reap(true);
}
END_TEST

/* ---- tests: failures ----------------------------------------------------------------------- */

/* Write and sync errors, and a full disk, go to `fatal` once; the append callback is never
 * called with an error (it runs canceled only inside rlog_close), and the log refuses further
 * appends. The appends acknowledged before are all there after a reopen. */
START_TEST(test_rlog_io_errors_go_to_fatal_never_to_the_append_callback)
{
	enum simfs_op ops[] = {SIMFS_OP_WRITE, SIMFS_OP_SYNC, SIMFS_OP_WRITE};
	int codes[] = {SLUICE_EIO, SLUICE_EIO, SLUICE_ENOSPC};
	for (int k = 0; k < 3; k++) {
		struct loaded ld;
		fx_teardown();
		fx_setup();
		bootstrap_ok(F.log);
		load_ok(F.log, &ld);
		loaded_free(&ld);
		struct areq *ok = areq_new();
		add_command(ok, 2, 2, 50, 1);
		ck_assert_int_eq(submit(F.log, ok, RLOG_APPEND_LEADER), 0);
		exec_inline_run(&F.ex);
		ck_assert_int_eq(ok->status, 0);
		simfs_fail_nth(F.sim, ops[k], 1, codes[k]);
		F.ex.defer_work = true;
		struct areq *a = areq_new(), *b = areq_new();
		add_command(a, 2, 2, 50, 2);
		add_control(b, 2, RAFT_BARRIER);
		ck_assert_int_eq(submit(F.log, a, RLOG_APPEND_LEADER), 0);
		ck_assert_int_eq(submit(F.log, b, RLOG_APPEND_LEADER), 0);
		exec_inline_run(&F.ex);
		ck_assert_int_eq(F.fatal_calls, 1);
		ck_assert_msg(strstr(F.fatal_why, err_str(codes[k])) != NULL, "why: %s", F.fatal_why);
		ck_assert_int_eq(a->done, 0);
		ck_assert_int_eq(b->done, 0);
		struct areq *c = areq_new();
		add_command(c, 2, 1, 5, 3);
		ck_assert_int_eq(submit(F.log, c, RLOG_APPEND_LEADER), SLUICE_EIO);
		ck_assert_int_eq(rlog_truncate(F.log, 2), SLUICE_EIO);
		fx_close();
		ck_assert_int_eq(a->status, SLUICE_ECANCELED);
		ck_assert_int_eq(b->status, SLUICE_ECANCELED);
		ck_assert_int_lt(a->order, b->order);
		ck_assert_int_eq(F.fatal_calls, 1);
		fx_open();
		load_ok(F.log, &ld);
		ck_assert_uint_ge(ld.n, 2);
		ck_assert(memcmp(ld.entries[1].buf.base, ok->e[0].buf.base, ok->e[0].buf.len) == 0);
		loaded_free(&ld);
		reap(true);
	}
}
END_TEST

/* A failed truncation is fatal too. */
START_TEST(test_rlog_truncate_failure_is_fatal)
{
	struct loaded ld;

	bootstrap_ok(F.log);
	load_ok(F.log, &ld);
	loaded_free(&ld);
	struct areq *r = areq_new();
	for (int i = 0; i < 3; i++)
		add_command(r, 2, 1, 5, (uint32_t)i);
	ck_assert_int_eq(submit(F.log, r, RLOG_APPEND_LEADER), 0);
	exec_inline_run(&F.ex);
	simfs_fail_nth(F.sim, SIMFS_OP_TRUNCATE, 1, SLUICE_EIO);
	F.ex.defer_work = true;
	ck_assert_int_eq(rlog_truncate(F.log, 3), 0);
	struct areq *n = areq_new(); /* queued behind the truncation */
	add_command(n, 3, 1, 5, 9);
	ck_assert_int_eq(submit(F.log, n, RLOG_APPEND_LEADER), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.fatal_calls, 1);
	ck_assert_int_eq(n->done, 0);
	fx_close();
	ck_assert_int_eq(n->status, SLUICE_ECANCELED);
	reap(true);
}
END_TEST

/* Damage that load cannot explain is reported, naming the offset: a damaged snapshot file
 * fails the open; a log that does not start with a configuration entry fails the load. */
START_TEST(test_rlog_load_reports_corruption)
{
	struct loaded ld;
	errmsg_t em = "";
	struct rlog_open_args a = {.dir = DIR, .name = "x", .fs = F.fs, .exec = &F.ex.exec,
				   .clock = &F.clk.clock, .config = F.cfg, .fatal = fatal_cb};
	struct rlog *l;

	/* A plain (non-Raft) batch first. */
	struct buf *b = batchgen(1, 10, 1, 1);
	ck_assert_int_eq(plog_append_sync(rlog_plog(F.log), b, 0, b->len, 1, em), 0);
	buf_unref(b);
	ck_assert_int_eq(load_log(F.log, &ld, em), SLUICE_ECORRUPT);
	ck_assert_msg(strstr(em, "configuration") != NULL, "%s", em);
	fx_close();
	uint8_t junk[100] = {'S', 'L', 'R', 'S', 0, 1};
	ck_assert_int_eq(fs_write_file(F.fs, DIR "/" RLOG_SNAP_FILE_NAME, junk, sizeof junk), 0);
	ck_assert_int_eq(rlog_open(&a, &l, em), SLUICE_ECORRUPT);
	ck_assert_msg(strstr(em, RLOG_SNAP_FILE_NAME) != NULL, "%s", em);
}
END_TEST

/* ---- tests: control batches as clients see them -------------------------------------------- */

/* What a Kafka consumer delivers from fetched bytes, following the clients' rules:
 *   - librdkafka (rdkafka_msgset_reader.c): for a control batch, reads each record's key: key
 *     size < 2 or (version 0 and size != 4) is a parse error; version != 0 is skipped; type
 *     COMMIT(0)/ABORT(1) are transaction markers, any other type is logged at debug and
 *     ignored. Nothing reaches the application.
 *   - Java (CompletedFetch/Fetcher): control batches' records are never returned; the key is
 *     parsed (ControlRecordType.parse) only for batches with a producer id, to find ABORT.
 *   - kafkajs (consumer/batch.js): drops records of control batches (isControlRecord); its
 *     isAbortMarker treats a key of four zero bytes as an abort marker.
 * Returns the number of data records delivered; fails the test on anything a client would
 * reject or misread. */
static int consumer_view(const uint8_t *p, size_t n, int *control_batches)
{
	int delivered = 0;
	size_t at = 0;

	while (at < n) {
		struct batch_header h;
		struct records_iter it;
		struct records_record rec;
		ck_assert_int_eq(batch_header_decode(p + at, n - at, &h), 0);
		ck_assert(batch_crc_ok(p + at, batch_total_bytes(&h)));
		ck_assert_int_eq(records_iter_init(&it, p + at, batch_total_bytes(&h)), 0);
		if (h.attributes & BATCH_ATTR_CONTROL) {
			(*control_batches)++;
			ck_assert_int_eq(h.producer_id, -1); /* Java never parses the key */
			ck_assert_int_eq(h.record_count, 1);
			ck_assert_int_eq(h.base_timestamp, 0);
			ck_assert_int_eq(h.max_timestamp, 0);
			ck_assert_int_eq(records_iter_next(&it, &rec), 1);
			ck_assert_int_eq(rec.key.len, 4); /* librdkafka: exactly 4 for version 0 */
			ck_assert_int_eq(be16_get(rec.key.ptr), 0);
			int16_t type = (int16_t)be16_get(rec.key.ptr + 2);
			ck_assert(type != 0 && type != 1); /* not COMMIT/ABORT: ignored */
			ck_assert(!(rec.key.ptr[0] == 0 && rec.key.ptr[1] == 0 && rec.key.ptr[2] == 0 &&
				    rec.key.ptr[3] == 0)); /* kafkajs abort marker */
			ck_assert_int_eq(records_iter_next(&it, &rec), 0);
		} else {
			while (records_iter_next(&it, &rec) == 1)
				delivered++;
		}
		at += batch_total_bytes(&h);
	}
	return delivered;
}

/* Barrier and configuration entries are control batches that parse with records.h, carry
 * what raft needs, and are skipped by the consumers' rules; data records all get through. */
START_TEST(test_rlog_control_batches_are_skipped_by_clients)
{
	struct loaded ld;
	int control = 0;

	bootstrap_ok(F.log);
	load_ok(F.log, &ld);
	loaded_free(&ld);
	struct areq *r = areq_new();
	add_command(r, 2, 3, 10, 1);
	add_control(r, 2, RAFT_BARRIER);
	add_command(r, 2, 2, 10, 2);
	add_control(r, 3, RAFT_CHANGE);
	ck_assert_int_eq(submit(F.log, r, RLOG_APPEND_LEADER), 0);
	exec_inline_run(&F.ex);
	struct plog_read_result rr;
	ck_assert_int_eq(rlog_read(F.log, 0, INT64_MAX, 1 << 20, &rr), 0);
	ck_assert_int_eq(consumer_view(rr.buf->data, rr.len, &control), 5);
	ck_assert_int_eq(control, 3); /* bootstrap's change, the barrier, the change */
	struct records_info info;
	/* records_validate (the Produce path) sees control batches for what they are. */
	struct batch_header h;
	ck_assert_int_eq(batch_header_decode(rr.buf->data, rr.len, &h), 0);
	uint8_t *copy = malloc(batch_total_bytes(&h));
	memcpy(copy, rr.buf->data, batch_total_bytes(&h));
	batch_set_base_offset(copy, 0);
	ck_assert_int_eq(records_validate(copy, batch_total_bytes(&h), &info, NULL), 0);
	ck_assert(info.control);
	free(copy);
	buf_unref(rr.buf);
	reap(true);
}
END_TEST

/* ---- randomized: many seeds against a model ------------------------------------------------ */

static uint64_t rng;

static uint64_t rnd(void)
{
	rng += 0x9E3779B97F4A7C15ull;
	uint64_t z = rng;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

#define MODEL_MAX 4096
#define VERSIONS_MAX 8

/* One version of an entry, as raft appended it. */
struct mver {
	raft_term term;
	unsigned short type;
	struct buf *bytes; /* command batch (as stamped) or change payload; NULL for a barrier */
};

struct model {
	struct mver cur[MODEL_MAX];    /* index -> current version */
	bool acked[MODEL_MAX];         /* its append completed */
	struct areq *req[MODEL_MAX];   /* the request that appended the current version */
	struct mver hist[MODEL_MAX][VERSIONS_MAX]; /* every version ever appended, since reload */
	int nhist[MODEL_MAX];
	raft_index last;               /* last index appended */
	raft_index floor;              /* raft may not truncate at or below this */
	raft_index snap_acked;         /* index of the durable snapshot, 0 none */
	struct psnap *ps_head;         /* snapshots submitted, not acknowledged, in order */
	struct psnap *ps_tail;
	int nps;
	raft_term term;                /* current term (entries never go back) */
	raft_term term_durable;        /* a term known durable */
	raft_term term_set;            /* the last term set */
	uint64_t term_seq;
	raft_term term_seq_term;
};

/* A snapshot_put in flight. */
struct psnap {
	raft_index index;
	int st[3];
	struct psnap *next;
};

static struct model M;

/* Completed snapshots become the acknowledged one, in order. */
static void snap_progress(int seed)
{
	while (M.ps_head != NULL && M.ps_head->st[0] > 0) {
		struct psnap *p = M.ps_head;
		ck_assert_msg(p->st[1] == 0, "seed %d: snapshot callback status %d", seed,
			      p->st[1]);
		M.snap_acked = p->index;
		M.ps_head = p->next;
		if (M.ps_head == NULL)
			M.ps_tail = NULL;
		M.nps--;
		free(p);
	}
}

static void psnap_free_all(void)
{
	while (M.ps_head != NULL) {
		struct psnap *p = M.ps_head;
		M.ps_head = p->next;
		free(p);
	}
	M.ps_tail = NULL;
	M.nps = 0;
}

static void mver_clear(struct mver *v)
{
	buf_unref(v->bytes);
	memset(v, 0, sizeof *v);
}

static void model_clear(void)
{
	for (int i = 0; i < MODEL_MAX; i++) {
		for (int k = 0; k < M.nhist[i]; k++)
			mver_clear(&M.hist[i][k]);
		mver_clear(&M.cur[i]);
	}
	memset(&M, 0, sizeof M);
}

static bool mver_eq(const struct mver *v, const struct raft_entry *e)
{
	if (v->term != e->term || v->type != e->type)
		return false;
	if (v->type == RAFT_BARRIER)
		return true;
	return v->bytes->len == e->buf.len && memcmp(v->bytes->data, e->buf.base, e->buf.len) == 0;
}

static void model_record(raft_index i, const struct raft_entry *e, struct areq *r)
{
	struct mver v = {.term = e->term, .type = e->type};
	if (e->type != RAFT_BARRIER)
		v.bytes = buf_copy(e->buf.base, e->buf.len);
	mver_clear(&M.cur[i]);
	M.cur[i] = v;
	if (v.bytes != NULL)
		buf_ref(v.bytes);
	M.acked[i] = false;
	M.req[i] = r;
	if (M.nhist[i] < VERSIONS_MAX) {
		M.hist[i][M.nhist[i]] = (struct mver){.term = v.term, .type = v.type, .bytes = v.bytes};
		if (v.bytes != NULL)
			buf_ref(v.bytes);
		M.nhist[i]++;
	}
	if (v.bytes != NULL)
		buf_unref(v.bytes); /* cur and hist each hold one */
}

/* Marks the entries of completed requests as acknowledged. */
static void model_ack(void)
{
	for (raft_index i = 1; i <= M.last; i++)
		if (M.req[i] != NULL && M.req[i]->done) {
			ck_assert_int_eq(M.req[i]->status, 0);
			M.acked[i] = true;
			M.req[i] = NULL;
		}
}

/* After a reopen: what load returned must be explainable by the model. */
static void model_adopt(struct loaded *ld);

static void model_check_and_adopt(struct loaded *ld, int seed)
{
	raft_index snap_index = ld->snap != NULL ? ld->snap->index : 0;
	bool snap_ok = snap_index == M.snap_acked;
	for (struct psnap *p = M.ps_head; p != NULL; p = p->next)
		snap_ok = snap_ok || snap_index == p->index;
	ck_assert_msg(snap_ok, "seed %d: snapshot %" PRIu64 " (acked %" PRIu64 ")", seed,
		      (uint64_t)snap_index, (uint64_t)M.snap_acked);
	ck_assert_msg(ld->start >= 1 && ld->start <= snap_index + 1, "seed %d: start %" PRIu64,
		      seed, (uint64_t)ld->start);
	raft_index last = ld->start + ld->n - 1;
	/* Every acknowledged entry after the snapshot is there, with its bytes. */
	for (raft_index i = snap_index + 1; i <= M.last; i++)
		if (M.acked[i])
			ck_assert_msg(i <= last && mver_eq(&M.cur[i], &ld->entries[i - ld->start]),
				      "seed %d: acknowledged entry %" PRIu64 " lost (last %" PRIu64 ")",
				      seed, (uint64_t)i, (uint64_t)last);
	/* Every entry returned is one raft appended at that index. */
	for (raft_index i = ld->start; i <= last; i++) {
		bool found = false;
		for (int k = 0; k < M.nhist[i] && !found; k++)
			found = mver_eq(&M.hist[i][k], &ld->entries[i - ld->start]);
		ck_assert_msg(found || M.nhist[i] == VERSIONS_MAX,
			      "seed %d: entry %" PRIu64 " was never appended like this", seed,
			      (uint64_t)i);
	}
	ck_assert_msg(ld->term >= M.term_durable && ld->term <= M.term_set,
		      "seed %d: term %" PRIu64 " outside [%" PRIu64 ", %" PRIu64 "]", seed,
		      (uint64_t)ld->term, (uint64_t)M.term_durable, (uint64_t)M.term_set);
	model_adopt(ld);
}

/* The model becomes what was loaded. */
static void model_adopt(struct loaded *ld)
{
	raft_index snap_index = ld->snap != NULL ? ld->snap->index : 0;
	raft_index last = ld->start + ld->n - 1;
	raft_term term = M.term_set;
	psnap_free_all();
	model_clear();
	M.term = term;
	M.term_set = M.term_durable = ld->term;
	if (ld->term > M.term)
		M.term = ld->term;
	for (raft_index i = ld->start; i <= last; i++) {
		model_record(i, &ld->entries[i - ld->start], NULL);
		M.acked[i] = true;
		if (ld->entries[i - ld->start].term > M.term)
			M.term = ld->entries[i - ld->start].term;
	}
	M.last = last >= ld->start ? last : snap_index;
	if (M.last < snap_index)
		M.last = snap_index;
	M.snap_acked = snap_index;
	/* raft never truncates committed entries; entry 1 always is (raft_start commits it). */
	M.floor = snap_index > 1 ? snap_index : 1;
}

static void rand_reopen(int seed, bool crash)
{
	struct loaded ld;
	simfs_fail_nth(F.sim, SIMFS_OP_WRITE, 0, 0);
	simfs_fail_nth(F.sim, SIMFS_OP_SYNC, 0, 0);
	if (crash) {
		fx_crash();
	} else {
		close_log(F.log);
		F.log = NULL;
		fx_open();
	}
	reap(true);
	load_ok(F.log, &ld);
	model_check_and_adopt(&ld, seed);
	loaded_free(&ld);
	ck_assert_uint_eq(rlog_last_index(F.log), M.last);
}

static void rand_append(void)
{
	struct areq *r = areq_new();
	unsigned n = 1 + (unsigned)(rnd() % 3);
	bool follower = rnd() % 3 == 0;
	int64_t next = 0, b, l;
	if (M.last >= MODEL_MAX - 10) {
		areq_unlink(r);
		free(r);
		return;
	}
	if (rnd() % 10 == 0)
		M.term++;
	if (M.last >= rlog_first_index(F.log) &&
	    rlog_entry_offsets(F.log, M.last, &b, &l) == 0)
		next = l + 1;
	else if (rlog_end_offset_of(F.log, M.last, &b) == 0)
		next = b;
	for (unsigned i = 0; i < n; i++) {
		uint64_t k = rnd() % 10;
		if (k < 7) {
			add_command(r, M.term, 1 + (int)(rnd() % 4), rnd() % 200, (uint32_t)rnd());
			if (follower) {
				struct batch_header h;
				batch_set_base_offset(r->e[i].buf.base, next);
				batch_set_leader_epoch(r->e[i].buf.base, (int32_t)M.term);
				batch_header_decode(r->e[i].buf.base, r->e[i].buf.len, &h);
				next += h.last_offset_delta + 1;
			}
		} else {
			add_control(r, M.term, k < 9 ? RAFT_BARRIER : RAFT_CHANGE);
			next += 1;
		}
	}
	ck_assert_int_eq(submit(F.log, r, follower ? RLOG_APPEND_FOLLOWER : RLOG_APPEND_LEADER), 0);
	for (unsigned i = 0; i < n; i++)
		model_record(M.last + 1 + i, &r->e[i], r);
	M.last += n;
}

static void rand_snapshot(void)
{
	struct raft_snapshot s;
	struct raft_buffer data;
	raft_index lo = M.snap_acked + 1, cand[MODEL_MAX];
	int nc = 0;
	if (M.ps_tail != NULL)
		lo = M.ps_tail->index + 1;
	if (lo < rlog_first_index(F.log))
		lo = rlog_first_index(F.log);
	/* raft snapshots at last_applied: an entry that is stored (acknowledged). */
	for (raft_index i = lo; i <= M.last; i++)
		if (M.acked[i])
			cand[nc++] = i;
	if (nc == 0 || M.nps >= 8)
		return;
	raft_index at = cand[rnd() % (uint64_t)nc];
	struct psnap *p = calloc(1, sizeof *p);
	ck_assert_ptr_nonnull(p);
	p->index = at;
	p->st[1] = -1;
	make_snapshot(&s, &data, at, M.cur[at].term, rnd() % 64, (uint8_t)at);
	ck_assert_int_eq(rlog_snapshot_put(F.log, 1 + (unsigned)(rnd() % 8), &s, status_cb, p->st),
			 0);
	free(data.base);
	if (M.ps_tail != NULL)
		M.ps_tail->next = p;
	else
		M.ps_head = p;
	M.ps_tail = p;
	M.nps++;
	if (at > M.floor)
		M.floor = at;
}

/* Random appends (leader and follower), truncations, snapshots, term changes, executor steps,
 * I/O faults and crashes, checked after every reopen against the model: every acknowledged
 * entry survives with its bytes, nothing comes back that raft never appended there, the
 * snapshot is the acknowledged one or a later submitted one, the term is never older than a
 * durable one. */
START_TEST(test_rlog_randomized_against_model)
{
	int seed_first = getenv("SEED") ? atoi(getenv("SEED")) : 1;
	int seed_last = getenv("SEED") ? seed_first : 300;

	for (int seed = seed_first; seed <= seed_last; seed++) {
		struct loaded ld;
		fx_teardown();
		fx_setup();
		rlog_abandon(F.log);
		simfs_free(F.sim);
		F.sim = simfs_new((uint64_t)seed);
		F.fs = simfs_fs(F.sim);
		F.fs->mkdir(F.fs, "/data");
		rng = (uint64_t)seed * 104729;
		F.cfg.segment_bytes = 512 + rnd() % 4096;
		F.cfg.index_interval_bytes = 64 + (uint32_t)(rnd() % 512);
		fx_open();
		bootstrap_ok(F.log);
		load_ok(F.log, &ld);
		model_clear();
		M.term = M.term_set = M.term_durable = 1;
		model_adopt(&ld);
		loaded_free(&ld);
		F.ex.defer_work = true;
		for (int step = 0; step < 150; step++) {
			uint64_t r = rnd() % 100;
			if (rlog_failed(F.log))
				r = 88 + rnd() % 12; /* a failed group is reopened */
			if (r < 40) {
				rand_append();
			} else if (r < 60) {
				int k = (int)(rnd() % 4);
				for (int j = 0; j < k; j++)
					exec_inline_step(&F.ex);
			} else if (r < 67) {
				raft_index lo = M.floor + 1;
				if (lo < rlog_first_index(F.log))
					lo = rlog_first_index(F.log);
				if (M.last >= lo) {
					raft_index at = lo + rnd() % (M.last - lo + 1);
					ck_assert_int_eq(rlog_truncate(F.log, at), 0);
					for (raft_index i = at; i <= M.last; i++) {
						mver_clear(&M.cur[i]);
						M.acked[i] = false;
						M.req[i] = NULL;
					}
					M.last = at - 1;
				}
			} else if (r < 73) {
				rand_snapshot();
			} else if (r < 80) {
				M.term++;
				M.term_set = M.term;
				M.term_seq = rlog_set_term(F.log, M.term);
				M.term_seq_term = M.term;
				if (rnd() % 2)
					rlog_set_vote(F.log, 1 + rnd() % 3);
			} else if (r < 84) {
				simfs_fail_nth(F.sim, rnd() % 2 ? SIMFS_OP_WRITE : SIMFS_OP_SYNC,
					       1 + (int)(rnd() % 4),
					       rnd() % 2 ? SLUICE_EIO : SLUICE_ENOSPC);
			} else if (r < 88) {
				exec_inline_run(&F.ex);
			} else {
				/* Power loss, or (when healthy, sometimes) a clean close; a failed
				 * group is closed (its callbacks canceled) or crashes. */
				bool crash = rlog_failed(F.log) ? rnd() % 2 == 0 : r < 97;
				model_ack();
				snap_progress(seed);
				if (M.term_seq != 0 && rlog_meta_durable(F.log) >= M.term_seq)
					M.term_durable = M.term_seq_term;
				rand_reopen(seed, crash);
				continue;
			}
			ck_assert_int_le(F.fatal_calls, 1);
			model_ack();
			snap_progress(seed);
			if (M.term_seq != 0 && rlog_meta_durable(F.log) >= M.term_seq)
				M.term_durable = M.term_seq_term;
		}
		simfs_fail_nth(F.sim, SIMFS_OP_WRITE, 0, 0);
		simfs_fail_nth(F.sim, SIMFS_OP_SYNC, 0, 0);
		exec_inline_run(&F.ex);
		model_ack();
		snap_progress(seed);
		rand_reopen(seed, false);
		model_clear();
	}
}
END_TEST

static Suite *rlog_suite(void)
{
	Suite *s = suite_create("rlog");
	TCase *tc;

	tc = tcase_create("log");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_rlog_bootstrap_then_load_returns_the_configuration_entry);
	tcase_add_test(tc, test_rlog_empty_replica_loads_nothing);
	tcase_add_test(tc, test_rlog_append_all_types_then_reload_identical);
	tcase_add_test(tc, test_rlog_leader_assigns_offsets_in_place);
	tcase_add_test(tc, test_rlog_follower_keeps_offsets_and_replicas_match_byte_for_byte);
	tcase_add_test(tc, test_rlog_malformed_entries_are_refused);
	tcase_add_test(tc, test_rlog_truncate_then_append);
	tcase_add_test(tc, test_rlog_control_batches_are_skipped_by_clients);
	suite_add_tcase(s, tc);

	tc = tcase_create("term_vote");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_rlog_term_and_vote_durable_sequence_survives_crash);
	tcase_add_test(tc, test_rlog_term_write_failure_is_fatal);
	suite_add_tcase(s, tc);

	tc = tcase_create("snapshot");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_rlog_snapshot_put_then_reload_starts_at_the_trailing_anchor);
	tcase_add_test(tc, test_rlog_load_after_retention_counts_back_from_the_snapshot_end);
	tcase_add_test(tc, test_rlog_snapshot_write_failure_is_fatal);
	suite_add_tcase(s, tc);

	tc = tcase_create("install");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_rlog_install_begin_data_finish);
	tcase_add_test(tc, test_rlog_install_reset_restarts_the_log);
	tcase_add_test(tc, test_rlog_install_interrupted_after_reset_reloads_the_old_snapshot);
	tcase_add_test(tc, test_rlog_install_data_is_checked);
	tcase_add_test(tc, test_rlog_install_interrupted_mid_data_reloads_a_consistent_log);
	tcase_add_test(tc,
		       test_rlog_first_install_interrupted_after_reset_reloads_empty_and_restarts_at_entry_1);
	tcase_add_test(tc, test_rlog_first_install_interrupted_after_reset_can_install_again);
	tcase_add_test(tc, test_rlog_install_reset_failure_never_stores_the_snapshot);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_rlog_crash_mid_append_reloads_a_prefix_with_every_acknowledged_entry);
	tcase_add_test(tc, test_rlog_io_errors_go_to_fatal_never_to_the_append_callback);
	tcase_add_test(tc, test_rlog_truncate_failure_is_fatal);
	tcase_add_test(tc, test_rlog_load_reports_corruption);
	tcase_add_test(tc, test_rlog_randomized_against_model);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rlog_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
