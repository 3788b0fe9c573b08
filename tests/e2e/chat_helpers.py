"""Helpers the chat tests share (e2e and chaos): join a room, read until a line, count log lines, stop a
server cleanly, and put a server's thread or a client's window in a known state. Not a test file."""

import os
import re
import signal
import socket
import struct
import time

from harness import LineSocket, assert_no_sanitizer_report, start_server, wait_until

WELCOME = re.compile(rb"^\* welcome (\S+) \xe2\x80\x94 (\d+) online \xe2\x80\x94 /help lists commands$")


def async_server(*flags):
    """Starts serve --mode async on a free port; returns (proc, port)."""
    return start_server("serve", "--mode", "async", "--port", 0, *flags)


def join(port):
    """Connects a chat client and reads its welcome; returns (client, name)."""
    client = LineSocket(port)
    line = client.line()
    match = WELCOME.match(line)
    assert match, line
    return client, match.group(1).decode()


def lines_until(client, wanted, timeout=10):
    """Reads lines until `wanted` (bytes) arrives; returns the lines before it."""
    before = []
    deadline = time.monotonic() + timeout
    while True:
        line = client.line(timeout=max(0.01, deadline - time.monotonic()))
        if line == wanted:
            return before
        before.append(line)


def raw_welcome(sock):
    """Reads a raw socket's welcome line (dropping what came with it); returns the member's name."""
    data = b""
    while b"\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"closed before the welcome: {data!r}"
        data += chunk
    match = WELCOME.match(data.partition(b"\n")[0])
    assert match, data
    return match.group(1).decode()


def log_count(server, text):
    """How often text occurs in the server's stderr so far."""
    server.pump(0.01)
    return server.err.count(text)


def wait_log(server, pattern, timeout=10):
    return server.wait_output(pattern, timeout=timeout, stream="err")


def stop_cleanly(server, *clients):
    """Closes the clients, then SIGTERM: the server must exit 0 with no sanitizer report on stderr."""
    for client in clients:
        client.close()
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=10) == 0, server.err[-2000:]
    assert_no_sanitizer_report(server)


def small_window_client(port, linger_reset=False):
    """A client with a tiny receive buffer that never reads: the server's data piles up in its outbox."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    if linger_reset:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close() sends a RST
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    return sock


def lines_past_kernel_buffers(line_size):
    """Lines of line_size bytes that cannot all fit in the kernel's socket buffers between server and client:
    Linux grows a send buffer up to tcp_wmem's maximum, whatever the receiver's window."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as wmem:
            most = int(wmem.read().split()[2])
    except OSError:
        most = 4 << 20
    return (most + (2 << 20)) // line_size


def blocked_in_send(pid):
    """True when one of the process's threads sits in a send system call (write, writev, sendto, sendmsg)
    on a descriptor other than stdout and stderr."""
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/syscall") as syscall:
                fields = syscall.read().split()
            if fields[0] in ("1", "20", "44", "46") and int(fields[1], 16) > 2:
                return True
        except OSError:
            pass  # the thread ended meanwhile
    return False


def block_server_write(server, port):
    """A client that sends without reading until the server's thread for it is stuck writing replies."""
    client = LineSocket(port)
    client.sock.setblocking(False)
    chunk = b"never read the echo of this line\n" * 1000

    def stuck():
        try:
            for _ in range(1000):  # bounded: a few MB fill the loopback buffers of both sides
                client.sock.send(chunk)
        except BlockingIOError:
            return blocked_in_send(server.pid)
        return False

    wait_until(stuck, 30, "the server to block writing to a client that does not read")
    return client
