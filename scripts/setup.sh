#!/usr/bin/env bash
# Installs what a fresh Debian machine with only Rust lacks (LLVM 19, mold,
# Redis for the cluster tests, Chromium for the browser test
# (scripts/browser.sh), gdb for the debug-info test, Neovim for the language
# server's editor test (scripts/nvim-test.sh)), then builds the whole
# workspace (snowc and the runtime library).
# Idempotent: packages already present are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cc >/dev/null || need+=(gcc)
# redis-server and redis-tools (redis-cli): the cluster tests (docs/CLUSTER.md);
# chromium: the browser test (scripts/browser.sh); gdb: snowc/cli/tests/debug_info.rs
# (`snowc build -g`; binutils' addr2line, objdump and nm come with gcc);
# neovim: scripts/nvim-test.sh (its built-in LSP client drives `snowc lsp`).
for pkg in llvm-19-dev libpolly-19-dev libzstd-dev mold redis-server redis-tools chromium gdb neovim; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

export LLVM_SYS_191_PREFIX=/usr/lib/llvm-19
cargo build --workspace ${SNOW_CARGO_FLAGS:-}
