#!/usr/bin/env bash
# Real programs that fork with atfork handlers of their own (libuv's, in cmake and ctest), and a
# test suite whose programs use libuv and libunwind themselves: `threadwatch run ctest` over this
# project's unit tests and `threadwatch run cmake` configuring a small project must finish (they
# hung: a handler writing to a pipe spun on the stack-capture gate; libunwind's own lock was taken
# again by the tool's capture), with their own exit status 0 and no report. The times are printed,
# bare and preloaded, never judged.
source "$(dirname "$0")/common.sh"
command -v ctest >/dev/null && command -v cmake >/dev/null || { echo "SKIP $TW_NAME: no cmake/ctest"; exit 0; }
[[ -f $TW_BUILD/CTestTestfile.cmake ]] || { echo "SKIP $TW_NAME: $TW_BUILD has no tests"; exit 0; }
problems=()
times=()
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# ctest over the unit tests (label unit), bare then preloaded.
s=$(date +%s.%N)
(cd "$TW_BUILD" && timeout -k 2 120 ctest -L unit >"$TW_TMP/ctest.bare" 2>&1)
bare=$?
m=$(date +%s.%N)
(cd "$TW_BUILD" && timeout -k 2 120 env THREADWATCH_JSON="$TW_TMP/ctest.%p.jsonl" \
   "$TW_BUILD/threadwatch" run ctest -L unit >"$TW_TMP/ctest.out" 2>&1)
pre=$?
e=$(date +%s.%N)
times+=("ctest bare $(secs "$s" "$m") s, preloaded $(secs "$m" "$e") s")
[[ $bare == 0 ]] || problems+=("bare ctest failed ($bare)")
[[ $pre == 0 ]] || problems+=("threadwatch run ctest: status $pre: $(tail -3 "$TW_TMP/ctest.out" | tr '\n' ' ')")
reports=$(cat "$TW_TMP"/ctest.*.jsonl 2>/dev/null | wc -l)
[[ $reports == 0 ]] || problems+=("$reports reports under ctest: $(head -c 300 "$TW_TMP"/ctest.*.jsonl)")

# cmake configuring a small C project, bare then preloaded.
mkdir -p "$TW_TMP/proj"
cat >"$TW_TMP/proj/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.13)
project(small C)
add_executable(small small.c)
CM
echo 'int main(void) { return 0; }' >"$TW_TMP/proj/small.c"
s=$(date +%s.%N)
timeout -k 2 120 cmake -S "$TW_TMP/proj" -B "$TW_TMP/b1" >"$TW_TMP/cmake.bare" 2>&1
bare=$?
m=$(date +%s.%N)
timeout -k 2 120 env THREADWATCH_JSON="$TW_TMP/cmake.%p.jsonl" "$TW_BUILD/threadwatch" run \
  cmake -S "$TW_TMP/proj" -B "$TW_TMP/b2" >"$TW_TMP/cmake.out" 2>&1
pre=$?
e=$(date +%s.%N)
times+=("cmake bare $(secs "$s" "$m") s, preloaded $(secs "$m" "$e") s")
[[ $bare == 0 ]] || problems+=("bare cmake failed ($bare)")
[[ $pre == 0 ]] || problems+=("threadwatch run cmake: status $pre: $(tail -3 "$TW_TMP/cmake.out" | tr '\n' ' ')")
reports=$(cat "$TW_TMP"/cmake.*.jsonl 2>/dev/null | wc -l)
[[ $reports == 0 ]] || problems+=("$reports reports under cmake: $(head -c 300 "$TW_TMP"/cmake.*.jsonl)")

[[ ${#problems[@]} -eq 0 ]] || fail "${problems[*]}"
pass "threadwatch run ctest (unit tests) and threadwatch run cmake finish, status 0, no report (${times[*]})"
