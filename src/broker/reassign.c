/*
 * reassign: the partition reassignment APIs of KIP-455 — AlterPartitionReassignments (key 45)
 * gives partitions new replica lists, ListPartitionReassignments (key 46) lists the partitions
 * whose replicas are still moving. Both are v0, flexible.
 *
 * Happy path of AlterPartitionReassignments: for each named partition with a non-null Replicas
 * list, the handler checks the list against its copy of the image (image_check: the topic and
 * partition exist; 1..IMAGE_REPLICAS_MAX distinct registered nodes) and sends REASSIGN_PARTITION
 * to the controller with cluster_submit(). Each partition is answered when its command is
 * committed; the request is answered when the last one is. The first replica of the new list is
 * the preferred leader. As in Kafka, the answer means "accepted", not "moved": the partition's
 * Raft leader then changes the group's membership towards the new list (cluster.c: a new
 * replica joins empty, catches up and becomes a voter; dropped ones are removed and delete their
 * data). Metadata shows the new list at once; ListPartitionReassignments shows the move until
 * the group's voters equal the list.
 *
 * Failure modes, per partition (the top-level ErrorCode is always NONE):
 *   - unknown topic or partition: UNKNOWN_TOPIC_OR_PARTITION;
 *   - an empty list, more than IMAGE_REPLICAS_MAX replicas, a replica listed twice, a node id
 *     that is not a registered node (never known, or unregistered): INVALID_REPLICA_ASSIGNMENT,
 *     with the image's reason as ErrorMessage;
 *   - no controller answer within TimeoutMs (default 60000), too many commands in flight, or
 *     the node stopping: REQUEST_TIMED_OUT (retriable; a command that timed out may still have
 *     been applied — sending the same list again is harmless);
 *   - a null Replicas list (a request to cancel a pending move): NO_REASSIGNMENT_IN_PROGRESS.
 *     Sluice commits the new list to the image at once and keeps no "original" list to return
 *     to, so there is nothing to cancel; the message says to reassign to the old list instead.
 * Running out of memory closes the connection, as in the other admin handlers.
 *
 * ListPartitionReassignments reports, per partition, what this node's replica sees through
 * cluster_reassignment_pending(): Replicas (the image's list followed by the replicas still
 * being removed, Kafka's "current replica set"), AddingReplicas and RemovingReplicas. A node
 * that hosts no replica of a partition does not know its Raft membership and leaves it out;
 * clients that need the whole picture ask every broker (the CLI does) and merge. Named topics
 * or partitions that do not exist are left out, as Kafka's controller does.
 *
 * Invariants:
 *   1. A request is answered exactly once: at once when nothing was submitted, else by the
 *      callback of its last outstanding command (cluster_submit calls each callback once, at the
 *      latest at its deadline or when the node stops).
 *   2. Work per request is bounded by the request's partitions, or, for a null Topics list, by
 *      the image's partition limit (IMAGE_PARTITIONS_MAX), as Metadata is.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/slog.h"
#include "broker/cluster.h"
#include "broker/internal.h"
#include "meta/image.h"

/* AlterPartitionReassignmentsRequest.json's default TimeoutMs, used when a client sends <= 0. */
#define REASSIGN_TIMEOUT_MS_DEFAULT 60000
/* Replicas cluster_reassignment_pending() may report as adding or removing (its contract). */
#define REASSIGN_PENDING_MAX (IMAGE_REPLICAS_MAX * 2)

typedef struct kafka_alter_partition_reassignments_request_reassignable_topic alter_topic;
typedef struct kafka_alter_partition_reassignments_request_reassignable_partition alter_partition;
typedef struct kafka_alter_partition_reassignments_response_reassignable_topic_response
	alter_topic_result;
typedef struct kafka_alter_partition_reassignments_response_reassignable_partition_response
	alter_partition_result;
typedef struct kafka_list_partition_reassignments_response_ongoing_topic_reassignment
	ongoing_topic;
typedef struct kafka_list_partition_reassignments_response_ongoing_partition_reassignment
	ongoing_partition;

/* ---- AlterPartitionReassignments ---- */

/* One request's state while its commands are outstanding (in the request's arena). */
struct alter_ctx {
	struct kafka_alter_partition_reassignments_response resp;
	int pending; /* outstanding commands, plus one while the handler is still sending */
};

/* One submitted command; malloc'd, freed by its callback. */
struct alter_item {
	struct breq *r;
	alter_partition_result *out;
	struct kafka_str topic;
	int32_t partition;
	uint8_t nreplicas;
	uint32_t replicas[IMAGE_REPLICAS_MAX];
};


/* The Kafka error code for a REASSIGN_PARTITION outcome (image_check, image_apply or
 * cluster_submit's status). */
static int16_t reassign_error(int status, const struct image_result *res)
{
	switch (status) {
	case 0:
		return KAFKA_ERR_NONE;
	case SLUICE_ENOTFOUND:
		return KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	case SLUICE_EINVAL:
	case SLUICE_ETOOLARGE:
		switch (res->field) {
		case IMAGE_FIELD_REPLICAS:
			return KAFKA_ERR_INVALID_REPLICA_ASSIGNMENT;
		case IMAGE_FIELD_TOPIC_NAME:
		case IMAGE_FIELD_PARTITION:
			return KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		default:
			return KAFKA_ERR_INVALID_REQUEST;
		}
	case SLUICE_ETIMEDOUT:
	case SLUICE_EBUSY:
	case SLUICE_ECLOSED:
		return KAFKA_ERR_REQUEST_TIMED_OUT;
	default:
		return KAFKA_ERR_UNKNOWN_SERVER_ERROR;
	}
}

/* Sets the error code and message of a partition for `status`. Returns 0 or SLUICE_ENOMEM. */
static int set_outcome(struct breq *r, alter_partition_result *out, int status,
		       const struct image_result *res)
{
	out->error_code = reassign_error(status, res);
	if (status == 0) {
		out->error_message = kafka_str_null();
		return 0;
	}
	switch (status) {
	case SLUICE_ETIMEDOUT:
		return breq_printf(r, &out->error_message,
				   "the controller did not commit the reassignment in time; it may "
				   "still be applied: check Metadata, or send it again");
	case SLUICE_EBUSY:
		return breq_printf(r, &out->error_message,
				   "too many metadata commands in flight on this node; retry");
	case SLUICE_ECLOSED:
		return breq_printf(r, &out->error_message, "the node is stopping; retry elsewhere");
	default:
		return breq_printf(r, &out->error_message, "%s",
				   res->errmsg[0] != '\0' ? res->errmsg : err_str(status));
	}
}

/* Answers the request once nothing is outstanding. */
static void alter_release(struct breq *r)
{
	struct alter_ctx *ac = r->resp;

	assert(ac->pending > 0);
	if (--ac->pending > 0)
		return;
	breq_respond(r, &ac->resp);
	breq_free(r);
}

static void alter_cmd_cb(void *arg, int status, const struct image_result *res)
{
	struct alter_item *ai = arg;
	struct breq *r = ai->r;

	if (set_outcome(r, ai->out, status, res) != 0)
		ai->out->error_message = kafka_str_null(); /* the code still says what happened */
	if (status == 0) {
		char list[IMAGE_REPLICAS_MAX * 12];
		size_t used = 0;

		list[0] = '\0';
		for (uint8_t k = 0; k < ai->nreplicas && used < sizeof list; k++)
			used += (size_t)snprintf(list + used, sizeof list - used, "%s%" PRIu32,
						 k > 0 ? "," : "", ai->replicas[k]);
		SLOG_INFO(MOD, "msg=\"partition reassignment committed\" partition=%.*s-%d "
			       "replicas=%s",
			  (int)ai->topic.len, ai->topic.ptr, ai->partition, list);
	} else {
		SLOG_INFO(MOD, "msg=\"partition reassignment refused\" partition=%.*s-%d err=\"%s\" "
			       "reason=\"%s\"",
			  (int)ai->topic.len, ai->topic.ptr, ai->partition, err_str(status),
			  res->errmsg);
	}
	free(ai);
	alter_release(r);
}

/* Answers a cancellation (null Replicas). */
static int alter_cancel(struct breq *r, const struct image_topic *it, int32_t partition,
			alter_partition_result *out)
{
	uint32_t adding[REASSIGN_PENDING_MAX];
	uint32_t removing[REASSIGN_PENDING_MAX];
	int nadding = 0;
	int nremoving = 0;

	out->error_code = KAFKA_ERR_NO_REASSIGNMENT_IN_PROGRESS;
	if (cluster_reassignment_pending(r->b, it, partition, adding, &nadding, removing,
					 &nremoving))
		return breq_printf(r, &out->error_message,
				   "a move in progress cannot be cancelled: the new replica list "
				   "is already committed; reassign the partition to its previous "
				   "replicas to move it back");
	return breq_printf(r, &out->error_message,
			   "no reassignment of this partition is in progress");
}

/* Checks one partition of the request and submits its command, or answers it at once. Returns
 * 0, or SLUICE_ENOMEM (the partition is then answered with UNKNOWN_SERVER_ERROR). */
static int alter_one(struct breq *r, struct kafka_str topic, const char *name,
		     const alter_partition *in, alter_partition_result *out, int64_t timeout_ms)
{
	struct alter_ctx *ac = r->resp;
	const struct image *im = cluster_image(r->b);
	const struct image_topic *it = name != NULL ? image_topic_find(im, name, strlen(name))
						    : NULL;
	struct image_result ir;
	struct image_cmd cmd;
	struct alter_item *ai;
	int rv;

	out->partition_index = in->partition_index;
	out->error_message = kafka_str_null();
	if (it == NULL || image_partition_get(it, in->partition_index) == NULL) {
		out->error_code = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		if (it == NULL)
			return breq_printf(r, &out->error_message, "topic '%.*s' does not exist",
					   topic.len > 0 ? (int)topic.len : 0,
					   topic.len > 0 ? topic.ptr : "");
		return breq_printf(r, &out->error_message, "topic '%s' has no partition %" PRId32,
				   it->name, in->partition_index);
	}
	if (in->replicas.n < 0)
		return alter_cancel(r, it, in->partition_index, out);
	if (in->replicas.n == 0 || in->replicas.n > IMAGE_REPLICAS_MAX) {
		out->error_code = KAFKA_ERR_INVALID_REPLICA_ASSIGNMENT;
		return breq_printf(r, &out->error_message,
				   "a partition needs 1 to %d replicas, not %" PRId32,
				   IMAGE_REPLICAS_MAX, in->replicas.n);
	}
	memset(&cmd, 0, sizeof cmd);
	cmd.type = IMAGE_CMD_REASSIGN_PARTITION;
	cmd.reassign_partition.name = name;
	cmd.reassign_partition.partition = in->partition_index;
	cmd.reassign_partition.nreplicas = (uint8_t)in->replicas.n;
	for (int32_t k = 0; k < in->replicas.n; k++) {
		int32_t id = in->replicas.v[k];

		if (id <= 0) {
			out->error_code = KAFKA_ERR_INVALID_REPLICA_ASSIGNMENT;
			return breq_printf(r, &out->error_message,
					   "replica %" PRId32 " is not a registered node", id);
		}
		cmd.reassign_partition.replicas[k] = (uint32_t)id;
	}
	/* Refused here what the controller would refuse, so a bad list needs no round trip. */
	memset(&ir, 0, sizeof ir);
	rv = image_check(im, &cmd, &ir);
	if (rv != 0)
		return set_outcome(r, out, rv, &ir);

	ai = malloc(sizeof *ai);
	if (ai == NULL)
		return SLUICE_ENOMEM;
	ai->r = r;
	ai->out = out;
	ai->topic = topic;
	ai->partition = in->partition_index;
	ai->nreplicas = cmd.reassign_partition.nreplicas;
	memcpy(ai->replicas, cmd.reassign_partition.replicas, sizeof ai->replicas);
	rv = cluster_submit(r->b, &cmd, timeout_ms, alter_cmd_cb, ai);
	if (rv != 0) {
		free(ai);
		memset(&ir, 0, sizeof ir);
		return set_outcome(r, out, rv == SLUICE_ENOMEM ? rv : SLUICE_EBUSY, &ir);
	}
	ac->pending++;
	return 0;
}

/* Fills the result of one topic of the request, submitting a command per valid partition. */
static int alter_topic_run(struct breq *r, const alter_topic *in, alter_topic_result *out,
			   int64_t timeout_ms)
{
	int32_t n = in->partitions.n < 0 ? 0 : in->partitions.n;
	char *name = NULL;

	out->name = in->name;
	out->partitions.v = breq_alloc_structs(
		r, &kafka_alter_partition_reassignments_response_reassignable_partition_response_desc,
		n);
	if (out->partitions.v == NULL)
		return SLUICE_ENOMEM;
	out->partitions.n = n;
	/* image_check and the command take a NUL-terminated name; a longer one, or one with a NUL
	 * inside (which would name a shorter topic), cannot exist. */
	if (in->name.len > 0 && in->name.len <= TOPICDEF_NAME_BYTES_MAX &&
	    memchr(in->name.ptr, '\0', (size_t)in->name.len) == NULL) {
		name = breq_alloc(r, (size_t)in->name.len + 1);
		if (name == NULL)
			return SLUICE_ENOMEM;
		memcpy(name, in->name.ptr, (size_t)in->name.len);
	}
	for (int32_t i = 0; i < n; i++) {
		alter_partition_result *res = &out->partitions.v[i];
		int rv = alter_one(r, in->name, name, &in->partitions.v[i], res, timeout_ms);

		if (rv != 0) {
			res->error_code = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
			res->error_message = kafka_str_null();
			return rv;
		}
	}
	return 0;
}

static void handle_alter(struct breq *r)
{
	struct kafka_alter_partition_reassignments_request *req = r->body;
	struct alter_ctx *ac = breq_alloc(r, sizeof *ac);
	int32_t n = req->topics.n < 0 ? 0 : req->topics.n;
	int64_t timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : REASSIGN_TIMEOUT_MS_DEFAULT;
	int rv = 0;

	if (ac == NULL)
		goto err_oom;
	r->resp = ac;
	kafka_struct_defaults(&kafka_alter_partition_reassignments_response_desc, &ac->resp);
	ac->resp.error_code = KAFKA_ERR_NONE;
	ac->resp.error_message = kafka_str_null();
	ac->resp.responses.v = breq_alloc_structs(
		r, &kafka_alter_partition_reassignments_response_reassignable_topic_response_desc,
		n);
	if (ac->resp.responses.v == NULL)
		goto err_oom;
	ac->resp.responses.n = n;
	ac->pending = 1; /* held until every command is sent */
	for (int32_t i = 0; i < n && rv == 0; i++)
		rv = alter_topic_run(r, &req->topics.v[i], &ac->resp.responses.v[i], timeout_ms);
	if (rv != 0) {
		/* Commands already sent answer into ac: let them finish, then answer. */
		net_conn_close(r->conn, "out of memory in AlterPartitionReassignments");
	}
	alter_release(r);
	return;

err_oom:
	net_conn_close(r->conn, "out of memory in AlterPartitionReassignments");
	breq_free(r);
}

/* ---- ListPartitionReassignments ---- */

/* Copies `n` node ids into a new int32 array of the request's arena. */
static int32_t *node_array(struct breq *r, const uint32_t *ids, int n)
{
	int32_t *v = breq_alloc(r, sizeof *v * (size_t)(n > 0 ? n : 1));

	if (v == NULL)
		return NULL;
	for (int k = 0; k < n; k++)
		v[k] = (int32_t)ids[k];
	return v;
}

/* Whether partition `index` of `it` is moving as this node sees it; when it is and `out` is not
 * NULL, fills `out`. Returns 1 (moving), 0 (not, or unknown here) or SLUICE_ENOMEM. */
static int list_one(struct breq *r, const struct image_topic *it, int32_t index,
		    ongoing_partition *out)
{
	const struct image_partition *ip = image_partition_get(it, index);
	uint32_t adding[REASSIGN_PENDING_MAX];
	uint32_t removing[REASSIGN_PENDING_MAX];
	uint32_t current[IMAGE_REPLICAS_MAX + REASSIGN_PENDING_MAX];
	int nadding = 0;
	int nremoving = 0;
	int ncurrent = 0;

	if (ip == NULL || !cluster_reassignment_pending(r->b, it, index, adding, &nadding,
							removing, &nremoving))
		return 0;
	if (out == NULL)
		return 1;
	assert(nadding >= 0 && nadding <= REASSIGN_PENDING_MAX);
	assert(nremoving >= 0 && nremoving <= REASSIGN_PENDING_MAX);
	/* Kafka's "current replica set" during a move: the target list, then the leaving ones. */
	for (uint8_t k = 0; k < ip->nreplicas; k++)
		current[ncurrent++] = ip->replicas[k];
	for (int k = 0; k < nremoving; k++)
		current[ncurrent++] = removing[k];
	out->partition_index = index;
	out->replicas.v = node_array(r, current, ncurrent);
	out->adding_replicas.v = node_array(r, adding, nadding);
	out->removing_replicas.v = node_array(r, removing, nremoving);
	if (out->replicas.v == NULL || out->adding_replicas.v == NULL ||
	    out->removing_replicas.v == NULL)
		return SLUICE_ENOMEM;
	out->replicas.n = ncurrent;
	out->adding_replicas.n = nadding;
	out->removing_replicas.n = nremoving;
	return 1;
}

/* Fills `out` with the moving partitions among `indexes` (every partition of `it` when NULL).
 * Returns the number of partitions listed, or SLUICE_ENOMEM. Two passes (count, then fill) keep
 * the arena use proportional to what is listed rather than to the topic's size. */
static int list_topic(struct breq *r, const struct image_topic *it, const int32_t *indexes,
		      int32_t nindexes, ongoing_topic *out)
{
	int32_t n = indexes != NULL ? nindexes : it->npartitions;
	int32_t count = 0;
	int rv;

	for (int32_t i = 0; i < n; i++) {
		rv = list_one(r, it, indexes != NULL ? indexes[i] : i, NULL);
		if (rv < 0)
			return rv;
		count += rv;
	}
	out->name = kafka_str_c(it->name);
	out->partitions.n = 0;
	if (count == 0)
		return 0;
	out->partitions.v = breq_alloc_structs(
		r, &kafka_list_partition_reassignments_response_ongoing_partition_reassignment_desc,
		count);
	if (out->partitions.v == NULL)
		return SLUICE_ENOMEM;
	for (int32_t i = 0; i < n && out->partitions.n < count; i++) {
		rv = list_one(r, it, indexes != NULL ? indexes[i] : i,
			      &out->partitions.v[out->partitions.n]);
		if (rv < 0)
			return rv;
		out->partitions.n += rv;
	}
	return out->partitions.n;
}

static void handle_list(struct breq *r)
{
	struct kafka_list_partition_reassignments_request *req = r->body;
	struct kafka_list_partition_reassignments_response resp;
	const struct image *im = cluster_image(r->b);
	bool all = req->topics.n < 0;
	int32_t n = all ? (int32_t)im->ntopics : req->topics.n;
	int32_t listed = 0;

	kafka_struct_defaults(&kafka_list_partition_reassignments_response_desc, &resp);
	resp.error_code = KAFKA_ERR_NONE;
	resp.error_message = kafka_str_null();
	resp.topics.v = breq_alloc_structs(
		r, &kafka_list_partition_reassignments_response_ongoing_topic_reassignment_desc, n);
	if (resp.topics.v == NULL)
		goto err_oom;
	resp.topics.n = 0;
	for (int32_t i = 0; i < n; i++) {
		const struct image_topic *it;
		const int32_t *indexes = NULL;
		int32_t nindexes = 0;
		int rv;

		if (all) {
			it = im->topics[i];
		} else {
			const struct kafka_list_partition_reassignments_request_list_partition_reassignments_topics
				*t = &req->topics.v[i];

			it = t->name.len > 0 ? image_topic_find(im, t->name.ptr, (size_t)t->name.len)
					     : NULL;
			if (it == NULL)
				continue; /* unknown: left out, as Kafka does */
			indexes = t->partition_indexes.v;
			nindexes = t->partition_indexes.n < 0 ? 0 : t->partition_indexes.n;
		}
		rv = list_topic(r, it, indexes, nindexes, &resp.topics.v[resp.topics.n]);
		if (rv < 0)
			goto err_oom;
		if (rv > 0) {
			resp.topics.n++;
			listed += rv;
		}
	}
	SLOG_DEBUG(MOD, "msg=\"reassignments listed\" peer=%s scope=%s partitions=%d",
		   net_conn_peer(r->conn), all ? "all" : "named", listed);
	breq_respond(r, &resp);
	breq_free(r);
	return;

err_oom:
	net_conn_close(r->conn, "out of memory in ListPartitionReassignments");
	breq_free(r);
}

void handle_partition_reassignments(struct breq *r)
{
	switch (r->h.api_key) {
	case KAFKA_API_ALTER_PARTITION_REASSIGNMENTS:
		handle_alter(r);
		return;
	case KAFKA_API_LIST_PARTITION_REASSIGNMENTS:
		handle_list(r);
		return;
	default:
		assert(!"handle_partition_reassignments: not a reassignment API");
		breq_free(r);
		return;
	}
}
