/*
 * consumer_groups: the KIP-848 consumer-group APIs (ConsumerGroupHeartbeat, key 68, and
 * ConsumerGroupDescribe, key 69) over the pure coordinator in src/group/cgroup.c, and the
 * routing that lets the classic APIs live next to it.
 *
 * Happy path: a heartbeat is translated into struct cgroup_heartbeat_req (owned partitions
 * flattened to (topic id, partition) pairs), answered at once from the coordinator, and the
 * assignment is grouped back by topic id. The coordinator learns topic ids and partition counts
 * from the broker's registry through topic_lookup().
 *
 * Interplay with classic groups (docs/compatibility.md, "Consumer groups: classic and
 * consumer protocols"): one group id belongs to one protocol at a time, as Apache Kafka does
 * with group.consumer.migration.policy=disabled:
 *   1. a ConsumerGroupHeartbeat for an id that a classic group with members uses gets
 *      GROUP_ID_NOT_FOUND ("not a consumer group");
 *   2. a JoinGroup for an id that a consumer group with members uses gets
 *      INCONSISTENT_GROUP_PROTOCOL; an empty consumer group is dropped and the id becomes
 *      classic (committed offsets stay: they belong to the id);
 *   3. OffsetCommit for a consumer group is checked here against member epochs
 *      (GenerationIdOrMemberEpoch carries the member epoch), then stored by the classic
 *      handler as a plain commit.
 * Failure modes: coordinator errors go back as the protocol's codes; an arena allocation
 * failure closes the connection with a logged reason, as the other handlers do.
 */
#include <string.h>

#include "base/err.h"
#include "base/slog.h"
#include "broker/internal.h"
#include "group/cgroup.h"

static struct cgroup_str cstr(struct kafka_str s)
{
	return (struct cgroup_str){s.ptr, s.len};
}

static struct kafka_str kstr(struct cgroup_str s)
{
	return (struct kafka_str){s.p, s.len};
}

static int64_t now_ms(const struct broker *b)
{
	return (int64_t)uv_now(b->loop);
}

bool consumer_groups_topic_lookup(void *arg, const char *name, size_t len, uint8_t id[16],
				  int32_t *partitions)
{
	struct broker *b = arg;
	struct topic *tp = topics_find(&b->topics, name, len);

	if (tp == NULL || tp->internal || tp->data == NULL ||
	    ((struct topic_state *)tp->data)->deleting)
		return false;
	memcpy(id, tp->id, 16);
	*partitions = tp->partitions;
	return true;
}

static const struct topic *topic_by_id(const struct broker *b, const uint8_t id[16])
{
	for (int i = 0; i < b->topics.n; i++)
		if (memcmp(b->topics.v[i]->id, id, 16) == 0)
			return b->topics.v[i];
	return NULL;
}

/* True when a classic group with members uses `id`. */
static bool classic_live(struct broker *b, struct kafka_str id)
{
	struct group_describe_result d;

	group_describe(b->gc, (struct group_bytes){(const uint8_t *)id.ptr, id.len}, &d);
	return d.error == KAFKA_ERR_NONE && d.state != GROUP_DEAD && d.nmembers > 0;
}

/* The client's host as Kafka reports it ("/127.0.0.1"). */
static struct kafka_str client_host(struct breq *r)
{
	const char *peer = net_conn_peer(r->conn);
	const char *colon = strrchr(peer, ':');
	size_t n = colon != NULL ? (size_t)(colon - peer) : strlen(peer);
	char *s = breq_alloc(r, n + 2);

	if (s == NULL)
		return kafka_str_c("");
	s[0] = '/';
	memcpy(s + 1, peer, n);
	return kafka_str_c(s);
}

/* ---- ConsumerGroupHeartbeat --------------------------------------------------------------- */

/* Groups a flat partition list by topic id into the response's TopicPartitions. Returns 0 or
 * SLUICE_ENOMEM. */
static int hb_assignment(struct breq *r, const struct cgroup_tp *tps, int32_t n,
			 struct kafka_consumer_group_heartbeat_response_assignment *out)
{
	const struct kafka_struct_desc *d =
		&kafka_consumer_group_heartbeat_response_topic_partitions_desc;

	out->topic_partitions.v = breq_alloc_structs(r, d, n);
	if (out->topic_partitions.v == NULL)
		return SLUICE_ENOMEM;
	out->topic_partitions.n = 0;
	for (int32_t i = 0; i < n; i++) {
		struct kafka_consumer_group_heartbeat_response_topic_partitions *t = NULL;
		for (int32_t k = 0; k < out->topic_partitions.n && t == NULL; k++)
			if (memcmp(out->topic_partitions.v[k].topic_id.b, tps[i].topic_id, 16) == 0)
				t = &out->topic_partitions.v[k];
		if (t == NULL) {
			t = &out->topic_partitions.v[out->topic_partitions.n++];
			memcpy(t->topic_id.b, tps[i].topic_id, 16);
			t->partitions.v = breq_alloc(r, sizeof(int32_t) * (size_t)n);
			if (t->partitions.v == NULL)
				return SLUICE_ENOMEM;
			t->partitions.n = 0;
		}
		t->partitions.v[t->partitions.n++] = tps[i].partition;
	}
	return 0;
}

void handle_consumer_group_heartbeat(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_consumer_group_heartbeat_request *req = r->body;
	struct kafka_consumer_group_heartbeat_response resp;
	struct cgroup_heartbeat_req hr;
	struct cgroup_heartbeat_result res;
	struct cgroup_str *topics = NULL;
	struct cgroup_tp *owned = NULL;
	int32_t nt = req->subscribed_topic_names.n, nowned = -1;

	memset(&hr, 0, sizeof hr);
	if (nt > 0) {
		topics = breq_alloc(r, sizeof *topics * (size_t)nt);
		if (topics == NULL)
			goto err_oom;
		for (int32_t i = 0; i < nt; i++)
			topics[i] = cstr(req->subscribed_topic_names.v[i]);
	}
	if (req->topic_partitions.n >= 0) {
		int32_t total = 0;
		for (int32_t i = 0; i < req->topic_partitions.n; i++)
			total += req->topic_partitions.v[i].partitions.n > 0
					 ? req->topic_partitions.v[i].partitions.n
					 : 0;
		owned = breq_alloc(r, sizeof *owned * (size_t)(total > 0 ? total : 1));
		if (owned == NULL)
			goto err_oom;
		nowned = 0;
		for (int32_t i = 0; i < req->topic_partitions.n; i++) {
			struct kafka_consumer_group_heartbeat_request_topic_partitions *t =
				&req->topic_partitions.v[i];
			for (int32_t j = 0; j < t->partitions.n; j++) {
				memcpy(owned[nowned].topic_id, t->topic_id.b, 16);
				owned[nowned++].partition = t->partitions.v[j];
			}
		}
	}
	hr.group_id = cstr(req->group_id);
	hr.member_id = cstr(req->member_id);
	hr.member_epoch = req->member_epoch;
	hr.instance_id = cstr(req->instance_id);
	hr.rack_id = cstr(req->rack_id);
	hr.client_id = cstr(r->h.client_id);
	hr.client_host = cstr(client_host(r));
	hr.rebalance_timeout_ms = req->rebalance_timeout_ms;
	hr.topics = topics;
	hr.ntopics = nt < 0 ? -1 : nt;
	hr.regex = r->h.api_version >= 1 ? cstr(req->subscribed_topic_regex)
					 : (struct cgroup_str){NULL, -1};
	hr.assignor = cstr(req->server_assignor);
	hr.owned = owned;
	hr.nowned = nowned;
	hr.classic_live = req->group_id.len > 0 && classic_live(b, req->group_id);
	cgroup_heartbeat(b->cg, &hr, now_ms(b), &res);

	kafka_struct_defaults(&kafka_consumer_group_heartbeat_response_desc, &resp);
	resp.error_code = res.error;
	resp.error_message = res.error_message != NULL ? kafka_str_c(res.error_message)
						       : kafka_str_null();
	resp.member_id = res.member_id.len >= 0 ? kstr(res.member_id) : kafka_str_null();
	resp.member_epoch = res.member_epoch;
	resp.heartbeat_interval_ms = res.heartbeat_interval_ms;
	resp.assignment = NULL;
	if (res.error == KAFKA_ERR_NONE && res.has_assignment) {
		resp.assignment = breq_alloc_structs(
			r, &kafka_consumer_group_heartbeat_response_assignment_desc, 1);
		if (resp.assignment == NULL ||
		    hb_assignment(r, res.assignment, res.nassignment, resp.assignment) != 0)
			goto err_oom;
	}
	if (res.error != KAFKA_ERR_NONE && res.error != KAFKA_ERR_UNKNOWN_MEMBER_ID)
		SLOG_DEBUG(MOD, "msg=\"consumer group heartbeat refused\" group=%.*s err=%s",
			   (int)(req->group_id.len > 0 ? req->group_id.len : 0), req->group_id.ptr,
			   kafka_err_name(res.error));
	breq_respond(r, &resp);
	breq_free(r);
	return;

err_oom:
	net_conn_close(r->conn, "out of memory in ConsumerGroupHeartbeat");
	breq_free(r);
}

/* ---- ConsumerGroupDescribe ---------------------------------------------------------------- */

static int describe_assignment(struct breq *r, const struct cgroup_tp *tps, int32_t n,
			       struct kafka_consumer_group_describe_response_assignment *out)
{
	const struct kafka_struct_desc *d =
		&kafka_consumer_group_describe_response_topic_partitions_desc;

	out->topic_partitions.v = breq_alloc_structs(r, d, n);
	if (out->topic_partitions.v == NULL)
		return SLUICE_ENOMEM;
	out->topic_partitions.n = 0;
	for (int32_t i = 0; i < n; i++) {
		struct kafka_consumer_group_describe_response_topic_partitions *t = NULL;
		for (int32_t k = 0; k < out->topic_partitions.n && t == NULL; k++)
			if (memcmp(out->topic_partitions.v[k].topic_id.b, tps[i].topic_id, 16) == 0)
				t = &out->topic_partitions.v[k];
		if (t == NULL) {
			const struct topic *tp = topic_by_id(r->b, tps[i].topic_id);
			t = &out->topic_partitions.v[out->topic_partitions.n++];
			memcpy(t->topic_id.b, tps[i].topic_id, 16);
			t->topic_name = kafka_str_c(tp != NULL ? tp->name : "");
			t->partitions.v = breq_alloc(r, sizeof(int32_t) * (size_t)n);
			if (t->partitions.v == NULL)
				return SLUICE_ENOMEM;
			t->partitions.n = 0;
		}
		t->partitions.v[t->partitions.n++] = tps[i].partition;
	}
	return 0;
}

/* Copies a string the coordinator owns into the request's arena (the coordinator's memory is
 * valid only until the next call into it, and one response describes several groups). */
static struct kafka_str arena_str(struct breq *r, struct cgroup_str s, bool *oom)
{
	char *p;

	if (s.len < 0)
		return kafka_str_null();
	p = breq_alloc(r, (size_t)s.len + 1);
	if (p == NULL) {
		*oom = true;
		return kafka_str_c("");
	}
	if (s.len > 0)
		memcpy(p, s.p, (size_t)s.len);
	p[s.len] = '\0';
	return (struct kafka_str){p, s.len};
}

static int describe_one(struct breq *r, struct kafka_str id,
			struct kafka_consumer_group_describe_response_described_group *g)
{
	struct broker *b = r->b;
	struct cgroup_describe_result d;
	bool oom = false;

	g->group_id = id;
	cgroup_describe(b->cg, cstr(id), &d);
	g->error_code = d.error;
	g->group_state = kafka_str_c(d.state);
	g->group_epoch = d.group_epoch;
	g->assignment_epoch = d.assignment_epoch;
	g->assignor_name = kafka_str_c(d.assignor);
	g->members.n = 0;
	if (d.error == KAFKA_ERR_GROUP_ID_NOT_FOUND) {
		g->error_message = kafka_str_c(classic_live(b, id) ? "not a consumer group"
								   : "group not found");
		return 0;
	}
	g->members.v = breq_alloc_structs(r, &kafka_consumer_group_describe_response_member_desc,
					  d.nmembers);
	if (g->members.v == NULL)
		return SLUICE_ENOMEM;
	g->members.n = d.nmembers;
	for (int32_t i = 0; i < d.nmembers; i++) {
		const struct cgroup_describe_member *m = &d.members[i];
		struct kafka_consumer_group_describe_response_member *o = &g->members.v[i];
		o->member_id = arena_str(r, m->member_id, &oom);
		o->instance_id = arena_str(r, m->instance_id, &oom);
		o->rack_id = arena_str(r, m->rack_id, &oom);
		o->member_epoch = m->member_epoch;
		o->client_id = m->client_id.len >= 0 ? arena_str(r, m->client_id, &oom)
						     : kafka_str_c("");
		o->client_host = m->client_host.len >= 0 ? arena_str(r, m->client_host, &oom)
							 : kafka_str_c("");
		o->subscribed_topic_names.v =
			breq_alloc(r, sizeof(struct kafka_str) * (size_t)(m->ntopics + 1));
		if (o->subscribed_topic_names.v == NULL)
			return SLUICE_ENOMEM;
		o->subscribed_topic_names.n = m->ntopics;
		for (int32_t k = 0; k < m->ntopics; k++)
			o->subscribed_topic_names.v[k] = arena_str(r, m->topics[k], &oom);
		o->subscribed_topic_regex = kafka_str_null();
		if (describe_assignment(r, m->assigned, m->nassigned, &o->assignment) != 0 ||
		    describe_assignment(r, m->target, m->ntarget, &o->target_assignment) != 0)
			return SLUICE_ENOMEM;
	}
	return oom ? SLUICE_ENOMEM : 0;
}

void handle_consumer_group_describe(struct breq *r)
{
	struct kafka_consumer_group_describe_request *req = r->body;
	struct kafka_consumer_group_describe_response resp;
	int32_t n = req->group_ids.n < 0 ? 0 : req->group_ids.n;

	kafka_struct_defaults(&kafka_consumer_group_describe_response_desc, &resp);
	resp.groups.v = breq_alloc_structs(
		r, &kafka_consumer_group_describe_response_described_group_desc, n);
	if (resp.groups.v == NULL)
		goto err_oom;
	resp.groups.n = n;
	for (int32_t i = 0; i < n; i++)
		if (describe_one(r, req->group_ids.v[i], &resp.groups.v[i]) != 0)
			goto err_oom;
	breq_respond(r, &resp);
	breq_free(r);
	return;

err_oom:
	net_conn_close(r->conn, "out of memory in ConsumerGroupDescribe");
	breq_free(r);
}

/* ---- routing of classic APIs -------------------------------------------------------------- */

void consumer_groups_offset_commit(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_offset_commit_request *req = r->body;
	struct kafka_offset_commit_response resp;
	int16_t err;

	if (req->group_id.len <= 0 || !cgroup_exists(b->cg, cstr(req->group_id))) {
		handle_offset_commit(r);
		return;
	}
	err = cgroup_commit_check(b->cg, cstr(req->group_id), cstr(req->member_id),
				  req->generation_id_or_member_epoch);
	if (err == KAFKA_ERR_NONE) {
		/* Checked here: the classic handler stores it as a plain (simple) commit; no
		 * classic group with members can hold this id (see the design note). */
		req->generation_id_or_member_epoch = -1;
		req->member_id = kafka_str_c("");
		req->group_instance_id = kafka_str_null();
		handle_offset_commit(r);
		return;
	}
	kafka_struct_defaults(&kafka_offset_commit_response_desc, &resp);
	int32_t nt = req->topics.n < 0 ? 0 : req->topics.n;
	resp.topics.v = breq_alloc_structs(
		r, &kafka_offset_commit_response_offset_commit_response_topic_desc, nt);
	if (resp.topics.v == NULL)
		goto err_oom;
	resp.topics.n = nt;
	for (int32_t i = 0; i < nt; i++) {
		struct kafka_offset_commit_request_offset_commit_request_topic *t = &req->topics.v[i];
		int32_t np = t->partitions.n < 0 ? 0 : t->partitions.n;
		resp.topics.v[i].name = t->name;
		resp.topics.v[i].partitions.v = breq_alloc_structs(
			r, &kafka_offset_commit_response_offset_commit_response_partition_desc, np);
		if (resp.topics.v[i].partitions.v == NULL)
			goto err_oom;
		resp.topics.v[i].partitions.n = np;
		for (int32_t j = 0; j < np; j++) {
			resp.topics.v[i].partitions.v[j].partition_index =
				t->partitions.v[j].partition_index;
			resp.topics.v[i].partitions.v[j].error_code = err;
		}
	}
	breq_respond(r, &resp);
	breq_free(r);
	return;

err_oom:
	net_conn_close(r->conn, "out of memory in OffsetCommit");
	breq_free(r);
}

void consumer_groups_join_group(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_join_group_request *req = r->body;
	struct kafka_join_group_response resp;

	if (req->group_id.len <= 0 || !cgroup_exists(b->cg, cstr(req->group_id))) {
		handle_join_group(r);
		return;
	}
	if (cgroup_delete(b->cg, cstr(req->group_id)) == KAFKA_ERR_NONE) {
		handle_join_group(r); /* an empty consumer group: the id becomes classic */
		return;
	}
	kafka_struct_defaults(&kafka_join_group_response_desc, &resp);
	resp.error_code = KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL;
	resp.protocol_name = r->h.api_version < 7 ? kafka_str_c("") : kafka_str_null();
	resp.leader = kafka_str_c("");
	resp.member_id = req->member_id.len >= 0 ? req->member_id : kafka_str_c("");
	resp.members.n = 0;
	breq_respond(r, &resp);
	breq_free(r);
}
