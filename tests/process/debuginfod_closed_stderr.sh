#!/usr/bin/env bash
# Issue 11 item 9: the program closed stdout and stderr, THREADWATCH_LOG is the default (stderr),
# and DEBUGINFOD_URLS is set (nothing listens there). The report symbolizes a libstdc++ frame, so
# libdw starts its debuginfod client. The text report must not be written into an fd the tool did
# not open or check: traced with strace, no write() of report text may succeed on fd 1 or 2 (they
# are closed: a successful write there went into whatever took the number). Baseline: libcurl's
# socketpair lands on fds 1 and 2 and the report is written into it.
source "$(dirname "$0")/common.sh"
command -v strace >/dev/null || fail "strace is not installed"
c++ -std=c++17 -g -O1 -pthread -o "$TW_TMP/prog" "$TW_INC/bad/debuginfod_closed_stdio.cpp" \
  2>"$TW_TMP/cc.log" || fail "compile: $(cat "$TW_TMP/cc.log")"
mkdir "$TW_TMP/cache"
TW_STATUS=0
DEBUGINFOD_URLS=http://127.0.0.1:9/ DEBUGINFOD_CACHE_PATH=$TW_TMP/cache \
  timeout -k 2 20 strace -f -qq -e trace=socketpair,write -o "$TW_TMP/trace" \
  env LD_PRELOAD="$TW_LIB" THREADWATCH_JSON="$TW_TMP/out.jsonl" "$TW_TMP/prog" \
  >/dev/null 2>&1 </dev/null || TW_STATUS=$?
tw_timed_out && fail "hung"
leaked=$(grep -E 'write\([12], ".*threadwatch: .*= [1-9]' "$TW_TMP/trace" | head -2 | cut -c1-120)
pairs=$(grep -E 'socketpair\(.*\[[12],|socketpair\(.*, [12]\]' "$TW_TMP/trace" | head -2 | cut -c1-100)
problems=()
[[ -n $leaked ]] && problems+=("report text written to a closed stdio fd: $leaked")
[[ -n $pairs ]] && problems+=("a socketpair took fd 1/2: $pairs")
[[ $TW_STATUS == 3 || $TW_STATUS == 4 ]] && problems+=("the program saw fds 1/2 taken or a stray socket (status $TW_STATUS)")
[[ ${#problems[@]} -eq 0 ]] || fail "${problems[*]}"
pass "stdout/stderr closed + debuginfod on: no report text written into fds 1/2, no socket on them (status $TW_STATUS)"
