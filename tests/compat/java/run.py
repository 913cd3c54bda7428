#!/usr/bin/env python3
"""Java client (kafka-clients 4.x) compatibility test runner.

    run.py [SLUICE_SERVER [MAIN_CLASS]]

1. Setup (build): Maven compiles SluiceCompat.java and writes the dependency classpath, into a
   cache outside the source tree ($SLUICE_COMPAT_CACHE or ~/.cache/sluice/compat/java-<hash>,
   named after the hash of pom.xml and the sources). When that folder is complete the build is
   skipped (no Maven at all). Otherwise it runs `mvn -o` (offline, from ~/.m2); if the local
   repository lacks something it runs once online (`dependency:go-offline` plus the build).
   If Maven or Maven Central is unreachable the test FAILS, saying so.
2. Starts a sluice-server (tests/lib/sluicetest.py), runs the program (MAIN_CLASS, default
   sluice.compat.SluiceCompat) with the bootstrap address
   under a time limit and relays its exit status. SLUICE_JAVA_DEBUG=1 turns on the client's debug
   log.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
import sluicetest  # noqa: E402

MVN_OFFLINE_TIMEOUT_S = 90
MVN_ONLINE_TIMEOUT_S = 240
CLIENT_TIMEOUT_S = 180
MAIN_CLASS = "sluice.compat.SluiceCompat"


from sluicetest import cache_root, fail, prune, run_client  # noqa: E402


def inputs():
    """pom.xml and every source file, relative to HERE, sorted."""
    files = ["pom.xml"]
    for d, _, names in os.walk(os.path.join(HERE, "src")):
        files += [os.path.relpath(os.path.join(d, n), HERE) for n in names]
    return sorted(files)


def mvn(args, timeout, what):
    cmd = ["mvn", "-B", "-q", "-f", os.path.join(HERE, "pom.xml")] + args
    start = time.monotonic()
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, "%s did not finish in %ds" % (what, timeout)
    out = r.stdout.decode(errors="replace")
    print("# setup: %s: status %d in %.1fs" % (what, r.returncode, time.monotonic() - start), flush=True)
    return r.returncode == 0, out


def build():
    """Returns the classpath (program classes + dependencies), building if needed."""
    java = shutil.which("java")
    if not java or not shutil.which("mvn"):
        fail("setup: java and mvn are needed (Debian packages openjdk-17-jdk-headless and maven); not found on PATH")
    h = hashlib.sha256()
    for rel in inputs():
        h.update(rel.encode() + b"\0")
        with open(os.path.join(HERE, rel), "rb") as f:
            h.update(f.read())
    root = cache_root()
    dest = os.path.join(root, "java-" + h.hexdigest()[:16])
    cp_file = os.path.join(dest, "classpath.txt")
    classes = os.path.join(dest, "classes")

    def classpath():
        with open(cp_file) as f:
            deps = f.read().strip()
        # a cleaned ~/.m2 makes a cached build useless: rebuild then
        if all(os.path.isfile(j) for j in deps.split(os.pathsep) if j):
            return classes + os.pathsep + deps
        return None

    if os.path.isfile(cp_file):
        cp = classpath()
        if cp:
            os.utime(dest)  # marks it in use for prune()
            return cp
    os.makedirs(root, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="java-tmp-", dir=root)
    try:
        goals = ["-Dsluice.build.dir=" + tmp, "compile", "dependency:build-classpath",
                 "-Dmdep.outputFile=" + os.path.join(tmp, "classpath.txt")]
        ok, out = mvn(["-o"] + goals, MVN_OFFLINE_TIMEOUT_S, "offline build (mvn -o)")
        if not ok:
            # Most likely the local repository lacks an artifact: fetch everything once.
            ok, out = mvn(["dependency:go-offline"] + goals, MVN_ONLINE_TIMEOUT_S,
                          "online build (mvn dependency:go-offline compile)")
            if not ok:
                print(out[-6000:])
                fail("setup: the Maven build failed (is Maven Central reachable? see the output above)")
        if os.path.isfile(cp_file) and classpath():
            pass  # a concurrent run finished first; its copy may be in use: keep it
        else:
            if os.path.isdir(dest):
                shutil.rmtree(dest, ignore_errors=True)  # an incomplete or stale earlier copy
            try:
                os.rename(tmp, dest)
            except OSError:
                if not os.path.isfile(cp_file):  # not another run's complete copy
                    raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    prune(root, "java-", dest)
    cp = classpath()
    if not cp:
        fail("setup: Maven built, but the classpath lists missing jars")
    return cp


def main():
    if len(sys.argv) > 1:
        os.environ["SLUICE_SERVER"] = sys.argv[1]
    main_class = sys.argv[2] if len(sys.argv) > 2 else MAIN_CLASS
    t0 = time.monotonic()
    cp = build()
    print("# setup done in %.1fs" % (time.monotonic() - t0), flush=True)
    with sluicetest.Server() as server:
        t1 = time.monotonic()
        # SluiceCompat reads the segment files there: the consumer never shows control batches.
        env = dict(os.environ, SLUICE_LOG_DIRS=os.path.join(server.data_dir, "data"))
        passed, failed = run_client(["java", "-Xmx512m", "-cp", cp, main_class, server.bootstrap],
                                    CLIENT_TIMEOUT_S, env=env)
        print("# client ran %.1fs" % (time.monotonic() - t1), flush=True)
        if not server.alive():
            print("not ok - sluice-server died during the test")
            failed += 1
        else:
            code = server.stop()  # a clean shutdown; under ASan this is where leaks show
            if code != 0:
                print("not ok - sluice-server exited with status %s on SIGTERM" % code)
                failed += 1
        if failed:
            print("---- server log (tail) ----\n" + server.log()[-20000:])
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
