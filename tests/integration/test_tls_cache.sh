#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# TLS trust cached per machine (svc/machine_tls.h): a process keeps a machine's Root store,
# and a client context built from it, while that machine's stores are unchanged (the change
# counter of state file migration 7, lab/store.h ws_store_generation). What a tenant sees must
# not change: a client trusts what its Root store holds now, on its lab clock now. In one
# running lab: the portal (a long-running process whose trust of SPF is cached) and the
# tenant's PC lose the lab root and get it back, and a clock moves past a certificate's
# expiry; each next connect fails at once at the same stage with the same error as without
# a cache (the values below are what wapsim printed before the cache existed), and works
# again once repaired. The portal keeps its connections to SPF alive (svc/httpc.h: a pool,
# as the real tenant site's .NET client does), and a connection already open is not checked
# again; so after each change to the portal's trust SPF restarts, which closes them, and the
# portal's next call is a new connection judged on its cached trust.
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
W() { "$WAPSIM" --lab "$L" "$@" >/dev/null 2>&1 </dev/null; }
# conn: connect web01 as alice; prints "ok|stage|code|message".
conn() {
    "$WAPSIM" --lab "$L" connect --tenant alice --vm web01 --json >"$T_TMP/c.json" 2>/dev/null </dev/null
    json_sql "$T_TMP/c.json" "SELECT json_extract(j,'$.ok') || '|' || json_extract(j,'$.stage') || '|' ||
                              coalesce(json_extract(j,'$.code'), 'null') || '|' ||
                              coalesce(json_extract(j,'$.message'), '') FROM doc"
}
# gen MACHINE: the machine's store change counter, read as a process reads it.
gen() {
    sqlite3 "$L/lab.db" ".timeout 5000" "SELECT coalesce((SELECT generation FROM store_generations WHERE machine = '$1'),
                                         (SELECT generation FROM store_generations WHERE machine = ''))"
}
OK="1|console|0|connected"
NO_ISSUER="SSL certificate problem: unable to get local issuer certificate"
EXPIRED="SSL certificate problem: certificate has expired"
SPF_502="0|portal|502|the browser received HTTP 502 (application/json; charset=utf-8) instead of an .rdp file:"

new_lab "$L" && W up || { not_ok "lab init and up"; exit 1; }
check_eq "the default lab opens web01's console" "$OK" "$(conn)"
check_eq "... and again, on the portal's cached trust" "$OK" "$(conn)"

# ---- the portal loses the lab root: its next call to SPF fails at once
before=$(gen portal) client_before=$(gen client)
W cert remove lab-root-ca --machine portal --store Root
W service restart spf01
check "cert remove moves the portal's store counter" test "$(gen portal)" -gt "$before"
check_eq "... and no other machine's" "$client_before" "$(gen client)"
check_eq "the portal without the lab root: SPF's certificate is not trusted (HTTP 502)" \
    "$SPF_502 {\"error\":\"$NO_ISSUER\"}" "$(conn)"
W cert import lab-root-ca --machine portal --store Root --public-only
check_eq "the root back in the portal's Root store: the console opens" "$OK" "$(conn)"

# ---- the tenant's PC loses the lab root
W cert remove lab-root-ca --machine client --store Root
check_eq "the PC without the lab root: the browser does not trust the portal" \
    "0|portal|null|the browser could not reach the portal: $NO_ISSUER" "$(conn)"
W cert import lab-root-ca --machine client --store Root --public-only
check_eq "the root back on the PC: the console opens" "$OK" "$(conn)"

# ---- the clock: the portal's own clock past SPF's certificate's expiry (a year), then back
W clock skew portal 400d
W service restart spf01
check_eq "the portal's clock 400 days ahead: SPF's certificate has expired for it" \
    "$SPF_502 {\"error\":\"$EXPIRED\"}" "$(conn)"
W clock skew portal 0
check_eq "the portal's clock back: the console opens" "$OK" "$(conn)"
W clock advance 400d
check_eq "the lab clock 400 days on: the browser finds the portal's certificate expired" \
    "0|portal|null|the browser could not reach the portal: $EXPIRED" "$(conn)"
