# The PASS/FAIL bookkeeping of the shell test suites (tests/attach, tests/dump, tests/profile),
# sourced by their run.sh. The caller sets SUITE (the name in the last line) and TMP (where the step
# under test left its stdout in $TMP/out and stderr in $TMP/err, and its status in $rc).
#
# Output: PASS/FAIL per check; a failure shows the status and the first lines of out and err; then
# exactly `SUITE: N passed, M failed` (finish), exit 1 when any check failed.
passed=0
failed=0
rc=0

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
# fail NAME: says what the last step (or what a suite's `shows` put in its place) printed.
fail() {
  echo "FAIL: $1"
  echo "  exit status: $rc"
  echo "  stdout:"; head -60 "$TMP/out" 2>/dev/null | sed 's/^/    /'
  echo "  stderr:"; head -15 "$TMP/err" 2>/dev/null | sed 's/^/    /'
  failed=$((failed + 1))
}
# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
finish() {
  echo "$SUITE: $passed passed, $failed failed"
  [ "$failed" = 0 ]
  exit $?
}
# has FILE ERE, lacks FILE ERE: grep -E on a file.
has() { grep -qE -- "$2" "$1"; }
lacks() { ! grep -qE -- "$2" "$1"; }
