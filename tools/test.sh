#!/bin/sh
# The whole test suite, as README says: `npm test`.
# Installs npm dependencies when missing, builds every package (Nx, cached), checks module
# boundaries and generated-code drift, then runs unit and process-level integration tests,
# ending with one plain summary line: `tests: N passed, N failed`.
set -eu
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
npm run build
npm run check
mkdir -p tmp
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=tmp/vitest-results.json "$@" || status=$?
node tools/test-summary.mjs tmp/vitest-results.json || true
exit "$status"
