#!/usr/bin/python3
"""Nodes outside controller.quorum.voters join a running cluster and take replicas.

1. Nodes 1-3 are the voters (every node's controller.quorum.voters lists only them) and start
   alone. Topic "before" (3 partitions, RF 3) gets a numbered acks=all stream.
2. Node 4, listed nowhere, starts: it dials the voters, registers (the controller leader names
   itself to it), becomes a standby of the metadata group (its log says voter=no; the leader
   logs the standby step) and logs ready. Every node's Metadata lists 4 brokers; node 4's
   Metadata names the same controller and the topic with the same replicas.
3. Topic "after" is created through node 4 (forwarded to the controller): 4 partitions, RF 3,
   so node 4 holds replicas of it; a stream through node 4 as the only bootstrap is acked and
   read back at its offsets.
4. `sluice partitions reassign` moves partition 0 of "before" onto node 4; node 4's copy
   reaches the high watermark.
5. Node 5 starts too (two non-voters: the lower id dials, having learnt the other's peer address
   from the image). Topic "five" (5 partitions, RF 3) puts replicas on both; its stream is read
   back.
6. Node 4 is killed (-9) and restarted: it comes back ready from its own metadata log.
7. The controller leader (a voter) is killed: the other two voters elect a new one, and a
   topic created through node 5 appears on every live node.
8. Every acknowledged message of every stream is read back at its acknowledged offset, and the
   replicas of "five" are identical batch by batch once caught up.
9. Node 5 leaves for good: `sluice nodes remove` refuses it while it runs (and refuses a voter
   and an unknown id); after `sluice nodes drain` and a stop it is removed, Metadata lists 4
   brokers, a new topic is placed on nodes 1-4 only, and the controller leader takes node 5
   out of the metadata group.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clusterlib as cl_  # noqa: E402
from clusterlib import sluicetest  # noqa: E402

from confluent_kafka import Producer  # noqa: E402

BUDGET_S = 300
VOTERS = (1, 2, 3)


def produce(bootstrap, topic, partitions, count, tag):
    """Sends `count` acks=all messages round robin over the partitions; {value: (p, offset)} of
    the acknowledged ones, and the errors."""
    acks, errors = {}, []

    def dr(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            acks[msg.value()] = (msg.partition(), msg.offset())
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                  "linger.ms": 5, "message.timeout.ms": 60000,
                  "topic.metadata.refresh.interval.ms": 1000})
    for i in range(count):
        p.produce(topic, value=b"%s-%d" % (tag.encode(), i), partition=i % partitions,
                  on_delivery=dr)
        p.poll(0)
    left = p.flush(90)
    if left:
        errors.append("%d messages not delivered" % left)
    return acks, errors


def read_partition_retrying(bootstrap, topic, part, tries=5):
    """read_partition, again after a leadership change the client's metadata has not caught up
    with (NOT_LEADER_OR_FOLLOWER while a restarted preferred leader takes its partitions back)."""
    from confluent_kafka import KafkaException
    for i in range(tries):
        try:
            return cl_.read_partition(bootstrap, topic, part, timeout_s=60)
        except KafkaException as e:
            if i == tries - 1:
                raise
            print("# reading %s[%d]: %s; again" % (topic, part, e), flush=True)
            time.sleep(1)


def check_read_back(c, cl, bootstrap, topic, partitions, acks, name):
    by_part = {}
    for v, (part, off) in acks.items():
        by_part.setdefault(part, {})[off] = v
    bad = []
    for part in range(partitions):
        want = by_part.get(part, {})
        if not want:
            continue
        got, _hw = read_partition_retrying(bootstrap, topic, part)
        for off, v in want.items():
            val = got.get(off, (None, None))[1]
            if val != v:
                bad.append("%s[%d]@%d: acked %r, read %r" % (topic, part, off, v, val))
    c.check("%s: every acknowledged message read back at its offset (%d)" % (name, len(acks)),
            not bad, "; ".join(bad[:5]))


def replicas_of(md, topic):
    return {p: sorted(info["replicas"] or []) for p, info in md.topics[topic]["partitions"].items()}


def run(cl, c):
    for n in VOTERS:
        cl.node(n).start(wait=False)
    for n in VOTERS:
        cl.node(n).wait_ready()
    c.check("the voters register", cl.wait_registered(3, nodes=[cl.node(i) for i in VOTERS])
            is not None)
    cl.create_topic("before", 3, 3)
    c.check("before: leaders agreed", cl.wait_leaders("before", 3) is not None)
    acks_before, errs = produce(cl.bootstrap([cl.node(1)]), "before", 3, 300, "before")
    c.check("before: 300 messages acked", len(acks_before) == 300 and not errs, str(errs[:3]))

    # -- 2: node 4 joins --
    n4 = cl.node(4)
    t0 = time.monotonic()
    n4.start()
    print("# node 4 ready %.2fs after its start" % (time.monotonic() - t0), flush=True)
    log4 = n4.log()
    c.check("node 4 knows it is not a voter", re.search(r'cluster started.*voter=no', log4)
            is not None)
    views = cl.wait_registered(4, nodes=[cl.node(i) for i in (1, 2, 3, 4)])
    c.check("every node lists 4 brokers", views is not None)
    if views:
        ctl = {v.controller for v in views.values()}
        c.check("node 4 names the same controller, a voter", len(ctl) == 1 and
                ctl.pop() in VOTERS, str({k: v.controller for k, v in views.items()}))
    standby = any(re.search(r"group=__cluster_metadata-0 event=membership_change op=standby "
                            r"node=4", cl.node(i).log()) for i in VOTERS)
    c.check("the controller leader made node 4 a standby of the metadata group", standby)
    md4 = n4.metadata(["before"])
    md1 = cl.node(1).metadata(["before"])
    c.check("node 4's Metadata has the topic with the same replicas",
            "before" in md4.topics and replicas_of(md4, "before") == replicas_of(md1, "before"),
            "%s vs %s" % (md4.topics.get("before"), md1.topics.get("before")))

    # -- 3: a topic created through node 4 --
    cl.create_topic("after", 4, 3, via=n4)
    live4 = [cl.node(i) for i in (1, 2, 3, 4)]
    c.check("after: leaders agreed on the 4 nodes", cl.wait_leaders("after", 4, nodes=live4)
            is not None)
    md = n4.metadata(["after"])
    on4 = [p for p, r in replicas_of(md, "after").items() if 4 in r]
    c.check("after: node 4 holds replicas", len(on4) >= 2, str(replicas_of(md, "after")))
    acks_after, errs = produce(n4.bootstrap, "after", 4, 400, "after")
    c.check("after: 400 messages acked through node 4 alone", len(acks_after) == 400 and not errs,
            str(errs[:3]))

    # -- 4: move a partition of "before" onto node 4 --
    cur = replicas_of(cl.node(1).metadata(["before"]), "before")[0]
    target = [r for r in cur if r != max(cur)] + [4]
    t = time.monotonic()
    rc = sluicetest.run_cli(["partitions", "reassign", "--topic", "before", "--partition", "0",
                             "--replicas", ",".join(str(x) for x in target), "--bootstrap",
                             cl.node(1).bootstrap, "--timeout-ms", "90000"], 120)
    c.check("sluice partitions reassign onto node 4 exits 0", rc[0] == 0,
            "rc=%s out=%s err=%s" % rc)
    print("# reassignment onto node 4 took %.1fs" % (time.monotonic() - t), flush=True)
    moved = cl_.wait_until(lambda: sorted(replicas_of(cl.node(1).metadata(["before"]),
                                                        "before")[0]) == sorted(target), 30)
    c.check("before[0] replicas are %s" % target, moved is not None)
    _recs, hw = cl_.read_partition(cl.bootstrap(live4), "before", 0, timeout_s=60)
    behind = cl.replicas_behind("before", {0: hw}, nodes=[n4], timeout_s=30)
    c.check("node 4's copy of before[0] reaches the high watermark %d" % hw,
            hw > 0 and not behind, str(behind))

    # -- 5: node 5 joins; replicas shared by the two non-voters --
    n5 = cl.node(5)
    n5.start()
    c.check("every node lists 5 brokers", cl.wait_registered(5) is not None)
    cl.create_topic("five", 5, 3, via=n5)
    c.check("five: leaders agreed", cl.wait_leaders("five", 5) is not None)
    shared = [p for p, r in replicas_of(n5.metadata(["five"]), "five").items()
              if 4 in r and 5 in r]
    c.check("five: some partition is replicated on both non-voters", shared != [],
            str(replicas_of(n5.metadata(["five"]), "five")))
    acks_five, errs = produce(cl.bootstrap([n4, n5]), "five", 5, 500, "five")
    c.check("five: 500 messages acked", len(acks_five) == 500 and not errs, str(errs[:3]))

    # -- 6: node 4 restarts from its own logs --
    n4.kill9()
    n4.start()
    c.check("node 4 ready again after kill -9", n4.is_ready())
    c.check("after: leaders agreed after node 4's restart",
            cl.wait_leaders("after", 4) is not None)

    # -- 7: the controller leader dies --
    ctl = n5.metadata().controller
    c.check("the controller is a voter", ctl in VOTERS, str(ctl))
    if ctl in VOTERS:
        cl.node(ctl).kill9()
        rest = cl.live()

        def one_new_controller():
            views = cl.metadata_views(rest)
            ctls = {v.controller for v in views.values()}
            if len(views) == len(rest) and len(ctls) == 1 and ctls <= set(VOTERS) - {ctl}:
                return ctls
            return None
        newctl = cl_.wait_until(one_new_controller, 30)
        c.check("a new controller among the other voters, named by every live node",
                newctl is not None,
                str({k: v.controller for k, v in cl.metadata_views(rest).items()}))
        cl.create_topic("late", 2, 3, via=n5)
        c.check("late: created through node 5 and led on every live node",
                cl.wait_leaders("late", 2) is not None)
        cl.node(ctl).start()
        c.check("leaders agreed on every topic after the old controller's return",
                all(cl.wait_leaders(t, n) is not None
                    for t, n in (("before", 3), ("after", 4), ("five", 5), ("late", 2))))

    # -- 8: read back, compare replicas --
    check_read_back(c, cl, cl.bootstrap(), "before", 3, acks_before, "before")
    check_read_back(c, cl, cl.bootstrap(), "after", 4, acks_after, "after")
    check_read_back(c, cl, cl.bootstrap(), "five", 5, acks_five, "five")
    md = cl.node(1).metadata(["five"])
    problems = []
    for p in shared[:2]:
        reps = replicas_of(md, "five")[p]
        _recs, hw = read_partition_retrying(cl.bootstrap(), "five", p)
        behind = cl.replicas_behind("five", {p: hw}, nodes=[cl.node(i) for i in reps])
        per_node, pr = cl.read_all_replicas("five", p, nodes=[cl.node(i) for i in reps])
        _common, mism = cl_.compare_replicas(per_node)
        problems += pr + mism + (["five[%d] behind: %s" % (p, behind)] if behind else [])
    c.check("five: replicas on the non-voters identical batch by batch", not problems,
            "; ".join(str(x) for x in problems[:5]))

    # -- 9: node 5 leaves for good: drained, stopped, removed --
    remove_phase(cl, c, n5)


def remove_phase(cl, c, n5):
    boot = cl.node(1).bootstrap
    for node, why in ((5, "running"), (1, "voter of the metadata group"),
                      (99, "BROKER_ID_NOT_REGISTERED")):
        rc, out, err = sluicetest.run_cli(["nodes", "remove", "--node", str(node),
                                           "--bootstrap", boot], 60)
        c.check("sluice nodes remove --node %d is refused (%s)" % (node, why),
                rc == 1 and why in err, "exit %s, stdout %r, stderr %r" % (rc, out, err))
    rc, out, err = sluicetest.run_cli(["nodes", "drain", "--node", "5", "--bootstrap", boot,
                                       "--timeout-ms", "90000"], 120)
    c.check("sluice nodes drain --node 5 exits 0", rc == 0, "exit %s: %s" % (rc, err[-800:]))
    gone = cl_.wait_until(lambda: not [d for d in os.listdir(n5.data_dir)
                                       if re.match(r"^.+-\d+$", d)
                                       and d != "__cluster_metadata-0"], 30, 0.3)
    c.check("node 5's replicas are closed and deleted", gone is not None)
    n5.stop()

    def removed():
        r = sluicetest.run_cli(["nodes", "remove", "--node", "5", "--bootstrap", boot], 60)
        return r if r[0] == 0 or "running" not in r[2] else None
    rc, out, err = cl_.wait_until(removed, 15, 0.5) or (None, "", "still seen running")
    c.check("sluice nodes remove --node 5 exits 0 once it is stopped", rc == 0,
            "exit %s, stdout %r, stderr %r" % (rc, out, err))
    rest = [cl.node(i) for i in (1, 2, 3, 4) if cl.node(i).alive()]
    c.check("every remaining node lists 4 brokers",
            cl.wait_registered(4, nodes=rest) is not None,
            str({i: sorted(m.brokers) for i, m in cl.metadata_views(rest).items()}))
    cl.create_topic("after-remove", 8, 3)
    md = cl.node(1).metadata(["after-remove"])
    placed = sorted({r for reps in replicas_of(md, "after-remove").values() for r in reps})
    c.check("a topic created afterwards is placed on nodes 1-4 only: %s" % placed,
            placed and 5 not in placed)
    taken_out = any(re.search(r"group=__cluster_metadata-0 event=membership_change op=remove "
                              r"node=5", cl.node(i).log()) for i in VOTERS)
    c.check("the controller leader took node 5 out of the metadata group", taken_out)


def main():
    def voters_for(node):
        return ",".join("%d@127.0.0.1:%d" % (i, node.cluster.node(i).peer_port) for i in VOTERS)
    import traceback
    c = sluicetest.Checks()
    t0 = cl_.guard(c, BUDGET_S)
    try:
        with cl_.Cluster(5, voters_for=voters_for, start=False) as cl:
            try:
                run(cl, c)
            finally:
                cl.check_health(c)
    except Exception as e:  # noqa: BLE001
        c.check("no exception", False, "%s: %s\n%s" % (type(e).__name__, e,
                                                       traceback.format_exc()))
    print("# total %.1fs" % (time.monotonic() - t0), flush=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
