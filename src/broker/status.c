/*
 * status: the broker's metric families, cluster view, readiness and leadership transfer for the
 * admin HTTP endpoint (contract in status.h; the metrics are documented in docs/operations.md).
 *
 * Happy path of a scrape: status_scrape_step() walks this node's replicas, copying each one's
 * values and rendered labels and summing its shim counters, then walks the committed-offsets
 * table, copying the offsets of the partitions this node leads, a bounded amount per step;
 * status_scrape_write() then writes the Kafka listener's counters (net_stats and the per-API
 * counters broker.c keeps), the copied replicas, the consensus, peer and controller state as it
 * is now, and the copied offsets.
 *
 * Semantics worth knowing:
 *   - Counters are totals since the node started. The shim's counters are per Raft group and a
 *     group's vanish when it closes, so their sums are exported as gauges.
 *   - A consumer group's committed offset and lag of a partition are exported by the node that
 *     leads that partition (its high watermark is exact there), when that node holds the
 *     group's committed offsets (it hosts a replica of the group's __consumer_offsets
 *     partition). So every (group, topic, partition) appears on at most one node.
 *
 * Invariants:
 *   1. Nothing here changes broker state except status_transfer(), which only asks Raft.
 *   2. Each family is written once per page, its samples contiguous (metrics.h).
 *   3. A scrape holds no pointer into the broker across steps that it does not re-validate: a
 *      step starts both walks over when the image generation or the topic count changed
 *      (topics, their states and replicas are freed only then), and the offsets walk starts
 *      over when the table was rehashed. So no series appears twice in a page.
 */
#include "broker/status.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/http.h"
#include "base/err.h"
#include "base/slog.h"
#include "broker/cluster.h"
#include "broker/internal.h"
#include "broker/offsets.h"
#include "peer/peer.h"
#include "raft/cons.h"
#include "raft/shim.h"

/* ---- the Kafka listener ---------------------------------------------------------------------- */

static void counter(struct metrics *m, const char *name, const char *help, uint64_t v)
{
	metrics_family(m, name, METRICS_COUNTER, help);
	metrics_u64(m, NULL, 0, v);
}

static void gauge(struct metrics *m, const char *name, const char *help, int64_t v)
{
	metrics_family(m, name, METRICS_GAUGE, help);
	metrics_i64(m, NULL, 0, v);
}

static void kafka_metrics(struct broker *b, struct metrics *m)
{
	struct net_stats ns;
	static const char *const refused[BROKER_REFUSED_COUNT] = {
		[BROKER_REFUSED_MALFORMED_HEADER] = "malformed_header",
		[BROKER_REFUSED_UNSUPPORTED] = "unsupported_version",
		[BROKER_REFUSED_MALFORMED_BODY] = "malformed_body",
	};

	net_server_stats(b->net, &ns);
	gauge(m, "sluice_kafka_connections_open", "Kafka client connections open now",
	      (int64_t)ns.connections_open);
	counter(m, "sluice_kafka_connections_accepted_total",
		"Kafka client connections accepted, rejected ones included",
		ns.connections_accepted);
	counter(m, "sluice_kafka_connections_rejected_total",
		"Kafka client connections closed at once because 10,000 were open",
		ns.connections_rejected);
	metrics_family(m, "sluice_kafka_requests_total", METRICS_COUNTER,
		       "Kafka requests received, by API (a series appears with its first request)");
	for (int k = 0; k <= BROKER_API_KEYS_COUNTED; k++) {
		if (b->requests_by_api[k] == 0)
			continue;
		char key[16];
		const struct kafka_api *ka = k < BROKER_API_KEYS_COUNTED ?
						     kafka_api_find((int16_t)k) :
						     NULL;
		snprintf(key, sizeof key, "%d", k < BROKER_API_KEYS_COUNTED ? k : -1);
		struct metrics_label l[2] = { { "api_key", key },
					      { "api", ka != NULL ? ka->name : "unknown" } };
		metrics_u64(m, l, 2, b->requests_by_api[k]);
	}
	metrics_family(m, "sluice_kafka_requests_refused_total", METRICS_COUNTER,
		       "Kafka requests refused before a handler ran: malformed_header and "
		       "malformed_body close the connection, unsupported_version is answered with "
		       "an error");
	for (int i = 0; i < BROKER_REFUSED_COUNT; i++) {
		struct metrics_label l = { "reason", refused[i] };
		metrics_u64(m, &l, 1, b->requests_refused[i]);
	}
	counter(m, "sluice_kafka_responses_total", "Kafka responses written to sockets",
		ns.responses);
	counter(m, "sluice_kafka_response_writes_total",
		"writev calls that carried Kafka responses (responses per write shows batching)",
		ns.writes);
	counter(m, "sluice_kafka_frames_rejected_total",
		"Kafka request size prefixes beyond socket.request.max.bytes (each closed its "
		"connection)",
		ns.frames_rejected);
	counter(m, "sluice_kafka_received_bytes_total", "bytes read from Kafka client sockets",
		ns.bytes_in);
	counter(m, "sluice_kafka_sent_bytes_total", "bytes written to Kafka client sockets",
		ns.bytes_out);
	counter(m, "sluice_kafka_read_pauses_total",
		"times a Kafka connection stopped reading for back-pressure", ns.read_pauses);
}

/* ---- replicas -------------------------------------------------------------------------------- */

enum replica_value {
	RV_LEADER,
	RV_HIGH_WATERMARK,
	RV_LOG_END,
	RV_LOG_START,
	RV_TERM,
	RV_SIZE,
	RV_COUNT,
};

static const struct {
	const char *name;
	const char *help;
} replica_families[RV_COUNT] = {
	[RV_LEADER] = { "sluice_partition_leader",
			"1 when this node's replica is the partition's ready leader, else 0" },
	[RV_HIGH_WATERMARK] = { "sluice_partition_high_watermark",
				"high watermark (committed offset) as this replica knows it" },
	[RV_LOG_END] = { "sluice_partition_log_end_offset",
			 "next offset this replica's log assigns" },
	[RV_LOG_START] = { "sluice_partition_log_start_offset",
			   "first offset this replica's log holds (retention moves it)" },
	[RV_TERM] = { "sluice_partition_raft_term", "Raft term of the partition's group here" },
	[RV_SIZE] = { "sluice_partition_log_size_bytes", "bytes of this replica's segment files" },
};

/* One replica's values, copied during the walk so that the page can be written after it,
 * whatever happened to the replica in between. */
struct replica_row {
	size_t labels_off; /* its {topic="...",partition="..."} in the scrape's rlabels */
	size_t labels_len;
	int64_t v[RV_COUNT];
};

/* One consumer group's committed offset of a partition this node leads. */
struct group_row {
	size_t labels_off; /* its {group=...,topic=...,partition=...} in the scrape's glabels */
	size_t labels_len;
	int64_t committed;
	int64_t lag;
};

struct status_scrape {
	/* What the walks assume stays put between steps; when it changed they start over. */
	uint64_t generation; /* the metadata image's: topics come and go only with it */
	int ntopics;
	int restarts;
	/* The replica walk: b->topics.v[topic], partition `partition` next. */
	int topic;
	int32_t partition;
	bool replicas_done;
	struct replica_row *rows;
	size_t nrows, rows_cap;
	struct wbuf rlabels;
	struct shim_stats shim; /* summed over the rows' groups */
	/* The committed-offsets walk, bucket `bucket` next of `buckets`. */
	bool groups_started;
	bool groups_done;
	size_t buckets;
	size_t bucket;
	struct topic **sorted; /* b->topics.v by name, for bsearch */
	int nsorted;
	struct group_row *grows;
	size_t ngrows, grows_cap;
	uint64_t groups_omitted;
	struct wbuf glabels;
	bool oom;
};

/* Grows *v (of *cap elements of `size` bytes) to hold n + 1. Returns false when out of memory. */
static bool grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap > 0 ? *cap * 2 : 256;
	void *nv = realloc(*v, ncap * size);
	if (nv == NULL)
		return false;
	*v = nv;
	*cap = ncap;
	return true;
}

static void replica_fill(struct status_scrape *sc, const struct topic *tp, int32_t index,
			 const struct partition *p)
{
	struct replica_row *r = &sc->rows[sc->nrows++];
	char idx[16];

	snprintf(idx, sizeof idx, "%" PRId32, index);
	struct metrics_label l[2] = { { "topic", tp->name }, { "partition", idx } };
	r->labels_off = sc->rlabels.len;
	metrics_render_labels(&sc->rlabels, l, 2);
	r->labels_len = sc->rlabels.len - r->labels_off;
	r->v[RV_LEADER] = partition_is_leader(p) ? 1 : 0;
	r->v[RV_HIGH_WATERMARK] = p->hw;
	r->v[RV_LOG_END] = p->log != NULL ? plog_end_offset(p->log) : -1;
	r->v[RV_LOG_START] = p->log != NULL ? plog_start_offset(p->log) : -1;
	r->v[RV_TERM] = (int64_t)cons_term(p->group);
	r->v[RV_SIZE] = p->log != NULL ? (int64_t)plog_size_bytes(p->log) : 0;
}

/* Sums one group's shim counters into `sum`. */
static void shim_add(struct shim_stats *sum, const struct cons_group *g)
{
	const struct shim_stats *s = cons_shim_stats(g);

	if (s == NULL)
		return;
	sum->barriers += s->barriers;
	sum->results_held += s->results_held;
	sum->results_overflow += s->results_overflow;
	sum->ticks_skipped += s->ticks_skipped;
	sum->timeout_now_held += s->timeout_now_held;
	sum->timeout_now_stale += s->timeout_now_stale;
	sum->clamped += s->clamped;
	sum->dropped_stale += s->dropped_stale;
	sum->dropped_role += s->dropped_role;
	sum->sends_copied += s->sends_copied;
	sum->rollbacks_refused += s->rollbacks_refused;
	sum->transfer_attempts += s->transfer_attempts;
	sum->failures += s->failures;
}

/* Copies the values of up to `budget` more open replicas into sc->rows; sets replicas_done at
 * the end of the walk. Returns the budget left. */
static size_t replicas_step(struct broker *b, struct status_scrape *sc, size_t budget)
{
	while (budget > 0 && sc->topic < b->topics.n) {
		const struct topic *tp = b->topics.v[sc->topic];
		const struct topic_state *ts = tp->data;
		if (ts == NULL || sc->partition >= tp->partitions || sc->partition >= ts->nparts) {
			sc->topic++;
			sc->partition = 0;
			continue;
		}
		const struct partition *p = ts->parts[sc->partition++];
		budget--;
		if (p->group == NULL)
			continue;
		if (!grow((void **)&sc->rows, &sc->rows_cap, sc->nrows, sizeof *sc->rows)) {
			sc->oom = true;
			return 0;
		}
		replica_fill(sc, tp, sc->partition - 1, p);
		shim_add(&sc->shim, p->group);
	}
	sc->replicas_done = sc->topic >= b->topics.n;
	return budget;
}

static void replica_metrics(struct status_scrape *sc, struct metrics *m)
{
	int64_t leading = 0;

	for (int v = 0; v < RV_COUNT; v++) {
		metrics_family(m, replica_families[v].name, METRICS_GAUGE,
			       replica_families[v].help);
		for (size_t i = 0; i < sc->nrows; i++)
			metrics_i64_rendered(
				m, (const char *)sc->rlabels.data + sc->rows[i].labels_off,
				sc->rows[i].labels_len, sc->rows[i].v[v]);
	}
	for (size_t i = 0; i < sc->nrows; i++)
		leading += sc->rows[i].v[RV_LEADER];
	gauge(m, "sluice_replicas", "partition replicas open on this node (internal topics too)",
	      (int64_t)sc->nrows);
	gauge(m, "sluice_replicas_leading", "partition replicas this node leads", leading);
}

/* ---- consensus, peers, controller ---------------------------------------------------------- */

static void raft_metrics(struct broker *b, struct metrics *m, const struct shim_stats *gathered)
{
	struct shim_stats sum = *gathered;
	const struct shim_stats *shim = &sum;
	struct cons_stats cs;
	const struct cons_group *ctl = cluster_controller_group(b);

	cons_node_stats(cluster_cons(b), &cs);
	gauge(m, "sluice_raft_groups",
	      "Raft groups open on this node (replicas and the controller)", (int64_t)cs.groups);
	counter(m, "sluice_raft_ticks_total", "consensus ticks (one per raft.heartbeat.ms)",
		cs.ticks);
	counter(m, "sluice_raft_messages_sent_total", "Raft messages handed to the peer transport",
		cs.msgs_sent);
	counter(m, "sluice_raft_messages_received_total", "Raft messages received from peers",
		cs.msgs_recv);
	counter(m, "sluice_raft_messages_dropped_total",
		"Raft messages the transport refused (a full queue or an unknown node)",
		cs.msgs_dropped);
	counter(m, "sluice_raft_messages_malformed_total",
		"Raft messages from peers dropped because they did not decode", cs.msgs_bad);
	counter(m, "sluice_raft_proposals_total", "proposals made on groups this node leads",
		cs.proposals);
	counter(m, "sluice_raft_commits_total", "proposals committed", cs.commits);

	if (ctl != NULL)
		shim_add(&sum, ctl);
	const struct {
		const char *event;
		uint64_t v;
	} ev[] = {
		{ "barriers", shim->barriers },
		{ "results_held", shim->results_held },
		{ "results_overflow", shim->results_overflow },
		{ "ticks_skipped", shim->ticks_skipped },
		{ "timeout_now_held", shim->timeout_now_held },
		{ "timeout_now_stale", shim->timeout_now_stale },
		{ "clamped", shim->clamped },
		{ "dropped_stale", shim->dropped_stale },
		{ "dropped_role", shim->dropped_role },
		{ "sends_copied", shim->sends_copied },
		{ "rollbacks_refused", shim->rollbacks_refused },
		{ "transfer_attempts", shim->transfer_attempts },
		{ "failures", shim->failures },
	};
	metrics_family(m, "sluice_raft_shim_events", METRICS_GAUGE,
		       "mitigations of the Raft library's defects (docs/raft-defects.md), summed "
		       "over the groups open now; a closed group's counts leave the sum");
	for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
		struct metrics_label l = { "event", ev[i].event };
		metrics_u64(m, &l, 1, ev[i].v);
	}
}

static void peer_metrics(struct broker *b, struct metrics *m)
{
	const struct peer_net *pn = cluster_peer_net(b);
	const struct image *im = cluster_image(b);
	struct peer_stats ps;

	peer_net_stats(pn, &ps);
	counter(m, "sluice_peer_frames_sent_total", "data frames sent to other nodes",
		ps.frames_sent);
	counter(m, "sluice_peer_frames_received_total", "data frames received from other nodes",
		ps.frames_recv);
	counter(m, "sluice_peer_sent_bytes_total", "bytes written to peer connections",
		ps.bytes_sent);
	counter(m, "sluice_peer_received_bytes_total", "bytes read from peer connections",
		ps.bytes_recv);
	counter(m, "sluice_peer_writes_total", "write calls for queued peer frames", ps.writes);
	metrics_family(m, "sluice_peer_frames_dropped_total", METRICS_COUNTER,
		       "peer frames not sent: queue_full (send refused) or connection_lost "
		       "(discarded with their connection)");
	struct metrics_label full = { "reason", "queue_full" };
	struct metrics_label lost = { "reason", "connection_lost" };
	metrics_u64(m, &full, 1, ps.dropped_full);
	metrics_u64(m, &lost, 1, ps.dropped_lost);
	counter(m, "sluice_peer_connections_rejected_total",
		"peer connections closed for breaking the protocol", ps.rejected);
	counter(m, "sluice_peer_connects_total", "peer connections established", ps.connects);
	counter(m, "sluice_peer_disconnects_total", "established peer connections lost",
		ps.disconnects);
	metrics_family(m, "sluice_peer_connected", METRICS_GAUGE,
		       "1 when this node has a working connection to the node, else 0 (every "
		       "other node of the metadata image)");
	for (uint32_t i = 0; i < im->nnodes; i++) {
		if (im->nodes[i].id == (uint32_t)b->cfg.node_id)
			continue;
		char id[16];
		snprintf(id, sizeof id, "%" PRIu32, im->nodes[i].id);
		struct metrics_label l = { "node", id };
		metrics_u64(m, &l, 1, peer_net_connected(pn, im->nodes[i].id) ? 1 : 0);
	}
}

static void controller_metrics(struct broker *b, struct metrics *m)
{
	const struct image *im = cluster_image(b);
	const struct cons_group *ctl = cluster_controller_group(b);
	int32_t cid = cluster_controller_id(b);

	gauge(m, "sluice_node_ready",
	      "1 once the node logged msg=\"ready\" (registered, __consumer_offsets exists)",
	      status_ready(b) ? 1 : 0);
	gauge(m, "sluice_controller_leader",
	      "1 when this node leads the metadata (controller) group",
	      cid >= 0 && cid == b->cfg.node_id ? 1 : 0);
	gauge(m, "sluice_controller_id", "node id of the controller leader, -1 when unknown", cid);
	gauge(m, "sluice_controller_raft_term", "Raft term of the metadata group on this node",
	      ctl != NULL ? (int64_t)cons_term(ctl) : 0);
	gauge(m, "sluice_metadata_generation",
	      "generation of the metadata image applied here (one per committed command)",
	      (int64_t)im->generation);
	gauge(m, "sluice_cluster_nodes_registered", "nodes registered in the metadata image",
	      (int64_t)image_nodes_registered(im));
	gauge(m, "sluice_cluster_topics", "topics in the metadata image (internal ones too)",
	      (int64_t)im->ntopics);
	gauge(m, "sluice_cluster_partitions", "partitions of all topics in the metadata image",
	      (int64_t)im->npartitions_total);
}

/* ---- consumer groups ------------------------------------------------------------------------ */

static int cmp_topic(const void *x, const void *y)
{
	const struct topic *a = *(const struct topic *const *)x;
	const struct topic *c = *(const struct topic *const *)y;
	return strcmp(a->name, c->name);
}

static int cmp_name_topic(const void *key, const void *elem)
{
	return strcmp(key, (*(const struct topic *const *)elem)->name);
}

/* This node's replica of `topic`-`partition` when it is the ready leader, else NULL. */
static const struct partition *led_partition(const struct status_scrape *sc, const char *topic,
					     int32_t partition)
{
	struct topic **hit = bsearch(topic, sc->sorted, (size_t)sc->nsorted, sizeof *sc->sorted,
				     cmp_name_topic);
	if (hit == NULL)
		return NULL;
	const struct topic_state *ts = (*hit)->data;
	if (ts == NULL || partition < 0 || partition >= ts->nparts)
		return NULL;
	const struct partition *p = ts->parts[partition];
	return partition_is_leader(p) ? p : NULL;
}

static void group_entry(void *arg, const char *group, const char *topic, int32_t partition,
			const struct offset_value *v)
{
	struct status_scrape *sc = arg;
	const struct partition *p = led_partition(sc, topic, partition);

	if (p == NULL || sc->oom)
		return;
	if (sc->ngrows >= STATUS_GROUP_SERIES_MAX) {
		sc->groups_omitted++;
		return;
	}
	if (!grow((void **)&sc->grows, &sc->grows_cap, sc->ngrows, sizeof *sc->grows)) {
		sc->oom = true;
		return;
	}
	struct group_row *r = &sc->grows[sc->ngrows++];
	char idx[16];
	snprintf(idx, sizeof idx, "%" PRId32, partition);
	struct metrics_label l[3] = { { "group", group },
				      { "topic", topic },
				      { "partition", idx } };
	r->labels_off = sc->glabels.len;
	metrics_render_labels(&sc->glabels, l, 3);
	r->labels_len = sc->glabels.len - r->labels_off;
	r->committed = v->offset;
	r->lag = p->hw > v->offset ? p->hw - v->offset : 0;
}

/* (Re)starts the committed-offsets walk: no rows, bucket 0, topics sorted for lookups. */
static void groups_restart(struct broker *b, struct status_scrape *sc)
{
	sc->ngrows = 0;
	sc->groups_omitted = 0;
	sc->glabels.len = 0;
	sc->bucket = 0;
	sc->buckets = offsets_buckets(b->offsets);
	sc->groups_started = true;
	sc->groups_done = false;
	free(sc->sorted);
	sc->sorted = malloc(sizeof *sc->sorted * (size_t)(b->topics.n > 0 ? b->topics.n : 1));
	if (sc->sorted == NULL) {
		sc->oom = true;
		return;
	}
	sc->nsorted = b->topics.n;
	if (sc->nsorted == 0)
		return; /* b->topics.v may be NULL then */
	memcpy(sc->sorted, b->topics.v, sizeof *sc->sorted * (size_t)sc->nsorted);
	qsort(sc->sorted, (size_t)sc->nsorted, sizeof *sc->sorted, cmp_topic);
}

/* Walks up to `budget` more buckets of the committed-offsets table into sc->grows. */
static void groups_step(struct broker *b, struct status_scrape *sc, size_t budget)
{
	/* A rehash reorders entries: start over rather than miss or repeat some. */
	if (!sc->groups_started || offsets_buckets(b->offsets) != sc->buckets)
		groups_restart(b, sc);
	if (sc->oom)
		return;
	size_t to = budget < sc->buckets - sc->bucket ? sc->bucket + budget : sc->buckets;
	offsets_each_in_buckets(b->offsets, sc->bucket, to, group_entry, sc);
	sc->bucket = to;
	sc->groups_done = sc->bucket >= sc->buckets;
}

static void group_metrics(struct broker *b, struct status_scrape *sc, struct metrics *m)
{
	gauge(m, "sluice_consumer_group_offsets_stored",
	      "committed offsets held on this node (groups whose __consumer_offsets partition "
	      "has a replica here)",
	      (int64_t)offsets_count(b->offsets));
	metrics_family(m, "sluice_consumer_group_committed_offset", METRICS_GAUGE,
		       "a consumer group's committed offset, for the partitions this node leads");
	for (size_t i = 0; i < sc->ngrows; i++)
		metrics_i64_rendered(m, (const char *)sc->glabels.data + sc->grows[i].labels_off,
				     sc->grows[i].labels_len, sc->grows[i].committed);
	metrics_family(m, "sluice_consumer_group_lag", METRICS_GAUGE,
		       "high watermark minus the committed offset (0 when the commit is ahead), "
		       "for the partitions this node leads");
	for (size_t i = 0; i < sc->ngrows; i++)
		metrics_i64_rendered(m, (const char *)sc->glabels.data + sc->grows[i].labels_off,
				     sc->grows[i].labels_len, sc->grows[i].lag);
	gauge(m, "sluice_consumer_group_series_omitted",
	      "consumer-group series left out of each family above because of the page's limit "
	      "of 10,000 per family",
	      (int64_t)sc->groups_omitted);
}

/* ---- a scrape ------------------------------------------------------------------------------- */

struct status_scrape *status_scrape_new(void)
{
	struct status_scrape *sc = calloc(1, sizeof *sc);

	if (sc == NULL)
		return NULL;
	wbuf_init(&sc->rlabels);
	wbuf_init(&sc->glabels);
	sc->generation = UINT64_MAX; /* the first step starts the walks */
	return sc;
}

void status_scrape_free(struct status_scrape *sc)
{
	if (sc == NULL)
		return;
	free(sc->rows);
	free(sc->grows);
	free(sc->sorted);
	wbuf_free(&sc->rlabels);
	wbuf_free(&sc->glabels);
	free(sc);
}

/* Starts both walks over, for the broker as it is now. */
static void scrape_restart(struct broker *b, struct status_scrape *sc)
{
	sc->generation = cluster_image(b)->generation;
	sc->ntopics = b->topics.n;
	sc->topic = 0;
	sc->partition = 0;
	sc->replicas_done = false;
	sc->nrows = 0;
	sc->rlabels.len = 0;
	memset(&sc->shim, 0, sizeof sc->shim);
	sc->groups_started = false;
	sc->groups_done = false;
}

bool status_scrape_step(struct broker *b, struct status_scrape *sc, size_t replicas_max,
			size_t buckets_max)
{
	bool first = sc->generation == UINT64_MAX;

	/* Topics (and the replicas and topic states they hold) come and go only through the
	 * reconciler, after a change of the metadata image; a walk that sees the image or the
	 * topic count change may hold stale pointers or indexes, so it starts over. */
	if (first || cluster_image(b)->generation != sc->generation || b->topics.n != sc->ntopics) {
		if (!first && ++sc->restarts > STATUS_RESTARTS_MAX)
			replicas_max = buckets_max = SIZE_MAX; /* finish now, in one step */
		scrape_restart(b, sc);
	}
	if (!sc->replicas_done)
		replicas_step(b, sc, replicas_max);
	if (sc->replicas_done && !sc->groups_done && !sc->oom)
		groups_step(b, sc, buckets_max);
	return sc->oom || (sc->replicas_done && sc->groups_done);
}

void status_scrape_write(struct broker *b, struct status_scrape *sc, struct metrics *m)
{
	if (sc->oom || sc->rlabels.oom || sc->glabels.oom) {
		m->out.oom = true;
		return;
	}
	kafka_metrics(b, m);
	replica_metrics(sc, m);
	raft_metrics(b, m, &sc->shim);
	peer_metrics(b, m);
	controller_metrics(b, m);
	group_metrics(b, sc, m);
}

void status_metrics(struct broker *b, struct metrics *m)
{
	struct status_scrape *sc = status_scrape_new();

	if (sc == NULL) {
		m->out.oom = true;
		return;
	}
	while (!status_scrape_step(b, sc, SIZE_MAX, SIZE_MAX))
		;
	status_scrape_write(b, sc, m);
	status_scrape_free(sc);
}

/* ---- the cluster view ---------------------------------------------------------------------- */

static void put_cstr(struct wbuf *w, const char *s)
{
	wbuf_put(w, s, strlen(s));
}

static void put_json_cstr(struct wbuf *w, const char *s)
{
	http_put_json_string(w, s, strlen(s));
}

void status_cluster_json(struct broker *b, struct wbuf *out)
{
	const struct image *im = cluster_image(b);
	char num[64];

	put_cstr(out, "{\"cluster_id\":");
	put_json_cstr(out, im->cluster_id);
	snprintf(num, sizeof num, ",\"node_id\":%" PRId32 ",\"controller_id\":%" PRId32,
		 b->cfg.node_id, cluster_controller_id(b));
	put_cstr(out, num);
	put_cstr(out, status_ready(b) ? ",\"ready\":true" : ",\"ready\":false");
	snprintf(num, sizeof num, ",\"generation\":%" PRIu64 ",\"nodes\":[", im->generation);
	put_cstr(out, num);
	for (uint32_t i = 0; i < im->nnodes; i++) {
		const struct image_node *n = &im->nodes[i];
		snprintf(num, sizeof num, "%s{\"id\":%" PRIu32 ",\"host\":", i > 0 ? "," : "",
			 n->id);
		put_cstr(out, num);
		put_json_cstr(out, n->host != NULL ? n->host : "");
		snprintf(num, sizeof num, ",\"port\":%u,\"rack\":", (unsigned)n->port);
		put_cstr(out, num);
		if (n->rack != NULL)
			put_json_cstr(out, n->rack);
		else
			put_cstr(out, "null");
		put_cstr(out, n->registered ? ",\"registered\":true}" : ",\"registered\":false}");
	}
	put_cstr(out, "]}\n");
}

bool status_ready(struct broker *b)
{
	return cluster_is_ready_logged(b);
}

/* ---- leadership transfer -------------------------------------------------------------------- */

int status_transfer(struct broker *b, const char *topic, int32_t partition, int32_t to,
		    int32_t *leader, char *errmsg)
{
	const struct image_topic *it = image_topic_find(cluster_image(b), topic, strlen(topic));
	const struct image_partition *ip = it != NULL ? image_partition_get(it, partition) : NULL;

	*leader = -1;
	if (ip == NULL) {
		errmsg_printf(errmsg, "no partition %s-%" PRId32, topic, partition);
		return SLUICE_ENOTFOUND;
	}
	struct partition *lp = broker_local_partition(b, it, partition);
	*leader = cluster_partition_leader(b, lp, ip->group_id);
	bool replica = false;
	for (int i = 0; i < ip->nreplicas; i++)
		replica = replica || ip->replicas[i] == (uint32_t)to;
	if (!replica) {
		errmsg_printf(errmsg, "node %" PRId32 " is not a replica of %s-%" PRId32, to, topic,
			      partition);
		return SLUICE_EINVAL;
	}
	if (*leader == to) {
		errmsg_printf(errmsg, "node %" PRId32 " leads %s-%" PRId32 " already", to, topic,
			      partition);
		return SLUICE_EEXIST;
	}
	if (lp == NULL || !partition_is_leader(lp)) {
		if (lp != NULL && cons_leader(lp->group) == (uint32_t)b->cfg.node_id) {
			errmsg_printf(errmsg,
				      "leadership of %s-%" PRId32 " is changing here; retry", topic,
				      partition);
			return SLUICE_EBUSY;
		}
		errmsg_printf(errmsg, "node %" PRId32 " does not lead %s-%" PRId32, b->cfg.node_id,
			      topic, partition);
		return SLUICE_ENOTLEADER;
	}
	if (!peer_net_connected(cluster_peer_net(b), (uint32_t)to)) {
		errmsg_printf(errmsg, "node %" PRId32 " is not connected to the leader", to);
		return SLUICE_EBUSY;
	}
	int rv = cons_transfer(lp->group, (uint32_t)to);
	if (rv == SLUICE_EINVAL) {
		errmsg_printf(errmsg, "node %" PRId32 " is not a voter of %s-%" PRId32 " yet", to,
			      topic, partition);
		return rv;
	}
	if (rv != 0) {
		errmsg_printf(errmsg, "cannot start the transfer: %s", err_str(rv));
		return rv == SLUICE_ENOTLEADER ? rv : SLUICE_EBUSY;
	}
	SLOG_INFO(MOD, "msg=\"moving leadership on request\" partition=%s-%" PRId32 " to=%" PRId32,
		  topic, partition, to);
	return 0;
}
