/*
 * admin: the Kafka APIs that read or change cluster metadata — Metadata, FindCoordinator,
 * CreateTopics, DeleteTopics, InitProducerId — answered from the metadata image and the
 * leadership table, and changed through the controller (cluster.h).
 *
 * Happy path of CreateTopics: each topic is checked here (name, counts, configs), sent to the
 * controller as CREATE_TOPIC (placement happens in the image's apply, identically on every
 * controller replica), and once committed the request waits until every new partition has a
 * leader (bounded by the request's timeout, as Kafka does) before answering. DeleteTopics
 * answers once the deletion is committed; every node's reconciler then closes and removes its
 * replicas.
 *
 * Failure modes: no controller leader or a lost link: the command is re-sent until its deadline,
 * then REQUEST_TIMED_OUT. The image's rejections map to Kafka codes (TOPIC_ALREADY_EXISTS,
 * INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR for more replicas than registered nodes,
 * INVALID_CONFIG, UNKNOWN_TOPIC_OR_PARTITION). Partitions whose leader is unknown are listed
 * with LEADER_NOT_AVAILABLE and leader -1 (clients retry).
 *
 * Invariants: a request is answered exactly once, also when the node stops while it waits.
 */
#include <inttypes.h>
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
#include "raft/cons.h"

/* How long a CreateTopics waits for leaders when the client gives no timeout. */
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

/* ---- CreateTopics ---- */

struct create_wait {
	struct breq *r;
	struct kafka_create_topics_response resp;
	int pending;    /* commands not answered yet */
	int64_t deadline_ms;
	bool waiting;   /* all answered: waiting for leaders */
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

static bool leaders_known(struct broker *b, struct kafka_str name)
{
	const struct image *im = cluster_image(b);
	const struct image_topic *it = image_topic_find(im, name.ptr, (size_t)name.len);
	if (it == NULL)
		return false;
	for (int32_t i = 0; i < it->npartitions; i++)
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
	breq_respond(cw->r, &cw->resp);
	breq_free(cw->r);
	free(cw);
}

static void create_check(struct create_wait *cw)
{
	struct broker *b = cw->r->b;
	if (cw->pending > 0)
		return;
	bool done = b->stopping || mono_ms(b) >= cw->deadline_ms;
	if (!done) {
		done = true;
		for (int32_t i = 0; i < cw->resp.topics.n && done; i++) {
			struct kafka_create_topics_response_creatable_topic_result *res =
				&cw->resp.topics.v[i];
			if (res->error_code == KAFKA_ERR_NONE && !leaders_known(b, res->name))
				done = false;
		}
	}
	if (done)
		create_finish(cw);
}

static void create_cmd_cb(void *arg, int status, const struct image_result *res)
{
	struct create_item *ci = arg;
	struct create_wait *cw = ci->cw;
	struct kafka_create_topics_response_creatable_topic_result *out =
		&cw->resp.topics.v[ci->index];
	free(ci);
	out->error_code = image_error(status, res);
	if (status != 0) {
		char *msg = breq_alloc(cw->r, ERRMSG_BYTES_MAX);
		if (msg != NULL) {
			snprintf(msg, ERRMSG_BYTES_MAX, "%s",
				 res->errmsg[0] ? res->errmsg : err_str(status));
			out->error_message = kafka_str_c(msg);
		}
	} else {
		SLOG_INFO(MOD, "msg=\"topic created\" topic=%.*s partitions=%d "
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

void handle_create_topics(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_create_topics_request *req = r->body;
	const struct image *im = cluster_image(b);
	int n = req->topics.n < 0 ? 0 : req->topics.n;
	struct create_wait *cw = calloc(1, sizeof(*cw));

	if (cw == NULL)
		goto err_oom;
	cw->r = r;
	kafka_struct_defaults(&kafka_create_topics_response_desc, &cw->resp);
	cw->resp.topics.v = breq_alloc_structs(
		r, &kafka_create_topics_response_creatable_topic_result_desc, n);
	if (cw->resp.topics.v == NULL)
		goto err_oom;
	cw->resp.topics.n = n;
	cw->deadline_ms = mono_ms(b) + (req->timeout_ms > 0 ? req->timeout_ms
							  : CREATE_WAIT_MS_DEFAULT);
	cw->pending = 1; /* held until every command is sent */
	cw->next = b->create_waits;
	b->create_waits = cw;
	for (int i = 0; i < n; i++) {
		struct kafka_create_topics_request_creatable_topic *t = &req->topics.v[i];
		struct kafka_create_topics_response_creatable_topic_result *res = &cw->resp.topics.v[i];
		char *name = breq_alloc(r, TOPIC_NAME_BYTES_MAX + 1);
		char *msg = breq_alloc(r, ERRMSG_BYTES_MAX);
		int32_t parts = t->num_partitions == -1 ? b->cfg.num_partitions : t->num_partitions;
		int16_t rf = t->replication_factor == -1 ? b->cfg.default_replication_factor
							 : t->replication_factor;
		struct image_cmd cmd;
		struct image_result ir = {0};

		res->name = t->name;
		res->error_message = kafka_str_null();
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
			snprintf(msg, ERRMSG_BYTES_MAX, "%s", ir.errmsg[0] ? ir.errmsg : err_str(crv));
			res->error_message = kafka_str_c(msg);
			continue;
		}
		if (req->validate_only)
			continue;
		struct create_item *ci = malloc(sizeof(*ci));
		if (ci == NULL)
			goto err_oom_sent;
		ci->cw = cw;
		ci->index = i;
		int64_t left = cw->deadline_ms - mono_ms(b);
		crv = cluster_submit(b, &cmd, left > 0 ? left : 1, create_cmd_cb, ci);
		if (crv != 0) {
			free(ci);
			res->error_code = KAFKA_ERR_REQUEST_TIMED_OUT;
			continue;
		}
		cw->pending++;
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
	free(cw);
	net_conn_close(r->conn, "out of memory in CreateTopics");
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
