#!/bin/sh
# make demo: build (done by make), create ./lab unless it exists, start it, show it.
set -eu
build=${1:-build}
wapsim="$build/wapsim"
lab=${WAPSIM_LAB:-./lab}
if [ -f "$lab/lab.db" ]; then
    echo "== reusing the lab in $lab"
else
    echo "== creating a lab in $lab"
    "$wapsim" lab init "$lab"
fi
echo "== starting it"
"$wapsim" --lab "$lab" up
echo
"$wapsim" --lab "$lab" status
echo
echo "== certificates of the gateway (rdgw01)"
"$wapsim" --lab "$lab" cert list --machine rdgw01
echo
echo "== alice opens web01's console: the portal hands out a signed .rdp file"
"$wapsim" --lab "$lab" rdp-file --tenant alice --vm web01 --out "$lab/web01.rdp"
"$wapsim" --lab "$lab" rdp-verify "$lab/web01.rdp"
echo
echo "== Remote Desktop Connection, hop by hop, through the RD Gateway to hv01"
"$wapsim" --lab "$lab" connect --rdp "$lab/web01.rdp" || true
echo
echo "== the RD Gateway's events"
"$wapsim" --lab "$lab" logs --machine rdgw01 --channel Microsoft-Windows-TerminalServices-Gateway/Operational | tail -n 3
echo
echo "The lab keeps running. Stop it with: $wapsim --lab $lab down"
