# Sourced by the sh/*.sh integration tests: BUILD_DIR argument, a private temporary directory,
# a compiler helper and a runner with a timeout on every run. Each test prints one line
# "PASS NAME: what was checked" or "FAIL NAME: what went wrong" and exits 0 / 1.
set -u
if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
TW_BUILD=$(cd "$1" && pwd) || exit 2
TW_LIB=$TW_BUILD/libthreadwatch.so
TW_SH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TW_INC=$(cd "$TW_SH/.." && pwd)
TW_NAME=$(basename "$0" .sh)
TW_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tw-sh.XXXXXX")
chmod 755 "$TW_TMP"
trap 'rm -rf "$TW_TMP"' EXIT
# The caller's own settings must not leak into the runs.
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^THREADWATCH_' || true)
unset LD_PRELOAD DEBUGINFOD_URLS

pass() { echo "PASS $TW_NAME: $*"; exit 0; }
fail() { echo "FAIL $TW_NAME: $*"; exit 1; }

# tw_cc SOURCE OUTPUT [EXTRA...]: builds like run.sh does.
tw_cc() {
  local src=$1 out=$2
  shift 2
  cc -g -O1 -pthread -D_GNU_SOURCE -Wall -Wextra -I"$TW_INC" -o "$out" "$src" "$@" \
    >"$TW_TMP/cc.log" 2>&1 || fail "compile $src: $(tr '\n' ' ' <"$TW_TMP/cc.log")"
}

# tw_run SECS OUT ERR [ENV=VALUE...] -- PROGRAM [ARGS...]: runs PROGRAM under the preload with a
# timeout (SIGTERM, SIGKILL 2 s later), stdin from /dev/null. Sets TW_STATUS (124/137: timed out).
tw_run() {
  local secs=$1 out=$2 err=$3
  shift 3
  local -a envs=()
  while [[ $# -gt 0 && $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  TW_STATUS=0
  timeout -k 2 "$secs" env LD_PRELOAD="$TW_LIB" "${envs[@]}" "$@" >"$out" 2>"$err" </dev/null ||
    TW_STATUS=$?
}
tw_timed_out() { [[ $TW_STATUS == 124 || $TW_STATUS == 137 ]]; }
