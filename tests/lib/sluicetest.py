"""sluicetest: start and stop real sluice-server processes for integration and compatibility
tests, on 127.0.0.1 with free ports and temporary data directories.

Every wait is bounded; every server started is stopped (SIGTERM, then SIGKILL) when the
context manager exits, whatever happened. Standard library only, so it works under Debian's
/usr/bin/python3 and inside a virtual environment alike.

    with sluicetest.Server() as s:
        client(bootstrap=s.bootstrap)
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

READY_TIMEOUT_S = 20
STOP_TIMEOUT_S = 20


def server_binary():
    path = os.environ.get("SLUICE_SERVER")
    if path:
        return path
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "build", "src", "server", "sluice-server")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One sluice-server process. `args` are extra --key=value overrides."""

    def __init__(self, data_dir=None, args=(), port=None):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="sluice-test-")
        self.port = port or free_port()
        self.args = list(args)
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "server.log")

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        cmd = [
            server_binary(),
            "--node.id=1",
            "--log.dirs=%s" % os.path.join(self.data_dir, "data"),
            "--listeners=PLAINTEXT://127.0.0.1:%d" % self.port,
            "--peer.listener=127.0.0.1:%d" % free_port(),
            "--http.listener=127.0.0.1:%d" % free_port(),
        ] + self.args
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sluice-server exited with %d:\n%s" % (self.proc.returncode, self.log()))
            if 'msg="ready"' in self.log():
                return self
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError("sluice-server not ready after %ds:\n%s" % (READY_TIMEOUT_S, self.log()))

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """SIGTERM and wait; returns the exit code (SIGKILL after STOP_TIMEOUT_S)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT_S)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self):
        self.kill9()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            # __exit__ is not called when __enter__ raises: clean up here.
            self.cleanup()
            raise

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            if exc[0] is not None:
                # Keep the evidence in the test's output.
                print("---- server log ----\n" + self.log()[-20000:])
            self.cleanup()
        return False


class Checks:
    """Counts named checks and prints a closing line; exit status says if all passed."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok - %s" % name, flush=True)
        else:
            self.failed += 1
            print("not ok - %s %s" % (name, detail), flush=True)

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 0 if self.failed == 0 and self.passed > 0 else 1


# ---- helpers for runners that relay a client program's checks (kafkajs, Java) ----

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")


def run_client(cmd, timeout, env=None):
    """Runs the client, relays its stdout and returns (passed, failed) from its closing line;
    a time-out, an exit status that its line does not explain or a missing line add a failure."""
    try:
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, timeout=timeout)
        out, status = r.stdout, r.returncode
    except subprocess.TimeoutExpired as e:
        out, status = e.output or b"", None
    lines = out.decode(errors="replace").rstrip("\n").split("\n")
    passed = failed = 0
    m = SUMMARY.match(lines[-1].strip()) if lines else None
    if m:
        lines.pop()  # printed again, with the runner's own failures, as the last line
        passed, failed = int(m.group(1)), int(m.group(2))
    print("\n".join(lines), flush=True)
    if status is None:
        print("not ok - the client (%s) still running after %ds (killed)" % (cmd[0], timeout))
        failed += 1
    elif m is None:
        print("not ok - the client printed no closing 'N passed, N failed' line (exit status %d)" % status)
        failed += 1
    elif status != 0 and failed == 0:
        print("not ok - the client exited with status %d" % status)
        failed += 1
    return passed, failed


def fail(msg):
    """A setup failure: reported as one failed check, and the runner exits."""
    print("not ok - %s" % msg, flush=True)
    print("0 passed, 1 failed", flush=True)
    sys.exit(1)


def prune(root, prefix, keep):
    """Removes cached builds of other versions of the inputs (best effort); only those unused
    for an hour, since another checkout's test may be running from one."""
    for name in os.listdir(root):
        path = os.path.join(root, name)
        try:
            old = time.time() - os.path.getmtime(path) > 3600
        except OSError:
            continue
        if name.startswith(prefix) and path != keep and "-tmp-" not in name and old:
            shutil.rmtree(path, ignore_errors=True)


def cache_root():
    root = os.environ.get("SLUICE_COMPAT_CACHE")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "sluice", "compat")
    return root


