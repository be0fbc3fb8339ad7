#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The browser tests: each tests/web/*.test.mjs in Debian's chromium (playwright-core,
# tests/web/package.json), against a lab of its own, running. Skipped, and counted as
# skipped, only where Chromium cannot start; a missing playwright-core (make deps runs
# npm ci) is a failure. Screenshots go to $BUILD/web-shots. WEB_ONLY=NAME runs
# NAME.test.mjs alone.
. "$(dirname "$0")/../integration/lib.sh"
web=$(cd "$(dirname "$0")" && pwd)
: "${BUILD:=$(cd "$web/../.." && pwd)/build}"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM

[ -x "$CHROMIUM" ] || skip_all "Chromium cannot start: no $CHROMIUM (make deps installs Debian's chromium)"
command -v node >/dev/null 2>&1 || { not_ok "node is installed (make deps)"; exit 1; }
[ -d "$web/node_modules/playwright-core" ] || { not_ok "playwright-core is installed in tests/web (make deps runs npm ci)"; exit 1; }
command -v certutil >/dev/null 2>&1 || { not_ok "certutil is installed (libnss3-tools, make deps)"; exit 1; }

# A browser profile of this run's own: HOME holds the NSS database Chromium trusts.
export HOME="$T_TMP/home"
mkdir -p "$HOME/.pki/nssdb"
certutil -d "sql:$HOME/.pki/nssdb" -N --empty-password || { not_ok "an NSS database for the browser"; exit 1; }
why=$(node "$web/probe.mjs" 2>&1) || skip_all "Chromium cannot start: $why"

export WEB_SHOTS="$BUILD/web-shots"
mkdir -p "$WEB_SHOTS"
i=0
for t in "$web"/*.test.mjs; do
    [ -f "$t" ] || continue
    i=$((i + 1))
    name=$(basename "$t" .test.mjs)
    [ -z "${WEB_ONLY:-}" ] || [ "$WEB_ONLY" = "$name" ] || continue
    L="$T_TMP/lab$i"
    new_lab "$L" || { not_ok "$name: lab init"; continue; }
    "$WAPSIM" --lab "$L" up >"$T_TMP/up.out" 2>&1 || { not_ok "$name: up ($(tail -n 1 "$T_TMP/up.out"))"; continue; }
    # The lab's root, trusted as the README says (certutil into the browser's NSS database).
    "$WAPSIM" --lab "$L" cert export lab-root-ca --pem --out "$T_TMP/root$i.pem" >/dev/null &&
        certutil -d "sql:$HOME/.pki/nssdb" -A -t "C,," -n "wapsim lab root $i" -i "$T_TMP/root$i.pem" ||
        { not_ok "$name: the lab root trusted in the browser"; continue; }
    portal=$(awk '$2 == "portal.contoso.com" { print $1; exit }' "$L/hosts")
    # A test that dies before it reports (an error outside run(), a crash, the timeout)
    # has printed no "not ok": its exit status is then a failed check of its own.
    WEB_LAB="$L" WEB_PORTAL="$portal" timeout 600 node "$t" >"$T_TMP/$name.tap" 2>&1
    rc=$?
    cat "$T_TMP/$name.tap"
    [ "$rc" -eq 0 ] || grep -q '^not ok' "$T_TMP/$name.tap" ||
        not_ok "$name: node exited $rc before reporting a failed check (an error outside its checks, or killed)"
    "$WAPSIM" --lab "$L" down >/dev/null 2>&1
done
[ "$i" -gt 0 ] || not_ok "there are browser tests (tests/web/*.test.mjs)"
