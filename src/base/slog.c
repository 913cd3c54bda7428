/*
 * slog: formatting and output of log lines (see slog.h).
 *
 * A line is
 *
 *   <UTC time to the millisecond>Z level=<level> module=<module> <caller's text>
 *   2026-11-25T20:50:01.123Z level=info module=storage msg="segment rolled" base_offset=4096
 *
 * where the caller's text is its printf format expanded as given (by convention it begins with
 * msg="..." and continues with key=value pairs).
 *
 * Happy path: slog_write() drops lines below the level, formats the whole line into a buffer on
 * the stack and passes it out with one write(2) to stderr, or to the sink a test installed.
 *
 * Failure modes handled:
 *   - Text longer than the line limit is cut, at a UTF-8 character boundary, and ends in "...".
 *   - A newline or carriage return inside the caller's text (a client id, a file name) would
 *     split one event over two lines and let input forge log lines, so each becomes a space.
 *   - A failed write to stderr is ignored: there is nowhere left to report it.
 *
 * Invariants:
 *   1. One call writes at most one line, at most SLOG_LINE_BYTES_MAX bytes including its '\n',
 *      with a single write() (or a single sink call), so lines from threads never interleave.
 *   2. The sink receives the line without its '\n', NUL-terminated; sink calls are serialised by
 *      a mutex, so a sink needs no locking of its own.
 */
#include "base/slog.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"

/* Characters of text in a line, leaving one byte of the limit for the '\n'. */
#define SLOG_TEXT_BYTES_MAX (SLOG_LINE_BYTES_MAX - 1)
#define SLOG_CUT_MARK "..."

_Static_assert(SLOG_LINE_BYTES_MAX > 128, "a line must hold its prefix and the cut mark");

static atomic_int level_current = SLOG_INFO;

static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static slog_sink_fn sink_fn;
static void *sink_arg;

static const char *const level_names[] = {
	[SLOG_DEBUG] = "debug",
	[SLOG_INFO] = "info",
	[SLOG_WARN] = "warn",
	[SLOG_ERROR] = "error",
};

void slog_set_level(enum slog_level level)
{
	assert(level >= SLOG_DEBUG && level <= SLOG_ERROR);
	atomic_store_explicit(&level_current, (int)level, memory_order_relaxed);
}

enum slog_level slog_get_level(void)
{
	return (enum slog_level)atomic_load_explicit(&level_current, memory_order_relaxed);
}

/* Returns 0 and sets *out, or SLUICE_EINVAL for a name that is not a level (case-insensitive,
 * since operators type it). `name` may be NULL. */
int slog_parse_level(const char *name, enum slog_level *out)
{
	if (name == NULL)
		return SLUICE_EINVAL;
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum slog_level)i;
			return 0;
		}
	}
	return SLUICE_EINVAL;
}

void slog_set_sink(slog_sink_fn fn, void *arg)
{
	pthread_mutex_lock(&sink_lock);
	sink_fn = fn;
	sink_arg = fn != NULL ? arg : NULL;
	pthread_mutex_unlock(&sink_lock);
}

/* Writes the whole of `n` bytes to stderr, continuing after a partial write or EINTR. */
static void write_stderr(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t rc = write(STDERR_FILENO, p, n);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return;
		p += rc;
		n -= (size_t)rc;
	}
}

/* Returns the length of the prefix "<time> level=<level> module=<module> " written to `line`,
 * which holds `size` bytes; the prefix is cut (never overflowed) if `module` is absurdly long. */
static size_t format_prefix(char *line, size_t size, enum slog_level level, const char *module)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s module=%s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (int)(ts.tv_nsec / 1000000), level_names[level], module);
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

void slog_write(enum slog_level level, const char *module, const char *fmt, ...)
{
	/* One more byte than a line for the NUL while the text is built. */
	char line[SLOG_LINE_BYTES_MAX + 1];
	va_list ap;

	assert(level >= SLOG_DEBUG && level <= SLOG_ERROR);
	if ((int)level < atomic_load_explicit(&level_current, memory_order_relaxed))
		return;

	size_t len = format_prefix(line, SLOG_TEXT_BYTES_MAX + 1, level,
				   module != NULL ? module : "-");
	size_t text_start = len;

	va_start(ap, fmt);
	int n = vsnprintf(line + len, SLOG_TEXT_BYTES_MAX + 1 - len, fmt, ap);
	va_end(ap);
	if (n > 0)
		len += (size_t)n;

	if (len > SLOG_TEXT_BYTES_MAX) {
		size_t cut = SLOG_TEXT_BYTES_MAX - strlen(SLOG_CUT_MARK);

		/* Do not leave half a UTF-8 character before the mark. */
		while (cut > text_start && ((unsigned char)line[cut] & 0xC0) == 0x80)
			cut--;
		memcpy(line + cut, SLOG_CUT_MARK, strlen(SLOG_CUT_MARK));
		len = cut + strlen(SLOG_CUT_MARK);
	}
	line[len] = '\0';
	for (size_t i = text_start; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	assert(len <= SLOG_TEXT_BYTES_MAX);

	pthread_mutex_lock(&sink_lock);
	if (sink_fn != NULL) {
		sink_fn(sink_arg, level, line);
		pthread_mutex_unlock(&sink_lock);
		return;
	}
	pthread_mutex_unlock(&sink_lock);

	line[len] = '\n';
	write_stderr(line, len + 1);
}
