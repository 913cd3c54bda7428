#!/usr/bin/env bash
# server_lifecycle: sluice-server starts, says "ready", refuses a second server on its data
# directory, stops with exit code 0 on SIGTERM and SIGINT, and rejects bad configuration with
# exit code 2 and a message naming the key. Also: `sluice --version`.
#
# usage: server_lifecycle.sh SLUICE_SERVER SLUICE_CLI VERSION
#
# Prints "ok - ..." or "not ok - ..." per check and exits non-zero if any check failed. Every
# process it starts is killed (by pid) and its temporary directory removed on every exit path.
set -uo pipefail

server=${1:?usage: server_lifecycle.sh SLUICE_SERVER SLUICE_CLI VERSION}
cli=${2:?usage: server_lifecycle.sh SLUICE_SERVER SLUICE_CLI VERSION}
version=${3:?usage: server_lifecycle.sh SLUICE_SERVER SLUICE_CLI VERSION}

# Bound on waiting for a line in a log or for a process to exit.
wait_s_max=10

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it.XXXXXX")
pids=()
failed=0

cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	failed=$((failed + 1))
}

# Shows a file's contents, indented, after a failed check.
show() {
	echo "  --- $1:"
	sed 's/^/  | /' "$1" 2>/dev/null | tail -n 30
}

# Prints a TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Waits until `file` contains the fixed string `text` or the process `pid` ends. Returns 0 if
# the text appeared.
wait_for_line() {
	local file=$1 text=$2 pid=$3
	local deadline=$((SECONDS + wait_s_max))
	while ((SECONDS <= deadline)); do
		grep -qF -- "$text" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || {
			grep -qF -- "$text" "$file" 2>/dev/null
			return
		}
		sleep 0.05
	done
	return 1
}

# Waits for `pid` (a child) to exit within the bound; sets `status` to its exit code, or to
# "timeout" after killing it.
wait_exit() {
	local pid=$1
	local deadline=$((SECONDS + wait_s_max))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS <= deadline)); do
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		status=timeout
		return
	fi
	wait "$pid"
	status=$?
}

# Writes a node configuration with fresh ports and the given data directory to `file`.
write_config() {
	local file=$1 dir=$2
	cat >"$file" <<CONFIG
# written by server_lifecycle.sh
node.id=1
listeners=PLAINTEXT://127.0.0.1:$(free_port)
peer.listener=127.0.0.1:$(free_port)
http.listener=127.0.0.1:$(free_port)
log.dirs=$dir
CONFIG
}

ready='level=info module=server msg="ready"'
data=$tmp/data

# 1. The server starts on a missing directory, creates it and says it is ready.
write_config "$tmp/a.properties" "$data"
"$server" --config "$tmp/a.properties" >"$tmp/a.log" 2>&1 &
a=$!
pids+=("$a")
if wait_for_line "$tmp/a.log" "$ready" "$a"; then
	ok "server reports ready"
else
	not_ok "server did not report ready within ${wait_s_max}s"
	show "$tmp/a.log"
fi
if grep -qF "version=$version" "$tmp/a.log" && grep -qF "log_dirs=\"$data\"" "$tmp/a.log"; then
	ok "start-up line names the version and the data directory"
else
	not_ok "start-up line lacks version=$version or log_dirs=\"$data\""
	show "$tmp/a.log"
fi
if [[ -d $data && "$(cat "$data/.lock" 2>/dev/null)" == "$a" ]]; then
	ok "data directory created, lock file holds the server's pid"
else
	not_ok "expected $data/.lock to hold pid $a"
fi

# 2. A second server on the same directory fails with an error naming the directory and the
#    holder's pid, and does not disturb the first.
write_config "$tmp/b.properties" "$data"
"$server" --config "$tmp/b.properties" >"$tmp/b.log" 2>&1 &
b=$!
pids+=("$b")
wait_exit "$b"
if [[ $status == 1 ]] && grep -qF "data directory $data is in use" "$tmp/b.log" &&
	grep -qF "pid $a" "$tmp/b.log"; then
	ok "second server on the same log.dirs exits 1 naming the directory and pid $a"
else
	not_ok "second server: exit status $status, expected 1 and a lock error naming $data and pid $a"
	show "$tmp/b.log"
fi
if kill -0 "$a" 2>/dev/null; then
	ok "first server still running"
else
	not_ok "first server died when the second one started"
fi

# 3. SIGTERM stops the server in order, with exit code 0.
kill -TERM "$a" 2>/dev/null
wait_exit "$a"
if [[ $status == 0 ]] && grep -qF 'msg="stopped"' "$tmp/a.log"; then
	ok "SIGTERM: server logs stopped and exits 0"
else
	not_ok "SIGTERM: exit status $status, expected 0 and a stopped line"
	show "$tmp/a.log"
fi

# 4. The lock is released: a new server takes the same directory, and SIGINT stops it with 0.
"$server" --config "$tmp/b.properties" >"$tmp/c.log" 2>&1 &
c=$!
pids+=("$c")
if wait_for_line "$tmp/c.log" "$ready" "$c"; then
	kill -INT "$c" 2>/dev/null
	wait_exit "$c"
	if [[ $status == 0 ]]; then
		ok "restart on the same log.dirs works; SIGINT exits 0"
	else
		not_ok "SIGINT: exit status $status, expected 0"
		show "$tmp/c.log"
	fi
else
	not_ok "restart on the same log.dirs did not become ready"
	show "$tmp/c.log"
fi

# 5. An unknown key in the file: exit 2 and a message naming the file, line and key.
printf '# a typo on line 3\nnode.id=1\nlog.segmnet.bytes=1048576\nlog.dirs=%s\n' "$tmp/bad" \
	>"$tmp/bad.properties"
"$server" --config "$tmp/bad.properties" >"$tmp/bad.log" 2>&1
status=$?
if [[ $status == 2 ]] &&
	grep -qF "$tmp/bad.properties:3: unknown key 'log.segmnet.bytes'" "$tmp/bad.log"; then
	ok "unknown key: exit 2 naming file, line 3 and the key"
else
	not_ok "unknown key: exit status $status, expected 2 and a message naming line 3 and the key"
	show "$tmp/bad.log"
fi
if [[ ! -e $tmp/bad ]]; then
	ok "a rejected configuration creates nothing"
else
	not_ok "a rejected configuration created $tmp/bad"
fi

# 6. A bad value on the command line: exit 2 and a message naming the key.
"$server" --log.dirs="$tmp/bad" --num.partitions=lots >"$tmp/bad2.log" 2>&1
status=$?
if [[ $status == 2 ]] && grep -qF "num.partitions: value 'lots' is not an integer" "$tmp/bad2.log"; then
	ok "bad --key=value: exit 2 naming the key"
else
	not_ok "bad --num.partitions: exit status $status, expected 2 and a message naming the key"
	show "$tmp/bad2.log"
fi

# 7. Versions.
out=$("$server" --version 2>&1)
if [[ $out == "sluice-server $version" ]]; then
	ok "sluice-server --version prints $version"
else
	not_ok "sluice-server --version printed '$out', expected 'sluice-server $version'"
fi
out=$("$cli" --version 2>&1)
if [[ $out == "sluice $version" ]]; then
	ok "sluice --version prints $version"
else
	not_ok "sluice --version printed '$out', expected 'sluice $version'"
fi

if ((failed > 0)); then
	echo "server_lifecycle: $failed check(s) failed"
	exit 1
fi
echo "server_lifecycle: all checks passed"
