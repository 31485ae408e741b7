#!/usr/bin/env bash
# `make bench`: every benchmark, one report. Figures are ratios or absolute numbers
# measured in this run on this machine (2 cores); they are not pass/fail tests.
#   agent      exec -> BPF override latency, idle CPU and RSS       (root, host BPF)
#   tracker    fork+exit throughput with/without the tracker, lost events, and pod
#              process discovery from the tracker vs a /proc scan at 1k/10k processes
#   control loop strategy change -> 100 simulated agents applied, pod event -> applied,
#              bytes of a one-pod delta vs the full set at 1,000 intents per node
#   coordinator authenticated GET /api/v1/strategies/self with wrk on loopback (SQLite
#              and FerretDB stores) and the login (Argon2id) cost
#   scheduler  the VM tier prints weight accuracy, isolation vs EEVDF, slices and
#              survival figures: `make vm-test` (or ctest -L vm -V) shows them
# BENCH_QUICK=1 shortens every run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
build=${BUILD:-$root/build}
quick=${BENCH_QUICK:-0}
qflag=; [[ $quick == 1 ]] && qflag=--quick
status=0

section() { printf '\n######## %s\n' "$*"; }

section "agent"
if [[ -x $build/bench/agent_bench ]]; then "$build/bench/agent_bench" $qflag || status=1
else echo "agent_bench not built"; fi

section "tracker"
if [[ -x $build/bench/tracker_bench ]]; then "$build/bench/tracker_bench" $qflag || status=1
else echo "tracker_bench not built"; fi

section "control loop"
if [[ -x $build/bench/dispatch_bench ]]; then "$build/bench/dispatch_bench" $qflag || status=1
else echo "dispatch_bench not built"; fi

section "coordinator"
if [[ -x $here/bench-coordinator.sh ]]; then BUILD=$build "$here/bench-coordinator.sh" || status=1
else echo "no coordinator benchmark"; fi

section "scheduler"
echo "The scheduler's figures (weight accuracy, isolation vs EEVDF, slices, survival) come from"
echo "the VM tier, which boots a sched_ext kernel: run 'make vm-test' and read its output."
exit $status
