#!/usr/bin/python3
"""Partition reassignment: draining a node while producers write, then adding a node.

1. Four running nodes; topic "moving", 4 partitions, replication factor 3 (so every node holds
   three of its replicas, and some of __consumer_offsets). All nodes agree on leaders.
2. An idempotent producer (acks=all) sends a numbered stream to all four partitions for the
   whole drain: a few seconds before, during, and a few seconds after it.
3. `sluice nodes drain --node N` (N: a node holding replicas of "moving", not the CLI's
   bootstrap node) plans the moves from Metadata, sends AlterPartitionReassignments and waits
   until every move is complete; it must exit 0 and report the node drained.
4. Checks: no node's Metadata lists N as a replica of any partition (internal ones included);
   every acknowledged message is read back at its acknowledged offset with its value; N's
   partition directories are deleted, each once its group's leader confirmed the removal.
5. Adding a node: node 5 is started, registers, and `sluice partitions reassign` gives
   partition 0 the list [first, second, 5] (5 replaces the third replica); node 5 must catch up
   (its replica's files reach the high watermark) and the old third replica is removed.
6. Once every current replica's files reach the high watermark, all nodes stop with SIGTERM
   (exit 0) and the replicas of each partition — the ones created by the moves included — are
   compared batch by batch: identical bytes up to the shortest end, right CRCs.

Node log lines about the moves (reassignment committed, membership changes, replicas closed and
removed) are printed at the end as evidence, whatever the outcome.

Nodes 1-3 are the controller's voters (every node's controller.quorum.voters lists only them);
nodes 4 and 5 follow the metadata group as standbys (cluster_join tests joining itself), so the
drained node and the added one may be either kind.

Needs the consensus side of reassignment (membership changes driven by the image, new replicas
opened empty and caught up, removed ones closed and deleted).
"""

import json
import os
import re
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clusterlib as cl_  # noqa: E402
from clusterlib import sluicetest  # noqa: E402

from confluent_kafka import KafkaException, Producer  # noqa: E402

BUDGET_S = 360
TOPIC, PARTS, RF = "moving", 4, 3
RATE_PER_S = 200
BEFORE_S, AFTER_S = 4.0, 3.0
DRAIN_WAIT_MS = 150000
ADD_WAIT_MS = 90000
CLI_SLACK_S = 30
REMOVE_WAIT_S = 40  # a dropped replica goes once its leader confirms (REMOVE_GRACE_MS, 10 s, at most)
EVIDENCE = re.compile(r"reassign|moved away|replica removed|member|voter|spare|standby|"
                      r"reconfig|catch", re.I)
PARTITION_DIR = re.compile(r"^(.+)-(\d+)$")


class Stream:
    """An idempotent acks=all producer sending a numbered stream in a thread."""

    def __init__(self, bootstrap):
        self.acks = {}       # seq -> (partition, offset)
        self.errors = []
        self.fatal = []
        self.ack_times = []
        self.sent = 0
        self.stop_ev = threading.Event()
        self.prod = Producer({"bootstrap.servers": bootstrap, "acks": "all",
                              "enable.idempotence": True, "compression.codec": "none",
                              "linger.ms": 5, "message.timeout.ms": 120000,
                              "request.timeout.ms": 10000, "retry.backoff.ms": 50,
                              "topic.metadata.refresh.interval.ms": 1000,
                              "error_cb": self._on_error})
        self.thread = threading.Thread(target=self._run, name="producer", daemon=True)

    def _on_error(self, err):
        if err.fatal():
            self.fatal.append(str(err))

    def _dr(self, err, msg):
        if err is not None:
            self.errors.append(str(err))
            return
        self.acks[int(msg.value())] = (msg.partition(), msg.offset())
        self.ack_times.append(time.monotonic())

    def _run(self):
        t0 = time.monotonic()
        while not self.stop_ev.is_set():
            want = int((time.monotonic() - t0) * RATE_PER_S)
            try:
                while self.sent < want:
                    try:
                        self.prod.produce(TOPIC, value=b"%d" % self.sent,
                                          partition=self.sent % PARTS, on_delivery=self._dr)
                        self.sent += 1
                    except BufferError:
                        self.prod.poll(0.05)
                self.prod.poll(0.01)
            except KafkaException as e:
                self.fatal.append(str(e))
                return

    def start(self):
        self.thread.start()

    def stop(self, flush_s=90):
        self.stop_ev.set()
        self.thread.join(30)
        try:
            return self.prod.flush(flush_s)
        except KafkaException as e:
            self.fatal.append(str(e))
            return len(self.prod)


def replica_map(md, topic=None):
    """{(topic, partition): [replicas]} from a clusterlib Metadata (every topic unless named)."""
    out = {}
    for name, t in md.topics.items():
        if topic is not None and name != topic:
            continue
        for p, info in t["partitions"].items():
            out[(name, p)] = list(info["replicas"] or [])
    return out


def partition_dirs(node):
    """Partition directories in a node's log.dirs (the controller's own log excluded)."""
    try:
        names = os.listdir(node.data_dir)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if PARTITION_DIR.match(n) and n != "__cluster_metadata-0"
                  and os.path.isdir(os.path.join(node.data_dir, n)))


def print_evidence(cl):
    for n in cl.nodes:
        lines = [ln for ln in n.log().splitlines() if EVIDENCE.search(ln)]
        print("# ---- node %d: %d reassignment-related log lines (first 12, last 12) ----" % (
            n.id, len(lines)), flush=True)
        shown = lines if len(lines) <= 24 else lines[:12] + ["..."] + lines[-12:]
        for ln in shown:
            print("# " + ln[:300], flush=True)


def drain_phase(cl, c, first4):
    c.check("four nodes registered with a controller",
            bool(cl.wait_registered(4, 30, nodes=first4)),
            str({i: (sorted(m.brokers), m.controller)
                 for i, m in cl.metadata_views(first4).items()}))
    cl.create_topic(TOPIC, PARTS, RF)
    leaders = cl.wait_leaders(TOPIC, PARTS, 30, nodes=first4)
    c.check("topic %s: leaders agreed on every partition %s" % (TOPIC, leaders), bool(leaders))
    if not leaders:
        return None
    before = replica_map(cl.node(1).metadata())
    holds = {n.id: sum(1 for (t, _p), r in before.items() if t == TOPIC and n.id in r)
             for n in first4}
    # The drained node: one holding replicas of the topic, not node 1 (the CLI's bootstrap).
    drained = max((i for i in holds if i != 1), key=lambda i: (holds[i], i))
    print("# replicas before: %s; draining node %d (holds %d replicas of %s, %d in all)" % (
        {p: before[(TOPIC, p)] for p in range(PARTS)}, drained, holds[drained], TOPIC,
        sum(1 for r in before.values() if drained in r)), flush=True)

    stream = Stream(cl.bootstrap(first4))
    stream.start()
    time.sleep(BEFORE_S)
    acked_before = len(stream.acks)
    t_drain = time.monotonic()
    rc, out, err = sluicetest.run_cli(
        ["nodes", "drain", "--node", str(drained), "--bootstrap", cl.node(1).bootstrap,
         "--timeout-ms", str(DRAIN_WAIT_MS), "--json"], DRAIN_WAIT_MS / 1000.0 + CLI_SLACK_S)
    drain_s = time.monotonic() - t_drain
    acked_during = len([t for t in stream.ack_times if t_drain <= t <= t_drain + drain_s])
    time.sleep(AFTER_S)
    left = stream.stop()
    print("# drain took %.1fs; acknowledged %d before, %d during, %d in all of %d sent" % (
        drain_s, acked_before, acked_during, len(stream.acks), stream.sent), flush=True)
    print("# drain stderr (progress):\n# " + "\n# ".join(err.strip().splitlines()[-15:]),
          flush=True)
    try:
        doc = json.loads(out) if out.strip() else None
    except ValueError:
        doc = None
    c.check("sluice nodes drain --node %d exits 0 and reports the node drained" % drained,
            rc == 0 and doc is not None and doc.get("drained") is True,
            "exit %s, stdout %r, stderr %r" % (rc, out[-2000:], err[-2000:]))
    if doc:
        rows = doc.get("partitions", [])
        bad = [r for r in rows if r.get("result") != "MOVED"]
        c.check("every planned move (%d) is MOVED, none lists node %d, lists keep their "
                "length" % (len(rows), drained),
                rows and not bad and all(drained not in r["replicas"]
                                         and len(r["replicas"]) == len(r["old_replicas"])
                                         for r in rows), str(bad[:5]))
        pref = [r for r in rows if r["old_replicas"][0] != drained
                and r["replicas"][0] != r["old_replicas"][0]]
        c.check("the preferred leader changed only where node %d was preferred" % drained,
                not pref, str(pref[:5]))
    acked_after = len([t for t in stream.ack_times if t > t_drain + drain_s])
    c.check("the producer kept being acknowledged during the drain (%d) and after it (%d)" % (
        acked_during, acked_after), acked_during > 0 and acked_after > 0)
    c.check("every one of the %d messages is acknowledged (no delivery error, none left)" %
            stream.sent, left == 0 and not stream.errors and len(stream.acks) == stream.sent,
            "left %d, acked %d, %d errors e.g. %s" % (left, len(stream.acks),
                                                     len(stream.errors), stream.errors[:3]))
    c.check("the idempotent producer saw no fatal error", not stream.fatal, str(stream.fatal[:3]))

    views = cl.metadata_views(first4)
    listing = {i: sorted("%s-%d" % k for k, r in replica_map(m).items() if drained in r)
               for i, m in views.items()}
    c.check("no node's Metadata lists node %d as a replica any more" % drained,
            len(views) == 4 and all(not v for v in listing.values()),
            "%s" % {i: v[:6] for i, v in listing.items()})

    leaders = cl.wait_leaders(TOPIC, PARTS, 30, nodes=first4)
    c.check("all nodes agree on leaders after the drain %s" % leaders, bool(leaders))
    wrong = []
    consumed = {}
    for p in range(PARTS):
        recs, hw = cl_.read_partition(cl.bootstrap(first4), TOPIC, p, timeout_s=60)
        consumed[p] = (recs, hw)
    for s, (p, o) in stream.acks.items():
        got = consumed[p][0].get(o)
        if got is None or got[1] != b"%d" % s:
            wrong.append("%d acknowledged at %s-%d@%d, read %s" % (s, TOPIC, p, o, got))
    c.check("every acknowledged message (%d) is read back at its acknowledged offset with its "
            "value" % len(stream.acks), not wrong, "%d wrong, e.g. %s" % (len(wrong), wrong[:5]))

    dirs = cl_.wait_until(lambda: not partition_dirs(cl.node(drained)), REMOVE_WAIT_S, 0.5)
    c.check("node %d's partition directories are deleted" % drained, bool(dirs),
            "still there: %s" % partition_dirs(cl.node(drained))[:10])
    confirmed = cl.node(drained).log().count("the leader confirmed this replica's removal")
    c.check("node %d closed its replicas on the leaders' word, not after the grace period "
            "(%d confirmations)" % (drained, confirmed), confirmed > 0)
    return drained, before, stream


def add_phase(cl, c, first4):
    n5 = cl.node(5)
    n5.start()
    views = cl.wait_registered(5, 30, nodes=first4 + [n5])
    c.check("node 5 started and registered (every node lists five brokers)", bool(views))
    md = cl.node(1).metadata([TOPIC])
    cur = md.topics[TOPIC]["partitions"][0]["replicas"]
    target = cur[:2] + [5]
    rc, out, err = sluicetest.run_cli(
        ["partitions", "reassign", "--topic", TOPIC, "--partition", "0", "--replicas",
         ",".join(map(str, target)), "--bootstrap", cl.node(1).bootstrap, "--timeout-ms",
         str(ADD_WAIT_MS), "--json"], ADD_WAIT_MS / 1000.0 + CLI_SLACK_S)
    print("# reassign %s-0 %s -> %s: exit %s\n# %s" % (
        TOPIC, cur, target, rc, "\n# ".join(err.strip().splitlines()[-10:])), flush=True)
    try:
        doc = json.loads(out) if out.strip() else None
    except ValueError:
        doc = None
    rows = doc.get("partitions", []) if doc else []
    c.check("sluice partitions reassign %s-0 --replicas %s: MOVED, exit 0" % (
        TOPIC, ",".join(map(str, target))),
        rc == 0 and len(rows) == 1 and rows[0]["result"] == "MOVED",
        "exit %s, stdout %r, stderr %r" % (rc, out[-1500:], err[-1500:]))
    _recs, hw = cl_.read_partition(cl.bootstrap(first4), TOPIC, 0, timeout_s=60)
    behind = cl.replicas_behind(TOPIC, {0: hw}, nodes=[n5], timeout_s=30)
    c.check("node 5's new replica of %s-0 caught up to the high watermark %d" % (TOPIC, hw),
            hw > 0 and not behind and os.path.isdir(n5.replica_dir(TOPIC, 0)),
            "behind: %s" % behind)
    dropped = [i for i in cur if i not in target]
    gone = cl_.wait_until(lambda: all(not os.path.isdir(cl.node(i).replica_dir(TOPIC, 0))
                                      for i in dropped), REMOVE_WAIT_S, 0.5)
    c.check("the dropped replica of %s-0 (node %s) is deleted" % (TOPIC, dropped), bool(gone))


def compare_phase(cl, c, before):
    md = cl.node(1).metadata([TOPIC])
    holders = {p: md.topics[TOPIC]["partitions"][p]["replicas"] for p in range(PARTS)}
    new = {p: [i for i in holders[p] if i not in before[(TOPIC, p)]] for p in range(PARTS)}
    print("# replicas now: %s (new: %s)" % (holders, new), flush=True)
    hws = {}
    for p in range(PARTS):
        _recs, hws[p] = cl_.read_partition(cl.bootstrap(), TOPIC, p, timeout_s=60)
    behind = {}
    for p in range(PARTS):
        b = cl.replicas_behind(TOPIC, {p: hws[p]}, nodes=[cl.node(i) for i in holders[p]],
                               timeout_s=20)
        behind.update(b)
    c.check("every current replica's files reach the high watermark %s" % hws, not behind,
            str(behind))
    rcs = cl.stop_all()
    c.check("all nodes stop cleanly on SIGTERM", all(rc == 0 for rc in rcs.values()), str(rcs))
    diff, crc, short = [], [], []
    for p in range(PARTS):
        per, problems = cl.read_all_replicas(TOPIC, p, nodes=[cl.node(i) for i in holders[p]])
        crc += problems
        common, mism = cl_.compare_replicas(per)
        diff += ["partition %d: %s" % (p, m) for m in mism]
        if common < hws[p]:
            short.append("partition %d: common end %d < high watermark %d (ends %s)" % (
                p, common, hws[p], {i: cl_.replica_end(b) for i, b in per.items()}))
    c.check("the replicas of each partition, new ones included (%s), are identical batch by "
            "batch" % new, not diff, "; ".join(diff[:4]))
    c.check("every replica holds the committed prefix", not short, "; ".join(short[:4]))
    c.check("every batch's CRC is right", not crc, "; ".join(crc[:4]))


def main():
    c = sluicetest.Checks()
    t0 = cl_.guard(c, BUDGET_S)
    if not os.access(sluicetest.cli_binary(), os.X_OK):
        c.check("the CLI exists at %s" % sluicetest.cli_binary(), False)
        return c.finish()
    try:
        def voters_for(node):
            return ",".join("%d@127.0.0.1:%d" % (i, node.cluster.node(i).peer_port)
                            for i in (1, 2, 3))
        with cl_.Cluster(5, voters_for=voters_for, start=False) as cl:
            first4 = cl.nodes[:4]
            for n in first4:
                n.start(wait=False)
            for n in first4:
                n.wait_ready()
            try:
                got = drain_phase(cl, c, first4)
                if got is not None:
                    _drained, before, _stream = got
                    add_phase(cl, c, first4)
                    compare_phase(cl, c, before)
            finally:
                print_evidence(cl)
                cl.check_health(c)
    except Exception as e:  # noqa: BLE001
        c.check("no exception", False, "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()))
    print("# total %.1fs" % (time.monotonic() - t0), flush=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
