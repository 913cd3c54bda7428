/*
 * admin: what the cluster-facing commands (topics.c, groups.c) share: the common options
 * (--bootstrap, --timeout-ms, --json), a session holding the connections to the brokers, and the
 * requests several commands send (Metadata, FindCoordinator, ListOffsets routed to each
 * partition's leader).
 *
 * Happy path: admin_open() connects to the bootstrap broker; admin_metadata() learns the brokers
 * and topics; admin_node() / admin_coordinator() return connections to a given node or to a
 * group's coordinator, opened on first use and reused after; admin_close() closes them all.
 *
 * Failure modes: connection problems and protocol errors come back as negative SLUICE_E* codes
 * with a message ready for the operator (the caller prints it and exits 1). Kafka error codes in
 * responses are left to the commands, which know which object they concern, except for
 * FindCoordinator, whose error is the group's.
 *
 * Invariants:
 *   1. conns[0] is the bootstrap connection once admin_open() succeeded.
 *   2. At most one connection per HOST:PORT, at most ADMIN_CONNS_MAX in all.
 *   3. Everything decoded from a response stays valid until admin_close().
 */
#ifndef SLUICE_CLI_ADMIN_H
#define SLUICE_CLI_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/client.h"
#include "kafka/kafka.h"

#define ADMIN_BOOTSTRAP_DEFAULT "127.0.0.1:9092"
#define ADMIN_BOOTSTRAP_ENV "SLUICE_BOOTSTRAP"
/* Default bound on each connect, write and response wait. */
#define ADMIN_TIMEOUT_MS_DEFAULT 10000
/* Upper bound a user may ask for: a day is long enough for anything an admin command does. */
#define ADMIN_TIMEOUT_MS_MAX (24 * 3600 * 1000)
/* Connections one command may hold: one per broker it talks to. */
#define ADMIN_CONNS_MAX 64
/* Brokers remembered from Metadata; larger clusters are far beyond what Sluice runs. */
#define ADMIN_NODES_MAX 256
/* Scratch memory for the requests a command builds. */
#define ADMIN_SCRATCH_BYTES_MAX (64 * 1024 * 1024)

/* ListOffsets special timestamps (ListOffsetsRequest.json). */
#define ADMIN_OFFSET_LATEST (-1)
#define ADMIN_OFFSET_EARLIEST (-2)

/* ConfigResource types (DescribeConfigsRequest.json ResourceType). */
#define ADMIN_RESOURCE_TOPIC 2

struct admin_opts {
	const char *bootstrap;
	int timeout_ms;
	bool json;
};

/* Sets the defaults: bootstrap from $SLUICE_BOOTSTRAP or ADMIN_BOOTSTRAP_DEFAULT. */
void admin_opts_init(struct admin_opts *o);

/* Option parsing for commands. Both look at argv[*i] and return 1 when it was theirs (advancing
 * *i past a separate value), 0 when it was not, and -1 after printing a usage error to stderr.
 * admin_opt_value() matches "--name VALUE" and "--name=VALUE" and sets *value; admin_opt_common()
 * handles --bootstrap, --timeout-ms and --json. `cmd` names the command in messages. */
int admin_opt_value(const char *cmd, const char *name, int argc, char **argv, int *i,
		    const char **value);
int admin_opt_common(struct admin_opts *o, const char *cmd, int argc, char **argv, int *i);

/* A command's own options: like admin_opt_value(), returns 1 when argv[*i] was one of them
 * (advancing *i past a separate value), 0 when not, -1 after printing a usage error. */
typedef int (*admin_opt_fn)(void *ctx, const char *cmd, int argc, char **argv, int *i);

/* Parses a command's arguments argv[1..argc-1]: the common options, the command's own through
 * `opt` (may be NULL), and exactly `pos_n` positional arguments stored in pos[]. `usage` is the
 * synopsis printed on errors and for --help. Returns 0 to run the command, 1 when help was
 * printed (exit 0), -1 after a usage error was printed (exit 2). */
int admin_parse_args(const char *cmd, const char *usage, int argc, char **argv,
		     struct admin_opts *o, admin_opt_fn opt, void *ctx, const char **pos,
		     int pos_n);

/* Parses a decimal int64 that must use the whole string; returns false otherwise. */
bool admin_parse_i64(const char *s, int64_t *out);

struct admin_conn {
	char host[CLIENT_HOST_BYTES_MAX];
	int port;
	struct client c;
};

struct admin_node {
	int32_t id;
	char host[CLIENT_HOST_BYTES_MAX];
	int port;
	bool unreachable; /* connecting failed once: not tried again, each try costs the timeout */
};

struct admin {
	struct admin_opts o;
	struct admin_conn conns[ADMIN_CONNS_MAX];
	size_t conns_n;
	struct admin_node nodes[ADMIN_NODES_MAX];
	size_t nodes_n;
	struct arena scratch; /* request arrays built by commands */
};

/* Connects to the bootstrap broker. On failure returns a negative code with `msg` filled; in
 * both cases call admin_close(). */
int admin_open(struct admin *a, const struct admin_opts *o, char *msg);
void admin_close(struct admin *a);

/* Ends a command: prints `msg` when rv != 0, closes the connections, and returns the exit
 * status (CLI_EXIT_OK or CLI_EXIT_FAILED). */
int admin_finish(struct admin *a, int rv, const char *msg);

/* The exit status for admin_parse_args' result when it did not return a positive value (help
 * printed: OK; a usage error: USAGE). */
int admin_parsed_status(int rv);

/* Prints what a delete command removed: `{"deleted": NAME}` with --json, else
 * "deleted KIND 'NAME'". */
void admin_print_deleted(bool json, const char *kind, const char *name);

/* Returns the bootstrap connection. */
struct client *admin_boot(struct admin *a);

/* Returns `n` zeroed bytes of scratch memory valid until admin_close(), or NULL when out of
 * memory. */
void *admin_alloc(struct admin *a, size_t n);

/* Sends Metadata (v1+) for the `n` topics in `topics`, or for all topics when topics is NULL,
 * never asking for automatic creation, and remembers the brokers it lists. *out stays valid
 * until admin_close(). */
int admin_metadata(struct admin *a, const char *const *topics, size_t n,
		   struct kafka_metadata_response *out, char *msg);

/* Sets *out to a connection to broker `node_id` as listed by the last admin_metadata(). A broker
 * that could not be connected to once fails again at once (SLUICE_EIO), until the next
 * admin_metadata(). */
int admin_node(struct admin *a, int32_t node_id, struct client **out, char *msg);

/* Sets *out to a connection to host:port, opening it on first use. */
int admin_connect(struct admin *a, const char *host, int port, struct client **out, char *msg);

/* Finds `group`'s coordinator with FindCoordinator (v0-2), retrying while it is loading or not
 * yet available (bounded by the timeout), and sets *out to a connection to it. A Kafka error is
 * returned as SLUICE_EIO with "group 'G': ERROR_NAME" in `msg`. */
int admin_coordinator(struct admin *a, const char *group, struct client **out, char *msg);

/* One partition's ListOffsets query and answer. */
struct admin_tp {
	struct kafka_str topic;
	int32_t partition;
	int64_t timestamp; /* in: ADMIN_OFFSET_LATEST, ADMIN_OFFSET_EARLIEST or a time in ms */
	int64_t offset;    /* out: -1 when there is none (a timestamp after every record) */
	int16_t error;     /* out: Kafka error code for this partition */
};

/* Resolves every entry of `tps` with ListOffsets (v1+) sent to each partition's leader per `md`.
 * Per-partition problems (unknown partition, no leader, an error in the response) land in
 * tps[i].error; the return value is nonzero only when a broker could not be asked at all. */
int admin_list_offsets(struct admin *a, const struct kafka_metadata_response *md,
		       struct admin_tp *tps, size_t n, char *msg);

/* Like admin_list_offsets(), for commands that show what they can (topics describe): a broker
 * that cannot be asked (unreachable, timed out, ListOffsets unsupported) fails only its own
 * entries, with BROKER_NOT_AVAILABLE, and the reason is printed to stderr once per broker.
 * Returns nonzero only when out of memory. */
int admin_list_offsets_partial(struct admin *a, const struct kafka_metadata_response *md,
			       struct admin_tp *tps, size_t n, char *msg);

/* Finds `topic` in a Metadata response, or NULL. */
const struct kafka_metadata_response_metadata_response_topic *
admin_md_topic(const struct kafka_metadata_response *md, struct kafka_str topic);

/* Prints "sluice: MSG" to stderr. */
void admin_print_error(const char *msg);

#endif
