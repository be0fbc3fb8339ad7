#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Stand-ins in evidence (issue 15): a stand-in certificate (lab init --from remakes each
# customer certificate with a new key, keeping its thumbprint as original_thumbprint)
# shows both thumbprints in cert show ("Stand-in for: ORIG", "original_thumbprint"),
# is marked in cert list, and diagnose evidence that names a thumbprint says
# "TP (stand-in for ORIG)", or "TP (no certificate in the lab has it)" for one no
# certificate has. The stand-in is made here by hand: certificates.original_thumbprint
# set on the default lab's vmm-console (what lab init --from records).
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init: $(tail -n 1 "$T_TMP/init.out")"; exit 0; }
"$WAPSIM" --lab "$L" up >/dev/null 2>&1 || { not_ok "the lab comes up"; exit 0; }
ORIG=8F3A0C5E1D2B3A4958677685940A1B2C3D4E5F60
GONE=0123456789ABCDEF0123456789ABCDEF01234567
TP=$(sqlite3 "$L/lab.db" "SELECT thumbprint FROM certificates WHERE name = 'vmm-console'")
jf() { json_sql "$1" "SELECT ifnull(json_extract(j, '\$.$2'), 'null') FROM doc"; }

"$WAPSIM" --lab "$L" cert show vmm-console --json >"$T_TMP/show.json"
check_eq "before: cert show --json gives original_thumbprint null" "null" "$(jf "$T_TMP/show.json" original_thumbprint)"
"$WAPSIM" --lab "$L" cert show vmm-console >"$T_TMP/show.txt"
check "before: cert show prints no Stand-in line" sh -c "! grep -q 'Stand-in for' '$T_TMP/show.txt'"

sqlite3 "$L/lab.db" "UPDATE certificates SET original_thumbprint = '$ORIG' WHERE name = 'vmm-console'"
"$WAPSIM" --lab "$L" cert show vmm-console --json >"$T_TMP/show.json"
check_eq "a stand-in: cert show --json gives its own thumbprint and original_thumbprint" "$TP $ORIG" \
    "$(jf "$T_TMP/show.json" thumbprint) $(jf "$T_TMP/show.json" original_thumbprint)"
"$WAPSIM" --lab "$L" cert show "$TP" >"$T_TMP/show.txt"
check "... cert show (by thumbprint) prints 'Stand-in for: $ORIG'" grep -q "^Stand-in for: $ORIG" "$T_TMP/show.txt"
"$WAPSIM" --lab "$L" cert list --machine vmm01 >"$T_TMP/list.txt"
check "... cert list marks it after its subject" grep -q "vmm-console .*\[stand-in for $ORIG\]\$" "$T_TMP/list.txt"
check "... and marks nothing else" sh -c "[ \$(grep -c 'stand-in' '$T_TMP/list.txt') = \$(grep -c 'vmm-console' '$T_TMP/list.txt') ]"
"$WAPSIM" --lab "$L" cert list --json >"$T_TMP/list.json"
check_eq "... cert list --json: original_thumbprint on its rows only" "$ORIG" \
    "$(json_sql "$T_TMP/list.json" "SELECT group_concat(DISTINCT json_extract(value, '\$.original_thumbprint')) FROM doc, json_each(j)")"

# The gateway no longer trusts the signer; a thumbprint no certificate has is registered instead.
"$WAPSIM" --lab "$L" gateway set --remove-trusted-issuer vmm-console --add-trusted-issuer "$GONE" >/dev/null 2>&1
"$WAPSIM" --lab "$L" diagnose --json >"$T_TMP/diag.json"
evidence() { # the evidence of the findings whose $1 is $2
    json_sql "$T_TMP/diag.json" "SELECT group_concat(json_extract(f.value, '\$.evidence'), ' ') FROM doc,
        json_each(json_extract(j, '\$.findings')) f WHERE json_extract(f.value, '\$.$1') = '$2'"
}
ev=$(evidence id gateway-issuer-not-trusted)
check "diagnose evidence names the signer 'thumbprint $TP (stand-in for $ORIG)'" \
    sh -c "echo \"\$1\" | grep -qF 'thumbprint $TP (stand-in for $ORIG)'" - "$ev"
check "... and the registered one as '$GONE (no certificate in the lab has it)'" \
    sh -c "echo \"\$1\" | grep -qF '$GONE (no certificate in the lab has it)'" - "$ev"
check_eq "... the finding ids and fix lines are unchanged" "gateway-issuer-not-trusted|wapsim gateway set --add-trusted-issuer $TP" \
    "$(json_sql "$T_TMP/diag.json" "SELECT json_extract(f.value, '\$.id') || '|' || json_extract(f.value, '\$.fix[0]') FROM doc,
        json_each(json_extract(j, '\$.findings')) f WHERE json_extract(f.value, '\$.id') = 'gateway-issuer-not-trusted'")"

# A host's TrustedIssuerCertificateHashes (Read-SCVMHost writes them) without the VMM
# certificate, with the unknown thumbprint instead: host-trust-list-stale lists them.
sqlite3 "$L/lab.db" "DELETE FROM trusted_issuers WHERE machine = 'hv01';
    INSERT INTO trusted_issuers(machine, thumbprint) VALUES ('hv01', '$GONE')"
"$WAPSIM" --lab "$L" diagnose --json >"$T_TMP/diag.json"
ev=$(evidence machine hv01)
check "a host's finding names the VMM certificate 'thumbprint $TP (stand-in for $ORIG)'" \
    sh -c "echo \"\$1\" | grep -qF 'thumbprint $TP (stand-in for $ORIG)'" - "$ev"
check "... and its list as {$GONE (no certificate in the lab has it)}" \
    sh -c "echo \"\$1\" | grep -qF '{$GONE (no certificate in the lab has it)}'" - "$ev"
"$WAPSIM" --lab "$L" down >/dev/null 2>&1
