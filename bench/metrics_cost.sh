#!/usr/bin/env bash
# The instructions the metrics cost (bench/analysis-metrics.md): the Snow
# benchmark server (bench/out/snow-bench, built by bench/run.sh) under
# valgrind's cachegrind, fan-out C = 32 for DURATION seconds, with the
# metrics on (scraped once a second) and off; prints each run's total
# instructions and those cg_annotate attributes to the counting code
# (ws/counters.rs and std's thread-local access inlined into its callers)
# and to the scrape (ws/metrics.rs, prometheus-client).
# Needs valgrind (apt-get install valgrind). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-6}
PORT=${BENCH_PORT:-9321}
MPORT=${BENCH_METRICS_PORT:-9392}
for v in off on; do
  out=$(mktemp)
  envs=(SNOW_WS_WORKER_THREADS=1 PORT=$PORT)
  [ "$v" = on ] && envs+=(SNOW_WS_METRICS_ADDR=127.0.0.1:$MPORT)
  env "${envs[@]}" taskset -c 0 valgrind --tool=cachegrind --cache-sim=no \
    --cachegrind-out-file="$out" bench/out/snow-bench 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.2; done
  sleep 0.5
  scraper=""
  if [ "$v" = on ]; then
    (while kill -0 $pid 2>/dev/null; do curl -s -o /dev/null "http://127.0.0.1:$MPORT/metrics" || true; sleep 1; done) &
    scraper=$!
  fi
  res=$(taskset -c 1 target/release/loadgen --addr 127.0.0.1:$PORT --proto plain --duration "$DURATION" \
        --scenario fanout --clients 32 --window 8 | tail -1)
  kill -INT $pid; wait $pid || true
  [ -n "$scraper" ] && wait $scraper || true
  cg_annotate --threshold=0 --auto=no "$out" 2>/dev/null | awk -v v="$v" -v res="$res" '
    /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
    /ws\/counters.rs:|thread\/local.rs:snow_rt::ws::(session|broadcast)/ { gsub(",", "", $1); count += $1 }
    /ws\/metrics.rs:|prometheus-client/ { gsub(",", "", $1); scrape += $1 }
    END { printf "metrics %s: %d instructions; counting %d (%.3f%%), scraping %d (%.3f%%); loadgen %s\n",
                 v, total, count, 100 * count / total, scrape, 100 * scrape / total, res }'
  rm -f "$out"
done
