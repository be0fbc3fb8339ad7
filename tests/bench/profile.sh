#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# profile.sh BUILD [FLOWS]: where the time of a connect flow goes (the worst row of
# `make bench`). Not part of `make bench` (perf needs perf_event access): run it by hand
# after `make bench` has built everything:
#     sh tests/bench/profile.sh build 40
# It makes a lab of its own (BUILD/bench-tmp/profile-lab), runs FLOWS sequential
# flows in-process (wsbench flows) under `perf record -a`, and prints the CPU per flow of
# each lab process split by library, then the top symbols of the three busiest. Idle
# time (waits) shows as "idle". The lab is taken down at the end.
set -u
B=$(cd "${1:-build}" && pwd)
FLOWS=${2:-40}
W=$B/wapsim
X=$B/bench/wsbench
T=$B/bench-tmp
L=$T/profile-lab
HZ=999
export WAPSIM_CACHE="$T/cache"
unset WAPSIM_LAB
command -v perf >/dev/null 2>&1 || { echo "profile: perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
mkdir -p "$T"
cleanup() { "$W" --lab "$L" down >/dev/null 2>&1; }
trap cleanup EXIT
trap 'exit 130' HUP INT PIPE TERM
if [ -d "$L" ]; then "$W" --lab "$L" down >/dev/null 2>&1; rm -rf "$L"; fi
"$W" lab init "$L" >/dev/null && "$W" --lab "$L" up >/dev/null || exit 1
"$X" flows "$L" 3 || exit 1 # warm-up
for f in "$L"/run/*.pid; do echo "$(cat "$f") $(basename "$f" .pid)"; done >"$T/pidmap"
perf record -a -F $HZ -o "$T/perf.data" -- "$X" flows "$L" "$FLOWS" 2>"$T/perf.err" >/dev/null ||
    { cat "$T/perf.err" >&2; exit 1; }
perf script -i "$T/perf.data" -F comm,pid,ip,sym,dso 2>/dev/null >"$T/perf.txt"
# comm pid ip sym... (dso): the client is the wsbench process, idle is pid 0.
echo "CPU per flow (ms) by machine and library, $FLOWS flows, perf at $HZ Hz on $(nproc) cores:"
awk -v hz=$HZ -v flows="$FLOWS" 'NR == FNR { m[$1] = $2; next }
    { pid = $2; name = pid in m ? m[pid] : $1 == "wsbench" ? "client" : pid == 0 ? "idle" : "other:" $1
      d = $NF; gsub(/[()]/, "", d); sub(/.*\//, "", d); c[name "\t" d]++; t[name]++ }
    END { for (k in c) if (c[k] * 1000 / hz / flows >= 0.5) printf "%8.1f  %s\n", c[k] * 1000 / hz / flows, k
          for (k in t) printf "%8.1f  %s\t(all)\n", t[k] * 1000 / hz / flows, k }' "$T/pidmap" "$T/perf.txt" |
    sort -k2,2 -k1,1nr
for who in $(awk 'NR == FNR { m[$1] = $2; next } ($2 in m) { t[m[$2]]++ } END { for (k in t) print t[k], k }' \
    "$T/pidmap" "$T/perf.txt" | sort -rn | head -3 | awk '{ print $2 }'); do
    echo
    echo "Top symbols of $who (ms per flow):"
    awk -v who="$who" -v hz=$HZ -v flows="$FLOWS" 'NR == FNR { m[$1] = $2; next }
        m[$2] == who { $1 = ""; $2 = ""; $3 = ""; sub(/^ +/, ""); c[$0]++ }
        END { for (k in c) printf "%8.1f  %s\n", c[k] * 1000 / hz / flows, k }' "$T/pidmap" "$T/perf.txt" |
        sort -rn | head -12
done
