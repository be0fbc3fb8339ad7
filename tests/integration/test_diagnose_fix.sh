#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# wapsim diagnose --fix: the repairs diagnose prints run as printed. For every shipped scenario
# (scenarios/*.scn) and exercise (scenarios/exercises/*.scn) a fresh lab is broken as the
# exercise engine breaks it (`exercise start --scenario FILE --allow-diagnose`: the file's step
# lines before its first `expect diagnose` that names a finding); then `diagnose --fix` runs
# every finding's wapsim fix lines and must exit 0; then every tenant's client reaches every
# VM's console (`wapsim connect`) and `diagnose` finds nothing. Also: --fix is refused during
# an exercise started without --allow-diagnose, --json's shape, and a line with a placeholder
# is never printed. Labs run one after another (each from the key template), each taken down.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export WAPSIM_SCENARIOS="$top/scenarios"
n=0
W() { "$WAPSIM" --lab "$L" "$@" >/dev/null 2>&1 </dev/null; }
tp() { "$WAPSIM" --lab "$L" cert show "$1" --json 2>/dev/null | sed -n 's/.*"thumbprint":[[:space:]]*"\([0-9A-F]*\)".*/\1/p' | head -n 1; }

# fresh: a new lab of its own in $L, running.
fresh() {
    n=$((n + 1))
    L=$T_TMP/lab$n
    new_lab "$L" && W up
}
# done_with: the lab down and removed (its processes stopped by pid in cleanup if needed).
done_with() {
    W exercise give-up
    W down
}
# every_console: "vm:tenant:ok|stage" for each VM of the lab, space-separated.
every_console() {
    out=""
    for row in $(sqlite3 -batch -noheader -separator : "$L/lab.db" \
        "SELECT v.name, s.tenant FROM vms v JOIN subscriptions s ON s.id = v.subscription ORDER BY v.name"); do
        vm=${row%%:*} tenant=${row#*:}
        if "$WAPSIM" --lab "$L" connect --tenant "$tenant" --vm "$vm" >"$T_TMP/c.out" 2>&1 </dev/null; then
            out="$out $vm:ok"
        else
            out="$out $vm:$(grep -m 1 'FAIL' "$T_TMP/c.out" | tr -s ' ' | head -c 120 | tr ' ' '_')"
        fi
    done
    echo "${out# }"
}
all_ok() { ! echo "$1" | tr ' ' '\n' | grep -v ':ok$' | grep -q .; }

for f in scenarios/*.scn scenarios/exercises/*.scn; do
    name=$(basename "$f" .scn)
    fresh || { not_ok "$name: lab init and up"; continue; }
    if grep -q '^ticket' "$f"; then
        "$WAPSIM" --lab "$L" exercise start --scenario "$f" --allow-diagnose >"$T_TMP/x.out" 2>&1 </dev/null
        rc=$?
        [ $rc = 0 ] || { not_ok "$name: exercise start --scenario (exit $rc: $(tail -n 2 "$T_TMP/x.out"))"; done_with; continue; }
    fi
    "$WAPSIM" --lab "$L" diagnose >"$T_TMP/before.txt" 2>&1 </dev/null
    check "$name: no fix line diagnose prints has a placeholder (<...>, NAME, ROOT)" \
        sh -c "! grep -E '^    wapsim .*(<|>|\bNAME\b|\bROOT\b)' '$T_TMP/before.txt'"
    "$WAPSIM" --lab "$L" diagnose --fix >"$T_TMP/fix.out" 2>&1 </dev/null
    rc=$?
    check_eq "$name: diagnose --fix exits 0 ($(grep -E 'failed|no runnable|left' "$T_TMP/fix.out" | head -n 2 | tr '\n' ' '))" 0 "$rc"
    consoles=$(every_console)
    check "$name: after diagnose --fix every VM's console opens ($consoles)" all_ok "$consoles"
    "$WAPSIM" --lab "$L" diagnose >"$T_TMP/after.txt" 2>&1 </dev/null
    rc=$?
    check_eq "$name: ... and diagnose finds nothing ($(grep -E '^(ERROR|WARNING)' "$T_TMP/after.txt" | tr '\n' ' '))" 0 "$rc"
    done_with
    rm -rf "$L"
done

# ---- the same lines pasted into a shell: m2's repair (a new certificate, then used by name)
fresh || not_ok "lab init and up"
mkdir -p "$T_TMP/bin"
printf '#!/bin/sh\nexec "%s" --lab "%s" "$@"\n' "$WAPSIM" "$L" >"$T_TMP/bin/wapsim"
chmod +x "$T_TMP/bin/wapsim"
"$WAPSIM" --lab "$L" exercise start --scenario scenarios/m2-wrong-csp.scn --allow-diagnose >/dev/null 2>&1 </dev/null
"$WAPSIM" --lab "$L" diagnose >"$T_TMP/d.txt" 2>&1 </dev/null
sed -n 's/^    \(wapsim .*\)/\1/p' "$T_TMP/d.txt" >"$T_TMP/fix.sh"
check "m2: diagnose prints wapsim fix lines (cert new, gateway set --add-trusted-issuer NAME, vmm set)" sh -c "
    grep -q '^wapsim cert new ' '$T_TMP/fix.sh' && grep -q '^wapsim gateway set --add-trusted-issuer [a-z]' '$T_TMP/fix.sh' &&
    grep -q '^wapsim vmm set ' '$T_TMP/fix.sh'"
PATH="$T_TMP/bin:$PATH" sh -e "$T_TMP/fix.sh" >"$T_TMP/sh.out" 2>&1 </dev/null; rc=$?
check_eq "m2: the fix lines, pasted into sh as printed, all succeed ($(tail -n 1 "$T_TMP/sh.out"))" 0 "$rc"
check "... gateway set printed the thumbprint it used for the name" grep -q 'add-trusted-issuer [a-z].*: thumbprint [0-9A-F]\{40\}' "$T_TMP/sh.out"
"$WAPSIM" --lab "$L" diagnose >/dev/null 2>&1 </dev/null; rc=$?
check_eq "... and diagnose then finds nothing" 0 "$rc"
consoles=$(every_console)
check "... and every VM's console opens ($consoles)" all_ok "$consoles"
done_with
rm -rf "$L"

# ---- refused during an exercise without --allow-diagnose; --json
fresh || not_ok "lab init and up"
"$WAPSIM" --lab "$L" exercise start --scenario scenarios/m3a-thumbprint-not-registered-on-gateway.scn \
    >/dev/null 2>&1 </dev/null
"$WAPSIM" --lab "$L" diagnose --fix >"$T_TMP/out" 2>"$T_TMP/err" </dev/null; rc=$?
check_eq "diagnose --fix is refused during an exercise started without --allow-diagnose (exit 2, one line)" \
    "2:1" "$rc:$(wc -l <"$T_TMP/err")"
check "... naming --allow-diagnose" grep -q -- '--allow-diagnose' "$T_TMP/err"
check "... and nothing was repaired (the gateway still lacks the thumbprint)" \
    sh -c "! '$WAPSIM' --lab '$L' connect --tenant alice --vm web01 >/dev/null 2>&1 </dev/null"
W exercise give-up
"$WAPSIM" --lab "$L" diagnose --fix --json >"$T_TMP/fix.json" 2>"$T_TMP/err" </dev/null; rc=$?
check_eq "after give-up, diagnose --fix --json exits 0" 0 "$rc"
check_eq "... {\"steps\":[{finding,machine,line,status,output}],\"ok\":true,\"after\":{\"findings\":[]}}" \
    "gateway-issuer-not-trusted|rdgw01|0|1|0" \
    "$(json_sql "$T_TMP/fix.json" "SELECT json_extract(j,'$.steps[0].finding') || '|' ||
        json_extract(j,'$.steps[0].machine') || '|' || json_extract(j,'$.steps[0].status') || '|' ||
        json_extract(j,'$.ok') || '|' || json_array_length(j,'$.after.findings') FROM doc")"
check_eq "... the step's line is the wapsim command diagnose printed" \
    "wapsim gateway set --add-trusted-issuer $(tp vmm-console)" \
    "$(json_sql "$T_TMP/fix.json" "SELECT json_extract(j,'$.steps[0].line') FROM doc")"
"$WAPSIM" --lab "$L" diagnose --fix >"$T_TMP/out" 2>&1 </dev/null; rc=$?
check_eq "on a healthy lab diagnose --fix has nothing to do and exits 0" "0" "$rc"
check "... and says so" grep -qi 'nothing to repair' "$T_TMP/out"
# Two faults, one of them a stopped process.
W cert remove vmm-console --machine hv01 --store Root
W service stop rdgw01
"$WAPSIM" --lab "$L" diagnose --fix >"$T_TMP/out" 2>&1 </dev/null; rc=$?
check_eq "two faults (rdgw01 stopped, hv01's Root): diagnose --fix repairs both, exit 0" 0 "$rc"
check "... printing each line it runs" sh -c "grep -q '^wapsim service start rdgw01' '$T_TMP/out' &&
    grep -q '^wapsim cert import vmm-console --machine hv01 --store Root --public-only' '$T_TMP/out'"
# A gateway that cannot start: its bound certificate left its My store. Diagnose names the
# cause beside process-down, and --fix repairs the configuration before starting services.
W cert remove rdgw-ssl --machine rdgw01 --store My
W service restart rdgw01
"$WAPSIM" --lab "$L" diagnose --json >"$T_TMP/d.json" 2>/dev/null </dev/null
check_eq "rdgw-ssl out of rdgw01's My: diagnose names it beside process-down" "gateway-cert-missing@rdgw01 process-down@rdgw01" \
    "$(json_sql "$T_TMP/d.json" "SELECT group_concat(x, ' ') FROM (SELECT json_extract(value,'$.id') || '@' ||
       json_extract(value,'$.machine') AS x FROM doc, json_each(json_extract(j,'$.findings'))
       WHERE json_extract(value,'$.severity') = 'error' ORDER BY x)")"
"$WAPSIM" --lab "$L" diagnose --fix >"$T_TMP/out" 2>&1 </dev/null; rc=$?
check_eq "... diagnose --fix imports it, restarts rdgw01, then starts nothing twice: exit 0" 0 "$rc"
check "... the import runs before the service start" sh -c "grep -n '^wapsim ' '$T_TMP/out' | grep -B100 '^[0-9]*:wapsim service start rdgw01' | grep -q 'cert import rdgw-ssl --machine rdgw01 --store My'"
c=$(every_console)
check "... and every console opens ($c)" all_ok "$c"

# ---- a warning is repaired too; a new certificate takes a name the lab does not hold yet;
# certificate options take a name where a thumbprint goes, and a thumbprint where a name goes
W cert new console7 --subject "CN=Remote Console Connect" --self-signed --eku clientAuth --key-usage digitalSignature \
    --csp "Microsoft Enhanced RSA and AES Cryptographic Provider" --days 7
for m in hv01 hv02 rdgw01; do W cert import "$(tp console7)" --machine $m --store Root --public-only; done
W cert import console7 --machine rdgw01 --store My --public-only
"$WAPSIM" --lab "$L" gateway set --add-trusted-issuer console7 >"$T_TMP/out" 2>&1 </dev/null
check "gateway set --add-trusted-issuer NAME prints and registers its thumbprint" \
    sh -c "grep -q 'console7: thumbprint $(tp console7)' '$T_TMP/out' && grep -q 'TrustedIssuerCertificates = {.*$(tp console7)' '$T_TMP/out'"
"$WAPSIM" --lab "$L" vmm set --gateway-cert "$(tp console7)" --hyperv-cert console7 >"$T_TMP/out" 2>&1 </dev/null
check "vmm set --gateway-cert THUMBPRINT sets the certificate by its name" \
    grep -q "VMConnectGatewayCertificate = console7 ($(tp console7))" "$T_TMP/out"
W vmm refresh-host --all
# Each host's service reads its new trust list when it restarts (host/trust.h).
W service restart hv01 hv02
W cert new console7-new --subject CN=unrelated --self-signed
"$WAPSIM" --lab "$L" diagnose --fix >"$T_TMP/out" 2>&1 </dev/null; rc=$?
check_eq "a VMM certificate that expires in 7 days (a warning): diagnose --fix exits 0" 0 "$rc"
check "... making console7-new2 (console7-new is taken) and using it by name" sh -c "
    grep -q '^wapsim cert new console7-new2 ' '$T_TMP/out' &&
    grep -q '^wapsim vmm set --gateway-cert console7-new2 --hyperv-cert console7-new2' '$T_TMP/out'"
consoles=$(every_console)
check "... and every VM's console opens ($consoles)" all_ok "$consoles"
W down
