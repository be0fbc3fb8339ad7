#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# wapsim fabric add-gateway | remove-gateway, gateway set --machine, lab init --ha, and
# diagnose over several gateways (issue 14): a new gateway joins as a fresh server (the lab
# root only, no binding, no trusted issuer), the supervisor starts and stops it while the
# lab runs, each gateway has its own binding and trusted issuers, the HA layout's public
# name resolves to lb01 for the tenant's PC, and diagnose names the member at fault
# (pitfalls 1 and 2). The scenario language's repeat= and connects.* as well.
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
db() { sqlite3 -batch -noheader "$1/lab.db" ".timeout 5000" "$2"; }
prefix=$(db "$L" "SELECT value FROM lab_meta WHERE key='subnet'" | sed 's/0\/24$//')

# ---- 1. add-gateway: a fresh server
W fabric add-gateway rdgw02 --json >"$T_TMP/add.json" 2>"$T_TMP/add.err"; rc=$?
check_eq "fabric add-gateway rdgw02 exits 0" 0 "$rc"
check_eq "it is rdgw02.fabric.contoso.local on the lab's first free address (.17), port 8443" \
    "rdgw02|rdgw02.fabric.contoso.local|${prefix}17|8443|gateway" \
    "$(json_sql "$T_TMP/add.json" "SELECT json_extract(j,'$.machine')||'|'||json_extract(j,'$.fqdn')||'|'||json_extract(j,'$.address')||'|'||json_extract(j,'$.port')||'|'||json_extract(j,'$.role') FROM doc")"
check_eq "its stores hold the lab root in Root, nothing else" "Root:lab-root-ca" \
    "$(db "$L" "SELECT group_concat(store||':'||certificate) FROM store_entries WHERE machine='rdgw02'")"
check_eq "no SSL certificate is bound and no trusted issuer registered" "0|0" \
    "$(db "$L" "SELECT (SELECT count(*) FROM settings WHERE scope='rdgw02')||'|'||(SELECT count(*) FROM trusted_issuers WHERE machine='rdgw02')")"
check "an event on rdgw02 says it joined" \
    test "$(db "$L" "SELECT count(*) FROM events WHERE machine='rdgw02' AND event_id=1 AND text LIKE '%joined the fabric%'")" = 1
check_eq "rdgw01 is as it was (rdgw-ssl bound)" "rdgw-ssl" "$(db "$L" "SELECT value FROM settings WHERE scope='rdgw01' AND key='ssl_cert'")"

# ---- 2. add-gateway's errors: one line naming the value, exit 2
check_exit "add-gateway of an existing machine: exit 2" 2 W fabric add-gateway RDGW02
check "... naming it" grep -q "machine 'rdgw02' exists already" "$T_TMP/err"
check_exit "add-gateway with a bad computer name: exit 2" 2 W fabric add-gateway rd_gw
check "... naming it" grep -q "bad machine name 'rd_gw'" "$T_TMP/err"
check_exit "add-gateway --address outside the lab's /24: exit 2" 2 W fabric add-gateway rdgw03 --address 127.0.0.9
check "... naming it" grep -q "bad address '127.0.0.9'" "$T_TMP/err"
check_exit "add-gateway --address of another machine: exit 2" 2 W fabric add-gateway rdgw03 --address "${prefix}13"
check "... naming its owner" grep -q "is rdgw01's" "$T_TMP/err"
check_exit "add-gateway without a name: exit 2" 2 W fabric add-gateway
check_eq "no error line changed the lab" 8 "$(db "$L" "SELECT count(*) FROM machines")"
check_exit "add-gateway --address a free one: exit 0" 0 W fabric add-gateway rdgw03 --address "${prefix}40"
check_eq "... there" "${prefix}40" "$(db "$L" "SELECT address FROM machines WHERE name='rdgw03'")"

# ---- 3. gateway set --machine
TP=$(W cert show vmm-console --json | sed -n 's/.*"thumbprint":[[:space:]]*"\([0-9A-F]*\)".*/\1/p' | head -n 1)
check_exit "gateway set --machine rdgw02 --add-trusted-issuer vmm-console: exit 0" 0 \
    W gateway set --machine rdgw02 --add-trusted-issuer vmm-console
check_eq "... registers it on rdgw02" "$TP" "$(db "$L" "SELECT thumbprint FROM trusted_issuers WHERE machine='rdgw02'")"
check_exit "gateway set without --machine is rdgw01's (the first by name)" 0 W gateway set --remove-trusted-issuer "$TP"
check_eq "... rdgw01's list is empty now, rdgw02's untouched" "0|1" \
    "$(db "$L" "SELECT (SELECT count(*) FROM trusted_issuers WHERE machine='rdgw01')||'|'||(SELECT count(*) FROM trusted_issuers WHERE machine='rdgw02')")"
W gateway set --add-trusted-issuer "$TP" >/dev/null 2>&1
check_exit "gateway set --machine hv01: exit 2" 2 W gateway set --machine hv01 --add-trusted-issuer "$TP"
check "... 'hv01' is not the RD Gateway" grep -q "'hv01' is not the RD Gateway (its role is host)" "$T_TMP/err"
check_exit "gateway set --machine rdgw09: exit 2" 2 W gateway set --machine rdgw09 --add-trusted-issuer "$TP"
check "... unknown machine 'rdgw09'" grep -q "unknown machine 'rdgw09'" "$T_TMP/err"
check_exit "gateway set --machine rdgw02 --ssl-cert rdgw-ssl before it is in rdgw02's My: exit 2" 2 \
    W gateway set --machine rdgw02 --ssl-cert rdgw-ssl
check "... saying where to import it" grep -q "cert import rdgw-ssl --machine rdgw02 --store My" "$T_TMP/err"

# ---- 4. remove-gateway
check_exit "remove-gateway rdgw03: exit 0" 0 W fabric remove-gateway rdgw03
check_eq "... its machine, stores and settings are gone" "0|0" \
    "$(db "$L" "SELECT (SELECT count(*) FROM machines WHERE name='rdgw03')||'|'||(SELECT count(*) FROM store_entries WHERE machine='rdgw03')")"
check_exit "remove-gateway hv01 (not a gateway): exit 2" 2 W fabric remove-gateway hv01
check_exit "remove-gateway rdgw09 (unknown): exit 2" 2 W fabric remove-gateway rdgw09
check_exit "remove-gateway rdgw02: exit 0" 0 W fabric remove-gateway rdgw02
check_exit "remove-gateway of the last gateway: exit 2" 2 W fabric remove-gateway rdgw01
check "... one line saying it is the last" sh -c "[ \$(wc -l <'$T_TMP/err') = 1 ] && grep -q \"rdgw01 is the lab's last RD Gateway\" '$T_TMP/err'"

# ---- 5. while the lab runs: the supervisor starts a new gateway, and stops one removed
W up >/dev/null 2>&1 || not_ok "up"
W fabric add-gateway rdgw02 >/dev/null 2>&1
wait_restarts() { # the supervisor tried to start rdgw02 (it cannot: no certificate)
    i=0
    while [ $i -lt 100 ]; do
        [ "$(db "$L" "SELECT count(*) FROM events WHERE machine='rdgw02' AND event_id=7031")" -ge 1 ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
check "the running supervisor tries to start rdgw02 (7031: it stops without a certificate)" wait_restarts
W diagnose --json >"$T_TMP/d0.json" 2>/dev/null
check "diagnose: gateway-cert-missing@rdgw02" test "$(json_sql "$T_TMP/d0.json" \
    "SELECT count(*) FROM doc, json_each(doc.j,'$.findings') WHERE json_extract(value,'$.id')='gateway-cert-missing' AND json_extract(value,'$.machine')='rdgw02'")" = 1
W cert import rdgw-ssl --machine rdgw02 --store My >/dev/null 2>&1
W gateway set --machine rdgw02 --ssl-cert rdgw-ssl --add-trusted-issuer vmm-console >/dev/null 2>&1
W cert import vmm-console --machine rdgw02 --store My --public-only >/dev/null 2>&1
W cert import vmm-console --machine rdgw02 --store Root --public-only >/dev/null 2>&1
check_exit "bound, service restart rdgw02 makes it healthy" 0 W service restart rdgw02
W diagnose --json >"$T_TMP/d1.json" 2>/dev/null
check_eq "diagnose over rdgw01 and rdgw02: no error" "" "$(json_sql "$T_TMP/d1.json" \
    "SELECT group_concat(json_extract(value,'$.id')||'@'||json_extract(value,'$.machine')) FROM doc, json_each(doc.j,'$.findings') WHERE json_extract(value,'$.severity')='error'")"
check "diagnose checked both gateways' trust and TLS" sh -c "grep -q \"rdgw02's TLS certificate\" '$T_TMP/d1.json' && grep -q 'rdgw02 trusts the VMM' '$T_TMP/d1.json'"
pid2=$(db "$L" "SELECT pid FROM processes WHERE machine='rdgw02'")
W fabric remove-gateway rdgw02 >/dev/null 2>&1
gone() { [ -n "$pid2" ] || return 1; i=0; while [ $i -lt 50 ]; do kill -0 "$pid2" 2>/dev/null || return 0; sleep 0.1; i=$((i + 1)); done; return 1; }
check "remove-gateway rdgw02: the supervisor stops its process ($pid2)" gone
W down >/dev/null 2>&1

# ---- 6. lab init --ha: the layout
H=$T_TMP/ha
new_lab "$H" --ha; rc=$?
check_eq "lab init --ha exits 0" 0 "$rc"
hp=$(db "$H" "SELECT value FROM lab_meta WHERE key='subnet'" | sed 's/0\/24$//')
check_eq "machines: rdgw02 a gateway, lb01 the balancer with the public name" \
    "lb01|balancer|rdgw.contoso.com;rdgw01|gateway|;rdgw02|gateway|" \
    "$(db "$H" "SELECT group_concat(name||'|'||role||'|'||coalesce(public_fqdn,''),';') FROM (SELECT * FROM machines WHERE name IN ('rdgw01','rdgw02','lb01') ORDER BY name)")"
lb=$(db "$H" "SELECT address FROM machines WHERE name='lb01'")
check_eq "the tenant's PC (the lab's hosts file) resolves rdgw.contoso.com to lb01 ($lb)" "$lb" \
    "$(awk '$2 == "rdgw.contoso.com" { print $1 }' "$H/hosts")"
check "... and no longer to rdgw01" sh -c "! grep -q '^${hp}13[[:space:]]*rdgw.contoso.com' '$H/hosts'"
check_eq "lb01: members rdgw01,rdgw02, tcp, no affinity" "none|rdgw01,rdgw02|tcp" \
    "$(db "$H" "SELECT group_concat(value,'|') FROM (SELECT value FROM settings WHERE scope='lb01' AND key IN ('members','mode','affinity') ORDER BY key)")"
check_eq "rdgw02 like rdgw01: rdgw-ssl with its key bound, vmm-console in My and Root, its thumbprint registered" \
    "My:rdgw-ssl:1,My:vmm-console:0,Root:lab-root-ca:0,Root:vmm-console:0|rdgw-ssl|1" \
    "$(db "$H" "SELECT (SELECT group_concat(e,',') FROM (SELECT store||':'||certificate||':'||has_private_key e FROM store_entries WHERE machine='rdgw02' ORDER BY e))||'|'||(SELECT value FROM settings WHERE scope='rdgw02' AND key='ssl_cert')||'|'||(SELECT count(*) FROM trusted_issuers t JOIN certificates c ON c.thumbprint=t.thumbprint WHERE t.machine='rdgw02' AND c.name='vmm-console')")"
N=$T_TMP/plain
new_lab "$N"
check_eq "a default lab after an HA one takes the same key template and is the default world" "1|7|0" \
    "$(sed -n 's/.*keys \(copied\).*/1/p' "$T_TMP/init.out")|$(db "$N" "SELECT count(*) FROM machines")|$(db "$N" "SELECT count(*) FROM machines WHERE name IN ('rdgw02','lb01')")"
check_eq "... with the HA lab's certificates (one template for both layouts)" \
    "$(db "$H" "SELECT group_concat(thumbprint) FROM (SELECT thumbprint FROM certificates ORDER BY name)")" \
    "$(db "$N" "SELECT group_concat(thumbprint) FROM (SELECT thumbprint FROM certificates ORDER BY name)")"

# ---- 7. diagnose names the member: pitfall 1 (rdgw02 lacks the thumbprint), pitfall 2
HW() { "$WAPSIM" --lab "$H" "$@"; }
HW up >/dev/null 2>&1 || not_ok "up (HA)"
at() { json_sql "$1" "SELECT group_concat(json_extract(value,'$.id')||'@'||json_extract(value,'$.machine')) FROM doc, json_each(doc.j,'$.findings') WHERE json_extract(value,'$.severity')='error'"; }
HW diagnose --json >"$T_TMP/h0.json" 2>/dev/null
check_eq "the HA layout: diagnose finds no error" "" "$(at "$T_TMP/h0.json")"
ok_through_lb=0
for i in 1 2 3 4; do
    HW connect --tenant alice --vm web01 --json >"$T_TMP/hc.json" 2>/dev/null &&
        [ "$(json_sql "$T_TMP/hc.json" "SELECT json_extract(j,'$.stage') FROM doc")" = console ] &&
        ok_through_lb=$((ok_through_lb + 1))
done
check_eq "the HA layout: 4 connects through rdgw.contoso.com (lb01, both members) reach the console" 4 "$ok_through_lb"
check "... lb01 relayed them (its log's connections, or its counters)" sh -c \
    "'$WAPSIM' --lab '$H' status | grep -A1 '^lb01' | grep -qE 'connections [1-9]'"
HW gateway set --machine rdgw02 --remove-trusted-issuer vmm-console >/dev/null 2>&1
HW diagnose --json >"$T_TMP/p1.json" 2>/dev/null
check_eq "pitfall 1: diagnose --json finds gateway-issuer-not-trusted at rdgw02 only" \
    "gateway-issuer-not-trusted@rdgw02" "$(at "$T_TMP/p1.json")"
check "... its fix names rdgw02" grep -q "wapsim gateway set --machine rdgw02 --add-trusted-issuer" "$T_TMP/p1.json"
HW gateway set --machine rdgw02 --add-trusted-issuer vmm-console >/dev/null 2>&1
HW cert new rdgw02-own --subject CN=rdgw02.fabric.contoso.local --san DNS:rdgw02.fabric.contoso.local --eku serverAuth \
    --key-usage digitalSignature,keyEncipherment --issuer lab-root-ca --days 365 >/dev/null 2>&1
HW cert import rdgw02-own --machine rdgw02 --store My >/dev/null 2>&1
HW gateway set --machine rdgw02 --ssl-cert rdgw02-own >/dev/null 2>&1
HW service restart rdgw02 >/dev/null 2>&1
HW diagnose --json >"$T_TMP/p2.json" 2>/dev/null
check_eq "pitfall 2: diagnose --json finds gateway-fqdn-mismatch at rdgw02 only" \
    "gateway-fqdn-mismatch@rdgw02" "$(at "$T_TMP/p2.json")"
check "... its fix binds the farm's certificate on rdgw02, not a new cloud FQDN" sh -c \
    "grep -q 'wapsim gateway set --machine rdgw02 --ssl-cert rdgw-ssl' '$T_TMP/p2.json' && ! grep -q 'cloud set' '$T_TMP/p2.json'"
check_exit "diagnose --fix repairs it" 0 HW diagnose --fix
HW diagnose --json >"$T_TMP/p2b.json" 2>/dev/null
check_eq "... then no error" "" "$(at "$T_TMP/p2b.json")"
HW down >/dev/null 2>&1

# ---- 8. the scenario language: connect repeat=N, connects.failed/ok/codes
mkdir -p "$T_TMP/scn"
cat >"$T_TMP/scn/repeat.scn" <<'SCN'
title repeat= and connects.*
step gateway set --remove-trusted-issuer ${thumbprint:vmm-console}
connect tenant=alice vm=web01 repeat=3
expect connects.failed = 3
expect connects.failed = 100%
expect connects.ok = 0
expect connects.failed >= 50%
expect connects.failed != 0%,50%
expect connects.failed = 0%,100%
expect connects.codes = 50331701
expect event rdgw01 201
step gateway set --add-trusted-issuer ${thumbprint:vmm-console}
connect tenant=alice vm=web01 repeat=2
expect connects.failed = 0
expect connects.ok > 1
expect connects.codes = ""
expect connect.stage = console
SCN
"$WAPSIM" scenario run "$T_TMP/scn/repeat.scn" >"$T_TMP/scn.out" 2>&1; rc=$?
check_eq "a scenario with repeat= and connects.* passes ($(grep -m1 FAIL "$T_TMP/scn.out"))" 0 "$rc"
cat >"$T_TMP/scn/fails.scn" <<'SCN'
title connects.* that does not hold
connect tenant=alice vm=web01 repeat=2
expect connects.failed >= 50%
SCN
"$WAPSIM" scenario run "$T_TMP/scn/fails.scn" >"$T_TMP/scn2.out" 2>&1; rc=$?
check_eq "a connects.* that does not hold fails the scenario" 1 "$rc"
check "... saying what it got" grep -q "expect connects.failed >= 50%: got 0 of 2 (0%)" "$T_TMP/scn2.out"
printf 'title bad\nconnect tenant=alice vm=web01 repeat=0\nexpect connects.failed ~ 5\nexpect connects.ok < 5%%,6%%\nexpect connect.stage < 3\nexpect connects.failed = 101%%\n' >"$T_TMP/scn/bad.scn"
"$WAPSIM" scenario check "$T_TMP/scn/bad.scn" >"$T_TMP/bad.out" 2>&1; rc=$?
check_eq "scenario check: bad repeat= and connects.* lines are syntax errors (exit 2)" 2 "$rc"
for want in "connect repeat= takes a number from 1 to 200, not '0'" \
    "expect connects.failed takes =, !=, <, <=, > or >= and a number" \
    "expect connects.ok: only = and != take several values" \
    "expect connect.stage takes =, !=, ~ or !~" \
    "expect connects.failed takes a count or a percentage (5, 25%), not '101%'"; do
    check "... $want" grep -qF "$want" "$T_TMP/bad.out"
done
