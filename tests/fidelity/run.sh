#!/usr/bin/env bash
# Runs the fidelity program with and without the preload: every hooked call must behave the same.
#
# Usage: tests/fidelity/run.sh BUILD_DIR
#
# Compiles tests/fidelity/fidelity.c and runs each of its sections (a separate process each) bare
# and with LD_PRELOAD=BUILD_DIR/libthreadwatch.so (THREADWATCH_EXITCODE=0, each under `timeout 60`),
# then compares the two outputs check by check. A check passes when its line is identical in both
# runs. It fails when the line differs, is missing from the preloaded run (e.g. the program crashed
# or hung), or appears only there. A section whose exit status differs counts as one more failure.
# The last line is always "fidelity: N passed, M failed"; the exit status is 0 only when M is 0.
#
# Environment: CC (default cc), FIDELITY_TIMEOUT (seconds per run, default 60).
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "$1" && pwd)
lib="$build/libthreadwatch.so"
cc=${CC:-cc}
tmo=${FIDELITY_TIMEOUT:-60}

if [[ ! -f "$lib" ]]; then
    echo "fidelity: $lib not found (build the library first)" >&2
    echo "fidelity: 0 passed, 1 failed"
    exit 1
fi

work="$build/fidelity"
mkdir -p "$work"
bin="$work/fidelity"
"$cc" -std=c11 -O1 -g -Wall -Wextra -pthread -D_GNU_SOURCE "$here/fidelity.c" -o "$bin"

bare_out="$work/bare.out" bare_err="$work/bare.err"
pre_out="$work/preload.out" pre_err="$work/preload.err"
: >"$bare_out"; : >"$bare_err"; : >"$pre_out"; : >"$pre_err"

# Each section runs in its own process, so a hang or crash in one does not hide the others. Its
# closing line "done: checks=N" becomes "done.SECTION: checks=N"; exit statuses are compared per
# section.
mapfile -t sections < <("$bin" --list)
if [[ ${#sections[@]} -eq 0 ]]; then
    echo "fidelity: $bin --list printed no sections" >&2
    echo "fidelity: 0 passed, 1 failed"
    exit 1
fi
bare_bad="" status_fail=()
for sec in "${sections[@]}"; do
    set +e
    timeout "$tmo" "$bin" "$sec" >"$work/bare.$sec.out" 2>"$work/bare.$sec.err"
    brc=$?
    # In a subshell whose stderr is discarded, so that bash's own "Aborted"/"Segmentation fault"
    # notice does not clutter the output (the program's stderr is kept in preload.err). The explicit
    # exit keeps bash from exec-ing timeout in place of the subshell.
    (THREADWATCH_EXITCODE=0 LD_PRELOAD="$lib" timeout "$tmo" "$bin" "$sec" \
        >"$work/preload.$sec.out" 2>"$work/preload.$sec.err"; exit $?) 2>/dev/null
    prc=$?
    set -e
    sed "s/^done: /done.$sec: /" "$work/bare.$sec.out" >>"$bare_out"
    sed "s/^done: /done.$sec: /" "$work/preload.$sec.out" >>"$pre_out"
    sed "s/^/[$sec] /" "$work/bare.$sec.err" >>"$bare_err"
    sed "s/^/[$sec] /" "$work/preload.$sec.err" >>"$pre_err"
    rm -f "$work"/{bare,preload}."$sec".{out,err}
    # The bare run is the reference: it must have finished and printed its closing line.
    if [[ $brc -ne 0 ]] || ! grep -q "^done.$sec: checks=" "$bare_out"; then
        bare_bad+=" $sec(exit $brc)"
    fi
    if [[ $prc -ne $brc ]]; then
        why=""
        if [[ $prc -eq 124 ]]; then why=" (timed out after ${tmo}s)"; fi
        if [[ $prc -gt 128 ]]; then why=" (killed by signal $((prc - 128)))"; fi
        status_fail+=("exit status of section $sec: expected $brc, got $prc$why")
    fi
done

if [[ -n $bare_bad ]]; then
    echo "fidelity: the run WITHOUT the preload did not complete:$bare_bad; this is a test bug" >&2
    tail -n 20 "$bare_err" | sed 's/^/  bare stderr: /' >&2
    echo "fidelity: 0 passed, 1 failed"
    exit 1
fi
# Notes from the program about this glibc not matching its built-in expectations: informative only.
if grep -q 'UNEXPECTED' "$bare_err"; then
    echo "fidelity: note: without the preload, glibc gave results this test did not expect:" >&2
    grep 'UNEXPECTED' "$bare_err" | sed 's/^/  /' >&2
fi

# Compare check by check, keyed by the name before ": ". Prints "PASS" / "FAIL <why>" lines.
results=$(awk '
    function key(line) { return substr(line, 1, index(line, ": ") - 1) }
    function val(line) { return substr(line, index(line, ": ") + 2) }
    NR == FNR { k = key($0); bare[k] = $0; order[++n] = k; next }
    { k = key($0); pre[k] = $0; if (!(k in bare)) extra[++ne] = $0 }
    END {
        for (i = 1; i <= n; i++) {
            k = order[i]
            if (k ~ /^done[.]/) {   # the closing line of a section: not a check, but required
                if (!(k in pre))
                    print "FAIL section " substr(k, 6) " did not finish under the preload"
                else if (pre[k] != bare[k])
                    print "FAIL " k ": expected " val(bare[k]) ", got " val(pre[k])
                continue
            }
            if (!(k in pre))
                print "FAIL " k ": missing under the preload (expected " val(bare[k]) ")"
            else if (pre[k] != bare[k])
                print "FAIL " k ": expected " val(bare[k]) "; got " val(pre[k])
            else
                print "PASS"
        }
        for (i = 1; i <= ne; i++) print "FAIL only under the preload: " extra[i]
    }' "$bare_out" "$pre_out")

passed=$(grep -c '^PASS$' <<<"$results" || true)
failed=$(grep -c '^FAIL' <<<"$results" || true)
for f in "${status_fail[@]}"; do
    failed=$((failed + 1))
    results+=$'\n'"FAIL $f"
done

if [[ $failed -ne 0 ]]; then
    echo "fidelity: outputs differ (- without preload, + with preload):"
    diff -u --label bare "$bare_out" --label preload "$pre_out" || true
    echo "fidelity: failing checks:"
    grep '^FAIL' <<<"$results" | sed 's/^FAIL /  /'
    echo "fidelity: last lines of the preloaded run's stderr ($pre_err):"
    tail -n 40 "$pre_err" | sed 's/^/  | /'
fi
echo "fidelity: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
