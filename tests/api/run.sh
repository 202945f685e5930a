#!/usr/bin/env bash
# Tests the public header include/threadwatch.h (docs/api.md): every function with and without the
# preload, from C and C++, in PIE and non-PIE executables.
#
#   tests/api/run.sh BUILD_DIR
#
# Builds tests/api/api_test.c (+ api_tu2.c, a second translation unit) and tests/api/api_cxx.cpp
# against the header only (nothing of threadwatch is linked), in several ways: gcc PIE (the
# default), gcc -fno-pie -no-pie (non-PIC code in a fixed-address executable: the case where weak
# symbols would fail), clang -O2, g++, g++ -fno-pie -no-pie, clang++. Then it runs each section of
# api_test (a process each) bare and under LD_PRELOAD=BUILD_DIR/libthreadwatch.so; the program
# checks the return values it is told to expect (PASS/FAIL lines), and this script checks the exit
# status (THREADWATCH_EXITCODE after a report) and the JSON reports (tests/api/jsoncheck.py): the
# leak's creation stack, one report per leaked thread, lock names in a lock-order cycle and in a
# stall. It also compiles the header alone in strict C and C++ modes, and runs
# BUILD_DIR/examples/goleak_test when it was built (the leaky test fails only under the preload).
#
# Environment: TW_TEST_TIMEOUT_MULT (default 1) multiplies the time limit of each run (60 s);
# TW_TEST_KEEP=1 keeps the temporary directory; CC, CXX (default cc, c++); CLANG, CLANGXX (default
# clang, clang++; skipped with a SKIP line when missing).
# Output: PASS/FAIL/SKIP per check, then exactly `api: N passed, M failed`; exit 1 on any failure.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "$1" && pwd)
LIB=$BUILD/libthreadwatch.so
MULT=${TW_TEST_TIMEOUT_MULT:-1}
LIMIT=$((60 * MULT))
unset "${!THREADWATCH_@}"

passed=0
failed=0
TMP=$(mktemp -d /tmp/tw-api.XXXXXX)
cleanup() {
  if [ "${TW_TEST_KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() {
  echo "FAIL: $1"
  failed=$((failed + 1))
}
skip() { echo "SKIP: $1"; }
finish() {
  echo "api: $passed passed, $failed failed"
  [ "$failed" = 0 ]
  exit $?
}

if [ ! -f "$LIB" ]; then
  fail "$LIB not found (build the library first)"
  finish
fi

# --- builds ---

CC=${CC:-cc}
CXX=${CXX:-c++}
CLANG=${CLANG:-clang}
CLANGXX=${CLANGXX:-clang++}
CWARN="-Wall -Wextra -Wpedantic -Wstrict-prototypes -Wshadow -Werror"
CXXWARN="-Wall -Wextra -Wpedantic -Wshadow -Wold-style-cast -Wzero-as-null-pointer-constant -Werror"

# build NAME COMPILER FLAGS... -- SOURCES...: compiles into $TMP/NAME; says PASS/FAIL.
build() {
  local name=$1 compiler=$2
  shift 2
  local flags=() srcs=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do flags+=("$1"); shift; done
  shift
  srcs=("$@")
  # shellcheck disable=SC2086
  if "$compiler" "${flags[@]}" -g -I"$ROOT/include" "${srcs[@]}" -o "$TMP/$name" -pthread \
      >"$TMP/$name.build.log" 2>&1; then
    pass "build $name ($compiler ${flags[*]})"
    return 0
  fi
  fail "build $name ($compiler ${flags[*]})"
  sed 's/^/    /' "$TMP/$name.build.log" | head -20
  return 1
}

# elf_type FILE: DYN for a PIE, EXEC for a fixed-address executable.
elf_type() { LC_ALL=C readelf -h "$1" 2>/dev/null | awk '/Type:/ {print $2}'; }

C_SRCS=("$HERE/api_test.c" "$HERE/api_tu2.c")
C_VARIANTS=()
# shellcheck disable=SC2086
build c_pie "$CC" -O1 $CWARN -- "${C_SRCS[@]}" && C_VARIANTS+=(c_pie)
# shellcheck disable=SC2086
build c_nopie "$CC" -O1 -fno-pie -no-pie $CWARN -- "${C_SRCS[@]}" && C_VARIANTS+=(c_nopie)
if command -v "$CLANG" >/dev/null 2>&1; then
  # shellcheck disable=SC2086
  build c_clang_O2 "$CLANG" -O2 $CWARN -- "${C_SRCS[@]}" && C_VARIANTS+=(c_clang_O2)
else
  skip "build c_clang_O2: no $CLANG"
fi
CXX_VARIANTS=()
# shellcheck disable=SC2086
build cxx_pie "$CXX" -std=c++17 -O1 $CXXWARN -- "$HERE/api_cxx.cpp" && CXX_VARIANTS+=(cxx_pie)
# shellcheck disable=SC2086
build cxx_nopie "$CXX" -std=c++17 -O1 -fno-pie -no-pie $CXXWARN -- "$HERE/api_cxx.cpp" &&
  CXX_VARIANTS+=(cxx_nopie)
if command -v "$CLANGXX" >/dev/null 2>&1; then
  # shellcheck disable=SC2086
  build cxx_clang "$CLANGXX" -std=c++11 -O1 $CXXWARN -- "$HERE/api_cxx.cpp" &&
    CXX_VARIANTS+=(cxx_clang)
else
  skip "build cxx_clang: no $CLANGXX"
fi

for v in c_pie cxx_pie; do
  [ -f "$TMP/$v" ] || continue
  t=$(elf_type "$TMP/$v")
  if [ "$t" = DYN ]; then pass "$v is a PIE"; else fail "$v is a PIE (ELF type $t)"; fi
done
for v in c_nopie cxx_nopie; do
  [ -f "$TMP/$v" ] || continue
  t=$(elf_type "$TMP/$v")
  if [ "$t" = EXEC ]; then pass "$v is not a PIE"; else fail "$v is not a PIE (ELF type $t)"; fi
done

# The header alone, in strict modes: it must not warn in the user's build.
printf '#include "threadwatch.h"\nint main(void) { return threadwatch_active(); }\n' >"$TMP/only.c"
cp "$TMP/only.c" "$TMP/only.cpp"
sed -i 's/(void)/()/' "$TMP/only.cpp"
for std in c99 c11 gnu17; do
  # shellcheck disable=SC2086
  if "$CC" -std=$std $CWARN -Wcast-qual -Wundef -I"$ROOT/include" -c "$TMP/only.c" -o "$TMP/only.o" \
      >"$TMP/only.log" 2>&1; then
    pass "header compiles cleanly as -std=$std"
  else
    fail "header compiles cleanly as -std=$std"; sed 's/^/    /' "$TMP/only.log" | head -10
  fi
done
for std in c++98 c++11 c++20; do
  extra=$CXXWARN
  [ $std = c++98 ] && extra=${CXXWARN/-Wzero-as-null-pointer-constant/} # 0 is C++98's null
  # shellcheck disable=SC2086
  if "$CXX" -std=$std $extra -Wuseless-cast -Wcast-qual -I"$ROOT/include" -c "$TMP/only.cpp" \
      -o "$TMP/only.o" >"$TMP/only.log" 2>&1; then
    pass "header compiles cleanly as -std=$std"
  else
    fail "header compiles cleanly as -std=$std"; sed 's/^/    /' "$TMP/only.log" | head -10
  fi
done

# --- runs ---

# run VARIANT ARGS... (env from RUN_ENV): runs the program, output in $TMP/out, exit status in $rc.
# Under the preload when MODE=preload. THREADWATCH_JSON goes to $TMP/reports.jsonl (fresh).
run() {
  local prog=$TMP/$1
  shift
  rm -f "$TMP/reports.jsonl" "$TMP"/reports.*.jsonl "$TMP/dump.txt"
  cd "$TMP" || return
  ulimit -c 0 # the abort of name_deadlock leaves no core file
  if [ "$MODE" = preload ]; then
    # In a subshell whose stderr is dropped: no "Aborted" notice from bash for name_deadlock (the
    # program's own stderr is in $TMP/err); the explicit exit keeps bash from exec-ing in place.
    (env "${RUN_ENV[@]}" LD_PRELOAD="$LIB" THREADWATCH_JSON="$TMP/reports.jsonl" \
      API_TEST_DUMP="$TMP/dump.txt" timeout "$LIMIT" "$prog" "$@" >"$TMP/out" 2>"$TMP/err"
     exit $?) 2>/dev/null
  else
    env "${RUN_ENV[@]}" API_TEST_DUMP="$TMP/dump.txt" timeout "$LIMIT" "$prog" "$@" \
      >"$TMP/out" 2>"$TMP/err"
  fi
  rc=$?
}

# tally LABEL: counts the program's own PASS/FAIL lines (and says what a failure printed).
tally() {
  local label=$1 p f
  p=$(grep -c '^PASS: ' "$TMP/out")
  f=$(grep -c '^FAIL: ' "$TMP/out")
  passed=$((passed + p))
  if [ "$f" -gt 0 ] || [ "$p" = 0 ]; then
    failed=$((failed + (f > 0 ? f : 1)))
    echo "FAIL: $label: $f of $((p + f)) checks failed (exit status $rc)"
    grep -v '^PASS: ' "$TMP/out" | sed 's/^/    /' | head -20
    sed 's/^/    stderr: /' "$TMP/err" | head -15
  else
    echo "PASS: $label: $p checks"
  fi
}

# status LABEL WANT: the exit status of the last run.
status() {
  if [ "$rc" = "$2" ]; then pass "$1: exit status $2"; else
    fail "$1: exit status $rc (expected $2)"
    sed 's/^/    stderr: /' "$TMP/err" | head -15
  fi
}

# json LABEL EXPR [FILE]: an expression over the reports of the last run (tests/api/jsoncheck.py).
json() {
  local out
  if out=$(python3 "$HERE/jsoncheck.py" "${3:-$TMP/reports.jsonl}" "$2"); then pass "$1"; else
    fail "$1"
    echo "$out"
  fi
}

# The exit status a section has under the preload: 66 when it made a report (a leak found by
# threadwatch_check_leaks counts, as every report does).
preload_status() {
  case $1 in
    leak_found | leak_timeout_bound | leak_nested | leak_detached | leak_exited | leak_since_start | \
      name_lock) echo 66 ;;
    name_deadlock) echo 134 ;; # THREADWATCH_ON_DEADLOCK=abort
    *) echo 0 ;;
  esac
}

# JSON expectations per section (preload runs of the main C build).
check_reports() {
  local v=$1 sec=$2 L="$1 $2:"
  local leak1='len(R("thread-leak")) == 1 and R("thread-leak")[0]["count"] == 1'
  case $sec in
    basics | leak_fixed | leak_timeout_ends | leak_caller | watch)
      json "$L no report" 'len(reports) == 0' ;;
    leak_found)
      json "$L one thread-leak report (the second check and exit did not repeat it)" "$leak1"
      json "$L it is blocked, with its creation stack (leaky_start) and its stack (leaky_main)" \
        'R("thread-leak")[0]["what"] == "blocked" and has(R("thread-leak")[0]["threads"][0]["created_at"], "leaky_start") and has(R("thread-leak")[0]["threads"][0]["stack"], "leaky_main")'
      json "$L the message says threadwatch_check_leaks waited" \
        '"threadwatch_check_leaks() waited" in R("thread-leak")[0]["message"]' ;;
    leak_timeout_bound)
      json "$L one thread-leak report" "$leak1" ;;
    leak_nested)
      json "$L one thread-leak report, created by the nested thread (nested_parent)" \
        "$leak1"' and has(R("thread-leak")[0]["threads"][0]["created_at"], "nested_parent") and R("thread-leak")[0]["threads"][0]["parent"] != 1' ;;
    leak_detached)
      json "$L one thread-leak report (THREADWATCH_LEAK_DETACHED=1 at exit did not repeat it)" \
        "$leak1" ;;
    leak_exited)
      json "$L one thread-leak report, what exited" "$leak1"' and R("thread-leak")[0]["what"] == "exited"' ;;
    leak_since_start)
      json "$L one thread-leak report" "$leak1" ;;
    leak_fork)
      json "$L one thread-leak report (the child's), created at leaky_start" \
        "$leak1"' and has(R("thread-leak")[0]["threads"][0]["created_at"], "leaky_start")' ;;
    dump)
      json "$L no report" 'len(reports) == 0'
      if [ -s "$TMP/dump.txt" ] &&
        grep -q '^threadwatch dump of pid [0-9]*: 3 threads (1 running, 2 blocked)' "$TMP/dump.txt" &&
        grep -q ' in dump_sleeper ' "$TMP/dump.txt" && grep -q 'created by T1 at:' "$TMP/dump.txt" &&
        grep -q ' in start_sleepers ' "$TMP/dump.txt" && grep -q ' in dump_section ' "$TMP/dump.txt"; then
        pass "$L the dump lists the two sleepers with their stacks, and the caller's stack"
      else
        fail "$L the dump lists the two sleepers with their stacks, and the caller's stack"
        sed 's/^/    /' "$TMP/dump.txt" | head -30
      fi
      # One group needs one creation pc: an optimiser that unrolls start_sleepers' loop makes two.
      if [ "$v" = c_pie ]; then
        if grep -q '^2 threads: blocked in pthread_cond_wait() on condvar' "$TMP/dump.txt"; then
          pass "$L the two sleepers are one group"
        else
          fail "$L the two sleepers are one group"; sed 's/^/    /' "$TMP/dump.txt" | head -30
        fi
      fi ;;
    name_deadlock)
      json "$L the self-relock report names the lock: mutex 0x... \"delta lock\"" \
        'len(R("deadlock")) == 1 and R("deadlock")[0]["what"] == "self-relock" and "\"delta lock\" again" in R("deadlock")[0]["message"] and "\"delta lock\"" in R("deadlock")[0]["threads"][0]["wait"]["object"]' ;;
    name_lock)
      json "$L a lock-order cycle names alpha, and beta cut to 47 bytes" \
        'any(sorted(l["name"] for l in r["locks"]) == ["alpha lock", "beta lock with a name far longer than forty-sev"] for r in R("lock-order-cycle"))'
      json "$L a lock-order cycle without the forgotten name, with the control byte replaced" \
        'any(sorted(l["name"] for l in r["locks"]) == ["", "zeta?lock"] for r in R("lock-order-cycle"))'
      json "$L the stall report describes the renamed lock waited on: mutex 0x... \"gamma lock\"" \
        'any("\"gamma lock\"" in t.get("wait", {}).get("object", "") and "temp" not in t["wait"]["object"] for r in R("stall") for t in r["threads"])'
      if grep -q 'locks (M1 "\|mutex 0x[0-9a-f]* "gamma lock"' "$TMP/err"; then
        pass "$L the text report shows the names too"
      else
        fail "$L the text report shows the names too"; sed 's/^/    /' "$TMP/err" | head -20
      fi ;;
  esac
}

mapfile -t SECTIONS < <("$TMP/c_pie" --list 2>/dev/null)
[ ${#SECTIONS[@]} -gt 0 ] || fail "api_test --list printed no sections"

for v in "${C_VARIANTS[@]}"; do
  if [ "$v" = c_pie ]; then secs=("${SECTIONS[@]}"); else secs=(basics leak_found leak_fixed dump); fi
  for sec in "${secs[@]}"; do
    RUN_ENV=(API_TEST_UNUSED=1)
    case $sec in
      leak_detached) RUN_ENV=(THREADWATCH_LEAK_DETACHED=1) ;;
      name_lock) RUN_ENV=(THREADWATCH_STALL=200ms) ;;
      name_deadlock) RUN_ENV=(THREADWATCH_ON_DEADLOCK=abort) ;;
    esac
    MODE=bare
    run "$v" "$sec" bare
    tally "$v $sec bare"
    status "$v $sec bare" 0
    [ "$sec" = dump ] && { if [ -s "$TMP/dump.txt" ]; then fail "$v dump bare: nothing written";
                           else pass "$v dump bare: nothing written"; fi; }
    MODE=preload
    run "$v" "$sec" preload
    tally "$v $sec preload"
    status "$v $sec preload" "$(preload_status "$sec")"
    check_reports "$v" "$sec"
    if [ "$sec" = watch ]; then
      r=$(sed -n 's/^INFO: watch: threadwatch_watch returned \([A-Z0-9]*\).*/\1/p' "$TMP/out")
      echo "  (threadwatch_watch returned $r here)"
      case $r in
        0 | ENOSPC | ENOMEM) ;;
        *) if grep -q 'race watching is off' "$TMP/err"; then
             pass "$v watch: the text log says why race watching is off ($r)"
           else
             fail "$v watch: the text log says why race watching is off ($r)"
             sed 's/^/    stderr: /' "$TMP/err" | head -5
           fi ;;
      esac
    fi
  done
done

# THREADWATCH_EXITCODE=0: a leak report keeps the program's own status.
if [ -f "$TMP/c_pie" ]; then
  MODE=preload RUN_ENV=(THREADWATCH_EXITCODE=0)
  run c_pie leak_found preload
  status "c_pie leak_found preload THREADWATCH_EXITCODE=0" 0
fi

for v in "${CXX_VARIANTS[@]}"; do
  RUN_ENV=(API_TEST_UNUSED=1)
  MODE=bare
  run "$v" bare
  tally "$v bare"
  status "$v bare" 0
  MODE=preload
  run "$v" preload
  tally "$v preload"
  status "$v preload" 66
  json "$v: one thread-leak report for the leaked std::thread (cxx_leaky_main)" \
    'len(R("thread-leak")) == 1 and has(R("thread-leak")[0]["threads"][0]["stack"], "cxx_leaky_main")'
done

# The example: a cmocka test that fails on a leaked thread under the preload only.
EX=$BUILD/examples/goleak_test
if [ -x "$EX" ]; then
  RUN_ENV=(API_TEST_UNUSED=1)
  MODE=bare
  rm -f "$TMP/reports.jsonl"
  timeout "$LIMIT" "$EX" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  status "examples/goleak_test bare (both tests pass)" 0
  timeout "$LIMIT" env LD_PRELOAD="$LIB" THREADWATCH_JSON="$TMP/reports.jsonl" "$EX" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  status "examples/goleak_test preload (one test fails)" 1
  if grep -q 'FAILED  \] test_queue_close_leaky' "$TMP/out" && ! grep -q 'FAILED  \] test_queue_close$' "$TMP/out"; then
    pass "examples/goleak_test preload: only test_queue_close_leaky fails"
  else
    fail "examples/goleak_test preload: only test_queue_close_leaky fails"; sed 's/^/    /' "$TMP/out" | head -20
  fi
  json "examples/goleak_test preload: the leak's creation stack names queue_open and the test" \
    'len(R("thread-leak")) == 1 and {"queue_open", "test_queue_close_leaky"} <= fns(R("thread-leak")[0]["threads"][0]["created_at"]) and "job queue lock" in R("thread-leak")[0]["message"]'
else
  skip "examples/goleak_test: not built (cmocka missing or TW_BUILD_EXAMPLES=OFF)"
fi

finish
