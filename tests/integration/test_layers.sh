#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make check-layers: passes on the tree, and fails naming file and include on each
# kind of bad include (a copy of the tree with one bad line added each time).
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

check "the tree keeps the include rules" sh "$top/mk/check-layers.sh" "$top"

# bad_include NAME FILE LINE EXPECT: copy the tree, add LINE to FILE, expect a failure naming FILE and EXPECT.
bad_include() {
    what=$1 file=$2 line=$3 expect=$4
    copy="$T_TMP/tree-$T_N"
    mkdir -p "$copy"
    (cd "$top" && tar cf - mk sim portal spf vmm gateway host) | (cd "$copy" && tar xf -)
    printf '%s\n' "$line" >>"$copy/$file"
    sh "$copy/mk/check-layers.sh" "$copy" >"$T_TMP/layers.out" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] && grep -q "^$file:.*$expect" "$T_TMP/layers.out"; then
        ok "check-layers fails on $what"
    else
        not_ok "check-layers fails on $what (exit $rc: $(head -c 300 "$T_TMP/layers.out"))"
    fi
}
bad_include "a wire/ file including lab/" sim/wire/tsgu.c '#include "lab/state.h"' 'lab/state.h'
bad_include "a crypto/ file including svc/" sim/crypto/cert.c '#include "svc/httpd.h"' 'svc/httpd.h'
bad_include "a layer file including a command header" sim/train/diagnose.c '#include "cli/cmd.h"' 'cli/cmd.h'
bad_include "a component including a command header" host/rdp.c '#include "cli/cmd.h"' 'cli/cmd.h'
bad_include "a component including another component" gateway/tunnel.c '#include "../host/trust.h"' 'host/trust.h'
bad_include "an include without its layer" sim/lab/vault.c '#include "cert.h"' 'cert.h'
