"""permessage-deflate clients for snowc/cli/tests/compression_e2e.rs, against
tests/ws/limits.snow on a loopback port:

  mixed PORT    two `websockets` clients with compression, one without, and
                one raw client (Python's zlib) in room "mix"; a long text
                broadcast reaches all four intact; the raw client checks
                the server's frame is compressed (RSV1) and inflates it
  bomb PORT     a raw client sends one compressed message that inflates to
                64 MiB (the limit is 16 MiB): prints the close code
  corrupt PORT  a raw client sends a compressed message that is not deflate
                data: prints the close code
  unasked PORT  a raw client that did not negotiate compression sends a
                frame with RSV1: prints the close code

Every wait is bounded; the script exits non-zero on any mismatch.
"""
import asyncio
import base64
import os
import socket
import struct
import sys
import zlib

import websockets
from websockets.asyncio.client import connect

TIMEOUT = 20


def raw_connect(port, path, offer):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    key = base64.b64encode(os.urandom(16)).decode()
    ext = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if offer else ""
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"{ext}\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            raise SystemExit("handshake: connection closed")
        head += chunk
    lines = head.decode().split("\r\n")
    assert " 101 " in lines[0], lines[0]
    exts = [l.split(":", 1)[1].strip() for l in lines if l.lower().startswith("sec-websocket-extensions:")]
    if offer:
        assert exts and exts[0].startswith("permessage-deflate"), exts
    else:
        assert not exts, exts
    return s


def send_frame(s, b0, payload):
    n = len(payload)
    head = bytes([b0])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    s.sendall(head + mask + masked)


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise EOFError
        out += chunk
    return out


def recv_frame(s):
    b0, b1 = recv_exact(s, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack(">H", recv_exact(s, 2))[0]
    elif n == 127:
        n = struct.unpack(">Q", recv_exact(s, 8))[0]
    assert not b1 & 0x80, "server frames are not masked"
    return b0, recv_exact(s, n)


def close_code(s):
    """Reads until the server's close frame; its code (1006 when the socket
    ends without one)."""
    try:
        while True:
            b0, payload = recv_frame(s)
            if b0 & 0x0F == 0x8:
                return struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
    except (EOFError, ConnectionError, socket.timeout):
        return 1006


def deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


async def mixed(port):
    url = f"ws://127.0.0.1:{port}/room/mix"
    text = " ".join(f"word{i % 50}" for i in range(800))  # ~6 KB, compressible
    async with connect(url, open_timeout=TIMEOUT) as a, \
               connect(url, open_timeout=TIMEOUT) as b, \
               connect(url, open_timeout=TIMEOUT, compression=None) as c:
        assert "permessage-deflate" in a.response.headers.get("Sec-WebSocket-Extensions", ""), \
            a.response.headers
        assert "Sec-WebSocket-Extensions" not in c.response.headers
        raw = raw_connect(port, "/room/mix", offer=True)
        # Everyone is in the room once the server answers a command on each.
        for ws in (a, b, c):
            await ws.send("count mix")
            while not (await asyncio.wait_for(ws.recv(), TIMEOUT)).startswith("count mix"):
                pass
        send_frame(raw, 0x81, b"count mix")
        while True:
            b0, p = recv_frame(raw)
            if p.startswith(b"count mix"):
                break
        await a.send("say mix " + text)
        for name, ws in (("a", a), ("b", b), ("c", c)):
            while True:
                m = await asyncio.wait_for(ws.recv(), TIMEOUT)
                if m.startswith("word"):
                    break
            assert m == text, f"{name} got {len(m)} bytes"
        while True:
            b0, p = recv_frame(raw)
            if b0 & 0x40:
                break
        assert b0 & 0x0F == 0x1, "a text frame"
        plain = zlib.decompressobj(-15).decompress(p + b"\x00\x00\xff\xff")
        assert plain.decode() == text, "the raw client inflates the same text"
        assert len(p) < len(text) // 2, f"compressed {len(text)} -> {len(p)}"
        print(f"mixed ok: {len(text)} bytes, {len(p)} compressed")
        raw.close()


def bomb(port):
    s = raw_connect(port, "/", offer=True)
    payload = deflate(b"a" * (64 << 20))
    send_frame(s, 0xC1, payload)  # FIN, RSV1, text
    print(f"bomb: {len(payload)} bytes sent, close {close_code(s)}")


def corrupt(port):
    s = raw_connect(port, "/", offer=True)
    send_frame(s, 0xC1, b"\xff\xff\xff\xff not deflate data")
    print(f"corrupt: close {close_code(s)}")


def unasked(port):
    s = raw_connect(port, "/", offer=False)
    send_frame(s, 0xC1, deflate(b"hello hello hello"))
    print(f"unasked: close {close_code(s)}")


def main():
    what, port = sys.argv[1], int(sys.argv[2])
    if what == "mixed":
        asyncio.run(mixed(port))
    else:
        {"bomb": bomb, "corrupt": corrupt, "unasked": unasked}[what](port)


if __name__ == "__main__":
    main()
