#!/usr/bin/env bash
# FerretDB (a MongoDB wire-protocol server on SQLite) for the coordinator's MongoDB tests.
# Test-only: the product contains no Go. Built once with `go install` into the cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
version=v1.24.2
bin="$GTHULHU_CACHE/bin/ferretdb"
stamp="$GTHULHU_CACHE/bin/.ferretdb-$version"
[[ -x "$bin" && -e "$stamp" ]] && exit 0
command -v go >/dev/null || { log "go not found: FerretDB tests will skip"; exit 0; }
log "building FerretDB $version (once; cached in $GTHULHU_CACHE/bin)"
mkdir -p "$GTHULHU_CACHE/bin"
( cd /tmp && GOBIN="$GTHULHU_CACHE/bin" GOFLAGS=-mod=mod go install "github.com/FerretDB/FerretDB/cmd/ferretdb@$version" )
touch "$stamp"
