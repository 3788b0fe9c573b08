"""SIGHUP (the terminal a server runs in has closed) shuts every long-running server mode down like
SIGTERM: a log line, the clients told, exit 0. Before, the default action killed the process silently."""

import signal

from harness import LineSocket, run_tests, start_server, wait_until


def hangup_shuts_down_cleanly(*mode, chat):
    server, port = start_server("serve", *mode, "--port", 0)
    client = LineSocket(port)
    if chat:
        assert client.line(timeout=5).startswith(b"* welcome")
    wait_until(lambda: (server.pump(0.05), b" connected" in server.err)[1], what="the connection logged")
    server.signal(signal.SIGHUP)
    assert server.wait(timeout=5) == 0, server.err[-2000:]
    assert b"SIGHUP: shutting down, clients connected: 1" in server.err, server.err
    if chat:
        assert client.line(timeout=5) == b"* server shutting down"
    for text in (b"runtime error", b"Sanitizer"):
        assert text not in server.err, server.err[-4000:]
    client.close()


def test_sighup_shuts_the_async_chat_server_down():
    hangup_shuts_down_cleanly("--mode", "async", chat=True)


def test_sighup_shuts_the_threaded_chat_server_down():
    hangup_shuts_down_cleanly("--mode", "threaded", "--service", "chat", chat=True)


def test_sighup_shuts_the_threaded_echo_server_down():
    hangup_shuts_down_cleanly("--mode", "threaded", chat=False)


if __name__ == "__main__":
    run_tests(globals())
