#!/usr/bin/env bash
# Builds threadwatch and runs every test layer: cmocka unit tests (plain, ASan+UBSan, TSan, with gcc
# and clang), integration tests (misbehaving and clean programs under the preload; the programs built
# by gcc, then again by clang), fidelity tests
# (same results and errno with and without the preload), `threadwatch dump` tests (hung processes
# asked for their threads), `threadwatch attach` tests (hung processes without the preload, stopped
# for a moment with ptrace), profile tests (pprof files read back by `go tool pprof`), CLI tests
# (every command and flag, SARIF validated by Microsoft's sarif-multitool, JUnit, install into a
# prefix, the CI examples run locally, the .deb installed and removed), a stress run
# (scripts/stress.sh: fork, signals, cancellation, longjmp, dlopen, thread churn, a soak; bare vs
# preloaded), and benchmark smoke runs (never pass/fail on timing). On a fresh Debian machine, run
# as root, it installs what it needs first: Debian packages, and the SARIF multitool from npm into
# .cache/sarif-multitool.
#
#   scripts/test.sh            everything
#   scripts/test.sh --quick    one build (gcc), unit + integration (+ shell) + fidelity + dump + api + process + attach
#                              + profile + cli + a short stress run
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
JOBS=${JOBS:-2}

# strace: a shell test traces the report's writes; libdebuginfod1: the debuginfod tests prove that
# libdw's client (which libdw loads when it is installed) stays off unless THREADWATCH_DEBUGINFOD=1.
# GLib, libuv, TBB, LLVM's OpenMP: the runtime-pool tests. libgtest-dev: examples/goleak_gtest;
# dpkg-dev: cpack's dpkg-shlibdeps for the .deb; npm: the SARIF multitool below. zlib: the pprof
# writer gzips. golang-go: the profile and attach tests read the pprof files with `go tool pprof`.
PKGS="build-essential cmake pkg-config clang libunwind-dev uthash-dev libcmocka-dev libdw-dev zlib1g-dev python3 strace libdebuginfod1 libglib2.0-dev libuv1-dev libtbb-dev libomp-dev
      libgtest-dev dpkg-dev golang-go"
# The SARIF validator the tests run (tests/cli/run.sh): Microsoft's, from npm, kept in the tree.
SARIF_TOOL_VERSION=5.7.0
SARIF_DIR=$ROOT/.cache/sarif-multitool
install_deps() {
  local missing=""
  for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  command -v npm >/dev/null 2>&1 || missing="$missing npm"
  if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "test.sh: missing Debian packages:$missing (run as root, or install them)" >&2
      exit 1
    fi
    echo "test.sh: installing$missing"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null \
      || { echo "test.sh: apt-get install failed" >&2; exit 1; }
  fi
  if [ ! -x "$SARIF_DIR/node_modules/.bin/sarif-multitool" ]; then
    echo "test.sh: installing @microsoft/sarif-multitool@$SARIF_TOOL_VERSION into $SARIF_DIR"
    mkdir -p "$SARIF_DIR"
    (cd "$SARIF_DIR" && timeout 600 npm install --no-audit --no-fund --prefix . \
       "@microsoft/sarif-multitool@$SARIF_TOOL_VERSION" >npm.log 2>&1) \
      || { cat "$SARIF_DIR/npm.log" >&2; echo "test.sh: npm install of the SARIF multitool failed" >&2; exit 1; }
    # Its native binary must be executable (the package's postinstall does it; npm may skip it).
    chmod u+x "$SARIF_DIR"/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool 2>/dev/null
  fi
  export TW_SARIF_MULTITOOL=$SARIF_DIR/node_modules/.bin/sarif-multitool
}
install_deps

passed=0
failed=0
failures=""
step() { # step NAME COMMAND...: runs one step, counts it
  local name=$1; shift
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures="$failures\n  $name"
    echo "=== FAILED: $name"
  fi
}

build() { # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S "$ROOT" -B "$dir" -DTW_WERROR=ON "$@" >"$dir.configure.log" 2>&1 \
    || { cat "$dir.configure.log"; return 1; }
  cmake --build "$dir" -j"$JOBS" 2>&1 | grep -Ev '^\[ *[0-9]+%\]|^gmake|^Consolidate|^Scanning' ; 
  return "${PIPESTATUS[0]}"
}
# The unit, benchmark-smoke and layer tests of a build tree (the script layers run as steps below,
# so that each shows on its own; `ctest` alone in a build tree runs every layer).
unit() { (cd "$1" && ctest --output-on-failure -j"$JOBS" -L 'unit|bench|layers'); }

B=$ROOT/build
step "build (gcc, RelWithDebInfo)" build "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++
step "layering of src/ (includes and links)" bash scripts/check-layers.sh "$ROOT/src" "$B"
step "unit tests (gcc)" unit "$B"
step "integration tests (gcc build)" bash tests/integration/run.sh "$B"
step "fidelity tests (gcc build)" bash tests/fidelity/run.sh "$B"
step "dump tests (gcc build)" bash tests/dump/run.sh "$B"
step "api tests (gcc build)" bash tests/api/run.sh "$B"
step "process tests (gcc build)" bash tests/process/run.sh "$B"
step "attach tests (gcc build)" bash tests/attach/run.sh "$B"
step "profile tests (gcc build)" bash tests/profile/run.sh "$B"
step "cli tests: SARIF, JUnit, install, CI examples, .deb (gcc build)" bash tests/cli/run.sh "$B"
# Stress: every scenario bare and preloaded, then a soak (crashes, hangs and differences from the
# bare run fail; never a timing verdict). --quick runs a tenth of it with a 10 s soak.
if [ $QUICK = 1 ]; then
  step "stress (scale 0.1, 10 s soak)" bash scripts/stress.sh "$B" --scale 0.1 --duration 10
else
  step "stress (60 s soak)" bash scripts/stress.sh "$B" --duration 60
fi

if [ $QUICK = 0 ]; then
  # The same verdicts, with file:line in every frame that has debug info, for programs built by
  # clang (no .debug_aranges, other inlining) under the gcc build's library.
  step "integration tests (clang-built programs, gcc build)" env CC=clang CXX=clang++ bash tests/integration/run.sh "$B"
  C=$ROOT/build-clang-debug
  step "build (clang, Debug, TW_DEBUG)" build "$C" -DCMAKE_BUILD_TYPE=Debug -DTW_DEBUG=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
  step "unit tests (clang debug)" unit "$C"
  step "integration tests (clang debug build)" bash tests/integration/run.sh "$C"
  step "fidelity tests (clang debug build)" bash tests/fidelity/run.sh "$C"
  A=$ROOT/build-asan
  step "build (gcc, ASan+UBSan unit tests)" build "$A" -DCMAKE_BUILD_TYPE=Debug -DTW_SANITIZE=address,undefined -DTW_BUILD_EXAMPLES=OFF -DTW_BUILD_BENCH=OFF
  step "unit tests (ASan+UBSan)" unit "$A"
  T=$ROOT/build-tsan
  step "build (clang, TSan unit tests)" build "$T" -DCMAKE_BUILD_TYPE=Debug -DTW_SANITIZE=thread -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DTW_BUILD_EXAMPLES=OFF -DTW_BUILD_BENCH=OFF
  step "unit tests (TSan)" unit "$T"
  step "options table in README matches src/base/options.inc" bash scripts/gen-options-doc.sh --check
  step "benchmark smoke run (no timing verdict)" env BENCH_BUILD_DIR="$B" bash scripts/bench.sh --quick
  # Real programs (python http.server, memcached, redis, pigz, xz, zstd, ctest), one run each with
  # small loads: it installs what it needs and never fails on timing (only when it cannot run).
  step "real-program benchmark smoke run (no verdict)" bash scripts/bench-real.sh --smoke -B "$B"
fi

echo
[ -n "$failures" ] && printf "failed steps:$failures\n"
echo "test.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]
