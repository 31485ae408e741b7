#!/usr/bin/env bash
# A virtme-ng guest on Debian's 7.3.4 sched_ext kernel, sharing the host's filesystem,
# for the end-to-end tier (`make e2e`) and `make demo`.
#   vng.sh deps             installs what a boot needs, idempotently (called by deps.sh):
#                           virtme-ng 1.42 in a venv under the cache, the kernel's modules
#                           package (9p and virtio are modules in Debian's kernel), and a
#                           kernel directory with vmlinuz, config and System.map beside
#                           the modules tree (the layout `vng --run DIR` expects)
#   vng.sh run [--fwd HOSTPORT:GUESTPORT]... [--rwdir DIR]... -- COMMAND...
#                           boots the guest and runs COMMAND as root in it (a shell
#                           command line). Networking is QEMU user mode (slirp): the
#                           guest is 10.0.2.15, the host's loopback appears at the
#                           gateway 10.0.2.2, and every --fwd binds the host side to
#                           127.0.0.1 only, so no packet leaves loopback on the host.
# KVM is not usable here (nested emulation fails), so the guest runs under TCG:
# --disable-kvm --force-9p (the Rust virtiofsd needs a newer glibc than bookworm's).
# Exit status: COMMAND's, or 3 when the guest could not boot (callers skip on 3).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

version=7.3.4
abi=7.3.4+deb13-amd64
suite=trixie-backports
venv=$GTHULHU_CACHE/virtme-ng-venv
vng_version=1.42
kdir=$GTHULHU_CACHE/kernel/vng-$version   # vmlinuz + config + System.map + lib/modules

deps() {
  if [[ ! -x $venv/bin/vng ]] || [[ $("$venv/bin/vng" --version 2>/dev/null) != *"$vng_version"* ]]; then
    log "virtme-ng $vng_version: installing into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "virtme-ng==$vng_version"
  fi
  "$here/fetch-kernel.sh" >/dev/null 2>&1 || KERNEL_VERSION=$version "$here/fetch-kernel.sh"
  local stamp=$kdir/.stamp
  if [[ -f $stamp ]]; then
    log "virtme-ng kernel cached: $kdir"
    return
  fi
  local tree=$GTHULHU_CACHE/kernel/$version work flags
  log "kernel $abi: fetching linux-modules-$abi from $suite"
  private_apt "$suite" "$(debian_source deb "$suite")"
  flags=$(private_apt_flags "$suite")
  work=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  # shellcheck disable=SC2086
  (cd "$work" && apt-get -q $flags download "linux-modules-$abi" >&2) ||
    die "cannot download linux-modules-$abi from $suite"
  rm -rf "$kdir"
  mkdir -p "$kdir"
  dpkg-deb -x "$work"/linux-modules-*.deb "$kdir"
  local mods=$kdir/usr/lib/modules/$abi
  [[ -d $mods/kernel ]] || die "no modules tree in linux-modules-$abi"
  cp "$tree/usr/lib/modules/$abi/"{modules.builtin,modules.builtin.modinfo,modules.order} "$mods/" 2>/dev/null || true
  depmod -b "$kdir/usr" "$abi" 2>/dev/null || depmod -b "$kdir" "$abi"
  # vng --run DIR looks for the kernel image and its modules side by side.
  ln -sfn usr/lib "$kdir/lib"
  cp "$tree/usr/lib/modules/$abi/"{vmlinuz,config,System.map} "$mods/"
  cp "$mods/vmlinuz" "$kdir/vmlinuz-$abi"
  cp "$mods/config" "$kdir/config-$abi"
  cp "$mods/System.map" "$kdir/System.map-$abi"
  echo "linux-modules-$abi" > "$stamp"
  log "virtme-ng kernel ready: $kdir"
}

run() {
  local fwds=() rwdirs=()
  while (($#)); do
    case $1 in
      --fwd) fwds+=("$2"); shift 2 ;;
      --rwdir) rwdirs+=(--rwdir "$2"); shift 2 ;;
      --) shift; break ;;
      *) die "vng.sh run: unknown option $1" ;;
    esac
  done
  (($#)) || die "vng.sh run: no command given"
  [[ -x $venv/bin/vng && -f $kdir/.stamp ]] || die "virtme-ng is not installed (run: scripts/vng.sh deps)"
  command -v udevadm >/dev/null || die "udev is missing (run: scripts/deps.sh)"
  local hostfwd="" f
  for f in "${fwds[@]}"; do
    [[ $f =~ ^[0-9]+:[0-9]+$ ]] || die "--fwd wants HOSTPORT:GUESTPORT, got '$f'"
    hostfwd+=",hostfwd=tcp:127.0.0.1:${f%%:*}-:${f##*:}"
  done
  # The guest configures its own address (no DHCP client needed): slirp's defaults.
  local net_up='ip link set lo up; dev=$(ls /sys/class/net | grep -v ^lo | head -1);
    ip link set "$dev" up && ip addr add 10.0.2.15/24 dev "$dev" && ip route add default via 10.0.2.2'
  local rc=0
  # A VM that dies before running the command (no kernel, no 9p) reports no marker.
  local marker=/tmp/vng-booted.$$
  rm -f "$marker"
  PATH=$venv/bin:$PATH "$venv/bin/vng" --run "$kdir/vmlinuz-$abi" --disable-kvm --force-9p --disable-microvm \
    --cpus "${VNG_CPUS:-2}" --memory "${VNG_MEMORY:-2G}" --user root \
    --rwdir /tmp "${rwdirs[@]}" \
    --qemu-opts="-netdev user,id=gnet0,restrict=off$hostfwd -device virtio-net-pci,netdev=gnet0" \
    --exec "touch $marker; $net_up; $*" || rc=$?
  if [[ ! -e $marker ]]; then
    rm -f "$marker"
    echo "[vng] the guest did not boot (exit $rc)" >&2
    return 3
  fi
  rm -f "$marker"
  return "$rc"
}

case ${1:-} in
  deps) deps ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 deps | run [--fwd H:G]... [--rwdir DIR]... -- COMMAND" >&2; exit 2 ;;
esac
