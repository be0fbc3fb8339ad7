#!/bin/sh
# Real client interop, the VM's console: an unmodified xfreerdp 2.11 (Debian freerdp2-x11)
# under Xvfb opens the .rdp file the portal handed out, goes through the lab's RD Gateway to
# hv01 and takes the administrator's path there (TLS, the Client Info carries CONTOSO\hvadmin
# and the lab's password). Its window must show web01's console: a screenshot (xwd) equals
# the host's frame <lab>/console/web01.ppm pixel for pixel in the console area, and a typed
# key appears in the next frame. A tenant's xfreerdp 2.11 without credentials is refused at
# the host after its Client Info ("RDP client 8.1 or later required", event 14162).
# With WAPSIM_FREERDP3 naming a FreeRDP 3.29+ client, the tenant's path with
# /endpointfedauth:<VMToken> (RDSTLS) must show the console the same way.
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
# Keys are typed with xdotool when it is installed, else with a small XTest program built
# here (needs cc, Xlib's headers and libXtst), else that check is skipped.
# Needs root, Xvfb, xfreerdp, unshare, xwd and netpbm: otherwise a TAP "# SKIP <reason>".
. "$(dirname "$0")/../integration/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "not root (a private mount namespace is needed to bind the lab's hosts file over /etc/hosts)"
for p in Xvfb xfreerdp unshare xwd xwdtopnm pamcut pamtopnm mount openssl sqlite3 iconv timeout cmp; do
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
# frame_now OUT: the host's frame for web01, normalised (pamtopnm); sets CW, CH.
frame_now() {
    [ -s "$FRAME" ] || return 1
    pamtopnm <"$FRAME" >"$1" 2>/dev/null || return 1
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
# shows FRAME: a screenshot (xwd | xwdtopnm) holds FRAME, pixel for pixel, at one of the
# candidates; AT is where, or why not.
shows() {
    xwd -root -display "$DISP" 2>/dev/null | xwdtopnm 2>/dev/null | pamtopnm >"$T_TMP/shot.ppm" 2>/dev/null ||
        { AT="no screenshot"; return 1; }
    AT=""
    for xy in $(candidates | tr ' ' ,); do
        x=${xy%,*} y=${xy#*,}
        pamcut -left "$x" -top "$y" -width "$CW" -height "$CH" "$T_TMP/shot.ppm" 2>/dev/null |
            pamtopnm >"$T_TMP/cut.ppm" 2>/dev/null || continue
        if cmp -s "$T_TMP/cut.ppm" "$1"; then AT="$x,$y"; return 0; fi
        AT="$AT ($x,$y): $(cmp -l "$T_TMP/cut.ppm" "$1" 2>/dev/null | wc -l) bytes differ;"
    done
    return 1
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
if [ -z "${WAPSIM_FREERDP3:-}" ]; then
    skip "WAPSIM_FREERDP3 not set"
elif [ ! -f "$WAPSIM_FREERDP3" ] || [ ! -x "$WAPSIM_FREERDP3" ]; then
    skip "WAPSIM_FREERDP3 ($WAPSIM_FREERDP3) is not an executable file"
else
    fr3_version=$(DISPLAY=$DISP timeout 10 "$WAPSIM_FREERDP3" /version 2>&1 | sed -n 's/.*FreeRDP version \([0-9][0-9.]*\).*/\1/p' | head -n 1)
    echo "# FreeRDP $fr3_version"
    # 3.29 accepts only Version 1 Auth responses; 3.30 and later want the request's Version
    # echoed (REFERENCE.md section 8): the host setting an operator would make for that client.
    case "$fr3_version" in
        3.29|3.29.*) "$WAPSIM" --lab "$L" host set hv01 --rdstls-reply-version 1 >/dev/null ;;
        *) "$WAPSIM" --lab "$L" host set hv01 --rdstls-reply-version echo >/dev/null ;;
    esac
    check "the .rdp file carries a VMToken (endpointfedauth)" test -n "$VMTOKEN"
    rm -f "$FRAME"
    before=$(last_record)
    xf_start "$T_TMP/xf3.out" "$WAPSIM_FREERDP3" "$RDP" "/endpointfedauth:$VMTOKEN" /log-level:DEBUG
    if wait_console 20; then
        ok "FreeRDP 3 (tenant's path, /endpointfedauth) is up and hv01 wrote web01's frame"
    else
        not_ok "FreeRDP 3 (tenant's path, /endpointfedauth) is up and hv01 wrote web01's frame (frame file: $([ -s "$FRAME" ] && echo yes || echo no); client: $(xf_alive && echo running || echo exited): $(show "$T_TMP/xf3.out"); hv01: $(hv01_log))"
    fi
    check "hv01 started a console session for the tenant over RDSTLS (event 14168)" \
        test "$(events hv01 14168 "$before" 'for the tenant (VMToken over RDSTLS)')" -ge 1
    if wait_shows 5; then
        ok "FreeRDP 3's window shows web01's console, pixel-equal to the host's frame (at $AT)"
    else
        not_ok "FreeRDP 3's window shows web01's console, pixel-equal to the host's frame (${CW:-?}x${CH:-?};$AT)"
    fi
    xf_stop
fi

kill "$XVFB_PID" 2>/dev/null
wait "$XVFB_PID" 2>/dev/null
XVFB_PID=""
W down >/dev/null 2>&1
