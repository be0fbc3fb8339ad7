#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue 15, done-when 2: a customer's deployment made only with the openssl command line
# and a hand-written deployment.json (tests/data/deployment-fabrikam: make-certs.sh tells
# its story) loads from a folder, a .tar.gz and a .zip; the lab it becomes shows the
# customer's symptom and diagnose names exactly its two faults:
#   - vmm-cert-csp at fabvmm01: the renewed console certificate's key is in "Microsoft
#     Strong Cryptographic Provider" (PROV_RSA_FULL), which cannot sign SHA-256, so every
#     console request ends at the portal with a JSON file, HTTP 500 (mistake m2's stage
#     and code: scenarios/m2-wrong-csp.scn);
#   - gateway-issuer-not-trusted at fabrdgw01 and at fabrdgw02: both still register the
#     old certificate's thumbprint, which no certificate in the file (nor the lab) has
#     (scenarios m3a, p1: one finding per gateway, at the member).
# Nothing else, warnings included: everything else in the file is healthy.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
data=$top/tests/data/deployment-fabrikam
command -v python3 >/dev/null 2>&1 || skip_all "python3 is needed to read the JSON answers"

# The file's facts, read from it rather than repeated here.
py() { python3 -c "$1" "$data/deployment.json"; }
OLD=$(py 'import json,sys; d=json.load(open(sys.argv[1])); print([m for m in d["machines"] if m["role"]=="gateway"][0]["trusted_issuers"][0])')
NEW=$(py 'import json,sys; d=json.load(open(sys.argv[1])); print([m for m in d["machines"] if m["role"]=="vmm"][0]["vmm"]["gateway_certificate"])')
# "TENANT VM" per line, every VM of every host.
py 'import json,sys
d=json.load(open(sys.argv[1]))
for m in d["machines"]:
    for v in m.get("vms", []): print(v["tenant"], v["name"])' >"$T_TMP/vms"
# "THUMBPRINT FILE-STEM" of each certificate file the stores name.
py 'import json,sys,os
d=json.load(open(sys.argv[1])); seen={}
for m in d["machines"]:
    for entries in m.get("stores", {}).values():
        for e in entries: seen[e["thumbprint"].upper()] = os.path.splitext(os.path.basename(e["file"]))[0]
for t in sorted(seen): print(t, seen[t])' >"$T_TMP/certs"
collected=$(date -u -d "$(py 'import json,sys; print(json.load(open(sys.argv[1]))["collected_at"])')" +%s)
EXPECTED="gateway-issuer-not-trusted@fabrdgw01 gateway-issuer-not-trusted@fabrdgw02 vmm-cert-csp@fabvmm01"

# The archives a customer would send: deployment.json and certs/ at the top.
tar -czf "$T_TMP/fabrikam.tar.gz" -C "$data" deployment.json certs
python3 - "$data" "$T_TMP/fabrikam.zip" <<'EOF'
import os, sys, zipfile
top, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    z.write(os.path.join(top, "deployment.json"), "deployment.json")
    for f in sorted(os.listdir(os.path.join(top, "certs"))):
        z.write(os.path.join(top, "certs", f), "certs/" + f)
EOF

# jget FILE EXPR: a Python expression on the JSON in FILE (as d), printed.
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null; }

one_form() { # one_form FORM SOURCE
    form=$1 src=$2
    lab=$T_TMP/lab-$form
    T_LABS="$T_LABS $lab"
    "$WAPSIM" lab init "$lab" --from "$src" --json >"$T_TMP/init.json" 2>"$T_TMP/init.err"
    rc=$?
    check_eq "$form: lab init --from exits 0" 0 "$rc"
    if [ "$rc" != 0 ]; then
        echo "# $(head -c 400 "$T_TMP/init.err")"
        return
    fi
    W="$WAPSIM --lab $lab"

    # Stand-ins: one per certificate file, named after its stem, keeping the customer's
    # thumbprint; the old VMM thumbprint is the one unknown.
    check_eq "$form: a stand-in for each certificate file, named after the file, with its thumbprint kept" \
        "$(cat "$T_TMP/certs")" \
        "$(jget "$T_TMP/init.json" '"\n".join(sorted(s["original_thumbprint"].upper() + " " + s["name"] for s in d["standins"]))')"
    check_eq "$form: each stand-in has a thumbprint of its own (a new key)" "" \
        "$(jget "$T_TMP/init.json" '" ".join(s["name"] for s in d["standins"] if s["thumbprint"].upper() == s["original_thumbprint"].upper())')"
    check_eq "$form: the gateways' old thumbprint is the one unknown thumbprint" "$OLD" \
        "$(jget "$T_TMP/init.json" '" ".join(sorted(set(t.upper() for t in [u["thumbprint"] for u in d["unknown_thumbprints"]])))')"

    check_exit "$form: up" 0 $W up --timeout 60

    # The lab clock starts at the collection time (the certificates are as valid as they were).
    $W clock show --json >"$T_TMP/clock.json" 2>/dev/null
    now=$(jget "$T_TMP/clock.json" 'd["lab_time_unix"]')
    check "$form: the lab clock starts at collected_at (2026-02-16T10:42:00Z; lab time $now)" \
        test "${now:-0}" -ge "$collected" -a "${now:-0}" -lt $((collected + 3600))
    check_eq "$form: the clock offsets the file gives (fabhv03 +2 s, fabrdgw02 -1 s)" "2 -1" \
        "$(jget "$T_TMP/clock.json" '" ".join(str(m["skew_seconds"]) for n in ("fabhv03", "fabrdgw02") for m in d["machines"] if m["name"] == n)')"

    # Providers and key access as the file recorded them.
    $W cert show console-connect-2025 --json >"$T_TMP/vmmcert.json" 2>/dev/null
    check_eq "$form: VMM's certificate keeps its provider" "Microsoft Strong Cryptographic Provider" \
        "$(jget "$T_TMP/vmmcert.json" 'd["csp"]')"
    check_eq "$form: fabvmm01 holds its key, SYSTEM and Administrators Full Control (certutil's list)" \
        "NT AUTHORITY\\SYSTEM=Full Control,BUILTIN\\Administrators=Full Control" \
        "$(jget "$T_TMP/vmmcert.json" '",".join(a["account"] + "=" + a["rights"] for s in d["stores"] if s["machine"] == "fabvmm01" and s["store"] == "My" and s["has_private_key"] for a in s["key_access"])')"
    $W cert show console-fabrikam-net --json >"$T_TMP/gwcert.json" 2>/dev/null
    check_eq "$form: both gateways' TLS keys are readable by NETWORK SERVICE" "fabrdgw01 fabrdgw02" \
        "$(jget "$T_TMP/gwcert.json" '" ".join(sorted(s["machine"] for s in d["stores"] if s["has_private_key"] and any(a["account"] == "NT AUTHORITY\\NETWORK SERVICE" and a["rights"] == "Read" for a in (s["key_access"] or []))))')"
    check "$form: cert show names the customer's thumbprint of VMM's certificate" \
        sh -c "$W cert show console-connect-2025 | grep -F '$NEW' >/dev/null"

    # Each VM as its tenant: VMM cannot sign, so the browser gets JSON (m2's stage and code).
    while read -r tenant vm; do
        $W connect --tenant "$tenant" --vm "$vm" --json >"$T_TMP/connect.json" 2>/dev/null
        check_eq "$form: $tenant connects to $vm: stops at the portal, HTTP 500 (JSON instead of an .rdp file)" \
            "false portal 500 JSON" \
            "$(jget "$T_TMP/connect.json" '"%s %s %s %s" % ("true" if d["ok"] is True else "false", d["stage"], d["code"], "JSON" if "instead of an .rdp file" in d["message"] else "-")')"
    done <"$T_TMP/vms"
    check "$form: fabvmm01's trace says Invalid algorithm specified (REFERENCE.md section 6)" \
        sh -c "$W logs --machine fabvmm01 --channel Trace | grep -F 'Exception Message=Invalid algorithm specified.' >/dev/null"

    # The diagnosis: exactly the two faults, the gateway one at each member.
    $W diagnose --json >"$T_TMP/diag.json" 2>/dev/null
    check_eq "$form: diagnose names exactly vmm-cert-csp@fabvmm01 and gateway-issuer-not-trusted at each gateway" \
        "$EXPECTED" "$(jget "$T_TMP/diag.json" '" ".join(sorted(f["id"] + "@" + f["machine"] for f in d["findings"]))')"
    for gw in fabrdgw01 fabrdgw02; do
        ev=$(jget "$T_TMP/diag.json" '" ".join(f["evidence"] for f in d["findings"] if f["id"] == "gateway-issuer-not-trusted" and f["machine"] == "'$gw'")')
        check "$form: $gw's evidence names the registered old thumbprint, which no certificate in the lab has" \
            sh -c "printf '%s' \"\$1\" | grep -qF '$OLD (no certificate in the lab has it)'" - "$ev"
        check "$form: $gw's evidence names VMM's certificate as the stand-in for the customer's $NEW" \
            sh -c "printf '%s' \"\$1\" | grep -qF 'stand-in for $NEW'" - "$ev"
    done
    ev=$(jget "$T_TMP/diag.json" '" ".join(f["evidence"] for f in d["findings"] if f["id"] == "vmm-cert-csp")')
    check "$form: vmm-cert-csp's evidence names the provider and the customer's thumbprint" \
        sh -c "printf '%s' \"\$1\" | grep -qF 'Microsoft Strong Cryptographic Provider' &&
               printf '%s' \"\$1\" | grep -qF 'stand-in for $NEW'" - "$ev"

    $W down >/dev/null 2>&1
}

one_form folder "$data"
one_form tar.gz "$T_TMP/fabrikam.tar.gz"
one_form zip "$T_TMP/fabrikam.zip"

echo "1..$T_N"
