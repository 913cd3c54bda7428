/*
 * sockaddr: socket address text and listen addresses, shared by every listener of a node (the
 * Kafka listener in net.c, the peer transport, the admin HTTP endpoint) so they name and
 * resolve addresses the same way.
 */
#ifndef SLUICE_NET_SOCKADDR_H
#define SLUICE_NET_SOCKADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

/* "a.b.c.d:port" or "[v6]:port" text of a socket address: 54 bytes at most, NUL included. */
#define SOCKADDR_TEXT_BYTES_MAX 64

/* Writes the text of `sa` into `out` (n bytes); "?" for families other than IPv4 and IPv6. */
void sockaddr_format(const struct sockaddr *sa, char *out, size_t n);

/* Fills `ss` with the address to listen on: `host` is an IPv4 address, an IPv6 address (bare
 * or in brackets), a name (resolved here, blocking: call at start-up), or NULL or "" for
 * 0.0.0.0. Returns 0, or SLUICE_EINVAL with `errmsg` (may be NULL) naming the cause. */
int sockaddr_listen(const char *host, int port, struct sockaddr_storage *ss, char *errmsg);

/* After a listener's bind: writes the address it is bound to (the port picked for port 0
 * included) into `addr` (n bytes) and *port. Returns 0, or SLUICE_EIO with `errmsg` naming the
 * address in `addr` as it was and the cause. */
int sockaddr_bound(const uv_tcp_t *listener, char *addr, size_t n, uint16_t *port, char *errmsg);

#endif
