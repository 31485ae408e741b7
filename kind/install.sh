#!/usr/bin/env bash
# Installs Gthulhu into a local kind cluster (needs Docker, kind, kubectl and helm):
# creates the cluster from kind/cluster.yaml (once), builds both images with Docker and
# loads them into the nodes, labels the workers as sched_ext nodes, makes the mTLS
# material with scripts/gen-certs.sh for the workers' names, stores it as the Secrets
# the chart expects, and runs `helm upgrade --install`. Re-running it upgrades.
# The kind nodes run the host's kernel: the scheduler attaches only if that kernel has
# sched_ext; otherwise the agents run "degraded" (GET /api/v1/nodes says why).
# Environment: CLUSTER (gthulhu), NAMESPACE (gthulhu-system), RELEASE (gthulhu),
# CERTS (the directory for the certificates, default .kind-certs), HELM_ARGS (extra).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cluster=${CLUSTER:-gthulhu}
ns=${NAMESPACE:-gthulhu-system}
release=${RELEASE:-gthulhu}
certs=${CERTS:-$root/.kind-certs}
tag=$(awk '/^appVersion:/ {gsub(/"/, "", $2); print $2}' "$root/charts/gthulhu/Chart.yaml")

for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null || { echo "kind/install.sh: $tool is not installed" >&2; exit 1; }
done
docker info >/dev/null 2>&1 || { echo "kind/install.sh: the Docker engine is not reachable (docker info failed)" >&2; exit 1; }

kind get clusters | grep -qx "$cluster" || kind create cluster --name "$cluster" --config "$root/kind/cluster.yaml"
kubectl config use-context "kind-$cluster" >/dev/null

for svc in coordinator agent; do
  docker build -f "$root/docker/$svc.Dockerfile" -t "gthulhu/$svc:$tag" "$root"
  kind load docker-image --name "$cluster" "gthulhu/$svc:$tag"
done

workers=$(kubectl get nodes -l '!node-role.kubernetes.io/control-plane' -o jsonpath='{.items[*].metadata.name}')
[[ -n $workers ]] || { echo "kind/install.sh: the cluster has no worker nodes" >&2; exit 1; }
for n in $workers; do kubectl label node "$n" gthulhu.io/sched-ext=true --overwrite; done

# shellcheck disable=SC2086
"$root/scripts/gen-certs.sh" "$certs" $workers
kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f -
kubectl label namespace "$ns" pod-security.kubernetes.io/enforce=privileged --overwrite
kubectl -n "$ns" create secret generic "$release-coordinator-tls" \
  --from-file=ca.crt="$certs/ca.crt" --from-file=tls.crt="$certs/coordinator.crt" \
  --from-file=tls.key="$certs/coordinator.key" --dry-run=client -o yaml | kubectl apply -f -
kubectl -n "$ns" create secret generic "$release-agent-tls" \
  --from-file=ca.crt="$certs/ca.crt" --from-file="$certs/agents" --dry-run=client -o yaml | kubectl apply -f -

# shellcheck disable=SC2086
helm upgrade --install "$release" "$root/charts/gthulhu" --namespace "$ns" \
  --set image.pullPolicy=Never --wait --timeout 5m ${HELM_ARGS:-}
kubectl -n "$ns" get pods -o wide
helm status "$release" --namespace "$ns" --show-desc >/dev/null && echo "kind/install.sh: helm status $release -n $ns prints the access notes (REST API, agents' probe port)"
