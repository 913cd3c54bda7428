/*
 * segment: one log file and its indexes (see segment.h).
 *
 * Happy path: segment_note_batch keeps the in-memory state in step with every append; a closed
 * segment's indexes are written once and loaded on the next open, so reopening a partition reads
 * no log bytes of closed segments. Failure modes: a torn or corrupt batch stops segment_scan at
 * its position; a missing, torn or stale index file is ignored and rebuilt by a scan.
 *
 * Invariants:
 *   1. base_offset <= durable_next <= next_offset and durable_size <= size.
 *   2. Offsets are contiguous: each batch's BaseOffset is the previous batch's last offset + 1.
 *   3. Every index entry points at the start of a batch within `size`.
 */
#include "storage/segment.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"

/* Recovery reads the log in chunks of this size (grown for larger batches). */
#define SCAN_CHUNK_BYTES (1u << 20)

struct segment *segment_new(const char *dir, int64_t base_offset, wall_ms_t now)
{
	struct segment *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	segment_file_path(s->path, dir, base_offset, "log");
	s->base_offset = base_offset;
	s->fd = -1;
	s->next_offset = base_offset;
	s->durable_next = base_offset;
	s->max_timestamp = -1;
	s->max_ts_offset = -1;
	s->created_ms = now;
	index_init(&s->ix);
	return s;
}

void segment_free(struct segment *s)
{
	if (s == NULL)
		return;
	index_free(&s->ix);
	free(s);
}

void segment_file_path(char *out, const char *dir, int64_t base_offset, const char *ext)
{
	snprintf(out, PATH_MAX, "%s/%020" PRId64 ".%s", dir, base_offset, ext);
}

bool segment_parse_name(const char *name, int64_t *base)
{
	int64_t v = 0;

	if (strlen(name) != 24 || strcmp(name + 20, ".log") != 0)
		return false;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		if (v > (INT64_MAX - (name[i] - '0')) / 10)
			return false;
		v = v * 10 + (name[i] - '0');
	}
	*base = v;
	return true;
}

int segment_note_batch(struct segment *s, const struct batch_header *h, uint64_t position,
		       uint32_t interval_bytes)
{
	uint32_t rel = (uint32_t)(h->base_offset - s->base_offset);
	size_t total = batch_total_bytes(h);
	int rv;

	if (s->ix.off_count == 0 || s->bytes_since_off_entry >= interval_bytes) {
		rv = index_add_offset(&s->ix, rel, (uint32_t)position);
		if (rv != 0)
			return rv;
		s->bytes_since_off_entry = 0;
	}
	if (h->max_timestamp > s->max_timestamp) {
		s->max_timestamp = h->max_timestamp;
		s->max_ts_offset = h->base_offset;
		if (s->ix.time_count == 0 || s->bytes_since_time_entry >= interval_bytes) {
			rv = index_add_time(&s->ix, h->max_timestamp, rel);
			if (rv != 0)
				return rv;
			s->bytes_since_time_entry = 0;
		}
	}
	s->bytes_since_off_entry += total;
	s->bytes_since_time_entry += total;
	s->next_offset = batch_last_offset(h) + 1;
	s->size = position + total;
	return 0;
}

bool segment_cut(struct segment *s, uint64_t size, int64_t next_offset)
{
	uint32_t rel = (uint32_t)(next_offset - s->base_offset);

	index_truncate(&s->ix, (uint32_t)size, rel);
	s->size = size;
	s->next_offset = next_offset;
	if (s->durable_size > size)
		s->durable_size = size;
	if (s->durable_next > next_offset)
		s->durable_next = next_offset;
	/* Spacing restarts from the cut: the next batch may get an entry a little early. */
	s->bytes_since_off_entry = UINT64_MAX / 2;
	s->bytes_since_time_entry = UINT64_MAX / 2;
	if (s->max_ts_offset >= next_offset) {
		s->max_timestamp = -1;
		s->max_ts_offset = -1;
		return true;
	}
	return false;
}

int segment_scan(struct fs *fs, struct segment *s, uint64_t position, uint64_t file_size,
		 uint32_t interval_bytes, struct segment_scan_stop *stop)
{
	size_t cap = SCAN_CHUNK_BYTES;
	uint8_t *buf = malloc(cap);
	uint64_t buf_pos = position; /* file position of buf[0] */
	size_t buf_len = 0;
	uint64_t pos = position;
	int rv = 0;

	if (buf == NULL)
		return SLUICE_ENOMEM;
	while (pos < file_size) {
		size_t at = (size_t)(pos - buf_pos);
		struct batch_header h;
		size_t total;

		/* Make sure the header, then the whole batch, is in the buffer. */
		if (buf_len - at < BATCH_HEADER_BYTES) {
			if (file_size - pos < BATCH_HEADER_BYTES) {
				stop->reason = "truncated batch header";
				goto corrupt;
			}
			memmove(buf, buf + at, buf_len - at);
			buf_len -= at;
			buf_pos = pos;
			at = 0;
			ssize_t got = fs->pread(fs, s->fd, buf + buf_len, cap - buf_len,
						buf_pos + buf_len);
			if (got < 0) {
				rv = (int)got;
				goto out;
			}
			buf_len += (size_t)got;
			if (buf_len < BATCH_HEADER_BYTES) {
				stop->reason = "truncated batch header";
				goto corrupt;
			}
		}
		if (batch_header_decode(buf + at, buf_len - at, &h) != 0) {
			stop->reason = "bad batch header (magic or length)";
			goto corrupt;
		}
		total = batch_total_bytes(&h);
		if (total > SEGMENT_BATCH_BYTES_MAX || total > file_size - pos) {
			stop->reason = "batch extends past end of file";
			goto corrupt;
		}
		if (buf_len - at < total) {
			memmove(buf, buf + at, buf_len - at);
			buf_len -= at;
			buf_pos = pos;
			at = 0;
			if (total > cap) {
				uint8_t *nb = realloc(buf, total);
				if (nb == NULL) {
					rv = SLUICE_ENOMEM;
					goto out;
				}
				buf = nb;
				cap = total;
			}
			while (buf_len < total) {
				ssize_t got = fs->pread(fs, s->fd, buf + buf_len, cap - buf_len,
							buf_pos + buf_len);
				if (got < 0) {
					rv = (int)got;
					goto out;
				}
				if (got == 0) {
					stop->reason = "batch extends past end of file";
					goto corrupt;
				}
				buf_len += (size_t)got;
			}
		}
		if (!batch_crc_ok(buf + at, total)) {
			stop->reason = "checksum mismatch";
			goto corrupt;
		}
		if (h.base_offset != s->next_offset) {
			stop->reason = "offset does not continue the previous batch";
			goto corrupt;
		}
		if (h.base_offset + h.last_offset_delta - s->base_offset > UINT32_MAX) {
			stop->reason = "offset out of the segment's range";
			goto corrupt;
		}
		rv = segment_note_batch(s, &h, pos, interval_bytes);
		if (rv != 0)
			goto out;
		pos += total;
	}
	goto out;

corrupt:
	stop->position = pos;
	rv = SLUICE_ECORRUPT;
out:
	free(buf);
	return rv;
}

static int load_one(struct fs *fs, const char *dir, struct segment *s, bool time,
		    struct index_meta *meta)
{
	char path[PATH_MAX];
	void *data;
	size_t n;
	int rv;

	segment_file_path(path, dir, s->base_offset, time ? "timeindex" : "index");
	/* An index has at most one entry per batch; bound the read by the segment's maximum. */
	rv = fs_read_all(fs, path, (size_t)64 << 20, &data, &n);
	if (rv != 0)
		return rv == SLUICE_ETOOLARGE ? SLUICE_ECORRUPT : rv;
	rv = index_decode(&s->ix, meta, time, data, n);
	free(data);
	return rv;
}

int segment_load_index(struct fs *fs, const char *dir, struct segment *s, uint64_t file_size,
		       uint64_t *covered)
{
	struct index_meta om, tm;
	int rv;

	rv = load_one(fs, dir, s, false, &om);
	if (rv == 0)
		rv = load_one(fs, dir, s, true, &tm);
	if (rv == 0 && (om.base_offset != s->base_offset || tm.base_offset != s->base_offset ||
			om.covered_bytes != tm.covered_bytes || om.next_offset != tm.next_offset ||
			om.covered_bytes > file_size || om.covered_bytes > SEGMENT_BYTES_MAX))
		rv = SLUICE_ECORRUPT;
	if (rv == 0 && om.covered_bytes > 0 && s->ix.off_count == 0)
		rv = SLUICE_ECORRUPT; /* a non-empty segment always has its first batch indexed */
	if (rv != 0) {
		index_free(&s->ix);
		index_init(&s->ix);
		return rv == SLUICE_ENOMEM ? rv : (rv == SLUICE_ENOTFOUND ? rv : SLUICE_ECORRUPT);
	}
	s->next_offset = om.next_offset;
	s->size = om.covered_bytes;
	s->max_timestamp = om.max_timestamp;
	s->max_ts_offset = om.max_ts_offset;
	/* Entries' spacing resumes conservatively: the next batch gets an entry. */
	s->bytes_since_off_entry = UINT64_MAX / 2;
	s->bytes_since_time_entry = UINT64_MAX / 2;
	*covered = om.covered_bytes;
	return 0;
}

int segment_encode_index(const struct segment *s, uint8_t **off, size_t *off_n, uint8_t **time,
			 size_t *time_n)
{
	struct index_meta m = {
		.base_offset = s->base_offset,
		.next_offset = s->next_offset,
		.covered_bytes = s->size,
		.max_timestamp = s->max_timestamp,
		.max_ts_offset = s->max_ts_offset,
	};
	int rv;

	rv = index_encode(&s->ix, &m, false, off, off_n);
	if (rv != 0)
		return rv;
	rv = index_encode(&s->ix, &m, true, time, time_n);
	if (rv != 0) {
		free(*off);
		*off = NULL;
	}
	return rv;
}

int segment_write_index(struct fs *fs, const char *dir, int64_t base_offset, const uint8_t *off,
			size_t off_n, const uint8_t *time, size_t time_n)
{
	char path[PATH_MAX];
	int rv;

	segment_file_path(path, dir, base_offset, "index");
	rv = fs_write_file(fs, path, off, off_n);
	if (rv != 0)
		return rv;
	segment_file_path(path, dir, base_offset, "timeindex");
	return fs_write_file(fs, path, time, time_n);
}

int segment_unlink_index(struct fs *fs, const char *dir, int64_t base_offset)
{
	char path[PATH_MAX];
	int rv;

	segment_file_path(path, dir, base_offset, "index");
	rv = fs->unlink(fs, path);
	if (rv != 0 && rv != SLUICE_ENOTFOUND)
		return rv;
	segment_file_path(path, dir, base_offset, "timeindex");
	rv = fs->unlink(fs, path);
	if (rv != 0 && rv != SLUICE_ENOTFOUND)
		return rv;
	return 0;
}

/* Reads the header of the batch at `pos` (durable bytes only). */
static int read_header(struct fs *fs, const struct segment *s, uint64_t pos, struct batch_header *h)
{
	uint8_t hdr[BATCH_HEADER_BYTES];
	ssize_t got;

	if (pos + BATCH_HEADER_BYTES > s->durable_size)
		return SLUICE_ECORRUPT;
	got = fs->pread(fs, s->fd, hdr, sizeof hdr, pos);
	if (got < 0)
		return (int)got;
	if ((size_t)got < sizeof hdr || batch_header_decode(hdr, sizeof hdr, h) != 0)
		return SLUICE_ECORRUPT;
	if (pos + batch_total_bytes(h) > s->durable_size)
		return SLUICE_ECORRUPT;
	return 0;
}

int segment_find(struct fs *fs, const struct segment *s, int64_t offset, uint64_t *pos_out)
{
	uint64_t pos;
	struct batch_header h;
	int rv;

	if (offset < s->base_offset || offset >= s->durable_next)
		return SLUICE_ERANGE;
	pos = index_lookup_offset(&s->ix, (uint32_t)(offset - s->base_offset));
	for (;;) {
		rv = read_header(fs, s, pos, &h);
		if (rv != 0)
			return rv;
		if (batch_last_offset(&h) >= offset) {
			*pos_out = pos;
			return 0;
		}
		pos += batch_total_bytes(&h);
	}
}

int segment_find_time(struct fs *fs, const struct segment *s, int64_t ts, int64_t *offset_out,
		      int64_t *batch_ts_out)
{
	int64_t rel = index_lookup_time(&s->ix, ts);
	uint64_t pos = 0;
	struct batch_header h;
	int rv;

	if (s->durable_size == 0)
		return SLUICE_ENOTFOUND;
	if (rel >= 0) {
		/* Every batch up to and including the one at `rel` is below ts: start after it. */
		rv = segment_find(fs, s, s->base_offset + rel, &pos);
		if (rv != 0)
			return rv;
		rv = read_header(fs, s, pos, &h);
		if (rv != 0)
			return rv;
		pos += batch_total_bytes(&h);
	}
	while (pos < s->durable_size) {
		rv = read_header(fs, s, pos, &h);
		if (rv != 0)
			return rv;
		if (h.max_timestamp >= ts) {
			*offset_out = h.base_offset;
			*batch_ts_out = h.max_timestamp;
			return 0;
		}
		pos += batch_total_bytes(&h);
	}
	return SLUICE_ENOTFOUND;
}
