#!/usr/bin/env bash
# Installs everything the build and the test tiers need, idempotently.
# Called by `make` and `make test`; when all is present it finishes in seconds.
#   Debian packages  -> apt-get (only the missing ones, printed first)
#   BPF toolchain    -> scripts/bpf-toolchain.sh (bpftool 7.5 + static libbpf 1.5 in the cache)
#   FerretDB         -> scripts/ferretdb.sh (go install, cached)
#   etcd + kube-apiserver -> scripts/kube-apiserver.sh (built from Go modules, cached)
#   helm + kubernetes-validate -> scripts/helm.sh, scripts/kubernetes-validate.sh (chart checks, cached)
#   sched_ext kernel -> scripts/fetch-kernel.sh (downloaded into the cache, apt sources untouched)
#   virtme-ng + the kernel's modules -> scripts/vng.sh deps (a venv and a tree in the cache)
#   web UI packages  -> scripts/ui-deps.sh (npm ci into ui/node_modules when the lock file changed)
#   schemathesis     -> scripts/schemathesis.sh (PyPI, a venv in the cache; the API test skips without it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

packages=(
  # build
  build-essential cmake ninja-build pkg-config dpkg-dev
  clang-19 llvm-19 libclang-rt-19-dev libelf-dev zlib1g-dev zstd libcap-dev
  # libraries of the product
  libmicrohttpd-dev libgnutls28-dev libssl-dev libcurl4-openssl-dev
  libmongoc-dev libbson-dev libjwt-dev prometheus-cpp-dev libinih-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev libre2-dev libargon2-dev libsqlite3-dev
  libyaml-dev
  # tests
  libgtest-dev libgmock-dev googletest openssl curl
  qemu-system-x86 busybox-static cpio stress-ng wrk
  # the e2e tier's virtme-ng guest: kmod (modules), udev (else the guest's exit status is lost)
  kmod udev python3-venv
  # web UI: build (Node.js >= 20.19 with npm) and browser tests (Debian's Chromium)
  nodejs chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  need_root
  export DEBIAN_FRONTEND=noninteractive
  # An out-of-date or empty package list is the usual reason an install fails.
  apt-get update -q >/dev/null || apt-get update
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

"$here/bpf-toolchain.sh"
"$here/ui-deps.sh"
"$here/schemathesis.sh" || log "schemathesis is not installed: the test api.schemathesis will skip"
if [[ "${GTHULHU_SKIP_FERRETDB:-0}" != 1 ]]; then "$here/ferretdb.sh"; fi
if [[ "${GTHULHU_SKIP_KUBE:-0}" != 1 ]]; then "$here/kube-apiserver.sh"; fi
if [[ "${GTHULHU_SKIP_CHART_TOOLS:-0}" != 1 ]]; then "$here/helm.sh"; "$here/kubernetes-validate.sh"; fi
if [[ "${GTHULHU_SKIP_KERNEL:-0}" != 1 ]]; then "$here/fetch-kernel.sh"; "$here/vng.sh" deps; fi
log "dependencies ready"
