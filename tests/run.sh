#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The test runner behind `make test`: cmocka unit tests, the same under ASan+UBSan,
# then the integration tests (tests/integration/test_*.sh, tests/interop/, and the browser
# tests, tests/web/test_web.sh; TAP-style "ok"/"not ok" lines;
# "ok N # SKIP why" is a check that could not run here).
# Ends with one summary line, "N passed, N failed, N skipped", and exits 1 when anything
# failed. A skipped check is never counted as passed.
# usage: tests/run.sh BUILD_DIR [unit]
build=${1:-build}
only=${2:-all}
top=$(cd "$(dirname "$0")/.." && pwd)
passed=0
failed=0
skipped=0
failures=""
log=$(mktemp)
notok=$(mktemp)
trap 'rm -f "$log" "$notok"' EXIT

# One cmocka binary: add its counts; a crash without a summary is a failure.
run_cmocka() {
    label=$1 bin=$2
    name=$(basename "$bin")
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin" >"$log" 2>&1
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    p=${p:-0} f=${f:-0} s=${s:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    if [ "$f" -ne 0 ]; then
        echo "FAIL $label $name"; sed 's/^/    /' "$log" | tail -n 40
        failures="$failures $label/$name"
    else
        echo "ok   $label $name ($p$( [ "$s" -gt 0 ] && echo ", $s skipped"))"
    fi
}

echo "== unit tests"
for t in "$build"/tests/test_*; do [ -x "$t" ] && run_cmocka unit "$t"; done
if [ "$only" = all ]; then
    echo "== unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
    for t in "$build"/san/tests/test_*; do [ -x "$t" ] && run_cmocka asan+ubsan "$t"; done

    echo "== integration tests"
    for t in "$top"/tests/integration/test_*.sh "$top"/tests/interop/test_*.sh "$top"/tests/web/test_*.sh; do
        [ -f "$t" ] || continue
        name=$(basename "$t" .sh)
        WAPSIM="$top/$build/wapsim" BUILD="$top/$build" sh "$t" >"$log" 2>&1
        rc=$?
        s=$(grep -c '^ok [0-9]* *# *SKIP' "$log")
        p=$(($(grep -c '^ok ' "$log") - s))
        f=$(grep -c '^not ok ' "$log")
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
        passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
        if [ "$f" -ne 0 ]; then
            echo "FAIL integration $name"; sed 's/^/    /' "$log" | tail -n 60
            failures="$failures integration/$name"
            # The failed checks themselves, repeated at the end: a CI page that shows only the
            # head and tail of the output must still name them.
            grep -A 3 '^not ok ' "$log" | head -n 40 | sed "s|^|    $name: |" >>"$notok"
        else
            echo "ok   integration $name ($p$( [ "$s" -gt 0 ] && echo ", $s skipped"))"
            # Each skipped check's reason, after its TAP "# SKIP".
            grep '^ok [0-9]* *# *SKIP' "$log" | cut -d'#' -f2- | sed 's/^ *SKIP */    skipped: /'
        fi
    done
fi
[ -s "$notok" ] && { echo "== the failed checks"; cat "$notok"; }
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
