#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The VM console: the tenant's client runs the RDP connection sequence to the first
# frame, which must equal the host's own frame; typed keys appear; the administrator's
# path; one console per VM (a second connection takes it over).
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >/dev/null 2>&1 || { not_ok "up"; exit 1; }
connect_json() { name=$1; shift; W connect --json "$@" >"$T_TMP/$name.json" 2>"$T_TMP/$name.err"; }
field() { json_sql "$T_TMP/$1.json" "SELECT json_extract(j,'$.$2') FROM doc"; }

# ---- 1. the three tenants reach the console; the screenshot equals the host's frame
for pair in alice:web01 alice:db01 bob:app01; do
    t=${pair%%:*} v=${pair#*:}
    connect_json "$v" --tenant "$t" --vm "$v" --screenshot "$T_TMP/$v.ppm"
    check_eq "$t reaches the console of $v" "1|console" "$(field "$v" ok)|$(field "$v" stage)"
    check "... and the screenshot equals the host's frame, pixel for pixel" cmp -s "$T_TMP/$v.ppm" "$L/console/$v.ppm"
done
check "the two screens differ (Windows sign-in and Linux tty1)" sh -c "! cmp -s '$T_TMP/web01.ppm' '$T_TMP/db01.ppm'"
check "the host's frame is 640x400 (80x25 cells of 8x16)" sh -c "head -c 15 '$L/console/web01.ppm' | grep -q '640 400'"

# ---- 2. typed keys appear in the next frame
connect_json typed --tenant alice --vm db01 --type root --screenshot "$T_TMP/typed.ppm"
check_eq "typing on db01's console works" "1|console" "$(field typed ok)|$(field typed stage)"
check "the frame after typing differs from the first" sh -c "! cmp -s '$T_TMP/typed.ppm' '$T_TMP/db01.ppm'"
check "... and equals the host's newest frame" cmp -s "$T_TMP/typed.ppm" "$L/console/db01.ppm"

# ---- 3. the administrator's path (as VMConnect): straight to the host with credentials
connect_json admin --admin --vm web01 --screenshot "$T_TMP/admin.ppm"
check_eq "the fabric administrator reaches web01's console straight at hv01" "1|console" "$(field admin ok)|$(field admin stage)"
check "... and sees the host's frame" cmp -s "$T_TMP/admin.ppm" "$L/console/web01.ppm"
connect_json badadmin --admin --vm web01 --password wrong-password
check_eq "a wrong administrator password is refused" "0" "$(field badadmin ok)"
connect_json old --tenant alice --vm web01 --client 8.0
check_eq "a tenant's client before 8.1 is refused at the host" "0|host-auth" "$(field old ok)|$(field old stage)"
check "... with the reason in hv01's log" sh -c "'$WAPSIM' --lab '$L' logs --machine hv01 | grep -q 'RDP client 8.1 or later required'"

# ---- 4. one console per VM: a second connection ends the first
W connect --json --tenant alice --vm web01 --hold 15 >"$T_TMP/first.json" 2>&1 &
first=$!
i=0
while [ $i -lt 100 ] && ! sqlite3 "$L/lab.db" ".timeout 5000" "SELECT 1 FROM sessions s JOIN vms v ON upper(v.id)=upper(s.vm) WHERE v.name='web01' AND s.state='active'" | grep -q 1; do
    sleep 0.1; i=$((i + 1))
done
connect_json second --admin --vm web01
check_eq "the second connection gets web01's console" "1|console" "$(field second ok)|$(field second stage)"
wait $first
check_eq "the first connection is ended by the second" "0|console" "$(field first ok)|$(field first stage)"
check "... and its client says why: DISCONNECTED_BY_OTHERCONNECTION" grep -q 'DISCONNECTED_BY_OTHERCONNECTION' "$T_TMP/first.json"
check "hv01's log records the takeover" sh -c "'$WAPSIM' --lab '$L' logs --machine hv01 | grep -qi 'another console connection'"

W status --json >"$T_TMP/status.json"
check_eq "no process restarted" 0 "$(json_sql "$T_TMP/status.json" "SELECT sum(json_extract(value,'$.restarts')) FROM doc, json_each(doc.j,'$.machines')")"
W down >/dev/null 2>&1
