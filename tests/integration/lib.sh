# SPDX-License-Identifier: Apache-2.0
# lib.sh: helpers for integration tests, sourced by each tests/integration/*.sh.
# Each check prints a TAP line, "ok N - what", "not ok N - what" or "ok N # SKIP why";
# tests/run.sh counts them.
# $WAPSIM is the wapsim under test. Labs made with new_lab are stopped on exit by pid.

: "${WAPSIM:?WAPSIM must name the wapsim program}"
T_N=0
T_TMP=$(mktemp -d /tmp/wapsim-test.XXXXXX)
T_LABS=""
# A key template of this test run's own, so tests never depend on a user's cache.
export WAPSIM_CACHE="$T_TMP/cache"
unset WAPSIM_LAB

ok()     { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
# A check that cannot run here (no Xvfb, no client): TAP's "# SKIP" with the reason;
# tests/run.sh counts it as skipped, never as passed.
skip()   { T_N=$((T_N + 1)); echo "ok $T_N # SKIP $*"; }
# Skip the rest of this script.
skip_all() { skip "$@"; exit 0; }
not_ok() { T_N=$((T_N + 1)); echo "not ok $T_N - $*"; }
# check "what" command...: ok when the command succeeds.
check() { what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
# check_eq "what" expected actual
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}
# check_exit "what" status command...: the command exits with that status.
check_exit() {
    what=$1 want=$2; shift 2
    "$@" >"$T_TMP/out" 2>"$T_TMP/err"; got=$?
    if [ "$got" = "$want" ]; then ok "$what"; else not_ok "$what (exit $got, wanted $want; $(head -c 300 "$T_TMP/err"))"; fi
}
# json_sql FILE SQL: query a JSON file with SQLite's JSON functions (no jq needed);
# the file's text is the parameter j in "WITH doc(j) AS (...)".
json_sql() {
    sqlite3 -batch -noheader :memory: "WITH doc(j) AS (SELECT readfile('$1')) $2"
}

new_lab() { # new_lab DIR [lab init options...]
    dir=$1; shift
    T_LABS="$T_LABS $dir"
    "$WAPSIM" lab init "$dir" "$@" >"$T_TMP/init.out" 2>&1
}

# rdp_signed_text PLAIN SCOPE OUT: what an .rdp signature covers (REFERENCE.md section 4 step 3):
# of PLAIN (the file's lines in UTF-8, no CR) each line SCOPE (comma-separated names) names,
# + CRLF, then the signscope line + CRLF and U+0000, all in UTF-16LE.
rdp_signed_text() {
    : >"$T_TMP/signed.utf8"
    old_ifs=$IFS; IFS=,
    for name in $2; do
        key=$(printf '%s' "$name" | tr 'A-Z' 'a-z')
        grep -i "^$key:[sib]:" "$1" | head -n 1 | tr -d '\n' >>"$T_TMP/signed.utf8"
        printf '\r\n' >>"$T_TMP/signed.utf8"
    done
    IFS=$old_ifs
    printf 'signscope:s:%s\r\n\000' "$2" >>"$T_TMP/signed.utf8"
    iconv -f UTF-8 -t UTF-16LE "$T_TMP/signed.utf8" >"$3"
}

# rdp_sign PLAIN SCOPE PEM OUT: PLAIN (an .rdp's lines in UTF-8, without signscope and
# signature) signed over SCOPE as rdpsign.exe does (REFERENCE.md section 4: detached CMS, no
# attributes, behind its 12-byte header), written to OUT as a real file is (UTF-16LE, BOM,
# CRLF); PEM holds the signer's certificate and key.
rdp_sign() {
    rdp_signed_text "$1" "$2" "$T_TMP/signed.bin"
    openssl cms -sign -binary -noattr -nosmimecap -md sha256 -signer "$3" -in "$T_TMP/signed.bin" -outform DER \
        -out "$T_TMP/sig.der" 2>/dev/null || return 1
    len=$(wc -c <"$T_TMP/sig.der")
    { printf '\001\000\001\000\001\000\000\000'
      printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((len & 255)) $(((len >> 8) & 255)) $(((len >> 16) & 255)) $((len >> 24)))"
      cat "$T_TMP/sig.der"; } >"$T_TMP/blob.bin"
    { cat "$1"; printf 'signscope:s:%s\n' "$2"; printf 'signature:s:%s\n' "$(base64 -w0 "$T_TMP/blob.bin")"; } |
        sed 's/$/\r/' | { printf '\377\376'; iconv -f UTF-8 -t UTF-16LE; } >"$4"
}

# Processes (not zombies) whose command line names the lab directory.
lab_pids() {
    abs=$(cd "$1" 2>/dev/null && pwd -P) || return 0
    # One grep over every command line (NUL-separated arguments; a zombie's is empty), the
    # pattern from a file so that grep's own command line does not match.
    printf '%s\n' "$abs" >"$T_TMP/lab_pids.pat"
    grep -lszxF -f "$T_TMP/lab_pids.pat" /proc/[0-9]*/cmdline | sed 's|^/proc/||; s|/cmdline$||'
}

cleanup() {
    for lab in $T_LABS; do
        [ -d "$lab" ] || continue
        "$WAPSIM" --lab "$lab" down >/dev/null 2>&1
        for pid in $(lab_pids "$lab"); do kill -9 "$pid" 2>/dev/null; done
    done
    rm -rf "$T_TMP"
}
trap cleanup EXIT
