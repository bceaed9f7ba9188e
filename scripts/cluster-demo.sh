#!/usr/bin/env bash
# Cluster mode in one command (docs/CLUSTER.md): starts a throw-away
# redis-server (persistence off) and two nodes of the unchanged chat example
# (examples/chat.snow) on two ports, all sharing rooms through Redis.
# Connect clients to either port, e.g. in two terminals:
#   websocat ws://localhost:8081/lobby      websocat ws://localhost:8082/lobby
# and what one types reaches the other. Ctrl-C stops everything.
# Knobs: DEMO_REDIS_PORT (6390), DEMO_PORTS ("8081 8082").
set -euo pipefail
cd "$(dirname "$0")/.."
export LLVM_SYS_191_PREFIX=${LLVM_SYS_191_PREFIX:-/usr/lib/llvm-19}
redis_port=${DEMO_REDIS_PORT:-6390}
ports=${DEMO_PORTS:-"8081 8082"}
command -v redis-server >/dev/null || { echo "cluster-demo: redis-server is missing (scripts/setup.sh installs it)" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

cargo build --quiet --workspace
target/debug/snowc build examples/chat.snow -O2 -o "$tmp/chat"

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
  >"$tmp/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
echo "cluster-demo: redis-server on 127.0.0.1:$redis_port"

for port in $ports; do
  PORT=$port SNOW_WS_REDIS_URL="redis://127.0.0.1:$redis_port" "$tmp/chat" &
  pids+=($!)
done
echo "cluster-demo: chat nodes on ports: $ports (Ctrl-C stops them)"
wait
