#!/usr/bin/env bash
# Tests the CLI and everything that makes threadwatch fit CI and people's habits (issue 15):
#
#   tests/cli/run.sh BUILD_DIR
#
#   cli       every command's --help/--version, bad use (exit 2, one clear message), run's flags
#             (each maps to its variable; bad values refused with the library's own message;
#             relative paths made absolute for children that change directory), the static-program
#             warning, the library found relative to the CLI with no build path compiled in,
#             THREADWATCH_LIB (relative, and no "unknown variable" warning), dump -aj, a thread id
#   report    text, SARIF (validated by `sarif-multitool validate`: 0 errors; the same results as
#             the SARIF the library wrote itself), JUnit (parsed by python's xml), stdin, a cut line
#   sarif     the library's THREADWATCH_SARIF: valid after a kill -9 of a hung process, shared by a
#             parent and its forked child, a stale file started anew by run --sarif
#   fingerprint  equal across two runs (ASLR on: the pcs differ) and for a copy of the binary
#             elsewhere, different for different bugs
#   utf8      a thread named café comes out café in JSON, text, SARIF and JUnit
#   suppress  `threadwatch suppress` lines fed back suppress exactly those reports; the exit-time
#             counts; one rule kept suppresses exactly its report
#   goleak    threadwatch_check_leaks_text (C) and the GoogleTest listener (examples/goleak_gtest)
#   asan      a program built with -fsanitize=address under `threadwatch run` (libasan first):
#             both tools report
#   install   cmake --install into a temporary prefix: the CLI from an unrelated directory, a
#             consumer project with pkg-config and with find_package (examples/ci/demo), man pages,
#             bash completion, the tree moved elsewhere still works
#   ci        examples/ci/github-actions.yml and gitlab-ci.yml run locally (tests/cli/ci_local.py)
#             against the demo project: the test step fails on the demo's leak, the SARIF validates,
#             the JUnit parses
#   deb       cpack's .deb installed with dpkg -i, a demo run through /usr/bin/threadwatch from an
#             unrelated directory, removed with dpkg -r (root only; SKIP otherwise, or when a
#             threadwatch package is already installed)
#
# The SARIF validator: TW_SARIF_MULTITOOL, else .cache/sarif-multitool/node_modules/.bin/
# sarif-multitool under the source tree (scripts/test.sh installs it with npm). Without it the
# SARIF checks fail (TW_SKIP_SARIF_VALIDATION=1 makes them SKIP instead).
# Environment: TW_TEST_KEEP=1 keeps the temporary directory; CC (default cc), CXX (default c++).
# Output: PASS/FAIL/SKIP per check, then exactly `cli: N passed, M failed`; exit 1 on any failure.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "$1" && pwd)
CLI=$BUILD/threadwatch
LIB=$BUILD/libthreadwatch.so
CC=${CC:-cc}
CXX=${CXX:-c++}
unset "${!THREADWATCH_@}"
unset LD_PRELOAD
MULTITOOL=${TW_SARIF_MULTITOOL:-$ROOT/.cache/sarif-multitool/node_modules/.bin/sarif-multitool}

passed=0
failed=0
TMP=$(mktemp -d /tmp/tw-cli.XXXXXX)
bgpids=()
deb_installed=0
cleanup() {
  for p in "${bgpids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "$deb_installed" = 1 ]; then dpkg -P threadwatch >/dev/null 2>&1; fi
  if [ "${TW_TEST_KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
skip() { echo "SKIP: $1"; }
# fail NAME: says what the last command (see `cmd`) printed.
fail() {
  echo "FAIL: $1"
  echo "  exit status: $rc"
  echo "  stdout:"; head -30 "$TMP/out" 2>/dev/null | cut -c1-300 | sed 's/^/    /'
  echo "  stderr:"; head -15 "$TMP/err" 2>/dev/null | cut -c1-300 | sed 's/^/    /'
  failed=$((failed + 1))
}
check() {
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
# cmd ARGS...: runs a command (30 s at most), stdout to $TMP/out, stderr to $TMP/err, status in $rc.
cmd() { timeout -k 5 30 "$@" >"$TMP/out" 2>"$TMP/err" </dev/null; rc=$?; }
has() { grep -q -- "$2" "$1"; }
hasnt() { ! grep -q -- "$2" "$1"; }
lines() { [ "$(wc -l <"$1")" = "$2" ]; }
finish() {
  echo "cli: $passed passed, $failed failed"
  [ "$failed" = 0 ]
  exit $?
}

# The dpkg state of the threadwatch package ("" when dpkg does not know it).
deb_state() { dpkg-query -W -f='${Status}' threadwatch 2>/dev/null; }

# --- programs --------------------------------------------------------------------------------------
mkdir -p "$TMP/bin"
build_c() { # build_c OUT SRC [flags...]
  local out=$1 src=$2; shift 2
  "$CC" -g -O1 -pthread -D_GNU_SOURCE -I"$ROOT/include" -o "$TMP/bin/$out" "$src" "$@" 2>"$TMP/cc.err" \
    || { echo "FAIL: cannot build $src:"; sed 's/^/    /' "$TMP/cc.err"; failed=$((failed + 1)); }
}
build_c two_bugs "$HERE/two_bugs.c" -I"$ROOT/tests/integration"
build_c fork_leaks "$HERE/fork_leaks.c"
build_c leaks_text "$HERE/leaks_text.c" -ldl
build_c deadlock_abba "$ROOT/tests/integration/bad/deadlock_abba.c" -I"$ROOT/tests/integration"
build_c utf8 "$ROOT/tests/integration/bad/leak_utf8_names.c" -I"$ROOT/tests/integration"
build_c stall_pipe "$ROOT/tests/integration/bad/stall_pipe.c" -I"$ROOT/tests/integration"
build_c leak_exited "$ROOT/tests/integration/bad/leak_exited.c" -I"$ROOT/tests/integration"
TWO=$TMP/bin/two_bugs

# --- SARIF validation --------------------------------------------------------------------------------
# validate_sarif FILE...: `sarif-multitool validate`, which exits 0 even with errors: its output is
# read; passes with 0 errors (warnings are shown, not counted).
validate_sarif() {
  if [ ! -x "$MULTITOOL" ]; then
    echo "  sarif-multitool not found at $MULTITOOL (scripts/test.sh installs it: npm install @microsoft/sarif-multitool)" >"$TMP/err"
    [ "${TW_SKIP_SARIF_VALIDATION:-0}" = 1 ]
    return
  fi
  timeout 300 "$MULTITOOL" validate "$@" >"$TMP/validate.out" 2>&1
  local vrc=$?
  cp "$TMP/validate.out" "$TMP/out"
  [ "$vrc" = 0 ] && grep -q "Analysis completed successfully" "$TMP/validate.out" &&
    ! grep -E ': error [A-Z]+[0-9]+:' "$TMP/validate.out" >/dev/null
}
sarif_check() { # sarif_check NAME FILE...
  local name=$1; shift
  if [ ! -x "$MULTITOOL" ] && [ "${TW_SKIP_SARIF_VALIDATION:-0}" = 1 ]; then
    skip "$name (no sarif-multitool)"
  else
    check "$name" validate_sarif "$@"
  fi
}

# ===================================================================================================
echo "--- cli: help, version, bad use"
cmd "$CLI" --version
check "threadwatch --version prints the version" grep -qx "threadwatch [0-9]*\.[0-9]*\.[0-9]*" "$TMP/out"
for v in -V -v version; do
  cmd "$CLI" $v
  check "threadwatch $v prints the version" grep -qx "threadwatch [0-9.]*" "$TMP/out"
done
cmd "$CLI" --help
check "threadwatch --help lists every command, exit 0" bash -c "[ $rc = 0 ] && grep -q 'threadwatch run' '$TMP/out' && grep -q 'threadwatch report' '$TMP/out' && grep -q 'threadwatch suppress' '$TMP/out'"
cmd "$CLI" help
check "threadwatch help: the same list, exit 0" bash -c "[ $rc = 0 ] && grep -q 'threadwatch attach' '$TMP/out'"
for c in run report suppress dump attach options version help; do
  cmd "$CLI" "$c" --help
  check "threadwatch $c --help: its usage, exit 0" bash -c "[ $rc = 0 ] && grep -q '^usage: threadwatch $c' '$TMP/out'"
  cmd "$CLI" "$c" -h
  check "threadwatch $c -h: its usage" grep -q "^usage: threadwatch $c" "$TMP/out"
  cmd "$CLI" "$c" --version
  check "threadwatch $c --version: the version, exit 0" bash -c "[ $rc = 0 ] && grep -qx 'threadwatch [0-9.]*' '$TMP/out'"
  cmd "$CLI" help "$c"
  check "threadwatch help $c: its usage" grep -q "^usage: threadwatch $c" "$TMP/out"
done
cmd "$CLI" run --help -- /bin/false
check "run --help does not run anything" bash -c "[ $rc = 0 ] && grep -q '^usage: threadwatch run' '$TMP/out'"
cmd "$CLI"
check "no command: the list on stderr, exit 2" bash -c "[ $rc = 2 ] && grep -q 'threadwatch run' '$TMP/err'"
cmd "$CLI" frobnicate
check "an unknown command: named, exit 2" bash -c "[ $rc = 2 ] && grep -q \"unknown command 'frobnicate'\" '$TMP/err'"
cmd "$CLI" --json x.jsonl true
check "an option before the command: says where options go, exit 2" bash -c "[ $rc = 2 ] && grep -q 'options come after the command' '$TMP/err'"
cmd "$CLI" help frobnicate
check "help of an unknown command: exit 2" [ "$rc" = 2 ]
cmd "$CLI" run
check "run without a program: says so, usage, exit 2" bash -c "[ $rc = 2 ] && grep -q 'no program to run' '$TMP/err' && grep -q '^usage: threadwatch run' '$TMP/err'"
cmd "$CLI" run --bogus true
check "run --bogus: getopt's message and the usage, exit 2" bash -c "[ $rc = 2 ] && grep -q \"unrecognized option '--bogus'\" '$TMP/err' && grep -q '^usage: threadwatch run' '$TMP/err'"
cmd "$CLI" run --json
check "run --json without a value: exit 2" bash -c "[ $rc = 2 ] && grep -q 'requires an argument' '$TMP/err'"
cmd "$CLI" run --stall 10 -- true
check "run --stall 10: the library's one-line error naming the variable and form, exit 2" \
  bash -c "[ $rc = 2 ] && grep -q \"THREADWATCH_STALL='10' is not valid: expected a duration\" '$TMP/err' && grep -q 'given as --stall' '$TMP/err' && [ \$(wc -l <'$TMP/err') = 1 ]"
cmd "$CLI" run --exitcode 300 -- true
check "run --exitcode 300: refused, exit 2" bash -c "[ $rc = 2 ] && grep -q 'THREADWATCH_EXITCODE' '$TMP/err'"
cmd "$CLI" run --fail-on errors -- true
check "run --fail-on errors: refused, exit 2" bash -c "[ $rc = 2 ] && grep -q 'THREADWATCH_FAIL_ON' '$TMP/err'"
cmd "$CLI" run -o max_thread=5 -- true
check "run -o with an unknown name: the closest one, exit 2" bash -c "[ $rc = 2 ] && grep -q 'did you mean max_threads' '$TMP/err'"
cmd "$CLI" run -o nonsense -- true
check "run -o without =: exit 2" bash -c "[ $rc = 2 ] && grep -q 'expected NAME=VALUE' '$TMP/err'"
cmd "$CLI" run --suppress "$TMP/no-such.supp" -- true
check "run --suppress of a missing file: named, exit 2" bash -c "[ $rc = 2 ] && grep -q 'no-such.supp: No such file' '$TMP/err'"
cmd "$CLI" run -- "$TMP/no-such-program"
check "run of a program that does not exist: exit 127" bash -c "[ $rc = 127 ] && grep -q 'cannot run' '$TMP/err'"
cmd "$CLI" run --lib "$TMP/nolib.so" -- true
check "run --lib of a missing library: exit 2, names it" bash -c "[ $rc = 2 ] && grep -q 'nolib.so' '$TMP/err'"
cmd "$CLI" dump
check "dump without a PID: exit 2" bash -c "[ $rc = 2 ] && grep -q 'no PID given' '$TMP/err'"
cmd "$CLI" dump -aj
check "dump -aj: the short options combine (then: no PID), exit 2" bash -c "[ $rc = 2 ] && grep -q 'no PID given' '$TMP/err' && ! grep -q unrecognized '$TMP/err'"
cmd "$CLI" dump notapid
check "dump notapid: not a process id, exit 2" bash -c "[ $rc = 2 ] && grep -q \"'notapid' is not a process id\" '$TMP/err'"
cmd "$CLI" report --format xml "$TMP/x.jsonl"
check "report --format xml: exit 2" bash -c "[ $rc = 2 ] && grep -q 'expected text, sarif or junit' '$TMP/err'"
cmd "$CLI" report
check "report without a file: exit 2" [ "$rc" = 2 ]
cmd "$CLI" report "$TMP/missing.jsonl"
check "report of a missing file: exit 1, named" bash -c "[ $rc = 1 ] && grep -q 'missing.jsonl' '$TMP/err'"
cmd "$CLI" report --fail-on nope "$TMP/x.jsonl"
check "report --fail-on nope: exit 2" [ "$rc" = 2 ]
cmd "$CLI" suppress
check "suppress without a file: exit 2" [ "$rc" = 2 ]

echo "--- cli: run's flags"
cd "$TMP" || exit 1
mkdir -p flags && cd flags || exit 1
cmd "$CLI" run --log log.%p.txt --json out.jsonl -- "$TWO" both
check "run --log F --json F: the program's status is 66, both files written" \
  bash -c "[ $rc = 66 ] && ls log.*.txt >/dev/null && [ \$(wc -l <out.jsonl) = 2 ] && ! grep -q threadwatch '$TMP/err'"
check "--log: the text headlines are in the log file" grep -q "threadwatch: lock-order-cycle:" log.*.txt
cmd "$CLI" run --log stdout -- "$TWO" leak
check "run --log stdout: the report on stdout, none on stderr" bash -c "grep -q 'threadwatch: thread-leak:' '$TMP/out' && ! grep -q 'threadwatch: thread-leak' '$TMP/err' && [ ! -e stdout ]"
cmd "$CLI" run --exitcode 9 -- "$TWO" leak
check "run --exitcode 9: exit 9" [ "$rc" = 9 ]
cmd "$CLI" run --exitcode 0 -- "$TWO" leak
check "run --exitcode 0: the program's own 0" [ "$rc" = 0 ]
cmd "$CLI" run --json stall.jsonl --stall 200ms -- timeout -s KILL 2 "$TMP/bin/stall_pipe"
check "run --stall 200ms: a stall report with threshold_ms 200" grep -q '"kind":"stall".*"threshold_ms":200' stall.jsonl
cmd "$CLI" run --fail-on none -- "$TWO" both
check "run --fail-on none: reports, exit 0" bash -c "[ $rc = 0 ] && grep -q 'none that THREADWATCH_FAIL_ON=none names' '$TMP/err'"
cmd "$CLI" run --fail-on misuse -- "$TWO" leak
check "run --fail-on misuse: a leak does not fail, exit 0" [ "$rc" = 0 ]
cmd "$CLI" run --fail-on thread-leak/exited -- "$TWO" leak
check "run --fail-on thread-leak/exited: exit 66" [ "$rc" = 66 ]
cmd "$CLI" run -o max_threads=2 -o EXITCODE=5 -- sh -c env
check "run -o NAME=VALUE sets any option by its name in either case" \
  bash -c "grep -qx THREADWATCH_MAX_THREADS=2 '$TMP/out' && grep -qx THREADWATCH_EXITCODE=5 '$TMP/out'"
cmd "$CLI" run -o exitcode=5 -- "$TWO" abba
check "... and the library uses it (exitcode 5)" [ "$rc" = 5 ]
printf 'thread-leak:forget_a_thread\n' >leak.supp
cmd "$CLI" run --suppress leak.supp -- "$TWO" leak
check "run --suppress (relative): suppressed, counted at exit, exit 0" \
  bash -c "[ $rc = 0 ] && grep -q \"suppression 'thread-leak:forget_a_thread' (leak.supp:1) matched 1 report\" '$TMP/err'"
# Relative paths are made absolute: a child that changes directory still writes and reads them.
mkdir -p sub
cmd "$CLI" run --json rel.jsonl --suppress leak.supp --log rel.log -- sh -c "cd / && '$TWO' both"
check "relative --json/--log/--suppress: a child in another directory uses the same files" \
  bash -c "[ \$(wc -l <rel.jsonl) = 1 ] && grep -q lock-order-cycle rel.jsonl && grep -q 'matched 1 report' rel.log"
cmd env THREADWATCH_LIB="$(realpath --relative-to=. "$LIB")" "$CLI" run --json lib.jsonl -- sh -c 'cd / && env' 
check "THREADWATCH_LIB relative: exported absolute, LD_PRELOAD absolute" \
  bash -c "grep -qx 'THREADWATCH_LIB=$LIB' '$TMP/out' && grep -qx 'LD_PRELOAD=$LIB' '$TMP/out'"
check "THREADWATCH_LIB in the environment of a preloaded process: no 'unknown variable' warning" \
  hasnt "$TMP/err" "unknown variable"
cmd env LD_PRELOAD=/nonexistent-before.so "$CLI" run -- sh -c 'echo "$LD_PRELOAD"'
check "an LD_PRELOAD of the caller is kept, after the library" grep -qx "$LIB:/nonexistent-before.so" "$TMP/out"
cmd "$CLI" run --source-root "$ROOT" --sarif src.sarif -- "$TWO" leak
check "run --source-root: SARIF locations relative to it (uriBaseId SRCROOT)" \
  bash -c "grep -q '\"uri\":\"tests/cli/two_bugs.c\",\"uriBaseId\":\"SRCROOT\"' src.sarif && grep -q '\"originalUriBaseIds\":{\"SRCROOT\":{\"uri\":\"file://$ROOT/\"}}' src.sarif"

# A statically linked program: the preload cannot reach it, run says so and runs it.
if printf 'int main(void){return 3;}\n' >"$TMP/static.c" && "$CC" -static -o "$TMP/bin/static" "$TMP/static.c" 2>/dev/null; then
  cmd "$CLI" run -- "$TMP/bin/static"
  check "run of a statically linked program: a warning, the program's status" \
    bash -c "[ $rc = 3 ] && grep -q 'is statically linked' '$TMP/err'"
else
  skip "static program (no static libc to link one)"
fi
cmd "$CLI" run -- "$TWO" abba
check "a dynamically linked program: no static warning" hasnt "$TMP/err" "statically linked"

# The library is found relative to the CLI: no build path is compiled in.
# (Debug information names the sources; what the CLI runs with is what a stripped copy holds.)
strip -o "$TMP/stripped-cli" "$CLI" 2>/dev/null || cp "$CLI" "$TMP/stripped-cli"
check "no build path in the CLI (its stripped code and data)" bash -c "! grep -qa -- '$BUILD' '$TMP/stripped-cli'"
mkdir -p "$TMP/copy/bin" "$TMP/copy/lib" "$TMP/alone"
cp "$CLI" "$TMP/copy/bin/"
cp "$LIB" "$TMP/copy/lib/"
cp "$CLI" "$TMP/alone/"
cmd "$TMP/copy/bin/threadwatch" run -- sh -c 'echo "$LD_PRELOAD"'
check "a CLI in bin/ preloads ../lib/libthreadwatch.so beside it" grep -qx "$TMP/copy/lib/libthreadwatch.so" "$TMP/out"
cmd "$TMP/alone/threadwatch" run -- true
check "a CLI with no library beside it: says where it looked, exit 2 (never a build tree's)" \
  bash -c "[ $rc = 2 ] && grep -q 'cannot find libthreadwatch.so' '$TMP/err' && grep -q '$TMP/alone' '$TMP/err'"
cmd env THREADWATCH_LIB="$LIB" "$TMP/alone/threadwatch" run -- sh -c 'echo "$LD_PRELOAD"'
check "THREADWATCH_LIB overrides the lookup" grep -qx "$LIB" "$TMP/out"

# dump: a thread id is named as such.
"$CLI" run -- "$TMP/bin/deadlock_abba" >/dev/null 2>&1 &
hung=$!
bgpids+=("$hung")
for _ in $(seq 100); do [ "$(ls /proc/$hung/task 2>/dev/null | wc -l)" -ge 3 ] && break; sleep 0.05; done
tid=$(ls /proc/$hung/task | grep -vx "$hung" | head -1)
cmd "$CLI" dump "$tid"
check "dump of a thread id: 'is a thread of process PID', exit 1" \
  bash -c "[ $rc = 1 ] && grep -q '$tid is a thread of process $hung' '$TMP/err'"
cmd "$CLI" attach "$tid"
check "attach of a thread id: the same" bash -c "[ $rc = 1 ] && grep -q 'is a thread of process $hung' '$TMP/err'"
cmd "$CLI" dump -aj "$hung"
check "dump -aj PID: JSON of every thread" bash -c "[ $rc = 0 ] && python3 -c 'import json,sys; json.load(open(\"$TMP/out\"))'"
kill -KILL "$hung" 2>/dev/null; wait "$hung" 2>/dev/null

# ===================================================================================================
echo "--- report, SARIF, JUnit"
cd "$TMP" && mkdir -p rep && cd rep || exit 1
cmd "$CLI" run --json both.jsonl --sarif lib.sarif -- "$TWO" both
cmd "$CLI" report both.jsonl
check "report (text): each JSON report's headline, as the library wrote it" \
  bash -c "python3 - both.jsonl '$TMP/out' <<'PY'
import json, sys
reps = [json.loads(l) for l in open(sys.argv[1])]
text = open(sys.argv[2], encoding='utf-8').read()
for r in reps:
    head = f\"=={r['pid']}== threadwatch: {r['kind']}: {r['message']}\"
    assert head in text, head
assert '  cycle: M1 => M2 => M1' in text and 'created by T1 at:' in text
PY"
cmd "$CLI" report --format sarif both.jsonl -o cli.sarif
check "report --format sarif -o F: exit 0" [ "$rc" = 0 ]
check "the CLI's SARIF has the same results as the library's THREADWATCH_SARIF" \
  python3 -c "import json; a=json.load(open('lib.sarif'))['runs'][0]; b=json.load(open('cli.sarif'))['runs'][0]; assert a['results']==b['results'] and len(a['results'])==2, (len(a['results']), len(b['results']))"
check "SARIF: one run, rule ids kind/what with help text, level from severity, partialFingerprints" \
  python3 - lib.sarif both.jsonl <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
reps = [json.loads(l) for l in open(sys.argv[2])]
assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
run = doc["runs"][0]
rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
for res, rep in zip(run["results"], reps):
    rid = f"{rep['kind']}/{rep['what']}"
    assert res["ruleId"] == rid and rules[rid]["help"]["text"], rid
    assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == rid
    assert res["level"] == rep["severity"]
    assert res["partialFingerprints"]["threadwatch/v1"] == rep["fingerprint"]
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("two_bugs.c")
cycle = next(r for r in run["results"] if r["ruleId"].startswith("lock-order-cycle"))
flows = cycle["codeFlows"][0]["threadFlows"]
assert len(flows) == 2 and all(len(f["locations"]) == 2 for f in flows), "a thread flow per edge, both stacks"
PY
cat both.jsonl | "$CLI" report --format junit - >junit.xml 2>"$TMP/err"; rc=$?
cp junit.xml "$TMP/out"
check "report --format junit from stdin: parsed by python's xml; one test case per kind and site, the text report as failure" \
  python3 - junit.xml <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites"
cases = root.findall("./testsuite/testcase")
assert len(cases) == 2, len(cases)
names = {c.get("classname") + " " + c.get("name") for c in cases}
assert "threadwatch.lock-order-cycle lock-order at take_a_then_b (two_bugs.c)" in names, names
assert "threadwatch.thread-leak exited at forget_a_thread (two_bugs.c)" in names, names
for c in cases:
    f = c.find("failure")
    assert f is not None and f.get("message") and "threadwatch:" in f.text and "#0 0x" in f.text
assert root.find("testsuite").get("failures") == "2"
PY
cmd "$CLI" run --json warn.jsonl -- "$TMP/bin/utf8"
cmd "$CLI" report -f junit warn.jsonl
check "JUnit: a warning (not in --fail-on) is a passing case with its text" \
  python3 -c "import xml.etree.ElementTree as E; r=E.parse('$TMP/out').getroot(); c=r.find('./testsuite/testcase'); assert c.find('failure') is None and 'thread-leak' in c.find('system-out').text"
cmd "$CLI" report -f junit --fail-on all warn.jsonl
check "JUnit --fail-on all: the warning is a failure" \
  python3 -c "import xml.etree.ElementTree as E; r=E.parse('$TMP/out').getroot(); assert r.find('./testsuite/testcase/failure') is not None"
: >empty.jsonl
cmd "$CLI" report -f junit empty.jsonl
check "JUnit of no report: one passing test case" \
  python3 -c "import xml.etree.ElementTree as E; r=E.parse('$TMP/out').getroot(); assert r.get('tests')=='1' and r.get('failures')=='0'"
cmd "$CLI" report -f sarif empty.jsonl -o empty.sarif
check "SARIF of no report: a valid document with no result" \
  python3 -c "import json; assert json.load(open('empty.sarif'))['runs'][0]['results']==[]"
head -c 300 both.jsonl >cut.jsonl
printf '\n' >>cut.jsonl
tail -1 both.jsonl >>cut.jsonl
cmd "$CLI" report cut.jsonl
check "a cut line (a process killed mid-write) is skipped with a warning; the rest is rendered" \
  bash -c "[ $rc = 0 ] && grep -q 'cut.jsonl:1: skipped' '$TMP/err' && [ \$(grep -c '^==' '$TMP/out') = 1 ]"

# ===================================================================================================
echo "--- the library's SARIF writer"
cd "$TMP" && mkdir -p sarif && cd sarif || exit 1
timeout -s KILL 3 env LD_PRELOAD="$LIB" THREADWATCH_SARIF=killed.sarif THREADWATCH_JSON=killed.jsonl \
  "$TMP/bin/deadlock_abba" >/dev/null 2>&1; rc=$?
cp killed.sarif "$TMP/out" 2>/dev/null
check "a hung process killed with SIGKILL after its deadlock report leaves a complete SARIF document" \
  python3 -c "import json; d=json.load(open('killed.sarif')); r=[x['ruleId'] for x in d['runs'][0]['results']]; assert $rc==137 and r==['lock-order-cycle/lock-order','deadlock/wait-cycle'], r"
check "the deadlock result has a thread flow per thread of the cycle" \
  python3 -c "import json; r=json.load(open('killed.sarif'))['runs'][0]['results'][1]; assert len(r['codeFlows'][0]['threadFlows'])==2"
cmd env LD_PRELOAD="$LIB" THREADWATCH_SARIF=shared.sarif THREADWATCH_JSON=shared.jsonl "$TMP/bin/fork_leaks"
check "a parent and its forked child add their results to one SARIF file (one run)" \
  python3 - shared.sarif shared.jsonl <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["runs"]
pids = {json.loads(l)["pid"] for l in open(sys.argv[2])}
assert len(run) == 1 and len(run[0]["results"]) == 2, len(run[0]["results"])
assert len(pids) == 2, pids
PY
cmd env LD_PRELOAD="$LIB" THREADWATCH_SARIF=clean.sarif /bin/true
check "a clean run leaves an empty SARIF document (code scanning closes fixed alerts)" \
  python3 -c "import json; assert json.load(open('clean.sarif'))['runs'][0]['results']==[]"
echo 'not sarif' >notours.sarif
cmd env LD_PRELOAD="$LIB" THREADWATCH_SARIF=notours.sarif "$TWO" leak
check "a file that is not threadwatch's SARIF is left alone, said once" \
  bash -c "[ \"\$(cat notours.sarif)\" = 'not sarif' ] && [ \$(grep -c 'THREADWATCH_SARIF' '$TMP/err') = 1 ]"
"$CLI" run --sarif again.sarif -- "$TWO" leak >/dev/null 2>&1
"$CLI" run --sarif again.sarif -- "$TWO" leak >/dev/null 2>&1
check "run --sarif starts a threadwatch SARIF file of an earlier run anew" \
  python3 -c "import json; assert len(json.load(open('again.sarif'))['runs'][0]['results'])==1"
sarif_check "sarif-multitool validate: 0 errors (library SARIF: killed, shared, clean, source root; CLI SARIF)" \
  "$TMP/sarif/killed.sarif" "$TMP/sarif/shared.sarif" "$TMP/sarif/clean.sarif" "$TMP/rep/lib.sarif" \
  "$TMP/rep/cli.sarif" "$TMP/rep/empty.sarif" "$TMP/flags/src.sarif"

# ===================================================================================================
echo "--- fingerprints"
cd "$TMP" && mkdir -p fp && cd fp || exit 1
cp "$TWO" "$TMP/fp/moved_two_bugs"
for i in 1 2; do env LD_PRELOAD="$LIB" THREADWATCH_JSON=run$i.jsonl "$TWO" both >/dev/null 2>&1; done
env LD_PRELOAD="$LIB" THREADWATCH_JSON=moved.jsonl "$TMP/fp/moved_two_bugs" both >/dev/null 2>&1
cp run1.jsonl "$TMP/out"
check "fingerprints: equal across two runs (ASLR on: the pcs differ) and for the binary moved elsewhere; different for different bugs" \
  python3 - run1.jsonl run2.jsonl moved.jsonl <<'PY'
import json, sys
def load(p):
    return [json.loads(l) for l in open(p)]
a, b, c = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
fa = {(r["kind"], r["what"]): r["fingerprint"] for r in a}
fb = {(r["kind"], r["what"]): r["fingerprint"] for r in b}
fc = {(r["kind"], r["what"]): r["fingerprint"] for r in c}
assert len(fa) == 2 and fa == fb == fc, (fa, fb, fc)
assert len(set(fa.values())) == 2, "two bugs, two fingerprints"
aslr = open("/proc/sys/kernel/randomize_va_space").read().strip()
pcs = lambda rs: {f["pc"] for r in rs for t in r["threads"] for f in t["created_at"]}
if aslr != "0":
    assert pcs(a) != pcs(b), "ASLR is on, yet the pcs are the same"
print("ASLR", aslr)
PY

# ===================================================================================================
echo "--- UTF-8"
cd "$TMP" && mkdir -p utf8 && cd utf8 || exit 1
cmd env LD_PRELOAD="$LIB" THREADWATCH_JSON=u.jsonl THREADWATCH_SARIF=u.sarif THREADWATCH_LOG=u.log "$TMP/bin/utf8"
check "a thread named café: café in the JSON (valid UTF-8), in the text log; an invalid byte escaped" \
  python3 - u.jsonl u.log <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
raw.decode("utf-8")  # strict
assert "café".encode() in raw and b"caf\\u00c3" not in raw
names = {t["name"] for l in raw.decode().splitlines() for t in json.loads(l)["threads"]}
assert "café" in names and "bad\u00ffname" in names, names
assert b"bad\\u00ffname" in raw
assert '"café"'.encode() in open(sys.argv[2], "rb").read()
PY
"$CLI" report u.jsonl >u.txt; "$CLI" report -f junit u.jsonl >u.xml; "$CLI" report -f sarif u.jsonl >u2.sarif
check "café survives report (text, JUnit, SARIF) from the JSON Lines" \
  python3 -c "
import json, xml.etree.ElementTree as E
assert '\"café\"' in open('u.txt', encoding='utf-8').read()
assert 'café' in E.parse('u.xml').getroot().find('.//system-out').text
json.load(open('u2.sarif', encoding='utf-8')); json.load(open('u.sarif', encoding='utf-8'))"

# ===================================================================================================
echo "--- suppressions"
cd "$TMP" && mkdir -p supp && cd supp || exit 1
env LD_PRELOAD="$LIB" THREADWATCH_JSON=all.jsonl "$TWO" both >/dev/null 2>&1
cmd "$CLI" suppress all.jsonl -o gen.supp
cp gen.supp "$TMP/out"
check "threadwatch suppress: one rule per fingerprint, the program's innermost frame as the pattern" \
  bash -c "[ \$(grep -vc '^#' gen.supp) = 2 ] && grep -qx 'lock-order-cycle/lock-order:take_a_then_b' gen.supp && grep -qx 'thread-leak/exited:forget_a_thread' gen.supp"
cmd env LD_PRELOAD="$LIB" THREADWATCH_JSON=none.jsonl THREADWATCH_SUPPRESS=gen.supp "$TWO" both
check "the generated lines fed back suppress every one of those reports: none left, exit 0" \
  bash -c "[ $rc = 0 ] && [ ! -s none.jsonl ]"
check "... and the exit says which rule matched how often, one line each" \
  bash -c "[ \$(grep -c \"threadwatch: suppression '.*' (gen.supp:[0-9]*) matched 1 report\$\" '$TMP/err') = 2 ]"
grep -v '^#' gen.supp | head -1 >one.supp
kept=$(cat one.supp)
cmd env LD_PRELOAD="$LIB" THREADWATCH_JSON=rest.jsonl THREADWATCH_SUPPRESS=one.supp "$TWO" both
check "one generated rule suppresses exactly its report: the other remains, with its fingerprint" \
  python3 - all.jsonl rest.jsonl "$kept" <<'PY'
import json, sys
all_ = [json.loads(l) for l in open(sys.argv[1])]
rest = [json.loads(l) for l in open(sys.argv[2])]
kind = sys.argv[3].split(":")[0].split("/")[0]
assert len(rest) == 1 and rest[0]["kind"] != kind, rest
assert rest[0]["fingerprint"] in {r["fingerprint"] for r in all_ if r["kind"] != kind}
PY
printf 'thread-leak/exited:forget_a_thread\nstall/condvar:never_here\n' >v.supp
cmd env LD_PRELOAD="$LIB" THREADWATCH_SUPPRESS=v.supp THREADWATCH_VERBOSE=1 "$TWO" leak
check "THREADWATCH_VERBOSE=1: a rule that never matched is named at exit" \
  bash -c "grep -q \"suppression 'stall/condvar:never_here' (v.supp:2) never matched\" '$TMP/err' && grep -q 'matched 1 report' '$TMP/err'"

# ===================================================================================================
echo "--- goleak: threadwatch_check_leaks_text"
cmd env LD_PRELOAD="$LIB" THREADWATCH_EXITCODE=0 "$TMP/bin/leaks_text"
check "check_leaks_text: the report in the buffer, once; cut with '...'; '' when clean" \
  bash -c "[ $rc = 0 ] && grep -q 'all checks held' '$TMP/out'"
cmd "$TMP/bin/leaks_text"
check "check_leaks_text without the library: 0 and an empty text" grep -q 'without the library' "$TMP/out"
if [ -x "$BUILD/examples/goleak_gtest" ]; then
  cmd "$CLI" run -- "$BUILD/examples/goleak_gtest"
  check "GoogleTest listener: the leaky test fails with the leak report in its failure, the clean one passes" \
    bash -c "[ $rc != 0 ] && grep -q 'the test left 1 thread(s) behind' '$TMP/out' && grep -q 'thread-leak: thread T2 created at Pool::Pool()' '$TMP/out' && grep -q '\[  FAILED  \] Pool.LeakyStop' '$TMP/out' && grep -q '\[       OK \] Pool.CleanStop' '$TMP/out'"
  cmd "$BUILD/examples/goleak_gtest"
  check "GoogleTest listener without the preload: every test passes" bash -c "[ $rc = 0 ]"
else
  echo "FAIL: $BUILD/examples/goleak_gtest was not built (libgtest-dev missing?)"
  failed=$((failed + 1))
fi

# ===================================================================================================
echo "--- ASan"
if printf 'int main(void){return 0;}\n' >"$TMP/a.c" && gcc -fsanitize=address -o "$TMP/bin/a" "$TMP/a.c" 2>/dev/null; then
  cat >"$TMP/asan_both.c" <<'EOF'
#include <pthread.h>
#include <stdlib.h>
static void *quick(void *a) { return a; }
static void *overflow(void *a) { char *p = malloc(8); p[(long)a + 8] = 1; free(p); return NULL; }
int main(int argc, char **argv) {
  pthread_t t;
  pthread_create(&t, NULL, quick, NULL); /* never joined */
  (void)argv;
  pthread_create(&t, NULL, overflow, (void *)(long)(argc - 1)); /* p[8]: one past the end */
  pthread_join(t, NULL);
  return 0;
}
EOF
  # -fsanitize-recover: ASan goes on after its report (halt_on_error=0), so the exit comes and
  # threadwatch's exit-time leak report with it.
  gcc -g -O0 -fsanitize=address -fsanitize-recover=address -pthread -o "$TMP/bin/asan_both" "$TMP/asan_both.c"
  cmd env ASAN_OPTIONS=halt_on_error=0:detect_leaks=0 "$CLI" run --json "$TMP/asan.jsonl" -- "$TMP/bin/asan_both"
  check "run of an ASan program: libasan first; ASan's heap-buffer-overflow and threadwatch's leak both reported" \
    bash -c "grep -q 'AddressSanitizer: heap-buffer-overflow' '$TMP/err' && grep -q '\"kind\":\"thread-leak\"' '$TMP/asan.jsonl' && ! grep -q 'does not come first' '$TMP/err'"
  cmd env LD_PRELOAD="$LIB" "$TMP/bin/asan_both"
  check "plain LD_PRELOAD of threadwatch alone before ASan: ASan refuses (why run puts libasan first)" has "$TMP/err" "ASan runtime does not come first"
  cmd env ASAN_OPTIONS=verify_asan_link_order=0:halt_on_error=0:detect_leaks=0 LD_PRELOAD="$LIB" THREADWATCH_JSON="$TMP/asan2.jsonl" "$TMP/bin/asan_both"
  check "ASAN_OPTIONS=verify_asan_link_order=0: both tools work (the documented alternative)" \
    bash -c "grep -q 'AddressSanitizer: heap-buffer-overflow' '$TMP/err' && grep -q thread-leak '$TMP/asan2.jsonl'"
else
  skip "ASan (gcc -fsanitize=address does not link here)"
fi

# ===================================================================================================
echo "--- install into a temporary prefix"
PREFIX=$TMP/prefix
cmd cmake --install "$BUILD" --prefix "$PREFIX"
check "cmake --install: exit 0" [ "$rc" = 0 ]
for f in bin/threadwatch lib/libthreadwatch.so include/threadwatch.h lib/pkgconfig/threadwatch.pc \
         lib/cmake/threadwatch/threadwatchConfig.cmake lib/cmake/threadwatch/threadwatchConfigVersion.cmake \
         share/man/man1/threadwatch.1 share/man/man7/threadwatch.7 \
         share/bash-completion/completions/threadwatch share/doc/threadwatch/report.schema.json; do
  check "installed: $f" test -s "$PREFIX/$f"
done
check "threadwatch(7) lists every option of the table" \
  bash -c "for o in \$('$CLI' options | sed -n 's/^\(THREADWATCH_[A-Z_]*\).*/\1/p'); do grep -q \"^\.B \$o\$\" '$PREFIX/share/man/man7/threadwatch.7' || { echo missing \$o; exit 1; }; done"
if command -v groff >/dev/null || command -v nroff >/dev/null; then
  check "the man pages render without warnings" bash -c "for p in '$PREFIX/share/man/man1/threadwatch.1' '$PREFIX/share/man/man7/threadwatch.7'; do out=\$( (nroff -man -ww \"\$p\" >/dev/null) 2>&1 ); [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }; done"
fi
mkdir -p "$TMP/elsewhere" && cd "$TMP/elsewhere" || exit 1
cp "$TWO" ./app
cmd "$PREFIX/bin/threadwatch" run --json e.jsonl -- ./app leak
check "the installed CLI from an unrelated directory preloads the installed library" \
  bash -c "[ $rc = 66 ] && grep -q forget_a_thread e.jsonl"
check "bash completion: commands and run's options" bash -c "
  source '$PREFIX/share/bash-completion/completions/threadwatch'
  COMP_WORDS=(threadwatch re); COMP_CWORD=1; _threadwatch; [[ \" \${COMPREPLY[*]} \" == *' report '* ]] || exit 1
  COMP_WORDS=(threadwatch run --sa); COMP_CWORD=2; _threadwatch; [[ \" \${COMPREPLY[*]} \" == *' --sarif '* ]] || exit 1
  COMP_WORDS=(threadwatch report -f ''); COMP_CWORD=3; _threadwatch; [[ \"\${COMPREPLY[*]}\" == 'text sarif junit' ]]"
# A consumer with pkg-config: the header, and the library to preload.
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
cmd pkg-config --variable=preload threadwatch
check "pkg-config --variable=preload: the installed library" bash -c "[ \"\$(realpath \$(cat '$TMP/out'))\" = '$(realpath "$PREFIX")/lib/libthreadwatch.so' ]"
# shellcheck disable=SC2046
"$CC" -g -O1 -pthread $(pkg-config --cflags --libs threadwatch) -o pc_queue_test "$ROOT/examples/ci/demo/queue_test.c" 2>"$TMP/err"; rc=$?
check "pkg-config --cflags --libs: the demo test compiles" [ "$rc" = 0 ]
cmd ./pc_queue_test
check "the demo test without the preload passes (API calls are no-ops)" bash -c "[ $rc = 0 ] && grep -q '^ok' '$TMP/out'"
cmd env LD_PRELOAD="$(pkg-config --variable=preload threadwatch)" ./pc_queue_test
check "... and under the pkg-config preload fails with the leak report as its message" \
  bash -c "[ $rc = 1 ] && grep -q 'FAIL test_open_close: 1 thread(s) left behind' '$TMP/out' && grep -q 'created at queue_open' '$TMP/out'"
unset PKG_CONFIG_PATH
# A consumer with find_package: threadwatch::threadwatch and threadwatch_add_test.
cmd cmake -S "$ROOT/examples/ci/demo" -B "$TMP/demo-build" -DCMAKE_PREFIX_PATH="$PREFIX"
check "find_package(threadwatch) from the install: the demo project configures" [ "$rc" = 0 ]
cmd cmake --build "$TMP/demo-build"
check "... builds against threadwatch::threadwatch" [ "$rc" = 0 ]
(cd "$TMP/demo-build" && timeout 60 ctest --output-on-failure >"$TMP/out" 2>"$TMP/err"); rc=$?
check "... ctest: the plain test passes, the one under threadwatch_add_test fails with the stacks" \
  bash -c "grep -q 'queue_test \.*   Passed' '$TMP/out' && grep -q 'queue_test_watched \.*\*\*\*Failed' '$TMP/out' && grep -q 'blocked in pthread_cond_wait' '$TMP/out'"
# The whole tree moved: everything is relative.
mv "$PREFIX" "$TMP/moved-prefix"
cmd "$TMP/moved-prefix/bin/threadwatch" run -- sh -c 'echo "$LD_PRELOAD"'
check "the installed tree moved elsewhere: its CLI finds its library" grep -qx "$TMP/moved-prefix/lib/libthreadwatch.so" "$TMP/out"
cmd env PKG_CONFIG_PATH="$TMP/moved-prefix/lib/pkgconfig" pkg-config --cflags threadwatch
check "... and pkg-config points into the moved tree" grep -q "$TMP/moved-prefix/lib/pkgconfig/../../include" "$TMP/out"
mv "$TMP/moved-prefix" "$PREFIX"

# ===================================================================================================
echo "--- the CI examples, run locally"
for kind in github gitlab; do
  yml=$ROOT/examples/ci/$([ $kind = github ] && echo github-actions.yml || echo gitlab-ci.yml)
  work=$TMP/ci-$kind
  rm -rf "$work" && cp -r "$ROOT/examples/ci/demo" "$work"
  (cd "$work" && PATH="$PREFIX/bin:$PATH" CMAKE_PREFIX_PATH="$PREFIX" \
     timeout 600 python3 "$HERE/ci_local.py" "$kind" "$yml" "$work" "$work/summary.json") >"$TMP/out" 2>"$TMP/err"
  rc=$?
  sarif=$work/threadwatch.sarif
  [ $kind = gitlab ] && sarif=$work/gl-threadwatch.sarif
  check "$kind CI example: build ok, the test step fails on the demo's leak, the report steps run after it" \
    python3 - "$work/summary.json" "$kind" <<'PY'
import json, sys
steps = json.load(open(sys.argv[1]))
st = {s["name"]: s["status"] for s in steps}
test = [s for s in steps if "threadwatch run" in s["name"] or s["name"] == "Test under threadwatch"]
assert test and test[0]["status"] not in (0, None), steps
assert all(s["status"] == 0 for s in steps if s is not test[0]), steps
assert len(steps) >= 3, steps
PY
  check "$kind CI example: the JUnit XML parses and has the leak as a failure" \
    python3 -c "import xml.etree.ElementTree as E; r=E.parse('$work/threadwatch-junit.xml').getroot(); f=r.findall('.//failure'); assert f and any('queue_open' in x.text for x in f)"
  sarif_check "$kind CI example: the SARIF validates (sarif-multitool: 0 errors)" "$sarif"
  check "$kind CI example: SARIF locations relative to the checkout (SRCROOT)" \
    python3 -c "import json; r=json.load(open('$sarif'))['runs'][0]['results']; assert r and r[0]['locations'][0]['physicalLocation']['artifactLocation'].get('uriBaseId')=='SRCROOT', r[0]['locations']"
done

# ===================================================================================================
echo "--- the Debian package"
if [ "$(id -u)" != 0 ]; then
  skip ".deb install (needs root for dpkg -i)"
elif deb_state | grep -q .; then
  skip ".deb install (a threadwatch package is installed already; not touching it)"
else
  rm -rf "$BUILD/package"
  (cd "$BUILD" && timeout 300 cpack -G DEB) >"$TMP/out" 2>"$TMP/err"; rc=$?
  deb=$(ls "$BUILD"/package/threadwatch_*.deb 2>/dev/null | head -1)
  check "cpack -G DEB makes the package" bash -c "[ $rc = 0 ] && [ -f '$deb' ]"
  if [ -n "$deb" ]; then
    cmd dpkg-deb -I "$deb"
    check "the package depends on the libraries it links (libunwind, libdw)" bash -c "grep -q 'Depends:.*libunwind' '$TMP/out' && grep -q 'Depends:.*libdw' '$TMP/out'"
    for _ in 1 2 3 4 5 6; do
      timeout 120 dpkg -i "$deb" >"$TMP/out" 2>"$TMP/err" && break
      grep -q 'lock' "$TMP/err" || break # another dpkg holds the lock: wait and retry
      sleep 5
    done
    rc=$?
    deb_state | grep -q 'install ok installed' && deb_installed=1
    check "dpkg -i installs it" [ "$deb_installed" = 1 ]
    mkdir -p "$TMP/deb-elsewhere" && cd "$TMP/deb-elsewhere" || exit 1
    cp "$TWO" ./app
    cmd /usr/bin/threadwatch run --json d.jsonl -- ./app leak
    check "/usr/bin/threadwatch run from an unrelated directory: the demo's report, exit 66" \
      bash -c "[ $rc = 66 ] && grep -q forget_a_thread d.jsonl"
    cmd /usr/bin/threadwatch run -- sh -c 'echo "$LD_PRELOAD"'
    check "... preloading the packaged library" grep -qx /usr/lib/libthreadwatch.so "$TMP/out"
    cmd env LD_PRELOAD=libthreadwatch.so THREADWATCH_JSON=byname.jsonl ./app leak
    check "LD_PRELOAD=libthreadwatch.so by name finds the packaged library" bash -c "[ $rc = 66 ] && grep -q forget_a_thread byname.jsonl"
    cmd pkg-config --variable=preload threadwatch
    check "pkg-config of the package names /usr/lib/libthreadwatch.so" bash -c "[ \"\$(realpath \$(cat '$TMP/out'))\" = /usr/lib/libthreadwatch.so ]"
    cmd man -w threadwatch
    [ -x /usr/bin/man ] && check "man threadwatch finds the page" grep -q threadwatch.1 "$TMP/out"
    timeout 120 dpkg -r threadwatch >"$TMP/out" 2>"$TMP/err"; rc=$?
    state=$(deb_state)
    check "dpkg -r removes it: no /usr/bin/threadwatch, no library left" \
      bash -c "[ $rc = 0 ] && [ '$state' != 'install ok installed' ] && [ ! -e /usr/bin/threadwatch ] && [ ! -e /usr/lib/libthreadwatch.so ]"
    timeout 120 dpkg -P threadwatch >/dev/null 2>&1 # the ldconfig scripts keep a removed package's record
    deb_state | grep -q . || deb_installed=0
  fi
fi

finish
