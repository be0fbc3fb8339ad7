#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# generate.sh BUILD: issue 18's 200-exercise solvability run for `make bench`. Runs
# tests/integration/test_generate.sh with GEN_COUNT (default 200: every mistake id at
# its levels, then seeds at levels 1, 2, 3 in turn) and prints bench.sh's raw lines on
# standard output:
#   sample generate.unsolved N        exercises with a failed check
#   sample generate.per_exercise_s S  wall time per exercise (two at a time)
#   info   generate.solvable "200/200 ..."
# and the row "generated exercises solvable  200/200" on standard error. The whole
# TAP log stays in BUILD/bench-tmp/generate.tap.
set -u
B=$(cd "${1:-build}" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
COUNT=${GEN_COUNT:-200}
mkdir -p "$B/bench-tmp"
LOG=$B/bench-tmp/generate.tap
t0=$(date +%s)
GEN_COUNT=$COUNT WAPSIM=$B/wapsim BUILD=$B sh "$ROOT/tests/integration/test_generate.sh" >"$LOG" 2>&1
el=$(( $(date +%s) - t0 ))
# an exercise is unsolved when any of its checks failed
bad=$(grep '^not ok' "$LOG" | sed -n 's/^not ok [0-9]* - case \([0-9]*\) .*/\1/p' | sort -u | wc -l)
ran=$(grep -c '^# case [0-9]* .*whole case' "$LOG")
good=$((ran - bad))
printf 'sample\tgenerate.unsolved\t%s\n' "$((COUNT - good))"
printf 'sample\tgenerate.per_exercise_s\t%s\n' "$(awk -v e="$el" -v n="$COUNT" 'BEGIN { printf "%.3f", e / n }')"
printf 'info\tgenerate.solvable\t%s/%s generated exercises solvable (%s s, two at a time)\n' "$good" "$COUNT" "$el"
printf 'generated exercises solvable  %s/%s  (%s s)\n' "$good" "$COUNT" "$el" >&2
[ "$good" = "$COUNT" ]
