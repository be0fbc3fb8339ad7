#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# wapsim scenario break: a lab broken as a scenario breaks it, left running for the
# operator (a trainer hands it over with lab export). Only the lines before the first
# connect or expect run; a failing step stops it (exit 1, the runner's message, the lab
# taken down and kept); a bad file or a DIR that is not empty is one line, exit 2.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export TMPDIR="$T_TMP/tmp"
mkdir -p "$TMPDIR"
B() { "$WAPSIM" "$@" >"$T_TMP/out" 2>"$T_TMP/err"; }
# The JSON field $2 of file $1.
jf() { json_sql "$1" "SELECT json_extract(j, '\$.$2') FROM doc"; }
errors() { # the lab's diagnose error ids (not the default lab's warnings), sorted, comma-separated
    "$WAPSIM" --lab "$1" diagnose --json >"$T_TMP/diag.json" 2>/dev/null
    json_sql "$T_TMP/diag.json" "SELECT group_concat(id, ',') FROM (SELECT DISTINCT json_extract(value, '\$.id') AS id
        FROM doc, json_each(json_extract(j, '\$.findings')) WHERE json_extract(value, '\$.severity') != 'warning'
        ORDER BY id)"
}
stage_code() { # LAB TENANT VM: "stage code" of one connect
    "$WAPSIM" --lab "$1" connect --tenant "$2" --vm "$3" --json >"$T_TMP/c.json" 2>/dev/null
    echo "$(jf "$T_TMP/c.json" stage) $(jf "$T_TMP/c.json" code)"
}

B scenario break --help
check "--help says it is how a trainer makes a broken lab to hand over with lab export" \
    sh -c "grep -q 'trainer' '$T_TMP/out' && grep -q 'lab export' '$T_TMP/out'"

# ---- m3a in DIR: its one step ran, not the repair after its first connect
L=$T_TMP/m3a
T_LABS="$T_LABS $L"
B --lab "$L" scenario break scenarios/m3a-thumbprint-not-registered-on-gateway.scn --json; rc=$?
check_eq "scenario break m3a --lab DIR exits 0" 0 "$rc"
check_eq "... --json names the lab (DIR, absolute) and 1 step" "$(cd "$L" && pwd -P)|1|m3a-thumbprint-not-registered-on-gateway" \
    "$(jf "$T_TMP/out" lab)|$(jf "$T_TMP/out" steps)|$(jf "$T_TMP/out" scenario)"
"$WAPSIM" --lab "$L" status --json >"$T_TMP/st.json" 2>/dev/null
check_eq "... the lab is left running (status: 6 machines, each healthy)" "6|6" "$(json_sql "$T_TMP/st.json" \
    "SELECT count(*) || '|' || sum(json_extract(value, '\$.healthy')) FROM doc, json_each(json_extract(j, '\$.machines'))")"
check_eq "... the tenant sees the scenario's symptom (gateway-auth 50331701), the repair step after it did not run" \
    "gateway-auth 50331701" "$(stage_code "$L" alice web01)"
check_eq "... diagnose names its fault" "gateway-issuer-not-trusted" "$(errors "$L")"
check "... the transcript is kept in the lab's scenario/ folder" grep -q 'remove-trusted-issuer' "$L/scenario/transcript.log"
B --lab "$L" scenario break scenarios/m3a-thumbprint-not-registered-on-gateway.scn; rc=$?
check_eq "a DIR that already holds a lab: exit 2, one line, that lab left running" "2:1:gateway-auth 50331701" \
    "$rc:$(wc -l <"$T_TMP/err"):$(stage_code "$L" alice web01)"

# ---- no DIR: a new folder in $TMPDIR, its path printed
B scenario break scenarios/happy-path.scn; rc=$?
N=$(sed -n 's/^The lab \(.*\) (subnet .*/\1/p' "$T_TMP/out")
T_LABS="$T_LABS $N"
check_eq "without --lab: exit 0, a new lab in \$TMPDIR, its path printed" "0:$TMPDIR" "$rc:$(dirname "$N")"
check_eq "... a scenario whose first line is a connect: 0 steps, a healthy lab" "console 0" "$(stage_code "$N" alice web01)"
"$WAPSIM" --lab "$N" down >/dev/null 2>&1

# ---- a step that fails
cat >"$T_TMP/bad.scn" <<'SCN'
title a step that fails
step gateway set --add-trusted-issuer ${thumbprint:vmm-console}
step cert import no-such-cert --machine rdgw01 --store My
step gateway set --remove-trusted-issuer ${thumbprint:vmm-console}
connect tenant=alice vm=web01
SCN
F=$T_TMP/failed
T_LABS="$T_LABS $F"
B --lab "$F" scenario break "$T_TMP/bad.scn"; rc=$?
check_eq "a failing step: exit 1" 1 "$rc"
check "... the runner's message names the file and line" grep -q "bad.scn:3: step cert import no-such-cert" "$T_TMP/err"
check "... and says the lab is down and kept, with its path" grep -q "down and kept for inspection: $(cd "$F" && pwd -P)" "$T_TMP/err"
check_eq "... the lab is kept, no process left" "yes:" "$([ -f "$F/lab.db" ] && echo yes):$(lab_pids "$F")"
check "... the line after it did not run" sh -c "! grep -q 'remove-trusted-issuer' '$F/scenario/transcript.log'"

# ---- bad input
B scenario break "$T_TMP/nope.scn"; rc=$?
check_eq "a missing file: exit 2, one line naming it" "2:1" "$rc:$(grep -c nope.scn "$T_TMP/err")"
mkdir -p "$T_TMP/full" && echo keep >"$T_TMP/full/mine"
B --lab "$T_TMP/full" scenario break scenarios/happy-path.scn; rc=$?
check_eq "a DIR that is not empty: exit 2, one line, its file left alone" "2:1:keep" \
    "$rc:$(wc -l <"$T_TMP/err"):$(cat "$T_TMP/full/mine")"
