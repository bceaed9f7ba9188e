#!/usr/bin/env bash
# The whole test suite: installs missing system packages, builds, then runs
# every test of every crate (unit, snapshot, property, end-to-end with real
# WebSocket clients over loopback), and prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export LLVM_SYS_191_PREFIX=/usr/lib/llvm-19
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --no-fail-fast 2>&1 | tee "$log" || status=$?
# The server's tests again on one worker (the current-thread runtime the
# server uses then; the run above uses two workers).
SNOW_WS_TEST_WORKERS=1 cargo test -p snow-rt --lib ws:: 2>&1 | tee -a "$log" || status=$?
# Autobahn conformance of the echo example (docs/CONFORMANCE.md).
scripts/autobahn.sh 2>&1 | tee -a "$log" || status=$?
# The chat web app in headless Chromium (scripts/browser.sh).
scripts/browser.sh 2>&1 | tee -a "$log" || status=$?
# cargo prints one "test result:" line per test binary, Autobahn one
# "autobahn: N passed, M failed" line and the browser test one
# "browser: N passed, M failed" line; add them up.
awk '/^(test result|autobahn|browser):/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed[;,]?$/) p += $(i-1); if ($(i) ~ /^failed[;,]?$/) f += $(i-1) } }
     END { printf "summary: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
