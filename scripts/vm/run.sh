#!/usr/bin/env bash
# Runs test binaries inside a QEMU VM booting the sched_ext kernel of
# scripts/fetch-kernel.sh, and exits with their combined status.
#   scripts/vm/run.sh [options] -- 'BIN [ARGS...]' ['BIN2 ...']...
# Options:
#   --timeout SEC     kill the VM after SEC seconds (default 300)
#   --kernel PATH     kernel image (default $GTHULHU_CACHE/kernel/vmlinuz-7.3.4)
#   --kernel-version V  the kernel scripts/fetch-kernel.sh keeps as vmlinuz-V
#   --cpus N, --mem MB  VM size (default 2 CPUs, 1024 MB)
#   --file SRC[:DEST] extra file for the guest (default DEST /tests/NAME)
#   --append ARGS     extra kernel command line
#   --log FILE        also keep the serial console output in FILE
# Environment: GTHULHU_VM_TCG_THREADS=multi runs one host thread per vCPU (default
# single: one thread for all; see the comment at the qemu command).
# Exit: 0 all passed, 1 a test failed or the VM did not finish, 77 everything skipped
# or the host cannot run the VM (no QEMU, no kernel): the reason is printed.
# KVM exists on the project's machines but cannot run this guest (nested emulation
# fails), so this uses TCG; a boot to user space takes ~3 s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
GTHULHU_CACHE=${GTHULHU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gthulhu}

timeout=300 cpus=2 mem=1024 append="" log="" tcg_threads=${GTHULHU_VM_TCG_THREADS:-single}
kernel=$GTHULHU_CACHE/kernel/vmlinuz-7.3.4
files=()
say() { printf 'vm: %s\n' "$*" >&2; }
skip() { say "SKIP: $*"; exit 77; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case $1 in
    --timeout) timeout=$2; shift 2 ;;
    --kernel) kernel=$2; shift 2 ;;
    --kernel-version) kernel=$GTHULHU_CACHE/kernel/vmlinuz-$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --file) files+=(--file "$2"); shift 2 ;;
    --append) append=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) say "unknown option $1"; usage ;;
  esac
done
(($#)) || usage

qemu=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 not installed (Debian package qemu-system-x86)"
command -v busybox >/dev/null || skip "busybox not installed (Debian package busybox-static)"
command -v cpio >/dev/null || skip "cpio not installed"
[[ -f $kernel ]] || skip "no sched_ext kernel at $kernel (run scripts/fetch-kernel.sh)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$here/mkinitramfs.sh" "$work/rd.cpio.gz" "${files[@]}" -- "$@"
say "booting $(basename "$(readlink -f "$kernel")") with $# test(s), timeout ${timeout}s"

# TCG, single-threaded by default: with one host thread per vCPU (thread=multi) the
# guest kernel once died at boot on an int3 left by cross-CPU code patching
# (static keys, e.g. sched_clock turning stable), a hazard sched_ext's own static-key
# flips share. One thread makes code patching atomic for the other vCPU and leaves the
# second host core free for builds; on the 2-core host it timed about the same as multi.
#
# QEMU makes its stdio non-blocking, which truncates output written straight to a file
# or shared with this shell's terminal: always read it through a pipe. stdin is
# /dev/null so the serial console never waits for (or eats) terminal input.
start=$SECONDS
set +e
timeout -k 5 "$timeout" "$qemu" -accel "tcg,thread=$tcg_threads" -cpu max -m "$mem" -smp "$cpus" \
  -nic none -kernel "$kernel" -initrd "$work/rd.cpio.gz" \
  -append "console=ttyS0 panic=-1 quiet $append" \
  -nographic -no-reboot </dev/null 2>&1 |
  sed -u 's/\r$//; s/\x1b\[[?0-9;]*[A-Za-z]//g; s/\x1bc//g' | tee "$work/console.log"
status=("${PIPESTATUS[@]}")
set -e
elapsed=$((SECONDS - start))
[[ -z $log ]] || cp "$work/console.log" "$log"

# One line per test from the guest's markers; a test with BEGIN but no END crashed
# or hung the VM. Markers are matched anywhere in a line: kernel messages can land in
# front of them.
summary=$(awk '
  match($0, /GTHULHU-VM: [A-Z]+.*/) {
    split(substr($0, RSTART), f, " ")
    if (f[2] == "BEGIN") order[++n] = f[3]
    if (f[2] == "END") { rc[f[3]] = substr(f[4], 4); t[f[3]] = substr(f[5], 6) }
    if (f[2] == "DONE") done = 1
  }
  END {
    for (i = 1; i <= n; i++) {
      name = order[i]
      if (!(name in rc)) printf "%s UNFINISHED\n", name
      else if (rc[name] == 0) printf "%s PASS %s\n", name, t[name]
      else if (rc[name] == 77) printf "%s SKIP %s\n", name, t[name]
      else printf "%s FAIL(rc=%s) %s\n", name, rc[name], t[name]
    }
    if (!done) print "- VM did not finish the test list"
  }' "$work/console.log")

say "results after ${elapsed}s:"
printf '%s\n' "$summary" | sed 's/^/vm:   /' >&2
if [[ ${status[0]} == 124 || ${status[0]} == 137 ]]; then
  say "FAIL: timed out after ${timeout}s"
  exit 1
fi
expected=$#
counted=$(grep -c -E ' (PASS|SKIP|FAIL)' <<<"$summary" || true)
if grep -q -E 'FAIL|UNFINISHED|did not finish' <<<"$summary" || ((counted != expected)); then
  say "FAIL (qemu exit ${status[0]})"
  exit 1
fi
if ! grep -q ' PASS' <<<"$summary"; then
  say "SKIP: every test skipped"
  exit 77
fi
say "PASS"
