/*
 * cluster: the node's membership in the cluster (see cluster.c): peer transport, consensus
 * runtime, metadata controller and image, reconciler, leadership table, commands to the
 * controller. Broker-internal.
 */
#ifndef SLUICE_BROKER_CLUSTER_H
#define SLUICE_BROKER_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "meta/image.h"

struct broker;
struct partition;
struct cons_node;

/* Starts the peer transport, the consensus runtime and the metadata replica. Blocking (opens
 * the metadata log). */
int cluster_start(struct broker *b, char *errmsg);

/* Closes the metadata replica, the transport and the timers; every partition replica must be
 * closed already. `cb` runs when done. */
void cluster_stop(struct broker *b, void (*cb)(void *arg), void *arg);

/* status 0: the command committed and applied; else the image's rejection (res->field and
 * res->errmsg say why), SLUICE_ETIMEDOUT or SLUICE_ECLOSED. */
typedef void (*cluster_submit_cb)(void *arg, int status, const struct image_result *res);

/* Sends a command to the controller leader (wherever it is) and calls `cb` once with the
 * outcome, at the latest after `timeout_ms`. Returns SLUICE_EBUSY (too many in flight),
 * SLUICE_EINVAL (not encodable) or SLUICE_ENOMEM; `cb` is then not called. */
int cluster_submit(struct broker *b, const struct image_cmd *cmd, int64_t timeout_ms,
		   cluster_submit_cb cb, void *arg);

/* A cluster-unique producer id (blocks come from the controller). `cb` may run before return. */
int cluster_producer_id(struct broker *b, void (*cb)(void *arg, int status, int64_t pid),
			void *arg);

/* The leader of a partition as this node knows it: itself when its replica is the ready leader,
 * else its replica's view or the peers' announcements; -1 when unknown. `p` may be NULL (this
 * node has no replica). */
int32_t cluster_partition_leader(struct broker *b, const struct partition *p, uint64_t group);

/* Asks the partition's leader (this node or a peer) to hand leadership to the preferred
 * replica. Returns 0 when asked, SLUICE_EEXIST when the preferred replica already leads,
 * SLUICE_ENOTLEADER when no leader is known, SLUICE_EBUSY when the preferred replica is not
 * reachable. The outcome shows in Metadata. */
int cluster_elect_preferred(struct broker *b, struct partition *p, uint64_t group);

/* Whether the partition's Raft membership (as this node's replica sees it) still differs from
 * the image's replica list; fills the replicas still to be added as voters and those still to
 * be removed (arrays of at least IMAGE_REPLICAS_MAX * 2). False when this node has no replica. */
bool cluster_reassignment_pending(struct broker *b, const struct image_topic *it, int32_t partition,
				  uint32_t *adding, int *nadding, uint32_t *removing, int *nremoving);

int32_t cluster_controller_id(struct broker *b);
const struct image *cluster_image(struct broker *b);
bool cluster_ready(struct broker *b);
struct cons_node *cluster_cons(struct broker *b);

/* Read-only views for the admin endpoint (status.c). Whether this node has logged msg="ready"
 * (registered, and __consumer_offsets exists); the peer transport; the controller group's
 * replica on this node (NULL while it closes). */
struct peer_net;
struct cons_group;
bool cluster_is_ready_logged(struct broker *b);
const struct peer_net *cluster_peer_net(struct broker *b);
const struct cons_group *cluster_controller_group(struct broker *b);

#endif
