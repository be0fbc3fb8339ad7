#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# wapsim diagnose: a healthy lab has no findings (exit 0); each documented mistake, made with the
# operator commands of its scenario file, gives exactly its finding on its machine (exit 1), and
# nothing once repaired; two mistakes at once give both; a mistake on hv02 only is hv02's; a
# stopped service, a skewed clock, a stopped lab, a VMM certificate changed without refreshing the
# hosts, and one that expires next week are found by the same checks. --json's shape, --vm, and
# the shipped scenarios' expectations.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
n=0

# fresh: a new lab of its own in $L, running. The tenant's PC trusts the hosts' own self-signed
# certificates (as after installing them from the identity warning), so the default lab has no
# finding; test_host_cert.sh covers the host-cert-untrusted warning.
fresh() {
    n=$((n + 1))
    L=$T_TMP/lab$n
    new_lab "$L" && "$WAPSIM" --lab "$L" up >/dev/null 2>&1 &&
        for h in hv01 hv02; do "$WAPSIM" --lab "$L" cert import $h-selfsigned --machine client --store Root --public-only >/dev/null 2>&1; done
}
W() { "$WAPSIM" --lab "$L" "$@" >/dev/null 2>&1 </dev/null; }
tp() { "$WAPSIM" --lab "$L" cert show "$1" --json >"$T_TMP/tp.json" 2>/dev/null &&
       json_sql "$T_TMP/tp.json" "SELECT json_extract(j,'$.thumbprint') FROM doc"; }

# diag [OPTIONS]: diagnose --json into $T_TMP/d.json; $rc its exit status; $got the findings as
# "id@machine ..." (sorted, space-separated; "" for none).
diag() {
    "$WAPSIM" --lab "$L" diagnose --json "$@" >"$T_TMP/d.json" 2>"$T_TMP/d.err"
    rc=$?
    got=$(json_sql "$T_TMP/d.json" "SELECT coalesce(group_concat(x, ' '), '') FROM (SELECT
          json_extract(value,'$.id') || '@' || json_extract(value,'$.machine') AS x
          FROM doc, json_each(json_extract(j,'$.findings')) ORDER BY x)")
}
# expect_diag "what" "id@machine ..." [OPTIONS]: exactly these findings, exit 1 (0 when none).
expect_diag() {
    what=$1 want=$2; shift 2
    diag "$@"
    want_rc=1; [ -z "$want" ] && want_rc=0
    check_eq "$what" "$want_rc:$want" "$rc:$got"
}
# field ID KEY: a finding's value (the first with that id).
field() {
    json_sql "$T_TMP/d.json" "SELECT json_extract(value,'$.$2') FROM doc, json_each(json_extract(j,'$.findings'))
              WHERE json_extract(value,'$.id') = '$1' LIMIT 1"
}
# fixes ID: a finding's fix lines, one per line.
fixes() {
    json_sql "$T_TMP/d.json" "SELECT f.value FROM doc, json_each(json_extract(j,'$.findings')) AS x,
              json_each(json_extract(x.value,'$.fix')) AS f WHERE json_extract(x.value,'$.id') = '$1'"
}

# ---- a healthy lab
fresh || not_ok "lab init and up"
expect_diag "a healthy lab: no findings, exit 0" ""
check_eq "--json is {\"findings\":[],\"checks\":[...]}" "0|array" \
    "$(json_sql "$T_TMP/d.json" "SELECT json_array_length(j,'$.findings') || '|' || json_type(j,'$.checks') FROM doc")"
"$WAPSIM" --lab "$L" diagnose >"$T_TMP/d.txt" 2>&1; rc=$?
check_eq "text output on a healthy lab: exit 0, says no findings" "0:1" "$rc:$(grep -c 'no findings' "$T_TMP/d.txt")"
check "text output lists what was checked (processes, clocks, the hosts, the gateway's TLS)" \
    sh -c "grep -q '^Checked: processes; clocks' '$T_TMP/d.txt' && tr '\n' ' ' <'$T_TMP/d.txt' | grep -q \"rdgw01's TLS certificate\""

# ---- m1a: the VMM certificate is not in hv01's Personal store
W cert remove vmm-console --machine hv01 --store My
expect_diag "m1a: vmm-cert-not-in-host-my on hv01, and nothing else" "vmm-cert-not-in-host-my@hv01"
check_eq "m1a: severity error" error "$(field vmm-cert-not-in-host-my severity)"
check "m1a: the evidence names the certificate's thumbprint" \
    sh -c "'$WAPSIM' --lab '$L' diagnose --json | grep -q '$(tp vmm-console)'"
check "m1a: the fix imports it on hv01 and refreshes the host, and gives the PowerShell step" sh -c "
    grep -q 'wapsim cert import vmm-console --machine hv01 --store My --public-only' '$T_TMP/d.json' &&
    grep -q 'wapsim vmm refresh-host hv01' '$T_TMP/d.json' && grep -q 'PowerShell: Import-Certificate' '$T_TMP/d.json'"
"$WAPSIM" --lab "$L" diagnose >"$T_TMP/d.txt" 2>&1; rc=$?
check_eq "m1a in text: exit 1, one ERROR line naming the id and hv01" "1:1" \
    "$rc:$(grep -c '^ERROR  vmm-cert-not-in-host-my  on hv01$' "$T_TMP/d.txt")"
events() { sqlite3 "$L/lab.db" ".timeout 5000" "SELECT count(*) FROM events"; }
before=$(events); diag; after=$(events)
check_eq "a diagnosis writes nothing to the event log (it asks; it does not connect as a tenant)" "$before" "$after"
# The host's agent answers VMM's question about its trust list, and only from a VMM server's
# address with its service account.
if command -v curl >/dev/null 2>&1; then
    addr() { sqlite3 "$L/lab.db" ".timeout 5000" "SELECT address FROM machines WHERE name='$1'"; }
    url="http://$(addr hv01):5985/wsman/console-trust-settings?thumbprint=$(tp vmm-console)"
    vmmpw=$(sqlite3 "$L/lab.db" ".timeout 5000" "SELECT value FROM settings WHERE scope='vmm01' AND key='service_password'")
    curl -s --interface "$(addr vmm01)" -u "CONTOSO\\svc-vmm:$vmmpw" "$url" >"$T_TMP/agent.json"
    check_eq "hv01's agent, asked from vmm01: in TrustedIssuerCertificateHashes, not in My, in Root" "1|0|1|0" \
        "$(json_sql "$T_TMP/agent.json" "SELECT json_extract(j,'$.in_trusted_issuers') || '|' || json_extract(j,'$.in_my')
              || '|' || json_extract(j,'$.in_root') || '|' || json_extract(j,'$.trusted') FROM doc")"
    check_eq "... and asked from the tenant's PC: 403" 403 \
        "$(curl -s -o /dev/null -w '%{http_code}' --interface "$(addr client)" "$url")"
else
    not_ok "curl is missing: install curl (make deps) to ask the host's agent directly"
fi
W cert import vmm-console --machine hv01 --store My --public-only
W vmm refresh-host hv01
expect_diag "m1a repaired: no findings" ""

# ---- m1b: the self-signed VMM certificate is not in hv01's Trusted Root store
W cert remove vmm-console --machine hv01 --store Root
expect_diag "m1b: vmm-cert-not-trusted-on-host on hv01, and nothing else" "vmm-cert-not-trusted-on-host@hv01"
check "m1b: the fix imports it into hv01's Root" sh -c \
    "grep -q 'wapsim cert import vmm-console --machine hv01 --store Root --public-only' '$T_TMP/d.json'"
W cert import vmm-console --machine hv01 --store Root --public-only
expect_diag "m1b repaired: no findings" ""

# ---- m3a: the VMM certificate's thumbprint is not registered on the gateway
W gateway set --remove-trusted-issuer "$(tp vmm-console)"
expect_diag "m3a: gateway-issuer-not-trusted on rdgw01, and nothing else" "gateway-issuer-not-trusted@rdgw01"
check_eq "m3a: the first fix registers the thumbprint" "wapsim gateway set --add-trusted-issuer $(tp vmm-console)" \
    "$(fixes gateway-issuer-not-trusted | head -n 1)"

# ---- two mistakes at once: m3a and m1a
W cert remove vmm-console --machine hv01 --store My
expect_diag "m3a + m1a at once: both findings, each at its machine" \
    "gateway-issuer-not-trusted@rdgw01 vmm-cert-not-in-host-my@hv01"
W gateway set --add-trusted-issuer "$(tp vmm-console)"
W cert import vmm-console --machine hv01 --store My --public-only
expect_diag "both repaired: no findings" ""

# ---- a mistake on hv02 only: vmm-console removed from hv02's Root
W cert remove vmm-console --machine hv02 --store Root
expect_diag "hv02 only: vmm-cert-not-trusted-on-host on hv02 (once, not per VM), not on hv01" \
    "vmm-cert-not-trusted-on-host@hv02"
expect_diag "--vm web01 (on hv01): no findings" "" --vm web01
expect_diag "--vm app01 (on hv02): the hv02 finding" "vmm-cert-not-trusted-on-host@hv02" --vm app01
W cert import vmm-console --machine hv02 --store Root --public-only
check_exit "--vm with an unknown VM: exit 2" 2 "$WAPSIM" --lab "$L" diagnose --vm nosuchvm
check "... naming it" grep -q "nosuchvm" "$T_TMP/err"

# ---- a stopped service and a skewed clock
W service stop hv02
expect_diag "service stop hv02: process-down on hv02, and nothing else" "process-down@hv02"
check "... with the repair: wapsim service start hv02 and Start-Service vmms" sh -c \
    "grep -q 'wapsim service start hv02' '$T_TMP/d.json' && grep -q 'Start-Service vmms' '$T_TMP/d.json'"
W service start hv02
W clock skew hv01 1h
expect_diag "clock skew hv01 1h: clock-skew on hv01, and nothing else" "clock-skew@hv01"
W clock skew hv01 90s
expect_diag "a skew within the token TTL (90 s < 2 min) is no finding" ""
W clock skew hv01 0

# ---- the VMM certificate changed without refreshing the hosts (no scenario makes this)
W cert new console2 --subject "CN=Remote Console Connect" --self-signed --eku clientAuth --key-usage digitalSignature \
    --csp "Microsoft Enhanced RSA and AES Cryptographic Provider" --days 365
for m in hv01 hv02 rdgw01; do W cert import console2 --machine $m --store Root --public-only; done
W cert import console2 --machine rdgw01 --store My --public-only
W gateway set --add-trusted-issuer "$(tp console2)"
W vmm set --gateway-cert console2 --hyperv-cert console2
expect_diag "new VMM certificate, hosts not refreshed: host-trust-list-stale on each host" \
    "host-trust-list-stale@hv01 host-trust-list-stale@hv02"
check "... the evidence names the thumbprint the hosts still trust" sh -c \
    "grep -q '$(tp vmm-console)' '$T_TMP/d.json'"
check "... the fix refreshes each host, then restarts its service (it reads the list at start)" sh -c "
    grep -q 'wapsim vmm refresh-host hv01' '$T_TMP/d.json' && grep -q 'wapsim service restart hv01' '$T_TMP/d.json' &&
    grep -q 'Restart-Service vmms' '$T_TMP/d.json'"
W vmm refresh-host --all
expect_diag "hosts refreshed, their service not restarted: host-trust-list-stale on each host (pitfall p7)" \
    "host-trust-list-stale@hv01 host-trust-list-stale@hv02"
# Each host's Hyper-V Virtual Machine Management service reads its trust list when it starts
# (host/trust.h; marcvaneijk.com 2013-09-10): test_trust_stale.sh covers the rest.
W service restart hv01 hv02
expect_diag "hosts refreshed and restarted: no findings" ""

# ---- a VMM certificate that expires next week: a warning
W cert new console7 --subject "CN=Remote Console Connect" --self-signed --eku clientAuth --key-usage digitalSignature \
    --csp "Microsoft Enhanced RSA and AES Cryptographic Provider" --days 7
for m in hv01 hv02 rdgw01; do W cert import console7 --machine $m --store Root --public-only; done
W cert import console7 --machine rdgw01 --store My --public-only
W gateway set --add-trusted-issuer "$(tp console7)"
W vmm set --gateway-cert console7 --hyperv-cert console7
W vmm refresh-host --all
W service restart hv01 hv02
expect_diag "a VMM certificate valid 7 more days: vmm-cert-expires-soon on vmm01" "vmm-cert-expires-soon@vmm01"
check_eq "... as a warning" warning "$(field vmm-cert-expires-soon severity)"
W clock advance 8d
expect_diag "8 days later: vmm-cert-expired on vmm01 (not also on every host that checks it)" \
    "vmm-cert-expired@vmm01"
W clock advance -8d
W vmm set --gateway-cert vmm-console --hyperv-cert vmm-console
W vmm refresh-host --all
W service restart hv01 hv02
expect_diag "back to vmm-console: no findings" ""

# ---- the JSON shape, on a lab with four faults at once
W cert remove vmm-console --machine hv01 --store My
W gateway set --remove-trusted-issuer "$(tp vmm-console)"
W cloud set --rd-gateway-fqdn rdgw01.fabric.contoso.local
W clock skew hv02 1h
expect_diag "four faults at once: four findings, each at its machine" \
    "clock-skew@hv02 gateway-fqdn-mismatch@rdgw01 gateway-issuer-not-trusted@rdgw01 vmm-cert-not-in-host-my@hv01"
check_eq "every finding has id, machine, severity error|warning, evidence and a fix list" "0" \
    "$(json_sql "$T_TMP/d.json" "SELECT count(*) FROM doc, json_each(json_extract(j,'$.findings'))
        WHERE json_type(value,'$.id') != 'text' OR json_type(value,'$.machine') != 'text'
           OR json_extract(value,'$.severity') NOT IN ('error','warning')
           OR json_type(value,'$.evidence') != 'text' OR length(json_extract(value,'$.evidence')) = 0
           OR json_type(value,'$.fix') != 'array' OR json_array_length(value,'$.fix') = 0")"
check "each fix list holds a wapsim command and a PowerShell (or portal) step" test "$(json_sql "$T_TMP/d.json" \
    "SELECT count(*) FROM doc, json_each(json_extract(j,'$.findings')) AS x WHERE
       NOT EXISTS (SELECT 1 FROM json_each(json_extract(x.value,'$.fix')) WHERE value LIKE 'wapsim %')
    OR NOT EXISTS (SELECT 1 FROM json_each(json_extract(x.value,'$.fix'))
                   WHERE value LIKE 'PowerShell: %' OR value LIKE 'Portal: %')")" = 0
W down

# ---- m2: the VMM certificate's key is in a provider without SHA-256
fresh || not_ok "lab init and up"
W cert new console-strong --subject "CN=Remote Console Connect" --self-signed --eku clientAuth \
    --key-usage digitalSignature --csp "Microsoft Strong Cryptographic Provider" --days 365
W cert import console-strong --machine vmm01 --store My
for m in hv01 hv02 rdgw01; do W cert import console-strong --machine $m --store Root --public-only; done
W cert import console-strong --machine rdgw01 --store My --public-only
W gateway set --add-trusted-issuer "$(tp console-strong)"
W vmm set --gateway-cert console-strong --hyperv-cert console-strong
W vmm refresh-host --all
W service restart hv01 hv02
expect_diag "m2: vmm-cert-csp on vmm01, and nothing else" "vmm-cert-csp@vmm01"
check "m2: the evidence names the CSP and the provider's failure" sh -c \
    "grep -q 'Microsoft Strong Cryptographic Provider' '$T_TMP/d.json' && grep -q 'Invalid algorithm specified' '$T_TMP/d.json'"
check "m2: the fix makes a certificate with the Enhanced RSA and AES provider" sh -c \
    "grep -q 'csp .*Microsoft Enhanced RSA and AES Cryptographic Provider' '$T_TMP/d.json'"
W cert new console-aes --subject "CN=Remote Console Connect" --self-signed --eku clientAuth \
    --key-usage digitalSignature --csp "Microsoft Enhanced RSA and AES Cryptographic Provider" --days 365
for m in hv01 hv02 rdgw01; do W cert import console-aes --machine $m --store Root --public-only; done
W cert import console-aes --machine rdgw01 --store My --public-only
W gateway set --add-trusted-issuer "$(tp console-aes)"
W vmm set --gateway-cert console-aes --hyperv-cert console-aes
W vmm refresh-host --all
W service restart hv01 hv02
expect_diag "m2 repaired: no findings" ""

# ---- the (healthy) lab stopped
W down
expect_diag "the lab stopped: lab-down once (not process-down per machine)" "lab-down@all"
check "... with wapsim up as the repair" grep -q '"wapsim up"' "$T_TMP/d.json"

# ---- m3b: the gateway certificate renewed, the gateway not restarted
fresh || not_ok "lab init and up"
W cert new rdgw-30d --subject CN=rdgw.contoso.com --san DNS:rdgw.contoso.com --eku serverAuth \
    --key-usage digitalSignature,keyEncipherment --issuer lab-root-ca --days 30
W cert import rdgw-30d --machine rdgw01 --store My
W gateway set --ssl-cert rdgw-30d
W service restart rdgw01
W clock advance 31d
W cert new rdgw-renewed --subject CN=rdgw.contoso.com --san DNS:rdgw.contoso.com --eku serverAuth \
    --key-usage digitalSignature,keyEncipherment --issuer lab-root-ca --days 365
W cert import rdgw-renewed --machine rdgw01 --store My
W gateway set --ssl-cert rdgw-renewed
expect_diag "m3b: gateway-cert-stale on rdgw01 only (the expired certificate it serves is the same cause)" \
    "gateway-cert-stale@rdgw01"
check "m3b: the evidence names the served (expired) and the bound certificate" sh -c \
    "grep -q '$(tp rdgw-30d)' '$T_TMP/d.json' && grep -q '$(tp rdgw-renewed)' '$T_TMP/d.json' && grep -q 'expired on' '$T_TMP/d.json'"
check_eq "m3b: the fix is to restart the gateway" "wapsim service restart rdgw01" "$(fixes gateway-cert-stale | head -n 1)"
W service restart rdgw01
expect_diag "m3b repaired: no findings" ""

# ---- m4a: the cloud's RD Gateway FQDN does not match the certificate
W cloud set --rd-gateway-fqdn rdgw01.fabric.contoso.local
expect_diag "m4a: gateway-fqdn-mismatch, and nothing else" "gateway-fqdn-mismatch@rdgw01"
check "m4a: the fix sets the FQDN the certificate carries, in wapsim and in the admin portal" sh -c \
    "grep -q 'wapsim cloud set --rd-gateway-fqdn rdgw.contoso.com' '$T_TMP/d.json' && grep -q 'Portal: WAP admin portal' '$T_TMP/d.json'"
W cloud set --rd-gateway-fqdn rdgw.contoso.com
expect_diag "m4a repaired: no findings" ""

# ---- m4b: a gateway certificate without a DNS SAN, bound and served
W cert new rdgw-netbios --subject CN=RDGW01 --eku serverAuth --key-usage digitalSignature,keyEncipherment \
    --issuer lab-root-ca --days 365
W cert import rdgw-netbios --machine rdgw01 --store My
W gateway set --ssl-cert rdgw-netbios
W service restart rdgw01
expect_diag "m4b: gateway-cert-no-dns-san, once (not also gateway-fqdn-mismatch)" "gateway-cert-no-dns-san@rdgw01"
W cert new rdgw-san --subject CN=rdgw.contoso.com --san DNS:rdgw.contoso.com --eku serverAuth \
    --key-usage digitalSignature,keyEncipherment --issuer lab-root-ca --days 365
W cert import rdgw-san --machine rdgw01 --store My
W gateway set --ssl-cert rdgw-san
expect_diag "m4b, the good certificate bound but not served yet: gateway-cert-stale" "gateway-cert-stale@rdgw01"
W service restart rdgw01
expect_diag "m4b repaired: no findings" ""
W down

# ---- the shipped scenarios carry the diagnosis
for scn in "$top"/scenarios/m*.scn; do
    name=$(basename "$scn" .scn)
    check "$name: one expect diagnose = ID while broken, = none after the repair" sh -c "
        test \$(grep -c '^expect diagnose = ' '$scn') -eq 2 &&
        grep '^expect diagnose = ' '$scn' | head -n 1 | grep -vq 'none\$' &&
        test \"\$(grep '^expect diagnose = ' '$scn' | tail -n 1)\" = 'expect diagnose = none'"
done
check "happy-path: expect diagnose = none" grep -qx 'expect diagnose = none' "$top/scenarios/happy-path.scn"
