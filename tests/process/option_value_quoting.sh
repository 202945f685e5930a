#!/usr/bin/env bash
# Issue 11 item 19: a rejected option value is echoed quoted and cut safely. (a) A value with a
# newline and a forged second line: stderr must be exactly one line, and no line may start with
# the forged text. (b) A value of 2000 bytes: one line, no NUL byte, the accepted form still there.
# Both exit 2 before main. Baseline: (a) prints the newline raw (two lines, the second one looks like
# a threadwatch message), (b) cuts the message at 511 bytes and writes a NUL byte after it.
source "$(dirname "$0")/common.sh"
tw_cc "$TW_INC/bad/opt_probe.c" "$TW_TMP/prog"
problems=()
forged=$'1s\nthreadwatch: forged: all clear'
tw_run 10 "$TW_TMP/out" "$TW_TMP/err" "THREADWATCH_STALL=$forged" -- "$TW_TMP/prog"
lines=$(wc -l <"$TW_TMP/err")
[[ $TW_STATUS == 2 ]] || problems+=("newline value: status $TW_STATUS")
[[ $lines == 1 ]] || problems+=("newline value: $lines stderr lines")
grep -q '^threadwatch: forged' "$TW_TMP/err" && problems+=("newline value: a forged 'threadwatch:' line on stderr")
long=$(head -c 2000 /dev/zero | tr '\0' '7')
tw_run 10 "$TW_TMP/out" "$TW_TMP/err" "THREADWATCH_MAX_THREADS=$long" -- "$TW_TMP/prog"
[[ $TW_STATUS == 2 ]] || problems+=("long value: status $TW_STATUS")
[[ $(wc -l <"$TW_TMP/err") == 1 ]] || problems+=("long value: $(wc -l <"$TW_TMP/err") stderr lines")
[[ $(tr -d '\0' <"$TW_TMP/err" | wc -c) == $(wc -c <"$TW_TMP/err") ]] || problems+=("long value: a NUL byte on stderr")
grep -q 'an integer from 1 to' "$TW_TMP/err" || problems+=("long value: the accepted form is cut off")
[[ ${#problems[@]} -eq 0 ]] || fail "${problems[*]}"
pass "rejected values with a newline / 2000 bytes: one line each, no NUL, accepted form kept, exit 2"
