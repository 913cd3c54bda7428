/*
 * internal: what the broker's files share (broker.c: lifecycle, connections, dispatch,
 * metadata and admin APIs; produce.c; fetch.c: Fetch and ListOffsets). Not for other modules.
 */
#ifndef SLUICE_BROKER_INTERNAL_H
#define SLUICE_BROKER_INTERNAL_H

#include <uv.h>

#include "base/exec.h"
#include "broker/broker.h"
#include "broker/partition.h"
#include "meta/image.h"
#include "group/cgroup.h"
#include "kafka/kafka.h"
#include "net/net.h"

#define MOD "broker"

/* API keys counted one by one in struct broker's request counters; Kafka 4.x's highest is 90. */
#define BROKER_API_KEYS_COUNTED 128

/* Why a request was refused before its handler ran (struct broker's requests_refused). */
enum broker_refused {
	BROKER_REFUSED_MALFORMED_HEADER, /* the connection was closed */
	BROKER_REFUSED_UNSUPPORTED,      /* API or version not served: answered with an error */
	BROKER_REFUSED_MALFORMED_BODY,   /* the connection was closed */
	BROKER_REFUSED_COUNT,
};

/* The broker's state for one topic (topic->data). */
struct topic_state {
	/* topic->partitions of them, each allocated on its own so that a pointer to one stays
	 * valid when CreatePartitions grows the array. */
	struct partition **parts;
	int32_t nparts;
	int nopen;               /* how many are open */
	bool deleting;
	void *doomed;            /* cluster.c's deletion in progress, waiting for opens too */
};

struct broker {
	uv_loop_t *loop;
	struct broker_config cfg;
	struct worker worker;
	struct fs *fs;
	struct clock *clock;
	struct topics topics;
	struct net_server *net;
	uv_timer_t retention_timer; /* also schedules compaction */
	bool compacting;            /* a compaction is in flight (one partition at a time) */
	uv_idle_t ready_idle;
	struct breq *ready_head; /* parked requests to complete on the next idle turn */
	struct breq *parked;     /* every parked Fetch, for shutdown */
	int64_t pid_reserved_until; /* producer ids below it are reserved on disk */
	int64_t pid_next;           /* next producer id to hand out */
	struct group_coordinator *gc;
	struct cgroup_coordinator *cg; /* KIP-848 consumer groups (consumer_groups.c) */
	struct offsets *offsets;
	int32_t offsets_partitions;
	uv_timer_t group_timer;
	struct cluster *cluster;    /* peer transport, consensus, metadata (cluster.c) */
	int closing_parts;          /* partitions still closing during stop */
	int opening;                /* replicas being prepared on the worker */
	struct create_wait *create_waits; /* CreateTopics/CreatePartitions waiting (admin.c) */
	bool stopping;
	int closing;   /* partitions and handles still closing during stop */
	/* Requests received, for /metrics (status.c): by API key, keys outside
	 * [0, BROKER_API_KEYS_COUNTED) in the last slot; and those refused before a handler ran. */
	uint64_t requests_by_api[BROKER_API_KEYS_COUNTED + 1];
	uint64_t requests_refused[BROKER_REFUSED_COUNT];
	void (*stop_cb)(void *arg);
	void *stop_arg;
};

/* One request from receipt to response. */
struct breq {
	struct broker *b;
	struct net_conn *conn;
	uint64_t seq;
	struct buf *frame;
	struct kafka_request_header h;
	struct arena arena;
	void *body; /* the decoded request struct */
	bool responded;

	/* Produce */
	int pending;
	int16_t acks;
	void *resp;

	/* Fetch */
	uv_timer_t timer;
	bool timer_on;
	bool ready;
	struct partition_waiter *waiters;
	int nwaiters;
	struct buf **bufs; /* data read for the response, released after encoding */
	int nbufs;
	int bufs_cap;
	struct breq *next_ready;
	struct breq *prev_parked, *next_parked;

	/* Admin disk work */
	struct exec_job job;
	int job_status;
	void *job_data;
};

/* Encodes `resp` for the request's API and version and hands it to net; logs and closes the
 * connection if it cannot be encoded (a bug). */
void breq_respond(struct breq *r, const void *resp);
/* Releases the request (after a response or when none is due). */
void breq_free(struct breq *r);

/* Formats a message into the request's arena (exactly its length, cut at ERRMSG_BYTES_MAX: an answer
 * about every partition of a large cluster may carry one per partition) and points *out at it.
 * Returns 0 or SLUICE_ENOMEM. */
int breq_printf(struct breq *r, struct kafka_str *out, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Allocates zeroed memory in the request's arena, or NULL. */
void *breq_alloc(struct breq *r, size_t n);
/* Allocates an array of `n` elements of a schema struct, each set to its defaults. */
void *breq_alloc_structs(struct breq *r, const struct kafka_struct_desc *d, int32_t n);

/* This node's ready-leader replica of the partition, or NULL with *err set
 * (UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER). */
struct partition *broker_partition(struct broker *b, struct kafka_str topic, int32_t index,
				   int16_t *err);
/* broker_partition for reads (Fetch, ListOffsets): also NOT_LEADER_OR_FOLLOWER when the leader
 * holds no read lease (cons_read_lease: cut off from its majority). */
struct partition *broker_partition_read(struct broker *b, struct kafka_str topic, int32_t index,
					int16_t *err);

/* Whether the topic and partition exist in the cluster (wherever their leader is); *err gets
 * UNKNOWN_TOPIC_OR_PARTITION otherwise. */
bool broker_partition_exists(struct broker *b, struct kafka_str topic, int32_t index, int16_t *err);

/* Kafka error code for a SLUICE_E* storage error. */
int16_t broker_storage_error(int rv);

void handle_produce(struct breq *r);
void handle_join_group(struct breq *r);
void handle_sync_group(struct breq *r);
void handle_heartbeat(struct breq *r);
void handle_leave_group(struct breq *r);
void handle_offset_commit(struct breq *r);
void handle_offset_fetch(struct breq *r);
void handle_describe_groups(struct breq *r);
void handle_list_groups(struct breq *r);
void handle_delete_groups(struct breq *r);
void handle_offset_delete(struct breq *r);
/* The coordinator's completion callback for parked JoinGroup/SyncGroup requests. */
void groups_complete(void *arg, void *token, const struct group_join_result *join,
		     const struct group_sync_result *sync);
/* Expires committed offsets older than offsets.retention.minutes of groups without members. */
void groups_expire_offsets(struct broker *b);
void handle_fetch(struct breq *r);
/* admin.c: the APIs that read or change cluster metadata. */
void handle_metadata(struct breq *r);
void handle_find_coordinator(struct breq *r);
void handle_create_topics(struct breq *r);
void handle_create_partitions(struct breq *r);
void handle_delete_topics(struct breq *r);
void handle_unregister_broker(struct breq *r);
void handle_init_producer_id(struct breq *r);
/* elect.c: ElectLeaders, moving leadership to the preferred replicas. */
void handle_elect_leaders(struct breq *r);
/* reassign.c: AlterPartitionReassignments and ListPartitionReassignments (by r->h.api_key). */
void handle_partition_reassignments(struct breq *r);
const char *broker_advertised_host(const struct broker *b);
/* This node's open replica of partition `i` of the image's topic `it`, or NULL when it hosts
 * none (the broker's topic record may lag the image or belong to an older topic of that name). */
struct partition *broker_local_partition(struct broker *b, const struct image_topic *it,
					 int32_t i);
int broker_advertised_port(const struct broker *b);
/* Called by the cluster after each reconcile, and every tick. */
void broker_topics_changed(struct broker *b);
void broker_cluster_tick(struct broker *b);
/* A replica's open job finished (cluster.c); during stop it releases its share. */
void broker_opened_one(struct broker *b);
/* Removes a partition directory and its files (blocking: run it on the worker). */
int broker_remove_dir(struct fs *fs, const char *dir);
/* Wakes every parked fetch on the topic's partitions (it is going away). */
void broker_release_waiters(struct topic *tp);
/* The broker's state of topic `tp` with `n` partitions (each with its topic and index set), or
 * NULL when out of memory. */
struct topic_state *topic_state_new(struct topic *tp, int32_t n);
/* Grows ts to `n` partitions (n >= ts->nparts); the caller then sets tp->partitions. Returns 0
 * or SLUICE_ENOMEM (ts unchanged). */
int topic_state_grow(struct topic_state *ts, struct topic *tp, int32_t n);
void topic_state_free(struct topic_state *ts);
/* groups.c: answers a group request with NOT_COORDINATOR when this node is not its group's
 * coordinator (the ready leader of the group's __consumer_offsets partition); returns true then
 * (the request is answered and freed). */
bool groups_not_coordinator(struct breq *r);
/* groups.c: a replica of __consumer_offsets was opened here: replay it into the committed
 * offsets table and keep the table current as Raft applies its batches. */
void groups_attach_partition(struct broker *b, struct partition *p);
void handle_list_offsets(struct breq *r);

/* consumer_groups.c: ConsumerGroupHeartbeat and ConsumerGroupDescribe (KIP-848), and the
 * routing of OffsetCommit and JoinGroup between consumer-protocol and classic groups. */
void handle_consumer_group_heartbeat(struct breq *r);
void handle_consumer_group_describe(struct breq *r);
void consumer_groups_offset_commit(struct breq *r);
void consumer_groups_join_group(struct breq *r);
/* The coordinator's view of the topic registry (cgroup_topic_fn; `arg` is the broker). */
bool consumer_groups_topic_lookup(void *arg, const char *name, size_t len, uint8_t id[16],
				  int32_t *partitions);

/* Parks `r` until woken or its timer fires; complete_fetch answers it. */
void fetch_complete_parked(struct breq *r);
void broker_schedule_ready(struct breq *r);

#endif
