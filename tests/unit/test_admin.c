/*
 * test_admin: the admin endpoint's pure parts — the HTTP request-head parser, percent-decoding,
 * query lookup and JSON strings (src/admin/http.c), and the Prometheus text writer with its
 * escaping (src/admin/metrics.c). No loop, no socket.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/http.h"
#include "admin/metrics.h"
#include "base/buf.h"
#include "base/err.h"

#define HEAD_MAX 8192

/* ck_assert records every passing check through the fork pipe; loops that check thousands of
 * times use this, which only talks to check on failure. */
#define require(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);                      \
	} while (0)

static enum http_parse_result parse(const char *s, struct http_request *req)
{
	return http_request_parse(s, strlen(s), HEAD_MAX, req);
}

/* The status a whole head gets (0 when it parses). */
static int status_of(const char *s)
{
	struct http_request req;
	enum http_parse_result r = parse(s, &req);

	if (r == HTTP_PARSE_DONE)
		return 0;
	if (r == HTTP_PARSE_INCOMPLETE)
		return -1;
	return req.error_status;
}

/* The text a wbuf holds, NUL-terminated (the wbuf gets one more byte). */
static const char *text(struct wbuf *w)
{
	wbuf_u8(w, '\0');
	w->len--;
	return (const char *)w->data;
}

/* ---- the parser ---------------------------------------------------------------------------- */

/* A GET with a query and a few fields parses into method, path, query, version and the head's
 * exact length; the bytes after the head are not part of it. */
START_TEST(test_http_parse_get_with_query_and_fields)
{
	const char *s = "GET /v1/partitions/t/3/transfer?to=2&x=y HTTP/1.1\r\n"
			"Host: 127.0.0.1:9644\r\n"
			"User-Agent: test\r\n"
			"Accept: */*\r\n"
			"\r\n"
			"trailing bytes";
	struct http_request req;

	ck_assert_int_eq(parse(s, &req), HTTP_PARSE_DONE);
	ck_assert_int_eq(req.method, HTTP_METHOD_GET);
	ck_assert_str_eq(req.method_name, "GET");
	ck_assert_int_eq(req.path_len, strlen("/v1/partitions/t/3/transfer"));
	ck_assert(memcmp(req.path, "/v1/partitions/t/3/transfer", req.path_len) == 0);
	ck_assert_int_eq(req.query_len, strlen("to=2&x=y"));
	ck_assert(memcmp(req.query, "to=2&x=y", req.query_len) == 0);
	ck_assert_int_eq(req.version_minor, 1);
	ck_assert_int_eq(req.content_length, -1);
	ck_assert_int_eq(req.head_bytes, strlen(s) - strlen("trailing bytes"));
}
END_TEST

/* HTTP/1.0 needs no Host; bare LF line ends are accepted (RFC 9112 section 2.2); POST and other
 * tokens are classified. */
START_TEST(test_http_parse_http10_bare_lf_and_methods)
{
	struct http_request req;

	ck_assert_int_eq(parse("GET /health HTTP/1.0\n\n", &req), HTTP_PARSE_DONE);
	ck_assert_int_eq(req.version_minor, 0);
	ck_assert_ptr_null(req.query);
	ck_assert_int_eq(req.head_bytes, strlen("GET /health HTTP/1.0\n\n"));
	ck_assert_int_eq(parse("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", &req),
			 HTTP_PARSE_DONE);
	ck_assert_int_eq(req.method, HTTP_METHOD_POST);
	ck_assert_int_eq(req.content_length, 5);
	ck_assert_int_eq(parse("BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n", &req), HTTP_PARSE_DONE);
	ck_assert_int_eq(req.method, HTTP_METHOD_OTHER);
	ck_assert_str_eq(req.method_name, "BREW");
	/* Methods are case-sensitive: "get" is another token. */
	ck_assert_int_eq(parse("get / HTTP/1.1\r\nHost: h\r\n\r\n", &req), HTTP_PARSE_DONE);
	ck_assert_int_eq(req.method, HTTP_METHOD_OTHER);
	/* The same Content-Length twice is one length. */
	ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
				   "content-length: 3\r\n\r\n"),
			 0);
}
END_TEST

/* Every proper prefix of a valid head is INCOMPLETE, the whole DONE: a head may arrive one byte
 * per read. */
START_TEST(test_http_parse_incomplete_until_the_empty_line)
{
	const char *s = "POST /v1/partitions/orders/0/transfer?to=3 HTTP/1.1\r\n"
			"Host: localhost\r\nContent-Length: 0\r\n\r\n";
	struct http_request req;
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		require(http_request_parse(s, i, HEAD_MAX, &req) == HTTP_PARSE_INCOMPLETE);
	ck_assert_int_eq(http_request_parse(s, n, HEAD_MAX, &req), HTTP_PARSE_DONE);
	ck_assert_int_eq(req.head_bytes, n);
}
END_TEST

/* Bytes no request line may hold are refused before any line end arrives: binary garbage, a
 * TLS ClientHello, a Kafka frame sent to the wrong port. */
START_TEST(test_http_parse_refuses_garbage_at_once)
{
	static const char *const garbage[] = {
		"\x16\x03\x01\x02\x00\x01", /* TLS */
		"\x00\x00\x00\x2a\x00\x12", /* a Kafka size prefix */
		" GET /",                   /* leading space */
		"GET\t/",                   /* tab after the method */
		"GE(T /",                   /* not a token */
		"GET /a\x01",               /* control byte in the target */
		"GET /\xc3\xa9",            /* non-ASCII in the target */
	};
	struct http_request req;

	for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
		size_t n = garbage[i][0] == '\0' ? 6 : strlen(garbage[i]);
		ck_assert_int_eq(http_request_parse(garbage[i], n, HEAD_MAX, &req),
				 HTTP_PARSE_ERROR);
		ck_assert_int_eq(req.error_status, 400);
		ck_assert_ptr_nonnull(req.error_reason);
	}
	/* A method token longer than any method, with no space yet. */
	char longm[64];
	memset(longm, 'A', sizeof longm);
	ck_assert_int_eq(http_request_parse(longm, sizeof longm, HEAD_MAX, &req), HTTP_PARSE_ERROR);
	ck_assert_int_eq(req.error_status, 400);
}
END_TEST

/* A head of exactly head_bytes_max bytes parses; one byte more is 431, decided as soon as that
 * many bytes arrived without an end (a 100 KiB field never needs to be read whole). */
START_TEST(test_http_parse_head_limit_is_exact_and_431)
{
	const char *start = "GET /metrics HTTP/1.1\r\nHost: h\r\nX-Pad: ";
	char *buf = malloc(200 * 1024);
	struct http_request req;
	size_t fixed = strlen(start) + 4; /* the pad field's CRLF and the empty line */

	ck_assert_ptr_nonnull(buf);
	size_t pad = HEAD_MAX - fixed;
	memcpy(buf, start, strlen(start));
	memset(buf + strlen(start), 'a', pad);
	memcpy(buf + strlen(start) + pad, "\r\n\r\n", 4);
	ck_assert_int_eq(http_request_parse(buf, HEAD_MAX, HEAD_MAX, &req), HTTP_PARSE_DONE);
	ck_assert_int_eq(req.head_bytes, HEAD_MAX);

	memset(buf + strlen(start), 'a', pad + 1);
	memcpy(buf + strlen(start) + pad + 1, "\r\n\r\n", 4);
	ck_assert_int_eq(http_request_parse(buf, HEAD_MAX - 1, HEAD_MAX, &req),
			 HTTP_PARSE_INCOMPLETE);
	ck_assert_int_eq(http_request_parse(buf, HEAD_MAX, HEAD_MAX, &req), HTTP_PARSE_ERROR);
	ck_assert_int_eq(req.error_status, 431);
	ck_assert_int_eq(http_request_parse(buf, HEAD_MAX + 1, HEAD_MAX, &req), HTTP_PARSE_ERROR);
	ck_assert_int_eq(req.error_status, 431);

	/* A 100 KiB field, as the integration test sends. */
	memset(buf + strlen(start), 'b', 100 * 1024);
	ck_assert_int_eq(http_request_parse(buf, 100 * 1024, HEAD_MAX, &req), HTTP_PARSE_ERROR);
	ck_assert_int_eq(req.error_status, 431);
	free(buf);
}
END_TEST

/* More than HTTP_HEADER_FIELDS_MAX fields is 431 even when the head is short enough. */
START_TEST(test_http_parse_too_many_fields_is_431)
{
	char buf[HEAD_MAX];
	size_t n = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: h\r\n");
	struct http_request req;

	for (int i = 0; i < HTTP_HEADER_FIELDS_MAX - 1; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "X%d: v\r\n", i);
	n += (size_t)snprintf(buf + n, sizeof buf - n, "\r\n");
	ck_assert_int_eq(http_request_parse(buf, n, HEAD_MAX, &req), HTTP_PARSE_DONE);
	n -= 2;
	n += (size_t)snprintf(buf + n, sizeof buf - n, "One-More: v\r\n\r\n");
	ck_assert_int_eq(http_request_parse(buf, n, HEAD_MAX, &req), HTTP_PARSE_ERROR);
	ck_assert_int_eq(req.error_status, 431);
}
END_TEST

/* Heads that break the grammar, each with the status it gets. */
START_TEST(test_http_parse_malformed_heads)
{
	static const struct {
		const char *head;
		int status;
	} cases[] = {
		{ "GET /metrics HTTP/1.1\r\n\r\n", 400 },                 /* no Host */
		{ "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 }, /* two Hosts */
		{ "GET /x HTTP/1.1\r\nHost : a\r\n\r\n", 400 },           /* space before : */
		{ "GET /x HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400 }, /* obs-fold */
		{ "GET /x HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400 },
		{ "GET /x HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400 },       /* empty name */
		{ "GET /x HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", 400 }, /* control byte */
		{ "GET /x HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400 },   /* bare CR */
		{ "GET /x HTTP/1.1\r\nHost: a\r\nX\x7f: v\r\n\r\n", 400 },  /* DEL in a name */
		{ "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400 },
		{ "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400 },
		{ "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400 },
		{ "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		  400 },
		{ "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456789\r\n\r\n",
		  400 },
		{ "GET /x\r\nHost: a\r\n\r\n", 400 },                  /* no version */
		{ "GET\r\n\r\n", 400 },                                /* no target */
		{ "GET  /x HTTP/1.1\r\nHost: a\r\n\r\n", 400 },        /* empty target */
		{ "GET /x  HTTP/1.1\r\nHost: a\r\n\r\n", 400 },        /* two spaces */
		{ "GET /x HTTP/1.1 \r\nHost: a\r\n\r\n", 400 },        /* trailing space */
		{ "GET http://h/x HTTP/1.1\r\nHost: a\r\n\r\n", 400 }, /* absolute-form */
		{ "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 400 },      /* asterisk-form */
		{ "GET /x http/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /x HTTP/1.10\r\nHost: a\r\n\r\n", 400 },
		{ "GET /x HTTP/11\r\nHost: a\r\n\r\n", 400 },
		{ "GET /x HTTP/1.1\rX\r\nHost: a\r\n\r\n", 400 },  /* CR in the line */
		{ "\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n", 400 }, /* empty first line */
		{ "GET /x HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
		{ "GET /x HTTP/1.2\r\nHost: a\r\n\r\n", 505 },
		{ "GET /x HTTP/0.9\r\nHost: a\r\n\r\n", 505 },
		{ "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501 },
		{ "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 65537\r\n\r\n", 413 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = status_of(cases[i].head);
		if (got != cases[i].status)
			ck_abort_msg("case %zu (%s): status %d, expected %d", i, cases[i].head, got,
				     cases[i].status);
	}
	ck_assert_int_eq(status_of("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 65536\r\n\r\n"),
			 0);
}
END_TEST

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic, so a failing seed reproduces. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

/* 200,000 random mutations of a valid head, at every length: the parser never reads past what it
 * was given (ASan would say), and its answer is always one of the three with its fields
 * consistent. */
START_TEST(test_http_parse_random_mutations_stay_consistent)
{
	const char *base = "POST /v1/partitions/t/0/transfer?to=2 HTTP/1.1\r\n"
			   "Host: h\r\nContent-Length: 0\r\nX: y\r\n\r\n";
	size_t blen = strlen(base);
	struct http_request req;

	rng_state = 0x5eed;
	for (int it = 0; it < 200000; it++) {
		size_t n = (size_t)(rnd() % (blen + 1));
		char *buf = malloc(n > 0 ? n : 1); /* exactly n bytes, so ASan sees overreads */
		require(buf != NULL);
		memcpy(buf, base, n);
		for (int k = (int)(rnd() % 4); k > 0 && n > 0; k--)
			buf[rnd() % n] = (char)(rnd() & 0xff);
		size_t max = 16 + (size_t)(rnd() % 96);
		enum http_parse_result r = http_request_parse(buf, n, max, &req);
		if (r == HTTP_PARSE_DONE) {
			require(req.head_bytes <= n && req.head_bytes <= max);
			require(req.path >= buf && req.path + req.path_len <= buf + n);
			require(req.path[0] == '/');
			require(req.version_minor == 0 || req.version_minor == 1);
		} else if (r == HTTP_PARSE_ERROR) {
			require(req.error_status >= 400 && req.error_status <= 505);
			require(req.error_reason != NULL);
		} else {
			require(r == HTTP_PARSE_INCOMPLETE && n < max);
		}
		free(buf);
	}
}
END_TEST

/* ---- decoding helpers ---------------------------------------------------------------------- */

/* Percent-escapes decode in either case; '+' is a space only in form encoding; bad escapes,
 * escaped NULs and output beyond the buffer are refused. */
START_TEST(test_http_percent_decode)
{
	char out[16];

	ck_assert_int_eq(http_percent_decode("a%2Fb%2fc", 9, false, out, sizeof out), 0);
	ck_assert_str_eq(out, "a/b/c");
	ck_assert_int_eq(http_percent_decode("a+b", 3, false, out, sizeof out), 0);
	ck_assert_str_eq(out, "a+b");
	ck_assert_int_eq(http_percent_decode("a+b", 3, true, out, sizeof out), 0);
	ck_assert_str_eq(out, "a b");
	ck_assert_int_eq(http_percent_decode("", 0, false, out, sizeof out), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(http_percent_decode("%", 1, false, out, sizeof out), SLUICE_EMALFORMED);
	ck_assert_int_eq(http_percent_decode("%4", 2, false, out, sizeof out), SLUICE_EMALFORMED);
	ck_assert_int_eq(http_percent_decode("%zz", 3, false, out, sizeof out), SLUICE_EMALFORMED);
	ck_assert_int_eq(http_percent_decode("a%00", 4, false, out, sizeof out), SLUICE_EMALFORMED);
	/* Only `n` bytes are read: the escape cut by the length is refused. */
	ck_assert_int_eq(http_percent_decode("%41", 2, false, out, sizeof out), SLUICE_EMALFORMED);
	ck_assert_int_eq(http_percent_decode("0123456789abcdef", 16, false, out, sizeof out),
			 SLUICE_ETOOLARGE);
	ck_assert_int_eq(http_percent_decode("0123456789abcde", 15, false, out, sizeof out), 0);
}
END_TEST

/* Query lookup: first match wins, names compare exactly, a name without '=' has an empty value,
 * values are decoded. */
START_TEST(test_http_query_get)
{
	struct http_request req;
	char out[32];

	ck_assert_int_eq(parse("GET /x?a=1&to=%32&to=3&flag&b=x+y HTTP/1.0\r\n\r\n", &req),
			 HTTP_PARSE_DONE);
	ck_assert_int_eq(http_query_get(&req, "to", out, sizeof out), 0);
	ck_assert_str_eq(out, "2");
	ck_assert_int_eq(http_query_get(&req, "flag", out, sizeof out), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(http_query_get(&req, "b", out, sizeof out), 0);
	ck_assert_str_eq(out, "x y");
	ck_assert_int_eq(http_query_get(&req, "t", out, sizeof out), SLUICE_ENOTFOUND);
	ck_assert_int_eq(http_query_get(&req, "TO", out, sizeof out), SLUICE_ENOTFOUND);
	ck_assert_int_eq(parse("GET /x HTTP/1.0\r\n\r\n", &req), HTTP_PARSE_DONE);
	ck_assert_int_eq(http_query_get(&req, "to", out, sizeof out), SLUICE_ENOTFOUND);
	ck_assert_int_eq(parse("GET /x?to=%zz HTTP/1.0\r\n\r\n", &req), HTTP_PARSE_DONE);
	ck_assert_int_eq(http_query_get(&req, "to", out, sizeof out), SLUICE_EMALFORMED);
}
END_TEST

/* JSON strings escape quotes, backslashes and control characters, and keep UTF-8 as is. */
START_TEST(test_http_json_string_escapes)
{
	struct wbuf w;
	const char s[] = "a\"b\\c\n\x01\xc3\xa9";

	wbuf_init(&w);
	http_put_json_string(&w, s, sizeof s - 1);
	ck_assert_str_eq(text(&w), "\"a\\\"b\\\\c\\u000a\\u0001\xc3\xa9\"");
	wbuf_free(&w);
	ck_assert_str_eq(http_status_reason(404), "Not Found");
	ck_assert_str_eq(http_status_reason(431), "Request Header Fields Too Large");
}
END_TEST

/* ---- the exposition writer ------------------------------------------------------------------ */

/* A counter and a gauge: HELP and TYPE lines, samples with and without labels, values exact. */
START_TEST(test_metrics_families_and_samples)
{
	struct metrics m;
	struct metrics_label l[2] = { { "topic", "orders" }, { "partition", "3" } };

	metrics_init(&m, 0);
	metrics_family(&m, "sluice_x_total", METRICS_COUNTER, "things that happened");
	metrics_u64(&m, NULL, 0, 0);
	metrics_u64(&m, l, 2, UINT64_MAX);
	metrics_family(&m, "sluice_y", METRICS_GAUGE, "a level");
	metrics_i64(&m, l, 1, INT64_MIN);
	metrics_i64(&m, NULL, 0, -1);
	metrics_i64(&m, NULL, 0, 42);
	ck_assert(!m.out.oom);
	ck_assert_str_eq(text(&m.out), "# HELP sluice_x_total things that happened\n"
				       "# TYPE sluice_x_total counter\n"
				       "sluice_x_total 0\n"
				       "sluice_x_total{topic=\"orders\",partition=\"3\"} "
				       "18446744073709551615\n"
				       "# HELP sluice_y a level\n"
				       "# TYPE sluice_y gauge\n"
				       "sluice_y{topic=\"orders\"} -9223372036854775808\n"
				       "sluice_y -1\n"
				       "sluice_y 42\n");
	ck_assert_int_eq(m.families, 2);
	ck_assert_int_eq(m.samples, 5);
	metrics_free(&m);
}
END_TEST

/* A label set rendered once serves many samples, each line identical to one written with the
 * labels themselves. */
START_TEST(test_metrics_rendered_labels_match_direct_ones)
{
	struct metrics a, b;
	struct wbuf r;
	struct metrics_label l[2] = { { "topic", "t\"x" }, { "partition", "7" } };

	metrics_init(&a, 0);
	metrics_init(&b, 0);
	wbuf_init(&r);
	wbuf_put(&r, "junk", 4); /* renderings are appended after what is there */
	metrics_render_labels(&r, l, 2);
	ck_assert_str_eq(text(&r), "junk{topic=\"t\\\"x\",partition=\"7\"}");
	metrics_family(&a, "f", METRICS_GAUGE, "h");
	metrics_family(&b, "f", METRICS_GAUGE, "h");
	for (int64_t v = -2; v <= 2; v++) {
		metrics_i64(&a, l, 2, v * 1000003);
		metrics_i64_rendered(&b, (const char *)r.data + 4, r.len - 4, v * 1000003);
	}
	ck_assert_str_eq(text(&a.out), text(&b.out));
	wbuf_free(&r);
	wbuf_init(&r);
	metrics_render_labels(&r, NULL, 0);
	ck_assert_int_eq(r.len, 0);
	metrics_free(&a);
	metrics_free(&b);
	wbuf_free(&r);
}
END_TEST

/* Label values escape '\', '"' and newline (and nothing else); HELP text escapes '\' and
 * newline but not '"', as the format says. */
START_TEST(test_metrics_escaping)
{
	struct metrics m;
	struct metrics_label l = { "group", "a\\b\"c\nd{e}=f,g" };

	metrics_init(&m, 0);
	metrics_family(&m, "g", METRICS_GAUGE, "say \"hi\" \\ to\nall");
	metrics_u64(&m, &l, 1, 1);
	ck_assert_str_eq(text(&m.out), "# HELP g say \"hi\" \\\\ to\\nall\n"
				       "# TYPE g gauge\n"
				       "g{group=\"a\\\\b\\\"c\\nd{e}=f,g\"} 1\n");
	metrics_free(&m);
}
END_TEST

/* The format is UTF-8: well-formed multi-byte sequences pass through, anything else (a lone
 * continuation byte, an overlong form, a surrogate, a truncated sequence, a byte above 0xf4)
 * becomes U+FFFD, one per bad byte. */
START_TEST(test_metrics_escape_replaces_invalid_utf8)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "a\x80z", "a\xef\xbf\xbdz" },
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },                 /* overlong '/' */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
		{ "\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd" }, /* truncated by the NUL */
		{ "\xf5\x80\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct wbuf w;
		wbuf_init(&w);
		metrics_escape(&w, cases[i].in, false);
		if (strcmp(text(&w), cases[i].out) != 0)
			ck_abort_msg("case %zu: got \"%s\"", i, text(&w));
		wbuf_free(&w);
	}
}
END_TEST

/* Floating values: NaN and infinities as the format spells them, others round-trip exactly. */
START_TEST(test_metrics_float_values)
{
	struct metrics m;

	metrics_init(&m, 64);
	metrics_family(&m, "f", METRICS_GAUGE, "floats");
	metrics_f64(&m, NULL, 0, NAN);
	metrics_f64(&m, NULL, 0, INFINITY);
	metrics_f64(&m, NULL, 0, -INFINITY);
	metrics_f64(&m, NULL, 0, 0.1);
	metrics_f64(&m, NULL, 0, 1.0 / 3.0);
	metrics_f64(&m, NULL, 0, 0);
	ck_assert_str_eq(text(&m.out),
			 "# HELP f floats\n# TYPE f gauge\n"
			 "f NaN\nf +Inf\nf -Inf\nf 0.1\nf 0.33333333333333331\nf 0\n");
	metrics_free(&m);
}
END_TEST

/* Name rules: metric names may hold ':', label names may not and may not start with "__". */
START_TEST(test_metrics_name_rules)
{
	ck_assert(metrics_name_valid("sluice_partition_high_watermark"));
	ck_assert(metrics_name_valid("job:rate5m"));
	ck_assert(metrics_name_valid("_x"));
	ck_assert(!metrics_name_valid("9lives"));
	ck_assert(!metrics_name_valid("a-b"));
	ck_assert(!metrics_name_valid(""));
	ck_assert(metrics_label_name_valid("topic"));
	ck_assert(metrics_label_name_valid("_x1"));
	ck_assert(!metrics_label_name_valid("__name__"));
	ck_assert(!metrics_label_name_valid("a:b"));
	ck_assert(!metrics_label_name_valid("1a"));
	ck_assert(!metrics_label_name_valid(""));
}
END_TEST

/* A page the size of a node with 10,000 replicas (six families of per-replica gauges) is built
 * without running out of its hint and every line is a sample or a comment. */
START_TEST(test_metrics_large_page)
{
	struct metrics m;
	char idx[16];

	metrics_init(&m, 1 << 20);
	for (int f = 0; f < 6; f++) {
		char name[32];
		snprintf(name, sizeof name, "sluice_family_%d", f);
		metrics_family(&m, name, METRICS_GAUGE, "per replica");
		for (int i = 0; i < 10000; i++) {
			snprintf(idx, sizeof idx, "%d", i % 100);
			struct metrics_label l[2] = { { "topic", "topic-with-a-longish-name" },
						      { "partition", idx } };
			metrics_i64(&m, l, 2, (int64_t)i * 1000);
		}
	}
	ck_assert(!m.out.oom);
	ck_assert_int_eq(m.samples, 60000);
	size_t lines = 0;
	for (size_t i = 0; i < m.out.len; i++)
		lines += m.out.data[i] == '\n';
	ck_assert_int_eq(lines, 60000 + 12);
	metrics_free(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("admin");
	TCase *tc;

	tc = tcase_create("http_parse");
	tcase_add_test(tc, test_http_parse_get_with_query_and_fields);
	tcase_add_test(tc, test_http_parse_http10_bare_lf_and_methods);
	tcase_add_test(tc, test_http_parse_incomplete_until_the_empty_line);
	tcase_add_test(tc, test_http_parse_refuses_garbage_at_once);
	tcase_add_test(tc, test_http_parse_head_limit_is_exact_and_431);
	tcase_add_test(tc, test_http_parse_too_many_fields_is_431);
	tcase_add_test(tc, test_http_parse_malformed_heads);
	tcase_add_test(tc, test_http_parse_random_mutations_stay_consistent);
	suite_add_tcase(s, tc);

	tc = tcase_create("http_decode");
	tcase_add_test(tc, test_http_percent_decode);
	tcase_add_test(tc, test_http_query_get);
	tcase_add_test(tc, test_http_json_string_escapes);
	suite_add_tcase(s, tc);

	tc = tcase_create("metrics");
	tcase_add_test(tc, test_metrics_families_and_samples);
	tcase_add_test(tc, test_metrics_escaping);
	tcase_add_test(tc, test_metrics_rendered_labels_match_direct_ones);
	tcase_add_test(tc, test_metrics_escape_replaces_invalid_utf8);
	tcase_add_test(tc, test_metrics_float_values);
	tcase_add_test(tc, test_metrics_name_rules);
	tcase_add_test(tc, test_metrics_large_page);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
