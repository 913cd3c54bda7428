#!/usr/bin/python3
"""The admin HTTP endpoint (http.listener) of a real 3-node cluster (docs/operations.md).

1. /health, /ready and /v1/cluster on every node: 200 "ok", 200 "ready", and a JSON cluster view
   whose cluster id and controller match Metadata's, listing the three nodes registered.
2. After 6 partitions (replication factor 3) got records and a consumer group committed an
   offset, /metrics on every node is strict Prometheus text format 0.0.4 (checked by the parser
   below: every line a HELP, a TYPE or a sample `name{labels} value`, every family typed once,
   its samples contiguous and named after it, label values properly escaped, no series twice,
   UTF-8) served as text/plain; version=0.0.4.
3. The metrics agree with the Kafka protocol: each partition's high watermark on its leader
   equals what ListOffsets returns; sluice_partition_leader sums to the partition count over
   the three nodes, exactly one node per partition; log end >= high watermark >= log start;
   one controller leader; Produce requests counted; the group's committed offset and lag are
   exported by the partition's leader.
4. POST /v1/partitions/<topic>/<p>/transfer?to=<node> to the leader answers 202 and Metadata
   shows the new leader on every node within 15 s; the same POST to a non-leader answers 421
   naming the leader; a node that is not a replica gets 409, an unknown partition 404.
5. Bad requests get 4xx and the node keeps serving: binary garbage, a 100 KiB header field, an
   unknown path, wrong methods, HTTP/1.1 without Host, a bad partition number; 64 idle
   connections are served and the 65th gets 503.
6. A single node with http.listener=127.0.0.1:0 logs the port it picked and serves there; with
   a topic of 1,500 partitions its /metrics is gathered over several loop turns (the longest turn
   shorter than the whole build), four concurrent scrapes all get the whole page, and SIGTERM
   with scrapes in flight exits 0 without sanitizer reports. A node with http.listener empty
   logs that the endpoint is disabled and still starts; one whose http.listener port is taken
   exits 1 naming the key and the address.

auto.leader.rebalance.enable is off so that the balancer does not move the transferred leader
back during the test.
"""

import http.client
import json
import math
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clusterlib as cl_  # noqa: E402
import sluicetest  # noqa: E402  (clusterlib put tests/lib on the path)

from confluent_kafka import Consumer, TopicPartition  # noqa: E402

BUDGET_S = 180
TOPIC, GROUP = "admin-http", "admin-http-group"
PARTS, RECORDS_PER_PARTITION = 6, 5
COMMITTED = 3  # the group's committed offset on partition 0 (below the high watermark)
HTTP_TIMEOUT_S = 10
# A topic wider than one loop turn of /metrics gathering (ENDPOINTS_STEP_REPLICAS, 1000).
WIDE_TOPIC, WIDE_PARTS = "wide", 1500

# ---- HTTP ---------------------------------------------------------------------------------------


def http_call(port, method, path):
    """(status, headers {lower name: value}, body text) of one request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT_S)
    try:
        conn.request(method, path)
        r = conn.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body.decode("utf-8")
    finally:
        conn.close()


def raw_call(port, data, timeout_s=HTTP_TIMEOUT_S):
    """Sends `data` on a new connection and reads until the node closes it: (status or None,
    whole answer bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as s:
        try:
            s.sendall(data)
        except OSError:
            pass  # the node may answer and close before it read everything
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except OSError:
            pass
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", out)
    return (int(m.group(1)) if m else None), out


# ---- a strict parser of the text exposition format 0.0.4 --------------------------------------

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class ExpositionError(Exception):
    pass


def parse_value(s):
    if s in ("NaN", "+Inf", "-Inf"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", s):
        raise ExpositionError("bad value %r" % s)
    return float(s)


def help_escapes_ok(s):
    """HELP text may escape only '\\' and newline."""
    i = 0
    while i < len(s):
        if s[i] == "\\":
            if s[i + 1:i + 2] not in ("\\", "n"):
                return False
            i += 2
        else:
            i += 1
    return True


def parse_labels(s, i, lineno):
    """Parses `{a="x",b="y"}` starting at s[i] == '{'; returns (tuple of pairs, index after)."""
    assert s[i] == "{"
    i += 1
    labels = []
    if s[i:i + 1] == "}":
        return (), i + 1
    while True:
        m = LABEL_NAME.match(s, i)
        if not m:
            raise ExpositionError("line %d: bad label name at %d" % (lineno, i))
        name = m.group(0)
        if name.startswith("__"):
            raise ExpositionError("line %d: reserved label name %s" % (lineno, name))
        i = m.end()
        if s[i:i + 2] != '="':
            raise ExpositionError("line %d: expected =\" after %s" % (lineno, name))
        i += 2
        v = []
        while True:
            if i >= len(s):
                raise ExpositionError("line %d: unterminated label value" % lineno)
            ch = s[i]
            if ch == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ExpositionError("line %d: bad escape \\%s" % (lineno, nxt))
                v.append("\n" if nxt == "n" else nxt)
                i += 2
            elif ch == '"':
                i += 1
                break
            elif ch == "\n":
                raise ExpositionError("line %d: raw newline in a label value" % lineno)
            else:
                v.append(ch)
                i += 1
        if name in dict(labels):
            raise ExpositionError("line %d: label %s twice" % (lineno, name))
        labels.append((name, "".join(v)))
        if s[i:i + 1] == ",":
            i += 1
            continue
        if s[i:i + 1] == "}":
            return tuple(labels), i + 1
        raise ExpositionError("line %d: expected , or } at %d" % (lineno, i))


def parse_exposition(raw):
    """Parses a page strictly. Returns {family: {"type", "help", "samples": {labels tuple: value}}}
    (labels as a sorted tuple of pairs). Raises ExpositionError naming the first problem."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ExpositionError("not UTF-8: %s" % e)
    if not text.endswith("\n"):
        raise ExpositionError("the page does not end with a newline")
    families = {}
    current = None
    closed = set()
    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (\S+) ?(.*)", line)
            if not m:
                raise ExpositionError("line %d: a comment that is neither HELP nor TYPE: %r"
                                      % (lineno, line))
            kind, name, rest = m.groups()
            if not NAME.fullmatch(name):
                raise ExpositionError("line %d: bad metric name %r" % (lineno, name))
            if name != current:
                if name in families:
                    raise ExpositionError("line %d: family %s again after others"
                                          % (lineno, name))
                if current is not None:
                    closed.add(current)
                current = name
                families[name] = {"type": None, "help": None, "samples": {}}
            f = families[name]
            if kind == "HELP":
                if f["help"] is not None or f["type"] is not None or f["samples"]:
                    raise ExpositionError("line %d: HELP of %s not first or twice"
                                          % (lineno, name))
                if not help_escapes_ok(rest):
                    raise ExpositionError("line %d: bad escape in HELP" % lineno)
                f["help"] = rest
            else:
                if f["type"] is not None or f["samples"]:
                    raise ExpositionError("line %d: TYPE of %s twice or after samples"
                                          % (lineno, name))
                if rest not in TYPES:
                    raise ExpositionError("line %d: unknown type %r" % (lineno, rest))
                f["type"] = rest
            continue
        if line == "":
            raise ExpositionError("line %d: empty line" % lineno)
        m = NAME.match(line)
        if not m:
            raise ExpositionError("line %d: no metric name: %r" % (lineno, line))
        name = m.group(0)
        i = m.end()
        labels = ()
        if line[i:i + 1] == "{":
            labels, i = parse_labels(line, i, lineno)
        if line[i:i + 1] != " ":
            raise ExpositionError("line %d: expected a space before the value" % lineno)
        parts = line[i + 1:].split(" ")
        if len(parts) not in (1, 2) or (len(parts) == 2 and not re.fullmatch(r"-?\d+", parts[1])):
            raise ExpositionError("line %d: expected `value [timestamp]`: %r" % (lineno, line))
        value = parse_value(parts[0])
        if name != current:
            raise ExpositionError("line %d: sample %s outside its family (current: %s)"
                                  % (lineno, name, current))
        f = families[name]
        if f["type"] is None:
            raise ExpositionError("line %d: sample of %s before its TYPE" % (lineno, name))
        key = tuple(sorted(labels))
        if key in f["samples"]:
            raise ExpositionError("line %d: series %s%s twice" % (lineno, name, key))
        if f["type"] == "counter" and (value < 0 or math.isnan(value)):
            raise ExpositionError("line %d: counter %s is %r" % (lineno, name, value))
        f["samples"][key] = value
    untyped = [n for n, f in families.items() if f["type"] is None]
    if untyped:
        raise ExpositionError("families without TYPE: %s" % untyped)
    return families


def sample(fams, name, **labels):
    """The value of one series (labels given as keywords), or None."""
    f = fams.get(name)
    if f is None:
        return None
    return f["samples"].get(tuple(sorted((k, str(v)) for k, v in labels.items())))


def series(fams, name, **match):
    """{labels dict as tuple: value} of the series of `name` whose labels include `match`."""
    f = fams.get(name) or {"samples": {}}
    out = {}
    for key, v in f["samples"].items():
        d = dict(key)
        if all(d.get(k) == str(x) for k, x in match.items()):
            out[key] = v
    return out


# ---- the test -----------------------------------------------------------------------------------


def check_parser_itself(c):
    """The strict parser must refuse what the format forbids, or its passes mean nothing."""
    bad = [
        b'x 1\n',                                         # no TYPE
        b'# TYPE x gauge\nx{a="b} 1\n',                  # unterminated
        b'# TYPE x gauge\nx{a="\\q"} 1\n',               # bad escape
        b'# TYPE x gauge\nx 1\nx 2\n',                   # series twice
        b'# TYPE x gauge\n# TYPE y gauge\nx 1\n',        # sample outside its family
        b'# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\n# TYPE x gauge\n',  # family again
        b'# TYPE x gauge\nx one\n',                      # bad value
        b'# TYPE x gauge\nx{__a="b"} 1\n',               # reserved label
        b'# TYPE x gauge\nx{a="\xff"} 1\n',              # not UTF-8
        b'# TYPE x gauge\nx 1',                          # no final newline
        b'# TYPE x_total counter\nx_total -1\n',         # negative counter
    ]
    refused = 0
    for b in bad:
        try:
            parse_exposition(b)
        except ExpositionError:
            refused += 1
    c.check("the test's exposition parser refuses %d malformed pages" % len(bad),
            refused == len(bad), "refused only %d" % refused)
    good = parse_exposition(b'# HELP x a \\\\ b\\n\n# TYPE x gauge\nx{a="q\\"\\n\\\\",b="2"} NaN\n'
                            b'x +Inf\n')
    c.check("...and reads a well-formed one with escapes",
            math.isnan(sample(good, "x", a='q"\n\\', b="2")) and sample(good, "x") == math.inf)


def scrape(node):
    status, headers, body = http_call(node.http_port, "GET", "/metrics")
    if status != 200:
        raise ExpositionError("node %d: /metrics answered %d" % (node.id, status))
    return headers, parse_exposition(body.encode("utf-8"))


def run(cl, c):
    check_parser_itself(c)
    views = cl.wait_registered(3, timeout_s=30)
    c.check("every node's Metadata lists 3 brokers and a controller", bool(views))
    if not views:
        return
    md = list(views.values())[0]

    # ---- 1. health, readiness, the cluster view -------------------------------------------------
    for n in cl.nodes:
        st, _h, body = http_call(n.http_port, "GET", "/health")
        c.check("node %d: GET /health is 200 ok" % n.id, st == 200 and body == "ok\n",
                "%s %r" % (st, body))
        ready = cl_.wait_until(lambda: http_call(n.http_port, "GET", "/ready")[0] == 200, 15)
        c.check("node %d: GET /ready is 200 (it logged ready)" % n.id,
                bool(ready) and n.is_ready())
    ctl_agreed = cl_.wait_until(
        lambda: len({m.controller for m in cl.metadata_views().values()}) == 1, 15, 0.2)
    c.check("all nodes name one controller", bool(ctl_agreed))
    for n in cl.nodes:
        st, h, body = http_call(n.http_port, "GET", "/v1/cluster")
        try:
            view = json.loads(body)
        except ValueError:
            view = {}
        nodes = {x.get("id"): x for x in view.get("nodes", [])}
        md_now = n.metadata()
        c.check("node %d: GET /v1/cluster is JSON naming itself, the cluster id and controller "
                "Metadata gives" % n.id,
                st == 200 and h.get("content-type") == "application/json"
                and view.get("node_id") == n.id and view.get("cluster_id") == md_now.cluster_id
                and view.get("controller_id") == md_now.controller and view.get("ready") is True,
                "%s %r (metadata: %s, %s)" % (st, body, md_now.cluster_id, md_now.controller))
        c.check("node %d: ...listing the three nodes registered with their Kafka addresses" % n.id,
                sorted(nodes) == [1, 2, 3]
                and all(nodes[m.id]["port"] == m.kafka_port and nodes[m.id]["host"] == "127.0.0.1"
                        and nodes[m.id]["registered"] is True and nodes[m.id]["rack"] is None
                        for m in cl.nodes), body)

    # ---- 2. records, a committed offset, then /metrics ------------------------------------------
    cl.create_topic(TOPIC, PARTS, 3)
    leaders = cl.wait_leaders(TOPIC, PARTS, timeout_s=30)
    c.check("all nodes agree on a leader for each of %d partitions" % PARTS, bool(leaders))
    if not leaders:
        return
    produced = 0
    for p in range(PARTS):
        with cl.node(leaders[p]).conn() as k:
            for r in range(RECORDS_PER_PARTITION):
                err, _base = k.produce(TOPIC, p, cl_.record_batch([(b"k", b"v%d" % r)]))
                produced += err == 0
    c.check("%d records produced (acks=all)" % (PARTS * RECORDS_PER_PARTITION),
            produced == PARTS * RECORDS_PER_PARTITION, "%d acknowledged" % produced)
    consumer = Consumer({"bootstrap.servers": cl.bootstrap(), "group.id": GROUP,
                         "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(TOPIC, 0, COMMITTED)], asynchronous=False)
        committed_ok = True
    except Exception as e:  # noqa: BLE001
        committed_ok = False
        print("# commit failed: %s" % e)
    finally:
        consumer.close()
    c.check("group %s committed offset %d on partition 0" % (GROUP, COMMITTED), committed_ok)

    pages = {}
    for n in cl.nodes:
        try:
            headers, fams = scrape(n)
            pages[n.id] = fams
            c.check("node %d: /metrics parses as strict text format 0.0.4 (%d families, %d series)"
                    % (n.id, len(fams), sum(len(f["samples"]) for f in fams.values())), True)
            c.check("node %d: ...served as text/plain; version=0.0.4" % n.id,
                    headers.get("content-type", "").startswith("text/plain; version=0.0.4"),
                    headers.get("content-type"))
        except (ExpositionError, OSError) as e:
            c.check("node %d: /metrics parses as strict text format 0.0.4" % n.id, False, str(e))
    if len(pages) != 3:
        return

    families = ["sluice_build_info", "sluice_uptime_seconds", "sluice_kafka_connections_open",
                "sluice_kafka_requests_total", "sluice_kafka_received_bytes_total",
                "sluice_kafka_sent_bytes_total", "sluice_partition_leader",
                "sluice_partition_high_watermark", "sluice_partition_log_end_offset",
                "sluice_partition_log_start_offset", "sluice_partition_raft_term",
                "sluice_partition_log_size_bytes", "sluice_raft_groups",
                "sluice_raft_shim_events", "sluice_peer_sent_bytes_total",
                "sluice_peer_connected", "sluice_controller_leader",
                "sluice_metadata_generation", "sluice_cluster_nodes_registered",
                "sluice_consumer_group_committed_offset", "sluice_consumer_group_lag"]
    missing = {i: [f for f in families if f not in fams] for i, fams in pages.items()}
    c.check("every node exports the documented families", not any(missing.values()),
            str(missing))
    for i, fams in pages.items():
        c.check("node %d: build info names version and node id" % i,
                sample(fams, "sluice_build_info", version="0.1.0", node_id=i) == 1,
                str(fams.get("sluice_build_info")))

    # ---- 3. the metrics agree with the protocol ------------------------------------------------
    hw_ok, bad = True, []
    for p in range(PARTS):
        leader = cl.node(leaders[p])
        lo = sluicetest.list_offset(leader.bootstrap, TOPIC, p, -1)
        hw = sample(pages[leader.id], "sluice_partition_high_watermark", topic=TOPIC, partition=p)
        if hw != lo:
            hw_ok = False
            bad.append("p%d: metric %s, ListOffsets %s" % (p, hw, lo))
    c.check("each partition's sluice_partition_high_watermark on its leader equals ListOffsets",
            hw_ok, "; ".join(bad))

    led = {p: [i for i, fams in pages.items()
               if sample(fams, "sluice_partition_leader", topic=TOPIC, partition=p) == 1]
           for p in range(PARTS)}
    total = sum(sum(series(fams, "sluice_partition_leader", topic=TOPIC).values())
                for fams in pages.values())
    c.check("sluice_partition_leader sums to %d over the three nodes" % PARTS, total == PARTS,
            "sum %s" % total)
    c.check("...one leader per partition, the one Metadata names",
            all(led[p] == [leaders[p]] for p in range(PARTS)), str(led))
    c.check("every node exports all %d replicas of the topic (replication factor 3)" % PARTS,
            all(len(series(fams, "sluice_partition_leader", topic=TOPIC)) == PARTS
                for fams in pages.values()))
    order_ok = True
    for fams in pages.values():
        for p in range(PARTS):
            start = sample(fams, "sluice_partition_log_start_offset", topic=TOPIC, partition=p)
            hw = sample(fams, "sluice_partition_high_watermark", topic=TOPIC, partition=p)
            end = sample(fams, "sluice_partition_log_end_offset", topic=TOPIC, partition=p)
            size = sample(fams, "sluice_partition_log_size_bytes", topic=TOPIC, partition=p)
            term = sample(fams, "sluice_partition_raft_term", topic=TOPIC, partition=p)
            order_ok = order_ok and None not in (start, hw, end, size, term) and \
                start <= hw <= end and size > 0 and term >= 1
    c.check("log start <= high watermark <= log end, size > 0, term >= 1 on every replica",
            order_ok)
    ctl_leaders = [i for i, f in pages.items() if sample(f, "sluice_controller_leader") == 1]
    c.check("exactly one node is the controller leader, the one Metadata names",
            len(ctl_leaders) == 1 and ctl_leaders[0] == md.controller
            and all(sample(f, "sluice_controller_id") == md.controller for f in pages.values()),
            "%s vs %s" % (ctl_leaders, md.controller))
    c.check("every node counts 3 registered nodes and is ready",
            all(sample(f, "sluice_cluster_nodes_registered") == 3
                and sample(f, "sluice_node_ready") == 1 for f in pages.values()))
    produce_reqs = sum(sample(f, "sluice_kafka_requests_total", api_key=0, api="Produce") or 0
                       for f in pages.values())
    c.check("Produce requests counted (%d >= %d)" % (produce_reqs, produced),
            produce_reqs >= produced)
    c.check("every node sees its two peers connected",
            all(sorted(k for k, v in series(f, "sluice_peer_connected").items() if v == 1)
                == sorted(((("node", str(j)),) for j in (1, 2, 3) if j != i))
                for i, f in pages.items()),
            str({i: series(f, "sluice_peer_connected") for i, f in pages.items()}))

    def group_series(name):
        return {i: series(f, name, group=GROUP) for i, f in pages.items()
                if series(f, name, group=GROUP)}

    # Followers of the group's __consumer_offsets partition apply the commit a heartbeat or so
    # after the coordinator answered it; partition 0's leader may be such a follower.
    def rescrape():
        for i in cl.ids():
            pages[i] = scrape(cl.node(i))[1]
        return group_series("sluice_consumer_group_committed_offset")
    cl_.wait_until(rescrape, 10, 0.2)
    committed = group_series("sluice_consumer_group_committed_offset")
    lag = group_series("sluice_consumer_group_lag")
    lo0 = sluicetest.list_offset(cl.node(leaders[0]).bootstrap, TOPIC, 0, -1)
    key = tuple(sorted({"group": GROUP, "topic": TOPIC, "partition": "0"}.items()))
    c.check("the group's committed offset is exported once, by partition 0's leader",
            list(committed) == [leaders[0]] and committed[leaders[0]] == {key: COMMITTED},
            str(committed))
    c.check("...with lag = high watermark - committed (%d)" % (lo0 - COMMITTED),
            lag.get(leaders[0]) == {key: lo0 - COMMITTED}, str(lag))

    # ---- 4. leadership transfer ------------------------------------------------------------------
    p0_leader = leaders[0]
    target = [i for i in cl.ids() if i != p0_leader][0]
    other = [i for i in cl.ids() if i not in (p0_leader, target)][0]
    path = "/v1/partitions/%s/0/transfer?to=%d" % (TOPIC, target)
    st, h, body = http_call(cl.node(other).http_port, "POST", path)
    try:
        ans = json.loads(body)
    except ValueError:
        ans = {}
    c.check("POST transfer to a node that does not lead answers 421 naming the leader",
            st == 421 and ans.get("leader") == p0_leader, "%s %r" % (st, body))
    st, _h, body = http_call(cl.node(p0_leader).http_port, "POST",
                             "/v1/partitions/%s/0/transfer?to=99" % TOPIC)
    c.check("POST transfer to a node that is not a replica answers 409", st == 409,
            "%s %r" % (st, body))
    st, _h, body = http_call(cl.node(p0_leader).http_port, "POST",
                             "/v1/partitions/%s/%d/transfer?to=%d" % (TOPIC, PARTS, target))
    c.check("POST transfer of an unknown partition answers 404", st == 404, "%s %r" % (st, body))
    t0 = time.monotonic()
    st, _h, body = http_call(cl.node(p0_leader).http_port, "POST", path)
    try:
        ans = json.loads(body)
    except ValueError:
        ans = {}
    c.check("POST transfer on the leader answers 202 from %d to %d" % (p0_leader, target),
            st == 202 and ans.get("to") == target and ans.get("from") == p0_leader
            and ans.get("status") == "started", "%s %r" % (st, body))
    moved = cl_.wait_until(lambda: (cl.leaders_agreed(TOPIC, PARTS) or {}).get(0) == target, 15)
    c.check("Metadata on every node shows node %d leading partition 0 (%.1fs)"
            % (target, time.monotonic() - t0), bool(moved),
            str({i: m.leader(TOPIC, 0) for i, m in cl.metadata_views(topics=[TOPIC]).items()}))
    if moved:
        st, _h, body = http_call(cl.node(target).http_port, "POST", path)
        c.check("POST the same transfer again answers 200 unchanged",
                st == 200 and '"unchanged"' in body, "%s %r" % (st, body))
        after = cl_.wait_until(lambda: sample(scrape(cl.node(target))[1], "sluice_partition_leader",
                                              topic=TOPIC, partition=0) == 1, 10)
        c.check("...and the new leader's sluice_partition_leader is 1", bool(after))

    # ---- 5. bad requests -------------------------------------------------------------------------
    n = cl.node(1)
    port = n.http_port
    cases = [
        ("binary garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 10, 400),
        ("a 100 KiB header field", b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: "
         + b"a" * (100 * 1024) + b"\r\n\r\n", 431),
        ("an unknown path", b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404),
        ("DELETE /metrics", b"DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        ("GET on the transfer path", ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode(), 405),
        ("POST /health", b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 405),
        ("HTTP/1.1 without Host", b"GET /metrics HTTP/1.1\r\n\r\n", 400),
        ("a partition that is not a number",
         ("POST /v1/partitions/%s/x/transfer?to=1 HTTP/1.1\r\nHost: x\r\n\r\n" % TOPIC).encode(),
         400),
        ("HTTP/2.0", b"GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        ("a chunked body", b"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
         501),
    ]
    for name, data, want in cases:
        st, out = raw_call(port, data)
        c.check("%s gets %d" % (name, want), st == want, "got %s: %r" % (st, out[:200]))
    st, _h, body = http_call(port, "GET", "/health")
    c.check("node 1 still serves after the bad requests", st == 200 and n.alive())

    idle = []
    try:
        for _ in range(64):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT_S))
        # The node accepts them on its own time: until it has, another one is still served.
        got = cl_.wait_until(
            lambda: raw_call(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 503, 10)
        c.check("with 64 connections open the 65th gets 503", bool(got))
    finally:
        for s in idle:
            s.close()
    ok = cl_.wait_until(lambda: http_call(port, "GET", "/health")[0] == 200, 5)
    c.check("once they close, requests are served again", bool(ok))
    _h, fams = scrape(n)
    c.check("the refusals are counted (bad requests, rejected connections)",
            (sample(fams, "sluice_admin_http_bad_requests_total") or 0) >= 5
            and (sample(fams, "sluice_admin_http_connections_rejected_total") or 0) >= 1)


def wide_scrapes(c, s, port):
    """A node with more replicas than one loop turn reads: /metrics is gathered over several
    turns; concurrent scrapes share the page; a stop with scrapes in flight is clean."""
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient({"bootstrap.servers": s.bootstrap})
    for f in a.create_topics([NewTopic(WIDE_TOPIC, num_partitions=WIDE_PARTS,
                                       replication_factor=1)],
                             request_timeout=60, operation_timeout=60).values():
        f.result(timeout=70)

    def wide_open():
        fams = parse_exposition(http_call(port, "GET", "/metrics")[2].encode("utf-8"))
        return fams if len(series(fams, "sluice_partition_leader", topic=WIDE_TOPIC)) == WIDE_PARTS \
            else None
    fams = cl_.wait_until(wide_open, 60, 0.5)
    c.check("a node with %d replicas of one topic exports them all" % WIDE_PARTS, bool(fams))
    if not fams:
        return
    results = [None] * 4

    def scrape_into(i):
        try:
            st, h, body = http_call(port, "GET", "/metrics")
            results[i] = (st, parse_exposition(body.encode("utf-8")))
        except (OSError, ExpositionError) as e:
            results[i] = (None, str(e))
    threads = [threading.Thread(target=scrape_into, args=(i,)) for i in range(len(results))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    c.check("%d concurrent scrapes of the %d-replica node all get a whole page"
            % (len(results), WIDE_PARTS + 50),
            all(r is not None and r[0] == 200
                and len(series(r[1], "sluice_partition_leader", topic=WIDE_TOPIC)) == WIDE_PARTS
                for r in results), str([r and r[0] for r in results]))
    _h, fams = scrape(PortOnly(port))
    turn = sample(fams, "sluice_admin_metrics_turn_seconds")
    build = sample(fams, "sluice_admin_metrics_build_seconds")
    print("# %d replicas: page built in %.1f ms, longest loop turn %.1f ms"
          % (sample(fams, "sluice_replicas"), build * 1e3, turn * 1e3))
    c.check("...the gathering was spread over loop turns (longest turn below the whole build)",
            turn is not None and build is not None and 0 < turn < build, "%s %s" % (turn, build))
    # Scrapes in flight when the node is told to stop: answered or cut, and the stop is clean.
    socks = []
    for _ in range(3):
        sk = socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT_S)
        sk.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(sk)
    code = s.stop()
    for sk in socks:
        sk.close()
    log = s.log()
    c.check("SIGTERM with scrapes in flight: exit 0, no sanitizer report",
            code == 0 and "Sanitizer" not in log and "runtime error" not in log
            and "handles left open" not in log, "exit %s\n%s" % (code, log[-1500:]))


class PortOnly:
    """What scrape() needs of a node: an id and an HTTP port."""

    def __init__(self, port):
        self.id = 0
        self.http_port = port


def single_nodes(c):
    """http.listener port 0 and empty, on single nodes."""
    with sluicetest.Server(args=["--http.listener=127.0.0.1:0",
                                 "--offsets.topic.replication.factor=1"]) as s:
        m = re.search(r'msg="admin http listening" addr=127\.0\.0\.1:(\d+)', s.log())
        port = int(m.group(1)) if m else 0
        c.check("http.listener port 0: the node logs the port it picked", port > 0, s.log()[-2000:])
        if port:
            st, _h, body = http_call(port, "GET", "/ready")
            c.check("...and serves there", st == 200 and body == "ready\n", "%s %r" % (st, body))
            wide_scrapes(c, s, port)
    with sluicetest.Server(args=["--http.listener=", "--offsets.topic.replication.factor=1"]) as s:
        c.check("http.listener empty: the node starts and logs the endpoint as disabled",
                s.alive() and 'msg="admin http disabled"' in s.log()
                and "admin http listening" not in s.log())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        s = sluicetest.Server(args=["--http.listener=127.0.0.1:%d" % port])
        try:
            s.start()
            failed, log = False, s.log()
        except RuntimeError as e:
            failed, log = True, str(e)
        finally:
            s.cleanup()
        c.check("http.listener on a taken port: the node refuses to start, naming the key",
                failed and "exited with 1" in log
                and "http.listener: listen 127.0.0.1:%d: address already in use" % port in log,
                log[-1500:])


def main():
    def both(cl, c):
        run(cl, c)
        single_nodes(c)
    return cl_.main(both, BUDGET_S, nodes=3, config={"auto.leader.rebalance.enable": "false"})


if __name__ == "__main__":
    sys.exit(main())
