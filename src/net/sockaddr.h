/*
 * sockaddr: socket address text and listen addresses, shared by every listener of a node (the
 * Kafka listener in net.c, the peer transport, the admin HTTP endpoint) so they name and
 * resolve addresses the same way.
 */
#ifndef SLUICE_NET_SOCKADDR_H
#define SLUICE_NET_SOCKADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* "a.b.c.d:port" or "[v6]:port" text of a socket address: 54 bytes at most, NUL included. */
#define SOCKADDR_TEXT_BYTES_MAX 64

/* Writes the text of `sa` into `out` (n bytes); "?" for families other than IPv4 and IPv6. */
void sockaddr_format(const struct sockaddr *sa, char *out, size_t n);

/* Fills `ss` with the address to listen on: `host` is an IPv4 address, an IPv6 address (bare
 * or in brackets), a name (resolved here, blocking: call at start-up), or NULL or "" for
 * 0.0.0.0. Returns 0, or SLUICE_EINVAL with `errmsg` (may be NULL) naming the cause. */
int sockaddr_listen(const char *host, int port, struct sockaddr_storage *ss, char *errmsg);

#endif
