/*
 * sluice-bench: an end-to-end load generator built on librdkafka, plus the two raw baselines that
 * scripts/bench divides the broker's figures by (fsync'd disk writes and loopback TCP).
 *
 * Modes:
 *   produce   sends --count N messages (or for --seconds S) of --size bytes to one topic, flat
 *             out or at --rate msg/s, and reports msg/s, MB/s and the produce-to-ack latency
 *             p50/p99/p99.9 (from the moment produce() was called, or from the message's
 *             scheduled time when --rate is given, so a stalled broker cannot hide its backlog;
 *             to the delivery report).
 *   consume   assigns every partition of the topic at the beginning (no consumer group) and
 *             reads --count N messages; reports msg/s and MB/s from the first message to the
 *             last.
 *   e2e       produce and consume at once in one process; the payload carries a run id and the
 *             send time, so the consumer reports end-to-end latency as well.
 *   create    creates topics (a comma-separated --topic list; --partitions, --replication-factor,
 *             --topic-config) and waits until every partition has a leader; reports how long
 *             each step took; with --wait-preferred S, then waits up to S seconds until every
 *             partition is led by its preferred (first) replica. scripts/bench uses it to set
 *             up the 3-node cases' topics and the partitions of its idle-cost measurement.
 *   disk      sequential write + fdatasync of --block bytes at a time into a plain file: the
 *             disk's fsync'd write bandwidth at that block size.
 *   loopback  a TCP socket pump over 127.0.0.1 (one writer thread, one reader): the bandwidth
 *             that a consumer on this machine could at most be fed.
 *
 * Every mode prints one human line and then one machine line of key=value pairs that starts
 * with `mode=`. MB/s is 10^6 bytes of payload (message values) per second. Latencies come from a
 * log-linear histogram whose buckets are at most 1/64 (1.6%) wide.
 *
 * Failure handling:
 *   1. Every wait has a deadline: topic creation (--timeout), flush (--timeout after the last
 *      send), consumption (--timeout in all), the socket pump and the disk writer (--seconds).
 *   2. A delivery error or a missed deadline is reported (errors=, timed_out=1) and makes the exit
 *      status 1, so a script never mistakes a failed run for a fast one.
 *   3. A topic that already exists is used as it is.
 *   4. CreateTopics is retried, until --timeout, while it fails with an error that a cluster
 *      still starting gives (no controller yet, too few brokers registered for the replication
 *      factor, a timeout); any other error fails at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Time in nanoseconds on the monotonic clock. */
typedef int64_t bench_ns_t;

#define NS_PER_MS ((bench_ns_t)1000000)
#define NS_PER_S ((bench_ns_t)1000000000)

/* The payload header that e2e mode writes: magic, run id, send time. */
#define PAYLOAD_MAGIC 0x534c4254u /* "SLBT" */
#define PAYLOAD_HEADER_BYTES 16

/* Histogram: values below 128 us have a bucket each; above, 64 buckets per power of two. */
#define HIST_SUB_BUCKETS 64
#define HIST_EXPONENTS_MAX 40 /* 2^46 us: far beyond any deadline */
#define HIST_BUCKETS (2 * HIST_SUB_BUCKETS + HIST_EXPONENTS_MAX * HIST_SUB_BUCKETS)

#define SIZE_BYTES_MAX (64u << 20)  /* a message larger than this is not a benchmark */
#define CONSUME_BATCH_MAX 1024      /* messages taken from librdkafka per call */
#define PUMP_BLOCK_BYTES (1u << 20) /* one write() of the socket pump */
#define POLL_SLICE_MS 100           /* longest single wait inside a bounded loop */
#define CREATE_RETRY_MS 250         /* pause between CreateTopics attempts of a starting cluster */
#define TOPIC_CONFIGS_MAX 16        /* --topic-config pairs: a benchmark sets one or two */

struct hist {
	uint64_t counts[HIST_BUCKETS];
	uint64_t total;
	uint64_t max_us;
};

static bench_ns_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (bench_ns_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sluice-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static int msb(uint64_t v)
{
	return 63 - __builtin_clzll(v);
}

static int hist_bucket(uint64_t us)
{
	if (us < 2 * HIST_SUB_BUCKETS)
		return (int)us;
	int shift = msb(us) - 6; /* leaves a mantissa in [64, 128) */
	int b = 2 * HIST_SUB_BUCKETS + (shift - 1) * HIST_SUB_BUCKETS +
		(int)((us >> shift) - HIST_SUB_BUCKETS);
	return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

/* The highest value that falls into bucket `b`, in microseconds. */
static uint64_t hist_bucket_top(int b)
{
	if (b < 2 * HIST_SUB_BUCKETS)
		return (uint64_t)b;
	int shift = (b - 2 * HIST_SUB_BUCKETS) / HIST_SUB_BUCKETS + 1;
	uint64_t mantissa = (uint64_t)((b - 2 * HIST_SUB_BUCKETS) % HIST_SUB_BUCKETS) +
			    HIST_SUB_BUCKETS;
	return ((mantissa + 1) << shift) - 1;
}

static void hist_add(struct hist *h, bench_ns_t ns)
{
	uint64_t us = ns > 0 ? (uint64_t)(ns / 1000) : 0;
	h->counts[hist_bucket(us)]++;
	h->total++;
	if (us > h->max_us)
		h->max_us = us;
}

/* Returns the value at quantile q (0..1) in milliseconds, or 0 for an empty histogram. */
static double hist_quantile_ms(const struct hist *h, double q)
{
	if (h->total == 0)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)h->total + 0.5);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (int b = 0; b < HIST_BUCKETS; b++) {
		seen += h->counts[b];
		if (seen >= rank) {
			uint64_t top = hist_bucket_top(b);
			return (double)(top < h->max_us ? top : h->max_us) / 1000.0;
		}
	}
	return (double)h->max_us / 1000.0;
}

/* ------------------------------------------------------------------------------------------ */
/* Options */

struct opts {
	const char *mode;
	const char *bootstrap;
	const char *topic;
	const char *compression;
	const char *acks;
	const char *dir;
	const char *label;
	size_t size_bytes;
	size_t block_bytes;
	uint64_t count;
	double seconds;
	double rate_per_s;
	double timeout_s;
	double mb;
	double preferred_wait_s; /* create: wait for preferred leaders, at most this long */
	int inflight;
	int partitions;
	int replication_factor; /* -1: the broker's default.replication.factor */
	int linger_ms;
	bool create;
	int topic_configs;
	const char *topic_config[TOPIC_CONFIGS_MAX]; /* "key=value", as given */
};

static void usage(FILE *f)
{
	fputs("usage:\n"
	      "  sluice-bench produce --bootstrap H:P --topic T --size BYTES (--count N | --seconds S)\n"
	      "               [--acks 0|1|all] [--rate MSG/S] [--inflight N] [--compression X]\n"
	      "               [--linger-ms MS] [--partitions N] [--replication-factor N]\n"
	      "               [--topic-config K=V]... [--no-create] [--timeout S]\n"
	      "  sluice-bench create --bootstrap H:P --topic T[,T...] [--partitions N]\n"
	      "               [--replication-factor N] [--topic-config K=V]... [--timeout S]\n"
	      "               [--wait-preferred S]\n"
	      "  sluice-bench consume --bootstrap H:P --topic T --count N [--timeout S]\n"
	      "  sluice-bench e2e --bootstrap H:P --topic T --size BYTES (--count N | --seconds S)\n"
	      "               [produce options]\n"
	      "  sluice-bench disk --dir DIR --block BYTES [--mb N] [--seconds S]\n"
	      "  sluice-bench loopback [--mb N] [--seconds S]\n"
	      "Common: --label NAME (copied into the machine line as name=NAME).\n"
	      "Each mode prints a human line, then one 'mode=... key=value' line.\n",
	      f);
}

static const char *need_arg(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		die("%s needs a value", argv[*i]);
	return argv[++*i];
}

static double parse_double(const char *name, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		die("%s: not a non-negative number: '%s'", name, s);
	return v;
}

static uint64_t parse_u64(const char *name, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		die("%s: not a non-negative integer: '%s'", name, s);
	return (uint64_t)v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .acks = "all",
			    .compression = "none",
			    .inflight = 5,
			    .partitions = 1,
			    .replication_factor = 1,
			    .linger_ms = 5,
			    .timeout_s = 60,
			    .create = true,
			    .dir = "." };
	if (argc < 2) {
		usage(stderr);
		exit(2);
	}
	o->mode = argv[1];
	if (strcmp(o->mode, "-h") == 0 || strcmp(o->mode, "--help") == 0) {
		usage(stdout);
		exit(0);
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--bootstrap") == 0)
			o->bootstrap = need_arg(argc, argv, &i);
		else if (strcmp(a, "--topic") == 0)
			o->topic = need_arg(argc, argv, &i);
		else if (strcmp(a, "--size") == 0)
			o->size_bytes = (size_t)parse_u64(a, need_arg(argc, argv, &i));
		else if (strcmp(a, "--block") == 0)
			o->block_bytes = (size_t)parse_u64(a, need_arg(argc, argv, &i));
		else if (strcmp(a, "--count") == 0)
			o->count = parse_u64(a, need_arg(argc, argv, &i));
		else if (strcmp(a, "--seconds") == 0)
			o->seconds = parse_double(a, need_arg(argc, argv, &i));
		else if (strcmp(a, "--rate") == 0)
			o->rate_per_s = parse_double(a, need_arg(argc, argv, &i));
		else if (strcmp(a, "--timeout") == 0)
			o->timeout_s = parse_double(a, need_arg(argc, argv, &i));
		else if (strcmp(a, "--wait-preferred") == 0)
			o->preferred_wait_s = parse_double(a, need_arg(argc, argv, &i));
		else if (strcmp(a, "--mb") == 0)
			o->mb = parse_double(a, need_arg(argc, argv, &i));
		else if (strcmp(a, "--inflight") == 0)
			o->inflight = (int)parse_u64(a, need_arg(argc, argv, &i));
		else if (strcmp(a, "--partitions") == 0)
			o->partitions = (int)parse_u64(a, need_arg(argc, argv, &i));
		else if (strcmp(a, "--replication-factor") == 0) {
			const char *v = need_arg(argc, argv, &i);
			o->replication_factor = strcmp(v, "-1") == 0 ? -1 : (int)parse_u64(a, v);
		} else if (strcmp(a, "--topic-config") == 0) {
			const char *v = need_arg(argc, argv, &i);
			if (o->topic_configs == TOPIC_CONFIGS_MAX)
				die("at most %d --topic-config", TOPIC_CONFIGS_MAX);
			if (strchr(v, '=') == NULL || v[0] == '=')
				die("--topic-config: not KEY=VALUE: '%s'", v);
			o->topic_config[o->topic_configs++] = v;
		} else if (strcmp(a, "--linger-ms") == 0)
			o->linger_ms = (int)parse_u64(a, need_arg(argc, argv, &i));
		else if (strcmp(a, "--acks") == 0)
			o->acks = need_arg(argc, argv, &i);
		else if (strcmp(a, "--compression") == 0)
			o->compression = need_arg(argc, argv, &i);
		else if (strcmp(a, "--dir") == 0)
			o->dir = need_arg(argc, argv, &i);
		else if (strcmp(a, "--label") == 0)
			o->label = need_arg(argc, argv, &i);
		else if (strcmp(a, "--no-create") == 0)
			o->create = false;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		} else
			die("unknown option '%s' (see --help)", a);
	}
	if (strcmp(o->acks, "0") != 0 && strcmp(o->acks, "1") != 0 && strcmp(o->acks, "all") != 0 &&
	    strcmp(o->acks, "-1") != 0)
		die("--acks must be 0, 1 or all");
	if (o->inflight < 1 || o->inflight > 1000)
		die("--inflight must be 1..1000");
	if (o->partitions < 1 || o->partitions > 10000)
		die("--partitions must be 1..10000");
	if (o->replication_factor != -1 &&
	    (o->replication_factor < 1 || o->replication_factor > 32767))
		die("--replication-factor must be 1..32767, or -1 for the broker's default");
	if (o->size_bytes > SIZE_BYTES_MAX)
		die("--size at most %u", SIZE_BYTES_MAX);
	if (o->timeout_s <= 0)
		die("--timeout must be positive");
}

static void need_broker_opts(const struct opts *o)
{
	if (o->bootstrap == NULL || o->topic == NULL)
		die("%s needs --bootstrap and --topic", o->mode);
}

/* Prints the label part of a machine line, if any. */
static void print_label(const struct opts *o)
{
	if (o->label != NULL)
		printf(" name=%s", o->label);
}

/* ------------------------------------------------------------------------------------------ */
/* librdkafka helpers */

static void conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char err[512];
	if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK)
		die("config %s=%s: %s", k, v, err);
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	/* Warnings and worse only: a benchmark's output is its two lines. */
	if (level <= 4)
		fprintf(stderr, "librdkafka %s: %s\n", fac, buf);
}

static rd_kafka_conf_t *base_conf(const struct opts *o)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	conf_set(conf, "bootstrap.servers", o->bootstrap);
	conf_set(conf, "client.id", "sluice-bench");
	rd_kafka_conf_set_log_cb(conf, log_cb);
	return conf;
}

/* True for the CreateTopics errors of a cluster that is still starting: worth another try. */
static bool create_error_transient(rd_kafka_resp_err_t e)
{
	switch (e) {
	case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
	case RD_KAFKA_RESP_ERR_NOT_CONTROLLER:
	case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR: /* brokers not all registered yet */
	case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
	case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
	case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
	case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
	case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
	case RD_KAFKA_RESP_ERR__TIMED_OUT:
	case RD_KAFKA_RESP_ERR__TRANSPORT:
	case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
		return true;
	default:
		return false;
	}
}

/*
 * One CreateTopics request for `o->topic`. Returns NO_ERROR when the topic exists afterwards
 * (created now or before), else the error, whose text is copied into `why` (an output).
 */
static rd_kafka_resp_err_t create_topic_once(rd_kafka_t *rk, const struct opts *o, int timeout_ms,
					     char *why, size_t why_bytes)
{
	char err[512];
	rd_kafka_resp_err_t rv = RD_KAFKA_RESP_ERR__TIMED_OUT;
	rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(o->topic, o->partitions,
							o->replication_factor, err, sizeof err);
	if (nt == NULL)
		die("topic %s: %s", o->topic, err);
	for (int i = 0; i < o->topic_configs; i++) {
		char key[256];
		const char *eq = strchr(o->topic_config[i], '=');
		snprintf(key, sizeof key, "%.*s", (int)(eq - o->topic_config[i]),
			 o->topic_config[i]);
		if (rd_kafka_NewTopic_set_config(nt, key, eq + 1) != RD_KAFKA_RESP_ERR_NO_ERROR)
			die("--topic-config %s: refused by librdkafka", o->topic_config[i]);
	}
	rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms, err, sizeof err);
	rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms, err, sizeof err);
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, ao, q);

	/* The request has its own timeout; this deadline is the backstop. */
	snprintf(why, why_bytes, "no answer in %d ms", timeout_ms);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
	if (ev == NULL)
		goto out;
	rv = rd_kafka_event_error(ev);
	if (rv != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(why, why_bytes, "%s", rd_kafka_event_error_string(ev));
		goto out_event;
	}
	const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
	size_t n = 0;
	const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
	for (size_t i = 0; i < n; i++) {
		rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
		if (e != RD_KAFKA_RESP_ERR_NO_ERROR &&
		    e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
			const char *msg = rd_kafka_topic_result_error_string(tr[i]);
			snprintf(why, why_bytes, "%s%s%s", rd_kafka_err2str(e),
				 msg != NULL ? ": " : "", msg != NULL ? msg : "");
			rv = e;
		}
	}
out_event:
	rd_kafka_event_destroy(ev);
out:
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(ao);
	rd_kafka_NewTopic_destroy(nt);
	return rv;
}

/*
 * Creates the topic with the admin API, retrying the errors of a cluster that is still starting,
 * for at most `timeout_s` in all. Returns 0 when the topic exists afterwards (created now or
 * before), -1 otherwise (with a message on stderr).
 */
static int create_topic(rd_kafka_t *rk, const struct opts *o, double timeout_s)
{
	char why[512];
	bench_ns_t deadline = now_ns() + (bench_ns_t)(timeout_s * 1e9);
	int attempts = 0;
	for (;;) {
		int left_ms = (int)((deadline - now_ns()) / NS_PER_MS);
		rd_kafka_resp_err_t e = create_topic_once(rk, o, left_ms > 1000 ? left_ms : 1000,
							  why, sizeof why);
		attempts++;
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
			return 0;
		if (!create_error_transient(e) ||
		    now_ns() + CREATE_RETRY_MS * NS_PER_MS >= deadline)
			break;
		usleep(CREATE_RETRY_MS * 1000);
	}
	fprintf(stderr,
		"sluice-bench: CreateTopics %s (%d partitions, replication factor %d): %s "
		"(%d attempt%s in %.0f s)\n",
		o->topic, o->partitions, o->replication_factor, why, attempts,
		attempts == 1 ? "" : "s", timeout_s);
	return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Consumer side (consume and e2e) */

struct consume_state {
	const struct opts *o;
	uint32_t run_id;        /* e2e: count only this run's messages; 0 = count all */
	uint64_t want;          /* stop after this many; 0 = until *stop */
	volatile bool *stop;    /* e2e: set by the producer when it has given up waiting */
	bench_ns_t deadline_ns; /* hard stop */
	/* results */
	uint64_t msgs;
	uint64_t bytes;
	uint64_t errors;
	bench_ns_t first_ns, last_ns;
	bool timed_out;
	struct hist e2e;
	int rv;
};

/* Returns the partition count of `topic` from metadata, or -1. */
static int partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	int n = -1;
	if (rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
			n = md->topics[0].partition_cnt;
		else if (md->topic_cnt == 1)
			fprintf(stderr, "sluice-bench: metadata %s: %s\n", topic,
				rd_kafka_err2str(md->topics[0].err));
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_topic_destroy(rkt);
	return n;
}

static void consume_run(struct consume_state *s)
{
	const struct opts *o = s->o;
	char err[512];
	rd_kafka_conf_t *conf = base_conf(o);
	/* assign() needs a group handle in librdkafka, but nothing here joins or commits. */
	conf_set(conf, "group.id", "sluice-bench");
	conf_set(conf, "enable.auto.commit", "false");
	conf_set(conf, "enable.auto.offset.store", "false");
	conf_set(conf, "auto.offset.reset", "earliest");
	if (strcmp(o->mode, "e2e") == 0)
		conf_set(conf, "fetch.wait.max.ms", "10");
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
	if (rk == NULL)
		die("consumer: %s", err);
	rd_kafka_poll_set_consumer(rk);

	s->rv = 1;
	int remaining_ms = (int)((s->deadline_ns - now_ns()) / NS_PER_MS);
	int parts = partition_count(rk, o->topic, remaining_ms > 0 ? remaining_ms : 1);
	if (parts < 1) {
		fprintf(stderr, "sluice-bench: topic %s: no partitions found\n", o->topic);
		goto out;
	}
	rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(parts);
	for (int p = 0; p < parts; p++)
		rd_kafka_topic_partition_list_add(tl, o->topic, p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_resp_err_t e = rd_kafka_assign(rk, tl);
	rd_kafka_topic_partition_list_destroy(tl);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "sluice-bench: assign: %s\n", rd_kafka_err2str(e));
		goto out;
	}

	rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
	rd_kafka_message_t *batch[CONSUME_BATCH_MAX];
	while (s->want == 0 || s->msgs < s->want) {
		bench_ns_t now = now_ns();
		if (now >= s->deadline_ns) {
			s->timed_out = true;
			break;
		}
		if (s->stop != NULL && *s->stop)
			break;
		int wait_ms = (int)((s->deadline_ns - now) / NS_PER_MS);
		if (wait_ms > POLL_SLICE_MS)
			wait_ms = POLL_SLICE_MS;
		ssize_t n = rd_kafka_consume_batch_queue(q, wait_ms, batch, CONSUME_BATCH_MAX);
		if (n < 0) {
			fprintf(stderr, "sluice-bench: consume: %s\n",
				rd_kafka_err2str(rd_kafka_last_error()));
			break;
		}
		bench_ns_t t = now_ns();
		for (ssize_t i = 0; i < n; i++) {
			rd_kafka_message_t *m = batch[i];
			if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
				/* not enabled, but harmless */
			} else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
				fprintf(stderr, "sluice-bench: consume: %s\n",
					rd_kafka_message_errstr(m));
				s->errors++;
			} else if (s->run_id != 0) {
				uint32_t magic, id;
				int64_t sent;
				if (m->len >= PAYLOAD_HEADER_BYTES) {
					memcpy(&magic, m->payload, 4);
					memcpy(&id, (char *)m->payload + 4, 4);
					memcpy(&sent, (char *)m->payload + 8, 8);
					if (magic == PAYLOAD_MAGIC && id == s->run_id) {
						if (s->msgs == 0)
							s->first_ns = t;
						s->msgs++;
						s->bytes += m->len;
						s->last_ns = t;
						hist_add(&s->e2e, t - sent);
					}
				}
			} else if (s->want == 0 || s->msgs < s->want) {
				if (s->msgs == 0)
					s->first_ns = t;
				s->msgs++;
				s->bytes += m->len;
				s->last_ns = t;
			}
			rd_kafka_message_destroy(m);
		}
	}
	rd_kafka_queue_destroy(q);
	s->rv = s->timed_out || s->errors > 0 ? 1 : 0;
out:
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
}

static void *consume_thread(void *arg)
{
	consume_run(arg);
	return NULL;
}

static double rate(uint64_t n, bench_ns_t ns)
{
	return ns > 0 ? (double)n / ((double)ns / 1e9) : 0;
}

static int report_consume(const struct opts *o, struct consume_state *s)
{
	bench_ns_t span = s->last_ns - s->first_ns;
	double secs = (double)span / 1e9;
	double msg_s = s->msgs > 1 ? rate(s->msgs, span) : 0;
	double mb_s = s->msgs > 1 ? rate(s->bytes, span) / 1e6 : 0;
	printf("consume %s: %" PRIu64 " msgs, %.1f MB in %.3f s: %.0f msg/s, %.1f MB/s%s\n",
	       o->topic, s->msgs, (double)s->bytes / 1e6, secs, msg_s, mb_s,
	       s->timed_out ? " (TIMED OUT)" : "");
	printf("mode=consume");
	print_label(o);
	printf(" topic=%s msgs=%" PRIu64 " bytes=%" PRIu64 " seconds=%.4f msg_s=%.0f mb_s=%.2f "
	       "errors=%" PRIu64 " timed_out=%d\n",
	       o->topic, s->msgs, s->bytes, secs, msg_s, mb_s, s->errors, s->timed_out ? 1 : 0);
	return s->rv;
}

static int run_consume(const struct opts *o)
{
	need_broker_opts(o);
	if (o->count == 0)
		die("consume needs --count N");
	struct consume_state *s = calloc(1, sizeof *s);
	s->o = o;
	s->want = o->count;
	s->deadline_ns = now_ns() + (bench_ns_t)(o->timeout_s * 1e9);
	consume_run(s);
	int rv = report_consume(o, s);
	free(s);
	return rv;
}

/* ------------------------------------------------------------------------------------------ */
/* Producer side (produce and e2e) */

struct produce_state {
	struct hist lat;
	uint64_t acked;
	uint64_t acked_bytes;
	uint64_t errors;
	uint64_t dr_events; /* one per acknowledged batch: librdkafka reports a batch at once */
	bench_ns_t last_ack_ns;
};

/* Delivery reports: the message's opaque is the time its latency is measured from. */
static void serve_events(rd_kafka_queue_t *q, struct produce_state *ps, int timeout_ms)
{
	rd_kafka_event_t *ev;
	while ((ev = rd_kafka_queue_poll(q, timeout_ms)) != NULL) {
		timeout_ms = 0;
		switch (rd_kafka_event_type(ev)) {
		case RD_KAFKA_EVENT_DR: {
			const rd_kafka_message_t *m;
			bench_ns_t t = now_ns();
			ps->dr_events++;
			while ((m = rd_kafka_event_message_next(ev)) != NULL) {
				if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
					if (ps->errors < 5)
						fprintf(stderr, "sluice-bench: delivery: %s\n",
							rd_kafka_err2str(m->err));
					ps->errors++;
					continue;
				}
				hist_add(&ps->lat, t - (bench_ns_t)(intptr_t)m->_private);
				ps->acked++;
				ps->acked_bytes += m->len;
				ps->last_ack_ns = t;
			}
			break;
		}
		case RD_KAFKA_EVENT_ERROR:
			fprintf(stderr, "sluice-bench: producer: %s\n",
				rd_kafka_event_error_string(ev));
			if (rd_kafka_event_error_is_fatal(ev))
				ps->errors++;
			break;
		default:
			break;
		}
		rd_kafka_event_destroy(ev);
	}
}

/* Returns 0 once every partition of `topic` has a leader in metadata, -1 after `timeout_s`. */
static int wait_for_leaders(rd_kafka_t *rk, const char *topic, double timeout_s)
{
	bench_ns_t deadline = now_ns() + (bench_ns_t)(timeout_s * 1e9);
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	int rv = -1;
	while (rv != 0 && now_ns() < deadline) {
		const struct rd_kafka_metadata *md;
		if (rd_kafka_metadata(rk, 0, rkt, &md, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
			if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
			    md->topics[0].partition_cnt > 0) {
				rv = 0;
				for (int i = 0; i < md->topics[0].partition_cnt; i++)
					if (md->topics[0].partitions[i].leader < 0)
						rv = -1;
			}
			rd_kafka_metadata_destroy(md);
		}
		if (rv != 0)
			usleep(50 * 1000);
	}
	rd_kafka_topic_destroy(rkt);
	if (rv != 0)
		fprintf(stderr, "sluice-bench: topic %s: no leader for every partition in %.0f s\n",
			topic, timeout_s);
	return rv;
}

static int run_produce(const struct opts *o)
{
	char err[512], num[32];
	bool e2e = strcmp(o->mode, "e2e") == 0;
	need_broker_opts(o);
	if ((o->count == 0) == (o->seconds <= 0))
		die("%s needs exactly one of --count N and --seconds S", o->mode);
	if (e2e && o->size_bytes < PAYLOAD_HEADER_BYTES)
		die("e2e needs --size of at least %d (the payload carries a send time)",
		    PAYLOAD_HEADER_BYTES);
	_Static_assert(sizeof(intptr_t) >= sizeof(bench_ns_t), "send time travels as the opaque");

	rd_kafka_conf_t *conf = base_conf(o);
	conf_set(conf, "acks", strcmp(o->acks, "all") == 0 ? "-1" : o->acks);
	conf_set(conf, "compression.codec", o->compression);
	snprintf(num, sizeof num, "%d", o->inflight);
	conf_set(conf, "max.in.flight.requests.per.connection", num);
	snprintf(num, sizeof num, "%d", o->linger_ms);
	conf_set(conf, "linger.ms", num);
	/* Failures must surface as errors in the report, not as endless retries. */
	snprintf(num, sizeof num, "%d", (int)(o->timeout_s * 1000));
	conf_set(conf, "message.timeout.ms", num);
	rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	if (rk == NULL)
		die("producer: %s", err);
	rd_kafka_queue_t *q = rd_kafka_queue_get_main(rk);

	if (o->create && create_topic(rk, o, o->timeout_s) != 0) {
		rd_kafka_queue_destroy(q);
		rd_kafka_destroy(rk);
		return 1;
	}

	/* Learn the topic's leaders before the clock starts, so the first messages' latency is the
	 * broker's and not librdkafka's discovery of a topic created a moment ago. */
	if (wait_for_leaders(rk, o->topic, o->timeout_s) != 0) {
		rd_kafka_queue_destroy(q);
		rd_kafka_destroy(rk);
		return 1;
	}

	struct produce_state *ps = calloc(1, sizeof *ps);
	struct consume_state *cs = NULL;
	pthread_t consumer;
	volatile bool consumer_stop = false;
	uint32_t run_id = 0;
	if (e2e) {
		run_id = (uint32_t)(now_ns() ^ ((bench_ns_t)getpid() << 32)) | 1u;
		cs = calloc(1, sizeof *cs);
		cs->o = o;
		cs->run_id = run_id;
		cs->want = o->count; /* 0 in --seconds mode: stops on consumer_stop */
		cs->stop = &consumer_stop;
		cs->deadline_ns = now_ns() + (bench_ns_t)((o->seconds + 2 * o->timeout_s) * 1e9);
		if (pthread_create(&consumer, NULL, consume_thread, cs) != 0)
			die("pthread_create failed");
	}

	char *payload = malloc(o->size_bytes > 0 ? o->size_bytes : 1);
	for (size_t i = 0; i < o->size_bytes; i++)
		payload[i] = (char)('a' + i % 26);

	bench_ns_t start = now_ns();
	bench_ns_t send_end = o->seconds > 0 ? start + (bench_ns_t)(o->seconds * 1e9) : INT64_MAX;
	/* The send phase of a --count run is bounded too: by the timeout on top of the data at
	 * an absurdly low 1,000 msg/s. */
	if (o->count > 0)
		send_end = start + (bench_ns_t)((o->timeout_s + (double)o->count / 1000.0) * 1e9);
	uint64_t sent = 0;
	bool timed_out = false;
	double interval_ns = o->rate_per_s > 0 ? 1e9 / o->rate_per_s : 0;
	while (o->count == 0 || sent < o->count) {
		bench_ns_t t = now_ns();
		if (t >= send_end) {
			timed_out = o->count > 0;
			break;
		}
		bench_ns_t from = t;
		if (interval_ns > 0) {
			bench_ns_t due = start + (bench_ns_t)((double)sent * interval_ns);
			if (due > t) {
				int ms = (int)((due - t) / NS_PER_MS);
				serve_events(q, ps, ms);
				continue;
			}
			from = due; /* latency from the scheduled time: no coordinated omission */
		}
		if (e2e) {
			uint32_t magic = PAYLOAD_MAGIC;
			memcpy(payload, &magic, 4);
			memcpy(payload + 4, &run_id, 4);
			memcpy(payload + 8, &t, 8);
		}
		rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o->topic),
							  RD_KAFKA_V_VALUE(payload, o->size_bytes),
							  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
							  RD_KAFKA_V_OPAQUE((void *)(intptr_t)from),
							  RD_KAFKA_V_END);
		if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			serve_events(q, ps, 10);
			continue;
		}
		if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
			fprintf(stderr, "sluice-bench: produce: %s\n", rd_kafka_err2str(e));
			ps->errors++;
			break;
		}
		sent++;
		serve_events(q, ps, 0);
	}

	/* Wait for every delivery report, until the flush deadline. */
	bench_ns_t flush_deadline = now_ns() + (bench_ns_t)(o->timeout_s * 1e9);
	while (ps->acked + ps->errors < sent) {
		bench_ns_t t = now_ns();
		if (t >= flush_deadline) {
			timed_out = true;
			break;
		}
		int ms = (int)((flush_deadline - t) / NS_PER_MS);
		serve_events(q, ps, ms < POLL_SLICE_MS ? ms : POLL_SLICE_MS);
	}
	bench_ns_t span = ps->last_ack_ns > start ? ps->last_ack_ns - start : 0;
	double secs = (double)span / 1e9;
	double msg_s = rate(ps->acked, span);
	double mb_s = rate(ps->acked_bytes, span) / 1e6;
	double batch_bytes = ps->dr_events > 0 ? (double)ps->acked_bytes / (double)ps->dr_events :
						 0;
	double batch_msgs = ps->dr_events > 0 ? (double)ps->acked / (double)ps->dr_events : 0;
	double p50 = hist_quantile_ms(&ps->lat, 0.50), p99 = hist_quantile_ms(&ps->lat, 0.99),
	       p999 = hist_quantile_ms(&ps->lat, 0.999);

	printf("produce %s: %" PRIu64 " x %zu B acks=%s in %.3f s: %.0f msg/s, %.1f MB/s; "
	       "ack latency p50 %.2f ms p99 %.2f ms p99.9 %.2f ms; %.0f msgs (%.0f B) per batch; "
	       "errors %" PRIu64 "%s\n",
	       o->topic, ps->acked, o->size_bytes, o->acks, secs, msg_s, mb_s, p50, p99, p999,
	       batch_msgs, batch_bytes, ps->errors, timed_out ? " (TIMED OUT)" : "");
	printf("mode=produce");
	print_label(o);
	printf(" topic=%s size=%zu acks=%s sent=%" PRIu64 " msgs=%" PRIu64 " bytes=%" PRIu64
	       " seconds=%.4f msg_s=%.0f mb_s=%.2f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f "
	       "batch_msgs=%.1f batch_bytes=%.0f errors=%" PRIu64 " timed_out=%d\n",
	       o->topic, o->size_bytes, o->acks, sent, ps->acked, ps->acked_bytes, secs, msg_s,
	       mb_s, p50, p99, p999, batch_msgs, batch_bytes, ps->errors, timed_out ? 1 : 0);
	int rv = timed_out || ps->errors > 0 || ps->acked < sent ? 1 : 0;

	if (e2e) {
		/* The consumer stops on its own after --count messages; in --seconds mode, or if
		 * it falls behind, give it the timeout to catch up with what was acknowledged. */
		bench_ns_t catch_up = now_ns() + (bench_ns_t)(o->timeout_s * 1e9);
		while (cs->msgs < ps->acked && now_ns() < catch_up)
			usleep(10 * 1000);
		consumer_stop = true;
		pthread_join(consumer, NULL);
		double e50 = hist_quantile_ms(&cs->e2e, 0.50),
		       e99 = hist_quantile_ms(&cs->e2e, 0.99),
		       e999 = hist_quantile_ms(&cs->e2e, 0.999);
		bool lost = cs->msgs < ps->acked;
		printf("e2e %s: %" PRIu64 " of %" PRIu64 " acknowledged msgs consumed; end-to-end "
		       "latency p50 %.2f ms p99 %.2f ms p99.9 %.2f ms\n",
		       o->topic, cs->msgs, ps->acked, e50, e99, e999);
		printf("mode=e2e");
		print_label(o);
		printf(" topic=%s consumed=%" PRIu64 " acked=%" PRIu64 " e2e_p50_ms=%.3f "
		       "e2e_p99_ms=%.3f e2e_p999_ms=%.3f\n",
		       o->topic, cs->msgs, ps->acked, e50, e99, e999);
		if (lost || cs->errors > 0)
			rv = 1;
		free(cs);
	}

	free(payload);
	free(ps);
	rd_kafka_queue_destroy(q);
	/* Nothing is left in flight here unless the deadline passed; do not wait for it again. */
	rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_destroy(rk);
	return rv;
}

/* Partitions per leader of one topic's metadata, as "id:count,..." in the order the ids first
 * appear, into `out` (an output of `out_bytes`). */
static void leader_counts(const struct rd_kafka_metadata_topic *t, char *out, size_t out_bytes)
{
	enum { LEADERS_MAX = 64 };
	int32_t ids[LEADERS_MAX];
	int n[LEADERS_MAX], k = 0;
	for (int i = 0; i < t->partition_cnt; i++) {
		int32_t id = t->partitions[i].leader;
		int j = 0;
		while (j < k && ids[j] != id)
			j++;
		if (j == k && k < LEADERS_MAX) {
			ids[k] = id;
			n[k++] = 0;
		}
		if (j < k)
			n[j]++;
	}
	size_t used = 0;
	out[0] = '\0';
	for (int j = 0; j < k && used < out_bytes; j++)
		used += (size_t)snprintf(out + used, out_bytes - used, "%s%d:%d", j > 0 ? "," : "",
					 (int)ids[j], n[j]);
	if (out[0] == '\0')
		snprintf(out, out_bytes, "-");
}

/* True if `name` is one of the comma-separated `list`. */
static bool in_list(const char *list, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = list; p != NULL; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return true;
	return false;
}

/*
 * Counts the partitions of the comma-separated `topics` (outputs `*total`) and how many of them
 * are led by their preferred replica, the first of their replica list (the return value), or
 * returns -1 if metadata could not be had.
 */
static int preferred_led(rd_kafka_t *rk, const char *topics, int *total)
{
	const struct rd_kafka_metadata *md;
	int led = 0;
	*total = 0;
	if (rd_kafka_metadata(rk, 1, NULL, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return -1;
	for (int t = 0; t < md->topic_cnt; t++) {
		if (!in_list(topics, md->topics[t].topic))
			continue;
		for (int i = 0; i < md->topics[t].partition_cnt; i++) {
			const struct rd_kafka_metadata_partition *mp = &md->topics[t].partitions[i];
			(*total)++;
			if (mp->replica_cnt > 0 && mp->leader == mp->replicas[0])
				led++;
		}
	}
	rd_kafka_metadata_destroy(md);
	return led;
}

/*
 * create: makes each topic of the comma-separated --topic list, waits until every partition has
 * a leader, and reports the time of each step and how many partitions each node leads. With
 * --wait-preferred S it then waits, at most S seconds, until every partition is led by its
 * preferred replica (a cluster that elects any replica first and moves leadership later, as
 * Sluice's auto leader rebalance does, would otherwise move it in the middle of a measurement);
 * not getting there is reported but is not an error. Returns the exit status.
 */
static int run_create(const struct opts *o)
{
	char err[512], topic[256], counts[1024];
	need_broker_opts(o);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, base_conf(o), err, sizeof err);
	if (rk == NULL)
		die("client: %s", err);
	int rv = 1;
	for (const char *p = o->topic; p != NULL && *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len >= sizeof topic)
			die("--topic: bad list '%s'", o->topic);
		memcpy(topic, p, len);
		topic[len] = '\0';
		p = comma != NULL ? comma + 1 : NULL;

		struct opts one = *o;
		one.topic = topic;
		bench_ns_t start = now_ns();
		if (create_topic(rk, &one, o->timeout_s) != 0)
			goto out;
		bench_ns_t created = now_ns();
		if (wait_for_leaders(rk, topic, o->timeout_s) != 0)
			goto out;
		bench_ns_t led = now_ns();

		const struct rd_kafka_metadata *md;
		rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
		snprintf(counts, sizeof counts, "-");
		if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
			if (md->topic_cnt == 1)
				leader_counts(&md->topics[0], counts, sizeof counts);
			rd_kafka_metadata_destroy(md);
		}
		rd_kafka_topic_destroy(rkt);

		double create_s = (double)(created - start) / 1e9;
		double leaders_s = (double)(led - created) / 1e9;
		printf("create %s: %d partitions x %d replicas in %.3f s, every leader known %.3f s "
		       "later; partitions per leader %s\n",
		       topic, o->partitions, o->replication_factor, create_s, leaders_s, counts);
		printf("mode=create");
		print_label(o);
		printf(" topic=%s partitions=%d replication_factor=%d create_s=%.3f leaders_s=%.3f "
		       "leader_counts=%s\n",
		       topic, o->partitions, o->replication_factor, create_s, leaders_s, counts);
	}

	if (o->preferred_wait_s > 0) {
		bench_ns_t start = now_ns();
		bench_ns_t deadline = start + (bench_ns_t)(o->preferred_wait_s * 1e9);
		int total = 0, led = -1;
		for (;;) {
			led = preferred_led(rk, o->topic, &total);
			if ((led >= 0 && led == total) || now_ns() >= deadline)
				break;
			usleep(POLL_SLICE_MS * 1000);
		}
		double secs = (double)(now_ns() - start) / 1e9;
		printf("preferred leaders: %d of %d partitions led by their first replica after "
		       "%.3f s%s\n",
		       led < 0 ? 0 : led, total, secs,
		       led == total ? "" : " (gave up waiting; not an error)");
		printf("mode=preferred");
		print_label(o);
		printf(" partitions=%d preferred=%d seconds=%.3f\n", total, led < 0 ? 0 : led,
		       secs);
	}
	rv = 0;
out:
	rd_kafka_destroy(rk);
	return rv;
}

/* ------------------------------------------------------------------------------------------ */
/* Baselines */

static int run_disk(const struct opts *o)
{
	char path[4096];
	if (o->block_bytes == 0 || o->block_bytes > SIZE_BYTES_MAX)
		die("disk needs --block BYTES (1..%u)", SIZE_BYTES_MAX);
	double mb = o->mb > 0 ? o->mb : 64;
	double seconds = o->seconds > 0 ? o->seconds : 5;
	uint64_t total = (uint64_t)(mb * 1e6);
	snprintf(path, sizeof path, "%s/sluice-bench-disk-%d.dat", o->dir, (int)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "sluice-bench: %s: %s\n", path, strerror(errno));
		return 1;
	}
	char *block = malloc(o->block_bytes);
	for (size_t i = 0; i < o->block_bytes; i++)
		block[i] = (char)(i * 131 + 7);
	uint64_t done = 0, syncs = 0;
	int rv = 0;
	bench_ns_t start = now_ns(), end = start + (bench_ns_t)(seconds * 1e9);
	/* Stops at --mb or --seconds, whichever comes first: tiny fsync'd blocks are slow. */
	while (done < total && now_ns() < end) {
		if (write(fd, block, o->block_bytes) != (ssize_t)o->block_bytes ||
		    fdatasync(fd) != 0) {
			fprintf(stderr, "sluice-bench: %s: %s\n", path, strerror(errno));
			rv = 1;
			break;
		}
		done += o->block_bytes;
		syncs++;
	}
	bench_ns_t span = now_ns() - start;
	close(fd);
	unlink(path);
	free(block);
	double mb_s = rate(done, span) / 1e6;
	double syncs_s = rate(syncs, span);
	printf("disk %s: %zu B blocks, write+fdatasync each: %.1f MB in %.3f s: %.2f MB/s, %.0f "
	       "fsyncs/s\n",
	       o->dir, o->block_bytes, (double)done / 1e6, (double)span / 1e9, mb_s, syncs_s);
	printf("mode=disk");
	print_label(o);
	printf(" block=%zu bytes=%" PRIu64 " seconds=%.4f mb_s=%.2f fsyncs_s=%.0f\n",
	       o->block_bytes, done, (double)span / 1e9, mb_s, syncs_s);
	return rv;
}

struct pump {
	int fd;
	uint64_t total;
	bench_ns_t end_ns;
};

static void *pump_writer(void *arg)
{
	struct pump *p = arg;
	char *block = calloc(1, PUMP_BLOCK_BYTES);
	uint64_t done = 0;
	while (done < p->total && now_ns() < p->end_ns) {
		ssize_t n = write(p->fd, block, PUMP_BLOCK_BYTES);
		if (n <= 0)
			break;
		done += (uint64_t)n;
	}
	shutdown(p->fd, SHUT_WR);
	free(block);
	return NULL;
}

static int run_loopback(const struct opts *o)
{
	double mb = o->mb > 0 ? o->mb : 4000;
	double seconds = o->seconds > 0 ? o->seconds : 3;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	int ls = socket(AF_INET, SOCK_STREAM, 0), cs, ss;
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 1) != 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &len) != 0)
		die("loopback listener: %s", strerror(errno));
	cs = socket(AF_INET, SOCK_STREAM, 0);
	if (cs < 0 || connect(cs, (struct sockaddr *)&sa, sizeof sa) != 0)
		die("loopback connect: %s", strerror(errno));
	ss = accept(ls, NULL, NULL);
	if (ss < 0)
		die("loopback accept: %s", strerror(errno));
	close(ls);

	struct pump p = { .fd = ss, .total = (uint64_t)(mb * 1e6) };
	bench_ns_t start = now_ns();
	p.end_ns = start + (bench_ns_t)(seconds * 1e9);
	pthread_t writer;
	if (pthread_create(&writer, NULL, pump_writer, &p) != 0)
		die("pthread_create failed");
	char *buf = malloc(PUMP_BLOCK_BYTES);
	uint64_t got = 0;
	for (;;) {
		ssize_t n = read(cs, buf, PUMP_BLOCK_BYTES);
		if (n <= 0)
			break; /* the writer shuts down at its byte or time limit */
		got += (uint64_t)n;
	}
	bench_ns_t span = now_ns() - start;
	pthread_join(writer, NULL);
	close(cs);
	close(ss);
	free(buf);
	double mb_s = rate(got, span) / 1e6;
	printf("loopback TCP 127.0.0.1, %u B writes: %.1f MB in %.3f s: %.1f MB/s\n",
	       PUMP_BLOCK_BYTES, (double)got / 1e6, (double)span / 1e9, mb_s);
	printf("mode=loopback");
	print_label(o);
	printf(" bytes=%" PRIu64 " seconds=%.4f mb_s=%.2f\n", got, (double)span / 1e9, mb_s);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	parse_opts(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(o.mode, "produce") == 0 || strcmp(o.mode, "e2e") == 0)
		return run_produce(&o);
	if (strcmp(o.mode, "consume") == 0)
		return run_consume(&o);
	if (strcmp(o.mode, "create") == 0)
		return run_create(&o);
	if (strcmp(o.mode, "disk") == 0)
		return run_disk(&o);
	if (strcmp(o.mode, "loopback") == 0)
		return run_loopback(&o);
	usage(stderr);
	return 2;
}
