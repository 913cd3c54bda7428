/*
 * topicdef: the topic-name rule and the per-topic config table (contract in topicdef.h).
 *
 * Moved here from broker/topics.c unchanged in behaviour, so that the controller's image and the
 * broker share one table.
 */
#include "meta/topicdef.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static const char *const cleanup_policies[] = { "delete", "compact", NULL };
static const char *const timestamp_types[] = { "CreateTime", "LogAppendTime", NULL };
static const char *const compression_types[] = { "producer", "uncompressed", "gzip", "snappy",
						 "lz4",      "zstd",         NULL };

/* Sorted by name (invariant 1). */
const struct topic_config_key topicdef_config_keys[] = {
	{ "cleanup.policy", "log.cleanup.policy", TCFG_ENUM, 0, 0, cleanup_policies },
	{ "compression.type", "compression.type", TCFG_ENUM, 0, 0, compression_types },
	{ "delete.retention.ms", "log.cleaner.delete.retention.ms", TCFG_INT, 0, INT64_MAX, NULL },
	{ "max.message.bytes", "message.max.bytes", TCFG_INT, 0, INT32_MAX, NULL },
	{ "message.timestamp.type", "log.message.timestamp.type", TCFG_ENUM, 0, 0,
	  timestamp_types },
	{ "min.insync.replicas", "min.insync.replicas", TCFG_INT, 1, INT16_MAX, NULL },
	{ "retention.bytes", "log.retention.bytes", TCFG_INT, -1, INT64_MAX, NULL },
	{ "retention.ms", "log.retention.ms", TCFG_INT, -1, INT64_MAX, NULL },
	{ "segment.bytes", "log.segment.bytes", TCFG_INT, 14, INT32_MAX, NULL },
	{ "segment.ms", "log.roll.ms", TCFG_INT, 1, INT64_MAX, NULL },
};
const size_t topicdef_config_keys_count = sizeof topicdef_config_keys /
					  sizeof topicdef_config_keys[0];

_Static_assert(sizeof topicdef_config_keys / sizeof topicdef_config_keys[0] ==
		       TOPICDEF_CONFIG_KEYS_COUNT,
	       "TOPICDEF_CONFIG_KEYS_COUNT must match the table");
_Static_assert(TOPICDEF_CONFIG_KEYS_COUNT <= TOPICDEF_CONFIGS_MAX,
	       "a topic can always set every key once");

bool topicdef_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > TOPICDEF_NAME_BYTES_MAX)
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

const struct topic_config_key *topicdef_config_key_find(const char *key)
{
	for (size_t i = 0; i < topicdef_config_keys_count; i++)
		if (strcmp(topicdef_config_keys[i].name, key) == 0)
			return &topicdef_config_keys[i];
	return NULL;
}

int topicdef_config_check(const char *key, const char *value, char *errmsg)
{
	const struct topic_config_key *k = topicdef_config_key_find(key);

	if (k == NULL) {
		errmsg_printf(errmsg, "unknown topic config '%s'", key);
		return SLUICE_EINVAL;
	}
	if (value == NULL) {
		errmsg_printf(errmsg, "config '%s' needs a value", key);
		return SLUICE_EINVAL;
	}
	if (k->type == TCFG_ENUM) {
		for (const char *const *c = k->choices; *c != NULL; c++)
			if (strcmp(*c, value) == 0)
				return 0;
		errmsg_printf(errmsg, "invalid value '%s' for config '%s'", value, key);
		return SLUICE_EINVAL;
	}
	char *end;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < k->min || v > k->max) {
		errmsg_printf(errmsg,
			      "invalid value '%s' for config '%s' (an integer in [%lld, %lld])",
			      value, key, (long long)k->min, (long long)k->max);
		return SLUICE_EINVAL;
	}
	return 0;
}
