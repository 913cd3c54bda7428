#!/usr/bin/env python3
"""groups848_test: the KIP-848 consumer group protocol (group.protocol=consumer) with the newest
confluent-kafka from PyPI (librdkafka >= 2.12), run through pyvenv.py.

Three consumers in one group share a 6-partition topic: they consume 1,000 messages with a
synchronous commit after every batch, one of them leaves (close), 1,000 more are produced and
the other two take over its partitions. Checked: every partition is owned by exactly one
member once the group settles (2 + 2 + 2, then 3 + 3), all 2,000 messages are consumed, none
twice; the broker answers a classic JoinGroup for the same group id with
INCONSISTENT_GROUP_PROTOCOL (confluent-kafka with group.protocol=classic).

The server runs with group.consumer.heartbeat.interval.ms=1000 so reassignments take seconds.
Prints "ok - ..." / "not ok - ..." lines and a closing "N passed, N failed".
"""

import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import sluicetest  # noqa: E402

from confluent_kafka import Consumer, KafkaError, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "k848"
GROUP = "g848"
PARTITIONS = 6
PHASE_MESSAGES = 1000
PHASE_TIMEOUT_S = 60

results = []


def check(ok, what):
    results.append(bool(ok))
    print("%s - %s" % ("ok" if ok else "not ok", what), flush=True)
    return ok


def produce(bootstrap, start, count):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    for i in range(start, start + count):
        p.produce(TOPIC, key=str(i).encode(), value=str(i).encode())
    left = p.flush(30)
    return left == 0


class Member:
    """One consumer on its own thread: consumes, records what it saw, commits each batch."""

    def __init__(self, bootstrap, name):
        self.name = name
        self.seen = []  # values, in order
        self.errors = []
        self.stop = threading.Event()
        self.closed = False
        self.assignment = set()
        self.lock = threading.Lock()
        self.c = Consumer({
            "bootstrap.servers": bootstrap,
            "group.id": GROUP,
            "group.protocol": "consumer",
            "client.id": name,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        })
        self.c.subscribe([TOPIC], on_assign=self.on_assign, on_revoke=self.on_revoke)
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def on_assign(self, c, parts):
        with self.lock:
            self.assignment |= {p.partition for p in parts}

    def on_revoke(self, c, parts):
        with self.lock:
            self.assignment -= {p.partition for p in parts}

    def run(self):
        try:
            while not self.stop.is_set():
                msgs = self.c.consume(100, timeout=0.2)
                good = []
                for m in msgs:
                    if m.error():
                        if m.error().code() != KafkaError._PARTITION_EOF:
                            self.errors.append(str(m.error()))
                        continue
                    good.append(m)
                if not good:
                    continue
                try:
                    self.c.commit(asynchronous=False)
                except Exception as e:  # a failed commit may replay: record it
                    self.errors.append("commit: %s" % e)
                with self.lock:
                    self.seen.extend(int(m.value()) for m in good)
            self.c.close()
            self.closed = True
        except Exception as e:
            self.errors.append("run: %s" % e)

    def owned(self):
        with self.lock:
            return set(self.assignment)

    def leave(self):
        self.stop.set()
        self.t.join(30)


def wait_until(pred, timeout_s):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def settled(members, sizes):
    owned = [m.owned() for m in members]
    union = set().union(*owned)
    return (sorted(len(o) for o in owned) == sorted(sizes) and len(union) == PARTITIONS and
            sum(len(o) for o in owned) == PARTITIONS)


def all_seen(members):
    s = []
    for m in members:
        with m.lock:
            s.extend(m.seen)
    return s


def classic_join_refused(bootstrap):
    """A classic-protocol consumer on the same group id must be refused."""
    errs = []
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP, "group.protocol": "classic",
                  "session.timeout.ms": 6000, "error_cb": lambda e: errs.append(e)})
    c.subscribe([TOPIC])
    end = time.monotonic() + 10
    got = None
    while time.monotonic() < end and got is None:
        m = c.poll(0.2)
        if m is not None and m.error():
            got = m.error()
        for e in errs:
            got = e
    c.close()
    return got


def main():
    import confluent_kafka
    print("# confluent-kafka %s (librdkafka %s)" % (confluent_kafka.__version__,
                                                   confluent_kafka.libversion()[0]), flush=True)
    with sluicetest.Server(args=["--group.consumer.heartbeat.interval.ms=1000"]) as s:
        admin = AdminClient({"bootstrap.servers": s.bootstrap})
        fs = admin.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS, replication_factor=1)])
        fs[TOPIC].result(30)
        check(produce(s.bootstrap, 0, PHASE_MESSAGES), "produced the first 1,000 messages")

        members = [Member(s.bootstrap, "m%d" % i) for i in range(3)]
        ok = wait_until(lambda: settled(members, [2, 2, 2]), PHASE_TIMEOUT_S)
        check(ok, "three members settle on 2 + 2 + 2 partitions, each owned once: %s" %
              [sorted(m.owned()) for m in members])
        ok = wait_until(lambda: len(set(all_seen(members))) >= PHASE_MESSAGES, PHASE_TIMEOUT_S)
        check(ok, "the group consumed the first 1,000 (%d distinct)" % len(set(all_seen(members))))

        leaver = members[2]
        leaver.leave()
        check(leaver.closed, "member m2 closed (left the group)")
        rest = members[:2]
        check(produce(s.bootstrap, PHASE_MESSAGES, PHASE_MESSAGES), "produced 1,000 more")
        ok = wait_until(lambda: settled(rest, [3, 3]), PHASE_TIMEOUT_S)
        check(ok, "the other two take over m2's partitions: %s" % [sorted(m.owned()) for m in rest])
        ok = wait_until(lambda: len(set(all_seen(members))) >= 2 * PHASE_MESSAGES, PHASE_TIMEOUT_S)
        seen = all_seen(members)
        check(ok and set(seen) == set(range(2 * PHASE_MESSAGES)),
              "all 2,000 consumed (%d distinct)" % len(set(seen)))
        dups = len(seen) - len(set(seen))
        check(dups == 0, "no message consumed twice (%d duplicates)" % dups)
        errors = [e for m in members for e in m.errors]
        check(not errors, "no client errors: %s" % errors[:5])

        err = classic_join_refused(s.bootstrap)
        check(err is not None and "INCONSISTENT_GROUP_PROTOCOL" in str(err).upper().replace(" ", "_")
              or (err is not None and err.code() == KafkaError.INCONSISTENT_GROUP_PROTOCOL),
              "a classic JoinGroup for the consumer group is refused: %s" % err)

        for m in rest:
            m.leave()
        check(all(m.closed for m in rest), "the remaining members closed")
        if not all(results) or not s.alive():
            print("# server log tail:\n" + s.log()[-6000:], flush=True)
        check(s.alive(), "sluice-server still running")
    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed), flush=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
