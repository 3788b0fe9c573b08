"""Access control of serve --mode async: --allow/--deny lists and files, --max-per-ip, and the rate-limited
log of denied connections. Two client addresses on one machine: on Linux every 127.x.y.z is local, so a
client binds its source to 127.0.0.2 before it connects to the server on 127.0.0.1."""

import os
import re
import socket
import tempfile
import time

from chat_helpers import WELCOME, async_server, log_count, stop_cleanly, wait_log
from harness import LineSocket, Skip, run, run_tests, wait_until
from tls_test import join_tls
from web_test import WsClient, get, web_server
from web_tls_test import assert_no_byte_then_closed, insecure_context

TOO_MANY = b"! too many connections from your address\n"


class ClientFrom(LineSocket):
    """A LineSocket whose connection comes from the local address source."""

    def __init__(self, source, port, host="127.0.0.1", timeout=10):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self.buffer = b""
        self.timeout = timeout


def assert_admitted(source, port, host="127.0.0.1"):
    """Connects from source and reads the chat welcome; returns the client."""
    client = ClientFrom(source, port, host)
    line = client.line()
    assert WELCOME.match(line), (source, line)
    return client


def assert_denied(source, port, host="127.0.0.1"):
    """Connects from source: the server must close the connection without writing a byte."""
    client = ClientFrom(source, port, host)
    assert client.read_to_eof() == b"", source
    client.close()


def refused(*args, code=2):
    """Runs dschat with args, which must fail with exit code `code`; returns its one stderr line."""
    result = run(*args, timeout=10)
    assert result.returncode == code, (args, result)
    assert result.stdout == b"", (args, result.stdout)
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dschat: "), (args, lines)
    return lines[0]


def text_file(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)
    return path


def test_deny_closes_a_denied_address_before_any_byte_and_admits_the_others():
    server, port = async_server("--deny", "127.0.0.2,10.0.0.0/8", "--deny", "::2")
    assert_denied("127.0.0.2", port)
    admitted = assert_admitted("127.0.0.1", port)
    other = assert_admitted("127.0.0.3", port)
    wait_log(server, rb"denied 127\.0\.0\.2:\d+\n")
    assert not re.search(rb"\+ 127\.0\.0\.2:\d+ connected", server.err), server.err  # no session at all
    stop_cleanly(server, admitted, other)


def test_allow_wins_over_deny():
    server, port = async_server("--allow", "127.0.0.2", "--deny", "127.0.0.0/8")
    admitted = assert_admitted("127.0.0.2", port)
    assert_denied("127.0.0.1", port)
    wait_log(server, rb"denied 127\.0\.0\.1:\d+\n")
    stop_cleanly(server, admitted)


def test_an_allow_list_alone_refuses_everyone_else_also_for_echo():
    server, port = async_server("--service", "echo", "--allow", "127.0.0.0/31")
    client = ClientFrom("127.0.0.1", port)
    client.send(b"hello\n")
    assert client.line() == b"hello"
    assert_denied("127.0.0.2", port)
    stop_cleanly(server, client)


def test_a_dual_stack_listener_matches_ipv4_clients_by_their_ipv4_address():
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError as why:
        raise Skip(f"no IPv6 loopback: {why}")
    server, port = async_server("--host", "::", "--deny", "127.0.0.2,::1")
    assert_denied("127.0.0.2", port)  # seen as ::ffff:127.0.0.2 on this listener
    assert_denied("::1", port, host="::1")
    admitted = assert_admitted("127.0.0.1", port)
    wait_log(server, rb"denied 127\.0\.0\.2:\d+\n")
    stop_cleanly(server, admitted)


def test_allow_and_deny_files_with_comments():
    with tempfile.TemporaryDirectory() as directory:
        allow = text_file(directory, "allow", "# who may connect\n\n127.0.0.2   # the second loopback\n"
                                              "  127.0.0.4/32\n")
        server, port = async_server("--allow-file", allow)
        first, second = assert_admitted("127.0.0.2", port), assert_admitted("127.0.0.4", port)
        assert_denied("127.0.0.1", port)
        stop_cleanly(server, first, second)

        deny = text_file(directory, "deny", "127.0.0.3 # noisy\r\n# 127.0.0.1 stays allowed\r\n")
        server, port = async_server("--deny-file", deny, "--deny", "127.0.0.5")
        assert_denied("127.0.0.3", port)
        assert_denied("127.0.0.5", port)
        admitted = assert_admitted("127.0.0.1", port)
        stop_cleanly(server, admitted)


def test_bad_entries_exit_2_and_bad_files_exit_1_with_one_line():
    serve = ("serve", "--mode", "async", "--port", "0")
    assert refused(*serve, "--deny", "127.0.0.300") == "dschat: bad address in --deny: 127.0.0.300"
    line = refused(*serve, "--allow", "::1", "--allow", "10.0.0.1/8")
    assert line == "dschat: host bits set in --allow: 10.0.0.1/8 (did you mean 10.0.0.0/8?)", line
    line = refused(*serve, "--deny", "127.0.0.1,,::1")
    assert "empty entry in --deny" in line, line
    line = refused("async-server", "--port", "0", "--allow", "localhost")
    assert "--allow" in line and "localhost" in line, line
    with tempfile.TemporaryDirectory() as directory:
        missing = os.path.join(directory, "missing")
        line = refused(*serve, "--deny-file", missing, code=1)
        assert line == f"dschat: cannot read --deny-file {missing}: No such file or directory", line
        line = refused(*serve, "--allow-file", directory, code=1)
        assert line.startswith(f"dschat: cannot read --allow-file {directory}: "), line
        bad = text_file(directory, "bad", "# fine\n127.0.0.1\n10.0.0.0/33\n")
        line = refused(*serve, "--allow-file", bad, code=1)
        assert line == f"dschat: bad prefix length in --allow-file {bad} line 3: 10.0.0.0/33 (at most 32 for IPv4)", line


def test_access_flags_are_refused_for_once_and_threaded():
    for mode in ("once", "threaded"):
        for flag, value in (("--allow", "127.0.0.1"), ("--deny", "127.0.0.2"), ("--allow-file", "/nonexistent"),
                            ("--deny-file", "/nonexistent"), ("--max-per-ip", "2")):
            line = refused("serve", "--mode", mode, "--port", "0", flag, value)
            assert line == (f"dschat: {flag} means nothing for --mode {mode}: access control is in the async "
                            "server only (see dschat serve --help)"), line
    line = refused("threaded-server", "--port", "0", "--deny", "127.0.0.2")
    assert "--deny" in line, line
    line = refused("echo-once", "--port", "0", "--max-per-ip", "2")
    assert "--max-per-ip" in line, line


def test_max_per_ip_refuses_the_next_connection_from_an_address_until_one_closes():
    server, port = async_server("--max-per-ip", "2")
    first, second = assert_admitted("127.0.0.2", port), assert_admitted("127.0.0.2", port)
    third = ClientFrom("127.0.0.2", port)
    assert third.read_to_eof() == TOO_MANY
    third.close()
    wait_log(server, rb"127\.0\.0\.2:\d+ disconnected: too many connections from this address")
    others = [assert_admitted("127.0.0.1", port), assert_admitted("127.0.0.1", port),
              assert_admitted("127.0.0.3", port)]
    first.close()

    def admitted_again():
        client = ClientFrom("127.0.0.2", port)
        line = client.line()
        if line == TOO_MANY.rstrip(b"\n"):
            client.close()
            return False
        assert WELCOME.match(line), line
        others.append(client)
        return True

    wait_until(admitted_again, 10, "a place from 127.0.0.2 once one closed")
    stop_cleanly(server, second, *others)


def test_max_per_ip_counts_for_the_echo_service_too():
    server, port = async_server("--service", "echo", "--max-per-ip", "1")
    first = ClientFrom("127.0.0.1", port)
    first.send(b"one\n")
    assert first.line() == b"one"
    second = ClientFrom("127.0.0.1", port)
    assert second.read_to_eof() == TOO_MANY
    other = ClientFrom("127.0.0.2", port)
    other.send(b"two\n")
    assert other.line() == b"two"
    stop_cleanly(server, first, second, other)


def served_once_a_place_is_free(web, tls=None):
    """True when a GET / on the web port is answered 200: false while --max-per-ip still counts a closed
    connection (its 503, or over https its close before the handshake)."""
    try:
        return get(web, "/", tls=tls)[0] == 200
    except (OSError, IndexError):  # over https: closed before the handshake, so no answer to parse
        return False


def test_max_per_ip_counts_chat_and_web_connections_together():
    server, port, web = web_server("--max-per-ip", "2")
    chat = assert_admitted("127.0.0.1", port)
    browser = WsClient(web)
    browser.welcome()
    # The browser's connection counts on the chat port...
    third = ClientFrom("127.0.0.1", port)
    assert third.read_to_eof() == TOO_MANY
    third.close()
    # ...and the terminal's on the web port: a 503 that says why, then the close.
    status, headers, body = get(web, "/")
    assert status == 503 and headers["connection"] == "close", (status, headers)
    assert body == b"503 Service Unavailable: too many connections from your address\n", body
    wait_log(server, rb"127\.0\.0\.1:\d+ http: too many connections from this address \(503\)")
    # Another address is not counted with them.
    other = ClientFrom("127.0.0.2", web)
    other.send(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{web}\r\n\r\n")
    assert other.read_to_eof().startswith(b"HTTP/1.1 200 OK\r\n")
    other.close()
    # Once the browser has left, the page is served from 127.0.0.1 again.
    browser.close()
    wait_until(lambda: served_once_a_place_is_free(web), 10, "a place from 127.0.0.1 once the browser left")
    stop_cleanly(server, chat)


def test_over_https_a_web_connection_past_max_per_ip_is_closed_before_the_handshake():
    server, port, web = web_server("--tls", "--max-per-ip", "1")
    member, _ = join_tls(port)
    assert_no_byte_then_closed(web)
    wait_log(server, rb"127\.0\.0\.1:\d+ https: too many connections from this address "
                     rb"\(closed before the TLS handshake\)")
    member.close_notify()
    wait_until(lambda: served_once_a_place_is_free(web, insecure_context()), 10,
               "the page over https once the member left")
    stop_cleanly(server)


def test_denied_connections_are_logged_at_most_once_a_second_with_a_count():
    server, port = async_server("--deny", "127.0.0.2")
    start = time.monotonic()
    for _ in range(30):
        assert_denied("127.0.0.2", port)
    elapsed = time.monotonic() - start
    line_pattern = re.compile(rb"denied 127\.0\.0\.2:\d+(?: \(and (\d+) more in the last second\))?\n")

    def told():
        server.pump(0.01)
        return sum(1 + int(match.group(1) or 0) for match in line_pattern.finditer(server.err))

    wait_until(lambda: told() == 30, 10, "all 30 denials told")
    lines = line_pattern.findall(server.err)
    # One line at once, then at most one a second: 30 denials within `elapsed` make at most elapsed + 2.
    assert 2 <= len(lines) <= int(elapsed) + 2, (elapsed, server.err)
    assert log_count(server, b"(and ") >= 1, server.err
    admitted = assert_admitted("127.0.0.1", port)
    stop_cleanly(server, admitted)


if __name__ == "__main__":
    run_tests(globals())
