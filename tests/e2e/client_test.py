"""dschat client end to end, against echo-once and a scripted echo server in this test."""

import os
import socket
import tempfile
import threading

from harness import dschat, free_port, run, run_tests, start_server


class RecordingEchoServer:
    """An echo server (one client) that records every line it gets; closes after `end`."""

    def __init__(self, close_after=None):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.listener.settimeout(10)
        self.port = self.listener.getsockname()[1]
        self.lines = []
        self.close_after = close_after
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.listener.accept()
        with conn, conn.makefile("rb") as reader:
            for raw in reader:
                line = raw.rstrip(b"\n")
                self.lines.append(line)
                if self.close_after is not None and len(self.lines) > self.close_after:
                    return
                conn.sendall(line + b"\n")
                if line == b"end":
                    return

    def join(self):
        self.thread.join(10)
        self.listener.close()
        assert not self.thread.is_alive(), "the scripted echo server did not finish within 10 s"
        return self.lines


def test_client_piped_stops_after_end():
    server = RecordingEchoServer()
    result = run("client", "--port", server.port, input=b"one\ntwo words\nend\nnever sent\n")
    assert result.returncode == 0, result
    assert result.stdout == b"one\ntwo words\nend\n"
    assert server.join() == [b"one", b"two words", b"end"]


def test_client_end_of_input_exits_0():
    server = RecordingEchoServer()
    result = run("client", "--port", server.port, input=b"alpha\r\nbeta")
    assert result.returncode == 0, result
    assert result.stdout == b"alpha\nbeta\n"
    assert server.join() == [b"alpha", b"beta"]


def test_client_reads_a_file():
    server = RecordingEchoServer()
    with tempfile.NamedTemporaryFile("wb", delete=False) as handle:
        handle.write("héllo wörld\n日本語\nend\n".encode())
    try:
        with open(handle.name, "rb") as stdin:
            proc = dschat("client", "--port", server.port, stdin=stdin)
            assert proc.wait() == 0, proc.err
    finally:
        os.unlink(handle.name)
    assert proc.out == "héllo wörld\n日本語\nend\n".encode()


def test_client_words_against_echo_once():
    server, port = start_server("echo-once", "--port", 0)
    result = run("client", "--port", port, "hello", "world")
    assert result.returncode == 0, result
    assert result.stdout == b"hello world\n"
    assert server.wait() == 0
    assert b": hello world\n" in server.out


def test_client_server_closes():
    server, port = start_server("echo-once", "--port", 0)
    result = run("client", "--port", port, input=b"first\nsecond\n")
    assert result.returncode == 0, result
    assert result.stdout == b"first\n"
    assert result.stderr == f"dschat: connection to 127.0.0.1:{port} closed by the server\n".encode()
    assert server.wait() == 0


def test_client_sanitizes_replies():
    server = RecordingEchoServer()
    result = run("client", "--port", server.port, input=b"\x1b]0;pwned\x07\n")
    assert result.returncode == 0
    assert result.stdout == b"^[]0;pwned^G\n"


def test_client_connection_refused():
    port = free_port()
    result = run("client", "--port", port, "hi")
    assert result.returncode == 1, result
    assert result.stderr == f"dschat: cannot connect to 127.0.0.1:{port}: connection refused\n".encode()


if __name__ == "__main__":
    run_tests(globals())
