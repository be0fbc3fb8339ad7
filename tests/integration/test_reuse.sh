#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Connections kept alive and credentials cached, as the real chain does (issue 16): the
# tenant's browser makes one TLS connection to the portal per visit (not one per request),
# the portal keeps its connections to SPF in a pool (a console request and the next
# tenant's reuse one), SPF keeps its connection to VMM, and a server keeps an
# authenticated connection past the deadline of a silent one. Counted where it happens:
# the browser's own count (`connect --json` portal_connections) and each server's
# run/<machine>.counters (connections that carried a request, and requests). A pooled
# connection outlives a change of the portal's Root store, a new one is verified against
# the store as it is now; a changed password is refused at once, though SPF caches
# verified credentials (IIS's token cache).
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
db() { sqlite3 -batch -noheader "$L/lab.db" ".timeout 5000" "$@"; }
W up >"$T_TMP/up.out" 2>&1 || { not_ok "up ($(head -c 300 "$T_TMP/up.out"))"; exit 1; }

# counter MACHINE KEY: the server's count now (its file is rewritten at most once a second).
counter() {
    json_sql "$L/run/$1.counters" "SELECT coalesce(json_extract(j,'\$.$2'), -1) FROM doc" 2>/dev/null || echo -1
}
settle() { sleep 1.3; }
connect() { # connect N: N sequential connects of alice to web01; prints each one's ok|portal_connections
    i=0
    while [ $i -lt "$1" ]; do
        W connect --tenant alice --vm web01 --json >"$T_TMP/c.json" 2>"$T_TMP/c.err"
        json_sql "$T_TMP/c.json" "SELECT json_extract(j,'\$.ok') || '|' || json_extract(j,'\$.portal_connections') FROM doc"
        i=$((i + 1))
    done
}

check_exit "a first connect (the pool fills)" 0 W connect --tenant alice --vm web01
settle
p0=$(counter portal connections_total) pr0=$(counter portal requests_total)
s0=$(counter spf01 connections_total) sr0=$(counter spf01 requests_total)
v0=$(counter vmm01 connections_total)
check "the portal, SPF and VMM count their connections (run/MACHINE.counters: $p0, $s0, $v0)" \
    test "$p0" -ge 1 -a "$s0" -ge 1 -a "$v0" -ge 1

# ---- 1. three connects: one TLS connection each to the portal, none new to SPF or VMM
check_eq "3 connects: each succeeds over one browser connection to the portal (was 3 a visit)" \
    "1|1 1|1 1|1" "$(connect 3 | tr '\n' ' ' | sed 's/ $//')"
settle
p1=$(counter portal connections_total) pr1=$(counter portal requests_total)
s1=$(counter spf01 connections_total) sr1=$(counter spf01 requests_total)
v1=$(counter vmm01 connections_total)
echo "# portal: $((p1 - p0)) connections for $((pr1 - pr0)) requests; spf01: $((s1 - s0)) for $((sr1 - sr0)); vmm01: $((v1 - v0)) new"
check_eq "... the portal counted 3 connections for 9 requests (sign-in, VM list, console each)" "3 9" \
    "$((p1 - p0)) $((pr1 - pr0))"
check_eq "... SPF counted no new connection for the portal's 9 requests (was 9: a list, then list and VMConnection)" \
    "0 9" "$((s1 - s0)) $((sr1 - sr0))"
check_eq "... and VMM none for SPF's 3 requests" 0 "$((v1 - v0))"

# ---- 2. idle past a silent client's deadline (10 s): an authenticated connection stays
sleep 12
check_eq "after 12 s idle, a connect succeeds" "1|1" "$(connect 1)"
settle
check_eq "... over the portal's kept connection to SPF (no new one)" "$s1" "$(counter spf01 connections_total)"

# ---- 3. SPF restarted: its pooled connections are gone; the next request opens a new one
W service restart spf01 >/dev/null 2>&1
check_eq "SPF restarted: the next connect succeeds (a closed pooled connection is replaced)" "1|1" "$(connect 1)"
settle
check_eq "... over one new connection" 1 "$(counter spf01 connections_total)"

# ---- 4. a changed password is refused at once, though SPF cached the old one
old=$(db "SELECT value FROM settings WHERE scope='portal' AND key='spf_password'")
W lab accounts --json >"$T_TMP/acc.json"
bob=$(json_sql "$T_TMP/acc.json" "SELECT json_extract(value,'\$.password') FROM doc, json_each(doc.j) WHERE json_extract(value,'\$.account')='bob'")
# Set-ADAccountPassword: svc-spf's password becomes bob's (its hash copied).
db "UPDATE accounts SET password_hash = (SELECT password_hash FROM accounts WHERE name='bob') WHERE name='CONTOSO\\svc-spf'"
W connect --tenant alice --vm web01 --json >"$T_TMP/c.json" 2>/dev/null
check_eq "svc-spf's password changed: the portal's old one is refused at the next request" "0|portal" \
    "$(json_sql "$T_TMP/c.json" "SELECT json_extract(j,'\$.ok') || '|' || json_extract(j,'\$.stage') FROM doc")"
check_eq "... SPF logged 401 for CONTOSO\\svc-spf" 1 \
    "$(db "SELECT count(*) FROM events WHERE machine='spf01' AND event_id=401 AND text LIKE '%bad credentials for ''CONTOSO\\svc-spf''%'")"
db "UPDATE settings SET value='$bob' WHERE key IN ('spf_password','service_password') AND value='$old'"
check_eq "the new password given to the portal and SPF: connects again" "1|1" "$(connect 1)"

# ---- 5. a pooled connection outlives a Root store change; a new connection does not
W cert remove lab-root-ca --machine portal --store Root >/dev/null 2>&1 || not_ok "cert remove"
check_eq "lab-root-ca out of the portal's Root store: the pooled connection to SPF still serves" "1|1" "$(connect 1)"
W service restart spf01 >/dev/null 2>&1
W connect --tenant alice --vm web01 --json >"$T_TMP/c.json" 2>/dev/null
check_eq "... once SPF restarts, the portal's new connection is verified and refused (the browser gets 502)" \
    "0|portal|502" "$(json_sql "$T_TMP/c.json" "SELECT json_extract(j,'\$.ok') || '|' || json_extract(j,'\$.stage') || '|' || json_extract(j,'\$.code') FROM doc")"
check "... naming the portal's certificate problem" grep -q "SSL certificate problem: unable to get local issuer" \
    "$T_TMP/c.json"
W cert import lab-root-ca --machine portal --store Root --public-only >/dev/null 2>&1 || not_ok "cert import"
check_eq "lab-root-ca back: the next connect succeeds, no restart needed" "1|1" "$(connect 1)"

check_exit "every component still runs (status)" 0 W status
W down >/dev/null 2>&1
exit 0
