#!/usr/bin/env bash
# The BPF toolchain the build needs beyond clang, in $GTHULHU_CACHE/bpf-toolchain:
#   bin/bpftool          bpftool 7.5 (bookworm-backports): writes __ksym prototypes for
#                        the sched_ext kfuncs into vmlinux.h and generates skeletons
#   include/, lib/libbpf.a  libbpf 1.5 built static from Debian's trixie source package,
#                        because skeletons from bpftool 7.5 set fields (map->link) that
#                        bookworm's libbpf 1.1 / backports' 1.4.6 do not have
# cmake/Bpf.cmake finds it there. Idempotent: version stamps make a rerun a no-op.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

BPFTOOL_SERIES=${BPFTOOL_SERIES:-7.5.}         # any 7.5.x build of the Debian package
LIBBPF_SRC_VERSION=${LIBBPF_SRC_VERSION:-1.5.0-3}
dest=$GTHULHU_CACHE/bpf-toolchain
bpftool_stamp=$dest/.bpftool.stamp
libbpf_stamp=$dest/.libbpf.stamp
# -fPIC so libbpf.a can also go into a shared object, not only into executables.
libbpf_cflags="-fPIC"

have_bpftool() { [[ -x $dest/bin/bpftool && -f $bpftool_stamp && $(<"$bpftool_stamp") == "$BPFTOOL_SERIES"* ]]; }
have_libbpf() { [[ -f $dest/lib/libbpf.a && -f $libbpf_stamp && $(<"$libbpf_stamp") == "$LIBBPF_SRC_VERSION $libbpf_cflags" ]]; }

if have_bpftool && have_libbpf; then   # the common case: builtins only, no processes
  log "BPF toolchain cached in $dest (bpftool $(<"$bpftool_stamp"), libbpf ${LIBBPF_SRC_VERSION})"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# apt-get download/source into a private directory. The sandbox user _apt cannot write
# there, so run as root instead of printing a warning. A stale private index (the mirror
# dropped the version it lists) shows up as a failed download: refresh once and retry.
apt_private() {
  local name=$1; shift
  local flags; flags=$(private_apt_flags "$name")
  # shellcheck disable=SC2086
  if ! apt-get -q $flags -o APT::Sandbox::User=root "$@" >&2; then
    log "refreshing the $name package index and retrying"
    rm -f "$GTHULHU_CACHE/apt-$name/updated"
    private_apt "$name" "$(cat "$GTHULHU_CACHE/apt-$name/sources.list")"
    apt-get -q $flags -o APT::Sandbox::User=root "$@" >&2
  fi
}

install_bpftool() {
  log "bpftool ${BPFTOOL_SERIES}x: fetching from bookworm-backports into $dest/bin"
  local source_line; source_line=$(debian_source deb bookworm-backports)
  private_apt bookworm-backports "$source_line"
  mkdir "$work/bpftool"
  (cd "$work/bpftool" && apt_private bookworm-backports download bpftool)
  local deb; deb=$(echo "$work"/bpftool/bpftool_*.deb)
  local version; version=$(dpkg-deb -f "$deb" Version)
  [[ $version == "$BPFTOOL_SERIES"* ]] ||
    die "bookworm-backports has bpftool $version, not ${BPFTOOL_SERIES}x; set BPFTOOL_SERIES to accept it"
  dpkg-deb -x "$deb" "$work/root"
  # Its libraries (libc, libelf1, zlib1g, libcap2) are bookworm's; fail here if not.
  if ldd "$work/root/usr/sbin/bpftool" | grep -q 'not found'; then
    ldd "$work/root/usr/sbin/bpftool" >&2
    die "bpftool $version needs libraries this system lacks"
  fi
  mkdir -p "$dest/bin"
  install -m 0755 "$work/root/usr/sbin/bpftool" "$dest/bin/bpftool.new"
  mv "$dest/bin/bpftool.new" "$dest/bin/bpftool"
  "$dest/bin/bpftool" version >&2
  echo "$version" > "$bpftool_stamp"
}

install_libbpf() {
  log "libbpf $LIBBPF_SRC_VERSION: building static from the trixie source package into $dest"
  local source_line; source_line=$(debian_source deb-src trixie)
  private_apt trixie-src "$source_line"
  mkdir "$work/libbpf"
  (cd "$work/libbpf" && apt_private trixie-src source --download-only "libbpf=$LIBBPF_SRC_VERSION")
  # apt has checked the files against the signed index; the .dsc's own signature
  # cannot be checked without debian-keyring, which dpkg-source only warns about.
  dpkg-source -x "$work"/libbpf/libbpf_*.dsc "$work/src" >"$work/extract.log" 2>&1 ||
    { cat "$work/extract.log" >&2; die "cannot unpack the libbpf source package"; }
  # A staging prefix, then one rename, so an interrupted build never leaves half a tree.
  local stage=$dest/.libbpf-stage
  rm -rf "$stage"
  make -s -C "$work/src/src" -j"$(nproc)" BUILD_STATIC_ONLY=1 EXTRA_CFLAGS="$libbpf_cflags" \
    OBJDIR="$work/obj" DESTDIR="$stage" PREFIX=/ LIBDIR=/lib INCLUDEDIR=/include \
    UAPIDIR=/include install install_uapi_headers >"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; die "building libbpf failed"; }
  # libbpf's copy of the uapi headers (linux/bpf.h, btf.h) comes along so user space
  # sees the BPF enums libbpf 1.5 knows, not only those of bookworm's linux-libc-dev 6.1.
  rm -rf "${dest:?}/include" "${dest:?}/lib"
  mv "$stage/include" "$dest/include"
  mv "$stage/lib" "$dest/lib"
  rm -rf "$stage"
  echo "$LIBBPF_SRC_VERSION $libbpf_cflags" > "$libbpf_stamp"
  log "libbpf: $(grep -h 'define LIBBPF_M' "$dest/include/bpf/libbpf_version.h" | awk '{printf "%s=%s ", $2, $3}')"
}

mkdir -p "$dest"
have_bpftool || install_bpftool
have_libbpf || install_libbpf
log "BPF toolchain ready in $dest"
