#!/usr/bin/env bash
# `make demo-host`: the node half only, on this machine (no coordinator, no VM).
#  1. builds synthetic Kubernetes pod cgroups (systemd + containerd layout, and the
#     cgroupfs layout) with real processes in them,
#  2. starts gthulhu-agent (BPF tracker; the sched_ext scheduler too when the kernel
#     has it, otherwise it says why not),
#  3. posts intents as the coordinator would, and shows what the kernel now holds:
#     policy map entries per cgroup (bpftool), per-process overrides for a
#     commandRegex intent, the pods/pids and strategies endpoints, metrics,
#  4. starts a new matching process and shows it picked up in the kernel without
#     any poll, then cleans up everything it created.
# Needs root (BPF, cgroups). Everything runs on loopback and is removed at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
build=${BUILD:-$root/build}
agent=$build/agent/gthulhu-agent
bpftool=$GTHULHU_CACHE/bpf-toolchain/bin/bpftool
port=${DEMO_PORT:-18080}
secret=demo-secret-0123456789
pin_root=/sys/fs/bpf/gthulhu-demo

[[ $(id -u) == 0 ]] || die "the demo loads BPF programs and creates cgroups: run it as root"
[[ -x $agent ]] || die "$agent not built (run: make)"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cg2=$(awk '$9 == "cgroup2" {print $5; exit}' FS=' ' /proc/self/mountinfo)
[[ -n $cg2 ]] || cg2=$(findmnt -n -t cgroup2 -o TARGET | head -1)
[[ -n $cg2 ]] || die "no cgroup2 filesystem mounted"

work=$(mktemp -d /tmp/gthulhu-demo.XXXXXX)
uid_web=6f1c2a52-7d4e-4b8a-9e3f-0a1b2c3d4e5f
uid_batch=0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b
ctr=$(printf 'a%.0s' {1..64})
web_pod="$cg2/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid_web//-/_}.slice"
web_ctr="$web_pod/cri-containerd-$ctr.scope"
batch_pod="$cg2/kubepods/besteffort/pod$uid_batch"
batch_ctr="$batch_pod/$(printf 'b%.0s' {1..64})"
pids=()
agent_pid=

cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  [[ -n $agent_pid ]] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
  sleep 0.2
  for d in "$web_ctr" "$web_pod" "$cg2/kubepods.slice/kubepods-burstable.slice" "$cg2/kubepods.slice" \
           "$batch_ctr" "$batch_pod" "$cg2/kubepods/besteffort" "$cg2/kubepods"; do
    [[ -d $d ]] && rmdir "$d" 2>/dev/null
  done
  rm -rf "$pin_root" "$work"
}
trap cleanup EXIT

# A process with a chosen command name (comm) in a cgroup: a copy of sleep named so.
start_in() {  # cgroup name
  cp /bin/sleep "$work/$2"
  sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" 600' _ "$1" "$work/$2" &
  pids+=($!)
}

step "Synthetic pods under $cg2"
mkdir -p "$web_ctr" "$batch_ctr"
echo "web   (systemd + containerd): ${web_ctr#$cg2}"
echo "batch (cgroupfs):             ${batch_ctr#$cg2}"
start_in "$web_ctr" nginx
start_in "$web_ctr" nginx
start_in "$batch_ctr" worker
start_in "$batch_ctr" logger
sleep 0.3

step "Starting gthulhu-agent on 127.0.0.1:$port"
GTHULHU_AGENT_STATE_DIR=$work/state GTHULHU_AGENT_PIN_ROOT=$pin_root GTHULHU_AGENT_NODE_NAME=demo-node \
GTHULHU_SERVER_LISTEN=127.0.0.1:$port GTHULHU_AUTH_CLIENT_SECRET=$secret \
  "$agent" > "$work/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 50); do curl -sf "127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -s "127.0.0.1:$port/health" | python3 -m json.tool

api() { curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
step "A token needs a credential (here the configured secret)"
curl -s -XPOST "127.0.0.1:$port/api/v1/auth/token" -d '{"client_id":"demo"}' ; echo
token=$(curl -s -XPOST "127.0.0.1:$port/api/v1/auth/token" -d "{\"client_id\":\"demo\",\"secret\":\"$secret\"}" |
        python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["token"])')
echo "token issued (${#token} bytes)"

step "POST /api/v1/intents: web gets priority 10 / 4 ms; batch processes matching ^worker get -5"
api -XPOST "127.0.0.1:$port/api/v1/intents" -d "{\"generation\":1,\"intents\":[
  {\"id\":\"web\",\"podID\":\"$uid_web\",\"podName\":\"web-0\",\"k8sNamespace\":\"shop\",\"nodeID\":\"demo-node\",
   \"priority\":10,\"executionTime\":4000000,\"podLabels\":{\"app\":\"web\"}},
  {\"id\":\"batch\",\"podID\":\"$uid_batch\",\"podName\":\"batch-0\",\"k8sNamespace\":\"jobs\",\"nodeID\":\"demo-node\",
   \"commandRegex\":\"^worker\",\"priority\":-5,\"executionTime\":40000000}]}" | python3 -m json.tool

step "Kernel state: policy_by_cgroup (bpftool, BTF field names)"
"$bpftool" map dump pinned "$pin_root/policy_by_cgroup" | head -40
step "Kernel state: policy_by_tgid (per-process overrides from the commandRegex)"
"$bpftool" map dump pinned "$pin_root/policy_by_tgid"

step "A new matching process in batch: the tracker reports its exec, the agent overrides it"
start_in "$batch_ctr" worker-2
sleep 0.5
echo "new pid ${pids[-1]}:"
"$bpftool" map lookup pinned "$pin_root/policy_by_tgid" key $(printf '0x%02x 0x%02x 0x%02x 0x%02x' \
  $((pids[-1] & 255)) $((pids[-1] >> 8 & 255)) $((pids[-1] >> 16 & 255)) $((pids[-1] >> 24 & 255)))

step "GET /api/v1/pods/pids (from the tracker's process table, no /proc scan)"
api "127.0.0.1:$port/api/v1/pods/pids" | python3 -m json.tool | head -60
step "GET /api/v1/scheduling/strategies (the upstream shape, for external schedulers)"
api "127.0.0.1:$port/api/v1/scheduling/strategies" | python3 -m json.tool
step "GET /metrics (excerpt)"
curl -s "127.0.0.1:$port/metrics" | grep -E '^gthulhu_(scheduler_enabled|tracker_|intents)' || true

step "Done: the agent log"
tail -n 12 "$work/agent.log"
if [[ ! -e /sys/kernel/sched_ext/state ]]; then
  echo
  echo "This kernel has no sched_ext, so the scheduler stayed off (see /health). 'make vm-test'"
  echo "boots Debian's 7.3 sched_ext kernel under QEMU and runs the scheduler tests there."
fi
