#!/usr/bin/env bash
# Issue 11 item 20 (files): in a sticky world-writable directory owned by another user (nobody),
#  (a) report files pre-created by that user (mode 0666) must not be appended to (that user could
#      read the process's code addresses): refused, with a line naming the variable;
#  (b) a symlink planted by that user as a directory component of THREADWATCH_LOG/JSON (pointing to
#      a root-only directory) must not be followed: no file created behind it, a line naming the
#      variable.
# The directory and the planted entries belong to the same user, so the kernel's own
# fs.protected_regular / fs.protected_symlinks checks (when on) allow them: threadwatch must refuse
# them itself. Needs root (skipped otherwise). Baseline: appends to the planted files and creates
# files through the symlink.
source "$(dirname "$0")/common.sh"
[[ $(id -u) == 0 ]] || { echo "SKIP $TW_NAME: needs root"; exit 0; }
tw_cc "$TW_SH/leak_once.c" "$TW_TMP/prog"
shared=$TW_TMP/shared victim=$TW_TMP/victim
mkdir -m 1777 "$shared" && chown nobody:nogroup "$shared" || fail "setup of $shared"
mkdir -m 700 "$victim" || fail "setup of $victim"
for f in tw.log tw.jsonl; do
  printf 'planted\n' >"$shared/$f" && chown nobody:nogroup "$shared/$f" && chmod 666 "$shared/$f" ||
    fail "setup of $shared/$f"
done
ln -s "$victim" "$shared/sneaky" && chown -h nobody:nogroup "$shared/sneaky" || fail "setup of the symlink"
problems=()

tw_run 20 "$TW_TMP/out" "$TW_TMP/err" THREADWATCH_LOG="$shared/tw.log" \
  THREADWATCH_JSON="$shared/tw.jsonl" -- "$TW_TMP/prog"
tw_timed_out && problems+=("planted files: hung")
for f in tw.log tw.jsonl; do
  [[ $(cat "$shared/$f") == planted ]] ||
    problems+=("appended to $f owned by nobody ($(wc -c <"$shared/$f") bytes now)")
done
grep -q THREADWATCH_LOG "$TW_TMP/err" || problems+=("planted files: no line naming THREADWATCH_LOG")
grep -q THREADWATCH_JSON "$TW_TMP/err" || problems+=("planted files: no line naming THREADWATCH_JSON")

tw_run 20 "$TW_TMP/out" "$TW_TMP/err" THREADWATCH_LOG="$shared/sneaky/tw.log" \
  THREADWATCH_JSON="$shared/sneaky/tw.jsonl" -- "$TW_TMP/prog"
tw_timed_out && problems+=("symlink: hung")
created=$(ls "$victim")
[[ -z $created ]] || problems+=("followed nobody's symlink: created $(echo $created) in the root-only directory")
grep -q THREADWATCH_LOG "$TW_TMP/err" || problems+=("symlink: no line naming THREADWATCH_LOG")

[[ ${#problems[@]} -eq 0 ]] || fail "${problems[*]}"
pass "report files planted by another user are refused, and so is another user's symlink in the path"
