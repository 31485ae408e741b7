#!/usr/bin/env bash
# Runs inside the build stage of docker/*.Dockerfile: installs the build dependencies
# (the project's own scripts), builds one program, installs it under /out and writes
# /out/runtime-packages: the Debian packages owning the shared libraries it links, so
# the runtime stage installs exactly those. Usage: build-stage.sh TARGET BINARY_PATH
set -euo pipefail
target=$1 binary=$2
export GTHULHU_SKIP_FERRETDB=1 GTHULHU_SKIP_KUBE=1 GTHULHU_SKIP_KERNEL=1 GTHULHU_SKIP_CHART_TOOLS=1
scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$(nproc)" --target "$target"
mkdir -p /out/bin
install -m 0755 "build/$binary" /out/bin/
strip --strip-debug "/out/bin/$(basename "$binary")"
owner() {  # the package owning a library path (usr-merged or not)
  dpkg -S "$1" 2>/dev/null || dpkg -S "$(realpath "$1")" 2>/dev/null ||
    dpkg -S "${1/#\/usr\/lib/\/lib}" 2>/dev/null || dpkg -S "${1/#\/lib/\/usr\/lib}"
}
ldd "/out/bin/$(basename "$binary")" | awk '/=> \// {print $3}' | while read -r lib; do
  owner "$lib" | head -1 | cut -d: -f1
done | sort -u > /out/runtime-packages
echo "runtime packages: $(tr '\n' ' ' < /out/runtime-packages)"
