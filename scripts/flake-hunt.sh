#!/usr/bin/env bash
# Runs the unit and host-integration tiers N times in a row with CPU hogs beside them,
# to find tests that wait for a proxy of an event instead of the event (issue 12).
# Usage: scripts/flake-hunt.sh [loops] [build dir]   (root; the build must exist)
# Env:   FLAKE_LOAD    CPU hogs beside the tests (default: one per CPU)
#        FLAKE_LABELS  ctest label regex (default: unit|integration)
#        FLAKE_NICE    niceness of tests and hogs alike (default 0), so they compete as
#                      equals while other work on the machine keeps its share
#        FLAKE_JOBS    ctest -j (default 2, as in `make test`: RUN_SERIAL tests still run
#                      alone, the unit tests two at a time beside the hogs)
# Every loop's ctest output goes to <build>/flake-hunt/loop-N.log; the summary lists
# each failed test with its loop. Exit 1 if any test failed.
set -uo pipefail
loops=${1:-20}
build=$(realpath "${2:-build}")
labels=${FLAKE_LABELS:-unit|integration}
load=${FLAKE_LOAD:-$(nproc)}
niceness=${FLAKE_NICE:-0}
jobs=${FLAKE_JOBS:-2}
[[ -e $build/CTestTestfile.cmake ]] || { echo "flake-hunt: no ctest tree in $build (run make build)" >&2; exit 2; }
command -v stress-ng >/dev/null || { echo "flake-hunt: stress-ng is needed (apt-get install stress-ng)" >&2; exit 2; }
out=$build/flake-hunt
mkdir -p "$out"
: > "$out/failures.txt"

nice -n "$niceness" stress-ng --cpu "$load" --timeout 0 --quiet &
hogs=$!
trap 'kill "$hogs" 2>/dev/null; wait "$hogs" 2>/dev/null' EXIT

failed_loops=0
for ((i = 1; i <= loops; i++)); do
  start=$(date +%s)
  nice -n "$niceness" ctest --test-dir "$build" -L "$labels" -j "$jobs" --output-on-failure --timeout 900 \
    > "$out/loop-$i.log" 2>&1
  rc=$?
  summary=$(grep -E 'tests passed|tests failed' "$out/loop-$i.log" | tail -1)
  printf 'loop %d/%d: rc %d, %ds, load %s: %s\n' "$i" "$loops" "$rc" "$(($(date +%s) - start))" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$summary"
  if [[ $rc != 0 ]]; then
    failed_loops=$((failed_loops + 1))
    grep -E '^\s+[0-9]+ - ' "$out/loop-$i.log" | sed "s/^/loop $i: /" >> "$out/failures.txt"
  fi
done
echo "flake-hunt: $loops loops of '$labels' (ctest -j $jobs) beside $load CPU hogs, $failed_loops with failures"
[[ -s $out/failures.txt ]] && cat "$out/failures.txt"
[[ $failed_loops == 0 ]]
