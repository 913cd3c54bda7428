/*
 * Unit suite for the partition log (storage/plog.c and its segments, indexes and state file).
 *
 * Most tests run the log on simfs with the inline executor, so every disk operation, fault and
 * crash is deterministic; one test runs on real files with libuv's thread pool.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/exec.h"
#include "base/slog.h"
#include "batchgen.h"
#include "storage/index.h"
#include "storage/plog.h"
#include "storage/simfs.h"
#include "storage/state.h"
#include "storage/worker.h"

#define DIR "/data/topic-0"
#define MAX_REQS 4096

/* One log under test with everything around it. */
struct fixture {
	struct simfs *sim;
	struct fs *fs;
	struct exec_inline ex;
	struct clock_fake clk;
	struct plog_config cfg;
	struct plog *log;
	/* append bookkeeping */
	struct plog_append_req reqs[MAX_REQS];
	int status[MAX_REQS];
	int done[MAX_REQS];
	struct buf *bufs[MAX_REQS];
	int n;
	int ncb;
	int order_ok;
	int last_cb;
};

static struct fixture F;

static void quiet_sink(void *arg, enum slog_level level, const char *line)
{
	(void)arg;
	(void)level;
	(void)line;
}

static void fx_open(void)
{
	struct plog_open_args a = {
		.dir = DIR, .name = "topic-0", .fs = F.fs, .exec = &F.ex.exec,
		.clock = &F.clk.clock, .config = F.cfg};
	errmsg_t em = "";
	int rv = plog_open(&a, &F.log, em);
	ck_assert_msg(rv == 0, "open: %s (%s)", err_str(rv), em);
}

static void closed_cb(void *arg)
{
	*(int *)arg = 1;
}

static void fx_close(void)
{
	int closed = 0;
	plog_close(F.log, closed_cb, &closed);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(closed, 1);
	F.log = NULL;
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
	F.order_ok = 1;
	F.last_cb = -1;
	fx_open();
}

static void fx_teardown(void)
{
	if (F.log != NULL)
		fx_close();
	for (int i = 0; i < F.n; i++)
		buf_unref(F.bufs[i]);
	simfs_free(F.sim);
	slog_set_sink(NULL, NULL);
}

static void append_cb(struct plog_append_req *req, int status)
{
	int i = (int)(req - F.reqs);
	F.status[i] = status;
	F.done[i]++;
	F.ncb++;
	if (i < F.last_cb)
		F.order_ok = 0;
	F.last_cb = i;
}

static void int_status_cb(void *arg, int status)
{
	if (arg != NULL)
		*(int *)arg = status;
}

/* Appends one generated batch; returns its request index or a negative error. */
static int append_batch(int nrecords, size_t value_bytes, int64_t ts)
{
	int i = F.n;
	struct buf *b = batchgen(nrecords, value_bytes, ts, (uint32_t)i);
	int rv;

	ck_assert_int_lt(i, MAX_REQS);
	rv = plog_append(F.log, &F.reqs[i], b, 0, b->len, 7, 0, append_cb);
	if (rv != 0) {
		buf_unref(b);
		return rv;
	}
	F.bufs[i] = b;
	F.n++;
	return i;
}

/* Reads everything from `from` and checks it is exactly the bytes of requests [first, last]. */
static void expect_log(int64_t from, int first, int last)
{
	int64_t off = from;
	int i = first;

	for (;;) {
		while (i <= last && (F.status[i] != 0 || F.reqs[i].canceled))
			i++;
		if (i > last)
			break;
		struct plog_read_result r;
		int rv = plog_read(F.log, off, INT64_MAX, 1 << 20, &r);
		ck_assert_msg(rv == 0, "read at %" PRId64 ": %s", off, err_str(rv));
		ck_assert_msg(r.len > 0, "no data at %" PRId64 " (want request %d)", off, i);
		size_t at = 0;
		while (at < r.len && i <= last) {
			if (F.status[i] != 0 || F.reqs[i].canceled) {
				i++;
				continue;
			}
			ck_assert_int_ge(r.len - at, F.reqs[i].len);
			ck_assert_msg(memcmp(r.buf->data + at, F.bufs[i]->data, F.reqs[i].len) == 0,
				      "request %d differs", i);
			ck_assert_int_eq(F.reqs[i].base_offset,
					 (int64_t)be64_get(r.buf->data + at));
			at += F.reqs[i].len;
			i++;
		}
		off = r.next_offset;
		buf_unref(r.buf);
	}
}

/* Appending assigns contiguous offsets, and the callbacks report durability in order. */
START_TEST(test_plog_append_assigns_offsets_and_completes_in_order)
{
	for (int i = 0; i < 50; i++)
		ck_assert_int_ge(append_batch(1 + i % 5, 100, 1000 + i), 0);
	ck_assert_int_eq(plog_end_offset(F.log), 150);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.ncb, 50);
	ck_assert(F.order_ok);
	int64_t next = 0;
	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(F.status[i], 0);
		ck_assert_int_eq(F.reqs[i].base_offset, next);
		next = F.reqs[i].last_offset + 1;
	}
	ck_assert_int_eq(plog_durable_offset(F.log), 150);
	expect_log(0, 0, 49);
}
END_TEST

/* Appends made while a write is in flight go out together in the next write (group commit). */
START_TEST(test_plog_group_commit_batches_appends_behind_inflight_write)
{
	F.ex.defer_work = true;
	for (int i = 0; i < 20; i++)
		append_batch(1, 64, 1);
	ck_assert_int_eq(plog_durable_offset(F.log), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.ncb, 20);
	/* The first append started a write alone; the other 19 shared the second. */
	ck_assert_int_eq(plog_stats(F.log)->writes, 2);
}
END_TEST

/* Nothing is readable before it is durable: reads stop at the durable offset. */
START_TEST(test_plog_read_stops_at_durable_offset)
{
	F.ex.defer_work = true;
	append_batch(3, 10, 5);
	struct plog_read_result r;
	ck_assert_int_eq(plog_read(F.log, 0, INT64_MAX, 1 << 20, &r), 0);
	ck_assert_int_eq(r.len, 0);
	ck_assert_int_eq(plog_read(F.log, 1, INT64_MAX, 1 << 20, &r), SLUICE_ERANGE);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(plog_read(F.log, 1, INT64_MAX, 1 << 20, &r), 0);
	ck_assert_int_eq(r.len, F.reqs[0].len);
	ck_assert_int_eq(r.next_offset, 3);
	buf_unref(r.buf);
}
END_TEST

/* A read returns whole batches only, respects max_offset, and returns one whole batch even when
 * it is larger than max_bytes (KIP-74). */
START_TEST(test_plog_read_returns_whole_batches_within_limits)
{
	for (int i = 0; i < 10; i++)
		append_batch(2, 500, i);
	exec_inline_run(&F.ex);
	struct plog_read_result r;
	ck_assert_int_eq(plog_read(F.log, 0, INT64_MAX, 10, &r), 0);
	ck_assert_int_eq(r.len, F.reqs[0].len);
	buf_unref(r.buf);
	ck_assert_int_eq(plog_read(F.log, 5, INT64_MAX, F.reqs[0].len * 3 + 1, &r), 0);
	ck_assert_int_eq(r.len, F.reqs[0].len * 3);
	ck_assert_int_eq(r.next_offset, 10);
	ck_assert_int_eq(be64_get(r.buf->data), 4); /* the batch holding offset 5 starts at 4 */
	buf_unref(r.buf);
	ck_assert_int_eq(plog_read(F.log, 0, 6, 1 << 20, &r), 0);
	ck_assert_int_eq(r.next_offset, 6);
	buf_unref(r.buf);
	ck_assert_int_eq(plog_read(F.log, 21, INT64_MAX, 100, &r), SLUICE_ERANGE);
	ck_assert_int_eq(plog_read(F.log, 20, INT64_MAX, 100, &r), 0);
	ck_assert_int_eq(r.len, 0);
}
END_TEST

/* Closing and reopening gives back the same log, offsets and bytes. */
START_TEST(test_plog_reopen_after_clean_close_keeps_everything)
{
	for (int i = 0; i < 30; i++)
		append_batch(4, 200, 100 + i);
	exec_inline_run(&F.ex);
	fx_close();
	fx_open();
	ck_assert_int_eq(plog_end_offset(F.log), 120);
	ck_assert_int_eq(plog_durable_offset(F.log), 120);
	expect_log(0, 0, 29);
	ck_assert_int_ge(append_batch(1, 10, 1), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.reqs[30].base_offset, 120);
}
END_TEST

/* Segments roll by size; reads, lookups and reopen work across them. */
START_TEST(test_plog_rolls_segments_by_size)
{
	fx_close();
	F.cfg.segment_bytes = 4096;
	F.cfg.index_interval_bytes = 512;
	fx_open();
	for (int i = 0; i < 100; i++)
		append_batch(2, 300, 1000 + i * 10);
	exec_inline_run(&F.ex);
	ck_assert_int_gt(plog_segment_count(F.log), 10);
	ck_assert_int_eq(plog_stats(F.log)->rolls, (uint64_t)plog_segment_count(F.log) - 1);
	expect_log(0, 0, 99);
	expect_log(77, 38, 99);
	fx_close();
	fx_open();
	ck_assert_int_eq(plog_end_offset(F.log), 200);
	expect_log(0, 0, 99);
	uint64_t size;
	ck_assert_int_eq(simfs_file_size(F.sim, DIR "/00000000000000000000.index", &size), 0);
	ck_assert_int_gt(size, INDEX_HEADER_BYTES);
}
END_TEST

/* A segment older than log.roll.ms rolls on the next append. */
START_TEST(test_plog_rolls_segments_by_age)
{
	fx_close();
	F.cfg.roll_ms = 1000;
	fx_open();
	append_batch(1, 10, 1);
	clock_fake_advance_ms(&F.clk, 999);
	append_batch(1, 10, 1);
	ck_assert_int_eq(plog_segment_count(F.log), 1);
	clock_fake_advance_ms(&F.clk, 1);
	append_batch(1, 10, 1);
	ck_assert_int_eq(plog_segment_count(F.log), 2);
	exec_inline_run(&F.ex);
	expect_log(0, 0, 2);
}
END_TEST

/* Retention by size deletes the oldest closed segments, moves the log start, and survives a
 * reopen; the active segment is never deleted. */
START_TEST(test_plog_retention_by_size_deletes_oldest_segments)
{
	fx_close();
	F.cfg.segment_bytes = 2048;
	F.cfg.retention_bytes = 4096;
	F.cfg.retention_ms = -1;
	fx_open();
	for (int i = 0; i < 60; i++)
		append_batch(1, 400, i);
	exec_inline_run(&F.ex);
	int before = plog_segment_count(F.log);
	int n = plog_enforce_retention(F.log);
	exec_inline_run(&F.ex);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(plog_segment_count(F.log), before - n);
	ck_assert_uint_le(plog_size_bytes(F.log), 4096 + 2048);
	int64_t start = plog_start_offset(F.log);
	ck_assert_int_gt(start, 0);
	struct plog_read_result r;
	ck_assert_int_eq(plog_read(F.log, start - 1, INT64_MAX, 1000, &r), SLUICE_ERANGE);
	expect_log(start, (int)start, 59);
	fx_close();
	fx_open();
	ck_assert_int_eq(plog_start_offset(F.log), start);
	expect_log(start, (int)start, 59);
}
END_TEST

/* Retention by time deletes segments whose newest timestamp is older than retention.ms. */
START_TEST(test_plog_retention_by_time_keeps_recent_segments)
{
	int64_t now = clock_wall_ms(&F.clk.clock);
	fx_close();
	F.cfg.segment_bytes = 1024;
	F.cfg.retention_ms = 60000;
	fx_open();
	for (int i = 0; i < 20; i++)
		append_batch(1, 400, now - 120000 + i); /* old */
	for (int i = 0; i < 20; i++)
		append_batch(1, 400, now - 1000 + i); /* recent */
	exec_inline_run(&F.ex);
	ck_assert_int_gt(plog_enforce_retention(F.log), 0);
	exec_inline_run(&F.ex);
	/* Every old record is gone except those sharing a segment with recent ones. */
	ck_assert_int_ge(plog_start_offset(F.log), 18);
	ck_assert_int_le(plog_start_offset(F.log), 20);
	ck_assert_int_eq(plog_enforce_retention(F.log), 0);
}
END_TEST

/* Truncation at a batch boundary cuts durable data; appends then continue from there, and the
 * cut survives a reopen. A cut inside a batch is refused. */
START_TEST(test_plog_truncate_cuts_at_batch_boundary)
{
	fx_close();
	F.cfg.segment_bytes = 2048;
	fx_open();
	for (int i = 0; i < 40; i++)
		append_batch(2, 200, i);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(plog_truncate(F.log, 31), SLUICE_EINVAL);
	ck_assert_int_eq(plog_truncate(F.log, 81), SLUICE_ERANGE);
	ck_assert_int_eq(plog_truncate(F.log, 30), 0);
	ck_assert_int_eq(plog_end_offset(F.log), 30);
	int i = append_batch(3, 10, 5);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.reqs[i].base_offset, 30);
	expect_log(0, 0, 14);
	expect_log(30, i, i);
	fx_close();
	fx_open();
	ck_assert_int_eq(plog_end_offset(F.log), 33);
	expect_log(30, i, i);
	/* Truncate everything down to the start. */
	ck_assert_int_eq(plog_truncate(F.log, 0), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(plog_end_offset(F.log), 0);
	fx_close();
	fx_open();
	ck_assert_int_eq(plog_end_offset(F.log), 0);
}
END_TEST

/* Truncating below appends that are not yet durable cancels them. */
START_TEST(test_plog_truncate_cancels_pending_appends)
{
	append_batch(1, 10, 1);
	exec_inline_run(&F.ex);
	F.ex.defer_work = true;
	append_batch(1, 10, 2); /* in flight */
	append_batch(1, 10, 3); /* queued */
	append_batch(1, 10, 4); /* queued */
	ck_assert_int_eq(plog_truncate(F.log, 2), 0);
	int i = append_batch(1, 10, 5);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.status[1], 0);
	ck_assert_int_eq(F.status[2], SLUICE_ECANCELED);
	ck_assert_int_eq(F.status[3], SLUICE_ECANCELED);
	ck_assert_int_eq(F.status[i], 0);
	ck_assert_int_eq(F.reqs[i].base_offset, 2);
	ck_assert_int_eq(plog_durable_offset(F.log), 3);
	expect_log(0, 0, 1);
	expect_log(2, i, i);
	fx_close();
	fx_open();
	ck_assert_int_eq(plog_end_offset(F.log), 3);
	expect_log(2, i, i);
}
END_TEST

/* Timestamp lookup finds the first batch whose MaxTimestamp reaches T, across segments. */
START_TEST(test_plog_offset_for_time_finds_first_batch_at_or_after)
{
	fx_close();
	F.cfg.segment_bytes = 3000;
	F.cfg.index_interval_bytes = 256;
	fx_open();
	for (int i = 0; i < 50; i++)
		append_batch(2, 100, 1000 + i * 10); /* batch i: timestamps 1000+10i, +1 */
	exec_inline_run(&F.ex);
	int64_t off, ts;
	ck_assert_int_eq(plog_offset_for_time(F.log, 0, &off, &ts), 0);
	ck_assert_int_eq(off, 0);
	ck_assert_int_eq(plog_offset_for_time(F.log, 1001, &off, &ts), 0);
	ck_assert_int_eq(off, 0);
	ck_assert_int_eq(plog_offset_for_time(F.log, 1002, &off, &ts), 0);
	ck_assert_int_eq(off, 2);
	ck_assert_int_eq(plog_offset_for_time(F.log, 1255, &off, &ts), 0);
	ck_assert_int_eq(off, 52);
	ck_assert_int_eq(ts, 1261);
	ck_assert_int_eq(plog_offset_for_time(F.log, 1491, &off, &ts), 0);
	ck_assert_int_eq(off, 98);
	ck_assert_int_eq(plog_offset_for_time(F.log, 1492, &off, &ts), SLUICE_ENOTFOUND);
	fx_close();
	fx_open();
	ck_assert_int_eq(plog_offset_for_time(F.log, 1255, &off, &ts), 0);
	ck_assert_int_eq(off, 52);
}
END_TEST

/* Timestamps that go backwards still resolve to the first batch in offset order that reaches T. */
START_TEST(test_plog_offset_for_time_with_unordered_timestamps)
{
	int64_t tss[] = {500, 100, 900, 300, 950, 200};
	for (int i = 0; i < 6; i++)
		append_batch(1, 10, tss[i]);
	exec_inline_run(&F.ex);
	int64_t off, ts;
	ck_assert_int_eq(plog_offset_for_time(F.log, 600, &off, &ts), 0);
	ck_assert_int_eq(off, 2);
	ck_assert_int_eq(plog_offset_for_time(F.log, 920, &off, &ts), 0);
	ck_assert_int_eq(off, 4);
	ck_assert_int_eq(plog_offset_for_time(F.log, 150, &off, &ts), 0);
	ck_assert_int_eq(off, 0);
}
END_TEST

/* Cutting the last batch at every byte position is recovered on open: the torn batch goes and
 * every earlier batch stays. */
START_TEST(test_plog_recover_truncates_torn_tail_at_every_byte)
{
	for (int i = 0; i < 5; i++)
		append_batch(3, 40, i);
	exec_inline_run(&F.ex);
	fx_close();
	uint64_t full;
	ck_assert_int_eq(simfs_file_size(F.sim, DIR "/00000000000000000000.log", &full), 0);
	size_t last = F.reqs[4].len;
	for (size_t cut = 1; cut <= last; cut++) {
		int fd;
		ck_assert_int_eq(F.fs->open(F.fs, DIR "/00000000000000000000.log", 0, &fd), 0);
		/* Restore the full file, then cut it. */
		struct iovec iov = {F.bufs[4]->data, last};
		ck_assert_int_eq(F.fs->pwritev(F.fs, fd, &iov, 1, full - last), 0);
		ck_assert_int_eq(F.fs->truncate(F.fs, fd, full - cut), 0);
		F.fs->close(F.fs, fd);
		/* Index files from the clean close cover the whole file; they must not be trusted
		 * beyond the file's size. */
		fx_open();
		ck_assert_int_eq(plog_end_offset(F.log), 12);
		expect_log(0, 0, 3);
		uint64_t now;
		simfs_file_size(F.sim, DIR "/00000000000000000000.log", &now);
		ck_assert_int_eq(now, full - last);
		plog_close(F.log, NULL, NULL);
		exec_inline_run(&F.ex);
		F.log = NULL;
	}
	fx_open();
}
END_TEST

/* A flipped byte inside the last batch (a corrupt, not torn, tail) is cut too. */
START_TEST(test_plog_recover_truncates_corrupt_tail)
{
	for (int i = 0; i < 5; i++)
		append_batch(3, 40, i);
	exec_inline_run(&F.ex);
	/* Crash rather than close, so no index checkpoint covers the tail. */
	plog_close(F.log, NULL, NULL);
	F.log = NULL;
	simfs_crash(F.sim);
	exec_inline_run(&F.ex);
	uint64_t full;
	simfs_file_size(F.sim, DIR "/00000000000000000000.log", &full);
	uint8_t x = 0xEE;
	ck_assert_int_eq(simfs_corrupt(F.sim, DIR "/00000000000000000000.log", full - 5, &x, 1), 0);
	fx_open();
	ck_assert_int_eq(plog_end_offset(F.log), 12);
	expect_log(0, 0, 3);
}
END_TEST

/* Missing or damaged index files are rebuilt from the log, and lookups still work. */
START_TEST(test_plog_rebuilds_missing_and_damaged_indexes)
{
	fx_close();
	F.cfg.segment_bytes = 2048;
	F.cfg.index_interval_bytes = 300;
	fx_open();
	for (int i = 0; i < 40; i++)
		append_batch(2, 200, 1000 + i);
	exec_inline_run(&F.ex);
	fx_close();
	ck_assert_int_eq(F.fs->unlink(F.fs, DIR "/00000000000000000000.index"), 0);
	uint8_t junk[4] = {1, 2, 3, 4};
	ck_assert_int_eq(simfs_corrupt(F.sim, DIR "/00000000000000000008.timeindex", 20, junk, 4),
			 0);
	fx_open();
	expect_log(0, 0, 39);
	int64_t off, ts;
	/* Batch i holds timestamps 1000+i and 1001+i: 1010 is first reached by batch 9. */
	ck_assert_int_eq(plog_offset_for_time(F.log, 1010, &off, &ts), 0);
	ck_assert_int_eq(off, 18);
	uint64_t size;
	ck_assert_int_eq(simfs_file_size(F.sim, DIR "/00000000000000000000.index", &size), 0);
}
END_TEST

/* Corruption in a closed segment marks the partition as needing repair: reads and appends are
 * refused rather than served, and the mark survives a reopen. */
START_TEST(test_plog_corrupt_closed_segment_needs_repair)
{
	fx_close();
	F.cfg.segment_bytes = 2048;
	fx_open();
	for (int i = 0; i < 30; i++)
		append_batch(2, 200, i);
	exec_inline_run(&F.ex);
	fx_close();
	/* Damage a record inside the first (closed) segment and drop its index so the open
	 * rescans it. */
	uint8_t x = 0x55;
	ck_assert_int_eq(simfs_corrupt(F.sim, DIR "/00000000000000000000.log", 300, &x, 1), 0);
	F.fs->unlink(F.fs, DIR "/00000000000000000000.index");
	fx_open();
	ck_assert(plog_needs_repair(F.log));
	struct plog_read_result r;
	ck_assert_int_eq(plog_read(F.log, 0, INT64_MAX, 100, &r), SLUICE_EREPAIR);
	ck_assert_int_eq(append_batch(1, 1, 1), SLUICE_EREPAIR);
	fx_close();
	fx_open();
	ck_assert(plog_needs_repair(F.log));
}
END_TEST

/* Bit rot that the open did not see is caught by the read's CRC check, never served. */
START_TEST(test_plog_read_detects_corruption_by_crc)
{
	for (int i = 0; i < 10; i++)
		append_batch(2, 200, i);
	exec_inline_run(&F.ex);
	uint8_t x = 0x00;
	size_t pos = F.reqs[0].len + F.reqs[1].len + 100;
	ck_assert_int_eq(simfs_corrupt(F.sim, DIR "/00000000000000000000.log", pos, &x, 1), 0);
	struct plog_read_result r;
	ck_assert_int_eq(plog_read(F.log, 4, INT64_MAX, 100, &r), SLUICE_EREPAIR);
	ck_assert(plog_needs_repair(F.log));
}
END_TEST

/* A full disk fails the append with ENOSPC and damages nothing; once space returns, appends
 * succeed again and everything acknowledged is still there after a reopen. */
START_TEST(test_plog_enospc_fails_append_and_recovers)
{
	for (int i = 0; i < 10; i++)
		append_batch(2, 200, i);
	exec_inline_run(&F.ex);
	simfs_set_space(F.sim, simfs_used(F.sim) + 100);
	int a = append_batch(2, 200, 11);
	int b = append_batch(2, 200, 12); /* queued behind a: fails with it */
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.status[a], SLUICE_ENOSPC);
	ck_assert_int_eq(F.status[b], SLUICE_ENOSPC);
	ck_assert_int_eq(plog_end_offset(F.log), 20);
	ck_assert(!plog_failed(F.log));
	expect_log(0, 0, 9);
	simfs_set_space(F.sim, UINT64_MAX);
	int c = append_batch(2, 200, 13);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.status[c], 0);
	ck_assert_int_eq(F.reqs[c].base_offset, 20);
	fx_close();
	fx_open();
	expect_log(0, 0, c);
}
END_TEST

/* A failed fdatasync (EIO) fails the append; the next append works. */
START_TEST(test_plog_sync_error_fails_append_then_recovers)
{
	append_batch(1, 10, 1);
	exec_inline_run(&F.ex);
	simfs_fail_nth(F.sim, SIMFS_OP_SYNC, 1, SLUICE_EIO);
	int a = append_batch(1, 10, 2);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.status[a], SLUICE_EIO);
	int b = append_batch(1, 10, 3);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.status[b], 0);
	ck_assert_int_eq(F.reqs[b].base_offset, 1);
	expect_log(0, 0, b);
}
END_TEST

/* A roll whose new segment cannot be created fails the append and leaves the old segment
 * active and intact. */
START_TEST(test_plog_failed_roll_keeps_old_segment_active)
{
	fx_close();
	F.cfg.segment_bytes = 1024;
	fx_open();
	for (int i = 0; i < 2; i++)
		append_batch(1, 300, i);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(plog_segment_count(F.log), 1);
	/* The roll opens the old segment's two index files, then creates the new segment. */
	simfs_fail_nth(F.sim, SIMFS_OP_OPEN, 3, SLUICE_ENOSPC);
	int a = append_batch(1, 300, 4);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.status[a], SLUICE_ENOSPC);
	ck_assert_int_eq(plog_segment_count(F.log), 1);
	int b = append_batch(1, 300, 5);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.status[b], 0);
	ck_assert_int_eq(plog_segment_count(F.log), 2);
	expect_log(0, 0, b);
	fx_close();
	fx_open();
	expect_log(0, 0, b);
}
END_TEST

/* A truncation whose disk work fails stops the log (appends get EIO); reopening recovers a
 * consistent log that still holds everything before the cut. */
START_TEST(test_plog_failed_truncate_stops_log_until_reopen)
{
	fx_close();
	F.cfg.segment_bytes = 1024;
	fx_open();
	for (int i = 0; i < 12; i++)
		append_batch(1, 300, i);
	exec_inline_run(&F.ex);
	ck_assert_int_gt(plog_segment_count(F.log), 3);
	simfs_fail_nth(F.sim, SIMFS_OP_SYNC, 1, SLUICE_EIO);
	ck_assert_int_eq(plog_truncate(F.log, 5), 0);
	exec_inline_run(&F.ex);
	ck_assert(plog_failed(F.log));
	ck_assert_int_eq(append_batch(1, 10, 1), SLUICE_EIO);
	fx_close();
	fx_open();
	ck_assert(!plog_failed(F.log));
	ck_assert_int_ge(plog_end_offset(F.log), 5);
	expect_log(0, 0, 4);
	ck_assert_int_eq(plog_truncate(F.log, 5), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(plog_end_offset(F.log), 5);
}
END_TEST

/* Appends beyond the pending-bytes limit get back-pressure (EBUSY) instead of using memory. */
START_TEST(test_plog_pending_limit_gives_backpressure)
{
	fx_close();
	F.cfg.pending_bytes_max = 2000;
	fx_open();
	F.ex.defer_work = true;
	int ok = 0, busy = 0;
	for (int i = 0; i < 20; i++) {
		int rv = append_batch(1, 200, i);
		if (rv >= 0)
			ok++;
		else if (rv == SLUICE_EBUSY)
			busy++;
	}
	ck_assert_int_gt(ok, 0);
	ck_assert_int_gt(busy, 0);
	exec_inline_run(&F.ex);
	ck_assert_int_ge(append_batch(1, 200, 1), 0);
}
END_TEST

/* Malformed bytes and non-contiguous follower offsets are refused before anything changes. */
START_TEST(test_plog_append_rejects_malformed_input)
{
	struct buf *b = batchgen(2, 10, 1, 1);
	struct plog_append_req *req = &F.reqs[0];
	ck_assert_int_eq(plog_append(F.log, req, b, 0, b->len - 1, -1, 0, append_cb),
			 SLUICE_EMALFORMED);
	b->data[16] = 1; /* magic 1 */
	ck_assert_int_eq(plog_append(F.log, req, b, 0, b->len, -1, 0, append_cb),
			 SLUICE_EMALFORMED);
	b->data[16] = 2;
	batch_set_base_offset(b->data, 5);
	ck_assert_int_eq(plog_append(F.log, req, b, 0, b->len, -1, PLOG_APPEND_KEEP_OFFSETS,
				     append_cb),
			 SLUICE_EINVAL);
	ck_assert_int_eq(plog_end_offset(F.log), 0);
	batch_set_base_offset(b->data, 0);
	ck_assert_int_eq(plog_append(F.log, req, b, 0, b->len, -1, PLOG_APPEND_KEEP_OFFSETS,
				     append_cb),
			 0);
	F.bufs[0] = b;
	F.n = 1;
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.status[0], 0);
	ck_assert_int_eq(plog_end_offset(F.log), 2);
}
END_TEST

/* The state file round-trips and rejects damage. */
START_TEST(test_pstate_roundtrip_and_rejects_damage)
{
	struct pstate st = {.log_start_offset = 77, .term = 5, .vote = 3, .flags = 1}, got;
	errmsg_t em;
	ck_assert_int_eq(pstate_store(F.fs, DIR, &st, em), 0);
	ck_assert_int_eq(pstate_load(F.fs, DIR, &got, em), 0);
	ck_assert_int_eq(got.log_start_offset, 77);
	ck_assert_int_eq(got.term, 5);
	ck_assert_int_eq(got.vote, 3);
	ck_assert_int_eq(got.flags, 1);
	uint8_t x = 0xFF;
	simfs_corrupt(F.sim, DIR "/state", 10, &x, 1);
	ck_assert_int_eq(pstate_load(F.fs, DIR, &got, em), SLUICE_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(em, "checksum"));
}
END_TEST

/* Index files round-trip; any flipped byte is detected. */
START_TEST(test_index_encode_decode_detects_every_flipped_byte)
{
	struct index ix, back;
	struct index_meta m = {.base_offset = 100, .next_offset = 200, .covered_bytes = 50000,
			       .max_timestamp = 999, .max_ts_offset = 150};
	struct index_meta mb;
	uint8_t *p;
	size_t n;

	index_init(&ix);
	for (uint32_t i = 0; i < 20; i++) {
		index_add_offset(&ix, i * 5, i * 2000);
		index_add_time(&ix, 100 + i * 3, i * 5);
	}
	for (int t = 0; t < 2; t++) {
		ck_assert_int_eq(index_encode(&ix, &m, t, &p, &n), 0);
		index_init(&back);
		ck_assert_int_eq(index_decode(&back, &mb, t, p, n), 0);
		ck_assert_int_eq(mb.next_offset, 200);
		ck_assert_int_eq(t ? back.time_count : back.off_count, 20);
		index_free(&back);
		for (size_t i = 0; i < n; i++) {
			p[i] ^= 0x40;
			index_init(&back);
			ck_assert_int_ne(index_decode(&back, &mb, t, p, n), 0);
			index_free(&back);
			p[i] ^= 0x40;
		}
		free(p);
	}
	ck_assert_int_eq(index_lookup_offset(&ix, 0), 0);
	ck_assert_int_eq(index_lookup_offset(&ix, 7), 2000);
	ck_assert_int_eq(index_lookup_offset(&ix, 1000), 19 * 2000);
	ck_assert_int_eq(index_lookup_time(&ix, 100), -1);
	ck_assert_int_eq(index_lookup_time(&ix, 104), 5);
	index_free(&ix);
}
END_TEST

/* ---- crash simulation --------------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state += 0x9E3779B97F4A7C15ull;
	uint64_t z = rng_state;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* After random sequences of appends, partial completions, truncations, faults and crashes, the
 * reopened log holds exactly what was durable: every acknowledged batch with its bytes and
 * offset, and nothing that was not acknowledged. */
START_TEST(test_plog_crash_after_random_operations_keeps_exactly_the_synced_prefix)
{
	int seed_first = getenv("SEED") ? atoi(getenv("SEED")) : 1;
	int seed_last = getenv("SEED") ? seed_first : 1000;
	for (int seed = seed_first; seed <= seed_last; seed++) {
		fx_teardown();
		fx_setup();
		fx_close();
		simfs_free(F.sim);
		F.sim = simfs_new((uint64_t)seed);
		F.fs = simfs_fs(F.sim);
		F.fs->mkdir(F.fs, "/data");
		rng_state = (uint64_t)seed * 7919;
		F.cfg.segment_bytes = 1024 + rnd() % 4096;
		F.cfg.index_interval_bytes = 128 + (uint32_t)(rnd() % 1024);
		F.ex.defer_work = true;
		fx_open();
		for (int step = 0; step < 120 && F.n < MAX_REQS - 10; step++) {
			uint64_t r = rnd() % 100;
			if (plog_failed(F.log))
				r = 99; /* a stopped log is reopened, as the server would */

			if (r < 50) {
				append_batch(1 + (int)(rnd() % 4), rnd() % 300, (int64_t)step);
			} else if (r < 75) {
				int k = (int)(rnd() % 3);
				for (int j = 0; j < k; j++)
					exec_inline_step(&F.ex);
			} else if (r < 80) {
				/* Truncate to a random durable batch boundary, then drain so the
				 * cut is durable before any crash. */
				exec_inline_run(&F.ex);
				int cands[MAX_REQS], nc = 0;
				for (int i = 0; i < F.n; i++)
					if (F.status[i] == 0 && !F.reqs[i].canceled && F.done[i] &&
					    F.reqs[i].base_offset >= 0)
						cands[nc++] = i;
				if (nc > 0 && !plog_failed(F.log)) {
					int c = cands[rnd() % (uint64_t)nc];
					/* Faults during truncation have their own test. */
					simfs_fail_nth(F.sim, SIMFS_OP_WRITE, 0, 0);
					simfs_fail_nth(F.sim, SIMFS_OP_SYNC, 0, 0);
					ck_assert_int_eq(plog_truncate(F.log, F.reqs[c].base_offset),
							 0);
					exec_inline_run(&F.ex);
					for (int i = 0; i < F.n; i++)
						if (F.reqs[i].base_offset >= F.reqs[c].base_offset)
							F.status[i] = SLUICE_ECANCELED;
				}
			} else if (r < 88) {
				simfs_fail_nth(F.sim, rnd() % 2 ? SIMFS_OP_WRITE : SIMFS_OP_SYNC,
					       1 + (int)(rnd() % 3),
					       rnd() % 2 ? SLUICE_EIO : SLUICE_ENOSPC);
			} else {
				/* Crash: whatever has not completed is lost. If a failed write could
				 * not even be rolled back (the log stopped itself), its synced but
				 * unacknowledged batches may survive as well. */
				bool lax = plog_failed(F.log);
				simfs_fail_nth(F.sim, SIMFS_OP_WRITE, 0, 0);
				simfs_fail_nth(F.sim, SIMFS_OP_SYNC, 0, 0);
				simfs_crash(F.sim);
				/* The old log's in-flight work belongs to a dead process: drop
				 * it without running it by abandoning the executor queue. */
				exec_inline_init(&F.ex);
				F.ex.defer_work = true;
				plog_abandon(F.log); /* the process "died" */
				F.log = NULL;
				for (int i = 0; i < F.n; i++)
					if (!F.done[i])
						F.status[i] = SLUICE_ECANCELED, F.done[i] = 1;
				fx_open();
				/* Everything acknowledged, nothing else. */
				int64_t expect_end = 0;
				for (int i = 0; i < F.n; i++)
					if (F.status[i] == 0 && F.reqs[i].last_offset + 1 > expect_end)
						expect_end = F.reqs[i].last_offset + 1;
				ck_assert_msg(plog_end_offset(F.log) == expect_end ||
						      (lax && plog_end_offset(F.log) > expect_end),
					      "seed %d: end %" PRId64 " want %" PRId64, seed,
					      plog_end_offset(F.log), expect_end);
				if (plog_end_offset(F.log) > expect_end) {
					ck_assert_int_eq(plog_truncate(F.log, expect_end), 0);
					exec_inline_run(&F.ex);
				}
				/* Ignore the leftover requests from now on. */
				for (int i = 0; i < F.n; i++)
					F.reqs[i].canceled = F.status[i] != 0;
				expect_log(0, 0, F.n - 1);
			}
		}
		exec_inline_run(&F.ex);
		for (int i = 0; i < F.n; i++)
			ck_assert_int_eq(F.done[i], 1);
	}
}
END_TEST


/* ---- what the Raft log needs: state, reset, ordered work, retention limit ----------------- */

static int state_hook_calls;
static uint64_t state_hook_seq;
static int state_hook_status;

static void state_hook(void *arg, uint64_t durable_seq, int status)
{
	(void)arg;
	state_hook_calls++;
	state_hook_seq = durable_seq;
	state_hook_status = status;
}

static void expect_state_file(uint64_t term, uint64_t vote, int64_t log_start)
{
	struct pstate st;
	errmsg_t em;
	ck_assert_int_eq(pstate_load(F.fs, DIR, &st, em), 0);
	ck_assert_uint_eq(st.term, term);
	ck_assert_uint_eq(st.vote, vote);
	ck_assert_int_eq(st.log_start_offset, log_start);
}

/* Term and vote reach the state file off the loop; calls made while a write is in flight
 * coalesce into one more write carrying the latest values, and the hook sees the durable
 * sequence advance. */
START_TEST(test_plog_raft_state_writes_coalesce_and_report_durable_sequence)
{
	uint64_t term, vote, s1, s3;

	plog_on_raft_state(F.log, state_hook, NULL);
	F.ex.defer_work = true;
	s1 = plog_set_raft_state(F.log, 3, 0);
	ck_assert_uint_eq(s1, 1);
	plog_raft_state(F.log, &term, &vote);
	ck_assert_uint_eq(term, 3);
	ck_assert_uint_eq(plog_raft_state_durable(F.log), 0);
	plog_set_raft_state(F.log, 3, 2);     /* queued behind the first: coalesces with the next */
	s3 = plog_set_raft_state(F.log, 4, 0);
	ck_assert_uint_eq(s3, 3);
	ck_assert_int_eq(exec_inline_step(&F.ex), 1); /* the first write */
	ck_assert_uint_eq(plog_raft_state_durable(F.log), s1);
	ck_assert_int_eq(exec_inline_step(&F.ex), 1); /* one more carries both later calls */
	ck_assert_int_eq(exec_inline_step(&F.ex), 0);
	ck_assert_uint_eq(plog_raft_state_durable(F.log), s3);
	ck_assert_int_eq(state_hook_calls, 2);
	ck_assert_uint_eq(state_hook_seq, s3);
	expect_state_file(4, 0, 0);
	fx_close();
	fx_open();
	plog_raft_state(F.log, &term, &vote);
	ck_assert_uint_eq(term, 4);
	ck_assert_uint_eq(vote, 0);
}
END_TEST

/* A crash drops a term that was not durable yet, never one that was. */
START_TEST(test_plog_raft_state_crash_keeps_durable_values)
{
	uint64_t term, vote;

	simfs_set_torn_writes(F.sim, false);
	plog_set_raft_state(F.log, 7, 3);
	exec_inline_run(&F.ex);
	F.ex.defer_work = true;
	plog_set_raft_state(F.log, 8, 0);
	simfs_crash(F.sim);
	exec_inline_init(&F.ex);
	plog_abandon(F.log);
	F.log = NULL;
	fx_open();
	plog_raft_state(F.log, &term, &vote);
	ck_assert_uint_eq(term, 7);
	ck_assert_uint_eq(vote, 3);
}
END_TEST

/* Retention writes the state file too (the new log start): a term set while its deletion is
 * queued travels with it, and no later write takes the term back. */
START_TEST(test_plog_raft_state_rides_on_queued_retention_and_never_goes_back)
{
	fx_close();
	F.cfg.segment_bytes = 1024;
	F.cfg.retention_bytes = 1024;
	F.cfg.retention_ms = -1;
	fx_open();
	for (int i = 0; i < 12; i++)
		append_batch(1, 300, i);
	exec_inline_run(&F.ex);
	plog_on_raft_state(F.log, state_hook, NULL);
	F.ex.defer_work = true;
	plog_set_raft_state(F.log, 5, 0);         /* an OP_STATE, queued */
	ck_assert_int_gt(plog_enforce_retention(F.log), 0); /* an OP_DELETE behind it */
	uint64_t s = plog_set_raft_state(F.log, 6, 9); /* updates both queued writes */
	exec_inline_run(&F.ex);
	ck_assert_uint_eq(plog_raft_state_durable(F.log), s);
	ck_assert_int_eq(state_hook_status, 0);
	expect_state_file(6, 9, plog_start_offset(F.log));
	ck_assert_int_gt(plog_start_offset(F.log), 0);
}
END_TEST

/* A failed state write is reported to the hook with its error; the durable sequence stays. */
START_TEST(test_plog_raft_state_write_failure_reaches_the_hook)
{
	plog_on_raft_state(F.log, state_hook, NULL);
	simfs_fail_nth(F.sim, SIMFS_OP_SYNC, 1, SLUICE_EIO);
	plog_set_raft_state(F.log, 2, 1);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(state_hook_calls, 1);
	ck_assert_int_eq(state_hook_status, SLUICE_EIO);
	ck_assert_uint_eq(plog_raft_state_durable(F.log), 0);
	uint64_t s = plog_set_raft_state(F.log, 2, 1);
	exec_inline_run(&F.ex);
	ck_assert_uint_eq(plog_raft_state_durable(F.log), s);
	ck_assert_int_eq(state_hook_status, 0);
}
END_TEST

/* The blocking calls write on the calling thread and are refused while disk work is pending. */
START_TEST(test_plog_sync_calls_are_durable_on_return)
{
	errmsg_t em;
	struct buf *b = batchgen(2, 50, 1, 1);

	ck_assert_int_eq(plog_set_raft_state_sync(F.log, 1, 0, em), 0);
	ck_assert_int_eq(plog_append_sync(F.log, b, 0, b->len, 1, em), 0);
	ck_assert_int_eq(plog_durable_offset(F.log), 2);
	ck_assert_int_eq(exec_inline_run(&F.ex), 0); /* nothing went through the executor */
	F.ex.defer_work = true;
	append_batch(1, 10, 1);
	ck_assert_int_eq(plog_append_sync(F.log, b, 0, b->len, 1, em), SLUICE_EBUSY);
	ck_assert_int_eq(plog_set_raft_state_sync(F.log, 2, 0, em), SLUICE_EBUSY);
	exec_inline_run(&F.ex);
	buf_unref(b);
	simfs_crash(F.sim);
	exec_inline_init(&F.ex);
	plog_abandon(F.log);
	F.log = NULL;
	fx_open();
	ck_assert_int_ge(plog_end_offset(F.log), 2);
	expect_state_file(1, 0, 0);
}
END_TEST

/* plog_append_bytes writes the caller's memory without copying and assigns offsets in it. */
START_TEST(test_plog_append_bytes_uses_callers_memory)
{
	struct buf *b = batchgen(3, 40, 5, 9);
	struct buf *copy = buf_copy(b->data, b->len);

	append_batch(2, 10, 1);
	ck_assert_int_eq(plog_append_bytes(F.log, &F.reqs[F.n], b->data, b->len, 4, 0, append_cb),
			 0);
	F.bufs[F.n] = copy;
	int i = F.n++;
	ck_assert_int_eq((int64_t)be64_get(b->data), 2); /* BaseOffset assigned in place */
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.status[i], 0);
	batch_set_base_offset(copy->data, 2);
	batch_set_leader_epoch(copy->data, 4);
	expect_log(0, 0, i);
	buf_unref(b);
}
END_TEST

/* A reset empties the log and restarts it at any offset, cancels pending appends, persists
 * the new start, and the next append gets that offset. */
START_TEST(test_plog_reset_restarts_the_log_at_an_offset)
{
	int done = -1;
	fx_close();
	F.cfg.segment_bytes = 1024;
	fx_open();
	for (int i = 0; i < 8; i++)
		append_batch(1, 300, i);
	exec_inline_run(&F.ex);
	F.ex.defer_work = true;
	int p = append_batch(1, 300, 9);
	ck_assert_int_eq(plog_reset(F.log, 1000, int_status_cb, &done), 0);
	ck_assert_int_eq(plog_start_offset(F.log), 1000);
	ck_assert_int_eq(plog_end_offset(F.log), 1000);
	int a = append_batch(2, 10, 10);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(done, 0);
	ck_assert_int_eq(F.status[p], SLUICE_ECANCELED);
	ck_assert_int_eq(F.status[a], 0);
	ck_assert_int_eq(F.reqs[a].base_offset, 1000);
	fx_close();
	fx_open();
	ck_assert_int_eq(plog_start_offset(F.log), 1000);
	ck_assert_int_eq(plog_end_offset(F.log), 1002);
	ck_assert_int_eq(plog_segment_count(F.log), 1);
	/* And back to a lower offset. */
	ck_assert_int_eq(plog_reset(F.log, 10, NULL, NULL), 0);
	exec_inline_run(&F.ex);
	fx_close();
	fx_open();
	ck_assert_int_eq(plog_start_offset(F.log), 10);
	ck_assert_int_eq(plog_end_offset(F.log), 10);
}
END_TEST

/* A crash in the middle of a reset leaves either the empty log at the new start or a suffix of
 * the old log, never a log with a hole; a failed reset stops the log until it is reopened. */
START_TEST(test_plog_reset_interrupted_leaves_empty_log_or_suffix)
{
	for (int nth = 1; nth <= 6; nth++) {
		fx_teardown();
		fx_setup();
		fx_close();
		F.cfg.segment_bytes = 1024;
		fx_open();
		for (int i = 0; i < 12; i++)
			append_batch(1, 300, i);
		exec_inline_run(&F.ex);
		int64_t old_end = plog_end_offset(F.log);
		simfs_fail_nth(F.sim, SIMFS_OP_UNLINK, nth, SLUICE_EIO);
		int done = -1;
		ck_assert_int_eq(plog_reset(F.log, 5000, int_status_cb, &done), 0);
		exec_inline_run(&F.ex);
		if (done != 0)
			ck_assert(plog_failed(F.log));
		simfs_fail_nth(F.sim, SIMFS_OP_UNLINK, 0, 0);
		simfs_crash(F.sim);
		exec_inline_init(&F.ex);
		plog_abandon(F.log);
		F.log = NULL;
		fx_open();
		int64_t start = plog_start_offset(F.log), end = plog_end_offset(F.log);
		ck_assert_msg((start == 5000 && end == 5000) || end == old_end,
			      "nth %d: log [%" PRId64 ", %" PRId64 ")", nth, start, end);
		if (end == old_end) {
			/* The suffix reads back whole. */
			for (int64_t off = start; off < end;) {
				struct plog_read_result r;
				ck_assert_int_eq(plog_read(F.log, off, INT64_MAX, 1 << 20, &r), 0);
				ck_assert_int_gt(r.len, 0);
				off = r.next_offset;
				buf_unref(r.buf);
			}
		}
		/* Everything acknowledged before the reset is moot now: drop the bookkeeping. */
		for (int i = 0; i < F.n; i++)
			F.reqs[i].canceled = true;
	}
}
END_TEST

struct work_probe {
	struct plog_work w;
	int64_t durable_seen; /* on the worker: the log's durable end when it ran */
	struct plog *log;
	bool ran;
	int status;
	int done;
};

static void probe_work(struct plog_work *w)
{
	struct work_probe *p = w->data;
	p->ran = true;
}

static void probe_done(struct plog_work *w, int status)
{
	struct work_probe *p = w->data;
	p->status = status;
	p->done++;
	p->durable_seen = plog_durable_offset(p->log);
}

/* Caller work runs after the appends queued before it are durable (their callbacks ran
 * first); behind a failed write it does not run and gets the write's error. */
START_TEST(test_plog_submit_work_is_ordered_behind_appends_and_skipped_after_failure)
{
	struct work_probe p = {.w = {probe_work, probe_done, NULL}};
	p.w.data = &p;
	p.log = F.log;
	F.ex.defer_work = true;
	append_batch(1, 10, 1);
	int a = append_batch(1, 10, 2);
	ck_assert_int_eq(plog_submit_work(F.log, &p.w), 0);
	int b = append_batch(1, 10, 3);
	exec_inline_run(&F.ex);
	ck_assert(p.ran);
	ck_assert_int_eq(p.done, 1);
	ck_assert_int_eq(p.status, 0);
	ck_assert_int_ge(p.durable_seen, F.reqs[a].last_offset + 1);
	ck_assert_int_eq(F.status[b], 0);

	struct work_probe q = {.w = {probe_work, probe_done, NULL}};
	q.w.data = &q;
	q.log = F.log;
	simfs_fail_nth(F.sim, SIMFS_OP_SYNC, 1, SLUICE_EIO);
	int c = append_batch(1, 10, 4);
	ck_assert_int_eq(plog_submit_work(F.log, &q.w), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.status[c], SLUICE_EIO);
	ck_assert(!q.ran);
	ck_assert_int_eq(q.done, 1);
	ck_assert_int_eq(q.status, SLUICE_EIO);
}
END_TEST

/* Work queued behind a reset or a truncation that fails does not run: the log stopped, and the
 * work (the Raft log's snapshot write) must not act as if the log had been emptied or cut; its
 * `done` gets SLUICE_EIO. (A failed reset's work used to run and report 0: test_sim seed 2406
 * with retention stored a snapshot over a log that was never emptied.) */
START_TEST(test_plog_submit_work_is_skipped_after_a_failed_reset_or_truncate)
{
	for (int k = 0; k < 3; k++) {
		static const enum simfs_op ops[] = {SIMFS_OP_RENAME, SIMFS_OP_UNLINK,
						    SIMFS_OP_TRUNCATE};
		struct work_probe q = {.w = {probe_work, probe_done, NULL}};
		int done = -1;
		fx_teardown();
		fx_setup();
		for (int i = 0; i < 4; i++)
			append_batch(1, 10, i);
		exec_inline_run(&F.ex);
		q.w.data = &q;
		q.log = F.log;
		F.ex.defer_work = true;
		simfs_fail_nth(F.sim, ops[k], 1, SLUICE_EIO);
		if (ops[k] == SIMFS_OP_TRUNCATE)
			ck_assert_int_eq(plog_truncate(F.log, 2), 0);
		else
			ck_assert_int_eq(plog_reset(F.log, 1000, int_status_cb, &done), 0);
		ck_assert_int_eq(plog_submit_work(F.log, &q.w), 0);
		exec_inline_run(&F.ex);
		ck_assert(plog_failed(F.log));
		if (ops[k] != SIMFS_OP_TRUNCATE)
			ck_assert_int_eq(done, SLUICE_EIO);
		ck_assert_msg(!q.ran, "case %d: work ran behind a failed op", k);
		ck_assert_int_eq(q.done, 1);
		ck_assert_int_eq(q.status, SLUICE_EIO);
		struct work_probe r = {.w = {probe_work, probe_done, NULL}};
		ck_assert_int_eq(plog_submit_work(F.log, &r.w), SLUICE_EIO);
		simfs_fail_nth(F.sim, ops[k], 0, 0);
		/* Nothing to check in the bookkeeping of appends a reset made moot. */
		for (int i = 0; i < F.n; i++)
			F.reqs[i].canceled = true;
	}
}
END_TEST

/* Retention never deletes a segment holding an offset at or above the limit. */
START_TEST(test_plog_retention_limit_keeps_segments)
{
	fx_close();
	F.cfg.segment_bytes = 1024;
	F.cfg.retention_bytes = 0;
	F.cfg.retention_ms = -1;
	fx_open();
	for (int i = 0; i < 12; i++)
		append_batch(1, 300, i);
	exec_inline_run(&F.ex);
	plog_set_retention_limit(F.log, 0);
	ck_assert_int_eq(plog_enforce_retention(F.log), 0);
	plog_set_retention_limit(F.log, 6);
	ck_assert_int_gt(plog_enforce_retention(F.log), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_gt(plog_start_offset(F.log), 0);
	ck_assert_int_le(plog_start_offset(F.log), 6);
	plog_set_retention_limit(F.log, INT64_MAX);
	ck_assert_int_gt(plog_enforce_retention(F.log), 0);
}
END_TEST

/* A corruption found by a read marks the partition through the op queue; the flag is on disk
 * once the queue ran, and a reopen still refuses the partition. */
START_TEST(test_plog_repair_flag_goes_through_the_queue)
{
	for (int i = 0; i < 10; i++)
		append_batch(2, 200, i);
	exec_inline_run(&F.ex);
	plog_set_raft_state(F.log, 3, 1);
	uint8_t x = 0x00;
	size_t pos = F.reqs[0].len + F.reqs[1].len + 100;
	ck_assert_int_eq(simfs_corrupt(F.sim, DIR "/00000000000000000000.log", pos, &x, 1), 0);
	struct plog_read_result r;
	ck_assert_int_eq(plog_read(F.log, 4, INT64_MAX, 100, &r), SLUICE_EREPAIR);
	exec_inline_run(&F.ex);
	struct pstate st;
	errmsg_t em;
	ck_assert_int_eq(pstate_load(F.fs, DIR, &st, em), 0);
	ck_assert(st.flags & STATE_FLAG_NEEDS_REPAIR);
	ck_assert_uint_eq(st.term, 3);
	fx_close();
	fx_open();
	ck_assert(plog_needs_repair(F.log));
}
END_TEST


/* A truncation queued behind a write that fails while rolling to a new segment (which the
 * truncation cuts) must not touch that segment once the failure dropped it. */
START_TEST(test_plog_truncate_queued_behind_failed_roll)
{
	fx_close();
	F.cfg.segment_bytes = 1024;
	fx_open();
	append_batch(1, 300, 0);
	exec_inline_run(&F.ex);
	F.ex.defer_work = true;
	int a = append_batch(1, 300, 1); /* in flight alone */
	int b = append_batch(1, 300, 2); /* rolls: the new segment starts at 2 */
	int c = append_batch(1, 300, 3);
	ck_assert_int_eq(plog_segment_count(F.log), 2);
	ck_assert_int_eq(plog_truncate(F.log, 3), 0); /* cuts the new segment */
	/* The roll opens the old segment's two index files, then creates the new segment. */
	simfs_fail_nth(F.sim, SIMFS_OP_OPEN, 3, SLUICE_ENOSPC);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.status[a], 0);
	ck_assert_int_eq(F.status[b], SLUICE_ENOSPC);
	ck_assert_int_eq(F.status[c], SLUICE_ECANCELED);
	ck_assert_int_eq(plog_end_offset(F.log), 2);
	ck_assert(!plog_failed(F.log));
	int d = append_batch(1, 300, 4);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.status[d], 0);
	ck_assert_int_eq(F.reqs[d].base_offset, 2);
	fx_close();
	fx_open();
	ck_assert_int_eq(plog_end_offset(F.log), 3);
	for (int i = 0; i < F.n; i++)
		F.reqs[i].canceled = F.status[i] != 0;
	expect_log(0, 0, d);
}
END_TEST

/* Truncating again before the first truncation ran: an append it canceled may still cover the
 * offset with other batches; the cut is found among the live appends. */
START_TEST(test_plog_truncate_again_ignores_canceled_appends)
{
	F.ex.defer_work = true;
	int a = append_batch(3, 10, 0); /* offsets 0..2, one batch */
	ck_assert_int_eq(plog_truncate(F.log, 0), 0);
	int b1 = append_batch(1, 10, 1); /* offset 0 */
	int b2 = append_batch(1, 10, 2); /* offset 1 */
	ck_assert_int_eq(plog_truncate(F.log, 1), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.status[a], SLUICE_ECANCELED);
	ck_assert_int_eq(F.status[b1], 0);
	ck_assert_int_eq(F.status[b2], SLUICE_ECANCELED);
	ck_assert_int_eq(plog_end_offset(F.log), 1);
	fx_close();
	fx_open();
	ck_assert_int_eq(plog_end_offset(F.log), 1);
	F.reqs[a].canceled = F.reqs[b2].canceled = true;
	expect_log(0, b1, b1);
}
END_TEST

static int failed_hook_calls;
static void failed_hook(void *arg, const char *why)
{
	(void)arg;
	ck_assert_ptr_nonnull(why);
	failed_hook_calls++;
}

/* When a truncation fails the log stops: the hook hears it once, and appends queued behind
 * fail with EIO without touching the disk. */
START_TEST(test_plog_failed_truncate_fails_queued_appends_and_tells_the_hook)
{
	for (int i = 0; i < 4; i++)
		append_batch(1, 10, i);
	exec_inline_run(&F.ex);
	plog_on_failed(F.log, failed_hook, NULL);
	F.ex.defer_work = true;
	simfs_fail_nth(F.sim, SIMFS_OP_TRUNCATE, 1, SLUICE_EIO);
	ck_assert_int_eq(plog_truncate(F.log, 2), 0);
	int a = append_batch(1, 10, 9);
	exec_inline_run(&F.ex);
	ck_assert(plog_failed(F.log));
	ck_assert_int_eq(failed_hook_calls, 1);
	ck_assert_int_eq(F.status[a], SLUICE_EIO);
	fx_close();
	fx_open();
	ck_assert_int_eq(plog_end_offset(F.log), 4);
}
END_TEST

/* ---- real files, real thread pool -------------------------------------------------------- */

static int uv_done;
static void uv_append_cb(struct plog_append_req *req, int status)
{
	ck_assert_int_eq(status, 0);
	(void)req;
	uv_done++;
}

static void uv_closed_cb(void *arg)
{
	*(int *)arg = 1;
}

/* On POSIX files with libuv's pool, 2,000 appends become durable and read back after reopen. */
START_TEST(test_plog_on_real_files_with_thread_pool)
{
	char tmpl[] = "/tmp/sluice-test-XXXXXX";
	char dir[PATH_MAX];
	uv_loop_t loop;
	struct worker w;
	struct plog *log;
	errmsg_t em;
	static struct plog_append_req reqs[2000];
	struct buf *b = batchgen(10, 100, 1, 1);
	int closed = 0;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(dir, sizeof dir, "%s/t-0", tmpl);
	uv_loop_init(&loop);
	worker_init(&w, &loop);
	struct plog_open_args a = {.dir = dir, .name = "t-0", .fs = fs_posix(), .exec = &w.exec,
				   .clock = clock_system()};
	plog_config_default(&a.config);
	a.config.segment_bytes = 256 * 1024;
	ck_assert_int_eq(plog_open(&a, &log, em), 0);
	uv_done = 0;
	for (int i = 0; i < 2000; i++) {
		/* Each append needs its own bytes: the log writes offsets into them. */
		struct buf *c = buf_copy(b->data, b->len);
		ck_assert_int_eq(plog_append(log, &reqs[i], c, 0, c->len, 1, 0, uv_append_cb), 0);
		buf_unref(c);
		if (i % 100 == 99)
			uv_run(&loop, UV_RUN_NOWAIT);
	}
	while (uv_done < 2000)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_lt(plog_stats(log)->writes, 2000);
	plog_close(log, uv_closed_cb, &closed);
	while (!closed)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(plog_open(&a, &log, em), 0);
	ck_assert_int_eq(plog_end_offset(log), 20000);
	int64_t off = 0;
	int batches = 0;
	while (off < 20000) {
		struct plog_read_result r;
		ck_assert_int_eq(plog_read(log, off, INT64_MAX, 64 * 1024, &r), 0);
		ck_assert_int_gt(r.len, 0);
		for (size_t at = 0; at < r.len; at += b->len) {
			ck_assert_int_eq(memcmp(r.buf->data + at + 21, b->data + 21, b->len - 21), 0);
			batches++;
		}
		off = r.next_offset;
		buf_unref(r.buf);
	}
	ck_assert_int_eq(batches, 2000);
	closed = 0;
	plog_close(log, uv_closed_cb, &closed);
	while (!closed)
		uv_run(&loop, UV_RUN_ONCE);
	uv_loop_close(&loop);
	buf_unref(b);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *storage_suite(void)
{
	Suite *s = suite_create("storage");
	TCase *tc;

	tc = tcase_create("append_read");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_plog_append_assigns_offsets_and_completes_in_order);
	tcase_add_test(tc, test_plog_group_commit_batches_appends_behind_inflight_write);
	tcase_add_test(tc, test_plog_read_stops_at_durable_offset);
	tcase_add_test(tc, test_plog_read_returns_whole_batches_within_limits);
	tcase_add_test(tc, test_plog_reopen_after_clean_close_keeps_everything);
	tcase_add_test(tc, test_plog_append_rejects_malformed_input);
	tcase_add_test(tc, test_plog_pending_limit_gives_backpressure);
	suite_add_tcase(s, tc);

	tc = tcase_create("segments");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_plog_rolls_segments_by_size);
	tcase_add_test(tc, test_plog_rolls_segments_by_age);
	tcase_add_test(tc, test_plog_retention_by_size_deletes_oldest_segments);
	tcase_add_test(tc, test_plog_retention_by_time_keeps_recent_segments);
	tcase_add_test(tc, test_plog_truncate_cuts_at_batch_boundary);
	tcase_add_test(tc, test_plog_truncate_cancels_pending_appends);
	tcase_add_test(tc, test_plog_offset_for_time_finds_first_batch_at_or_after);
	tcase_add_test(tc, test_plog_offset_for_time_with_unordered_timestamps);
	suite_add_tcase(s, tc);

	tc = tcase_create("recovery");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_plog_recover_truncates_torn_tail_at_every_byte);
	tcase_add_test(tc, test_plog_recover_truncates_corrupt_tail);
	tcase_add_test(tc, test_plog_rebuilds_missing_and_damaged_indexes);
	tcase_add_test(tc, test_plog_corrupt_closed_segment_needs_repair);
	tcase_add_test(tc, test_plog_read_detects_corruption_by_crc);
	tcase_add_test(tc, test_pstate_roundtrip_and_rejects_damage);
	tcase_add_test(tc, test_index_encode_decode_detects_every_flipped_byte);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_plog_enospc_fails_append_and_recovers);
	tcase_add_test(tc, test_plog_sync_error_fails_append_then_recovers);
	tcase_add_test(tc, test_plog_failed_roll_keeps_old_segment_active);
	tcase_add_test(tc, test_plog_failed_truncate_stops_log_until_reopen);
	tcase_add_test(tc, test_plog_crash_after_random_operations_keeps_exactly_the_synced_prefix);
	suite_add_tcase(s, tc);

	tc = tcase_create("raft_support");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_plog_raft_state_writes_coalesce_and_report_durable_sequence);
	tcase_add_test(tc, test_plog_raft_state_crash_keeps_durable_values);
	tcase_add_test(tc, test_plog_raft_state_rides_on_queued_retention_and_never_goes_back);
	tcase_add_test(tc, test_plog_raft_state_write_failure_reaches_the_hook);
	tcase_add_test(tc, test_plog_sync_calls_are_durable_on_return);
	tcase_add_test(tc, test_plog_append_bytes_uses_callers_memory);
	tcase_add_test(tc, test_plog_reset_restarts_the_log_at_an_offset);
	tcase_add_test(tc, test_plog_reset_interrupted_leaves_empty_log_or_suffix);
	tcase_add_test(tc, test_plog_submit_work_is_ordered_behind_appends_and_skipped_after_failure);
	tcase_add_test(tc, test_plog_submit_work_is_skipped_after_a_failed_reset_or_truncate);
	tcase_add_test(tc, test_plog_retention_limit_keeps_segments);
	tcase_add_test(tc, test_plog_repair_flag_goes_through_the_queue);
	tcase_add_test(tc, test_plog_truncate_queued_behind_failed_roll);
	tcase_add_test(tc, test_plog_truncate_again_ignores_canceled_appends);
	tcase_add_test(tc, test_plog_failed_truncate_fails_queued_appends_and_tells_the_hook);
	suite_add_tcase(s, tc);

	tc = tcase_create("posix");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_plog_on_real_files_with_thread_pool);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(storage_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
