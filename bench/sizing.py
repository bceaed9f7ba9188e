#!/usr/bin/env python3
"""How big a node must be (docs/OPERATIONS.md "Sizing a node"): the Snow
benchmark server (bench/out/snow-bench, built by bench/run.sh) with the
metrics endpoint on, measured through it and /proc:

1. idle connections: RSS growth per connection for 10,000 idle
   connections, with SNOW_WS_METRICS_ADDR and SNOW_WS_MAX_CONNECTIONS_PER_IP
   set (the bench's `idle` scenario measures the same without them);
2. queued messages: 10 members of a room that do not read (4 KiB receive
   windows) and a sender broadcasting 200,000 messages of 64 bytes to
   them, far more than the kernel's socket buffers take: the bytes
   `snow_ws_outbound_queue_bytes` reports and the RSS growth;
3. the same with 1,500 messages of 16 KiB, which are shared between the
   queues (one copy whatever the number of members).

Usage: bench/sizing.py (after bench/run.sh built bench/out/snow-bench).
Loopback only; every socket is closed and the server stopped at the end.
"""

import base64
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SERVER = BENCH / "out" / "snow-bench"
PORT = int(os.environ.get("BENCH_PORT", "9310"))
MPORT = int(os.environ.get("BENCH_METRICS_PORT", "9391"))


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def metric(name):
    body = urllib.request.urlopen(f"http://127.0.0.1:{MPORT}/metrics", timeout=5).read().decode()
    m = re.search(rf"^{re.escape(name)} (\S+)$", body, re.M)
    return float(m.group(1)) if m else None


def connect(path, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", PORT))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        c = s.recv(1)
        if not c:
            raise RuntimeError("closed during the handshake")
        head += c
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head.decode(errors="replace"))
    return s


def frame(text):
    """A masked client text frame."""
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    if n < 126:
        head = bytes([0x81, 0x80 | n])
    elif n < 65536:
        head = bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x81, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def settle(name, timeout=10):
    """Waits until the metric stops changing; its value."""
    last, end = None, time.time() + timeout
    while time.time() < end:
        v = metric(name)
        if v == last:
            return v
        last = v
        time.sleep(0.3)
    return last


def queued(pid, members, count, size):
    """`members` members that do not read and a sender (also a member, which
    reads what comes back) broadcasting `count` messages of `size` bytes."""
    room = f"q{size}"
    readers = [connect(f"/r/{room}", rcvbuf=4096) for _ in range(members)]
    sender = connect(f"/r/{room}")
    time.sleep(0.5)
    base_q, base_rss = metric("snow_ws_outbound_queue_bytes"), rss_kib(pid)
    data = frame("x" * size)
    sender.setblocking(False)
    pending = b""
    sent = 0
    while sent < count or pending:
        if not pending and sent < count:
            pending = data * min(100, count - sent)
            sent += min(100, count - sent)
        try:
            pending = pending[sender.send(pending):]
        except BlockingIOError:
            pass
        try:
            while sender.recv(1 << 20):
                pass
        except BlockingIOError:
            pass
    q = settle("snow_ws_outbound_queue_bytes") - base_q
    rss = (rss_kib(pid) - base_rss) * 1024
    per_member = q / members
    print(f"{members} members not reading x {count} broadcasts of {size} bytes: outbound queues hold "
          f"{q:,.0f} bytes ({per_member:,.0f} per member; what the kernel's socket buffers did not take), "
          f"RSS +{rss:,} bytes ({rss / q if q else 0:.2f} bytes of RSS per queued byte)")
    sender.setblocking(True)
    for s in readers + [sender]:
        s.close()
    time.sleep(2)


def start(extra):
    env = dict(os.environ, PORT=str(PORT), SNOW_WS_WORKER_THREADS="1", **extra)
    proc = subprocess.Popen([str(SERVER)], env=env, stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    time.sleep(0.3)
    return proc


def stop(proc):
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def idle(extra, what, n=10_000):
    proc = start(extra)
    try:
        warm = [connect("/") for _ in range(100)]
        before = rss_kib(proc.pid)
        conns = [connect("/") for _ in range(n)]
        time.sleep(1)
        after = rss_kib(proc.pid)
        print(f"idle, {what}: {n} connections, RSS +{(after - before) * 1024:,} bytes, "
              f"{(after - before) * 1024 / n:,.0f} bytes per connection")
        for s in conns + warm:
            s.close()
    finally:
        stop(proc)


def main():
    if not SERVER.exists():
        sys.exit(f"{SERVER} is missing: run bench/run.sh first")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    metrics = {"SNOW_WS_METRICS_ADDR": f"127.0.0.1:{MPORT}"}
    # 1. idle connections
    idle({}, "no metrics, no per-address limit")
    idle(dict(metrics, SNOW_WS_MAX_CONNECTIONS_PER_IP="100000"), "metrics on, per-address limit on")
    # 2. and 3. queued messages, each in a fresh server (memory the
    # allocator keeps after one would hide the growth of the next)
    for count, size in [(200_000, 64), (1_500, 16384)]:
        proc = start(metrics)
        try:
            queued(proc.pid, 10, count, size)
        finally:
            stop(proc)


if __name__ == "__main__":
    main()
