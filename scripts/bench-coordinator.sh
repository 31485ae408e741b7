#!/usr/bin/env bash
# Coordinator benchmark: authenticated GET /api/v1/strategies/self with wrk on
# loopback, against the embedded SQLite store and against FerretDB (MongoDB wire
# protocol), each beside the same database with the cache disabled (store.cache_ttl=0),
# the same server's /health and the store layer alone for the same query
# (bench/store_query_bench), plus the login cost (Argon2id with the production defaults).
# Targets (DESIGN.md): >= 20k req/s on 2 cores with p99 < 5 ms. wrk runs on the same
# two cores, so the figures are conservative.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
build=${BUILD:-$root/build}
coord=$build/coordinator/gthulhu-coordinator
duration=${BENCH_SECONDS:-10}
runs=${BENCH_RUNS:-3}   # wrk runs per figure; the median is reported
[[ ${BENCH_QUICK:-0} == 1 ]] && { duration=4; runs=${BENCH_RUNS:-1}; }
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

# wrk $runs times against one URL; prints "median_rps median_p99 non2xx_total".
wrk_median() {  # url seconds [token]
  local url=$1 secs=$2 token=${3:-} rpss=() p99s=() non=0 out
  local hdr=(); [[ -n $token ]] && hdr=(-H "Authorization: Bearer $token")
  for _ in $(seq "$runs"); do
    out=$(wrk -t2 -c32 -d"${secs}s" --latency "${hdr[@]}" "$url")
    rpss+=("$(awk '/^Requests\/sec/ {print $2}' <<<"$out")")
    p99s+=("$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")")
    non=$(( non + $(awk '/Non-2xx/ {print $NF}' <<<"$out" | grep -E '^[0-9]+$' || echo 0) ))
  done
  printf '%s %s %s\n' "$(printf '%s\n' "${rpss[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" \
    "$(printf '%s\n' "${p99s[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" "$non"
}

start_coordinator() {  # label, extra env...; sets cpid and url
  local label=$1; shift
  local port; port=$(free_port)
  env GTHULHU_SERVER_LISTEN=127.0.0.1:$port GTHULHU_ADMIN_PASSWORD=$password \
      GTHULHU_AUTH_PRIVATE_KEY="$work/token-key.pem" \
      GTHULHU_AUTH_LOGIN_ATTEMPTS_PER_IP=1000000 GTHULHU_AUTH_LOGIN_FAILURES_PER_USER=1000000 \
      GTHULHU_SERVER_ACCESS_LOG=false GTHULHU_LOG_LEVEL=warn "$@" "$coord" > "$work/$label.log" 2>&1 &
  cpid=$!
  pids+=("$cpid")
  url=http://127.0.0.1:$port
  for _ in $(seq 100); do curl -sf "$url/health" >/dev/null && break; sleep 0.1; done
  curl -sf "$url/health" >/dev/null || { echo "$label: coordinator did not start"; tail "$work/$label.log"; return 1; }
}
stop_coordinator() { kill "$cpid"; wait "$cpid" 2>/dev/null; }
login() {
  curl -s -XPOST "$url/api/v1/auth/login" -d "{\"username\":\"admin@example.com\",\"password\":\"$password\"}" |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["token"])'
}

run_one() {  # label, store_query_bench args (the same database), extra env...
  local label=$1 store_args=$2; shift 2
  local cpid url token t0 t1
  start_coordinator "$label" "$@" || return 1
  t0=$(date +%s%N)
  for _ in $(seq 10); do token=$(login); done
  t1=$(date +%s%N)
  for i in $(seq 20); do
    curl -s -XPOST "$url/api/v1/strategies" -H "Authorization: Bearer $token" \
      -d "{\"strategyNamespace\":\"bench\",\"labelSelectors\":[{\"key\":\"app\",\"value\":\"a$i\"}],\"k8sNamespace\":[\"default\"],\"priority\":$((i % 20)),\"executionTime\":4000000}" >/dev/null
  done
  local rps p99 non2xx hrps hp99 _
  read -r rps p99 non2xx < <(wrk_median "$url/api/v1/strategies/self" "$duration" "$token")
  # The same server's /health (no store round trip: a background check) as the floor.
  read -r hrps hp99 _ < <(wrk_median "$url/health" "$(( duration / 2 > 2 ? duration / 2 : 2 ))")
  stop_coordinator
  # The same database, the cache disabled: every request reads the user and the list.
  start_coordinator "$label-nocache" GTHULHU_STORE_CACHE_TTL=0 "$@" || return 1
  token=$(login)
  local nrps np99 nnon
  read -r nrps np99 nnon < <(wrk_median "$url/api/v1/strategies/self" "$duration" "$token")
  stop_coordinator
  # The store alone: what one uncached request asks of it, 2 threads, no HTTP.
  local sq sqps sp99
  sq=$("$build/bench/store_query_bench" $store_args --user admin@example.com --threads 2 --seconds "$duration" 2>&1 | tail -1)
  sqps=$(awk '{sub(/\/s$/,"",$1); print $1}' <<<"$sq")
  sp99=$(awk '{print $5}' <<<"$sq")
  printf '%-9s GET /api/v1/strategies/self (20 strategies, JWT checked each time; median of %s wrk runs): %s req/s, p99 %s ms, non-2xx %s\n' \
    "$label" "$runs" "$rps" "$p99" "$non2xx"
  printf '%-9s   same, cache disabled (store.cache_ttl=0): %s req/s, p99 %s ms, non-2xx %s\n' "$label" "$nrps" "$np99" "$nnon"
  printf '%-9s   the store alone (get_user + list_strategies, 2 threads): %s\n' "$label" "$sq"
  printf '%-9s GET /health (store status from the background check): %s req/s, p99 %s ms\n' "$label" "$hrps" "$hp99"
  figure coordinator "$label GET /api/v1/strategies/self" "$rps" req/s "$label same, store.cache_ttl=0" "$nrps"
  figure coordinator "$label GET /api/v1/strategies/self p99" "$p99" ms "$label same, store.cache_ttl=0" "$np99"
  figure coordinator "$label GET /api/v1/strategies/self vs /health" "$rps" req/s "$label GET /health, same server" "$hrps"
  figure coordinator "$label uncached GET /strategies/self vs store alone" "$nrps" req/s \
    "$label store alone, same query, 2 threads" "$sqps"
  figure coordinator "$label store alone p99 (get_user + list_strategies)" "$sp99" ms
  figure coordinator "$label GET /health" "$hrps" req/s
  local login_ms; login_ms=$(echo "($t1 - $t0) / 10000000" | bc -l)
  printf '%-9s login (Argon2id, production parameters): %.1f ms each (mean of 10, curl included)\n' "$label" "$login_ms"
  figure coordinator "$label POST /api/v1/auth/login (mean of 10)" "$(printf '%.1f' "$login_ms")" ms
}

run_one sqlite "--sqlite $work/coordinator.db" GTHULHU_STORE_BACKEND=sqlite GTHULHU_SQLITE_PATH="$work/coordinator.db"

ferret=$GTHULHU_CACHE/bin/ferretdb
if [[ -x $ferret ]]; then
  fport=$(free_port)
  mkdir -p "$work/ferret-data" "$work/ferret-state"
  "$ferret" --handler=sqlite --sqlite-url="file:$work/ferret-data/" --listen-addr=127.0.0.1:$fport \
    --state-dir="$work/ferret-state" --telemetry=disable --debug-addr=- --log-level=error > "$work/ferret.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$fport) 2>/dev/null && break; sleep 0.1; done
  run_one ferretdb "--mongodb mongodb://127.0.0.1:$fport/ bench" GTHULHU_STORE_BACKEND=mongodb GTHULHU_MONGODB_URI="mongodb://127.0.0.1:$fport/" \
    GTHULHU_MONGODB_DATABASE=bench
else
  echo "ferretdb: not installed (scripts/ferretdb.sh), MongoDB-store figures skipped"
fi
