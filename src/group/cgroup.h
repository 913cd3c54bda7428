/*
 * cgroup: the consumer-group coordinator of KIP-848 ("the next generation of the consumer
 * rebalance protocol", Apache Kafka 4.0's `group.protocol=consumer`) as a pure state machine —
 * no I/O, no timers, no codec. The broker decodes ConsumerGroupHeartbeat into the plain structs
 * below, passes the current time, calls cgroup_tick() regularly and encodes what comes back.
 *
 * Happy path. A member joins with MemberEpoch 0 and its subscription (topic names); the group
 * epoch is bumped, the coordinator computes a new target assignment for every member with the
 * group's server-side assignor ("uniform", the default, or "range"), and answers the member with
 * its new member epoch and the partitions it may own now. Every member then converges to its
 * target on its own heartbeats, incrementally (Kafka's CurrentAssignmentBuilder):
 *   1. a member that owns partitions outside its target is told to keep only the intersection;
 *      it stays at its old epoch (UNREVOKED_PARTITIONS) until a heartbeat reports owned
 *      partitions (TopicPartitions) without the revoked ones;
 *   2. it then moves to the target epoch and is given those target partitions that no other
 *      member still owns or is revoking (UNRELEASED_PARTITIONS until all are free; STABLE then).
 * So a partition is never given to a member before its previous owner has revoked it.
 * There is no JoinGroup/SyncGroup barrier: members never wait for each other.
 *
 * Server-controlled timing: every answer carries heartbeat_interval_ms; a member silent for
 * session_timeout_ms is removed (its partitions become free and the group epoch is bumped); a
 * member that does not revoke within its rebalance timeout is removed too.
 *
 * Failure modes answered with Kafka error codes (int16, what the answers carry):
 *   - UNKNOWN_MEMBER_ID: epoch > 0 (or a leave) from a member the group does not know;
 *   - FENCED_MEMBER_EPOCH: an epoch above the member's, or below it other than the previous
 *     epoch with a subset of its partitions (a lost answer); the client rejoins with epoch 0;
 *   - UNRELEASED_INSTANCE_ID: a static member (InstanceId) joining while another member id
 *     still holds that instance id and has not left temporarily (epoch -2);
 *   - INVALID_REQUEST: missing fields on a join; UNSUPPORTED_ASSIGNOR; INVALID_REGULAR_EXPRESSION
 *     (regex subscriptions are not supported); GROUP_MAX_SIZE_REACHED;
 *   - GROUP_ID_NOT_FOUND: the id is used by a live classic group (the caller says so), as Kafka
 *     does with group.consumer.migration.policy=disabled.
 * Leaving: MemberEpoch -1 removes the member; -2 (static members only) keeps its assignment for
 * session_timeout_ms so the same InstanceId can come back under a new member id with the same
 * epoch and partitions, without a rebalance.
 *
 * Invariants (checked by cgroup_invariants()):
 *   1. a partition is owned (assigned or pending revocation) by at most one member of a group;
 *   2. a member's epoch never exceeds the group's assignment epoch, which never exceeds the
 *      group epoch; member epochs only grow while the member lives;
 *   3. a member with partitions pending revocation is in UNREVOKED_PARTITIONS.
 *
 * Ownership: strings and arrays passed in are copied; pointers in results point into
 * coordinator memory valid until the next call into the coordinator.
 */
#ifndef SLUICE_GROUP_CGROUP_H
#define SLUICE_GROUP_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Members per group and groups per coordinator: a client cannot exhaust memory. */
#define CGROUP_MEMBERS_MAX 1000
#define CGROUP_GROUPS_MAX 100000
/* Topics one member may subscribe to and partitions a group may spread (target sizes). */
#define CGROUP_TOPICS_PER_MEMBER_MAX 1000
#define CGROUP_PARTITIONS_MAX 100000
#define CGROUP_ID_BYTES_MAX 255

/* MemberEpoch values with a meaning of their own (ConsumerGroupHeartbeatRequest.json). */
#define CGROUP_JOIN_EPOCH 0
#define CGROUP_LEAVE_EPOCH (-1)
#define CGROUP_STATIC_LEAVE_EPOCH (-2)

struct cgroup_config {
	int32_t heartbeat_interval_ms; /* group.consumer.heartbeat.interval.ms, 5000 */
	int32_t session_timeout_ms;    /* group.consumer.session.timeout.ms, 45000 */
	const char *default_assignor;  /* "uniform" (group.consumer.assignors' first) */
};

void cgroup_config_default(struct cgroup_config *c);

/* A length-counted string (not NUL-terminated); len -1 = null. */
struct cgroup_str {
	const char *p;
	int32_t len;
};

/* One topic partition, named by topic id as the protocol does. */
struct cgroup_tp {
	uint8_t topic_id[16];
	int32_t partition;
};

/* What the coordinator needs to know about a topic: the broker's registry answers. Returns
 * false when there is no such topic; else fills its id and partition count. */
typedef bool (*cgroup_topic_fn)(void *arg, const char *name, size_t len, uint8_t id[16],
				int32_t *partitions);

struct cgroup_heartbeat_req {
	struct cgroup_str group_id;
	struct cgroup_str member_id; /* empty with epoch 0: the coordinator makes one */
	int32_t member_epoch;
	struct cgroup_str instance_id; /* null unless static */
	struct cgroup_str rack_id;
	struct cgroup_str client_id;
	struct cgroup_str client_host;
	int32_t rebalance_timeout_ms; /* -1 = unchanged */
	const struct cgroup_str *topics;
	int32_t ntopics; /* -1 = unchanged (null SubscribedTopicNames) */
	struct cgroup_str regex;    /* SubscribedTopicRegex; null = none */
	struct cgroup_str assignor; /* ServerAssignor; null = unchanged */
	const struct cgroup_tp *owned;
	int32_t nowned; /* -1 = not reported (null TopicPartitions) */
	bool classic_live; /* the id names a classic group with members */
};

struct cgroup_heartbeat_result {
	int16_t error;
	const char *error_message; /* NULL or a static string */
	struct cgroup_str member_id;
	int32_t member_epoch;
	int32_t heartbeat_interval_ms;
	bool has_assignment; /* send Assignment (else null: unchanged) */
	const struct cgroup_tp *assignment;
	int32_t nassignment;
};

struct cgroup_describe_member {
	struct cgroup_str member_id;
	struct cgroup_str instance_id;
	struct cgroup_str rack_id;
	struct cgroup_str client_id;
	struct cgroup_str client_host;
	int32_t member_epoch;
	const struct cgroup_str *topics;
	int32_t ntopics;
	const struct cgroup_tp *assigned;
	int32_t nassigned;
	const struct cgroup_tp *target;
	int32_t ntarget;
};

struct cgroup_describe_result {
	int16_t error; /* GROUP_ID_NOT_FOUND for an unknown group */
	const char *state; /* "Empty", "Assigning", "Reconciling", "Stable" */
	int32_t group_epoch;
	int32_t assignment_epoch;
	const char *assignor;
	const struct cgroup_describe_member *members;
	int32_t nmembers;
};

struct cgroup_coordinator;

/* Returns a new coordinator, or NULL on OOM. `topic` answers metadata lookups; `random_seed`
 * feeds the member ids it makes. */
struct cgroup_coordinator *cgroup_new(const struct cgroup_config *cfg, cgroup_topic_fn topic,
				      void *topic_arg, uint64_t random_seed);
/* Frees everything; accepts NULL. */
void cgroup_free(struct cgroup_coordinator *cc);

/* ConsumerGroupHeartbeat: joins, heartbeats, reconciles and leaves. Fills *res. */
void cgroup_heartbeat(struct cgroup_coordinator *cc, const struct cgroup_heartbeat_req *req,
		      int64_t now_ms, struct cgroup_heartbeat_result *res);

/* ConsumerGroupDescribe of one group. */
void cgroup_describe(struct cgroup_coordinator *cc, struct cgroup_str group_id,
		     struct cgroup_describe_result *res);

/* True when `group_id` is a consumer-protocol group (with or without members). */
bool cgroup_exists(struct cgroup_coordinator *cc, struct cgroup_str group_id);

/* Number of members of a consumer-protocol group (0 when unknown). */
int32_t cgroup_members(struct cgroup_coordinator *cc, struct cgroup_str group_id);

/* Removes an empty consumer-protocol group (a classic group takes the id over). Returns
 * NON_EMPTY_GROUP when it has members, GROUP_ID_NOT_FOUND when unknown, else NONE. */
int16_t cgroup_delete(struct cgroup_coordinator *cc, struct cgroup_str group_id);

/* Whether an OffsetCommit of a consumer-protocol group may proceed (Kafka's
 * ConsumerGroup.validateOffsetCommit): epoch < 0 is allowed only while the group is empty;
 * otherwise the member must exist (UNKNOWN_MEMBER_ID) and send its current epoch (or the one
 * before it, a commit racing an epoch bump): above it is FENCED_MEMBER_EPOCH, below it
 * STALE_MEMBER_EPOCH. */
int16_t cgroup_commit_check(struct cgroup_coordinator *cc, struct cgroup_str group_id,
			    struct cgroup_str member_id, int32_t member_epoch);

/* Calls fn for every group. */
void cgroup_list(struct cgroup_coordinator *cc,
		 void (*fn)(void *arg, struct cgroup_str group_id, const char *state), void *arg);

/* Expires sessions and overdue revocations at `now_ms`. Returns ms until the next deadline, or
 * -1 if none. */
int64_t cgroup_tick(struct cgroup_coordinator *cc, int64_t now_ms);

/* Checks the invariants of every group (for tests and assertions). */
bool cgroup_invariants(const struct cgroup_coordinator *cc);

#endif
