#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Real client interop, the VM's console: an unmodified xfreerdp 2.11 (Debian freerdp2-x11)
# under Xvfb opens the .rdp file the portal handed out, goes through the lab's RD Gateway to
# hv01 and takes the administrator's path there (TLS, the Client Info carries CONTOSO\hvadmin
# and the lab's password). Its window must show web01's console: a screenshot (xwd) equals
# the host's frame <lab>/console/web01.ppm pixel for pixel in the console area, and a typed
# key appears in the next frame. A tenant's xfreerdp 2.11 without credentials is refused at
# the host after its Client Info ("RDP client 8.1 or later required", event 14162).
# With WAPSIM_FREERDP3 naming a FreeRDP 3.29+ client, the tenant's path with
# /endpointfedauth:<VMToken> (RDSTLS) must show the console the same way at the RDSTLS
# reply version that client needs, and fail at the other one (section 5).
#
# As in test_xfreerdp_gateway.sh: the client's view of names is the lab's hosts file bound
# over /etc/hosts in a private mount namespace (unshare --mount); the lab root CA is in a
# temporary HOME's .config/freerdp/certs/<openssl hash>.0, never /cert:ignore; hv01's own
# self-signed certificate is a known host of that HOME (known_hosts.sh), as for a tenant who
# accepted the identity warning once; stdin is /dev/null, so any prompt reads EOF instead of
# waiting.
# The console area is found by comparing the host's frame with the screenshot at the
# top-left corner of each window as large as the console (xwininfo -root -tree, when
# x11-utils is there) and at (0,0), where xfreerdp's window lands under a bare Xvfb.
# Both pictures are compared at 8 bits a sample (pamdepth 255): under some X visuals xwd
# writes a DirectColor dump with a colormap of 16-bit values and xwdtopnm then gives maxval
# 65535, which differs from the host's 8-bit frame in most bytes although the screen is
# right. Observed: a bare Xvfb -cc 5; this Xvfb while FreeRDP 3.29's or 3.30's window is
# up (xwd's header: visual class 5, 256 colormap entries).
# Keys are typed with xdotool when it is installed, else with a small XTest program built
# here (needs cc, Xlib's headers and libXtst), else that check is skipped.
# Needs root, Xvfb, xfreerdp, unshare, xwd and netpbm: otherwise a TAP "# SKIP <reason>".
. "$(dirname "$0")/../integration/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "not root (a private mount namespace is needed to bind the lab's hosts file over /etc/hosts)"
for p in Xvfb xfreerdp unshare xwd xwdtopnm pamcut pamtopnm pamdepth pnminvert pnmpaste mount openssl sqlite3 iconv timeout cmp; do
    command -v "$p" >/dev/null 2>&1 || skip_all "$p is missing"
done
: >"$T_TMP/probe"
unshare --mount sh -c "mount --bind '$T_TMP/probe' /etc/hosts" 2>/dev/null ||
    skip_all "cannot bind a file over /etc/hosts in a private mount namespace (unshare --mount)"

XVFB_PID=""
XF_PID=""
interop_cleanup() {
    [ -n "$XF_PID" ] && kill "$XF_PID" 2>/dev/null
    [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null
    cleanup
}
trap interop_cleanup EXIT

# ---- the lab, the tenant's .rdp file, the client's hosts file and HOME
L=$T_TMP/lab
new_lab "$L" || { not_ok "lab init"; exit 1; }
W() { "$WAPSIM" --lab "$L" "$@"; }
W up >/dev/null 2>&1 || { not_ok "up"; exit 1; }
RDP=$T_TMP/web01.rdp
W rdp-file --tenant alice --vm web01 --out "$RDP" >/dev/null 2>&1 || { not_ok "alice gets web01's .rdp file"; exit 1; }
W cert export lab-root-ca --pem --out "$T_TMP/root.pem" >/dev/null
W lab accounts --json >"$T_TMP/accounts.json"
PW=$(json_sql "$T_TMP/accounts.json" "SELECT json_extract(value,'\$.password') FROM doc, json_each(doc.j)
    WHERE json_extract(value,'\$.account')='CONTOSO\\hvadmin'")
[ -n "$PW" ] || { not_ok "the lab's accounts name CONTOSO\\hvadmin's password"; exit 1; }
# The VMToken: the file's endpointfedauth field (UTF-16LE, BOM, CRLF).
VMTOKEN=$(iconv -f UTF-16LE -t UTF-8 "$RDP" | tr -d '\r' | sed -n 's/^endpointfedauth:s://p')

{
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
    cat "$L/hosts"
} >"$T_TMP/hosts"
HOME_CA=$T_TMP/home-ca
mkdir -p "$HOME_CA/.config/freerdp/certs"
cp "$T_TMP/root.pem" "$HOME_CA/.config/freerdp/certs/$(openssl x509 -hash -noout -in "$T_TMP/root.pem").0"
# hv01 presents its own self-signed certificate (lab init): the tenant accepted it once, so
# it is a known host of this HOME (known_hosts.sh), not a switch that turns checks off.
. "$(dirname "$0")/known_hosts.sh"
known_lab_host "$HOME_CA" "$L" hv01 || { not_ok "hv01's certificate is a known host of the client's HOME"; exit 1; }
FRAME=$L/console/web01.ppm

# ---- Xvfb on a display it picks itself (-displayfd)
Xvfb -displayfd 5 -screen 0 1024x768x24 -nolisten tcp 5>"$T_TMP/display" >"$T_TMP/xvfb.log" 2>&1 &
XVFB_PID=$!
i=0
while [ ! -s "$T_TMP/display" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
DISP=:$(tr -dc 0-9 <"$T_TMP/display")
[ "$DISP" != : ] || { not_ok "Xvfb started ($(head -c 300 "$T_TMP/xvfb.log"))"; exit 1; }
echo "# $(DISPLAY=$DISP timeout 10 xfreerdp /version 2>&1 | grep -m 1 -i version)"

# ---- the lab's event log
last_record() {
    W logs --json >"$T_TMP/all.json"
    json_sql "$T_TMP/all.json" "SELECT coalesce(max(json_extract(value,'\$.record')),0) FROM doc, json_each(doc.j)"
}
sqlq() { printf '%s' "$1" | sed "s/'/''/g"; }
# events MACHINE ID AFTER [TEXT]: how many records of that event id after record AFTER
# (whose text contains TEXT).
events() {
    W logs --machine "$1" --json >"$T_TMP/ev.json"
    json_sql "$T_TMP/ev.json" "SELECT count(*) FROM doc, json_each(doc.j) WHERE json_extract(value,'\$.event_id')=$2
        AND json_extract(value,'\$.record')>$3 AND instr(json_extract(value,'\$.text'),'$(sqlq "$4")')>0"
}
# hv01_log: hv01's last records, for messages.
hv01_log() { W logs --machine hv01 2>/dev/null | tail -n 4 | cut -c1-400 | tr '\n' ' '; }

# ---- the clients
# xf_start OUT PROGRAM ARGS...: start a client in the background, in a private mount
# namespace whose /etc/hosts is the lab's, HOME holding the lab root CA. unshare and sh
# exec, so XF_PID is timeout's pid, which hands a TERM on to the client.
xf_start() {
    out=$1; shift
    unshare --mount sh -c 'mount --bind "$1" /etc/hosts || exit 99
        home=$2 disp=$3; shift 3
        exec env -u XDG_CONFIG_HOME HOME="$home" DISPLAY="$disp" timeout -k 5 40 "$@" </dev/null' \
        sh "$T_TMP/hosts" "$HOME_CA" "$DISP" "$@" >"$out" 2>&1 &
    XF_PID=$!
}
xf_stop() {
    [ -n "$XF_PID" ] || return 0
    kill "$XF_PID" 2>/dev/null
    wait "$XF_PID" 2>/dev/null
    XF_PID=""
}
xf_alive() { [ -n "$XF_PID" ] && kill -0 "$XF_PID" 2>/dev/null; }
show() { grep -E 'ERROR|WARN|CERTIFICATE|trust' "$1" | head -n 8 | tr '\n' ' ' | cut -c1-600; }

# ---- the screen
# window_up: a FreeRDP window is mapped on the display (without xwininfo: assumed).
window_up() {
    command -v xwininfo >/dev/null 2>&1 || return 0
    xwininfo -root -tree -display "$DISP" 2>/dev/null | grep -qi 'freerdp'
}
# to8: stdin's picture as a PPM of 8 bits a sample (maxval 255), on stdout. pamdepth
# rescales each sample (65535 -> 255: v*255/65535, rounded; X's 16-bit colormap entries are
# 8-bit values times 257, so this is exact); a picture already at 255 passes unchanged.
to8() { pamdepth 255 2>/dev/null | pamtopnm 2>/dev/null; }
# frame_now OUT: the host's frame for web01, normalised (to8); sets CW, CH.
frame_now() {
    [ -s "$FRAME" ] || return 1
    to8 <"$FRAME" >"$1" || return 1
    # shellcheck disable=SC2046 # the header's fields, split on purpose
    set -- $(head -c 32 "$1" | tr -c '0-9A-Za-z' ' ')
    CW=$2 CH=$3
}
# candidates: "x y" of the top-left corners where the console area may be: (0,0), then
# the absolute position of every window at least as large as the console.
candidates() {
    {
        echo "0 0"
        if command -v xwininfo >/dev/null 2>&1; then
            xwininfo -root -tree -display "$DISP" 2>/dev/null |
                sed -n 's/.* \([0-9][0-9]*\)x\([0-9][0-9]*\)+[-0-9]*+[-0-9]*  *+\([0-9][0-9]*\)+\([0-9][0-9]*\)[[:space:]]*$/\1 \2 \3 \4/p' |
                while read -r w h x y; do
                    [ "$w" -ge "$CW" ] && [ "$h" -ge "$CH" ] && echo "$x $y"
                done
        fi
    } | awk '!seen[$0]++'
}
# maxval FILE: the maxval in a PPM's header (P6 W H MAXVAL).
maxval() { head -c 32 "$1" | tr -c '0-9' ' ' | awk '{print $4}'; }
# shows FRAME: a screenshot (xwd | xwdtopnm, at 8 bits) holds FRAME, pixel for pixel, at one
# of the candidates; AT is where, or why not; SHOT_MAXVAL the screenshot's own maxval.
shows() {
    xwd -root -display "$DISP" 2>/dev/null | xwdtopnm >"$T_TMP/shot-raw.ppm" 2>/dev/null &&
        to8 <"$T_TMP/shot-raw.ppm" >"$T_TMP/shot.ppm" || { AT="no screenshot"; return 1; }
    SHOT_MAXVAL=$(maxval "$T_TMP/shot-raw.ppm")
    holds "$T_TMP/shot.ppm" "$1"
}
# holds SHOT FRAME: the 8-bit picture SHOT holds FRAME, pixel for pixel, at one of the
# candidates; AT is where, or why not.
holds() {
    AT=""
    for xy in $(candidates | tr ' ' ,); do
        x=${xy%,*} y=${xy#*,}
        pamcut -left "$x" -top "$y" -width "$CW" -height "$CH" "$1" 2>/dev/null |
            pamtopnm >"$T_TMP/cut.ppm" 2>/dev/null || continue
        if cmp -s "$T_TMP/cut.ppm" "$2"; then AT="$x,$y"; return 0; fi
        AT="$AT ($x,$y): $(cmp -l "$T_TMP/cut.ppm" "$2" 2>/dev/null | wc -l) bytes differ;"
    done
    return 1
}
# comparison_checks: the comparison itself, on the last screenshot that showed the host's
# frame (shot.ppm, host.ppm from wait_shows): the same screen read at 16 bits a sample (what
# xwdtopnm writes under a DirectColor visual: every 8-bit value times 257) still matches, and
# a picture one pixel off (inverted at the console's centre) does not.
comparison_checks() {
    AT0=$AT
    pamdepth 65535 "$T_TMP/shot.ppm" >"$T_TMP/shot16.ppm" 2>/dev/null
    check "the 16-bit screenshot really is 16-bit (maxval 65535)" \
        test "$(maxval "$T_TMP/shot16.ppm")" = 65535
    to8 <"$T_TMP/shot16.ppm" >"$T_TMP/shot16to8.ppm"
    if holds "$T_TMP/shot16to8.ppm" "$T_TMP/host.ppm"; then
        ok "the comparison sees the same console in that screenshot at 16 bits a sample (at $AT)"
    else
        not_ok "the comparison sees the same console in that screenshot at 16 bits a sample ($AT)"
    fi
    cx=$((CW / 2)) cy=$((CH / 2))
    pamcut -left "$cx" -top "$cy" -width 1 -height 1 "$T_TMP/host.ppm" 2>/dev/null | pnminvert 2>/dev/null |
        pnmpaste - "$cx" "$cy" "$T_TMP/host.ppm" 2>/dev/null | pamtopnm >"$T_TMP/wrong.ppm" 2>/dev/null
    if [ ! -s "$T_TMP/wrong.ppm" ] || cmp -s "$T_TMP/wrong.ppm" "$T_TMP/host.ppm"; then
        not_ok "a picture one pixel off the host's frame could be made (pamcut, pnminvert, pnmpaste)"
    elif holds "$T_TMP/shot16to8.ppm" "$T_TMP/wrong.ppm"; then
        not_ok "the comparison fails on a picture one pixel off the host's frame (it matched at $AT)"
    else
        ok "the comparison fails on a picture one pixel off the host's frame:$AT"
    fi
    AT=$AT0
}
# wait_console SECONDS: the host's frame file exists and the client's window is up.
wait_console() {
    i=0
    while [ $i -lt $(($1 * 10)) ]; do
        [ -s "$FRAME" ] && window_up && return 0
        xf_alive || return 1
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
# wait_shows SECONDS: the screen shows the host's current frame (the client may draw a
# little after the host wrote the file).
wait_shows() {
    i=0 AT=" no frame file from hv01"
    while [ $i -lt $(($1 * 10)) ]; do
        frame_now "$T_TMP/host.ppm" && shows "$T_TMP/host.ppm" && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# ---- a way to type: xdotool, else XTest through a helper built here
TYPER=""
if command -v xdotool >/dev/null 2>&1; then
    TYPER=xdotool
else
    xtst=""
    for f in /usr/lib/*/libXtst.so.6 /usr/lib64/libXtst.so.6 /usr/lib/libXtst.so.6; do
        [ -f "$f" ] && { xtst=$f; break; }
    done
    if command -v cc >/dev/null 2>&1 && [ -f /usr/include/X11/Xlib.h ] && [ -n "$xtst" ]; then
        cat >"$T_TMP/xtype.c" <<'EOF'
/* xtype X Y KEYSYM: the pointer to (X,Y), then one press and release of KEYSYM, through
 * the XTest extension (declared here: its header may not be installed). */
#include <X11/Xlib.h>
#include <stdlib.h>
extern int XTestQueryExtension(Display *, int *, int *, int *, int *);
extern int XTestFakeMotionEvent(Display *, int, int, int, unsigned long);
extern int XTestFakeKeyEvent(Display *, unsigned int, Bool, unsigned long);
int main(int argc, char **argv)
{
    int a, b, c, d;
    Display *dp = argc == 4 ? XOpenDisplay(NULL) : NULL;
    if (!dp || !XTestQueryExtension(dp, &a, &b, &c, &d))
        return 2;
    KeyCode k = XKeysymToKeycode(dp, XStringToKeysym(argv[3]));
    if (!k)
        return 3;
    XTestFakeMotionEvent(dp, -1, atoi(argv[1]), atoi(argv[2]), CurrentTime);
    XSync(dp, False);
    XTestFakeKeyEvent(dp, k, True, CurrentTime);
    XTestFakeKeyEvent(dp, k, False, CurrentTime);
    XSync(dp, False);
    XCloseDisplay(dp);
    return 0;
}
EOF
        cc -o "$T_TMP/xtype" "$T_TMP/xtype.c" -lX11 "$xtst" >"$T_TMP/xtype.err" 2>&1 && TYPER=xtest
    fi
fi
# type_key X Y KEYSYM: the pointer into the client's window (the focus follows it without a
# window manager), then the key.
type_key() {
    case $TYPER in
    xdotool) DISPLAY=$DISP xdotool mousemove "$1" "$2" >/dev/null 2>&1 && sleep 0.2 &&
        DISPLAY=$DISP xdotool key "$3" >/dev/null 2>&1 ;;
    xtest) DISPLAY=$DISP "$T_TMP/xtype" "$1" "$2" "$3" ;;
    *) return 1 ;;
    esac
}

# ---- 1. the administrator's path: xfreerdp 2.11, the portal's file, CONTOSO\hvadmin
rm -f "$FRAME"
before=$(last_record)
xf_start "$T_TMP/xf-admin.out" xfreerdp "$RDP" '/u:CONTOSO\hvadmin' "/p:$PW" /log-level:DEBUG
if wait_console 20; then
    ok "xfreerdp 2.11 (administrator's path) is up and hv01 wrote web01's frame"
else
    not_ok "xfreerdp 2.11 (administrator's path) is up and hv01 wrote web01's frame (frame file: $([ -s "$FRAME" ] && echo yes || echo no); xfreerdp: $(xf_alive && echo running || echo exited): $(show "$T_TMP/xf-admin.out"); hv01: $(hv01_log))"
fi
check "the gateway's and hv01's certificates verified through the CA in HOME (no mismatch, no trust prompt)" sh -c \
    "! grep -q -e 'CERTIFICATE NAME MISMATCH' -e 'certificate not trusted' -e 'Do you trust the above certificate' -e ERRCONNECT_TLS_CONNECT_FAILED '$T_TMP/xf-admin.out'"
check "hv01 started a console session for administrator CONTOSO\\hvadmin (event 14168)" \
    test "$(events hv01 14168 "$before" 'for administrator CONTOSO\hvadmin')" -ge 1
if wait_shows 5; then
    ok "xfreerdp's window shows web01's console, pixel-equal to the host's frame (${CW}x${CH} at $AT)"
else
    not_ok "xfreerdp's window shows web01's console, pixel-equal to the host's frame (${CW:-?}x${CH:-?};$AT)"
fi
# ---- 1b. the frame comparison, on that screenshot
case $AT in
*[!0-9,]* | "") not_ok "the frame comparison can be checked (no screenshot showed the console)" ;;
*) comparison_checks ;;
esac

# ---- 2. a typed key appears in the next frame
if [ -z "$TYPER" ]; then
    skip "no way to type into the window (no xdotool; no cc, Xlib headers or libXtst to build an XTest helper: $(head -c 200 "$T_TMP/xtype.err" 2>/dev/null))"
elif ! frame_now "$T_TMP/before-key.ppm" || ! xf_alive; then
    not_ok "a typed key appears in the next frame (no console to type into)"
else
    case $AT in *[!0-9,]* | "") at=0,0 ;; *) at=$AT ;; esac
    x=${at%,*} y=${at#*,}
    if ! type_key $((x + CW / 2)) $((y + CH / 2)) a; then
        not_ok "a key typed into xfreerdp's window ($TYPER) reaches it"
    else
        i=0 changed=0
        while [ $i -lt 50 ]; do
            if frame_now "$T_TMP/host.ppm" && ! cmp -s "$T_TMP/host.ppm" "$T_TMP/before-key.ppm"; then changed=1; break; fi
            sleep 0.1; i=$((i + 1))
        done
        check "a key typed into xfreerdp's window ($TYPER) makes hv01 send a new frame of web01" test $changed = 1
        if [ $changed = 1 ] && wait_shows 5; then
            ok "... and xfreerdp's window shows that frame, pixel for pixel (at $AT)"
        else
            not_ok "... and xfreerdp's window shows that frame, pixel for pixel ($AT)"
        fi
    fi
fi
xf_stop

# ---- 3. a tenant's xfreerdp 2.11 without credentials: refused at the host after Client Info
before=$(last_record)
xf_start "$T_TMP/xf-tenant.out" xfreerdp "$RDP" /log-level:DEBUG
i=0
while xf_alive && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
xf_stop
i=0
while [ "$(events hv01 14162 "$before" 'RDP client 8.1 or later required')" -eq 0 ] && [ $i -lt 20 ]; do
    sleep 0.1; i=$((i + 1))
done
check "hv01 refused the tenant's xfreerdp 2.11 without credentials: RDP client 8.1 or later required (event 14162)" \
    test "$(events hv01 14162 "$before" 'RDP client 8.1 or later required')" -ge 1
check "... after its Client Info: xfreerdp got Set Error Info SERVER_INSUFFICIENT_PRIVILEGES" \
    grep -q 'ERRINFO_SERVER_INSUFFICIENT_PRIVILEGES' "$T_TMP/xf-tenant.out"
check_eq "... and hv01 started no console session for it (no event 14168)" 0 "$(events hv01 14168 "$before")"

# ---- 5. FreeRDP 3.29+: the tenant's path over RDSTLS with /endpointfedauth:<VMToken>
# 3.29 accepts only Version 1 Auth responses; 3.30 and later want the request's Version (2)
# echoed (REFERENCE.md section 8): hv01's setting (--rdstls-reply-version) an operator makes
# for that client. At the value the client needs it shows the console; at the other one it
# must fail as designed: the host accepts the token, the client drops the connection at the
# Auth response and no console session starts.
# fr3_set VALUE: hv01 answers RDSTLS Auth requests with that Version setting.
fr3_set() { W host set hv01 --rdstls-reply-version "$1" >/dev/null 2>&1; }
# fr3_shows VALUE: at that setting FreeRDP 3 shows web01's console, pixel for pixel.
fr3_shows() {
    fr3_set "$1" || { not_ok "wapsim host set hv01 --rdstls-reply-version $1"; return; }
    rm -f "$FRAME"
    before=$(last_record)
    xf_start "$T_TMP/xf3-$1.out" "$WAPSIM_FREERDP3" "$RDP" "/endpointfedauth:$VMTOKEN" /log-level:DEBUG
    if wait_console 20; then
        ok "FreeRDP $fr3_version, reply Version $1: up (tenant's path, /endpointfedauth) and hv01 wrote web01's frame"
    else
        not_ok "FreeRDP $fr3_version, reply Version $1: up (tenant's path, /endpointfedauth) and hv01 wrote web01's frame (frame file: $([ -s "$FRAME" ] && echo yes || echo no); client: $(xf_alive && echo running || echo exited): $(show "$T_TMP/xf3-$1.out"); hv01: $(hv01_log))"
    fi
    check "... hv01 started a console session for the tenant over RDSTLS (event 14168)" \
        test "$(events hv01 14168 "$before" 'for the tenant (VMToken over RDSTLS)')" -ge 1
    SHOT_MAXVAL=""
    if wait_shows 5; then
        ok "... FreeRDP 3's window shows web01's console, pixel-equal to the host's frame (at $AT; xwdtopnm maxval $SHOT_MAXVAL)"
    else
        not_ok "... FreeRDP 3's window shows web01's console, pixel-equal to the host's frame (${CW:-?}x${CH:-?};$AT xwdtopnm maxval ${SHOT_MAXVAL:-?})"
    fi
    xf_stop
}
# fr3_refused VALUE: at that setting the client ends at the Auth response, by design.
fr3_refused() {
    fr3_set "$1" || { not_ok "wapsim host set hv01 --rdstls-reply-version $1"; return; }
    before=$(last_record)
    xf_start "$T_TMP/xf3-$1.out" "$WAPSIM_FREERDP3" "$RDP" "/endpointfedauth:$VMTOKEN" /log-level:DEBUG
    i=0
    while xf_alive && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
    alive=$(xf_alive && echo yes || echo no)
    xf_stop
    check_eq "FreeRDP $fr3_version, reply Version $1 (not what it needs): the client gives up by itself" no "$alive"
    check "... hv01 accepted its VMToken and answered Version $(fr3_reply "$1") (event 14161)" \
        test "$(events hv01 14161 "$before" "Auth response Version $(fr3_reply "$1") (request Version 2)")" -ge 1
    # FreeRDP 3.29 and 3.30, libfreerdp/core/transport.c transport_connect_rdstls: a failed
    # RDSTLS exchange logs this and sets FREERDP_ERROR_AUTHENTICATION_FAILED.
    check "... the client says: RDSTLS authentication failed, ERRCONNECT_AUTHENTICATION_FAILED" sh -c \
        "grep -q 'transport_connect_rdstls.*RDSTLS authentication failed' '$T_TMP/xf3-$1.out' &&
         grep -q 'ERRCONNECT_AUTHENTICATION_FAILED' '$T_TMP/xf3-$1.out'"
    check_eq "... and hv01 started no console session for it (no event 14168)" 0 "$(events hv01 14168 "$before")"
}
# fr3_reply VALUE: the Version hv01 sends for FreeRDP's Version 2 FedAuth request.
fr3_reply() { if [ "$1" = echo ]; then echo 2; else echo "$1"; fi; }

if [ -z "${WAPSIM_FREERDP3:-}" ]; then
    skip "WAPSIM_FREERDP3 not set (a FreeRDP 3.29+ client: mk/build-freerdp3.sh builds one)"
elif [ ! -f "$WAPSIM_FREERDP3" ] || [ ! -x "$WAPSIM_FREERDP3" ]; then
    skip "WAPSIM_FREERDP3 ($WAPSIM_FREERDP3) is not an executable file"
else
    fr3_version=$(DISPLAY=$DISP timeout 10 "$WAPSIM_FREERDP3" /version 2>&1 | sed -n 's/.*FreeRDP version \([0-9][0-9.]*\).*/\1/p' | head -n 1)
    echo "# FreeRDP $fr3_version ($WAPSIM_FREERDP3)"
    check "the .rdp file carries a VMToken (endpointfedauth)" test -n "$VMTOKEN"
    case "$fr3_version" in
    3.29 | 3.29.*) fr3_shows 1; fr3_refused echo ;;
    3.[3-9][0-9]* | 3.[1-9][0-9][0-9]* | [4-9].*) fr3_shows echo; fr3_refused 1 ;;
    *) skip "WAPSIM_FREERDP3 is FreeRDP '${fr3_version:-unknown}', not 3.29 or later (no RDSTLS FedAuth)" ;;
    esac
    fr3_set 1
fi

kill "$XVFB_PID" 2>/dev/null
wait "$XVFB_PID" 2>/dev/null
XVFB_PID=""
W down >/dev/null 2>&1
