/*
 * fuzz_request: arbitrary bytes as a request frame (size prefix stripped), through the request
 * header decoder and, when the API and version are known, the body decoder; a decoded body is
 * encoded again. Any crash, sanitizer report or leak is a bug: malformed input must only ever
 * produce an error.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/buf.h"
#include "kafka/arena.h"
#include "kafka/kafka.h"

/* A bound like the broker's per-request arena limit, so the fuzzer also exercises it. */
#define FUZZ_ARENA_BYTES_MAX (16u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kafka_request_header h;
	struct arena a;

	if (kafka_request_header_decode(data, size, &h) != 0)
		return 0;
	const struct kafka_api *api = kafka_api_find(h.api_key);
	if (!kafka_version_supported(api, h.api_version))
		return 0;
	void *out = malloc(api->request->size);
	if (out == NULL)
		return 0;
	arena_init(&a, FUZZ_ARENA_BYTES_MAX);
	if (kafka_request_decode(h.api_key, h.api_version, data + h.header_bytes,
				 size - h.header_bytes, &a, out) == 0) {
		struct wbuf w;
		wbuf_init(&w);
		if (kafka_request_encode(&w, h.api_key, h.api_version, h.correlation_id,
					 h.client_id, out) != 0)
			abort(); /* whatever decodes must encode again */
		wbuf_free(&w);
	}
	/* The same bytes as a response body exercise the response tables too. */
	arena_reset(&a);
	void *resp = malloc(api->response->size);
	if (resp != NULL)
		(void)kafka_response_decode(h.api_key, h.api_version, data + h.header_bytes,
					    size - h.header_bytes, &a, resp);
	free(resp);
	arena_free(&a);
	free(out);
	return 0;
}
