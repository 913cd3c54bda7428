#!/usr/bin/python3
"""kcat (librdkafka 2.0.2) against a real sluice-server.

Checks: the metadata listing (text and JSON) shows this broker as node 1 and controller, and
the topics; 10,000 keyed messages produced with each of none/gzip/snappy/lz4/zstd come back
byte for byte, in order, each once, at exactly the offsets of the records in the stored log
(every partition is a Raft group: its log also holds Raft's control batches, which kcat skips,
so the first message is not at 0; docs/replication.md); the stored segment files really carry
the codec in every data batch (RecordBatch Attributes bits 0-2, byte 21; src/storage/batch.h),
as librdkafka silently stops compressing when Produce v0 is not advertised; `-o s@T` returns
exactly the messages produced after T.
"""

import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sluicetest  # noqa: E402

KCAT = "kcat"
KCAT_TIMEOUT_S = 60
N = 10000
CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def kcat(args, stdin=None):
    """Runs kcat with a timeout; returns (returncode, stdout bytes, stderr text)."""
    try:
        p = subprocess.run([KCAT] + args, input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=KCAT_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        return -1, e.stdout or b"", "timed out after %ds: %s" % (
            KCAT_TIMEOUT_S, (e.stderr or b"").decode(errors="replace"))
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def make_messages(seed, n):
    """n (key, value) pairs. Values hold every byte but '\n' (kcat's input delimiter), NUL
    included, after a compressible run long enough that even a one-record batch shrinks
    (librdkafka sends a batch uncompressed when compressing would make it bigger); keys never
    hold the key delimiter ':'."""
    rnd = random.Random(seed)
    alphabet = bytes(b for b in range(256) if b != 0x0A)
    out = []
    for i in range(n):
        key = b"key-%05d" % i
        tail = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40)))
        value = b"value-%05d-" % i + b"abcdefgh" * rnd.randint(8, 16) + tail
        out.append((key, value))
    return out


def produce(bootstrap, topic, msgs, codec):
    data = b"".join(k + b":" + v + b"\n" for k, v in msgs)
    return kcat(["-P", "-b", bootstrap, "-t", topic, "-p", "0", "-K:", "-z", codec,
                 "-X", "linger.ms=20"], stdin=data)


def consume(bootstrap, topic, offset_spec):
    """Reads partition 0 from offset_spec to the end; returns (rc, [(offset, key, value, ts)],
    stderr). The format carries lengths, so any byte in keys and values parses."""
    rc, out, err = kcat(["-C", "-b", bootstrap, "-t", topic, "-p", "0", "-o", offset_spec,
                         "-e", "-q", "-f", "%o %K %S %T|%k%s\n"])
    recs = []
    i = 0
    try:
        while i < len(out):
            bar = out.index(b"|", i)
            off, klen, vlen, ts = (int(x) for x in out[i:bar].split(b" "))
            p = bar + 1
            key = out[p:p + max(klen, 0)]
            p += max(klen, 0)
            value = out[p:p + max(vlen, 0)]
            p += max(vlen, 0)
            if out[p:p + 1] != b"\n":
                raise ValueError("no newline after the record at byte %d" % i)
            recs.append((off, key, value, ts))
            i = p + 1
    except ValueError as e:
        err += "\nparse error: %s" % e
        rc = rc or 1
    return rc, recs, err


def segment_batches(data_dir, topic, partition=0):
    """Every RecordBatch in the partition's segment files, in offset order (sluicetest.Batch:
    base_offset, records_count, last_offset, attributes, codec, control_type...)."""
    return sluicetest.segment_batches(os.path.join(data_dir, "data"), topic, partition)


def main():
    c = sluicetest.Checks()
    with sluicetest.Server() as s:
        bs = s.bootstrap
        topics = ["kcat-%s" % codec for codec in CODECS]

        for codec, code in CODECS.items():
            topic = "kcat-%s" % codec
            msgs = make_messages(code, N)
            rc, _, err = produce(bs, topic, msgs, codec)
            c.check("%s: kcat -P of %d keyed messages exits 0" % (codec, N), rc == 0, err[-2000:])
            c.check("%s: librdkafka did not fall back to no compression" % codec,
                    "not compressing" not in err, err[-2000:])
            rc, recs, err = consume(bs, topic, "beginning")
            c.check("%s: kcat -C exits 0" % codec, rc == 0, err[-2000:])
            c.check("%s: %d messages read back" % (codec, N), len(recs) == N, "got %d" % len(recs))
            bad = [i for i, (r, m) in enumerate(zip(recs, msgs)) if (r[1], r[2]) != m]
            c.check("%s: keys and values byte for byte" % codec, not bad and len(recs) == N,
                    "first mismatch at %s" % (bad[:1] or "-"))
            try:
                batches = segment_batches(s.data_dir, topic)
                end = sluicetest.list_offset(bs, topic, 0)
            except (OSError, ValueError) as e:
                batches, end = [], -1
                c.check("%s: segment files readable" % codec, False, str(e))
            data = [b for b in batches if not b.is_control]
            control = [b for b in batches if b.is_control]
            problems = sluicetest.offset_problems([r[0] for r in recs], batches, 0, end)
            c.check("%s: offsets increase, are exactly those of the stored records, and every "
                    "offset skipped is a control batch" % codec,
                    not problems and [r[0] for r in recs] == sluicetest.data_offsets(batches),
                    str(problems))
            codecs_seen = sorted({b.codec for b in data})
            c.check("%s: every stored data batch has codec %d (attributes bits 0-2)"
                    % (codec, code), codecs_seen == [code], "codecs in the log: %s" % codecs_seen)
            c.check("%s: the other batches are the Raft configuration and leader barrier, "
                    "uncompressed control batches" % codec,
                    [(b.control_type, b.codec) for b in control]
                    == [(sluicetest.CONTROL_RAFT_CHANGE, 0), (sluicetest.CONTROL_RAFT_BARRIER, 0)],
                    str(control))
            contiguous = all(b.base_offset == (batches[i - 1].last_offset + 1 if i else 0)
                             for i, b in enumerate(batches))
            c.check("%s: stored batches hold %d records at contiguous offsets up to the log end "
                    "%d" % (codec, N, end),
                    contiguous and sum(b.records_count for b in data) == N and len(batches) > 0
                    and batches[-1].last_offset + 1 == end,
                    "%d batches, %d records" % (len(batches), sum(b.records_count for b in data)))

        # Consume from a timestamp: only what was produced after T.
        topic = "kcat-timestamps"
        before, after = make_messages(100, 300), make_messages(101, 200)
        rc, _, err = produce(bs, topic, before, "lz4")
        c.check("timestamps: first produce", rc == 0, err[-2000:])
        time.sleep(0.05)
        t = int(time.time() * 1000)
        time.sleep(0.05)
        rc, _, err = produce(bs, topic, after, "lz4")
        c.check("timestamps: second produce", rc == 0, err[-2000:])
        rc, recs, err = consume(bs, topic, "s@%d" % t)
        c.check("timestamps: kcat -o s@T exits 0", rc == 0, err[-2000:])
        c.check("timestamps: -o s@T returns exactly the %d later messages" % len(after),
                [(r[1], r[2]) for r in recs] == after,
                "got %d messages, first offset %s" % (len(recs), recs[0][0] if recs else "-"))
        try:
            stored = sluicetest.data_offsets(segment_batches(s.data_dir, topic))
        except (OSError, ValueError) as e:
            stored = []
            c.check("timestamps: segment files readable", False, str(e))
        c.check("timestamps: at the offsets of the last %d stored records (%s..)"
                % (len(after), stored[len(before)] if len(stored) > len(before) else "-"),
                [r[0] for r in recs] == stored[len(before):]
                and len(stored) == len(before) + len(after))
        c.check("timestamps: every returned timestamp >= T", all(r[3] >= t for r in recs))
        rc, recs, err = consume(bs, topic, "s@%d" % (int(time.time() * 1000) + 60000))
        c.check("timestamps: a timestamp after the last message returns nothing",
                rc == 0 and recs == [], "rc=%d, %d messages" % (rc, len(recs)))
        topics.append(topic)

        # Metadata listing, JSON and text.
        rc, out, err = kcat(["-L", "-J", "-b", bs])
        try:
            md = json.loads(out.decode())
        except ValueError as e:
            md = {}
            err += "\nJSON: %s" % e
        c.check("metadata: kcat -L -J exits 0 with JSON", rc == 0 and md, err[-2000:])
        c.check("metadata: one broker, node 1 at %s" % bs,
                md.get("brokers") == [{"id": 1, "name": bs}], str(md.get("brokers")))
        c.check("metadata: controller is node 1", md.get("controllerid") == 1,
                str(md.get("controllerid")))
        listed = {t["topic"]: t for t in md.get("topics", [])}
        c.check("metadata: lists every topic produced to", set(topics) <= set(listed),
                "listed: %s" % sorted(listed))
        ok = all(len(listed[t]["partitions"]) == 1 and listed[t]["partitions"][0]["leader"] == 1
                 and not listed[t].get("error") for t in topics if t in listed)
        c.check("metadata: each has one partition led by node 1", ok)
        rc, out, err = kcat(["-L", "-b", bs, "-t", "kcat-lz4"])
        text = out.decode(errors="replace")
        c.check("metadata: text listing names the broker as controller",
                rc == 0 and ("broker 1 at %s (controller)" % bs) in text, text + err[-1000:])
        c.check("metadata: text listing shows the topic",
                'topic "kcat-lz4" with 1 partitions' in text, text)
        c.check("server still running", s.alive())
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
