#!/usr/bin/env bash
# Tests `threadwatch dump PID` (docs/dump.md) against real, hung processes.
#
#   tests/dump/run.sh BUILD_DIR
#
# Builds tests/dump/hung.c (`cc -g -O1 -pthread`), starts it in the background under
# LD_PRELOAD=BUILD_DIR/libthreadwatch.so (THREADWATCH_STALL=0: no stall reports while we look), waits
# until its dump shows every thread blocked (polling, never a blind sleep), and checks real output:
# the grouped text dump, --all, --json, the errors (no process, no preload, no reporter yet, stale
# socket, unknown request), the same-user rule (as root: runs the CLI and the program as nobody with
# setpriv; skipped with a SKIP line when not root), a private-directory refusal, the socket's removal
# at a normal exit, and fork (the child has its own socket, the parent's still works, no fd leaks).
#
# Environment: TW_TEST_TIMEOUT_MULT (default 1) multiplies every wait; TW_TEST_KEEP=1 keeps the
# temporary directory; CC (default cc).
# Output: PASS/FAIL/SKIP per check, then exactly `dump: N passed, M failed`; exit 1 on any failure.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "$1" && pwd)
MULT=${TW_TEST_TIMEOUT_MULT:-1}
unset "${!THREADWATCH_@}"

passed=0
failed=0
TMP=$(mktemp -d /tmp/tw-dump.XXXXXX)
chmod 755 "$TMP" # the programs and the CLI also run as nobody
pids=()
made_dirs=()

cleanup() {
  exec 2>/dev/null # no "Killed" notices from bash for the processes we end here
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  # Killed processes cannot remove their sockets: remove those of our own processes.
  for p in "${pids[@]}"; do rm -f /tmp/threadwatch-*/"$p".sock; done
  for d in "${made_dirs[@]}"; do rm -rf "$d"; done
  [ "${TW_TEST_KEEP:-0}" = 1 ] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
# fail NAME: says what the last CLI run printed.
fail() {
  echo "FAIL: $1"
  echo "  exit status: $rc"
  echo "  stdout:"; head -40 "$TMP/out" | sed 's/^/    /'
  echo "  stderr:"; head -10 "$TMP/err" | sed 's/^/    /'
  failed=$((failed + 1))
}
# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
finish() {
  echo "dump: $passed passed, $failed failed"
  [ "$failed" = 0 ]
  exit $?
}

# The library and the CLI, copied where nobody can read them (BUILD_DIR may sit in a private home).
mkdir -p "$TMP/bin"
cp "$BUILD/libthreadwatch.so" "$BUILD/threadwatch" "$TMP/bin/"
LIB=$TMP/bin/libthreadwatch.so
CLI=$TMP/bin/threadwatch
HUNG=$TMP/bin/hung
if ! ${CC:-cc} -g -O1 -pthread -o "$HUNG" "$HERE/hung.c"; then
  echo "FAIL: cannot build tests/dump/hung.c"
  failed=1
  finish
fi
chmod -R a+rX "$TMP/bin"
ME=$(id -u)
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# cli [PREFIX...] -- ARGS...: runs the CLI (under PREFIX, e.g. setpriv), output in $TMP/out and
# $TMP/err, status in $rc.
cli() {
  local prefix=()
  while [ "$1" != "--" ]; do prefix+=("$1"); shift; done
  shift
  timeout $((15 * MULT)) "${prefix[@]}" "$CLI" "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
}
out_has() { grep -qE -- "$1" "$TMP/out"; }
err_has() { grep -qE -- "$1" "$TMP/err"; }
# fails_with REGEX: the CLI exited 1, printed nothing on stdout and one line matching REGEX on
# stderr.
fails_with() {
  [ "$rc" = 1 ] && [ ! -s "$TMP/out" ] && [ "$(wc -l <"$TMP/err")" = 1 ] && err_has "$1"
}

# start NAME [PREFIX...] -- PROGRAM ARGS...: starts a program in the background in its own directory
# $TMP/NAME (writable by anyone), stderr in $TMP/NAME/err; its pid in $started.
start() {
  local name=$1 prefix=(); shift
  while [ "$1" != "--" ]; do prefix+=("$1"); shift; done
  shift
  mkdir -p "$TMP/$name"
  chmod 777 "$TMP/$name"
  (cd "$TMP/$name" && exec "${prefix[@]}" "$@" </dev/null >"$TMP/$name/out" 2>"$TMP/$name/err") &
  started=$!
  pids+=("$started")
}
PRELOADED=(env LD_PRELOAD="$LIB" THREADWATCH_STALL=0)

# until_true TRIES COMMAND...: polls COMMAND every 50 ms, at most TRIES x MULT times.
until_true() {
  local tries=$(($1 * MULT)); shift
  while [ "$tries" -gt 0 ]; do
    "$@" && return 0
    sleep 0.05
    tries=$((tries - 1))
  done
  return 1
}
# dump_shows PID REGEX [PREFIX...]: one dump of PID matches REGEX.
dump_shows() {
  local pid=$1 want=$2; shift 2
  cli "$@" -- dump "$pid" && out_has "$want"
}
tasks() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
has_tasks() { [ "$(tasks "$1")" -ge "$2" ]; }

# --- a hung process under the preload: 3 condvar waiters, 1 pipe reader, 1 idler in pause(), main
# joining ---
start hung -- "${PRELOADED[@]}" "$HUNG"
H=$started
if ! until_true 200 dump_shows "$H" '^threadwatch dump of pid [0-9]+: 6 threads \(1 running, 5 blocked\)$'; then
  fail "the hung program becomes ready (6 threads, 5 blocked)"
  finish
fi
cp "$TMP/out" "$TMP/grouped.txt"

# (a) grouped text
g=$TMP/grouped.txt
check "grouped: header names the pid and the counts" \
  grep -qE "^threadwatch dump of pid $H: 6 threads \(1 running, 5 blocked\)$" "$g"
check "grouped: the condvar group comes first and counts 3 threads" \
  bash -c "grep -E '^[0-9]+ threads?: ' '$g' | head -1 | grep -qE '^3 threads: blocked in pthread_cond_wait\(\) on condvar 0x[0-9a-f]+ \(mutex 0x[0-9a-f]+\) for '"
check "grouped: the condvar group lists T2, T3, T4" grep -qE '^  threads: T2 \(tid [0-9]+\), T3 \(tid [0-9]+\), T4 \(tid [0-9]+\)$' "$g"
check "grouped: the pipe reader is blocked in read() on a pipe fd nobody wrote" \
  grep -qE '^1 thread: blocked in read\(\) on pipe fd [0-9]+ for [0-9.]+m?s; no thread has written to it:$' "$g"
check "grouped: the reader's name is shown" grep -qE '^  threads: T5 "reader" \(tid [0-9]+\)$' "$g"
# How far the stack of a thread in an unwatched call is read depends on the unwinder (a gcc build
# reaches idler(), a clang -O0 build stops in libc): only its first frame is required.
check "grouped: a thread in an unwatched call is running, with its system call and stack" \
  bash -c "grep -A2 -E '^1 thread: running \(not in a watched blocking call\): in system call [a-z_0-9]+ at .*:$' '$g' | grep -A1 -E '^  threads: T6 \(tid [0-9]+\)$' | grep -qE '^    #0 0x[0-9a-f]+ in '"
check "grouped: main is blocked in pthread_join() on T2" \
  grep -qE '^1 thread: blocked in pthread_join\(\) on thread T2 for ' "$g"
check "grouped: stacks name cond_waiter and pipe_reader (hung.c lines)" \
  bash -c "grep -qE '#0 0x[0-9a-f]+ in cond_waiter .*hung.c:[0-9]+' '$g' && grep -qE '#0 0x[0-9a-f]+ in pipe_reader .*hung.c:[0-9]+' '$g'"
check "grouped: creation stacks name start_waiters and start_reader" \
  bash -c "grep -A1 '^  created by T1 at:' '$g' | grep -qE '#0 .* in start_waiters ' && grep -A1 '^  created by T1 at:' '$g' | grep -qE '#0 .* in start_reader '"
check "grouped: each group prints its stack once (one cond_waiter frame for 3 threads)" \
  bash -c "[ \$(grep -c ' in cond_waiter ' '$g') = 1 ]"
check "grouped: the main thread has no creation stack" \
  bash -c "! awk '/pthread_join\\(\\) on thread T2/ { f = 1 } f && /^$/ { exit } f' '$g' | grep -q created"

# (b) --all
cli -- dump --all "$H"
cp "$TMP/out" "$TMP/all.txt"
check "--all: exits 0" [ "$rc" = 0 ]
check "--all: lists T1..T6, one line each" \
  bash -c "for i in 1 2 3 4 5 6; do [ \$(grep -cE \"^T\$i( \\\"[^\\\"]*\\\")? \\(tid [0-9]+\\) (blocked in|running) \" '$TMP/all.txt') = 1 ] || exit 1; done"
check "--all: every tid listed is a thread of the process" \
  bash -c "for t in \$(grep -oE '^T[0-9]+.*\\(tid [0-9]+\\)' '$TMP/all.txt' | grep -oE 'tid [0-9]+' | cut -d' ' -f2); do [ -d /proc/$H/task/\$t ] || exit 1; done"
check "--all: each condvar waiter has its own stack" bash -c "[ \$(grep -c ' in cond_waiter ' '$TMP/all.txt') = 3 ]"
cli -- dump -a "$H"
check "-a is --all" out_has '^T5 "reader" \(tid [0-9]+\) blocked in read\(\) on pipe fd'

# (c) --json
cli -- dump --json "$H"
cp "$TMP/out" "$TMP/grouped.json"
check "--json: one JSON document with the counts and groups" python3 - "$TMP/grouped.json" "$H" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
fn = lambda st: [f["function"] for f in st]
assert d["pid"] == int(sys.argv[2]) and d["threads"] == 6, d
assert d["running"] == 1 and d["blocked"] == 5, d
g = d["groups"]
assert [x["count"] for x in g] == sorted([x["count"] for x in g], reverse=True), g
assert g[0]["count"] == 3 and g[0]["state"] == "blocked" and g[0]["ids"] == [2, 3, 4], g[0]
w = g[0]["wait"]
assert w["call"] == "pthread_cond_wait" and w["object"].startswith("condvar 0x"), w
assert w["address"].startswith("0x") and w["for_ms"] >= w["min_for_ms"] >= 0, w
assert fn(g[0]["stack"])[0] == "cond_waiter" and "start_waiters" in fn(g[0]["created_at"]), g[0]
rd = [x for x in g if x.get("wait", {}).get("call") == "read"]
assert len(rd) == 1 and rd[0]["ids"] == [5] and isinstance(rd[0]["wait"]["fd"], int), rd
assert rd[0]["wait"]["object"].startswith("pipe fd ") and rd[0]["wait"]["note"], rd
assert "pipe_reader" in fn(rd[0]["stack"]) and "start_reader" in fn(rd[0]["created_at"]), rd
run = [x for x in g if x["state"] == "running"]
assert len(run) == 1 and run[0]["ids"] == [6] and "wait" not in run[0], run
assert run[0]["note"].startswith("in system call ") and run[0]["stack"], run
mn = [x for x in g if x["ids"] == [1]]
assert mn[0]["wait"]["call"] == "pthread_join" and mn[0]["created_at"] == [], mn
EOF
cli -- dump --all --json "$H"
cp "$TMP/out" "$TMP/all.json"
check "--all --json: every thread object, as in docs/report-format.md" python3 - "$TMP/all.json" "$H" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["threads"]
assert d["pid"] == int(sys.argv[2]) and [x["id"] for x in t] == [1, 2, 3, 4, 5, 6], d
for x in t:
    assert set(x) >= {"id", "tid", "name", "state", "parent", "stack", "created_at"}, x
    assert x["stack"] and x["created_at"] or x["id"] == 1, x
    if x["id"] == 6:
        assert x["state"] == "running" and "wait" not in x and x["note"], x
    else:
        assert x["state"] == "blocked" and x["wait"]["for_ms"] >= 0, x
    for f in x["stack"] + x["created_at"]:
        assert set(f) >= {"pc", "function", "module"}, f
assert t[0]["created_at"] == [] and t[0]["parent"] == 0, t[0]
assert t[4]["name"] == "reader" and t[4]["wait"]["call"] == "read" and t[4]["parent"] == 1, t[4]
assert all(x["wait"]["call"] == "pthread_cond_wait" for x in t[1:4]), t
assert t[5]["parent"] == 1 and t[5]["stack"], t[5]
EOF

# Requests the CLI never sends, and a client that goes away without reading.
SOCK=/tmp/threadwatch-$ME/$H.sock
ask() { # ask REQUEST: sends REQUEST raw, prints the answer
  timeout $((10 * MULT)) python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode())
out = b""
while True:
    b = s.recv(65536)
    if not b: break
    out += b
sys.stdout.write(out.decode())' "$SOCK" "$1"
}
rc=0
ask $'hello\n' >"$TMP/out" 2>"$TMP/err"
check "an unknown request is answered with one line" \
  bash -c "[ \"\$(cat '$TMP/out')\" = 'threadwatch: unknown request' ]"
ask $'dump everything\n' >"$TMP/out" 2>"$TMP/err"
check "a dump with an unknown word is an unknown request" out_has '^threadwatch: unknown request$'
ask $'dump json all\n' >"$TMP/out" 2>"$TMP/err"
check "request words in any order" python3 -c 'import json,sys; assert len(json.load(open(sys.argv[1]))["threads"]) == 6' "$TMP/out"
# A client that asks for the largest answer and hangs up at once: the send fails with EPIPE, which
# must neither kill the process (SIGPIPE) nor stop later answers.
python3 -c '
import socket, sys
for _ in range(5):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"dump all\n"); s.close()' "$SOCK"
check "clients that hang up early: the process lives and answers again" \
  until_true 100 dump_shows "$H" '^threadwatch dump of pid'
fds_before=$(ls "/proc/$H/fd" | sort | tr '\n' ' ')
for _ in 1 2 3; do cli -- dump --all --json "$H"; done
fds_after=$(ls "/proc/$H/fd" | sort | tr '\n' ' ')
check "dumps leave no fd behind in the process" [ "$fds_before" = "$fds_after" ]
listen_fd=$(for f in $(ls "/proc/$H/fd"); do
  [ "$f" -ge 900 ] && case $(readlink "/proc/$H/fd/$f") in socket:*) echo "$f" ;; esac
done | head -1)
check "the listening socket sits at a high fd number, close-on-exec" \
  bash -c "[ -n '$listen_fd' ] && [ '$listen_fd' -ge 900 ] && grep -qE '^flags:\s+0*2[0-7]{6}$' /proc/$H/fdinfo/$listen_fd"
check "the control directory is private" bash -c "[ \"\$(stat -c '%a %u' /tmp/threadwatch-$ME)\" = '700 $ME' ]"
# Its stderr has reports (all its threads are asleep: a deadlock), but no line of the tool's own.
rc=0; : >"$TMP/out"; cp "$TMP/hung/err" "$TMP/err"
check "the hung program printed no 'threadwatch:' error line" bash -c "! grep -q '^threadwatch:' '$TMP/err'"

# (d) errors
start plain -- "$HUNG"
P=$started
until_true 200 has_tasks "$P" 6
cli -- dump "$P"
check "a process without the preload: 'not running under libthreadwatch.so', exit 1" \
  fails_with "^threadwatch: process $P is not running under libthreadwatch.so \(start it with LD_PRELOAD=.*libthreadwatch.so or \`threadwatch run\`\)$"
( exit 0 ) &
gone=$!
wait "$gone"
until_true 20 bash -c "[ ! -d /proc/$gone ]"
cli -- dump "$gone"
check "no such process: 'no process PID', exit 1" fails_with "^threadwatch: no process $gone$"
start nothread -- env LD_PRELOAD="$LIB" sleep 1000
S=$started
until_true 200 grep -q libthreadwatch "/proc/$S/maps"
cli -- dump "$S"
check "preloaded but no thread yet: 'has not started its reporter thread yet', exit 1" \
  fails_with "^threadwatch: process $S has not started its reporter thread yet \(it starts with the first thread or blocking wait\)$"
# A socket file nobody listens on (a process killed before it could remove it).
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' \
  "/tmp/threadwatch-$ME/$S.sock"
cli -- dump "$S"
check "a stale socket: 'connection refused', exit 1" fails_with "^threadwatch: process $S does not answer on .*connection refused"
rm -f "/tmp/threadwatch-$ME/$S.sock"
cli -- dump
check "no PID: usage, exit 2" bash -c "[ $rc = 2 ] && grep -q 'threadwatch dump' '$TMP/err'"
cli -- dump --bogus "$H"
check "an unknown option: usage, exit 2" [ "$rc" = 2 ]

# (e) the same-user rule
if [ "$ME" != 0 ]; then
  echo "SKIP: another user is refused (needs root to run as nobody)"
elif ! command -v setpriv >/dev/null; then
  echo "SKIP: another user is refused (setpriv, from util-linux, is missing)"
elif [ -e /tmp/threadwatch-65534 ] && [ "$(stat -c %u /tmp/threadwatch-65534)" != 65534 ]; then
  echo "SKIP: another user is refused (/tmp/threadwatch-65534 exists and is not nobody's)"
else
  cli "${NOBODY[@]}" -- dump "$H"
  check "the CLI as nobody on root's process: 'permission denied', exit 1" \
    fails_with "^threadwatch: permission denied: process $H belongs to another user; threadwatch dump answers only to the user who runs the process$"
  start nobody "${NOBODY[@]}" -- "${PRELOADED[@]}" "$HUNG"
  N=$started
  if until_true 200 dump_shows "$N" ': 6 threads \(1 running, 5 blocked\)' "${NOBODY[@]}"; then
    pass "nobody dumps its own process"
  else
    fail "nobody dumps its own process"
  fi
  cli -- dump "$N"
  check "root asks nobody's process: the process refuses, exit 1" \
    fails_with "^threadwatch: refused: this process answers only to uid 65534$"
  check "nobody's socket is in nobody's private directory" \
    bash -c "[ -S /tmp/threadwatch-65534/$N.sock ] && [ \"\$(stat -c '%a %u' /tmp/threadwatch-65534)\" = '700 65534' ]"
fi

# A control directory that is not private: the process says so once and makes no socket.
if [ "$ME" != 0 ] || ! command -v setpriv >/dev/null; then
  echo "SKIP: a control directory that is not private (needs root and setpriv)"
elif [ -e /tmp/threadwatch-65533 ]; then
  echo "SKIP: a control directory that is not private (/tmp/threadwatch-65533 exists already)"
else
  mkdir -m 755 /tmp/threadwatch-65533
  made_dirs+=(/tmp/threadwatch-65533)
  start notprivate setpriv --reuid=65533 --regid=65533 --clear-groups -- "${PRELOADED[@]}" "$HUNG"
  Q=$started
  until_true 200 grep -qs 'threadwatch dump is off' "$TMP/notprivate/err"
  rc=0
  cp "$TMP/notprivate/err" "$TMP/err"; : >"$TMP/out"
  check "a directory that is not private: one line on stderr, no socket" \
    bash -c "[ \"\$(cat '$TMP/err')\" = 'threadwatch: the control directory /tmp/threadwatch-65533 is not private (owned by uid 0, mode 0755); threadwatch dump is off' ] && [ ! -e /tmp/threadwatch-65533/$Q.sock ]"
fi

# (f) a normal exit removes the socket; a start removes sockets that dead processes left
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' \
  "/tmp/threadwatch-$ME/$gone.sock"
start exit -- "${PRELOADED[@]}" "$HUNG" exit
X=$started
until_true 200 dump_shows "$X" ': 2 threads \(1 running, 1 blocked\)'
check "a start removes the socket file of a dead process" [ ! -e "/tmp/threadwatch-$ME/$gone.sock" ]
check "exit: the socket is there while the process runs" [ -S "/tmp/threadwatch-$ME/$X.sock" ]
kill -USR1 "$X"
wait "$X"
xrc=$?
rc=$xrc
check "exit: the process exits 0 by itself" [ "$xrc" = 0 ]
check "exit: its socket file is gone" [ ! -e "/tmp/threadwatch-$ME/$X.sock" ]

# (g) fork: the child has its own socket; the parent's still works; no fd crosses over
start fork -- "${PRELOADED[@]}" "$HUNG" fork
F=$started
child_of() { cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{print $1}'; }
until_true 200 bash -c "[ -n \"\$(cat /proc/$F/task/$F/children 2>/dev/null)\" ]"
C=$(child_of "$F")
[ -n "$C" ] && pids+=("$C")
if [ -z "$C" ]; then
  rc=1
  fail "fork: the child exists"
else
  check "fork: the child answers with its own threads" \
    until_true 200 dump_shows "$C" "^threadwatch dump of pid $C: 2 threads \(0 running, 2 blocked\)$"
  check "fork: the child's dump shows its reader, not the parent's waiter" \
    bash -c "grep -q ' in pipe_reader ' '$TMP/out' && ! grep -q ' in cond_waiter ' '$TMP/out'"
  check "fork: the parent still answers with its own threads" \
    until_true 200 dump_shows "$F" "^threadwatch dump of pid $F: 2 threads \(0 running, 2 blocked\)$"
  check "fork: the parent's dump shows its waiter, not the child's reader" \
    bash -c "grep -q ' in cond_waiter ' '$TMP/out' && ! grep -q ' in pipe_reader ' '$TMP/out'"
  check "fork: two socket files, one per process" \
    bash -c "[ -S /tmp/threadwatch-$ME/$F.sock ] && [ -S /tmp/threadwatch-$ME/$C.sock ]"
  check "fork: the child holds none of the parent's sockets" \
    bash -c "[ -z \"\$(comm -12 <(for f in /proc/$F/fd/*; do readlink \$f; done 2>/dev/null | grep ^socket: | sort) <(for f in /proc/$C/fd/*; do readlink \$f; done 2>/dev/null | grep ^socket: | sort))\" ]"
fi

finish
