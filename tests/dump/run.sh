#!/usr/bin/env bash
# Tests `threadwatch dump PID` (docs/dump.md) against real, hung processes.
#
#   tests/dump/run.sh BUILD_DIR
#
# Builds tests/dump/hung.c (`cc -g -O1 -pthread`), starts it in the background under
# LD_PRELOAD=BUILD_DIR/libthreadwatch.so (THREADWATCH_STALL=0: no stall reports while we look),
# waits until its dump shows every thread where it should be (polling, never a blind sleep), and
# checks real output: the grouped text dump, --all, --json, the errors (no process, no preload, no
# reporter yet, stale socket, unknown request), the same-user rule (as root: the CLI and the
# program run as nobody with setpriv; skipped with a SKIP line when not root), a directory that is
# not private, the socket's removal at a normal exit and of dead processes' sockets at a start,
# fork (the child has its own socket, the parent's still works, no fd leaks into the other), and
# the jstack view of tests/dump/locks.c: the locks each thread holds, who holds what a thread waits
# for, "Found one deadlock", an epoll set and a sleeper described.
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

TMP=$(mktemp -d /tmp/tw-dump.XXXXXX)
SUITE=dump
source "$(dirname "${BASH_SOURCE[0]}")/../lib/checks.sh"
chmod 755 "$TMP" # the programs and the CLI also run as nobody
pids=()
made_dirs=()

cleanup() {
  exec 2>/dev/null # no "Killed" notices from bash for the processes we end here
  for p in "${pids[@]}"; do kill -KILL "$p"; done
  wait
  # Killed processes cannot remove their sockets: remove those of our own processes.
  for p in "${pids[@]}"; do rm -f /tmp/threadwatch-*/"$p".sock; done
  for d in "${made_dirs[@]}"; do rm -rf "$d"; done
  if [ "${TW_TEST_KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# --- reporting ---

# shows FILE: makes FILE what a failure prints (for checks on files other than the CLI's output).
shows() { rc=0; cp "$1" "$TMP/out"; : >"$TMP/err"; }

# --- set-up: the library and the CLI copied where nobody can read them ---

mkdir -p "$TMP/bin"
cp "$BUILD/libthreadwatch.so" "$BUILD/threadwatch" "$TMP/bin/"
LIB=$TMP/bin/libthreadwatch.so
CLI=$TMP/bin/threadwatch
HUNG=$TMP/bin/hung
LOCKS=$TMP/bin/locks
if ! ${CC:-cc} -g -O1 -pthread -o "$HUNG" "$HERE/hung.c" ||
   ! ${CC:-cc} -g -O1 -pthread -I "$HERE/../../include" -o "$LOCKS" "$HERE/locks.c"; then
  echo "FAIL: cannot build tests/dump/hung.c and locks.c"
  failed=1
  finish
fi
chmod -R a+rX "$TMP/bin"
ME=$(id -u)
DIR=/tmp/threadwatch-$ME
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
PRELOADED=(env LD_PRELOAD="$LIB" THREADWATCH_STALL=0)

# --- helpers ---

# cli [PREFIX...] -- ARGS...: runs the CLI (under PREFIX, e.g. setpriv); output in $TMP/out and
# $TMP/err, exit status in $rc.
cli() {
  local prefix=()
  while [ "$1" != "--" ]; do prefix+=("$1"); shift; done
  shift
  timeout $((15 * MULT)) "${prefix[@]}" "$CLI" "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
}
# count_is N FILE ERE: grep -cE on a file.
count_is() { [ "$(grep -cE -- "$3" "$2")" = "$1" ]; }
# block FILE ERE: from the first line matching ERE to the next blank line (one group of a dump).
# grep finds the line, so ERE means what it means in has/lacks (no awk: mawk and gawk read
# backslashes in a -v value differently).
block() {
  local n
  n=$(grep -nE -m1 -- "$2" "$1" | cut -d: -f1)
  [ -n "$n" ] || return 0
  sed -n "${n},\$ { /^\$/q; p }" "$1"
}
# block_has FILE START_ERE ERE: the block starting at START_ERE has a line matching ERE.
block_has() { block "$1" "$2" | grep -qE -- "$3"; }
# block_lacks: no line of the block matches; block_flat_has: the block with its lines joined by `~`
# matches ERE (to check lines in their order).
block_lacks() { ! block_has "$@"; }
block_flat_has() { block "$1" "$2" | tr '\n' '~' | grep -qE -- "$3"; }
# fails_with ERE: the CLI exited 1 with nothing on stdout and one line matching ERE on stderr.
fails_with() {
  [ "$rc" = 1 ] && [ ! -s "$TMP/out" ] && [ "$(wc -l <"$TMP/err")" = 1 ] && has "$TMP/err" "$1"
}
# json FILE PID: runs the Python assertions on stdin against the JSON document in FILE.
json() { python3 -c "import json, sys; d = json.load(open(sys.argv[1])); pid = int(sys.argv[2]);
fn = lambda st: [f['function'] for f in st]
exec(sys.stdin.read())" "$1" "$2"; }

# start NAME [PREFIX...] -- PROGRAM ARGS...: starts a program in the background in its own
# directory $TMP/NAME (writable by anyone), stdout/stderr in $TMP/NAME/out|err; its pid in $started.
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
# dump_shows PID ERE [PREFIX...]: one dump of PID (by the CLI under PREFIX) matches ERE.
dump_shows() {
  local pid=$1 want=$2; shift 2
  cli "$@" -- dump "$pid" && has "$TMP/out" "$want"
}
has_tasks() { [ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -ge "$2" ]; }
# stale_socket PATH: a socket file nobody listens on (what a killed process leaves behind).
stale_socket() {
  python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1"
}
# ask REQUEST: sends REQUEST as it is to the hung process's socket, prints the answer.
ask() {
  timeout $((10 * MULT)) python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode())
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())' "$DIR/$H.sock" "$1" >"$TMP/out" 2>"$TMP/err"
  rc=$?
}
sockets_of() {
  for f in /proc/"$1"/fd/*; do readlink "$f"; done 2>/dev/null | grep '^socket:' | sort
}

# --- a hung process: 3 condvar waiters, 1 pipe reader, 1 idler in pause(), main joining ---

start hung -- "${PRELOADED[@]}" "$HUNG"
H=$started
HEADER="^threadwatch dump of pid $H: 6 threads \(1 running, 5 blocked\)$"
if ! until_true 200 dump_shows "$H" "$HEADER"; then
  fail "the hung program becomes ready (6 threads, 5 blocked)"
  finish
fi

# (a) the grouped text dump
g=$TMP/grouped.txt
cp "$TMP/out" "$g"
CONDVAR='^3 threads: blocked in pthread_cond_wait\(\) on condvar 0x[0-9a-f]+ '
CONDVAR+='\(mutex 0x[0-9a-f]+\) for '
READER='^1 thread: blocked in read\(\) on pipe fd [0-9]+ for [0-9.]+m?s; '
READER+='no thread has written to it:$'
IDLER='^1 thread: running \(not in a watched blocking call\): in system call [a-z_0-9]+ at .*:$'
MAIN='^1 thread: blocked in pthread_join\(\) on thread T2 for '
check "grouped: the header names the pid and the counts" has "$g" "$HEADER"
check "grouped: the condvar group comes first and counts 3 threads" \
  has <(grep -E '^[0-9]+ threads?: ' "$g" | head -1) "$CONDVAR"
check "grouped: the condvar group lists T2, T3, T4" block_has "$g" "$CONDVAR" \
  '^  threads: T2 \(tid [0-9]+\), T3 \(tid [0-9]+\), T4 \(tid [0-9]+\)$'
check "grouped: the condvar group's stacks name the program's functions" \
  block_flat_has "$g" "$CONDVAR" \
  '~    #0 0x[0-9a-f]+ in cond_waiter [^~]*hung.c:[0-9]+ .*~  created by T1 at:~    #0 [^~]* in '\
'start_waiters '
check "grouped: each group prints its stack once" count_is 1 "$g" ' in cond_waiter '
check "grouped: the pipe reader is blocked in read() on a pipe nobody wrote to" has "$g" "$READER"
check "grouped: the reader's name is shown" \
  block_has "$g" "$READER" '^  threads: T5 "reader" \(tid [0-9]+\)$'
check "grouped: the reader's stacks name pipe_reader and start_reader" \
  block_flat_has "$g" "$READER" \
  '~    #0 0x[0-9a-f]+ in pipe_reader .*~  created by T1 at:~    #0 [^~]* in start_reader '
# How far the stack of a thread in an unwatched call is read depends on the unwinder (a gcc build
# reaches idler(), a clang -O0 build stops in libc): only its first frame is required.
check "grouped: a thread in an unwatched call is running, with its system call and a stack" \
  block_flat_has "$g" "$IDLER" '^[^~]*~  threads: T6 \(tid [0-9]+\)~    #0 0x[0-9a-f]+ in '
check "grouped: main is blocked in pthread_join() on T2" has "$g" "$MAIN"
check "grouped: the main thread has no creation stack" block_lacks "$g" "$MAIN" created

# (b) --all: every thread on its own
cli -- dump --all "$H"
a=$TMP/all.txt
cp "$TMP/out" "$a"
check "--all: exits 0" [ "$rc" = 0 ]
check "--all: the same header" has "$a" "$HEADER"
for i in 1 2 3 4 5 6; do
  check "--all: T$i has one line" \
    count_is 1 "$a" "^T$i( \"[^\"]*\")? \(tid [0-9]+\) (blocked in|running) "
done
check "--all: every tid listed is a thread of the process" bash -c "
  for t in \$(grep -oE '^T[0-9]+.* \(tid [0-9]+\)' '$a' | grep -oE '[0-9]+\)' | tr -d ')'); do
    [ -d /proc/$H/task/\$t ] || exit 1
  done"
check "--all: each condvar waiter has its own stack" count_is 3 "$a" ' in cond_waiter '
cli -- dump -a "$H"
check "-a is --all" has "$TMP/out" '^T5 "reader" \(tid [0-9]+\) blocked in read\(\) on pipe fd'

# (c) --json, grouped and --all
cli -- dump --json "$H"
check "--json: one JSON document with the counts and the groups" json "$TMP/out" "$H" <<'EOF'
assert d["pid"] == pid and d["threads"] == 6 and d["running"] == 1 and d["blocked"] == 5, d
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
check "--all --json: every thread object, as in docs/report-format.md" json "$TMP/out" "$H" <<'EOF'
t = d["threads"]
assert d["pid"] == pid and [x["id"] for x in t] == [1, 2, 3, 4, 5, 6], d
for x in t:
    assert set(x) >= {"id", "tid", "name", "state", "parent", "stack", "created_at"}, x
    assert x["stack"] and (x["created_at"] or x["id"] == 1), x
    if x["id"] == 6:
        assert x["state"] == "running" and "wait" not in x and x["note"], x
    else:
        assert x["state"] == "blocked" and x["wait"]["for_ms"] >= 0, x
    for f in x["stack"] + x["created_at"]:
        assert set(f) >= {"pc", "function", "module"}, f
assert t[0]["created_at"] == [] and t[0]["parent"] == 0, t[0]
assert t[4]["name"] == "reader" and t[4]["wait"]["call"] == "read" and t[4]["parent"] == 1, t[4]
assert all(x["wait"]["call"] == "pthread_cond_wait" for x in t[1:4]), t
EOF

# Requests the CLI never sends, and clients that go away without reading.
ask $'hello\n'
check "an unknown request is answered with one line" \
  bash -c "[ \"\$(cat '$TMP/out')\" = 'threadwatch: unknown request' ]"
ask $'dump everything\n'
check "a dump with an unknown word is an unknown request" \
  has "$TMP/out" '^threadwatch: unknown request$'
ask $'dump json all\n'
check "request words in any order" json "$TMP/out" "$H" <<<'assert len(d["threads"]) == 6'
# They ask for the largest answer and hang up at once: the send fails with EPIPE, which must
# neither kill the process (SIGPIPE) nor stop later answers.
python3 -c '
import socket, sys
for _ in range(5):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(b"dump all\n")
    s.close()' "$DIR/$H.sock"
check "clients that hang up early: the process lives and answers again" \
  until_true 100 dump_shows "$H" "$HEADER"
fds_before=$(ls "/proc/$H/fd" | sort | tr '\n' ' ')
for _ in 1 2 3; do cli -- dump --all --json "$H"; done
fds_after=$(ls "/proc/$H/fd" | sort | tr '\n' ' ')
check "dumps leave no fd behind in the process" [ "$fds_before" = "$fds_after" ]
listen_fd=$(for f in $(ls "/proc/$H/fd"); do
  [ "$f" -ge 900 ] && case $(readlink "/proc/$H/fd/$f") in socket:*) echo "$f" ;; esac
done | head -1)
high_cloexec() { # O_CLOEXEC is 02000000 in fdinfo's octal flags
  [ -n "$1" ] && [ "$1" -ge 900 ] && has "/proc/$H/fdinfo/$1" '^flags:\s+0*2[0-7]{6}$'
}
check "the listening socket sits at a high fd number, close-on-exec" high_cloexec "$listen_fd"
check "the control directory is private" [ "$(stat -c '%a %u' "$DIR")" = "700 $ME" ]
# Its stderr has reports (all its threads are asleep: a deadlock), but no line of the tool's own.
shows "$TMP/hung/err"
check "the hung program printed no 'threadwatch:' error line" lacks "$TMP/hung/err" '^threadwatch:'

# (d) errors
start plain -- "$HUNG"
P=$started
until_true 200 has_tasks "$P" 6
cli -- dump "$P"
NOT_UNDER="^threadwatch: process $P is not running under libthreadwatch.so "
NOT_UNDER+="\(start it with LD_PRELOAD=.*/libthreadwatch.so or \`threadwatch run\`\)$"
check "a process without the preload: 'not running under libthreadwatch.so', exit 1" \
  fails_with "$NOT_UNDER"
(exit 0) &
gone=$!
wait "$gone"
cli -- dump "$gone"
check "no such process: 'no process PID', exit 1" fails_with "^threadwatch: no process $gone$"
start nothread -- env LD_PRELOAD="$LIB" sleep 1000
S=$started
until_true 200 grep -q libthreadwatch "/proc/$S/maps"
cli -- dump "$S"
NOT_YET="^threadwatch: process $S has not started its reporter thread yet "
NOT_YET+="\(it starts with the first thread or blocking wait\)$"
check "preloaded but no thread yet: 'has not started its reporter thread yet', exit 1" \
  fails_with "$NOT_YET"
stale_socket "$DIR/$S.sock"
cli -- dump "$S"
check "a stale socket: 'connection refused', exit 1" \
  fails_with "^threadwatch: process $S does not answer on $DIR/$S.sock \(connection refused"
rm -f "$DIR/$S.sock"
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
  DENIED="^threadwatch: permission denied: process $H belongs to another user; "
  DENIED+="threadwatch dump answers only to the user who runs the process$"
  check "the CLI as nobody on root's process: 'permission denied', exit 1" fails_with "$DENIED"
  start nobody "${NOBODY[@]}" -- "${PRELOADED[@]}" "$HUNG"
  N=$started
  check "nobody dumps its own process" \
    until_true 200 dump_shows "$N" ': 6 threads \(1 running, 5 blocked\)$' "${NOBODY[@]}"
  cli -- dump "$N"
  check "root asks nobody's process: the process refuses, exit 1" \
    fails_with "^threadwatch: refused: this process answers only to uid 65534$"
  check "nobody's socket is there" [ -S "/tmp/threadwatch-65534/$N.sock" ]
  check "nobody's directory is private" \
    [ "$(stat -c '%a %u' /tmp/threadwatch-65534)" = "700 65534" ]
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
  shows "$TMP/notprivate/err"
  NOT_PRIVATE="threadwatch: the control directory /tmp/threadwatch-65533 is not private "
  NOT_PRIVATE+="(owned by uid 0, mode 0755); threadwatch dump is off"
  check "a directory that is not private: one line on stderr" \
    [ "$(cat "$TMP/notprivate/err")" = "$NOT_PRIVATE" ]
  check "a directory that is not private: no socket in it" [ ! -e "/tmp/threadwatch-65533/$Q.sock" ]
fi

# (f) a normal exit removes the socket; a start removes the sockets dead processes left. The dead
# pid is one just behind the kernel's last one: pids go up, so it is not reused before the counter
# wraps ($gone, dead long ago, may be a new process by now on a busy machine).
dead=$(($(cat /proc/sys/kernel/ns_last_pid) - 1))
while [ "$dead" -gt 300 ] && [ -e "/proc/$dead" ]; do dead=$((dead - 1)); done
stale_socket "$DIR/$dead.sock"
start exit -- "${PRELOADED[@]}" "$HUNG" exit
X=$started
until_true 200 dump_shows "$X" ': 2 threads \(1 running, 1 blocked\)$'
check "a start removes the socket file of a dead process" [ ! -e "$DIR/$dead.sock" ]
check "exit: the socket is there while the process runs" [ -S "$DIR/$X.sock" ]
kill -USR1 "$X"
wait "$X"
rc=$?
check "exit: the process exits 0 by itself" [ "$rc" = 0 ]
check "exit: its socket file is gone" [ ! -e "$DIR/$X.sock" ]

# (g) fork: the child has its own socket; the parent's still works; no fd crosses over
start fork -- "${PRELOADED[@]}" "$HUNG" fork
F=$started
until_true 200 test -s "/proc/$F/task/$F/children"
C=$(awk '{ print $1 }' "/proc/$F/task/$F/children" 2>/dev/null)
if [ -z "$C" ]; then
  fail "fork: the child exists"
else
  pids+=("$C")
  check "fork: the child answers with its own threads" until_true 200 dump_shows "$C" \
    "^threadwatch dump of pid $C: 2 threads \(0 running, 2 blocked\)$"
  check "fork: the child's dump shows its reader, not the parent's waiter" \
    bash -c "grep -q ' in pipe_reader ' '$TMP/out' && ! grep -q ' in cond_waiter ' '$TMP/out'"
  check "fork: the parent still answers with its own threads" until_true 200 dump_shows "$F" \
    "^threadwatch dump of pid $F: 2 threads \(0 running, 2 blocked\)$"
  check "fork: the parent's dump shows its waiter, not the child's reader" \
    bash -c "grep -q ' in cond_waiter ' '$TMP/out' && ! grep -q ' in pipe_reader ' '$TMP/out'"
  check "fork: two socket files, one per process" test -S "$DIR/$F.sock" -a -S "$DIR/$C.sock"
  check "fork: the child holds none of the parent's sockets" \
    [ -z "$(comm -12 <(sockets_of "$F") <(sockets_of "$C"))" ]
fi

# (h) the jstack view: held locks, holders, the deadlock section, an epoll set, a sleeper
start locks -- "${PRELOADED[@]}" "$LOCKS"
L=$started
if ! until_true 200 dump_shows "$L" '^Found one deadlock:$'; then
  fail "locks: the deadlock appears in the dump"
else
  k=$TMP/locks.txt
  cp "$TMP/out" "$k"
  check "locks: the header counts the sleeper apart" has "$k" \
    "^threadwatch dump of pid $L: 5 threads \(1 running, 1 sleeping, 3 blocked\)$"
  check "locks: a thread blocked on a mutex says who holds it" has "$k" \
    'blocked in pthread_mutex_lock\(\) on mutex 0x[0-9a-f]+ "(accounts|ledger)" \(held by T[23]\) for '
  check "locks: each deadlocked thread lists the lock it holds, since when and where it took it" \
    count_is 2 "$k" '^  - locked mutex 0x[0-9a-f]+ "(accounts|ledger)"( since [0-9.]+m?s)? at take_two \(locks.c:[0-9]+\)$'
  check "locks: the deadlock section names both threads and who holds what" block_flat_has "$k" \
    '^Found one deadlock:$' 'wait-cycle.*T[23].*waiting in pthread_mutex_lock\(\) on mutex.*which is held by T[23].*at take_two'
  check "locks: the epoll set is described fd by fd" has "$k" \
    'blocked in epoll_wait\(\) on 3 fds \(listening 127\.0\.0\.1:[0-9]+, eventfd [0-9]+, pipe [0-9]+\) for '
  check "locks: the sleeper is sleeping, with its sleep" has "$k" \
    '^1 thread: sleeping in sleep\(\) on a sleep of 1\.7min for '
  cli -- dump --all --json "$L"
  check "locks: --json has the deadlock, the held locks and the holders" json "$TMP/out" "$L" <<'EOF'
assert d["sleeping"] == 1 and d["blocked"] == 3, d
dl = d["deadlocks"]
assert len(dl) == 1 and dl[0]["what"] == "wait-cycle" and sorted(dl[0]["threads"]) == [2, 3], dl
names = {t["id"]: [l["name"] for l in t.get("locks_held", [])] for t in d["threads"]}
assert sorted(names[2] + names[3]) == ["accounts", "ledger"], names
for t in d["threads"]:
    if t["id"] in (2, 3):
        assert t["wait"]["held_by"] == [5 - t["id"]], t["wait"]
        assert "take_two" in fn(t["locks_held"][0]["at"]), t["locks_held"]
EOF
fi

finish
