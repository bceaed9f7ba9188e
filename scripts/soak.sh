#!/usr/bin/env bash
# Soak and churn tests at full size (snowc/cli/tests/soak.rs) against the
# compiled tests/ws/limits.snow server on loopback, then writes the measured
# figures into docs/SOAK.md. Bounded: SOAK_TIMEOUT seconds (default 900).
#
#   SNOW_SOAK_CYCLES         connect/join/disconnect cycles (default 10000)
#   SNOW_SOAK_MESSAGES       messages delivered by broadcasts (default 1000000)
#   SNOW_SOAK_RATE_MESSAGES  1 KiB broadcasts, slow-consumer test (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
export LLVM_SYS_191_PREFIX=${LLVM_SYS_191_PREFIX:-/usr/lib/llvm-19}
export SNOW_SOAK_CYCLES=${SNOW_SOAK_CYCLES:-10000}
export SNOW_SOAK_MESSAGES=${SNOW_SOAK_MESSAGES:-1000000}
export SNOW_SOAK_RATE_MESSAGES=${SNOW_SOAK_RATE_MESSAGES:-100000}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo build --quiet --workspace
status=0
timeout --kill-after=10 "${SOAK_TIMEOUT:-900}" \
  cargo test --quiet -p snowc --test soak -- --nocapture --test-threads=1 2>&1 | tee "$log" || status=$?
figures=$(grep -o 'soak: .*' "$log" | grep -v 'figures written' || true)
# What one client can make the server hold (bench/resources.py).
resources=$(timeout 600 python3 bench/resources.py 2>&1 | grep -E '^(flood|relay):' || true)
{
  cat <<'HEAD'
# Soak and churn figures

Written by `scripts/soak.sh` (do not edit by hand): the tests of
`snowc/cli/tests/soak.rs` at full size against `tests/ws/limits.snow`
(compiled with `-O2`), one test at a time, on loopback. RSS is the server
process's `VmRSS` from `/proc/PID/status`. CI runs the same tests with smaller
counts (see the test file); the assertions are the same: after churn the
room is empty (`Ws.count` from another client) and RSS is back within
max(25 %, 8 MiB) of its level after warm-up; RSS after a million broadcast
messages is within the same bound of its level at 10 % of the run; a client
that stops reading is closed with 1008 at its queue limit (1 MiB here) while
the other readers receive everything at an undiminished rate.

HEAD
  echo "Run: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -sr)."
  echo "Result: $([ "$status" -eq 0 ] && echo "all soak tests passed" || echo "FAILED (status $status)")."
  echo
  echo '```'
  echo "${figures:-no figures (the run failed before printing any)}"
  echo '```'
  cat <<'RES'

## Resource limits: what one client can make the server hold

`bench/resources.py` (ws.md "Resource limits"): a client that never reads
(16 KiB receive buffer) sends 100 MiB of 125-byte pings to
`tests/ws/limits.snow`; `examples/chat.snow` relays one 15 MiB message
(with its `userN: ` prefix) to a room of 20 members that do not read. Growth
of the server's RSS (`VmHWM` for the flood) over its level before.

Before the resource-limit work (commit 1a495a7, measured 2026-11-30 with
the same script): flood 94.3 MiB (one queued pong per ping), relay
330.1 MiB, peak 375.0 MiB (a copy of the frame in each member's queue).
Now:

```
RES
  echo "${resources:-no figures (bench/resources.py failed)}"
  cat <<'TAIL'
```

The relay's remaining ~30 MiB are two copies: the frame, shared by the 20
queues, and the sender's read buffer, whose capacity tungstenite keeps until
the connection closes.

Reading the lines:
- `churn`: cycles (each: connect to `/room/churn`, ask `count churn`, then
  half close cleanly and half drop the TCP connection, from 4 threads), wall
  time, RSS after a warm-up and after the run, and how long after the last
  cycle the room was seen empty.
- `broadcast`: messages delivered (every `say` reaches 4 readers and the
  sender, which paces itself by its own copies), wall time, RSS at 10 % of
  the run, the peak sampled and at the end.
- `slow-consumer`: 1 KiB broadcasts to a room of a client that never reads,
  two fast readers and the sender: when the slow client was cut off
  (it leaves the room at once), and each fast reader's messages/s before and
  after the cut.
TAIL
} > docs/SOAK.md
echo "$figures"
echo "soak: figures written to docs/SOAK.md"
exit "$status"
