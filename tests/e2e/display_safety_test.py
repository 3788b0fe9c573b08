"""Text that could lie about its layout on someone else's screen (docs/protocol.md sanitizing): bidirectional
overrides and isolates, line separators and invisible characters reach the other members, the server log
and `dschat chat`'s display as visible codes, while ordinary right-to-left text arrives unchanged."""

import signal
import socket
import threading

from harness import LineSocket, dschat, run_tests, start_server, wait_until

TROJAN = "access\u202e lanigiro\u202c ok"
TROJAN_SHOWN = b"access<U+202E> lanigiro<U+202C> ok"
HIDDEN = "a\u2066b\u2069\u2028c\u200bd"
HIDDEN_SHOWN = b"a<U+2066>b<U+2069><U+2028>c<U+200B>d"
RTL = "\u05e9\u05dc\u05d5\u05dd \u0633\u0644\u0627\u0645 \u200f!"  # Hebrew, Arabic and a right-to-left mark


def relay_is_neutralized(*mode):
    server, port = start_server("serve", *mode, "--service", "chat", "--port", 0, "-v")
    alice, bob = LineSocket(port), LineSocket(port)
    assert alice.line().startswith(b"* welcome")
    assert bob.line().startswith(b"* welcome")
    assert alice.line().endswith(b" joined")
    for text in (TROJAN, HIDDEN, RTL):
        alice.send(text.encode() + b"\n")
    got = [bob.line().split(b"> ", 1)[1] for _ in range(3)]
    assert got == [TROJAN_SHOWN, HIDDEN_SHOWN, RTL.encode()], got
    alice.close()
    bob.close()
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=10) == 0, server.err[-2000:]
    assert TROJAN_SHOWN in server.err  # -v logs each chat line, sanitized too
    assert "\u202e".encode() not in server.err


def test_async_room_shows_layout_controls_as_codes():
    relay_is_neutralized("--mode", "async")


def test_threaded_room_shows_layout_controls_as_codes():
    relay_is_neutralized("--mode", "threaded")


def test_chat_client_shows_layout_controls_from_the_server_as_codes():
    # A hostile server, not dschat's: it sends the raw bytes, and the client must not print them as such.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.sendall(f"<mallory> {TROJAN}\n<mallory> {RTL}\n".encode())
            conn.recv(1024)  # until the client's /quit or close

    thread = threading.Thread(target=serve)
    thread.start()
    client = dschat("chat", "--port", port)
    code = client.wait(timeout=10)
    thread.join(timeout=10)
    listener.close()
    assert not thread.is_alive()
    assert code == 0, client.err
    assert b"<mallory> " + TROJAN_SHOWN + b"\n" in client.out, client.out
    assert RTL.encode() in client.out
    assert "\u202e".encode() not in client.out


if __name__ == "__main__":
    run_tests(globals())
