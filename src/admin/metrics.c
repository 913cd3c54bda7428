/*
 * metrics: the text exposition writer (contract in metrics.h).
 *
 * Written for a scrape of a node with 10,000 replicas, about 70,000 lines: integers are
 * formatted by hand rather than with snprintf, escaping copies runs of plain bytes at once, and
 * the buffer is sized from a hint (the caller passes the size of its previous page).
 */
#include "admin/metrics.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void metrics_init(struct metrics *m, size_t size_hint)
{
	memset(m, 0, sizeof *m);
	wbuf_init(&m->out);
	if (size_hint > 0)
		wbuf_reserve(&m->out, size_hint);
}

void metrics_free(struct metrics *m)
{
	wbuf_free(&m->out);
}

static bool is_alpha_(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool metrics_name_valid(const char *name)
{
	if (name == NULL || !(is_alpha_(name[0]) || name[0] == ':'))
		return false;
	for (const char *p = name + 1; *p != '\0'; p++)
		if (!is_alpha_(*p) && !is_digit(*p) && *p != ':')
			return false;
	return strlen(name) <= METRICS_NAME_BYTES_MAX;
}

bool metrics_label_name_valid(const char *name)
{
	if (name == NULL || !is_alpha_(name[0]) || strncmp(name, "__", 2) == 0)
		return false;
	for (const char *p = name + 1; *p != '\0'; p++)
		if (!is_alpha_(*p) && !is_digit(*p))
			return false;
	return true;
}

static void put_str(struct wbuf *w, const char *s)
{
	wbuf_put(w, s, strlen(s));
}

/* Length of the well-formed UTF-8 sequence at `p` (RFC 3629 section 4), or 0 when the bytes there
 * are not one. `p` is NUL-terminated, and a NUL is never a continuation byte. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f; /* no surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f; /* nothing above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* Writes `s` escaped at `p` (at most 3 * strlen(s) bytes: an escape is 2 bytes for 1, U+FFFD 3
 * for 1) and returns the end. */
static char *escape_to(char *p, const char *s, bool help)
{
	const unsigned char *q = (const unsigned char *)s;

	for (;;) {
		unsigned char c = *q;
		if (c >= 0x80) {
			size_t n = utf8_len(q);
			if (n > 0) {
				memcpy(p, q, n);
				p += n;
				q += n;
				continue;
			}
			/* The format is UTF-8: a byte that is not part of a well-formed sequence
			 * (a client's group id may hold anything) becomes U+FFFD. */
			memcpy(p, "\xEF\xBF\xBD", 3);
			p += 3;
			q++;
			continue;
		}
		if (c == '\0')
			return p;
		if (c == '\\' || c == '\n' || (!help && c == '"')) {
			*p++ = '\\';
			*p++ = c == '\n' ? 'n' : (char)c;
		} else {
			*p++ = (char)c;
		}
		q++;
	}
}

void metrics_escape(struct wbuf *w, const char *s, bool help)
{
	size_t n = strlen(s);

	if (!wbuf_reserve(w, 3 * n))
		return;
	char *end = escape_to((char *)w->data + w->len, s, help);
	w->len = (size_t)(end - (char *)w->data);
}

void metrics_family(struct metrics *m, const char *name, enum metrics_type type, const char *help)
{
	size_t n = strlen(name);

	assert(metrics_name_valid(name));
	assert(type != METRICS_COUNTER || (n > 6 && strcmp(name + n - 6, "_total") == 0));
	memcpy(m->family, name, n + 1);
	m->family_len = n;
	m->families++;
	put_str(&m->out, "# HELP ");
	wbuf_put(&m->out, name, n);
	wbuf_u8(&m->out, ' ');
	metrics_escape(&m->out, help, true);
	put_str(&m->out, "\n# TYPE ");
	wbuf_put(&m->out, name, n);
	put_str(&m->out, type == METRICS_COUNTER ? " counter\n" : " gauge\n");
}

/* Room for a value, its space and its newline: "-9223372036854775808", or "%.17g" of a double
 * (at most 24 characters). */
#define VALUE_BYTES_MAX 40

/* Writes the labels' rendered form at `p` ("{a=\"x\",b=\"y\"}", nothing when n is 0), which
 * must have room for labels_bytes_max(); returns the end. */
static char *labels_to(char *p, const struct metrics_label *labels, size_t n,
		       const size_t *name_len)
{
	if (n == 0)
		return p;
	*p++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		memcpy(p, labels[i].name, name_len[i]);
		p += name_len[i];
		*p++ = '=';
		*p++ = '"';
		p = escape_to(p, labels[i].value, false);
		*p++ = '"';
	}
	*p++ = '}';
	return p;
}

/* An upper bound of the rendered labels' size; fills name_len. */
static size_t labels_bytes_max(const struct metrics_label *labels, size_t n, size_t *name_len)
{
	size_t need = 2;

	assert(n == 0 || labels != NULL);
	assert(n <= METRICS_LABELS_MAX);
	for (size_t i = 0; i < n; i++) {
		assert(metrics_label_name_valid(labels[i].name));
		name_len[i] = strlen(labels[i].name);
		need += name_len[i] + 4 + 3 * strlen(labels[i].value);
	}
	return need;
}

void metrics_render_labels(struct wbuf *w, const struct metrics_label *labels, size_t n)
{
	size_t name_len[METRICS_LABELS_MAX];
	size_t need = labels_bytes_max(labels, n, name_len);

	if (!wbuf_reserve(w, need))
		return;
	char *end = labels_to((char *)w->data + w->len, labels, n, name_len);
	w->len = (size_t)(end - (char *)w->data);
}

/* Reserves room for the whole sample line and writes its name and labels (`n` of `labels`, or
 * `rendered_len` bytes already rendered at `rendered` when that is not NULL) up to the space before the value; returns where the value
 * goes, or NULL when out of memory (out.oom is set). One reservation per line rather than one
 * per piece: a page of 10,000 replicas has 60,000 lines. */
static char *sample_start(struct metrics *m, const struct metrics_label *labels, size_t n,
			  const char *rendered, size_t rendered_len)
{
	size_t name_len[METRICS_LABELS_MAX];
	size_t need = m->family_len + VALUE_BYTES_MAX;
	char *p;

	assert(m->family_len > 0);
	need += rendered == NULL ? labels_bytes_max(labels, n, name_len) : rendered_len;
	if (!wbuf_reserve(&m->out, need))
		return NULL;
	m->samples++;
	p = (char *)m->out.data + m->out.len;
	memcpy(p, m->family, m->family_len);
	p += m->family_len;
	if (rendered == NULL) {
		p = labels_to(p, labels, n, name_len);
	} else {
		memcpy(p, rendered, rendered_len);
		p += rendered_len;
	}
	*p++ = ' ';
	return p;
}

/* Ends the line at `p`, which sample_start returned and a value advanced. */
static void sample_end(struct metrics *m, char *p)
{
	*p++ = '\n';
	m->out.len = (size_t)(p - (char *)m->out.data);
	assert(m->out.len <= m->out.cap);
}

static char *put_u64(char *p, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof tmp;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	memcpy(p, tmp + i, sizeof tmp - i);
	return p + (sizeof tmp - i);
}

void metrics_u64(struct metrics *m, const struct metrics_label *labels, size_t n, uint64_t v)
{
	char *p = sample_start(m, labels, n, NULL, 0);

	if (p != NULL)
		sample_end(m, put_u64(p, v));
}

/* The digits of `v` at `p`; returns the end. */
static char *put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return put_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return put_u64(p, (uint64_t)v);
}

void metrics_i64(struct metrics *m, const struct metrics_label *labels, size_t n, int64_t v)
{
	char *p = sample_start(m, labels, n, NULL, 0);

	if (p != NULL)
		sample_end(m, put_i64(p, v));
}

void metrics_i64_rendered(struct metrics *m, const char *rendered, size_t len, int64_t v)
{
	char *p = sample_start(m, NULL, 0, rendered, len);

	assert(rendered != NULL);
	if (p != NULL)
		sample_end(m, put_i64(p, v));
}

void metrics_f64(struct metrics *m, const struct metrics_label *labels, size_t n, double v)
{
	char tmp[VALUE_BYTES_MAX];
	char *p = sample_start(m, labels, n, NULL, 0);

	if (p == NULL)
		return;
	if (isnan(v)) {
		snprintf(tmp, sizeof tmp, "NaN");
	} else if (isinf(v)) {
		snprintf(tmp, sizeof tmp, "%s", v > 0 ? "+Inf" : "-Inf");
	} else {
		/* The shortest of 15 or 17 significant digits that reads back as the same double. */
		snprintf(tmp, sizeof tmp, "%.15g", v);
		if (strtod(tmp, NULL) != v)
			snprintf(tmp, sizeof tmp, "%.17g", v);
	}
	size_t len = strlen(tmp);
	assert(len + 2 <= VALUE_BYTES_MAX);
	memcpy(p, tmp, len);
	sample_end(m, p + len);
}
