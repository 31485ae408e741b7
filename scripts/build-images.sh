#!/usr/bin/env bash
# Builds the two images (docker/*.Dockerfile) with Debian's buildah, daemonless, and
# smoke-runs each binary from its image (--version, --help-config).
# Without a reachable container registry the Debian base image is made here from Debian
# packages instead (mmdebstrap through this machine's own Debian mirror, as
# localhost/gthulhu-debian:bookworm, once); GTHULHU_BASE_IMAGE names another one.
# Usage: scripts/build-images.sh [coordinator] [agent]   (default: both)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
"$here/buildah.sh"
b() { buildah --storage-driver vfs "$@"; }
# chroot isolation: no OCI runtime, no cgroups (crun refuses hybrid cgroup hosts like the
# project's machines: "cgroups in hybrid mode not supported").
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
tag=$(awk '/^appVersion:/ {gsub(/"/, "", $2); print $2}' "$root/charts/gthulhu/Chart.yaml")
services=("$@"); ((${#services[@]})) || services=(coordinator agent)

base=${GTHULHU_BASE_IMAGE:-localhost/gthulhu-debian:bookworm}
if [[ -z ${GTHULHU_BASE_IMAGE:-} ]] && ! b inspect --type image "$base" >/dev/null 2>&1; then
  mirror=$(debian_mirror)
  log "making $base from Debian packages (mmdebstrap, $mirror)"
  tarball="$GTHULHU_CACHE/gthulhu-debian-bookworm.tar"
  mmdebstrap --variant=minbase --include=ca-certificates bookworm "$tarball" "deb $mirror bookworm main" \
    "deb $mirror bookworm-updates main"
  ctr=$(b from scratch)
  b add "$ctr" "$tarball" /
  b config --cmd /bin/bash "$ctr"
  b commit -q "$ctr" "$base" >/dev/null
  b rm "$ctr" >/dev/null
  rm -f "$tarball"
fi

# Node.js >= 20.19 for the web UI stage (bookworm's nodejs is 18): Debian trixie's
# nodejs and npm, made the same way (the stage only outputs static files).
node_image=${GTHULHU_NODE_IMAGE:-localhost/gthulhu-node:trixie}
if [[ " ${services[*]} " == *" coordinator "* && -z ${GTHULHU_NODE_IMAGE:-} ]] &&
   ! b inspect --type image "$node_image" >/dev/null 2>&1; then
  mirror=$(debian_mirror)
  log "making $node_image from Debian trixie's nodejs and npm (mmdebstrap, $mirror)"
  tarball="$GTHULHU_CACHE/gthulhu-node-trixie.tar"
  mmdebstrap --variant=minbase --include=ca-certificates,nodejs,npm trixie "$tarball" "deb $mirror trixie main"
  ctr=$(b from scratch)
  b add "$ctr" "$tarball" /
  b run "$ctr" -- node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
    die "Node.js in $node_image is older than 20.19 (Vite 8): set GTHULHU_NODE_IMAGE"
  b commit -q "$ctr" "$node_image" >/dev/null
  b rm "$ctr" >/dev/null
  rm -f "$tarball"
fi

for svc in "${services[@]}"; do
  image="gthulhu/$svc:$tag"
  log "building $image"
  # This machine's trust store as the optional "ca_bundle" build secret: the npm
  # registry may sit behind a proxy whose CA only the host trusts (public certificates).
  b bud --network host --layers=false -f "$root/docker/$svc.Dockerfile" \
    --secret id=ca_bundle,src="${GTHULHU_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" \
    --build-arg BASE_IMAGE="$base" --build-arg RUNTIME_IMAGE="$base" \
    --build-arg NODE_IMAGE="$node_image" -t "$image" "$root"
  ctr=$(b from "$image")
  b run "$ctr" -- "/usr/local/bin/gthulhu-$svc" --version
  keys=$(b run "$ctr" -- "/usr/local/bin/gthulhu-$svc" --help-config | grep -c '^| `')
  ((keys > 10)) || die "gthulhu-$svc --help-config printed $keys keys from the image"
  log "gthulhu-$svc --help-config from the image: $keys configuration keys"
  if [[ $svc == coordinator ]]; then
    b run "$ctr" -- test -s /usr/share/gthulhu/webui/index.html || die "the image has no web UI"
  fi
  b rm "$ctr" >/dev/null
  log "$image built and its binary runs ($(b images --format '{{.Size}}' "$image"))"
done
