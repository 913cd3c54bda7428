/*
 * topics: `sluice topics list|describe|create|alter|delete`, spoken directly in the Kafka
 * protocol.
 *
 *   list      Metadata (all topics): name, partition count, replication factor.
 *   describe  Metadata (one topic): each partition's leader and replicas (the first is the
 *             preferred leader); ListOffsets twice (EARLIEST = log start offset, LATEST = high
 *             watermark) to each partition's leader, wherever it is in the cluster;
 *             DescribeConfigs v1 for the topic. A leader that cannot be reached, or a partition
 *             without one, costs only that partition's offsets (shown as the error), so the
 *             command still shows who leads what while a node is down.
 *   create    CreateTopics v2+; partitions and replication factor default to the broker's
 *             (-1, KIP-464) when the broker speaks v4+, else to 1.
 *   alter     --partitions N: CreatePartitions v0-3 (TimeoutMs = 4/5 of --timeout-ms: the
 *             broker answers once the new partitions have leaders, or with REQUEST_TIMED_OUT
 *             while we still listen); Metadata first, for the count before (only printed).
 *             --validate-only asks the broker to check without changing anything.
 *   delete    DeleteTopics v1+.
 *
 * Failure modes: a Kafka error for the topic is printed as "topic 'T': ERROR_NAME[ (message)]"
 * and exits 1; unreachable brokers and timeouts exit 1 with the connection's message; bad
 * arguments exit 2 before anything is sent.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/admin.h"
#include "cli/cli.h"
#include "cli/out.h"

#define DESCRIBE_CONFIGS_VERSION 1
#define CREATE_TOPICS_VERSION_MIN 2
#define CREATE_TOPICS_VERSION_MAX 7
#define CREATE_PARTITIONS_VERSION_MIN 0
#define CREATE_PARTITIONS_VERSION_MAX 3
/* `topics alter` gives the broker --timeout-ms minus a fifth to wait for leaders. */
#define ALTER_WAIT_MARGIN_DIVISOR 5
#define DELETE_TOPICS_VERSION_MIN 1
#define DELETE_TOPICS_VERSION_MAX 5
/* From CreateTopics v4 on, -1 asks for the broker's default (KIP-464). */
#define CREATE_TOPICS_DEFAULTS_VERSION_MIN 4
/* Configs one create may carry; far more than any topic has. */
#define CREATE_CONFIGS_MAX 64

typedef struct kafka_metadata_response_metadata_response_topic md_topic;
typedef struct kafka_metadata_response_metadata_response_partition md_partition;

/* Prints "topic 'T': ERROR (message)" into msg. */
static void topic_error(char *msg, struct kafka_str topic, int16_t code, struct kafka_str text)
{
	if (text.len > 0)
		errmsg_printf(msg, "topic '%.*s': %s (%.*s)", (int)topic.len, topic.ptr,
			      kafka_err_name(code), (int)text.len, text.ptr);
	else
		errmsg_printf(msg, "topic '%.*s': %s", (int)topic.len, topic.ptr,
			      kafka_err_name(code));
}

static int cmp_topic(const void *x, const void *y)
{
	const md_topic *a = *(const md_topic *const *)x;
	const md_topic *b = *(const md_topic *const *)y;
	int32_t n = a->name.len < b->name.len ? a->name.len : b->name.len;
	int c = n > 0 ? memcmp(a->name.ptr, b->name.ptr, (size_t)n) : 0;

	return c != 0 ? c : (a->name.len > b->name.len) - (a->name.len < b->name.len);
}

static int32_t replication_factor(const md_topic *t)
{
	return t->partitions.n > 0 ? t->partitions.v[0].replica_nodes.n : 0;
}

static int topics_list(int argc, char **argv)
{
	static const char *const headers[] = { "TOPIC", "PARTITIONS", "REPLICATION-FACTOR" };
	struct kafka_metadata_response md;
	struct admin_opts o;
	struct admin a;
	errmsg_t msg;
	const md_topic **sorted;
	int rv;

	rv = admin_parse_args("topics list", "[--json]", argc, argv, &o, NULL, NULL, NULL, 0);
	if (rv != 0)
		return admin_parsed_status(rv);
	rv = admin_open(&a, &o, msg);
	if (rv == 0)
		rv = admin_metadata(&a, NULL, 0, &md, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	sorted = admin_alloc(&a, ((size_t)md.topics.n + 1) * sizeof *sorted);
	if (sorted == NULL) {
		errmsg_printf(msg, "out of memory");
		return admin_finish(&a, SLUICE_ENOMEM, msg);
	}
	for (int32_t i = 0; i < md.topics.n; i++)
		sorted[i] = &md.topics.v[i];
	qsort(sorted, (size_t)md.topics.n, sizeof *sorted, cmp_topic);

	if (o.json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j);
		json_key(&j, "topics");
		json_arr_begin(&j);
		for (int32_t i = 0; i < md.topics.n; i++) {
			json_obj_begin(&j);
			json_key(&j, "name");
			json_strn(&j, sorted[i]->name.ptr, sorted[i]->name.len);
			json_key(&j, "partitions");
			json_int(&j, sorted[i]->partitions.n);
			json_key(&j, "replication_factor");
			json_int(&j, replication_factor(sorted[i]));
			json_key(&j, "internal");
			json_bool(&j, sorted[i]->is_internal);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		struct table t;

		table_init(&t, 3, headers);
		for (int32_t i = 0; i < md.topics.n; i++)
			table_addf(&t, "%.*s\t%d\t%d", (int)sorted[i]->name.len,
				   sorted[i]->name.ptr, sorted[i]->partitions.n,
				   replication_factor(sorted[i]));
		rv = table_print(&t, stdout);
		table_free(&t);
		if (rv != 0)
			errmsg_printf(msg, "out of memory");
	}
	return admin_finish(&a, rv, msg);
}

static const char *config_source_name(int8_t source)
{
	/* DescribeConfigsResponse.json ConfigSource. */
	static const char *const names[] = {
		"UNKNOWN",
		"DYNAMIC_TOPIC_CONFIG",
		"DYNAMIC_BROKER_CONFIG",
		"DYNAMIC_DEFAULT_BROKER_CONFIG",
		"STATIC_BROKER_CONFIG",
		"DEFAULT_CONFIG",
		"DYNAMIC_BROKER_LOGGER_CONFIG",
		"CLIENT_METRICS_CONFIG",
		"GROUP_CONFIG",
	};

	if (source < 0 || (size_t)source >= sizeof names / sizeof names[0])
		return "UNKNOWN";
	return names[source];
}

static void print_int_list(char *out, size_t size, const int32_t *v, int32_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (int32_t i = 0; i < n && used < size; i++) {
		int w = snprintf(out + used, size - used, "%s%d", i > 0 ? "," : "", v[i]);

		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static void json_int_list(struct json *j, const int32_t *v, int32_t n)
{
	json_arr_begin(j);
	for (int32_t i = 0; i < n; i++)
		json_int(j, v[i]);
	json_arr_end(j);
}

typedef struct kafka_describe_configs_response_describe_configs_resource_result config_entry;

static void describe_print_json(const md_topic *t, const struct admin_tp *tps,
				const config_entry *cfg, int32_t cfg_n)
{
	struct json j;
	int32_t np = t->partitions.n;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_key(&j, "name");
	json_strn(&j, t->name.ptr, t->name.len);
	json_key(&j, "internal");
	json_bool(&j, t->is_internal);
	json_key(&j, "partitions");
	json_arr_begin(&j);
	for (int32_t i = 0; i < np; i++) {
		const md_partition *p = &t->partitions.v[i];

		json_obj_begin(&j);
		json_key(&j, "partition");
		json_int(&j, p->partition_index);
		json_key(&j, "leader");
		json_int(&j, p->leader_id);
		json_key(&j, "replicas");
		json_int_list(&j, p->replica_nodes.v, p->replica_nodes.n);
		json_key(&j, "isr");
		json_int_list(&j, p->isr_nodes.v, p->isr_nodes.n);
		json_key(&j, "log_start_offset");
		if (tps[i].error == KAFKA_ERR_NONE)
			json_int(&j, tps[i].offset);
		else
			json_null(&j);
		json_key(&j, "high_watermark");
		if (tps[np + i].error == KAFKA_ERR_NONE)
			json_int(&j, tps[np + i].offset);
		else
			json_null(&j);
		if (p->error_code != KAFKA_ERR_NONE) {
			json_key(&j, "error");
			json_str(&j, kafka_err_name(p->error_code));
		}
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "configs");
	json_arr_begin(&j);
	for (int32_t i = 0; i < cfg_n; i++) {
		json_obj_begin(&j);
		json_key(&j, "name");
		json_strn(&j, cfg[i].name.ptr, cfg[i].name.len);
		json_key(&j, "value");
		json_strn(&j, cfg[i].value.ptr, cfg[i].value.len);
		json_key(&j, "source");
		json_str(&j, config_source_name(cfg[i].config_source));
		json_key(&j, "read_only");
		json_bool(&j, cfg[i].read_only);
		json_key(&j, "sensitive");
		json_bool(&j, cfg[i].is_sensitive);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

/* Writes an offset cell: the number, or the error's name when ListOffsets failed. */
static const char *offset_cell(char *buf, size_t size, const struct admin_tp *tp)
{
	if (tp->error != KAFKA_ERR_NONE)
		return kafka_err_name(tp->error);
	snprintf(buf, size, "%" PRId64, tp->offset);
	return buf;
}

static int describe_print_table(const md_topic *t, const struct admin_tp *tps,
				const config_entry *cfg, int32_t cfg_n)
{
	static const char *const pheaders[] = { "PARTITION", "LEADER",    "REPLICAS",
						"ISR",       "LOG-START", "HIGH-WATERMARK" };
	static const char *const cheaders[] = { "CONFIG", "VALUE", "SOURCE" };
	int32_t np = t->partitions.n;
	struct table pt;
	struct table ct;
	int rv;

	printf("Topic: %.*s  Partitions: %d  ReplicationFactor: %d%s\n\n", (int)t->name.len,
	       t->name.ptr, np, replication_factor(t), t->is_internal ? "  (internal)" : "");
	table_init(&pt, 6, pheaders);
	for (int32_t i = 0; i < np; i++) {
		const md_partition *p = &t->partitions.v[i];
		char leader[16];
		char replicas[256];
		char isr[256];
		char lso[32];
		char hw[32];

		if (p->leader_id >= 0)
			snprintf(leader, sizeof leader, "%d", p->leader_id);
		else
			snprintf(leader, sizeof leader, "none");
		print_int_list(replicas, sizeof replicas, p->replica_nodes.v, p->replica_nodes.n);
		print_int_list(isr, sizeof isr, p->isr_nodes.v, p->isr_nodes.n);
		table_addf(&pt, "%d\t%s\t%s\t%s\t%s\t%s", p->partition_index, leader, replicas, isr,
			   offset_cell(lso, sizeof lso, &tps[i]),
			   offset_cell(hw, sizeof hw, &tps[np + i]));
	}
	rv = table_print(&pt, stdout);
	table_free(&pt);

	printf("\n");
	table_init(&ct, 3, cheaders);
	for (int32_t i = 0; i < cfg_n; i++) {
		const config_entry *c = &cfg[i];

		if (c->value.len < 0)
			table_addf(&ct, "%.*s\t%s\t%s", (int)c->name.len, c->name.ptr,
				   c->is_sensitive ? "(sensitive)" : "(null)",
				   config_source_name(c->config_source));
		else
			table_addf(&ct, "%.*s\t%.*s\t%s", (int)c->name.len, c->name.ptr,
				   (int)c->value.len, c->value.ptr,
				   config_source_name(c->config_source));
	}
	if (table_print(&ct, stdout) != 0)
		rv = SLUICE_ENOMEM;
	table_free(&ct);
	return rv;
}

static int topics_describe(int argc, char **argv)
{
	struct kafka_metadata_response md;
	struct kafka_describe_configs_request dreq;
	struct kafka_describe_configs_response dresp;
	struct kafka_describe_configs_request_describe_configs_resource res;
	struct admin_opts o;
	struct admin a;
	errmsg_t msg;
	const char *name;
	const md_topic *t;
	struct admin_tp *tps;
	const config_entry *cfg = NULL;
	int32_t cfg_n = 0;
	int32_t np;
	int rv;

	rv = admin_parse_args("topics describe", "TOPIC [--json]", argc, argv, &o, NULL, NULL,
			      &name, 1);
	if (rv != 0)
		return admin_parsed_status(rv);
	rv = admin_open(&a, &o, msg);
	if (rv == 0)
		rv = admin_metadata(&a, &name, 1, &md, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	t = admin_md_topic(&md, kafka_str_c(name));
	if (t == NULL || t->error_code != KAFKA_ERR_NONE) {
		topic_error(msg, kafka_str_c(name),
			    t == NULL ? KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION : t->error_code,
			    kafka_str_null());
		return admin_finish(&a, SLUICE_ENOTFOUND, msg);
	}

	/* tps[0..np) ask for the log start offsets, tps[np..2np) for the high watermarks: one
	 * partition may appear only once per ListOffsets request, so the two go in turn. */
	np = t->partitions.n;
	tps = admin_alloc(&a, (2 * (size_t)np + 1) * sizeof *tps);
	if (tps == NULL) {
		errmsg_printf(msg, "out of memory");
		return admin_finish(&a, SLUICE_ENOMEM, msg);
	}
	for (int32_t i = 0; i < np; i++) {
		tps[i].topic = tps[np + i].topic = t->name;
		tps[i].partition = tps[np + i].partition = t->partitions.v[i].partition_index;
		tps[i].timestamp = ADMIN_OFFSET_EARLIEST;
		tps[np + i].timestamp = ADMIN_OFFSET_LATEST;
	}
	rv = admin_list_offsets_partial(&a, &md, tps, (size_t)np, msg);
	if (rv == 0)
		rv = admin_list_offsets_partial(&a, &md, tps + np, (size_t)np, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);

	kafka_struct_defaults(&kafka_describe_configs_request_desc, &dreq);
	kafka_struct_defaults(&kafka_describe_configs_request_describe_configs_resource_desc, &res);
	res.resource_type = ADMIN_RESOURCE_TOPIC;
	res.resource_name = t->name;
	res.configuration_keys.v = NULL;
	res.configuration_keys.n = -1; /* all of them */
	dreq.resources.v = &res;
	dreq.resources.n = 1;
	rv = client_call_range(admin_boot(&a), KAFKA_API_DESCRIBE_CONFIGS, DESCRIBE_CONFIGS_VERSION,
			       DESCRIBE_CONFIGS_VERSION, &dreq, &dresp, NULL, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	if (dresp.results.n != 1) {
		errmsg_printf(msg, "topic '%s': DescribeConfigs returned %d results for one topic",
			      name, dresp.results.n);
		return admin_finish(&a, SLUICE_EMALFORMED, msg);
	}
	if (dresp.results.v[0].error_code != KAFKA_ERR_NONE) {
		topic_error(msg, t->name, dresp.results.v[0].error_code,
			    dresp.results.v[0].error_message);
		return admin_finish(&a, SLUICE_EIO, msg);
	}
	cfg = dresp.results.v[0].configs.v;
	cfg_n = dresp.results.v[0].configs.n < 0 ? 0 : dresp.results.v[0].configs.n;

	if (o.json)
		describe_print_json(t, tps, cfg, cfg_n);
	else if (describe_print_table(t, tps, cfg, cfg_n) != 0)
		return admin_finish(&a, SLUICE_ENOMEM, "out of memory");
	return admin_finish(&a, 0, msg);
}

struct create_args {
	int64_t partitions;  /* -1 = broker default */
	int64_t replication; /* -1 = broker default */
	const char *configs[CREATE_CONFIGS_MAX];
	int configs_n;
};

static int create_opt(void *ctx, const char *cmd, int argc, char **argv, int *i)
{
	struct create_args *ca = ctx;
	const char *v;
	int rv;

	rv = admin_opt_value(cmd, "--partitions", argc, argv, i, &v);
	if (rv > 0 && (!admin_parse_i64(v, &ca->partitions) || ca->partitions < 1 ||
		       ca->partitions > INT32_MAX)) {
		fprintf(stderr, "sluice %s: --partitions must be a positive number, not '%s'\n",
			cmd, v);
		return -1;
	}
	if (rv != 0)
		return rv;
	rv = admin_opt_value(cmd, "--replication-factor", argc, argv, i, &v);
	if (rv > 0 && (!admin_parse_i64(v, &ca->replication) || ca->replication < 1 ||
		       ca->replication > INT16_MAX)) {
		fprintf(stderr,
			"sluice %s: --replication-factor must be a positive number, not '%s'\n",
			cmd, v);
		return -1;
	}
	if (rv != 0)
		return rv;
	rv = admin_opt_value(cmd, "--config", argc, argv, i, &v);
	if (rv > 0) {
		const char *eq = strchr(v, '=');

		if (eq == NULL || eq == v) {
			fprintf(stderr, "sluice %s: --config takes KEY=VALUE, not '%s'\n", cmd, v);
			return -1;
		}
		if (ca->configs_n == CREATE_CONFIGS_MAX) {
			fprintf(stderr, "sluice %s: at most %d --config options\n", cmd,
				CREATE_CONFIGS_MAX);
			return -1;
		}
		ca->configs[ca->configs_n++] = v;
	}
	return rv;
}

static int topics_create(int argc, char **argv)
{
	struct create_args ca = { .partitions = -1, .replication = -1 };
	struct kafka_create_topics_request req;
	struct kafka_create_topics_response resp;
	struct kafka_create_topics_request_creatable_topic ct;
	struct kafka_create_topics_request_creatable_topic_config cfg[CREATE_CONFIGS_MAX];
	const struct kafka_create_topics_response_creatable_topic_result *r;
	struct admin_opts o;
	struct admin a;
	errmsg_t msg;
	const char *name;
	int v;
	int rv;

	rv = admin_parse_args("topics create",
			      "TOPIC [--partitions N] [--replication-factor R] [--config K=V ...] "
			      "[--json]",
			      argc, argv, &o, create_opt, &ca, &name, 1);
	if (rv != 0)
		return admin_parsed_status(rv);
	rv = admin_open(&a, &o, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	v = client_version(admin_boot(&a), KAFKA_API_CREATE_TOPICS, CREATE_TOPICS_VERSION_MIN,
			   CREATE_TOPICS_VERSION_MAX);
	if (v >= 0 && v < CREATE_TOPICS_DEFAULTS_VERSION_MIN) {
		/* Brokers before KIP-464 need explicit numbers; 1 is what they default to. */
		if (ca.partitions < 0)
			ca.partitions = 1;
		if (ca.replication < 0)
			ca.replication = 1;
	}

	kafka_struct_defaults(&kafka_create_topics_request_desc, &req);
	kafka_struct_defaults(&kafka_create_topics_request_creatable_topic_desc, &ct);
	ct.name = kafka_str_c(name);
	ct.num_partitions = (int32_t)ca.partitions;
	ct.replication_factor = (int16_t)ca.replication;
	ct.assignments.v = NULL;
	ct.assignments.n = 0;
	for (int i = 0; i < ca.configs_n; i++) {
		const char *eq = strchr(ca.configs[i], '=');

		kafka_struct_defaults(&kafka_create_topics_request_creatable_topic_config_desc,
				      &cfg[i]);
		cfg[i].name = (struct kafka_str){ ca.configs[i], (int32_t)(eq - ca.configs[i]) };
		cfg[i].value = kafka_str_c(eq + 1);
	}
	ct.configs.v = cfg;
	ct.configs.n = ca.configs_n;
	req.topics.v = &ct;
	req.topics.n = 1;
	req.timeout_ms = o.timeout_ms;
	rv = client_call_range(admin_boot(&a), KAFKA_API_CREATE_TOPICS, CREATE_TOPICS_VERSION_MIN,
			       CREATE_TOPICS_VERSION_MAX, &req, &resp, NULL, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	if (resp.topics.n != 1) {
		errmsg_printf(msg, "topic '%s': CreateTopics returned %d results for one topic",
			      name, resp.topics.n);
		return admin_finish(&a, SLUICE_EMALFORMED, msg);
	}
	r = &resp.topics.v[0];
	if (r->error_code != KAFKA_ERR_NONE) {
		topic_error(msg, ct.name, r->error_code, r->error_message);
		return admin_finish(&a, SLUICE_EIO, msg);
	}
	/* v5+ reports what was created; older versions leave -1 and we report what we asked. */
	int32_t parts = r->num_partitions > 0 ? r->num_partitions : (int32_t)ca.partitions;
	int32_t rf = r->replication_factor > 0 ? r->replication_factor : (int32_t)ca.replication;

	if (parts <= 0 || rf <= 0) {
		/* The broker chose (v4 with -1); ask it what it chose. Failing to learn it does
		 * not undo the creation, so the numbers are then reported unknown. */
		struct kafka_metadata_response md;
		const md_topic *t;

		if (admin_metadata(&a, &name, 1, &md, msg) == 0 &&
		    (t = admin_md_topic(&md, ct.name)) != NULL && t->error_code == KAFKA_ERR_NONE) {
			parts = t->partitions.n;
			rf = replication_factor(t);
		}
	}

	if (o.json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j);
		json_key(&j, "created");
		json_str(&j, name);
		json_key(&j, "partitions");
		json_int(&j, parts);
		json_key(&j, "replication_factor");
		json_int(&j, rf);
		json_obj_end(&j);
		json_finish(&j);
	} else if (parts > 0 && rf > 0) {
		printf("created topic '%s': %d partition(s), replication factor %d\n", name, parts,
		       rf);
	} else {
		printf("created topic '%s' (broker defaults)\n", name);
	}
	return admin_finish(&a, 0, msg);
}

struct alter_args {
	int64_t partitions; /* -1 until --partitions is given */
	bool validate_only;
};

static int alter_opt(void *ctx, const char *cmd, int argc, char **argv, int *i)
{
	struct alter_args *aa = ctx;
	const char *v;
	int rv;

	if (strcmp(argv[*i], "--validate-only") == 0) {
		aa->validate_only = true;
		return 1;
	}
	rv = admin_opt_value(cmd, "--partitions", argc, argv, i, &v);
	if (rv > 0 && (!admin_parse_i64(v, &aa->partitions) || aa->partitions < 1 ||
		       aa->partitions > INT32_MAX)) {
		fprintf(stderr, "sluice %s: --partitions must be a positive number, not '%s'\n",
			cmd, v);
		return -1;
	}
	return rv;
}

/* `topics alter TOPIC --partitions N`: grows the topic to N partitions, as
 * `kafka-topics.sh --alter --partitions N` does. Kafka topics never shrink: the broker answers
 * INVALID_PARTITIONS for N at or below the current count, which is printed like any refusal. */
static int topics_alter(int argc, char **argv)
{
	struct alter_args aa = { .partitions = -1 };
	struct kafka_create_partitions_request req;
	struct kafka_create_partitions_response resp;
	struct kafka_create_partitions_request_create_partitions_topic ct;
	const struct kafka_create_partitions_response_create_partitions_topic_result *r;
	struct kafka_metadata_response md;
	const md_topic *t;
	struct admin_opts o;
	struct admin a;
	errmsg_t msg;
	const char *name;
	int32_t before = -1;
	int rv;

	rv = admin_parse_args("topics alter", "TOPIC --partitions N [--validate-only] [--json]",
			      argc, argv, &o, alter_opt, &aa, &name, 1);
	if (rv != 0)
		return admin_parsed_status(rv);
	if (aa.partitions < 0) {
		fprintf(stderr, "sluice topics alter: say what to change: --partitions N\n");
		return CLI_EXIT_USAGE;
	}
	rv = admin_open(&a, &o, msg);
	if (rv == 0)
		rv = admin_metadata(&a, &name, 1, &md, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	/* The count before, for the report only: the broker checks the request against its own
	 * view (and names an unknown topic itself). */
	t = admin_md_topic(&md, kafka_str_c(name));
	if (t != NULL && t->error_code == KAFKA_ERR_NONE)
		before = t->partitions.n;

	kafka_struct_defaults(&kafka_create_partitions_request_desc, &req);
	kafka_struct_defaults(&kafka_create_partitions_request_create_partitions_topic_desc, &ct);
	ct.name = kafka_str_c(name);
	ct.count = (int32_t)aa.partitions;
	ct.assignments.v = NULL;
	ct.assignments.n = -1; /* null: the controller places the new replicas */
	req.topics.v = &ct;
	req.topics.n = 1;
	/* The broker's wait for the new leaders ends before ours, so that its REQUEST_TIMED_OUT
	 * (the partitions exist, leaders are still being elected) reaches us. */
	req.timeout_ms = o.timeout_ms - o.timeout_ms / ALTER_WAIT_MARGIN_DIVISOR;
	req.validate_only = aa.validate_only;
	rv = client_call_range(admin_boot(&a), KAFKA_API_CREATE_PARTITIONS,
			       CREATE_PARTITIONS_VERSION_MIN, CREATE_PARTITIONS_VERSION_MAX, &req,
			       &resp, NULL, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	if (resp.results.n != 1) {
		errmsg_printf(msg, "topic '%s': CreatePartitions returned %d results for one topic",
			      name, resp.results.n);
		return admin_finish(&a, SLUICE_EMALFORMED, msg);
	}
	r = &resp.results.v[0];
	if (r->error_code != KAFKA_ERR_NONE) {
		topic_error(msg, ct.name, r->error_code, r->error_message);
		return admin_finish(&a, SLUICE_EIO, msg);
	}

	if (o.json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j);
		json_key(&j, "topic");
		json_str(&j, name);
		json_key(&j, "partitions");
		json_int(&j, ct.count);
		json_key(&j, "previous_partitions");
		if (before >= 0)
			json_int(&j, before);
		else
			json_null(&j);
		json_key(&j, "validate_only");
		json_bool(&j, aa.validate_only);
		json_obj_end(&j);
		json_finish(&j);
	} else if (aa.validate_only) {
		printf("topic '%s' can grow to %d partition(s); nothing changed (--validate-only)\n",
		       name, ct.count);
	} else if (before >= 0) {
		printf("topic '%s': %d partition(s), was %d\n", name, ct.count, before);
	} else {
		printf("topic '%s': %d partition(s)\n", name, ct.count);
	}
	return admin_finish(&a, 0, msg);
}

static int topics_delete(int argc, char **argv)
{
	struct kafka_delete_topics_request req;
	struct kafka_delete_topics_response resp;
	struct kafka_str topic;
	struct admin_opts o;
	struct admin a;
	errmsg_t msg;
	const char *name;
	const struct kafka_delete_topics_response_deletable_topic_result *r;
	int rv;

	rv = admin_parse_args("topics delete", "TOPIC [--json]", argc, argv, &o, NULL, NULL, &name,
			      1);
	if (rv != 0)
		return admin_parsed_status(rv);
	rv = admin_open(&a, &o, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	topic = kafka_str_c(name);
	kafka_struct_defaults(&kafka_delete_topics_request_desc, &req);
	req.topic_names.v = &topic;
	req.topic_names.n = 1;
	req.timeout_ms = o.timeout_ms;
	rv = client_call_range(admin_boot(&a), KAFKA_API_DELETE_TOPICS, DELETE_TOPICS_VERSION_MIN,
			       DELETE_TOPICS_VERSION_MAX, &req, &resp, NULL, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	if (resp.responses.n != 1) {
		errmsg_printf(msg, "topic '%s': DeleteTopics returned %d results for one topic",
			      name, resp.responses.n);
		return admin_finish(&a, SLUICE_EMALFORMED, msg);
	}
	r = &resp.responses.v[0];
	if (r->error_code != KAFKA_ERR_NONE) {
		topic_error(msg, topic, r->error_code, r->error_message);
		return admin_finish(&a, SLUICE_EIO, msg);
	}
	admin_print_deleted(o.json, "topic", name);
	return admin_finish(&a, 0, msg);
}

static const struct cli_command topics_commands[] = {
	{ "list", "[--json]", "list the topics", topics_list },
	{ "describe", "TOPIC [--json]",
	  "partitions, leaders, replicas, offsets and configs of a topic", topics_describe },
	{ "create", "TOPIC [--partitions N] [--replication-factor R] [--config K=V ...]",
	  "create a topic", topics_create },
	{ "alter", "TOPIC --partitions N [--validate-only]",
	  "add partitions to a topic (never removes any)", topics_alter },
	{ "delete", "TOPIC", "delete a topic", topics_delete },
};

int cli_topics_main(int argc, char **argv)
{
	return cli_subcommand("topics", topics_commands,
			      sizeof topics_commands / sizeof topics_commands[0], argc, argv);
}
