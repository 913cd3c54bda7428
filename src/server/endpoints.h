/*
 * endpoints: what the admin HTTP endpoint (http.listener) answers — the routes over the HTTP
 * server in src/admin/http.h and the broker's views in src/broker/status.h.
 *
 *   GET  /metrics                                  Prometheus text format 0.0.4
 *   GET  /health                                   200 "ok" while the loop runs
 *   GET  /ready                                    200 once the node logged msg="ready", else 503
 *   GET  /v1/cluster                               the cluster as this node sees it (JSON)
 *   POST /v1/partitions/<topic>/<partition>/transfer?to=<node>
 *                                                  move the partition's leadership to <node>
 *
 * A known path with another method gets 405 and an Allow field; anything else 404. Every
 * endpoint, its answers and every metric are documented in docs/operations.md.
 *
 * /metrics is gathered over several loop turns when the node holds many replicas (see
 * src/broker/status.h): the request is answered later (http_conn_defer), and requests that
 * arrive meanwhile wait for the same page. Each turn does at most ENDPOINTS_STEP_REPLICAS
 * replicas and ENDPOINTS_STEP_BUCKETS buckets of the committed-offsets table.
 */
#ifndef SLUICE_SERVER_ENDPOINTS_H
#define SLUICE_SERVER_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "admin/http.h"

/* Replicas read per loop turn: reading one costs about a microsecond and a half (cold memory),
 * so a turn stays near 1.5 ms however many replicas the node holds. */
#define ENDPOINTS_STEP_REPLICAS 1000
/* Buckets of the committed-offsets table walked per loop turn (about two entries each). */
#define ENDPOINTS_STEP_BUCKETS 2048
/* Requests waiting for the /metrics page being gathered; the HTTP server's connection limit
 * (64) bounds them anyway. */
#define ENDPOINTS_WAITERS_MAX 64

struct broker;
struct status_scrape;

struct endpoints {
	/* The server's broker slot: NULL before the broker started and once it stops, and the
	 * endpoints that need the broker answer 503 then. */
	struct broker *const *broker;
	int64_t node_id;
	uint64_t started_ns;         /* uv_hrtime() at endpoints_init, for the uptime */
	size_t metrics_bytes_last;   /* size of the last /metrics page, to size the next */
	double metrics_build_s_last; /* how long gathering and writing it took, turns included */
	double metrics_turn_s_last;  /* the longest loop turn it took */
	/* The /metrics page being gathered (scrape != NULL), stepped from `idle`, and the
	 * requests waiting for it. */
	uv_idle_t idle;
	struct status_scrape *scrape;
	uint64_t scrape_started_ns;
	double scrape_turn_s_max;
	struct http_server *http;
	struct http_conn *waiters[ENDPOINTS_WAITERS_MAX];
	size_t nwaiters;
	bool stopped;
};

/* Sets `e` up on `loop` (an idle handle, inactive until a scrape needs it). */
void endpoints_init(struct endpoints *e, uv_loop_t *loop, struct broker *const *broker,
		    int64_t node_id);

/* Drops the scrape in progress, answers its waiters 503 and closes the idle handle. Call before
 * the broker stops (the scrape reads it) and before the loop closes. Idempotent. */
void endpoints_stop(struct endpoints *e);

/* The HTTP handler (http_handler_fn); `arg` is the struct endpoints. */
void endpoints_handle(void *arg, struct http_server *s, struct http_conn *c,
		      const struct http_request *req, struct http_response *resp);

#endif
