#!/usr/bin/env bash
# The web UI's packages: `npm ci` into ui/node_modules from the committed lock file,
# through npm's configured registry (nothing is named here). Runs only when the lock
# file changed since the last install (a stamp in node_modules), so it is idempotent
# and takes no time when all is present. npm keeps its own download cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
ui="$here/../ui"
command -v npm >/dev/null || { log "npm not found: the web UI will not be built and its tests skip"; exit 0; }
# Vite 8 needs Node.js 20.19 or newer.
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  log "Node.js $(node --version) is older than 20.19: the web UI will not be built and its tests skip"
  exit 0
fi
want=$(sha256sum "$ui/package-lock.json" | cut -d' ' -f1)
stamp="$ui/node_modules/.gthulhu-lock-sha256"
if [[ -e "$stamp" && "$(cat "$stamp")" == "$want" ]]; then exit 0; fi
log "installing the web UI's packages (npm ci)"
( cd "$ui" && npm ci --no-audit --no-fund --loglevel=warn )
echo "$want" > "$stamp"
