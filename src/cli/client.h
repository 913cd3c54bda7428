/*
 * client: one blocking Kafka-protocol connection for the CLI, built on the pure codec in
 * src/kafka/. The CLI runs one command and exits, so a plain blocking socket with poll()-bounded
 * reads and writes is simpler and clearer than an event loop.
 *
 * Happy path: client_open() resolves and connects (bounded by the timeout), sends ApiVersions
 * (v2, or v0 when the broker answers UNSUPPORTED_VERSION per KIP-511) and remembers the ranges the
 * broker advertises; client_version() picks the highest version both sides speak inside the
 * range a command asks for; client_call() sends one request and decodes its response.
 *
 * Failure modes: every connect, write and read waits at most `timeout_ms` (SLUICE_ETIMEDOUT);
 * refused or reset connections give SLUICE_EIO; a response frame that is too large, truncated,
 * carries the wrong correlation id or does not decode gives SLUICE_EMALFORMED. Each error fills
 * the caller's errmsg with "HOST:PORT: what happened". After an error the connection is closed and
 * further calls fail with SLUICE_ECLOSED.
 *
 * Invariants:
 *   1. fd >= 0 exactly while the connection is usable.
 *   2. Requests and responses strictly alternate (one in flight), so a response's correlation id
 *      must equal the id of the request just sent.
 *   3. Decoded responses (strings, bytes, arrays) stay valid until client_close(): the client
 *      keeps every response frame and its arena for its whole life. The CLI makes a handful of
 *      calls per run, so this is bounded by CLIENT_FRAME_BYTES_MAX times that handful.
 */
#ifndef SLUICE_CLI_CLIENT_H
#define SLUICE_CLI_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "kafka/arena.h"

/* Largest response frame accepted: far above any admin response we expect, and small enough that
 * a garbage size prefix (e.g. an HTTP server answering) cannot make us allocate much. */
#define CLIENT_FRAME_BYTES_MAX (64 * 1024 * 1024)
/* Limit on the arena that holds decoded arrays of all responses of one connection. */
#define CLIENT_ARENA_BYTES_MAX (256 * 1024 * 1024)
/* API keys above this are not remembered from ApiVersions (Kafka's keys stay far below it). */
#define CLIENT_API_KEYS_MAX 128
#define CLIENT_HOST_BYTES_MAX 256

struct client_frame;

struct client {
	int fd;
	char host[CLIENT_HOST_BYTES_MAX];
	int port;
	int timeout_ms;
	int32_t correlation_id;
	/* Versions the broker advertised, min > max when it did not list the key. */
	int16_t api_min[CLIENT_API_KEYS_MAX];
	int16_t api_max[CLIENT_API_KEYS_MAX];
	struct arena arena;
	struct client_frame *frames; /* every response frame received, newest first */
};

/* Splits "HOST:PORT" (or "[V6ADDR]:PORT") into `host` (a buffer of CLIENT_HOST_BYTES_MAX) and
 * *port. Returns 0 or SLUICE_EINVAL with a message in `msg`. */
int client_parse_address(const char *addr, char *host, int *port, char *msg);

/* Connects to host:port and negotiates API versions. On success returns 0 and `c` must be closed
 * with client_close(); on failure returns a negative code, fills `msg`, and `c` needs no close
 * (closing it anyway is allowed). */
int client_open(struct client *c, const char *host, int port, int timeout_ms, char *msg);

/* Returns the highest version of `api_key` in [lo, hi] that both the broker (per ApiVersions)
 * and the codec support, or -1 when there is none. */
int client_version(const struct client *c, int16_t api_key, int16_t lo, int16_t hi);

/* Sends `req` (the API's request struct) as `api_key` at `version` and decodes the response into
 * `resp` (the API's response struct, overwritten). The decoded response stays valid until
 * client_close(). Returns 0 or a negative code with `msg` filled. */
int client_call(struct client *c, int16_t api_key, int16_t version, const void *req, void *resp,
		char *msg);

/* Like client_call(), choosing the version with client_version(c, api_key, lo, hi); fails with
 * SLUICE_EVERSION and a message naming the API when the broker supports none of them. The
 * version used is stored in *version_out when it is not NULL. */
int client_call_range(struct client *c, int16_t api_key, int16_t lo, int16_t hi, const void *req,
		      void *resp, int16_t *version_out, char *msg);

/* Closes the socket and frees every response. Accepts a client whose client_open() failed. */
void client_close(struct client *c);

#endif
