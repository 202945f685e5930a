#!/usr/bin/env bash
# Builds threadwatch and runs it on the example programs in examples/, one bug per program.
#
#   scripts/demo.sh            (as root on a fresh Debian it first installs what is missing)
#
# Environment: BUILD_DIR (default build), JOBS (parallel build jobs, default 2).
# Each example runs as  LD_PRELOAD=build/libthreadwatch.so THREADWATCH_JSON=build/demo/NAME.jsonl
# build/examples/NAME, so the text report appears right here on the terminal (stderr) and the
# same reports are kept as JSON Lines. The examples exit 66: that is threadwatch saying it found
# something, and it does not stop the demo.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-2}
packages=(build-essential cmake pkg-config libunwind-dev uthash-dev libcmocka-dev libdw-dev zlib1g-dev python3)

bold() { if [[ -t 1 ]]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }

# 1. Debian packages: install only the missing ones (needs root; otherwise say what is missing).
missing=()
if command -v dpkg >/dev/null 2>&1; then
  for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    bold "== installing missing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
  else
    echo "demo.sh: missing packages: ${missing[*]}" >&2
    echo "demo.sh: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# 2. Configure and build the library and the examples.
bold "== building threadwatch in $build"
cmake -S "$root" -B "$build" -DTW_BUILD_EXAMPLES=ON
cmake --build "$build" -j "$jobs"

lib="$build/libthreadwatch.so"
[[ -f $lib ]] || { echo "demo.sh: $lib was not built" >&2; exit 1; }
mkdir -p "$build/demo"

# 3. Run each example under the preload. Extra environment per example after the name.
run_example() {
  local name=$1
  shift
  local json="$build/demo/$name.jsonl" status=0
  rm -f "$json"
  echo
  bold "== $name $*"
  sed -n '2,/^ \*\/$/p' "$root/examples/$name.c" | sed -e 's/^ \* \{0,1\}//' -e '/^\/$/d' |
    sed -n '1,/^Run:/p' | grep -v '^Run:' | sed 's/^/   /'
  bold "-- threadwatch output:"
  env "$@" LD_PRELOAD="$lib" THREADWATCH_JSON="$json" "$build/examples/$name" || status=$?
  local reports=0
  [[ -f $json ]] && reports=$(wc -l <"$json")
  bold "-- exit status: $status ($reports JSON report(s) in ${json#"$root"/})"
}

run_example leaky_server
run_example forgotten_join
run_example lost_wakeup
run_example surge THREADWATCH_MAX_THREADS=100
run_example lock_inversion
rm -rf "$build/demo/profiles"
run_example hot_lock THREADWATCH_PROFILE=block,mutex THREADWATCH_PROFILE_DIR="$build/demo/profiles"

cat <<EOF

== What was shown
  leaky_server    20 threads blocked forever in read() and never joined: ONE thread-leak report,
                  grouped by creation stack (handle_request), like Go's leaked goroutines.
  forgotten_join  a thread that finished but was never joined (what "exited"): its stack stays
                  allocated until someone joins it.
  lost_wakeup     a consumer asleep in pthread_cond_wait because the signal came before the wait
                  (no predicate): reported as blocked, with the stack it is stuck in.
  surge           200 threads alive at once with THREADWATCH_MAX_THREADS=100: one thread-surge
                  report with the live threads grouped by creation stack.
  lock_inversion  two transfers that lock the same two accounts in opposite orders, one after the
                  other: no hang in this run, but a lock-order-cycle report (a potential deadlock)
                  with the stacks of all four acquisitions.
  hot_lock        no bug that hangs, a cost: with THREADWATCH_PROFILE=block,mutex the contention
                  table at exit names the "ledger" lock, and the profiles in
                  ${build#"$root"/}/demo/profiles/ (pprof for `go tool pprof`, folded for flame
                  graphs) say where threads waited and which holder made them wait.
  Each bug's program exits 66 (THREADWATCH_EXITCODE) because a report was made; the same reports
  are in ${build#"$root"/}/demo/*.jsonl as JSON Lines (docs/report-format.md). Nothing was
  recompiled: threadwatch was only preloaded (LD_PRELOAD) into the unmodified programs.
EOF
