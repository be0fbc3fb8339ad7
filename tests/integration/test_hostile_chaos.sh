#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Chaos: 100 tenant connects while the RD Gateway (rdgw01), a Hyper-V host (hv01) and
# the portal are killed with kill -9 in turn, twice each, in a lab of AddressSanitizer
# and UBSan components (make's $BUILD/san/bin); the supervisor restarts them. Three
# workers connect side by side, one per VM (alice web01 on hv01, alice db01 and bob
# app01 on hv02), so no connect takes over another's console. Each kill's window runs
# from just before the kill until `status` shows a new process of that machine healthy.
# The components and the connects before and after the chaos are ASan builds; the 100
# connects themselves run the release wapsim when there is one (the client is not what
# is under test here).
# Then: every failed connect overlaps a window (1 s of slack, below) and exited 1 with
# its JSON answer; some connects succeed outside every window; lab.db passes
# pragma integrity_check; every event row read before or during the kills is still
# there, unchanged; no sanitizer report in any component's log or client's stderr;
# only the killed machines restarted, and once each kill; a connect afterwards
# succeeds within 5 s. Besides, hv01 is killed once more under a console held open:
# once back, it has ended that console's sessions row.
BUILD=${BUILD:-build}
san=$BUILD/san/bin/wapsim
# The release wapsim for the 100 connects and the health polls: the ASan client costs a
# third more CPU per connect.
client=${WAPSIM:-$san}
[ -x "$client" ] || client=$san
[ -x "$san" ] || { WAPSIM=${WAPSIM:-wapsim}; . "$(dirname "$0")/lib.sh"; skip_all "no sanitizer build at $san (make test builds it)"; }
WAPSIM=$san
. "$(dirname "$0")/lib.sh"
# Memory errors are what this test is after; leaks at exit are not. OpenSSL's PBKDF2
# (every password and service-account check) allocates at each of its 20,000 rounds:
# behind ASan's default 256 MB quarantine each allocation touches fresh pages, which
# doubles the components' CPU per connect. 32 MB still holds all a connect frees.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:quarantine_size_mb=32
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
command -v sqlite3 >/dev/null 2>&1 || skip_all "no sqlite3 command (make deps installs it)"

N=100           # connects
KILLS="rdgw01 hv01 portal rdgw01 hv01 portal"
# A failed connect may end up to SLACK_MS before a kill or start up to SLACK_MS after
# the machine was seen healthy again. `healthy` is a TCP accept on the service port; a
# component listens there last (the host after its VMM agent on 5985 and its console TLS),
# but the supervisor's and the poll's views of it lag by up to a poll interval, and a
# loaded machine delays the rest of a start. The other errors only widen
# a window: its start is read before the kill, its end after the poll that saw the
# machine healthy, a connect's start before it runs and its end after it exits.
SLACK_MS=1000
L=$T_TMP/lab
R=$T_TMP/runs
mkdir -p "$R"
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
C() { "$client" --lab "$L" "$@"; }
now_ms() { date +%s%3N; }
db() { sqlite3 -batch -noheader "$L/lab.db" ".timeout 5000" "$@"; }
# One line per event row, its text in hex so a line is a row.
events() {
    db "SELECT id||'|'||time_ms||'|'||machine||'|'||channel||'|'||source||'|'||event_id||'|'||level||'|'||hex(text)
        FROM events ORDER BY id" >"$1"
}
# healthy_pid MACHINE: its pid in `status --json`, when it is healthy.
healthy_pid() {
    C status --json >"$T_TMP/st.json" 2>/dev/null
    json_sql "$T_TMP/st.json" "SELECT json_extract(value,'\$.pid') FROM doc, json_each(json_extract(j,'\$.machines'))
        WHERE json_extract(value,'\$.name') = '$1' AND json_extract(value,'\$.healthy')"
}
helpers=""
trap 'for p in $helpers; do kill "$p" 2>/dev/null; done; cleanup' EXIT

W up >"$T_TMP/up.out" 2>&1 || { not_ok "up ($(head -c 300 "$T_TMP/up.out"))"; exit 1; }
sup0=$(cat "$L/run/supervisor.pid")
for m in portal spf01 vmm01 rdgw01 hv01 hv02; do eval "pid0_$m=\$(cat \"\$L/run/\$m.pid\")"; done
check_exit "a tenant connects before the chaos" 0 W connect --tenant alice --vm web01
events "$T_TMP/snap.0"

# worker FIRST TENANT VM: connects FIRST, FIRST+3, ... below N, one after another;
# each leaves "index vm start_ms end_ms exit" in $R/INDEX.rec.
worker() {
    i=$1
    while [ "$i" -lt $N ]; do
        s=$(now_ms)
        C connect --json --tenant "$2" --vm "$3" >"$R/$i.json" 2>"$R/$i.err"
        rc=$?
        echo "$i $3 $s $(now_ms) $rc" >"$R/$i.rec"
        i=$((i + 3))
    done
}
done_count() { set -- "$R"/*.rec; [ -e "$1" ] && echo $# || echo 0; }

# killer: kill k waits for k/8 of the connects to be done, so the kills fall among
# running connects whatever the machine's speed; each leaves "machine old_pid kill_ms
# healthy_ms new_pid" in $T_TMP/windows ("never" when not healthy within 30 s).
killer() {
    k=0
    for m in $KILLS; do
        k=$((k + 1))
        t=0
        while [ "$(done_count)" -lt $((k * N / 8)) ] && [ $t -lt 750 ]; do sleep 0.2; t=$((t + 1)); done
        old=$(cat "$L/run/$m.pid" 2>/dev/null)
        [ -n "$old" ] || { echo "$m none $(now_ms) never" >>"$T_TMP/windows"; continue; }
        events "$T_TMP/snap.$k.before"
        t0=$(now_ms)
        kill -9 "$old"
        events "$T_TMP/snap.$k.during"
        t1=never new=""
        deadline=$(($(now_ms) + 30000))
        while [ "$(now_ms)" -lt $deadline ]; do
            new=$(healthy_pid "$m")
            if [ -n "$new" ] && [ "$new" != "$old" ]; then t1=$(now_ms); break; fi
            sleep 0.05
        done
        echo "$m $old $t0 $t1 $new" >>"$T_TMP/windows"
    done
}

killer & helpers="$helpers $!"
worker 0 alice web01 & helpers="$helpers $!"
worker 1 alice db01 & helpers="$helpers $!"
worker 2 bob app01 & helpers="$helpers $!"
t_start=$(now_ms)
for p in $helpers; do wait "$p"; done
helpers=""
echo "# $N connects and $(echo $KILLS | wc -w) kills in $((($(now_ms) - t_start) / 1000)) s"
sed 's/^/# window: /' "$T_TMP/windows"

# ---- each kill: the machine came back
check_eq "each kill was followed by a new healthy process within 30 s" \
    "$(echo $KILLS | wc -w) 0" "$(wc -l <"$T_TMP/windows") $(grep -c never "$T_TMP/windows")"

# ---- the connects against the windows
cat "$R"/*.rec | sort -n >"$T_TMP/recs"
check_eq "all $N connects ran" "$N" "$(wc -l <"$T_TMP/recs")"
# Each record with its verdict: ok-out (succeeded outside every window), ok-in,
# fail-in (failed, overlapping a window with the slack), fail-out (failed elsewhere).
awk -v slack=$SLACK_MS 'NR == FNR { ks[NR] = $3; ke[NR] = $4 == "never" ? 9e18 : $4; n = NR; next }
    { inw = 0; near = 0
      for (w = 1; w <= n; w++) {
          if ($3 <= ke[w] && $4 >= ks[w]) inw = 1
          if ($3 <= ke[w] + slack && $4 >= ks[w] - slack) near = 1
      }
      v = $5 == 0 ? (inw ? "ok-in" : "ok-out") : (near ? "fail-in" : "fail-out")
      print $0, v }' "$T_TMP/windows" "$T_TMP/recs" >"$T_TMP/verdicts"
for v in ok-out ok-in fail-in fail-out; do eval "n_$(echo $v | tr - _)=$(grep -c " $v\$" "$T_TMP/verdicts")"; done
echo "# connects: $n_ok_out ok outside the windows, $n_ok_in ok overlapping one, $n_fail_in failed in one, $n_fail_out failed outside"
# Where the failures stopped, for the record.
awk '$6 ~ /^fail/ { print $1 }' "$T_TMP/verdicts" | while read -r i; do
    echo "# connect $i ($(awk -v i="$i" '$1 == i { print $2, $6 }' "$T_TMP/verdicts")): $(json_sql "$R/$i.json" \
        "SELECT json_extract(j,'\$.stage') || ': ' || json_extract(j,'\$.message') FROM doc" 2>/dev/null | head -c 200)"
done
check_eq "every failed connect overlaps a restart window (slack ${SLACK_MS} ms)" 0 "$n_fail_out"
check "some connects succeed outside every window ($n_ok_out)" test "$n_ok_out" -ge 10
# A failure is the client's answer, never its death (a signal, a sanitizer abort).
bad_exit=$(awk '$5 != 0 && $5 != 1 { printf "%s(exit %s) ", $1, $5 }' "$T_TMP/recs")
check_eq "every failed connect exited 1" "" "$bad_exit"
no_json=""
for i in $(awk '$5 == 1 { print $1 }' "$T_TMP/recs"); do
    [ "$(json_sql "$R/$i.json" "SELECT json_extract(j,'\$.ok') FROM doc" 2>/dev/null)" = 0 ] || no_json="$no_json $i"
done
check_eq "... with its JSON answer" "" "$no_json"

# ---- a console open when its host is killed: the host, restarted, ends its row (the
# sessions table says which consoles are open; the connection died with the process)
open_sessions() { db "SELECT count(*) FROM sessions WHERE host = 'hv01' AND ended_at IS NULL"; }
C connect --tenant alice --vm web01 --hold 30 >"$T_TMP/hold.out" 2>&1 &
hold=$! helpers=$!
t=0
while [ "$(open_sessions)" = 0 ] && [ $t -lt 150 ]; do sleep 0.1; t=$((t + 1)); done
open=$(open_sessions)
old=$(cat "$L/run/hv01.pid")
kill -9 "$old"
wait "$hold"
helpers=""
t=0 new=""
while [ $t -lt 300 ]; do
    new=$(healthy_pid hv01)
    [ -n "$new" ] && [ "$new" != "$old" ] && break
    sleep 0.1; t=$((t + 1))
done
check_eq "a console open on hv01 when it was killed is ended once hv01 is back (open before: $open)" \
    "1 0" "$open $(open_sessions)"

# ---- the processes
W status --json >"$T_TMP/end.json" 2>/dev/null
restarts=$(json_sql "$T_TMP/end.json" "SELECT group_concat(json_extract(value,'\$.name') || '=' ||
    json_extract(value,'\$.restarts'), ' ') FROM doc, json_each(json_extract(j,'\$.machines'))")
check_eq "only the killed machines restarted, once per kill" \
    "portal=2 spf01=0 vmm01=0 rdgw01=2 hv01=3 hv02=0" "$restarts"
same=""
for m in spf01 vmm01 hv02; do
    eval "p=\$pid0_$m"
    [ "$(cat "$L/run/$m.pid")" = "$p" ] && [ -d "/proc/$p" ] || same="$same $m"
done
check_eq "... spf01, vmm01 and hv02 are the processes they were" "" "$same"
check_eq "... and so is the supervisor" "$sup0" "$(cat "$L/run/supervisor.pid")"
check_eq "the supervisor logged each kill as event 7031" "hv01=3 portal=2 rdgw01=2" \
    "$(db "SELECT group_concat(machine || '=' || n, ' ') FROM (SELECT machine, count(*) AS n FROM events
           WHERE event_id = 7031 GROUP BY machine ORDER BY machine)")"

# ---- afterwards
t0=$(now_ms)
W connect --json --tenant alice --vm web01 >"$T_TMP/final.json" 2>"$T_TMP/final.err"
ms=$(($(now_ms) - t0))
final=$(json_sql "$T_TMP/final.json" "SELECT json_extract(j,'\$.ok') || '|' || json_extract(j,'\$.stage') FROM doc")
check_eq "a tenant connects afterwards" "1|console" "$final"
check "... within 5 s ($ms ms)" test "$final" = "1|console" -a "$ms" -lt 5000

bad=$(grep -l -e 'AddressSanitizer' -e 'runtime error' "$L"/log/*.log "$R"/*.err "$T_TMP/final.err" 2>/dev/null | tr '\n' ' ')
check_eq "no sanitizer report in a component's log or a client's stderr" "" "$bad"
[ -n "$bad" ] && grep -h -A12 -e 'AddressSanitizer' -e 'runtime error' $bad | head -n 40 | sed 's/^/# /'

W down >/dev/null 2>&1
check_eq "lab.db: pragma integrity_check" ok "$(db 'pragma integrity_check')"
events "$T_TMP/snap.end"
sort "$T_TMP/snap.end" >"$T_TMP/end.sorted"
lost=0 rows=0
for s in "$T_TMP"/snap.[0-9]*; do
    sort "$s" >"$T_TMP/s.sorted"
    rows=$((rows + $(wc -l <"$s")))
    miss=$(comm -23 "$T_TMP/s.sorted" "$T_TMP/end.sorted" | wc -l)
    [ "$miss" -gt 0 ] && { lost=$((lost + miss)); echo "# $(basename "$s"): $miss rows missing or changed at the end"; }
done
check_eq "every event row read before or during the kills is there at the end, unchanged ($rows rows read)" 0 "$lost"
exit 0
