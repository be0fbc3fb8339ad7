#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The scenario runner: the shipped happy path, the runner's own scenarios (tests/scenarios/:
# ok/ passes, fail/ fails at known lines, syntax/ has syntax errors), -j, --junit (checked
# with xmllint), --tap, --shard, --filter, --keep, and no lab or process left behind.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
S=$top/tests/scenarios
cd "$top" || exit 1
# Scenario labs go under this test's own TMPDIR, so leftovers can be counted.
export TMPDIR="$T_TMP/tmp"
mkdir -p "$TMPDIR"
R() { "$WAPSIM" scenario "$@" >"$T_TMP/out" 2>"$T_TMP/err"; }
last() { tail -n 1 "$T_TMP/out"; }

# ---- the shipped happy path
R run scenarios/happy-path.scn; rc=$?
check_eq "scenario run scenarios/happy-path.scn exits 0" 0 "$rc"
check_eq "... and ends with '1 passed, 0 failed'" "1 passed, 0 failed" "$(last)"
check "... with one line 'ok   happy-path (N s)'" grep -Eq '^ok   happy-path \([0-9]+\.[0-9] s\)$' "$T_TMP/out"
check "the shipped scenarios all parse (scenario check scenarios/)" sh -c "'$WAPSIM' scenario check scenarios/ >/dev/null"
# `make test` runs every shipped scenario: here, two at a time.
shipped=$(ls scenarios/*.scn | wc -l)
R run scenarios/ -j 2; rc=$?
check_eq "scenario run scenarios/ -j 2: all $shipped shipped scenarios pass" "0:$shipped passed, 0 failed" "$rc:$(last)"
# An exercise is a scenario with a ticket: each replays too, its repair reaching the console.
exercises=$(ls scenarios/exercises/*.scn | wc -l)
R run scenarios/exercises/ -j 2; rc=$?
check_eq "scenario run scenarios/exercises/ -j 2: all $exercises shipped exercises pass" "0:$exercises passed, 0 failed" "$rc:$(last)"
[ "$rc" = 0 ] || grep -E '^FAIL' "$T_TMP/out" | sed 's/^/# /'

# ---- passing scenarios side by side; step!, facts, every target; diagnose is skipped
R run "$S/ok/" -j 2; rc=$?
check_eq "scenario run tests/scenarios/ok/ -j 2 exits 0" 0 "$rc"
check_eq "... and ends with '2 passed, 0 failed'" "2 passed, 0 failed" "$(last)"
check "... in file order: format, then tagged" sh -c "grep -E '^(ok|FAIL)' '$T_TMP/out' | cut -c6- | cut -d' ' -f1 | tr '\n' ' ' | grep -qx 'format tagged '"
check "expect diagnose runs the diagnosis" sh -c "! grep -q 'diagnose skipped' '$T_TMP/out'"

# ---- failing scenarios: exit 1, each names its file and line
R run "$S/fail" -j 3; rc=$?
check_eq "scenario run tests/scenarios/fail -j 3 exits 1" 1 "$rc"
check_eq "... and ends with '0 passed, 5 failed'" "0 passed, 5 failed" "$(last)"
check "a wrong expectation: FAIL with file:line, the line and what it got" grep -qF \
    "FAIL expect-fails: $S/fail/expect-fails.scn:7: expect connect.stage = gateway-auth: got 'console'" "$T_TMP/out"
check "a failing step: its file:line and exit status" grep -qF \
    "FAIL step-fails: $S/fail/step-fails.scn:4: step cert remove vmm-console --machine hv01 --store Nowhere: exit 2" "$T_TMP/out"
check "step! on a command that works fails the scenario" grep -qF \
    "FAIL step-bang-succeeds: $S/fail/step-bang-succeeds.scn:3: step! cert list: exited 0, but step! expects it to fail" "$T_TMP/out"
check "an unknown fact fails naming it" grep -qF \
    "$S/fail/unknown-fact.scn:3: step cert show \${thumbprint:no-such-cert}: unknown fact '\${thumbprint:no-such-cert}'" "$T_TMP/out"
check "an event that is not there" grep -qF \
    "$S/fail/event-missing.scn:5: expect event rdgw01 201: no event 201 on rdgw01 since the last connect" "$T_TMP/out"
check "the lines after the failing one do not run" sh -c "! grep -q 'step-fails.scn.*\[5\]' '$T_TMP/out' && ! grep -qF '[5] step cert list' '$T_TMP/out'"
check "a failure's transcript shows the command's output" grep -q "unknown store 'Nowhere'" "$T_TMP/out"

# ---- JUnit XML, checked with a parser
if command -v xmllint >/dev/null 2>&1; then
    R run scenarios/happy-path.scn "$S/fail/expect-fails.scn" "$S/fail/step-fails.scn" -j 3 --junit "$T_TMP/junit.xml"; rc=$?
    check_eq "a run with --junit exits 1 when one failed" 1 "$rc"
    check "the JUnit file is well-formed XML (xmllint --noout)" xmllint --noout "$T_TMP/junit.xml"
    x() { xmllint --xpath "$1" "$T_TMP/junit.xml" 2>/dev/null; }
    check_eq "testsuite tests=3" 3 "$(x 'string(//testsuite/@tests)')"
    check_eq "testsuite failures=2" 2 "$(x 'string(//testsuite/@failures)')"
    check "testsuite has a time" sh -c "xmllint --xpath 'string(//testsuite/@time)' '$T_TMP/junit.xml' | grep -Eq '^[0-9]+\.[0-9]+$'"
    check_eq "three testcases of classname wapsim.scenarios" 3 "$(x 'count(//testsuite/testcase[@classname="wapsim.scenarios"])')"
    check_eq "happy-path has no failure" 0 "$(x 'count(//testcase[@name="happy-path"]/failure)')"
    check_eq "expect-fails' failure message names file:line (quotes escaped and read back)" \
        "$S/fail/expect-fails.scn:7: expect connect.stage = gateway-auth: got 'console'" \
        "$(x 'string(//testcase[@name="expect-fails"]/failure/@message)')"
    check "system-out holds the transcript" sh -c "xmllint --xpath 'string(//testcase[@name=\"step-fails\"]/system-out)' '$T_TMP/junit.xml' | grep -q \"unknown store 'Nowhere'\""
else
    not_ok "xmllint is missing: install libxml2-utils (make deps) to check the JUnit XML"
fi

# ---- TAP
R run "$S/ok/tagged.scn" "$S/fail/step-bang-succeeds.scn" --tap; rc=$?
check_eq "--tap exits 1 when one failed" 1 "$rc"
check_eq "--tap starts with the plan 1..2" "1..2" "$(head -n 1 "$T_TMP/out")"
check "--tap: ok 1 - tagged" grep -q '^ok 1 - tagged ' "$T_TMP/out"
check "--tap: not ok 2 - step-bang-succeeds with its file:line" grep -qF "not ok 2 - step-bang-succeeds: $S/fail/step-bang-succeeds.scn:3:" "$T_TMP/out"
check "--tap: every other line is a comment" sh -c "! grep -Ev '^(1\.\.2|ok |not ok |#)' '$T_TMP/out' | grep -q ."
check_eq "--tap ends with the summary as a comment" "# 1 passed, 1 failed" "$(last)"

# ---- --shard I/N: the two shards together run each scenario once
names() { grep -E '^(ok  |FAIL)' "$T_TMP/out" | cut -c6- | sed 's/[ :].*//'; }
"$WAPSIM" scenario check "$S/ok" "$S/fail" | sed 's/^ok   //; s/: .*//; s#.*/##; s/\.scn$//' | sort >"$T_TMP/all"
R run "$S/ok" "$S/fail" -j 4 --shard 1/2; names >"$T_TMP/shards"
n1=$(wc -l <"$T_TMP/shards")
R run "$S/ok" "$S/fail" -j 4 --shard 2/2; names >>"$T_TMP/shards"
n2=$(($(wc -l <"$T_TMP/shards") - n1))
check "shard 1/2 and 2/2 each run some ($n1 + $n2)" test "$n1" -gt 0 -a "$n2" -gt 0
check_eq "shards 1/2 + 2/2 run each of the 7 scenarios exactly once" "$(tr '\n' ' ' <"$T_TMP/all")" "$(sort "$T_TMP/shards" | tr '\n' ' ')"
R run "$S/ok" "$S/fail" --shard 1/2 --filter nothing-has-this-tag; rc=$?
check_eq "a shard with nothing to run: '0 passed, 0 failed', exit 0" "0 passed, 0 failed:0" "$(last):$rc"

# ---- --filter TAG
R run "$S/ok" "$S/fail" --filter smoke-bob; rc=$?
check_eq "--filter smoke-bob runs only the scenario tagged so" "ok   tagged" "$(grep -E '^(ok|FAIL)' "$T_TMP/out" | cut -c1-11)"
check_eq "... and passes" "1 passed, 0 failed:0" "$(last):$rc"

# ---- --keep: a failed scenario's lab stays, stopped, and its path is printed
R run "$S/fail/expect-fails.scn" "$S/ok/tagged.scn" --keep; rc=$?
kept=$(sed -n 's/^ *lab kept: \([^ ]*\).*/\1/p' "$T_TMP/out")
check_eq "--keep prints one kept lab" 1 "$(printf '%s\n' "$kept" | grep -c .)"
check "... which is a lab with its transcript" test -f "$kept/lab.db" -a -f "$kept/scenario/transcript.log"
check_eq "... and is stopped" "" "$(lab_pids "$kept")"
check_eq "only the failed scenario's lab is kept" 1 "$(ls -d "$TMPDIR"/wapsim-scn.* 2>/dev/null | wc -l)"
rm -rf "$kept"

# ---- syntax errors: file:line: message, exit 2, nothing runs
R run "$S/syntax/typo-key.scn"; rc=$?
check_eq "a typo'd key: exit 2" 2 "$rc"
check "... $S/syntax/typo-key.scn:2: unknown key 'titel'" grep -qF "$S/syntax/typo-key.scn:2: unknown key 'titel'" "$T_TMP/err"
R run "$S/syntax/missing-op.scn"; rc=$?
check_eq "expect without an operator: exit 2" 2 "$rc"
check "... missing-op.scn:4: expect needs an operator (=, !=, ~, !~)" grep -qF "$S/syntax/missing-op.scn:4: expect needs an operator (=, !=, ~, !~)" "$T_TMP/err"
R run "$S/syntax/unknown-target.scn"; rc=$?
check_eq "an unknown target: exit 2" 2 "$rc"
check "... unknown-target.scn:4: unknown target 'conect.ok'" grep -qF "$S/syntax/unknown-target.scn:4: unknown target 'conect.ok'" "$T_TMP/err"
R check "$S/syntax/many.scn"; rc=$?
check_eq "scenario check names every error of a file (12 in many.scn), exit 2" "12:2" "$(grep -c "^$S/syntax/many.scn:[0-9]*: " "$T_TMP/err"):$rc"
R check "$S/syntax/other-lab.scn"; rc=$?
check_eq "steps that reach another lab (--lab, --lab=, --la, --l=, lab init): 6 errors, exit 2" "6:2" \
    "$(grep -c "^$S/syntax/other-lab.scn:[0-9]*: " "$T_TMP/err"):$rc"
check "... other-lab.scn:3: --lab before the command" grep -qF \
    "$S/syntax/other-lab.scn:3: a step runs against its scenario's lab: '--lab' is not allowed" "$T_TMP/err"
check "... other-lab.scn:4: --lab=DIR after it" grep -qF \
    "$S/syntax/other-lab.scn:4: a step runs against its scenario's lab: '--lab=/tmp/wapsim-other-lab' is not allowed" "$T_TMP/err"
check "... other-lab.scn:5 and 6: abbreviations (--la, --l=)" sh -c "grep -qF '$S/syntax/other-lab.scn:5: ' '$T_TMP/err' && grep -qF '$S/syntax/other-lab.scn:6: ' '$T_TMP/err'"
check "... other-lab.scn:7 and 8: lab init, with and without a path" sh -c \
    "grep -qF \"$S/syntax/other-lab.scn:7: a step cannot create a lab (lab init)\" '$T_TMP/err' && grep -qF '$S/syntax/other-lab.scn:8: a step cannot create a lab' '$T_TMP/err'"
check "... and the ordinary step on line 9 is no error" sh -c "! grep -qF '$S/syntax/other-lab.scn:9:' '$T_TMP/err'"
R run "$S/syntax/other-lab.scn"; rc=$?
check_eq "scenario run refuses it too, before anything runs: exit 2, no lab made" "2:" "$rc:$(ls -d /tmp/wapsim-other-lab 2>/dev/null)"
R check "$S/syntax/outside-files.scn"; rc=$?
check_eq "steps that write outside their lab (absolute, .., a fact) or run __supervise: 5 errors, exit 2" "5:2" \
    "$(grep -c "^$S/syntax/outside-files.scn:[0-9]*: " "$T_TMP/err"):$rc"
check "... outside-files.scn:4: an absolute --out" grep -qF \
    "$S/syntax/outside-files.scn:4: a step writes only inside its scenario's lab: '--out' needs a relative path without '..'" "$T_TMP/err"
check "... outside-files.scn:8: wapsim's internal command" grep -qF \
    "$S/syntax/outside-files.scn:8: a step cannot run wapsim's internal command '__supervise'" "$T_TMP/err"
check "... and a relative --out on line 9 is no error" sh -c "! grep -qF '$S/syntax/outside-files.scn:9:' '$T_TMP/err'"
R run "$S/ok" "$S/syntax"; rc=$?
check_eq "a run with one bad file runs nothing: exit 2, no summary" "2:" "$rc:$(cat "$T_TMP/out")"
R check "$S/ok"; rc=$?
check_eq "scenario check on good files: exit 0, one ok line each" "0:2" "$rc:$(grep -c '^ok ' "$T_TMP/out")"

# ---- usage errors
check_exit "--shard 3/2 is refused" 2 "$WAPSIM" scenario run "$S/ok" --shard 3/2
check_exit "-j 0 is refused" 2 "$WAPSIM" scenario run "$S/ok" -j 0
check_exit "a path that does not exist is refused" 2 "$WAPSIM" scenario run "$S/no-such-dir"
check "scenario format describes the operators" sh -c "'$WAPSIM' scenario format | grep -q 'expect WHAT OP VALUE'"

# ---- nothing left behind
check_eq "no scenario lab is left in TMPDIR" 0 "$(ls -d "$TMPDIR"/wapsim-scn* 2>/dev/null | wc -l)"
left=0
for p in /proc/[0-9]*; do
    { tr '\0' '\n' <"$p/cmdline"; } 2>/dev/null | grep -q "^$TMPDIR/wapsim-scn" && left=$((left + 1))
done
check_eq "no process of a scenario lab is left running" 0 "$left"
