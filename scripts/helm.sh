#!/usr/bin/env bash
# Helm for the chart checks (tests/chart): `helm lint` and `helm template` of
# charts/gthulhu. Test and packaging tooling only; the product contains no Go.
# No Debian package has Helm, so it is built once from the Go module proxy (the Go
# environment of this machine decides which proxy) into $GTHULHU_CACHE/bin.
# Idempotent (go_build_cached in lib.sh: a stamp file per version); about 3.5 min of
# CPU the first time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
version=v3.22.0

build_helm() {
  local work=$1 out=$2
  GOBIN="$work/gobin" go install -trimpath "helm.sh/helm/v3/cmd/helm@$version"
  mv "$work/gobin/helm" "$out"
}

go_build_cached helm "$version" "the chart checks (tests/chart)" build_helm version --short
