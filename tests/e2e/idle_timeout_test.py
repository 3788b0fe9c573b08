"""A vanished client must not stay a member forever: TCP keepalive on every client socket, and
--idle-timeout (off by default) closing a client that sends nothing, with a reason."""

import re
import signal
import subprocess
import time

from harness import LineSocket, run, run_tests, start_server, wait_until

TIMEOUT = 1.5  # seconds: longer than the 1 s a join waits before it is announced


def stop(server):
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=10) == 0, server.err[-2000:]


def logged(server, text):
    wait_until(lambda: (server.pump(0.05), text in server.err)[1], what=f"{text!r} in the log")


def room_closes_the_silent_member(*mode):
    server, port = start_server("serve", *mode, "--service", "chat", "--idle-timeout", TIMEOUT, "--port", 0)
    talker = LineSocket(port)
    assert talker.line().startswith(b"* welcome")
    silent = LineSocket(port)
    started = time.monotonic()
    assert silent.line().startswith(b"* welcome guest-2")
    assert talker.line(timeout=5) == b"* guest-2 joined"  # announced after a second in the room
    # The talker keeps sending (a bounded number of lines, paced below the timeout); the silent one does not.
    for i in range(int(3 * TIMEOUT / 0.2)):
        talker.send(b"line %d\n" % i)
        time.sleep(0.2)  # pacing the talker, not waiting for a condition
    lines = []
    while (line := silent.line(timeout=5)) != f"! closing: no line for {TIMEOUT} s".encode():
        lines.append(line)
    assert time.monotonic() - started >= TIMEOUT
    assert all(line.startswith(b"<guest-1> line ") for line in lines), lines
    assert silent.read_to_eof(timeout=5) == b""
    assert talker.line() == b"* guest-2 left (idle timeout)"
    logged(server, b"guest-2 disconnected: idle timeout")
    assert b"guest-1 disconnected" not in server.err  # the talker stays
    talker.close()
    stop(server)


def test_async_room_closes_a_silent_member_and_says_why():
    room_closes_the_silent_member("--mode", "async")


def test_threaded_room_closes_a_silent_member_and_says_why():
    room_closes_the_silent_member("--mode", "threaded")


def echo_closes_a_silent_client(*mode):
    server, port = start_server("serve", *mode, "--service", "echo", "--idle-timeout", TIMEOUT, "--port", 0)
    client = LineSocket(port)
    started = time.monotonic()
    client.send(b"hello\n")
    assert client.line() == b"hello"
    assert client.line(timeout=5) == f"! closing: no line for {TIMEOUT} s".encode()
    assert time.monotonic() - started >= TIMEOUT
    assert client.read_to_eof(timeout=5) == b""
    logged(server, b"disconnected: idle timeout")
    stop(server)


def test_async_echo_closes_a_silent_client():
    echo_closes_a_silent_client("--mode", "async")


def test_threaded_echo_closes_a_silent_client():
    echo_closes_a_silent_client("--mode", "threaded")


def test_idle_timeout_is_off_by_default_and_refused_for_once():
    server, port = start_server("serve", "--mode", "async", "--port", 0)
    assert b"idle" not in server.err
    stop(server)
    result = run("serve", "--mode", "once", "--idle-timeout", "5")
    assert result.returncode == 2, result
    assert b"--idle-timeout" in result.stderr


def keepalive_timers(port):
    """The kernel's timers of the server side of every established connection on port (ss -o)."""
    out = subprocess.run(["ss", "-tnoH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    return re.findall(r"timer:\((\w+),", out)


def test_every_client_socket_has_tcp_keepalive():
    for mode in (("--mode", "async"), ("--mode", "threaded", "--service", "chat")):
        server, port = start_server("serve", *mode, "--port", 0)
        client = LineSocket(port)
        assert client.line().startswith(b"* welcome")
        wait_until(lambda: keepalive_timers(port) == ["keepalive"], what="a keepalive timer on the client socket")
        client.close()
        stop(server)


if __name__ == "__main__":
    run_tests(globals())
