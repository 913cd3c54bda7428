"""clusterlib: real multi-node Sluice clusters on 127.0.0.1 for the cluster tests.

    checks = sluicetest.Checks()
    clusterlib.guard(checks, budget_s=200)          # hard time bound, signals -> cleanup
    with clusterlib.Cluster(3) as cl:
        cl.wait_registered()
        cl.create_topic("t", 6, 3)
        leaders = cl.wait_leaders("t", 6)           # {partition: node id}, all nodes agree
        cl.node(leaders[0]).kill9()
        ...

What it gives:
- Cluster / Node: N sluice-server processes, each with its own free ports (Kafka, peer, HTTP),
  its own properties file, log.dirs and log file under one temporary directory; start, stop
  (SIGTERM), kill -9, SIGSTOP, SIGCONT and restart by PID. Each node may get its own
  controller.quorum.voters string (the partition test points peers at its proxies).
- A raw Kafka client (KafkaConn) for what a real client hides: Metadata v7 from one chosen node
  (brokers, controller, each partition's leader and epoch as that node sees them), Produce v7 and
  Fetch v4 to one chosen node, FindCoordinator v1, CreateTopics v2.
- Bounded waits for registration and for partition leaders all live nodes agree on.
- Segment-file reading (docs/storage.md: `.log` files are RecordBatch v2 back to back) with
  record parsing for uncompressed batches, control batches flagged (attributes bit 5).
- Proxy: a TCP forwarder the test can cut (refuse new connections, close existing ones) and heal.

Cleanup: every process started is registered; it is stopped when its Cluster exits (normally
or by an exception), at interpreter exit (atexit), on SIGTERM/SIGINT/SIGHUP (meson's timeout
sends SIGTERM), and by the guard's watchdog when the test's hard time bound expires. Processes
are only ever signalled by their own PID; a stopped (SIGSTOP) process is continued before it is
asked to terminate. Standard library plus confluent_kafka (Debian's python3-confluent-kafka).
"""

import atexit
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sluicetest  # noqa: E402

READY_TIMEOUT_S = 30
STOP_TIMEOUT_S = 20
IO_TIMEOUT_S = 10

# Kafka error codes used by the tests.
ERR_NONE = 0
ERR_OFFSET_OUT_OF_RANGE = 1
ERR_UNKNOWN_TOPIC_OR_PARTITION = 3
ERR_LEADER_NOT_AVAILABLE = 5
ERR_NOT_LEADER_OR_FOLLOWER = 6
ERR_REQUEST_TIMED_OUT = 7
ERR_COORDINATOR_NOT_AVAILABLE = 15
ERR_NOT_COORDINATOR = 16
ERR_NOT_ENOUGH_REPLICAS = 19
ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20

API_PRODUCE, API_FETCH, API_METADATA = 0, 1, 3
API_FIND_COORDINATOR, API_CREATE_TOPICS = 10, 19

# Control record types of Raft-internal batches (src/raft/rlog.h).
CTRL_BARRIER, CTRL_CHANGE = 0x5301, 0x5302

# ---- process registry and the guard ----------------------------------------------------------

_registry_lock = threading.RLock()
_live_nodes = []      # Node objects whose process may be running
_cleanups = []        # callables run on emergency exit (proxies, temp dirs)
_clusters = []        # for log tails on emergency exit
_emergency_done = [False]


def _register(node):
    with _registry_lock:
        if node not in _live_nodes:
            _live_nodes.append(node)


def _unregister(node):
    with _registry_lock:
        if node in _live_nodes:
            _live_nodes.remove(node)


def kill_everything():
    """SIGCONT + SIGKILL every process this module started and still tracks, by PID; runs the
    registered cleanups. Idempotent; safe from any thread."""
    with _registry_lock:
        nodes = list(_live_nodes)
        cleanups = list(_cleanups)
    for n in nodes:
        n.force_kill()
    for fn in cleanups:
        try:
            fn()
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass


atexit.register(kill_everything)


def _emergency(reason, checks):
    """Reports `reason` as one failed check with the node logs' tails, kills everything and
    exits the process at once (the main thread may be stuck in a C call)."""
    with _registry_lock:
        if _emergency_done[0]:
            return
        _emergency_done[0] = True
    try:
        print("not ok - %s" % reason, flush=True)
        for cl in list(_clusters):
            try:
                cl.print_log_tails(lines=60)
            except Exception:  # noqa: BLE001
                pass
    finally:
        kill_everything()
        passed = checks.passed if checks else 0
        failed = (checks.failed if checks else 0) + 1
        print("%d passed, %d failed" % (passed, failed), flush=True)
        os._exit(1)


def guard(checks, budget_s):
    """Bounds the whole test to `budget_s` seconds (a watchdog thread reports the overrun as a
    failure, kills every node and exits) and turns SIGTERM/SIGINT/SIGHUP into the same cleanup.
    Call once, first thing in main(). The budget scales with CK_TIMEOUT_MULTIPLIER, which
    scripts/test --sanitize sets along with meson's --timeout-multiplier."""
    t0 = time.monotonic()
    try:
        budget_s *= max(1.0, float(os.environ.get("CK_TIMEOUT_MULTIPLIER", "1")))
    except ValueError:
        pass

    def watchdog():
        while time.monotonic() - t0 < budget_s:
            time.sleep(0.5)
        _emergency("the test ran past its hard time bound of %ds (stopped here)" % budget_s, checks)

    threading.Thread(target=watchdog, name="watchdog", daemon=True).start()

    def on_signal(signum, _frame):
        _emergency("interrupted by signal %d" % signum, checks)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    return t0


# ---- small utilities ----------------------------------------------------------------------------

_used_ports = set()


def free_port():
    """A free TCP port on 127.0.0.1 not handed out before by this process."""
    for _ in range(100):
        p = sluicetest.free_port()
        if p not in _used_ports:
            _used_ports.add(p)
            return p
    raise RuntimeError("no free port")


def wait_until(fn, timeout_s, interval_s=0.1):
    """Calls fn until it returns something true (returned) or timeout_s passes (returns the
    last value). Exceptions from fn count as false."""
    deadline = time.monotonic() + timeout_s
    v = None
    while True:
        try:
            v = fn()
        except (OSError, KafkaError, struct.error, ValueError):
            v = None
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval_s)


def median(xs):
    s = sorted(xs)
    n = len(s)
    if n == 0:
        return None
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


# ---- CRC-32C and the Kafka wire format ----------------------------------------------------------

try:
    import crcmod.predefined as _crcmod_predefined
    _crc32c_fast = _crcmod_predefined.mkCrcFun("crc-32c")
except Exception:  # noqa: BLE001 - fall back to the table below
    _crc32c_fast = None


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    if _crc32c_fast is not None:
        return _crc32c_fast(bytes(data))
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC32C_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


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
    return i32(-1) if items is None else i32(len(items)) + b"".join(items)


def uvarint(n):
    """Unsigned varint (protocol buffers style), as flexible versions' lengths use."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag_varint(v):
    return uvarint(((v << 1) ^ (v >> 63)) & 0xFFFFFFFFFFFFFFFF)


def read_varint(d, p):
    """(zigzag-decoded value, next position)."""
    shift = result = 0
    while True:
        if p >= len(d):
            raise ValueError("varint past the end")
        b = d[p]
        p += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")
    return (result >> 1) ^ -(result & 1), p


def _record(offset_delta, ts_delta, key, value):
    body = (i8(0) + zigzag_varint(ts_delta) + zigzag_varint(offset_delta)
            + (zigzag_varint(-1) if key is None else zigzag_varint(len(key)) + key)
            + (zigzag_varint(-1) if value is None else zigzag_varint(len(value)) + value)
            + zigzag_varint(0))
    return zigzag_varint(len(body)) + body


def record_batch(records, base_ts=None):
    """An uncompressed, non-idempotent RecordBatch v2 of (key, value) pairs."""
    if base_ts is None:
        base_ts = int(time.time() * 1000)
    recs = b"".join(_record(i, 0, k, v) for i, (k, v) in enumerate(records))
    after_crc = (i16(0) + i32(len(records) - 1) + i64(base_ts) + i64(base_ts)
                 + i64(-1) + i16(-1) + i32(-1) + i32(len(records)) + recs)
    after_length = i32(-1) + i8(2) + struct.pack(">I", crc32c(after_crc)) + after_crc
    return i64(0) + i32(len(after_length)) + after_length


class KafkaError(Exception):
    pass


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


class KafkaConn:
    """One connection to one node's Kafka listener; request header v1, non-flexible versions."""

    def __init__(self, port, timeout_s=IO_TIMEOUT_S):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.sock.settimeout(timeout_s)
        self.corr = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise KafkaError("connection closed by the node")
            out += chunk
        return out

    def call(self, api_key, version, body):
        self.corr += 1
        msg = i16(api_key) + i16(version) + i32(self.corr) + string("sluice-cluster-test") + body
        self.sock.sendall(i32(len(msg)) + msg)
        size, = struct.unpack(">i", self._recv_exact(4))
        data = self._recv_exact(size)
        corr, = struct.unpack_from(">i", data)
        if corr != self.corr:
            raise KafkaError("correlation id %d, expected %d" % (corr, self.corr))
        return Reader(data[4:])

    # Metadata v7: [Topics] (null = all), AllowAutoTopicCreation.
    def metadata(self, topics=None):
        body = array(None if topics is None else [string(t) for t in topics]) + i8(0)
        r = self.call(API_METADATA, 7, body)
        r.i32()  # ThrottleTimeMs
        brokers = r.array(lambda x: (x.i32(), x.string(), x.i32(), x.string()))
        cluster_id = r.string()
        controller = r.i32()

        def partition(x):
            return {"error": x.i16(), "index": x.i32(), "leader": x.i32(), "epoch": x.i32(),
                    "replicas": x.array(lambda y: y.i32()), "isr": x.array(lambda y: y.i32()),
                    "offline": x.array(lambda y: y.i32())}

        topics_out = {}
        for err, name, internal, parts in r.array(
                lambda x: (x.i16(), x.string(), x.i8(), x.array(partition))):
            topics_out[name] = {"error": err, "internal": bool(internal),
                                "partitions": {p["index"]: p for p in parts or []}}
        return Metadata({b[0]: (b[1], b[2]) for b in brokers or []}, cluster_id, controller,
                        topics_out)

    # Produce v7: TransactionalId, Acks, TimeoutMs, [Name, [Index, Records]] ->
    # (error, base_offset).
    def produce(self, topic, partition, records, acks=-1, timeout_ms=5000):
        body = (string(None) + i16(acks) + i32(timeout_ms)
                + array([string(topic) + array([i32(partition) + bytes_(records)])]))
        r = self.call(API_PRODUCE, 7, body)
        for _name, parts in r.array(lambda x: (x.string(), x.array(
                lambda y: (y.i32(), y.i16(), y.i64(), y.i64(), y.i64())))):
            for _idx, err, base, _t, _start in parts:
                return err, base
        raise KafkaError("empty produce response")

    # Fetch v4 -> (error, high_watermark, records bytes).
    def fetch(self, topic, partition, offset, max_wait_ms=100):
        body = (i32(-1) + i32(max_wait_ms) + i32(1) + i32(1 << 20) + i8(0)
                + array([string(topic) + array([i32(partition) + i64(offset) + i32(1 << 20)])]))
        r = self.call(API_FETCH, 4, body)
        r.i32()

        def part(x):
            idx, err, hwm, _lso = x.i32(), x.i16(), x.i64(), x.i64()
            x.array(lambda y: (y.i64(), y.i64()))
            return idx, err, hwm, x.bytes_()

        for _name, parts in r.array(lambda x: (x.string(), x.array(part))):
            for _idx, err, hwm, recs in parts:
                return err, hwm, recs
        raise KafkaError("empty fetch response")

    # FindCoordinator v1: Key, KeyType -> (error, node_id, host, port).
    def find_coordinator(self, group):
        r = self.call(API_FIND_COORDINATOR, 1, string(group) + i8(0))
        r.i32()
        err = r.i16()
        r.string()
        return err, r.i32(), r.string(), r.i32()

    # CreateTopics v2 -> (error, message).
    def create_topic(self, name, partitions, rf, timeout_ms=20000):
        body = (array([string(name) + i32(partitions) + i16(rf) + array([]) + array([])])
                + i32(timeout_ms) + i8(0))
        r = self.call(API_CREATE_TOPICS, 2, body)
        r.i32()
        for n, err, msg in r.array(lambda x: (x.string(), x.i16(), x.string())):
            if n == name:
                return err, msg
        raise KafkaError("topic missing from the CreateTopics response")


class Metadata:
    def __init__(self, brokers, cluster_id, controller, topics):
        self.brokers = brokers          # {node id: (host, port)}
        self.cluster_id = cluster_id
        self.controller = controller
        self.topics = topics            # {name: {"error", "internal", "partitions": {i: {...}}}}

    def leader(self, topic, partition):
        t = self.topics.get(topic)
        p = t and t["partitions"].get(partition)
        return p["leader"] if p else None


def offsets_partition_for(group, n):
    """Kafka's coordinator partition: abs(Java String.hashCode(group)) mod n (offsets.c)."""
    h = 0
    for ch in group.encode():
        h = (h * 31 + ch) & 0xFFFFFFFF
    return (h & 0x7FFFFFFF) % n


# ---- segment files ----------------------------------------------------------------------------

class Batch:
    """One RecordBatch v2 as stored (docs/storage.md, header table)."""
    __slots__ = ("base_offset", "last_offset", "epoch", "attributes", "raw", "records",
                 "control_type", "crc_ok", "producer_id", "base_sequence", "file", "position")

    @property
    def is_control(self):
        return bool(self.attributes & 0x20)

    @property
    def compression(self):
        return self.attributes & 0x07

    def __repr__(self):
        return "Batch(%d..%d epoch %d%s %d bytes in %s@%d)" % (
            self.base_offset, self.last_offset, self.epoch,
            " control 0x%x" % self.control_type if self.is_control else "", len(self.raw),
            os.path.basename(self.file), self.position)


def parse_records(b, data):
    """Fills b.records with [(offset, key, value)] for an uncompressed batch, b.control_type for
    a control batch. `data` is the whole batch."""
    b.records = None
    b.control_type = None
    if b.compression != 0 or len(data) < 61:
        return
    count, = struct.unpack_from(">i", data, 57)
    p = 61
    out = []
    try:
        for _ in range(max(count, 0)):
            length, p = read_varint(data, p)
            end = p + length
            p += 1  # attributes
            _ts, p = read_varint(data, p)
            od, p = read_varint(data, p)
            kl, p = read_varint(data, p)
            key = None if kl < 0 else bytes(data[p:p + kl])
            p += max(kl, 0)
            vl, p = read_varint(data, p)
            value = None if vl < 0 else bytes(data[p:p + vl])
            p = end
            out.append((b.base_offset + od, key, value))
    except ValueError:
        return
    b.records = out
    if b.is_control and out and out[0][1] is not None and len(out[0][1]) >= 4:
        b.control_type = struct.unpack_from(">h", out[0][1], 2)[0] & 0xFFFF


def read_segments(replica_dir, verify_crc=True):
    """Every whole batch of the replica's `<base>.log` files, in file order. Stops a file at a
    torn or short tail (a crash or a write in progress) without failing. Returns
    (batches, problems) where problems lists CRC mismatches and similar findings."""
    batches, problems = [], []
    try:
        names = sorted(n for n in os.listdir(replica_dir) if n.endswith(".log"))
    except FileNotFoundError:
        return batches, ["no directory %s" % replica_dir]
    for name in names:
        path = os.path.join(replica_dir, name)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue  # deleted (retention, truncation) while we looked
        pos = 0
        while pos + 61 <= len(data):
            base, length = struct.unpack_from(">qi", data, pos)
            if length < 49 or pos + 12 + length > len(data):
                break
            raw = data[pos:pos + 12 + length]
            b = Batch()
            b.base_offset = base
            b.epoch, = struct.unpack_from(">i", raw, 12)
            magic = raw[16]
            crc, = struct.unpack_from(">I", raw, 17)
            b.attributes, = struct.unpack_from(">h", raw, 21)
            lod, = struct.unpack_from(">i", raw, 23)
            b.producer_id, = struct.unpack_from(">q", raw, 43)
            b.base_sequence, = struct.unpack_from(">i", raw, 53)
            b.last_offset = base + lod
            b.raw = raw
            b.file = path
            b.position = pos
            b.crc_ok = (not verify_crc) or crc32c(raw[21:]) == crc
            if magic != 2:
                problems.append("%s@%d: magic %d" % (name, pos, magic))
                break
            if not b.crc_ok:
                problems.append("%s@%d: CRC mismatch in batch at offset %d" % (name, pos, base))
            parse_records(b, raw)
            batches.append(b)
            pos += 12 + length
    return batches, problems


def replica_end(batches):
    return batches[-1].last_offset + 1 if batches else 0


def batch_continuity_problems(batches):
    """Offsets must go up without overlap; gaps are allowed only where nothing was stored
    (returned as findings)."""
    out = []
    for a, b in zip(batches, batches[1:]):
        if b.base_offset != a.last_offset + 1:
            out.append("batch %r follows %r" % (b, a))
    return out


def compare_replicas(per_node):
    """per_node: {node id: [Batch]}. Compares batch by batch up to the shortest replica's end.
    Returns (common_end, mismatches) where mismatches describe the first difference for each
    pair against the first node."""
    ids = sorted(per_node)
    mismatches = []
    if not ids:
        return 0, mismatches
    common = min(replica_end(per_node[i]) for i in ids)
    ref_id = ids[0]
    ref = [b for b in per_node[ref_id] if b.base_offset < common]
    for i in ids[1:]:
        other = [b for b in per_node[i] if b.base_offset < common]
        for k in range(max(len(ref), len(other))):
            a = ref[k] if k < len(ref) else None
            b = other[k] if k < len(other) else None
            if a is None or b is None or a.raw != b.raw:
                mismatches.append("node %d vs node %d: batch #%d differs: %r / %r" % (
                    ref_id, i, k, a, b))
                break
    return common, mismatches


# ---- nodes and clusters ---------------------------------------------------------------------

LOG_LINE_TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ")
LEADING = re.compile(r'msg="(leading|no longer leading)" partition=(\S+) term=(\d+)')


def log_time(line):
    """Wall-clock seconds of a slog line (UTC, ms), or None."""
    m = LOG_LINE_TS.match(line)
    if not m:
        return None
    import calendar
    t = time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(t) + int(m.group(1)[20:23]) / 1000.0


class Node:
    def __init__(self, cluster, node_id):
        self.cluster = cluster
        self.id = node_id
        self.kafka_port = free_port()
        self.peer_port = free_port()
        self.http_port = free_port()
        self.data_dir = os.path.join(cluster.root, "node-%d" % node_id)
        self.log_path = os.path.join(cluster.root, "node-%d.log" % node_id)
        self.config_path = os.path.join(cluster.root, "node-%d.properties" % node_id)
        self.proc = None
        self.stopped = False  # SIGSTOPped
        self.log_start = 0    # log size when the current process started
        self.starts = 0
        self.down_on_purpose = True   # not running, or killed/stopped by the test

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.kafka_port

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def write_config(self):
        cl = self.cluster
        lines = [
            "# node %d of a cluster test (tests/cluster/clusterlib.py)" % self.id,
            "node.id=%d" % self.id,
            "listeners=PLAINTEXT://127.0.0.1:%d" % self.kafka_port,
            "peer.listener=127.0.0.1:%d" % self.peer_port,
            "http.listener=127.0.0.1:%d" % self.http_port,
            "controller.quorum.voters=%s" % cl.voters_for(self),
            "log.dirs=%s" % self.data_dir,
            "default.replication.factor=%d" % min(3, len(cl.nodes)),
            "offsets.topic.replication.factor=%d" % min(3, len(cl.nodes)),
        ]
        for k, v in cl.config.items():
            lines.append("%s=%s" % (k, v))
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, wait=True):
        assert not self.alive(), "node %d already running" % self.id
        self.write_config()
        try:
            self.log_start = os.path.getsize(self.log_path)
        except OSError:
            self.log_start = 0
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen([sluicetest.server_binary(), "--config", self.config_path],
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        finally:
            log.close()
        self.stopped = False
        self.starts += 1
        self.down_on_purpose = False
        _register(self)
        if wait:
            self.wait_ready()
        return self

    def is_ready(self):
        return 'module=server msg="ready"' in self.log(since_start=True)

    def wait_ready(self, timeout_s=READY_TIMEOUT_S):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("node %d exited with %d before it was ready:\n%s" % (
                    self.id, self.proc.returncode, self.log(since_start=True)[-4000:]))
            if self.is_ready():
                return self
            time.sleep(0.05)
        raise RuntimeError("node %d not ready after %ds:\n%s" % (
            self.id, timeout_s, self.log(since_start=True)[-4000:]))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        """SIGKILL by PID and reap."""
        self.down_on_purpose = True
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.stopped = False
        _unregister(self)

    def sigstop(self):
        assert self.alive()
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.stopped = True

    def sigcont(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGCONT)
        self.stopped = False

    def stop(self):
        """SIGTERM (after SIGCONT if stopped) and wait; SIGKILL after STOP_TIMEOUT_S. Returns
        the exit code, or None if it had to be killed or was not running."""
        if self.alive():
            self.down_on_purpose = True
        if not self.alive():
            _unregister(self)
            return self.proc.returncode if self.proc else None
        if self.stopped:
            self.sigcont()
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill9()
            rc = None
        _unregister(self)
        return rc

    def exited_on_its_own(self):
        """The exit status if the process ended without the test stopping it, else None."""
        if self.proc is not None and not self.down_on_purpose and self.proc.poll() is not None:
            return self.proc.returncode
        return None

    def restart(self, wait=True):
        self.kill9()
        return self.start(wait=wait)

    def force_kill(self):
        """For the emergency paths: never raises, never waits long."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                try:
                    os.kill(self.proc.pid, signal.SIGCONT)
                except OSError:
                    pass
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        except Exception:  # noqa: BLE001
            pass
        _unregister(self)

    def log(self, since_start=False):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                if since_start:
                    f.seek(self.log_start)
                return f.read()
        except OSError:
            return ""

    def leading_events(self, topic_partition=None):
        """[(wall time, 'leading'|'no longer leading', 'topic-p', term)] from the whole log."""
        out = []
        for line in self.log().splitlines():
            m = LEADING.search(line)
            if m and (topic_partition is None or m.group(2) == topic_partition):
                out.append((log_time(line), m.group(1), m.group(2), int(m.group(3))))
        return out

    def replica_dir(self, topic, partition):
        return os.path.join(self.data_dir, "%s-%d" % (topic, partition))

    def read_replica(self, topic, partition, verify_crc=True):
        return read_segments(self.replica_dir(topic, partition), verify_crc)

    def conn(self, timeout_s=IO_TIMEOUT_S):
        return KafkaConn(self.kafka_port, timeout_s)

    def metadata(self, topics=None, timeout_s=5):
        with self.conn(timeout_s) as c:
            return c.metadata(topics)


class Cluster:
    """N nodes with ids 1..N. `config`: extra properties for every node. `voters_for(node)`:
    optional function returning that node's controller.quorum.voters string (default: every
    node's real peer listener)."""

    def __init__(self, n=3, config=None, voters_for=None, start=True, keep=None):
        self.root = tempfile.mkdtemp(prefix="sluice-cluster-")
        self.config = dict(config or {})
        self.nodes = []
        self.nodes = [Node(self, i) for i in range(1, n + 1)]
        self._voters_for = voters_for
        self._start = start
        self.keep = keep if keep is not None else bool(os.environ.get("SLUICE_CLUSTER_KEEP"))
        self.failed = False
        with _registry_lock:
            _clusters.append(self)
            _cleanups.append(self._remove_dir)

    # -- layout --
    def real_voters(self):
        return ",".join("%d@127.0.0.1:%d" % (n.id, n.peer_port) for n in self.nodes)

    def voters_for(self, node):
        return self._voters_for(node) if self._voters_for else self.real_voters()

    def node(self, node_id):
        return self.nodes[node_id - 1]

    def ids(self):
        return [n.id for n in self.nodes]

    def live(self):
        """The nodes the test means to be running: started, not killed or stopped by it, not
        SIGSTOPped. A node that died on its own stays in this list, so waits that need every
        one of these nodes to answer fail instead of passing without it."""
        return [n for n in self.nodes if n.proc is not None and not n.down_on_purpose
                and not n.stopped]

    def bootstrap(self, nodes=None):
        return ",".join(n.bootstrap for n in (nodes or self.nodes))

    # -- lifecycle --
    def start(self):
        for n in self.nodes:
            n.start(wait=False)
        for n in self.nodes:
            n.wait_ready()
        return self

    def stop_all(self):
        """SIGTERM every running node (continuing stopped ones first); {id: exit code}."""
        return {n.id: n.stop() for n in self.nodes if n.proc is not None}

    def _remove_dir(self):
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        try:
            if self._start:
                self.start()
            return self
        except BaseException:
            self.__exit__(*sys.exc_info())  # prints the logs' tails
            raise

    def __exit__(self, *exc):
        try:
            if exc[0] is not None or self.failed:
                self.print_log_tails()
        finally:
            for n in self.nodes:
                try:
                    n.stop()
                except Exception:  # noqa: BLE001
                    n.force_kill()
            if self.keep:
                print("# cluster data kept in %s" % self.root, flush=True)
            self._remove_dir()
            with _registry_lock:
                if self in _clusters:
                    _clusters.remove(self)
        return False

    # -- evidence --
    def print_log_tails(self, lines=80):
        """Each node's WARN/ERROR and leadership lines (the last `lines`), then its last lines."""
        for n in self.nodes:
            text = n.log().splitlines()
            notable = [ln for ln in text if "level=warn" in ln or "level=error" in ln
                       or "leading" in ln or "Assertion" in ln or "Sanitizer" in ln]
            print("---- node %d (%s): %d log lines; notable (last %d) ----" % (
                n.id, n.log_path, len(text), lines), flush=True)
            print("\n".join(notable[-lines:]), flush=True)
            print("---- node %d: last 15 lines ----" % n.id, flush=True)
            print("\n".join(text[-15:]), flush=True)

    def unexpected_exits(self):
        """{node id: exit status} of nodes that ended without the test stopping them (a
        negative status is the signal, e.g. -6 for an assertion's SIGABRT)."""
        return {n.id: n.exited_on_its_own() for n in self.nodes
                if n.exited_on_its_own() is not None}

    def check_health(self, c):
        """Two closing checks every cluster test makes: no node exited on its own, and no
        node log shows an assertion or a sanitizer report."""
        ex = self.unexpected_exits()
        c.check("no node exited on its own", not ex, "exit status by node: %s" % ex)
        crashes = self.crash_evidence()
        c.check("no assertion or sanitizer report in the node logs", not crashes,
                "\n".join(crashes[:5]))
        self.failed = self.failed or c.failed > 0

    def crash_evidence(self):
        """Lines showing an assertion, a sanitizer report or a signal-caused death."""
        out = []
        for n in self.nodes:
            for ln in n.log().splitlines():
                if "Assertion" in ln or "Sanitizer" in ln or "runtime error" in ln:
                    out.append("node %d: %s" % (n.id, ln))
        return out

    # -- metadata views --
    def metadata_views(self, nodes=None, topics=None):
        """{node id: Metadata} from each given node that answers (others are left out)."""
        out = {}
        for n in nodes or self.live():
            try:
                out[n.id] = n.metadata(topics, timeout_s=3)
            except (OSError, KafkaError, struct.error):
                pass
        return out

    def wait_registered(self, count=None, timeout_s=30, nodes=None):
        """Waits until every given node's Metadata lists `count` brokers (all nodes by default)
        and a controller; returns {node id: Metadata} or None."""
        count = count or len(self.nodes)
        nodes = nodes or self.live()

        def ok():
            v = self.metadata_views(nodes)
            if len(v) != len(nodes):
                return None
            if all(len(m.brokers) == count and m.controller >= 0 for m in v.values()):
                return v
            return None
        return wait_until(ok, timeout_s, 0.2)

    def leaders_agreed(self, topic, partitions, nodes=None, among=None):
        """{p: leader} if every given node (default: the live ones) names the same leader for
        every partition, that leader is one of `among` (default: the given nodes) and it names
        itself; else None."""
        nodes = nodes or self.live()
        among = set(among or [n.id for n in nodes])
        views = self.metadata_views(nodes, [topic])
        if len(views) != len(nodes):
            return None
        out = {}
        for p in range(partitions):
            ls = {v.leader(topic, p) for v in views.values()}
            if len(ls) != 1:
                return None
            leader = ls.pop()
            if leader is None or leader < 0 or leader not in among:
                return None
            out[p] = leader
        return out

    def wait_leaders(self, topic, partitions, timeout_s=30, nodes=None, among=None):
        return wait_until(lambda: self.leaders_agreed(topic, partitions, nodes, among),
                          timeout_s, 0.1)

    def create_topic(self, name, partitions, rf, via=None, timeout_s=30, config=None):
        """CreateTopics through confluent_kafka's AdminClient bootstrapped at `via` (a node;
        default node 1). Raises on error."""
        from confluent_kafka.admin import AdminClient, NewTopic
        via = via or self.nodes[0]
        a = AdminClient({"bootstrap.servers": via.bootstrap})
        fs = a.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=rf,
                                       config=config or {})],
                             request_timeout=timeout_s, operation_timeout=timeout_s)
        for f in fs.values():
            f.result(timeout=timeout_s + 5)

    def read_all_replicas(self, topic, partition, nodes=None, verify_crc=True):
        """{node id: [Batch]}, problems list."""
        out, problems = {}, []
        for n in nodes or self.nodes:
            b, pr = n.read_replica(topic, partition, verify_crc)
            out[n.id] = b
            problems += ["node %d %s-%d: %s" % (n.id, topic, partition, x) for x in pr]
        return out, problems

    def replicas_behind(self, topic, ends, nodes=None, timeout_s=30):
        """Waits (one deadline for all) until every given node's replica files of each
        partition p in `ends` hold whole batches up to ends[p]. Returns {p: {node id: end}} of
        the partitions still behind (empty when all caught up)."""
        def behind():
            out = {}
            for p, end in ends.items():
                per, _ = self.read_all_replicas(topic, p, nodes, verify_crc=False)
                have = {i: replica_end(b) for i, b in per.items()}
                if any(e < end for e in have.values()):
                    out[p] = have
            return out
        deadline = time.monotonic() + timeout_s
        while True:
            b = behind()
            if not b or time.monotonic() >= deadline:
                return b
            time.sleep(0.3)


# ---- reading a partition with a real consumer --------------------------------------------------

def read_partition(bootstrap, topic, partition, timeout_s=60, isolation="read_committed"):
    """{offset: (key, value)} of the whole partition from offset 0 to the high watermark,
    with confluent_kafka (assign, no group commits). Returns (records, high watermark)."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition
    cons = Consumer({"bootstrap.servers": bootstrap, "group.id": "sluice-cluster-read",
                     "enable.auto.commit": False, "enable.partition.eof": True,
                     "isolation.level": isolation, "topic.metadata.refresh.interval.ms": 1000,
                     "fetch.wait.max.ms": 100})
    out = {}
    try:
        _lo, hi = cons.get_watermark_offsets(TopicPartition(topic, partition), timeout=20)
        if hi <= 0:
            return out, hi
        cons.assign([TopicPartition(topic, partition, 0)])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            m = cons.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    if m.offset() >= hi:
                        break
                    continue
                raise KafkaException(m.error())
            out[m.offset()] = (m.key(), m.value())
            if m.offset() >= hi - 1:
                break
        else:
            raise RuntimeError("read of %s-%d stopped at %d records, high watermark %d" % (
                topic, partition, len(out), hi))
    finally:
        cons.close()
    return out, hi


def gap_problems(consumed_offsets, hw, batches):
    """Every offset in [0, hw) that the consumer did not return must lie in a control batch of
    `batches` (a replica's segments), and no offset it returned may lie in one. Returns
    (problems, gaps as count, control offsets in range)."""
    control = set()
    for b in batches:
        if b.is_control:
            control.update(range(b.base_offset, b.last_offset + 1))
    consumed = set(consumed_offsets)
    problems = []
    gaps = 0
    for o in range(hw):
        if o in consumed:
            if o in control:
                problems.append("offset %d returned to the consumer but is in a control batch" % o)
        else:
            gaps += 1
            if o not in control:
                problems.append("offset %d missing and not in a control batch" % o)
        if len(problems) > 10:
            problems.append("...")
            break
    return problems, gaps, len([o for o in control if o < hw])


# ---- TCP proxy for network partitions ----------------------------------------------------------

class Proxy:
    """Forwards 127.0.0.1:port to 127.0.0.1:target. cut() refuses new connections (accepted and
    closed at once) and closes existing ones; heal() lets connections through again."""

    def __init__(self, target_port, name=""):
        self.port = free_port()
        self.target = target_port
        self.name = name
        self.blocked = False
        self.closed = False
        self.lock = threading.Lock()
        self.pairs = []
        self.accepted = 0
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", self.port))
        self.lsock.listen(64)
        self.lsock.settimeout(0.2)
        threading.Thread(target=self._accept_loop, name="proxy-" + name, daemon=True).start()
        with _registry_lock:
            _cleanups.append(self.close)

    def _accept_loop(self):
        while not self.closed:
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            if self.blocked:
                _hard_close(c)
                continue
            try:
                u = socket.create_connection(("127.0.0.1", self.target), timeout=2)
            except OSError:
                _hard_close(c)
                continue
            c.settimeout(None)
            u.settimeout(None)
            with self.lock:
                if self.blocked:
                    _hard_close(c)
                    _hard_close(u)
                    continue
                self.pairs.append((c, u))
            threading.Thread(target=self._pump, args=(c, u), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                d = src.recv(65536)
                if not d or self.blocked:
                    break
                dst.sendall(d)
        except OSError:
            pass
        _hard_close(src)
        _hard_close(dst)
        with self.lock:
            self.pairs = [p for p in self.pairs if src not in p]

    def cut(self):
        with self.lock:
            self.blocked = True
            pairs, self.pairs = self.pairs, []
        for c, u in pairs:
            _hard_close(c)
            _hard_close(u)

    def heal(self):
        self.blocked = False

    def close(self):
        self.closed = True
        self.cut()
        try:
            self.lsock.close()
        except OSError:
            pass


def _hard_close(s):
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


def commit_sync(consumer):
    """consumer.commit(asynchronous=False) -> (committed TopicPartitions or None, error text or
    None): a refused commit is a finding for the test, not an exception."""
    from confluent_kafka import KafkaException
    try:
        return consumer.commit(asynchronous=False), None
    except KafkaException as e:
        return None, str(e)


# ---- one test's main --------------------------------------------------------------------------

def main(run, budget_s, nodes=3, config=None):
    """The body every cluster test shares: a hard time bound, an N-node cluster with `config`,
    `run(cluster, checks)`, the closing health checks on every path, any exception as a failed
    check, and the "N passed, N failed" line. Returns the exit status for sys.exit."""
    import traceback
    c = sluicetest.Checks()
    t0 = guard(c, budget_s)
    try:
        with Cluster(nodes, config=config) as cl:
            try:
                run(cl, c)
            finally:
                cl.check_health(c)
    except Exception as e:  # noqa: BLE001
        c.check("no exception", False, "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()))
    print("# total %.1fs" % (time.monotonic() - t0), flush=True)
    return c.finish()
