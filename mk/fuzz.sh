#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make fuzz: run every fuzz target in BUILD/fuzz/bin for FUZZ_SECONDS each, starting from
# tests/fuzz/corpus/<name>/ (copied to BUILD/fuzz/corpus/<name>/, which keeps what libFuzzer
# finds), then print one table: target, executions, crashes, leaks. A crash or leak leaves
# its input in BUILD/fuzz/artifacts/<name>/ and makes the exit status 1.
# usage: mk/fuzz.sh BUILD [SECONDS]
set -u
build=${1:-build}
secs=${2:-60}
top=$(cd "$(dirname "$0")/.." && pwd)
status=0
table=""
for bin in "$build"/fuzz/bin/fuzz_*; do
    [ -x "$bin" ] || continue
    name=${bin##*/fuzz_}
    corpus="$build/fuzz/corpus/$name"
    art="$build/fuzz/artifacts/$name"
    log="$build/fuzz/logs/$name.log"
    mkdir -p "$corpus" "$art" "$build/fuzz/logs"
    rm -f "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*
    [ -d "$top/tests/fuzz/corpus/$name" ] && cp -f "$top/tests/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null
    echo "== fuzz_$name: ${secs}s" >&2
    "$bin" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=1024 -timeout=10 \
        -artifact_prefix="$art/" "$corpus" >"$log" 2>&1
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    crashes=$(find "$art" -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' | wc -l)
    leaks=$(find "$art" -name 'leak-*' | wc -l)
    [ "$crashes" -ne 0 ] || [ "$leaks" -ne 0 ] && { status=1; echo "   see $log" >&2; }
    table="$table$(printf '| %-10s | %12s | %7s | %5s |' "$name" "${execs:-?}" "$crashes" "$leaks")
"
done
printf '| %-10s | %12s | %7s | %5s |\n' target executions crashes leaks
printf '|%s|%s|%s|%s|\n' ------------ -------------- --------- -------
printf '%s' "$table"
exit $status
