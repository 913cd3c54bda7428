/*
 * test_meta: the controller's metadata image (src/meta/image.c) and the topic rules it shares
 * with the broker (src/meta/topicdef.c). Pure: no loop, no files.
 *
 * Commands are applied through their encoded bytes (image_apply), as the controller group does,
 * so every apply test also exercises the command codec. "Unchanged" is checked by comparing the
 * snapshot bytes before and after, which covers every field of the image.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/codec.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "meta/image.h"
#include "meta/topicdef.h"

/* ---- helpers ---- */

/* ck_assert records every passing check through the fork pipe; loops that check thousands of
 * times use this, which only talks to check on failure. */
#define require(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, #cond);                      \
	} while (0)

static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
	rng_state = s * 0x9E3779B97F4A7C15ull + 1;
}

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic, so a failing seed reproduces. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* An image plus the next Raft index to apply at. */
struct fx {
	struct image im;
	uint64_t index;
	uint64_t ids; /* topic ids handed out */
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof *f);
	ck_assert_int_eq(image_init(&f->im, "test-cluster_1"), 0);
}

/* Encodes `c` and applies the bytes at the next index. */
static int fx_apply(struct fx *f, const struct image_cmd *c, struct image_result *res)
{
	struct wbuf w;
	struct image_result local;
	errmsg_t em = "";
	int rv;

	wbuf_init(&w);
	if (image_cmd_encode(c, &w, em) != 0)
		ck_abort_msg("encode: %s", em);
	rv = image_apply(&f->im, ++f->index, w.data, w.len, res != NULL ? res : &local);
	wbuf_free(&w);
	return rv;
}

/* The snapshot bytes of `im` in a wbuf the caller frees. */
static struct wbuf snap(const struct image *im)
{
	struct wbuf w;

	wbuf_init(&w);
	require(image_encode(im, &w) == 0);
	return w;
}

static bool snap_same(const struct wbuf *a, const struct image *im)
{
	struct wbuf b = snap(im);
	bool same = a->len == b.len && memcmp(a->data, b.data, a->len) == 0;

	wbuf_free(&b);
	return same;
}

static void topic_id_of(uint64_t n, uint8_t id[16])
{
	memset(id, 0, 16);
	be64_put(id, 0x5eedull << 48 | n);
	id[15] = 1;
}

static struct image_cmd cmd_register(uint32_t id, const char *host, uint16_t port, const char *rack)
{
	struct image_cmd c;

	memset(&c, 0, sizeof c);
	c.type = IMAGE_CMD_REGISTER_NODE;
	c.register_node.node_id = id;
	c.register_node.host = host;
	c.register_node.port = port;
	c.register_node.rack = rack;
	return c;
}

/* cmd_register with a peer address (peer_host NULL and peer_port 0 for none). */
static struct image_cmd cmd_register_peer(uint32_t id, const char *host, uint16_t port,
					  const char *rack, const char *peer_host,
					  uint16_t peer_port)
{
	struct image_cmd c = cmd_register(id, host, port, rack);

	c.register_node.peer_host = peer_host;
	c.register_node.peer_port = peer_port;
	return c;
}

static struct image_cmd cmd_unregister(uint32_t id)
{
	struct image_cmd c;

	memset(&c, 0, sizeof c);
	c.type = IMAGE_CMD_UNREGISTER_NODE;
	c.unregister_node.node_id = id;
	return c;
}

static struct image_cmd cmd_create(struct fx *f, const char *name, int32_t parts, int16_t rf)
{
	struct image_cmd c;

	memset(&c, 0, sizeof c);
	c.type = IMAGE_CMD_CREATE_TOPIC;
	c.create_topic.name = name;
	topic_id_of(++f->ids, c.create_topic.topic_id);
	c.create_topic.partitions = parts;
	c.create_topic.replication_factor = rf;
	return c;
}

static struct image_cmd cmd_named(enum image_cmd_type type, const char *name)
{
	struct image_cmd c;

	memset(&c, 0, sizeof c);
	c.type = type;
	switch (type) {
	case IMAGE_CMD_DELETE_TOPIC:
		c.delete_topic.name = name;
		break;
	case IMAGE_CMD_ALTER_TOPIC_CONFIG:
		c.alter_topic_config.name = name;
		break;
	case IMAGE_CMD_CREATE_PARTITIONS:
		c.create_partitions.name = name;
		break;
	case IMAGE_CMD_REASSIGN_PARTITION:
		c.reassign_partition.name = name;
		break;
	default:
		ck_abort_msg("cmd_named: type %d has no name", type);
	}
	return c;
}

static struct image_cmd cmd_alloc(uint32_t count)
{
	struct image_cmd c;

	memset(&c, 0, sizeof c);
	c.type = IMAGE_CMD_ALLOCATE_PRODUCER_IDS;
	c.allocate_producer_ids.count = count;
	return c;
}

/* Registers nodes 1..n on host "hN", port 9000+N, rack racks[N-1] (racks may be NULL). */
static void fx_nodes(struct fx *f, uint32_t n, const char *const *racks)
{
	static const char *const hosts[] = { "h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "h9" };

	ck_assert_uint_le(n, 9);
	for (uint32_t i = 1; i <= n; i++) {
		struct image_cmd c = cmd_register(i, hosts[i - 1], (uint16_t)(9000 + i),
						  racks != NULL ? racks[i - 1] : NULL);
		ck_assert_int_eq(fx_apply(f, &c, NULL), 0);
	}
}

/* Applies `c` expecting the error `rv` on `field`, and checks that the image did not change. */
static void expect_reject(struct fx *f, const struct image_cmd *c, int rv, enum image_field field)
{
	struct wbuf before = snap(&f->im);
	struct image_result res;
	int got = fx_apply(f, c, &res);

	ck_assert_msg(got == rv, "expected %s, got %s (%s)", err_name(rv), err_name(got),
		      res.errmsg);
	ck_assert_int_eq(res.field, field);
	ck_assert_msg(res.errmsg[0] != '\0', "a rejection explains itself");
	ck_assert_msg(snap_same(&before, &f->im), "a rejected command changed the image");
	wbuf_free(&before);
}

/* ---- a random command generator, for determinism, fuzzing and replay ---- */

static const char *const gen_names[] = { "t0", "t1", "t2",     "t3", "t4",
					 "t5", "t6", "orders", "..", "bad name" };
static const char *const gen_hosts[] = { "h1", "h2", "alt.example.com", "10.0.0.7", "bad host" };
static const char *const gen_racks[] = { "r0", "r1", "r2" };
static const struct image_cmd_config gen_configs[] = {
	{ "retention.ms", "1000" },      { "retention.ms", "-1" },
	{ "cleanup.policy", "compact" }, { "cleanup.policy", "delete" },
	{ "segment.bytes", "1048576" },  { "compression.type", "lz4" },
	{ "segment.bytes", "1" },        { "no.such.key", "1" },
	{ "min.insync.replicas", "2" },  { "retention.ms", "soon" },
};

/* A random command, mostly valid for the image it will meet, sometimes not. */
static struct image_cmd gen_cmd(struct fx *f)
{
	struct image_cmd c;
	uint32_t k = below(100);

	memset(&c, 0, sizeof c);
	if (k < 12) {
		c = cmd_register(1 + below(7), gen_hosts[below(5)], (uint16_t)below(3) * 1000,
				 below(3) == 0 ? NULL : gen_racks[below(3)]);
		if (c.register_node.port == 0 && below(4) != 0)
			c.register_node.port = 9092;
		/* Mostly a peer address; now and then one half of it only. */
		if (below(4) != 0) {
			uint16_t peer_port = (uint16_t)(19000 + below(3));
			c.register_node.peer_host = below(8) == 0 ? NULL : gen_hosts[below(5)];
			c.register_node.peer_port = below(8) == 0 ? 0 : peer_port;
		}
	} else if (k < 15) {
		c = cmd_unregister(1 + below(8));
	} else if (k < 45) {
		c = cmd_create(f, gen_names[below(10)], (int32_t)below(9), (int16_t)below(5));
		if (below(20) == 0)
			topic_id_of(f->ids - below(5),
				    c.create_topic.topic_id); /* maybe a duplicate */
		c.create_topic.nconfigs = (uint16_t)below(4);
		for (uint16_t i = 0; i < c.create_topic.nconfigs; i++)
			c.create_topic.configs[i] = gen_configs[below(10)];
	} else if (k < 55) {
		c = cmd_named(IMAGE_CMD_DELETE_TOPIC, gen_names[below(10)]);
	} else if (k < 65) {
		c = cmd_named(IMAGE_CMD_ALTER_TOPIC_CONFIG, gen_names[below(10)]);
		c.alter_topic_config.replace = below(5) == 0;
		c.alter_topic_config.nops = (uint16_t)below(4);
		for (uint16_t i = 0; i < c.alter_topic_config.nops; i++) {
			c.alter_topic_config.ops[i] = gen_configs[below(10)];
			if (below(3) == 0)
				c.alter_topic_config.ops[i].value = NULL;
		}
	} else if (k < 75) {
		c = cmd_named(IMAGE_CMD_CREATE_PARTITIONS, gen_names[below(10)]);
		c.create_partitions.partitions = (int32_t)below(14);
	} else if (k < 90) {
		c = cmd_named(IMAGE_CMD_REASSIGN_PARTITION, gen_names[below(10)]);
		c.reassign_partition.partition = (int32_t)below(10) - 1;
		c.reassign_partition.nreplicas = (uint8_t)below(5);
		for (uint8_t i = 0; i < c.reassign_partition.nreplicas; i++)
			c.reassign_partition.replicas[i] = 1 + below(8);
	} else {
		c = cmd_alloc(below(3) == 0 ? 0 : 1 + below(5000));
	}
	return c;
}

/* Applies `n` random commands to every image in `fs`, checking they answer alike. */
static void gen_apply(struct fx *fs, int nfx, int n)
{
	for (int i = 0; i < n; i++) {
		struct image_cmd c = gen_cmd(&fs[0]);
		int rv0 = 0;
		struct image_result r0;
		for (int j = 0; j < nfx; j++) {
			struct image_result r;
			int rv = fx_apply(&fs[j], &c, &r);
			if (j == 0) {
				rv0 = rv;
				r0 = r;
				continue;
			}
			require(rv == rv0);
			require(r.field == r0.field);
			require(r.producer_id_first == r0.producer_id_first);
			require(r.group_id_first == r0.group_id_first);
			require(strcmp(r.errmsg, r0.errmsg) == 0);
		}
		if (rv0 == SLUICE_ENOMEM || rv0 == SLUICE_EMALFORMED)
			ck_abort_msg("%s", err_name(rv0));
	}
}

/* ---- commands ---- */

/* One command of every type, with their optional parts both present and absent. */
static int sample_cmds(struct image_cmd *v)
{
	static const uint32_t replicas[] = { 3, 1, 2 };
	int n = 0;

	v[n++] = cmd_register_peer(1, "broker-1.example.com", 9092, "rack-a", "peer-1.internal",
				   19093);
	v[n++] = cmd_register(2, "10.0.0.2", 19092, NULL);
	v[n++] = cmd_unregister(7);
	memset(&v[n], 0, sizeof v[n]);
	v[n].type = IMAGE_CMD_CREATE_TOPIC;
	v[n].create_topic.name = "orders";
	topic_id_of(42, v[n].create_topic.topic_id);
	v[n].create_topic.partitions = 12;
	v[n].create_topic.replication_factor = 3;
	v[n].create_topic.nconfigs = 2;
	v[n].create_topic.configs[0] = (struct image_cmd_config){ "retention.ms", "86400000" };
	v[n].create_topic.configs[1] = (struct image_cmd_config){ "cleanup.policy", "compact" };
	n++;
	v[n] = cmd_named(IMAGE_CMD_DELETE_TOPIC, "orders");
	n++;
	v[n] = cmd_named(IMAGE_CMD_ALTER_TOPIC_CONFIG, "orders");
	v[n].alter_topic_config.replace = true;
	v[n].alter_topic_config.nops = 3;
	v[n].alter_topic_config.ops[0] = (struct image_cmd_config){ "retention.ms", "1000" };
	v[n].alter_topic_config.ops[1] = (struct image_cmd_config){ "cleanup.policy", NULL };
	v[n].alter_topic_config.ops[2] = (struct image_cmd_config){ "segment.bytes", "" };
	n++;
	v[n] = cmd_named(IMAGE_CMD_CREATE_PARTITIONS, "orders");
	v[n].create_partitions.partitions = 24;
	n++;
	v[n] = cmd_named(IMAGE_CMD_REASSIGN_PARTITION, "orders");
	v[n].reassign_partition.partition = 5;
	v[n].reassign_partition.nreplicas = 3;
	memcpy(v[n].reassign_partition.replicas, replicas, sizeof replicas);
	n++;
	v[n++] = cmd_alloc(1000);
	return n;
}

#define SAMPLES_MAX 16

static void encode_ok(const struct image_cmd *c, struct wbuf *w)
{
	errmsg_t em = "";

	wbuf_init(w);
	if (image_cmd_encode(c, w, em) != 0)
		ck_abort_msg("%s", em);
}

static void assert_str_eq_opt(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		ck_assert_ptr_eq(a, b);
	else
		ck_assert_str_eq(a, b);
}

/* What the encoder writes for a command that decoded from the version 1 bytes `p`, by the
 * format table in image.c: version 2, and a REGISTER_NODE gains "no peer address" (peer_port 0,
 * an empty peer_host). */
static struct wbuf cmd_v1_to_v2(const uint8_t *p, size_t n)
{
	struct wbuf w;

	ck_assert_uint_ge(n, 2);
	ck_assert_uint_eq(p[1], 1);
	wbuf_init(&w);
	wbuf_put(&w, p, n);
	w.data[1] = 2;
	if (p[0] == IMAGE_CMD_REGISTER_NODE) {
		wbuf_be16(&w, 0);
		wbuf_be16(&w, 0);
	}
	require(!w.oom);
	return w;
}

/* Every command type encodes, decodes to the same fields and re-encodes to the same bytes. */
START_TEST(test_image_cmd_round_trip_keeps_every_field_of_every_type)
{
	struct image_cmd v[SAMPLES_MAX];
	int n = sample_cmds(v);
	bool seen[IMAGE_CMD_ALLOCATE_PRODUCER_IDS + 1] = { false };

	for (int i = 0; i < n; i++) {
		struct wbuf w, w2;
		struct image_cmd d;
		errmsg_t em = "";

		encode_ok(&v[i], &w);
		ck_assert_uint_eq(w.data[0], v[i].type);
		ck_assert_uint_eq(w.data[1], IMAGE_CMD_VERSION);
		ck_assert_msg(image_cmd_decode(&d, w.data, w.len, em) == 0, "%s", em);
		ck_assert_int_eq(d.type, v[i].type);
		seen[d.type] = true;
		switch (d.type) {
		case IMAGE_CMD_REGISTER_NODE:
			ck_assert_uint_eq(d.register_node.node_id, v[i].register_node.node_id);
			ck_assert_uint_eq(d.register_node.port, v[i].register_node.port);
			ck_assert_str_eq(d.register_node.host, v[i].register_node.host);
			assert_str_eq_opt(d.register_node.rack, v[i].register_node.rack);
			assert_str_eq_opt(d.register_node.peer_host, v[i].register_node.peer_host);
			ck_assert_uint_eq(d.register_node.peer_port, v[i].register_node.peer_port);
			break;
		case IMAGE_CMD_UNREGISTER_NODE:
			ck_assert_uint_eq(d.unregister_node.node_id, 7);
			break;
		case IMAGE_CMD_CREATE_TOPIC:
			ck_assert_str_eq(d.create_topic.name, "orders");
			ck_assert_mem_eq(d.create_topic.topic_id, v[i].create_topic.topic_id, 16);
			ck_assert_int_eq(d.create_topic.partitions, 12);
			ck_assert_int_eq(d.create_topic.replication_factor, 3);
			ck_assert_uint_eq(d.create_topic.nconfigs, 2);
			ck_assert_str_eq(d.create_topic.configs[1].key, "cleanup.policy");
			ck_assert_str_eq(d.create_topic.configs[1].value, "compact");
			break;
		case IMAGE_CMD_DELETE_TOPIC:
			ck_assert_str_eq(d.delete_topic.name, "orders");
			break;
		case IMAGE_CMD_ALTER_TOPIC_CONFIG:
			ck_assert(d.alter_topic_config.replace);
			ck_assert_uint_eq(d.alter_topic_config.nops, 3);
			ck_assert_str_eq(d.alter_topic_config.ops[0].value, "1000");
			ck_assert_ptr_null(d.alter_topic_config.ops[1].value);
			ck_assert_str_eq(d.alter_topic_config.ops[1].key, "cleanup.policy");
			ck_assert_str_eq(d.alter_topic_config.ops[2].value, "");
			break;
		case IMAGE_CMD_CREATE_PARTITIONS:
			ck_assert_int_eq(d.create_partitions.partitions, 24);
			break;
		case IMAGE_CMD_REASSIGN_PARTITION:
			ck_assert_int_eq(d.reassign_partition.partition, 5);
			ck_assert_uint_eq(d.reassign_partition.nreplicas, 3);
			ck_assert_uint_eq(d.reassign_partition.replicas[0], 3);
			ck_assert_uint_eq(d.reassign_partition.replicas[2], 2);
			break;
		case IMAGE_CMD_ALLOCATE_PRODUCER_IDS:
			ck_assert_uint_eq(d.allocate_producer_ids.count, 1000);
			break;
		}
		encode_ok(&d, &w2);
		ck_assert_uint_eq(w.len, w2.len);
		ck_assert_mem_eq(w.data, w2.data, w.len);
		image_cmd_free(&d);
		wbuf_free(&w);
		wbuf_free(&w2);
	}
	for (int t = IMAGE_CMD_REGISTER_NODE; t <= IMAGE_CMD_ALLOCATE_PRODUCER_IDS; t++)
		ck_assert_msg(seen[t], "type %d not sampled", t);
}
END_TEST

/* Every proper prefix of every command is rejected, by the decoder and by apply, which then
 * leaves the image as it was. */
START_TEST(test_image_cmd_decode_rejects_every_truncation)
{
	struct image_cmd v[SAMPLES_MAX];
	int n = sample_cmds(v);
	struct fx f;

	fx_init(&f);
	fx_nodes(&f, 3, NULL);
	for (int i = 0; i < n; i++) {
		struct wbuf w, before = snap(&f.im);
		encode_ok(&v[i], &w);
		for (size_t len = 0; len < w.len; len++) {
			struct image_cmd d;
			struct image_result res;
			errmsg_t em = "";
			/* A heap copy of exactly `len` bytes: ASan sees any read past the end. */
			uint8_t *p = malloc(len + (len == 0));
			memcpy(p, w.data, len);
			int rv = image_cmd_decode(&d, p, len, em);
			if (rv != SLUICE_EMALFORMED)
				ck_abort_msg("type %d cut at %zu: %s", v[i].type, len,
					     err_name(rv));
			require(d.mem == NULL);
			require(em[0] != '\0');
			require(image_apply(&f.im, ++f.index, p, len, &res) == SLUICE_EMALFORMED);
			require(res.type == 0);
			free(p);
		}
		require(snap_same(&before, &f.im));
		wbuf_free(&w);
		wbuf_free(&before);
	}
	image_free(&f.im);
}
END_TEST

/* Random bit and byte flips in commands never crash or leak; what still decodes re-encodes to
 * the same bytes (or, when the version became 1, to their version 2 form), and applying it
 * either succeeds or leaves the image unchanged. */
START_TEST(test_image_cmd_decode_survives_random_flips)
{
	struct image_cmd v[SAMPLES_MAX];
	int n = sample_cmds(v);
	struct fx f;

	rng_seed(7);
	for (int i = 0; i < n; i++) {
		struct wbuf w;
		encode_ok(&v[i], &w);
		for (int iter = 0; iter < 3000; iter++) {
			uint8_t *p;
			/* A small image with a topic for the mutants to find: mutated partition
			 * counts grow it, and checking a large one each time would be slow. */
			if (iter == 0 || f.im.npartitions_total > 64) {
				if (iter != 0)
					image_free(&f.im);
				fx_init(&f);
				fx_nodes(&f, 3, NULL);
				struct image_cmd t = cmd_create(&f, "orders", 3, 3);
				require(fx_apply(&f, &t, NULL) == 0);
			}
			p = malloc(w.len);
			struct image_cmd d;
			errmsg_t em = "";
			memcpy(p, w.data, w.len);
			for (uint32_t k = 0, flips = 1 + below(3); k < flips; k++) {
				size_t at = below((uint32_t)w.len);
				if (below(2) == 0)
					p[at] ^= (uint8_t)(1u << below(8));
				else
					p[at] = (uint8_t)rnd();
			}
			int rv = image_cmd_decode(&d, p, w.len, em);
			if (rv == 0) {
				struct wbuf w2, before = snap(&f.im);
				struct image_result res;
				encode_ok(&d, &w2);
				if (p[1] == 1) {
					struct wbuf up = cmd_v1_to_v2(p, w.len);
					require(w2.len == up.len);
					require(memcmp(w2.data, up.data, up.len) == 0);
					wbuf_free(&up);
				} else {
					require(w2.len == w.len);
					require(memcmp(w2.data, p, w.len) == 0);
				}
				wbuf_free(&w2);
				rv = image_apply_cmd(&f.im, ++f.index, &d, &res);
				require(rv != SLUICE_ENOMEM);
				if (rv != 0)
					require(snap_same(&before, &f.im));
				require(image_invariants(&f.im));
				wbuf_free(&before);
				image_cmd_free(&d);
			} else {
				if (rv != SLUICE_EMALFORMED && rv != SLUICE_EVERSION)
					ck_abort_msg("%s", err_name(rv));
				require(d.mem == NULL);
			}
			free(p);
		}
		wbuf_free(&w);
		image_free(&f.im);
	}
}
END_TEST

/* Unknown types and versions say so (SLUICE_EVERSION); structural faults are malformed. */
START_TEST(test_image_cmd_decode_rejects_unknown_and_malformed)
{
	struct image_cmd d;
	struct wbuf w;
	struct image_cmd c = cmd_register(1, "h1", 9092, "r");
	uint8_t buf[64];

	encode_ok(&c, &w);
	ck_assert_uint_lt(w.len + 1, sizeof buf);
	memcpy(buf, w.data, w.len);
	buf[0] = 0;
	ck_assert_int_eq(image_cmd_decode(&d, buf, w.len, NULL), SLUICE_EVERSION);
	buf[0] = 99;
	ck_assert_int_eq(image_cmd_decode(&d, buf, w.len, NULL), SLUICE_EVERSION);
	buf[0] = IMAGE_CMD_REGISTER_NODE;
	buf[1] = IMAGE_CMD_VERSION + 1;
	ck_assert_int_eq(image_cmd_decode(&d, buf, w.len, NULL), SLUICE_EVERSION);
	buf[1] = IMAGE_CMD_VERSION_MIN - 1;
	ck_assert_int_eq(image_cmd_decode(&d, buf, w.len, NULL), SLUICE_EVERSION);
	buf[1] = IMAGE_CMD_VERSION;
	buf[w.len] = 0;
	ck_assert_int_eq(image_cmd_decode(&d, buf, w.len + 1, NULL), SLUICE_EMALFORMED);
	/* A NUL inside the host (offset 2 + 4 + 2 + 2 is its first byte). */
	buf[10] = 0;
	ck_assert_int_eq(image_cmd_decode(&d, buf, w.len, NULL), SLUICE_EMALFORMED);
	wbuf_free(&w);

	/* ALTER flags other than bit 0, and a count above the limit. */
	c = cmd_named(IMAGE_CMD_ALTER_TOPIC_CONFIG, "t");
	encode_ok(&c, &w);
	memcpy(buf, w.data, w.len);
	buf[2 + 2 + 1] = 2;
	ck_assert_int_eq(image_cmd_decode(&d, buf, w.len, NULL), SLUICE_EMALFORMED);
	buf[2 + 2 + 1] = 0;
	be16_put(buf + 2 + 2 + 1 + 1, TOPICDEF_CONFIGS_MAX + 1);
	ck_assert_int_eq(image_cmd_decode(&d, buf, w.len, NULL), SLUICE_EMALFORMED);
	wbuf_free(&w);

	/* A replica count above IMAGE_REPLICAS_MAX. */
	c = cmd_named(IMAGE_CMD_REASSIGN_PARTITION, "t");
	encode_ok(&c, &w);
	memcpy(buf, w.data, w.len);
	buf[2 + 2 + 1 + 4] = IMAGE_REPLICAS_MAX + 1;
	ck_assert_int_eq(image_cmd_decode(&d, buf, w.len, NULL), SLUICE_EMALFORMED);
	wbuf_free(&w);

	ck_assert_int_eq(image_cmd_decode(&d, buf, 1, NULL), SLUICE_EMALFORMED);
	ck_assert_int_eq(image_cmd_decode(&d, buf, IMAGE_CMD_BYTES_MAX + 1, NULL),
			 SLUICE_EMALFORMED);
}
END_TEST

/* The encoder refuses what its format cannot carry, before writing anything. */
START_TEST(test_image_cmd_encode_rejects_what_it_cannot_carry)
{
	char longname[TOPICDEF_NAME_BYTES_MAX + 2];
	char longhost[IMAGE_HOST_BYTES_MAX + 2];
	struct image_cmd c;
	struct wbuf w;
	errmsg_t em = "";

	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	memset(longhost, 'h', sizeof longhost - 1);
	longhost[sizeof longhost - 1] = '\0';
	wbuf_init(&w);
	c = cmd_named(IMAGE_CMD_DELETE_TOPIC, longname);
	ck_assert_int_eq(image_cmd_encode(&c, &w, em), SLUICE_EINVAL);
	ck_assert(em[0] != '\0');
	c = cmd_named(IMAGE_CMD_DELETE_TOPIC, NULL);
	ck_assert_int_eq(image_cmd_encode(&c, &w, NULL), SLUICE_EINVAL);
	c = cmd_register(1, "h", 1, "");
	ck_assert_int_eq(image_cmd_encode(&c, &w, NULL), SLUICE_EINVAL);
	c = cmd_register(1, NULL, 1, NULL);
	ck_assert_int_eq(image_cmd_encode(&c, &w, NULL), SLUICE_EINVAL);
	/* "" would decode as "no peer host", and a host past the limit would not decode. */
	c = cmd_register_peer(1, "h", 1, NULL, "", 2);
	ck_assert_int_eq(image_cmd_encode(&c, &w, em), SLUICE_EINVAL);
	ck_assert_ptr_nonnull(strstr(em, "peer host"));
	c = cmd_register_peer(1, "h", 1, NULL, longhost, 2);
	ck_assert_int_eq(image_cmd_encode(&c, &w, NULL), SLUICE_EINVAL);
	c = cmd_named(IMAGE_CMD_REASSIGN_PARTITION, "t");
	c.reassign_partition.nreplicas = IMAGE_REPLICAS_MAX + 1;
	ck_assert_int_eq(image_cmd_encode(&c, &w, NULL), SLUICE_EINVAL);
	c = cmd_named(IMAGE_CMD_ALTER_TOPIC_CONFIG, "t");
	c.alter_topic_config.nops = TOPICDEF_CONFIGS_MAX + 1;
	ck_assert_int_eq(image_cmd_encode(&c, &w, NULL), SLUICE_EINVAL);
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(image_cmd_encode(&c, &w, NULL), SLUICE_EINVAL);
	ck_assert_uint_eq(w.len, 0);
	wbuf_free(&w);
}
END_TEST

/* The largest command the limits allow encodes within IMAGE_CMD_BYTES_MAX and decodes. */
START_TEST(test_image_cmd_largest_create_topic_fits)
{
	static char key[TOPICDEF_CONFIG_KEY_BYTES_MAX + 1],
		val[TOPICDEF_CONFIG_VALUE_BYTES_MAX + 1];
	char name[TOPICDEF_NAME_BYTES_MAX + 1];
	struct fx f;
	struct image_cmd c, d;
	struct wbuf w;

	fx_init(&f);
	memset(key, 'k', sizeof key - 1);
	memset(val, 'v', sizeof val - 1);
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	c = cmd_create(&f, name, 1, 1);
	c.create_topic.nconfigs = TOPICDEF_CONFIGS_MAX;
	for (int i = 0; i < TOPICDEF_CONFIGS_MAX; i++)
		c.create_topic.configs[i] = (struct image_cmd_config){ key, val };
	encode_ok(&c, &w);
	ck_assert_uint_le(w.len, IMAGE_CMD_BYTES_MAX);
	ck_assert_int_eq(image_cmd_decode(&d, w.data, w.len, NULL), 0);
	image_cmd_free(&d);
	wbuf_free(&w);
	image_free(&f.im);
}
END_TEST

/* A REGISTER_NODE in encoding `version` up to its rack (NULL: none), written from the format
 * table in image.c rather than by image_cmd_encode: all of version 1, the start of version 2. */
static void reg_head(struct wbuf *w, uint8_t version, uint32_t id, uint16_t port, const char *host,
		     const char *rack)
{
	wbuf_init(w);
	wbuf_u8(w, IMAGE_CMD_REGISTER_NODE);
	wbuf_u8(w, version);
	wbuf_be32(w, id);
	wbuf_be16(w, port);
	wbuf_be16(w, (uint16_t)strlen(host));
	wbuf_put(w, host, strlen(host));
	wbuf_be16(w, rack != NULL ? (uint16_t)strlen(rack) : 0);
	if (rack != NULL)
		wbuf_put(w, rack, strlen(rack));
	require(!w->oom);
}

/* Version 1 commands, written byte by byte from the format table, still decode: a
 * REGISTER_NODE without a peer address (and nothing after its rack), every other type as in
 * version 2; each re-encodes as version 2. Applied, a version 1 registration states "no peer
 * address" and so removes one the node had. */
START_TEST(test_image_cmd_version_1_still_decodes)
{
	struct image_cmd v[SAMPLES_MAX], d, c;
	int n = sample_cmds(v);
	struct wbuf v1, w, up;
	struct fx f;
	errmsg_t em = "";
	const struct image_node *node;

	reg_head(&v1, 1, 5, 9092, "h5", "r");
	ck_assert_msg(image_cmd_decode(&d, v1.data, v1.len, em) == 0, "%s", em);
	ck_assert_int_eq(d.type, IMAGE_CMD_REGISTER_NODE);
	ck_assert_uint_eq(d.register_node.node_id, 5);
	ck_assert_uint_eq(d.register_node.port, 9092);
	ck_assert_str_eq(d.register_node.host, "h5");
	ck_assert_str_eq(d.register_node.rack, "r");
	ck_assert_ptr_null(d.register_node.peer_host);
	ck_assert_uint_eq(d.register_node.peer_port, 0);
	encode_ok(&d, &w);
	up = cmd_v1_to_v2(v1.data, v1.len);
	ck_assert_uint_eq(w.len, up.len);
	ck_assert_mem_eq(w.data, up.data, up.len);
	ck_assert_uint_eq(w.data[1], IMAGE_CMD_VERSION);
	image_cmd_free(&d);
	wbuf_free(&w);
	wbuf_free(&up);
	/* Version 1 has no peer fields: a peer address after the rack is trailing garbage. */
	reg_head(&w, 1, 5, 9092, "h5", NULL);
	wbuf_be16(&w, 19093);
	wbuf_be16(&w, 1);
	wbuf_put(&w, "p", 1);
	ck_assert_int_eq(image_cmd_decode(&d, w.data, w.len, NULL), SLUICE_EMALFORMED);
	wbuf_free(&w);

	/* Every sample without a peer address, taken back to version 1. */
	for (int i = 0; i < n; i++) {
		if (v[i].type == IMAGE_CMD_REGISTER_NODE && v[i].register_node.peer_host != NULL)
			continue;
		struct wbuf old;
		encode_ok(&v[i], &w);
		wbuf_init(&old);
		wbuf_put(&old, w.data, w.len);
		old.data[1] = 1;
		if (v[i].type == IMAGE_CMD_REGISTER_NODE) {
			static const uint8_t none[4] = { 0 };
			ck_assert_mem_eq(old.data + old.len - 4, none, 4);
			old.len -= 4;
		}
		ck_assert_msg(image_cmd_decode(&d, old.data, old.len, em) == 0, "type %d: %s",
			      v[i].type, em);
		encode_ok(&d, &up);
		ck_assert_uint_eq(up.len, w.len);
		ck_assert_mem_eq(up.data, w.data, w.len);
		image_cmd_free(&d);
		wbuf_free(&up);
		wbuf_free(&old);
		wbuf_free(&w);
	}

	/* An old node re-registering replaces the whole address, peer included. */
	fx_init(&f);
	c = cmd_register_peer(5, "h5", 9092, NULL, "p5", 19092);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	ck_assert_str_eq(image_node_find(&f.im, 5)->peer_host, "p5");
	ck_assert_int_eq(image_apply(&f.im, ++f.index, v1.data, v1.len, NULL), 0);
	node = image_node_find(&f.im, 5);
	ck_assert_ptr_null(node->peer_host);
	ck_assert_uint_eq(node->peer_port, 0);
	ck_assert_str_eq(node->rack, "r");
	ck_assert(image_invariants(&f.im));
	wbuf_free(&v1);
	image_free(&f.im);
}
END_TEST

/* The decoder bounds and checks the peer fields like the other strings: a peer host past
 * IMAGE_HOST_BYTES_MAX, one with a NUL, and any cut inside the peer fields are malformed. One
 * half of a peer address is well formed bytes, so it decodes, and apply refuses it. */
START_TEST(test_image_cmd_decode_checks_peer_fields)
{
	char host[IMAGE_HOST_BYTES_MAX + 1];
	struct image_cmd d;
	struct image_result res;
	struct wbuf w;
	struct fx f;
	size_t peer_at;

	memset(host, 'p', sizeof host);
	/* IMAGE_HOST_BYTES_MAX decodes; one more byte does not. */
	reg_head(&w, IMAGE_CMD_VERSION, 5, 9092, "h5", NULL);
	wbuf_be16(&w, 19092);
	wbuf_be16(&w, IMAGE_HOST_BYTES_MAX);
	wbuf_put(&w, host, IMAGE_HOST_BYTES_MAX);
	ck_assert_int_eq(image_cmd_decode(&d, w.data, w.len, NULL), 0);
	ck_assert_uint_eq(strlen(d.register_node.peer_host), IMAGE_HOST_BYTES_MAX);
	image_cmd_free(&d);
	wbuf_free(&w);
	reg_head(&w, IMAGE_CMD_VERSION, 5, 9092, "h5", NULL);
	wbuf_be16(&w, 19092);
	wbuf_be16(&w, IMAGE_HOST_BYTES_MAX + 1);
	wbuf_put(&w, host, IMAGE_HOST_BYTES_MAX + 1);
	ck_assert_int_eq(image_cmd_decode(&d, w.data, w.len, NULL), SLUICE_EMALFORMED);
	ck_assert_ptr_null(d.mem);
	wbuf_free(&w);

	/* A NUL in the peer host; then every cut from the start of peer_port on. */
	reg_head(&w, IMAGE_CMD_VERSION, 5, 9092, "h5", NULL);
	peer_at = w.len;
	wbuf_be16(&w, 19092);
	wbuf_be16(&w, 3);
	wbuf_put(&w, "p\0p", 3);
	ck_assert_int_eq(image_cmd_decode(&d, w.data, w.len, NULL), SLUICE_EMALFORMED);
	w.data[w.len - 2] = 'x';
	ck_assert_int_eq(image_cmd_decode(&d, w.data, w.len, NULL), 0);
	ck_assert_str_eq(d.register_node.peer_host, "pxp");
	image_cmd_free(&d);
	for (size_t len = peer_at; len < w.len; len++) {
		uint8_t *p = malloc(len); /* exactly len bytes: ASan sees overreads */
		memcpy(p, w.data, len);
		ck_assert_int_eq(image_cmd_decode(&d, p, len, NULL), SLUICE_EMALFORMED);
		free(p);
	}
	wbuf_free(&w);

	/* A peer port without a host, and a host with port 0: apply names the missing half. */
	fx_init(&f);
	reg_head(&w, IMAGE_CMD_VERSION, 5, 9092, "h5", NULL);
	wbuf_be16(&w, 19092);
	wbuf_be16(&w, 0);
	ck_assert_int_eq(image_cmd_decode(&d, w.data, w.len, NULL), 0);
	ck_assert_ptr_null(d.register_node.peer_host);
	ck_assert_uint_eq(d.register_node.peer_port, 19092);
	image_cmd_free(&d);
	ck_assert_int_eq(image_apply(&f.im, ++f.index, w.data, w.len, &res), SLUICE_EINVAL);
	ck_assert_int_eq(res.field, IMAGE_FIELD_PEER_HOST);
	wbuf_free(&w);
	reg_head(&w, IMAGE_CMD_VERSION, 5, 9092, "h5", NULL);
	wbuf_be16(&w, 0);
	wbuf_be16(&w, 1);
	wbuf_put(&w, "p", 1);
	ck_assert_int_eq(image_apply(&f.im, ++f.index, w.data, w.len, &res), SLUICE_EINVAL);
	ck_assert_int_eq(res.field, IMAGE_FIELD_PEER_PORT);
	wbuf_free(&w);
	ck_assert_uint_eq(f.im.nnodes, 0);
	ck_assert_uint_eq(f.im.generation, 0);
	image_free(&f.im);
}
END_TEST

/* ---- apply ---- */

/* Nodes are kept sorted by id; re-registering updates the address; unregistering keeps the
 * node but marks it. */
START_TEST(test_image_register_node_adds_updates_and_unregisters)
{
	struct fx f;
	struct image_cmd c;
	const struct image_node *n;

	fx_init(&f);
	c = cmd_register(3, "h3", 9003, NULL);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_register(1, "h1", 9001, "east");
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_register(2, "h2", 9002, NULL);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	ck_assert_uint_eq(f.im.nnodes, 3);
	for (uint32_t i = 0; i < 3; i++)
		ck_assert_uint_eq(f.im.nodes[i].id, i + 1);
	ck_assert_uint_eq(image_nodes_registered(&f.im), 3);
	n = image_node_find(&f.im, 1);
	ck_assert_str_eq(n->host, "h1");
	ck_assert_uint_eq(n->port, 9001);
	ck_assert_str_eq(n->rack, "east");
	ck_assert_ptr_null(image_node_find(&f.im, 4));

	c = cmd_register(1, "new-h1", 9101, NULL);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	n = image_node_find(&f.im, 1);
	ck_assert_str_eq(n->host, "new-h1");
	ck_assert_uint_eq(n->port, 9101);
	ck_assert_ptr_null(n->rack);
	ck_assert_uint_eq(n->changed_gen, f.im.generation);

	c = cmd_unregister(2);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	ck_assert(!image_node_find(&f.im, 2)->registered);
	ck_assert_uint_eq(image_nodes_registered(&f.im), 2);
	c = cmd_register(2, "h2", 9002, NULL);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	ck_assert(image_node_find(&f.im, 2)->registered);

	c = cmd_unregister(9);
	expect_reject(&f, &c, SLUICE_ENOTFOUND, IMAGE_FIELD_NODE_ID);
	ck_assert_uint_eq(f.im.generation, 6);
	ck_assert(image_invariants(&f.im));
	image_free(&f.im);
}
END_TEST

/* A registration records the node's peer address; a re-registration replaces it with the new
 * one, or removes it when the new command has none; other nodes keep theirs. */
START_TEST(test_image_register_node_records_and_replaces_peer_address)
{
	struct fx f;
	struct image_cmd c;
	const struct image_node *n;

	fx_init(&f);
	c = cmd_register_peer(4, "broker-4", 9092, "east", "peer-4.internal", 19092);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_register_peer(2, "broker-2", 9092, NULL, "10.0.0.2", 7000);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_register(3, "broker-3", 9092, NULL);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	n = image_node_find(&f.im, 4);
	ck_assert_str_eq(n->peer_host, "peer-4.internal");
	ck_assert_uint_eq(n->peer_port, 19092);
	ck_assert_str_eq(n->host, "broker-4");
	ck_assert_str_eq(n->rack, "east");
	n = image_node_find(&f.im, 3);
	ck_assert_ptr_null(n->peer_host);
	ck_assert_uint_eq(n->peer_port, 0);

	/* Moved to another peer listener. */
	c = cmd_register_peer(4, "broker-4", 9092, "east", "peer-4b.internal", 19093);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	n = image_node_find(&f.im, 4);
	ck_assert_str_eq(n->peer_host, "peer-4b.internal");
	ck_assert_uint_eq(n->peer_port, 19093);
	ck_assert_uint_eq(n->changed_gen, f.im.generation);

	/* Registered again without one: the peer address goes. */
	c = cmd_register(4, "broker-4", 9092, "east");
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	n = image_node_find(&f.im, 4);
	ck_assert_ptr_null(n->peer_host);
	ck_assert_uint_eq(n->peer_port, 0);
	ck_assert_uint_eq(n->changed_gen, f.im.generation);

	/* A node that had none gains one; unregistering keeps the address with the node. */
	c = cmd_register_peer(3, "broker-3", 9092, NULL, "broker-3", 9093);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_unregister(3);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	n = image_node_find(&f.im, 3);
	ck_assert(!n->registered);
	ck_assert_str_eq(n->peer_host, "broker-3");
	ck_assert_uint_eq(n->peer_port, 9093);
	n = image_node_find(&f.im, 2);
	ck_assert_str_eq(n->peer_host, "10.0.0.2");
	ck_assert_uint_eq(n->peer_port, 7000);
	ck_assert(image_invariants(&f.im));
	image_free(&f.im);
}
END_TEST

/* Bad node ids, hosts, ports, racks and peer addresses are refused, naming the field. */
START_TEST(test_image_register_node_rejects_bad_fields)
{
	char longhost[IMAGE_HOST_BYTES_MAX + 2];
	struct fx f;
	struct image_cmd c;
	struct image_result res;

	fx_init(&f);
	fx_nodes(&f, 1, NULL);
	c = cmd_register(0, "h", 1, NULL);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_NODE_ID);
	c = cmd_register((uint32_t)INT32_MAX + 1, "h", 1, NULL);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_NODE_ID);
	c = cmd_register(2, "", 1, NULL);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_HOST);
	c = cmd_register(2, "a host", 1, NULL);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_HOST);
	c = cmd_register(2, "h", 0, NULL);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_PORT);
	c = cmd_register(2, "h", 1, "r\t1");
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_RACK);
	/* A peer address is both halves or neither, and its host is a host. */
	c = cmd_register_peer(2, "h", 1, NULL, "p", 0);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_PEER_PORT);
	c = cmd_register_peer(2, "h", 1, NULL, NULL, 2);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_PEER_HOST);
	c = cmd_register_peer(2, "h", 1, NULL, "a host", 2);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_PEER_HOST);
	c = cmd_register_peer(2, "h", 1, NULL, "p\x7f", 2);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_PEER_HOST);
	/* Too long for the encoding too (see the encoder test), so only a check can see it. */
	memset(longhost, 'p', sizeof longhost - 1);
	longhost[sizeof longhost - 1] = '\0';
	c = cmd_register_peer(2, "h", 1, NULL, longhost, 2);
	ck_assert_int_eq(image_check(&f.im, &c, &res), SLUICE_EINVAL);
	ck_assert_int_eq(res.field, IMAGE_FIELD_PEER_HOST);
	ck_assert_ptr_nonnull(strstr(res.errmsg, "peer host"));
	longhost[IMAGE_HOST_BYTES_MAX] = '\0';
	ck_assert_int_eq(image_check(&f.im, &c, &res), 0);
	/* A re-registration with a bad address keeps the old one. */
	c = cmd_register_peer(1, "h1", 9001, NULL, "p1", 19001);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_register(1, "h", 0, NULL);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_PORT);
	c = cmd_register_peer(1, "h", 1, NULL, "p", 0);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_PEER_PORT);
	ck_assert_str_eq(image_node_find(&f.im, 1)->host, "h1");
	ck_assert_str_eq(image_node_find(&f.im, 1)->peer_host, "p1");
	ck_assert_uint_eq(image_node_find(&f.im, 1)->peer_port, 19001);
	image_free(&f.im);
}
END_TEST

/* A topic gets consecutive new group ids, distinct registered replicas per partition, and its
 * configs sorted with the last value of a repeated key. */
START_TEST(test_image_create_topic_places_and_numbers_groups)
{
	struct fx f;
	struct image_cmd c;
	struct image_result res;
	const struct image_topic *t;

	fx_init(&f);
	fx_nodes(&f, 3, NULL);
	c = cmd_create(&f, "orders", 6, 3);
	c.create_topic.nconfigs = 3;
	c.create_topic.configs[0] = (struct image_cmd_config){ "retention.ms", "1000" };
	c.create_topic.configs[1] = (struct image_cmd_config){ "cleanup.policy", "compact" };
	c.create_topic.configs[2] = (struct image_cmd_config){ "retention.ms", "2000" };
	ck_assert_int_eq(fx_apply(&f, &c, &res), 0);
	ck_assert_int_eq(res.type, IMAGE_CMD_CREATE_TOPIC);
	ck_assert_uint_eq(res.group_id_first, IMAGE_GROUP_ID_FIRST);

	t = image_topic_find(&f.im, "orders", 6);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_eq(image_topic_find_id(&f.im, c.create_topic.topic_id), t);
	ck_assert_ptr_null(image_topic_find(&f.im, "order", 5));
	ck_assert_int_eq(t->npartitions, 6);
	ck_assert_int_eq(t->replication_factor, 3);
	ck_assert_uint_eq(t->nconfigs, 2);
	ck_assert_str_eq(t->configs[0].key, "cleanup.policy");
	ck_assert_str_eq(image_topic_config_get(t, "retention.ms"), "2000");
	ck_assert_ptr_null(image_topic_config_get(t, "segment.bytes"));
	for (int32_t p = 0; p < 6; p++) {
		const struct image_partition *pp = image_partition_get(t, p);
		ck_assert_uint_eq(pp->group_id, IMAGE_GROUP_ID_FIRST + (uint64_t)p);
		ck_assert_uint_eq(pp->nreplicas, 3);
		for (int i = 0; i < 3; i++) {
			ck_assert_ptr_nonnull(image_node_find(&f.im, pp->replicas[i]));
			for (int j = 0; j < i; j++)
				ck_assert_uint_ne(pp->replicas[i], pp->replicas[j]);
		}
	}
	ck_assert_ptr_null(image_partition_get(t, 6));
	ck_assert_ptr_null(image_partition_get(t, -1));

	c = cmd_create(&f, "audit", 2, 1);
	ck_assert_int_eq(fx_apply(&f, &c, &res), 0);
	ck_assert_uint_eq(res.group_id_first, IMAGE_GROUP_ID_FIRST + 6);
	ck_assert_uint_eq(f.im.npartitions_total, 8);
	ck_assert_str_eq(f.im.topics[0]->name, "audit"); /* sorted by name */
	ck_assert(image_invariants(&f.im));
	image_free(&f.im);
}
END_TEST

/* Each way a CreateTopics can be wrong gets its own code and field, and changes nothing. */
START_TEST(test_image_create_topic_rejections_leave_image_unchanged)
{
	struct fx f;
	struct image_cmd c;
	uint8_t taken[16];

	fx_init(&f);
	fx_nodes(&f, 3, NULL);
	c = cmd_create(&f, "orders", 3, 2);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	memcpy(taken, c.create_topic.topic_id, 16);

	c = cmd_create(&f, "orders", 3, 2);
	expect_reject(&f, &c, SLUICE_EEXIST, IMAGE_FIELD_TOPIC_NAME);
	c = cmd_create(&f, "other", 3, 2);
	memcpy(c.create_topic.topic_id, taken, 16);
	expect_reject(&f, &c, SLUICE_EEXIST, IMAGE_FIELD_TOPIC_ID);
	memset(c.create_topic.topic_id, 0, 16);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_TOPIC_ID);
	c = cmd_create(&f, "..", 3, 2);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_TOPIC_NAME);
	c = cmd_create(&f, "a/b", 3, 2);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_TOPIC_NAME);
	c = cmd_create(&f, "", 3, 2);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_TOPIC_NAME);
	c = cmd_create(&f, "other", 0, 2);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_PARTITIONS);
	c = cmd_create(&f, "other", TOPICDEF_PARTITIONS_MAX + 1, 2);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_PARTITIONS);
	c = cmd_create(&f, "other", -1, 2);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_PARTITIONS);
	c = cmd_create(&f, "other", 3, 0);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_REPLICATION_FACTOR);
	c = cmd_create(&f, "other", 3, IMAGE_REPLICAS_MAX + 1);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_REPLICATION_FACTOR);
	c = cmd_create(&f, "other", 3, 4);
	expect_reject(&f, &c, SLUICE_ENOREPLICAS, IMAGE_FIELD_REPLICATION_FACTOR);
	c = cmd_create(&f, "other", 3, 2);
	c.create_topic.nconfigs = 1;
	c.create_topic.configs[0] = (struct image_cmd_config){ "retention.ms", "soon" };
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_CONFIG);
	c.create_topic.configs[0] = (struct image_cmd_config){ "no.such.key", "1" };
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_CONFIG);

	/* Unregistered nodes do not count towards the replication factor. */
	c = cmd_unregister(3);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_create(&f, "other", 3, 3);
	expect_reject(&f, &c, SLUICE_ENOREPLICAS, IMAGE_FIELD_REPLICATION_FACTOR);
	ck_assert_uint_eq(f.im.generation, 5);
	ck_assert_uint_eq(f.im.ntopics, 1);
	image_free(&f.im);
}
END_TEST

/* Deleting frees the name, but a topic created again under it gets new group ids and its old
 * ones are never handed out again. */
START_TEST(test_image_delete_topic_frees_name_but_never_group_ids)
{
	struct fx f;
	struct image_cmd c;
	struct image_result res;

	fx_init(&f);
	fx_nodes(&f, 3, NULL);
	c = cmd_create(&f, "orders", 4, 3);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_named(IMAGE_CMD_DELETE_TOPIC, "orders");
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	ck_assert_ptr_null(image_topic_find(&f.im, "orders", 6));
	ck_assert_uint_eq(f.im.ntopics, 0);
	ck_assert_uint_eq(f.im.npartitions_total, 0);
	expect_reject(&f, &c, SLUICE_ENOTFOUND, IMAGE_FIELD_TOPIC_NAME);
	c = cmd_create(&f, "orders", 2, 3);
	ck_assert_int_eq(fx_apply(&f, &c, &res), 0);
	ck_assert_uint_eq(res.group_id_first, IMAGE_GROUP_ID_FIRST + 4);
	ck_assert_uint_eq(image_topic_find(&f.im, "orders", 6)->partitions[0].group_id,
			  IMAGE_GROUP_ID_FIRST + 4);
	ck_assert(image_invariants(&f.im));
	image_free(&f.im);
}
END_TEST

/* Incremental changes set and delete keys; replace starts from nothing; a bad change leaves
 * every config as it was. */
START_TEST(test_image_alter_topic_config_sets_deletes_and_replaces)
{
	struct fx f;
	struct image_cmd c;
	const struct image_topic *t;

	fx_init(&f);
	fx_nodes(&f, 1, NULL);
	c = cmd_create(&f, "t", 1, 1);
	c.create_topic.nconfigs = 1;
	c.create_topic.configs[0] = (struct image_cmd_config){ "retention.ms", "1000" };
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);

	c = cmd_named(IMAGE_CMD_ALTER_TOPIC_CONFIG, "t");
	c.alter_topic_config.nops = 3;
	c.alter_topic_config.ops[0] = (struct image_cmd_config){ "segment.bytes", "4096" };
	c.alter_topic_config.ops[1] = (struct image_cmd_config){ "retention.ms", NULL };
	c.alter_topic_config.ops[2] = (struct image_cmd_config){ "cleanup.policy", "compact" };
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	t = image_topic_find(&f.im, "t", 1);
	ck_assert_uint_eq(t->nconfigs, 2);
	ck_assert_str_eq(t->configs[0].key, "cleanup.policy");
	ck_assert_str_eq(t->configs[1].value, "4096");
	ck_assert_ptr_null(image_topic_config_get(t, "retention.ms"));
	ck_assert_uint_eq(t->changed_gen, f.im.generation);

	c.alter_topic_config.nops = 1;
	c.alter_topic_config.ops[0] = (struct image_cmd_config){ "segment.bytes", "1" };
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_CONFIG);
	c.alter_topic_config.ops[0] = (struct image_cmd_config){ "no.such.key", NULL };
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_CONFIG);

	c.alter_topic_config.replace = true;
	c.alter_topic_config.ops[0] = (struct image_cmd_config){ "retention.bytes", "-1" };
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	t = image_topic_find(&f.im, "t", 1);
	ck_assert_uint_eq(t->nconfigs, 1);
	ck_assert_str_eq(image_topic_config_get(t, "retention.bytes"), "-1");

	c.alter_topic_config.nops = 0;
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	ck_assert_uint_eq(image_topic_find(&f.im, "t", 1)->nconfigs, 0);

	c = cmd_named(IMAGE_CMD_ALTER_TOPIC_CONFIG, "nope");
	expect_reject(&f, &c, SLUICE_ENOTFOUND, IMAGE_FIELD_TOPIC_NAME);
	ck_assert(image_invariants(&f.im));
	image_free(&f.im);
}
END_TEST

/* New partitions get new groups and placements; the old ones keep theirs. */
START_TEST(test_image_create_partitions_adds_new_groups)
{
	struct fx f;
	struct image_cmd c;
	struct image_result res;
	struct image_partition old[3];
	const struct image_topic *t;

	fx_init(&f);
	fx_nodes(&f, 3, NULL);
	c = cmd_create(&f, "t", 3, 2);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_create(&f, "u", 1, 1);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	memcpy(old, image_topic_find(&f.im, "t", 1)->partitions, sizeof old);

	c = cmd_named(IMAGE_CMD_CREATE_PARTITIONS, "t");
	c.create_partitions.partitions = 5;
	ck_assert_int_eq(fx_apply(&f, &c, &res), 0);
	ck_assert_uint_eq(res.group_id_first, IMAGE_GROUP_ID_FIRST + 4);
	t = image_topic_find(&f.im, "t", 1);
	ck_assert_int_eq(t->npartitions, 5);
	ck_assert_mem_eq(t->partitions, old, sizeof old);
	ck_assert_uint_eq(t->partitions[4].group_id, IMAGE_GROUP_ID_FIRST + 5);
	ck_assert_uint_eq(t->partitions[4].nreplicas, 2);
	ck_assert_uint_eq(f.im.npartitions_total, 6);

	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_PARTITIONS);
	c.create_partitions.partitions = 2;
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_PARTITIONS);
	c.create_partitions.partitions = TOPICDEF_PARTITIONS_MAX + 1;
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_PARTITIONS);
	c = cmd_unregister(1);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_unregister(2);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_named(IMAGE_CMD_CREATE_PARTITIONS, "t");
	c.create_partitions.partitions = 6;
	expect_reject(&f, &c, SLUICE_ENOREPLICAS, IMAGE_FIELD_REPLICATION_FACTOR);
	c = cmd_named(IMAGE_CMD_CREATE_PARTITIONS, "nope");
	c.create_partitions.partitions = 6;
	expect_reject(&f, &c, SLUICE_ENOTFOUND, IMAGE_FIELD_TOPIC_NAME);
	ck_assert(image_invariants(&f.im));
	image_free(&f.im);
}
END_TEST

/* A reassignment replaces the replica list (its first entry leads) and keeps the Raft group;
 * lists with unknown, unregistered or repeated nodes are refused. */
START_TEST(test_image_reassign_partition_keeps_group_id)
{
	struct fx f;
	struct image_cmd c;
	const struct image_partition *p;
	uint64_t group;

	fx_init(&f);
	fx_nodes(&f, 4, NULL);
	c = cmd_create(&f, "t", 2, 3);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	group = image_topic_find(&f.im, "t", 1)->partitions[1].group_id;

	c = cmd_named(IMAGE_CMD_REASSIGN_PARTITION, "t");
	c.reassign_partition.partition = 1;
	c.reassign_partition.nreplicas = 2;
	c.reassign_partition.replicas[0] = 4;
	c.reassign_partition.replicas[1] = 2;
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	p = image_partition_get(image_topic_find(&f.im, "t", 1), 1);
	ck_assert_uint_eq(p->group_id, group);
	ck_assert_uint_eq(p->nreplicas, 2);
	ck_assert_uint_eq(p->replicas[0], 4);
	ck_assert_uint_eq(p->replicas[1], 2);
	ck_assert_uint_eq(p->changed_gen, f.im.generation);
	ck_assert_uint_eq(image_topic_find(&f.im, "t", 1)->changed_gen, f.im.generation);

	c.reassign_partition.replicas[1] = 4;
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_REPLICAS);
	c.reassign_partition.replicas[1] = 5;
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_REPLICAS);
	c.reassign_partition.nreplicas = 0;
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_REPLICAS);
	c.reassign_partition.nreplicas = 1;
	c.reassign_partition.partition = 2;
	expect_reject(&f, &c, SLUICE_ENOTFOUND, IMAGE_FIELD_PARTITION);
	c.reassign_partition.partition = -1;
	expect_reject(&f, &c, SLUICE_ENOTFOUND, IMAGE_FIELD_PARTITION);
	c.reassign_partition.partition = 0;
	c = cmd_unregister(4);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_named(IMAGE_CMD_REASSIGN_PARTITION, "t");
	c.reassign_partition.nreplicas = 1;
	c.reassign_partition.replicas[0] = 4;
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_REPLICAS);
	/* The replica already on node 4 stays until it is moved away. */
	ck_assert_uint_eq(image_partition_get(image_topic_find(&f.im, "t", 1), 1)->replicas[0], 4);
	ck_assert(image_invariants(&f.im));
	image_free(&f.im);
}
END_TEST

/* Producer id blocks are consecutive and disjoint, bounded in size, and never wrap. */
START_TEST(test_image_allocate_producer_ids_hands_out_disjoint_blocks)
{
	struct fx f;
	struct image_cmd c;
	struct image_result res;

	fx_init(&f);
	c = cmd_alloc(1000);
	ck_assert_int_eq(fx_apply(&f, &c, &res), 0);
	ck_assert_int_eq(res.producer_id_first, IMAGE_PRODUCER_ID_FIRST);
	c = cmd_alloc(10);
	ck_assert_int_eq(fx_apply(&f, &c, &res), 0);
	ck_assert_int_eq(res.producer_id_first, IMAGE_PRODUCER_ID_FIRST + 1000);
	ck_assert_int_eq(f.im.next_producer_id, IMAGE_PRODUCER_ID_FIRST + 1010);
	c = cmd_alloc(0);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_COUNT);
	c = cmd_alloc(IMAGE_PRODUCER_IDS_MAX + 1);
	expect_reject(&f, &c, SLUICE_EINVAL, IMAGE_FIELD_COUNT);
	/* Near the end of the id space (set directly: no cluster gets there by applying). */
	f.im.next_producer_id = INT64_MAX - 10;
	c = cmd_alloc(11);
	expect_reject(&f, &c, SLUICE_ERANGE, IMAGE_FIELD_COUNT);
	c = cmd_alloc(10);
	ck_assert_int_eq(fx_apply(&f, &c, &res), 0);
	ck_assert_int_eq(res.producer_id_first, INT64_MAX - 10);
	image_free(&f.im);
}
END_TEST

/* An entry at or below the last applied index is refused without touching the image;
 * generation counts successes only and last_applied_index follows them. */
START_TEST(test_image_apply_counts_generations_and_refuses_replayed_index)
{
	struct fx f;
	struct image_cmd c = cmd_alloc(1);
	struct wbuf w, before;
	struct image_result res;

	fx_init(&f);
	encode_ok(&c, &w);
	ck_assert_int_eq(image_apply(&f.im, 5, w.data, w.len, &res), 0);
	ck_assert_uint_eq(f.im.last_applied_index, 5);
	ck_assert_uint_eq(f.im.generation, 1);
	before = snap(&f.im);
	ck_assert_int_eq(image_apply(&f.im, 5, w.data, w.len, &res), SLUICE_ESTATE);
	ck_assert_int_eq(image_apply(&f.im, 4, w.data, w.len, &res), SLUICE_ESTATE);
	ck_assert(snap_same(&before, &f.im));
	wbuf_free(&before);
	wbuf_free(&w);

	c = cmd_alloc(0);
	encode_ok(&c, &w);
	ck_assert_int_eq(image_apply(&f.im, 6, w.data, w.len, NULL), SLUICE_EINVAL);
	ck_assert_uint_eq(f.im.last_applied_index, 5);
	ck_assert_uint_eq(f.im.generation, 1);
	wbuf_free(&w);
	image_free(&f.im);
}
END_TEST

/* image_check answers as apply would, and changes nothing (CreateTopics' validate_only). */
START_TEST(test_image_check_answers_like_apply_without_changing)
{
	struct fx f;
	struct image_cmd c;
	struct image_result res;
	struct wbuf before;

	fx_init(&f);
	fx_nodes(&f, 2, NULL);
	before = snap(&f.im);
	c = cmd_create(&f, "t", 3, 2);
	ck_assert_int_eq(image_check(&f.im, &c, &res), 0);
	c.create_topic.replication_factor = 3;
	ck_assert_int_eq(image_check(&f.im, &c, &res), SLUICE_ENOREPLICAS);
	ck_assert_int_eq(res.field, IMAGE_FIELD_REPLICATION_FACTOR);
	ck_assert(snap_same(&before, &f.im));
	ck_assert_int_eq(image_check(&f.im, &c, NULL), SLUICE_ENOREPLICAS);
	c.type = (enum image_cmd_type)77;
	ck_assert_int_eq(image_check(&f.im, &c, &res), SLUICE_EVERSION);
	wbuf_free(&before);
	image_free(&f.im);
}
END_TEST

/* A node's hosted list holds exactly the partitions that name it, sorted by group id. */
START_TEST(test_image_node_hosted_lists_a_nodes_replicas_by_group)
{
	struct fx f;
	struct image_cmd c;
	size_t total = 0;

	fx_init(&f);
	fx_nodes(&f, 4, NULL);
	c = cmd_create(&f, "zeta", 5, 2);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_create(&f, "alpha", 7, 3);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	for (uint32_t node = 1; node <= 5; node++) {
		struct image_hosted *v;
		size_t n;
		ck_assert_int_eq(image_node_hosted(&f.im, node, &v, &n), 0);
		for (size_t i = 0; i < n; i++) {
			bool here = false;
			if (i > 0)
				ck_assert_uint_lt(v[i - 1].group_id, v[i].group_id);
			ck_assert_ptr_eq(v[i].p, &v[i].topic->partitions[v[i].partition]);
			ck_assert_uint_eq(v[i].group_id, v[i].p->group_id);
			for (uint8_t r = 0; r < v[i].p->nreplicas; r++)
				here |= v[i].p->replicas[r] == node;
			ck_assert(here);
		}
		if (node == 5)
			ck_assert(n == 0 && v == NULL);
		total += n;
		free(v);
	}
	ck_assert_uint_eq(total, 5 * 2 + 7 * 3);
	image_free(&f.im);
}
END_TEST

/* ---- placement ---- */

struct spread {
	uint32_t replicas[10];
	uint32_t leaders[10];
};

static void spread_of(const struct image *im, struct spread *s)
{
	memset(s, 0, sizeof *s);
	for (uint32_t i = 0; i < im->ntopics; i++) {
		const struct image_topic *t = im->topics[i];
		for (int32_t p = 0; p < t->npartitions; p++) {
			for (uint8_t r = 0; r < t->partitions[p].nreplicas; r++) {
				require(t->partitions[p].replicas[r] < 10);
				s->replicas[t->partitions[p].replicas[r]]++;
			}
			s->leaders[t->partitions[p].replicas[0]]++;
		}
	}
}

static uint32_t range_of(const uint32_t *v, uint32_t from, uint32_t to)
{
	uint32_t lo = UINT32_MAX, hi = 0;

	for (uint32_t i = from; i <= to; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	return hi - lo;
}

/* Creates many topics of random sizes and replication factors on `nodes` nodes and checks after
 * each that per-node replica and leader counts are within one of each other. */
static void check_evenness(uint32_t nodes, uint64_t seed)
{
	static char names[300][8];
	struct fx f;
	struct spread s;

	rng_seed(seed);
	fx_init(&f);
	fx_nodes(&f, nodes, NULL);
	for (int i = 0; i < 300; i++) {
		int16_t rf = (int16_t)(1 + below(nodes < 4 ? nodes : 4));
		snprintf(names[i], sizeof names[i], "t%03d", i);
		struct image_cmd c = cmd_create(&f, names[i], (int32_t)(1 + below(12)), rf);
		require(fx_apply(&f, &c, NULL) == 0);
		spread_of(&f.im, &s);
		if (range_of(s.replicas, 1, nodes) > 1 || range_of(s.leaders, 1, nodes) > 1)
			ck_abort_msg("seed %llu topic %d: replicas or leaders uneven",
				     (unsigned long long)seed, i);
	}
	ck_assert(image_invariants(&f.im));
	image_free(&f.im);
}

/* On 3 nodes, replicas and preferred leaders stay within one per node over many topics. */
START_TEST(test_image_placement_even_over_many_topics_on_3_nodes)
{
	for (uint64_t seed = 1; seed <= 5; seed++)
		check_evenness(3, seed);
}
END_TEST

/* The same on 5 nodes. */
START_TEST(test_image_placement_even_over_many_topics_on_5_nodes)
{
	for (uint64_t seed = 1; seed <= 5; seed++)
		check_evenness(5, seed);
}
END_TEST

static uint32_t distinct_racks(const struct image *im, const struct image_partition *p)
{
	uint32_t n = 0;

	for (uint8_t i = 0; i < p->nreplicas; i++) {
		const char *rack = image_node_find(im, p->replicas[i])->rack;
		bool dup = false;
		for (uint8_t j = 0; j < i; j++)
			dup |= strcmp(image_node_find(im, p->replicas[j])->rack, rack) == 0;
		n += !dup;
	}
	return n;
}

/* With racks set, a partition's replicas go to distinct racks, as many as there are. */
START_TEST(test_image_placement_spreads_replicas_over_racks)
{
	/* Racks interleave with ids, so id order alone would put 1 and 2 together. */
	static const char *const racks6[] = { "a", "a", "b", "b", "c", "c" };
	static const char *const racks4[] = { "x", "x", "x", "y" };
	struct fx f;
	struct spread s;

	fx_init(&f);
	fx_nodes(&f, 6, racks6);
	for (int i = 0; i < 20; i++) {
		char name[8];
		snprintf(name, sizeof name, "t%d", i);
		struct image_cmd c = cmd_create(&f, name, 1 + i % 5, (int16_t)(2 + i % 2));
		ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
		const struct image_topic *t = image_topic_find(&f.im, name, strlen(name));
		for (int32_t p = 0; p < t->npartitions; p++)
			ck_assert_uint_eq(distinct_racks(&f.im, &t->partitions[p]),
					  t->partitions[p].nreplicas);
	}
	/* Distinct racks come first, so evenness may cost one more than without racks. */
	spread_of(&f.im, &s);
	ck_assert_uint_le(range_of(s.replicas, 1, 6), 2);
	ck_assert_uint_le(range_of(s.leaders, 1, 6), 2);
	image_free(&f.im);

	/* Two racks, three replicas: both racks are used by every partition, so the lone node of
	 * rack y holds a replica of each; it also takes its fair share of the leads. */
	fx_init(&f);
	fx_nodes(&f, 4, racks4);
	struct image_cmd c = cmd_create(&f, "t", 12, 3);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_create(&f, "u", 12, 2);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	const struct image_topic *t = image_topic_find(&f.im, "t", 1);
	const struct image_topic *u = image_topic_find(&f.im, "u", 1);
	for (int32_t p = 0; p < 12; p++) {
		ck_assert_uint_eq(distinct_racks(&f.im, &t->partitions[p]), 2);
		ck_assert_uint_eq(distinct_racks(&f.im, &u->partitions[p]), 2);
	}
	spread_of(&f.im, &s);
	ck_assert_uint_eq(s.replicas[4], 24);
	ck_assert_uint_le(range_of(s.leaders, 1, 4), 1);
	image_free(&f.im);
}
END_TEST

/* Unregistered nodes get no new replicas; nodes registered later are filled first. */
START_TEST(test_image_placement_skips_unregistered_and_fills_new_nodes)
{
	struct fx f;
	struct image_cmd c;
	struct spread s;

	fx_init(&f);
	fx_nodes(&f, 4, NULL);
	c = cmd_unregister(2);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_create(&f, "a", 9, 2);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	spread_of(&f.im, &s);
	ck_assert_uint_eq(s.replicas[2], 0);
	ck_assert_uint_eq(s.replicas[1] + s.replicas[3] + s.replicas[4], 18);
	c = cmd_register(5, "h5", 9005, NULL);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	c = cmd_create(&f, "b", 2, 1);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	const struct image_topic *t = image_topic_find(&f.im, "b", 1);
	ck_assert_uint_eq(t->partitions[0].replicas[0], 5);
	image_free(&f.im);
}
END_TEST

/* Two images fed the same commands, valid and not, answer alike and encode byte for byte the
 * same. */
START_TEST(test_image_same_commands_give_byte_identical_images)
{
	struct fx fs[2];
	struct wbuf a, b;

	rng_seed(11);
	fx_init(&fs[0]);
	fx_init(&fs[1]);
	gen_apply(fs, 2, 3000);
	ck_assert_uint_gt(fs[0].im.generation, 100);
	a = snap(&fs[0].im);
	b = snap(&fs[1].im);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_mem_eq(a.data, b.data, a.len);
	ck_assert(image_equal(&fs[0].im, &fs[1].im));
	ck_assert(image_invariants(&fs[0].im));
	wbuf_free(&a);
	wbuf_free(&b);
	image_free(&fs[0].im);
	image_free(&fs[1].im);
}
END_TEST

/* ---- snapshot ---- */

static uint32_t nodes_with_peer(const struct image *im)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < im->nnodes; i++)
		n += im->nodes[i].peer_host != NULL;
	return n;
}

/* A snapshot decodes to an image equal to the live one, which encodes to the same bytes. */
START_TEST(test_image_snapshot_round_trip_equals_live_image)
{
	struct fx f;
	struct image copy;
	struct wbuf a, b;
	errmsg_t em = "";

	rng_seed(3);
	fx_init(&f);
	a = snap(&f.im);
	ck_assert_msg(image_decode(&copy, a.data, a.len, em) == 0, "%s", em);
	ck_assert(image_equal(&f.im, &copy));
	image_free(&copy);
	wbuf_free(&a);

	gen_apply(&f, 1, 1500);
	ck_assert_uint_gt(f.im.ntopics, 0);
	ck_assert_msg(nodes_with_peer(&f.im) > 0, "the generator registers peer addresses");
	a = snap(&f.im);
	ck_assert_msg(image_decode(&copy, a.data, a.len, em) == 0, "%s", em);
	ck_assert(image_equal(&f.im, &copy));
	ck_assert(image_invariants(&copy));
	b = snap(&copy);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_mem_eq(a.data, b.data, a.len);
	/* Lookups work on the restored image (its id index is rebuilt). */
	for (uint32_t i = 0; i < f.im.ntopics; i++)
		ck_assert_ptr_eq(image_topic_find_id(&copy, f.im.topics[i]->id), copy.topics[i]);
	wbuf_free(&a);
	wbuf_free(&b);
	image_free(&copy);
	image_free(&f.im);
}
END_TEST

/* Every truncation and every flipped bit of a snapshot is caught (length or CRC). */
START_TEST(test_image_snapshot_rejects_every_truncation_and_flip)
{
	struct fx f;
	struct image copy;
	struct wbuf a;

	rng_seed(5);
	fx_init(&f);
	gen_apply(&f, 1, 300);
	a = snap(&f.im);
	for (size_t len = 0; len < a.len; len++) {
		uint8_t *p = malloc(len + (len == 0)); /* exactly len bytes: ASan sees overreads */
		memcpy(p, a.data, len);
		require(image_decode(&copy, p, len, NULL) == SLUICE_ECORRUPT);
		require(copy.ntopics == 0);
		free(p);
	}
	for (size_t at = 0; at < a.len; at++) {
		for (int bit = 0; bit < 8; bit++) {
			a.data[at] ^= (uint8_t)(1u << bit);
			int rv = image_decode(&copy, a.data, a.len, NULL);
			if (!(rv == SLUICE_ECORRUPT ||
			      (rv == SLUICE_EVERSION && at >= 4 && at < 6)))
				ck_abort_msg("flip at %zu: %s", at, err_name(rv));
			a.data[at] ^= (uint8_t)(1u << bit);
		}
	}
	wbuf_free(&a);
	image_free(&f.im);
}
END_TEST

static void reseal(uint8_t *p, size_t n)
{
	be32_put(p + n - 4, crc32c(0, p, n - 4));
}

/* Behind a valid CRC, decode still validates every field: mutated snapshots are either
 * rejected or decode to an image that keeps the invariants and re-encodes to the same bytes. */
START_TEST(test_image_snapshot_validates_fields_behind_the_crc)
{
	struct fx f;
	struct image copy;
	struct wbuf a;
	int accepted = 0, rejected = 0;

	rng_seed(9);
	fx_init(&f);
	gen_apply(&f, 1, 400);
	ck_assert_uint_gt(nodes_with_peer(&f.im), 0);
	a = snap(&f.im);
	for (int iter = 0; iter < 20000; iter++) {
		uint8_t *p = malloc(a.len);
		memcpy(p, a.data, a.len);
		for (uint32_t k = 0, flips = 1 + below(2); k < flips; k++) {
			size_t at = 12 + below((uint32_t)(a.len - 16));
			if (below(2) == 0)
				p[at] ^= (uint8_t)(1u << below(8));
			else
				p[at] = (uint8_t)rnd();
		}
		reseal(p, a.len);
		int rv = image_decode(&copy, p, a.len, NULL);
		if (rv == 0) {
			struct wbuf b = snap(&copy);
			require(image_invariants(&copy));
			require(b.len == a.len);
			require(memcmp(b.data, p, a.len) == 0);
			wbuf_free(&b);
			image_free(&copy);
			accepted++;
		} else {
			require(rv == SLUICE_ECORRUPT);
			require(copy.topics == NULL);
			rejected++;
		}
		free(p);
	}
	ck_assert_int_gt(rejected, 1000);
	ck_assert_int_gt(accepted, 10); /* e.g. a changed port or generation counter */

	/* A different version says so. */
	be16_put(a.data + 4, IMAGE_FORMAT_VERSION + 1);
	reseal(a.data, a.len);
	require(image_decode(&copy, a.data, a.len, NULL) == SLUICE_EVERSION);
	wbuf_free(&a);
	image_free(&f.im);
}
END_TEST

static void put_str_v1(struct wbuf *w, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	wbuf_be16(w, (uint16_t)n);
	wbuf_put(w, s, n);
}

/* A version 1 snapshot of `im`, written independently of image_encode from the format table in
 * image.c: the nodes end after rack. `im`'s nodes must have no peer address. */
static struct wbuf snap_v1(const struct image *im)
{
	struct wbuf w;

	wbuf_init(&w);
	wbuf_put(&w, "SLMI", 4);
	wbuf_be16(&w, 1);
	wbuf_be16(&w, 0);
	wbuf_be32(&w, 0); /* payload_bytes, patched below */
	wbuf_be64(&w, im->last_applied_index);
	wbuf_be64(&w, im->generation);
	wbuf_be64(&w, (uint64_t)im->next_producer_id);
	wbuf_be64(&w, im->next_group_id);
	put_str_v1(&w, im->cluster_id);
	wbuf_be32(&w, im->nnodes);
	for (uint32_t i = 0; i < im->nnodes; i++) {
		const struct image_node *n = &im->nodes[i];
		ck_assert_ptr_null(n->peer_host);
		wbuf_be32(&w, n->id);
		wbuf_be16(&w, n->port);
		wbuf_u8(&w, n->registered);
		wbuf_be64(&w, n->changed_gen);
		put_str_v1(&w, n->host);
		put_str_v1(&w, n->rack);
	}
	wbuf_be32(&w, im->ntopics);
	for (uint32_t i = 0; i < im->ntopics; i++) {
		const struct image_topic *t = im->topics[i];
		put_str_v1(&w, t->name);
		wbuf_put(&w, t->id, 16);
		wbuf_be16(&w, (uint16_t)t->replication_factor);
		wbuf_be64(&w, t->created_gen);
		wbuf_be64(&w, t->changed_gen);
		wbuf_be16(&w, t->nconfigs);
		for (uint16_t j = 0; j < t->nconfigs; j++) {
			put_str_v1(&w, t->configs[j].key);
			put_str_v1(&w, t->configs[j].value);
		}
		wbuf_be32(&w, (uint32_t)t->npartitions);
		for (int32_t p = 0; p < t->npartitions; p++) {
			const struct image_partition *pp = &t->partitions[p];
			wbuf_be64(&w, pp->group_id);
			wbuf_be64(&w, pp->changed_gen);
			wbuf_u8(&w, pp->nreplicas);
			for (uint8_t r = 0; r < pp->nreplicas; r++)
				wbuf_be32(&w, pp->replicas[r]);
		}
	}
	be32_put(w.data + 8, (uint32_t)(w.len - 12));
	wbuf_be32(&w, crc32c(0, w.data, w.len));
	require(!w.oom);
	return w;
}

/* A snapshot with the header of `a` (magic, version) around the first `payload` bytes of its
 * payload, with a matching length and CRC: a cut that the framing cannot see. */
static struct wbuf reframe(const struct wbuf *a, size_t payload)
{
	struct wbuf w;

	ck_assert_uint_le(payload + 16, a->len);
	wbuf_init(&w);
	wbuf_put(&w, a->data, 8);
	wbuf_be32(&w, (uint32_t)payload);
	wbuf_put(&w, a->data + 12, payload);
	wbuf_be32(&w, crc32c(0, w.data, w.len));
	require(!w.oom);
	return w;
}

/* Every cut of the payload, framed with a valid length and CRC, is refused field by field. */
static void expect_every_cut_rejected(const struct wbuf *a)
{
	struct image copy;

	for (size_t len = 0; len + 16 < a->len; len++) {
		struct wbuf b = reframe(a, len);
		int rv = image_decode(&copy, b.data, b.len, NULL);
		if (rv != SLUICE_ECORRUPT)
			ck_abort_msg("payload cut at %zu of %zu: %s", len, a->len - 16,
				     err_name(rv));
		require(copy.nodes == NULL && copy.topics == NULL);
		wbuf_free(&b);
	}
}

/* A small image: nodes with and without racks, one unregistered, and a topic with configs; with
 * `peer_port_2` other than 0, nodes 2 and 3 have peer addresses (node 2's on that port). */
static void fx_mixed(struct fx *f, uint16_t peer_port_2)
{
	static const char *const racks[] = { "r0", NULL, "r1", NULL };
	struct image_cmd c;

	fx_init(f);
	fx_nodes(f, 4, racks);
	if (peer_port_2 != 0) {
		c = cmd_register_peer(2, "h2", 9002, NULL, "peer-2.internal", peer_port_2);
		ck_assert_int_eq(fx_apply(f, &c, NULL), 0);
		c = cmd_register_peer(3, "h3", 9003, "r1", "10.1.0.3", 7000);
		ck_assert_int_eq(fx_apply(f, &c, NULL), 0);
	}
	c = cmd_create(f, "orders", 4, 3);
	c.create_topic.nconfigs = 1;
	c.create_topic.configs[0] = (struct image_cmd_config){ "retention.ms", "1000" };
	ck_assert_int_eq(fx_apply(f, &c, NULL), 0);
	c = cmd_unregister(4);
	ck_assert_int_eq(fx_apply(f, &c, NULL), 0);
}

/* Peer addresses survive a version 2 snapshot; image_equal sees a difference in them; every
 * cut of the payload behind a valid CRC, the new fields included, is refused. */
START_TEST(test_image_snapshot_keeps_peer_addresses)
{
	struct fx f, g;
	struct image copy;
	struct wbuf a, b;
	errmsg_t em = "";

	fx_mixed(&f, 19002);
	a = snap(&f.im);
	ck_assert_uint_eq(be16_get(a.data + 4), IMAGE_FORMAT_VERSION);
	ck_assert_msg(image_decode(&copy, a.data, a.len, em) == 0, "%s", em);
	ck_assert(image_equal(&f.im, &copy));
	ck_assert_str_eq(image_node_find(&copy, 2)->peer_host, "peer-2.internal");
	ck_assert_uint_eq(image_node_find(&copy, 2)->peer_port, 19002);
	ck_assert_str_eq(image_node_find(&copy, 3)->peer_host, "10.1.0.3");
	ck_assert_uint_eq(image_node_find(&copy, 3)->peer_port, 7000);
	ck_assert_ptr_null(image_node_find(&copy, 1)->peer_host);
	ck_assert_uint_eq(image_node_find(&copy, 1)->peer_port, 0);
	b = snap(&copy);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_mem_eq(a.data, b.data, a.len);
	expect_every_cut_rejected(&a);
	wbuf_free(&b);
	image_free(&copy);

	/* The same history but one peer port: not equal, not the same bytes. */
	fx_mixed(&g, 19003);
	ck_assert(!image_equal(&f.im, &g.im));
	ck_assert(!snap_same(&a, &g.im));
	wbuf_free(&a);
	image_free(&g.im);
	image_free(&f.im);
}
END_TEST

/* A version 1 snapshot (written here from the format table) still decodes, to an image without
 * peer addresses equal to the live one, which then encodes as version 2; its payload cut
 * anywhere is refused; and each version's payload read as the other is corrupt. */
START_TEST(test_image_snapshot_version_1_still_decodes)
{
	struct fx f;
	struct image copy;
	struct wbuf a, b;
	struct image_cmd c;
	errmsg_t em = "";

	fx_mixed(&f, 0);
	a = snap_v1(&f.im);
	ck_assert_msg(image_decode(&copy, a.data, a.len, em) == 0, "%s", em);
	ck_assert(image_equal(&f.im, &copy));
	ck_assert(image_invariants(&copy));
	for (uint32_t i = 0; i < copy.nnodes; i++) {
		ck_assert_ptr_null(copy.nodes[i].peer_host);
		ck_assert_uint_eq(copy.nodes[i].peer_port, 0);
	}
	b = snap(&copy);
	ck_assert_uint_eq(be16_get(b.data + 4), IMAGE_FORMAT_VERSION);
	ck_assert(snap_same(&b, &f.im));
	/* Version 2 spends four bytes per node on "no peer address". */
	ck_assert_uint_eq(b.len, a.len + 4 * f.im.nnodes);
	expect_every_cut_rejected(&a);
	image_free(&copy);

	/* The version decides the layout: each payload under the other's number is refused. */
	be16_put(a.data + 4, 2);
	reseal(a.data, a.len);
	ck_assert_int_eq(image_decode(&copy, a.data, a.len, NULL), SLUICE_ECORRUPT);
	wbuf_free(&a);
	wbuf_free(&b);
	c = cmd_register_peer(1, "h1", 9001, "r0", "p1", 19001);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	b = snap(&f.im);
	be16_put(b.data + 4, 1);
	reseal(b.data, b.len);
	ck_assert_int_eq(image_decode(&copy, b.data, b.len, NULL), SLUICE_ECORRUPT);
	wbuf_free(&b);
	image_free(&f.im);
}
END_TEST

/* Behind a valid CRC, a node's peer address must be whole and a valid host: a port without a
 * host, a host without a port and a host with a space are corrupt. */
START_TEST(test_image_snapshot_rejects_half_or_bad_peer_address)
{
	struct fx f;
	struct image copy;
	struct wbuf a;
	struct image_cmd c;
	/* One node, no topics: the payload ends with the node's peer_port, peer_host, then
	 * topic_count (0) and the CRC. */
	const size_t tail = 4 + 4;

	fx_init(&f);
	c = cmd_register(1, "h1", 9001, NULL);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	a = snap(&f.im);
	ck_assert_uint_eq(be16_get(a.data + a.len - tail - 4), 0); /* peer_port */
	ck_assert_uint_eq(be16_get(a.data + a.len - tail - 2), 0); /* peer_host length */
	be16_put(a.data + a.len - tail - 4, 19001);
	reseal(a.data, a.len);
	ck_assert_int_eq(image_decode(&copy, a.data, a.len, NULL), SLUICE_ECORRUPT);
	wbuf_free(&a);

	c = cmd_register_peer(1, "h1", 9001, NULL, "p1", 19001);
	ck_assert_int_eq(fx_apply(&f, &c, NULL), 0);
	a = snap(&f.im);
	ck_assert_mem_eq(a.data + a.len - tail - 2, "p1", 2);
	ck_assert_uint_eq(be16_get(a.data + a.len - tail - 6), 19001);
	be16_put(a.data + a.len - tail - 6, 0);
	reseal(a.data, a.len);
	ck_assert_int_eq(image_decode(&copy, a.data, a.len, NULL), SLUICE_ECORRUPT);
	be16_put(a.data + a.len - tail - 6, 19001);
	a.data[a.len - tail - 1] = ' ';
	reseal(a.data, a.len);
	ck_assert_int_eq(image_decode(&copy, a.data, a.len, NULL), SLUICE_ECORRUPT);
	a.data[a.len - tail - 1] = '1';
	reseal(a.data, a.len);
	ck_assert_int_eq(image_decode(&copy, a.data, a.len, NULL), 0);
	ck_assert(image_equal(&f.im, &copy));
	image_free(&copy);
	wbuf_free(&a);
	image_free(&f.im);
}
END_TEST

/* A replica restored from a snapshot and the original, fed the same further commands, end up
 * equal: the snapshot carries everything apply depends on. */
START_TEST(test_image_replay_on_restored_snapshot_matches_original)
{
	for (uint64_t seed = 20; seed < 25; seed++) {
		struct fx fs[2];
		struct wbuf a, b;
		errmsg_t em = "";

		rng_seed(seed);
		fx_init(&fs[0]);
		gen_apply(fs, 1, 200 + below(800));
		a = snap(&fs[0].im);
		memset(&fs[1], 0, sizeof fs[1]);
		ck_assert_msg(image_decode(&fs[1].im, a.data, a.len, em) == 0, "%s", em);
		fs[1].index = fs[0].index;
		fs[1].ids = fs[0].ids;
		wbuf_free(&a);
		gen_apply(fs, 2, 1000);
		ck_assert(image_equal(&fs[0].im, &fs[1].im));
		a = snap(&fs[0].im);
		b = snap(&fs[1].im);
		ck_assert_uint_eq(a.len, b.len);
		ck_assert_mem_eq(a.data, b.data, a.len);
		wbuf_free(&a);
		wbuf_free(&b);
		image_free(&fs[0].im);
		image_free(&fs[1].im);
	}
}
END_TEST

/* image_init accepts only Kafka-like cluster ids; image_free takes NULL and empty images. */
START_TEST(test_image_init_checks_cluster_id)
{
	struct image im;

	ck_assert_int_eq(image_init(&im, ""), SLUICE_EINVAL);
	ck_assert_int_eq(image_init(&im, "has space"), SLUICE_EINVAL);
	ck_assert_int_eq(image_init(&im, NULL), SLUICE_EINVAL);
	ck_assert_int_eq(image_init(&im, "MkU3OEVBNTcwNTJENDM2Qk"), 0);
	ck_assert_int_eq(im.next_producer_id, IMAGE_PRODUCER_ID_FIRST);
	ck_assert_uint_eq(im.next_group_id, IMAGE_GROUP_ID_FIRST);
	ck_assert(image_invariants(&im));
	image_free(&im);
	image_free(&im);
	image_free(NULL);
}
END_TEST

/* ---- topicdef ---- */

/* The shared rules: Kafka's name rule, and a config table sorted by key with valid bounds. */
START_TEST(test_topicdef_rules_and_table)
{
	ck_assert(topicdef_name_valid("orders", 6));
	ck_assert(!topicdef_name_valid("..", 2));
	ck_assert(!topicdef_name_valid("a b", 3));
	ck_assert_uint_eq(topicdef_config_keys_count, TOPICDEF_CONFIG_KEYS_COUNT);
	for (size_t i = 0; i < topicdef_config_keys_count; i++) {
		const struct topic_config_key *k = &topicdef_config_keys[i];
		if (i > 0)
			ck_assert_int_lt(strcmp(topicdef_config_keys[i - 1].name, k->name), 0);
		ck_assert_ptr_eq(topicdef_config_key_find(k->name), k);
		ck_assert_uint_le(strlen(k->name), TOPICDEF_CONFIG_KEY_BYTES_MAX);
		if (k->type == TCFG_ENUM)
			ck_assert_ptr_nonnull(k->choices[0]);
		else
			ck_assert_int_le(k->min, k->max);
	}
	ck_assert_ptr_null(topicdef_config_key_find("nope"));
	ck_assert_int_eq(topicdef_config_check("segment.bytes", "14", NULL), 0);
	ck_assert_int_eq(topicdef_config_check("segment.bytes", "13", NULL), SLUICE_EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("meta");
	TCase *tc;

	tc = tcase_create("cmd");
	tcase_add_test(tc, test_image_cmd_round_trip_keeps_every_field_of_every_type);
	tcase_add_test(tc, test_image_cmd_decode_rejects_every_truncation);
	tcase_add_test(tc, test_image_cmd_decode_survives_random_flips);
	tcase_add_test(tc, test_image_cmd_decode_rejects_unknown_and_malformed);
	tcase_add_test(tc, test_image_cmd_encode_rejects_what_it_cannot_carry);
	tcase_add_test(tc, test_image_cmd_largest_create_topic_fits);
	tcase_add_test(tc, test_image_cmd_version_1_still_decodes);
	tcase_add_test(tc, test_image_cmd_decode_checks_peer_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("apply");
	tcase_add_test(tc, test_image_init_checks_cluster_id);
	tcase_add_test(tc, test_image_register_node_adds_updates_and_unregisters);
	tcase_add_test(tc, test_image_register_node_records_and_replaces_peer_address);
	tcase_add_test(tc, test_image_register_node_rejects_bad_fields);
	tcase_add_test(tc, test_image_create_topic_places_and_numbers_groups);
	tcase_add_test(tc, test_image_create_topic_rejections_leave_image_unchanged);
	tcase_add_test(tc, test_image_delete_topic_frees_name_but_never_group_ids);
	tcase_add_test(tc, test_image_alter_topic_config_sets_deletes_and_replaces);
	tcase_add_test(tc, test_image_create_partitions_adds_new_groups);
	tcase_add_test(tc, test_image_reassign_partition_keeps_group_id);
	tcase_add_test(tc, test_image_allocate_producer_ids_hands_out_disjoint_blocks);
	tcase_add_test(tc, test_image_apply_counts_generations_and_refuses_replayed_index);
	tcase_add_test(tc, test_image_check_answers_like_apply_without_changing);
	tcase_add_test(tc, test_image_node_hosted_lists_a_nodes_replicas_by_group);
	suite_add_tcase(s, tc);

	tc = tcase_create("placement");
	tcase_add_test(tc, test_image_placement_even_over_many_topics_on_3_nodes);
	tcase_add_test(tc, test_image_placement_even_over_many_topics_on_5_nodes);
	tcase_add_test(tc, test_image_placement_spreads_replicas_over_racks);
	tcase_add_test(tc, test_image_placement_skips_unregistered_and_fills_new_nodes);
	tcase_add_test(tc, test_image_same_commands_give_byte_identical_images);
	suite_add_tcase(s, tc);

	tc = tcase_create("snapshot");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_image_snapshot_round_trip_equals_live_image);
	tcase_add_test(tc, test_image_snapshot_rejects_every_truncation_and_flip);
	tcase_add_test(tc, test_image_snapshot_validates_fields_behind_the_crc);
	tcase_add_test(tc, test_image_replay_on_restored_snapshot_matches_original);
	tcase_add_test(tc, test_image_snapshot_keeps_peer_addresses);
	tcase_add_test(tc, test_image_snapshot_version_1_still_decodes);
	tcase_add_test(tc, test_image_snapshot_rejects_half_or_bad_peer_address);
	suite_add_tcase(s, tc);

	tc = tcase_create("topicdef");
	tcase_add_test(tc, test_topicdef_rules_and_table);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
