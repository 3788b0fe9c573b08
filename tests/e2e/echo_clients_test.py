"""The echo services (once, threaded, async) with the clients students really write: a classic
sendall/recv client without newline, CRLF clients, a whole file at once, and echo-once on a signal."""

import signal
import socket
import time

from harness import LineSocket, connect, run_tests, start_server

ECHO_SERVERS = {
    "once": ("serve", "--mode", "once"),
    "threaded": ("serve", "--mode", "threaded"),
    "async": ("serve", "--mode", "async", "--service", "echo"),
}


def echo_server(mode, *flags):
    return start_server(*ECHO_SERVERS[mode], "--port", 0, *flags)


def recv_within(sock, seconds):
    """What one recv() returns within seconds (the classic client's print(s.recv(1024)))."""
    sock.settimeout(seconds)
    return sock.recv(1024)


def test_classic_client_without_newline_gets_its_message_back():
    # The course's client: s.sendall(b"hello"); print(s.recv(1024)) - no newline, then it waits.
    for mode in ECHO_SERVERS:
        server, port = echo_server(mode)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"hello")
            assert recv_within(s, 5) == b"hello\n", mode
        if mode == "once":
            assert server.wait(timeout=5) == 0
            assert b"received from 127.0.0.1:" in server.out and server.out.endswith(b": hello\n"), server.out
        server.stop()


def test_end_without_newline_ends():
    for mode in ("threaded", "async"):
        server, port = echo_server(mode)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"first")
            assert recv_within(s, 5) == b"first\n"
            s.sendall(b"end")
            assert recv_within(s, 5) == b"end\n"
            assert recv_within(s, 5) == b"", mode  # closed by the server
        server.wait_output(rb"disconnected: end after", stream="err")
        server.stop()


def test_message_pause_flag_sets_the_pause():
    server, port = echo_server("threaded", "--message-pause", "1s")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        started = time.monotonic()
        s.sendall(b"slow")
        assert recv_within(s, 5) == b"slow\n"
        assert time.monotonic() - started >= 0.9
    server.stop()


def test_pieces_of_one_line_sent_quickly_stay_one_line():
    server, port = echo_server("threaded")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        for piece in (b"one ", b"line ", b"in pieces\n"):
            s.sendall(piece)
            time.sleep(0.01)  # part of the scenario: much shorter than the pause
        assert recv_within(s, 5) == b"one line in pieces\n"
    server.stop()


def test_crlf_client_gets_crlf_and_lf_client_gets_lf():
    for mode in ECHO_SERVERS:
        server, port = echo_server(mode)
        crlf = LineSocket(port)
        crlf.send(b"windows\r\n")
        assert crlf.line() == b"windows\r", mode
        crlf.close()
        if mode == "once":
            server.wait(timeout=5)
            server, port = echo_server(mode)
        lf = LineSocket(port)
        lf.send(b"unix\n")
        assert lf.line() == b"unix", mode
        lf.close()
        server.stop()


def test_echo_is_not_throttled_by_default():
    # 2,000 lines at once used to take 19 s at the chat's 100 lines/s.
    for mode in ("threaded", "async"):
        server, port = echo_server(mode)
        client = LineSocket(port, timeout=10)
        started = time.monotonic()
        client.send(b"".join(b"line %d\n" % i for i in range(2000)))
        assert [client.line() for _ in range(2000)] == [b"line %d" % i for i in range(2000)]
        assert time.monotonic() - started < 3, mode
        client.close()
        server.stop()


def test_paced_client_is_told_once_and_logged():
    for mode in ("threaded", "async"):
        server, port = echo_server(mode, "--rate", "50/s", "--burst", 5)
        client = LineSocket(port, timeout=10)
        client.send(b"".join(b"flood %d\n" % i for i in range(40)))
        got = [client.line() for _ in range(41)]
        notices = [line for line in got if line.startswith(b"! ")]
        assert notices == [b"! slow down: more than 50 lines/s, reading paused"], (mode, notices)
        assert [line for line in got if not line.startswith(b"! ")] == [b"flood %d" % i for i in range(40)]
        server.wait_output(rb"127\.0\.0\.1:\d+ paced: more than 50 lines/s", stream="err")
        client.close()
        server.stop()


def test_once_on_sigterm_or_sigint_tells_the_client_and_exits_0():
    for signum, name in ((signal.SIGTERM, b"SIGTERM"), (signal.SIGINT, b"SIGINT")):
        server, port = echo_server("once")
        client = LineSocket(port)
        server.wait_output(rb"connected", stream="err")
        server.signal(signum)
        assert client.line() == b"* server shutting down"
        assert server.wait(timeout=5) == 0, server.err
        assert name + b": shutting down" in server.err, server.err
        client.close()


def test_once_on_sigterm_without_client_exits_0():
    server, _ = echo_server("once")
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=5) == 0
    assert b"SIGTERM: shutting down" in server.err, server.err


if __name__ == "__main__":
    run_tests(globals())
