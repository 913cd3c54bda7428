#!/usr/bin/python3
"""Acknowledged writes survive a leader's SIGKILL and a node's SIGSTOP in a 3-node cluster.

1. Three nodes; topic "chaos", 6 partitions, replication factor 3; all nodes agree on leaders.
2. An idempotent producer (confluent-kafka, enable.idempotence, acks=all, uncompressed) sends a
   numbered stream (value = the sequence number, partition = number mod 6) at a steady rate for
   about 26 s and records the (partition, offset) of every acknowledged message from its
   delivery report. Meanwhile: at +4 s the leader of partition 0 is killed with SIGKILL; at +8 s
   it is restarted on its data; once it is ready, at +12 s or later, another node (one that
   leads a partition if possible) is SIGSTOPped for 3 s (the election timeout is 1-2 s) and then
   SIGCONTed.
3. The producer delivers everything (no delivery error, no fatal error) and two acknowledgements
   never name the same offset.
4. Each partition is read back with a consumer: every acknowledged message is at its
   acknowledged offset with its value; no sequence number is stored twice; offsets the consumer
   skips are exactly the control batches (Raft barriers and configuration entries) in the
   leader's segment files.
5. Once every replica's files reach the high watermark, all nodes stop with SIGTERM (exit 0);
   the segment files of the three replicas of each partition are compared batch by batch up to
   the shortest replica's end (identical bytes, no exception), every replica holds at least the
   committed prefix (the high watermark the consumer saw), each replica's batches are contiguous
   with right CRCs, and every record stored in any replica equals what the consumer read at that
   offset.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clusterlib as cl_  # noqa: E402

from confluent_kafka import KafkaException, Producer  # noqa: E402

BUDGET_S = 230
TOPIC, PARTS = "chaos", 6
RATE_PER_S = 400
PRODUCE_S = 26.0
KILL_AT, RESTART_AT, STOP_AT, STOP_FOR = 4.0, 8.0, 12.0, 3.0


def run(cl, c):
    ids = cl.ids()
    c.check("three nodes registered with a controller", bool(cl.wait_registered(3, 30)),
            str({i: (sorted(m.brokers), m.controller) for i, m in cl.metadata_views().items()}))
    cl.create_topic(TOPIC, PARTS, 3)
    leaders = cl.wait_leaders(TOPIC, PARTS, 30)
    c.check("topic %s: leaders agreed on every partition %s" % (TOPIC, leaders), bool(leaders))
    if not leaders:
        return

    acks = {}          # seq -> (partition, offset)
    by_offset = {}     # (partition, offset) -> seq
    collisions, errors, fatal = [], [], []
    ack_times = []     # monotonic time of each delivery report, for the phase counts

    def dr(err, msg):
        if err is not None:
            errors.append(str(err))
            return
        seq = int(msg.value())
        key = (msg.partition(), msg.offset())
        if key in by_offset and by_offset[key] != seq:
            collisions.append("%s acknowledged for %d and %d" % (key, by_offset[key], seq))
        by_offset[key] = seq
        acks[seq] = key
        ack_times.append(time.monotonic())

    def on_error(err):
        if err.fatal():
            fatal.append(str(err))

    prod = Producer({"bootstrap.servers": cl.bootstrap(), "acks": "all",
                     "enable.idempotence": True, "compression.codec": "none",
                     "linger.ms": 5, "message.timeout.ms": 120000, "request.timeout.ms": 10000,
                     "retry.backoff.ms": 50, "topic.metadata.refresh.interval.ms": 2000,
                     "error_cb": on_error})

    t0 = time.monotonic()
    events = []   # (seconds since t0, what)
    victim = cl.node(leaders[0])
    stopped = None
    state = "before-kill"
    seq = 0
    while True:
        now = time.monotonic() - t0
        if now >= PRODUCE_S:
            break
        want = int(now * RATE_PER_S)
        try:
            while seq < want:
                try:
                    prod.produce(TOPIC, value=b"%d" % seq, partition=seq % PARTS,
                                 on_delivery=dr)
                    seq += 1
                except BufferError:
                    prod.poll(0.05)
            prod.poll(0.01)
        except KafkaException as e:
            # A fatal error (librdkafka raises it from produce/poll): the producer is unusable;
            # what it had acknowledged is still checked below.
            fatal.append(str(e))
            events.append((now, "producer fatal error: %s" % str(e)[:300]))
            state = "producer-fatal"
            break
        died = cl.unexpected_exits()
        if died:
            events.append((now, "node(s) exited on their own (exit status by node): %s" % died))
            state = "node-died"
            break
        if state == "before-kill" and now >= KILL_AT:
            victim.kill9()
            events.append((now, "SIGKILL node %d (leader of %s-0)" % (victim.id, TOPIC)))
            state = "killed"
        elif state == "killed" and now >= RESTART_AT:
            victim.start(wait=False)
            events.append((now, "restart node %d" % victim.id))
            state = "restarting"
        elif state == "restarting":
            if not victim.alive():
                events.append((now, "node %d exited after restart: %s" % (
                    victim.id, victim.proc.returncode)))
                state = "restart-failed"
            elif victim.is_ready():
                events.append((now, "node %d ready" % victim.id))
                state = "restarted"
        elif state == "restarted" and now >= STOP_AT:
            others = [n for n in cl.nodes if n.id != victim.id and n.alive()]
            views = cl.metadata_views(others, [TOPIC])
            led = {}
            for p in range(PARTS):
                named = {m.leader(TOPIC, p) for m in views.values()}
                if len(named) == 1 and named != {-1} and named != {None}:
                    ld = named.pop()
                    led[ld] = led.get(ld, 0) + 1
            cands = sorted(others, key=lambda n: -led.get(n.id, 0))
            stopped = cands[0]
            stopped.sigstop()
            t_stop = now
            events.append((now, "SIGSTOP node %d (leads %s partitions by the others' Metadata)" % (
                stopped.id, led.get(stopped.id, 0))))
            state = "stopped"
        elif state == "stopped" and now >= t_stop + STOP_FOR:
            stopped.sigcont()
            events.append((now, "SIGCONT node %d" % stopped.id))
            state = "continued"
    events.append((time.monotonic() - t0, "stop producing after %d messages" % seq))
    # A node that died on its own may leave a partition without a majority: do not wait long.
    try:
        left = prod.flush(90 if state not in ("node-died", "producer-fatal") else 15)
    except KafkaException as e:
        fatal.append(str(e))
        left = len(prod)
    events.append((time.monotonic() - t0, "flushed (%d left)" % left))
    for t, what in events:
        print("# +%5.1fs %s" % (t, what), flush=True)
    marks = [0.0] + [t for t, _ in events] + [1e9]
    for a, b in zip(marks, marks[1:]):
        n = len([x for x in ack_times if a <= x - t0 < b])
        print("#   acknowledgements in [+%.1f, +%.1f): %d" % (a, min(b, 999), n), flush=True)
    c.check("the fault schedule ran: kill, restart, ready, SIGSTOP, SIGCONT",
            state == "continued", "ended in state %s" % state)
    c.check("every one of the %d messages is acknowledged (no delivery error, none left)" % seq,
            left == 0 and not errors and len(acks) == seq,
            "left %d, acked %d, %d errors e.g. %s" % (left, len(acks), len(errors), errors[:3]))
    c.check("the idempotent producer saw no fatal error", not fatal, str(fatal[:3]))
    c.check("no two acknowledgements name the same offset", not collisions, str(collisions[:3]))
    last_ack = max(ack_times) - t0 if ack_times else 0
    c.check("acknowledgements continued after the last fault (last at +%.1fs)" % last_ack,
            bool(ack_times) and last_ack > STOP_AT + STOP_FOR)

    # ---- read back ------------------------------------------------------------------------------
    leaders = cl.wait_leaders(TOPIC, PARTS, 30)
    c.check("after the faults all nodes agree on leaders again %s" % leaders, bool(leaders),
            str({i: {p: m.leader(TOPIC, p) for p in range(PARTS)}
                 for i, m in cl.metadata_views(topics=[TOPIC]).items()}))
    if not leaders:
        return
    consumed, hws = {}, {}
    wrong, dup, gap_bad, gaps = [], [], [], 0
    for p in range(PARTS):
        recs, hw = cl_.read_partition(cl.bootstrap(), TOPIC, p, timeout_s=60)
        consumed[p], hws[p] = recs, hw
        seen = {}
        for o, (_k, v) in recs.items():
            s = int(v)
            if s in seen:
                dup.append("partition %d: %d at offsets %d and %d" % (p, s, seen[s], o))
            seen[s] = o
        batches, problems = cl.node(leaders[p]).read_replica(TOPIC, p)
        gp, ng, _ = cl_.gap_problems(recs.keys(), hw, batches)
        gaps += ng
        gap_bad += ["partition %d: %s" % (p, x) for x in problems + gp]
    for s, (p, o) in acks.items():
        got = consumed[p].get(o)
        if got is None or got[1] != b"%d" % s:
            wrong.append("%d acknowledged at %s-%d@%d, read %s" % (s, TOPIC, p, o, got))
    c.check("every acknowledged message (%d) is read back at its acknowledged offset with its "
            "value" % len(acks), not wrong, "%d wrong, e.g. %s" % (len(wrong), wrong[:5]))
    c.check("no sequence number is stored twice (idempotence across failovers)", not dup,
            "%d duplicates, e.g. %s" % (len(dup), dup[:5]))
    c.check("offsets the consumer skipped (%d) are exactly control batches in the leaders' "
            "segment files" % gaps, not gap_bad, "; ".join(gap_bad[:6]))

    # ---- replicas ---------------------------------------------------------------------------
    behind = cl.replicas_behind(TOPIC, hws, timeout_s=30)
    c.check("every replica's files reach the high watermark of its partition", not behind,
            "still behind (replica ends by node) %s, high watermarks %s" % (behind, hws))
    c.check("all three nodes are running before the clean stop",
            all(n.alive() for n in cl.nodes), str({n.id: n.proc.poll() for n in cl.nodes}))
    rcs = cl.stop_all()
    c.check("all nodes stop cleanly on SIGTERM", all(rc == 0 for rc in rcs.values()), str(rcs))
    diff, short, crc, cont, stray = [], [], [], [], []
    for p in range(PARTS):
        per, problems = cl.read_all_replicas(TOPIC, p)
        crc += problems
        common, mism = cl_.compare_replicas(per)
        diff += ["partition %d: %s" % (p, m) for m in mism]
        for i, bs in per.items():
            end = cl_.replica_end(bs)
            if end < hws[p]:
                short.append("partition %d node %d ends at %d < high watermark %d" % (
                    p, i, end, hws[p]))
            cont += ["partition %d node %d: %s" % (p, i, x)
                     for x in cl_.batch_continuity_problems(bs)]
            for b in bs:
                for o, _k, v in b.records or []:
                    if b.is_control or o >= hws[p]:
                        continue
                    if consumed[p].get(o, (None, None))[1] != v:
                        stray.append("partition %d node %d offset %d holds %r, consumer read %r"
                                     % (p, i, o, v, consumed[p].get(o)))
        print("# partition %d: high watermark %d, replica ends %s, compared up to %d, %d "
              "batches on node 1" % (p, hws[p], {i: cl_.replica_end(b) for i, b in per.items()},
                                     common, len(per.get(1, []))), flush=True)
    c.check("the three replicas of each partition hold identical batches up to the shortest "
            "one's end", not diff, "; ".join(diff[:4]))
    c.check("every replica holds at least the committed prefix", not short, "; ".join(short[:6]))
    c.check("every replica's batches are contiguous with right CRCs", not crc and not cont,
            "; ".join((crc + cont)[:6]))
    c.check("every record stored in any replica is the one the consumer read at its offset",
            not stray, "%d, e.g. %s" % (len(stray), stray[:4]))
    for n in cl.nodes:
        ev = n.leading_events()
        print("# node %d: %d leadership changes for %s: %s" % (
            n.id, len([e for e in ev if e[2].startswith(TOPIC + "-")]), TOPIC,
            ", ".join("%s %s t%d" % (e[1], e[2], e[3]) for e in ev
                      if e[2].startswith(TOPIC + "-"))[:600]), flush=True)


def main():
    return cl_.main(run, BUDGET_S, 3)


if __name__ == "__main__":
    sys.exit(main())
