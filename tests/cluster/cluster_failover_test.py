#!/usr/bin/python3
"""Failover time: from SIGKILL of a partition's leader to the first acks=all write to that
partition acknowledged by its new leader, with default Raft timeouts (heartbeat 100 ms,
election 1000-2000 ms).

Three nodes; topic "failover", 3 partitions, RF 3. Three rounds, each on partition r mod 3:
  - all nodes agree on leaders; a warmed-up confluent-kafka producer (acks=all, idempotent,
    retry.backoff.ms=20, fast metadata refresh) has nothing in flight;
  - the partition's leader is killed with SIGKILL (time T0), and one message is produced to the
    partition at once; the client retries on its own (connection loss, metadata refresh,
    NOT_LEADER_OR_FOLLOWER) until the message is acknowledged (time T1);
  - failover = T1 - T0; the acknowledging leader is checked to be another node (Metadata), and
    the new leader's "leading" log line gives the election part of it;
  - the killed node is restarted and the cluster waits until all three agree on leaders again.
Prints each round and the median as `failover_ms=...`. The hard check is a sanity bound of
10 s per round (the target is 2 s; a loaded machine must not make this test flaky); the median
against the 2 s target is reported as a line, not a check.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clusterlib as cl_  # noqa: E402

from confluent_kafka import Producer  # noqa: E402

BUDGET_S = 200
TOPIC, PARTS, ROUNDS = "failover", 3, 3
SANITY_BOUND_MS = 10000
TARGET_MS = 2000
ACK_WAIT_S = 30


def run(cl, c):
    c.check("three nodes registered with a controller", bool(cl.wait_registered(3, 30)))
    cl.create_topic(TOPIC, PARTS, 3)
    leaders = cl.wait_leaders(TOPIC, PARTS, 30)
    c.check("topic %s: leaders agreed %s" % (TOPIC, leaders), bool(leaders))
    if not leaders:
        return
    results = []
    delivered = []

    def dr(err, msg):
        delivered.append((time.monotonic(), err, msg.partition(), msg.offset(), msg.value()))

    prod = Producer({"bootstrap.servers": cl.bootstrap(), "acks": "all",
                     "enable.idempotence": True, "linger.ms": 0, "retry.backoff.ms": 20,
                     "message.timeout.ms": ACK_WAIT_S * 1000, "request.timeout.ms": 5000,
                     "topic.metadata.refresh.fast.interval.ms": 50,
                     "topic.metadata.refresh.interval.ms": 1000,
                     "reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 200})
    for p in range(PARTS):  # warm up: connections to every leader, a producer id
        prod.produce(TOPIC, value=b"warm-%d" % p, partition=p, on_delivery=dr)
    prod.flush(30)
    c.check("warm-up messages acknowledged on every partition",
            len(delivered) == PARTS and all(d[1] is None for d in delivered), str(delivered))

    for r in range(ROUNDS):
        p = r % PARTS
        leaders = cl.wait_leaders(TOPIC, PARTS, 30)
        if not leaders:
            c.check("round %d: leaders agreed before the kill" % r, False)
            break
        old = cl.node(leaders[p])
        views = cl.metadata_views(topics=[TOPIC])
        old_term = max((m.topics[TOPIC]["partitions"][p]["epoch"] for m in views.values()
                        if TOPIC in m.topics), default=-1)
        prod.flush(10)
        delivered.clear()
        value = b"round-%d" % r
        wall0 = time.time()
        t0 = time.monotonic()
        old.kill9()
        prod.produce(TOPIC, value=value, partition=p, on_delivery=dr)
        deadline = t0 + ACK_WAIT_S
        while not delivered and time.monotonic() < deadline:
            prod.poll(0.005)
        ok = bool(delivered) and delivered[0][1] is None
        ms = (delivered[0][0] - t0) * 1000 if ok else None
        new_leader = None
        if ok:
            views = cl.metadata_views(topics=[TOPIC])
            new_leader = {m.leader(TOPIC, p) for m in views.values()}
        election, new_term = None, None
        for n in cl.nodes:
            if n is old:
                continue
            for ts, what, tp, term in n.leading_events("%s-%d" % (TOPIC, p)):
                if what == "leading" and ts is not None and ts >= wall0 - 0.01:
                    e = (ts - wall0) * 1000
                    if election is None or e < election:
                        election, new_term = e, term
        print("# round %d: killed node %d (leader of %s-%d, term %d); failover_ms=%s; new leader "
              "%s; its 'leading' line at +%s ms in term %s" % (
                  r, old.id, TOPIC, p, old_term, "%.0f" % ms if ms is not None else "none",
                  new_leader, "%.0f" % election if election is not None else "?", new_term),
              flush=True)
        c.check("round %d: a write to %s-%d is acknowledged after its leader's SIGKILL" % (
            r, TOPIC, p), ok, str(delivered[:1]))
        if ok:
            results.append(ms)
            c.check("round %d: ...by another node (Metadata now names %s)" % (r, new_leader),
                    bool(new_leader) and old.id not in new_leader and -1 not in new_leader)
            c.check("round %d: failover within the %d ms sanity bound (%.0f ms)" % (
                r, SANITY_BOUND_MS, ms), ms < SANITY_BOUND_MS)
        old.start()
        back = cl.wait_leaders(TOPIC, PARTS, 30)
        c.check("round %d: node %d restarted and all three agree on leaders" % (r, old.id),
                bool(back))
    if results:
        med = cl_.median(results)
        print("failover_ms=%.0f (median of %s; target %d ms, %s)" % (
            med, ", ".join("%.0f" % x for x in results), TARGET_MS,
            "met" if med <= TARGET_MS else "NOT met"), flush=True)
        c.check("median failover %.0f ms is within the sanity bound" % med,
                med < SANITY_BOUND_MS and len(results) == ROUNDS)
    else:
        print("failover_ms=none (no round completed)", flush=True)


def main():
    return cl_.main(run, BUDGET_S, 3)


if __name__ == "__main__":
    sys.exit(main())
