#!/usr/bin/env bash
# Issue 11 item 4: THREADWATCH_LOG, THREADWATCH_JSON or THREADWATCH_SUPPRESS naming a FIFO (say, one
# planted in /tmp by another user) must never block the program: each run must end (within 10 s)
# and stderr must say, in a line naming the variable, what was wrong. Baseline: LOG/JSON block
# forever in open() at the first report, SUPPRESS blocks before main.
source "$(dirname "$0")/common.sh"
tw_cc "$TW_SH/leak_once.c" "$TW_TMP/prog"
mkfifo "$TW_TMP/log.fifo" "$TW_TMP/json.fifo" "$TW_TMP/supp.fifo" || fail "mkfifo"
problems=()
for var in LOG JSON SUPPRESS; do
  fifo=$TW_TMP/$(tr 'A-Z' 'a-z' <<<"$var" | sed 's/suppress/supp/').fifo
  tw_run 10 "$TW_TMP/out.$var" "$TW_TMP/err.$var" "THREADWATCH_$var=$fifo" -- "$TW_TMP/prog"
  if tw_timed_out; then
    problems+=("THREADWATCH_$var=FIFO hung (killed after 10 s)")
  elif ! grep -q "THREADWATCH_$var" "$TW_TMP/err.$var"; then
    problems+=("THREADWATCH_$var=FIFO: status $TW_STATUS and no line naming THREADWATCH_$var on stderr")
  fi
done
[[ ${#problems[@]} -eq 0 ]] || fail "${problems[*]}"
pass "THREADWATCH_LOG/JSON/SUPPRESS naming a FIFO: no hang, one error line naming the variable each"
