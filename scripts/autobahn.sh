#!/usr/bin/env bash
# Autobahn TestSuite conformance, every case (1.* to 10.* and the
# permessage-deflate cases 12.* and 13.*: 517) against examples/echo.snow
# compiled by snowc (compression on, its default), driven by the PyPI package `kosoku` (a native runner of Autobahn's
# own case files, fuzzingclient mode) from a virtualenv under .venv/.
# Loopback only. Prints `autobahn: N passed, M failed` and exits non-zero if
# any case fails or the run exceeds its time bound.
#
#   AUTOBAHN_TIMEOUT      seconds for the whole run (default 1200)
#   AUTOBAHN_CONCURRENCY  cases run in parallel (default 2)
#   AUTOBAHN_OPT          snowc optimisation flag for the echo server (default -O2)
#   AUTOBAHN_CASES        comma-separated case patterns (default: all)
# Report (every case's verdict): target/autobahn/report.json
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/target/autobahn"
venv="$root/.venv/autobahn"
mkdir -p "$out"

# A Python 3.10+ with venv (Debian splits it out: python3-venv).
if ! python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "autobahn: installing python3 python3-venv" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-venv >/dev/null
fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import kosoku' 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'kosoku==0.1.0'
fi

export LLVM_SYS_191_PREFIX=${LLVM_SYS_191_PREFIX:-/usr/lib/llvm-19}
cargo build --quiet --workspace
target/debug/snowc build examples/echo.snow -o "$out/echo" "${AUTOBAHN_OPT:--O2}"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PORT=$port SNOW_WS_BIND=127.0.0.1 "$out/echo" >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "autobahn: the echo server exited:" >&2; cat "$out/server.log" >&2; exit 1; }
  sleep 0.1
done

status=0
timeout --kill-after=10 "${AUTOBAHN_TIMEOUT:-1200}" \
  "$venv/bin/python" scripts/autobahn/run.py "ws://127.0.0.1:$port" "$out/report.json" \
  "${AUTOBAHN_CONCURRENCY:-2}" || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "autobahn: timed out after ${AUTOBAHN_TIMEOUT:-1200} s"
  echo "autobahn: 0 passed, 1 failed"
fi
if ! kill -0 "$server" 2>/dev/null; then
  echo "autobahn: the echo server died during the run:" >&2
  tail -20 "$out/server.log" >&2
  status=1
fi
exit "$status"
