#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# What the console costs on the wire (issue 16, target 4): the host sends its frame as
# Planar-compressed 64x64 tiles (MS-RDPEGDI 2.2.2.5.1) and after a keystroke only the tiles
# that changed. The client counts the RDP bytes it received from the host: until the first
# whole frame at most 64 KiB (the raw frame alone is 1,024,000), and per typed character at
# most 4 KiB. The pixels still equal the host's own frame.
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >/dev/null 2>&1 || { not_ok "up"; exit 1; }
field() { json_sql "$T_TMP/$1.json" "SELECT json_extract(j,'$.$2') FROM doc"; }

for vm in web01 db01; do
    W connect --json --tenant alice --vm $vm --type hello --screenshot "$T_TMP/$vm.ppm" >"$T_TMP/$vm.json" 2>"$T_TMP/$vm.err"
    check_eq "alice reaches $vm's console and types" "1|console|5" "$(field $vm ok)|$(field $vm stage)|$(field $vm typed_chars)"
    first=$(field $vm first_frame_bytes)
    typed=$(field $vm typed_bytes)
    echo "# $vm: first frame $first bytes, 5 typed characters $typed bytes"
    check "$vm: the bytes until the first whole frame ($first) are at most 64 KiB" test "${first:-999999}" -gt 0 -a "${first:-999999}" -le 65536
    check "$vm: one typed character's update ($typed / 5 bytes) is at most 4 KiB" test "${typed:-999999}" -gt 0 -a "${typed:-999999}" -le $((5 * 4096))
    check "$vm: the client's screen equals the host's frame, pixel for pixel" cmp -s "$T_TMP/$vm.ppm" "$L/console/$vm.ppm"
done
check "the host logs Planar tiles" sh -c "grep -rq 'Planar tiles of 64x64' '$L'/logs/ 2>/dev/null || '$WAPSIM' --lab '$L' logs --machine hv01 2>/dev/null | grep -q 'Planar tiles' || grep -rqs 'Planar tiles of 64x64' '$L'"
W down >/dev/null 2>&1
