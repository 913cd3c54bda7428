/*
 * Unit suite for log compaction: storage's plog_compact driven by the broker's cleaner, on simfs
 * with the inline executor, so every fault and crash is deterministic.
 *
 * The log holds NREC records, one per offset, written in batches of BATCH_RECORDS: record i has
 * key "k<key_of(i)>" and value "v<i>", except every TOMB_EVERY-th record and LAST_TOMB, which
 * are tombstones (null value). The last key is not written after LAST_TOMB, so that its latest
 * record is a tombstone in a closed segment. The checks compare what reads back with that model: every record present is the one
 * written at its offset, offsets stay contiguous, and each key's latest record is there (or, for
 * an expired tombstone, nothing of the key is).
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/exec.h"
#include "base/slog.h"
#include "broker/cleaner.h"
#include "kafka/records.h"
#include "storage/plog.h"
#include "storage/simfs.h"

#define DIR "/data/compacted-0"
#define NKEYS 10
#define BATCH_RECORDS 4
#define NBATCHES 60
#define NREC (BATCH_RECORDS * NBATCHES)
#define TOMB_EVERY 37
#define T0 1700000000000LL

struct fixture {
	struct simfs *sim;
	struct fs *fs;
	struct exec_inline ex;
	struct clock_fake clk;
	struct plog_config cfg;
	struct plog *log;
	int appended;
	int compact_done;
	int compact_status;
	struct plog_compact_stats st;
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
	struct plog_open_args a = {.dir = DIR, .name = "compacted-0", .fs = F.fs,
				   .exec = &F.ex.exec, .clock = &F.clk.clock, .config = F.cfg};
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
	F.sim = simfs_new(7);
	F.fs = simfs_fs(F.sim);
	F.fs->mkdir(F.fs, "/data");
	exec_inline_init(&F.ex);
	clock_fake_init(&F.clk, T0);
	plog_config_default(&F.cfg);
	F.cfg.segment_bytes = 1024;
	F.cfg.index_interval_bytes = 256;
	fx_open();
}

static void fx_teardown(void)
{
	if (F.log != NULL)
		fx_close();
	simfs_free(F.sim);
	slog_set_sink(NULL, NULL);
}

#define LAST_TOMB (NREC - 41)

static int key_of(int i)
{
	return i < NREC - 40 ? i % NKEYS : i % (NKEYS - 1);
}

static bool is_tombstone(int i)
{
	return i % TOMB_EVERY == TOMB_EVERY - 1 || i == LAST_TOMB;
}

static void append_cb(struct plog_append_req *req, int status)
{
	ck_assert_int_eq(status, 0);
	F.appended++;
	free(req);
}

/* Appends records [first, first + BATCH_RECORDS) as one idempotent-producer batch. */
static void append_records(int first)
{
	struct records_new recs[BATCH_RECORDS];
	char keys[BATCH_RECORDS][16], vals[BATCH_RECORDS][16];
	struct records_batch_params bp;
	struct wbuf w = {0};
	struct buf *b;

	records_batch_params_default(&bp);
	bp.producer_id = 1000 + first % 3;
	bp.producer_epoch = 2;
	bp.base_sequence = first;
	for (int j = 0; j < BATCH_RECORDS; j++) {
		int i = first + j;
		int kn = snprintf(keys[j], sizeof keys[j], "k%d", key_of(i));
		int vn = snprintf(vals[j], sizeof vals[j], "v%d", i);
		recs[j] = (struct records_new){
			.timestamp = T0 + i,
			.key = {(const uint8_t *)keys[j], kn},
			.value = {(const uint8_t *)vals[j], is_tombstone(i) ? -1 : vn}};
	}
	ck_assert_int_eq(records_build(&w, &bp, recs, BATCH_RECORDS), 0);
	b = wbuf_take(&w);
	ck_assert_ptr_nonnull(b);
	struct plog_append_req *req = calloc(1, sizeof *req);
	ck_assert_int_eq(plog_append(F.log, req, b, 0, b->len, 1, 0, append_cb), 0);
	buf_unref(b);
}

static void fill(void)
{
	for (int i = 0; i < NREC; i += BATCH_RECORDS)
		append_records(i);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.appended, NBATCHES);
	ck_assert_int_gt(plog_segment_count(F.log), 4);
}

static void compact_cb(void *arg, int status, const struct plog_compact_stats *st)
{
	(void)arg;
	F.compact_done++;
	F.compact_status = status;
	F.st = *st;
}

/* Runs one compaction to completion with tombstones expiring after `delete_retention_ms`. */
static int compact(int64_t delete_retention_ms)
{
	struct cleaner_config cc = {.now_ms = clock_wall_ms(&F.clk.clock),
				    .delete_retention_ms = delete_retention_ms,
				    .max_offset = plog_durable_offset(F.log)};
	struct cleaner *c = cleaner_new(&cc);
	int before = F.compact_done;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(plog_compact(F.log, &cleaner_compactor, c, compact_cb), 0);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.compact_done, before + 1);
	cleaner_free(c);
	return F.compact_status;
}

/* What a read of the whole log found, per offset. */
struct seen {
	bool present[NREC];
	int64_t batches;
	int64_t records;
};

/* Reads the whole log and checks it against the model: contiguous batch offsets, each record the
 * one written at its offset, producer fields kept. */
static void read_all(struct seen *s)
{
	int64_t off = plog_start_offset(F.log), next_base = off;

	memset(s, 0, sizeof *s);
	while (off < plog_end_offset(F.log)) {
		struct plog_read_result r;
		int rv = plog_read(F.log, off, INT64_MAX, 1 << 20, &r);
		size_t at = 0;
		ck_assert_msg(rv == 0, "read at %" PRId64 ": %s", off, err_str(rv));
		ck_assert_msg(r.len > 0, "no data at %" PRId64, off);
		while (at < r.len) {
			struct records_iter it;
			struct records_record rec;
			ck_assert_int_eq(records_iter_init(&it, r.buf->data + at, r.len - at), 0);
			ck_assert_int_eq(it.h.base_offset, next_base);
			ck_assert_int_eq(it.h.last_offset_delta, BATCH_RECORDS - 1);
			ck_assert_int_eq(it.h.producer_id, 1000 + it.h.base_offset % 3);
			ck_assert_int_eq(it.h.base_sequence, it.h.base_offset);
			ck_assert(batch_crc_ok(r.buf->data + at, batch_total_bytes(&it.h)));
			while ((rv = records_iter_next(&it, &rec)) == 1) {
				int i = (int)rec.offset;
				char k[16], v[16];
				int kn = snprintf(k, sizeof k, "k%d", key_of(i));
				int vn = snprintf(v, sizeof v, "v%d", i);
				ck_assert_int_lt(i, NREC);
				ck_assert_int_eq(rec.key.len, kn);
				ck_assert(memcmp(rec.key.ptr, k, (size_t)kn) == 0);
				if (is_tombstone(i)) {
					ck_assert_int_eq(rec.value.len, -1);
				} else {
					ck_assert_int_eq(rec.value.len, vn);
					ck_assert(memcmp(rec.value.ptr, v, (size_t)vn) == 0);
				}
				ck_assert_int_eq(rec.timestamp, T0 + i);
				s->present[i] = true;
				s->records++;
			}
			ck_assert_int_eq(rv, 0);
			next_base = batch_last_offset(&it.h) + 1;
			at += batch_total_bytes(&it.h);
			s->batches++;
		}
		off = r.next_offset;
		buf_unref(r.buf);
	}
	ck_assert_int_eq(next_base, NREC);
}

/* Each key's latest record is present unless it is a tombstone that `tombs_may_go` allows to be
 * gone, and then nothing of that key is. With `compacted`, nothing else of a key in a segment
 * below `clean_end` is left either. */
static void check_latest(const struct seen *s, bool tombs_may_go, bool compacted,
			 int64_t clean_end)
{
	for (int k = 0; k < NKEYS; k++) {
		int latest = -1, newest_present = -1;
		for (int i = 0; i < NREC; i++) {
			if (key_of(i) != k)
				continue;
			latest = i;
			if (s->present[i])
				newest_present = i;
		}
		if (is_tombstone(latest) && tombs_may_go && newest_present != latest)
			ck_assert_msg(newest_present == -1, "key %d resurrected at %d", k,
				      newest_present);
		else
			ck_assert_msg(newest_present == latest, "key %d: latest %d, found %d", k,
				      latest, newest_present);
		if (!compacted)
			continue;
		for (int i = 0; i < latest && i < clean_end; i++)
			ck_assert_msg(key_of(i) != k || !s->present[i], "superseded record %d kept",
				      i);
	}
}

/* A compaction keeps exactly each key's latest record in the closed segments, at its offset, in
 * batches that keep their offsets, producer fields and timestamps; the log shrinks, and a reopen
 * reads the same. */
START_TEST(test_compact_keeps_latest_record_per_key)
{
	struct seen s;
	uint64_t before;

	fill();
	before = plog_size_bytes(F.log);
	ck_assert_int_eq(compact(CLEANER_DELETE_RETENTION_MS_DEFAULT), 0);
	ck_assert_int_gt(F.st.segments_rewritten, 0);
	ck_assert_int_lt(plog_size_bytes(F.log), before);
	read_all(&s);
	check_latest(&s, false, true, F.st.cleaned_end);
	/* A second run finds nothing more to remove. */
	ck_assert_int_eq(compact(CLEANER_DELETE_RETENTION_MS_DEFAULT), 0);
	ck_assert_int_eq(F.st.segments_rewritten, 0);
	fx_close();
	fx_open();
	read_all(&s);
	check_latest(&s, false, true, F.st.cleaned_end);
}
END_TEST

/* Tombstones stay until their batch is older than delete.retention.ms, then go with every record
 * of their key. */
START_TEST(test_compact_removes_tombstones_after_delete_retention)
{
	struct seen s;

	fill();
	ck_assert_int_eq(compact(60000), 0);
	read_all(&s);
	for (int i = 0; i < F.st.cleaned_end; i++)
		if (i == LAST_TOMB)
			ck_assert_msg(s.present[i], "young tombstone %d removed", i);
	ck_assert_int_gt(F.st.cleaned_end, LAST_TOMB);
	clock_fake_advance_ms(&F.clk, 120000);
	ck_assert_int_eq(compact(60000), 0);
	read_all(&s);
	check_latest(&s, true, true, F.st.cleaned_end);
	for (int i = 0; i < F.st.cleaned_end; i++)
		if (is_tombstone(i))
			ck_assert_msg(!s.present[i], "expired tombstone %d kept", i);
}
END_TEST

/* Reads during a compaction use the old file; appends queued behind it land after it; truncating
 * into a segment being compacted is refused until it completes. */
START_TEST(test_compact_is_ordered_with_appends_and_reads)
{
	struct cleaner_config cc = {.now_ms = T0, .delete_retention_ms = -1, .max_offset = NREC};
	struct cleaner *c;
	struct seen s;

	fill();
	c = cleaner_new(&cc);
	/* The inline executor runs the work at once and holds the completion until run. */
	ck_assert_int_eq(plog_compact(F.log, &cleaner_compactor, c, compact_cb), 0);
	ck_assert_int_eq(F.compact_done, 0);
	read_all(&s);
	ck_assert_int_eq(s.records, NREC);
	ck_assert_int_eq(plog_truncate(F.log, 4), SLUICE_EBUSY);
	append_records(NREC);
	ck_assert_int_eq(plog_end_offset(F.log), NREC + BATCH_RECORDS);
	exec_inline_run(&F.ex);
	ck_assert_int_eq(F.compact_done, 1);
	ck_assert_int_eq(F.compact_status, 0);
	cleaner_free(c);
	ck_assert_int_eq(F.appended, NBATCHES + 1);
	ck_assert_int_eq(plog_truncate(F.log, NREC), 0);
	exec_inline_run(&F.ex);
	read_all(&s);
	check_latest(&s, false, true, F.st.cleaned_end);
}
END_TEST

/* Records without a key are dropped by the cleaner (as Kafka's cleaner does); control batches
 * are kept whole. */
START_TEST(test_cleaner_drops_keyless_records_and_keeps_control_batches)
{
	struct records_new recs[2] = {
		{.timestamp = T0, .key = {NULL, -1}, .value = {(const uint8_t *)"x", 1}},
		{.timestamp = T0, .key = {(const uint8_t *)"a", 1}, .value = {(const uint8_t *)"y", 1}},
	};
	struct records_batch_params bp;
	struct wbuf in = {0}, ctl = {0}, out = {0};
	struct cleaner_config cc = {.now_ms = T0, .delete_retention_ms = 0, .max_offset = 100};
	struct cleaner *c = cleaner_new(&cc);
	struct records_iter it;
	struct records_record rec;

	records_batch_params_default(&bp);
	ck_assert_int_eq(records_build(&in, &bp, recs, 2), 0);
	bp.attributes = BATCH_ATTR_CONTROL;
	bp.base_offset = 2;
	ck_assert_int_eq(records_build(&ctl, &bp, recs + 1, 1), 0);
	ck_assert_int_eq(cleaner_compactor.scan(c, in.data, in.len), 0);
	ck_assert_int_eq(cleaner_compactor.scan(c, ctl.data, ctl.len), 0);
	ck_assert_int_eq(cleaner_compactor.rewrite(c, in.data, in.len, &out), 0);
	ck_assert_int_eq(records_iter_init(&it, out.data, out.len), 0);
	ck_assert_int_eq(it.h.record_count, 1);
	ck_assert_int_eq(it.h.last_offset_delta, 1);
	ck_assert_int_eq(records_iter_next(&it, &rec), 1);
	ck_assert_int_eq(rec.offset, 1);
	ck_assert(batch_crc_ok(out.data, out.len));
	out.len = 0;
	ck_assert_int_eq(cleaner_compactor.rewrite(c, ctl.data, ctl.len, &out), 0);
	ck_assert_int_eq(out.len, ctl.len);
	ck_assert(memcmp(out.data, ctl.data, ctl.len) == 0);
	ck_assert_int_eq(cleaner_stats(c)->records_removed, 1);
	cleaner_free(c);
	wbuf_free(&in);
	wbuf_free(&ctl);
	wbuf_free(&out);
}
END_TEST

static bool cleaned_left;

static int find_cleaned(void *arg, const char *name)
{
	(void)arg;
	if (strstr(name, ".cleaned") != NULL)
		cleaned_left = true;
	return 0;
}

/* A fault at every write, sync, rename and unlink of a compaction, then a crash: the reopened log
 * reads back either the old or the new content of each segment: same offsets, every key's latest
 * record (no tombstoned key resurrected), no leftover `.cleaned` file. Also a plain crash right
 * after a successful compaction. */
START_TEST(test_compact_crash_at_every_step_keeps_log_equivalent)
{
	static const enum simfs_op kinds[] = {SIMFS_OP_WRITE, SIMFS_OP_SYNC, SIMFS_OP_RENAME,
					      SIMFS_OP_UNLINK};
	int runs = 0;

	fx_teardown();
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		for (int nth = 0; nth < 200; nth++) {
			struct seen s;
			fx_setup();
			fill();
			clock_fake_advance_ms(&F.clk, 120000);
			if (nth > 0)
				simfs_fail_nth(F.sim, kinds[k], nth, SLUICE_EIO);
			int rv = compact(60000);
			simfs_fail_nth(F.sim, kinds[k], 0, 0);
			/* The fault did not fire: every step of this kind has been covered. */
			bool exhausted = nth > 0 && rv == 0;
			if (rv == 0)
				read_all(&s), check_latest(&s, true, true, F.st.cleaned_end);
			simfs_crash(F.sim);
			plog_abandon(F.log);
			exec_inline_init(&F.ex);
			fx_open();
			read_all(&s);
			check_latest(&s, true, false, 0);
			cleaned_left = false;
			F.fs->list_dir(F.fs, DIR, find_cleaned, NULL);
			ck_assert(!cleaned_left);
			/* The log still compacts to the full result after recovery. */
			ck_assert_int_eq(compact(60000), 0);
			read_all(&s);
			check_latest(&s, true, true, F.st.cleaned_end);
			fx_teardown();
			runs++;
			if (exhausted)
				break;
		}
	}
	ck_assert_int_gt(runs, 20);
	fx_setup();
}
END_TEST

static Suite *compact_suite(void)
{
	Suite *s = suite_create("compact");
	TCase *tc = tcase_create("compaction");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_compact_keeps_latest_record_per_key);
	tcase_add_test(tc, test_compact_removes_tombstones_after_delete_retention);
	tcase_add_test(tc, test_compact_is_ordered_with_appends_and_reads);
	tcase_add_test(tc, test_cleaner_drops_keyless_records_and_keeps_control_batches);
	suite_add_tcase(s, tc);
	tc = tcase_create("crash");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_compact_crash_at_every_step_keeps_log_equivalent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(compact_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
