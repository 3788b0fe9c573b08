"""The room password of serve --mode async (--password-file, DSCHAT_PASSWORD): a connection is no member
until it sends the right /pass; wrong tries and the deadline close it; the password never reaches the log;
dschat chat sends it itself; the flags that cannot use it are refused."""

import os
import signal
import subprocess
import tempfile
import time

from chat_helpers import WELCOME, lines_until, stop_cleanly, wait_log
from harness import DSCHAT, LISTENING, LineSocket, assert_silent, dschat, run, run_tests, start_server
from web_test import WsClient, web_server

SECRET = "tr0ub4dor &3 zebra"
REQUIRED = "* password required — send /pass PASSWORD".encode()
PASS_FIRST = "! send /pass PASSWORD first — /help lists what you may send".encode()

_directory = tempfile.TemporaryDirectory(prefix="dschat-password-")


def password_file(text=SECRET + "\r\n", name="room.pass"):
    path = os.path.join(_directory.name, name)
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)
    return path


def server(*flags):
    """The async chat server with the room password from a file; returns (proc, port)."""
    return start_server("serve", "--mode", "async", "--port", 0, "--password-file", password_file(), *flags)


def outsider(port):
    """Connects and reads the one line a connection gets before the password; returns the client."""
    client = LineSocket(port)
    assert client.line() == REQUIRED
    return client


def member(port, password=SECRET):
    """Connects, gives the password and reads the welcome; returns (client, name, online count)."""
    client = outsider(port)
    client.send(f"/pass {password}\n")
    match = WELCOME.match(client.line())
    assert match, client.buffer
    return client, match.group(1).decode(), int(match.group(2))


def test_the_right_password_joins_as_any_client_does():
    proc, port = server()
    alice, alice_name, online = member(port)
    assert online == 1
    bob = outsider(port)
    bob.send("hello\n/nick bob\n/who\n")
    assert [bob.line(), bob.line(), bob.line()] == [PASS_FIRST] * 3
    bob.send("/help\n/pass\n")
    assert bob.line() == "* before the password: /pass PASSWORD · /quit · /help".encode()
    assert bob.line() == b"! usage: /pass PASSWORD"
    bob.send(f"/PASS   {SECRET}  \r\n")  # any case, blanks around, CRLF
    match = WELCOME.match(bob.line())
    assert match and match.group(2) == b"2", match
    bob_name = match.group(1).decode()
    bob.send("hi alice\r\n")
    assert lines_until(alice, f"<{bob_name}> hi alice".encode()) == [f"* {bob_name} joined".encode()]
    bob.send(f"/pass {SECRET}\r\n")  # once in, /pass is answered and goes nowhere
    assert bob.line() == b"! you are in the room already\r"
    alice.send("/who\n")
    assert alice.line().decode() == f"* 2 online: {alice_name}, {bob_name}"
    wait_log(proc, rf"gave the room password: joined as {bob_name}".encode())
    stop_cleanly(proc, alice, bob)


def test_three_wrong_passwords_close_the_connection():
    proc, port = server()
    client = outsider(port)
    client.send("/pass tr0ub4dor\n")
    assert client.line() == "! wrong password — 2 tries left".encode()
    client.send(f"/pass {SECRET}x\n")
    assert client.line() == "! wrong password — 1 try left".encode()
    client.send(f"/pass {SECRET.upper()}\n/pass {SECRET}\n")  # the right one comes too late
    assert client.read_to_eof() == b"! wrong password\n"
    client.close()
    wait_log(proc, rb"disconnected: wrong password after")
    again, _, online = member(port)  # the server is unaffected
    assert online == 1
    stop_cleanly(proc, again)


def test_a_silent_connection_is_closed_at_the_password_deadline():
    proc, port = server("--password-timeout", "0.5")
    start = time.monotonic()
    client = outsider(port)
    assert client.read_to_eof(timeout=10) == b"! password required\n"
    assert time.monotonic() - start >= 0.45
    client.close()
    wait_log(proc, rb"disconnected: password required after")
    # Members that gave the password in time are not touched by the deadline: they outlive another
    # connection's, which began after theirs.
    alice, alice_name, _ = member(port)
    bob, _, _ = member(port)
    late = outsider(port)
    assert late.read_to_eof(timeout=10) == b"! password required\n"
    late.close()
    alice.send("still here\n")
    lines_until(bob, f"<{alice_name}> still here".encode())  # alice's line came through: she is still in
    stop_cleanly(proc, alice, bob, client, late)


def test_a_connection_without_the_password_sees_nothing_and_is_not_counted():
    proc, port = server("--max-clients", "3")
    alice, alice_name, _ = member(port)
    eve = outsider(port)
    bob, bob_name, online = member(port)
    assert online == 2  # eve is not in the welcome's count
    alice.send("/who\n")
    assert alice.line().decode() == f"* 2 online: {alice_name}, {bob_name}"
    alice.send("secret plans\n/me whispers\n/nick alicia\n")
    assert lines_until(bob, f"* {alice_name} is now alicia".encode())[-2:] == [
        f"<{alice_name}> secret plans".encode(), f"<{alice_name}> *whispers*".encode()]
    bob.send("/quit\n")
    lines_until(alice, f"* {bob_name} left".encode())
    bob.close()
    wait_log(proc, rf"{bob_name} disconnected: quit".encode())
    assert_silent(eve)  # no chat, no rename, no join or leave notice reached it
    # It holds a place under --max-clients all the same: with eve and alice in, one more fits, not two.
    carol, _, online = member(port)
    assert online == 2
    full = LineSocket(port)
    assert full.read_to_eof() == b"! server full\n"
    eve.send(f"/pass {SECRET}\n")
    match = WELCOME.match(eve.line())
    assert match and match.group(2) == b"3", match
    stop_cleanly(proc, alice, eve, carol, full)


def test_the_password_is_never_logged_even_verbose():
    env = dict(os.environ, DSCHAT_PASSWORD=SECRET)
    proc = dschat("serve", "--mode", "async", "--port", 0, "-v", env=env)
    port = int(proc.wait_output(LISTENING).group(2))
    wrong = outsider(port)
    wrong.send(f"/pass {SECRET[:-1]}\n{SECRET}\n/help {SECRET}\n")
    assert wrong.line() == "! wrong password — 2 tries left".encode()
    assert wrong.line() == PASS_FIRST
    assert wrong.line() == "* before the password: /pass PASSWORD · /quit · /help".encode()
    alice, alice_name, _ = member(port)
    alice.send(f"/pass {SECRET}\nnot a secret\n")
    assert alice.line() == b"! you are in the room already"
    wait_log(proc, rf"<{alice_name}> not a secret".encode())  # -v logs chat lines: the log is verbose
    stop_cleanly(proc, alice, wrong)
    for text in (SECRET, SECRET[:-1], "tr0ub4dor", "zebra"):
        assert text.encode() not in proc.err + proc.out, (text, proc.err)


def test_dschat_chat_sends_the_password_itself():
    proc, port = server()
    alice, _, _ = member(port)
    result = run("chat", "--port", port, "--password-file", password_file(), input=b"hello from chat\n")
    assert result.returncode == 0, result
    assert result.stdout.startswith(REQUIRED + b"\n* welcome guest-2 "), result.stdout
    lines_until(alice, b"<guest-2> hello from chat")
    # The same from DSCHAT_PASSWORD.
    env = dict(os.environ, DSCHAT_PASSWORD=SECRET)
    result = subprocess.run([DSCHAT, "chat", "--port", str(port)], input=b"via the environment\n",
                            capture_output=True, timeout=20, env=env)
    assert result.returncode == 0, result
    assert result.stdout.startswith(REQUIRED + b"\n* welcome guest-3 "), result.stdout
    lines_until(alice, b"<guest-3> via the environment")
    stop_cleanly(proc, alice)


def test_a_browser_gives_the_password_with_pass():
    proc, port, web = web_server("--password-file", password_file(), "--password-timeout", "5")
    alice, alice_name, _ = member(port)
    ws = WsClient(web)
    assert ws.line() == REQUIRED
    ws.send("hello")
    assert ws.line() == PASS_FIRST
    ws.send(f"/pass {SECRET}")
    name = ws.welcome()
    ws.send("from the browser")
    assert lines_until(alice, f"<{name}> from the browser".encode()) == [f"* {name} joined".encode()]
    wrong = WsClient(web)
    assert wrong.line() == REQUIRED
    for _ in range(3):
        wrong.send("/pass nope")
    assert [wrong.line(), wrong.line(), wrong.line()] == [
        "! wrong password — 2 tries left".encode(), "! wrong password — 1 try left".encode(), b"! wrong password"]
    assert wrong.close_code() == 1008
    stop_cleanly(proc, alice, ws, wrong)


def test_a_warning_when_the_password_would_cross_the_network_in_clear():
    proc, _ = server("--host", "0.0.0.0")
    wait_log(proc, rb"password sent in clear: listening on 0\.0\.0\.0 without TLS")
    loopback, port = server()
    client, _, _ = member(port)
    stop_cleanly(loopback, client)
    assert b"password sent in clear" not in loopback.err, loopback.err
    # With TLS on the chat port the password is safe on any address.
    tls, _ = server("--host", "0.0.0.0", "--tls")
    tls.wait_output(rb"tls fingerprint SHA256:")
    tls.signal(signal.SIGTERM)
    assert tls.wait(10) == 0, tls.err[-2000:]
    assert b"password sent in clear" not in tls.err, tls.err


def refused(*args, code=2, env=None):
    """Runs dschat with args, which must fail with `code` and one line on stderr; returns that line."""
    result = subprocess.run([DSCHAT, *map(str, args)], capture_output=True, timeout=10, env=env)
    assert result.returncode == code, (args, result)
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dschat: "), (args, lines)
    return lines[0]


def test_password_flags_are_refused_where_they_mean_nothing_and_bad_files_fail():
    good = password_file()
    for args in (("serve", "--mode", "threaded", "--password-file", good),
                 ("threaded-server", "--password-file", good),
                 ("serve", "--mode", "async", "--service", "echo", "--password-file", good),
                 ("serve", "--mode", "async", "--service", "echo", "--password-timeout", "5"),
                 ("serve", "--mode", "async", "--password-timeout", "5"),  # no password to wait for
                 ("serve", "--mode", "async", "--password-file", good, "--password-timeout", "0"),
                 ("serve", "--mode", "async", "--password", SECRET),  # never on the command line
                 ("chat", "--password", SECRET)):
        line = refused(*args)
        assert "--password" in line, (args, line)
    missing = os.path.join(_directory.name, "missing.pass")
    empty = password_file("\n\nsecond line\n", "empty.pass")
    for args, path in ((("serve", "--mode", "async", "--password-file", missing), missing),
                       (("serve", "--mode", "async", "--password-file", empty), empty),
                       (("serve", "--mode", "async", "--password-file", _directory.name), _directory.name),
                       (("chat", "--password-file", missing), missing)):
        line = refused(*args, code=1)
        assert path in line and "--password-file" in line, (args, line)
    assert "DSCHAT_PASSWORD" in refused("serve", "--mode", "async", code=1,
                                        env=dict(os.environ, DSCHAT_PASSWORD="  "))
    # A server without a room ignores DSCHAT_PASSWORD, and says so.
    proc = dschat("serve", "--mode", "threaded", "--port", 0, env=dict(os.environ, DSCHAT_PASSWORD=SECRET))
    proc.wait_output(LISTENING)
    proc.wait_output(rb"DSCHAT_PASSWORD ignored", stream="err")
    assert SECRET.encode() not in proc.err


if __name__ == "__main__":
    run_tests(globals())
