#!/usr/bin/env bash
# The Debian kernels with sched_ext the VM tests boot (the host kernel lacks it):
#   $GTHULHU_CACHE/kernel/vmlinuz-VERSION   what scripts/vm/run.sh boots
#   $GTHULHU_CACHE/kernel/config-VERSION    its .config, to check options without booting
#   $GTHULHU_CACHE/kernel/VERSION/          the unpacked packages
# Two pinned versions, so the range the scheduler claims is tested, not only compiled:
#   7.3.4  trixie-backports  linux-binary-7.3.4+deb13-amd64    (every VM test)
#   7.2.13 sid               linux-binary-7.2.13+deb14-amd64   (attach, weight, survival)
# sid moves on: a newer 7.2.x there means a new pin here (its old package leaves the
# archive). Each kernel carries its own BTF (/sys/kernel/btf/vmlinux in the guest),
# which libbpf relocates the scheduler against at load.
#   fetch-kernel.sh            both kernels
#   KERNEL_VERSION=7.2.13 KERNEL_ABI=7.2.13+deb14-amd64 KERNEL_SUITE=sid fetch-kernel.sh
#                              one kernel
# Packages come through a private apt configuration (system sources untouched), from
# the Debian archive URI this machine's own apt configuration uses (no mirror host is
# written here). Only linux-binary (vmlinuz) and linux-base (config): the VM tests pack
# their files into the initramfs, so no modules (9p, virtio-fs) are needed.
# Idempotent: a stamp holding the package version makes a rerun a no-op.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

dir=$GTHULHU_CACHE/kernel

# "deb URI SUITE main" through this machine's own Debian archive (lib.sh).
kernel_source() { debian_source deb "$1"; }

# fetch_kernel VERSION ABI SUITE
fetch_kernel() {
  local version=$1 abi=$2 suite=$3
  local tree=$dir/$version stamp=$dir/.$version.stamp
  local packages=("linux-binary-$abi" "linux-base-$abi")

  if [[ -f $stamp && -f $dir/vmlinuz-$version && -f $dir/config-$version ]]; then
    log "kernel cached: $dir/vmlinuz-$version ($(<"$stamp"))"
    return
  fi

  local source flags work
  source=$(kernel_source "$suite")
  log "kernel $abi: fetching ${packages[*]} from $suite into $dir"
  private_apt "$suite" "$source"
  work=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  flags=$(private_apt_flags "$suite")
  # _apt cannot write into a private directory under $HOME: download as root.
  # A failed download usually means the private index is stale: refresh once and retry.
  # shellcheck disable=SC2086
  if ! (cd "$work" && apt-get -q $flags -o APT::Sandbox::User=root download "${packages[@]}" >&2); then
    log "refreshing the $suite package index and retrying"
    rm -f "$GTHULHU_CACHE/apt-$suite/updated"
    private_apt "$suite" "$source"
    # shellcheck disable=SC2086
    (cd "$work" && apt-get -q $flags -o APT::Sandbox::User=root download "${packages[@]}" >&2) ||
      die "$abi is not in $suite any more (sid moves on): pin the newest version there in $0"
  fi

  rm -rf "$tree"
  mkdir -p "$tree"
  local deb
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$tree"; done
  local moddir=$tree/usr/lib/modules/$abi
  [[ -f $moddir/vmlinuz ]] || die "no vmlinuz in ${packages[0]}"
  grep -q '^CONFIG_SCHED_CLASS_EXT=y' "$moddir/config" ||
    die "$abi is built without CONFIG_SCHED_CLASS_EXT"
  # Stable names, independent of the Debian ABI string, for the runner and the docs.
  ln -sfn "$version/usr/lib/modules/$abi/vmlinuz" "$dir/vmlinuz-$version"
  ln -sfn "$version/usr/lib/modules/$abi/config" "$dir/config-$version"
  local binary_deb
  binary_deb=$(echo "$work/${packages[0]}"_*.deb)
  echo "$(dpkg-deb -f "$binary_deb" Package) $(dpkg-deb -f "$binary_deb" Version)" > "$stamp"
  log "kernel ready: $dir/vmlinuz-$version ($(<"$stamp"))"
}

if [[ -n ${KERNEL_VERSION:-} ]]; then
  fetch_kernel "$KERNEL_VERSION" "${KERNEL_ABI:-$KERNEL_VERSION+deb13-amd64}" \
    "${KERNEL_SUITE:-trixie-backports}"
else
  fetch_kernel 7.3.4 7.3.4+deb13-amd64 trixie-backports
  fetch_kernel 7.2.13 7.2.13+deb14-amd64 sid
fi
