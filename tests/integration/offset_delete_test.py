"""OffsetDelete v0 (what Kafka's AdminClient.deleteConsumerGroupOffsets sends, encoded here by hand
since Debian's confluent-kafka lacks the call): an empty group's committed offset
for one partition goes (and stays gone after a restart) while the others stay; a group with a
live member subscribed to the topic gets GROUP_SUBSCRIBED_TO_TOPIC; an unknown group gets
GROUP_ID_NOT_FOUND.
"""

import socket
import struct
import sys
import time

sys.path.insert(0, __file__.rsplit("/tests/", 1)[0] + "/tests/lib")
import sluicetest  # noqa: E402
from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

GROUP_ID_NOT_FOUND = 69
GROUP_SUBSCRIBED_TO_TOPIC = 86


def committed(bootstrap, group, topic, parts):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        return [tp.offset for tp in c.committed([TopicPartition(topic, p) for p in parts], timeout=10)]
    finally:
        c.close()


def kstr(v):
    b = v.encode()
    return struct.pack(">h", len(b)) + b


def delete_offsets(bootstrap, group, topic, parts):
    """Sends OffsetDelete v0; returns the group error, or the list of partition errors."""
    host, port = bootstrap.rsplit(":", 1)
    body = kstr(group) + struct.pack(">i", 1) + kstr(topic) + struct.pack(">i", len(parts))
    body += b"".join(struct.pack(">i", p) for p in parts)
    req = struct.pack(">hhi", 47, 0, 7) + kstr("offset-delete-test") + body
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(struct.pack(">i", len(req)) + req)
        size = struct.unpack(">i", recv_exact(sock, 4))[0]
        resp = recv_exact(sock, size)
    corr, err, _throttle = struct.unpack(">ihi", resp[:10])
    assert corr == 7
    if err != 0:
        return err
    at = 10
    (nt,) = struct.unpack(">i", resp[at:at + 4])
    at += 4
    errs = []
    for _ in range(nt):
        (ln,) = struct.unpack(">h", resp[at:at + 2])
        at += 2 + ln
        (np_,) = struct.unpack(">i", resp[at:at + 4])
        at += 4
        for _ in range(np_):
            _p, e = struct.unpack(">ih", resp[at:at + 6])
            at += 6
            errs.append(e)
    return errs


def recv_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed after %d of %d bytes" % (len(out), n))
        out += chunk
    return out


def main():
    checks = sluicetest.Checks()
    with sluicetest.Server(args=["--group.initial.rebalance.delay.ms=0"]) as s:
        admin = AdminClient({"bootstrap.servers": s.bootstrap})
        admin.create_topics([NewTopic("od", 2, 1)])["od"].result(timeout=20)
        c = Consumer({"bootstrap.servers": s.bootstrap, "group.id": "g"})
        c.commit(offsets=[TopicPartition("od", 0, 3), TopicPartition("od", 1, 4)],
                 asynchronous=False)
        c.close()
        checks.check("committed 3 and 4", committed(s.bootstrap, "g", "od", [0, 1]) == [3, 4])
        errs = delete_offsets(s.bootstrap, "g", "od", [0])
        checks.check("delete partition 0: no error", errs == [0], repr(errs))
        checks.check("partition 0 gone, partition 1 kept",
                     committed(s.bootstrap, "g", "od", [0, 1]) == [-1001, 4])
        s.stop()
        s.start()
        checks.check("after a restart: still gone and kept",
                     committed(s.bootstrap, "g", "od", [0, 1]) == [-1001, 4])
        err = delete_offsets(s.bootstrap, "nosuchgroup", "od", [0])
        checks.check("unknown group: GROUP_ID_NOT_FOUND", err == GROUP_ID_NOT_FOUND, repr(err))
        live = Consumer({"bootstrap.servers": s.bootstrap, "group.id": "g",
                         "session.timeout.ms": 10000})
        live.subscribe(["od"])
        start = time.monotonic()
        while not live.assignment() and time.monotonic() - start < 30:
            live.poll(0.2)
        checks.check("a member joined", bool(live.assignment()))
        errs = delete_offsets(s.bootstrap, "g", "od", [1])
        checks.check("subscribed topic: GROUP_SUBSCRIBED_TO_TOPIC",
                     errs == [GROUP_SUBSCRIBED_TO_TOPIC], repr(errs))
        live.close()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
