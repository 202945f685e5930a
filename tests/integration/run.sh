#!/usr/bin/env bash
# Runs the integration tests: each program under LD_PRELOAD=libthreadwatch.so, one process per test.
#
#   tests/integration/run.sh BUILD_DIR [NAME...]
#
# NAME is a test name (`leak_exited`) or `bad/NAME` / `good/NAME`; no NAME runs them all.
# Environment: TW_TEST_TIMEOUT_MULT (default 1) multiplies every timeout; TW_TEST_KEEP=1 keeps the
# temporary directory; CC / CXX choose the compilers (default cc / c++).
#
# Tests
#   good/NAME.c, good/NAME.cpp   a clean program: it must exit 0, create no JSON report (no file, or
#                                an empty one) and print nothing from threadwatch on stderr.
#   good/NAME.env                optional: extra environment for good/NAME, one NAME=VALUE a line
#                                (blank lines and `#` comment lines are skipped), as `env:` below;
#                                e.g. THREADWATCH_STALL=1s to prove a short wait stays silent.
#   bad/NAME.expect              one test each, checked against its expectations; the program is
#                                bad/NAME.c or bad/NAME.cpp unless `program:` names another source.
# Each program is built with `cc -g -O1 -pthread -D_GNU_SOURCE` (`c++ -std=c++17 ...` for .cpp,
# -I tests/integration for tw_test.h), then run in its own temporary directory @TMP@ as
#   timeout (30 s x TW_TEST_TIMEOUT_MULT) env LD_PRELOAD=BUILD_DIR/libthreadwatch.so \
#       THREADWATCH_JSON=@TMP@/out.jsonl [env: ...] PROGRAM [args: ...]
# with every other THREADWATCH_* variable of the caller removed, stdin from /dev/null, and
# `ulimit -c 0` (an abort leaves no core file). `timeout` sends SIGTERM, then SIGKILL 5 s later.
#
# Build flags of a program: a line of its source of the form
#     // build: WORD...
# (also `/* build: WORD... */`; repeatable) adds the words after the source file on the compile
# line, e.g. `// build: -fopenmp`, `// build: -s` (a stripped binary). A word `pkg-config:NAME`
# becomes `pkg-config --cflags --libs NAME`; a package pkg-config does not know fails the build
# with a message naming it (scripts/test.sh installs the -dev packages the tests name). The flags
# belong to the source, so a `program:` reuse and a CC=clang run get them too.
#
# The .expect format: `key: value` lines; `#` starts a comment line. In values, @TMP@ is the test's
# temporary directory, @DIR@ the directory of the .expect file, @BUILD@ the build directory.
#   How to run
#     program: FILE          the source to build, relative to the .expect file (to reuse a program)
#     env: NAME=VALUE        extra environment, repeatable; THREADWATCH_JSON=... replaces the
#                            default (a %p in it makes one file per process, all of them are read)
#     args: A B ...          program arguments, split on blanks
#     timeout: SECONDS       default 30 (then multiplied by TW_TEST_TIMEOUT_MULT); a hang test
#                            gives a short one (3-5 s), far above its THREADWATCH_STALL
#     needs_lib: SONAME      the built program must load SONAME (ldd), else the test is skipped,
#                            with the reason: for a behaviour of one runtime (libgomp never joins
#                            its workers; clang's libomp joins them at exit, so its build has
#                            nothing to report)
#   The process
#     exit: N                expected exit status (default 66 in bad/, 0 in good/); a program that
#                            aborts (THREADWATCH_ON_DEADLOCK=abort) exits 134 (128 + SIGABRT)
#     hangs: yes             the program must hang: still running at its timeout and killed
#                            (status 124 or 137); excludes `exit:`. The JSON is read after the
#                            kill, so every expected report was written while the program hung.
#                            Without it a timeout is a failure.
#     stdout: TEXT           TEXT appears in stdout (repeatable); stdout_not: TEXT must not
#     stderr: TEXT           TEXT appears in stderr (repeatable); stderr_not: TEXT must not
#     stderr_lines: N        stderr has exactly N lines
#     logfile: GLOB          the text report file (THREADWATCH_LOG), relative to @TMP@: exactly one
#     log: TEXT              TEXT appears in the text report (logfile:, else stderr); repeatable
#     log_re: REGEX          a Python regex that matches in the text report; repeatable
#     no_file: GLOB          no file matches GLOB (relative to @TMP@); repeatable
#   The JSON Lines (all lines of all files THREADWATCH_JSON expands to)
#     reports: N             exactly N reports
#     json_files: N          exactly N non-empty JSON files (with %p in THREADWATCH_JSON)
#     no_report: KIND [WHAT] no report has this kind (and this what); repeatable
#     report_order: K1 K2 .. the first report of kind K1 comes before the first of K2, ... (in
#                            the order of the JSON lines); every kind named must occur
#     kind: KIND             opens an expected report: some report must have this kind and satisfy
#                            every key below up to the next `kind:` line
#       what: WHAT           its `what`
#       count: N             its `count` is N;    count_min: N   it is >= N
#       wait_call: CALL      a listed thread is blocked with wait.call == CALL
#       frame: FUNCTION      FUNCTION is in some thread's `stack` or `created_at` frames
#       stack_frame: F       F is in some thread's `stack`
#       created_frame: F     F is in some thread's `created_at`
#       group_count_min: N   groups[0].count >= N (thread-surge, thread-growth)
#       group_frame: F       F is in groups[0].created_at (thread-surge, thread-growth)
#     deadlock and stall reports (threads[I] is the I-th listed thread, from 0):
#       wait_object: TEXT    TEXT is in some listed thread's wait.object (`pipe fd`, `eventfd`)
#       held_by: yes|no      yes: some listed thread has a non-empty wait.held_by, and every
#                            holder it names is a listed thread; no: no listed thread has one
#       for_ms_max: N        every listed thread's wait.for_ms is <= N (reported in time)
#       threshold_ms: N      its `threshold_ms` is N (stall)
#       locked_at_frame: F   F is in `locked_at` (self-relock: where the mutex was first locked)
#       signalled_by: N      its `signalled_by` is thread id N (lost-wakeup)
#       signalled_frame: F   F is in `signalled_at` (lost-wakeup: the signal that found no waiter)
#       thread_stack_frame: I F    F is in threads[I].stack; repeatable
#       thread_wait_call: I CALL   threads[I] is blocked with wait.call == CALL; repeatable
#       thread_state: I STATE      threads[I].state is STATE; repeatable
#     lock-order-cycle reports (locks M1.., edges Mi => Mi+1 in cycle order):
#       cycle_length: N      its `cycle_length` is N (the whole cycle, listed or not)
#       locks: N             exactly N locks are listed (at most 16 are)
#       edge_threads: N      the edges are taken by exactly N distinct threads
#       edge_frame: F        F is in some edge's `acquired_at`
#       held_frame: F        F is in some edge's `held_since`
#       first_seen_frame: F  F is in some lock's `first_seen`
#       lock_kind: K         some listed lock has kind K (mutex, rwlock, spinlock); repeatable
#       lock_name: TEXT      TEXT appears in some lock's `name`; repeatable
#       edge_mode: H A       some edge has held_mode H and acquire_mode A (read/write); repeatable
#     misuse reports:
#       object: TEXT         TEXT is in the report's top-level `object` string (e.g. `mutex`,
#                            `condvar`, `rwlock`, `thread`); repeatable
#       previous_event: EVENT    the earlier event that makes the call wrong, `previous.event`,
#                            is EVENT (`locked`, `destroyed`, `joined`, `detached`)
#       previous_frame: F    F is in `previous.stack` (where the earlier event happened); repeatable
#       locks_held: N        some listed thread has exactly N entries in `locks_held`
#                            (exit-holding-locks: the locks the thread ended with)
#     any report:
#       thread_name: NAME    some listed thread's `name` is exactly NAME (UTF-8); repeatable
#       severity: S          its `severity` is S (error, warning)
#     A function matches its plain name, a qualified/demangled form (ns::f(int)) or a mangled one.
# Always checked: every JSON file is valid UTF-8; every JSON line validates against the JSON Schema
# docs/report.schema.json (tests/integration/jsonschema_lite.py, and the `jsonschema` package as
# well when python has it); every JSON line parses and follows docs/report-format.md (kind/what/message/pid/
# count/threads/omitted_threads/dropped_events; each thread's id/tid/name/state/parent/stack/
# created_at, `wait` exactly when blocked or sleeping; frames with pc/function/module/module_offset (a build_id,
# when present, in hex) and no threadwatch frame;
# `groups` for thread-surge, none counting more threads than the report; for thread-growth: what
# rising, a warning, one group counting `count` threads, `counts` rising at every step to `count`,
# a positive `period_ms`; count = listed + omitted
# for thread-leak; each blocked thread's wait has a string object, for_ms >= 0, and where present a
# hex address, an fd and held_by (thread ids); for deadlock: what wait-cycle/self-relock/
# all-asleep, count >= 1 = listed + omitted, every listed thread blocked and listed once,
# self-relock with a non-empty locked_at; for stall: what mutex/rwlock/condvar/join/pipe/eventfd/
# lost-wakeup/semaphore/barrier/spinlock/socket/poll/futex, threshold_ms > 0, count >= 1, threads[0]
# blocked for >= threshold_ms in a call of that class (pthread_mutex_*/mtx_*, pthread_rwlock_*,
# pthread_cond_*/cnd_*, a join, an fd wait, sem_*, ...: STALL_CALLS in check.py), lost-wakeup
# with signalled_by and a non-empty signalled_at; for lock-order-cycle: what lock-order/class-order,
# cycle_length >= 2, locks M1..Mn (n = min(cycle_length, 16)) with hex address, kind mutex/rwlock/spinlock,
# name, first_seen; edges Mi => Mi+1 closing back to M1 (in a cut cycle the last one leads to the
# unlisted Mn+1), each with a thread, read/write held_mode/acquire_mode (write for a mutex),
# seen >= 1, non-empty acquired_at, held_since; a hint; listed threads are distinct edge threads,
# listed + omitted = count = distinct edge threads, each thread's stack the acquired_at of one of
# its edges); a report's pid matches its %p file; and each report has its text headline
# "==PID== threadwatch: KIND: MESSAGE" in the text report (the logfile:, or stderr when
# THREADWATCH_LOG is not set or stderr, stdout when it is stdout).
#
# Output: PASS/FAIL/SKIP per test (a failure prints what was expected, what came, the JSON, the text
# log and stderr), then exactly `integration: N passed, M failed` (`, K skipped` added when a
# needs_lib: test was skipped). Exit status 1 when any test failed.

set -uo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR [NAME...]" >&2
  exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "$1" 2>/dev/null && pwd) || { echo "run.sh: no build directory $1" >&2; exit 2; }
shift
lib="$build/libthreadwatch.so"
if [[ ! -f $lib ]]; then
  echo "run.sh: $lib does not exist: build the library first" >&2
  echo "integration: 0 passed, 1 failed"
  exit 1
fi
mult=${TW_TEST_TIMEOUT_MULT:-1}
cc=${CC:-cc}
cxx=${CXX:-c++}

# The caller's own THREADWATCH_* settings must not leak into the tests.
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^THREADWATCH_' || true)
unset LD_PRELOAD

work=$(mktemp -d "${TMPDIR:-/tmp}/tw-integration.XXXXXX")
if [[ ${TW_TEST_KEEP:-0} == 1 ]]; then
  echo "run.sh: keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/bin"

# All tests as "bad/NAME" or "good/NAME", sorted.
all=()
for f in "$here"/bad/*.expect; do
  [[ -e $f ]] && all+=("bad/$(basename "$f" .expect)")
done
for f in "$here"/good/*.c "$here"/good/*.cpp; do
  [[ -e $f ]] && all+=("good/$(basename "${f%.*}")")
done

selected=()
if [[ $# -eq 0 ]]; then
  selected=("${all[@]}")
else
  for want in "$@"; do
    found=0
    for t in "${all[@]}"; do
      if [[ $t == "$want" || ${t#*/} == "$want" ]]; then
        selected+=("$t")
        found=1
      fi
    done
    if [[ $found == 0 ]]; then
      echo "run.sh: no test named $want" >&2
      echo "integration: 0 passed, 1 failed"
      exit 1
    fi
  done
fi

# Builds SOURCE once per run; prints the binary's path. Compiler output goes to $2 on failure.
build_program() {
  local src=$1 log=$2 bin
  bin="$work/bin/$(echo "${src#"$here"/}" | tr '/.' '__')"
  if [[ ! -x $bin ]]; then
    local -a cmd
    case $src in
      *.cpp) cmd=("$cxx" -std=c++17) ;;
      *) cmd=("$cc") ;;
    esac
    cmd+=(-g -O1 -pthread -D_GNU_SOURCE -Wall -Wextra -I"$here" -o "$bin" "$src")
    # `// build: WORD...` lines of the source: extra flags after it (see the top of this file).
    local line word pc
    local -a words=() pcwords=()
    while IFS= read -r line; do
      read -r -a words <<<"$line"
      for word in "${words[@]}"; do
        case $word in
          pkg-config:*)
            if ! pc=$(pkg-config --cflags --libs "${word#pkg-config:}" 2>&1); then
              echo "  the program needs ${word#pkg-config:} (pkg-config: $pc); install its -dev package" >"$log"
              return 1
            fi
            read -r -a pcwords <<<"$pc"
            cmd+=("${pcwords[@]}")
            ;;
          *) cmd+=("$word") ;;
        esac
      done
    done < <(sed -n -e 's|^[[:space:]]*//[[:space:]]*build:[[:space:]]*||p' \
                    -e 's|^[[:space:]]*/\*[[:space:]]*build:[[:space:]]*\(.*\)\*/[[:space:]]*$|\1|p' "$src")
    if ! "${cmd[@]}" >"$log" 2>&1; then
      echo "  compile failed: ${cmd[*]}" >>"$log"
      return 1
    fi
  fi
  echo "$bin"
}

# Prints the values of KEY in the .expect file FILE, one per line, with @...@ substituted.
expect_values() {
  local file=$1 key=$2 tmp=$3 dir=$4
  [[ -n $file ]] || return 0
  sed -n "s/^[[:space:]]*$key[[:space:]]*:[[:space:]]*//p" "$file" |
    sed -e 's/[[:space:]]*$//' -e "s|@TMP@|$tmp|g" -e "s|@DIR@|$dir|g" -e "s|@BUILD@|$build|g"
}

# Runs one test; returns 0 when it passed.
run_test() {
  local test=$1 kind=${1%%/*} name=${1#*/}
  local dir="$here/$kind" expect="" src="" tmp="$work/run/$kind.$name"
  mkdir -p "$tmp"
  if [[ $kind == bad ]]; then
    expect="$dir/$name.expect"
    local prog
    prog=$(expect_values "$expect" program "$tmp" "$dir" | head -n1)
    if [[ -n $prog ]]; then
      src="$dir/$prog"
    elif [[ -f $dir/$name.c ]]; then
      src="$dir/$name.c"
    else
      src="$dir/$name.cpp"
    fi
  elif [[ -f $dir/$name.c ]]; then
    src="$dir/$name.c"
  else
    src="$dir/$name.cpp"
  fi
  if [[ ! -f $src ]]; then
    echo "  FAIL $test: no program $src"
    return 1
  fi
  src=$(cd "$(dirname "$src")" && pwd)/$(basename "$src")

  local bin
  if ! bin=$(build_program "$src" "$tmp/compile.log"); then
    echo "  FAIL $test: the program does not compile:"
    sed 's/^/    /' "$tmp/compile.log"
    return 1
  fi

  local need
  need=$(expect_values "$expect" needs_lib "$tmp" "$dir" | head -n1)
  if [[ -n $need ]] && ! ldd "$bin" 2>/dev/null | grep -q "^[[:space:]]*$need "; then
    local by=$cc
    [[ $src == *.cpp ]] && by=$cxx
    echo "  the program built by $by does not load $need"
    return 3
  fi

  local json="$tmp/out.jsonl" log_env="" secs line
  local -a envs=() args=()
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    envs+=("$line")
    case $line in
      THREADWATCH_JSON=*) json=${line#THREADWATCH_JSON=} ;;
      THREADWATCH_LOG=*) log_env=${line#THREADWATCH_LOG=} ;;
    esac
  done < <(
    expect_values "$expect" env "$tmp" "$dir"
    # good/NAME.env: NAME=VALUE lines, blank and `#` lines skipped.
    if [[ $kind == good && -f $dir/$name.env ]]; then
      sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^#/d' "$dir/$name.env"
    fi
  )
  read -r -a args <<<"$(expect_values "$expect" args "$tmp" "$dir" | head -n1)"
  secs=$(expect_values "$expect" timeout "$tmp" "$dir" | head -n1)
  secs=$(awk -v s="${secs:-30}" -v m="$mult" 'BEGIN { printf "%d", (s * m < 1 ? 1 : s * m) }')

  local status=0 timed_out=()
  (cd "$tmp" && ulimit -c 0 && exec timeout -k 5 "$secs" env LD_PRELOAD="$lib" \
    THREADWATCH_JSON="$json" "${envs[@]}" "$bin" "${args[@]}" \
    >"$tmp/stdout" 2>"$tmp/stderr" </dev/null) || status=$?
  [[ $status == 124 || $status == 137 ]] && timed_out=(--timed-out)

  local -a check=(python3 "$here/check.py" --name "$test" --tmp "$tmp" --dir "$dir"
    --build "$build" --json "$json" --log-env "$log_env" --status "$status" --timeout "$secs"
    "${timed_out[@]}")
  if [[ $kind == bad ]]; then
    check+=(--expect "$expect")
  else
    check+=(--good)
  fi
  "${check[@]}"
}

# Seconds since $1 (a `date +%s.%N` value), one decimal.
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }'; }

passed=0
failed=0
skipped=0
failed_names=()
for t in "${selected[@]}"; do
  start=$(date +%s.%N)
  rc=0
  out=$(run_test "$t" 2>&1) || rc=$?
  if [[ $rc == 0 ]]; then
    passed=$((passed + 1))
    printf 'PASS  %-45s %s\n' "$t" "$(elapsed "$start")"
  elif [[ $rc == 3 ]]; then
    skipped=$((skipped + 1))
    printf 'SKIP  %-45s %s\n' "$t" "${out#  }"
  else
    failed=$((failed + 1))
    failed_names+=("$t")
    printf 'FAIL  %-45s %s\n%s\n' "$t" "$(elapsed "$start")" "$out"
  fi
done

if [[ $failed -gt 0 ]]; then
  echo "failed: ${failed_names[*]}"
fi
if [[ $skipped -gt 0 ]]; then
  echo "integration: $passed passed, $failed failed, $skipped skipped"
else
  echo "integration: $passed passed, $failed failed"
fi
[[ $failed -eq 0 ]]
