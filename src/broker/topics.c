/*
 * topics: the topic registry and its file (format and invariants in topics.h).
 */
#include "broker/topics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/codec.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "sluice/version.h"

_Static_assert(TOPICS_FORMAT_VERSION == SLUICE_FORMAT_TOPICS, "the public format version must match the module's");

bool topics_name_valid(const char *name, size_t len)
{
	return topicdef_name_valid(name, len);
}

int topics_config_check(const char *key, const char *value, char *errmsg)
{
	return topicdef_config_check(key, value, errmsg);
}

void topics_init(struct topics *t)
{
	memset(t, 0, sizeof t[0]);
	t->next_producer_id = 1000;
}

void topic_free(struct topic *tp)
{
	if (tp == NULL)
		return;
	for (int i = 0; i < tp->nconfigs; i++) {
		free(tp->configs[i].key);
		free(tp->configs[i].value);
	}
	free(tp->configs);
	free(tp);
}

int topics_set_configs(struct topic *tp, const struct topic_config *configs, int nconfigs)
{
	struct topic_config *v = calloc((size_t)nconfigs + 1, sizeof *v);

	if (v == NULL)
		return SLUICE_ENOMEM;
	for (int i = 0; i < nconfigs; i++) {
		v[i].key = strdup(configs[i].key);
		v[i].value = strdup(configs[i].value);
		if (v[i].key == NULL || v[i].value == NULL) {
			for (int j = 0; j <= i; j++) {
				free(v[j].key);
				free(v[j].value);
			}
			free(v);
			return SLUICE_ENOMEM;
		}
	}
	for (int i = 0; i < tp->nconfigs; i++) {
		free(tp->configs[i].key);
		free(tp->configs[i].value);
	}
	free(tp->configs);
	tp->configs = v;
	tp->nconfigs = nconfigs;
	return 0;
}

void topics_free(struct topics *t)
{
	for (int i = 0; i < t->n; i++)
		topic_free(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

struct topic *topics_find(const struct topics *t, const char *name, size_t len)
{
	for (int i = 0; i < t->n; i++)
		if (strlen(t->v[i]->name) == len && memcmp(t->v[i]->name, name, len) == 0)
			return t->v[i];
	return NULL;
}

static void random_id(uint8_t id[16])
{
	if (getrandom(id, 16, GRND_NONBLOCK) != 16) {
		/* No urandom: fall back to time and address bits; ids need only be unique here. */
		uint64_t x = (uint64_t)(uintptr_t)id ^ (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull;
		be64_put(id, x);
		be64_put(id + 8, x * 0xBF58476D1CE4E5B9ull);
	}
	id[6] = (uint8_t)((id[6] & 0x0F) | 0x40); /* a version-4 UUID */
	id[8] = (uint8_t)((id[8] & 0x3F) | 0x80);
}

int topics_add(struct topics *t, const char *name, int32_t partitions, int16_t rf,
	       const struct topic_config *configs, int nconfigs, const uint8_t *id,
	       struct topic **out, char *errmsg)
{
	struct topic *tp;
	size_t len = strlen(name);

	if (!topics_name_valid(name, len)) {
		errmsg_printf(errmsg, "invalid topic name '%.*s': use 1-249 characters of "
				      "[a-zA-Z0-9._-], not '.' or '..'",
			      (int)(len > 300 ? 300 : len), name);
		return SLUICE_EINVAL;
	}
	if (topics_find(t, name, len) != NULL) {
		errmsg_printf(errmsg, "topic '%s' already exists", name);
		return SLUICE_EEXIST;
	}
	if (partitions < 1 || partitions > TOPIC_PARTITIONS_MAX) {
		errmsg_printf(errmsg, "number of partitions must be in [1, %d]", TOPIC_PARTITIONS_MAX);
		return SLUICE_EINVAL;
	}
	if (nconfigs > TOPIC_CONFIGS_MAX) {
		errmsg_printf(errmsg, "too many configs (at most %d)", TOPIC_CONFIGS_MAX);
		return SLUICE_EINVAL;
	}
	for (int i = 0; i < nconfigs; i++)
		if (topics_config_check(configs[i].key, configs[i].value, errmsg) != 0)
			return SLUICE_EINVAL;
	if (t->n == t->cap) {
		int ncap = t->cap ? t->cap * 2 : 16;
		struct topic **v = realloc(t->v, (size_t)ncap * sizeof *v);
		if (v == NULL)
			return SLUICE_ENOMEM;
		t->v = v;
		t->cap = ncap;
	}
	tp = calloc(1, sizeof *tp);
	if (tp == NULL)
		return SLUICE_ENOMEM;
	memcpy(tp->name, name, len + 1);
	if (id != NULL)
		memcpy(tp->id, id, 16);
	else
		random_id(tp->id);
	tp->partitions = partitions;
	tp->replication_factor = rf;
	tp->internal = name[0] == '_' && name[1] == '_';
	if (nconfigs > 0) {
		tp->configs = calloc((size_t)nconfigs, sizeof *tp->configs);
		if (tp->configs == NULL)
			goto err_oom;
	}
	for (int i = 0; i < nconfigs; i++) {
		/* A key given twice keeps its last value. */
		int j;
		for (j = 0; j < tp->nconfigs; j++)
			if (strcmp(tp->configs[j].key, configs[i].key) == 0)
				break;
		char *v = strdup(configs[i].value);
		if (v == NULL)
			goto err_oom;
		if (j < tp->nconfigs) {
			free(tp->configs[j].value);
			tp->configs[j].value = v;
			continue;
		}
		tp->configs[j].key = strdup(configs[i].key);
		tp->configs[j].value = v;
		tp->nconfigs++;
		if (tp->configs[j].key == NULL)
			goto err_oom;
	}
	t->v[t->n++] = tp;
	if (out != NULL)
		*out = tp;
	return 0;

err_oom:
	topic_free(tp);
	return SLUICE_ENOMEM;
}

void topics_detach(struct topics *t, struct topic *tp)
{
	for (int i = 0; i < t->n; i++) {
		if (t->v[i] == tp) {
			memmove(&t->v[i], &t->v[i + 1], (size_t)(t->n - i - 1) * sizeof *t->v);
			t->n--;
			return;
		}
	}
}

void topics_remove(struct topics *t, struct topic *tp)
{
	topics_detach(t, tp);
	topic_free(tp);
}

const char *topic_config_get(const struct topic *tp, const char *key)
{
	for (int i = 0; i < tp->nconfigs; i++)
		if (strcmp(tp->configs[i].key, key) == 0)
			return tp->configs[i].value;
	return NULL;
}

static void put_str(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);
	wbuf_be16(w, (uint16_t)n);
	wbuf_put(w, s, n);
}

struct buf *topics_encode(const struct topics *t)
{
	struct wbuf w;

	wbuf_init(&w);
	wbuf_put(&w, "SLMT", 4);
	wbuf_be16(&w, TOPICS_FORMAT_VERSION);
	wbuf_be16(&w, 0);
	wbuf_be32(&w, 0); /* payload length, patched below */
	wbuf_be64(&w, (uint64_t)t->next_producer_id);
	put_str(&w, t->cluster_id);
	wbuf_be32(&w, (uint32_t)t->n);
	for (int i = 0; i < t->n; i++) {
		const struct topic *tp = t->v[i];
		put_str(&w, tp->name);
		wbuf_put(&w, tp->id, 16);
		wbuf_be32(&w, (uint32_t)tp->partitions);
		wbuf_be16(&w, (uint16_t)tp->replication_factor);
		wbuf_be16(&w, (uint16_t)tp->nconfigs);
		for (int j = 0; j < tp->nconfigs; j++) {
			put_str(&w, tp->configs[j].key);
			put_str(&w, tp->configs[j].value);
		}
	}
	if (w.oom) {
		wbuf_free(&w);
		return NULL;
	}
	be32_put(w.data + 8, (uint32_t)(w.len - 12));
	wbuf_be32(&w, crc32c(0, w.data, w.len));
	if (w.oom) {
		wbuf_free(&w);
		return NULL;
	}
	return wbuf_take(&w);
}

/* Reads a u16-length string into a NUL-terminated malloc'd copy (NULL and err on failure). */
static char *get_str(struct rbuf *r, size_t max)
{
	uint16_t n = rbuf_be16(r);
	const uint8_t *p;
	char *s;

	if (n > max) {
		r->err = true;
		return NULL;
	}
	p = rbuf_bytes(r, n);
	if (p == NULL)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s == NULL) {
		r->err = true;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

int topics_decode(struct topics *t, const uint8_t *p, size_t n, char *errmsg)
{
	struct rbuf r;
	uint32_t payload, count;
	char *cid;
	int rv = SLUICE_ECORRUPT;

	if (n < 16 || memcmp(p, "SLMT", 4) != 0) {
		errmsg_printf(errmsg, "not a topics file (bad magic or too short)");
		return SLUICE_ECORRUPT;
	}
	if (be16_get(p + 4) != TOPICS_FORMAT_VERSION) {
		errmsg_printf(errmsg, "unsupported topics file version %u", be16_get(p + 4));
		return SLUICE_EVERSION;
	}
	payload = be32_get(p + 8);
	if ((size_t)payload + 16 != n || crc32c(0, p, n - 4) != be32_get(p + n - 4)) {
		errmsg_printf(errmsg, "topics file checksum or length mismatch");
		return SLUICE_ECORRUPT;
	}
	rbuf_init(&r, p + 12, payload);
	t->next_producer_id = (int64_t)rbuf_be64(&r);
	cid = get_str(&r, sizeof t->cluster_id - 1);
	if (cid == NULL)
		goto err;
	snprintf(t->cluster_id, sizeof t->cluster_id, "%s", cid);
	free(cid);
	count = rbuf_be32(&r);
	for (uint32_t i = 0; i < count && !r.err; i++) {
		char *name = get_str(&r, TOPIC_NAME_BYTES_MAX);
		const uint8_t *id = rbuf_bytes(&r, 16);
		int32_t parts = (int32_t)rbuf_be32(&r);
		int16_t rf = (int16_t)rbuf_be16(&r);
		uint16_t nc = rbuf_be16(&r);
		struct topic_config cfg[TOPIC_CONFIGS_MAX];
		int ncfg = 0;
		bool ok = name != NULL && id != NULL && nc <= TOPIC_CONFIGS_MAX;
		for (uint16_t j = 0; ok && j < nc; j++) {
			cfg[ncfg].key = get_str(&r, 1024);
			cfg[ncfg].value = get_str(&r, 4096);
			ncfg++;
			ok = !r.err;
		}
		if (ok)
			rv = topics_add(t, name, parts, rf, cfg, ncfg, id, NULL, errmsg);
		for (int j = 0; j < ncfg; j++) {
			free(cfg[j].key);
			free(cfg[j].value);
		}
		free(name);
		if (!ok || rv != 0) {
			if (ok)
				errmsg_wrapf(errmsg, "topics file");
			goto err;
		}
	}
	if (r.err || rbuf_left(&r) != 0)
		goto err_msg;
	return 0;

err_msg:
	errmsg_printf(errmsg, "topics file is malformed");
err:
	if (errmsg != NULL && errmsg[0] == '\0')
		errmsg_printf(errmsg, "topics file is malformed");
	topics_free(t);
	return rv == 0 || rv == SLUICE_EEXIST ? SLUICE_ECORRUPT : rv;
}
