#!/usr/bin/env bash
# Helm for the chart checks (tests/chart): `helm lint` and `helm template` of
# charts/gthulhu. Test and packaging tooling only; the product contains no Go.
# No Debian package has Helm, so it is built once from the Go module proxy (the Go
# environment of this machine decides which proxy) into $GTHULHU_CACHE/bin.
# Idempotent: a stamp file per version; about 3.5 min of CPU the first time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
version=v3.22.0
bin="$GTHULHU_CACHE/bin/helm"
stamp="$GTHULHU_CACHE/bin/.helm-$version"
[[ -x "$bin" && -e "$stamp" ]] && exit 0
command -v go >/dev/null || { log "go not found: the chart checks (tests/chart) will skip"; exit 0; }
log "building helm $version (once, about 3.5 min of CPU; cached in $GTHULHU_CACHE/bin)"
mkdir -p "$GTHULHU_CACHE/bin"
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
GOBIN="$work" go install -trimpath "helm.sh/helm/v3/cmd/helm@$version" ||
  { log "go install helm.sh/helm/v3/cmd/helm@$version failed: the chart checks (tests/chart) will skip"; exit 0; }
"$work/helm" version --short >/dev/null || die "the helm build does not start: helm version failed"
mv "$work/helm" "$bin"
touch "$stamp"
log "helm $version ready ($("$bin" version --short))"
