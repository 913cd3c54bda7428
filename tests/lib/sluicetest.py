"""sluicetest: start and stop real sluice-server processes for integration and compatibility
tests, on 127.0.0.1 with free ports and temporary data directories.

Every wait is bounded; every server started is stopped (SIGTERM, then SIGKILL) when the
context manager exits, whatever happened. Standard library only, so it works under Debian's
/usr/bin/python3 and inside a virtual environment alike.

    with sluicetest.Server() as s:
        client(bootstrap=s.bootstrap)
"""

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

READY_TIMEOUT_S = 20
STOP_TIMEOUT_S = 20


def server_binary():
    path = os.environ.get("SLUICE_SERVER")
    if path:
        return path
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "build", "src", "server", "sluice-server")


def cli_binary():
    """The `sluice` CLI: $SLUICE_CLI, else the build tree's."""
    path = os.environ.get("SLUICE_CLI")
    if path:
        return path
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "build", "src", "cli", "sluice")


def run_cli(args, timeout_s, env=None):
    """Runs the CLI with `args`: (exit status, or None when it ran past timeout_s; stdout;
    stderr)."""
    try:
        p = subprocess.run([cli_binary()] + list(args), capture_output=True, text=True,
                           timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired as e:
        out, err = e.stdout or "", e.stderr or ""
        if isinstance(out, bytes):
            out = out.decode(errors="replace")
        if isinstance(err, bytes):
            err = err.decode(errors="replace")
        return None, out, err
    return p.returncode, p.stdout, p.stderr


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# bootstrap address -> log.dirs of the Server started there (fetch_batches reads its segments)
_LOG_DIRS = {}


class Server:
    """One sluice-server process. `args` are extra --key=value overrides."""

    def __init__(self, data_dir=None, args=(), port=None):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="sluice-test-")
        self.port = port or free_port()
        self.args = list(args)
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "server.log")

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        _LOG_DIRS[self.bootstrap] = os.path.join(self.data_dir, "data")
        cmd = [
            server_binary(),
            "--node.id=1",
            "--log.dirs=%s" % os.path.join(self.data_dir, "data"),
            "--listeners=PLAINTEXT://127.0.0.1:%d" % self.port,
            "--peer.listener=127.0.0.1:%d" % free_port(),
            "--http.listener=127.0.0.1:%d" % free_port(),
        ] + self.args
        log = open(self.log_path, "ab")
        # A restart appends to the same log: only what this process writes says it is ready.
        self.log_start = log.tell()
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sluice-server exited with %d:\n%s" % (self.proc.returncode, self.log()))
            if b'msg="ready"' in self.log_bytes_since(self.log_start):
                return self
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError("sluice-server not ready after %ds:\n%s" % (READY_TIMEOUT_S, self.log()))

    def log_bytes_since(self, offset):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read()
        except OSError:
            return b""

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """SIGTERM and wait; returns the exit code (SIGKILL after STOP_TIMEOUT_S)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT_S)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self):
        self.kill9()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            # __exit__ is not called when __enter__ raises: clean up here.
            self.cleanup()
            raise

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            if exc[0] is not None:
                # Keep the evidence in the test's output.
                print("---- server log ----\n" + self.log()[-20000:])
            self.cleanup()
        return False


class Checks:
    """Counts named checks and prints a closing line; exit status says if all passed."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok - %s" % name, flush=True)
        else:
            self.failed += 1
            print("not ok - %s %s" % (name, detail), flush=True)

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 0 if self.failed == 0 and self.passed > 0 else 1


# ---- helpers for runners that relay a client program's checks (kafkajs, Java) ----

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")


def run_client(cmd, timeout, env=None):
    """Runs the client, relays its stdout and returns (passed, failed) from its closing line;
    a time-out, an exit status that its line does not explain or a missing line add a failure."""
    try:
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, timeout=timeout)
        out, status = r.stdout, r.returncode
    except subprocess.TimeoutExpired as e:
        out, status = e.output or b"", None
    lines = out.decode(errors="replace").rstrip("\n").split("\n")
    passed = failed = 0
    m = SUMMARY.match(lines[-1].strip()) if lines else None
    if m:
        lines.pop()  # printed again, with the runner's own failures, as the last line
        passed, failed = int(m.group(1)), int(m.group(2))
    print("\n".join(lines), flush=True)
    if status is None:
        print("not ok - the client (%s) still running after %ds (killed)" % (cmd[0], timeout))
        failed += 1
    elif m is None:
        print("not ok - the client printed no closing 'N passed, N failed' line (exit status %d)" % status)
        failed += 1
    elif status != 0 and failed == 0:
        print("not ok - the client exited with status %d" % status)
        failed += 1
    return passed, failed


def fail(msg):
    """A setup failure: reported as one failed check, and the runner exits."""
    print("not ok - %s" % msg, flush=True)
    print("0 passed, 1 failed", flush=True)
    sys.exit(1)


def prune(root, prefix, keep):
    """Removes cached builds of other versions of the inputs (best effort); only those unused
    for an hour, since another checkout's test may be running from one."""
    for name in os.listdir(root):
        path = os.path.join(root, name)
        try:
            old = time.time() - os.path.getmtime(path) > 3600
        except OSError:
            continue
        if name.startswith(prefix) and path != keep and "-tmp-" not in name and old:
            shutil.rmtree(path, ignore_errors=True)


def cache_root():
    root = os.environ.get("SLUICE_COMPAT_CACHE")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "sluice", "compat")
    return root




# ---- the log as stored: RecordBatches, control batches and offset gaps ----
#
# Every partition is a Raft group (docs/replication.md): Raft's own entries sit in the log as
# control batches (Attributes bit 5) that clients skip, so a partition's first message is not at
# offset 0 and a consumer sees a gap of one offset at each. These helpers read the batches
# themselves, from a raw Fetch or from the segment files, so a test can check that every gap in
# what a client read is such a batch rather than assume contiguous offsets.

BATCH_HEADER_BYTES = 61  # RecordBatch v2 up to and including RecordsCount
ATTR_CONTROL = 0x20      # Attributes bit 5: a control batch
ATTR_CODEC_MASK = 0x07   # Attributes bits 0-2: the compression codec
CONTROL_ABORT, CONTROL_COMMIT = 0, 1              # Kafka's control record types
CONTROL_RAFT_BARRIER, CONTROL_RAFT_CHANGE = 0x5301, 0x5302  # Sluice's Raft entries


class Batch:
    """One RecordBatch v2: the header fields (Kafka protocol names, snake_case) and its bytes.
    control_type is the type in a control batch's first record key (None if it is not a control
    batch or the key cannot be read, e.g. a compressed one)."""

    def __init__(self, raw):
        self.raw = raw
        (self.base_offset, self.batch_length, self.partition_leader_epoch, self.magic, self.crc,
         self.attributes, self.last_offset_delta, self.base_timestamp, self.max_timestamp,
         self.producer_id, self.producer_epoch, self.base_sequence,
         self.records_count) = struct.unpack_from(">qiibIhiqqqhii", raw, 0)
        self.control_type = self._control_type() if self.is_control else None

    @property
    def last_offset(self):
        return self.base_offset + self.last_offset_delta

    @property
    def is_control(self):
        return bool(self.attributes & ATTR_CONTROL)

    @property
    def codec(self):
        return self.attributes & ATTR_CODEC_MASK

    def _control_type(self):
        if self.codec != 0 or self.records_count < 1:
            return None
        try:
            p = BATCH_HEADER_BYTES
            _length, p = _varint(self.raw, p)
            p += 1  # Attributes
            _ts_delta, p = _varint(self.raw, p)
            _off_delta, p = _varint(self.raw, p)
            klen, p = _varint(self.raw, p)
            if klen < 4:
                return None
            _version, ctype = struct.unpack_from(">hh", self.raw, p)
            return ctype
        except (IndexError, struct.error):
            return None

    def __repr__(self):
        return "Batch(%d..%d%s, epoch %d, %d records)" % (
            self.base_offset, self.last_offset,
            " control 0x%x" % (self.control_type or 0) if self.is_control else "",
            self.partition_leader_epoch, self.records_count)


def _varint(buf, p):
    """A zigzag varint at buf[p]: (value, position after it)."""
    shift = v = 0
    while True:
        b = buf[p]
        p += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return (v >> 1) ^ -(v & 1), p


def parse_batches(data, strict=False):
    """The whole RecordBatches at the start of `data` (a Fetch response's Records, or segment
    files concatenated). A partial batch at the end (Fetch may cut one; a segment may be being
    written) is left out, unless strict, where it raises ValueError, as does a non-v2 batch."""
    out, pos = [], 0
    while pos + BATCH_HEADER_BYTES <= len(data):
        length, = struct.unpack_from(">i", data, pos + 8)
        if data[pos + 16] != 2 or length < BATCH_HEADER_BYTES - 12:
            raise ValueError("no RecordBatch v2 at byte %d (magic %d, length %d)"
                             % (pos, data[pos + 16], length))
        if pos + 12 + length > len(data):
            break
        out.append(Batch(bytes(data[pos:pos + 12 + length])))
        pos += 12 + length
    if strict and pos != len(data):
        raise ValueError("%d bytes after the last whole batch" % (len(data) - pos))
    return out


def segment_batches(log_dir, topic, partition):
    """Every batch in `<log_dir>/<topic>-<partition>/*.log`, in file (offset) order."""
    pdir = os.path.join(log_dir, "%s-%d" % (topic, partition))
    data = b""
    for name in sorted(f for f in os.listdir(pdir) if f.endswith(".log")):
        with open(os.path.join(pdir, name), "rb") as f:
            data += f.read()
    return parse_batches(data)


def _kstr(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def _kafka_call(bootstrap, api_key, version, body, timeout_s=10):
    """One request (header v1, a non-flexible version) on a new connection; the response body
    after the correlation id."""
    host, port = bootstrap.rsplit(":", 1)
    msg = struct.pack(">hhi", api_key, version, 4242) + _kstr("sluicetest") + body
    with socket.create_connection((host, int(port)), timeout=timeout_s) as sock:
        sock.sendall(struct.pack(">i", len(msg)) + msg)
        head = _recv_exact(sock, 4)
        data = _recv_exact(sock, struct.unpack(">i", head)[0])
    if struct.unpack_from(">i", data)[0] != 4242:
        raise IOError("wrong correlation id in the answer to API %d" % api_key)
    return data[4:]


def _recv_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise IOError("connection closed after %d of %d bytes" % (len(out), n))
        out += chunk
    return out


def list_offset(bootstrap, topic, partition, timestamp=-1):
    """ListOffsets v1 for one partition: -1 the high watermark (log end as clients see it), -2 the
    log start, else the first offset with a timestamp >= it. Raises IOError on an error code."""
    body = (struct.pack(">i", -1) + struct.pack(">i", 1) + _kstr(topic) + struct.pack(">i", 1)
            + struct.pack(">iq", partition, timestamp))
    d = _kafka_call(bootstrap, 2, 1, body)
    p = 4  # topics array count
    n, = struct.unpack_from(">h", d, p)
    p += 2 + n + 4  # name, partitions count
    _idx, err, _ts, offset = struct.unpack_from(">ihqq", d, p)
    if err != 0:
        e = IOError("ListOffsets %s-%d: error %d" % (topic, partition, err))
        e.kafka_error = err
        raise e
    return offset


def fetch_raw(bootstrap, topic, partition, offset, max_bytes=1 << 20):
    """One Fetch v4 (read_uncommitted): (error code, high watermark, Records bytes)."""
    body = (struct.pack(">iiiib", -1, 100, 1, max_bytes, 0) + struct.pack(">i", 1) + _kstr(topic)
            + struct.pack(">i", 1) + struct.pack(">iqi", partition, offset, max_bytes))
    d = _kafka_call(bootstrap, 1, 4, body)
    p = 4 + 4  # ThrottleTimeMs, topics count
    n, = struct.unpack_from(">h", d, p)
    p += 2 + n + 4
    _idx, err, hwm, _lso, naborted = struct.unpack_from(">ihqqi", d, p)
    p += 4 + 2 + 8 + 8 + 4 + max(naborted, 0) * 16
    size, = struct.unpack_from(">i", d, p)
    return err, hwm, d[p + 4:p + 4 + max(size, 0)]


def fetch_batches(bootstrap, topic, partition, start=0, end=None):
    """Every batch of the partition from `start` to `end` (default: the high watermark),
    read with raw Fetches, control batches included: (high watermark, [Batch])."""
    out = []
    at, hwm = start, None
    while True:
        err, hwm, recs = fetch_raw(bootstrap, topic, partition, at)
        if err != 0:
            raise IOError("Fetch %s-%d at %d: error %d" % (topic, partition, at, err))
        stop = hwm if end is None else min(end, hwm)
        if at >= stop:
            return hwm, served_as_stored(bootstrap, topic, partition, out)
        got = [b for b in parse_batches(recs) if b.last_offset >= at]
        if not got:
            raise IOError("Fetch %s-%d at %d (high watermark %d) returned no whole batch"
                          % (topic, partition, at, hwm))
        out.extend(b for b in got if b.base_offset < stop)
        at = got[-1].last_offset + 1


def served_as_stored(bootstrap, topic, partition, served):
    """Fetch serves each Raft control batch as an empty batch over the same offsets (some old
    clients would hand control records to the application). Maps such empty batches back to
    the control batches stored in the segment files of the Server started on `bootstrap`, and
    checks that every empty batch served is one of those or an empty (compacted) stored batch:
    raises IOError otherwise."""
    empties = [b for b in served if b.records_count == 0 and not b.is_control]
    if not empties:
        return served
    log_dir = _LOG_DIRS.get(bootstrap)
    if log_dir is None:
        raise IOError("no data dir known for %s to resolve empty batches" % bootstrap)
    stored = {b.base_offset: b for b in segment_batches(log_dir, topic, partition)}
    out = []
    for b in served:
        if b.records_count == 0 and not b.is_control:
            s = stored.get(b.base_offset)
            # An empty batch is either a Raft entry (stored as a control batch) or what
            # compaction left of a data batch (stored empty too).
            if s is not None and s.is_control and s.last_offset == b.last_offset:
                out.append(s)
            elif s is not None and s.records_count == 0 and s.last_offset == b.last_offset:
                out.append(b)
            else:
                raise IOError("Fetch served an empty batch at %d that the log does not hold "
                              "empty" % b.base_offset)
        else:
            out.append(b)
    return out


def offset_problems(offsets, batches, start=None, end=None):
    """Checks what a client read against the log: `offsets` (in the order read) must increase
    strictly; within [start, end) (default: the span of `batches`) every offset the client did not
    get must lie in a control batch, and none that it got may. Returns a list of problems (empty
    when all hold), at most 10, each a short string."""
    problems = []
    for a, b in zip(offsets, offsets[1:]):
        if b <= a:
            problems.append("offset %d read after %d" % (b, a))
            break
    control = set()
    for b in batches:
        if b.is_control:
            control.update(range(b.base_offset, b.last_offset + 1))
    if start is None:
        start = batches[0].base_offset if batches else 0
    if end is None:
        end = batches[-1].last_offset + 1 if batches else start
    got = set(offsets)
    for o in range(start, end):
        if o in got and o in control:
            problems.append("offset %d was read but is a control batch" % o)
        elif o not in got and o not in control:
            problems.append("offset %d is neither read nor a control batch" % o)
        if len(problems) >= 10:
            break
    return problems


def data_offsets(batches):
    """The offsets of the records a client sees: every offset of every non-control batch (for
    logs that compaction has not thinned)."""
    return [o for b in batches if not b.is_control for o in range(b.base_offset, b.last_offset + 1)]


def control_offsets(batches):
    return [o for b in batches if b.is_control for o in range(b.base_offset, b.last_offset + 1)]


# Retriable errors a partition answers while its replica is still opening or electing itself
# leader after a start: NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION.
OPENING_ERRORS = (6, 5, 3)


def wait_partitions(bootstrap, topic, partitions, timeout_s=READY_TIMEOUT_S):
    """Waits until ListOffsets answers every partition of `partitions` without error: "ready"
    comes once the node is registered and __consumer_offsets exists, and each replica then opens
    and elects itself on its own (docs/replication.md). Returns the seconds waited; raises
    IOError with the last error after timeout_s, or at once on an error that is not one of
    OPENING_ERRORS."""
    t0 = time.monotonic()
    for p in partitions:
        while True:
            try:
                list_offset(bootstrap, topic, p)
                break
            except IOError as e:
                code = getattr(e, "kafka_error", None)
                if code not in OPENING_ERRORS or time.monotonic() - t0 > timeout_s:
                    raise
                time.sleep(0.02)
    return time.monotonic() - t0
