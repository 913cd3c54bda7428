/*
 * admin: the Kafka APIs that read or change cluster metadata — Metadata, FindCoordinator,
 * CreateTopics, CreatePartitions, DeleteTopics, InitProducerId — answered from the metadata
 * image and the leadership table, and changed through the controller (cluster.h).
 *
 * Happy path of CreateTopics: each topic is checked here (name, counts, configs), sent to the
 * controller as CREATE_TOPIC (placement happens in the image's apply, identically on every
 * controller replica), and once committed the request waits until every new partition has a
 * leader (bounded by the request's timeout, as Kafka does) before answering. CreatePartitions
 * is the same with CREATE_PARTITIONS (the image places the new partitions' replicas with the
 * topic's replication factor; every node's reconciler grows its topic and opens its new
 * replicas) and waits for the new partitions' leaders only; TimeoutMs <= 0 answers once the
 * command is committed, as in Kafka. Both answer validate_only requests after the checks,
 * without sending anything. DeleteTopics answers once the deletion is committed; every node's
 * reconciler then closes and removes its replicas.
 *
 * Failure modes: no controller leader or a lost link: the command is re-sent until its deadline,
 * then REQUEST_TIMED_OUT. The image's rejections map to Kafka codes (TOPIC_ALREADY_EXISTS,
 * INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR for more replicas than registered nodes,
 * INVALID_CONFIG, UNKNOWN_TOPIC_OR_PARTITION). CreatePartitions also refuses, with a message:
 * a count not above the current one or above TOPIC_PARTITIONS_MAX (INVALID_PARTITIONS), manual
 * Assignments (INVALID_REPLICA_ASSIGNMENT: the command carries only the count), a topic named
 * twice in one request and __consumer_offsets (INVALID_REQUEST); new partitions still without
 * a leader at the deadline are REQUEST_TIMED_OUT (they exist; their elections go on).
 * Partitions whose leader is unknown are listed with LEADER_NOT_AVAILABLE and leader -1
 * (clients retry).
 *
 * Invariants:
 *   1. A request is answered exactly once, also when the node stops while it waits.
 *   2. A CreateTopics or CreatePartitions request is answered only when none of its commands
 *      is outstanding (create_wait.pending == 0), so no callback writes into an answered one.
 *   3. Work per request is bounded by its topics (duplicate names are found by sorting) and,
 *      per tick while it waits, by the partitions it waits for.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/err.h"
#include "base/slog.h"
#include "broker/cluster.h"
#include "broker/internal.h"
#include "broker/offsets.h"
#include "meta/image.h"
#include "peer/peer.h"
#include "raft/cons.h"

/* How long a CreateTopics waits for leaders when the client gives no timeout (CreatePartitions
 * then does not wait, as Kafka). */
#define CREATE_WAIT_MS_DEFAULT 30000
/* Commands sent by the broker on its own (auto-creation) give up after this long. */
#define COMMAND_TIMEOUT_MS 10000

const char *broker_advertised_host(const struct broker *b)
{
	return b->cfg.advertised_host[0] ? b->cfg.advertised_host : b->cfg.host;
}

int broker_advertised_port(const struct broker *b)
{
	return b->cfg.advertised_port ? b->cfg.advertised_port : net_server_port(b->net);
}

struct partition *broker_local_partition(struct broker *b, const struct image_topic *it,
					 int32_t i)
{
	struct topic *tp = topics_find(&b->topics, it->name, strlen(it->name));
	if (tp == NULL || tp->data == NULL || memcmp(tp->id, it->id, 16) != 0 ||
	    i >= tp->partitions)
		return NULL;
	struct partition *p = ((struct topic_state *)tp->data)->parts[i];
	return p->group != NULL ? p : NULL;
}

/* ---- Metadata ---- */

static int fill_topic(struct breq *r, struct kafka_metadata_response_metadata_response_topic *t,
		      const struct image_topic *it)
{
	struct broker *b = r->b;

	t->error_code = KAFKA_ERR_NONE;
	t->name = kafka_str_c(it->name);
	memcpy(t->topic_id.b, it->id, 16);
	t->is_internal = strcmp(it->name, OFFSETS_TOPIC) == 0;
	t->partitions.v = breq_alloc_structs(
		r, &kafka_metadata_response_metadata_response_partition_desc, it->npartitions);
	if (t->partitions.v == NULL)
		return SLUICE_ENOMEM;
	t->partitions.n = it->npartitions;
	for (int32_t i = 0; i < it->npartitions; i++) {
		struct kafka_metadata_response_metadata_response_partition *p = &t->partitions.v[i];
		const struct image_partition *ip = &it->partitions[i];
		struct partition *lp = broker_local_partition(b, it, i);
		int32_t *nodes = breq_alloc(r, sizeof(*nodes) * (ip->nreplicas + 1u));
		if (nodes == NULL)
			return SLUICE_ENOMEM;
		for (int k = 0; k < ip->nreplicas; k++)
			nodes[k] = (int32_t)ip->replicas[k];
		p->partition_index = i;
		p->leader_id = cluster_partition_leader(b, lp, ip->group_id);
		p->error_code = p->leader_id >= 0 ? KAFKA_ERR_NONE : KAFKA_ERR_LEADER_NOT_AVAILABLE;
		p->leader_epoch = lp != NULL ? (int32_t)cons_term(lp->group) : -1;
		p->replica_nodes.v = nodes;
		p->replica_nodes.n = ip->nreplicas;
		p->isr_nodes.v = nodes;
		p->isr_nodes.n = ip->nreplicas;
		p->offline_replicas.n = 0;
	}
	return 0;
}

static void autocreate_cb(void *arg, int status, const struct image_result *res)
{
	char *name = arg;
	if (status == 0)
		SLOG_INFO(MOD, "msg=\"topic auto-created\" topic=%s", name);
	else if (status != SLUICE_EEXIST)
		SLOG_WARN(MOD, "msg=\"auto-create failed\" topic=%s err=\"%s\" reason=\"%s\"", name,
			  err_str(status), res->errmsg);
	free(name);
}

static int16_t autocreate(struct broker *b, const char *name, size_t len)
{
	struct image_cmd cmd;
	char *copy = strndup(name, len);
	if (copy == NULL)
		return KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = IMAGE_CMD_CREATE_TOPIC;
	cmd.create_topic.name = copy;
	if (getrandom(cmd.create_topic.topic_id, 16, GRND_NONBLOCK) != 16)
		for (int i = 0; i < 16; i++)
			cmd.create_topic.topic_id[i] = (uint8_t)rand();
	cmd.create_topic.topic_id[0] |= 1;
	cmd.create_topic.partitions = b->cfg.num_partitions;
	cmd.create_topic.replication_factor = b->cfg.default_replication_factor;
	uint32_t nodes = image_nodes_registered(cluster_image(b));
	if (nodes > 0 && (uint32_t)cmd.create_topic.replication_factor > nodes)
		cmd.create_topic.replication_factor = (int16_t)nodes;
	if (cluster_submit(b, &cmd, COMMAND_TIMEOUT_MS, autocreate_cb, copy) != 0) {
		free(copy);
		return KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	return KAFKA_ERR_LEADER_NOT_AVAILABLE;
}

void handle_metadata(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_metadata_request *req = r->body;
	struct kafka_metadata_response resp;
	const struct image *im = cluster_image(b);
	bool all = req->topics.n < 0 || (r->h.api_version == 0 && req->topics.n == 0);
	bool auto_create = b->cfg.auto_create_topics_enable &&
			   (r->h.api_version < 4 || req->allow_auto_topic_creation);
	int32_t n = all ? (int32_t)im->ntopics : req->topics.n;
	int rv = 0;

	kafka_struct_defaults(&kafka_metadata_response_desc, &resp);
	resp.brokers.v = breq_alloc_structs(
		r, &kafka_metadata_response_metadata_response_broker_desc, (int32_t)im->nnodes + 1);
	resp.topics.v =
		breq_alloc_structs(r, &kafka_metadata_response_metadata_response_topic_desc, n);
	if (resp.brokers.v == NULL || resp.topics.v == NULL)
		goto err_oom;
	int32_t nb = 0;
	for (uint32_t i = 0; i < im->nnodes; i++) {
		const struct image_node *nd = &im->nodes[i];
		if (!nd->registered)
			continue;
		resp.brokers.v[nb].node_id = (int32_t)nd->id;
		resp.brokers.v[nb].host = kafka_str_c(nd->host);
		resp.brokers.v[nb].port = nd->port;
		resp.brokers.v[nb].rack = nd->rack ? kafka_str_c(nd->rack) : kafka_str_null();
		nb++;
	}
	if (image_node_find(im, (uint32_t)b->cfg.node_id) == NULL) {
		/* Not registered yet: at least the node the client talks to. */
		resp.brokers.v[nb].node_id = b->cfg.node_id;
		resp.brokers.v[nb].host = kafka_str_c(broker_advertised_host(b));
		resp.brokers.v[nb].port = broker_advertised_port(b);
		resp.brokers.v[nb].rack = kafka_str_null();
		nb++;
	}
	resp.brokers.n = nb;
	resp.cluster_id = kafka_str_c(im->cluster_id);
	resp.controller_id = cluster_controller_id(b);
	resp.topics.n = n;
	for (int32_t i = 0; i < n && rv == 0; i++) {
		struct kafka_metadata_response_metadata_response_topic *t = &resp.topics.v[i];
		const struct image_topic *it;
		if (all) {
			rv = fill_topic(r, t, im->topics[i]);
			continue;
		}
		struct kafka_str name = req->topics.v[i].name;
		t->name = name;
		t->partitions.n = 0;
		if (name.len < 0 && r->h.api_version >= 10) {
			/* v12: a topic asked for by TopicId (KIP-848 consumers). */
			const uint8_t *id = req->topics.v[i].topic_id.b;
			it = image_topic_find_id(im, id);
			if (it != NULL) {
				rv = fill_topic(r, t, it);
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
		it = image_topic_find(im, name.ptr, (size_t)name.len);
		if (it != NULL) {
			rv = fill_topic(r, t, it);
			continue;
		}
		t->error_code = auto_create ? autocreate(b, name.ptr, (size_t)name.len)
					    : KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
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

/* ---- FindCoordinator ---- */

void handle_find_coordinator(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_find_coordinator_request *req = r->body;
	struct kafka_find_coordinator_response resp;
	const struct image *im = cluster_image(b);

	kafka_struct_defaults(&kafka_find_coordinator_response_desc, &resp);
	resp.node_id = -1;
	resp.host = kafka_str_c("");
	resp.port = -1;
	resp.error_message = kafka_str_null();
	if (r->h.api_version >= 1 && req->key_type != 0) {
		resp.error_code = KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
		resp.error_message = kafka_str_c("transactions are not supported");
		goto out;
	}
	/* The coordinator of a group is the leader of its __consumer_offsets partition. */
	const struct image_topic *it = image_topic_find(im, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
	struct kafka_str key = req->key;
	if (it == NULL || key.len < 0) {
		resp.error_code = KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
		goto out;
	}
	int32_t pidx = offsets_partition_for(key.ptr, (size_t)key.len, it->npartitions);
	int32_t leader = cluster_partition_leader(b, broker_local_partition(b, it, pidx),
						  it->partitions[pidx].group_id);
	const struct image_node *nd = leader >= 0 ? image_node_find(im, (uint32_t)leader) : NULL;
	if (nd == NULL) {
		resp.error_code = KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
		goto out;
	}
	resp.error_code = KAFKA_ERR_NONE;
	resp.node_id = leader;
	resp.host = kafka_str_c(nd->host);
	resp.port = nd->port;
out:
	breq_respond(r, &resp);
	breq_free(r);
}

/* ---- CreateTopics and CreatePartitions: commands, then waiting for leaders ---- */

/* What one topic of a CreateTopics or CreatePartitions request waits for: once its command is
 * committed, partitions [from, to) must appear in this node's image with a leader. */
struct create_target {
	struct kafka_str name;
	int16_t *error_code; /* the topic's result in the response */
	struct kafka_str *error_message;
	int32_t from;
	int32_t to; /* 0: nothing to wait for (refused, validate_only) */
	/* CreatePartitions, for the log: the requested count and the count before. */
	int32_t count;
	int32_t was;
};

/* One CreateTopics or CreatePartitions request from its commands to its answer; malloc'd, on
 * b->create_waits until answered. */
struct create_wait {
	struct breq *r;
	int16_t api_key; /* KAFKA_API_CREATE_TOPICS or KAFKA_API_CREATE_PARTITIONS */
	struct kafka_create_topics_response resp;      /* CreateTopics */
	struct kafka_create_partitions_response presp; /* CreatePartitions */
	struct create_target *targets;                 /* one per topic of the request (arena) */
	int32_t ntargets;
	int pending; /* commands not answered yet, plus one while the handler still sends */
	int64_t deadline_ms;
	int64_t wait_ms; /* the client's timeout, for the timed-out message */
	struct create_wait *next;
};

struct create_item {
	struct create_wait *cw;
	int index;
};

static int64_t mono_ms(struct broker *b)
{
	return (int64_t)(clock_mono_ns(b->clock) / 1000000u);
}

static int16_t image_error(int status, const struct image_result *res)
{
	switch (status) {
	case 0:
		return KAFKA_ERR_NONE;
	case SLUICE_EEXIST:
		return KAFKA_ERR_TOPIC_ALREADY_EXISTS;
	case SLUICE_ENOTFOUND:
		return KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	case SLUICE_ENOREPLICAS:
		return KAFKA_ERR_INVALID_REPLICATION_FACTOR;
	case SLUICE_ETIMEDOUT:
	case SLUICE_EBUSY:   /* too many commands in flight on this node */
	case SLUICE_ECLOSED: /* the node is stopping */
		return KAFKA_ERR_REQUEST_TIMED_OUT;
	case SLUICE_EINVAL:
	case SLUICE_ETOOLARGE:
		switch (res->field) {
		case IMAGE_FIELD_PARTITIONS:
		case IMAGE_FIELD_PARTITION:
			return KAFKA_ERR_INVALID_PARTITIONS;
		case IMAGE_FIELD_REPLICATION_FACTOR:
			return KAFKA_ERR_INVALID_REPLICATION_FACTOR;
		case IMAGE_FIELD_CONFIG:
			return KAFKA_ERR_INVALID_CONFIG;
		case IMAGE_FIELD_TOPIC_NAME:
			return KAFKA_ERR_INVALID_TOPIC_EXCEPTION;
		case IMAGE_FIELD_REPLICAS:
			return KAFKA_ERR_INVALID_REPLICA_ASSIGNMENT;
		default:
			return KAFKA_ERR_INVALID_REQUEST;
		}
	default:
		return KAFKA_ERR_UNKNOWN_SERVER_ERROR;
	}
}

/* Whether this node's image has partitions [from, to) of the topic and each has a known
 * leader. False while the image has not caught up with the command (a node that is not the
 * controller learns of it a little later). */
static bool leaders_known(struct broker *b, struct kafka_str name, int32_t from, int32_t to)
{
	const struct image *im = cluster_image(b);
	const struct image_topic *it = image_topic_find(im, name.ptr, (size_t)name.len);
	if (it == NULL || it->npartitions < to)
		return false;
	for (int32_t i = from; i < to; i++)
		if (cluster_partition_leader(b, broker_local_partition(b, it, i),
					     it->partitions[i].group_id) < 0)
			return false;
	return true;
}

static void create_finish(struct create_wait *cw)
{
	struct broker *b = cw->r->b;
	struct create_wait **pp = &b->create_waits;
	while (*pp != NULL && *pp != cw)
		pp = &(*pp)->next;
	if (*pp == cw)
		*pp = cw->next;
	if (cw->api_key == KAFKA_API_CREATE_PARTITIONS)
		breq_respond(cw->r, &cw->presp);
	else
		breq_respond(cw->r, &cw->resp);
	breq_free(cw->r);
	free(cw);
}

/* Answers the request once every command is answered and every committed topic's new
 * partitions have leaders, or once its deadline passed. CreatePartitions then reports the
 * topics still without leaders as REQUEST_TIMED_OUT (their partitions exist: the elections go
 * on); CreateTopics answers them with NONE. */
static void create_check(struct create_wait *cw)
{
	struct broker *b = cw->r->b;
	if (cw->pending > 0)
		return;
	bool expired = b->stopping || mono_ms(b) >= cw->deadline_ms;
	for (int32_t i = 0; i < cw->ntargets; i++) {
		struct create_target *t = &cw->targets[i];
		if (*t->error_code != KAFKA_ERR_NONE || t->to == 0 ||
		    leaders_known(b, t->name, t->from, t->to))
			continue;
		if (!expired)
			return;
		if (cw->api_key != KAFKA_API_CREATE_PARTITIONS)
			continue;
		*t->error_code = KAFKA_ERR_REQUEST_TIMED_OUT;
		if (breq_printf(cw->r, t->error_message,
				"the new partitions were created, but not all of them had a leader "
				"within %" PRId64 " ms; their elections go on",
				cw->wait_ms) != 0)
			*t->error_message = kafka_str_null();
	}
	create_finish(cw);
}

/* The ErrorMessage for a command that failed with `status` (cluster_submit's, or its
 * callback's; `res` may be NULL for the former). */
static const char *submit_reason(int status, const struct image_result *res)
{
	switch (status) {
	case SLUICE_ETIMEDOUT:
		return "the controller did not commit the command in time; it may still be "
		       "applied: check Metadata before sending it again";
	case SLUICE_EBUSY:
		return "too many metadata commands in flight on this node; retry";
	case SLUICE_ECLOSED:
		return "the node is stopping; retry elsewhere";
	default:
		return res != NULL && res->errmsg[0] != '\0' ? res->errmsg : err_str(status);
	}
}

static void create_cmd_cb(void *arg, int status, const struct image_result *res)
{
	struct create_item *ci = arg;
	struct create_wait *cw = ci->cw;
	int index = ci->index;
	struct create_target *t = &cw->targets[index];
	free(ci);
	*t->error_code = image_error(status, res);
	if (status != 0) {
		t->to = 0;
		if (breq_printf(cw->r, t->error_message, "%s", submit_reason(status, res)) != 0)
			*t->error_message = kafka_str_null(); /* the code still says what happened */
		if (cw->api_key == KAFKA_API_CREATE_PARTITIONS)
			SLOG_INFO(MOD,
				  "msg=\"partition creation refused\" topic=%.*s err=\"%s\" "
				  "reason=\"%s\"",
				  (int)t->name.len, t->name.ptr, err_str(status), res->errmsg);
	} else if (cw->api_key == KAFKA_API_CREATE_PARTITIONS) {
		SLOG_INFO(MOD, "msg=\"partitions created\" topic=%.*s partitions=%d was=%d",
			  (int)t->name.len, t->name.ptr, t->count, t->was);
	} else {
		struct kafka_create_topics_response_creatable_topic_result *out =
			&cw->resp.topics.v[index];
		SLOG_INFO(MOD,
			  "msg=\"topic created\" topic=%.*s partitions=%d "
			  "replication_factor=%d",
			  (int)out->name.len, out->name.ptr, out->num_partitions,
			  out->replication_factor);
	}
	cw->pending--;
	create_check(cw);
}

void broker_cluster_tick(struct broker *b)
{
	struct create_wait *cw = b->create_waits;
	while (cw != NULL) {
		struct create_wait *next = cw->next;
		create_check(cw);
		cw = next;
	}
}

void broker_topics_changed(struct broker *b)
{
	broker_cluster_tick(b);
}

/* A new wait for request `r` with room for `n` targets, on b->create_waits and holding one
 * `pending` for the handler. The caller fills the response and the targets, then sets
 * ntargets (create_check reads only that many). NULL when out of memory (nothing to undo). */
static struct create_wait *create_wait_new(struct breq *r, int16_t api_key, int32_t n,
					   int64_t wait_ms)
{
	struct broker *b = r->b;
	struct create_wait *cw = calloc(1, sizeof(*cw));
	if (cw == NULL)
		return NULL;
	cw->targets = breq_alloc(r, sizeof(*cw->targets) * ((size_t)n + 1));
	if (cw->targets == NULL) {
		free(cw);
		return NULL;
	}
	cw->r = r;
	cw->api_key = api_key;
	cw->wait_ms = wait_ms;
	cw->deadline_ms = mono_ms(b) + wait_ms;
	cw->pending = 1; /* held until every command is sent */
	cw->next = b->create_waits;
	b->create_waits = cw;
	return cw;
}

/* Sends `cmd` for target `i` of `cw`; when it cannot be sent the target is answered at once
 * (REQUEST_TIMED_OUT when too many commands are in flight). Returns 0 or SLUICE_ENOMEM. */
static int create_submit(struct create_wait *cw, int32_t i, const struct image_cmd *cmd,
			 int64_t timeout_ms)
{
	struct create_target *t = &cw->targets[i];
	struct create_item *ci = malloc(sizeof(*ci));
	if (ci == NULL)
		return SLUICE_ENOMEM;
	ci->cw = cw;
	ci->index = i;
	int rv = cluster_submit(cw->r->b, cmd, timeout_ms > 0 ? timeout_ms : 1, create_cmd_cb, ci);
	if (rv != 0) {
		struct image_result none = { 0 };
		free(ci);
		t->to = 0;
		*t->error_code = image_error(rv, &none);
		return breq_printf(cw->r, t->error_message, "%s", submit_reason(rv, NULL));
	}
	cw->pending++;
	return 0;
}

void handle_create_topics(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_create_topics_request *req = r->body;
	const struct image *im = cluster_image(b);
	int n = req->topics.n < 0 ? 0 : req->topics.n;
	struct create_wait *cw = create_wait_new(r, KAFKA_API_CREATE_TOPICS, n,
						 req->timeout_ms > 0 ? req->timeout_ms :
								       CREATE_WAIT_MS_DEFAULT);

	if (cw == NULL)
		goto err_oom;
	kafka_struct_defaults(&kafka_create_topics_response_desc, &cw->resp);
	cw->resp.topics.v = breq_alloc_structs(
		r, &kafka_create_topics_response_creatable_topic_result_desc, n);
	if (cw->resp.topics.v == NULL)
		goto err_oom_sent;
	cw->resp.topics.n = n;
	for (int i = 0; i < n; i++) {
		struct kafka_create_topics_request_creatable_topic *t = &req->topics.v[i];
		struct kafka_create_topics_response_creatable_topic_result *res =
			&cw->resp.topics.v[i];
		struct create_target *tg = &cw->targets[i];
		tg->name = t->name;
		tg->error_code = &res->error_code;
		tg->error_message = &res->error_message;
		res->name = t->name;
		res->error_message = kafka_str_null();
	}
	cw->ntargets = n;
	for (int i = 0; i < n; i++) {
		struct kafka_create_topics_request_creatable_topic *t = &req->topics.v[i];
		struct kafka_create_topics_response_creatable_topic_result *res =
			&cw->resp.topics.v[i];
		char *name = breq_alloc(r, TOPIC_NAME_BYTES_MAX + 1);
		char *msg = breq_alloc(r, ERRMSG_BYTES_MAX);
		int32_t parts = t->num_partitions == -1 ? b->cfg.num_partitions : t->num_partitions;
		int16_t rf = t->replication_factor == -1 ? b->cfg.default_replication_factor :
							   t->replication_factor;
		struct image_cmd cmd;
		struct image_result ir = { 0 };

		if (name == NULL || msg == NULL)
			goto err_oom_sent;
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
		if (image_topic_find(im, name, strlen(name)) != NULL) {
			res->error_code = KAFKA_ERR_TOPIC_ALREADY_EXISTS;
			errmsg_printf(msg, "topic '%s' already exists", name);
			res->error_message = kafka_str_c(msg);
			continue;
		}
		if (t->assignments.n > 0) {
			res->error_code = KAFKA_ERR_INVALID_REPLICA_ASSIGNMENT;
			errmsg_printf(msg, "manual replica assignment is not supported; the "
					   "controller places replicas");
			res->error_message = kafka_str_c(msg);
			continue;
		}
		if (parts < 1 || parts > TOPIC_PARTITIONS_MAX) {
			res->error_code = KAFKA_ERR_INVALID_PARTITIONS;
			errmsg_printf(msg, "number of partitions must be in [1, %d]",
				      TOPIC_PARTITIONS_MAX);
			res->error_message = kafka_str_c(msg);
			continue;
		}
		memset(&cmd, 0, sizeof(cmd));
		cmd.type = IMAGE_CMD_CREATE_TOPIC;
		cmd.create_topic.name = name;
		if (getrandom(cmd.create_topic.topic_id, 16, GRND_NONBLOCK) != 16)
			for (int k = 0; k < 16; k++)
				cmd.create_topic.topic_id[k] = (uint8_t)rand();
		cmd.create_topic.topic_id[0] |= 1;
		cmd.create_topic.partitions = parts;
		cmd.create_topic.replication_factor = rf;
		bool cfg_ok = t->configs.n <= TOPIC_CONFIGS_MAX;
		if (!cfg_ok)
			errmsg_printf(msg, "too many configs (at most %d)", TOPIC_CONFIGS_MAX);
		for (int32_t j = 0; cfg_ok && j < t->configs.n; j++) {
			struct kafka_create_topics_request_creatable_topic_config *c =
				&t->configs.v[j];
			char *k = breq_alloc(r, (size_t)(c->name.len < 0 ? 0 : c->name.len) + 1);
			char *v = breq_alloc(r, (size_t)(c->value.len < 0 ? 0 : c->value.len) + 1);
			if (k == NULL || v == NULL)
				goto err_oom_sent;
			if (c->name.len > 0)
				memcpy(k, c->name.ptr, (size_t)c->name.len);
			if (c->value.len > 0)
				memcpy(v, c->value.ptr, (size_t)c->value.len);
			cfg_ok = topics_config_check(k, c->value.len < 0 ? NULL : v, msg) == 0;
			if (c->value.len < 0)
				continue; /* null value: the default */
			cmd.create_topic.configs[cmd.create_topic.nconfigs].key = k;
			cmd.create_topic.configs[cmd.create_topic.nconfigs].value = v;
			cmd.create_topic.nconfigs++;
		}
		if (!cfg_ok) {
			res->error_code = KAFKA_ERR_INVALID_CONFIG;
			res->error_message = kafka_str_c(msg);
			continue;
		}
		memcpy(res->topic_id.b, cmd.create_topic.topic_id, 16);
		res->num_partitions = parts;
		res->replication_factor = rf;
		int crv = image_check(im, &cmd, &ir);
		if (crv != 0) {
			res->error_code = image_error(crv, &ir);
			snprintf(msg, ERRMSG_BYTES_MAX, "%s",
				 ir.errmsg[0] ? ir.errmsg : err_str(crv));
			res->error_message = kafka_str_c(msg);
			continue;
		}
		if (req->validate_only)
			continue; /* nothing created, so no leaders to wait for */
		cw->targets[i].from = 0;
		cw->targets[i].to = parts;
		if (create_submit(cw, i, &cmd, cw->deadline_ms - mono_ms(b)) != 0)
			goto err_oom_sent;
	}
	cw->pending--;
	create_check(cw);
	return;

err_oom_sent:
	/* Commands already sent answer into cw: let them finish, then answer. */
	net_conn_close(r->conn, "out of memory in CreateTopics");
	cw->pending--;
	create_check(cw);
	return;
err_oom:
	net_conn_close(r->conn, "out of memory in CreateTopics");
	breq_free(r);
}

/* ---- CreatePartitions ---- */

typedef struct kafka_create_partitions_request_create_partitions_topic grow_topic;
typedef struct kafka_create_partitions_response_create_partitions_topic_result grow_result;

/* A topic name of the request and where it was, for finding names given twice. */
struct grow_name {
	struct kafka_str name;
	int32_t index;
};

static int cmp_grow_name(const void *x, const void *y)
{
	const struct grow_name *a = x;
	const struct grow_name *b = y;
	int32_t n = a->name.len < b->name.len ? a->name.len : b->name.len;
	int c = n > 0 ? memcmp(a->name.ptr, b->name.ptr, (size_t)n) : 0;
	if (c != 0)
		return c;
	if (a->name.len != b->name.len)
		return a->name.len < b->name.len ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* Marks in `dup` (n entries, zeroed) every topic of the request whose name is given more than
 * once. Sorting keeps this O(n log n) however many topics a request names. Returns 0 or
 * SLUICE_ENOMEM. */
static int grow_duplicates(struct breq *r, const grow_topic *v, int32_t n, bool *dup)
{
	struct grow_name *s = breq_alloc(r, sizeof(*s) * ((size_t)n + 1));
	int32_t m = 0;
	if (s == NULL)
		return SLUICE_ENOMEM;
	for (int32_t i = 0; i < n; i++)
		if (v[i].name.len >= 0)
			s[m++] = (struct grow_name){ v[i].name, i };
	qsort(s, (size_t)m, sizeof(*s), cmp_grow_name);
	for (int32_t i = 1; i < m; i++) {
		if (s[i].name.len != s[i - 1].name.len ||
		    memcmp(s[i].name.ptr, s[i - 1].name.ptr, (size_t)s[i].name.len) != 0)
			continue;
		dup[s[i].index] = true;
		dup[s[i - 1].index] = true;
	}
	return 0;
}

/* Checks topic `i` of a CreatePartitions request and, unless refused or validate_only, sends
 * CREATE_PARTITIONS to the controller. A refusal is written into the topic's result. Returns 0
 * or SLUICE_ENOMEM. */
static int grow_one(struct create_wait *cw, int32_t i, bool dup, bool validate_only,
		    int64_t submit_ms)
{
	struct breq *r = cw->r;
	const struct image *im = cluster_image(r->b);
	const grow_topic *t = &((struct kafka_create_partitions_request *)r->body)->topics.v[i];
	grow_result *res = &cw->presp.results.v[i];
	struct create_target *tg = &cw->targets[i];
	const struct image_topic *it = NULL;
	struct image_result ir = { 0 };
	struct image_cmd cmd;
	char *name = NULL;
	int rv;

	if (dup) {
		res->error_code = KAFKA_ERR_INVALID_REQUEST;
		return breq_printf(r, &res->error_message,
				   "topic '%.*s' is named more than once in the request",
				   (int)t->name.len, t->name.ptr);
	}
	/* The image takes a NUL-terminated name; a longer one, or one with a NUL inside (which
	 * would name a shorter topic), cannot exist. */
	if (t->name.len > 0 && t->name.len <= TOPICDEF_NAME_BYTES_MAX &&
	    memchr(t->name.ptr, '\0', (size_t)t->name.len) == NULL) {
		name = breq_alloc(r, (size_t)t->name.len + 1);
		if (name == NULL)
			return SLUICE_ENOMEM;
		memcpy(name, t->name.ptr, (size_t)t->name.len);
		it = image_topic_find(im, name, strlen(name));
	}
	if (it == NULL) {
		res->error_code = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return breq_printf(r, &res->error_message, "topic '%.*s' does not exist",
				   t->name.len > 0 ? (int)t->name.len : 0,
				   t->name.len > 0 ? t->name.ptr : "");
	}
	if (strcmp(it->name, OFFSETS_TOPIC) == 0) {
		/* Kafka's broker allows this, but a group's coordinator is partition
		 * hash(group) % count: every group would move to a partition that holds none of
		 * its committed offsets. kafka-topics.sh refused it for the same reason. */
		res->error_code = KAFKA_ERR_INVALID_REQUEST;
		return breq_printf(r, &res->error_message,
				   "The number of partitions for the offsets topic cannot be "
				   "changed: groups are mapped to its partitions by hash, so each "
				   "group would lose its committed offsets");
	}
	if (t->count == it->npartitions) {
		res->error_code = KAFKA_ERR_INVALID_PARTITIONS;
		return breq_printf(r, &res->error_message, "Topic already has %d partition(s).",
				   it->npartitions);
	}
	if (t->count < it->npartitions) {
		res->error_code = KAFKA_ERR_INVALID_PARTITIONS;
		return breq_printf(r, &res->error_message,
				   "Topic currently has %d partitions, which is higher than the "
				   "requested %d.",
				   it->npartitions, t->count);
	}
	if (t->count > TOPIC_PARTITIONS_MAX) {
		res->error_code = KAFKA_ERR_INVALID_PARTITIONS;
		return breq_printf(r, &res->error_message,
				   "a topic has at most %d partitions, not %d",
				   TOPIC_PARTITIONS_MAX, t->count);
	}
	if (t->assignments.n > 0) {
		/* CREATE_PARTITIONS carries only the new count; the controller places replicas as
		 * it does for new topics. */
		res->error_code = KAFKA_ERR_INVALID_REPLICA_ASSIGNMENT;
		return breq_printf(r, &res->error_message,
				   "manual replica assignment is not supported; leave Assignments "
				   "null and the controller places the new partitions' replicas");
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = IMAGE_CMD_CREATE_PARTITIONS;
	cmd.create_partitions.name = name;
	cmd.create_partitions.partitions = t->count;
	/* Refused here what the controller would refuse (replicas beyond the registered nodes,
	 * the cluster's partition limit), so a bad request needs no round trip. */
	rv = image_check(im, &cmd, &ir);
	if (rv != 0) {
		res->error_code = image_error(rv, &ir);
		return breq_printf(r, &res->error_message, "%s",
				   ir.errmsg[0] ? ir.errmsg : err_str(rv));
	}
	if (validate_only)
		return 0;
	tg->from = it->npartitions;
	tg->was = it->npartitions;
	tg->count = t->count;
	tg->to = submit_ms > 0 ? t->count : 0; /* TimeoutMs <= 0: answer once committed */
	return create_submit(cw, i, &cmd, submit_ms > 0 ? submit_ms : COMMAND_TIMEOUT_MS);
}

void handle_create_partitions(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_create_partitions_request *req = r->body;
	int32_t n = req->topics.n < 0 ? 0 : req->topics.n;
	/* As in Kafka, TimeoutMs <= 0 means: do not wait for the new partitions' leaders (the
	 * command itself is still bounded by COMMAND_TIMEOUT_MS). */
	int64_t wait_ms = req->timeout_ms > 0 ? req->timeout_ms : 0;
	struct create_wait *cw = create_wait_new(r, KAFKA_API_CREATE_PARTITIONS, n, wait_ms);
	bool *dup;

	if (cw == NULL)
		goto err_oom;
	kafka_struct_defaults(&kafka_create_partitions_response_desc, &cw->presp);
	cw->presp.results.v = breq_alloc_structs(
		r, &kafka_create_partitions_response_create_partitions_topic_result_desc, n);
	dup = breq_alloc(r, sizeof(*dup) * ((size_t)n + 1));
	if (cw->presp.results.v == NULL || dup == NULL ||
	    grow_duplicates(r, req->topics.v, n, dup) != 0)
		goto err_oom_sent;
	cw->presp.results.n = n;
	for (int32_t i = 0; i < n; i++) {
		grow_result *res = &cw->presp.results.v[i];
		res->name = req->topics.v[i].name;
		res->error_code = KAFKA_ERR_NONE;
		res->error_message = kafka_str_null();
		cw->targets[i].name = res->name;
		cw->targets[i].error_code = &res->error_code;
		cw->targets[i].error_message = &res->error_message;
	}
	cw->ntargets = n;
	for (int32_t i = 0; i < n; i++) {
		int64_t left = wait_ms > 0 ? cw->deadline_ms - mono_ms(b) : 0;
		if (wait_ms > 0 && left <= 0)
			left = 1; /* expired while sending: the command still gets its answer */
		if (grow_one(cw, i, dup[i], req->validate_only, left) != 0)
			goto err_oom_sent;
	}
	cw->pending--;
	create_check(cw);
	return;

err_oom_sent:
	/* Commands already sent answer into cw: let them finish, then answer. */
	net_conn_close(r->conn, "out of memory in CreatePartitions");
	cw->pending--;
	create_check(cw);
	return;
err_oom:
	net_conn_close(r->conn, "out of memory in CreatePartitions");
	breq_free(r);
}

/* ---- DeleteTopics ---- */

struct delete_ctx {
	struct kafka_delete_topics_response resp;
	int pending;
};

struct delete_item {
	struct breq *r;
	int index;
};

static void delete_finish(struct breq *r)
{
	struct delete_ctx *dc = r->resp;
	if (--dc->pending > 0)
		return;
	breq_respond(r, &dc->resp);
	breq_free(r);
}

static void delete_cmd_cb(void *arg, int status, const struct image_result *res)
{
	struct delete_item *di = arg;
	struct breq *r = di->r;
	struct delete_ctx *dc = r->resp;
	dc->resp.responses.v[di->index].error_code = image_error(status, res);
	if (status == 0)
		SLOG_INFO(MOD, "msg=\"topic deletion committed\" topic=%.*s",
			  (int)dc->resp.responses.v[di->index].name.len,
			  dc->resp.responses.v[di->index].name.ptr);
	free(di);
	delete_finish(r);
}

void handle_delete_topics(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_delete_topics_request *req = r->body;
	struct delete_ctx *dc = breq_alloc(r, sizeof *dc);
	int32_t n = req->topic_names.n < 0 ? 0 : req->topic_names.n;
	const struct image *im = cluster_image(b);

	if (dc == NULL)
		goto err_oom;
	r->resp = dc;
	kafka_struct_defaults(&kafka_delete_topics_response_desc, &dc->resp);
	dc->resp.responses.v = breq_alloc_structs(
		r, &kafka_delete_topics_response_deletable_topic_result_desc, n);
	if (dc->resp.responses.v == NULL)
		goto err_oom;
	dc->resp.responses.n = n;
	dc->pending = 1;
	for (int32_t i = 0; i < n; i++) {
		struct kafka_str name = req->topic_names.v[i];
		struct kafka_delete_topics_response_deletable_topic_result *res =
			&dc->resp.responses.v[i];
		res->name = name;
		const struct image_topic *it =
			name.len < 0 ? NULL : image_topic_find(im, name.ptr, (size_t)name.len);
		if (it == NULL) {
			res->error_code = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			continue;
		}
		char *cname = breq_alloc(r, (size_t)name.len + 1);
		struct delete_item *di = malloc(sizeof(*di));
		if (cname == NULL || di == NULL) {
			free(di);
			res->error_code = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
			continue;
		}
		memcpy(cname, name.ptr, (size_t)name.len);
		cname[name.len] = '\0';
		struct image_cmd cmd;
		memset(&cmd, 0, sizeof(cmd));
		cmd.type = IMAGE_CMD_DELETE_TOPIC;
		cmd.delete_topic.name = cname;
		di->r = r;
		di->index = i;
		int64_t timeout = req->timeout_ms > 0 ? req->timeout_ms : COMMAND_TIMEOUT_MS;
		if (cluster_submit(b, &cmd, timeout, delete_cmd_cb, di) != 0) {
			free(di);
			res->error_code = KAFKA_ERR_REQUEST_TIMED_OUT;
			continue;
		}
		dc->pending++;
	}
	delete_finish(r);
	return;

err_oom:
	net_conn_close(r->conn, "out of memory in DeleteTopics");
	breq_free(r);
}

/* ---- UnregisterBroker ---- */

static void unregister_respond(struct breq *r, int16_t err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void unregister_respond(struct breq *r, int16_t err, const char *fmt, ...)
{
	struct kafka_unregister_broker_response resp;
	char msg[256];

	kafka_struct_defaults(&kafka_unregister_broker_response_desc, &resp);
	resp.error_code = err;
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		resp.error_message = kafka_str_c(msg);
	}
	breq_respond(r, &resp);
	breq_free(r);
}

static void unregister_cmd_cb(void *arg, int status, const struct image_result *res)
{
	struct breq *r = arg;
	struct kafka_unregister_broker_request *req = r->body;
	if (status != 0) {
		unregister_respond(r, image_error(status, res), "%s", submit_reason(status, res));
		return;
	}
	SLOG_INFO(MOD, "msg=\"node unregistered\" node=%d", req->broker_id);
	unregister_respond(r, KAFKA_ERR_NONE, NULL);
}

/* UnregisterBroker (key 64): takes a node that is gone for good out of the cluster's metadata,
 * so Metadata stops listing it and placement stops choosing it (IMAGE_CMD_UNREGISTER_NODE).
 * Stricter than Kafka, which unregisters whatever it is asked to: a node still holding
 * replicas (drain it first), a voter of the metadata group, or a node this one is connected
 * to (it is running, and would register again) is refused with INVALID_REQUEST and a message.
 * A node started again later registers again. */
void handle_unregister_broker(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_unregister_broker_request *req = r->body;
	int32_t id = req->broker_id;
	const struct image *im = cluster_image(b);
	const struct image_node *nd = id > 0 ? image_node_find(im, (uint32_t)id) : NULL;

	if (nd == NULL || !nd->registered) {
		unregister_respond(r, KAFKA_ERR_BROKER_ID_NOT_REGISTERED,
				   "node %d is not registered", id);
		return;
	}
	for (int i = 0; i < b->cfg.nvoters; i++) {
		if (b->cfg.voters[i].id == id) {
			unregister_respond(r, KAFKA_ERR_INVALID_REQUEST,
					   "node %d is a voter of the metadata group "
					   "(controller.quorum.voters): voters cannot be removed",
					   id);
			return;
		}
	}
	if (id == b->cfg.node_id || peer_net_connected(cluster_peer_net(b), (uint32_t)id)) {
		unregister_respond(r, KAFKA_ERR_INVALID_REQUEST,
				   "node %d is running (node %d is connected to it): stop it first",
				   id, b->cfg.node_id);
		return;
	}
	struct image_hosted *hosted = NULL;
	size_t nh = 0;
	if (image_node_hosted(im, (uint32_t)id, &hosted, &nh) != 0) {
		net_conn_close(r->conn, "out of memory in UnregisterBroker");
		breq_free(r);
		return;
	}
	free(hosted);
	if (nh > 0) {
		unregister_respond(r, KAFKA_ERR_INVALID_REQUEST,
				   "node %d still holds %zu partition replica(s): move them first "
				   "(sluice nodes drain --node %d)",
				   id, nh, id);
		return;
	}
	struct image_cmd cmd;
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = IMAGE_CMD_UNREGISTER_NODE;
	cmd.unregister_node.node_id = (uint32_t)id;
	if (cluster_submit(b, &cmd, COMMAND_TIMEOUT_MS, unregister_cmd_cb, r) != 0)
		unregister_respond(r, KAFKA_ERR_REQUEST_TIMED_OUT, "%s",
				   submit_reason(SLUICE_EBUSY, NULL));
}

/* ---- InitProducerId ---- */

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

static void init_pid_cb(void *arg, int status, int64_t pid)
{
	struct breq *r = arg;
	if (status != 0)
		SLOG_WARN(MOD, "msg=\"cannot get a producer id block\" err=\"%s\"",
			  err_str(status));
	init_pid_respond(r, status == 0 ? KAFKA_ERR_NONE : KAFKA_ERR_COORDINATOR_LOAD_IN_PROGRESS,
			 pid);
}

void handle_init_producer_id(struct breq *r)
{
	struct kafka_init_producer_id_request *req = r->body;

	if (req->transactional_id.len >= 0) {
		SLOG_WARN(MOD, "msg=\"transactions are not supported\" peer=%s",
			  net_conn_peer(r->conn));
		init_pid_respond(r, KAFKA_ERR_INVALID_REQUEST, -1);
		return;
	}
	/* Ids come in blocks from the controller, so no id is ever handed out twice in the
	 * cluster, even across crashes. */
	if (cluster_producer_id(r->b, init_pid_cb, r) != 0)
		init_pid_respond(r, KAFKA_ERR_COORDINATOR_LOAD_IN_PROGRESS, -1);
}
