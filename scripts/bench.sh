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
#   scheduler  the Kubernetes CPU contract in the VM against EEVDF (weights, limits,
#              idle, cpusets, strategies on top, a node-like mix), and the weight and
#              survival tests on the second kernel; the rest of the VM tier's figures
#              (isolation, slices) in `make vm-test`
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

# Every benchmark also appends its figures (JSON lines, bench/figures.h) here; the end
# of this script prints them as one report and writes it as JSON.
report_dir=$build/bench
mkdir -p "$report_dir"
export GTHULHU_BENCH_FIGURES=$report_dir/figures.jsonl
: > "$GTHULHU_BENCH_FIGURES"

section "agent"
if [[ -x $build/bench/agent_bench ]]; then "$build/bench/agent_bench" $qflag || status=1
else echo "agent_bench not built"; fi

section "agent scale (0 / 1,000 / 10,000 extra processes)"
if [[ -x $build/bench/agent_scale_bench ]]; then "$build/bench/agent_scale_bench" $qflag || status=1
else echo "agent_scale_bench not built"; fi

section "auth (forged tokens, login cost)"
if [[ -x $build/bench/auth_bench ]]; then "$build/bench/auth_bench" $qflag || status=1
else echo "auth_bench not built"; fi

section "tracker"
if [[ -x $build/bench/tracker_bench ]]; then "$build/bench/tracker_bench" $qflag || status=1
else echo "tracker_bench not built"; fi

section "control loop"
if [[ -x $build/bench/dispatch_bench ]]; then "$build/bench/dispatch_bench" $qflag || status=1
else echo "dispatch_bench not built"; fi

section "coordinator"
if [[ -x $here/bench-coordinator.sh ]]; then BUILD=$build "$here/bench-coordinator.sh" || status=1
else echo "no coordinator benchmark"; fi

section "scheduler (VM: QEMU TCG, 4 vCPUs, EEVDF measured in the same VM)"
# The Kubernetes CPU contract (cpu.weight, cpu.max, cpu.idle, cpusets, strategies on
# top, the node-like mix) on 7.3.4, and the weight tests plus the storm with cgroup
# churn on the second kernel (7.2.x). Each verdict line carries gthulhu's figure with
# EEVDF's beside it; the full logs stay in the report directory.
vm_bins=$build/tests/vm
# vm_agent's two "startup RUN: phase S s, ..." lines as one table, a column per run,
# and as figures for the report (the re-adoption beside the fresh load).
startup_table() {
  grep -E '^vm_agent: startup ' "$1" | sed 's/^vm_agent: startup //' | awk -F': ' '
    { run[NR] = $1; n = split($2, parts, ", ");
      for (i = 1; i <= n; i++) { split(parts[i], kv, " "); t[NR, kv[1]] = kv[2];
        if (!(kv[1] in seen)) { seen[kv[1]] = 1; order[++np] = kv[1] } } }
    END { if (NR == 0) exit;
      printf "   %-20s", "start-up step (s)"; for (r = 1; r <= NR; r++) printf " %14s", run[r]; printf "\n";
      for (p = 1; p <= np; p++) { printf "   %-20s", order[p];
        for (r = 1; r <= NR; r++) printf " %14s", ((r, order[p]) in t) ? t[r, order[p]] : "-"; printf "\n" }
      if (NR >= 2) for (p = 1; p <= np; p++) if (((1, order[p]) in t) && ((2, order[p]) in t))
        printf "{\"section\":\"agent start-up (VM)\",\"name\":\"%s, %s\",\"value\":%s,\"unit\":\"s\",\"higherIsBetter\":false,\"baseline\":{\"name\":\"%s\",\"value\":%s},\"ratio\":%s}\n",
          order[p], run[2], t[2, order[p]], run[1], t[1, order[p]], (t[1, order[p]] > 0 ? t[2, order[p]] / t[1, order[p]] : 0) > ENVIRON["GTHULHU_BENCH_FIGURES"] }'
}
vm_files=()  # extra --file SRC:DEST for the guest (the agent binary)
vm_append=""  # extra guest kernel command line for the next vm_report
vm_report() {  # vm_report KERNEL_VERSION LABEL TEST...
  local version=$1 label=$2; shift 2
  local log; log=$(mktemp "${TMPDIR:-/tmp}/gthulhu-bench-vm.XXXXXX")
  local extra=("${vm_files[@]}") stress
  stress=$(command -v stress-ng 2>/dev/null) && extra+=(--file "$stress:/usr/bin/stress-ng")
  echo "-- $label (kernel $version)"
  [[ -z $vm_append ]] || extra+=(--append "$vm_append")
  nice -n -10 "$here/vm/run.sh" --timeout 480 --cpus 4 --kernel-version "$version" \
    "${extra[@]}" --log "$log" -- "$@" >/dev/null 2>&1
  local rc=$?
  grep -E '^vm_sched_[a-z_]+: (ok  |FAIL) (weights|limits|idle|cpuset|affinity|composition|node mix|CPU time ratio|scheduler still enabled|cgroup churn)' "$log" |
    grep -v -E 'worker groups ran|Guaranteed pod \(' | sed 's/^vm_sched_[a-z_]*: //'
  grep -E '^vm_sched_cgroup: node mix (EEVDF|gthulhu):' "$log" | sed 's/^vm_sched_cgroup: //'
  # What each struct_ops callback cost per gthulhu round (kernel.bpf_stats_enabled).
  grep -E '^vm_sched_cgroup node mix window: bpf run time:' "$log" | sed 's/^vm_sched_cgroup //'
  startup_table "$log"
  case $rc in
    0) echo "   (all checks passed; log: $log)" ;;
    77) echo "   skipped: $(grep -m1 'SKIP' "$log" 2>/dev/null || echo 'no QEMU or kernel')"; rm -f "$log" ;;
    *) echo "   some check failed (exit $rc); log: $log"; status=1 ;;
  esac
}
if [[ -x $vm_bins/vm_sched_cgroup ]]; then
  # Staggered ticks, as ctest boots it (tests/vm/CMakeLists.txt: TCG's timer delivery).
  vm_append=skew_tick=1 vm_report 7.3.4 "CPU contract" "$vm_bins/vm_sched_cgroup"
  if [[ $quick != 1 ]]; then
    vm_report 7.2.13 "second kernel: weights and survival" "$vm_bins/vm_sched_weight" \
      "$vm_bins/vm_sched_cgroup weights" "$vm_bins/vm_sched_survival 60"
  fi
else
  echo "VM tests not built (they need the BPF build)"
fi
# Agent start-up in the VM (seconds since the process started, per step): a fresh load
# of tracker and scheduler, then a restart after kill -9 that re-adopts the pinned
# scheduler and state. The two runs are printed one above the other.
if [[ -x $vm_bins/vm_agent && -x $build/agent/gthulhu-agent ]]; then
  vm_files=(--file "$build/agent/gthulhu-agent:/tests/gthulhu-agent")
  vm_report 7.3.4 "agent start-up: fresh load, then re-adoption (TCG: compare the two, not with the host)" \
    "$vm_bins/vm_agent"
  vm_files=()
fi
echo "Isolation vs EEVDF, slices and the agent in the VM: 'make vm-test' (ctest -L vm -V)."

section "report (every figure beside its baseline from this run)"
report=$report_dir/report.json
jq -s --arg host "$(uname -srm), $(nproc) CPUs" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  '{date:$date, machine:$host, loadAverage:$load, figures:.}' "$GTHULHU_BENCH_FIGURES" > "$report"
jq -r '.figures[] | [.section, .name, "\(.value * 1000 | round / 1000) \(.unit)",
        (if .baseline then "\(.baseline.name): \(.baseline.value * 1000 | round / 1000)" else "-" end),
        (if .ratio then "\(.ratio * 100 | round / 100)x" else "" end)] | @tsv' "$report" |
  awk -F'\t' '{printf "%-12s %-62s %16s   %s %s\n", $1, $2, $3, $4, ($5 != "" ? "(" $5 ")" : "")}'
echo "written to $report (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
exit $status
