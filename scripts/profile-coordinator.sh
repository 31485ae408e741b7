#!/usr/bin/env bash
# CPU instructions per request of the coordinator, counted by callgrind: the figure to
# compare changes with on a shared, loaded machine, where req/s figures move with the
# other load. Serves the bench's request (authenticated GET /api/v1/strategies/self,
# 20 strategies, SQLite) and /health, PROFILE_REQUESTS of each over PROFILE_CONNECTIONS
# keep-alive connections, after a warm-up, and prints, for each, the coordinator's
# user-space instructions per request (the time the same run spends idle subtracted:
# watchdog ticks, the store health check) and the functions with the most of them.
# Kernel work (system calls) is not counted; callgrind sees user space only.
#
# The store and role caches get a long ttl here: under callgrind a second holds a few
# hundred requests instead of tens of thousands, so the once-per-ttl re-read would
# weigh a hundred times more than it does at full speed. What is measured is the path
# of a request that finds them fresh.
#
#   BUILD=build scripts/profile-coordinator.sh   (valgrind, python3, openssl; about a minute)
#   PROFILE_REQUESTS=1000 PROFILE_CONNECTIONS=8 PROFILE_TOP=25 PROFILE_OUT=dir (keeps the dumps)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BUILD:-$root/build}
coord=${COORDINATOR:-$build/coordinator/gthulhu-coordinator}
n=${PROFILE_REQUESTS:-1000}
conns=${PROFILE_CONNECTIONS:-8}
top=${PROFILE_TOP:-25}
[[ -x $coord ]] || { echo "coordinator not built ($coord)"; exit 1; }
for tool in valgrind callgrind_control callgrind_annotate python3 openssl curl; do
  command -v "$tool" >/dev/null || { echo "$tool not installed"; exit 1; }
done

work=$(mktemp -d /tmp/gthulhu-profile.XXXXXX)
cpid=
cleanup() {
  [[ -n $cpid ]] && { kill "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null; }
  # PROFILE_OUT=dir keeps the two dumps (authenticated.callgrind, health.callgrind).
  if [[ -n ${PROFILE_OUT:-} && -n ${adump:-} ]]; then
    mkdir -p "$PROFILE_OUT" && cp "$adump" "$PROFILE_OUT/authenticated.callgrind" && cp "$hdump" "$PROFILE_OUT/health.callgrind"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/token-key.pem" 2>/dev/null
password='profile-Password-2026!'
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
env_common=(GTHULHU_SERVER_LISTEN=127.0.0.1:$port GTHULHU_ADMIN_PASSWORD=$password
  GTHULHU_AUTH_PRIVATE_KEY="$work/token-key.pem" GTHULHU_STORE_BACKEND=sqlite
  GTHULHU_SQLITE_PATH="$work/coordinator.db" GTHULHU_SERVER_ACCESS_LOG=false GTHULHU_LOG_LEVEL=warn
  GTHULHU_STORE_CACHE_TTL=10m GTHULHU_AUTH_ROLE_CACHE_TTL=1h)

wait_health() {  # tries (0.2 s apart)
  for _ in $(seq "$1"); do curl -sf "$url/health" >/dev/null && return 0; sleep 0.2; done
  echo "coordinator did not answer /health"; tail "$work/coordinator.log"; return 1
}

# Seed at full speed: the admin, a token (valid 15 min, the same key signs both runs)
# and 20 strategies.
env "${env_common[@]}" "$coord" > "$work/coordinator.log" 2>&1 &
cpid=$!
wait_health 100 || exit 1
token=$(curl -s -XPOST "$url/api/v1/auth/login" -d "{\"username\":\"admin@example.com\",\"password\":\"$password\"}" |
  python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["token"])')
for i in $(seq 20); do
  curl -s -XPOST "$url/api/v1/strategies" -H "Authorization: Bearer $token" \
    -d "{\"strategyNamespace\":\"bench\",\"labelSelectors\":[{\"key\":\"app\",\"value\":\"a$i\"}],\"k8sNamespace\":[\"default\"],\"priority\":$((i % 20)),\"executionTime\":4000000}" >/dev/null
done
kill "$cpid"; wait "$cpid" 2>/dev/null; cpid=

# N requests over C keep-alive connections; prints "requests non200".
cat > "$work/client.py" <<'EOF'
import http.client, sys, threading
port, path, n, conns, token = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
headers = {"Authorization": "Bearer " + token} if token else {}
bad = [0]
def run(count):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for _ in range(count):
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        r.read()
        if r.status != 200:
            bad[0] += 1
threads = [threading.Thread(target=run, args=(n // conns,)) for _ in range(conns)]
for t in threads: t.start()
for t in threads: t.join()
print(n // conns * conns, bad[0])
EOF

env "${env_common[@]}" valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" \
  "$coord" > "$work/coordinator.log" 2>&1 &
cpid=$!
wait_health 600 || exit 1
auth_path=/api/v1/strategies/self
python3 "$work/client.py" "$port" "$auth_path" 400 "$conns" "$token" >/dev/null
python3 "$work/client.py" "$port" /health 400 "$conns" "" >/dev/null

total_ir() {  # the newest dump's total instructions
  awk '/^(summary|totals):/ {print $2; exit}' "$(ls -t "$work"/cg.$cpid.* | head -1)"
}
newest_dump() { ls -t "$work"/cg.$cpid.* | head -1; }
measure() {  # label path token -> prints "label instructions requests non200 seconds"
  local label=$1 path=$2 tok=$3 t0 t1 out
  callgrind_control -z "$cpid" >/dev/null 2>&1
  t0=$(date +%s.%N)
  out=$(python3 "$work/client.py" "$port" "$path" "$n" "$conns" "$tok")
  t1=$(date +%s.%N)
  callgrind_control -d "$cpid" >/dev/null 2>&1
  local requests bad
  read -r requests bad <<<"$out"
  echo "$label $(total_ir) $requests $bad $(echo "$t1 - $t0" | bc -l)"
}
idle_rate() {  # instructions per second with no requests, over 5 s
  callgrind_control -z "$cpid" >/dev/null 2>&1
  sleep 5
  callgrind_control -d "$cpid" >/dev/null 2>&1
  echo "$(total_ir) / 5" | bc -l
}
rate=$(idle_rate)
report() {  # "label path instructions requests non200 seconds" dump
  local label path ir requests bad secs
  read -r label path ir requests bad secs <<<"$1"
  local per; per=$(echo "($ir - $rate * $secs) / $requests" | bc -l)
  # libmicrohttpd zeroes each connection's memory pool after every request (memset):
  # shown apart, it scales with the pool size (server.max_header_bytes), not our code.
  local listing; listing=$(callgrind_annotate --threshold=100 --auto=no "$2" 2>/dev/null)
  local zeroing; zeroing=$(awk '/__memset_/ {gsub(",", "", $1); s += $1} END {print s + 0}' <<<"$listing")
  printf '%s %s: %.0f instructions/request, of which memset %.0f (%s requests, %s non-200, %.1f s under callgrind, idle %.0f instr/s subtracted)\n' \
    "$label" "$path" "$per" "$(echo "$zeroing / $requests" | bc -l)" "$requests" "$bad" "$secs" "$rate"
  echo "  most instructions (self, whole run):"
  grep -E '^ *[0-9,]+ \(' <<<"$listing" | grep -v -E 'PROGRAM TOTALS|clone.S:clone|pthread_create.c:start_thread' |
    sed -n "1,${top}p" | cut -c1-160
}
a=$(measure "GET $auth_path" "$auth_path" "$token"); adump=$(newest_dump)
h=$(measure "GET /health" /health ""); hdump=$(newest_dump)
report "$a" "$adump"
echo
report "$h" "$hdump"
