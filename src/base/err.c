/*
 * err: the error table and error-message buffers (see err.h for the contract).
 */
#include "base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *err_str(int code)
{
	switch (code) {
	case SLUICE_OK:
		return "success";
#define SLUICE_ERR_STR(name, value, msg)                                                           \
	case SLUICE_##name:                                                                        \
		return msg;
		SLUICE_ERR_MAP(SLUICE_ERR_STR)
#undef SLUICE_ERR_STR
	default:
		return "unknown error";
	}
}

const char *err_name(int code)
{
	switch (code) {
	case SLUICE_OK:
		return "SLUICE_OK";
#define SLUICE_ERR_NAME(name, value, msg)                                                          \
	case SLUICE_##name:                                                                        \
		return "SLUICE_" #name;
		SLUICE_ERR_MAP(SLUICE_ERR_NAME)
#undef SLUICE_ERR_NAME
	default:
		return "SLUICE_UNKNOWN";
	}
}

int err_from_errno(int posix_errno)
{
	switch (posix_errno) {
	case ENOSPC:
	case EDQUOT:
		return SLUICE_ENOSPC;
	case ENOMEM:
		return SLUICE_ENOMEM;
	case ENOENT:
		return SLUICE_ENOTFOUND;
	case EEXIST:
		return SLUICE_EEXIST;
	default:
		return SLUICE_EIO;
	}
}

void errmsg_printf(char *msg, const char *fmt, ...)
{
	va_list ap;

	if (msg == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, ERRMSG_BYTES_MAX, fmt, ap);
	va_end(ap);
}

void errmsg_wrapf(char *msg, const char *fmt, ...)
{
	char prefix[ERRMSG_BYTES_MAX];
	char old[ERRMSG_BYTES_MAX];
	va_list ap;

	if (msg == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, msg, sizeof old);
	old[sizeof old - 1] = '\0';
	/* Concatenate by hand: the result is cut at the buffer's end, which snprintf's format
	 * checking would otherwise (rightly) warn about. */
	size_t n = strlen(prefix);
	memcpy(msg, prefix, n);
	if (old[0] != '\0' && n + 2 < ERRMSG_BYTES_MAX) {
		memcpy(msg + n, ": ", 2);
		n += 2;
		size_t m = strlen(old);
		if (m > ERRMSG_BYTES_MAX - 1 - n)
			m = ERRMSG_BYTES_MAX - 1 - n;
		memcpy(msg + n, old, m);
		n += m;
	}
	msg[n] = '\0';
}
