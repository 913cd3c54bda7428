/*
 * metrics: a writer of Prometheus' text exposition format, version 0.0.4 (Prometheus
 * documentation, "Exposition formats"). Pure: it appends text to a buffer; the HTTP endpoint
 * serves the buffer with Content-Type METRICS_CONTENT_TYPE.
 *
 * A page is a sequence of families. Each starts with metrics_family(), which writes
 *
 *   # HELP <name> <help, with '\' and newline escaped>
 *   # TYPE <name> counter|gauge
 *
 * and is followed by its samples, one line each, written by metrics_u64/i64/f64():
 *
 *   <name>{<label>="<value, with '\', '"' and newline escaped>",...} <value>
 *
 * (no braces when a sample has no labels). Every sample belongs to the family opened last, so
 * the format's rule that a family's lines are contiguous holds by construction.
 *
 * Invariants (asserted: names come from our code, never from input; label values may come from
 * anywhere and are escaped):
 *   1. Metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and do
 *      not start with "__" (reserved).
 *   2. A counter's name ends in "_total".
 *   3. No sample is written before the first family.
 * Out of memory is sticky (out.oom) and checked once at the end.
 */
#ifndef SLUICE_ADMIN_METRICS_H
#define SLUICE_ADMIN_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* Longest metric name this writer accepts (ours are far shorter). */
#define METRICS_NAME_BYTES_MAX 128
/* Labels per sample (ours have at most 3). */
#define METRICS_LABELS_MAX 8

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE };

/* One label: `value` is any NUL-terminated text (escaped on output). */
struct metrics_label {
	const char *name;
	const char *value;
};

struct metrics {
	struct wbuf out;
	char family[METRICS_NAME_BYTES_MAX + 1]; /* the family samples go to; "" before the first */
	size_t family_len;
	uint32_t families;
	uint64_t samples;
};

/* Starts an empty page with room for `size_hint` bytes (0: none; a wrong hint costs only
 * reallocations). */
void metrics_init(struct metrics *m, size_t size_hint);
void metrics_free(struct metrics *m);

bool metrics_name_valid(const char *name);
bool metrics_label_name_valid(const char *name);

/* Writes the HELP and TYPE lines of family `name` and makes it the current family. */
void metrics_family(struct metrics *m, const char *name, enum metrics_type type, const char *help);

/* Writes one sample of the current family with `n` labels, at most METRICS_LABELS_MAX (`labels`
 * may be NULL when n is 0). */
void metrics_u64(struct metrics *m, const struct metrics_label *labels, size_t n, uint64_t v);
void metrics_i64(struct metrics *m, const struct metrics_label *labels, size_t n, int64_t v);
/* NaN and infinities are written as the format spells them: NaN, +Inf, -Inf. */
void metrics_f64(struct metrics *m, const struct metrics_label *labels, size_t n, double v);

/* For many samples that share a label set (a replica's topic and partition, in six families):
 * metrics_render_labels() appends the set's rendered form ({a="x",b="y"}, escaped; nothing when n
 * is 0) to `w` once, and metrics_i64_rendered() writes a sample of the current family with such
 * a rendering (`len` bytes at `rendered`, as appended). */
void metrics_render_labels(struct wbuf *w, const struct metrics_label *labels, size_t n);
void metrics_i64_rendered(struct metrics *m, const char *rendered, size_t len, int64_t v);

/* Appends `s` to `w` escaped as a label value (without quotes), or as HELP text when `help`:
 * '\' -> "\\", newline -> "\n", and for label values '"' -> "\"". The format is UTF-8, so each
 * byte that is not part of a well-formed UTF-8 sequence becomes U+FFFD (a group id is whatever
 * bytes a client sent). */
void metrics_escape(struct wbuf *w, const char *s, bool help);

#endif
