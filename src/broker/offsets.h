/*
 * offsets: committed consumer-group offsets, in memory and as records of the internal topic
 * `__consumer_offsets` (Kafka's own record layout, so tools that read that topic understand it).
 *
 * The coordinator of a group is partition hash(group) mod N of `__consumer_offsets` (Kafka's
 * hash: Java's String.hashCode, made positive). A commit is one RecordBatch appended to that
 * partition; it is acknowledged when durable, like an acks=all produce, and only then applied
 * to the in-memory table. On start-up the table is rebuilt by replaying every partition.
 *
 * Record layout (big-endian; strings are int16 length + bytes):
 *   key   version 1: int16 1, string group, string topic, int32 partition
 *   value version 3: int16 3, int64 offset, int32 leader_epoch, string metadata,
 *                    int64 commit_timestamp
 *   a null value (tombstone) deletes the key.
 * Keys of other versions (Kafka's group-metadata records) are skipped on replay.
 *
 * Limits: OFFSETS_ENTRIES_MAX offsets in the table; OFFSETS_METADATA_BYTES_MAX of metadata per
 * commit (Kafka's offset.metadata.max.bytes), beyond it OFFSET_METADATA_TOO_LARGE.
 */
#ifndef SLUICE_BROKER_OFFSETS_H
#define SLUICE_BROKER_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define OFFSETS_TOPIC "__consumer_offsets"
#define OFFSETS_ENTRIES_MAX 1000000
#define OFFSETS_METADATA_BYTES_MAX 4096

struct offset_value {
	int64_t offset;
	int32_t leader_epoch;
	char *metadata; /* NUL-terminated; never NULL in the table */
	int64_t commit_ts;
};

struct offsets;

struct offsets *offsets_new(void);
void offsets_free(struct offsets *o);

/* Kafka's partition for a group: abs(String.hashCode(group)) mod n. */
int32_t offsets_partition_for(const char *group, size_t len, int32_t n);

/* Looks up a committed offset; NULL when none. */
const struct offset_value *offsets_get(const struct offsets *o, const char *group, size_t glen,
				       const char *topic, size_t tlen, int32_t partition);

/* Sets (value != NULL) or deletes (value == NULL) an entry. Returns 0, SLUICE_ENOMEM or
 * SLUICE_EBUSY (table full). */
int offsets_put(struct offsets *o, const char *group, size_t glen, const char *topic, size_t tlen,
		int32_t partition, const struct offset_value *value);

/* Calls fn for every entry of `group`. */
void offsets_each(const struct offsets *o, const char *group, size_t glen,
		  void (*fn)(void *arg, const char *topic, int32_t partition,
			     const struct offset_value *v),
		  void *arg);

/* Calls fn with the group of every entry (a group comes once per committed partition). fn must
 * not change the table. */
void offsets_groups(const struct offsets *o, void (*fn)(void *arg, const char *group, size_t glen),
		    void *arg);

/* For a read-only walk of the whole table spread over several loop turns (the admin endpoint's
 * metrics): the number of hash buckets, and fn for every entry in buckets [from, to). Between
 * calls entries may come and go (a walk may miss those, never see one twice) as long as the
 * bucket count stays the same; when it changed the table was rehashed and the walk must start
 * over. fn must not change the table. */
size_t offsets_buckets(const struct offsets *o);
void offsets_each_in_buckets(const struct offsets *o, size_t from, size_t to,
			     void (*fn)(void *arg, const char *group, const char *topic,
					int32_t partition, const struct offset_value *v),
			     void *arg);

/* Entries in the table. */
size_t offsets_count(const struct offsets *o);

/* Whether the group has any committed offset. */
bool offsets_has_group(const struct offsets *o, const char *group, size_t glen);

/* Encodes one record's key and value (value NULL = tombstone) into `w` as the record layout
 * above requires; the caller wraps them in a batch. */
void offsets_encode_key(struct wbuf *w, const char *group, size_t glen, const char *topic,
			size_t tlen, int32_t partition);
void offsets_encode_value(struct wbuf *w, const struct offset_value *v);

/* Applies one replayed record to the table; malformed records are skipped (returns
 * SLUICE_EMALFORMED so the caller can count them). */
int offsets_apply_record(struct offsets *o, const uint8_t *key, int32_t klen, const uint8_t *value,
			 int32_t vlen);

#endif
