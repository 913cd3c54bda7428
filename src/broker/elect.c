/*
 * elect: the ElectLeaders API (key 43, KIP-183; ElectionType from v1, KIP-460) — an operator
 * asks that each named partition be led by its preferred replica, the first of its replica list
 * in the metadata image.
 *
 * Happy path: for each requested partition the handler looks the partition up in the image,
 * and asks its leader, through cluster_elect_preferred(), to hand leadership to the preferred
 * replica with a Raft leadership transfer (this node's own replica when it leads, else a CONTROL
 * frame to the leader). It answers at once, per partition: NONE when the transfer was asked for,
 * ELECTION_NOT_NEEDED when the preferred replica already leads. The transfer completes within an
 * election timeout or so; its outcome shows in Metadata (the CLI waits for it there). TimeoutMs
 * is therefore not waited on.
 *
 * A null TopicPartitions means every partition of every topic. As Kafka's controller does
 * (ReplicationControlManager.electLeaders), the answer then has a row for every topic but leaves
 * out the partitions whose election was not needed, so that kafka-leader-election.sh
 * --all-topic-partitions lists only what moved or failed.
 *
 * Failure modes, per partition (the top-level ErrorCode, v1+, is always NONE):
 *   - unknown topic or partition: UNKNOWN_TOPIC_OR_PARTITION;
 *   - ElectionType UNCLEAN (1) or an unknown type: INVALID_REQUEST with a message. Raft elects
 *     only a replica holding every committed entry, so there is no unclean election to run;
 *     a partition without a leader gets one as soon as a majority of its replicas is up;
 *   - no leader known: LEADER_NOT_AVAILABLE (retriable);
 *   - preferred replica not reachable from the leader, or unable to take over:
 *     PREFERRED_LEADER_NOT_AVAILABLE;
 *   - anything else (out of memory in the transport): UNKNOWN_SERVER_ERROR with its message.
 * Running out of arena memory while building the response closes the connection, as in the
 * other admin handlers.
 *
 * Invariants:
 *   1. The request is answered exactly once, in the loop turn that received it.
 *   2. Work is bounded by the request (each named partition once per mention) or, for null
 *      TopicPartitions, by the image's partition limit (IMAGE_PARTITIONS_MAX), as Metadata is.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/slog.h"
#include "broker/cluster.h"
#include "broker/internal.h"
#include "meta/image.h"

/* ElectLeadersRequest.json ElectionType. */
enum {
	ELECTION_TYPE_PREFERRED = 0,
	ELECTION_TYPE_UNCLEAN = 1,
};

typedef struct kafka_elect_leaders_response_replica_election_result election_result;
typedef struct kafka_elect_leaders_response_partition_result partition_result;

/* What one request did, for the log line. */
struct elect_tally {
	int32_t asked;
	int32_t not_needed;
	int32_t failed;
};

/* Runs the election of partition `index` of topic `it` (NULL: unknown topic) and fills `out`.
 * Returns 0, or SLUICE_ENOMEM when a message could not be allocated. */
static int elect_one(struct breq *r, int8_t type, const struct image_topic *it, int32_t index,
		     partition_result *out, struct elect_tally *tally)
{
	struct broker *b = r->b;
	const struct image_partition *ip = it != NULL ? image_partition_get(it, index) : NULL;

	out->partition_id = index;
	out->error_message = kafka_str_null();
	if (ip == NULL) {
		out->error_code = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		tally->failed++;
		return 0;
	}
	if (type != ELECTION_TYPE_PREFERRED) {
		out->error_code = KAFKA_ERR_INVALID_REQUEST;
		tally->failed++;
		if (type == ELECTION_TYPE_UNCLEAN) {
			out->error_message = kafka_str_c(
				"unclean leader election is not supported: "
				"Raft elects only a replica that has every "
				"committed record");
			return 0;
		}
		return breq_printf(r, &out->error_message, "unknown ElectionType %d", type);
	}
	assert(ip->nreplicas >= 1); /* image invariant 2 */
	uint32_t preferred = ip->replicas[0];
	struct partition *lp = broker_local_partition(b, it, index);
	int32_t leader = cluster_partition_leader(b, lp, ip->group_id);
	int rv;

	/* Decided here rather than left to cluster_elect_preferred(): when the leader is a peer
	 * it only forwards the request, and the peer's "already leads" never comes back. */
	if (leader >= 0 && (uint32_t)leader == preferred)
		rv = SLUICE_EEXIST;
	else
		rv = cluster_elect_preferred(b, lp, ip->group_id);
	switch (rv) {
	case 0:
		out->error_code = KAFKA_ERR_NONE;
		tally->asked++;
		return 0;
	case SLUICE_EEXIST:
		out->error_code = KAFKA_ERR_ELECTION_NOT_NEEDED;
		tally->not_needed++;
		return 0;
	case SLUICE_ENOTLEADER:
	case SLUICE_ENOTFOUND:
	case SLUICE_ECLOSED:
		out->error_code = KAFKA_ERR_LEADER_NOT_AVAILABLE;
		tally->failed++;
		return breq_printf(r, &out->error_message, "no reachable leader is known for this partition (%s)",
				   err_str(rv));
	case SLUICE_EBUSY:
		out->error_code = KAFKA_ERR_PREFERRED_LEADER_NOT_AVAILABLE;
		tally->failed++;
		return breq_printf(r, &out->error_message, "preferred replica %u is not reachable", preferred);
	case SLUICE_EINVAL:
		/* cons_transfer(): the preferred replica is not a voter of the group (yet). */
		out->error_code = KAFKA_ERR_PREFERRED_LEADER_NOT_AVAILABLE;
		tally->failed++;
		return breq_printf(r, &out->error_message, "preferred replica %u cannot take leadership (%s)",
				   preferred, err_str(rv));
	default:
		out->error_code = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
		tally->failed++;
		return breq_printf(r, &out->error_message, "%s", err_str(rv));
	}
}

/* Fills `res` for every partition of `it`, leaving out those whose election is not needed. */
static int elect_topic_all(struct breq *r, int8_t type, const struct image_topic *it,
			   election_result *res, struct elect_tally *tally)
{
	res->topic = kafka_str_c(it->name);
	res->partition_result.v = breq_alloc_structs(
		r, &kafka_elect_leaders_response_partition_result_desc, it->npartitions);
	if (res->partition_result.v == NULL)
		return SLUICE_ENOMEM;
	res->partition_result.n = 0;
	for (int32_t i = 0; i < it->npartitions; i++) {
		partition_result *out = &res->partition_result.v[res->partition_result.n];
		int rv = elect_one(r, type, it, i, out, tally);
		if (rv != 0)
			return rv;
		if (out->error_code != KAFKA_ERR_ELECTION_NOT_NEEDED)
			res->partition_result.n++;
	}
	return 0;
}

/* Fills `res` for the partitions the request names for one topic, in the request's order. */
static int elect_topic_named(struct breq *r, int8_t type,
			     const struct kafka_elect_leaders_request_topic_partitions *tp,
			     election_result *res, struct elect_tally *tally)
{
	const struct image_topic *it = NULL;
	int32_t n = tp->partition_id.n < 0 ? 0 : tp->partition_id.n;

	if (tp->topic.len >= 0)
		it = image_topic_find(cluster_image(r->b), tp->topic.ptr, (size_t)tp->topic.len);

	res->topic = tp->topic;
	res->partition_result.v = breq_alloc_structs(
		r, &kafka_elect_leaders_response_partition_result_desc, n);
	if (res->partition_result.v == NULL)
		return SLUICE_ENOMEM;
	res->partition_result.n = n;
	for (int32_t i = 0; i < n; i++) {
		int rv = elect_one(r, type, it, tp->partition_id.v[i], &res->partition_result.v[i],
				   tally);
		if (rv != 0)
			return rv;
	}
	return 0;
}

void handle_elect_leaders(struct breq *r)
{
	struct kafka_elect_leaders_request *req = r->body;
	struct kafka_elect_leaders_response resp;
	const struct image *im = cluster_image(r->b);
	struct elect_tally tally = { 0, 0, 0 };
	bool all = req->topic_partitions.n < 0;
	/* v0 has no ElectionType: it decodes as 0, the preferred replica, which is what v0 did. */
	int8_t type = req->election_type;
	int32_t n = all ? (int32_t)im->ntopics : req->topic_partitions.n;
	int rv = 0;

	kafka_struct_defaults(&kafka_elect_leaders_response_desc, &resp);
	resp.error_code = KAFKA_ERR_NONE;
	resp.replica_election_results.v = breq_alloc_structs(
		r, &kafka_elect_leaders_response_replica_election_result_desc, n);
	if (resp.replica_election_results.v == NULL)
		goto err_oom;
	resp.replica_election_results.n = n;
	for (int32_t i = 0; i < n && rv == 0; i++) {
		election_result *res = &resp.replica_election_results.v[i];
		if (all)
			rv = elect_topic_all(r, type, im->topics[i], res, &tally);
		else
			rv = elect_topic_named(r, type, &req->topic_partitions.v[i], res, &tally);
	}
	if (rv != 0)
		goto err_oom;
	SLOG_INFO(MOD,
		  "msg=\"leader election\" peer=%s type=%d scope=%s asked=%d not_needed=%d "
		  "failed=%d",
		  net_conn_peer(r->conn), type, all ? "all" : "named", tally.asked,
		  tally.not_needed, tally.failed);
	breq_respond(r, &resp);
	breq_free(r);
	return;

err_oom:
	net_conn_close(r->conn, "out of memory in ElectLeaders");
	breq_free(r);
}
