# The end-to-end topology (sourced by scripts/demo.sh and tests/e2e/e2e_test.sh):
#   host:  etcd + kube-apiserver (127.0.0.1), the coordinator (127.0.0.1, SQLite,
#          kubernetes.mode=kubeconfig for pods, agents.static for the VM node's agent)
#   guest: a virtme-ng VM on Debian's 7.3.4 sched_ext kernel (scripts/vng.sh) running
#          gthulhu-agent with the scheduler attached and gthulhu-node-runner (the
#          kubelet's part); the coordinator reaches the agent over mTLS through a port
#          forwarded to 127.0.0.1, the node runner reaches the API server at slirp's
#          gateway 10.0.2.2 (the host's loopback).
# Callers set: root (repo), build (build dir), work (a fresh directory under /tmp).
# Every process started here is recorded and stopped by topo_stop.
topo_pids=()
topo_vm_pid=

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s until it succeeds.
wait_for() {
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= end)); then echo "timed out after ${secs}s waiting for $what" >&2; return 1; fi
    sleep 0.2
  done
}

topo_pki() {
  local d=$work/pki
  mkdir -p "$d"
  "$root/scripts/gen-certs.sh" "$work/certs" vm-node >/dev/null
  openssl genrsa -out "$work/certs/agent-token.key" 2048 2>/dev/null
  openssl genrsa -out "$work/coordinator-token.key" 2048 2>/dev/null
  # The API server's CA and serving certificate: valid at 127.0.0.1 (host) and at
  # 10.0.2.2 (the guest's view of the host's loopback).
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
    -subj /CN=e2e-kube-ca 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$d/serving.key" -out "$d/serving.csr" \
    -subj /CN=kube-apiserver 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,IP:10.0.2.2,DNS:localhost\n' > "$d/san.ext"
  openssl x509 -req -in "$d/serving.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -out "$d/serving.crt" -days 2 -extfile "$d/san.ext" 2>/dev/null
  openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
  openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
  kube_token=$(openssl rand -hex 16)
  echo "$kube_token,admin,uid-admin,system:masters" > "$d/tokens.csv"
}

topo_kubeconfig() {  # FILE SERVER
  cat > "$1" <<KC
apiVersion: v1
kind: Config
clusters: [{name: e2e, cluster: {server: "$2", certificate-authority: "$work/pki/ca.crt"}}]
users: [{name: admin, user: {token: "$kube_token"}}]
contexts: [{name: e2e, context: {cluster: e2e, user: admin, namespace: default}}]
current-context: e2e
KC
}

kube() {  # METHOD PATH [BODY [CURL OPTIONS...]]
  local m=$1 p=$2 body=${3:-}; shift 2; (($#)) && shift
  curl -sS --cacert "$work/pki/ca.crt" -H "Authorization: Bearer $kube_token" \
    -H 'Content-Type: application/json' -X "$m" "https://127.0.0.1:$kube_port$p" ${body:+-d "$body"} "$@"
}
# kube_create PATH BODY: POST that fails loudly with the server's message.
kube_create() {
  local out
  out=$(kube POST "$1" "$2" -w '\n%{http_code}') || return 1
  [[ ${out##*$'\n'} == 20? ]] || { echo "POST $1: ${out%$'\n'*}" >&2; return 1; }
}

topo_start_cluster() {
  local bin=${GTHULHU_CACHE}/bin
  [[ -x $bin/etcd && -x $bin/kube-apiserver ]] || die "etcd/kube-apiserver not built (run: scripts/kube-apiserver.sh)"
  local ec ep
  ec=$(free_port); ep=$(free_port); kube_port=$(free_port)
  "$bin/etcd" --name=e2e --data-dir="$work/etcd" --listen-client-urls="http://127.0.0.1:$ec" \
    --advertise-client-urls="http://127.0.0.1:$ec" --listen-peer-urls="http://127.0.0.1:$ep" \
    --initial-advertise-peer-urls="http://127.0.0.1:$ep" --initial-cluster="e2e=http://127.0.0.1:$ep" \
    --log-level=warn > "$work/etcd.log" 2>&1 &
  topo_pids+=($!)
  local d=$work/pki
  "$bin/kube-apiserver" --etcd-servers="http://127.0.0.1:$ec" --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 --secure-port="$kube_port" --cert-dir="$work/kube-certs" \
    --tls-cert-file="$d/serving.crt" --tls-private-key-file="$d/serving.key" --client-ca-file="$d/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$d/sa.pub" \
    --service-account-signing-key-file="$d/sa.key" --token-auth-file="$d/tokens.csv" \
    --authorization-mode=Node,RBAC --service-cluster-ip-range=10.96.0.0/16 \
    --endpoint-reconciler-type=none --enable-priority-and-fairness=false > "$work/kube-apiserver.log" 2>&1 &
  topo_pids+=($!)
  wait_for 120 "kube-apiserver /readyz" kube GET /readyz "" --fail || { tail -20 "$work/kube-apiserver.log"; return 1; }
  topo_kubeconfig "$work/kubeconfig" "https://127.0.0.1:$kube_port"
  topo_kubeconfig "$work/kubeconfig-guest" "https://10.0.2.2:$kube_port"
  # No controller-manager here: the namespace's default ServiceAccount is made by hand.
  wait_for 30 "the default ServiceAccount" kube_create /api/v1/namespaces/default/serviceaccounts \
    '{"metadata":{"name":"default"}}'
}

coordinator_url() { echo "http://127.0.0.1:$coord_port"; }
topo_start_coordinator() {
  coord_port=${coord_port:-$(free_port)}
  GTHULHU_SERVER_LISTEN=127.0.0.1:$coord_port GTHULHU_SQLITE_PATH=$work/coordinator.db \
  GTHULHU_AUTH_PRIVATE_KEY=$work/coordinator-token.key GTHULHU_ADMIN_PASSWORD=$admin_password \
  GTHULHU_AUTH_ARGON2_MEMORY_KIB=64 GTHULHU_AUTH_ARGON2_ITERATIONS=1 \
  GTHULHU_KUBERNETES_MODE=kubeconfig GTHULHU_KUBERNETES_KUBECONFIG=$work/kubeconfig \
  GTHULHU_KUBERNETES_POD_NAMESPACE=default GTHULHU_KUBERNETES_LEASE_NAMESPACE=default \
  GTHULHU_AGENTS_STATIC="vm-node=https://vm-node:$agent_host_port@127.0.0.1${extra_agents:-}" \
  GTHULHU_AGENTS_CA=$work/certs/ca.crt GTHULHU_AGENTS_CLIENT_CERT=$work/certs/coordinator.crt \
  GTHULHU_AGENTS_CLIENT_KEY=$work/certs/coordinator.key GTHULHU_AGENTS_PROBE_INTERVAL=1s \
  GTHULHU_AGENTS_RETRY_MAX=2s GTHULHU_SERVER_ACCESS_LOG=false \
    "$build/coordinator/gthulhu-coordinator" >> "$work/coordinator.log" 2>&1 &
  coord_pid=$!
  topo_pids+=($coord_pid)
  wait_for 60 "the coordinator" coord_login
}

coord_login() {
  local r
  r=$(curl -sf -XPOST "$(coordinator_url)/api/v1/auth/login" -H 'Content-Type: application/json' \
      -d "{\"username\":\"admin@example.com\",\"password\":\"$admin_password\"}") || return 1
  coord_token=$(python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["accessToken"])' <<<"$r")
}
coord() {  # METHOD PATH [BODY]
  curl -sS -H "Authorization: Bearer $coord_token" -H 'Content-Type: application/json' \
    -X "$1" "$(coordinator_url)$2" ${3:+-d "$3"}
}

# The agent in the VM, over mTLS through the forwarded port (the coordinator's view).
agent_get() {
  curl -sS --fail --cacert "$work/certs/ca.crt" --cert "$work/certs/coordinator.crt" \
    --key "$work/certs/coordinator.key" --resolve "vm-node:$agent_host_port:127.0.0.1" \
    "https://vm-node:$agent_host_port$1"
}

# Starts the node in the background: the VM, or (E2E_NODE=host, the default when this
# kernel has sched_ext) the same node script directly on this machine.
# When it ends, WORK/vm.status holds its exit status.
node_on_host() {
  case ${E2E_NODE:-auto} in
    host) return 0 ;; vm) return 1 ;;
    *) [[ -e /sys/kernel/sched_ext/state ]] ;;
  esac
}
topo_start_vm() {
  agent_host_port=${agent_host_port:-$(free_port)}
  rm -f "$work/stop" "$work/guest.ready" "$work/guest.stopped" "$work/vm.status"
  if node_on_host; then
    local cg2
    cg2=$(findmnt -n -t cgroup2 -o TARGET | head -1)
    cat > "$work/node.env" <<ENV
BUILD=$build
KUBECONFIG_GUEST=$work/kubeconfig
CERTS=$work/certs
AGENT_LISTEN=127.0.0.1:$agent_host_port
POD_IP=127.0.0.1
CGROUP_ROOT=$cg2
PIN_ROOT=/sys/fs/bpf/gthulhu-e2e-${work##*.}
ENV
    ( "$root/tests/e2e/guest_node.sh" "$work"; echo $? > "$work/vm.status" ) > "$work/vm.log" 2>&1 &
  else
    cat > "$work/node.env" <<ENV
BUILD=$build
KUBECONFIG_GUEST=$work/kubeconfig-guest
CERTS=$work/certs
AGENT_LISTEN=0.0.0.0:8443
POD_IP=10.0.2.15
CGROUP_ROOT=/sys/fs/cgroup
ENV
    ( "$root/scripts/vng.sh" run --fwd "$agent_host_port:8443" -- "$root/tests/e2e/guest_node.sh $work";
      echo $? > "$work/vm.status" ) > "$work/vm.log" 2>&1 &
  fi
  topo_vm_pid=$!
}
vm_alive() { [[ ! -e $work/vm.status ]]; }
# topo_wait_vm SECONDS CHECK...: waits for CHECK while the VM lives (3: the VM ended).
topo_wait_vm() {
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    if ! vm_alive; then echo "the VM ended (status $(<"$work/vm.status")) before: $*" >&2; return 3; fi
    if ((SECONDS >= end)); then echo "timed out waiting for: $*" >&2; return 1; fi
    sleep 1
  done
}
guest_ready() { [[ -e $work/guest.ready ]]; }
agent_healthy() { agent_get /health; }
topo_start_agent() { touch "$work/start-agent"; }
topo_stop_vm() {
  [[ -n $topo_vm_pid ]] || return 0
  touch "$work/stop"
  local end=$((SECONDS + 60))
  while vm_alive && ((SECONDS < end)); do sleep 0.5; done
  if vm_alive; then kill "$topo_vm_pid" 2>/dev/null; pkill -P "$topo_vm_pid" 2>/dev/null; fi
  wait "$topo_vm_pid" 2>/dev/null
  topo_vm_pid=
}

topo_stop() {
  set +e
  topo_stop_vm
  local i
  for ((i = ${#topo_pids[@]} - 1; i >= 0; i--)); do kill "${topo_pids[i]}" 2>/dev/null; done
  # kube-apiserver may take a minute to drain its watches on SIGTERM: 10 s, then SIGKILL.
  local end=$((SECONDS + 10)) p
  for p in "${topo_pids[@]}"; do
    while kill -0 "$p" 2>/dev/null && ((SECONDS < end)); do sleep 0.2; done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  topo_pids=()
}

# pod_json NAME LABEL CPU_REQUEST COMMAND_JSON: a pod bound to vm-node (no scheduler here).
pod_json() {
  cat <<POD
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$1","labels":{"app":"$2"}},
 "spec":{"nodeName":"vm-node","automountServiceAccountToken":false,
  "containers":[{"name":"main","image":"local/none","command":$4,
   "resources":{"requests":{"cpu":"$3"}}}]}}
POD
}
pod_phase() { kube GET "/api/v1/namespaces/default/pods/$1" | python3 -c 'import sys,json; print(json.load(sys.stdin).get("status",{}).get("phase",""))'; }
pod_running() { [[ $(pod_phase "$1") == Running ]]; }
