#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# wapsim cert check: certificate files as a real deployment hands them over, made with the
# openssl command line only (req, x509, ca, pkcs12 -export -CSP), never with wapsim, in PEM,
# DER and PFX; good and bad for each role (vmm, gateway, host). The right verdict (exit 0
# "fit for the ROLE role", or exit 1 with one line per problem naming its id), --json, and
# the refusals (exit 2, one line). No lab exists anywhere: cert check must not need one.
. "$(dirname "$0")/lib.sh"

D=$T_TMP/certs
mkdir -p "$D" "$D/db" && touch "$D/db/index.txt" && echo 01 >"$D/db/serial"
cd "$T_TMP" || exit 1
export WAPSIM_LAB="$T_TMP/no-such-lab"

AES="Microsoft Enhanced RSA and AES Cryptographic Provider"
STRONG="Microsoft Strong Cryptographic Provider"
PW=Passw0rd!

cat >"$D/req.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
EOF
# openssl ca, for certificates whose validity lies in the past or the future.
cat >"$D/ca.cnf" <<EOF
[ca]
default_ca = lab
[lab]
dir = $D
database = $D/db/index.txt
new_certs_dir = $D/db
serial = $D/db/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[vmm]
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
[host]
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
EOF

q() { "$@" >>"$T_TMP/openssl.log" 2>&1 || { echo "# openssl failed: $*"; tail -5 "$T_TMP/openssl.log" | sed 's/^/# /'; }; }
# self NAME BITS SUBJECT DAYS DIGEST -addext ...: a self-signed certificate NAME.pem and its key NAME.key
self() {
    n=$1 bits=$2 subj=$3 days=$4 md=$5; shift 5
    q openssl req -config "$D/req.cnf" -x509 -newkey "rsa:$bits" -nodes -keyout "$D/$n.key" -out "$D/$n.pem" \
        -subj "$subj" -days "$days" "-$md" "$@"
}
# pfx NAME [CSP]: NAME.pfx with the key, the CSP attribute when given
pfx() {
    if [ -n "$2" ]; then
        q openssl pkcs12 -export -in "$D/$1.pem" -inkey "$D/$1.key" -passout "pass:$PW" -CSP "$2" -out "$D/$1.pfx"
    else
        q openssl pkcs12 -export -in "$D/$1.pem" -inkey "$D/$1.key" -passout "pass:$PW" -out "$D/$1.pfx"
    fi
}
# ca_signed NAME SUBJECT START END EXTSECTION: self-signed through openssl ca, with set dates
ca_signed() {
    q openssl genrsa -out "$D/$1.key" 2048
    q openssl req -config "$D/req.cnf" -new -key "$D/$1.key" -subj "$2" -out "$D/$1.csr"
    q openssl ca -batch -notext -config "$D/ca.cnf" -selfsign -keyfile "$D/$1.key" -in "$D/$1.csr" \
        -startdate "$3" -enddate "$4" -extensions "$5" -out "$D/$1.pem"
}
# issued NAME BITS SUBJECT DIGEST EXTENSIONS: a certificate issued by the Contoso CA
issued() {
    printf '%s\n' "$5" | tr ';' '\n' >"$D/$1.ext"
    q openssl req -config "$D/req.cnf" -new -newkey "rsa:$2" -nodes -keyout "$D/$1.key" -subj "$3" -out "$D/$1.csr"
    q openssl x509 -req -in "$D/$1.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
        -days 365 "-$4" -extfile "$D/$1.ext" -out "$D/$1.pem"
}

VMM_EXT="-addext keyUsage=critical,digitalSignature -addext extendedKeyUsage=clientAuth"
# ---- the files
# vmm: the makecert recipe (self-signed, clientAuth, digitalSignature, 2048, SHA-256) in the AES provider
self vmm-good 2048 "/CN=Remote Console Connect" 365 sha256 $VMM_EXT
pfx vmm-good "$AES"
# the same certificate in PROV_RSA_FULL providers: named, and (no -CSP) the default one
self vmm-strong 2048 "/CN=Remote Console Connect" 365 sha256 $VMM_EXT
pfx vmm-strong "$STRONG"
q openssl pkcs12 -export -in "$D/vmm-good.pem" -inkey "$D/vmm-good.key" -passout "pass:$PW" -out "$D/vmm-nocsp.pfx"
# the certificate alone in a PFX
q openssl pkcs12 -export -nokeys -in "$D/vmm-good.pem" -passout "pass:$PW" -out "$D/vmm-nokey.pfx"
# a server certificate offered to VMM
self vmm-server 2048 "/CN=Remote Console Connect" 365 sha256 -addext keyUsage=critical,digitalSignature \
    -addext extendedKeyUsage=serverAuth
pfx vmm-server "$AES"
# key usage without Digital Signature
self vmm-nods 2048 "/CN=Remote Console Connect" 365 sha256 -addext keyUsage=critical,keyEncipherment \
    -addext extendedKeyUsage=clientAuth
pfx vmm-nods "$AES"
# expired in 2020, and valid only from 2040
ca_signed vmm-expired "/CN=Remote Console Connect" 20200101000000Z 20200201000000Z vmm
pfx vmm-expired "$AES"
ca_signed vmm-future "/CN=Remote Console Connect" 20400101000000Z 20410101000000Z vmm
pfx vmm-future "$AES"
# PEM with its key, and DER: no CSP to judge
cat "$D/vmm-good.pem" "$D/vmm-good.key" >"$D/vmm-good-withkey.pem"
q openssl x509 -in "$D/vmm-good.pem" -outform DER -out "$D/vmm-good.cer"

# gateway: a small CA issues the TLS certificates
q openssl req -config "$D/req.cnf" -x509 -newkey rsa:2048 -nodes -keyout "$D/ca.key" -out "$D/ca.pem" \
    -subj "/CN=Contoso Root CA/O=Contoso" -days 3650 -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign
GW="keyUsage=critical,digitalSignature,keyEncipherment;extendedKeyUsage=serverAuth"
issued gw-good 2048 "/CN=rdgw.contoso.com" sha256 "$GW;subjectAltName=DNS:rdgw.contoso.com"
q openssl x509 -in "$D/gw-good.pem" -outform DER -out "$D/gw-good.der"
issued gw-cnonly 2048 "/CN=rdgw.contoso.com" sha256 "$GW"
issued gw-netbios 2048 "/CN=RDGW01" sha256 "$GW"
q openssl x509 -in "$D/gw-netbios.pem" -outform DER -out "$D/gw-netbios.der"
issued gw-other 2048 "/CN=rdgw01.contoso.local" sha256 "$GW;subjectAltName=DNS:rdgw01.contoso.local,DNS:RDGW01"
issued gw-wild 2048 "/CN=*.contoso.com" sha256 "$GW;subjectAltName=DNS:*.contoso.com"
q openssl pkcs12 -export -in "$D/gw-wild.pem" -inkey "$D/gw-wild.key" -passout "pass:$PW" -out "$D/gw-wild.pfx"
issued gw-wild-exact 2048 "/CN=rdgw.contoso.com" sha256 "$GW;subjectAltName=DNS:rdgw.contoso.com,DNS:*.contoso.com"
issued gw-1024 1024 "/CN=rdgw.contoso.com" sha256 "$GW;subjectAltName=DNS:rdgw.contoso.com"
issued gw-sha1 2048 "/CN=rdgw.contoso.com" sha1 "$GW;subjectAltName=DNS:rdgw.contoso.com"
issued gw-client 2048 "/CN=rdgw.contoso.com" sha256 \
    "keyUsage=critical,digitalSignature;extendedKeyUsage=clientAuth;subjectAltName=DNS:rdgw.contoso.com"
self gw-self 2048 "/CN=rdgw.contoso.com" 365 sha256 -addext extendedKeyUsage=serverAuth \
    -addext subjectAltName=DNS:rdgw.contoso.com

# host: Hyper-V's own self-signed certificate, CN = the host's FQDN
self host-good 2048 "/CN=hv01.contoso.com" 365 sha256 -addext keyUsage=critical,digitalSignature,keyEncipherment \
    -addext extendedKeyUsage=serverAuth
pfx host-good "$AES"
self host-soon 2048 "/CN=hv01.contoso.com" 10 sha256 -addext extendedKeyUsage=serverAuth
self host-client 2048 "/CN=hv01.contoso.com" 365 sha256 -addext extendedKeyUsage=clientAuth
q openssl x509 -in "$D/host-client.pem" -outform DER -out "$D/host-client.der"
self host-md5 2048 "/CN=hv01.contoso.com" 365 md5 -addext extendedKeyUsage=serverAuth

made=$(ls "$D"/*.pem "$D"/*.der "$D"/*.cer "$D"/*.pfx 2>/dev/null | wc -l)
check "openssl made the input files ($made)" [ "$made" -ge 30 ]

# ---- verdicts
C() { "$WAPSIM" cert check "$@"; }
# verdict "what" EXIT FILE ARGS... [-- ID...]: exit status, and the problem lines' ids are exactly ID...
# (sorted); a fit file also ends with "fit for the ROLE role".
verdict() {
    what=$1 want=$2 file=$3; shift 3
    args="" ids=""
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args="$args $1"; shift; done
    [ "$1" = -- ] && shift
    ids=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    # shellcheck disable=SC2086
    C "$D/$file" $args >"$T_TMP/out" 2>"$T_TMP/err"
    got=$?
    seen=$(grep -v '^fit for the ' "$T_TMP/out" | sed -n 's/^\(error\|warning\) \([a-z-]*\): .*/\2/p' | sort |
        tr '\n' ' ')
    [ $# -eq 0 ] && ids=""
    fitline=$(grep -c '^fit for the ' "$T_TMP/out")
    wantfit=0; [ "$want" = 0 ] && wantfit=1
    if [ "$got" = "$want" ] && [ "$seen" = "$ids" ] && [ "$fitline" = "$wantfit" ]; then
        ok "$what"
    else
        not_ok "$what (exit $got, wanted $want; ids '$seen', wanted '$ids'; $(head -c 400 "$T_TMP/out") $(head -c 200 "$T_TMP/err"))"
    fi
}
P="--password $PW"

verdict "vmm: makecert recipe in the AES provider (PFX) is fit, noting Root" 0 vmm-good.pfx $P --role vmm \
    -- self-signed-root
check "... the note names the hosts and the gateway" grep -q '^warning self-signed-root: .*Root on each Hyper-V host and on the gateway' "$T_TMP/out"
check_eq "... and the last line is the verdict" "fit for the vmm role" "$(tail -n 1 "$T_TMP/out")"
verdict "vmm: key in the Strong provider (PROV_RSA_FULL)" 1 vmm-strong.pfx $P --role vmm -- csp self-signed-root
check "... names the CSP, its type and NTE_BAD_ALGID" \
    grep -q "^error csp: the key's CSP is \"$STRONG\" (ProviderType 1) cannot hash SHA-256 (NTE_BAD_ALGID" "$T_TMP/out"
verdict "vmm: PFX without a CSP attribute (default PROV_RSA_FULL provider)" 1 vmm-nocsp.pfx $P --role vmm \
    -- csp self-signed-root
check "... names the default provider" grep -q 'lands in "Microsoft Enhanced Cryptographic Provider v1.0"' "$T_TMP/out"
verdict "vmm: PFX without its private key" 1 vmm-nokey.pfx $P --role vmm -- no-private-key self-signed-root
verdict "vmm: Server Authentication only" 1 vmm-server.pfx $P --role vmm -- eku self-signed-root
check "... names the EKU seen and the one required" \
    grep -q '^error eku: enhanced key usage is serverAuth; the vmm role requires Client Authentication (1.3.6.1.5.5.7.3.2)' \
    "$T_TMP/out"
verdict "vmm: key usage without Digital Signature" 1 vmm-nods.pfx $P --role vmm -- key-usage self-signed-root
verdict "vmm: expired (openssl ca, 2020)" 1 vmm-expired.pfx $P --role vmm -- expired self-signed-root
check "... names the date" grep -q '^error expired: expired on 2020-02-01' "$T_TMP/out"
verdict "vmm: not valid before 2040" 1 vmm-future.pfx $P --role vmm -- not-yet-valid self-signed-root
verdict "vmm: PEM with its key: fit, CSP unknown" 0 vmm-good-withkey.pem --role vmm -- csp-unknown self-signed-root
verdict "vmm: DER certificate: fit, CSP unknown" 0 vmm-good.cer --role vmm -- csp-unknown self-signed-root

verdict "gateway: CA-issued, DNS SAN = FQDN (PEM): fit, nothing to say" 0 gw-good.pem --role gateway \
    --fqdn rdgw.contoso.com
verdict "gateway: the same as DER, FQDN in another case" 0 gw-good.der --role gateway --fqdn RDGW.Contoso.com
verdict "gateway: the same for another FQDN" 1 gw-good.pem --role gateway --fqdn rdgw2.contoso.com -- name-mismatch
check "... names the FQDN and the certificate's names" \
    grep -q '^error name-mismatch: rdgw2.contoso.com does not match the certificate.s DNS names (rdgw.contoso.com; CN=rdgw.contoso.com)' \
    "$T_TMP/out"
verdict "gateway: FQDN in the CN, no SAN: fit" 0 gw-cnonly.pem --role gateway --fqdn rdgw.contoso.com
verdict "gateway: CN=RDGW01 without SAN (DER)" 1 gw-netbios.der --role gateway --fqdn rdgw.contoso.com -- no-dns-san
check "... names the CN and the FQDN" grep -q '^error no-dns-san: .*"RDGW01" is not rdgw.contoso.com' "$T_TMP/out"
verdict "gateway: SANs naming another machine" 1 gw-other.pem --role gateway --fqdn rdgw.contoso.com -- name-mismatch
verdict "gateway: wildcard *.contoso.com (PFX)" 1 gw-wild.pfx $P --role gateway --fqdn rdgw.contoso.com -- wildcard
check "... names the wildcard" grep -q '^error wildcard: rdgw.contoso.com matches only the wildcard name (\*.contoso.com)' "$T_TMP/out"
verdict "gateway: wildcard for another domain" 1 gw-wild.pem --role gateway --fqdn rdgw.fabrikam.com \
    -- name-mismatch wildcard
verdict "gateway: exact name beside a wildcard: fit with a warning" 0 gw-wild-exact.pem --role gateway \
    --fqdn rdgw.contoso.com -- wildcard
verdict "gateway: 1024-bit key" 1 gw-1024.pem --role gateway --fqdn rdgw.contoso.com -- key-size
check "... names the size" grep -q '^error key-size: RSA key of 1024 bits; at least 2048' "$T_TMP/out"
verdict "gateway: SHA-1 signature" 1 gw-sha1.pem --role gateway --fqdn rdgw.contoso.com -- signature-algorithm
check "... names the algorithm" grep -q '^error signature-algorithm: signed with sha1WithRSAEncryption' "$T_TMP/out"
verdict "gateway: Client Authentication EKU" 1 gw-client.pem --role gateway --fqdn rdgw.contoso.com -- eku
verdict "gateway: self-signed: fit, clients must trust it" 0 gw-self.pem --role gateway --fqdn rdgw.contoso.com \
    -- self-signed-root

verdict "host: Hyper-V's self-signed CN=FQDN (PFX): fit" 0 host-good.pfx $P --role host --fqdn hv01.contoso.com
verdict "host: without --fqdn: fit" 0 host-good.pem --role host
verdict "host: another host's FQDN" 1 host-good.pem --role host --fqdn hv02.contoso.com -- name-mismatch
verdict "host: expires in 10 days: fit with a warning" 0 host-soon.pem --role host --fqdn hv01.contoso.com \
    -- expires-soon
verdict "host: Client Authentication only (DER)" 1 host-client.der --role host --fqdn hv01.contoso.com -- eku
verdict "host: MD5 signature" 1 host-md5.pem --role host -- signature-algorithm
verdict "the VMM certificate offered as the gateway's" 1 vmm-good.pfx $P --role gateway --fqdn rdgw.contoso.com \
    -- eku no-dns-san self-signed-root

# ---- --json
C "$D/vmm-strong.pfx" --password "$PW" --role vmm --json >"$T_TMP/strong.json" 2>/dev/null
check_exit "--json keeps the exit status" 1 C "$D/vmm-strong.pfx" --password "$PW" --role vmm --json
tp=$(openssl x509 -in "$D/vmm-strong.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
check_eq "--json: file, role, thumbprint, subject, fit" \
    "$D/vmm-strong.pfx|vmm|$tp|CN=Remote Console Connect|0" \
    "$(json_sql "$T_TMP/strong.json" "SELECT json_extract(j,'\$.file')||'|'||json_extract(j,'\$.role')||'|'||
        json_extract(j,'\$.thumbprint')||'|'||json_extract(j,'\$.subject')||'|'||json_extract(j,'\$.fit') FROM doc")"
check_eq "--json: problems with id, severity, text" "csp:error:1|self-signed-root:warning:1" \
    "$(json_sql "$T_TMP/strong.json" "SELECT group_concat(json_extract(value,'\$.id')||':'||
        json_extract(value,'\$.severity')||':'||(length(json_extract(value,'\$.text'))>20),'|')
        FROM doc, json_each(json_extract(j,'\$.problems'))")"
C "$D/gw-good.pem" --role gateway --fqdn rdgw.contoso.com --json >"$T_TMP/good.json" 2>/dev/null
check_eq "--json: a fit file has fit true and no problems" "1|0" \
    "$(json_sql "$T_TMP/good.json" "SELECT json_extract(j,'\$.fit')||'|'||json_array_length(j,'\$.problems') FROM doc")"

# ---- refusals: exit 2, one line on stderr
refuse() {
    what=$1 needle=$2; shift 2
    C "$@" >"$T_TMP/out" 2>"$T_TMP/err"; got=$?
    lines=$(wc -l <"$T_TMP/err")
    if [ "$got" = 2 ] && [ "$lines" = 1 ] && [ ! -s "$T_TMP/out" ] && grep -qF -- "$needle" "$T_TMP/err"; then
        ok "refused: $what"
    else
        not_ok "refused: $what (exit $got, $lines lines: $(head -c 300 "$T_TMP/err"))"
    fi
}
refuse "wrong PFX password" "password is wrong" "$D/vmm-good.pfx" --password nope --role vmm
refuse "PFX without --password" "give --password P" "$D/vmm-good.pfx" --role vmm
refuse "missing file" "no-such.pfx" "$D/no-such.pfx" --role vmm
refuse "not a certificate" "neither PEM, DER nor PFX" "$D/req.cnf" --role host
refuse "gateway without --fqdn" "--fqdn NAME is required" "$D/gw-good.pem" --role gateway
refuse "without --role" "--role" "$D/gw-good.pem"
refuse "unknown role" "unknown role 'portal'" "$D/gw-good.pem" --role portal
refuse "no file" "which file?" --role vmm
refuse "--fqdn with the vmm role" "--fqdn goes with the gateway and host roles only" "$D/vmm-good.pfx" \
    --password "$PW" --role vmm --fqdn vmm01.contoso.com
check "no lab was needed or made" [ ! -e "$T_TMP/no-such-lab" -a ! -e "$T_TMP/lab" ]
