/*
 * offsets: the committed-offsets table and its record format (see offsets.h).
 *
 * The table is a chained hash map keyed by (group, topic, partition), grown by doubling.
 * Invariant: count <= OFFSETS_ENTRIES_MAX and every entry's strings are owned by the table.
 */
#include "broker/offsets.h"

#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"

struct entry {
	char *group;
	size_t glen;
	char *topic;
	size_t tlen;
	int32_t partition;
	struct offset_value v;
	struct entry *next;
};

struct offsets {
	struct entry **buckets;
	size_t nbuckets;
	size_t count;
};

static uint64_t hash(const char *g, size_t glen, const char *t, size_t tlen, int32_t p)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (size_t i = 0; i < glen; i++)
		h = (h ^ (uint8_t)g[i]) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (size_t i = 0; i < tlen; i++)
		h = (h ^ (uint8_t)t[i]) * 1099511628211ull;
	return (h ^ (uint32_t)p) * 1099511628211ull;
}

struct offsets *offsets_new(void)
{
	struct offsets *o = calloc(1, sizeof *o);

	if (o == NULL)
		return NULL;
	o->nbuckets = 256;
	o->buckets = calloc(o->nbuckets, sizeof *o->buckets);
	if (o->buckets == NULL) {
		free(o);
		return NULL;
	}
	return o;
}

static void entry_free(struct entry *e)
{
	free(e->group);
	free(e->topic);
	free(e->v.metadata);
	free(e);
}

void offsets_free(struct offsets *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->nbuckets; i++) {
		struct entry *e = o->buckets[i];
		while (e != NULL) {
			struct entry *next = e->next;
			entry_free(e);
			e = next;
		}
	}
	free(o->buckets);
	free(o);
}

int32_t offsets_partition_for(const char *group, size_t len, int32_t n)
{
	int32_t h = 0;

	/* Java's String.hashCode over the (ASCII) characters, with int32 wrap-around. */
	for (size_t i = 0; i < len; i++)
		h = (int32_t)((uint32_t)h * 31u + (uint8_t)group[i]);
	return (int32_t)((uint32_t)h & 0x7fffffffu) % n;
}

static struct entry **find(const struct offsets *o, const char *g, size_t glen, const char *t,
			   size_t tlen, int32_t p)
{
	struct entry **pp = &o->buckets[hash(g, glen, t, tlen, p) % o->nbuckets];

	for (; *pp != NULL; pp = &(*pp)->next) {
		struct entry *e = *pp;
		if (e->partition == p && e->glen == glen && e->tlen == tlen &&
		    memcmp(e->group, g, glen) == 0 && memcmp(e->topic, t, tlen) == 0)
			return pp;
	}
	return pp;
}

const struct offset_value *offsets_get(const struct offsets *o, const char *group, size_t glen,
				       const char *topic, size_t tlen, int32_t partition)
{
	struct entry **pp = find(o, group, glen, topic, tlen, partition);

	return *pp != NULL ? &(*pp)->v : NULL;
}

static void grow(struct offsets *o)
{
	size_t n = o->nbuckets * 2;
	struct entry **b = calloc(n, sizeof *b);

	if (b == NULL)
		return; /* keep the smaller table: slower, still correct */
	for (size_t i = 0; i < o->nbuckets; i++) {
		struct entry *e = o->buckets[i];
		while (e != NULL) {
			struct entry *next = e->next;
			size_t k = hash(e->group, e->glen, e->topic, e->tlen, e->partition) % n;
			e->next = b[k];
			b[k] = e;
			e = next;
		}
	}
	free(o->buckets);
	o->buckets = b;
	o->nbuckets = n;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

int offsets_put(struct offsets *o, const char *group, size_t glen, const char *topic, size_t tlen,
		int32_t partition, const struct offset_value *value)
{
	struct entry **pp = find(o, group, glen, topic, tlen, partition);
	struct entry *e = *pp;
	char *md;

	if (value == NULL) {
		if (e != NULL) {
			*pp = e->next;
			entry_free(e);
			o->count--;
		}
		return 0;
	}
	md = strdup(value->metadata != NULL ? value->metadata : "");
	if (md == NULL)
		return SLUICE_ENOMEM;
	if (e != NULL) {
		free(e->v.metadata);
		e->v = *value;
		e->v.metadata = md;
		return 0;
	}
	if (o->count >= OFFSETS_ENTRIES_MAX) {
		free(md);
		return SLUICE_EBUSY;
	}
	e = calloc(1, sizeof *e);
	if (e == NULL || (e->group = dup_n(group, glen)) == NULL ||
	    (e->topic = dup_n(topic, tlen)) == NULL) {
		if (e != NULL)
			free(e->group);
		free(e);
		free(md);
		return SLUICE_ENOMEM;
	}
	e->glen = glen;
	e->tlen = tlen;
	e->partition = partition;
	e->v = *value;
	e->v.metadata = md;
	e->next = *pp;
	*pp = e;
	if (++o->count > o->nbuckets * 2)
		grow(o);
	return 0;
}

void offsets_each(const struct offsets *o, const char *group, size_t glen,
		  void (*fn)(void *arg, const char *topic, int32_t partition,
			     const struct offset_value *v),
		  void *arg)
{
	for (size_t i = 0; i < o->nbuckets; i++)
		for (struct entry *e = o->buckets[i]; e != NULL; e = e->next)
			if (e->glen == glen && memcmp(e->group, group, glen) == 0)
				fn(arg, e->topic, e->partition, &e->v);
}

void offsets_groups(const struct offsets *o, void (*fn)(void *arg, const char *group, size_t glen),
		    void *arg)
{
	for (size_t i = 0; i < o->nbuckets; i++)
		for (struct entry *e = o->buckets[i]; e != NULL; e = e->next)
			fn(arg, e->group, e->glen);
}

size_t offsets_buckets(const struct offsets *o)
{
	return o->nbuckets;
}

void offsets_each_in_buckets(const struct offsets *o, size_t from, size_t to,
			     void (*fn)(void *arg, const char *group, const char *topic,
					int32_t partition, const struct offset_value *v),
			     void *arg)
{
	for (size_t i = from; i < to && i < o->nbuckets; i++)
		for (const struct entry *e = o->buckets[i]; e != NULL; e = e->next)
			fn(arg, e->group, e->topic, e->partition, &e->v);
}

size_t offsets_count(const struct offsets *o)
{
	return o->count;
}

bool offsets_has_group(const struct offsets *o, const char *group, size_t glen)
{
	for (size_t i = 0; i < o->nbuckets; i++)
		for (struct entry *e = o->buckets[i]; e != NULL; e = e->next)
			if (e->glen == glen && memcmp(e->group, group, glen) == 0)
				return true;
	return false;
}

static void put_str(struct wbuf *w, const char *s, size_t n)
{
	wbuf_be16(w, (uint16_t)n);
	wbuf_put(w, s, n);
}

void offsets_encode_key(struct wbuf *w, const char *group, size_t glen, const char *topic,
			size_t tlen, int32_t partition)
{
	wbuf_be16(w, 1);
	put_str(w, group, glen);
	put_str(w, topic, tlen);
	wbuf_be32(w, (uint32_t)partition);
}

void offsets_encode_value(struct wbuf *w, const struct offset_value *v)
{
	const char *md = v->metadata != NULL ? v->metadata : "";

	wbuf_be16(w, 3);
	wbuf_be64(w, (uint64_t)v->offset);
	wbuf_be32(w, (uint32_t)v->leader_epoch);
	put_str(w, md, strlen(md));
	wbuf_be64(w, (uint64_t)v->commit_ts);
}

static const char *get_str(struct rbuf *r, size_t *len)
{
	int16_t n = (int16_t)rbuf_be16(r);

	if (n < 0) {
		r->err = true;
		return NULL;
	}
	*len = (size_t)n;
	return (const char *)rbuf_bytes(r, (size_t)n);
}

int offsets_apply_record(struct offsets *o, const uint8_t *key, int32_t klen, const uint8_t *value,
			 int32_t vlen)
{
	struct rbuf r;
	size_t glen = 0, tlen = 0, mlen = 0;
	const char *g, *t, *m;
	int32_t partition;
	struct offset_value v;
	char md[OFFSETS_METADATA_BYTES_MAX + 1];

	if (key == NULL || klen < 2)
		return SLUICE_EMALFORMED;
	rbuf_init(&r, key, (size_t)klen);
	if (rbuf_be16(&r) != 1)
		return 0; /* another record type (group metadata): not ours to apply */
	g = get_str(&r, &glen);
	t = get_str(&r, &tlen);
	partition = (int32_t)rbuf_be32(&r);
	if (r.err || g == NULL || t == NULL)
		return SLUICE_EMALFORMED;
	if (value == NULL || vlen < 0)
		return offsets_put(o, g, glen, t, tlen, partition, NULL);
	rbuf_init(&r, value, (size_t)vlen);
	if (rbuf_be16(&r) != 3)
		return SLUICE_EMALFORMED;
	v.offset = (int64_t)rbuf_be64(&r);
	v.leader_epoch = (int32_t)rbuf_be32(&r);
	m = get_str(&r, &mlen);
	v.commit_ts = (int64_t)rbuf_be64(&r);
	if (r.err || m == NULL || mlen > OFFSETS_METADATA_BYTES_MAX)
		return SLUICE_EMALFORMED;
	memcpy(md, m, mlen);
	md[mlen] = '\0';
	v.metadata = md;
	return offsets_put(o, g, glen, t, tlen, partition, &v);
}
