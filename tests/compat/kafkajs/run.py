#!/usr/bin/env python3
"""kafkajs compatibility test runner.

    run.py [SLUICE_SERVER]

1. Setup: installs the locked kafkajs (package-lock.json) with `npm ci` into a cache outside the
   source tree, $SLUICE_COMPAT_CACHE or ~/.cache/sluice/compat, in a folder named after the lock
   file's hash, so it runs only when that folder is missing (a changed lock gets a new folder).
   If npm or the registry is unreachable the test FAILS, saying so.
2. Starts a sluice-server (tests/lib/sluicetest.py), runs `node compat.js BOOTSTRAP` with a time
   limit and relays its exit status. SLUICE_KAFKAJS_DEBUG=1 turns on kafkajs's debug log.
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

NPM_TIMEOUT_S = 90
CLIENT_TIMEOUT_S = 150


from sluicetest import cache_root, fail, prune, run_client  # noqa: E402


def install_kafkajs():
    """Returns the node_modules folder holding the locked kafkajs, installing it if needed."""
    npm = shutil.which("npm")
    node = shutil.which("node")
    if not npm or not node:
        fail("setup: node and npm are needed (Debian packages nodejs and npm); not found on PATH")
    with open(os.path.join(HERE, "package-lock.json"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    root = cache_root()
    dest = os.path.join(root, "kafkajs-" + digest)
    modules = os.path.join(dest, "node_modules")
    if os.path.isfile(os.path.join(modules, "kafkajs", "package.json")):
        os.utime(dest)  # marks it in use for prune()
        return modules
    os.makedirs(root, exist_ok=True)
    # Install into a private folder, then rename: a failed or concurrent run never leaves a
    # half-installed folder under the final name.
    tmp = tempfile.mkdtemp(prefix="kafkajs-tmp-", dir=root)
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(HERE, name), tmp)
        start = time.monotonic()
        try:
            r = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=NPM_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            fail("setup: `npm ci` did not finish in %ds (is the npm registry reachable?)" % NPM_TIMEOUT_S)
        if r.returncode != 0:
            print(r.stdout.decode(errors="replace")[-4000:])
            fail("setup: `npm ci` failed with status %d (is the npm registry reachable?)" % r.returncode)
        print("# setup: npm ci took %.1fs, cached in %s" % (time.monotonic() - start, dest), flush=True)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not os.path.isdir(os.path.join(modules, "kafkajs")):  # not another run's copy
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    prune(root, "kafkajs-", dest)
    return modules


def main():
    if len(sys.argv) > 1:
        os.environ["SLUICE_SERVER"] = sys.argv[1]
    t0 = time.monotonic()
    modules = install_kafkajs()
    print("# setup done in %.1fs" % (time.monotonic() - t0), flush=True)
    env = dict(os.environ, NODE_PATH=modules, KAFKAJS_NO_PARTITIONER_WARNING="1")
    with sluicetest.Server() as server:
        t1 = time.monotonic()
        passed, failed = run_client(["node", os.path.join(HERE, "compat.js"), server.bootstrap],
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
