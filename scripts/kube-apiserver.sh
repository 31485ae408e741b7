#!/usr/bin/env bash
# etcd + kube-apiserver for the coordinator's real-server Kubernetes tests (tests/kube).
# Test-only: the product contains no Go and talks to any conformant API server.
# No Debian package has kube-apiserver and bookworm's etcd (3.4) is too old for it, so
# both are built once from the Go module proxy into $GTHULHU_CACHE/bin. `go install`
# refuses both (their go.mod files carry replace directives), hence a throwaway consumer
# module per binary. kube-apiserver's module needs one replace line per staging module
# (k8s.io/api, k8s.io/apiserver, ...): they are read from k8s.io/kubernetes' own go.mod,
# so a version bump needs no hand-kept list. Idempotent (go_build_cached in lib.sh: a
# stamp file per version).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

etcd_version=v3.6.16
kube_version=v1.36.3

build_etcd() {
  local d="$1/etcd" out=$2
  log "etcd $etcd_version: about 1.5 min of CPU"
  mkdir -p "$d"
  printf 'module local/etcdbuild\n\ngo 1.26\n' > "$d/go.mod"
  (cd "$d" && go get "go.etcd.io/etcd/server/v3@$etcd_version" &&
    go build -trimpath -o "$out" go.etcd.io/etcd/server/v3)
}

# Prints "replace k8s.io/X => k8s.io/X v0.<minor>.<patch>" for every staging module in
# the replace block of k8s.io/kubernetes' go.mod (those point at ./staging/src/...).
staging_replaces() {
  local gomod=$1 staging_version=v0.${kube_version#v1.}
  awk -v ver="$staging_version" '
    /^replace \($/ { inblock = 1; next }
    inblock && /^\)/ { inblock = 0 }
    inblock && $2 == "=>" && $3 ~ /^\.\/staging\/src\// { print "replace " $1 " => " $1 " " ver }
  ' "$gomod"
}

build_kube() {
  local d="$1/kube" out=$2 gomod replaces count minor=${kube_version#v1.}
  log "kube-apiserver $kube_version: about 9 min of CPU"
  minor=${minor%%.*}
  mkdir -p "$d"
  gomod=$(cd "$d" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$kube_version" |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  replaces=$(staging_replaces "$gomod")
  count=$(grep -c . <<<"$replaces" || true)
  ((count >= 20)) || die "found only $count staging replace lines in $gomod (expected about 33)"
  log "kube-apiserver: $count staging modules replaced at v0.${kube_version#v1.}"
  { printf 'module local/kubebuild\n\ngo 1.26\n\nrequire k8s.io/kubernetes %s\n\n' "$kube_version"
    printf '%s\n' "$replaces"; } > "$d/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver/app"\n' > "$d/tools.go"
  (cd "$d" && go mod tidy &&
    go build -trimpath -o "$out" -ldflags \
      "-X k8s.io/component-base/version.gitVersion=$kube_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
      k8s.io/kubernetes/cmd/kube-apiserver)
}

what="the real kube-apiserver tests (tests/kube)"
go_build_cached etcd "$etcd_version" "$what" build_etcd --version
go_build_cached kube-apiserver "$kube_version" "$what" build_kube --version
