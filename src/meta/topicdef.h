/*
 * topicdef: what a valid topic definition is — Kafka's topic-name rule, the per-topic config keys
 * Sluice understands and the check of their values, and the limits on partitions and configs.
 *
 * It is pure (no I/O, no state) so that both the broker's topic registry (broker/topics.c) and the
 * controller's metadata image (meta/image.c) validate against one table: a config the broker
 * accepts is one the image accepts, and the other way round. The controller applies the same
 * checks on every replica, so this table must only change together with the image's command
 * version (a key that one node knows and another does not would make their images differ).
 *
 * Invariants:
 *   1. topicdef_config_keys is sorted by name (strcmp) and names are unique.
 *   2. Every TCFG_ENUM key has a non-empty NULL-terminated choices list; every TCFG_INT key has
 *      min <= max.
 */
#ifndef SLUICE_META_TOPICDEF_H
#define SLUICE_META_TOPICDEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kafka's limit on a topic name (it must fit a file name with a partition suffix). */
#define TOPICDEF_NAME_BYTES_MAX 249
/* Partitions per topic: a bound on per-topic memory and file handles on one node. */
#define TOPICDEF_PARTITIONS_MAX 10000
/* Configs set on one topic: there are fewer keys than this, so it only bounds hostile input. */
#define TOPICDEF_CONFIGS_MAX 64
/* A config key's and a config value's length: longer than any key or valid value. */
#define TOPICDEF_CONFIG_KEY_BYTES_MAX 255
#define TOPICDEF_CONFIG_VALUE_BYTES_MAX 1024
/* Entries in topicdef_config_keys (checked against the table by a _Static_assert). */
#define TOPICDEF_CONFIG_KEYS_COUNT 10

/* A topic-level config key the broker understands. (The struct keeps the name it had in
 * broker/topics.h, where it lived before the controller needed it too.) */
struct topic_config_key {
	const char *name;
	const char *broker_key; /* the broker config that provides the default */
	enum { TCFG_INT, TCFG_ENUM } type;
	int64_t min;
	int64_t max;
	const char *const *choices; /* TCFG_ENUM: NULL-terminated */
};

extern const struct topic_config_key topicdef_config_keys[];
extern const size_t topicdef_config_keys_count;

/* Kafka's rule: 1..249 characters of [a-zA-Z0-9._-], not "." or "..". */
bool topicdef_name_valid(const char *name, size_t len);

/* Returns the table entry for `key`, or NULL when Sluice does not know the key. */
const struct topic_config_key *topicdef_config_key_find(const char *key);

/* Validates key=value against topicdef_config_keys. Returns 0 or SLUICE_EINVAL with a message
 * naming the key in `errmsg` (may be NULL; CreateTopics puts it in error_message). */
int topicdef_config_check(const char *key, const char *value, char *errmsg);

#endif
