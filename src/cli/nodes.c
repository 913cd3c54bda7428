/*
 * nodes: `sluice nodes list|drain|remove`, spoken directly in the Kafka protocol.
 *
 *   list   Metadata (all topics): every broker it lists with its address and rack, how many
 *          partition replicas it holds and how many partitions it leads, and which one is the
 *          controller.
 *   drain  Moves every partition replica off node N. From one Metadata (all topics, internal
 *          ones included) it plans, for each partition listing N, the new replica list: N is
 *          replaced, in place, by the broker with the fewest replicas that the partition does
 *          not already list (ties: the lowest id), counting the replicas planned so far, so the
 *          preferred leader (the first replica) changes only where N was preferred. Then
 *          AlterPartitionReassignments with every new list, and reassign_wait() until every
 *          move is complete and no partition in Metadata lists N, for at most --timeout-ms,
 *          with progress lines on stderr. Prints one row per partition and a summary.
 *   remove UnregisterBroker for node N (drained and stopped): Metadata stops listing it and
 *          placement stops choosing it.
 *
 * Failure modes: drain refuses, before sending anything, when some partition has no node to
 * take N's place (every other broker already holds one of its replicas, e.g. replication factor
 * 3 on 3 nodes): it names that partition and exits 1. A node that no broker lists and no
 * partition names exits 1; a node holding no replicas exits 0 with nothing to do. Moves the
 * broker refuses, or that are not seen complete in time, are printed with their result and the
 * command exits 1 (moves are independent: those that were accepted go on). Unreachable brokers
 * and timeouts exit 1 with the connection's message; bad arguments exit 2.
 *
 * Invariants: the plan is computed from a single Metadata response; every partition listing N
 * gets exactly one move, which never lists a node twice and keeps the list's length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/admin.h"
#include "cli/cli.h"
#include "cli/out.h"
#include "cli/reassign.h"

typedef struct kafka_metadata_response_metadata_response_topic md_topic;
typedef struct kafka_metadata_response_metadata_response_partition md_partition;
typedef struct kafka_metadata_response_metadata_response_broker md_broker;

/* One broker and what it holds, as one Metadata response shows. */
struct node_load {
	const md_broker *b;
	int32_t id;
	int64_t replicas; /* partition replicas listed on it (planned moves included for drain) */
	int64_t leaders;  /* partitions it leads */
};

static int cmp_load(const void *x, const void *y)
{
	const struct node_load *a = x;
	const struct node_load *b = y;

	return (a->id > b->id) - (a->id < b->id);
}

static struct node_load *load_find(struct node_load *v, size_t n, int32_t id)
{
	struct node_load key = { .id = id };

	return bsearch(&key, v, n, sizeof *v, cmp_load);
}

/* Builds the brokers' loads from `md`, sorted by id. Returns NULL when out of memory. */
static struct node_load *loads_build(struct admin *a, const struct kafka_metadata_response *md,
				     size_t *n)
{
	struct node_load *v = admin_alloc(a, ((size_t)md->brokers.n + 1) * sizeof *v);
	size_t k = 0;

	if (v == NULL)
		return NULL;
	for (int32_t i = 0; i < md->brokers.n; i++) {
		v[k].b = &md->brokers.v[i];
		v[k].id = md->brokers.v[i].node_id;
		k++;
	}
	qsort(v, k, sizeof *v, cmp_load);
	for (int32_t t = 0; t < md->topics.n; t++) {
		const md_topic *mt = &md->topics.v[t];

		if (mt->error_code != KAFKA_ERR_NONE)
			continue;
		for (int32_t p = 0; p < mt->partitions.n; p++) {
			const md_partition *mp = &mt->partitions.v[p];
			struct node_load *l = load_find(v, k, mp->leader_id);

			if (l != NULL)
				l->leaders++;
			for (int32_t r = 0; r < mp->replica_nodes.n; r++) {
				l = load_find(v, k, mp->replica_nodes.v[r]);
				if (l != NULL)
					l->replicas++;
			}
		}
	}
	*n = k;
	return v;
}

/* ---- list ---- */

static int nodes_list(int argc, char **argv)
{
	static const char *const headers[] = { "NODE",     "HOST",    "PORT",      "RACK",
					       "REPLICAS", "LEADERS", "CONTROLLER" };
	struct kafka_metadata_response md;
	struct node_load *loads = NULL;
	struct admin_opts o;
	struct admin a;
	errmsg_t msg;
	size_t n = 0;
	int rv;

	rv = admin_parse_args("nodes list", "[--json]", argc, argv, &o, NULL, NULL, NULL, 0);
	if (rv != 0)
		return admin_parsed_status(rv);
	rv = admin_open(&a, &o, msg);
	if (rv == 0)
		rv = admin_metadata(&a, NULL, 0, &md, msg);
	if (rv == 0 && (loads = loads_build(&a, &md, &n)) == NULL) {
		errmsg_printf(msg, "out of memory");
		rv = SLUICE_ENOMEM;
	}
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	if (o.json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j);
		json_key(&j, "controller");
		json_int(&j, md.controller_id);
		json_key(&j, "nodes");
		json_arr_begin(&j);
		for (size_t i = 0; i < n; i++) {
			json_obj_begin(&j);
			json_key(&j, "id");
			json_int(&j, loads[i].id);
			json_key(&j, "host");
			json_strn(&j, loads[i].b->host.ptr, loads[i].b->host.len);
			json_key(&j, "port");
			json_int(&j, loads[i].b->port);
			json_key(&j, "rack");
			json_strn(&j, loads[i].b->rack.ptr, loads[i].b->rack.len);
			json_key(&j, "replicas");
			json_int(&j, loads[i].replicas);
			json_key(&j, "leaders");
			json_int(&j, loads[i].leaders);
			json_key(&j, "controller");
			json_bool(&j, loads[i].id == md.controller_id);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
		return admin_finish(&a, 0, msg);
	}
	struct table t;

	table_init(&t, 7, headers);
	for (size_t i = 0; i < n; i++) {
		const md_broker *b = loads[i].b;

		table_addf(&t, "%d\t%.*s\t%d\t%.*s\t%lld\t%lld\t%s", loads[i].id,
			   b->host.len > 0 ? (int)b->host.len : 0, b->host.len > 0 ? b->host.ptr : "",
			   b->port, b->rack.len > 0 ? (int)b->rack.len : 1,
			   b->rack.len > 0 ? b->rack.ptr : "-", (long long)loads[i].replicas,
			   (long long)loads[i].leaders, loads[i].id == md.controller_id ? "yes" : "");
	}
	rv = table_print(&t, stdout);
	table_free(&t);
	return admin_finish(&a, rv, "out of memory");
}

/* ---- drain ---- */

struct drain_args {
	int64_t node; /* -1 until given */
};

static int drain_opt(void *ctx, const char *cmd, int argc, char **argv, int *i)
{
	struct drain_args *da = ctx;
	const char *v;
	int rv;

	rv = admin_opt_value(cmd, "--node", argc, argv, i, &v);
	if (rv > 0 && (!admin_parse_i64(v, &da->node) || da->node < 0 || da->node > INT32_MAX)) {
		fprintf(stderr, "sluice %s: --node must be a node id, not '%s'\n", cmd, v);
		return -1;
	}
	return rv;
}

static bool ids_have(const int32_t *v, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

/* Plans one move per partition listing `node`. On success returns 0 with *out sorted; when
 * some partition has nowhere to go returns SLUICE_ENOREPLICAS with `msg` naming it. */
static int drain_plan(struct admin *a, const struct kafka_metadata_response *md, int32_t node,
		      struct node_load *loads, size_t nloads, struct reassign_move **out,
		      size_t *nout, char *msg)
{
	struct reassign_move *moves;
	size_t count = 0;
	size_t k = 0;
	size_t stuck = 0;
	const struct reassign_move *first_stuck = NULL;

	for (int32_t t = 0; t < md->topics.n; t++) {
		const md_topic *mt = &md->topics.v[t];

		for (int32_t p = 0; mt->error_code == KAFKA_ERR_NONE && p < mt->partitions.n; p++)
			count += ids_have(mt->partitions.v[p].replica_nodes.v,
					  mt->partitions.v[p].replica_nodes.n, node);
	}
	moves = admin_alloc(a, (count + 1) * sizeof *moves);
	if (moves == NULL) {
		errmsg_printf(msg, "out of memory");
		return SLUICE_ENOMEM;
	}
	for (int32_t t = 0; t < md->topics.n; t++) {
		const md_topic *mt = &md->topics.v[t];

		for (int32_t p = 0; mt->error_code == KAFKA_ERR_NONE && p < mt->partitions.n; p++) {
			const md_partition *mp = &mt->partitions.v[p];
			struct reassign_move *m;

			if (!ids_have(mp->replica_nodes.v, mp->replica_nodes.n, node) || k == count)
				continue;
			if (mp->replica_nodes.n > REASSIGN_REPLICAS_MAX) {
				errmsg_printf(msg,
					      "topic '%.*s' partition %d lists %d replicas; the CLI "
					      "handles at most %d",
					      (int)mt->name.len, mt->name.ptr, mp->partition_index,
					      mp->replica_nodes.n, REASSIGN_REPLICAS_MAX);
				return SLUICE_ETOOLARGE;
			}
			m = &moves[k++];
			m->topic = mt->name;
			m->partition = mp->partition_index;
			m->old_n = mp->replica_nodes.n;
			m->n = mp->replica_nodes.n;
			memcpy(m->old_replicas, mp->replica_nodes.v,
			       (size_t)m->n * sizeof m->old_replicas[0]);
			memcpy(m->replicas, mp->replica_nodes.v, (size_t)m->n * sizeof m->replicas[0]);
			m->leader = mp->leader_id;
		}
	}
	/* Planned in (topic, partition) order, so the same cluster always gives the same plan. */
	qsort(moves, k, sizeof *moves, reassign_move_cmp);
	for (size_t i = 0; i < k; i++) {
		struct reassign_move *m = &moves[i];
		struct node_load *best = NULL;

		for (size_t c = 0; c < nloads; c++) {
			struct node_load *l = &loads[c];

			if (l->id == node || ids_have(m->replicas, m->n, l->id))
				continue;
			if (best == NULL || l->replicas < best->replicas)
				best = l; /* loads are sorted by id: ties keep the lowest */
		}
		if (best == NULL) {
			if (stuck++ == 0)
				first_stuck = m;
			continue;
		}
		for (int32_t r = 0; r < m->n; r++)
			if (m->replicas[r] == node)
				m->replicas[r] = best->id;
		best->replicas++;
		struct node_load *self = load_find(loads, nloads, node);
		if (self != NULL)
			self->replicas--;
	}
	if (first_stuck != NULL) {
		char list[128];
		char others[128];
		char more[64] = "";
		int32_t ids[REASSIGN_REPLICAS_MAX];
		int32_t nids = 0;

		reassign_format_list(list, sizeof list, first_stuck->old_replicas,
				     first_stuck->old_n);
		for (size_t c = 0; c < nloads && nids < REASSIGN_REPLICAS_MAX; c++)
			if (loads[c].id != node)
				ids[nids++] = loads[c].id;
		reassign_format_list(others, sizeof others, ids, nids);
		if (stuck > 1)
			snprintf(more, sizeof more, "; %zu more partition(s) are in the same case",
				 stuck - 1);
		errmsg_printf(msg,
			      "node %d cannot be drained: no other node can take its replica of "
			      "topic '%.*s' partition %d (replicas %s; %s%s%s)%s; nothing was moved",
			      node, (int)first_stuck->topic.len, first_stuck->topic.ptr,
			      first_stuck->partition, list, nids > 0 ? "the other nodes " : "",
			      nids > 0 ? others : "the cluster has no other node",
			      nids > 0 ? " already hold one" : "", more);
		return SLUICE_ENOREPLICAS;
	}
	*out = moves;
	*nout = k;
	return 0;
}

/* "to node 4: 3, node 1: 2" — where the drained node's replicas went (accepted moves). */
static void drain_destinations(const struct reassign_move *moves, size_t n, int32_t node,
			       char *out, size_t size)
{
	int32_t ids[64];
	int64_t counts[64];
	size_t nids = 0;
	size_t used = 0;

	for (size_t i = 0; i < n; i++) {
		const struct reassign_move *m = &moves[i];

		if (m->error != KAFKA_ERR_NONE)
			continue;
		for (int32_t r = 0; r < m->n && r < m->old_n; r++) {
			size_t k;

			if (m->old_replicas[r] != node)
				continue;
			for (k = 0; k < nids && ids[k] != m->replicas[r]; k++)
				;
			if (k == nids) {
				if (nids == sizeof ids / sizeof ids[0])
					continue;
				ids[nids] = m->replicas[r];
				counts[nids++] = 0;
			}
			counts[k]++;
		}
	}
	out[0] = '\0';
	for (size_t k = 0; k < nids && used < size; k++)
		used += (size_t)snprintf(out + used, size - used, "%snode %d: %lld",
					 k > 0 ? ", " : "", ids[k], (long long)counts[k]);
}

static void drain_print_json(int32_t node, const struct reassign_move *moves, size_t n,
			     size_t failed, size_t still_listing)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_key(&j, "node");
	json_int(&j, node);
	json_key(&j, "moved");
	json_int(&j, (int64_t)(n - failed));
	json_key(&j, "failed");
	json_int(&j, (int64_t)failed);
	json_key(&j, "drained");
	json_bool(&j, failed == 0 && still_listing == 0);
	json_key(&j, "partitions");
	reassign_json_moves(&j, moves, n);
	json_obj_end(&j);
	json_finish(&j);
}

#define DRAIN_USAGE "--node N [--json]"

static int nodes_drain(int argc, char **argv)
{
	struct drain_args da = { .node = -1 };
	struct kafka_metadata_response md;
	struct node_load *loads = NULL;
	struct reassign_move *moves = NULL;
	struct admin_opts o;
	struct admin a;
	errmsg_t msg;
	size_t nloads = 0;
	size_t n = 0;
	size_t failed;
	size_t still_listing = 0;
	int32_t node;
	int rv;

	rv = admin_parse_args("nodes drain", DRAIN_USAGE, argc, argv, &o, drain_opt, &da, NULL,
			      0);
	if (rv != 0)
		return admin_parsed_status(rv);
	if (da.node < 0) {
		fprintf(stderr, "sluice nodes drain: --node is needed\n"
				"usage: sluice nodes drain " DRAIN_USAGE "\n");
		return CLI_EXIT_USAGE;
	}
	node = (int32_t)da.node;
	rv = admin_open(&a, &o, msg);
	if (rv == 0)
		rv = admin_metadata(&a, NULL, 0, &md, msg);
	if (rv == 0 && (loads = loads_build(&a, &md, &nloads)) == NULL) {
		errmsg_printf(msg, "out of memory");
		rv = SLUICE_ENOMEM;
	}
	if (rv == 0)
		rv = drain_plan(&a, &md, node, loads, nloads, &moves, &n, msg);
	if (rv == 0 && n == 0 && load_find(loads, nloads, node) == NULL) {
		errmsg_printf(msg, "node %d: no broker of this cluster has that id, and no "
				   "partition lists it",
			      node);
		rv = SLUICE_ENOTFOUND;
	}
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	if (n == 0) {
		if (o.json)
			drain_print_json(node, moves, 0, 0, 0);
		else
			printf("node %d holds no partition replicas: nothing to move\n", node);
		return admin_finish(&a, 0, msg);
	}
	fprintf(stderr, "sluice: moving %zu partition replica(s) off node %d\n", n, node);
	rv = reassign_send(&a, moves, n, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	reassign_wait(&o, moves, n, node, o.timeout_ms, &still_listing);
	failed = reassign_failures(moves, n, msg);
	if (o.json) {
		drain_print_json(node, moves, n, failed, still_listing);
	} else {
		char dest[256];

		if (reassign_print_table(moves, n) != 0)
			return admin_finish(&a, SLUICE_ENOMEM, "out of memory");
		drain_destinations(moves, n, node, dest, sizeof dest);
		if (failed == 0 && still_listing == 0)
			printf("node %d drained: %zu replica(s) moved (%s)\n", node, n, dest);
		else
			printf("node %d not drained: %zu of %zu replica(s) moved%s\n", node,
			       n - failed, n,
			       still_listing > 0 ? "; partitions still list it" : "");
	}
	if (failed == 0 && still_listing > 0) {
		errmsg_printf(msg, "node %d: partitions still list it after the moves (a topic "
				   "created meanwhile?); run the drain again",
			      node);
		failed = 1;
	}
	return admin_finish(&a, failed > 0 ? SLUICE_EIO : 0, msg);
}

/* ---- remove ---- */

#define REMOVE_USAGE "--node N [--json]"

/* `nodes remove --node N`: UnregisterBroker for a node that is gone for good (drained and
 * stopped), so Metadata stops listing it and new topics are not placed on it. The broker
 * refuses a node that still holds replicas, is running, or is a voter of the metadata group,
 * with a message, printed here; exit 1 then. */
static int nodes_remove(int argc, char **argv)
{
	struct drain_args da = { .node = -1 };
	struct kafka_unregister_broker_request req;
	struct kafka_unregister_broker_response resp;
	struct admin_opts o;
	struct admin a;
	errmsg_t msg;
	int rv;

	rv = admin_parse_args("nodes remove", REMOVE_USAGE, argc, argv, &o, drain_opt, &da, NULL,
			      0);
	if (rv != 0)
		return admin_parsed_status(rv);
	if (da.node < 0) {
		fprintf(stderr, "sluice nodes remove: --node is needed\n"
				"usage: sluice nodes remove " REMOVE_USAGE "\n");
		return CLI_EXIT_USAGE;
	}
	rv = admin_open(&a, &o, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	kafka_struct_defaults(&kafka_unregister_broker_request_desc, &req);
	req.broker_id = (int32_t)da.node;
	rv = client_call_range(admin_boot(&a), KAFKA_API_UNREGISTER_BROKER, 0, 0, &req, &resp,
			       NULL, msg);
	if (rv != 0)
		return admin_finish(&a, rv, msg);
	if (resp.error_code != KAFKA_ERR_NONE) {
		if (resp.error_message.len > 0)
			errmsg_printf(msg, "node %d: %s (%.*s)", req.broker_id,
				      kafka_err_name(resp.error_code), (int)resp.error_message.len,
				      resp.error_message.ptr);
		else
			errmsg_printf(msg, "node %d: %s", req.broker_id,
				      kafka_err_name(resp.error_code));
		return admin_finish(&a, SLUICE_EIO, msg);
	}
	if (o.json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j);
		json_key(&j, "removed");
		json_int(&j, req.broker_id);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		printf("node %d removed from the cluster's metadata\n", req.broker_id);
	}
	return admin_finish(&a, 0, msg);
}

static const struct cli_command nodes_commands[] = {
	{ "list", "[--json]", "list the brokers with their replica and leader counts", nodes_list },
	{ "drain", DRAIN_USAGE,
	  "move every partition replica off a node, onto the least loaded others, and wait",
	  nodes_drain },
	{ "remove", REMOVE_USAGE,
	  "take a drained, stopped node out of the cluster's metadata (UnregisterBroker)",
	  nodes_remove },
};

int cli_nodes_main(int argc, char **argv)
{
	return cli_subcommand("nodes", nodes_commands,
			      sizeof nodes_commands / sizeof nodes_commands[0], argc, argv);
}
