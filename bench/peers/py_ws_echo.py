#!/usr/bin/env python3
"""A WebSocket echo server the way a Python course writes one with threads: every client gets a thread that
answers the upgrade (RFC 6455) and sends each text message back; pings get pongs, a close gets a close.

    python3 py_ws_echo.py PORT [HOST]    (HOST defaults to 127.0.0.1; py_threaded_echo.py beside it)

A peer for `dschat bench echo --ws` (dschat's own web port is a chat room, which never echoes), not part of
dschat."""

import base64
import hashlib
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the peers
from py_threaded_echo import thread_per_client  # noqa: E402

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_exactly(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def frame(opcode, payload):
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, length)
    elif length < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, length)
    return head + payload


def serve_client(conn, _address):
    with conn:
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            key = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                       if line.lower().startswith(b"sec-websocket-key:"))
            accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            while True:
                first, second = read_exactly(conn, 2)
                length = second & 0x7F
                if length == 126:
                    length = struct.unpack("!H", read_exactly(conn, 2))[0]
                elif length == 127:
                    length = struct.unpack("!Q", read_exactly(conn, 8))[0]
                mask = read_exactly(conn, 4)
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(read_exactly(conn, length)))
                opcode = first & 0x0F
                if opcode == 0x8:
                    conn.sendall(frame(0x8, payload[:2]))
                    return
                conn.sendall(frame(0xA if opcode == 0x9 else opcode, payload))
        except (ConnectionError, StopIteration):
            pass


if __name__ == "__main__":
    thread_per_client(serve_client, "usage: py_ws_echo.py PORT [HOST]")
