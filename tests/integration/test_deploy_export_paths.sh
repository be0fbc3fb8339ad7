#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# lab export writes only what it made (issue 15, review): a link another local user plants at
# the temporary name OUT.tmp.PID is never followed (the file it points at keeps its bytes and
# mode, the export fails in one line), an archive never replaces an OUT that appeared, and
# an empty OUT folder the operator made private keeps its mode.
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
if ! new_lab "$L"; then
    not_ok "a lab is made ($(tail -n 3 "$T_TMP/init.out"))"
    exit 0
fi

# A planted link at the archive's temporary name: `exec` keeps the shell's PID, so the
# link's name is the one the export will use.
V=$T_TMP/victim
printf 'secret\n' >"$V"
chmod 600 "$V"
sh -c 'ln -s "$1" "$2.tmp.$$" && exec "$3" --lab "$4" lab export "$2" --archive' - "$V" "$T_TMP/o.tar.gz" \
    "$WAPSIM" "$L" >"$T_TMP/o.out" 2>"$T_TMP/o.err"
rc=$?
check "a link planted at OUT.tmp.PID: the export fails (exit $rc)" [ "$rc" -ne 0 ]
check_eq "... the file the link points at keeps its bytes" "secret" "$(cat "$V")"
check_eq "... and its mode" "600" "$(stat -c %a "$V")"
check "... OUT is not made" [ ! -e "$T_TMP/o.tar.gz" ] && [ ! -L "$T_TMP/o.tar.gz" ]
check_eq "... the refusal is one line" 1 "$(grep -c . "$T_TMP/o.err")"

# The same for a folder export: mkdir refuses the planted name.
sh -c 'ln -s "$1" "$2.tmp.$$" && exec "$3" --lab "$4" lab export "$2"' - "$T_TMP" "$T_TMP/f" \
    "$WAPSIM" "$L" >/dev/null 2>&1
check "a link planted at a folder export's temporary name: the export fails" [ ! -e "$T_TMP/f" ]

# A normal archive, then one onto it: refused, the first kept.
check_exit "an archive export" 0 "$WAPSIM" --lab "$L" lab export "$T_TMP/a.tar.gz" --archive
sum=$(sha256sum "$T_TMP/a.tar.gz")
check_exit "an archive onto an existing OUT exits 2" 2 "$WAPSIM" --lab "$L" lab export "$T_TMP/a.tar.gz" --archive
check_eq "... which is left as it was" "$sum" "$(sha256sum "$T_TMP/a.tar.gz")"
check "... and no temporary file is left" [ -z "$(ls "$T_TMP" | grep 'a.tar.gz.tmp')" ]

# An empty private folder stays private.
mkdir -m 700 "$T_TMP/private"
check_exit "an export into an empty folder of mode 700" 0 "$WAPSIM" --lab "$L" lab export "$T_TMP/private"
check_eq "... keeps mode 700" "700" "$(stat -c %a "$T_TMP/private")"
check "... and holds deployment.json" [ -s "$T_TMP/private/deployment.json" ]
