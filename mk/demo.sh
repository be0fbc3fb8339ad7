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
echo "The lab keeps running. Stop it with: $wapsim --lab $lab down"
