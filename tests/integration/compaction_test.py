#!/usr/bin/python3
"""Log compaction end to end with Debian's confluent-kafka (librdkafka 2.0.2).

1. A topic with cleanup.policy=compact, segment.bytes=16384 and delete.retention.ms=2000 is
   created on a server whose retention timer (which also schedules compaction) ticks every 200 ms.
2. ROUNDS versions of each of NKEYS keys are produced (every other round lz4-compressed), then
   tombstones for the first NDELETED keys, then more versions of the other keys so that the
   tombstones end up in closed segments.
3. Within a bounded wait the partition's files shrink; then (after delete.retention.ms) a read of
   the whole partition finds exactly the latest value of every live key, each at the offset it
   was acknowledged at, and nothing of the deleted keys; offsets still run to the same end, and
   the partition's Raft control batches (docs/replication.md) are all still there.
4. After a restart on the same data directory the partition reads back the same; the log end
   grew by the new leader's barrier alone.
"""

import glob
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sluicetest  # noqa: E402

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

OP_TIMEOUT_S = 20
SHRINK_TIMEOUT_S = 40
TOPIC = "compacted"
NKEYS, ROUNDS, NDELETED, MORE_ROUNDS = 100, 30, 10, 10
CONFIGS = {"cleanup.policy": "compact", "segment.bytes": "16384",
           "delete.retention.ms": "2000"}
SERVER_ARGS = ["--log.retention.check.interval.ms=200"]


def key_of(k):
    return b"key-%03d" % k


def value_of(k, r):
    return b"value-%03d-%03d-" % (k, r) + b"x" * (40 + (k * 7 + r) % 50)


def produce(bs, msgs, compression):
    """Produces [(key, value)] in order; returns {(key, value): offset} as acknowledged."""
    acked, errs = {}, []

    def dr(err, msg):
        if err is None:
            acked[(msg.key(), msg.value())] = msg.offset()
        else:
            errs.append(err)

    p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 5,
                  "compression.type": compression, "enable.idempotence": True})
    for k, v in msgs:
        p.produce(TOPIC, key=k, value=v, partition=0, on_delivery=dr)
        p.poll(0)
    left = p.flush(OP_TIMEOUT_S)
    if errs or left:
        raise RuntimeError("produce failed: %r, %d left" % (errs[:3], left))
    return acked


def read_all(bs):
    """[(offset, key, value)] of the whole partition and its high watermark."""
    cons = Consumer({"bootstrap.servers": bs, "group.id": "sluice-compaction-read",
                     "enable.auto.commit": False, "enable.partition.eof": True})
    out = []
    try:
        lo, hi = cons.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=OP_TIMEOUT_S)
        cons.assign([TopicPartition(TOPIC, 0, 0)])
        deadline = time.monotonic() + OP_TIMEOUT_S * 2
        while time.monotonic() < deadline:
            m = cons.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    if m.offset() >= hi:
                        break
                    continue
                # No error is expected: the broker reads past runs of empty batches (what
                # compaction leaves) so librdkafka never sees ten empty answers in a row, after
                # which 2.0.2 reports a false MSG_SIZE_TOO_LARGE.
                raise KafkaException(m.error())
            out.append((m.offset(), m.key(), m.value()))
        else:
            raise RuntimeError("reading did not reach the end %d (got %d records)" % (hi, len(out)))
    finally:
        cons.close()
    return out, hi


def log_bytes(data_dir):
    return sum(os.path.getsize(f) for f in glob.glob(os.path.join(data_dir, "data", TOPIC + "-0",
                                                                  "*.log")))


class PeakBytes(threading.Thread):
    """Samples log_bytes every few ms until stopped; `peak` is the most the log held. The cleaner
    (every 200 ms here) already compacts closed segments while the rounds are produced, so the
    size right after producing can be far below what was written."""

    def __init__(self, data_dir):
        super().__init__(daemon=True)
        self.data_dir, self.peak, self.done = data_dir, 0, threading.Event()

    def run(self):
        while not self.done.wait(0.005):
            try:
                self.peak = max(self.peak, log_bytes(self.data_dir))
            except OSError:
                pass  # a segment replaced between the listing and its size

    def stop(self):
        self.done.set()
        self.join()
        self.peak = max(self.peak, log_bytes(self.data_dir))
        return self.peak


def control_batches(bs):
    """[(offset, control type)] of every control batch in the partition (raw Fetch)."""
    _, batches = sluicetest.fetch_batches(bs, TOPIC, 0)
    return [(b.base_offset, b.control_type) for b in batches if b.is_control]


def check_content(c, label, records, hi, expected, end, controls, bs):
    """expected: {key: (value, offset)} of live keys; controls: [(offset, type)] of the control
    batches the log must hold."""
    latest = {}
    for off, k, v in records:
        latest[k] = (v, off)
    c.check("%s: offsets run to the same end" % label, hi == end, "%d != %d" % (hi, end))
    now = control_batches(bs)
    c.check("%s: compaction kept every control batch (%d)" % (label, len(controls)),
            now == controls and not {off for off, _, _ in records} & {o for o, _ in controls},
            "before %s, now %s" % (controls, now))
    live = {k: vo for k, vo in latest.items() if vo[0] is not None}
    c.check("%s: exactly the latest value of every live key, at its offset" % label,
            live == expected,
            "missing %d, wrong %d, extra %d" % (
                len(set(expected) - set(live)),
                sum(1 for k in expected if k in live and live[k] != expected[k]),
                len(set(live) - set(expected))))
    deleted = [k for _, k, _ in records if k in {key_of(d) for d in range(NDELETED)}]
    c.check("%s: nothing of the deleted keys" % label, not deleted, "%d records" % len(deleted))
    c.check("%s: offsets increase" % label,
            all(records[i][0] < records[i + 1][0] for i in range(len(records) - 1)))


def main():
    c = sluicetest.Checks()
    data_dir = tempfile.mkdtemp(prefix="sluice-compaction-")
    s = sluicetest.Server(data_dir=data_dir, args=SERVER_ARGS)
    try:
        s.start()
        bs = s.bootstrap
        a = AdminClient({"bootstrap.servers": bs})
        for f in a.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=1,
                                           config=CONFIGS)],
                                 request_timeout=OP_TIMEOUT_S).values():
            f.result(timeout=OP_TIMEOUT_S)

        acked = {}
        sampler = PeakBytes(data_dir)
        sampler.start()
        for r in range(ROUNDS):
            acked.update(produce(bs, [(key_of(k), value_of(k, r)) for k in range(NKEYS)],
                                 "lz4" if r % 2 else "none"))
        acked.update(produce(bs, [(key_of(k), None) for k in range(NDELETED)], "none"))
        for r in range(ROUNDS, ROUNDS + MORE_ROUNDS):
            acked.update(produce(bs, [(key_of(k), value_of(k, r))
                                      for k in range(NDELETED, NKEYS)], "none"))
        written = sampler.stop()
        produced = NKEYS * ROUNDS + NDELETED + (NKEYS - NDELETED) * MORE_ROUNDS
        # The log end counts the partition's control batches too (its Raft configuration and
        # leader barrier): take it from ListOffsets, and check that the acknowledged offsets and
        # the control batches tile [0, end) exactly.
        end = sluicetest.list_offset(bs, TOPIC, 0)
        controls = control_batches(bs)
        expected = {key_of(k): (value_of(k, ROUNDS + MORE_ROUNDS - 1),
                                acked[(key_of(k), value_of(k, ROUNDS + MORE_ROUNDS - 1))])
                    for k in range(NDELETED, NKEYS)}
        c.check("every message acknowledged", len(acked) == produced,
                "%d of %d" % (len(acked), produced))
        offs = sorted(acked.values())
        c.check("the acknowledged offsets and the control batches fill [0, %d) exactly" % end,
                sorted(offs + [o for o, _ in controls]) == list(range(end)),
                "%d acknowledged, control batches %s" % (len(offs), controls))

        deadline = time.monotonic() + SHRINK_TIMEOUT_S
        while time.monotonic() < deadline and log_bytes(data_dir) * 3 > written:
            time.sleep(0.2)
        c.check("the log shrank to under a third of the most it held",
                log_bytes(data_dir) * 3 <= written,
                "%d of %d bytes" % (log_bytes(data_dir), written))

        # Tombstones go once delete.retention.ms has passed and the cleaner has run again.
        deadline = time.monotonic() + SHRINK_TIMEOUT_S
        while True:
            records, hi = read_all(bs)
            if not any(k == key_of(d) for _, k, _ in records for d in range(NDELETED)) \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        c.check("compaction logged", 'msg="compaction done"' in s.log())
        check_content(c, "compacted", records, hi, expected, end, controls, bs)
        c.check("far fewer records than written", len(records) < produced // 3,
                "%d of %d" % (len(records), produced))

        c.check("clean stop", s.stop() == 0)
        s.start()
        # "ready" does not wait for every replica: the partition opens and elects itself next.
        print("# %s-0 answers ListOffsets %.3fs after ready"
              % (TOPIC, sluicetest.wait_partitions(s.bootstrap, TOPIC, [0])))
        records, hi = read_all(s.bootstrap)
        # The restart's new leader appended its barrier: the log end grew by that batch alone.
        after = control_batches(s.bootstrap)
        c.check("after restart: one barrier appended at the old end %d" % end,
                [cb for cb in after if cb[0] >= end] == [(end, sluicetest.CONTROL_RAFT_BARRIER)],
                str(after))
        check_content(c, "after restart", records, hi, expected, end + 1,
                      controls + [(end, sluicetest.CONTROL_RAFT_BARRIER)], s.bootstrap)
        c.check("no .cleaned file left",
                not glob.glob(os.path.join(data_dir, "data", TOPIC + "-0", "*.cleaned")))
    except Exception as e:  # noqa: BLE001 - report and fail
        c.check("no exception", False, repr(e))
        print("---- server log ----\n" + s.log()[-8000:])
    finally:
        s.stop()
        s.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
