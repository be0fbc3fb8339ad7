#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make deb: the Debian package builds (dpkg-buildpackage -us -uc -b, debhelper compat 13),
# lintian finds no error in it, its Depends are the run-time libraries (shlibs) with
# freerdp2-x11 and xvfb only suggested, and the installed wapsim runs what test_install.sh
# runs: a lab from /usr/libexec/wapsim, exercise list and scenario run without a path from
# /usr/share/wapsim/scenarios. As root, when no wapsim package is installed already, it is
# installed with dpkg -i and purged after, leaving nothing in /usr; otherwise the package is
# extracted with dpkg -x and run from there. The classroom's unit template is in
# /lib/systemd/system naming /usr/bin/wapsim, never enabled; the package makes the user wapsim
# and its folders, and purge leaves only the user. (issue 19)
# The build compiles everything from scratch in BUILD/deb (a copy of the sources): minutes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/installed.sh"

top=$I_TOP
: "${BUILD:=$top/build}"
command -v dpkg >/dev/null 2>&1 || skip_all "no dpkg here: the package is Debian's"
if [ "$(id -u)" -ne 0 ]; then
    for p in debhelper lintian dpkg-dev fakeroot; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            skip_all "make deb needs $p, which only root may install (make deps as root)"
    done
fi

# ---- make deb: build, lintian
make -C "$top" deb BUILD="$BUILD" >"$T_TMP/deb.out" 2>&1; rc=$?
check_eq "make deb exits 0 (dpkg-buildpackage, then lintian without an error)" 0 "$rc"
[ "$rc" -eq 0 ] || { sed 's/^/# /' "$T_TMP/deb.out" | tail -n 40; exit 0; }
grep '^make deb: built in' "$T_TMP/deb.out" | sed 's/^/# /'
deb="$BUILD/deb/wapsim_${I_VERSION}_$(dpkg --print-architecture).deb"
check "... it made $(basename "$deb")" test -f "$deb"
# make deb ran lintian --fail-on error; its report is BUILD/deb/lintian.log.
check_eq "lintian: no error" "" "$(grep '^E:' "$BUILD/deb/lintian.log" | head -n 5)"
grep -v '^E:' "$BUILD/deb/lintian.log" | sed 's/^/# lintian: /'

# ---- what the package says
dpkg-deb -f "$deb" Version Depends Suggests >"$T_TMP/fields"
check_eq "Version is VERSION's" "Version: $I_VERSION" "$(grep '^Version:' "$T_TMP/fields")"
depends=$(sed -n 's/^Depends: //p' "$T_TMP/fields")
check "Depends names the run-time libraries ($depends)" sh -c "echo '$depends' | grep -q libssl3 &&
    echo '$depends' | grep -q libsqlite3 && echo '$depends' | grep -q libmicrohttpd && echo '$depends' | grep -q libcjson"
check "... and neither freerdp2-x11 nor xvfb" sh -c "! echo '$depends' | grep -Eq 'freerdp|xvfb'"
check_eq "Suggests: freerdp2-x11, xvfb" "Suggests: freerdp2-x11, xvfb" "$(grep '^Suggests:' "$T_TMP/fields")"
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$T_TMP/contents"
for f in /usr/bin/wapsim /usr/libexec/wapsim/wapsim-gateway /usr/share/wapsim/scenarios/happy-path.scn \
         /usr/share/man/man1/wapsim.1.gz /usr/share/man/man5/wapsim-scenario.5.gz \
         /usr/share/man/man5/wapsim-deployment.5.gz /usr/share/bash-completion/completions/wapsim \
         /usr/share/doc/wapsim/copyright /lib/systemd/system/wapsim-classroom@.service; do
    grep -qx "$f" "$T_TMP/contents" || missing="$missing $f"
done
check_eq "the package holds the program, components, scenarios, manual pages, completion, copyright, unit" "" "${missing# }"
# Installed, not enabled: no link of the package's own, no enabling in its scripts (dh_installsystemd
# skips templates); postinst makes the user wapsim.
dpkg-deb -e "$deb" "$T_TMP/ctl"
check_eq "... nothing in /etc (no .wants link enabling the unit)" "" "$(grep '^/etc/' "$T_TMP/contents" | grep -v '^/etc/$' | head -n 3)"
check "... its maintainer scripts enable and start no unit" sh -c \
    "! cat '$T_TMP/ctl'/postinst '$T_TMP/ctl'/prerm '$T_TMP/ctl'/postrm 2>/dev/null | grep -v '^ *#' |
       grep -Eq '(deb-systemd-helper|systemctl)( +--?[a-z-]+)* +enable|deb-systemd-invoke( +--?[a-z-]+)* +start'"
check "... postinst makes the system user wapsim (adduser --system)" grep -q 'adduser --system' "$T_TMP/ctl/postinst"

# The manual pages and completion from the package's own files (a minimal image's dpkg may be
# told to leave /usr/share/man out when installing: path-exclude).
dpkg -x "$deb" "$T_TMP/x"
for page in "$T_TMP/x/usr/share/man/man1/wapsim.1.gz" "$T_TMP/x/usr/share/man/man5/wapsim-scenario.5.gz" \
            "$T_TMP/x/usr/share/man/man5/wapsim-deployment.5.gz"; do
    installed_man "$page" "deb"
done

# ---- installed in this machine, or extracted
if [ "$(id -u)" -eq 0 ] && ! dpkg-query -W -f='${Status}\n' wapsim 2>/dev/null | grep -q 'installed'; then
    # The classroom folders, unless they were there before: purge removes them (empty).
    var_dirs=""
    for d in /var/lib/wapsim /var/cache/wapsim; do [ -e "$d" ] || var_dirs="$var_dirs $d"; done
    dpkg -i "$deb" >"$T_TMP/dpkg.out" 2>&1; rc=$?
    check_eq "dpkg -i $(basename "$deb")" 0 "$rc"
    [ "$rc" -eq 0 ] || sed 's/^/# /' "$T_TMP/dpkg.out"
    installed_checks "" /usr "deb in /usr"
    installed_completion /usr/share/bash-completion/completions/wapsim /usr/bin/wapsim "deb in /usr"
    # ---- the classroom's unit (README "A classroom machine")
    installed_unit /lib/systemd/system/wapsim-classroom@.service /usr/bin "deb in /usr"
    check_eq "deb in /usr: the user wapsim is a system user, with no login shell" "yes:/usr/sbin/nologin" \
        "$(getent passwd wapsim | awk -F: '{print ($3 < 1000 ? "yes" : "no:" $3) ":" $7}')"
    check_eq "deb in /usr: /var/lib/wapsim and /var/cache/wapsim are wapsim's, mode 750" \
        "wapsim:wapsim:750 wapsim:wapsim:750" "$(stat -c %U:%G:%a /var/lib/wapsim /var/cache/wapsim 2>&1 | tr '\n' ' ' | sed 's/ $//')"
    check_eq "deb in /usr: no classroom is enabled (no wapsim-classroom@ link in /etc/systemd/system)" "" \
        "$(ls -d /etc/systemd/system/*.wants/wapsim-classroom@* 2>/dev/null)"
    installed_unit_run /lib/systemd/system/wapsim-classroom@.service /usr/bin/wapsim /var/lib/wapsim /var/cache/wapsim \
        wapsim "deb in /usr"
    # The labs made from /usr are stopped before the package goes.
    for lab in $T_LABS; do /usr/bin/wapsim --lab "$lab" down >/dev/null 2>&1; done
    dpkg --purge wapsim >"$T_TMP/purge.out" 2>&1; rc=$?
    check_eq "dpkg --purge wapsim" 0 "$rc"
    left=$(while read -r f; do
               case $f in /|/usr/|/usr/*/|/usr/share/*/|/lib/|/lib/*/) ;; *) [ -e "$f" ] && printf '%s ' "$f" ;; esac
           done <"$T_TMP/contents")
    for d in /usr/libexec/wapsim /usr/share/wapsim /usr/share/doc/wapsim; do [ -e "$d" ] && left="$left$d "; done
    for d in $var_dirs; do [ -e "$d" ] && left="$left$d "; done
    check_eq "... nothing of the package is left in /usr, /lib, /var/lib/wapsim, /var/cache/wapsim" "" "$left"
    check "... and dpkg knows it no more" sh -c "! dpkg-query -W -f='\${Status}\n' wapsim 2>/dev/null | grep -q installed"
else
    skip "dpkg -i and --purge: $( [ "$(id -u)" -ne 0 ] && echo "not root" || echo "a wapsim package is installed already"); the package runs from dpkg -x instead"
    installed_checks "$T_TMP/x" /usr "deb extracted"
    installed_completion "$T_TMP/x/usr/share/bash-completion/completions/wapsim" "$T_TMP/x/usr/bin/wapsim" "deb extracted"
    installed_unit "$T_TMP/x/lib/systemd/system/wapsim-classroom@.service" /usr/bin "deb extracted" "$T_TMP/x/usr/bin/wapsim"
    mkdir -p "$T_TMP/var/lib/wapsim" "$T_TMP/var/cache/wapsim"
    installed_unit_run "$T_TMP/x/lib/systemd/system/wapsim-classroom@.service" "$T_TMP/x/usr/bin/wapsim" \
        "$T_TMP/var/lib/wapsim" "$T_TMP/var/cache/wapsim" "" "deb extracted"
fi
