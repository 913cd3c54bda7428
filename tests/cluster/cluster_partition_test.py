#!/usr/bin/python3
"""A network partition isolates one node of three; the majority goes on, the isolated leader
acknowledges nothing, and after healing the isolated node catches up.

The partition is made by TCP proxies the test owns on the peer links: each node gets its own
controller.quorum.voters in which every other node's peer address is a proxy (one per ordered
pair of nodes, forwarding to the real peer listener); node ids are the same everywhere, only the
addresses differ. Cutting a node closes the existing connections through its proxies and refuses
new ones, in both directions.

1. Three nodes; topic "part", 6 partitions, RF 3; leaders agreed; 600 messages acks=all.
2. The node leading the most partitions (K) is cut off from both others.
3. While K is cut off, raw Produce requests (acks=-1, timeout 3 s) keep going to K for each
   partition it led: none is acknowledged (each fails, times out or gets no answer).
4. The two others agree on leaders among themselves for all 6 partitions; a producer that
   bootstraps from them gets 1,200 messages acks=all acknowledged on every partition. K's log
   shows it stopped leading each of those partitions.
5. Healed: all three agree on leaders again; 600 more messages acks=all are acknowledged.
6. Every acknowledged message is read back at its offset with its value, none twice; skipped
   offsets are control batches. K's replica files reach each partition's high watermark; after
   a clean stop the three replicas of each partition hold identical batches up to the shortest
   end, and every replica holds the committed prefix.
"""

import os
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clusterlib as cl_  # noqa: E402
from clusterlib import sluicetest  # noqa: E402

from confluent_kafka import Producer  # noqa: E402

BUDGET_S = 230
TOPIC, PARTS = "part", 6
ISOLATED_S_MIN = 8.0


class IsolatedReader(threading.Thread):
    """Keeps sending raw Fetch requests for `partition` (offset 0) to the isolated node until
    stopped; records (monotonic time the answer arrived, error code, high watermark)."""

    def __init__(self, node, partition):
        super().__init__(daemon=True)
        self.node, self.partition = node, partition
        self.stop_flag = threading.Event()
        self.answers = []

    def run(self):
        while not self.stop_flag.is_set():
            try:
                with self.node.conn(timeout_s=5) as conn:
                    err, hw, _recs = conn.fetch(TOPIC, self.partition, 0, max_wait_ms=0)
                self.answers.append((time.monotonic(), err, hw))
            except (OSError, cl_.KafkaError):
                pass
            self.stop_flag.wait(0.05)


def produce(bootstrap, prefix, count, acks, times=None):
    """Sends `count` messages b'<prefix>-<i>' round-robin over the partitions (acks=all,
    idempotent); returns (left, errors)."""
    errors = []

    def dr(err, msg):
        if err is None:
            acks[msg.value()] = (msg.partition(), msg.offset())
            if times is not None:
                times.setdefault(msg.partition(), time.monotonic())
        else:
            errors.append(str(err))

    prod = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                     "compression.codec": "none", "linger.ms": 5, "message.timeout.ms": 60000,
                     "retry.backoff.ms": 50})
    for i in range(count):
        prod.produce(TOPIC, value=b"%s-%d" % (prefix, i), partition=i % PARTS, on_delivery=dr)
        if i % 100 == 0:
            prod.poll(0)
    return prod.flush(60), errors


class IsolatedWriter(threading.Thread):
    """Keeps sending raw acks=-1 Produce requests for `partition` to the isolated node until
    stopped; records each outcome."""

    def __init__(self, node, partition):
        super().__init__(daemon=True)
        self.node, self.partition = node, partition
        self.stop_flag = threading.Event()
        self.outcomes = []   # (value, outcome): error code, 'no answer' or 'closed'
        self.values = []

    def run(self):
        k = 0
        while not self.stop_flag.is_set():
            value = b"isolated-%d-%d" % (self.partition, k)
            k += 1
            self.values.append(value)
            try:
                with self.node.conn(timeout_s=8) as conn:
                    err, base = conn.produce(TOPIC, self.partition,
                                             cl_.record_batch([(None, value)]), acks=-1,
                                             timeout_ms=3000)
                self.outcomes.append((value, err, base))
            except OSError as e:
                self.outcomes.append((value, "no answer (%s)" % type(e).__name__, None))
            except cl_.KafkaError as e:
                self.outcomes.append((value, "closed (%s)" % e, None))
            self.stop_flag.wait(0.5)


def run(cl, proxies, c):
    ids = cl.ids()
    cl.start()
    c.check("three nodes registered with a controller through the proxies",
            bool(cl.wait_registered(3, 30)),
            str({i: (sorted(m.brokers), m.controller) for i, m in cl.metadata_views().items()}))
    cl.create_topic(TOPIC, PARTS, 3)
    leaders = cl.wait_leaders(TOPIC, PARTS, 30)
    c.check("topic %s: leaders agreed %s" % (TOPIC, leaders), bool(leaders))
    if not leaders:
        return
    acks = {}
    left, errs = produce(cl.bootstrap(), b"pre", 600, acks)
    c.check("600 messages acknowledged before the partition", left == 0 and not errs
            and len(acks) == 600, "left %d, errors %s" % (left, errs[:3]))

    # ---- cut K off -------------------------------------------------------------------------------
    counts = {i: list(leaders.values()).count(i) for i in ids}
    k = max(ids, key=lambda i: counts[i])
    node_k = cl.node(k)
    majority = [n for n in cl.nodes if n.id != k]
    pk = [p for p in range(PARTS) if leaders[p] == k]
    t_cut_wall = time.time()
    for (i, j), px in proxies.items():
        if k in (i, j):
            px.cut()
    t_cut = time.monotonic()
    print("# cut node %d off (it led partitions %s)" % (k, pk), flush=True)
    writers = [IsolatedWriter(node_k, p) for p in pk]
    readers = [IsolatedReader(node_k, p) for p in pk]
    for w in writers + readers:
        w.start()

    maj_ids = [n.id for n in majority]
    new_leaders = cl.wait_leaders(TOPIC, PARTS, 30, nodes=majority, among=maj_ids)
    c.check("the majority (%s) agrees on leaders among itself for all partitions in %.1fs: %s"
            % (maj_ids, time.monotonic() - t_cut, new_leaders), bool(new_leaders),
            str({i: {p: m.leader(TOPIC, p) for p in range(PARTS)}
                 for i, m in cl.metadata_views(majority, [TOPIC]).items()}))
    maj_acks, first_ack = {}, {}
    left, errs = produce(cl.bootstrap(majority), b"maj", 1200, maj_acks, first_ack)
    acks.update(maj_acks)
    per_part = {p: len([1 for v in maj_acks.values() if v[0] == p]) for p in range(PARTS)}
    c.check("the majority acknowledges 1200 messages acks=all on every partition %s" % per_part,
            left == 0 and not errs and len(maj_acks) == 1200, "left %d, errors %s" % (
                left, errs[:3]))

    def stepped_down():
        ev = node_k.leading_events()
        return all(any(e[1] == "no longer leading" and e[2] == "%s-%d" % (TOPIC, p)
                       and (e[0] or 0) >= t_cut_wall - 0.5 for e in ev) for p in pk)
    c.check("the isolated node's log shows it stopped leading %s" % pk,
            bool(cl_.wait_until(stepped_down, 10, 0.3)),
            str([e for e in node_k.leading_events() if e[2].startswith(TOPIC + "-")][-8:]))
    rest = ISOLATED_S_MIN - (time.monotonic() - t_cut)
    if rest > 0:
        time.sleep(rest)
    for w in writers + readers:
        w.stop_flag.set()
    for w in writers + readers:
        w.join(15)
    # Reads on the isolated leader: its read lease ends when its links to the majority break,
    # so it never serves a read once the majority has acknowledged a newer write.
    stale, refused = [], {}
    for r in readers:
        first = first_ack.get(r.partition)
        for t, err, hw in r.answers:
            if err == cl_.ERR_NONE and first is not None and t >= first:
                stale.append("p%d: served hw %d %.3fs after the majority's first ack" % (
                    r.partition, hw, t - first))
            if err == cl_.ERR_NOT_LEADER_OR_FOLLOWER:
                refused.setdefault(r.partition, t - t_cut)
    print("# isolated node's reads: %s; first NOT_LEADER_OR_FOLLOWER after the cut: %s" % (
        {r.partition: len(r.answers) for r in readers},
        {p: "%.3fs" % v for p, v in refused.items()}), flush=True)
    c.check("the isolated leader answers reads of %s with NOT_LEADER_OR_FOLLOWER once its "
            "lease is gone" % pk, all(p in refused for p in pk) and
            all(r.answers for r in readers), str(refused))
    c.check("the isolated leader serves no read after the majority acknowledged a write",
            not stale, "; ".join(stale[:5]))
    outcomes = [o for w in writers for o in w.outcomes]
    acked_iso = [o for o in outcomes if o[1] == 0]
    summary = {}
    for o in outcomes:
        summary[str(o[1])] = summary.get(str(o[1]), 0) + 1
    c.check("no Produce to the isolated node is acknowledged (%d attempts: %s)" % (
        len(outcomes), summary), bool(outcomes) and not acked_iso, str(acked_iso[:3]))

    ex = cl.unexpected_exits()
    c.check("all three nodes kept running while node %d was cut off" % k, not ex,
            "exit status by node: %s (a negative status is the signal)" % ex)

    # ---- heal ----------------------------------------------------------------------------------------
    for px in proxies.values():
        px.heal()
    t_heal = time.monotonic()
    healed = cl.wait_leaders(TOPIC, PARTS, 30)
    c.check("after healing all three agree on leaders in %.1fs: %s" % (
        time.monotonic() - t_heal, healed), bool(healed),
        str({i: {p: m.leader(TOPIC, p) for p in range(PARTS)}
             for i, m in cl.metadata_views(topics=[TOPIC]).items()}))
    left, errs = produce(cl.bootstrap(), b"post", 600, acks)
    c.check("600 more messages acknowledged after healing", left == 0 and not errs,
            "left %d, errors %s" % (left, errs[:3]))

    # ---- read back and compare ---------------------------------------------------------------------
    leaders = cl.wait_leaders(TOPIC, PARTS, 30) or healed
    if not leaders:
        return
    consumed, hws = {}, {}
    wrong, dup, gap_bad = [], [], []
    for p in range(PARTS):
        recs, hw = cl_.read_partition(cl.bootstrap(), TOPIC, p)
        consumed[p], hws[p] = recs, hw
        vals = [v for _k, v in recs.values()]
        if len(vals) != len(set(vals)):
            dup.append("partition %d: %d records, %d distinct" % (p, len(vals), len(set(vals))))
        batches, problems = cl.node(leaders[p]).read_replica(TOPIC, p)
        gp, _n, _ = cl_.gap_problems(recs.keys(), hw, batches)
        gap_bad += ["partition %d: %s" % (p, x) for x in problems + gp]
    for v, (p, o) in acks.items():
        if consumed[p].get(o, (None, None))[1] != v:
            wrong.append("%s acked at %d@%d, read %s" % (v, p, o, consumed[p].get(o)))
    c.check("every acknowledged message (%d) is at its offset with its value" % len(acks),
            not wrong, "%d wrong, e.g. %s" % (len(wrong), wrong[:4]))
    c.check("no message is stored twice", not dup, "; ".join(dup))
    c.check("skipped offsets are control batches in the leaders' segment files", not gap_bad,
            "; ".join(gap_bad[:6]))
    iso_values = {v for w in writers for v in w.values}
    kept = [v for p in range(PARTS) for _k, v in consumed[p].values() if v in iso_values]
    print("# %d of the isolated node's unacknowledged writes are in the healed log%s" % (
        len(kept), (": %s" % kept[:5]) if kept else ""), flush=True)

    behind = cl.replicas_behind(TOPIC, hws, nodes=[node_k], timeout_s=30)
    c.check("the isolated node's replicas catch up to every partition's high watermark",
            not behind, "still behind (node %d's replica ends) %s, high watermarks %s" % (
                k, behind, hws))
    behind_all = cl.replicas_behind(TOPIC, hws, timeout_s=15)
    c.check("all three nodes are running before the clean stop",
            all(n.alive() for n in cl.nodes), str({n.id: n.proc.poll() for n in cl.nodes}))
    rcs = cl.stop_all()
    c.check("all nodes stop cleanly on SIGTERM", all(rc == 0 for rc in rcs.values()), str(rcs))
    diff, short, bad = [], [], []
    for p in range(PARTS):
        per, problems = cl.read_all_replicas(TOPIC, p)
        bad += problems
        common, mism = cl_.compare_replicas(per)
        diff += ["partition %d: %s" % (p, m) for m in mism]
        for i, bs in per.items():
            if cl_.replica_end(bs) < hws[p]:
                short.append("partition %d node %d ends at %d < %d" % (
                    p, i, cl_.replica_end(bs), hws[p]))
            bad += ["partition %d node %d: %s" % (p, i, x)
                    for x in cl_.batch_continuity_problems(bs)]
        print("# partition %d: high watermark %d, replica ends %s, compared up to %d" % (
            p, hws[p], {i: cl_.replica_end(b) for i, b in per.items()}, common), flush=True)
    c.check("the replicas of each partition (the isolated node's included) hold identical "
            "batches up to the shortest end", not diff, "; ".join(diff[:4]))
    c.check("every replica holds the committed prefix", not short and not behind_all,
            "; ".join(short[:6]))
    c.check("every replica's batches are contiguous with right CRCs", not bad, "; ".join(bad[:6]))


def main():
    c = sluicetest.Checks()
    t0 = cl_.guard(c, BUDGET_S)
    try:
        proxies = {}

        def voters_for(node):
            return ",".join(
                "%d@127.0.0.1:%d" % (n.id, n.peer_port if n.id == node.id
                                     else proxies[(node.id, n.id)].port) for n in cl.nodes)

        with cl_.Cluster(3, voters_for=voters_for, start=False) as cl:
            try:
                for a in cl.nodes:
                    for b in cl.nodes:
                        if a.id != b.id:
                            proxies[(a.id, b.id)] = cl_.Proxy(b.peer_port, "%d-%d" % (a.id, b.id))
                run(cl, proxies, c)
            finally:
                cl.check_health(c)
                for px in proxies.values():
                    px.close()
    except Exception as e:  # noqa: BLE001
        c.check("no exception", False, "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()))
    print("# total %.1fs" % (time.monotonic() - t0), flush=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
