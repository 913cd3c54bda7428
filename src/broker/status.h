/*
 * status: what the admin HTTP endpoint (src/server/endpoints.c) reads from the broker — its
 * Prometheus metric families, the cluster view as JSON, readiness — and the one thing it may ask
 * of it: moving a partition's leadership.
 *
 * Everything runs on the loop thread, from an HTTP handler, and reads the broker's state in
 * place: no locks, no copies, nothing kept between calls. The metric families are listed, with
 * their types, labels and meaning, in docs/operations.md; keep the two in step.
 *
 * A scrape (struct status_scrape) gathers in steps, so that the event loop serves everything
 * else between them: each step copies the values of a bounded number of replicas and walks a
 * bounded number of buckets of the committed-offsets table; once both walks are done the page is
 * written from the copies and from the counters as they are then. The reading of each replica's
 * state is the expensive part (its log, Raft group and shim are separate, cold allocations: a
 * dozen cache misses), so it is what is spread out; writing a page of 10,000 replicas (3.9 MB)
 * takes a few milliseconds in one turn.
 *
 * Cost of a scrape: one visit per partition slot on this node and one per committed offset in
 * the node's table (at most OFFSETS_ENTRIES_MAX), at most STATUS_GROUP_SERIES_MAX series per
 * consumer-group family; everything else is constant or per node of the cluster.
 */
#ifndef SLUICE_BROKER_STATUS_H
#define SLUICE_BROKER_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admin/metrics.h"
#include "base/buf.h"

/* Series per consumer-group family in one page: a node coordinating many groups over many
 * partitions could otherwise make a page of millions of lines. Beyond it series are counted in
 * sluice_consumer_group_series_omitted instead. */
#define STATUS_GROUP_SERIES_MAX 10000

/* Walks that see topics come or go start over; after this many restarts a scrape finishes in
 * one step, so that a node whose topics change all the time still answers. */
#define STATUS_RESTARTS_MAX 3

struct broker;
struct status_scrape;

/* A scrape in progress, or NULL when out of memory. */
struct status_scrape *status_scrape_new(void);

/* Gathers up to `replicas_max` more partition slots and then up to `buckets_max` buckets of the
 * committed-offsets table into `sc`; returns true when everything is gathered (or memory ran out:
 * status_scrape_write says so). The broker may change between steps: see STATUS_RESTARTS_MAX. */
bool status_scrape_step(struct broker *b, struct status_scrape *sc, size_t replicas_max,
			size_t buckets_max);

/* After the last step: appends every family (Kafka listener, replicas, consensus, peers,
 * controller, consumer groups) to `m`, from what `sc` gathered and the counters as they are now.
 * Out of memory shows as m->out.oom. */
void status_scrape_write(struct broker *b, struct status_scrape *sc, struct metrics *m);

/* Accepts NULL. */
void status_scrape_free(struct status_scrape *sc);

/* A whole scrape in one call (one loop turn, however many replicas). */
void status_metrics(struct broker *b, struct metrics *m);

/* Appends the cluster as this node sees it, as one JSON object: cluster_id, node_id,
 * controller_id (-1 when unknown), ready, metadata generation, and nodes (id, host, port, rack or
 * null, registered). */
void status_cluster_json(struct broker *b, struct wbuf *out);

/* Whether the node logged msg="ready": registered in the metadata image and __consumer_offsets
 * exists. */
bool status_ready(struct broker *b);

/* Asks that leadership of partition `partition` of `topic` move to node `to`, through Raft's
 * leadership transfer on this node's replica, which must be the ready leader. Returns
 *   0                  the transfer started (its outcome shows in Metadata within an election
 *                      timeout or so);
 *   SLUICE_EEXIST      `to` leads already;
 *   SLUICE_ENOTFOUND   no such topic or partition;
 *   SLUICE_EINVAL      `to` is not a replica of the partition (or not yet a voter of its group);
 *   SLUICE_ENOTLEADER  this node does not lead it: *leader is the leader this node knows, -1
 *                      when none;
 *   SLUICE_EBUSY       leadership is changing here already, or `to` is not connected;
 * with `errmsg` saying which. *leader is set in every case (-1 when unknown). */
int status_transfer(struct broker *b, const char *topic, int32_t partition, int32_t to,
		    int32_t *leader, char *errmsg);

#endif
