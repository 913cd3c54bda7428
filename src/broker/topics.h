/*
 * topics: the node's topic registry — names, ids, partition counts, replication factors and
 * per-topic configs — and its persistence in `<log.dirs>/meta.sluice` until the metadata Raft
 * group takes this over.
 *
 * Pure data plus encode/decode; the broker writes the encoded image off the loop with
 * fs_write_atomic. Topic names follow Kafka's rules (topics_name_valid). Per-topic configs are
 * the keys in topics_config_keys with string values validated on the way in; anything not set
 * falls back to the broker's default.
 *
 * File format, version 1 (big-endian; strings are u16 length + bytes):
 *
 *   offset size  field
 *   0      4     magic "SLMT"
 *   4      2     version (1)
 *   6      2     reserved (0)
 *   8      4     payload_bytes
 *   12     ...   payload: next_producer_id i64, cluster_id string, topic_count u32, then per
 *                topic: name string, topic_id 16 bytes, partitions i32, replication_factor i16,
 *                config_count u16, then config_count pairs of key string, value string
 *   12+N   4     CRC-32C of bytes [0, 12+N)
 *
 * Invariants: names are unique and valid; partitions >= 1; every config key is known and its
 * value valid.
 */
#ifndef SLUICE_BROKER_TOPICS_H
#define SLUICE_BROKER_TOPICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "meta/topicdef.h"

#define TOPICS_FILE_NAME "meta.sluice"
#define TOPICS_FORMAT_VERSION 1
/* The name rule, the config table and these limits live in meta/topicdef.h, shared with the
 * controller's metadata image; the broker keeps its names for them. */
#define TOPIC_NAME_BYTES_MAX TOPICDEF_NAME_BYTES_MAX
#define TOPIC_PARTITIONS_MAX TOPICDEF_PARTITIONS_MAX
#define TOPIC_CONFIGS_MAX TOPICDEF_CONFIGS_MAX

struct topic_config {
	char *key;
	char *value;
};

struct topic {
	char name[TOPIC_NAME_BYTES_MAX + 1];
	uint8_t id[16];
	int32_t partitions;
	int16_t replication_factor;
	struct topic_config *configs;
	int nconfigs;
	bool internal;
	void *data; /* the broker's per-topic state */
};

struct topics {
	struct topic **v;
	int n;
	int cap;
	int64_t next_producer_id;
	char cluster_id[64];
};

/* The topic-level config keys the broker understands (struct topic_config_key, topicdef.h). */
#define topics_config_keys topicdef_config_keys
#define topics_config_keys_count topicdef_config_keys_count

/* Kafka's rule: 1..249 characters of [a-zA-Z0-9._-], not "." or "..". */
bool topics_name_valid(const char *name, size_t len);

/* Validates key=value against topics_config_keys. Returns 0 or SLUICE_EINVAL with a message
 * naming the key in `errmsg` (for CreateTopics' error_message). */
int topics_config_check(const char *key, const char *value, char *errmsg);

void topics_init(struct topics *t);
void topics_free(struct topics *t);

struct topic *topics_find(const struct topics *t, const char *name, size_t len);

/* Adds a topic (configs copied). SLUICE_EEXIST, SLUICE_EINVAL (bad name, partitions or config;
 * reason in errmsg) or SLUICE_ENOMEM. On success *out points at the new topic. `id` may be NULL
 * to generate a random one. */
int topics_add(struct topics *t, const char *name, int32_t partitions, int16_t rf,
	       const struct topic_config *configs, int nconfigs, const uint8_t *id,
	       struct topic **out, char *errmsg);

/* Removes and frees a topic. */
void topics_remove(struct topics *t, struct topic *tp);

/* Removes a topic from the registry without freeing it (it is being deleted); free it later
 * with topic_free. */
void topics_detach(struct topics *t, struct topic *tp);
void topic_free(struct topic *tp);

/* Replaces the topic's configs with copies of `configs` (already validated by the image). Keeps
 * the old ones on ENOMEM. Returns 0 or SLUICE_ENOMEM. */
int topics_set_configs(struct topic *tp, const struct topic_config *configs, int nconfigs);

/* The topic's value for `key`, or NULL when not set on the topic. */
const char *topic_config_get(const struct topic *tp, const char *key);

/* Encodes the registry into a new buf (file image). NULL on OOM. */
struct buf *topics_encode(const struct topics *t);

/* Decodes a file image into an empty registry. SLUICE_ECORRUPT or SLUICE_EVERSION with the
 * reason in errmsg. */
int topics_decode(struct topics *t, const uint8_t *p, size_t n, char *errmsg);

#endif
