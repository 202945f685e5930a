#!/usr/bin/env bash
# Measures `threadwatch attach` against `gdb -batch -ex 'thread apply all bt'` and `eu-stack -p`
# (elfutils) on the same running programs, for the README's comparison. A measurement, never a
# pass/fail test: it prints what it saw.
#
#   scripts/attach-compare.sh [BUILD_DIR] [THREADS]     (default: build/, 1000)
#
# 1. Time: a process with THREADS parked threads (tests/attach/many.c: a third on a condvar, a third
#    reading a pipe, a third asleep); each tool runs 3 times in turn, and the best and worst wall
#    time of each is printed, with the lines of output.
# 2. What each tells: tests/attach/hang.c abba (two threads in an ABBA deadlock): the lines of each
#    tool's output that mention the blocked threads' functions and the word "deadlock", and the
#    exit status.
# gdb and eu-stack are optional (apt-get install gdb elfutils); a missing one is said and skipped.
# Every process started here is killed at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-1000}
CLI=$BUILD/threadwatch
[ -x "$CLI" ] || { echo "attach-compare: no $CLI (build first)" >&2; exit 2; }
TMP=$(mktemp -d /tmp/tw-compare.XXXXXX)
pids=()
cleanup() {
  exec 2>/dev/null
  for p in "${pids[@]}"; do kill -KILL "$p"; done
  wait
  rm -rf "$TMP"
}
trap cleanup EXIT

cc -g -O1 -pthread -o "$TMP/many" tests/attach/many.c || exit 1
cc -g -O1 -pthread -o "$TMP/hang" tests/attach/hang.c || exit 1

start() { # start OUT PROGRAM ARGS...: in the background; waits for its "ready" (at most 60 s)
  local out=$1; shift
  "$@" >"$out" 2>&1 &
  started=$!
  pids+=("$started")
  for _ in $(seq 1200); do grep -qx ready "$out" && return 0; sleep 0.05; done
  echo "attach-compare: $* never became ready" >&2
  exit 1
}

tools=("threadwatch attach" "gdb thread apply all bt" "eu-stack -p")
run_tool() { # run_tool INDEX PID OUT: runs one tool on PID, its stdout+stderr in OUT
  case $1 in
    0) timeout 300 "$CLI" attach "$2" ;;
    1) timeout 300 gdb -p "$2" -batch -ex 'thread apply all bt' ;;
    2) timeout 300 eu-stack -p "$2" ;;
  esac >"$3" 2>&1
}
have_tool() {
  case $1 in
    0) return 0 ;;
    1) command -v gdb >/dev/null ;;
    2) command -v eu-stack >/dev/null ;;
  esac
}

echo "== 1. wall time on a process with $N parked threads (3 runs each, interleaved)"
start "$TMP/many.out" "$TMP/many" "$N"
M=$started
declare -A best worst lines
for round in 1 2 3; do
  for i in 0 1 2; do
    have_tool $i || continue
    t0=$(date +%s%N)
    run_tool $i "$M" "$TMP/tool$i.out"
    t=$(( $(date +%s%N) - t0 )) # ns
    if [ -z "${best[$i]:-}" ] || [ "$t" -lt "${best[$i]}" ]; then best[$i]=$t; fi
    if [ -z "${worst[$i]:-}" ] || [ "$t" -gt "${worst[$i]}" ]; then worst[$i]=$t; fi
    lines[$i]=$(wc -l <"$TMP/tool$i.out")
  done
done
printf "%-26s %10s %10s %8s\n" tool best_s worst_s lines
for i in 0 1 2; do
  if have_tool $i; then
    printf "%-26s %10s %10s %8s\n" "${tools[$i]}" "$(awk -v t="${best[$i]}" 'BEGIN { printf "%.2f", t / 1e9 }')" \
      "$(awk -v t="${worst[$i]}" 'BEGIN { printf "%.2f", t / 1e9 }')" "${lines[$i]}"
  else
    printf "%-26s %s\n" "${tools[$i]}" "not installed (apt-get install gdb elfutils)"
  fi
done
grep -E '^threadwatch attach of pid|stopped for' "$TMP/tool0.out" | head -2
kill -KILL "$M"

echo
echo "== 2. what each tool tells about an ABBA deadlock (tests/attach/hang.c abba)"
start "$TMP/abba.out" "$TMP/hang" abba
A=$started
for i in 0 1 2; do
  have_tool $i || continue
  run_tool $i "$A" "$TMP/abba$i.out"
  rc=$?
  echo "-- ${tools[$i]} (exit $rc, $(wc -l <"$TMP/abba$i.out") lines); lines naming the deadlock, the locks or the threads' functions:"
  grep -E 'deadlock|lock_a|lock_b|holding|held by| transfer| audit|in transfer|in audit' \
    "$TMP/abba$i.out" | cut -c1-220 | head -12
done
