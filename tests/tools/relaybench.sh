#!/bin/sh
# relay-only bench: lab init, up, wsbench relay; B=build dir, MIB, REPS
set -u
B=$(cd "${1:-build}" && pwd); MIB=${2:-64}; REPS=${3:-5}
W=${RELAYBENCH_WAPSIM:-$B/wapsim}; X=$B/bench/wsbench
T=${RELAYBENCH_DIR:-/tmp/relay-bench/t}
export WAPSIM_CACHE=/tmp/relay-bench/cache
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
echo "gateway CPU: $((c1 - c0)) ticks for $((MIB * REPS * 2 + 1)) MiB: $(awk -v t=$((c1 - c0)) -v m=$((MIB * REPS * 2 + 1)) 'BEGIN { printf "%.2f", t * 10 / m }') ms per MiB"
"$X" report "$T/results.tsv" "$T/bench.json" | grep -i "relay\|^| #\|tunnel" 
exit $rc
