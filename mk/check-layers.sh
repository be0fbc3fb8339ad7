#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make check-layers: the include rules of README "Layout", checked on the tree.
# - a file in sim/LAYER includes only headers of its own layer or of the layers
#   before it, in this order: base crypto wire lab svc client train cli
#   (so wire/ sees only base/ and crypto/, and only cli/ sees a command header);
# - a component (portal spf vmm gateway host) includes sim/ headers and its own
#   files, never another component's: components talk over the wire.
# Prints one line per bad include (file:line: what) and exits 1 when there is any.
# usage: mk/check-layers.sh [TOP]   (TOP: the tree to check, default: this one)
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 2
order="base crypto wire lab svc client train cli"
components="portal spf vmm gateway host"
rank() { i=0; for l in $order; do [ "$l" = "$1" ] && { echo $i; return; }; i=$((i + 1)); done; echo -1; }

for layer in $order; do
    [ -d "sim/$layer" ] || continue
    mine=$(rank "$layer")
    for f in sim/$layer/*.c sim/$layer/*.h; do
        [ -f "$f" ] || continue
        grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r hit; do
            line=${hit%%:*}
            inc=$(printf '%s' "$hit" | sed 's/^[^"]*"\([^"]*\)".*/\1/')
            dir=${inc%%/*}
            if [ "$dir" = "$inc" ]; then
                echo "$f:$line: includes \"$inc\" without its layer (write \"$layer/$inc\" or the layer it is in)"
                continue
            fi
            theirs=$(rank "$dir")
            if [ "$theirs" -lt 0 ]; then
                echo "$f:$line: includes \"$inc\", which is not in a layer of sim/"
            elif [ "$theirs" -gt "$mine" ]; then
                echo "$f:$line: $layer/ includes \"$inc\": $dir/ comes after $layer/ (order: $order)"
            fi
        done
    done
done >"${TMPDIR:-/tmp}/check-layers.$$"

for c in $components; do
    [ -d "$c" ] || continue
    for f in "$c"/*.c "$c"/*.h; do
        [ -f "$f" ] || continue
        grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r hit; do
            line=${hit%%:*}
            inc=$(printf '%s' "$hit" | sed 's/^[^"]*"\([^"]*\)".*/\1/')
            case "$inc" in
            cli/*) echo "$f:$line: component $c includes the command header \"$inc\"" ;;
            */*)
                dir=${inc%%/*}
                other=$(echo "$inc" | sed 's|^\(\.\./\)*||; s|/.*||')
                if [ "$(rank "$dir")" -ge 0 ]; then :
                elif echo " $components " | grep -q " $other "; then
                    echo "$f:$line: component $c includes \"$inc\" of component $other (components talk over the wire)"
                else
                    echo "$f:$line: component $c includes \"$inc\", which is neither sim/ nor its own"
                fi ;;
            *) [ -f "$c/$inc" ] || echo "$f:$line: component $c includes \"$inc\", which is not a file of $c/" ;;
            esac
        done
    done
done >>"${TMPDIR:-/tmp}/check-layers.$$"

out="${TMPDIR:-/tmp}/check-layers.$$"
n=$(wc -l <"$out")
cat "$out"; rm -f "$out"
if [ "$n" -ne 0 ]; then
    echo "check-layers: $n bad include(s)"
    exit 1
fi
echo "check-layers: ok"
