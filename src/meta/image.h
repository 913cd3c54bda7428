/*
 * image: the controller's state machine — the cluster's metadata image, the commands that change
 * it, where new replicas go, and its snapshot. Pure: no I/O, no clock, no randomness.
 *
 * The metadata Raft group (DESIGN.md §6) replicates encoded commands; every controller replica
 * decodes and applies each committed command to its own image, so the images stay identical as
 * long as image_apply is a function of (image, command bytes) alone. That is why placement is
 * computed inside apply, from the image, rather than by the proposer: a command carries only what
 * the client asked for (name, topic id, partition count, replication factor, configs).
 *
 * Happy path: a broker builds a struct image_cmd, image_cmd_encode()s it and proposes the bytes
 * to the controller group (it may first image_check() it against its own copy, which is what
 * CreateTopics' validate_only needs). On commit, each replica calls image_apply(index, bytes);
 * the proposer's replica returns the result (error code, rejected field, message, first producer
 * id) to the client. The reconciler on every node watches im->generation and, when it moved,
 * compares image_node_hosted() with the replicas it runs. The Raft layer snapshots with
 * image_encode() and restores with image_decode().
 *
 * Failure modes:
 *   - Garbled command bytes: image_cmd_decode / image_apply return SLUICE_EMALFORMED (or
 *     SLUICE_EVERSION for an unknown type or version) and the image is unchanged. Input is never
 *     asserted on.
 *   - A command that is well formed but not allowed (topic exists, bad partitions, unknown node,
 *     replication factor above the registered nodes...) returns a SLUICE_E* code, names the
 *     rejected field in the result and leaves the image unchanged. Every replica rejects it alike.
 *   - SLUICE_ENOMEM from image_apply also leaves the image unchanged, but it is not deterministic:
 *     another replica may have applied the command. The caller must treat it as fatal for this
 *     replica of the controller (stop the group and rebuild from snapshot + log), never skip it.
 *   - A corrupt or foreign snapshot: image_decode returns SLUICE_ECORRUPT / SLUICE_EVERSION.
 *
 * Invariants (image_invariants() checks them):
 *   1. nodes are sorted by id, ids unique and in [1, INT32_MAX]; a node has both a peer host
 *      and a peer port or neither; topics[] is sorted by name (strcmp), topics_by_id[] holds
 *      the same topics sorted by id; names and ids are unique.
 *   2. Every partition has 1..IMAGE_REPLICAS_MAX distinct replicas, each a node in the image
 *      (registered or not); every group id is unique, >= IMAGE_GROUP_ID_FIRST and
 *      < next_group_id: group ids are handed out by the image and never reused.
 *   3. Every topic's configs are sorted by key, unique, and valid per meta/topicdef.h.
 *   4. generation counts the successful commands applied; every changed_gen is <= generation.
 *   5. npartitions_total is the sum of the topics' partition counts, <= IMAGE_PARTITIONS_MAX.
 *
 * Pointers returned by the queries (nodes, topics, partitions, hosted entries' pointers) stay
 * valid until the next successful image_apply, i.e. while im->generation is unchanged.
 */
#ifndef SLUICE_META_IMAGE_H
#define SLUICE_META_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "meta/topicdef.h"

/* Snapshot format and command encoding versions (tables in image.c): the encoders write the
 * current version; the decoders also read every version from _MIN on. Version 2 of both added
 * the nodes' peer addresses. */
#define IMAGE_FORMAT_VERSION 2
#define IMAGE_FORMAT_VERSION_MIN 1
#define IMAGE_CMD_VERSION 2
#define IMAGE_CMD_VERSION_MIN 1

/* Nodes in a cluster: a bound on the placement scan (every partition looks at every node). */
#define IMAGE_NODES_MAX 1024
/* Topics in a cluster: a bound on the image's memory and snapshot size. */
#define IMAGE_TOPICS_MAX 100000
/* Partitions in the whole cluster: each is a Raft group; this bounds the image (~50 MiB). */
#define IMAGE_PARTITIONS_MAX 1000000
/* Replicas of one partition (Raft voters): more only slow every commit. Equals
 * CONS_REPLICAS_MAX in raft/cons.h. */
#define IMAGE_REPLICAS_MAX 7
/* A node's host name (DNS names are at most 253 bytes; peer hosts too) and rack. */
#define IMAGE_HOST_BYTES_MAX 255
#define IMAGE_RACK_BYTES_MAX 255
/* Kafka's cluster ids are 22 base64url characters; this leaves room for hand-made ones. */
#define IMAGE_CLUSTER_ID_BYTES_MAX 63
/* Producer ids handed out by one ALLOCATE_PRODUCER_IDS: a node asks for blocks of ~1000. */
#define IMAGE_PRODUCER_IDS_MAX (1u << 20)
/* The first producer id of a new cluster (as the single-node registry in broker/topics.c). */
#define IMAGE_PRODUCER_ID_FIRST 1000
/* Partition Raft groups are numbered from 1; group id 0 is the controller group itself. */
#define IMAGE_GROUP_ID_FIRST 1
/* The largest encoded command: a CREATE_TOPIC with every field at its limit fits. */
#define IMAGE_CMD_BYTES_MAX (128u * 1024)

struct image_node {
	uint32_t id;
	uint16_t port;
	bool registered; /* false after UNREGISTER_NODE: kept for its replicas, never placed on */
	char *host;
	char *rack;           /* NULL: no rack */
	uint64_t changed_gen; /* generation of the command that last changed this node */
	/* Where other nodes reach this one over the peer link (node to node, not Kafka): how the
	 * controller voters find a node outside controller.quorum.voters. peer_host NULL and
	 * peer_port 0 when the node registered none. */
	char *peer_host;
	uint16_t peer_port;
};

struct image_partition {
	uint64_t group_id;    /* the partition's Raft group */
	uint64_t changed_gen; /* its last reassignment's generation, else its topic's created_gen
			       * (also for partitions CREATE_PARTITIONS added: their replicas
			       * bootstrap the group like a new topic's) */
	uint8_t nreplicas;
	uint32_t replicas[IMAGE_REPLICAS_MAX]; /* node ids; [0] is the preferred leader */
};

struct image_config {
	char *key;
	char *value;
};

struct image_topic {
	char name[TOPICDEF_NAME_BYTES_MAX + 1];
	uint8_t id[16];
	int16_t replication_factor; /* as created; CREATE_PARTITIONS places this many */
	int32_t npartitions;
	struct image_partition *partitions;
	uint16_t nconfigs;
	struct image_config *configs; /* sorted by key */
	uint64_t created_gen;
	uint64_t changed_gen; /* creation, config change, new partitions or a reassignment */
};

/* Read the fields directly; change the image only through image_apply / image_decode. */
struct image {
	char cluster_id[IMAGE_CLUSTER_ID_BYTES_MAX + 1];
	uint64_t last_applied_index; /* index of the last command applied successfully */
	uint64_t generation;         /* bumped by every successful command */
	int64_t next_producer_id;
	uint64_t next_group_id;
	struct image_node *nodes; /* sorted by id */
	uint32_t nnodes;
	uint32_t nodes_cap;
	struct image_topic **topics;       /* sorted by name */
	struct image_topic **topics_by_id; /* the same topics, sorted by id (memcmp) */
	uint32_t ntopics;
	uint32_t topics_cap;
	uint64_t npartitions_total;
};

/* Commands. The numeric values are part of the encoding: never renumber. */
enum image_cmd_type {
	IMAGE_CMD_REGISTER_NODE = 1,
	IMAGE_CMD_UNREGISTER_NODE = 2,
	IMAGE_CMD_CREATE_TOPIC = 3,
	IMAGE_CMD_DELETE_TOPIC = 4,
	IMAGE_CMD_ALTER_TOPIC_CONFIG = 5,
	IMAGE_CMD_CREATE_PARTITIONS = 6,
	IMAGE_CMD_REASSIGN_PARTITION = 7,
	IMAGE_CMD_ALLOCATE_PRODUCER_IDS = 8,
};

/* A config pair in a command; in ALTER_TOPIC_CONFIG a NULL value deletes the key. */
struct image_cmd_config {
	const char *key;
	const char *value;
};

/* A command. Build one with memset(0) and the fields of its type, or get one from
 * image_cmd_decode (then it owns its strings in `mem` until image_cmd_free). */
struct image_cmd {
	enum image_cmd_type type;
	union {
		struct {
			uint32_t node_id;
			const char *host;
			uint16_t port;
			const char *rack; /* NULL: none (never "") */
			/* The peer listener: both set, or NULL and 0 for none (never ""). */
			const char *peer_host;
			uint16_t peer_port;
		} register_node;
		struct {
			uint32_t node_id;
		} unregister_node;
		struct {
			const char *name;
			uint8_t topic_id[16]; /* chosen by the proposer, non-zero */
			int32_t partitions;
			int16_t replication_factor;
			uint16_t nconfigs;
			struct image_cmd_config
				configs[TOPICDEF_CONFIGS_MAX]; /* a repeated key: last wins */
		} create_topic;
		struct {
			const char *name;
		} delete_topic;
		struct {
			const char *name;
			bool replace; /* start from no configs (AlterConfigs), else incremental */
			uint16_t nops;
			struct image_cmd_config ops[TOPICDEF_CONFIGS_MAX]; /* applied in order */
		} alter_topic_config;
		struct {
			const char *name;
			int32_t partitions; /* the new total */
		} create_partitions;
		struct {
			const char *name;
			int32_t partition;
			uint8_t nreplicas;
			/* [0] becomes the preferred leader */
			uint32_t replicas[IMAGE_REPLICAS_MAX];
		} reassign_partition;
		struct {
			uint32_t count;
		} allocate_producer_ids;
	};
	void *mem; /* image_cmd_decode's allocation; NULL for a command the caller built */
};

/* Which part of a command was rejected, so the broker can pick the Kafka error code. The values
 * travel between nodes in the controller's result frame (broker/cluster.c): append only. */
enum image_field {
	IMAGE_FIELD_NONE = 0,
	IMAGE_FIELD_NODE_ID,
	IMAGE_FIELD_HOST,
	IMAGE_FIELD_PORT,
	IMAGE_FIELD_RACK,
	IMAGE_FIELD_TOPIC_NAME,
	IMAGE_FIELD_TOPIC_ID,
	IMAGE_FIELD_PARTITIONS,
	IMAGE_FIELD_PARTITION,
	IMAGE_FIELD_REPLICATION_FACTOR,
	IMAGE_FIELD_CONFIG,
	IMAGE_FIELD_REPLICAS,
	IMAGE_FIELD_COUNT,
	IMAGE_FIELD_PEER_HOST,
	IMAGE_FIELD_PEER_PORT,
};

/* What applying (or checking) a command produced. */
struct image_result {
	enum image_cmd_type type;  /* 0 when the bytes did not decode */
	enum image_field field;    /* on error: what was rejected (IMAGE_FIELD_NONE for garbled) */
	int64_t producer_id_first; /* ALLOCATE_PRODUCER_IDS: the block is [first, first + count) */
	uint64_t group_id_first;   /* CREATE_TOPIC, CREATE_PARTITIONS: the new partitions' groups
				      are group_id_first, group_id_first + 1, ... in order */
	errmsg_t errmsg;           /* on error: the reason, for error_message */
};

/* One partition replica a node hosts (image_node_hosted). */
struct image_hosted {
	uint64_t group_id;
	const struct image_topic *topic;
	int32_t partition;
	const struct image_partition *p; /* replicas: p->replicas[0 .. p->nreplicas) */
};

/* Makes `im` an empty image of the cluster `cluster_id` (1..63 characters of [A-Za-z0-9_-]):
 * generation 0, no nodes, no topics. Returns 0 or SLUICE_EINVAL. Every replica of the controller
 * must start from the same cluster id. */
int image_init(struct image *im, const char *cluster_id);

/* Frees everything the image holds and zeroes it. Accepts NULL and a zeroed image. */
void image_free(struct image *im);

/* Appends the encoding of `c` (version IMAGE_CMD_VERSION) to `w`. Returns 0, SLUICE_EINVAL when
 * a field is outside what the encoding carries (reason in errmsg, `w` untouched) or
 * SLUICE_ENOMEM. Anything it encodes, image_cmd_decode decodes back to an equal command.
 * Semantic checks are image_check's job. */
int image_cmd_encode(const struct image_cmd *c, struct wbuf *w, char *errmsg);

/* Decodes `n` bytes of any version from IMAGE_CMD_VERSION_MIN on into `c`, validating their
 * structure. On success `c` owns its strings until image_cmd_free(c). On failure
 * (SLUICE_EMALFORMED, SLUICE_EVERSION, SLUICE_ENOMEM; reason in errmsg) nothing is allocated and
 * `c` is zeroed. */
int image_cmd_decode(struct image_cmd *c, const uint8_t *p, size_t n, char *errmsg);

/* Frees what image_cmd_decode allocated. Accepts NULL and a command built by the caller. */
void image_cmd_free(struct image_cmd *c);

/* Returns what image_apply_cmd would return for `c` on `im` now, without changing anything
 * (except for SLUICE_ENOMEM, which a check cannot see). `res` (may be NULL) gets the field and
 * message of a rejection. */
int image_check(const struct image *im, const struct image_cmd *c, struct image_result *res);

/* Applies the committed command at Raft `index`. Returns 0, with the image changed, generation
 * bumped by one and last_applied_index = index; or an error with the image unchanged:
 *   SLUICE_ESTATE      index <= last_applied_index (a replayed entry);
 *   SLUICE_EEXIST      CREATE_TOPIC of an existing name or topic id;
 *   SLUICE_ENOTFOUND   an unknown topic, partition or node;
 *   SLUICE_EINVAL      a bad name, topic id, partition count, replication factor, config,
 *                      replica list, address or count (res->field says which);
 *   SLUICE_ENOREPLICAS replication factor above the number of registered nodes;
 *   SLUICE_ETOOLARGE   a cluster limit (IMAGE_*_MAX) would be exceeded;
 *   SLUICE_ERANGE      producer or group ids would overflow;
 *   SLUICE_ENOMEM      see the failure modes above: fatal for this replica.
 * `res` may be NULL; it is filled in on success and on error. */
int image_apply_cmd(struct image *im, uint64_t index, const struct image_cmd *c,
		    struct image_result *res);

/* image_cmd_decode + image_apply_cmd: the entry point of the controller group's apply
 * callback. Garbled bytes return SLUICE_EMALFORMED / SLUICE_EVERSION with the image unchanged. */
int image_apply(struct image *im, uint64_t index, const uint8_t *p, size_t n,
		struct image_result *res);

/* Appends the snapshot of `im` (version IMAGE_FORMAT_VERSION) to `w`. Returns 0, SLUICE_ENOMEM
 * or SLUICE_ETOOLARGE; on error the bytes appended to `w` are garbage and the caller drops `w`.
 * The encoding is canonical: equal images encode to equal bytes. */
int image_encode(const struct image *im, struct wbuf *w);

/* Decodes a snapshot of any version from IMAGE_FORMAT_VERSION_MIN on into `im` (which need not
 * be initialised), validating every field and invariant. On success the caller owns `im`
 * (image_free); on failure (SLUICE_ECORRUPT, SLUICE_EVERSION, SLUICE_ENOMEM; reason in errmsg)
 * `im` is zeroed. */
int image_decode(struct image *im, const uint8_t *p, size_t n, char *errmsg);

/* True when the two images hold the same state, field by field (counters included). */
bool image_equal(const struct image *a, const struct image *b);

/* Checks invariants 1-5 of this header (O(partitions log partitions)): for tests and asserts. */
bool image_invariants(const struct image *im);

/* Queries. All return NULL when nothing matches. */
const struct image_node *image_node_find(const struct image *im, uint32_t id);
uint32_t image_nodes_registered(const struct image *im);
const struct image_topic *image_topic_find(const struct image *im, const char *name, size_t len);
const struct image_topic *image_topic_find_id(const struct image *im, const uint8_t id[16]);
const struct image_partition *image_partition_get(const struct image_topic *t, int32_t partition);
/* The topic's value for `key`, or NULL when the topic does not set it. */
const char *image_topic_config_get(const struct image_topic *t, const char *key);

/* The partition replicas placed on node `node_id`, sorted by group id, in a new array the caller
 * frees with free() (NULL when there are none). Returns 0 or SLUICE_ENOMEM. A reconciler merges
 * this against the replicas it runs, by group id: ids are never reused, so an id it runs that is
 * missing here was deleted or moved away, and one here it does not run is new to it; a
 * partition whose p->changed_gen is above the generation it last reconciled had its replica list
 * changed. */
int image_node_hosted(const struct image *im, uint32_t node_id, struct image_hosted **out,
		      size_t *n);

#endif
