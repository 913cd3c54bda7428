/*
 * assignment: the consumer protocol's assignment decoder. Format and contract in assignment.h.
 */
#include "cli/assignment.h"

#include <string.h>

#include "base/buf.h"
#include "base/err.h"

/* Smallest encoding of one topic entry: an empty name (2) and an empty partition array (4). */
#define TOPIC_BYTES_MIN 6

int assignment_decode(const uint8_t *p, size_t n, struct arena *a, struct assignment *out)
{
	struct rbuf r;
	int32_t count;

	memset(out, 0, sizeof *out);
	out->user_data.len = -1;
	if (n == 0)
		return 0;
	rbuf_init(&r, p, n);
	out->version = (int16_t)rbuf_be16(&r);
	count = (int32_t)rbuf_be32(&r);
	if (r.err || out->version < 0 || count < 0 ||
	    (size_t)count > rbuf_left(&r) / TOPIC_BYTES_MIN)
		return SLUICE_EMALFORMED;
	out->topics = arena_alloc(a, (size_t)count * sizeof *out->topics);
	if (out->topics == NULL)
		return SLUICE_ENOMEM;
	for (int32_t i = 0; i < count; i++) {
		struct assignment_topic *t = &out->topics[i];
		int16_t len = (int16_t)rbuf_be16(&r);
		int32_t parts;

		if (len < 0)
			return SLUICE_EMALFORMED;
		t->topic.ptr = (const char *)rbuf_bytes(&r, (size_t)len);
		t->topic.len = len;
		parts = (int32_t)rbuf_be32(&r);
		if (r.err || parts < 0 || (size_t)parts > rbuf_left(&r) / 4)
			return SLUICE_EMALFORMED;
		t->partitions = arena_alloc(a, (size_t)parts * sizeof *t->partitions);
		if (t->partitions == NULL)
			return SLUICE_ENOMEM;
		for (int32_t k = 0; k < parts; k++)
			t->partitions[k] = (int32_t)rbuf_be32(&r);
		t->partitions_n = parts;
		out->topics_n = i + 1;
	}
	if (rbuf_left(&r) > 0) {
		int32_t ulen = (int32_t)rbuf_be32(&r);

		if (ulen >= 0) {
			out->user_data.ptr = rbuf_bytes(&r, (size_t)ulen);
			out->user_data.len = ulen;
		} else if (ulen != -1) {
			return SLUICE_EMALFORMED;
		}
	}
	return r.err ? SLUICE_EMALFORMED : 0;
}
