#!/usr/bin/env bash
# Runs every libFuzzer target of a GTHULHU_FUZZ build for a bounded time each, starting
# from the committed seeds (fuzz/corpus/<target>, read only) plus what earlier runs
# found (<build>/fuzz-corpus/<target>), and prints each target's executions and
# coverage. A crash, leak, sanitizer report or timeout fails the run; the input is
# kept in <build>/fuzz-artifacts/.
# Usage: scripts/fuzz.sh <fuzz build dir> <seconds per target> <target>...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
build=$1 seconds=$2; shift 2
root=$(cd "$here/.." && pwd)
mkdir -p "$build/fuzz-artifacts"
status=0
for t in "$@"; do
  bin=$build/fuzz/$t
  [[ -x $bin ]] || die "$bin is not built (make fuzz builds it)"
  found=$build/fuzz-corpus/$t
  mkdir -p "$found"
  logf=$build/fuzz-artifacts/$t.log
  # -rss_limit_mb: the coordinator target holds a store; -timeout: one input, seconds.
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     "$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 \
       -artifact_prefix="$build/fuzz-artifacts/$t-" "$found" "$root/fuzz/corpus/$t" >"$logf" 2>&1; then
    result=ok
  else
    result=FAILED; status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logf" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$logf" | tail -1)
  corpus=$(find "$found" -type f | wc -l)
  printf '[fuzz] %-22s %s  %ss  execs=%s  %s  corpus=%s\n' "$t" "$result" "$seconds" \
    "${execs:-?}" "${cov:-cov: ?}" "$corpus"
  if [[ $result != ok ]]; then tail -40 "$logf" >&2; fi
done
exit $status
