/*
 * server_config: the keys of a node's properties file (node.properties), their types, limits,
 * defaults and one line of documentation each, and the checks that span a key's text or several
 * keys (a listener's host:port form, message.max.bytes <= socket.request.max.bytes).
 *
 * The schema is data handed to src/base/config, which parses files and --key=value overrides
 * against it; server_config_check() runs once after all of them are applied. docs/configuration.md
 * lists the same keys; `sluice-server --help` prints them from this table.
 */
#ifndef SLUICE_SERVER_SERVER_CONFIG_H
#define SLUICE_SERVER_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/config.h"

struct server_config {
	int64_t node_id;
	char listeners[CONFIG_STRING_BYTES_MAX];
	char advertised_listeners[CONFIG_STRING_BYTES_MAX];
	char peer_listener[CONFIG_STRING_BYTES_MAX];
	char http_listener[CONFIG_STRING_BYTES_MAX];
	char controller_quorum_voters[CONFIG_STRING_BYTES_MAX];
	char log_dirs[CONFIG_STRING_BYTES_MAX];
	char log_level[CONFIG_STRING_BYTES_MAX];
	int64_t num_partitions;
	int64_t default_replication_factor;
	bool auto_create_topics_enable;
	int64_t log_segment_bytes;
	int64_t log_roll_ms;
	int64_t log_retention_ms;
	int64_t log_retention_bytes;
	int64_t log_retention_check_interval_ms;
	int64_t log_index_interval_bytes;
	int64_t message_max_bytes;
	int64_t socket_request_max_bytes;
	int64_t inflight_requests_per_connection_max;
	int64_t offsets_topic_num_partitions;
	int64_t offsets_topic_replication_factor;
	int64_t raft_heartbeat_ms;
	bool auto_leader_rebalance_enable;
	int64_t raft_election_ms;
	int64_t offsets_retention_minutes;
	int64_t group_min_session_timeout_ms;
	int64_t group_max_session_timeout_ms;
	int64_t group_initial_rebalance_delay_ms;
	int64_t group_consumer_heartbeat_interval_ms;
	int64_t group_consumer_session_timeout_ms;
};

extern const struct config_key server_config_schema[];
extern const size_t server_config_schema_len;

/* Fills `c` with every key's default. Returns 0, or SLUICE_ECONFIG with `errmsg` set if the
 * schema itself is wrong (a bug). */
int server_config_defaults(struct server_config *c, char *errmsg);

/* Checks what the schema's per-key limits cannot: the form of listener addresses and voter lists,
 * log.level's name, a single directory in log.dirs, and relations between keys. Returns 0, or
 * SLUICE_ECONFIG with a message that names the key ("listeners: 'x' is not
 * PLAINTEXT://host:port"). */
int server_config_check(const struct server_config *c, char *errmsg);

/* Writes every key with its default and documentation, one key per two lines, to `out`. */
void server_config_print_keys(FILE *out);

#endif
