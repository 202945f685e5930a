#!/usr/bin/env bash
# Measures what the preload costs: runs each bench_hooks benchmark bare and preloaded; one table.
#
# Usage: scripts/bench.sh [-n REPS] [--quick] [-B BUILD_DIR] [-L LIB] [BENCHMARK...]
#
#   -n REPS      repetitions per benchmark and mode; the best (lowest) time is kept (default 5, or
#                the environment variable BENCH_REPS)
#   --quick      one repetition with 1/50 of the iterations (the CI smoke test); BENCH_QUICK=1 is
#                the same
#   -B DIR       build directory (default: build/ at the top of the repository)
#   -L LIB       preload this library instead of DIR/libthreadwatch.so (an older build, to compare)
#   BENCHMARK    names from `bench_hooks list` (default: all of them)
#
# If the build directory has no CMake cache it is configured (RelWithDebInfo); the library and
# bench_hooks are then (re)built with -j2. Runs of the two modes are interleaved, and their order
# alternates from one repetition to the next, so slow drift of a noisy machine hits both alike.
# Output: one table, "benchmark  bare_ns  preload_ns  ratio  bare_rss  preload_rss" (ratio =
# preload / bare; RSS = the peak resident set of the run, in KiB, the largest seen over the
# repetitions). The herd rows (cond_herd*, pipe_herd*: 1,000 or 10,000 threads each blocked once)
# and held1k (one thread holding 1,000 mutexes) show what each thread's first wait and a deep
# held-lock stack cost. Preloaded runs set THREADWATCH_MAX_THREADS=100000: the 10,000-thread herds
# would otherwise make a thread-surge report, whose symbolization is not what is measured here.
# A benchmark named NAME_prof is NAME run preloaded with THREADWATCH_PROFILE=block,mutex (the
# contention profiles on); after the table, one line per NAME_prof measured with its NAME compares
# the two preloaded figures ("profile on / off").
# Timing is never a pass/fail condition: the exit status is non-zero only when a benchmark fails to
# run (crashes, errors or times out), bare or preloaded.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build"
reps=${BENCH_REPS:-5}
quick=0
if [[ -n ${BENCH_QUICK:-} && ${BENCH_QUICK} != 0 ]]; then quick=1; fi
names=()

usage() { sed -n '4,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
lib=""

while [[ $# -gt 0 ]]; do
    case $1 in
        -n) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; reps=$2; shift 2 ;;
        -n*) reps=${1#-n}; shift ;;
        --quick) quick=1; shift ;;
        -B) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; build=$2; shift 2 ;;
        -L) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; lib=$(readlink -f "$2"); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "bench.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) names+=("$1"); shift ;;
    esac
done
if ! [[ $reps =~ ^[1-9][0-9]*$ ]]; then
    echo "bench.sh: REPS must be a positive integer, got '$reps'" >&2
    exit 2
fi
if [[ $quick -eq 1 ]]; then reps=1; fi

# Build (configure only when there is no cache; building is a no-op when up to date).
if [[ ! -f "$build/CMakeCache.txt" ]]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
elif ! grep -q '^TW_BUILD_BENCH:BOOL=ON' "$build/CMakeCache.txt"; then
    cmake -S "$root" -B "$build" -DTW_BUILD_BENCH=ON >/dev/null
fi
cmake --build "$build" -j2 --target threadwatch bench_hooks >/dev/null
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
case $build_type in
    Release|RelWithDebInfo) ;;
    *) echo "bench.sh: warning: $build is a '${build_type:-unset}' build;" \
            "figures are not representative" >&2 ;;
esac

bin="$build/bench/bench_hooks"
[[ -n $lib ]] || lib="$build/libthreadwatch.so"
for f in "$bin" "$lib"; do
    [[ -e $f ]] || { echo "bench.sh: $f is missing after the build" >&2; exit 1; }
done
mapfile -t known < <("$bin" list)
if [[ ${#names[@]} -eq 0 ]]; then
    names=("${known[@]}")
fi
for name in "${names[@]}"; do
    if ! printf '%s\n' "${known[@]}" | grep -qx -- "$name"; then
        echo "bench.sh: unknown benchmark '$name' (known: ${known[*]})" >&2
        exit 2
    fi
done

bench_args=()
if [[ $quick -eq 1 ]]; then bench_args+=(--quick); fi

failures=0
# run_one MODE NAME: prints "NS_PER_OP RSS_KB", or nothing (and a note on stderr) when the run
# fails.
run_one() {
    local mode=$1 name=$2 out rc=0
    local profile=
    if [[ $name == *_prof ]]; then profile=block,mutex; fi
    if [[ $mode == preload ]]; then
        out=$(THREADWATCH_EXITCODE=0 THREADWATCH_MAX_THREADS=100000 THREADWATCH_PROFILE=$profile LD_PRELOAD="$lib" \
            timeout 300 "$bin" "${bench_args[@]}" "$name" 2>/dev/null) || rc=$?
    else
        out=$(timeout 300 "$bin" "${bench_args[@]}" "$name" 2>/dev/null) || rc=$?
    fi
    local got_name ns rss
    read -r got_name ns rss <<<"$out" || true
    if [[ $rc -ne 0 || $got_name != "$name" || -z $ns ]]; then
        echo "bench.sh: $name ($mode) failed with exit status $rc" >&2
        return 1
    fi
    echo "$ns ${rss:--}"
}

# best[mode:name] = lowest ns/op seen; a failed run marks the entry "FAIL". rss[mode:name] = the
# largest peak RSS seen.
declare -A best=() rss=()
keep_rss() {
    local key=$1 v=$2
    [[ $v == - ]] && return
    if [[ -z ${rss[$key]:-} ]] || (( v > ${rss[$key]} )); then rss[$key]=$v; fi
}
keep_best() {
    local key=$1 v=$2
    if [[ ${best[$key]:-} == FAIL ]]; then return; fi
    if [[ -z ${best[$key]:-} ]] ||
        awk -v a="$v" -v b="${best[$key]}" 'BEGIN { exit !(a < b) }'; then
        best[$key]=$v
    fi
}

for ((r = 1; r <= reps; r++)); do
    for name in "${names[@]}"; do
        if ((r % 2)); then order=(bare preload); else order=(preload bare); fi
        for mode in "${order[@]}"; do
            if v=$(run_one "$mode" "$name"); then
                keep_best "$mode:$name" "${v% *}"
                keep_rss "$mode:$name" "${v#* }"
            else
                best[$mode:$name]=FAIL
                failures=$((failures + 1))
            fi
        done
    done
done

printf '%-18s %14s %14s %8s %10s %11s\n' benchmark bare_ns preload_ns ratio bare_rss preload_rss
for name in "${names[@]}"; do
    b=${best[bare:$name]} p=${best[preload:$name]}
    if [[ $b == FAIL || $p == FAIL ]]; then
        ratio=-
    else
        ratio=$(awk -v a="$p" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    fi
    printf '%-18s %14s %14s %8s %10s %11s\n' "$name" "$b" "$p" "$ratio" "${rss[bare:$name]:--}" \
        "${rss[preload:$name]:--}"
done
for name in "${names[@]}"; do
    [[ $name == *_prof ]] || continue
    off=${best[preload:${name%_prof}]:-} on=${best[preload:$name]}
    [[ -n $off && $off != FAIL && $on != FAIL ]] || continue
    printf 'profile on / off, %-18s %s\n' "${name%_prof}:" \
        "$(awk -v a="$on" -v b="$off" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
done
note=""
if [[ $quick -eq 1 ]]; then note="; quick mode, figures are rough"; fi
echo "(best of $reps; ns per op; ratio = preload / bare; RSS: peak KiB; $(nproc) CPUs$note)"

if [[ $failures -ne 0 ]]; then
    echo "bench.sh: $failures run(s) failed" >&2
    exit 1
fi
