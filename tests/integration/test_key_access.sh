#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Private keys' access lists (pitfall 6): `cert show` lists them as certutil would, `cert grant`
# changes them as Manage Private Keys does (text, --json, event 4670, its refusals), and the two
# services that open a key meet the same rule: VMM cannot sign when its service account may not
# read its certificate's key ("Keyset does not exist" in its trace, SPF's field line, JSON in the
# browser), the RD Gateway logs 103 and fails every handshake (Schannel 36870) when NETWORK
# SERVICE may not read its TLS key; diagnose names each once, and both repairs bring the console
# back.
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
W() { "$WAPSIM" --lab "$L" "$@" </dev/null; }
Q() { W "$@" >/dev/null 2>&1; }

if ! new_lab "$L" || ! Q up; then
    not_ok "a lab starts ($(tail -n 3 "$T_TMP/init.out"))"
    exit 0
fi
for h in hv01 hv02; do Q cert import $h-selfsigned --machine client --store Root --public-only; done

# connect_as TENANT VM: "ok:stage" of a tenant's connection.
connect_as() {
    W connect --tenant "$1" --vm "$2" --json >"$T_TMP/c.json" 2>/dev/null
    json_sql "$T_TMP/c.json" "SELECT CASE json_extract(j,'$.ok') WHEN 1 THEN 'true' ELSE 'false' END || ':' ||
                                   json_extract(j,'$.stage') FROM doc"
}
# findings: diagnose's "id@machine ..." (sorted).
findings() {
    W diagnose --json >"$T_TMP/d.json" 2>/dev/null
    json_sql "$T_TMP/d.json" "SELECT coalesce(group_concat(x, ' '), '') FROM (SELECT json_extract(value,'$.id') || '@' ||
          json_extract(value,'$.machine') AS x FROM doc, json_each(json_extract(j,'$.findings'))
          WHERE json_extract(value,'$.severity') = 'error' ORDER BY x)"
}
# acl CERT MACHINE: the key's list from cert show --json, "account=rights;..." or "null".
acl() {
    W cert show "$1" --json >"$T_TMP/s.json" 2>/dev/null
    json_sql "$T_TMP/s.json" "SELECT coalesce((SELECT group_concat(json_extract(a.value,'$.account') || '=' ||
          json_extract(a.value,'$.rights'), ';') FROM json_each(json_extract(s.value,'$.key_access')) a), 'null')
          FROM doc, json_each(json_extract(j,'$.stores')) s WHERE json_extract(s.value,'$.machine') = '$2'
          AND json_extract(s.value,'$.store') = 'My'"
}
count_events() { # count_events MACHINE ID
    W logs --machine "$1" --json >"$T_TMP/l.json" 2>/dev/null
    json_sql "$T_TMP/l.json" "SELECT count(*) FROM doc, json_each(j) WHERE json_extract(value,'$.event_id') = $2"
}

# ---- what a healthy lab has, as certutil would show it ----
check_eq "the gateway's TLS key: SYSTEM and Administrators (import), NETWORK SERVICE Read (the binding)" \
    'NT AUTHORITY\SYSTEM=Full Control;BUILTIN\Administrators=Full Control;NT AUTHORITY\NETWORK SERVICE=Read' \
    "$(acl rdgw-ssl rdgw01)"
check_eq "VMM's signing key: what an import leaves" \
    'NT AUTHORITY\SYSTEM=Full Control;BUILTIN\Administrators=Full Control' "$(acl vmm-console vmm01)"
W cert show rdgw-ssl >"$T_TMP/show.txt" 2>&1
check "cert show prints the list in certutil's words" grep -q 'Allow Read          NT AUTHORITY\\NETWORK SERVICE' "$T_TMP/show.txt"
check_eq "a healthy lab: no finding" "" "$(findings)"

# ---- cert grant refuses bad usage in one line, exit 2, nothing changed ----
check_exit "grant without --machine: exit 2" 2 W cert grant vmm-console --account SYSTEM
check_exit "grant without --account: exit 2" 2 W cert grant vmm-console --machine vmm01
check_exit "grant with --rights write: exit 2" 2 W cert grant vmm-console --machine vmm01 --account SYSTEM --rights write
check "... naming the value" grep -q "unknown rights 'write'" "$T_TMP/err"
check_exit "grant on an unknown machine: exit 2" 2 W cert grant vmm-console --machine nosuch --account SYSTEM
check_exit "grant of an unknown certificate: exit 2" 2 W cert grant nosuch --machine vmm01 --account SYSTEM
check_exit "grant where the certificate has no key (hv01 holds its public part): exit 2" 2 \
    W cert grant vmm-console --machine hv01 --account SYSTEM
check "... saying there is no key" grep -q "with its private key" "$T_TMP/err"
check_exit "an account with a comma: exit 2" 2 W cert grant vmm-console --machine vmm01 --account 'a,b'
check_exit "revoking an account without an entry: exit 2" 2 W cert grant vmm-console --machine vmm01 --account Everyone --revoke
check_eq "nothing changed" 'NT AUTHORITY\SYSTEM=Full Control;BUILTIN\Administrators=Full Control' "$(acl vmm-console vmm01)"

# ---- grant: --json, idempotence, event 4670 ----
before=$(count_events vmm01 4670)
W cert grant vmm-console --machine vmm01 --account 'CONTOSO\svc-vmm' --json >"$T_TMP/g.json" 2>"$T_TMP/err"
check_eq "grant --json: account, rights, changed, the new list" \
    'CONTOSO\svc-vmm|Read|1|NT AUTHORITY\SYSTEM: Full Control, BUILTIN\Administrators: Full Control, CONTOSO\svc-vmm: Read' \
    "$(json_sql "$T_TMP/g.json" "SELECT json_extract(j,'$.account') || '|' || json_extract(j,'$.rights') || '|' ||
        json_extract(j,'$.changed') || '|' || json_extract(j,'$.key_access') FROM doc")"
check_eq "the grant logs 4670 in vmm01's Security log" $((before + 1)) "$(count_events vmm01 4670)"
W cert grant vmm-console --machine vmm01 --account 'contoso\SVC-VMM' --json >"$T_TMP/g.json" 2>/dev/null
check_eq "the same grant again changes nothing and logs nothing" "0:$((before + 1))" \
    "$(json_sql "$T_TMP/g.json" "SELECT json_extract(j,'$.changed') FROM doc"):$(count_events vmm01 4670)"
check_exit "--revoke takes it back" 0 W cert grant vmm-console --machine vmm01 --account 'CONTOSO\svc-vmm' --revoke

# ---- VMM: its service account loses the key ----
check_exit "Administrators taken off VMM's key" 0 W cert grant vmm-console --machine vmm01 --account Administrators --revoke
check_exit "... SYSTEM, the last entry, cannot be revoked" 2 W cert grant vmm-console --machine vmm01 --account SYSTEM --revoke
check "... saying so" grep -q "last entry" "$T_TMP/err"
check_eq "the tenant gets no .rdp file" "false:portal" "$(connect_as alice web01)"
W logs --machine vmm01 >"$T_TMP/vmm.log" 2>/dev/null
check "VMM's trace: Exception Message=Keyset does not exist" grep -q 'Exception Message=Keyset does not exist' "$T_TMP/vmm.log"
check "VMM's 12001 names its service account" grep -q 'CONTOSO\\svc-vmm may not use the private key of vmm-console' "$T_TMP/vmm.log"
W logs --machine spf01 >"$T_TMP/spf.log" 2>/dev/null
check "SPF logs the field's line" grep -q "failed with error messsage 'Keyset does not exist'" "$T_TMP/spf.log"
check_eq "diagnose: vmm-cert-key-access on vmm01 only" "vmm-cert-key-access@vmm01" "$(findings)"
check "... with the grant as its fix" grep -q 'wapsim cert grant vmm-console --machine vmm01 --account' "$T_TMP/d.json"
check "... and Manage Private Keys" grep -q 'Manage Private Keys' "$T_TMP/d.json"
check_exit "repair: the service account gets Read" 0 W cert grant vmm-console --machine vmm01 --account 'CONTOSO\svc-vmm'
check_eq "the console opens again" "true:console" "$(connect_as alice web01)"
check_eq "no finding after the repair" "" "$(findings)"

# ---- the gateway: its TLS key re-imported (a new key: the import's list) ----
Q cert remove rdgw-ssl --machine rdgw01 --store My
Q cert import rdgw-ssl --machine rdgw01 --store My
check_eq "a re-import leaves what an import sets" 'NT AUTHORITY\SYSTEM=Full Control;BUILTIN\Administrators=Full Control' \
    "$(acl rdgw-ssl rdgw01)"
check_eq "the running gateway keeps the key it opened at start" "true:console" "$(connect_as alice web01)"
check_exit "the gateway restarts" 0 W service restart rdgw01
check_eq "then no TLS with the gateway" "false:gateway-tls" "$(connect_as alice web01)"
W logs --machine rdgw01 >"$T_TMP/gw.log" 2>/dev/null
check "event 103 at its start" grep -q ' 103 Error .*does not have sufficient permissions to access the Secure Sockets Layer' "$T_TMP/gw.log"
check "Schannel 36870 with 0x8009030D for the handshake" grep -q '36870 Error \[Schannel\] .*0x8009030D' "$T_TMP/gw.log"
n36870=$(count_events rdgw01 36870)
Q status
check_eq "a health probe (no ClientHello) writes no 36870" "$n36870" "$(count_events rdgw01 36870)"
check_eq "diagnose: gateway-cert-key-access on rdgw01, not also gateway-tls-failed" \
    "gateway-cert-key-access@rdgw01" "$(findings)"
check "... with the grant and the restart as its fix" sh -c "grep -q 'wapsim cert grant rdgw-ssl --machine rdgw01' '$T_TMP/d.json' &&
    grep -q 'wapsim service restart rdgw01' '$T_TMP/d.json'"
check_exit "repair: map the certificate again (RD Gateway Manager grants the service Read)" 0 W gateway set --ssl-cert rdgw-ssl
check_eq "... NETWORK SERVICE is back on the key" 'NT AUTHORITY\SYSTEM=Full Control;BUILTIN\Administrators=Full Control;NT AUTHORITY\NETWORK SERVICE=Read' \
    "$(acl rdgw-ssl rdgw01)"
check_eq "granted but not restarted: still no TLS, and diagnose says restart (gateway-tls-failed)" \
    "false:gateway-tls|gateway-tls-failed@rdgw01" "$(connect_as alice web01)|$(findings)"
Q service restart rdgw01
check_eq "after the restart the console opens" "true:console" "$(connect_as alice web01)"
check_eq "no finding after the repair" "" "$(findings)"

# ---- the same with cert grant (Manage Private Keys) ----
Q cert grant rdgw-ssl --machine rdgw01 --account 'NETWORK SERVICE' --revoke
Q service restart rdgw01
check_eq "NETWORK SERVICE revoked: no TLS" "false:gateway-tls" "$(connect_as alice web01)"
check_exit "cert grant --rights full for NETWORK SERVICE" 0 W cert grant rdgw-ssl --machine rdgw01 --account 'network service' --rights full
Q service restart rdgw01
check_eq "the console opens" "true:console" "$(connect_as alice web01)"
check_eq "and diagnose finds nothing" "" "$(findings)"
