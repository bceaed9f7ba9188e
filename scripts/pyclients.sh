#!/usr/bin/env bash
# The Python WebSocket clients some end-to-end tests drive (the PyPI package
# `websockets`, a compressing client independent of Snow's own code) and the
# Prometheus project's Python client, whose text parser reads the metrics
# endpoint in snowc/cli/tests/ops_e2e.rs, in a virtualenv under
# .venv/clients. Idempotent; prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$PWD/.venv/clients"
if ! python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "pyclients: installing python3 python3-venv" >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-venv >/dev/null
fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import websockets, prometheus_client' 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    'websockets==17.4' 'prometheus-client==0.26.0' >&2
fi
echo "$venv/bin/python"
