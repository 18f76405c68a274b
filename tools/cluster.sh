#!/bin/sh
# One command from a fresh clone to a running local cluster: `npm run cluster`.
# Installs npm dependencies when missing, builds, then runs `meso local` (a master on
# 127.0.0.1:5050 and two agents; Ctrl-C stops everything). Extra arguments go to
# `meso local`, e.g. `npm run cluster -- --agents 3`.
set -eu
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false npm run build >/dev/null
exec node packages/cli/dist/bin/meso.js local "$@"
