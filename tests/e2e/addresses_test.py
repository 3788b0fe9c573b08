"""Addresses as users type them: a host in brackets, as the servers print it, and how a dual-stack
listener names its IPv4 clients."""

import re
import signal

from harness import LineSocket, run, run_tests, start_server, wait_until


def stop(server):
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=10) == 0, server.err[-2000:]


def test_bracketed_ipv6_host_works_for_servers_and_clients():
    server, port = start_server("serve", "--mode", "threaded", "--host", "[::1]", "--port", 0)
    assert b"listening on [::1]:" in server.out
    result = run("client", "--host", "[::1]", "--port", port, "hello")
    assert result.returncode == 0, result
    assert result.stdout == b"hello\n"
    stop(server)


def test_dual_stack_listener_logs_ipv4_clients_as_ipv4():
    server, port = start_server("serve", "--mode", "async", "--host", "::", "--port", 0)
    client = LineSocket(port, host="127.0.0.1")
    assert client.line().startswith(b"* welcome")
    wait_until(lambda: (server.pump(0.05), b"connected as" in server.err)[1], what="the connection logged")
    assert re.search(rb"\+ 127\.0\.0\.1:\d+ connected as guest-1", server.err), server.err
    assert b"::ffff:" not in server.err
    client.close()
    stop(server)


if __name__ == "__main__":
    run_tests(globals())
