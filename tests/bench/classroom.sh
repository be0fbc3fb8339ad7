#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# classroom.sh BUILD [TMP]: the classroom rows of `make bench` (issue 18), printed as a table of
# bench.sh's Markdown format (| # | measure | median | min | max | unit | target | met |), each
# with its target and whether it was met. Progress on stderr. With BENCH_SEATS seats (30):
#   a. memory per idle seat: the sum of Pss (/proc/PID/smaps_rollup) over each seat's
#      processes, 30 seats up, averaged over the seats (target <= 12 MiB);
#   b. `classroom init --seats 30` plus `classroom up`, wall time (target <= 3 s);
#   c. every seat with an exercise (classroom assign all), then `exercise check` in all 30
#      seats started at once (3 connects each): wall time until the last finished (target
#      <= 3 s), and the 95th percentile of one check's time.
# Every process started here is stopped by its pid (classroom down, then what is left).
set -u
B=$(cd "${1:-build}" && pwd)
W=$B/wapsim
T=${2:-$B/bench-tmp}/classroom
N=${BENCH_SEATS:-30}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export WAPSIM_CACHE="${WAPSIM_CACHE:-$T/cache}"
export WAPSIM_SCENARIOS="$ROOT/scenarios"
unset WAPSIM_LAB
C=$T/class

say() { echo "bench: classroom: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
seat_dirs() { for i in $(seq -w 1 "$N"); do [ -d "$C/seat$(printf %02d "${i#0}")" ] && echo "$C/seat$(printf %02d "${i#0}")"; done; }
# Pids (not zombies) whose command line names the seat's folder.
lab_pids() {
    abs=$(cd "$1" 2>/dev/null && pwd -P) || return 0
    printf '%s\n' "$abs" >"$T/pat"
    grep -lszxF -f "$T/pat" /proc/[0-9]*/cmdline | sed 's|^/proc/||; s|/cmdline$||'
}
cleanup() {
    [ -d "$C" ] || return 0
    "$W" classroom down "$C" >/dev/null 2>&1
    for s in $(seat_dirs); do for p in $(lab_pids "$s"); do kill "$p" 2>/dev/null; done; done
}
trap cleanup EXIT
trap 'exit 130' HUP INT PIPE TERM

# row LETTER MEASURE VALUE TARGET MET(1, 0, -1: no target) UNIT [MIN MAX]: one row of bench.sh's table.
row() { mt=""; [ "$5" = 1 ] && mt=yes; [ "$5" = 0 ] && mt="**no**"
    printf '| 10%s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "${7:-$3}" "${8:-$3}" "$6" "$4" "$mt"; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }' && echo 1 || echo 0; }

rm -rf "$T"
mkdir -p "$T" || exit 1
# The key template first (lab init makes it once), as a classroom on a machine that has run wapsim before.
"$W" lab init "$T/template-lab" >/dev/null 2>&1 || { say "lab init failed"; exit 1; }

# ---- b. init + up
say "b. classroom init --seats $N + up"
t0=$(now)
"$W" classroom init "$C" --seats "$N" --seed 11 >/dev/null 2>"$T/init.err" || { say "init failed: $(tail -1 "$T/init.err")"; exit 1; }
t_init=$(since "$t0")
t1=$(now)
"$W" classroom up "$C" >/dev/null 2>"$T/up.err" || { say "up failed: $(tail -1 "$T/up.err")"; exit 1; }
t_up=$(since "$t1")
t_all=$(since "$t0")
say "init $t_init s, up $t_up s, together $t_all s"

# ---- a. PSS per idle seat
sleep 2
say "a. PSS per idle seat ($N seats up)"
sum=0 seats=0 lo="" hi=""
for s in $(seat_dirs); do
    kib=0
    for p in $(lab_pids "$s"); do
        v=$(sed -n 's/^Pss:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$p/smaps_rollup" 2>/dev/null)
        kib=$((kib + ${v:-0}))
    done
    sum=$((sum + kib)) seats=$((seats + 1))
    [ -z "$lo" ] || [ "$kib" -lt "$lo" ] && lo=$kib
    [ -z "$hi" ] || [ "$kib" -gt "$hi" ] && hi=$kib
done
pss=$(awk -v s="$sum" -v n="$seats" 'BEGIN { printf "%.2f", s / n / 1024 }')
pss_lo=$(awk -v s="$lo" 'BEGIN { printf "%.2f", s / 1024 }')
pss_hi=$(awk -v s="$hi" 'BEGIN { printf "%.2f", s / 1024 }')
say "PSS per seat $pss MiB ($pss_lo .. $pss_hi)"

# ---- c. every trainee presses check at once
say "c. classroom assign all (level 1), then $N exercise checks at once"
"$W" classroom assign "$C" all --level 1 >/dev/null 2>"$T/assign.err" || say "assign: $(tail -1 "$T/assign.err")"
: >"$T/checks"
t2=$(now)
for s in $(seat_dirs); do
    ( a=$(now); "$W" --lab "$s" exercise check >/dev/null 2>&1; echo "$? $(since "$a")" >>"$T/checks" ) &
done
wait
t_checks=$(since "$t2")
p95=$(awk '{ print $2 }' "$T/checks" | sort -n | awk '{ v[NR] = $1 } END { k = int(NR * 0.95 + 0.999); if (k < 1) k = 1; print v[k] }')
cmin=$(awk '{ print $2 }' "$T/checks" | sort -n | head -1)
cmax=$(awk '{ print $2 }' "$T/checks" | sort -n | tail -1)
ran=$(awk '$1 == 0 || $1 == 1' "$T/checks" | wc -l)
say "$N checks in $t_checks s (p95 $p95 s; $ran of $N ran to a verdict)"

printf '\n| # | measure | median | min | max | unit | target | met |\n|---|---|---|---|---|---|---|---|\n'
row a "Classroom: PSS per idle seat ($N seats up; sum over the seat's processes)" "$pss" "<= 12" "$(le "$pss" 12)" MiB "$pss_lo" "$pss_hi"
row b "Classroom: \`classroom init --seats $N\` + \`classroom up\`" "$t_all" "<= 3" "$(le "$t_all" 3)" s
row b "... of which init" "$t_init" "" -1 s
row b "... of which up" "$t_up" "" -1 s
row c "Classroom: $N \`exercise check\` at once (3 connects each), until all finished" "$t_checks" "<= 3" "$(le "$t_checks" 3)" s
row c "... one check, 95th percentile ($ran of $N gave a verdict)" "$p95" "" -1 s "$cmin" "$cmax"
"$W" classroom down "$C" >/dev/null 2>&1
exit 0
