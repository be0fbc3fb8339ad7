#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# diagnose's HTTPS hops before the .rdp file (sim/train/diag_https.c): the tenant's browser
# must accept the tenant site's certificate, the tenant site SPF's. Each as a scenario a
# trainer would write (the symptom, the finding at the caller's machine), then the finding's
# own first fix line, run as given, must repair the lab.
. "$(dirname "$0")/lib.sh"

cat >"$T_TMP/portal-spf.scn" <<'EOF'
# The tenant site does not trust SPF's certificate.
title   The portal's Root store lacks the root that issued SPF's certificate
tags    portal, spf, tls, certificates
doc     The tenant site calls SPF over HTTPS and verifies its certificate against the portal
        machine's Root store. Without the issuing root, Connect > Console gets HTTP 502 from
        the tenant site before VMM is asked for a token.

step cert remove lab-root-ca --machine portal --store Root
connect tenant=alice vm=web01
expect connect.ok = false
expect connect.stage = portal
expect portal.status = 502
expect diagnose = spf-cert-untrusted

step cert import lab-root-ca --machine portal --store Root --public-only
connect tenant=alice vm=web01
expect connect.ok = true
expect diagnose = none
EOF
check_exit "scenario: the portal without SPF's root: HTTP 502 on Connect, spf-cert-untrusted; the root back repairs it" 0 \
    "$WAPSIM" scenario run "$T_TMP/portal-spf.scn"

# The tenant's PC without the lab root: the browser refuses the portal (and the PC the gateway).
L=$T_TMP/lab
new_lab "$L" >/dev/null
"$WAPSIM" --lab "$L" up >/dev/null 2>&1
"$WAPSIM" --lab "$L" cert remove lab-root-ca --machine client --store Root >/dev/null
"$WAPSIM" --lab "$L" connect --tenant alice --vm web01 --json >"$T_TMP/c.json" 2>/dev/null
check_eq "without the root the tenant's browser stops at the portal" "portal" "$(json_sql "$T_TMP/c.json" "SELECT json_extract(j, '\$.stage') FROM doc")"
"$WAPSIM" --lab "$L" diagnose --json >"$T_TMP/d.json" 2>/dev/null
check_eq "diagnose: portal-cert-untrusted on the client (beside gateway-cert-untrusted)" \
    "gateway-cert-untrusted@client portal-cert-untrusted@client" \
    "$(json_sql "$T_TMP/d.json" "SELECT group_concat(x, ' ') FROM (SELECT json_extract(value, '\$.id') || '@' ||
        json_extract(value, '\$.machine') AS x FROM doc, json_each(json_extract(j, '\$.findings'))
        WHERE json_extract(value, '\$.severity') = 'error' ORDER BY x)")"
fix=$(json_sql "$T_TMP/d.json" "SELECT json_extract(value, '\$.fix[0]') FROM doc, json_each(json_extract(j, '\$.findings'))
    WHERE json_extract(value, '\$.id') = 'portal-cert-untrusted'")
check_eq "its first fix imports the lab root into the client's Root store" \
    "wapsim cert import lab-root-ca --machine client --store Root --public-only" "$fix"
# shellcheck disable=SC2086 # the fix line is words, as the operator would type them
"$WAPSIM" --lab "$L" ${fix#wapsim } >/dev/null 2>&1
"$WAPSIM" --lab "$L" connect --tenant alice --vm web01 --json >"$T_TMP/c2.json" 2>/dev/null
check_eq "after the fix the console opens" "1" "$(json_sql "$T_TMP/c2.json" "SELECT json_extract(j, '\$.ok') FROM doc")"
"$WAPSIM" --lab "$L" diagnose --json >"$T_TMP/d2.json" 2>/dev/null
check_eq "after the fix no error is left" "0" "$(json_sql "$T_TMP/d2.json" "SELECT count(*) FROM doc, json_each(json_extract(j, '\$.findings'))
    WHERE json_extract(value, '\$.severity') = 'error'")"
