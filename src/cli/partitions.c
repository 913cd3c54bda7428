/*
 * partitions: `sluice partitions elect-leaders|reassign|reassignments`, spoken directly in the
 * Kafka protocol.
 *
 *   elect-leaders  Metadata for the partitions concerned (one topic, or all), whose preferred
 *                  leader is the first of their replica list; ElectLeaders v0-2 with ElectionType
 *                  PREFERRED to the bootstrap broker, naming every partition (so each one gets a
 *                  row: a null list would leave out those already led by their preferred
 *                  replica); then Metadata again every ELECT_POLL_MS until each partition whose
 *                  election started is led by its preferred replica, for at most
 *                  min(--timeout-ms, ELECT_CONFIRM_MS_MAX).
 *   reassign       Metadata for the topic (the replica list before, for the output);
 *                  AlterPartitionReassignments v0 with the new list to the bootstrap broker;
 *                  then reassign_wait() (reassign.h) until the move is complete — Metadata shows
 *                  the new list with a leader among it and no broker reports the partition as
 *                  moving — for at most --timeout-ms, with progress lines on stderr.
 *   reassignments  ListPartitionReassignments v0 to every broker, merged (reassign_list()).
 *
 * Output of elect-leaders: one row per partition: topic, partition, preferred leader, leader as
 * last seen, and the result: ELECTED (the preferred replica was seen taking over),
 * ELECTION_NOT_NEEDED (it already led), PENDING (the broker started the election but the change
 * was not seen in time), or the broker's Kafka error name, with its message when it sent one.
 * Output of reassign: one row with the old and new replicas, the leader and MOVED, PENDING or
 * the broker's error. Output of reassignments: one row per moving partition.
 *
 * Failure modes: elect-leaders and reassign exit 1 when any partition ends neither ELECTED nor
 * ELECTION_NOT_NEEDED (resp. MOVED), after printing every row, with "topic 'T' partition P:
 * RESULT" for the first such partition on stderr; a topic that Metadata does not know exits 1
 * before anything is sent (elect-leaders; reassign lets the broker answer); unreachable brokers
 * and timeouts exit 1 with the connection's message; bad arguments exit 2 before anything is
 * sent.
 *
 * Invariants: rows are sorted by (topic, partition) and unique, so results are matched to rows
 * by binary search; every Metadata response stays valid until admin_close().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/admin.h"
#include "cli/cli.h"
#include "cli/out.h"
#include "cli/reassign.h"

#define ELECT_LEADERS_VERSION_MIN 0
#define ELECT_LEADERS_VERSION_MAX 2
/* ElectLeadersRequest.json ElectionType: 0 elects the preferred replica. */
#define ELECTION_TYPE_PREFERRED 0
/* Pause between the Metadata requests that watch the leaders move. */
#define ELECT_POLL_MS 250
/* A Raft leadership transfer takes an election timeout or two; waiting longer than this for it
 * helps nobody, and bounds the Metadata responses the client keeps. */
#define ELECT_CONFIRM_MS_MAX 30000

typedef struct kafka_metadata_response_metadata_response_topic md_topic;
typedef struct kafka_metadata_response_metadata_response_partition md_partition;

/* One partition of the election. */
struct elect_row {
	struct kafka_str topic;
	int32_t partition;
	int32_t preferred; /* the first replica Metadata lists; -1 when Metadata has none */
	int32_t leader;    /* as Metadata last said; -1 when it knows none */
	bool answered;     /* the broker returned a result for it */
	int16_t error;     /* the broker's result */
	struct kafka_str message;
	bool confirmed; /* error NONE and the preferred replica was seen leading */
};

struct elect_args {
	const char *topic; /* NULL: every topic */
	int64_t partition; /* -1: every partition of `topic` */
};

static int str_compare(struct kafka_str x, struct kafka_str y)
{
	int32_t n = x.len < y.len ? x.len : y.len;
	int c = n > 0 ? memcmp(x.ptr, y.ptr, (size_t)n) : 0;

	return c != 0 ? c : (x.len > y.len) - (x.len < y.len);
}

static int cmp_row(const void *x, const void *y)
{
	const struct elect_row *a = x;
	const struct elect_row *b = y;
	int c = str_compare(a->topic, b->topic);

	return c != 0 ? c : (a->partition > b->partition) - (a->partition < b->partition);
}

static struct elect_row *find_row(struct elect_row *rows, size_t n, struct kafka_str topic,
				  int32_t partition)
{
	struct elect_row key = { .topic = topic, .partition = partition };

	return bsearch(&key, rows, n, sizeof *rows, cmp_row);
}

static const char *row_result(const struct elect_row *r)
{
	if (r->error != KAFKA_ERR_NONE)
		return kafka_err_name(r->error);
	return r->confirmed ? "ELECTED" : "PENDING";
}

static bool row_ok(const struct elect_row *r)
{
	return r->error == KAFKA_ERR_ELECTION_NOT_NEEDED ||
	       (r->error == KAFKA_ERR_NONE && r->confirmed);
}

static int elect_opt(void *ctx, const char *cmd, int argc, char **argv, int *i)
{
	struct elect_args *ea = ctx;
	const char *v;
	int rv;

	rv = admin_opt_value(cmd, "--topic", argc, argv, i, &v);
	if (rv > 0) {
		if (v[0] == '\0') {
			fprintf(stderr, "sluice %s: --topic needs a topic name\n", cmd);
			return -1;
		}
		ea->topic = v;
	}
	if (rv != 0)
		return rv;
	rv = admin_opt_value(cmd, "--partition", argc, argv, i, &v);
	if (rv > 0 && (!admin_parse_i64(v, &ea->partition) || ea->partition < 0 ||
		       ea->partition > INT32_MAX)) {
		fprintf(stderr, "sluice %s: --partition must be a partition number, not '%s'\n",
			cmd, v);
		return -1;
	}
	return rv;
}

/* Sets the preferred replica and the leader of every row from `md`. */
static void rows_update(struct elect_row *rows, size_t n, const struct kafka_metadata_response *md)
{
	for (int32_t t = 0; t < md->topics.n; t++) {
		const md_topic *mt = &md->topics.v[t];

		if (mt->error_code != KAFKA_ERR_NONE)
			continue;
		for (int32_t p = 0; p < mt->partitions.n; p++) {
			const md_partition *mp = &mt->partitions.v[p];
			struct elect_row *r = find_row(rows, n, mt->name, mp->partition_index);

			if (r == NULL)
				continue;
			r->preferred = mp->replica_nodes.n > 0 ? mp->replica_nodes.v[0] : -1;
			r->leader = mp->leader_id;
			if (r->answered && r->error == KAFKA_ERR_NONE && r->preferred >= 0 &&
			    r->leader == r->preferred)
				r->confirmed = true;
		}
	}
}

/* Builds the rows from Metadata: every partition of `topic` (or only `partition`), or of every
 * topic when `topic` is NULL. Returns 0, or an error with `msg` filled. */
static int rows_build(struct admin *a, const struct elect_args *ea,
		      const struct kafka_metadata_response *md, struct elect_row **out, size_t *n,
		      char *msg)
{
	struct elect_row *rows;
	size_t count = 0;
	size_t k = 0;

	if (ea->topic != NULL) {
		const md_topic *t = admin_md_topic(md, kafka_str_c(ea->topic));

		if (t == NULL || t->error_code != KAFKA_ERR_NONE) {
			errmsg_printf(msg, "topic '%s': %s", ea->topic,
				      kafka_err_name(t == NULL ?
							     KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION :
							     t->error_code));
			return SLUICE_ENOTFOUND;
		}
		count = ea->partition >= 0 ? 1 : (size_t)t->partitions.n;
	} else {
		for (int32_t i = 0; i < md->topics.n; i++)
			if (md->topics.v[i].error_code == KAFKA_ERR_NONE)
				count += (size_t)md->topics.v[i].partitions.n;
	}
	rows = admin_alloc(a, (count + 1) * sizeof *rows);
	if (rows == NULL) {
		errmsg_printf(msg, "out of memory");
		return SLUICE_ENOMEM;
	}
	if (ea->topic != NULL && ea->partition >= 0) {
		/* Asked for even when Metadata does not list it: the broker has the last word. */
		rows[k].topic = kafka_str_c(ea->topic);
		rows[k].partition = (int32_t)ea->partition;
		k++;
	} else {
		for (int32_t i = 0; i < md->topics.n; i++) {
			const md_topic *t = &md->topics.v[i];

			if (t->error_code != KAFKA_ERR_NONE ||
			    (ea->topic != NULL && !kafka_str_eq(t->name, ea->topic)))
				continue;
			for (int32_t p = 0; p < t->partitions.n && k < count; p++) {
				rows[k].topic = t->name;
				rows[k].partition = t->partitions.v[p].partition_index;
				k++;
			}
		}
	}
	for (size_t i = 0; i < k; i++) {
		rows[i].preferred = -1;
		rows[i].leader = -1;
		rows[i].message = kafka_str_null();
	}
	qsort(rows, k, sizeof *rows, cmp_row);
	/* A broker listing a partition twice would make the rows ambiguous: keep one. */
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (u == 0 || cmp_row(&rows[u - 1], &rows[i]) != 0)
			rows[u++] = rows[i];
	rows_update(rows, u, md);
	*out = rows;
	*n = u;
	return 0;
}

/* Sends one ElectLeaders naming every row, grouped by topic, and records each result. */
static int elect_send(struct admin *a, struct elect_row *rows, size_t n, char *msg)
{
	struct kafka_elect_leaders_request req;
	struct kafka_elect_leaders_response resp;
	int16_t version = -1;
	int rv;

	kafka_struct_defaults(&kafka_elect_leaders_request_desc, &req);
	req.election_type = ELECTION_TYPE_PREFERRED;
	req.timeout_ms = a->o.timeout_ms;
	req.topic_partitions.v = admin_alloc(a, n * sizeof *req.topic_partitions.v);
	if (req.topic_partitions.v == NULL)
		goto err_oom;
	req.topic_partitions.n = 0;
	/* Rows are sorted by topic: each run of one topic becomes one entry. */
	for (size_t i = 0; i < n;) {
		struct kafka_elect_leaders_request_topic_partitions *tp =
			&req.topic_partitions.v[req.topic_partitions.n++];
		size_t end = i;

		while (end < n && str_compare(rows[end].topic, rows[i].topic) == 0)
			end++;
		kafka_struct_defaults(&kafka_elect_leaders_request_topic_partitions_desc, tp);
		tp->topic = rows[i].topic;
		tp->partition_id.v = admin_alloc(a, (end - i) * sizeof *tp->partition_id.v);
		if (tp->partition_id.v == NULL)
			goto err_oom;
		tp->partition_id.n = (int32_t)(end - i);
		for (size_t k = i; k < end; k++)
			tp->partition_id.v[k - i] = rows[k].partition;
		i = end;
	}
	rv = client_call_range(admin_boot(a), KAFKA_API_ELECT_LEADERS, ELECT_LEADERS_VERSION_MIN,
			       ELECT_LEADERS_VERSION_MAX, &req, &resp, &version, msg);
	if (rv != 0)
		return rv;
	if (version >= 1 && resp.error_code != KAFKA_ERR_NONE) {
		errmsg_printf(msg, "ElectLeaders: %s", kafka_err_name(resp.error_code));
		return SLUICE_EIO;
	}
	for (int32_t t = 0; t < resp.replica_election_results.n; t++) {
		const struct kafka_elect_leaders_response_replica_election_result *res =
			&resp.replica_election_results.v[t];

		for (int32_t p = 0; p < res->partition_result.n; p++) {
			const struct kafka_elect_leaders_response_partition_result *pr =
				&res->partition_result.v[p];
			struct elect_row *r = find_row(rows, n, res->topic, pr->partition_id);

			if (r == NULL)
				continue; /* not asked for: nothing to report */
			r->answered = true;
			r->error = pr->error_code;
			r->message = pr->error_message;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (rows[i].answered)
			continue;
		rows[i].error = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
		rows[i].message = kafka_str_c("the broker returned no result for this partition");
	}
	return 0;

err_oom:
	errmsg_printf(msg, "out of memory");
	return SLUICE_ENOMEM;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static size_t rows_pending(const struct elect_row *rows, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += rows[i].error == KAFKA_ERR_NONE && !rows[i].confirmed;
	return k;
}

/* Watches Metadata until every started election shows its preferred replica leading, or the
 * wait runs out. Returns 0, or the Metadata request's error (rows keep what was seen). */
static int elect_confirm(struct admin *a, const struct elect_args *ea, struct elect_row *rows,
			 size_t n, char *msg)
{
	int wait_ms = a->o.timeout_ms < ELECT_CONFIRM_MS_MAX ? a->o.timeout_ms :
							       ELECT_CONFIRM_MS_MAX;
	int64_t deadline = mono_ms() + wait_ms;

	while (rows_pending(rows, n) > 0 && mono_ms() < deadline) {
		struct kafka_metadata_response md;
		int rv;

		sleep_ms(ELECT_POLL_MS);
		rv = ea->topic != NULL ? admin_metadata(a, &ea->topic, 1, &md, msg) :
					 admin_metadata(a, NULL, 0, &md, msg);
		if (rv != 0)
			return rv;
		rows_update(rows, n, &md);
	}
	for (size_t i = 0; i < n; i++)
		if (rows[i].error == KAFKA_ERR_NONE && !rows[i].confirmed &&
		    rows[i].message.len < 0)
			rows[i].message = kafka_str_c("the election started but the preferred "
						      "replica was not seen leading in time");
	return 0;
}

static void print_json(const struct elect_row *rows, size_t n)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_key(&j, "partitions");
	json_arr_begin(&j);
	for (size_t i = 0; i < n; i++) {
		json_obj_begin(&j);
		json_key(&j, "topic");
		json_strn(&j, rows[i].topic.ptr, rows[i].topic.len);
		json_key(&j, "partition");
		json_int(&j, rows[i].partition);
		json_key(&j, "preferred_leader");
		json_int(&j, rows[i].preferred);
		json_key(&j, "leader");
		json_int(&j, rows[i].leader);
		json_key(&j, "result");
		json_str(&j, row_result(&rows[i]));
		json_key(&j, "message");
		json_strn(&j, rows[i].message.ptr, rows[i].message.len);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

/* A node id cell: the number, or "none" for -1. */
static const char *node_cell(char *buf, size_t size, int32_t id)
{
	if (id < 0)
		return "none";
	snprintf(buf, size, "%d", id);
	return buf;
}

static int print_table(const struct elect_row *rows, size_t n)
{
	static const char *const headers[] = { "TOPIC",  "PARTITION", "PREFERRED-LEADER",
					       "LEADER", "RESULT",    "MESSAGE" };
	struct table t;
	int rv;

	table_init(&t, 6, headers);
	for (size_t i = 0; i < n; i++) {
		const struct elect_row *r = &rows[i];
		char pref[16];
		char leader[16];

		table_addf(&t, "%.*s\t%d\t%s\t%s\t%s\t%.*s", (int)r->topic.len, r->topic.ptr,
			   r->partition, node_cell(pref, sizeof pref, r->preferred),
			   node_cell(leader, sizeof leader, r->leader), row_result(r),
			   r->message.len > 0 ? (int)r->message.len : 0,
			   r->message.len > 0 ? r->message.ptr : "");
	}
	rv = table_print(&t, stdout);
	table_free(&t);
	return rv;
}

static int partitions_elect_leaders(int argc, char **argv)
{
	struct elect_args ea = { .topic = NULL, .partition = -1 };
	struct kafka_metadata_response md;
	struct elect_row *rows = NULL;
	struct admin_opts o;
	struct admin a;
	errmsg_t msg;
	size_t n = 0;
	int rv;

	rv = admin_parse_args("partitions elect-leaders",
			      "[--topic TOPIC [--partition P]] [--json]", argc, argv, &o, elect_opt,
			      &ea, NULL, 0);
	if (rv != 0)
		return admin_parsed_status(rv);
	if (ea.partition >= 0 && ea.topic == NULL) {
		fprintf(stderr,
			"sluice partitions elect-leaders: --partition needs --topic\n"
			"usage: sluice partitions elect-leaders [--topic TOPIC [--partition P]] "
			"[--json]\n");
		return CLI_EXIT_USAGE;
	}
	rv = admin_open(&a, &o, msg);
	if (rv == 0)
		rv = ea.topic != NULL ? admin_metadata(&a, &ea.topic, 1, &md, msg) :
					admin_metadata(&a, NULL, 0, &md, msg);
	if (rv == 0)
		rv = rows_build(&a, &ea, &md, &rows, &n, msg);
	if (rv == 0 && n > 0)
		rv = elect_send(&a, rows, n, msg);
	if (rv == 0)
		rv = elect_confirm(&a, &ea, rows, n, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);

	if (o.json)
		print_json(rows, n);
	else if (print_table(rows, n) != 0)
		return admin_finish(&a, SLUICE_ENOMEM, "out of memory");

	size_t failed = 0;
	const struct elect_row *first = NULL;
	for (size_t i = 0; i < n; i++) {
		if (row_ok(&rows[i]))
			continue;
		if (first == NULL)
			first = &rows[i];
		failed++;
	}
	if (first != NULL) {
		errmsg_printf(msg, "topic '%.*s' partition %d: %s", (int)first->topic.len,
			      first->topic.ptr, first->partition, row_result(first));
		if (first->message.len > 0)
			errmsg_printf(msg, "topic '%.*s' partition %d: %s (%.*s)",
				      (int)first->topic.len, first->topic.ptr, first->partition,
				      row_result(first), (int)first->message.len,
				      first->message.ptr);
		if (failed > 1) {
			size_t used = strlen(msg);

			snprintf(msg + used, ERRMSG_BYTES_MAX - used,
				 "; and %zu more partition(s) not led by their preferred replica",
				 failed - 1);
		}
		return admin_finish(&a, SLUICE_EIO, msg);
	}
	return admin_finish(&a, 0, msg);
}

/* ---- reassign ---- */

struct reassign_args {
	const char *topic;
	int64_t partition; /* -1 until given */
	const char *replicas;
};

static int reassign_opt(void *ctx, const char *cmd, int argc, char **argv, int *i)
{
	struct reassign_args *ra = ctx;
	const char *v;
	int rv;

	rv = admin_opt_value(cmd, "--topic", argc, argv, i, &v);
	if (rv > 0) {
		if (v[0] == '\0') {
			fprintf(stderr, "sluice %s: --topic needs a topic name\n", cmd);
			return -1;
		}
		ra->topic = v;
	}
	if (rv != 0)
		return rv;
	rv = admin_opt_value(cmd, "--partition", argc, argv, i, &v);
	if (rv > 0 && (!admin_parse_i64(v, &ra->partition) || ra->partition < 0 ||
		       ra->partition > INT32_MAX)) {
		fprintf(stderr, "sluice %s: --partition must be a partition number, not '%s'\n",
			cmd, v);
		return -1;
	}
	if (rv != 0)
		return rv;
	rv = admin_opt_value(cmd, "--replicas", argc, argv, i, &v);
	if (rv > 0)
		ra->replicas = v;
	return rv;
}

#define REASSIGN_USAGE "--topic TOPIC --partition P --replicas ID,ID,... [--json]"

static void print_moves_json(const struct reassign_move *moves, size_t n)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_key(&j, "partitions");
	reassign_json_moves(&j, moves, n);
	json_obj_end(&j);
	json_finish(&j);
}

static int partitions_reassign(int argc, char **argv)
{
	struct reassign_args ra = { .topic = NULL, .partition = -1, .replicas = NULL };
	struct kafka_metadata_response md;
	struct reassign_move *m;
	struct admin_opts o;
	struct admin a;
	errmsg_t msg;
	int rv;

	rv = admin_parse_args("partitions reassign", REASSIGN_USAGE, argc, argv, &o, reassign_opt,
			      &ra, NULL, 0);
	if (rv != 0)
		return admin_parsed_status(rv);
	if (ra.topic == NULL || ra.partition < 0 || ra.replicas == NULL) {
		fprintf(stderr,
			"sluice partitions reassign: --topic, --partition and --replicas are all "
			"needed\nusage: sluice partitions reassign " REASSIGN_USAGE "\n");
		return CLI_EXIT_USAGE;
	}
	m = calloc(1, sizeof *m);
	if (m == NULL) {
		admin_print_error("out of memory");
		return CLI_EXIT_FAILED;
	}
	m->n = reassign_parse_list(ra.replicas, m->replicas);
	if (m->n < 0) {
		fprintf(stderr,
			"sluice partitions reassign: --replicas must be 1 to %d node ids separated "
			"by commas, not '%s'\nusage: sluice partitions reassign " REASSIGN_USAGE
			"\n",
			REASSIGN_REPLICAS_MAX, ra.replicas);
		free(m);
		return CLI_EXIT_USAGE;
	}
	m->topic = kafka_str_c(ra.topic);
	m->partition = (int32_t)ra.partition;
	m->old_n = -1;
	rv = admin_open(&a, &o, msg);
	if (rv == 0)
		rv = admin_metadata(&a, &ra.topic, 1, &md, msg);
	if (rv == 0) {
		const md_topic *t = admin_md_topic(&md, m->topic);

		for (int32_t p = 0; t != NULL && p < t->partitions.n; p++) {
			const md_partition *mp = &t->partitions.v[p];

			if (mp->partition_index != m->partition)
				continue;
			m->old_n = mp->replica_nodes.n < REASSIGN_REPLICAS_MAX
					   ? mp->replica_nodes.n
					   : REASSIGN_REPLICAS_MAX;
			memcpy(m->old_replicas, mp->replica_nodes.v,
			       (size_t)m->old_n * sizeof m->old_replicas[0]);
		}
		/* An unknown topic or partition is sent anyway: the broker names the error. */
		rv = reassign_send(&a, m, 1, msg);
	}
	if (rv != 0) {
		free(m);
		return admin_finish(&a, rv, msg);
	}
	if (m->error == KAFKA_ERR_NONE)
		reassign_wait(&o, m, 1, -1, o.timeout_ms, NULL);
	if (o.json)
		print_moves_json(m, 1);
	else if (reassign_print_table(m, 1) != 0)
		rv = SLUICE_ENOMEM;
	if (rv != 0)
		errmsg_printf(msg, "out of memory");
	else if (reassign_failures(m, 1, msg) > 0)
		rv = SLUICE_EIO;
	free(m);
	return admin_finish(&a, rv, msg);
}

/* ---- reassignments ---- */

static void print_ongoing_json(const struct reassign_ongoing *v, size_t n)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_key(&j, "reassignments");
	json_arr_begin(&j);
	for (size_t i = 0; i < n; i++) {
		json_obj_begin(&j);
		json_key(&j, "topic");
		json_strn(&j, v[i].topic.ptr, v[i].topic.len);
		json_key(&j, "partition");
		json_int(&j, v[i].partition);
		json_key(&j, "replicas");
		json_arr_begin(&j);
		for (int32_t k = 0; k < v[i].nreplicas; k++)
			json_int(&j, v[i].replicas[k]);
		json_arr_end(&j);
		json_key(&j, "adding");
		json_arr_begin(&j);
		for (int32_t k = 0; k < v[i].nadding; k++)
			json_int(&j, v[i].adding[k]);
		json_arr_end(&j);
		json_key(&j, "removing");
		json_arr_begin(&j);
		for (int32_t k = 0; k < v[i].nremoving; k++)
			json_int(&j, v[i].removing[k]);
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

static int print_ongoing_table(const struct reassign_ongoing *v, size_t n)
{
	static const char *const headers[] = { "TOPIC", "PARTITION", "REPLICAS", "ADDING",
					       "REMOVING" };
	struct table t;
	int rv;

	if (n == 0) {
		printf("no partition reassignments in progress\n");
		return 0;
	}
	table_init(&t, 5, headers);
	for (size_t i = 0; i < n; i++) {
		char replicas[128];
		char adding[128];
		char removing[128];

		reassign_format_list(replicas, sizeof replicas, v[i].replicas, v[i].nreplicas);
		reassign_format_list(adding, sizeof adding, v[i].adding, v[i].nadding);
		reassign_format_list(removing, sizeof removing, v[i].removing, v[i].nremoving);
		table_addf(&t, "%.*s\t%d\t%s\t%s\t%s", (int)v[i].topic.len, v[i].topic.ptr,
			   v[i].partition, replicas, adding, removing);
	}
	rv = table_print(&t, stdout);
	table_free(&t);
	return rv;
}

static int partitions_reassignments(int argc, char **argv)
{
	struct kafka_metadata_response md;
	struct reassign_ongoing *v = NULL;
	struct admin_opts o;
	struct admin a;
	bool supported = false;
	errmsg_t msg;
	size_t n = 0;
	int rv;

	rv = admin_parse_args("partitions reassignments", "[--json]", argc, argv, &o, NULL, NULL,
			      NULL, 0);
	if (rv != 0)
		return admin_parsed_status(rv);
	rv = admin_open(&a, &o, msg);
	if (rv == 0)
		rv = admin_metadata(&a, NULL, 0, &md, msg);
	if (rv == 0)
		rv = reassign_list(&a, false, &v, &n, &supported, msg);
	if (rv == 0 && !supported) {
		errmsg_printf(msg, "no broker answered ListPartitionReassignments");
		rv = SLUICE_EVERSION;
	}
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	if (o.json)
		print_ongoing_json(v, n);
	else if (print_ongoing_table(v, n) != 0)
		return admin_finish(&a, SLUICE_ENOMEM, "out of memory");
	return admin_finish(&a, 0, msg);
}

static const struct cli_command partitions_commands[] = {
	{ "elect-leaders", "[--topic TOPIC [--partition P]] [--json]",
	  "move leadership to each partition's preferred replica (all partitions without --topic)",
	  partitions_elect_leaders },
	{ "reassign", REASSIGN_USAGE,
	  "give a partition a new replica list (the first is the preferred leader) and wait until "
	  "the move is done",
	  partitions_reassign },
	{ "reassignments", "[--json]", "list the partitions whose replicas are being moved",
	  partitions_reassignments },
};

int cli_partitions_main(int argc, char **argv)
{
	return cli_subcommand("partitions", partitions_commands,
			      sizeof partitions_commands / sizeof partitions_commands[0], argc,
			      argv);
}
