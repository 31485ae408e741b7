#!/usr/bin/env bash
# Debian's buildah (daemonless OCI image builds from the Dockerfiles in docker/), for
# scripts/build-images.sh. Not part of `make test` (minutes of build, gigabytes of layers;
# see docker/README.md). Also installs crun (its OCI runtime) and mmdebstrap (local base images).
# Idempotent: installs the package only when it is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
have buildah && have crun && have mmdebstrap && exit 0
need_root
log "installing Debian's buildah, crun (its OCI runtime) and mmdebstrap"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends buildah crun mmdebstrap >&2 ||
  { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends buildah crun mmdebstrap >&2; }
