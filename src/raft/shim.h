/*
 * shim: the layer that makes canonical raft 0.15.0 (Debian 12 libraft-dev) safe for Sluice.
 *
 * It wraps a group's `struct raft_io` in place: shim_install() saves the io's methods and puts
 * its own in front of them, so raft calls the shim and the shim calls the saved ("inner")
 * methods. The inner io may be Sluice's own io (rio.c), a simulation io, or the library's
 * raft_fixture io in tests. The shim applies the mitigations M1-M6 of shared/raft-defects.md;
 * each can be switched off for the tests that prove it is needed (docs/raft-defects.md holds the
 * table defect -> mitigation -> test).
 *
 *   M1  an inner append/snapshot_put/snapshot_get completing with status != 0, or append/
 *       truncate failing synchronously, never reaches raft: the shim stops the group (fatal hook)
 *       and drops the completion.
 *   M2  after every tick/recv delivery (and after shim_started), a leader whose term has no
 *       barrier yet gets raft_barrier(); shim_leader_ready() is true only once that barrier has
 *       been applied in the current term.
 *   M3  APPEND_ENTRIES_RESULT messages to a leader are held (in order) until its barrier entry is
 *       stored locally (r->last_stored >= barrier_index), then delivered.
 *   M4  while a follower has appends or an install (snapshot_put with trailing 0) in flight,
 *       ticks are skipped and TIMEOUT_NOW is held until nothing is in flight.
 *   M5  sends: (a) a successful AE result sent synchronously inside the delivery of an
 *       AppendEntries has last_log_index clamped to prev_log_index + n_entries; (b) an AE result
 *       sent from an append/snapshot_put completion whose submission term differs from the
 *       current term is dropped; (c) an AE result sent while not follower, or to id 0 / a NULL
 *       address, is dropped. A dropped send still completes its callback, asynchronously.
 *   M6  a send without callback never keeps a pointer to `req`.
 *
 * Invariants:
 *   1. raft never sees a non-zero status from storage.
 *   2. Messages held by M3/M4 are delivered in arrival order or dropped once stale (term moved on).
 *   3. All entry points run on the loop thread of the group.
 */
#ifndef SLUICE_RAFT_SHIM_H
#define SLUICE_RAFT_SHIM_H

#include <raft.h>
#include <stdbool.h>
#include <stdint.h>

/* Which mitigations are on; shim_config_default() turns all on. Tests switch one off. */
struct shim_config {
	bool m1_fail_stop;
	bool m2_barrier;
	bool m3_hold_results;
	bool m4_no_candidacy_in_flight;
	bool m5a_clamp;
	bool m5b_stale_term;
	bool m5c_role_dest;
	bool m6_send_req;
};

void shim_config_default(struct shim_config *c);

/* Called once when storage failed (M1) or the group cannot continue safely (e.g. the
 * configuration-rollback assertion of baa8f52 is about to fire): the owner must stop the group
 * (raft_close) and may reopen it from disk. `why` names the cause for the log. */
typedef void (*shim_fatal_cb)(void *arg, const char *why);

/* Called after any entry into raft (tick, recv, completion, barrier) that changed the state,
 * term, leader, commit index or leader readiness. */
typedef void (*shim_change_cb)(void *arg);

struct shim_hooks {
	shim_fatal_cb fatal;
	shim_change_cb change;
	void *arg;
};

struct shim; /* opaque; one per raft group */

/* Wraps `io`, which must already be passed to raft_init(r, io, ...) and not yet started.
 * Allocates the shim (NULL on ENOMEM). The shim is freed by shim_free after raft_close's
 * callback. */
struct shim *shim_install(struct raft *r, struct raft_io *io, const struct shim_config *cfg,
			  const struct shim_hooks *hooks);

/* Call right after raft_start() (or raft_fixture_start) returned 0: a single-voter group may
 * already be leader and needs its M2 barrier. */
void shim_started(struct shim *s);

/* M2: true when this node is leader and the barrier of its current term has been applied, i.e.
 * the node knows the commit index of its term and may act as leader (serve reads, accept
 * writes). */
bool shim_leader_ready(const struct shim *s);

/* Statistics for tests and logs. */
struct shim_stats {
	uint64_t barriers;        /* M2 barriers issued */
	uint64_t results_held;    /* M3 */
	uint64_t ticks_skipped;   /* M4 */
	uint64_t timeout_now_held;/* M4 */
	uint64_t clamped;         /* M5a */
	uint64_t dropped_stale;   /* M5b */
	uint64_t dropped_role;    /* M5c */
	uint64_t failures;        /* M1 */
};
const struct shim_stats *shim_stats(const struct shim *s);

/* Restores the io's methods and frees the shim. NULL is accepted. */
void shim_free(struct shim *s);

#endif
