#!/usr/bin/env python3
"""Memory a single client can make a Snow server hold (docs/SOAK.md,
"Resource limits"): two scenarios against servers compiled by a given
snowc, so the same script measures the runtime before and after a change.

  flood:  a client that never reads sends SIZE MiB of 125-byte pings
          (tests/ws/limits.snow); the server's peak RSS growth is reported.
  relay:  examples/chat.snow relays one 15 MiB message (with its `userN: `
          prefix) to a room of 20 members that do not read; the server's
          RSS growth once the relay is queued is reported.

Usage: bench/resources.py [--snowc PATH] [--flood-mib N]
Python standard library only; loopback only; every wait is bounded.
"""
import argparse
import base64
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def start(exe, env):
    port = free_port()
    e = dict(os.environ, PORT=str(port), SNOW_WS_BIND="127.0.0.1", **env)
    p = subprocess.Popen([exe], env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            if s.getsockname() != s.getpeername():
                s.close()
                return p, port
            s.close()
        except OSError:
            time.sleep(0.02)
    p.kill()
    raise RuntimeError("server did not start")


def frame(opcode, payload):
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    mask = b"\x01\x02\x03\x04"
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else \
        (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
    return head + mask + body


def connect(port, path, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("handshake failed")
        buf += chunk
    assert b" 101 " in buf.split(b"\r\n")[0], buf
    return s


def flood(snowc, tmp, mib):
    exe = os.path.join(tmp, "limits")
    subprocess.run([snowc, "build", os.path.join(ROOT, "tests/ws/limits.snow"), "-O2", "-o", exe], check=True)
    p, port = start(exe, {})
    try:
        s = connect(port, "/", rcvbuf=16384)
        time.sleep(0.3)
        before = status_kib(p.pid, "VmRSS")
        batch = frame(0x9, b"p" * 125) * 512
        sent = 0
        t = time.time()
        try:
            while sent < mib << 20 and time.time() - t < 120:
                s.sendall(batch)
                sent += len(batch)
        except OSError:
            pass  # the server closed the connection
        time.sleep(0.5)
        grown = status_kib(p.pid, "VmHWM") - before
        print(f"flood: {sent >> 20} MiB of pings from a client that never reads: "
              f"server peak RSS grew by {grown / 1024:.1f} MiB")
    finally:
        p.kill()
        p.wait()


def relay(snowc, tmp):
    exe = os.path.join(tmp, "chat")
    subprocess.run([snowc, "build", os.path.join(ROOT, "examples/chat.snow"), "-O2", "-o", exe], check=True)
    p, port = start(exe, {})
    try:
        idle = [connect(port, "/big", rcvbuf=16384) for _ in range(20)]
        sender = connect(port, "/big")
        time.sleep(0.5)
        before = status_kib(p.pid, "VmRSS")
        sender.sendall(frame(0x1, b"m" * (15 << 20)))
        time.sleep(3)
        after = status_kib(p.pid, "VmRSS")
        peak = status_kib(p.pid, "VmHWM")
        # Is every idle member still connected (no 1008)? Ask the count.
        sender.sendall(frame(0x1, b"/who"))
        print(f"relay: one 15 MiB message to 20 members that do not read: server RSS grew by "
              f"{(after - before) / 1024:.1f} MiB (peak {(peak - before) / 1024:.1f} MiB)")
        for s in idle:
            s.close()
    finally:
        p.kill()
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--snowc", default=os.path.join(ROOT, "target/debug/snowc"))
    ap.add_argument("--flood-mib", type=int, default=100)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        flood(a.snowc, tmp, a.flood_mib)
        relay(a.snowc, tmp)


if __name__ == "__main__":
    sys.exit(main())
