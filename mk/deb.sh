#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make deb: builds BUILD/deb/wapsim_VERSION_ARCH.deb with dpkg-buildpackage (debian/), from
# a copy of the sources in BUILD/deb/wapsim-VERSION/ (dpkg-buildpackage writes its results
# in the parent folder of the tree it builds: here BUILD/deb, never outside the checkout).
# Then lintian: an error fails the target. Prints the package's path last.
# usage: mk/deb.sh BUILD_DIR
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build="$top/$build" ;; esac
version=$(cat "$top/VERSION")
# The package's version is debian/changelog's: it must be VERSION's.
deb_version=$(cd "$top" && dpkg-parsechangelog -S Version)
if [ "$deb_version" != "$version" ]; then
    echo "make deb: debian/changelog's version is $deb_version, VERSION says $version: add a changelog entry" >&2
    exit 1
fi
out="$build/deb"
src="$out/wapsim-$version"
rm -rf "$out"
mkdir -p "$src"
# The sources: what git tracks plus new files it does not ignore (build/, lab/ stay out).
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$top" && git ls-files -z --cached --others --exclude-standard | xargs -0 -r sh -c \
        'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh | tar --null -T - -cf -) | tar -C "$src" -xf -
else
    (cd "$top" && tar --exclude=./build --exclude=./lab --exclude=./.git -cf - .) | tar -C "$src" -xf -
fi
arch=$(dpkg --print-architecture)
echo "make deb: dpkg-buildpackage -us -uc -b in $src"
start=$(date +%s)
(cd "$src" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$out/build.log" 2>&1 || {
    tail -n 40 "$out/build.log" >&2
    echo "make deb: dpkg-buildpackage failed (the whole log: $out/build.log)" >&2
    exit 1
}
echo "make deb: built in $(($(date +%s) - start)) s"
deb="$out/wapsim_${version}_${arch}.deb"
[ -f "$deb" ] || { echo "make deb: $deb was not made" >&2; exit 1; }
# Lintian on the package (errors fail; warnings are printed).
if lintian --fail-on error --suppress-tags-from-file /dev/null "$deb" >"$out/lintian.log" 2>&1; then
    sed 's/^/lintian: /' "$out/lintian.log"
else
    sed 's/^/lintian: /' "$out/lintian.log" >&2
    echo "make deb: lintian reports errors in $deb" >&2
    exit 1
fi
# The copied sources and the package's build folder are not needed any more (a failed build
# keeps them, for its log's sake).
rm -rf "$src"
echo "$deb"
