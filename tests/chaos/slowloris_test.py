"""Chaos case: slowloris. 1,000 clients (small: 100) each trickle one line at one byte per second, its
newline held back to the end, while 50 others chat. The chatters lose nothing and keep their p99 latency
against a calm run just before (with the same slow clients connected, reading, but quiet), every trickled
line arrives whole once its newline comes, and the server's threads and descriptors return to their
baseline once the slow clients have left."""

import socket
import time

from chaos import (BackgroundBench, assert_latency_kept, assert_no_loss, bench, chat_server, cpu_seconds, figure, open_fds,
                   raise_fd_limit, scaled, settled_thread_count, thread_count)  # puts tests/e2e on the path
from chat_helpers import join, log_count, raw_welcome, stop_cleanly  # isort: skip
from harness import run_tests, wait_until  # isort: skip

SLOW = scaled(1000, 100)
# The chat beside them, well within the default --rate: every line also goes to each slow client, so 25
# lines/s are already some 26,000 deliveries/s at full size.
CHATTERS = scaled(50, 20)
LOAD = ("--clients", CHATTERS, "--rate", scaled(25, 40), "--duration", scaled(4, 3), "--warmup", 1)
SLOTS = 50  # each second is split into this many slots, each one for every SLOTS-th slow client
MAX_TRICKLE_S = 30  # the trickle lasts as long as the chat under attack, but never longer than this
RCVBUF = 1 << 20  # each slow client's receive buffer (the kernel doubles it)


def drain(sock):
    """Reads and drops what has arrived on a non-blocking socket; the server must not have closed it."""
    try:
        while True:
            data = sock.recv(1 << 20)
            assert data, "the server closed a slow client"
    except BlockingIOError:
        pass


class SlowClients:
    """Members of the room that read what they are sent and, while trickling, each send the next byte of
    their line once per second, spread over the second."""

    def __init__(self, port, count, server):
        self.names = []
        self.sockets = []
        for index in range(count):
            sock = socket.socket()
            # Room for a second of the chat, which they read once a second: the server never waits for them.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
            sock.settimeout(30)
            sock.connect(("127.0.0.1", port))
            self.names.append(raw_welcome(sock))
            sock.setblocking(False)
            self.sockets.append(sock)
            if index % SLOTS == 0:
                server.pump(0)  # one log line per connection: keep the server's stderr flowing
        self.sent = 0  # bytes of its line each one has sent

    @staticmethod
    def text(index):
        """The line slow client index trickles: its id, then dots for as long as the trickle lasts."""
        return f"slow{index:04d}".ljust(MAX_TRICKLE_S, ".").encode()

    def second(self, server, payload=None):
        """One second: slot by slot, each client drains its input and sends payload(index), if given."""
        start = time.monotonic()
        for slot in range(SLOTS):
            due = start + slot / SLOTS
            while (left := due - time.monotonic()) > 0:
                server.pump(left)
            for index in range(slot, len(self.sockets), SLOTS):
                drain(self.sockets[index])
                if payload:
                    assert self.sockets[index].send(payload(index)) == 1
        while (left := start + 1 - time.monotonic()) > 0:
            server.pump(left)

    def settle(self, server, timeout=60):
        """Drains second by second until the server has used under 5 % of a core for one: the join notices
        that piled up while the others connected are all delivered."""
        deadline = time.monotonic() + timeout
        while True:
            before = cpu_seconds(server.pid)
            self.second(server)
            if cpu_seconds(server.pid) - before < 0.05:
                return
            assert time.monotonic() < deadline, "the server never went quiet"

    def trickle(self, server):
        """One more byte of each line."""
        self.second(server, lambda index: self.text(index)[self.sent:self.sent + 1])
        self.sent += 1

    def lines(self):
        """The lines the others must get once the newlines are sent."""
        return {f"<{name}> ".encode() + self.text(index)[:self.sent] for index, name in enumerate(self.names)}

    def close(self):
        for sock in self.sockets:
            sock.close()


def test_slow_senders_leave_the_others_unaffected():
    raise_fd_limit(SLOW + 2 * CHATTERS + 64)
    server, port = chat_server()
    # One member in and out first: what the first connection creates for good is part of the baseline.
    first, _ = join(port)
    first.close()
    wait_until(lambda: log_count(server, b" disconnected: ") == 1, 10, "the first member's leave")
    base_threads = settled_thread_count(server.pid)
    base_fds = open_fds(server.pid)

    checker, _ = join(port)
    slow = SlowClients(port, SLOW, server)
    wait_until(lambda: log_count(server, b" connected as ") == SLOW + 2, 30, "every slow client")
    slow.settle(server)
    figure(f"server descriptors with {SLOW} slow clients", open_fds(server.pid))
    figure(f"server threads with {SLOW} slow clients", thread_count(server.pid))
    # A first chat, not measured, so that the calm run does not pay alone for what new clients cost the first
    # time (threads, stacks, buffers). The slow clients' receive buffers hold what reaches them meanwhile.
    bench("broadcast", "--port", port, *LOAD[:4], "--duration", 1, "--warmup", 0)

    phases = {}
    for phase in ("calm", "slowloris"):
        load = BackgroundBench("broadcast", "--port", port, *LOAD, "--server-pid", server.pid)
        cpu_before, started = cpu_seconds(server.pid), time.monotonic()
        if phase == "calm":
            deadline = started + 120
            while load.running():
                assert time.monotonic() < deadline, "the calm chat did not end"
                slow.second(server)
        else:
            # At least the slow clients' ids, and the whole chat run, measured window and all.
            while slow.sent < len("slow0000") or (load.running() and slow.sent < MAX_TRICKLE_S):
                slow.trickle(server)
            assert not load.running(), f"the chat outlasted {MAX_TRICKLE_S} s of trickling"
        busy = (cpu_seconds(server.pid) - cpu_before) / (time.monotonic() - started)
        figure(f"server CPU during the {phase} chat", f"{100 * busy:.0f}", "% of one core")
        phases[phase] = load.result()
        assert_no_loss(phases[phase], phase)
        assert phases[phase]["expected"] == phases[phase]["sent"] * (CHATTERS - 1), phases[phase]
    assert_latency_kept(phases["calm"], phases["slowloris"], f"{CHATTERS} chatting beside {SLOW} slow senders")
    figure("bytes trickled by each slow client", slow.sent)

    slow.second(server, lambda index: b"\n")
    wanted = slow.lines()
    deadline = time.monotonic() + 60
    while wanted:
        line = checker.line(timeout=max(0.01, deadline - time.monotonic()))
        if line.startswith(b"<") and b"> slow" in line:
            assert line in wanted, f"unexpected or repeated: {line!r}"
            wanted.remove(line)

    slow.close()
    checker.close()
    everyone = 1 + 1 + SLOW + 3 * CHATTERS
    wait_until(lambda: log_count(server, b" disconnected: ") == everyone, 60, "every disconnection")
    wait_until(lambda: open_fds(server.pid) == base_fds, 30, f"{base_fds} descriptors as before")
    wait_until(lambda: thread_count(server.pid) == base_threads, 30, f"{base_threads} threads as before")
    figure("server descriptors before and after", f"{base_fds}, {open_fds(server.pid)}")
    figure("server threads before and after", f"{base_threads}, {thread_count(server.pid)}")
    stop_cleanly(server)


if __name__ == "__main__":
    run_tests(globals())
