#!/usr/bin/env bash
# Tests the profiles (docs/profiles.md) on a real program, read back with `go tool pprof`.
#
#   tests/profile/run.sh BUILD_DIR
#
# tests/profile/hot_cold.c has a hot lock (held across a sleep by four workers, so they queue on
# it on any machine) and a cold one. Checks:
#  - THREADWATCH_PROFILE=mutex with THREADWATCH_PROFILE_DIR: at exit, the mutex profile's top
#    function by delay (`go tool pprof -top -sample_index=delay`) is the hot lock's holder, its
#    Build ID is the program's, the folded file agrees, the contention table (text on stderr and
#    JSON) names the hot lock first with its waiter and holder stacks; no report, exit 0;
#  - THREADWATCH_PROFILE=block with THREADWATCH_PROFILE_RATE=3: the block profile, scaled, and no
#    mutex profile;
#  - an rwlock and a spinlock, contended: in the table and the mutex profile with their holders;
#  - a live process (`hot_cold park`): `threadwatch dump --pprof PID`'s top stack is where the test
#    parked its threads, with state and wait labels (-traces); `--folded` counts them; a second dump
#    after more threads park elsewhere, `-base` the first, shows only the new ones; `--pprof=mutex`
#    and `--contention --json` of the live process;
#  - profiles off: nothing timed, nothing said; a bad THREADWATCH_PROFILE exits 2 before main.
# The verdicts never depend on timing: the hot lock dominates by construction, and the program is
# driven through its stdin, never by sleeps.
#
# Environment: TW_TEST_TIMEOUT_MULT (default 1) multiplies every wait; TW_TEST_KEEP=1 keeps the
# temporary directory; CC (default cc).
# Output: PASS/FAIL per check, then exactly `profile: N passed, M failed`; exit 1 on any failure.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "$1" && pwd)
MULT=${TW_TEST_TIMEOUT_MULT:-1}
unset "${!THREADWATCH_@}"

TMP=$(mktemp -d /tmp/tw-profile.XXXXXX)
SUITE=profile
source "$(dirname "${BASH_SOURCE[0]}")/../lib/checks.sh"
pids=()
cleanup() {
  exec 2>/dev/null
  for p in "${pids[@]}"; do kill -KILL "$p"; done
  wait
  if [ "${TW_TEST_KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT


if ! command -v go >/dev/null; then
  echo "FAIL: go is not installed (scripts/test.sh installs golang-go): go tool pprof reads the profiles"
  failed=1
  finish
fi
export HOME=$TMP GOCACHE=$TMP/gocache GOFLAGS= # go tool pprof keeps nothing of ours elsewhere

LIB=$BUILD/libthreadwatch.so
CLI=$BUILD/threadwatch
PROG=$TMP/hot_cold
if ! ${CC:-cc} -g -O1 -pthread -I"$ROOT/include" -o "$PROG" "$HERE/hot_cold.c" -ldl; then
  echo "FAIL: cannot build tests/profile/hot_cold.c"
  failed=1
  finish
fi

# pprof ARGS...: go tool pprof, its output in $TMP/out.
pprof() { go tool pprof "$@" >"$TMP/out" 2>"$TMP/err"; }
# top_is FUNCTION FILE [ARGS...]: the first row of `go tool pprof -top ARGS FILE` (the most flat
# value) is FUNCTION.
top_is() {
  local want=$1 file=$2; shift 2
  pprof -top "$@" "$file" || return 1
  python3 - "$TMP/out" "$want" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines()
head = [i for i, l in enumerate(lines) if l.split()[:2] == ["flat", "flat%"]]
assert head and head[0] + 1 < len(lines), "no -top table"
row = lines[head[0] + 1].split()
assert row[5] == sys.argv[2], row
EOF
}
# folded_top_is FUNCTION FILE: the heaviest line of a folded file ends in FUNCTION (its leaf).
folded_top_is() {
  cp "$2" "$TMP/out"
  python3 - "$2" "$1" <<'EOF'
import sys
best = None
for line in open(sys.argv[1]):
    frames, _, count = line.rstrip("\n").rpartition(" ")
    assert frames and count.isdigit(), line
    if best is None or int(count) > best[0]:
        best = (int(count), frames.split(";"))
assert best and best[1][-1] == sys.argv[2], best
EOF
}
# json FILE: runs the Python assertions on stdin against the JSON document (one line) in FILE.
json() {
  cp "$1" "$TMP/out"
  python3 -c "import json, sys; d = json.loads(open(sys.argv[1]).read())
fn = lambda st: [f['function'] for f in st]
exec(sys.stdin.read())" "$1"
}
# run NAME ENV...: runs the program (with the arguments in run_args) to its end in $TMP/NAME under
# the preload with ENV; its stdout, stderr and status in $TMP/NAME/{out,err,rc}.
run_args=()
run() {
  local name=$1; shift
  mkdir -p "$TMP/$name"
  (cd "$TMP/$name" && timeout $((60 * MULT)) env LD_PRELOAD="$LIB" "$@" "$PROG" "${run_args[@]}" </dev/null \
     >"$TMP/$name/out" 2>"$TMP/$name/err")
  echo $? >"$TMP/$name/rc"
  cp "$TMP/$name/err" "$TMP/err"
}
build_id() { readelf -n "$PROG" | sed -n 's/^ *Build ID: *//p'; }

# --- 1. the mutex profile at exit ---

M=$TMP/mutex
run mutex THREADWATCH_PROFILE=mutex THREADWATCH_PROFILE_DIR="$M/dir" THREADWATCH_JSON="$M/r.jsonl"
MP=$(ls "$M"/dir/threadwatch.*.mutex.pb.gz 2>/dev/null)
check "mutex: the program exits 0 and makes no report" \
  bash -c "[ \"\$(cat '$M/rc')\" = 0 ] && [ ! -s '$M/r.jsonl' ]"
check "mutex: the directory has the thread and mutex profiles and the table, no block profile" \
  bash -c "cd '$M/dir' && ls threadwatch.*.threads.pb.gz threadwatch.*.threads.folded \
    threadwatch.*.mutex.pb.gz threadwatch.*.mutex.folded threadwatch.*.contention.json && \
    ! ls threadwatch.*.block.* 2>/dev/null" >/dev/null
check "mutex: go tool pprof -top -sample_index=delay puts the hot lock's holder first" \
  top_is update_hot "$MP" -sample_index=delay
check "mutex: the contentions column reads too" top_is update_hot "$MP" -sample_index=contentions
check "mutex: the profile names the program's build-id" \
  bash -c "go tool pprof -top '$MP' 2>/dev/null | grep -qx 'Build ID: $(build_id)'"
check "mutex: -traces shows the holder's stack, its object label and file:line in -lines" \
  bash -c "go tool pprof -traces '$MP' >'$TMP/out' 2>&1 && grep -qE 'object: +mutex 0x[0-9a-f]+ \"hot\"' '$TMP/out' &&
    grep -q update_hot '$TMP/out' && go tool pprof -top -lines '$MP' 2>&1 | grep -qE 'update_hot .*hot_cold.c:[0-9]+'"
check "mutex: the folded file's heaviest stack ends in the holder" \
  folded_top_is update_hot "$(ls "$M"/dir/threadwatch.*.mutex.folded)"
cp "$M/err" "$TMP/err"
check "mutex: the contention table is on stderr, the hot lock first" \
  bash -c "grep -qE '^==[0-9]+== threadwatch: contention: [0-9]+ locks? (was|were) contended' '$M/err' &&
    grep -qE '^ +1 +[0-9]+ .* mutex 0x[0-9a-f]+ \"hot\" \(hot\)$' '$M/err' &&
    grep -qE 'held, released with waiters at' '$M/err'"
check "mutex: threadwatch says nothing else on stderr" \
  bash -c "! grep -v -E '^(==[0-9]+== threadwatch: contention: | +#| +[0-9]+ +[0-9]+ | +lock #| +waited for at| +held, released|\$)' '$M/err' | grep -q threadwatch"
check "mutex: the JSON table names the hot lock first, with waiter and holder stacks" \
  json "$(ls "$M"/dir/threadwatch.*.contention.json)" <<'EOF'
c = d["contention"]
assert c["profile"] == "mutex" and c["rate"] == 1 and c["locks_contended"] >= 1, c
hot = c["locks"][0]
assert hot["rank"] == 1 and hot["name"] == "hot" and hot["kind"] == "mutex", hot
assert hot["symbol"] == "hot" and hot["contentions"] > 0 and hot["wait_ns"] > 0, hot
assert hot["max_wait_ns"] <= hot["wait_ns"] and hot["unlocks_with_waiters"] > 0, hot
assert fn(hot["waiters"][0]["stack"])[0] == "update_hot", hot["waiters"]
assert fn(hot["holders"][0]["stack"])[0] == "update_hot", hot["holders"]
assert all(l["wait_ns"] <= hot["wait_ns"] for l in c["locks"]), c["locks"]
EOF

# --- 2. the block profile, sampled ---

B=$TMP/block
run block THREADWATCH_PROFILE=block THREADWATCH_PROFILE_RATE=3 THREADWATCH_PROFILE_DIR="$B/dir"
BP=$(ls "$B"/dir/threadwatch.*.block.pb.gz 2>/dev/null)
check "block: exits 0, block profile written, no mutex profile" \
  bash -c "[ \"\$(cat '$B/rc')\" = 0 ] && [ -s '$BP' ] && ! ls '$B'/dir/threadwatch.*.mutex.* 2>/dev/null" 
check "block: the waits on the hot lock are in it, where they waited" \
  bash -c "go tool pprof -top -sample_index=delay '$BP' >'$TMP/out' 2>&1 && grep -qE ' update_hot$' '$TMP/out'"
check "block: its comment says 1 in 3 events are recorded (and scaled)" \
  bash -c "go tool pprof -top '$BP' 2>&1 | grep -q 'THREADWATCH_PROFILE=block, 1 in 3 events recorded (scaled)'"

# --- 3. rwlocks and spinlocks: charged to their holders too ---

K=$TMP/kinds
run_args=(kinds)
run kinds THREADWATCH_PROFILE=mutex THREADWATCH_PROFILE_DIR="$K/dir"
check "kinds: the JSON table has the rwlock and the spinlock, each with its holder's stack" \
  json "$(ls "$K"/dir/threadwatch.*.contention.json)" <<'EOF'
locks = {l["name"]: l for l in d["contention"]["locks"]}
rw, sp = locks["rw"], locks["spin"]
assert rw["kind"] == "rwlock" and sp["kind"] == "spinlock", (rw, sp)
for l, f in ((rw, "update_rw"), (sp, "update_spin")):
    assert l["contentions"] > 0 and l["delay_ns"] > 0, l
    assert fn(l["holders"][0]["stack"])[0] == f and fn(l["waiters"][0]["stack"])[0] == f, l
EOF
# -nodefraction=0: the rwlock's few ms next to the hot mutex's hundreds would be dropped from the
# listing (pprof leaves out nodes under 0.5% of the total), not from the profile.
check "kinds: the mutex profile has both holders" \
  bash -c "go tool pprof -top -nodefraction=0 '$(ls "$K"/dir/threadwatch.*.mutex.pb.gz)' >'$TMP/out' 2>&1 &&
    grep -qE ' update_rw$' '$TMP/out' && grep -qE ' update_spin$' '$TMP/out'"
run_args=()

# --- 4. a live process: the thread profile through the dump socket ---

L=$TMP/live
mkdir -p "$L"
mkfifo "$L/in"
(cd "$L" && exec env LD_PRELOAD="$LIB" THREADWATCH_PROFILE=block,mutex "$PROG" park <"$L/in" \
   >"$L/out" 2>"$L/err") &
pids+=($!)
exec 7>"$L/in" # the program's stdin stays open while we hold this
LP=${pids[-1]}
until_true() {
  local tries=$(($1 * MULT)); shift
  while [ "$tries" -gt 0 ]; do "$@" && return 0; sleep 0.05; tries=$((tries - 1)); done
  return 1
}
if ! until_true 400 grep -q '^parked 1$' "$L/out"; then
  cp "$L/out" "$TMP/out"; cp "$L/err" "$TMP/err"
  fail "live: the program parks its first threads"
  finish
fi
# The parked threads are seen blocked once their waits are published: poll the folded dump.
folded_parked() {
  "$CLI" dump --folded "$LP" >"$TMP/out" 2>"$TMP/err" && grep -qE ';park_here 4$' "$TMP/out"
}
check "live: dump --folded counts the 4 threads parked in park_here" until_true 200 folded_parked
"$CLI" dump --pprof "$LP" >"$L/d1.pb.gz" 2>"$TMP/err"
check "live: dump --pprof's top stack is where the threads were parked" top_is park_here "$L/d1.pb.gz"
check "live: -traces labels them blocked in pthread_cond_wait, with their creation site" \
  bash -c "go tool pprof -traces '$L/d1.pb.gz' >'$TMP/out' 2>&1 &&
    grep -qE '^ +state: +blocked$' '$TMP/out' && grep -qE '^ +wait: +pthread_cond_wait$' '$TMP/out' &&
    grep -qE '^ *created_at: +main \(hot_cold.c:[0-9]+\)$' '$TMP/out'"
echo >&7 # park more, elsewhere
if ! until_true 400 grep -q '^parked 2$' "$L/out"; then
  fail "live: the program parks its second threads"
  finish
fi
folded_parked2() {
  "$CLI" dump --folded "$LP" >"$TMP/out" 2>"$TMP/err" && grep -qE ';park_there 4$' "$TMP/out"
}
until_true 200 folded_parked2
"$CLI" dump --pprof "$LP" >"$L/d2.pb.gz" 2>"$TMP/err"
check "live: -base of the first dump shows only the new threads" \
  bash -c "go tool pprof -top -nodefraction=0 -base '$L/d1.pb.gz' '$L/d2.pb.gz' >'$TMP/out' 2>&1 &&
    grep -qE '^ +4 +[0-9.]+% .* park_there$' '$TMP/out' && ! grep -qE ' park_here$' '$TMP/out'"
"$CLI" dump --pprof=mutex "$LP" >"$L/m.pb.gz" 2>"$TMP/err"
check "live: dump --pprof=mutex of the running process" top_is update_hot "$L/m.pb.gz" -sample_index=delay
"$CLI" dump --profile block --format folded "$LP" >"$L/b.folded" 2>"$TMP/err"
check "live: --profile block --format folded" has "$L/b.folded" ';update_hot [0-9]+$'
"$CLI" dump --pprof=block "$LP" >"$L/b.pb.gz" 2>"$TMP/err"
check "live: the block profile has the main thread's join of the workers" \
  bash -c "go tool pprof -traces '$L/b.pb.gz' >'$TMP/out' 2>&1 && grep -qE 'object: +thread T[0-9]+' '$TMP/out'"
"$CLI" dump --contention --json "$LP" >"$L/c.json" 2>"$TMP/err"
check "live: dump --contention --json" json "$L/c.json" <<'EOF'
c = d["contention"]
assert c["profile"] == "block,mutex" and c["locks"][0]["name"] == "hot", c
EOF
"$CLI" dump --contention "$LP" >"$TMP/out" 2>"$TMP/err"
check "live: dump --contention (text)" has "$TMP/out" '^ +1 +[0-9]+ .* "hot" \(hot\)$'
"$CLI" dump --pprof=cpu "$LP" >"$TMP/out" 2>"$TMP/err"
check "live: an unknown profile is refused" \
  bash -c "[ $? = 2 ] && grep -q 'a profile is threads, block or mutex' '$TMP/err'"
exec 7>&- # the program releases its threads and exits
wait "$LP"
check "live: the program ends normally" [ $? = 0 ]

# --- 5. off, and a bad value ---

run off THREADWATCH_PROFILE_RATE=1
check "off: nothing timed, nothing said (no table), exit 0" \
  bash -c "[ \"\$(cat '$TMP/off/rc')\" = 0 ] && ! grep -q threadwatch '$TMP/off/err'"
run badvalue THREADWATCH_PROFILE=cpu
check "a bad THREADWATCH_PROFILE exits 2 before main, naming the variable and the form" \
  bash -c "[ \"\$(cat '$TMP/badvalue/rc')\" = 2 ] && [ ! -s '$TMP/badvalue/out' ] &&
    grep -q \"THREADWATCH_PROFILE='cpu' is not valid: expected \\\`block\\\`, \\\`mutex\\\`\" '$TMP/badvalue/err'"

finish
