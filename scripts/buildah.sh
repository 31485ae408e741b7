#!/usr/bin/env bash
# Debian's buildah (daemonless OCI image builds from the Dockerfiles in docker/), for
# `make images`. Not part of `make test`: building needs the Debian base image from a
# container registry, which the project's CI machines do not reach (see docker/README.md).
# Idempotent: installs the package only when it is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
if dpkg-query -W -f='${Status}' buildah 2>/dev/null | grep -q 'install ok installed'; then exit 0; fi
need_root
log "installing Debian's buildah"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends buildah fuse-overlayfs >&2 ||
  { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends buildah fuse-overlayfs >&2; }
