#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make-certs.sh: how the certificates of tests/data/deployment-fabrikam were made, with the
# openssl command line only (OpenSSL 3.0; `openssl ca` because `openssl x509` of 3.0 cannot
# set a validity start). What it writes is committed: certs/*.cer, DER, as the customer's
# Export-Certificate -Type CERT writes them. deployment.json beside it is hand-written and
# names each certificate by the thumbprint this script prints (SHA-1 of the DER, upper
# case, no spaces). The private keys are made in a temporary folder and thrown away:
# nothing private is in the repository (README, "Collecting a customer's configuration").
#
# The customer, Fabrikam (a fictitious hoster; fabrikam.net public, corp.fabrikam.local
# the fabric's AD domain, NetBIOS FABRIKAM):
#   - its own enterprise root CA, "Fabrikam Enterprise Root CA", in every machine's Root
#     store, which issued the TLS certificates of the tenant portal (cloud.fabrikam.net),
#     of SPF (fabspf01), of the two RD Gateways (one certificate for the balancer's public
#     name console.fabrikam.net, on both members) and of the three Hyper-V hosts (each
#     bound as the host's console certificate, AuthCertificateHash);
#   - VMM's Console Connect certificate, self-signed "CN=Remote Console Connect", Client
#     Authentication, Digital Signature (REFERENCE.md section 2).
# The story (the two faults, nothing else): the first console certificate (made in January
# 2024, valid two years) was renewed in December 2025, a few weeks before it expired. The
# new one was made with a tool that put its key in "Microsoft Strong Cryptographic
# Provider" (PROV_RSA_FULL, type 1: no SHA-256; deployment.json's private_key records
# that, since a DER file cannot). It was imported everywhere, set on VMM
# (Set-SCVMMServer), the hosts were refreshed (Read-SCVMHost: their trust lists hold
# the new thumbprint), the old certificate was deleted from every store, but nobody
# changed FedAuthSettings.TrustedIssuerCertificates on fabrdgw01 and fabrdgw02: both
# still register the OLD thumbprint. The old certificate is made here only for its
# thumbprint (the one deployment.json's gateways carry) and is not written: no store
# holds it any more, so in the lab it is "a thumbprint no certificate has".
#
# usage: sh make-certs.sh   (from anywhere; rewrites certs/ beside this script and prints
# each certificate's file and thumbprint; the keys are new each run, so after a run the
# thumbprints in deployment.json must be updated by hand from that table)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# An `openssl ca` configuration of our own: a database in the temporary folder, the
# request's subject kept as given (-preserveDN), extensions only from the -extfile section.
mkdir "$tmp/new"
: >"$tmp/index.txt"
cat >"$tmp/ca.cnf" <<EOF
[ca]
default_ca = fab
[fab]
database = $tmp/index.txt
new_certs_dir = $tmp/new
serial = $tmp/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
email_in_dn = no
[anything]
domainComponent = optional
organizationName = optional
commonName = supplied
EOF

# The extensions of each kind, as the Windows tools write them: the root of an AD CS
# enterprise CA (key usage 0x86), the "Web Server" template (Server Authentication, key
# usage 0xa0, a DNS SAN), and the makecert recipe of REFERENCE.md section 2.
cat >"$tmp/ext.cnf" <<'EOF'
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[tls]
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $ENV::SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[console]
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
EOF

# cert NAME SUBJECT SECTION START END ISSUER [SAN]: a 2048-bit RSA key and a certificate
# signed with SHA-256, valid START to END (YYYYMMDDHHMMSSZ), issued by ISSUER (a NAME
# made before; "self" for a self-signed one); PEM in the temporary folder.
cert() {
    name=$1 subject=$2 section=$3 start=$4 end=$5 issuer=$6
    SAN=${7:-DNS:unused}
    export SAN
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/$name.key" 2>/dev/null
    openssl req -new -key "$tmp/$name.key" -subj "$subject" -out "$tmp/$name.csr"
    # A positive 16-byte serial, as AD CS gives one.
    printf '%s\n' "$(openssl rand -hex 16 | sed 's/^./4/')" >"$tmp/serial"
    if [ "$issuer" = self ]; then
        set -- -selfsign -keyfile "$tmp/$name.key"
    else
        set -- -cert "$tmp/$issuer.pem" -keyfile "$tmp/$issuer.key"
    fi
    openssl ca -batch -config "$tmp/ca.cnf" "$@" -in "$tmp/$name.csr" -out "$tmp/$name.pem" -notext \
        -preserveDN -startdate "$start" -enddate "$end" -extfile "$tmp/ext.cnf" -extensions "$section" \
        2>"$tmp/ca.err" || { cat "$tmp/ca.err" >&2; exit 1; }
}

# write NAME: the certificate's public part as certs/NAME.cer (DER) and its thumbprint.
write() {
    openssl x509 -in "$tmp/$1.pem" -outform DER -out "$here/certs/$1.cer"
    printf '%-32s %s\n' "certs/$1.cer" "$(thumbprint "$tmp/$1.pem")"
}
thumbprint() {
    openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'
}

rm -rf "$here/certs"
mkdir -p "$here/certs"
dc=/DC=local/DC=fabrikam/DC=corp

cert fabrikam-root-ca "$dc/CN=Fabrikam Enterprise Root CA" root 20250106090000Z 20450106090000Z self
cert cloud-fabrikam-net "/O=Fabrikam/CN=cloud.fabrikam.net" tls 20250602080000Z 20350602080000Z \
    fabrikam-root-ca "DNS:cloud.fabrikam.net,DNS:fabwap01.corp.fabrikam.local"
cert fabspf01 "/CN=fabspf01.corp.fabrikam.local" tls 20250602080500Z 20350602080500Z fabrikam-root-ca \
    "DNS:fabspf01.corp.fabrikam.local"
cert console-fabrikam-net "/O=Fabrikam/CN=console.fabrikam.net" tls 20250602081000Z 20350602081000Z \
    fabrikam-root-ca "DNS:console.fabrikam.net"
for h in fabhv01 fabhv02 fabhv03; do
    cert "$h" "/CN=$h.corp.fabrikam.local" tls 20250603070000Z 20350603070000Z fabrikam-root-ca \
        "DNS:$h.corp.fabrikam.local"
done
cert console-connect-2024 "/CN=Remote Console Connect" console 20240110000000Z 20260110000000Z self
cert console-connect-2025 "/CN=Remote Console Connect" console 20251208000000Z 20351208000000Z self

for name in fabrikam-root-ca cloud-fabrikam-net fabspf01 console-fabrikam-net fabhv01 fabhv02 fabhv03 \
    console-connect-2025; do
    write "$name"
done
# The renewed certificate: its thumbprint only (deployment.json's gateways' trusted_issuers).
printf '%-32s %s\n' "(not written) console-connect-2024" "$(thumbprint "$tmp/console-connect-2024.pem")"
