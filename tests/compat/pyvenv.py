#!/usr/bin/python3
"""pyvenv: the cached virtual environment with the newest Python Kafka clients.

    pyvenv.py setup                 create or refresh it; prints its directory
    pyvenv.py run SCRIPT [ARGS...]  set it up, then run SCRIPT with its python

The environment is made from /usr/bin/python3 and tests/compat/requirements.txt (exact versions
with hashes, installed with --require-hashes) in
${XDG_CACHE_HOME:-$HOME/.cache}/sluice/venv-<first 16 hex digits of sha256(requirements.txt)>,
outside the source tree, so reruns reuse it and nothing is downloaded twice; a changed
requirements file gives a new directory. It is built in a temporary directory and renamed into
place only once complete, under a lock, so concurrent runs and interrupted installs never leave
a half-made environment behind.

If it cannot be made (PyPI unreachable, no venv module) this exits 1 with a clear message and,
for `run`, the closing line "0 passed, 1 failed": a test that could not run has failed, it has
not been skipped.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIREMENTS = os.path.join(HERE, "requirements.txt")
BASE_PYTHON = "/usr/bin/python3"
PIP_TIMEOUT_S = 240


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sluice")


def venv_dir():
    with open(REQUIREMENTS, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    return os.path.join(cache_root(), "venv-" + digest)


def complete(d):
    return os.path.isfile(os.path.join(d, ".sluice-complete"))


def fail(msg):
    print("pyvenv: %s" % msg, file=sys.stderr, flush=True)
    raise SystemExit(msg)


def create(d):
    """Builds the environment in a temporary sibling of `d`, then renames it to `d`."""
    tmp = tempfile.mkdtemp(prefix=os.path.basename(d) + ".tmp-", dir=os.path.dirname(d))
    try:
        p = subprocess.run([BASE_PYTHON, "-m", "venv", "--clear", tmp], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        if p.returncode != 0:
            fail("cannot create a virtual environment with %s -m venv (Debian package "
                 "python3-venv missing?):\n%s" % (BASE_PYTHON, p.stdout.decode(errors="replace")))
        print("pyvenv: installing %s into %s" % (REQUIREMENTS, d), file=sys.stderr, flush=True)
        cmd = [os.path.join(tmp, "bin", "python"), "-m", "pip", "install", "--no-input",
               "--disable-pip-version-check", "--require-hashes", "--no-deps",
               "--only-binary=:all:", "--retries", "2", "--timeout", "30", "-r", REQUIREMENTS]
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=PIP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            fail("pip install timed out after %ds: is PyPI reachable?" % PIP_TIMEOUT_S)
        if p.returncode != 0:
            fail("cannot install the new clients from PyPI (is it reachable? do the pinned "
                 "hashes in %s match?):\n%s" % (REQUIREMENTS, p.stdout.decode(errors="replace")[-4000:]))
        # The environment records its own path in bin/ scripts; only `bin/python -m ...` is used,
        # which works after the rename.
        open(os.path.join(tmp, ".sluice-complete"), "w").close()
        os.rename(tmp, d)
        tmp = None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def setup():
    d = venv_dir()
    if complete(d):
        return d
    os.makedirs(cache_root(), exist_ok=True)
    with open(os.path.join(cache_root(), "venv.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not complete(d):
            shutil.rmtree(d, ignore_errors=True)  # a leftover without the completion mark
            create(d)
    return d


def main(argv):
    if len(argv) >= 2 and argv[1] == "setup":
        print(setup())
        return 0
    if len(argv) >= 3 and argv[1] == "run":
        try:
            d = setup()
        except SystemExit as e:
            print("not ok - the new-clients virtual environment: %s" % e, flush=True)
            print("0 passed, 1 failed", flush=True)
            return 1
        python = os.path.join(d, "bin", "python")
        os.execv(python, [python] + argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
