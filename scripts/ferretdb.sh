#!/usr/bin/env bash
# FerretDB (a MongoDB wire-protocol server on SQLite) for the coordinator's MongoDB tests.
# Test-only: the product contains no Go. Built once into the cache from the module
# source: `go install` alone gives a binary that dies at start ("Invalid
# build/version/version.txt") because the module ships no version file, so the
# source is copied, the version file written, and the command built from there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
version=v1.24.2
bin="$GTHULHU_CACHE/bin/ferretdb"
stamp="$GTHULHU_CACHE/bin/.ferretdb-$version"
[[ -x "$bin" && -e "$stamp" ]] && exit 0
command -v go >/dev/null || { log "go not found: the FerretDB (MongoDB store) tests will skip"; exit 0; }
log "building FerretDB $version (once; cached in $GTHULHU_CACHE/bin)"
mkdir -p "$GTHULHU_CACHE/bin"
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
src=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$version" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
cp -r "$src" "$work/ferretdb"
chmod -R u+w "$work/ferretdb"
echo "$version" > "$work/ferretdb/build/version/version.txt"
( cd "$work/ferretdb" && go build -trimpath -o "$bin.new" ./cmd/ferretdb )
mv "$bin.new" "$bin"
"$bin" --version >/dev/null 2>&1 || die "the FerretDB build does not start: $bin --version failed"
touch "$stamp"
log "FerretDB $version ready"
