#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# service restart | stop | start: the supervisor stops and starts a machine's process
# for the operator (no crash: 7036 stopped and running, no 7031, restarts unchanged),
# keeps a stopped one down, restarts every machine in order, rebinds the gateway's SSL
# certificate at restart; refusals; up and down around stopped services.
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
W="$WAPSIM --lab $L"
quiet() { "$@" >/dev/null 2>&1; }

# status_of MACHINE FIELD: one field of a machine in `status --json`.
status_of() {
    $W status --json >"$T_TMP/st.json" 2>/dev/null
    json_sql "$T_TMP/st.json" "SELECT json_extract(value,'\$.$2') FROM doc, json_each(doc.j,'\$.machines') WHERE json_extract(value,'\$.name')='$1'"
}
restarts_sum() {
    $W status --json >"$T_TMP/st.json" 2>/dev/null
    json_sql "$T_TMP/st.json" "SELECT total(json_extract(value,'\$.restarts')) FROM doc, json_each(doc.j,'\$.machines')"
}
last_event_id() { sqlite3 "$L/lab.db" ".timeout 5000" "SELECT coalesce(max(id),0) FROM events"; }
# events_since ID MACHINE EVENT_ID [TEXT LIKE]: how many such System events after ID.
events_since() {
    sqlite3 "$L/lab.db" ".timeout 5000" "SELECT count(*) FROM events WHERE id>$1 AND machine='$2' AND channel='System' AND source='Service Control Manager' AND event_id=$3 AND text LIKE '${4:-%}'"
}
# Processes of the lab that run a machine (its command line has --machine NAME).
machine_pids() {
    for p in $(lab_pids "$L"); do
        if tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | grep -qx -- "$1"; then echo "$p"; fi
    done
}
# The SHA-1 thumbprint of the certificate the gateway serves.
served_thumbprint() {
    addr=$(sqlite3 "$L/lab.db" "SELECT address FROM machines WHERE name='rdgw01'")
    openssl s_client -connect "$addr:8443" -servername rdgw.contoso.com </dev/null 2>/dev/null |
        openssl x509 -noout -fingerprint -sha1 2>/dev/null | sed 's/.*=//; s/://g'
}

check "lab init" new_lab "$L"

# ---- the lab must be up
check_exit "service restart is refused while the lab is down" 1 $W service restart rdgw01
check "... in one line: the lab is not running (wapsim up)" sh -c \
    "[ \$(wc -l <'$T_TMP/err') -eq 1 ] && grep -q 'the lab is not running (wapsim up)' '$T_TMP/err'"
check_exit "service start all is refused while the lab is down" 1 $W service start all
check "up" quiet $W up

# ---- restart: a new pid, healthy when the command returns, 7036 stopped then running, no 7031
old=$(status_of rdgw01 pid)
sum0=$(restarts_sum)
mark=$(last_event_id)
check_exit "service restart rdgw01" 0 $W service restart rdgw01 --json
cp "$T_TMP/out" "$T_TMP/restart.json"
new=$(status_of rdgw01 pid)
check "restart changes the gateway's pid ($old -> $new)" test -n "$new" -a "$new" != "$old" -a "$new" != null
check_eq "the gateway is healthy when restart returns" 1 "$(status_of rdgw01 healthy)"
check_eq "--json says restarted, with the old and new pid" "restarted|$old|$new|1" \
    "$(json_sql "$T_TMP/restart.json" "SELECT json_extract(value,'\$.result')||'|'||json_extract(value,'\$.old_pid')||'|'||json_extract(value,'\$.pid')||'|'||json_extract(value,'\$.healthy') FROM doc, json_each(doc.j,'\$.machines')")"
check_eq "7036 'entered the stopped state' is logged on rdgw01" 1 \
    "$(events_since "$mark" rdgw01 7036 'The Remote Desktop Gateway service entered the stopped state.')"
check_eq "7036 'entered the running state' is logged after it" 1 \
    "$(sqlite3 "$L/lab.db" "SELECT count(*) FROM events a JOIN events b ON b.id>a.id WHERE a.id>$mark AND a.machine='rdgw01' AND b.machine='rdgw01' AND a.event_id=7036 AND b.event_id=7036 AND a.text LIKE '%stopped state.' AND b.text LIKE '%running state.'")"
check_eq "a restart is no crash: no 7031" 0 "$(events_since "$mark" rdgw01 7031)"
check_eq "a restart is no crash: restart counts unchanged" "$sum0" "$(restarts_sum)"

# ---- the gateway binds its SSL certificate at start, and keeps it until restarted
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_TMP/gw2.key" -out "$T_TMP/gw2.pem" -days 30 \
    -subj /CN=rdgw.contoso.com -addext subjectAltName=DNS:rdgw.contoso.com 2>/dev/null
openssl x509 -in "$T_TMP/gw2.pem" -outform DER -out "$T_TMP/gw2.der"
openssl pkcs8 -topk8 -nocrypt -in "$T_TMP/gw2.key" -outform DER -out "$T_TMP/gw2.key.der"
tp2=$(openssl x509 -in "$T_TMP/gw2.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
tp1=$(served_thumbprint)
sqlite3 "$L/lab.db" ".timeout 5000" \
    "INSERT INTO certificates(name, thumbprint, der, key_der, csp, created_at) VALUES('rdgw-ssl-2', '$tp2', readfile('$T_TMP/gw2.der'), readfile('$T_TMP/gw2.key.der'), NULL, strftime('%s','now'))" \
    "INSERT INTO store_entries VALUES('rdgw01','My','rdgw-ssl-2',1)" \
    "UPDATE settings SET value='rdgw-ssl-2' WHERE scope='rdgw01' AND key='ssl_cert'"
check "the gateway serves a certificate before the change" test -n "$tp1" -a "$tp1" != "$tp2"
check_eq "a changed binding is not taken before a restart" "$tp1" "$(served_thumbprint)"
check "service restart rdgw01 after the binding changed" quiet $W service restart rdgw01
check "the gateway's start line names the new certificate and thumbprint" \
    grep -q "rdgw01 running on .*SSL certificate rdgw-ssl-2 ($tp2) bound" "$L/log/rdgw01.log"
check_eq "the restarted gateway serves the new certificate" "$tp2" "$(served_thumbprint)"

# ---- stop: not running, and the supervisor keeps it down; start brings it back
old=$(status_of hv01 pid)
sum0=$(restarts_sum)
mark=$(last_event_id)
check_exit "service stop hv01" 0 $W service stop hv01
check "... says it stopped" grep -q "^hv01: .* stopped (pid $old)" "$T_TMP/out"
check_eq "status: hv01 has no pid (null) and is not healthy" "|0" "$(status_of hv01 pid)|$(status_of hv01 healthy)"
check_eq "7036 'entered the stopped state' is logged on hv01" 1 \
    "$(events_since "$mark" hv01 7036 'The Hyper-V Virtual Machine Management service entered the stopped state.')"
sleep 1.2
check_eq "hv01 is still down 1.2 s later (the supervisor does not restart it)" "|0" "$(status_of hv01 pid)|$(status_of hv01 healthy)"
check_eq "... and no process runs hv01" "" "$(machine_pids hv01)"
check_eq "a stop is no crash: no 7031" 0 "$(events_since "$mark" hv01 7031)"
check_eq "a stop is no crash: restart counts unchanged" "$sum0" "$(restarts_sum)"
check_eq "the other machines keep running" 5 \
    "$(json_sql "$T_TMP/st.json" "SELECT count(*) FROM doc, json_each(doc.j,'\$.machines') WHERE json_extract(value,'\$.healthy')=1")"
check_exit "service stop of a stopped service succeeds" 0 $W service stop hv01
check "... saying it was already stopped" grep -q "was already stopped" "$T_TMP/out"
check_exit "service start hv01" 0 $W service start hv01
check_eq "hv01 is healthy when start returns" 1 "$(status_of hv01 healthy)"
check_eq "7036 'entered the running state' is logged on hv01" 1 \
    "$(events_since "$mark" hv01 7036 '%entered the running state.')"
check_exit "service start of a running service succeeds" 0 $W service start hv01
check "... saying it was already running" grep -q "was already running" "$T_TMP/out"

# ---- restart all: every machine, stopped in reverse order and started in order
$W status --json >"$T_TMP/before.json"
sum0=$(restarts_sum)
mark=$(last_event_id)
check_exit "service restart all" 0 $W service restart all --json
cp "$T_TMP/out" "$T_TMP/all.json"
check_eq "--json lists six machines restarted and healthy" 6 \
    "$(json_sql "$T_TMP/all.json" "SELECT count(*) FROM doc, json_each(doc.j,'\$.machines') WHERE json_extract(value,'\$.result')='restarted' AND json_extract(value,'\$.healthy')=1")"
$W status --json >"$T_TMP/after.json"
check_eq "every machine has a new pid and is healthy" 6 "$(sqlite3 -batch -noheader :memory: \
    "SELECT count(*) FROM json_each(readfile('$T_TMP/before.json'),'\$.machines') b JOIN json_each(readfile('$T_TMP/after.json'),'\$.machines') a ON json_extract(a.value,'\$.name')=json_extract(b.value,'\$.name') WHERE json_extract(a.value,'\$.pid')!=json_extract(b.value,'\$.pid') AND json_extract(a.value,'\$.healthy')=1")"
check_eq "stopped in reverse order: hv02 first, the portal last" "hv02 portal" \
    "$(sqlite3 "$L/lab.db" "SELECT machine FROM events WHERE id>$mark AND event_id=7036 AND text LIKE '%stopped state.' ORDER BY id" | sed -n '1p;$p' | tr '\n' ' ' | sed 's/ $//')"
check_eq "started in order: the portal first, hv02 last" "portal hv02" \
    "$(sqlite3 "$L/lab.db" "SELECT machine FROM events WHERE id>$mark AND event_id=7036 AND text LIKE '%running state.' ORDER BY id" | sed -n '1p;$p' | tr '\n' ' ' | sed 's/ $//')"
check_eq "no 7031 for restart all" 0 "$(sqlite3 "$L/lab.db" "SELECT count(*) FROM events WHERE id>$mark AND event_id=7031")"
check_eq "restart counts unchanged by restart all" "$sum0" "$(restarts_sum)"

# ---- a crash after an operator's restart is still a crash
old=$(status_of vmm01 pid)
mark=$(last_event_id)
kill -9 "$old"
i=0
while [ $i -lt 40 ]; do  # 40 x 50 ms = 2 s
    sleep 0.05; i=$((i + 1))
    pid=$(status_of vmm01 pid)
    [ -n "$pid" ] && [ "$pid" != "$old" ] && [ "$(status_of vmm01 healthy)" = 1 ] && break
done
check_eq "kill -9 of vmm01 after restarts: back, with one restart counted" "1|1" "$(status_of vmm01 healthy)|$(status_of vmm01 restarts)"
check_eq "... and its 7031" 1 "$(events_since "$mark" vmm01 7031)"

# ---- refusals: one line naming the machine, exit 2
check_exit "an unknown machine is refused" 2 $W service restart hv09
check "... naming it" sh -c "[ \$(wc -l <'$T_TMP/err') -eq 1 ] && grep -q \"unknown machine 'hv09'\" '$T_TMP/err'"
check_exit "the client, which runs no process, is refused" 2 $W service stop client
check "... naming it" sh -c "[ \$(wc -l <'$T_TMP/err') -eq 1 ] && grep -q \"'client' runs no service\" '$T_TMP/err'"
check_exit "a machine is required" 2 $W service start
check_exit "'all' with a machine is refused" 2 $W service restart all hv01
check_exit "a bad --timeout is refused" 2 $W service restart hv01 --timeout 0
$W status --json >"$T_TMP/st.json"
check_eq "refusals left every machine healthy" 6 \
    "$(json_sql "$T_TMP/st.json" "SELECT count(*) FROM doc, json_each(doc.j,'\$.machines') WHERE json_extract(value,'\$.healthy')=1")"
for c in "service restart" "service stop" "service start"; do
    check "wapsim $c --help" sh -c "$W $c --help | grep -q '^usage: wapsim $c MACHINE|all'"
done

# ---- up with a stopped service starts it; down after a stop leaves nothing; up runs all
check "service stop spf01" quiet $W service stop spf01
check_exit "up while the lab runs starts the stopped service" 0 $W up
check "... saying so" grep -q "starting spf01, stopped by the operator" "$T_TMP/err"
check_eq "spf01 is healthy after up" 1 "$(status_of spf01 healthy)"
check_exit "service stop all" 0 $W service stop all
check_eq "... in reverse order: hv02 first, the portal last" "hv02 portal" "$(sed -n '1p;$p' "$T_TMP/out" | cut -d: -f1 | tr '\n' ' ' | sed 's/ $//')"
check_eq "after stop all nothing runs but the supervisor" "1" "$(lab_pids "$L" | wc -l | tr -d ' ')"
check "service start rdgw01 only" quiet $W service start rdgw01
check "service stop hv02" quiet $W service stop hv02
check "down after a stop" quiet $W down
check_eq "down leaves no process of the lab" "" "$(lab_pids "$L")"
check "up after down" quiet $W up
$W status --json >"$T_TMP/st.json"
check_eq "after down and up every machine runs again" 6 \
    "$(json_sql "$T_TMP/st.json" "SELECT count(*) FROM doc, json_each(doc.j,'\$.machines') WHERE json_extract(value,'\$.healthy')=1 AND json_extract(value,'\$.pid')>1")"
check "down" quiet $W down
check_eq "nothing left" "" "$(lab_pids "$L")"
