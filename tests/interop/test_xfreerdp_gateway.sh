#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Real client interop: an unmodified xfreerdp 2.11 (Debian freerdp2-x11) under Xvfb opens
# the .rdp file the portal handed out and goes through the lab's RD Gateway to hv01.
# FreeRDP 2.11 has no RDSTLS, so the chain must: accept its PAA cookie at the gateway
# (events 200, 302), relay its pre-connection PDU to the host (14160 with web01's id),
# and refuse the tenant at the host ("RDP client 8.1 or later required", 14162).
#
# The client's view of names is the lab's hosts file, bound over /etc/hosts in a private
# mount namespace (unshare --mount); the lab root CA is in a temporary HOME's
# .config/freerdp/certs/<openssl hash>.0, never /cert:ignore; hv01's own self-signed certificate
# is a known host of that HOME (known_hosts.sh). stdin is /dev/null, so any
# certificate prompt FreeRDP would show reads EOF and aborts instead of waiting.
# Needs root (mount namespace), Xvfb, xfreerdp and unshare: otherwise a TAP "# SKIP <reason>".
. "$(dirname "$0")/../integration/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "not root (a private mount namespace is needed to bind the lab's hosts file over /etc/hosts)"
for p in Xvfb xfreerdp unshare mount openssl sqlite3 iconv timeout; do
    command -v "$p" >/dev/null 2>&1 || skip_all "$p is missing"
done
: >"$T_TMP/probe"
unshare --mount sh -c "mount --bind '$T_TMP/probe' /etc/hosts" 2>/dev/null ||
    skip_all "cannot bind a file over /etc/hosts in a private mount namespace (unshare --mount)"

XVFB_PID=""
interop_cleanup() {
    [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null
    cleanup
}
trap interop_cleanup EXIT

# ---- the lab, the tenant's .rdp file, the client's hosts file and HOMEs
L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >/dev/null 2>&1 || { not_ok "up"; exit 1; }
db() { sqlite3 -batch -noheader "$L/lab.db" ".timeout 5000" "$@"; }
web01=$(db "SELECT upper(id) FROM vms WHERE name='web01'")
RDP=$T_TMP/web01.rdp
check "alice gets web01's .rdp file from the portal" sh -c "'$WAPSIM' --lab '$L' rdp-file --tenant alice --vm web01 --out '$RDP' >/dev/null"
# FreeRDP 2.11 reads the portal's UTF-16LE file (BOM FF FE) as it is: no conversion.
W cert export lab-root-ca --pem --out "$T_TMP/root.pem" >/dev/null

gw_addr=$(sed -n 's/^\([0-9.]*\)[[:space:]][[:space:]]*rdgw\.contoso\.com$/\1/p' "$L/hosts")
# The lab's names plus localhost, and one alias of the gateway's address that its
# certificate does not name (for the name-mismatch control).
{
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
    cat "$L/hosts"
    printf '%s\tgw-alias.contoso.com\n' "$gw_addr"
} >"$T_TMP/hosts"

HOME_CA=$T_TMP/home-ca
HOME_NOCA=$T_TMP/home-noca
mkdir -p "$HOME_CA/.config/freerdp/certs" "$HOME_NOCA"
cp "$T_TMP/root.pem" "$HOME_CA/.config/freerdp/certs/$(openssl x509 -hash -noout -in "$T_TMP/root.pem").0"
# hv01 presents its own self-signed certificate (lab init): the tenant accepted it once, so
# it is a known host of this HOME (known_hosts.sh), not a switch that turns checks off.
. "$(dirname "$0")/known_hosts.sh"
known_lab_host "$HOME_CA" "$L" hv01 || { not_ok "hv01's certificate is a known host of the client's HOME"; exit 1; }

# ---- Xvfb on a display it picks itself (-displayfd)
Xvfb -displayfd 5 -screen 0 1024x768x24 -nolisten tcp 5>"$T_TMP/display" >"$T_TMP/xvfb.log" 2>&1 &
XVFB_PID=$!
i=0
while [ ! -s "$T_TMP/display" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
DISP=:$(tr -dc 0-9 <"$T_TMP/display")
[ "$DISP" != : ] || { not_ok "Xvfb started ($(head -c 300 "$T_TMP/xvfb.log"))"; exit 1; }

# last_record: the newest event record in the lab; later records belong to what follows.
last_record() {
    W logs --json >"$T_TMP/all.json"
    json_sql "$T_TMP/all.json" "SELECT coalesce(max(json_extract(value,'\$.record')),0) FROM doc, json_each(doc.j)"
}
# events MACHINE ID AFTER [TEXT]: how many records of that event id after record AFTER
# (whose text contains TEXT).
sqlq() { printf '%s' "$1" | sed "s/'/''/g"; }
events() {
    W logs --machine "$1" --json >"$T_TMP/ev.json"
    json_sql "$T_TMP/ev.json" "SELECT count(*) FROM doc, json_each(doc.j) WHERE json_extract(value,'\$.event_id')=$2
        AND json_extract(value,'\$.record')>$3 AND instr(json_extract(value,'\$.text'),'$(sqlq "$4")')>0"
}
GWCH=Microsoft-Windows-TerminalServices-Gateway/Operational
gw_events() { # gw_events ID AFTER [TEXT]: gateway events on its Operational channel
    W logs --machine rdgw01 --channel "$GWCH" --json >"$T_TMP/ev.json"
    json_sql "$T_TMP/ev.json" "SELECT count(*) FROM doc, json_each(doc.j) WHERE json_extract(value,'\$.event_id')=$1
        AND json_extract(value,'\$.record')>$2 AND instr(json_extract(value,'\$.text'),'$(sqlq "$3")')>0"
}
# xfreerdp_run HOME FILE OUT: run the unmodified client on the .rdp file, in a private
# mount namespace whose /etc/hosts is the tenant's; its exit status lands in $XF_RC.
xfreerdp_run() {
    unshare --mount sh -c 'mount --bind "$1" /etc/hosts || exit 99
        HOME=$2 DISPLAY=$3 exec timeout -k 5 30 xfreerdp "$4" /log-level:DEBUG </dev/null' \
        sh "$T_TMP/hosts" "$1" "$DISP" "$2" >"$3" 2>&1
    XF_RC=$?
}
show() { grep -E 'ERROR|WARN|CERTIFICATE|trust' "$1" | head -n 8 | tr '\n' ' ' | cut -c1-600; }

# ---- 1. the tenant's file, the CA in HOME: through the gateway, refused at the host
before=$(last_record)
xfreerdp_run "$HOME_CA" "$RDP" "$T_TMP/xf.out"
rc=$XF_RC
if [ "$rc" -ne 0 ] && [ "$rc" -ne 99 ] && [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ]; then
    ok "xfreerdp ends with an error of its own, without waiting on anyone (exit $rc)"
else
    not_ok "xfreerdp ends with an error of its own, without waiting on anyone (exit $rc: $(show "$T_TMP/xf.out"))"
fi
# The gateway logs 303 when the relay closes, which can follow xfreerdp's exit closely.
i=0
while [ "$(gw_events 303 "$before")" -eq 0 ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
check "the gateway's certificate verified through the CA in HOME (no name mismatch, no trust prompt)" sh -c \
    "! grep -q -e 'CERTIFICATE NAME MISMATCH' -e 'certificate not trusted' -e 'Do you trust the above certificate' -e ERRCONNECT_TLS_CONNECT_FAILED '$T_TMP/xf.out'"
check "... and not by a remembered fingerprint (known_hosts2 has no rdgw.contoso.com)" sh -c \
    "! grep -qs rdgw.contoso.com '$HOME_CA/.config/freerdp/known_hosts2'"
check "xfreerdp upgraded RDG_OUT_DATA to a websocket and got its channel" sh -c \
    "grep -q 'Upgraded to websocket' '$T_TMP/xf.out' && grep -q 'channel response errorCode=RPC_S_OK' '$T_TMP/xf.out'"
n200=$(gw_events 200 "$before" '"Cookie"')
n302=$(gw_events 302 "$before" 'connected to resource "hv01.fabric.contoso.local"')
n201=$(gw_events 201 "$before")
check "the gateway accepted xfreerdp's PAA cookie (event 200, method Cookie)" test "$n200" -ge 1
check "the gateway opened the channel to hv01.fabric.contoso.local (event 302)" test "$n302" -ge 1
check_eq "the gateway refused no cookie (no event 201)" 0 "$n201"
check "the gateway logged the channel's end (event 303)" test "$(gw_events 303 "$before")" -ge 1
check "hv01 received the pre-connection PDU with web01's id (event 14160, pcb $web01)" \
    test "$(events hv01 14160 "$before" "pcb '$web01'")" -ge 1
check "hv01 refused the tenant: RDP client 8.1 or later required (event 14162)" \
    test "$(events hv01 14162 "$before" 'RDP client 8.1 or later required')" -ge 1
check "... because xfreerdp 2.11 offered no RDSTLS" \
    test "$(events hv01 14162 "$before" 'no RDSTLS')" -ge 1

# ---- 2. control: the gateway under a name its certificate does not carry
iconv -f UTF-16LE -t UTF-8 "$RDP" | sed '1s/^\xef\xbb\xbf//; s/^gatewayhostname:s:rdgw\.contoso\.com:/gatewayhostname:s:gw-alias.contoso.com:/' \
    >"$T_TMP/alias.rdp"
before=$(last_record)
xfreerdp_run "$HOME_CA" "$T_TMP/alias.rdp" "$T_TMP/xf-alias.out"
check "control: through an alias of the gateway, xfreerdp reports CERTIFICATE NAME MISMATCH" \
    grep -q 'CERTIFICATE NAME MISMATCH' "$T_TMP/xf-alias.out"
check_eq "... fails the gateway TLS (exit 143, ERRCONNECT_TLS_CONNECT_FAILED)" 143 "$XF_RC"
check_eq "... and the gateway authorized nothing (no event 200)" 0 "$(gw_events 200 "$before")"

# ---- 3. control: no CA in HOME, the gateway's certificate cannot be verified
before=$(last_record)
xfreerdp_run "$HOME_NOCA" "$RDP" "$T_TMP/xf-noca.out"
check "control: without the lab root CA, xfreerdp does not trust the gateway's certificate" \
    grep -q 'certificate not trusted' "$T_TMP/xf-noca.out"
check_eq "... fails the gateway TLS (exit 143)" 143 "$XF_RC"
check_eq "... and the gateway authorized nothing (no event 200)" 0 "$(gw_events 200 "$before")"
check_eq "... and hv01 saw nothing (no event 14160)" 0 "$(events hv01 14160 "$before")"

W down >/dev/null 2>&1
