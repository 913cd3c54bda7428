/*
 * out: the CLI's two output forms. Tables for people: a header row and aligned columns, the way
 * kafka-topics.sh and kafka-consumer-groups.sh print them. JSON for programs: one document per
 * command on one line, written as it is produced.
 *
 * Neither does I/O other than writing to the given FILE, so both can be exercised without a
 * broker. A table keeps copies of its cells until table_print(); the JSON writer keeps only a
 * stack of "first element" flags, bounded by OUT_JSON_DEPTH_MAX (the CLI's documents nest four
 * levels at most).
 */
#ifndef SLUICE_CLI_OUT_H
#define SLUICE_CLI_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define OUT_TABLE_COLS_MAX 12
#define OUT_JSON_DEPTH_MAX 16

struct table {
	int cols;
	const char *headers[OUT_TABLE_COLS_MAX];
	char **cells; /* rows * cols strings, owned */
	size_t rows;
	size_t cap_rows;
	bool oom;
};

/* Starts a table with the `cols` headers in `headers` (static strings, not copied). */
void table_init(struct table *t, int cols, const char *const *headers);

/* Adds a row: the formatted text split at tabs into cells (missing cells are empty). A failed
 * allocation marks the table and table_print() reports it. */
void table_addf(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes the header and the rows with columns padded to their widest cell. Returns 0, or
 * SLUICE_ENOMEM when a row was lost to an allocation failure (the rest is still printed). */
int table_print(const struct table *t, FILE *f);

void table_free(struct table *t);

struct json {
	FILE *f;
	int depth;
	bool first[OUT_JSON_DEPTH_MAX];
	bool after_key;
};

void json_init(struct json *j, FILE *f);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
/* A string of `len` bytes (escaped as JSON requires), or null when len < 0. */
void json_strn(struct json *j, const char *p, int32_t len);
void json_str(struct json *j, const char *s); /* NULL gives null */
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Ends the document with a newline; every container must have been closed. */
void json_finish(struct json *j);

#endif
