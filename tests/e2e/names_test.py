"""Names no one can pass for: look-alike, invisible-character and guest-N names sent with /nick over real
loopback sockets to both chat servers (the rules themselves are unit-tested in tests/core)."""

import re

from harness import LineSocket, run_tests, start_server

WELCOME = re.compile(rb"^\* welcome (\S+) \xe2\x80\x94 (\d+) online")
MIXED = "! invalid name \u2014 it mixes scripts that look alike, such as Latin and Cyrillic".encode()
INVALID = "! invalid name \u2014 1\u201332 letters, digits, _ - .".encode()


def join(port):
    client = LineSocket(port)
    match = WELCOME.match(client.line())
    assert match
    return client, match.group(1).decode()


def check_look_alikes_are_refused(*server_args):
    server, port = start_server(*server_args, "--port", 0)
    alice, _ = join(port)
    mallory, mallory_name = join(port)
    try:
        assert alice.line() == f"* {mallory_name} joined".encode()
        alice.send("/nick alice\n")
        assert alice.line().endswith(b" is now alice")
        assert mallory.line().endswith(b" is now alice")

        # Cyrillic а, then alice followed by each invisible character issue 21 names, then guest-1
        # spelt with a Cyrillic е and with a fullwidth digit: each refused, with its own reply.
        mallory.send("/nick \u0430lice\n")
        assert mallory.line() == MIXED
        for invisible in ("\u034f", "\u3164", "\u061c", "\U000e0061", "\u180e"):
            mallory.send(f"/nick alice{invisible}\n")
            assert mallory.line() == INVALID, repr(invisible)
        for guest in ("gu\u0435st-1", "guest-\uff11"):
            mallory.send(f"/nick {guest}\n")
            assert mallory.line() == f"! reserved name: {guest} \u2014 guest-N names belong to newcomers".encode()

        mallory.send("/who\n")
        assert mallory.line() == f"* 2 online: alice, {mallory_name}".encode()
        alice.send("/who\n")  # alice heard none of it: her next line is this reply
        assert alice.line() == f"* 2 online: alice, {mallory_name}".encode()
    finally:
        alice.close()
        mallory.close()


def test_async_server_refuses_look_alike_names():
    check_look_alikes_are_refused("serve", "--mode", "async")


def test_threaded_chat_server_refuses_look_alike_names():
    check_look_alikes_are_refused("serve", "--mode", "threaded", "--service", "chat")


def check_nobody_can_write_a_notice(*server_args):
    # /me and /quit are the two ways a member's text reaches others outside a chat line; neither may read as
    # the server's notice, and nobody may call themselves "server" (docs/protocol.md, "Who wrote a line").
    server, port = start_server(*server_args, "--port", 0)
    alice, _ = join(port)
    mallory, mallory_name = join(port)
    try:
        assert alice.line() == f"* {mallory_name} joined".encode()
        mallory.send("/nick server\n/nick S\u0415RVER\n/me shutting down\n/me left (bye)\n")
        assert mallory.line() == "! reserved name: server \u2014 it would pass for the server".encode()
        assert mallory.line() == "! reserved name: S\u0415RVER \u2014 it would pass for the server".encode()
        assert alice.line() == f"<{mallory_name}> *shutting down*".encode()
        assert alice.line() == f"<{mallory_name}> *left (bye)*".encode()
        mallory.send("/quit server shutting down\n")
        assert alice.line() == f"* {mallory_name} left (quit: server shutting down)".encode()
    finally:
        alice.close()
        mallory.close()


def test_async_server_lets_nobody_write_a_notice():
    check_nobody_can_write_a_notice("serve", "--mode", "async")


def test_threaded_chat_server_lets_nobody_write_a_notice():
    check_nobody_can_write_a_notice("serve", "--mode", "threaded", "--service", "chat")


if __name__ == "__main__":
    run_tests(globals())
