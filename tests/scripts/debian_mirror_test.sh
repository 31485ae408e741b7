#!/usr/bin/env bash
# scripts/lib.sh debian_mirror: the private apt sources take the Debian mirror from
# this machine's own apt configuration (both formats) and add only the suite.
set -uo pipefail
lib=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
export GTHULHU_CACHE=$root/cache GTHULHU_CODENAME=bookworm
unset GTHULHU_DEBIAN_MIRROR
failures=0
check() {  # check <name> <expected> <apt etc dir>
  local got
  got=$(GTHULHU_APT_ETC=$3 bash -c '. "$1"; debian_source deb trixie' _ "$lib" 2>&1)
  if [[ $got != "$2" ]]; then
    echo "FAIL $1: expected '$2', got '$got'"; failures=$((failures + 1))
  else
    echo "ok   $1"
  fi
}

one=$root/one; mkdir -p "$one/sources.list.d"
cat > "$one/sources.list" <<'X'
# deb http://commented.invalid/debian bookworm main
deb [signed-by=/k.gpg arch=amd64] http://mirror.one.invalid/debian-security bookworm-security main
deb [arch=amd64] http://mirror.one.invalid/debian/ bookworm main contrib
X
check "one-line format, options and -security skipped" "deb http://mirror.one.invalid/debian trixie main" "$one"

d822=$root/d822; mkdir -p "$d822/sources.list.d"
cat > "$d822/sources.list.d/thirdparty.sources" <<'X'
Types: deb
URIs: https://thirdparty.invalid/node
Suites: nodistro
Components: main
X
cat > "$d822/sources.list.d/debian.sources" <<'X'
Types: deb
URIs: http://disabled.invalid/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb
# a comment inside a stanza
URIs: http://mirror.822.invalid/debian-security
Suites: bookworm-security
Components: main

Types: deb deb-src
URIs: http://mirror.822.invalid/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
X
check "deb822 format, disabled and third-party stanzas skipped" "deb http://mirror.822.invalid/debian trixie main" "$d822"

list=$root/list; mkdir -p "$list/sources.list.d"
echo "deb http://proxy.invalid:3142/debian bookworm-updates main" > "$list/sources.list.d/local.list"
check "sources.list.d/*.list" "deb http://proxy.invalid:3142/debian trixie main" "$list"

none=$root/none; mkdir -p "$none/sources.list.d"
if GTHULHU_APT_ETC=$none bash -c '. "$1"; debian_source deb trixie' _ "$lib" >/dev/null 2>&1; then
  echo "FAIL no source: expected an error"; failures=$((failures + 1))
else
  echo "ok   no Debian source is an error naming GTHULHU_DEBIAN_MIRROR"
fi
got=$(GTHULHU_DEBIAN_MIRROR=http://override.invalid/debian/ GTHULHU_APT_ETC=$none \
      bash -c '. "$1"; debian_source deb-src trixie' _ "$lib")
[[ $got == "deb-src http://override.invalid/debian trixie main" ]] && echo "ok   override" ||
  { echo "FAIL override: $got"; failures=$((failures + 1)); }

# No mirror host is written into the scripts themselves.
if grep -nE 'https?://[^ "]*debian' "$(dirname "$lib")"/*.sh; then
  echo "FAIL a Debian mirror URI is hard-coded in scripts/"; failures=$((failures + 1))
fi
exit $((failures > 0))
