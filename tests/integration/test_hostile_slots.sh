#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A hostile local client's idle sockets against the services a tenant's connect goes
# through: 300 TCP connections that never send a byte to the portal (30081), to SPF
# (8090) and to web01's host hv01 (the console port 2179), one target at a time. With
# each held open, a tenant's connect still succeeds, within 5 s; and 13 s after they
# were opened the server has closed them (its deadline for a silent client is 10 s, a
# [model] value), all but a few late ones.
BUILD=${BUILD:-build}
. "$(dirname "$0")/lib.sh"
tool=$BUILD/tools/idleconns
[ -x "$tool" ] || skip_all "no $tool (make test builds it)"
[ "$(ulimit -n)" -ge 400 ] 2>/dev/null || skip_all "300 sockets need more than $(ulimit -n) descriptors"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
db() { sqlite3 -batch -noheader "$L/lab.db" ".timeout 5000" "$@"; }
W up >"$T_TMP/up.out" 2>&1 || { not_ok "up ($(head -c 300 "$T_TMP/up.out"))"; exit 1; }
check_exit "a tenant connects before" 0 W connect --tenant alice --vm web01

# connect_under NAME ADDRESS PORT: 300 idle sockets to ADDRESS:PORT, then a timed connect.
connect_under() {
    "$tool" "$2" "$3" 300 13 >"$T_TMP/idle.out" 2>&1 &
    idle=$!
    i=0
    while [ $i -lt 100 ] && ! grep -q connected "$T_TMP/idle.out"; do sleep 0.1; i=$((i + 1)); done
    check "300 idle sockets to $1 ($2:$3): $(cat "$T_TMP/idle.out")" grep -q '300 of 300 connected' "$T_TMP/idle.out"
    t0=$(date +%s%N)
    W connect --tenant alice --vm web01 >"$T_TMP/connect.out" 2>&1
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    check_eq "... a tenant's connect still succeeds" 0 "$rc"
    [ "$rc" = 0 ] || sed 's/^/# /' "$T_TMP/connect.out" | head -n 5
    check "... within 5 s (took $ms ms)" test "$ms" -lt 5000
    # The tool ends by itself after its 13 s.
    wait "$idle"
    # A connect whose SYN overflowed the backlog is retried (1, 3, 7 s) and may reach the
    # server late, with a fresh deadline: at most twice the servers' per-address cap.
    left=$(tail -n 1 "$T_TMP/idle.out" | sed -n 's/^idleconns: \([0-9]*\) of 300 still open$/\1/p')
    check "... 13 s later $1 has closed all but a few (${left:-?} of 300 still open)" test "${left:-999}" -le 64
}
connect_under portal "$(db "SELECT address FROM machines WHERE name='portal'")" 30081
connect_under SPF "$(db "SELECT address FROM machines WHERE name='spf01'")" 8090
connect_under hv01 "$(db "SELECT address FROM machines WHERE name='hv01'")" 2179

check_exit "every component still runs (status)" 0 W status
W down >/dev/null 2>&1
exit 0
