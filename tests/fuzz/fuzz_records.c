/*
 * fuzz_records: arbitrary bytes as a Produce `Records` field, through records_validate and, batch
 * by batch, the record iterator and header reader. Validation must return an error for anything
 * malformed and never read outside the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/err.h"
#include "kafka/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	errmsg_t msg;
	struct records_info info;
	struct records_iter it;
	struct records_record rec;
	struct records_header hdr;

	(void)records_validate(data, size, &info, msg);
	/* The iterator runs without the CRC check, so it sees inputs validation would stop early. */
	if (records_iter_init(&it, data, size) == 0) {
		while (records_iter_next(&it, &rec) == 1) {
			size_t pos = 0;
			while (records_header_next(&rec, &pos, &hdr) == 1)
				;
		}
	}
	return 0;
}
