#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# relaybench.sh BUILD [MIB] [RUNS]: row 6's relay of `make bench` alone (tests/bench/bench.sh
# runs the same `wsbench relay`), in a lab of its own (BUILD/relaybench-tmp): hv01 stopped,
# MIB MiB (64) each way through a fresh tunnel and through a direct TLS stream, RUNS (5)
# times; prints the table's relay rows and the gateway's CPU time per MiB relayed (utime +
# stime of its pid over the whole run). RELAYBENCH_WAPSIM=/other/build/wapsim measures that
# build's programs with this build's client; PERF=1 records the gateway (perf.data beside).
# Needs `make all build/bench/wsbench`. The lab is taken down on exit.
set -u
B=$(cd "${1:-build}" && pwd); MIB=${2:-64}; REPS=${3:-5}
W=${RELAYBENCH_WAPSIM:-$B/wapsim}; X=$B/bench/wsbench
T=$B/relaybench-tmp/run
export WAPSIM_CACHE=$B/relaybench-tmp/cache
unset WAPSIM_LAB
[ -d "$T/lab" ] && "$W" --lab "$T/lab" down >/dev/null 2>&1
rm -rf "$T"; mkdir -p "$T"
L=$T/lab
"$W" lab init "$L" >/dev/null 2>"$T/init.err" || { tail -1 "$T/init.err"; exit 1; }
trap '"$W" --lab "$L" down >/dev/null 2>&1' EXIT
"$W" --lab "$L" up >/dev/null 2>"$T/up.err" || { tail -1 "$T/up.err"; exit 1; }
"$W" --lab "$L" rdp-file --tenant alice --vm web01 --out "$T/relay.rdp" >/dev/null 2>&1 || exit 1
"$W" --lab "$L" service stop hv01 >/dev/null 2>&1
gw=$(cat "$L/run/rdgw01.pid")
c0=$(awk '{ print $14 + $15 }' /proc/$gw/stat)
if [ -n "${PERF:-}" ]; then perf record -F 999 -g -o "$T/perf.data" -p $gw 2>/dev/null & pp=$!; fi
"$X" relay "$L" "$T/relay.rdp" "$MIB" "$REPS" > "$T/results.tsv"
rc=$?
[ -n "${PERF:-}" ] && { kill -INT $pp; wait $pp; }
c1=$(awk '{ print $14 + $15 }' /proc/$gw/stat)
# Through the gateway: RUNS x MIB each way, and the 1 MiB warm-up.
mib=$((MIB * REPS * 2 + 1))
echo "gateway CPU: $((c1 - c0)) ticks for $mib MiB: $(awk -v t=$((c1 - c0)) -v m=$mib -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.2f", t * 1000 / hz / m }') ms per MiB"
"$X" report "$T/results.tsv" "$T/bench.json" | grep "^| # \|Relay\|tunnel\|direct"
exit $rc
