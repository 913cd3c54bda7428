/*
 * broker: the Kafka-protocol front of a node — connections, request dispatch and the handlers of
 * every API the node speaks, over the topic registry and the partitions on this node.
 *
 * Happy path: net delivers a frame; the broker decodes its header, checks the API and version
 * against its advertised table (broker_apis), decodes the body into an arena, runs the handler,
 * and encodes the response (or none, for acks=0 produce). Handlers that wait — Produce until its
 * batches are durable, Fetch until data arrives or max_wait passes, admin calls until their disk
 * work is done — keep their request object alive and answer later; net writes answers in
 * request order regardless.
 *
 * Failure modes: a frame whose header cannot be read closes the connection (logged); an API or
 * version the node does not serve gets the protocol's answer (UNSUPPORTED_VERSION; ApiVersions
 * gets its v0 fallback), logged once per connection; a malformed body closes the connection with
 * a logged reason, as Kafka does; storage errors become the matching Kafka error code per
 * partition. Nothing a client sends can crash the node.
 *
 * Limits (each documented in docs/configuration.md): socket.request.max.bytes per frame,
 * the in-flight request cap per connection (net), message.max.bytes per batch,
 * BROKER_ARENA_BYTES_MAX of decoded structures per request, BROKER_FETCH_WAIT_MS_MAX.
 */
#ifndef SLUICE_BROKER_BROKER_H
#define SLUICE_BROKER_BROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/clock.h"
#include "broker/topics.h"
#include "group/cgroup.h"
#include "group/group.h"
#include "storage/fs.h"
#include "storage/plog.h"
#include "storage/worker.h"

/* Decoded structures of one request (the frame itself is bounded by socket.request.max.bytes). */
#define BROKER_ARENA_BYTES_MAX (64u << 20)
/* Longest a Fetch may park, whatever it asks for. */
#define BROKER_FETCH_WAIT_MS_MAX 30000
/* Producer ids are reserved on disk in blocks, so InitProducerId rarely writes. */
#define BROKER_PRODUCER_ID_BLOCK 1000

/* A voter of the metadata Raft group and where its peer listener is. */
struct broker_voter {
	int32_t id;
	char host[256];
	int port;
};

/* Voters of the metadata group (controller.quorum.voters). */
#define BROKER_VOTERS_MAX 16

struct broker_config {
	int32_t node_id;
	struct broker_voter voters[BROKER_VOTERS_MAX]; /* empty: this node alone */
	int nvoters;
	char peer_host[256]; /* peer.listener */
	int peer_port;
	unsigned raft_heartbeat_ms;
	unsigned raft_election_ms;
	int16_t offsets_replication_factor;
	bool auto_leader_rebalance; /* move leadership back to preferred replicas */
	char host[256];            /* listener address */
	int port;                  /* listener port; 0 = ephemeral */
	char advertised_host[256]; /* what Metadata tells clients */
	int advertised_port;       /* 0 = the bound port */
	char log_dir[2048]; /* a partition path must fit in PATH_MAX */
	int32_t num_partitions;
	int16_t default_replication_factor;
	bool auto_create_topics_enable;
	int32_t message_max_bytes;
	size_t socket_request_max_bytes;
	uint32_t inflight_requests_max;
	struct plog_config log; /* defaults for every partition; topic configs override */
	int64_t retention_check_interval_ms;
	int32_t offsets_topic_num_partitions; /* partitions of __consumer_offsets when created */
	int64_t offsets_retention_ms; /* committed offsets of member-less groups expire; <= 0 never */
	struct group_config group;
	struct cgroup_config cgroup; /* KIP-848 groups; zero fields take cgroup_config_default's */
};

struct broker;

/* Opens every partition under log_dir (recovering as needed), then listens. On failure nothing
 * is left running and `errmsg` says why. */
int broker_start(struct broker **out, uv_loop_t *loop, const struct broker_config *cfg,
		 char *errmsg);

/* The bound Kafka port (useful with port 0). */
int broker_port(const struct broker *b);

/* Stops listening, answers parked requests, flushes and closes every partition, then calls cb
 * and frees the broker. */
void broker_stop(struct broker *b, void (*cb)(void *arg), void *arg);

#endif
