"""serve --mode threaded --service chat end to end: the shared chat room behind one thread per client."""

import os
import socket
import time

from harness import (LISTENING, LineSocket, assert_silent, dschat, reset, run_tests, sigterm_exits_0_within,
                     start_server, vm_rss_kib, wait_until)
from chat_helpers import blocked_in_send  # isort: skip


def chat_server(*flags):
    return start_server("serve", "--mode", "threaded", "--service", "chat", "--port", 0, *flags)


def join(port, name):
    """Connects and reads the welcome line; returns the socket."""
    client = LineSocket(port)
    welcome = client.line().decode()
    assert welcome.startswith(f"* welcome {name} — "), welcome
    assert welcome.endswith(" online — /help lists commands"), welcome
    return client


def test_chat_lines_notices_and_commands():
    server, port = chat_server("-v")
    alice = join(port, "guest-1")
    bob = join(port, "guest-2")
    assert alice.line() == b"* guest-2 joined"
    carol = join(port, "guest-3")
    assert alice.line() == b"* guest-3 joined" and bob.line() == b"* guest-3 joined"

    alice.send("/nick alice\n")
    for client in (alice, bob, carol):
        assert client.line() == b"* guest-1 is now alice"
    alice.send("hello all\n")
    assert bob.line() == b"<alice> hello all" and carol.line() == b"<alice> hello all"
    bob.send("/me waves\n")
    assert alice.line() == b"<guest-2> *waves*" and carol.line() == b"<guest-2> *waves*"
    carol.send("/who\n")
    assert carol.line() == b"* 3 online: alice, guest-2, guest-3"
    carol.send("//slash\n")
    assert alice.line() == b"<guest-3> /slash"
    assert bob.line() == b"<guest-3> /slash"
    bob.send("/bogus\n")
    assert bob.line() == "! unknown command /bogus — /help lists commands".encode()
    assert_silent(alice)  # the sender's own lines and others' errors never come back to alice

    bob.send("/quit see you\n")
    assert bob.read_to_eof() == b""
    assert alice.line() == b"* guest-2 left (quit: see you)" and carol.line() == b"* guest-2 left (quit: see you)"
    carol.close()
    assert alice.line() == b"* guest-3 left"
    server.wait_output(rb"guest-2 disconnected: quit after [\d.]+ s, 3 lines in", stream="err")
    server.wait_output(rb"guest-3 disconnected: eof", stream="err")
    assert b"<alice> hello all" in server.err  # -v logs chat lines


def test_raw_relays_lines_unchanged_and_sanitized():
    server, port = chat_server("--raw")
    first, second = LineSocket(port), LineSocket(port)
    wait_until(lambda: (server.pump(0.05), server.err.count(b"connected as"))[1] == 2, 10, "two members")
    second.send(b"ready\n")
    assert first.line() == b"ready"
    first.send(b"plain /nick x\r\n" + b"esc \x1b[2J\n")
    assert second.line() == b"plain /nick x"
    assert second.line() == b"esc ^[[2J"
    assert_silent(first)


def test_overlong_line_gets_error_and_member_stays():
    server, port = chat_server("--max-line", 16)
    alice, bob = join(port, "guest-1"), join(port, "guest-2")
    assert alice.line() == b"* guest-2 joined"
    alice.send(b"z" * 100 + b"\nshort one\n")
    assert alice.line() == b"! line too long (max 16 bytes)"
    assert bob.line() == b"<guest-1> short one"


def test_reset_member_leaves_with_reason_and_room_goes_on():
    server, port = chat_server()
    alice, bob = join(port, "guest-1"), join(port, "guest-2")
    assert alice.line() == b"* guest-2 joined"
    bob.send(b"last words\n")
    assert alice.line() == b"<guest-2> last words"
    reset(bob.sock)
    left = alice.line()
    assert left == b"* guest-2 left (connection reset)", left
    carol = join(port, "guest-3")
    assert alice.line() == b"* guest-3 joined"
    carol.send(b"hi\n")
    assert alice.line() == b"<guest-3> hi"


def test_member_that_never_reads_is_cut_off_and_others_get_everything():
    # A small ASan quarantine, so that freed messages do not count as growth in that build.
    asan = os.environ.get("ASAN_OPTIONS", "")
    env = dict(os.environ, ASAN_OPTIONS=(asan + ":" if asan else "") + "quarantine_size_mb=4")
    server = dschat("serve", "--mode", "threaded", "--service", "chat", "--port", 0, "--max-queue", "64KiB",
                    "--rate", "0", env=env)
    port = int(server.wait_output(LISTENING).group(2))
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # keeps the kernel from hiding much
    stuck.settimeout(10)
    stuck.connect(("127.0.0.1", port))
    server.wait_output(b"connected as guest-1", stream="err")
    talker, listener = join(port, "guest-2"), join(port, "guest-3")
    assert talker.line() == b"* guest-3 joined"
    rss_start = vm_rss_kib(server.pid)

    # The stuck member's kernel buffers take a few MB first; its 64 KiB queue fills after that. Then go on
    # until far more has passed through the server than the memory it may grow by.
    padding = b"p" * 1000
    cut_at = rss_cut = None
    deadline = time.monotonic() + 60
    for i in range(20000):
        batch = b"".join(b"%d.%d %s\n" % (i, j, padding) for j in range(10))
        talker.send(batch)
        for j in range(10):
            got = listener.line()
            if got.startswith(b"* guest-1 left"):
                assert got == b"* guest-1 left (too slow: send queue over 64 KiB)", got
                cut_at = i
                rss_cut = vm_rss_kib(server.pid)
                got = listener.line()
            assert got == b"<guest-2> %d.%d %s" % (i, j, padding), (i, j, got[:40])
        server.pump(0)
        after_cut_mib = 0 if cut_at is None else (i - cut_at) * len(batch) / 2**20
        if after_cut_mib > 12 or time.monotonic() > deadline:
            break
    assert cut_at is not None, "the stuck member was never cut off"
    server.wait_output(rb"guest-1 disconnected: too slow: send queue over 64 KiB", stream="err")
    rss_end = vm_rss_kib(server.pid)
    growth = (f"RSS {rss_start} KiB at start, {rss_cut} at the cut after {cut_at} batches, "
              f"{rss_end} at the end")
    print(f"{after_cut_mib:.1f} MiB relayed after the cut; {growth}")
    # Unbounded queueing or leaking would grow with the 12 MiB relayed after the cut.
    assert after_cut_mib > 12 and rss_end - rss_cut < 6 * 1024, growth
    assert talker.line() == b"* guest-1 left (too slow: send queue over 64 KiB)"
    talker.send(b"/who\n")
    assert talker.line() == b"* 2 online: guest-2, guest-3"
    stuck.close()


def test_sigterm_tells_chat_clients_and_exits_0_quickly():
    server, port = chat_server()
    clients = [join(port, f"guest-{n}") for n in range(1, 4)]
    server.wait_output(rb"(connected as guest-\d\n.*){3}", stream="err")
    sigterm_exits_0_within(server)
    for client in clients:
        rest = client.read_to_eof()
        assert rest.endswith(b"* server shutting down\n") and b"left" not in rest, rest
    assert server.err.count(b"disconnected: shutdown") == 3, server.err


def test_sigterm_cuts_off_a_member_blocking_the_flush():
    server, port = chat_server("--max-queue", "64MiB", "--rate", 0)
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.settimeout(10)
    stuck.connect(("127.0.0.1", port))
    server.wait_output(b"connected as guest-1", stream="err")
    talker = join(port, "guest-2")
    batch = b"".join(b"%d %s\n" % (i, b"q" * 1000) for i in range(100))

    def writer_stuck():
        talker.send(batch)
        return blocked_in_send(server.pid)

    wait_until(writer_stuck, 30, "the stuck member's writer to block")
    sigterm_exits_0_within(server)
    assert server.err.count(b"disconnected: shutdown") == 2, server.err
    stuck.close()


if __name__ == "__main__":
    run_tests(globals())
