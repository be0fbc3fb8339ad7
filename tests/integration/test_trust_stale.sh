#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Pitfall 7, hosts that keep the old thumbprint: a Hyper-V host checks VMTokens against the
# TrustedIssuerCertificateHashes its Hyper-V Virtual Machine Management service (VMMS) loaded
# when it started (host/trust.h); Read-SCVMHost (vmm refresh-host) changes the configured list,
# which WMI and the host's agent show at once, but the running service keeps its loaded list
# until `service restart` (marcvaneijk.com 2013-09-10: restart VMMS on each host after the
# certificate change; REFERENCE.md section 9; the loaded list is the lab's model). diagnose
# names it from the evidence an administrator has: the service's start (System 7036) older than
# the list's change (14170). A refresh that changes nothing needs no restart; a list changed and
# changed back is the one the service runs with; a host not refreshed at all is one finding,
# not two.
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
W() { "$WAPSIM" --lab "$L" "$@" >/dev/null 2>&1 </dev/null; }
tp() { "$WAPSIM" --lab "$L" cert show "$1" --json >"$T_TMP/tp.json" 2>/dev/null &&
       json_sql "$T_TMP/tp.json" "SELECT json_extract(j,'$.thumbprint') FROM doc"; }
# conn VM TENANT: connect --json into $T_TMP/c.json; prints "ok|stage|code".
conn() {
    "$WAPSIM" --lab "$L" connect --tenant "$2" --vm "$1" --json >"$T_TMP/c.json" 2>/dev/null </dev/null
    json_sql "$T_TMP/c.json" "SELECT json_extract(j,'$.ok') || '|' || json_extract(j,'$.stage') || '|' ||
                              coalesce(json_extract(j,'$.code'), 'null') FROM doc"
}
# diag: the error findings as "id@machine ..." (sorted), into $got; the JSON in $T_TMP/d.json.
diag() {
    "$WAPSIM" --lab "$L" diagnose --json >"$T_TMP/d.json" 2>/dev/null </dev/null
    got=$(json_sql "$T_TMP/d.json" "SELECT coalesce(group_concat(x, ' '), '') FROM (SELECT
          json_extract(value,'$.id') || '@' || json_extract(value,'$.machine') AS x
          FROM doc, json_each(json_extract(j,'$.findings'))
          WHERE json_extract(value,'$.severity') = 'error' ORDER BY x)")
}
# finding_of MACHINE KEY: that machine's host-trust-list-stale finding's KEY (fix: the lines).
finding_of() {
    json_sql "$T_TMP/d.json" "SELECT json_extract(value,'$.$2') FROM doc, json_each(json_extract(j,'$.findings'))
              WHERE json_extract(value,'$.id') = 'host-trust-list-stale' AND json_extract(value,'$.machine') = '$1'"
}
newest_event() { # newest_event MACHINE ID: its text
    sqlite3 "$L/lab.db" ".timeout 5000" "SELECT text FROM events WHERE machine='$1' AND event_id=$2 ORDER BY id DESC LIMIT 1"
}

new_lab "$L" && W up || { not_ok "lab init and up"; exit 1; }
check_eq "the default lab: web01 (hv01) opens" "1|console|0" "$(conn web01 alice)"

# ---- a new console certificate, set up everywhere and every host refreshed, no restart
W cert new console-2 --subject "CN=Remote Console Connect" --self-signed --eku clientAuth \
    --key-usage digitalSignature --csp "Microsoft Enhanced RSA and AES Cryptographic Provider" --days 365
W cert import console-2 --machine vmm01 --store My
for m in hv01 hv02 rdgw01; do W cert import console-2 --machine $m --store Root --public-only; done
W cert import console-2 --machine rdgw01 --store My --public-only
W gateway set --add-trusted-issuer console-2
W vmm set --gateway-cert console-2 --hyperv-cert console-2
OLD=$(tp vmm-console) NEW=$(tp console-2)
W vmm refresh-host --all
check_eq "refresh-host --all: each host's configured list is the new thumbprint" "$NEW|$NEW" \
    "$(sqlite3 "$L/lab.db" ".timeout 5000" "SELECT group_concat(thumbprint, '|') FROM (SELECT thumbprint FROM trusted_issuers
        WHERE machine IN ('hv01','hv02') ORDER BY machine)")"

# The agent answers VMM from the configured list, as WMI shows it.
if command -v curl >/dev/null 2>&1; then
    addr() { sqlite3 "$L/lab.db" ".timeout 5000" "SELECT address FROM machines WHERE name='$1'"; }
    vmmpw=$(sqlite3 "$L/lab.db" ".timeout 5000" "SELECT value FROM settings WHERE scope='vmm01' AND key='service_password'")
    curl -s --interface "$(addr vmm01)" -u "CONTOSO\\svc-vmm:$vmmpw" \
        "http://$(addr hv01):5985/wsman/console-trust-settings?thumbprint=$NEW" >"$T_TMP/agent.json"
    check_eq "hv01's agent reports the configured list (the new thumbprint) and trusts it" "[\"$NEW\"]|1|1" \
        "$(json_sql "$T_TMP/agent.json" "SELECT json_extract(j,'$.trusted_issuer_certificate_hashes') || '|' ||
              json_extract(j,'$.in_trusted_issuers') || '|' || json_extract(j,'$.trusted') FROM doc")"
else
    skip "curl is missing: the agent's answer is not checked"
fi

# The running services still check against the list they loaded: the old thumbprint.
check_eq "web01 (hv01, not restarted): the gateway admits it, the host refuses the VMToken (RDSTLS 0x5)" \
    "0|host-auth|5" "$(conn web01 alice)"
check "... hv01's event 14162 names the new signer and the list its service loaded at start" sh -c "
    newest_text=\$(sqlite3 '$L/lab.db' \".timeout 5000\" \"SELECT text FROM events WHERE machine='hv01' AND event_id=14162 ORDER BY id DESC LIMIT 1\")
    case \"\$newest_text\" in *$NEW*'loaded when it started'*) exit 0;; esac; exit 1"
check "... while VMM issued the token (no 12003 refusal)" test -z "$(newest_event vmm01 12003)"
check_eq "db01 (hv02, not restarted either) fails the same way" "0|host-auth|5" "$(conn db01 alice)"

diag
check_eq "diagnose: host-trust-list-stale on hv01 and on hv02, nothing else" \
    "host-trust-list-stale@hv01 host-trust-list-stale@hv02" "$got"
finding_of hv01 evidence >"$T_TMP/ev"
check "... the evidence: the service's start (7036) before the list's change (14170), from the old thumbprint" \
    grep -q "7036.*14170.*$OLD" "$T_TMP/ev"
check_eq "... the fix: restart hv01's service, in wapsim and in PowerShell" \
    "[\"wapsim service restart hv01\",\"PowerShell: Restart-Service vmms   # on hv01.fabric.contoso.local\"]" \
    "$(finding_of hv01 fix)"

# ---- the restart picks the list up
W service restart hv01
check_eq "service restart hv01: web01 opens" "1|console|0" "$(conn web01 alice)"
check_eq "... db01 (hv02) still fails" "0|host-auth|5" "$(conn db01 alice)"
diag
check_eq "... diagnose: hv02 only" "host-trust-list-stale@hv02" "$got"

# ---- a refresh that changes nothing needs no restart
W vmm refresh-host hv01
check_eq "refresh-host hv01 again (list unchanged): web01 still opens" "1|console|0" "$(conn web01 alice)"
diag
check_eq "... and hv01 is no finding" "host-trust-list-stale@hv02" "$got"

# ---- changed and changed back: hv02's service runs with the list it has again
W vmm set --gateway-cert vmm-console --hyperv-cert vmm-console
W vmm refresh-host hv02
check_eq "VMM back to vmm-console, hv02 refreshed to it (its loaded list): db01 opens, no restart" \
    "1|console|0" "$(conn db01 alice)"
diag
check_eq "... diagnose: hv02 no finding; hv01 (configured console-2) one finding, not two" \
    "host-trust-list-stale@hv01" "$got"
check "... whose repair is the refresh, then the restart" sh -c "
    case '$(finding_of hv01 fix)' in *'wapsim vmm refresh-host hv01'*'wapsim service restart hv01'*'Restart-Service vmms'*) exit 0;; esac
    exit 1"
W vmm refresh-host hv01
diag
check_eq "refresh-host hv01 without the restart: still host-trust-list-stale on hv01 (its service loaded console-2)" \
    "host-trust-list-stale@hv01" "$got"
check "... now with the restart alone as its repair" sh -c "
    case '$(finding_of hv01 fix)' in *refresh-host*) exit 1;; *'wapsim service restart hv01'*) exit 0;; esac; exit 1"
check_eq "... web01 fails at the host meanwhile" "0|host-auth|5" "$(conn web01 alice)"
W service restart hv01
diag
check_eq "service restart hv01: no findings" "" "$got"
check_eq "... web01 opens" "1|console|0" "$(conn web01 alice)"

# ---- a host restarted by its supervisor (a crash) loads the list too
W vmm set --gateway-cert console-2 --hyperv-cert console-2
W vmm refresh-host --all
pid=$(sqlite3 "$L/lab.db" ".timeout 5000" "SELECT pid FROM processes WHERE machine='hv02'")
kill "$pid" 2>/dev/null
i=0
while [ $i -lt 100 ]; do
    now=$(sqlite3 "$L/lab.db" ".timeout 5000" "SELECT pid FROM processes WHERE machine='hv02'")
    [ -n "$now" ] && [ "$now" != "$pid" ] && "$WAPSIM" --lab "$L" status >/dev/null 2>&1 && break
    sleep 0.2; i=$((i + 1))
done
check_eq "hv02 killed and started again by the supervisor: db01 opens with console-2" "1|console|0" "$(conn db01 alice)"
diag
check_eq "... diagnose: hv01 only (not restarted)" "host-trust-list-stale@hv01" "$got"
"$WAPSIM" --lab "$L" diagnose --fix >"$T_TMP/fix.out" 2>&1 </dev/null; rc=$?
check_eq "diagnose --fix repairs it (restarts hv01's service): exit 0" 0 "$rc"
check "... running wapsim service restart hv01" grep -q '^wapsim service restart hv01' "$T_TMP/fix.out"
check_eq "... web01 opens" "1|console|0" "$(conn web01 alice)"

W down
echo "1..$T_N"
