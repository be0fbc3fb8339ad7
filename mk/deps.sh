#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make deps: the Debian packages wapsim builds and tests with.
# As root, installs what is missing; otherwise prints the exact apt-get line and fails.
# mk/deps.sh LABEL PKG...: the same for another list (make fuzz, build-freerdp3), LABEL
# starting its messages.
set -u
if [ $# -gt 0 ]; then
  label=$1; shift
  PKGS="$*"
else
  label="make deps"
  PKGS="build-essential pkg-config libsqlite3-dev libssl-dev libmicrohttpd-dev libcjson-dev libcmocka-dev libcurl4-openssl-dev zlib1g-dev libarchive-dev console-setup-linux
      xvfb x11-apps x11-utils xdotool netpbm freerdp2-x11 sqlite3 openssl curl libxml2-utils python3-jsonschema man-db
      chromium libnss3-tools"
fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$label: missing Debian packages:$missing (and no apt-get here to install them)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "$label: missing Debian packages. Run as root:" >&2
  echo "  apt-get update && apt-get install -y$missing" >&2
  exit 1
fi
echo "$label: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends$missing >/dev/null || {
  echo "$label: apt-get install -y$missing failed" >&2; exit 1; }
