/*
 * sockaddr: see sockaddr.h.
 */
#include "net/sockaddr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "base/err.h"

void sockaddr_format(const struct sockaddr *sa, char *out, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		uv_ip4_name(in, ip, sizeof ip);
		snprintf(out, n, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		uv_ip6_name(in6, ip, sizeof ip);
		snprintf(out, n, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
	} else {
		snprintf(out, n, "?");
	}
}

int sockaddr_listen(const char *host, int port, struct sockaddr_storage *ss, char *errmsg)
{
	char h[SOCKADDR_TEXT_BYTES_MAX];
	size_t n;

	memset(ss, 0, sizeof *ss);
	if (host == NULL || host[0] == '\0')
		host = "0.0.0.0";
	n = strlen(host);
	if (host[0] == '[' && n >= 2 && host[n - 1] == ']' && n - 2 < sizeof h) {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		host = h;
	}
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
		return 0;
	if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
		return 0;

	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int rv = getaddrinfo(host, NULL, &hints, &res);
	if (rv != 0 || res == NULL) {
		if (errmsg != NULL)
			errmsg_printf(errmsg, "cannot resolve host: %s",
				      rv != 0 ? gai_strerror(rv) : "");
		if (res != NULL)
			freeaddrinfo(res);
		return SLUICE_EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	return 0;
}

int sockaddr_bound(const uv_tcp_t *listener, char *addr, size_t n, uint16_t *port, char *errmsg)
{
	struct sockaddr_storage bound;
	int len = (int)sizeof bound;
	int rv = uv_tcp_getsockname(listener, (struct sockaddr *)&bound, &len);
	if (rv != 0) {
		errmsg_printf(errmsg, "listen %s: getsockname: %s", addr, uv_strerror(rv));
		return SLUICE_EIO;
	}
	sockaddr_format((struct sockaddr *)&bound, addr, n);
	*port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port) :
					      ntohs(((struct sockaddr_in *)&bound)->sin_port);
	return 0;
}
