/*
 * Unit suite for the broker's pure parts: the idempotent-producer state (pidstate.c) and the
 * topic registry with its file format (topics.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "broker/pidstate.h"
#include "broker/topics.h"

/* In-order batches are accepted, a repeat of a recent batch is a duplicate with its original
 * offsets, and a gap is out of order. */
START_TEST(test_pidstate_accepts_in_order_and_detects_duplicates_and_gaps)
{
	struct pidstate ps;
	struct pidstate_batch dup;

	pidstate_init(&ps);
	ck_assert_int_eq(pidstate_check(&ps, 7, 0, 0, 4, &dup), PIDSTATE_OK);
	pidstate_record(&ps, 7, 0, 0, 4, 100, 104);
	ck_assert_int_eq(pidstate_check(&ps, 7, 0, 5, 9, &dup), PIDSTATE_OK);
	pidstate_record(&ps, 7, 0, 5, 9, 105, 109);
	ck_assert_int_eq(pidstate_check(&ps, 7, 0, 0, 4, &dup), PIDSTATE_DUPLICATE);
	ck_assert_int_eq(dup.base_offset, 100);
	ck_assert_int_eq(pidstate_check(&ps, 7, 0, 5, 9, &dup), PIDSTATE_DUPLICATE);
	ck_assert_int_eq(dup.base_offset, 105);
	ck_assert_int_eq(pidstate_check(&ps, 7, 0, 11, 12, &dup), PIDSTATE_OUT_OF_ORDER);
	ck_assert_int_eq(pidstate_check(&ps, 7, 0, 10, 12, &dup), PIDSTATE_OK);
	pidstate_free(&ps);
}
END_TEST

/* Only the last five batches are remembered: an older repeat is out of order, not a duplicate. */
START_TEST(test_pidstate_remembers_only_the_last_five_batches)
{
	struct pidstate ps;
	struct pidstate_batch dup;

	pidstate_init(&ps);
	for (int i = 0; i < 7; i++)
		pidstate_record(&ps, 1, 0, i, i, i, i);
	ck_assert_int_eq(pidstate_check(&ps, 1, 0, 2, 2, &dup), PIDSTATE_DUPLICATE);
	ck_assert_int_eq(pidstate_check(&ps, 1, 0, 1, 1, &dup), PIDSTATE_OUT_OF_ORDER);
	pidstate_free(&ps);
}
END_TEST

/* A newer epoch must start at sequence 0; an older epoch is fenced; an unknown producer must
 * start at 0. */
START_TEST(test_pidstate_epochs_fence_and_reset_sequences)
{
	struct pidstate ps;
	struct pidstate_batch dup;

	pidstate_init(&ps);
	ck_assert_int_eq(pidstate_check(&ps, 3, 0, 5, 5, &dup), PIDSTATE_OUT_OF_ORDER);
	pidstate_record(&ps, 3, 1, 0, 9, 0, 9);
	ck_assert_int_eq(pidstate_check(&ps, 3, 0, 10, 10, &dup), PIDSTATE_FENCED);
	ck_assert_int_eq(pidstate_check(&ps, 3, 2, 10, 10, &dup), PIDSTATE_OUT_OF_ORDER);
	ck_assert_int_eq(pidstate_check(&ps, 3, 2, 0, 0, &dup), PIDSTATE_OK);
	pidstate_free(&ps);
}
END_TEST

/* Sequences wrap from INT32_MAX to 0. */
START_TEST(test_pidstate_sequence_wraps)
{
	struct pidstate ps;
	struct pidstate_batch dup;

	pidstate_init(&ps);
	pidstate_record(&ps, 9, 0, INT32_MAX - 1, INT32_MAX, 0, 1);
	ck_assert_int_eq(pidstate_check(&ps, 9, 0, 0, 3, &dup), PIDSTATE_OK);
	pidstate_free(&ps);
}
END_TEST

/* After a failed append is cut away, a retry of that batch is accepted again, not a duplicate. */
START_TEST(test_pidstate_truncate_forgets_failed_batches)
{
	struct pidstate ps;
	struct pidstate_batch dup;

	pidstate_init(&ps);
	pidstate_record(&ps, 4, 0, 0, 0, 10, 10);
	pidstate_record(&ps, 4, 0, 1, 1, 11, 11);
	pidstate_truncate(&ps, 11);
	ck_assert_int_eq(pidstate_check(&ps, 4, 0, 1, 1, &dup), PIDSTATE_OK);
	pidstate_truncate(&ps, 0);
	ck_assert_int_eq(ps.n, 0);
	pidstate_free(&ps);
}
END_TEST

/* Topic names follow Kafka's rule. */
START_TEST(test_topics_name_rules)
{
	char long_name[300];

	ck_assert(topics_name_valid("orders", 6));
	ck_assert(topics_name_valid("a.b_c-D9", 8));
	ck_assert(!topics_name_valid("", 0));
	ck_assert(!topics_name_valid(".", 1));
	ck_assert(!topics_name_valid("..", 2));
	ck_assert(!topics_name_valid("with space", 10));
	ck_assert(!topics_name_valid("slash/x", 7));
	memset(long_name, 'a', sizeof long_name);
	ck_assert(topics_name_valid(long_name, 249));
	ck_assert(!topics_name_valid(long_name, 250));
}
END_TEST

/* Topic configs are checked by key and value, with messages naming the key. */
START_TEST(test_topics_config_check_names_the_key)
{
	errmsg_t em;

	ck_assert_int_eq(topics_config_check("retention.ms", "1000", em), 0);
	ck_assert_int_eq(topics_config_check("cleanup.policy", "compact", em), 0);
	ck_assert_int_eq(topics_config_check("retention.ms", "soon", em), SLUICE_EINVAL);
	ck_assert_ptr_nonnull(strstr(em, "retention.ms"));
	ck_assert_int_eq(topics_config_check("cleanup.policy", "sometimes", em), SLUICE_EINVAL);
	ck_assert_int_eq(topics_config_check("no.such.key", "1", em), SLUICE_EINVAL);
	ck_assert_ptr_nonnull(strstr(em, "no.such.key"));
	ck_assert_int_eq(topics_config_check("segment.bytes", "1", em), SLUICE_EINVAL);
}
END_TEST

/* The registry round-trips through its file image, and every damaged byte is detected. */
START_TEST(test_topics_file_roundtrip_and_damage)
{
	struct topics t, back;
	struct topic_config cfg[] = {{"retention.ms", "5000"}, {"cleanup.policy", "compact"}};
	struct topic *tp;
	struct buf *img;
	errmsg_t em;

	topics_init(&t);
	strcpy(t.cluster_id, "abc123");
	t.next_producer_id = 4242;
	ck_assert_int_eq(topics_add(&t, "orders", 3, 1, cfg, 2, NULL, &tp, em), 0);
	ck_assert_int_eq(topics_add(&t, "__internal", 1, 1, NULL, 0, NULL, NULL, em), 0);
	ck_assert_int_eq(topics_add(&t, "orders", 1, 1, NULL, 0, NULL, NULL, em), SLUICE_EEXIST);
	ck_assert_int_eq(topics_add(&t, "bad name", 1, 1, NULL, 0, NULL, NULL, em), SLUICE_EINVAL);
	ck_assert_int_eq(topics_add(&t, "zero", 0, 1, NULL, 0, NULL, NULL, em), SLUICE_EINVAL);
	img = topics_encode(&t);
	ck_assert_ptr_nonnull(img);
	topics_init(&back);
	ck_assert_int_eq(topics_decode(&back, img->data, img->len, em), 0);
	ck_assert_int_eq(back.n, 2);
	ck_assert_int_eq(back.next_producer_id, 4242);
	ck_assert_str_eq(back.cluster_id, "abc123");
	struct topic *o = topics_find(&back, "orders", 6);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->partitions, 3);
	ck_assert_mem_eq(o->id, tp->id, 16);
	ck_assert_str_eq(topic_config_get(o, "retention.ms"), "5000");
	ck_assert(topics_find(&back, "__internal", 10)->internal);
	topics_free(&back);
	for (size_t i = 0; i < img->len; i++) {
		img->data[i] ^= 0x10;
		topics_init(&back);
		ck_assert_int_ne(topics_decode(&back, img->data, img->len, em), 0);
		topics_free(&back);
		img->data[i] ^= 0x10;
	}
	for (size_t n = 0; n < img->len; n++) {
		topics_init(&back);
		ck_assert_int_ne(topics_decode(&back, img->data, n, em), 0);
		topics_free(&back);
	}
	buf_unref(img);
	topics_free(&t);
}
END_TEST

static Suite *broker_suite(void)
{
	Suite *s = suite_create("broker");
	TCase *tc = tcase_create("pidstate");

	tcase_add_test(tc, test_pidstate_accepts_in_order_and_detects_duplicates_and_gaps);
	tcase_add_test(tc, test_pidstate_remembers_only_the_last_five_batches);
	tcase_add_test(tc, test_pidstate_epochs_fence_and_reset_sequences);
	tcase_add_test(tc, test_pidstate_sequence_wraps);
	tcase_add_test(tc, test_pidstate_truncate_forgets_failed_batches);
	suite_add_tcase(s, tc);
	tc = tcase_create("topics");
	tcase_add_test(tc, test_topics_name_rules);
	tcase_add_test(tc, test_topics_config_check_names_the_key);
	tcase_add_test(tc, test_topics_file_roundtrip_and_damage);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(broker_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
