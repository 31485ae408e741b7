#!/usr/bin/env bash
# ctest entry of api.schemathesis: finds the schemathesis venv that scripts/schemathesis.sh
# installs in the cache and runs schemathesis_run.py with its Python. Exit 77 (skip,
# with the reason printed) when schemathesis or openssl is missing.
# Usage: schemathesis_test.sh <gthulhu-coordinator> <report dir>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lib.sh"
venv=$GTHULHU_CACHE/schemathesis-venv
if [[ ! -x $venv/bin/schemathesis ]]; then
  echo "SKIP: schemathesis is not installed in $venv (scripts/schemathesis.sh installs it)"
  exit 77
fi
command -v openssl >/dev/null || { echo "SKIP: openssl is needed to make the coordinator's key"; exit 77; }
exec "$venv/bin/python" "$here/schemathesis_run.py" --coordinator "$1" --report-dir "$2" \
  --schemathesis "$venv/bin/schemathesis"
