#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# MS-TSGU's two HTTP transports and what a gateway does with half of the legacy pair
# (REFERENCE.md section 7; notes/transport-README.md):
#   1. `connect --transport websocket|legacy` (and the alias --legacy-gateway) both reach
#      the console; a bad value exits 2 naming it.
#   2. An RDG_IN_DATA whose RDG_OUT_DATA this gateway does not hold (the pair split across
#      balanced members) is refused at once, with event 210 on the Admin channel.
#   3. An RDG_OUT_DATA whose RDG_IN_DATA never comes is closed by the gateway within its
#      deadline (5 s, [model]), so a half pair holds nothing.
#   4. Plain HTTP at the gateway's TLS port (a balancer offloading TLS without
#      re-encrypting) fails the handshake and is Schannel event 36888 on the gateway.
#   5. With a balancer (lab init --ha, fabric set-balancer): the legacy transport through
#      lb01 without affinity fails with 50331657 and event 210 on a member while websocket
#      connects; diagnose says balancer-no-affinity; tls-offload without re-encryption fails
#      at gateway-auth (50331658, no answer) with Schannel 36888 on a member, and is
#      balancer-tls-offload, found by its plain HTTP probe; --reencrypt repairs it.
. "$(dirname "$0")/lib.sh"

L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init ($(head -c 300 "$T_TMP/init.out"))"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >"$T_TMP/up.out" 2>&1 || { not_ok "up ($(head -c 300 "$T_TMP/up.out"))"; exit 1; }
W status --json >"$T_TMP/status.json" 2>/dev/null
gw=$(json_sql "$T_TMP/status.json" "SELECT json_extract(value,'\$.address') FROM doc, json_each(json_extract(doc.j,'\$.machines')) WHERE json_extract(value,'\$.name')='rdgw01'")

# connect_json NAME ARGS...: the JSON of `wapsim connect --json ARGS` on the lab $CUR, kept as
# $T_TMP/NAME.json.
CUR=$L
connect_json() { name=$1; shift; "$WAPSIM" --lab "$CUR" connect --json "$@" >"$T_TMP/$name.json" 2>"$T_TMP/$name.err"; }
field() { json_sql "$T_TMP/$1.json" "SELECT json_extract(j,'\$.$2') FROM doc"; }

# ---- 1. --transport
for t in websocket legacy; do
    connect_json "$t" --tenant alice --vm web01 --transport "$t"
    check_eq "connect --transport $t reaches the console" "1|console" "$(field "$t" ok)|$(field "$t" stage)"
done
connect_json alias --tenant alice --vm web01 --legacy-gateway
check_eq "--legacy-gateway is --transport legacy" "1|console" "$(field alias ok)|$(field alias stage)"
check_exit "--transport rdp is a usage error (exit 2)" 2 W connect --tenant alice --vm web01 --transport rdp
check "... naming the bad value" grep -q "unknown --transport 'rdp'" "$T_TMP/err"

# ---- 2. an IN channel without its OUT
id="{0badc0de-0000-4000-8000-00000000210a}"
printf 'RDG_IN_DATA /remoteDesktopGateway/ HTTP/1.1\r\nHost: rdgw.contoso.com\r\nRDG-Connection-Id: %s\r\nRDG-Auth-Scheme: PAA\r\nContent-Length: 0\r\n\r\n' "$id" |
    timeout 10 openssl s_client -quiet -connect "$gw:8443" -servername rdgw.contoso.com >"$T_TMP/in.out" 2>/dev/null
check_eq "an RDG_IN_DATA whose RDG_OUT_DATA this gateway does not hold is refused" "HTTP/1.1 400 Bad Request" \
    "$(head -n 1 "$T_TMP/in.out" | tr -d '\r')"
W logs --machine rdgw01 >"$T_TMP/gwlog" 2>/dev/null
check "... and logged as event 210 on the gateway's Admin channel, with the connection id" \
    grep -q "TerminalServices-Gateway/Admin 210 Error .*IN channel could not find a corresponding OUT channel.*$id" "$T_TMP/gwlog"

# ---- 3. an OUT channel whose IN never comes
id="{0badc0de-0000-4000-8000-0000000000e0}"
start=$(date +%s)
{ printf 'RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nHost: rdgw.contoso.com\r\nRDG-Connection-Id: %s\r\nRDG-Auth-Scheme: PAA\r\nContent-Length: 0\r\n\r\n' "$id"
  sleep 20; } |
    { timeout 25 openssl s_client -quiet -connect "$gw:8443" -servername rdgw.contoso.com >"$T_TMP/out.out" 2>/dev/null
      date +%s >"$T_TMP/out.end"; }
took=$(( $(cat "$T_TMP/out.end") - start ))
check_eq "a legacy RDG_OUT_DATA is answered 200 (then it waits for its RDG_IN_DATA)" "HTTP/1.1 200 OK" \
    "$(head -n 1 "$T_TMP/out.out" | tr -d '\r')"
check "... and closed by the gateway when none comes: after ${took}s (deadline 5 s, swept each second)" \
    test "$took" -ge 4 -a "$took" -le 12
check "... its log says why" grep -q "closing .*: no RDG_IN_DATA for its RDG_OUT_DATA" "$L/log/rdgw01.log"

# ---- 4. plain HTTP at the TLS port
curl -sS -o /dev/null --max-time 5 -X RDG_OUT_DATA "http://$gw:8443/remoteDesktopGateway/" >"$T_TMP/curl.out" 2>&1
check "plain HTTP at the gateway's TLS port gets no HTTP answer" test $? -ne 0
W logs --machine rdgw01 >"$T_TMP/gwlog" 2>/dev/null
check "... and is Schannel event 36888 (fatal alert 10, state 1203) on the gateway" \
    grep -q "System 36888 Error \[Schannel\] The following fatal alert was generated: 10. The internal error state is 1203. (Peer [0-9.]* sent \"RDG_OUT_DATA /remoteDesk" "$T_TMP/gwlog"
connect_json after --tenant alice --vm web01 --transport legacy
check_eq "the gateway serves a legacy client after all of this" "1|console" "$(field after ok)|$(field after stage)"
W down >/dev/null 2>&1

# ---- 5. through a balancer
H=$T_TMP/ha
if ! "$WAPSIM" lab init --help 2>&1 | grep -q -- '--ha' || ! "$WAPSIM" fabric --help >/dev/null 2>&1; then
    skip_all "no lab init --ha / wapsim fabric in this build"
fi
new_lab "$H" --ha || { not_ok "lab init --ha ($(head -c 300 "$T_TMP/init.out"))"; exit 1; }
WH() { "$WAPSIM" --lab "$H" "$@"; }
CUR=$H
WH up >"$T_TMP/up2.out" 2>&1 || { not_ok "up --ha ($(head -c 300 "$T_TMP/up2.out"))"; exit 1; }
WH fabric set-balancer lb01 --affinity none >/dev/null 2>&1
connect_json ha_ws --tenant alice --vm web01 --transport websocket
connect_json ha_ws2 --tenant alice --vm web01 --transport websocket
check_eq "through lb01 without affinity, websocket connects (twice: both members)" "1|1" "$(field ha_ws ok)|$(field ha_ws2 ok)"
connect_json ha_legacy --tenant alice --vm web01 --transport legacy
connect_json ha_legacy2 --tenant alice --vm web01 --transport legacy
check_eq "... the legacy transport fails at gateway-auth with 50331657 (each of two tries)" \
    "0|gateway-auth|50331657|0|50331657" \
    "$(field ha_legacy ok)|$(field ha_legacy stage)|$(field ha_legacy code)|$(field ha_legacy2 ok)|$(field ha_legacy2 code)"
n210=0
for m in rdgw01 rdgw02; do
    c=$(WH logs --machine "$m" 2>/dev/null | grep -c "Admin 210 Error")
    n210=$((n210 + c))
done
check "... and the members logged event 210 for the split pairs ($n210)" test "$n210" -ge 2
WH diagnose --json >"$T_TMP/d1.json" 2>/dev/null
check_eq "diagnose: balancer-no-affinity on lb01, an error" "balancer-no-affinity|lb01|error" \
    "$(json_sql "$T_TMP/d1.json" "SELECT json_extract(value,'\$.id')||'|'||json_extract(value,'\$.machine')||'|'||json_extract(value,'\$.severity') FROM doc, json_each(json_extract(doc.j,'\$.findings')) WHERE json_extract(value,'\$.severity')='error'")"
WH fabric set-balancer lb01 --affinity source-ip >"$T_TMP/aff.out" 2>&1
connect_json ha_legacy3 --tenant alice --vm web01 --transport legacy
check_eq "with --affinity source-ip the legacy transport connects" "1|console" "$(field ha_legacy3 ok)|$(field ha_legacy3 stage)"
WH diagnose --json >"$T_TMP/d2.json" 2>/dev/null
check_eq "... and diagnose finds no error" "0" \
    "$(json_sql "$T_TMP/d2.json" "SELECT count(*) FROM doc, json_each(json_extract(doc.j,'\$.findings')) WHERE json_extract(value,'\$.severity')='error'")"

# tls-offload without re-encryption: the members get plain HTTP.
WH fabric set-balancer lb01 --mode tls-offload >"$T_TMP/off.out" 2>&1 ||
    { not_ok "fabric set-balancer lb01 --mode tls-offload ($(head -c 300 "$T_TMP/off.out"))"; exit 1; }
connect_json off --tenant alice --vm web01
# The client's RDG_OUT_DATA gets no answer (lb01 closes it: 50331658) or lb01's own 5xx
# (50331661), as the balancer answers when its member refused the plain connection.
got=$(field off ok)/$(field off stage)/$(field off code)
case "$got" in
    0/gateway-auth/50331658 | 0/gateway-auth/50331661) ok "lb01 offloading TLS without re-encrypting: the connect fails at gateway-auth ($got)" ;;
    *) not_ok "lb01 offloading TLS without re-encrypting: the connect fails at gateway-auth with 50331658 or 50331661 (got $got)" ;;
esac
c=0
for m in rdgw01 rdgw02; do c=$((c + $(WH logs --machine "$m" 2>/dev/null | grep -c "System 36888 Error"))); done
check "... and a member logged Schannel 36888 for lb01's plain HTTP ($c)" test "$c" -ge 1
WH diagnose --json >"$T_TMP/d3.json" 2>/dev/null
check_eq "diagnose: balancer-tls-offload on lb01 (found by a plain HTTP request to the members)" \
    "balancer-tls-offload|lb01" \
    "$(json_sql "$T_TMP/d3.json" "SELECT json_extract(value,'\$.id')||'|'||json_extract(value,'\$.machine') FROM doc, json_each(json_extract(doc.j,'\$.findings')) WHERE json_extract(value,'\$.severity')='error'")"
check "... its evidence is the probe's" test -n "$(json_sql "$T_TMP/d3.json" "SELECT 1 FROM doc, json_each(json_extract(doc.j,'\$.findings')) WHERE json_extract(value,'\$.evidence') LIKE '%plain HTTP request from lb01%speaks TLS only%'")"
WH fabric set-balancer lb01 --reencrypt >"$T_TMP/re.out" 2>&1
connect_json re --tenant alice --vm web01
check_eq "with --reencrypt the tunnel works through the offloading lb01" "1|console" "$(field re ok)|$(field re stage)"
connect_json re_legacy --tenant alice --vm web01 --transport legacy
check_eq "... the legacy transport too (RDG_OUT_DATA, RDG_IN_DATA chunked, through lb01's HTTP with affinity)" \
    "1|console" "$(field re_legacy ok)|$(field re_legacy stage)"
WH diagnose --json >"$T_TMP/d4.json" 2>/dev/null
check_eq "... and diagnose finds no error" "0" \
    "$(json_sql "$T_TMP/d4.json" "SELECT count(*) FROM doc, json_each(json_extract(doc.j,'\$.findings')) WHERE json_extract(value,'\$.severity')='error'")"
WH down >/dev/null 2>&1
exit 0
