#!/usr/bin/python3
"""Crash and restart of a real sluice-server with Debian's confluent-kafka (librdkafka 2.0.2).

1. Topics "restart" (3 partitions, retention.ms and segment.bytes set at creation; small
   segments so the log rolls) and "restart-idem" (1 partition) are created.
2. A plain producer (acks=all, uncompressed) and an idempotent producer (acks=all) stream messages; the
   server is killed with SIGKILL while both still have messages in flight.
3. The server restarts on the same data directory and port: every message acknowledged before
   the kill is at the same offset with the same key and value, each partition's offsets increase
   and every offset a consumer skips is a control batch (every partition is a Raft group: its
   configuration entry and one leader barrier per start are control batches in the log, see
   docs/replication.md), the topics and their configs are still there (describe_configs).
4. The idempotent producer, alive through the crash, finishes: every one of its messages is in
   the log exactly once, in order, at the offset its delivery report gave (the broker recovered
   its sequence state from the log); a new idempotent producer appends at the log end.
5. A clean stop (SIGTERM) and a third start keep every batch byte for byte; the only addition is
   the new leader's barrier.
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


def log_checks(c, label, bs, topic, partition, offsets, starts):
    """Checks `offsets` (what a consumer read, in order) against the batches a raw Fetch returns:
    offsets increase, every skipped offset is a control batch, and the control batches are the
    Raft configuration entry and one barrier per start of the server. Returns the high watermark
    and the batches."""
    hwm, batches = sluicetest.fetch_batches(bs, topic, partition)
    problems = sluicetest.offset_problems(offsets, batches, 0, hwm)
    c.check("%s: offsets increase and each skipped offset is a control batch" % label,
            not problems and hwm == sluicetest.list_offset(bs, topic, partition),
            "high watermark %d: %s" % (hwm, problems))
    types = [b.control_type for b in batches if b.is_control]
    c.check("%s: the control batches are one configuration entry and %d leader barriers (one "
            "per start)" % (label, starts),
            sorted(types) == sorted([sluicetest.CONTROL_RAFT_CHANGE]
                                    + [sluicetest.CONTROL_RAFT_BARRIER] * starts)
            and types[0] == sluicetest.CONTROL_RAFT_CHANGE,
            "%s" % [b for b in batches if b.is_control])
    return hwm, batches


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
        if killed_at is None:  # the producers ran ahead: kill at once, with what is in flight
            s.kill9()
        plain.poll(0.5)
        idem.poll(0.5)
        acked_before = dict(plain_acks)
        c.check("killed mid-stream with messages acknowledged (%d plain, %d idempotent) and "
                "some in flight (%d plain, %d idempotent)" % (len(acked_before), len(idem_acks),
                                                          len(plain), len(idem)),
                len(acked_before) >= 1000 and (len(plain) > 0 or len(idem) > 0),
                "acked %d, in queue %d" % (len(acked_before), len(plain)))
        # The plain producer gives up on what it had not delivered.
        plain.purge(in_queue=True, in_flight=True, blocking=False)
        plain.flush(5)

        # ---- restart on the same directory and port ----------------------------------------
        s2 = sluicetest.Server(data_dir=data_dir, port=s.port)
        servers.append(s2)
        s2.start()
        c.check("the server restarts on the same data directory", s2.alive())
        # "ready" does not wait for every replica: each opens and elects itself next.
        print("# the partitions answer ListOffsets %.3fs after ready" % max(
            sluicetest.wait_partitions(bs, TOPIC, range(PARTS)),
            sluicetest.wait_partitions(bs, IDEM, [0])))
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
        for p in range(PARTS):
            log_checks(c, "%s-%d after the crash" % (TOPIC, p), bs, TOPIC, p, sorted(logs[p]), 2)
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
        c.check("...each exactly once and in order",
                keys == [b"i%06d" % j for j in range(N_IDEM)],
                "%d records, %d distinct keys" % (len(keys), len(set(keys))))
        reported = {k: o for o, k in idem_acks}
        c.check("...each at the offset its delivery report gave",
                {ilog[o][0]: o for o in ilog} == reported and len(reported) == N_IDEM,
                "%d reports, %d differ" % (len(reported), sum(
                    1 for o in ilog if reported.get(ilog[o][0]) != o)))
        log_checks(c, "%s-0" % IDEM, bs, IDEM, 0, sorted(ilog), 2)
        c.check("...with their values intact",
                all(ilog[o][1] == value_of(b"idem", int(ilog[o][0][1:])) for o in ilog))

        fresh_acks = []
        fresh = Producer({"bootstrap.servers": bs, "enable.idempotence": True, "acks": "all",
                          "compression.type": "lz4", "error_cb": on_error})
        ends = {p: sluicetest.list_offset(bs, TOPIC, p) for p in range(PARTS)}
        for j in range(300):
            fresh.produce(TOPIC, key=b"f%04d" % j, value=b"fresh", partition=j % PARTS,
                          on_delivery=lambda e, m: fresh_acks.append((e, m.partition(), m.offset())))
        c.check("a new idempotent producer after the restart delivers 300 messages",
                fresh.flush(30) == 0 and len(fresh_acks) == 300
                and all(e is None for e, _, _ in fresh_acks) and not fatal, str(fresh_acks[:3]))
        c.check("...appended at the log end of each partition (%s)" % ends,
                all(sorted(o for _, pp, o in fresh_acks if pp == p)
                    == list(range(ends[p], ends[p] + 100)) for p in range(PARTS)),
                str(sorted(fresh_acks)[:3]))

        # ---- clean stop, third start ---------------------------------------------------------
        expect = {p: ends[p] + 100 for p in range(PARTS)}
        stored = {p: sluicetest.fetch_batches(bs, TOPIC, p) for p in range(PARTS)}
        c.check("before the clean stop each partition ends at its log end + 100 (%s)" % expect,
                all(stored[p][0] == expect[p] for p in range(PARTS)),
                str({p: stored[p][0] for p in range(PARTS)}))
        rc = s2.stop()
        c.check("SIGTERM stops the server cleanly", rc == 0, str(rc))
        s3 = sluicetest.Server(data_dir=data_dir, port=s.port)
        servers.append(s3)
        s3.start()
        sluicetest.wait_partitions(bs, TOPIC, range(PARTS))
        cons = Consumer({"bootstrap.servers": bs, "group.id": "sluice-restart-wm"})
        try:
            wm = {p: cons.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=OP_TIMEOUT_S)
                  for p in range(PARTS)}
        finally:
            cons.close()
        # The new leader's barrier is the only addition: one control batch at the old end.
        again = {p: sluicetest.fetch_batches(bs, TOPIC, p) for p in range(PARTS)}
        c.check("after a clean restart the low watermark is 0 and the high one grew by the new "
                "leader's barrier alone",
                all(wm[p] == (0, expect[p] + 1) == (0, again[p][0]) for p in range(PARTS))
                and all([(b.base_offset, b.control_type) for b in again[p][1]
                         if b.base_offset >= expect[p]]
                        == [(expect[p], sluicetest.CONTROL_RAFT_BARRIER)] for p in range(PARTS)),
                "%s vs %s + 1: %s" % (wm, expect, {p: again[p][1][-2:] for p in range(PARTS)}))
        c.check("...and every batch before it is unchanged, byte for byte",
                all([b.raw for b in again[p][1] if b.base_offset < expect[p]]
                    == [b.raw for b in stored[p][1]] for p in range(PARTS)))
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
