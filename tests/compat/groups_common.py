"""groups_common: shared code of the consumer-group compatibility tests (tests/compat/groups_*).

A test drives consumer *worker* processes (one consumer each, any client: groups_worker.py for
confluent-kafka / kafka-python / kcat, kafkajs/groups.js, java GroupsCompat) that all append
one JSON object per line to their own events file, each with "t" = time.time() (one clock for
all processes on this machine), written with one write(2) per line so a SIGKILL loses nothing
already reported:

  {"ev":"start"}                              the consumer is created and subscribed
  {"ev":"assign","parts":[...]}               the member now owns exactly these partitions
                                              (kafkajs: its whole new assignment)
  {"ev":"revoke","parts":[...]}               the member gave these up
  {"ev":"proc","p":P,"recs":[[off,id],...]}   processed these records (before committing)
  {"ev":"commit","offs":{"P":next,...}}       a synchronous commit of these offsets succeeded
  {"ev":"commit_error","err":"..."}           a commit failed
  {"ev":"error","err":"..."}                  any other client error
  {"ev":"closed"}                             the consumer closed cleanly (left the group)

Worker command line (all clients): BOOTSTRAP GROUP TOPIC NAME EVENTS SESSION_MS RATE INSTANCE_ID
(RATE = at most that many records per second, 0 = unthrottled; INSTANCE_ID "-" = dynamic member).
SIGTERM asks a worker to close cleanly; every worker also ends itself after WORKER_MAX_S.

The analysis (analyze()) checks ownership (no two members own a partition at once beyond a
small handover tolerance, members process only what they own), completeness (every produced id
processed) and duplicates (each re-processed record lies in some member's "uncommitted window":
processed, then ownership lost before a commit covered it).

Standard library plus confluent-kafka for producing (Debian's and the venv's both have it).
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import sluicetest  # noqa: E402,F401  (re-exported for the tests)

OP_TIMEOUT_S = 20
WORKER_MAX_S = 220
HANDOVER_TOLERANCE_S = 0.25
STOP_WAIT_S = 30


def cli_binary():
    path = os.environ.get("SLUICE_CLI")
    if path:
        return path
    return os.path.join(os.path.dirname(sluicetest.server_binary()), "..", "cli", "sluice")


def cli(bootstrap, *args, timeout=30):
    """Runs the sluice CLI; returns (returncode, stdout, stderr)."""
    cmd = [cli_binary()] + list(args) + ["--bootstrap", bootstrap, "--timeout-ms", "10000"]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, "", "timed out after %ds: %s" % (timeout, " ".join(cmd))
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def cli_json(bootstrap, *args):
    rc, out, err = cli(bootstrap, *(list(args) + ["--json"]))
    if rc != 0:
        return None, "rc %d: %s%s" % (rc, out, err)
    try:
        return json.loads(out), ""
    except ValueError as e:
        return None, "bad JSON (%s): %s" % (e, out)


def create_topic(bootstrap, topic, partitions):
    rc, out, err = cli(bootstrap, "topics", "create", topic, "--partitions", str(partitions))
    if rc != 0:
        raise RuntimeError("topics create %s: rc %d %s %s" % (topic, rc, out, err))


def produce(bootstrap, topic, first_id, n, partitions):
    """Produces values str(id) for id in [first_id, first_id+n), id to partition id % partitions,
    acks=all; raises unless every message is acknowledged. Returns {id: (partition, offset)} as
    the delivery reports gave them."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                  "message.timeout.ms": 30000})
    failures = []
    acked = {}

    def dr(err, msg):
        if err is not None:
            failures.append(str(err))
        else:
            acked[int(msg.value())] = (msg.partition(), msg.offset())
    for i in range(first_id, first_id + n):
        while True:
            try:
                p.produce(topic, value=str(i).encode(), partition=i % partitions, on_delivery=dr)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(OP_TIMEOUT_S + 20)
    if left or failures:
        raise RuntimeError("produce: %d undelivered, failures %s" % (left, failures[:5]))
    return acked


def load_run_module(path, name):
    """Imports another runner (kafkajs/run.py, java/run.py) to reuse its setup code."""
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def wait_until(pred, timeout_s, step_s=0.1):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step_s)
    return pred()


# ---- events ------------------------------------------------------------------------------------

class EventLog:
    """The worker side: appends one JSON line per event with a single write(2)."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def emit(self, ev, **kw):
        kw["ev"] = ev
        kw["t"] = time.time()
        os.write(self.fd, (json.dumps(kw) + "\n").encode())


def read_events(path):
    out = []
    try:
        with open(path, "r", errors="replace") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append({"ev": "garbled", "t": 0, "line": line})
    except OSError:
        pass
    return out


def current_assignment(events):
    """The partitions a member owns after these events."""
    cur = set()
    for e in events:
        if e["ev"] == "assign":
            cur = set(e["parts"])
        elif e["ev"] == "revoke":
            cur -= set(e["parts"])
    return cur


# ---- worker processes --------------------------------------------------------------------------

class Worker:
    def __init__(self, name, cmd, events_path, env=None, log_path=None):
        self.name = name
        self.cmd = cmd
        self.events_path = events_path
        self.log_path = log_path or events_path + ".log"
        self.env = env
        self.proc = None
        self.stop_time = None  # when it was SIGKILLed or asked to stop
        self.killed = False

    def start(self):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.env)
        finally:
            log.close()
        return self

    def events(self):
        return read_events(self.events_path)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.alive():
            self.stop_time = time.time()
            self.killed = True
            self.proc.kill()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                pass

    def stop(self, timeout=STOP_WAIT_S):
        """SIGTERM (a clean close), wait; SIGKILL if it does not end. Returns the exit code."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.stop_time = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_WAIT_S)
            return None

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class Workers:
    """Every worker started through it is stopped (SIGKILL by PID) on exit, whatever happened."""

    def __init__(self):
        self.all = []

    def add(self, w):
        self.all.append(w)
        return w.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for w in self.all:
            if w.alive():
                try:
                    w.proc.kill()
                    w.proc.wait(timeout=STOP_WAIT_S)
                except Exception:  # noqa: BLE001 - best effort on the way out
                    pass
        if exc[0] is not None:
            for w in self.all:
                print("---- worker %s log (tail) ----\n%s" % (w.name, w.log()[-4000:]))
        return False


# ---- analysis ----------------------------------------------------------------------------------

def member_view(w, end_time):
    """Ownership intervals, processed records and uncommitted windows of one member.

    Returns dict: intervals {p: [(start, end)]}, recs [(t, p, off, id)], outside [(t, p, off)]
    (records processed while not owning p), window set((p, off)) (processed, then ownership
    lost before a commit covered them), errors [...].
    """
    evs = w.events()
    stop = w.stop_time if (w.killed and w.stop_time) else None
    owned = {}  # p -> start
    intervals = {}
    pending = {}  # p -> set(off) processed, not yet covered by a commit
    window = set()
    recs, outside, errors = [], [], []

    def lose(p, t):
        intervals.setdefault(p, []).append((owned.pop(p), t))
        for off in pending.pop(p, ()):
            window.add((p, off))

    for e in evs:
        t = e.get("t", 0)
        if e["ev"] == "assign":
            new = set(e["parts"])
            for p in [p for p in owned if p not in new]:
                lose(p, t)
            for p in new:
                owned.setdefault(p, t)
        elif e["ev"] == "revoke":
            for p in e["parts"]:
                if p in owned:
                    lose(p, t)
        elif e["ev"] == "proc":
            p = e["p"]
            for off, ident in e["recs"]:
                recs.append((t, p, off, ident))
                if p not in owned:
                    outside.append((t, p, off))
                pending.setdefault(p, set()).add(off)
        elif e["ev"] == "commit":
            for ps, nxt in e["offs"].items():
                p = int(ps)
                s = pending.get(p)
                if s:
                    pending[p] = {o for o in s if o >= nxt}
        elif e["ev"] in ("error", "commit_error", "garbled"):
            errors.append(e)
    closed = [e.get("t", 0) for e in evs if e["ev"] == "closed"]
    if stop is not None:
        t_end = stop
    elif closed:
        t_end = closed[-1]  # kafka-python and kafkajs do not report a revoke on close
    else:
        t_end = w.stop_time or end_time
    for p in list(owned):
        lose(p, t_end)
    # whatever is still pending at the end (a killed member) is in its window too
    return {"intervals": intervals, "recs": recs, "outside": outside, "window": window,
            "errors": errors, "events": evs}


def analyze(checks, label, workers, n_ids, first_id=0, survivors_clean=True, end_time=None,
            commits_visible=True):
    """The ownership / completeness / duplicate checks over all workers. Returns the views."""
    end_time = end_time or time.time()
    views = {w.name: member_view(w, end_time) for w in workers}

    # 1. ownership: no two members own a partition at the same time
    worst = (0.0, None)
    per_p = {}
    for name, v in views.items():
        for p, ivs in v["intervals"].items():
            for s, e in ivs:
                per_p.setdefault(p, []).append((s, e, name))
    for p, ivs in per_p.items():
        for i in range(len(ivs)):
            for j in range(i + 1, len(ivs)):
                a, b = ivs[i], ivs[j]
                if a[2] == b[2]:
                    continue
                ov = min(a[1], b[1]) - max(a[0], b[0])
                if ov > worst[0]:
                    worst = (ov, "partition %d: %s %.3f-%.3f and %s %.3f-%.3f" % (
                        p, a[2], a[0], a[1], b[2], b[0], b[1]))
    checks.check("%s: each partition owned by one member at a time (largest overlap %.3fs, "
                 "tolerance %.2fs)" % (label, worst[0], HANDOVER_TOLERANCE_S),
                 worst[0] <= HANDOVER_TOLERANCE_S, str(worst[1]))
    outside = {n: v["outside"][:5] for n, v in views.items() if v["outside"]}
    checks.check("%s: members processed only partitions they owned" % label, not outside,
                 str(outside))

    # 2. completeness and consistency
    seen = {}
    by_key = {}
    dup_keys = []
    for name, v in views.items():
        for t, p, off, ident in v["recs"]:
            k = (p, off)
            if k in by_key:
                dup_keys.append((k, name))
                if by_key[k] != ident:
                    seen.setdefault("inconsistent", []).append(k)
            by_key[k] = ident
            seen[ident] = seen.get(ident, 0) + 1
    want = set(range(first_id, first_id + n_ids))
    got = {i for i in seen if isinstance(i, int)}
    missing = sorted(want - got)
    checks.check("%s: all %d messages processed (no loss)" % (label, n_ids), not missing,
                 "%d missing, e.g. %s" % (len(missing), missing[:10]))
    checks.check("%s: no unexpected or inconsistent records" % label,
                 not (got - want) and "inconsistent" not in seen,
                 "extra %s inconsistent %s" % (sorted(got - want)[:10], seen.get("inconsistent", [])[:5]))

    # 3. duplicates only from uncommitted windows
    windows = set()
    for v in views.values():
        windows |= v["window"]
    unexplained = [k for k, _ in dup_keys if k not in windows]
    wsize = sum(len(v["window"]) for v in views.values())
    print("# %s: %d duplicates; uncommitted windows: %s" % (
        label, len(dup_keys), {n: len(v["window"]) for n, v in views.items()}), flush=True)
    checks.check("%s: duplicates (%d) only from uncommitted windows (%d records) and bounded "
                 "by them" % (label, len(dup_keys), wsize),
                 not unexplained and len(dup_keys) <= wsize, "unexplained %s" % unexplained[:10])
    if not commits_visible:
        # kcat commits by itself (no commit events): with no member killed, every handover was
        # a clean one with a commit, so nothing may be processed twice
        if not any(w.killed for w in workers):
            checks.check("%s: no duplicates (every member left or rebalanced cleanly)" % label,
                         not dup_keys, str(dup_keys[:10]))
    elif survivors_clean:
        dirty = {w.name: len(views[w.name]["window"]) for w in workers
                 if not w.killed and views[w.name]["window"]}
        checks.check("%s: members that were not killed committed everything they processed "
                     "before giving partitions up" % label, not dirty, str(dirty))
    errs = {n: v["errors"][:3] for n, v in views.items() if v["errors"]}
    if errs:
        print("# %s: client errors reported: %s" % (label, errs), flush=True)
    return views


def snapshot(workers):
    """{name: current partitions} of live workers (from their events)."""
    return {w.name: current_assignment(w.events()) for w in workers}


def processed_ids(workers):
    ids = set()
    for w in workers:
        for e in w.events():
            if e["ev"] == "proc":
                ids.update(i for _, i in e["recs"])
    return ids


def balanced(assign, partitions):
    """True if the sets are disjoint, cover range(partitions), and are within one of each other."""
    sets = list(assign.values())
    if not sets or any(not s for s in sets):
        return False
    union = set()
    total = 0
    for s in sets:
        union |= s
        total += len(s)
    sizes = [len(s) for s in sets]
    return union == set(range(partitions)) and total == partitions and max(sizes) - min(sizes) <= 1


def first_owner_time(workers, partitions, after):
    """For each partition, the earliest assign time > after at which some worker got it."""
    out = {}
    for w in workers:
        for e in w.events():
            if e["ev"] == "assign" and e["t"] > after:
                for p in e["parts"]:
                    if p in partitions and (p not in out or e["t"] < out[p]):
                        out[p] = e["t"]
    return out
