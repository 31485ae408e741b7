#!/usr/bin/env bash
# kubernetes-validate (PyPI) for the chart checks (tests/chart): it carries the
# Kubernetes JSON schemas for many versions, so `--strict` validation (unknown fields
# are errors) works offline. Installed once into a venv in the cache; pip uses this
# machine's own configuration (index, proxy, certificates). Idempotent: a stamp file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
version=1.37.0
venv="$GTHULHU_CACHE/kubernetes-validate-venv"
stamp="$venv/.kubernetes-validate-$version"
[[ -x "$venv/bin/kubernetes-validate" && -e "$stamp" ]] && exit 0
command -v python3 >/dev/null || { log "python3 not found: the chart checks (tests/chart) will skip"; exit 0; }
log "installing kubernetes-validate $version into $venv"
rm -rf "$venv"
python3 -m venv "$venv" || { log "python3 -m venv failed: the chart checks (tests/chart) will skip"; exit 0; }
"$venv/bin/pip" install -q "kubernetes-validate==$version" ||
  { log "pip install kubernetes-validate==$version failed: the chart checks (tests/chart) will skip"; exit 0; }
"$venv/bin/kubernetes-validate" --version >/dev/null ||
  die "kubernetes-validate does not start: $venv/bin/kubernetes-validate --version failed"
touch "$stamp"
log "kubernetes-validate $version ready in $venv"
