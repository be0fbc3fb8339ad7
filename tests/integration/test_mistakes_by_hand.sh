#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The shipped mistakes, produced and repaired by hand: each scenario's step lines are typed as
# plain wapsim commands and each connect line as `wapsim connect` (no scenario runner), and the
# tenant's client must stop where the scenario says. No component knows which mistake is shown.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
n=0

# run_step ARGS: one operator command, ${thumbprint:NAME} read as an operator would.
run_step() {
    args=$1
    while printf '%s' "$args" | grep -q '\${thumbprint:'; do
        cert=$(printf '%s' "$args" | sed -n 's/.*\${thumbprint:\([^}]*\)}.*/\1/p')
        tp=$(sqlite3 "$L/lab.db" ".timeout 5000" "SELECT thumbprint FROM certificates WHERE name='$cert'")
        args=$(printf '%s' "$args" | sed "s/\${thumbprint:$cert}/$tp/")
    done
    eval "\"\$WAPSIM\" --lab \"\$L\" $args" >/dev/null 2>&1 </dev/null
}

# do_connect: the tenant's client, now (before the lines after it change anything).
do_connect() {
    "$WAPSIM" --lab "$L" connect --json --tenant "$tenant" --vm "$vm" >"$T_TMP/c.json" 2>/dev/null
    got_stage=$(json_sql "$T_TMP/c.json" "SELECT json_extract(j,'$.stage') FROM doc")
    got_code=$(json_sql "$T_TMP/c.json" "SELECT json_extract(j,'$.code') FROM doc")
}

# check_connect: the last connect against what its block expects (its stage, and its code
# when the scenario names one; a block without a stage expects the console).
check_connect() {
    [ -n "$tenant" ] || return 0
    [ -n "$want_stage" ] || want_stage=console
    if [ -n "$want_code" ]; then
        check_eq "$name: by hand, $tenant/$vm (connection $k) stops at $want_stage with $want_code" \
            "$want_stage|$want_code" "$got_stage|$got_code"
    else
        check_eq "$name: by hand, $tenant/$vm (connection $k) reaches $want_stage" "$want_stage" "$got_stage"
    fi
}

for scn in "$top"/scenarios/m*.scn; do
    name=$(basename "$scn" .scn)
    n=$((n + 1))
    L=$T_TMP/lab$n
    new_lab "$L" || { not_ok "$name: lab init"; continue; }
    "$WAPSIM" --lab "$L" up >/dev/null 2>&1 || { not_ok "$name: up"; continue; }
    tenant="" vm="" want_stage="" want_code="" k=0 failed=""
    while IFS= read -r line; do
        case "$line" in
        "step "*) run_step "${line#step }" || failed="$failed [${line#step }]" ;;
        "connect "*)
            check_connect
            k=$((k + 1))
            tenant=$(printf '%s' "$line" | sed -n 's/.*tenant=\([^ ]*\).*/\1/p')
            vm=$(printf '%s' "$line" | sed -n 's/.*vm=\([^ ]*\).*/\1/p')
            want_stage="" want_code=""
            do_connect ;;
        "expect connect.stage = "*) want_stage=${line#expect connect.stage = } ;;
        "expect connect.code = "*) want_code=${line#expect connect.code = } ;;
        esac
    done <"$scn"
    check_connect
    check_eq "$name: every operator command ran" "" "$failed"
    "$WAPSIM" --lab "$L" down >/dev/null 2>&1
done
check "all seven mistakes were tried" test "$n" -eq 7
