#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue 18, done-when point 1: every generated exercise is solvable. For GEN_COUNT
# exercises (default 24: every mistake id at each level it belongs to, level 3 on
# several seeds; beyond that, seeds 1000.. at levels 1, 2, 3 in turn), each in a fresh
# lab, two at a time:
#   - `exercise generate --json` (the faults, their findings and machines, the repair);
#   - `exercise start --generate --allow-diagnose` with the same level, seed, mistakes;
#   - diagnose's errors are exactly the faults' findings at their machines;
#   - the ticket names no finding id and none of the fault's words; each VM it says
#     does not open still fails (a balancer's member faults fail only sometimes: not
#     asserted for those);
#   - the breaking change is not the newest thing in the logs: the clock moved after
#     every certificate, store and gateway change, and the last such change is at
#     least an hour (lab clock) before the newest record;
#   - the generator's own repair lines run, `exercise check` says Solved, every VM's
#     console opens, and diagnose names no error.
# Per-exercise timings are printed as # lines.
. "$(dirname "$0")/lib.sh"

COUNT=${GEN_COUNT:-24}
# The first cases: "level mistakes" (seed = the case's number).
BASE="1 m1a
1 m1b
1 m2
1 m3a
1 m3b
1 m4a
1 m4b
1 clock
2 m1a
2 m1b
2 m3a
2 p1
2 p2
2 p4
2 p5
2 p6g
2 p6v
2 p7
3 -
3 -
3 p5,m1a
3 p6g,m1b
3 -
3 -"

W() { "$WAPSIM" "$@"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# The case's level and mistake (or "-"): the table, then levels in turn.
case_of() {
    n=$1
    line=$(echo "$BASE" | sed -n "${n}p")
    if [ -n "$line" ]; then echo "$line"; else echo "$(( (n % 3) + 1 )) -"; fi
}

# run_case N: writes $T_TMP/case$N.res: "ok<TAB>what" / "not ok<TAB>what" / "#<TAB>text".
run_case() {
    n=$1
    set -- $(case_of "$n")
    level=$1 mistake=$2
    seed=$n
    [ "$n" -gt 24 ] && seed=$((1000 + n))
    D=$T_TMP/c$n L=$T_TMP/c$n/lab R=$T_TMP/case$n.res
    mkdir -p "$D"
    : >"$R"
    label="level $level seed $seed"
    [ "$mistake" = - ] || label="$label $mistake"
    res() { printf '%s\t%s\n' "$1" "case $n ($label): $2" >>"$R"; }
    args="--level $level --seed $seed"
    [ "$mistake" = - ] || args="$args --mistake $mistake"
    t0=$(date +%s.%N)
    if ! W lab init "$L" >"$D/init.out" 2>&1 || ! W --lab "$L" up >"$D/up.out" 2>&1; then
        res "not ok" "the lab starts ($(tail -n 1 "$D/init.out" "$D/up.out" | tr '\n' ' '))"
        return
    fi
    # shellcheck disable=SC2086
    W --lab "$L" exercise generate $args --json >"$D/gen.json" 2>"$D/gen.err"
    line=$(json_sql "$D/gen.json" "SELECT json_extract(j, '\$.line') FROM doc")
    t1=$(date +%s.%N)
    # shellcheck disable=SC2086
    if ! W --lab "$L" exercise start --generate $args --allow-diagnose >"$D/ticket" 2>"$D/start.err"; then
        res "not ok" "exercise start --generate ($line: $(head -c 300 "$D/start.err"))"
        W --lab "$L" down >/dev/null 2>&1
        return
    fi
    t2=$(date +%s.%N)
    res "#" "$line: start $(secs "$t1" "$t2") s"
    # while the attempt is active, its history row does not give its faults or seed away
    act_line=$(W --lab "$L" exercise history --json | tr -d '\n\t' | sed -n 's/.*"generated":"\([^"]*\)".*/\1/p')
    case "$act_line" in
    *faults=*|*seed=*|"") res "not ok" "the active attempt's history hides its generator line (got '$act_line')" ;;
    *) res ok "the active attempt's history hides its generator line ($act_line)" ;;
    esac
    want=$(json_sql "$D/gen.json" "SELECT group_concat(f, ',') FROM (SELECT DISTINCT json_extract(value, '\$.finding') || '@' ||
        json_extract(value, '\$.machine') AS f FROM doc, json_each(json_extract(j, '\$.faults')) ORDER BY f)")
    W --lab "$L" diagnose --json >"$D/diag1.json" 2>/dev/null
    got=$(json_sql "$D/diag1.json" "SELECT ifnull(group_concat(f, ','), 'none') FROM (SELECT DISTINCT json_extract(value, '\$.id') || '@' ||
        json_extract(value, '\$.machine') AS f FROM doc, json_each(json_extract(j, '\$.findings'))
        WHERE json_extract(value, '\$.severity') != 'warning' ORDER BY f)")
    [ "$got" = "$want" ] && res ok "diagnose names exactly the faults: $want" ||
        res "not ok" "diagnose names exactly the faults: wanted $want, got $got"
    # the ticket: no finding id, none of the fault's words
    bad=""
    for w in $(json_sql "$D/gen.json" "SELECT json_extract(value, '\$.finding') FROM doc, json_each(json_extract(j, '\$.faults'))") \
        thumbprint Root provider TrustedIssuer PROV_RSA skew forwarder "private key" Personal; do
        grep -qi -- "$w" "$D/ticket" && bad="$bad $w"
    done
    [ -z "$bad" ] && res ok "the ticket names no fault" || res "not ok" "the ticket names no fault (found:$bad)"
    # each VM the ticket says does not open still fails (member faults: only sometimes)
    sqlite3 -batch -noheader "$L/lab.db" "SELECT v.name, s.tenant FROM vms v JOIN subscriptions s ON s.id = v.subscription" >"$D/vms"
    case "$line" in *p1@*|*p2@*) member=1 ;; *) member=0 ;; esac
    nfail=0 wrong=""
    tr -s ' \n' '  ' <"$D/ticket" >"$D/ticket.flat"
    while IFS='|' read -r vm tenant; do
        grep -q "$vm ($tenant) does not open\|$vm ($tenant): when I click Connect in the portal, my browser" "$D/ticket.flat" || continue
        nfail=$((nfail + 1))
        [ "$member" = 1 ] && continue
        W --lab "$L" connect --tenant "$tenant" --vm "$vm" >/dev/null 2>&1 && wrong="$wrong $vm"
    done <"$D/vms"
    [ "$nfail" -gt 0 ] || grep -q "sometimes" "$D/ticket.flat" && res ok "the ticket names failing VMs ($nfail)" ||
        res "not ok" "the ticket names failing VMs: $(tr '\n' ' ' <"$D/ticket" | head -c 300)"
    [ -z "$wrong" ] && res ok "no console the ticket says fails opens" || res "not ok" "consoles the ticket says fail open:$wrong"
    # the breaking change is not the newest record
    W --lab "$L" logs >"$D/logs" 2>/dev/null
    last_change=$(grep -n 'has been deleted from LocalMachine\|has been installed in LocalMachine\| 1010 \| 1011 ' "$D/logs" | tail -n 1 | cut -d: -f1)
    last_clock=$(grep -n 'Kernel-General' "$D/logs" | tail -n 1 | cut -d: -f1)
    if [ -z "$last_change" ] || [ "${last_clock:-0}" -gt "$last_change" ]; then
        ch_t=$(sed -n "${last_change:-1}p" "$D/logs" | cut -c1-19) end_t=$(tail -n 1 "$D/logs" | cut -c1-19)
        gap=$(( $(date -u -d "$end_t" +%s) - $(date -u -d "$ch_t" +%s) ))
        [ -z "$last_change" ] || [ "$gap" -ge 3600 ] && res ok "the last change is ${gap}s before the newest record, the clock moved after it" ||
            res "not ok" "the last change ($ch_t) is only ${gap}s before the newest record ($end_t)"
    else
        res "not ok" "the clock moved after the last change (change at line $last_change, clock at ${last_clock:-none})"
    fi
    # the generator's repair
    json_sql "$D/gen.json" "SELECT value FROM doc, json_each(json_extract(j, '\$.repair'))" >"$D/repair"
    rfail=""
    while IFS= read -r step; do
        eval "W --lab \"\$L\" $step" >>"$D/repair.out" 2>&1 </dev/null || rfail="$rfail [$step]"
    done <"$D/repair"
    [ -z "$rfail" ] && res ok "the repair runs ($(wc -l <"$D/repair") steps)" || res "not ok" "the repair runs:$rfail"
    if W --lab "$L" exercise check >"$D/check" 2>&1 && grep -q '^Solved' "$D/check"; then
        res ok "exercise check: Solved"
    else
        res "not ok" "exercise check: $(tr '\n' ' ' <"$D/check" | head -c 300)"
    fi
    # the starter's generator line is the generate's (shown once the attempt ended)
    got_line=$(W --lab "$L" exercise history --json | tr -d '\n\t' | sed -n 's/.*"generated":"\([^"]*\)".*/\1/p')
    [ "$got_line" = "$line" ] && res ok "the attempt's generator line is generate's ($line)" ||
        res "not ok" "the attempt's generator line '$got_line' is generate's '$line'"
    closed=""
    while IFS='|' read -r vm tenant; do
        W --lab "$L" connect --tenant "$tenant" --vm "$vm" >/dev/null 2>&1 || closed="$closed $vm"
    done <"$D/vms"
    [ -z "$closed" ] && res ok "every VM's console opens" || res "not ok" "consoles still fail:$closed"
    W --lab "$L" diagnose --json >"$D/diag2.json" 2>/dev/null
    after=$(json_sql "$D/diag2.json" "SELECT ifnull(group_concat(id, ','), 'none') FROM (SELECT DISTINCT json_extract(value, '\$.id') AS id
        FROM doc, json_each(json_extract(j, '\$.findings')) WHERE json_extract(value, '\$.severity') != 'warning')")
    check_after=$after
    [ "$check_after" = none ] && res ok "diagnose names nothing after the repair" || res "not ok" "diagnose after the repair: $after"
    W --lab "$L" down >/dev/null 2>&1
    t3=$(date +%s.%N)
    res "#" "$line: whole case $(secs "$t0" "$t3") s"
}

# emit N: the case's TAP lines; for a failed case, its generator's text and ticket as # lines.
emit() {
    failed=0
    while IFS="$(printf '\t')" read -r kind what; do
        case "$kind" in
        ok) ok "$what" ;;
        "not ok") not_ok "$what"; failed=1 ;;
        "#") echo "# $what" ;;
        esac
    done <"$T_TMP/case$1.res"
    [ "$failed" = 1 ] || return 0
    json_sql "$T_TMP/c$1/gen.json" "SELECT json_extract(j, '\$.text') FROM doc" 2>/dev/null | sed 's/^/#   /'
    sed 's/^/#   /' "$T_TMP/c$1/ticket" "$T_TMP/c$1/start.err" 2>/dev/null
}

# usage: a seed is a number from 0 (strtoull alone would take -5 as 2^64 - 5)
W lab init "$T_TMP/u" >/dev/null 2>&1
for bad in -5 " 5" "" 5x; do
    check_exit "exercise generate --seed '$bad': exit 2" 2 "$WAPSIM" --lab "$T_TMP/u" exercise generate --seed "$bad"
done
check_exit "... and --seed 5: exit 0" 0 "$WAPSIM" --lab "$T_TMP/u" exercise generate --seed 5
rm -rf "$T_TMP/u"

t_all=$(date +%s)
i=1
while [ $i -le "$COUNT" ]; do
    j=$((i + 1))
    T_LABS="$T_LABS $T_TMP/c$i/lab $T_TMP/c$j/lab"
    run_case $i &
    p1=$!
    p2=
    if [ $j -le "$COUNT" ]; then run_case $j & p2=$!; fi
    wait $p1
    [ -n "$p2" ] && wait $p2
    emit $i
    [ $j -le "$COUNT" ] && emit $j
    rm -rf "$T_TMP/c$i" "$T_TMP/c$j"
    i=$((j + 1))
done
echo "# $COUNT generated exercises in $(( $(date +%s) - t_all )) s"
