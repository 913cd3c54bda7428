/*
 * err: Sluice's error codes and error-message buffers.
 *
 * Every function named as an action returns 0 or a negative SLUICE_E* code. The codes and their
 * strings come from one X-macro table, SLUICE_ERR_MAP, so a code can never lack a message.
 *
 * Context travels in an errmsg buffer (a fixed char array) that each layer wraps with its own
 * prefix, so an operator reads "segment 00000000000000004096.log: checksum mismatch at byte 1048576"
 * rather than a bare number. Invariants:
 *   1. Every code is negative and distinct; 0 means success.
 *   2. errmsg_* never overflow: text that does not fit is cut, and the buffer stays NUL-terminated.
 */
#ifndef SLUICE_BASE_ERR_H
#define SLUICE_BASE_ERR_H

#include <stddef.h>

/* X(name, value, message) */
#define SLUICE_ERR_MAP(X)                                                                          \
	X(ENOMEM, -1, "out of memory")                                                             \
	X(EINVAL, -2, "invalid argument")                                                          \
	X(EIO, -3, "input/output error")                                                           \
	X(ENOSPC, -4, "no space left on device")                                                   \
	X(ECORRUPT, -5, "data on disk is corrupt")                                                 \
	X(EMALFORMED, -6, "malformed input")                                                       \
	X(ENOTFOUND, -7, "not found")                                                              \
	X(EEXIST, -8, "already exists")                                                            \
	X(ERANGE, -9, "out of range")                                                              \
	X(ECANCELED, -10, "operation canceled")                                                    \
	X(EBUSY, -11, "resource busy, try again later")                                            \
	X(ECLOSED, -12, "closed")                                                                  \
	X(ETOOLARGE, -13, "too large")                                                             \
	X(ECONFIG, -14, "bad configuration")                                                       \
	X(EREPAIR, -15, "partition needs repair")                                                  \
	X(EVERSION, -16, "unsupported format version")                                             \
	X(ETIMEDOUT, -17, "timed out")                                                             \
	X(ESTATE, -18, "operation not allowed in this state")                                   \
	X(ENOTLEADER, -19, "not the leader of this replica group")                                \
	X(ENOREPLICAS, -20, "replication factor larger than the number of registered nodes")

enum {
	SLUICE_OK = 0,
#define SLUICE_ERR_ENUM(name, value, msg) SLUICE_##name = (value),
	SLUICE_ERR_MAP(SLUICE_ERR_ENUM)
#undef SLUICE_ERR_ENUM
};

/* Size of every error-message buffer. */
#define ERRMSG_BYTES_MAX 512
typedef char errmsg_t[ERRMSG_BYTES_MAX];

/* Returns the static message for `code` ("unknown error" for codes outside the table). */
const char *err_str(int code);

/* Returns the symbolic name ("SLUICE_ENOSPC") for `code`, "SLUICE_OK" for 0. */
const char *err_name(int code);

/* Maps a POSIX errno value (positive) to a SLUICE_E* code: ENOSPC and EDQUOT to SLUICE_ENOSPC,
 * ENOMEM to SLUICE_ENOMEM, ENOENT to SLUICE_ENOTFOUND, EEXIST to SLUICE_EEXIST, everything else
 * to SLUICE_EIO. */
int err_from_errno(int posix_errno);

/* Overwrites `msg` with the formatted text. `msg` may be NULL (then nothing happens). */
void errmsg_printf(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the text already in `msg` with the formatted text and ": ", as each layer adds its
 * context. `msg` may be NULL. */
void errmsg_wrapf(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
