#!/usr/bin/env bash
# Stress run of libthreadwatch.so: every scenario of scripts/stress/worker.c runs bare and then
# preloaded, and the soak runs bare and preloaded side by side for --duration seconds while the RSS
# of both is sampled every second. Never a timing verdict.
#
#   scripts/stress.sh [BUILD_DIR] [--duration SECONDS] [--scale F] [--only NAME[,NAME...]] [--keep]
#
#   BUILD_DIR    holds libthreadwatch.so (default: build/ at the top of the repository)
#   --duration   length of the soak (default 60; scripts/test.sh runs 60, a release check 600).
#   --scale      multiplies every scenario's iteration count (default 1; 0.2 for a quick look).
#   --only       run only these scenarios (fork daemon exec signals cancel longjmp dlopen churn live
#                deep soak).
#   --keep       keep the work directory (outputs, JSON reports, hang snapshots) and print its path.
#
# Scenarios (each a correct program; stress/worker.c says what each one does and why):
#   fork     fork/_Fork/vfork loops beside busy threads, pthread_atfork handlers that wait for a lock
#            another thread holds and that write a pipe in the child, threads and exit() in children
#   daemon   daemon() (glibc forks inside, bypassing the fork hook) from a process with busy threads
#   exec     posix_spawn, fork+exec, system, popen beside busy threads
#   signals  a signal (handler on an 8 KiB alternate stack, writing a watched pipe) while blocked in
#            every watched blocking call, with and without SA_RESTART
#   cancel   pthread_cancel at every watched cancellation point (cleanup handlers checked)
#   longjmp  siglongjmp out of blocked read/write/eventfd_read/pthread_mutex_lock
#   dlopen   dlopen/dlclose cycles of a library whose static mutexes each load takes in another order
#   churn    20,000 short threads, each forming a new lock-order pair and making a watched read
#   live     2,000 live threads blocked in a condvar, then one broadcast
#   deep     one thread holding 5,000 mutexes at once, three rounds
#   soak     6 threads of mixed work (nested locks, producer/consumer, pipe ping-pong, thread churn),
#            plus a fork every 2 s and a dlopen/dlclose every second, for --duration seconds
#
# What is printed: per scenario its iterations, bare and preloaded status and time, crashes (killed
# by a signal), hangs (past the time limit: the process group is killed and /proc snapshots of every
# thread are kept), differences (exit status or stdout differ from the bare run) and reports (any
# report is a false alarm: every scenario is correct), and the peak RSS of both runs; for the soak,
# RSS over time of both runs and the growth after warm-up. The last line:
#   TOTAL crashes=N hangs=N differences=N reports=N
# Exit status 0 when there are no crashes, hangs nor differences, 1 otherwise, 2 on a usage error.
# Reports are listed and counted (each is a false alarm to look into: every scenario is correct),
# but do not fail the run: on a loaded machine a wait can legitimately outlast THREADWATCH_STALL.
#
# The preloaded runs use THREADWATCH_EXITCODE=0 (a report does not change the status: reports are
# counted from the JSON), THREADWATCH_STALL=1s, and the worker stays idle for 1.5 s with all its
# threads joined before it ends (STRESS_LINGER_MS), so a wait state the tool left behind shows up as
# a stall report. Needs cc (or $CC). Time: the scenarios take about a minute bare + preloaded at
# --scale 1 on a fixed build (longer where the tool is slow or hangs: each preloaded run is limited to
# 10 x its bare time + 60 s), plus --duration for the two soaks, which run at the same time.

set -uo pipefail

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_arg=$root/build
if [[ $# -ge 1 && $1 != -* ]]; then build_arg=$1; shift; fi
build=$(cd "$build_arg" 2>/dev/null && pwd) || { echo "stress.sh: no build directory $build_arg" >&2; exit 2; }
lib="$build/libthreadwatch.so"
[[ -f $lib ]] || { echo "stress.sh: $lib does not exist" >&2; exit 2; }
duration=60 scale=1 only="" keep=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --duration) duration=${2:?}; shift 2 ;;
    --scale) scale=${2:?}; shift 2 ;;
    --only) only=${2:?}; shift 2 ;;
    --keep) keep=1; shift ;;
    *) usage ;;
  esac
done
[[ $duration =~ ^[0-9]+$ && $duration -ge 5 ]] || { echo "stress.sh: --duration wants seconds >= 5" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$here/stress
work=$(mktemp -d "${TMPDIR:-/tmp}/tw-stress.XXXXXX")
if [[ $keep == 1 ]]; then echo "stress.sh: keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
cc=${CC:-cc}

# The caller's own settings must not leak into the runs.
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^THREADWATCH_' || true)
unset LD_PRELOAD

if ! "$cc" -g -O1 -pthread -Wall -o "$work/worker" "$src/worker.c" -ldl >"$work/cc.log" 2>&1 ||
   ! "$cc" -shared -fPIC -O1 -pthread -o "$work/libreload.so" "$src/lib_reload.c" >>"$work/cc.log" 2>&1; then
  cat "$work/cc.log" >&2
  echo "stress.sh: cannot build the workers" >&2
  exit 2
fi

export STRESS_LINGER_MS=1500
scaled() { awk -v n="$1" -v s="$scale" 'BEGIN { v = int(n * s); print (v < 1 ? 1 : v) }'; }

# Scenarios: name, default iterations (extra argument added below where one is needed).
scenarios=(fork:300 daemon:20 exec:100 signals:10 cancel:20 longjmp:20 dlopen:200 churn:20000
           live:2000 deep:5000)
selected() { [[ -z $only || ",$only," == *",$1,"* ]]; }

crashes=0 hangs=0 diffs=0 reports=0

# Snapshot of every thread of every process in process group $1 (a hang): comm, state, wchan, the
# system call with its arguments. Read from /proc only: nothing is attached or signalled.
snapshot() {
  local pgid=$1 out=$2 p t
  for p in $(ps -o pid= -g "$pgid" 2>/dev/null); do
    echo "== process $p: $( { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null)"
    for t in /proc/"$p"/task/*; do
      echo "  task ${t##*/} $(cat "$t/comm" 2>/dev/null) state=$(awk '{print $3}' "$t/stat" 2>/dev/null)" \
           "wchan=$(cat "$t/wchan" 2>/dev/null) syscall=$(cat "$t/syscall" 2>/dev/null)"
    done
  done >"$out" 2>&1
}

# Runs "$@" in a process group of its own with a time limit of $1 seconds; stdout/stderr to $2.out
# and $2.err. Sets RC (124 on a hang, after a snapshot into $2.hang) and SECS.
run_limited() {
  local limit=$1 base=$2
  shift 2
  local t0 t1 pid
  t0=$(date +%s.%N)
  setsid "$@" >"$base.out" 2>"$base.err" </dev/null &
  pid=$!
  local deadline=$(( $(date +%s) + limit ))
  while kill -0 "$pid" 2>/dev/null; do
    if (( $(date +%s) >= deadline )); then
      snapshot "$pid" "$base.hang"
      kill -TERM -- "-$pid" 2>/dev/null
      sleep 3
      kill -KILL -- "-$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
      RC=124
      t1=$(date +%s.%N)
      SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
      return
    fi
    sleep 0.2
  done
  wait "$pid"
  RC=$?
  t1=$(date +%s.%N)
  SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
}

# The reports of a preloaded run: "N (kind/what xK, ...)".
report_summary() {
  local base=$1 n kinds
  n=$(cat "$base".*.jsonl 2>/dev/null | wc -l)
  kinds=$(cat "$base".*.jsonl 2>/dev/null | grep -o '"kind":"[a-z-]*","what":"[a-z-]*"' |
          sed 's/"kind":"\([a-z-]*\)","what":"\([a-z-]*\)"/\1\/\2/' | sort | uniq -c |
          awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}')
  REPORTS=$n
  REPORT_KINDS=$kinds
}

status_word() { # exit status of a run, in words
  local rc=$1
  if (( rc == 124 )); then echo "HANG"
  elif (( rc > 128 )); then echo "SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
  else echo "exit $rc"; fi
}

printf '%-8s %7s  %-17s %-17s %5s %5s %5s %7s  %s\n' scenario iters bare preloaded crash hang diff reports \
       "peak RSS bare -> preloaded (kB)"
for entry in "${scenarios[@]}"; do
  name=${entry%%:*}
  selected "$name" || continue
  n=$(scaled "${entry#*:}")
  extra=()
  [[ $name == dlopen ]] && extra=("$work/libreload.so")
  b=$work/$name.bare p=$work/$name.pre
  run_limited 300 "$b" "$work/worker" "$name" "$n" "${extra[@]}"
  brc=$RC bsecs=$SECS
  limit=$(awk -v s="$bsecs" 'BEGIN { v = int(10 * s + 60); print v }')
  run_limited "$limit" "$p" env LD_PRELOAD="$lib" THREADWATCH_EXITCODE=0 THREADWATCH_STALL=1s \
    THREADWATCH_JSON="$p.%p.jsonl" THREADWATCH_LOG="$p.%p.log" "$work/worker" "$name" "$n" "${extra[@]}"
  prc=$RC psecs=$SECS
  crash=0 hang=0 diff=0
  (( prc > 128 && prc != 124 )) && crash=1
  (( prc == 124 )) && hang=1
  if (( brc != 0 )); then
    echo "  note: the bare run of $name failed ($(status_word "$brc")): $(tail -n 2 "$b.err" | tr '\n' ' ')"
  fi
  if (( hang == 0 && crash == 0 )) && { (( prc != brc )) || ! cmp -s "$b.out" "$p.out"; }; then diff=1; fi
  report_summary "$p"
  hb=$(grep -o "mem $name hwm_kb=[0-9]*" "$b.err" | tail -n 1 | grep -o '[0-9]*$')
  hp=$(grep -o "mem $name hwm_kb=[0-9]*" "$p.err" | tail -n 1 | grep -o '[0-9]*$')
  printf '%-8s %7s  %-17s %-17s %5s %5s %5s %7s  %s\n' "$name" "$n" "$(status_word "$brc") ${bsecs}s" \
         "$(status_word "$prc") ${psecs}s" "$crash" "$hang" "$diff" "$REPORTS" \
         "${hb:+$hb -> ${hp:-?}}"
  [[ -n $REPORT_KINDS ]] && echo "           reports: $REPORT_KINDS"
  if (( diff )); then
    diff "$b.out" "$p.out" | head -n 8 | sed 's/^/           /'
  fi
  if (( hang )); then
    echo "           hang: threads at the time limit ($p.hang):"
    grep -v 'state=S wchan=0' "$p.hang" | head -n 8 | sed 's/^/             /'
  fi
  if (( crash )); then tail -n 3 "$p.err" | sed 's/^/           stderr: /'; fi
  # Daemons live in sessions of their own (out of reach of the group kill): end any still running.
  for f in "$b.err" "$p.err"; do
    for d in $(grep -o 'daemon_pid=[0-9]*' "$f" 2>/dev/null | grep -o '[0-9]*'); do
      if [[ "$( { tr '\0' ' ' <"/proc/$d/cmdline"; } 2>/dev/null)" == "$work/worker"* ]]; then
        echo "           a daemon (pid $d) was still running: killed"
        kill -KILL "$d" 2>/dev/null
      fi
    done
  done
  crashes=$((crashes + crash)) hangs=$((hangs + hang)) diffs=$((diffs + diff)) reports=$((reports + REPORTS))
done

# The soak: bare and preloaded at the same time, RSS of both sampled every second.
if selected soak; then
  b=$work/soak.bare p=$work/soak.pre
  rm -f "$b.rss" "$p.rss"
  setsid "$work/worker" soak "$duration" "$work/libreload.so" >"$b.out" 2>"$b.err" </dev/null &
  bpid=$!
  setsid env LD_PRELOAD="$lib" THREADWATCH_EXITCODE=0 THREADWATCH_STALL=1s THREADWATCH_JSON="$p.%p.jsonl" \
    THREADWATCH_LOG="$p.%p.log" "$work/worker" soak "$duration" "$work/libreload.so" >"$p.out" 2>"$p.err" </dev/null &
  ppid=$!
  start=$(date +%s)
  limit=$((duration * 3 + 60))
  brc="" prc=""
  while :; do
    t=$(( $(date +%s) - start ))
    for side in b p; do
      pid=$bpid; [[ $side == p ]] && pid=$ppid
      rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
      [[ -n $rss ]] && echo "$t $rss" >>"$work/soak.$side.rss"
    done
    if [[ -z $brc ]] && ! kill -0 "$bpid" 2>/dev/null; then wait "$bpid"; brc=$?; fi
    if [[ -z $prc ]] && ! kill -0 "$ppid" 2>/dev/null; then wait "$ppid"; prc=$?; fi
    [[ -n $brc && -n $prc ]] && break
    if (( t >= limit )); then
      for pid in $bpid $ppid; do
        if kill -0 "$pid" 2>/dev/null; then
          snapshot "$pid" "$work/soak.$pid.hang"
          kill -TERM -- "-$pid" 2>/dev/null; sleep 3; kill -KILL -- "-$pid" 2>/dev/null
        fi
      done
      [[ -z $brc ]] && { wait "$bpid"; brc=124; }
      [[ -z $prc ]] && { wait "$ppid"; prc=124; }
      break
    fi
    sleep 1
  done
  crash=0 hang=0 diff=0
  (( prc > 128 && prc != 124 )) && crash=1
  (( prc == 124 )) && hang=1
  if (( hang == 0 && crash == 0 )) && { (( prc != brc )) || ! cmp -s "$b.out" "$p.out"; }; then diff=1; fi
  report_summary "$p"
  ops_b=$(grep -o 'ops=[0-9]*' "$b.err" | grep -o '[0-9]*'); ops_p=$(grep -o 'ops=[0-9]*' "$p.err" | grep -o '[0-9]*')
  printf '%-8s %7s  %-17s %-17s %5s %5s %5s %7s  %s\n' soak "${duration}s" "$(status_word "$brc")" \
         "$(status_word "$prc")" "$crash" "$hang" "$diff" "$REPORTS" "operations: ${ops_b:-?} bare, ${ops_p:-?} preloaded"
  [[ -n $REPORT_KINDS ]] && echo "           reports: $REPORT_KINDS"
  # RSS over time: 12 evenly spaced samples, the peak, and the growth after warm-up (from the sample
  # at a quarter of the run to the last one).
  for side in b p; do
    f=$work/soak.$side.rss
    label=bare; [[ $side == p ]] && label=preloaded
    [[ -s $f ]] || { echo "           RSS $label: no samples"; continue; }
    awk -v label="$label" '
      { t[NR] = $1; r[NR] = $2; if ($2 > peak) peak = $2 }
      END {
        line = sprintf("           RSS %-9s (MiB) over time:", label)
        for (i = 0; i < 12; i++) {
          k = int(1 + i * (NR - 1) / 11)
          line = line sprintf(" %ds:%.1f", t[k], r[k] / 1024)
        }
        q = int(1 + (NR - 1) / 4)
        printf "%s\n           RSS %-9s peak %.1f MiB; after warm-up (%ds -> %ds): %+.1f MiB (%+.0f%%)\n",
               line, label, peak / 1024, t[q], t[NR], (r[NR] - r[q]) / 1024, r[q] ? 100 * (r[NR] - r[q]) / r[q] : 0
      }' "$f"
  done
  crashes=$((crashes + crash)) hangs=$((hangs + hang)) diffs=$((diffs + diff)) reports=$((reports + REPORTS))
fi

echo "TOTAL crashes=$crashes hangs=$hangs differences=$diffs reports=$reports"
(( crashes + hangs + diffs == 0 ))
