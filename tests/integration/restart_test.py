#!/usr/bin/python3
"""Crash and restart of a real sluice-server with Debian's confluent-kafka (librdkafka 2.0.2).

1. Topics "restart" (3 partitions, retention.ms and segment.bytes set at creation; small
   segments so the log rolls) and "restart-idem" (1 partition) are created.
2. A plain producer (acks=all, uncompressed) and an idempotent producer (acks=all) stream messages; the
   server is killed with SIGKILL while both still have messages in flight.
3. The server restarts on the same data directory and port: every message acknowledged before
   the kill is at the same offset with the same key and value, each partition's offsets are
   contiguous from 0, the topics and their configs are still there (describe_configs).
4. The idempotent producer, alive through the crash, finishes: every one of its messages is in
   the log exactly once, in order (the broker recovered its sequence state from the log); a new
   idempotent producer appends after it.
5. A clean stop (SIGTERM) and a third start keep everything as it was.
"""

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sluicetest  # noqa: E402

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # noqa: E402

OP_TIMEOUT_S = 20
TOPIC, IDEM = "restart", "restart-idem"
PARTS = 3
N_PLAIN, N_IDEM = 12000, 5000
KILL_AFTER_ACKED = 6000
CONFIGS = {"retention.ms": "86400000", "segment.bytes": "65536"}


def value_of(prefix, i):
    return b"%s-%06d-" % (prefix, i) + bytes((i * 7 + j) % 256 for j in range(i % 61))


def create_topics(bs):
    a = AdminClient({"bootstrap.servers": bs})
    fs = a.create_topics([NewTopic(TOPIC, num_partitions=PARTS, replication_factor=1,
                                   config=CONFIGS),
                          NewTopic(IDEM, num_partitions=1, replication_factor=1)],
                         request_timeout=OP_TIMEOUT_S)
    for f in fs.values():
        f.result(timeout=OP_TIMEOUT_S)


def read_partition(bs, topic, partition):
    """{offset: (key, value)} of the whole partition, read with assign from 0 to the end."""
    cons = Consumer({"bootstrap.servers": bs, "group.id": "sluice-restart-read",
                     "enable.auto.commit": False, "enable.partition.eof": True})
    out = {}
    try:
        lo, hi = cons.get_watermark_offsets(TopicPartition(topic, partition), timeout=OP_TIMEOUT_S)
        if hi == 0:
            return out
        cons.assign([TopicPartition(topic, partition, 0)])
        deadline = time.monotonic() + OP_TIMEOUT_S * 2
        while time.monotonic() < deadline:
            m = cons.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == -191 and m.offset() >= hi:  # _PARTITION_EOF
                    break
                if m.error().code() != -191:
                    raise KafkaException(m.error())
                continue
            out[m.offset()] = (m.key(), m.value())
    finally:
        cons.close()
    return out


def main():
    c = sluicetest.Checks()
    data_dir = tempfile.mkdtemp(prefix="sluice-restart-")
    servers = []
    try:
        s = sluicetest.Server(data_dir=data_dir)
        servers.append(s)
        s.start()
        bs = s.bootstrap
        create_topics(bs)

        plain_acks = {}  # (partition, offset) -> (key, value)
        plain_errs = []
        idem_acks, idem_errs, fatal = [], [], []

        def plain_dr(err, msg):
            if err is None:
                plain_acks[(msg.partition(), msg.offset())] = (msg.key(), msg.value())
            else:
                plain_errs.append(err)

        def idem_dr(err, msg):
            if err is None:
                idem_acks.append((msg.offset(), msg.key()))
            else:
                idem_errs.append(err)

        def on_error(err):
            if err.fatal():
                fatal.append(err)

        plain = Producer({"bootstrap.servers": bs, "acks": "all",
                          "linger.ms": 2, "batch.num.messages": 200,
                          "message.timeout.ms": 60000})
        idem = Producer({"bootstrap.servers": bs, "enable.idempotence": True, "acks": "all",
                         "linger.ms": 2, "batch.num.messages": 50, "message.timeout.ms": 120000,
                         "error_cb": on_error})
        killed_at = None
        i_idem = 0
        for i in range(N_PLAIN):
            plain.produce(TOPIC, key=b"p%06d" % i, value=value_of(b"plain", i),
                          partition=i % PARTS, on_delivery=plain_dr)
            if i % 2 == 0 and i_idem < N_IDEM:
                idem.produce(IDEM, key=b"i%06d" % i_idem, value=value_of(b"idem", i_idem),
                             on_delivery=idem_dr)
                i_idem += 1
            if i % 50 == 0:
                plain.poll(0.01)
                idem.poll(0)
            if len(plain_acks) >= KILL_AFTER_ACKED:
                killed_at = i
                s.kill9()
                break
        if killed_at is None:  # the producers ran ahead: kill with whatever is in flight
            plain.poll(1)
            idem.poll(0)
            s.kill9()
        plain.poll(0.5)
        idem.poll(0.5)
        acked_before = dict(plain_acks)
        c.check("killed mid-stream with messages acknowledged (%d plain, %d idempotent) and "
                "in flight (%d plain, %d idempotent)" % (len(acked_before), len(idem_acks),
                                                          len(plain), len(idem)),
                len(acked_before) >= 1000 and len(plain) > 0,
                "acked %d, in queue %d" % (len(acked_before), len(plain)))
        # The plain producer gives up on what it had not delivered.
        plain.purge(in_queue=True, in_flight=True, blocking=False)
        plain.flush(5)

        # ---- restart on the same directory and port ----------------------------------------
        s2 = sluicetest.Server(data_dir=data_dir, port=s.port)
        servers.append(s2)
        s2.start()
        c.check("the server restarts on the same data directory", s2.alive())
        for _ in range(3):  # librdkafka sees the new server through the same address
            idem.poll(0.2)

        a = AdminClient({"bootstrap.servers": bs})
        md = a.list_topics(timeout=OP_TIMEOUT_S)
        c.check("both topics persist with their partition counts",
                TOPIC in md.topics and IDEM in md.topics
                and len(md.topics[TOPIC].partitions) == PARTS
                and len(md.topics[IDEM].partitions) == 1, str(sorted(md.topics)))
        rs = a.describe_configs([ConfigResource("topic", TOPIC)], request_timeout=OP_TIMEOUT_S)
        entries = list(rs.values())[0].result(timeout=OP_TIMEOUT_S)
        for k, v in CONFIGS.items():
            e = entries.get(k)
            c.check("describe_configs after the crash shows %s=%s set at creation" % (k, v),
                    e is not None and e.value == v and not e.is_default,
                    str(e and (e.value, e.is_default)))

        logs = {p: read_partition(bs, TOPIC, p) for p in range(PARTS)}
        missing = [k for k, v in acked_before.items() if logs[k[0]].get(k[1]) != v]
        c.check("all %d acknowledged messages are readable at the same offsets with the same "
                "bytes" % len(acked_before), not missing,
                "%d missing or different, e.g. %s" % (len(missing), missing[:3]))
        c.check("each partition's offsets are contiguous from 0",
                all(sorted(logs[p]) == list(range(len(logs[p]))) for p in range(PARTS)),
                str({p: len(logs[p]) for p in range(PARTS)}))
        nsegs = len([f for f in os.listdir(os.path.join(data_dir, "data", "%s-0" % TOPIC))
                     if f.endswith(".log")])
        c.check("the small segment.bytes made the log roll (%d segments)" % nsegs, nsegs > 1)

        # ---- the idempotent producer lives through the crash -------------------------------
        for j in range(i_idem, N_IDEM):
            idem.produce(IDEM, key=b"i%06d" % j, value=value_of(b"idem", j), on_delivery=idem_dr)
            if j % 50 == 0:
                idem.poll(0)
        left = idem.flush(60)
        c.check("the idempotent producer delivers all %d messages across the crash" % N_IDEM,
                left == 0 and len(idem_acks) == N_IDEM and not idem_errs and not fatal,
                "left %d, acked %d, errors %s, fatal %s" % (left, len(idem_acks), idem_errs[:3],
                                                          fatal[:1]))
        ilog = read_partition(bs, IDEM, 0)
        keys = [ilog[o][0] for o in sorted(ilog)]
        c.check("...each exactly once and in order at offsets 0..%d" % (N_IDEM - 1),
                keys == [b"i%06d" % j for j in range(N_IDEM)]
                and sorted(ilog) == list(range(N_IDEM)),
                "%d records, %d distinct keys" % (len(keys), len(set(keys))))
        c.check("...with their values intact",
                all(ilog[o][1] == value_of(b"idem", int(ilog[o][0][1:])) for o in ilog))

        fresh_acks = []
        fresh = Producer({"bootstrap.servers": bs, "enable.idempotence": True, "acks": "all",
                          "compression.type": "lz4", "error_cb": on_error})
        ends = {p: len(logs[p]) for p in range(PARTS)}
        for j in range(300):
            fresh.produce(TOPIC, key=b"f%04d" % j, value=b"fresh", partition=j % PARTS,
                          on_delivery=lambda e, m: fresh_acks.append((e, m.partition(), m.offset())))
        c.check("a new idempotent producer after the restart delivers 300 messages",
                fresh.flush(30) == 0 and len(fresh_acks) == 300
                and all(e is None for e, _, _ in fresh_acks) and not fatal, str(fresh_acks[:3]))
        c.check("...appended right after the recovered log in each partition",
                all(sorted(o for _, pp, o in fresh_acks if pp == p)
                    == list(range(ends[p], ends[p] + 100)) for p in range(PARTS)))

        # ---- clean stop, third start ---------------------------------------------------------
        expect = {p: len(logs[p]) + 100 for p in range(PARTS)}
        rc = s2.stop()
        c.check("SIGTERM stops the server cleanly", rc == 0, str(rc))
        s3 = sluicetest.Server(data_dir=data_dir, port=s.port)
        servers.append(s3)
        s3.start()
        cons = Consumer({"bootstrap.servers": bs, "group.id": "sluice-restart-wm"})
        try:
            wm = {p: cons.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=OP_TIMEOUT_S)
                  for p in range(PARTS)}
        finally:
            cons.close()
        c.check("after a clean restart the watermarks are unchanged",
                all(wm[p] == (0, expect[p]) for p in range(PARTS)), "%s vs %s" % (wm, expect))
        c.check("server still running", s3.alive())
        for srv in servers:
            if "Assertion" in srv.log() or "AddressSanitizer" in srv.log():
                c.check("no assertion in the server log", False, srv.log()[-3000:])
    except Exception as e:  # noqa: BLE001 - count it, then show the evidence
        import traceback
        c.check("no exception", False, "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()))
    finally:
        if c.failed:
            print("# server log %s:\n%s" % (servers[-1].log_path if servers else "-",
                                            servers[-1].log()[-8000:] if servers else ""))
        for srv in servers:
            srv.stop()
            srv.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
