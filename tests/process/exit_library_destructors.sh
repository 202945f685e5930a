#!/usr/bin/env bash
# Issue 11 item 8: exit must run everything the program would run without the preload, in the same
# order, and only then decide the exit status. A library the program links (initialised before
# libthreadwatch, so finalised after it) starts a worker pool in its constructor and joins it in
# its destructor (libuv does this), and registers an atexit handler. With the preload: the
# destructor and the handler must run, and since the pool is joined before the process ends, there
# is no leak: exit 0, no report. Baseline: the leak check runs first (in threadwatch's destructor),
# reports the pool thread, and _exit(66) skips the library's destructor and handler.
source "$(dirname "$0")/common.sh"
cc -g -O1 -pthread -fPIC -shared -o "$TW_TMP/libpool.so" "$TW_SH/libpool.c" 2>"$TW_TMP/cc.log" ||
  fail "compile libpool: $(cat "$TW_TMP/cc.log")"
tw_cc "$TW_SH/pool_user.c" "$TW_TMP/pool_user" -L"$TW_TMP" -lpool -Wl,-rpath,"$TW_TMP"
POOL_MARKER=$TW_TMP/bare.marker timeout 10 "$TW_TMP/pool_user" >/dev/null 2>&1
bare=$?
[[ $bare == 0 && $(wc -l <"$TW_TMP/bare.marker") == 2 ]] ||
  fail "the helper itself is broken (bare: status $bare, marker: $(cat "$TW_TMP/bare.marker" 2>/dev/null))"
tw_run 10 "$TW_TMP/out" "$TW_TMP/err" POOL_MARKER="$TW_TMP/tw.marker" \
  THREADWATCH_JSON="$TW_TMP/out.jsonl" -- "$TW_TMP/pool_user"
problems=()
tw_timed_out && problems+=("hung")
[[ $TW_STATUS == 0 ]] || problems+=("exit status $TW_STATUS (bare: 0)")
grep -q "pool destructor joined its worker" "$TW_TMP/tw.marker" 2>/dev/null ||
  problems+=("the library's destructor did not run")
grep -q "library atexit handler ran" "$TW_TMP/tw.marker" 2>/dev/null ||
  problems+=("the library's atexit handler did not run")
[[ -s $TW_TMP/out.jsonl ]] &&
  problems+=("reports: $(grep -o '"message":"[^"]*"' "$TW_TMP/out.jsonl" | head -3 | tr '\n' ' ')")
[[ ${#problems[@]} -eq 0 ]] || fail "${problems[*]}"
pass "a linked library's destructor (joining its pool) and atexit handler run under the preload; exit 0, no report"
