/*
 * shim: the layer that makes canonical raft 0.15.0 (Debian 12 libraft-dev) safe for Sluice.
 *
 * It wraps a group's `struct raft_io` in place: shim_install() saves the io's methods and puts
 * its own in front of them, so raft calls the shim and the shim calls the saved ("inner")
 * methods. The inner io may be Sluice's own io (rio in cons.c), a simulation io, or the library's
 * raft_fixture io in tests. The shim applies the mitigations M1-M6 of shared/raft-defects.md;
 * each can be switched off for the tests that prove it is needed (docs/raft-defects.md holds the
 * table defect -> mitigation -> test).
 *
 *   M1  an inner append/snapshot_put/snapshot_get completing with status != 0, or append/
 *       truncate failing synchronously, never reaches raft: the shim stops the group (fatal hook)
 *       and parks the completion until raft_close, when it is handed to raft (then harmless,
 *       raft is RAFT_UNAVAILABLE) so raft releases its memory.
 *   M2  after every tick/recv/completion delivery (and after shim_started), a leader whose term
 *       has no barrier yet gets raft_barrier(); shim_leader_ready() is true only once that
 *       barrier has been applied in the current term.
 *   M3  successful APPEND_ENTRIES_RESULT messages of the current term addressed to a leader are
 *       held (in order) until the leader's last stored entry is of its current term (with M2
 *       that is the barrier), then delivered. So 0.15.0's replicationQuorum(last_stored) only
 *       ever counts replicas of a current-term entry (Raft §5.4.2).
 *   M4  while a follower has appends or an install (snapshot_put with trailing 0) in flight,
 *       ticks are skipped and TIMEOUT_NOW is held until nothing is in flight.
 *   M5  sends: (a) a successful AE result sent synchronously inside the delivery of an
 *       AppendEntries has last_log_index clamped to prev_log_index + n_entries; (b) an AE result
 *       sent from an append/snapshot_put completion whose submission term differs from the
 *       current term is dropped; (c) an AE result sent from a completion while not follower or
 *       to a server outside the configuration, or any AE result to id 0 / a NULL address, is
 *       dropped. A dropped send still completes its callback, asynchronously (at the end of
 *       the current entry into raft, or at close).
 *   M6  a send without callback is given to the inner io with a shim-owned request, so the
 *       inner io never keeps a pointer to raft's (or the caller's) `req`.
 *   rollback guard (baa8f52): an AppendEntries that would make raft roll back an uncommitted
 *       configuration whose committed predecessor is no longer in the in-memory log (a debug
 *       raft asserts in membershipRollback; Debian's NDEBUG build reads through a NULL entry)
 *       is discarded and the group is stopped through the fatal hook instead of crashing the
 *       process.
 *   M7 (API discipline) lives with the callers: group commit (applyq.h), shim_transfer() below
 *       for leadership transfer with retry, and using request indexes instead of
 *       raft_last_applied() in callbacks.
 *
 * Call order: raft_init(r, io, ...) -> shim_install(r, io, ...) -> [raft_bootstrap] ->
 * raft_start(r) -> shim_started(s) ... raft_close(r, cb) -> (in cb or later) shim_free(s).
 *
 * Invariants:
 *   1. raft never sees a non-zero status from storage while M1 is on.
 *   2. Messages held by M3/M4 are delivered in arrival order or dropped once stale.
 *   3. All entry points of all shims run on the thread that installed them (the io lookup
 *      table is thread-local).
 *   4. After the fatal hook fired, raft receives no tick, message or completion until
 *      raft_close (the group is frozen as a crashed process would be).
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
	bool rollback_guard; /* baa8f52 detection */
};

void shim_config_default(struct shim_config *c);

/* Called once when storage failed (M1) or the group cannot continue safely (e.g. raft is about
 * to crash rolling back a configuration, baa8f52): the owner must stop the group
 * (raft_close) and may reopen it from disk. `why` names the cause for the log. The hook runs
 * inside an io callback or inside raft: it must not call raft_close synchronously (defer it
 * to the next loop turn). */
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
 * Allocates the shim (NULL on ENOMEM or if `io` is already wrapped). The shim is freed by
 * shim_free after raft_close's callback. `cfg` NULL means shim_config_default; `hooks` may
 * be NULL. Both are copied. */
struct shim *shim_install(struct raft *r, struct raft_io *io, const struct shim_config *cfg,
			  const struct shim_hooks *hooks);

/* Call right after raft_start() (or raft_fixture_start) returned 0: a single-voter group may
 * already be leader and needs its M2 barrier. */
void shim_started(struct shim *s);

/* M2: true when this node is leader and the barrier of its current term has been applied, i.e.
 * the node knows the commit index of its term and may act as leader (serve reads, accept
 * writes). With M2 switched off it is raft_state() == RAFT_LEADER. False once stopped. */
bool shim_leader_ready(const struct shim *s);

/* True once the fatal hook has fired (the group is frozen until raft_close). */
bool shim_stopped(const struct shim *s);

/* M7 transfer discipline (64b0b8b, f65b6e7, c6cfe58). Asks raft to hand leadership to
 * `target` (0: raft picks an up-to-date voter) and, if raft's attempt ends with this node still
 * leader (TimeoutNow lost or ignored, transfer expired after election_timeout), asks again, up
 * to `attempts_max` attempts in total. The raft_transfer request lives inside the shim, so no
 * caller memory is ever referenced by the io. `cb` (may be NULL) runs once: status 0 when this
 * node is no longer leader, SLUICE_ETIMEDOUT when every attempt ended with this node still
 * leader, SLUICE_ECLOSED when the group closed or stopped first. Returns 0, SLUICE_EBUSY if a
 * transfer is already running, SLUICE_ENOTLEADER if not leader, SLUICE_EINVAL for a bad target.
 * `cb` never runs before shim_transfer returns. */
typedef void (*shim_transfer_cb)(void *arg, int status);
int shim_transfer(struct shim *s, raft_id target, unsigned attempts_max, shim_transfer_cb cb,
		  void *arg);

/* Statistics for tests and logs. */
struct shim_stats {
	uint64_t barriers;          /* M2 barriers issued */
	uint64_t results_held;      /* M3 */
	uint64_t results_overflow;  /* M3 results dropped because the hold queue was full */
	uint64_t ticks_skipped;     /* M4 */
	uint64_t timeout_now_held;  /* M4 */
	uint64_t timeout_now_stale; /* M4 held TimeoutNow dropped because the term moved on */
	uint64_t clamped;           /* M5a */
	uint64_t dropped_stale;     /* M5b */
	uint64_t dropped_role;      /* M5c */
	uint64_t sends_copied;      /* M6 */
	uint64_t rollbacks_refused; /* baa8f52 guard */
	uint64_t transfer_attempts; /* shim_transfer raft_transfer calls */
	uint64_t failures;          /* M1 (and the guard): times the group was stopped */
};
const struct shim_stats *shim_stats(const struct shim *s);

/* Restores the io's methods and frees the shim. NULL is accepted. Precondition: raft was never
 * started, or raft_close's io close has completed (every request the shim handed to the inner
 * io has completed). */
void shim_free(struct shim *s);

#endif
