#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Connect through the gateway: the tenant's client hop by hop, the gateway's FedAuth
# check of the HostToken, the channel it grants, the host's RDSTLS check of the
# VMToken, and many tunnels at once.
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >/dev/null 2>&1 || { not_ok "up"; exit 1; }
db() { sqlite3 -batch -noheader "$L/lab.db" ".timeout 5000" "$@"; }
# connect_json NAME ARGS...: wapsim connect --json into $T_TMP/NAME.json
connect_json() { name=$1; shift; W connect --json "$@" >"$T_TMP/$name.json" 2>"$T_TMP/$name.err"; }
field() { json_sql "$T_TMP/$1.json" "SELECT json_extract(j,'$.$2') FROM doc"; }
gw_events() { db "SELECT count(*) FROM events WHERE machine='rdgw01' AND event_id=$1"; }
# to_utf8 FILE: an .rdp file as UTF-8 text (our client reads UTF-8 files too)
to_utf8() { iconv -f UTF-16LE -t UTF-8 "$1" | tr -d '\r' | sed '1s/^\xef\xbb\xbf//'; }

# ---- 1. the three tenants' VMs pass host-auth
for pair in alice:web01 alice:db01 bob:app01; do
    t=${pair%%:*} v=${pair#*:}
    connect_json "$v" --tenant "$t" --vm "$v" --save-rdp "$T_TMP/$v.rdp"
    check_eq "$t reaches $v: host-auth passes, then the console" "1|console" "$(field "$v" ok)|$(field "$v" stage)"
done
check_eq "the hops are those of Remote Desktop Connection" "portal,rdp-signature,direct,gateway-tls,gateway-auth,channel,host-tls,host-auth,console" \
    "$(json_sql "$T_TMP/web01.json" "SELECT group_concat(json_extract(value,'$.stage')) FROM doc, json_each(doc.j,'$.hops')")"
connect_json legacy --tenant alice --vm web01 --legacy-gateway
check_eq "the legacy transport (RDG_OUT_DATA + RDG_IN_DATA) works too" "1|console" "$(field legacy ok)|$(field legacy stage)"
check "the gateway logged 200 and 302 for them" test "$(gw_events 200)" -ge 4 -a "$(gw_events 302)" -ge 4

# ---- 2. HostTokens the gateway must refuse (event 201)
to_utf8 "$T_TMP/web01.rdp" >"$T_TMP/web01.txt"
to_utf8 "$T_TMP/db01.rdp" >"$T_TMP/db01.txt"
before=$(gw_events 201)
sed 's/^\(gatewayaccesstoken:s:Host=hv01\)/\1x/' "$T_TMP/web01.txt" >"$T_TMP/altered.rdp"
connect_json altered --rdp "$T_TMP/altered.rdp"
check_eq "a HostToken with one altered character stops at gateway-auth with 50331701" "gateway-auth|50331701" "$(field altered stage)|$(field altered code)"
check "... and the gateway logs event 201 with the reason" test "$(gw_events 201)" -gt "$before"
check "... the reason is the signature" sh -c "sqlite3 '$L/lab.db' \"SELECT text FROM events WHERE event_id=201 ORDER BY id DESC LIMIT 1\" | grep -q 'signature is not valid'"

# signed by a key the gateway does not trust
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_TMP/rogue.key" -out "$T_TMP/rogue.pem" -subj "/CN=Rogue" -days 30 2>/dev/null
rogue_tp=$(openssl x509 -in "$T_TMP/rogue.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
token=$(sed -n 's/^gatewayaccesstoken:s://p' "$T_TMP/web01.txt")
printf '%s' "${token%%&Signature=*}" >"$T_TMP/payload"
openssl dgst -sha256 -sign "$T_TMP/rogue.key" -out "$T_TMP/rogue.sig" "$T_TMP/payload"
sig=$(base64 -w0 "$T_TMP/rogue.sig" | sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')
grep -v '^gatewayaccesstoken' "$T_TMP/web01.txt" >"$T_TMP/rogue.rdp"
printf 'gatewayaccesstoken:s:%s&Signature=1|SHA256|%s|%s\n' "${token%%&Signature=*}" "$rogue_tp" "$sig" >>"$T_TMP/rogue.rdp"
before=$(gw_events 201)
connect_json rogue --rdp "$T_TMP/rogue.rdp"
check_eq "a HostToken signed by an untrusted key stops at gateway-auth with 50331701" "gateway-auth|50331701" "$(field rogue stage)|$(field rogue code)"
check "... event 201 names the untrusted signer" sh -c "sqlite3 '$L/lab.db' \"SELECT text FROM events WHERE event_id=201 ORDER BY id DESC LIMIT 1\" | grep -q '$rogue_tp is not in FedAuthSettings.TrustedIssuerCertificates'"

# expired: the lab clock passes ExpiresOn (TTL 2 minutes)
db "UPDATE lab_meta SET value='600' WHERE key='clock_offset_seconds'"
before=$(gw_events 201)
connect_json expired --rdp "$T_TMP/web01.rdp"
check_eq "an expired HostToken stops at gateway-auth with 50331701" "gateway-auth|50331701" "$(field expired stage)|$(field expired code)"
check "... event 201 says it expired" sh -c "sqlite3 '$L/lab.db' \"SELECT text FROM events WHERE event_id=201 ORDER BY id DESC LIMIT 1\" | grep -q 'expired'"
db "UPDATE lab_meta SET value='0' WHERE key='clock_offset_seconds'"

# ---- 3. tokens swapped between files (neither field is signed)
connect_json web01b --tenant alice --vm web01 --save-rdp "$T_TMP/web01b.rdp"
connect_json db01b --tenant alice --vm db01 --save-rdp "$T_TMP/db01b.rdp"
to_utf8 "$T_TMP/web01b.rdp" >"$T_TMP/w.txt"
to_utf8 "$T_TMP/db01b.rdp" >"$T_TMP/d.txt"
{ grep -v '^gatewayaccesstoken' "$T_TMP/d.txt"; grep '^gatewayaccesstoken' "$T_TMP/w.txt"; } >"$T_TMP/swap-host.rdp"
before=$(gw_events 301)
connect_json swaphost --rdp "$T_TMP/swap-host.rdp"
check_eq "web01's HostToken in db01's file is refused at channel" "channel|0" "$(field swaphost stage)|$(field swaphost ok)"
check "... with gateway event 301" test "$(gw_events 301)" -gt "$before"
{ grep -v '^endpointfedauth' "$T_TMP/d.txt"; grep '^endpointfedauth' "$T_TMP/w.txt"; } >"$T_TMP/swap-vm.rdp"
connect_json swapvm --rdp "$T_TMP/swap-vm.rdp"
check_eq "web01's VMToken in db01's file is refused at host-auth (ACCESS_DENIED)" "host-auth|5" "$(field swapvm stage)|$(field swapvm code)"
check "... with the reason in hv02's log" sh -c "'$WAPSIM' --lab '$L' logs --machine hv02 | grep -q 'Refused a console connection to db01.*VMToken is for VM'"

# ---- 4. a client before 8.1 cannot present the VMToken
connect_json old --tenant alice --vm web01 --client 8.0
check_eq "a client before 8.1 is admitted by the gateway and refused at the host" "host-auth|0" "$(field old stage)|$(field old ok)"
check "... hv01 says RDP client 8.1 or later required" sh -c "'$WAPSIM' --lab '$L' logs --machine hv01 | grep -q 'RDP client 8.1 or later required'"

# ---- 5. the host's RDSTLS reply version is a host setting
check "host set --rdstls-reply-version echo" sh -c "'$WAPSIM' --lab '$L' host set hv01 --rdstls-reply-version echo >/dev/null"
connect_json echo --tenant alice --vm web01
check "... the host answers with the request's version (2)" sh -c "grep -q 'RDSTLS version 2 answer' '$T_TMP/echo.json'"
check_exit "host set refuses a bad value" 2 "$WAPSIM" --lab "$L" host set hv01 --rdstls-reply-version 3
check_exit "host set refuses a machine that is not a host" 2 "$WAPSIM" --lab "$L" host set rdgw01 --rdstls-reply-version 1
W host set hv01 --rdstls-reply-version 1 >/dev/null

# ---- 6. bad input at the gateway: logged, closed, the gateway stays up
gw=$(db "SELECT address FROM machines WHERE name='rdgw01'")
W cert export lab-root-ca --pem --out "$T_TMP/root.pem"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T_TMP/root.pem" --resolve "rdgw.contoso.com:8443:$gw" -X FROBNICATE https://rdgw.contoso.com:8443/remoteDesktopGateway/)
check_eq "an unknown method gets 405" 405 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T_TMP/root.pem" --resolve "rdgw.contoso.com:8443:$gw" -X RDG_OUT_DATA -H 'RDG-Auth-Scheme: NTLM' -H 'RDG-Connection-Id: {x}' https://rdgw.contoso.com:8443/remoteDesktopGateway/)
check_eq "a scheme other than PAA gets 401" 401 "$code"
head -c 100000 /dev/urandom | timeout 5 openssl s_client -quiet -connect "$gw:8443" >/dev/null 2>&1
curl -s -m 5 -o /dev/null "http://$gw:8443/" 2>/dev/null || true  # plain HTTP where TLS is due
W status --json >"$T_TMP/status.json"
check_eq "the gateway is up and never restarted" "1|0" \
    "$(json_sql "$T_TMP/status.json" "SELECT json_extract(value,'$.healthy')||'|'||json_extract(value,'$.restarts') FROM doc, json_each(doc.j,'$.machines') WHERE json_extract(value,'$.name')='rdgw01'")"

# ---- 7. 500 tunnels at once; the gateway stays responsive
W rdp-file --tenant alice --vm web01 --out "$T_TMP/load.rdp" >/dev/null
gwpid=$(cat "$L/run/rdgw01.pid")
rss_before=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$gwpid/status")
mkfifo "$T_TMP/hold"
"$BUILD/tools/tunnels" "$L" "$T_TMP/load.rdp" 500 <"$T_TMP/hold" >"$T_TMP/tunnels.out" 2>"$T_TMP/tunnels.err" &
load_pid=$!
exec 7>"$T_TMP/hold"   # keeps the tool's stdin open until we close it
i=0
while [ $i -lt 600 ] && ! grep -q 'open\|failed' "$T_TMP/tunnels.out"; do sleep 0.1; i=$((i + 1)); done
check_eq "500 tunnels are open at once" "open 500" "$(cat "$T_TMP/tunnels.out")"
rss_after=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$gwpid/status")
echo "# gateway memory: ${rss_before} KiB idle, ${rss_after} KiB with 500 tunnels: $(( (rss_after - rss_before) * 1024 / 500 / 1024 )) KiB per tunnel"
connect_json during --tenant alice --vm db01
check_eq "a tenant still connects while they are open" "1|console" "$(field during ok)|$(field during stage)"
check_eq "the gateway holds them in one process (no restart)" "$gwpid" "$(cat "$L/run/rdgw01.pid")"
exec 7>&-
wait $load_pid 2>/dev/null
W down >/dev/null 2>&1
