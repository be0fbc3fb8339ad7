#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# lab export (issue 15): a default and an HA lab written in the deployment format validate
# against schema/deployment-v1.schema.json; every certs/*.cer is DER and has the thumbprint its
# entries name; nothing private (no key, no password of accounts.json) is in the output;
# --archive holds the same files; --redact leaves no customer name in the file or the
# certificates, still validates, and keeps the relations (VMM's certificate is the one the
# gateway and the hosts trust, and the re-issued chain verifies); a lab broken by a command
# exports the broken value; the output rules (OUT exists, --archive and OUT exists) exit 2.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
SCHEMA=$SRC/schema/deployment-v1.schema.json
L=$T_TMP/lab
H=$T_TMP/ha
W() { "$WAPSIM" --lab "$L" "$@" </dev/null; }
Q() { W "$@" >/dev/null 2>&1; }

if ! new_lab "$L"; then
    not_ok "a lab is made ($(tail -n 3 "$T_TMP/init.out"))"
    exit 0
fi
HAVE_SCHEMA=1
python3 -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null || HAVE_SCHEMA=0

# check.py MODE DIR: prints one line per problem, nothing when all is well.
#   schema   deployment.json against the schema (Draft 2020-12), each error with its path
#   certs    each file parses as DER (openssl x509 -inform DER) and its SHA-1 is the
#            thumbprint of every entry naming it; every thumbprint a setting names is a
#            certificate's, or listed in $UNKNOWN
cat >"$T_TMP/check.py" <<'EOF'
import json, os, subprocess, sys
mode, d = sys.argv[1], sys.argv[2]
doc = json.load(open(os.path.join(d, "deployment.json")))
if mode == "schema":
    import jsonschema
    v = jsonschema.Draft202012Validator(json.load(open(sys.argv[3])))
    for e in v.iter_errors(doc):
        print("/".join(str(p) for p in e.absolute_path), e.message[:200])
    sys.exit(0)
fps, files = {}, set()
for f in sorted(os.listdir(os.path.join(d, "certs"))):
    p = os.path.join(d, "certs", f)
    r = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", p, "-noout", "-fingerprint", "-sha1"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f, "does not parse as DER:", r.stderr.strip()[:100]); continue
    fps["certs/" + f] = r.stdout.strip().split("=", 1)[1].replace(":", "").upper()
known = set(fps.values())
unknown = set(os.environ.get("UNKNOWN", "").split())
for m in doc["machines"]:
    for store, entries in m.get("stores", {}).items():
        for en in entries:
            files.add(en["file"])
            if en["file"] not in fps:
                print(m["name"], store, en["file"], "has no file")
            elif fps[en["file"]] != en.get("thumbprint", "").upper():
                print(m["name"], store, en["file"], "thumbprint", en.get("thumbprint"), "is not its SHA-1", fps[en["file"]])
    named = [m.get("tls_certificate"), m.get("rdp_certificate")] + m.get("trusted_issuers", []) + \
            [m.get("vmm", {}).get(k) for k in ("gateway_certificate", "hyperv_certificate")]
    for tp in filter(None, named):
        if tp.upper() not in known and tp.upper() not in unknown:
            print(m["name"], "names", tp, "which no certificate has")
for f in sorted(set(fps) - files):
    print(f, "is named by no entry")
EOF
chk() { UNKNOWN="${UNKNOWN:-}" python3 "$T_TMP/check.py" "$@" 2>&1 | head -n 5; }
# jq_doc DIR SQL-EXPR: a value of DIR/deployment.json (SQLite JSON functions over j).
jdoc() { json_sql "$1/deployment.json" "SELECT $2 FROM doc"; }
# machine_field DIR MACHINE PATH: $.machines[name=MACHINE]<PATH> as text.
mfield() {
    json_sql "$1/deployment.json" "SELECT json_extract(m.value, '\$$3') FROM doc, json_each(json_extract(j,'\$.machines')) m
        WHERE json_extract(m.value,'\$.name') = '$2'"
}
schema_check() { # schema_check WHAT DIR
    if [ $HAVE_SCHEMA = 0 ]; then skip "$1 (python3-jsonschema is not installed)"; return; fi
    out=$(chk schema "$2" "$SCHEMA")
    check_eq "$1" "" "$out"
}
secrets_check() { # secrets_check WHAT DIR LABDIR: no private key, no password of the lab's accounts.json
    found=$(grep -rl "PRIVATE KEY" "$2" 2>/dev/null)
    for pw in $(json_sql "$3/accounts.json" "SELECT group_concat(json_extract(value,'\$.password'), ' ') FROM doc, json_each(j)"); do
        grep -rlF -- "$pw" "$2" >/dev/null 2>&1 && found="$found password-of-accounts.json"
    done
    check_eq "$1" "" "$found"
}

# ---- a default lab ----
X=$T_TMP/exp
W lab export "$X" --json >"$T_TMP/x.json" 2>"$T_TMP/x.err"
check_eq "lab export --json says what it wrote (path, 7 machines, 9 certificates, not redacted)" \
    "$X|7|9|0" "$(json_sql "$T_TMP/x.json" "SELECT json_extract(j,'\$.path') || '|' || json_extract(j,'\$.machines') || '|' ||
        json_extract(j,'\$.certificates') || '|' || json_extract(j,'\$.redacted') FROM doc")"
schema_check "the default lab's export validates against the schema" "$X"
check_eq "each certs/*.cer is DER with the thumbprint its entries name, and every setting's thumbprint is a certificate's" \
    "" "$(chk certs "$X")"
secrets_check "no private key and no password of accounts.json in the export" "$X" "$L"
check_eq "certificates are files of mode 0644, no OUT.tmp left" "9:0" \
    "$(find "$X/certs" -name '*.cer' -perm 0644 | wc -l):$(ls -d "$X".tmp.* 2>/dev/null | wc -l)"
VMM_TP=$(mfield "$X" vmm01 .vmm.gateway_certificate)
check_eq "VMM's gateway certificate is the one rdgw01 and hv01 trust" "$VMM_TP|$VMM_TP" \
    "$(mfield "$X" rdgw01 .trusted_issuers[0])|$(mfield "$X" hv01 .trusted_issuers[0])"
check_eq "the key's provider, type and access (VMM's signing key, certutil -store -v My)" \
    "Microsoft Enhanced RSA and AES Cryptographic Provider|24|NT AUTHORITY\\SYSTEM" \
    "$(mfield "$X" vmm01 .stores.My[0].private_key.provider)|$(mfield "$X" vmm01 .stores.My[0].private_key.provider_type)|$(mfield "$X" vmm01 .stores.My[0].private_key.access[0].account)"
check_eq "the tenant's PC's hosts are the lab's hosts file" \
    "$(awk '!/^#/ && NF {print $2"="$1}' "$L/hosts" | tr '\n' ' ')" \
    "$(json_sql "$X/deployment.json" "SELECT group_concat(json_extract(h.value,'\$.name') || '=' || json_extract(h.value,'\$.address'), ' ') || ' '
        FROM doc, json_each(json_extract(j,'\$.machines')) m, json_each(json_extract(m.value,'\$.dns.hosts')) h
        WHERE json_extract(m.value,'\$.role') = 'client'")"
check_eq "VMs carry their id, tenant and subscription" "web01|alice|Contoso Web" \
    "$(mfield "$X" hv01 .vms[0].name)|$(mfield "$X" hv01 .vms[0].tenant)|$(mfield "$X" hv01 .vms[0].subscription)"
check_eq "collected_at is the lab clock's now (clock advance moves it a year on)" "$(($(date -u +%Y) + 1))" \
    "$(Q clock advance 365d && W lab export "$T_TMP/later" >/dev/null 2>&1; jdoc "$T_TMP/later" "substr(json_extract(j,'\$.collected_at'), 1, 4)")"
Q clock advance -365d

# ---- output rules ----
check_exit "OUT that exists and is not empty is refused with exit 2" 2 W lab export "$X"
check "the refusal names OUT" grep -qF "$X" "$T_TMP/err"
mkdir "$T_TMP/empty"
check_exit "an empty folder is written into" 0 W lab export "$T_TMP/empty"
check_exit "--archive onto an existing OUT is refused with exit 2" 2 W lab export "$T_TMP/empty" --archive
check_exit "OUT in a folder that does not exist is refused with exit 2" 2 W lab export "$T_TMP/no/such/out"
check_exit "--archive onto a name not ending in .tar.gz or .tgz is refused with exit 2" 2 W lab export "$T_TMP/x.zip" --archive
check_exit "OUT/ with a slash is OUT" 0 W lab export "$T_TMP/slash/"
check_eq "OUT/ holds the export, nothing beside it" "deployment.json:0" \
    "$(ls "$T_TMP/slash" | grep -x deployment.json):$(ls -d "$T_TMP"/slash.tmp.* "$T_TMP"/slash/.tmp* 2>/dev/null | wc -l)"
check_exit "no OUT: exit 2" 2 W lab export
check_exit "an unknown option: exit 2" 2 W lab export "$T_TMP/o2" --zip

# ---- --archive ----
A=$T_TMP/lab.tar.gz
W lab export "$A" --archive >/dev/null 2>&1
check_eq "--archive writes a .tar.gz holding deployment.json and the same certificates" \
    "$( (echo deployment.json; cd "$X" && ls certs/*.cer) | sort | tr '\n' ' ')" \
    "$(tar -tzf "$A" 2>/dev/null | grep -v '/$' | sort | tr '\n' ' ')"
mkdir "$T_TMP/untar" && tar -xzf "$A" -C "$T_TMP/untar" 2>/dev/null
check "the archive's certificates are the folder's, byte for byte" diff -r "$X/certs" "$T_TMP/untar/certs"
check_eq "the archive's files are mode 0644" "-rw-r--r--" \
    "$(tar -tvzf "$A" | awk '$NF == "deployment.json" {print $1}')"

# ---- --redact ----
R=$T_TMP/red
W lab export "$R" --redact --json >"$T_TMP/r.json" 2>"$T_TMP/r.err"
check_eq "--redact says so in --json and in the file" "1|1" \
    "$(json_sql "$T_TMP/r.json" "SELECT json_extract(j,'\$.redacted') FROM doc")|$(jdoc "$R" "json_extract(j,'\$.redacted')")"
for f in "$R"/certs/*.cer; do openssl x509 -inform DER -in "$f" -noout -text; done >"$T_TMP/red-certs.txt" 2>&1
check_eq "no customer name left in the redacted file or its certificates' text" "" \
    "$(cat "$R/deployment.json" "$T_TMP/red-certs.txt" | grep -oiE 'contoso|fabrikam|alice|bob|web01|db01|app01' | sort -u | tr '\n' ' ')"
check_eq "no customer name in the certificates' file names either" "" "$(ls "$R/certs" | grep -iE 'contoso|alice|bob|web01')"
schema_check "the redacted export validates against the schema" "$R"
check_eq "redacted: each certificate has the thumbprint its entries name" "" "$(chk certs "$R")"
secrets_check "redacted: no private key and no password" "$R" "$L"
RVMM=$(mfield "$R" vmm01 .vmm.gateway_certificate)
check_eq "redacted: VMM's certificate (no customer name in it) and the gateway's both get a new thumbprint" \
    "new|new" "$([ -n "$RVMM" ] && [ "$RVMM" != "$VMM_TP" ] && echo new)|$([ "$(mfield "$R" rdgw01 .tls_certificate)" != "$(mfield "$X" rdgw01 .tls_certificate)" ] && echo new)"
# serials_sha1 DIR: each certs/*.cer's serial and SHA-1, one a line.
serials_sha1() {
    for f in "$1"/certs/*.cer; do
        openssl x509 -inform DER -in "$f" -noout -serial 2>/dev/null | cut -d= -f2
        sha1sum <"$f" | cut -c1-40 | tr a-f A-F
    done | sort
}
check_eq "redacted: no certificate keeps a serial or a SHA-1 of the export's (crt.sh finds a certificate by either)" "" \
    "$(serials_sha1 "$X" >"$T_TMP/sx"; serials_sha1 "$R" | comm -12 - "$T_TMP/sx" | head -n 3 | tr '\n' ' ')"
check_eq "redacted: VMM's thumbprint is still the one rdgw01 and the hosts trust" "$RVMM|$RVMM|$RVMM" \
    "$(mfield "$R" rdgw01 .trusted_issuers[0])|$(mfield "$R" hv01 .trusted_issuers[0])|$(mfield "$R" hv02 .trusted_issuers[0])"
check_eq "redacted: domains renamed consistently (public suffix example, .local kept, a sub-domain's label mapped)" \
    "rdgw.customer1.example|rdgw01.sub1.customer1.local|rdgw.customer1.example" \
    "$(jdoc "$R" "json_extract(j,'\$.cloud.rd_gateway_fqdn')")|$(mfield "$R" rdgw01 .fqdn)|$(mfield "$R" rdgw01 .public_fqdn)"
RSVC=$(mfield "$R" vmm01 .service_account)
check "redacted: the service account is CUSTOMER1\\userN ($RSVC), its user part mapped" \
    sh -c "echo '$RSVC' | grep -qxE 'CUSTOMER1.user[0-9]+'"
check_eq "redacted: the same account maps the same everywhere (vmm01's service account and local administrator)" "$RSVC" \
    "$(mfield "$R" vmm01 .local_administrators[0])"
RGW=$(json_sql "$R/deployment.json" "SELECT json_extract(e.value,'\$.file') FROM doc, json_each(json_extract(j,'\$.machines')) m,
    json_each(json_extract(m.value,'\$.stores.My')) e WHERE json_extract(m.value,'\$.name') = 'rdgw01'
    AND json_extract(e.value,'\$.thumbprint') = json_extract(m.value,'\$.tls_certificate')")
RROOT=$(json_sql "$R/deployment.json" "SELECT json_extract(e.value,'\$.file') FROM doc, json_each(json_extract(j,'\$.machines')) m,
    json_each(json_extract(m.value,'\$.stores.Root')) e WHERE json_extract(m.value,'\$.name') = 'rdgw01' LIMIT 1")
openssl x509 -inform DER -in "$R/$RROOT" -out "$T_TMP/root.pem" 2>/dev/null
openssl x509 -inform DER -in "$R/$RGW" -out "$T_TMP/gw.pem" 2>/dev/null
check "redacted: the gateway's re-issued TLS certificate verifies under the re-issued root" \
    sh -c "openssl verify -CAfile '$T_TMP/root.pem' '$T_TMP/gw.pem' >/dev/null 2>&1"
check "redacted: it names the redacted public name" \
    sh -c "openssl x509 -in '$T_TMP/gw.pem' -noout -ext subjectAltName | grep -q 'DNS:rdgw.customer1.example'"
check_eq "redacted: VM names, tenants and subscriptions renamed, ids kept" \
    "vm1|tenant1|Subscription 1|$(mfield "$X" hv01 .vms[0].id)" \
    "$(mfield "$R" hv01 .vms[0].name)|$(mfield "$R" hv01 .vms[0].tenant)|$(mfield "$R" hv01 .vms[0].subscription)|$(mfield "$R" hv01 .vms[0].id)"
check_eq "redacted: the description is dropped" "" "$(jdoc "$R" "json_extract(j,'\$.description')")"

# ---- a lab broken by commands exports the broken values ----
UNK=0123456789ABCDEF0123456789ABCDEF01234567
Q gateway set --remove-trusted-issuer vmm-console
Q gateway set --add-trusted-issuer "$UNK"
Q vmm set --ttl-minutes 7 --host-id-mode IPv4
Q clock skew hv02 +10m
B=$T_TMP/broken
W lab export "$B" >/dev/null 2>&1
check_eq "the gateway's list without VMM's thumbprint, with the unknown one as written" "[\"$UNK\"]" \
    "$(mfield "$B" rdgw01 .trusted_issuers)"
check_eq "VMM's changed settings, hv02's clock skew" "7|IPv4|600" \
    "$(mfield "$B" vmm01 .vmm.time_to_live_minutes)|$(mfield "$B" vmm01 .vmm.host_identification_mode)|$(mfield "$B" hv02 .clock_skew_seconds)"
UNKNOWN=$UNK
check_eq "the unknown thumbprint is the only one no certificate has" "" "$(chk certs "$B")"
B2=$T_TMP/broken-red
W lab export "$B2" --redact >/dev/null 2>&1
RUNK=$(mfield "$B2" rdgw01 .trusted_issuers[0])
check "redacted: a thumbprint no certificate has (the customer's real certificate's SHA-1) becomes another 40-hex one ($RUNK)" \
    sh -c "[ '$RUNK' != '$UNK' ] && echo '$RUNK' | grep -qxE '[0-9A-F]{40}'"
UNKNOWN=$RUNK
check_eq "redacted: and it still matches no certificate, the only one so" "" "$(chk certs "$B2")"
UNKNOWN=

# ---- a VMM certificate that names the customer: re-issued, and every reference follows ----
Q cert new contoso-vmm --subject "CN=vmm01.fabric.contoso.local, O=Contoso" --eku clientAuth \
    --key-usage digitalSignature --csp "Microsoft Enhanced RSA and AES Cryptographic Provider" --self-signed
Q cert import contoso-vmm --machine vmm01 --store My
Q cert import contoso-vmm --machine rdgw01 --store Root --public-only
Q vmm set --gateway-cert contoso-vmm
Q gateway set --trusted-issuers contoso-vmm
V=$T_TMP/vmm-red
W lab export "$V" --redact >/dev/null 2>&1
VTP=$(mfield "$V" vmm01 .vmm.gateway_certificate)
W cert show contoso-vmm --json >"$T_TMP/show.json" 2>/dev/null
VOLD=$(json_sql "$T_TMP/show.json" "SELECT json_extract(j,'\$.thumbprint') FROM doc")
check "VMM's certificate naming the customer gets a new thumbprint" test -n "$VTP" -a -n "$VOLD" -a "$VTP" != "$VOLD"
check_eq "its new thumbprint is the one the gateway trusts, in the file customer1-vmm.cer" \
    "$VTP|$VTP|certs/customer1-vmm.cer" \
    "$(mfield "$V" rdgw01 .trusted_issuers[0])|$(json_sql "$V/deployment.json" "SELECT json_extract(e.value,'\$.thumbprint') || '|' ||
        json_extract(e.value,'\$.file') FROM doc, json_each(json_extract(j,'\$.machines')) m, json_each(json_extract(m.value,'\$.stores.Root')) e
        WHERE json_extract(m.value,'\$.name') = 'rdgw01' AND json_extract(e.value,'\$.thumbprint') = '$VTP'")"
check_eq "its subject is renamed" "CN = vmm01.sub1.customer1.local|O = Customer1" \
    "$(openssl x509 -inform DER -in "$V/certs/customer1-vmm.cer" -noout -subject -nameopt multiline 2>&1 | sed -n 's/^ *commonName *= /CN = /p')|$(openssl x509 -inform DER -in "$V/certs/customer1-vmm.cer" -noout -subject -nameopt multiline 2>&1 | sed -n 's/^ *organizationName *= /O = /p')"
check_eq "and it carries no customer name" "" "$(grep -rliE 'contoso' "$V"; openssl x509 -inform DER -in "$V/certs/customer1-vmm.cer" -noout -text | grep -i contoso)"
check_eq "redacted with the new VMM certificate: thumbprints match their files" "" "$(chk certs "$V")"

# ---- a certificate with no name to change is re-issued too: its serial and SHA-1 are the customer's ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=Console Signing EC" -days 30 \
    -keyout "$T_TMP/ec.key" -out "$T_TMP/ec.crt" >/dev/null 2>&1 && cat "$T_TMP/ec.crt" "$T_TMP/ec.key" >"$T_TMP/ec.pem"
Q cert import-file "$T_TMP/ec.pem" --name ec-sign
Q cert import ec-sign --machine vmm01 --store My --public-only
EC=$T_TMP/ec-red
W lab export "$EC" --redact >/dev/null 2>&1
check "redacted: an ECDSA certificate with nothing to rename gets a new serial and SHA-1" sh -c \
    "[ '$(openssl x509 -in "$T_TMP/ec.crt" -noout -serial 2>/dev/null)' != '$(openssl x509 -inform DER -in "$EC/certs/ec-sign.cer" -noout -serial 2>/dev/null)' ] &&
     [ '$(openssl x509 -in "$T_TMP/ec.crt" -outform DER 2>/dev/null | sha1sum | cut -c1-40)' != '$(sha1sum <"$EC/certs/ec-sign.cer" 2>/dev/null | cut -c1-40)' ]"
openssl x509 -inform DER -in "$EC/certs/ec-sign.cer" -out "$T_TMP/ec-red.pem" 2>/dev/null
check "redacted: and it still verifies with its own key (re-signed from the vault)" \
    sh -c "openssl verify -CAfile '$T_TMP/ec-red.pem' '$T_TMP/ec-red.pem' >/dev/null 2>&1"

# ---- what a customer's certificate carries besides its names ----
# A CA and a server certificate made as a public CA makes them: certificate policies with a
# CPS URL, an issuer alternative name, name constraints, a Microsoft template name, a CT SCT
# list, an AKID naming the issuer and its serial; a SAN with a UPN (otherName), a directory
# name, an e-mail and a URI whose domains appear nowhere else; a host under edu.au and one
# under cloudapp.net. --redact keeps none of these names, gives new serials, keeps the chain.
cat >"$T_TMP/ext.cnf" <<'CNF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:true
keyUsage = keyCertSign, cRLSign
subjectKeyIdentifier = hash
certificatePolicies = @pol
issuerAltName = URI:http://www.woodgrove.com/
nameConstraints = permitted;DNS:.northwind.edu.au
[leaf]
basicConstraints = CA:false
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always, issuer:always
certificatePolicies = @pol
1.3.6.1.4.1.311.20.2 = ASN1:BMPSTRING:WoodgroveWebServer
1.3.6.1.4.1.11129.2.4.2 = ASN1:FORMAT:HEX,OCTETSTRING:00020000
subjectAltName = DNS:rdweb.sydney.northwind.edu.au, DNS:tailwind-wap.cloudapp.net, email:ops@litware.com, URI:https://pki.proseware.com/x, otherName:1.3.6.1.4.1.311.20.2.3;UTF8:john.smith@fabrikam.net, dirName:dir
[pol]
policyIdentifier = 1.3.6.1.4.1.99999.1
CPS.1 = http://cps.woodgrove.com/cps
[dir]
CN = John Smith
O = Wingtip
CNF
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=Proseware Issuing CA" -days 60 -set_serial 0x5EC0DE01 \
    -keyout "$T_TMP/wca.key" -out "$T_TMP/wca.crt" -extensions ca -config "$T_TMP/ext.cnf" >/dev/null 2>&1
openssl req -new -newkey rsa:2048 -nodes -subj "/CN=rdweb.sydney.northwind.edu.au/emailAddress=jane.doe@adventure-works.com" -keyout "$T_TMP/wl.key" \
    -out "$T_TMP/wl.csr" -config "$T_TMP/ext.cnf" >/dev/null 2>&1
openssl x509 -req -in "$T_TMP/wl.csr" -CA "$T_TMP/wca.crt" -CAkey "$T_TMP/wca.key" -set_serial 0x5EC0DE02 -days 30 \
    -extfile "$T_TMP/ext.cnf" -extensions leaf -out "$T_TMP/wl.crt" >/dev/null 2>&1
cat "$T_TMP/wca.crt" "$T_TMP/wca.key" >"$T_TMP/wca.pem"
cat "$T_TMP/wl.crt" "$T_TMP/wl.key" >"$T_TMP/wl.pem"
if ! openssl x509 -in "$T_TMP/wl.crt" -noout -text 2>/dev/null | grep -q "othername"; then
    skip "a customer's certificate's extensions (openssl cannot make the test certificates)"
else
    LONG=contoso-$(printf '%055d' 0)
    Q cert import-file "$T_TMP/wca.pem" --name proseware-ca
    Q cert import-file "$T_TMP/wl.pem" --name "${LONG}a"
    Q cert import-file "$T_TMP/wl.pem" --name "${LONG}b"
    Q cert import proseware-ca --machine vmm01 --store Root --public-only
    Q cert import "${LONG}a" --machine vmm01 --store My --public-only
    Q cert import "${LONG}b" --machine vmm01 --store My --public-only
    # a certificate whose issuer's key the lab lacks (self-signed, public only): re-issued with
    # a throw-away key, and a warning naming it
    Q cert import-file "$T_TMP/ec.crt" --name contoso-ec-public
    XR=$T_TMP/ext-red
    W lab export "$XR" --redact --json >"$T_TMP/xr.json" 2>&1
    for f in "$XR"/certs/*.cer; do
        openssl x509 -inform DER -in "$f" -noout -text -serial; openssl asn1parse -inform DER -in "$f"
    done >"$T_TMP/xr-certs.txt" 2>&1
    check_eq "redacted: no name from any extension, SAN entry or the domains seen only there" "" \
        "$(cat "$XR/deployment.json" "$T_TMP/xr-certs.txt" | grep -oiE 'woodgrove|northwind|sydney|tailwind|litware|proseware|fabrikam|john|smith|wingtip|jane|doe|adventure|works|contoso' | sort -u | tr '\n' ' ')"
    check_eq "redacted: only basicConstraints, keyUsage, EKU, SKI, AKI (key id) and SAN remain; no SCT list, no AKID issuer/serial" "" \
        "$(grep -oE 'X509v3 (Certificate Policies|Issuer Alternative Name|Name Constraints|CRL Distribution Points)|CT Precertificate SCTs|1\.3\.6\.1\.4\.1\.311\.20\.2($|[^.0-9])|1\.3\.6\.1\.4\.1\.11129|DirName|othername|serial:[0-9A-F:]+' "$T_TMP/xr-certs.txt" | sort -u | tr '\n' ' ')"
    check_eq "redacted: the original serials (5EC0DE01, 5EC0DE02) are gone" "" "$(grep -oiE '5EC0DE0[12]' "$T_TMP/xr-certs.txt" | sort -u)"
    check "redacted: the edu.au host keeps its host label, every other label is mapped" \
        grep -qE "DNS:rdweb\.sub[0-9]+\.customer[0-9]+\.example, DNS:customer[0-9]+\.example, email:user[0-9]+@customer[0-9]+\.example" "$T_TMP/xr-certs.txt"
    FILES=$(ls "$XR/certs" | sed 's/\.cer$//' | awk 'length > 64')
    check_eq "redacted: vault names that grew past 64 characters are cut and kept unique" "|2" \
        "$FILES|$(ls "$XR/certs" | grep -c '^customer1-00000')"
    XL=$(json_sql "$XR/deployment.json" "SELECT json_extract(e.value,'\$.file') FROM doc, json_each(json_extract(j,'\$.machines')) m,
        json_each(json_extract(m.value,'\$.stores.My')) e WHERE json_extract(m.value,'\$.name') = 'vmm01' AND json_extract(e.value,'\$.file') LIKE '%customer1-0%' LIMIT 1")
    XC=$(json_sql "$XR/deployment.json" "SELECT group_concat(json_extract(e.value,'\$.file'), ' ') FROM doc, json_each(json_extract(j,'\$.machines')) m,
        json_each(json_extract(m.value,'\$.stores.Root')) e WHERE json_extract(m.value,'\$.name') = 'vmm01'")
    for f in $XC; do openssl x509 -inform DER -in "$XR/$f"; done >"$T_TMP/xc.pem" 2>/dev/null
    openssl x509 -inform DER -in "$XR/$XL" -out "$T_TMP/xl.pem" 2>/dev/null
    check "redacted: the re-issued server certificate ($XL) still verifies under vmm01's re-issued Root certificates" \
        sh -c "openssl verify -CAfile '$T_TMP/xc.pem' '$T_TMP/xl.pem' >/dev/null 2>&1"
    check_eq "redacted: a warning (an issuer's key the lab lacks) names no customer name" "0|" \
        "$(json_sql "$T_TMP/xr.json" "SELECT json_array_length(json_extract(j,'\$.warnings')) = 0 FROM doc")|$(json_sql "$T_TMP/xr.json" "SELECT group_concat(value, ' ') FROM doc, json_each(json_extract(j,'\$.warnings'))" | grep -oiE 'contoso')"
    W lab export "$T_TMP/ext-red2" --redact >"$T_TMP/xr2.out" 2>&1
    check_eq "redacted: and neither does the printed one" "1|" \
        "$(grep -c 'warning:' "$T_TMP/xr2.out")|$(grep -oiE 'contoso' "$T_TMP/xr2.out" | sort -u)"
    for c in proseware-ca "${LONG}a" "${LONG}b"; do Q cert remove "$c" --machine vmm01 --store My; Q cert remove "$c" --machine vmm01 --store Root; done
fi

# ---- names of the customer's own: a machine, a DNS view, another domain ----
HV01=$(mfield "$X" hv01 .address)
Q fabric add-gateway contoso-gw03
Q dns set rdgw01 --server dmz --add-forwarder fabric.contoso.local --add-host "hv01.fabric.contoso.local=$HV01"
Q cert new uk-ssl --subject "CN=gw.fabrikam.co.uk" --san "DNS:gw.fabrikam.co.uk,URI:http://pki.contoso.com/crl/Contoso.crl,email:ops@contoso.com" --eku serverAuth --issuer lab-root-ca
Q cert import uk-ssl --machine contoso-gw03 --store My
Q gateway set --machine contoso-gw03 --ssl-cert uk-ssl
N=$T_TMP/names
W lab export "$N" >/dev/null 2>&1
check_eq "a DNS view is exported as dns set left it" "dmz|[\"fabric.contoso.local\"]|hv01.fabric.contoso.local=$HV01" \
    "$(mfield "$N" rdgw01 .dns.server)|$(mfield "$N" rdgw01 .dns.forwarders)|$(mfield "$N" rdgw01 .dns.hosts[0].name)=$(mfield "$N" rdgw01 .dns.hosts[0].address)"
NR=$T_TMP/names-red
W lab export "$NR" --redact >/dev/null 2>&1
schema_check "redacted with the customer's names: validates" "$NR"
for f in "$NR"/certs/*.cer; do openssl x509 -inform DER -in "$f" -noout -text; done >"$T_TMP/nr-certs.txt" 2>&1
check_eq "redacted: no customer name (a machine's, a DNS view's, another domain's) left" "" \
    "$(cat "$NR/deployment.json" "$T_TMP/nr-certs.txt" | grep -oiE 'contoso|fabrikam' | sort -u | tr '\n' ' ')"
check_eq "redacted: the machine, the view and the other domain renamed consistently" \
    "gateway|[\"sub1.customer1.local\"]|hv01.sub1.customer1.local|customer1-gw03.sub1.customer1.local" \
    "$(mfield "$NR" customer1-gw03 .role)|$(mfield "$NR" rdgw01 .dns.forwarders)|$(mfield "$NR" rdgw01 .dns.hosts[0].name)|$(mfield "$NR" customer1-gw03 .fqdn)"
check "redacted: gw.fabrikam.co.uk became gw.customerN.example (one public suffix label)" \
    grep -qE "DNS:gw\.customer[02-9][0-9]*\.example" "$T_TMP/nr-certs.txt"
check "redacted: a URI's host and path and an e-mail's domain in a SAN follow the mapping, its user is userN" \
    grep -qE "URI:http://pki\.customer1\.example/crl/Customer1\.crl, email:user[0-9]+@customer1\.example" "$T_TMP/nr-certs.txt"

# roundtrip EXPORT: lab init --from EXPORT, up; the same connect stage and code for every VM
# and the same diagnose findings as the running lab L (once lab init --from exists).
outcomes() { # outcomes LAB: "vm:ok:stage:code ..." then "| id@machine ..."
    for vm in $(json_sql "$2" "SELECT group_concat(json_extract(v.value,'\$.tenant') || '/' || json_extract(v.value,'\$.name'), ' ')
            FROM doc, json_each(json_extract(j,'\$.machines')) m, json_each(json_extract(m.value,'\$.vms')) v"); do
        "$WAPSIM" --lab "$1" connect --tenant "${vm%/*}" --vm "${vm#*/}" --json </dev/null >"$T_TMP/c.json" 2>/dev/null
        json_sql "$T_TMP/c.json" "SELECT '${vm#*/}:' || coalesce(json_extract(j,'\$.ok'),'') || ':' ||
            coalesce(json_extract(j,'\$.stage'),'') || ':' || coalesce(json_extract(j,'\$.code'),'') FROM doc"
    done | sort | tr '\n' ' '
    "$WAPSIM" --lab "$1" diagnose --json </dev/null >"$T_TMP/d.json" 2>/dev/null
    echo "| $(json_sql "$T_TMP/d.json" "SELECT coalesce(group_concat(x, ' '), '') FROM (SELECT json_extract(value,'\$.id') || '@' ||
        json_extract(value,'\$.machine') AS x FROM doc, json_each(json_extract(j,'\$.findings')) ORDER BY x)")"
}
roundtrip() {
    if ! "$WAPSIM" lab init --help 2>&1 | grep -q -- "--from"; then
        skip "round trip through lab init --from (not in this build)"
        return
    fi
    RT=$T_TMP/rt
    T_LABS="$T_LABS $RT"
    if ! "$WAPSIM" lab init "$RT" --from "$1" >"$T_TMP/rt.out" 2>&1 || ! "$WAPSIM" --lab "$RT" up >/dev/null 2>&1; then
        not_ok "lab init --from the export makes a lab that starts ($(tail -n 2 "$T_TMP/rt.out"))"
        return
    fi
    A_OUT=$(outcomes "$L" "$1/deployment.json")
    echo "# round trip: $A_OUT"
    check_eq "round trip: lab init --from the export connects and diagnoses as the lab did" \
        "$A_OUT" "$(outcomes "$RT" "$1/deployment.json")"
    "$WAPSIM" --lab "$RT" down >/dev/null 2>&1
}

# ---- a running lab ----
if Q up; then
    check_exit "a running lab exports" 0 W lab export "$T_TMP/running"
    schema_check "the running lab's export validates" "$T_TMP/running"
    roundtrip "$T_TMP/running"
    Q down
else
    not_ok "the lab starts ($(W up 2>&1 | tail -n 2))"
fi

# ---- a customer's deployment whose tenant is a person (tests/data/deployment-fabrikam) ----
# The tenant john.smith@fabrikam.net and a local administrator FABRIKAM\john.smith: the tenant
# becomes tenantN everywhere, the person's name never survives; the customer's thumbprints
# (a registered one of a renewed certificate included) are gone; the redacted export loads
# with lab init --from and diagnoses the same faults at the same machines.
F=$T_TMP/fab
cp -r "$SRC/tests/data/deployment-fabrikam" "$F"
python3 - "$F/deployment.json" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p))
d["tenants"][0]["name"] = "john.smith@fabrikam.net"
for m in d["machines"]:
    for v in m.get("vms", []):
        if v.get("tenant") == "adatum":
            v["tenant"] = "john.smith@fabrikam.net"
    if m["name"] == "fabvmm01":
        m["local_administrators"] = m.get("local_administrators", []) + ["FABRIKAM\\john.smith"]
json.dump(d, open(p, "w"), indent=2)
PY
FL=$T_TMP/fablab
if ! new_lab "$FL" --from "$F"; then
    not_ok "the fabrikam deployment with a person as tenant loads ($(tail -n 2 "$T_TMP/init.out"))"
else
    FR=$T_TMP/fab-red
    "$WAPSIM" --lab "$FL" lab export "$FR" --redact --json </dev/null >"$T_TMP/fr.json" 2>&1
    for f in "$FR"/certs/*.cer; do openssl x509 -inform DER -in "$f" -noout -text; done >"$T_TMP/fr-certs.txt" 2>&1
    check_eq "fabrikam redacted: no customer, tenant or person's name left (file, certificates, warnings)" "" \
        "$(cat "$FR/deployment.json" "$T_TMP/fr-certs.txt" "$T_TMP/fr.json" | grep -oiE 'fabrikam|john|smith|adatum|woodgrove|tailspin' | sort -u | tr '\n' ' ')"
    check_eq "fabrikam redacted: the tenant is tenantN as a whole, the same in tenants[] and on its VMs" "1|1" \
        "$(json_sql "$FR/deployment.json" "SELECT json_extract(j,'\$.tenants[0].name') GLOB 'tenant[0-9]*' FROM doc")|$(json_sql "$FR/deployment.json" "SELECT count(*) > 0 FROM doc, json_each(json_extract(j,'\$.machines')) m,
            json_each(json_extract(m.value,'\$.vms')) v WHERE json_extract(v.value,'\$.tenant') = json_extract(j,'\$.tenants[0].name')")"
    FADM=$(json_sql "$FR/deployment.json" "SELECT count(*) FROM doc, json_each(json_extract(j,'\$.machines')) m,
        json_each(json_extract(m.value,'\$.local_administrators')) a WHERE json_extract(m.value,'\$.name') = 'fabvmm01'
        AND a.value GLOB 'CUSTOMER[0-9]*\user[0-9]*'")
    check_eq "fabrikam redacted: fabvmm01's administrators (FABRIKAM\\Domain Admins, svc-vmm, john.smith) are each CUSTOMERn\\userN" \
        3 "$FADM"
    check_eq "fabrikam redacted: no thumbprint of the customer's file is in the export (the registered renewed one neither)" "" \
        "$(grep -oE '[0-9A-Fa-f]{40}' "$F/deployment.json" | sort -u | while read -r tp; do grep -qi "$tp" "$FR/deployment.json" && echo "$tp"; done)"
    schema_check "fabrikam redacted: validates" "$FR"
    diag_ids() { # diag_ids LAB: its findings' id@machine, sorted
        "$WAPSIM" --lab "$1" up --timeout 60 >/dev/null 2>&1
        "$WAPSIM" --lab "$1" diagnose --json </dev/null >"$T_TMP/dd.json" 2>/dev/null
        "$WAPSIM" --lab "$1" down >/dev/null 2>&1
        json_sql "$T_TMP/dd.json" "SELECT coalesce(group_concat(x, ' '), '') FROM (SELECT json_extract(value,'\$.id') || '@' ||
            json_extract(value,'\$.machine') AS x FROM doc, json_each(json_extract(j,'\$.findings')) ORDER BY x)"
    }
    FRT=$T_TMP/fab-rt
    if ! new_lab "$FRT" --from "$FR"; then
        not_ok "round trip: lab init --from the redacted export ($(tail -n 2 "$T_TMP/init.out"))"
    else
        FD=$(diag_ids "$FL")
        echo "# fabrikam findings: $FD"
        check "round trip: the redacted fabrikam export diagnoses the same findings at the same machines" \
            sh -c "[ -n '$FD' ] && [ '$FD' = '$(diag_ids "$FRT")' ]"
    fi
fi

# ---- the HA layout ----
if ! new_lab "$H" --ha; then
    not_ok "an HA lab is made ($(tail -n 3 "$T_TMP/init.out"))"
    exit 0
fi
HX=$T_TMP/ha-out
"$WAPSIM" --lab "$H" lab export "$HX" >/dev/null 2>&1
schema_check "the HA lab's export validates against the schema" "$HX"
check_eq "HA: each certificate has the thumbprint its entries name" "" "$(chk certs "$HX")"
check_eq "HA: lb01 is a balancer of rdgw01 and rdgw02 (tcp, no affinity) answering rdgw.contoso.com" \
    "balancer|[\"rdgw01\",\"rdgw02\"]|tcp|none|rdgw.contoso.com" \
    "$(mfield "$HX" lb01 .role)|$(mfield "$HX" lb01 .balancer.members)|$(mfield "$HX" lb01 .balancer.mode)|$(mfield "$HX" lb01 .balancer.affinity)|$(mfield "$HX" lb01 .public_fqdn)"
check_eq "HA: rdgw02 binds rdgw01's certificate and trusts VMM's" \
    "$(mfield "$HX" rdgw01 .tls_certificate)|$(mfield "$HX" vmm01 .vmm.gateway_certificate)" \
    "$(mfield "$HX" rdgw02 .tls_certificate)|$(mfield "$HX" rdgw02 .trusted_issuers[0])"
HR=$T_TMP/ha-red
"$WAPSIM" --lab "$H" lab export "$HR" --redact >/dev/null 2>&1
schema_check "HA redacted: validates" "$HR"
check_eq "HA redacted: lb01 answers the redacted public name" "rdgw.customer1.example" "$(mfield "$HR" lb01 .public_fqdn)"
secrets_check "HA: no private key and no password" "$HX" "$H"
