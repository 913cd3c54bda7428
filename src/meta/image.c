/*
 * image: the metadata image, its commands, placement and snapshot (contract in image.h).
 *
 * How apply keeps its two promises:
 *   - Deterministic: apply reads only the image and the command. Placement scans nodes in id
 *     order and partitions in (name, index) order with integer counters; no clock, no random
 *     numbers, no hashing of pointers. Config lists are kept sorted, so their order never depends
 *     on the order a client sent them in.
 *   - Unchanged on error: each command is first checked in full (check_*, which is also
 *     image_check), then applied by an apply_* function that allocates everything it needs
 *     before it touches the image and, after that point, cannot fail.
 *
 * Placement (place()), for each new partition of replication factor k, over the registered
 * nodes with their current counts of replicas and of preferred leaderships (replicas[0]):
 *   1. The preferred leader is, among the nodes whose replica count is at most the k-th smallest
 *      replica count (the nodes a least-loaded pick of k could include), the one with the fewest
 *      leaderships; ties go to the node with MORE replicas, then the lower id.
 *   2. The other k-1 replicas are picked one at a time, each time the node with, in order: the
 *      fewest replicas of this partition on its rack (a node without a rack is a rack of its
 *      own), the fewest replicas, the MOST leaderships (a node that already leads more takes the
 *      follower's place), the lowest id.
 *   3. If a follower has strictly fewer leaderships than the leader (only possible when racks
 *      forced in a node that step 1 did not consider), it leads instead. The list is rotated so
 *      the leader comes first; the others keep their pick order, cyclically.
 * Why this rule and not "the k least-loaded nodes, rotated": without racks, if every node's
 * replica and leader counts are within one of the others AND no node with fewer replicas has
 * more leaderships, the rule keeps all three properties for any k <= nodes (a model check of
 * every such state for 2 to 7 nodes confirmed it when the rule was chosen; the placement tests
 * check it over random topic sequences). An empty cluster starts there, so creating topics
 * keeps both counts within one forever (deletes and reassignments can break it). The plain
 * rule breaks the third property (a node ends up with fewer replicas but more leaderships) and
 * then a later rf=1 topic has to push one node two leaderships ahead. Racks take precedence
 * over evenness: replicas go to distinct racks as far as the racks allow, and when racks are
 * uneven so are the counts (a lone node in its rack gets a replica of every partition).
 *
 * Command encoding, version IMAGE_CMD_VERSION = 2 (big-endian; "str" is a u16 length and that
 * many bytes, no NUL inside; an optional str has length 0 for "none"):
 *
 *   offset size  field
 *   0      1     type (enum image_cmd_type)
 *   1      1     version (IMAGE_CMD_VERSION_MIN..IMAGE_CMD_VERSION; the encoder writes the latest)
 *   2      ...   body, by type:
 *     REGISTER_NODE        node_id u32, port u16, host str, rack optional str,
 *                          peer_port u16, peer_host optional str (0 and "" for none)
 *     UNREGISTER_NODE      node_id u32
 *     CREATE_TOPIC         name str, topic_id 16 bytes, partitions i32, replication_factor i16,
 *                          config_count u16 (<= TOPICDEF_CONFIGS_MAX), then per config:
 *                          key str, value str
 *     DELETE_TOPIC         name str
 *     ALTER_TOPIC_CONFIG   name str, flags u8 (bit 0: replace; others 0), op_count u16
 *                          (<= TOPICDEF_CONFIGS_MAX), then per op: kind u8 (0 set, 1 delete),
 *                          key str, and for set: value str
 *     CREATE_PARTITIONS    name str, partitions i32 (new total)
 *     REASSIGN_PARTITION   name str, partition i32, replica_count u8 (<= IMAGE_REPLICAS_MAX),
 *                          replicas u32 each
 *     ALLOCATE_PRODUCER_IDS count u32
 * Version 1 is the same except that REGISTER_NODE ends after rack (no peer address): it decodes
 * to a command without one, which re-encodes as version 2. Nothing may follow the body. The
 * whole command is at most IMAGE_CMD_BYTES_MAX bytes. String bounds: names
 * TOPICDEF_NAME_BYTES_MAX, hosts and peer hosts IMAGE_HOST_BYTES_MAX, racks
 * IMAGE_RACK_BYTES_MAX, config keys TOPICDEF_CONFIG_KEY_BYTES_MAX, values
 * TOPICDEF_CONFIG_VALUE_BYTES_MAX.
 *
 * Snapshot, version IMAGE_FORMAT_VERSION = 2 (big-endian, same "str"):
 *
 *   offset size  field
 *   0      4     magic "SLMI"
 *   4      2     version (IMAGE_FORMAT_VERSION_MIN..IMAGE_FORMAT_VERSION; image_encode writes
 *                the latest)
 *   6      2     reserved (0)
 *   8      4     payload_bytes (N)
 *   12     N     payload:
 *                  last_applied_index u64, generation u64, next_producer_id i64,
 *                  next_group_id u64, cluster_id str,
 *                  node_count u32, then per node (by id):
 *                    id u32, port u16, registered u8 (0/1), changed_gen u64, host str,
 *                    rack optional str, peer_port u16, peer_host optional str (both 0 / ""
 *                    for none, else both set)
 *                  topic_count u32, then per topic (by name):
 *                    name str, topic_id 16 bytes, replication_factor i16, created_gen u64,
 *                    changed_gen u64, config_count u16, then per config (by key): key str,
 *                    value str; partition_count u32, then per partition (by index):
 *                      group_id u64, changed_gen u64, replica_count u8, replicas u32 each
 *   12+N   4     CRC-32C of bytes [0, 12+N)
 *
 * Version 1 is the same without peer_port and peer_host: its nodes decode without a peer
 * address.
 *
 * image_decode checks the length and CRC first, then every field against the invariants of
 * image.h, so a snapshot it accepts is an image apply could have produced.
 */
#include "meta/image.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/crc32c.h"

#define IMAGE_MAGIC "SLMI"
#define IMAGE_HEADER_BYTES 12
#define IMAGE_TRAILER_BYTES 4
/* Smallest encodings, to bound a count by the bytes left before allocating for it. A node is
 * id, port, registered, changed_gen, the host's and the rack's lengths (a host of 1 byte is not
 * counted: a looser bound is still a bound); version 2 adds peer_port and peer_host's length. */
#define NODE_BYTES_MIN_V1 (4 + 2 + 1 + 8 + 2 + 2)
#define NODE_BYTES_MIN_V2 (NODE_BYTES_MIN_V1 + 2 + 2)
#define TOPIC_BYTES_MIN (2 + 16 + 2 + 8 + 8 + 2 + 4)
#define PARTITION_BYTES_MIN (8 + 8 + 1 + 4)

_Static_assert(IMAGE_CMD_VERSION_MIN >= 1 && IMAGE_CMD_VERSION_MIN <= IMAGE_CMD_VERSION &&
		       IMAGE_CMD_VERSION <= UINT8_MAX,
	       "command versions are a non-empty range carried in a u8");
_Static_assert(IMAGE_FORMAT_VERSION_MIN >= 1 && IMAGE_FORMAT_VERSION_MIN <= IMAGE_FORMAT_VERSION &&
		       IMAGE_FORMAT_VERSION <= UINT16_MAX,
	       "snapshot versions are a non-empty range carried in a u16");
_Static_assert(IMAGE_REPLICAS_MAX <= UINT8_MAX, "replica counts are encoded in a u8");
_Static_assert(TOPICDEF_CONFIGS_MAX <= UINT16_MAX, "config counts are encoded in a u16");
_Static_assert(2 + 2 + TOPICDEF_NAME_BYTES_MAX + 16 + 4 + 2 + 2 +
			       TOPICDEF_CONFIGS_MAX * (2 + TOPICDEF_CONFIG_KEY_BYTES_MAX + 2 +
						       TOPICDEF_CONFIG_VALUE_BYTES_MAX) <=
		       IMAGE_CMD_BYTES_MAX,
	       "the largest CREATE_TOPIC fits IMAGE_CMD_BYTES_MAX");
_Static_assert(2 + 2 + TOPICDEF_NAME_BYTES_MAX + 1 + 2 +
			       TOPICDEF_CONFIGS_MAX * (1 + 2 + TOPICDEF_CONFIG_KEY_BYTES_MAX + 2 +
						       TOPICDEF_CONFIG_VALUE_BYTES_MAX) <=
		       IMAGE_CMD_BYTES_MAX,
	       "the largest ALTER_TOPIC_CONFIG fits IMAGE_CMD_BYTES_MAX");
_Static_assert(2 + 4 + 2 + 2 + IMAGE_HOST_BYTES_MAX + 2 + IMAGE_RACK_BYTES_MAX + 2 + 2 +
			       IMAGE_HOST_BYTES_MAX <=
		       IMAGE_CMD_BYTES_MAX,
	       "the largest REGISTER_NODE fits IMAGE_CMD_BYTES_MAX");
_Static_assert(1ull * IMAGE_TOPICS_MAX * TOPICDEF_PARTITIONS_MAX >= IMAGE_PARTITIONS_MAX,
	       "the cluster partition limit is reachable");

/* ---- small validators shared by commands and the snapshot ---- */

static char *res_msg(struct image_result *res)
{
	return res != NULL ? res->errmsg : NULL;
}

static int reject(struct image_result *res, int code, enum image_field field)
{
	if (res != NULL)
		res->field = field;
	return code;
}

static bool chars_in(const char *s, size_t max, char lo, char hi)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < lo || s[i] > hi)
			return false;
	return true;
}

/* A host: printable ASCII without spaces. */
static bool host_valid(const char *s)
{
	return s != NULL && chars_in(s, IMAGE_HOST_BYTES_MAX, '!', '~');
}

/* A node's peer address: none (NULL and 0) or a valid host and a port other than 0. */
static bool peer_valid(const char *host, uint16_t port)
{
	return host == NULL ? port == 0 : port != 0 && host_valid(host);
}

/* A rack: printable ASCII, spaces allowed. */
static bool rack_valid(const char *s)
{
	return s != NULL && chars_in(s, IMAGE_RACK_BYTES_MAX, ' ', '~');
}

static bool cluster_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > IMAGE_CLUSTER_ID_BYTES_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Node ids are Kafka int32 broker ids; 0 is "no node" to the Raft layer (cons_leader). */
static bool node_id_valid(uint32_t id)
{
	return id >= 1 && id <= INT32_MAX;
}

static bool topic_id_zero(const uint8_t id[16])
{
	for (int i = 0; i < 16; i++)
		if (id[i] != 0)
			return false;
	return true;
}

static bool name_valid(const char *name)
{
	return name != NULL && topicdef_name_valid(name, strlen(name));
}

/* Orders a (pointer, length) name against a NUL-terminated one as strcmp would. */
static int name_cmp(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* ---- lookups ---- */

/* Index of node `id` in im->nodes, or where it would be inserted (then *found is false). */
static uint32_t node_pos(const struct image *im, uint32_t id, bool *found)
{
	uint32_t lo = 0, hi = im->nnodes;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (im->nodes[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < im->nnodes && im->nodes[lo].id == id;
	return lo;
}

static uint32_t topic_pos(const struct image *im, const char *name, size_t len, bool *found)
{
	uint32_t lo = 0, hi = im->ntopics;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (name_cmp(name, len, im->topics[mid]->name) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < im->ntopics && name_cmp(name, len, im->topics[lo]->name) == 0;
	return lo;
}

static uint32_t topic_id_pos(const struct image *im, const uint8_t id[16], bool *found)
{
	uint32_t lo = 0, hi = im->ntopics;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (memcmp(im->topics_by_id[mid]->id, id, 16) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < im->ntopics && memcmp(im->topics_by_id[lo]->id, id, 16) == 0;
	return lo;
}

const struct image_node *image_node_find(const struct image *im, uint32_t id)
{
	bool found;
	uint32_t i = node_pos(im, id, &found);

	return found ? &im->nodes[i] : NULL;
}

uint32_t image_nodes_registered(const struct image *im)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < im->nnodes; i++)
		n += im->nodes[i].registered;
	return n;
}

const struct image_topic *image_topic_find(const struct image *im, const char *name, size_t len)
{
	bool found;
	uint32_t i = topic_pos(im, name, len, &found);

	return found ? im->topics[i] : NULL;
}

const struct image_topic *image_topic_find_id(const struct image *im, const uint8_t id[16])
{
	bool found;
	uint32_t i = topic_id_pos(im, id, &found);

	return found ? im->topics_by_id[i] : NULL;
}

const struct image_partition *image_partition_get(const struct image_topic *t, int32_t partition)
{
	if (partition < 0 || partition >= t->npartitions)
		return NULL;
	return &t->partitions[partition];
}

const char *image_topic_config_get(const struct image_topic *t, const char *key)
{
	for (uint16_t i = 0; i < t->nconfigs; i++)
		if (strcmp(t->configs[i].key, key) == 0)
			return t->configs[i].value;
	return NULL;
}

static int hosted_cmp(const void *a, const void *b)
{
	const struct image_hosted *x = a, *y = b;

	return x->group_id < y->group_id ? -1 : x->group_id > y->group_id;
}

int image_node_hosted(const struct image *im, uint32_t node_id, struct image_hosted **out,
		      size_t *n)
{
	size_t count = 0, k = 0;
	struct image_hosted *v;

	*out = NULL;
	*n = 0;
	for (uint32_t i = 0; i < im->ntopics; i++) {
		const struct image_topic *t = im->topics[i];
		for (int32_t p = 0; p < t->npartitions; p++)
			for (uint8_t r = 0; r < t->partitions[p].nreplicas; r++)
				count += t->partitions[p].replicas[r] == node_id;
	}
	if (count == 0)
		return 0;
	v = malloc(count * sizeof *v);
	if (v == NULL)
		return SLUICE_ENOMEM;
	for (uint32_t i = 0; i < im->ntopics; i++) {
		const struct image_topic *t = im->topics[i];
		for (int32_t p = 0; p < t->npartitions; p++) {
			const struct image_partition *pp = &t->partitions[p];
			for (uint8_t r = 0; r < pp->nreplicas; r++) {
				if (pp->replicas[r] != node_id)
					continue;
				v[k].group_id = pp->group_id;
				v[k].topic = t;
				v[k].partition = p;
				v[k].p = pp;
				k++;
			}
		}
	}
	assert(k == count);
	qsort(v, count, sizeof *v, hosted_cmp);
	*out = v;
	*n = count;
	return 0;
}

/* ---- life cycle ---- */

static void configs_free(struct image_config *c, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		free(c[i].key);
		free(c[i].value);
	}
	free(c);
}

static void topic_free(struct image_topic *t)
{
	if (t == NULL)
		return;
	configs_free(t->configs, t->nconfigs);
	free(t->partitions);
	free(t);
}

int image_init(struct image *im, const char *cluster_id)
{
	memset(im, 0, sizeof *im);
	if (cluster_id == NULL || !cluster_id_valid(cluster_id))
		return SLUICE_EINVAL;
	memcpy(im->cluster_id, cluster_id, strlen(cluster_id) + 1);
	im->next_producer_id = IMAGE_PRODUCER_ID_FIRST;
	im->next_group_id = IMAGE_GROUP_ID_FIRST;
	return 0;
}

void image_free(struct image *im)
{
	if (im == NULL)
		return;
	for (uint32_t i = 0; i < im->nnodes; i++) {
		free(im->nodes[i].host);
		free(im->nodes[i].rack);
		free(im->nodes[i].peer_host);
	}
	free(im->nodes);
	for (uint32_t i = 0; i < im->ntopics; i++)
		topic_free(im->topics[i]);
	free(im->topics);
	free(im->topics_by_id);
	memset(im, 0, sizeof *im);
}

/* ---- command encoding ---- */

static bool str_fits(const char *s, size_t max)
{
	return s != NULL && strlen(s) <= max;
}

static void put_str(struct wbuf *w, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	assert(n <= UINT16_MAX);
	wbuf_be16(w, (uint16_t)n);
	wbuf_put(w, s, n);
}

/* Checks that `c` fits its encoding (the mirror of what cmd_decode_body rejects). */
static int cmd_encodable(const struct image_cmd *c, char *errmsg)
{
	switch (c->type) {
	case IMAGE_CMD_REGISTER_NODE:
		if (!str_fits(c->register_node.host, IMAGE_HOST_BYTES_MAX)) {
			errmsg_printf(errmsg, "host missing or longer than %d bytes",
				      IMAGE_HOST_BYTES_MAX);
			return SLUICE_EINVAL;
		}
		if (c->register_node.rack != NULL &&
		    (c->register_node.rack[0] == '\0' ||
		     !str_fits(c->register_node.rack, IMAGE_RACK_BYTES_MAX))) {
			errmsg_printf(errmsg, "rack must be absent or 1-%d bytes",
				      IMAGE_RACK_BYTES_MAX);
			return SLUICE_EINVAL;
		}
		if (c->register_node.peer_host != NULL &&
		    (c->register_node.peer_host[0] == '\0' ||
		     !str_fits(c->register_node.peer_host, IMAGE_HOST_BYTES_MAX))) {
			errmsg_printf(errmsg, "peer host must be absent or 1-%d bytes",
				      IMAGE_HOST_BYTES_MAX);
			return SLUICE_EINVAL;
		}
		return 0;
	case IMAGE_CMD_UNREGISTER_NODE:
	case IMAGE_CMD_ALLOCATE_PRODUCER_IDS:
		return 0;
	case IMAGE_CMD_CREATE_TOPIC:
		if (!str_fits(c->create_topic.name, TOPICDEF_NAME_BYTES_MAX))
			goto err_name;
		if (c->create_topic.nconfigs > TOPICDEF_CONFIGS_MAX) {
			errmsg_printf(errmsg, "too many configs (at most %d)",
				      TOPICDEF_CONFIGS_MAX);
			return SLUICE_EINVAL;
		}
		for (uint16_t i = 0; i < c->create_topic.nconfigs; i++) {
			const struct image_cmd_config *cf = &c->create_topic.configs[i];
			if (!str_fits(cf->key, TOPICDEF_CONFIG_KEY_BYTES_MAX) ||
			    !str_fits(cf->value, TOPICDEF_CONFIG_VALUE_BYTES_MAX))
				goto err_config;
		}
		return 0;
	case IMAGE_CMD_DELETE_TOPIC:
		if (!str_fits(c->delete_topic.name, TOPICDEF_NAME_BYTES_MAX))
			goto err_name;
		return 0;
	case IMAGE_CMD_ALTER_TOPIC_CONFIG:
		if (!str_fits(c->alter_topic_config.name, TOPICDEF_NAME_BYTES_MAX))
			goto err_name;
		if (c->alter_topic_config.nops > TOPICDEF_CONFIGS_MAX) {
			errmsg_printf(errmsg, "too many config changes (at most %d)",
				      TOPICDEF_CONFIGS_MAX);
			return SLUICE_EINVAL;
		}
		for (uint16_t i = 0; i < c->alter_topic_config.nops; i++) {
			const struct image_cmd_config *cf = &c->alter_topic_config.ops[i];
			if (!str_fits(cf->key, TOPICDEF_CONFIG_KEY_BYTES_MAX) ||
			    (cf->value != NULL &&
			     !str_fits(cf->value, TOPICDEF_CONFIG_VALUE_BYTES_MAX)))
				goto err_config;
		}
		return 0;
	case IMAGE_CMD_CREATE_PARTITIONS:
		if (!str_fits(c->create_partitions.name, TOPICDEF_NAME_BYTES_MAX))
			goto err_name;
		return 0;
	case IMAGE_CMD_REASSIGN_PARTITION:
		if (!str_fits(c->reassign_partition.name, TOPICDEF_NAME_BYTES_MAX))
			goto err_name;
		if (c->reassign_partition.nreplicas > IMAGE_REPLICAS_MAX) {
			errmsg_printf(errmsg, "at most %d replicas", IMAGE_REPLICAS_MAX);
			return SLUICE_EINVAL;
		}
		return 0;
	}
	errmsg_printf(errmsg, "unknown command type %d", (int)c->type);
	return SLUICE_EINVAL;

err_name:
	errmsg_printf(errmsg, "topic name missing or longer than %d bytes",
		      TOPICDEF_NAME_BYTES_MAX);
	return SLUICE_EINVAL;
err_config:
	errmsg_printf(errmsg,
		      "config key (at most %d bytes) or value (at most %d) missing or too long",
		      TOPICDEF_CONFIG_KEY_BYTES_MAX, TOPICDEF_CONFIG_VALUE_BYTES_MAX);
	return SLUICE_EINVAL;
}

int image_cmd_encode(const struct image_cmd *c, struct wbuf *w, char *errmsg)
{
	int rv = cmd_encodable(c, errmsg);

	if (rv != 0)
		return rv;
	wbuf_u8(w, (uint8_t)c->type);
	wbuf_u8(w, IMAGE_CMD_VERSION);
	switch (c->type) {
	case IMAGE_CMD_REGISTER_NODE:
		wbuf_be32(w, c->register_node.node_id);
		wbuf_be16(w, c->register_node.port);
		put_str(w, c->register_node.host);
		put_str(w, c->register_node.rack);
		wbuf_be16(w, c->register_node.peer_port);
		put_str(w, c->register_node.peer_host);
		break;
	case IMAGE_CMD_UNREGISTER_NODE:
		wbuf_be32(w, c->unregister_node.node_id);
		break;
	case IMAGE_CMD_CREATE_TOPIC:
		put_str(w, c->create_topic.name);
		wbuf_put(w, c->create_topic.topic_id, 16);
		wbuf_be32(w, (uint32_t)c->create_topic.partitions);
		wbuf_be16(w, (uint16_t)c->create_topic.replication_factor);
		wbuf_be16(w, c->create_topic.nconfigs);
		for (uint16_t i = 0; i < c->create_topic.nconfigs; i++) {
			put_str(w, c->create_topic.configs[i].key);
			put_str(w, c->create_topic.configs[i].value);
		}
		break;
	case IMAGE_CMD_DELETE_TOPIC:
		put_str(w, c->delete_topic.name);
		break;
	case IMAGE_CMD_ALTER_TOPIC_CONFIG:
		put_str(w, c->alter_topic_config.name);
		wbuf_u8(w, c->alter_topic_config.replace ? 1 : 0);
		wbuf_be16(w, c->alter_topic_config.nops);
		for (uint16_t i = 0; i < c->alter_topic_config.nops; i++) {
			const struct image_cmd_config *op = &c->alter_topic_config.ops[i];
			wbuf_u8(w, op->value != NULL ? 0 : 1);
			put_str(w, op->key);
			if (op->value != NULL)
				put_str(w, op->value);
		}
		break;
	case IMAGE_CMD_CREATE_PARTITIONS:
		put_str(w, c->create_partitions.name);
		wbuf_be32(w, (uint32_t)c->create_partitions.partitions);
		break;
	case IMAGE_CMD_REASSIGN_PARTITION:
		put_str(w, c->reassign_partition.name);
		wbuf_be32(w, (uint32_t)c->reassign_partition.partition);
		wbuf_u8(w, c->reassign_partition.nreplicas);
		for (uint8_t i = 0; i < c->reassign_partition.nreplicas; i++)
			wbuf_be32(w, c->reassign_partition.replicas[i]);
		break;
	case IMAGE_CMD_ALLOCATE_PRODUCER_IDS:
		wbuf_be32(w, c->allocate_producer_ids.count);
		break;
	}
	return w->oom ? SLUICE_ENOMEM : 0;
}

/* A decoder's cursor plus the arena its strings are copied into. Every string costs at least
 * its 2-byte length in the input and produces its bytes plus a NUL, so an arena as large as the
 * input always suffices. */
struct cmd_reader {
	struct rbuf r;
	char *arena;
	size_t used;
	size_t cap;
};

/* Reads a str of at most `max` bytes, rejecting NUL bytes inside. Returns the NUL-terminated
 * copy, or NULL (with r.err set). With `optional`, a length of 0 returns NULL without error. */
static const char *cmd_str(struct cmd_reader *d, size_t max, bool optional)
{
	uint16_t n = rbuf_be16(&d->r);
	const uint8_t *p;
	char *s;

	if (d->r.err)
		return NULL;
	if (n == 0 && optional)
		return NULL;
	if (n > max) {
		d->r.err = true;
		return NULL;
	}
	p = rbuf_bytes(&d->r, n);
	if (p == NULL || memchr(p, '\0', n) != NULL) {
		d->r.err = true;
		return NULL;
	}
	assert(d->used + n + 1 <= d->cap);
	s = d->arena + d->used;
	memcpy(s, p, n);
	s[n] = '\0';
	d->used += (size_t)n + 1;
	return s;
}

/* Decodes the body of `c->type` in encoding `version` (already checked to be known); leaves
 * errors in d->r.err. */
static void cmd_decode_body(struct cmd_reader *d, struct image_cmd *c, uint8_t version)
{
	struct rbuf *r = &d->r;

	switch (c->type) {
	case IMAGE_CMD_REGISTER_NODE:
		c->register_node.node_id = rbuf_be32(r);
		c->register_node.port = rbuf_be16(r);
		c->register_node.host = cmd_str(d, IMAGE_HOST_BYTES_MAX, false);
		c->register_node.rack = cmd_str(d, IMAGE_RACK_BYTES_MAX, true);
		if (version >= 2) {
			c->register_node.peer_port = rbuf_be16(r);
			c->register_node.peer_host = cmd_str(d, IMAGE_HOST_BYTES_MAX, true);
		}
		return;
	case IMAGE_CMD_UNREGISTER_NODE:
		c->unregister_node.node_id = rbuf_be32(r);
		return;
	case IMAGE_CMD_CREATE_TOPIC: {
		const uint8_t *id;
		c->create_topic.name = cmd_str(d, TOPICDEF_NAME_BYTES_MAX, false);
		id = rbuf_bytes(r, 16);
		if (id != NULL)
			memcpy(c->create_topic.topic_id, id, 16);
		c->create_topic.partitions = (int32_t)rbuf_be32(r);
		c->create_topic.replication_factor = (int16_t)rbuf_be16(r);
		c->create_topic.nconfigs = rbuf_be16(r);
		if (c->create_topic.nconfigs > TOPICDEF_CONFIGS_MAX) {
			c->create_topic.nconfigs = 0;
			r->err = true;
		}
		for (uint16_t i = 0; i < c->create_topic.nconfigs && !r->err; i++) {
			c->create_topic.configs[i].key = cmd_str(d, TOPICDEF_CONFIG_KEY_BYTES_MAX,
								 false);
			c->create_topic.configs[i].value = cmd_str(
				d, TOPICDEF_CONFIG_VALUE_BYTES_MAX, false);
		}
		return;
	}
	case IMAGE_CMD_DELETE_TOPIC:
		c->delete_topic.name = cmd_str(d, TOPICDEF_NAME_BYTES_MAX, false);
		return;
	case IMAGE_CMD_ALTER_TOPIC_CONFIG: {
		uint8_t flags;
		c->alter_topic_config.name = cmd_str(d, TOPICDEF_NAME_BYTES_MAX, false);
		flags = rbuf_u8(r);
		if (flags > 1)
			r->err = true;
		c->alter_topic_config.replace = flags == 1;
		c->alter_topic_config.nops = rbuf_be16(r);
		if (c->alter_topic_config.nops > TOPICDEF_CONFIGS_MAX) {
			c->alter_topic_config.nops = 0;
			r->err = true;
		}
		for (uint16_t i = 0; i < c->alter_topic_config.nops && !r->err; i++) {
			struct image_cmd_config *op = &c->alter_topic_config.ops[i];
			uint8_t kind = rbuf_u8(r);
			if (kind > 1)
				r->err = true;
			op->key = cmd_str(d, TOPICDEF_CONFIG_KEY_BYTES_MAX, false);
			op->value = kind == 0 ? cmd_str(d, TOPICDEF_CONFIG_VALUE_BYTES_MAX, false) :
						NULL;
		}
		return;
	}
	case IMAGE_CMD_CREATE_PARTITIONS:
		c->create_partitions.name = cmd_str(d, TOPICDEF_NAME_BYTES_MAX, false);
		c->create_partitions.partitions = (int32_t)rbuf_be32(r);
		return;
	case IMAGE_CMD_REASSIGN_PARTITION:
		c->reassign_partition.name = cmd_str(d, TOPICDEF_NAME_BYTES_MAX, false);
		c->reassign_partition.partition = (int32_t)rbuf_be32(r);
		c->reassign_partition.nreplicas = rbuf_u8(r);
		if (c->reassign_partition.nreplicas > IMAGE_REPLICAS_MAX) {
			c->reassign_partition.nreplicas = 0;
			r->err = true;
		}
		for (uint8_t i = 0; i < c->reassign_partition.nreplicas; i++)
			c->reassign_partition.replicas[i] = rbuf_be32(r);
		return;
	case IMAGE_CMD_ALLOCATE_PRODUCER_IDS:
		c->allocate_producer_ids.count = rbuf_be32(r);
		return;
	}
	assert(!"cmd_decode_body: type checked by the caller");
}

static bool cmd_type_known(uint8_t t)
{
	return t >= IMAGE_CMD_REGISTER_NODE && t <= IMAGE_CMD_ALLOCATE_PRODUCER_IDS;
}

int image_cmd_decode(struct image_cmd *c, const uint8_t *p, size_t n, char *errmsg)
{
	struct cmd_reader d;

	memset(c, 0, sizeof *c);
	if (n < 2 || n > IMAGE_CMD_BYTES_MAX) {
		errmsg_printf(errmsg, "metadata command of %zu bytes (2 to %u)", n,
			      IMAGE_CMD_BYTES_MAX);
		return SLUICE_EMALFORMED;
	}
	if (p[1] < IMAGE_CMD_VERSION_MIN || p[1] > IMAGE_CMD_VERSION || !cmd_type_known(p[0])) {
		errmsg_printf(errmsg,
			      "metadata command type %u version %u is not known to this node", p[0],
			      p[1]);
		return SLUICE_EVERSION;
	}
	d.arena = malloc(n);
	if (d.arena == NULL)
		return SLUICE_ENOMEM;
	d.used = 0;
	d.cap = n;
	rbuf_init(&d.r, p + 2, n - 2);
	c->type = (enum image_cmd_type)p[0];
	cmd_decode_body(&d, c, p[1]);
	if (d.r.err || rbuf_left(&d.r) != 0) {
		free(d.arena);
		errmsg_printf(errmsg, "metadata command type %u is malformed at byte %zu", p[0],
			      d.r.pos + 2);
		memset(c, 0, sizeof *c);
		return SLUICE_EMALFORMED;
	}
	c->mem = d.arena;
	return 0;
}

void image_cmd_free(struct image_cmd *c)
{
	if (c == NULL)
		return;
	free(c->mem);
	c->mem = NULL;
}

/* ---- checks (pure) ---- */

static int check_register_node(const struct image *im, const struct image_cmd *c,
			       struct image_result *res)
{
	bool found;
	uint32_t id = c->register_node.node_id;

	if (!node_id_valid(id)) {
		errmsg_printf(res_msg(res), "node id %u is outside [1, %d]", id, INT32_MAX);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_NODE_ID);
	}
	if (!host_valid(c->register_node.host)) {
		errmsg_printf(res_msg(res),
			      "node %u: host must be 1-%d printable characters without spaces", id,
			      IMAGE_HOST_BYTES_MAX);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_HOST);
	}
	if (c->register_node.port == 0) {
		errmsg_printf(res_msg(res), "node %u: port 0", id);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_PORT);
	}
	if (c->register_node.rack != NULL && !rack_valid(c->register_node.rack)) {
		errmsg_printf(res_msg(res), "node %u: rack must be 1-%d printable characters", id,
			      IMAGE_RACK_BYTES_MAX);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_RACK);
	}
	if (c->register_node.peer_host != NULL && !host_valid(c->register_node.peer_host)) {
		errmsg_printf(res_msg(res),
			      "node %u: peer host must be 1-%d printable characters without spaces",
			      id, IMAGE_HOST_BYTES_MAX);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_PEER_HOST);
	}
	if (c->register_node.peer_host != NULL && c->register_node.peer_port == 0) {
		errmsg_printf(res_msg(res), "node %u: a peer host needs a peer port (not 0)", id);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_PEER_PORT);
	}
	if (c->register_node.peer_host == NULL && c->register_node.peer_port != 0) {
		errmsg_printf(res_msg(res), "node %u: peer port %u without a peer host", id,
			      c->register_node.peer_port);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_PEER_HOST);
	}
	assert(peer_valid(c->register_node.peer_host, c->register_node.peer_port));
	node_pos(im, id, &found);
	if (!found && im->nnodes >= IMAGE_NODES_MAX) {
		errmsg_printf(res_msg(res), "the cluster already has %d nodes", IMAGE_NODES_MAX);
		return reject(res, SLUICE_ETOOLARGE, IMAGE_FIELD_NODE_ID);
	}
	return 0;
}

static int check_unregister_node(const struct image *im, const struct image_cmd *c,
				 struct image_result *res)
{
	if (image_node_find(im, c->unregister_node.node_id) == NULL) {
		errmsg_printf(res_msg(res), "node %u is not known", c->unregister_node.node_id);
		return reject(res, SLUICE_ENOTFOUND, IMAGE_FIELD_NODE_ID);
	}
	return 0;
}

/* Finds the topic a command names, or rejects with SLUICE_ENOTFOUND. */
static int need_topic(const struct image *im, const char *name, struct image_topic **out,
		      struct image_result *res)
{
	bool found;
	uint32_t i;

	if (name == NULL) {
		errmsg_printf(res_msg(res), "no topic name");
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_TOPIC_NAME);
	}
	i = topic_pos(im, name, strlen(name), &found);
	if (!found) {
		errmsg_printf(res_msg(res), "topic '%.*s' does not exist", TOPICDEF_NAME_BYTES_MAX,
			      name);
		return reject(res, SLUICE_ENOTFOUND, IMAGE_FIELD_TOPIC_NAME);
	}
	*out = im->topics[i];
	return 0;
}

/* Checks that `n` more partitions of replication factor `rf` can be placed. */
static int check_room(const struct image *im, int64_t n, int rf, struct image_result *res)
{
	uint32_t live = image_nodes_registered(im);

	if ((uint32_t)rf > live) {
		errmsg_printf(res_msg(res),
			      "replication factor %d is larger than the %u registered nodes", rf,
			      live);
		return reject(res, SLUICE_ENOREPLICAS, IMAGE_FIELD_REPLICATION_FACTOR);
	}
	if (im->npartitions_total + (uint64_t)n > IMAGE_PARTITIONS_MAX) {
		errmsg_printf(res_msg(res), "the cluster would have more than %d partitions",
			      IMAGE_PARTITIONS_MAX);
		return reject(res, SLUICE_ETOOLARGE, IMAGE_FIELD_PARTITIONS);
	}
	if (im->next_group_id > UINT64_MAX - (uint64_t)n) {
		errmsg_printf(res_msg(res), "Raft group ids exhausted");
		return reject(res, SLUICE_ERANGE, IMAGE_FIELD_PARTITIONS);
	}
	return 0;
}

/* Checks config pairs (a NULL value deletes, when `deletes` allows it). */
static int check_configs(const struct image_cmd_config *v, uint16_t n, bool deletes,
			 struct image_result *res)
{
	if (n > TOPICDEF_CONFIGS_MAX) {
		errmsg_printf(res_msg(res), "too many configs (at most %d)", TOPICDEF_CONFIGS_MAX);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_CONFIG);
	}
	for (uint16_t i = 0; i < n; i++) {
		if (v[i].key == NULL) {
			errmsg_printf(res_msg(res), "config without a key");
			return reject(res, SLUICE_EINVAL, IMAGE_FIELD_CONFIG);
		}
		if (deletes && v[i].value == NULL) {
			if (topicdef_config_key_find(v[i].key) == NULL) {
				errmsg_printf(res_msg(res), "unknown topic config '%s'", v[i].key);
				return reject(res, SLUICE_EINVAL, IMAGE_FIELD_CONFIG);
			}
			continue;
		}
		if (topicdef_config_check(v[i].key, v[i].value, res_msg(res)) != 0)
			return reject(res, SLUICE_EINVAL, IMAGE_FIELD_CONFIG);
	}
	return 0;
}

static int check_create_topic(const struct image *im, const struct image_cmd *c,
			      struct image_result *res)
{
	const char *name = c->create_topic.name;
	int32_t parts = c->create_topic.partitions;
	int rf = c->create_topic.replication_factor;
	bool found;
	int rv;

	if (!name_valid(name)) {
		errmsg_printf(res_msg(res),
			      "invalid topic name '%.*s': use 1-%d characters of "
			      "[a-zA-Z0-9._-], not '.' or '..'",
			      TOPICDEF_NAME_BYTES_MAX, name != NULL ? name : "",
			      TOPICDEF_NAME_BYTES_MAX);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_TOPIC_NAME);
	}
	topic_pos(im, name, strlen(name), &found);
	if (found) {
		errmsg_printf(res_msg(res), "topic '%s' already exists", name);
		return reject(res, SLUICE_EEXIST, IMAGE_FIELD_TOPIC_NAME);
	}
	if (topic_id_zero(c->create_topic.topic_id)) {
		errmsg_printf(res_msg(res), "topic '%s': the all-zero topic id is reserved", name);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_TOPIC_ID);
	}
	topic_id_pos(im, c->create_topic.topic_id, &found);
	if (found) {
		errmsg_printf(res_msg(res), "topic '%s': topic id already in use", name);
		return reject(res, SLUICE_EEXIST, IMAGE_FIELD_TOPIC_ID);
	}
	if (parts < 1 || parts > TOPICDEF_PARTITIONS_MAX) {
		errmsg_printf(res_msg(res), "number of partitions must be in [1, %d]",
			      TOPICDEF_PARTITIONS_MAX);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_PARTITIONS);
	}
	if (rf < 1 || rf > IMAGE_REPLICAS_MAX) {
		errmsg_printf(res_msg(res), "replication factor must be in [1, %d]",
			      IMAGE_REPLICAS_MAX);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_REPLICATION_FACTOR);
	}
	rv = check_configs(c->create_topic.configs, c->create_topic.nconfigs, false, res);
	if (rv != 0)
		return rv;
	if (im->ntopics >= IMAGE_TOPICS_MAX) {
		errmsg_printf(res_msg(res), "the cluster already has %d topics", IMAGE_TOPICS_MAX);
		return reject(res, SLUICE_ETOOLARGE, IMAGE_FIELD_TOPIC_NAME);
	}
	return check_room(im, parts, rf, res);
}

static int check_alter_topic_config(const struct image *im, const struct image_cmd *c,
				    struct image_result *res)
{
	struct image_topic *t;
	int rv = need_topic(im, c->alter_topic_config.name, &t, res);

	if (rv != 0)
		return rv;
	return check_configs(c->alter_topic_config.ops, c->alter_topic_config.nops, true, res);
}

static int check_create_partitions(const struct image *im, const struct image_cmd *c,
				   struct image_result *res)
{
	struct image_topic *t;
	int32_t want = c->create_partitions.partitions;
	int rv = need_topic(im, c->create_partitions.name, &t, res);

	if (rv != 0)
		return rv;
	if (want <= t->npartitions || want > TOPICDEF_PARTITIONS_MAX) {
		errmsg_printf(res_msg(res),
			      "topic '%s' has %d partitions: the new count must be in [%d, %d]",
			      t->name, t->npartitions, t->npartitions + 1, TOPICDEF_PARTITIONS_MAX);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_PARTITIONS);
	}
	return check_room(im, want - t->npartitions, t->replication_factor, res);
}

static int check_reassign_partition(const struct image *im, const struct image_cmd *c,
				    struct image_result *res)
{
	struct image_topic *t;
	uint8_t n = c->reassign_partition.nreplicas;
	const uint32_t *v = c->reassign_partition.replicas;
	int rv = need_topic(im, c->reassign_partition.name, &t, res);

	if (rv != 0)
		return rv;
	if (image_partition_get(t, c->reassign_partition.partition) == NULL) {
		errmsg_printf(res_msg(res), "topic '%s' has no partition %d", t->name,
			      c->reassign_partition.partition);
		return reject(res, SLUICE_ENOTFOUND, IMAGE_FIELD_PARTITION);
	}
	if (n < 1 || n > IMAGE_REPLICAS_MAX) {
		errmsg_printf(res_msg(res), "a partition needs 1 to %d replicas",
			      IMAGE_REPLICAS_MAX);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_REPLICAS);
	}
	for (uint8_t i = 0; i < n; i++) {
		const struct image_node *node = image_node_find(im, v[i]);
		if (node == NULL || !node->registered) {
			errmsg_printf(res_msg(res), "replica %u is not a registered node", v[i]);
			return reject(res, SLUICE_EINVAL, IMAGE_FIELD_REPLICAS);
		}
		for (uint8_t j = 0; j < i; j++) {
			if (v[j] == v[i]) {
				errmsg_printf(res_msg(res), "replica %u is listed twice", v[i]);
				return reject(res, SLUICE_EINVAL, IMAGE_FIELD_REPLICAS);
			}
		}
	}
	return 0;
}

static int check_allocate_producer_ids(const struct image *im, const struct image_cmd *c,
				       struct image_result *res)
{
	uint32_t n = c->allocate_producer_ids.count;

	if (n < 1 || n > IMAGE_PRODUCER_IDS_MAX) {
		errmsg_printf(res_msg(res), "producer id block of %u (1 to %u)", n,
			      IMAGE_PRODUCER_IDS_MAX);
		return reject(res, SLUICE_EINVAL, IMAGE_FIELD_COUNT);
	}
	if (im->next_producer_id > INT64_MAX - (int64_t)n) {
		errmsg_printf(res_msg(res), "producer ids exhausted");
		return reject(res, SLUICE_ERANGE, IMAGE_FIELD_COUNT);
	}
	return 0;
}

int image_check(const struct image *im, const struct image_cmd *c, struct image_result *res)
{
	struct image_topic *t;

	if (res != NULL) {
		memset(res, 0, sizeof *res);
		res->type = c->type;
	}
	switch (c->type) {
	case IMAGE_CMD_REGISTER_NODE:
		return check_register_node(im, c, res);
	case IMAGE_CMD_UNREGISTER_NODE:
		return check_unregister_node(im, c, res);
	case IMAGE_CMD_CREATE_TOPIC:
		return check_create_topic(im, c, res);
	case IMAGE_CMD_DELETE_TOPIC:
		return need_topic(im, c->delete_topic.name, &t, res);
	case IMAGE_CMD_ALTER_TOPIC_CONFIG:
		return check_alter_topic_config(im, c, res);
	case IMAGE_CMD_CREATE_PARTITIONS:
		return check_create_partitions(im, c, res);
	case IMAGE_CMD_REASSIGN_PARTITION:
		return check_reassign_partition(im, c, res);
	case IMAGE_CMD_ALLOCATE_PRODUCER_IDS:
		return check_allocate_producer_ids(im, c, res);
	}
	errmsg_printf(res_msg(res), "unknown command type %d", (int)c->type);
	return reject(res, SLUICE_EVERSION, IMAGE_FIELD_NONE);
}

/* ---- placement ---- */

struct load {
	uint32_t id;
	uint32_t rack; /* dense rack number; a node without a rack has one of its own */
	uint32_t replicas;
	uint32_t leaders;
};

/* The registered nodes' loads, sorted by id, and a per-rack counter for the partition being
 * placed. */
struct placer {
	struct load *v;
	uint32_t n;
	uint32_t *rack_used;
};

static void placer_free(struct placer *pl)
{
	free(pl->v);
	free(pl->rack_used);
}

static struct load *placer_find(struct placer *pl, uint32_t id)
{
	uint32_t lo = 0, hi = pl->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pl->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < pl->n && pl->v[lo].id == id ? &pl->v[lo] : NULL;
}

/* Counts, for each registered node, the replicas and preferred leaderships it holds in `im`. */
static int placer_init(struct placer *pl, const struct image *im)
{
	uint32_t k = 0;

	pl->n = image_nodes_registered(im);
	assert(pl->n > 0);
	pl->v = calloc(pl->n, sizeof *pl->v);
	pl->rack_used = calloc(pl->n, sizeof *pl->rack_used);
	if (pl->v == NULL || pl->rack_used == NULL) {
		placer_free(pl);
		return SLUICE_ENOMEM;
	}
	for (uint32_t i = 0; i < im->nnodes; i++) {
		const struct image_node *node = &im->nodes[i];
		if (!node->registered)
			continue;
		pl->v[k].id = node->id;
		pl->v[k].rack = k;
		/* Racks are numbered by the first node (in id order) that names them. */
		for (uint32_t j = 0, jk = 0; node->rack != NULL && j < i; j++) {
			const struct image_node *o = &im->nodes[j];
			if (!o->registered)
				continue;
			if (o->rack != NULL && strcmp(o->rack, node->rack) == 0) {
				pl->v[k].rack = pl->v[jk].rack;
				break;
			}
			jk++;
		}
		k++;
	}
	assert(k == pl->n);
	for (uint32_t i = 0; i < im->ntopics; i++) {
		const struct image_topic *t = im->topics[i];
		for (int32_t p = 0; p < t->npartitions; p++) {
			const struct image_partition *pp = &t->partitions[p];
			for (uint8_t r = 0; r < pp->nreplicas; r++) {
				struct load *l = placer_find(pl, pp->replicas[r]);
				if (l == NULL)
					continue; /* on an unregistered node */
				l->replicas++;
				l->leaders += r == 0;
			}
		}
	}
	return 0;
}

/* True when `a` should lead rather than `b` (rule 1 of the design note). */
static bool lead_better(const struct load *a, const struct load *b)
{
	if (a->leaders != b->leaders)
		return a->leaders < b->leaders;
	if (a->replicas != b->replicas)
		return a->replicas > b->replicas;
	return a->id < b->id;
}

/* True when `a` is a better next follower than `b` (rule 2). */
static bool follow_better(const struct placer *pl, const struct load *a, const struct load *b)
{
	if (pl->rack_used[a->rack] != pl->rack_used[b->rack])
		return pl->rack_used[a->rack] < pl->rack_used[b->rack];
	if (a->replicas != b->replicas)
		return a->replicas < b->replicas;
	if (a->leaders != b->leaders)
		return a->leaders > b->leaders;
	return a->id < b->id;
}

/* Returns the k-th smallest replica count (k >= 1) among the loads. */
static uint32_t kth_replicas(const struct placer *pl, int k)
{
	uint32_t low[IMAGE_REPLICAS_MAX]; /* the k smallest so far, ascending */
	int n = 0;

	for (uint32_t i = 0; i < pl->n; i++) {
		uint32_t x = pl->v[i].replicas;
		int j;
		if (n == k && x >= low[k - 1])
			continue;
		j = n < k ? n++ : k - 1;
		for (; j > 0 && low[j - 1] > x; j--)
			low[j] = low[j - 1];
		low[j] = x;
	}
	assert(n == k);
	return low[k - 1];
}

/* Picks `rf` replicas for one new partition into `out` (preferred leader first) and counts
 * them in the loads. */
static void place(struct placer *pl, int rf, uint32_t *out)
{
	struct load *chosen[IMAGE_REPLICAS_MAX];
	uint32_t threshold;
	int lead = 0;

	assert(rf >= 1 && rf <= IMAGE_REPLICAS_MAX && (uint32_t)rf <= pl->n);
	threshold = kth_replicas(pl, rf);
	chosen[0] = NULL;
	for (uint32_t i = 0; i < pl->n; i++) {
		struct load *l = &pl->v[i];
		if (l->replicas <= threshold && (chosen[0] == NULL || lead_better(l, chosen[0])))
			chosen[0] = l;
	}
	assert(chosen[0] != NULL);
	pl->rack_used[chosen[0]->rack]++;
	for (int k = 1; k < rf; k++) {
		struct load *best = NULL;
		for (uint32_t i = 0; i < pl->n; i++) {
			struct load *l = &pl->v[i];
			bool taken = false;
			for (int j = 0; j < k && !taken; j++)
				taken = chosen[j] == l;
			if (!taken && (best == NULL || follow_better(pl, l, best)))
				best = l;
		}
		assert(best != NULL);
		chosen[k] = best;
		pl->rack_used[best->rack]++;
	}
	/* Rule 3: a follower that racks forced in from outside the leader's candidates may lead
	 * less; it then takes the lead (never so without racks: every follower was a candidate). */
	for (int k = 1; k < rf; k++)
		if (chosen[k]->leaders < chosen[lead]->leaders)
			lead = k;
	chosen[lead]->leaders++;
	for (int k = 0; k < rf; k++) {
		out[k] = chosen[(lead + k) % rf]->id;
		chosen[k]->replicas++;
		pl->rack_used[chosen[k]->rack] = 0;
	}
}

/* Fills partitions [from, to) of `parts` with fresh group ids and placed replicas. */
static int place_partitions(const struct image *im, struct image_partition *parts, int32_t from,
			    int32_t to, int rf, uint64_t gen)
{
	struct placer pl;
	int rv = placer_init(&pl, im);

	if (rv != 0)
		return rv;
	for (int32_t p = from; p < to; p++) {
		struct image_partition *pp = &parts[p];
		memset(pp, 0, sizeof *pp);
		pp->group_id = im->next_group_id + (uint64_t)(p - from);
		pp->changed_gen = gen;
		pp->nreplicas = (uint8_t)rf;
		place(&pl, rf, pp->replicas);
	}
	placer_free(&pl);
	return 0;
}

/* ---- apply (after the check passed; may fail only with ENOMEM, leaving `im` unchanged) ---- */

static int apply_register_node(struct image *im, const struct image_cmd *c, uint64_t gen)
{
	bool found;
	uint32_t i = node_pos(im, c->register_node.node_id, &found);
	char *host = strdup(c->register_node.host);
	char *rack = c->register_node.rack != NULL ? strdup(c->register_node.rack) : NULL;
	const char *peer = c->register_node.peer_host;
	char *peer_host = peer != NULL ? strdup(peer) : NULL;
	struct image_node *node;

	if (host == NULL || (c->register_node.rack != NULL && rack == NULL) ||
	    (peer != NULL && peer_host == NULL))
		goto err_after_strings;
	if (!found && im->nnodes == im->nodes_cap) {
		uint32_t cap = im->nodes_cap != 0 ? im->nodes_cap * 2 : 8;
		struct image_node *v = realloc(im->nodes, (size_t)cap * sizeof *v);
		if (v == NULL)
			goto err_after_strings;
		im->nodes = v;
		im->nodes_cap = cap;
	}
	if (!found) {
		memmove(&im->nodes[i + 1], &im->nodes[i],
			(size_t)(im->nnodes - i) * sizeof *im->nodes);
		im->nnodes++;
		node = &im->nodes[i];
		memset(node, 0, sizeof *node);
		node->id = c->register_node.node_id;
	} else {
		node = &im->nodes[i];
		free(node->host);
		free(node->rack);
		free(node->peer_host);
	}
	node->host = host;
	node->rack = rack;
	node->port = c->register_node.port;
	/* A registration states the whole address: one without a peer address removes it. */
	node->peer_host = peer_host;
	node->peer_port = c->register_node.peer_port;
	node->registered = true;
	node->changed_gen = gen;
	return 0;

err_after_strings:
	free(host);
	free(rack);
	free(peer_host);
	return SLUICE_ENOMEM;
}

static void apply_unregister_node(struct image *im, const struct image_cmd *c, uint64_t gen)
{
	bool found;
	uint32_t i = node_pos(im, c->unregister_node.node_id, &found);

	assert(found);
	im->nodes[i].registered = false;
	im->nodes[i].changed_gen = gen;
}

/* Builds the sorted config list that results from applying `ops` (NULL value: delete) to
 * `base` (or to nothing, with `replace`), as fresh copies in *out. Returns 0 or SLUICE_ENOMEM. */
static int configs_build(const struct image_config *base, uint16_t nbase, bool replace,
			 const struct image_cmd_config *ops, uint16_t nops,
			 struct image_config **out, uint16_t *nout)
{
	const char *key[2 * TOPICDEF_CONFIGS_MAX], *val[2 * TOPICDEF_CONFIGS_MAX];
	uint16_t n = 0;
	struct image_config *v = NULL;

	assert(nbase <= TOPICDEF_CONFIGS_MAX && nops <= TOPICDEF_CONFIGS_MAX);
	for (uint16_t i = 0; !replace && i < nbase; i++) {
		key[n] = base[i].key;
		val[n++] = base[i].value;
	}
	for (uint16_t i = 0; i < nops; i++) {
		uint16_t j = 0;
		while (j < n && strcmp(key[j], ops[i].key) != 0)
			j++;
		if (ops[i].value == NULL) {
			if (j < n) {
				key[j] = key[n - 1];
				val[j] = val[n - 1];
				n--;
			}
		} else if (j < n) {
			val[j] = ops[i].value;
		} else {
			key[n] = ops[i].key;
			val[n++] = ops[i].value;
		}
	}
	/* Every key is in topicdef_config_keys, which is smaller than TOPICDEF_CONFIGS_MAX. */
	assert(n <= TOPICDEF_CONFIG_KEYS_COUNT);
	for (uint16_t i = 1; i < n; i++) {
		for (uint16_t j = i; j > 0 && strcmp(key[j - 1], key[j]) > 0; j--) {
			const char *k = key[j], *x = val[j];
			key[j] = key[j - 1];
			val[j] = val[j - 1];
			key[j - 1] = k;
			val[j - 1] = x;
		}
	}
	if (n > 0) {
		v = calloc(n, sizeof *v);
		if (v == NULL)
			return SLUICE_ENOMEM;
	}
	for (uint16_t i = 0; i < n; i++) {
		v[i].key = strdup(key[i]);
		v[i].value = strdup(val[i]);
		if (v[i].key == NULL || v[i].value == NULL) {
			configs_free(v, (uint16_t)(i + 1));
			return SLUICE_ENOMEM;
		}
	}
	*out = v;
	*nout = n;
	return 0;
}

/* Makes room for one more topic in both topic arrays. */
static int topics_reserve(struct image *im)
{
	uint32_t cap;
	struct image_topic **a, **b;

	if (im->ntopics < im->topics_cap)
		return 0;
	cap = im->topics_cap != 0 ? im->topics_cap * 2 : 16;
	a = realloc(im->topics, (size_t)cap * sizeof *a);
	if (a == NULL)
		return SLUICE_ENOMEM;
	im->topics = a;
	b = realloc(im->topics_by_id, (size_t)cap * sizeof *b);
	if (b == NULL)
		return SLUICE_ENOMEM; /* the first array grew; harmless, the cap stays */
	im->topics_by_id = b;
	im->topics_cap = cap;
	return 0;
}

static int apply_create_topic(struct image *im, const struct image_cmd *c, uint64_t gen,
			      struct image_result *res)
{
	int32_t parts = c->create_topic.partitions;
	int rf = c->create_topic.replication_factor;
	struct image_topic *t = calloc(1, sizeof *t);
	uint32_t at_name, at_id;
	bool found;
	int rv = SLUICE_ENOMEM;

	if (t == NULL)
		return SLUICE_ENOMEM;
	memcpy(t->name, c->create_topic.name, strlen(c->create_topic.name) + 1);
	memcpy(t->id, c->create_topic.topic_id, 16);
	t->replication_factor = (int16_t)rf;
	t->created_gen = t->changed_gen = gen;
	rv = configs_build(NULL, 0, false, c->create_topic.configs, c->create_topic.nconfigs,
			   &t->configs, &t->nconfigs);
	if (rv != 0)
		goto err_after_topic;
	t->partitions = calloc((size_t)parts, sizeof *t->partitions);
	if (t->partitions == NULL) {
		rv = SLUICE_ENOMEM;
		goto err_after_topic;
	}
	t->npartitions = parts;
	rv = place_partitions(im, t->partitions, 0, parts, rf, gen);
	if (rv != 0)
		goto err_after_topic;
	rv = topics_reserve(im);
	if (rv != 0)
		goto err_after_topic;

	at_name = topic_pos(im, t->name, strlen(t->name), &found);
	assert(!found);
	at_id = topic_id_pos(im, t->id, &found);
	assert(!found);
	memmove(&im->topics[at_name + 1], &im->topics[at_name],
		(size_t)(im->ntopics - at_name) * sizeof *im->topics);
	im->topics[at_name] = t;
	memmove(&im->topics_by_id[at_id + 1], &im->topics_by_id[at_id],
		(size_t)(im->ntopics - at_id) * sizeof *im->topics_by_id);
	im->topics_by_id[at_id] = t;
	im->ntopics++;
	if (res != NULL)
		res->group_id_first = im->next_group_id;
	im->next_group_id += (uint64_t)parts;
	im->npartitions_total += (uint64_t)parts;
	return 0;

err_after_topic:
	topic_free(t);
	return rv;
}

static void apply_delete_topic(struct image *im, const struct image_cmd *c)
{
	bool found;
	uint32_t at_name = topic_pos(im, c->delete_topic.name, strlen(c->delete_topic.name),
				     &found);
	struct image_topic *t;
	uint32_t at_id;

	assert(found);
	t = im->topics[at_name];
	at_id = topic_id_pos(im, t->id, &found);
	assert(found && im->topics_by_id[at_id] == t);
	memmove(&im->topics[at_name], &im->topics[at_name + 1],
		(size_t)(im->ntopics - at_name - 1) * sizeof *im->topics);
	memmove(&im->topics_by_id[at_id], &im->topics_by_id[at_id + 1],
		(size_t)(im->ntopics - at_id - 1) * sizeof *im->topics_by_id);
	im->ntopics--;
	assert(im->npartitions_total >= (uint64_t)t->npartitions);
	im->npartitions_total -= (uint64_t)t->npartitions;
	topic_free(t);
}

static struct image_topic *topic_named(struct image *im, const char *name)
{
	bool found;
	uint32_t i = topic_pos(im, name, strlen(name), &found);

	assert(found);
	return im->topics[i];
}

static int apply_alter_topic_config(struct image *im, const struct image_cmd *c, uint64_t gen)
{
	struct image_topic *t = topic_named(im, c->alter_topic_config.name);
	struct image_config *v;
	uint16_t n;
	int rv = configs_build(t->configs, t->nconfigs, c->alter_topic_config.replace,
			       c->alter_topic_config.ops, c->alter_topic_config.nops, &v, &n);

	if (rv != 0)
		return rv;
	configs_free(t->configs, t->nconfigs);
	t->configs = v;
	t->nconfigs = n;
	t->changed_gen = gen;
	return 0;
}

static int apply_create_partitions(struct image *im, const struct image_cmd *c, uint64_t gen,
				   struct image_result *res)
{
	struct image_topic *t = topic_named(im, c->create_partitions.name);
	int32_t want = c->create_partitions.partitions;
	struct image_partition *v = calloc((size_t)want, sizeof *v);
	int rv;

	if (v == NULL)
		return SLUICE_ENOMEM;
	memcpy(v, t->partitions, (size_t)t->npartitions * sizeof *v);
	rv = place_partitions(im, v, t->npartitions, want, t->replication_factor, gen);
	if (rv != 0) {
		free(v);
		return rv;
	}
	/* The new partitions' replica lists are as placed, like the topic's first ones: their
	 * replicas bootstrap the Raft groups (broker/cluster.c opens a replica with its list only
	 * when changed_gen == created_gen; a reassignment sets a later one). */
	for (int32_t p = t->npartitions; p < want; p++)
		v[p].changed_gen = t->created_gen;
	if (res != NULL)
		res->group_id_first = im->next_group_id;
	im->next_group_id += (uint64_t)(want - t->npartitions);
	im->npartitions_total += (uint64_t)(want - t->npartitions);
	free(t->partitions);
	t->partitions = v;
	t->npartitions = want;
	t->changed_gen = gen;
	return 0;
}

static void apply_reassign_partition(struct image *im, const struct image_cmd *c, uint64_t gen)
{
	struct image_topic *t = topic_named(im, c->reassign_partition.name);
	struct image_partition *p = &t->partitions[c->reassign_partition.partition];

	p->nreplicas = c->reassign_partition.nreplicas;
	memset(p->replicas, 0, sizeof p->replicas);
	memcpy(p->replicas, c->reassign_partition.replicas, p->nreplicas * sizeof p->replicas[0]);
	p->changed_gen = gen;
	t->changed_gen = gen;
}

int image_apply_cmd(struct image *im, uint64_t index, const struct image_cmd *c,
		    struct image_result *res)
{
	uint64_t gen = im->generation + 1;
	int rv;

	if (index <= im->last_applied_index) {
		if (res != NULL) {
			memset(res, 0, sizeof *res);
			res->type = c->type;
		}
		errmsg_printf(res_msg(res), "entry %llu is not after the last applied %llu",
			      (unsigned long long)index,
			      (unsigned long long)im->last_applied_index);
		return SLUICE_ESTATE;
	}
	rv = image_check(im, c, res);
	if (rv != 0)
		return rv;
	switch (c->type) {
	case IMAGE_CMD_REGISTER_NODE:
		rv = apply_register_node(im, c, gen);
		break;
	case IMAGE_CMD_UNREGISTER_NODE:
		apply_unregister_node(im, c, gen);
		break;
	case IMAGE_CMD_CREATE_TOPIC:
		rv = apply_create_topic(im, c, gen, res);
		break;
	case IMAGE_CMD_DELETE_TOPIC:
		apply_delete_topic(im, c);
		break;
	case IMAGE_CMD_ALTER_TOPIC_CONFIG:
		rv = apply_alter_topic_config(im, c, gen);
		break;
	case IMAGE_CMD_CREATE_PARTITIONS:
		rv = apply_create_partitions(im, c, gen, res);
		break;
	case IMAGE_CMD_REASSIGN_PARTITION:
		apply_reassign_partition(im, c, gen);
		break;
	case IMAGE_CMD_ALLOCATE_PRODUCER_IDS:
		if (res != NULL)
			res->producer_id_first = im->next_producer_id;
		im->next_producer_id += (int64_t)c->allocate_producer_ids.count;
		break;
	}
	if (rv != 0) {
		assert(rv == SLUICE_ENOMEM);
		errmsg_printf(res_msg(res), "out of memory applying metadata entry %llu",
			      (unsigned long long)index);
		return rv;
	}
	im->generation = gen;
	im->last_applied_index = index;
	return 0;
}

int image_apply(struct image *im, uint64_t index, const uint8_t *p, size_t n,
		struct image_result *res)
{
	struct image_cmd c;
	int rv;

	if (res != NULL)
		memset(res, 0, sizeof *res);
	rv = image_cmd_decode(&c, p, n, res_msg(res));
	if (rv != 0)
		return rv;
	rv = image_apply_cmd(im, index, &c, res);
	image_cmd_free(&c);
	return rv;
}

/* ---- snapshot ---- */

int image_encode(const struct image *im, struct wbuf *w)
{
	size_t start = w->len, payload;

	wbuf_put(w, IMAGE_MAGIC, 4);
	wbuf_be16(w, IMAGE_FORMAT_VERSION);
	wbuf_be16(w, 0);
	wbuf_be32(w, 0); /* payload_bytes, patched below */
	wbuf_be64(w, im->last_applied_index);
	wbuf_be64(w, im->generation);
	wbuf_be64(w, (uint64_t)im->next_producer_id);
	wbuf_be64(w, im->next_group_id);
	put_str(w, im->cluster_id);
	wbuf_be32(w, im->nnodes);
	for (uint32_t i = 0; i < im->nnodes; i++) {
		const struct image_node *node = &im->nodes[i];
		wbuf_be32(w, node->id);
		wbuf_be16(w, node->port);
		wbuf_u8(w, node->registered ? 1 : 0);
		wbuf_be64(w, node->changed_gen);
		put_str(w, node->host);
		put_str(w, node->rack);
		wbuf_be16(w, node->peer_port);
		put_str(w, node->peer_host);
	}
	wbuf_be32(w, im->ntopics);
	for (uint32_t i = 0; i < im->ntopics; i++) {
		const struct image_topic *t = im->topics[i];
		put_str(w, t->name);
		wbuf_put(w, t->id, 16);
		wbuf_be16(w, (uint16_t)t->replication_factor);
		wbuf_be64(w, t->created_gen);
		wbuf_be64(w, t->changed_gen);
		wbuf_be16(w, t->nconfigs);
		for (uint16_t j = 0; j < t->nconfigs; j++) {
			put_str(w, t->configs[j].key);
			put_str(w, t->configs[j].value);
		}
		wbuf_be32(w, (uint32_t)t->npartitions);
		for (int32_t p = 0; p < t->npartitions; p++) {
			const struct image_partition *pp = &t->partitions[p];
			wbuf_be64(w, pp->group_id);
			wbuf_be64(w, pp->changed_gen);
			wbuf_u8(w, pp->nreplicas);
			for (uint8_t r = 0; r < pp->nreplicas; r++)
				wbuf_be32(w, pp->replicas[r]);
		}
	}
	if (w->oom)
		return SLUICE_ENOMEM;
	payload = w->len - start - IMAGE_HEADER_BYTES;
	if (payload > UINT32_MAX)
		return SLUICE_ETOOLARGE;
	be32_put(w->data + start + 8, (uint32_t)payload);
	wbuf_be32(w, crc32c(0, w->data + start, w->len - start));
	return w->oom ? SLUICE_ENOMEM : 0;
}

/* Reads a snapshot str into a malloc'd NUL-terminated copy; NULL (r->err set) when it is longer
 * than `max`, holds a NUL, or memory runs out (then *oom). With `optional`, "" reads as NULL
 * without error. */
static char *snap_str(struct rbuf *r, size_t max, bool optional, bool *oom)
{
	uint16_t n = rbuf_be16(r);
	const uint8_t *p;
	char *s;

	if (r->err || (n == 0 && optional))
		return NULL;
	p = n <= max ? rbuf_bytes(r, n) : NULL;
	if (p == NULL || memchr(p, '\0', n) != NULL) {
		r->err = true;
		return NULL;
	}
	s = malloc((size_t)n + 1);
	if (s == NULL) {
		*oom = true;
		r->err = true;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static int id_cmp(const void *a, const void *b)
{
	const struct image_topic *x = *(const struct image_topic *const *)a;
	const struct image_topic *y = *(const struct image_topic *const *)b;

	return memcmp(x->id, y->id, 16);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Decodes the nodes of a snapshot of format `version`; `why` names the first broken rule. */
static int snap_nodes(struct rbuf *r, struct image *im, uint16_t version, bool *oom,
		      const char **why)
{
	uint32_t count = rbuf_be32(r);
	size_t node_bytes_min = version >= 2 ? NODE_BYTES_MIN_V2 : NODE_BYTES_MIN_V1;

	if (r->err || count > IMAGE_NODES_MAX || count > rbuf_left(r) / node_bytes_min) {
		*why = "node count";
		return -1;
	}
	if (count > 0) {
		im->nodes = calloc(count, sizeof *im->nodes);
		if (im->nodes == NULL) {
			*oom = true;
			return -1;
		}
		im->nodes_cap = count;
	}
	for (uint32_t i = 0; i < count; i++) {
		struct image_node *node = &im->nodes[i];
		uint8_t registered;
		node->id = rbuf_be32(r);
		node->port = rbuf_be16(r);
		registered = rbuf_u8(r);
		node->changed_gen = rbuf_be64(r);
		node->host = snap_str(r, IMAGE_HOST_BYTES_MAX, false, oom);
		im->nnodes++; /* owns what was read, for image_free */
		node->rack = snap_str(r, IMAGE_RACK_BYTES_MAX, true, oom);
		if (version >= 2) {
			node->peer_port = rbuf_be16(r);
			node->peer_host = snap_str(r, IMAGE_HOST_BYTES_MAX, true, oom);
		}
		node->registered = registered == 1;
		if (r->err) {
			*why = "node entry truncated";
			return -1;
		}
		if (!node_id_valid(node->id) || (i > 0 && node->id <= im->nodes[i - 1].id) ||
		    registered > 1 || node->port == 0 || !host_valid(node->host) ||
		    (node->rack != NULL && !rack_valid(node->rack)) ||
		    !peer_valid(node->peer_host, node->peer_port) ||
		    node->changed_gen > im->generation) {
			*why = "invalid node";
			return -1;
		}
	}
	return 0;
}

/* Decodes one topic into `t` (already linked into `im`, so image_free releases it). */
static int snap_topic(struct rbuf *r, struct image *im, struct image_topic *t, bool *oom,
		      const char **why, char *errmsg)
{
	char *name = snap_str(r, TOPICDEF_NAME_BYTES_MAX, false, oom);
	const uint8_t *id;
	uint16_t nconfigs;
	uint32_t nparts;

	if (name == NULL) {
		*why = "topic name";
		return -1;
	}
	memcpy(t->name, name, strlen(name) + 1);
	free(name);
	id = rbuf_bytes(r, 16);
	if (id != NULL)
		memcpy(t->id, id, 16);
	t->replication_factor = (int16_t)rbuf_be16(r);
	t->created_gen = rbuf_be64(r);
	t->changed_gen = rbuf_be64(r);
	nconfigs = rbuf_be16(r);
	if (r->err || !name_valid(t->name) || topic_id_zero(t->id) || t->replication_factor < 1 ||
	    t->replication_factor > IMAGE_REPLICAS_MAX || t->created_gen > t->changed_gen ||
	    t->changed_gen > im->generation || nconfigs > TOPICDEF_CONFIG_KEYS_COUNT) {
		*why = "invalid topic";
		return -1;
	}
	if (nconfigs > 0) {
		t->configs = calloc(nconfigs, sizeof *t->configs);
		if (t->configs == NULL) {
			*oom = true;
			return -1;
		}
	}
	for (uint16_t j = 0; j < nconfigs; j++) {
		struct image_config *cf = &t->configs[j];
		cf->key = snap_str(r, TOPICDEF_CONFIG_KEY_BYTES_MAX, false, oom);
		cf->value = snap_str(r, TOPICDEF_CONFIG_VALUE_BYTES_MAX, false, oom);
		t->nconfigs++;
		if (r->err) {
			*why = "topic config truncated";
			return -1;
		}
		if ((j > 0 && strcmp(t->configs[j - 1].key, cf->key) >= 0) ||
		    topicdef_config_check(cf->key, cf->value, errmsg) != 0) {
			*why = "invalid topic config";
			return -1;
		}
	}
	nparts = rbuf_be32(r);
	if (r->err || nparts < 1 || nparts > TOPICDEF_PARTITIONS_MAX ||
	    nparts > rbuf_left(r) / PARTITION_BYTES_MIN ||
	    im->npartitions_total + nparts > IMAGE_PARTITIONS_MAX) {
		*why = "partition count";
		return -1;
	}
	t->partitions = calloc(nparts, sizeof *t->partitions);
	if (t->partitions == NULL) {
		*oom = true;
		return -1;
	}
	t->npartitions = (int32_t)nparts;
	im->npartitions_total += nparts;
	for (uint32_t p = 0; p < nparts; p++) {
		struct image_partition *pp = &t->partitions[p];
		pp->group_id = rbuf_be64(r);
		pp->changed_gen = rbuf_be64(r);
		pp->nreplicas = rbuf_u8(r);
		if (r->err || pp->group_id < IMAGE_GROUP_ID_FIRST ||
		    pp->group_id >= im->next_group_id || pp->changed_gen < t->created_gen ||
		    pp->changed_gen > t->changed_gen || pp->nreplicas < 1 ||
		    pp->nreplicas > IMAGE_REPLICAS_MAX) {
			*why = "invalid partition";
			return -1;
		}
		for (uint8_t k = 0; k < pp->nreplicas; k++) {
			pp->replicas[k] = rbuf_be32(r);
			for (uint8_t j = 0; j < k; j++)
				if (pp->replicas[j] == pp->replicas[k])
					r->err = true;
			if (image_node_find(im, pp->replicas[k]) == NULL)
				r->err = true;
		}
		if (r->err) {
			*why = "invalid partition replicas";
			return -1;
		}
	}
	return 0;
}

/* Checks what needs the whole image: unique topic ids and group ids. */
static int snap_unique(struct image *im, bool *oom, const char **why)
{
	uint64_t *groups;
	uint64_t k = 0;
	int rv = 0;

	if (im->ntopics == 0)
		return 0;
	memcpy(im->topics_by_id, im->topics, im->ntopics * sizeof *im->topics);
	qsort(im->topics_by_id, im->ntopics, sizeof *im->topics_by_id, id_cmp);
	for (uint32_t i = 1; i < im->ntopics; i++) {
		if (memcmp(im->topics_by_id[i - 1]->id, im->topics_by_id[i]->id, 16) == 0) {
			*why = "duplicate topic id";
			return -1;
		}
	}
	if (im->npartitions_total == 0)
		return 0;
	groups = malloc(im->npartitions_total * sizeof *groups);
	if (groups == NULL) {
		*oom = true;
		return -1;
	}
	for (uint32_t i = 0; i < im->ntopics; i++)
		for (int32_t p = 0; p < im->topics[i]->npartitions; p++)
			groups[k++] = im->topics[i]->partitions[p].group_id;
	assert(k == im->npartitions_total);
	qsort(groups, k, sizeof *groups, u64_cmp);
	for (uint64_t i = 1; i < k; i++) {
		if (groups[i - 1] == groups[i]) {
			*why = "duplicate Raft group id";
			rv = -1;
			break;
		}
	}
	free(groups);
	return rv;
}

int image_decode(struct image *im, const uint8_t *p, size_t n, char *errmsg)
{
	struct rbuf r;
	uint32_t payload, ntopics;
	uint16_t version;
	const char *why = "payload";
	bool oom = false;
	char *cid;

	memset(im, 0, sizeof *im);
	if (n < IMAGE_HEADER_BYTES + IMAGE_TRAILER_BYTES || memcmp(p, IMAGE_MAGIC, 4) != 0) {
		errmsg_printf(errmsg, "not a metadata snapshot (bad magic or %zu bytes)", n);
		return SLUICE_ECORRUPT;
	}
	version = be16_get(p + 4);
	if (version < IMAGE_FORMAT_VERSION_MIN || version > IMAGE_FORMAT_VERSION) {
		errmsg_printf(errmsg, "unsupported metadata snapshot version %u", version);
		return SLUICE_EVERSION;
	}
	payload = be32_get(p + 8);
	if (be16_get(p + 6) != 0 ||
	    (uint64_t)payload + IMAGE_HEADER_BYTES + IMAGE_TRAILER_BYTES != n ||
	    crc32c(0, p, n - IMAGE_TRAILER_BYTES) != be32_get(p + n - IMAGE_TRAILER_BYTES)) {
		errmsg_printf(errmsg, "metadata snapshot: length or checksum mismatch");
		return SLUICE_ECORRUPT;
	}
	rbuf_init(&r, p + IMAGE_HEADER_BYTES, payload);
	im->last_applied_index = rbuf_be64(&r);
	im->generation = rbuf_be64(&r);
	im->next_producer_id = (int64_t)rbuf_be64(&r);
	im->next_group_id = rbuf_be64(&r);
	cid = snap_str(&r, IMAGE_CLUSTER_ID_BYTES_MAX, false, &oom);
	if (cid == NULL || !cluster_id_valid(cid) || im->next_producer_id < 0 ||
	    im->next_group_id < IMAGE_GROUP_ID_FIRST) {
		free(cid);
		why = "header fields";
		goto err;
	}
	memcpy(im->cluster_id, cid, strlen(cid) + 1);
	free(cid);
	if (snap_nodes(&r, im, version, &oom, &why) != 0)
		goto err;
	ntopics = rbuf_be32(&r);
	if (r.err || ntopics > IMAGE_TOPICS_MAX || ntopics > rbuf_left(&r) / TOPIC_BYTES_MIN) {
		why = "topic count";
		goto err;
	}
	if (ntopics > 0) {
		im->topics = calloc(ntopics, sizeof *im->topics);
		im->topics_by_id = calloc(ntopics, sizeof *im->topics_by_id);
		if (im->topics == NULL || im->topics_by_id == NULL) {
			oom = true;
			goto err;
		}
		im->topics_cap = ntopics;
	}
	for (uint32_t i = 0; i < ntopics; i++) {
		struct image_topic *t = calloc(1, sizeof *t);
		if (t == NULL) {
			oom = true;
			goto err;
		}
		im->topics[im->ntopics++] = t;
		if (snap_topic(&r, im, t, &oom, &why, NULL) != 0)
			goto err;
		if (i > 0 && strcmp(im->topics[i - 1]->name, t->name) >= 0) {
			why = "topics out of order";
			goto err;
		}
	}
	if (rbuf_left(&r) != 0) {
		why = "trailing bytes";
		goto err;
	}
	if (snap_unique(im, &oom, &why) != 0)
		goto err;
	assert(image_invariants(im));
	return 0;

err:
	image_free(im);
	if (oom)
		return SLUICE_ENOMEM;
	errmsg_printf(errmsg, "metadata snapshot is corrupt: %s at byte %zu", why,
		      r.pos + IMAGE_HEADER_BYTES);
	return SLUICE_ECORRUPT;
}

/* ---- whole-image checks ---- */

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool image_equal(const struct image *a, const struct image *b)
{
	if (strcmp(a->cluster_id, b->cluster_id) != 0 ||
	    a->last_applied_index != b->last_applied_index || a->generation != b->generation ||
	    a->next_producer_id != b->next_producer_id || a->next_group_id != b->next_group_id ||
	    a->nnodes != b->nnodes || a->ntopics != b->ntopics ||
	    a->npartitions_total != b->npartitions_total)
		return false;
	for (uint32_t i = 0; i < a->nnodes; i++) {
		const struct image_node *x = &a->nodes[i], *y = &b->nodes[i];
		if (x->id != y->id || x->port != y->port || x->registered != y->registered ||
		    x->changed_gen != y->changed_gen || !str_eq(x->host, y->host) ||
		    !str_eq(x->rack, y->rack) || x->peer_port != y->peer_port ||
		    !str_eq(x->peer_host, y->peer_host))
			return false;
	}
	for (uint32_t i = 0; i < a->ntopics; i++) {
		const struct image_topic *x = a->topics[i], *y = b->topics[i];
		if (strcmp(x->name, y->name) != 0 || memcmp(x->id, y->id, 16) != 0 ||
		    x->replication_factor != y->replication_factor ||
		    x->npartitions != y->npartitions || x->nconfigs != y->nconfigs ||
		    x->created_gen != y->created_gen || x->changed_gen != y->changed_gen)
			return false;
		for (uint16_t j = 0; j < x->nconfigs; j++)
			if (strcmp(x->configs[j].key, y->configs[j].key) != 0 ||
			    strcmp(x->configs[j].value, y->configs[j].value) != 0)
				return false;
		for (int32_t p = 0; p < x->npartitions; p++) {
			const struct image_partition *u = &x->partitions[p], *v = &y->partitions[p];
			if (u->group_id != v->group_id || u->changed_gen != v->changed_gen ||
			    u->nreplicas != v->nreplicas ||
			    memcmp(u->replicas, v->replicas,
				   u->nreplicas * sizeof u->replicas[0]) != 0)
				return false;
		}
	}
	return true;
}

bool image_invariants(const struct image *im)
{
	uint64_t total = 0;
	uint64_t *groups = NULL;
	uint64_t k = 0;
	bool ok = true;

	if (!cluster_id_valid(im->cluster_id) || im->next_group_id < IMAGE_GROUP_ID_FIRST ||
	    im->nnodes > IMAGE_NODES_MAX || im->ntopics > IMAGE_TOPICS_MAX)
		return false;
	for (uint32_t i = 0; i < im->nnodes; i++) {
		const struct image_node *node = &im->nodes[i];
		if (!node_id_valid(node->id) || (i > 0 && im->nodes[i - 1].id >= node->id) ||
		    !host_valid(node->host) || node->port == 0 ||
		    (node->rack != NULL && !rack_valid(node->rack)) ||
		    !peer_valid(node->peer_host, node->peer_port) ||
		    node->changed_gen > im->generation)
			return false;
	}
	for (uint32_t i = 0; i < im->ntopics; i++) {
		const struct image_topic *t = im->topics[i];
		if (!name_valid(t->name) ||
		    (i > 0 && strcmp(im->topics[i - 1]->name, t->name) >= 0))
			return false;
		if (topic_id_zero(t->id) || (i > 0 && memcmp(im->topics_by_id[i - 1]->id,
							     im->topics_by_id[i]->id, 16) >= 0))
			return false;
		if (image_topic_find_id(im, t->id) != t || t->changed_gen > im->generation ||
		    t->created_gen > t->changed_gen || t->npartitions < 1 ||
		    t->npartitions > TOPICDEF_PARTITIONS_MAX || t->replication_factor < 1 ||
		    t->replication_factor > IMAGE_REPLICAS_MAX)
			return false;
		for (uint16_t j = 0; j < t->nconfigs; j++)
			if ((j > 0 && strcmp(t->configs[j - 1].key, t->configs[j].key) >= 0) ||
			    topicdef_config_check(t->configs[j].key, t->configs[j].value, NULL) !=
				    0)
				return false;
		total += (uint64_t)t->npartitions;
	}
	if (total != im->npartitions_total || total > IMAGE_PARTITIONS_MAX)
		return false;
	if (total > 0) {
		groups = malloc(total * sizeof *groups);
		if (groups == NULL)
			return true; /* cannot check the rest without memory; not a violation */
	}
	for (uint32_t i = 0; ok && i < im->ntopics; i++) {
		const struct image_topic *t = im->topics[i];
		for (int32_t p = 0; ok && p < t->npartitions; p++) {
			const struct image_partition *pp = &t->partitions[p];
			groups[k++] = pp->group_id;
			ok = pp->group_id >= IMAGE_GROUP_ID_FIRST &&
			     pp->group_id < im->next_group_id && pp->nreplicas >= 1 &&
			     pp->nreplicas <= IMAGE_REPLICAS_MAX &&
			     pp->changed_gen <= t->changed_gen && pp->changed_gen >= t->created_gen;
			for (uint8_t r = 0; ok && r < pp->nreplicas; r++) {
				ok = image_node_find(im, pp->replicas[r]) != NULL;
				for (uint8_t j = 0; ok && j < r; j++)
					ok = pp->replicas[j] != pp->replicas[r];
			}
		}
	}
	if (ok && k > 0) {
		qsort(groups, k, sizeof *groups, u64_cmp);
		for (uint64_t i = 1; ok && i < k; i++)
			ok = groups[i - 1] != groups[i];
	}
	free(groups);
	return ok;
}
