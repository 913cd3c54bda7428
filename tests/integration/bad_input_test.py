#!/usr/bin/python3
"""Bad input on raw sockets against a real sluice-server; requests encoded by hand.

Each case is asserted, and after each one the server must still be running and serve a fresh
client: ApiVersions v0 and Metadata v1 on a new connection.

Cases: a frame above socket.request.max.bytes (1 MiB here; a 2 MiB size prefix) closes the
connection; a frame too short for a request header, and one whose ClientId runs past the frame,
close it; a known API with a truncated body closes it; an unknown API key and an advertised API at
a version above its maximum get an UNSUPPORTED_VERSION (35) answer and the connection stays
usable (broker.c answer_unsupported); ApiVersions above its maximum gets error 35 with the v0 body
listing every API (KIP-511); Produce v0-v2 (advertised for librdkafka, not served) gets 35 per
partition; a RecordBatch with a wrong CRC-32C gets CORRUPT_MESSAGE (2), magic 0 and 1 message
sets get UNSUPPORTED_FOR_MESSAGE_FORMAT (43), while the same batch with the right CRC is
appended (at the log end: a new partition starts with Raft's control batches, so not at 0) and
Fetch returns it byte for byte; invalid topic names get INVALID_TOPIC_EXCEPTION (17) in Metadata and in CreateTopics;
a Fetch beyond the end gets OFFSET_OUT_OF_RANGE (1); replication factor 3 on one node gets
INVALID_REPLICATION_FACTOR (38).
"""

import os
import socket
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sluicetest  # noqa: E402

IO_TIMEOUT_S = 10
MAX_REQUEST = 1048576

API_PRODUCE, API_FETCH, API_METADATA, API_API_VERSIONS = 0, 1, 3, 18
API_CREATE_TOPICS, API_DELETE_TOPICS = 19, 20
MESSAGE_MAX = 100000

# ---- encoding ---------------------------------------------------------------------------------


def i8(v):
    return struct.pack(">b", v)


def i16(v):
    return struct.pack(">h", v)


def i32(v):
    return struct.pack(">i", v)


def i64(v):
    return struct.pack(">q", v)


def string(s):
    if s is None:
        return i16(-1)
    b = s.encode() if isinstance(s, str) else s
    return i16(len(b)) + b


def bytes_(b):
    return i32(-1) if b is None else i32(len(b)) + b


def array(items):
    return i32(len(items)) + b"".join(items)


def request(api_key, version, corr, body, client_id="sluice-bad-input"):
    """A size-prefixed request with header v1 (every version used here is non-flexible)."""
    msg = i16(api_key) + i16(version) + i32(corr) + string(client_id) + body
    return i32(len(msg)) + msg


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = CRC32C_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def zigzag_varint(v):
    v = (v << 1) ^ (v >> 63)
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def record(offset_delta, ts_delta, key, value):
    body = (i8(0) + zigzag_varint(ts_delta) + zigzag_varint(offset_delta)
            + (zigzag_varint(-1) if key is None else zigzag_varint(len(key)) + key)
            + (zigzag_varint(-1) if value is None else zigzag_varint(len(value)) + value)
            + zigzag_varint(0))
    return zigzag_varint(len(body)) + body


def record_batch(records, base_ts, corrupt_crc=False, magic=2):
    """An uncompressed RecordBatch v2 of (key, value) pairs, CRC-32C over Attributes..end."""
    recs = b"".join(record(i, i, k, v) for i, (k, v) in enumerate(records))
    after_crc = (i16(0) + i32(len(records) - 1) + i64(base_ts) + i64(base_ts + len(records) - 1)
                 + i64(-1) + i16(-1) + i32(-1) + i32(len(records)) + recs)
    crc = crc32c(after_crc) ^ (1 if corrupt_crc else 0)
    after_length = i32(-1) + i8(magic) + struct.pack(">I", crc) + after_crc
    return i64(0) + i32(len(after_length)) + after_length


def legacy_message_set(magic, key, value):
    """One legacy message (magic 0 or 1) in a MessageSet, with its CRC-32."""
    body = i8(magic) + i8(0) + (i64(int(time.time() * 1000)) if magic == 1 else b"") \
        + bytes_(key) + bytes_(value)
    msg = struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF) + body
    return i64(0) + i32(len(msg)) + msg


def produce_body(topic, partition, records, acks=-1):
    """Produce v3-v7 body: TransactionalId, Acks, TimeoutMs, [Name, [Index, Records]]."""
    return (string(None) + i16(acks) + i32(10000)
            + array([string(topic) + array([i32(partition) + bytes_(records)])]))


def metadata_body_v1(topics):
    return array([string(t) for t in topics])


def create_topics_body_v2(name, partitions, rf):
    """CreateTopics v2: [Name, NumPartitions, ReplicationFactor, Assignments, Configs],
    TimeoutMs, ValidateOnly."""
    return (array([string(name) + i32(partitions) + i16(rf) + array([]) + array([])])
            + i32(10000) + i8(0))


def fetch_body_v4(topic, partition, offset):
    """Fetch v4: ReplicaId, MaxWaitMs, MinBytes, MaxBytes, IsolationLevel,
    [Topic, [Partition, FetchOffset, PartitionMaxBytes]]."""
    return (i32(-1) + i32(100) + i32(1) + i32(1 << 20) + i8(0)
            + array([string(topic) + array([i32(partition) + i64(offset) + i32(1 << 20)])]))

# ---- decoding ---------------------------------------------------------------------------------


class Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.p)
        self.p += struct.calcsize(fmt)
        return v[0]

    def i8(self):
        return self.take(">b")

    def i16(self):
        return self.take(">h")

    def i32(self):
        return self.take(">i")

    def i64(self):
        return self.take(">q")

    def string(self):
        n = self.i16()
        if n < 0:
            return None
        s = self.d[self.p:self.p + n].decode(errors="replace")
        self.p += n
        return s

    def bytes_(self):
        n = self.i32()
        if n < 0:
            return None
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def array(self, fn):
        n = self.i32()
        return None if n < 0 else [fn(self) for _ in range(n)]

    def rest(self):
        return len(self.d) - self.p

# ---- connections ------------------------------------------------------------------------------


class Closed(Exception):
    pass


def connect(s):
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=IO_TIMEOUT_S)
    sock.settimeout(IO_TIMEOUT_S)
    return sock


def recv_exact(sock, n):
    out = b""
    while len(out) < n:
        try:
            chunk = sock.recv(n - len(out))
        except (ConnectionResetError, BrokenPipeError):
            raise Closed()
        if not chunk:
            raise Closed()
        out += chunk
    return out


def read_response(sock):
    """(correlation_id, Reader over the rest) of the next response (header v0)."""
    size, = struct.unpack(">i", recv_exact(sock, 4))
    data = recv_exact(sock, size)
    return struct.unpack_from(">i", data)[0], Reader(data[4:])


def call(sock, api_key, version, corr, body):
    sock.sendall(request(api_key, version, corr, body))
    got, r = read_response(sock)
    if got != corr:
        raise AssertionError("correlation id %d, expected %d" % (got, corr))
    return r


def closed_by_server(sock):
    """True if the server closes `sock` (EOF or reset) within IO_TIMEOUT_S, sending nothing."""
    try:
        data = sock.recv(4096)
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return data == b""


def parse_api_versions_v0(r):
    """ApiVersions v0 body after the ErrorCode: {key: (min, max)}."""
    keys = r.array(lambda x: (x.i16(), x.i16(), x.i16()))
    return {k: (lo, hi) for k, lo, hi in keys or []}


def parse_metadata_v1(r):
    brokers = r.array(lambda x: (x.i32(), x.string(), x.i32(), x.string()))
    controller = r.i32()

    def partition(x):
        return (x.i16(), x.i32(), x.i32(), x.array(lambda y: y.i32()), x.array(lambda y: y.i32()))

    topics = r.array(lambda x: (x.i16(), x.string(), x.i8(), x.array(partition)))
    return brokers, controller, topics


def parse_produce_v7(r):
    """{(topic, partition): (error, base_offset)}."""
    out = {}
    for name, parts in r.array(lambda x: (x.string(), x.array(
            lambda y: (y.i32(), y.i16(), y.i64(), y.i64(), y.i64())))):
        for idx, err, base, _append_time, _start in parts:
            out[(name, idx)] = (err, base)
    return out


def parse_create_topics_v2(r):
    r.i32()  # ThrottleTimeMs
    return {name: (err, msg) for name, err, msg in
            r.array(lambda x: (x.string(), x.i16(), x.string()))}


def parse_fetch_v4(r):
    """{(topic, partition): (error, high_watermark, records)}."""
    r.i32()  # ThrottleTimeMs
    out = {}

    def partition(x):
        idx, err, hwm, _lso = x.i32(), x.i16(), x.i64(), x.i64()
        x.array(lambda y: (y.i64(), y.i64()))  # AbortedTransactions
        return idx, err, hwm, x.bytes_()

    for name, parts in r.array(lambda x: (x.string(), x.array(partition))):
        for idx, err, hwm, recs in parts:
            out[(name, idx)] = (err, hwm, recs)
    return out

# ---- the test ---------------------------------------------------------------------------------


def main():
    c = sluicetest.Checks()
    c.check("crc32c of '123456789' is e3069283", crc32c(b"123456789") == 0xE3069283)
    corr = [100]

    def next_corr():
        corr[0] += 1
        return corr[0]

    with sluicetest.Server(args=["--socket.request.max.bytes=%d" % MAX_REQUEST,
                                 "--message.max.bytes=%d" % MESSAGE_MAX, "--log.level=debug"]) as s:

        def still_serving(after):
            """The server runs and a fresh client gets ApiVersions v0 and Metadata v1."""
            ok, detail = s.alive(), "server exited"
            if ok:
                try:
                    with connect(s) as sock:
                        r = call(sock, API_API_VERSIONS, 0, 1, b"")
                        err, apis = r.i16(), parse_api_versions_v0(r)
                        r = call(sock, API_METADATA, 1, 2, metadata_body_v1([]))
                        brokers, controller, _ = parse_metadata_v1(r)
                        ok = (err == 0 and API_PRODUCE in apis and controller == 1
                              and [b[0] for b in brokers] == [1])
                        detail = "err %d, controller %d, brokers %s" % (err, controller, brokers)
                except (OSError, Closed, AssertionError, struct.error) as e:
                    ok, detail = False, "%s: %s" % (type(e).__name__, e)
            c.check("after %s: the server serves a fresh client" % after, ok, detail)

        def case(name, fn):
            try:
                fn()
            except (OSError, Closed, AssertionError, struct.error, ValueError, KeyError) as e:
                c.check("%s: completes" % name, False, "%s: %s" % (type(e).__name__, e))
            still_serving(name)

        # -- framing ----------------------------------------------------------------------
        def oversize():
            with connect(s) as sock:
                sock.sendall(i32(2 * MAX_REQUEST) + b"\0" * 1024)
                c.check("a 2 MiB size prefix (limit 1 MiB) closes the connection",
                        closed_by_server(sock))
        case("an oversized frame", oversize)

        def short_header():
            with connect(s) as sock:
                sock.sendall(i32(3) + b"\0\x12\0")
                c.check("a 3-byte frame (no room for a header) closes the connection",
                        closed_by_server(sock))
        case("a truncated header", short_header)

        def client_id_past_frame():
            with connect(s) as sock:
                msg = i16(API_API_VERSIONS) + i16(0) + i32(7) + i16(200) + b"abc"
                sock.sendall(i32(len(msg)) + msg)
                c.check("a ClientId longer than the frame closes the connection",
                        closed_by_server(sock))
        case("a ClientId past the frame", client_id_past_frame)

        def truncated_body():
            with connect(s) as sock:
                body = metadata_body_v1(["some-topic"])[:-4]
                sock.sendall(request(API_METADATA, 1, 9, body))
                c.check("a Metadata v1 body cut short closes the connection",
                        closed_by_server(sock))
        case("a truncated body", truncated_body)

        # -- unsupported APIs and versions ------------------------------------------------
        def unknown_key():
            with connect(s) as sock:
                n = next_corr()
                sock.sendall(request(9999, 0, n, b"\0\0\0\0"))
                got, r = read_response(sock)
                err = r.i16() if r.rest() >= 2 else None
                c.check("an unknown API key (9999) gets UNSUPPORTED_VERSION (35)",
                        got == n and err == 35, "corr %d err %s" % (got, err))
                r = call(sock, API_API_VERSIONS, 0, next_corr(), b"")
                c.check("the connection stays usable after it", r.i16() == 0)
        case("an unknown API key", unknown_key)

        def metadata_too_new():
            with connect(s) as sock:
                n = next_corr()
                sock.sendall(request(API_METADATA, 7, n, metadata_body_v1([]) + i8(1)))
                got, _ = read_response(sock)
                c.check("Metadata v7 (above the maximum 6) gets an answer", got == n)
                r = call(sock, API_METADATA, 1, next_corr(), metadata_body_v1([]))
                c.check("the connection stays usable after it", parse_metadata_v1(r)[1] == 1)
        case("an API above its maximum version", metadata_too_new)

        def api_versions_too_new():
            with connect(s) as sock:
                r = call(sock, API_API_VERSIONS, 9, next_corr(), b"\0\0\0")
                err = r.i16()
                apis = parse_api_versions_v0(r)
                c.check("ApiVersions v9 gets UNSUPPORTED_VERSION (35)", err == 35, str(err))
                c.check("...with the v0 body listing the APIs, ApiVersions 0-2 among them",
                        apis.get(API_API_VERSIONS) == (0, 2) and apis.get(API_PRODUCE) == (0, 7)
                        and apis.get(API_FETCH, (0, 0))[1] >= 10 and len(apis) >= 10, str(apis))
                c.check("...and nothing after the array (no ThrottleTimeMs in v0)",
                        r.rest() == 0, "%d bytes left" % r.rest())
                r = call(sock, API_API_VERSIONS, 2, next_corr(), b"")
                c.check("the connection stays usable: ApiVersions v2 then answers error 0",
                        r.i16() == 0)
        case("an ApiVersions version above the maximum", api_versions_too_new)

        # -- produce ----------------------------------------------------------------------
        topic = "bad-input"

        def create_topic():
            with connect(s) as sock:
                r = call(sock, API_CREATE_TOPICS, 2, next_corr(), create_topics_body_v2(topic, 1, 1))
                res = parse_create_topics_v2(r)
                c.check("CreateTopics v2 of a valid topic succeeds", res.get(topic, (None,))[0] == 0,
                        str(res))
        case("creating the test topic", create_topic)

        good = record_batch([(b"k0", b"v0"), (None, b"v1"), (b"k2", b"")],
                            base_ts=int(time.time() * 1000))
        # The partition is a Raft group: it starts with control batches (its configuration and
        # the first leader's barrier), so the valid batch lands at the log end, not at 0.
        # `log` keeps the offsets learnt on the way: "start" the end before the valid batch,
        # "base" the offset its produce was given, "end" the end after the acks=0 batch.
        log = {}

        def produce(records, version=7):
            with connect(s) as sock:
                r = call(sock, API_PRODUCE, version, next_corr(), produce_body(topic, 0, records))
                return parse_produce_v7(r).get((topic, 0)) if version == 7 else r

        def valid_batch():
            log["start"] = sluicetest.list_offset(s.bootstrap, topic, 0)
            hwm, before = sluicetest.fetch_batches(s.bootstrap, topic, 0)
            c.check("before the first produce the partition holds only control batches, "
                    "every offset below the high watermark %d in one" % hwm,
                    hwm == log["start"] and len(before) > 0 and all(b.is_control for b in before)
                    and not sluicetest.offset_problems([], before, 0, hwm),
                    "ListOffsets %d, Fetch high watermark %d, %s" % (log["start"], hwm, before))
            res = produce(good)
            log["base"] = res[1] if res is not None and res[0] == 0 else log["start"]
            c.check("a hand-built RecordBatch with the right CRC-32C is appended at the log end "
                    "(%d)" % log["start"], res == (0, log["start"]), str(res))
        case("a valid produce", valid_batch)

        def bad_crc():
            res = produce(record_batch([(b"k", b"v")], int(time.time() * 1000), corrupt_crc=True))
            c.check("a RecordBatch with a wrong CRC gets CORRUPT_MESSAGE (2)",
                    res is not None and res[0] == 2, str(res))
        case("a wrong CRC", bad_crc)

        def bad_body_crc():
            b = bytearray(good)
            b[-3] ^= 0x40  # flip a bit inside the last record: the CRC no longer matches
            res = produce(bytes(b))
            c.check("a RecordBatch with a flipped bit in a record gets CORRUPT_MESSAGE (2)",
                    res is not None and res[0] == 2, str(res))
        case("a flipped bit in a record", bad_body_crc)

        for magic in (0, 1):
            def legacy(magic=magic):
                res = produce(legacy_message_set(magic, b"k", b"legacy"))
                c.check("a magic-%d message set gets UNSUPPORTED_FOR_MESSAGE_FORMAT (43)" % magic,
                        res is not None and res[0] == 43, str(res))
            case("magic %d" % magic, legacy)

        def magic1_header():
            b = bytearray(good)
            b[16] = 1  # a v2 batch claiming magic 1
            res = produce(bytes(b))
            c.check("a batch whose Magic byte says 1 gets UNSUPPORTED_FOR_MESSAGE_FORMAT (43)",
                    res is not None and res[0] == 43, str(res))
        case("a batch with magic byte 1", magic1_header)

        def produce_v2():
            # Produce v2: no TransactionalId; response [Name, [Index, Error, Base, AppendTime]],
            # ThrottleTimeMs.
            body = i16(-1) + i32(10000) + array([string(topic) + array([i32(0) + bytes_(good)])])
            with connect(s) as sock:
                r = call(sock, API_PRODUCE, 2, next_corr(), body)
                res = r.array(lambda x: (x.string(), x.array(
                    lambda y: (y.i32(), y.i16(), y.i64(), y.i64()))))
                err = res[0][1][0][1] if res and res[0][1] else None
                c.check("Produce v2 (advertised, not served) gets UNSUPPORTED_VERSION (35)",
                        err == 35, str(res))
        case("Produce v2", produce_v2)

        def log_unchanged():
            base = log["base"]
            with connect(s) as sock:
                r = call(sock, API_FETCH, 4, next_corr(), fetch_body_v4(topic, 0, 0))
                err, hwm, recs = parse_fetch_v4(r).get((topic, 0), (None, None, None))
                batches = sluicetest.served_as_stored(
                    s.bootstrap, topic, 0, sluicetest.parse_batches(recs or b"", strict=True))
                data = [b for b in batches if not b.is_control]
                c.check("after the rejected produces the log holds only the valid batch: "
                        "control batches, then its 3 records (high watermark %d)" % (base + 3),
                        err == 0 and hwm == base + 3 and len(data) == 1
                        and data[0].base_offset == base and data[0].last_offset == hwm - 1
                        and not sluicetest.offset_problems(
                            sluicetest.data_offsets(batches), batches, 0, hwm),
                        "err %s hwm %s batches %s" % (err, hwm, batches))
                r = call(sock, API_FETCH, 4, next_corr(), fetch_body_v4(topic, 0, base))
                err, hwm, recs = parse_fetch_v4(r).get((topic, 0), (None, None, None))
                c.check("Fetch at %d returns the stored batch byte for byte (BaseOffset %d as "
                        "produced, PartitionLeaderEpoch aside)" % (base, base),
                        err == 0 and recs is not None and len(recs) == len(good)
                        and recs[:8] == struct.pack(">q", base) and recs[8:12] == good[8:12]
                        and recs[16:] == good[16:], "err %s, %d bytes" % (err, len(recs or b"")))
        case("fetching the valid batch", log_unchanged)

        def too_large():
            big = record_batch([(b"k", os.urandom(2 * MESSAGE_MAX))], int(time.time() * 1000))
            res = produce(big)
            c.check("a batch above message.max.bytes gets MESSAGE_TOO_LARGE (10)",
                    res is not None and res[0] == 10, str(res))
        case("a batch above message.max.bytes", too_large)

        def unknown_partition():
            with connect(s) as sock:
                r = call(sock, API_PRODUCE, 7, next_corr(), produce_body(topic, 7, good))
                res = parse_produce_v7(r).get((topic, 7))
                c.check("Produce to partition 7 of a 1-partition topic gets "
                        "UNKNOWN_TOPIC_OR_PARTITION (3)", res is not None and res[0] == 3, str(res))
        case("a produce to a missing partition", unknown_partition)

        def acks0_and_pipelining():
            with connect(s) as sock:
                # acks=0 gets no response at all: the next response on the socket must be
                # the request sent after it. Then 20 pipelined requests come back in order.
                batch = record_batch([(b"a0", b"acks-zero")], int(time.time() * 1000))
                first = next_corr()
                out = request(API_PRODUCE, 7, first, produce_body(topic, 0, batch, acks=0))
                ids = []
                for k in range(20):
                    ids.append(next_corr())
                    if k % 3 == 0:
                        out += request(API_METADATA, 1, ids[-1], metadata_body_v1([topic]))
                    elif k % 3 == 1:
                        out += request(API_API_VERSIONS, 0, ids[-1], b"")
                    else:
                        out += request(API_FETCH, 4, ids[-1], fetch_body_v4(topic, 0, 0))
                sock.sendall(out)
                got = [read_response(sock)[0] for _ in ids]
                c.check("acks=0 Produce gets no response; 20 pipelined requests of three APIs "
                        "are answered in order", got == ids, "%s vs %s" % (got[:4], ids[:4]))
                # Nobody waits for an acks=0 append: poll until it is durable. It goes right
                # after the valid batch (the leader does not change in this test).
                want = log["end"] = log["base"] + 4
                deadline, t0 = time.monotonic() + 5, time.monotonic()
                while True:
                    r = call(sock, API_FETCH, 4, next_corr(), fetch_body_v4(topic, 0, 0))
                    err, hwm, _ = parse_fetch_v4(r).get((topic, 0), (None, None, None))
                    if hwm == want or time.monotonic() > deadline:
                        break
                    time.sleep(0.01)
                print("# acks=0 batch durable after %.3fs" % (time.monotonic() - t0))
                c.check("...and the acks=0 batch was appended (high watermark %d)" % want,
                        hwm == want,
                        "err %s hwm %s after %.2fs" % (err, hwm, time.monotonic() - t0))
                r = call(sock, API_FETCH, 4, next_corr(), fetch_body_v4(topic, 0, want - 1))
                err, _, recs = parse_fetch_v4(r).get((topic, 0), (None, None, None))
                got = sluicetest.parse_batches(recs or b"", strict=True)
                c.check("...as its one record at offset %d, byte for byte" % (want - 1),
                        err == 0 and len(got) == 1 and not got[0].is_control
                        and (got[0].base_offset, got[0].records_count) == (want - 1, 1)
                        and got[0].raw[16:] == batch[16:], "err %s %s" % (err, got))
        case("acks=0 and pipelining", acks0_and_pipelining)

        def delete_unknown():
            with connect(s) as sock:
                r = call(sock, API_DELETE_TOPICS, 1, next_corr(),
                         array([string("no-such-topic")]) + i32(10000))
                r.i32()  # ThrottleTimeMs
                res = r.array(lambda x: (x.string(), x.i16()))
                c.check("DeleteTopics of an unknown topic gets UNKNOWN_TOPIC_OR_PARTITION (3)",
                        res == [("no-such-topic", 3)], str(res))
        case("deleting an unknown topic", delete_unknown)

        # -- topic names, replication factor, fetch range -------------------------------------
        bad_names = ["bad name", "a/b", "..", "x" * 250, ""]

        def metadata_invalid_names():
            with connect(s) as sock:
                r = call(sock, API_METADATA, 1, next_corr(), metadata_body_v1(bad_names))
                _, _, topics = parse_metadata_v1(r)
                errs = {t[1]: t[0] for t in topics}
                c.check("Metadata v1 of invalid names gets INVALID_TOPIC_EXCEPTION (17) for each",
                        all(errs.get(n) == 17 for n in bad_names), str(errs)[:300])
        case("Metadata with invalid topic names", metadata_invalid_names)

        def create_invalid_names():
            with connect(s) as sock:
                for n in ["bad name", "a/b", "..", "x" * 250]:
                    r = call(sock, API_CREATE_TOPICS, 2, next_corr(), create_topics_body_v2(n, 1, 1))
                    res = parse_create_topics_v2(r)
                    c.check("CreateTopics of %r gets INVALID_TOPIC_EXCEPTION (17)" % n[:20],
                            res.get(n, (None,))[0] == 17, str(res)[:300])
        case("CreateTopics with invalid names", create_invalid_names)

        def replication_factor():
            with connect(s) as sock:
                r = call(sock, API_CREATE_TOPICS, 2, next_corr(), create_topics_body_v2("rf3", 1, 3))
                res = parse_create_topics_v2(r)
                c.check("CreateTopics with replication factor 3 on one node gets "
                        "INVALID_REPLICATION_FACTOR (38)", res.get("rf3", (None,))[0] == 38, str(res))
                r = call(sock, API_METADATA, 1, next_corr(), metadata_body_v1([]))
                names = [t[1] for t in parse_metadata_v1(r)[2]]
                c.check("...and creates nothing", "rf3" not in names, str(names))
        case("replication factor 3", replication_factor)

        def fetch_out_of_range():
            end = log["end"]
            with connect(s) as sock:
                r = call(sock, API_FETCH, 4, next_corr(), fetch_body_v4(topic, 0, end + 1000))
                err, hwm, _ = parse_fetch_v4(r).get((topic, 0), (None, None, None))
                c.check("Fetch at offset %d (end %d) gets OFFSET_OUT_OF_RANGE (1)"
                        % (end + 1000, end), err == 1, "err %s hwm %s" % (err, hwm))
                r = call(sock, API_FETCH, 4, next_corr(), fetch_body_v4(topic, 0, -5))
                err, _, _ = parse_fetch_v4(r).get((topic, 0), (None, None, None))
                c.check("Fetch at offset -5 gets OFFSET_OUT_OF_RANGE (1)", err == 1, str(err))
                r = call(sock, API_FETCH, 4, next_corr(), fetch_body_v4(topic, 0, end))
                err, hwm, recs = parse_fetch_v4(r).get((topic, 0), (None, None, None))
                c.check("Fetch at the end itself (%d) is no error and returns no records" % end,
                        err == 0 and hwm == end and not recs,
                        "err %s, hwm %s, %d bytes" % (err, hwm, len(recs or b"")))
        case("a fetch beyond the end", fetch_out_of_range)

        c.check("the server log shows no crash or assertion",
                "Assertion" not in s.log() and "AddressSanitizer" not in s.log())
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
