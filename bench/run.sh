#!/usr/bin/env bash
# The whole WebSocket comparison in one command: installs the peers (npm ci
# into bench/peers/*), matplotlib (into .venv), builds the load generator,
# the Rust peer and the Snow server (release), runs every scenario against
# every server, and rewrites bench/RESULTS.md and bench/results.png.
# Knobs (environment): BENCH_SCENARIOS=fanout-32,... BENCH_SERVERS=snow,bun
# BENCH_DURATION=3 BENCH_REPEAT=1 BENCH_PORT=9310.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

echo "== peers (npm ci)"
for p in bun node-ws socketio socketio-redis socketio-streams; do
  (cd "bench/peers/$p" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
done

echo "== matplotlib (.venv)"
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -c 'import matplotlib' 2>/dev/null || .venv/bin/pip install -q matplotlib

echo "== build (release: snowc, snow-rt, loadgen, rust-server)"
cargo build --release -q -p snow-rt -p snow-bench-loadgen
if ! cargo build --release -q -p snowc; then
  [ -x target/release/snowc ] || exit 1
  echo "warning: snowc does not build right now; using the existing target/release/snowc" >&2
fi
mkdir -p bench/out
target/release/snowc build bench/servers/bench.snow -O2 -o bench/out/snow-bench
target/release/snowc build bench/servers/bench_publish.snow -O2 -o bench/out/snow-bench-publish

# The cluster scenarios need redis-server (scripts/setup.sh installs it).
command -v redis-server >/dev/null || { echo "bench: redis-server is missing: run scripts/setup.sh" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
echo "== run"
exec .venv/bin/python bench/run.py
