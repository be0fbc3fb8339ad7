#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Name resolution per machine (issue 14, pitfall 5): `wapsim dns show|set` (errors naming the
# bad value and changing nothing, --json, event 1000 on a change), the resolution rule (the
# hosts file first, then the machine's DNS server or a conditional forwarder; the tenant's PC
# through the lab's hosts file), and what a DMZ gateway that cannot resolve a host does: event
# 304 with the lookup's error, 50331656 at the client, gateway-cannot-resolve-host, and
# diagnose --fix repairing it with the conditional forwarder.
. "$(dirname "$0")/lib.sh"

LAB=$T_TMP/lab
new_lab "$LAB"
check "lab init" test -f "$LAB/lab.db"
W() { "$WAPSIM" --lab "$LAB" "$@"; }
view() { # view FIELD: a member of dns show rdgw01 --json
    W dns show rdgw01 --json >"$T_TMP/view.json" 2>/dev/null
    json_sql "$T_TMP/view.json" "SELECT $1 FROM doc"
}

# ---- 1. the default view: the fabric's DNS, no forwarder, an empty hosts file
check_eq "rdgw01 resolves through the fabric's DNS by default" fabric "$(view "json_extract(j,'\$.server')")"
check_eq "... with its FQDN's domain as primary suffix" fabric.contoso.local "$(view "json_extract(j,'\$.suffix')")"
check_eq "... no conditional forwarder, an empty hosts file" "0|0" \
    "$(view "json_array_length(j,'\$.forwarders') || '|' || json_array_length(j,'\$.hosts')")"
W dns show client --json >"$T_TMP/client.json"
check_eq "the tenant's PC is shown as resolving through the lab's hosts file" 1 \
    "$(json_sql "$T_TMP/client.json" "SELECT json_extract(j,'\$.tenant_pc') FROM doc")"

# ---- 2. refusals: one line naming the bad value, exit 2, nothing changed
check_exit "dns show without a machine is a usage error" 2 W dns show
check_exit "dns show of an unknown machine" 2 W dns show hv09
check "... names it" grep -q "unknown machine 'hv09'" "$T_TMP/err"
check_exit "dns set with nothing to set" 2 W dns set rdgw01
check_exit "dns set --server foo" 2 W dns set rdgw01 --server foo
check "... names 'foo'" grep -q "bad --server 'foo'" "$T_TMP/err"
check_exit "dns set on the tenant's PC is refused" 2 W dns set client --server dmz
check "... pointing at the lab's hosts file" grep -q "lab's hosts file" "$T_TMP/err"
check_exit "an address outside 127.0.0.0/8 in a hosts entry is refused" 2 W dns set rdgw01 --add-host hv01=10.0.0.1
check "... naming it" grep -q "'10.0.0.1'" "$T_TMP/err"
check_exit "a bad zone is refused" 2 W dns set rdgw01 --add-forwarder 'fabric..local'
check_exit "removing a forwarder it does not have is refused" 2 W dns set rdgw01 --remove-forwarder nope.local
check_exit "a refusal in one option changes nothing of the others" 2 \
    W dns set rdgw01 --server dmz --remove-host hv01.fabric.contoso.local
check_eq "... the server is still the fabric's" fabric "$(view "json_extract(j,'\$.server')")"
check_eq "... and no event 1000 was logged" 0 "$(W logs --machine rdgw01 --json | grep -c '"event_id":	1000')"

# ---- 3. changes, and the rule as rdgw01 applies it
check_exit "dns set rdgw01 --server dmz" 0 W dns set rdgw01 --server dmz
W logs --machine rdgw01 --json >"$T_TMP/logs.json"
check_eq "the change is event 1000 on rdgw01, with the view before and after" 1 \
    "$(json_sql "$T_TMP/logs.json" "SELECT count(*) FROM doc, json_each(doc.j) WHERE json_extract(value,'\$.event_id') = 1000 AND json_extract(value,'\$.text') LIKE '%server dmz%was: server fabric%'")"
check_exit "as the DMZ's client rdgw01 cannot resolve hv01's FQDN (exit 1)" 1 \
    W dns show rdgw01 --resolve hv01.fabric.contoso.local
check "... WSAHOST_NOT_FOUND's text, and why" grep -q "No such host is known (WSAHOST_NOT_FOUND 11001).*public names only" "$T_TMP/out"
check_exit "... but the public names resolve" 0 W dns show rdgw01 --resolve rdgw.contoso.com
check_exit "--add-forwarder fabric.contoso.local" 0 W dns set rdgw01 --add-forwarder Fabric.Contoso.Local
W dns show rdgw01 --resolve hv02 --json >"$T_TMP/r.json"
hv02_addr=$(sqlite3 -batch -noheader "$LAB/lab.db" "SELECT address FROM machines WHERE name = 'hv02'")
check_eq "then hv02 (a short name: the primary suffix) resolves to its address through the forwarder" "$hv02_addr" \
    "$(json_sql "$T_TMP/r.json" "SELECT json_extract(j,'\$.resolve.address') FROM doc")"
check "... named as the forwarder" grep -q "conditional forwarder fabric.contoso.local -> fabric" "$T_TMP/r.json"
check_exit "the same forwarder again changes nothing" 0 W dns set rdgw01 --add-forwarder fabric.contoso.local
check "... and says so" grep -q "unchanged" "$T_TMP/out"
check_eq "... and logs nothing more" 2 "$(W logs --machine rdgw01 --json | grep -c '"event_id":	1000')"
check_exit "a hosts entry for hv01" 0 W dns set rdgw01 --add-host hv01.fabric.contoso.local=127.1.2.3
W dns show rdgw01 --resolve hv01.fabric.contoso.local --json >"$T_TMP/r.json"
check_eq "the hosts file is read before DNS" "127.1.2.3|hosts file" \
    "$(json_sql "$T_TMP/r.json" "SELECT json_extract(j,'\$.resolve.address') || '|' || json_extract(j,'\$.resolve.via') FROM doc")"
check_exit "--remove-host and --remove-forwarder" 0 \
    W dns set rdgw01 --remove-host hv01.fabric.contoso.local --remove-forwarder fabric.contoso.local
check_eq "... leave the DMZ's view bare" "dmz|0|0" \
    "$(view "json_extract(j,'\$.server') || '|' || json_array_length(j,'\$.forwarders') || '|' || json_array_length(j,'\$.hosts')")"
check_exit "the tenant's PC cannot resolve the fabric's names" 1 W dns show client --resolve hv01.fabric.contoso.local

# The most a hosts file holds (32 entries), with long names, is kept whole; one more is refused.
long=$(printf '%063d' 0 | tr 0 a).$(printf '%063d' 0 | tr 0 b).$(printf '%063d' 0 | tr 0 c)
set --
for i in $(seq 1 32); do set -- "$@" --add-host "h$i.$long=127.1.2.$i"; done
check_exit "32 hosts entries of 200-character names" 0 W dns set rdgw01 "$@"
check_eq "... all kept, the last one whole" "32|127.1.2.32" \
    "$(view "json_array_length(j,'\$.hosts') || '|' || json_extract(j,'\$.hosts[31].address')")"
check_exit "a 33rd is refused" 2 W dns set rdgw01 --add-host "h33.$long=127.1.2.33"
set --
for i in $(seq 1 32); do set -- "$@" --remove-host "h$i.$long"; done
check_exit "... and all removed again" 0 W dns set rdgw01 "$@"

# ---- 4. the running lab: the gateway resolves as itself
if ! W up >"$T_TMP/up.out" 2>&1; then
    not_ok "wapsim up ($(tail -n 2 "$T_TMP/up.out" | tr '\n' ' '))"
    exit 0
fi
W connect --tenant alice --vm web01 --json >"$T_TMP/c.json" 2>/dev/null
check_eq "a DMZ gateway without a forwarder: the channel fails, 50331656" "channel|50331656" \
    "$(json_sql "$T_TMP/c.json" "SELECT json_extract(j,'\$.stage') || '|' || json_extract(j,'\$.code') FROM doc")"
W logs --machine rdgw01 --json >"$T_TMP/logs.json"
check_eq "... event 304 on rdgw01 with E_PROXY_TS_CONNECTFAILED and the lookup's error" 1 \
    "$(json_sql "$T_TMP/logs.json" "SELECT count(*) > 0 FROM doc, json_each(doc.j) WHERE json_extract(value,'\$.event_id') = 304 AND json_extract(value,'\$.text') LIKE '%0x800759DD: No such host is known%hv01.fabric.contoso.local%'")"
W diagnose --json >"$T_TMP/d.json"
check_eq "diagnose: gateway-cannot-resolve-host on rdgw01, and no other error" "gateway-cannot-resolve-host@rdgw01" \
    "$(json_sql "$T_TMP/d.json" "SELECT group_concat(json_extract(value,'\$.id') || '@' || json_extract(value,'\$.machine')) FROM doc, json_each(json_extract(doc.j,'\$.findings')) WHERE json_extract(value,'\$.severity') = 'error'")"
check "... its first fix is the conditional forwarder" grep -q '"wapsim dns set rdgw01 --add-forwarder fabric.contoso.local"' "$T_TMP/d.json"
check "... with the real step" grep -q "Add-DnsServerConditionalForwarderZone -Name fabric.contoso.local" "$T_TMP/d.json"
check_exit "diagnose --fix repairs it" 0 W diagnose --fix
W connect --tenant alice --vm web01 --json >"$T_TMP/c.json" 2>/dev/null
check_eq "then the console opens" "true|console" \
    "$(json_sql "$T_TMP/c.json" "SELECT CASE json_extract(j,'\$.ok') WHEN 1 THEN 'true' ELSE 'false' END || '|' || json_extract(j,'\$.stage') FROM doc")"
W diagnose --json >"$T_TMP/d.json"
check_eq "... and diagnose finds no error" 0 \
    "$(json_sql "$T_TMP/d.json" "SELECT count(*) FROM doc, json_each(json_extract(doc.j,'\$.findings')) WHERE json_extract(value,'\$.severity') = 'error'")"

# ---- 5. a hosts entry that sends a host's name elsewhere: the same failure, the entry's repair
check_exit "a stale hosts entry for hv02 on rdgw01" 0 W dns set rdgw01 --add-host hv02.fabric.contoso.local=127.1.2.3
W connect --tenant bob --vm app01 --json >"$T_TMP/c.json" 2>/dev/null
check_eq "app01's channel fails (50331656)" "channel|50331656" \
    "$(json_sql "$T_TMP/c.json" "SELECT json_extract(j,'\$.stage') || '|' || json_extract(j,'\$.code') FROM doc")"
W diagnose --json >"$T_TMP/d.json"
check "diagnose names the entry and its repair at hv02's address" \
    grep -q "\"wapsim dns set rdgw01 --add-host hv02.fabric.contoso.local=$hv02_addr\"" "$T_TMP/d.json"
check_exit "diagnose --fix repairs it" 0 W diagnose --fix
W connect --tenant bob --vm app01 --json >"$T_TMP/c.json" 2>/dev/null
check_eq "then app01's console opens" "console" "$(json_sql "$T_TMP/c.json" "SELECT json_extract(j,'\$.stage') FROM doc")"
W down >/dev/null 2>&1
