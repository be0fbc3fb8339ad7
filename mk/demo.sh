#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make demo: build (done by make), create ./lab unless it exists, start it, show it, then replay
# the shipped scenarios (each in a lab of its own) with the symptom each shows; exit 1 if one fails.
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
echo "== Remote Desktop Connection, hop by hop, through the RD Gateway to hv01's console"
"$wapsim" --lab "$lab" connect --rdp "$lab/web01.rdp" --screenshot "$lab/web01-screen.ppm" || true
echo
echo "== the RD Gateway's events"
"$wapsim" --lab "$lab" logs --machine rdgw01 --channel Microsoft-Windows-TerminalServices-Gateway/Operational | tail -n 3
echo
echo "== the shipped scenarios replayed, each in a fresh lab of its own: the symptom each first shows"
# The whole transcripts (every command, its output, each expect) go to $lab/scenarios.log.
rc=0
"$wapsim" scenario run "$(dirname "$0")/../scenarios" -j 2 -v >"$lab/scenarios.log" 2>&1 || rc=$?
awk '/^(ok|FAIL) / { print; want = 1; next }
     want && /stopped at / { sub(/^ +/, ""); print "       " substr($0, 1, 150) (length($0) > 150 ? "..." : ""); want = 0 }
     /^[0-9]+ passed, [0-9]+ failed/ { print }' "$lab/scenarios.log"
echo "(each scenario's transcript: $lab/scenarios.log; a scenario, by hand: $wapsim scenario run scenarios/FILE -v)"
echo
portal_addr=$(sed -n 's/^\([0-9.]*\)[[:space:]]*portal.contoso.com$/\1/p' "$lab/hosts")
gw_addr=$(sed -n 's/^\([0-9.]*\)[[:space:]]*rdgw.contoso.com$/\1/p' "$lab/hosts")
token=$(iconv -f UTF-16LE -t UTF-8 "$lab/web01.rdp" | tr -d '\r' | sed -n 's/^endpointfedauth:s://p')
cat <<EOT
The lab keeps running. Stop it with: $wapsim --lab $lab down

Tenant site:   https://portal.contoso.com:30081/  (alice or bob: passwords from lab accounts)
Admin site:    https://portal.contoso.com:30091/  (CONTOSO\hvadmin: the topology, machines, events,
               certificates, settings, Diagnose; README "The portals in a browser")
               Add "$portal_addr portal.contoso.com" and "$gw_addr rdgw.contoso.com" to the PC's hosts
               file and trust the lab root: $wapsim --lab $lab cert export lab-root-ca --pem --out contoso-root.pem
Saved .rdp:    $lab/web01.rdp   (the tenant's console file; the console as wapsim saw it: $lab/web01-screen.ppm)
Accounts:      $wapsim --lab $lab lab accounts

Open the console with a real client (names as in $lab/hosts, the lab root trusted):
  FreeRDP 2.11, the administrator's path (no RDSTLS):
    xfreerdp $lab/web01.rdp '/u:CONTOSO\hvadmin' /p:<password from lab accounts>
  FreeRDP 3.29+, the tenant's path (RDSTLS with the VMToken; 3.30+ first: $wapsim --lab $lab host set hv01 --rdstls-reply-version echo):
    xfreerdp3 $lab/web01.rdp /endpointfedauth:$(printf '%.24s' "$token")...   (the whole endpointfedauth value)
  Remote Desktop Connection 8.1 or later: open $lab/web01.rdp (its tokens live 2 minutes by default: fetch a new one with rdp-file)
EOT
exit $rc
