"""Chaos case: one client floods as fast as its socket accepts while 50 others chat, against the server's
default line limit (--rate 100/s, burst 200; the byte limit is raised out of the way, so that the 2 KB lines
are paced by their count: tests/e2e/chat_pacing_test.py covers the bytes). The others keep their latency;
the flooder is slowed by TCP backpressure, not dropped: it stays connected and every one of its lines
arrives, once and in order, at the limiter's pace."""

import selectors
import socket
import time

from chaos import (BackgroundBench, assert_latency_kept, assert_no_loss, assert_timing, bench, chat_server, figure,  # puts tests/e2e on the path
                   scaled)
from chat_helpers import join, lines_until, log_count, stop_cleanly  # isort: skip
from harness import run_tests, wait_until  # isort: skip

RATE, BURST = 100, 200  # the server's defaults, which are under test
FLOOD_LINES = scaled(2000, 1200)
LINE_BYTES = 2000  # with its LF, within --max-line: a few hundred lines fill the socket buffers
SAMPLE_S = 0.1
READ_BATCH = 16 * 1024
# The chat beside the flood: 10 lines/s per chatter, well within the limit.
CHATTERS = scaled(50, 20)
LOAD = ("--clients", CHATTERS, "--rate", scaled(500, 200), "--duration", scaled(5, 2), "--warmup", 0.5)


def flood_line(i):
    return f"flood {i:05d} ".ljust(LINE_BYTES - 1, "f").encode() + b"\n"


def flooder_socket(port):
    """A chat client with a small fixed send buffer (no autotuning), so that the kernel holds little of the
    flood on our side and a blocked send shows at once; returns (LineSocket, name)."""
    client, name = join(port)
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    return client, name


class Flood:
    """The flood's progress: lines the flooder's socket accepted and lines the reader received, over time."""

    def __init__(self, name):
        self.data = b"".join(flood_line(i) for i in range(FLOOD_LINES))
        self.prefix = f"<{name}> ".encode()
        self.accepted_bytes = 0
        self.full_socket = 0  # sends that found the socket full: took less than offered, or nothing
        self.delivered = 0
        self.started = None
        self.all_accepted_at = None
        self.burst_done_at = None
        self.last_at = None
        self.most_ahead = 0  # lines accepted by the flooder's socket but not yet at the reader
        self.accepted_over_time = []  # (seconds since the start, lines accepted), every SAMPLE_S

    def send(self, sock):
        """Sends as much as the socket takes now."""
        if self.started is None:
            self.started = time.monotonic()
        offered = self.data[self.accepted_bytes:self.accepted_bytes + 65536]
        try:
            taken = sock.send(offered)
        except BlockingIOError:
            taken = 0
        self.accepted_bytes += taken
        self.full_socket += taken < len(offered)
        if self.accepted_bytes == len(self.data) and self.all_accepted_at is None:
            self.all_accepted_at = time.monotonic()
        self.most_ahead = max(self.most_ahead, self.accepted_bytes // LINE_BYTES - self.delivered)

    def sample(self):
        """Records how many lines the flooder's socket has accepted so far, every SAMPLE_S."""
        if self.started is None or self.all_accepted_at is not None:
            return
        elapsed = time.monotonic() - self.started
        if not self.accepted_over_time or elapsed - self.accepted_over_time[-1][0] >= SAMPLE_S:
            self.accepted_over_time.append((elapsed, self.accepted_bytes // LINE_BYTES))

    def send_rate(self, after_s):
        """Lines/s the flooder's socket accepted from after_s seconds on until it took the last one: the
        least-squares slope, which smooths the steps in which the server's receive window reopens."""
        points = [(t, n) for t, n in self.accepted_over_time if t >= after_s]
        assert len(points) >= 10, self.accepted_over_time
        mean_t = sum(t for t, _ in points) / len(points)
        mean_n = sum(n for _, n in points) / len(points)
        return sum((t - mean_t) * (n - mean_n) for t, n in points) / sum((t - mean_t) ** 2 for t, _ in points)

    def received(self, line):
        """Checks one line the reader got: the flooder's lines come in order, each once, and never faster
        than the limiter allows since the flood started."""
        if not line.startswith(self.prefix):
            return
        assert self.delivered < FLOOD_LINES, f"flood line past the last: {line[:40]!r}"
        assert line == self.prefix + flood_line(self.delivered)[:-1], (self.delivered, line[:40])
        self.delivered += 1
        now = time.monotonic()
        allowed = BURST + RATE * (now - self.started) * 1.05 + 2
        assert self.delivered <= allowed, f"{self.delivered} flood lines {now - self.started:.2f} s in"
        if self.delivered == BURST:
            self.burst_done_at = now
        self.last_at = now


def read_lines(client, handle):
    """Reads what the (non-blocking) LineSocket has now and hands each whole line to handle."""
    try:
        chunk = client.sock.recv(1 << 20)
    except BlockingIOError:
        return
    assert chunk, "the reader was disconnected"
    client.buffer += chunk
    *lines, client.buffer = client.buffer.split(b"\n")
    for line in lines:
        handle(line)


def test_flooder_is_slowed_not_dropped_and_the_others_keep_their_latency():
    server, port = chat_server("--rate-bytes", "1MiB", "--burst-bytes", "1MiB")
    calm = bench("broadcast", "--port", port, *LOAD, "--server-pid", server.pid)
    assert_no_loss(calm)

    reader, reader_name = join(port)
    flooder, flooder_name = flooder_socket(port)
    flood = Flood(flooder_name)
    before = log_count(server, b" connected as ")
    chat = BackgroundBench("broadcast", "--port", port, *LOAD, "--server-pid", server.pid)
    # The flood starts once the chatters are in the room (its burst then falls in their warm-up).
    wait_until(lambda: log_count(server, b" connected as ") >= before + CHATTERS, 20, "the chatters")

    for client in (reader, flooder):
        client.sock.setblocking(False)
        # Woken per 16 KiB rather than per line, this process takes little of the CPU it measures.
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, READ_BATCH)
    selector = selectors.DefaultSelector()
    selector.register(reader.sock, selectors.EVENT_READ, "reader")
    selector.register(flooder.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, "flooder")
    deadline = time.monotonic() + (FLOOD_LINES - BURST) / RATE * 2 + 30
    chatting = True
    while chatting or flood.delivered < FLOOD_LINES:
        assert time.monotonic() < deadline, f"{flood.delivered} of {FLOOD_LINES} flood lines arrived"
        for key, events in selector.select(timeout=0.05):
            if key.data == "flooder" and events & selectors.EVENT_WRITE:
                flood.send(flooder.sock)
                if flood.all_accepted_at is not None:
                    selector.modify(flooder.sock, selectors.EVENT_READ, "flooder")
        # A batch woke us, or 50 ms passed: take whatever has arrived.
        read_lines(reader, flood.received)
        read_lines(flooder, lambda line: None)  # the flooder reads what it is sent, as chat clients do
        flood.sample()
        server.pump(0)
        chatting = chatting and chat.running()
    selector.close()
    for client in (reader, flooder):
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)
        client.sock.settimeout(10)
    attacked = chat.result()

    assert_no_loss(attacked)
    effective = (FLOOD_LINES - BURST) / (flood.last_at - flood.burst_done_at)
    send_rate = flood.send_rate(after_s=1.0)
    figure("flood: flooder lines delivered per second after its burst", f"{effective:.1f}", "lines/s")
    figure("flood: flooder send rate once its socket was full", f"{send_rate:.1f}", "lines/s")
    figure("flood: time until the flooder's socket took its last line",
           f"{flood.all_accepted_at - flood.started:.1f}", "s")
    figure("flood: most flood lines sent but not yet delivered", flood.most_ahead, "lines")
    # Slowed to the limit, not starved; its sends blocked: once the socket buffers were full, it could hand
    # over its lines only about as fast as the server took them.
    # (Rates are asserted in the normal and release builds only: see harness.assert_timing.)
    assert_timing(0.5 * RATE <= effective <= 1.1 * RATE, f"effective flood rate {effective:.1f} lines/s")
    assert flood.full_socket > 0
    assert_timing(0.5 * RATE <= send_rate <= 1.5 * RATE,
                  f"flood send rate {send_rate:.1f} lines/s {flood.accepted_over_time}")

    # Not dropped: still a member, reading and sending.
    assert f" {flooder_name} disconnected".encode() not in server.err, server.err[-2000:]
    reader.send("still there?\n")
    lines_until(flooder, f"<{reader_name}> still there?".encode())
    flooder.send("yes\n")
    lines_until(reader, f"<{flooder_name}> yes".encode())
    stop_cleanly(server, reader, flooder)
    assert_latency_kept(calm, attacked, "flood")


if __name__ == "__main__":
    run_tests(globals())
