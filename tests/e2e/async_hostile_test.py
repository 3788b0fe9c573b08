"""serve --mode async against hostile, slow, broken and numerous clients, and its signal handling."""

import re
import resource
import selectors
import signal
import time

from chat_helpers import (async_server, join, lines_past_kernel_buffers, lines_until, log_count, small_window_client,
                          stop_cleanly, wait_log)
from harness import assert_no_sanitizer_report, connect, run_tests, vm_rss_kib, wait_until


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def test_control_characters_and_invalid_utf8_arrive_sanitized():
    server, port = async_server()
    sender, name = join(port)
    reader, _ = join(port)
    assert sender.line().endswith(b" joined")
    sender.send(b"\x1b[2J\x1b]0;owned\x07 red\rover\x7f\n")
    sender.send(b"bad \xfe\xfe and \xc3\x28 and \xe2\x82 end\n")  # (0xFF would be telnet's IAC)
    sender.send("héllo 日本 ✓\ttab\n".encode())
    first, second, third = reader.line(), reader.line(), reader.line()
    assert first == f"<{name}> ^[[2J^[]0;owned^G red^Mover^?".encode(), first
    assert second == f"<{name}> bad \ufffd\ufffd and \ufffd( and \ufffd end".encode(), second
    assert third == f"<{name}> héllo 日本 ✓\ttab".encode(), third  # valid text passes unchanged
    for line in (first, second):
        assert not any(byte < 0x20 and byte != 0x09 for byte in line), line
    sender.send(b"/nick \x1bevil\n")
    assert sender.line() == "! invalid name — 1–32 letters, digits, _ - .".encode()
    assert b"\x1b" not in server.err
    stop_cleanly(server, sender, reader)


def test_ten_megabyte_line_keeps_memory_bounded_and_connection_usable():
    server, port = async_server()
    sender, name = join(port)
    reader, _ = join(port)
    assert sender.line().endswith(b" joined")
    before = vm_rss_kib(server.pid)
    chunk = b"x" * (1 << 20)
    for _ in range(10):
        sender.send(chunk)
    assert sender.line(timeout=20) == b"! line too long (max 4096 bytes)"
    sender.send(b"tail of the long line\nback to normal\n")
    assert reader.line(timeout=20) == f"<{name}> back to normal".encode()
    growth = vm_rss_kib(server.pid) - before
    assert growth < 30 * 1024, f"RSS grew by {growth} KiB"
    sender.send(b"/who\n")
    assert sender.line().startswith(b"* 2 online: ")
    stop_cleanly(server, sender, reader)


def test_flood_is_paced_without_loss_and_others_are_unaffected():
    rate, burst, count = 50, 10, 150
    server, port = async_server("--rate", f"{rate}/s", "--burst", burst)
    flooder, flooder_name = join(port)
    talker, talker_name = join(port)
    watcher, _ = join(port)
    started = time.monotonic()
    flooder.send(b"".join(f"flood {i}\n".encode() for i in range(count)))
    # Once the burst has gone through, the flooder is in debt: another client must still get through at once.
    burst_lines = lines_until(watcher, f"<{flooder_name}> flood {burst - 1}".encode(), timeout=10)
    talker.send(b"meanwhile\n")
    before = lines_until(watcher, f"<{talker_name}> meanwhile".encode(), timeout=5)
    flood = [line for line in burst_lines + before if line.startswith(f"<{flooder_name}> ".encode())]
    flood.insert(burst - 1, f"<{flooder_name}> flood {burst - 1}".encode())
    assert len(flood) < count / 2, f"{len(flood)} flood lines went out before the other client's"

    deadline = time.monotonic() + 30
    while len(flood) < count:
        line = watcher.line(timeout=max(0.01, deadline - time.monotonic()))
        if line.startswith(f"<{flooder_name}> ".encode()):
            flood.append(line)
    elapsed = time.monotonic() - started
    assert flood == [f"<{flooder_name}> flood {i}".encode() for i in range(count)]  # all of them, in order
    assert elapsed >= 0.7 * (count - burst) / rate, f"{count} lines passed in {elapsed:.2f} s"
    stop_cleanly(server, flooder, talker, watcher)


def test_never_reading_client_is_cut_at_the_queue_limit():
    server, port = async_server("--max-queue", "64KiB", "--rate", 0)
    writer, writer_name = join(port)
    reader, _ = join(port)
    slow = small_window_client(port)
    lines_until(reader, b"* guest-3 joined")
    payload = b"y" * 1000
    batch = 30
    total = (lines_past_kernel_buffers(1000) // batch + 1) * batch  # more than kernel buffers and outbox hold
    received = 0
    deadline = time.monotonic() + 60
    notices = []
    for first in range(0, total, batch):
        # Batches smaller than the reader's 64 KiB limit: the reader keeps up, only the slow client lags.
        writer.send(b"".join(b"%d " % i + payload + b"\n" for i in range(first, first + batch)))
        while received < first + batch:  # every line, in order, while the slow one is cut off
            line = reader.line(timeout=max(0.01, deadline - time.monotonic()))
            if line.startswith(f"<{writer_name}> ".encode()):
                assert line == f"<{writer_name}> {received} ".encode() + payload, line[:40]
                received += 1
            else:
                notices.append(line)
    wait_log(server, rb"guest-3 disconnected: too slow: send queue over 64 KiB after")
    left = b"* guest-3 left (too slow: send queue over 64 KiB)"
    assert notices == [left] or (notices == [] and lines_until(reader, left) == []), notices
    writer.send(b"still fine\n")
    assert lines_until(reader, f"<{writer_name}> still fine".encode()) == []
    stop_cleanly(server, slow, writer, reader)


def test_reset_while_the_server_writes_is_logged_and_harmless():
    server, port = async_server("--rate", 0, "--max-queue", "64MiB")
    writer, writer_name = join(port)
    reader, _ = join(port)
    victim = small_window_client(port, linger_reset=True)
    lines_until(reader, b"* guest-3 joined")
    count = lines_past_kernel_buffers(2001)
    writer.send((b"z" * 2000 + b"\n") * count)
    for _ in range(count):  # once the reader has them all, the victim's writer holds megabytes it cannot send
        assert reader.line(timeout=30).startswith(f"<{writer_name}> zzz".encode())
    victim.close()  # SO_LINGER 0: a RST instead of a FIN, in the middle of the server's write
    assert lines_until(reader, b"* guest-3 left (connection reset)") == []
    wait_log(server, rb"guest-3 disconnected: connection reset after")
    writer.send(b"after the reset\n")
    assert reader.line() == f"<{writer_name}> after the reset".encode()
    stop_cleanly(server, writer, reader)


def test_two_thousand_connections_each_receive_a_broadcast():
    count = 2000
    assert raise_fd_limit() > count + 100, "need more open files for this test"
    server, port = async_server("--raw", "--rate", 0)
    clients = []
    try:
        for _ in range(count):
            clients.append(connect(port))
        wait_until(lambda: log_count(server, b" connected") >= count, 60, f"{count} connections")
        clients[0].sendall(b"hello everyone\n")
        pending = {sock: b"" for sock in clients[1:]}
        selector = selectors.DefaultSelector()
        for sock in pending:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=1):
                sock = key.fileobj
                data = pending[sock] + sock.recv(4096)
                if data.endswith(b"\n"):
                    assert data == b"hello everyone\n", data
                    selector.unregister(sock)
                    del pending[sock]
                else:
                    assert data, "connection closed"
                    pending[sock] = data
        assert not pending, f"{len(pending)} of {count - 1} clients got no broadcast"
    finally:
        for sock in clients:
            sock.close()
    wait_until(lambda: log_count(server, b" disconnected: ") >= count, 60, "every disconnection")
    stop_cleanly(server)


def test_sigterm_tells_clients_and_exits_zero_within_two_seconds():
    server, port = async_server()
    clients = [join(port)[0] for _ in range(3)]
    wait_until(lambda: log_count(server, b" connected as ") == 3, 10, "three members")
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    for client in clients:
        lines_until(client, b"* server shutting down", timeout=5)
        assert client.read_to_eof(timeout=5) == b""
        client.close()  # as nc and dschat chat do on EOF: the server need not wait for our FIN
    assert server.wait(timeout=5) == 0
    assert time.monotonic() - started < 2.0, time.monotonic() - started
    assert server.err.count(b"disconnected: server shutting down") == 3, server.err
    assert b" left" not in b"".join(client.buffer for client in clients)
    assert_no_sanitizer_report(server)


def test_sigint_with_a_stuck_client_still_exits_zero_after_the_flush_budget():
    server, port = async_server("--rate", 0, "--max-queue", "64MiB")
    writer, writer_name = join(port)
    reader, _ = join(port)
    stuck = small_window_client(port)
    lines_until(reader, b"* guest-3 joined")
    count = lines_past_kernel_buffers(1001)
    writer.send((b"w" * 1000 + b"\n") * count)
    for _ in range(count):  # once the reader has them all, megabytes wait in the stuck client's outbox
        assert reader.line(timeout=30).startswith(f"<{writer_name}> www".encode())
    started = time.monotonic()
    server.signal(signal.SIGINT)
    for client in (reader, writer):
        lines_until(client, b"* server shutting down")  # fails unless the notice arrives
        assert client.read_to_eof() == b""
        client.close()
    assert server.wait(timeout=10) == 0
    elapsed = time.monotonic() - started
    assert 1.5 < elapsed < 3.0, f"exit after {elapsed:.2f} s, the flush budget is 2 s"
    assert re.search(rb"guest-3 disconnected: server shutting down after [\d.]+ s, 0 lines in", server.err)
    assert_no_sanitizer_report(server)
    stuck.close()


def test_second_signal_exits_at_once():
    server, port = async_server("--rate", 0, "--service", "echo")
    stuck = small_window_client(port)
    stuck.sendall(b"".join(b"w" * 1000 + b"\n" for _ in range(300)))
    wait_until(lambda: log_count(server, b" connected") == 1, 10, "the client")
    server.signal(signal.SIGTERM)
    wait_log(server, rb"SIGTERM: shutting down, clients connected: 1")
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=5) == 130
    assert time.monotonic() - started < 1.0
    stuck.close()


if __name__ == "__main__":
    run_tests(globals())
