/*
 * reassign: what `sluice partitions reassign`, `partitions reassignments` and `nodes drain`
 * share — sending AlterPartitionReassignments, reading every broker's
 * ListPartitionReassignments into one view, and watching moves until they are done.
 *
 * Happy path: a command fills an array of struct reassign_move (topic, partition, the replica
 * list Metadata showed before and the target list), calls reassign_send() (one or more
 * AlterPartitionReassignments v0 to the bootstrap broker; each move gets the broker's error code
 * and message), then reassign_wait(), which re-reads the cluster every REASSIGN_POLL_MS until
 * every accepted move is done, printing progress to stderr, for at most --timeout-ms. A move is
 * done when (1) the bootstrap broker's Metadata lists exactly the target replicas, (2) with a
 * leader among them, and (3) no broker reports the partition in ListPartitionReassignments (a
 * Sluice node answers only for replicas it hosts, so every broker is asked and the answers are
 * merged; a broker that does not speak the API is not asked, and then only (1) and (2) count).
 * Right after the commit, the partition's leader may not have applied the new list yet and
 * nobody reports the move; so a move that was never seen moving counts as done only once the
 * three conditions held for REASSIGN_SETTLE_MS without a break.
 *
 * Failure modes: a connection error while sending returns its code with the connection's
 * message (nothing, or only a prefix of the chunks, was sent: the message says which); per-move
 * Kafka errors land in the move. While waiting, a poll that fails (bootstrap unreachable) is
 * retried until the deadline; a broker that cannot be asked for its reassignments is skipped
 * for that poll and named once on stderr. Moves not done at the deadline stay PENDING with the
 * reason in their message.
 *
 * Invariants:
 *   1. Moves are sorted by (topic, partition) and unique before reassign_send(); results and
 *      views are matched to them by binary search.
 *   2. Each poll runs in its own admin session, closed before the next, so the memory the
 *      client keeps for responses does not grow with the length of the wait.
 */
#ifndef SLUICE_CLI_REASSIGN_H
#define SLUICE_CLI_REASSIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/admin.h"
#include "cli/out.h"
#include "kafka/kafka.h"

/* Replicas one partition may list in what the CLI sends or shows. Sluice accepts at most 7 (a
 * Raft group's voters) and Kafka clusters use 3 to 5; the broker has the last word on what it
 * takes, this bounds the CLI's arrays (a longer list from a broker is shown cut). */
#define REASSIGN_REPLICAS_MAX 16
/* Partitions per AlterPartitionReassignments request: a Sluice node keeps at most 4096
 * metadata commands in flight, and a smaller request is answered sooner. */
#define REASSIGN_REQUEST_PARTITIONS_MAX 1000
/* Pause between two looks at the cluster while waiting. */
#define REASSIGN_POLL_MS 500
/* How long the done conditions must hold for a move never seen moving: the controller's
 * commit reaches the partition's leader within a few Raft heartbeats (100 ms each by default). */
#define REASSIGN_SETTLE_MS 2000
/* A progress line is printed when something changed, or after this long without change. */
#define REASSIGN_PROGRESS_MS 5000

struct reassign_move {
	struct kafka_str topic; /* valid until the command's admin_close() */
	int32_t partition;
	int32_t old_replicas[REASSIGN_REPLICAS_MAX]; /* as Metadata listed them before */
	int32_t old_n;                              /* -1: Metadata did not list the partition */
	int32_t replicas[REASSIGN_REPLICAS_MAX];     /* the target; [0] is the preferred leader */
	int32_t n;
	/* Filled by reassign_send(): */
	int16_t error; /* the broker's answer; NONE when accepted */
	char message[ERRMSG_BYTES_MAX];
	/* Filled by reassign_wait(): */
	int32_t leader;  /* as Metadata last said; -1 when none */
	bool listed;     /* the last Metadata listed the partition */
	bool done;       /* accepted and seen complete */
	int32_t adding[REASSIGN_REPLICAS_MAX]; /* as the brokers last reported */
	int32_t nadding;
	int32_t removing[REASSIGN_REPLICAS_MAX];
	int32_t nremoving;
	bool seen_moving;    /* some broker reported it moving at least once */
	int64_t ok_since_ms; /* since when every condition held without a break; 0: not now */
};

/* One partition being moved, merged from every broker's ListPartitionReassignments. */
struct reassign_ongoing {
	struct kafka_str topic; /* valid until the admin_close() of the session that asked */
	int32_t partition;
	int32_t replicas[REASSIGN_REPLICAS_MAX];
	int32_t nreplicas;
	int32_t adding[REASSIGN_REPLICAS_MAX];
	int32_t nadding;
	int32_t removing[REASSIGN_REPLICAS_MAX];
	int32_t nremoving;
};

/* Orders moves by (topic, partition); for qsort. */
int reassign_move_cmp(const void *x, const void *y);

/* Sends the moves (sorted, unique) in AlterPartitionReassignments requests of at most
 * REASSIGN_REQUEST_PARTITIONS_MAX partitions to the bootstrap broker and records each answer in
 * moves[i].error and .message. Returns 0, or a connection or version error with `msg` filled
 * (moves of requests not answered keep error UNKNOWN_SERVER_ERROR). */
int reassign_send(struct admin *a, struct reassign_move *moves, size_t n, char *msg);

/* Asks every broker the last admin_metadata() listed for ListPartitionReassignments and merges
 * the answers: per partition the union of the replicas, adding and removing lists any broker
 * reported. *out (sorted by topic, partition) stays valid until admin_close(a). *supported says
 * whether any broker speaks the API. A broker that cannot be asked is skipped and, when `quiet`
 * is false, named on stderr. Returns 0 or SLUICE_ENOMEM. */
int reassign_list(struct admin *a, bool quiet, struct reassign_ongoing **out, size_t *n,
		  bool *supported, char *msg);

/* Watches the accepted moves (error NONE) until each is done, or until `wait_ms` passed, with
 * a progress line on stderr when something changed. When `drained` >= 0, also waits until no
 * partition in Metadata lists node `drained`, and sets *still_listing (may be NULL) to how many
 * did at the last look. Fills leader, done, adding, removing, and for a move not done a message
 * saying what it still waits for. Returns the number of accepted moves not done. */
size_t reassign_wait(const struct admin_opts *o, struct reassign_move *moves, size_t n,
		     int32_t drained, int64_t wait_ms, size_t *still_listing);

/* The RESULT word of a move: MOVED, PENDING (accepted, not done) or the Kafka error's name. */
const char *reassign_result(const struct reassign_move *m);

/* Writes "1,2,3" (or "-" for an empty list, "?" for n < 0) into `out` of `size` bytes. */
void reassign_format_list(char *out, size_t size, const int32_t *v, int32_t n);

/* Parses "1,2,4" into v[] (at most REASSIGN_REPLICAS_MAX non-negative int32 ids, no empty items;
 * whether the ids are nodes is the broker's to say).
 * Returns the count, or -1 when malformed. */
int32_t reassign_parse_list(const char *s, int32_t *v);

/* Prints the moves as the table of `partitions reassign` and `nodes drain`: TOPIC, PARTITION,
 * OLD-REPLICAS, NEW-REPLICAS, LEADER, RESULT, MESSAGE. Returns 0 or SLUICE_ENOMEM. */
int reassign_print_table(const struct reassign_move *moves, size_t n);

/* Writes the moves as the JSON array value of the current key:
 * [{"topic","partition","old_replicas","replicas","leader","result","message"}]. */
void reassign_json_moves(struct json *j, const struct reassign_move *moves, size_t n);

/* Sets `msg` to the first failed move ("topic 'T' partition P: RESULT (message)", and how many
 * more failed) and returns the number of moves that are not MOVED. */
size_t reassign_failures(const struct reassign_move *moves, size_t n, char *msg);

#endif
