"""Committed offsets of a group without members expire after offsets.retention.minutes; those of
a group with a live member do not, and expired offsets stay gone after a restart (tombstones).

Runs about 70 s: the retention is one minute, the shortest the key allows.
"""

import sys
import time

sys.path.insert(0, __file__.rsplit("/tests/", 1)[0] + "/tests/lib")
import sluicetest  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

DEADLINE_S = 150


def committed(bootstrap, group, topic):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        return c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset
    finally:
        c.close()


def commit(bootstrap, group, topic, offset):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        c.commit(offsets=[TopicPartition(topic, 0, offset)], asynchronous=False)
    finally:
        c.close()


def main():
    checks = sluicetest.Checks()
    args = ["--offsets.retention.minutes=1", "--log.retention.check.interval.ms=1000",
            "--group.initial.rebalance.delay.ms=0"]
    server = sluicetest.Server(args=args)
    with server as s:
        p = Producer({"bootstrap.servers": s.bootstrap})
        for i in range(10):
            p.produce("ret", value=b"v%d" % i)
        checks.check("produced", p.flush(20) == 0)
        commit(s.bootstrap, "idle", "ret", 7)
        checks.check("idle group committed 7", committed(s.bootstrap, "idle", "ret") == 7)
        # A live member keeps its group's offsets.
        live = Consumer({"bootstrap.servers": s.bootstrap, "group.id": "live",
                         "enable.auto.commit": False, "session.timeout.ms": 10000,
                         "auto.offset.reset": "earliest"})
        live.subscribe(["ret"])
        start = time.monotonic()
        got = 0
        while got < 5 and time.monotonic() - start < 30:
            m = live.poll(0.5)
            if m is not None and not m.error():
                got += 1
        live.commit(offsets=[TopicPartition("ret", 0, 5)], asynchronous=False)
        expired = False
        while time.monotonic() - start < DEADLINE_S:
            live.poll(0.5)  # keeps the membership alive (heartbeats run in the background)
            if committed(s.bootstrap, "idle", "ret") < 0:
                expired = True
                break
            time.sleep(2)
        checks.check("idle group's offsets expired within the deadline", expired)
        checks.check("live group's offsets kept",
                     committed(s.bootstrap, "live", "ret") == 5)
        live.close()
        checks.check("server logged the expiry", "expired committed offsets" in s.log())
        s.stop()
        s.start()
        checks.check("expired offsets stay gone after a restart",
                     committed(s.bootstrap, "idle", "ret") < 0)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
