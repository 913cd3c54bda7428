/*
 * cluster: the node's place in the cluster — the peer transport, the consensus runtime, the
 * metadata controller group and its image, the reconciler that runs this node's replicas, the
 * leadership table, and the admin APIs that change metadata (CreateTopics, DeleteTopics,
 * InitProducerId's id blocks) by going through the controller.
 *
 * Happy path: at start the node opens the controller group (group id 0, voters from
 * controller.quorum.voters, bootstrapped when pristine) over `<log.dirs>/__cluster_metadata-0`.
 * Its state machine is the metadata image (meta/image.h); commands travel as the value of a
 * one-record RecordBatch. Once a controller leader exists, the node registers itself
 * (REGISTER_NODE); the controller leader creates __consumer_offsets when it is missing. Every
 * change of the image schedules a reconcile (outside raft's callbacks), which creates the
 * broker's topic records and opens the partition replicas placed on this node (each a Raft
 * group bootstrapped with the partition's replica list), and closes and removes those of deleted
 * topics.
 *
 * Commands from any node reach the controller leader: a node that is not the leader sends them
 * over the peer link (channel CONTROL) and the leader answers when the command is committed and
 * applied, with the image's result (error code, rejected field, message, ids). A node outside
 * controller.quorum.voters that knows no leader yet (it is not a member of the controller group
 * until it has registered) sends to the voters in turn; a voter that does not lead answers with
 * the leader's id (CTL_LEADER) and the command goes there.
 *
 * Leadership: every node announces, every second and when it changes, the partitions whose
 * ready leader it is (group id and term) to every peer (channel LEADERS); Metadata answers from
 * the local replica when it has one, else from the announcements (highest term wins, entries
 * expire after LEADER_TTL_MS).
 *
 * Peer frames (big-endian):
 *   CONTROL submit:   u8 1, u64 request id, command bytes (image_cmd encoding)
 *   CONTROL result:   u8 2, u64 request id, i32 status, u8 field, i64 producer_id_first,
 *                     u64 group_id_first, u16 message length, message
 *   CONTROL leader:   u8 4, u64 request id, u32 the controller leader's node id
 *   CONTROL member?:  u8 5, u64 group id (a replica the image dropped asks the group's leader)
 *   CONTROL member:   u8 6, u64 group id, u8 0 (not a member: the removal is committed) or 1
 *   LEADERS:          u32 count, count x (u64 group id, u64 term)
 *
 * Failure modes: a submission unanswered (no leader, lost link) is re-sent every tick to the
 * current leader until its deadline, then fails with SLUICE_ETIMEDOUT (a re-sent command may be
 * applied twice; commands are written so that the repeat is rejected, e.g. EEXIST). A replica
 * that fails to open is logged and retried at the next reconcile.
 *
 * Invariants:
 *   1. Reconcile runs only from the loop's check phase, never inside a raft callback.
 *   2. b->topics mirrors the image's topics (names, ids, partition counts, configs).
 */
#include "broker/cluster.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/codec.h"
#include "base/err.h"
#include "base/slog.h"
#include "broker/internal.h"
#include "broker/offsets.h"
#include "kafka/records.h"
#include "meta/image.h"
#include "peer/peer.h"
#include "raft/cons.h"
#include "storage/batch.h"

#define CONTROLLER_GROUP_ID 0
#define CONTROLLER_DIR "__cluster_metadata-0"
/* A leadership announcement not refreshed for this long is forgotten. */
#define LEADER_TTL_MS 5000
#define ANNOUNCE_MS 1000
/* Apply results kept for proposers (ring by entry offset). */
#define RESULTS_MAX 256
/* Submissions in flight from this node. */
#define SUBMITS_MAX 4096
/* Leadership table size (power of two). */
#define LEADER_BUCKETS 4096

_Static_assert(IMAGE_REPLICAS_MAX == CONS_REPLICAS_MAX,
	       "a partition's replica list must fit a Raft group's configuration");

enum {
	CTL_SUBMIT = 1,
	CTL_RESULT = 2,
	CTL_ELECT = 3,
	CTL_LEADER = 4,
	CTL_MEMBER_QUERY = 5,
	CTL_MEMBER_ANSWER = 6,
};

/* A committed registration not yet seen in our image is not repeated for this long. */
#define REGISTER_RETRY_MS 10000
/* A controller leader named by a voter (CTL_LEADER) is tried for this long. */
#define LEADER_HINT_MS 2000

/* Preferred-leader balancing runs this often (Kafka: leader.imbalance.check.interval). */
#define BALANCE_MS 10000

struct result_slot {
	int64_t offset;
	int status;
	struct image_result res;
};

struct submit {
	uint64_t id;
	struct buf *cmd;
	int64_t deadline_ms;
	cluster_submit_cb cb;
	void *arg;
	bool proposed_here;
	struct submit *next;
};

struct leader_entry {
	uint64_t group;
	uint64_t term;
	uint32_t node;
	int64_t seen_ms;
	struct leader_entry *next;
};

/* A command a peer asked this (leader) node to commit. */
struct remote_submit {
	struct cluster *c;
	uint32_t from;
	uint64_t id;
};

struct cluster {
	struct broker *b;
	struct peer_net *peer;
	struct cons_node *cons;
	struct cons_transport transport;
	uv_timer_t tick_timer;
	uv_check_t check;
	struct cons_group *ctl;
	struct image image;
	bool image_ok;
	uint64_t reconciled_gen;
	bool reconcile_needed;
	struct result_slot results[RESULTS_MAX];
	struct submit *submits;
	int nsubmits;
	uint64_t next_submit_id;
	struct leader_entry *leaders[LEADER_BUCKETS];
	int64_t announce_ms;
	bool announce_now;
	int64_t balance_ms;
	int64_t membership_ms;
	bool membership_busy; /* a replica list differs from its group's membership */
	bool registering;
	int64_t registered_ms; /* when our last registration was committed */
	bool ready_logged;
	uint32_t leader_hint; /* controller leader named by a voter, when ours is unknown */
	int64_t leader_hint_ms;
	unsigned voter_turn;  /* round robin over voters while no leader is known */
	bool offsets_creating;
	int64_t pid_block_end;
	bool pid_allocating;
	struct cluster_pid_waiter *pid_waiters;
	int closing;
	void (*stop_cb)(void *arg);
	void *stop_arg;
	char peer_addr[64];
};

static int64_t now_ms(struct cluster *c)
{
	return (int64_t)(clock_mono_ns(c->b->clock) / 1000000u);
}

/* Whether `id` is in controller.quorum.voters (with no voters, this node alone votes). */
static bool is_voter(const struct cluster *c, uint32_t id)
{
	const struct broker_config *cfg = &c->b->cfg;
	if (cfg->nvoters == 0)
		return id == (uint32_t)cfg->node_id;
	for (int i = 0; i < cfg->nvoters; i++)
		if ((uint32_t)cfg->voters[i].id == id)
			return true;
	return false;
}

/* Who opens the peer connection between us and `id`: between two voters or two other nodes the
 * lower id; between a voter and another node, the other node (voters learn of a joining node
 * from its dial; it knows them from controller.quorum.voters). */
static enum peer_dial dial_of(const struct cluster *c, uint32_t id)
{
	bool we = is_voter(c, (uint32_t)c->b->cfg.node_id), they = is_voter(c, id);
	if (we == they)
		return PEER_DIAL_AUTO;
	return we ? PEER_DIAL_IN : PEER_DIAL_OUT;
}

/* Declares every node of the image with a peer address to the transport (a no-op for those
 * known and unchanged). */
static void peers_sync(struct cluster *c)
{
	for (uint32_t i = 0; i < c->image.nnodes; i++) {
		const struct image_node *node = &c->image.nodes[i];
		if (node->id == (uint32_t)c->b->cfg.node_id || node->peer_host == NULL ||
		    node->peer_port == 0 || is_voter(c, node->id))
			continue; /* voters come from the configuration */
		int rv = peer_net_add_node_dial(c->peer, node->id, node->peer_host,
						node->peer_port, dial_of(c, node->id));
		if (rv != 0)
			SLOG_WARN(MOD, "msg=\"cannot add peer node\" node=%u addr=%s:%u err=\"%s\"",
				  node->id, node->peer_host, node->peer_port, err_str(rv));
	}
}

/* ---- transport glue ---- */

static int transport_send(struct cons_transport *t, uint32_t node, const struct iovec *iov,
			  int iovcnt)
{
	struct cluster *c = (struct cluster *)((char *)t - offsetof(struct cluster, transport));
	return peer_net_send(c->peer, node, PEER_CHANNEL_RAFT, iov, iovcnt);
}

static void on_control(struct cluster *c, uint32_t from, const uint8_t *p, size_t n);
static void on_leaders(struct cluster *c, uint32_t from, const uint8_t *p, size_t n);

static void on_peer_frame(void *arg, uint32_t from, uint16_t channel, const uint8_t *p, size_t n)
{
	struct cluster *c = arg;
	if (c->closing)
		return;
	switch (channel) {
	case PEER_CHANNEL_RAFT:
		cons_node_recv(c->cons, from, p, n);
		break;
	case PEER_CHANNEL_CONTROL:
		on_control(c, from, p, n);
		break;
	case PEER_CHANNEL_LEADERS:
		on_leaders(c, from, p, n);
		break;
	default:
		break;
	}
}

static void on_peer_link(void *arg, uint32_t node, bool up)
{
	struct cluster *c = arg;
	if (c->closing)
		return;
	SLOG_INFO(MOD, "msg=\"peer link %s\" node=%u", up ? "up" : "down", node);
	cons_node_link(c->cons, node, up);
	if (up)
		c->announce_now = true;
}

/* ---- leadership table ---- */

static unsigned leader_bucket(uint64_t g)
{
	return (unsigned)((g * 0x9e3779b97f4a7c15ull) >> 52) & (LEADER_BUCKETS - 1);
}

static void leader_note(struct cluster *c, uint64_t group, uint64_t term, uint32_t node)
{
	unsigned bk = leader_bucket(group);
	struct leader_entry *e;
	for (e = c->leaders[bk]; e != NULL; e = e->next)
		if (e->group == group)
			break;
	if (e == NULL) {
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			return;
		e->group = group;
		e->next = c->leaders[bk];
		c->leaders[bk] = e;
	} else if (term < e->term && now_ms(c) - e->seen_ms < LEADER_TTL_MS) {
		return; /* an older term's leader: the newer announcement wins */
	}
	e->term = term;
	e->node = node;
	e->seen_ms = now_ms(c);
}

static uint32_t leader_lookup(struct cluster *c, uint64_t group)
{
	for (struct leader_entry *e = c->leaders[leader_bucket(group)]; e != NULL; e = e->next)
		if (e->group == group)
			return now_ms(c) - e->seen_ms < LEADER_TTL_MS ? e->node : 0;
	return 0;
}

static void on_leaders(struct cluster *c, uint32_t from, const uint8_t *p, size_t n)
{
	if (n < 4)
		return;
	uint32_t count = be32_get(p);
	if (count > (n - 4) / 16)
		return;
	for (uint32_t i = 0; i < count; i++)
		leader_note(c, be64_get(p + 4 + 16 * i), be64_get(p + 12 + 16 * i), from);
}

static void announce(struct cluster *c)
{
	struct wbuf w;
	wbuf_init(&w);
	wbuf_be32(&w, 0);
	uint32_t count = 0;
	struct broker *b = c->b;
	for (int i = 0; i < b->topics.n; i++) {
		struct topic_state *ts = b->topics.v[i]->data;
		if (ts == NULL)
			continue;
		for (int j = 0; j < b->topics.v[i]->partitions; j++) {
			struct partition *p = ts->parts[j];
			if (partition_is_leader(p)) {
				wbuf_be64(&w, cons_group_id(p->group));
				wbuf_be64(&w, cons_term(p->group));
				count++;
			}
		}
	}
	if (!w.oom) {
		be32_put(w.data, count);
		struct iovec iov = {.iov_base = w.data, .iov_len = w.len};
		for (uint32_t i = 0; i < c->image.nnodes; i++) {
			uint32_t id = c->image.nodes[i].id;
			if (id != (uint32_t)b->cfg.node_id)
				peer_net_send(c->peer, id, PEER_CHANNEL_LEADERS, &iov, 1);
		}
	}
	wbuf_free(&w);
	c->announce_ms = now_ms(c);
	c->announce_now = false;
}

int32_t cluster_partition_leader(struct broker *b, const struct partition *p, uint64_t group)
{
	struct cluster *c = b->cluster;
	if (p != NULL && p->group != NULL) {
		if (partition_is_leader(p))
			return b->cfg.node_id;
		uint32_t l = cons_leader(p->group);
		if (l != 0 && l != (uint32_t)b->cfg.node_id)
			return (int32_t)l;
		if (l == (uint32_t)b->cfg.node_id)
			return -1; /* elected here but not ready yet */
	}
	uint32_t l = leader_lookup(c, group);
	return l != 0 ? (int32_t)l : -1;
}

int32_t cluster_controller_id(struct broker *b)
{
	struct cluster *c = b->cluster;
	if (c->ctl == NULL)
		return -1;
	uint32_t l = cons_leader(c->ctl);
	return l != 0 ? (int32_t)l : -1;
}

const struct image *cluster_image(struct broker *b)
{
	return &b->cluster->image;
}

/* ---- commands ---- */

/* Wraps command bytes as the value of a one-record RecordBatch (a Raft entry is a batch). */
static int wrap_command(const uint8_t *cmd, size_t n, struct wbuf *out)
{
	struct records_batch_params bp;
	struct records_new rec = {0};
	records_batch_params_default(&bp);
	rec.timestamp = 0;
	rec.key = (struct kafka_bytes){NULL, -1};
	rec.value = (struct kafka_bytes){cmd, (int32_t)n};
	return records_build(out, &bp, &rec, 1);
}

static struct result_slot *result_find(struct cluster *c, int64_t offset)
{
	struct result_slot *s = &c->results[(uint64_t)offset % RESULTS_MAX];
	return s->offset == offset ? s : NULL;
}

static void ctl_apply(void *arg, uint64_t index, const uint8_t *batch, size_t len)
{
	struct cluster *c = arg;
	struct batch_header h;
	struct records_iter it;
	struct records_record rec;

	if (batch_header_decode(batch, len, &h) != 0 || (h.attributes & BATCH_ATTR_CONTROL))
		return;
	struct result_slot *slot = &c->results[(uint64_t)h.base_offset % RESULTS_MAX];
	memset(slot, 0, sizeof(*slot));
	slot->offset = h.base_offset;
	slot->status = SLUICE_EMALFORMED;
	if (records_iter_init(&it, batch, batch_total_bytes(&h)) != 0 ||
	    records_iter_next(&it, &rec) != 1 || rec.value.len < 0)
		return;
	uint64_t gen = c->image.generation;
	slot->status = image_apply(&c->image, index, rec.value.ptr, (size_t)rec.value.len,
				   &slot->res);
	if (slot->status == SLUICE_ENOMEM) {
		/* Another controller replica may have applied it: skipping would let the images
		 * differ for good. Stop; a restart rebuilds the image from snapshot and log. */
		SLOG_ERROR(MOD, "msg=\"out of memory applying a metadata command; stopping the "
				"node so a restart rebuilds the image\" index=%" PRIu64,
			   index);
		abort();
	} else if (slot->status != 0 && slot->status != SLUICE_ESTATE)
		SLOG_INFO(MOD, "msg=\"metadata command rejected\" index=%" PRIu64 " err=\"%s\" "
			       "reason=\"%s\"",
			  index, err_str(slot->status), slot->res.errmsg);
	if (c->image.generation != gen)
		c->reconcile_needed = true;
}

static int ctl_snapshot(void *arg, struct wbuf *out)
{
	struct cluster *c = arg;
	return image_encode(&c->image, out);
}

static int ctl_restore(void *arg, const uint8_t *p, size_t n)
{
	struct cluster *c = arg;
	struct image im;
	char errmsg[ERRMSG_BYTES_MAX] = "";
	int rv = image_decode(&im, p, n, errmsg);
	if (rv != 0) {
		SLOG_ERROR(MOD, "msg=\"metadata snapshot rejected\" reason=\"%s\"", errmsg);
		return rv;
	}
	image_free(&c->image);
	c->image = im;
	c->reconcile_needed = true;
	return 0;
}

static void ctl_changed(void *arg)
{
	struct cluster *c = arg;
	c->announce_now = true;
}

static void ctl_failed(void *arg, const char *why)
{
	(void)arg;
	SLOG_ERROR(MOD, "msg=\"metadata replica stopped\" reason=\"%s\"", why);
}

static void submit_finish(struct cluster *c, struct submit *s, int status,
			  const struct image_result *res)
{
	struct submit **pp = &c->submits;
	while (*pp != NULL && *pp != s)
		pp = &(*pp)->next;
	if (*pp == s) {
		*pp = s->next;
		c->nsubmits--;
	}
	buf_unref(s->cmd);
	struct image_result empty = {0};
	if (s->cb)
		s->cb(s->arg, status, res ? res : &empty);
	free(s);
}

/* Proposes command bytes to the local controller replica (the ready leader). */
static int propose_command(struct cluster *c, const uint8_t *cmd, size_t n, cons_propose_cb cb,
			   void *arg)
{
	struct wbuf w;
	wbuf_init(&w);
	int rv = wrap_command(cmd, n, &w);
	if (rv == 0 && w.oom)
		rv = SLUICE_ENOMEM;
	int64_t base, last;
	if (rv == 0)
		rv = cons_propose(c->ctl, w.data, w.len, CONS_WAIT_COMMIT, cb, arg, &base, &last);
	wbuf_free(&w);
	return rv;
}

struct local_submit {
	struct cluster *c;
	uint64_t id;
};

static struct submit *submit_find(struct cluster *c, uint64_t id)
{
	for (struct submit *s = c->submits; s != NULL; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void local_done_cb(void *arg, int status, int64_t base, int64_t last)
{
	struct local_submit *ls = arg;
	struct cluster *c = ls->c;
	struct submit *s = submit_find(c, ls->id);
	(void)last;
	free(ls);
	if (s == NULL)
		return;
	s->proposed_here = false;
	if (status != 0)
		return; /* not committed here (leadership moved): the tick re-sends */
	struct result_slot *slot = result_find(c, base);
	if (slot == NULL) {
		submit_finish(c, s, SLUICE_EIO, NULL);
		return;
	}
	submit_finish(c, s, slot->status, &slot->res);
}

/* Where to send a command while this replica knows no controller leader (a node outside the
 * voters that is not a member of the controller group yet): the leader a voter named lately,
 * else the next voter in turn (a voter that does not lead answers CTL_LEADER). */
static uint32_t controller_guess(struct cluster *c)
{
	const struct broker_config *cfg = &c->b->cfg;
	if (c->leader_hint != 0 && now_ms(c) - c->leader_hint_ms < LEADER_HINT_MS)
		return c->leader_hint;
	for (int k = 0; k < cfg->nvoters; k++) {
		uint32_t v = (uint32_t)cfg->voters[c->voter_turn++ % (unsigned)cfg->nvoters].id;
		if (v != (uint32_t)cfg->node_id)
			return v;
	}
	return 0;
}

static void submit_send(struct cluster *c, struct submit *s)
{
	if (c->ctl == NULL || s->proposed_here)
		return;
	if (cons_is_leader(c->ctl)) {
		struct local_submit *ls = malloc(sizeof(*ls));
		if (ls == NULL)
			return;
		ls->c = c;
		ls->id = s->id;
		int rv = propose_command(c, s->cmd->data, s->cmd->len, local_done_cb, ls);
		if (rv != 0) {
			free(ls);
			return;
		}
		s->proposed_here = true;
		return;
	}
	uint32_t leader = cons_leader(c->ctl);
	if (leader == 0)
		leader = controller_guess(c);
	if (leader == 0 || leader == (uint32_t)c->b->cfg.node_id)
		return;
	uint8_t hdr[9];
	hdr[0] = CTL_SUBMIT;
	be64_put(hdr + 1, s->id);
	struct iovec iov[2] = {{.iov_base = hdr, .iov_len = 9},
			       {.iov_base = s->cmd->data, .iov_len = s->cmd->len}};
	peer_net_send(c->peer, leader, PEER_CHANNEL_CONTROL, iov, 2);
}

int cluster_submit(struct broker *b, const struct image_cmd *cmd, int64_t timeout_ms,
		   cluster_submit_cb cb, void *arg)
{
	struct cluster *c = b->cluster;
	if (c->nsubmits >= SUBMITS_MAX)
		return SLUICE_EBUSY;
	struct wbuf w;
	char errmsg[ERRMSG_BYTES_MAX] = "";
	wbuf_init(&w);
	int rv = image_cmd_encode(cmd, &w, errmsg);
	if (rv == 0 && w.oom)
		rv = SLUICE_ENOMEM;
	if (rv != 0) {
		wbuf_free(&w);
		return rv;
	}
	struct submit *s = calloc(1, sizeof(*s));
	struct buf *bytes = wbuf_take(&w);
	if (s == NULL || bytes == NULL) {
		free(s);
		buf_unref(bytes);
		return SLUICE_ENOMEM;
	}
	s->id = ++c->next_submit_id;
	s->cmd = bytes;
	s->deadline_ms = now_ms(c) + timeout_ms;
	s->cb = cb;
	s->arg = arg;
	s->next = c->submits;
	c->submits = s;
	c->nsubmits++;
	submit_send(c, s);
	return 0;
}

static void remote_done_cb(void *arg, int status, int64_t base, int64_t last)
{
	struct remote_submit *rs = arg;
	struct cluster *c = rs->c;
	(void)last;
	struct image_result empty = {0};
	const struct image_result *res = &empty;
	if (status == 0) {
		struct result_slot *slot = result_find(c, base);
		if (slot != NULL) {
			status = slot->status;
			res = &slot->res;
		} else {
			status = SLUICE_EIO;
		}
	}
	if (!c->closing) {
		struct wbuf w;
		wbuf_init(&w);
		wbuf_u8(&w, CTL_RESULT);
		wbuf_be64(&w, rs->id);
		wbuf_be32(&w, (uint32_t)status);
		wbuf_u8(&w, (uint8_t)res->field);
		wbuf_be64(&w, (uint64_t)res->producer_id_first);
		wbuf_be64(&w, res->group_id_first);
		size_t ml = strnlen(res->errmsg, sizeof(res->errmsg));
		wbuf_be16(&w, (uint16_t)ml);
		wbuf_put(&w, res->errmsg, ml);
		if (!w.oom) {
			struct iovec iov = {.iov_base = w.data, .iov_len = w.len};
			peer_net_send(c->peer, rs->from, PEER_CHANNEL_CONTROL, &iov, 1);
		}
		wbuf_free(&w);
	}
	free(rs);
}

/* Finds this node's replica of the partition whose Raft group is `group`. */
static struct partition *partition_of_group(struct cluster *c, uint64_t group)
{
	struct broker *b = c->b;
	for (int i = 0; i < b->topics.n; i++) {
		struct topic_state *ts = b->topics.v[i]->data;
		if (ts == NULL)
			continue;
		for (int j = 0; j < b->topics.v[i]->partitions; j++) {
			struct partition *p = ts->parts[j];
			if (p->group != NULL && cons_group_id(p->group) == group)
				return p;
		}
	}
	return NULL;
}

static const struct image_partition *image_partition_of(struct cluster *c,
							const struct partition *p)
{
	const struct image_topic *it =
		image_topic_find(&c->image, p->topic->name, strlen(p->topic->name));
	return it != NULL && memcmp(it->id, p->topic->id, 16) == 0
		       ? image_partition_get(it, p->index)
		       : NULL;
}

/* Moves leadership of a partition this node leads to its preferred replica (the first of its
 * replica list) through Raft's leadership transfer. */
static int elect_preferred_local(struct cluster *c, struct partition *p)
{
	const struct image_partition *ip = image_partition_of(c, p);
	if (ip == NULL || ip->nreplicas == 0)
		return SLUICE_ENOTFOUND;
	uint32_t preferred = ip->replicas[0];
	if (preferred == (uint32_t)c->b->cfg.node_id)
		return SLUICE_EEXIST; /* already there */
	if (!partition_is_leader(p))
		return SLUICE_ENOTLEADER;
	if (!peer_net_connected(c->peer, preferred))
		return SLUICE_EBUSY;
	int rv = cons_transfer(p->group, preferred);
	if (rv == 0)
		SLOG_INFO(MOD, "msg=\"moving leadership to the preferred replica\" partition=%s-%d "
			       "to=%u",
			  p->topic->name, p->index, preferred);
	return rv;
}

int cluster_elect_preferred(struct broker *b, struct partition *p, uint64_t group)
{
	struct cluster *c = b->cluster;
	if (p != NULL && p->group != NULL && partition_is_leader(p))
		return elect_preferred_local(c, p);
	int32_t leader = cluster_partition_leader(b, p, group);
	if (leader < 0)
		return SLUICE_ENOTLEADER;
	uint8_t f[9];
	f[0] = CTL_ELECT;
	be64_put(f + 1, group);
	struct iovec iov = {.iov_base = f, .iov_len = sizeof f};
	return peer_net_send(c->peer, (uint32_t)leader, PEER_CHANNEL_CONTROL, &iov, 1);
}

/* Leader side of a reassignment: move each led partition's Raft membership towards the
 * image's replica list, one step per tick. Replica side: a replica the image no longer lists
 * closes and removes its data once the group dropped it (or after REMOVE_GRACE_MS). */
#define REMOVE_GRACE_MS 10000

static void doomed_closed_cb(void *arg);

struct removed_replica {
	struct cluster *c;
	struct fs *fs;
	char dir[PATH_MAX];
	char name[TOPIC_NAME_BYTES_MAX + 16];
	struct exec_job job;
};

static void removed_rm_work(struct exec_job *job)
{
	struct removed_replica *rr =
		(struct removed_replica *)((char *)job - offsetof(struct removed_replica, job));
	int rv = broker_remove_dir(rr->fs, rr->dir);
	if (rv != 0)
		SLOG_WARN(MOD, "msg=\"could not remove replica directory\" dir=\"%s\" err=\"%s\"",
			  rr->dir, err_str(rv));
}

static void removed_rm_done(struct exec_job *job)
{
	struct removed_replica *rr =
		(struct removed_replica *)((char *)job - offsetof(struct removed_replica, job));
	SLOG_INFO(MOD, "msg=\"replica removed\" partition=%s", rr->name);
	free(rr);
}

static void removed_closed_cb(void *arg)
{
	struct removed_replica *rr = arg;
	rr->job.work = removed_rm_work;
	rr->job.done = removed_rm_done;
	exec_submit(&rr->c->b->worker.exec, &rr->job);
}

static bool image_lists(const struct image_partition *ip, uint32_t node)
{
	for (int k = 0; k < ip->nreplicas; k++)
		if (ip->replicas[k] == node)
			return true;
	return false;
}

/* On the controller leader: makes every registered node of the image outside the voters a
 * standby of the controller group (it follows the metadata log without voting), and takes an
 * unregistered one out. SLUICE_EEXIST when nothing is left to do. */
static int controller_memberships(struct cluster *c)
{
	const struct broker_config *cfg = &c->b->cfg;
	if (cfg->nvoters == 0 || c->ctl == NULL || !cons_is_leader(c->ctl))
		return SLUICE_EEXIST;
	uint32_t voters[BROKER_VOTERS_MAX];
	uint32_t *standbys = malloc(sizeof(*standbys) * CONS_STANDBYS_MAX);
	if (standbys == NULL)
		return SLUICE_ENOMEM;
	int n = 0, m = 0;
	for (int i = 0; i < cfg->nvoters; i++)
		voters[n++] = (uint32_t)cfg->voters[i].id;
	for (uint32_t i = 0; i < c->image.nnodes && m < CONS_STANDBYS_MAX; i++)
		if (!is_voter(c, c->image.nodes[i].id) && c->image.nodes[i].registered)
			standbys[m++] = c->image.nodes[i].id;
	int rv = cons_reconfigure_standbys(c->ctl, voters, n, standbys, m);
	free(standbys);
	return rv == SLUICE_ENOTLEADER ? SLUICE_EEXIST : rv;
}

/* A replica the image no longer lists never hears of its removal from raft (the leader stops
 * sending to it): it asks the group's leader, which answers once the removal is committed. */
static void ask_membership(struct cluster *c, struct partition *p)
{
	uint32_t leader = cons_leader(p->group);
	if (leader == 0 || leader == (uint32_t)c->b->cfg.node_id)
		leader = leader_lookup(c, cons_group_id(p->group));
	if (leader == 0 || leader == (uint32_t)c->b->cfg.node_id)
		return;
	uint8_t q[9];
	q[0] = CTL_MEMBER_QUERY;
	be64_put(q + 1, cons_group_id(p->group));
	struct iovec iov = {.iov_base = q, .iov_len = sizeof q};
	peer_net_send(c->peer, leader, PEER_CHANNEL_CONTROL, &iov, 1);
}

static void memberships(struct cluster *c)
{
	struct broker *b = c->b;
	uint32_t self = (uint32_t)b->cfg.node_id;
	bool busy = false;

	c->membership_ms = now_ms(c);
	if (controller_memberships(c) != SLUICE_EEXIST)
		busy = true;
	for (int i = 0; i < b->topics.n; i++) {
		struct topic *tp = b->topics.v[i];
		struct topic_state *ts = tp->data;
		if (ts == NULL || ts->deleting)
			continue;
		for (int j = 0; j < tp->partitions; j++) {
			struct partition *p = ts->parts[j];
			if (p->group == NULL || p->closing)
				continue;
			const struct image_partition *ip = image_partition_of(c, p);
			if (ip == NULL)
				continue;
			if (partition_is_leader(p)) {
				if (cons_reconfigure(p->group, ip->replicas, ip->nreplicas) !=
				    SLUICE_EEXIST)
					busy = true;
				continue;
			}
			if (image_lists(ip, self)) {
				p->removed_since_ms = 0;
				p->removal_confirmed = false;
				continue;
			}
			busy = true;
			if (p->removed_since_ms == 0)
				p->removed_since_ms = now_ms(c);
			if (cons_member(p->group, self, NULL) && !p->removal_confirmed &&
			    now_ms(c) - p->removed_since_ms < REMOVE_GRACE_MS) {
				ask_membership(c, p);
				continue;
			}
			struct removed_replica *rr = calloc(1, sizeof(*rr));
			if (rr == NULL)
				continue;
			rr->c = c;
			rr->fs = b->fs;
			snprintf(rr->dir, sizeof rr->dir, "%s/%s-%d", b->cfg.log_dir, tp->name, j);
			snprintf(rr->name, sizeof rr->name, "%s-%d", tp->name, j);
			SLOG_INFO(MOD, "msg=\"replica moved away; closing it\" partition=%s",
				  rr->name);
			ts->nopen--;
			partition_close(p, removed_closed_cb, rr);
			/* The slot is free for a later reassignment back to this node. */
		}
	}
	c->membership_busy = busy;
}

bool cluster_reassignment_pending(struct broker *b, const struct image_topic *it, int32_t partition,
				  uint32_t *adding, int *nadding, uint32_t *removing, int *nremoving)
{
	struct cluster *c = b->cluster;
	*nadding = *nremoving = 0;
	struct topic *tp = topics_find(&b->topics, it->name, strlen(it->name));
	const struct image_partition *ip = image_partition_get(it, partition);
	if (tp == NULL || tp->data == NULL || ip == NULL || partition >= tp->partitions)
		return false;
	struct partition *p = ((struct topic_state *)tp->data)->parts[partition];
	if (p->group == NULL)
		return false;
	uint32_t cur[CONS_REPLICAS_MAX * 2];
	int ncur = cons_voters(p->group, cur, CONS_REPLICAS_MAX * 2);
	for (int k = 0; k < ip->nreplicas; k++) {
		int role = -1;
		if (!cons_member(p->group, ip->replicas[k], &role) || role != 1)
			adding[(*nadding)++] = ip->replicas[k];
	}
	for (int k = 0; k < ncur; k++)
		if (!image_lists(ip, cur[k]))
			removing[(*nremoving)++] = cur[k];
	(void)c;
	return *nadding > 0 || *nremoving > 0;
}

static void balance(struct cluster *c)
{
	struct broker *b = c->b;
	c->balance_ms = now_ms(c);
	for (int i = 0; i < b->topics.n; i++) {
		struct topic_state *ts = b->topics.v[i]->data;
		if (ts == NULL || ts->deleting)
			continue;
		for (int j = 0; j < b->topics.v[i]->partitions; j++) {
			struct partition *p = ts->parts[j];
			if (partition_is_leader(p))
				elect_preferred_local(c, p);
		}
	}
}

static void on_control(struct cluster *c, uint32_t from, const uint8_t *p, size_t n)
{
	if (n < 9)
		return;
	uint64_t id = be64_get(p + 1);
	if (p[0] == CTL_ELECT) {
		struct partition *part = partition_of_group(c, id);
		if (part != NULL)
			elect_preferred_local(c, part);
		return;
	}
	if (p[0] == CTL_MEMBER_QUERY) {
		struct partition *part = partition_of_group(c, id);
		int m = part != NULL && part->group != NULL ?
				cons_member_committed(part->group, from) : -1;
		if (m < 0)
			return; /* not the leader, or a change in flight: asked again later */
		uint8_t a[10];
		a[0] = CTL_MEMBER_ANSWER;
		be64_put(a + 1, id);
		a[9] = (uint8_t)m;
		struct iovec iov = {.iov_base = a, .iov_len = sizeof a};
		peer_net_send(c->peer, from, PEER_CHANNEL_CONTROL, &iov, 1);
		return;
	}
	if (p[0] == CTL_MEMBER_ANSWER) {
		struct partition *part = partition_of_group(c, id);
		if (n >= 10 && p[9] == 0 && part != NULL && part->group != NULL &&
		    part->removed_since_ms != 0 && !part->removal_confirmed) {
			SLOG_INFO(MOD, "msg=\"the leader confirmed this replica's removal\" "
				       "partition=%s-%d leader=%u",
				  part->topic->name, part->index, from);
			part->removal_confirmed = true;
			c->membership_busy = true;
		}
		return;
	}
	if (p[0] == CTL_LEADER) {
		uint32_t hint = n >= 13 ? be32_get(p + 9) : 0;
		if (hint == 0 || hint == (uint32_t)c->b->cfg.node_id)
			return;
		bool changed = hint != c->leader_hint;
		c->leader_hint = hint;
		c->leader_hint_ms = now_ms(c);
		/* Re-send at once only to a leader we had not been told of: two voters naming
		 * each other (stale, across a term change) must not bounce a command between
		 * them; the tick re-sends anyway. */
		struct submit *s = changed ? submit_find(c, id) : NULL;
		if (s != NULL)
			submit_send(c, s);
		return;
	}
	if (p[0] == CTL_SUBMIT) {
		if (c->ctl == NULL || !cons_is_leader(c->ctl)) {
			/* Name the leader to a submitter that may not know it (a node outside the
			 * voters); others re-send to whoever leads anyway. */
			uint32_t leader = c->ctl != NULL ? cons_leader(c->ctl) : 0;
			uint8_t ans[13];
			ans[0] = CTL_LEADER;
			be64_put(ans + 1, id);
			be32_put(ans + 9, leader);
			struct iovec iov = {.iov_base = ans, .iov_len = sizeof ans};
			if (leader != 0 && leader != from)
				peer_net_send(c->peer, from, PEER_CHANNEL_CONTROL, &iov, 1);
			return;
		}
		struct remote_submit *rs = malloc(sizeof(*rs));
		if (rs == NULL)
			return;
		rs->c = c;
		rs->from = from;
		rs->id = id;
		if (propose_command(c, p + 9, n - 9, remote_done_cb, rs) != 0)
			free(rs);
		return;
	}
	if (p[0] != CTL_RESULT || n < 9 + 4 + 1 + 8 + 8 + 2)
		return;
	struct submit *s = submit_find(c, id);
	if (s == NULL)
		return;
	struct image_result res = {0};
	int status = (int32_t)be32_get(p + 9);
	res.field = p[13];
	res.producer_id_first = (int64_t)be64_get(p + 14);
	res.group_id_first = be64_get(p + 22);
	size_t ml = be16_get(p + 30);
	if (ml > n - 32)
		ml = n - 32;
	if (ml >= sizeof(res.errmsg))
		ml = sizeof(res.errmsg) - 1;
	memcpy(res.errmsg, p + 32, ml);
	res.errmsg[ml] = '\0';
	submit_finish(c, s, status, &res);
}

static void submits_tick(struct cluster *c)
{
	int64_t now = now_ms(c);
	struct submit *s = c->submits;
	while (s != NULL) {
		struct submit *next = s->next;
		if (now >= s->deadline_ms && !s->proposed_here)
			submit_finish(c, s, SLUICE_ETIMEDOUT, NULL);
		else
			submit_send(c, s);
		s = next;
	}
}

/* ---- registration and the internal topic ---- */

static void register_cb(void *arg, int status, const struct image_result *res)
{
	struct cluster *c = arg;
	c->registering = false;
	if (status == 0)
		c->registered_ms = now_ms(c);
	if (status != 0)
		SLOG_WARN(MOD, "msg=\"node registration failed; retrying\" err=\"%s\" reason=\"%s\"",
			  err_str(status), res->errmsg);
}

static const char *advertised_host_of(const struct broker *b)
{
	return b->cfg.advertised_host[0] ? b->cfg.advertised_host : b->cfg.host;
}

/* The host other nodes reach our peer listener at: peer.listener's, unless that is a wildcard
 * address, then the advertised Kafka host. */
static const char *peer_host_of(const struct broker *b)
{
	const char *h = b->cfg.peer_host;
	if (h[0] == '\0' || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0)
		return advertised_host_of(b);
	return h;
}

static void maybe_register(struct cluster *c)
{
	struct broker *b = c->b;
	/* A voter waits for a leader; a node outside the voters asks them (submit_send). */
	if (c->registering || c->ctl == NULL ||
	    (cons_leader(c->ctl) == 0 && is_voter(c, (uint32_t)b->cfg.node_id)))
		return;
	const struct image_node *me = image_node_find(&c->image, (uint32_t)b->cfg.node_id);
	int port = b->cfg.advertised_port ? b->cfg.advertised_port : broker_port(b);
	const char *host = advertised_host_of(b);
	const char *peer_host = peer_host_of(b);
	uint16_t peer_port = peer_net_port(c->peer);
	if (me != NULL && me->registered && me->port == port && strcmp(me->host, host) == 0 &&
	    (peer_port == 0 || (me->peer_host != NULL && me->peer_port == peer_port &&
				strcmp(me->peer_host, peer_host) == 0)))
		return;
	/* Committed lately, but our image has not caught up with it yet (a node outside the
	 * voters receives the metadata log only once it is a standby). */
	if (c->registered_ms != 0 && now_ms(c) - c->registered_ms < REGISTER_RETRY_MS)
		return;
	struct image_cmd cmd;
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = IMAGE_CMD_REGISTER_NODE;
	cmd.register_node.node_id = (uint32_t)b->cfg.node_id;
	cmd.register_node.host = host;
	cmd.register_node.port = (uint16_t)port;
	if (peer_port != 0) {
		cmd.register_node.peer_host = peer_host;
		cmd.register_node.peer_port = peer_port;
	}
	if (cluster_submit(b, &cmd, 10000, register_cb, c) == 0)
		c->registering = true;
}

static void offsets_created_cb(void *arg, int status, const struct image_result *res)
{
	struct cluster *c = arg;
	c->offsets_creating = false;
	if (status != 0 && status != SLUICE_EEXIST)
		SLOG_WARN(MOD, "msg=\"creating the internal topic failed; retrying\" topic=%s "
			       "err=\"%s\" reason=\"%s\"",
			  OFFSETS_TOPIC, err_str(status), res->errmsg);
}

static void maybe_create_offsets_topic(struct cluster *c)
{
	struct broker *b = c->b;
	if (c->offsets_creating || c->ctl == NULL || !cons_is_leader(c->ctl) ||
	    image_topic_find(&c->image, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC)) != NULL)
		return;
	uint32_t nodes = image_nodes_registered(&c->image);
	/* Wait for the voters to register so the replicas spread over them. */
	uint32_t want = b->cfg.nvoters > 0 ? (uint32_t)b->cfg.nvoters : 1;
	int16_t rf = b->cfg.offsets_replication_factor > 0 ? b->cfg.offsets_replication_factor : 3;
	if (nodes < want && nodes < (uint32_t)rf)
		return;
	if ((uint32_t)rf > nodes)
		rf = (int16_t)nodes;
	if (rf < 1)
		return;
	struct image_cmd cmd;
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = IMAGE_CMD_CREATE_TOPIC;
	cmd.create_topic.name = OFFSETS_TOPIC;
	/* A fixed id: every controller that tries this proposes the same topic. */
	memcpy(cmd.create_topic.topic_id, "__consumer_offs", 16);
	cmd.create_topic.partitions =
		b->cfg.offsets_topic_num_partitions > 0 ? b->cfg.offsets_topic_num_partitions : 50;
	cmd.create_topic.replication_factor = rf;
	/* Compacted, never deleted by time; 100 MiB segments so closed segments exist to
	 * compact (Kafka's offsets.topic.segment.bytes). */
	cmd.create_topic.nconfigs = 3;
	cmd.create_topic.configs[0] = (struct image_cmd_config){"cleanup.policy", "compact"};
	cmd.create_topic.configs[1] = (struct image_cmd_config){"retention.ms", "-1"};
	cmd.create_topic.configs[2] = (struct image_cmd_config){"segment.bytes", "104857600"};
	if (cluster_submit(b, &cmd, 10000, offsets_created_cb, c) == 0) {
		c->offsets_creating = true;
		SLOG_INFO(MOD, "msg=\"creating internal topic\" topic=%s partitions=%d "
			       "replication_factor=%d",
			  OFFSETS_TOPIC, cmd.create_topic.partitions, rf);
	}
}

/* ---- producer ids ---- */

struct cluster_pid_waiter {
	void (*cb)(void *arg, int status, int64_t pid);
	void *arg;
	struct cluster_pid_waiter *next;
};

static void pid_block_cb(void *arg, int status, const struct image_result *res)
{
	struct cluster *c = arg;
	struct broker *b = c->b;
	c->pid_allocating = false;
	if (status == 0) {
		b->pid_next = res->producer_id_first;
		c->pid_block_end = res->producer_id_first + BROKER_PRODUCER_ID_BLOCK;
	}
	while (c->pid_waiters != NULL) {
		struct cluster_pid_waiter *w = c->pid_waiters;
		c->pid_waiters = w->next;
		if (status == 0 && b->pid_next < c->pid_block_end)
			w->cb(w->arg, 0, b->pid_next++);
		else
			w->cb(w->arg, status != 0 ? status : SLUICE_EBUSY, -1);
		free(w);
	}
}

int cluster_producer_id(struct broker *b, void (*cb)(void *arg, int status, int64_t pid),
			void *arg)
{
	struct cluster *c = b->cluster;
	if (b->pid_next < c->pid_block_end) {
		cb(arg, 0, b->pid_next++);
		return 0;
	}
	struct cluster_pid_waiter *w = malloc(sizeof(*w));
	if (w == NULL)
		return SLUICE_ENOMEM;
	w->cb = cb;
	w->arg = arg;
	w->next = c->pid_waiters;
	c->pid_waiters = w;
	if (!c->pid_allocating) {
		struct image_cmd cmd;
		memset(&cmd, 0, sizeof(cmd));
		cmd.type = IMAGE_CMD_ALLOCATE_PRODUCER_IDS;
		cmd.allocate_producer_ids.count = BROKER_PRODUCER_ID_BLOCK;
		int rv = cluster_submit(b, &cmd, 10000, pid_block_cb, c);
		if (rv != 0) {
			c->pid_waiters = w->next;
			free(w);
			return rv;
		}
		c->pid_allocating = true;
	}
	return 0;
}

/* ---- reconciler ---- */

static void topic_log_config(const struct broker *b, const struct topic *tp,
			     struct plog_config *cfg)
{
	const char *v;
	*cfg = b->cfg.log;
	if ((v = topic_config_get(tp, "segment.bytes")) != NULL)
		cfg->segment_bytes = strtoull(v, NULL, 10);
	if ((v = topic_config_get(tp, "segment.ms")) != NULL)
		cfg->roll_ms = strtoll(v, NULL, 10);
	if ((v = topic_config_get(tp, "retention.ms")) != NULL)
		cfg->retention_ms = strtoll(v, NULL, 10);
	if ((v = topic_config_get(tp, "retention.bytes")) != NULL)
		cfg->retention_bytes = strtoll(v, NULL, 10);
}

/* Brings the broker's record of `it` in line with the image (configs may have changed). */
static struct topic *sync_topic(struct cluster *c, const struct image_topic *it)
{
	struct broker *b = c->b;
	struct topic *tp = topics_find(&b->topics, it->name, strlen(it->name));
	struct topic_config cfg[TOPIC_CONFIGS_MAX];
	int ncfg = 0;
	for (uint16_t i = 0; i < it->nconfigs && ncfg < TOPIC_CONFIGS_MAX; i++) {
		cfg[ncfg].key = it->configs[i].key;
		cfg[ncfg].value = it->configs[i].value;
		ncfg++;
	}
	if (tp != NULL && memcmp(tp->id, it->id, 16) != 0)
		return NULL; /* an older topic of that name is still being removed */
	if (tp == NULL) {
		errmsg_t em = "";
		int rv = topics_add(&b->topics, it->name, it->npartitions, it->replication_factor,
				    cfg, ncfg, it->id, &tp, em);
		if (rv != 0) {
			SLOG_ERROR(MOD, "msg=\"cannot record topic\" topic=%s err=\"%s\"", it->name,
				   em);
			return NULL;
		}
		tp->internal = strcmp(it->name, OFFSETS_TOPIC) == 0;
		struct topic_state *ts = topic_state_new(tp, it->npartitions);
		if (ts == NULL) {
			topics_remove(&b->topics, tp);
			return NULL;
		}
		tp->data = ts;
		SLOG_INFO(MOD, "msg=\"topic known\" topic=%s partitions=%d replication_factor=%d",
			  it->name, it->npartitions, it->replication_factor);
		return tp;
	}
	/* Configs: replace the broker's copy (topics_set_configs keeps the struct). */
	topics_set_configs(tp, cfg, ncfg);
	if (it->npartitions > tp->partitions) {
		/* CreatePartitions: the new partitions' replicas open in this reconcile. */
		struct topic_state *ts = tp->data;
		if (topic_state_grow(ts, tp, it->npartitions) != 0) {
			c->reconcile_needed = true;
			return tp;
		}
		SLOG_INFO(MOD, "msg=\"topic grown\" topic=%s partitions=%d was=%d", it->name,
			  it->npartitions, tp->partitions);
		tp->partitions = it->npartitions;
	}
	return tp;
}

static void doomed_closed_cb(void *arg);

/* Opening a replica: the blocking part (files, bootstrap, producer state) on a worker, the
 * Raft start back on the loop. */
struct open_job {
	struct broker *b;
	struct partition *p;
	struct topic *tp;
	char dir[PATH_MAX];
	char name[TOPIC_NAME_BYTES_MAX + 16];
	uint32_t replicas[IMAGE_REPLICAS_MAX];
	struct partition_open_args args;
	int status;
	errmsg_t errmsg;
	struct exec_job job;
};

static void open_work(struct exec_job *job)
{
	struct open_job *oj = (struct open_job *)((char *)job - offsetof(struct open_job, job));
	oj->status = partition_prepare(oj->p, oj->tp, oj->p->index, oj->b->cluster->cons,
				       &oj->args, oj->errmsg);
}

static void open_done(struct exec_job *job)
{
	struct open_job *oj = (struct open_job *)((char *)job - offsetof(struct open_job, job));
	struct broker *b = oj->b;
	struct partition *p = oj->p;
	struct topic_state *ts = oj->tp->data;

	p->opening = false;
	b->opening--;
	if (ts->deleting) {
		/* The topic was deleted while this replica was being opened. */
		if (oj->status == 0)
			partition_discard(p);
		broker_opened_one(b);
		doomed_closed_cb(ts->doomed);
		free(oj);
		return;
	}
	if (oj->status == 0 && b->stopping) {
		partition_discard(p);
		oj->status = SLUICE_ECANCELED;
	} else if (oj->status == 0) {
		oj->status = partition_start(p, oj->errmsg);
		if (oj->status == 0) {
			ts->nopen++;
			if (oj->tp->internal)
				groups_attach_partition(b, p);
			if (b->cluster != NULL)
				b->cluster->announce_now = true;
		}
	}
	if (oj->status != 0 && oj->status != SLUICE_ECANCELED) {
		SLOG_ERROR(MOD, "msg=\"cannot open replica\" partition=%s err=\"%s\"", oj->name,
			   oj->errmsg);
		if (b->cluster != NULL)
			b->cluster->reconcile_needed = true; /* try again */
	}
	if (oj->status != 0) {
		int32_t index = p->index;
		memset(p, 0, sizeof *p);
		p->topic = oj->tp;
		p->index = index;
	}
	broker_opened_one(b);
	free(oj);
}

static void open_replica(struct cluster *c, struct topic *tp, const struct image_hosted *h)
{
	struct broker *b = c->b;
	struct topic_state *ts = tp->data;
	if (h->partition >= tp->partitions)
		return;
	struct partition *p = ts->parts[h->partition];
	if (p->group != NULL || p->opening)
		return;
	struct open_job *oj = calloc(1, sizeof(*oj));
	if (oj == NULL)
		return;
	oj->b = b;
	oj->p = p;
	oj->tp = tp;
	snprintf(oj->dir, sizeof oj->dir, "%s/%s-%d", b->cfg.log_dir, tp->name, h->partition);
	snprintf(oj->name, sizeof oj->name, "%s-%d", tp->name, h->partition);
	memcpy(oj->replicas, h->p->replicas, sizeof(uint32_t) * h->p->nreplicas);
	oj->args.dir = oj->dir;
	oj->args.name = oj->name;
	oj->args.group_id = h->group_id;
	oj->args.replicas = oj->replicas;
	/* Only the replicas the partition was created with bootstrap its group (all with the
	 * same first entry); a replica added by a reassignment starts empty and is brought in
	 * by the leader (cons_reconfigure). */
	const struct image_topic *it = h->topic;
	oj->args.n_replicas = h->p->changed_gen == it->created_gen ? h->p->nreplicas : 0;
	oj->args.preferred = h->p->replicas[0] == (uint32_t)b->cfg.node_id;
	topic_log_config(b, tp, &oj->args.config);
	memset(p, 0, sizeof *p);
	p->topic = tp;
	p->index = h->partition;
	p->opening = true;
	b->opening++;
	oj->job.work = open_work;
	oj->job.done = open_done;
	exec_submit(&b->worker.exec, &oj->job);
}

struct doomed {
	struct cluster *c;
	struct fs *fs;
	struct topic *tp;
	int closing;
	char **dirs;
	int ndirs;
	struct exec_job job;
};

static void doomed_rm_work(struct exec_job *job)
{
	struct doomed *d = (struct doomed *)((char *)job - offsetof(struct doomed, job));
	for (int i = 0; i < d->ndirs; i++) {
		int rv = broker_remove_dir(d->fs, d->dirs[i]);
		if (rv != 0)
			SLOG_WARN(MOD, "msg=\"could not remove partition directory\" dir=\"%s\" "
				       "err=\"%s\"",
				  d->dirs[i], err_str(rv));
	}
}

static void doomed_rm_done(struct exec_job *job)
{
	struct doomed *d = (struct doomed *)((char *)job - offsetof(struct doomed, job));
	for (int i = 0; i < d->ndirs; i++)
		free(d->dirs[i]);
	free(d->dirs);
	SLOG_INFO(MOD, "msg=\"topic deleted\" topic=%s", d->tp->name);
	topic_state_free(d->tp->data);
	topic_free(d->tp);
	free(d);
}

static void doomed_closed_cb(void *arg)
{
	struct doomed *d = arg;
	if (--d->closing > 0)
		return;
	d->job.work = doomed_rm_work;
	d->job.done = doomed_rm_done;
	exec_submit(&d->c->b->worker.exec, &d->job);
}

static void delete_topic_locally(struct cluster *c, struct topic *tp)
{
	struct broker *b = c->b;
	struct topic_state *ts = tp->data;
	struct doomed *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return;
	d->c = c;
	d->fs = b->fs;
	d->tp = tp;
	d->dirs = calloc((size_t)tp->partitions + 1, sizeof(*d->dirs));
	ts->deleting = true;
	ts->doomed = d;
	broker_release_waiters(tp);
	topics_detach(&b->topics, tp);
	d->closing = 1;
	for (int32_t i = 0; i < tp->partitions; i++) {
		struct partition *p = ts->parts[i];
		if (p->group == NULL && !p->opening)
			continue;
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s/%s-%d", b->cfg.log_dir, tp->name, i);
		if (d->dirs != NULL)
			d->dirs[d->ndirs++] = strdup(dir);
		d->closing++;
		if (p->group != NULL)
			partition_close(p, doomed_closed_cb, d);
		/* else: open_done discards it and calls doomed_closed_cb */
	}
	doomed_closed_cb(d);
}

static void reconcile(struct cluster *c)
{
	struct broker *b = c->b;
	c->reconcile_needed = false;
	peers_sync(c);
	snprintf(b->topics.cluster_id, sizeof b->topics.cluster_id, "%s", c->image.cluster_id);
	/* Topics gone from the image (or replaced by a new topic of the same name). */
	for (int i = b->topics.n - 1; i >= 0; i--) {
		struct topic *tp = b->topics.v[i];
		const struct image_topic *it = image_topic_find(&c->image, tp->name, strlen(tp->name));
		if (it == NULL || memcmp(it->id, tp->id, 16) != 0)
			delete_topic_locally(c, tp);
	}
	for (uint32_t i = 0; i < c->image.ntopics; i++)
		sync_topic(c, c->image.topics[i]);
	struct image_hosted *hosted = NULL;
	size_t nh = 0;
	if (image_node_hosted(&c->image, (uint32_t)b->cfg.node_id, &hosted, &nh) != 0) {
		c->reconcile_needed = true;
		return;
	}
	for (size_t i = 0; i < nh; i++) {
		const struct image_hosted *h = &hosted[i];
		struct topic *tp = topics_find(&b->topics, h->topic->name, strlen(h->topic->name));
		if (tp != NULL && tp->data != NULL && memcmp(tp->id, h->topic->id, 16) == 0)
			open_replica(c, tp, h);
	}
	free(hosted);
	c->reconciled_gen = c->image.generation;
	c->announce_now = true;
	const struct image_node *me = image_node_find(&c->image, (uint32_t)b->cfg.node_id);
	if (!c->ready_logged && me != NULL && me->registered &&
	    image_topic_find(&c->image, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC)) != NULL) {
		/* Operators and scripts wait for this line: the node is a registered member of
		 * the cluster and the internal topic exists. */
		c->ready_logged = true;
		SLOG_INFO("server", "msg=\"ready\" node=%d nodes=%u cluster_id=%s", b->cfg.node_id,
			  image_nodes_registered(&c->image), c->image.cluster_id);
	}
	broker_topics_changed(b);
}

/* ---- the loop hooks ---- */

static void tick_cb(uv_timer_t *t)
{
	struct cluster *c = t->data;
	if (c->closing)
		return;
	cons_node_tick(c->cons);
	if (c->b->stopping)
		return; /* replicas are closing: no new work, no re-registration */
	submits_tick(c);
	maybe_register(c);
	maybe_create_offsets_topic(c);
	if (c->announce_now || now_ms(c) - c->announce_ms >= ANNOUNCE_MS)
		announce(c);
	if (c->b->cfg.auto_leader_rebalance && now_ms(c) - c->balance_ms >= BALANCE_MS)
		balance(c);
	/* Membership steps: every tick while one is under way, else once a second (a scan of
	 * every replica; idle nodes with thousands of replicas should not pay it 10 times a
	 * second). */
	if (c->membership_busy || now_ms(c) - c->membership_ms >= 1000)
		memberships(c);
	broker_cluster_tick(c->b);
}

static void check_cb(uv_check_t *h)
{
	struct cluster *c = h->data;
	if (c->closing)
		return;
	cons_node_flush(c->cons);
	if (c->reconcile_needed && !c->b->stopping)
		reconcile(c);
}

/* A deterministic cluster id from the voters, so every controller replica starts its image
 * with the same one. */
static void cluster_id_of(const struct broker_config *cfg, char *out, size_t n)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint64_t h = 0xcbf29ce484222325ull;
	char buf[64];
	int nv = cfg->nvoters;
	for (int i = 0; i < (nv > 0 ? nv : 1); i++) {
		int id = nv > 0 ? cfg->voters[i].id : cfg->node_id;
		snprintf(buf, sizeof buf, "%d,", id);
		for (const char *q = buf; *q; q++)
			h = (h ^ (uint8_t)*q) * 0x100000001b3ull;
	}
	size_t k = 0;
	for (; k < 22 && k + 1 < n; k++) {
		out[k] = alphabet[h & 63];
		h = (h >> 6) | (h << 58);
		h = h * 0x9e3779b97f4a7c15ull + k;
	}
	out[k] = '\0';
}

int cluster_start(struct broker *b, char *errmsg)
{
	struct cluster *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SLUICE_ENOMEM;
	c->b = b;
	b->cluster = c;
	char cid[IMAGE_CLUSTER_ID_BYTES_MAX + 1];
	cluster_id_of(&b->cfg, cid, sizeof cid);
	int rv = image_init(&c->image, cid);
	if (rv != 0) {
		errmsg_printf(errmsg, "cluster id: %s", err_str(rv));
		goto err_after_alloc;
	}

	struct peer_config pc;
	peer_config_default(&pc);
	pc.node_id = (uint32_t)b->cfg.node_id;
	pc.cluster_id_hash = 0;
	for (const char *q = cid; *q; q++)
		pc.cluster_id_hash = (pc.cluster_id_hash ^ (uint8_t)*q) * 0x100000001b3ull;
	pc.listen_host = b->cfg.nvoters > 0 ? b->cfg.peer_host : NULL;
	pc.listen_port = (uint16_t)b->cfg.peer_port;
	/* Nodes outside the voters dial us before we know them (dial_of). */
	pc.accept_unknown = true;
	rv = peer_net_start(b->loop, &pc, on_peer_frame, on_peer_link, c, &c->peer, errmsg);
	if (rv != 0)
		goto err_after_image;
	uint32_t voters[BROKER_VOTERS_MAX];
	int nvoters = 0;
	for (int i = 0; i < b->cfg.nvoters; i++) {
		const struct broker_voter *v = &b->cfg.voters[i];
		voters[nvoters++] = (uint32_t)v->id;
		if (v->id != b->cfg.node_id)
			peer_net_add_node_dial(c->peer, (uint32_t)v->id, v->host, (uint16_t)v->port,
					       dial_of(c, (uint32_t)v->id));
	}
	if (nvoters == 0)
		voters[nvoters++] = (uint32_t)b->cfg.node_id;
	/* A node outside the voters starts its metadata replica empty: the controller leader
	 * adds it as a standby once it has registered, and it then receives the log. */
	bool voting = is_voter(c, (uint32_t)b->cfg.node_id);

	struct cons_node_config cc;
	cons_node_config_default(&cc);
	cc.node_id = (uint32_t)b->cfg.node_id;
	cc.fs = b->fs;
	cc.exec = &b->worker.exec;
	cc.clock = b->clock;
	cc.transport = &c->transport;
	if (b->cfg.raft_heartbeat_ms)
		cc.heartbeat_ms = b->cfg.raft_heartbeat_ms;
	if (b->cfg.raft_election_ms)
		cc.election_ms = b->cfg.raft_election_ms;
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
		seed = (uint64_t)getpid() * 2654435761u;
	cc.seed = seed | 1;
	c->transport.send = transport_send;
	rv = cons_node_new(&cc, &c->cons);
	if (rv != 0) {
		errmsg_printf(errmsg, "consensus: %s", err_str(rv));
		goto err_after_peer;
	}

	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/%s", b->cfg.log_dir, CONTROLLER_DIR);
	struct cons_group_config gc = {
		.group_id = CONTROLLER_GROUP_ID,
		.dir = dir,
		.name = CONTROLLER_DIR,
		.voters = voters,
		.n_voters = voting ? nvoters : 0,
		.data_in_snapshot = true,
		.campaign_first = voting && voters[0] == (uint32_t)b->cfg.node_id,
		.ops = {.apply = ctl_apply,
			.snapshot = ctl_snapshot,
			.restore = ctl_restore,
			.changed = ctl_changed,
			.failed = ctl_failed,
			.arg = c},
	};
	plog_config_default(&gc.plog);
	gc.plog.segment_bytes = 64u << 20;
	gc.plog.retention_ms = -1;
	rv = cons_group_open(c->cons, &gc, &c->ctl, errmsg);
	if (rv != 0) {
		errmsg_wrapf(errmsg, "metadata replica %s", dir);
		goto err_after_cons;
	}

	uv_timer_init(b->loop, &c->tick_timer);
	c->tick_timer.data = c;
	uv_timer_start(&c->tick_timer, tick_cb, cc.heartbeat_ms, cc.heartbeat_ms);
	uv_check_init(b->loop, &c->check);
	c->check.data = c;
	uv_check_start(&c->check, check_cb);
	c->reconcile_needed = true;
	SLOG_INFO(MOD, "msg=\"cluster started\" node=%d voters=%d voter=%s cluster_id=%s "
		       "peer_port=%u",
		  b->cfg.node_id, nvoters, voting ? "yes" : "no", cid, peer_net_port(c->peer));
	return 0;

err_after_cons:
	cons_node_free(c->cons);
err_after_peer:
	peer_net_close(c->peer, NULL, NULL);
err_after_image:
	image_free(&c->image);
err_after_alloc:
	b->cluster = NULL;
	free(c);
	return rv;
}

/* ---- stop ---- */

static void stop_step(struct cluster *c)
{
	if (--c->closing > 0)
		return;
	struct leader_entry *e;
	for (int i = 0; i < LEADER_BUCKETS; i++)
		while ((e = c->leaders[i]) != NULL) {
			c->leaders[i] = e->next;
			free(e);
		}
	while (c->submits != NULL)
		submit_finish(c, c->submits, SLUICE_ECLOSED, NULL);
	while (c->pid_waiters != NULL) {
		struct cluster_pid_waiter *w = c->pid_waiters;
		c->pid_waiters = w->next;
		w->cb(w->arg, SLUICE_ECLOSED, -1);
		free(w);
	}
	cons_node_flush(c->cons);
	cons_node_free(c->cons);
	image_free(&c->image);
	void (*cb)(void *) = c->stop_cb;
	void *arg = c->stop_arg;
	c->b->cluster = NULL;
	free(c);
	if (cb)
		cb(arg);
}

static void stop_one_cb(void *arg)
{
	stop_step(arg);
}

static void stop_handle_cb(uv_handle_t *h)
{
	stop_step(h->data);
}

void cluster_stop(struct broker *b, void (*cb)(void *arg), void *arg)
{
	struct cluster *c = b->cluster;
	c->stop_cb = cb;
	c->stop_arg = arg;
	/* The two handles, the controller group and the peer transport. Every partition group
	 * was closed by the broker before. */
	c->closing = 4;
	uv_close((uv_handle_t *)&c->tick_timer, stop_handle_cb);
	uv_close((uv_handle_t *)&c->check, stop_handle_cb);
	struct cons_group *g = c->ctl;
	c->ctl = NULL;
	cons_group_close(g, stop_one_cb, c);
	peer_net_close(c->peer, stop_one_cb, c);
}

bool cluster_ready(struct broker *b)
{
	struct cluster *c = b->cluster;
	return c != NULL && c->ctl != NULL && cons_leader(c->ctl) != 0;
}

struct cons_node *cluster_cons(struct broker *b)
{
	return b->cluster->cons;
}

/* ---- read-only views for the admin endpoint (status.c) ---- */

bool cluster_is_ready_logged(struct broker *b)
{
	return b->cluster != NULL && b->cluster->ready_logged;
}

const struct peer_net *cluster_peer_net(struct broker *b)
{
	return b->cluster->peer;
}

const struct cons_group *cluster_controller_group(struct broker *b)
{
	return b->cluster->ctl;
}
