#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The gateway's relay under backpressure (issue 16): a bulk transfer through one tunnel
# whose reader is slow at first must complete. Host -> client: the client reads nothing
# for 1.5 s, so the gateway's queue for it passes its 1 MiB backlog mark and the gateway
# stops reading from the host; once the client reads again, the gateway must read from
# the host again (a gateway that never resumed stalled until the client sent something).
# Client -> host likewise with a slow host. Over a websocket and over the legacy pair.
# hv01 is stopped: build/tools/relaystall listens in its place, port 2179.
. "$(dirname "$0")/lib.sh"
BUILD=${BUILD:-build}
tool=$BUILD/tools/relaystall
[ -x "$tool" ] || skip_all "no $tool (make test builds it)"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >"$T_TMP/up.out" 2>&1 || { not_ok "up ($(head -c 300 "$T_TMP/up.out"))"; exit 1; }
gw=$(cat "$L/run/rdgw01.pid" 2>/dev/null)
# The .rdp file first (the portal asks for the VM's host; the HostToken lives 2 minutes:
# every tunnel below is opened well within them).
W rdp-file --tenant alice --vm web01 --out "$T_TMP/r.rdp" >"$T_TMP/rdp.out" 2>&1 ||
    { not_ok "rdp-file ($(head -c 300 "$T_TMP/rdp.out"))"; exit 1; }
W service stop hv01 >"$T_TMP/stop.out" 2>&1 || { not_ok "service stop hv01 ($(head -c 300 "$T_TMP/stop.out"))"; exit 1; }

# relay DIRECTION TRANSPORT: 16 MiB through a fresh tunnel.
relay() {
    "$tool" "$L" "$T_TMP/r.rdp" "$1" 16 "$2" 2>&1 | tail -n 1
}
for transport in websocket legacy; do
    for dir in down up; do
        out=$(relay $dir $transport)
        case "$out" in
        "$dir: 16777216 bytes in "*) ok "$dir ($transport), the reader slow at first: all 16 MiB arrive (${out#*bytes in })" ;;
        *) not_ok "$dir ($transport), the reader slow at first: all 16 MiB arrive ($out)" ;;
        esac
    done
done
check "the gateway is the same process" test "$(cat "$L/run/rdgw01.pid" 2>/dev/null)" = "$gw"
# Under the sanitizer build (WAPSIM=build/san/bin/wapsim) the gateway's log would name any
# report, a leak once it has stopped (the gateway's only: hv01's exit is no business here).
W down >/dev/null 2>&1
bad=$(grep -c -e 'AddressSanitizer' -e 'runtime error' "$L/log/rdgw01.log" 2>/dev/null)
check_eq "the gateway's log has no sanitizer report" "0" "${bad:-0}"
exit 0
