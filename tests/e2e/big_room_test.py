"""/who in a room bigger than a page: the reply is one page (50 names), whatever the size of the room, so
a 5-byte command cannot make the server write the whole member list."""

import signal

from harness import LineSocket, run_tests, start_server, wait_until

MEMBERS = 120


def who_answers_a_page(*mode):
    server, port = start_server("serve", *mode, "--service", "chat", "--port", 0)
    clients = [LineSocket(port) for _ in range(MEMBERS)]
    asker = clients[-1]
    wait_until(lambda: (server.pump(0.05), server.err.count(b" connected as ") == MEMBERS)[1],
               what=f"{MEMBERS} members", timeout=30)
    asker.send(b"/who\n")
    while not (line := asker.line()).startswith(b"* 120 online"):
        assert line.endswith(b" joined") or line.startswith(b"* welcome"), line
    assert line.startswith(b"* 120 online, page 1 of 3: guest-1, guest-2, "), line
    assert line.endswith(b", guest-50 \xe2\x80\x94 /who 2 for more"), line
    assert len(line) < 1024, len(line)
    asker.send(b"/who 3\n/who guest-7\n/who nobody\n")
    assert asker.line() == b"* 120 online, page 3 of 3: " + b", ".join(b"guest-%d" % n for n in range(101, 121))
    assert asker.line() == b"* guest-7 is online"
    assert asker.line() == b"! nobody is not online"
    for client in clients:
        client.close()
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=10) == 0, server.err[-2000:]


def test_async_who_answers_a_page():
    who_answers_a_page("--mode", "async")


def test_threaded_who_answers_a_page():
    who_answers_a_page("--mode", "threaded")


if __name__ == "__main__":
    run_tests(globals())
