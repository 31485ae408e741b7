#!/bin/sh
# The node half of the end-to-end topology: inside the virtme-ng guest (scripts/vng.sh
# run), or directly on a host whose own kernel has sched_ext. WORK is a directory shared
# with the host (under /tmp, read-write in the guest).
#   WORK/node.env         written by the host: BUILD, KUBECONFIG_GUEST, CERTS, AGENT_LISTEN,
#                         POD_IP, CGROUP_ROOT, PIN_ROOT (optional)
#   WORK/guest.ready      written here once the node runner is started
#   WORK/start-agent      the host asks for the agent to start (until then the kernel's
#                         own EEVDF schedules: the baseline of the measurements)
#   WORK/kill-agent       the host asks for a kill -9 of the agent (it is restarted
#                         at once, as systemd or the DaemonSet would)
#   WORK/stop             the host asks the node to stop: pods and cgroups are removed
# Logs go to WORK/agent.log and WORK/node-runner.log.
set -u
work=$1
. "$work/node.env"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
cg=$CGROUP_ROOT
mountpoint -q "$cg" || mount -t cgroup2 cgroup2 "$cg"
echo "+cpu" > "$cg/cgroup.subtree_control" 2>/dev/null

start_agent() {
  GTHULHU_AGENT_NODE_NAME=vm-node GTHULHU_AGENT_STATE_DIR="$work/agent-state" \
  GTHULHU_AGENT_PIN_ROOT="${PIN_ROOT:-/sys/fs/bpf/gthulhu}" GTHULHU_SERVER_LISTEN="$AGENT_LISTEN" \
  GTHULHU_TLS_CERT="$CERTS/agents/vm-node.crt" GTHULHU_TLS_KEY="$CERTS/agents/vm-node.key" \
  GTHULHU_TLS_CLIENT_CA="$CERTS/ca.crt" GTHULHU_AUTH_PRIVATE_KEY="$CERTS/agent-token.key" \
  GTHULHU_SERVER_ACCESS_LOG=false \
    "$BUILD/agent/gthulhu-agent" >> "$work/agent.log" 2>&1 &
  agent=$!
  echo "$agent" > "$work/agent.pid"
}

"$BUILD/tests/e2e/gthulhu-node-runner" --kubeconfig "$KUBECONFIG_GUEST" --node vm-node \
  --pod-ip "$POD_IP" --cgroup-root "$cg" >> "$work/node-runner.log" 2>&1 &
runner=$!
echo "node runner $runner" > "$work/guest.ready"
agent=

while [ ! -e "$work/stop" ]; do
  if [ -z "$agent" ] && [ -e "$work/start-agent" ]; then start_agent; fi
  if [ -e "$work/kill-agent" ]; then
    rm -f "$work/kill-agent"
    kill -9 "$agent"; wait "$agent" 2>/dev/null
    echo "agent killed (-9), restarting" >> "$work/agent.log"
    start_agent
    echo "$agent" > "$work/agent.restarted"
  fi
  sleep 0.2
done
kill -TERM "$runner"; wait "$runner"
[ -n "$agent" ] && { kill -TERM "$agent"; wait "$agent"; }
echo "stopped" > "$work/guest.stopped"
