/*
 * kafka: the generic codec that walks the descriptor tables of messages.c (contract in kafka.h).
 *
 * Decoding (decode_struct) first gives every field its schema default, then reads the regular
 * fields present at the version in table order, then, in flexible versions, the tagged-field
 * section: each known tag is decoded from exactly its announced size, unknown tags are skipped.
 * Encoding (encode_struct) mirrors it; a tagged field is written only when it differs from its
 * default, as Kafka does.
 *
 * Wire forms per type (non-flexible / flexible):
 *   string   int16 length (-1 null) + bytes   / unsigned varint length+1 (0 null) + bytes
 *   bytes    int32 length (-1 null) + bytes   / unsigned varint length+1 (0 null) + bytes
 *   array    int32 count (-1 null) + items    / unsigned varint count+1 (0 null) + items
 *   nullable struct: int8 -1 (null) or 1, then the struct
 *   uuid 16 bytes; bool/int8 1; int16/uint16 2; int32 4; int64/float64 8 (big-endian)
 *
 * Invariants:
 *   1. Every read goes through struct rbuf, which never reads past its end.
 *   2. An array of `count` items is allocated only when count * (smallest wire size of an item)
 *      fits in the bytes left, so allocation is bounded by a constant factor of the frame size.
 *   3. Recursion depth is bounded by the nesting of the schemas, not by the input.
 */
#include "kafka/kafka.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

#include "base/err.h"

const char *kafka_err_name(int16_t code)
{
	switch (code) {
#define KAFKA_ERR_CASE(name, c)                                                                    \
	case (c):                                                                                  \
		return #name;
		KAFKA_ERR_MAP(KAFKA_ERR_CASE)
#undef KAFKA_ERR_CASE
	default:
		return "UNKNOWN";
	}
}

const struct kafka_api *kafka_api_find(int16_t api_key)
{
	for (size_t i = 0; i < kafka_apis_count; i++)
		if (kafka_apis[i].key == api_key)
			return &kafka_apis[i];
	return NULL;
}

bool kafka_version_supported(const struct kafka_api *api, int16_t version)
{
	return api != NULL && version >= api->version_min && version <= api->version_max;
}

bool kafka_version_flexible(const struct kafka_api *api, int16_t version)
{
	return api != NULL && api->flexible_min >= 0 && version >= api->flexible_min;
}

int kafka_request_header_version(int16_t api_key, int16_t version)
{
	return kafka_version_flexible(kafka_api_find(api_key), version) ? 2 : 1;
}

int kafka_response_header_version(int16_t api_key, int16_t version)
{
	if (api_key == KAFKA_API_API_VERSIONS)
		return 0; /* KIP-511: clients must read the error before knowing our versions */
	return kafka_version_flexible(kafka_api_find(api_key), version) ? 1 : 0;
}

struct kafka_str kafka_str_c(const char *s)
{
	if (s == NULL)
		return kafka_str_null();
	size_t n = strlen(s);
	return (struct kafka_str){ s, n > INT32_MAX ? INT32_MAX : (int32_t)n };
}

bool kafka_str_eq(struct kafka_str s, const char *c)
{
	if (s.len < 0 || c == NULL)
		return false;
	size_t n = strlen(c);
	return n == (size_t)s.len && (n == 0 || memcmp(s.ptr, c, n) == 0);
}

/* ---- field helpers ---- */

static bool in_range(int16_t v, int16_t lo, int16_t hi)
{
	return v >= lo && v <= hi;
}

static bool field_present(const struct kafka_field *f, int16_t v)
{
	return in_range(v, f->version_min, f->version_max);
}

static bool field_nullable(const struct kafka_field *f, int16_t v)
{
	return in_range(v, f->nullable_min, f->nullable_max);
}

/* A struct member is a pointer when the schema lets it be null in any version. */
static bool struct_is_pointer(const struct kafka_field *f)
{
	return f->type == KAFKA_T_STRUCT && f->nullable_min <= f->nullable_max;
}

static size_t scalar_size(uint8_t type)
{
	switch (type) {
	case KAFKA_T_BOOL:
		return sizeof(bool);
	case KAFKA_T_INT8:
		return 1;
	case KAFKA_T_INT16:
	case KAFKA_T_UINT16:
		return 2;
	case KAFKA_T_INT32:
		return 4;
	case KAFKA_T_INT64:
		return 8;
	case KAFKA_T_FLOAT64:
		return sizeof(double);
	case KAFKA_T_UUID:
		return sizeof(struct kafka_uuid);
	case KAFKA_T_STRING:
		return sizeof(struct kafka_str);
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS:
		return sizeof(struct kafka_bytes);
	default:
		return 0;
	}
}

static size_t elem_size(const struct kafka_field *f)
{
	if (f->elem == KAFKA_T_STRUCT)
		return f->child->size;
	return scalar_size(f->elem);
}

static int64_t load_int(uint8_t type, const void *p)
{
	switch (type) {
	case KAFKA_T_BOOL: {
		bool b;
		memcpy(&b, p, sizeof b);
		return b ? 1 : 0;
	}
	case KAFKA_T_INT8: {
		int8_t x;
		memcpy(&x, p, sizeof x);
		return x;
	}
	case KAFKA_T_INT16: {
		int16_t x;
		memcpy(&x, p, sizeof x);
		return x;
	}
	case KAFKA_T_UINT16: {
		uint16_t x;
		memcpy(&x, p, sizeof x);
		return x;
	}
	case KAFKA_T_INT32: {
		int32_t x;
		memcpy(&x, p, sizeof x);
		return x;
	}
	case KAFKA_T_INT64: {
		int64_t x;
		memcpy(&x, p, sizeof x);
		return x;
	}
	default:
		assert(!"not an integer type");
		return 0;
	}
}

static void store_int(uint8_t type, void *p, int64_t v)
{
	switch (type) {
	case KAFKA_T_BOOL: {
		bool b = v != 0;
		memcpy(p, &b, sizeof b);
		break;
	}
	case KAFKA_T_INT8: {
		int8_t x = (int8_t)v;
		memcpy(p, &x, sizeof x);
		break;
	}
	case KAFKA_T_INT16: {
		int16_t x = (int16_t)v;
		memcpy(p, &x, sizeof x);
		break;
	}
	case KAFKA_T_UINT16: {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, sizeof x);
		break;
	}
	case KAFKA_T_INT32: {
		int32_t x = (int32_t)v;
		memcpy(p, &x, sizeof x);
		break;
	}
	case KAFKA_T_INT64:
		memcpy(p, &v, sizeof v);
		break;
	default:
		assert(!"not an integer type");
	}
}

static bool is_int_type(uint8_t type)
{
	return type == KAFKA_T_BOOL || type == KAFKA_T_INT8 || type == KAFKA_T_INT16 ||
	       type == KAFKA_T_UINT16 || type == KAFKA_T_INT32 || type == KAFKA_T_INT64;
}

static void set_defaults(const struct kafka_struct_desc *d, void *base);

/* Gives one field its schema default. */
static void set_default(const struct kafka_field *f, uint8_t *base)
{
	void *p = base + f->offset;

	if (is_int_type(f->type)) {
		store_int(f->type, p, f->dflt);
		return;
	}
	switch (f->type) {
	case KAFKA_T_FLOAT64: {
		double x = 0;
		memcpy(p, &x, sizeof x);
		break;
	}
	case KAFKA_T_UUID:
		memset(p, 0, sizeof(struct kafka_uuid));
		break;
	case KAFKA_T_STRING: {
		struct kafka_str s = { f->dflt ? NULL : "", f->dflt ? -1 : 0 };
		memcpy(p, &s, sizeof s);
		break;
	}
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS: {
		struct kafka_bytes b = { NULL, f->dflt ? -1 : 0 };
		memcpy(p, &b, sizeof b);
		break;
	}
	case KAFKA_T_ARRAY: {
		struct kafka_array_any a = { NULL, f->dflt ? -1 : 0 };
		memcpy(p, &a, sizeof a);
		break;
	}
	case KAFKA_T_STRUCT:
		if (struct_is_pointer(f)) {
			void *np = NULL;
			memcpy(p, &np, sizeof np);
		} else {
			set_defaults(f->child, p);
		}
		break;
	default:
		assert(!"unknown field type");
	}
}

static void set_defaults(const struct kafka_struct_desc *d, void *base)
{
	memset(base, 0, d->size);
	for (uint16_t i = 0; i < d->fields_count; i++)
		set_default(&d->fields[i], base);
}

void kafka_struct_defaults(const struct kafka_struct_desc *d, void *base)
{
	set_defaults(d, base);
}

/* ---- decoding ---- */

struct dec {
	struct rbuf *r;
	struct arena *a;
	int16_t version;
	bool flexible;
	int rc; /* first error other than a short read (ENOMEM, EMALFORMED) */
};

static size_t min_struct_bytes(const struct kafka_struct_desc *d, int16_t v, bool flexible);

/* Smallest number of bytes a value of `type` can take on the wire. */
static size_t min_value_bytes(uint8_t type, const struct kafka_field *f, int16_t v, bool flexible)
{
	switch (type) {
	case KAFKA_T_BOOL:
	case KAFKA_T_INT8:
		return 1;
	case KAFKA_T_INT16:
	case KAFKA_T_UINT16:
		return 2;
	case KAFKA_T_INT32:
		return 4;
	case KAFKA_T_INT64:
	case KAFKA_T_FLOAT64:
		return 8;
	case KAFKA_T_UUID:
		return 16;
	case KAFKA_T_STRING:
		return flexible ? 1 : 2;
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS:
	case KAFKA_T_ARRAY:
		return flexible ? 1 : 4;
	case KAFKA_T_STRUCT:
		if (f != NULL && field_nullable(f, v))
			return 1;
		return min_struct_bytes(f->child, v, flexible);
	default:
		return 0;
	}
}

static size_t min_struct_bytes(const struct kafka_struct_desc *d, int16_t v, bool flexible)
{
	size_t n = flexible ? 1 : 0; /* the tagged-field count */

	for (uint16_t i = 0; i < d->fields_count; i++) {
		const struct kafka_field *f = &d->fields[i];
		if (f->tag >= 0 || !field_present(f, v))
			continue;
		n += min_value_bytes(f->type, f, v, flexible);
	}
	return n;
}

static void dec_fail(struct dec *x, int rc)
{
	if (x->rc == 0)
		x->rc = rc;
	x->r->err = true;
}

static bool dec_ok(const struct dec *x)
{
	return !x->r->err && x->rc == 0;
}

/* Reads a length or count: int16 or int32 in non-flexible versions, unsigned varint N+1 in
 * flexible ones. Returns -1 for null, the length otherwise; sets an error when the value is
 * malformed (below -1, above INT32_MAX) — the caller checks nullability. */
static int64_t dec_len(struct dec *x, bool int16_len)
{
	if (x->flexible) {
		uint64_t u = rbuf_uvarint(x->r);
		if (u > (uint64_t)INT32_MAX + 1) {
			dec_fail(x, SLUICE_EMALFORMED);
			return 0;
		}
		return (int64_t)u - 1;
	}
	int64_t n = int16_len ? (int16_t)rbuf_be16(x->r) : (int32_t)rbuf_be32(x->r);
	if (n < -1) {
		dec_fail(x, SLUICE_EMALFORMED);
		return 0;
	}
	return n;
}

static void decode_struct(struct dec *x, const struct kafka_struct_desc *d, void *base);

static void decode_value(struct dec *x, const struct kafka_field *f, uint8_t type, void *p,
			 bool nullable)
{
	struct rbuf *r = x->r;

	switch (type) {
	case KAFKA_T_BOOL:
		store_int(type, p, rbuf_u8(r) != 0);
		break;
	case KAFKA_T_INT8:
		store_int(type, p, (int8_t)rbuf_u8(r));
		break;
	case KAFKA_T_INT16:
		store_int(type, p, (int16_t)rbuf_be16(r));
		break;
	case KAFKA_T_UINT16:
		store_int(type, p, rbuf_be16(r));
		break;
	case KAFKA_T_INT32:
		store_int(type, p, (int32_t)rbuf_be32(r));
		break;
	case KAFKA_T_INT64:
		store_int(type, p, (int64_t)rbuf_be64(r));
		break;
	case KAFKA_T_FLOAT64: {
		uint64_t u = rbuf_be64(r);
		double dbl;
		memcpy(&dbl, &u, sizeof dbl);
		memcpy(p, &dbl, sizeof dbl);
		break;
	}
	case KAFKA_T_UUID: {
		const uint8_t *b = rbuf_bytes(r, 16);
		if (b != NULL)
			memcpy(p, b, 16);
		break;
	}
	case KAFKA_T_STRING:
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS: {
		int64_t n = dec_len(x, type == KAFKA_T_STRING);
		const uint8_t *b = NULL;
		if (!dec_ok(x))
			break;
		if (n < 0 && !nullable) {
			dec_fail(x, SLUICE_EMALFORMED);
			break;
		}
		if (n >= 0) {
			b = rbuf_bytes(r, (size_t)n);
			if (b == NULL)
				break;
		}
		if (type == KAFKA_T_STRING) {
			struct kafka_str s = { (const char *)b, (int32_t)n };
			memcpy(p, &s, sizeof s);
		} else {
			struct kafka_bytes s = { b, (int32_t)n };
			memcpy(p, &s, sizeof s);
		}
		break;
	}
	case KAFKA_T_ARRAY: {
		int64_t n = dec_len(x, false);
		struct kafka_array_any arr = { NULL, -1 };
		if (!dec_ok(x))
			break;
		if (n < 0 && !nullable) {
			dec_fail(x, SLUICE_EMALFORMED);
			break;
		}
		if (n >= 0) {
			size_t esz = elem_size(f);
			size_t min = f->elem == KAFKA_T_STRUCT ?
					     min_struct_bytes(f->child, x->version, x->flexible) :
					     min_value_bytes(f->elem, NULL, x->version,
							     x->flexible);
			if (min == 0)
				min = 1;
			if ((uint64_t)n > rbuf_left(r) / min) {
				dec_fail(x, SLUICE_EMALFORMED);
				break;
			}
			arr.n = (int32_t)n;
			arr.v = n == 0 ? NULL : arena_alloc(x->a, (size_t)n * esz);
			if (n > 0 && arr.v == NULL) {
				dec_fail(x, SLUICE_ENOMEM);
				break;
			}
			for (int32_t i = 0; i < arr.n && dec_ok(x); i++) {
				uint8_t *e = (uint8_t *)arr.v + (size_t)i * esz;
				if (f->elem == KAFKA_T_STRUCT)
					decode_struct(x, f->child, e);
				else
					decode_value(x, f, f->elem, e, false);
			}
		}
		memcpy(p, &arr, sizeof arr);
		break;
	}
	case KAFKA_T_STRUCT:
		if (struct_is_pointer(f)) {
			void *sp = NULL;
			if (nullable && (int8_t)rbuf_u8(r) < 0) {
				memcpy(p, &sp, sizeof sp);
				break;
			}
			if (!dec_ok(x))
				break;
			sp = arena_alloc(x->a, f->child->size);
			if (sp == NULL) {
				dec_fail(x, SLUICE_ENOMEM);
				break;
			}
			memcpy(p, &sp, sizeof sp);
			decode_struct(x, f->child, sp);
		} else {
			decode_struct(x, f->child, p);
		}
		break;
	default:
		dec_fail(x, SLUICE_EMALFORMED);
	}
}

static const struct kafka_field *find_tag(const struct kafka_struct_desc *d, int16_t v,
					  uint64_t tag)
{
	for (uint16_t i = 0; i < d->fields_count; i++) {
		const struct kafka_field *f = &d->fields[i];
		if (f->tag >= 0 && (uint64_t)f->tag == tag && field_present(f, v))
			return f;
	}
	return NULL;
}

/* Reads the tagged-field section: count, then per field its tag, its size and its bytes. A known
 * tag must use exactly its announced size. */
static void decode_tagged(struct dec *x, const struct kafka_struct_desc *d, uint8_t *base)
{
	struct rbuf *r = x->r;
	uint64_t count = rbuf_uvarint(r);

	if (!dec_ok(x))
		return;
	if (count > rbuf_left(r) / 2) { /* each tagged field takes at least two bytes */
		dec_fail(x, SLUICE_EMALFORMED);
		return;
	}
	for (uint64_t i = 0; i < count && dec_ok(x); i++) {
		uint64_t tag = rbuf_uvarint(r);
		uint64_t size = rbuf_uvarint(r);
		if (!dec_ok(x))
			return;
		if (tag > INT32_MAX || size > rbuf_left(r)) {
			dec_fail(x, SLUICE_EMALFORMED);
			return;
		}
		const uint8_t *p = rbuf_bytes(r, (size_t)size);
		const struct kafka_field *f = find_tag(d, x->version, tag);
		if (f == NULL)
			continue; /* unknown tags are skipped (KIP-482) */
		struct rbuf sub;
		rbuf_init(&sub, p, (size_t)size);
		struct dec y = { &sub, x->a, x->version, true, 0 };
		decode_value(&y, f, f->type, base + f->offset, field_nullable(f, x->version));
		if (y.rc != 0 || sub.err || rbuf_left(&sub) != 0) {
			dec_fail(x, y.rc != 0 ? y.rc : SLUICE_EMALFORMED);
			return;
		}
	}
}

static void decode_struct(struct dec *x, const struct kafka_struct_desc *d, void *base)
{
	set_defaults(d, base);
	for (uint16_t i = 0; i < d->fields_count && dec_ok(x); i++) {
		const struct kafka_field *f = &d->fields[i];
		if (f->tag >= 0 || !field_present(f, x->version))
			continue;
		decode_value(x, f, f->type, (uint8_t *)base + f->offset,
			     field_nullable(f, x->version));
	}
	if (x->flexible && dec_ok(x))
		decode_tagged(x, d, base);
}

/* Decodes a whole struct; bytes left after it are an error unless `allow_trailing`. */
static int struct_decode(const struct kafka_struct_desc *d, int16_t version, bool flexible,
			 const uint8_t *p, size_t n, struct arena *a, void *out, bool allow_trailing)
{
	struct rbuf r;
	struct dec x = { &r, a, version, flexible, 0 };

	rbuf_init(&r, p, n);
	decode_struct(&x, d, out);
	if (x.rc != 0)
		return x.rc;
	if (r.err || (!allow_trailing && rbuf_left(&r) != 0))
		return SLUICE_EMALFORMED;
	return 0;
}

int kafka_struct_decode(const struct kafka_struct_desc *d, int16_t version, bool flexible,
			const uint8_t *p, size_t n, struct arena *a, void *out)
{
	return struct_decode(d, version, flexible, p, n, a, out, false);
}

static int decode_body(int16_t api_key, int16_t version, bool request, const uint8_t *p, size_t n,
		       struct arena *a, void *out)
{
	const struct kafka_api *api = kafka_api_find(api_key);

	if (api == NULL)
		return SLUICE_ENOTFOUND;
	if (!kafka_version_supported(api, version))
		return SLUICE_EVERSION;
	/* Bytes after a complete request body are ignored, as Apache Kafka's parser ignores them:
	 * librdkafka 2.16 sends Metadata v12 requests with three such bytes after the topics
	 * array's count. Responses (what our own clients read) stay strict. */
	return struct_decode(request ? api->request : api->response, version,
			     kafka_version_flexible(api, version), p, n, a, out, request);
}

int kafka_request_decode(int16_t api_key, int16_t version, const uint8_t *p, size_t n,
			 struct arena *a, void *out)
{
	return decode_body(api_key, version, true, p, n, a, out);
}

int kafka_response_decode(int16_t api_key, int16_t version, const uint8_t *p, size_t n,
			  struct arena *a, void *out)
{
	return decode_body(api_key, version, false, p, n, a, out);
}

/* Skips a tagged-field section whose fields are all unknown to us (headers). */
static void skip_tagged(struct rbuf *r)
{
	uint64_t count = rbuf_uvarint(r);

	if (r->err)
		return;
	if (count > rbuf_left(r) / 2) {
		r->err = true;
		return;
	}
	for (uint64_t i = 0; i < count && !r->err; i++) {
		(void)rbuf_uvarint(r);
		uint64_t size = rbuf_uvarint(r);
		if (r->err || size > rbuf_left(r)) {
			r->err = true;
			return;
		}
		rbuf_skip(r, (size_t)size);
	}
}

int kafka_request_header_decode(const uint8_t *frame, size_t n, struct kafka_request_header *h)
{
	struct rbuf r;

	memset(h, 0, sizeof *h);
	rbuf_init(&r, frame, n);
	h->api_key = (int16_t)rbuf_be16(&r);
	h->api_version = (int16_t)rbuf_be16(&r);
	h->correlation_id = (int32_t)rbuf_be32(&r);
	h->header_version = kafka_request_header_version(h->api_key, h->api_version);
	/* ClientId stays a non-compact nullable string even in header v2. */
	int16_t len = (int16_t)rbuf_be16(&r);
	if (r.err || len < -1)
		return SLUICE_EMALFORMED;
	h->client_id.len = len;
	h->client_id.ptr = NULL;
	if (len >= 0) {
		h->client_id.ptr = (const char *)rbuf_bytes(&r, (size_t)len);
		if (h->client_id.ptr == NULL)
			return SLUICE_EMALFORMED;
	}
	if (h->header_version >= 2)
		skip_tagged(&r);
	if (r.err)
		return SLUICE_EMALFORMED;
	h->header_bytes = r.pos;
	return 0;
}

int kafka_response_header_decode(int16_t api_key, int16_t version, const uint8_t *p, size_t n,
				 int32_t *correlation_id, size_t *header_bytes)
{
	struct rbuf r;

	rbuf_init(&r, p, n);
	*correlation_id = (int32_t)rbuf_be32(&r);
	if (kafka_response_header_version(api_key, version) >= 1)
		skip_tagged(&r);
	if (r.err)
		return SLUICE_EMALFORMED;
	*header_bytes = r.pos;
	return 0;
}

/* ---- encoding ---- */

struct enc {
	struct wbuf *w;
	int16_t version;
	bool flexible;
	int rc;
};

static bool is_default(const struct kafka_field *f, int16_t v, const uint8_t *base);

static bool struct_is_default(const struct kafka_struct_desc *d, int16_t v, const uint8_t *base)
{
	for (uint16_t i = 0; i < d->fields_count; i++) {
		const struct kafka_field *f = &d->fields[i];
		if (field_present(f, v) && !is_default(f, v, base))
			return false;
	}
	return true;
}

/* True when a field holds its schema default, so a tagged field need not be written. */
static bool is_default(const struct kafka_field *f, int16_t v, const uint8_t *base)
{
	const void *p = base + f->offset;

	if (is_int_type(f->type))
		return load_int(f->type, p) == f->dflt;
	switch (f->type) {
	case KAFKA_T_FLOAT64: {
		double x;
		memcpy(&x, p, sizeof x);
		return x == 0;
	}
	case KAFKA_T_UUID: {
		static const struct kafka_uuid zero;
		return memcmp(p, &zero, sizeof zero) == 0;
	}
	case KAFKA_T_STRING: {
		struct kafka_str s;
		memcpy(&s, p, sizeof s);
		return f->dflt ? s.len < 0 : s.len == 0;
	}
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS: {
		struct kafka_bytes b;
		memcpy(&b, p, sizeof b);
		return f->dflt ? b.len < 0 : b.len == 0;
	}
	case KAFKA_T_ARRAY: {
		struct kafka_array_any a;
		memcpy(&a, p, sizeof a);
		return f->dflt ? a.n < 0 : a.n == 0;
	}
	case KAFKA_T_STRUCT:
		if (struct_is_pointer(f)) {
			void *sp;
			memcpy(&sp, p, sizeof sp);
			return sp == NULL;
		}
		return struct_is_default(f->child, v, p);
	default:
		return true;
	}
}

static void enc_fail(struct enc *e, int rc)
{
	if (e->rc == 0)
		e->rc = rc;
}

/* Writes a length or count (-1 = null) in the version's form. */
static void enc_len(struct enc *e, int64_t n, bool int16_len)
{
	if (e->flexible)
		wbuf_uvarint(e->w, (uint64_t)(n + 1));
	else if (int16_len)
		wbuf_be16(e->w, (uint16_t)(int16_t)n);
	else
		wbuf_be32(e->w, (uint32_t)(int32_t)n);
}

static void encode_struct(struct enc *e, const struct kafka_struct_desc *d, const void *base);

static void encode_value(struct enc *e, const struct kafka_field *f, uint8_t type, const void *p,
			 bool nullable)
{
	struct wbuf *w = e->w;

	switch (type) {
	case KAFKA_T_BOOL:
	case KAFKA_T_INT8:
		wbuf_u8(w, (uint8_t)load_int(type, p));
		break;
	case KAFKA_T_INT16:
	case KAFKA_T_UINT16:
		wbuf_be16(w, (uint16_t)load_int(type, p));
		break;
	case KAFKA_T_INT32:
		wbuf_be32(w, (uint32_t)load_int(type, p));
		break;
	case KAFKA_T_INT64:
		wbuf_be64(w, (uint64_t)load_int(type, p));
		break;
	case KAFKA_T_FLOAT64: {
		uint64_t u;
		memcpy(&u, p, sizeof u);
		wbuf_be64(w, u);
		break;
	}
	case KAFKA_T_UUID:
		wbuf_put(w, p, 16);
		break;
	case KAFKA_T_STRING:
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS: {
		const void *ptr;
		int32_t n;
		if (type == KAFKA_T_STRING) {
			struct kafka_str s;
			memcpy(&s, p, sizeof s);
			ptr = s.ptr;
			n = s.len;
		} else {
			struct kafka_bytes b;
			memcpy(&b, p, sizeof b);
			ptr = b.ptr;
			n = b.len;
		}
		if (n < -1 || (n < 0 && !nullable) ||
		    (type == KAFKA_T_STRING && !e->flexible && n > INT16_MAX) ||
		    (n > 0 && ptr == NULL)) {
			enc_fail(e, SLUICE_EINVAL);
			break;
		}
		enc_len(e, n, type == KAFKA_T_STRING);
		if (n > 0)
			wbuf_put(w, ptr, (size_t)n);
		break;
	}
	case KAFKA_T_ARRAY: {
		struct kafka_array_any a;
		memcpy(&a, p, sizeof a);
		if (a.n < -1 || (a.n < 0 && !nullable) || (a.n > 0 && a.v == NULL)) {
			enc_fail(e, SLUICE_EINVAL);
			break;
		}
		enc_len(e, a.n, false);
		size_t esz = elem_size(f);
		for (int32_t i = 0; i < a.n && e->rc == 0; i++) {
			const uint8_t *el = (const uint8_t *)a.v + (size_t)i * esz;
			if (f->elem == KAFKA_T_STRUCT)
				encode_struct(e, f->child, el);
			else
				encode_value(e, f, f->elem, el, false);
		}
		break;
	}
	case KAFKA_T_STRUCT:
		if (struct_is_pointer(f)) {
			const void *sp;
			memcpy(&sp, p, sizeof sp);
			if (nullable) {
				wbuf_u8(w, sp == NULL ? 0xff : 1);
				if (sp == NULL)
					break;
			} else if (sp == NULL) {
				enc_fail(e, SLUICE_EINVAL);
				break;
			}
			encode_struct(e, f->child, sp);
		} else {
			encode_struct(e, f->child, p);
		}
		break;
	default:
		enc_fail(e, SLUICE_EINVAL);
	}
}

static void encode_tagged(struct enc *e, const struct kafka_struct_desc *d, const uint8_t *base)
{
	uint64_t count = 0;

	for (uint16_t i = 0; i < d->fields_count; i++) {
		const struct kafka_field *f = &d->fields[i];
		if (f->tag >= 0 && field_present(f, e->version) && !is_default(f, e->version, base))
			count++;
	}
	wbuf_uvarint(e->w, count);
	for (uint16_t i = 0; i < d->fields_count && e->rc == 0; i++) {
		const struct kafka_field *f = &d->fields[i];
		if (f->tag < 0 || !field_present(f, e->version) || is_default(f, e->version, base))
			continue;
		struct wbuf tmp;
		wbuf_init(&tmp);
		struct enc t = { &tmp, e->version, true, 0 };
		encode_value(&t, f, f->type, base + f->offset, field_nullable(f, e->version));
		if (t.rc != 0 || tmp.oom) {
			enc_fail(e, t.rc != 0 ? t.rc : SLUICE_ENOMEM);
			wbuf_free(&tmp);
			break;
		}
		wbuf_uvarint(e->w, (uint64_t)f->tag);
		wbuf_uvarint(e->w, tmp.len);
		wbuf_put(e->w, tmp.data, tmp.len);
		wbuf_free(&tmp);
	}
}

static void encode_struct(struct enc *e, const struct kafka_struct_desc *d, const void *base)
{
	for (uint16_t i = 0; i < d->fields_count && e->rc == 0; i++) {
		const struct kafka_field *f = &d->fields[i];
		if (f->tag >= 0 || !field_present(f, e->version))
			continue;
		encode_value(e, f, f->type, (const uint8_t *)base + f->offset,
			     field_nullable(f, e->version));
	}
	if (e->flexible && e->rc == 0)
		encode_tagged(e, d, base);
}

int kafka_struct_encode(struct wbuf *w, const struct kafka_struct_desc *d, int16_t version,
			bool flexible, const void *in)
{
	struct enc e = { w, version, flexible, 0 };

	encode_struct(&e, d, in);
	if (e.rc != 0)
		return e.rc;
	return w->oom ? SLUICE_ENOMEM : 0;
}

int kafka_request_encode(struct wbuf *w, int16_t api_key, int16_t version, int32_t correlation_id,
			 struct kafka_str client_id, const void *body)
{
	const struct kafka_api *api = kafka_api_find(api_key);

	if (api == NULL)
		return SLUICE_ENOTFOUND;
	if (!kafka_version_supported(api, version))
		return SLUICE_EVERSION;
	if (client_id.len < -1 || client_id.len > INT16_MAX)
		return SLUICE_EINVAL;
	wbuf_be16(w, (uint16_t)api_key);
	wbuf_be16(w, (uint16_t)version);
	wbuf_be32(w, (uint32_t)correlation_id);
	wbuf_be16(w, (uint16_t)(int16_t)client_id.len);
	if (client_id.len > 0)
		wbuf_put(w, client_id.ptr, (size_t)client_id.len);
	bool flexible = kafka_version_flexible(api, version);
	if (flexible)
		wbuf_uvarint(w, 0); /* no header tagged fields */
	return kafka_struct_encode(w, api->request, version, flexible, body);
}

int kafka_response_encode(struct wbuf *w, int16_t api_key, int16_t version, int32_t correlation_id,
			  const void *body)
{
	const struct kafka_api *api = kafka_api_find(api_key);

	if (api == NULL)
		return SLUICE_ENOTFOUND;
	if (!kafka_version_supported(api, version))
		return SLUICE_EVERSION;
	wbuf_be32(w, (uint32_t)correlation_id);
	if (kafka_response_header_version(api_key, version) >= 1)
		wbuf_uvarint(w, 0);
	return kafka_struct_encode(w, api->response, version, kafka_version_flexible(api, version),
				   body);
}

/* ---- comparison ---- */

static bool value_equal(const struct kafka_field *f, uint8_t type, int16_t v, const void *x,
			const void *y)
{
	if (is_int_type(type))
		return load_int(type, x) == load_int(type, y);
	switch (type) {
	case KAFKA_T_FLOAT64:
	case KAFKA_T_UUID:
		return memcmp(x, y, scalar_size(type)) == 0;
	case KAFKA_T_STRING:
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS: {
		struct kafka_bytes a, b; /* same layout as kafka_str: pointer then length */
		_Static_assert(sizeof(struct kafka_str) == sizeof(struct kafka_bytes),
			       "same layout");
		_Static_assert(offsetof(struct kafka_str, len) == offsetof(struct kafka_bytes, len),
			       "same layout");
		memcpy(&a, x, sizeof a);
		memcpy(&b, y, sizeof b);
		if (a.len != b.len)
			return false;
		return a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0;
	}
	case KAFKA_T_ARRAY: {
		struct kafka_array_any a, b;
		memcpy(&a, x, sizeof a);
		memcpy(&b, y, sizeof b);
		if (a.n != b.n)
			return false;
		size_t esz = elem_size(f);
		for (int32_t i = 0; i < a.n; i++) {
			const uint8_t *ea = (const uint8_t *)a.v + (size_t)i * esz;
			const uint8_t *eb = (const uint8_t *)b.v + (size_t)i * esz;
			if (f->elem == KAFKA_T_STRUCT ? !kafka_struct_equal(f->child, v, ea, eb) :
							!value_equal(f, f->elem, v, ea, eb))
				return false;
		}
		return true;
	}
	case KAFKA_T_STRUCT:
		if (struct_is_pointer(f)) {
			const void *a, *b;
			memcpy(&a, x, sizeof a);
			memcpy(&b, y, sizeof b);
			if (a == NULL || b == NULL)
				return a == b;
			return kafka_struct_equal(f->child, v, a, b);
		}
		return kafka_struct_equal(f->child, v, x, y);
	default:
		return false;
	}
}

bool kafka_struct_equal(const struct kafka_struct_desc *d, int16_t version, const void *x,
			const void *y)
{
	for (uint16_t i = 0; i < d->fields_count; i++) {
		const struct kafka_field *f = &d->fields[i];
		if (!field_present(f, version))
			continue;
		if (!value_equal(f, f->type, version, (const uint8_t *)x + f->offset,
				 (const uint8_t *)y + f->offset))
			return false;
	}
	return true;
}
