#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Foundation: lab init, up, status, a second lab beside the first, certificates
# against the openssl command line, restarts after kill -9, down, refusals.
. "$(dirname "$0")/lib.sh"

L1=$T_TMP/lab1
L2=$T_TMP/lab2

# ---- lab init: the default world
check "lab init creates a lab" new_lab "$L1"
check_eq "lab directory is mode 0700" 700 "$(stat -c %a "$L1")"
check "hosts file names the public portal" grep -q 'portal.contoso.com' "$L1/hosts"
check "hosts file names the public gateway" grep -q 'rdgw.contoso.com' "$L1/hosts"
check "hosts file keeps the fabric's names out (but the DMZ gateway's)" sh -c "! grep -v '^#' '$L1/hosts' | grep -v rdgw01.fabric | grep -q fabric"
"$WAPSIM" --lab "$L1" lab accounts --json >"$T_TMP/accounts.json"
check_eq "lab accounts lists five accounts" 5 "$(json_sql "$T_TMP/accounts.json" "SELECT count(*) FROM doc, json_each(doc.j)")"
check_eq "alice is a tenant with a password" 1 "$(json_sql "$T_TMP/accounts.json" "SELECT count(*) FROM doc, json_each(doc.j) WHERE json_extract(value,'$.account')='alice' AND json_extract(value,'$.role')='tenant' AND length(json_extract(value,'$.password'))>=12")"
check_eq "the fabric administrator is CONTOSO\\hvadmin" 1 "$(json_sql "$T_TMP/accounts.json" "SELECT count(*) FROM doc, json_each(doc.j) WHERE json_extract(value,'$.account')='CONTOSO\\hvadmin'")"
check_eq "services store password hashes only" 0 "$(sqlite3 "$L1/lab.db" "SELECT count(*) FROM accounts WHERE password_hash NOT LIKE 'pbkdf2-sha256\$%'")"
check_eq "three VMs, two tenants" "app01|bob|hv02 db01|alice|hv02 web01|alice|hv01" \
    "$(sqlite3 "$L1/lab.db" "SELECT v.name||'|'||s.tenant||'|'||v.host FROM vms v JOIN subscriptions s ON s.id=v.subscription ORDER BY v.name" | tr '\n' ' ' | sed 's/ $//')"
check_eq "schema version is recorded" 9 "$(sqlite3 "$L1/lab.db" 'PRAGMA user_version')"
check_eq "state file is in WAL mode" wal "$(sqlite3 "$L1/lab.db" 'PRAGMA journal_mode')"

# ---- certificates against the openssl command line
"$WAPSIM" --lab "$L1" cert list --json >"$T_TMP/certs.json"
tp_list=$(json_sql "$T_TMP/certs.json" "SELECT json_extract(value,'$.thumbprint') FROM doc, json_each(doc.j) WHERE json_extract(value,'$.name')='vmm-console' LIMIT 1")
"$WAPSIM" --lab "$L1" cert export vmm-console --pem --out "$T_TMP/vmm.pem"
tp_openssl=$(openssl x509 -in "$T_TMP/vmm.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
check_eq "vmm-console thumbprint equals openssl's SHA-1 fingerprint" "$tp_openssl" "$tp_list"
"$WAPSIM" --lab "$L1" cert export vmm-console --pfx --password 'p@ss w0rd' --out "$T_TMP/vmm.pfx"
check "the PFX carries the CSP as Microsoft CSP Name" sh -c \
    "openssl pkcs12 -info -in '$T_TMP/vmm.pfx' -passin 'pass:p@ss w0rd' -nodes 2>/dev/null | grep -q 'Microsoft CSP Name: Microsoft Enhanced RSA and AES Cryptographic Provider'"
check "the PFX's key matches its certificate" sh -c \
    "openssl pkcs12 -in '$T_TMP/vmm.pfx' -passin 'pass:p@ss w0rd' -nodes -nocerts 2>/dev/null | openssl pkey -pubout | cmp -s - \$(openssl x509 -in '$T_TMP/vmm.pem' -pubkey -noout >'$T_TMP/pub.pem'; echo '$T_TMP/pub.pem')"
check "vmm-console is EKU clientAuth, key usage digitalSignature" sh -c \
    "openssl x509 -in '$T_TMP/vmm.pem' -noout -ext extendedKeyUsage,keyUsage | grep -q 'TLS Web Client Authentication' && openssl x509 -in '$T_TMP/vmm.pem' -noout -ext keyUsage | grep -q 'Digital Signature'"
"$WAPSIM" --lab "$L1" cert export lab-root-ca --pem --out "$T_TMP/root.pem"
"$WAPSIM" --lab "$L1" cert export rdgw-ssl --der --out "$T_TMP/rdgw.der"
check "rdgw-ssl chains to the lab root (openssl verify)" sh -c \
    "openssl x509 -inform DER -in '$T_TMP/rdgw.der' -out '$T_TMP/rdgw.pem' && openssl verify -CAfile '$T_TMP/root.pem' '$T_TMP/rdgw.pem' >/dev/null"
check "rdgw-ssl has SAN DNS:rdgw.contoso.com" sh -c \
    "openssl x509 -in '$T_TMP/rdgw.pem' -noout -ext subjectAltName | grep -q 'DNS:rdgw.contoso.com'"
check_eq "vmm-console is public only in hv01's My" "false" \
    "$(json_sql "$T_TMP/certs.json" "SELECT CASE json_extract(value,'$.has_private_key') WHEN 1 THEN 'true' ELSE 'false' END FROM doc, json_each(doc.j) WHERE json_extract(value,'$.name')='vmm-console' AND json_extract(value,'$.machine')='hv01' AND json_extract(value,'$.store')='My'")"
check_eq "lab-root-ca is in Root on all seven machines" 7 \
    "$(json_sql "$T_TMP/certs.json" "SELECT count(*) FROM doc, json_each(doc.j) WHERE json_extract(value,'$.name')='lab-root-ca' AND json_extract(value,'$.store')='Root'")"

# ---- up, status, a second lab beside the first
check "up starts the lab" "$WAPSIM" --lab "$L1" up
"$WAPSIM" --lab "$L1" status --json >"$T_TMP/status.json"
check_eq "status lists six machines" 6 "$(json_sql "$T_TMP/status.json" "SELECT count(*) FROM doc, json_each(doc.j, '$.machines')")"
check_eq "every machine is healthy" 6 "$(json_sql "$T_TMP/status.json" "SELECT count(*) FROM doc, json_each(doc.j, '$.machines') WHERE json_extract(value,'$.healthy')=1 AND json_extract(value,'$.pid')>1")"
check_eq "hv01 runs wapsim-host on 2179" "wapsim-host|2179" \
    "$(json_sql "$T_TMP/status.json" "SELECT json_extract(value,'$.program')||'|'||json_extract(value,'$.port') FROM doc, json_each(doc.j, '$.machines') WHERE json_extract(value,'$.name')='hv01'")"
check "the portal serves HTTPS with portal-ssl, trusted by the lab root" sh -c \
    "addr=\$(sqlite3 '$L1/lab.db' \"SELECT address FROM machines WHERE name='portal'\"); curl -sf --cacert '$T_TMP/root.pem' --resolve portal.contoso.com:30081:\$addr https://portal.contoso.com:30081/health | grep -q OK"

subnet1=$(sqlite3 "$L1/lab.db" "SELECT value FROM lab_meta WHERE key='subnet'")
check_exit "lab init refuses the subnet of a running lab" 2 "$WAPSIM" lab init "$T_TMP/clash" --subnet "$subnet1"
check "lab init is quick the second time (keys from the template)" new_lab "$L2"
check "the second lab copied its keys from the template" grep -q 'copied from the template' "$T_TMP/init.out"
check "a second lab runs beside the first" "$WAPSIM" --lab "$L2" up
"$WAPSIM" --lab "$L2" status --json >"$T_TMP/status2.json"
check_eq "every machine of the second lab is healthy" 6 "$(json_sql "$T_TMP/status2.json" "SELECT count(*) FROM doc, json_each(doc.j, '$.machines') WHERE json_extract(value,'$.healthy')=1")"
check "the two labs use different subnets" test "$subnet1" != "$(sqlite3 "$L2/lab.db" "SELECT value FROM lab_meta WHERE key='subnet'")"

# ---- kill -9 of each component: back and healthy within 2 seconds, restart logged
for m in portal spf01 vmm01 rdgw01 hv01 hv02; do
    old=$(cat "$L1/run/$m.pid")
    kill -9 "$old"
    back=no
    i=0
    while [ $i -lt 40 ]; do  # 40 x 50 ms = 2 s
        sleep 0.05
        i=$((i + 1))
        "$WAPSIM" --lab "$L1" status --json >"$T_TMP/s.json" 2>/dev/null
        if [ "$(json_sql "$T_TMP/s.json" "SELECT json_extract(value,'$.healthy')||'|'||(json_extract(value,'$.pid')!=$old) FROM doc, json_each(doc.j,'$.machines') WHERE json_extract(value,'$.name')='$m'")" = "1|1" ]; then
            back=yes; break
        fi
    done
    check_eq "$m is back and healthy within 2 s of kill -9" yes "$back"
    check "the restart of $m is in the System log (event 7031)" sh -c \
        "'$WAPSIM' --lab '$L1' logs --machine $m --channel System --json | grep -q '\"event_id\":[[:space:]]*7031'"
done
"$WAPSIM" --lab "$L1" status --json >"$T_TMP/status.json"
check_eq "status counts one restart for hv02" 1 "$(json_sql "$T_TMP/status.json" "SELECT json_extract(value,'$.restarts') FROM doc, json_each(doc.j,'$.machines') WHERE json_extract(value,'$.name')='hv02'")"

# ---- down leaves nothing behind
check "down stops the first lab" "$WAPSIM" --lab "$L1" down
check "down stops the second lab" "$WAPSIM" --lab "$L2" down
check_eq "no process of the first lab is left" "" "$(lab_pids "$L1")"
check_eq "no process of the second lab is left" "" "$(lab_pids "$L2")"

# ---- a start-up failure names the machine and its last log line; nothing is left running
sqlite3 "$L1/lab.db" ".timeout 5000" "DELETE FROM store_entries WHERE machine='portal' AND certificate='portal-ssl'"
check_exit "up fails when the portal's certificate is not in its My store" 1 "$WAPSIM" --lab "$L1" up --timeout 3
check "the failure names the portal and its last log line" grep -q "portal (wapsim-portal) did not become healthy.*portal-ssl" "$T_TMP/err"
check_eq "a failed up leaves no process behind" "" "$(lab_pids "$L1")"

# ---- refusals: one line naming the bad value, exit 2, nothing changed
sum_before=$(sqlite3 "$L2/lab.db" "SELECT count(*), total(length(der)) FROM certificates; SELECT count(*) FROM store_entries;")
check_exit "a missing lab directory is refused" 2 "$WAPSIM" --lab "$T_TMP/nowhere" status
check "... with one line naming it" sh -c "[ \$(wc -l <'$T_TMP/err') -eq 1 ] && grep -q nowhere '$T_TMP/err'"
mkdir -p "$T_TMP/damaged" && head -c 4096 /dev/urandom >"$T_TMP/damaged/lab.db"
check_exit "a damaged lab.db is refused" 2 "$WAPSIM" --lab "$T_TMP/damaged" cert list
check "... naming it damaged" grep -q 'damaged' "$T_TMP/err"
mkdir -p "$T_TMP/foreign" && sqlite3 "$T_TMP/foreign/lab.db" "CREATE TABLE customers(id)"
check_exit "a foreign SQLite file is refused" 2 "$WAPSIM" --lab "$T_TMP/foreign" status
check_exit "an unknown machine is refused" 2 "$WAPSIM" --lab "$L2" cert list --machine hv09
check "... naming it" grep -q "hv09" "$T_TMP/err"
check_exit "an unknown certificate is refused" 2 "$WAPSIM" --lab "$L2" cert export no-such-cert --pem --out "$T_TMP/x.pem"
check "... naming it" grep -q "no-such-cert" "$T_TMP/err"
check_exit "an unknown store is refused" 2 "$WAPSIM" --lab "$L2" cert list --store CA
check_exit "an unknown command is refused" 2 "$WAPSIM" --lab "$L2" frobnicate
check_exit "lab init refuses an existing lab" 2 "$WAPSIM" lab init "$L2"
check_exit "lab init refuses a subnet outside 127/8" 2 "$WAPSIM" lab init "$T_TMP/bad" --subnet 10.1.2.0/24
check_eq "refusals changed nothing" "$sum_before" "$(sqlite3 "$L2/lab.db" "SELECT count(*), total(length(der)) FROM certificates; SELECT count(*) FROM store_entries;")"
for c in "lab init" "lab accounts" up down status logs "cert list" "cert show" "cert export"; do
    check "wapsim $c --help" sh -c "'$WAPSIM' $c --help | grep -q '^usage: wapsim $c'"
done

# ---- make install: the installed wapsim finds its programs
top=$(cd "$(dirname "$0")/../.." && pwd)
check "make install PREFIX=... installs" sh -c "make -s -C '$top' install PREFIX='$T_TMP/prefix' BUILD='$BUILD' >/dev/null"
check "the installed wapsim runs a lab" sh -c "'$T_TMP/prefix/bin/wapsim' --lab '$L2' up >/dev/null 2>&1 && '$T_TMP/prefix/bin/wapsim' --lab '$L2' status | grep -q 'wapsim-gateway' && '$T_TMP/prefix/bin/wapsim' --lab '$L2' down >/dev/null 2>&1"
check_eq "... and stops it" "" "$(lab_pids "$L2")"
