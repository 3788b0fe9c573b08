"""serve --mode once / echo-once end to end: real binary, real sockets, nc as a real client."""

import socket
import subprocess

from harness import LineSocket, dschat, run, run_tests, start_server


def test_once_echoes_with_nc_and_exits():
    server, port = start_server("serve", "--mode", "once", "--port", 0)
    nc = subprocess.run(["nc", "-N", "127.0.0.1", str(port)], input=b"hello there\n", capture_output=True,
                        timeout=10)
    assert nc.stdout == b"hello there\n", nc
    assert server.wait() == 0
    assert b"received from 127.0.0.1:" in server.out and server.out.endswith(b": hello there\n"), server.out
    assert b"+ 127.0.0.1:" in server.err and b"connected" in server.err, server.err
    assert b"disconnected: replied" in server.err, server.err


def test_echo_once_alias_with_crlf_client():
    server, port = start_server("echo-once", "--port", 0)
    client = LineSocket(port)
    client.send(b"hi from telnet\r\n")  # telnet ends lines with CRLF
    assert client.line() == b"hi from telnet\r"  # and gets CRLF back
    assert client.read_to_eof() == b""
    assert server.wait() == 0
    assert b": hi from telnet\n" in server.out


def test_once_client_closes_without_sending():
    server, port = start_server("echo-once", "--port", 0)
    LineSocket(port).close()
    assert server.wait() == 0
    assert b"disconnected: eof before any message" in server.err, server.err
    assert b"received" not in server.out


def test_once_overlong_line_gets_error_reply():
    server, port = start_server("echo-once", "--port", 0, "--max-line", 10)
    client = LineSocket(port)
    client.send(b"x" * 11 + b"\n")
    assert client.line() == b"! line too long (max 10 bytes)"
    assert server.wait() == 0
    assert b"line too long" in server.err


def test_once_prints_hostile_bytes_sanitized():
    server, port = start_server("echo-once", "--port", 0)
    client = LineSocket(port)
    client.send(b"a\x1b[2Jb\xfe\n")  # (0xFF would be telnet's IAC)
    assert client.line() == b"a\x1b[2Jb\xfe"  # the sender gets its own bytes back unchanged
    assert server.wait() == 0
    assert b"\x1b" not in server.out and b"a^[[2Jb\xef\xbf\xbd" in server.out, server.out


def test_once_host_localhost_and_ipv6():
    for host, connect_host in (("localhost", "127.0.0.1"), ("::1", "::1")):
        server, port = start_server("echo-once", "--host", host, "--port", 0)
        client = LineSocket(port, host=connect_host)
        client.send(b"ping\n")
        assert client.line() == b"ping"
        assert server.wait() == 0
        if host == "::1":
            assert b"listening on [::1]:" in server.out


def test_once_port_in_use_exits_1_with_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("echo-once", "--port", port)
    assert result.returncode == 1, result
    assert result.stderr == f"dschat: cannot listen on 127.0.0.1:{port}: address already in use\n".encode()


def test_usage_errors_exit_2_with_one_line():
    cases = [
        ("serve", "--port", "70000"),
        ("serve", "--mode", "bogus"),
        ("serve", "--bogus-flag"),
        ("serv",),
        ("threads-demo", "--threads", "0"),
        (),
    ]
    for args in cases:
        result = run(*args)
        assert result.returncode == 2, (args, result)
        assert result.stderr.startswith(b"dschat: ") and result.stderr.count(b"\n") == 1, (args, result.stderr)
        assert b"terminate" not in result.stderr and result.stdout == b""
    assert b"did you mean 'serve'" in run("serv").stderr


def test_help_shows_defaults():
    top = run("--help")
    assert top.returncode == 0 and b"serve" in top.stdout and b"echo-once" in top.stdout
    serve = run("serve", "--help").stdout
    for text in (b"--host TEXT=127.0.0.1", b"--max-line", b"=4096", b"8080", b"--mode"):
        assert text in serve, serve
    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith(b"dschat "), version


if __name__ == "__main__":
    run_tests(globals())
