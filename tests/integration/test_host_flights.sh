#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# One write per flight (issue 16): wapsim-host gathers what its TLS connection writes
# (records, TLS 1.3 session tickets) and sends it when it turns to read (host/flight.c). Seen
# with strace on hv01 during one connect with five typed characters: the host's writes on the
# console connection are about one per flight (X.224, the TLS server flight, tickets with the
# RDSTLS Capabilities, the RDSTLS result, the MCS replies, licensing with Demand Active, the
# finalization replies with the first frame, one per typed character, close_notify): at most
# 20 (before: 86, among them 255 + 255 + 30 and 56 + 337 byte writes and 68 writes of the
# first frame). Needs strace and ptrace rights: otherwise a TAP "# SKIP".
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null 2>&1 || skip_all "strace is missing"
L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >/dev/null 2>&1 || { not_ok "up"; exit 1; }
host=""
for p in $(lab_pids "$L"); do
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -q 'wapsim-host.* hv01\( \|$\)' && host=$p
done
[ -n "$host" ] || { W down >/dev/null 2>&1; skip_all "hv01's wapsim-host not found"; }
strace -f -qq -e trace=write,sendto,sendmsg,writev -o "$T_TMP/strace.txt" -p "$host" 2>"$T_TMP/strace.err" &
tracer=$!
i=0
while [ $i -lt 50 ] && ! grep -q . "$T_TMP/strace.txt" 2>/dev/null && kill -0 $tracer 2>/dev/null; do
    # attached once strace has said something, or after 5 s
    sleep 0.1; i=$((i + 1))
done
kill -0 $tracer 2>/dev/null || { W down >/dev/null 2>&1; skip_all "cannot trace wapsim-host ($(head -c 200 "$T_TMP/strace.err"))"; }
W connect --json --tenant alice --vm web01 --type hello >"$T_TMP/c.json" 2>&1
sleep 1
kill $tracer 2>/dev/null
wait $tracer 2>/dev/null
check_eq "alice reaches web01's console and types" "1" "$(json_sql "$T_TMP/c.json" "SELECT json_extract(j,'$.ok') FROM doc")"
# The console connection's socket: the one the TLS server flight (a handshake record, "\26\3\3") went out on.
fd=$(grep -E '(write|sendto|sendmsg|writev)\([0-9]+, .*\\26\\3\\3' "$T_TMP/strace.txt" | head -1 | sed 's/.*(\([0-9]*\),.*/\1/')
check "the host's TLS server flight was seen" test -n "$fd"
writes=$(grep -cE "(write|sendto|sendmsg|writev)\($fd," "$T_TMP/strace.txt")
echo "# host writes on the console connection: $writes: $(grep -E "(write|sendto|sendmsg|writev)\($fd," "$T_TMP/strace.txt" | sed 's/.*= //' | tr '\n' ' ')"
check "the host wrote the console connection in at most 20 writes ($writes)" test "$writes" -ge 8 -a "$writes" -le 20
small=$(grep -E "(write|sendto|sendmsg|writev)\($fd," "$T_TMP/strace.txt" | sed 's/.*= //' | grep -cxE '255|56')
check "no session ticket or licensing PDU went out in a write of its own ($small writes of 255 or 56 bytes)" test "$small" -eq 0
W down >/dev/null 2>&1
