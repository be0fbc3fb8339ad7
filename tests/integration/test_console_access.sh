#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue console access: portal -> SPF -> VMM hand a tenant a signed .rdp file, or the
# JSON body the browser gets instead. Signatures are checked with the openssl command
# line alone, never with wapsim's own verifier.
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >/dev/null 2>&1 || { not_ok "up"; exit 1; }
db() { sqlite3 -batch -noheader "$L/lab.db" ".timeout 5000" "$@"; }
vmid() { db "SELECT upper(id) FROM vms WHERE name='$1'"; }

# rdp_field FILE KEY: a setting's value from an .rdp file (UTF-16LE).
rdp_field() { iconv -f UTF-16LE -t UTF-8 "$1" | tr -d '\r' | sed '1s/^\xef\xbb\xbf//' | sed -n "s/^$2:[sib]://p"; }
# signed_text FILE OUT: rebuild what the signature covers from the file's own signscope
# (REFERENCE.md section 4 step 3): each scoped line + CRLF, the signscope line + CRLF, U+0000, UTF-16LE.
signed_text() {
    iconv -f UTF-16LE -t UTF-8 "$1" | tr -d '\r' | sed '1s/^\xef\xbb\xbf//' >"$T_TMP/plain.txt"
    rdp_signed_text "$T_TMP/plain.txt" "$(sed -n 's/^signscope:s://p' "$T_TMP/plain.txt")" "$2"
}
# token_check TOKEN PUBKEY: verify a token's signature with openssl dgst alone.
token_check() {
    printf '%s' "${1%%&Signature=*}" >"$T_TMP/payload"
    printf '%s' "${1##*|}" | sed 's/%2B/+/g; s/%2F/\//g; s/%3D/=/g' | base64 -d >"$T_TMP/tsig.bin"
    openssl dgst -sha256 -verify "$2" -signature "$T_TMP/tsig.bin" "$T_TMP/payload" >/dev/null 2>&1
}

# ---- 1. alice/web01: the file and its signature, checked with openssl alone
t0=$(date +%s)
check "alice gets web01's .rdp file" sh -c "'$WAPSIM' --lab '$L' rdp-file --tenant alice --vm web01 --out '$T_TMP/web01.rdp' >/dev/null"
t1=$(date +%s)
check "the file is UTF-16LE with a BOM" sh -c "head -c 2 '$T_TMP/web01.rdp' | od -An -tx1 | grep -q 'ff fe'"
W cert export vmm-console --pem --out "$T_TMP/vmm.pem"
W cert export lab-root-ca --pem --out "$T_TMP/root.pem"
openssl x509 -in "$T_TMP/vmm.pem" -pubkey -noout >"$T_TMP/vmm.pub"
signed_text "$T_TMP/web01.rdp" "$T_TMP/signed.bin"
rdp_field "$T_TMP/web01.rdp" signature | tr -d ' \n' | base64 -d >"$T_TMP/blob.bin"
check_eq "the signature blob starts 01 00 01 00 01 00 00 00" "01 00 01 00 01 00 00 00" "$(head -c 8 "$T_TMP/blob.bin" | od -An -tx1 | sed 's/^ //')"
tail -c +13 "$T_TMP/blob.bin" >"$T_TMP/sig.der"
check "openssl cms -verify accepts the signature (CAfile: the VMM certificate)" \
    openssl cms -verify -binary -inform DER -in "$T_TMP/sig.der" -content "$T_TMP/signed.bin" -CAfile "$T_TMP/vmm.pem" -purpose any -out /dev/null
check "... and refuses it against the lab root, which did not issue the self-signed VMM certificate" sh -c \
    "! openssl cms -verify -binary -inform DER -in '$T_TMP/sig.der' -content '$T_TMP/signed.bin' -CAfile '$T_TMP/root.pem' -purpose any -out /dev/null 2>/dev/null"
cp "$T_TMP/signed.bin" "$T_TMP/tampered.bin"; printf 'X' | dd of="$T_TMP/tampered.bin" bs=1 seek=30 conv=notrunc 2>/dev/null
check "openssl refuses the signature over altered text" sh -c \
    "! openssl cms -verify -binary -inform DER -in '$T_TMP/sig.der' -content '$T_TMP/tampered.bin' -CAfile '$T_TMP/vmm.pem' -purpose any -out /dev/null 2>/dev/null"
check_eq "full address is hv01's FQDN (FQDN mode)" "hv01.fabric.contoso.local" "$(rdp_field "$T_TMP/web01.rdp" 'full address')"
check_eq "pcb is web01's id in upper case" "$(vmid web01)" "$(rdp_field "$T_TMP/web01.rdp" pcb)"
check_eq "gatewayhostname is the cloud's RD Gateway FQDN with the gateway's port" "rdgw.contoso.com:8443" "$(rdp_field "$T_TMP/web01.rdp" gatewayhostname)"
for kv in "gatewayusagemethod:i:2" "gatewaycredentialssource:i:5" "gatewayprofileusagemethod:i:1" "enablecredsspsupport:i:0" "userdstls:i:1" "server port:i:2179"; do
    check "the file has $kv" sh -c "iconv -f UTF-16LE -t UTF-8 '$T_TMP/web01.rdp' | tr -d '\r' | grep -qx '$kv'"
done

# ---- 2. both tokens verify with openssl dgst; ExpiresOn = lab now + TTL; VMID = pcb
host_token=$(rdp_field "$T_TMP/web01.rdp" gatewayaccesstoken)
vm_token=$(rdp_field "$T_TMP/web01.rdp" endpointfedauth)
check "the HostToken verifies with openssl dgst -sha256 and the VMM public key" token_check "$host_token" "$T_TMP/vmm.pub"
check "the VMToken verifies with openssl dgst -sha256 and the VMM public key" token_check "$vm_token" "$T_TMP/vmm.pub"
altered=$(printf '%s' "$host_token" | sed 's/Port=2179/Port=2178/')
if token_check "$altered" "$T_TMP/vmm.pub"; then not_ok "an altered HostToken does not verify"; else ok "an altered HostToken does not verify"; fi
check_eq "the HostToken names hv01 and port 2179" "Host=hv01.fabric.contoso.local&Port=2179" "$(printf '%s' "$host_token" | cut -d'&' -f1,2)"
check_eq "the VMToken's VMID equals the pcb" "VMID=$(rdp_field "$T_TMP/web01.rdp" pcb)" "$(printf '%s' "$vm_token" | cut -d'&' -f1)"
check_eq "the signer thumbprint in the token is vmm-console's" "$(openssl x509 -in "$T_TMP/vmm.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')" \
    "$(printf '%s' "$host_token" | sed 's/.*&Signature=1|SHA256|\([0-9A-F]*\)|.*/\1/')"
# the file was made between t0 and t1 (wall clock; the lab clock has no offset yet)
expires=$(printf '%s' "$host_token" | sed 's/.*&ExpiresOn=\([0-9]*\)&.*/\1/')
check "ExpiresOn is lab now + 2 minutes" test "$expires" -ge $((t0 + 120)) -a "$expires" -le $((t1 + 120))
db "UPDATE lab_meta SET value='3600' WHERE key='clock_offset_seconds'"
t0=$(date +%s)
W rdp-file --tenant alice --vm web01 --out "$T_TMP/later.rdp" >/dev/null
t1=$(date +%s)
expires=$(rdp_field "$T_TMP/later.rdp" gatewayaccesstoken | sed 's/.*&ExpiresOn=\([0-9]*\)&.*/\1/')
check "ExpiresOn follows the lab clock (moved 1 h)" test "$expires" -ge $((t0 + 3720)) -a "$expires" -le $((t1 + 3720))
db "UPDATE lab_meta SET value='0' WHERE key='clock_offset_seconds'"
db "UPDATE settings SET value='IPv4' WHERE scope='vmm01' AND key='host_id_mode'"
W rdp-file --tenant alice --vm web01 --out "$T_TMP/ipv4.rdp" >/dev/null
hv01_addr=$(db "SELECT address FROM machines WHERE name='hv01'")
check_eq "IPv4 mode: full address is hv01's address" "$hv01_addr" "$(rdp_field "$T_TMP/ipv4.rdp" 'full address')"
check_eq "IPv4 mode: the HostToken's Host is hv01's address" "Host=$hv01_addr" "$(rdp_field "$T_TMP/ipv4.rdp" gatewayaccesstoken | cut -d'&' -f1)"
db "UPDATE settings SET value='FQDN' WHERE scope='vmm01' AND key='host_id_mode'"

# ---- 3. a tenant cannot reach another tenant's VM
app01=$(vmid app01)
before=$(db "SELECT count(*) FROM tokens WHERE vm='$app01'")
check_exit "alice asking for app01 fails" 1 "$WAPSIM" --lab "$L" rdp-file --tenant alice --vm "$app01" --out "$T_TMP/no.rdp" --json
check_eq "... with 404" 404 "$(json_sql "$T_TMP/out" "SELECT json_extract(j,'$.http_status') FROM doc")"
check_eq "... and no token is issued" "$before" "$(db "SELECT count(*) FROM tokens WHERE vm='$app01'")"
check "... and the attempt is logged" sh -c "'$WAPSIM' --lab '$L' logs --machine portal | grep -q \"asked for the console of '$app01'\""
check "bob gets app01" sh -c "'$WAPSIM' --lab '$L' rdp-file --tenant bob --vm app01 --out '$T_TMP/app01.rdp' >/dev/null"
check_eq "... a token for app01 is recorded" $((before + 2)) "$(db "SELECT count(*) FROM tokens WHERE vm='$app01'")"

# ---- 4. vmm-console missing from hv01's My: JSON instead of an .rdp file for web01; db01 still works
db "DELETE FROM store_entries WHERE machine='hv01' AND store='My' AND certificate='vmm-console'"
check_exit "web01 fails without vmm-console in hv01's My" 1 "$WAPSIM" --lab "$L" rdp-file --tenant alice --vm web01 --out "$T_TMP/x.rdp" --json
check_eq "... the browser gets a JSON body (HTTP 500)" "500|application/json" \
    "$(json_sql "$T_TMP/out" "SELECT json_extract(j,'$.http_status')||'|'||substr(json_extract(j,'$.content_type'),1,16) FROM doc")"
check_eq "... the OData error of REFERENCE.md section 1" "An error occurred while processing this request." \
    "$(json_sql "$T_TMP/out" "SELECT json_extract(j,'$.body.\"odata.error\".message.value') FROM doc")"
check "... VMM's log names hv01 and the missing certificate" sh -c \
    "'$WAPSIM' --lab '$L' logs --machine vmm01 --channel VMM | grep -q 'Host hv01 cannot validate.*not in hv01.s LocalMachine.My'"
check "db01 on hv02 still works" sh -c "'$WAPSIM' --lab '$L' rdp-file --tenant alice --vm db01 --out '$T_TMP/db01.rdp' >/dev/null"
db "INSERT INTO store_entries(machine, store, certificate, has_private_key) VALUES('hv01','My','vmm-console',0)"
check "web01 works again once the certificate is back" sh -c "'$WAPSIM' --lab '$L' rdp-file --tenant alice --vm web01 --out '$T_TMP/web01b.rdp' >/dev/null"

# ---- 5. bad input: clear 4xx, every process stays up
portal=$(db "SELECT address FROM machines WHERE name='portal'")
spf=$(db "SELECT address FROM machines WHERE name='spf01'")
vmm=$(db "SELECT address FROM machines WHERE name='vmm01'")
P="https://portal.contoso.com:30081"
C="--cacert $T_TMP/root.pem --resolve portal.contoso.com:30081:$portal -s -o /dev/null -w %{http_code}"
pw=$(W lab accounts --json >"$T_TMP/acc.json"; json_sql "$T_TMP/acc.json" "SELECT json_extract(value,'$.password') FROM doc, json_each(doc.j) WHERE json_extract(value,'$.account')='alice'")
curl $C -c "$T_TMP/jar" -H 'Content-Type: application/json' -d "{\"user\":\"alice\",\"password\":\"$pw\"}" "$P/api/login" >/dev/null
J="-H Content-Type:application/json"
check_eq "garbage JSON at sign-in: 400" 400 "$(curl $C $J -d '{"user":' "$P/api/login")"
check_eq "a wrong password: 401" 401 "$(curl $C $J -d '{"user":"alice","password":"nope"}' "$P/api/login")"
check_eq "a sign-in posted as a form type (curl -d's default) without a token: 403" 403 \
    "$(curl $C -d '{"user":"alice","password":"nope"}' "$P/api/login")"
head -c 70000 /dev/zero | tr '\0' 'a' >"$T_TMP/big"
check_eq "an oversize body: 413" 413 "$(curl $C --data-binary @"$T_TMP/big" "$P/api/login")"
check_eq "an unknown VM id: 404" 404 "$(curl $C -b "$T_TMP/jar" -X POST "$P/api/vms/00000000-0000-4000-8000-000000000000/console")"
check_eq "a malformed VM id: 404" 404 "$(curl $C -b "$T_TMP/jar" -X POST "$P/api/vms/not%20a%20guid'%3B--/console")"
check_eq "no session: 401" 401 "$(curl $C -X POST "$P/api/vms/$(vmid web01)/console")"
S="--cacert $T_TMP/root.pem --resolve spf01.fabric.contoso.local:8090:$spf -s -o /dev/null -w %{http_code}"
SPFURL="https://spf01.fabric.contoso.local:8090/SC2012R2/VMM/Microsoft.Management.Odata.svc/VirtualMachines"
check_eq "SPF with wrong credentials: 401" 401 "$(curl $S -u 'CONTOSO\svc-spf:wrong' -H 'x-ms-principal-id: alice' "$SPFURL")"
spfpw=$(db "SELECT value FROM settings WHERE scope='portal' AND key='spf_password'")
check_eq "SPF with the service account: 200" 200 "$(curl $S -u "CONTOSO\\svc-spf:$spfpw" -H 'x-ms-principal-id: alice' "$SPFURL")"
check_eq "SPF with a malformed resource path: 400" 400 "$(curl $S -u "CONTOSO\\svc-spf:$spfpw" -H 'x-ms-principal-id: alice' "$SPFURL(ID=guid'x',StampId=guid'y')/VMConnection")"
check_eq "SPF for a tenant that does not exist: 403" 403 "$(curl $S -u "CONTOSO\\svc-spf:$spfpw" -H 'x-ms-principal-id: mallory' "$SPFURL")"
check_eq "VMM refuses a caller that is not SPF: 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -d '{"vm":"x"}' "http://$vmm:8100/console")"
vmmpw=$(db "SELECT value FROM settings WHERE scope='vmm01' AND key='service_password'")
check_eq "VMM refuses garbage from itself: 400" 400 "$(curl -s -o /dev/null -w '%{http_code}' --interface "$vmm" -u "CONTOSO\\svc-vmm:$vmmpw" -d 'garbage' "http://$vmm:8100/console")"
W status --json >"$T_TMP/status.json"
check_eq "every process stayed up (healthy, no restarts)" "6|0" \
    "$(json_sql "$T_TMP/status.json" "SELECT sum(json_extract(value,'$.healthy')=1)||'|'||sum(json_extract(value,'$.restarts')) FROM doc, json_each(doc.j,'$.machines')")"

# ---- the administrator's view and rdp-verify
W vmm fedauth --vm db01 --json >"$T_TMP/fedauth.json"
check_eq "vmm fedauth --json has exactly the five properties" "Host,HostToken,VMID,VMRCPort,VMToken" \
    "$(json_sql "$T_TMP/fedauth.json" "SELECT group_concat(key) FROM (SELECT key FROM doc, json_each(doc.j) ORDER BY key)")"
check "rdp-verify reports a valid signature by CN=Remote Console Connect" sh -c \
    "'$WAPSIM' --lab '$L' rdp-verify '$T_TMP/db01.rdp' | grep -q 'Signer: *CN=Remote Console Connect'"
W down >/dev/null 2>&1

# ---- the tenant site works without JavaScript: sign in with the form's token, the list, the warning, Connect downloads
L2=$T_TMP/lab2
new_lab "$L2" >/dev/null 2>&1
"$WAPSIM" --lab "$L2" up >/dev/null 2>&1
p2=$(sqlite3 "$L2/lab.db" "SELECT address FROM machines WHERE name='portal'")
"$WAPSIM" --lab "$L2" cert export lab-root-ca --pem --out "$T_TMP/root2.pem"
"$WAPSIM" --lab "$L2" lab accounts --json >"$T_TMP/acc2.json"
pw2=$(json_sql "$T_TMP/acc2.json" "SELECT json_extract(value,'$.password') FROM doc, json_each(doc.j) WHERE json_extract(value,'$.account')='alice'")
H="--cacert $T_TMP/root2.pem --resolve portal.contoso.com:30081:$p2 -s"
S2=https://portal.contoso.com:30081
curl $H -c "$T_TMP/jar2" "$S2/" >"$T_TMP/signin.html"
check "the page offers a sign-in form" grep -q '<form method="post" action="/login">' "$T_TMP/signin.html"
token=$(sed -n 's/.*name="csrf" value="\([0-9A-Fa-f]*\)".*/\1/p' "$T_TMP/signin.html" | head -n 1)
code=$(curl $H -o /dev/null -w '%{http_code}' -b "$T_TMP/jar2" --data-urlencode "user=alice" --data-urlencode "password=$pw2" "$S2/login")
check_eq "the sign-in form without its anti-forgery token: 403" 403 "$code"
code=$(curl $H -o /dev/null -w '%{http_code}' -b "$T_TMP/jar2" -c "$T_TMP/jar2" --data-urlencode "csrf=$token" \
    --data-urlencode "user=alice" --data-urlencode "password=$pw2" "$S2/login")
check_eq "signing in with the form and its token redirects (303)" 303 "$code"
sqlite3 "$L2/lab.db" ".timeout 5000" "UPDATE vms SET name='<script>alert(1)</script>' WHERE name='db01'"
curl $H -b "$T_TMP/jar2" "$S2/vms" >"$T_TMP/page.html"
check "the list links web01 to its dashboard" grep -q 'href="/vms/[^"]*"><span class="row-icon vm-icon" aria-hidden="true"></span>web01</a>' "$T_TMP/page.html"
check "a name from the state is escaped in HTML" grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$T_TMP/page.html"
check "... and never appears raw" sh -c "! grep -q '<script>' '$T_TMP/page.html'"
id=$(sed -n 's/.*href="\/vms\/\([^"]*\)"><span class="row-icon vm-icon" aria-hidden="true"><\/span>web01<.*/\1/p' "$T_TMP/page.html" | head -n 1)
curl $H -b "$T_TMP/jar2" "$S2/vms/$id/console" >"$T_TMP/warning.html"
check "Console first shows the security warning" grep -q 'Do not save the RDP file to a shared location' "$T_TMP/warning.html"
token=$(sed -n 's/.*name="csrf" value="\([0-9A-Fa-f]*\)".*/\1/p' "$T_TMP/warning.html" | head -n 1)
curl $H -b "$T_TMP/jar2" --data-urlencode "csrf=$token" -D "$T_TMP/headers" -o "$T_TMP/button.rdp" "$S2/vms/$id/console"
check "the warning's Connect downloads web01.rdp as an attachment" grep -qi 'Content-Disposition: attachment; filename="web01.rdp"' "$T_TMP/headers"
check "... of type application/x-rdp" grep -qi 'Content-Type: application/x-rdp' "$T_TMP/headers"
"$WAPSIM" --lab "$L2" down >/dev/null 2>&1
