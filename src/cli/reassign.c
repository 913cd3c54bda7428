/*
 * reassign: sending partition reassignments and watching them complete. Contract in
 * reassign.h.
 */
#include "cli/reassign.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "cli/cli.h"

/* Versions the CLI sends: both APIs exist only as v0 (flexible). */
#define ALTER_REASSIGNMENTS_VERSION 0
#define LIST_REASSIGNMENTS_VERSION 0
/* Partitions a progress line names before "and N more". */
#define PROGRESS_NAMED_MAX 3
/* A progress line: the names above, each with its reason, fit. */
#define PROGRESS_LINE_BYTES_MAX 1024
/* "topic-partition" of the first partition still listing a drained node (names are <= 249). */
#define TOPIC_EXAMPLE_BYTES_MAX 272

typedef struct kafka_metadata_response_metadata_response_topic md_topic;
typedef struct kafka_metadata_response_metadata_response_partition md_partition;
typedef struct kafka_alter_partition_reassignments_request_reassignable_topic alter_topic;
typedef struct kafka_alter_partition_reassignments_request_reassignable_partition alter_partition;
typedef struct kafka_list_partition_reassignments_response_ongoing_topic_reassignment
	ongoing_topic;
typedef struct kafka_list_partition_reassignments_response_ongoing_partition_reassignment
	ongoing_partition;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int str_compare(struct kafka_str x, struct kafka_str y)
{
	int32_t n = x.len < y.len ? x.len : y.len;
	int c = n > 0 ? memcmp(x.ptr, y.ptr, (size_t)n) : 0;

	return c != 0 ? c : (x.len > y.len) - (x.len < y.len);
}

int reassign_move_cmp(const void *x, const void *y)
{
	const struct reassign_move *a = x;
	const struct reassign_move *b = y;
	int c = str_compare(a->topic, b->topic);

	return c != 0 ? c : (a->partition > b->partition) - (a->partition < b->partition);
}

static struct reassign_move *find_move(struct reassign_move *moves, size_t n,
				       struct kafka_str topic, int32_t partition)
{
	struct reassign_move key;

	key.topic = topic;
	key.partition = partition;
	return bsearch(&key, moves, n, sizeof *moves, reassign_move_cmp);
}

static int ongoing_cmp(const void *x, const void *y)
{
	const struct reassign_ongoing *a = x;
	const struct reassign_ongoing *b = y;
	int c = str_compare(a->topic, b->topic);

	return c != 0 ? c : (a->partition > b->partition) - (a->partition < b->partition);
}

static const struct reassign_ongoing *find_ongoing(const struct reassign_ongoing *v, size_t n,
						   struct kafka_str topic, int32_t partition)
{
	struct reassign_ongoing key;

	key.topic = topic;
	key.partition = partition;
	return bsearch(&key, v, n, sizeof *v, ongoing_cmp);
}

static bool list_has(const int32_t *v, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

/* Adds to v[] (*n entries) the ids of `add` it does not hold yet, within REASSIGN_REPLICAS_MAX. */
static void list_union(int32_t *v, int32_t *n, const int32_t *add, int32_t nadd)
{
	for (int32_t i = 0; i < nadd && *n < REASSIGN_REPLICAS_MAX; i++)
		if (!list_has(v, *n, add[i]))
			v[(*n)++] = add[i];
}

void reassign_format_list(char *out, size_t size, const int32_t *v, int32_t n)
{
	size_t used = 0;

	if (n < 0 || n == 0) {
		snprintf(out, size, "%s", n < 0 ? "?" : "-");
		return;
	}
	out[0] = '\0';
	for (int32_t i = 0; i < n && used < size; i++) {
		int w = snprintf(out + used, size - used, "%s%d", i > 0 ? "," : "", v[i]);

		if (w < 0)
			break;
		used += (size_t)w;
	}
}

int32_t reassign_parse_list(const char *s, int32_t *v)
{
	int32_t n = 0;

	while (true) {
		const char *comma = strchr(s, ',');
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		char item[24];
		int64_t id;

		if (len == 0 || len >= sizeof item || n == REASSIGN_REPLICAS_MAX)
			return -1;
		memcpy(item, s, len);
		item[len] = '\0';
		if (!admin_parse_i64(item, &id) || id < 0 || id > INT32_MAX)
			return -1;
		v[n++] = (int32_t)id;
		if (comma == NULL)
			return n;
		s = comma + 1;
	}
}

/* ---- AlterPartitionReassignments ---- */

/* Sends moves[0..n) (sorted) in one request and records the answers. */
static int send_chunk(struct admin *a, struct reassign_move *moves, size_t n, char *msg)
{
	struct kafka_alter_partition_reassignments_request req;
	struct kafka_alter_partition_reassignments_response resp;
	int rv;

	kafka_struct_defaults(&kafka_alter_partition_reassignments_request_desc, &req);
	req.timeout_ms = a->o.timeout_ms;
	req.topics.v = admin_alloc(a, n * sizeof *req.topics.v);
	if (req.topics.v == NULL)
		goto err_oom;
	req.topics.n = 0;
	/* Moves are sorted by topic: each run of one topic becomes one entry. */
	for (size_t i = 0; i < n;) {
		alter_topic *t = &req.topics.v[req.topics.n++];
		size_t end = i;

		while (end < n && str_compare(moves[end].topic, moves[i].topic) == 0)
			end++;
		kafka_struct_defaults(
			&kafka_alter_partition_reassignments_request_reassignable_topic_desc, t);
		t->name = moves[i].topic;
		t->partitions.v = admin_alloc(a, (end - i) * sizeof *t->partitions.v);
		if (t->partitions.v == NULL)
			goto err_oom;
		t->partitions.n = (int32_t)(end - i);
		for (size_t k = i; k < end; k++) {
			alter_partition *p = &t->partitions.v[k - i];

			kafka_struct_defaults(
				&kafka_alter_partition_reassignments_request_reassignable_partition_desc,
				p);
			p->partition_index = moves[k].partition;
			p->replicas.v = moves[k].replicas;
			p->replicas.n = moves[k].n;
		}
		i = end;
	}
	rv = client_call_range(admin_boot(a), KAFKA_API_ALTER_PARTITION_REASSIGNMENTS,
			       ALTER_REASSIGNMENTS_VERSION, ALTER_REASSIGNMENTS_VERSION, &req, &resp,
			       NULL, msg);
	if (rv != 0)
		return rv;
	if (resp.error_code != KAFKA_ERR_NONE) {
		/* A request-level refusal concerns every partition of it. */
		for (size_t i = 0; i < n; i++) {
			moves[i].error = resp.error_code;
			snprintf(moves[i].message, sizeof moves[i].message, "%.*s",
				 resp.error_message.len > 0 ? (int)resp.error_message.len : 0,
				 resp.error_message.len > 0 ? resp.error_message.ptr : "");
		}
		return 0;
	}
	for (int32_t t = 0; t < resp.responses.n; t++) {
		const struct kafka_alter_partition_reassignments_response_reassignable_topic_response
			*tr = &resp.responses.v[t];

		for (int32_t p = 0; p < tr->partitions.n; p++) {
			const struct kafka_alter_partition_reassignments_response_reassignable_partition_response
				*pr = &tr->partitions.v[p];
			struct reassign_move *m = find_move(moves, n, tr->name, pr->partition_index);

			if (m == NULL)
				continue; /* not asked for: nothing to report */
			m->error = pr->error_code;
			snprintf(m->message, sizeof m->message, "%.*s",
				 pr->error_message.len > 0 ? (int)pr->error_message.len : 0,
				 pr->error_message.len > 0 ? pr->error_message.ptr : "");
		}
	}
	return 0;

err_oom:
	errmsg_printf(msg, "out of memory");
	return SLUICE_ENOMEM;
}

int reassign_send(struct admin *a, struct reassign_move *moves, size_t n, char *msg)
{
	for (size_t i = 0; i < n; i++) {
		assert(i == 0 || reassign_move_cmp(&moves[i - 1], &moves[i]) < 0);
		moves[i].error = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
		snprintf(moves[i].message, sizeof moves[i].message,
			 "the broker returned no result for this partition");
		moves[i].leader = -1;
		moves[i].listed = false;
		moves[i].done = false;
		moves[i].nadding = 0;
		moves[i].nremoving = 0;
		moves[i].seen_moving = false;
		moves[i].ok_since_ms = 0;
	}
	for (size_t start = 0; start < n; start += REASSIGN_REQUEST_PARTITIONS_MAX) {
		size_t count = n - start < REASSIGN_REQUEST_PARTITIONS_MAX
				       ? n - start
				       : REASSIGN_REQUEST_PARTITIONS_MAX;
		int rv = send_chunk(a, moves + start, count, msg);

		if (rv != 0) {
			if (start > 0)
				errmsg_wrapf(msg,
					     "AlterPartitionReassignments (the first %zu of %zu "
					     "partitions were sent and answered)",
					     start, n);
			return rv;
		}
	}
	return 0;
}

/* ---- ListPartitionReassignments ---- */

/* Asks one broker; the answer stays valid until admin_close(a). Returns 0, or an error with
 * `msg` filled; *asked is false when the broker does not speak the API. */
static int list_one(struct admin *a, int32_t node,
		    struct kafka_list_partition_reassignments_response *resp, bool *asked, char *msg)
{
	struct kafka_list_partition_reassignments_request req;
	struct client *c;
	int rv;

	*asked = false;
	rv = admin_node(a, node, &c, msg);
	if (rv != 0)
		return rv;
	if (client_version(c, KAFKA_API_LIST_PARTITION_REASSIGNMENTS, LIST_REASSIGNMENTS_VERSION,
			   LIST_REASSIGNMENTS_VERSION) < 0)
		return 0;
	*asked = true;
	kafka_struct_defaults(&kafka_list_partition_reassignments_request_desc, &req);
	req.timeout_ms = a->o.timeout_ms;
	req.topics.v = NULL;
	req.topics.n = -1; /* every partition */
	rv = client_call(c, KAFKA_API_LIST_PARTITION_REASSIGNMENTS, LIST_REASSIGNMENTS_VERSION,
			 &req, resp, msg);
	if (rv != 0)
		return rv;
	if (resp->error_code != KAFKA_ERR_NONE) {
		errmsg_printf(msg, "broker %d: ListPartitionReassignments: %s", node,
			      kafka_err_name(resp->error_code));
		return SLUICE_EIO;
	}
	return 0;
}

static void copy_ids(int32_t *dst, int32_t *n, const int32_t *src, int32_t count)
{
	*n = 0;
	list_union(dst, n, src, count < 0 ? 0 : count);
}

int reassign_list(struct admin *a, bool quiet, struct reassign_ongoing **out, size_t *n,
		  bool *supported, char *msg)
{
	size_t nodes = a->nodes_n;
	struct kafka_list_partition_reassignments_response *resps;
	bool *ok;
	struct reassign_ongoing *rows;
	size_t count = 0;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	*supported = false;
	resps = admin_alloc(a, (nodes + 1) * sizeof *resps);
	ok = admin_alloc(a, nodes + 1);
	if (resps == NULL || ok == NULL)
		goto err_oom;
	for (size_t i = 0; i < nodes; i++) {
		errmsg_t emsg;
		bool asked;
		int32_t id = a->nodes[i].id;
		int rv = list_one(a, id, &resps[i], &asked, emsg);

		ok[i] = rv == 0 && asked;
		*supported = *supported || asked;
		if (rv != 0 && !quiet)
			fprintf(stderr, "sluice: %s (node %d's view of its replicas is left out)\n",
				emsg, id);
		if (!ok[i])
			continue;
		for (int32_t t = 0; t < resps[i].topics.n; t++)
			count += (size_t)(resps[i].topics.v[t].partitions.n > 0
						  ? resps[i].topics.v[t].partitions.n
						  : 0);
	}
	rows = admin_alloc(a, (count + 1) * sizeof *rows);
	if (rows == NULL)
		goto err_oom;
	for (size_t i = 0; i < nodes; i++) {
		if (!ok[i])
			continue;
		for (int32_t t = 0; t < resps[i].topics.n; t++) {
			const ongoing_topic *ot = &resps[i].topics.v[t];

			for (int32_t p = 0; p < ot->partitions.n && k < count; p++) {
				const ongoing_partition *op = &ot->partitions.v[p];
				struct reassign_ongoing *r = &rows[k++];

				r->topic = ot->name;
				r->partition = op->partition_index;
				copy_ids(r->replicas, &r->nreplicas, op->replicas.v, op->replicas.n);
				copy_ids(r->adding, &r->nadding, op->adding_replicas.v,
					 op->adding_replicas.n);
				copy_ids(r->removing, &r->nremoving, op->removing_replicas.v,
					 op->removing_replicas.n);
			}
		}
	}
	qsort(rows, k, sizeof *rows, ongoing_cmp);
	/* Each broker reports what its own replica sees: merge them into one row. */
	size_t u = 0;
	for (size_t i = 0; i < k; i++) {
		if (u > 0 && ongoing_cmp(&rows[u - 1], &rows[i]) == 0) {
			struct reassign_ongoing *m = &rows[u - 1];

			list_union(m->replicas, &m->nreplicas, rows[i].replicas, rows[i].nreplicas);
			list_union(m->adding, &m->nadding, rows[i].adding, rows[i].nadding);
			list_union(m->removing, &m->nremoving, rows[i].removing, rows[i].nremoving);
			continue;
		}
		rows[u++] = rows[i];
	}
	*out = rows;
	*n = u;
	return 0;

err_oom:
	errmsg_printf(msg, "out of memory");
	return SLUICE_ENOMEM;
}

/* ---- waiting ---- */

/* What one look at the cluster found. */
struct poll_view {
	bool ok;              /* Metadata answered */
	size_t drained_lists; /* partitions still listing the drained node */
	char drained_example[TOPIC_EXAMPLE_BYTES_MAX];
};

/* Updates every accepted move from one look at the cluster (its own admin session). */
static void poll_once(const struct admin_opts *o, struct reassign_move *moves, size_t n,
		      int32_t drained, struct poll_view *pv)
{
	struct admin *a = malloc(sizeof *a);
	struct kafka_metadata_response md;
	struct reassign_ongoing *ongoing = NULL;
	size_t nongoing = 0;
	bool supported = false;
	errmsg_t msg;
	int64_t now = mono_ms();

	pv->ok = false;
	pv->drained_lists = 0;
	pv->drained_example[0] = '\0';
	if (a == NULL)
		return;
	if (admin_open(a, o, msg) != 0 || admin_metadata(a, NULL, 0, &md, msg) != 0)
		goto out;
	if (reassign_list(a, true, &ongoing, &nongoing, &supported, msg) != 0)
		goto out;
	pv->ok = true;
	for (size_t i = 0; i < n; i++) {
		if (moves[i].error != KAFKA_ERR_NONE || moves[i].done)
			continue;
		snprintf(moves[i].message, sizeof moves[i].message,
			 "Metadata does not list this partition");
		moves[i].listed = false;
	}
	for (int32_t t = 0; t < md.topics.n; t++) {
		const md_topic *mt = &md.topics.v[t];

		if (mt->error_code != KAFKA_ERR_NONE)
			continue;
		for (int32_t p = 0; p < mt->partitions.n; p++) {
			const md_partition *mp = &mt->partitions.v[p];
			struct reassign_move *m = find_move(moves, n, mt->name, mp->partition_index);
			const struct reassign_ongoing *og;
			char list[128];
			bool same;

			/* A move the broker refused is reported as such; only the others count. */
			if (drained >= 0 && (m == NULL || m->error == KAFKA_ERR_NONE) &&
			    list_has(mp->replica_nodes.v, mp->replica_nodes.n, drained)) {
				if (pv->drained_lists++ == 0)
					snprintf(pv->drained_example, sizeof pv->drained_example,
						 "%.*s-%d", (int)mt->name.len, mt->name.ptr,
						 mp->partition_index);
			}
			if (m == NULL || m->error != KAFKA_ERR_NONE || m->done)
				continue;
			m->leader = mp->leader_id;
			m->listed = true;
			og = find_ongoing(ongoing, nongoing, mt->name, mp->partition_index);
			m->nadding = 0;
			m->nremoving = 0;
			if (og != NULL) {
				m->seen_moving = true;
				copy_ids(m->adding, &m->nadding, og->adding, og->nadding);
				copy_ids(m->removing, &m->nremoving, og->removing, og->nremoving);
			}
			same = mp->replica_nodes.n == m->n;
			for (int32_t k = 0; same && k < m->n; k++)
				same = mp->replica_nodes.v[k] == m->replicas[k];
			if (!same) {
				reassign_format_list(list, sizeof list, mp->replica_nodes.v,
						     mp->replica_nodes.n);
				snprintf(m->message, sizeof m->message,
					 "Metadata still lists replicas %s", list);
			} else if (mp->leader_id < 0) {
				snprintf(m->message, sizeof m->message, "no leader yet");
			} else if (!list_has(m->replicas, m->n, mp->leader_id)) {
				snprintf(m->message, sizeof m->message,
					 "leader %d is not one of the new replicas", mp->leader_id);
			} else if (og != NULL) {
				char add[64];
				char rem[64];

				reassign_format_list(add, sizeof add, m->adding, m->nadding);
				reassign_format_list(rem, sizeof rem, m->removing, m->nremoving);
				snprintf(m->message, sizeof m->message, "adding %s; removing %s", add,
					 rem);
			} else {
				/* Every condition holds now. */
				if (m->ok_since_ms == 0)
					m->ok_since_ms = now;
				if (m->seen_moving || !supported ||
				    now - m->ok_since_ms >= REASSIGN_SETTLE_MS) {
					m->done = true;
					m->message[0] = '\0';
				} else {
					snprintf(m->message, sizeof m->message,
						 "waiting for the leader to take up the new list");
				}
				continue;
			}
			m->ok_since_ms = 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!moves[i].listed)
			moves[i].ok_since_ms = 0;
out:
	admin_close(a);
	free(a);
}

/* Writes the progress summary (without the time) into `line`; returns the accepted moves not
 * done. */
static size_t progress_line(const struct reassign_move *moves, size_t n, int32_t drained,
			    const struct poll_view *pv, char *line, size_t size)
{
	size_t accepted = 0;
	size_t done = 0;
	size_t named = 0;
	size_t used;

	for (size_t i = 0; i < n; i++) {
		accepted += moves[i].error == KAFKA_ERR_NONE;
		done += moves[i].error == KAFKA_ERR_NONE && moves[i].done;
	}
	used = (size_t)snprintf(line, size, "%zu of %zu partitions moved", done, accepted);
	if (!pv->ok && used < size)
		used += (size_t)snprintf(line + used, size - used,
					 " (the cluster did not answer this time)");
	for (size_t i = 0; i < n && used < size; i++) {
		const struct reassign_move *m = &moves[i];

		if (m->error != KAFKA_ERR_NONE || m->done)
			continue;
		if (named == PROGRESS_NAMED_MAX) {
			used += (size_t)snprintf(line + used, size - used, "; and %zu more",
						 accepted - done - named);
			break;
		}
		used += (size_t)snprintf(line + used, size - used, "%s %.*s-%d: %s",
					 named == 0 ? "; waiting for" : ";", (int)m->topic.len,
					 m->topic.ptr, m->partition, m->message);
		named++;
	}
	if (drained >= 0 && pv->drained_lists > 0 && used < size)
		snprintf(line + used, size - used, "; %zu partition(s) still list node %d (%s%s)",
			 pv->drained_lists, drained, pv->drained_example,
			 pv->drained_lists > 1 ? ", ..." : "");
	return accepted - done;
}

size_t reassign_wait(const struct admin_opts *o, struct reassign_move *moves, size_t n,
		     int32_t drained, int64_t wait_ms, size_t *still_listing)
{
	int64_t t0 = mono_ms();
	int64_t deadline = t0 + wait_ms;
	int64_t printed_ms = 0;
	char last[PROGRESS_LINE_BYTES_MAX] = "";
	size_t left;
	size_t listing = 0;

	while (true) {
		struct poll_view pv;
		char line[PROGRESS_LINE_BYTES_MAX];
		int64_t now;

		poll_once(o, moves, n, drained, &pv);
		left = progress_line(moves, n, drained, &pv, line, sizeof line);
		if (pv.ok)
			listing = pv.drained_lists;
		now = mono_ms();
		if (strcmp(line, last) != 0 || now - printed_ms >= REASSIGN_PROGRESS_MS) {
			fprintf(stderr, "sluice: [%.1fs] %s\n", (double)(now - t0) / 1000.0, line);
			snprintf(last, sizeof last, "%s", line);
			printed_ms = now;
		}
		if ((left == 0 && pv.ok && listing == 0) || now >= deadline)
			break;
		sleep_ms(deadline - now < REASSIGN_POLL_MS ? (int)(deadline - now)
							   : REASSIGN_POLL_MS);
	}
	for (size_t i = 0; i < n; i++)
		if (moves[i].error == KAFKA_ERR_NONE && !moves[i].done && moves[i].message[0] == '\0')
			snprintf(moves[i].message, sizeof moves[i].message,
				 "not seen complete in time");
	if (still_listing != NULL)
		*still_listing = listing;
	return left;
}

/* ---- output ---- */

const char *reassign_result(const struct reassign_move *m)
{
	if (m->error != KAFKA_ERR_NONE)
		return kafka_err_name(m->error);
	return m->done ? "MOVED" : "PENDING";
}

int reassign_print_table(const struct reassign_move *moves, size_t n)
{
	static const char *const headers[] = { "TOPIC",  "PARTITION", "OLD-REPLICAS",
					       "NEW-REPLICAS", "LEADER", "RESULT",
					       "MESSAGE" };
	struct table t;
	int rv;

	table_init(&t, 7, headers);
	for (size_t i = 0; i < n; i++) {
		const struct reassign_move *m = &moves[i];
		char old[128];
		char target[128];
		char leader[16];

		reassign_format_list(old, sizeof old, m->old_replicas, m->old_n);
		reassign_format_list(target, sizeof target, m->replicas, m->n);
		if (m->error != KAFKA_ERR_NONE)
			snprintf(leader, sizeof leader, "-"); /* not watched */
		else if (m->leader >= 0)
			snprintf(leader, sizeof leader, "%d", m->leader);
		else
			snprintf(leader, sizeof leader, "none");
		table_addf(&t, "%.*s\t%d\t%s\t%s\t%s\t%s\t%s", (int)m->topic.len, m->topic.ptr,
			   m->partition, old, target, leader, reassign_result(m), m->message);
	}
	rv = table_print(&t, stdout);
	table_free(&t);
	return rv;
}

static void json_ids(struct json *j, const int32_t *v, int32_t n)
{
	json_arr_begin(j);
	for (int32_t i = 0; i < n; i++)
		json_int(j, v[i]);
	json_arr_end(j);
}

void reassign_json_moves(struct json *j, const struct reassign_move *moves, size_t n)
{
	json_arr_begin(j);
	for (size_t i = 0; i < n; i++) {
		const struct reassign_move *m = &moves[i];

		json_obj_begin(j);
		json_key(j, "topic");
		json_strn(j, m->topic.ptr, m->topic.len);
		json_key(j, "partition");
		json_int(j, m->partition);
		json_key(j, "old_replicas");
		if (m->old_n < 0)
			json_null(j);
		else
			json_ids(j, m->old_replicas, m->old_n);
		json_key(j, "replicas");
		json_ids(j, m->replicas, m->n);
		json_key(j, "leader");
		json_int(j, m->leader);
		json_key(j, "result");
		json_str(j, reassign_result(m));
		json_key(j, "message");
		if (m->message[0] != '\0')
			json_str(j, m->message);
		else
			json_null(j);
		json_obj_end(j);
	}
	json_arr_end(j);
}

size_t reassign_failures(const struct reassign_move *moves, size_t n, char *msg)
{
	const struct reassign_move *first = NULL;
	size_t failed = 0;

	for (size_t i = 0; i < n; i++) {
		if (moves[i].error == KAFKA_ERR_NONE && moves[i].done)
			continue;
		if (first == NULL)
			first = &moves[i];
		failed++;
	}
	if (first == NULL)
		return 0;
	if (first->message[0] != '\0')
		errmsg_printf(msg, "topic '%.*s' partition %d: %s (%s)", (int)first->topic.len,
			      first->topic.ptr, first->partition, reassign_result(first),
			      first->message);
	else
		errmsg_printf(msg, "topic '%.*s' partition %d: %s", (int)first->topic.len,
			      first->topic.ptr, first->partition, reassign_result(first));
	if (failed > 1) {
		size_t used = strlen(msg);

		snprintf(msg + used, ERRMSG_BYTES_MAX - used,
			 "; and %zu more partition(s) not moved", failed - 1);
	}
	return failed;
}
