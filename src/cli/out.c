/*
 * out: tables and JSON for the CLI. Contract in out.h.
 *
 * Invariants:
 *   1. table: cells holds rows * cols pointers, each a malloc'd NUL-terminated string.
 *   2. json: 0 <= depth < OUT_JSON_DEPTH_MAX; first[depth] says whether the open container has
 *      no element yet, so the next value is written without a leading comma.
 */
#include "cli/out.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

void table_init(struct table *t, int cols, const char *const *headers)
{
	assert(cols > 0 && cols <= OUT_TABLE_COLS_MAX);
	memset(t, 0, sizeof *t);
	t->cols = cols;
	for (int i = 0; i < cols; i++)
		t->headers[i] = headers[i];
}

void table_addf(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *line = NULL;
	char *p;
	char **row;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->oom = true;
		return;
	}
	if (t->rows == t->cap_rows) {
		size_t cap = t->cap_rows == 0 ? 16 : t->cap_rows * 2;
		char **cells = realloc(t->cells, cap * (size_t)t->cols * sizeof *cells);

		if (cells == NULL) {
			t->oom = true;
			free(line);
			return;
		}
		t->cells = cells;
		t->cap_rows = cap;
	}
	row = t->cells + t->rows * (size_t)t->cols;
	p = line;
	for (int i = 0; i < t->cols; i++) {
		char *tab = p != NULL ? strchr(p, '\t') : NULL;
		size_t len = p == NULL ? 0 : tab != NULL ? (size_t)(tab - p) : strlen(p);

		row[i] = strndup(p != NULL ? p : "", len);
		if (row[i] == NULL) {
			for (int k = 0; k < i; k++)
				free(row[k]);
			t->oom = true;
			free(line);
			return;
		}
		p = tab != NULL ? tab + 1 : NULL;
	}
	free(line);
	t->rows++;
}

int table_print(const struct table *t, FILE *f)
{
	size_t width[OUT_TABLE_COLS_MAX];

	for (int c = 0; c < t->cols; c++) {
		width[c] = strlen(t->headers[c]);
		for (size_t r = 0; r < t->rows; r++) {
			size_t w = strlen(t->cells[r * (size_t)t->cols + (size_t)c]);

			if (w > width[c])
				width[c] = w;
		}
	}
	for (size_t r = 0; r <= t->rows; r++) {
		for (int c = 0; c < t->cols; c++) {
			const char *s = r == 0 ? t->headers[c] :
						 t->cells[(r - 1) * (size_t)t->cols + (size_t)c];

			if (c == t->cols - 1)
				fprintf(f, "%s\n", s);
			else
				fprintf(f, "%-*s  ", (int)width[c], s);
		}
	}
	return t->oom ? SLUICE_ENOMEM : 0;
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->rows * (size_t)t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = t->cap_rows = 0;
}

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof *j);
	j->f = f;
	j->first[0] = true;
}

/* Writes the separator a new value needs: none after a key, a comma after a sibling. */
static void value_start(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
}

static void open_container(struct json *j, char c)
{
	value_start(j);
	fputc(c, j->f);
	assert(j->depth + 1 < OUT_JSON_DEPTH_MAX);
	j->depth++;
	j->first[j->depth] = true;
}

static void close_container(struct json *j, char c)
{
	assert(j->depth > 0 && !j->after_key);
	j->depth--;
	fputc(c, j->f);
}

void json_obj_begin(struct json *j)
{
	open_container(j, '{');
}

void json_obj_end(struct json *j)
{
	close_container(j, '}');
}

void json_arr_begin(struct json *j)
{
	open_container(j, '[');
}

void json_arr_end(struct json *j)
{
	close_container(j, ']');
}

static void put_escaped(FILE *f, const char *p, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void json_key(struct json *j, const char *key)
{
	assert(!j->after_key);
	value_start(j);
	put_escaped(j->f, key, strlen(key));
	fputc(':', j->f);
	j->after_key = true;
}

void json_strn(struct json *j, const char *p, int32_t len)
{
	if (len < 0) {
		json_null(j);
		return;
	}
	value_start(j);
	put_escaped(j->f, p, (size_t)len);
}

void json_str(struct json *j, const char *s)
{
	if (s == NULL)
		json_null(j);
	else
		json_strn(j, s, (int32_t)strlen(s));
}

void json_int(struct json *j, int64_t v)
{
	value_start(j);
	fprintf(j->f, "%" PRId64, v);
}

void json_bool(struct json *j, bool v)
{
	value_start(j);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
	value_start(j);
	fputs("null", j->f);
}

void json_finish(struct json *j)
{
	assert(j->depth == 0 && !j->after_key);
	fputc('\n', j->f);
}
