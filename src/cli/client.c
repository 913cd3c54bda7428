/*
 * client: a blocking Kafka-protocol connection with bounded waits. Contract in client.h.
 *
 * Wire framing (Kafka's protocol guide, "Common Request and Response Structure"):
 *   offset  size  meaning
 *   0       4     Size: int32, bytes that follow (request or response header plus body)
 *   4       Size  header (kafka.h) then body (messages.h)
 *
 * The socket is non-blocking and every wait goes through poll() with the time left before the
 * operation's deadline, so a silent or stalled broker costs at most timeout_ms per operation.
 */
#include "cli/client.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "kafka/kafka.h"

#define CLIENT_ID "sluice-cli"

/* ApiVersions versions the CLI speaks; v3+ is flexible and not needed for its purpose. */
#define API_VERSIONS_VERSION_MAX 2

struct client_frame {
	struct client_frame *next;
	size_t len;
	uint8_t data[];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int client_parse_address(const char *addr, char *host, int *port, char *msg)
{
	const char *colon;
	const char *h = addr;
	size_t hlen;
	char *end;
	long p;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (close == NULL || close[1] != ':') {
			errmsg_printf(msg, "address '%s': expected [HOST]:PORT", addr);
			return SLUICE_EINVAL;
		}
		h = addr + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL) {
			errmsg_printf(msg, "address '%s': expected HOST:PORT", addr);
			return SLUICE_EINVAL;
		}
		hlen = (size_t)(colon - addr);
	}
	if (hlen == 0 || hlen >= CLIENT_HOST_BYTES_MAX) {
		errmsg_printf(msg, "address '%s': bad host", addr);
		return SLUICE_EINVAL;
	}
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p < 1 || p > 65535) {
		errmsg_printf(msg, "address '%s': bad port", addr);
		return SLUICE_EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (int)p;
	return 0;
}

static void fail_close(struct client *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

/* Waits until `fd` is ready for `events` or `deadline_ms` passes. Returns 0, SLUICE_ETIMEDOUT or
 * SLUICE_EIO (with errno kept). */
static int wait_fd(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		int64_t left = deadline_ms - now_ms();
		struct pollfd pfd = { .fd = fd, .events = events };
		int n;

		if (left <= 0)
			return SLUICE_ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return SLUICE_EIO;
	}
}

static int connect_one(struct client *c, const struct addrinfo *ai, char *msg)
{
	int64_t deadline = now_ms() + c->timeout_ms;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	int one = 1;
	int rv;

	if (fd < 0) {
		errmsg_printf(msg, "%s:%d: socket: %s", c->host, c->port, strerror(errno));
		return SLUICE_EIO;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		int soerr = 0;
		socklen_t len = sizeof soerr;

		if (errno != EINPROGRESS) {
			errmsg_printf(msg, "%s:%d: connect: %s", c->host, c->port, strerror(errno));
			close(fd);
			return SLUICE_EIO;
		}
		rv = wait_fd(fd, POLLOUT, deadline);
		if (rv == SLUICE_ETIMEDOUT) {
			errmsg_printf(msg, "%s:%d: connect: timed out after %d ms", c->host,
				      c->port, c->timeout_ms);
			close(fd);
			return rv;
		}
		if (rv == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
			soerr = errno;
		if (rv != 0 || soerr != 0) {
			errmsg_printf(msg, "%s:%d: connect: %s", c->host, c->port,
				      strerror(rv != 0 ? errno : soerr));
			close(fd);
			return SLUICE_EIO;
		}
	}
	/* Requests are small and strictly alternate with responses; do not wait for Nagle. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->fd = fd;
	return 0;
}

static int connect_any(struct client *c, char *msg)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	char port[16];
	int rv;

	snprintf(port, sizeof port, "%d", c->port);
	rv = getaddrinfo(c->host, port, &hints, &res);
	if (rv != 0) {
		errmsg_printf(msg, "%s:%d: resolve: %s", c->host, c->port, gai_strerror(rv));
		return SLUICE_EIO;
	}
	rv = SLUICE_EIO;
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		rv = connect_one(c, ai, msg);
		if (rv == 0)
			break;
	}
	freeaddrinfo(res);
	return rv;
}

static int write_all(struct client *c, const uint8_t *p, size_t n, char *msg)
{
	int64_t deadline = now_ms() + c->timeout_ms;

	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rv = wait_fd(c->fd, POLLOUT, deadline);

			if (rv == SLUICE_ETIMEDOUT) {
				errmsg_printf(msg, "%s:%d: write: timed out after %d ms", c->host,
					      c->port, c->timeout_ms);
				return rv;
			}
			if (rv != 0)
				goto err_io;
			continue;
		}
		goto err_io;
	}
	return 0;

err_io:
	errmsg_printf(msg, "%s:%d: write: %s", c->host, c->port, strerror(errno));
	return SLUICE_EIO;
}

/* Reads exactly `n` bytes before `deadline_ms`. */
static int read_all(struct client *c, uint8_t *p, size_t n, int64_t deadline_ms, char *msg)
{
	while (n > 0) {
		ssize_t r = recv(c->fd, p, n, 0);

		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r == 0) {
			errmsg_printf(msg, "%s:%d: read: connection closed by the broker", c->host,
				      c->port);
			return SLUICE_EIO;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int rv = wait_fd(c->fd, POLLIN, deadline_ms);

			if (rv == SLUICE_ETIMEDOUT) {
				errmsg_printf(msg, "%s:%d: read: no response within %d ms", c->host,
					      c->port, c->timeout_ms);
				return rv;
			}
			if (rv != 0)
				goto err_io;
			continue;
		}
		goto err_io;
	}
	return 0;

err_io:
	errmsg_printf(msg, "%s:%d: read: %s", c->host, c->port, strerror(errno));
	return SLUICE_EIO;
}

/* Sends one request and reads its response frame. On success *frame is owned by the client (in
 * c->frames) and *body and *body_len name the response body after its header. */
static int round_trip(struct client *c, int16_t api_key, int16_t version, const void *req,
		      const uint8_t **body, size_t *body_len, char *msg)
{
	const struct kafka_api *api = kafka_api_find(api_key);
	const char *name = api != NULL ? api->name : "request";
	struct client_frame *f;
	struct wbuf w;
	uint8_t size_be[4];
	uint32_t size;
	int32_t cid = ++c->correlation_id;
	int32_t got_cid;
	size_t hdr;
	int64_t deadline;
	int rv;

	if (c->fd < 0) {
		errmsg_printf(msg, "%s:%d: connection closed after an earlier error", c->host,
			      c->port);
		return SLUICE_ECLOSED;
	}
	wbuf_init(&w);
	wbuf_be32(&w, 0); /* size, patched below */
	rv = kafka_request_encode(&w, api_key, version, cid, kafka_str_c(CLIENT_ID), req);
	if (rv == 0 && w.oom)
		rv = SLUICE_ENOMEM;
	if (rv != 0) {
		errmsg_printf(msg, "%s v%d: cannot encode request: %s", name, version, err_str(rv));
		wbuf_free(&w);
		return rv;
	}
	size = (uint32_t)(w.len - 4);
	w.data[0] = (uint8_t)(size >> 24);
	w.data[1] = (uint8_t)(size >> 16);
	w.data[2] = (uint8_t)(size >> 8);
	w.data[3] = (uint8_t)size;
	rv = write_all(c, w.data, w.len, msg);
	wbuf_free(&w);
	if (rv != 0)
		goto err_close;

	/* One deadline for the whole response, so a broker trickling bytes cannot stretch it. */
	deadline = now_ms() + c->timeout_ms;
	rv = read_all(c, size_be, sizeof size_be, deadline, msg);
	if (rv != 0)
		goto err_close;
	size = (uint32_t)size_be[0] << 24 | (uint32_t)size_be[1] << 16 | (uint32_t)size_be[2] << 8 |
	       size_be[3];
	if (size > CLIENT_FRAME_BYTES_MAX) {
		errmsg_printf(msg, "%s:%d: %s response of %u bytes is larger than the %d allowed",
			      c->host, c->port, name, size, CLIENT_FRAME_BYTES_MAX);
		rv = SLUICE_EMALFORMED;
		goto err_close;
	}
	f = malloc(sizeof *f + size);
	if (f == NULL) {
		errmsg_printf(msg, "%s response: out of memory", name);
		rv = SLUICE_ENOMEM;
		goto err_close;
	}
	f->len = size;
	f->next = c->frames;
	c->frames = f;
	rv = read_all(c, f->data, size, deadline, msg);
	if (rv != 0)
		goto err_close;
	rv = kafka_response_header_decode(api_key, version, f->data, f->len, &got_cid, &hdr);
	if (rv != 0) {
		errmsg_printf(msg, "%s:%d: %s response: malformed header", c->host, c->port, name);
		goto err_close;
	}
	if (got_cid != cid) {
		errmsg_printf(msg, "%s:%d: %s response has correlation id %d, expected %d", c->host,
			      c->port, name, got_cid, cid);
		rv = SLUICE_EMALFORMED;
		goto err_close;
	}
	*body = f->data + hdr;
	*body_len = f->len - hdr;
	return 0;

err_close:
	fail_close(c);
	return rv;
}

int client_call(struct client *c, int16_t api_key, int16_t version, const void *req, void *resp,
		char *msg)
{
	const struct kafka_api *api = kafka_api_find(api_key);
	const uint8_t *body;
	size_t n;
	int rv;

	rv = round_trip(c, api_key, version, req, &body, &n, msg);
	if (rv != 0)
		return rv;
	rv = kafka_response_decode(api_key, version, body, n, &c->arena, resp);
	if (rv != 0) {
		errmsg_printf(msg, "%s:%d: %s v%d response does not decode: %s", c->host, c->port,
			      api != NULL ? api->name : "?", version, err_str(rv));
		fail_close(c);
		return rv;
	}
	return 0;
}

int client_version(const struct client *c, int16_t api_key, int16_t lo, int16_t hi)
{
	const struct kafka_api *api = kafka_api_find(api_key);

	if (api == NULL || api_key < 0 || api_key >= CLIENT_API_KEYS_MAX)
		return -1;
	if (hi > c->api_max[api_key])
		hi = c->api_max[api_key];
	if (hi > api->version_max)
		hi = api->version_max;
	if (lo < c->api_min[api_key])
		lo = c->api_min[api_key];
	if (lo < api->version_min)
		lo = api->version_min;
	return hi >= lo ? hi : -1;
}

int client_call_range(struct client *c, int16_t api_key, int16_t lo, int16_t hi, const void *req,
		      void *resp, int16_t *version_out, char *msg)
{
	int v = client_version(c, api_key, lo, hi);

	if (v < 0) {
		const struct kafka_api *api = kafka_api_find(api_key);
		int key_ok = api_key >= 0 && api_key < CLIENT_API_KEYS_MAX &&
			     c->api_min[api_key] <= c->api_max[api_key];

		if (key_ok)
			errmsg_printf(msg, "%s:%d: broker supports %s v%d-%d, the CLI needs v%d-%d",
				      c->host, c->port, api != NULL ? api->name : "?",
				      c->api_min[api_key], c->api_max[api_key], lo, hi);
		else
			errmsg_printf(msg, "%s:%d: broker does not support %s (API key %d)",
				      c->host, c->port, api != NULL ? api->name : "?", api_key);
		return SLUICE_EVERSION;
	}
	if (version_out != NULL)
		*version_out = (int16_t)v;
	return client_call(c, api_key, (int16_t)v, req, resp, msg);
}

/* ApiVersions: KIP-511 says a broker that does not know our version answers with a v0 body and
 * UNSUPPORTED_VERSION, listing its own ApiVersions range; we then retry at v0. */
static int negotiate(struct client *c, char *msg)
{
	struct kafka_api_versions_request req;
	struct kafka_api_versions_response resp;
	int16_t version = API_VERSIONS_VERSION_MAX;
	const uint8_t *body;
	size_t n;
	int rv;

	for (int attempt = 0; attempt < 2; attempt++) {
		kafka_struct_defaults(&kafka_api_versions_request_desc, &req);
		rv = round_trip(c, KAFKA_API_API_VERSIONS, version, &req, &body, &n, msg);
		if (rv != 0)
			return rv;
		rv = kafka_response_decode(KAFKA_API_API_VERSIONS, version, body, n, &c->arena,
					   &resp);
		if (rv != 0 && version != 0)
			rv = kafka_response_decode(KAFKA_API_API_VERSIONS, 0, body, n, &c->arena,
						   &resp);
		if (rv != 0) {
			errmsg_printf(msg, "%s:%d: ApiVersions response does not decode: %s",
				      c->host, c->port, err_str(rv));
			fail_close(c);
			return rv;
		}
		if (resp.error_code == KAFKA_ERR_UNSUPPORTED_VERSION && version != 0) {
			version = 0;
			continue;
		}
		if (resp.error_code != KAFKA_ERR_NONE) {
			errmsg_printf(msg, "%s:%d: ApiVersions: %s", c->host, c->port,
				      kafka_err_name(resp.error_code));
			fail_close(c);
			return SLUICE_EIO;
		}
		for (int32_t i = 0; i < resp.api_keys.n; i++) {
			const struct kafka_api_versions_response_api_version *k =
				&resp.api_keys.v[i];

			if (k->api_key < 0 || k->api_key >= CLIENT_API_KEYS_MAX)
				continue;
			c->api_min[k->api_key] = k->min_version;
			c->api_max[k->api_key] = k->max_version;
		}
		return 0;
	}
	errmsg_printf(msg, "%s:%d: ApiVersions: UNSUPPORTED_VERSION even at v0", c->host, c->port);
	fail_close(c);
	return SLUICE_EVERSION;
}

int client_open(struct client *c, const char *host, int port, int timeout_ms, char *msg)
{
	int rv;

	assert(timeout_ms > 0);
	memset(c, 0, sizeof *c);
	c->fd = -1;
	snprintf(c->host, sizeof c->host, "%s", host);
	c->port = port;
	c->timeout_ms = timeout_ms;
	for (int i = 0; i < CLIENT_API_KEYS_MAX; i++) {
		c->api_min[i] = 0;
		c->api_max[i] = -1;
	}
	arena_init(&c->arena, CLIENT_ARENA_BYTES_MAX);
	rv = connect_any(c, msg);
	if (rv != 0)
		goto err_after_arena;
	rv = negotiate(c, msg);
	if (rv != 0)
		goto err_after_arena;
	return 0;

err_after_arena:
	client_close(c);
	return rv;
}

void client_close(struct client *c)
{
	struct client_frame *f;

	if (c == NULL)
		return;
	fail_close(c);
	while ((f = c->frames) != NULL) {
		c->frames = f->next;
		free(f);
	}
	arena_free(&c->arena);
}
