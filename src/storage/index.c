/*
 * index: sparse offset and time indexes of a segment (format and invariants in index.h).
 */
#include "storage/index.h"

#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "sluice/version.h"

_Static_assert(INDEX_FORMAT_VERSION == SLUICE_FORMAT_INDEX, "the public format version must match the module's");

static const uint8_t offidx_magic[4] = {'S', 'L', 'I', 'X'};
static const uint8_t timeidx_magic[4] = {'S', 'L', 'T', 'X'};
#define OFFIDX_ENTRY_BYTES 8
#define TIMEIDX_ENTRY_BYTES 12

void index_init(struct index *ix)
{
	memset(ix, 0, sizeof *ix);
}

void index_free(struct index *ix)
{
	free(ix->off);
	free(ix->time);
	index_init(ix);
}

static int grow(void **arr, uint32_t *cap, size_t entry_size)
{
	uint32_t ncap = *cap ? *cap * 2 : 64;
	void *p;

	if (ncap < *cap)
		return SLUICE_ENOMEM;
	p = realloc(*arr, (size_t)ncap * entry_size);
	if (p == NULL)
		return SLUICE_ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int index_add_offset(struct index *ix, uint32_t rel_offset, uint32_t position)
{
	if (ix->off_count == ix->off_cap &&
	    grow((void **)&ix->off, &ix->off_cap, sizeof *ix->off) != 0)
		return SLUICE_ENOMEM;
	ix->off[ix->off_count].rel_offset = rel_offset;
	ix->off[ix->off_count].position = position;
	ix->off_count++;
	return 0;
}

int index_add_time(struct index *ix, int64_t timestamp, uint32_t rel_offset)
{
	if (ix->time_count > 0 && timestamp <= ix->time[ix->time_count - 1].timestamp)
		return 0;
	if (ix->time_count == ix->time_cap &&
	    grow((void **)&ix->time, &ix->time_cap, sizeof *ix->time) != 0)
		return SLUICE_ENOMEM;
	ix->time[ix->time_count].timestamp = timestamp;
	ix->time[ix->time_count].rel_offset = rel_offset;
	ix->time_count++;
	return 0;
}

uint32_t index_lookup_offset(const struct index *ix, uint32_t rel)
{
	uint32_t lo = 0, hi = ix->off_count;

	/* Find the first entry with rel_offset > rel; the one before it is the answer. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ix->off[mid].rel_offset <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? 0 : ix->off[lo - 1].position;
}

int64_t index_lookup_time(const struct index *ix, int64_t ts)
{
	uint32_t lo = 0, hi = ix->time_count;

	/* Find the first entry with timestamp >= ts. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ix->time[mid].timestamp < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? -1 : (int64_t)ix->time[lo - 1].rel_offset;
}

void index_truncate(struct index *ix, uint32_t position, uint32_t rel)
{
	while (ix->off_count > 0 && ix->off[ix->off_count - 1].position >= position)
		ix->off_count--;
	while (ix->time_count > 0 && ix->time[ix->time_count - 1].rel_offset >= rel)
		ix->time_count--;
}

int index_encode(const struct index *ix, const struct index_meta *meta, bool time, uint8_t **out,
		 size_t *n_out)
{
	uint32_t count = time ? ix->time_count : ix->off_count;
	size_t entry = time ? TIMEIDX_ENTRY_BYTES : OFFIDX_ENTRY_BYTES;
	size_t n = INDEX_HEADER_BYTES + (size_t)count * entry;
	uint8_t *p = malloc(n);
	uint32_t crc;

	if (p == NULL)
		return SLUICE_ENOMEM;
	memcpy(p, time ? timeidx_magic : offidx_magic, 4);
	be16_put(p + 4, INDEX_FORMAT_VERSION);
	be16_put(p + 6, (uint16_t)entry);
	be64_put(p + 8, (uint64_t)meta->base_offset);
	be64_put(p + 16, (uint64_t)meta->next_offset);
	be64_put(p + 24, meta->covered_bytes);
	be64_put(p + 32, (uint64_t)meta->max_timestamp);
	be64_put(p + 40, (uint64_t)meta->max_ts_offset);
	be32_put(p + 48, count);
	for (uint32_t i = 0; i < count; i++) {
		uint8_t *e = p + INDEX_HEADER_BYTES + (size_t)i * entry;
		if (time) {
			be64_put(e, (uint64_t)ix->time[i].timestamp);
			be32_put(e + 8, ix->time[i].rel_offset);
		} else {
			be32_put(e, ix->off[i].rel_offset);
			be32_put(e + 4, ix->off[i].position);
		}
	}
	crc = crc32c(0, p, 52);
	crc = crc32c(crc, p + INDEX_HEADER_BYTES, n - INDEX_HEADER_BYTES);
	be32_put(p + 52, crc);
	*out = p;
	*n_out = n;
	return 0;
}

int index_decode(struct index *ix, struct index_meta *meta, bool time, const uint8_t *p, size_t n)
{
	size_t entry = time ? TIMEIDX_ENTRY_BYTES : OFFIDX_ENTRY_BYTES;
	uint32_t count, crc;
	int rv;

	if (n < INDEX_HEADER_BYTES || memcmp(p, time ? timeidx_magic : offidx_magic, 4) != 0)
		return SLUICE_ECORRUPT;
	if (be16_get(p + 4) != INDEX_FORMAT_VERSION)
		return SLUICE_EVERSION;
	if (be16_get(p + 6) != entry)
		return SLUICE_ECORRUPT;
	count = be32_get(p + 48);
	if ((n - INDEX_HEADER_BYTES) / entry != count || (n - INDEX_HEADER_BYTES) % entry != 0)
		return SLUICE_ECORRUPT;
	crc = crc32c(0, p, 52);
	crc = crc32c(crc, p + INDEX_HEADER_BYTES, n - INDEX_HEADER_BYTES);
	if (crc != be32_get(p + 52))
		return SLUICE_ECORRUPT;
	meta->base_offset = (int64_t)be64_get(p + 8);
	meta->next_offset = (int64_t)be64_get(p + 16);
	meta->covered_bytes = be64_get(p + 24);
	meta->max_timestamp = (int64_t)be64_get(p + 32);
	meta->max_ts_offset = (int64_t)be64_get(p + 40);
	if (meta->next_offset < meta->base_offset)
		return SLUICE_ECORRUPT;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = p + INDEX_HEADER_BYTES + (size_t)i * entry;
		if (time) {
			int64_t ts = (int64_t)be64_get(e);
			uint32_t rel = be32_get(e + 8);
			if (ix->time_count > 0 &&
			    (ts <= ix->time[ix->time_count - 1].timestamp ||
			     rel < ix->time[ix->time_count - 1].rel_offset))
				goto err_corrupt;
			rv = index_add_time(ix, ts, rel);
		} else {
			uint32_t rel = be32_get(e);
			uint32_t pos = be32_get(e + 4);
			if (ix->off_count > 0 && (rel <= ix->off[ix->off_count - 1].rel_offset ||
						  pos <= ix->off[ix->off_count - 1].position))
				goto err_corrupt;
			if (pos >= meta->covered_bytes)
				goto err_corrupt;
			rv = index_add_offset(ix, rel, pos);
		}
		if (rv != 0)
			return rv;
	}
	return 0;

err_corrupt:
	if (time)
		ix->time_count = 0;
	else
		ix->off_count = 0;
	return SLUICE_ECORRUPT;
}
