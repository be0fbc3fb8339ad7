#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A change from the admin site is a wapsim command run as a child of the portal
# (portal/admin_run.c). The child gets its stdin, stdout and stderr and none of the
# portal's other descriptors: not the tenant site's pooled connections to SPF (libcurl
# does not mark them close-on-exec), nor anything else the portal holds. It is reaped.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null 2>&1 || skip_all "no curl"
command -v pgrep >/dev/null 2>&1 || skip_all "no pgrep"

L="$T_TMP/lab"
new_lab "$L" || { not_ok "lab init ($(tail -n 1 "$T_TMP/init.out"))"; exit 1; }
"$WAPSIM" --lab "$L" up >"$T_TMP/up.out" 2>&1 || { not_ok "up ($(tail -n 1 "$T_TMP/up.out"))"; exit 1; }
"$WAPSIM" --lab "$L" cert export lab-root-ca --pem --out "$T_TMP/root.pem" >/dev/null
"$WAPSIM" --lab "$L" lab accounts --json >"$T_TMP/accounts.json"
"$WAPSIM" --lab "$L" status --json >"$T_TMP/status.json"
account() { # account SQL-CONDITION FIELD
    json_sql "$T_TMP/accounts.json" "SELECT json_extract(value, '\$.$2') FROM doc, json_each(doc.j) WHERE $1 LIMIT 1"
}
addr=$(awk '$2 == "portal.contoso.com" { print $1; exit }' "$L/hosts")
pp=$(json_sql "$T_TMP/status.json" "SELECT json_extract(value, '\$.pid') FROM doc, \
    json_each(json_extract(doc.j, '\$.machines')) WHERE json_extract(value, '\$.name') = 'portal'")
C="--cacert $T_TMP/root.pem --resolve portal.contoso.com:30081:$addr --resolve portal.contoso.com:30091:$addr -s"
T=https://portal.contoso.com:30081
A=https://portal.contoso.com:30091
token() { sed -n 's/.*name="csrf" value="\([0-9A-F]*\)".*/\1/p' "$1" | head -n 1; }

# alice lists her VMs: the portal now holds its pooled connections to SPF.
alice=$(account "json_extract(value, '\$.account') = 'alice'" password)
curl $C -c "$T_TMP/tjar" -H 'Content-Type: application/json' -d "{\"user\":\"alice\",\"password\":\"$alice\"}" \
    -o /dev/null "$T/api/login"
check_eq "alice lists her VMs through the portal" 200 \
    "$(curl $C -b "$T_TMP/tjar" -o /dev/null -w '%{http_code}' "$T/api/vms")"
sockets() { ls -l "/proc/$1/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | sort; }
sockets "$pp" >"$T_TMP/portal.sockets"
check "the portal holds sockets (its sites, its connections to SPF)" test -s "$T_TMP/portal.sockets"

# The fabric administrator signs in and restarts hv02 from the Machines page.
adm=$(account "json_extract(value, '\$.role') = 'fabric-admin'" account)
admpw=$(account "json_extract(value, '\$.role') = 'fabric-admin'" password)
curl $C -c "$T_TMP/ajar" "$A/login" >"$T_TMP/signin.html"
check_eq "the administrator signs in" 303 "$(curl $C -b "$T_TMP/ajar" -c "$T_TMP/ajar" -o /dev/null \
    -w '%{http_code}' --data-urlencode "csrf=$(token "$T_TMP/signin.html")" --data-urlencode "user=$adm" \
    --data-urlencode "password=$admpw" "$A/login")"
curl $C -b "$T_TMP/ajar" "$A/machines" >"$T_TMP/machines.html"
curl $C -b "$T_TMP/ajar" --data-urlencode "csrf=$(token "$T_TMP/machines.html")" -d machine=hv02 -d action=restart \
    -o "$T_TMP/restart.html" -w '%{http_code}' "$A/machines/service" >"$T_TMP/restart.code" &
curl_pid=$!
# The command's process, while it runs: a child of the portal, once it runs wapsim (its
# command line is the command's, so the spawn's file actions are done).
child="" i=0
while [ -z "$child" ] && [ $i -lt 1000 ] && kill -0 "$curl_pid" 2>/dev/null; do
    child=$(pgrep -P "$pp" -f "service restart hv02" | head -n 1)
    [ -n "$child" ] && sockets "$child" >"$T_TMP/child.sockets"
    i=$((i + 1))
done
wait "$curl_pid"
if [ -n "$child" ] && [ -f "$T_TMP/child.sockets" ]; then
    shared=$(comm -12 "$T_TMP/portal.sockets" "$T_TMP/child.sockets" | tr '\n' ' ')
    check_eq "the command's process holds none of the portal's sockets" "" "$shared"
else
    skip "the command's process was not seen running (it ended first)"
fi
check_eq "the restart answers 200 with exit 0" "200 0" \
    "$(cat "$T_TMP/restart.code") $(sed -n 's/.*id="outcome" data-status="\([0-9-]*\)".*/\1/p' "$T_TMP/restart.html")"
check_eq "no child of the portal is left, zombie or running" "" "$(pgrep -P "$pp" | tr '\n' ' ')"
