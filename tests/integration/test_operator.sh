#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Operator commands: cert new | import | remove | import-file, vmm set | refresh-host,
# gateway set, cloud set, clock advance | skew | show. Each happy path, each refusal (exit 2,
# one line naming the bad value, nothing changed in lab.db), and the field note's mistake 2
# (a key in a CSP that cannot hash SHA-256) reached by commands only, then repaired.
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
db() { sqlite3 -batch -noheader "$L/lab.db" ".timeout 5000" "$@"; }
# What the operator commands may change, and how many events there are (taken while no
# component runs, so nothing else writes).
snap() {
    db "SELECT name||' '||thumbprint||' '||coalesce(csp,'-')||' '||(key_der IS NULL) FROM certificates ORDER BY name;
        SELECT machine||' '||store||' '||certificate||' '||has_private_key FROM store_entries ORDER BY 1;
        SELECT scope||' '||key||' '||value FROM settings ORDER BY 1;
        SELECT machine||' '||thumbprint FROM trusted_issuers ORDER BY 1;
        SELECT name||' '||skew_seconds FROM machines ORDER BY 1;
        SELECT key||' '||value FROM lab_meta WHERE key LIKE 'clock%';
        SELECT count(*) FROM events;" | md5sum
}
# refuse "what" NEEDLE ARGS...: exit 2, one line on stderr containing NEEDLE, lab.db unchanged.
refuse() {
    what=$1 needle=$2; shift 2
    before=$(snap)
    W "$@" >"$T_TMP/out" 2>"$T_TMP/err"; got=$?
    lines=$(wc -l <"$T_TMP/err")
    same=yes; [ "$before" = "$(snap)" ] || same=no
    if [ "$got" = 2 ] && [ "$lines" = 1 ] && [ "$same" = yes ] && grep -qF -- "$needle" "$T_TMP/err"; then
        ok "refused: $what"
    else
        not_ok "refused: $what (exit $got, $lines lines, unchanged: $same: $(head -c 300 "$T_TMP/err"))"
    fi
}
# happy "what" ARGS...: exit 0 (output in $T_TMP/out)
happy() {
    what=$1; shift
    W "$@" >"$T_TMP/out" 2>"$T_TMP/err"; got=$?
    if [ "$got" = 0 ]; then ok "$what"; else not_ok "$what (exit $got: $(head -c 300 "$T_TMP/err"))"; fi
}
events() { db "SELECT count(*) FROM events WHERE machine='$1' AND event_id=$2"; }
csp_of() { db "SELECT coalesce(csp,'NULL') FROM certificates WHERE name='$1'"; }
in_store() { db "SELECT coalesce((SELECT has_private_key FROM store_entries WHERE machine='$1' AND store='$2' AND certificate='$3'),'none')"; }
trusted() { db "SELECT group_concat(thumbprint) FROM (SELECT thumbprint FROM trusted_issuers WHERE machine='$1' ORDER BY thumbprint)"; }
setting() { db "SELECT value FROM settings WHERE scope='$1' AND key='$2'"; }
tp_of() { db "SELECT thumbprint FROM certificates WHERE name='$1'"; }

AES="Microsoft Enhanced RSA and AES Cryptographic Provider"
STRONG="Microsoft Strong Cryptographic Provider"

# ---- 1. cert new
happy "cert new: a self-signed console certificate (makecert recipe)" cert new console2 \
    --subject "CN=Remote Console Connect" --eku clientAuth --key-usage digitalSignature --csp "$AES" --self-signed
check_eq "... prints its thumbprint" "$(tp_of console2)" "$(cat "$T_TMP/out")"
check_eq "... keeps the CSP" "$AES" "$(csp_of console2)"
check_eq "... with its key in the vault and in no store" "1|0" \
    "$(db "SELECT key_der IS NOT NULL FROM certificates WHERE name='console2'")|$(db "SELECT count(*) FROM store_entries WHERE certificate='console2'")"
happy "cert new --issuer --days --not-before --json" cert new gw30 --subject "CN=rdgw.contoso.com" \
    --san DNS:rdgw.contoso.com --eku serverAuth --key-usage digitalSignature,keyEncipherment \
    --issuer lab-root-ca --days 30 --not-before 2030-01-01T00:00:00Z --json
cp "$T_TMP/out" "$T_TMP/gw30.json"
check_eq "... JSON name and thumbprint" "gw30|$(tp_of gw30)" \
    "$(json_sql "$T_TMP/gw30.json" "SELECT json_extract(j,'$.name')||'|'||json_extract(j,'$.thumbprint') FROM doc")"
W cert show gw30 --json >"$T_TMP/gw30show.json"
check_eq "... validity, issuer and SAN as asked" "2030-01-01T00:00:00Z|2030-01-31T00:00:00Z|CN=Contoso Root CA|DNS:rdgw.contoso.com" \
    "$(json_sql "$T_TMP/gw30show.json" "SELECT json_extract(j,'$.not_before')||'|'||json_extract(j,'$.not_after')||'|'||json_extract(j,'$.issuer')||'|'||json_extract(j,'$.sans') FROM doc")"
happy "cert new without --csp" cert new plain --subject "CN=plain" --self-signed
check_eq "... lands in the default provider [model]" "Microsoft Software Key Storage Provider" "$(csp_of plain)"

refuse "cert new with an unknown CSP" '"Microsoft Fantasy Provider"' cert new x --subject CN=x --self-signed --csp "Microsoft Fantasy Provider"
refuse "cert new with a taken name" "'console2' already exists" cert new console2 --subject CN=x --self-signed
refuse "cert new with an unknown issuer" "'nope'" cert new x --subject CN=x --issuer nope
refuse "cert new with both --self-signed and --issuer" "exactly one" cert new x --subject CN=x --self-signed --issuer lab-root-ca
refuse "cert new with neither --self-signed nor --issuer" "exactly one" cert new x --subject CN=x
refuse "cert new with a bad SAN" "'rdgw'" cert new x --subject CN=x --self-signed --san DNS:a,rdgw
refuse "cert new with a bad IP SAN" "'300.1.1.1'" cert new x --subject CN=x --self-signed --san IP:300.1.1.1
refuse "cert new with an unknown EKU" "'serverAuthentication'" cert new x --subject CN=x --self-signed --eku serverAuthentication
refuse "cert new with an unknown key usage" "'signature'" cert new x --subject CN=x --self-signed --key-usage signature
refuse "cert new with --days 0" "'0'" cert new x --subject CN=x --self-signed --days 0
refuse "cert new with a bad --not-before" "'tomorrow'" cert new x --subject CN=x --self-signed --not-before tomorrow
refuse "cert new with a bad subject" "'CNX=x'" cert new x --subject CNX=x --self-signed
refuse "cert new without --subject" "--subject" cert new x --self-signed

# ---- 2. cert import-file: PEM, DER, PFX with its CSP attribute
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_TMP/ext.key" -out "$T_TMP/ext.pem" -days 30 \
    -subj "/CN=External" -addext "extendedKeyUsage=clientAuth" -addext "keyUsage=critical,digitalSignature" 2>/dev/null
openssl x509 -in "$T_TMP/ext.pem" -outform DER -out "$T_TMP/ext.der"
ext_tp=$(openssl x509 -in "$T_TMP/ext.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
happy "cert import-file PEM (certificate only)" cert import-file "$T_TMP/ext.pem" --name ext-pem
check_eq "... prints the thumbprint openssl computes" "$ext_tp" "$(cat "$T_TMP/out")"
check_eq "... without a key" "1" "$(db "SELECT key_der IS NULL FROM certificates WHERE name='ext-pem'")"
happy "cert import-file DER" cert import-file "$T_TMP/ext.der" --name ext-der --json
check_eq "... the same certificate" "$ext_tp|0" \
    "$(json_sql "$T_TMP/out" "SELECT json_extract(j,'$.thumbprint')||'|'||json_extract(j,'$.has_private_key') FROM doc")"
cat "$T_TMP/ext.pem" "$T_TMP/ext.key" >"$T_TMP/ext-key.pem"
happy "cert import-file PEM with its key" cert import-file "$T_TMP/ext-key.pem" --name ext-key
check_eq "... with the key" "0" "$(db "SELECT key_der IS NULL FROM certificates WHERE name='ext-key'")"
# Mistake 2's certificate: made elsewhere, its key in a PROV_RSA_FULL provider.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_TMP/strong.key" -out "$T_TMP/strong.pem" -days 365 \
    -subj "/CN=Remote Console Connect" -addext "extendedKeyUsage=clientAuth" \
    -addext "keyUsage=critical,digitalSignature" 2>/dev/null
openssl pkcs12 -export -in "$T_TMP/strong.pem" -inkey "$T_TMP/strong.key" -CSP "$STRONG" \
    -passout pass:S3cret -out "$T_TMP/strong.pfx"
refuse "cert import-file PFX with a wrong password" "password" cert import-file "$T_TMP/strong.pfx" --name strong --password wrong
refuse "cert import-file of a file that is no certificate" "neither PEM, DER nor PFX" cert import-file "$T_TMP/gw30.json" --name junk
refuse "cert import-file of a missing file" "no-such.pfx" cert import-file "$T_TMP/no-such.pfx" --name junk
refuse "cert import-file under a taken name" "'ext-pem' already exists" cert import-file "$T_TMP/ext.pem" --name ext-pem
happy "cert import-file PFX made by openssl pkcs12 -export -CSP" cert import-file "$T_TMP/strong.pfx" --name strong --password S3cret
check_eq "... keeps the PFX's CSP attribute" "$STRONG" "$(csp_of strong)"
check_eq "... and its key" "0" "$(db "SELECT key_der IS NULL FROM certificates WHERE name='strong'")"
refuse "cert new with a keyless issuer" "no private key" cert new x --subject CN=x --issuer ext-pem

# ---- 3. cert import / remove
refuse "cert import into store CA" "'CA'" cert import console2 --machine hv01 --store CA
refuse "cert import onto an unknown machine" "'hv09'" cert import console2 --machine hv09 --store My
refuse "cert import of an unknown certificate" "'nosuch'" cert import nosuch --machine hv01 --store My
refuse "cert import without --store" "--store" cert import console2 --machine hv01
e1006=$(events hv01 1006)
happy "cert import with the private key (Import-PfxCertificate)" cert import console2 --machine hv01 --store My
check_eq "... in hv01's My with its key" "1" "$(in_store hv01 My console2)"
check "... event 1006 on hv01" test "$(events hv01 1006)" -gt "$e1006"
happy "cert import --public-only (Import-Certificate), store spelt 'root'" cert import console2 --machine hv02 --store root --public-only
check_eq "... in hv02's Root without a key" "0" "$(in_store hv02 Root console2)"
happy "cert import of a keyless certificate installs its public part" cert import ext-pem --machine hv02 --store My
check_eq "... without a key" "0" "$(in_store hv02 My ext-pem)"
happy "importing it again changes nothing" cert import ext-pem --machine hv02 --store My
check "... and says so" grep -q "nothing changed" "$T_TMP/out"
refuse "cert remove of a certificate not in that store (names both)" "'console2' is not in hv02\\LocalMachine\\My" \
    cert remove console2 --machine hv02 --store My
refuse "cert remove from store CA" "'CA'" cert remove console2 --machine hv01 --store CA
e1004=$(events hv01 1004)
happy "cert remove (Remove-Item Cert:\\...)" cert remove console2 --machine hv01 --store My
check_eq "... gone from hv01's My" "none" "$(in_store hv01 My console2)"
check "... event 1004 on hv01" test "$(events hv01 1004)" -gt "$e1004"
check_eq "... still in the vault" "1" "$(db "SELECT count(*) FROM certificates WHERE name='console2'")"
W cert remove ext-pem --machine hv02 --store My >/dev/null
W cert remove console2 --machine hv02 --store Root >/dev/null

# ---- 4. vmm set: validation, all or nothing
refuse "vmm set --ttl-minutes 0" "'0'" vmm set --ttl-minutes 0
refuse "vmm set --ttl-minutes 61" "'61'" vmm set --ttl-minutes 61
refuse "vmm set --host-id-mode NetBIOS" "'NetBIOS'" vmm set --host-id-mode NetBIOS
refuse "vmm set --default-port 0" "'0'" vmm set --default-port 0
refuse "vmm set --gateway-cert of an unknown certificate" "'nosuch'" vmm set --gateway-cert nosuch
refuse "vmm set --hyperv-cert of a certificate without its key" "private key is required" vmm set --hyperv-cert ext-pem
refuse "vmm set with nothing to set" "nothing to set" vmm set
refuse "vmm set: a valid TTL with a keyless certificate changes neither" "ext-der" vmm set --ttl-minutes 5 --gateway-cert ext-der
check_eq "... the TTL is still 2" "2" "$(setting vmm01 ttl_minutes)"
e12020=$(events vmm01 12020)
happy "vmm set --ttl-minutes 5 --host-id-mode fqdn --default-port 2179" vmm set --ttl-minutes 5 --host-id-mode fqdn --default-port 2179
check_eq "... stored as Set-SCVMMServer spells it" "5|FQDN|2179" "$(setting vmm01 ttl_minutes)|$(setting vmm01 host_id_mode)|$(setting vmm01 default_port)"
check "... event 12020 on vmm01" test "$(events vmm01 12020)" -gt "$e12020"

# ---- 5. gateway set, cloud set: validation
TP39=$(tp_of vmm-console | cut -c1-39)
refuse "gateway set with a thumbprint of 39 digits" "'$TP39'" gateway set --add-trusted-issuer "$TP39"
refuse "gateway set --trusted-issuers with a bad thumbprint" "'xyz'" gateway set --trusted-issuers "$(tp_of vmm-console),xyz"
refuse "gateway set --remove-trusted-issuer of one not there" "$(tp_of strong)" gateway set --remove-trusted-issuer "$(tp_of strong)"
refuse "gateway set --ssl-cert of a certificate not in rdgw01's My" "'gw30'" gateway set --ssl-cert gw30
W cert import gw30 --machine rdgw01 --store My --public-only >/dev/null
refuse "gateway set --ssl-cert of a certificate there without its key" "private key" gateway set --ssl-cert gw30
refuse "gateway set --ssl-cert of an unknown certificate" "'nosuch'" gateway set --ssl-cert nosuch
refuse "gateway set: a valid thumbprint with a bad certificate changes neither" "'gw30'" gateway set --add-trusted-issuer "$(tp_of strong)" --ssl-cert gw30
refuse "gateway set with nothing to set" "nothing to set" gateway set
refuse "cloud set with a port" "'rdgw.contoso.com:443'" cloud set --rd-gateway-fqdn rdgw.contoso.com:443
refuse "cloud set with an empty label" "'rdgw..contoso.com'" cloud set --rd-gateway-fqdn rdgw..contoso.com
refuse "cloud set with a bad character" "'rdgw_01.contoso.com'" cloud set --rd-gateway-fqdn rdgw_01.contoso.com
W cert remove gw30 --machine rdgw01 --store My >/dev/null
lc_tp=$(tp_of strong | tr 'A-F' 'a-f' | sed 's/../&:/g; s/:$//')
happy "gateway set --add-trusted-issuer (lower case, with colons)" gateway set --add-trusted-issuer "$lc_tp"
check_eq "... stored in canonical form" "1" "$(db "SELECT count(*) FROM trusted_issuers WHERE machine='rdgw01' AND thumbprint='$(tp_of strong)'")"
happy "gateway set --remove-trusted-issuer" gateway set --remove-trusted-issuer "$(tp_of strong)"
happy "gateway set --trusted-issuers replaces the list" gateway set --trusted-issuers "$(tp_of console2),$(tp_of vmm-console)"
check_eq "... exactly those" "$(printf '%s\n%s\n' "$(tp_of console2)" "$(tp_of vmm-console)" | sort | paste -sd,)" "$(trusted rdgw01)"
check "... event 1011 on rdgw01" test "$(events rdgw01 1011)" -ge 3
W gateway set --trusted-issuers "$(tp_of vmm-console)" >/dev/null

# ---- 6. clock
refuse "clock advance with a bad duration" "'2 hours'" clock advance "2 hours"
refuse "clock advance --machine of an unknown machine" "'hv09'" clock advance 1h --machine hv09
refuse "clock skew of an unknown machine" "'hv09'" clock skew hv09 5m
refuse "clock skew with a bad duration" "'5x'" clock skew hv01 5x
W clock show --json >"$T_TMP/c0.json"
happy "clock advance 2h" clock advance 2h
W clock show --json >"$T_TMP/c1.json"
t0=$(json_sql "$T_TMP/c0.json" "SELECT json_extract(j,'$.lab_time_unix') FROM doc")
t1=$(json_sql "$T_TMP/c1.json" "SELECT json_extract(j,'$.lab_time_unix') FROM doc")
check "... clock show moves by 2 hours" test $((t1 - t0)) -ge 7200 -a $((t1 - t0)) -le 7210
check_eq "... offset 7200" "7200" "$(json_sql "$T_TMP/c1.json" "SELECT json_extract(j,'$.offset_seconds') FROM doc")"
check_eq "... a time-change event (Kernel-General 1) on every machine" "$(db "SELECT count(*) FROM machines")" \
    "$(db "SELECT count(DISTINCT machine) FROM events WHERE event_id=1 AND source='Microsoft-Windows-Kernel-General'")"
happy "clock advance -90s --machine hv01 (negative)" clock advance -90s --machine hv01
happy "clock advance -30s --machine hv01 adds" clock advance --machine hv01 -30s
check_eq "... hv01's skew" "-120" "$(db "SELECT skew_seconds FROM machines WHERE name='hv01'")"
happy "clock skew hv01 0 sets it" clock skew hv01 0
check_eq "... back to 0" "0" "$(db "SELECT skew_seconds FROM machines WHERE name='hv01'")"
happy "clock advance -2h" clock advance -2h
W clock show --json >"$T_TMP/c3.json"
check_eq "... the offset is back to 0" "0" "$(json_sql "$T_TMP/c3.json" "SELECT json_extract(j,'$.offset_seconds') FROM doc")"
happy "clock show (text)" clock show
check "... lists every machine" sh -c "grep -c '^hv0[12] ' '$T_TMP/out' | grep -qx 2"

# ---- 7. the lab running: refresh-host, the field note's mistake 2 by commands, the repair
W up >/dev/null 2>&1 || { not_ok "up"; exit 1; }
rdp_json() { W rdp-file --tenant alice --vm web01 --out "$T_TMP/web01.rdp" --json >"$T_TMP/rdp.json" 2>"$T_TMP/rdp.err"; }
rdp_field() { json_sql "$T_TMP/rdp.json" "SELECT json_extract(j,'$.$1') FROM doc"; }
rdp_json
check_eq "the healthy lab issues web01's .rdp file" "1" "$(rdp_field ok)"
VC=$(tp_of vmm-console)
happy "vmm refresh-host --all" vmm refresh-host --all
check_eq "... each host trusts exactly the Hyper-V certificate" "$VC|$VC" "$(trusted hv01)|$(trusted hv02)"
check "... event 12021 on vmm01 and 14170 on the hosts" test "$(events vmm01 12021)" -ge 2 -a "$(events hv01 14170)" -ge 1 -a "$(events hv02 14170)" -ge 1

ST=$(tp_of strong)
for m in hv01 hv02 rdgw01; do
    W cert import strong --machine $m --store Root >/dev/null && W cert import strong --machine $m --store My --public-only >/dev/null ||
        not_ok "import strong on $m"
done
happy "the gateway trusts the new thumbprint" gateway set --add-trusted-issuer "$ST"
happy "vmm set --gateway-cert strong --hyperv-cert strong" vmm set --gateway-cert strong --hyperv-cert strong
check_eq "... VMM holds it with its key" "1" "$(in_store vmm01 My strong)"
check "... and says the hosts are not reconfigured" grep -q "not reconfigured" "$T_TMP/out"
check_eq "... indeed: the hosts still trust the old thumbprint" "$VC" "$(trusted hv01)"
happy "vmm refresh-host --all with it" vmm refresh-host --all
check_eq "... the hosts now trust exactly the new thumbprint" "$ST|$ST" "$(trusted hv01)|$(trusted hv02)"
check_eq "... and hold its public part in My" "0|0" "$(in_store hv01 My strong)|$(in_store hv02 My strong)"
rdp_json
check_eq "mistake 2: the browser gets JSON instead of an .rdp file" "0|application/json" "$(rdp_field ok)|$(rdp_field content_type | cut -d';' -f1)"
check "... an OData error body" sh -c "grep -q 'odata.error' '$T_TMP/rdp.json'"
trace=$(db "SELECT text FROM events WHERE machine='vmm01' AND channel='Trace' ORDER BY id DESC LIMIT 1")
check_eq "... VMM's trace block ends with the seed's line" "Exception Message=Invalid algorithm specified." "$(printf '%s\n' "$trace" | tail -n 1)"
check "... and names the provider in its event" sh -c "sqlite3 '$L/lab.db' \"SELECT text FROM events WHERE machine='vmm01' AND event_id=12002 ORDER BY id DESC LIMIT 1\" | grep -q '$STRONG'"

happy "repair: vmm set back to a certificate whose CSP hashes SHA-256" vmm set --gateway-cert vmm-console --hyperv-cert vmm-console
# The administrator also takes the unusable certificate out of the hosts' stores. (Left in
# Root, its subject, the same as vmm-console's, currently makes the lab's OpenSSL chain
# building on the hosts order-dependent: see the report of this test's author.)
for m in hv01 hv02; do
    W cert remove strong --machine $m --store Root >/dev/null && W cert remove strong --machine $m --store My >/dev/null ||
        not_ok "remove strong from $m"
done
happy "repair: vmm refresh-host --all" vmm refresh-host --all
rdp_json
check_eq "... the .rdp file is issued again" "1" "$(rdp_field ok)"

# The gateway binds its certificate at start: a new one waits for a restart.
gw=$(db "SELECT address FROM machines WHERE name='rdgw01'")
served() {
    echo | timeout 10 openssl s_client -connect "$gw:8443" -servername rdgw.contoso.com 2>/dev/null |
        openssl x509 -noout -fingerprint -sha1 2>/dev/null | sed 's/.*=//; s/://g'
}
happy "cert new a renewed gateway certificate" cert new rdgw-renewed --subject CN=rdgw.contoso.com \
    --san DNS:rdgw.contoso.com --eku serverAuth --key-usage digitalSignature,keyEncipherment \
    --csp "Microsoft RSA SChannel Cryptographic Provider" --issuer lab-root-ca --days 90
happy "cert import it on rdgw01 with its key" cert import rdgw-renewed --machine rdgw01 --store My
happy "gateway set --ssl-cert rdgw-renewed" gateway set --ssl-cert rdgw-renewed
check "... says it takes effect when the gateway restarts" grep -q "takes effect when the gateway restarts" "$T_TMP/out"
check_eq "... the setting changed" "rdgw-renewed" "$(setting rdgw01 ssl_cert)"
check_eq "... the running gateway still serves the certificate it bound at start" "$(tp_of rdgw-ssl)" "$(served)"
W gateway set --ssl-cert rdgw-ssl >/dev/null

happy "cloud set --rd-gateway-fqdn rdgw01.fabric.contoso.local" cloud set --rd-gateway-fqdn rdgw01.fabric.contoso.local
check_eq "... stored for the cloud" "rdgw01.fabric.contoso.local" "$(setting cloud rd_gateway_fqdn)"
check "... event 1100 on the portal machine" test "$(events portal 1100)" -ge 1
rdp_json
check "... new .rdp files name it as gatewayhostname" sh -c \
    "iconv -f UTF-16LE -t UTF-8 '$T_TMP/web01.rdp' | grep -q '^gatewayhostname:s:rdgw01.fabric.contoso.local:8443'"
W cloud set --rd-gateway-fqdn rdgw.contoso.com >/dev/null

happy "clock advance 2h with the lab running" clock advance 2h
W clock show --json >"$T_TMP/c2.json"
t2=$(json_sql "$T_TMP/c2.json" "SELECT json_extract(j,'$.lab_time_unix') FROM doc")
check "... clock show moved 2 hours ahead of the wall clock" test $((t2 - $(date +%s))) -ge 7190
rdp_json
check_eq "... tokens are still issued (the certificates are a year long)" "1" "$(rdp_field ok)"
W clock advance -2h >/dev/null

# ---- 8. refresh-host of a host that is down
W down >/dev/null 2>&1
before="$(db "SELECT group_concat(store||certificate) FROM store_entries WHERE machine='hv01'")|$(trusted hv01)"
W vmm set --hyperv-cert strong >/dev/null
W vmm refresh-host hv01 >"$T_TMP/out" 2>&1; got=$?
check_eq "vmm refresh-host of a host that is down exits 1" "1" "$got"
check "... one line naming the host and why" sh -c "grep -c . '$T_TMP/out' | grep -qx 1 && grep -q '^hv01: .*did not answer VMM' '$T_TMP/out'"
check_eq "... nothing changed on hv01" "$before" \
    "$(db "SELECT group_concat(store||certificate) FROM store_entries WHERE machine='hv01'")|$(trusted hv01)"
check "... VMM logs event 12004" test "$(events vmm01 12004)" -ge 1
refuse "vmm refresh-host of a machine that is not a host" "'rdgw01'" vmm refresh-host rdgw01
refuse "vmm refresh-host of an unknown machine" "'hv09'" vmm refresh-host hv09
refuse "vmm refresh-host with neither HOST nor --all" "which host" vmm refresh-host

# ---- 9. --help for each command
for c in "cert new" "cert import" "cert remove" "cert import-file" "vmm set" "vmm refresh-host" "vmm fedauth" \
    "gateway set" "cloud set" "clock advance" "clock skew" "clock show"; do
    # shellcheck disable=SC2086
    W $c --help >"$T_TMP/help" 2>&1
    check "$c --help" grep -q "^usage: wapsim $c" "$T_TMP/help"
done
exit 0
