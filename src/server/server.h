/*
 * server: one Sluice node's lifetime: start-up, the event loop, orderly shutdown.
 *
 * struct server owns the libuv loop and every subsystem that lives on it: the data directory
 * lock, the signal handlers, the admin HTTP endpoint (http.listener) and the broker (the Kafka
 * listener, the partitions, the peer transport), each started in server_start() in dependency
 * order and closed in server_stop() in reverse.
 *
 *   server_start()  -> RUNNING   (logs the start-up line and then msg="ready")
 *   server_run()       runs the loop until every handle is closed
 *   server_stop()   -> STOPPING  (SIGINT/SIGTERM call it; so may a fatal subsystem error)
 *   server_close()  -> CLOSED    (after server_run returns: loop closed, lock released)
 */
#ifndef SLUICE_SERVER_SERVER_H
#define SLUICE_SERVER_SERVER_H

#include <uv.h>

#include "admin/http.h"
#include "broker/broker.h"
#include "server/datadir.h"
#include "server/endpoints.h"
#include "server/server_config.h"

enum server_state {
	SERVER_NEW,      /* zeroed, nothing acquired */
	SERVER_RUNNING,  /* everything started; the loop may run */
	SERVER_STOPPING, /* handles closing; the loop ends when they are closed */
	SERVER_CLOSED,   /* loop closed, lock released */
};

struct server {
	struct server_config config;
	enum server_state state;
	uv_loop_t loop;
	uv_signal_t sigint;
	uv_signal_t sigterm;
	struct datadir datadir;
	struct http_server *http; /* the admin endpoint; NULL when disabled or once stopped */
	struct endpoints endpoints; /* what it answers; reads `broker` */
	struct broker *broker; /* the Kafka listener and the partitions; NULL once stopped */
	int stop_signal; /* the signal that asked us to stop, 0 if none */
};

/* Starts the node with a copy of `config` (already checked by server_config_check). On success
 * the server is RUNNING and owns its loop and lock; on failure everything acquired is released,
 * the server is CLOSED, and `errmsg` says why. Returns 0, SLUICE_EBUSY (data directory in use by
 * another node) or another SLUICE_E* code. */
int server_start(struct server *s, const struct server_config *config, char *errmsg);

/* Runs the loop until server_stop() has closed every handle. Returns 0. */
int server_run(struct server *s);

/* Begins an orderly shutdown: closes the subsystems' handles so the loop can end. Idempotent;
 * call it from a loop callback. */
void server_stop(struct server *s);

/* After server_run() returns: closes the loop and releases the data directory. */
void server_close(struct server *s);

#endif
