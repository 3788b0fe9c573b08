"""Chaos case: broken clients. Clients reset their connection while the server is in the middle of a large
write to them, clients half-close their socket, and clients vanish while the server shuts down: each one
leaves with a reason, the others go on unaffected, and every descriptor is given back."""

import re
import signal
import socket
import time

from chaos import (chat_server, figure, open_fds, raise_fd_limit, read_to_eof, reset,  # puts tests/e2e on the path
                   sanitizer, scaled, tcp_socket, unread_bytes, vm_rss_kib)
from chat_helpers import (join, lines_past_kernel_buffers, lines_until, log_count, small_window_client,  # isort: skip
                          stop_cleanly, wait_log)
from harness import assert_no_sanitizer_report, run_tests, wait_until  # isort: skip

SHUTDOWN = b"* server shutting down"
JOINED = re.compile(rb"^\* (guest-\d+) joined$")


def unsent_in_server(server_port, sock, delivered_to_it):
    """How many of the bytes the server accepted for sock's peer still sit in the server's own queue: what
    it was given, less what is in its socket's send queue and in sock's receive queue (a lower bound)."""
    side = tcp_socket(server_port, sock.getsockname()[1])
    assert side is not None, "the server's end of the connection is gone"
    return delivered_to_it - side[1] - unread_bytes(sock)


def joined_names(client, count):
    """Reads until count '* guest-N joined' notices have arrived; returns the names."""
    names = []
    deadline = time.monotonic() + 30
    while len(names) < count:
        match = JOINED.match(client.line(timeout=max(0.01, deadline - time.monotonic())))
        if match:
            names.append(match.group(1).decode())
    return names


def test_reset_in_the_middle_of_a_large_write():
    rounds, per_round = scaled((5, 10), (2, 5))
    raise_fd_limit(per_round + 64)
    server, port = chat_server("--rate", 0, "--max-queue", "64MiB")
    writer, writer_name = join(port)
    reader, _ = join(port)
    lines_until(writer, b"* guest-2 joined")
    fds_before = open_fds(server.pid)
    payload = b"r" * 4000
    line_size = len(f"<{writer_name}> 0000 ".encode() + payload) + 1
    count = lines_past_kernel_buffers(line_size)
    least_unsent = None
    rss_after_first = None
    for round_number in range(rounds):
        victims = [small_window_client(port) for _ in range(per_round)]
        names = joined_names(reader, per_round)
        writer.send(b"".join(b"%04d " % i + payload + b"\n" for i in range(count)))
        # Once the reader has every line, each victim's queue holds what it did not take.
        for i in range(count):
            assert reader.line(timeout=30) == f"<{writer_name}> {i:04d} ".encode() + payload
        for victim in victims:
            unsent = unsent_in_server(port, victim, count * line_size)
            least_unsent = unsent if least_unsent is None else min(least_unsent, unsent)
        for victim in victims:
            reset(victim)
        left = sorted(reader.line(timeout=30) for _ in names)
        assert left == sorted(f"* {name} left (connection reset)".encode() for name in names), left
        for name in names:
            wait_log(server, f"{name} disconnected: connection reset after".encode())
        writer.send(b"round %d over\n" % round_number)
        assert reader.line() == f"<{writer_name}> round {round_number} over".encode()
        if rss_after_first is None:
            rss_after_first = vm_rss_kib(server.pid)

    wait_until(lambda: open_fds(server.pid) == fds_before, 10, f"server descriptors back to {fds_before}")
    rss_growth = vm_rss_kib(server.pid) - rss_after_first
    figure("broken clients: resets in the middle of a large write", rounds * per_round)
    figure("broken clients: least output queued in the server at a reset", least_unsent // 1024, "KiB")
    figure("broken clients: server RSS growth after the first round", rss_growth, "KiB")
    assert least_unsent >= 512 * 1024, f"a victim had only {least_unsent} bytes queued in the server"
    # Each round queues count x line_size bytes (about 6 MiB) for the victims; what a reset left behind
    # would pile up round after round.
    checker = sanitizer()
    if checker:
        print(f"{checker}: its allocator's redzones and shadow memory, not the server's, set RSS: no bound")
    else:
        assert rss_growth < count * line_size // 1024, f"RSS grew by {rss_growth} KiB after the first round"
    writer.send(b"/who\n")
    notices = lines_until(writer, b"* 2 online: guest-1, guest-2")
    notice = re.compile(rb"^\* guest-\d+ (joined|left \(connection reset\))$")
    assert all(notice.match(line) for line in notices), notices
    reader.close()
    writer.close()
    stop_cleanly(server)


def test_half_closed_clients_are_relayed_then_leave_and_get_eof():
    many = scaled(50, 10)
    raise_fd_limit(many + 64)
    server, port = chat_server("--rate", 0)
    watcher, _ = join(port)
    fds_before = open_fds(server.pid)

    # Lines, then an unterminated last line, then SHUT_WR: all relayed, then a plain leave, then our EOF.
    talker, talker_name = join(port)
    assert watcher.line() == f"* {talker_name} joined".encode()
    talker.send(b"first line\nsecond line\nlast words without a newline")
    talker.sock.shutdown(socket.SHUT_WR)
    for text in ("first line", "second line", "last words without a newline"):
        assert watcher.line() == f"<{talker_name}> {text}".encode()
    assert watcher.line() == f"* {talker_name} left".encode()
    assert talker.read_to_eof() == b""  # a FIN, not a reset: read_to_eof raises on a reset
    wait_log(server, f"{talker_name} disconnected: eof after".encode())

    # SHUT_WR without a word.
    silent, silent_name = join(port)
    assert watcher.line() == f"* {silent_name} joined".encode()
    silent.sock.shutdown(socket.SHUT_WR)
    assert watcher.line() == f"* {silent_name} left".encode()
    assert silent.read_to_eof() == b""
    wait_log(server, f"{silent_name} disconnected: eof after .*, 0 lines in".encode())

    # A half-closing client that has not read yet still gets everything queued for it before the close.
    late = small_window_client(port)
    late_name = joined_names(watcher, 1)[0]
    sender, sender_name = join(port)
    lines_until(watcher, f"* {sender_name} joined".encode())
    batch = [f"queued {i:03d} ".encode() + b"q" * 1000 for i in range(300)]
    sender.send(b"".join(line + b"\n" for line in batch))
    for line in batch:  # the watcher has them all, so they are queued for the late reader too
        assert watcher.line() == f"<{sender_name}> ".encode() + line
    late.shutdown(socket.SHUT_WR)
    assert watcher.line() == f"* {late_name} left".encode()
    rest = read_to_eof(late).split(b"\n")
    relayed = [line[len(f"<{sender_name}> "):] for line in rest if line.startswith(b"<")]
    assert relayed == batch, (len(relayed), len(batch))
    assert rest[-1] == b"", rest[-3:]  # ends with a whole line

    # Many at once: each sends a line and half-closes in the same moment.
    crowd = [join(port) for _ in range(many)]
    joined_names(watcher, many)
    for i, (client, _) in enumerate(crowd):
        client.send(b"goodbye %d" % i)
        client.sock.shutdown(socket.SHUT_WR)
    expected = {f"<{name}> goodbye {i}".encode() for i, (_, name) in enumerate(crowd)}
    expected |= {f"* {name} left".encode() for _, name in crowd}
    got = set()
    deadline = time.monotonic() + 30
    while got != expected:
        line = watcher.line(timeout=max(0.01, deadline - time.monotonic()))
        assert line in expected and line not in got, line
        got.add(line)
    for client, _ in crowd:
        client.read_to_eof()
        client.close()
    for client in (talker, silent, late, sender):
        client.close()
    wait_until(lambda: open_fds(server.pid) == fds_before, 10, f"server descriptors back to {fds_before}")
    figure("broken clients: half-closed clients relayed and closed", many + 3)
    watcher.close()
    stop_cleanly(server)


def vanish_during_shutdown(count, stuck_count):
    """One server: count clients, half of them reset as SIGTERM arrives, stuck_count of those with output
    queued in the server; returns the seconds from the signal to the server's exit."""
    server, port = chat_server("--rate", 0, "--max-queue", "64MiB")
    readers = [join(port) for _ in range(count // 2)]
    vanishers = [small_window_client(port) for _ in range(count - count // 2)]
    joined_names(readers[0][0], len(readers) - 1 + len(vanishers))
    probe = readers[0][0]
    probe.send(b"/who\n")
    who = probe.line()
    assert re.match(rb"\* %d online(, page 1 of \d+)?: " % count, who), who  # a big room: a page of names

    # The stuck ones ask for the member list until far more is queued for them than kernel buffers hold.
    asks = lines_past_kernel_buffers(len(who) + 1)
    stuck = vanishers[:stuck_count]
    for sock in stuck:
        sock.sendall(b"/who\n" * asks)

    def read_all_commands():
        return all(tcp_socket(port, sock.getsockname()[1])[2] == 0 and tcp_socket(
            sock.getsockname()[1], port)[1] == 0 for sock in stuck)

    wait_until(read_all_commands, 60, "the server to read every /who")
    least_unsent = min(unsent_in_server(port, sock, asks * (len(who) + 1)) for sock in stuck)
    assert least_unsent >= 256 * 1024, f"a vanishing client had only {least_unsent} bytes queued"

    for index, (reader, _) in enumerate(readers):  # conversation in flight during the shutdown
        reader.send(b"talking %d\n" % index)
    half = len(vanishers) // 2
    for sock in vanishers[:half]:
        reset(sock)
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    for sock in vanishers[half:]:
        reset(sock)
    for reader, name in readers:
        before = lines_until(reader, SHUTDOWN, timeout=10)
        assert all(line.startswith((b"<", b"* ")) for line in before), before
        after = reader.read_to_eof(timeout=10)
        assert after == b"", after[:200]  # the notice is the last line: no chat, no leave notices after it
        reader.close()
    assert server.wait(timeout=10) == 0, server.err[-2000:]
    elapsed = time.monotonic() - started
    assert_no_sanitizer_report(server)
    assert log_count(server, b" disconnected: ") == count, server.err[-3000:]
    return elapsed


def test_clients_vanishing_while_the_server_shuts_down():
    count = scaled(100, 20)
    raise_fd_limit(count + 64)
    rounds = scaled(3, 2)
    slowest = max(vanish_during_shutdown(count, scaled(10, 2)) for _ in range(rounds))
    figure(f"broken clients: slowest exit after SIGTERM, {count // 2} of {count} clients resetting "
           f"({rounds} rounds)", f"{slowest:.2f}", "s")
    assert slowest < 2.0, f"exit {slowest:.2f} s after SIGTERM"


if __name__ == "__main__":
    run_tests(globals())
