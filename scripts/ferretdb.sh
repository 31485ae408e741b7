#!/usr/bin/env bash
# FerretDB (a MongoDB wire-protocol server on SQLite) for the coordinator's MongoDB tests.
# Test-only: the product contains no Go. Built once into the cache from the module
# source: `go install` alone gives a binary that dies at start ("Invalid
# build/version/version.txt") because the module ships no version file, so the
# source is copied, the version file written, and the command built from there.
# Idempotent (go_build_cached in lib.sh: a stamp file per version).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
version=v1.24.2

build_ferretdb() {
  local work=$1 out=$2 src
  src=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$version" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  cp -r "$src" "$work/ferretdb"
  chmod -R u+w "$work/ferretdb"
  echo "$version" > "$work/ferretdb/build/version/version.txt"
  (cd "$work/ferretdb" && go build -trimpath -o "$out" ./cmd/ferretdb)
}

go_build_cached ferretdb "$version" "the FerretDB (MongoDB store) tests" build_ferretdb --version
