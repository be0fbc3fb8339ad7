#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make deps, the browser tests' part: Node.js (Debian's nodejs and npm when no node is
# installed) and tests/web's packages, exactly as package-lock.json pins them (npm ci),
# when node_modules is missing or older than the lockfile. As root it installs what is
# missing; otherwise it prints what to run and fails.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
web="$top/tests/web"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    sh "$top/mk/deps.sh" "make deps (browser tests)" nodejs npm || exit 1
fi
stamp="$web/node_modules/.package-lock.json"
if [ -f "$stamp" ] && [ ! "$web/package-lock.json" -nt "$stamp" ]; then
    exit 0
fi
echo "make deps: npm ci in tests/web (playwright-core, as package-lock.json pins it)"
# A build needs none of it: without the registry the build goes on, and the browser tests
# fail saying playwright-core is missing.
cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null || {
    echo "make deps: npm ci in tests/web failed (is the npm registry reachable?): the browser tests will fail" >&2; exit 0; }
