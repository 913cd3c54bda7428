/*
 * config: properties files and command-line overrides checked against a schema (see config.h).
 *
 * Syntax accepted, a subset of Java's Properties kept to what Kafka's own files use:
 *   - one `key=value` per line; spaces and tabs around the key, the '=' and the value are
 *     ignored, so `log.dirs = /var/lib/sluice` works; the value is everything after the first '='
 *     (it may itself contain '=' and '#');
 *   - a line whose first non-blank character is '#' or '!' is a comment; blank lines are skipped;
 *   - "\n" and "\r\n" line ends are both accepted;
 *   - no escapes, no continuation lines, no `key value` or `key: value` forms;
 *   - a key given twice takes its last value, as Kafka does.
 *
 * Values by type:
 *   CONFIG_INT     optional sign, decimal digits, optional suffix k, m or g (any case) meaning
 *                  x1024, x1024^2, x1024^3; must fit int64_t and lie in [min, max].
 *   CONFIG_BOOL    true or false, any case.
 *   CONFIG_STRING  the text as is, at most CONFIG_STRING_BYTES_MAX - 1 bytes.
 *
 * Failure modes: every problem stops parsing with SLUICE_ECONFIG and a message naming where
 * ("node.properties:7", "command line", "default"), the key and the value:
 *   node.properties:3: unknown key 'log.segmnet.bytes'
 *   node.properties:7: log.segment.bytes: value 'abc' is not an integer
 *   node.properties:8: log.segment.bytes: value '1' is out of range [1048576, 1073741824]
 *   node.properties:9: log.flush.enabled: value 'yes' is not true or false
 *   node.properties:4: expected key=value
 *   node.properties:5: line is longer than 4096 bytes
 * On failure `target` may hold some keys already applied; the caller discards it.
 *
 * Invariants:
 *   1. A schema entry's min <= max and its default is valid (asserted / reported by
 *      config_defaults as a bug in the schema).
 *   2. A string field always ends up NUL-terminated within CONFIG_STRING_BYTES_MAX bytes.
 */
#include "base/config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"

/* A properties file larger than this is surely not one; the bound keeps a mistaken path (a log
 * file, a device) from being read whole into memory. */
#define CONFIG_FILE_BYTES_MAX (1u << 20)

/* Values and keys are quoted in messages up to this many bytes, so the message's tail (what is
 * wrong) always fits in the error buffer. */
#define CONFIG_QUOTE_BYTES_MAX 128

_Static_assert(CONFIG_QUOTE_BYTES_MAX * 2 + 128 < ERRMSG_BYTES_MAX,
	       "a message with a quoted key and value must fit an errmsg");

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Returns the entry of `schema` named `key` (`key_len` bytes, not NUL-terminated), or NULL. */
static const struct config_key *lookup(const struct config_key *schema, size_t n, const char *key,
				       size_t key_len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(schema[i].name) == key_len && memcmp(schema[i].name, key, key_len) == 0)
			return &schema[i];
	return NULL;
}

/* Quoting a text of `len` bytes in a message: print it with precision quote_len(len) followed by
 * quote_mark(len), so a long text shows its first CONFIG_QUOTE_BYTES_MAX bytes and "...". */
static int quote_len(size_t len)
{
	return len > CONFIG_QUOTE_BYTES_MAX ? CONFIG_QUOTE_BYTES_MAX : (int)len;
}

static const char *quote_mark(size_t len)
{
	return len > CONFIG_QUOTE_BYTES_MAX ? "..." : "";
}

/* Parses a CONFIG_INT value. Returns 0 and sets *out, or SLUICE_ECONFIG with `errmsg` set to
 * "<key>: value '<v>' ..." (the caller adds where). */
static int parse_int(const struct config_key *k, const char *v, int64_t *out, char *errmsg)
{
	size_t v_len = strlen(v);
	const char *p = v;
	bool negative = false;
	bool overflow = false;
	uint64_t magnitude = 0;

	if (*p == '+' || *p == '-') {
		negative = *p == '-';
		p++;
	}
	if (!isdigit((unsigned char)*p))
		goto not_integer;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (magnitude > (UINT64_MAX - digit) / 10)
			overflow = true;
		else
			magnitude = magnitude * 10 + digit;
	}

	uint64_t multiplier = 1;
	switch (*p) {
	case 'k':
	case 'K':
		multiplier = 1024;
		p++;
		break;
	case 'm':
	case 'M':
		multiplier = 1024 * 1024;
		p++;
		break;
	case 'g':
	case 'G':
		multiplier = 1024 * 1024 * 1024;
		p++;
		break;
	default:
		break;
	}
	if (*p != '\0')
		goto not_integer;
	if (magnitude > UINT64_MAX / multiplier)
		overflow = true;
	else
		magnitude *= multiplier;

	/* The magnitude of INT64_MIN is one more than INT64_MAX. */
	uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (overflow || magnitude > limit)
		goto out_of_range;
	int64_t value;
	if (!negative)
		value = (int64_t)magnitude;
	else if (magnitude == (uint64_t)INT64_MAX + 1)
		value = INT64_MIN;
	else
		value = -(int64_t)magnitude;
	if (value < k->min || value > k->max)
		goto out_of_range;
	*out = value;
	return 0;

not_integer:
	errmsg_printf(errmsg, "%s: value '%.*s%s' is not an integer", k->name, quote_len(v_len), v,
		      quote_mark(v_len));
	return SLUICE_ECONFIG;
out_of_range:
	errmsg_printf(errmsg, "%s: value '%.*s%s' is out of range [%" PRId64 ", %" PRId64 "]",
		      k->name, quote_len(v_len), v, quote_mark(v_len), k->min, k->max);
	return SLUICE_ECONFIG;
}

/* Checks `v` against `k` and stores it in `target`. Returns 0, or SLUICE_ECONFIG with a message
 * "<key>: ..." in `errmsg`; `target` is untouched on failure. */
static int apply(const struct config_key *k, void *target, const char *v, char *errmsg)
{
	char *field = (char *)target + k->offset;
	size_t v_len = strlen(v);

	switch (k->type) {
	case CONFIG_INT: {
		int64_t value;
		int rc = parse_int(k, v, &value, errmsg);

		if (rc != 0)
			return rc;
		memcpy(field, &value, sizeof value);
		return 0;
	}
	case CONFIG_BOOL: {
		bool value;

		if (strcasecmp(v, "true") == 0) {
			value = true;
		} else if (strcasecmp(v, "false") == 0) {
			value = false;
		} else {
			errmsg_printf(errmsg, "%s: value '%.*s%s' is not true or false", k->name,
				      quote_len(v_len), v, quote_mark(v_len));
			return SLUICE_ECONFIG;
		}
		memcpy(field, &value, sizeof value);
		return 0;
	}
	case CONFIG_STRING:
		if (v_len > CONFIG_STRING_BYTES_MAX - 1) {
			errmsg_printf(errmsg, "%s: value is longer than %d bytes", k->name,
				      CONFIG_STRING_BYTES_MAX - 1);
			return SLUICE_ECONFIG;
		}
		memcpy(field, v, v_len + 1);
		return 0;
	}
	assert(0 && "unknown config_type in schema");
	return SLUICE_ECONFIG;
}

/* A NULL default means 0, false or the empty string. */
int config_defaults(const struct config_key *schema, size_t n, void *target, char *errmsg)
{
	for (size_t i = 0; i < n; i++) {
		const struct config_key *k = &schema[i];
		const char *v = k->default_value;

		assert(k->name != NULL);
		assert(k->type != CONFIG_INT || k->min <= k->max);
		if (v == NULL)
			v = k->type == CONFIG_INT ? "0" : k->type == CONFIG_BOOL ? "false" : "";
		int rc = apply(k, target, v, errmsg);
		if (rc != 0) {
			errmsg_wrapf(errmsg, "default");
			return rc;
		}
	}
	return 0;
}

/* `key` and `value` come from the command line, so both are checked; a NULL value ("--key" with
 * no "=value") is reported as missing. */
int config_set(const struct config_key *schema, size_t n, void *target, const char *key,
	       const char *value, char *errmsg)
{
	size_t key_len = strlen(key);
	const struct config_key *k = lookup(schema, n, key, key_len);

	if (k == NULL) {
		errmsg_printf(errmsg, "command line: unknown key '%.*s%s'", quote_len(key_len), key,
			      quote_mark(key_len));
		return SLUICE_ECONFIG;
	}
	if (value == NULL) {
		errmsg_printf(errmsg, "command line: %s: missing value", k->name);
		return SLUICE_ECONFIG;
	}
	int rc = apply(k, target, value, errmsg);
	if (rc != 0)
		errmsg_wrapf(errmsg, "command line");
	return rc;
}

/* Parses one line, `len` bytes at `line` without its '\n' (len <= CONFIG_LINE_BYTES_MAX). */
static int parse_line(const struct config_key *schema, size_t n, void *target, const char *line,
		      size_t len, const char *source, unsigned line_no, char *errmsg)
{
	/* The value is copied out to be NUL-terminated for apply(). */
	char value[CONFIG_LINE_BYTES_MAX + 1];
	const char *end = line + len;
	const char *p = line;

	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	if (p == end || *p == '#' || *p == '!')
		return 0;

	const char *eq = memchr(p, '=', (size_t)(end - p));
	if (eq == NULL || eq == p) {
		errmsg_printf(errmsg, "%s:%u: expected key=value", source, line_no);
		return SLUICE_ECONFIG;
	}
	const char *key_end = eq;
	while (key_end > p && is_blank(key_end[-1]))
		key_end--;
	size_t key_len = (size_t)(key_end - p);
	const char *v = eq + 1;
	while (v < end && is_blank(*v))
		v++;

	const struct config_key *k = lookup(schema, n, p, key_len);
	if (k == NULL) {
		errmsg_printf(errmsg, "%s:%u: unknown key '%.*s%s'", source, line_no,
			      quote_len(key_len), p, quote_mark(key_len));
		return SLUICE_ECONFIG;
	}
	size_t v_len = (size_t)(end - v);
	assert(v_len <= CONFIG_LINE_BYTES_MAX);
	memcpy(value, v, v_len);
	value[v_len] = '\0';
	int rc = apply(k, target, value, errmsg);
	if (rc != 0)
		errmsg_wrapf(errmsg, "%s:%u", source, line_no);
	return rc;
}

int config_parse(const struct config_key *schema, size_t n, void *target, const char *text,
		 const char *source, char *errmsg)
{
	const char *p = text;
	unsigned line_no = 0;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		line_no++;
		if (len > CONFIG_LINE_BYTES_MAX) {
			errmsg_printf(errmsg, "%s:%u: line is longer than %d bytes", source,
				      line_no, CONFIG_LINE_BYTES_MAX);
			return SLUICE_ECONFIG;
		}
		int rc = parse_line(schema, n, target, p, len, source, line_no, errmsg);
		if (rc != 0)
			return rc;
		p += len;
		if (*p == '\n')
			p++;
	}
	return 0;
}

/* Returns 0, SLUICE_ECONFIG for bad content (including a NUL byte or a file over 1 MiB), or the
 * code err_from_errno() gives for a failure to open or read the file, with "<path>: <reason>". */
int config_parse_file(const struct config_key *schema, size_t n, void *target, const char *path,
		      char *errmsg)
{
	char *text;
	size_t len = 0;
	int rc;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		int saved = errno;

		rc = err_from_errno(saved);
		errmsg_printf(errmsg, "%s: %s", path, strerror(saved));
		return rc;
	}
	text = malloc(CONFIG_FILE_BYTES_MAX + 1);
	if (text == NULL) {
		errmsg_printf(errmsg, "%s: %s", path, err_str(SLUICE_ENOMEM));
		rc = SLUICE_ENOMEM;
		goto err_after_open;
	}
	/* Read one byte more than allowed, to tell a file at the limit from one over it. */
	len = fread(text, 1, CONFIG_FILE_BYTES_MAX + 1, f);
	if (ferror(f)) {
		errmsg_printf(errmsg, "%s: %s", path, err_str(SLUICE_EIO));
		rc = SLUICE_EIO;
		goto err_after_alloc;
	}
	if (len > CONFIG_FILE_BYTES_MAX) {
		errmsg_printf(errmsg, "%s: file is larger than %u bytes", path,
			      CONFIG_FILE_BYTES_MAX);
		rc = SLUICE_ECONFIG;
		goto err_after_alloc;
	}
	if (memchr(text, '\0', len) != NULL) {
		errmsg_printf(errmsg, "%s: file contains a NUL byte", path);
		rc = SLUICE_ECONFIG;
		goto err_after_alloc;
	}
	text[len] = '\0';
	fclose(f);
	rc = config_parse(schema, n, target, text, path, errmsg);
	free(text);
	return rc;

err_after_alloc:
	free(text);
err_after_open:
	fclose(f);
	return rc;
}
