/*
 * endpoints: the admin HTTP routes (contract in endpoints.h).
 *
 * Happy path: the HTTP server hands over a parsed request head; the route is chosen by the raw
 * (undecoded) path; a path with parameters (the transfer) is split at '/' and each segment
 * percent-decoded; the answer is written into the response at once, except for a /metrics page
 * that takes more than one step to gather (status.h): that request is deferred, an idle handle
 * steps the scrape once per loop turn, and the page answers every request that waited for it.
 * A leadership transfer answers 202 once Raft started it; its outcome shows in Metadata.
 *
 * Failure modes: an unknown path is 404, a known one with another method 405 (with Allow), a
 * malformed parameter 400, a broker that is not running (before start, while stopping) 503,
 * as are waiting /metrics requests when the node stops or memory runs out. The transfer's own
 * answers are listed at transfer().
 *
 * Invariants:
 *   1. Every request gets exactly one status and a body; JSON answers are one object.
 *   2. Handlers only read broker state, except transfer(), which asks Raft for the move.
 *   3. The idle handle is active exactly while a scrape is in progress, and every waiter of a
 *      scrape is answered when it ends or is dropped (endpoints_stop), so the HTTP server can
 *      free its connections.
 */
#include "server/endpoints.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "admin/metrics.h"
#include "base/err.h"
#include "broker/status.h"
#include "broker/topics.h"

#define JSON_TYPE "application/json"

static void scrape_idle_cb(uv_idle_t *h);

void endpoints_init(struct endpoints *e, uv_loop_t *loop, struct broker *const *broker,
		    int64_t node_id)
{
	memset(e, 0, sizeof *e);
	e->broker = broker;
	e->node_id = node_id;
	e->started_ns = uv_hrtime();
	uv_idle_init(loop, &e->idle);
	e->idle.data = e;
}

static bool path_is(const struct http_request *req, const char *path)
{
	return req->path_len == strlen(path) && memcmp(req->path, path, req->path_len) == 0;
}

/* Answers 405 unless the request uses `method`; returns whether it does. */
static bool method_is(const struct http_request *req, struct http_response *resp,
		      enum http_method method)
{
	if (req->method == method)
		return true;
	resp->allow = method == HTTP_METHOD_GET ? "GET" : "POST";
	http_response_text(resp, 405, method == HTTP_METHOD_GET ? "use GET\n" : "use POST\n");
	return false;
}

static void not_running(struct http_response *resp)
{
	http_response_text(resp, 503, "the broker is not running\n");
}

/* Parses a decimal 0 .. INT32_MAX, the whole string. */
static bool parse_i32(const char *s, int32_t *out)
{
	int64_t v = 0;

	if (*s == '\0' || strlen(s) > 10)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	if (v > INT32_MAX)
		return false;
	*out = (int32_t)v;
	return true;
}

static void put(struct wbuf *w, const char *s)
{
	wbuf_put(w, s, strlen(s));
}

/* {"error": <msg>, "leader": <id>} with `status`. */
static void json_error(struct http_response *resp, int status, const char *msg, int32_t leader)
{
	char num[32];

	resp->status = status;
	resp->content_type = JSON_TYPE;
	resp->body.len = 0;
	put(&resp->body, "{\"error\":");
	http_put_json_string(&resp->body, msg, strlen(msg));
	snprintf(num, sizeof num, ",\"leader\":%" PRId32 "}\n", leader);
	put(&resp->body, num);
}

/* Writes the node's own families and then the broker's, from the finished scrape, into `m`
 * (initialised here; the caller frees it). Returns false when out of memory. */
static bool page_write(struct endpoints *e, struct broker *b, struct metrics *m)
{
	struct http_stats hs;
	char node[24];
	uint64_t now = uv_hrtime();

	metrics_init(m, e->metrics_bytes_last + e->metrics_bytes_last / 8);
	snprintf(node, sizeof node, "%" PRId64, e->node_id);
	struct metrics_label build[2] = { { "version", SLUICE_VERSION }, { "node_id", node } };
	metrics_family(m, "sluice_build_info", METRICS_GAUGE,
		       "always 1; the labels say which version runs as which node");
	metrics_u64(m, build, 2, 1);
	metrics_family(m, "sluice_uptime_seconds", METRICS_GAUGE, "seconds since the node started");
	metrics_f64(m, NULL, 0, (double)(now - e->started_ns) / 1e9);

	http_server_stats(e->http, &hs);
	metrics_family(m, "sluice_admin_http_connections_open", METRICS_GAUGE,
		       "admin HTTP connections open now (this scrape's included)");
	metrics_u64(m, NULL, 0, hs.connections_open);
	metrics_family(m, "sluice_admin_http_connections_rejected_total", METRICS_COUNTER,
		       "admin HTTP connections answered 503 at once because 64 were open");
	metrics_u64(m, NULL, 0, hs.connections_rejected);
	metrics_family(m, "sluice_admin_http_responses_total", METRICS_COUNTER,
		       "admin HTTP responses sent, by status class");
	for (int c = 1; c <= 5; c++) {
		char cls[4] = { (char)('0' + c), 'x', 'x', '\0' };
		struct metrics_label l = { "class", cls };
		metrics_u64(m, &l, 1, hs.responses[c]);
	}
	metrics_family(
		m, "sluice_admin_http_bad_requests_total", METRICS_COUNTER,
		"admin HTTP request heads refused by the parser (4xx/5xx without a handler)");
	metrics_u64(m, NULL, 0, hs.bad_requests);
	metrics_family(m, "sluice_admin_http_timeouts_total", METRICS_COUNTER,
		       "admin HTTP connections closed because a head, a deferred answer or a "
		       "response took over 10 s");
	metrics_u64(m, NULL, 0, hs.timeouts);
	metrics_family(m, "sluice_admin_metrics_build_seconds", METRICS_GAUGE,
		       "time the previous /metrics page took from the request to the page, the "
		       "loop turns between its steps included");
	metrics_f64(m, NULL, 0, e->metrics_build_s_last);
	metrics_family(
		m, "sluice_admin_metrics_turn_seconds", METRICS_GAUGE,
		"the longest time the previous /metrics page held the event loop in one turn");
	metrics_f64(m, NULL, 0, e->metrics_turn_s_last);

	status_scrape_write(b, e->scrape, m);
	if (m->out.oom)
		return false;
	e->metrics_bytes_last = m->out.len;
	return true;
}

/* One step of the scrape in progress; when it is the last, writes the page into `m` and ends the
 * scrape. Returns whether the scrape ended; *ok says whether it has a page. */
static bool scrape_step(struct endpoints *e, struct metrics *m, bool *ok)
{
	struct broker *b = *e->broker;
	uint64_t t0 = uv_hrtime();
	bool done = status_scrape_step(b, e->scrape, ENDPOINTS_STEP_REPLICAS,
				       ENDPOINTS_STEP_BUCKETS);

	if (done)
		*ok = page_write(e, b, m);
	uint64_t t1 = uv_hrtime();
	double turn = (double)(t1 - t0) / 1e9;
	if (turn > e->scrape_turn_s_max)
		e->scrape_turn_s_max = turn;
	if (!done)
		return false;
	e->metrics_build_s_last = (double)(t1 - e->scrape_started_ns) / 1e9;
	e->metrics_turn_s_last = e->scrape_turn_s_max;
	status_scrape_free(e->scrape);
	e->scrape = NULL;
	return true;
}

/* Answers every waiting request with the page (a copy each, the last takes the page itself),
 * or 503 when there is none. */
static void answer_waiters(struct endpoints *e, struct metrics *m, bool ok)
{
	size_t n = e->nwaiters;

	e->nwaiters = 0;
	for (size_t i = 0; i < n; i++) {
		struct http_response r = { .status = 200, .content_type = METRICS_CONTENT_TYPE };
		wbuf_init(&r.body);
		if (!ok) {
			http_response_text(&r, 503,
					   "cannot build the page (out of memory, or the "
					   "node is stopping)\n");
		} else if (i + 1 == n) {
			r.body = m->out;
			wbuf_init(&m->out);
		} else {
			wbuf_put(&r.body, m->out.data, m->out.len);
			if (r.body.oom)
				http_response_text(&r, 503, "out of memory\n");
		}
		http_conn_respond(e->waiters[i], &r);
		wbuf_free(&r.body);
	}
}

static void scrape_idle_cb(uv_idle_t *h)
{
	struct endpoints *e = h->data;
	struct metrics m;
	bool ok = false;

	if (!scrape_step(e, &m, &ok))
		return;
	uv_idle_stop(&e->idle);
	answer_waiters(e, &m, ok);
	metrics_free(&m);
}

static void metrics(struct endpoints *e, struct http_server *s, struct http_conn *c,
		    struct http_response *resp)
{
	struct metrics m;
	bool ok = false;

	if (*e->broker == NULL || e->stopped) {
		not_running(resp);
		return;
	}
	if (e->nwaiters == ENDPOINTS_WAITERS_MAX) {
		http_response_text(resp, 503, "too many /metrics requests waiting\n");
		return;
	}
	e->http = s;
	if (e->scrape == NULL) {
		e->scrape = status_scrape_new();
		if (e->scrape == NULL) {
			http_response_text(resp, 503, "out of memory\n");
			return;
		}
		e->scrape_started_ns = uv_hrtime();
		e->scrape_turn_s_max = 0;
		if (scrape_step(e, &m, &ok)) {
			/* A node with few replicas: the whole page in this turn. */
			if (ok) {
				resp->content_type = METRICS_CONTENT_TYPE;
				wbuf_free(&resp->body);
				resp->body = m.out; /* the response owns the page now */
			} else {
				metrics_free(&m);
				http_response_text(resp, 503, "out of memory building the page\n");
			}
			return;
		}
		uv_idle_start(&e->idle, scrape_idle_cb);
	}
	http_conn_defer(c);
	e->waiters[e->nwaiters++] = c;
}

void endpoints_stop(struct endpoints *e)
{
	struct metrics none;

	if (e->stopped)
		return;
	e->stopped = true;
	status_scrape_free(e->scrape);
	e->scrape = NULL;
	memset(&none, 0, sizeof none);
	answer_waiters(e, &none, false);
	uv_close((uv_handle_t *)&e->idle, NULL);
}

static void cluster(struct endpoints *e, struct http_response *resp)
{
	struct broker *b = *e->broker;

	if (b == NULL) {
		not_running(resp);
		return;
	}
	resp->content_type = JSON_TYPE;
	status_cluster_json(b, &resp->body);
}

/*
 * POST /v1/partitions/<topic>/<partition>/transfer?to=<node>, `rest` the path after
 * "/v1/partitions/". Answers (JSON):
 *   202 {"topic","partition","from","to","status":"started"}  the transfer started here;
 *   200 {... "status":"unchanged"}                              <node> leads already;
 *   400 malformed topic, partition or `to`;  404 no such topic or partition;
 *   409 <node> is not a replica (or not yet a voter);
 *   421 this node does not lead the partition: "leader" names the one it knows (-1: none), and
 *       the request should go to that node's admin endpoint;
 *   503 leadership is changing here already, or <node> is not connected (retry).
 */
static void transfer(struct endpoints *e, const struct http_request *req, const char *rest,
		     size_t n, struct http_response *resp)
{
	struct broker *b = *e->broker;
	char topic[TOPIC_NAME_BYTES_MAX + 1];
	char part[16], to_s[16];
	const char *slash1 = memchr(rest, '/', n);
	const char *slash2 = slash1 != NULL ?
				     memchr(slash1 + 1, '/', n - (size_t)(slash1 + 1 - rest)) :
				     NULL;
	int32_t partition, to, leader = -1;
	errmsg_t errmsg = "";

	if (slash2 == NULL || (size_t)(rest + n - slash2) != strlen("/transfer") ||
	    memcmp(slash2, "/transfer", strlen("/transfer")) != 0) {
		http_response_text(resp, 404, "not found\n");
		return;
	}
	if (!method_is(req, resp, HTTP_METHOD_POST))
		return;
	if (http_percent_decode(rest, (size_t)(slash1 - rest), false, topic, sizeof topic) != 0 ||
	    !topics_name_valid(topic, strlen(topic))) {
		json_error(resp, 400, "the topic is not a valid topic name", -1);
		return;
	}
	if (http_percent_decode(slash1 + 1, (size_t)(slash2 - slash1 - 1), false, part,
				sizeof part) != 0 ||
	    !parse_i32(part, &partition)) {
		json_error(resp, 400, "the partition is not a number", -1);
		return;
	}
	int rv = http_query_get(req, "to", to_s, sizeof to_s);
	if (rv != 0 || !parse_i32(to_s, &to)) {
		json_error(resp, 400,
			   rv == SLUICE_ENOTFOUND ? "missing ?to=<node id>" : "to is not a node id",
			   -1);
		return;
	}
	if (b == NULL) {
		not_running(resp);
		return;
	}
	rv = status_transfer(b, topic, partition, to, &leader, errmsg);
	switch (rv) {
	case 0:
	case SLUICE_EEXIST: {
		char tail[160];
		resp->status = rv == 0 ? 202 : 200;
		resp->content_type = JSON_TYPE;
		put(&resp->body, "{\"topic\":");
		http_put_json_string(&resp->body, topic, strlen(topic));
		snprintf(tail, sizeof tail,
			 ",\"partition\":%" PRId32 ",\"from\":%" PRId32 ",\"to\":%" PRId32
			 ",\"status\":\"%s\"}\n",
			 partition, leader, to, rv == 0 ? "started" : "unchanged");
		put(&resp->body, tail);
		return;
	}
	case SLUICE_ENOTFOUND:
		json_error(resp, 404, errmsg, leader);
		return;
	case SLUICE_EINVAL:
		json_error(resp, 409, errmsg, leader);
		return;
	case SLUICE_ENOTLEADER:
		json_error(resp, 421, errmsg, leader);
		return;
	default:
		json_error(resp, 503, errmsg, leader);
		return;
	}
}

void endpoints_handle(void *arg, struct http_server *s, struct http_conn *c,
		      const struct http_request *req, struct http_response *resp)
{
	struct endpoints *e = arg;
	static const char partitions[] = "/v1/partitions/";

	if (path_is(req, "/health")) {
		if (method_is(req, resp, HTTP_METHOD_GET))
			http_response_text(resp, 200, "ok\n");
	} else if (path_is(req, "/ready")) {
		if (!method_is(req, resp, HTTP_METHOD_GET))
			return;
		if (*e->broker != NULL && status_ready(*e->broker))
			http_response_text(resp, 200, "ready\n");
		else
			http_response_text(resp, 503, "not ready\n");
	} else if (path_is(req, "/metrics")) {
		if (method_is(req, resp, HTTP_METHOD_GET))
			metrics(e, s, c, resp);
	} else if (path_is(req, "/v1/cluster")) {
		if (method_is(req, resp, HTTP_METHOD_GET))
			cluster(e, resp);
	} else if (req->path_len > sizeof partitions - 1 &&
		   memcmp(req->path, partitions, sizeof partitions - 1) == 0) {
		transfer(e, req, req->path + sizeof partitions - 1,
			 req->path_len - (sizeof partitions - 1), resp);
	} else {
		http_response_text(resp, 404, "not found\n");
	}
}
