#!/usr/bin/env bash
# Issue 11 item 10: a server started as root that drops privileges (setuid to nobody) must keep its
# reports: with THREADWATCH_LOG and THREADWATCH_JSON in a root-owned directory (mode 0755: nobody
# cannot create files there), the exit-time leak report made after the drop must be in both files,
# with symbolized frames (leaky_spawn, not "?? (??)"), and nothing on stderr about a file it could
# not open. And `threadwatch dump PID`, run as root, must answer for the dropped process.
# Needs root (skipped otherwise).
source "$(dirname "$0")/common.sh"
[[ $(id -u) == 0 ]] || { echo "SKIP $TW_NAME: needs root"; exit 0; }
tw_cc "$TW_SH/priv_drop.c" "$TW_TMP/prog"
chmod 755 "$TW_TMP/prog"
mkdir -m 755 "$TW_TMP/reports"
problems=()

# 1. Reports after the drop.
tw_run 20 "$TW_TMP/out" "$TW_TMP/err" THREADWATCH_LOG="$TW_TMP/reports/tw.log" \
  THREADWATCH_JSON="$TW_TMP/reports/tw.jsonl" -- "$TW_TMP/prog" exit
tw_timed_out && problems+=("exit run hung")
[[ $TW_STATUS == 66 ]] || problems+=("exit status $TW_STATUS, expected 66")
grep -q '"kind":"thread-leak"' "$TW_TMP/reports/tw.jsonl" 2>/dev/null ||
  problems+=("no thread-leak report in the JSON file")
grep -q "threadwatch: thread-leak" "$TW_TMP/reports/tw.log" 2>/dev/null ||
  problems+=("no thread-leak report in the text log")
# Symbolized wherever the text went (the log, or stderr when the log could not be opened).
text=$TW_TMP/reports/tw.log
[[ -s $text ]] || text=$TW_TMP/err
grep -q "threadwatch: thread-leak" "$text" && ! grep -q "leaky_spawn" "$text" &&
  problems+=("frames not symbolized: $(grep -m1 '#0' "$text" | sed 's/^ *//')")
grep -qi "cannot open" "$TW_TMP/err" && problems+=("stderr: $(grep -m1 -i 'cannot open' "$TW_TMP/err")")

# 2. threadwatch dump of the dropped process, as root.
env LD_PRELOAD="$TW_LIB" "$TW_TMP/prog" wait >"$TW_TMP/wait.out" 2>"$TW_TMP/wait.err" </dev/null &
pid=$!
for _ in $(seq 200); do grep -q dropped "$TW_TMP/wait.out" 2>/dev/null && break; sleep 0.05; done
if grep -q dropped "$TW_TMP/wait.out"; then
  dst=0
  timeout -k 2 15 "$TW_BUILD/threadwatch" dump "$pid" >"$TW_TMP/dump.out" 2>"$TW_TMP/dump.err" || dst=$?
  [[ $dst == 0 && -s $TW_TMP/dump.out ]] ||
    problems+=("threadwatch dump as root: status $dst: $(head -c 200 "$TW_TMP/dump.err")")
else
  problems+=("the wait run never dropped its privileges: $(head -c 200 "$TW_TMP/wait.err")")
fi
{
  kill -KILL "$pid"
  wait "$pid"
} 2>/dev/null

[[ ${#problems[@]} -eq 0 ]] || fail "${problems[*]}"
pass "after setuid(nobody): leak report in root-owned LOG and JSON files, symbolized; dump answers root"
