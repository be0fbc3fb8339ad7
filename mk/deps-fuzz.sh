#!/bin/sh
# make fuzz: the Debian packages the fuzz targets build with (clang and its libFuzzer
# runtime), on top of make deps'. make test never needs them.
# As root, installs what is missing; otherwise prints the exact apt-get line and fails.
set -u
PKGS="clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "make fuzz: missing Debian packages:$missing (and no apt-get here to install them)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "make fuzz: missing Debian packages. Run as root:" >&2
  echo "  apt-get update && apt-get install -y$missing" >&2
  exit 1
fi
echo "make fuzz: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends$missing >/dev/null || {
  echo "make fuzz: apt-get install -y$missing failed" >&2; exit 1; }
