#!/usr/bin/env bash
# Installs schemathesis (PyPI) into a virtual environment in the cache, for the API
# test tests/api (schemathesis against a real coordinator). Idempotent: a venv that
# already has this version is left alone. pip uses the machine's own configuration
# (index, proxy, certificates); no index host is named here.
# Prints nothing on success; on failure says why and exits 1 (the test then skips).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

version=4.32.5
venv=$GTHULHU_CACHE/schemathesis-venv
# The marker is written last: a venv left half-installed by an interrupted run is redone.
marker=$venv/.gthulhu-schemathesis-$version
[[ -e $marker && -x $venv/bin/schemathesis ]] && exit 0
command -v python3 >/dev/null || die "python3 is missing (schemathesis needs Python >= 3.9)"
log "installing schemathesis $version into $venv"
rm -rf "$venv"
python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
"$venv/bin/pip" install -q "schemathesis==$version" ||
  { rm -rf "$venv"; die "pip could not install schemathesis $version"; }
touch "$marker"
