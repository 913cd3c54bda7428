/*
 * groups: the consumer-group APIs (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
 * OffsetFetch, DescribeGroups, ListGroups, DeleteGroups) over the pure coordinator in
 * src/group/ and the offsets table in offsets.c.
 *
 * This node coordinates every group (one node; FindCoordinator answers with it). JoinGroup and a
 * follower's SyncGroup park inside the coordinator and are answered from its `complete`
 * callback; a timer drives its session and rebalance deadlines. OffsetCommit appends one batch
 * to the group's `__consumer_offsets` partition and answers when that batch is durable, so an
 * acknowledged commit survives a crash like an acks=all produce; the table is rebuilt from that
 * topic on start-up.
 *
 * Failure modes: protocol errors come from the coordinator (UNKNOWN_MEMBER_ID,
 * ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, ...); a commit that cannot be stored gets the
 * storage error per partition; unknown topics in a commit get UNKNOWN_TOPIC_OR_PARTITION.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/slog.h"
#include "broker/internal.h"
#include "broker/offsets.h"
#include "group/cgroup.h"
#include "kafka/records.h"

static struct group_bytes gb(struct kafka_str s)
{
	return (struct group_bytes){(const uint8_t *)s.ptr, s.len};
}

static struct kafka_str ks(struct group_bytes b)
{
	return (struct kafka_str){(const char *)b.p, b.len};
}

static struct kafka_bytes kb(struct group_bytes b)
{
	return (struct kafka_bytes){b.p, b.len};
}

static int64_t now_ms(const struct broker *b)
{
	return (int64_t)(uv_now(b->loop));
}

/* The client's host as Kafka reports it ("/127.0.0.1"). */
static struct kafka_str client_host(struct breq *r)
{
	const char *peer = net_conn_peer(r->conn);
	size_t n = strlen(peer);
	const char *colon = strrchr(peer, ':');
	char *s = breq_alloc(r, n + 2);

	if (s == NULL)
		return kafka_str_c("");
	s[0] = '/';
	memcpy(s + 1, peer, colon != NULL ? (size_t)(colon - peer) : n);
	return kafka_str_c(s);
}

/* ---- coordinator placement ---------------------------------------------------------------- */

/* A group is coordinated by the ready leader of its __consumer_offsets partition. When that is
 * not this node, answers the request with NOT_COORDINATOR (the client looks the coordinator up
 * again) and returns true. */
static bool not_coordinator(struct breq *r, struct kafka_str group)
{
	struct broker *b = r->b;
	int16_t err;
	int32_t pidx = offsets_partition_for(group.ptr, group.len < 0 ? 0 : (size_t)group.len,
					     b->offsets_partitions);

	if (broker_partition(b, kafka_str_c(OFFSETS_TOPIC), pidx, &err) != NULL)
		return false;
	switch (r->h.api_key) {
	case KAFKA_API_JOIN_GROUP: {
		struct kafka_join_group_response resp;
		kafka_struct_defaults(&kafka_join_group_response_desc, &resp);
		resp.error_code = KAFKA_ERR_NOT_COORDINATOR;
		resp.generation_id = -1;
		if (r->h.api_version < 7)
			resp.protocol_name = kafka_str_c("");
		resp.leader = kafka_str_c("");
		resp.member_id = kafka_str_c("");
		breq_respond(r, &resp);
		break;
	}
	case KAFKA_API_SYNC_GROUP: {
		struct kafka_sync_group_response resp;
		kafka_struct_defaults(&kafka_sync_group_response_desc, &resp);
		resp.error_code = KAFKA_ERR_NOT_COORDINATOR;
		resp.assignment = (struct kafka_bytes){NULL, 0};
		breq_respond(r, &resp);
		break;
	}
	case KAFKA_API_HEARTBEAT: {
		struct kafka_heartbeat_response resp;
		kafka_struct_defaults(&kafka_heartbeat_response_desc, &resp);
		resp.error_code = KAFKA_ERR_NOT_COORDINATOR;
		breq_respond(r, &resp);
		break;
	}
	case KAFKA_API_LEAVE_GROUP: {
		struct kafka_leave_group_response resp;
		kafka_struct_defaults(&kafka_leave_group_response_desc, &resp);
		resp.error_code = KAFKA_ERR_NOT_COORDINATOR;
		resp.members.n = 0;
		breq_respond(r, &resp);
		break;
	}
	case KAFKA_API_OFFSET_FETCH: {
		struct kafka_offset_fetch_response resp;
		kafka_struct_defaults(&kafka_offset_fetch_response_desc, &resp);
		resp.error_code = KAFKA_ERR_NOT_COORDINATOR;
		resp.topics.n = 0;
		breq_respond(r, &resp);
		break;
	}
	case KAFKA_API_CONSUMER_GROUP_HEARTBEAT: {
		struct kafka_consumer_group_heartbeat_response resp;
		kafka_struct_defaults(&kafka_consumer_group_heartbeat_response_desc, &resp);
		resp.error_code = KAFKA_ERR_NOT_COORDINATOR;
		breq_respond(r, &resp);
		break;
	}
	default:
		return false;
	}
	breq_free(r);
	return true;
}

bool groups_not_coordinator(struct breq *r)
{
	switch (r->h.api_key) {
	case KAFKA_API_JOIN_GROUP:
		return not_coordinator(r, ((struct kafka_join_group_request *)r->body)->group_id);
	case KAFKA_API_SYNC_GROUP:
		return not_coordinator(r, ((struct kafka_sync_group_request *)r->body)->group_id);
	case KAFKA_API_HEARTBEAT:
		return not_coordinator(r, ((struct kafka_heartbeat_request *)r->body)->group_id);
	case KAFKA_API_LEAVE_GROUP:
		return not_coordinator(r, ((struct kafka_leave_group_request *)r->body)->group_id);
	case KAFKA_API_OFFSET_FETCH:
		if (r->h.api_version < 2)
			return false; /* v1 has no top-level error; its partitions fail instead */
		return not_coordinator(r, ((struct kafka_offset_fetch_request *)r->body)->group_id);
	case KAFKA_API_CONSUMER_GROUP_HEARTBEAT:
		return not_coordinator(
			r, ((struct kafka_consumer_group_heartbeat_request *)r->body)->group_id);
	default:
		return false;
	}
}

/* ---- JoinGroup / SyncGroup ---------------------------------------------------------------- */

static void respond_join(struct breq *r, const struct group_join_result *res)
{
	struct kafka_join_group_response resp;

	kafka_struct_defaults(&kafka_join_group_response_desc, &resp);
	resp.error_code = res->error;
	resp.generation_id = res->generation;
	resp.protocol_type = ks(res->protocol_type);
	resp.protocol_name = ks(res->protocol_name);
	if (resp.protocol_name.len < 0 && r->h.api_version < 7)
		resp.protocol_name = kafka_str_c("");
	resp.leader = res->leader.len < 0 ? kafka_str_c("") : ks(res->leader);
	resp.member_id = res->member_id.len < 0 ? kafka_str_c("") : ks(res->member_id);
	resp.members.n = 0;
	if (res->nmembers > 0) {
		resp.members.v = breq_alloc_structs(
			r, &kafka_join_group_response_join_group_response_member_desc,
			res->nmembers);
		if (resp.members.v == NULL) {
			net_conn_close(r->conn, "out of memory in JoinGroup");
			breq_free(r);
			return;
		}
		resp.members.n = res->nmembers;
		for (int32_t i = 0; i < res->nmembers; i++) {
			resp.members.v[i].member_id = ks(res->members[i].member_id);
			resp.members.v[i].group_instance_id = ks(res->members[i].instance_id);
			resp.members.v[i].metadata = kb(res->members[i].metadata);
		}
	}
	breq_respond(r, &resp);
	breq_free(r);
}

static void respond_sync(struct breq *r, const struct group_sync_result *res)
{
	struct kafka_sync_group_response resp;

	kafka_struct_defaults(&kafka_sync_group_response_desc, &resp);
	resp.error_code = res->error;
	resp.protocol_type = ks(res->protocol_type);
	resp.protocol_name = ks(res->protocol_name);
	resp.assignment = res->assignment.len < 0 ? (struct kafka_bytes){NULL, 0}
						  : kb(res->assignment);
	breq_respond(r, &resp);
	breq_free(r);
}

void groups_complete(void *arg, void *token, const struct group_join_result *join,
		     const struct group_sync_result *sync)
{
	(void)arg;
	if (join != NULL)
		respond_join(token, join);
	else
		respond_sync(token, sync);
}

void handle_join_group(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_join_group_request *req = r->body;
	struct group_join_req jr;
	struct group_join_result res;
	struct group_protocol *protos;
	int32_t n = req->protocols.n < 0 ? 0 : req->protocols.n;

	protos = breq_alloc(r, sizeof *protos * (size_t)(n > 0 ? n : 1));
	if (protos == NULL) {
		net_conn_close(r->conn, "out of memory in JoinGroup");
		breq_free(r);
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		protos[i].name = gb(req->protocols.v[i].name);
		protos[i].metadata = (struct group_bytes){req->protocols.v[i].metadata.ptr,
							  req->protocols.v[i].metadata.len};
	}
	memset(&jr, 0, sizeof jr);
	jr.group_id = gb(req->group_id);
	jr.member_id = gb(req->member_id);
	jr.instance_id = gb(req->group_instance_id);
	jr.client_id = gb(r->h.client_id);
	jr.client_host = gb(client_host(r));
	jr.protocol_type = gb(req->protocol_type);
	jr.protocols = protos;
	jr.nprotocols = n;
	jr.session_timeout_ms = req->session_timeout_ms;
	jr.rebalance_timeout_ms = r->h.api_version >= 1 ? req->rebalance_timeout_ms : -1;
	jr.version = r->h.api_version;
	/* When parked, `r` may be answered and freed inside this call: do not touch it after. */
	if (group_join(b->gc, &jr, now_ms(b), r, &res))
		respond_join(r, &res);
}

void handle_sync_group(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_sync_group_request *req = r->body;
	struct group_sync_req sr;
	struct group_sync_result res;
	struct group_assignment *as;
	int32_t n = req->assignments.n < 0 ? 0 : req->assignments.n;

	as = breq_alloc(r, sizeof *as * (size_t)(n > 0 ? n : 1));
	if (as == NULL) {
		net_conn_close(r->conn, "out of memory in SyncGroup");
		breq_free(r);
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		as[i].member_id = gb(req->assignments.v[i].member_id);
		as[i].assignment = (struct group_bytes){req->assignments.v[i].assignment.ptr,
							req->assignments.v[i].assignment.len};
	}
	memset(&sr, 0, sizeof sr);
	sr.group_id = gb(req->group_id);
	sr.member_id = gb(req->member_id);
	sr.instance_id = gb(req->group_instance_id);
	sr.generation = req->generation_id;
	sr.assignments = as;
	sr.nassignments = n;
	if (group_sync(b->gc, &sr, now_ms(b), r, &res))
		respond_sync(r, &res);
}

/* ---- Heartbeat / LeaveGroup --------------------------------------------------------------- */

void handle_heartbeat(struct breq *r)
{
	struct kafka_heartbeat_request *req = r->body;
	struct kafka_heartbeat_response resp;

	kafka_struct_defaults(&kafka_heartbeat_response_desc, &resp);
	resp.error_code = group_heartbeat(r->b->gc, gb(req->group_id), gb(req->member_id),
					  gb(req->group_instance_id), req->generation_id,
					  now_ms(r->b));
	breq_respond(r, &resp);
	breq_free(r);
}

void handle_leave_group(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_leave_group_request *req = r->body;
	struct kafka_leave_group_response resp;

	kafka_struct_defaults(&kafka_leave_group_response_desc, &resp);
	if (r->h.api_version < 3) {
		resp.error_code = group_leave(b->gc, gb(req->group_id), gb(req->member_id),
					      (struct group_bytes){NULL, -1}, now_ms(b));
	} else {
		int32_t n = req->members.n < 0 ? 0 : req->members.n;
		resp.error_code = KAFKA_ERR_NONE;
		resp.members.v = breq_alloc_structs(
			r, &kafka_leave_group_response_member_response_desc, n);
		if (resp.members.v == NULL) {
			net_conn_close(r->conn, "out of memory in LeaveGroup");
			breq_free(r);
			return;
		}
		resp.members.n = n;
		for (int32_t i = 0; i < n; i++) {
			struct kafka_leave_group_request_member_identity *m = &req->members.v[i];
			resp.members.v[i].member_id = m->member_id;
			resp.members.v[i].group_instance_id = m->group_instance_id;
			resp.members.v[i].error_code =
				group_leave(b->gc, gb(req->group_id), gb(m->member_id),
					    gb(m->group_instance_id), now_ms(b));
		}
	}
	breq_respond(r, &resp);
	breq_free(r);
}

/* ---- OffsetCommit ------------------------------------------------------------------------- */

struct commit_item {
	const char *topic;
	size_t tlen;
	int32_t partition;
	struct offset_value v;
	int16_t *error; /* where its answer goes */
};

struct commit_ctx {
	struct kafka_offset_commit_response resp;
	struct commit_item *items;
	int nitems;
	struct plog_append_req areq;
	struct partition *p;
};

static void commit_finish(struct breq *r)
{
	struct commit_ctx *cc = r->resp;

	breq_respond(r, &cc->resp);
	free(cc->items);
	breq_free(r);
}

static void commit_append_cb(struct plog_append_req *areq, int status)
{
	struct breq *r = areq->data;
	struct commit_ctx *cc = r->resp;
	struct broker *b = r->b;
	struct kafka_offset_commit_request *req = r->body;

	for (int i = 0; i < cc->nitems; i++) {
		struct commit_item *it = &cc->items[i];
		if (status != 0) {
			*it->error = broker_storage_error(status);
			continue;
		}
		int rv = offsets_put(b->offsets, req->group_id.ptr, (size_t)req->group_id.len,
				     it->topic, it->tlen, it->partition, &it->v);
		*it->error = rv == 0 ? KAFKA_ERR_NONE : KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
	}
	commit_finish(r);
}

/* Appends the items as one batch of offset records to the group's partition. */
static int commit_append(struct breq *r, struct commit_ctx *cc, const char *group, size_t glen)
{
	struct broker *b = r->b;
	struct wbuf kv, out;
	size_t *koff, *voff, *klen, *vlen;
	struct records_new *recs;
	struct records_batch_params bp;
	struct buf *batch;
	int16_t err;
	int rv = SLUICE_ENOMEM;
	int32_t pidx = offsets_partition_for(group, glen, b->offsets_partitions);

	cc->p = broker_partition(b, kafka_str_c(OFFSETS_TOPIC), pidx, &err);
	if (cc->p == NULL)
		return SLUICE_ECLOSED;
	koff = calloc((size_t)cc->nitems, sizeof *koff * 4);
	recs = calloc((size_t)cc->nitems, sizeof *recs);
	if (koff == NULL || recs == NULL) {
		free(koff);
		free(recs);
		return SLUICE_ENOMEM;
	}
	voff = koff + cc->nitems;
	klen = voff + cc->nitems;
	vlen = klen + cc->nitems;
	wbuf_init(&kv);
	for (int i = 0; i < cc->nitems; i++) {
		struct commit_item *it = &cc->items[i];
		koff[i] = kv.len;
		offsets_encode_key(&kv, group, glen, it->topic, it->tlen, it->partition);
		klen[i] = kv.len - koff[i];
		voff[i] = kv.len;
		offsets_encode_value(&kv, &it->v);
		vlen[i] = kv.len - voff[i];
	}
	if (kv.oom)
		goto out;
	for (int i = 0; i < cc->nitems; i++) {
		recs[i].timestamp = cc->items[i].v.commit_ts;
		recs[i].key = (struct kafka_bytes){kv.data + koff[i], (int32_t)klen[i]};
		recs[i].value = (struct kafka_bytes){kv.data + voff[i], (int32_t)vlen[i]};
	}
	records_batch_params_default(&bp);
	wbuf_init(&out);
	rv = records_build(&out, &bp, recs, cc->nitems);
	if (rv != 0 || out.oom) {
		wbuf_free(&out);
		rv = rv != 0 ? rv : SLUICE_ENOMEM;
		goto out;
	}
	batch = wbuf_take(&out);
	if (batch == NULL)
		goto out;
	cc->areq.data = r;
	rv = partition_append(cc->p, &cc->areq, batch, commit_append_cb);
	buf_unref(batch);
out:
	wbuf_free(&kv);
	free(koff);
	free(recs);
	return rv;
}

void handle_offset_commit(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_offset_commit_request *req = r->body;
	struct commit_ctx *cc = breq_alloc(r, sizeof *cc);
	int32_t nt = req->topics.n < 0 ? 0 : req->topics.n;
	int total = 0;
	int16_t gerr;

	if (cc == NULL)
		goto err_oom;
	r->resp = cc;
	kafka_struct_defaults(&kafka_offset_commit_response_desc, &cc->resp);
	cc->resp.topics.v = breq_alloc_structs(
		r, &kafka_offset_commit_response_offset_commit_response_topic_desc, nt);
	if (cc->resp.topics.v == NULL)
		goto err_oom;
	cc->resp.topics.n = nt;
	for (int32_t i = 0; i < nt; i++)
		total += req->topics.v[i].partitions.n < 0 ? 0 : req->topics.v[i].partitions.n;
	cc->items = calloc((size_t)total + 1, sizeof *cc->items);
	if (cc->items == NULL)
		goto err_oom;
	gerr = req->group_id.len <= 0 || req->group_id.len > GROUP_ID_BYTES_MAX
		       ? KAFKA_ERR_INVALID_GROUP_ID
		       : group_commit_check(b->gc, gb(req->group_id), gb(req->member_id),
					    gb(req->group_instance_id),
					    req->generation_id_or_member_epoch, now_ms(b));
	for (int32_t i = 0; i < nt; i++) {
		struct kafka_offset_commit_request_offset_commit_request_topic *t = &req->topics.v[i];
		struct kafka_offset_commit_response_offset_commit_response_topic *tr =
			&cc->resp.topics.v[i];
		int32_t np = t->partitions.n < 0 ? 0 : t->partitions.n;
		tr->name = t->name;
		tr->partitions.v = breq_alloc_structs(
			r, &kafka_offset_commit_response_offset_commit_response_partition_desc, np);
		if (tr->partitions.v == NULL)
			goto err_oom_items;
		tr->partitions.n = np;
		for (int32_t j = 0; j < np; j++) {
			struct kafka_offset_commit_request_offset_commit_request_partition *p =
				&t->partitions.v[j];
			struct kafka_offset_commit_response_offset_commit_response_partition *out =
				&tr->partitions.v[j];
			int16_t err;
			out->partition_index = p->partition_index;
			if (gerr != KAFKA_ERR_NONE) {
				out->error_code = gerr;
				continue;
			}
			/* The committed topic's partition must exist; its leader may be anywhere. */
			if (!broker_partition_exists(b, t->name, p->partition_index, &err)) {
				out->error_code = err;
				continue;
			}
			if (p->committed_metadata.len > OFFSETS_METADATA_BYTES_MAX) {
				out->error_code = KAFKA_ERR_OFFSET_METADATA_TOO_LARGE;
				continue;
			}
			char *md = breq_alloc(r, (size_t)(p->committed_metadata.len > 0
							       ? p->committed_metadata.len
							       : 0) +
							 1);
			if (md == NULL)
				goto err_oom_items;
			if (p->committed_metadata.len > 0)
				memcpy(md, p->committed_metadata.ptr,
				       (size_t)p->committed_metadata.len);
			struct commit_item *it = &cc->items[cc->nitems++];
			it->topic = t->name.ptr;
			it->tlen = (size_t)t->name.len;
			it->partition = p->partition_index;
			it->v.offset = p->committed_offset;
			it->v.leader_epoch = r->h.api_version >= 6 ? p->committed_leader_epoch : -1;
			it->v.metadata = md;
			it->v.commit_ts = clock_wall_ms(b->clock);
			it->error = &out->error_code;
			out->error_code = KAFKA_ERR_REQUEST_TIMED_OUT; /* until stored */
		}
	}
	if (cc->nitems == 0) {
		commit_finish(r);
		return;
	}
	int rv = commit_append(r, cc, req->group_id.ptr, (size_t)req->group_id.len);
	if (rv != 0) {
		for (int i = 0; i < cc->nitems; i++)
			*cc->items[i].error = rv == SLUICE_ECLOSED ? KAFKA_ERR_COORDINATOR_NOT_AVAILABLE
								   : broker_storage_error(rv);
		commit_finish(r);
	}
	return;

err_oom_items:
	free(cc->items);
err_oom:
	net_conn_close(r->conn, "out of memory in OffsetCommit");
	breq_free(r);
}

/* ---- OffsetFetch -------------------------------------------------------------------------- */

struct fetch_all {
	struct breq *r;
	int64_t before_ms; /* collect only offsets committed before this (0 = all) */
	const char **topics;
	int32_t *partitions;
	const struct offset_value **values;
	int n;
	int cap;
	bool oom;
};

static void collect_offset(void *arg, const char *topic, int32_t partition,
			   const struct offset_value *v)
{
	struct fetch_all *fa = arg;

	if (fa->before_ms != 0 && v->commit_ts >= fa->before_ms)
		return;
	if (fa->n == fa->cap) {
		int ncap = fa->cap ? fa->cap * 2 : 64;
		const char **t = realloc(fa->topics, (size_t)ncap * sizeof *t);
		int32_t *p = t != NULL ? realloc(fa->partitions, (size_t)ncap * sizeof *p) : NULL;
		const struct offset_value **vv =
			p != NULL ? realloc(fa->values, (size_t)ncap * sizeof *vv) : NULL;
		if (t != NULL)
			fa->topics = t;
		if (p != NULL)
			fa->partitions = p;
		if (vv == NULL) {
			fa->oom = true;
			return;
		}
		fa->values = vv;
		fa->cap = ncap;
	}
	fa->topics[fa->n] = topic;
	fa->partitions[fa->n] = partition;
	fa->values[fa->n] = v;
	fa->n++;
}

static void fill_fetched(struct kafka_offset_fetch_response_offset_fetch_response_partition *out,
			 int32_t partition, const struct offset_value *v)
{
	out->partition_index = partition;
	out->error_code = KAFKA_ERR_NONE;
	out->committed_offset = v != NULL ? v->offset : -1;
	out->committed_leader_epoch = v != NULL ? v->leader_epoch : -1;
	out->metadata = kafka_str_c(v != NULL ? v->metadata : "");
}

void handle_offset_fetch(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_offset_fetch_request *req = r->body;
	struct kafka_offset_fetch_response resp;
	const char *g = req->group_id.ptr;
	size_t glen = req->group_id.len < 0 ? 0 : (size_t)req->group_id.len;

	kafka_struct_defaults(&kafka_offset_fetch_response_desc, &resp);
	resp.error_code = KAFKA_ERR_NONE;
	if (req->topics.n >= 0) {
		int32_t nt = req->topics.n;
		resp.topics.v = breq_alloc_structs(
			r, &kafka_offset_fetch_response_offset_fetch_response_topic_desc, nt);
		if (resp.topics.v == NULL)
			goto err_oom;
		resp.topics.n = nt;
		for (int32_t i = 0; i < nt; i++) {
			struct kafka_offset_fetch_request_offset_fetch_request_topic *t =
				&req->topics.v[i];
			int32_t np = t->partition_indexes.n < 0 ? 0 : t->partition_indexes.n;
			resp.topics.v[i].name = t->name;
			resp.topics.v[i].partitions.v = breq_alloc_structs(
				r, &kafka_offset_fetch_response_offset_fetch_response_partition_desc,
				np);
			if (resp.topics.v[i].partitions.v == NULL)
				goto err_oom;
			resp.topics.v[i].partitions.n = np;
			for (int32_t j = 0; j < np; j++) {
				int32_t pi = t->partition_indexes.v[j];
				fill_fetched(&resp.topics.v[i].partitions.v[j], pi,
					     t->name.len < 0
						     ? NULL
						     : offsets_get(b->offsets, g, glen, t->name.ptr,
								   (size_t)t->name.len, pi));
			}
		}
	} else {
		/* Every committed offset of the group (v2+ with null topics), grouped by topic. */
		struct fetch_all fa = {.r = r};
		offsets_each(b->offsets, g, glen, collect_offset, &fa);
		if (fa.oom)
			goto err_oom_fa;
		resp.topics.v = breq_alloc_structs(
			r, &kafka_offset_fetch_response_offset_fetch_response_topic_desc, fa.n);
		if (resp.topics.v == NULL)
			goto err_oom_fa;
		resp.topics.n = 0;
		for (int i = 0; i < fa.n; i++) {
			int32_t t;
			for (t = 0; t < resp.topics.n; t++)
				if (kafka_str_eq(resp.topics.v[t].name, fa.topics[i]))
					break;
			if (t == resp.topics.n) {
				resp.topics.v[t].name = kafka_str_c(fa.topics[i]);
				resp.topics.v[t].partitions.v = breq_alloc_structs(
					r,
					&kafka_offset_fetch_response_offset_fetch_response_partition_desc,
					fa.n);
				if (resp.topics.v[t].partitions.v == NULL)
					goto err_oom_fa;
				resp.topics.v[t].partitions.n = 0;
				resp.topics.n++;
			}
			fill_fetched(&resp.topics.v[t].partitions.v[resp.topics.v[t].partitions.n++],
				     fa.partitions[i], fa.values[i]);
		}
		free(fa.topics);
		free(fa.partitions);
		free(fa.values);
		breq_respond(r, &resp);
		breq_free(r);
		return;
err_oom_fa:
		free(fa.topics);
		free(fa.partitions);
		free(fa.values);
		goto err_oom;
	}
	breq_respond(r, &resp);
	breq_free(r);
	return;

err_oom:
	net_conn_close(r->conn, "out of memory in OffsetFetch");
	breq_free(r);
}

/* ---- DescribeGroups / ListGroups / DeleteGroups ------------------------------------------ */

void handle_describe_groups(struct breq *r)
{
	struct kafka_describe_groups_request *req = r->body;
	struct kafka_describe_groups_response resp;
	int32_t n = req->groups.n < 0 ? 0 : req->groups.n;

	kafka_struct_defaults(&kafka_describe_groups_response_desc, &resp);
	resp.groups.v = breq_alloc_structs(
		r, &kafka_describe_groups_response_described_group_desc, n);
	if (resp.groups.v == NULL)
		goto err_oom;
	resp.groups.n = n;
	for (int32_t i = 0; i < n; i++) {
		struct kafka_describe_groups_response_described_group *g = &resp.groups.v[i];
		struct group_describe_result d;
		group_describe(r->b->gc, gb(req->groups.v[i]), &d);
		g->error_code = d.error;
		g->group_id = req->groups.v[i];
		g->group_state = kafka_str_c(group_state_name(d.state));
		g->protocol_type = d.protocol_type.len < 0 ? kafka_str_c("") : ks(d.protocol_type);
		g->protocol_data = d.protocol_name.len < 0 ? kafka_str_c("") : ks(d.protocol_name);
		g->members.n = 0;
		if (d.nmembers <= 0)
			continue;
		g->members.v = breq_alloc_structs(
			r, &kafka_describe_groups_response_described_group_member_desc, d.nmembers);
		if (g->members.v == NULL)
			goto err_oom;
		g->members.n = d.nmembers;
		for (int32_t j = 0; j < d.nmembers; j++) {
			const struct group_describe_member *m = &d.members[j];
			g->members.v[j].member_id = ks(m->member_id);
			g->members.v[j].group_instance_id = ks(m->instance_id);
			g->members.v[j].client_id = ks(m->client_id);
			g->members.v[j].client_host = ks(m->client_host);
			g->members.v[j].member_metadata = kb(m->metadata);
			g->members.v[j].member_assignment =
				m->assignment.len < 0 ? (struct kafka_bytes){NULL, 0} : kb(m->assignment);
		}
		/* The coordinator's strings are valid until the next call into it: encode before
		 * describing the next group would be needed only if they were shared; each group's
		 * members live in that group's memory, which no describe changes. */
	}
	breq_respond(r, &resp);
	breq_free(r);
	return;

err_oom:
	net_conn_close(r->conn, "out of memory in DescribeGroups");
	breq_free(r);
}

struct list_ctx {
	struct breq *r;
	struct kafka_list_groups_response *resp;
	int32_t cap;
	bool oom;
};

static void list_one(void *arg, struct group_bytes group_id, struct group_bytes protocol_type,
		     enum group_state state)
{
	struct list_ctx *lc = arg;
	struct kafka_list_groups_response *resp = lc->resp;

	if (lc->oom)
		return;
	if (resp->groups.n == lc->cap) {
		int32_t ncap = lc->cap ? lc->cap * 2 : 64;
		void *v = breq_alloc_structs(lc->r, &kafka_list_groups_response_listed_group_desc,
					     ncap);
		if (v == NULL) {
			lc->oom = true;
			return;
		}
		if (resp->groups.n > 0)
			memcpy(v, resp->groups.v, (size_t)resp->groups.n * sizeof *resp->groups.v);
		resp->groups.v = v;
		lc->cap = ncap;
	}
	struct kafka_list_groups_response_listed_group *g = &resp->groups.v[resp->groups.n++];
	g->group_id = ks(group_id);
	g->protocol_type = protocol_type.len < 0 ? kafka_str_c("") : ks(protocol_type);
	g->group_state = kafka_str_c(group_state_name(state));
	g->group_type = kafka_str_c("classic");
}

void handle_list_groups(struct breq *r)
{
	struct kafka_list_groups_response resp;
	struct list_ctx lc = {.r = r, .resp = &resp};

	kafka_struct_defaults(&kafka_list_groups_response_desc, &resp);
	resp.error_code = KAFKA_ERR_NONE;
	resp.groups.n = 0;
	group_list(r->b->gc, list_one, &lc);
	if (lc.oom) {
		net_conn_close(r->conn, "out of memory in ListGroups");
		breq_free(r);
		return;
	}
	breq_respond(r, &resp);
	breq_free(r);
}

/* Deleting a group removes its offsets from the table and appends tombstones for them to its
 * partition, so a replay after a restart does not bring them back. */
static void delete_groups_cb(struct plog_append_req *areq, int status)
{
	struct breq *r = areq->data;

	if (status != 0)
		SLOG_WARN(MOD, "msg=\"could not store offset tombstones\" err=\"%s\"",
			  err_str(status));
	free(areq);
	if (--r->pending == 0) {
		breq_respond(r, r->resp);
		breq_free(r);
	}
}

/* Writes tombstones for the entries of group `g` listed in `fa` (topics and partitions) and
 * clears them from the table; frees fa's arrays. Returns 1 if an append was started (then `cb`
 * runs with areq->data = `data` when it completes, and must free the areq), else 0. */
static int write_tombstones(struct broker *b, struct kafka_str g, struct fetch_all *fa_in,
			    plog_append_cb cb, void *data)
{
	struct fetch_all fa = *fa_in;
	struct records_new *recs = NULL;
	struct records_batch_params bp;
	struct wbuf keys, out;
	size_t *koff = NULL;
	int started = 0;
	int16_t err;
	struct partition *p;

	if (fa.n == 0 || fa.oom)
		goto out_fa;
	p = broker_partition(b, kafka_str_c(OFFSETS_TOPIC),
			     offsets_partition_for(g.ptr, (size_t)g.len, b->offsets_partitions), &err);
	recs = calloc((size_t)fa.n, sizeof *recs);
	koff = calloc((size_t)fa.n + 1, sizeof *koff);
	if (p == NULL || recs == NULL || koff == NULL)
		goto out_fa;
	wbuf_init(&keys);
	for (int i = 0; i < fa.n; i++) {
		koff[i] = keys.len;
		offsets_encode_key(&keys, g.ptr, (size_t)g.len, fa.topics[i], strlen(fa.topics[i]),
				   fa.partitions[i]);
	}
	koff[fa.n] = keys.len;
	for (int i = 0; i < fa.n && !keys.oom; i++) {
		recs[i].timestamp = clock_wall_ms(b->clock);
		recs[i].key = (struct kafka_bytes){keys.data + koff[i], (int32_t)(koff[i + 1] - koff[i])};
		recs[i].value = (struct kafka_bytes){NULL, -1};
	}
	records_batch_params_default(&bp);
	wbuf_init(&out);
	if (!keys.oom && records_build(&out, &bp, recs, fa.n) == 0 && !out.oom) {
		struct buf *batch = wbuf_take(&out);
		struct plog_append_req *areq = calloc(1, sizeof *areq);
		if (batch != NULL && areq != NULL) {
			areq->data = data;
			if (partition_append(p, areq, batch, cb) == 0) {
				started = 1;
				areq = NULL;
			}
		}
		free(areq);
		buf_unref(batch);
	}
	wbuf_free(&out);
	wbuf_free(&keys);
	/* Copy the names out before the entries (which own them) go. */
	for (int i = fa.n - 1; i >= 0; i--) {
		char topic[TOPIC_NAME_BYTES_MAX + 1];
		snprintf(topic, sizeof topic, "%s", fa.topics[i]);
		offsets_put(b->offsets, g.ptr, (size_t)g.len, topic, strlen(topic), fa.partitions[i],
			    NULL);
	}
out_fa:
	free(recs);
	free(koff);
	free(fa.topics);
	free(fa.partitions);
	free(fa.values);
	return started;
}

/* Tombstones every offset of group `g` committed before `before_ms` (0 = all). Same return as
 * write_tombstones. */
static int tombstone_group(struct broker *b, struct kafka_str g, int64_t before_ms,
			   plog_append_cb cb, void *data)
{
	struct fetch_all fa = {.before_ms = before_ms};

	offsets_each(b->offsets, g.ptr, (size_t)g.len, collect_offset, &fa);
	return write_tombstones(b, g, &fa, cb, data);
}

void handle_delete_groups(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_delete_groups_request *req = r->body;
	struct kafka_delete_groups_response *resp = breq_alloc(r, sizeof *resp);
	int32_t n = req->groups_names.n < 0 ? 0 : req->groups_names.n;

	if (resp == NULL)
		goto err_oom;
	r->resp = resp;
	kafka_struct_defaults(&kafka_delete_groups_response_desc, resp);
	resp->results.v = breq_alloc_structs(
		r, &kafka_delete_groups_response_deletable_group_result_desc, n);
	if (resp->results.v == NULL)
		goto err_oom;
	resp->results.n = n;
	r->pending = 1; /* held until every tombstone append has started */
	for (int32_t i = 0; i < n; i++) {
		struct kafka_str g = req->groups_names.v[i];
		int16_t err = g.len <= 0 ? KAFKA_ERR_INVALID_GROUP_ID : group_delete(b->gc, gb(g));
		if (err == KAFKA_ERR_GROUP_ID_NOT_FOUND &&
		    offsets_has_group(b->offsets, g.ptr, (size_t)g.len))
			err = KAFKA_ERR_NONE; /* only committed offsets left: deletable */
		resp->results.v[i].group_id = g;
		resp->results.v[i].error_code = err;
		if (err == KAFKA_ERR_NONE)
			r->pending += tombstone_group(b, g, 0, delete_groups_cb, r);
	}
	if (--r->pending == 0) {
		breq_respond(r, resp);
		breq_free(r);
	}
	return;

err_oom:
	net_conn_close(r->conn, "out of memory in DeleteGroups");
	breq_free(r);
}

/* ---- OffsetDelete ------------------------------------------------------------------------- */

/* Whether a classic member's subscription (ConsumerProtocolSubscription: Version int16, Topics
 * [string], ...) names `topic`. Unparsable metadata counts as subscribed, the safe answer. */
static bool subscribed(struct group_bytes md, struct kafka_str topic)
{
	struct rbuf r;
	int32_t n;

	if (md.len < 0)
		return true;
	rbuf_init(&r, md.p, (size_t)md.len);
	rbuf_be16(&r);
	n = (int32_t)rbuf_be32(&r);
	for (int32_t i = 0; i < n && !r.err; i++) {
		int16_t len = (int16_t)rbuf_be16(&r);
		const uint8_t *name = len >= 0 ? rbuf_bytes(&r, (size_t)len) : NULL;
		if (name != NULL && len == topic.len && memcmp(name, topic.ptr, (size_t)len) == 0)
			return true;
	}
	return r.err;
}

static void offset_delete_cb(struct plog_append_req *areq, int status)
{
	struct breq *r = areq->data;
	struct kafka_offset_delete_response *resp = r->resp;

	if (status != 0)
		resp->error_code = broker_storage_error(status);
	free(areq);
	breq_respond(r, resp);
	breq_free(r);
}

void handle_offset_delete(struct breq *r)
{
	struct broker *b = r->b;
	struct kafka_offset_delete_request *req = r->body;
	struct kafka_offset_delete_response *resp = breq_alloc(r, sizeof *resp);
	struct group_describe_result d;
	struct fetch_all fa = {.r = r};
	int32_t nt = req->topics.n < 0 ? 0 : req->topics.n;
	bool live;

	if (resp == NULL)
		goto err_oom;
	r->resp = resp;
	kafka_struct_defaults(&kafka_offset_delete_response_desc, resp);
	resp->error_code = KAFKA_ERR_NONE;
	if (req->group_id.len <= 0) {
		resp->error_code = KAFKA_ERR_INVALID_GROUP_ID;
		goto respond;
	}
	group_describe(b->gc, gb(req->group_id), &d);
	live = (d.state != GROUP_EMPTY && d.state != GROUP_DEAD);
	bool live_848 = b->cg != NULL &&
			cgroup_members(b->cg, (struct cgroup_str){req->group_id.ptr,
								   req->group_id.len}) > 0;
	if (!live && !live_848 &&
	    !offsets_has_group(b->offsets, req->group_id.ptr, (size_t)req->group_id.len)) {
		resp->error_code = KAFKA_ERR_GROUP_ID_NOT_FOUND;
		goto respond;
	}
	resp->topics.v = breq_alloc_structs(
		r, &kafka_offset_delete_response_offset_delete_response_topic_desc, nt);
	if (resp->topics.v == NULL)
		goto err_oom;
	resp->topics.n = nt;
	for (int32_t i = 0; i < nt; i++) {
		struct kafka_offset_delete_request_offset_delete_request_topic *t = &req->topics.v[i];
		int32_t np = t->partitions.n < 0 ? 0 : t->partitions.n;
		bool sub = live_848; /* consumer-protocol members: treated as subscribed */
		for (int32_t m = 0; live && !sub && m < d.nmembers; m++)
			sub = subscribed(d.members[m].metadata, t->name);
		resp->topics.v[i].name = t->name;
		resp->topics.v[i].partitions.v = breq_alloc_structs(
			r, &kafka_offset_delete_response_offset_delete_response_partition_desc, np);
		if (resp->topics.v[i].partitions.v == NULL)
			goto err_oom_fa;
		resp->topics.v[i].partitions.n = np;
		for (int32_t j = 0; j < np; j++) {
			int32_t pi = t->partitions.v[j].partition_index;
			resp->topics.v[i].partitions.v[j].partition_index = pi;
			if (sub) {
				resp->topics.v[i].partitions.v[j].error_code =
					KAFKA_ERR_GROUP_SUBSCRIBED_TO_TOPIC;
				continue;
			}
			resp->topics.v[i].partitions.v[j].error_code = KAFKA_ERR_NONE;
			const struct offset_value *v =
				t->name.len <= 0 ? NULL
						 : offsets_get(b->offsets, req->group_id.ptr,
							       (size_t)req->group_id.len, t->name.ptr,
							       (size_t)t->name.len, pi);
			if (v == NULL)
				continue;
			/* collect_offset wants a NUL-terminated topic: copy it into the arena. */
			char *tn = breq_alloc(r, (size_t)t->name.len + 1);
			if (tn == NULL)
				goto err_oom_fa;
			memcpy(tn, t->name.ptr, (size_t)t->name.len);
			collect_offset(&fa, tn, pi, v);
			if (fa.oom)
				goto err_oom_fa;
		}
	}
	if (write_tombstones(b, req->group_id, &fa, offset_delete_cb, r))
		return;
respond:
	breq_respond(r, resp);
	breq_free(r);
	return;

err_oom_fa:
	free(fa.topics);
	free(fa.partitions);
	free(fa.values);
err_oom:
	net_conn_close(r->conn, "out of memory in OffsetDelete");
	breq_free(r);
}

/* ---- offsets retention -------------------------------------------------------------------- */

static void expire_cb(struct plog_append_req *areq, int status)
{
	if (status != 0)
		SLOG_WARN(MOD, "msg=\"could not store tombstones for expired offsets\" err=\"%s\"",
			  err_str(status));
	free(areq);
}

struct expire_ctx {
	struct broker *b;
	char **groups; /* distinct groups with offsets, collected before any is changed */
	int n;
	int cap;
};

static void collect_group(void *arg, const char *group, size_t glen)
{
	struct expire_ctx *ec = arg;

	if (ec->n == ec->cap) {
		int ncap = ec->cap ? ec->cap * 2 : 32;
		char **v = realloc(ec->groups, (size_t)ncap * sizeof *v);
		if (v == NULL)
			return;
		ec->groups = v;
		ec->cap = ncap;
	}
	ec->groups[ec->n] = malloc(glen + 1);
	if (ec->groups[ec->n] == NULL)
		return;
	memcpy(ec->groups[ec->n], group, glen);
	ec->groups[ec->n][glen] = '\0';
	ec->n++;
}

static int cmp_cstr(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

void groups_expire_offsets(struct broker *b)
{
	struct expire_ctx ec = {.b = b};
	int64_t before;
	int expired = 0;

	if (b->cfg.offsets_retention_ms <= 0 || b->gc == NULL)
		return;
	before = clock_wall_ms(b->clock) - b->cfg.offsets_retention_ms;
	offsets_groups(b->offsets, collect_group, &ec);
	if (ec.n > 1)
		qsort(ec.groups, (size_t)ec.n, sizeof *ec.groups, cmp_cstr);
	for (int i = 0; i < ec.n; i++) {
		if (i > 0 && strcmp(ec.groups[i], ec.groups[i - 1]) == 0) {
			free(ec.groups[i - 1]);
			ec.groups[i - 1] = NULL;
		}
	}
	for (int i = 0; i < ec.n; i++) {
		if (ec.groups[i] == NULL)
			continue;
		struct kafka_str g = kafka_str_c(ec.groups[i]);
		struct group_describe_result d;
		/* Offsets of a group with live members never expire (Kafka's rule since 2.1). */
		group_describe(b->gc, gb(g), &d);
		bool live = (d.state != GROUP_EMPTY && d.state != GROUP_DEAD) ||
			    (b->cg != NULL &&
			     cgroup_members(b->cg, (struct cgroup_str){g.ptr, g.len}) > 0);
		if (!live)
			expired += tombstone_group(b, g, before, expire_cb, NULL);
		free(ec.groups[i]);
	}
	free(ec.groups);
	if (expired > 0)
		SLOG_INFO(MOD, "msg=\"expired committed offsets\" groups=%d retention_ms=%" PRId64,
			  expired, b->cfg.offsets_retention_ms);
}

/* ---- start-up: the internal topic and the replay ----------------------------------------- */

/* Applies the offset records of one batch (control batches carry none). */
static void apply_offsets_batch(struct broker *b, const uint8_t *batch, size_t len, int *bad)
{
	struct batch_header h;
	struct records_iter it;
	struct records_record rec;

	if (batch_header_decode(batch, len, &h) != 0 || (h.attributes & BATCH_ATTR_CONTROL))
		return;
	if (records_iter_init(&it, batch, batch_total_bytes(&h)) == 0)
		while (records_iter_next(&it, &rec) == 1)
			if (offsets_apply_record(b->offsets, rec.key.ptr, rec.key.len,
						 rec.value.ptr, rec.value.len) != 0)
				(*bad)++;
}

/* Replays one `__consumer_offsets` replica's log into the table, up to what is on disk now;
 * what Raft applies later arrives through on_apply. (Records of an uncommitted tail that a new
 * leader later cuts stay in the table until overwritten: documented in docs/replication.md.) */
static int replay_partition(struct broker *b, struct partition *p, int *bad)
{
	int64_t off = plog_start_offset(p->log);
	int64_t end = plog_durable_offset(p->log);

	while (off < end) {
		struct plog_read_result rd;
		int rv = plog_read(p->log, off, end, 1 << 20, &rd);
		if (rv != 0)
			return rv;
		if (rd.len == 0)
			break;
		for (size_t at = 0; at + BATCH_LOG_OVERHEAD <= rd.len;) {
			struct batch_header h;
			if (batch_header_decode(rd.buf->data + at, rd.len - at, &h) != 0)
				break;
			apply_offsets_batch(b, rd.buf->data + at, batch_total_bytes(&h), bad);
			at += batch_total_bytes(&h);
		}
		off = rd.next_offset;
		buf_unref(rd.buf);
	}
	p->apply_end = off;
	return 0;
}

static void offsets_on_apply(struct partition *p, const uint8_t *batch, size_t len)
{
	int bad = 0;
	apply_offsets_batch(p->owner, batch, len, &bad);
	if (bad > 0)
		SLOG_WARN(MOD, "msg=\"skipped malformed offset records\" partition=%d count=%d",
			  p->index, bad);
}

void groups_attach_partition(struct broker *b, struct partition *p)
{
	int bad = 0;

	b->offsets_partitions = p->topic->partitions;
	p->owner = b;
	int rv = replay_partition(b, p, &bad);
	if (rv != 0)
		SLOG_ERROR(MOD, "msg=\"replaying committed offsets failed\" partition=%s-%d "
				"err=\"%s\"",
			   OFFSETS_TOPIC, p->index, err_str(rv));
	if (bad > 0)
		SLOG_WARN(MOD, "msg=\"skipped malformed offset records\" count=%d", bad);
	p->on_apply = offsets_on_apply;
}
