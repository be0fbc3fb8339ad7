#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A damaged state file (issue 12, defect 6): every wapsim command that reads a lab,
# pointed at a copy of lab.db whose header is overwritten or that is cut short, says so
# in one line naming the file and exits 2: no crash (139, 134), no sanitizer report
# (with $BUILD/san/bin/wapsim, the ASan and UBSan build, when it is there), no hang.
# A page damaged in the middle is found only by a command that reads it: that one
# exits 2, its last line naming the file.
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 is missing (make deps)"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
# The wapsim under test: the sanitizer build when there is one.
WS=$WAPSIM
if [ -n "$BUILD" ] && [ -x "$BUILD/san/bin/wapsim" ]; then WS=$BUILD/san/bin/wapsim; fi
echo "# commands run by $WS"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:exitcode=86 UBSAN_OPTIONS=print_stacktrace=1:exitcode=87
"$WAPSIM" --lab "$L" cert export lab-root-ca --pem --out "$T_TMP/root.pem" >/dev/null 2>&1
tp=$("$WAPSIM" --lab "$L" cert show vmm-console --json | sed -n 's/.*"thumbprint":[[:space:]]*"\([0-9A-F]*\)".*/\1/p' | head -n 1)
# An .rdp file for rdp-verify: any file; the command must look at the lab first or refuse the file.
printf 'full address:s:web01\r\n' >"$T_TMP/web01.rdp"
# Every command of `wapsim --help` that reads a lab, with valid arguments. Commands that
# read no lab are left out: lab init (it makes one), cert check (a file), scenario run,
# check and format (labs of their own, or none), exercise list (the catalogue), symptoms
# (the catalogues), classroom (a classroom folder, not a lab; its seats are labs as these).
cat >"$T_TMP/commands" <<EOF
lab accounts
lab accounts --unlock alice
lab export $T_TMP/export-out
up
down
status
logs
logs --json
cert list
cert show vmm-console
cert export vmm-console --pem --out $T_TMP/out.pem
cert new t1 --subject CN=t1 --self-signed
cert import vmm-console --machine hv01 --store My
cert remove vmm-console --machine hv01 --store My
cert import-file $T_TMP/root.pem --name imported
cert grant vmm-console --machine vmm01 --account Everyone
rdp-file --tenant alice --vm web01 --out $T_TMP/out.rdp
rdp-verify $T_TMP/web01.rdp
connect --tenant alice --vm web01
host set hv01 --rdstls-reply-version echo
service restart hv01
service stop hv01
service start hv01
vmm set --ttl-minutes 5
vmm refresh-host --all
vmm fedauth --vm web01
gateway set --add-trusted-issuer $tp
cloud set --rd-gateway-fqdn rdgw.contoso.com
clock advance 1h
clock skew hv01 1m
clock show
diagnose
fabric add-gateway rdgw09
fabric remove-gateway rdgw09
fabric add-balancer lb01 --members rdgw01 --mode tcp --affinity none --fqdn rdgw.contoso.com
fabric set-balancer lb01 --affinity source-ip
fabric remove-balancer lb01
dns show rdgw01
dns set rdgw01 --add-host x.contoso.com=127.0.0.9
exercise start
exercise generate --level 1 --seed 1
exercise hint
exercise status
exercise check
exercise give-up
exercise history
EOF
# The lab's commands as `wapsim --help` lists them must all be here (or left out above).
"$WAPSIM" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { on = 0 } on {
    if ($1 ~ /^(lab|cert|host|service|vmm|gateway|cloud|clock|scenario|exercise|fabric|dns)$/) print $1 " " $2; else print $1 }' \
    >"$T_TMP/listed"
check "wapsim --help lists the commands" grep -q "^exercise give-up$" "$T_TMP/listed"
missing=""
while read -r c; do
    case "$c" in "lab init" | "cert check" | scenario* | "exercise list" | symptoms* | classroom*) continue ;; esac
    grep -q "^$c\( \|$\)" "$T_TMP/commands" || missing="$missing [$c]"
done <"$T_TMP/listed"
check_eq "every command of wapsim --help that reads a lab is tried" "" "$missing"

sqlite3 "$L/lab.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
size=$(stat -c %s "$L/lab.db")

# damaged NAME HOW: a copy of the lab whose lab.db is damaged by HOW (a shell command
# run in the copy), then every command against it.
damaged() {
    name=$1 how=$2 d=$T_TMP/$1
    rm -rf "$d"
    cp -a "$L" "$d"
    T_LABS="$T_LABS $d"
    rm -f "$d/lab.db-wal" "$d/lab.db-shm"
    (cd "$d" && eval "$how")
    bad=""
    while read -r cmd; do
        # shellcheck disable=SC2086
        timeout 60 "$WS" --lab "$d" $cmd >"$T_TMP/out" 2>"$T_TMP/err" </dev/null
        rc=$?
        lines=$(wc -l <"$T_TMP/err")
        if [ "$rc" != 2 ] || [ "$lines" != 1 ] || ! grep -q "$d/lab.db" "$T_TMP/err"; then
            bad="$bad [$cmd: exit $rc, $lines lines: $(head -c 160 "$T_TMP/err" | tr '\n' '|')]"
        fi
    done <"$T_TMP/commands"
    check_eq "$name: every command exits 2 with one line naming $name/lab.db" "" "$bad"
}

# mid NAME TABLE: a copy of the lab with the first page of TABLE overwritten with
# garbage. SQLite finds that only when a command reads the page: a command that does
# not read it may succeed; one that does exits 2 and its last line names the file. No
# crash, no sanitizer report, either way.
mid() {
    name=$1 table=$2 d=$T_TMP/$1
    page=$(sqlite3 "$L/lab.db" "SELECT min(pageno) FROM dbstat WHERE name='$table'")
    [ -n "$page" ] || { skip "$name: sqlite3 has no dbstat to find $table's page"; return; }
    rm -rf "$d"
    cp -a "$L" "$d"
    T_LABS="$T_LABS $d"
    rm -f "$d/lab.db-wal" "$d/lab.db-shm"
    dd if=/dev/urandom of="$d/lab.db" bs=4096 seek=$((page - 1)) count=1 conv=notrunc 2>/dev/null
    bad="" met=0
    while read -r cmd; do
        # shellcheck disable=SC2086
        timeout 60 "$WS" --lab "$d" $cmd >"$T_TMP/out" 2>"$T_TMP/err" </dev/null
        rc=$?
        if [ "$rc" -ge 124 ] || grep -q "Sanitizer\|runtime error" "$T_TMP/err"; then
            bad="$bad [$cmd: exit $rc: $(grep -m1 'Sanitizer\|runtime error' "$T_TMP/err")]"
        elif grep -q "is damaged\|malformed\|not a database" "$T_TMP/err"; then
            met=$((met + 1))
            [ "$rc" = 2 ] && tail -n 1 "$T_TMP/err" | grep -q "$d/lab.db is damaged" ||
                bad="$bad [$cmd: exit $rc: $(tail -n 1 "$T_TMP/err")]"
        fi
        "$WAPSIM" --lab "$d" down >/dev/null 2>&1
    done <"$T_TMP/commands"
    echo "# $name: $met commands met the damage"
    check_eq "$name: no crash; a command that meets the damage exits 2, its last line naming $name/lab.db" "" "$bad"
}

damaged header "printf 'this is not an SQLite header, it was overwritten by a careless tool..........................' | dd of=lab.db bs=100 count=1 conv=notrunc 2>/dev/null"
damaged truncated-half "truncate -s $((size / 2)) lab.db"
damaged truncated-4k "truncate -s 4096 lab.db"
damaged truncated-odd "truncate -s $((size / 3 + 1234)) lab.db"
mid machines-page machines
mid certificates-page certificates
mid events-page events
