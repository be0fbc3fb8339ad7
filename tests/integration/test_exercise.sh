#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# wapsim exercise: training on a running lab. An exercise at each level (1: a shipped mistake
# scenario with a ticket; 2: one host only; 3: two faults) is started, shows only its ticket,
# leaves no name of the fault in logs, status, cert list or lab.db; diagnose is refused (unless
# --allow-diagnose); a hint costs points; check fails before the repair and after a wrong one,
# and passes with a score after the right operator commands. Restoring a copy of lab.db voids
# the attempt; --seed picks the same exercise twice; give-up reveals the repair; history lists
# the attempts.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export WAPSIM_SCENARIOS="$top/scenarios"
L=$T_TMP/lab
X() { "$WAPSIM" --lab "$L" exercise "$@" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null; }
W() { "$WAPSIM" --lab "$L" "$@" >/dev/null 2>&1 </dev/null; }
tp() { "$WAPSIM" --lab "$L" cert show "$1" --json 2>/dev/null | sed -n 's/.*"thumbprint":[[:space:]]*"\([0-9A-F]*\)".*/\1/p' | head -n 1; }

new_lab "$L" && W up
# The tenant's PC trusts the hosts' own certificates: no host-cert-untrusted warning in diagnose.
for h in hv01 hv02; do "$WAPSIM" --lab "$L" cert import $h-selfsigned --machine client --store Root --public-only >/dev/null 2>&1; done
check "the lab is up" W status

# ---- the catalogue
X list; rc=$?
check_eq "exercise list exits 0" 0 "$rc"
count=$(sed -n 's/^\([0-9]*\) exercises$/\1/p' "$T_TMP/out")
check "... lists the 7 shipped mistakes and the 3 exercises/ files ($count)" test "${count:-0}" -ge 10
check "... with levels 1, 2 and 3" sh -c "grep -Eq ' 1\$' '$T_TMP/out' && grep -Eq ' 2\$' '$T_TMP/out' && grep -Eq ' 3\$' '$T_TMP/out'"
check "... and no titles without --trainer" sh -c "! grep -q 'gateway' '$T_TMP/out'"
X list --trainer
check "exercise list --trainer shows titles" grep -q 'not trusted on hv02' "$T_TMP/out"
X list --reveal
check "exercise list --reveal (for a trainer) shows titles" grep -q 'not trusted on hv02' "$T_TMP/out"
check "... and files" grep -q 'exercises/l2-vmm-cert-not-trusted-on-hv02.scn' "$T_TMP/out"
"$WAPSIM" exercise list --json >"$T_TMP/list.json" 2>/dev/null </dev/null
check_eq "list --json: every exercise has a level 1..3 and no title" "0|0" \
    "$(json_sql "$T_TMP/list.json" "SELECT sum(json_extract(value,'$.level') NOT BETWEEN 1 AND 3) || '|' ||
        sum(json_type(value,'$.title') IS NOT NULL) FROM doc, json_each(doc.j)")"
"$WAPSIM" exercise list --json --reveal >"$T_TMP/list.json" 2>/dev/null </dev/null
check_eq "list --json --reveal: the titles (the pitfall 7 exercises' at levels 2 and 3)" "2|3" \
    "$(json_sql "$T_TMP/list.json" "SELECT group_concat(json_extract(value,'$.level'), '|') FROM doc, json_each(doc.j)
        WHERE json_extract(value,'$.title') LIKE '%VMMS not restarted%'")"
X list --level 3
check "list --level 3: only level 3 exercises" sh -c "grep -q ' 3\$' '$T_TMP/out' && ! grep -Eq ' [12]\$' '$T_TMP/out'"
X start --reveal
check_eq "--reveal is list's: exercise start --reveal exits 2" 2 "$?"
check "... naming the option" grep -q "'--reveal' does not apply to exercise start" "$T_TMP/err"
# An exercise without a level tag takes its level from its file name (exercises/l2-..., l3-...).
mkdir -p "$T_TMP/cat/exercises"
sed '/^tags/d' scenarios/exercises/l2-vmm-cert-not-trusted-on-hv02.scn >"$T_TMP/cat/exercises/l3-untagged.scn"
sed '/^tags/d' scenarios/exercises/l2-vmm-cert-not-trusted-on-hv02.scn >"$T_TMP/cat/exercises/other.scn"
"$WAPSIM" exercise list --json --reveal --catalogue "$T_TMP/cat" >"$T_TMP/list.json" 2>/dev/null </dev/null
check_eq "untagged: l3-untagged.scn is level 3, other.scn level 1" "l3-untagged.scn=3|other.scn=1" \
    "$(json_sql "$T_TMP/list.json" "SELECT group_concat(replace(json_extract(value,'$.file'), '$T_TMP/cat/exercises/', '')
        || '=' || json_extract(value,'$.level'), '|') FROM (SELECT value FROM doc, json_each(doc.j)
        ORDER BY json_extract(value,'$.file'))")"

# no_names FILE TITLE: nothing the trainee sees or lab.db holds names the fault.
no_names() {
    name=$(basename "$1" .scn)
    W logs >"$T_TMP/seen" 2>&1
    "$WAPSIM" --lab "$L" status >>"$T_TMP/seen" 2>&1
    "$WAPSIM" --lab "$L" cert list >>"$T_TMP/seen" 2>&1
    "$WAPSIM" --lab "$L" logs >>"$T_TMP/seen" 2>&1
    sqlite3 "$L/lab.db" .dump >>"$T_TMP/seen" 2>&1
    cat "$L/exercise.active" >>"$T_TMP/seen" 2>&1
    ! grep -qF -e "$name" -e "$2" "$T_TMP/seen"
}

# ---- level 1: m1b (hv01's Trusted Root)
m1b=scenarios/m1b-vmm-cert-not-in-host-trusted-root.scn
X start --scenario "$m1b"; rc=$?
check_eq "level 1: exercise start --scenario m1b exits 0" 0 "$rc"
check "... prints the ticket" grep -q 'Connect for web01' "$T_TMP/out"
check "... and not the title" sh -c "! grep -q 'not trusted on hv01' '$T_TMP/out'"
check "... nothing in logs, status, cert list or lab.db names the fault" no_names "$m1b" "The self-signed VMM certificate is not trusted on hv01"
"$WAPSIM" --lab "$L" diagnose >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
check_eq "diagnose is refused during the exercise (exit 2)" 2 "$rc"
check_eq "... in one line" 1 "$(wc -l <"$T_TMP/err")"
X start --level 1
check_eq "a second start is refused while one is in progress" 2 "$?"
X hint; rc=$?
check_eq "exercise hint exits 0" 0 "$rc"
check "... hint 1 names the hop where web01's client stops" grep -q 'web01 (alice): the client stops at the portal hop' "$T_TMP/out"
X status
check "exercise status: level 1, 1 of 3 hints, score 85" grep -q 'level 1,.*1 of 3 hints used, score if solved now 85' "$T_TMP/out"
X check; rc=$?
check_eq "check before the repair fails (exit 1)" 1 "$rc"
check "... naming web01" grep -q 'web01 (alice): stops at portal' "$T_TMP/out"
W service restart vmm01
X check; rc=$?
check_eq "a wrong repair (restart VMM) is not accepted" 1 "$rc"
W cert import vmm-console --machine hv01 --store Root --public-only
X check; rc=$?
check_eq "the right repair: check passes" 0 "$rc"
check "... with the score (85: one hint)" grep -q 'Score: 85' "$T_TMP/out"
check "... and what the fault was" grep -q 'The fault: The self-signed VMM certificate is not trusted on hv01' "$T_TMP/out"
"$WAPSIM" --lab "$L" diagnose >/dev/null 2>&1; rc=$?
check_eq "diagnose runs again once the exercise is over (no findings)" 0 "$rc"
X check
check_eq "check without an exercise exits 2" 2 "$?"

# ---- level 2: only hv02's Root store, with --allow-diagnose
l2=scenarios/exercises/l2-vmm-cert-not-trusted-on-hv02.scn
X start --scenario "$l2" --allow-diagnose; rc=$?
check_eq "level 2: exercise start --scenario (hv02 only) --allow-diagnose exits 0" 0 "$rc"
check "... prints the ticket" grep -q 'Connect for db01' "$T_TMP/out"
check "... nothing names the fault" no_names "$l2" "not trusted on hv02"
"$WAPSIM" --lab "$L" diagnose --json >"$T_TMP/out" 2>&1; rc=$?
check_eq "diagnose is allowed with --allow-diagnose (exit 1: a finding)" 1 "$rc"
X check; rc=$?
check_eq "check fails before the repair" 1 "$rc"
check "... db01 and app01 fail, web01 not" sh -c "grep -q '^  db01' '$T_TMP/out' && grep -q '^  app01' '$T_TMP/out' && ! grep -q '^  web01' '$T_TMP/out'"
W vmm refresh-host hv02
W cert import vmm-console --machine hv01 --store Root --public-only
X check; rc=$?
check_eq "a wrong repair (refresh hv02, import on hv01) is not accepted" 1 "$rc"
W cert import vmm-console --machine hv02 --store Root --public-only
X check; rc=$?
check_eq "the right repair (import into hv02's Root): check passes" 0 "$rc"
check "... score 100 without hints" grep -q 'Score: 100' "$T_TMP/out"

# ---- level 3: two faults
l3=scenarios/exercises/l3-gateway-issuer-and-hv02-root.scn
X start --scenario "$l3"; rc=$?
check_eq "level 3: exercise start --scenario (two faults) exits 0" 0 "$rc"
check "... nothing names the fault" no_names "$l3" "Two faults"
X hint; X hint; X hint; rc=$?
check_eq "three hints" 0 "$rc"
check "... hint 3 names both finding ids" sh -c "grep -q gateway-issuer-not-trusted '$T_TMP/out' && grep -q vmm-cert-not-trusted-on-host '$T_TMP/out'"
X hint
check_eq "... and there is no fourth" 1 "$?"
W gateway set --add-trusted-issuer "$(tp vmm-console)"
X check; rc=$?
check_eq "one of the two repairs is not enough" 1 "$rc"
check "... db01 and app01 still fail" sh -c "grep -q '^  db01' '$T_TMP/out' && grep -q '^  app01' '$T_TMP/out'"
W cert import vmm-console --machine hv02 --store Root --public-only
X check; rc=$?
check_eq "both repairs: check passes" 0 "$rc"
check "... score 20 after three hints" grep -q 'Score: 20' "$T_TMP/out"

# ---- a reset voids the attempt: lab.db restored from a copy made before the start
W down
sqlite3 "$L/lab.db" ".backup '$T_TMP/saved.db'"
W up
X start --level 2 --seed 7; rc=$?
check_eq "exercise start --level 2 --seed 7 exits 0" 0 "$rc"
check "... prints a level 2 ticket" grep -q '^Ticket (level 2' "$T_TMP/out"
W down
cp "$T_TMP/saved.db" "$L/lab.db" && rm -f "$L/lab.db-wal" "$L/lab.db-shm"
W up
X check; rc=$?
check_eq "after restoring lab.db, check fails (exit 1)" 1 "$rc"
check "... the attempt is void" grep -q 'is void' "$T_TMP/out"
X status
check_eq "... and it is over (status: no exercise)" 2 "$?"

# ---- --seed picks the same exercise; give-up reveals the fault and its repair
X start --level 1 --seed 3
first=$(sed -n 's/^Ticket (level 1, exercise \([0-9a-f]*\)).*/\1/p' "$T_TMP/out")
X give-up; rc=$?
check_eq "exercise give-up exits 0" 0 "$rc"
check "... reveals the fault" grep -q '^The fault: ' "$T_TMP/out"
check "... and the repair commands" grep -q '^  wapsim ' "$T_TMP/out"
cp "$T_TMP/out" "$T_TMP/gaveup"
# Undo the break with the revealed repair (facts expanded by hand for the lab's certificate).
thumb=$(tp vmm-console)
sed -n 's/^  wapsim //p' "$T_TMP/gaveup" | sed "s/\${thumbprint:vmm-console}/$thumb/g" >"$T_TMP/repair"
while read -r line; do eval "W $line"; done <"$T_TMP/repair"
X start --level 1 --seed 3
second=$(sed -n 's/^Ticket (level 1, exercise \([0-9a-f]*\)).*/\1/p' "$T_TMP/out")
check "the same --seed picks the same exercise ($first)" test -n "$first" -a "$first" = "$second"
X give-up

# ---- history
X history; rc=$?
check_eq "exercise history exits 0" 0 "$rc"
# The void attempt's row went with the replaced lab.db: 3 solved + 2 given up.
check_eq "... lists the 5 attempts the lab.db holds" "5 attempts" "$(tail -n 1 "$T_TMP/out")"
check "... with outcomes solved and given-up and scores" sh -c "grep -q 'solved.*85' '$T_TMP/out' && grep -q 'solved.*100' '$T_TMP/out' && grep -q 'given-up' '$T_TMP/out'"
"$WAPSIM" --lab "$L" exercise history --json >"$T_TMP/h.json" 2>/dev/null
check_eq "history --json: levels of the attempts" "1,2,3,1,1" "$(json_sql "$T_TMP/h.json" "SELECT group_concat(json_extract(value,'\$.level')) FROM doc, json_each(doc.j)")"

W down

# ---- level 2, pitfall 7: hv02 refreshed, its service not restarted (a lab of its own: the break
# makes a certificate)
L=$T_TMP/lab-p7
new_lab "$L" && W up
p7=scenarios/exercises/l2-new-console-cert-hv02-vmms-not-restarted.scn
X start --scenario "$p7"; rc=$?
check_eq "pitfall 7 at level 2: exercise start exits 0" 0 "$rc"
check "... nothing names the fault" no_names "$p7" "VMMS not restarted"
X check; rc=$?
check_eq "... check fails before the repair" 1 "$rc"
check "... db01 and app01 fail, web01 not" sh -c "grep -q '^  db01' '$T_TMP/out' && grep -q '^  app01' '$T_TMP/out' && ! grep -q '^  web01' '$T_TMP/out'"
W vmm refresh-host hv02
X check; rc=$?
check_eq "... refreshing hv02 again is not the repair" 1 "$rc"
W service restart hv02
X check; rc=$?
check_eq "... restarting hv02's service is: check passes" 0 "$rc"
W down
echo "1..$T_N"
