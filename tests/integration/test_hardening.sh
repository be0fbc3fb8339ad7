#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Hardening of the wapsim command and the lab's files against a hostile or careless
# local user: lab.db is its owner's alone (0600, with its -wal and -shm), an unknown
# tenant is a usage error, a login name cannot forge a line of `wapsim logs`, a reader
# or peer that goes away is an error line (never SIGPIPE's silent exit 141), a damaged
# lab.db is one clear line and exit 2, and a dead supervisor is reported by status
# (exit 1) and recovered by up.
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
W() { "$WAPSIM" --lab "$L" "$@"; }
db() { sqlite3 -batch -noheader "$L/lab.db" ".timeout 5000" "$@"; }
mode() { stat -c %a "$1" 2>/dev/null; }

# ---- lab.db holds private keys and password hashes: 0600
new_lab "$L" || { not_ok "lab init"; exit 1; }
check_eq "a new lab's lab.db is 0600" 600 "$(mode "$L/lab.db")"
W up >/dev/null 2>&1 || { not_ok "up"; exit 1; }
check_eq "... and so are its -wal and -shm while the lab runs" "600 600" "$(mode "$L/lab.db-wal") $(mode "$L/lab.db-shm")"
chmod 0644 "$L/lab.db" "$L/lab.db-wal" "$L/lab.db-shm"
W cert list >/dev/null 2>&1
check_eq "an existing lab's 0644 files become 0600 when its owner opens it" "600 600 600" \
    "$(mode "$L/lab.db") $(mode "$L/lab.db-wal") $(mode "$L/lab.db-shm")"

# ---- an unknown tenant is a usage error, named
check_exit "connect --tenant mallory (no such account): exit 2" 2 W connect --tenant mallory --vm web01
check "... one line naming mallory" sh -c "[ \$(wc -l <'$T_TMP/err') -eq 1 ] && grep -q \"unknown tenant 'mallory'\" '$T_TMP/err'"

# ---- a login name with control characters cannot forge a line in wapsim logs
W cert export lab-root-ca --pem --out "$T_TMP/root.pem"
portal=$(db "SELECT address FROM machines WHERE name='portal'")
forged='2026-01-01T00:00:00.000Z portal  Signed in'
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T_TMP/root.pem" --resolve "portal.contoso.com:30081:$portal" \
    -H 'Content-Type: application/json' -d "{\"user\":\"eve\\n$forged\\u001b[2J\",\"password\":\"x\"}" \
    https://portal.contoso.com:30081/api/login)
check_eq "a sign-in as 'eve<newline>...' is refused (401)" 401 "$code"
W logs --machine portal >"$T_TMP/logs.txt"
check "wapsim logs shows no forged line" sh -c "! grep -q '^2026-01-01T00:00:00' '$T_TMP/logs.txt'"
check "... but the name with its newline written as backslash-n" grep -qF \
    "Sign-in failed for 'eve\\n2026-01-01T00:00:00.000Z portal" "$T_TMP/logs.txt"
check "... and the escape character as backslash-x1b" grep -qF 'Signed in\x1b[2J' "$T_TMP/logs.txt"
check_eq "the lab keeps the text as it came (a real newline in lab.db)" 1 \
    "$(db "SELECT count(*) FROM events WHERE event_id = 101 AND instr(text, char(10)) > 0")"
W logs --machine portal --json >"$T_TMP/logs.json"
check "logs --json carries it faithfully (JSON's backslash-n)" grep -qF 'eve\n2026-01-01' "$T_TMP/logs.json"

# ---- a reader or a peer that goes away: an error line, not SIGPIPE (exit 141)
{ sleep 1; W logs; echo $? >"$T_TMP/pipe.rc"; } 2>"$T_TMP/pipe.err" | true
check_eq "logs into a pipe whose reader left: exit 1, not 141" 1 "$(cat "$T_TMP/pipe.rc")"
check "... with one line saying the output could not be written" grep -q "cannot write the output: Broken pipe" "$T_TMP/pipe.err"
i=0
while [ $i -lt 8 ]; do
    (W connect --tenant alice --vm web01 >"$T_TMP/c$i.out" 2>&1; echo $? >"$T_TMP/c$i.rc") &
    i=$((i + 1))
done
wait
bad=""
i=0
while [ $i -lt 8 ]; do
    rc=$(cat "$T_TMP/c$i.rc")
    { [ "$rc" = 0 ] || [ "$rc" = 1 ]; } && [ -s "$T_TMP/c$i.out" ] || bad="$bad $i:$rc"
    i=$((i + 1))
done
check_eq "8 connects to one VM at once: each exits 0 or 1 with its output (none killed by SIGPIPE)" "" "$bad"

# ---- the supervisor dies: status says so (exit 1), up recovers
sup=$(cat "$L/run/supervisor.pid" 2>/dev/null)
kill -9 "$sup" 2>/dev/null
n=0
while [ $n -lt 50 ] && [ -n "$(lab_pids "$L")" ]; do sleep 0.1; n=$((n + 1)); done
check_exit "after kill -9 of the supervisor, status exits 1" 1 W status
check "... with a line saying the supervisor is not running (it died)" grep -q "the supervisor is not running: it died (pid $sup)" "$T_TMP/err"
check_exit "up recovers the lab" 0 W up
check_exit "... and status exits 0 again" 0 W status
check_eq "... every machine healthy" 0 "$(W status --json | grep -c '"healthy":[[:space:]]*false')"
W down >/dev/null 2>&1
check_exit "status of a lab that is down exits 1" 1 W status
check "... saying the lab is down" grep -q "the supervisor is not running: the lab is down" "$T_TMP/err"

# ---- a damaged lab.db: one clear line and exit 2, never a crash
L2=$T_TMP/damaged
new_lab "$L2" || not_ok "lab init (damaged)"
# The schema says NOT NULL: lift it by hand, as a careless edit or a broken tool might.
sqlite3 "$L2/lab.db" "PRAGMA writable_schema=ON; UPDATE sqlite_master SET sql=replace(sql,'channel TEXT NOT NULL','channel TEXT') WHERE name='events'"
sqlite3 "$L2/lab.db" "UPDATE events SET channel=NULL WHERE id=(SELECT max(id) FROM events)"
check_exit "logs on a lab.db with a NULL channel: exit 2" 2 "$WAPSIM" --lab "$L2" logs
check "... one line naming the damage" sh -c "[ \$(wc -l <'$T_TMP/err') -eq 1 ] && grep -q 'the state file is damaged: event [0-9]* has no channel' '$T_TMP/err'"
check_exit "logs --json on it: exit 2" 2 "$WAPSIM" --lab "$L2" logs --json
