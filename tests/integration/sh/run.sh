#!/usr/bin/env bash
# Runs the shell-level integration tests, those a .expect cannot state (a run under strace, ...):
# tests/integration/sh/run.sh BUILD_DIR [NAME...]. Each test NAME.sh takes BUILD_DIR, sources
# common.sh and prints one PASS/FAIL/SKIP line; this prints them and "sh: N passed, M failed"
# (exit 1 when any failed).
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
echo "sh: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
