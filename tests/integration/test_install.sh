#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make install PREFIX=<tmp>: the installed wapsim trains without the source tree. It finds its
# components in PREFIX/libexec/wapsim (a lab comes up and a tenant connects), its scenarios
# and exercises in PREFIX/share/wapsim/scenarios (exercise list lists every shipped exercise,
# scenario run without a path runs every shipped scenario), names its version (VERSION, the
# one place: debian/changelog and the manual pages carry the same) and the libraries it runs
# on; man -l renders the three manual pages and wapsim(1) lists every command; the bash
# completion loads and completes. (issue 19)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/installed.sh"

top=$I_TOP
: "${BUILD:=$top/build}"
P=$T_TMP/prefix

# ---- the version in one place
check_eq "debian/changelog's version is VERSION's" "$I_VERSION" \
    "$(sed -n '1s/^wapsim (\([^)]*\)).*/\1/p' "$top/debian/changelog")"
check "CHANGELOG.md has a section for VERSION" grep -q "^## $I_VERSION " "$top/CHANGELOG.md"
check "LICENSE is the Apache License 2.0" grep -q 'Apache License' "$top/LICENSE"
# Every source file carries the licence line (mk/spdx.sh adds it; --check lists what lacks it).
sh "$top/mk/spdx.sh" --check >"$T_TMP/spdx" 2>&1; rc=$?
check_eq "mk/spdx.sh --check: every source file has SPDX-License-Identifier: Apache-2.0" "0:" \
    "$rc:$(head -n 5 "$T_TMP/spdx" | tr '\n' ' ')$( [ "$(wc -l <"$T_TMP/spdx")" -gt 5 ] && echo "... ($(wc -l <"$T_TMP/spdx") files)")"

# ---- make install into a prefix of this test's own (the build is make test's: nothing rebuilt)
make -C "$top" install BUILD="$BUILD" PREFIX="$P" >"$T_TMP/install.out" 2>&1; rc=$?
check_eq "make install PREFIX=$P exits 0" 0 "$rc"
[ "$rc" -eq 0 ] || { sed 's/^/# /' "$T_TMP/install.out" | tail -n 20; exit 0; }
check "... the manual pages in share/man" test -f "$P/share/man/man1/wapsim.1" -a -f "$P/share/man/man5/wapsim-scenario.5" \
    -a -f "$P/share/man/man5/wapsim-deployment.5"
check "... the bash completion in share/bash-completion/completions" test -f "$P/share/bash-completion/completions/wapsim"
check "... LICENSE, README.md and CHANGELOG.md in share/doc/wapsim" test -f "$P/share/doc/wapsim/LICENSE" \
    -a -f "$P/share/doc/wapsim/README.md" -a -f "$P/share/doc/wapsim/CHANGELOG.md"

installed_checks "" "$P" "make install"
for page in "$P/share/man/man1/wapsim.1" "$P/share/man/man5/wapsim-scenario.5" "$P/share/man/man5/wapsim-deployment.5"; do
    installed_man "$page" "make install"
done
command -v man >/dev/null 2>&1 && installed_man_commands "$P/share/man/man1/wapsim.1" "$P/bin/wapsim" "make install"
installed_completion "$P/share/bash-completion/completions/wapsim" "$P/bin/wapsim" "make install"

# ---- the classroom's unit template (README "A classroom machine"): in PREFIX/lib/systemd/system,
# naming PREFIX/bin/wapsim, never enabled; its commands run by hand (PID 1 may not be systemd).
U="$P/lib/systemd/system/wapsim-classroom@.service"
installed_unit "$U" "$P/bin" "make install"
check_eq "make install enables nothing: no .wants folder in $P, no link to $P in /etc/systemd/system" "" \
    "$(find "$P" -name '*.wants'; find /etc/systemd/system -lname "$P/*" 2>/dev/null | head -n 3)"
mkdir -p "$T_TMP/var/lib/wapsim" "$T_TMP/var/cache/wapsim"
installed_unit_run "$U" "$P/bin/wapsim" "$T_TMP/var/lib/wapsim" "$T_TMP/var/cache/wapsim" "" "make install"
