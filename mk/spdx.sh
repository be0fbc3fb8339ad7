#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The licence line of every source file: "SPDX-License-Identifier: Apache-2.0" in the file's
# own comment syntax (https://spdx.dev/learn/handling-license-info/).
#   mk/spdx.sh           adds it to every source file that lacks it (idempotent: a file that
#                        has the identifier anywhere is left as it is)
#   mk/spdx.sh --check   lists the source files without it, one per line; exit 1 when any
# Where the line goes:
#   *.c *.h *.js *.css          /* ... */ as line 1
#   shell, Makefile, *.mk, debian/rules and maintainer scripts, systemd/*.in, *.bash, *.py
#                               # ... as line 1, or line 2 after a #! line
#   man/*.in (roff)             .\" ... as line 1, or line 2 after a '\" preprocessor line
#   *.html                      <!-- ... --> as line 1 (after a <!DOCTYPE> line)
#   scenarios/**/*.scn          # ... as line 1
#   tests/scenarios/**/*.scn    # ... as the last line: the runner's tests check their
#                               FILE:LINE messages, which a first line would shift
# Not source (no comment syntax, or data): *.json, *.md, certificates, fuzz corpora, LICENSE,
# VERSION, debian's control files.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
check=0
case ${1:-} in
    --check) check=1 ;;
    "") ;;
    *) echo "usage: mk/spdx.sh [--check]" >&2; exit 2 ;;
esac
ID="SPDX-License-Identifier: Apache-2.0"

# The files: what git tracks plus new files it does not ignore; without git, every file
# outside build/, lab/ and .git/.
list_files() {
    if git rev-parse --git-dir >/dev/null 2>&1; then
        git ls-files --cached --others --exclude-standard
    else
        find . -path ./build -prune -o -path ./lab -prune -o -path ./.git -prune -o -type f -print | sed 's|^\./||'
    fi
}

# The comment style of a source file (c, hash, roff, html, scn, scn-end), or nothing.
style_of() {
    case $1 in
        tests/fuzz/corpus/*|tests/data/*.cer|*.json|*.md) ;;
        tests/scenarios/*.scn) echo scn-end ;;
        *.scn) echo hash ;;
        *.c|*.h|*.js|*.mjs|*.css) echo c ;;
        *.sh|*.bash|*.py|*.mk|Makefile|*/Makefile|debian/rules|debian/*.postinst|debian/*.prerm|debian/*.postrm|systemd/*.in|.ci/*) echo hash ;;
        man/*.in) echo roff ;;
        *.html) echo html ;;
    esac
}

# Inserts LINE into FILE after its first line when that line matches the pattern KEEP
# (a #! line, a roff preprocessor line, a doctype), else before it. Keeps the file's mode.
insert_line() {
    file=$1 line=$2 keep=$3
    tmp="$file.spdx.tmp.$$"
    if [ -n "$keep" ] && head -n 1 "$file" | grep -q "$keep"; then
        { head -n 1 "$file"; printf '%s\n' "$line"; tail -n +2 "$file"; } >"$tmp"
    else
        { printf '%s\n' "$line"; cat "$file"; } >"$tmp"
    fi
    cat "$tmp" >"$file"
    rm -f "$tmp"
}

missing=0
list_files | while IFS= read -r f; do
    [ -f "$f" ] || continue
    style=$(style_of "$f")
    [ -n "$style" ] || continue
    grep -q "SPDX-License-Identifier:" "$f" && continue
    if [ "$check" -eq 1 ]; then
        echo "$f"
        continue
    fi
    case $style in
        c) insert_line "$f" "/* $ID */" "" ;;
        hash) insert_line "$f" "# $ID" '^#!' ;;
        roff) insert_line "$f" ".\\\" $ID" "^'\\\\\"" ;;
        html) insert_line "$f" "<!-- $ID -->" '^<!DOCTYPE' ;;
        scn-end)
            # A file without a final newline gets one first.
            [ -z "$(tail -c 1 "$f")" ] || printf '\n' >>"$f"
            printf '# %s\n' "$ID" >>"$f" ;;
    esac
done >"${TMPDIR:-/tmp}/spdx.$$.out"
out="${TMPDIR:-/tmp}/spdx.$$.out"
if [ -s "$out" ]; then
    missing=1
    cat "$out"
fi
rm -f "$out"
[ "$check" -eq 0 ] || [ "$missing" -eq 0 ]
