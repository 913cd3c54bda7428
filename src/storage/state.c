/*
 * state: the partition state file (format in state.h).
 */
#include "storage/state.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "sluice/version.h"

_Static_assert(STATE_FORMAT_VERSION == SLUICE_FORMAT_STATE, "the public format version must match the module's");

#define STATE_PAYLOAD_V1_BYTES 32
#define STATE_FILE_BYTES_MAX 4096

int pstate_load(struct fs *fs, const char *dir, struct pstate *st, char *errmsg)
{
	char path[PATH_MAX];
	void *data;
	size_t n, payload;
	const uint8_t *p;
	int rv;

	memset(st, 0, sizeof *st);
	snprintf(path, sizeof path, "%s/%s", dir, STATE_FILE_NAME);
	rv = fs_read_all(fs, path, STATE_FILE_BYTES_MAX, &data, &n);
	if (rv != 0) {
		errmsg_printf(errmsg, "%s: %s", path, err_str(rv));
		return rv;
	}
	p = data;
	rv = SLUICE_ECORRUPT;
	if (n < 12 || memcmp(p, "SLST", 4) != 0) {
		errmsg_printf(errmsg, "%s: not a state file (bad magic or too short)", path);
		goto out;
	}
	if (be16_get(p + 4) != STATE_FORMAT_VERSION) {
		errmsg_printf(errmsg, "%s: unsupported version %u", path, be16_get(p + 4));
		rv = SLUICE_EVERSION;
		goto out;
	}
	payload = be16_get(p + 6);
	if (payload < STATE_PAYLOAD_V1_BYTES || n != 8 + payload + 4) {
		errmsg_printf(errmsg, "%s: bad length %zu", path, n);
		goto out;
	}
	if (crc32c(0, p, 8 + payload) != be32_get(p + 8 + payload)) {
		errmsg_printf(errmsg, "%s: checksum mismatch", path);
		goto out;
	}
	st->log_start_offset = (int64_t)be64_get(p + 8);
	st->term = be64_get(p + 16);
	st->vote = be64_get(p + 24);
	st->flags = be64_get(p + 32);
	rv = 0;
out:
	free(data);
	return rv;
}

int pstate_store(struct fs *fs, const char *dir, const struct pstate *st, char *errmsg)
{
	uint8_t p[8 + STATE_PAYLOAD_V1_BYTES + 4];
	char path[PATH_MAX];
	int rv;

	memcpy(p, "SLST", 4);
	be16_put(p + 4, STATE_FORMAT_VERSION);
	be16_put(p + 6, STATE_PAYLOAD_V1_BYTES);
	be64_put(p + 8, (uint64_t)st->log_start_offset);
	be64_put(p + 16, st->term);
	be64_put(p + 24, st->vote);
	be64_put(p + 32, st->flags);
	be32_put(p + 40, crc32c(0, p, 40));
	snprintf(path, sizeof path, "%s/%s", dir, STATE_FILE_NAME);
	rv = fs_write_atomic(fs, dir, path, p, sizeof p);
	if (rv != 0)
		errmsg_printf(errmsg, "%s: write failed: %s", path, err_str(rv));
	return rv;
}
