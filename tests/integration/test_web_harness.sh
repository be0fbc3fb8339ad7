#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/web/test_web.sh counts a browser test that dies before it reports (an error at
# import, a crash, the 600 s timeout) as failed, never as passed: run here on a copy of
# tests/web whose only test throws before its first check.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || skip_all "no Chromium: test_web.sh skips every browser test"
[ -d "$top/tests/web/node_modules/playwright-core" ] || skip_all "no playwright-core in tests/web (make deps)"

mkdir -p "$T_TMP/copy/web" "$T_TMP/copy/integration"
cp "$top/tests/web/test_web.sh" "$top/tests/web/lib.mjs" "$top/tests/web/probe.mjs" "$T_TMP/copy/web/"
ln -s "$top/tests/web/node_modules" "$T_TMP/copy/web/node_modules"
ln -s "$top/tests/integration/lib.sh" "$T_TMP/copy/integration/lib.sh"
cat >"$T_TMP/copy/web/dies.test.mjs" <<'EOF'
import { ok } from './lib.mjs';
ok('a check before the test dies');
throw new Error('this browser test dies before its other checks');
EOF
BUILD="$T_TMP/build" sh "$T_TMP/copy/web/test_web.sh" >"$T_TMP/web.out" 2>&1
if grep -q '^ok [0-9]* *# *SKIP' "$T_TMP/web.out"; then
    skip "test_web.sh skipped: $(grep '# *SKIP' "$T_TMP/web.out" | head -n 1)"
else
    check "a browser test that dies is a failed check (a not ok line), not a pass" \
        grep -q "^not ok" "$T_TMP/web.out"
    check_eq "... naming the test" 1 "$(grep '^not ok' "$T_TMP/web.out" | grep -c 'dies')"
    check "... and its own check before it died still shows" grep -q '^ok - a check before the test dies' "$T_TMP/web.out"
fi
