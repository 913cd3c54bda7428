#!/usr/bin/python3
"""Catch-up after retention deleted the segments a follower needs.

Three nodes; topic "ret", 1 partition, RF 3, small segments (64 KiB) and retention.bytes
256 KiB, retention checked every 500 ms. A follower is killed; 10,000 messages of 1 KiB are
produced with acks=all (about 10 MiB: many segments roll and retention deletes the oldest on
the two live replicas, and the leader's in-memory Raft tail no longer holds them either). The follower restarts: it cannot get the deleted offsets from anyone, so
its catch-up installs the leader's snapshot, finds the leader's log start above its own end and
restarts its log there (the "catch-up log reset"), then streams the rest.

Checks: retention really deleted the start of the leader's log; the follower catches up to the
leader's end; its log starts at or after the leader's log start and every batch it holds is
byte-identical to the leader's at the same offset; its log says it reset; after the old leader is
killed the partition elects a new leader and every acknowledged message at or above the log
start (the new leader's) is read back at its acknowledged offset.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clusterlib as cl_  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

BUDGET_S = 200
TOPIC = "ret"
# About 10 MiB: well past the leader's in-memory Raft tail (threshold + trailing, about 4 MiB,
# src/raft/cons.c), so the first offsets the follower lacks exist neither on the leader's disk
# (retention) nor in its memory, and the catch-up must install a snapshot. With 3,000 (3 MiB)
# the whole tail could still be in memory when the follower came back quickly, and it caught up
# by plain AppendEntries (seen once in CI).
MESSAGES = 10000
VALUE_BYTES = 1024


def first_offset(batches):
    return batches[0].base_offset if batches else None


def run(cl, c):
    c.check("three nodes registered", bool(cl.wait_registered(3, 30)))
    cl.create_topic(TOPIC, 1, 3, config={"segment.bytes": "65536", "retention.bytes": "262144"})
    leaders = cl.wait_leaders(TOPIC, 1, 30)
    c.check("leader elected %s" % leaders, bool(leaders))
    if not leaders:
        return
    leader = cl.node(leaders[0])
    follower = next(n for n in cl.nodes if n.id != leader.id)
    follower.kill9()

    acked = {}

    def dr(err, msg):
        if err is None:
            acked[msg.offset()] = msg.value()

    prod = Producer({"bootstrap.servers": leader.bootstrap, "acks": "all", "linger.ms": 5,
                     "batch.size": 4096, "message.timeout.ms": 60000})
    for i in range(MESSAGES):
        prod.produce(TOPIC, value=b"%08d" % i + b"x" * (VALUE_BYTES - 8), partition=0,
                     on_delivery=dr)
        if i % 200 == 0:
            prod.poll(0)
    left = prod.flush(60)
    c.check("all %d messages acknowledged while the follower is down" % MESSAGES,
            left == 0 and len(acked) == MESSAGES, "%d acked, %d left" % (len(acked), left))

    def leader_start():
        b, _ = leader.read_replica(TOPIC, 0)
        return first_offset(b)

    deleted = cl_.wait_until(lambda: (leader_start() or 0) > 0, 30)
    start = leader_start() or 0
    c.check("retention deleted the start of the leader's log (log start now %d)" % start,
            bool(deleted))

    follower.start()
    lead_batches, _ = leader.read_replica(TOPIC, 0)
    end = lead_batches[-1].last_offset if lead_batches else -1
    behind = cl.replicas_behind(TOPIC, {0: end}, nodes=[follower], timeout_s=60)
    c.check("the restarted follower caught up to the leader's end %d" % end, not behind,
            str(behind))

    fb, fprob = follower.read_replica(TOPIC, 0)
    lb, lprob = leader.read_replica(TOPIC, 0)
    c.check("replica files are sound", not fprob and not lprob, str(fprob + lprob))
    fstart = first_offset(fb)
    c.check("the follower's log starts at or after the leader's log start at restart "
            "(%s >= %d)" % (fstart, start), fstart is not None and fstart >= start)
    lmap = {b.base_offset: b.raw for b in lb}
    diff = [b.base_offset for b in fb if b.base_offset in lmap and lmap[b.base_offset] != b.raw]
    missing = [b.base_offset for b in fb if b.base_offset not in lmap and
               b.base_offset >= (first_offset(lb) or 0)]
    c.check("every batch the follower holds is identical to the leader's", not diff and
            not missing, "differ %s missing %s" % (diff[:5], missing[:5]))
    flog = follower.log(since_start=True)
    c.check("the follower's catch-up restarted its log at the leader's start",
            "catchup_reset" in flog or "install_begin" in flog)

    # The follower must be able to serve as leader now.
    leader.kill9()
    others = [n for n in cl.nodes if n.id != leader.id]
    new = cl.wait_leaders(TOPIC, 1, 30, nodes=others, among=[n.id for n in others])
    c.check("a new leader among the survivors %s" % new, bool(new))
    if not new:
        return
    survivor = cl.node(new[0])
    cons = Consumer({"bootstrap.servers": survivor.bootstrap, "group.id": "ret-check",
                     "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        # Retention keeps deleting while this runs, and a replica whose catch-up restarted
        # its log starts where the leader's log started then: what must be readable is every
        # acknowledged message from the new leader's log start on.
        low, high = cons.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=10)
        c.check("the new leader's log start %d is at or below its end %d" % (low, high),
                0 <= low <= high)
        start = low
        cons.assign([TopicPartition(TOPIC, 0, low)])
        got = {}
        deadline = time.monotonic() + 60
        want = {o for o in acked if o >= start}
        while time.monotonic() < deadline and not want.issubset(got):
            m = cons.poll(0.5)
            if m is None or m.error():
                continue
            got[m.offset()] = m.value()
    finally:
        cons.close()
    bad = [o for o in want if got.get(o) != acked[o]]
    c.check("every acknowledged message at or above log start %d is read back at its offset "
            "(%d messages)" % (start, len(want)), not bad, "bad %s" % bad[:5])


def main():
    return cl_.main(run, BUDGET_S, 3, config={"log.retention.check.interval.ms": "500"})


if __name__ == "__main__":
    sys.exit(main())
