/*
 * http: the request-head parser and the one-request-per-connection server (contract in http.h).
 *
 * The parser follows RFC 9112's grammar, strictly where leniency has been a source of request
 * smuggling (white space before a colon, line folding, conflicting Content-Length, any
 * Transfer-Encoding) and leniently only where RFC 9112 allows it (bare LF line ends):
 *
 *   request-line = method SP request-target SP HTTP-version CRLF     (section 3)
 *   field-line   = field-name ":" OWS field-value OWS CRLF           (section 5)
 *   head         = request-line *( field-line ) CRLF
 *
 * A connection's life (struct http_conn, states checked by conn_move against `allowed`):
 *
 *   READING   --head parsed, answer queued-->  WRITING
 *   READING   --the handler deferred-->        HANDLING --http_conn_respond-->  WRITING
 *   WRITING   --written, write side shut-->    LINGERING
 *   any       --error, timeout, EOF, stop-->   CLOSING  --close callbacks (and the deferred
 *                                                         answer, if one is owed)-->  freed
 *
 * READING reads into the connection's head buffer (head_bytes_max bytes). HANDLING, WRITING and
 * LINGERING keep reading, into one server-wide scratch buffer, and drop
 * what they read: the body of a POST, the rest of an oversized head, pipelined requests. libuv on
 * Unix runs alloc_cb, read(2) and read_cb back to back for one stream, so the shared scratch
 * buffer never holds anything between callbacks (net.c relies on the same).
 *
 * Invariants:
 *   1. A connection is on the server's list from accept until its close callbacks ran.
 *   2. s->output_bytes is the sum of out_bytes over connections in WRITING.
 *   3. The server is freed exactly once: when stopping, its listener closed and no connection
 *      (served or rejected) is left.
 *   4. A connection is freed only when its handles are closed and `held` is false (no deferred
 *      answer owed), so a handler's pointer to it stays valid until it answers.
 */
#include "admin/http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/err.h"
#include "base/list.h"
#include "base/slog.h"
#include "net/sockaddr.h"

#define MODULE "http"
/* Pending connections in the kernel's accept queue. */
#define HTTP_LISTEN_BACKLOG 64
/* The scratch buffer that reading-to-discard uses. */
#define HTTP_SCRATCH_BYTES 16384

_Static_assert(HTTP_BODY_BYTES_MAX <= HTTP_DISCARD_BYTES_MAX,
	       "a body the parser accepts must fit what lingering reads and drops");

/* ---- the parser ---------------------------------------------------------------------------- */

/* RFC 9110 section 5.6.2: tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Bytes that may appear in a request line: visible ASCII and SP (CR only before its LF, checked
 * where the line is cut). */
static bool is_line_byte(unsigned char c)
{
	return c == ' ' || c == '\r' || (c >= 0x21 && c <= 0x7e);
}

/* field-value bytes: VCHAR, obs-text, SP and HTAB (RFC 9110 section 5.5). */
static bool is_value_byte(unsigned char c)
{
	return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f);
}

static enum http_parse_result fail(struct http_request *req, int status, const char *reason)
{
	req->error_status = status;
	req->error_reason = reason;
	return HTTP_PARSE_ERROR;
}

/* The line starting at `at` within [0, end): sets *len to its length without the line end
 * (a CR right before the LF is not part of it) and returns the offset after the LF, or 0 when no
 * LF is in range. */
static size_t next_line(const char *p, size_t at, size_t end, size_t *len)
{
	const char *lf = memchr(p + at, '\n', end - at);

	if (lf == NULL)
		return 0;
	size_t l = (size_t)(lf - (p + at));
	if (l > 0 && p[at + l - 1] == '\r')
		l--;
	*len = l;
	return (size_t)(lf - p) + 1;
}

/* Finds the end of the head within [0, end): returns the offset after the empty line, or 0. */
static size_t head_end(const char *p, size_t end)
{
	size_t at = 0, len;

	for (;;) {
		size_t next = next_line(p, at, end, &len);
		if (next == 0)
			return 0;
		if (len == 0 && at > 0)
			return next;
		at = next;
	}
}

/* Checks what has arrived of the request line, so that garbage is refused before a line end (or
 * head_bytes_max bytes) arrives. */
static enum http_parse_result check_request_line_prefix(const char *p, size_t n,
							struct http_request *req)
{
	size_t i = 0;

	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i > HTTP_METHOD_BYTES_MAX)
		return fail(req, 400, "method token too long");
	if (i < n && (i == 0 || p[i] != ' '))
		return fail(req, 400,
			    "request line does not start with a method token and a space");
	for (; i < n && p[i] != '\n'; i++) {
		if (!is_line_byte((unsigned char)p[i]))
			return fail(req, 400, "control or non-ASCII byte in the request line");
	}
	return HTTP_PARSE_INCOMPLETE;
}

static enum http_parse_result parse_request_line(const char *p, size_t len,
						 struct http_request *req)
{
	const char *sp1 = memchr(p, ' ', len);
	const char *sp2;

	if (memchr(p, '\r', len) != NULL)
		return fail(req, 400, "CR inside the request line");
	if (sp1 == NULL)
		return fail(req, 400, "request line has no target");
	sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - p));
	if (sp2 == NULL)
		return fail(req, 400, "request line has no HTTP version");
	size_t mlen = (size_t)(sp1 - p);
	assert(mlen > 0 && mlen <= HTTP_METHOD_BYTES_MAX); /* check_request_line_prefix */
	memcpy(req->method_name, p, mlen);
	req->method_name[mlen] = '\0';
	if (strcmp(req->method_name, "GET") == 0)
		req->method = HTTP_METHOD_GET;
	else if (strcmp(req->method_name, "POST") == 0)
		req->method = HTTP_METHOD_POST;
	else
		req->method = HTTP_METHOD_OTHER;

	req->target = sp1 + 1;
	req->target_len = (size_t)(sp2 - req->target);
	if (req->target_len == 0)
		return fail(req, 400, "empty request target");
	if (req->target[0] != '/')
		return fail(req, 400, "request target is not a path (origin-form)");
	const char *q = memchr(req->target, '?', req->target_len);
	req->path = req->target;
	req->path_len = q != NULL ? (size_t)(q - req->target) : req->target_len;
	if (q != NULL) {
		req->query = q + 1;
		req->query_len = req->target_len - req->path_len - 1;
	}

	const char *v = sp2 + 1;
	size_t vlen = len - (size_t)(v - p);
	if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9')
		return fail(req, 400, "malformed HTTP version");
	if (v[5] != '1' || v[7] > '1')
		return fail(req, 505, "only HTTP/1.0 and HTTP/1.1 are served");
	req->version_minor = v[7] - '0';
	return HTTP_PARSE_DONE;
}

/* Parses a Content-Length value: 1 to 18 digits. Returns -1 when it is not one. */
static int64_t parse_length(const char *v, size_t n)
{
	int64_t x = 0;

	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

static bool name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static enum http_parse_result parse_field(const char *line, size_t len, struct http_request *req,
					  int *hosts)
{
	const char *colon = memchr(line, ':', len);
	size_t nlen;

	if (line[0] == ' ' || line[0] == '\t')
		return fail(req, 400, "obsolete line folding in a header field");
	if (colon == NULL)
		return fail(req, 400, "header field without a colon");
	nlen = (size_t)(colon - line);
	if (nlen == 0)
		return fail(req, 400, "empty header field name");
	for (size_t i = 0; i < nlen; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == ' ' || c == '\t')
			return fail(req, 400, "white space before the colon of a header field");
		if (!is_tchar(c))
			return fail(req, 400, "header field name is not a token");
	}
	const char *v = colon + 1;
	size_t vlen = len - nlen - 1;
	while (vlen > 0 && (v[0] == ' ' || v[0] == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	for (size_t i = 0; i < vlen; i++)
		if (!is_value_byte((unsigned char)v[i]))
			return fail(req, 400, "control byte in a header field value");

	if (name_is(line, nlen, "host")) {
		if (++*hosts > 1)
			return fail(req, 400, "more than one Host field");
	} else if (name_is(line, nlen, "content-length")) {
		int64_t cl = parse_length(v, vlen);
		if (cl < 0)
			return fail(req, 400, "Content-Length is not a number");
		if (req->content_length >= 0 && req->content_length != cl)
			return fail(req, 400, "conflicting Content-Length fields");
		req->content_length = cl;
	} else if (name_is(line, nlen, "transfer-encoding")) {
		return fail(req, 501, "Transfer-Encoding in requests is not supported");
	}
	return HTTP_PARSE_DONE;
}

enum http_parse_result http_request_parse(const char *p, size_t n, size_t head_bytes_max,
					  struct http_request *req)
{
	size_t limit = n < head_bytes_max ? n : head_bytes_max;
	enum http_parse_result rv;
	size_t end, at, len;
	int fields = 0, hosts = 0;

	memset(req, 0, sizeof *req);
	req->content_length = -1;
	rv = check_request_line_prefix(p, limit, req);
	if (rv == HTTP_PARSE_ERROR)
		return rv;
	end = head_end(p, limit);
	if (end == 0) {
		if (n >= head_bytes_max)
			return fail(req, 431, "request head too large");
		return HTTP_PARSE_INCOMPLETE;
	}

	at = next_line(p, 0, end, &len);
	assert(at != 0);
	if (len == 0)
		return fail(req, 400, "empty request line");
	rv = parse_request_line(p, len, req);
	if (rv != HTTP_PARSE_DONE)
		return rv;
	for (;;) {
		size_t next = next_line(p, at, end, &len);
		assert(next != 0); /* head_end found the empty line within `end` */
		if (len == 0)
			break;
		if (++fields > HTTP_HEADER_FIELDS_MAX)
			return fail(req, 431, "too many header fields");
		rv = parse_field(p + at, len, req, &hosts);
		if (rv != HTTP_PARSE_DONE)
			return rv;
		at = next;
	}
	if (req->version_minor == 1 && hosts == 0)
		return fail(req, 400, "HTTP/1.1 request without a Host field");
	if (req->content_length > HTTP_BODY_BYTES_MAX)
		return fail(req, 413, "request body too large");
	req->head_bytes = end;
	return HTTP_PARSE_DONE;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int http_percent_decode(const char *in, size_t n, bool plus_is_space, char *out, size_t cap)
{
	size_t k = 0;

	assert(cap > 0);
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (c == '%') {
			if (n - i < 3)
				return SLUICE_EMALFORMED;
			int hi = hex_value(in[i + 1]);
			int lo = hex_value(in[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return SLUICE_EMALFORMED;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (k + 1 >= cap)
			return SLUICE_ETOOLARGE;
		out[k++] = c;
	}
	out[k] = '\0';
	return 0;
}

int http_query_get(const struct http_request *req, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);
	const char *q = req->query;
	size_t left = req->query_len;

	while (q != NULL && left > 0) {
		const char *amp = memchr(q, '&', left);
		size_t plen = amp != NULL ? (size_t)(amp - q) : left;
		const char *eq = memchr(q, '=', plen);
		size_t klen = eq != NULL ? (size_t)(eq - q) : plen;

		if (klen == nlen && memcmp(q, name, nlen) == 0) {
			const char *v = eq != NULL ? eq + 1 : q + plen;
			return http_percent_decode(v, plen - (size_t)(v - q), true, out, cap);
		}
		if (amp == NULL)
			break;
		left -= plen + 1;
		q = amp + 1;
	}
	return SLUICE_ENOTFOUND;
}

const char *http_status_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 421:
		return "Misdirected Request";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "";
	}
}

void http_put_json_string(struct wbuf *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	wbuf_u8(w, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			wbuf_u8(w, '\\');
			wbuf_u8(w, c);
		} else if (c < 0x20) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			wbuf_put(w, e, sizeof e);
		} else {
			wbuf_u8(w, c);
		}
	}
	wbuf_u8(w, '"');
}

void http_response_text(struct http_response *resp, int status, const char *text)
{
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	resp->body.len = 0;
	wbuf_put(&resp->body, text, strlen(text));
}

void http_limits_default(struct http_limits *lim)
{
	lim->head_bytes_max = 8192;
	lim->connections_max = 64;
	lim->timeout_ms = 10000;
	lim->output_bytes_max = 64u << 20;
}

/* ---- the server ---------------------------------------------------------------------------- */

enum conn_state { CONN_READING, CONN_HANDLING, CONN_WRITING, CONN_LINGERING, CONN_CLOSING };

struct http_conn {
	struct http_server *s;
	struct list_link link;
	enum conn_state state;
	uv_tcp_t tcp;
	uv_timer_t timer;
	int handles_open; /* tcp and timer until their close callbacks */
	uv_write_t wreq;
	uv_shutdown_t sreq;
	bool rejected;    /* over connections_max: no timer, canned answer */
	bool held;        /* the handler deferred its answer and has not given it yet */
	bool eof;         /* the peer shut its side */
	size_t discarded; /* bytes read and dropped after the head */
	struct wbuf out_head;
	struct wbuf out_body;
	size_t out_bytes; /* counted in s->output_bytes while WRITING */
	char peer[HTTP_ADDR_BYTES_MAX];
	size_t head_len;
	char head[]; /* head_bytes_max bytes */
};

struct http_server {
	uv_loop_t *loop;
	struct http_limits lim;
	http_handler_fn handler;
	void *arg;
	uv_tcp_t listener;
	bool listener_open;
	struct list_link conns;
	uint32_t conns_served; /* connections counted against connections_max */
	uint32_t conns_total;  /* every connection not yet freed, rejected ones included */
	size_t output_bytes;
	struct http_stats stats;
	bool stopping;
	void (*stop_cb)(void *arg);
	void *stop_arg;
	int port;
	char addr[HTTP_ADDR_BYTES_MAX];
	char scratch[HTTP_SCRATCH_BYTES];
};

static const char canned_503[] = "HTTP/1.1 503 Service Unavailable\r\n"
				 "Content-Type: text/plain; charset=utf-8\r\n"
				 "Content-Length: 21\r\n"
				 "Connection: close\r\n"
				 "\r\n"
				 "too many connections\n";

static void conn_move(struct http_conn *c, enum conn_state to)
{
	static const bool allowed[5][5] = {
		[CONN_READING] = { [CONN_HANDLING] = true,
				   [CONN_WRITING] = true,
				   [CONN_CLOSING] = true },
		[CONN_HANDLING] = { [CONN_WRITING] = true, [CONN_CLOSING] = true },
		[CONN_WRITING] = { [CONN_LINGERING] = true, [CONN_CLOSING] = true },
		[CONN_LINGERING] = { [CONN_CLOSING] = true },
	};

	assert(allowed[c->state][to]);
	if (c->state == CONN_WRITING) {
		assert(c->s->output_bytes >= c->out_bytes);
		c->s->output_bytes -= c->out_bytes;
		c->out_bytes = 0;
	}
	c->state = to;
}

static void server_maybe_free(struct http_server *s)
{
	if (!s->stopping || s->listener_open || s->conns_total > 0)
		return;
	void (*cb)(void *) = s->stop_cb;
	void *arg = s->stop_arg;
	SLOG_INFO(MODULE, "msg=\"admin http stopped\" addr=%s", s->addr);
	free(s);
	if (cb != NULL)
		cb(arg);
}

/* Frees the connection once its handles are closed and no handler owes it an answer. */
static void conn_release(struct http_conn *c)
{
	struct http_server *s = c->s;

	if (c->handles_open > 0 || c->held)
		return;
	list_remove(&c->link);
	if (!c->rejected) {
		assert(s->conns_served > 0);
		s->conns_served--;
	}
	s->conns_total--;
	wbuf_free(&c->out_head);
	wbuf_free(&c->out_body);
	free(c);
	server_maybe_free(s);
}

static void conn_handle_closed_cb(uv_handle_t *h)
{
	struct http_conn *c = h->data;

	assert(c->handles_open > 0);
	c->handles_open--;
	conn_release(c);
}

/* Closes the connection; anything being written is cut (libuv cancels the write). */
static void conn_close(struct http_conn *c)
{
	if (c->state == CONN_CLOSING)
		return;
	conn_move(c, CONN_CLOSING);
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed_cb);
	if (!c->rejected)
		uv_close((uv_handle_t *)&c->timer, conn_handle_closed_cb);
}

static void conn_timer_cb(uv_timer_t *t)
{
	struct http_conn *c = t->data;

	/* Lingering ends by the clock as a matter of course; the other states by a slow peer or a
	 * slow handler. */
	if (c->state != CONN_LINGERING)
		c->s->stats.timeouts++;
	SLOG_DEBUG(MODULE, "msg=\"connection timed out\" peer=%s state=%d", c->peer, c->state);
	conn_close(c);
}

static void conn_shutdown_cb(uv_shutdown_t *req, int status)
{
	struct http_conn *c = req->data;

	if (c->state != CONN_WRITING)
		return; /* closed meanwhile (status is UV_ECANCELED) */
	conn_move(c, CONN_LINGERING);
	if (status != 0 || c->eof) {
		conn_close(c);
		return;
	}
	/* Read and drop until the peer closes, for at most HTTP_LINGER_MS. */
	uv_timer_start(&c->timer, conn_timer_cb, HTTP_LINGER_MS, 0);
}

static void conn_write_cb(uv_write_t *req, int status)
{
	struct http_conn *c = req->data;

	if (c->state != CONN_WRITING)
		return;
	if (status != 0) {
		SLOG_DEBUG(MODULE, "msg=\"write failed\" peer=%s error=\"%s\"", c->peer,
			   uv_strerror(status));
		conn_close(c);
		return;
	}
	c->sreq.data = c;
	if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, conn_shutdown_cb) != 0)
		conn_close(c);
}

/* Writes the status line, the server's fields and the body of `resp` (whose body it takes). */
static void conn_send(struct http_conn *c, struct http_response *resp)
{
	struct http_server *s = c->s;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	char line[256];

	assert(resp->status >= 100 && resp->status <= 599);
	s->stats.responses[resp->status / 100]++;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	int n = snprintf(line, sizeof line,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Date: %s\r\nCache-Control: no-store\r\nConnection: close\r\n",
			 resp->status, http_status_reason(resp->status), resp->content_type,
			 resp->body.len, date);
	assert(n > 0 && (size_t)n < sizeof line);
	wbuf_put(&c->out_head, line, (size_t)n);
	if (resp->allow != NULL) {
		n = snprintf(line, sizeof line, "Allow: %s\r\n", resp->allow);
		wbuf_put(&c->out_head, line, (size_t)n);
	}
	wbuf_put(&c->out_head, "\r\n", 2);
	c->out_body = resp->body;
	wbuf_init(&resp->body);
	if (c->out_head.oom || c->out_body.oom) {
		conn_close(c);
		return;
	}

	conn_move(c, CONN_WRITING);
	c->out_bytes = c->out_head.len + c->out_body.len;
	s->output_bytes += c->out_bytes;
	uv_buf_t bufs[2] = {
		uv_buf_init((char *)c->out_head.data, (unsigned)c->out_head.len),
		uv_buf_init((char *)c->out_body.data, (unsigned)c->out_body.len),
	};
	c->wreq.data = c;
	uv_timer_start(&c->timer, conn_timer_cb, s->lim.timeout_ms, 0);
	if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs, c->out_body.len > 0 ? 2 : 1,
		     conn_write_cb) != 0)
		conn_close(c);
}

/* A whole head is in c->head (or the parser refused it): answers it. */
static void conn_answer(struct http_conn *c, enum http_parse_result pr,
			const struct http_request *req)
{
	struct http_server *s = c->s;
	struct http_response resp = { .status = 200, .content_type = "text/plain; charset=utf-8" };

	wbuf_init(&resp.body);
	if (pr == HTTP_PARSE_ERROR) {
		s->stats.bad_requests++;
		SLOG_DEBUG(MODULE, "msg=\"bad request\" peer=%s status=%d reason=\"%s\"", c->peer,
			   req->error_status, req->error_reason);
		char text[160];
		snprintf(text, sizeof text, "%d %s: %s\n", req->error_status,
			 http_status_reason(req->error_status), req->error_reason);
		http_response_text(&resp, req->error_status, text);
	} else if (s->output_bytes >= s->lim.output_bytes_max) {
		http_response_text(&resp, 503,
				   "too many response bytes waiting for slow readers\n");
	} else {
		s->handler(s->arg, s, c, req, &resp);
		SLOG_DEBUG(MODULE,
			   "msg=\"request\" peer=%s method=%s target=\"%.*s\" status=%d "
			   "bytes=%zu deferred=%d",
			   c->peer, req->method_name,
			   (int)(req->target_len > 200 ? 200 : req->target_len), req->target,
			   resp.status, resp.body.len, c->state == CONN_HANDLING);
	}
	if (c->state == CONN_READING)
		conn_send(c, &resp);
	wbuf_free(&resp.body);
}

void http_conn_defer(struct http_conn *c)
{
	assert(c->state == CONN_READING && !c->held);
	conn_move(c, CONN_HANDLING);
	c->held = true;
	uv_timer_start(&c->timer, conn_timer_cb, c->s->lim.timeout_ms, 0);
}

void http_conn_respond(struct http_conn *c, struct http_response *resp)
{
	assert(c->held);
	c->held = false;
	if (c->state != CONN_HANDLING) {
		assert(c->state == CONN_CLOSING); /* timed out, or the server stopped */
		conn_release(c);
		return;
	}
	conn_send(c, resp);
}

static void conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct http_conn *c = h->data;

	(void)suggested;
	if (c->state == CONN_READING) {
		assert(c->head_len < c->s->lim.head_bytes_max);
		*buf = uv_buf_init(c->head + c->head_len,
				   (unsigned)(c->s->lim.head_bytes_max - c->head_len));
	} else {
		*buf = uv_buf_init(c->s->scratch, sizeof c->s->scratch);
	}
}

static void conn_read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct http_conn *c = st->data;
	struct http_request req;

	(void)buf;
	if (nread == 0 || c->state == CONN_CLOSING)
		return;
	if (nread < 0) {
		if (nread == UV_EOF && (c->state == CONN_HANDLING || c->state == CONN_WRITING)) {
			/* Half-closed: finish the answer, then close. */
			c->eof = true;
			uv_read_stop(st);
			return;
		}
		conn_close(c);
		return;
	}
	if (c->state != CONN_READING) {
		c->discarded += (size_t)nread;
		if (c->discarded > HTTP_DISCARD_BYTES_MAX)
			conn_close(c);
		return;
	}
	c->head_len += (size_t)nread;
	enum http_parse_result pr = http_request_parse(c->head, c->head_len,
						       c->s->lim.head_bytes_max, &req);
	if (pr == HTTP_PARSE_INCOMPLETE) {
		assert(c->head_len < c->s->lim.head_bytes_max);
		return;
	}
	if (pr == HTTP_PARSE_DONE)
		c->discarded = c->head_len - req.head_bytes; /* the start of a body, or more */
	conn_answer(c, pr, &req);
}

static void server_connection_cb(uv_stream_t *listener, int status)
{
	struct http_server *s = listener->data;
	bool reject = s->conns_served >= s->lim.connections_max;
	struct http_conn *c;

	if (status != 0) {
		SLOG_WARN(MODULE, "msg=\"accept failed\" addr=%s error=\"%s\"", s->addr,
			  uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof *c + (reject ? 0 : s->lim.head_bytes_max));
	if (c == NULL) {
		/* Accept into nothing is impossible; the kernel keeps it queued until memory
		 * returns or the client gives up. */
		SLOG_WARN(MODULE, "msg=\"out of memory accepting a connection\" addr=%s", s->addr);
		return;
	}
	c->s = s;
	c->rejected = reject;
	c->state = CONN_READING;
	wbuf_init(&c->out_head);
	wbuf_init(&c->out_body);
	list_insert_tail(&s->conns, &c->link);
	s->conns_total++;
	s->stats.connections_accepted++;
	uv_tcp_init(s->loop, &c->tcp);
	c->tcp.data = c;
	c->handles_open = 1;
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0)
		reject = c->rejected = true; /* nothing to answer: close it below */
	else if (reject) {
		/* Best effort: a fresh socket's send buffer takes this much at once. */
		uv_buf_t b = uv_buf_init((char *)canned_503, sizeof canned_503 - 1);
		s->stats.connections_rejected++;
		s->stats.responses[5]++;
		(void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	}
	if (reject) {
		conn_move(c, CONN_CLOSING);
		uv_close((uv_handle_t *)&c->tcp, conn_handle_closed_cb);
		return;
	}
	s->conns_served++;
	struct sockaddr_storage ss;
	int len = (int)sizeof ss;
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
		sockaddr_format((struct sockaddr *)&ss, c->peer, sizeof c->peer);
	else
		snprintf(c->peer, sizeof c->peer, "?");
	uv_timer_init(s->loop, &c->timer);
	c->timer.data = c;
	c->handles_open = 2;
	uv_timer_start(&c->timer, conn_timer_cb, s->lim.timeout_ms, 0);
	if (uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb, conn_read_cb) != 0)
		conn_close(c);
}

static void listener_closed_cb(uv_handle_t *h)
{
	struct http_server *s = h->data;

	s->listener_open = false;
	server_maybe_free(s);
}

int http_server_start(uv_loop_t *loop, const char *host, int port, const struct http_limits *lim,
		      http_handler_fn handler, void *arg, struct http_server **out, char *errmsg)
{
	struct sockaddr_storage ss;
	struct http_server *s;
	int rv;

	assert(loop != NULL && lim != NULL && handler != NULL && out != NULL);
	if (port < 0 || port > 65535) {
		errmsg_printf(errmsg, "listen %s:%d: port outside 0..65535", host ? host : "",
			      port);
		return SLUICE_EINVAL;
	}
	if (lim->head_bytes_max < 64 || lim->connections_max == 0 || lim->timeout_ms == 0 ||
	    lim->output_bytes_max == 0 || lim->head_bytes_max > UINT32_MAX) {
		errmsg_printf(errmsg, "listen %s:%d: limits out of range", host ? host : "", port);
		return SLUICE_EINVAL;
	}
	rv = sockaddr_listen(host, port, &ss, errmsg);
	if (rv != 0) {
		errmsg_wrapf(errmsg, "listen %s:%d", host ? host : "", port);
		return rv;
	}
	s = calloc(1, sizeof *s);
	if (s == NULL) {
		errmsg_printf(errmsg, "listen %s:%d: out of memory", host ? host : "", port);
		return SLUICE_ENOMEM;
	}
	s->loop = loop;
	s->lim = *lim;
	s->handler = handler;
	s->arg = arg;
	list_init(&s->conns);
	sockaddr_format((struct sockaddr *)&ss, s->addr, sizeof s->addr);
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	s->listener_open = true;

	rv = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&s->listener, HTTP_LISTEN_BACKLOG,
			       server_connection_cb);
	if (rv != 0) {
		errmsg_printf(errmsg, "listen %s: %s", s->addr, uv_strerror(rv));
		goto err_after_init;
	}
	uint16_t bound_port;
	if (sockaddr_bound(&s->listener, s->addr, sizeof s->addr, &bound_port, errmsg) != 0)
		goto err_after_init;
	s->port = bound_port;
	SLOG_INFO(MODULE, "msg=\"admin http listening\" addr=%s", s->addr);
	*out = s;
	return 0;

err_after_init:
	/* The listener must close through the loop; the server frees itself when it has. */
	s->stopping = true;
	uv_close((uv_handle_t *)&s->listener, listener_closed_cb);
	return SLUICE_EIO;
}

int http_server_port(const struct http_server *s)
{
	return s->port;
}

const char *http_server_addr(const struct http_server *s)
{
	return s->addr;
}

void http_server_stats(const struct http_server *s, struct http_stats *out)
{
	*out = s->stats;
	out->connections_open = s->conns_served;
}

void http_server_stop(struct http_server *s, void (*cb)(void *arg), void *arg)
{
	assert(!s->stopping);
	s->stopping = true;
	s->stop_cb = cb;
	s->stop_arg = arg;
	uv_close((uv_handle_t *)&s->listener, listener_closed_cb);
	/* conn_close() leaves the link in place until the close callbacks, so walking is safe. */
	for (struct list_link *l = s->conns.next; l != &s->conns; l = l->next) {
		struct http_conn *c = LIST_ENTRY(l, struct http_conn, link);
		conn_close(c);
	}
}
