#!/usr/bin/env bash
# What the preload costs real programs: bare and preloaded runs of real Debian programs, alternating
# (bare first in odd rounds, preloaded first in even ones, so a noisy machine's drift hits both
# alike), several runs each, the medians and their ratio in one table. Never pass/fail: the exit
# status is non-zero only on a usage error or when the library cannot be built.
#
#   scripts/bench-real.sh [-n RUNS] [--smoke] [-B BUILD_DIR] [-L LIB] [PROGRAM...]
#
#   -n RUNS     runs per program and mode (default 5)
#   --smoke     one run each with small loads (scripts/test.sh runs this; no verdict)
#   -B DIR      build directory holding libthreadwatch.so (default build/ at the top of the repository)
#   -L LIB      preload this library instead of DIR/libthreadwatch.so (e.g. an older build, to compare)
#   PROGRAM     any of: httpserver memcached redis pigz xz zstd ctest (default: all)
#
# The programs, as a user runs them (every one on 127.0.0.1 only, every run under `timeout`):
#   httpserver  python3 -m http.server (a thread per connection) under `ab -c 8`: requests/s
#   memcached   memcached -t 4 under memaslap (memcaslap -T 2 -c 32): operations/s
#   redis       redis-server with --io-threads 2 under redis-benchmark (SET and GET): requests/s
#   pigz        pigz -p 2 on a generated file: seconds
#   xz          xz -T2 on a generated file: seconds
#   zstd        zstd -T2 on a generated file: seconds
#   ctest       ctest -j2 -L unit of this project's unit tests (BUILD_DIR): seconds
# The ratio is the slowdown: preloaded time / bare time, or bare rate / preloaded rate (1.00: no
# cost; 1.25: a quarter slower). Preloaded runs use THREADWATCH_EXITCODE=0 and write their reports
# to files, whose count is shown (a server stopped with SIGTERM may leave a thread-leak warning).
# It installs the Debian packages it needs when run as root (apt-get), like scripts/test.sh; a
# program whose tools are missing is skipped with a note.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build
runs=5
smoke=0
progs=()
all=(httpserver memcached redis pigz xz zstd ctest)

usage() { sed -n '7,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
lib=""
while [[ $# -gt 0 ]]; do
  case $1 in
    -n) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; runs=$2; shift 2 ;;
    --smoke) smoke=1; runs=1; shift ;;
    -B) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; build=$2; shift 2 ;;
    -L) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; lib=$(readlink -f "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "bench-real.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) progs+=("$1"); shift ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench-real.sh: RUNS must be a positive integer" >&2; exit 2; }
[[ ${#progs[@]} -eq 0 ]] && progs=("${all[@]}")
for p in "${progs[@]}"; do
  [[ " ${all[*]} " == *" $p "* ]] || { echo "bench-real.sh: unknown program $p (known: ${all[*]})" >&2; exit 2; }
done

# --- set-up ------------------------------------------------------------------------------------

PKGS="python3 apache2-utils memcached libmemcached-tools redis-server redis-tools pigz xz-utils zstd"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [[ -n $missing ]]; then
  if [[ $(id -u) == 0 ]]; then
    echo "bench-real.sh: installing$missing"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; } ||
      echo "bench-real.sh: apt-get install failed; programs without their tools are skipped" >&2
  else
    echo "bench-real.sh: missing Debian packages:$missing (programs needing them are skipped)" >&2
  fi
fi

if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
fi
cmake --build "$build" -j2 >/dev/null || { echo "bench-real.sh: build failed" >&2; exit 1; }
[[ -n $lib ]] || lib=$build/libthreadwatch.so
[[ -f $lib ]] || { echo "bench-real.sh: no $lib" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tw-bench-real.XXXXXX")
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill -KILL -- "-$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^THREADWATCH_' || true)
unset LD_PRELOAD

# Input for the compressors: blocks of random bytes and of words drawn from a small vocabulary, so
# that it compresses about 3:1 like ordinary data (not all zeros, not all noise).
mb=48; [[ $smoke == 1 ]] && mb=6
python3 - "$work/input" "$mb" <<'EOF'
import os, random, sys
path, mb = sys.argv[1], int(sys.argv[2])
rng = random.Random(13)
words = [''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(2, 9)))
         for _ in range(2000)]
with open(path, 'wb') as f:
    for _ in range(mb * 16):  # 64 KiB blocks
        f.write(os.urandom(12 * 1024))
        text = ' '.join(rng.choice(words) for _ in range(9000)).encode()
        f.write(text[:52 * 1024].ljust(52 * 1024, b'.'))
EOF
head -c 4096 /dev/urandom >"$work/page.bin"

# --- one run of each program --------------------------------------------------------------------
# prog_NAME MODE prints one number (the metric) on success, nothing on failure. MODE is bare or tw.

mode_env() { # the environment prefix of a run
  if [[ $1 == tw ]]; then
    echo env LD_PRELOAD="$lib" THREADWATCH_EXITCODE=0 THREADWATCH_LOG="$work/tw.%p.log" \
      THREADWATCH_JSON="$work/tw.%p.jsonl"
  else
    echo env
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() { # up to 10 s for 127.0.0.1:$1 to accept
  python3 - "$1" <<'EOF'
import socket, sys, time
end = time.time() + 10
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

# server_start MODE CMD...: starts a server in a session of its own (server_pid); server_stop ends it.
server_start() {
  local mode=$1; shift
  # shellcheck disable=SC2046
  setsid $(mode_env "$mode") "$@" >"$work/server.out" 2>&1 </dev/null &
  server_pid=$!
}
server_stop() {
  [[ -z $server_pid ]] && return
  kill -TERM -- "-$server_pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=""
}

seconds_of() { # seconds_of MODE CMD...: the wall time of CMD (stdout to /dev/null), or nothing
  local mode=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  # shellcheck disable=SC2046
  timeout 300 $(mode_env "$mode") "$@" >/dev/null 2>>"$work/run.err" || return
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

prog_httpserver() {
  command -v ab >/dev/null || return
  local port n=3000
  [[ $smoke == 1 ]] && n=300
  port=$(free_port)
  mkdir -p "$work/www" && cp "$work/page.bin" "$work/www/page.bin"
  server_start "$1" python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/www"
  if wait_port "$port"; then
    timeout 120 ab -q -n "$n" -c 8 "http://127.0.0.1:$port/page.bin" 2>>"$work/run.err" |
      awk '/^Requests per second/ { print $4 }'
  fi
  server_stop
}

prog_memcached() {
  command -v memcached >/dev/null && command -v memcaslap >/dev/null || return
  local port secs=8
  [[ $smoke == 1 ]] && secs=2
  port=$(free_port)
  server_start "$1" memcached -p "$port" -U 0 -t 4 -u root -l 127.0.0.1
  if wait_port "$port"; then
    timeout 60 memcaslap -s "127.0.0.1:$port" -t "${secs}s" -T 2 -c 32 2>>"$work/run.err" |
      sed -n 's/.*TPS: \([0-9]*\).*/\1/p' | tail -n 1
  fi
  server_stop
}

prog_redis() {
  command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || return
  local port n=100000
  [[ $smoke == 1 ]] && n=10000
  port=$(free_port)
  server_start "$1" redis-server --port "$port" --bind 127.0.0.1 --io-threads 2 \
    --io-threads-do-reads yes --save '' --appendonly no --daemonize no
  if wait_port "$port"; then
    timeout 120 redis-benchmark -h 127.0.0.1 -p "$port" -n "$n" -c 32 -t set,get --threads 2 --csv \
      2>>"$work/run.err" | awk -F'"' '/^"(SET|GET)"/ { s += $4; k++ } END { if (k == 2) printf "%.0f\n", s / k }'
  fi
  server_stop
}

prog_pigz() { command -v pigz >/dev/null && seconds_of "$1" pigz -p 2 -c "$work/input"; }
prog_xz() {
  command -v xz >/dev/null || return
  local level=-2
  seconds_of "$1" xz -T2 "$level" -c "$work/input"
}
prog_zstd() { command -v zstd >/dev/null && seconds_of "$1" zstd -T2 -3 -c "$work/input"; }
prog_ctest() {
  command -v ctest >/dev/null && [[ -f $build/CTestTestfile.cmake ]] || return
  seconds_of "$1" ctest --test-dir "$build" -j2 -L unit
}

metric_of() {
  case $1 in
    httpserver) echo "requests/s" ;;
    memcached) echo "ops/s" ;;
    redis) echo "requests/s" ;;
    *) echo "seconds" ;;
  esac
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- the runs -----------------------------------------------------------------------------------

echo "bench-real: $lib"
echo "bench-real: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)), load average $(cut -d' ' -f1-3 /proc/loadavg) at start; $runs run(s) per mode$([[ $smoke == 1 ]] && echo ', smoke loads')"
declare -A vals=() reps=()
for prog in "${progs[@]}"; do
  for ((r = 1; r <= runs; r++)); do
    if ((r % 2)); then order=(bare tw); else order=(tw bare); fi
    for mode in "${order[@]}"; do
      rm -f "$work"/tw.*.jsonl "$work"/tw.*.log
      v=$("prog_$prog" "$mode")
      [[ -n $v ]] && vals[$prog:$mode]+="$v "
      if [[ $mode == tw ]]; then
        n=$(cat "$work"/tw.*.jsonl 2>/dev/null | wc -l)
        reps[$prog]=$(( ${reps[$prog]:-0} + n ))
      fi
    done
  done
done

printf '%-11s %-11s %12s %12s %9s %5s %8s\n' program metric bare preloaded slowdown runs reports
for prog in "${progs[@]}"; do
  b=$(tr ' ' '\n' <<<"${vals[$prog:bare]:-}" | grep . | median)
  p=$(tr ' ' '\n' <<<"${vals[$prog:tw]:-}" | grep . | median)
  nb=$(wc -w <<<"${vals[$prog:bare]:-}"); np=$(wc -w <<<"${vals[$prog:tw]:-}")
  m=$(metric_of "$prog")
  ratio=$(awk -v b="$b" -v p="$p" -v m="$m" 'BEGIN {
    if (b == "-" || p == "-" || b <= 0 || p <= 0) { print "-"; exit }
    printf "%.2fx\n", (m == "seconds") ? p / b : b / p }')
  note=""
  [[ $nb -eq 0 && $np -eq 0 ]] && note="  (skipped: tools missing or every run failed)"
  printf '%-11s %-11s %12s %12s %9s %5s %8s%s\n' "$prog" "$m" "$b" "$p" "$ratio" "$nb/$np" \
    "${reps[$prog]:-0}" "$note"
done
echo "(medians; slowdown = preloaded time / bare time, or bare rate / preloaded rate; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
exit 0
