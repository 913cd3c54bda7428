"""Consumer groups with real clients: members in separate processes share a topic, one of them
dies (SIGKILL) or leaves cleanly, and its partitions move to the others.

    groups_members_test.py --client=ck|kp|kcat|kafkajs|java [--consumers N] [--partitions P]
                           [--messages M] [--end=kill|leave] [--session-ms MS] [--rate R]

ck: confluent-kafka, kp: kafka-python (from the running interpreter: /usr/bin/python3 has
Debian's, tests/compat/pyvenv.py's has the newest); kcat: `kcat -G`; kafkajs: kafkajs/groups.js
(kafkajs/run.py installs kafkajs); java: GroupsCompat in the java/ Maven project (java/run.py
builds it) with group.protocol=classic. Each member is a separate process (groups_common.py).

Steps: a topic of P partitions; 60% of the M messages produced; N members started together;
wait until the group is balanced (disjoint assignments covering every partition) and a quarter of
the messages are processed; the last member is SIGKILLed (--end=kill) or SIGTERMed to close and
leave (--end=leave); the other 40% produced; wait until all M are processed.
Checks: balanced assignment with N members; for kill, the victim's partitions move to the
survivors only after the session timeout (no earlier than session - heartbeat interval - 0.5 s,
no later than session + 20 s); for leave, within 10 s; each partition owned by one member at a
time; members process only what they own; all M messages processed; duplicates only from the
uncommitted window (records the victim processed but had not committed) and bounded by it; the
members that were not killed left no uncommitted window; `sluice groups describe` shows the
survivors Stable with all partitions, then Empty after they close; `sluice groups lag` is 0.
"""

import argparse
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import groups_common as gc  # noqa: E402
from groups_common import sluicetest  # noqa: E402

HERE = gc.HERE
BUDGET_S = 200


def worker_factory(client):
    """Returns (make_cmd(args list) -> argv, env, version text); does client setup first."""
    env = dict(os.environ)
    if client in ("ck", "kp", "kcat"):
        script = os.path.join(HERE, "groups_worker.py")
        py = sys.executable if client != "kcat" else "/usr/bin/python3"
        if client == "ck":
            import confluent_kafka
            ver = "confluent-kafka %s (librdkafka %s) under %s" % (
                confluent_kafka.version()[0], confluent_kafka.libversion()[0], sys.executable)
        elif client == "kp":
            import kafka
            ver = "kafka-python %s under %s" % (kafka.__version__, sys.executable)
        else:
            ver = "kcat (librdkafka from Debian)"
        return (lambda args: [py, script, "--client=" + client] + args), env, ver
    if client == "kafkajs":
        run = gc.load_run_module(os.path.join(HERE, "kafkajs", "run.py"), "kafkajs_run")
        modules = run.install_kafkajs()
        env.update(NODE_PATH=modules, KAFKAJS_NO_PARTITIONER_WARNING="1")
        script = os.path.join(HERE, "kafkajs", "groups.js")
        return (lambda args: ["node", script] + args), env, "kafkajs from " + modules
    if client == "java":
        run = gc.load_run_module(os.path.join(HERE, "java", "run.py"), "java_run")
        cp = run.build()
        return (lambda args: ["java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", cp,
                              "sluice.compat.GroupsCompat"] + args), env, "kafka-clients (java/pom.xml)"
    raise SystemExit("unknown client " + client)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True)
    ap.add_argument("--consumers", type=int, default=3)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--end", choices=["kill", "leave"], default="kill")
    ap.add_argument("--session-ms", type=int, default=6000)
    ap.add_argument("--rate", type=int, default=150)
    a = ap.parse_args()
    checks = sluicetest.Checks()
    t0 = time.monotonic()
    label = a.client
    try:
        make_cmd, env, ver = worker_factory(a.client)
        print("# %s; setup %.1fs" % (ver, time.monotonic() - t0), flush=True)
        with sluicetest.Server(args=["--group.initial.rebalance.delay.ms=1500"]) as s, \
                gc.Workers() as ws:
            run(a, s, ws, make_cmd, env, checks, label)
            checks.check("%s: server still running" % label, s.alive())
            if checks.failed:
                print("---- server log (tail) ----\n" + s.log()[-6000:])
                for w in ws.all:
                    print("---- worker %s log (tail) ----\n%s" % (w.name, w.log()[-3000:]))
    except Exception as e:  # noqa: BLE001
        checks.check("%s: no exception" % label, False,
                     "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()))
    print("# total %.1fs" % (time.monotonic() - t0), flush=True)
    return checks.finish()


def run(a, s, ws, make_cmd, env, checks, label):
    bs = s.bootstrap
    topic, group = "grp-topic", "grp-" + a.client
    gc.create_topic(bs, topic, a.partitions)
    first = int(a.messages * 0.6)
    gc.produce(bs, topic, 0, first, a.partitions)
    workers = []
    for i in range(a.consumers):
        name = "%s-%d" % (a.client, i)
        ev = os.path.join(s.data_dir, name + ".events")
        cmd = make_cmd([bs, group, topic, name, ev, str(a.session_ms), str(a.rate), "-"])
        workers.append(ws.add(gc.Worker(name, cmd, ev, env=env)))
    t_start = time.time()

    def ready():
        snap = gc.snapshot(workers)
        return gc.balanced(snap, a.partitions) and \
            len(gc.processed_ids(workers)) >= a.messages // 4 and snap
    snap = gc.wait_until(ready, 60, 0.2)
    checks.check("%s: %d members balanced over %d partitions while consuming (%.1fs)" % (
        label, a.consumers, a.partitions, time.time() - t_start), bool(snap),
        "assignments %s, %d processed, alive %s" % (
            gc.snapshot(workers), len(gc.processed_ids(workers)), [w.alive() for w in workers]))
    if not snap:
        return
    victim, survivors = workers[-1], workers[:-1]
    lost = set(snap[victim.name])
    if a.end == "kill":
        victim.kill9()
    else:
        code = victim.stop()
        checks.check("%s: the leaving member closed cleanly" % label,
                     code == 0 and any(e["ev"] == "closed" for e in victim.events()),
                     "exit %s" % code)
    t_stop = victim.stop_time
    print("# %s: %s %s at +%.1fs owning %s, %d processed so far" % (
        label, "killed" if a.end == "kill" else "stopped", victim.name, t_stop - t_start,
        sorted(lost), len(gc.processed_ids(workers))), flush=True)
    gc.produce(bs, topic, first, a.messages - first, a.partitions)

    def done():
        snap = gc.snapshot(survivors)
        return gc.balanced(snap, a.partitions) and \
            len(gc.processed_ids(workers)) >= a.messages
    ok = gc.wait_until(done, max(30, BUDGET_S - (time.time() - t_start) - 40), 0.2)
    checks.check("%s: the survivors took every partition and finished (%.1fs after the %s)" % (
        label, time.time() - t_stop, a.end), bool(ok),
        "assignments %s, %d of %d processed" % (
            gc.snapshot(survivors), len(gc.processed_ids(workers)), a.messages))
    time.sleep(1.5)  # let late duplicates show

    moved = gc.first_owner_time(survivors, lost, t_stop)
    if moved and len(moved) == len(lost):
        first_t, last_t = min(moved.values()) - t_stop, max(moved.values()) - t_stop
        sess = a.session_ms / 1000.0
        if a.end == "kill":
            checks.check("%s: the killed member's partitions %s moved after the session timeout "
                         "(%.1f-%.1fs after SIGKILL, session %.0fs)" % (
                             label, sorted(lost), first_t, last_t, sess),
                         first_t >= sess - 1.5 and last_t <= sess + 20)
        else:
            checks.check("%s: the leaving member's partitions %s moved promptly (%.1f-%.1fs "
                         "after it left)" % (label, sorted(lost), first_t, last_t),
                         last_t <= 10)
    else:
        checks.check("%s: the partitions %s moved to the survivors" % (label, sorted(lost)),
                     False, "moved %s" % moved)

    d, err = gc.cli_json(bs, "groups", "describe", group)
    parts = []
    if d:
        for m in d.get("members", []):
            for t in m.get("assignment") or []:
                parts += t["partitions"]
    checks.check("%s: sluice groups describe: Stable, %d members, all partitions assigned" % (
        label, len(survivors)),
        d is not None and d["state"] == "Stable" and len(d["members"]) == len(survivors)
        and sorted(parts) == list(range(a.partitions)), "%s %s" % (d, err))

    for w in survivors:
        code = w.stop()
        checks.check("%s: %s closed cleanly" % (label, w.name),
                     code == 0 and any(e["ev"] == "closed" for e in w.events()), "exit %s" % code)
    t_end = time.time()
    views = gc.analyze(checks, label, workers, a.messages, commits_visible=a.client != "kcat")
    del views
    d, err = gc.cli_json(bs, "groups", "describe", group)
    checks.check("%s: the group is Empty after every member left" % label,
                 d is not None and d["state"] == "Empty" and not d["members"], "%s %s" % (d, err))
    lag, err = gc.cli_json(bs, "groups", "lag", group)
    checks.check("%s: sluice groups lag: every partition committed at the end, total lag 0" % label,
                 lag is not None and lag.get("total_lag") == 0
                 and sorted(p["partition"] for p in lag["partitions"]) == list(range(a.partitions)),
                 "%s %s" % (lag, err))
    print("# %s: consumers ran %.1fs" % (label, t_end - t_start), flush=True)


if __name__ == "__main__":
    sys.exit(main())
