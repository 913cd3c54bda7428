/*
 * slog: Sluice's log lines, one per event, in a structured key=value form that both people and
 * tools read:
 *
 *   2026-11-25T20:50:01.123Z level=warn module=storage msg="torn tail truncated" file=... pos=4096
 *
 * Callers pass a message and then key=value pairs in one printf format; values that may contain
 * spaces are quoted by the caller with %s inside "...". Levels below the configured one cost a
 * comparison. Output goes to stderr by default; tests may install a sink to capture lines.
 * Thread-safe: a line is formatted into a local buffer and written with one write() call.
 */
#ifndef SLUICE_BASE_SLOG_H
#define SLUICE_BASE_SLOG_H

#include <stdbool.h>

enum slog_level { SLOG_DEBUG, SLOG_INFO, SLOG_WARN, SLOG_ERROR };

/* Longest line written; longer ones are cut and end in "...". */
#define SLOG_LINE_BYTES_MAX 2048

/* Receives each line NUL-terminated, without its '\n'; calls are serialised by slog. */
typedef void (*slog_sink_fn)(void *arg, enum slog_level level, const char *line);

void slog_set_level(enum slog_level level);
enum slog_level slog_get_level(void);
/* Parses "debug", "info", "warn", "error"; returns SLUICE_EINVAL for anything else. */
int slog_parse_level(const char *name, enum slog_level *out);
/* Replaces the output; NULL restores stderr. */
void slog_set_sink(slog_sink_fn fn, void *arg);

void slog_write(enum slog_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define SLOG_DEBUG(mod, ...)                                                                       \
	do {                                                                                       \
		if (slog_get_level() <= SLOG_DEBUG)                                                \
			slog_write(SLOG_DEBUG, mod, __VA_ARGS__);                                  \
	} while (0)
#define SLOG_INFO(mod, ...) slog_write(SLOG_INFO, mod, __VA_ARGS__)
#define SLOG_WARN(mod, ...) slog_write(SLOG_WARN, mod, __VA_ARGS__)
#define SLOG_ERROR(mod, ...) slog_write(SLOG_ERROR, mod, __VA_ARGS__)

#endif
