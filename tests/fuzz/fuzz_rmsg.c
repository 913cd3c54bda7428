/*
 * fuzz_rmsg: arbitrary bytes as one raft message from a peer (its record prefix stripped),
 * through rmsg_decode. A decoded message must encode back to exactly the input (the encoding is
 * canonical), and a decoded AppendEntries is also split at a small limit and every chunk
 * decoded again. Any crash, sanitizer report, leak or abort is a bug: malformed input must only
 * ever produce an error.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "raft/rmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits `m` at a limit derived from the input and decodes every chunk. */
static void split_and_decode(uint64_t group, const struct raft_message *m, size_t size)
{
	struct wbuf w;
	const uint8_t *p;
	size_t n, off = 0;

	wbuf_init(&w);
	int records = rmsg_encode(&w, group, m, 64 + size % 1024);
	if (records == SLUICE_ENOMEM)
		abort(); /* inputs are small: the fuzzer's allocator does not run out */
	if (records < 0) {
		if (records != SLUICE_ETOOLARGE || w.len != 0)
			abort();
		wbuf_free(&w);
		return;
	}
	int seen = 0;
	while (rmsg_record_next(w.data, w.len, &off, &p, &n) == 1) {
		struct raft_message d;
		uint64_t g;
		if (rmsg_decode(p, n, &g, &d, NULL) != 0 || g != group)
			abort(); /* every chunk is a valid AppendEntries */
		rmsg_release(&d);
		seen++;
	}
	if (seen != records || off != w.len)
		abort();
	wbuf_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct raft_message m;
	uint64_t group;
	errmsg_t err;

	if (rmsg_decode(data, size, &group, &m, err) != 0)
		return 0;

	struct wbuf w;
	const uint8_t *p;
	size_t n, off = 0;
	wbuf_init(&w);
	if (rmsg_encode(&w, group, &m, SIZE_MAX) != 1)
		abort(); /* whatever decodes must encode again */
	if (rmsg_record_next(w.data, w.len, &off, &p, &n) != 1 || n != size ||
	    memcmp(p, data, size) != 0)
		abort(); /* ... to the same bytes */
	wbuf_free(&w);
	if (m.type == RAFT_IO_APPEND_ENTRIES)
		split_and_decode(group, &m, size);
	rmsg_release(&m);
	return 0;
}
