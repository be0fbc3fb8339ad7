#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A hostile local user borrows a service's address: anyone on the computer can bind a
# socket to any 127/8 address, so VMM and the hosts' agents must ask for the calling
# service's account (CONTOSO\svc-spf, CONTOSO\svc-vmm), not trust the address alone.
# A lab made before the services had accounts still works after `up`.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is missing: install curl (make deps)"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >/dev/null 2>&1 || { not_ok "up"; exit 1; }
# The tenant's PC trusts the hosts' own certificates: no host-cert-untrusted warning in diagnose.
for h in hv01 hv02; do "$WAPSIM" --lab "$L" cert import $h-selfsigned --machine client --store Root --public-only >/dev/null 2>&1; done
db() { sqlite3 -batch -noheader "$L/lab.db" ".timeout 5000" "$@"; }
addr() { db "SELECT address FROM machines WHERE name='$1'"; }
spf=$(addr spf01) vmm=$(addr vmm01) hv=$(addr hv01)
vm=$(db "SELECT id FROM vms WHERE name='web01'")
tp=$(W cert show vmm-console --json 2>/dev/null | sed -n 's/.*"thumbprint":[[:space:]]*"\([0-9A-F]*\)".*/\1/p' | head -n 1)
W lab accounts --json >"$T_TMP/acc.json"
pw() { json_sql "$T_TMP/acc.json" "SELECT json_extract(value,'$.password') FROM doc, json_each(doc.j) WHERE json_extract(value,'$.account')='$1'"; }
events() { db "SELECT count(*) FROM events WHERE event_id=$1 AND text LIKE '%$2%'"; }

# vmm_console FROM [CURL ARGS...]: POST /console for web01 from address FROM; prints the status.
vmm_console() {
    from=$1; shift
    rm -f "$T_TMP/got.rdp"
    curl -s -o "$T_TMP/got.rdp" -w '%{http_code}' --interface "$from" "$@" -H 'Content-Type: application/json' \
        -d "{\"vm\":\"$vm\"}" "http://$vmm:8100/console"
}
is_rdp() { iconv -f UTF-16LE -t UTF-8 "$T_TMP/got.rdp" 2>/dev/null | grep -q '^gatewayaccesstoken:s:'; }

# ---- 1. VMM, asked from SPF's address
check_eq "VMM, from SPF's address without credentials: 401" 401 "$(vmm_console "$spf")"
check "... and no .rdp file" sh -c "! iconv -f UTF-16LE -t UTF-8 '$T_TMP/got.rdp' 2>/dev/null | grep -q '^gatewayaccesstoken:s:'"
check_eq "... and VMM's log says why" 1 "$(events 1604 "Refused a request from $spf: no credentials")"
check_eq "VMM, from SPF's address with a wrong password: 401" 401 "$(vmm_console "$spf" -u 'CONTOSO\svc-spf:wrong')"
if is_rdp; then not_ok "... and no .rdp file"; else ok "... and no .rdp file"; fi
check_eq "... and VMM's log names the account" 1 "$(events 1604 "bad credentials for _CONTOSO\\svc-spf_")"
check_eq "VMM, from SPF's address as the fabric administrator: 401 (not a service account)" 401 \
    "$(vmm_console "$spf" -u "CONTOSO\\hvadmin:$(pw 'CONTOSO\hvadmin')")"
check_eq "VMM, from SPF's address as VMM's own service account: 401 (not SPF's)" 401 \
    "$(vmm_console "$spf" -u "CONTOSO\\svc-vmm:$(pw 'CONTOSO\svc-vmm')")"
check_eq "... and VMM's log says whose account it is not" 1 "$(events 1604 "is not the service account of spf01")"
check_eq "VMM, from elsewhere with SPF's credentials: still 403 (the address is the second factor)" 403 \
    "$(vmm_console "$(addr client)" -u "CONTOSO\\svc-spf:$(pw 'CONTOSO\svc-spf')")"
check_eq "VMM, from SPF's address with SPF's service account: 200" 200 \
    "$(vmm_console "$spf" -u "CONTOSO\\svc-spf:$(pw 'CONTOSO\svc-spf')")"
check "... and a signed .rdp file" is_rdp

# ---- 2. a host's agent (WinRM, 5985), asked from VMM's address
agent() {
    from=$1; shift
    curl -s -o "$T_TMP/agent.json" -w '%{http_code}' --interface "$from" "$@" \
        "http://$hv:5985/wsman/console-trust?thumbprint=$tp"
}
check_eq "hv01's agent, from VMM's address without credentials: 401" 401 "$(agent "$vmm")"
check "... and no answer about trust" sh -c "! grep -q '\"trusted\"' '$T_TMP/agent.json'"
check_eq "... and hv01's log says why" 1 "$(events 14090 "Refused a management request from $vmm: no credentials")"
check_eq "hv01's agent, from VMM's address with a wrong password: 401" 401 "$(agent "$vmm" -u 'CONTOSO\svc-vmm:wrong')"
check_eq "hv01's agent, from VMM's address as SPF's service account: 401" 401 \
    "$(agent "$vmm" -u "CONTOSO\\svc-spf:$(pw 'CONTOSO\svc-spf')")"
check_eq "hv01's agent, from VMM's address with VMM's service account: 200" 200 \
    "$(agent "$vmm" -u "CONTOSO\\svc-vmm:$(pw 'CONTOSO\svc-vmm')")"

# ---- 3. the tenant's way still works, and diagnose still asks the hosts
check "alice connects to web01 through the portal, SPF, VMM and the gateway" \
    sh -c "'$WAPSIM' --lab '$L' connect --tenant alice --vm web01 >/dev/null 2>&1"
check "diagnose finds nothing wrong (it asks the hosts as VMM)" sh -c "'$WAPSIM' --lab '$L' diagnose >/dev/null 2>&1"
W down >/dev/null 2>&1

# ---- 4. a lab made before the services had accounts: `up` gives them one
db "DELETE FROM settings WHERE key IN ('service_account','service_password');
    DELETE FROM accounts WHERE name='CONTOSO\\svc-vmm'"
json_sql "$T_TMP/acc.json" "SELECT json_group_array(json(value)) FROM doc, json_each(doc.j)
    WHERE json_extract(value,'$.account')<>'CONTOSO\\svc-vmm'" >"$L/accounts.json"
W up >/dev/null 2>&1 || not_ok "up of an older lab"
check "alice connects to web01 in a lab made before the services had accounts" \
    sh -c "'$WAPSIM' --lab '$L' connect --tenant alice --vm web01 >/dev/null 2>&1"
check_eq "... VMM made its account, and SPF took its password from the owner's accounts.json" \
    "CONTOSO\\svc-spf|CONTOSO\\svc-vmm|service" \
    "$(db "SELECT (SELECT value FROM settings WHERE scope='spf01' AND key='service_account') || '|' ||
                  (SELECT value FROM settings WHERE scope='vmm01' AND key='service_account') || '|' ||
                  (SELECT role FROM accounts WHERE name='CONTOSO\\svc-vmm')")"
W lab accounts --json >"$T_TMP/acc2.json"
check_eq "... and lab accounts lists the new account's password" 1 \
    "$(json_sql "$T_TMP/acc2.json" "SELECT count(*) FROM doc, json_each(doc.j) WHERE json_extract(value,'$.account')='CONTOSO\\svc-vmm' AND length(json_extract(value,'$.password'))>=12")"
W down >/dev/null 2>&1
