/*
 * config: Kafka-style properties files ("key=value" lines, '#' and '!' comments, blank lines)
 * parsed against a schema that the caller declares, so an unknown key or a bad value stops with
 * a message that names the key and the line ("node.properties:7: log.segment.bytes: value
 * 'abc' is not an integer").
 *
 * A schema is an array of struct config_key, each naming a key, its type, limits, default and
 * where in the caller's struct the value goes. config_defaults() fills the defaults; config_parse
 * reads a file's text; config_set applies one key=value (used for command-line overrides, so
 * every key is overridable as --key=value).
 *
 * Sizes accept the suffixes k, m, g (powers of 1024); durations are plain milliseconds.
 */
#ifndef SLUICE_BASE_CONFIG_H
#define SLUICE_BASE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum config_type {
	CONFIG_INT,    /* int64_t, within [min, max] */
	CONFIG_BOOL,   /* bool: true/false */
	CONFIG_STRING, /* char[CONFIG_STRING_BYTES_MAX] */
};

#define CONFIG_STRING_BYTES_MAX 512
/* Longest line accepted in a properties file. */
#define CONFIG_LINE_BYTES_MAX 4096

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset; /* offsetof the field in the target struct */
	int64_t min;
	int64_t max;
	const char *default_value; /* text, parsed like a file value */
	const char *doc;           /* one line for the configuration reference */
};

/* Sets every key of `schema` to its default in `target`. Returns 0, or SLUICE_ECONFIG (with the
 * key named in `errmsg`) if a default is itself invalid (a bug). */
int config_defaults(const struct config_key *schema, size_t n, void *target, char *errmsg);

/* Applies one key=value. Returns SLUICE_ECONFIG with a message naming the key if the key is
 * unknown or the value is invalid. */
int config_set(const struct config_key *schema, size_t n, void *target, const char *key,
	       const char *value, char *errmsg);

/* Parses properties text (NUL-terminated); `source` names it in messages (a file name). */
int config_parse(const struct config_key *schema, size_t n, void *target, const char *text,
		 const char *source, char *errmsg);

/* Reads and parses a file. */
int config_parse_file(const struct config_key *schema, size_t n, void *target, const char *path,
		      char *errmsg);

#endif
