#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A hostile local client against the RD Gateway: a lab of AddressSanitizer and UBSan
# components (make's $BUILD/san/bin) takes, 50 times each, a valid HANDSHAKE_REQUEST
# cut by a TCP reset, a handshake of another version, a garbage PAA cookie and (with a
# tenant's HostToken) a channel the cookie does not grant; then 3 times 6 parallel
# connects to one VM. The gateway answers each as before, reports no memory error, is
# the same process afterwards, and a tenant still connects.
BUILD=${BUILD:-build}
san=$BUILD/san/bin/wapsim
[ -x "$san" ] || { WAPSIM=${WAPSIM:-wapsim}; . "$(dirname "$0")/lib.sh"; skip_all "no sanitizer build at $san (make test builds it)"; }
WAPSIM=$san
. "$(dirname "$0")/lib.sh"
# Memory errors are what this test is after; leaks at exit are not.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
tool=$BUILD/tools/gwhostile
[ -x "$tool" ] || skip_all "no $tool (make test builds it)"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >"$T_TMP/up.out" 2>&1 || { not_ok "up ($(head -c 300 "$T_TMP/up.out"))"; exit 1; }
gw_pid() { cat "$L/run/rdgw01.pid" 2>/dev/null; }
pid0=$(gw_pid)
check "the ASan gateway runs" test -n "$pid0" -a -d "/proc/$pid0"

W connect --tenant alice --vm web01 --save-rdp "$T_TMP/web01.rdp" >"$T_TMP/first.out" 2>&1
check "a tenant connects before" test -s "$T_TMP/web01.rdp"
for seq in reset version cookie channel; do
    "$tool" "$L" "$seq" 50 $([ "$seq" = channel ] && echo "$T_TMP/web01.rdp") >"$T_TMP/$seq.out" 2>&1
    check_eq "50 times $seq: the gateway answers each as before" "$seq: 50 rounds as expected" "$(cat "$T_TMP/$seq.out")"
done
# A second connection to a VM takes its console: the host drops the first while the
# gateway relays it.
for round in 1 2 3; do
    for i in 1 2 3 4 5 6; do W connect --tenant alice --vm web01 >"$T_TMP/par$i.out" 2>&1 & done
    wait
done

check_eq "the gateway is still the process it was (it never died or restarted)" "$pid0" "$(gw_pid)"
check "... and it runs" test -d "/proc/$pid0"
bad=$(grep -l -e 'AddressSanitizer' -e 'runtime error' "$L"/log/*.log 2>/dev/null | tr '\n' ' ')
check_eq "no component's log has a sanitizer report" "" "$bad"
[ -n "$bad" ] && grep -h -A12 -e 'AddressSanitizer' -e 'runtime error' $bad | head -n 40 | sed 's/^/# /'
W logs --machine rdgw01 >"$T_TMP/gwlog" 2>/dev/null
check "the refused cookies were logged as gateway event 201" test "$(grep -c 'not authorized to access the RD Gateway' "$T_TMP/gwlog")" -ge 50

W connect --json --tenant alice --vm web01 >"$T_TMP/connect.json" 2>"$T_TMP/connect.err"
check_eq "a tenant's connect still succeeds" "1|console" \
    "$(json_sql "$T_TMP/connect.json" "SELECT json_extract(j,'\$.ok') || '|' || json_extract(j,'\$.stage') FROM doc")"
W down >/dev/null 2>&1
exit 0
