"""Chaos case: connection churn. 10,000 connect/disconnect cycles (small: 1,000), 50 at a time, ending in
every way a client can go: closing at once, after the welcome with a FIN, after a line and /quit, with a RST
after a line, with a RST in the middle of a line. Afterwards the server holds exactly the descriptors and
threads it held before, its resident memory is back within a small margin, and every connection was logged
once with the reason it ended."""

import collections
import re
import socket
import time

from chaos import (chat_server, figure, open_fds, raise_fd_limit, read_to_eof, reset, sanitizer, scaled,
                   settled_thread_count, thread_count, vm_rss_kib)  # puts tests/e2e on the path
from chat_helpers import log_count, raw_welcome, stop_cleanly  # isort: skip
from harness import connect, run_tests, wait_until  # isort: skip

CYCLES = scaled(10000, 1000)
WARMUP = scaled(500, 200)  # cycles before the baseline is taken: allocator pools and cached stacks exist
CONCURRENT = 50  # connections open at once
CHURN_S = scaled(240, 240)  # the bound on the whole churn
# Resident memory the server may have grown by after the churn. Without a sanitizer nothing may accumulate
# per cycle: 1 MiB is allocator noise (a few arenas' top chunks, 10,000 x 100 bytes would already pass it).
RSS_MARGIN_KIB = 1024
DISCONNECTED = re.compile(rb" disconnected: (.+?) after [\d.]+ s, ")
LOGGED_END = b" out\n"  # how a disconnection's log line ends: once read, the whole line is
KINDS = ("close at once", "FIN after the welcome", "a line and /quit", "RST after a line", "RST mid-line")


def cycle_batch(port, first, count):
    """Runs cycles first..first+count-1: all connect, then each ends in the way its number picks."""
    socks = [connect(port) for _ in range(count)]
    for number, sock in enumerate(socks, first):
        kind = number % len(KINDS)
        if kind == 0:
            sock.close()
        elif kind == 1:
            raw_welcome(sock)
            sock.shutdown(socket.SHUT_WR)
            read_to_eof(sock)
            sock.close()
        elif kind == 2:
            raw_welcome(sock)
            sock.sendall(b"churn %d\n/quit\n" % number)
            read_to_eof(sock)
            sock.close()
        elif kind == 3:
            sock.sendall(b"churn %d\n" % number)
            reset(sock)
        else:
            sock.sendall(b"half a li")
            reset(sock)


def churn(server, port, cycles):
    """Runs `cycles` cycles, CONCURRENT at a time, pumping the server's log; waits until all are logged."""
    logged = log_count(server, LOGGED_END)
    deadline = time.monotonic() + CHURN_S
    for first in range(0, cycles, CONCURRENT):
        cycle_batch(port, first, min(CONCURRENT, cycles - first))
        server.pump(0)  # two log lines per cycle: the server must never wait for its stderr
        assert time.monotonic() < deadline, f"{first} of {cycles} cycles in {CHURN_S} s"
    wait_until(lambda: log_count(server, LOGGED_END) == logged + cycles, 60, f"{cycles} disconnections")


def test_churn_leaves_no_descriptor_thread_or_memory_behind():
    raise_fd_limit(CONCURRENT + 64)
    server, port = chat_server()
    churn(server, port, WARMUP)
    threads_before = settled_thread_count(server.pid)
    fds_before, rss_before = open_fds(server.pid), vm_rss_kib(server.pid)
    log_start = len(server.err)

    started = time.monotonic()
    churn(server, port, CYCLES)
    elapsed = time.monotonic() - started
    figure(f"{CYCLES} connect/disconnect cycles", f"{CYCLES / elapsed:.0f}", "cycles/s")

    wait_until(lambda: open_fds(server.pid) == fds_before, 30, f"{fds_before} descriptors as before")
    wait_until(lambda: thread_count(server.pid) == threads_before, 30, f"{threads_before} threads as before")
    rss_after = vm_rss_kib(server.pid)
    figure("server descriptors before and after", f"{fds_before}, {open_fds(server.pid)}")
    figure("server threads before and after", f"{threads_before}, {thread_count(server.pid)}")
    figure("server RSS before and after", f"{rss_before}, {rss_after}", "KiB")

    log = server.err[log_start:]
    assert log.count(b" connected as ") == CYCLES, log.count(b" connected as ")
    reasons = collections.Counter(reason.decode() for reason in DISCONNECTED.findall(log))
    print(f"disconnect reasons: {dict(reasons)}")
    per_kind = CYCLES // len(KINDS)
    assert sum(reasons.values()) == CYCLES, reasons
    assert reasons["quit"] == per_kind, reasons  # a line and /quit
    assert reasons["eof"] >= per_kind, reasons  # FIN after the welcome (closing at once may be a FIN too)
    assert reasons["connection reset"] >= 2 * per_kind, reasons  # both RSTs
    assert set(reasons) <= {"eof", "quit", "connection reset"}, reasons
    for text in (b"error", b"cannot"):
        assert text not in log, log[log.index(text) - 200:log.index(text) + 200]

    checker = sanitizer()
    if checker:
        print(f"{checker}: its allocator (quarantine, shadow memory) sets RSS: no bound")
    else:
        assert rss_after - rss_before <= RSS_MARGIN_KIB, f"RSS {rss_before} KiB -> {rss_after} KiB"
    stop_cleanly(server)


if __name__ == "__main__":
    run_tests(globals())
