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

#include <assert.h>
#include <errno.h>
#include <unistd.h>
#include <inttypes.h>
#include <limits.h>
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
		return KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
	case SLUICE_ETOOLARGE:
		return KAFKA_ERR_MESSAGE_TOO_LARGE;
	case SLUICE_EMALFORMED:
		return KAFKA_ERR_CORRUPT_MESSAGE;
	default:
		return KAFKA_ERR_KAFKA_STORAGE_ERROR; /* ENOSPC, EIO, EREPAIR: retriable */
	}
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
	*err = KAFKA_ERR_NONE;
	return &ts->parts[index];
}

/* ---- partitions --------------------------------------------------------------------------- */

static void partition_dir(const struct broker *b, const char *topic, int32_t i, char *out,
			  size_t n)
{
	snprintf(out, n, "%s/%s-%d", b->cfg.log_dir, topic, i);
}

/* The log configuration of a topic: the broker's defaults with the topic's overrides. */
static void topic_log_config(const struct broker *b, const struct topic *tp,
			     struct plog_config *c)
{
	const char *v;

	*c = b->cfg.log;
	if ((v = topic_config_get(tp, "segment.bytes")) != NULL)
		c->segment_bytes = strtoull(v, NULL, 10);
	if ((v = topic_config_get(tp, "segment.ms")) != NULL)
		c->roll_ms = strtoll(v, NULL, 10);
	if ((v = topic_config_get(tp, "retention.ms")) != NULL)
		c->retention_ms = strtoll(v, NULL, 10);
	if ((v = topic_config_get(tp, "retention.bytes")) != NULL)
		c->retention_bytes = strtoll(v, NULL, 10);
}

/* Opens every partition of `tp` (blocking; start-up or a worker). On failure the ones opened
 * are closed again synchronously is not possible, so they stay in ts for the caller to close. */
static int open_partitions(struct broker *b, struct topic *tp, struct topic_state *ts,
			   char *errmsg)
{
	struct plog_config c;

	topic_log_config(b, tp, &c);
	for (int32_t i = 0; i < tp->partitions; i++) {
		char dir[PATH_MAX], name[TOPIC_NAME_BYTES_MAX + 16];
		partition_dir(b, tp->name, i, dir, sizeof dir);
		snprintf(name, sizeof name, "%s-%d", tp->name, i);
		struct plog_open_args a = {.dir = dir, .name = name, .fs = b->fs,
					   .exec = &b->worker.exec, .clock = b->clock, .config = c};
		int rv = partition_open(&ts->parts[i], tp, i, &a, errmsg);
		if (rv != 0)
			return rv;
		ts->nopen++;
	}
	return 0;
}

static struct topic_state *topic_state_new(const struct topic *tp)
{
	struct topic_state *ts = calloc(1, sizeof *ts);

	if (ts == NULL)
		return NULL;
	ts->parts = calloc((size_t)tp->partitions, sizeof *ts->parts);
	if (ts->parts == NULL) {
		free(ts);
		return NULL;
	}
	return ts;
}

/* ---- the topics file ----------------------------------------------------------------------- */

static int meta_path(const struct broker *b, char *out, size_t n)
{
	return snprintf(out, n, "%s/%s", b->cfg.log_dir, TOPICS_FILE_NAME) >= (int)n ? -1 : 0;
}

/* Writes the registry image (blocking). */
static int meta_write(struct broker *b, const struct buf *img)
{
	char path[PATH_MAX];

	meta_path(b, path, sizeof path);
	return fs_write_atomic(b->fs, b->cfg.log_dir, path, img->data, img->len);
}

static void new_cluster_id(char *out, size_t n)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t rnd[22];

	if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
		for (size_t i = 0; i < sizeof rnd; i++)
			rnd[i] = (uint8_t)(rand() & 0xff);
	for (size_t i = 0; i < sizeof rnd && i + 1 < n; i++) {
		out[i] = alphabet[rnd[i] & 63];
		out[i + 1] = '\0';
	}
}

static int meta_load(struct broker *b, char *errmsg)
{
	char path[PATH_MAX];
	void *data;
	size_t n;
	int rv;

	meta_path(b, path, sizeof path);
	rv = fs_read_all(b->fs, path, (size_t)64 << 20, &data, &n);
	if (rv == SLUICE_ENOTFOUND) {
		struct buf *img;
		new_cluster_id(b->topics.cluster_id, sizeof b->topics.cluster_id);
		img = topics_encode(&b->topics);
		if (img == NULL)
			return SLUICE_ENOMEM;
		rv = meta_write(b, img);
		buf_unref(img);
		if (rv != 0)
			errmsg_printf(errmsg, "%s: %s", path, err_str(rv));
		else
			SLOG_INFO(MOD, "msg=\"new cluster\" cluster_id=%s", b->topics.cluster_id);
		return rv;
	}
	if (rv != 0) {
		errmsg_printf(errmsg, "%s: %s", path, err_str(rv));
		return rv;
	}
	rv = topics_decode(&b->topics, data, n, errmsg);
	free(data);
	if (rv != 0)
		errmsg_wrapf(errmsg, "%s", path);
	return rv;
}

/* ---- admin jobs: one at a time ---------------------------------------------------------- */

struct admin_job {
	struct buf *img; /* the topics file to write */
	/* CreateTopics: topics whose partitions the job opens */
	struct topic **create;
	struct topic_state **create_state;
	int ncreate;
	/* DeleteTopics: directories to remove */
	char **rmdirs;
	int nrmdirs;
	void (*done)(struct breq *r, int status);
	errmsg_t errmsg;
};

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
static int remove_dir(struct fs *fs, const char *dir)
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

static void admin_work(struct exec_job *job)
{
	struct breq *r = (struct breq *)((char *)job - offsetof(struct breq, job));
	struct broker *b = r->b;
	struct admin_job *aj = r->job_data;
	int rv = 0;

	for (int i = 0; i < aj->ncreate && rv == 0; i++)
		rv = open_partitions(b, aj->create[i], aj->create_state[i], aj->errmsg);
	if (rv == 0 && aj->img != NULL) {
		rv = meta_write(b, aj->img);
		if (rv != 0)
			errmsg_printf(aj->errmsg, "writing the topics file: %s", err_str(rv));
	}
	for (int i = 0; i < aj->nrmdirs; i++) {
		int r2 = remove_dir(b->fs, aj->rmdirs[i]);
		if (r2 != 0)
			SLOG_WARN(MOD, "msg=\"could not remove partition directory\" dir=\"%s\" "
				       "err=\"%s\"",
				  aj->rmdirs[i], err_str(r2));
	}
	r->job_status = rv;
}

static void admin_done(struct exec_job *job)
{
	struct breq *r = (struct breq *)((char *)job - offsetof(struct breq, job));
	struct broker *b = r->b;
	struct admin_job *aj = r->job_data;

	b->meta_writing = false;
	buf_unref(aj->img);
	for (int i = 0; i < aj->nrmdirs; i++)
		free(aj->rmdirs[i]);
	free(aj->rmdirs);
	aj->done(r, r->job_status);
	free(aj->create);
	free(aj->create_state);
	free(aj);
}

/* Runs `aj` for `r` on the worker; `aj->done` answers. Only one admin job runs at a time: a
 * second one gets SLUICE_EBUSY and the caller answers with a retriable error. */
static int admin_submit(struct breq *r, struct admin_job *aj)
{
	struct broker *b = r->b;

	if (b->meta_writing)
		return SLUICE_EBUSY;
	b->meta_writing = true;
	r->job_data = aj;
	r->job.work = admin_work;
	r->job.done = admin_done;
	return exec_submit(&b->worker.exec, &r->job);
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

/* ---- Metadata ----------------------------------------------------------------------------- */

static const char *advertised_host(const struct broker *b)
{
	return b->cfg.advertised_host[0] ? b->cfg.advertised_host : b->cfg.host;
}

static int advertised_port(const struct broker *b)
{
	return b->cfg.advertised_port ? b->cfg.advertised_port : net_server_port(b->net);
}

static int fill_topic_metadata(struct breq *r, struct kafka_metadata_response_metadata_response_topic *t,
			       struct topic *tp)
{
	int32_t node = r->b->cfg.node_id;

	t->error_code = KAFKA_ERR_NONE;
	t->name = kafka_str_c(tp->name);
	memcpy(t->topic_id.b, tp->id, 16);
	t->is_internal = tp->internal;
	t->partitions.v = breq_alloc_structs(r, &kafka_metadata_response_metadata_response_partition_desc,
					     tp->partitions);
	if (t->partitions.v == NULL)
		return SLUICE_ENOMEM;
	t->partitions.n = tp->partitions;
	int32_t *nodes = breq_alloc(r, sizeof *nodes);
	if (nodes == NULL)
		return SLUICE_ENOMEM;
	nodes[0] = node;
	for (int32_t i = 0; i < tp->partitions; i++) {
		struct kafka_metadata_response_metadata_response_partition *p = &t->partitions.v[i];
		p->error_code = KAFKA_ERR_NONE;
		p->partition_index = i;
		p->leader_id = node;
		p->leader_epoch = 0;
		p->replica_nodes.v = nodes;
		p->replica_nodes.n = 1;
		p->isr_nodes.v = nodes;
		p->isr_nodes.n = 1;
		p->offline_replicas.n = 0;
	}
	return 0;
}

static int create_topic_now(struct broker *b, const char *name, int32_t parts, char *errmsg);

static void handle_metadata(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_metadata_request *req = r->body;
	struct kafka_metadata_response resp;
	bool all = req->topics.n < 0 || (r->h.api_version == 0 && req->topics.n == 0);
	bool auto_create = b->cfg.auto_create_topics_enable &&
			   (r->h.api_version < 4 || req->allow_auto_topic_creation);
	int32_t n = all ? b->topics.n : req->topics.n;
	int rv = 0;

	kafka_struct_defaults(&kafka_metadata_response_desc, &resp);
	resp.brokers.v = breq_alloc_structs(r, &kafka_metadata_response_metadata_response_broker_desc, 1);
	resp.topics.v = breq_alloc_structs(r, &kafka_metadata_response_metadata_response_topic_desc, n);
	if (resp.brokers.v == NULL || resp.topics.v == NULL)
		goto err_oom;
	resp.brokers.n = 1;
	resp.brokers.v[0].node_id = b->cfg.node_id;
	resp.brokers.v[0].host = kafka_str_c(advertised_host(b));
	resp.brokers.v[0].port = advertised_port(b);
	resp.brokers.v[0].rack = kafka_str_null();
	resp.cluster_id = kafka_str_c(b->topics.cluster_id);
	resp.controller_id = b->cfg.node_id;
	resp.topics.n = n;
	for (int32_t i = 0; i < n && rv == 0; i++) {
		struct kafka_metadata_response_metadata_response_topic *t = &resp.topics.v[i];
		struct topic *tp;
		if (all) {
			rv = fill_topic_metadata(r, t, b->topics.v[i]);
			continue;
		}
		struct kafka_str name = req->topics.v[i].name;
		t->name = name;
		t->partitions.n = 0;
		if (name.len < 0 && r->h.api_version >= 10) {
			/* v12: a topic asked for by TopicId (consumers resolving KIP-848
			 * assignments). */
			static const uint8_t zero[16];
			const uint8_t *id = req->topics.v[i].topic_id.b;
			tp = NULL;
			for (int k = 0; k < b->topics.n && memcmp(id, zero, 16) != 0; k++)
				if (memcmp(b->topics.v[k]->id, id, 16) == 0)
					tp = b->topics.v[k];
			if (tp != NULL && !((struct topic_state *)tp->data)->deleting) {
				rv = fill_topic_metadata(r, t, tp);
				continue;
			}
			memcpy(t->topic_id.b, id, 16);
			t->error_code = KAFKA_ERR_UNKNOWN_TOPIC_ID;
			continue;
		}
		if (name.len < 0 || !topics_name_valid(name.ptr, (size_t)name.len)) {
			t->error_code = KAFKA_ERR_INVALID_TOPIC_EXCEPTION;
			continue;
		}
		tp = topics_find(&b->topics, name.ptr, (size_t)name.len);
		if (tp != NULL && !((struct topic_state *)tp->data)->deleting) {
			rv = fill_topic_metadata(r, t, tp);
			continue;
		}
		if (tp == NULL && auto_create) {
			/* Auto-created topics get the defaults. Answer LEADER_NOT_AVAILABLE until
			 * its partitions are open; the client retries Metadata (as with Kafka). */
			char cname[TOPIC_NAME_BYTES_MAX + 1];
			errmsg_t em = "";
			memcpy(cname, name.ptr, (size_t)name.len);
			cname[name.len] = '\0';
			int crv = create_topic_now(b, cname, b->cfg.num_partitions, em);
			t->error_code = crv == 0 || crv == SLUICE_EBUSY
						? KAFKA_ERR_LEADER_NOT_AVAILABLE
						: KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			if (crv != 0 && crv != SLUICE_EBUSY)
				SLOG_WARN(MOD, "msg=\"auto-create failed\" topic=%s err=\"%s\"",
					  cname, em);
			continue;
		}
		t->error_code = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (rv != 0)
		goto err_oom;
	breq_respond(r, &resp);
	breq_free(r);
	return;

err_oom:
	net_conn_close(r->conn, "out of memory building metadata");
	breq_free(r);
}

/* ---- FindCoordinator ---------------------------------------------------------------------- */

static void handle_find_coordinator(struct breq *r)
{
	struct kafka_find_coordinator_response resp;

	/* One node: it coordinates every group. */
	struct kafka_find_coordinator_request *req = r->body;

	kafka_struct_defaults(&kafka_find_coordinator_response_desc, &resp);
	if (r->h.api_version >= 1 && req->key_type != 0) {
		/* Transactions are not supported: there is no transaction coordinator. */
		resp.error_code = KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
		resp.error_message = kafka_str_c("transactions are not supported");
		resp.node_id = -1;
		resp.host = kafka_str_c("");
		resp.port = -1;
		breq_respond(r, &resp);
		breq_free(r);
		return;
	}
	resp.error_code = KAFKA_ERR_NONE;
	resp.error_message = kafka_str_null();
	resp.node_id = r->b->cfg.node_id;
	resp.host = kafka_str_c(advertised_host(r->b));
	resp.port = advertised_port(r->b);
	breq_respond(r, &resp);
	breq_free(r);
}

/* ---- CreateTopics ------------------------------------------------------------------------- */

struct create_ctx {
	struct kafka_create_topics_response resp;
	struct topic **added; /* registered by this request, parallel to `result_index` */
	int *result_index;
	int nadded;
};

static void create_done(struct breq *r, int status)
{
	struct broker *b = r->b;
	struct create_ctx *cc = r->resp;
	struct admin_job *aj = r->job_data;

	for (int i = 0; i < cc->nadded; i++) {
		struct topic *tp = cc->added[i];
		struct topic_state *ts = tp->data;
		struct kafka_create_topics_response_creatable_topic_result *res =
			&cc->resp.topics.v[cc->result_index[i]];
		if (status != 0) {
			/* Nothing is acknowledged: undo the registration. Partitions that did
			 * open are closed; their empty directories stay until the topic is
			 * created again. */
			res->error_code = KAFKA_ERR_KAFKA_STORAGE_ERROR;
			res->error_message = kafka_str_c(aj->errmsg);
			ts->deleting = true;
			for (int j = 0; j < ts->nopen; j++)
				partition_close(&ts->parts[j], NULL, NULL);
			SLOG_ERROR(MOD, "msg=\"create topic failed\" topic=%s err=\"%s\"", tp->name,
				   aj->errmsg);
			/* The partition structs must outlive their logs' close; they are
			 * leaked here on this rare path rather than freed under a live log. */
			tp->data = NULL;
			topics_remove(&b->topics, tp);
			continue;
		}
		ts->deleting = false;
		SLOG_INFO(MOD, "msg=\"topic created\" topic=%s partitions=%d", tp->name,
			  tp->partitions);
	}
	if (r->body != NULL && cc != NULL) {
		if (r->conn != NULL)
			breq_respond(r, &cc->resp);
	}
	free(cc->added);
	free(cc->result_index);
	breq_free(r);
}

static void handle_create_topics(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_create_topics_request *req = r->body;
	struct create_ctx *cc = breq_alloc(r, sizeof *cc);
	struct admin_job *aj;
	int n = req->topics.n < 0 ? 0 : req->topics.n;

	if (cc == NULL)
		goto err_oom;
	r->resp = cc;
	kafka_struct_defaults(&kafka_create_topics_response_desc, &cc->resp);
	cc->resp.topics.v = breq_alloc_structs(
		r, &kafka_create_topics_response_creatable_topic_result_desc, n);
	cc->added = calloc((size_t)n + 1, sizeof *cc->added);
	cc->result_index = calloc((size_t)n + 1, sizeof *cc->result_index);
	aj = calloc(1, sizeof *aj);
	if (cc->resp.topics.v == NULL || cc->added == NULL || cc->result_index == NULL || aj == NULL) {
		free(aj);
		free(cc->added);
		free(cc->result_index);
		goto err_oom;
	}
	cc->resp.topics.n = n;
	for (int i = 0; i < n; i++) {
		struct kafka_create_topics_request_creatable_topic *t = &req->topics.v[i];
		struct kafka_create_topics_response_creatable_topic_result *res = &cc->resp.topics.v[i];
		char name[TOPIC_NAME_BYTES_MAX + 1];
		char *msg = breq_alloc(r, ERRMSG_BYTES_MAX);
		struct topic_config cfg[TOPIC_CONFIGS_MAX];
		int ncfg = 0;
		int32_t parts = t->num_partitions == -1 ? b->cfg.num_partitions : t->num_partitions;
		int16_t rf = t->replication_factor == -1 ? b->cfg.default_replication_factor
							 : t->replication_factor;
		struct topic *tp;

		res->name = t->name;
		res->error_message = kafka_str_null();
		if (msg == NULL)
			goto err_oom_aj;
		msg[0] = '\0';
		if (t->name.len <= 0 || !topics_name_valid(t->name.ptr, (size_t)t->name.len)) {
			res->error_code = KAFKA_ERR_INVALID_TOPIC_EXCEPTION;
			errmsg_printf(msg, "invalid topic name: use 1-249 characters of "
					   "[a-zA-Z0-9._-], not '.' or '..'");
			res->error_message = kafka_str_c(msg);
			continue;
		}
		memcpy(name, t->name.ptr, (size_t)t->name.len);
		name[t->name.len] = '\0';
		if (topics_find(&b->topics, name, strlen(name)) != NULL) {
			res->error_code = KAFKA_ERR_TOPIC_ALREADY_EXISTS;
			errmsg_printf(msg, "topic '%s' already exists", name);
			res->error_message = kafka_str_c(msg);
			continue;
		}
		if (t->assignments.n > 0) {
			/* Manual assignment can only name this node. */
			bool ok = true;
			for (int32_t j = 0; j < t->assignments.n; j++)
				for (int32_t k = 0; k < t->assignments.v[j].broker_ids.n; k++)
					ok &= t->assignments.v[j].broker_ids.v[k] == b->cfg.node_id;
			if (!ok || t->num_partitions != -1 || t->replication_factor != -1) {
				res->error_code = KAFKA_ERR_INVALID_REPLICA_ASSIGNMENT;
				errmsg_printf(msg, "replica assignment must name only node %d, "
						   "without partitions or replication factor",
					      b->cfg.node_id);
				res->error_message = kafka_str_c(msg);
				continue;
			}
			parts = t->assignments.n;
			rf = (int16_t)t->assignments.v[0].broker_ids.n;
		}
		if (parts < 1 || parts > TOPIC_PARTITIONS_MAX) {
			res->error_code = KAFKA_ERR_INVALID_PARTITIONS;
			errmsg_printf(msg, "number of partitions must be in [1, %d]",
				      TOPIC_PARTITIONS_MAX);
			res->error_message = kafka_str_c(msg);
			continue;
		}
		if (rf < 1 || rf > 1) {
			res->error_code = KAFKA_ERR_INVALID_REPLICATION_FACTOR;
			errmsg_printf(msg, "replication factor %d: this cluster has 1 node", rf);
			res->error_message = kafka_str_c(msg);
			continue;
		}
		bool cfg_ok = t->configs.n <= TOPIC_CONFIGS_MAX;
		if (!cfg_ok)
			errmsg_printf(msg, "too many configs (at most %d)", TOPIC_CONFIGS_MAX);
		for (int32_t j = 0; cfg_ok && j < t->configs.n; j++) {
			struct kafka_create_topics_request_creatable_topic_config *c =
				&t->configs.v[j];
			char *k = breq_alloc(r, (size_t)(c->name.len < 0 ? 0 : c->name.len) + 1);
			char *v = breq_alloc(r, (size_t)(c->value.len < 0 ? 0 : c->value.len) + 1);
			if (k == NULL || v == NULL)
				goto err_oom_aj;
			if (c->name.len > 0)
				memcpy(k, c->name.ptr, (size_t)c->name.len);
			if (c->value.len > 0)
				memcpy(v, c->value.ptr, (size_t)c->value.len);
			cfg[ncfg].key = k;
			cfg[ncfg].value = c->value.len < 0 ? NULL : v;
			cfg_ok = topics_config_check(k, cfg[ncfg].value, msg) == 0;
			ncfg++;
		}
		if (!cfg_ok) {
			res->error_code = KAFKA_ERR_INVALID_CONFIG;
			res->error_message = kafka_str_c(msg);
			continue;
		}
		res->num_partitions = parts;
		res->replication_factor = rf;
		if (req->validate_only)
			continue;
		if (topics_add(&b->topics, name, parts, rf, cfg, ncfg, NULL, &tp, msg) != 0) {
			res->error_code = KAFKA_ERR_INVALID_REQUEST;
			res->error_message = kafka_str_c(msg);
			continue;
		}
		struct topic_state *ts = topic_state_new(tp);
		if (ts == NULL) {
			topics_remove(&b->topics, tp);
			goto err_oom_aj;
		}
		ts->deleting = true; /* invisible until its partitions are open and durable */
		tp->data = ts;
		memcpy(res->topic_id.b, tp->id, 16);
		cc->added[cc->nadded] = tp;
		cc->result_index[cc->nadded] = i;
		cc->nadded++;
	}
	if (cc->nadded == 0) {
		free(aj);
		breq_respond(r, &cc->resp);
		free(cc->added);
		free(cc->result_index);
		breq_free(r);
		return;
	}
	aj->create = calloc((size_t)cc->nadded, sizeof *aj->create);
	aj->create_state = calloc((size_t)cc->nadded, sizeof *aj->create_state);
	aj->img = topics_encode(&b->topics);
	if (aj->create == NULL || aj->create_state == NULL || aj->img == NULL)
		goto err_oom_aj;
	for (int i = 0; i < cc->nadded; i++) {
		aj->create[i] = cc->added[i];
		aj->create_state[i] = cc->added[i]->data;
	}
	aj->ncreate = cc->nadded;
	aj->done = create_done;
	if (admin_submit(r, aj) != 0) {
		/* Another admin change is being written: fail these retriably. */
		r->job_data = aj;
		errmsg_printf(aj->errmsg, "another metadata change is in progress; retry");
		buf_unref(aj->img);
		aj->img = NULL;
		create_done(r, SLUICE_EBUSY);
		free(aj->create);
		free(aj->create_state);
		free(aj);
	}
	return;

err_oom_aj:
	free(aj);
	for (int i = 0; i < cc->nadded; i++) {
		free(cc->added[i]->data);
		cc->added[i]->data = NULL;
		topics_remove(&b->topics, cc->added[i]);
	}
	free(cc->added);
	free(cc->result_index);
err_oom:
	net_conn_close(r->conn, "out of memory in CreateTopics");
	breq_free(r);
}

/* Auto-creation from Metadata: registers the topic and opens it through an admin job with no
 * request to answer. Returns 0, SLUICE_EBUSY (retry later) or an error. */
static void autocreate_done(struct breq *r, int status)
{
	struct topic *tp = r->resp;
	struct broker *b = r->b;
	struct admin_job *aj = r->job_data;

	if (status != 0) {
		struct topic_state *ts = tp->data;
		SLOG_ERROR(MOD, "msg=\"auto-create failed\" topic=%s err=\"%s\"", tp->name,
			   aj->errmsg);
		for (int j = 0; j < ts->nopen; j++)
			partition_close(&ts->parts[j], NULL, NULL);
		tp->data = NULL;
		topics_remove(&b->topics, tp);
	} else {
		((struct topic_state *)tp->data)->deleting = false;
		SLOG_INFO(MOD, "msg=\"topic auto-created\" topic=%s partitions=%d", tp->name,
			  tp->partitions);
	}
	free(r);
}

static int create_topic_now(struct broker *b, const char *name, int32_t parts, char *errmsg)
{
	struct breq *r;
	struct admin_job *aj;
	struct topic *tp;
	struct topic_state *ts;
	int rv;

	if (b->meta_writing)
		return SLUICE_EBUSY;
	rv = topics_add(&b->topics, name, parts, b->cfg.default_replication_factor, NULL, 0, NULL,
			&tp, errmsg);
	if (rv != 0)
		return rv;
	ts = topic_state_new(tp);
	r = calloc(1, sizeof *r);
	aj = calloc(1, sizeof *aj);
	if (ts != NULL)
		tp->data = ts;
	if (aj != NULL) {
		aj->create = calloc(1, sizeof *aj->create);
		aj->create_state = calloc(1, sizeof *aj->create_state);
		aj->img = topics_encode(&b->topics);
	}
	if (ts == NULL || r == NULL || aj == NULL || aj->create == NULL ||
	    aj->create_state == NULL || aj->img == NULL) {
		if (aj != NULL) {
			buf_unref(aj->img);
			free(aj->create);
			free(aj->create_state);
		}
		free(aj);
		free(r);
		free(ts);
		tp->data = NULL;
		topics_remove(&b->topics, tp);
		return SLUICE_ENOMEM;
	}
	ts->deleting = true;
	aj->create[0] = tp;
	aj->create_state[0] = ts;
	aj->ncreate = 1;
	aj->done = autocreate_done;
	r->b = b;
	r->resp = tp;
	rv = admin_submit(r, aj);
	assert(rv == 0);
	return rv;
}

/* ---- DeleteTopics ------------------------------------------------------------------------- */

struct delete_ctx {
	struct kafka_delete_topics_response resp;
	struct topic **doomed;
	int ndoomed;
	int closing;
};

static void delete_done(struct breq *r, int status)
{
	struct delete_ctx *dc = r->resp;

	for (int i = 0; i < dc->ndoomed; i++) {
		struct topic *tp = dc->doomed[i];
		struct topic_state *ts = tp->data;
		free(ts->parts);
		free(ts);
		tp->data = NULL;
		SLOG_INFO(MOD, "msg=\"topic deleted\" topic=%s", tp->name);
	}
	if (status != 0)
		for (int32_t i = 0; i < dc->resp.responses.n; i++)
			if (dc->resp.responses.v[i].error_code == KAFKA_ERR_NONE)
				dc->resp.responses.v[i].error_code = KAFKA_ERR_KAFKA_STORAGE_ERROR;
	breq_respond(r, &dc->resp);
	for (int i = 0; i < dc->ndoomed; i++)
		topic_free(dc->doomed[i]);
	free(dc->doomed);
	breq_free(r);
}

static void delete_closed_cb(void *arg)
{
	struct breq *r = arg;
	struct broker *b = r->b;
	struct delete_ctx *dc = r->resp;
	struct admin_job *aj;

	if (--dc->closing > 0)
		return;
	aj = calloc(1, sizeof *aj);
	if (aj != NULL) {
		int ndirs = 0;
		for (int i = 0; i < dc->ndoomed; i++)
			ndirs += dc->doomed[i]->partitions;
		aj->rmdirs = calloc((size_t)ndirs, sizeof *aj->rmdirs);
		for (int i = 0; aj->rmdirs != NULL && i < dc->ndoomed; i++)
			for (int32_t p = 0; p < dc->doomed[i]->partitions; p++) {
				char dir[PATH_MAX];
				partition_dir(b, dc->doomed[i]->name, p, dir, sizeof dir);
				aj->rmdirs[aj->nrmdirs++] = strdup(dir);
			}
		aj->img = topics_encode(&b->topics);
		aj->done = delete_done;
	}
	if (aj == NULL || aj->rmdirs == NULL || aj->img == NULL || admin_submit(r, aj) != 0) {
		if (aj != NULL) {
			for (int i = 0; i < aj->nrmdirs; i++)
				free(aj->rmdirs[i]);
			free(aj->rmdirs);
			buf_unref(aj->img);
			free(aj);
		}
		delete_done(r, SLUICE_EBUSY);
	}
}

/* Answers every parked Fetch that waits on a partition of `ts`, so none outlives it. */
static void release_waiters(struct topic *tp)
{
	struct topic_state *ts = tp->data;

	for (int32_t i = 0; i < ts->nopen; i++) {
		struct partition *p = &ts->parts[i];
		while (p->waiters != NULL) {
			struct partition_waiter *w = p->waiters;
			partition_unwait(w);
			w->wake(w);
		}
	}
}

static void handle_delete_topics(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_delete_topics_request *req = r->body;
	struct delete_ctx *dc = breq_alloc(r, sizeof *dc);
	int32_t n = req->topic_names.n < 0 ? 0 : req->topic_names.n;

	if (dc == NULL)
		goto err_oom;
	r->resp = dc;
	kafka_struct_defaults(&kafka_delete_topics_response_desc, &dc->resp);
	dc->resp.responses.v = breq_alloc_structs(
		r, &kafka_delete_topics_response_deletable_topic_result_desc, n);
	dc->doomed = calloc((size_t)n + 1, sizeof *dc->doomed);
	if (dc->resp.responses.v == NULL || dc->doomed == NULL) {
		free(dc->doomed);
		goto err_oom;
	}
	dc->resp.responses.n = n;
	if (b->meta_writing) {
		for (int32_t i = 0; i < n; i++) {
			dc->resp.responses.v[i].name = req->topic_names.v[i];
			dc->resp.responses.v[i].error_code = KAFKA_ERR_REQUEST_TIMED_OUT;
		}
		breq_respond(r, &dc->resp);
		free(dc->doomed);
		breq_free(r);
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		struct kafka_str name = req->topic_names.v[i];
		struct kafka_delete_topics_response_deletable_topic_result *res =
			&dc->resp.responses.v[i];
		struct topic *tp = name.len < 0 ? NULL
						: topics_find(&b->topics, name.ptr, (size_t)name.len);
		res->name = name;
		if (tp == NULL || tp->data == NULL || ((struct topic_state *)tp->data)->deleting) {
			res->error_code = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			continue;
		}
		res->error_code = KAFKA_ERR_NONE;
		((struct topic_state *)tp->data)->deleting = true;
		release_waiters(tp);
		/* Detach from the registry now: Metadata stops listing it at once. The struct
		 * lives on in dc until its partitions are closed and removed. */
		topics_detach(&b->topics, tp);
		/* The name stays valid: res->name points into the request frame. */
		dc->doomed[dc->ndoomed++] = tp;
	}
	if (dc->ndoomed == 0) {
		breq_respond(r, &dc->resp);
		free(dc->doomed);
		breq_free(r);
		return;
	}
	dc->closing = 1; /* held until every close is started */
	for (int i = 0; i < dc->ndoomed; i++) {
		struct topic_state *ts = dc->doomed[i]->data;
		for (int j = 0; j < ts->nopen; j++) {
			dc->closing++;
			partition_close(&ts->parts[j], delete_closed_cb, r);
		}
	}
	delete_closed_cb(r);
	return;

err_oom:
	net_conn_close(r->conn, "out of memory in DeleteTopics");
	breq_free(r);
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

/* ---- InitProducerId ----------------------------------------------------------------------- */

static void init_pid_respond(struct breq *r, int16_t err, int64_t pid)
{
	struct kafka_init_producer_id_response resp;

	kafka_struct_defaults(&kafka_init_producer_id_response_desc, &resp);
	resp.error_code = err;
	resp.producer_id = err == KAFKA_ERR_NONE ? pid : -1;
	resp.producer_epoch = err == KAFKA_ERR_NONE ? 0 : -1;
	breq_respond(r, &resp);
	breq_free(r);
}

static void init_pid_done(struct breq *r, int status)
{
	struct broker *b = r->b;

	if (status != 0) {
		SLOG_ERROR(MOD, "msg=\"cannot reserve producer ids\" err=\"%s\"", err_str(status));
		b->topics.next_producer_id = b->pid_reserved_until;
		init_pid_respond(r, KAFKA_ERR_KAFKA_STORAGE_ERROR, -1);
		return;
	}
	b->pid_reserved_until = b->topics.next_producer_id;
	init_pid_respond(r, KAFKA_ERR_NONE, (int64_t)(intptr_t)r->resp);
}

static void handle_init_producer_id(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_init_producer_id_request *req = r->body;

	if (req->transactional_id.len >= 0) {
		SLOG_WARN(MOD, "msg=\"transactions are not supported\" peer=%s",
			  net_conn_peer(r->conn));
		init_pid_respond(r, KAFKA_ERR_INVALID_REQUEST, -1);
		return;
	}
	if (b->pid_next < b->pid_reserved_until) {
		init_pid_respond(r, KAFKA_ERR_NONE, b->pid_next++);
		return;
	}
	/* Reserve the next block durably before handing out any of it, so no id is ever given
	 * twice, even across crashes. */
	struct admin_job *aj = calloc(1, sizeof *aj);
	if (aj == NULL) {
		init_pid_respond(r, KAFKA_ERR_KAFKA_STORAGE_ERROR, -1);
		return;
	}
	b->topics.next_producer_id = b->pid_reserved_until + BROKER_PRODUCER_ID_BLOCK;
	aj->img = topics_encode(&b->topics);
	aj->done = init_pid_done;
	r->resp = (void *)(intptr_t)b->pid_next++;
	if (aj->img == NULL || admin_submit(r, aj) != 0) {
		buf_unref(aj->img);
		free(aj);
		b->pid_next--;
		b->topics.next_producer_id = b->pid_reserved_until;
		init_pid_respond(r, KAFKA_ERR_COORDINATOR_LOAD_IN_PROGRESS, -1);
	}
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
	case KAFKA_API_DELETE_TOPICS:
		return handle_delete_topics;
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
		net_conn_close(c, "malformed request header");
		breq_free(r);
		return;
	}
	ba = broker_api_find(r->h.api_key);
	ka = kafka_api_find(r->h.api_key);
	if (ba == NULL || ka == NULL || r->h.api_version < ba->min || r->h.api_version > ba->max) {
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
		for (int j = 0; j < ts->nopen; j++) {
			struct partition *p = &ts->parts[j];
			struct compaction *job;
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
		for (int j = 0; j < ts->nopen; j++)
			plog_enforce_retention(ts->parts[j].log);
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

/* Creates the internal topic __consumer_offsets on first start (blocking: start-up only). It is
 * compacted (the latest record per group and partition stays) and never loses records to time
 * retention (retention.ms=-1); 100 MiB segments as Kafka's offsets.topic.segment.bytes, so that
 * closed segments exist to compact. These configs are set on creation only: a topic created by an
 * older version keeps retention.ms=-1 without compaction until altered. */
static int ensure_offsets_topic(struct broker *b, char *errmsg)
{
	struct topic_config cfg[] = {{"cleanup.policy", "compact"},
				     {"retention.ms", "-1"},
				     {"segment.bytes", "104857600"}};
	struct topic *tp;
	struct topic_state *ts;
	struct buf *img;
	int rv;

	if (topics_find(&b->topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC)) != NULL)
		return 0;
	rv = topics_add(&b->topics, OFFSETS_TOPIC,
			b->cfg.offsets_topic_num_partitions > 0 ? b->cfg.offsets_topic_num_partitions
								: 50,
			1, cfg, (int)(sizeof cfg / sizeof cfg[0]), NULL, &tp, errmsg);
	if (rv != 0)
		return rv;
	ts = topic_state_new(tp);
	if (ts == NULL)
		return SLUICE_ENOMEM;
	tp->data = ts;
	rv = open_partitions(b, tp, ts, errmsg);
	if (rv != 0)
		return rv;
	img = topics_encode(&b->topics);
	if (img == NULL)
		return SLUICE_ENOMEM;
	rv = meta_write(b, img);
	buf_unref(img);
	if (rv != 0)
		errmsg_printf(errmsg, "writing the topics file: %s", err_str(rv));
	else
		SLOG_INFO(MOD, "msg=\"internal topic created\" topic=%s partitions=%d",
			  OFFSETS_TOPIC, tp->partitions);
	return rv;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

int broker_port(const struct broker *b)
{
	return net_server_port(b->net);
}

static void close_partitions_sync(struct broker *b)
{
	/* Start-up failed after some partitions opened: close them and run the loop until done. */
	int pending = 0;

	for (int i = 0; i < b->topics.n; i++) {
		struct topic_state *ts = b->topics.v[i]->data;
		if (ts == NULL)
			continue;
		for (int j = 0; j < ts->nopen; j++) {
			pending++;
			partition_close(&ts->parts[j], NULL, NULL);
		}
	}
	if (pending > 0)
		uv_run(b->loop, UV_RUN_DEFAULT);
	for (int i = 0; i < b->topics.n; i++) {
		struct topic_state *ts = b->topics.v[i]->data;
		if (ts != NULL) {
			free(ts->parts);
			free(ts);
		}
	}
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
	rv = meta_load(b, errmsg);
	if (rv != 0)
		goto err_after_alloc;
	b->pid_reserved_until = b->topics.next_producer_id;
	b->pid_next = b->pid_reserved_until;
	for (int i = 0; i < b->topics.n; i++) {
		struct topic *tp = b->topics.v[i];
		struct topic_state *ts = topic_state_new(tp);
		if (ts == NULL) {
			rv = SLUICE_ENOMEM;
			goto err_after_topics;
		}
		tp->data = ts;
		rv = open_partitions(b, tp, ts, errmsg);
		if (rv != 0)
			goto err_after_topics;
	}
	rv = ensure_offsets_topic(b, errmsg);
	if (rv != 0)
		goto err_after_topics;
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
	rv = groups_load(b, errmsg);
	if (rv != 0)
		goto err_after_groups;
	net_limits_default(&lim);
	lim.frame_bytes_max = cfg->socket_request_max_bytes;
	if (cfg->inflight_requests_max > 0)
		lim.inflight_requests_max = cfg->inflight_requests_max;
	rv = net_server_start(loop, cfg->host, cfg->port, &lim, &h, b, &b->net, errmsg);
	if (rv != 0)
		goto err_after_groups;
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
	SLOG_INFO(MOD, "msg=\"kafka listener ready\" address=%s:%d advertised=%s:%d topics=%d "
		       "cluster_id=%s",
		  cfg->host, net_server_port(b->net), advertised_host(b), advertised_port(b),
		  b->topics.n, b->topics.cluster_id);
	*out = b;
	return 0;

err_after_groups:
	cgroup_free(b->cg);
	group_free(b->gc);
	offsets_free(b->offsets);
err_after_topics:
	close_partitions_sync(b);
	topics_free(&b->topics);
err_after_alloc:
	free(b);
	return rv;
}

static void stop_step(struct broker *b)
{
	if (--b->closing > 0)
		return;
	for (int i = 0; i < b->topics.n; i++) {
		struct topic_state *ts = b->topics.v[i]->data;
		if (ts != NULL) {
			free(ts->parts);
			free(ts);
		}
	}
	topics_free(&b->topics);
	offsets_free(b->offsets);
	void (*cb)(void *) = b->stop_cb;
	void *arg = b->stop_arg;
	free(b);
	if (cb != NULL)
		cb(arg);
}

static void stop_partition_cb(void *arg)
{
	stop_step(arg);
}

static void stop_handle_cb(uv_handle_t *h)
{
	stop_step(h->data);
}

static void stop_net_cb(void *arg)
{
	struct broker *b = arg;

	/* Connections are gone; close the partitions (flushing queued appends). */
	for (int i = 0; i < b->topics.n; i++) {
		struct topic_state *ts = b->topics.v[i]->data;
		if (ts == NULL)
			continue;
		for (int j = 0; j < ts->nopen; j++) {
			b->closing++;
			partition_close(&ts->parts[j], stop_partition_cb, b);
		}
	}
	stop_step(b);
}

void broker_stop(struct broker *b, void (*cb)(void *arg), void *arg)
{
	b->stopping = true;
	b->stop_cb = cb;
	b->stop_arg = arg;
	/* Answer parked fetches now rather than at their deadline. */
	while (b->parked != NULL)
		fetch_complete_parked(b->parked);
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
