#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# What the tenant sees: Remote Desktop Connection's full text with its code, in text and
# --json, for a couple of codes end to end (issue 13 item 1); what the browser receives
# from the portal, headers included, for the .rdp file and for the JSON error, and where
# `wapsim rdp-file` saves each (item 6).
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >/dev/null 2>&1 || { not_ok "up"; exit 1; }
db() { sqlite3 -batch -noheader "$L/lab.db" ".timeout 5000" "$@"; }
jget() { json_sql "$1" "SELECT json_extract(j,'$.$2') FROM doc"; }
has() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }

MISMATCH="Your computer can't connect to the remote computer because the Remote Desktop Gateway server address requested and the certificate subject name do not match. Contact your network administrator for assistance. (code 50331654)"
REJECTED="Your computer can't connect to the remote computer because the cookie was rejected by the Remote Desktop Gateway server. Contact your network administrator for assistance. (code 50331701)"

# ---- 1. 50331654: the cloud's gateway FQDN is not a name of the certificate
W cloud set --rd-gateway-fqdn rdgw01.fabric.contoso.local >/dev/null
W connect --tenant alice --vm web01 --json >"$T_TMP/c1.json"
check_eq "50331654: the code" 50331654 "$(jget "$T_TMP/c1.json" code)"
msg=$(jget "$T_TMP/c1.json" message)
check "50331654: --json message is the full text with the code (got: $msg)" has "$msg" "$MISMATCH"
check "50331654: --json message keeps the lab's why" has "$msg" "[hostname mismatch"
W connect --tenant alice --vm web01 >"$T_TMP/c1.txt"
check "50331654: the text output's gateway-tls line has the full text" \
    grep -qF "gateway-tls    FAIL $MISMATCH" "$T_TMP/c1.txt"
W cloud set --rd-gateway-fqdn rdgw.contoso.com >/dev/null

# ---- 2. 50331701: the gateway does not trust the token's signer
tp=$(W cert show vmm-console --json >"$T_TMP/cert.json"; jget "$T_TMP/cert.json" thumbprint)
W gateway set --remove-trusted-issuer "$tp" >/dev/null
W connect --tenant alice --vm web01 --json >"$T_TMP/c2.json"
check_eq "50331701: the code" 50331701 "$(jget "$T_TMP/c2.json" code)"
msg=$(jget "$T_TMP/c2.json" message)
check "50331701: --json message is the full text with the code (got: $msg)" has "$msg" "$REJECTED"
check "50331701: the HRESULT stays as the lab's why" has "$msg" "E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED"
W connect --tenant alice --vm web01 >"$T_TMP/c2.txt"
check "50331701: the text output has it" grep -qF "$REJECTED" "$T_TMP/c2.txt"
W gateway set --add-trusted-issuer "$tp" >/dev/null
W connect --tenant alice --vm web01 --json >"$T_TMP/c3.json"
check_eq "after the repair: connected" "1|connected" "$(jget "$T_TMP/c3.json" ok)|$(jget "$T_TMP/c3.json" message)"

# ---- 3. the browser's downloads: headers of the .rdp file and of the JSON error
portal=$(db "SELECT address FROM machines WHERE name='portal'")
W cert export lab-root-ca --pem --out "$T_TMP/root.pem" >/dev/null
P="https://portal.contoso.com:30081"
C="--cacert $T_TMP/root.pem --resolve portal.contoso.com:30081:$portal -s"
pw=$(W lab accounts --json >"$T_TMP/acc.json"; json_sql "$T_TMP/acc.json" "SELECT json_extract(value,'$.password') FROM doc, json_each(doc.j) WHERE json_extract(value,'$.account')='alice'")
curl $C -o /dev/null -c "$T_TMP/jar" -H 'Content-Type: application/json' -d "{\"user\":\"alice\",\"password\":\"$pw\"}" "$P/api/login"
web01=$(db "SELECT id FROM vms WHERE name='web01'")
curl $C -b "$T_TMP/jar" -X POST -D "$T_TMP/h1" -o "$T_TMP/b1" "$P/api/vms/$web01/console"
hdr() { tr -d '\r' <"$1" | sed -n "s/^$2: //Ip" | head -n 1; }
check_eq "the .rdp answer: 200" 200 "$(head -n 1 "$T_TMP/h1" | cut -d' ' -f2)"
check_eq "the .rdp answer: application/x-rdp" application/x-rdp "$(hdr "$T_TMP/h1" Content-Type)"
check_eq "the .rdp answer: saved under the VM's name" 'attachment; filename="web01.rdp"' "$(hdr "$T_TMP/h1" Content-Disposition)"

# VMM cannot make the token (mistake 1): the VMM certificate is not in hv01's My store.
W cert remove vmm-console --machine hv01 --store My >/dev/null
curl $C -b "$T_TMP/jar" -X POST -D "$T_TMP/h2" -o "$T_TMP/b2" "$P/api/vms/$web01/console"
check_eq "the error answer: 500" 500 "$(head -n 1 "$T_TMP/h2" | cut -d' ' -f2)"
check "the error answer: JSON" has "$(hdr "$T_TMP/h2" Content-Type)" application/json
check_eq "the error answer: a download, not shown inline" 'attachment; filename="web01.json"' "$(hdr "$T_TMP/h2" Content-Disposition)"
check "the error answer: SPF's OData error body" grep -q '"odata.error"' "$T_TMP/b2"

# ---- 4. the lab's browser saves each under the header's name
mkdir "$T_TMP/dl"
(cd "$T_TMP/dl" && "$WAPSIM" --lab "$L" rdp-file --tenant alice --vm web01 --json >"$T_TMP/r1.json")
check_eq "rdp-file without --out fails (no .rdp)" 0 "$(jget "$T_TMP/r1.json" ok)"
check "rdp-file saved the JSON file the browser gets, as web01.json" grep -q '"odata.error"' "$T_TMP/dl/web01.json"
W connect --tenant alice --vm web01 --json >"$T_TMP/c4.json"
msg4=$(jget "$T_TMP/c4.json" message)
check "connect: the portal hop says the browser saved web01.json (got: $msg4)" has "$(jget "$T_TMP/c4.json" message)" "the browser saved web01.json, HTTP 500"
W cert import vmm-console --machine hv01 --store My >/dev/null
W vmm refresh-host hv01 >/dev/null 2>&1
W rdp-file --tenant alice --vm web01 --out "$T_TMP/dl" --json >"$T_TMP/r2.json"
check_eq "rdp-file --out DIR saves under the header's name" "1|$T_TMP/dl/web01.rdp" "$(jget "$T_TMP/r2.json" ok)|$(jget "$T_TMP/r2.json" file)"
check "the saved .rdp is one (UTF-16LE with a BOM)" sh -c "head -c 2 '$T_TMP/dl/web01.rdp' | od -An -tx1 | grep -q 'ff fe'"
W connect --tenant alice --vm web01 --json >"$T_TMP/c5.json"
check "connect: the portal hop names the file as the header does" sh -c \
    "json_sql() { sqlite3 -batch -noheader :memory: \"WITH doc(j) AS (SELECT readfile('\$1')) \$2\"; }; json_sql '$T_TMP/c5.json' \"SELECT json_extract(value,'\$.detail') FROM doc, json_each(json_extract(doc.j,'\$.hops'))\" | grep -q 'received web01.rdp (.*as Content-Disposition names it'"
