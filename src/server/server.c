/*
 * server: start-up, signals and orderly shutdown of a node (see server.h).
 *
 * Happy path: server_start() creates and locks log.dirs, installs SIGINT and SIGTERM handlers,
 * starts the admin HTTP endpoint (http.listener, unless empty) and the broker; the cluster logs
 * "ready" later; server_run() runs the loop; a signal calls server_stop(), which closes every
 * handle (the broker, then the endpoint, then the signals); the loop then has nothing left and
 * returns; server_close() closes the loop and drops the lock; main exits 0.
 *
 * Failure modes handled:
 *   - log.dirs locked by another node, or not creatable: server_start() fails with the reason;
 *     nothing is left running.
 *   - http.listener taken or not resolvable: server_start() fails naming the key and the
 *     address, before any partition is opened.
 *   - A second SIGINT/SIGTERM during shutdown: the handlers are closed by then, so the default
 *     action applies and the process ends at once (an operator's way to insist).
 *
 * Invariants:
 *   1. State moves only NEW -> RUNNING -> STOPPING -> CLOSED, or NEW -> CLOSED on a failed start.
 *   2. In CLOSED no handle is open and the lock is released.
 */
#include "server/server.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/slog.h"

#define MODULE "server"

static void move(struct server *s, enum server_state to)
{
	static const bool allowed[4][4] = {
		[SERVER_NEW] = { [SERVER_RUNNING] = true, [SERVER_CLOSED] = true },
		[SERVER_RUNNING] = { [SERVER_STOPPING] = true },
		[SERVER_STOPPING] = { [SERVER_CLOSED] = true },
	};

	assert(allowed[s->state][to]);
	s->state = to;
}

static const char *signal_name(int signum)
{
	switch (signum) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	default:
		return "other";
	}
}

static void server_signal_cb(uv_signal_t *handle, int signum)
{
	struct server *s = handle->data;

	SLOG_INFO(MODULE, "msg=\"stopping\" signal=%s", signal_name(signum));
	s->stop_signal = signum;
	server_stop(s);
}

/* Starts handling `signum` on `h`. Returns 0 or SLUICE_EIO with `errmsg`. */
static int start_signal(struct server *s, uv_signal_t *h, int signum, char *errmsg)
{
	int rc = uv_signal_init(&s->loop, h);

	if (rc == 0) {
		h->data = s;
		rc = uv_signal_start(h, server_signal_cb, signum);
		if (rc != 0)
			uv_close((uv_handle_t *)h, NULL);
	}
	if (rc != 0) {
		errmsg_printf(errmsg, "cannot handle %s: %s", signal_name(signum), uv_strerror(rc));
		return SLUICE_EIO;
	}
	return 0;
}

/* Splits "PLAINTEXT://host:port" (already checked by server_config_check) into host and port. */
static void parse_listener(const char *l, char *host, size_t n, int *port)
{
	const char *hp = strstr(l, "://");
	const char *colon;

	hp = hp != NULL ? hp + 3 : l;
	colon = strrchr(hp, ':');
	*port = colon != NULL ? atoi(colon + 1) : 9092;
	size_t len = colon != NULL ? (size_t)(colon - hp) : strlen(hp);
	if (len > 1 && hp[0] == '[' && hp[len - 1] == ']') {
		hp++;
		len -= 2;
	}
	if (len >= n)
		len = n - 1;
	memcpy(host, hp, len);
	host[len] = '\0';
}

/* Maps the node's configuration onto the broker's. */
static void broker_config_from(const struct server_config *c, struct broker_config *bc)
{
	memset(bc, 0, sizeof *bc);
	bc->node_id = (int32_t)c->node_id;
	parse_listener(c->peer_listener, bc->peer_host, sizeof bc->peer_host, &bc->peer_port);
	/* id@host:port,... (checked by server_config_check). */
	for (const char *v = c->controller_quorum_voters; *v != '\0' && bc->nvoters < BROKER_VOTERS_MAX;) {
		const char *end = strchr(v, ',');
		size_t n = end ? (size_t)(end - v) : strlen(v);
		char item[CONFIG_STRING_BYTES_MAX];
		snprintf(item, sizeof item, "%.*s", (int)n, v);
		char *at = strchr(item, '@');
		if (at != NULL) {
			struct broker_voter *bv = &bc->voters[bc->nvoters++];
			bv->id = (int32_t)strtol(item, NULL, 10);
			parse_listener(at + 1, bv->host, sizeof bv->host, &bv->port);
		}
		v += n;
		if (*v == ',')
			v++;
	}
	bc->raft_heartbeat_ms = (unsigned)c->raft_heartbeat_ms;
	bc->raft_election_ms = (unsigned)c->raft_election_ms;
	bc->offsets_replication_factor = (int16_t)c->offsets_topic_replication_factor;
	bc->auto_leader_rebalance = c->auto_leader_rebalance_enable;
	parse_listener(c->listeners, bc->host, sizeof bc->host, &bc->port);
	if (c->advertised_listeners[0] != '\0')
		parse_listener(c->advertised_listeners, bc->advertised_host,
			       sizeof bc->advertised_host, &bc->advertised_port);
	snprintf(bc->log_dir, sizeof bc->log_dir, "%s", c->log_dirs);
	bc->num_partitions = (int32_t)c->num_partitions;
	bc->default_replication_factor = (int16_t)c->default_replication_factor;
	bc->auto_create_topics_enable = c->auto_create_topics_enable;
	bc->message_max_bytes = (int32_t)c->message_max_bytes;
	bc->socket_request_max_bytes = (size_t)c->socket_request_max_bytes;
	bc->inflight_requests_max = (uint32_t)c->inflight_requests_per_connection_max;
	plog_config_default(&bc->log);
	bc->log.segment_bytes = (uint64_t)c->log_segment_bytes;
	bc->log.roll_ms = c->log_roll_ms;
	bc->log.retention_ms = c->log_retention_ms;
	bc->log.retention_bytes = c->log_retention_bytes;
	bc->log.index_interval_bytes = (uint32_t)c->log_index_interval_bytes;
	bc->retention_check_interval_ms = c->log_retention_check_interval_ms;
	bc->offsets_topic_num_partitions = (int32_t)c->offsets_topic_num_partitions;
	bc->offsets_retention_ms = c->offsets_retention_minutes * 60 * 1000;
	bc->group.session_timeout_min_ms = (int32_t)c->group_min_session_timeout_ms;
	bc->group.session_timeout_max_ms = (int32_t)c->group_max_session_timeout_ms;
	bc->group.initial_rebalance_delay_ms = (int32_t)c->group_initial_rebalance_delay_ms;
	cgroup_config_default(&bc->cgroup);
	bc->cgroup.heartbeat_interval_ms = (int32_t)c->group_consumer_heartbeat_interval_ms;
	bc->cgroup.session_timeout_ms = (int32_t)c->group_consumer_session_timeout_ms;
}

/* Closes whatever handles are still open and lets their close callbacks run, so the loop can be
 * closed; used on a failed start. */
static void close_all_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void drain_loop(uv_loop_t *loop)
{
	uv_walk(loop, close_all_cb, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	int rc = uv_loop_close(loop);

	assert(rc == 0);
	(void)rc;
}

int server_start(struct server *s, const struct server_config *config, char *errmsg)
{
	int rc;

	memset(s, 0, sizeof *s);
	s->state = SERVER_NEW;
	s->config = *config;
	s->datadir.lock_fd = -1;

	SLOG_INFO(MODULE,
		  "msg=\"starting\" node_id=%lld version=%s log_dirs=\"%s\" listeners=\"%s\" "
		  "peer_listener=\"%s\" http_listener=\"%s\"",
		  (long long)s->config.node_id, SLUICE_VERSION, s->config.log_dirs,
		  s->config.listeners, s->config.peer_listener, s->config.http_listener);

	rc = uv_loop_init(&s->loop);
	if (rc != 0) {
		errmsg_printf(errmsg, "cannot create the event loop: %s", uv_strerror(rc));
		rc = SLUICE_EIO;
		goto err;
	}
	rc = datadir_open(&s->datadir, s->config.log_dirs, errmsg);
	if (rc != 0)
		goto err_after_loop;
	rc = start_signal(s, &s->sigint, SIGINT, errmsg);
	if (rc != 0)
		goto err_after_datadir;
	rc = start_signal(s, &s->sigterm, SIGTERM, errmsg);
	if (rc != 0)
		goto err_after_datadir;

	/* The admin endpoint first, so that a taken http.listener fails the start before the
	 * partitions are opened; it answers 503 where it needs the broker until the broker runs
	 * (the loop does not run before then anyway). */
	endpoints_init(&s->endpoints, &s->loop, &s->broker, s->config.node_id);
	if (s->config.http_listener[0] != '\0') {
		char host[256];
		int port;
		struct http_limits lim;

		parse_listener(s->config.http_listener, host, sizeof host, &port);
		http_limits_default(&lim);
		rc = http_server_start(&s->loop, host, port, &lim, endpoints_handle, &s->endpoints,
				       &s->http, errmsg);
		if (rc != 0) {
			errmsg_wrapf(errmsg, "http.listener");
			goto err_after_datadir;
		}
	} else {
		SLOG_INFO(MODULE, "msg=\"admin http disabled\" reason=\"http.listener is empty\"");
	}

	/* The storage layer, the Kafka listener and the peer transport. */
	struct broker_config bc;
	broker_config_from(&s->config, &bc);
	if (strlen(s->config.log_dirs) >= sizeof bc.log_dir) {
		errmsg_printf(errmsg, "log.dirs: path longer than %zu bytes", sizeof bc.log_dir - 1);
		rc = SLUICE_ECONFIG;
		goto err_after_http;
	}
	rc = broker_start(&s->broker, &s->loop, &bc, errmsg);
	if (rc != 0)
		goto err_after_http;

	move(s, SERVER_RUNNING);
	/* "ready" comes from the cluster once this node is registered in the metadata image
	 * (cluster.c); until then clients get retriable errors. */
	SLOG_INFO(MODULE, "msg=\"started\"");
	return 0;

err_after_http:
	endpoints_stop(&s->endpoints);
	if (s->http != NULL) {
		http_server_stop(s->http, NULL, NULL); /* freed by drain_loop's run */
		s->http = NULL;
	}
err_after_datadir:
	datadir_close(&s->datadir);
err_after_loop:
	drain_loop(&s->loop);
err:
	move(s, SERVER_CLOSED);
	return rc;
}

int server_run(struct server *s)
{
	assert(s->state == SERVER_RUNNING || s->state == SERVER_STOPPING);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	assert(s->state == SERVER_STOPPING);
	return 0;
}

void server_stop(struct server *s)
{
	if (s->state != SERVER_RUNNING)
		return;
	move(s, SERVER_STOPPING);
	/* Subsystems close here in the reverse of their start order, before the signals. The
	 * broker flushes every partition before it lets go; a /metrics scrape in progress reads
	 * the broker, so it is dropped first. */
	endpoints_stop(&s->endpoints);
	if (s->broker != NULL) {
		broker_stop(s->broker, NULL, NULL);
		s->broker = NULL;
	}
	if (s->http != NULL) {
		http_server_stop(s->http, NULL, NULL);
		s->http = NULL;
	}
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	uv_close((uv_handle_t *)&s->sigint, NULL);
}

void server_close(struct server *s)
{
	assert(s->state == SERVER_STOPPING);
	int rc = uv_loop_close(&s->loop);

	if (rc != 0) {
		/* A handle some subsystem forgot to close: a bug, but not a reason to leave the
		 * lock held or exit non-zero after an orderly stop. */
		SLOG_WARN(MODULE, "msg=\"handles left open at shutdown\" error=\"%s\"",
			  uv_strerror(rc));
		drain_loop(&s->loop);
	}
	datadir_close(&s->datadir);
	move(s, SERVER_CLOSED);
	SLOG_INFO(MODULE, "msg=\"stopped\"");
}
