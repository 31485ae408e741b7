#!/usr/bin/env bash
# Makes the mTLS material between the coordinator and the agents (EC P-256):
#   OUT/ca.crt, OUT/ca.key                 a private CA (keep ca.key offline)
#   OUT/coordinator.crt, .key              the coordinator's client certificate
#   OUT/agents/NODE.crt, .key              one server certificate per node
# Usage: scripts/gen-certs.sh [-d DAYS] OUT NODE[=SAN,SAN...] ...
#   NODE is the node name; its certificate carries DNS:NODE plus the extra SANs
#   (DNS names, or IP addresses written as IP:1.2.3.4).
# Re-running keeps an existing CA and issues what is missing; nothing is overwritten.
set -euo pipefail
days=825
if [[ ${1:-} == -d ]]; then days=$2; shift 2; fi
if (($# < 1)); then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
out=$1; shift
mkdir -p "$out/agents"
umask 077

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [[ ! -e "$out/ca.key" ]]; then
  new_key "$out/ca.key"
  openssl req -x509 -new -key "$out/ca.key" -sha256 -days "$days" -subj "/CN=Gthulhu CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$out/ca.crt"
  echo "CA: $out/ca.crt"
fi

# issue NAME KEY CRT EXTENSIONS...
issue() {
  local cn=$1 key=$2 crt=$3; shift 3
  [[ -e "$crt" ]] && return 0
  new_key "$key"
  local ext
  ext=$(mktemp)
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "$@" > "$ext"
  openssl req -new -key "$key" -subj "/CN=$cn" 2>/dev/null |
    openssl x509 -req -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial -sha256 -days "$days" \
      -extfile "$ext" -out "$crt" 2>/dev/null
  rm -f "$ext"
  echo "issued: $crt"
}

issue gthulhu-coordinator "$out/coordinator.key" "$out/coordinator.crt" \
  "keyUsage=critical,digitalSignature" "extendedKeyUsage=clientAuth"

for spec in "$@"; do
  node=${spec%%=*}
  [[ $node =~ ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ ]] || { echo "not a node name: $node" >&2; exit 2; }
  sans="DNS:$node"
  if [[ $spec == *=* ]]; then
    IFS=, read -ra extra <<< "${spec#*=}"
    for s in "${extra[@]}"; do
      [[ $s == IP:* || $s == DNS:* ]] && sans+=",$s" || sans+=",DNS:$s"
    done
  fi
  issue "$node" "$out/agents/$node.key" "$out/agents/$node.crt" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" "subjectAltName=$sans"
done
chmod 644 "$out/ca.crt" "$out/coordinator.crt" "$out"/agents/*.crt 2>/dev/null || true
