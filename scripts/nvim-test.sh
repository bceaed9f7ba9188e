#!/usr/bin/env bash
# The language server in a real editor: Neovim (headless) with its built-in
# LSP client runs tests/editor/nvim_lsp.lua against target/debug/snowc
# (diagnostics with code and range, clearing them, hover, definition across
# files and into std/, completion after `Ws.`, formatting). Bounded in time;
# prints "nvim: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvim >/dev/null; then
  echo "nvim: 0 passed, 1 failed (neovim is not installed: scripts/setup.sh installs it)"
  exit 1
fi
export SNOWC="${SNOWC:-$PWD/target/debug/snowc}"
timeout 120 nvim --headless --clean -u NONE -c "luafile tests/editor/nvim_lsp.lua" 2>&1
status=$?
if [ $status -eq 124 ]; then
  echo "nvim: 0 passed, 1 failed (timed out)"
fi
exit $status
