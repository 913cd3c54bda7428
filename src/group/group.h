/*
 * group: the classic Kafka consumer-group coordinator as a pure state machine — no I/O, no
 * timers, no protocol codec. The broker feeds it requests (already decoded into the plain
 * structs below) with the current time, calls group_tick() regularly, and gets answers either
 * at once or later through the `complete` callback (a JoinGroup parks until the rebalance
 * finishes; a follower's SyncGroup parks until the leader sends the assignments).
 *
 * States per group (Kafka's GroupMetadata): EMPTY -> PREPARING_REBALANCE ->
 * COMPLETING_REBALANCE -> STABLE, and DEAD when deleted. Member ids are generated here
 * ("<client_id>-<counter>-<random>"); JoinGroup v4+ with an empty member id gets
 * MEMBER_ID_REQUIRED (79) with the new id (never on v0-v3). Static members (group.instance.id)
 * rejoining keep their assignment without a rebalance and fence the old member id
 * (FENCED_INSTANCE_ID). Session timeouts must lie in [min, max] (INVALID_SESSION_TIMEOUT);
 * a member silent past its session timeout is removed and the group rebalances; the first
 * rebalance of an empty group waits initial_rebalance_delay_ms (extended while members keep
 * joining, up to the rebalance timeout); a rebalance completes when every known member has
 * rejoined or the rebalance timeout passes (members that did not rejoin are removed).
 * Protocol selection: the protocol every member supports that ranks highest in the members'
 * preference order (Kafka's vote). A different protocol_type or no common protocol gets
 * INCONSISTENT_GROUP_PROTOCOL.
 *
 * Ownership: strings and byte arrays passed in are copied; strings and bytes in results point
 * into coordinator memory that stays valid until the next call into the coordinator (the
 * broker encodes the response inside `complete` or right after the call returns).
 *
 * Errors are Kafka error codes (int16), since that is what the answers carry.
 */
#ifndef SLUICE_GROUP_GROUP_H
#define SLUICE_GROUP_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds: members per group and groups per coordinator, so a client cannot exhaust memory. */
#define GROUP_MEMBERS_MAX 1000
#define GROUP_GROUPS_MAX 100000
#define GROUP_PROTOCOLS_MAX 32
#define GROUP_ID_BYTES_MAX 255

enum group_state {
	GROUP_EMPTY,
	GROUP_PREPARING_REBALANCE,
	GROUP_COMPLETING_REBALANCE,
	GROUP_STABLE,
	GROUP_DEAD,
};

struct group_config {
	int32_t session_timeout_min_ms;     /* group.min.session.timeout.ms, 6000 */
	int32_t session_timeout_max_ms;     /* group.max.session.timeout.ms, 1800000 */
	int32_t initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms, 3000 */
};

void group_config_default(struct group_config *c);

/* A length-counted byte string (not NUL-terminated); len -1 = null. */
struct group_bytes {
	const uint8_t *p;
	int32_t len;
};

struct group_protocol {
	struct group_bytes name;
	struct group_bytes metadata;
};

struct group_join_req {
	struct group_bytes group_id;
	struct group_bytes member_id;   /* empty = new member */
	struct group_bytes instance_id; /* null unless static membership */
	struct group_bytes client_id;
	struct group_bytes client_host;
	struct group_bytes protocol_type;
	const struct group_protocol *protocols;
	int32_t nprotocols;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms; /* -1 (JoinGroup v0) = the session timeout */
	int16_t version;              /* the JoinGroup version, for MEMBER_ID_REQUIRED */
};

struct group_join_member {
	struct group_bytes member_id;
	struct group_bytes instance_id;
	struct group_bytes metadata; /* of the chosen protocol */
};

struct group_join_result {
	int16_t error;
	int32_t generation;
	struct group_bytes protocol_type;
	struct group_bytes protocol_name;
	struct group_bytes leader;
	struct group_bytes member_id;
	const struct group_join_member *members; /* only for the leader */
	int32_t nmembers;
};

struct group_assignment {
	struct group_bytes member_id;
	struct group_bytes assignment;
};

struct group_sync_req {
	struct group_bytes group_id;
	struct group_bytes member_id;
	struct group_bytes instance_id;
	int32_t generation;
	const struct group_assignment *assignments; /* only the leader sends them */
	int32_t nassignments;
};

struct group_sync_result {
	int16_t error;
	struct group_bytes protocol_type;
	struct group_bytes protocol_name;
	struct group_bytes assignment;
};

struct group_describe_member {
	struct group_bytes member_id;
	struct group_bytes instance_id;
	struct group_bytes client_id;
	struct group_bytes client_host;
	struct group_bytes metadata;
	struct group_bytes assignment;
};

struct group_describe_result {
	int16_t error;
	enum group_state state;
	struct group_bytes protocol_type;
	struct group_bytes protocol_name;
	const struct group_describe_member *members;
	int32_t nmembers;
};

struct group_coordinator;

/* Called when a parked JoinGroup or SyncGroup completes (possibly from inside another call or
 * group_tick). `token` is the caller's, given when the request parked. Exactly one of join/sync
 * is non-NULL. */
typedef void (*group_complete_fn)(void *arg, void *token, const struct group_join_result *join,
				  const struct group_sync_result *sync);

/* Returns a new coordinator, or NULL on OOM. `random_seed` feeds member-id suffixes. */
struct group_coordinator *group_new(const struct group_config *cfg, group_complete_fn complete,
				    void *arg, uint64_t random_seed);
/* Frees everything; parked requests are completed first with COORDINATOR_NOT_AVAILABLE. */
void group_free(struct group_coordinator *gc);

/* JoinGroup. Returns true and fills *res when answered at once; returns false when parked (the
 * answer comes later through `complete` with `token`). */
bool group_join(struct group_coordinator *gc, const struct group_join_req *req, int64_t now_ms,
		void *token, struct group_join_result *res);

/* SyncGroup. Same convention as group_join. */
bool group_sync(struct group_coordinator *gc, const struct group_sync_req *req, int64_t now_ms,
		void *token, struct group_sync_result *res);

/* Heartbeat. Returns the error code (REBALANCE_IN_PROGRESS tells the member to rejoin). */
int16_t group_heartbeat(struct group_coordinator *gc, struct group_bytes group_id,
			struct group_bytes member_id, struct group_bytes instance_id,
			int32_t generation, int64_t now_ms);

/* LeaveGroup of one member (by member id, or by instance id when member_id is empty). */
int16_t group_leave(struct group_coordinator *gc, struct group_bytes group_id,
		    struct group_bytes member_id, struct group_bytes instance_id, int64_t now_ms);

/* Whether an OffsetCommit may proceed: generation -1 with an empty member id is a "simple"
 * commit (allowed unless the group has live members); otherwise the member and generation must
 * match (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS while completing). A
 * commit for an unknown group with generation -1 creates nothing and is allowed. */
int16_t group_commit_check(struct group_coordinator *gc, struct group_bytes group_id,
			   struct group_bytes member_id, struct group_bytes instance_id,
			   int32_t generation, int64_t now_ms);

/* DescribeGroups of one group (unknown groups describe as DEAD with no error, as Kafka does). */
void group_describe(struct group_coordinator *gc, struct group_bytes group_id,
		    struct group_describe_result *res);

/* Calls fn for every group that is not DEAD. */
void group_list(struct group_coordinator *gc,
		void (*fn)(void *arg, struct group_bytes group_id, struct group_bytes protocol_type,
			   enum group_state state),
		void *arg);

/* DeleteGroups of one group: only an EMPTY group (NON_EMPTY_GROUP otherwise, GROUP_ID_NOT_FOUND
 * if unknown). */
int16_t group_delete(struct group_coordinator *gc, struct group_bytes group_id);

/* Processes timeouts at `now_ms`: expired sessions, finished initial delays and rebalance
 * timeouts. Returns the number of milliseconds until the next deadline (or -1 if none), so the
 * caller can set a timer. */
int64_t group_tick(struct group_coordinator *gc, int64_t now_ms);

const char *group_state_name(enum group_state s);

#endif
