#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Starving the RD Gateway without credentials: 300 connections from four local
# addresses that stop after TCP, after TLS or after the websocket upgrade and never
# send HANDSHAKE_REQUEST. A tenant still connects within 5 s, each address is capped
# at the connections it holds unauthenticated, and the gateway closes every idle one
# at its phase's deadline. Then, with the gateway's descriptors limited (prlimit), a
# burst past the limit: the gateway does not spin, `status` reports it unhealthy while
# it cannot accept, and a tenant connects again once the idle ones are gone.
. "$(dirname "$0")/lib.sh"
BUILD=${BUILD:-build}
tool=$BUILD/tools/gwhostile
[ -x "$tool" ] || skip_all "no $tool (make test builds it)"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >"$T_TMP/up.out" 2>&1 || { not_ok "up ($(head -c 300 "$T_TMP/up.out"))"; exit 1; }
gw=$(cat "$L/run/rdgw01.pid" 2>/dev/null)
check "the gateway runs" test -n "$gw" -a -d "/proc/$gw"
fds() { ls "/proc/$gw/fd" 2>/dev/null | wc -l; }
healthy() { W status 2>/dev/null | awk '$1 == "rdgw01" { print $5 }'; }
cputicks() { awk '{ print $14 + $15 }' "/proc/$gw/stat"; }
# wait_line FILE PATTERN TENTHS: bounded wait for a line of the tool's output.
wait_line() {
    i=0
    while [ $i -lt "$3" ] && ! grep -q "$2" "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
}
fd0=$(fds)

# ---- 1. idle connections that never authenticate
"$tool" "$L" idle 300 4 40 >"$T_TMP/idle.out" 2>&1 &
idle=$!
wait_line "$T_TMP/idle.out" opened 600
echo "# $(head -n 1 "$T_TMP/idle.out"); gateway descriptors: $fd0 before, $(fds) with them"
t0=$(date +%s%N)
W connect --json --tenant alice --vm web01 >"$T_TMP/c1.json" 2>"$T_TMP/c1.err"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check_eq "a tenant connects beside them" "1|console" \
    "$(json_sql "$T_TMP/c1.json" "SELECT json_extract(j,'\$.ok') || '|' || json_extract(j,'\$.stage') FROM doc")"
check "... within 5 s (${ms} ms)" test "$ms" -lt 5000
refused=$(sed -n 's/^opened [0-9]*, refused \([0-9]*\)$/\1/p' "$T_TMP/idle.out")
check "each address is capped at unauthenticated connections (refused: ${refused:-?})" test "${refused:-0}" -gt 0
wait_line "$T_TMP/idle.out" closed 450
closed=$(sed -n 's/^closed \([0-9]*\) of \([0-9]*\) after.*/\1 \2/p' "$T_TMP/idle.out")
echo "# $(tail -n 1 "$T_TMP/idle.out")"
set -- $closed
check "the gateway closed every idle connection at its deadline (${1:-?} of ${2:-?})" test -n "$1" -a "$1" = "$2"
kill "$idle" 2>/dev/null
wait "$idle" 2>/dev/null
sleep 2
check "... its descriptors are back ($(fds), $fd0 before)" test "$(fds)" -le $((fd0 + 4))
check_eq "status: the gateway is healthy" "yes" "$(healthy)"

# ---- 2. out of descriptors
if ! command -v prlimit >/dev/null 2>&1; then
    skip "descriptor exhaustion: no prlimit here"
else
    lim=$(($(fds) + 24))
    if ! prlimit --pid "$gw" --nofile="$lim:$lim" 2>"$T_TMP/prlimit.err"; then
        skip "descriptor exhaustion: prlimit cannot lower the gateway's limit ($(head -c 200 "$T_TMP/prlimit.err"))"
    else
        "$tool" "$L" tcp 120 1 30 >"$T_TMP/tcp.out" 2>&1 &
        burst=$!
        wait_line "$T_TMP/tcp.out" opened 300
        echo "# limit $lim descriptors; $(head -n 1 "$T_TMP/tcp.out")"
        check_eq "status: the gateway out of descriptors is not healthy" "no" "$(healthy)"
        c0=$(cputicks)
        sleep 3
        c1=$(cputicks)
        tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
        echo "# gateway CPU over 3 s with the burst: $((c1 - c0)) ticks of $((3 * tck))"
        check "the gateway does not spin on its listener" test $((c1 - c0)) -lt $((tck / 2))
        wait_line "$T_TMP/tcp.out" closed 350
        echo "# $(tail -n 1 "$T_TMP/tcp.out")"
        kill "$burst" 2>/dev/null
        wait "$burst" 2>/dev/null
        sleep 2
        W connect --json --tenant alice --vm web01 >"$T_TMP/c2.json" 2>"$T_TMP/c2.err"
        check_eq "a tenant connects once the idle ones are gone" "1|console" \
            "$(json_sql "$T_TMP/c2.json" "SELECT json_extract(j,'\$.ok') || '|' || json_extract(j,'\$.stage') FROM doc")"
        check_eq "status: the gateway is healthy again" "yes" "$(healthy)"
    fi
fi
check_eq "the gateway is the process it was" "$gw" "$(cat "$L/run/rdgw01.pid" 2>/dev/null)"
W down >/dev/null 2>&1
exit 0
