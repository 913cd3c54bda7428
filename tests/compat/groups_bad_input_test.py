"""Consumer-group requests that must be refused, hand-encoded on a raw socket (non-flexible
versions: JoinGroup v2/v4, SyncGroup v1, Heartbeat v1, LeaveGroup v1, OffsetCommit v2), and the
group staying healthy after each.

A raw member joins group "bad-group" (JoinGroup v2, delay 0), syncs its assignment and heartbeats:
the group is Stable with one member. Then:
  - unknown member id: Heartbeat, SyncGroup, JoinGroup, OffsetCommit, LeaveGroup -> UNKNOWN_MEMBER_ID (25);
  - stale/future generation: Heartbeat, SyncGroup, OffsetCommit -> ILLEGAL_GENERATION (22);
  - session timeout below group.min.session.timeout.ms or above the max -> INVALID_SESSION_TIMEOUT (26);
  - a different protocol type, or no protocol in common -> INCONSISTENT_GROUP_PROTOCOL (23);
after each, the raw member's Heartbeat still answers 0 (no rebalance was started) and the group is
Stable with that one member. JoinGroup v4 with an empty member id gets MEMBER_ID_REQUIRED (79) and
a member id, and joins with it; v2 never gets 79 (the first join). Finally the raw member leaves and
a confluent-kafka consumer in the same group consumes and commits every message.
"""

import os
import socket
import struct
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import groups_common as gc  # noqa: E402
from groups_common import sluicetest  # noqa: E402

GROUP = "bad-group"
TOPIC = "bad-topic"
MESSAGES = 50

JOIN, SYNC, HEARTBEAT, LEAVE, OFFSET_COMMIT = 11, 14, 12, 13, 8
NONE, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL = 0, 22, 23
UNKNOWN_MEMBER_ID, INVALID_SESSION_TIMEOUT, MEMBER_ID_REQUIRED = 25, 26, 79


def s16(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def b32(b):
    if b is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(b)) + b


def arr(items):
    return struct.pack(">i", len(items)) + b"".join(items)


class Reader:
    def __init__(self, buf):
        self.b, self.p = buf, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)
        self.p += struct.calcsize(fmt)
        return v[0]

    def str(self):
        n = self.take(">h")
        if n < 0:
            return None
        v = self.b[self.p:self.p + n].decode()
        self.p += n
        return v

    def bytes(self):
        n = self.take(">i")
        if n < 0:
            return None
        v = self.b[self.p:self.p + n]
        self.p += n
        return v


class Conn:
    def __init__(self, bootstrap):
        host, port = bootstrap.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=gc.OP_TIMEOUT_S)
        self.s.settimeout(gc.OP_TIMEOUT_S)
        self.corr = 0

    def close(self):
        self.s.close()

    def _recv(self, n):
        out = b""
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            if not chunk:
                raise ConnectionError("connection closed by the broker")
            out += chunk
        return out

    def call(self, key, ver, body):
        self.corr += 1
        hdr = struct.pack(">hhi", key, ver, self.corr) + s16("bad-input-test")
        msg = hdr + body
        self.s.sendall(struct.pack(">i", len(msg)) + msg)
        n = struct.unpack(">i", self._recv(4))[0]
        resp = self._recv(n)
        corr = struct.unpack_from(">i", resp)[0]
        if corr != self.corr:
            raise RuntimeError("correlation id %d, expected %d" % (corr, self.corr))
        return Reader(resp[4:])

    # JoinGroup v2 (v4 has the same layout; v4 may answer MEMBER_ID_REQUIRED)
    def join(self, member_id, session_ms=10000, ptype="consumer", protocols=None, ver=2):
        if protocols is None:
            protocols = [("range", consumer_metadata())]
        body = (s16(GROUP) + struct.pack(">ii", session_ms, session_ms) + s16(member_id)
                + s16(ptype) + arr([s16(n) + b32(m) for n, m in protocols]))
        r = self.call(JOIN, ver, body)
        r.take(">i")  # throttle
        out = {"error": r.take(">h"), "generation": r.take(">i"), "protocol": r.str(),
               "leader": r.str(), "member_id": r.str()}
        out["members"] = [(r.str(), r.bytes()) for _ in range(r.take(">i"))]
        return out

    def sync(self, generation, member_id, assignments):
        body = (s16(GROUP) + struct.pack(">i", generation) + s16(member_id)
                + arr([s16(m) + b32(a) for m, a in assignments]))
        r = self.call(SYNC, 1, body)
        r.take(">i")
        return r.take(">h"), r.bytes()

    def heartbeat(self, generation, member_id):
        r = self.call(HEARTBEAT, 1, s16(GROUP) + struct.pack(">i", generation) + s16(member_id))
        r.take(">i")
        return r.take(">h")

    def leave(self, member_id):
        r = self.call(LEAVE, 1, s16(GROUP) + s16(member_id))
        r.take(">i")
        return r.take(">h")

    def commit(self, generation, member_id, offset):
        body = (s16(GROUP) + struct.pack(">i", generation) + s16(member_id)
                + struct.pack(">q", -1)
                + arr([s16(TOPIC) + arr([struct.pack(">iq", 0, offset) + s16("")])]))
        r = self.call(OFFSET_COMMIT, 2, body)
        errs = []
        for _ in range(r.take(">i")):
            r.str()
            for _ in range(r.take(">i")):
                r.take(">i")
                errs.append(r.take(">h"))
        return errs[0] if len(errs) == 1 else errs


def consumer_metadata():
    """ConsumerProtocolSubscription v0: version, topics, user data (null)."""
    return struct.pack(">h", 0) + arr([s16(TOPIC)]) + b32(None)


def consumer_assignment(parts):
    return struct.pack(">h", 0) + arr([s16(TOPIC) + arr([struct.pack(">i", p) for p in parts])]) \
        + b32(None)


def main():
    checks = sluicetest.Checks()
    t0 = time.monotonic()
    try:
        with sluicetest.Server(args=["--group.initial.rebalance.delay.ms=0",
                                     "--group.min.session.timeout.ms=6000",
                                     "--group.max.session.timeout.ms=300000"]) as s:
            run(s, checks)
            checks.check("the server is still running", s.alive())
            if checks.failed:
                print("---- server log (tail) ----\n" + s.log()[-6000:])
    except Exception as e:  # noqa: BLE001
        checks.check("no exception", False, "%s: %s\n%s" % (type(e).__name__, e,
                                                            traceback.format_exc()))
    print("# total %.1fs" % (time.monotonic() - t0), flush=True)
    return checks.finish()


def run(s, checks):
    bs = s.bootstrap
    gc.create_topic(bs, TOPIC, 1)
    gc.produce(bs, TOPIC, 0, MESSAGES, 1)
    c = Conn(bs)
    try:
        j = c.join("")
        checks.check("JoinGroup v2 with an empty member id joins at once (never 79 before v4)",
                     j["error"] == NONE and j["member_id"] and j["leader"] == j["member_id"]
                     and j["generation"] >= 1 and j["protocol"] == "range", str(j))
        me, gen = j["member_id"], j["generation"]
        err, assignment = c.sync(gen, me, [(me, consumer_assignment([0]))])
        checks.check("SyncGroup v1 by the leader stores its assignment",
                     err == NONE and assignment == consumer_assignment([0]), "%s %r" % (err, assignment))
        checks.check("Heartbeat v1 of the member: 0", c.heartbeat(gen, me) == NONE)

        def healthy(after):
            e = c.heartbeat(gen, me)
            d, derr = gc.cli_json(bs, "groups", "describe", GROUP)
            checks.check("after %s: the member's Heartbeat still answers 0 and the group is "
                         "Stable with that one member" % after,
                         e == NONE and d is not None and d["state"] == "Stable"
                         and [m["member_id"] for m in d["members"]] == [me],
                         "heartbeat %s describe %s %s" % (e, d, derr))

        def expect(name, got, want):
            checks.check("%s -> %d" % (name, want), got == want, "got %s" % (got,))

        # unknown member id
        expect("Heartbeat with an unknown member id", c.heartbeat(gen, "nobody-1"), UNKNOWN_MEMBER_ID)
        expect("SyncGroup with an unknown member id", c.sync(gen, "nobody-1", [])[0], UNKNOWN_MEMBER_ID)
        expect("JoinGroup v2 with an unknown member id", c.join("nobody-1")["error"], UNKNOWN_MEMBER_ID)
        expect("OffsetCommit v2 with an unknown member id", c.commit(gen, "nobody-1", 1), UNKNOWN_MEMBER_ID)
        expect("LeaveGroup v1 with an unknown member id", c.leave("nobody-1"), UNKNOWN_MEMBER_ID)
        healthy("unknown member ids")

        # stale and future generations
        expect("Heartbeat with a stale generation", c.heartbeat(gen - 1, me), ILLEGAL_GENERATION)
        expect("Heartbeat with a future generation", c.heartbeat(gen + 5, me), ILLEGAL_GENERATION)
        expect("SyncGroup with a stale generation",
               c.sync(gen - 1, me, [(me, consumer_assignment([0]))])[0], ILLEGAL_GENERATION)
        expect("OffsetCommit v2 with a stale generation", c.commit(gen - 1, me, 1), ILLEGAL_GENERATION)
        expect("OffsetCommit v2 with a future generation", c.commit(gen + 1, me, 1), ILLEGAL_GENERATION)
        healthy("wrong generations")

        # session timeouts out of range
        expect("JoinGroup with session timeout 1000 < min 6000", c.join("", session_ms=1000)["error"],
               INVALID_SESSION_TIMEOUT)
        expect("JoinGroup with session timeout 400000 > max 300000",
               c.join("", session_ms=400000)["error"], INVALID_SESSION_TIMEOUT)
        expect("JoinGroup of the member itself with session timeout 1000",
               c.join(me, session_ms=1000)["error"], INVALID_SESSION_TIMEOUT)
        healthy("invalid session timeouts")

        # inconsistent protocols
        expect("JoinGroup with protocol type 'connect' into a 'consumer' group",
               c.join("", ptype="connect")["error"], INCONSISTENT_GROUP_PROTOCOL)
        expect("JoinGroup with no protocol in common ('nonesuch' only)",
               c.join("", protocols=[("nonesuch", consumer_metadata())])["error"],
               INCONSISTENT_GROUP_PROTOCOL)
        expect("JoinGroup with an empty protocol list",
               c.join("", protocols=[])["error"], INCONSISTENT_GROUP_PROTOCOL)
        healthy("inconsistent protocols")
        expect("OffsetCommit v2 by the member", c.commit(gen, me, 0), NONE)

        expect("LeaveGroup v1 by the member", c.leave(me), NONE)
        d, derr = gc.cli_json(bs, "groups", "describe", GROUP)
        checks.check("after the leave the group is Empty", d is not None and d["state"] == "Empty",
                     "%s %s" % (d, derr))
    finally:
        c.close()

    # KIP-394 on v4: MEMBER_ID_REQUIRED with an id, then the join with it succeeds
    c = Conn(bs)
    try:
        j = c.join("", ver=4)
        checks.check("JoinGroup v4 with an empty member id -> 79 with a member id",
                     j["error"] == MEMBER_ID_REQUIRED and j["member_id"], str(j))
        if j["member_id"]:
            j2 = c.join(j["member_id"], ver=4)
            checks.check("JoinGroup v4 again with that member id joins",
                         j2["error"] == NONE and j2["member_id"] == j["member_id"], str(j2))
            if j2["error"] == NONE:
                err, _ = c.sync(j2["generation"], j2["member_id"],
                                [(j2["member_id"], consumer_assignment([0]))])
                expect("SyncGroup of the v4 member", err, NONE)
                expect("LeaveGroup of the v4 member", c.leave(j2["member_id"]), NONE)
    finally:
        c.close()

    # a normal consumer still works in that group
    from confluent_kafka import Consumer
    cons = Consumer({"bootstrap.servers": bs, "group.id": GROUP, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
    got = []
    try:
        cons.subscribe([TOPIC])
        deadline = time.monotonic() + 30
        while len(got) < MESSAGES and time.monotonic() < deadline:
            for m in cons.consume(100, 0.5):
                if not m.error():
                    got.append(int(m.value()))
        if got:
            cons.commit(asynchronous=False)
    finally:
        cons.close()
    checks.check("a confluent-kafka consumer then reads all %d messages in the group" % MESSAGES,
                 sorted(got) == list(range(MESSAGES)), "got %d" % len(got))
    lag, err = gc.cli_json(bs, "groups", "lag", GROUP)
    checks.check("and commits them (lag 0)", lag is not None and lag.get("total_lag") == 0,
                 "%s %s" % (lag, err))


if __name__ == "__main__":
    sys.exit(main())
