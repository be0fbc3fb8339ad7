#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Labels (issue 13 item 7): the README's symptom tables are what the code's catalogues say
# (every event and client code with its source or [model]), and the scenario table has a row
# for every shipped scenario and exercise showing the code and the event it asserts.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
README=$top/README.md

# ---- 1. the generated tables: `wapsim symptoms` between the markers, verbatim
"$WAPSIM" symptoms >"$T_TMP/sym.md" 2>"$T_TMP/sym.err"
check_eq "wapsim symptoms runs without a lab" 0 $?
sed -n '/^<!-- wapsim symptoms: begin -->$/,/^<!-- wapsim symptoms: end -->$/p' "$README" | sed '1d;$d' >"$T_TMP/readme.md"
if cmp -s "$T_TMP/sym.md" "$T_TMP/readme.md"; then
    ok "the README's symptom tables are the catalogues' (wapsim symptoms)"
else
    not_ok "the README's symptom tables differ from wapsim symptoms: $(diff "$T_TMP/readme.md" "$T_TMP/sym.md" | head -n 6 | tr '\n' ' ')"
fi
# Every row of both tables carries a source.
unlabelled=$(grep '^| ' "$T_TMP/sym.md" | grep -v '^| event |\|^| client code |' | grep -v 'REFERENCE.md\|\[model\]\|\[doc\|\[field\|TechNet Wiki 37870' | head -n 3)
check_eq "every event and client code row names its source or [model]" "" "$unlabelled"
nev=$("$WAPSIM" symptoms --json >"$T_TMP/sym.json"; json_sql "$T_TMP/sym.json" "SELECT count(*) FROM doc, json_each(json_extract(doc.j,'$.events')) WHERE json_extract(value,'$.origin') = ''")
check_eq "no event without an origin (--json)" 0 "$nev"

# ---- 2. the scenario table: one row per scenario, with its asserted codes and events
for scn in "$top"/scenarios/*.scn "$top"/scenarios/exercises/*.scn; do
    rel=${scn#"$top"/scenarios/}
    row=$(grep -F "| $rel |" "$README" | head -n 1)
    if [ -z "$row" ]; then
        not_ok "$rel: no row in the README's scenario table"
        continue
    fi
    missing=""
    for code in $(sed -n 's/^expect connect\.code = \([0-9x]*\).*/\1/p' "$scn"); do
        case "$row" in *"$code"*) ;; *) missing="$missing code $code" ;; esac
    done
    for ev in $(sed -n 's/^expect event [^ ]* \([0-9]*\) .*/\1/p' "$scn"); do
        printf '%s' "$row" | grep -qE "[^0-9]$ev([^0-9]|\$)" || missing="$missing event $ev"
    done
    if grep -q '^expect portal.status = 500' "$scn"; then
        case "$row" in *"HTTP 500"*) ;; *) missing="$missing HTTP 500" ;; esac
    fi
    case "$row" in *REFERENCE.md* | *"[model]"* | *"as m"*) ;; *) missing="$missing source" ;; esac
    grep -q '^expect connect\.message ' "$scn" || missing="$missing (the scenario asserts no connect.message)"
    check_eq "$rel: its README row shows its message, code, event and source" "" "$missing"
done
