/*
 * batchgen: builds valid RecordBatch v2 bytes for tests (uncompressed records with keys and
 * values derived from a seed), so storage and protocol tests share one generator.
 */
#ifndef SLUICE_TESTS_BATCHGEN_H
#define SLUICE_TESTS_BATCHGEN_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/codec.h"
#include "storage/batch.h"

/* Returns a buf holding one batch of `nrecords` records, each with a `value_bytes` value whose
 * bytes derive from `seed`; record i has timestamp ts + i. BaseOffset is 0 (the log assigns it). */
static inline struct buf *batchgen(int nrecords, size_t value_bytes, int64_t ts, uint32_t seed)
{
	struct wbuf recs, out;

	wbuf_init(&recs);
	for (int i = 0; i < nrecords; i++) {
		struct wbuf r;
		char key[32];
		int klen = snprintf(key, sizeof key, "key-%u-%d", seed, i);
		wbuf_init(&r);
		wbuf_u8(&r, 0);           /* attributes */
		wbuf_varint(&r, i);       /* timestampDelta */
		wbuf_varint(&r, i);       /* offsetDelta */
		wbuf_varint(&r, klen);
		wbuf_put(&r, key, (size_t)klen);
		wbuf_varint(&r, (int64_t)value_bytes);
		for (size_t j = 0; j < value_bytes; j++)
			wbuf_u8(&r, (uint8_t)(seed * 31u + (uint32_t)i * 7u + (uint32_t)j));
		wbuf_varint(&r, 0);       /* headers */
		wbuf_varint(&recs, (int64_t)r.len);
		wbuf_put(&recs, r.data, r.len);
		wbuf_free(&r);
	}
	wbuf_init(&out);
	wbuf_be64(&out, 0);                               /* BaseOffset */
	wbuf_be32(&out, (uint32_t)(49 + recs.len));       /* BatchLength */
	wbuf_be32(&out, 0);                               /* PartitionLeaderEpoch */
	wbuf_u8(&out, 2);                                 /* Magic */
	wbuf_be32(&out, 0);                               /* CRC, set below */
	wbuf_be16(&out, 0);                               /* Attributes */
	wbuf_be32(&out, (uint32_t)(nrecords - 1));        /* LastOffsetDelta */
	wbuf_be64(&out, (uint64_t)ts);                    /* BaseTimestamp */
	wbuf_be64(&out, (uint64_t)(ts + nrecords - 1));   /* MaxTimestamp */
	wbuf_be64(&out, (uint64_t)-1);                    /* ProducerId */
	wbuf_be16(&out, (uint16_t)-1);                    /* ProducerEpoch */
	wbuf_be32(&out, (uint32_t)-1);                    /* BaseSequence */
	wbuf_be32(&out, (uint32_t)nrecords);              /* RecordCount */
	wbuf_put(&out, recs.data, recs.len);
	wbuf_free(&recs);
	batch_set_crc(out.data, out.len);
	return wbuf_take(&out);
}

#endif
