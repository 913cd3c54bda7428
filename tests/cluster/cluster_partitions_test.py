#!/usr/bin/python3
"""CreatePartitions (API key 37) on a 3-node cluster, with Debian's confluent-kafka, raw requests
(v0 and the flexible v3) and the `sluice` CLI.

1. A topic of 2 partitions, replication factor 3, is created; a producer (keyed messages, the
   default partitioner) and a subscribed consumer group member are started against it with a
   1 s metadata refresh.
2. AdminClient.create_partitions grows it to 5 (bootstrapped at a node that is not the
   controller; librdkafka sends it to the controller). Every node's Metadata then lists 5
   partitions, each with a leader all nodes agree on and the 3 nodes as replicas; the new
   partitions' preferred leaders are spread; every node has a directory for each new replica.
3. Existing clients notice: the producer, after its metadata refresh, sends keyed messages to
   the new partitions; the consumer group member gets all 5 partitions assigned and reads
   what was produced to the new ones.
4. acks=all Produce to each new partition is acknowledged and read back.
5. Refusals, with messages, and nothing changes: validate_only to 8 (NONE, still 5), 3
   (INVALID_PARTITIONS "Topic currently has 5 partitions, which is higher than the requested
   3."), 5 (INVALID_PARTITIONS "Topic already has 5 partition(s)."), an unknown topic
   (UNKNOWN_TOPIC_OR_PARTITION), manual assignments (INVALID_REPLICA_ASSIGNMENT), and
   __consumer_offsets (INVALID_REQUEST).
6. Raw requests to a node that is not the controller (forwarded): v0 with one topic named twice
   (INVALID_REQUEST for both entries) and an unknown one; v3 (flexible: request header v2,
   compact strings and arrays, tagged fields) grows the topic to 6, with an unknown topic's
   error message decoded from its compact nullable string.
7. `sluice topics alter grow --partitions 7` through a non-controller node exits 0 and the topic
   has 7 partitions with leaders; `--partitions 3` exits 1 naming INVALID_PARTITIONS.
8. A node killed with SIGKILL and restarted after the growth reopens the new replicas: every
   node agrees on leaders for all 7 partitions, and acks=all writes to the newest partitions
   reach the restarted node's segment files.
9. TimeoutMs 1 on another topic gets REQUEST_TIMED_OUT with a message (the leaders cannot be
   elected within 1 ms); CreateTopics with validate_only is answered at once (it used to wait
   for leaders of a topic that was never created, until its timeout).
"""

import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clusterlib as cl_  # noqa: E402
from clusterlib import array, i8, i16, i32, sluicetest, string, uvarint  # noqa: E402

from confluent_kafka import Consumer, KafkaException, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic  # noqa: E402

BUDGET_S = 210
TOPIC, TIMEOUT_TOPIC, GROUP = "grow", "grow-timeout", "grow-group"
OFFSETS_TOPIC = "__consumer_offsets"
API_CREATE_PARTITIONS = 37
ERR_INVALID_PARTITIONS = 37
ERR_INVALID_REPLICA_ASSIGNMENT = 39
ERR_INVALID_REQUEST = 42


# ---- raw CreatePartitions ---------------------------------------------------------------------

def compact_string(s):
    if s is None:
        return uvarint(0)
    b = s.encode()
    return uvarint(len(b) + 1) + b


def compact_array(items):
    return uvarint(0) if items is None else uvarint(len(items) + 1) + b"".join(items)


TAGS_NONE = uvarint(0)


def read_uvarint(r):
    shift = n = 0
    while True:
        b = r.d[r.p]
        r.p += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n
        shift += 7


def read_compact_string(r):
    n = read_uvarint(r)
    if n == 0:
        return None
    s = r.d[r.p:r.p + n - 1].decode(errors="replace")
    r.p += n - 1
    return s


def skip_tags(r):
    for _ in range(read_uvarint(r)):
        read_uvarint(r)
        r.p += read_uvarint(r)


def create_partitions_v0(conn, topics, timeout_ms=20000, validate_only=False):
    """topics: [(name, count)] -> [(name, error, message)] (v0: classic encoding, null
    Assignments)."""
    body = (array([string(n) + i32(c) + i32(-1) for n, c in topics]) + i32(timeout_ms)
            + i8(1 if validate_only else 0))
    r = conn.call(API_CREATE_PARTITIONS, 0, body)
    r.i32()  # ThrottleTimeMs
    return r.array(lambda x: (x.string(), x.i16(), x.string()))


def create_partitions_v3(conn, topics, timeout_ms=20000, validate_only=False):
    """The same at v3, flexible: request header v2 (ClientId stays a classic string), compact
    strings and arrays and a tagged-field section per struct; response header v1."""
    conn.corr += 1
    header = (i16(API_CREATE_PARTITIONS) + i16(3) + i32(conn.corr)
              + string("sluice-cluster-test") + TAGS_NONE)
    body = (compact_array([compact_string(n) + i32(c) + compact_array(None) + TAGS_NONE
                           for n, c in topics])
            + i32(timeout_ms) + i8(1 if validate_only else 0) + TAGS_NONE)
    msg = header + body
    conn.sock.sendall(i32(len(msg)) + msg)
    size, = struct.unpack(">i", conn._recv_exact(4))
    r = cl_.Reader(conn._recv_exact(size))
    corr = r.i32()
    if corr != conn.corr:
        raise cl_.KafkaError("correlation id %d, expected %d" % (corr, conn.corr))
    skip_tags(r)  # response header v1
    r.i32()  # ThrottleTimeMs
    out = []
    for _ in range(read_uvarint(r) - 1):
        name = read_compact_string(r)
        err = r.i16()
        message = read_compact_string(r)
        skip_tags(r)
        out.append((name, err, message))
    skip_tags(r)
    if r.p != len(r.d):
        raise cl_.KafkaError("%d bytes after the v3 response" % (len(r.d) - r.p))
    return out


# ---- helpers ----------------------------------------------------------------------------------

def counts(cl, topic):
    """{node id: partition count in that node's Metadata}."""
    return {i: len(m.topics.get(topic, {}).get("partitions", {}))
            for i, m in cl.metadata_views(topics=[topic]).items()}


def grow_errors(admin, parts, **kw):
    """{topic: None or (error code, message)} of AdminClient.create_partitions."""
    out = {}
    fs = admin.create_partitions(parts, request_timeout=40, **kw)
    for t, f in fs.items():
        try:
            f.result(timeout=45)
            out[t] = None
        except KafkaException as e:
            err = e.args[0]
            out[t] = (err.code(), err.str())
    return out


def full_layout(cl, topic, n, ids):
    """Every node lists n partitions, each with the nodes `ids` as replicas; returns the views."""
    views = cl.metadata_views(topics=[topic])
    if len(views) != len(ids):
        return None
    for m in views.values():
        parts = m.topics.get(topic, {}).get("partitions", {})
        if len(parts) != n or any(sorted(parts[p]["replicas"]) != ids for p in range(n)):
            return None
    return views


def poll_until(consumer, fn, timeout_s):
    """Polls the consumer (collecting {partition: [values]}) until fn(seen) or timeout."""
    seen = {}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        m = consumer.poll(0.2)
        if m is not None and not m.error():
            seen.setdefault(m.partition(), []).append(m.value())
        if fn(seen):
            return seen, True
    return seen, False


def run(cl, c):
    ids = cl.ids()
    views = cl.wait_registered(3, timeout_s=30)
    c.check("every node's Metadata lists 3 brokers and a controller", bool(views))
    if not views:
        return
    ctl = cl_.wait_until(lambda: len({m.controller for m in cl.metadata_views().values()}) == 1
                         and list(cl.metadata_views().values())[0].controller, 15, 0.2)
    c.check("the nodes agree on a controller (node %s)" % ctl, ctl in ids)
    if ctl not in ids:
        return
    other = cl.node([i for i in ids if i != ctl][0])

    # ---- 1. the topic and its clients ------------------------------------------------------
    cl.create_topic(TOPIC, 2, 3, via=cl.node(ctl))
    c.check("topic %s created with 2 partitions, replication factor 3" % TOPIC,
            bool(cl.wait_leaders(TOPIC, 2, timeout_s=30)))
    delivered, prod_errs = [], []

    def dr(err, msg):
        if err is None:
            delivered.append((msg.partition(), msg.offset(), msg.value()))
        else:
            prod_errs.append(str(err))

    prod = Producer({"bootstrap.servers": cl.bootstrap(), "acks": "all", "linger.ms": 5,
                     "topic.metadata.refresh.interval.ms": 1000, "message.timeout.ms": 30000})
    for i in range(20):
        prod.produce(TOPIC, key=b"before-%d" % i, value=b"before-%d" % i, on_delivery=dr)
    prod.flush(30)
    c.check("the producer's 20 keyed messages land in partitions 0 and 1",
            len(delivered) == 20 and {p for p, _, _ in delivered} <= {0, 1} and not prod_errs,
            "%s %s" % (delivered[:3], prod_errs[:3]))
    cons = Consumer({"bootstrap.servers": cl.bootstrap(), "group.id": GROUP,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False,
                     "session.timeout.ms": 6000, "topic.metadata.refresh.interval.ms": 1000})
    try:
        run_with_clients(cl, c, ids, ctl, other, prod, dr, delivered, prod_errs, cons)
    finally:
        cons.close()


def run_with_clients(cl, c, ids, ctl, other, prod, dr, delivered, prod_errs, cons):
    cons.subscribe([TOPIC])
    _seen, ok = poll_until(cons, lambda s: len(cons.assignment()) == 2, 30)
    c.check("a group member subscribed to %s is assigned its 2 partitions" % TOPIC, ok,
            str(cons.assignment()))

    # ---- 2. grow to 5 -------------------------------------------------------------------------
    admin = AdminClient({"bootstrap.servers": other.bootstrap})
    t0 = time.monotonic()
    res = grow_errors(admin, [NewPartitions(TOPIC, 5)], operation_timeout=30)
    c.check("AdminClient.create_partitions (bootstrapped at node %d, not the controller) grows "
            "%s to 5 in %.1fs" % (other.id, TOPIC, time.monotonic() - t0),
            res == {TOPIC: None}, str(res))
    views = cl_.wait_until(lambda: full_layout(cl, TOPIC, 5, ids), 30, 0.2)
    c.check("every node's Metadata lists 5 partitions, each with nodes 1, 2, 3 as replicas",
            bool(views), str(counts(cl, TOPIC)))
    leaders = cl.wait_leaders(TOPIC, 5, timeout_s=30)
    c.check("all nodes agree on a leader for each of the 5 partitions: %s" % leaders,
            bool(leaders))
    if not views or not leaders:
        return
    preferred = {p: views[ids[0]].topics[TOPIC]["partitions"][p]["replicas"][0]
                 for p in range(5)}
    c.check("the new partitions' preferred leaders are spread over the nodes: %s" % preferred,
            len({preferred[p] for p in (2, 3, 4)}) >= 2)
    missing = [(n.id, p) for n in cl.nodes for p in (2, 3, 4)
               if not os.path.isdir(n.replica_dir(TOPIC, p))]
    c.check("every node has a replica directory for partitions 2, 3 and 4", not missing,
            "missing %s" % missing)

    # ---- 3. existing clients notice ------------------------------------------------------------
    before = len(delivered)
    deadline = time.monotonic() + 30
    k = 0
    while time.monotonic() < deadline and not any(p >= 2 for p, _, _ in delivered[before:]):
        for _ in range(30):
            prod.produce(TOPIC, key=b"after-%d" % k, value=b"after-%d" % k, on_delivery=dr)
            k += 1
        prod.flush(10)
        time.sleep(0.3)
    new_parts = sorted({p for p, _, _ in delivered[before:] if p >= 2})
    c.check("after its metadata refresh the producer's partitioner sends keyed messages to the "
            "new partitions too (%s)" % new_parts, bool(new_parts) and not prod_errs,
            "%s" % prod_errs[:3])
    _seen, ok = poll_until(cons, lambda s: len(cons.assignment()) == 5, 30)
    c.check("the group member is assigned all 5 partitions after its metadata refresh (%s)" % (
        sorted(tp.partition for tp in cons.assignment())), ok)

    # ---- 4. acks=all to each new partition, read back -------------------------------------------
    acked, errs = {}, []

    def dr2(err, msg):
        if err is None:
            acked[msg.value()] = (msg.partition(), msg.offset())
        else:
            errs.append(str(err))

    p2 = Producer({"bootstrap.servers": cl.bootstrap(), "acks": "all",
                   "enable.idempotence": True, "linger.ms": 5, "message.timeout.ms": 30000})
    want = {}
    for p in (2, 3, 4):
        for i in range(50):
            v = b"new-%d-%03d" % (p, i)
            want.setdefault(p, []).append(v)
            p2.produce(TOPIC, value=v, partition=p, on_delivery=dr2)
    left = p2.flush(30)
    c.check("150 acks=all messages to partitions 2, 3, 4 are acknowledged",
            left == 0 and len(acked) == 150 and not errs, "left %d errors %s" % (left, errs[:3]))
    bad = []
    for p in (2, 3, 4):
        recs, _hw = cl_.read_partition(cl.bootstrap(), TOPIC, p)
        got = [v for o, (_k, v) in sorted(recs.items()) if v.startswith(b"new-")]
        if got != want[p]:
            bad.append("partition %d: %d of 50 read back in order" % (p, len(got)))
        for v in want[p]:
            if v in acked and recs.get(acked[v][1], (None, None))[1] != v:
                bad.append("%r not at its acknowledged offset %s" % (v, acked[v]))
                break
    c.check("a consumer reads them back from each new partition, in order, at their offsets",
            not bad, "; ".join(bad[:4]))
    seen, ok = poll_until(cons, lambda s: all(
        sum(1 for v in s.get(p, []) if v.startswith(b"new-")) >= 50 for p in (2, 3, 4)), 30)
    c.check("the group member reads the messages of the new partitions",
            ok, str({p: len(v) for p, v in seen.items()}))

    # ---- 5. refusals -------------------------------------------------------------------------
    res = grow_errors(admin, [NewPartitions(TOPIC, 8)], validate_only=True)
    c.check("validate_only growth to 8 is accepted", res == {TOPIC: None}, str(res))
    time.sleep(0.5)
    c.check("...and changes nothing: every node still lists 5 partitions",
            set(counts(cl, TOPIC).values()) == {5}, str(counts(cl, TOPIC)))
    res = grow_errors(admin, [NewPartitions(TOPIC, 3)])
    c.check("growing to 3 gets INVALID_PARTITIONS with Kafka's message",
            res[TOPIC] is not None and res[TOPIC][0] == ERR_INVALID_PARTITIONS
            and "Topic currently has 5 partitions, which is higher than the requested 3."
            in res[TOPIC][1], str(res))
    res = grow_errors(admin, [NewPartitions(TOPIC, 5)])
    c.check("growing to the current 5 gets INVALID_PARTITIONS (\"Topic already has 5 "
            "partition(s).\")",
            res[TOPIC] is not None and res[TOPIC][0] == ERR_INVALID_PARTITIONS
            and "Topic already has 5 partition(s)." in res[TOPIC][1], str(res))
    res = grow_errors(admin, [NewPartitions("no-such-topic", 4)])
    c.check("an unknown topic gets UNKNOWN_TOPIC_OR_PARTITION",
            res["no-such-topic"] is not None
            and res["no-such-topic"][0] == cl_.ERR_UNKNOWN_TOPIC_OR_PARTITION, str(res))
    res = grow_errors(admin, [NewPartitions(TOPIC, 6, replica_assignment=[[1, 2, 3]])])
    c.check("manual replica assignments get INVALID_REPLICA_ASSIGNMENT with a message",
            res[TOPIC] is not None and res[TOPIC][0] == ERR_INVALID_REPLICA_ASSIGNMENT
            and "not supported" in res[TOPIC][1], str(res))
    n_off = max(counts(cl, OFFSETS_TOPIC).values())
    res = grow_errors(admin, [NewPartitions(OFFSETS_TOPIC, n_off + 1)])
    c.check("growing %s gets INVALID_REQUEST with a message" % OFFSETS_TOPIC,
            res[OFFSETS_TOPIC] is not None and res[OFFSETS_TOPIC][0] == ERR_INVALID_REQUEST
            and "offsets topic" in res[OFFSETS_TOPIC][1], str(res))
    c.check("...and after all of these every node still lists 5 partitions of %s and %d of %s"
            % (TOPIC, n_off, OFFSETS_TOPIC),
            set(counts(cl, TOPIC).values()) == {5}
            and set(counts(cl, OFFSETS_TOPIC).values()) == {n_off},
            "%s %s" % (counts(cl, TOPIC), counts(cl, OFFSETS_TOPIC)))

    # ---- 6. raw v0 and v3 at a non-controller -------------------------------------------------
    with other.conn(timeout_s=40) as conn:
        res0 = create_partitions_v0(conn, [(TOPIC, 9), ("no-such-topic", 2), (TOPIC, 9)])
    c.check("raw v0 at node %d: a topic named twice gets INVALID_REQUEST for both entries, an "
            "unknown one UNKNOWN_TOPIC_OR_PARTITION, in request order" % other.id,
            [(n, e) for n, e, _m in res0 or []] == [
                (TOPIC, ERR_INVALID_REQUEST), ("no-such-topic", cl_.ERR_UNKNOWN_TOPIC_OR_PARTITION),
                (TOPIC, ERR_INVALID_REQUEST)] and all(m for _n, _e, m in res0), str(res0))
    with other.conn(timeout_s=40) as conn:
        res3 = create_partitions_v3(conn, [(TOPIC, 6), ("no-such-topic", 2)])
    c.check("raw v3 (flexible) at node %d grows %s to 6; the unknown topic's error message "
            "decodes" % (other.id, TOPIC),
            len(res3) == 2 and res3[0] == (TOPIC, 0, None)
            and res3[1][:2] == ("no-such-topic", cl_.ERR_UNKNOWN_TOPIC_OR_PARTITION)
            and "does not exist" in (res3[1][2] or ""), str(res3))
    c.check("...and every node agrees on leaders for 6 partitions",
            bool(cl.wait_leaders(TOPIC, 6, timeout_s=30)), str(counts(cl, TOPIC)))

    # ---- 7. the CLI ----------------------------------------------------------------------------
    rc, out, err = sluicetest.run_cli(["topics", "alter", TOPIC, "--partitions", "7",
                                       "--bootstrap", other.bootstrap, "--timeout-ms", "30000"],
                                      60)
    c.check("`sluice topics alter %s --partitions 7` at node %d exits 0: %r" % (
        TOPIC, other.id, out.strip()), rc == 0 and "7 partition(s), was 6" in out,
        "exit %s stdout %r stderr %r" % (rc, out, err))
    c.check("...and every node agrees on leaders for 7 partitions, 3 replicas each",
            bool(cl.wait_leaders(TOPIC, 7, timeout_s=30))
            and bool(cl_.wait_until(lambda: full_layout(cl, TOPIC, 7, ids), 10, 0.2)),
            str(counts(cl, TOPIC)))
    rc, out, err = sluicetest.run_cli(["topics", "alter", TOPIC, "--partitions", "3",
                                       "--bootstrap", other.bootstrap], 30)
    c.check("`sluice topics alter %s --partitions 3` exits 1 naming INVALID_PARTITIONS" % TOPIC,
            rc == 1 and "INVALID_PARTITIONS" in err and "higher than the requested 3" in err,
            "exit %s stdout %r stderr %r" % (rc, out, err))
    _seen, ok = poll_until(cons, lambda s: len(cons.assignment()) == 7, 30)
    c.check("the group member is assigned all 7 partitions", ok,
            str(sorted(tp.partition for tp in cons.assignment())))

    # ---- 8. a node restarted after the growth ---------------------------------------------------
    victim = cl.node(ids[-1] if ids[-1] != ctl else ids[0])
    victim.kill9()
    victim.start()
    leaders = cl.wait_leaders(TOPIC, 7, timeout_s=40)
    c.check("after node %d's SIGKILL and restart every node (it too) agrees on leaders for all "
            "7 partitions" % victim.id, bool(leaders),
            str({i: {p: m.leader(TOPIC, p) for p in range(7)}
                 for i, m in cl.metadata_views(topics=[TOPIC]).items()}))
    reopened = [p for p in range(5, 7)
                if "log=%s-%d " % (TOPIC, p) in victim.log(since_start=True)]
    c.check("the restarted node reopened its replicas of partitions 5 and 6", reopened == [5, 6],
            str(reopened))
    acked.clear()
    errs.clear()
    for p in (5, 6):
        for i in range(20):
            p2.produce(TOPIC, value=b"restart-%d-%02d" % (p, i), partition=p, on_delivery=dr2)
    left = p2.flush(30)
    c.check("40 acks=all messages to partitions 5 and 6 are acknowledged",
            left == 0 and len(acked) == 40 and not errs, "left %d errors %s" % (left, errs[:3]))
    ends = {p: max(o for q, o in acked.values() if q == p) + 1 for p in (5, 6)} if acked else {}
    behind = cl.replicas_behind(TOPIC, ends, nodes=[victim], timeout_s=30) if ends else {0: 0}
    c.check("...and reach node %d's segment files" % victim.id, not behind, str(behind))

    # ---- 9. timeouts and CreateTopics validate_only -------------------------------------------
    cl.create_topic(TIMEOUT_TOPIC, 1, 3, via=other)
    cl.wait_leaders(TIMEOUT_TOPIC, 1, timeout_s=30)
    with other.conn(timeout_s=40) as conn:
        rest = create_partitions_v0(conn, [(TIMEOUT_TOPIC, 4)], timeout_ms=1)
    c.check("TimeoutMs 1 gets REQUEST_TIMED_OUT with a message (%r)" % (
        rest[0][2] if rest else None),
            len(rest) == 1 and rest[0][1] == cl_.ERR_REQUEST_TIMED_OUT and rest[0][2],
            str(rest))
    with other.conn(timeout_s=40) as conn:
        t0 = time.monotonic()
        body = (array([string("validate-only-topic") + i32(3) + i16(3) + array([]) + array([])])
                + i32(20000) + i8(1))
        r = conn.call(cl_.API_CREATE_TOPICS, 2, body)
        took = time.monotonic() - t0
        r.i32()
        vres = r.array(lambda x: (x.string(), x.i16(), x.string()))
    c.check("CreateTopics validate_only (TimeoutMs 20000) is answered at once (%.2fs) with NONE"
            % took, took < 5 and vres == [("validate-only-topic", 0, None)], str(vres))
    c.check("...and creates nothing",
            all("validate-only-topic" not in m.topics or m.topics["validate-only-topic"]["error"]
                for m in cl.metadata_views(topics=["validate-only-topic"]).values()))
    prod.flush(10)
    p2.flush(10)


def main():
    return cl_.main(run, BUDGET_S, 3, config={"group.initial.rebalance.delay.ms": 500})


if __name__ == "__main__":
    sys.exit(main())
