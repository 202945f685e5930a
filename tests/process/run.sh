#!/usr/bin/env bash
# Process-level fidelity tests that need more than one program under the preload: a shell script
# each (a library whose destructor joins its pool, FIFOs and foreign-owned files as report files,
# option values with newlines, a server dropping privileges, ...). Each script takes BUILD_DIR,
# sources common.sh, bounds every run with a timeout, prints one PASS/FAIL/SKIP line and exits 0
# (pass or skip) or 1.
#
#   tests/process/run.sh BUILD_DIR [NAME...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -ge 1 ]] || { echo "usage: $0 BUILD_DIR [NAME...]" >&2; exit 2; }
build=$1
shift
names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
  for f in "$here"/*.sh; do
    n=$(basename "$f" .sh)
    [[ $n == run || $n == common ]] || names+=("$n")
  done
fi
passed=0 failed=0
for n in "${names[@]}"; do
  out=$(bash "$here/$n.sh" "$build" 2>&1)
  rc=$?
  echo "$out"
  if [[ $rc == 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "process: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
