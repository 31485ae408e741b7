#!/usr/bin/env bash
# A Debian kernel with sched_ext (the host kernel lacks it), for the VM tests:
#   $GTHULHU_CACHE/kernel/vmlinuz-7.3.4   what scripts/vm/run.sh boots
#   $GTHULHU_CACHE/kernel/config-7.3.4    its .config, to check options without booting
#   $GTHULHU_CACHE/kernel/7.3.4/          the unpacked packages
# From trixie-backports through a private apt configuration (system sources untouched).
# Only linux-binary (vmlinuz) and linux-base (config): the VM tests pack their files
# into the initramfs, so no modules (9p, virtio-fs) are needed.
# Idempotent: a stamp holding the package version makes a rerun a no-op.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

KERNEL_VERSION=${KERNEL_VERSION:-7.3.4}
KERNEL_ABI=${KERNEL_ABI:-$KERNEL_VERSION+deb13-amd64}
KERNEL_SUITE=${KERNEL_SUITE:-trixie-backports}
dir=$GTHULHU_CACHE/kernel
tree=$dir/$KERNEL_VERSION
stamp=$dir/.$KERNEL_VERSION.stamp
packages=("linux-binary-$KERNEL_ABI" "linux-base-$KERNEL_ABI")

if [[ -f $stamp && -f $dir/vmlinuz-$KERNEL_VERSION && -f $dir/config-$KERNEL_VERSION ]]; then
  log "kernel cached: $dir/vmlinuz-$KERNEL_VERSION ($(<"$stamp"))"
  exit 0
fi

log "kernel $KERNEL_ABI: fetching ${packages[*]} from $KERNEL_SUITE into $dir"
source_line=$(debian_source deb "$KERNEL_SUITE")
private_apt "$KERNEL_SUITE" "$source_line"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=$(private_apt_flags "$KERNEL_SUITE")
# _apt cannot write into a private directory under $HOME: download as root.
# A failed download usually means the private index is stale: refresh once and retry.
# shellcheck disable=SC2086
if ! (cd "$work" && apt-get -q $flags -o APT::Sandbox::User=root download "${packages[@]}" >&2); then
  log "refreshing the $KERNEL_SUITE package index and retrying"
  rm -f "$GTHULHU_CACHE/apt-$KERNEL_SUITE/updated"
  private_apt "$KERNEL_SUITE" "$source_line"
  (cd "$work" && apt-get -q $flags -o APT::Sandbox::User=root download "${packages[@]}" >&2)
fi

rm -rf "$tree"
mkdir -p "$tree"
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$tree"; done
moddir=$tree/usr/lib/modules/$KERNEL_ABI
[[ -f $moddir/vmlinuz ]] || die "no vmlinuz in ${packages[0]}"
grep -q '^CONFIG_SCHED_CLASS_EXT=y' "$moddir/config" ||
  die "$KERNEL_ABI is built without CONFIG_SCHED_CLASS_EXT"
# Stable names, independent of the Debian ABI string, for the runner and the docs.
ln -sfn "$KERNEL_VERSION/usr/lib/modules/$KERNEL_ABI/vmlinuz" "$dir/vmlinuz-$KERNEL_VERSION"
ln -sfn "$KERNEL_VERSION/usr/lib/modules/$KERNEL_ABI/config" "$dir/config-$KERNEL_VERSION"
binary_deb=$(echo "$work/${packages[0]}"_*.deb)
echo "$(dpkg-deb -f "$binary_deb" Package) $(dpkg-deb -f "$binary_deb" Version)" > "$stamp"
log "kernel ready: $dir/vmlinuz-$KERNEL_VERSION ($(<"$stamp"))"
