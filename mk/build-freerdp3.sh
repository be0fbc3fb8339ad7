#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# mk/build-freerdp3.sh SRC [PREFIX]: build a minimal FreeRDP 3 X11 client (xfreerdp) from a
# FreeRDP source tree SRC (a release tag >= 3.29, e.g. `git archive 3.30.0`) and install it
# under PREFIX (default /opt/freerdp3), plus PREFIX/bin/wapsim-freerdp3: a wrapper that sets
# LD_LIBRARY_PATH and execs that xfreerdp, for WAPSIM_FREERDP3 (tests/interop/).
# Nothing it fetches or builds belongs in the repository. Needs cmake, ninja and the Debian
# packages below (as root it installs what is missing). The build is niced: it is long.
set -u
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: mk/build-freerdp3.sh SRC [PREFIX]" >&2; exit 2; }
SRC=$1
PREFIX=${2:-/opt/freerdp3}
[ -f "$SRC/CMakeLists.txt" ] && [ -d "$SRC/client/X11" ] ||
    { echo "build-freerdp3: $SRC is not a FreeRDP source tree (no CMakeLists.txt, client/X11)" >&2; exit 2; }
VER=$(sed -n 's/.*set(RAW_VERSION_STRING "\([0-9.]*\)").*/\1/p' "$SRC/cmake/GetProjectVersion.cmake" 2>/dev/null)
case $VER in
3.29* | 3.[3-9][0-9]* | [4-9].*) echo "build-freerdp3: FreeRDP $VER from $SRC into $PREFIX" ;;
*) echo "build-freerdp3: $SRC is FreeRDP '${VER:-unknown}', not 3.29 or later" >&2; exit 2 ;;
esac

# What FreeRDP 3.30's cmake asks for with the options below (Debian 12).
PKGS="cmake ninja-build pkg-config libssl-dev zlib1g-dev libcjson-dev uuid-dev libicu-dev libusb-1.0-0-dev
      libx11-dev libxext-dev libxkbfile-dev libxrandr-dev libxi-dev libxrender-dev libxcursor-dev
      libxinerama-dev libxdamage-dev libxfixes-dev libxtst-dev libxv-dev libxkbcommon-dev"
# shellcheck disable=SC2086 # the package list, split on purpose
sh "$(dirname "$0")/deps.sh" build-freerdp3 $PKGS || exit 1

# A version tag in the tree, so an archive without .git still reports its release.
[ -f "$SRC/.source_tag" ] || printf '%s\n' "$VER" >"$SRC/.source_tag"
B=$SRC/build-wapsim
# Only the X11 client and the channels it loads: no server, sound, video codecs, smartcards,
# SDL or Wayland client (none is needed to reach a console through a gateway).
cmake -S "$SRC" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -DWITH_X11=ON -DWITH_CLIENT=ON -DWITH_CHANNELS=ON -DWITH_SERVER=OFF -DWITH_SAMPLE=OFF \
    -DWITH_CLIENT_SDL=OFF -DWITH_WAYLAND=OFF -DWITH_FFMPEG=OFF -DWITH_SWSCALE=OFF -DWITH_DSP_FFMPEG=OFF \
    -DWITH_VIDEO_FFMPEG=OFF -DWITH_CUPS=OFF -DWITH_PULSE=OFF -DWITH_ALSA=OFF -DWITH_OSS=OFF \
    -DWITH_FUSE=OFF -DWITH_PCSC=OFF -DWITH_PKCS11=OFF -DWITH_SMARTCARD_EMULATE=OFF -DWITH_KRB5=OFF \
    -DWITH_FDK_AAC=OFF -DWITH_OPUS=OFF -DWITH_LAME=OFF -DWITH_FAAD2=OFF -DWITH_FAAC=OFF -DWITH_SOXR=OFF \
    -DWITH_JPEG=OFF -DWITH_CAIRO=OFF -DWITH_WEBVIEW=OFF -DWITH_AAD=OFF -DWITH_MANPAGES=OFF \
    -DWITH_WINPR_TOOLS=OFF -DWITH_SHADOW=OFF -DWITH_PROXY=OFF -DWITH_PLATFORM_SERVER=OFF \
    -DWITH_INSTALL_CLIENT_DESKTOP_FILES=OFF -DWITH_CCACHE=OFF -DWITH_URIPARSER=OFF \
    -DBUILD_TESTING=OFF >"$B.configure.log" 2>&1 ||
    { tail -n 30 "$B.configure.log" >&2; echo "build-freerdp3: cmake failed (see $B.configure.log)" >&2; exit 1; }
nice -n 19 ninja -C "$B" -j2 >"$B.build.log" 2>&1 ||
    { tail -n 30 "$B.build.log" >&2; echo "build-freerdp3: build failed (see $B.build.log)" >&2; exit 1; }
ninja -C "$B" install >"$B.install.log" 2>&1 ||
    { tail -n 20 "$B.install.log" >&2; echo "build-freerdp3: install failed (see $B.install.log)" >&2; exit 1; }

XF=$PREFIX/bin/xfreerdp
[ -x "$XF" ] || XF=$PREFIX/bin/xfreerdp3
[ -x "$XF" ] || { echo "build-freerdp3: no xfreerdp under $PREFIX/bin after install" >&2; exit 1; }
LIBS=$(find "$PREFIX" -name 'libfreerdp3.so*' -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':')
cat >"$PREFIX/bin/wapsim-freerdp3" <<EOF
#!/bin/sh
# The FreeRDP $VER client built by mk/build-freerdp3.sh, with its own libraries.
LD_LIBRARY_PATH=${LIBS%:}\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
exec "$XF" "\$@"
EOF
chmod 755 "$PREFIX/bin/wapsim-freerdp3"
echo "build-freerdp3: WAPSIM_FREERDP3=$PREFIX/bin/wapsim-freerdp3 ($("$PREFIX/bin/wapsim-freerdp3" /version 2>&1 | head -n 1))"
