"""Line endings in the chat: a client whose lines end in CRLF (Windows telnet, PuTTY) gets every line with
CRLF, so nothing staircases; an LF client (nc) keeps LF. Both chat servers."""

from harness import LineSocket, run_tests, start_server

CHAT_SERVERS = {
    "async": ("serve", "--mode", "async"),
    "threaded": ("serve", "--mode", "threaded", "--service", "chat"),
}


def check_line_endings(mode):
    server, port = start_server(*CHAT_SERVERS[mode], "--port", 0)
    lf = LineSocket(port)
    assert lf.line().startswith(b"* welcome guest-1")
    crlf = LineSocket(port)
    assert crlf.line().startswith(b"* welcome guest-2")  # nothing sent yet: not known as CRLF
    assert lf.line() == b"* guest-2 joined"
    crlf.send(b"hello from windows\r\n")
    assert lf.line() == b"<guest-2> hello from windows"
    lf.send(b"hello from unix\n")
    assert crlf.line() == b"<guest-1> hello from unix\r"
    crlf.send(b"/who\r\n")
    assert crlf.line() == b"* 2 online: guest-1, guest-2\r"
    lf.send(b"/who\n")
    assert lf.line() == b"* 2 online: guest-1, guest-2"
    third = LineSocket(port)
    assert third.line().startswith(b"* welcome guest-3")
    assert crlf.line() == b"* guest-3 joined\r"
    assert lf.line() == b"* guest-3 joined"
    for client in (lf, crlf, third):
        client.close()
    server.stop()


def test_async_chat_answers_crlf_clients_in_crlf():
    check_line_endings("async")


def test_threaded_chat_answers_crlf_clients_in_crlf():
    check_line_endings("threaded")


if __name__ == "__main__":
    run_tests(globals())
