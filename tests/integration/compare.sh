#!/usr/bin/env bash
# Regenerates the tables of docs/comparison.md: every lock-order test program (tests/integration/
# bad/lock_* and good/lock_*) under threadwatch, ThreadSanitizer (gcc -fsanitize=thread), Helgrind
# and DRD, then a timing of lock-heavy loops. Not part of the test run (it needs valgrind and takes
# a few minutes).
#
#   tests/integration/compare.sh BUILD_DIR [SCENARIO...]     markdown on stdout, progress on stderr
#
# Environment: CC (default gcc), CXX (default g++), COMPARE_KEEP=1 keeps the work directory (all
# the tools' outputs are there), COMPARE_SKIP_TIMING=1 leaves out the timing table,
# COMPARE_REPEAT (default 3) runs per timing (the fastest counts).

set -uo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR [SCENARIO...]" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "$1" && pwd) || exit 2
shift
lib="$build/libthreadwatch.so"
[[ -f $lib ]] || { echo "compare.sh: no $lib" >&2; exit 2; }
cc=${CC:-gcc}
cxx=${CXX:-g++}
command -v valgrind >/dev/null || { echo "compare.sh: valgrind is not installed" >&2; exit 2; }

while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^THREADWATCH_' || true)
unset LD_PRELOAD TSAN_OPTIONS

work=$(mktemp -d "${TMPDIR:-/tmp}/tw-compare.XXXXXX")
if [[ ${COMPARE_KEEP:-0} == 1 ]]; then
  echo "compare.sh: keeping $work" >&2
else
  trap 'rm -rf "$work"' EXIT
fi

# name | source (relative to tests/integration) | expected: bad or good | threadwatch env | what
scenarios=(
  "lock_abba_threads|bad/lock_abba_threads.c|bad||ABBA, two threads run one after the other"
  "lock_abba_one_thread|bad/lock_abba_one_thread.c|bad||ABBA within one thread"
  "lock_cycle3|bad/lock_cycle3.c|bad||3-lock cycle over 3 threads"
  "lock_philosophers|bad/lock_philosophers.c|bad||5 dining philosophers, one at a time"
  "lock_cycle20|bad/lock_cycle20.c|bad||20-lock cycle"
  "lock_rwlock_write|bad/lock_rwlock_write.c|bad||rwlock write/write inversion"
  "lock_mixed_mutex_rwlock|bad/lock_mixed_mutex_rwlock.c|bad||mutex + rwlock (write) inversion"
  "lock_rwlock_read_write|bad/lock_rwlock_read_write.c|bad||rwlock: hold read, want write, crosswise"
  "lock_timedlock|bad/lock_timedlock.c|bad||pthread_mutex_timedlock inversion"
  "lock_cxx_lock_guard|bad/lock_cxx_lock_guard.cpp|bad||std::mutex + std::lock_guard inversion"
  "lock_once_per_cycle|bad/lock_once_per_cycle.c|bad||two cycles, each inverted 20 times"
  "lock_abba_suppressed|bad/lock_abba_threads.c|supp|THREADWATCH_SUPPRESS=@SUPP@|ABBA with a suppression naming worker_ba"
  "lock_classes|bad/lock_classes.c|bad|THREADWATCH_LOCK_CLASSES=1|class inversion (distinct objects), class mode on"
  "lock_classes_off|bad/lock_classes.c|good||the same program, object-level checking only"
  "lock_consistent_order|good/lock_consistent_order.c|good||8 threads x 1000, one order"
  "lock_trylock_backoff|good/lock_trylock_backoff.c|good||inversion only through trylock + back-off"
  "lock_gate|good/lock_gate.c|good||inversion always under a common gate lock"
  "lock_hand_over_hand|good/lock_hand_over_hand.c|good||hand-over-hand over 100 list nodes"
  "lock_address_order_10k|good/lock_address_order_10k.c|good||10,000 mutexes in address order"
  "lock_rwlock_read_read|good/lock_rwlock_read_read.c|good||rwlock read/read \"inversion\""
  "lock_recursive|good/lock_recursive.c|good||recursive mutex re-locked while holding another"
  "lock_reinit_same_address|good/lock_reinit_same_address.c|good||lock destroyed + re-initialised at the same address"
)

# Each tool's suppression for the suppressed scenario: the same function, each tool's own format.
printf 'lock-order-cycle:worker_ba\n' >"$work/tw.supp"
printf 'deadlock:worker_ba\n' >"$work/tsan.supp"
cat >"$work/hg.supp" <<'EOF'
{
   worker_ba_lock_order
   Helgrind:LockOrder
   ...
   fun:worker_ba
}
EOF

build_one() { # SRC OUT [extra flags...]
  local src=$1 out=$2
  shift 2
  [[ -x $out ]] && return 0
  case $src in
    *.cpp) "$cxx" -std=c++17 -g -O1 -pthread -D_GNU_SOURCE -I"$here" "$@" -o "$out" "$src" ;;
    *) "$cc" -g -O1 -pthread -D_GNU_SOURCE -I"$here" "$@" -o "$out" "$src" ;;
  esac
}

# Prints a table cell from a count of lock-order reports and whether one was wanted.
cell() { # COUNT EXPECTED(bad|good|supp) [DETAIL]
  local n=$1 exp=$2 detail=${3:-}
  [[ -n $detail ]] && detail=" $detail"
  if [[ $n -gt 0 ]]; then
    case $exp in
      bad) echo "reported ($n)$detail" ;;
      *) echo "**false positive** ($n)$detail" ;;
    esac
  else
    case $exp in
      bad) echo "**miss**$detail" ;;
      *) echo "silent$detail" ;;
    esac
  fi
}

selected=("$@")
want() {
  [[ ${#selected[@]} -eq 0 ]] && return 0
  local s
  for s in "${selected[@]}"; do [[ $s == "$1" ]] && return 0; done
  return 1
}

# timed VAR command...: runs it, leaves its wall-clock seconds in t_VAR, returns its status.
timed() {
  local var=$1 s e rc
  shift
  s=$(date +%s.%N)
  "$@"
  rc=$?
  e=$(date +%s.%N)
  printf -v "t_$var" '%s' "$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }')"
  return $rc
}
bare_time() {
  timed bare "$1" >/dev/null 2>&1
  echo "$t_bare"
}
walls=()

echo "| scenario | expected | threadwatch | TSan | Helgrind | DRD |"
echo "| --- | --- | --- | --- | --- | --- |"
for row in "${scenarios[@]}"; do
  IFS='|' read -r name src exp twenv what <<<"$row"
  want "$name" || continue
  echo "compare.sh: $name" >&2
  base=$(basename "${src%.*}")
  plain="$work/$base.plain" tsan="$work/$base.tsan"
  build_one "$here/$src" "$plain" || { echo "compile failed: $src" >&2; continue; }
  build_one "$here/$src" "$tsan" -fsanitize=thread || { echo "compile failed: $src" >&2; continue; }
  out="$work/$name"

  # threadwatch
  envs=(LD_PRELOAD="$lib" THREADWATCH_JSON="$out.tw.jsonl" THREADWATCH_LOG="$out.tw.log")
  [[ -n $twenv ]] && envs+=("${twenv//@SUPP@/$work/tw.supp}")
  rm -f "$out.tw.jsonl"
  timed tw timeout 120 env "${envs[@]}" "$plain" >/dev/null 2>"$out.tw.err"
  tw_n=$(grep -c '"kind":"lock-order-cycle"' "$out.tw.jsonl" 2>/dev/null)
  tw_detail=""
  if [[ ${tw_n:-0} -gt 0 ]]; then
    tw_detail=$(python3 - "$out.tw.jsonl" <<'EOF'
import json, sys
parts = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("kind") != "lock-order-cycle":
        continue
    bits = [f"{r.get('cycle_length')} locks"]
    if r.get("what") != "lock-order":
        bits.append(r.get("what"))
    modes = {f"{e.get('held_mode')}->{e.get('acquire_mode')}" for e in r.get("edges", [])}
    if any("read" in m for m in modes):
        bits.append("edges " + ",".join(sorted(modes)))
    parts.append(", ".join(bits))
print("[" + "; ".join(sorted(set(parts))) + "]")
EOF
)
  fi

  # ThreadSanitizer (detect_deadlocks=1 is its default; ask for both stacks of each edge)
  tsan_opts="second_deadlock_stack=1"
  [[ $exp == supp ]] && tsan_opts+=" suppressions=$work/tsan.supp"
  timed tsan timeout 300 env TSAN_OPTIONS="$tsan_opts" "$tsan" >/dev/null 2>"$out.tsan.err"
  ts_n=$(grep -c 'WARNING: ThreadSanitizer: lock-order-inversion' "$out.tsan.err")
  ts_other=$(grep 'WARNING: ThreadSanitizer:' "$out.tsan.err" | grep -vc 'lock-order-inversion')
  ts_detail=""
  if [[ $ts_n -gt 0 ]]; then
    # Locks named in the longest "Cycle in lock order graph" line.
    ts_len=$(grep 'Cycle in lock order graph' "$out.tsan.err" |
      awk '{ n = gsub(/=>/, "=>"); if (n > m) m = n } END { print m + 0 }')
    ts_detail="[$ts_len locks]"
  fi
  [[ $ts_other -gt 0 ]] && ts_detail+=" +$ts_other other warnings"

  # Helgrind
  hg_opts=()
  [[ $exp == supp ]] && hg_opts+=(--suppressions="$work/hg.supp")
  timed hg timeout 900 valgrind --tool=helgrind "${hg_opts[@]}" "$plain" >/dev/null 2>"$out.hg.err"
  hg_n=$(grep -c 'lock order "' "$out.hg.err")
  # Distinct errors printed ("N errors from C contexts": C are printed, N counts repeats).
  hg_ctx=$(sed -n 's/.*ERROR SUMMARY: [0-9]* errors from \([0-9]*\) contexts.*/\1/p' "$out.hg.err" |
    tail -n1)
  hg_detail=""
  [[ ${hg_ctx:-0} -gt $hg_n ]] && hg_detail="+$((hg_ctx - hg_n)) other errors"

  # DRD (it has no lock-order check: count its errors of any kind)
  timed drd timeout 900 valgrind --tool=drd "$plain" >/dev/null 2>"$out.drd.err"
  drd_errs=$(sed -n 's/.*ERROR SUMMARY: [0-9]* errors from \([0-9]*\) contexts.*/\1/p' \
    "$out.drd.err" | tail -n1)
  drd_lo=$(grep -ci 'lock order' "$out.drd.err")
  drd_detail=""
  [[ ${drd_errs:-0} -gt 0 ]] && drd_detail="$drd_errs errors"

  label=$exp
  [[ $exp == supp ]] && label="none (suppressed)"
  [[ $exp == bad ]] && label="report"
  [[ $exp == good ]] && label="silence"
  printf '| `%s`: %s | %s | %s | %s | %s | %s |\n' "$name" "$what" "$label" \
    "$(cell "${tw_n:-0}" "$exp" "$tw_detail")" "$(cell "$ts_n" "$exp" "$ts_detail")" \
    "$(cell "$hg_n" "$exp" "$hg_detail")" "$(cell "$drd_lo" "$exp" "$drd_detail")"
  case $name in
    lock_consistent_order | lock_hand_over_hand | lock_address_order_10k)
      walls+=("$(printf '| `%s` | %s s | %s s | %s s | %s s | %s s |' "$name" "$(bare_time "$plain")" \
        "$t_tw" "$t_tsan" "$t_hg" "$t_drd")") ;;
  esac
done

if [[ ${#walls[@]} -gt 0 ]]; then
  echo
  echo "| wall time of one run | bare | threadwatch | TSan | Helgrind | DRD |"
  echo "| --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${walls[@]}"
fi

[[ ${COMPARE_SKIP_TIMING:-0} == 1 ]] && exit 0

# --- timing -------------------------------------------------------------------------------------
cat >"$work/lockloop.c" <<'EOF'
/* lockloop single|nested N: N uncontended lock/unlock pairs of one mutex, or N nested pairs
 * (A then B, always in that order), in one thread besides main. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static long n, counter;
static int nested;

static void *loop(void *arg) {
  (void)arg;
  for (long i = 0; i < n; i++) {
    pthread_mutex_lock(&a);
    if (nested) pthread_mutex_lock(&b);
    counter++;
    if (nested) pthread_mutex_unlock(&b);
    pthread_mutex_unlock(&a);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  nested = strcmp(argv[1], "nested") == 0;
  n = atol(argv[2]);
  pthread_t t;
  pthread_create(&t, NULL, loop, NULL);
  pthread_join(t, NULL);
  return counter == n ? 0 : 1;
}
EOF
"$cc" -g -O1 -pthread -o "$work/lockloop.plain" "$work/lockloop.c"
"$cc" -g -O1 -pthread -fsanitize=thread -o "$work/lockloop.tsan" "$work/lockloop.c"

repeat=${COMPARE_REPEAT:-3}
best() { # command... : prints the fastest of $repeat wall-clock times, in seconds
  local min="" i s e t
  for ((i = 0; i < repeat; i++)); do
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    e=$(date +%s.%N)
    t=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.4f", e - s }')
    if [[ -z $min ]] || awk -v a="$t" -v b="$min" 'BEGIN { exit !(a < b) }'; then min=$t; fi
  done
  echo "$min"
}

echo
echo "| loop (1e6 iterations) | bare | threadwatch | TSan | Helgrind | DRD |"
echo "| --- | --- | --- | --- | --- | --- |"
for mode in single nested; do
  echo "compare.sh: timing $mode" >&2
  n=1000000
  t_bare=$(best "$work/lockloop.plain" "$mode" "$n")
  t_tw=$(best env LD_PRELOAD="$lib" THREADWATCH_LOG="$work/timing.log" "$work/lockloop.plain" "$mode" "$n")
  t_ts=$(best "$work/lockloop.tsan" "$mode" "$n")
  t_hg=$(best valgrind --tool=helgrind "$work/lockloop.plain" "$mode" "$n")
  t_drd=$(best valgrind --tool=drd "$work/lockloop.plain" "$mode" "$n")
  fmt() { awk -v t="$1" -v b="$t_bare" 'BEGIN { printf "%.3f s (%.1fx)", t, t / b }'; }
  label="uncontended lock/unlock of one mutex"
  [[ $mode == nested ]] && label="nested pair A then B (known order)"
  printf '| %s | %.3f s | %s | %s | %s | %s |\n' "$label" "$t_bare" "$(fmt "$t_tw")" \
    "$(fmt "$t_ts")" "$(fmt "$t_hg")" "$(fmt "$t_drd")"
done
