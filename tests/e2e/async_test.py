"""serve --mode async / async-server end to end: chat and echo services over real loopback sockets.
The hostile-client, load and shutdown cases are in async_hostile_test.py."""

import re
import subprocess
import time

from chat_helpers import WELCOME, async_server, join, lines_until, log_count, stop_cleanly, wait_log
from harness import LineSocket, assert_silent, run, run_tests, start_server, wait_until

def test_twenty_clients_twenty_lines_each_get_the_others_lines_in_order():
    server, port = async_server()
    clients = [join(port) for _ in range(20)]
    # Every welcome has arrived, so all twenty are in the room before anyone speaks.
    for index, (client, _) in enumerate(clients):
        client.send(b"".join(f"line {j} from {index}\n".encode() for j in range(20)))

    for index, (client, name) in enumerate(clients):
        got = {}
        deadline = time.monotonic() + 30
        while sum(len(v) for v in got.values()) < 19 * 20:
            line = client.line(timeout=max(0.01, deadline - time.monotonic())).decode()
            if not line.startswith("<"):
                assert line.startswith("* guest-") and line.endswith(" joined"), line
                continue
            sender, text = line[1:].split("> ", 1)
            got.setdefault(sender, []).append(text)
        assert name not in got, f"{name} got its own lines back"
        for other_index, (_, other) in enumerate(clients):
            if other_index != index:
                assert got[other] == [f"line {j} from {other_index}" for j in range(20)], (name, other)
        assert_silent(client, 0.1)
    for client, _ in clients:
        client.close()  # the later ones close with "left" notices unread, which resets the connection
    wait_until(lambda: log_count(server, b" disconnected: ") == 20, 10, "20 disconnections")
    assert re.search(rb"guest-1 disconnected: eof after [\d.]+ s, 20 lines in, \d+ out", server.err), server.err
    stop_cleanly(server)


def test_names_commands_and_leave_notices():
    server, port = async_server("-v")
    alice, first = join(port)
    bob, second = join(port)
    assert alice.line() == f"* {second} joined".encode()

    alice.send("/nick alice\n")
    assert alice.line() == f"* {first} is now alice".encode()
    assert bob.line() == f"* {first} is now alice".encode()
    bob.send("/NICK ALICE\n")
    assert bob.line() == b"! name taken: ALICE"
    bob.send("/nick bob\n")
    assert alice.line() == f"* {second} is now bob".encode() and bob.line() == f"* {second} is now bob".encode()
    alice.send("hello bob\n/me waves\n//not a command\n")
    assert [bob.line() for _ in range(3)] == [b"<alice> hello bob", b"<alice> *waves*", b"<alice> /not a command"]
    bob.send("/who\n/xyz\n/help\n")
    assert bob.line() == b"* 2 online: alice, bob"
    assert bob.line() == "! unknown command /xyz — /help lists commands".encode()
    assert bob.line().startswith(b"* commands: /nick NAME")
    assert_silent(alice)  # the sender's own lines and others' replies never reach alice

    bob.send("/quit gone fishing\n")
    assert bob.read_to_eof() == b""
    bob.close()
    assert alice.line() == b"* bob left (quit: gone fishing)"
    alice.close()
    wait_log(server, rb"bob disconnected: quit after [\d.]+ s, 6 lines in, \d+ out")
    wait_log(server, rb"alice disconnected: eof")
    assert re.search(rb"\+ 127\.0\.0\.1:\d+ connected as guest-1", server.err), server.err
    assert b"server: <alice> hello bob" in server.err  # -v logs chat lines
    stop_cleanly(server)


def test_raw_relays_lines_unchanged():
    server, port = async_server("--raw")
    first, second, third = LineSocket(port), LineSocket(port), LineSocket(port)
    wait_until(lambda: log_count(server, b" connected") == 3, 10, "three connections")
    first.send(b"/nick nobody\nplain text\n\n")
    for client in (second, third):
        assert [client.line() for _ in range(3)] == [b"/nick nobody", b"plain text", b""]
    second.close()
    third.send(b"still here\n")
    assert first.line() == b"still here"  # no notices in raw mode: the next line is the relayed one
    assert_silent(third)
    stop_cleanly(server, first, third)


def test_echo_service_replies_and_closes_on_end():
    server, port = async_server("--service", "echo")
    client = LineSocket(port)
    client.send(b"one\r\ntwo\n\nend\nnever read\n")
    assert client.read_to_eof() == b"one\r\ntwo\r\n\r\nend\r\n"  # a CRLF client from its first line
    client.close()
    wait_log(server, rb"disconnected: end after [\d.]+ s, 4 lines in, 4 out")

    nc = subprocess.run(["nc", "-N", "127.0.0.1", str(port)], input=b"alpha\nbeta\nlast without newline",
                        capture_output=True, timeout=10)
    assert nc.stdout == b"alpha\nbeta\nlast without newline\n", nc
    wait_log(server, rb"disconnected: eof after [\d.]+ s, 3 lines in, 3 out")
    stop_cleanly(server)


def test_nc_and_telnet_style_clients_chat():
    server, port = async_server()
    listener, name = join(port)
    telnet = LineSocket(port)
    assert WELCOME.match(telnet.line())
    telnet_name = listener.line().decode().split()[1]
    telnet.send(b"hello from telnet\r\n/nick tel\r\n")
    assert listener.line() == f"<{telnet_name}> hello from telnet".encode()
    assert listener.line() == f"* {telnet_name} is now tel".encode()

    nc = subprocess.run(["nc", "-N", "127.0.0.1", str(port)], input=b"/nick netcat\nhi from nc\n",
                        capture_output=True, timeout=10)
    assert nc.returncode == 0, nc
    out = nc.stdout.decode().splitlines()
    assert WELCOME.match(out[0].encode()) and out[1] == "* guest-3 is now netcat", out
    assert lines_until(listener, b"<netcat> hi from nc") == [b"* guest-3 joined", b"* guest-3 is now netcat"]
    assert listener.line() == b"* netcat left"
    telnet.send(b"bye\r\n")
    assert listener.line() == b"<tel> bye"
    assert b"\r" not in server.err
    stop_cleanly(server, listener, telnet)


def test_max_clients_turns_the_next_one_away():
    server, port = async_server("--max-clients", 2)
    first, _ = join(port)
    second, name = join(port)
    extra = LineSocket(port)
    assert extra.read_to_eof() == b"! server full\n"
    wait_log(server, rb"disconnected: server full")
    assert first.line(timeout=5) == f"* {name} joined".encode()  # announced after its first second
    second.close()
    assert first.line() == f"* {name} left".encode()
    third, name = join(port)  # a freed place is taken again
    third.send(b"in\n")
    assert lines_until(first, f"<{name}> in".encode()) == [f"* {name} joined".encode()]
    stop_cleanly(server, first, third)


def test_overlong_line_is_refused_and_the_connection_stays_usable():
    server, port = async_server("--max-line", 10)
    sender, name = join(port)
    reader, _ = join(port)
    assert sender.line().endswith(b" joined")
    sender.send(b"x" * 11 + b"\n0123456789\n")
    assert sender.line() == b"! line too long (max 10 bytes)"
    assert reader.line() == f"<{name}> 0123456789".encode()
    stop_cleanly(server, sender, reader)


def test_alias_help_and_defaults():
    alias = run("async-server", "--help")
    assert alias.returncode == 0, alias
    for text in (b"--max-queue", b"--rate", b"--max-clients", b"--service", b"8888"):
        assert text in alias.stdout, alias.stdout
    assert b"async" in run("serve", "--help").stdout
    assert b"async-server" in run("--help").stdout
    server, port = start_server("async-server", "--port", 0, "--service", "echo")
    client = LineSocket(port)
    client.send(b"via alias\n")
    assert client.line() == b"via alias"
    stop_cleanly(server, client)


if __name__ == "__main__":
    run_tests(globals())
