/*
 * Unit tests of src/kafka: the request and response headers, the generic message codec over every
 * API and version in the table, byte vectors built by hand from the protocol guide, and RecordBatch
 * validation. No loop, socket or file.
 *
 * One Suite "kafka"; TCases: header, vectors, roundtrip, truncation, records. The round-trip and
 * truncation tests fill every field present at a version with a non-default value derived from a
 * fixed seed, so a failure reproduces.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/codec.h"
#include "base/err.h"
#include "kafka/arena.h"
#include "kafka/kafka.h"
#include "kafka/messages.h"
#include "kafka/records.h"
#include "storage/batch.h"

#define ARENA_TEST_BYTES_MAX (64u << 20)

/* ---- helpers ---- */

/* Expected bytes written as a list of byte values. */
#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

static void check_bytes(const struct wbuf *w, const uint8_t *want, size_t n)
{
	ck_assert_uint_eq(w->len, n);
	for (size_t i = 0; i < n; i++)
		if (w->data[i] != want[i])
			ck_abort_msg("byte %zu: got 0x%02x, want 0x%02x", i, w->data[i], want[i]);
}

static uint32_t fill_seed;

static uint64_t next_val(void)
{
	fill_seed = fill_seed * 1103515245u + 12345u;
	return fill_seed >> 8;
}

static void fill_struct(const struct kafka_struct_desc *d, int16_t v, struct arena *a, void *base);

static void fill_value(const struct kafka_field *f, uint8_t type, int16_t v, struct arena *a,
		       void *p)
{
	uint64_t x = next_val();

	switch (type) {
	case KAFKA_T_BOOL: {
		bool b = f->dflt == 0;
		memcpy(p, &b, sizeof b);
		break;
	}
	case KAFKA_T_INT8: {
		int8_t i = (int8_t)(x % 100 + 1);
		if (i == f->dflt)
			i++;
		memcpy(p, &i, sizeof i);
		break;
	}
	case KAFKA_T_INT16: {
		int16_t i = (int16_t)(x % 30000 + 1);
		if (i == f->dflt)
			i++;
		memcpy(p, &i, sizeof i);
		break;
	}
	case KAFKA_T_UINT16: {
		uint16_t i = (uint16_t)(x % 60000 + 1);
		if (i == f->dflt)
			i++;
		memcpy(p, &i, sizeof i);
		break;
	}
	case KAFKA_T_INT32: {
		int32_t i = (int32_t)(x % 2000000000 + 1);
		if (i == f->dflt)
			i++;
		memcpy(p, &i, sizeof i);
		break;
	}
	case KAFKA_T_INT64: {
		int64_t i = (int64_t)(x * 1000003u + 1);
		if (i == f->dflt)
			i++;
		memcpy(p, &i, sizeof i);
		break;
	}
	case KAFKA_T_FLOAT64: {
		double dbl = (double)x / 7.0 + 0.5;
		memcpy(p, &dbl, sizeof dbl);
		break;
	}
	case KAFKA_T_UUID:
		for (int i = 0; i < 16; i++)
			((uint8_t *)p)[i] = (uint8_t)(next_val() | 1);
		break;
	case KAFKA_T_STRING: {
		char *s = arena_alloc(a, 24);
		int n = snprintf(s, 24, "%s-%u", f->name, (unsigned)(x % 1000));
		struct kafka_str ks = { s, n > 23 ? 23 : n };
		memcpy(p, &ks, sizeof ks);
		break;
	}
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS: {
		size_t n = 3 + x % 7;
		uint8_t *b = arena_alloc(a, n);
		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)next_val();
		struct kafka_bytes kb = { b, (int32_t)n };
		memcpy(p, &kb, sizeof kb);
		break;
	}
	case KAFKA_T_ARRAY: {
		size_t esz = f->elem == KAFKA_T_STRUCT ? f->child->size : 0;
		switch (f->elem) {
		case KAFKA_T_INT32:
			esz = 4;
			break;
		case KAFKA_T_INT64:
			esz = 8;
			break;
		case KAFKA_T_STRING:
			esz = sizeof(struct kafka_str);
			break;
		default:
			break;
		}
		ck_assert_uint_gt(esz, 0);
		struct kafka_array_any arr = { arena_alloc(a, 2 * esz), 2 };
		for (int i = 0; i < 2; i++) {
			uint8_t *e = (uint8_t *)arr.v + (size_t)i * esz;
			if (f->elem == KAFKA_T_STRUCT)
				fill_struct(f->child, v, a, e);
			else
				fill_value(f, f->elem, v, a, e);
		}
		memcpy(p, &arr, sizeof arr);
		break;
	}
	case KAFKA_T_STRUCT:
		if (f->nullable_min <= f->nullable_max) {
			void *sp = arena_alloc(a, f->child->size);
			fill_struct(f->child, v, a, sp);
			memcpy(p, &sp, sizeof sp);
		} else {
			fill_struct(f->child, v, a, p);
		}
		break;
	default:
		ck_abort_msg("field %s has unknown type %d", f->name, type);
	}
}

/* Gives every field present at `v` a non-default value. */
static void fill_struct(const struct kafka_struct_desc *d, int16_t v, struct arena *a, void *base)
{
	for (uint16_t i = 0; i < d->fields_count; i++) {
		const struct kafka_field *f = &d->fields[i];
		if (v >= f->version_min && v <= f->version_max)
			fill_value(f, f->type, v, a, (uint8_t *)base + f->offset);
	}
}

/* Encodes a filled message of one API/version/direction and decodes it back; checks equality,
 * byte-identical re-encoding and that every truncation fails. Returns the encoded length. */
static size_t roundtrip_one(const struct kafka_api *api, int16_t v, bool request, uint32_t seed,
			    bool truncate)
{
	const struct kafka_struct_desc *d = request ? api->request : api->response;
	struct arena a, b;
	struct wbuf w1, w2;
	size_t hdr = 0;
	int32_t corr = 0;

	arena_init(&a, ARENA_TEST_BYTES_MAX);
	arena_init(&b, ARENA_TEST_BYTES_MAX);
	wbuf_init(&w1);
	wbuf_init(&w2);
	void *in = arena_alloc(&a, d->size);
	void *out = arena_alloc(&b, d->size);
	void *out2 = arena_alloc(&b, d->size);
	fill_seed = seed;
	fill_struct(d, v, &a, in);

	int rc = request ? kafka_request_encode(&w1, api->key, v, 77, kafka_str_c("cli"), in) :
			   kafka_response_encode(&w1, api->key, v, 77, in);
	ck_assert_msg(rc == 0, "%s v%d %s encode: %s", api->name, v, request ? "req" : "resp",
		      err_name(rc));
	if (request) {
		struct kafka_request_header h;
		ck_assert_int_eq(kafka_request_header_decode(w1.data, w1.len, &h), 0);
		ck_assert_int_eq(h.api_key, api->key);
		ck_assert_int_eq(h.api_version, v);
		ck_assert_int_eq(h.correlation_id, 77);
		ck_assert(kafka_str_eq(h.client_id, "cli"));
		hdr = h.header_bytes;
	} else {
		ck_assert_int_eq(
			kafka_response_header_decode(api->key, v, w1.data, w1.len, &corr, &hdr), 0);
		ck_assert_int_eq(corr, 77);
	}
	rc = request ? kafka_request_decode(api->key, v, w1.data + hdr, w1.len - hdr, &b, out) :
		       kafka_response_decode(api->key, v, w1.data + hdr, w1.len - hdr, &b, out);
	ck_assert_msg(rc == 0, "%s v%d %s decode: %s", api->name, v, request ? "req" : "resp",
		      err_name(rc));
	ck_assert_msg(kafka_struct_equal(d, v, in, out), "%s v%d %s differs after round trip",
		      api->name, v, request ? "req" : "resp");
	rc = request ? kafka_request_encode(&w2, api->key, v, 77, kafka_str_c("cli"), out) :
		       kafka_response_encode(&w2, api->key, v, 77, out);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(w1.len, w2.len);
	ck_assert_int_eq(memcmp(w1.data, w2.data, w1.len), 0);

	if (truncate) {
		/* Every strict prefix of the body must fail; so must every prefix of the header. */
		for (size_t cut = 0; cut < w1.len; cut++) {
			uint8_t *copy = malloc(cut + 1);
			memcpy(copy, w1.data, cut);
			if (cut < hdr) {
				if (request) {
					struct kafka_request_header h;
					ck_assert_int_ne(kafka_request_header_decode(copy, cut, &h),
							 0);
				} else {
					size_t hb;
					int32_t c;
					rc = kafka_response_header_decode(api->key, v, copy, cut,
									  &c, &hb);
					ck_assert_int_ne(rc, 0);
				}
			} else {
				arena_reset(&b);
				out2 = arena_alloc(&b, d->size);
				rc = request ? kafka_request_decode(api->key, v, copy + hdr,
								    cut - hdr, &b, out2) :
					       kafka_response_decode(api->key, v, copy + hdr,
								     cut - hdr, &b, out2);
				ck_assert_msg(rc != 0, "%s v%d %s: prefix of %zu/%zu bytes decoded",
					      api->name, v, request ? "req" : "resp", cut, w1.len);
			}
			free(copy);
		}
	}
	(void)out2;
	size_t len = w1.len;
	wbuf_free(&w1);
	wbuf_free(&w2);
	arena_free(&a);
	arena_free(&b);
	return len;
}

/* ---- byte vectors built by hand from the protocol guide ---- */

/* Decodes `n` bytes of a request frame, checks the header and returns the body in *out. */
static void decode_request_frame(const uint8_t *p, size_t n, int16_t key, int16_t v,
				 struct arena *a, void *out)
{
	struct kafka_request_header h;
	ck_assert_int_eq(kafka_request_header_decode(p, n, &h), 0);
	ck_assert_int_eq(h.api_key, key);
	ck_assert_int_eq(h.api_version, v);
	ck_assert_int_eq(
		kafka_request_decode(key, v, p + h.header_bytes, n - h.header_bytes, a, out), 0);
}

/* A v1 request header carries ApiKey, ApiVersion, CorrelationId and a nullable ClientId, and
 * the body starts right after it. */
START_TEST(test_request_header_v1_decodes_spec_bytes)
{
	static const uint8_t f[] = { 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x01,
				     0x02, 0x00, 0x03, 'c',  'l',  'i',  0xaa };
	struct kafka_request_header h;

	ck_assert_int_eq(kafka_request_header_decode(f, sizeof f, &h), 0);
	ck_assert_int_eq(h.api_key, KAFKA_API_METADATA);
	ck_assert_int_eq(h.api_version, 1);
	ck_assert_int_eq(h.correlation_id, 0x102);
	ck_assert(kafka_str_eq(h.client_id, "cli"));
	ck_assert_int_eq(h.header_version, 1);
	ck_assert_uint_eq(h.header_bytes, 13);

	static const uint8_t nullid[] = {
		0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0xff, 0xff
	};
	ck_assert_int_eq(kafka_request_header_decode(nullid, sizeof nullid, &h), 0);
	ck_assert_int_eq(h.client_id.len, -1);
	ck_assert_uint_eq(h.header_bytes, 10);
}
END_TEST

/* A v2 request header (flexible version) keeps ClientId as a non-compact string and ends with
 * tagged fields, whose unknown tags are skipped. */
START_TEST(test_request_header_v2_skips_tagged_fields)
{
	static const uint8_t f[] = { 0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x09, 0x00, 0x01,
				     'x',  0x02, 0x05, 0x02, 0xaa, 0xbb, 0x06, 0x00, 0x01 };
	struct kafka_request_header h;

	ck_assert_int_eq(kafka_request_header_decode(f, sizeof f, &h), 0);
	ck_assert_int_eq(h.header_version, 2);
	ck_assert(kafka_str_eq(h.client_id, "x"));
	ck_assert_uint_eq(h.header_bytes, sizeof f - 1);
	/* A tag whose size runs past the frame is malformed. */
	static const uint8_t bad[] = { 0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00,
				       0x09, 0x00, 0x00, 0x01, 0x05, 0x09, 0xaa };
	ck_assert_int_eq(kafka_request_header_decode(bad, sizeof bad, &h), SLUICE_EMALFORMED);
	/* An unknown API key is read as header v1 so the broker can still answer it. */
	static const uint8_t unk[] = { 0x03, 0xe7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00 };
	ck_assert_int_eq(kafka_request_header_decode(unk, sizeof unk, &h), 0);
	ck_assert_int_eq(h.api_key, 999);
	ck_assert_ptr_null(kafka_api_find(h.api_key));
}
END_TEST

/* ApiVersions v0 has an empty request body; its response is ErrorCode and an int32-counted
 * ApiKeys array behind a v0 response header, with no ThrottleTimeMs. */
START_TEST(test_api_versions_v0_request_and_response_spec_bytes)
{
	struct arena a;
	struct wbuf w;
	struct kafka_api_versions_request req;
	struct kafka_api_versions_response resp;
	struct kafka_api_versions_response_api_version keys[1] = { { 18, 0, 3 } };

	arena_init(&a, ARENA_TEST_BYTES_MAX);
	wbuf_init(&w);
	memset(&req, 0, sizeof req);
	ck_assert_int_eq(kafka_request_encode(&w, KAFKA_API_API_VERSIONS, 0, 7, kafka_str_c("cli"),
					      &req),
			 0);
	check_bytes(&w, BYTES(0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x03, 'c', 'l',
			      'i'));
	decode_request_frame(w.data, w.len, 18, 0, &a, &req);
	wbuf_free(&w);

	kafka_struct_defaults(&kafka_api_versions_response_desc, &resp);
	resp.error_code = KAFKA_ERR_UNSUPPORTED_VERSION;
	resp.api_keys.v = keys;
	resp.api_keys.n = 1;
	ck_assert_int_eq(kafka_response_encode(&w, KAFKA_API_API_VERSIONS, 0, 7, &resp), 0);
	check_bytes(&w, BYTES(0x00, 0x00, 0x00, 0x07, 0x00, 0x23, 0x00, 0x00, 0x00, 0x01, 0x00,
			      0x12, 0x00, 0x00, 0x00, 0x03));
	wbuf_free(&w);
	arena_free(&a);
}
END_TEST

/* ApiVersions v3 is flexible: the request uses header v2 and compact strings, but the response
 * still has a v0 header (KIP-511) followed by a flexible body. */
START_TEST(test_api_versions_v3_request_and_response_spec_bytes)
{
	struct arena a;
	struct wbuf w;
	struct kafka_api_versions_request req;
	struct kafka_api_versions_response resp;
	struct kafka_api_versions_response_api_version keys[1] = { { 0, 0, 7 } };

	arena_init(&a, ARENA_TEST_BYTES_MAX);
	wbuf_init(&w);
	req.client_software_name = kafka_str_c("kc");
	req.client_software_version = kafka_str_c("1.0");
	ck_assert_int_eq(
		kafka_request_encode(&w, KAFKA_API_API_VERSIONS, 3, 1, kafka_str_c("c"), &req), 0);
	check_bytes(&w, BYTES(0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'c', 0x00,
			      0x03, 'k', 'c', 0x04, '1', '.', '0', 0x00));
	memset(&req, 0, sizeof req);
	decode_request_frame(w.data, w.len, 18, 3, &a, &req);
	ck_assert(kafka_str_eq(req.client_software_name, "kc"));
	ck_assert(kafka_str_eq(req.client_software_version, "1.0"));
	wbuf_free(&w);

	kafka_struct_defaults(&kafka_api_versions_response_desc, &resp);
	resp.api_keys.v = keys;
	resp.api_keys.n = 1;
	resp.throttle_time_ms = 0;
	ck_assert_int_eq(kafka_response_encode(&w, KAFKA_API_API_VERSIONS, 3, 1, &resp), 0);
	check_bytes(&w, BYTES(0x00, 0x00, 0x00, 0x01, /* v0 header: CorrelationId only */
			      0x00, 0x00,             /* ErrorCode */
			      0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, /* ApiKeys */
			      0x00, 0x00, 0x00, 0x00,                         /* ThrottleTimeMs */
			      0x00));                                         /* no tagged fields */
	int32_t corr;
	size_t hb;
	ck_assert_int_eq(kafka_response_header_decode(18, 3, w.data, w.len, &corr, &hb), 0);
	ck_assert_uint_eq(hb, 4);
	memset(&resp, 0, sizeof resp);
	ck_assert_int_eq(kafka_response_decode(18, 3, w.data + hb, w.len - hb, &a, &resp), 0);
	ck_assert_int_eq(resp.api_keys.n, 1);
	ck_assert_int_eq(resp.api_keys.v[0].max_version, 7);
	ck_assert_int_eq(resp.finalized_features_epoch, -1);
	wbuf_free(&w);
	arena_free(&a);
}
END_TEST

/* Metadata v0 asks for named topics with an int32-counted array; v1 allows a null array (all
 * topics); v9 is flexible with compact arrays and tagged-field sections. */
START_TEST(test_metadata_request_v0_v1_v9_decode_spec_bytes)
{
	struct arena a;
	struct kafka_metadata_request req;

	arena_init(&a, ARENA_TEST_BYTES_MAX);
	decode_request_frame(BYTES(0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0x00,
				   0x00, 0x00, 0x01, 0x00, 0x02, 't', '1'),
			     3, 0, &a, &req);
	ck_assert_int_eq(req.topics.n, 1);
	ck_assert(kafka_str_eq(req.topics.v[0].name, "t1"));
	ck_assert_int_eq(req.allow_auto_topic_creation, 1); /* default before v4 */

	decode_request_frame(BYTES(0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff,
				   0xff, 0xff, 0xff),
			     3, 1, &a, &req);
	ck_assert_int_eq(req.topics.n, -1);

	/* A null array is not allowed in v0. */
	static const uint8_t v0null[] = { 0xff, 0xff, 0xff, 0xff };
	ck_assert_int_eq(kafka_request_decode(3, 0, v0null, sizeof v0null, &a, &req),
			 SLUICE_EMALFORMED);

	decode_request_frame(BYTES(0x00, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
				   0x00,                  /* header tagged fields */
				   0x02, 0x02, 't', 0x00, /* Topics: [{Name "t"}] */
				   0x00,                  /* AllowAutoTopicCreation */
				   0x01,                  /* IncludeClusterAuthorizedOps */
				   0x00,                  /* IncludeTopicAuthorizedOps */
				   0x00),                 /* tagged fields */
			     3, 9, &a, &req);
	ck_assert_int_eq(req.topics.n, 1);
	ck_assert(kafka_str_eq(req.topics.v[0].name, "t"));
	ck_assert(!req.allow_auto_topic_creation);
	ck_assert(req.include_cluster_authorized_operations);
	arena_free(&a);
}
END_TEST

/* Metadata v1 responses add Rack, ControllerId and IsInternal to the v0 layout. */
START_TEST(test_metadata_response_v1_encodes_spec_bytes)
{
	struct wbuf w;
	struct kafka_metadata_response r;
	struct kafka_metadata_response_metadata_response_broker b;
	struct kafka_metadata_response_metadata_response_topic t;
	struct kafka_metadata_response_metadata_response_partition p;
	int32_t nodes[1] = { 1 };

	kafka_struct_defaults(&kafka_metadata_response_desc, &r);
	kafka_struct_defaults(&kafka_metadata_response_metadata_response_broker_desc, &b);
	kafka_struct_defaults(&kafka_metadata_response_metadata_response_topic_desc, &t);
	kafka_struct_defaults(&kafka_metadata_response_metadata_response_partition_desc, &p);
	b.node_id = 1;
	b.host = kafka_str_c("h");
	b.port = 9092;
	t.name = kafka_str_c("t");
	p.leader_id = 1;
	p.replica_nodes.v = nodes;
	p.replica_nodes.n = 1;
	p.isr_nodes.v = nodes;
	p.isr_nodes.n = 1;
	t.partitions.v = &p;
	t.partitions.n = 1;
	r.brokers.v = &b;
	r.brokers.n = 1;
	r.controller_id = 1;
	r.topics.v = &t;
	r.topics.n = 1;
	wbuf_init(&w);
	ck_assert_int_eq(kafka_response_encode(&w, KAFKA_API_METADATA, 1, 5, &r), 0);
	check_bytes(&w, BYTES(0x00, 0x00, 0x00, 0x05,                  /* CorrelationId */
			      0x00, 0x00, 0x00, 0x01,                  /* Brokers: 1 */
			      0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'h', /* NodeId, Host */
			      0x00, 0x00, 0x23, 0x84, 0xff, 0xff,      /* Port, Rack null */
			      0x00, 0x00, 0x00, 0x01,                  /* ControllerId */
			      0x00, 0x00, 0x00, 0x01,                  /* Topics: 1 */
			      0x00, 0x00, 0x00, 0x01, 't', 0x00,       /* Err, Name, IsInternal */
			      0x00, 0x00, 0x00, 0x01,                  /* Partitions: 1 */
			      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			      0x01,                                             /* Err Idx Ldr */
			      0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,   /* ReplicaNodes */
			      0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01)); /* IsrNodes */
	wbuf_free(&w);
}
END_TEST

/* Produce v3 and v7 share one layout: TransactionalId, Acks, TimeoutMs, then topics with
 * int32-sized Records, which decode as a view into the frame. */
START_TEST(test_produce_request_v3_v7_decode_spec_bytes)
{
	struct arena a;
	struct kafka_produce_request req;
	static const uint8_t f[] = {
		0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0xff, 0xff, /* header, null id */
		0xff, 0xff,                                                 /* TransactionalId */
		0xff, 0xff,                                                 /* Acks -1 */
		0x00, 0x00, 0x75, 0x30,                                     /* TimeoutMs 30000 */
		0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',                    /* Topics, Name */
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,             /* Partitions, Index */
		0x00, 0x00, 0x00, 0x03, 0xde, 0xad, 0xbf,                   /* Records */
	};
	uint8_t f7[sizeof f];

	arena_init(&a, ARENA_TEST_BYTES_MAX);
	decode_request_frame(f, sizeof f, 0, 3, &a, &req);
	ck_assert_int_eq(req.transactional_id.len, -1);
	ck_assert_int_eq(req.acks, -1);
	ck_assert_int_eq(req.timeout_ms, 30000);
	ck_assert_int_eq(req.topic_data.n, 1);
	ck_assert(kafka_str_eq(req.topic_data.v[0].name, "t"));
	ck_assert_int_eq(req.topic_data.v[0].partition_data.v[0].index, 2);
	ck_assert_int_eq(req.topic_data.v[0].partition_data.v[0].records.len, 3);
	ck_assert_ptr_eq(req.topic_data.v[0].partition_data.v[0].records.ptr, f + sizeof f - 3);
	memcpy(f7, f, sizeof f);
	f7[3] = 7;
	decode_request_frame(f7, sizeof f7, 0, 7, &a, &req);
	ck_assert_int_eq(req.topic_data.v[0].partition_data.v[0].records.len, 3);
	arena_free(&a);
}
END_TEST

/* Produce v9 is flexible: compact strings, arrays and records, a tagged-field byte after every
 * struct, and request header v2. */
START_TEST(test_produce_request_v9_encodes_spec_bytes)
{
	struct wbuf w;
	struct kafka_produce_request req;
	struct kafka_produce_request_topic_produce_data t;
	struct kafka_produce_request_partition_produce_data p;
	static const uint8_t recs[] = { 1, 2 };

	memset(&req, 0, sizeof req);
	memset(&t, 0, sizeof t);
	memset(&p, 0, sizeof p);
	req.transactional_id = kafka_str_null();
	req.acks = 1;
	req.timeout_ms = 1000;
	t.name = kafka_str_c("ab");
	p.index = 0;
	p.records = (struct kafka_bytes){ recs, 2 };
	t.partition_data.v = &p;
	t.partition_data.n = 1;
	req.topic_data.v = &t;
	req.topic_data.n = 1;
	wbuf_init(&w);
	ck_assert_int_eq(kafka_request_encode(&w, KAFKA_API_PRODUCE, 9, 3, kafka_str_null(), &req),
			 0);
	check_bytes(&w, BYTES(0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x03, 0xff, 0xff, 0x00,
			      0x00,                         /* TransactionalId null (compact 0) */
			      0x00, 0x01,                   /* Acks */
			      0x00, 0x00, 0x03, 0xe8,       /* TimeoutMs */
			      0x02, 0x03, 'a', 'b',         /* Topics: 1, Name "ab" */
			      0x02, 0x00, 0x00, 0x00, 0x00, /* Partitions: 1, Index 0 */
			      0x03, 0x01, 0x02, 0x00,       /* Records (compact), partition tags */
			      0x00,                         /* topic tags */
			      0x00));                       /* request tags */
	wbuf_free(&w);
}
END_TEST

/* Fetch v4 adds IsolationLevel and the v3 MaxBytes; partitions carry only offset and size. */
START_TEST(test_fetch_request_v4_decodes_spec_bytes)
{
	struct arena a;
	struct kafka_fetch_request req;

	arena_init(&a, ARENA_TEST_BYTES_MAX);
	decode_request_frame(
		BYTES(0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, /* header */
		      0xff, 0xff, 0xff, 0xff,                                     /* ReplicaId -1 */
		      0x00, 0x00, 0x01, 0xf4, 0x00, 0x00, 0x00, 0x01, /* MaxWaitMs, MinBytes */
		      0x00, 0x10, 0x00, 0x00, 0x01,                   /* MaxBytes, IsolationLevel */
		      0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',        /* Topics */
		      0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* Partitions, Partition */
		      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /* FetchOffset */
		      0x00, 0x10, 0x00, 0x00),                        /* PartitionMaxBytes */
		1, 4, &a, &req);
	ck_assert_int_eq(req.replica_id, -1);
	ck_assert_int_eq(req.max_wait_ms, 500);
	ck_assert_int_eq(req.max_bytes, 0x100000);
	ck_assert_int_eq(req.isolation_level, 1);
	ck_assert_int_eq(req.session_epoch, -1); /* default before v7 */
	ck_assert_int_eq(req.topics.v[0].partitions.v[0].fetch_offset, 42);
	ck_assert_int_eq(req.topics.v[0].partitions.v[0].current_leader_epoch, -1);
	arena_free(&a);
}
END_TEST

/* Fetch v11 adds the fetch session, CurrentLeaderEpoch, LogStartOffset, forgotten topics and
 * RackId. */
START_TEST(test_fetch_request_v11_decodes_spec_bytes)
{
	struct arena a;
	struct kafka_fetch_request req;

	arena_init(&a, ARENA_TEST_BYTES_MAX);
	decode_request_frame(
		BYTES(0x00, 0x01, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, /* header */
		      0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01, 0xf4, /* ReplicaId, MaxWaitMs */
		      0x00, 0x00, 0x00, 0x01, 0x00, 0x10, 0x00, 0x00, /* MinBytes, MaxBytes */
		      0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, /* Isolation, Session */
		      0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',              /* Topics */
		      0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, /* Partitions, Partition 3 */
		      0x00, 0x00, 0x00, 0x05,                         /* CurrentLeaderEpoch 5 */
		      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /* FetchOffset 7 */
		      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* LogStartOffset -1 */
		      0x00, 0x10, 0x00, 0x00,                         /* PartitionMaxBytes */
		      0x00, 0x00, 0x00, 0x00,                         /* ForgottenTopicsData: 0 */
		      0x00, 0x02, 'r', '1'),                          /* RackId */
		1, 11, &a, &req);
	ck_assert_int_eq(req.session_id, 0);
	ck_assert_int_eq(req.session_epoch, -1);
	ck_assert_int_eq(req.topics.v[0].partitions.v[0].partition, 3);
	ck_assert_int_eq(req.topics.v[0].partitions.v[0].current_leader_epoch, 5);
	ck_assert_int_eq(req.topics.v[0].partitions.v[0].fetch_offset, 7);
	ck_assert_int_eq(req.forgotten_topics_data.n, 0);
	ck_assert(kafka_str_eq(req.rack_id, "r1"));
	arena_free(&a);
}
END_TEST

/* Fetch v12 responses are flexible; the tagged CurrentLeader is written only when it differs
 * from its default (-1, -1), and an unknown tag in the input is skipped. */
START_TEST(test_fetch_response_v12_tagged_fields_spec_bytes)
{
	struct arena a;
	struct wbuf w;
	struct kafka_fetch_response r;
	struct kafka_fetch_response_fetchable_topic_response t;
	struct kafka_fetch_response_partition_data p;

	arena_init(&a, ARENA_TEST_BYTES_MAX);
	kafka_struct_defaults(&kafka_fetch_response_desc, &r);
	kafka_struct_defaults(&kafka_fetch_response_fetchable_topic_response_desc, &t);
	kafka_struct_defaults(&kafka_fetch_response_partition_data_desc, &p);
	p.high_watermark = 1;
	p.last_stable_offset = 1;
	p.log_start_offset = 0;
	p.aborted_transactions.n = -1;
	p.records.len = -1;
	t.topic = kafka_str_c("t");
	t.partitions.v = &p;
	t.partitions.n = 1;
	r.responses.v = &t;
	r.responses.n = 1;
	wbuf_init(&w);
	ck_assert_int_eq(kafka_response_encode(&w, KAFKA_API_FETCH, 12, 9, &r), 0);
	static const uint8_t plain[] = {
		0x00, 0x00, 0x00, 0x09, 0x00, /* header v1 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00,                                     /* Throttle, Err, Session */
		0x02, 0x02, 't',                                /* Responses: 1, Topic */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,       /* Partitions: 1, Index, Err */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* HighWatermark */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* LastStableOffset */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* LogStartOffset */
		0x00,                                           /* AbortedTransactions null */
		0xff, 0xff, 0xff, 0xff,                         /* PreferredReadReplica -1 */
		0x00,                                           /* Records null */
		0x00, 0x00, 0x00
	}; /* partition, topic, top tags */
	check_bytes(&w, plain, sizeof plain);
	wbuf_free(&w);

	p.current_leader.leader_id = 1;
	p.current_leader.leader_epoch = 0;
	ck_assert_int_eq(kafka_response_encode(&w, KAFKA_API_FETCH, 12, 9, &r), 0);
	ck_assert_uint_eq(w.len, sizeof plain + 11);
	/* partition tags: 1 field, tag 1, size 9: LeaderId 1, LeaderEpoch 0, its own tags */
	static const uint8_t tags[] = { 0x01, 0x01, 0x09, 0x00, 0x00, 0x00,
					0x01, 0x00, 0x00, 0x00, 0x00, 0x00 };
	ck_assert_int_eq(memcmp(w.data + sizeof plain - 3, tags, sizeof tags), 0);
	struct kafka_fetch_response back;
	ck_assert_int_eq(kafka_response_decode(1, 12, w.data + 5, w.len - 5, &a, &back), 0);
	ck_assert_int_eq(back.responses.v[0].partitions.v[0].current_leader.leader_id, 1);
	ck_assert_int_eq(back.responses.v[0].partitions.v[0].snapshot_id.epoch, -1);
	wbuf_free(&w);

	/* An unknown tag (7) with two bytes is skipped on decode. */
	uint8_t unk[sizeof plain + 4];
	memcpy(unk, plain, sizeof plain);
	unk[sizeof plain - 1] = 0x01;
	unk[sizeof plain] = 0x07;
	unk[sizeof plain + 1] = 0x02;
	unk[sizeof plain + 2] = 0xaa;
	unk[sizeof plain + 3] = 0xbb;
	ck_assert_int_eq(kafka_response_decode(1, 12, unk + 5, sizeof unk - 5, &a, &back), 0);
	ck_assert_int_eq(back.responses.v[0].partitions.v[0].current_leader.leader_id, -1);
	arena_free(&a);
}
END_TEST

/* ElectLeaders v0 has no ElectionType (it reads as 0, PREFERRED) and a nullable TopicPartitions
 * array, null meaning every partition; v1 puts the int8 ElectionType first. TimeoutMs defaults to
 * 60000 when a struct is set to its defaults. */
START_TEST(test_elect_leaders_request_v0_v1_decode_spec_bytes)
{
	struct arena a;
	struct kafka_elect_leaders_request req;

	arena_init(&a, ARENA_TEST_BYTES_MAX);
	kafka_struct_defaults(&kafka_elect_leaders_request_desc, &req);
	ck_assert_int_eq(req.timeout_ms, 60000);
	ck_assert_int_eq(req.topic_partitions.n, 0);

	req.election_type = 1;
	decode_request_frame(BYTES(0x00, 0x2b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff,
				   0xff,                    /* header */
				   0xff, 0xff, 0xff, 0xff,  /* TopicPartitions null */
				   0x00, 0x00, 0xea, 0x60), /* TimeoutMs 60000 */
			     KAFKA_API_ELECT_LEADERS, 0, &a, &req);
	ck_assert_int_eq(req.election_type, 0);
	ck_assert_int_eq(req.topic_partitions.n, -1);
	ck_assert_int_eq(req.timeout_ms, 60000);

	decode_request_frame(BYTES(0x00, 0x2b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0xff, 0xff,
				   0x01,                                     /* ElectionType */
				   0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',  /* 1 topic, "t" */
				   0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, /* PartitionId: 2 */
				   0x00, 0x00, 0x00, 0x00, 0x03,             /* 0, 3 */
				   0x00, 0x00, 0x27, 0x10),                  /* TimeoutMs 10000 */
			     KAFKA_API_ELECT_LEADERS, 1, &a, &req);
	ck_assert_int_eq(req.election_type, 1);
	ck_assert_int_eq(req.topic_partitions.n, 1);
	ck_assert(kafka_str_eq(req.topic_partitions.v[0].topic, "t"));
	ck_assert_int_eq(req.topic_partitions.v[0].partition_id.n, 2);
	ck_assert_int_eq(req.topic_partitions.v[0].partition_id.v[0], 0);
	ck_assert_int_eq(req.topic_partitions.v[0].partition_id.v[1], 3);
	ck_assert_int_eq(req.timeout_ms, 10000);
	arena_free(&a);
}
END_TEST

/* ElectLeaders v2 is flexible: request header v2, compact arrays and strings (a null array is
 * the single byte 0), tagged-field sections; the response has header v1 and the v1 top-level
 * ErrorCode, which v0 lacks. */
START_TEST(test_elect_leaders_v2_and_v0_encode_spec_bytes)
{
	struct arena a;
	struct wbuf w;
	struct kafka_elect_leaders_request req, back;
	struct kafka_elect_leaders_request_topic_partitions tp;
	struct kafka_elect_leaders_response resp, rback;
	struct kafka_elect_leaders_response_replica_election_result res;
	struct kafka_elect_leaders_response_partition_result pr;
	int32_t parts[1] = { 0 };
	int32_t corr;
	size_t hb;

	arena_init(&a, ARENA_TEST_BYTES_MAX);
	kafka_struct_defaults(&kafka_elect_leaders_request_desc, &req);
	kafka_struct_defaults(&kafka_elect_leaders_request_topic_partitions_desc, &tp);
	tp.topic = kafka_str_c("t");
	tp.partition_id.v = parts;
	tp.partition_id.n = 1;
	req.topic_partitions.v = &tp;
	req.topic_partitions.n = 1;
	wbuf_init(&w);
	ck_assert_int_eq(
		kafka_request_encode(&w, KAFKA_API_ELECT_LEADERS, 2, 7, kafka_str_null(), &req), 0);
	check_bytes(&w, BYTES(0x00, 0x2b, 0x00, 0x02, 0x00, 0x00, 0x00, 0x07, 0xff, 0xff, 0x00,
			      0x00,                               /* ElectionType PREFERRED */
			      0x02, 0x02, 't',                    /* 1 topic, "t" */
			      0x02, 0x00, 0x00, 0x00, 0x00, 0x00, /* PartitionId [0], tags */
			      0x00, 0x00, 0xea, 0x60,             /* TimeoutMs 60000 */
			      0x00));                             /* request tags */
	wbuf_free(&w);

	req.topic_partitions.v = NULL;
	req.topic_partitions.n = -1;
	ck_assert_int_eq(
		kafka_request_encode(&w, KAFKA_API_ELECT_LEADERS, 2, 7, kafka_str_null(), &req), 0);
	check_bytes(&w, BYTES(0x00, 0x2b, 0x00, 0x02, 0x00, 0x00, 0x00, 0x07, 0xff, 0xff, 0x00,
			      0x00, 0x00, 0x00, 0x00, 0xea, 0x60, 0x00));
	decode_request_frame(w.data, w.len, KAFKA_API_ELECT_LEADERS, 2, &a, &back);
	ck_assert_int_eq(back.topic_partitions.n, -1);
	wbuf_free(&w);

	kafka_struct_defaults(&kafka_elect_leaders_response_desc, &resp);
	kafka_struct_defaults(&kafka_elect_leaders_response_replica_election_result_desc, &res);
	kafka_struct_defaults(&kafka_elect_leaders_response_partition_result_desc, &pr);
	pr.partition_id = 0;
	pr.error_code = KAFKA_ERR_ELECTION_NOT_NEEDED;
	pr.error_message = kafka_str_null();
	res.topic = kafka_str_c("t");
	res.partition_result.v = &pr;
	res.partition_result.n = 1;
	resp.replica_election_results.v = &res;
	resp.replica_election_results.n = 1;
	ck_assert_int_eq(kafka_response_encode(&w, KAFKA_API_ELECT_LEADERS, 2, 7, &resp), 0);
	check_bytes(&w, BYTES(0x00, 0x00, 0x00, 0x07, 0x00, /* header v1 */
			      0x00, 0x00, 0x00, 0x00,       /* ThrottleTimeMs */
			      0x00, 0x00,                   /* ErrorCode */
			      0x02, 0x02, 't',              /* 1 result, Topic "t" */
			      0x02, 0x00, 0x00, 0x00, 0x00, /* 1 partition, PartitionId 0 */
			      0x00, 0x54,                   /* ErrorCode ELECTION_NOT_NEEDED */
			      0x00,                         /* ErrorMessage null */
			      0x00, 0x00, 0x00));           /* partition, topic, top tags */
	ck_assert_int_eq(kafka_response_header_decode(KAFKA_API_ELECT_LEADERS, 2, w.data, w.len,
						      &corr, &hb),
			 0);
	ck_assert_int_eq(corr, 7);
	ck_assert_int_eq(kafka_response_decode(KAFKA_API_ELECT_LEADERS, 2, w.data + hb, w.len - hb,
					       &a, &rback),
			 0);
	ck_assert_int_eq(rback.replica_election_results.n, 1);
	ck_assert_int_eq(rback.replica_election_results.v[0].partition_result.v[0].error_code,
			 KAFKA_ERR_ELECTION_NOT_NEEDED);
	ck_assert_int_eq(
		rback.replica_election_results.v[0].partition_result.v[0].error_message.len, -1);
	wbuf_free(&w);

	resp.error_code = KAFKA_ERR_CLUSTER_AUTHORIZATION_FAILED; /* not on the wire in v0 */
	ck_assert_int_eq(kafka_response_encode(&w, KAFKA_API_ELECT_LEADERS, 0, 7, &resp), 0);
	check_bytes(&w, BYTES(0x00, 0x00, 0x00, 0x07,                  /* header v0 */
			      0x00, 0x00, 0x00, 0x00,                  /* ThrottleTimeMs */
			      0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't', /* 1 result, Topic "t" */
			      0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* 1, PartitionId 0 */
			      0x00, 0x54, 0xff, 0xff)); /* ErrorCode, ErrorMessage null */
	ck_assert_int_eq(kafka_response_decode(KAFKA_API_ELECT_LEADERS, 0, w.data + 4, w.len - 4,
					       &a, &rback),
			 0);
	ck_assert_int_eq(rback.error_code, 0); /* absent before v1: its default */
	wbuf_free(&w);
	arena_free(&a);
}
END_TEST

/* AlterPartitionReassignments v0 is flexible from its first version: request header v2, compact
 * arrays and strings, tagged-field sections. Replicas is a nullable compact array of int32
 * (a null list, the single byte 0, asks to cancel a pending move); TimeoutMs defaults to 60000.
 * The response nests per-partition results under per-topic ones, after a top-level ErrorCode
 * and ErrorMessage. */
START_TEST(test_alter_partition_reassignments_v0_spec_bytes)
{
	typedef struct kafka_alter_partition_reassignments_request_reassignable_partition rpart;
	typedef struct kafka_alter_partition_reassignments_request_reassignable_topic rtopic;
	typedef struct kafka_alter_partition_reassignments_response_reassignable_partition_response
		ppart;
	typedef struct kafka_alter_partition_reassignments_response_reassignable_topic_response
		ptopic;
	struct arena a;
	struct wbuf w;
	struct kafka_alter_partition_reassignments_request req, back;
	struct kafka_alter_partition_reassignments_response resp, rback;
	rtopic tp;
	rpart parts[2];
	ptopic rt;
	ppart rp[2];
	int32_t replicas[3] = { 1, 2, 4 };
	int32_t corr;
	size_t hb;

	arena_init(&a, ARENA_TEST_BYTES_MAX);
	kafka_struct_defaults(&kafka_alter_partition_reassignments_request_desc, &req);
	ck_assert_int_eq(req.timeout_ms, 60000);
	kafka_struct_defaults(&kafka_alter_partition_reassignments_request_reassignable_partition_desc,
			      &parts[0]);
	ck_assert_int_eq(parts[0].replicas.n, -1); /* default null: a cancellation */
	kafka_struct_defaults(&kafka_alter_partition_reassignments_request_reassignable_partition_desc,
			      &parts[1]);
	kafka_struct_defaults(&kafka_alter_partition_reassignments_request_reassignable_topic_desc,
			      &tp);
	parts[0].partition_index = 0;
	parts[0].replicas.v = replicas;
	parts[0].replicas.n = 3;
	parts[1].partition_index = 1;
	tp.name = kafka_str_c("t");
	tp.partitions.v = parts;
	tp.partitions.n = 2;
	req.timeout_ms = 30000;
	req.topics.v = &tp;
	req.topics.n = 1;
	wbuf_init(&w);
	ck_assert_int_eq(kafka_request_encode(&w, KAFKA_API_ALTER_PARTITION_REASSIGNMENTS, 0, 7,
					      kafka_str_null(), &req),
			 0);
	check_bytes(&w, BYTES(0x00, 0x2d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0xff, 0xff,
			      0x00,                   /* header v2: ClientId null, tags */
			      0x00, 0x00, 0x75, 0x30, /* TimeoutMs 30000 */
			      0x02, 0x02, 't',        /* 1 topic, Name "t" */
			      0x03,                   /* 2 partitions */
			      0x00, 0x00, 0x00, 0x00, /* PartitionIndex 0 */
			      0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
			      0x00, 0x04,             /* Replicas [1, 2, 4] */
			      0x00,                   /* partition tags */
			      0x00, 0x00, 0x00, 0x01, /* PartitionIndex 1 */
			      0x00,                   /* Replicas null */
			      0x00, 0x00, 0x00));     /* partition, topic, request tags */
	decode_request_frame(w.data, w.len, KAFKA_API_ALTER_PARTITION_REASSIGNMENTS, 0, &a, &back);
	ck_assert_int_eq(back.timeout_ms, 30000);
	ck_assert_int_eq(back.topics.n, 1);
	ck_assert(kafka_str_eq(back.topics.v[0].name, "t"));
	ck_assert_int_eq(back.topics.v[0].partitions.n, 2);
	ck_assert_int_eq(back.topics.v[0].partitions.v[0].replicas.n, 3);
	ck_assert_int_eq(back.topics.v[0].partitions.v[0].replicas.v[2], 4);
	ck_assert_int_eq(back.topics.v[0].partitions.v[1].partition_index, 1);
	ck_assert_int_eq(back.topics.v[0].partitions.v[1].replicas.n, -1);
	wbuf_free(&w);

	kafka_struct_defaults(&kafka_alter_partition_reassignments_response_desc, &resp);
	kafka_struct_defaults(
		&kafka_alter_partition_reassignments_response_reassignable_topic_response_desc, &rt);
	for (int i = 0; i < 2; i++)
		kafka_struct_defaults(
			&kafka_alter_partition_reassignments_response_reassignable_partition_response_desc,
			&rp[i]);
	resp.error_message = kafka_str_null();
	rp[0].partition_index = 0;
	rp[0].error_message = kafka_str_null();
	rp[1].partition_index = 1;
	rp[1].error_code = KAFKA_ERR_NO_REASSIGNMENT_IN_PROGRESS;
	rp[1].error_message = kafka_str_c("x");
	rt.name = kafka_str_c("t");
	rt.partitions.v = rp;
	rt.partitions.n = 2;
	resp.responses.v = &rt;
	resp.responses.n = 1;
	ck_assert_int_eq(
		kafka_response_encode(&w, KAFKA_API_ALTER_PARTITION_REASSIGNMENTS, 0, 7, &resp), 0);
	check_bytes(&w, BYTES(0x00, 0x00, 0x00, 0x07, 0x00, /* header v1 */
			      0x00, 0x00, 0x00, 0x00,       /* ThrottleTimeMs */
			      0x00, 0x00, 0x00,             /* ErrorCode, ErrorMessage null */
			      0x02, 0x02, 't', 0x03,        /* 1 topic "t", 2 partitions */
			      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 0: NONE, null */
			      0x00, 0x00, 0x00, 0x01, 0x00, 0x55, 0x02, 'x', /* 1: error 85 "x" */
			      0x00, 0x00, 0x00));             /* partition, topic, top tags */
	ck_assert_int_eq(kafka_response_header_decode(KAFKA_API_ALTER_PARTITION_REASSIGNMENTS, 0,
						      w.data, w.len, &corr, &hb),
			 0);
	ck_assert_int_eq(corr, 7);
	ck_assert_int_eq(kafka_response_decode(KAFKA_API_ALTER_PARTITION_REASSIGNMENTS, 0,
					       w.data + hb, w.len - hb, &a, &rback),
			 0);
	ck_assert_int_eq(rback.responses.v[0].partitions.v[1].error_code,
			 KAFKA_ERR_NO_REASSIGNMENT_IN_PROGRESS);
	ck_assert(kafka_str_eq(rback.responses.v[0].partitions.v[1].error_message, "x"));
	ck_assert_int_eq(rback.responses.v[0].partitions.v[0].error_message.len, -1);
	wbuf_free(&w);
	arena_free(&a);
}
END_TEST

/* ListPartitionReassignments v0 (flexible): a null Topics (one byte 0) lists every partition;
 * the response gives each moving partition's Replicas, AddingReplicas and RemovingReplicas as
 * compact int32 arrays. */
START_TEST(test_list_partition_reassignments_v0_spec_bytes)
{
	typedef struct kafka_list_partition_reassignments_response_ongoing_partition_reassignment
		opart;
	typedef struct kafka_list_partition_reassignments_response_ongoing_topic_reassignment
		otopic;
	struct arena a;
	struct wbuf w;
	struct kafka_list_partition_reassignments_request req;
	struct kafka_list_partition_reassignments_response resp, rback;
	otopic ot;
	opart op;
	int32_t replicas[3] = { 1, 2, 4 };
	int32_t adding[1] = { 4 };
	int32_t removing[1] = { 3 };

	arena_init(&a, ARENA_TEST_BYTES_MAX);
	kafka_struct_defaults(&kafka_list_partition_reassignments_request_desc, &req);
	ck_assert_int_eq(req.timeout_ms, 60000);
	ck_assert_int_eq(req.topics.n, -1);
	decode_request_frame(BYTES(0x00, 0x2e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0xff, 0xff,
				   0x00,                   /* header v2 */
				   0x00, 0x00, 0x27, 0x10, /* TimeoutMs 10000 */
				   0x02, 0x02, 't',        /* 1 topic "t" */
				   0x03, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
				   0x05,        /* PartitionIndexes [3, 5] */
				   0x00, 0x00), /* topic, request tags */
			     KAFKA_API_LIST_PARTITION_REASSIGNMENTS, 0, &a, &req);
	ck_assert_int_eq(req.timeout_ms, 10000);
	ck_assert_int_eq(req.topics.n, 1);
	ck_assert(kafka_str_eq(req.topics.v[0].name, "t"));
	ck_assert_int_eq(req.topics.v[0].partition_indexes.n, 2);
	ck_assert_int_eq(req.topics.v[0].partition_indexes.v[1], 5);
	decode_request_frame(BYTES(0x00, 0x2e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0xff, 0xff,
				   0x00, 0x00, 0x00, 0xea, 0x60, /* TimeoutMs 60000 */
				   0x00, 0x00),                  /* Topics null, tags */
			     KAFKA_API_LIST_PARTITION_REASSIGNMENTS, 0, &a, &req);
	ck_assert_int_eq(req.topics.n, -1);

	kafka_struct_defaults(&kafka_list_partition_reassignments_response_desc, &resp);
	kafka_struct_defaults(
		&kafka_list_partition_reassignments_response_ongoing_topic_reassignment_desc, &ot);
	kafka_struct_defaults(
		&kafka_list_partition_reassignments_response_ongoing_partition_reassignment_desc,
		&op);
	resp.error_message = kafka_str_null();
	op.partition_index = 2;
	op.replicas.v = replicas;
	op.replicas.n = 3;
	op.adding_replicas.v = adding;
	op.adding_replicas.n = 1;
	op.removing_replicas.v = removing;
	op.removing_replicas.n = 1;
	ot.name = kafka_str_c("t");
	ot.partitions.v = &op;
	ot.partitions.n = 1;
	resp.topics.v = &ot;
	resp.topics.n = 1;
	wbuf_init(&w);
	ck_assert_int_eq(
		kafka_response_encode(&w, KAFKA_API_LIST_PARTITION_REASSIGNMENTS, 0, 9, &resp), 0);
	check_bytes(&w, BYTES(0x00, 0x00, 0x00, 0x09, 0x00, /* header v1 */
			      0x00, 0x00, 0x00, 0x00,       /* ThrottleTimeMs */
			      0x00, 0x00, 0x00,             /* ErrorCode, ErrorMessage null */
			      0x02, 0x02, 't', 0x02,        /* 1 topic "t", 1 partition */
			      0x00, 0x00, 0x00, 0x02,       /* PartitionIndex 2 */
			      0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
			      0x00, 0x04,                   /* Replicas [1, 2, 4] */
			      0x02, 0x00, 0x00, 0x00, 0x04, /* AddingReplicas [4] */
			      0x02, 0x00, 0x00, 0x00, 0x03, /* RemovingReplicas [3] */
			      0x00, 0x00, 0x00));           /* partition, topic, top tags */
	ck_assert_int_eq(kafka_response_decode(KAFKA_API_LIST_PARTITION_REASSIGNMENTS, 0,
					       w.data + 5, w.len - 5, &a, &rback),
			 0);
	ck_assert_int_eq(rback.topics.n, 1);
	ck_assert_int_eq(rback.topics.v[0].partitions.v[0].adding_replicas.v[0], 4);
	ck_assert_int_eq(rback.topics.v[0].partitions.v[0].removing_replicas.v[0], 3);
	wbuf_free(&w);
	arena_free(&a);
}
END_TEST

/* An array count larger than the bytes left is refused before anything is allocated. */
START_TEST(test_absurd_array_count_is_malformed_without_allocating)
{
	struct arena a;
	struct kafka_produce_request req;
	static const uint8_t body[] = { 0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x00,
					0x01, 0x7f, 0xff, 0xff, 0xff, 0x00, 0x00 };

	arena_init(&a, 1 << 20);
	ck_assert_int_eq(kafka_request_decode(0, 3, body, sizeof body, &a, &req),
			 SLUICE_EMALFORMED);
	ck_assert_uint_eq(a.used_bytes, 0);
	/* The same in a flexible version with a varint count. */
	static const uint8_t flex[] = { 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
					0xff, 0xff, 0xff, 0xff, 0x07, 0x00 };
	ck_assert_int_eq(kafka_request_decode(0, 9, flex, sizeof flex, &a, &req),
			 SLUICE_EMALFORMED);
	ck_assert_uint_eq(a.used_bytes, 0);
	/* Unknown API and out-of-range version. */
	ck_assert_int_eq(kafka_request_decode(999, 0, body, sizeof body, &a, &req),
			 SLUICE_ENOTFOUND);
	ck_assert_int_eq(kafka_request_decode(0, 99, body, sizeof body, &a, &req), SLUICE_EVERSION);
	/* Trailing bytes after a complete body are malformed. */
	static const uint8_t hb[] = { 0x00, 0x00, 0x00, 0x00, 0x00 };
	struct kafka_heartbeat_request h;
	ck_assert_int_eq(kafka_request_decode(12, 0, hb, sizeof hb, &a, &h), SLUICE_EMALFORMED);
	arena_free(&a);
}
END_TEST

/* Encoding refuses values a version cannot carry: a null in a non-nullable field. */
START_TEST(test_encode_refuses_null_where_version_forbids_it)
{
	struct wbuf w;
	struct kafka_metadata_request req;

	memset(&req, 0, sizeof req);
	req.topics.n = -1;
	wbuf_init(&w);
	ck_assert_int_eq(kafka_request_encode(&w, 3, 0, 1, kafka_str_null(), &req), SLUICE_EINVAL);
	wbuf_free(&w);
	ck_assert_int_eq(kafka_request_encode(&w, 3, 1, 1, kafka_str_null(), &req), 0);
	wbuf_free(&w);
}
END_TEST

/* ---- generic tests over the whole table ---- */

/* Every request and response of every API at every version survives encode, decode and
 * re-encode unchanged, with a non-default value in every field present at that version. */
START_TEST(test_every_message_roundtrips_at_every_version)
{
	int count = 0;

	for (size_t i = 0; i < kafka_apis_count; i++) {
		const struct kafka_api *api = &kafka_apis[i];
		for (int16_t v = api->version_min; v <= api->version_max; v++) {
			for (uint32_t seed = 1; seed <= 3; seed++) {
				roundtrip_one(api, v, true, seed * 7919u + (uint32_t)v, false);
				roundtrip_one(api, v, false, seed * 104729u + (uint32_t)v, false);
				count += 2;
			}
		}
	}
	ck_assert_int_gt(count, 400);
}
END_TEST

/* Cutting any request or response of any API and version at any byte yields an error, never a
 * crash or a successful decode of a prefix. */
START_TEST(test_every_truncation_of_every_message_fails)
{
	for (size_t i = 0; i < kafka_apis_count; i++) {
		const struct kafka_api *api = &kafka_apis[i];
		for (int16_t v = api->version_min; v <= api->version_max; v++) {
			roundtrip_one(api, v, true, 31u + (uint32_t)v, true);
			roundtrip_one(api, v, false, 37u + (uint32_t)v, true);
		}
	}
}
END_TEST

/* The table holds every API the broker needs with the versions of Kafka 4.x's schemas. */
START_TEST(test_api_table_covers_required_apis)
{
	static const struct {
		int16_t key, min, max, flex;
	} want[] = {
		{ 18, 0, 4, 3 }, { 3, 0, 12, 9 },  { 0, 0, 11, 9 }, { 1, 0, 17, 12 },
		{ 2, 0, 10, 6 }, { 19, 0, 7, 5 },  { 20, 0, 6, 4 }, { 32, 0, 4, 4 },
		{ 22, 0, 5, 2 }, { 10, 0, 6, 3 },  { 11, 0, 9, 6 }, { 14, 0, 5, 4 },
		{ 12, 0, 4, 4 }, { 13, 0, 5, 4 },  { 8, 0, 9, 8 },  { 9, 0, 9, 6 },
		{ 15, 0, 5, 5 }, { 16, 0, 5, 3 },  { 42, 0, 2, 2 }, { 47, 0, 0, -1 },
		{ 37, 0, 3, 2 }, { 17, 0, 1, -1 }, { 68, 0, 1, 0 }, { 69, 0, 0, 0 },
		{ 43, 0, 2, 2 }, { 45, 0, 0, 0 }, { 46, 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct kafka_api *api = kafka_api_find(want[i].key);
		ck_assert_ptr_nonnull(api);
		ck_assert_int_eq(api->version_min, want[i].min);
		ck_assert_int_eq(api->version_max, want[i].max);
		ck_assert_int_eq(api->flexible_min, want[i].flex);
	}
	ck_assert_ptr_null(kafka_api_find(999));
	ck_assert_str_eq(kafka_err_name(35), "UNSUPPORTED_VERSION");
	ck_assert_str_eq(kafka_err_name(0), "NONE");
	ck_assert_str_eq(kafka_err_name(79), "MEMBER_ID_REQUIRED");
	ck_assert_str_eq(kafka_err_name(80), "PREFERRED_LEADER_NOT_AVAILABLE");
	ck_assert_str_eq(kafka_err_name(84), "ELECTION_NOT_NEEDED");
	ck_assert_str_eq(kafka_err_name(85), "NO_REASSIGNMENT_IN_PROGRESS");
	ck_assert_str_eq(kafka_err_name(-1), "UNKNOWN_SERVER_ERROR");
	ck_assert_str_eq(kafka_err_name(9999), "UNKNOWN");
}
END_TEST

/* ---- RecordBatch validation ---- */

/* Builds a batch of `n` records (keys "k<i>", values "value-<i>", one header on record 0) at
 * timestamps 1000 + 10 i. */
static void build_batch(struct wbuf *w, int32_t n)
{
	struct records_new recs[8];
	struct records_batch_params bp;
	static char keys[8][4], vals[8][12];
	static const struct records_header hdr = { { (const uint8_t *)"h", 1 }, { NULL, -1 } };

	ck_assert_int_le(n, 8);
	records_batch_params_default(&bp);
	for (int32_t i = 0; i < n; i++) {
		int kl = snprintf(keys[i], sizeof keys[i], "k%d", i);
		int vl = snprintf(vals[i], sizeof vals[i], "value-%d", i);
		recs[i] = (struct records_new){ 1000 + 10 * i,
						{ (const uint8_t *)keys[i], kl },
						{ (const uint8_t *)vals[i], vl },
						i == 0 ? 1 : 0,
						&hdr };
	}
	wbuf_init(w);
	ck_assert_int_eq(records_build(w, &bp, recs, n), 0);
}

/* A batch built by records_build validates, and the iterator returns its records, keys, values,
 * timestamps and headers. */
START_TEST(test_records_good_batch_validates_and_iterates)
{
	struct wbuf w;
	struct records_info info;
	struct records_iter it;
	struct records_record rec;
	struct records_header h;
	errmsg_t msg = "";

	build_batch(&w, 3);
	ck_assert_int_eq(records_validate(w.data, w.len, &info, msg), 0);
	ck_assert_int_eq(info.batches, 1);
	ck_assert_int_eq(info.records, 3);
	ck_assert_int_eq(info.max_timestamp, 1020);
	ck_assert_int_eq(info.first.producer_id, -1);
	ck_assert(!info.compressed);
	ck_assert_int_eq(records_iter_init(&it, w.data, w.len), 0);
	for (int i = 0; i < 3; i++) {
		char v[12];
		ck_assert_int_eq(records_iter_next(&it, &rec), 1);
		ck_assert_int_eq(rec.offset, i);
		ck_assert_int_eq(rec.timestamp, 1000 + 10 * i);
		snprintf(v, sizeof v, "value-%d", i);
		ck_assert_int_eq(rec.value.len, (int32_t)strlen(v));
		ck_assert_int_eq(memcmp(rec.value.ptr, v, strlen(v)), 0);
		ck_assert_int_eq(rec.headers_count, i == 0 ? 1 : 0);
		if (i == 0) {
			size_t pos = 0;
			ck_assert_int_eq(records_header_next(&rec, &pos, &h), 1);
			ck_assert_int_eq(h.key.len, 1);
			ck_assert_int_eq(h.value.len, -1);
			ck_assert_int_eq(records_header_next(&rec, &pos, &h), 0);
		}
	}
	ck_assert_int_eq(records_iter_next(&it, &rec), 0);
	/* Two whole batches back to back are fine too. */
	struct wbuf two;
	build_batch(&two, 2);
	wbuf_put(&two, w.data, w.len);
	ck_assert_int_eq(records_validate(two.data, two.len, &info, msg), 0);
	ck_assert_int_eq(info.batches, 2);
	ck_assert_int_eq(info.records, 5);
	wbuf_free(&two);
	wbuf_free(&w);
}
END_TEST

/* A flipped byte in the records makes the CRC disagree: CORRUPT_MESSAGE. */
START_TEST(test_records_bad_crc_is_corrupt_message)
{
	struct wbuf w;
	errmsg_t msg = "";

	build_batch(&w, 2);
	w.data[w.len - 3] ^= 0x40;
	ck_assert_int_eq(records_validate(w.data, w.len, NULL, msg), SLUICE_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(msg, "CRC"));
	ck_assert_int_eq(records_kafka_error(SLUICE_ECORRUPT), KAFKA_ERR_CORRUPT_MESSAGE);
	wbuf_free(&w);
}
END_TEST

/* Magic 0 and 1 message sets get their own error, mapped to UNSUPPORTED_FOR_MESSAGE_FORMAT. */
START_TEST(test_records_magic_1_is_unsupported_for_message_format)
{
	struct wbuf w;
	errmsg_t msg = "";

	build_batch(&w, 1);
	w.data[16] = 1;
	ck_assert_int_eq(records_validate(w.data, w.len, NULL, msg), SLUICE_EVERSION);
	w.data[16] = 0;
	ck_assert_int_eq(records_validate(w.data, w.len, NULL, msg), SLUICE_EVERSION);
	ck_assert_int_eq(records_kafka_error(SLUICE_EVERSION),
			 KAFKA_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
	w.data[16] = 3;
	ck_assert_int_eq(records_validate(w.data, w.len, NULL, msg), SLUICE_EMALFORMED);
	wbuf_free(&w);
}
END_TEST

/* Any truncation of a batch, and trailing bytes after one, are malformed. */
START_TEST(test_records_truncated_batch_is_malformed)
{
	struct wbuf w;

	build_batch(&w, 3);
	for (size_t cut = 0; cut < w.len; cut++)
		ck_assert_int_eq(records_validate(w.data, cut, NULL, NULL), SLUICE_EMALFORMED);
	wbuf_u8(&w, 0);
	ck_assert_int_eq(records_validate(w.data, w.len, NULL, NULL), SLUICE_EMALFORMED);
	wbuf_free(&w);
}
END_TEST

/* RecordCount that disagrees with the records present is malformed, even with a valid CRC. */
START_TEST(test_records_record_count_mismatch_is_malformed)
{
	struct wbuf w;
	errmsg_t msg = "";

	build_batch(&w, 3);
	be32_put(w.data + 57, 2); /* RecordCount */
	be32_put(w.data + 23, 1); /* LastOffsetDelta, consistent with it */
	batch_set_crc(w.data, w.len);
	ck_assert_int_eq(records_validate(w.data, w.len, NULL, msg), SLUICE_EMALFORMED);
	be32_put(w.data + 57, 4);
	be32_put(w.data + 23, 3);
	batch_set_crc(w.data, w.len);
	ck_assert_int_eq(records_validate(w.data, w.len, NULL, msg), SLUICE_EMALFORMED);
	be32_put(w.data + 57, 0);
	be32_put(w.data + 23, 0);
	batch_set_crc(w.data, w.len);
	ck_assert_int_eq(records_validate(w.data, w.len, NULL, msg), SLUICE_EMALFORMED);
	wbuf_free(&w);
}
END_TEST

/* LastOffsetDelta must equal RecordCount - 1, and each OffsetDelta must follow 0, 1, 2 ... */
START_TEST(test_records_last_offset_delta_mismatch_is_malformed)
{
	struct wbuf w;
	errmsg_t msg = "";

	build_batch(&w, 3);
	be32_put(w.data + 23, 5);
	batch_set_crc(w.data, w.len);
	ck_assert_int_eq(records_validate(w.data, w.len, NULL, msg), SLUICE_EMALFORMED);
	wbuf_free(&w);

	build_batch(&w, 1);
	/* Record 0: Length, Attributes, TimestampDelta 0, then OffsetDelta at byte 64. */
	ck_assert_int_eq(w.data[64], 0x00);
	w.data[64] = 0x02; /* zigzag 1 */
	batch_set_crc(w.data, w.len);
	ck_assert_int_eq(records_validate(w.data, w.len, NULL, msg), SLUICE_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(msg, "OffsetDelta"));
	/* A non-zero BaseOffset from a client is refused too. */
	w.data[64] = 0x00;
	batch_set_base_offset(w.data, 5);
	batch_set_crc(w.data, w.len);
	ck_assert_int_eq(records_validate(w.data, w.len, NULL, msg), SLUICE_EMALFORMED);
	wbuf_free(&w);
}
END_TEST

/* A compressed batch is checked up to its CRC; the iterator declines it. */
START_TEST(test_records_compressed_batch_checks_header_only)
{
	struct wbuf w;
	struct records_info info;
	struct records_iter it;

	build_batch(&w, 2);
	be16_put(w.data + 21, 3); /* lz4 */
	batch_set_crc(w.data, w.len);
	ck_assert_int_eq(records_validate(w.data, w.len, &info, NULL), 0);
	ck_assert(info.compressed);
	ck_assert_int_eq(records_iter_init(&it, w.data, w.len), SLUICE_EINVAL);
	wbuf_free(&w);
}
END_TEST

static Suite *kafka_suite(void)
{
	Suite *s = suite_create("kafka");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_test(tc, test_api_table_covers_required_apis);
	suite_add_tcase(s, tc);

	tc = tcase_create("vectors");
	tcase_add_test(tc, test_request_header_v1_decodes_spec_bytes);
	tcase_add_test(tc, test_request_header_v2_skips_tagged_fields);
	tcase_add_test(tc, test_api_versions_v0_request_and_response_spec_bytes);
	tcase_add_test(tc, test_api_versions_v3_request_and_response_spec_bytes);
	tcase_add_test(tc, test_metadata_request_v0_v1_v9_decode_spec_bytes);
	tcase_add_test(tc, test_metadata_response_v1_encodes_spec_bytes);
	tcase_add_test(tc, test_produce_request_v3_v7_decode_spec_bytes);
	tcase_add_test(tc, test_produce_request_v9_encodes_spec_bytes);
	tcase_add_test(tc, test_fetch_request_v4_decodes_spec_bytes);
	tcase_add_test(tc, test_fetch_request_v11_decodes_spec_bytes);
	tcase_add_test(tc, test_fetch_response_v12_tagged_fields_spec_bytes);
	tcase_add_test(tc, test_elect_leaders_request_v0_v1_decode_spec_bytes);
	tcase_add_test(tc, test_elect_leaders_v2_and_v0_encode_spec_bytes);
	tcase_add_test(tc, test_alter_partition_reassignments_v0_spec_bytes);
	tcase_add_test(tc, test_list_partition_reassignments_v0_spec_bytes);
	tcase_add_test(tc, test_absurd_array_count_is_malformed_without_allocating);
	tcase_add_test(tc, test_encode_refuses_null_where_version_forbids_it);
	suite_add_tcase(s, tc);

	tc = tcase_create("roundtrip");
	tcase_add_test(tc, test_every_message_roundtrips_at_every_version);
	suite_add_tcase(s, tc);

	tc = tcase_create("truncation");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_every_truncation_of_every_message_fails);
	suite_add_tcase(s, tc);

	tc = tcase_create("records");
	tcase_add_test(tc, test_records_good_batch_validates_and_iterates);
	tcase_add_test(tc, test_records_bad_crc_is_corrupt_message);
	tcase_add_test(tc, test_records_magic_1_is_unsupported_for_message_format);
	tcase_add_test(tc, test_records_truncated_batch_is_malformed);
	tcase_add_test(tc, test_records_record_count_mismatch_is_malformed);
	tcase_add_test(tc, test_records_last_offset_delta_mismatch_is_malformed);
	tcase_add_test(tc, test_records_compressed_batch_checks_header_only);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(kafka_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
