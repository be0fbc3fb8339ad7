#!/bin/sh
# make deps: the Debian packages wapsim builds and tests with.
# As root, installs what is missing; otherwise prints the exact apt-get line and fails.
set -u
PKGS="build-essential pkg-config libsqlite3-dev libssl-dev libmicrohttpd-dev libcjson-dev libcmocka-dev libcurl4-openssl-dev zlib1g-dev console-setup-linux
      xvfb x11-apps x11-utils xdotool netpbm freerdp2-x11 sqlite3 openssl curl libxml2-utils"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "make deps: missing Debian packages:$missing (and no apt-get here to install them)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "make deps: missing Debian packages. Run as root:" >&2
  echo "  apt-get update && apt-get install -y$missing" >&2
  exit 1
fi
echo "make deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends$missing >/dev/null || {
  echo "make deps: apt-get install -y$missing failed" >&2; exit 1; }
