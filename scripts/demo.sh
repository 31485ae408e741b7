#!/usr/bin/env bash
# `make demo`: the whole product end to end, on embedded defaults, leaving nothing running.
#   host   etcd + kube-apiserver, the coordinator (SQLite), on 127.0.0.1
#   node   a virtme-ng VM on Debian's 7.3.4 sched_ext kernel (TCG) running the real
#          gthulhu-agent and gthulhu-node-runner (the kubelet's part)
# It creates two pods on the node (a latency-sensitive probe and a CPU hog), measures
# the probe's wakeup latency and CPU under the kernel's EEVDF (no agent yet), starts the
# agent (the sched_ext scheduler attaches), logs in to the coordinator, creates a
# strategy through the REST API, waits for its intent to be Applied and measures again.
# See scripts/e2e/topology.sh for the wiring. Needs root (the VM's agent loads BPF).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
. "$here/e2e/topology.sh"
build=${BUILD:-$root/build}
window=${DEMO_WINDOW_S:-5}

[[ $(id -u) == 0 ]] || die "the demo boots a VM whose agent loads BPF: run it as root"
for b in agent/gthulhu-agent coordinator/gthulhu-coordinator tests/e2e/gthulhu-node-runner tests/e2e/gthulhu-wakeup-probe; do
  [[ -x $build/$b ]] || die "$build/$b not built (run: make)"
done
"$here/vng.sh" deps

work=$(mktemp -d /tmp/gthulhu-demo.XXXXXX)
admin_password=demo-$(openssl rand -hex 8)
trap 'topo_stop; echo "logs kept in $work"' EXIT
t0=$SECONDS

say "API server, certificates ($work)"
topo_pki
topo_start_cluster
say "VM node: booting Debian 7.3.4 (sched_ext) under QEMU/TCG (about a minute; log: $work/vm.log)"
topo_start_vm
topo_start_coordinator
topo_wait_vm 400 guest_ready || exit 1
echo "node runner up in the guest after $((SECONDS - t0)) s"

say "Two pods on vm-node: latency (the probe) and hog (two busy loops)"
kube_create /api/v1/namespaces/default/pods "$(pod_json latency latency 100m \
  "[\"$build/tests/e2e/gthulhu-wakeup-probe\",\"$work/probe.jsonl\",\"2000\",\"$window\"]")"
kube_create /api/v1/namespaces/default/pods "$(pod_json hog hog 1 \
  '["/bin/sh","-c","while :; do :; done & while :; do :; done"]')"
topo_wait_vm 60 pod_running latency
topo_wait_vm 60 pod_running hog

# measure: waits for two more probe windows and prints the last (the first one after a
# change may straddle it).
windows() { if [[ -f $work/probe.jsonl ]]; then wc -l < "$work/probe.jsonl"; else echo 0; fi; }
probe_has() { (($(windows) >= $1)); }
measure() {
  topo_wait_vm $((window * 6 + 30)) probe_has $(($(windows) + 2)) >&2 || return 1
  tail -1 "$work/probe.jsonl"
}
say "Measuring under EEVDF (no agent, no strategy): ${window}s windows"
before=$(measure)
echo "$before"

say "Starting gthulhu-agent in the VM (the sched_ext scheduler attaches)"
topo_start_agent
topo_wait_vm 120 agent_healthy
agent_get /health | python3 -c 'import sys,json; h=json.load(sys.stdin); print("scheduler:", json.dumps(h.get("scheduler", h))[:300])'
gth_none=$(measure)
echo "gthulhu, no strategy: $gth_none"

say "REST: POST /api/v1/auth/login, then POST /api/v1/strategies (app=latency, priority 15, 1 ms slice)"
coord_login
coord POST /api/v1/strategies '{"labelSelectors":[{"key":"app","value":"latency"}],"priority":15,"executionTime":1000000}' |
  python3 -c 'import sys,json; d=json.load(sys.stdin)["data"]; s=d["strategy"]
print("strategy", s["id"], "priority", s["priority"], "executionTime", s["executionTime"], "->", d["intentCount"], "intent(s)")'
applied() { coord GET /api/v1/intents/self | python3 -c '
import sys,json
d=json.load(sys.stdin)["data"]["intents"]
sys.exit(0 if d and all(i["stateName"]=="Applied" for i in d) else 1)'; }
topo_wait_vm 120 applied
echo "GET /api/v1/intents/self:"
coord GET /api/v1/intents/self | python3 -c 'import sys,json
for i in json.load(sys.stdin)["data"]["intents"]: print(" ", i.get("podName"), "on", i["nodeID"], "priority", i.get("priority"), i["stateName"])'
after=$(measure)
echo "$after"

say "Before / after (the latency pod's wakeup lateness, ${window}s windows, 2 ms period, 2 vCPUs with a CPU hog)"
python3 - "$before" "$gth_none" "$after" <<'PY'
import json, sys
rows = [("EEVDF (kernel default)", sys.argv[1]), ("gthulhu, no strategy", sys.argv[2]),
        ("gthulhu, priority 15", sys.argv[3])]
print(f"{'scheduling':<24}{'samples':>8}{'p50 us':>9}{'p99 us':>9}{'max us':>9}{'cpu ms':>8}")
for name, line in rows:
    w = json.loads(line)
    print(f"{name:<24}{w['samples']:>8}{w['p50_us']:>9}{w['p99_us']:>9}{w['max_us']:>9}{w['cpu_ms']:>8}")
PY
echo
echo "The agent's per-policy counters (GET /metrics on the node, over mTLS):"
agent_get /metrics | grep -E '^gthulhu_pod_(runs_total|cpu_seconds_total|runqueue_wait_seconds_(sum|count))' || true

say "Where to look next"
cat <<TXT
  REST calls made:  POST /api/v1/auth/login, POST /api/v1/strategies, GET /api/v1/intents/self
  nodes view:       GET $(coordinator_url)/api/v1/nodes (Ready / Degraded / Unreachable, generations)
  agent:            /health, /metrics, /api/v1/intents/results on the node (mTLS, see scripts/e2e/topology.sh)
  kernel maps:      in the guest, bpftool map dump pinned /sys/fs/bpf/gthulhu/policy_by_cgroup
  tests:            make e2e (the same topology with assertions)
TXT
echo "demo took $((SECONDS - t0)) s; stopping everything"
