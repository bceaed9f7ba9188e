#!/usr/bin/env bash
# The chat web app (examples/chat-web) in real headless Chromium: Debian's
# `chromium` (scripts/setup.sh installs it) driven by Playwright for Python
# from a virtualenv under .venv/ (its own browser download is never used).
# Compiles examples/chat-web/server.snow with snowc, runs
# scripts/browser/chat_web.py against it on a free loopback port, and saves
# the page's screenshot. Prints `browser: N passed, M failed` and exits
# non-zero if a check fails or the run exceeds its time bound.
#
#   BROWSER_TIMEOUT     seconds for the whole run (default 300)
#   BROWSER_SCREENSHOT  where the screenshot goes (default target/browser/chat-web.png;
#                       docs/chat-web.png is the one the README shows)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/target/browser"
venv="$root/.venv/browser"
mkdir -p "$out"

if [ ! -x /usr/bin/chromium ]; then
  echo "browser: /usr/bin/chromium is missing (scripts/setup.sh installs it)" >&2
  echo "browser: 0 passed, 1 failed"
  exit 1
fi
# A Python 3.10+ with venv (Debian splits it out: python3-venv).
if ! python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "browser: installing python3 python3-venv" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-venv >/dev/null
fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import playwright.sync_api' 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'playwright==1.65.2'
fi

export LLVM_SYS_191_PREFIX=${LLVM_SYS_191_PREFIX:-/usr/lib/llvm-19}
cargo build --quiet --workspace
target/debug/snowc build examples/chat-web/server.snow -o "$out/chat-web"

status=0
timeout --kill-after=10 "${BROWSER_TIMEOUT:-300}" \
  "$venv/bin/python" scripts/browser/chat_web.py "$out/chat-web" \
  "${BROWSER_SCREENSHOT:-$out/chat-web.png}" "$out/server.log" || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "browser: timed out after ${BROWSER_TIMEOUT:-300} s"
  echo "browser: 0 passed, 1 failed"
fi
exit "$status"
