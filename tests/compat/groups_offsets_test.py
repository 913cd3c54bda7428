"""Committed offsets of a consumer group with confluent-kafka (the running interpreter's):
resuming, surviving a server crash, and resets with `sluice groups reset-offsets`.

Two members (separate processes, groups_worker.py --client=ck, commit after processing) on a
3-partition topic; each phase starts them, waits until they processed what the phase expects,
waits 2 s more for anything unexpected, and stops them cleanly.
  A. 1,000 messages: each processed exactly once; lag 0 afterwards.
  B. 500 more produced with no consumer running: the restarted members process exactly those 500
     (consumption resumes from the committed offsets, nothing committed is read again). While they
     run, a reset is refused (the group is not inactive).
  C. The server is SIGKILLed and restarted on the same data directory and port; the committed
     offsets are still there (OffsetFetch through confluent-kafka and `groups lag` before
     consuming show every partition committed right after its last message, and the only thing
     after it is the restarted leader's barrier, a control batch); 500 more produced; the members
     process exactly those 500.
  D. `reset-offsets --to-earliest --dry-run` changes nothing; `--to-earliest` moves every
     partition to 0, and the members replay all 2,000 exactly once.
  E. `reset-offsets --to-datetime T`, T (ISO-8601 with milliseconds) taken just before phase C's
     produce: the members replay exactly phase C's 500, from the first one's offset.
Every partition is a Raft group whose log also holds control batches (docs/replication.md), so
expected committed offsets come from the producer's delivery reports, not from message counts.
"""

import collections
import datetime
import os
import shutil
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import groups_common as gc  # noqa: E402
from groups_common import sluicetest  # noqa: E402

PARTITIONS = 3
TOPIC = "off-topic"
GROUP = "off-group"
SERVER_ARGS = ["--group.initial.rebalance.delay.ms=500"]


class Phases:
    def __init__(self, checks, ws, data_dir):
        self.c = checks
        self.ws = ws
        self.dir = data_dir
        self.n = 0
        self.bs = None

    def consume(self, label, expected, during=None):
        """Runs two members until `expected` ids are processed (+2 s); returns a Counter of the
        ids they processed. `during(workers)` runs while they are still up."""
        self.n += 1
        workers = []
        for i in range(2):
            name = "ph%d-%d" % (self.n, i)
            ev = os.path.join(self.dir, name + ".events")
            cmd = [sys.executable, os.path.join(gc.HERE, "groups_worker.py"), "--client=ck",
                   self.bs, GROUP, TOPIC, name, ev, "6000", "0", "-"]
            workers.append(self.ws.add(gc.Worker(name, cmd, ev)))
        t0 = time.time()
        ok = gc.wait_until(lambda: gc.processed_ids(workers) >= set(expected), 60, 0.2)
        time.sleep(2.0)
        if during:
            during(workers)
        codes = [w.stop() for w in workers]
        got = collections.Counter()
        for w in workers:
            for e in w.events():
                if e["ev"] == "proc":
                    got.update(i for _, i in e["recs"])
        self.c.check("%s: the members processed the expected %d messages (%.1fs)" % (
            label, len(expected), time.time() - t0), bool(ok),
            "missing %s" % sorted(set(expected) - set(got))[:10])
        self.c.check("%s: the members closed cleanly" % label, codes == [0, 0], str(codes))
        return got

    def exactly(self, label, got, expected):
        extra = sorted(i for i in got if i not in set(expected))
        dups = sorted(i for i, n in got.items() if n > 1)
        self.c.check("%s: exactly those, each once (no committed message read again)" % label,
                     set(got) == set(expected) and not dups,
                     "%d extra (e.g. %s), %d duplicated (e.g. %s)" % (
                         len(extra), extra[:10], len(dups), dups[:10]))

    def lag(self, label, want_committed):
        lag, err = gc.cli_json(self.bs, "groups", "lag", GROUP)
        committed = None
        if lag:
            committed = sorted((p["partition"], p["committed"]) for p in lag["partitions"])
        self.c.check("%s: groups lag shows the committed offsets %s" % (label, want_committed),
                     committed == want_committed, "%s %s" % (lag, err))


def per_partition(acked, n_ids):
    """Committed offsets per partition once ids 0..n_ids-1 (id % P) are all consumed: right after
    the last one's offset in each partition. acked: {id: (partition, offset)}."""
    return [(p, max(acked[i][1] for i in range(n_ids) if i % PARTITIONS == p) + 1)
            for p in range(PARTITIONS)]


def first_offsets(acked, first_id, n_ids):
    """[(partition, offset of the first of ids first_id.. in it)]."""
    return [(p, min(acked[i][1] for i in range(first_id, first_id + n_ids) if i % PARTITIONS == p))
            for p in range(PARTITIONS)]


def committed_by_client(bs):
    """[(partition, committed offset)] of GROUP, read with confluent-kafka's OffsetFetch."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bs, "group.id": GROUP, "enable.auto.commit": False})
    try:
        tps = c.committed([TopicPartition(TOPIC, p) for p in range(PARTITIONS)], timeout=20)
        return sorted((tp.partition, tp.offset) for tp in tps)
    finally:
        c.close()


def main():
    checks = sluicetest.Checks()
    t_start = time.monotonic()
    data_dir = tempfile.mkdtemp(prefix="sluice-groups-offsets-")
    port = sluicetest.free_port()
    server = None
    try:
        import confluent_kafka
        print("# confluent-kafka %s (librdkafka %s) under %s" % (
            confluent_kafka.version()[0], confluent_kafka.libversion()[0], sys.executable))
        with gc.Workers() as ws:
            ph = Phases(checks, ws, data_dir)
            server = sluicetest.Server(data_dir=data_dir, port=port, args=SERVER_ARGS).start()
            ph.bs = bs = server.bootstrap
            gc.create_topic(bs, TOPIC, PARTITIONS)

            acked = gc.produce(bs, TOPIC, 0, 1000, PARTITIONS)
            got = ph.consume("A", range(0, 1000))
            ph.exactly("A", got, range(0, 1000))
            ph.lag("A", per_partition(acked, 1000))

            acked.update(gc.produce(bs, TOPIC, 1000, 500, PARTITIONS))

            def refused(workers):
                rc, out, err = gc.cli(bs, "groups", "reset-offsets", GROUP, "--to-earliest")
                checks.check("B: reset-offsets of a group with live members is refused",
                             rc == 1, "rc %d %s %s" % (rc, out, err))
            got = ph.consume("B", range(1000, 1500), during=refused)
            ph.exactly("B", got, range(1000, 1500))

            server.kill9()
            # the new process appends to server.log: keep the old one apart, so that waiting
            # for "ready" sees the new process's line
            os.rename(server.log_path, server.log_path + ".1")
            server = sluicetest.Server(data_dir=data_dir, port=port, args=SERVER_ARGS).start()
            checks.check("C: the server restarted after SIGKILL on the same data directory",
                         server.alive())
            # The server no longer logs "committed offsets loaded records=N" (each
            # __consumer_offsets replica replays its log as it opens): ask a client instead.
            sluicetest.wait_partitions(bs, TOPIC, range(PARTITIONS))
            want = per_partition(acked, 1500)
            have = committed_by_client(bs)
            checks.check("C: the restarted server reloaded committed offsets: OffsetFetch gives "
                         "%s" % want, have == want
                         and "replaying committed offsets failed" not in server.log()
                         and "skipped malformed offset records" not in server.log(),
                         "%s %s" % (have, [l for l in server.log().splitlines()
                                           if "committed offsets" in l or "offset records" in l][:2]))
            ph.lag("C: after the restart", want)
            gaps = {}
            for p, off in want:
                end, batches = sluicetest.fetch_batches(bs, TOPIC, p, start=off)
                if [(b.base_offset, b.control_type) for b in batches] != [
                        (off, sluicetest.CONTROL_RAFT_BARRIER)] or end != off + 1:
                    gaps[p] = (off, end, batches)
            checks.check("C: after each committed offset the log holds only the restarted "
                         "leader's barrier (a control batch)", not gaps, str(gaps))
            time.sleep(0.01)
            t_c = time.time()
            time.sleep(0.01)
            acked.update(gc.produce(bs, TOPIC, 1500, 500, PARTITIONS))
            got = ph.consume("C", range(1500, 2000))
            ph.exactly("C", got, range(1500, 2000))

            rc, out, err = gc.cli(bs, "groups", "reset-offsets", GROUP, "--to-earliest", "--dry-run")
            checks.check("D: reset-offsets --to-earliest --dry-run succeeds", rc == 0,
                         "rc %d %s %s" % (rc, out, err))
            ph.lag("D: after the dry run, unchanged", per_partition(acked, 2000))
            rc, out, err = gc.cli(bs, "groups", "reset-offsets", GROUP, "--to-earliest")
            checks.check("D: reset-offsets --to-earliest succeeds", rc == 0,
                         "rc %d %s %s" % (rc, out, err))
            ph.lag("D: after the reset", [(p, 0) for p in range(PARTITIONS)])
            got = ph.consume("D: replay from the earliest", range(0, 2000))
            ph.exactly("D: replay from the earliest", got, range(0, 2000))

            iso = datetime.datetime.fromtimestamp(t_c, datetime.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (int(t_c * 1000) % 1000)
            rc, out, err = gc.cli(bs, "groups", "reset-offsets", GROUP, "--to-datetime", iso)
            checks.check("E: reset-offsets --to-datetime %s succeeds" % iso, rc == 0,
                         "rc %d %s %s" % (rc, out, err))
            ph.lag("E: after the reset: the first of phase C's messages",
                   first_offsets(acked, 1500, 500))
            got = ph.consume("E: replay from the datetime", range(1500, 2000))
            ph.exactly("E: replay from the datetime", got, range(1500, 2000))

            checks.check("the server is still running", server.alive())
            if checks.failed:
                print("---- server log (tail) ----\n" + server.log()[-6000:])
                for w in ws.all:
                    print("---- worker %s log (tail) ----\n%s" % (w.name, w.log()[-2000:]))
    except Exception as e:  # noqa: BLE001
        checks.check("no exception", False, "%s: %s\n%s" % (type(e).__name__, e,
                                                            traceback.format_exc()))
        if server is not None:
            print("---- server log (tail) ----\n" + server.log()[-6000:])
    finally:
        if server is not None:
            server.stop()
            server.kill9()
        shutil.rmtree(data_dir, ignore_errors=True)
    print("# total %.1fs" % (time.monotonic() - t_start), flush=True)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
