#!/usr/bin/env python3
"""An echo server the way a Python course teaches threads: the main thread accepts, every client gets a
thread of its own that sends each line back until the client sends `end` (answered, then closed).

    python3 py_threaded_echo.py PORT [HOST]    (HOST defaults to 127.0.0.1)

A reference to measure dschat's echo services against (scripts/bench-compare), not part of dschat."""

import socket
import sys
import threading


def serve_client(conn, address):
    with conn, conn.makefile("rb") as lines:
        try:
            for line in lines:
                conn.sendall(line)
                if line.strip() == b"end":
                    break
        except ConnectionError:
            pass


def thread_per_client(serve, usage):
    """Listens on PORT [HOST] from the command line (or exits with usage) and runs serve(conn, address) in a
    thread of its own for every client, until interrupted."""
    if len(sys.argv) < 2:
        sys.exit(usage)
    port = int(sys.argv[1])
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(128)
    print(f"listening on {host}:{port}", flush=True)
    try:
        while True:
            conn, address = listener.accept()
            threading.Thread(target=serve, args=(conn, address), daemon=True).start()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    thread_per_client(serve_client, "usage: py_threaded_echo.py PORT [HOST]")
