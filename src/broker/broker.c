/*
 * broker: lifecycle, connections, request dispatch, and the metadata and admin APIs
 * (ApiVersions, Metadata, FindCoordinator, CreateTopics, DeleteTopics, DescribeConfigs,
 * InitProducerId). Produce is in produce.c; Fetch and ListOffsets in fetch.c. Contract in
 * broker.h.
 *
 * Admin requests that change the topics file (CreateTopics, DeleteTopics, InitProducerId when
 * its reserved block of producer ids runs out) run one at a time: each encodes the registry on
 * the loop, writes it (and opens or removes partition directories) on the I/O worker, and
 * answers when that is durable. So an acknowledged CreateTopics survives a crash.
 *
 * Invariants:
 *   1. Every topic in the registry has a topic_state whose partitions are all open.
 *   2. A request is answered at most once; every request object is freed exactly once.
 *   3. Only the loop thread touches broker state; admin jobs work on copies.
 */
#include "broker/internal.h"
#include "broker/cluster.h"

#include <assert.h>
#include <errno.h>
#include <unistd.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/codec.h"
#include "base/err.h"
#include "base/slog.h"
#include "broker/cleaner.h"
#include "broker/offsets.h"

/* What this node serves. Ranges follow ../docs/compatibility.md: Produce starts at 0 because
 * librdkafka only compresses when Produce v0 is advertised (v0-2 are answered with
 * UNSUPPORTED_VERSION); FindCoordinator must include 0 for librdkafka's LZ4 and group features. */
static const struct broker_api {
	int16_t key;
	int16_t min;
	int16_t max;
	int16_t served_min; /* below it: UNSUPPORTED_VERSION although advertised */
} broker_apis[] = {
	{KAFKA_API_PRODUCE, 0, 7, 3},
	{KAFKA_API_FETCH, 4, 11, 4},
	{KAFKA_API_LIST_OFFSETS, 1, 3, 1},
	{KAFKA_API_METADATA, 0, 12, 0},
	{KAFKA_API_FIND_COORDINATOR, 0, 2, 0},
	{KAFKA_API_API_VERSIONS, 0, 2, 0},
	{KAFKA_API_CREATE_TOPICS, 2, 4, 2},
	{KAFKA_API_CREATE_PARTITIONS, 0, 3, 0}, /* admin.c; v2+ flexible */
	{KAFKA_API_DELETE_TOPICS, 1, 3, 1},
	{KAFKA_API_INIT_PRODUCER_ID, 0, 1, 0},
	{KAFKA_API_DESCRIBE_CONFIGS, 1, 2, 1},
	{KAFKA_API_JOIN_GROUP, 0, 5, 0},
	{KAFKA_API_SYNC_GROUP, 0, 3, 0},
	{KAFKA_API_HEARTBEAT, 0, 3, 0},
	{KAFKA_API_LEAVE_GROUP, 0, 3, 0},
	{KAFKA_API_OFFSET_COMMIT, 2, 7, 2},
	{KAFKA_API_OFFSET_FETCH, 1, 5, 1},
	{KAFKA_API_DESCRIBE_GROUPS, 0, 2, 0},
	{KAFKA_API_LIST_GROUPS, 0, 2, 0},
	{KAFKA_API_DELETE_GROUPS, 0, 1, 0},
	{KAFKA_API_OFFSET_DELETE, 0, 0, 0},
	{KAFKA_API_ELECT_LEADERS, 0, 2, 0}, /* elect.c: preferred-replica elections */
	/* reassign.c: KIP-455 partition reassignments (flexible, v0 only) */
	{KAFKA_API_ALTER_PARTITION_REASSIGNMENTS, 0, 0, 0},
	{KAFKA_API_LIST_PARTITION_REASSIGNMENTS, 0, 0, 0},
	{KAFKA_API_UNREGISTER_BROKER, 0, 0, 0}, /* admin.c: `sluice nodes remove` */
	/* KIP-848 (consumer_groups.c); its clients need Metadata v10+ for topic ids. */
	{KAFKA_API_CONSUMER_GROUP_HEARTBEAT, 0, 1, 0},
	{KAFKA_API_CONSUMER_GROUP_DESCRIBE, 0, 0, 0},
};
#define BROKER_APIS_COUNT (sizeof broker_apis / sizeof broker_apis[0])

static const struct broker_api *broker_api_find(int16_t key)
{
	for (size_t i = 0; i < BROKER_APIS_COUNT; i++)
		if (broker_apis[i].key == key)
			return &broker_apis[i];
	return NULL;
}

/* Per-connection state. */
struct bconn {
	bool warned_unsupported;
};

/* ---- requests ----------------------------------------------------------------------------- */

void *breq_alloc(struct breq *r, size_t n)
{
	return arena_alloc(&r->arena, n);
}

void *breq_alloc_structs(struct breq *r, const struct kafka_struct_desc *d, int32_t n)
{
	uint8_t *v;

	if (n <= 0)
		return breq_alloc(r, 1);
	v = breq_alloc(r, (size_t)n * d->size);
	if (v == NULL)
		return NULL;
	for (int32_t i = 0; i < n; i++)
		kafka_struct_defaults(d, v + (size_t)i * d->size);
	return v;
}

int breq_printf(struct breq *r, struct kafka_str *out, const char *fmt, ...)
{
	char tmp[ERRMSG_BYTES_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof tmp)
		n = (int)sizeof tmp - 1; /* cut, as vsnprintf did */
	char *msg = breq_alloc(r, (size_t)n + 1);
	if (msg == NULL)
		return SLUICE_ENOMEM;
	memcpy(msg, tmp, (size_t)n);
	*out = (struct kafka_str){msg, n};
	return 0;
}

void breq_free(struct breq *r)
{
	for (int i = 0; i < r->nbufs; i++)
		buf_unref(r->bufs[i]);
	free(r->bufs);
	arena_free(&r->arena);
	buf_unref(r->frame);
	net_conn_unref(r->conn);
	free(r);
}

void breq_respond(struct breq *r, const void *resp)
{
	struct wbuf w;
	struct buf *out;
	int rv;

	assert(!r->responded);
	r->responded = true;
	wbuf_init(&w);
	rv = kafka_response_encode(&w, r->h.api_key, r->h.api_version, r->h.correlation_id, resp);
	if (rv != 0 || w.oom) {
		SLOG_ERROR(MOD, "msg=\"cannot encode response; closing connection\" api=%d "
				"version=%d err=\"%s\"",
			   r->h.api_key, r->h.api_version, err_str(rv != 0 ? rv : SLUICE_ENOMEM));
		wbuf_free(&w);
		net_conn_close(r->conn, "response encoding failed");
		return;
	}
	out = wbuf_take(&w);
	if (out == NULL) {
		net_conn_close(r->conn, "out of memory");
		return;
	}
	net_conn_respond(r->conn, r->seq, out, out->len);
}

int16_t broker_storage_error(int rv)
{
	switch (rv) {
	case 0:
		return KAFKA_ERR_NONE;
	case SLUICE_ERANGE:
		return KAFKA_ERR_OFFSET_OUT_OF_RANGE;
	case SLUICE_EBUSY:
		return KAFKA_ERR_REQUEST_TIMED_OUT; /* back-pressure: retriable */
	case SLUICE_ECLOSED:
	case SLUICE_ECANCELED:
	case SLUICE_ENOTLEADER:
		return KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
	case SLUICE_ETOOLARGE:
		return KAFKA_ERR_MESSAGE_TOO_LARGE;
	case SLUICE_EMALFORMED:
		return KAFKA_ERR_CORRUPT_MESSAGE;
	default:
		return KAFKA_ERR_KAFKA_STORAGE_ERROR; /* ENOSPC, EIO, EREPAIR: retriable */
	}
}

bool broker_partition_exists(struct broker *b, struct kafka_str topic, int32_t index, int16_t *err)
{
	struct topic *tp = topic.len < 0 ? NULL : topics_find(&b->topics, topic.ptr, (size_t)topic.len);

	*err = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (tp == NULL || tp->data == NULL || ((struct topic_state *)tp->data)->deleting ||
	    index < 0 || index >= tp->partitions)
		return false;
	*err = KAFKA_ERR_NONE;
	return true;
}

struct partition *broker_partition(struct broker *b, struct kafka_str topic, int32_t index,
				   int16_t *err)
{
	struct topic *tp;
	struct topic_state *ts;

	if (topic.len < 0 || (tp = topics_find(&b->topics, topic.ptr, (size_t)topic.len)) == NULL) {
		*err = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return NULL;
	}
	ts = tp->data;
	if (index < 0 || index >= tp->partitions || ts->deleting) {
		*err = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return NULL;
	}
	if (!partition_is_leader(ts->parts[index])) {
		/* Only the ready leader serves a partition; the client refreshes Metadata. */
		*err = KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
		return NULL;
	}
	*err = KAFKA_ERR_NONE;
	return ts->parts[index];
}

struct partition *broker_partition_read(struct broker *b, struct kafka_str topic, int32_t index,
					int16_t *err)
{
	struct partition *p = broker_partition(b, topic, index, err);
	if (p != NULL && !partition_read_lease(p)) {
		/* A leader cut off from its majority: another may lead already. */
		*err = KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
		return NULL;
	}
	return p;
}

static int collect_name(void *arg, const char *name)
{
	struct {
		char **v;
		int n;
		int cap;
	} *ls = arg;
	if (ls->n == ls->cap) {
		int ncap = ls->cap ? ls->cap * 2 : 16;
		char **v = realloc(ls->v, (size_t)ncap * sizeof *v);
		if (v == NULL)
			return 1;
		ls->v = v;
		ls->cap = ncap;
	}
	ls->v[ls->n] = strdup(name);
	if (ls->v[ls->n] == NULL)
		return 1;
	ls->n++;
	return 0;
}

/* Removes a partition directory and its files. Returns 0 or the first error. */
int broker_remove_dir(struct fs *fs, const char *dir)
{
	struct {
		char **v;
		int n;
		int cap;
	} ls = {0};
	int rv = fs->list_dir(fs, dir, collect_name, &ls);

	for (int i = 0; i < ls.n; i++) {
		char path[2 * PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, ls.v[i]);
		int r2 = fs->unlink(fs, path);
		if (rv == 0 && r2 != 0 && r2 != SLUICE_ENOTFOUND)
			rv = r2;
		free(ls.v[i]);
	}
	free(ls.v);
	if (rv == 0 && rmdir(dir) != 0)
		rv = err_from_errno(errno);
	return rv == SLUICE_ENOTFOUND ? 0 : rv;
}

/* ---- ApiVersions -------------------------------------------------------------------------- */

static void handle_api_versions(struct breq *r, bool unsupported)
{
	struct kafka_api_versions_response resp;

	kafka_struct_defaults(&kafka_api_versions_response_desc, &resp);
	resp.error_code = unsupported ? KAFKA_ERR_UNSUPPORTED_VERSION : KAFKA_ERR_NONE;
	resp.api_keys.v = breq_alloc(r, sizeof *resp.api_keys.v * BROKER_APIS_COUNT);
	if (resp.api_keys.v == NULL) {
		net_conn_close(r->conn, "out of memory");
		breq_free(r);
		return;
	}
	resp.api_keys.n = (int32_t)BROKER_APIS_COUNT;
	for (size_t i = 0; i < BROKER_APIS_COUNT; i++) {
		resp.api_keys.v[i].api_key = broker_apis[i].key;
		resp.api_keys.v[i].min_version = broker_apis[i].min;
		resp.api_keys.v[i].max_version = broker_apis[i].max;
	}
	if (unsupported)
		r->h.api_version = 0; /* KIP-511: answer in v0 */
	breq_respond(r, &resp);
	breq_free(r);
}

struct topic_state *topic_state_new(struct topic *tp, int32_t n)
{
	struct topic_state *ts = calloc(1, sizeof(*ts));
	if (ts == NULL)
		return NULL;
	if (topic_state_grow(ts, tp, n) != 0) {
		free(ts);
		return NULL;
	}
	return ts;
}

int topic_state_grow(struct topic_state *ts, struct topic *tp, int32_t n)
{
	if (n <= ts->nparts)
		return 0;
	struct partition **v = realloc(ts->parts, (size_t)n * sizeof(*v));
	if (v == NULL)
		return SLUICE_ENOMEM;
	ts->parts = v;
	int32_t i = ts->nparts;
	for (; i < n; i++) {
		v[i] = calloc(1, sizeof(*v[i]));
		if (v[i] == NULL)
			break;
		v[i]->topic = tp;
		v[i]->index = i;
	}
	if (i < n) {
		while (i-- > ts->nparts)
			free(v[i]);
		return SLUICE_ENOMEM;
	}
	ts->nparts = n;
	return 0;
}

void topic_state_free(struct topic_state *ts)
{
	if (ts == NULL)
		return;
	for (int32_t i = 0; i < ts->nparts; i++)
		free(ts->parts[i]);
	free(ts->parts);
	free(ts);
}

/* Answers every parked Fetch that waits on a partition of `ts`, so none outlives it. */
void broker_release_waiters(struct topic *tp)
{
	struct topic_state *ts = tp->data;

	for (int32_t i = 0; i < tp->partitions; i++) {
		struct partition *p = ts->parts[i];
		while (p->waiters != NULL) {
			struct partition_waiter *w = p->waiters;
			partition_unwait(w);
			w->wake(w);
		}
	}
}

/* ---- DescribeConfigs ---------------------------------------------------------------------- */

enum {
	CONFIG_RESOURCE_TOPIC = 2,
	CONFIG_RESOURCE_BROKER = 4,
	CONFIG_SOURCE_TOPIC = 1,
	CONFIG_SOURCE_STATIC_BROKER = 4,
	CONFIG_SOURCE_DEFAULT = 5,
};

static const char *broker_default(const struct broker *b, const char *broker_key, char *tmp,
				  size_t n)
{
	const struct broker_config *c = &b->cfg;

	if (strcmp(broker_key, "log.cleanup.policy") == 0)
		return "delete";
	if (strcmp(broker_key, "log.cleaner.delete.retention.ms") == 0) {
		snprintf(tmp, n, "%lld", (long long)CLEANER_DELETE_RETENTION_MS_DEFAULT);
		return tmp;
	}
	if (strcmp(broker_key, "compression.type") == 0)
		return "producer";
	if (strcmp(broker_key, "log.message.timestamp.type") == 0)
		return "CreateTime";
	if (strcmp(broker_key, "message.max.bytes") == 0)
		snprintf(tmp, n, "%d", c->message_max_bytes);
	else if (strcmp(broker_key, "min.insync.replicas") == 0)
		snprintf(tmp, n, "1");
	else if (strcmp(broker_key, "log.retention.bytes") == 0)
		snprintf(tmp, n, "%" PRId64, c->log.retention_bytes);
	else if (strcmp(broker_key, "log.retention.ms") == 0)
		snprintf(tmp, n, "%" PRId64, c->log.retention_ms);
	else if (strcmp(broker_key, "log.segment.bytes") == 0)
		snprintf(tmp, n, "%" PRIu64, c->log.segment_bytes);
	else if (strcmp(broker_key, "log.roll.ms") == 0)
		snprintf(tmp, n, "%" PRId64, c->log.roll_ms);
	else
		return NULL;
	return tmp;
}

static bool key_wanted(const struct kafka_describe_configs_request_describe_configs_resource *res,
		       const char *key)
{
	if (res->configuration_keys.n < 0)
		return true;
	for (int32_t i = 0; i < res->configuration_keys.n; i++)
		if (kafka_str_eq(res->configuration_keys.v[i], key))
			return true;
	return false;
}

static void handle_describe_configs(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_describe_configs_request *req = r->body;
	struct kafka_describe_configs_response resp;
	int32_t n = req->resources.n < 0 ? 0 : req->resources.n;

	kafka_struct_defaults(&kafka_describe_configs_response_desc, &resp);
	resp.results.v = breq_alloc_structs(
		r, &kafka_describe_configs_response_describe_configs_result_desc, n);
	if (resp.results.v == NULL)
		goto err_oom;
	resp.results.n = n;
	for (int32_t i = 0; i < n; i++) {
		struct kafka_describe_configs_request_describe_configs_resource *rq =
			&req->resources.v[i];
		struct kafka_describe_configs_response_describe_configs_result *res =
			&resp.results.v[i];
		size_t nkeys = topics_config_keys_count;
		struct topic *tp = NULL;

		res->resource_type = rq->resource_type;
		res->resource_name = rq->resource_name;
		res->error_message = kafka_str_null();
		res->configs.n = 0;
		if (rq->resource_type == CONFIG_RESOURCE_TOPIC) {
			tp = rq->resource_name.len < 0
				     ? NULL
				     : topics_find(&b->topics, rq->resource_name.ptr,
						   (size_t)rq->resource_name.len);
			if (tp == NULL) {
				res->error_code = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
		} else if (rq->resource_type != CONFIG_RESOURCE_BROKER) {
			res->error_code = KAFKA_ERR_INVALID_REQUEST;
			res->error_message = kafka_str_c("only topic and broker resources");
			continue;
		}
		res->configs.v = breq_alloc_structs(
			r, &kafka_describe_configs_response_describe_configs_resource_result_desc,
			(int32_t)nkeys);
		if (res->configs.v == NULL)
			goto err_oom;
		for (size_t k = 0; k < nkeys; k++) {
			const struct topic_config_key *ck = &topics_config_keys[k];
			const char *name = tp != NULL ? ck->name : ck->broker_key;
			const char *v = tp != NULL ? topic_config_get(tp, ck->name) : NULL;
			char *tmp = breq_alloc(r, 32);
			int8_t source = CONFIG_SOURCE_TOPIC;
			if (tmp == NULL)
				goto err_oom;
			if (!key_wanted(rq, name))
				continue;
			if (v == NULL) {
				v = broker_default(b, ck->broker_key, tmp, 32);
				source = tp != NULL ? CONFIG_SOURCE_DEFAULT : CONFIG_SOURCE_STATIC_BROKER;
			}
			struct kafka_describe_configs_response_describe_configs_resource_result *c =
				&res->configs.v[res->configs.n++];
			c->name = kafka_str_c(name);
			c->value = kafka_str_c(v);
			c->read_only = tp == NULL;
			c->is_default = source == CONFIG_SOURCE_DEFAULT;
			c->config_source = source;
			c->is_sensitive = false;
			c->synonyms.n = 0;
			c->documentation = kafka_str_null();
		}
		res->error_code = KAFKA_ERR_NONE;
	}
	breq_respond(r, &resp);
	breq_free(r);
	return;

err_oom:
	net_conn_close(r->conn, "out of memory in DescribeConfigs");
	breq_free(r);
}

/* ---- dispatch ----------------------------------------------------------------------------- */

/* Answers a request for an API or version this node does not serve, keeping the connection
 * usable: ApiVersions gets its v0 fallback (KIP-511); an API the codec knows, at a version it can
 * encode, gets that API's response with its top-level ErrorCode set to UNSUPPORTED_VERSION and
 * everything else at defaults; anything else gets the response header and a bare error code.
 * Logged once per connection. */
static void answer_unsupported(struct breq *r)
{
	struct bconn *bc = net_conn_data(r->conn);
	const struct kafka_api *ka = kafka_api_find(r->h.api_key);

	if (r->h.api_key == KAFKA_API_API_VERSIONS && r->h.api_version > 0) {
		/* The normal negotiation of newer clients (librdkafka starts with v3): not news. */
		SLOG_DEBUG(MOD, "msg=\"ApiVersions fallback\" peer=%s version=%d",
			   net_conn_peer(r->conn), r->h.api_version);
	} else if (bc != NULL && !bc->warned_unsupported) {
		bc->warned_unsupported = true;
		SLOG_WARN(MOD, "msg=\"unsupported request\" peer=%s client_id=\"%.*s\" api=%d "
			       "version=%d",
			  net_conn_peer(r->conn), r->h.client_id.len < 0 ? 0 : (int)r->h.client_id.len,
			  r->h.client_id.ptr != NULL ? r->h.client_id.ptr : "", r->h.api_key,
			  r->h.api_version);
	}
	if (r->h.api_key == KAFKA_API_API_VERSIONS) {
		handle_api_versions(r, true);
		return;
	}
	if (ka != NULL && kafka_version_supported(ka, r->h.api_version)) {
		void *resp = breq_alloc(r, ka->response->size);
		if (resp != NULL) {
			kafka_struct_defaults(ka->response, resp);
			for (uint16_t i = 0; i < ka->response->fields_count; i++) {
				const struct kafka_field *f = &ka->response->fields[i];
				if (f->type == KAFKA_T_INT16 && strcmp(f->name, "ErrorCode") == 0)
					*(int16_t *)((uint8_t *)resp + f->offset) =
						KAFKA_ERR_UNSUPPORTED_VERSION;
			}
			breq_respond(r, resp);
			breq_free(r);
			return;
		}
	}
	/* Not encodable: correlation id and the error code, which is what every response that
	 * starts with an ErrorCode would carry. */
	struct buf *out = buf_new(6);
	if (out == NULL) {
		net_conn_close(r->conn, "out of memory");
		breq_free(r);
		return;
	}
	be32_put(out->data, (uint32_t)r->h.correlation_id);
	be16_put(out->data + 4, (uint16_t)KAFKA_ERR_UNSUPPORTED_VERSION);
	out->len = 6;
	r->responded = true;
	net_conn_respond(r->conn, r->seq, out, out->len);
	breq_free(r);
}

typedef void (*handler_fn)(struct breq *r);

static handler_fn handler_for(int16_t key)
{
	switch (key) {
	case KAFKA_API_PRODUCE:
		return handle_produce;
	case KAFKA_API_FETCH:
		return handle_fetch;
	case KAFKA_API_LIST_OFFSETS:
		return handle_list_offsets;
	case KAFKA_API_METADATA:
		return handle_metadata;
	case KAFKA_API_FIND_COORDINATOR:
		return handle_find_coordinator;
	case KAFKA_API_CREATE_TOPICS:
		return handle_create_topics;
	case KAFKA_API_CREATE_PARTITIONS:
		return handle_create_partitions;
	case KAFKA_API_DELETE_TOPICS:
		return handle_delete_topics;
	case KAFKA_API_UNREGISTER_BROKER:
		return handle_unregister_broker;
	case KAFKA_API_DESCRIBE_CONFIGS:
		return handle_describe_configs;
	case KAFKA_API_INIT_PRODUCER_ID:
		return handle_init_producer_id;
	case KAFKA_API_JOIN_GROUP:
		return consumer_groups_join_group; /* classic, unless the id is a consumer group */
	case KAFKA_API_SYNC_GROUP:
		return handle_sync_group;
	case KAFKA_API_HEARTBEAT:
		return handle_heartbeat;
	case KAFKA_API_LEAVE_GROUP:
		return handle_leave_group;
	case KAFKA_API_OFFSET_COMMIT:
		return consumer_groups_offset_commit; /* member epochs checked for KIP-848 groups */
	case KAFKA_API_OFFSET_FETCH:
		return handle_offset_fetch;
	case KAFKA_API_DESCRIBE_GROUPS:
		return handle_describe_groups;
	case KAFKA_API_LIST_GROUPS:
		return handle_list_groups;
	case KAFKA_API_DELETE_GROUPS:
		return handle_delete_groups;
	case KAFKA_API_OFFSET_DELETE:
		return handle_offset_delete;
	case KAFKA_API_ELECT_LEADERS:
		return handle_elect_leaders;
	case KAFKA_API_ALTER_PARTITION_REASSIGNMENTS:
	case KAFKA_API_LIST_PARTITION_REASSIGNMENTS:
		return handle_partition_reassignments;
	case KAFKA_API_CONSUMER_GROUP_HEARTBEAT:
		return handle_consumer_group_heartbeat;
	case KAFKA_API_CONSUMER_GROUP_DESCRIBE:
		return handle_consumer_group_describe;
	default:
		return NULL;
	}
}

static void on_request(void *arg, struct net_conn *c, uint64_t seq, struct buf *frame, size_t len)
{
	struct broker *b = arg;
	struct breq *r;
	const struct broker_api *ba;
	const struct kafka_api *ka;
	int rv;

	if (net_conn_data(c) == NULL) {
		struct bconn *bc = calloc(1, sizeof *bc);
		if (bc == NULL) {
			buf_unref(frame);
			net_conn_close(c, "out of memory");
			return;
		}
		net_conn_set_data(c, bc);
	}
	r = calloc(1, sizeof *r);
	if (r == NULL) {
		buf_unref(frame);
		net_conn_close(c, "out of memory");
		return;
	}
	r->b = b;
	r->conn = c;
	net_conn_ref(c);
	r->seq = seq;
	r->frame = frame;
	arena_init(&r->arena, BROKER_ARENA_BYTES_MAX);
	rv = kafka_request_header_decode(frame->data, len, &r->h);
	if (rv != 0) {
		b->requests_refused[BROKER_REFUSED_MALFORMED_HEADER]++;
		net_conn_close(c, "malformed request header");
		breq_free(r);
		return;
	}
	b->requests_by_api[r->h.api_key >= 0 && r->h.api_key < BROKER_API_KEYS_COUNTED
				   ? r->h.api_key
				   : BROKER_API_KEYS_COUNTED]++;
	ba = broker_api_find(r->h.api_key);
	ka = kafka_api_find(r->h.api_key);
	if (ba == NULL || ka == NULL || r->h.api_version < ba->min || r->h.api_version > ba->max) {
		b->requests_refused[BROKER_REFUSED_UNSUPPORTED]++;
		answer_unsupported(r);
		return;
	}
	r->body = breq_alloc(r, ka->request->size);
	if (r->body == NULL) {
		net_conn_close(c, "out of memory");
		breq_free(r);
		return;
	}
	rv = kafka_request_decode(r->h.api_key, r->h.api_version, frame->data + r->h.header_bytes,
				  len - r->h.header_bytes, &r->arena, r->body);
	if (rv != 0) {
		char why[128];
		b->requests_refused[BROKER_REFUSED_MALFORMED_BODY]++;
		snprintf(why, sizeof why, "malformed %s v%d request (%s)", ka->name,
			 r->h.api_version, err_str(rv));
		net_conn_close(c, why);
		breq_free(r);
		return;
	}
	if (r->h.api_key == KAFKA_API_API_VERSIONS) {
		handle_api_versions(r, false);
		return;
	}
	if (groups_not_coordinator(r))
		return;
	handler_for(r->h.api_key)(r);
}

static void on_close(void *arg, struct net_conn *c)
{
	(void)arg;
	free(net_conn_data(c));
	net_conn_set_data(c, NULL);
}

/* ---- parked requests ---------------------------------------------------------------------- */

static void ready_idle_cb(uv_idle_t *h)
{
	struct broker *b = h->data;

	/* Requests that become ready while these complete wait for the next turn. */
	struct breq *list = b->ready_head;
	b->ready_head = NULL;
	uv_idle_stop(&b->ready_idle);
	while (list != NULL) {
		struct breq *r = list;
		list = r->next_ready;
		r->next_ready = NULL;
		fetch_complete_parked(r);
	}
}

void broker_schedule_ready(struct breq *r)
{
	struct broker *b = r->b;

	if (r->ready)
		return;
	r->ready = true;
	r->next_ready = b->ready_head;
	b->ready_head = r;
	uv_idle_start(&b->ready_idle, ready_idle_cb);
}

/* ---- retention ---------------------------------------------------------------------------- */

static bool topic_compacted(const struct topic *tp)
{
	const char *v = topic_config_get(tp, "cleanup.policy");

	return v != NULL && strcmp(v, "compact") == 0;
}

static int64_t topic_delete_retention_ms(const struct topic *tp)
{
	const char *v = topic_config_get(tp, "delete.retention.ms");

	return v != NULL ? strtoll(v, NULL, 10) : CLEANER_DELETE_RETENTION_MS_DEFAULT;
}

struct compaction {
	struct broker *b;
	struct partition *p;
	struct cleaner *c;
};

/* Runs on the loop when the partition's compaction op completes, before any close of its log
 * completes (ops are ordered), so `p` is still valid. */
static void compaction_done_cb(void *arg, int status, const struct plog_compact_stats *st)
{
	struct compaction *job = cleaner_data(arg);
	const struct cleaner_stats *cs = cleaner_stats(job->c);

	if (status == 0) {
		job->p->cleaned_end = st->cleaned_end;
		job->p->cleaned_ms = clock_wall_ms(job->b->clock);
		job->p->tombstones_left = cs->tombstones_kept > 0;
		SLOG_INFO(MOD, "msg=\"compaction done\" topic=%s partition=%d segments=%d "
			       "bytes_before=%" PRIu64 " bytes_after=%" PRIu64 " records_removed=%" PRIu64
			       " tombstones_removed=%" PRIu64 " keys=%" PRIu64,
			  job->p->topic->name, job->p->index, st->segments_rewritten, st->bytes_before,
			  st->bytes_after, cs->records_removed, cs->tombstones_removed, cs->keys);
	}
	job->b->compacting = false;
	cleaner_free(job->c);
	free(job);
}

/* Whether partition `p` of a compacted topic is worth compacting: its closed segments not seen by
 * the last run are at least half of all closed bytes (Kafka's min.cleanable.dirty.ratio 0.5), or
 * tombstones it kept have had time to expire. */
static bool compaction_due(const struct partition *p, int64_t delete_retention_ms, int64_t now)
{
	uint64_t dirty = plog_closed_bytes_from(p->log, p->cleaned_end);
	uint64_t closed = plog_closed_bytes_from(p->log, INT64_MIN);

	if (dirty > 0 && dirty * 2 >= closed)
		return true;
	return p->tombstones_left && closed > 0 && now - p->cleaned_ms >= delete_retention_ms;
}

/* Starts one compaction if none is running and some partition of a compacted topic is due. */
static void compaction_tick(struct broker *b)
{
	int64_t now = clock_wall_ms(b->clock);

	if (b->compacting || b->stopping)
		return;
	for (int i = 0; i < b->topics.n; i++) {
		struct topic *tp = b->topics.v[i];
		struct topic_state *ts = tp->data;
		int64_t drm = topic_delete_retention_ms(tp);
		if (ts == NULL || ts->deleting || !topic_compacted(tp))
			continue;
		for (int j = 0; j < tp->partitions; j++) {
			struct partition *p = ts->parts[j];
			struct compaction *job;
			if (p->group == NULL)
				continue;
			struct cleaner_config cc = {.now_ms = now, .delete_retention_ms = drm,
						    .max_offset = p->hw};
			if (p->closing || !compaction_due(p, drm, now))
				continue;
			job = calloc(1, sizeof *job);
			if (job == NULL)
				return;
			job->b = b;
			job->p = p;
			cc.data = job;
			job->c = cleaner_new(&cc);
			if (job->c == NULL ||
			    plog_compact(p->log, &cleaner_compactor, job->c, compaction_done_cb) != 0) {
				cleaner_free(job->c);
				free(job);
				continue;
			}
			b->compacting = true;
			return;
		}
	}
}

/* Retention for topics with cleanup.policy=delete; compacted topics ("compact" without
 * ",delete") keep every segment and are compacted instead. */
static void retention_cb(uv_timer_t *t)
{
	struct broker *b = t->data;

	for (int i = 0; i < b->topics.n; i++) {
		struct topic_state *ts = b->topics.v[i]->data;
		if (ts == NULL || ts->deleting || topic_compacted(b->topics.v[i]))
			continue;
		for (int j = 0; j < b->topics.v[i]->partitions; j++)
			if (ts->parts[j]->group != NULL)
				plog_enforce_retention(ts->parts[j]->log);
	}
	compaction_tick(b);
	groups_expire_offsets(b);
}

/* ---- consumer groups ---------------------------------------------------------------------- */

/* How often the group coordinator's deadlines (sessions, rebalances) are checked. */
#define GROUP_TICK_MS 100

static void group_timer_cb(uv_timer_t *t)
{
	struct broker *b = t->data;

	if (b->gc != NULL)
		group_tick(b->gc, (int64_t)uv_now(b->loop));
	if (b->cg != NULL)
		cgroup_tick(b->cg, (int64_t)uv_now(b->loop));
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

int broker_port(const struct broker *b)
{
	return net_server_port(b->net);
}

int broker_start(struct broker **out, uv_loop_t *loop, const struct broker_config *cfg,
		 char *errmsg)
{
	struct broker *b = calloc(1, sizeof *b);
	struct net_limits lim;
	struct net_handler h = {.on_request = on_request, .on_close = on_close};
	int rv;

	if (b == NULL)
		return SLUICE_ENOMEM;
	b->loop = loop;
	b->cfg = *cfg;
	b->fs = fs_posix();
	b->clock = clock_system();
	worker_init(&b->worker, loop);
	topics_init(&b->topics);
	b->offsets_partitions = cfg->offsets_topic_num_partitions > 0
					? cfg->offsets_topic_num_partitions
					: 50;
	b->offsets = offsets_new();
	b->gc = group_new(&cfg->group, groups_complete, b, (uint64_t)uv_hrtime());
	struct cgroup_config ccfg;
	cgroup_config_default(&ccfg);
	if (cfg->cgroup.heartbeat_interval_ms > 0)
		ccfg.heartbeat_interval_ms = cfg->cgroup.heartbeat_interval_ms;
	if (cfg->cgroup.session_timeout_ms > 0)
		ccfg.session_timeout_ms = cfg->cgroup.session_timeout_ms;
	if (cfg->cgroup.default_assignor != NULL)
		ccfg.default_assignor = cfg->cgroup.default_assignor;
	b->cg = cgroup_new(&ccfg, consumer_groups_topic_lookup, b, (uint64_t)uv_hrtime() ^ 0x9e37);
	if (b->offsets == NULL || b->gc == NULL || b->cg == NULL) {
		rv = SLUICE_ENOMEM;
		goto err_after_groups;
	}
	net_limits_default(&lim);
	lim.frame_bytes_max = cfg->socket_request_max_bytes;
	if (cfg->inflight_requests_max > 0)
		lim.inflight_requests_max = cfg->inflight_requests_max;
	rv = net_server_start(loop, cfg->host, cfg->port, &lim, &h, b, &b->net, errmsg);
	if (rv != 0)
		goto err_after_groups;
	/* The cluster after the listener: registration announces the bound port. */
	rv = cluster_start(b, errmsg);
	if (rv != 0)
		goto err_after_net;
	uv_timer_init(loop, &b->group_timer);
	b->group_timer.data = b;
	uv_timer_start(&b->group_timer, group_timer_cb, GROUP_TICK_MS, GROUP_TICK_MS);
	uv_idle_init(loop, &b->ready_idle);
	b->ready_idle.data = b;
	uv_timer_init(loop, &b->retention_timer);
	b->retention_timer.data = b;
	if (cfg->retention_check_interval_ms > 0)
		uv_timer_start(&b->retention_timer, retention_cb,
			       (uint64_t)cfg->retention_check_interval_ms,
			       (uint64_t)cfg->retention_check_interval_ms);
	SLOG_INFO(MOD, "msg=\"kafka listener ready\" address=%s:%d advertised=%s:%d",
		  cfg->host, net_server_port(b->net), broker_advertised_host(b),
		  broker_advertised_port(b));
	*out = b;
	return 0;

err_after_net:
	net_server_stop(b->net, NULL, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
err_after_groups:
	cgroup_free(b->cg);
	group_free(b->gc);
	offsets_free(b->offsets);
	topics_free(&b->topics);
	free(b);
	return rv;
}

static void stop_step(struct broker *b)
{
	if (--b->closing > 0)
		return;
	for (int i = 0; i < b->topics.n; i++) {
		struct topic_state *ts = b->topics.v[i]->data;
		topic_state_free(ts);
	}
	topics_free(&b->topics);
	offsets_free(b->offsets);
	void (*cb)(void *) = b->stop_cb;
	void *arg = b->stop_arg;
	free(b);
	if (cb != NULL)
		cb(arg);
}

static void stop_handle_cb(uv_handle_t *h)
{
	stop_step(h->data);
}

static void stop_cluster_cb(void *arg)
{
	stop_step(arg);
}

static void stop_partitions_closed_cb(void *arg)
{
	struct broker *b = arg;

	/* Every replica group is closed: now the metadata replica and the transport. */
	if (--b->closing_parts > 0)
		return;
	b->closing++;
	cluster_stop(b, stop_cluster_cb, b);
	stop_step(b);
}

void broker_opened_one(struct broker *b)
{
	if (b->stopping && b->closing_parts > 0)
		stop_partitions_closed_cb(b);
}

static void stop_net_cb(void *arg)
{
	struct broker *b = arg;

	/* Connections are gone; close the partitions (flushing queued appends). Replicas being
	 * opened on the worker are discarded when their job returns. */
	b->closing_parts = 1 + b->opening;
	for (int i = 0; i < b->topics.n; i++) {
		struct topic_state *ts = b->topics.v[i]->data;
		if (ts == NULL)
			continue;
		for (int j = 0; j < b->topics.v[i]->partitions; j++) {
			if (ts->parts[j]->group == NULL)
				continue;
			b->closing_parts++;
			partition_close(ts->parts[j], stop_partitions_closed_cb, b);
		}
	}
	/* The net's share of b->closing now stands for the partitions. */
	stop_partitions_closed_cb(b);
}

void broker_stop(struct broker *b, void (*cb)(void *arg), void *arg)
{
	b->stopping = true;
	b->stop_cb = cb;
	b->stop_arg = arg;
	/* Answer parked fetches now rather than at their deadline. */
	while (b->parked != NULL)
		fetch_complete_parked(b->parked);
	/* And CreateTopics/CreatePartitions waiting for leaders (the cluster's tick no longer
	 * runs them once stopping); those with a command in flight finish when cluster_stop
	 * fails it. */
	broker_cluster_tick(b);
	/* Parked JoinGroup/SyncGroup requests are answered with COORDINATOR_NOT_AVAILABLE. */
	group_free(b->gc);
	b->gc = NULL;
	cgroup_free(b->cg);
	b->cg = NULL;
	b->closing = 4; /* net, the three handles */
	uv_timer_stop(&b->group_timer);
	uv_close((uv_handle_t *)&b->group_timer, stop_handle_cb);
	uv_timer_stop(&b->retention_timer);
	uv_idle_stop(&b->ready_idle);
	uv_close((uv_handle_t *)&b->retention_timer, stop_handle_cb);
	uv_close((uv_handle_t *)&b->ready_idle, stop_handle_cb);
	net_server_stop(b->net, stop_net_cb, b);
}
