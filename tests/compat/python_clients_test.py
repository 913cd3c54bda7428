"""confluent-kafka and kafka-python against a real sluice-server.

Runs twice (tests/compat/meson.build):
  --clients=debian  under /usr/bin/python3: Debian 12's python3-confluent-kafka 1.x (librdkafka
                    2.0.2) and python3-kafka 2.0.2, the old clients in the field;
  --clients=pypi    inside the cached virtual environment of tests/compat/pyvenv.py: the newest
                    confluent-kafka and kafka-python, pinned in tests/compat/requirements.txt.
The first checks assert that the interpreter really has the clients the variant claims.

confluent-kafka: AdminClient create/describe/delete topics and describe_configs of a topic;
an idempotent producer (enable.idempotence, acks=all, lz4) delivering 2,000 messages exactly once
in order, stored as lz4 batches with a producer id; a consumer with assign + seek + read to end;
offsets_for_times and watermarks.
kafka-python: the version probe infers a broker of at least (2, 1); KafkaAdminClient
create/describe_configs/delete; KafkaProducer and KafkaConsumer (assign/seek) round trip.
Consumer groups are not implemented yet: no subscribe(), no commits.

Every partition is a Raft group: its log starts with two control batches (the configuration
and the first leader's barrier) that clients skip, so the first message is at offset 2, not 0
(docs/replication.md). Expected offsets therefore come from the delivery reports, log ends from
ListOffsets, and every offset no message took is checked to be a control batch in the stored log.
"""

import argparse
import os
import re
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sluicetest  # noqa: E402

OP_TIMEOUT_S = 20
HERE = os.path.dirname(os.path.abspath(__file__))


def pinned_versions():
    """{package: version} from requirements.txt."""
    out = {}
    with open(os.path.join(HERE, "requirements.txt")) as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9_.-]+)==([^ \\]+)", line)
            if m:
                out[m.group(1).lower()] = m.group(2)
    return out


def wait_until(pred, timeout_s=OP_TIMEOUT_S, step_s=0.1):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step_s)
    return pred()


def stored_batches(data_dir, topic, partition):
    """Every stored batch of the partition (sluicetest.Batch), control batches included."""
    return sluicetest.segment_batches(os.path.join(data_dir, "data"), topic, partition)


RAFT_CONTROL = [sluicetest.CONTROL_RAFT_CHANGE, sluicetest.CONTROL_RAFT_BARRIER]


def layout_problems(bs, data_dir, topic, partition, offsets):
    """What is wrong with `offsets` (a partition's delivered offsets, in production order)
    against the stored log: they must increase, and with the partition's control batches (its
    Raft configuration and the leader's barrier, nothing else on a server that never restarted)
    fill [0, log end) exactly. An empty list when all holds."""
    end = sluicetest.list_offset(bs, topic, partition)
    batches = stored_batches(data_dir, topic, partition)
    problems = sluicetest.offset_problems(offsets, batches, 0, end)
    types = [b.control_type for b in batches if b.is_control]
    if types != RAFT_CONTROL:
        problems.append("control batches %s" % [b for b in batches if b.is_control])
    if batches and batches[-1].last_offset + 1 != end:
        problems.append("stored log ends at %d, ListOffsets says %d"
                        % (batches[-1].last_offset + 1, end))
    return problems


class Suite:
    def __init__(self, server, checks):
        self.s = server
        self.c = checks

    def section(self, name, fn):
        """Runs one section; an exception is one failed check, and the rest still run."""
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - any client error is a test failure
            self.c.check("%s: no exception" % name, False,
                         "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()))

    # ---- confluent-kafka ------------------------------------------------------------------

    def ck_admin(self):
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
        c, bs = self.c, self.s.bootstrap
        a = AdminClient({"bootstrap.servers": bs})
        topic = "ck-admin"
        fs = a.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1,
                                       config={"retention.ms": "123456789",
                                               "cleanup.policy": "delete"})],
                             operation_timeout=10, request_timeout=OP_TIMEOUT_S)
        c.check("ck admin: create_topics succeeds", fs[topic].result(timeout=OP_TIMEOUT_S) is None)
        md = a.list_topics(timeout=OP_TIMEOUT_S)
        t = md.topics.get(topic)
        c.check("ck admin: list_topics describes it with 3 partitions led by node 1",
                t is not None and t.error is None and sorted(t.partitions) == [0, 1, 2]
                and all(p.leader == 1 and p.replicas == [1] and p.isrs == [1]
                        for p in t.partitions.values()), str(t and t.partitions))
        c.check("ck admin: metadata names node 1 as controller and the bootstrap address",
                md.controller_id == 1 and md.brokers.get(1) is not None
                and "%s:%d" % (md.brokers[1].host, md.brokers[1].port) == bs,
                "controller %s brokers %s" % (md.controller_id, md.brokers))
        c.check("ck admin: metadata has a cluster id", bool(md.cluster_id), str(md.cluster_id))
        if hasattr(a, "describe_topics"):  # confluent-kafka >= 2.3
            from confluent_kafka import TopicCollection
            d = a.describe_topics(TopicCollection([topic]), request_timeout=OP_TIMEOUT_S)
            desc = d[topic].result(timeout=OP_TIMEOUT_S)
            c.check("ck admin: describe_topics shows 3 partitions",
                    desc.name == topic and len(desc.partitions) == 3, str(desc))

        rs = a.describe_configs([ConfigResource("topic", topic)], request_timeout=OP_TIMEOUT_S)
        entries = list(rs.values())[0].result(timeout=OP_TIMEOUT_S)
        ret = entries.get("retention.ms")
        c.check("ck admin: describe_configs shows retention.ms=123456789 set at creation",
                ret is not None and ret.value == "123456789" and not ret.is_default,
                str(ret and (ret.value, ret.is_default)))
        seg = entries.get("segment.bytes")
        c.check("ck admin: describe_configs shows an unset key as a default",
                seg is not None and seg.is_default and seg.value, str(sorted(entries)))
        rs = a.describe_configs([ConfigResource("broker", "1")], request_timeout=OP_TIMEOUT_S)
        entries = list(rs.values())[0].result(timeout=OP_TIMEOUT_S)
        c.check("ck admin: describe_configs of broker 1 answers", len(entries) > 0)

        fs = a.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)],
                             request_timeout=OP_TIMEOUT_S)
        try:
            fs[topic].result(timeout=OP_TIMEOUT_S)
            err = None
        except KafkaException as e:
            err = e.args[0]
        c.check("ck admin: creating it again fails with TOPIC_ALREADY_EXISTS",
                err is not None and err.name() == "TOPIC_ALREADY_EXISTS", str(err))
        fs = a.create_topics([NewTopic("ck-rf3", num_partitions=1, replication_factor=3)],
                             request_timeout=OP_TIMEOUT_S)
        try:
            fs["ck-rf3"].result(timeout=OP_TIMEOUT_S)
            err = None
        except KafkaException as e:
            err = e.args[0]
        c.check("ck admin: replication factor 3 on one node fails with "
                "INVALID_REPLICATION_FACTOR",
                err is not None and err.name() == "INVALID_REPLICATION_FACTOR", str(err))

        fs = a.delete_topics([topic], operation_timeout=10, request_timeout=OP_TIMEOUT_S)
        c.check("ck admin: delete_topics succeeds", fs[topic].result(timeout=OP_TIMEOUT_S) is None)
        gone = wait_until(lambda: topic not in a.list_topics(timeout=OP_TIMEOUT_S).topics)
        c.check("ck admin: the deleted topic is no longer listed", gone)
        rs = a.describe_configs([ConfigResource("topic", topic)], request_timeout=OP_TIMEOUT_S)
        try:
            list(rs.values())[0].result(timeout=OP_TIMEOUT_S)
            err = None
        except KafkaException as e:
            err = e.args[0]
        c.check("ck admin: describe_configs of the deleted topic fails", err is not None,
                str(err))

    def ck_create(self, topic, partitions):
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({"bootstrap.servers": self.s.bootstrap})
        fs = a.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)],
                             request_timeout=OP_TIMEOUT_S)
        fs[topic].result(timeout=OP_TIMEOUT_S)

    def ck_consume_range(self, consumer, topic, partition, start, end):
        """Reads (offset, key, value) from the consumer's assignment until partition EOF at
        `end`; starting at `start` is the caller's business (assign/seek)."""
        out = []
        deadline = time.monotonic() + OP_TIMEOUT_S
        while time.monotonic() < deadline:
            m = consumer.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    if m.offset() >= end:
                        break
                    continue
                raise RuntimeError("consumer error: %s" % m.error())
            out.append((m.offset(), m.key(), m.value()))
        return out

    def ck_idempotent_and_consume(self):
        from confluent_kafka import Consumer, Producer, TopicPartition
        c, bs = self.c, self.s.bootstrap
        topic, n, parts = "ck-idempotent", 2000, 2
        self.ck_create(topic, parts)
        p = Producer({"bootstrap.servers": bs, "enable.idempotence": True, "acks": "all",
                      "compression.type": "lz4", "linger.ms": 5, "batch.num.messages": 300,
                      "message.timeout.ms": 30000})
        reports = []

        def dr(err, msg):
            reports.append((err, msg.partition(), msg.offset(), msg.key()))

        msgs = {}
        for i in range(n):
            key = b"k%05d" % i
            value = b"idempotent-%05d-" % i + b"x" * (i % 97)
            part = i % parts
            msgs[key] = (part, value)
            p.produce(topic, value=value, key=key, partition=part, on_delivery=dr)
            if i % 100 == 0:
                p.poll(0)
        left = p.flush(30)
        c.check("ck idempotent: flush delivers everything", left == 0, "%d left" % left)
        errors = [r for r in reports if r[0] is not None]
        c.check("ck idempotent: %d delivery reports without error" % n,
                len(reports) == n and not errors, "%d reports, errors %s" % (len(reports), errors[:3]))
        problems = {}
        for part in range(parts):
            # in production order: key k%05d was the i-th message
            offs = [r[2] for r in sorted(reports, key=lambda r: r[3]) if r[1] == part]
            pr = layout_problems(bs, self.s.data_dir, topic, part, offs)
            if pr or len(set(offs)) != n // parts:
                problems[part] = pr or "%d distinct offsets" % len(set(offs))
        c.check("ck idempotent: in each partition the messages took increasing offsets in "
                "production order, each once, and every other offset is a control batch",
                not problems, str(problems))
        stored = [b for part in range(parts) for b in stored_batches(self.s.data_dir, topic, part)]
        batches = [b for b in stored if not b.is_control]
        c.check("ck idempotent: stored data batches are lz4 (codec 3)",
                batches and all(b.codec == 3 for b in batches),
                str(sorted({b.codec for b in batches})))
        c.check("ck idempotent: stored data batches carry a producer id",
                batches and all(b.producer_id >= 0 for b in batches)
                and len({b.producer_id for b in batches}) == 1,
                str(sorted({b.producer_id for b in batches})))
        c.check("ck idempotent: the log holds %d records" % n,
                sum(b.records_count for b in batches) == n)

        cons = Consumer({"bootstrap.servers": bs, "group.id": "sluice-compat-assign",
                         "enable.auto.commit": False, "enable.partition.eof": True,
                         "auto.offset.reset": "earliest"})
        # Each partition ends right after its last message.
        ends = {part: max([r[2] for r in reports if r[1] == part] or [-1]) + 1
                for part in range(parts)}
        try:
            # assign at 0 on partition 0: everything, in order, exactly the bytes produced
            cons.assign([TopicPartition(topic, 0, 0)])
            got = self.ck_consume_range(cons, topic, 0, 0, ends[0])
            want = sorted((o, k, msgs[k][1]) for (e, pt, o, k) in reports if pt == 0)
            c.check("ck consumer: assign at 0 reads partition 0 to the end, byte for byte",
                    got == want, "got %d of %d" % (len(got), len(want)))
            # seek back and read to the end again
            cons.seek(TopicPartition(topic, 0, 700))
            got = self.ck_consume_range(cons, topic, 0, 700, ends[0])
            want = [w[0] for w in want if w[0] >= 700]
            c.check("ck consumer: seek to 700 reads the %d messages at 700..%d" % (
                len(want), ends[0] - 1), [g[0] for g in got] == want,
                    "offsets %s..%s (%d)" % (got[0][0] if got else "-", got[-1][0] if got else "-",
                                             len(got)))
            # assign the other partition at an offset in the middle of a compressed batch
            cons.assign([TopicPartition(topic, 1, 333)])
            got = self.ck_consume_range(cons, topic, 1, 333, ends[1])
            want = sorted((o, k, msgs[k][1]) for (e, pt, o, k) in reports if pt == 1 and o >= 333)
            c.check("ck consumer: assign partition 1 at 333 (mid-batch) reads 333..end",
                    got == want, "got %d of %d, first %s" % (len(got), len(want), got[:1]))
            lo, hi = cons.get_watermark_offsets(TopicPartition(topic, 1), timeout=OP_TIMEOUT_S)
            c.check("ck consumer: watermarks are (0, %d), the high one right after the last "
                    "message" % ends[1], (lo, hi) == (0, ends[1]), str((lo, hi)))
        finally:
            cons.close()

        # The same producer keeps going after all that: more messages, still in sequence.
        reports.clear()
        for i in range(10):
            p.produce(topic, value=b"more-%d" % i, partition=0, on_delivery=dr)
        p.flush(30)
        c.check("ck idempotent: 10 more messages continue at the log end %d" % ends[0],
                sorted(r[2] for r in reports if r[0] is None)
                == list(range(ends[0], ends[0] + 10)), str(reports[:3]))

    def ck_fetch_limits_and_long_poll(self):
        from confluent_kafka import Consumer, Producer, TopicPartition
        c, bs = self.c, self.s.bootstrap
        topic, n = "ck-fetch", 600
        self.ck_create(topic, 1)
        p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 20,
                      "batch.num.messages": 200})
        offs = [None] * n
        for i in range(n):
            p.produce(topic, value=b"%04d" % i + b"z" * 200, partition=0,
                      on_delivery=lambda e, m, i=i: offs.__setitem__(i, None if e else m.offset()))
        c.check("ck fetch: %d messages of ~200 B delivered" % n,
                p.flush(30) == 0 and None not in offs)
        end = sluicetest.list_offset(bs, topic, 0)
        # Batches of ~40 KB and fetch limits of 1 KB: the broker still returns one whole batch
        # per fetch (KIP-74), so the consumer makes progress.
        cons = Consumer({"bootstrap.servers": bs, "group.id": "sluice-compat-fetch",
                         "enable.auto.commit": False, "enable.partition.eof": True,
                         "fetch.max.bytes": 1024, "message.max.bytes": 1024,
                         "max.partition.fetch.bytes": 1024,
                         "fetch.wait.max.ms": 5000})
        try:
            cons.assign([TopicPartition(topic, 0, 0)])
            got = self.ck_consume_range(cons, topic, 0, 0, end)
            c.check("ck fetch: fetch.max.bytes=1024 still reads every ~40 KB batch, each "
                    "message at its delivered offset",
                    [(g[0], g[2][:4]) for g in got] == [(o, b"%04d" % i) for i, o in enumerate(offs)]
                    and not layout_problems(bs, self.s.data_dir, topic, 0, offs),
                    "got %d" % len(got))
            # Long poll: parked at the end, the fetch returns as soon as a message arrives,
            # well before fetch.wait.max.ms (5 s).
            cons.poll(0.5)
            t0 = time.monotonic()
            p.produce(topic, value=b"late", partition=0)
            p.flush(10)
            m, deadline = None, time.monotonic() + OP_TIMEOUT_S
            while time.monotonic() < deadline:
                m = cons.poll(0.1)
                if m is not None and not m.error():
                    break
            dt = time.monotonic() - t0
            c.check("ck fetch: a parked fetch wakes up for a new message (%.2fs)" % dt,
                    m is not None and not m.error() and m.value() == b"late" and dt < 2.5,
                    "after %.2fs: %s" % (dt, m and (m.error() or m.value())))
        finally:
            cons.close()

    def ck_offsets_for_times(self):
        from confluent_kafka import Consumer, Producer, TopicPartition
        c, bs = self.c, self.s.bootstrap
        topic, n = "ck-times", 100
        self.ck_create(topic, 1)
        base = (int(time.time()) - 3600) * 1000
        p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 5,
                      "batch.num.messages": 7})  # several batches: the time index is used
        errs = []
        at = [None] * n  # the offset each message was delivered at

        def dr(e, m, i):
            if e:
                errs.append(e)
            else:
                at[i] = m.offset()

        for i in range(n):
            p.produce(topic, value=b"t%d" % i, partition=0, timestamp=base + i * 1000,
                      on_delivery=lambda e, m, i=i: dr(e, m, i))
        c.check("ck times: %d messages with explicit timestamps delivered" % n,
                p.flush(30) == 0 and not errs and None not in at, str(errs[:3]))
        problems = layout_problems(bs, self.s.data_dir, topic, 0, at)
        c.check("ck times: at increasing offsets, every other offset a control batch",
                not problems, str(problems))
        cons = Consumer({"bootstrap.servers": bs, "group.id": "sluice-compat-times",
                         "enable.auto.commit": False})
        try:
            def lookup(ts):
                r = cons.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=OP_TIMEOUT_S)
                if r[0].error:
                    raise RuntimeError(str(r[0].error))
                return r[0].offset
            off = lookup(base - 5000)
            c.check("ck times: a timestamp before the first message gives its offset %s" % at[0],
                    off == at[0], str(off))
            off = lookup(base + 50 * 1000)
            c.check("ck times: an exact timestamp gives its message's offset %s" % at[50],
                    off == at[50], str(off))
            off = lookup(base + 50 * 1000 + 1)
            c.check("ck times: a timestamp between two messages gives the later one (%s)" % at[51],
                    off == at[51], str(off))
            off = lookup(base + (n - 1) * 1000)
            c.check("ck times: the last message's timestamp gives its offset %s" % at[n - 1],
                    off == at[n - 1], str(off))
            off = lookup(base + n * 1000)
            c.check("ck times: a timestamp after the last message gives -1 (end)", off == -1,
                    str(off))
            # ...and a consumer assigned at the looked-up offset reads from there
            cons.assign([TopicPartition(topic, 0, lookup(base + 90 * 1000))])
            got = []
            deadline = time.monotonic() + OP_TIMEOUT_S
            while len(got) < 10 and time.monotonic() < deadline:
                m = cons.poll(0.5)
                if m is not None and not m.error():
                    got.append((m.offset(), m.value(), m.timestamp()[1]))
            c.check("ck times: reading from it gives messages 90..99 at their offsets with "
                    "their timestamps",
                    got == [(at[90 + i], b"t%d" % (90 + i), base + (90 + i) * 1000)
                            for i in range(10)], str(got[:2]))
        finally:
            cons.close()

    # ---- kafka-python ---------------------------------------------------------------------

    def kp_version_probe(self):
        from kafka import KafkaConsumer
        c, bs = self.c, self.s.bootstrap
        cons = KafkaConsumer(bootstrap_servers=bs, api_version=None,
                             request_timeout_ms=OP_TIMEOUT_S * 1000 + 1000)
        try:
            v = cons.config["api_version"]
            print("# kafka-python inferred broker version %s" % (v,), flush=True)
            c.check("kp probe: KafkaConsumer infers a broker version >= (2, 1)",
                    v is not None and tuple(v) >= (2, 1), str(v))
        finally:
            cons.close()
        try:
            from kafka import KafkaClient  # kafka-python 2.x
        except ImportError:
            from kafka.net.compat import KafkaNetClient as KafkaClient  # 3.x's replacement
        cl = KafkaClient(bootstrap_servers=bs)
        try:
            v = cl.check_version()
            c.check("kp probe: %s.check_version() >= (2, 1)" % KafkaClient.__name__,
                    v is not None and tuple(v) >= (2, 1), str(v))
            if hasattr(cl, "cluster") and cl.cluster.broker_metadata(1) is None:
                # kafka-python 2.x knows only the bootstrap node until metadata arrives
                cl.poll(future=cl.cluster.request_update(), timeout_ms=OP_TIMEOUT_S * 1000)
            v = cl.check_version(node_id=1)
            c.check("kp probe: check_version of node 1 (the controller) >= (2, 1)",
                    v is not None and tuple(v) >= (2, 1), str(v))
        finally:
            cl.close()

    def kp_admin(self):
        from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
        c, bs = self.c, self.s.bootstrap
        topic = "kp-admin"
        a = KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=OP_TIMEOUT_S * 1000)
        try:
            r = a.create_topics([NewTopic(topic, 2, 1, topic_configs={"retention.ms": "7654321"})],
                                timeout_ms=10000)
            codes = [e[1] for e in getattr(r, "topic_errors", [])]  # kafka-python 2.x
            c.check("kp admin: create_topics succeeds", all(code == 0 for code in codes), str(r))
            t = wait_until(lambda: a.describe_topics([topic]))
            t = t[0] if t else {}
            parts = t.get("partitions", [])
            c.check("kp admin: describe_topics shows 2 partitions led by node 1",
                    t.get("error_code", 0) == 0 and len(parts) == 2
                    and all(p.get("leader", p.get("leader_id")) == 1 for p in parts), str(t))
            r = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
            c.check("kp admin: describe_configs shows retention.ms=7654321",
                    kp_config_value(r, topic, "retention.ms") == "7654321", str(r)[:2000])
            r = a.delete_topics([topic], timeout_ms=10000)
            codes = [e[1] for e in getattr(r, "topic_error_codes", [])]
            c.check("kp admin: delete_topics succeeds", all(code == 0 for code in codes), str(r))
            gone = wait_until(lambda: topic not in a.list_topics())
            c.check("kp admin: the deleted topic is no longer listed", gone)
        finally:
            a.close()

    def kp_round_trip(self):
        from kafka import KafkaConsumer, KafkaProducer, TopicPartition
        c, bs = self.c, self.s.bootstrap
        topic, n = "kp-roundtrip", 500
        self.ck_create(topic, 1)
        p = KafkaProducer(bootstrap_servers=bs, acks="all", compression_type="gzip",
                          linger_ms=5, request_timeout_ms=OP_TIMEOUT_S * 1000)
        try:
            futs = [p.send(topic, key=b"kp%04d" % i, value=b"kafka-python-%04d-" % i + bytes(range(i % 256)),
                           partition=0) for i in range(n)]
            p.flush(timeout=30)
            offs = [f.get(timeout=OP_TIMEOUT_S).offset for f in futs]
            problems = layout_problems(bs, self.s.data_dir, topic, 0, offs)
            c.check("kp producer: %d sends acknowledged at increasing offsets, every other "
                    "offset a control batch" % n, not problems and len(offs) == n,
                    "%s %s" % (problems, offs[:5]))
        finally:
            p.close(timeout=10)
        batches = [b for b in stored_batches(self.s.data_dir, topic, 0) if not b.is_control]
        # kafka-python writes a batch uncompressed when gzip would not make it smaller, which
        # happens to a lone small record, so only multi-record batches must be gzip.
        c.check("kp producer: stored as magic-2 batches, gzip (codec 1) when they hold more than "
                "one record", batches and all(b.magic == 2 and (b.codec == 1 or
                                                                 b.records_count == 1)
                                              for b in batches)
                and any(b.codec == 1 for b in batches), str(batches[:3]))

        cons = KafkaConsumer(bootstrap_servers=bs, group_id=None, enable_auto_commit=False,
                             request_timeout_ms=OP_TIMEOUT_S * 1000 + 1000,
                             auto_offset_reset="earliest")
        try:
            tp = TopicPartition(topic, 0)
            cons.assign([tp])

            def read_until(count):
                got = []
                deadline = time.monotonic() + OP_TIMEOUT_S
                while len(got) < count and time.monotonic() < deadline:
                    for recs in cons.poll(timeout_ms=500).values():
                        got.extend((r.offset, r.key, r.value) for r in recs)
                return got

            cons.seek(tp, 0)
            got = read_until(n)
            want = [(offs[i], b"kp%04d" % i, b"kafka-python-%04d-" % i + bytes(range(i % 256)))
                    for i in range(n)]
            bad = [(g, w) for g, w in zip(got, want) if g != w]
            c.check("kp consumer: assign + seek(0) reads all %d byte for byte at their offsets"
                    % n, got == want, "got %d, first difference (got, want): %s"
                    % (len(got), bad[:1]))
            cons.seek(tp, offs[321])
            got = read_until(n - 321)
            c.check("kp consumer: seek(%d), the 322nd message, reads it and the rest" % offs[321],
                    [g[0] for g in got] == offs[321:], "got %d" % len(got))
            end = cons.end_offsets([tp])[tp]
            beg = cons.beginning_offsets([tp])[tp]
            c.check("kp consumer: beginning/end offsets are 0/%d (right after the last message)"
                    % (offs[-1] + 1), (beg, end) == (0, offs[-1] + 1), str((beg, end)))
            # Raft's control batches carry timestamp 0: the lookup may stop at one, as long as
            # nothing but control batches lies between the answer and the first message.
            off = cons.offsets_for_times({tp: 0})[tp]
            control = set(sluicetest.control_offsets(stored_batches(self.s.data_dir, topic, 0)))
            c.check("kp consumer: offsets_for_times(0) gives the first message's offset %d or a "
                    "control batch before it" % offs[0],
                    off is not None and off.offset <= offs[0]
                    and all(o in control for o in range(off.offset, offs[0])), str(off))
        finally:
            cons.close()


def kp_config_value(r, name, key):
    """The value of `key` for topic `name` in a KafkaAdminClient.describe_configs result:
    kafka-python 2.x returns response objects, 3.x a dict."""
    if isinstance(r, dict):
        for by_name in r.values():
            entry = by_name.get(name, {}).get(key) if isinstance(by_name, dict) else None
            if entry is not None:
                return entry.get("value") if isinstance(entry, dict) else entry
        return None
    for resp in r:
        for res in resp.resources:
            if res[3] == name:
                for e in res[4]:
                    if e[0] == key:
                        return e[1]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", choices=["debian", "pypi"], required=True)
    args = ap.parse_args()
    c = sluicetest.Checks()

    import confluent_kafka
    import kafka
    ck = confluent_kafka.version()
    ck = ck[0] if isinstance(ck, tuple) else ck  # a plain string in 2.x
    lib, kp = confluent_kafka.libversion()[0], kafka.__version__
    print("# python %s: confluent-kafka %s (librdkafka %s), kafka-python %s"
          % (sys.executable, ck, lib, kp), flush=True)
    if args.clients == "debian":
        c.check("Debian's clients: confluent-kafka 1.x with librdkafka 2.0.x, kafka-python 2.0.2",
                ck.startswith("1.") and lib.startswith("2.0.") and kp == "2.0.2",
                "%s %s %s" % (ck, lib, kp))
    else:
        pins = pinned_versions()
        c.check("the pinned PyPI clients: confluent-kafka %s, kafka-python %s"
                % (pins.get("confluent-kafka"), pins.get("kafka-python")),
                ck == pins.get("confluent-kafka") and kp == pins.get("kafka-python")
                and sys.prefix != sys.base_prefix, "%s %s" % (ck, kp))

    with sluicetest.Server() as s:
        suite = Suite(s, c)
        suite.section("ck admin", suite.ck_admin)
        suite.section("ck idempotent producer and consumer", suite.ck_idempotent_and_consume)
        suite.section("ck fetch limits and long poll", suite.ck_fetch_limits_and_long_poll)
        suite.section("ck offsets_for_times", suite.ck_offsets_for_times)
        suite.section("kp version probe", suite.kp_version_probe)
        suite.section("kp admin", suite.kp_admin)
        suite.section("kp round trip", suite.kp_round_trip)
        c.check("server still running", s.alive())
        if c.failed:
            print("# server log: %s\n%s" % (s.log_path, s.log()[-6000:]))
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
