# SPDX-License-Identifier: Apache-2.0
# known_hosts.sh: trust a Hyper-V host's certificate in a FreeRDP HOME as a tenant who accepted
# the identity warning once would, never by turning checks off (/cert:ignore, /cert:tofu).
# Sourced by the interop tests.
#
# known_host HOME NAME PORT PEM: remember PEM's certificate for NAME:PORT (the .rdp file's full
# address and server port, as FreeRDP names the RDP connection's peer) in
# - FreeRDP 2.11's $HOME/.config/freerdp/known_hosts2: "hostname port fingerprint subject issuer",
#   hostname in lower case, fingerprint the SHA-256 of the DER as lower-case hex pairs joined by
#   ':', subject and issuer base64 of their one-line form (libfreerdp/crypto/certificate.c,
#   certificate_data_new and certificate_split_line; crypto.c crypto_cert_fingerprint); FreeRDP 3
#   reads the same lines when it uses its known hosts file;
# - FreeRDP 3's $HOME/.config/freerdp/server/ store: the PEM under the SHA-256 of the hostname and
#   the little-endian port (libfreerdp/crypto/certificate_store.c certificate_get_cert_file_name
#   in 3.0), and under "<hostname>_<port>.pem" as later 3.x releases name it [unverified here].
known_host() {
    kh_home=$1 kh_name=$(printf '%s' "$2" | tr 'A-Z' 'a-z') kh_port=$3 kh_pem=$4
    kh_dir=$kh_home/.config/freerdp
    mkdir -p "$kh_dir/server"
    kh_fp=$(openssl x509 -in "$kh_pem" -noout -fingerprint -sha256 | sed 's/^[^=]*=//' | tr 'A-F' 'a-f')
    kh_subject=$(openssl x509 -in "$kh_pem" -noout -subject -nameopt oneline | sed 's/^subject=//' | tr -d '\n' | base64 -w 0)
    kh_issuer=$(openssl x509 -in "$kh_pem" -noout -issuer -nameopt oneline | sed 's/^issuer=//' | tr -d '\n' | base64 -w 0)
    printf '%s %s %s %s %s\n' "$kh_name" "$kh_port" "$kh_fp" "$kh_subject" "$kh_issuer" >>"$kh_dir/known_hosts2"
    kh_hash=$({ printf '%s' "$kh_name"; printf "\\$(printf %03o $((kh_port & 255)))\\$(printf %03o $((kh_port >> 8)))"; } |
        openssl dgst -sha256 -r | cut -d' ' -f1)
    openssl x509 -in "$kh_pem" -out "$kh_dir/server/$kh_hash.pem"
    openssl x509 -in "$kh_pem" -out "$kh_dir/server/${kh_name}_$kh_port.pem"
}

# known_lab_host HOME LAB HOST: known_host for the certificate HOST is bound to present
# (its AuthCertificateHash setting), under the name and port the lab's .rdp files give it
# (VMConnectHostIdentificationMode FQDN: its FQDN; the console port 2179).
known_lab_host() {
    klh_db() { sqlite3 -batch -noheader "$2/lab.db" ".timeout 5000" "$1"; }
    klh_cert=$(klh_db "SELECT value FROM settings WHERE scope='$3' AND key='auth_cert'" "$2")
    klh_fqdn=$(klh_db "SELECT fqdn FROM machines WHERE name='$3'" "$2")
    "$WAPSIM" --lab "$2" cert export "$klh_cert" --pem --out "$1/.host-$3.pem" >/dev/null 2>&1 &&
        known_host "$1" "$klh_fqdn" 2179 "$1/.host-$3.pem"
}
