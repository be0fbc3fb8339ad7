#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# wapsim classroom (issue 18): a classroom of 3 seats is made (each a lab on its own /24 with
# its trainee's and the trainer's fabric-admin accounts, classroom.json 0600), started, given
# generated exercises (assign), one seat is repaired and checked: status shows it solved with
# its score. A reset puts a seat's world back in place: the history stays, the portal keeps its
# pid, an active attempt becomes void, a machine the trainee added is gone, the lab clock is the
# baseline's, and every console connects again. results --csv lists the attempts; down and
# destroy leave no process and no folder. Usage errors exit 2 naming the bad value.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export WAPSIM_SCENARIOS="$top/scenarios"
C=$T_TMP/class
C_() { "$WAPSIM" classroom "$@" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null; }
S() { seat=$1; shift; "$WAPSIM" --lab "$C/$seat" "$@" </dev/null; }
for i in 1 2 3; do T_LABS="$T_LABS $C/seat0$i"; done
# status --json's value for a seat: jv seat01 state
jv() { json_sql "$T_TMP/status.json" "SELECT json_extract(value,'\$.$2') FROM doc, json_each(doc.j,'\$.seats') WHERE json_extract(value,'\$.seat') = '$1'"; }
status_json() { "$WAPSIM" classroom status "$C" --json --reveal >"$T_TMP/status.json" 2>/dev/null </dev/null; }

# ---- usage
check_exit "init without --seats: exit 2" 2 "$WAPSIM" classroom init "$C"
check "... naming what is missing" grep -q 'how many seats' "$T_TMP/err"
check_exit "init --seats 100: exit 2" 2 "$WAPSIM" classroom init "$C" --seats 100
check "... naming the value" grep -q "100" "$T_TMP/err"
check_exit "init --level 4: exit 2" 2 "$WAPSIM" classroom init "$C" --seats 3 --level 4
check_exit "status of a folder that is no classroom: exit 2" 2 "$WAPSIM" classroom status "$T_TMP"
check "... naming classroom.json" grep -q 'classroom.json' "$T_TMP/err"
for c in init up down status reset assign results destroy; do
    "$WAPSIM" classroom $c --help >"$T_TMP/help" 2>&1 </dev/null || not_ok "classroom $c --help"
done
check "classroom COMMAND --help for each" grep -q usage "$T_TMP/help"

# ---- init
C_ init "$C" --seats 3 --seed 7; rc=$?
check_eq "classroom init --seats 3: exit 0" 0 "$rc"
check "... prints each seat's admin site, account and password" \
    sh -c "grep -q 'seat03 .*https://portal.contoso.com:30091 (127\.[0-9]*\.3\.10) *CONTOSO.trainee03' '$T_TMP/out'"
check "... and the trainer's" grep -q 'Trainer.*CONTOSO.trainer' "$T_TMP/out"
check_eq "DIR is 0700, classroom.json 0600" "700 600" "$(stat -c %a "$C") $(stat -c %a "$C/classroom.json")"
check "each seat has a baseline" test -f "$C/seat01/baseline.db" -a -f "$C/seat03/baseline.db"
subnets=$(for i in 1 2 3; do sqlite3 "$C/seat0$i/lab.db" "SELECT value FROM lab_meta WHERE key='subnet'"; done | sort -u | wc -l)
check_eq "three seats on three subnets" 3 "$subnets"
check_eq "lab_meta classroom names DIR" "$(cd "$C" && pwd -P)" "$(sqlite3 "$C/seat02/lab.db" "SELECT value FROM lab_meta WHERE key='classroom'")"
check_eq "seat02 has trainee02 and the trainer, fabric-admins" "CONTOSO\\trainee02|fabric-admin CONTOSO\\trainer|fabric-admin" \
    "$(sqlite3 "$C/seat02/lab.db" "SELECT name||'|'||role FROM accounts WHERE name IN ('CONTOSO\\trainee02','CONTOSO\\trainer') ORDER BY name" | tr '\n' ' ' | sed 's/ $//')"
# a trainee's shell in their seat (wapsim --lab DIR/seat02 ...) never shows the trainer's password:
# it signs in to every seat's admin site, whose trainer's page reveals every seat's faults
tpw=$(json_sql "$C/classroom.json" "SELECT json_extract(j, '\$.trainer.password') FROM doc")
S seat02 lab accounts --json >"$T_TMP/seat_accounts" 2>&1
check "the trainer's password is in classroom.json" test -n "$tpw"
check "... and not in a seat: lab accounts there lists the trainer without it" \
    sh -c "grep -q 'CONTOSO..trainer\"' '$T_TMP/seat_accounts' && ! grep -rqF -- '$tpw' '$T_TMP/seat_accounts' '$C/seat02'"
check_exit "init into a classroom that exists: exit 2" 2 "$WAPSIM" classroom init "$C" --seats 3
check "... and it is left whole" test -f "$C/classroom.json"

# ---- up, status
C_ up "$C"; rc=$?
check_eq "classroom up: exit 0" 0 "$rc"
status_json
check_eq "status: every seat running, none has an exercise" "1 none 1 none 1 none" \
    "$(for s in seat01 seat02 seat03; do printf '%s %s ' "$(jv $s running)" "$(jv $s state)"; done | sed 's/ $//')"
check_exit "reset of seat09: exit 2" 2 "$WAPSIM" classroom reset "$C" seat09
check "... naming it" grep -q "seat09" "$T_TMP/err"

# ---- assign: the same generated exercise everywhere (seed 7)
pids_before=$(cat "$C"/seat0[123]/run/portal.pid | tr '\n' ' ')
C_ assign "$C" all --same --seed 7; rc=$?
check_eq "classroom assign all --same --seed 7: exit 0" 0 "$rc"
# the portal serves the seat's admin site: its sessions and the trainer's page's running command
check_eq "... the seats' portals kept their pids (the exercise's history never restarts one)" "$pids_before" \
    "$(cat "$C"/seat0[123]/run/portal.pid | tr '\n' ' ')"
status_json
check_eq "... each seat has an active attempt" "active active active" "$(jv seat01 state) $(jv seat02 state) $(jv seat03 state)"
check_eq "... the same exercise" 1 "$(json_sql "$T_TMP/status.json" "SELECT count(DISTINCT json_extract(value,'\$.exercise')) FROM doc, json_each(doc.j,'\$.seats')")"
faults=$(jv seat01 faults)
check "status --reveal names seat01's fault ($faults)" test -n "$faults"
"$WAPSIM" classroom status "$C" >"$T_TMP/plain" 2>/dev/null </dev/null
check "... and status without --reveal does not" sh -c "! grep -qF -- '$faults' '$T_TMP/plain'"

# ---- a repair in seat01, then check
S seat01 exercise generate --level 1 --seed 7 --json >"$T_TMP/gen.json" 2>/dev/null
json_sql "$T_TMP/gen.json" "SELECT value FROM doc, json_each(doc.j,'\$.repair')" >"$T_TMP/repair"
check "the generator names its repair" test -s "$T_TMP/repair"
while read -r line; do
    # shellcheck disable=SC2086
    S seat01 $line >/dev/null 2>&1
done <"$T_TMP/repair"
S seat01 exercise check >"$T_TMP/check" 2>&1; rc=$?
check_eq "exercise check in seat01 after the repair: exit 0" 0 "$rc"
status_json
check_eq "status: seat01 solved with score 100, one check; seat02 still active" "solved 100 1 active" \
    "$(jv seat01 state) $(jv seat01 score) $(jv seat01 checks) $(jv seat02 state)"

# ---- reset
portal1=$(cat "$C/seat01/run/portal.pid")
portal2=$(cat "$C/seat02/run/portal.pid")
S seat02 fabric add-gateway rdgw02 >/dev/null 2>&1
S seat02 clock advance 3d >/dev/null 2>&1
check "seat02 has rdgw02 before the reset" sh -c "'$WAPSIM' --lab '$C/seat02' status | grep -q rdgw02"
C_ reset "$C" seat01 seat02; rc=$?
check_eq "classroom reset seat01 seat02: exit 0" 0 "$rc"
check_eq "... the portals kept their pids" "$portal1 $portal2" "$(cat "$C/seat01/run/portal.pid") $(cat "$C/seat02/run/portal.pid")"
status_json
check_eq "... seat01's history stays (1 attempt, solved)" "1 1 solved" "$(jv seat01 attempts) $(jv seat01 solved) $(jv seat01 state)"
check_eq "... seat02's active attempt is void" "void" "$(jv seat02 state)"
check "... rdgw02 is gone" sh -c "! '$WAPSIM' --lab '$C/seat02' status | grep -q rdgw02"
procs=$(for p in $(lab_pids "$C/seat02"); do tr '\0' ' ' <"/proc/$p/cmdline"; echo; done)
check "... and its process" sh -c "! echo '$procs' | grep -q -- '--machine rdgw02'"
check "... while seat02's other machines run" sh -c "echo '$procs' | grep -q -- '--machine rdgw01'"
check "... the lab clock is the baseline's" sh -c "'$WAPSIM' --lab '$C/seat02' clock show | grep -q 'offset +0s'"
check "... seat02's machines are all healthy" sh -c "'$WAPSIM' --lab '$C/seat02' status | awk 'NR>2 && \$5 != \"yes\" { bad=1 } END { exit bad }'"
ok_all=1
for vm in web01:alice db01:alice app01:bob; do
    S seat02 connect --vm "${vm%%:*}" --tenant "${vm##*:}" >/dev/null 2>&1 || ok_all=0
done
check_eq "... every console of the reset seat connects" 1 "$ok_all"
check_eq "... the world is the baseline's: seat02 needs no reset now" "" \
    "$("$WAPSIM" classroom assign "$C" seat02 2>&1 </dev/null | grep 'classroom reset: seat02')"
# a service the trainee stopped leaves the database as the baseline's: the seat is not fresh
S seat01 service stop rdgw01 >/dev/null 2>&1
"$WAPSIM" classroom assign "$C" seat01 >"$T_TMP/assign1" 2>&1 </dev/null
check "a seat with a stopped service is reset before its exercise" grep -q 'classroom reset: seat01' "$T_TMP/assign1"
check "... and the service runs again" sh -c "'$WAPSIM' --lab '$C/seat01' status | grep rdgw01 | grep -q yes"

# ---- results
C_ results "$C" --csv; rc=$?
check_eq "results --csv: exit 0" 0 "$rc"
check_eq "... the header" "seat,account,attempt,exercise,level,generated,started_utc,ended_utc,minutes,hints,checks,outcome,score" \
    "$(head -n 1 "$T_TMP/out" | tr -d '\r')"
check "... seat01's attempt solved with 100" sh -c "grep -q '^seat01,CONTOSO.trainee01,1,.*,solved,100' '$T_TMP/out'"
check_eq "... one row per attempt (3 + seat02's and seat01's new ones)" 6 "$(wc -l <"$T_TMP/out")"

# ---- down, destroy
C_ down "$C"; rc=$?
check_eq "classroom down: exit 0" 0 "$rc"
left=""
for i in 1 2 3; do left="$left$(lab_pids "$C/seat0$i")"; done
check_eq "... no process of any seat is left" "" "$left"
mkdir "$T_TMP/notclass"
check_exit "destroy of a folder that is no classroom: exit 2" 2 "$WAPSIM" classroom destroy "$T_TMP/notclass"
check "... and it is left" test -d "$T_TMP/notclass"
abs=$(cd "$C" && pwd -P)
C_ destroy "$C"; rc=$?
check_eq "classroom destroy: exit 0" 0 "$rc"
check "... the folder is gone" test ! -e "$abs"
