"""Documented limits of both servers end to end: --max-clients in the threaded chat service, the default
1 MiB --max-queue, and running out of file descriptors (the listen backlog waits, accept is retried, a
warning at start when the open-file limit is below --max-clients)."""

import re
import selectors
import signal
import time

from chat_helpers import WELCOME, join, lines_past_kernel_buffers, lines_until, small_window_client, wait_log
from harness import DSCHAT, LISTENING, LineSocket, Proc, cpu_seconds, run_tests, start_server, wait_until

MODES = ("async", "threaded")
FD_WARNING = re.compile(rb"open-file limit \d+ is below --max-clients")
# One line per episode of failing accepts, then a retry every 100 ms (the servers' shared accept rule).
ACCEPT_FAILED = rb"accept failed: [^\n]+; retrying every 100 ms"


def chat_server(mode, *flags):
    return start_server("serve", "--mode", mode, "--service", "chat", "--port", 0, *flags)


def test_threaded_chat_max_clients_turns_the_next_one_away():
    server, port = chat_server("threaded", "--max-clients", 2)
    first, _ = join(port)
    second, name = join(port)
    extra = LineSocket(port)
    assert extra.read_to_eof() == b"! server full\n"
    wait_log(server, rb"disconnected: server full")
    assert lines_until(first, f"* {name} joined".encode()) == []
    second.close()
    assert lines_until(first, f"* {name} left".encode()) == []

    # The freed place is given back once the member's threads have ended: then a client joins again.
    def joined():
        client = LineSocket(port)
        line = client.line()
        if line == b"! server full":
            client.close()
            return False
        match = WELCOME.match(line)
        assert match, line
        clients.append((client, match.group(1).decode()))
        return True

    clients = []
    wait_until(joined, 10, "a freed place to be taken")
    third, name = clients[0]
    third.send(b"in\n")
    assert lines_until(first, f"<{name}> in".encode()) == [f"* {name} joined".encode()]


def test_default_max_queue_is_one_mebibyte():
    # No --max-queue: a member that never reads is cut once 1 MiB waits for it, with the documented notice.
    for mode in MODES:
        server, port = chat_server(mode, "--rate", 0)
        stuck = small_window_client(port)
        wait_log(server, rb"connected as guest-1")
        talker, _ = join(port)
        listener, _ = join(port)
        assert talker.line() == b"* guest-3 joined"
        padding = b"x" * 1000
        count = lines_past_kernel_buffers(len(padding) + 16) + (1 << 20) // len(padding) + 64
        cut = b"* guest-1 left (too slow: send queue over 1 MiB)"
        cut_at = None
        for i in range(count):  # bounded: the kernel buffers plus the 1 MiB queue, and a margin
            talker.send(b"%d %s\n" % (i, padding))
            got = listener.line()
            if got == cut:
                cut_at = i
                got = listener.line()
            assert got == b"<guest-2> %d %s" % (i, padding), (mode, i, got[:60])
            if cut_at is not None:
                break
        assert cut_at is not None, f"{mode}: never cut after {count} lines of 1 KB"
        # Cut only once more than 1 MiB waited for it: at least a mebibyte of lines went by first.
        assert cut_at >= (1 << 20) // (len(padding) + 16), (mode, cut_at)
        wait_log(server, rb"guest-1 disconnected: too slow: send queue over 1 MiB")
        assert lines_until(talker, cut, timeout=30) == []
        talker.send(b"/who\n")
        assert talker.line() == b"* 2 online: guest-2, guest-3"
        stuck.close()
        talker.close()
        listener.close()
        server.signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0, (mode, server.err[-2000:])


def limited_server(mode, nofile, *flags):
    """dschat serve --mode MODE (echo) under `prlimit --nofile=N:N` (prlimit execs it: same pid)."""
    proc = Proc(["prlimit", f"--nofile={nofile}:{nofile}", DSCHAT, "serve", "--mode", mode, "--service", "echo",
                 "--rate", "0", "--port", "0", *map(str, flags)], check=True)
    port = int(proc.wait_output(LISTENING).group(2))
    return proc, port


def exhaustion(mode):
    server, port = limited_server(mode, 32)
    wait_log(server, FD_WARNING)  # the default --max-clients 10000 is far above 32 files

    # More connections than the process has descriptors: the kernel completes every handshake and the
    # backlog holds those the server cannot accept yet.
    clients = [LineSocket(port) for _ in range(48)]
    for i, client in enumerate(clients):
        client.send(b"hello %d\n" % i)

    # Those accepted are served; the rest wait, connected and unanswered.
    selector = selectors.DefaultSelector()
    for client in clients:
        selector.register(client.sock, selectors.EVENT_READ, client)
    served = []
    deadline = time.monotonic() + 3
    while (left := deadline - time.monotonic()) > 0:
        for key, _ in selector.select(left):
            selector.unregister(key.fileobj)
            served.append(key.data)
    selector.close()
    assert 0 < len(served) < len(clients), f"{len(served)} of {len(clients)} served"
    for client in served:
        index = clients.index(client)
        assert client.line() == b"hello %d" % index
    waiting = [client for client in clients if client not in served]

    # Out of descriptors the server does not spin.
    before = cpu_seconds(server.pid)
    time.sleep(1.0)  # a measured interval: the CPU the server spends while it waits
    spent = cpu_seconds(server.pid) - before
    assert spent < 0.3, f"{spent:.2f} CPU-seconds in 1 s while out of descriptors"
    server.pump(0.01)
    log_while_stuck = server.err

    # Descriptors free up: every waiting client is served in turn.
    for client in served:
        client.send(b"end\n")
        assert client.line() == b"end"
        client.close()
    for client in waiting:
        index = clients.index(client)
        assert client.line(timeout=20) == b"hello %d" % index, index
        client.send(b"end\n")
        assert client.line() == b"end"
        client.close()

    # The failure was logged once for the episode, not once per retry (at least 10 retries in that second).
    assert len(re.findall(ACCEPT_FAILED, log_while_stuck)) == 1, log_while_stuck[-3000:]


def test_async_out_of_descriptors_backlog_waits_and_is_served():
    exhaustion("async")


def test_threaded_out_of_descriptors_backlog_waits_and_is_served():
    exhaustion("threaded")


def test_no_fd_warning_when_the_limit_covers_max_clients():
    for mode in MODES:
        server, port = limited_server(mode, 256, "--max-clients", 10)
        client = LineSocket(port)
        client.send(b"hi\n")
        assert client.line() == b"hi"
        client.close()
        server.pump(0.05)
        assert not FD_WARNING.search(server.err), (mode, server.err)
        server.signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0, (mode, server.err[-2000:])


if __name__ == "__main__":
    run_tests(globals())
