#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Password guessing: the lab's accounts are locked out as an AD account lockout policy
# locks them (10 bad passwords within 15 minutes lock an account for 15 minutes of the
# lab clock, [model]); a locked-out account is refused even with its right password,
# 4740 is logged, `clock advance` or `lab accounts --unlock` ends it. The portal
# throttles one guessing address (429 with Retry-After), answering at once instead of
# holding a server thread for a failed sign-in.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is missing: install curl (make deps)"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >/dev/null 2>&1 || { not_ok "up"; exit 1; }
db() { sqlite3 -batch -noheader "$L/lab.db" ".timeout 5000" "$@"; }
addr() { db "SELECT address FROM machines WHERE name='$1'"; }
portal=$(addr portal) spf=$(addr spf01) vmm=$(addr vmm01)
net=${portal%.*}
W cert export lab-root-ca --pem --out "$T_TMP/root.pem" >/dev/null 2>&1
W lab accounts --json >"$T_TMP/acc.json"
pw() { json_sql "$T_TMP/acc.json" "SELECT json_extract(value,'$.password') FROM doc, json_each(doc.j) WHERE json_extract(value,'$.account')='$1'"; }
events() { db "SELECT count(*) FROM events WHERE machine='$1' AND event_id=$2 AND text LIKE '%$3%'"; }
locked() { # locked NAME: true or false, from lab accounts --json
    W lab accounts --json >"$T_TMP/now.json" 2>/dev/null
    json_sql "$T_TMP/now.json" "SELECT CASE json_extract(value,'$.locked_out') WHEN 1 THEN 'true' ELSE 'false' END
        FROM doc, json_each(doc.j) WHERE json_extract(value,'$.account')='$1'"
}
# login FROM USER PASSWORD [CURL ARGS...]: POST /api/login from address FROM; prints the status.
login() {
    from=$1 user=$2 password=$3; shift 3
    curl -s -o "$T_TMP/login.body" -D "$T_TMP/login.head" -w '%{http_code}' --max-time 30 --interface "$from" \
        --cacert "$T_TMP/root.pem" --resolve "portal.contoso.com:30081:$portal" -H 'Content-Type: application/json' \
        -d "{\"user\":\"$user\",\"password\":\"$password\"}" "$@" https://portal.contoso.com:30081/api/login
}
# guess N FROM USER: N wrong passwords at once from FROM; prints the statuses, sorted and counted.
guess() {
    n=$1 from=$2 user=$3 i=0
    while [ $i -lt "$n" ]; do
        curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 --interface "$from" --cacert "$T_TMP/root.pem" \
            --resolve "portal.contoso.com:30081:$portal" -H 'Content-Type: application/json' \
            -d "{\"user\":\"$user\",\"password\":\"guess$i\"}" https://portal.contoso.com:30081/api/login \
            >"$T_TMP/guess.$i" &
        i=$((i + 1))
    done
    wait
    cat "$T_TMP"/guess.* | sort | uniq -c | awk '{printf "%s %s;", $2, $1}'
    rm -f "$T_TMP"/guess.*
}
alice=$(pw alice) bob=$(pw bob)

# ---- parallel guessing locks alice out
src=$net.201
check_eq "12 wrong passwords for alice at once: all refused (401)" "401 12;" "$(guess 12 "$src" alice)"
check_eq "... alice is locked out (lab accounts --json)" true "$(locked alice)"
check_eq "... one 4740 'A user account was locked out.' naming alice, where the portal logs sign-ins" 1 \
    "$(events portal 4740 "A user account was locked out.%Account Name: alice.%Caller Computer Name: $src%")"
check "... lab accounts shows it" sh -c "'$WAPSIM' --lab '$L' lab accounts | grep '^alice ' | grep -q 'locked out until'"
check_eq "alice's right password is refused while she is locked out: 401" 401 "$(login "$net.202" alice "$alice")"
check "... saying the account is locked out" grep -q "currently locked out" "$T_TMP/login.body"
check_exit "... and connect stops at the portal (exit 1)" 1 W connect --tenant alice --vm web01
check "... with the portal's 401" grep -q "locked out" "$T_TMP/out"
check_eq "bob is not affected: 200" 200 "$(login "$net.202" bob "$bob")"

# ---- the lab clock ends the lockout
W clock advance 16m >/dev/null
check_eq "after clock advance 16m alice signs in with her right password: 200" 200 "$(login "$net.202" alice "$alice")"
check_eq "... and she is no longer locked out" false "$(locked alice)"

# ---- fewer than the threshold, or spread over more than the window, do not lock
guess 9 "$net.203" alice >/dev/null
W clock advance 16m >/dev/null
guess 9 "$net.203" alice >/dev/null
check_eq "9 bad passwords, 16 minutes, 9 more: not locked out (the count starts again)" false "$(locked alice)"

# ---- the operator unlocks
guess 10 "$net.204" alice >/dev/null
check_eq "10 more bad passwords lock alice again" true "$(locked alice)"
check_exit "lab accounts --unlock alice: exit 0" 0 W lab accounts --unlock alice
check_eq "... alice signs in: 200" 200 "$(login "$net.202" alice "$alice")"
check_eq "... 4767 'A user account was unlocked.' where 4740 was written" 1 \
    "$(events portal 4767 "A user account was unlocked.%Account Name: alice.")"
check_exit "lab accounts --unlock mallory: exit 2" 2 W lab accounts --unlock mallory
check "... one line naming mallory" sh -c "[ \$(wc -l <'$T_TMP/err') -eq 1 ] && grep -q \"unknown account 'mallory'\" '$T_TMP/err'"
W lab accounts --help >"$T_TMP/help" 2>&1
check "lab accounts --help explains --unlock" grep -q -- "--unlock NAME" "$T_TMP/help"
W lab accounts --unlock bob --json >"$T_TMP/unlock.json"
check_eq "lab accounts --unlock bob --json: was_locked_out false" 0 \
    "$(json_sql "$T_TMP/unlock.json" "SELECT json_extract(j,'$.was_locked_out') FROM doc")"

# ---- a failed sign-in is answered at once: no server thread sleeps on it
# The time from the TLS handshake's end to the answer, for 5 failures one after another
# (a second each when the portal slept 1 s per failure); the median must be short.
i=0
: >"$T_TMP/after-tls"
while [ $i -lt 5 ]; do
    curl -s -o /dev/null -w '%{time_appconnect} %{time_total}\n' --max-time 30 --interface "$net.209" \
        --cacert "$T_TMP/root.pem" --resolve "portal.contoso.com:30081:$portal" -H 'Content-Type: application/json' \
        -d '{"user":"nobody","password":"x"}' https://portal.contoso.com:30081/api/login >>"$T_TMP/after-tls"
    i=$((i + 1))
done
median=$(awk '{printf "%d\n", ($2 - $1) * 1000}' "$T_TMP/after-tls" | sort -n | sed -n 3p)
if [ "${median:-9999}" -lt 500 ]; then ok "a failed sign-in is answered at once (median ${median} ms after TLS; not 1 s)"
else not_ok "a failed sign-in is answered at once (median ${median:-?} ms after TLS, wanted under 500)"; fi

# ---- the per-source throttle: 429 with Retry-After
thr=$net.210
r1=$(guess 30 "$thr" nobody) r2=$(guess 30 "$thr" nobody)
echo "# 60 failed sign-ins from one address, in 2 waves: $r1 $r2"
case "$r2" in *"429 "*) ok "failed sign-ins from one address are throttled: 429 after about 20" ;;
*) not_ok "failed sign-ins from one address are throttled: 429 after about 20 (got $r1 $r2)" ;; esac
check_eq "a throttled address is refused even with the right password: 429" 429 "$(login "$thr" bob "$bob")"
check "... with Retry-After" grep -qi '^Retry-After: [1-9]' "$T_TMP/login.head"
check_eq "... another address signs in: 200" 200 "$(login "$net.211" bob "$bob")"
check_eq "... the portal logs the throttle once" 1 "$(events portal 429 "from $thr are refused")"
check_eq "an unknown name locks nothing (no 4740 for nobody)" 0 "$(events portal 4740 "Account Name: nobody.")"

# ---- a service account: SPF's password guessed at VMM
i=0
while [ $i -lt 10 ]; do
    curl -s -o /dev/null --interface "$spf" -u "CONTOSO\\svc-spf:wrong$i" -H 'Content-Type: application/json' \
        -d '{"vm":"x"}' "http://$vmm:8100/console"
    i=$((i + 1))
done
check_eq "10 wrong passwords for CONTOSO\\svc-spf at VMM lock it out" true "$(locked 'CONTOSO\svc-spf')"
check_eq "... 4740 in vmm01's Security log" 1 "$(events vmm01 4740 "Account Name: CONTOSO\\svc-spf.")"
check_exit "... so SPF cannot ask VMM: bob's connect fails (exit 1)" 1 W connect --tenant bob --vm app01
check_eq "... VMM logs the refusal as a lockout" 1 "$(events vmm01 1604 "_CONTOSO\\svc-spf_ is locked out")"
check_exit "lab accounts --unlock 'CONTOSO\\svc-spf'" 0 W lab accounts --unlock 'CONTOSO\svc-spf'
check_exit "... bob's connect works again" 0 W connect --tenant bob --vm app01
check_eq "... 4767 in vmm01's Security log" 1 "$(events vmm01 4767 "Account Name: CONTOSO\\svc-spf.")"


# ---- the administrator's path: CONTOSO\hvadmin's password guessed at a host
i=0
while [ $i -lt 10 ]; do W connect --admin --vm web01 --password "wrong$i" >/dev/null 2>&1; i=$((i + 1)); done
check_eq "10 wrong passwords for CONTOSO\\hvadmin at hv01 lock it out" true "$(locked 'CONTOSO\hvadmin')"
check_eq "... 4740 in hv01's Security log" 1 "$(events hv01 4740 "Account Name: CONTOSO\\hvadmin.")"
before=$(events hv01 14162 "_CONTOSO\\hvadmin_ is locked out")
check_exit "... its right password is refused: connect --admin exits 1" 1 W connect --admin --vm web01
check_eq "... hv01 says why (14162: locked out)" $((before + 1)) "$(events hv01 14162 "_CONTOSO\\hvadmin_ is locked out")"
W clock advance 16m >/dev/null
check_exit "... after clock advance 16m connect --admin works" 0 W connect --admin --vm web01
