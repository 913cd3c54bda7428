/*
 * assignment: decodes the consumer protocol's member assignment, the bytes a classic consumer
 * group's leader hands each member through SyncGroup and that DescribeGroups returns as
 * MemberAssignment when the group's protocol type is "consumer". Pure: no I/O, so it can be
 * tested on bytes alone.
 *
 * ConsumerProtocolAssignment (Kafka's ConsumerProtocolAssignment.json, versions 0-3 share this
 * layout; all integers big-endian):
 *   offset  size    meaning
 *   0       2       Version: int16, >= 0
 *   2       4       AssignedPartitions: int32 count N of topics, then N times:
 *           2+L       Topic: int16 length L, L bytes of name
 *           4+4*M     Partitions: int32 count M, M int32 partition indexes
 *   ...     4+U     UserData: int32 length U (-1 = null), U bytes
 * Bytes after UserData (fields of a future version) are ignored, as Kafka's parser does.
 *
 * Failure modes: empty input (a member that has not synced yet) decodes as no topics; negative
 * counts, counts larger than the bytes left could hold, and truncation give SLUICE_EMALFORMED;
 * arena exhaustion gives SLUICE_ENOMEM. The input is never read past its end.
 */
#ifndef SLUICE_CLI_ASSIGNMENT_H
#define SLUICE_CLI_ASSIGNMENT_H

#include <stddef.h>
#include <stdint.h>

#include "kafka/arena.h"
#include "kafka/messages.h"

struct assignment_topic {
	struct kafka_str topic; /* points into the input */
	int32_t *partitions;    /* in the arena */
	int32_t partitions_n;
};

struct assignment {
	int16_t version;
	struct assignment_topic *topics; /* in the arena */
	int32_t topics_n;
	struct kafka_bytes user_data; /* points into the input; len -1 = null */
};

/* Decodes `n` bytes at `p` into *out. Arrays come from `a`; names and user data point into `p`,
 * which must outlive *out. Returns 0, SLUICE_EMALFORMED or SLUICE_ENOMEM. */
int assignment_decode(const uint8_t *p, size_t n, struct arena *a, struct assignment *out);

#endif
