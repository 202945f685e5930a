#!/usr/bin/env bash
# THREADWATCH_SUPPRESS naming /dev/zero (an endless character device) or a huge (sparse, 3 GiB)
# regular file is never read: one line naming the variable and the reason, and the program runs
# (with no suppressions), instead of reading gigabytes and then going on silently with no rules.
# Each run is capped at 1 GiB of address space (ulimit -v) and 20 s.
source "$(dirname "$0")/common.sh"
tw_cc "$TW_INC/bad/opt_probe.c" "$TW_TMP/prog"
truncate -s 3G "$TW_TMP/huge.supp" || fail "truncate"
problems=()
for supp in /dev/zero "$TW_TMP/huge.supp"; do
  start=$(date +%s)
  (ulimit -v 1048576; tw_run 20 "$TW_TMP/out" "$TW_TMP/err" THREADWATCH_SUPPRESS="$supp" -- "$TW_TMP/prog"
   exit "$TW_STATUS")
  TW_STATUS=$?
  secs=$(($(date +%s) - start))
  if tw_timed_out; then
    problems+=("$supp: hung (killed after 20 s)")
  elif [[ $TW_STATUS != 0 ]] || [[ $(wc -l <"$TW_TMP/err") != 1 ]] ||
       ! grep -q "THREADWATCH_SUPPRESS: cannot read .*no suppressions are in force" "$TW_TMP/err" ||
       ! grep -q "main ran" "$TW_TMP/out"; then
    problems+=("$supp: status $TW_STATUS after ${secs}s, main $(grep -q 'main ran' "$TW_TMP/out" && echo ran || echo 'did not run'), stderr '$(head -c 150 "$TW_TMP/err" | tr '\n' ' ')'")
  fi
done
[[ ${#problems[@]} -eq 0 ]] || fail "${problems[*]}"
pass "THREADWATCH_SUPPRESS=/dev/zero and a 3 GiB file: not read, one line naming the variable, the program runs"
