/*
 * server_config: the schema of node.properties and the checks across keys (see server_config.h).
 *
 * Every key is a row of server_config_schema: name, type, where the value lands in struct
 * server_config, limits, default and one line of documentation. Adding a key is adding a field
 * and a row; src/base/config does the parsing, `sluice-server --help` and docs/configuration.md
 * show the rows.
 *
 * Failure modes: text the schema cannot judge (listener addresses, voter lists, level names) is
 * checked by server_config_check() and rejected with SLUICE_ECONFIG and a message that starts
 * with the key's name.
 *
 * Invariants:
 *   1. Every row's default passes its own limits and server_config_check() (a test of the
 *      defaults is the server starting with no file at all).
 *   2. Names are Kafka's where Kafka has the same setting, so an operator's habits carry over.
 */
#include "server/server_config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/slog.h"

/* Kafka sizes and counts travel as int32 on the wire. */
#define INT32_LIMIT INT64_C(2147483647)
#define DAY_MS (INT64_C(24) * 60 * 60 * 1000)

#define FIELD(name) offsetof(struct server_config, name)

const struct config_key server_config_schema[] = {
	{ "node.id", CONFIG_INT, FIELD(node_id), 0, INT32_LIMIT, "1",
	  "this node's id, unique in the cluster (Kafka's broker id)" },
	{ "listeners", CONFIG_STRING, FIELD(listeners), 0, 0, "PLAINTEXT://127.0.0.1:9092",
	  "where Kafka clients connect: PLAINTEXT://host:port (one listener for now)" },
	{ "advertised.listeners", CONFIG_STRING, FIELD(advertised_listeners), 0, 0, "",
	  "the address given to clients in Metadata answers; empty = the same as listeners" },
	{ "peer.listener", CONFIG_STRING, FIELD(peer_listener), 0, 0, "127.0.0.1:9192",
	  "host:port for node-to-node traffic (Raft messages of every group, forwarding)" },
	{ "http.listener", CONFIG_STRING, FIELD(http_listener), 0, 0, "127.0.0.1:9644",
	  "host:port of the admin HTTP endpoint (/metrics, /health, /ready, /v1/cluster, "
	  "/v1/partitions); port 0 picks a free port (logged); empty disables it" },
	{ "controller.quorum.voters", CONFIG_STRING, FIELD(controller_quorum_voters), 0, 0, "",
	  "voters of the metadata Raft group as id@host:port,... (their peer listeners); empty = "
	  "this node alone" },
	{ "log.dirs", CONFIG_STRING, FIELD(log_dirs), 0, 0, "/tmp/sluice-data",
	  "directory holding this node's partitions (one directory; created if missing, locked "
	  "while the node runs)" },
	{ "log.level", CONFIG_STRING, FIELD(log_level), 0, 0, "info",
	  "least severe log level written: debug, info, warn or error" },
	{ "num.partitions", CONFIG_INT, FIELD(num_partitions), 1, 10000, "1",
	  "partitions of a topic created without a count (auto-created topics too)" },
	{ "default.replication.factor", CONFIG_INT, FIELD(default_replication_factor), 1, 7, "1",
	  "replicas of a topic created without a replication factor (more than 7 voters only "
	  "slows commits)" },
	{ "auto.create.topics.enable", CONFIG_BOOL, FIELD(auto_create_topics_enable), 0, 0, "true",
	  "create a topic when a client asks for metadata of or produces to one that does not "
	  "exist" },
	/* Segment positions are 32-bit in the offset index; 64 KiB keeps a segment above the
	 * largest index interval and lets tests roll often. */
	{ "log.segment.bytes", CONFIG_INT, FIELD(log_segment_bytes), 64 * 1024, INT32_LIMIT, "1g",
	  "roll to a new segment file when the next batch would pass this size" },
	{ "log.roll.ms", CONFIG_INT, FIELD(log_roll_ms), 1, 365 * 100 * DAY_MS, "604800000",
	  "roll to a new segment when the active one is this old (ms; default 7 days)" },
	{ "log.retention.ms", CONFIG_INT, FIELD(log_retention_ms), -1, INT64_MAX, "604800000",
	  "delete closed segments whose newest record is older than this (ms; default 7 days; "
	  "-1 = keep forever)" },
	{ "log.retention.bytes", CONFIG_INT, FIELD(log_retention_bytes), -1, INT64_MAX, "-1",
	  "delete a partition's oldest closed segments beyond this size (-1 = no size limit)" },
	/* Below 10 ms the retention scan would cost more than it frees. */
	{ "log.retention.check.interval.ms", CONFIG_INT, FIELD(log_retention_check_interval_ms), 10,
	  DAY_MS, "300000", "how often retention looks for segments to delete (ms)" },
	/* An index entry per batch at least; above 16 MiB a lookup scans too much log. */
	{ "log.index.interval.bytes", CONFIG_INT, FIELD(log_index_interval_bytes), 1,
	  16 * 1024 * 1024, "4096",
	  "bytes of log between entries of the sparse offset and time indexes" },
	/* 64 bytes is less than any RecordBatch header, so the minimum only rejects nonsense. */
	{ "message.max.bytes", CONFIG_INT, FIELD(message_max_bytes), 64, INT32_LIMIT, "1048588",
	  "largest record batch a producer may send (after compression), in bytes" },
	{ "socket.request.max.bytes", CONFIG_INT, FIELD(socket_request_max_bytes), 1024,
	  INT32_LIMIT, "104857600",
	  "largest request a client may send; bigger ones close the connection" },
	/* Bounds the memory one client can make the node hold: requests read but not yet
	 * answered. Kafka's queued.max.requests is the same idea for the whole broker. */
	{ "inflight.requests.per.connection.max", CONFIG_INT,
	  FIELD(inflight_requests_per_connection_max), 1, 10000, "100",
	  "requests read from one connection and not yet answered; the node stops reading the "
	  "connection at this count" },
	{ "offsets.topic.num.partitions", CONFIG_INT, FIELD(offsets_topic_num_partitions), 1, 1000,
	  "50", "partitions of the internal topic __consumer_offsets (fixed when it is first "
	  "created)" },
	{ "offsets.topic.replication.factor", CONFIG_INT, FIELD(offsets_topic_replication_factor),
	  1, 7, "3", "replicas of __consumer_offsets' partitions (fewer when the cluster has fewer "
	  "nodes when it is created)" },
	{ "auto.leader.rebalance.enable", CONFIG_BOOL, FIELD(auto_leader_rebalance_enable), 0, 0,
	  "true", "every 10 s, move each partition's leadership back to its preferred replica "
	  "(the first in its replica list) through Raft leadership transfer" },
	{ "raft.heartbeat.ms", CONFIG_INT, FIELD(raft_heartbeat_ms), 10, 10000, "200",
	  "Raft heartbeat interval of every replica group (and the tick of all groups)" },
	{ "raft.election.timeout.ms", CONFIG_INT, FIELD(raft_election_ms), 100, 60000, "1000",
	  "Raft election timeout (randomised between 1x and 2x); a leader that cannot reach a "
	  "majority for this long steps down" },
	{ "offsets.retention.minutes", CONFIG_INT, FIELD(offsets_retention_minutes), 0,
	  INT32_LIMIT, "10080", "committed offsets of a group without members expire this long "
	  "after their commit (7 days); 0 keeps them forever" },
	{ "group.min.session.timeout.ms", CONFIG_INT, FIELD(group_min_session_timeout_ms), 1,
	  INT32_LIMIT, "6000", "shortest session timeout a consumer-group member may ask for" },
	{ "group.max.session.timeout.ms", CONFIG_INT, FIELD(group_max_session_timeout_ms), 1,
	  INT32_LIMIT, "1800000", "longest session timeout a consumer-group member may ask for" },
	{ "group.initial.rebalance.delay.ms", CONFIG_INT, FIELD(group_initial_rebalance_delay_ms),
	  0, INT32_LIMIT, "3000", "how long an empty group's first rebalance waits for more "
	  "members to join" },
	{ "group.consumer.heartbeat.interval.ms", CONFIG_INT,
	  FIELD(group_consumer_heartbeat_interval_ms), 1, INT32_LIMIT, "5000",
	  "heartbeat interval the coordinator gives consumer-protocol (KIP-848) members" },
	{ "group.consumer.session.timeout.ms", CONFIG_INT,
	  FIELD(group_consumer_session_timeout_ms), 1, INT32_LIMIT, "45000",
	  "how long a consumer-protocol (KIP-848) member may stay silent before it is removed" },
};

const size_t server_config_schema_len = sizeof server_config_schema /
					sizeof server_config_schema[0];

int server_config_defaults(struct server_config *c, char *errmsg)
{
	memset(c, 0, sizeof *c);
	return config_defaults(server_config_schema, server_config_schema_len, c, errmsg);
}

/* Parses a port: port_min (0 or 1) to 65535 in decimal, the whole of [p, end). */
static bool parse_port(const char *p, const char *end, long port_min)
{
	long port = 0;

	if (p == end || end - p > 5)
		return false;
	for (; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		port = port * 10 + (*p - '0');
	}
	return port >= port_min && port <= 65535;
}

/* Returns whether [p, end) is host:port, where host is a name, an IPv4 address or a bracketed
 * IPv6 address, and port is port_min (0: "pick a free port", for listeners that log the port they
 * got) to 65535. Names are not resolved here: a name that does not resolve is reported when the
 * listener binds. */
static bool is_host_port(const char *p, const char *end, long port_min)
{
	const char *colon;

	if (p == end)
		return false;
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));

		if (close == NULL || close == p + 1 || close + 1 >= end || close[1] != ':')
			return false;
		colon = close + 1;
	} else {
		colon = NULL;
		for (const char *q = p; q < end; q++) {
			if (*q == ':')
				colon = q;
			else if (!isalnum((unsigned char)*q) && *q != '.' && *q != '-' && *q != '_')
				return false;
		}
		if (colon == NULL || colon == p)
			return false;
		/* A second colon means an IPv6 address without brackets. */
		if (memchr(p, ':', (size_t)(colon - p)) != NULL)
			return false;
	}
	return parse_port(colon + 1, end, port_min);
}

/* Checks a listener list of `key`: one PLAINTEXT://host:port. */
static int check_listener(const char *key, const char *value, char *errmsg)
{
	static const char scheme[] = "PLAINTEXT://";
	size_t len = strlen(value);

	if (strchr(value, ',') != NULL) {
		errmsg_printf(errmsg, "%s: only one listener is supported for now, got '%s'", key,
			      value);
		return SLUICE_ECONFIG;
	}
	if (len < sizeof scheme - 1 || strncasecmp(value, scheme, sizeof scheme - 1) != 0) {
		errmsg_printf(errmsg,
			      "%s: '%s' is not PLAINTEXT://host:port (only PLAINTEXT is supported "
			      "for now)",
			      key, value);
		return SLUICE_ECONFIG;
	}
	if (!is_host_port(value + sizeof scheme - 1, value + len, 1)) {
		errmsg_printf(errmsg, "%s: '%s' is not PLAINTEXT://host:port", key, value);
		return SLUICE_ECONFIG;
	}
	return 0;
}

static int check_host_port(const char *key, const char *value, long port_min, char *errmsg)
{
	if (!is_host_port(value, value + strlen(value), port_min)) {
		errmsg_printf(errmsg, "%s: '%s' is not host:port%s", key, value,
			      port_min == 0 ? " (port 0 to 65535)" : "");
		return SLUICE_ECONFIG;
	}
	return 0;
}

/* Checks id@host:port,id@host:port,... with distinct ids; empty is allowed. */
static int check_voters(const char *value, char *errmsg)
{
	/* Ids seen so far; the list is bounded by the string's length anyway. */
	int64_t ids[CONFIG_STRING_BYTES_MAX / 4];
	size_t count = 0;
	const char *p = value;

	if (*p == '\0')
		return 0;
	for (;;) {
		const char *end = strchr(p, ',');
		const char *at;
		int64_t id = 0;

		if (end == NULL)
			end = p + strlen(p);
		at = memchr(p, '@', (size_t)(end - p));
		if (at == NULL || at == p || at - p > 10)
			goto bad;
		for (const char *q = p; q < at; q++) {
			if (!isdigit((unsigned char)*q))
				goto bad;
			id = id * 10 + (*q - '0');
		}
		if (id > INT32_LIMIT || !is_host_port(at + 1, end, 1))
			goto bad;
		for (size_t i = 0; i < count; i++) {
			if (ids[i] == id) {
				errmsg_printf(errmsg,
					      "controller.quorum.voters: node id %" PRId64
					      " is listed twice in '%s'",
					      id, value);
				return SLUICE_ECONFIG;
			}
		}
		ids[count++] = id;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
bad:
	errmsg_printf(errmsg, "controller.quorum.voters: '%s' is not id@host:port,id@host:port,...",
		      value);
	return SLUICE_ECONFIG;
}

int server_config_check(const struct server_config *c, char *errmsg)
{
	enum slog_level level;
	int rc;

	rc = check_listener("listeners", c->listeners, errmsg);
	if (rc != 0)
		return rc;
	if (c->advertised_listeners[0] != '\0') {
		rc = check_listener("advertised.listeners", c->advertised_listeners, errmsg);
		if (rc != 0)
			return rc;
		if (strstr(c->advertised_listeners, "://0.0.0.0:") != NULL) {
			errmsg_printf(errmsg,
				      "advertised.listeners: '%s' cannot be given to clients; name "
				      "an address they can reach",
				      c->advertised_listeners);
			return SLUICE_ECONFIG;
		}
	}
	rc = check_host_port("peer.listener", c->peer_listener, 1, errmsg);
	if (rc != 0)
		return rc;
	/* Empty disables the admin endpoint; port 0 picks a free port, logged at start-up. */
	if (c->http_listener[0] != '\0') {
		rc = check_host_port("http.listener", c->http_listener, 0, errmsg);
		if (rc != 0)
			return rc;
	}
	rc = check_voters(c->controller_quorum_voters, errmsg);
	if (rc != 0)
		return rc;
	if (c->log_dirs[0] == '\0') {
		errmsg_printf(errmsg, "log.dirs: must name a directory");
		return SLUICE_ECONFIG;
	}
	if (strchr(c->log_dirs, ',') != NULL) {
		errmsg_printf(errmsg, "log.dirs: '%s': only one directory is supported for now",
			      c->log_dirs);
		return SLUICE_ECONFIG;
	}
	if (slog_parse_level(c->log_level, &level) != 0) {
		errmsg_printf(errmsg, "log.level: '%s' is not one of debug, info, warn, error",
			      c->log_level);
		return SLUICE_ECONFIG;
	}
	if (c->message_max_bytes > c->socket_request_max_bytes) {
		errmsg_printf(errmsg,
			      "message.max.bytes: %" PRId64
			      " is larger than socket.request.max.bytes "
			      "(%" PRId64 "), so no such batch could arrive",
			      c->message_max_bytes, c->socket_request_max_bytes);
		return SLUICE_ECONFIG;
	}
	return 0;
}

void server_config_print_keys(FILE *out)
{
	static const char *const type_names[] = {
		[CONFIG_INT] = "integer",
		[CONFIG_BOOL] = "true/false",
		[CONFIG_STRING] = "text",
	};

	for (size_t i = 0; i < server_config_schema_len; i++) {
		const struct config_key *k = &server_config_schema[i];

		fprintf(out, "  --%s=VALUE  (%s, default '%s'", k->name, type_names[k->type],
			k->default_value);
		if (k->type == CONFIG_INT)
			fprintf(out, ", range %" PRId64 "..%" PRId64, k->min, k->max);
		fprintf(out, ")\n      %s\n", k->doc);
	}
}
