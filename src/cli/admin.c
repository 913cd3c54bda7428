/*
 * admin: options, broker connections and shared requests of the cluster commands. Contract in
 * admin.h.
 */
#include "cli/admin.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/out.h"

/* Versions the CLI sends (a subset of what the codec knows; see docs/cli.md). */
#define METADATA_VERSION_MIN 1
#define METADATA_VERSION_MAX 8
#define LIST_OFFSETS_VERSION_MIN 1
#define LIST_OFFSETS_VERSION_MAX 7
#define FIND_COORDINATOR_VERSION_MIN 0
#define FIND_COORDINATOR_VERSION_MAX 2

/* FindCoordinator retries while the coordinator loads: the pause between tries. */
#define COORDINATOR_RETRY_MS 200

/* FindCoordinator KeyType for a consumer group (FindCoordinatorRequest.json). */
#define COORDINATOR_KEY_TYPE_GROUP 0

void admin_opts_init(struct admin_opts *o)
{
	const char *env = getenv(ADMIN_BOOTSTRAP_ENV);

	o->bootstrap = env != NULL && env[0] != '\0' ? env : ADMIN_BOOTSTRAP_DEFAULT;
	o->timeout_ms = ADMIN_TIMEOUT_MS_DEFAULT;
	o->json = false;
}

int admin_opt_value(const char *cmd, const char *name, int argc, char **argv, int *i,
		    const char **value)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);

	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return 1;
	}
	if (arg[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "sluice %s: %s needs a value\n", cmd, name);
		return -1;
	}
	*i += 1;
	*value = argv[*i];
	return 1;
}

bool admin_parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s[0] == '\0')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno != 0)
		return false;
	*out = v;
	return true;
}

int admin_opt_common(struct admin_opts *o, const char *cmd, int argc, char **argv, int *i)
{
	const char *v;
	int rv;

	if (strcmp(argv[*i], "--json") == 0) {
		o->json = true;
		return 1;
	}
	rv = admin_opt_value(cmd, "--bootstrap", argc, argv, i, &v);
	if (rv != 0) {
		if (rv > 0)
			o->bootstrap = v;
		return rv;
	}
	rv = admin_opt_value(cmd, "--timeout-ms", argc, argv, i, &v);
	if (rv > 0) {
		int64_t ms;

		if (!admin_parse_i64(v, &ms) || ms < 1 || ms > ADMIN_TIMEOUT_MS_MAX) {
			fprintf(stderr,
				"sluice %s: --timeout-ms must be between 1 and %d, not '%s'\n", cmd,
				ADMIN_TIMEOUT_MS_MAX, v);
			return -1;
		}
		o->timeout_ms = (int)ms;
	}
	return rv;
}

int admin_parse_args(const char *cmd, const char *usage, int argc, char **argv,
		     struct admin_opts *o, admin_opt_fn opt, void *ctx, const char **pos, int pos_n)
{
	char host[CLIENT_HOST_BYTES_MAX];
	errmsg_t msg;
	int port;
	int got = 0;
	bool options_done = false;

	admin_opts_init(o);
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		int rv = 0;

		if (!options_done && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)) {
			printf("usage: sluice %s %s\n", cmd, usage);
			return 1;
		}
		if (!options_done && strcmp(arg, "--") == 0) {
			options_done = true;
			continue;
		}
		if (!options_done && arg[0] == '-' && arg[1] != '\0') {
			rv = admin_opt_common(o, cmd, argc, argv, &i);
			if (rv == 0 && opt != NULL)
				rv = opt(ctx, cmd, argc, argv, &i);
			if (rv == 0) {
				fprintf(stderr, "sluice %s: unknown option '%s'\n", cmd, arg);
				rv = -1;
			}
			if (rv < 0)
				goto err_usage;
			continue;
		}
		if (got == pos_n) {
			fprintf(stderr, "sluice %s: unexpected argument '%s'\n", cmd, arg);
			goto err_usage;
		}
		pos[got++] = arg;
	}
	if (got < pos_n) {
		fprintf(stderr, "sluice %s: missing argument\n", cmd);
		goto err_usage;
	}
	/* A malformed address is the operator's typo, not a broker failure. */
	if (client_parse_address(o->bootstrap, host, &port, msg) != 0) {
		fprintf(stderr, "sluice %s: --bootstrap: %s\n", cmd, msg);
		goto err_usage;
	}
	return 0;

err_usage:
	fprintf(stderr, "usage: sluice %s %s\n", cmd, usage);
	return -1;
}

void admin_print_error(const char *msg)
{
	fprintf(stderr, "sluice: %s\n", msg);
}

int admin_open(struct admin *a, const struct admin_opts *o, char *msg)
{
	char host[CLIENT_HOST_BYTES_MAX];
	struct client *c;
	int port;
	int rv;

	memset(a, 0, sizeof *a);
	a->o = *o;
	arena_init(&a->scratch, ADMIN_SCRATCH_BYTES_MAX);
	rv = client_parse_address(o->bootstrap, host, &port, msg);
	if (rv != 0) {
		errmsg_wrapf(msg, "--bootstrap");
		return rv;
	}
	return admin_connect(a, host, port, &c, msg);
}

void admin_close(struct admin *a)
{
	for (size_t i = 0; i < a->conns_n; i++)
		client_close(&a->conns[i].c);
	a->conns_n = 0;
	arena_free(&a->scratch);
}

struct client *admin_boot(struct admin *a)
{
	assert(a->conns_n > 0);
	return &a->conns[0].c;
}

void *admin_alloc(struct admin *a, size_t n)
{
	return arena_alloc(&a->scratch, n);
}

int admin_connect(struct admin *a, const char *host, int port, struct client **out, char *msg)
{
	struct admin_conn *ac;
	int rv;

	for (size_t i = 0; i < a->conns_n; i++) {
		if (a->conns[i].port == port && strcmp(a->conns[i].host, host) == 0) {
			*out = &a->conns[i].c;
			return 0;
		}
	}
	if (a->conns_n == ADMIN_CONNS_MAX) {
		errmsg_printf(msg, "%s:%d: more than %d brokers to talk to", host, port,
			      ADMIN_CONNS_MAX);
		return SLUICE_ETOOLARGE;
	}
	ac = &a->conns[a->conns_n];
	rv = client_open(&ac->c, host, port, a->o.timeout_ms, msg);
	if (rv != 0)
		return rv;
	snprintf(ac->host, sizeof ac->host, "%s", host);
	ac->port = port;
	a->conns_n++;
	*out = &ac->c;
	return 0;
}

static void remember_nodes(struct admin *a, const struct kafka_metadata_response *md)
{
	a->nodes_n = 0;
	for (int32_t i = 0; i < md->brokers.n && a->nodes_n < ADMIN_NODES_MAX; i++) {
		const struct kafka_metadata_response_metadata_response_broker *b = &md->brokers.v[i];
		struct admin_node *n = &a->nodes[a->nodes_n];

		if (b->host.len < 0 || b->host.len >= CLIENT_HOST_BYTES_MAX)
			continue;
		n->id = b->node_id;
		memcpy(n->host, b->host.ptr, (size_t)b->host.len);
		n->host[b->host.len] = '\0';
		n->port = b->port;
		n->unreachable = false;
		a->nodes_n++;
	}
}

int admin_metadata(struct admin *a, const char *const *topics, size_t n,
		   struct kafka_metadata_response *out, char *msg)
{
	struct kafka_metadata_request req;
	int rv;

	kafka_struct_defaults(&kafka_metadata_request_desc, &req);
	req.allow_auto_topic_creation = false;
	if (topics == NULL) {
		req.topics.v = NULL;
		req.topics.n = -1;
	} else {
		req.topics.v = admin_alloc(a, (n == 0 ? 1 : n) * sizeof *req.topics.v);
		if (req.topics.v == NULL) {
			errmsg_printf(msg, "out of memory");
			return SLUICE_ENOMEM;
		}
		for (size_t i = 0; i < n; i++) {
			kafka_struct_defaults(&kafka_metadata_request_metadata_request_topic_desc,
					      &req.topics.v[i]);
			req.topics.v[i].name = kafka_str_c(topics[i]);
		}
		req.topics.n = (int32_t)n;
	}
	rv = client_call_range(admin_boot(a), KAFKA_API_METADATA, METADATA_VERSION_MIN,
			       METADATA_VERSION_MAX, &req, out, NULL, msg);
	if (rv != 0)
		return rv;
	remember_nodes(a, out);
	return 0;
}

int admin_node(struct admin *a, int32_t node_id, struct client **out, char *msg)
{
	for (size_t i = 0; i < a->nodes_n; i++) {
		struct admin_node *n = &a->nodes[i];
		int rv;

		if (n->id != node_id)
			continue;
		if (n->unreachable) {
			errmsg_printf(msg, "broker %d (%s:%d): unreachable", node_id, n->host,
				      n->port);
			return SLUICE_EIO;
		}
		rv = admin_connect(a, n->host, n->port, out, msg);
		if (rv != 0 && rv != SLUICE_ETOOLARGE)
			n->unreachable = true;
		if (rv != 0)
			errmsg_wrapf(msg, "broker %d", node_id);
		return rv;
	}
	errmsg_printf(msg, "broker %d is not listed in the cluster metadata", node_id);
	return SLUICE_ENOTFOUND;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int admin_coordinator(struct admin *a, const char *group, struct client **out, char *msg)
{
	/* Tries are bounded so that waiting for a loading coordinator stays within the timeout. */
	int tries_max = a->o.timeout_ms / COORDINATOR_RETRY_MS + 1;

	for (int tries = 1;; tries++) {
		struct kafka_find_coordinator_request req;
		struct kafka_find_coordinator_response resp;
		char host[CLIENT_HOST_BYTES_MAX];
		int rv;

		kafka_struct_defaults(&kafka_find_coordinator_request_desc, &req);
		req.key = kafka_str_c(group);
		req.key_type = COORDINATOR_KEY_TYPE_GROUP;
		rv = client_call_range(admin_boot(a), KAFKA_API_FIND_COORDINATOR,
				       FIND_COORDINATOR_VERSION_MIN, FIND_COORDINATOR_VERSION_MAX,
				       &req, &resp, NULL, msg);
		if (rv != 0)
			return rv;
		if ((resp.error_code == KAFKA_ERR_COORDINATOR_NOT_AVAILABLE ||
		     resp.error_code == KAFKA_ERR_COORDINATOR_LOAD_IN_PROGRESS) &&
		    tries < tries_max) {
			sleep_ms(COORDINATOR_RETRY_MS);
			continue;
		}
		if (resp.error_code != KAFKA_ERR_NONE) {
			errmsg_printf(msg, "group '%s': %s", group,
				      kafka_err_name(resp.error_code));
			if (resp.error_message.len > 0)
				errmsg_printf(msg, "group '%s': %s (%.*s)", group,
					      kafka_err_name(resp.error_code),
					      (int)resp.error_message.len, resp.error_message.ptr);
			return SLUICE_EIO;
		}
		if (resp.host.len <= 0 || resp.host.len >= CLIENT_HOST_BYTES_MAX) {
			errmsg_printf(msg, "group '%s': FindCoordinator returned no host", group);
			return SLUICE_EMALFORMED;
		}
		memcpy(host, resp.host.ptr, (size_t)resp.host.len);
		host[resp.host.len] = '\0';
		rv = admin_connect(a, host, resp.port, out, msg);
		if (rv != 0)
			errmsg_wrapf(msg, "group '%s': coordinator %d", group, resp.node_id);
		return rv;
	}
}

const struct kafka_metadata_response_metadata_response_topic *
admin_md_topic(const struct kafka_metadata_response *md, struct kafka_str topic)
{
	for (int32_t i = 0; i < md->topics.n; i++) {
		const struct kafka_metadata_response_metadata_response_topic *t = &md->topics.v[i];

		if (t->name.len == topic.len &&
		    (topic.len <= 0 || memcmp(t->name.ptr, topic.ptr, (size_t)topic.len) == 0))
			return t;
	}
	return NULL;
}

static bool str_equal(struct kafka_str x, struct kafka_str y)
{
	return x.len == y.len && (x.len <= 0 || memcmp(x.ptr, y.ptr, (size_t)x.len) == 0);
}

/* Sets leader[i] for every entry, or an error in tps[i].error (leader -1). */
static void find_leaders(const struct kafka_metadata_response *md, struct admin_tp *tps, size_t n,
			 int32_t *leader)
{
	for (size_t i = 0; i < n; i++) {
		const struct kafka_metadata_response_metadata_response_topic *t = admin_md_topic(
			md, tps[i].topic);

		leader[i] = -1;
		tps[i].offset = -1;
		tps[i].error = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		if (t == NULL)
			continue;
		if (t->error_code != KAFKA_ERR_NONE) {
			tps[i].error = t->error_code;
			continue;
		}
		for (int32_t p = 0; p < t->partitions.n; p++) {
			if (t->partitions.v[p].partition_index != tps[i].partition)
				continue;
			tps[i].error = t->partitions.v[p].leader_id < 0 ?
					       KAFKA_ERR_LEADER_NOT_AVAILABLE :
					       KAFKA_ERR_NONE;
			leader[i] = t->partitions.v[p].leader_id;
		}
	}
}

/* Sends one ListOffsets to `node` for the entries whose leader it is, grouped by topic. */
static int list_offsets_node(struct admin *a, int32_t node, struct admin_tp *tps, size_t n,
			     const int32_t *leader, char *msg)
{
	struct kafka_list_offsets_request req;
	struct kafka_list_offsets_response resp;
	struct client *c;
	size_t count = 0;
	int rv;

	kafka_struct_defaults(&kafka_list_offsets_request_desc, &req);
	req.replica_id = -1; /* a consumer, not a follower */
	req.topics.v = admin_alloc(a, n * sizeof *req.topics.v);
	if (req.topics.v == NULL)
		goto err_oom;
	req.topics.n = 0;
	for (size_t i = 0; i < n; i++) {
		struct kafka_list_offsets_request_list_offsets_topic *t = NULL;
		struct kafka_list_offsets_request_list_offsets_partition *p;

		if (leader[i] != node)
			continue;
		for (int32_t k = 0; k < req.topics.n; k++)
			if (str_equal(req.topics.v[k].name, tps[i].topic))
				t = &req.topics.v[k];
		if (t == NULL) {
			t = &req.topics.v[req.topics.n++];
			kafka_struct_defaults(&kafka_list_offsets_request_list_offsets_topic_desc,
					      t);
			t->name = tps[i].topic;
			t->partitions.v = admin_alloc(a, n * sizeof *t->partitions.v);
			if (t->partitions.v == NULL)
				goto err_oom;
			t->partitions.n = 0;
		}
		p = &t->partitions.v[t->partitions.n++];
		kafka_struct_defaults(&kafka_list_offsets_request_list_offsets_partition_desc, p);
		p->partition_index = tps[i].partition;
		p->timestamp = tps[i].timestamp;
		count++;
	}
	assert(count > 0);
	rv = admin_node(a, node, &c, msg);
	if (rv != 0)
		return rv;
	rv = client_call_range(c, KAFKA_API_LIST_OFFSETS, LIST_OFFSETS_VERSION_MIN,
			       LIST_OFFSETS_VERSION_MAX, &req, &resp, NULL, msg);
	if (rv != 0)
		return rv;
	for (size_t i = 0; i < n; i++) {
		bool found = false;

		if (leader[i] != node)
			continue;
		for (int32_t k = 0; k < resp.topics.n && !found; k++) {
			const struct kafka_list_offsets_response_list_offsets_topic_response *t =
				&resp.topics.v[k];

			if (!str_equal(t->name, tps[i].topic))
				continue;
			for (int32_t q = 0; q < t->partitions.n; q++) {
				if (t->partitions.v[q].partition_index != tps[i].partition)
					continue;
				tps[i].error = t->partitions.v[q].error_code;
				tps[i].offset = t->partitions.v[q].offset;
				found = true;
				break;
			}
		}
		if (!found)
			tps[i].error = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	return 0;

err_oom:
	errmsg_printf(msg, "ListOffsets: out of memory");
	return SLUICE_ENOMEM;
}

/* The entry of broker `id` from the last Metadata, or NULL. */
static struct admin_node *node_find(struct admin *a, int32_t id)
{
	for (size_t i = 0; i < a->nodes_n; i++)
		if (a->nodes[i].id == id)
			return &a->nodes[i];
	return NULL;
}

/* admin_list_offsets() and, with `partial`, admin_list_offsets_partial(). */
static int list_offsets(struct admin *a, const struct kafka_metadata_response *md,
			struct admin_tp *tps, size_t n, bool partial, char *msg)
{
	int32_t *leader;
	int rv = 0;

	if (n == 0)
		return 0;
	leader = admin_alloc(a, n * sizeof *leader);
	if (leader == NULL) {
		errmsg_printf(msg, "ListOffsets: out of memory");
		return SLUICE_ENOMEM;
	}
	find_leaders(md, tps, n, leader);
	/* One request per leader: pick the first entry whose leader has not been asked yet. */
	for (size_t i = 0; i < n && rv == 0; i++) {
		struct admin_node *node;
		bool asked = false;

		if (leader[i] < 0)
			continue;
		for (size_t k = 0; k < i && !asked; k++)
			asked = leader[k] == leader[i];
		if (asked)
			continue;
		node = node_find(a, leader[i]);
		if (partial && node != NULL && node->unreachable) {
			rv = SLUICE_EIO; /* reported when it failed */
		} else {
			rv = list_offsets_node(a, leader[i], tps, n, leader, msg);
			if (rv == 0 || rv == SLUICE_ENOMEM || !partial)
				continue;
			admin_print_error(msg);
			if (node != NULL)
				node->unreachable = true;
		}
		/* This broker's partitions go without offsets; the others are still asked. */
		for (size_t k = i; k < n; k++) {
			if (leader[k] != leader[i])
				continue;
			tps[k].error = KAFKA_ERR_BROKER_NOT_AVAILABLE;
			tps[k].offset = -1;
		}
		rv = 0;
	}
	return rv;
}

int admin_list_offsets(struct admin *a, const struct kafka_metadata_response *md,
		       struct admin_tp *tps, size_t n, char *msg)
{
	return list_offsets(a, md, tps, n, false, msg);
}

int admin_list_offsets_partial(struct admin *a, const struct kafka_metadata_response *md,
			       struct admin_tp *tps, size_t n, char *msg)
{
	return list_offsets(a, md, tps, n, true, msg);
}

int admin_finish(struct admin *a, int rv, const char *msg)
{
	if (rv != 0)
		admin_print_error(msg);
	admin_close(a);
	return rv == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

int admin_parsed_status(int rv)
{
	return rv > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

void admin_print_deleted(bool json, const char *kind, const char *name)
{
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j);
		json_key(&j, "deleted");
		json_str(&j, name);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		printf("deleted %s '%s'\n", kind, name);
	}
}
