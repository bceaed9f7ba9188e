#!/usr/bin/env bash
# The whole test suite: installs missing system packages, builds, then runs
# every test of every crate (unit, snapshot, property, end-to-end with real
# WebSocket clients over loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export LLVM_SYS_191_PREFIX=/usr/lib/llvm-19
cargo test --workspace --no-fail-fast
