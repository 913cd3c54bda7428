"""One consumer-group member for the groups_* tests (protocol: groups_common.py).

    groups_worker.py --client=ck|kp|kcat BOOTSTRAP GROUP TOPIC NAME EVENTS SESSION_MS RATE INSTANCE_ID

ck: confluent-kafka, kp: kafka-python (whichever the running interpreter has), kcat: a `kcat -G`
balanced consumer wrapped here (its stdout lines and rebalance messages on stderr are timestamped
on arrival; kcat commits by itself: auto-commit, and on rebalance and close). ck and kp commit
synchronously after processing each polled batch. SIGTERM: close cleanly. Ends itself after
groups_common.WORKER_MAX_S in any case.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import groups_common as gc  # noqa: E402

BATCH = 50
CHUNK = 10
HEARTBEAT_MS = 1000


def throttle(n, rate):
    if rate > 0 and n:
        time.sleep(n / float(rate))


def process(ev, recs, rate):
    """Processes records in chunks (reported, then paced by `rate`), so that a SIGKILL
    usually lands in the middle of a batch, with processed records not yet committed."""
    for p, r in sorted(recs.items()):
        for i in range(0, len(r), CHUNK):
            ev.emit("proc", p=p, recs=r[i:i + CHUNK])
            throttle(len(r[i:i + CHUNK]), rate)


def run_ck(a, ev, stop):
    from confluent_kafka import Consumer, KafkaException, TopicPartition
    conf = {"bootstrap.servers": a.bootstrap, "group.id": a.group, "client.id": a.name,
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "session.timeout.ms": a.session_ms, "heartbeat.interval.ms": HEARTBEAT_MS,
            "socket.timeout.ms": 10000}
    if a.instance_id != "-":
        conf["group.instance.id"] = a.instance_id
    if os.environ.get("SLUICE_GROUPS_DEBUG"):
        conf["debug"] = "cgrp,protocol"
    c = Consumer(conf)

    def on_assign(consumer, parts):
        ev.emit("assign", parts=sorted(p.partition for p in parts))

    def on_revoke(consumer, parts):
        ev.emit("revoke", parts=sorted(p.partition for p in parts))

    c.subscribe([a.topic], on_assign=on_assign, on_revoke=on_revoke)
    ev.emit("start")
    while not stop.is_set():
        msgs = c.consume(num_messages=BATCH, timeout=0.5)
        recs = {}
        for m in msgs:
            if m.error():
                ev.emit("error", err=str(m.error()))
                continue
            recs.setdefault(m.partition(), []).append([m.offset(), int(m.value())])
        if not recs:
            continue
        process(ev, recs, a.rate)
        offs = {p: r[-1][0] + 1 for p, r in recs.items()}
        try:
            c.commit(offsets=[TopicPartition(a.topic, p, o) for p, o in offs.items()],
                     asynchronous=False)
            ev.emit("commit", offs={str(p): o for p, o in offs.items()})
        except KafkaException as e:
            ev.emit("commit_error", err=str(e))
    c.close()
    ev.emit("closed")


def run_kp(a, ev, stop):
    from kafka import KafkaConsumer
    from kafka.consumer.subscription_state import ConsumerRebalanceListener

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            ev.emit("revoke", parts=sorted(tp.partition for tp in revoked))

        def on_partitions_assigned(self, assigned):
            ev.emit("assign", parts=sorted(tp.partition for tp in assigned))

    kw = dict(bootstrap_servers=a.bootstrap, group_id=a.group, client_id=a.name,
              enable_auto_commit=False, auto_offset_reset="earliest",
              session_timeout_ms=a.session_ms, heartbeat_interval_ms=HEARTBEAT_MS,
              request_timeout_ms=30000, max_poll_records=BATCH)
    if a.instance_id != "-":
        kw["group_instance_id"] = a.instance_id
    c = KafkaConsumer(**kw)
    c.subscribe([a.topic], listener=Listener())
    ev.emit("start")
    while not stop.is_set():
        try:
            batches = c.poll(timeout_ms=500)
        except Exception as e:  # noqa: BLE001 - report and go on, as an application would
            ev.emit("error", err="%s: %s" % (type(e).__name__, e))
            time.sleep(0.2)
            continue
        recs = {}
        for tp, ms in batches.items():
            for m in ms:
                recs.setdefault(tp.partition, []).append([m.offset, int(m.value)])
        if not recs:
            continue
        process(ev, recs, a.rate)
        offs = {p: r[-1][0] + 1 for p, r in recs.items()}
        try:
            c.commit()  # the consumed positions: exactly what was just processed
            ev.emit("commit", offs={str(p): o for p, o in offs.items()})
        except Exception as e:  # noqa: BLE001
            ev.emit("commit_error", err="%s: %s" % (type(e).__name__, e))
    c.close()
    ev.emit("closed")


KCAT_PART = re.compile(r"\[(\d+)\]")


def run_kcat(a, ev, stop):
    """kcat -G: stdout "P OFFSET VALUE" per message; stderr "% Group ... rebalanced ...
    assigned: t [0], t [1]" / "revoked: ..." lines."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)

    def die_with_parent():
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: never outlive this wrapper
    cmd = ["kcat", "-b", a.bootstrap, "-G", a.group, a.topic, "-u",
           "-f", "%p %o %s\\n",
           "-X", "client.id=" + a.name,
           "-X", "session.timeout.ms=%d" % a.session_ms,
           "-X", "heartbeat.interval.ms=%d" % HEARTBEAT_MS,
           "-X", "auto.offset.reset=earliest",
           "-X", "auto.commit.interval.ms=100"]
    if a.instance_id != "-":
        cmd += ["-X", "group.instance.id=" + a.instance_id]
    k = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
    ev.emit("start")

    def read_err():
        for raw in k.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            if "rebalanced" in line and "assigned:" in line:
                ev.emit("assign", parts=sorted(int(x) for x in KCAT_PART.findall(line)))
            elif "rebalanced" in line and "revoked:" in line:
                ev.emit("revoke", parts=sorted(int(x) for x in KCAT_PART.findall(line)))
            elif line.strip():
                ev.emit("stderr", line=line)

    te = threading.Thread(target=read_err, daemon=True)
    te.start()

    def read_out():
        for raw in k.stdout:
            parts = raw.decode(errors="replace").split()
            if len(parts) == 3:
                ev.emit("proc", p=int(parts[0]), recs=[[int(parts[1]), int(parts[2])]])
            else:
                ev.emit("error", err="kcat line %r" % raw)

    to = threading.Thread(target=read_out, daemon=True)
    to.start()
    while not stop.is_set() and k.poll() is None:
        time.sleep(0.1)
    if k.poll() is None:
        k.send_signal(signal.SIGTERM)  # kcat closes the consumer: final commit, LeaveGroup
        try:
            k.wait(timeout=gc.STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            k.kill()
            k.wait(timeout=gc.STOP_WAIT_S)
    to.join(5)
    te.join(5)
    if k.returncode == 0:
        ev.emit("closed")
    else:
        ev.emit("error", err="kcat exited with %s" % k.returncode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True, choices=["ck", "kp", "kcat"])
    for name in ("bootstrap", "group", "topic", "name", "events"):
        ap.add_argument(name)
    ap.add_argument("session_ms", type=int)
    ap.add_argument("rate", type=int)
    ap.add_argument("instance_id")
    a = ap.parse_args()
    ev = gc.EventLog(a.events)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # a watchdog: never outlive the test, whatever the driver does
    t = threading.Timer(gc.WORKER_MAX_S, lambda: os._exit(3))
    t.daemon = True
    t.start()
    {"ck": run_ck, "kp": run_kp, "kcat": run_kcat}[a.client](a, ev, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
