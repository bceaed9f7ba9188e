#!/usr/bin/env bash
# The services benchmark in one command (bench/services/README.md): builds
# the runtime and the driver in release mode, compiles services.snow with
# -O2, installs Bun (npm ci in bench/peers/bun), and runs every
# measurement, writing bench/RESULTS-services.md. Run it under the build
# lock on a shared machine (flock /tmp/snow-cargo.lock bench/services/run.sh)
# so that no build competes with it. Knobs: SNOWC (a snowc to use instead
# of building target/release/snowc), and the driver's options after the
# command (--n N, --repeat R).
set -euo pipefail
cd "$(dirname "$0")/../.."
(cd bench/peers/bun && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
cargo build --release -q -p snow-rt -p snow-bench-loadgen
if [ -z "${SNOWC:-}" ]; then
  cargo build --release -q -p snowc
  SNOWC=target/release/snowc
fi
mkdir -p bench/out
SNOW_RT_LIB=target/release/libsnow_rt.a "$SNOWC" build bench/services/services.snow -O2 -o bench/out/snow-services
target/release/services-bench --snow bench/out/snow-services \
  --bun bench/peers/bun/node_modules/.bin/bun --js bench/services/bun.js \
  --out bench/RESULTS-services.md "$@"
