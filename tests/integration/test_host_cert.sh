#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Hyper-V host's certificate on 2179 (REFERENCE.md section 2; marcvaneijk 2014): the default
# lab's hosts present their own self-signed certificate (CN = FQDN), which the tenant's PC cannot
# verify, so Remote Desktop Connection warns and the tenant connects anyway (the host-tls hop says
# "ok ... warning: ..."); --strict refuses the warning (0x607). `host set --rdp-cert` binds another
# certificate (AuthCertificateHash), taken when the host's service restarts. In IPv4
# identification mode the .rdp file names the host by address: 0x607 whatever is trusted, unless
# the file says authentication level:i:0 (warned and on), or the host presents a certificate with
# the address as an IP SAN. diagnose: host-cert-untrusted (warning), host-cert-name-mismatch
# (error), and fix lines that run as printed.
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
new_lab "$L" && "$WAPSIM" --lab "$L" up >/dev/null 2>&1 || not_ok "lab init and up"
W() { "$WAPSIM" --lab "$L" "$@"; }

# conn NAME [OPTIONS]: connect --json into $T_TMP/NAME.json; $rc its exit status.
conn() {
    name=$1; shift
    W connect --json "$@" >"$T_TMP/$name.json" 2>"$T_TMP/$name.err"
    rc=$?
}
# val NAME EXPR: a value of that connect's JSON.
val() { json_sql "$T_TMP/$1.json" "SELECT $2 FROM doc"; }
# hop NAME STAGE: "ok|detail" of that hop.
hop() {
    json_sql "$T_TMP/$1.json" "SELECT json_extract(value,'$.ok') || '|' || json_extract(value,'$.detail')
              FROM doc, json_each(json_extract(j,'$.hops')) WHERE json_extract(value,'$.stage') = '$2'"
}
# diag: diagnose --json into $T_TMP/d.json; $got the findings "id@machine:severity ..." sorted.
diag() {
    W diagnose --json >"$T_TMP/d.json" 2>"$T_TMP/d.err"
    got=$(json_sql "$T_TMP/d.json" "SELECT coalesce(group_concat(x, ' '), '') FROM (SELECT
          json_extract(value,'$.id') || '@' || json_extract(value,'$.machine') || ':' ||
          json_extract(value,'$.severity') AS x FROM doc, json_each(json_extract(j,'$.findings')) ORDER BY x)")
}
# fixes ID MACHINE: that finding's wapsim fix lines, one per line.
fixes() {
    json_sql "$T_TMP/d.json" "SELECT f.value FROM doc, json_each(json_extract(j,'$.findings')) AS x,
              json_each(json_extract(x.value,'$.fix')) AS f WHERE json_extract(x.value,'$.id') = '$1'
              AND json_extract(x.value,'$.machine') = '$2' AND f.value LIKE 'wapsim %'"
}
tp() { W cert show "$1" --json >"$T_TMP/tp.json" 2>/dev/null &&
       json_sql "$T_TMP/tp.json" "SELECT json_extract(j,'$.thumbprint') FROM doc"; }

# ---- 1. the default lab: self-signed host certificates, a warning the tenant clicks through
W cert show hv01-selfsigned --json >"$T_TMP/ss.json" 2>/dev/null
check_eq "hv01 presents its own self-signed certificate: CN = its FQDN, Server Authentication, issuer = subject" \
    "CN=hv01.fabric.contoso.local|CN=hv01.fabric.contoso.local|serverAuth" \
    "$(json_sql "$T_TMP/ss.json" "SELECT json_extract(j,'$.subject') || '|' || json_extract(j,'$.issuer') || '|' ||
       json_extract(j,'$.ekus') FROM doc")"
conn default --tenant alice --vm web01
check_eq "default lab: alice reaches web01's console (exit 0)" "0:console" "$rc:$(val default "json_extract(j,'$.stage')")"
hop default host-tls >"$T_TMP/hop.default"
check "... the host-tls hop is ok with the identity warning: the certificate is not from a trusted authority" \
    grep -q '^1|.*warning: The identity of the remote computer cannot be verified.*not from a trusted certifying authority' \
    "$T_TMP/hop.default"
check_eq "... --json lists the warning" 1 "$(val default "json_array_length(j,'$.warnings')")"
W connect --tenant alice --vm web01 >"$T_TMP/text.out" 2>&1
check "... in text: 'host-tls       ok   ... warning: ...'" grep -q '^host-tls  *ok  *.*; warning: ' "$T_TMP/text.out"
conn strict --tenant alice --vm web01 --strict
check_eq "--strict refuses the warning: exit 1 at host-tls with 0x607 (1543)" "1:host-tls:1543" \
    "$rc:$(val strict "json_extract(j,'$.stage') || ':' || json_extract(j,'$.code')")"
diag
check_eq "diagnose: host-cert-untrusted on hv01 and hv02, severity warning, nothing else" \
    "host-cert-untrusted@hv01:warning host-cert-untrusted@hv02:warning" "$got"
fixes host-cert-untrusted hv01 >"$T_TMP/fix.untrusted"
check_eq "... its fix binds the lab-issued hv01-rdp and restarts hv01" \
    "wapsim host set hv01 --rdp-cert hv01-rdp|wapsim service restart hv01" "$(paste -sd'|' "$T_TMP/fix.untrusted")"

# ---- 2. host set --rdp-cert
check_exit "host set --rdp-cert with an unknown certificate: exit 2" 2 W host set hv01 --rdp-cert nosuch
check "... naming it" grep -q "'nosuch'" "$T_TMP/err"
check_exit "host set --rdp-cert with a certificate not in hv01's My store: exit 2" 2 W host set hv01 --rdp-cert hv02-rdp
check "... saying where it must be" grep -q "hv01's LocalMachine" "$T_TMP/err"
check_exit "host set hv01 --rdp-cert hv01-rdp: exit 0" 0 W host set hv01 --rdp-cert hv01-rdp
check "... prints the thumbprint it set" grep -q "AuthCertificateHash set to $(tp hv01-rdp) (hv01-rdp)" "$T_TMP/out"
check_exit "... a thumbprint is taken too" 0 W host set hv01 --rdp-cert "$(tp hv01-rdp)"
W logs --machine hv01 >"$T_TMP/logs" 2>&1
check "... logged on hv01 (14170, AuthCertificateHash)" grep -q 'AuthCertificateHash' "$T_TMP/logs"
conn before_restart --tenant alice --vm web01
check "... not served before the host's service restarts (still warned)" grep -q 'warning: ' "$T_TMP/before_restart.json"
W service restart hv01 >/dev/null 2>&1
conn after_restart --tenant alice --vm web01 --strict
check_eq "after the restart: web01 connects with --strict, no warning" "0:console:0" \
    "$rc:$(val after_restart "json_extract(j,'$.stage') || ':' || json_array_length(j,'$.warnings')")"
diag
check_eq "diagnose: only hv02's warning is left" "host-cert-untrusted@hv02:warning" "$got"

# ---- 3. IPv4 identification mode: the file names the host by address
W vmm set --host-id-mode IPv4 >/dev/null 2>&1
conn ipv4 --tenant alice --vm web01 --save-rdp "$T_TMP/web01.rdp"
check_eq "IPv4 mode, hv01's lab-issued (trusted) certificate: 0x607 at host-tls" "1:host-tls:1543" \
    "$rc:$(val ipv4 "json_extract(j,'$.stage') || ':' || json_extract(j,'$.code')")"
conn ipv4b --tenant alice --vm db01
check_eq "IPv4 mode, hv02's self-signed certificate: 0x607 too" "1:host-tls:1543" \
    "$rc:$(val ipv4b "json_extract(j,'$.stage') || ':' || json_extract(j,'$.code')")"
# The field's repair on the client side: authentication level:i:0 in the file. "Authentication
# Level" is a secure setting, so the file is signed again with the VMM certificate's key, as
# rdpsign.exe does (REFERENCE.md section 4).
W cert export vmm-console --pfx --password P --out "$T_TMP/vmm.pfx" >/dev/null 2>&1
openssl pkcs12 -in "$T_TMP/vmm.pfx" -passin pass:P -nodes -out "$T_TMP/vmm-all.pem" 2>/dev/null ||
    openssl pkcs12 -legacy -in "$T_TMP/vmm.pfx" -passin pass:P -nodes -out "$T_TMP/vmm-all.pem" 2>/dev/null
# with_level FILE LEVEL OUT: FILE with authentication level:i:LEVEL, signed again.
with_level() {
    iconv -f UTF-16 -t UTF-8 "$1" | tr -d '\r' | grep -v -e '^signature:' -e '^signscope:' >"$T_TMP/plain.txt"
    printf 'authentication level:i:%s\n' "$2" >>"$T_TMP/plain.txt"
    rdp_sign "$T_TMP/plain.txt" "$(iconv -f UTF-16 -t UTF-8 "$1" | tr -d '\r' | sed -n 's/^signscope:s://p'),Authentication Level" \
        "$T_TMP/vmm-all.pem" "$3"
}
with_level "$T_TMP/web01.rdp" 0 "$T_TMP/web01-level0.rdp"
conn level0 --rdp "$T_TMP/web01-level0.rdp"
check_eq "... the same file with authentication level:i:0: the console, exit 0" "0:console" \
    "$rc:$(val level0 "json_extract(j,'$.stage')")"
hop level0 host-tls >"$T_TMP/hop.level0"
check "... with the mismatch shown as a warning on host-tls" grep -q "^1|.*warning: .*does not match '" "$T_TMP/hop.level0"
with_level "$T_TMP/web01.rdp" 2 "$T_TMP/web01-level2.rdp"
conn level2 --rdp "$T_TMP/web01-level2.rdp"
check_eq "... with authentication level:i:2 (warn): still 0x607" "1:host-tls:1543" \
    "$rc:$(val level2 "json_extract(j,'$.stage') || ':' || json_extract(j,'$.code')")"
diag
check_eq "diagnose: host-cert-name-mismatch on hv01 and hv02 (errors)" \
    "host-cert-name-mismatch@hv01:error host-cert-name-mismatch@hv02:error" "$got"
fixes host-cert-name-mismatch hv01 >"$T_TMP/fix.mismatch"
check "... its fix makes a certificate carrying hv01's address" grep -q "^wapsim cert new .*--san DNS:hv01.fabric.contoso.local,IP:$(
    sqlite3 "$L/lab.db" ".timeout 5000" "SELECT address FROM machines WHERE name='hv01'") " "$T_TMP/fix.mismatch"
# Run hv01's fix lines exactly as printed.
fixed=1
while IFS= read -r line; do
    eval "\"\$WAPSIM\" --lab \"\$L\" ${line#wapsim }" >/dev/null 2>&1 </dev/null || fixed=0
done <"$T_TMP/fix.mismatch"
[ -s "$T_TMP/fix.mismatch" ] || fixed=0
check_eq "... each fix line runs as printed" 1 "$fixed"
conn ipsan --tenant alice --vm web01 --strict
check_eq "IPv4 mode with a certificate carrying the IP SAN: web01 connects, --strict, no warning" "0:console:0" \
    "$rc:$(val ipsan "json_extract(j,'$.stage') || ':' || json_array_length(j,'$.warnings')")"
diag
check_eq "diagnose: only hv02's mismatch is left" "host-cert-name-mismatch@hv02:error" "$got"
