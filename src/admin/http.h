/*
 * http: the admin endpoint's HTTP/1.1 server (RFC 9112 message syntax, RFC 9110 semantics), kept
 * small on purpose: one request per connection, answered at once from a handler on the loop
 * thread, then `Connection: close`. It serves operators and Prometheus, never client traffic.
 *
 * Two halves:
 *   - http_request_parse(): the pure parser of a request head (request line and header fields),
 *     testable without a loop or a socket;
 *   - http_server_*(): a libuv TCP listener that reads one request head per connection, calls
 *     the handler, writes the response and closes.
 *
 * Happy path: a client connects and sends `GET /metrics HTTP/1.1`, a Host field and an empty
 * line; the head is parsed as soon as its last line arrives; the handler fills a struct
 * http_response (status, content type, body), at once or, for work spread over several loop
 * turns, later (http_conn_defer/http_conn_respond); the server writes the status line, its own fields
 * (Content-Type, Content-Length, Date, Connection: close) and the body, shuts its side of the
 * connection down, reads and discards whatever the client still sends until it closes (so the
 * kernel never answers unread bytes with a reset that could destroy the response), and closes.
 *
 * Failure modes, each answered and then closed like any response:
 *   - a head that breaks the grammar (control bytes, a bad method token, a target that is not
 *     origin-form, an obsolete line fold, white space before a colon, no Host in HTTP/1.1, a
 *     Content-Length that is not a number or given twice differently): 400;
 *   - a head longer than head_bytes_max or with more than HTTP_HEADER_FIELDS_MAX fields: 431;
 *   - a declared body beyond HTTP_BODY_BYTES_MAX: 413 (bodies are never used, only discarded);
 *   - Transfer-Encoding in a request: 501 (no chunked request bodies here);
 *   - an HTTP version other than 1.0 or 1.1: 505;
 *   - more than connections_max connections: the new one gets a canned 503 and is closed;
 *   - response bytes waiting for slow readers beyond output_bytes_max: 503 without running the
 *     handler;
 *   - no complete head within timeout_ms of the accept, a deferred answer not given within
 *     timeout_ms, a response not written within timeout_ms, a peer still sending after HTTP_LINGER_MS or HTTP_DISCARD_BYTES_MAX once the
 *     answer left: the connection is closed.
 * Garbage is recognised early: a request line that holds a byte no request line may hold is
 * answered 400 at once, without waiting for a line end.
 *
 * Everything here runs on the loop thread. Like net, the process must ignore SIGPIPE.
 */
#ifndef SLUICE_ADMIN_HTTP_H
#define SLUICE_ADMIN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"

/* Fields in one request head; real clients send fewer than 20. */
#define HTTP_HEADER_FIELDS_MAX 64
/* Longest method token; the longest registered method (UPDATEREDIRECTREF) has 17 bytes. */
#define HTTP_METHOD_BYTES_MAX 24
/* Largest Content-Length accepted; the body is read only to be discarded (no endpoint takes
 * one), so the limit only bounds what a client may make the server read and drop. */
#define HTTP_BODY_BYTES_MAX 65536
/* After the response: how long and how much the server keeps reading and dropping before it
 * closes, so an unread request tail does not turn the close into a reset. */
#define HTTP_LINGER_MS 2000
#define HTTP_DISCARD_BYTES_MAX (1u << 20)
/* Longest "host:port" text of a listen or peer address, NUL included ("[v6]:65535"). */
#define HTTP_ADDR_BYTES_MAX 64

enum http_method { HTTP_METHOD_OTHER, HTTP_METHOD_GET, HTTP_METHOD_POST };

/* A parsed request head. Pointers point into the bytes given to http_request_parse(). */
struct http_request {
	enum http_method method;
	char method_name[HTTP_METHOD_BYTES_MAX + 1]; /* the token as sent, for logs */
	const char *target;                          /* origin-form: path, then "?query" or not */
	size_t target_len;
	const char *path; /* starts with '/', not decoded */
	size_t path_len;
	const char *query; /* after '?', not decoded; NULL when there is no '?' */
	size_t query_len;
	int version_minor;      /* HTTP/1.<version_minor>: 0 or 1 */
	int64_t content_length; /* -1 when absent */
	size_t head_bytes;      /* request line, fields and the empty line */
	/* When parsing failed: the status to answer and why, for the body and the log. */
	int error_status;
	const char *error_reason;
};

enum http_parse_result {
	HTTP_PARSE_DONE,       /* a whole head is in `req` */
	HTTP_PARSE_INCOMPLETE, /* no error so far; more bytes are needed */
	HTTP_PARSE_ERROR,      /* req->error_status and req->error_reason say what to answer */
};

/* Parses the request head at the start of `p` (`n` bytes received so far; what follows the head
 * is not looked at). A head (request line, fields and the empty line that ends them) longer than
 * `head_bytes_max` is an error (431), decided as soon as `n` passes it without an end. Line ends
 * may be CRLF or a bare LF (RFC 9112 section 2.2 lets a recipient accept LF). */
enum http_parse_result http_request_parse(const char *p, size_t n, size_t head_bytes_max,
					  struct http_request *req);

/* Decodes the percent-escapes of `n` bytes at `in` into `out` (NUL-terminated, at most `cap`
 * bytes with the NUL); with `plus_is_space`, '+' becomes ' ' (form encoding, for queries).
 * Returns 0, SLUICE_EMALFORMED (a bad escape, or an escape of a NUL byte) or SLUICE_ETOOLARGE
 * (does not fit). */
int http_percent_decode(const char *in, size_t n, bool plus_is_space, char *out, size_t cap);

/* Finds the first `name=value` of the request's query and decodes its value into `out` as
 * http_percent_decode() does (`name` is compared as sent, undecoded). Returns 0,
 * SLUICE_ENOTFOUND, SLUICE_EMALFORMED or SLUICE_ETOOLARGE. */
int http_query_get(const struct http_request *req, const char *name, char *out, size_t cap);

/* Reason phrase of a status code ("Not Found"; "" for codes this server never sends). */
const char *http_status_reason(int status);

/* Appends `s` (`n` bytes) to `w` as a JSON string, quotes included (RFC 8259 section 7: '"',
 * '\\' and control characters escaped; other bytes copied). */
void http_put_json_string(struct wbuf *w, const char *s, size_t n);

/* What a handler answers. The server fills status 200, "text/plain; charset=utf-8" and an empty
 * body before calling it. */
struct http_response {
	int status;
	const char *content_type; /* static text */
	const char *allow;        /* static text for an Allow field (405 answers), or NULL */
	struct wbuf body;
};

/* Replaces the body with `text` and sets the status (text/plain). */
void http_response_text(struct http_response *resp, int status, const char *text);

struct http_limits {
	/* Request line and fields, line ends included. 8 KiB, as common servers' defaults. */
	size_t head_bytes_max;
	/* Connections served at once; further ones get a canned 503 and are closed. 64: the
	 * endpoint serves a few scrapers and operators, not clients. */
	uint32_t connections_max;
	/* A connection must deliver its whole head within this long of being accepted, and take
	 * the response within this long of it being queued (slowloris and slow readers). 10 s. */
	uint64_t timeout_ms;
	/* Response bytes queued to all connections and not yet written; at or above it requests
	 * get 503 without running the handler, so slow scrapers of a large /metrics cannot pin
	 * unbounded memory. 64 MiB. */
	size_t output_bytes_max;
};

void http_limits_default(struct http_limits *lim);

/* Counters for /metrics; totals since the server started except connections_open. */
struct http_stats {
	uint64_t connections_open;
	uint64_t connections_accepted; /* including rejected ones */
	uint64_t connections_rejected; /* over connections_max: canned 503 */
	uint64_t timeouts;             /* closed by timeout_ms or the linger bound */
	uint64_t responses[6];         /* by class: [1] 1xx .. [5] 5xx; [0] unused */
	uint64_t bad_requests;         /* heads the parser refused */
};

struct http_server;
struct http_conn;

/* Called once per request with a parsed head (valid during the call only). Either fills `resp`
 * and returns, or calls http_conn_defer(c) and answers later with http_conn_respond(c, ...) from
 * any callback on the loop thread (then `resp` is ignored). Must not block; must not stop the
 * server. */
typedef void (*http_handler_fn)(void *arg, struct http_server *s, struct http_conn *c,
				const struct http_request *req, struct http_response *resp);

/* From inside the handler: the answer to `c` comes later. It must then come within timeout_ms,
 * else the connection is closed (the answer is still due, and then dropped). */
void http_conn_defer(struct http_conn *c);

/* Gives the deferred answer of `c`, taking resp->body. Exactly once per http_conn_defer(); `c`
 * stays valid until then, whatever happened to the connection (if it closed, the answer is
 * dropped and `c` freed here). The server frees itself after http_server_stop() only once every
 * deferred answer was given. */
void http_conn_respond(struct http_conn *c, struct http_response *resp);

/* Binds `host`:`port` (port 0 picks a free port: see http_server_port(); `host` is a numeric
 * IPv4 or IPv6 address, brackets allowed, or a name resolved here, blocking, so call this at
 * start-up), listens and serves on `loop`. Logs msg="admin http listening" with the bound
 * address. Returns 0 and sets *out, or SLUICE_EINVAL (bad port, host or limits), SLUICE_EIO
 * (bind or listen failed), SLUICE_ENOMEM, with `errmsg` naming the address. On failure the
 * loop may hold closing handles: running it once more finishes them. */
int http_server_start(uv_loop_t *loop, const char *host, int port, const struct http_limits *lim,
		      http_handler_fn handler, void *arg, struct http_server **out, char *errmsg);

/* The bound port and the "host:port" text of the bound address. */
int http_server_port(const struct http_server *s);
const char *http_server_addr(const struct http_server *s);

void http_server_stats(const struct http_server *s, struct http_stats *out);

/* Stops listening and closes every connection (a response being written is cut). When every
 * handle is closed, calls `cb(arg)` (may be NULL) and frees the server; `s` must not be used
 * after this call. Call at most once. */
void http_server_stop(struct http_server *s, void (*cb)(void *arg), void *arg);

#endif
