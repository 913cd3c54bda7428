/*
 * groups: `sluice groups list|describe|lag|reset-offsets|delete` for classic consumer groups,
 * spoken directly in the Kafka protocol.
 *
 *   list           Metadata (no topics) to learn the brokers, then ListGroups v0-2 to each (a
 *                  broker lists the groups it coordinates) and DescribeGroups there for states.
 *   describe       FindCoordinator, DescribeGroups v0-2; members' assignments decoded from the
 *                  consumer protocol (assignment.h).
 *   lag            FindCoordinator, DescribeGroups, OffsetFetch v2-5 with null topics (all of the
 *                  group's offsets), Metadata and ListOffsets LATEST: lag = log end - committed.
 *   reset-offsets  FindCoordinator, DescribeGroups (the group must be Empty or Dead, as Kafka's
 *                  tool requires, so no live member overwrites the reset), OffsetFetch, then
 *                  ListOffsets for the target and OffsetCommit v2-7 with GenerationId -1 and an
 *                  empty MemberId (a "simple" commit from outside the group).
 *   delete         FindCoordinator, DeleteGroups v0-1.
 *
 * Failure modes: a Kafka error concerning the group is printed as "group 'G': ERROR_NAME" (one
 * concerning a partition as "group 'G' topic 'T' partition P: ERROR_NAME") and exits 1; a
 * describe or lag of a group that does not exist (state Dead, nothing committed) reports
 * GROUP_ID_NOT_FOUND; bad arguments exit 2 before anything is sent.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/admin.h"
#include "cli/assignment.h"
#include "cli/cli.h"
#include "cli/out.h"

#define DESCRIBE_GROUPS_VERSION_MIN 0
#define DESCRIBE_GROUPS_VERSION_MAX 2
#define LIST_GROUPS_VERSION_MIN 0
#define LIST_GROUPS_VERSION_MAX 2
#define OFFSET_FETCH_VERSION_MIN 2 /* v2 is the first to take null topics = all */
#define OFFSET_FETCH_VERSION_MAX 5
#define OFFSET_COMMIT_VERSION_MIN 2
#define OFFSET_COMMIT_VERSION_MAX 7
#define DELETE_GROUPS_VERSION_MIN 0
#define DELETE_GROUPS_VERSION_MAX 1
/* --topic options one reset may name. */
#define RESET_TOPICS_MAX 64

typedef struct kafka_describe_groups_response_described_group described_group;
typedef struct kafka_describe_groups_response_described_group_member described_member;
typedef struct kafka_offset_fetch_response_offset_fetch_response_topic fetched_topic;

static bool str_equal(struct kafka_str x, struct kafka_str y)
{
	return x.len == y.len && (x.len <= 0 || memcmp(x.ptr, y.ptr, (size_t)x.len) == 0);
}

static int str_compare(struct kafka_str x, struct kafka_str y)
{
	int32_t n = x.len < y.len ? x.len : y.len;
	int c = n > 0 ? memcmp(x.ptr, y.ptr, (size_t)n) : 0;

	return c != 0 ? c : (x.len > y.len) - (x.len < y.len);
}

/* A group that does not exist is reported Dead by DescribeGroups v0-2 (newer versions say
 * GROUP_ID_NOT_FOUND). */
static bool group_dead(const described_group *g)
{
	return kafka_str_eq(g->group_state, "Dead");
}

/* Sends DescribeGroups for one group to `c` and sets *out to its entry. A group-level error is
 * returned as SLUICE_EIO with "group 'G': ERROR" in msg. */
static int describe_one(struct client *c, const char *group, const described_group **out, char *msg)
{
	struct kafka_describe_groups_request req;
	struct kafka_describe_groups_response *resp;
	struct kafka_str id = kafka_str_c(group);
	int rv;

	/* The response must outlive this call: it lives in the client's arena. */
	resp = arena_alloc(&c->arena, sizeof *resp);
	if (resp == NULL) {
		errmsg_printf(msg, "out of memory");
		return SLUICE_ENOMEM;
	}
	kafka_struct_defaults(&kafka_describe_groups_request_desc, &req);
	req.groups.v = &id;
	req.groups.n = 1;
	rv = client_call_range(c, KAFKA_API_DESCRIBE_GROUPS, DESCRIBE_GROUPS_VERSION_MIN,
			       DESCRIBE_GROUPS_VERSION_MAX, &req, resp, NULL, msg);
	if (rv != 0)
		return rv;
	for (int32_t i = 0; i < resp->groups.n; i++) {
		const described_group *g = &resp->groups.v[i];

		if (!str_equal(g->group_id, id))
			continue;
		if (g->error_code != KAFKA_ERR_NONE) {
			errmsg_printf(msg, "group '%s': %s", group, kafka_err_name(g->error_code));
			return SLUICE_EIO;
		}
		*out = g;
		return 0;
	}
	errmsg_printf(msg, "group '%s': DescribeGroups did not return the group", group);
	return SLUICE_EMALFORMED;
}

/* Sends OffsetFetch with null topics (every partition the group committed) and sets *out. */
static int fetch_offsets(struct client *c, const char *group,
			 const struct kafka_offset_fetch_response **out, char *msg)
{
	struct kafka_offset_fetch_request req;
	struct kafka_offset_fetch_response *resp;
	int rv;

	resp = arena_alloc(&c->arena, sizeof *resp);
	if (resp == NULL) {
		errmsg_printf(msg, "out of memory");
		return SLUICE_ENOMEM;
	}
	kafka_struct_defaults(&kafka_offset_fetch_request_desc, &req);
	req.group_id = kafka_str_c(group);
	req.topics.v = NULL;
	req.topics.n = -1;
	rv = client_call_range(c, KAFKA_API_OFFSET_FETCH, OFFSET_FETCH_VERSION_MIN,
			       OFFSET_FETCH_VERSION_MAX, &req, resp, NULL, msg);
	if (rv != 0)
		return rv;
	if (resp->error_code != KAFKA_ERR_NONE) {
		errmsg_printf(msg, "group '%s': %s", group, kafka_err_name(resp->error_code));
		return SLUICE_EIO;
	}
	*out = resp;
	return 0;
}

/* ---- list ---------------------------------------------------------------------------------- */

struct listed {
	struct kafka_str id;
	struct kafka_str protocol_type;
	struct kafka_str state; /* len -1 when DescribeGroups did not say */
	int32_t node;
};

static int cmp_listed(const void *x, const void *y)
{
	return str_compare(((const struct listed *)x)->id, ((const struct listed *)y)->id);
}

/* Asks `c` for the states of the groups in `l` that node `node` listed. Failures leave the
 * states unknown: the list is still worth printing. */
static void list_states(struct admin *a, struct client *c, int32_t node, struct listed *l, size_t n)
{
	struct kafka_describe_groups_request req;
	struct kafka_describe_groups_response resp;
	errmsg_t ignored;
	int32_t k = 0;

	kafka_struct_defaults(&kafka_describe_groups_request_desc, &req);
	req.groups.v = admin_alloc(a, (n + 1) * sizeof *req.groups.v);
	if (req.groups.v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		if (l[i].node == node)
			req.groups.v[k++] = l[i].id;
	req.groups.n = k;
	if (k == 0 ||
	    client_call_range(c, KAFKA_API_DESCRIBE_GROUPS, DESCRIBE_GROUPS_VERSION_MIN,
			      DESCRIBE_GROUPS_VERSION_MAX, &req, &resp, NULL, ignored) != 0)
		return;
	for (int32_t g = 0; g < resp.groups.n; g++)
		for (size_t i = 0; i < n; i++)
			if (l[i].node == node && str_equal(l[i].id, resp.groups.v[g].group_id) &&
			    resp.groups.v[g].error_code == KAFKA_ERR_NONE)
				l[i].state = resp.groups.v[g].group_state;
}

static int groups_list(int argc, char **argv)
{
	static const char *const headers[] = { "GROUP", "PROTOCOL-TYPE", "STATE" };
	struct kafka_metadata_response md;
	struct admin_opts o;
	struct admin a;
	errmsg_t msg;
	struct listed *l = NULL;
	size_t n = 0;
	size_t cap = 0;
	int rv;

	rv = admin_parse_args("groups list", "[--json]", argc, argv, &o, NULL, NULL, NULL, 0);
	if (rv != 0)
		return admin_parsed_status(rv);
	rv = admin_open(&a, &o, msg);
	if (rv == 0)
		rv = admin_metadata(&a, (const char *const[]){ NULL }, 0, &md, msg);
	for (size_t b = 0; rv == 0 && b < a.nodes_n; b++) {
		struct kafka_list_groups_request req;
		struct kafka_list_groups_response resp;
		struct client *c;
		int32_t node = a.nodes[b].id;

		rv = admin_node(&a, node, &c, msg);
		if (rv != 0)
			break;
		kafka_struct_defaults(&kafka_list_groups_request_desc, &req);
		rv = client_call_range(c, KAFKA_API_LIST_GROUPS, LIST_GROUPS_VERSION_MIN,
				       LIST_GROUPS_VERSION_MAX, &req, &resp, NULL, msg);
		if (rv != 0)
			break;
		if (resp.error_code != KAFKA_ERR_NONE) {
			errmsg_printf(msg, "broker %d: ListGroups: %s", node,
				      kafka_err_name(resp.error_code));
			rv = SLUICE_EIO;
			break;
		}
		if (cap < n + (size_t)resp.groups.n) {
			struct listed *bigger;

			cap = n + (size_t)resp.groups.n;
			bigger = admin_alloc(&a, (cap + 1) * sizeof *bigger);
			if (bigger == NULL) {
				errmsg_printf(msg, "out of memory");
				rv = SLUICE_ENOMEM;
				break;
			}
			if (n > 0)
				memcpy(bigger, l, n * sizeof *l);
			l = bigger;
		}
		for (int32_t i = 0; i < resp.groups.n; i++) {
			l[n].id = resp.groups.v[i].group_id;
			l[n].protocol_type = resp.groups.v[i].protocol_type;
			l[n].state = kafka_str_null();
			l[n].node = node;
			n++;
		}
		list_states(&a, c, node, l, n);
	}
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	if (n > 0)
		qsort(l, n, sizeof *l, cmp_listed);

	if (o.json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j);
		json_key(&j, "groups");
		json_arr_begin(&j);
		for (size_t i = 0; i < n; i++) {
			json_obj_begin(&j);
			json_key(&j, "group");
			json_strn(&j, l[i].id.ptr, l[i].id.len);
			json_key(&j, "protocol_type");
			json_strn(&j, l[i].protocol_type.ptr, l[i].protocol_type.len);
			json_key(&j, "state");
			json_strn(&j, l[i].state.ptr, l[i].state.len);
			json_key(&j, "coordinator");
			json_int(&j, l[i].node);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		struct table t;

		table_init(&t, 3, headers);
		for (size_t i = 0; i < n; i++)
			table_addf(&t, "%.*s\t%.*s\t%.*s", (int)l[i].id.len, l[i].id.ptr,
				   (int)l[i].protocol_type.len, l[i].protocol_type.ptr,
				   l[i].state.len < 0 ? 1 : (int)l[i].state.len,
				   l[i].state.len < 0 ? "?" : l[i].state.ptr);
		rv = table_print(&t, stdout);
		table_free(&t);
		if (rv != 0)
			errmsg_printf(msg, "out of memory");
	}
	return admin_finish(&a, rv, msg);
}

/* ---- describe ------------------------------------------------------------------------------ */

/* Decodes a member's assignment when the group speaks the consumer protocol; a member of another
 * protocol type, or undecodable bytes, gives no topics (and *ok false for the latter). */
static struct assignment member_assignment(struct admin *a, const described_group *g,
					   const described_member *m, bool *ok)
{
	struct assignment as;

	*ok = true;
	memset(&as, 0, sizeof as);
	if (!kafka_str_eq(g->protocol_type, "consumer") || m->member_assignment.len <= 0)
		return as;
	if (assignment_decode(m->member_assignment.ptr, (size_t)m->member_assignment.len,
			      &a->scratch, &as) != 0) {
		*ok = false;
		memset(&as, 0, sizeof as);
	}
	return as;
}

/* Formats an assignment as "topic:0,1 other:2" into `out`. */
static void assignment_text(char *out, size_t size, const struct assignment *as, bool ok)
{
	size_t used = 0;

	snprintf(out, size, "%s", ok ? "-" : "(undecodable)");
	for (int32_t i = 0; i < as->topics_n && used < size; i++) {
		const struct assignment_topic *t = &as->topics[i];
		int w = snprintf(out + used, size - used, "%s%.*s:", i > 0 ? " " : "",
				 (int)t->topic.len, t->topic.ptr);

		if (w < 0)
			return;
		used += (size_t)w;
		for (int32_t k = 0; k < t->partitions_n && used < size; k++) {
			w = snprintf(out + used, size - used, "%s%d", k > 0 ? "," : "",
				     t->partitions[k]);
			if (w < 0)
				return;
			used += (size_t)w;
		}
	}
}

static void describe_json(struct admin *a, const described_group *g)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_key(&j, "group");
	json_strn(&j, g->group_id.ptr, g->group_id.len);
	json_key(&j, "state");
	json_strn(&j, g->group_state.ptr, g->group_state.len);
	json_key(&j, "protocol_type");
	json_strn(&j, g->protocol_type.ptr, g->protocol_type.len);
	json_key(&j, "protocol");
	json_strn(&j, g->protocol_data.ptr, g->protocol_data.len);
	json_key(&j, "members");
	json_arr_begin(&j);
	for (int32_t i = 0; i < g->members.n; i++) {
		const described_member *m = &g->members.v[i];
		bool ok;
		struct assignment as = member_assignment(a, g, m, &ok);

		json_obj_begin(&j);
		json_key(&j, "member_id");
		json_strn(&j, m->member_id.ptr, m->member_id.len);
		json_key(&j, "client_id");
		json_strn(&j, m->client_id.ptr, m->client_id.len);
		json_key(&j, "host");
		json_strn(&j, m->client_host.ptr, m->client_host.len);
		json_key(&j, "assignment");
		if (!ok) {
			json_null(&j);
		} else {
			json_arr_begin(&j);
			for (int32_t t = 0; t < as.topics_n; t++) {
				json_obj_begin(&j);
				json_key(&j, "topic");
				json_strn(&j, as.topics[t].topic.ptr, as.topics[t].topic.len);
				json_key(&j, "partitions");
				json_arr_begin(&j);
				for (int32_t k = 0; k < as.topics[t].partitions_n; k++)
					json_int(&j, as.topics[t].partitions[k]);
				json_arr_end(&j);
				json_obj_end(&j);
			}
			json_arr_end(&j);
		}
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

static int describe_table(struct admin *a, const described_group *g)
{
	static const char *const headers[] = { "MEMBER", "CLIENT-ID", "HOST", "ASSIGNMENT" };
	struct table t;
	int rv;

	printf("Group: %.*s  State: %.*s  Protocol: %.*s/%.*s  Members: %d\n\n",
	       (int)g->group_id.len, g->group_id.ptr, (int)g->group_state.len, g->group_state.ptr,
	       g->protocol_type.len > 0 ? (int)g->protocol_type.len : 1,
	       g->protocol_type.len > 0 ? g->protocol_type.ptr : "-",
	       g->protocol_data.len > 0 ? (int)g->protocol_data.len : 1,
	       g->protocol_data.len > 0 ? g->protocol_data.ptr : "-", g->members.n);
	table_init(&t, 4, headers);
	for (int32_t i = 0; i < g->members.n; i++) {
		const described_member *m = &g->members.v[i];
		bool ok;
		struct assignment as = member_assignment(a, g, m, &ok);
		char text[4096];

		assignment_text(text, sizeof text, &as, ok);
		table_addf(&t, "%.*s\t%.*s\t%.*s\t%s", (int)m->member_id.len, m->member_id.ptr,
			   (int)m->client_id.len, m->client_id.ptr, (int)m->client_host.len,
			   m->client_host.ptr, text);
	}
	rv = table_print(&t, stdout);
	table_free(&t);
	return rv;
}

static int groups_describe(int argc, char **argv)
{
	struct admin_opts o;
	struct admin a;
	errmsg_t msg;
	const char *group;
	const described_group *g;
	struct client *c;
	int rv;

	rv = admin_parse_args("groups describe", "GROUP [--json]", argc, argv, &o, NULL, NULL,
			      &group, 1);
	if (rv != 0)
		return admin_parsed_status(rv);
	rv = admin_open(&a, &o, msg);
	if (rv == 0)
		rv = admin_coordinator(&a, group, &c, msg);
	if (rv == 0)
		rv = describe_one(c, group, &g, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	if (group_dead(g)) {
		errmsg_printf(msg, "group '%s': %s", group,
			      kafka_err_name(KAFKA_ERR_GROUP_ID_NOT_FOUND));
		return admin_finish(&a, SLUICE_ENOTFOUND, msg);
	}
	if (o.json)
		describe_json(&a, g);
	else if (describe_table(&a, g) != 0)
		return admin_finish(&a, SLUICE_ENOMEM, "out of memory");
	return admin_finish(&a, 0, msg);
}

/* ---- partitions of a group ----------------------------------------------------------------- */

/* One partition a lag or reset concerns. */
struct gpart {
	struct kafka_str topic;
	int32_t partition;
	int64_t committed; /* -1 = nothing committed */
	int16_t error;     /* from OffsetFetch */
	const described_member *owner;
	struct admin_tp end;   /* LATEST */
	struct admin_tp start; /* EARLIEST */
	struct admin_tp at;    /* the reset target by time, when one is asked for */
	int64_t target;        /* reset: the offset to commit */
};

struct gparts {
	struct gpart *v;
	size_t n;
	size_t cap;
};

static int cmp_gpart(const void *x, const void *y)
{
	const struct gpart *a = x;
	const struct gpart *b = y;
	int c = str_compare(a->topic, b->topic);

	return c != 0 ? c : (a->partition > b->partition) - (a->partition < b->partition);
}

/* Returns the entry for (topic, partition), adding it when absent; NULL when out of memory. */
static struct gpart *gparts_get(struct admin *a, struct gparts *s, struct kafka_str topic,
				int32_t partition)
{
	struct gpart *p;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].partition == partition && str_equal(s->v[i].topic, topic))
			return &s->v[i];
	if (s->n == s->cap) {
		size_t cap = s->cap == 0 ? 64 : s->cap * 2;
		struct gpart *v = admin_alloc(a, cap * sizeof *v);

		if (v == NULL)
			return NULL;
		if (s->n > 0)
			memcpy(v, s->v, s->n * sizeof *v);
		s->v = v;
		s->cap = cap;
	}
	p = &s->v[s->n++];
	memset(p, 0, sizeof *p);
	p->topic = topic;
	p->partition = partition;
	p->committed = -1;
	p->target = -1;
	return p;
}

static int add_committed(struct admin *a, struct gparts *s,
			 const struct kafka_offset_fetch_response *f, char *msg)
{
	for (int32_t t = 0; t < f->topics.n; t++) {
		const fetched_topic *ft = &f->topics.v[t];

		for (int32_t k = 0; k < ft->partitions.n; k++) {
			struct gpart *p = gparts_get(a, s, ft->name,
						     ft->partitions.v[k].partition_index);

			if (p == NULL)
				goto err_oom;
			p->committed = ft->partitions.v[k].committed_offset;
			p->error = ft->partitions.v[k].error_code;
		}
	}
	return 0;

err_oom:
	errmsg_printf(msg, "out of memory");
	return SLUICE_ENOMEM;
}

static int add_assigned(struct admin *a, struct gparts *s, const described_group *g, char *msg)
{
	for (int32_t i = 0; i < g->members.n; i++) {
		bool ok;
		struct assignment as = member_assignment(a, g, &g->members.v[i], &ok);

		for (int32_t t = 0; t < as.topics_n; t++) {
			for (int32_t k = 0; k < as.topics[t].partitions_n; k++) {
				struct gpart *p = gparts_get(a, s, as.topics[t].topic,
							     as.topics[t].partitions[k]);

				if (p == NULL) {
					errmsg_printf(msg, "out of memory");
					return SLUICE_ENOMEM;
				}
				p->owner = &g->members.v[i];
			}
		}
	}
	return 0;
}

/* Sends Metadata for the distinct topics of `s` and sets *md. */
static int gparts_metadata(struct admin *a, const struct gparts *s,
			   struct kafka_metadata_response *md, char *msg)
{
	const char **names = admin_alloc(a, (s->n + 1) * sizeof *names);
	size_t n = 0;

	if (names == NULL) {
		errmsg_printf(msg, "out of memory");
		return SLUICE_ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++) {
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = str_equal(s->v[k].topic, s->v[i].topic);
		if (seen)
			continue;
		/* Metadata wants NUL-terminated names here; copy into scratch. */
		char *copy = admin_alloc(a, (size_t)s->v[i].topic.len + 1);

		if (copy == NULL) {
			errmsg_printf(msg, "out of memory");
			return SLUICE_ENOMEM;
		}
		memcpy(copy, s->v[i].topic.ptr, (size_t)s->v[i].topic.len);
		names[n++] = copy;
	}
	return admin_metadata(a, names, n, md, msg);
}

/* Resolves one of the admin_tp members of every entry (selected by byte offset `field` in struct
 * gpart) with ListOffsets at `timestamp`. */
static int gparts_offsets(struct admin *a, struct gparts *s,
			  const struct kafka_metadata_response *md, size_t field, int64_t timestamp,
			  char *msg)
{
	struct admin_tp *tps = admin_alloc(a, (s->n + 1) * sizeof *tps);
	int rv;

	if (tps == NULL) {
		errmsg_printf(msg, "out of memory");
		return SLUICE_ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++) {
		tps[i].topic = s->v[i].topic;
		tps[i].partition = s->v[i].partition;
		tps[i].timestamp = timestamp;
	}
	rv = admin_list_offsets(a, md, tps, s->n, msg);
	for (size_t i = 0; rv == 0 && i < s->n; i++)
		memcpy((char *)&s->v[i] + field, &tps[i], sizeof tps[i]);
	return rv;
}

/* ---- lag ----------------------------------------------------------------------------------- */

static void lag_json(const char *group, const described_group *g, const struct gparts *s,
		     int64_t total)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_key(&j, "group");
	json_str(&j, group);
	json_key(&j, "state");
	json_strn(&j, g->group_state.ptr, g->group_state.len);
	json_key(&j, "partitions");
	json_arr_begin(&j);
	for (size_t i = 0; i < s->n; i++) {
		const struct gpart *p = &s->v[i];
		bool have_end = p->end.error == KAFKA_ERR_NONE && p->end.offset >= 0;

		json_obj_begin(&j);
		json_key(&j, "topic");
		json_strn(&j, p->topic.ptr, p->topic.len);
		json_key(&j, "partition");
		json_int(&j, p->partition);
		json_key(&j, "committed");
		if (p->committed >= 0)
			json_int(&j, p->committed);
		else
			json_null(&j);
		json_key(&j, "log_end");
		if (have_end)
			json_int(&j, p->end.offset);
		else
			json_null(&j);
		json_key(&j, "lag");
		if (have_end && p->committed >= 0)
			json_int(&j, p->end.offset - p->committed);
		else
			json_null(&j);
		if (p->end.error != KAFKA_ERR_NONE || p->error != KAFKA_ERR_NONE) {
			json_key(&j, "error");
			json_str(&j, kafka_err_name(p->error != KAFKA_ERR_NONE ? p->error :
										 p->end.error));
		}
		json_key(&j, "member_id");
		if (p->owner != NULL)
			json_strn(&j, p->owner->member_id.ptr, p->owner->member_id.len);
		else
			json_null(&j);
		json_key(&j, "client_id");
		if (p->owner != NULL)
			json_strn(&j, p->owner->client_id.ptr, p->owner->client_id.len);
		else
			json_null(&j);
		json_key(&j, "host");
		if (p->owner != NULL)
			json_strn(&j, p->owner->client_host.ptr, p->owner->client_host.len);
		else
			json_null(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "total_lag");
	json_int(&j, total);
	json_obj_end(&j);
	json_finish(&j);
}

static int lag_table(const char *group, const described_group *g, const struct gparts *s,
		     int64_t total)
{
	static const char *const headers[] = { "TOPIC", "PARTITION", "COMMITTED", "LOG-END",
					       "LAG",   "MEMBER",    "CLIENT-ID", "HOST" };
	struct table t;
	int rv;

	printf("Group: %s  State: %.*s\n\n", group, (int)g->group_state.len, g->group_state.ptr);
	table_init(&t, 8, headers);
	for (size_t i = 0; i < s->n; i++) {
		const struct gpart *p = &s->v[i];
		char committed[32] = "-";
		char end[64] = "-";
		char lag[32] = "-";

		if (p->error != KAFKA_ERR_NONE)
			snprintf(committed, sizeof committed, "%s", kafka_err_name(p->error));
		else if (p->committed >= 0)
			snprintf(committed, sizeof committed, "%" PRId64, p->committed);
		if (p->end.error != KAFKA_ERR_NONE)
			snprintf(end, sizeof end, "%s", kafka_err_name(p->end.error));
		else if (p->end.offset >= 0)
			snprintf(end, sizeof end, "%" PRId64, p->end.offset);
		if (p->error == KAFKA_ERR_NONE && p->committed >= 0 &&
		    p->end.error == KAFKA_ERR_NONE && p->end.offset >= 0)
			snprintf(lag, sizeof lag, "%" PRId64, p->end.offset - p->committed);
		if (p->owner != NULL)
			table_addf(&t, "%.*s\t%d\t%s\t%s\t%s\t%.*s\t%.*s\t%.*s", (int)p->topic.len,
				   p->topic.ptr, p->partition, committed, end, lag,
				   (int)p->owner->member_id.len, p->owner->member_id.ptr,
				   (int)p->owner->client_id.len, p->owner->client_id.ptr,
				   (int)p->owner->client_host.len, p->owner->client_host.ptr);
		else
			table_addf(&t, "%.*s\t%d\t%s\t%s\t%s\t-\t-\t-", (int)p->topic.len,
				   p->topic.ptr, p->partition, committed, end, lag);
	}
	rv = table_print(&t, stdout);
	table_free(&t);
	printf("\nTotal lag: %" PRId64 "\n", total);
	return rv;
}

static int groups_lag(int argc, char **argv)
{
	struct kafka_metadata_response md;
	const struct kafka_offset_fetch_response *f;
	const described_group *g;
	struct gparts s = { 0 };
	struct admin_opts o;
	struct admin a;
	struct client *c;
	errmsg_t msg;
	const char *group;
	int64_t total = 0;
	int rv;

	rv = admin_parse_args("groups lag", "GROUP [--json]", argc, argv, &o, NULL, NULL, &group,
			      1);
	if (rv != 0)
		return admin_parsed_status(rv);
	rv = admin_open(&a, &o, msg);
	if (rv == 0)
		rv = admin_coordinator(&a, group, &c, msg);
	if (rv == 0)
		rv = describe_one(c, group, &g, msg);
	if (rv == 0)
		rv = fetch_offsets(c, group, &f, msg);
	if (rv == 0)
		rv = add_committed(&a, &s, f, msg);
	if (rv == 0)
		rv = add_assigned(&a, &s, g, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	if (s.n == 0 && group_dead(g)) {
		errmsg_printf(msg, "group '%s': %s", group,
			      kafka_err_name(KAFKA_ERR_GROUP_ID_NOT_FOUND));
		return admin_finish(&a, SLUICE_ENOTFOUND, msg);
	}
	if (s.n > 0) {
		qsort(s.v, s.n, sizeof *s.v, cmp_gpart);
		rv = gparts_metadata(&a, &s, &md, msg);
		if (rv == 0)
			rv = gparts_offsets(&a, &s, &md, offsetof(struct gpart, end),
					    ADMIN_OFFSET_LATEST, msg);
		if (rv != 0)
			return admin_finish(&a, rv, msg);
	}
	for (size_t i = 0; i < s.n; i++)
		if (s.v[i].error == KAFKA_ERR_NONE && s.v[i].committed >= 0 &&
		    s.v[i].end.error == KAFKA_ERR_NONE && s.v[i].end.offset >= 0)
			total += s.v[i].end.offset - s.v[i].committed;
	if (o.json)
		lag_json(group, g, &s, total);
	else if (lag_table(group, g, &s, total) != 0)
		return admin_finish(&a, SLUICE_ENOMEM, "out of memory");
	return admin_finish(&a, 0, msg);
}

/* ---- reset-offsets ------------------------------------------------------------------------- */

enum reset_to {
	RESET_NONE,
	RESET_EARLIEST,
	RESET_LATEST,
	RESET_OFFSET,
	RESET_DATETIME,
};

struct reset_args {
	enum reset_to to;
	int64_t value; /* the offset, or the time in ms since the epoch */
	const char *topics[RESET_TOPICS_MAX];
	int topics_n;
	bool dry_run;
};

/* Parses "2026-11-25T20:00:00Z", with optional ".mmm" fractions and a "+HH:MM"/"-HH:MM"/"+HHMM"
 * offset instead of Z (no zone means UTC), or a plain number of milliseconds since the epoch.
 * Returns false when `s` is neither. */
static bool parse_time_ms(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	int year, mon, day, hour, min, sec;
	int used = 0;
	int64_t frac_ms = 0;
	int64_t zone_s = 0;
	const char *p;
	time_t t;

	if (admin_parse_i64(s, out))
		return *out >= 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &mon, &day, &hour, &min, &sec, &used) !=
		    6 ||
	    used != 19)
		return false;
	p = s + used;
	if (*p == '.') {
		int digits = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				frac_ms = frac_ms * 10 + (*p - '0');
		if (digits == 0)
			return false;
		for (; digits < 3; digits++)
			frac_ms *= 10;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int zh, zm;
		int n = 0;

		if (sscanf(p + 1, "%2d:%2d%n", &zh, &zm, &n) == 2 && n == 5)
			;
		else if (sscanf(p + 1, "%2d%2d%n", &zh, &zm, &n) == 2 && n == 4)
			;
		else
			return false;
		if (zh > 23 || zm > 59)
			return false;
		zone_s = (zh * 3600 + zm * 60) * (*p == '+' ? 1 : -1);
		p += 1 + n;
	}
	if (*p != '\0' || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
	    sec > 60)
		return false;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != day) /* timegm normalises 2026-02-30 */
		return false;
	*out = ((int64_t)t - zone_s) * 1000 + frac_ms;
	return *out >= 0;
}

static int reset_opt(void *ctx, const char *cmd, int argc, char **argv, int *i)
{
	struct reset_args *ra = ctx;
	const char *arg = argv[*i];
	enum reset_to to = RESET_NONE;
	const char *v;
	int rv;

	if (strcmp(arg, "--dry-run") == 0) {
		ra->dry_run = true;
		return 1;
	}
	if (strcmp(arg, "--execute") == 0) /* kafka-consumer-groups.sh habit; the default here */
		return 1;
	if (strcmp(arg, "--to-earliest") == 0)
		to = RESET_EARLIEST;
	else if (strcmp(arg, "--to-latest") == 0)
		to = RESET_LATEST;
	if (to == RESET_NONE) {
		rv = admin_opt_value(cmd, "--to-offset", argc, argv, i, &v);
		if (rv > 0) {
			if (!admin_parse_i64(v, &ra->value) || ra->value < 0) {
				fprintf(stderr,
					"sluice %s: --to-offset needs an offset >= 0, "
					"not '%s'\n",
					cmd, v);
				return -1;
			}
			to = RESET_OFFSET;
		}
		if (rv < 0)
			return rv;
	}
	if (to == RESET_NONE) {
		rv = admin_opt_value(cmd, "--to-datetime", argc, argv, i, &v);
		if (rv > 0) {
			if (!parse_time_ms(v, &ra->value)) {
				fprintf(stderr,
					"sluice %s: --to-datetime needs YYYY-MM-DDTHH:MM:SS[.mmm]"
					"[Z|+HH:MM] or milliseconds since the epoch, not '%s'\n",
					cmd, v);
				return -1;
			}
			to = RESET_DATETIME;
		}
		if (rv < 0)
			return rv;
	}
	if (to != RESET_NONE) {
		if (ra->to != RESET_NONE) {
			fprintf(stderr,
				"sluice %s: give only one of --to-earliest, --to-latest, "
				"--to-offset, --to-datetime\n",
				cmd);
			return -1;
		}
		ra->to = to;
		return 1;
	}
	rv = admin_opt_value(cmd, "--topic", argc, argv, i, &v);
	if (rv > 0) {
		if (ra->topics_n == RESET_TOPICS_MAX) {
			fprintf(stderr, "sluice %s: at most %d --topic options\n", cmd,
				RESET_TOPICS_MAX);
			return -1;
		}
		ra->topics[ra->topics_n++] = v;
	}
	return rv;
}

/* Chooses each partition's new offset from the resolved offsets. An error from ListOffsets is
 * reported for the first partition that has one. */
static int reset_targets(const char *group, const struct reset_args *ra, struct gparts *s,
			 char *msg)
{
	for (size_t i = 0; i < s->n; i++) {
		struct gpart *p = &s->v[i];
		const struct admin_tp *bad = p->start.error != KAFKA_ERR_NONE ? &p->start :
					     p->end.error != KAFKA_ERR_NONE   ? &p->end :
					     ra->to == RESET_DATETIME &&
							     p->at.error != KAFKA_ERR_NONE ?
									      &p->at :
									      NULL;

		if (bad != NULL) {
			errmsg_printf(msg, "group '%s' topic '%.*s' partition %d: %s", group,
				      (int)p->topic.len, p->topic.ptr, p->partition,
				      kafka_err_name(bad->error));
			return SLUICE_EIO;
		}
		switch (ra->to) {
		case RESET_EARLIEST:
			p->target = p->start.offset;
			break;
		case RESET_LATEST:
			p->target = p->end.offset;
			break;
		case RESET_OFFSET:
			/* Like Kafka's tool, an offset outside the log is clamped into it. */
			p->target = ra->value < p->start.offset ? p->start.offset :
				    ra->value > p->end.offset   ? p->end.offset :
								  ra->value;
			break;
		case RESET_DATETIME:
			/* No record at or after the time: the end of the log. */
			p->target = p->at.offset >= 0 ? p->at.offset : p->end.offset;
			break;
		case RESET_NONE:
			break;
		}
	}
	return 0;
}

static int reset_commit(struct client *c, struct admin *a, const char *group, struct gparts *s,
			char *msg)
{
	struct kafka_offset_commit_request req;
	struct kafka_offset_commit_response resp;
	int rv;

	kafka_struct_defaults(&kafka_offset_commit_request_desc, &req);
	req.group_id = kafka_str_c(group);
	req.generation_id_or_member_epoch = -1; /* a simple commit from outside the group */
	req.member_id = kafka_str_c("");
	req.group_instance_id = kafka_str_null();
	req.retention_time_ms = -1;
	req.topics.v = admin_alloc(a, (s->n + 1) * sizeof *req.topics.v);
	if (req.topics.v == NULL)
		goto err_oom;
	req.topics.n = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct kafka_offset_commit_request_offset_commit_request_topic *t = NULL;
		struct kafka_offset_commit_request_offset_commit_request_partition *p;

		for (int32_t k = 0; k < req.topics.n; k++)
			if (str_equal(req.topics.v[k].name, s->v[i].topic))
				t = &req.topics.v[k];
		if (t == NULL) {
			t = &req.topics.v[req.topics.n++];
			kafka_struct_defaults(
				&kafka_offset_commit_request_offset_commit_request_topic_desc, t);
			t->name = s->v[i].topic;
			t->partitions.v = admin_alloc(a, s->n * sizeof *t->partitions.v);
			if (t->partitions.v == NULL)
				goto err_oom;
			t->partitions.n = 0;
		}
		p = &t->partitions.v[t->partitions.n++];
		kafka_struct_defaults(
			&kafka_offset_commit_request_offset_commit_request_partition_desc, p);
		p->partition_index = s->v[i].partition;
		p->committed_offset = s->v[i].target;
		p->committed_metadata = kafka_str_c("");
	}
	rv = client_call_range(c, KAFKA_API_OFFSET_COMMIT, OFFSET_COMMIT_VERSION_MIN,
			       OFFSET_COMMIT_VERSION_MAX, &req, &resp, NULL, msg);
	if (rv != 0)
		return rv;
	for (int32_t t = 0; t < resp.topics.n; t++) {
		for (int32_t k = 0; k < resp.topics.v[t].partitions.n; k++) {
			int16_t e = resp.topics.v[t].partitions.v[k].error_code;

			if (e == KAFKA_ERR_NONE)
				continue;
			errmsg_printf(msg, "group '%s' topic '%.*s' partition %d: %s", group,
				      (int)resp.topics.v[t].name.len, resp.topics.v[t].name.ptr,
				      resp.topics.v[t].partitions.v[k].partition_index,
				      kafka_err_name(e));
			return SLUICE_EIO;
		}
	}
	return 0;

err_oom:
	errmsg_printf(msg, "out of memory");
	return SLUICE_ENOMEM;
}

static int reset_print(const char *group, const struct gparts *s, bool json, bool dry_run)
{
	static const char *const headers[] = { "TOPIC", "PARTITION", "OLD-OFFSET", "NEW-OFFSET" };
	struct table t;
	int rv;

	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j);
		json_key(&j, "group");
		json_str(&j, group);
		json_key(&j, "dry_run");
		json_bool(&j, dry_run);
		json_key(&j, "partitions");
		json_arr_begin(&j);
		for (size_t i = 0; i < s->n; i++) {
			json_obj_begin(&j);
			json_key(&j, "topic");
			json_strn(&j, s->v[i].topic.ptr, s->v[i].topic.len);
			json_key(&j, "partition");
			json_int(&j, s->v[i].partition);
			json_key(&j, "old_offset");
			if (s->v[i].committed >= 0)
				json_int(&j, s->v[i].committed);
			else
				json_null(&j);
			json_key(&j, "new_offset");
			json_int(&j, s->v[i].target);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
		return 0;
	}
	table_init(&t, 4, headers);
	for (size_t i = 0; i < s->n; i++) {
		char old[32] = "-";

		if (s->v[i].committed >= 0)
			snprintf(old, sizeof old, "%" PRId64, s->v[i].committed);
		table_addf(&t, "%.*s\t%d\t%s\t%" PRId64, (int)s->v[i].topic.len, s->v[i].topic.ptr,
			   s->v[i].partition, old, s->v[i].target);
	}
	rv = table_print(&t, stdout);
	table_free(&t);
	printf("\n%s\n",
	       dry_run ? "Dry run: nothing was committed." : "Committed the new offsets.");
	return rv;
}

/* Adds every partition of the --topic topics (per `md`); an unknown topic is an error. */
static int add_topics(struct admin *a, const char *group, const struct reset_args *ra,
		      const struct kafka_metadata_response *md, struct gparts *s, char *msg)
{
	(void)group;
	for (int i = 0; i < ra->topics_n; i++) {
		const struct kafka_metadata_response_metadata_response_topic *t = admin_md_topic(
			md, kafka_str_c(ra->topics[i]));

		if (t == NULL || t->error_code != KAFKA_ERR_NONE) {
			errmsg_printf(msg, "topic '%s': %s", ra->topics[i],
				      kafka_err_name(t == NULL ?
							     KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION :
							     t->error_code));
			return SLUICE_ENOTFOUND;
		}
		for (int32_t k = 0; k < t->partitions.n; k++)
			if (gparts_get(a, s, t->name, t->partitions.v[k].partition_index) == NULL) {
				errmsg_printf(msg, "out of memory");
				return SLUICE_ENOMEM;
			}
	}
	return 0;
}

static int groups_reset_offsets(int argc, char **argv)
{
	struct reset_args ra = { .to = RESET_NONE };
	struct kafka_metadata_response md;
	const struct kafka_offset_fetch_response *f;
	const described_group *g;
	struct gparts s = { 0 };
	struct admin_opts o;
	struct admin a;
	struct client *c;
	errmsg_t msg;
	const char *group;
	int rv;

	rv = admin_parse_args("groups reset-offsets",
			      "GROUP --to-earliest|--to-latest|--to-offset N|--to-datetime T "
			      "[--topic T ...] [--dry-run] [--json]",
			      argc, argv, &o, reset_opt, &ra, &group, 1);
	if (rv != 0)
		return admin_parsed_status(rv);
	if (ra.to == RESET_NONE) {
		fprintf(stderr, "sluice groups reset-offsets: say where to: --to-earliest, "
				"--to-latest, --to-offset N or --to-datetime T\n");
		return CLI_EXIT_USAGE;
	}
	rv = admin_open(&a, &o, msg);
	if (rv == 0)
		rv = admin_coordinator(&a, group, &c, msg);
	if (rv == 0)
		rv = describe_one(c, group, &g, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	if (!kafka_str_eq(g->group_state, "Empty") && !group_dead(g)) {
		errmsg_printf(msg,
			      "group '%s': offsets can only be reset while the group is inactive "
			      "(Empty or Dead), but it is %.*s with %d member(s); stop its "
			      "consumers first",
			      group, (int)g->group_state.len, g->group_state.ptr, g->members.n);
		return admin_finish(&a, SLUICE_ESTATE, msg);
	}
	rv = fetch_offsets(c, group, &f, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);

	if (ra.topics_n > 0) {
		rv = admin_metadata(&a, ra.topics, (size_t)ra.topics_n, &md, msg);
		if (rv == 0)
			rv = add_topics(&a, group, &ra, &md, &s, msg);
		/* Old offsets for display, only of the chosen partitions. */
		for (int32_t t = 0; rv == 0 && t < f->topics.n; t++)
			for (int32_t k = 0; k < f->topics.v[t].partitions.n; k++)
				for (size_t i = 0; i < s.n; i++)
					if (s.v[i].partition ==
						    f->topics.v[t].partitions.v[k].partition_index &&
					    str_equal(s.v[i].topic, f->topics.v[t].name))
						s.v[i].committed = f->topics.v[t]
									   .partitions.v[k]
									   .committed_offset;
	} else {
		rv = add_committed(&a, &s, f, msg);
		/* Partitions listed without an offset have nothing to reset. */
		size_t kept = 0;

		for (size_t i = 0; rv == 0 && i < s.n; i++)
			if (s.v[i].committed >= 0)
				s.v[kept++] = s.v[i];
		s.n = kept;
		if (rv == 0 && s.n == 0) {
			errmsg_printf(
				msg,
				"group '%s' has no committed offsets; name the topics to reset "
				"with --topic",
				group);
			rv = SLUICE_ENOTFOUND;
		}
		if (rv == 0)
			rv = gparts_metadata(&a, &s, &md, msg);
	}
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	qsort(s.v, s.n, sizeof *s.v, cmp_gpart);

	rv = gparts_offsets(&a, &s, &md, offsetof(struct gpart, start), ADMIN_OFFSET_EARLIEST, msg);
	if (rv == 0)
		rv = gparts_offsets(&a, &s, &md, offsetof(struct gpart, end), ADMIN_OFFSET_LATEST,
				    msg);
	if (rv == 0 && ra.to == RESET_DATETIME)
		rv = gparts_offsets(&a, &s, &md, offsetof(struct gpart, at), ra.value, msg);
	if (rv == 0)
		rv = reset_targets(group, &ra, &s, msg);
	if (rv == 0 && !ra.dry_run)
		rv = reset_commit(c, &a, group, &s, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	if (reset_print(group, &s, o.json, ra.dry_run) != 0)
		return admin_finish(&a, SLUICE_ENOMEM, "out of memory");
	return admin_finish(&a, 0, msg);
}

/* ---- delete -------------------------------------------------------------------------------- */

static int groups_delete(int argc, char **argv)
{
	struct kafka_delete_groups_request req;
	struct kafka_delete_groups_response resp;
	struct kafka_str id;
	struct admin_opts o;
	struct admin a;
	struct client *c;
	errmsg_t msg;
	const char *group;
	int rv;

	rv = admin_parse_args("groups delete", "GROUP [--json]", argc, argv, &o, NULL, NULL, &group,
			      1);
	if (rv != 0)
		return admin_parsed_status(rv);
	rv = admin_open(&a, &o, msg);
	if (rv == 0)
		rv = admin_coordinator(&a, group, &c, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	id = kafka_str_c(group);
	kafka_struct_defaults(&kafka_delete_groups_request_desc, &req);
	req.groups_names.v = &id;
	req.groups_names.n = 1;
	rv = client_call_range(c, KAFKA_API_DELETE_GROUPS, DELETE_GROUPS_VERSION_MIN,
			       DELETE_GROUPS_VERSION_MAX, &req, &resp, NULL, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	if (resp.results.n != 1) {
		errmsg_printf(msg, "group '%s': DeleteGroups returned %d results for one group",
			      group, resp.results.n);
		return admin_finish(&a, SLUICE_EMALFORMED, msg);
	}
	if (resp.results.v[0].error_code != KAFKA_ERR_NONE) {
		errmsg_printf(msg, "group '%s': %s", group,
			      kafka_err_name(resp.results.v[0].error_code));
		return admin_finish(&a, SLUICE_EIO, msg);
	}
	admin_print_deleted(o.json, "group", group);
	return admin_finish(&a, 0, msg);
}

static const struct cli_command groups_commands[] = {
	{ "list", "[--json]", "list the consumer groups with their states", groups_list },
	{ "describe", "GROUP [--json]", "state, protocol, members and their assigned partitions",
	  groups_describe },
	{ "lag", "GROUP [--json]", "committed offset, log end and lag per partition, and the total",
	  groups_lag },
	{ "reset-offsets",
	  "GROUP --to-earliest|--to-latest|--to-offset N|--to-datetime T [--topic T] [--dry-run]",
	  "move an inactive group's committed offsets", groups_reset_offsets },
	{ "delete", "GROUP", "delete an inactive group and its offsets", groups_delete },
};

int cli_groups_main(int argc, char **argv)
{
	return cli_subcommand("groups", groups_commands,
			      sizeof groups_commands / sizeof groups_commands[0], argc, argv);
}
