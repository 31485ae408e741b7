#!/usr/bin/env bash
# Coordinator benchmark: authenticated GET /api/v1/strategies/self with wrk on
# loopback, against the embedded SQLite store and against FerretDB (MongoDB wire
# protocol), plus the login cost (Argon2id with the production defaults).
# Targets (DESIGN.md): >= 20k req/s on 2 cores with p99 < 5 ms. wrk runs on the same
# two cores, so the figures are conservative.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
build=${BUILD:-$root/build}
coord=$build/coordinator/gthulhu-coordinator
duration=${BENCH_SECONDS:-10}
[[ ${BENCH_QUICK:-0} == 1 ]] && duration=4
[[ -x $coord ]] || { echo "coordinator not built"; exit 0; }
command -v wrk >/dev/null || { echo "wrk not installed (scripts/deps.sh installs it)"; exit 0; }

work=$(mktemp -d /tmp/gthulhu-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

# The coordinator signs tokens with an RSA key it never generates itself; the bench
# makes a throwaway one (no key material lives in the repository).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/token-key.pem" 2>/dev/null

# One figure for the report (bench/figures.h's format), when bench.sh collects them.
figure() {  # section name value unit [baseline_name baseline_value]
  [[ -n ${GTHULHU_BENCH_FIGURES:-} && -n $3 ]] || return 0
  if [[ $# -ge 6 && -n $6 ]]; then
    jq -cn --arg s "$1" --arg n "$2" --argjson v "$3" --arg u "$4" --arg bn "$5" --argjson b "$6" \
      '{section:$s,name:$n,value:$v,unit:$u,higherIsBetter:($u=="req/s"),baseline:{name:$bn,value:$b}} + (if $b != 0 then {ratio:($v/$b)} else {} end)'
  else
    jq -cn --arg s "$1" --arg n "$2" --argjson v "$3" --arg u "$4" '{section:$s,name:$n,value:$v,unit:$u,higherIsBetter:($u=="req/s")}'
  fi >> "$GTHULHU_BENCH_FIGURES"
}
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v+0} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000} else print v}' <<<"$1"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
password='bench-Password-2026!'

run_one() {  # label, extra env...
  local label=$1; shift
  local port; port=$(free_port)
  env GTHULHU_SERVER_LISTEN=127.0.0.1:$port GTHULHU_ADMIN_PASSWORD=$password \
      GTHULHU_AUTH_PRIVATE_KEY="$work/token-key.pem" \
      GTHULHU_AUTH_LOGIN_ATTEMPTS_PER_IP=1000000 GTHULHU_AUTH_LOGIN_FAILURES_PER_USER=1000000 \
      GTHULHU_SERVER_ACCESS_LOG=false GTHULHU_LOG_LEVEL=warn "$@" "$coord" > "$work/$label.log" 2>&1 &
  local cpid=$!
  pids+=("$cpid")
  local url=http://127.0.0.1:$port
  for _ in $(seq 100); do curl -sf "$url/health" >/dev/null && break; sleep 0.1; done
  curl -sf "$url/health" >/dev/null || { echo "$label: coordinator did not start"; tail "$work/$label.log"; return 1; }
  local t0 t1 token
  t0=$(date +%s%N)
  for _ in $(seq 10); do
    token=$(curl -s -XPOST "$url/api/v1/auth/login" -d "{\"username\":\"admin@example.com\",\"password\":\"$password\"}" |
            python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["token"])')
  done
  t1=$(date +%s%N)
  for i in $(seq 20); do
    curl -s -XPOST "$url/api/v1/strategies" -H "Authorization: Bearer $token" \
      -d "{\"strategyNamespace\":\"bench\",\"labelSelectors\":[{\"key\":\"app\",\"value\":\"a$i\"}],\"k8sNamespace\":[\"default\"],\"priority\":$((i % 20)),\"executionTime\":4000000}" >/dev/null
  done
  local out
  out=$(wrk -t2 -c32 -d"${duration}s" --latency -H "Authorization: Bearer $token" "$url/api/v1/strategies/self")
  local rps p99 non2xx
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  # The same server's /health (no store round trip: a background check) as the floor.
  local hout hrps hp99
  hout=$(wrk -t2 -c32 -d"$(( duration / 2 > 2 ? duration / 2 : 2 ))s" --latency "$url/health")
  hrps=$(awk '/^Requests\/sec/ {print $2}' <<<"$hout")
  hp99=$(awk '$1 == "99%" {print $2}' <<<"$hout")
  printf '%-9s GET /api/v1/strategies/self (20 strategies, JWT checked each time): %s req/s, p99 %s, non-2xx %s\n' \
    "$label" "$rps" "$p99" "${non2xx:-0}"
  printf '%-9s GET /health (store status from the background check): %s req/s, p99 %s\n' "$label" "$hrps" "$hp99"
  figure coordinator "$label GET /api/v1/strategies/self" "$rps" req/s "$label GET /health, same server" "$hrps"
  figure coordinator "$label GET /api/v1/strategies/self p99" "$(to_ms "$p99")" ms "$label GET /health p99" "$(to_ms "$hp99")"
  figure coordinator "$label GET /health" "$hrps" req/s
  local login_ms; login_ms=$(echo "($t1 - $t0) / 10000000" | bc -l)
  printf '%-9s login (Argon2id, production parameters): %.1f ms each (mean of 10, curl included)\n' "$label" "$login_ms"
  figure coordinator "$label POST /api/v1/auth/login (mean of 10)" "$(printf '%.1f' "$login_ms")" ms
  kill "$cpid"; wait "$cpid" 2>/dev/null
}

run_one sqlite GTHULHU_STORE_BACKEND=sqlite GTHULHU_SQLITE_PATH="$work/coordinator.db"

ferret=$GTHULHU_CACHE/bin/ferretdb
if [[ -x $ferret ]]; then
  fport=$(free_port)
  mkdir -p "$work/ferret-data" "$work/ferret-state"
  "$ferret" --handler=sqlite --sqlite-url="file:$work/ferret-data/" --listen-addr=127.0.0.1:$fport \
    --state-dir="$work/ferret-state" --telemetry=disable --debug-addr=- --log-level=error > "$work/ferret.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$fport) 2>/dev/null && break; sleep 0.1; done
  run_one ferretdb GTHULHU_STORE_BACKEND=mongodb GTHULHU_MONGODB_URI="mongodb://127.0.0.1:$fport/" \
    GTHULHU_MONGODB_DATABASE=bench
else
  echo "ferretdb: not installed (scripts/ferretdb.sh), MongoDB-store figures skipped"
fi
