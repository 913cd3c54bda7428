#!/usr/bin/python3
"""A 3-node cluster's basic behaviour with Debian's confluent-kafka and raw Kafka requests.

1. Three nodes start with every node in controller.quorum.voters; every node's Metadata lists
   the three brokers (their own Kafka ports) and the same controller, and __consumer_offsets
   exists with 3 replicas per partition (created by the controller).
2. A topic of 6 partitions, replication factor 3, is created with AdminClient bootstrapped at
   node 3 only; all nodes agree on a leader for every partition, every partition lists the
   three nodes as replicas and has a directory on each, and no node leads more than 4 of 6.
3. 3,000 messages, acks=all (idempotent producer): all acknowledged; read back with a consumer,
   each partition holds them at their acknowledged offsets in the order sent, and offsets not
   returned to the consumer are exactly the control batches in the leader's segment files.
4. Produce and Fetch sent directly (raw requests) to a follower of each partition get
   NOT_LEADER_OR_FOLLOWER (6); the same Produce to the leader is appended.
5. CreateTopics sent raw to a node that is not the controller is forwarded: the topic appears
   with 3 replicas and leaders on every node.
6. A consumer group (subscribe, commit) works: a member consumes from all 6 partitions (led by
   different nodes) and commits them; FindCoordinator on every node names the leader of the
   group's __consumer_offsets partition; a new member of the group sees the commits.
7. DeleteTopics removes both topics from every node's Metadata, and their replica directories
   disappear on every node.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clusterlib as cl_  # noqa: E402

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402

BUDGET_S = 210
TOPIC, RAW_TOPIC, GROUP = "basic", "basic-raw", "basic-group"
PARTS, MESSAGES = 6, 3000
OFFSETS_TOPIC = "__consumer_offsets"


def run(cl, c):
    ids = cl.ids()
    # ---- 1. registration and the controller ------------------------------------------------
    views = cl.wait_registered(3, timeout_s=30)
    c.check("every node's Metadata lists 3 brokers and a controller", bool(views),
            str({i: (m.brokers, m.controller) for i, m in cl.metadata_views().items()}))
    if not views:
        return
    expect = {n.id: ("127.0.0.1", n.kafka_port) for n in cl.nodes}
    c.check("...with each broker's own Kafka address",
            all(m.brokers == expect for m in views.values()),
            str({i: m.brokers for i, m in views.items()}))
    agreed = cl_.wait_until(lambda: len({m.controller for m in cl.metadata_views().values()}) == 1
                            and cl.metadata_views(), 15, 0.2)
    ctl = list(agreed.values())[0].controller if agreed else -1
    c.check("all nodes name the same controller (node %d)" % ctl, bool(agreed) and ctl in ids,
            str({i: m.controller for i, m in cl.metadata_views().items()}))

    def offsets_ok():
        v = cl.metadata_views(topics=[OFFSETS_TOPIC])
        t = [m.topics.get(OFFSETS_TOPIC) for m in v.values()]
        return len(v) == 3 and all(x and x["error"] == 0 and x["partitions"] and all(
            sorted(p["replicas"]) == ids for p in x["partitions"].values()) for x in t) and t[0]
    off = cl_.wait_until(offsets_ok, 30, 0.3)
    c.check("__consumer_offsets exists on every node with 3 replicas per partition (%s "
            "partitions)" % (len(off["partitions"]) if off else "?"), bool(off))
    n_offsets = len(off["partitions"]) if off else 50

    # ---- 2. create the topic from node 3 --------------------------------------------------
    t0 = time.monotonic()
    try:
        cl.create_topic(TOPIC, PARTS, 3, via=cl.node(3))
        created = None
    except Exception as e:  # noqa: BLE001
        created = e
    c.check("AdminClient at node 3 creates %s (6 partitions, RF 3) in %.1fs" % (
        TOPIC, time.monotonic() - t0), created is None, repr(created))
    leaders = cl.wait_leaders(TOPIC, PARTS, timeout_s=30)
    c.check("all nodes agree on a leader for each of the 6 partitions: %s" % leaders,
            bool(leaders), str({i: {p: (m.leader(TOPIC, p)) for p in range(PARTS)}
                                for i, m in cl.metadata_views(topics=[TOPIC]).items()}))
    if not leaders:
        return
    views = cl.metadata_views(topics=[TOPIC])
    c.check("every partition lists nodes 1, 2, 3 as replicas on every node",
            all(sorted(m.topics[TOPIC]["partitions"][p]["replicas"]) == ids
                for m in views.values() for p in range(PARTS)),
            str({i: {p: m.topics[TOPIC]["partitions"][p]["replicas"] for p in range(PARTS)}
                 for i, m in views.items()}))
    dirs = [(n.id, p) for n in cl.nodes for p in range(PARTS)
            if not os.path.isdir(n.replica_dir(TOPIC, p))]
    c.check("every node has a replica directory for each partition", not dirs,
            "missing %s" % dirs)
    counts = {i: list(leaders.values()).count(i) for i in ids}
    c.check("leaders are spread: no node leads more than 4 of 6 (%s)" % counts,
            max(counts.values()) <= 4)

    # ---- 3. produce 3000, read them back ---------------------------------------------------
    acks, errs = {}, []

    def dr(err, msg):
        if err is None:
            acks[int(msg.value()[6:])] = (msg.partition(), msg.offset())
        else:
            errs.append(str(err))

    prod = Producer({"bootstrap.servers": cl.bootstrap(), "acks": "all",
                     "enable.idempotence": True, "compression.codec": "none", "linger.ms": 5,
                     "message.timeout.ms": 60000})
    for i in range(MESSAGES):
        prod.produce(TOPIC, key=b"k%d" % i, value=b"basic-%05d" % i, partition=i % PARTS,
                     on_delivery=dr)
        if i % 100 == 0:
            prod.poll(0)
    left = prod.flush(60)
    c.check("3000 messages produced with acks=all are all acknowledged",
            left == 0 and len(acks) == MESSAGES and not errs,
            "left %d, acked %d, errors %s" % (left, len(acks), errs[:3]))
    in_order = all(
        [acks[i][1] for i in range(p, MESSAGES, PARTS) if i in acks]
        == sorted(acks[i][1] for i in range(p, MESSAGES, PARTS) if i in acks)
        for p in range(PARTS))
    c.check("acknowledged offsets grow in the order sent, per partition", in_order)

    bad, gap_bad, gaps = [], [], 0
    leaders = cl.wait_leaders(TOPIC, PARTS, timeout_s=15) or leaders
    for p in range(PARTS):
        recs, hw = cl_.read_partition(cl.bootstrap(), TOPIC, p)
        sent = [i for i in range(p, MESSAGES, PARTS)]
        got = [recs[o][1] for o in sorted(recs)]
        if got != [b"basic-%05d" % i for i in sent]:
            bad.append("partition %d: %d records read, first differences %s" % (
                p, len(got), [(a, b) for a, b in zip(got, [b"basic-%05d" % i for i in sent])
                              if a != b][:3]))
        for i in sent:
            if i in acks and recs.get(acks[i][1], (None, None))[1] != b"basic-%05d" % i:
                bad.append("message %d not at its acknowledged offset %s" % (i, acks[i]))
                break
        batches, problems = cl.node(leaders[p]).read_replica(TOPIC, p)
        gp, ng, _ = cl_.gap_problems(recs.keys(), hw, batches)
        gaps += ng
        gap_bad += problems + ["partition %d: %s" % (p, x) for x in gp]
    c.check("a consumer reads every partition back in order, each message at its "
            "acknowledged offset", not bad, "; ".join(bad[:4]))
    c.check("offsets skipped by the consumer (%d) are exactly the control batches in the "
            "leader's segment files, whose CRCs are right" % gaps, not gap_bad,
            "; ".join(gap_bad[:6]))

    # ---- 4. produce and fetch at followers ---------------------------------------------------
    wrong = []
    for p in range(PARTS):
        leader = leaders[p]
        for f in ids:
            if f == leader:
                continue
            with cl.node(f).conn() as conn:
                err, _ = conn.produce(TOPIC, p, cl_.record_batch([(b"raw", b"to-follower")]))
                ferr, _hw, _recs = conn.fetch(TOPIC, p, 0)
            if err != cl_.ERR_NOT_LEADER_OR_FOLLOWER or ferr != cl_.ERR_NOT_LEADER_OR_FOLLOWER:
                wrong.append("partition %d at follower %d: produce error %d, fetch error %d" % (
                    p, f, err, ferr))
    c.check("Produce and Fetch at a follower get NOT_LEADER_OR_FOLLOWER (all 6 partitions, "
            "both followers)", not wrong, "; ".join(wrong[:4]))
    with cl.node(leaders[0]).conn() as conn:
        err, base = conn.produce(TOPIC, 0, cl_.record_batch([(b"raw", b"to-leader")]))
    c.check("the same raw Produce (acks=-1) to partition 0's leader is appended", err == 0,
            "error %d" % err)

    # ---- 5. CreateTopics forwarded from a non-controller ------------------------------------
    ctl = cl.metadata_views()[ids[0]].controller
    other = [i for i in ids if i != ctl][0]
    with cl.node(other).conn(timeout_s=40) as conn:
        err, msg = conn.create_topic(RAW_TOPIC, 3, 3)
    c.check("raw CreateTopics at node %d (controller is %d) succeeds" % (other, ctl), err == 0,
            "error %d %s" % (err, msg))
    raw_leaders = cl.wait_leaders(RAW_TOPIC, 3, timeout_s=30)
    views = cl.metadata_views(topics=[RAW_TOPIC])
    c.check("...and the topic has 3 replicas per partition and leaders on every node",
            bool(raw_leaders) and all(
                sorted(m.topics[RAW_TOPIC]["partitions"][p]["replicas"]) == ids
                for m in views.values() for p in range(3)), str(raw_leaders))

    # ---- 6. consumer group ---------------------------------------------------------------------
    cons = Consumer({"bootstrap.servers": cl.bootstrap(), "group.id": GROUP,
                     "enable.auto.commit": False, "auto.offset.reset": "earliest",
                     "session.timeout.ms": 6000})
    got, committed, coord, commit_err = 0, None, {}, None
    try:
        cons.subscribe([TOPIC])
        deadline = time.monotonic() + 40
        seen_parts = set()
        # At least 1000, and something from every partition so that the commit names all six
        # (their leaders are spread over the nodes, the coordinator is one of them).
        while (got < 1000 or len(seen_parts) < PARTS) and time.monotonic() < deadline:
            m = cons.poll(0.5)
            if m is not None and not m.error():
                got += 1
                seen_parts.add(m.partition())
        try:
            committed = cons.commit(asynchronous=False) if got else None
        except KafkaException as e:
            commit_err = e
        for n in cl.nodes:
            with n.conn() as conn:
                coord[n.id] = conn.find_coordinator(GROUP)
    finally:
        cons.close()
    c.check("a group member consumed %d messages from every partition and committed them "
            "synchronously" % got,
            got >= 1000 and committed is not None and len(committed) == PARTS
            and all(tp.error is None for tp in committed), "%s %s" % (committed, commit_err))
    gp = cl_.offsets_partition_for(GROUP, n_offsets)
    off_leader = cl.wait_leaders(OFFSETS_TOPIC, n_offsets, timeout_s=15)
    expect_coord = off_leader and off_leader[gp]
    c.check("FindCoordinator on every node names node %s, the leader of %s-%d" % (
        expect_coord, OFFSETS_TOPIC, gp),
        bool(expect_coord) and all(v[0] == 0 and v[1] == expect_coord
                                   and v[3] == cl.node(expect_coord).kafka_port
                                   for v in coord.values()), str(coord))
    if committed:
        cons2 = Consumer({"bootstrap.servers": cl.bootstrap(), "group.id": GROUP,
                          "enable.auto.commit": False})
        try:
            seen = cons2.committed([TopicPartition(TOPIC, p) for p in range(PARTS)], timeout=20)
        except KafkaException as e:
            seen = []
            print("# committed() failed: %s" % e, flush=True)
        finally:
            cons2.close()
        want = {tp.partition: tp.offset for tp in committed}
        have = {tp.partition: tp.offset for tp in seen if tp.partition in want}
        c.check("another member of the group reads the same committed offsets", have == want,
                "%s vs %s" % (have, want))

    # ---- 7. delete ----------------------------------------------------------------------------
    a = AdminClient({"bootstrap.servers": cl.node(2).bootstrap})
    fs = a.delete_topics([TOPIC, RAW_TOPIC], operation_timeout=30, request_timeout=30)
    errs = []
    for t, f in fs.items():
        try:
            f.result(timeout=40)
        except Exception as e:  # noqa: BLE001
            errs.append("%s: %s" % (t, e))
    c.check("DeleteTopics of both topics succeeds", not errs, "; ".join(errs))

    def gone_from_metadata():
        v = cl.metadata_views()
        return len(v) == 3 and all(TOPIC not in m.topics and RAW_TOPIC not in m.topics
                                   for m in v.values())
    c.check("...and every node's Metadata stops listing them",
            bool(cl_.wait_until(gone_from_metadata, 30, 0.3)),
            str({i: sorted(t for t in m.topics if not t.startswith("__"))
                 for i, m in cl.metadata_views().items()}))

    def dirs_gone():
        return not [d for n in cl.nodes for d in os.listdir(n.data_dir)
                    if d.startswith(TOPIC + "-")]
    c.check("...and their replica directories disappear on every node",
            bool(cl_.wait_until(dirs_gone, 30, 0.3)),
            str({n.id: sorted(d for d in os.listdir(n.data_dir) if d.startswith(TOPIC + "-"))
                 for n in cl.nodes}))


def main():
    return cl_.main(run, BUDGET_S, 3, config={"group.initial.rebalance.delay.ms": 500})


if __name__ == "__main__":
    sys.exit(main())
