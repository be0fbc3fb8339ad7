#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# lab init --from (issue 15): a deployment made here from a default lab's certificates
# (exported as Export-Certificate writes them) and the openssl command line, loaded from
# a folder, a .zip and a .tar.gz; stand-ins keep the certificates' fields with new keys;
# registered thumbprints map to the stand-ins (one of no certificate stays unknown); an
# expired certificate stays expired on the lab clock; the imported lab comes up and a
# tenant connects through it; bad input is refused in one line naming the JSON path,
# exit 2, nothing left behind.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 is needed to write the deployments' JSON"

SRC=$T_TMP/src
DEP=$T_TMP/dep
if ! new_lab "$SRC"; then
    not_ok "lab init of the source lab ($(tail -n 1 "$T_TMP/init.out"))"
    exit 0
fi
mkdir -p "$DEP/certs"
for c in lab-root-ca vmm-console rdgw-ssl portal-ssl spf-ssl hv01-selfsigned; do
    "$WAPSIM" --lab "$SRC" cert export "$c" --der --out "$DEP/certs/$c.cer" || not_ok "export $c"
done
tp() { openssl x509 -inform DER -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'; }
# A certificate valid for one day, collected three days later: expired at collection. PEM,
# as certutil -encode writes it.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_TMP/old.key" -out "$DEP/certs/old portal.pem" -days 1 \
    -subj "/CN=portal.contoso.com/O=Contoso" -addext "subjectAltName=DNS:portal.contoso.com" \
    -addext "extendedKeyUsage=serverAuth" -addext "keyUsage=digitalSignature,keyEncipherment" 2>/dev/null
collected=$(date -u -d '+3 days' +%Y-%m-%dT%H:%M:%SZ)
UNKNOWN=0123456789ABCDEF0123456789ABCDEF01234567

# The default lab's layout as a deployment: what a customer's collection would give.
SCHANNEL="Microsoft RSA SChannel Cryptographic Provider"
AES="Microsoft Enhanced RSA and AES Cryptographic Provider"
cat >"$DEP/deployment.json" <<EOF
{"format": "wapsim-deployment", "version": 1, "collected_at": "$collected",
 "machines": [
  {"name": "portal", "role": "portal", "fqdn": "portal.contoso.com", "public_fqdn": "portal.contoso.com",
   "stores": {"My": [{"file": "certs/portal-ssl.cer", "private_key": {"provider": "$SCHANNEL"}},
                     {"file": "certs/old portal.pem"}],
              "Root": [{"file": "certs/lab-root-ca.cer"}]},
   "tls_certificate": "$(tp "$DEP/certs/portal-ssl.cer")"},
  {"name": "spf01", "role": "spf",
   "stores": {"My": [{"file": "certs/spf-ssl.cer", "private_key": {"provider": "$SCHANNEL"}}],
              "Root": [{"file": "certs/lab-root-ca.cer"}]},
   "tls_certificate": "$(tp "$DEP/certs/spf-ssl.cer")"},
  {"name": "vmm01", "role": "vmm",
   "stores": {"My": [{"file": "certs/vmm-console.cer", "thumbprint": "$(tp "$DEP/certs/vmm-console.cer")",
                      "private_key": {"provider": "$AES", "provider_type": 24}}],
              "Root": [{"file": "certs/lab-root-ca.cer"}]},
   "vmm": {"gateway_certificate": "$(tp "$DEP/certs/vmm-console.cer")",
           "hyperv_certificate": "$(tp "$DEP/certs/vmm-console.cer")", "time_to_live_minutes": 5}},
  {"name": "rdgw01", "role": "gateway", "public_fqdn": "rdgw.contoso.com", "address": "10.1.0.13",
   "dns": {"hosts": [{"name": "hv01.fabric.contoso.local", "address": "10.2.0.15"},
                     {"name": "old-hv.fabric.contoso.local", "address": "10.2.0.99"}]},
   "stores": {"My": [{"file": "certs/rdgw-ssl.cer", "private_key": {"provider": "$SCHANNEL",
                        "access": [{"account": "NT AUTHORITY\\\\SYSTEM", "rights": "Full Control"},
                                   {"account": "NT AUTHORITY\\\\NETWORK SERVICE", "rights": "Read"}]}},
                     {"file": "certs/vmm-console.cer"}],
              "Root": [{"file": "certs/lab-root-ca.cer"}, {"file": "certs/vmm-console.cer"}]},
   "tls_certificate": "$(tp "$DEP/certs/rdgw-ssl.cer")",
   "trusted_issuers": ["$(tp "$DEP/certs/vmm-console.cer")"]},
  {"name": "hv01", "role": "host", "address": "10.2.0.15",
   "stores": {"My": [{"file": "certs/hv01-selfsigned.cer", "private_key": {"provider": "$SCHANNEL"}},
                     {"file": "certs/vmm-console.cer"}],
              "Root": [{"file": "certs/lab-root-ca.cer"}, {"file": "certs/vmm-console.cer"}]},
   "rdp_certificate": "$(tp "$DEP/certs/hv01-selfsigned.cer")",
   "trusted_issuers": ["$(tp "$DEP/certs/vmm-console.cer")"],
   "vms": [{"name": "web01", "id": "11111111-2222-3333-4444-555555555555", "tenant": "alice", "subscription": "Contoso Web"}]},
  {"name": "hv02", "role": "host", "clock_skew_seconds": -600,
   "stores": {"My": [{"file": "certs/vmm-console.cer"}],
              "Root": [{"file": "certs/lab-root-ca.cer"}, {"file": "certs/vmm-console.cer"}]},
   "trusted_issuers": ["$(tp "$DEP/certs/vmm-console.cer")", "$UNKNOWN"],
   "vms": [{"name": "db01", "tenant": "alice", "subscription": "Contoso Web", "os": "Ubuntu 14.04 LTS"},
           {"name": "app01", "tenant": "bob", "subscription": "Fabrikam Dev"}]}
 ]}
EOF
if python3 -c "import jsonschema" 2>/dev/null; then
    check "the test's deployment is valid against the schema" python3 -c "
import json, jsonschema, sys
jsonschema.validate(json.load(open('$DEP/deployment.json')), json.load(open('schema/deployment-v1.schema.json')))"
else
    skip "python3-jsonschema is not installed"
fi

# ---- a folder
L=$T_TMP/imp
T_LABS="$T_LABS $L"
"$WAPSIM" lab init "$L" --from "$DEP" --json >"$T_TMP/init.json" 2>"$T_TMP/init.err"
check_eq "lab init --from a folder" 0 $?
check_eq "the machines are the deployment's, plus the tenant's PC" "client hv01 hv02 portal rdgw01 spf01 vmm01" \
    "$(sqlite3 "$L/lab.db" "SELECT group_concat(name, ' ') FROM (SELECT name FROM machines ORDER BY name)")"
check_eq "addresses and ports are the lab's by role" "rdgw01|13|8443 hv02|16|2179" \
    "$(sqlite3 "$L/lab.db" "SELECT name||'|'||substr(address, length(address)-1)||'|'||port FROM machines WHERE name IN ('rdgw01','hv02') ORDER BY name DESC" | tr '\n' ' ' | sed 's/ $//')"
check_eq "--json lists a stand-in for each of the 7 certificates" 7 \
    "$(json_sql "$T_TMP/init.json" "SELECT count(*) FROM doc, json_each(doc.j, '\$.standins')")"
check "--json lists the defaults it took (the VMM's default port)" grep -q 'vmm.default_port (vmm01): not given: 2179' "$T_TMP/init.json"
check_eq "the unknown registered thumbprint is reported" "$UNKNOWN" \
    "$(json_sql "$T_TMP/init.json" "SELECT json_extract(value, '\$.thumbprint') FROM doc, json_each(doc.j, '\$.unknown_thumbprints')")"

check_eq "a DNS hosts entry naming a machine's address names its lab address; one of no machine, a dead one" \
    "hv01.fabric.contoso.local=$(sqlite3 "$L/lab.db" "SELECT address FROM machines WHERE name='hv01'"),old-hv.fabric.contoso.local=$(sqlite3 "$L/lab.db" "SELECT substr(address, 1, length(address) - 2) FROM machines WHERE name='hv01'")254" \
    "$(sqlite3 "$L/lab.db" "SELECT value FROM settings WHERE scope='rdgw01' AND key='dns_hosts'")"
check_eq "hv02's clock skew is the file's" -600 "$(sqlite3 "$L/lab.db" "SELECT skew_seconds FROM machines WHERE name='hv02'")"

# Stand-ins keep the fields, with new keys.
orig=$DEP/certs/rdgw-ssl.cer
"$WAPSIM" --lab "$L" cert export rdgw-ssl --der --out "$T_TMP/standin.cer"
fields() { openssl x509 -inform DER -in "$1" -noout -subject -issuer -serial -startdate -enddate \
    -ext subjectAltName,extendedKeyUsage,keyUsage 2>/dev/null; }
check_eq "rdgw-ssl's stand-in: same subject, issuer, serial, validity, SANs, EKUs, key usage" "$(fields "$orig")" \
    "$(fields "$T_TMP/standin.cer")"
check "... and a new key" sh -c "[ \"\$(openssl x509 -inform DER -in '$orig' -noout -pubkey)\" != \"\$(openssl x509 -inform DER -in '$T_TMP/standin.cer' -noout -pubkey)\" ]"
check_eq "... the state keeps the customer's thumbprint as original_thumbprint" "$(tp "$orig")" \
    "$(sqlite3 "$L/lab.db" "SELECT original_thumbprint FROM certificates WHERE name='rdgw-ssl'")"
check "... and the stand-in chains to lab-root-ca's stand-in" sh -c \
    "'$WAPSIM' --lab '$L' cert export lab-root-ca --pem --out '$T_TMP/r.pem' && openssl x509 -inform DER -in '$T_TMP/standin.cer' -out '$T_TMP/s.pem' && openssl verify -CAfile '$T_TMP/r.pem' '$T_TMP/s.pem' >/dev/null"
check_eq "the PEM file became a vault certificate named after its stem" "old-portal" \
    "$(sqlite3 "$L/lab.db" "SELECT name FROM certificates WHERE original_thumbprint='$(openssl x509 -in "$DEP/certs/old portal.pem" -outform DER | openssl sha1 -r | cut -c1-40 | tr a-f A-F)'")"

# Registrations map to the stand-ins; the unknown one stays as written.
vmm_standin=$(sqlite3 "$L/lab.db" "SELECT value FROM settings WHERE scope='vmm01' AND key='gateway_cert'")
check_eq "VMM's gateway certificate setting names the stand-in" vmm-console "$vmm_standin"
"$WAPSIM" --lab "$L" cert list --json >"$T_TMP/certs.json"
check_eq "rdgw01 trusts the stand-in's thumbprint (FedAuth list)" \
    "$(json_sql "$T_TMP/certs.json" "SELECT json_extract(value,'\$.thumbprint') FROM doc, json_each(doc.j) WHERE json_extract(value,'\$.name')='vmm-console' LIMIT 1")" \
    "$(sqlite3 "$L/lab.db" "SELECT thumbprint FROM trusted_issuers WHERE machine='rdgw01'")"
check_eq "hv02 keeps the thumbprint of no certificate in its list" 1 \
    "$(sqlite3 "$L/lab.db" "SELECT count(*) FROM trusted_issuers WHERE machine='hv02' AND thumbprint='$UNKNOWN'")"
check_eq "... which no certificate of the lab has" 0 \
    "$(sqlite3 "$L/lab.db" "SELECT count(*) FROM certificates WHERE thumbprint='$UNKNOWN' OR original_thumbprint='$UNKNOWN'")"
check_eq "VMM's time to live is the file's, its port the default" "5 2179" \
    "$(sqlite3 "$L/lab.db" "SELECT group_concat(value, ' ') FROM (SELECT value FROM settings WHERE scope='vmm01' AND key IN ('ttl_minutes','default_port') ORDER BY key DESC)")"
check_eq "the key access list is the recorded one" "NT AUTHORITY\\NETWORK SERVICE|Read NT AUTHORITY\\SYSTEM|Full Control" \
    "$(sqlite3 "$L/lab.db" "SELECT account||'|'||rights FROM key_access WHERE machine='rdgw01' AND certificate='rdgw-ssl' ORDER BY account" | tr '\n' ' ' | sed 's/ $//')"
check_eq "the VM keeps its id, on the host that lists it" "11111111-2222-3333-4444-555555555555|hv01" \
    "$(sqlite3 "$L/lab.db" "SELECT id||'|'||host FROM vms WHERE name='web01'")"
check_eq "tenants made from the VMs" "alice|Contoso Web bob|Fabrikam Dev" \
    "$(sqlite3 "$L/lab.db" "SELECT tenant||'|'||name FROM subscriptions ORDER BY tenant" | tr '\n' ' ' | sed 's/ $//')"

# The lab clock starts at the collection time: the one-day certificate is expired there.
"$WAPSIM" --lab "$L" clock show --json >"$T_TMP/clock.json"
lab_now=$(json_sql "$T_TMP/clock.json" "SELECT json_extract(j, '\$.lab_time_unix') FROM doc")
not_after=$(date -u -d "$(openssl x509 -in "$DEP/certs/old portal.pem" -noout -enddate | sed 's/notAfter=//')" +%s)
check "the lab clock starts at collected_at" sh -c "[ $((lab_now - $(date -u -d "$collected" +%s))) -lt 120 ] && [ $((lab_now - $(date -u -d "$collected" +%s))) -gt -5 ]"
check "... where the one-day certificate is expired" [ "$not_after" -lt "$lab_now" ]
"$WAPSIM" --lab "$L" cert export old-portal --der --out "$T_TMP/old.cer"
check_eq "... and its stand-in ends when it did" "$(openssl x509 -in "$DEP/certs/old portal.pem" -noout -enddate)" \
    "$(openssl x509 -inform DER -in "$T_TMP/old.cer" -noout -enddate)"

# The imported lab works: up, and a tenant connects through it.
if "$WAPSIM" --lab "$L" up >"$T_TMP/up.out" 2>&1; then
    ok "the imported lab comes up"
    "$WAPSIM" --lab "$L" connect --tenant alice --vm web01 --json >"$T_TMP/c.json" 2>/dev/null
    check_eq "alice connects to web01 through it" "true|console" \
        "$(json_sql "$T_TMP/c.json" "SELECT CASE json_extract(j,'\$.ok') WHEN 1 THEN 'true' ELSE 'false' END || '|' || json_extract(j,'\$.stage') FROM doc")"
    "$WAPSIM" --lab "$L" down >/dev/null 2>&1
else
    not_ok "the imported lab comes up ($(tail -n 2 "$T_TMP/up.out" | tr '\n' ' '))"
fi

# ---- a .zip and a .tar.gz of the same folder
(cd "$DEP" && python3 -m zipfile -c "$T_TMP/dep.zip" deployment.json certs) >/dev/null
check_exit "lab init --from a .zip" 0 "$WAPSIM" lab init "$T_TMP/z" --from "$T_TMP/dep.zip"
check_eq "... the same certificates" 7 "$(sqlite3 "$T_TMP/z/lab.db" "SELECT count(*) FROM certificates WHERE original_thumbprint IS NOT NULL")"
tar -C "$T_TMP" -czf "$T_TMP/dep.tar.gz" dep
check_exit "lab init --from a .tar.gz (one top folder)" 0 "$WAPSIM" lab init "$T_TMP/t" --from "$T_TMP/dep.tar.gz"
check_eq "... the same certificates" 7 "$(sqlite3 "$T_TMP/t/lab.db" "SELECT count(*) FROM certificates WHERE original_thumbprint IS NOT NULL")"

# A certificate renewed with the same key: its stand-in shares the first one's stand-in key (one
# key per distinct public key); an RSA key above 4096 bits gets a 4096-bit stand-in key, reported.
cp -r "$DEP" "$T_TMP/renew"
openssl req -x509 -key "$T_TMP/old.key" -out "$T_TMP/renew/certs/renewed.pem" -days 30 \
    -subj "/CN=portal.contoso.com/O=Contoso" 2>/dev/null
openssl req -x509 -newkey rsa:4160 -nodes -keyout "$T_TMP/big.key" -out "$T_TMP/renew/certs/big.pem" -days 30 \
    -subj "/CN=Big Root" 2>/dev/null
python3 -c "
import json
p = '$T_TMP/renew/deployment.json'
d = json.load(open(p))
d['machines'][0]['stores']['My'].append({'file': 'certs/renewed.pem'})
d['machines'][0]['stores']['Root'].append({'file': 'certs/big.pem'})
json.dump(d, open(p, 'w'))"
"$WAPSIM" lab init "$T_TMP/renew-lab" --from "$T_TMP/renew" --json >"$T_TMP/renew.json" 2>&1
for c in old-portal renewed big; do
    "$WAPSIM" --lab "$T_TMP/renew-lab" cert export "$c" --der --out "$T_TMP/renew-$c.cer" 2>/dev/null
done
pub() { openssl x509 -inform DER -in "$1" -noout -pubkey 2>/dev/null | md5sum; }
check_eq "a certificate renewed with the same key: its stand-in shares the first's stand-in key" \
    "$(pub "$T_TMP/renew-old-portal.cer")" "$([ -s "$T_TMP/renew-renewed.cer" ] && pub "$T_TMP/renew-renewed.cer")"
check_eq "an RSA key of 4160 bits gets a 4096-bit stand-in key" 1 \
    "$(openssl x509 -inform DER -in "$T_TMP/renew-big.cer" -noout -text 2>/dev/null | grep -c "Public-Key: (4096 bit)")"
check "... reported among the defaults" grep -q "certs/big.pem: an RSA key of 4160 bits: its stand-in's key has 4096 bits" "$T_TMP/renew.json"
rm -rf "$T_TMP/renew-lab"

# ---- refusals: one line naming the path, exit 2, nothing left behind
# refused NAME EXPECTED-TEXT FROM: lab init into a new directory must fail so.
refused() {
    what=$1 want=$2 from=$3
    "$WAPSIM" lab init "$T_TMP/bad" --from "$from" >"$T_TMP/out" 2>"$T_TMP/err"
    rc=$?
    # One line: the error (lab init's progress line aside).
    if [ "$rc" = 2 ] && [ "$(grep -vc '^lab init: creating' "$T_TMP/err")" = 1 ] && grep -qF -- "$want" "$T_TMP/err" && [ ! -e "$T_TMP/bad" ]; then
        ok "refused: $what"
    else
        not_ok "refused: $what (exit $rc, $(ls "$T_TMP/bad" 2>/dev/null | tr '\n' ' ')stderr: $(head -c 300 "$T_TMP/err"))"
    fi
}
# damaged COPY PYTHON: a copy of the deployment with deployment.json changed by PYTHON (d is the JSON).
damaged() {
    rm -rf "$T_TMP/$1" && cp -r "$DEP" "$T_TMP/$1"
    python3 -c "
import json
p = '$T_TMP/$1/deployment.json'
d = json.load(open(p))
$2
json.dump(d, open(p, 'w'))"
}
cp -r "$DEP" "$T_TMP/notcert" && echo "not a certificate" >"$T_TMP/notcert/certs/spf-ssl.cer"
refused "a certificate that does not parse" \
    "deployment.json: machines[1].stores.My[0].file (spf01) certs/spf-ssl.cer: not a certificate (DER or PEM)" "$T_TMP/notcert"
damaged short "d['machines'][3]['trusted_issuers'] = ['8F3A']"
refused "a thumbprint of the wrong length" \
    "deployment.json: machines[3].trusted_issuers[0] (rdgw01): '8F3A' is not a thumbprint (40 hexadecimal digits)" "$T_TMP/short"
damaged tenant "d['tenants'] = [{'name': 'alice', 'subscriptions': [{'name': 'Contoso Web'}]}, {'name': 'bob', 'subscriptions': [{'name': 'Fabrikam Dev'}]}]; d['machines'][5]['vms'][1]['tenant'] = 'mallory'"
refused "a VM whose tenant is unknown" "deployment.json: machines[5].vms[1] (hv02, app01): tenant 'mallory' is not in tenants" "$T_TMP/tenant"
damaged member "d['machines'].append({'name': 'lb01', 'role': 'balancer', 'balancer': {'members': ['rdgw01', 'hv01']}})"
refused "a balancer member that is not a gateway" \
    "deployment.json: machines[6].balancer.members[1] (lb01): 'hv01' is not a gateway (its role is host)" "$T_TMP/member"
damaged role "d['machines'][0]['rdp_certificate'] = '$UNKNOWN'"
refused "a host's key on the portal" "deployment.json: machines[0].rdp_certificate (portal): only a host has it" "$T_TMP/role"
damaged unknownkey "d['machines'][2]['colour'] = 'blue'"
refused "an unknown key" "deployment.json: machines[2].colour: unknown key" "$T_TMP/unknownkey"
damaged twice "d['machines'].append({'name': 'HV01', 'role': 'host'})"
refused "a second machine of one name" "deployment.json: machines[6] (HV01): a second machine named HV01" "$T_TMP/twice"
damaged mismatch "d['machines'][2]['stores']['My'][0]['thumbprint'] = '$UNKNOWN'"
refused "an entry's thumbprint its file's certificate lacks" "deployment.json: machines[2].stores.My[0].thumbprint (vmm01): $UNKNOWN, but" "$T_TMP/mismatch"
cp -r "$DEP" "$T_TMP/badjson" && printf '{"format": "wapsim-deployment",\n "version": 1,,}' >"$T_TMP/badjson/deployment.json"
refused "bad JSON" "deployment.json: not JSON (line 2" "$T_TMP/badjson"
python3 -c "
import zipfile
z = zipfile.ZipFile('$T_TMP/dotdot.zip', 'w')
z.write('$DEP/deployment.json', 'deployment.json')
z.writestr('certs/../../evil.cer', b'x')
z.close()"
refused "an archive entry with '..'" "certs/../../evil.cer: refused: a '..' part" "$T_TMP/dotdot.zip"
mkdir -p "$T_TMP/big/certs" && cp "$DEP/deployment.json" "$T_TMP/big/" && head -c 1100000 /dev/zero >"$T_TMP/big/certs/huge.cer"
tar -C "$T_TMP/big" -czf "$T_TMP/big.tar.gz" deployment.json certs
refused "an archive entry too large" "certs/huge.cer: refused: larger than 1048576 bytes" "$T_TMP/big.tar.gz"
mkdir -p "$T_TMP/link" && cp -r "$DEP/certs" "$T_TMP/link/" && ln -s "$DEP/deployment.json" "$T_TMP/link/deployment.json"
refused "a folder whose deployment.json is a link (never followed)" "no deployment.json in it" "$T_TMP/link"
damaged novmm "d['machines'] = [m for m in d['machines'] if m['role'] != 'vmm']"
refused "a deployment without VMM" "deployment.json: machines: no machine of role vmm" "$T_TMP/novmm"
cp -r "$DEP" "$T_TMP/dsa" && openssl dsaparam -out "$T_TMP/dsa.param" 1024 2>/dev/null
openssl req -x509 -newkey "dsa:$T_TMP/dsa.param" -nodes -keyout "$T_TMP/dsa.key" \
    -out "$T_TMP/dsa/certs/spf-ssl.cer" -outform DER -days 30 -subj "/CN=spf01.contoso.com" 2>/dev/null
refused "a certificate whose key the lab cannot make (the reason quoted once, intact)" \
    "deployment.json: certs/spf-ssl.cer $(tp "$T_TMP/dsa/certs/spf-ssl.cer"): no stand-in: a DSA key: the lab makes RSA and EC keys only" "$T_TMP/dsa"
# DNS hosts entries of no machine: one shared list of dead addresses for the machines' views and
# the tenant's hosts file, never an address a machine has, refused when the subnet runs out.
damaged dead "d['machines'].append({'name': 'pc', 'role': 'client', 'dns': {'hosts': [{'name': 'stale.contoso.com', 'address': '10.9.9.9'}]}})"
"$WAPSIM" lab init "$T_TMP/dead-lab" --from "$T_TMP/dead" >/dev/null 2>&1
stale=$(awk '$2 == "stale.contoso.com" {print $1}' "$T_TMP/dead-lab/hosts")
oldhv=$(sqlite3 "$T_TMP/dead-lab/lab.db" "SELECT value FROM settings WHERE scope='rdgw01' AND key='dns_hosts'" | sed 's/.*old-hv.fabric.contoso.local=//; s/,.*//')
check "the tenant's hosts file and a machine's view give two stale addresses two dead addresses ($stale, $oldhv)" \
    [ -n "$stale" -a -n "$oldhv" -a "$stale" != "$oldhv" ]
rm -rf "$T_TMP/dead-lab"
damaged manydead "d['machines'] += [{'name': 'hvx%d' % i, 'role': 'host', 'dns': {'hosts': [{'name': 'h%d-%d.contoso.local' % (i, j), 'address': '10.8.%d.%d' % (i, j)} for j in range(32)]}} for i in range(8)]"
refused "more stale DNS addresses than the lab's subnet has free" \
    "deployment.json: dns.hosts: 10.8.7.10, an address of no machine: the lab's subnet has no unused address left for it" "$T_TMP/manydead"
"$WAPSIM" lab init "$T_TMP/p1/p2/lab" --from "$T_TMP/novmm" >/dev/null 2>&1
check "a deployment without VMM is refused before any folder is made" [ ! -e "$T_TMP/p1" ]
"$WAPSIM" lab init "$T_TMP/p1/p2/lab" --from "$T_TMP/manydead" >/dev/null 2>&1
check "a refusal while the lab is built removes the parent folders lab init created" [ ! -e "$T_TMP/p1" ]
# A subnet where a lab's machine of its own name (.21 and up) listens is in use: a host's port
# (2179) held on .21 by a listener this test starts (and stops by its PID).
S=127.55.201
python3 -c "
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$S.21', 2179)); s.listen(1); open('$T_TMP/listening', 'w').close(); time.sleep(60)" &
LPID=$!
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do [ -e "$T_TMP/listening" ] && break; sleep 0.5; done
if [ -e "$T_TMP/listening" ]; then
    "$WAPSIM" lab init "$T_TMP/insubnet" --subnet "$S.0/24" --from "$DEP" >/dev/null 2>"$T_TMP/insubnet.err"
    check "a subnet where a machine listens on .21 is in use: lab init refuses it" \
        grep -q "subnet $S.0/24 is in use by another running lab" "$T_TMP/insubnet.err"
else
    skip "cannot listen on $S.21:2179"
fi
kill "$LPID" 2>/dev/null
wait "$LPID" 2>/dev/null
rm -rf "$T_TMP/insubnet"
check_exit "--ha with --from is refused" 2 "$WAPSIM" lab init "$T_TMP/ha" --ha --from "$DEP"
check "... leaving nothing" [ ! -e "$T_TMP/ha" ]

# ---- an existing empty directory stays (lab init did not create it), empty
mkdir "$T_TMP/empty"
"$WAPSIM" lab init "$T_TMP/empty" --from "$T_TMP/short" >/dev/null 2>&1
check_eq "a refused import into an empty directory leaves it empty" "" "$(ls -A "$T_TMP/empty")"
damaged late "d['machines'][4]['vms'][0]['id'] = d['machines'][5]['vms'][0].get('id', '11111111-2222-3333-4444-555555555555'); d['machines'][5]['vms'][0]['id'] = '11111111-2222-3333-4444-555555555555'"
refused "two VMs with one id" "a second VM named 11111111-2222-3333-4444-555555555555" "$T_TMP/late"

# ---- a binding that names a thumbprint of no certificate: the host cannot find it
# (as Hyper-V with an AuthCertificateHash of no certificate in its store): the console
# connection is closed, the rest of the lab works, diagnose names it.
damaged unbound "d['machines'][5]['rdp_certificate'] = '$UNKNOWN'"
U=$T_TMP/unbound-lab
T_LABS="$T_LABS $U"
"$WAPSIM" lab init "$U" --from "$T_TMP/unbound" --json >"$T_TMP/u.json" 2>/dev/null
check_eq "hv02's console certificate setting keeps the unknown thumbprint" "$UNKNOWN" \
    "$(sqlite3 "$U/lab.db" "SELECT value FROM settings WHERE scope='hv02' AND key='auth_cert'")"
check_eq "... reported as unknown with its path" "machines[5].rdp_certificate (hv02)" \
    "$(json_sql "$T_TMP/u.json" "SELECT group_concat(json_extract(value, '\$.path')) FROM doc, json_each(doc.j, '\$.unknown_thumbprints') WHERE json_extract(value, '\$.thumbprint') = '$UNKNOWN' AND json_extract(value, '\$.path') LIKE '%rdp%'")"
if "$WAPSIM" --lab "$U" up >"$T_TMP/up.out" 2>&1; then
    "$WAPSIM" --lab "$U" connect --tenant alice --vm db01 --json >"$T_TMP/c.json" 2>/dev/null
    check_eq "a VM on hv02 fails at the host's TLS" "false|host-tls" \
        "$(json_sql "$T_TMP/c.json" "SELECT CASE json_extract(j,'\$.ok') WHEN 1 THEN 'true' ELSE 'false' END || '|' || json_extract(j,'\$.stage') FROM doc")"
    "$WAPSIM" --lab "$U" connect --tenant alice --vm web01 --json >"$T_TMP/c.json" 2>/dev/null
    check_eq "... a VM on hv01 connects" "true|console" \
        "$(json_sql "$T_TMP/c.json" "SELECT CASE json_extract(j,'\$.ok') WHEN 1 THEN 'true' ELSE 'false' END || '|' || json_extract(j,'\$.stage') FROM doc")"
    "$WAPSIM" --lab "$U" diagnose --json >"$T_TMP/d.json" 2>/dev/null
    check_eq "diagnose: host-cert-missing on hv02" 1 \
        "$(json_sql "$T_TMP/d.json" "SELECT count(*) FROM doc, json_each(json_extract(doc.j,'\$.findings')) WHERE json_extract(value,'\$.id') = 'host-cert-missing' AND json_extract(value,'\$.machine') = 'hv02'")"
    "$WAPSIM" --lab "$U" down >/dev/null 2>&1
else
    not_ok "the lab with an unknown binding comes up ($(tail -n 2 "$T_TMP/up.out" | tr '\n' ' '))"
fi

# ---- an issuer the file lacks: one stand-in made from its name, in no store
damaged noroot "
for m in d['machines']:
    m['stores']['Root'] = [e for e in m['stores'].get('Root', []) if 'lab-root-ca' not in e['file']]"
N=$T_TMP/noroot-lab
"$WAPSIM" lab init "$N" --from "$T_TMP/noroot" >/dev/null 2>&1
check_eq "the three certificates of the missing root share one stand-in issuer" 1 \
    "$(sqlite3 "$N/lab.db" "SELECT count(*) FROM certificates WHERE name LIKE 'issuer-%'")"
check_eq "... which no store holds" 0 \
    "$(sqlite3 "$N/lab.db" "SELECT count(*) FROM store_entries WHERE certificate LIKE 'issuer-%'")"
issuer=$(sqlite3 "$N/lab.db" "SELECT name FROM certificates WHERE name LIKE 'issuer-%'")
check "... with the root's name, and it signed rdgw-ssl's stand-in" sh -c \
    "'$WAPSIM' --lab '$N' cert export '$issuer' --pem --out '$T_TMP/i.pem' && '$WAPSIM' --lab '$N' cert export rdgw-ssl --pem --out '$T_TMP/g.pem' && openssl verify -CAfile '$T_TMP/i.pem' '$T_TMP/g.pem' >/dev/null && [ \"\$(openssl x509 -in '$T_TMP/i.pem' -noout -subject)\" = \"\$(openssl x509 -inform DER -in '$DEP/certs/lab-root-ca.cer' -noout -subject)\" ]"

# ---- a deployment without portal and SPF: the default lab's, with certificates of the
# default lab's root (named apart from the file's lab-root-ca), trusted everywhere; it works
damaged noportal "d['machines'] = [m for m in d['machines'] if m['role'] not in ('portal', 'spf')]"
P=$T_TMP/noportal-lab
T_LABS="$T_LABS $P"
"$WAPSIM" lab init "$P" --from "$T_TMP/noportal" --json >"$T_TMP/p.json" 2>/dev/null
check_eq "the portal and SPF the file lacks are added, and listed as defaults" 2 \
    "$(json_sql "$T_TMP/p.json" "SELECT count(*) FROM doc, json_each(doc.j, '\$.defaults') WHERE value LIKE 'machines: no portal:%' OR value LIKE 'machines: no spf:%'")"
check_eq "... the default lab's root, named apart from the file's, is in every Root store" 7 \
    "$(sqlite3 "$P/lab.db" "SELECT count(*) FROM store_entries WHERE certificate = 'lab-root-ca-2' AND store = 'Root'")"
if "$WAPSIM" --lab "$P" up >"$T_TMP/up.out" 2>&1; then
    "$WAPSIM" --lab "$P" connect --tenant alice --vm web01 --json >"$T_TMP/c.json" 2>/dev/null
    check_eq "... and alice connects through them" "true|console" \
        "$(json_sql "$T_TMP/c.json" "SELECT CASE json_extract(j,'\$.ok') WHEN 1 THEN 'true' ELSE 'false' END || '|' || json_extract(j,'\$.stage') FROM doc")"
    "$WAPSIM" --lab "$P" down >/dev/null 2>&1
else
    not_ok "the lab without portal and SPF comes up ($(tail -n 2 "$T_TMP/up.out" | tr '\n' ' '))"
fi

# ---- a customer-like layout: two gateways behind a balancer, three hosts, the VMM
# certificate's key in the Strong provider (PROV_RSA_FULL: no SHA-256), a gateway that
# kept the thumbprint of a certificate since renewed, hv02's clock ten minutes behind:
# diagnose names exactly those.
damaged customer "
import copy
gw2 = copy.deepcopy(d['machines'][3]); gw2['name'] = 'rdgw02'; gw2['trusted_issuers'] = ['$UNKNOWN']
gw2.pop('dns', None); gw2.pop('address', None)
h3 = copy.deepcopy(d['machines'][5]); h3['name'] = 'hv03'; h3['vms'] = [{'name': 'web03', 'tenant': 'alice'}]
h3['trusted_issuers'] = h3['trusted_issuers'][:1]; h3.pop('clock_skew_seconds')
d['machines'][2]['stores']['My'][0]['private_key'] = {'provider': 'Microsoft Strong Cryptographic Provider', 'provider_type': 1}
d['machines'] += [gw2, h3, {'name': 'lb01', 'role': 'balancer', 'public_fqdn': 'rdgw.contoso.com',
                            'balancer': {'members': ['rdgw01', 'rdgw02'], 'affinity': 'source-ip'}}]"
C=$T_TMP/customer-lab
T_LABS="$T_LABS $C"
"$WAPSIM" lab init "$C" --from "$T_TMP/customer" >/dev/null 2>&1
check_eq "the balancer answers for the public name; its members keep their own names; default octets" \
    "lb01|rdgw.contoso.com|20 rdgw01||13 rdgw02||17" \
    "$(sqlite3 "$C/lab.db" "SELECT name||'|'||coalesce(public_fqdn,'')||'|'||replace(address, rtrim(address, '0123456789'), '') FROM machines WHERE name IN ('lb01','rdgw01','rdgw02') ORDER BY name" | tr '\n' ' ' | sed 's/ $//')"
check_eq "VMM's certificate is in the Strong provider" "Microsoft Strong Cryptographic Provider" \
    "$(sqlite3 "$C/lab.db" "SELECT csp FROM certificates WHERE name='vmm-console'")"
if "$WAPSIM" --lab "$C" up >"$T_TMP/up.out" 2>&1; then
    "$WAPSIM" --lab "$C" diagnose --json >"$T_TMP/d.json" 2>/dev/null
    check_eq "diagnose names exactly the Strong provider, the renewed thumbprint and hv02's clock skew" \
        "clock-skew@hv02,gateway-issuer-not-trusted@rdgw02,vmm-cert-csp@vmm01" \
        "$(json_sql "$T_TMP/d.json" "SELECT group_concat(f, ',') FROM (SELECT json_extract(value,'\$.id') || '@' || json_extract(value,'\$.machine') AS f FROM doc, json_each(json_extract(doc.j,'\$.findings')) WHERE json_extract(value,'\$.severity') = 'error' ORDER BY f)")"
    "$WAPSIM" --lab "$C" down >/dev/null 2>&1
else
    not_ok "the customer-like lab comes up ($(tail -n 2 "$T_TMP/up.out" | tr '\n' ' '))"
fi
