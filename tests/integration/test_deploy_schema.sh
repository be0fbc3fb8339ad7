#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The deployment format's contract (issue 15): schema/deployment-v1.schema.json is a valid
# JSON Schema 2020-12; the fabrikam deployment (tests/data/deployment-fabrikam) validates
# and its certificate files are what it says; damaged copies are refused with the field's
# path, by the schema (jsonschema's json_path) and by `wapsim lab init DIR --from COPY`
# (exit 2, one line naming the path, no lab left behind).
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
schema=$top/schema/deployment-v1.schema.json
data=$top/tests/data/deployment-fabrikam

if ! python3 -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
    skip "python3-jsonschema with Draft 2020-12 is not installed (make deps)"
    have_schema=0
else
    have_schema=1
fi

# schema_errors FILE: each error of FILE against the schema, "json_path<TAB>message",
# in the order of their paths; nothing when it validates.
schema_errors() {
    python3 - "$schema" "$1" <<'EOF'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
for e in sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: e.json_path):
    print("%s\t%s" % (e.json_path, e.message.replace("\n", " ")))
EOF
}

# json_edit IN OUT PYTHON: OUT is IN's JSON after the Python statement (on d) ran.
json_edit() {
    python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"), indent=1)
EOF
}

if [ "$have_schema" = 1 ]; then
    check "the schema is a valid JSON Schema 2020-12 (Draft202012Validator.check_schema)" \
        python3 -c "import json, jsonschema; jsonschema.Draft202012Validator.check_schema(json.load(open('$schema')))"
    check_eq "the schema says it is 2020-12" "https://json-schema.org/draft/2020-12/schema" \
        "$(python3 -c "import json; print(json.load(open('$schema'))['\$schema'])")"
    errs=$(schema_errors "$data/deployment.json")
    check_eq "the fabrikam deployment.json validates against the schema" "" "$errs"
fi

# ---- the certificate files the fabrikam deployment names ----
# Every file a store entry names exists, is DER (as Export-Certificate -Type CERT writes
# it), and has the thumbprint the entry gives; the registered thumbprints name them.
python3 - "$data/deployment.json" >"$T_TMP/entries" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for i, m in enumerate(d["machines"]):
    for store, entries in sorted(m.get("stores", {}).items()):
        for j, e in enumerate(entries):
            print("machines[%d].stores.%s[%d] %s %s" % (i, store, j, e["file"], e.get("thumbprint", "-")))
EOF
n=0
bad=""
while read -r where file tp; do
    n=$((n + 1))
    if [ ! -f "$data/$file" ]; then
        bad="$bad $where:$file:missing"
        continue
    fi
    got=$(openssl x509 -inform DER -in "$data/$file" -noout -fingerprint -sha1 2>/dev/null | sed 's/.*=//; s/://g')
    if [ -z "$got" ]; then
        bad="$bad $where:$file:not-DER"
    elif [ "$tp" != - ] && [ "$got" != "$(printf '%s' "$tp" | tr a-f A-F)" ]; then
        bad="$bad $where:$file:thumbprint-$got"
    fi
done <"$T_TMP/entries"
check "deployment.json names certificate files ($n store entries)" [ "$n" -ge 20 ]
check_eq "each certs/*.cer named exists, parses with openssl x509 -inform DER and has the thumbprint given" "" "$bad"
files_named=$(cut -d' ' -f2 "$T_TMP/entries" | sort -u | tr '\n' ' ')
files_there=$(cd "$data" && ls certs/*.cer | sort | tr '\n' ' ')
check_eq "every certs/*.cer in the folder is named by deployment.json" "$files_there" "$files_named"
# A registered thumbprint (tls_certificate, rdp_certificate, vmm.*, trusted_issuers) is one
# of the files' certificates, except the gateways' trusted issuer: the renewed certificate,
# which no store holds any more (the fault this deployment carries).
python3 - "$data/deployment.json" >"$T_TMP/registered" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for i, m in enumerate(d["machines"]):
    for k in ("tls_certificate", "rdp_certificate"):
        if k in m: print("machines[%d].%s %s" % (i, k, m[k]))
    for k, v in sorted(m.get("vmm", {}).items()):
        if k.endswith("_certificate"): print("machines[%d].vmm.%s %s" % (i, k, v))
    for j, t in enumerate(m.get("trusted_issuers", [])):
        print("machines[%d].trusted_issuers[%d] %s %s" % (i, j, t, m["role"]))
EOF
known=$(cut -d' ' -f3 "$T_TMP/entries" | sort -u)
unknown=""
while read -r where tp role; do
    printf '%s\n' "$known" | grep -qx "$tp" || unknown="$unknown $where${role:+($role)}"
done <"$T_TMP/registered"
check_eq "only the gateways' trusted issuer (the renewed certificate's old thumbprint) names no file" \
    " machines[3].trusted_issuers[0](gateway) machines[4].trusted_issuers[0](gateway)" "$unknown"

# ---- damaged copies ----
# refused NAME PATH EDIT [FILE-EDIT]: a copy of the fabrikam folder with deployment.json
# changed by EDIT (Python on d) must be rejected at PATH (jsonschema's json_path, "$."
# and all) by the schema when SCHEMA is 1, and by lab init --from naming PATH without
# its "$." (the importer's spelling: machines[3].trusted_issuers[0]).
damaged() { # damaged NAME EDIT: the copy's folder
    copy=$T_TMP/copy-$1
    rm -rf "$copy"
    mkdir -p "$copy"
    cp -R "$data/certs" "$copy/"
    json_edit "$data/deployment.json" "$copy/deployment.json" "$2"
    echo "$copy"
}
schema_refuses() { # schema_refuses NAME COPY PATH WORD: an error at PATH whose message has WORD
    [ "$have_schema" = 1 ] || return 0
    errs=$(schema_errors "$2/deployment.json")
    if printf '%s\n' "$errs" | awk -F'\t' -v p="$3" -v w="$4" '$1 == p && index($2, w) { f = 1 } END { exit !f }'; then
        ok "schema: $1 is refused at $3"
    else
        not_ok "schema: $1 is refused at $3 (errors: $(printf '%s' "$errs" | tr '\n\t' '; ' | head -c 400))"
    fi
}
# import_refuses NAME COPY PATH [WORD]: exit 2, one line naming PATH (and WORD), no lab
# left: lab init's DIR (the copy's name plus -lab) is not made; with PREMADE=1 it exists
# (empty) before and stays empty.
import_refuses() {
    lab=$2-lab
    T_LABS="$T_LABS $lab"
    rm -rf "$lab"
    [ "${PREMADE:-0}" = 1 ] && mkdir "$lab"
    "$WAPSIM" lab init "$lab" --from "$2" >"$T_TMP/imp.out" 2>"$T_TMP/imp.err"
    rc=$?
    check_eq "lab init --from: $1 exits 2" 2 "$rc"
    lines=$(grep -v "^lab init: creating " "$T_TMP/imp.err" | grep -c .)
    if [ "$lines" = 1 ] && grep -qF -- "$3" "$T_TMP/imp.err" && { [ -z "${4:-}" ] || grep -qF -- "$4" "$T_TMP/imp.err"; }; then
        ok "lab init --from: $1 is refused in one line naming $3${4:+ and $4}"
    else
        not_ok "lab init --from: $1 is refused in one line naming $3${4:+ and $4} (stderr: $(head -c 400 "$T_TMP/imp.err"))"
    fi
    if [ "${PREMADE:-0}" = 1 ]; then
        check_eq "lab init --from: $1 leaves the folder it was given empty" "" "$(ls -A "$lab" 2>&1)"
    else
        check "lab init --from: $1 leaves no lab behind (the folder it made is removed)" [ ! -e "$lab" ]
    fi
}

# A thumbprint of 39 digits in a gateway's trusted issuers.
c=$(damaged short-thumbprint 'd["machines"][3]["trusted_issuers"][0] = d["machines"][3]["trusted_issuers"][0][:39]')
schema_refuses "a trusted issuer's thumbprint of 39 digits" "$c" '$.machines[3].trusted_issuers[0]' "does not match"
import_refuses "a trusted issuer's thumbprint of 39 digits" "$c" 'machines[3].trusted_issuers[0]'

# An unknown key on a machine (the schema reports it at the object, naming the key).
c=$(damaged unknown-key 'd["machines"][0]["colour"] = "blue"')
schema_refuses "an unknown key (machines[0].colour)" "$c" '$.machines[0]' "'colour'"
import_refuses "an unknown key (machines[0].colour)" "$c" 'machines[0]' 'colour'

# A vms list on a gateway: only hosts run VMs (the schema's per-role rule, at the machine).
c=$(damaged vms-on-gateway 'd["machines"][3]["vms"] = [{"name": "stray01", "tenant": "adatum"}]')
schema_refuses "a vms list on a gateway (machines[3])" "$c" '$.machines[3]' "vms"
import_refuses "a vms list on a gateway (machines[3])" "$c" 'machines[3]' 'vms'

# A role the format does not have.
c=$(damaged bad-role 'd["machines"][2]["role"] = "scvmm"')
schema_refuses "a bad role (machines[2].role scvmm)" "$c" '$.machines[2].role' "is not one of"
PREMADE=1 import_refuses "a bad role (machines[2].role scvmm)" "$c" 'machines[2].role' 'scvmm'

# The import alone can see these: a file that is not a certificate, and a file whose
# certificate is not the one the entry's thumbprint names (the schema sees valid JSON).
c=$(damaged not-a-certificate 'pass')
printf 'this is not a certificate\n' >"$c/certs/fabhv01.cer"
check_eq "schema: a certificate file that does not parse is no schema error" "" "$(schema_errors "$c/deployment.json")"
import_refuses "certs/fabhv01.cer is not a certificate" "$c" 'machines[6].stores.My[0]' 'certs/fabhv01.cer'
c=$(damaged wrong-file 'd["machines"][6]["stores"]["My"][0]["file"] = "certs/fabhv02.cer"')
import_refuses "a store entry whose file has another thumbprint" "$c" 'machines[6].stores.My[0]' 'thumbprint'
c=$(damaged missing-file 'd["machines"][6]["stores"]["My"][0]["file"] = "certs/nowhere.cer"')
import_refuses "a store entry naming a file the folder lacks" "$c" 'machines[6].stores.My[0]' 'certs/nowhere.cer'

echo "1..$T_N"
