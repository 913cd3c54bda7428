#!/usr/bin/python3
"""The `sluice` admin CLI against a real sluice-server (tests/lib/sluicetest.py), with Debian's
confluent-kafka (librdkafka 2.0.2) producing and running a consumer-group member.

1. Topics: create with partitions and configs, list, describe (partitions, leader, offsets,
   configs), alter --partitions (grow, --validate-only), delete; errors exit 1 naming the Kafka
   error (TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, UNKNOWN_TOPIC_OR_PARTITION,
   INVALID_PARTITIONS); usage errors exit 2; a broker that never answers costs --timeout-ms,
   not forever.
2. Groups: a consumer (a child process) subscribes and, having read 7 of the 10 records of
   each of two partitions, commits the 8th record's offset; `groups list/describe/lag` show it;
   reset-offsets is refused while it is Stable. After it leaves: reset --dry-run commits
   nothing, --to-earliest, --to-offset (clamped), --to-datetime (ISO-8601 and epoch ms) and
   --to-latest move the committed offsets as lag shows; `groups delete` removes the group.
   Every partition is a Raft group whose log starts with control batches (docs/replication.md),
   so expected offsets come from the producer's delivery reports and lags and log ends from
   ListOffsets, and every offset the producer skipped is checked to be a control batch.
3. Partitions: on one node every partition is led by its preferred replica, so `partitions
   elect-leaders` (one topic, one partition, or everything) reports ELECTION_NOT_NEEDED for each
   and exits 0; an unknown partition is UNKNOWN_TOPIC_OR_PARTITION (exit 1), an unknown topic
   exits 1 before sending, --partition without --topic is a usage error. Raw ElectLeaders
   requests check what the CLI does not send: v0, the flexible v2, a null TopicPartitions (every
   topic gets a row, and partitions whose election is not needed are left out, as Kafka does)
   and ElectionType UNCLEAN (INVALID_REQUEST with a message).

4. Reassignments and nodes: `nodes list` shows the one node with its replica and leader
   counts; `partitions reassign` to an unregistered node, to a list naming a node twice, or of
   an unknown partition is refused by the broker (INVALID_REPLICA_ASSIGNMENT,
   UNKNOWN_TOPIC_OR_PARTITION; exit 1, nothing changes), a reassignment to the current list
   completes (MOVED, exit 0) and `partitions reassignments` lists nothing; `nodes drain` of the
   only node is refused before anything is sent (exit 1, the partition named), of an unknown
   node exits 1, without --node exits 2. Raw AlterPartitionReassignments and
   ListPartitionReassignments v0 requests check what the CLI does not send: a null Replicas
   (cancel: NO_REASSIGNMENT_IN_PROGRESS), an empty list, several topics in one request, and
   named topics and partitions, unknown ones left out.

The CLI's path comes from $SLUICE_CLI (meson passes sluice_cli_exe), else build/src/cli/sluice.
Every step is bounded: each CLI run by CLI_TIMEOUT_S, waits by WAIT_S.
"""

import datetime
import json
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sluicetest  # noqa: E402

from confluent_kafka import Producer  # noqa: E402

CLI_TIMEOUT_S = 30
WAIT_S = 60
TOPIC = "cli-topic"
ETOPIC = "cli-elect"
GTOPIC = "cli-grp"
GROUP = "cli-group"
PER_PARTITION = 10
OLD_PER_PARTITION = 6  # the first 6 records of each partition carry an old timestamp
COMMIT_AT = 7


def cli_path():
    path = os.environ.get("SLUICE_CLI")
    if path:
        return path
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "build", "src", "cli", "sluice")


class Cli:
    def __init__(self, bootstrap):
        self.env = dict(os.environ, SLUICE_BOOTSTRAP=bootstrap)

    def run(self, *args, env=None):
        """(exit status, stdout, stderr); status None when the run exceeded CLI_TIMEOUT_S."""
        try:
            p = subprocess.run([cli_path()] + list(args), capture_output=True, text=True,
                               timeout=CLI_TIMEOUT_S, env=env or self.env)
        except subprocess.TimeoutExpired:
            return None, "", "timed out"
        return p.returncode, p.stdout, p.stderr

    def json(self, *args):
        rc, out, err = self.run(*args, "--json")
        if rc != 0:
            return rc, None, err
        try:
            return rc, json.loads(out), err
        except ValueError as e:
            return rc, None, "bad JSON %r: %s" % (out, e)


CONSUMER = r"""
import select, sys
from confluent_kafka import Consumer, TopicPartition
bs, topic, group, want = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
commit_at = [int(x) for x in sys.argv[5].split(",")]  # per partition
c = Consumer({"bootstrap.servers": bs, "group.id": group, "client.id": "cli-test-consumer",
              "enable.auto.commit": False, "auto.offset.reset": "earliest",
              "session.timeout.ms": 10000, "heartbeat.interval.ms": 500})
c.subscribe([topic])
seen = 0
committed = False
while True:
    m = c.poll(0.2)
    if m is not None and not m.error():
        seen += 1
    if seen >= want and not committed:
        c.commit(offsets=[TopicPartition(topic, 0, commit_at[0]), TopicPartition(topic, 1, commit_at[1])],
                 asynchronous=False)
        committed = True
        print("READY", flush=True)
    r, _, _ = select.select([sys.stdin], [], [], 0)
    if r and sys.stdin.readline() == "":
        break
c.close()
print("CLOSED", flush=True)
"""


def silent_listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    return s


def produce(bs, topic, parts, per_part, old_ts_ms, old_count, new_ts_ms):
    """(all delivered, {partition: [offset of record i as its delivery report gave]})."""
    p = Producer({"bootstrap.servers": bs, "acks": "all"})
    errors = []
    offsets = {part: [None] * per_part for part in range(parts)}

    def dr(err, msg, part, i):
        if err:
            errors.append(err)
        else:
            offsets[part][i] = msg.offset()

    for part in range(parts):
        for i in range(per_part):
            ts = old_ts_ms if i < old_count else new_ts_ms
            p.produce(topic, value=b"v%d-%d" % (part, i), partition=part, timestamp=ts,
                      on_delivery=lambda err, msg, part=part, i=i: dr(err, msg, part, i))
    left = p.flush(WAIT_S)
    return left == 0 and not errors, offsets


def check_layout(c, label, bs, topic, offsets):
    """Each partition's delivered offsets increase, and every other offset below its high
    watermark is a control batch (the Raft entries every partition starts with). Returns
    {partition: high watermark}."""
    ends, problems = {}, {}
    for part, offs in offsets.items():
        try:
            hwm, batches = sluicetest.fetch_batches(bs, topic, part)
            ends[part] = hwm
            pr = sluicetest.offset_problems(offs, batches, 0, hwm)
        except (OSError, ValueError, struct.error, TypeError) as e:
            pr = [repr(e)]
        if pr:
            problems[part] = pr
    c.check("%s: delivered offsets increase; every other offset is a control batch" % label,
            not problems, "%s %s" % (problems, offsets))
    return ends


def test_topics(c, cli, s):
    rc, out, err = cli.run("topics", "create", TOPIC, "--partitions", "3",
                           "--config", "retention.ms=3600000", "--config", "cleanup.policy=delete")
    c.check("topics create exits 0", rc == 0, "%s %s %s" % (rc, out, err))
    c.check("topics create reports 3 partitions", "3 partition" in out, out)

    rc, out, err = cli.run("topics", "list")
    c.check("topics list table shows the topic",
            rc == 0 and any(l.split()[:2] == [TOPIC, "3"] for l in out.splitlines()), out + err)
    rc, doc, err = cli.json("topics", "list")
    names = [t["name"] for t in doc["topics"]] if doc else []
    c.check("topics list --json", rc == 0 and TOPIC in names, "%s %s" % (doc, err))

    ok, offs = produce(s.bootstrap, TOPIC, 3, 4, int(time.time() * 1000), 0, int(time.time() * 1000))
    c.check("produced 12 records", ok)
    check_layout(c, "produced 12 records", s.bootstrap, TOPIC, offs)
    ends = {part: (o[-1] + 1 if o[-1] is not None else None) for part, o in offs.items()}

    rc, doc, err = cli.json("topics", "describe", TOPIC)
    c.check("topics describe --json exits 0", rc == 0 and doc is not None, err)
    if doc:
        parts = doc["partitions"]
        c.check("describe: 3 partitions led by node 1 with replicas [1]",
                len(parts) == 3 and all(p["leader"] == 1 and p["replicas"] == [1] for p in parts),
                str(parts))
        c.check("describe: per partition the high watermark is right after its last record "
                "(%s) and the log start is 0" % ends,
                all(p["high_watermark"] == ends[p["partition"]] and p["log_start_offset"] == 0
                    for p in parts), str(parts))
        cfg = {x["name"]: x for x in doc["configs"]}
        c.check("describe: retention.ms set at creation is a topic config",
                cfg.get("retention.ms", {}).get("value") == "3600000"
                and cfg["retention.ms"]["source"] == "DYNAMIC_TOPIC_CONFIG", str(cfg.get("retention.ms")))
        c.check("describe: defaults listed too",
                cfg.get("segment.bytes", {}).get("source") == "DEFAULT_CONFIG", str(cfg.get("segment.bytes")))
    rc, out, err = cli.run("topics", "describe", TOPIC)
    c.check("topics describe table", rc == 0 and "HIGH-WATERMARK" in out and "retention.ms" in out
            and "3600000" in out, out + err)

    test_topics_alter(c, cli)

    rc, out, err = cli.run("topics", "create", TOPIC)
    c.check("create an existing topic: exit 1, TOPIC_ALREADY_EXISTS",
            rc == 1 and "topic '%s': TOPIC_ALREADY_EXISTS" % TOPIC in err, "%s %r" % (rc, err))
    rc, out, err = cli.run("topics", "create", "bad name!")
    c.check("create an invalid name: exit 1, INVALID_TOPIC_EXCEPTION",
            rc == 1 and "INVALID_TOPIC_EXCEPTION" in err, "%s %r" % (rc, err))
    rc, out, err = cli.run("topics", "describe", "no-such-topic")
    c.check("describe an unknown topic: exit 1, UNKNOWN_TOPIC_OR_PARTITION",
            rc == 1 and "topic 'no-such-topic': UNKNOWN_TOPIC_OR_PARTITION" in err, "%s %r" % (rc, err))
    rc, out, err = cli.run("topics", "delete", "no-such-topic")
    c.check("delete an unknown topic: exit 1, UNKNOWN_TOPIC_OR_PARTITION",
            rc == 1 and "UNKNOWN_TOPIC_OR_PARTITION" in err, "%s %r" % (rc, err))
    rc, out, err = cli.run("topics", "list")
    c.check("describe did not create the unknown topic", "no-such-topic" not in out, out)

    rc, _, err = cli.run("topics", "create")
    c.check("create without a name: exit 2", rc == 2 and "usage" in err, "%s %r" % (rc, err))
    rc, _, err = cli.run("topics", "create", "x", "--partitions", "zero")
    c.check("create with a bad --partitions: exit 2", rc == 2, "%s %r" % (rc, err))
    rc, _, err = cli.run("topics", "frobnicate")
    c.check("unknown subcommand: exit 2", rc == 2, "%s %r" % (rc, err))
    rc, _, err = cli.run("topics", "list", "--bootstrap", "nocolon")
    c.check("bad --bootstrap: exit 2 with a message", rc == 2 and "HOST:PORT" in err, "%s %r" % (rc, err))

    lst = silent_listener()
    try:
        t0 = time.monotonic()
        rc, _, err = cli.run("topics", "list", "--bootstrap", "127.0.0.1:%d" % lst.getsockname()[1],
                             "--timeout-ms", "300")
        took = time.monotonic() - t0
        c.check("a silent broker times out after --timeout-ms: exit 1",
                rc == 1 and "300 ms" in err and took < 5, "%s %r %.1fs" % (rc, err, took))
    finally:
        lst.close()

    env = dict(os.environ, SLUICE_BOOTSTRAP="127.0.0.1:1")
    rc, _, err = cli.run("topics", "list", "--bootstrap", s.bootstrap, env=env)
    c.check("--bootstrap overrides SLUICE_BOOTSTRAP", rc == 0, "%s %r" % (rc, err))
    rc, _, err = cli.run("topics", "list", env=env)
    c.check("SLUICE_BOOTSTRAP is used: refused connection, exit 1",
            rc == 1 and "127.0.0.1:1" in err, "%s %r" % (rc, err))

    rc, out, err = cli.run("topics", "delete", TOPIC)
    c.check("topics delete exits 0", rc == 0, "%s %r" % (rc, err))
    rc, doc, err = cli.json("topics", "list")
    c.check("the deleted topic is gone",
            rc == 0 and TOPIC not in [t["name"] for t in doc["topics"]], "%s %s" % (doc, err))


def test_topics_alter(c, cli):
    """`topics alter --partitions` on TOPIC (3 partitions): grows it, checks without changing,
    refuses shrinking and unknown topics (exit 1), and usage errors exit 2."""
    rc, out, err = cli.run("topics", "alter", TOPIC, "--partitions", "5")
    c.check("topics alter --partitions 5 exits 0 and reports the growth",
            rc == 0 and "5 partition(s), was 3" in out, "%s %r %r" % (rc, out, err))
    rc, doc, err = cli.json("topics", "describe", TOPIC)
    parts = doc["partitions"] if doc else []
    c.check("describe: 5 partitions, the new ones led by node 1 with replicas [1]",
            len(parts) == 5 and all(p["leader"] == 1 and p["replicas"] == [1] for p in parts),
            "%s %s" % (parts, err))
    rc, doc, err = cli.json("topics", "alter", TOPIC, "--partitions", "9", "--validate-only")
    c.check("topics alter --validate-only --json",
            rc == 0 and doc == {"topic": TOPIC, "partitions": 9, "previous_partitions": 5,
                                "validate_only": True}, "%s %s %s" % (rc, doc, err))
    rc, out, err = cli.run("topics", "list")
    c.check("...changed nothing: still 5 partitions",
            any(l.split()[:2] == [TOPIC, "5"] for l in out.splitlines()), out + err)
    rc, out, err = cli.run("topics", "alter", TOPIC, "--partitions", "4")
    c.check("alter to fewer partitions: exit 1, INVALID_PARTITIONS with Kafka's message",
            rc == 1 and "topic '%s': INVALID_PARTITIONS (Topic currently has 5 partitions, "
            "which is higher than the requested 4.)" % TOPIC in err, "%s %r" % (rc, err))
    rc, out, err = cli.run("topics", "alter", "no-such-topic", "--partitions", "2")
    c.check("alter an unknown topic: exit 1, UNKNOWN_TOPIC_OR_PARTITION",
            rc == 1 and "topic 'no-such-topic': UNKNOWN_TOPIC_OR_PARTITION" in err,
            "%s %r" % (rc, err))
    rc, _, err = cli.run("topics", "alter", TOPIC)
    c.check("alter without --partitions: exit 2", rc == 2 and "--partitions" in err,
            "%s %r" % (rc, err))
    rc, _, err = cli.run("topics", "alter", TOPIC, "--partitions", "0")
    c.check("alter with --partitions 0: exit 2", rc == 2, "%s %r" % (rc, err))


# ---- raw ElectLeaders (API key 43) ---------------------------------------------------------------

API_ELECT_LEADERS = 43
ERR_NONE, ERR_UNKNOWN_TOPIC_OR_PARTITION, ERR_INVALID_REQUEST = 0, 3, 42
ERR_ELECTION_NOT_NEEDED = 84


def uvarint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class Reader:
    def __init__(self, data, flexible):
        self.d, self.o, self.flex = data, 0, flexible

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.o)[0]
        self.o += struct.calcsize(fmt)
        return v

    def uvarint(self):
        shift = v = 0
        while True:
            b = self.d[self.o]
            self.o += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v

    def count(self):
        return self.uvarint() - 1 if self.flex else self.take(">i")

    def string(self):
        n = self.uvarint() - 1 if self.flex else self.take(">h")
        if n < 0:
            return None
        v = self.d[self.o:self.o + n].decode()
        self.o += n
        return v

    def tags(self):
        if self.flex:
            for _ in range(self.uvarint()):
                self.uvarint()
                self.o += self.uvarint()


def elect_leaders_raw(bootstrap, version, election_type, topics):
    """Sends one ElectLeaders; topics is None (every partition) or [(name, [partitions])].
    Returns (top-level error or None before v1, {topic: [(partition, error, message)]})."""
    flex = version >= 2

    def arr(items):
        return (uvarint(len(items) + 1) if flex else struct.pack(">i", len(items))) + b"".join(items)

    def st(v):
        b = v.encode()
        return (uvarint(len(b) + 1) if flex else struct.pack(">h", len(b))) + b
    tag0 = b"\x00" if flex else b""
    body = struct.pack(">b", election_type) if version >= 1 else b""
    if topics is None:
        body += b"\x00" if flex else struct.pack(">i", -1)
    else:
        body += arr([st(t) + arr([struct.pack(">i", p) for p in ps]) + tag0 for t, ps in topics])
    body += struct.pack(">i", 5000) + tag0
    hdr = struct.pack(">hhih", API_ELECT_LEADERS, version, 4343, len("cli-test")) + b"cli-test" + tag0
    msg = hdr + body
    with socket.create_connection(tuple(bootstrap.rsplit(":", 1)), timeout=CLI_TIMEOUT_S) as sk:
        sk.sendall(struct.pack(">i", len(msg)) + msg)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = sk.recv(65536)
            if not chunk:
                raise IOError("connection closed after %d bytes" % len(data))
            data += chunk
    r = Reader(data[4:], flex)
    if r.take(">i") != 4343:
        raise IOError("wrong correlation id")
    r.tags()  # response header v1 in flexible versions
    r.take(">i")  # ThrottleTimeMs
    top = r.take(">h") if version >= 1 else None
    out = {}
    for _ in range(r.count()):
        name = r.string()
        rows = []
        for _ in range(r.count()):
            rows.append((r.take(">i"), r.take(">h"), r.string()))
            r.tags()
        r.tags()
        out[name] = rows
    r.tags()
    return top, out


def test_partitions(c, cli, s):
    rc, out, err = cli.run("topics", "create", ETOPIC, "--partitions", "2")
    c.check("create the election topic", rc == 0, "%s %r" % (rc, err))

    rc, doc, err = cli.json("partitions", "elect-leaders", "--topic", ETOPIC)
    rows = doc["partitions"] if doc else []
    c.check("elect-leaders --topic: ELECTION_NOT_NEEDED for both partitions, led by node 1",
            rc == 0 and [(r["partition"], r["result"], r["preferred_leader"], r["leader"])
                         for r in rows] == [(0, "ELECTION_NOT_NEEDED", 1, 1),
                                            (1, "ELECTION_NOT_NEEDED", 1, 1)],
            "%s %s %r" % (rc, doc, err))
    rc, out, err = cli.run("partitions", "elect-leaders", "--topic", ETOPIC, "--partition", "1")
    c.check("elect-leaders --partition: one table row",
            rc == 0 and "PREFERRED-LEADER" in out
            and [l.split()[:5] for l in out.splitlines()[1:]]
            == [[ETOPIC, "1", "1", "1", "ELECTION_NOT_NEEDED"]], "%s %r %r" % (rc, out, err))
    rc, doc, err = cli.json("partitions", "elect-leaders")
    rows = doc["partitions"] if doc else []
    c.check("elect-leaders without --topic: every partition, internal topics too, none moved",
            rc == 0 and {(r["topic"], r["partition"]) for r in rows} >= {(ETOPIC, 0), (ETOPIC, 1)}
            and any(r["topic"] == "__consumer_offsets" for r in rows)
            and all(r["result"] == "ELECTION_NOT_NEEDED" for r in rows), "%s %s %r" % (rc, doc, err))

    rc, out, err = cli.run("partitions", "elect-leaders", "--topic", ETOPIC, "--partition", "9")
    c.check("an unknown partition: exit 1, UNKNOWN_TOPIC_OR_PARTITION from the broker",
            rc == 1 and "topic '%s' partition 9: UNKNOWN_TOPIC_OR_PARTITION" % ETOPIC in err
            and "UNKNOWN_TOPIC_OR_PARTITION" in out, "%s %r %r" % (rc, out, err))
    rc, out, err = cli.run("partitions", "elect-leaders", "--topic", "no-such-topic")
    c.check("an unknown topic: exit 1, UNKNOWN_TOPIC_OR_PARTITION",
            rc == 1 and "topic 'no-such-topic': UNKNOWN_TOPIC_OR_PARTITION" in err, "%s %r" % (rc, err))
    rc, out, err = cli.run("partitions", "elect-leaders", "--partition", "0")
    c.check("--partition without --topic: exit 2", rc == 2 and "usage" in err, "%s %r" % (rc, err))
    rc, out, err = cli.run("partitions", "elect-leaders", "--topic", ETOPIC, "--partition", "-1")
    c.check("a negative --partition: exit 2", rc == 2, "%s %r" % (rc, err))

    try:
        top, res = elect_leaders_raw(s.bootstrap, 0, 0, [(ETOPIC, [0, 1])])
        c.check("raw v0: ELECTION_NOT_NEEDED per partition",
                top is None and res == {ETOPIC: [(0, ERR_ELECTION_NOT_NEEDED, None),
                                                 (1, ERR_ELECTION_NOT_NEEDED, None)]}, str(res))
        top, res = elect_leaders_raw(s.bootstrap, 2, 0, [(ETOPIC, [1, 5]), ("nope", [0])])
        c.check("raw v2 (flexible): per partition, unknown ones UNKNOWN_TOPIC_OR_PARTITION",
                top == ERR_NONE and res == {
                    ETOPIC: [(1, ERR_ELECTION_NOT_NEEDED, None), (5, ERR_UNKNOWN_TOPIC_OR_PARTITION, None)],
                    "nope": [(0, ERR_UNKNOWN_TOPIC_OR_PARTITION, None)]}, "%s %s" % (top, res))
        top, res = elect_leaders_raw(s.bootstrap, 1, 0, None)
        c.check("raw v1, null TopicPartitions: a row per topic, partitions not needing an "
                "election left out",
                top == ERR_NONE and ETOPIC in res and "__consumer_offsets" in res
                and all(rows == [] for rows in res.values()), "%s %s" % (top, res))
        top, res = elect_leaders_raw(s.bootstrap, 2, 1, [(ETOPIC, [0])])
        rows = res.get(ETOPIC, [])
        c.check("raw v2 UNCLEAN: INVALID_REQUEST with a message",
                top == ERR_NONE and len(rows) == 1 and rows[0][:2] == (0, ERR_INVALID_REQUEST)
                and "unclean" in (rows[0][2] or ""), "%s %s" % (top, res))
    except (OSError, struct.error, IndexError) as e:
        c.check("raw ElectLeaders requests", False, repr(e))

    rc, out, err = cli.run("topics", "delete", ETOPIC)
    c.check("delete the election topic", rc == 0, "%s %r" % (rc, err))


# ---- reassignments and nodes (API keys 45 and 46) ------------------------------------------------

RTOPIC = "cli-reassign"
API_ALTER_REASSIGNMENTS, API_LIST_REASSIGNMENTS = 45, 46
ERR_INVALID_REPLICA_ASSIGNMENT, ERR_NO_REASSIGNMENT_IN_PROGRESS = 39, 85


def raw_flexible_call(bootstrap, api_key, body):
    """Sends one v0 request of a flexible-from-v0 API (request header v2) and returns a Reader
    positioned after the response header v1."""
    hdr = struct.pack(">hhih", api_key, 0, 4545, len("cli-test")) + b"cli-test" + b"\x00"
    msg = hdr + body
    with socket.create_connection(tuple(bootstrap.rsplit(":", 1)), timeout=CLI_TIMEOUT_S) as sk:
        sk.sendall(struct.pack(">i", len(msg)) + msg)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = sk.recv(65536)
            if not chunk:
                raise IOError("connection closed after %d bytes" % len(data))
            data += chunk
    r = Reader(data[4:], True)
    if r.take(">i") != 4545:
        raise IOError("wrong correlation id")
    r.tags()
    return r


def carr(items):
    return uvarint(len(items) + 1) + b"".join(items)


def cstr(v):
    b = v.encode()
    return uvarint(len(b) + 1) + b


def alter_reassignments_raw(bootstrap, topics):
    """AlterPartitionReassignments v0; topics = [(name, [(partition, replicas or None)])].
    Returns (top error, {topic: [(partition, error, message)]})."""
    def part(p, reps):
        r = b"\x00" if reps is None else carr([struct.pack(">i", x) for x in reps])
        return struct.pack(">i", p) + r + b"\x00"
    body = struct.pack(">i", 10000) + carr(
        [cstr(t) + carr([part(p, reps) for p, reps in ps]) + b"\x00" for t, ps in topics]) + b"\x00"
    r = raw_flexible_call(bootstrap, API_ALTER_REASSIGNMENTS, body)
    r.take(">i")
    top = r.take(">h")
    r.string()
    out = {}
    for _ in range(r.count()):
        name = r.string()
        rows = []
        for _ in range(r.count()):
            rows.append((r.take(">i"), r.take(">h"), r.string()))
            r.tags()
        r.tags()
        out[name] = rows
    r.tags()
    return top, out


def list_reassignments_raw(bootstrap, topics):
    """ListPartitionReassignments v0; topics None (all) or [(name, [partitions])].
    Returns (top error, {topic: [(partition, replicas, adding, removing)]})."""
    if topics is None:
        tb = b"\x00"
    else:
        tb = carr([cstr(t) + carr([struct.pack(">i", p) for p in ps]) + b"\x00"
                   for t, ps in topics])
    r = raw_flexible_call(bootstrap, API_LIST_REASSIGNMENTS, struct.pack(">i", 10000) + tb + b"\x00")
    r.take(">i")
    top = r.take(">h")
    r.string()

    def ids():
        return [r.take(">i") for _ in range(r.count())]
    out = {}
    for _ in range(r.count()):
        name = r.string()
        rows = []
        for _ in range(r.count()):
            rows.append((r.take(">i"), ids(), ids(), ids()))
            r.tags()
        r.tags()
        out[name] = rows
    r.tags()
    return top, out


def test_reassign(c, cli, s):
    rc, out, err = cli.run("topics", "create", RTOPIC, "--partitions", "2")
    c.check("create the reassignment topic", rc == 0, "%s %r" % (rc, err))

    rc, doc, err = cli.json("nodes", "list")
    nodes = doc["nodes"] if doc else []
    c.check("nodes list: the one node, controller, leading all it holds",
            rc == 0 and len(nodes) == 1 and nodes[0]["id"] == 1 and nodes[0]["controller"]
            and nodes[0]["port"] == int(s.bootstrap.rsplit(":", 1)[1])
            and nodes[0]["replicas"] >= 2 and nodes[0]["replicas"] == nodes[0]["leaders"],
            "%s %s %r" % (rc, doc, err))
    rc, out, err = cli.run("nodes", "list")
    c.check("nodes list: a table", rc == 0 and out.split()[:7] == [
        "NODE", "HOST", "PORT", "RACK", "REPLICAS", "LEADERS", "CONTROLLER"], "%s %r" % (rc, out))

    rc, out, err = cli.run("partitions", "reassign", "--topic", RTOPIC, "--partition", "0",
                           "--replicas", "1,7")
    c.check("reassign to an unregistered node: exit 1, INVALID_REPLICA_ASSIGNMENT naming it",
            rc == 1 and "topic '%s' partition 0: INVALID_REPLICA_ASSIGNMENT" % RTOPIC in err
            and "replica 7 is not a registered node" in err
            and "INVALID_REPLICA_ASSIGNMENT" in out, "%s %r %r" % (rc, out, err))
    rc, doc, err = cli.json("partitions", "reassign", "--topic", RTOPIC, "--partition", "0",
                            "--replicas", "1,1")
    c.check("reassign to a list naming a node twice: exit 1, INVALID_REPLICA_ASSIGNMENT",
            rc == 1 and "INVALID_REPLICA_ASSIGNMENT" in err and "listed twice" in err,
            "%s %r" % (rc, err))
    rc, out, err = cli.run("partitions", "reassign", "--topic", RTOPIC, "--partition", "5",
                           "--replicas", "1")
    c.check("reassign an unknown partition: exit 1, UNKNOWN_TOPIC_OR_PARTITION",
            rc == 1 and "partition 5: UNKNOWN_TOPIC_OR_PARTITION" in err, "%s %r" % (rc, err))
    rc, doc, err = cli.json("topics", "describe", RTOPIC)
    parts = doc["partitions"] if doc else []
    c.check("the refused reassignments changed nothing",
            rc == 0 and [p["replicas"] for p in parts] == [[1], [1]], "%s %s" % (rc, doc))

    rc, out, err = cli.run("partitions", "reassign", "--topic", RTOPIC, "--partition", "1",
                           "--replicas", "1", "--json")
    doc = json.loads(out) if rc == 0 and out.strip() else None
    rows = doc["partitions"] if doc else []
    c.check("reassign to the current list: MOVED, exit 0, led by node 1",
            rc == 0 and len(rows) == 1 and rows[0]["result"] == "MOVED"
            and rows[0]["replicas"] == [1] and rows[0]["old_replicas"] == [1]
            and rows[0]["leader"] == 1, "%s %r %r" % (rc, out, err))
    c.check("...with progress lines on stderr, none on stdout",
            "partitions moved" in err and "partitions moved" not in out, "%r" % err)
    rc, doc, err = cli.json("partitions", "reassignments")
    c.check("reassignments: none in progress",
            rc == 0 and doc == {"reassignments": []}, "%s %s %r" % (rc, doc, err))
    rc, out, err = cli.run("partitions", "reassignments")
    c.check("reassignments (table): says none", rc == 0 and "no partition reassignments" in out,
            "%s %r" % (rc, out))
    rc, out, err = cli.run("partitions", "reassign", "--topic", RTOPIC, "--partition", "0")
    c.check("reassign without --replicas: exit 2", rc == 2 and "usage" in err, "%s %r" % (rc, err))
    rc, out, err = cli.run("partitions", "reassign", "--topic", RTOPIC, "--partition", "0",
                           "--replicas", "1,x")
    c.check("reassign with a malformed --replicas: exit 2", rc == 2, "%s %r" % (rc, err))

    rc, out, err = cli.run("nodes", "drain", "--node", "1")
    c.check("drain the only node: refused, exit 1, nothing sent, the partition named",
            rc == 1 and "node 1 cannot be drained" in err and "no other node" in err
            and "nothing was moved" in err and out == "", "%s %r %r" % (rc, out, err))
    rc, doc, err = cli.json("topics", "describe", RTOPIC)
    parts = doc["partitions"] if doc else []
    c.check("...and the replicas stay", rc == 0 and [p["replicas"] for p in parts] == [[1], [1]],
            "%s %s" % (rc, doc))
    rc, out, err = cli.run("nodes", "drain", "--node", "42")
    c.check("drain an unknown node: exit 1", rc == 1 and "node 42" in err, "%s %r" % (rc, err))
    rc, out, err = cli.run("nodes", "drain")
    c.check("drain without --node: exit 2", rc == 2 and "usage" in err, "%s %r" % (rc, err))

    try:
        top, res = alter_reassignments_raw(s.bootstrap, [
            (RTOPIC, [(0, None), (1, []), (0, [1, 2, 3, 4, 5, 6, 7, 8])]),
            ("no-such-topic", [(0, [1])])])
        rows = res.get(RTOPIC, [])
        c.check("raw Alter v0: null Replicas (cancel) gets NO_REASSIGNMENT_IN_PROGRESS, an "
                "empty or too long list INVALID_REPLICA_ASSIGNMENT, an unknown topic "
                "UNKNOWN_TOPIC_OR_PARTITION",
                top == ERR_NONE and [(p, e) for p, e, _m in rows] == [
                    (0, ERR_NO_REASSIGNMENT_IN_PROGRESS), (1, ERR_INVALID_REPLICA_ASSIGNMENT),
                    (0, ERR_INVALID_REPLICA_ASSIGNMENT)]
                and all(m for _p, _e, m in rows)
                and [(p, e) for p, e, _m in res.get("no-such-topic", [])]
                == [(0, ERR_UNKNOWN_TOPIC_OR_PARTITION)], "%s %s" % (top, res))
        top, res = alter_reassignments_raw(s.bootstrap, [(RTOPIC, [(0, [1]), (1, [1])])])
        c.check("raw Alter v0: two partitions to their current list, both NONE",
                top == ERR_NONE and [(p, e, m) for p, e, m in res.get(RTOPIC, [])]
                == [(0, ERR_NONE, None), (1, ERR_NONE, None)], "%s %s" % (top, res))
        top, res = list_reassignments_raw(s.bootstrap, None)
        c.check("raw List v0, null Topics: nothing moving", top == ERR_NONE and res == {},
                "%s %s" % (top, res))
        top, res = list_reassignments_raw(s.bootstrap, [(RTOPIC, [0, 1, 9]), ("nope", [0])])
        c.check("raw List v0, named (unknown ones included): nothing moving, no error",
                top == ERR_NONE and res == {}, "%s %s" % (top, res))
    except (OSError, struct.error, IndexError) as e:
        c.check("raw reassignment requests", False, repr(e))

    rc, out, err = cli.run("topics", "delete", RTOPIC)
    c.check("delete the reassignment topic", rc == 0, "%s %r" % (rc, err))


def wait_for(pred, timeout_s=WAIT_S, step_s=0.3):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step_s)
    return None


def committed_map(cli):
    rc, doc, err = cli.json("groups", "lag", GROUP)
    if rc != 0 or doc is None:
        return None, err
    return {(p["topic"], p["partition"]): p for p in doc["partitions"]}, doc


def test_groups(c, cli, s):
    if subprocess.run([cli_path(), "groups", "list"], env=cli.env, capture_output=True,
                      timeout=CLI_TIMEOUT_S).returncode != 0:
        c.check("the broker answers ListGroups", False, "(group APIs missing?)")
        return
    rc, out, err = cli.run("topics", "create", GTOPIC, "--partitions", "2")
    c.check("create the group's topic", rc == 0, err)
    now_ms = int(time.time() * 1000)
    old_ms = now_ms - 3600 * 1000
    ok, offs = produce(s.bootstrap, GTOPIC, 2, PER_PARTITION, old_ms, OLD_PER_PARTITION, now_ms)
    c.check("produced 20 records (6 old and 4 new per partition)", ok)
    check_layout(c, "produced 20 records", s.bootstrap, GTOPIC, offs)
    # Where the group commits (the 8th record of each partition, COMMIT_AT consumed), and the
    # log ends and starts the CLI must report, as the producer and ListOffsets see them.
    commit = {p: offs[p][COMMIT_AT] for p in (0, 1)}
    try:
        ends = {p: sluicetest.list_offset(s.bootstrap, GTOPIC, p) for p in (0, 1)}
        starts = {p: sluicetest.list_offset(s.bootstrap, GTOPIC, p, -2) for p in (0, 1)}
    except (OSError, struct.error) as e:
        c.check("ListOffsets of the group's topic", False, repr(e))
        return
    c.check("ListOffsets: each log ends right after its last record and starts at 0 (%s)" % ends,
            all(ends[p] == offs[p][-1] + 1 and starts[p] == 0 for p in (0, 1)),
            "ends %s starts %s offsets %s" % (ends, starts, offs))
    total = sum(ends[p] - commit[p] for p in (0, 1))

    consumer = subprocess.Popen([sys.executable, "-c", CONSUMER, s.bootstrap, GTOPIC, GROUP,
                                 str(2 * PER_PARTITION), "%d,%d" % (commit[0], commit[1])],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = wait_line(consumer, WAIT_S)
        c.check("the consumer joined, read everything and committed", line == "READY", repr(line))

        def stable():
            rc, doc, _ = cli.json("groups", "describe", GROUP)
            return doc if rc == 0 and doc and doc["state"] == "Stable" else None
        doc = wait_for(stable)
        c.check("groups describe: Stable", doc is not None)
        if doc:
            m = doc["members"]
            c.check("describe: one member with the consumer's client id",
                    len(m) == 1 and m[0]["client_id"] == "cli-test-consumer" and m[0]["host"],
                    str(m))
            assigned = sorted((a["topic"], p) for a in (m[0]["assignment"] or []) for p in a["partitions"]) if m else []
            c.check("describe: the member's assignment decodes to both partitions",
                    assigned == [(GTOPIC, 0), (GTOPIC, 1)], str(m))
            c.check("describe: consumer protocol", doc["protocol_type"] == "consumer" and doc["protocol"],
                    str(doc))
        rc, out, err = cli.run("groups", "describe", GROUP)
        c.check("groups describe table", rc == 0 and "cli-test-consumer" in out
                and "%s:0,1" % GTOPIC in out, out + err)

        rc, out, err = cli.run("groups", "list")
        c.check("groups list shows the group as Stable",
                rc == 0 and any(l.split() == [GROUP, "consumer", "Stable"] for l in out.splitlines()),
                out + err)
        rc, doc, err = cli.json("groups", "list")
        c.check("groups list --json", rc == 0 and any(g["group"] == GROUP for g in doc["groups"]),
                "%s %s" % (doc, err))

        m, doc = committed_map(cli)
        c.check("groups lag: committed %s, log end %s (ListOffsets), lag the difference per "
                "partition; total %d" % (commit, ends, total),
                m is not None and all(m.get((GTOPIC, p), {}).get("committed") == commit[p]
                                      and m[(GTOPIC, p)]["log_end"] == ends[p]
                                      and m[(GTOPIC, p)]["lag"] == ends[p] - commit[p]
                                      for p in (0, 1))
                and doc["total_lag"] == total, str(doc))
        c.check("groups lag: the owner is shown",
                m is not None and m.get((GTOPIC, 0), {}).get("client_id") == "cli-test-consumer", str(doc))
        rc, out, err = cli.run("groups", "lag", GROUP)
        c.check("groups lag table with the total", rc == 0 and "Total lag: %d" % total in out,
                out + err)

        rc, out, err = cli.run("groups", "reset-offsets", GROUP, "--to-earliest")
        c.check("reset-offsets refused while the group is Stable: exit 1",
                rc == 1 and "Stable" in err, "%s %r" % (rc, err))
    finally:
        try:
            consumer.stdin.close()
            consumer.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            consumer.kill()
            consumer.wait(timeout=10)
    c.check("the consumer closed", consumer.returncode == 0, str(consumer.returncode))

    def empty():
        rc, doc, _ = cli.json("groups", "describe", GROUP)
        return doc if rc == 0 and doc and doc["state"] == "Empty" else None
    c.check("after the member left the group is Empty", wait_for(empty) is not None)

    rc, doc, err = cli.json("groups", "reset-offsets", GROUP, "--to-earliest", "--dry-run")
    parts = {(p["topic"], p["partition"]): p for p in doc["partitions"]} if doc else {}
    c.check("reset --to-earliest --dry-run shows old %s and new 0 (the log start)" % commit,
            rc == 0 and doc["dry_run"] and len(parts) == 2
            and all(p["old_offset"] == commit[p["partition"]] and p["new_offset"] == 0
                    for p in parts.values()),
            "%s %s" % (doc, err))
    m, doc = committed_map(cli)
    c.check("the dry run committed nothing",
            m is not None and all(m[(GTOPIC, p)]["committed"] == commit[p] for p in (0, 1)), str(doc))

    rc, out, err = cli.run("groups", "reset-offsets", GROUP, "--to-earliest")
    c.check("reset --to-earliest prints old and new offsets",
            rc == 0 and "OLD-OFFSET" in out
            and any(l.split() == [GTOPIC, "0", str(commit[0]), "0"] for l in out.splitlines()),
            out + err)
    m, doc = committed_map(cli)
    c.check("after --to-earliest: committed 0, lag the log end %s, total %d"
            % (ends, sum(ends.values())),
            m is not None and all(m[(GTOPIC, p)]["committed"] == 0 and m[(GTOPIC, p)]["lag"] == ends[p]
                                  for p in (0, 1)) and doc["total_lag"] == sum(ends.values()),
            str(doc))

    rc, doc, err = cli.json("groups", "reset-offsets", GROUP, "--to-offset", "8", "--topic", GTOPIC)
    m, ldoc = committed_map(cli)
    c.check("reset --to-offset 8 --topic: committed 8",
            rc == 0 and m is not None and all(m[(GTOPIC, p)]["committed"] == 8 for p in (0, 1)),
            "%s %s %s" % (doc, err, ldoc))
    rc, doc, err = cli.json("groups", "reset-offsets", GROUP, "--to-offset", "999")
    m, ldoc = committed_map(cli)
    c.check("reset --to-offset 999 is clamped to the log end %s" % ends,
            rc == 0 and m is not None and all(m[(GTOPIC, p)]["committed"] == ends[p] for p in (0, 1)),
            "%s %s %s" % (doc, err, ldoc))

    mid = datetime.datetime.fromtimestamp((old_ms + now_ms) / 2000, datetime.timezone.utc)
    iso = mid.strftime("%Y-%m-%dT%H:%M:%SZ")
    rc, out, err = cli.run("groups", "reset-offsets", GROUP, "--to-datetime", iso)
    m, ldoc = committed_map(cli)
    newer = {p: offs[p][OLD_PER_PARTITION] for p in (0, 1)}
    c.check("reset --to-datetime %s: committed %s, the first newer record" % (iso, newer),
            rc == 0 and m is not None and all(m[(GTOPIC, p)]["committed"] == newer[p]
                                              for p in (0, 1)), "%s %r %s" % (out, err, ldoc))
    rc, out, err = cli.run("groups", "reset-offsets", GROUP, "--to-datetime", str(old_ms - 1000))
    m, ldoc = committed_map(cli)
    # Only control batches (checked above) lie before the first record.
    first = {p: offs[p][0] for p in (0, 1)}
    c.check("reset --to-datetime in epoch ms before everything: committed %s, the first record"
            % first,
            rc == 0 and m is not None and all(m[(GTOPIC, p)]["committed"] == first[p] for p in (0, 1)),
            "%s %r %s" % (out, err, ldoc))
    rc, out, err = cli.run("groups", "reset-offsets", GROUP, "--to-datetime", "2026-13-01T00:00:00Z")
    c.check("a malformed --to-datetime: exit 2", rc == 2, "%s %r" % (rc, err))
    rc, out, err = cli.run("groups", "reset-offsets", GROUP)
    c.check("reset-offsets without a target: exit 2", rc == 2, "%s %r" % (rc, err))
    rc, out, err = cli.run("groups", "reset-offsets", GROUP, "--to-latest")
    m, ldoc = committed_map(cli)
    c.check("reset --to-latest: lag 0",
            rc == 0 and m is not None and ldoc["total_lag"] == 0, "%s %r %s" % (out, err, ldoc))

    rc, out, err = cli.run("groups", "delete", GROUP)
    c.check("groups delete exits 0", rc == 0, "%s %r" % (rc, err))
    rc, out, err = cli.run("groups", "describe", GROUP)
    c.check("describe a deleted group: exit 1, GROUP_ID_NOT_FOUND",
            rc == 1 and "group '%s': GROUP_ID_NOT_FOUND" % GROUP in err, "%s %r %r" % (rc, out, err))
    rc, out, err = cli.run("groups", "delete", "no-such-group")
    c.check("delete an unknown group: exit 1 naming the error",
            rc == 1 and "group 'no-such-group': GROUP_ID_NOT_FOUND" in err, "%s %r" % (rc, err))


def wait_line(proc, timeout_s):
    """The child's next stdout line, or None after timeout_s."""
    import select
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        r, _, _ = select.select([proc.stdout], [], [], 0.5)
        if r:
            return proc.stdout.readline().strip()
        if proc.poll() is not None:
            return None
    return None


def main():
    c = sluicetest.Checks()
    if not os.access(cli_path(), os.X_OK):
        c.check("the CLI exists at %s" % cli_path(), False)
        return c.finish()
    with sluicetest.Server() as s:
        cli = Cli(s.bootstrap)
        test_topics(c, cli, s)
        test_partitions(c, cli, s)
        test_reassign(c, cli, s)
        test_groups(c, cli, s)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
