#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The load balancer under load (issue 14, acceptance point 2): lb01 in tcp mode in front
# of rdgw01 and rdgw02, whose gateway services are stopped and replaced by lbmember (a
# greeting, PING/PONG, and transfers checked with SHA-256 on both ends) on each member's
# address and port. Through lb01: round robin alternates; affinity source-ip sends one
# client address to one member; 1,000 idle connections are held and still answer after a
# pause; 64 MiB go each way on one connection with nothing lost; a member killed
# mid-run has its open connections closed while the others keep working and new ones go
# to the other member. Every process this test starts is stopped by its pid.
. "$(dirname "$0")/lib.sh"
BUILD=${BUILD:-build}
member_tool=$BUILD/tools/lbmember
client=$BUILD/tools/lbclient
[ -x "$member_tool" ] && [ -x "$client" ] || skip_all "no $member_tool or $client (make test builds them)"
command -v sqlite3 >/dev/null 2>&1 || skip_all "no sqlite3 (the JSON checks use it)"

MEMBER_PIDS=""
stop_members() {
    for pid in $MEMBER_PIDS; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    MEMBER_PIDS=""
}
trap 'stop_members; cleanup' EXIT

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
prefix=$(sqlite3 "$L/lab.db" "SELECT value FROM lab_meta WHERE key = 'subnet'" | sed 's/0\/24$//')

# A second gateway: `fabric add-gateway` where it exists, else the rows it would write.
if W fabric add-gateway --help >/dev/null 2>&1; then
    { W fabric add-gateway rdgw02 && W cert import rdgw-ssl --machine rdgw02 --store My &&
        W gateway set --machine rdgw02 --ssl-cert rdgw-ssl; } >"$T_TMP/addgw.out" 2>&1 ||
        { not_ok "fabric add-gateway rdgw02, its certificate bound ($(tail -n 1 "$T_TMP/addgw.out"))"; exit 1; }
else
    sqlite3 "$L/lab.db" "
        INSERT INTO machines(name, fqdn, address, role, port, skew_seconds)
            VALUES('rdgw02', 'rdgw02.fabric.contoso.local', '${prefix}30', 'gateway', 8443, 0);
        INSERT INTO store_entries(machine, store, certificate, has_private_key) VALUES
            ('rdgw02', 'My', 'rdgw-ssl', 1), ('rdgw02', 'Root', 'lab-root-ca', 0);
        INSERT INTO settings(scope, key, value) VALUES('rdgw02', 'ssl_cert', 'rdgw-ssl');" ||
        { not_ok "a second gateway rdgw02"; exit 1; }
fi
check_exit "fabric add-balancer lb01 (tcp, round robin)" 0 \
    W fabric add-balancer lb01 --members rdgw01,rdgw02 --mode tcp --affinity none --fqdn rdgw.contoso.com --json
cp "$T_TMP/out" "$T_TMP/add.json"
lb=$(json_sql "$T_TMP/add.json" "SELECT json_extract(j,'\$.address') FROM doc")
port=$(json_sql "$T_TMP/add.json" "SELECT json_extract(j,'\$.port') FROM doc")
check_eq "the tenant's PC resolves rdgw.contoso.com to lb01" "$lb" \
    "$(awk '$2 == "rdgw.contoso.com" { print $1 }' "$L/hosts")"
check_exit "a member that is not a gateway is refused" 2 W fabric set-balancer lb01 --members rdgw01,hv01
grep -q "member 'hv01' is not a gateway" "$T_TMP/err" && ok "... naming it" || not_ok "... naming it ($(cat "$T_TMP/err"))"

W up >"$T_TMP/up.out" 2>&1 || { not_ok "up ($(head -c 300 "$T_TMP/up.out"))"; exit 1; }
W service stop rdgw01 rdgw02 >"$T_TMP/stop.out" 2>&1 || { not_ok "service stop rdgw01 rdgw02"; exit 1; }
addr_of() { sqlite3 "$L/lab.db" "SELECT address FROM machines WHERE name = '$1'"; }
for m in rdgw01 rdgw02; do
    "$member_tool" "$m" "$(addr_of $m)" 8443 >"$T_TMP/$m.out" 2>&1 &
    MEMBER_PIDS="$MEMBER_PIDS $!"
    eval "pid_$m=$!"
done
i=0
while [ $i -lt 50 ] && ! { grep -q listening "$T_TMP/rdgw01.out" && grep -q listening "$T_TMP/rdgw02.out"; } 2>/dev/null; do
    sleep 0.1; i=$((i + 1))
done
check "the member tools listen on rdgw01's and rdgw02's addresses" \
    sh -c 'grep -q listening "$1" && grep -q listening "$2"' _ "$T_TMP/rdgw01.out" "$T_TMP/rdgw02.out"
# A fresh balancer: the gateways' stop may have marked members down meanwhile.
W service restart lb01 >"$T_TMP/restart.out" 2>&1

# ---- round robin
set -- $("$client" who "$lb" "$port" 6 | sed 's/^who://')
seq="$*"
alternates=yes
prev=""
for n in "$@"; do
    { [ "$n" = "-" ] || [ "$n" = "$prev" ]; } && alternates=no
    prev=$n
done
check "round robin alternates the members ($seq)" test "$alternates" = yes -a $# -eq 6
case "$seq" in *rdgw01*rdgw02* | *rdgw02*rdgw01*) ok "... and uses both" ;; *) not_ok "... and uses both ($seq)" ;; esac

# ---- affinity source-ip: a stable hash of the address (FNV-1a of its text, modulo the members)
W fabric set-balancer lb01 --affinity source-ip >"$T_TMP/set.out" 2>&1 || not_ok "set-balancer --affinity source-ip"
one=$("$client" who "$lb" "$port" 6 127.77.0.1 | sed 's/^who://')
two=$("$client" who "$lb" "$port" 6 127.77.0.2 | sed 's/^who://')
check_eq "affinity source-ip: 127.77.0.1 always reaches rdgw01" " rdgw01 rdgw01 rdgw01 rdgw01 rdgw01 rdgw01" "$one"
check_eq "affinity source-ip: 127.77.0.2 always reaches rdgw02" " rdgw02 rdgw02 rdgw02 rdgw02 rdgw02 rdgw02" "$two"
W fabric set-balancer lb01 --affinity none >"$T_TMP/set.out" 2>&1 || not_ok "set-balancer --affinity none"

# ---- 1,000 idle connections, still working after a pause
"$client" idle "$lb" "$port" 1000 5 >"$T_TMP/idle.out" 2>&1 &
idle=$!
i=0
while [ $i -lt 600 ] && ! grep -q "^idle: opened [0-9]* greeted [0-9]*$" "$T_TMP/idle.out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
sleep 1.2 # the counters are written at most once a second
W status --json >"$T_TMP/status.json" 2>/dev/null
held=$(json_sql "$T_TMP/status.json" \
    "SELECT json_extract(value,'\$.counters.connections_active') FROM doc, json_each(json_extract(j,'\$.machines'))
     WHERE json_extract(value,'\$.name') = 'lb01'")
check "status counts the idle connections on lb01 (${held:-?} active)" test "${held:-0}" -ge 1000
wait "$idle"
check_eq "1,000 idle connections through lb01, each answering after a 5 s pause" \
    "idle: opened 1000 greeted 1000 answered 1000" "$(tail -n 1 "$T_TMP/idle.out")"

# ---- one address may hold 1,024 connections: the rest are refused (event 120, the counter)
refused0=$(json_sql "$T_TMP/status.json" \
    "SELECT json_extract(value,'\$.counters.refused') FROM doc, json_each(json_extract(j,'\$.machines'))
     WHERE json_extract(value,'\$.name') = 'lb01'")
"$client" idle "$lb" "$port" 1100 1 >"$T_TMP/cap.out" 2>&1
greeted=$(sed -n 's/^idle: opened [0-9]* greeted \([0-9]*\) answered.*/\1/p' "$T_TMP/cap.out")
check "1,100 connections from one address: at most 1,024 greeted (${greeted:-?})" \
    test "${greeted:-2000}" -le 1024 -a "${greeted:-0}" -ge 1000
sleep 1.2
W status --json >"$T_TMP/status2.json" 2>/dev/null
refused1=$(json_sql "$T_TMP/status2.json" \
    "SELECT json_extract(value,'\$.counters.refused') FROM doc, json_each(json_extract(j,'\$.machines'))
     WHERE json_extract(value,'\$.name') = 'lb01'")
check "... the others refused and counted (${refused0:-?} -> ${refused1:-?})" \
    test "${refused1:-0}" -ge "$((${refused0:-0} + 76))"
check "... event 120 names the limit" sh -c "'$WAPSIM' --lab '$L' logs --machine lb01 | grep -q 'connections from one address (limit 1024)'"

# ---- 64 MiB each way
t0=$(date +%s%N)
"$client" xfer "$lb" "$port" 67108864 7 >"$T_TMP/xfer.out" 2>&1
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# $(cat "$T_TMP/xfer.out") in ${ms} ms"
check "64 MiB each way through lb01, SHA-256 equal on both ends" \
    grep -q "sent 67108864 received 67108864 sent-sha OK received-sha OK" "$T_TMP/xfer.out"
check_eq "... (lbclient's verdict)" 0 "$rc"

# ---- a member killed mid-run
"$client" failover "$lb" "$port" 10 rdgw01 "$pid_rdgw01" 10 >"$T_TMP/fail.out" 2>&1
echo "# $(tr '\n' ';' <"$T_TMP/fail.out")"
check_eq "connections spread over both members before the kill" "failover: before rdgw01=5 others=5" \
    "$(grep before "$T_TMP/fail.out")"
check_eq "the killed member's open connections are closed on the client side" "failover: victim-closed 5 of 5" \
    "$(grep victim-closed "$T_TMP/fail.out")"
check_eq "the other member's connections keep working" "failover: survivors-answered 5 of 5" \
    "$(grep survivors "$T_TMP/fail.out")"
check_eq "new connections succeed, on the other member" "failover: new 10 of 10 on-victim 0" \
    "$(grep new "$T_TMP/fail.out")"
W logs --machine lb01 >"$T_TMP/lblog.out" 2>&1
check "lb01's log: member rdgw01 marked down (event 110)" grep -q "110 Warning.*Pool member rdgw01.*monitor status down" \
    "$T_TMP/lblog.out"
check "lb01's log: started with its configuration (event 100)" \
    grep -q "100 Information.*members rdgw01,rdgw02, mode tcp" "$T_TMP/lblog.out"
W status --json >"$T_TMP/status2.json" 2>/dev/null
check_eq "lb01 never died (no restart counted)" "0" \
    "$(json_sql "$T_TMP/status2.json" "SELECT json_extract(value,'\$.restarts') FROM doc,
       json_each(json_extract(j,'\$.machines')) WHERE json_extract(value,'\$.name') = 'lb01'")"

# ---- tls-offload, re-encrypted to the real gateway: a tenant's console through lb01
stop_members
W service start rdgw01 >"$T_TMP/start.out" 2>&1 || not_ok "service start rdgw01 ($(tail -1 "$T_TMP/start.out"))"
check_exit "set-balancer lb01 --members rdgw01 --mode tls-offload --reencrypt" 0 \
    W fabric set-balancer lb01 --members rdgw01 --mode tls-offload --reencrypt
W connect --json --tenant alice --vm web01 >"$T_TMP/c.json" 2>"$T_TMP/c.err"
check_eq "tls-offload with re-encryption: the tenant reaches the console through lb01" "1|console" \
    "$(json_sql "$T_TMP/c.json" "SELECT json_extract(j,'\$.ok') || '|' || json_extract(j,'\$.stage') FROM doc")"
W logs --machine rdgw01 >"$T_TMP/gwlog.out" 2>&1
check "... the gateway saw lb01 as the client computer (SNAT)" grep -q "client computer \"$lb\"" "$T_TMP/gwlog.out"

# ---- remove-balancer gives the name back
check_exit "fabric remove-balancer lb01" 0 W fabric remove-balancer lb01
check_eq "... rdgw.contoso.com resolves to rdgw01 again" "$(addr_of rdgw01)" \
    "$(awk '$2 == "rdgw.contoso.com" { print $1 }' "$L/hosts")"
