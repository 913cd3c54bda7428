"""Static membership (KIP-345) with librdkafka (confluent-kafka of the running interpreter):
group.instance.id members in separate processes (groups_worker.py --client=ck).

Two static members A ("static-a") and B ("static-b"), session timeout 10 s, on a 4-partition
topic, consuming a paced stream. A is SIGKILLed and restarted with the same instance id 2 s
later, well within the session timeout. Checks: A's new incarnation gets exactly A's old
partitions back, promptly (no session-timeout wait); B sees no rebalance at all (no revoke or
assign callback after its first assignment); `sluice groups describe` shows the same two members,
B with its old member id and A with a new one, and the same assignment; nothing is lost and
duplicates come only from A's uncommitted window. Then A is SIGKILLed for good: its static member
expires after the session timeout and B gets every partition.
"""

import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import groups_common as gc  # noqa: E402
from groups_common import sluicetest  # noqa: E402

PARTITIONS = 4
TOPIC = "static-topic"
GROUP = "static-group"
SESSION_MS = 10000
RATE = 100
MESSAGES = 4000


def describe(bs):
    d, err = gc.cli_json(bs, "groups", "describe", GROUP)
    if d is None:
        return None, err
    members = {}
    for m in d["members"]:
        parts = []
        for t in m.get("assignment") or []:
            parts += t["partitions"]
        # client ids are the worker names: static-a, static-a-2 (A restarted), static-b
        key = "static-a" if m["client_id"].startswith("static-a") else m["client_id"]
        members[key] = (m["member_id"], sorted(parts))
    return (d["state"], members), err


def main():
    checks = sluicetest.Checks()
    t0 = time.monotonic()
    try:
        import confluent_kafka
        print("# confluent-kafka %s (librdkafka %s) under %s" % (
            confluent_kafka.version()[0], confluent_kafka.libversion()[0], sys.executable))
        with sluicetest.Server(args=["--group.initial.rebalance.delay.ms=1500"]) as s, \
                gc.Workers() as ws:
            run(s, ws, checks)
            checks.check("the server is still running", s.alive())
            if checks.failed:
                print("---- server log (tail) ----\n" + s.log()[-6000:])
                for w in ws.all:
                    print("---- worker %s log (tail) ----\n%s" % (w.name, w.log()[-2000:]))
    except Exception as e:  # noqa: BLE001
        checks.check("no exception", False, "%s: %s\n%s" % (type(e).__name__, e,
                                                            traceback.format_exc()))
    print("# total %.1fs" % (time.monotonic() - t0), flush=True)
    return checks.finish()


def run(s, ws, checks):
    bs = s.bootstrap
    gc.create_topic(bs, TOPIC, PARTITIONS)
    gc.produce(bs, TOPIC, 0, MESSAGES, PARTITIONS)

    def worker(name, instance):
        ev = os.path.join(s.data_dir, name + ".events")
        cmd = [sys.executable, os.path.join(gc.HERE, "groups_worker.py"), "--client=ck", bs,
               GROUP, TOPIC, name, ev, str(SESSION_MS), str(RATE), instance]
        return ws.add(gc.Worker(name, cmd, ev))

    a1, b = worker("static-a", "static-a"), worker("static-b", "static-b")
    snap = gc.wait_until(lambda: gc.balanced(gc.snapshot([a1, b]), PARTITIONS)
                         and gc.snapshot([a1, b]), 40, 0.2)
    checks.check("two static members balanced", bool(snap), str(gc.snapshot([a1, b])))
    if not snap:
        return
    time.sleep(2.0)  # settle; B's callbacks from here on must stay silent
    before, err = describe(bs)
    checks.check("describe: Stable with static-a and static-b",
                 before is not None and before[0] == "Stable"
                 and set(before[1]) == {"static-a", "static-b"}, "%s %s" % (before, err))
    b_events = len(b.events())
    a_parts = sorted(gc.snapshot([a1])["static-a"])

    a1.kill9()
    t_kill = a1.stop_time
    time.sleep(2.0)
    a2 = worker("static-a-2", "static-a")
    t_restart = time.time()
    got = gc.wait_until(lambda: gc.current_assignment(a2.events()), 20, 0.1)
    t_got = time.time()
    checks.check("the restarted static member got its old partitions %s back (%.1fs after the "
                 "restart, %.1fs after the kill, session %ds)" % (
                     a_parts, t_got - t_restart, t_got - t_kill, SESSION_MS // 1000),
                 got and sorted(got) == a_parts and t_got - t_kill < SESSION_MS / 1000.0,
                 "got %s" % (sorted(got) if got else got))
    time.sleep(3.0)
    b_new = [e for e in b.events()[b_events:] if e["ev"] in ("assign", "revoke")]
    checks.check("the other member saw no rebalance (no revoke/assign callbacks)", not b_new,
                 str(b_new))
    after, err = describe(bs)
    ok = (before is not None and after is not None and after[0] == "Stable"
          and set(after[1]) == {"static-a", "static-b"}
          and after[1]["static-b"] == before[1]["static-b"]
          and after[1]["static-a"][1] == before[1]["static-a"][1]
          and after[1]["static-a"][0] != before[1]["static-a"][0])
    checks.check("describe: same members and assignment, static-b's member id unchanged, "
                 "static-a's replaced", ok, "before %s after %s %s" % (before, after, err))

    ids = gc.wait_until(lambda: len(gc.processed_ids([a1, a2, b])) >= MESSAGES, 60, 0.2)
    checks.check("all %d messages processed" % MESSAGES, bool(ids),
                 "%d processed" % len(gc.processed_ids([a1, a2, b])))
    # A for good: the static member expires after the session timeout
    a2.kill9()
    t_kill2 = a2.stop_time
    gc.produce(bs, TOPIC, MESSAGES, 400, PARTITIONS)
    full = gc.wait_until(lambda: gc.current_assignment(b.events()) == set(range(PARTITIONS)),
                         SESSION_MS / 1000.0 + 25, 0.2)
    dt = time.time() - t_kill2
    checks.check("a static member that does not come back expires after the session timeout: "
                 "the other gets every partition (%.1fs after the kill)" % dt,
                 bool(full) and SESSION_MS / 1000.0 - 1.5 <= dt, "B owns %s" % sorted(
                     gc.current_assignment(b.events())))
    gc.wait_until(lambda: len(gc.processed_ids([a1, a2, b])) >= MESSAGES + 400, 30, 0.2)
    code = b.stop()
    checks.check("static-b closed cleanly", code == 0, "exit %s" % code)
    gc.analyze(checks, "static", [a1, a2, b], MESSAGES + 400)


if __name__ == "__main__":
    sys.exit(main())
