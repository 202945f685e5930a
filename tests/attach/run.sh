#!/usr/bin/env bash
# Tests `threadwatch attach PID` (docs/attach.md) against real programs started WITHOUT the preload.
#
#   tests/attach/run.sh BUILD_DIR
#
# Builds tests/attach/hang.c (and hang_cxx.cpp, tracer.c), starts each hanging program in the
# background, waits until it prints "ready" (it prints it once it has seen, in /proc, each of its
# threads blocked where it should be: never a blind sleep), and checks the real output of attach,
# text and --json: the verdict and its `what` (wait-cycle, self-relock, all-asleep), the holders,
# the frames that matter, the exit status (66). Also: the same ABBA built by clang -O2 without
# frame pointers, by gcc with them, and stripped (module+0xoffset frames); a busy, healthy program
# gets "no deadlock found", exit 0, and keeps printing its lines in order; the CLI killed with
# SIGKILL while it holds every thread stopped leaves the program running; ptrace refused (another
# user, a process already traced) and a process under the preload give one clear line. The
# thread profile of an attach (--pprof FILE, --pprof -, --folded) is read back with `go tool pprof`
# (-top, -traces: the blocking functions, labels and build-id) and as folded lines with the right
# thread counts; bad combinations and an unwritable file are one clear error, and the program runs
# on after each. Every program started here is killed at the end.
#
# Environment: TW_TEST_TIMEOUT_MULT (default 1) multiplies every wait; TW_TEST_KEEP=1 keeps the
# temporary directory; CC, CXX (default cc, c++); CLANG (default clang; its build is skipped with a
# SKIP line when it is missing).
# Output: PASS/FAIL/SKIP per check, then exactly `attach: N passed, M failed`; exit 1 on a failure.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "$1" && pwd)
MULT=${TW_TEST_TIMEOUT_MULT:-1}
unset "${!THREADWATCH_@}"

TMP=$(mktemp -d /tmp/tw-attach.XXXXXX)
SUITE=attach
source "$(dirname "${BASH_SOURCE[0]}")/../lib/checks.sh"
chmod 755 "$TMP" # the CLI also runs as nobody
pids=()

cleanup() {
  exec 2>/dev/null # no "Killed" notices from bash for the processes we end here
  for p in "${pids[@]}"; do kill -KILL "$p"; done
  wait
  if [ "${TW_TEST_KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# json FILE: runs the Python assertions on stdin against the JSON document in FILE (d), with fn(stack)
# the function names of a stack, rep(what) the report with that `what`, th(r, id) a report's thread.
json() { python3 -c "import json, sys; d = json.load(open(sys.argv[1]))
fn = lambda st: [f['function'] for f in st]
rep = lambda w: [r for r in d['reports'] if r['what'] == w][0]
th = lambda r, i: [t for t in r['threads'] if t['id'] == i][0]
exec(sys.stdin.read())" "$1"; }
# fails_with CODE ERE: the CLI exited CODE, nothing on stdout, one line matching ERE on stderr.
fails_with() {
  [ "$rc" = "$1" ] && [ ! -s "$TMP/out" ] && [ "$(wc -l <"$TMP/err")" = 1 ] && has "$TMP/err" "$2"
}

# misuse ERE: the CLI exited 2, nothing on stdout, the first line of stderr matches ERE.
misuse() { [ "$rc" = 2 ] && [ ! -s "$TMP/out" ] && head -1 "$TMP/err" | grep -qE -- "$1"; }

# `go tool pprof` reads the profiles of attach --pprof (scripts/test.sh installs golang-go).
HAVE_GO=1
if ! command -v go >/dev/null; then
  echo "FAIL: go is not installed (scripts/test.sh installs golang-go): go tool pprof reads" \
       "the profiles"
  failed=$((failed + 1))
  HAVE_GO=0
fi
# gopprof ARGS...: go tool pprof, keeping nothing of ours outside $TMP; output in $TMP/out.
gopprof() { HOME=$TMP GOCACHE=$TMP/gocache GOFLAGS= go tool pprof "$@" >"$TMP/out" 2>"$TMP/err"; }
# traces FILE: `go tool pprof -traces FILE`, then the Python assertions on stdin against its traces:
# tr, a list of {"labels": {key: value}, "count": N, "frames": [function, ...]} (leaf first), and
# one(pred), the only trace for which pred holds.
traces() {
  gopprof -traces "$1" || return 1
  python3 -c "import re, sys
tr, cur = [], None
for line in open(sys.argv[1]).read().splitlines():
    if line.startswith('-----------+'):
        cur = {'labels': {}, 'count': None, 'frames': []}
        tr.append(cur)
        continue
    if cur is None or not line.strip():
        continue
    m = re.match(r'^ +(\d+) +(\S.*)$', line)
    if cur['count'] is None and m:
        cur['count'] = int(m.group(1))
        cur['frames'].append(m.group(2).replace(' (inline)', ''))
    elif cur['count'] is None:
        k, v = line.strip().split(':', 1)
        cur['labels'][k] = v.strip()
    else:
        cur['frames'].append(line.strip().replace(' (inline)', ''))
tr = [t for t in tr if t['count'] is not None]
def one(pred):
    got = [t for t in tr if pred(t)]
    assert len(got) == 1, (len(got), tr)
    return got[0]
exec(sys.stdin.read())" "$TMP/out"
}
# top_total FILE N: `go tool pprof -top FILE` reads a thread profile of N threads in all.
top_total() {
  gopprof -top "$1" && has "$TMP/out" "^Showing nodes accounting for $2, 100% of $2 total$" &&
    has "$TMP/out" '^Type: threads$'
}
# top_row FILE COUNT FUNCTION: a row of `go tool pprof -top FILE` gives FUNCTION COUNT threads flat.
top_row() { gopprof -top "$1" && has "$TMP/out" "^ +$2 +[0-9.]+% .* $3\$"; }

# --- set-up ---

CLI=$TMP/bin/threadwatch
mkdir -p "$TMP/bin"
cp "$BUILD/threadwatch" "$CLI"
build() { # build NAME COMPILER FLAGS... SOURCE
  local name=$1; shift
  if ! "$@" -o "$TMP/bin/$name"; then
    echo "FAIL: cannot build $name ($*)"
    failed=$((failed + 1))
    return 1
  fi
}
build hang "${CC:-cc}" -g -O1 -pthread "$HERE/hang.c" || finish
build hang_cxx "${CXX:-c++}" -g -O1 -pthread "$HERE/hang_cxx.cpp" || finish
build tracer "${CC:-cc}" -O1 "$HERE/tracer.c" || finish
build main_exited "${CC:-cc}" -g -O1 -pthread -I"$HERE/../integration" \
  "$HERE/../integration/bad/deadlock_all_asleep_main_exited.c" || finish
build hang_fp "${CC:-cc}" -g -O2 -fno-omit-frame-pointer -pthread "$HERE/hang.c" || finish
build hang_stripped "${CC:-cc}" -O2 -pthread "$HERE/hang.c" && strip --strip-all "$TMP/bin/hang_stripped"
CLANG=${CLANG:-clang}
HAVE_CLANG=0
if command -v "$CLANG" >/dev/null; then
  build hang_clang "$CLANG" -g -O2 -fomit-frame-pointer -pthread "$HERE/hang.c" && HAVE_CLANG=1
fi
chmod -R a+rX "$TMP/bin"

# cli ARGS...: the CLI; output in $TMP/out and $TMP/err, exit status in $rc.
cli() {
  timeout $((30 * MULT)) "$CLI" "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
}
# start NAME [PREFIX...] -- PROGRAM ARGS...: starts a program in the background, output in
# $TMP/NAME.out; waits until it says "ready" (when it is a program of ours that says so). Its pid
# in $started.
start() {
  local name=$1 prefix=(); shift
  while [ "$1" != "--" ]; do prefix+=("$1"); shift; done
  shift
  (cd "$TMP" && exec "${prefix[@]}" "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err") &
  started=$!
  pids+=("$started")
}
until_true() { # until_true TRIES COMMAND...: polls every 50 ms, at most TRIES x MULT times
  local tries=$(($1 * MULT)); shift
  while [ "$tries" -gt 0 ]; do
    "$@" && return 0
    sleep 0.05
    tries=$((tries - 1))
  done
  return 1
}
is_ready() { grep -qsx ready "$TMP/$1.out"; }
# ready NAME: waits for the program's "ready"; a FAIL (and false) if it never comes.
ready() {
  if until_true 400 is_ready "$1"; then return 0; fi
  rc=-1; cp "$TMP/$1.err" "$TMP/err"; : >"$TMP/out"
  fail "$1 becomes ready"
  return 1
}
# No thread of PID is stopped by a tracer (state t) and nobody traces it.
running_free() {
  local p=$1 st
  [ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$p/status")" = 0 ] || return 1
  for st in /proc/"$p"/task/*/stat; do
    [ "$(sed 's/.*) //' "$st" | cut -c1)" = t ] && return 1
  done
  return 0
}
all_stopped() { # every thread of PID is in a tracing stop
  local p=$1 st
  for st in /proc/"$p"/task/*/stat; do
    [ "$(sed 's/.*) //' "$st" | cut -c1)" = t ] || return 1
  done
  return 0
}
ticks() { grep -c '^tick ' "$TMP/$1.out"; }
more_ticks() { [ "$(ticks "$1")" -gt "$2" ]; }
# The "tick N" lines are 1, 2, 3, ... with nothing lost, repeated or garbled.
ticks_in_order() {
  awk '$0 == "ready" && NR == 1 { next } $0 != "tick " ++n { bad = 1 } END { exit bad || n < 2 }' \
    "$TMP/$1.out"
}

# --- the hung programs: text and JSON ---

# ABBA: a wait-cycle of two mutexes, each holder named.
start abba -- "$TMP/bin/hang" abba
A=$started
if ready abba; then
  cli attach "$A"
  cp "$TMP/out" "$TMP/abba.txt"
  CYCLE="^==$A== threadwatch: deadlock: T2 and T3 are blocked forever, each waiting for the next: "
  CYCLE+="T2 in pthread_mutex_lock\(\) on mutex 0x[0-9a-f]+ \(lock_b\) \(held by T3\) at transfer "
  CYCLE+="\(hang.c:[0-9]+\); T3 in pthread_mutex_lock\(\) on mutex 0x[0-9a-f]+ \(lock_a\) \(held by "
  CYCLE+="T2\) at audit \(hang.c:[0-9]+\)$"
  check "abba: exit status 66" [ "$rc" = 66 ]
  check "abba: the header counts 3 blocked threads" \
    has "$TMP/out" "^threadwatch attach of pid $A \(hang\): 3 threads \(0 running, 3 blocked\); "
  check "abba: the wait-cycle headline names both threads, locks, holders and places" \
    has "$TMP/out" "$CYCLE"
  check "abba: each thread's stack starts at the program's call (frame 0: transfer, audit)" \
    bash -c "grep -A1 '^  T2 (tid [0-9]*) blocked in pthread_mutex_lock' '$TMP/out' |
             grep -qE '^    #0 0x[0-9a-f]+ in transfer .*hang.c:[0-9]+ ' &&
             grep -A1 '^  T3 (tid [0-9]*) blocked in pthread_mutex_lock' '$TMP/out' |
             grep -qE '^    #0 0x[0-9a-f]+ in audit .*hang.c:[0-9]+ '"
  check "abba: what each holds" \
    bash -c "grep -qE '^  holding mutex 0x[0-9a-f]+ \(lock_a\)$' '$TMP/out' &&
             grep -qE '^  holding mutex 0x[0-9a-f]+ \(lock_b\)$' '$TMP/out'"
  check "abba: the main thread's group: blocked in pthread_join() on thread T2, for a time" \
    has "$TMP/out" '^1 thread: blocked in pthread_join\(\) on thread T2 for [0-9.]+m?s:$'
  check "abba: the closing line says one deadlock" \
    has "$TMP/out" "^threadwatch: 1 deadlock found in process $A$"
  cli attach --json "$A"
  check "abba --json: one wait-cycle report with holders, locks held and stacks" json "$TMP/out" <<'EOF'
assert d["deadlock"] is True and d["threads"] == 3 and d["blocked"] == 3, d
r = rep("wait-cycle")
assert r["kind"] == "deadlock" and r["count"] == 2 and [t["id"] for t in r["threads"]] == [2, 3], r
t2, t3 = th(r, 2), th(r, 3)
assert t2["wait"]["call"] == "pthread_mutex_lock" and t2["wait"]["held_by"] == [3], t2
assert t3["wait"]["held_by"] == [2] and "(lock_a)" in t3["wait"]["object"], t3
assert "(lock_a)" in t2["locks_held"][0]["object"], t2
assert fn(t2["stack"])[0] == "transfer" and fn(t3["stack"])[0] == "audit", r
for f in t2["stack"]:
    assert set(f) >= {"pc", "function", "module", "module_offset"}, f
assert {"id", "tid", "name", "state", "parent", "stack", "created_at"} <= set(t2), t2
g = [g for g in d["groups"] if g["ids"] == [1]][0]
assert g["wait"]["call"] == "pthread_join" and g["wait"]["object"] == "thread T2", g
EOF
  cli attach --all "$A"
  check "abba --all: one entry per thread, in id order" \
    bash -c "[ \"\$(grep -oE '^T[0-9]+ ' '$TMP/out' | tr -d ' ' | tr '\n' ' ')\" = 'T1 T2 T3 ' ]"
  check "attach leaves the hung program as it was (no tracer, no stopped thread)" running_free "$A"
  cli attach "$A"
  check "a second attach gives the same verdict" has "$TMP/out" "$CYCLE"

  # The thread profile: a file next to the usual dump.
  export ABBA_PID=$A
  NOTE="threadwatch: 1 deadlock found in process $A (the report: threadwatch attach $A)"
  cli attach --pprof "$TMP/abba.pb.gz" "$A"
  check "abba --pprof F: exit 66, the text dump and verdict on stdout as without it" \
    bash -c "[ $rc = 66 ] && [ ! -s '$TMP/err' ] && grep -qE '$CYCLE' '$TMP/out' &&
             grep -q '^threadwatch: 1 deadlock found in process $A$' '$TMP/out'"
  check "abba --pprof F: F is gzipped" gzip -t "$TMP/abba.pb.gz"
  if [ "$HAVE_GO" = 1 ]; then
    check "abba --pprof: go tool pprof -top reads it: 3 threads, type threads" \
      top_total "$TMP/abba.pb.gz" 3
    for f in transfer audit main; do
      check "abba --pprof: -top has $f as a leaf (1 thread)" top_row "$TMP/abba.pb.gz" 1 "$f"
    done
    gopprof -top "$TMP/abba.pb.gz"
    check "abba --pprof: the comment says the attach and the deadlock" has "$TMP/out" \
      "^threadwatch attach of pid $A \(hang\): 3 threads \(0 running, 3 blocked\), stopped for \
[0-9.]+ms; 1 deadlock found$"
    check "abba --pprof: the executable's mapping carries its build-id" has "$TMP/out" \
      "^Build ID: $(readelf -n "$TMP/bin/hang" | sed -n 's/^ *Build ID: *//p')$"
    check "abba --pprof: go tool pprof -traces: each thread's stack and labels, as dump --pprof" \
      traces "$TMP/abba.pb.gz" <<'EOF'
import os
assert len(tr) == 3 and all(t['count'] == 1 for t in tr), tr
t1 = one(lambda t: t['labels'].get('thread') == '1')
assert t1['frames'][0] == 'main' and t1['labels']['tid'] == os.environ['ABBA_PID'], t1
assert t1['labels']['state'] == 'blocked' and t1['labels']['wait'] == 'pthread_join', t1
assert t1['labels']['object'] == 'thread T2', t1
t2 = one(lambda t: t['labels'].get('thread') == '2')
assert t2['frames'][:2] == ['transfer', 'start_thread'], t2
assert t2['labels']['wait'] == 'pthread_mutex_lock', t2
assert t2['labels']['object'].endswith('(lock_b)'), t2
t3 = one(lambda t: t['labels'].get('thread') == '3')
assert t3['frames'][0] == 'audit' and t3['labels']['object'].endswith('(lock_a)'), t3
tids = set(os.listdir('/proc/%s/task' % os.environ['ABBA_PID']))
assert {t['labels']['tid'] for t in tr} == tids, (tids, tr)
assert not any('pthread_mutex_lock' in f or 'futex' in f for t in tr for f in t['frames']), tr
EOF
  fi
  cli attach --json --pprof "$TMP/abba2.pb.gz" "$A"
  check "abba --json --pprof F: the JSON document on stdout" json "$TMP/out" <<'EOF'
assert d["deadlock"] is True and d["threads"] == 3, d
EOF
  check "abba --json --pprof F: the profile in F" gzip -t "$TMP/abba2.pb.gz"
  cli attach --pprof - "$A"
  cp "$TMP/out" "$TMP/abba3.pb.gz"
  check "abba --pprof -: the profile on stdout, not the dump; exit 66, the deadlock on stderr" \
    bash -c "[ $rc = 66 ] && gzip -t '$TMP/abba3.pb.gz' &&
             grep -qxF '$NOTE' '$TMP/err'"
  if [ "$HAVE_GO" = 1 ]; then
    check "abba --pprof -: go tool pprof reads it, 3 threads" top_total "$TMP/abba3.pb.gz" 3
  fi
  cli attach --folded "$A"
  cp "$TMP/out" "$TMP/abba.folded"
  check "abba --folded: exit 66, the deadlock said on stderr" bash -c "[ $rc = 66 ] &&
    grep -qxF '$NOTE' '$TMP/err'"
  check "abba --folded: one line per stack, root first, the blocking function last, 1 thread each" \
    python3 - "$TMP/abba.folded" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines()
st = {}
for l in lines:
    frames, n = l.rsplit(' ', 1)
    st[frames.split(';')[-1]] = (frames.split(';'), int(n))
assert len(lines) == 3 and set(st) == {'main', 'transfer', 'audit'}, lines
assert st['transfer'][1] == 1 and st['transfer'][0][-2] == 'start_thread', lines
assert st['audit'][1] == 1 and st['main'][1] == 1, lines
EOF
  check "abba: after the profiles, no thread left stopped or traced" running_free "$A"
  cli attach "$A"
  check "abba: the same verdict after the profiles" has "$TMP/out" "$CYCLE"
fi

# The same ABBA from other compilers and flags, and stripped.
abba_variant() { # abba_variant NAME BINARY FRAME_ERE
  local name=$1 bin=$2 frame=$3
  start "$name" -- "$TMP/bin/$bin" abba
  local p=$started
  ready "$name" || return
  cli attach --json "$p"
  check "$name: exit 66, a wait-cycle of T2 and T3 with their holders" json "$TMP/out" <<'EOF'
r = rep("wait-cycle")
assert [t["id"] for t in r["threads"]] == [2, 3], r
assert th(r, 2)["wait"]["held_by"] == [3] and th(r, 3)["wait"]["held_by"] == [2], r
EOF
  check "$name: exit status 66" [ "$rc" = 66 ]
  cli attach "$p"
  check "$name: frame 0 of T2's stack is $frame" \
    bash -c "grep -A1 '^  T2 (tid [0-9]*) blocked in pthread_mutex_lock' '$TMP/out' |
             grep -qE '^    #0 0x[0-9a-f]+ in $frame'"
  kill -KILL "$p"
  wait "$p" 2>/dev/null
}
if [ "$HAVE_CLANG" = 1 ]; then
  abba_variant "abba (clang -O2 -fomit-frame-pointer)" hang_clang 'transfer '
else
  echo "SKIP: abba built by clang ($CLANG is missing)"
fi
abba_variant "abba (gcc -O2 -fno-omit-frame-pointer)" hang_fp 'transfer '
abba_variant "abba (stripped)" hang_stripped 'hang_stripped\+0x[0-9a-f]+ \('

# Self-relock.
start relock -- "$TMP/bin/hang" relock
if ready relock; then
  cli attach "$started"
  R=$started
  check "relock: exit status 66" [ "$rc" = 66 ]
  check "relock: the self-relock headline" has "$TMP/out" \
    "^==$R== threadwatch: deadlock: T2 is blocked forever locking a mutex it already holds: pthread_mutex_lock\(\) on mutex 0x[0-9a-f]+ \(lock_a\) \(held by T2\) at relock \(hang.c:[0-9]+\)$"
  cli attach --json "$R"
  check "relock --json: what self-relock, held by itself" json "$TMP/out" <<'EOF'
r = rep("self-relock")
assert r["count"] == 1 and th(r, 2)["wait"]["held_by"] == [2] and fn(th(r, 2)["stack"])[0] == "relock", r
assert len(d["reports"]) == 1, d["reports"]
EOF
fi

# A join cycle.
start join -- "$TMP/bin/hang" join
if ready join; then
  J=$started
  cli attach "$J"
  check "join: exit status 66" [ "$rc" = 66 ]
  check "join: a wait-cycle of two pthread_join calls" has "$TMP/out" \
    "^==$J== threadwatch: deadlock: T2 and T3 are blocked forever, each waiting for the next: T2 in pthread_join\(\) on thread T3 at join_other \(hang.c:[0-9]+\); T3 in pthread_join\(\) on thread T2 at join_other "
  cli attach --json "$J"
  check "join --json: wait-cycle, each joining the other" json "$TMP/out" <<'EOF'
r = rep("wait-cycle")
assert th(r, 2)["wait"]["object"] == "thread T3" and th(r, 3)["wait"]["object"] == "thread T2", r
EOF
fi

# A pipe cycle: every thread asleep (from outside nobody can tell which thread would write).
start pipe -- "$TMP/bin/hang" pipe
if ready pipe; then
  P=$started
  cli attach "$P"
  check "pipe: exit status 66" [ "$rc" = 66 ]
  check "pipe: all-asleep headline" has "$TMP/out" \
    "^==$P== threadwatch: deadlock: all 3 threads are asleep: each is blocked in a wait that no thread of the process can end: T1 in pthread_join\(\) on thread T2 at main \(hang.c:[0-9]+\); T2 in read\(\) on pipe fd [0-9]+ at pipe_left \(hang.c:[0-9]+\); T3 in read\(\) on pipe fd [0-9]+ at pipe_right "
  check "pipe: the write end of each pipe is named, and no other process holds it" has "$TMP/out" \
    '^  T2 \(tid [0-9]+\) blocked in read\(\) on pipe fd [0-9]+ for [0-9.]+m?s; its write end is fd [0-9]+, held by no other process:$'
  cli attach --json "$P"
  check "pipe --json: what all-asleep, three threads" json "$TMP/out" <<'EOF'
r = rep("all-asleep")
assert r["count"] == 3 and th(r, 2)["wait"]["call"] == "read" and isinstance(th(r, 2)["wait"]["fd"], int), r
EOF
fi

# A condvar nobody signals, every thread asleep.
start condvar -- "$TMP/bin/hang" condvar
if ready condvar; then
  C=$started
  cli attach "$C"
  check "condvar: exit status 66" [ "$rc" = 66 ]
  check "condvar: all-asleep, the condvar and its mutex named" has "$TMP/out" \
    "^==$C== threadwatch: deadlock: all 3 threads are asleep: .*T2 in pthread_cond_wait\(\) on condvar 0x[0-9a-f]+ \(nobody_signals\) \(mutex 0x[0-9a-f]+ \(queue_lock\)\) at cond_waiter \(hang.c:[0-9]+\)"
  check "condvar: the two waiters are one group" has "$TMP/out" \
    '^2 threads: blocked in pthread_cond_wait\(\) on condvar 0x[0-9a-f]+ \(nobody_signals\) \(mutex 0x[0-9a-f]+ \(queue_lock\)\) for '
  cli attach --json "$C"
  check "condvar --json: all-asleep" json "$TMP/out" <<'EOF'
r = rep("all-asleep")
assert th(r, 3)["wait"]["call"] == "pthread_cond_wait" and fn(th(r, 3)["stack"])[0] == "cond_waiter", r
EOF
  cli attach --folded "$C"
  check "condvar --folded: the two waiters' stack is one line with count 2, main's with 1" \
    bash -c "[ $rc = 66 ] && [ \$(wc -l <'$TMP/out') = 2 ] &&
             grep -qE '^([^ ]+;)?start_thread;cond_waiter 2$' '$TMP/out' &&
             grep -qE '^([^ ]+;)?main 1$' '$TMP/out'"
  if [ "$HAVE_GO" = 1 ]; then
    cli attach --pprof "$TMP/condvar.pb.gz" "$C"
    check "condvar --pprof: exit 66" [ "$rc" = 66 ]
    check "condvar --pprof: -top counts 3 threads" top_total "$TMP/condvar.pb.gz" 3
    check "condvar --pprof: -top has cond_waiter with 2 threads" \
      top_row "$TMP/condvar.pb.gz" 2 cond_waiter
    check "condvar --pprof: the waiters' labels name the condvar and its mutex" \
      traces "$TMP/condvar.pb.gz" <<'EOF'
w = [t for t in tr if t['frames'][0] == 'cond_waiter']
assert len(w) == 2 and {t['labels']['thread'] for t in w} == {'2', '3'}, tr
for t in w:
    assert t['labels']['wait'] == 'pthread_cond_wait' and t['labels']['state'] == 'blocked', t
    o = t['labels']['object']
    assert '(nobody_signals)' in o and '(queue_lock)' in o, t
EOF
  fi
fi

# An rwlock held by a reader, a semaphore at 0, a barrier one short: every thread asleep.
start kinds -- "$TMP/bin/hang" kinds
if ready kinds; then
  K=$started
  cli attach "$K"
  check "kinds: exit status 66" [ "$rc" = 66 ]
  check "kinds: the writer waits for an rwlock held by a reader" has "$TMP/out" \
    '^1 thread: blocked in pthread_rwlock_wrlock\(\) on rwlock 0x[0-9a-f]+ \(table_lock\) for [0-9.]+m?s; held by 1 reader:$'
  check "kinds: the semaphore, its value and waiters" has "$TMP/out" \
    '^1 thread: blocked in sem_wait\(\) on semaphore 0x[0-9a-f]+ \(slots\) for [0-9.]+m?s; value 0, 1 waiting:$'
  check "kinds: the barrier and how many arrived" has "$TMP/out" \
    '^1 thread: blocked in pthread_barrier_wait\(\) on barrier 0x[0-9a-f]+ \(start_line\) for [0-9.]+m?s; 1 of 3 threads arrived:$'
  cli attach --json "$K"
  check "kinds --json: all-asleep, four threads" json "$TMP/out" <<'EOF'
r = rep("all-asleep")
assert r["count"] == 4 and fn(th(r, 4)["stack"])[0] == "barrier_waiter", r
EOF
fi

# C++ std::mutex ABBA: demangled names.
start cxx -- "$TMP/bin/hang_cxx"
if ready cxx; then
  X=$started
  cli attach "$X"
  check "c++: exit status 66" [ "$rc" = 66 ]
  check "c++: a wait-cycle between bank::transfer() and bank::audit() on the named std::mutexes" \
    has "$TMP/out" \
    "^==$X== threadwatch: deadlock: T2 and T3 are blocked forever, each waiting for the next: T2 in pthread_mutex_lock\(\) on mutex 0x[0-9a-f]+ \(bank::journal\) \(held by T3\) at bank::transfer\(\) \(hang_cxx.cpp:[0-9]+\); T3 in pthread_mutex_lock\(\) on mutex 0x[0-9a-f]+ \(bank::accounts\) \(held by T2\) at bank::audit\(\) "
  check "c++: the main thread waits in std::thread::join()" has "$TMP/out" \
    '^    #0 0x[0-9a-f]+ in std::thread::join\(\) '
fi

# A server thread in epoll_wait next to a deadlocked pair: the pair is the deadlock, the server not.
start epoll -- "$TMP/bin/hang" epoll
if ready epoll; then
  E=$started
  cli attach "$E"
  check "epoll: exit status 66" [ "$rc" = 66 ]
  check "epoll: the pair (T3, T4) is the wait-cycle" has "$TMP/out" \
    "^==$E== threadwatch: deadlock: T3 and T4 are blocked forever, each waiting for the next: T3 in pthread_mutex_lock\(\) .* at transfer .*; T4 in pthread_mutex_lock\(\) .* at audit "
  # (the kernel lists an epoll's fds in no fixed order)
  EPOLL_LINE='^1 thread: blocked in epoll_wait\(\) on epoll fd [0-9]+ \(watching .*\) for '
  check "epoll: the server waits in epoll_wait on its listening socket and eventfd" \
    bash -c "grep -E '$EPOLL_LINE' '$TMP/out' | grep -F 'eventfd fd ' |
             grep -qE 'socket fd [0-9]+ \(tcp port [0-9]+ listening\)'"
  cli attach --json "$E"
  check "epoll --json: one report, the server not in it" json "$TMP/out" <<'EOF'
assert len(d["reports"]) == 1 and [t["id"] for t in d["reports"][0]["threads"]] == [3, 4], d["reports"]
srv = [g for g in d["groups"] if g["ids"] == [2]][0]
assert srv["wait"]["call"] == "epoll_wait" and fn(srv["stack"])[0] == "serve", srv
EOF
  # It accepts and closes at once: the read sees the end (status 1), not a time-out (over 128).
  check "epoll: the server thread still serves after the attaches (accepts a connection)" \
    bash -c "exec 3<>/dev/tcp/127.0.0.1/\$(grep -oE 'tcp port [0-9]+' '$TMP/out' | head -1 |
             grep -oE '[0-9]+\$') && { read -t $((10 * MULT)) -u 3 _; [ \$? = 1 ]; }"
fi

# The main thread left through pthread_exit (a zombie: /proc/PID/fd and exe are empty, the memory
# is read through the live thread); the one thread left reads a pipe only it could write.
start main_exited -- "$TMP/bin/main_exited"
ME=$started
blocked_alone() { # the second task of ME is in read (0) and the main thread is a zombie
  local t
  for t in /proc/"$ME"/task/*; do
    [ "${t##*/}" = "$ME" ] && continue
    [ "$(cut -d' ' -f1 "$t/syscall" 2>/dev/null)" = 0 ] && return 0
  done
  return 1
}
if until_true 400 blocked_alone; then
  cli attach "$ME"
  check "main exited: exit 66, the only thread is asleep on a pipe whose write end only it holds" \
    has "$TMP/out" \
    "^==$ME== threadwatch: deadlock: the only thread is asleep: .* T2 in read\(\) on pipe fd [0-9]+ at read_after_main_left "
  check "main exited: its stack reaches the program's function" has "$TMP/out" \
    '^    #0 0x[0-9a-f]+ in read_after_main_left '
else
  fail "main exited: the thread left blocks in read"
fi

# --- a busy, healthy program ---

start busy -- "$TMP/bin/hang" busy
if ready busy; then
  B=$started
  until_true 200 more_ticks busy 3
  for k in 1 2 3; do cli attach "$B"; [ "$rc" = 0 ] || break; done
  check "busy: exit status 0 (three attaches)" [ "$rc" = 0 ]
  check "busy: no deadlock found, with the longest waits" \
    has "$TMP/out" "^threadwatch: no deadlock found in process $B; the longest waits:$"
  # Any length: an earlier attach interrupts the nap, and the retry sleeps what was left of it.
  check "busy: the sleeper's nap is shown as a timed wait" has "$TMP/out" \
    '^1 thread: blocked in (nanosleep|clock_nanosleep)\(\) on a (sleep of [0-9]+\.[0-9]+s|timed wait)'
  cli attach --json "$B"
  check "busy --json: no report" json "$TMP/out" <<'EOF'
assert d["deadlock"] is False and d["reports"] == [] and d["threads"] == 6, d
EOF
  cli attach --pprof "$TMP/busy.pb.gz" "$B"
  check "busy --pprof: exit 0, no deadlock" bash -c "[ $rc = 0 ] && [ ! -s '$TMP/err' ] &&
    grep -q '^threadwatch: no deadlock found in process $B' '$TMP/out'"
  if [ "$HAVE_GO" = 1 ]; then
    check "busy --pprof: 6 threads; the sleeper is 'sleeping' in its nanosleep; every function" \
      traces "$TMP/busy.pb.gz" <<'EOF'
assert len(tr) == 6 and sum(t['count'] for t in tr) == 6, tr
s = one(lambda t: 'sleeper' in t['frames'])
assert s['labels']['state'] == 'sleeping' and 'nanosleep' in s['labels']['wait'], s
assert {t['labels']['state'] for t in tr} <= {'running', 'blocked', 'sleeping'}, tr
for f in ('pinger', 'ponger', 'producer', 'consumer', 'main'):
    assert any(f in t['frames'] for t in tr), (f, tr)
EOF
  fi
  cli attach --folded "$B"
  check "busy --folded: exit 0, 6 threads in all, nothing on stderr" bash -c "[ $rc = 0 ] &&
    [ ! -s '$TMP/err' ] && [ \$(awk '{ n += \$NF } END { print n }' '$TMP/out') = 6 ] &&
    grep -qE ';sleeper(;[^ ]+)? 1$' '$TMP/out'"
  cli attach --pprof "$TMP" "$B"
  check "busy --pprof DIRECTORY: one line naming the file and why, exit 1" \
    fails_with 1 "^threadwatch: attach: cannot write $TMP: Is a directory$"
  n=$(ticks busy)
  check "busy: it keeps running after the attaches" until_true 200 more_ticks busy $((n + 3))
  check "busy: its output is unchanged (tick 1, 2, 3, ... in order)" ticks_in_order busy
  check "busy: no thread left stopped or traced" running_free "$B"

  # Killed while holding every thread stopped: the kernel lets them go.
  (exec "$CLI" attach --hold-for-test "$B" >"$TMP/hold.out" 2>"$TMP/hold.err") &
  H=$!
  pids+=("$H")
  holding() {
    grep -qsE '^threadwatch: holding the [0-9]+ threads of process' "$TMP/hold.err" && all_stopped "$B"
  }
  if until_true 400 holding; then
    n=$(ticks busy)
    pass "kill mid-attach: every thread of the program is stopped while the CLI holds it"
    kill -KILL "$H"
    wait "$H" 2>/dev/null
    check "kill mid-attach: after SIGKILL of the CLI no thread stays stopped or traced" \
      until_true 200 running_free "$B"
    check "kill mid-attach: the program runs on" until_true 200 more_ticks busy $((n + 3))
    check "kill mid-attach: its output is unchanged" ticks_in_order busy
  else
    rc=-1; cp "$TMP/hold.err" "$TMP/err"; : >"$TMP/out"
    fail "kill mid-attach: the CLI holds every thread stopped"
  fi
fi

# --- refusals and errors ---

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
  echo "SKIP: ptrace refused for another user's process (needs root and setpriv)"
elif [ -n "${A:-}" ]; then
  rc=0
  timeout $((30 * MULT)) setpriv --reuid=65534 --regid=65534 --clear-groups "$CLI" attach "$A" \
    >"$TMP/out" 2>"$TMP/err"
  rc=$?
  check "another user's process: one line naming the owner and the fix, exit 1" fails_with 1 \
    "^threadwatch: cannot attach to process $A: it belongs to uid 0 and you are uid 65534; run threadwatch attach as that user \(sudo -u '#0' threadwatch attach $A\) or as root$"
fi
if [ -r /proc/sys/kernel/yama/ptrace_scope ]; then
  echo "SKIP: ptrace_scope refusal (changing the machine's yama setting is not a test's business)"
else
  echo "SKIP: ptrace_scope refusal (this kernel has no Yama)"
fi
start traced -- "$TMP/bin/hang" condvar
if ready traced; then
  T=$started
  start tracer -- "$TMP/bin/tracer" "$T"
  tracing() { grep -qx tracing "$TMP/tracer.out"; }
  if until_true 400 tracing; then
    cli attach "$T"
    check "a process already traced: one line naming the tracer, exit 1" fails_with 1 \
      "^threadwatch: cannot attach to process $T: it is already traced by process [0-9]+ \(tracer\); detach that debugger or tracer first"
  else
    fail "the tracer holds the process"
  fi
fi
LIB=$BUILD/libthreadwatch.so
if [ -r "$LIB" ]; then
  start preloaded env LD_PRELOAD="$LIB" THREADWATCH_STALL=0 -- "$TMP/bin/hang" condvar
  if ready preloaded; then
    cli attach "$started"
    check "a process under the preload: points to threadwatch dump, exit 1" fails_with 1 \
      "^threadwatch: process $started runs under libthreadwatch.so: use \`threadwatch dump $started\`"
  fi
fi
(exit 0) &
gone=$!
wait "$gone"
cli attach "$gone"
check "no such process: 'no process PID', exit 1" fails_with 1 "^threadwatch: no process $gone$"
cli attach
check "no PID: usage, exit 2" bash -c "[ $rc = 2 ] && grep -q 'threadwatch attach' '$TMP/err'"
cli attach --bogus 1
check "an unknown option: usage, exit 2" [ "$rc" = 2 ]
cli attach --folded --json 1
check "--folded with --json: bad use, exit 2" misuse \
  '^threadwatch attach: --folded prints folded stacks instead of the dump: not with --all or --json$'
cli attach --folded --all 1
check "--folded with --all: bad use, exit 2" misuse '^threadwatch attach: --folded .* not with --all'
cli attach --pprof - --json 1
check "--pprof - with --json: bad use, exit 2" misuse \
  '^threadwatch attach: --pprof - writes the profile to stdout instead of the dump: not with'
cli attach --pprof= 1
check "--pprof with an empty name: bad use, exit 2" \
  misuse '^threadwatch attach: --pprof takes a file name'
cli attach 1 --pprof
check "--pprof without its argument: bad use, exit 2" \
  bash -c "[ $rc = 2 ] && grep -q \"option '--pprof' requires an argument\" '$TMP/err'"
cli attach --pprof "$TMP/no/such/dir/t.pb.gz" "${A:-1}"
check "--pprof into a missing directory: one line naming the file and errno, exit 1" fails_with 1 \
  "^threadwatch: attach: cannot write $TMP/no/such/dir/t.pb.gz: No such file or directory$"
cli attach --pprof "$TMP/gone.pb.gz" "$gone"
check "--pprof of a process that is gone: 'no process', and no file left behind" \
  bash -c "[ $rc = 1 ] && grep -qx 'threadwatch: no process $gone' '$TMP/err' &&
           [ ! -e '$TMP/gone.pb.gz' ]"
echo keep >"$TMP/kept.pb.gz"
cli attach --pprof "$TMP/kept.pb.gz" "$gone"
check "--pprof of a process that is gone: a file already there is left as it was" \
  bash -c "[ $rc = 1 ] && [ \"\$(cat '$TMP/kept.pb.gz')\" = keep ]"
if [ -n "${A:-}" ]; then
  check "after the failed --pprof attaches the ABBA program is left as it was" running_free "$A"
  cli attach "$A"
  check "and a plain attach still finds its deadlock" \
    bash -c "[ $rc = 66 ] && grep -qE '$CYCLE' '$TMP/out'"
fi

finish
