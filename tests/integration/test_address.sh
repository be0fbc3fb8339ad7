#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# An address instead of a name (issue 13, item 2): when the cloud's RD Gateway FQDN, or an .rdp
# file's gatewayhostname, is an IP address, the tenant's PC does not look it up: it connects to that
# address, and the certificate check compares the address with the certificate's IP SANs only (a
# DNS SAN or CN that spells the address does not count). So the connect reaches TLS and stops with
# the name mismatch 50331654 while the gateway certificate has no IP SAN; diagnose says so, with a
# repair that runs as printed; with the address as an IP SAN the console opens. The gateway's
# channel to a host named by address (IPv4 identification mode) works the same way. IPv6 literals
# are parsed ([addr]:port, or bare) and reported as unreachable, not as unresolvable.
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >/dev/null 2>&1 || { not_ok "up"; exit 1; }
# The tenant's PC trusts the hosts' own certificates (as after accepting the identity warning
# once): this test is about the gateway; test_host_cert.sh covers the hosts'.
for h in hv01 hv02; do W cert import $h-selfsigned --machine client --store Root --public-only >/dev/null 2>&1; done
db() { sqlite3 -batch -noheader "$L/lab.db" ".timeout 5000" "$@"; }
GW=$(db "SELECT address FROM machines WHERE name='rdgw01'")
GWPORT=$(db "SELECT port FROM machines WHERE name='rdgw01'")
HV01=$(db "SELECT address FROM machines WHERE name='hv01'")
# connect_json NAME ARGS...: wapsim connect --json into $T_TMP/NAME.json
connect_json() { name=$1; shift; W connect --json "$@" >"$T_TMP/$name.json" 2>"$T_TMP/$name.err"; }
field() { json_sql "$T_TMP/$1.json" "SELECT json_extract(j,'$.$2') FROM doc"; }
hop() { json_sql "$T_TMP/$1.json" "SELECT json_extract(value,'$.detail') FROM doc, json_each(doc.j,'$.hops')
                                    WHERE json_extract(value,'$.stage') = '$2'"; }
# diag: diagnose --json into $T_TMP/d.json; $ids the finding ids, sorted, space-separated.
diag() {
    W diagnose --json >"$T_TMP/d.json" 2>"$T_TMP/d.err"
    ids=$(json_sql "$T_TMP/d.json" "SELECT coalesce(group_concat(x, ' '), '') FROM (SELECT json_extract(value,'$.id')
          AS x FROM doc, json_each(json_extract(j,'$.findings')) ORDER BY x)")
}
dfield() { json_sql "$T_TMP/d.json" "SELECT json_extract(value,'$.$2') FROM doc, json_each(json_extract(j,'$.findings'))
                                     WHERE json_extract(value,'$.id') = '$1' LIMIT 1"; }
fixes() { json_sql "$T_TMP/d.json" "SELECT f.value FROM doc, json_each(json_extract(j,'$.findings')) AS x,
                                    json_each(json_extract(x.value,'$.fix')) AS f WHERE json_extract(x.value,'$.id') = '$1'"; }
# run_as_printed LINE: a fix line run exactly as diagnose printed it, wapsim on the PATH, the lab in $WAPSIM_LAB.
run_as_printed() { PATH="$(dirname "$WAPSIM"):$PATH" WAPSIM_LAB="$L" sh -c "$1" >"$T_TMP/fix.out" 2>&1; }
rdp_text() { iconv -f UTF-16LE -t UTF-8 "$1" | tr -d '\r' | sed '1s/^\xef\xbb\xbf//'; }

# ---- 1. the cloud names the gateway by its address; the certificate has no IP SAN
check "cloud set accepts an IPv4 address as the RD Gateway FQDN" W cloud set --rd-gateway-fqdn "$GW" >/dev/null
connect_json ip1 --tenant alice --vm web01 --save-rdp "$T_TMP/ip1.rdp"
check_eq "gatewayhostname is the address with the gateway's port" "$GW:$GWPORT" \
    "$(rdp_text "$T_TMP/ip1.rdp" | sed -n 's/^gatewayhostname:s://p')"
check_eq "the connect reaches TLS with the address and stops with the name mismatch 50331654" "0|gateway-tls|50331654" \
    "$(field ip1 ok)|$(field ip1 stage)|$(field ip1 code)"
gd=$(hop ip1 gateway-tls)
case $gd in *resolve*) not_ok "... it does not try to resolve the address (got: $gd)" ;;
    *"$GW is an address, which matches only an IP SAN"*) ok "... it does not try to resolve the address: the detail says it matches only an IP SAN" ;;
    *) not_ok "... the detail says the address matches only an IP SAN (got: $gd)" ;; esac

# diagnose names it, with a repair that runs as printed
diag
check "diagnose reports gateway-fqdn-mismatch for the address" sh -c "echo '$ids' | grep -qw gateway-fqdn-mismatch"
check "... and no DNS finding: an address is not looked up" sh -c "! echo '$ids' | grep -qw gateway-fqdn-dns"
ev=$(dfield gateway-fqdn-mismatch evidence)
case $ev in *"IP SAN"*) ok "... its evidence says an address matches only an IP SAN" ;;
    *) not_ok "... its evidence says an address matches only an IP SAN (got: $ev)" ;; esac
fix=$(fixes gateway-fqdn-mismatch | grep '^wapsim ' | head -n 1)
check_eq "... its first wapsim repair names the certificate's DNS name" "wapsim cloud set --rd-gateway-fqdn rdgw.contoso.com" "$fix"
check "... which runs as printed" run_as_printed "$fix"
connect_json named --tenant alice --vm web01
check_eq "after that repair the console opens" "1|console" "$(field named ok)|$(field named stage)"

# ---- 2. a gateway certificate that carries the address as an IP SAN; the gateway binds it on restart
W cert new rdgw-ip --subject CN=rdgw.contoso.com --san "DNS:rdgw.contoso.com,IP:$GW" --eku serverAuth \
    --key-usage digitalSignature,keyEncipherment --issuer lab-root-ca --days 365 >/dev/null &&
    W cert import rdgw-ip --machine rdgw01 --store My >/dev/null &&
    W gateway set --ssl-cert rdgw-ip >/dev/null && W service restart rdgw01 >/dev/null
check "a gateway certificate with IP:$GW is issued, bound and served" test $? -eq 0
W cloud set --rd-gateway-fqdn "$GW" >/dev/null
connect_json ip2 --tenant alice --vm web01
check_eq "by address, with the address as IP SAN: the console opens" "1|console" "$(field ip2 ok)|$(field ip2 stage)"
check "... the gateway-tls hop names the address" sh -c "grep -q 'TLS with $GW:$GWPORT' '$T_TMP/ip2.json'"
diag
check_eq "diagnose finds nothing wrong" "" "$ids"

# a DNS SAN or CN that spells the address is not an IP SAN
W cert new rdgw-ipdns --subject "CN=$GW" --san "DNS:$GW" --eku serverAuth --key-usage digitalSignature,keyEncipherment \
    --issuer lab-root-ca --days 365 >/dev/null && W cert import rdgw-ipdns --machine rdgw01 --store My >/dev/null &&
    W gateway set --ssl-cert rdgw-ipdns >/dev/null && W service restart rdgw01 >/dev/null
connect_json ipdns --tenant alice --vm web01
check_eq "the address written as a DNS SAN and CN does not match: 50331654" "gateway-tls|50331654" \
    "$(field ipdns stage)|$(field ipdns code)"
diag
check "... and diagnose agrees (gateway-fqdn-mismatch)" sh -c "echo '$ids' | grep -qw gateway-fqdn-mismatch"
W gateway set --ssl-cert rdgw-ip >/dev/null && W service restart rdgw01 >/dev/null

# ---- 3. an .rdp file edited by hand: gatewayhostname = the address, re-signed as rdpsign does
W cloud set --rd-gateway-fqdn rdgw.contoso.com >/dev/null
W rdp-file --tenant alice --vm web01 --out "$T_TMP/web01.rdp" >/dev/null
W cert export vmm-console --pfx --password P --out "$T_TMP/vmm.pfx" >/dev/null
openssl pkcs12 -in "$T_TMP/vmm.pfx" -passin pass:P -nodes -out "$T_TMP/vmm.all.pem" 2>/dev/null
# resign IN OUT: rdpsign.exe's signature over the file's own signscope (REFERENCE.md section 4).
resign() {
    grep -v -e '^signature:' -e '^signscope:' "$1" >"$T_TMP/body.txt"
    rdp_sign "$T_TMP/body.txt" "$(sed -n 's/^signscope:s://p' "$1")" "$T_TMP/vmm.all.pem" "$2"
}
# edited VALUE OUT: web01.rdp with gatewayhostname:s:VALUE, re-signed.
edited() {
    rdp_text "$T_TMP/web01.rdp" | sed "s/^gatewayhostname:s:.*/gatewayhostname:s:$1/" >"$T_TMP/edit.txt"
    resign "$T_TMP/edit.txt" "$2"
}
edited "$GW:$GWPORT" "$T_TMP/byaddr.rdp"
check "the edited file's signature is valid (re-signed as rdpsign does)" sh -c "'$WAPSIM' --lab '$L' rdp-verify '$T_TMP/byaddr.rdp' >/dev/null"
connect_json byaddr --rdp "$T_TMP/byaddr.rdp"
check_eq "connect --rdp with gatewayhostname:s:$GW:$GWPORT reaches the console (IP SAN present)" "1|console" \
    "$(field byaddr ok)|$(field byaddr stage)"
W gateway set --ssl-cert rdgw-ssl >/dev/null && W service restart rdgw01 >/dev/null
connect_json byaddr2 --rdp "$T_TMP/byaddr.rdp"
check_eq "... and with the lab's certificate (no IP SAN) stops at gateway-tls with 50331654" "gateway-tls|50331654" \
    "$(field byaddr2 stage)|$(field byaddr2 code)"

# IPv6 literals: parsed, connected to without a lookup (the lab has no IPv6 machine: unreachable)
edited "[::1]:$GWPORT" "$T_TMP/v6.rdp"
connect_json v6 --rdp "$T_TMP/v6.rdp"
check_eq "gatewayhostname:s:[::1]:$GWPORT: the PC connects to ::1 port $GWPORT (gateway-tls, 50331660: nothing listens there)" "0|gateway-tls|50331660" \
    "$(field v6 ok)|$(field v6 stage)|$(field v6 code)"
gd=$(hop v6 gateway-tls)
case $gd in *resolve*) not_ok "... without a lookup (got: $gd)" ;; *"[::1]:$GWPORT"*) ok "... without a lookup" ;;
    *) not_ok "... without a lookup (got: $gd)" ;; esac
edited "::1" "$T_TMP/v6bare.rdp"
connect_json v6bare --rdp "$T_TMP/v6bare.rdp"
gd=$(hop v6bare gateway-tls)
case $gd in *resolve*) not_ok "a bare gatewayhostname:s:::1 is the address ::1 on port 443 (got: $gd)" ;;
    *"[::1]:443"*) ok "a bare gatewayhostname:s:::1 is the address ::1 on port 443" ;;
    *) not_ok "a bare gatewayhostname:s:::1 is the address ::1 on port 443 (got: $gd)" ;; esac
edited "[::1" "$T_TMP/v6bad.rdp"
connect_json v6bad --rdp "$T_TMP/v6bad.rdp"
gd=$(hop v6bad gateway-tls)
case $gd in *"'[::1'"*"without ']'"*) ok "an unclosed bracket is refused with a reason naming the value" ;;
    *) not_ok "an unclosed bracket is refused with a reason naming the value (got: $gd)" ;; esac
check "cloud set accepts an IPv6 address" W cloud set --rd-gateway-fqdn ::1 >/dev/null
W rdp-file --tenant alice --vm web01 --out "$T_TMP/v6cloud.rdp" >/dev/null
check_eq "... and the .rdp file writes it in brackets before the port" "[::1]:$GWPORT" \
    "$(rdp_text "$T_TMP/v6cloud.rdp" | sed -n 's/^gatewayhostname:s://p')"
check_exit "cloud set refuses a port in the FQDN" 2 W cloud set --rd-gateway-fqdn "$GW:443"
W cloud set --rd-gateway-fqdn rdgw.contoso.com >/dev/null

# ---- 4. IPv4 identification mode: the gateway's channel goes to the host's address, no lookup
W vmm set --host-id-mode IPv4 >/dev/null
connect_json ipv4 --tenant alice --vm web01
check "IPv4 mode: the gateway opens the channel to hv01's address $HV01" sh -c "grep -q 'channel [0-9]* to $HV01:2179' '$T_TMP/ipv4.json'"
check_eq "... and the client stops at host-tls, not before (the host's certificate names its FQDN)" "host-tls" \
    "$(field ipv4 stage)"
W vmm set --host-id-mode FQDN >/dev/null
