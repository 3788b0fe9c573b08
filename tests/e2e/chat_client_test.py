"""dschat chat end to end with standard input a pipe or a file: against the real async chat server, and
against small fake servers in this file (one that sends terminal escapes, one that never closes)."""

import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

from harness import LineSocket, dschat, free_port, run, run_tests, start_server

WELCOME = re.compile(rb"\* welcome (guest-\d+) ")


def chat_server():
    """The real chat server (async mode serves chat by default); returns (proc, port)."""
    return start_server("serve", "--mode", "async", "--port", 0)


def join(port):
    """A raw socket client of the chat server; returns it and its name after the welcome line."""
    peer = LineSocket(port)
    return peer, WELCOME.match(peer.line()).group(1).decode()


def chat(port, *args, stdin=subprocess.PIPE, env=None):
    """Starts dschat chat; its stdin is a pipe to write to unless a file is given."""
    return dschat("chat", "--port", port, *args, stdin=stdin, env=env)


class FakeServer:
    """A one-connection server that runs script(conn) on its own thread, then closes the connection."""

    def __init__(self, script):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.listener.settimeout(10)
        self.port = self.listener.getsockname()[1]
        self.script = script
        self.result = None
        self.error = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.listener.accept()
            with conn:
                conn.settimeout(20)
                self.result = self.script(conn)
        except Exception as error:  # noqa: BLE001 - reported by join()
            self.error = error

    def join(self):
        self.thread.join(20)
        self.listener.close()
        assert not self.thread.is_alive(), "fake server still running"
        if self.error:
            raise self.error
        return self.result


# ---- against the real chat server ----------------------------------------------------------------------


def test_chat_piped_both_directions_and_quick_exit_at_end_of_input():
    server, port = chat_server()
    other, other_name = join(port)
    client = chat(port)
    me = re.match(rb"\* (guest-\d+) joined$", other.line()).group(1).decode()

    client.popen.stdin.write("hello there, wörld\n".encode())
    client.popen.stdin.flush()
    assert other.line() == f"<{me}> hello there, wörld".encode()

    other.send("hi back\n")
    client.wait_output(re.escape(f"<{other_name}> hi back\n"))

    started = time.monotonic()
    client.popen.stdin.close()
    assert client.wait(10) == 0, client.err
    elapsed = time.monotonic() - started
    assert elapsed < 3.0, f"took {elapsed:.2f} s to leave after end of input"
    assert other.line() == f"* {me} left".encode()
    # Nothing but the server's lines on stdout, nothing at all on stderr.
    assert re.fullmatch(rb"\* welcome guest-\d+ [^\n]*\n<guest-\d+> hi back\n", client.out), client.out
    assert client.err == b""
    server.signal(signal.SIGTERM)
    assert server.wait() == 0


def test_chat_stdin_from_a_regular_file():
    server, port = chat_server()
    other, _ = join(port)
    lines = ["one", "two words", "日本語 ünïcode", "//slash", "last without newline"]
    with tempfile.NamedTemporaryFile("wb", delete=False) as handle:
        handle.write("\n".join(lines).encode())
    try:
        with open(handle.name, "rb") as stdin:
            client = chat(port, stdin=stdin)
            assert client.wait(10) == 0, client.err
    finally:
        os.unlink(handle.name)
    me = re.match(rb"\* (guest-\d+) joined$", other.line()).group(1).decode()
    expected = [f"<{me}> {text}" for text in ["one", "two words", "日本語 ünïcode", "/slash",
                                              "last without newline"]]
    assert [other.line().decode() for _ in expected] == expected
    assert other.line() == f"* {me} left".encode()
    assert client.err == b""


def test_chat_host_localhost():
    server, port = chat_server()
    other, _ = join(port)
    result = run("chat", "--host", "localhost", "--port", port, input=b"via localhost\n")
    assert result.returncode == 0, result
    assert other.line().endswith(b" joined")
    assert other.line().endswith(b"> via localhost")


def test_chat_chat_client_alias_and_server_shutdown():
    server, port = chat_server()
    client = dschat("chat-client", "--port", port, stdin=subprocess.PIPE)
    client.wait_output(WELCOME)
    server.signal(signal.SIGTERM)  # the server says goodbye and closes while our stdin stays open
    assert client.wait(10) == 0, client.err
    assert client.out.endswith(b"* server shutting down\n"), client.out
    assert client.err == f"dschat: connection to 127.0.0.1:{port} closed by the server\n".encode()
    assert server.wait() == 0


# ---- against fake servers ------------------------------------------------------------------------------

HOSTILE = (b"\x1b[2J\x1b[Hcleared\n"                 # clear screen, cursor home
           b"\x1b]0;pwned title\x07visible\n"        # OSC window title ended by BEL
           b"over\rwritten\n"                        # lone CR would overwrite the start of the line
           b"bell\x07 and \x9b31m C1 CSI\n"          # BEL, and a raw C1 byte (invalid UTF-8)
           b"bad \xff\xfe utf-8 \xc3\n"              # invalid UTF-8
           b"<mallory> \xe2\x80\xae reversed\n"      # valid UTF-8, but an override (RLO): shown as its code
           b"unterminated \x1b[31mred")              # no LF before the close: still a line


def test_chat_sanitizes_a_hostile_server_and_reports_its_close():
    def script(conn):
        conn.sendall(HOSTILE)
        # Close only once everything is read: closing with data in flight could reset the connection.
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(5)
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass

    fake = FakeServer(script)
    client = chat(fake.port)  # stdin stays open: the close must end the client by itself
    assert client.wait(10) == 0, client.err
    fake.join()
    for byte in (b"\x1b", b"\x07", b"\r", b"\x9b"):
        assert byte not in client.out, (byte, client.out)
    assert client.out == ("^[[2J^[[Hcleared\n"
                          "^[]0;pwned title^Gvisible\n"
                          "over^Mwritten\n"
                          "bell^G and \ufffd31m C1 CSI\n"
                          "bad \ufffd\ufffd utf-8 \ufffd\n"
                          "<mallory> <U+202E> reversed\n"
                          "unterminated ^[[31mred\n").encode(), client.out
    assert client.err == f"dschat: connection to 127.0.0.1:{fake.port} closed by the server\n".encode()


def test_chat_end_of_input_waits_one_second_for_a_server_that_stays():
    def script(conn):
        lines = []
        reader = conn.makefile("rb")
        for raw in reader:
            lines.append(raw.rstrip(b"\n"))
            if lines[-1] == b"/quit":
                break
        # Stay connected: the client must give up on its own after about a second.
        conn.settimeout(10)
        rest = conn.recv(1)
        return lines, rest

    fake = FakeServer(script)
    started = time.monotonic()
    result = run("chat", "--port", fake.port, input=b"only line\n")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result
    assert 0.9 <= elapsed < 3, f"left after {elapsed:.2f} s"
    lines, rest = fake.join()
    assert lines == [b"only line", b"/quit"]
    assert rest == b""  # the client closed after giving up
    assert result.stdout == b"" and result.stderr == b""


def test_chat_large_input_arrives_complete_and_in_order():
    count = 20000

    def script(conn):
        received = []
        for raw in conn.makefile("rb"):
            received.append(raw.rstrip(b"\n"))
            if received[-1] == b"/quit":
                break
        return received

    fake = FakeServer(script)
    with tempfile.TemporaryFile() as stdin:
        stdin.write(b"".join(b"line %d %s\n" % (i, b"x" * (i % 300)) for i in range(count)))
        stdin.seek(0)
        client = chat(fake.port, stdin=stdin)
        assert client.wait(30) == 0, client.err
    received = fake.join()
    assert len(received) == count + 1
    assert received[-1] == b"/quit"
    assert all(line == b"line %d %s" % (i, b"x" * (i % 300)) for i, line in enumerate(received[:-1]))


def test_chat_timestamps():
    def script(conn):
        conn.sendall(b"<bob> stamped\n")
        conn.recv(100)  # our /quit at end of input

    fake = FakeServer(script)
    result = run("chat", "--port", fake.port, "--timestamps", input=b"")
    fake.join()
    assert result.returncode == 0, result
    assert re.fullmatch(rb"\[\d\d:\d\d:\d\d\] <bob> stamped\n", result.stdout), result.stdout


def test_chat_pipe_output_is_never_coloured():
    def script(conn):
        conn.sendall(b"* notice\n! error\n<bob> chat\n")
        conn.recv(100)

    fake = FakeServer(script)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    client = chat(fake.port, env=env)
    client.wait_output(re.escape(b"<bob> chat\n"))
    client.popen.stdin.close()
    assert client.wait(10) == 0
    fake.join()
    assert client.out == b"* notice\n! error\n<bob> chat\n"


def test_chat_interrupt_exits_130():
    def script(conn):
        conn.sendall(b"* hello\n")
        conn.settimeout(10)
        return conn.recv(100)

    fake = FakeServer(script)
    client = chat(fake.port)
    client.wait_output(re.escape(b"* hello\n"))
    client.signal(signal.SIGINT)
    assert client.wait(10) == 130, client.err
    assert fake.join() == b""  # closed without sending anything


def test_chat_connection_refused():
    port = free_port()
    result = run("chat", "--port", port, input=b"hi\n")
    assert result.returncode == 1, result
    assert result.stdout == b""
    assert result.stderr == f"dschat: cannot connect to 127.0.0.1:{port}: connection refused\n".encode()


if __name__ == "__main__":
    run_tests(globals())
