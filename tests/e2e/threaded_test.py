"""serve --mode threaded / threaded-server, echo service, end to end: real binary, real sockets."""

import os
import re
import signal
import subprocess
import threading
import time

from chat_helpers import block_server_write
from harness import LISTENING, LineSocket, dschat, reset, run, run_tests, sigterm_exits_0_within, start_server, wait_until


def echo_server(*flags):
    return start_server("serve", "--mode", "threaded", "--port", 0, *flags)


def assert_served(port):
    """A new client still gets its line back."""
    client = LineSocket(port)
    client.send(b"still there?\n")
    assert client.line() == b"still there?"
    client.close()



def test_fifty_clients_each_get_their_own_lines_in_order():
    server, port = echo_server()
    clients, lines = 50, 40
    results = [None] * clients

    def talk(number):
        client = LineSocket(port, timeout=60)
        sent = [f"client {number} line {i} {'x' * (number + i)}".encode() for i in range(lines)]
        # Half the clients send everything at once, half one line per round trip: both must hold.
        if number % 2:
            client.send(b"".join(line + b"\n" for line in sent))
            got = [client.line() for _ in sent]
        else:
            got = []
            for line in sent:
                client.send(line + b"\n")
                got.append(client.line())
        client.send(b"end\n")
        results[number] = (got == sent, client.line(), client.read_to_eof())
        client.close()

    threads = [threading.Thread(target=talk, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(result == (True, b"end", b"") for result in results), results
    wait_until(lambda: (server.pump(0.05), server.err.count(b"disconnected: end"))[1] == clients, 20,
               "every disconnection logged")
    assert server.err.count(f"{lines + 1} lines in, {lines + 1} out".encode()) == clients, server.err


def test_threaded_server_alias_end_closes_only_that_client():
    server, port = start_server("threaded-server", "--port", 0)
    first, second = LineSocket(port), LineSocket(port)
    first.send(b"hello\nend\n")
    assert first.line() == b"hello" and first.line() == b"end"
    assert first.read_to_eof() == b""
    second.send(b"I am still here\n")
    assert second.line() == b"I am still here"
    server.wait_output(rb"disconnected: end after [\d.]+ s, 2 lines in, 2 out", stream="err")


def test_client_reset_mid_stream_then_server_still_serves():
    server, port = echo_server()
    victim = LineSocket(port)
    victim.send(b"first\n")
    assert victim.line() == b"first"
    # Unread replies pile up on our side and a half-sent line is on the wire when the RST goes out.
    victim.send(b"".join(b"line %d\n" % i for i in range(200)) + b"half a li")
    reset(victim.sock)
    server.wait_output(rb"disconnected: (connection reset|broken pipe|eof)", stream="err")
    assert_served(port)
    assert server.popen.poll() is None


def test_overlong_line_gets_error_and_connection_stays_open():
    server, port = echo_server("--max-line", 10)
    client = LineSocket(port)
    client.send(b"0123456789\n" + b"y" * 5000 + b"\nshort\n")
    assert client.line() == b"0123456789"
    assert client.line() == b"! line too long (max 10 bytes)"
    assert client.line() == b"short"
    assert b"disconnected" not in server.err


def test_max_clients_refuses_the_next_with_server_full():
    server, port = echo_server("--max-clients", 2)
    first, second = LineSocket(port), LineSocket(port)
    for client in (first, second):
        client.send(b"in\n")
        assert client.line() == b"in"
    third = LineSocket(port)
    assert third.line() == b"! server full"
    assert third.read_to_eof() == b""
    server.wait_output(rb"disconnected: server full", stream="err")
    first.send(b"end\n")
    assert first.line() == b"end"

    # Once a place is free again a client is served (the slot is given back when its thread ends).
    def served():
        client = LineSocket(port)
        client.send(b"me too\n")
        try:
            return client.line() == b"me too"
        finally:
            client.close()

    wait_until(served, 10, "a freed place to be used")


def test_nc_and_crlf_clients():
    server, port = echo_server()
    nc = subprocess.run(["nc", "-N", "127.0.0.1", str(port)], input=b"from nc\nend\n", capture_output=True,
                        timeout=10)
    assert nc.stdout == b"from nc\nend\n", nc
    telnet = LineSocket(port)
    telnet.send(b"crlf line\r\nend\r\n")
    assert telnet.line() == b"crlf line\r" and telnet.line() == b"end\r"  # CRLF back
    assert telnet.read_to_eof() == b""


def test_dschat_client_many_messages_until_end():
    server, port = echo_server()
    lines = [f"message {i}" for i in range(300)]  # past the default burst of 200: pacing, nothing lost
    text = "\n".join(lines + ["end", "never sent"]) + "\n"
    result = run("client", "--port", port, input=text.encode(), timeout=60)
    assert result.returncode == 0, result
    assert result.stdout.decode().splitlines() == lines + ["end"]
    server.wait_output(rb"disconnected: end after [\d.]+ s, 301 lines in, 301 out", stream="err")


def test_rate_limit_delays_but_drops_nothing():
    server, port = echo_server("--rate", "40/s", "--burst", 5)
    client = LineSocket(port, timeout=30)
    start = time.monotonic()
    client.send(b"".join(b"flood %d\n" % i for i in range(45)))
    got = [client.line() for _ in range(46)]  # and, once, the notice that it is paced
    elapsed = time.monotonic() - start
    assert b"! slow down: more than 40 lines/s, reading paused" in got
    assert [line for line in got if not line.startswith(b"! ")] == [b"flood %d" % i for i in range(45)]
    # 40 lines past the burst at 40 lines/s: about 1 s; a limiter that does nothing takes milliseconds.
    assert elapsed > 0.5, elapsed


def test_sigterm_with_idle_clients_exits_0_quickly():
    server, port = echo_server()
    idle = [LineSocket(port) for _ in range(5)]
    for client in idle:
        client.send(b"hi\n")
        assert client.line() == b"hi"
    busy = LineSocket(port)
    busy.send(b"half a line without end")  # a read blocked in the middle of a line must wake up too
    server.wait_output(rb"(connected\n.*){6}", stream="err")
    sigterm_exits_0_within(server)
    for client in idle:
        assert client.read_to_eof() == b""
    assert server.err.count(b"disconnected: shutdown") == 6, server.err


def test_sigterm_cuts_off_a_client_blocking_the_flush():
    server, port = echo_server("--rate", 0)
    stuck = block_server_write(server, port)
    sigterm_exits_0_within(server)
    assert b"disconnected: shutdown" in server.err, server.err
    stuck.close()


def test_second_signal_exits_at_once():
    server, port = echo_server("--rate", 0)
    stuck = block_server_write(server, port)
    # Back to back: waiting for the first signal's log line first would race with an echo shutdown
    # that finishes as soon as the stuck write is woken.
    server.signal(signal.SIGTERM)
    server.signal(signal.SIGINT)
    code = server.wait(timeout=5)
    assert code == 130, (code, server.err)
    assert b"shutting down" in server.err
    assert re.search(rb"SIG(INT|TERM) again: exiting now", server.err), server.err  # pending: either first
    stuck.close()


def test_finished_client_threads_are_joined_while_serving():
    # One malloc arena: glibc would otherwise map up to 64 MiB of address space per arena for the threads.
    server = dschat("serve", "--mode", "threaded", "--port", 0, env=dict(os.environ, MALLOC_ARENA_MAX="1"))
    port = int(server.wait_output(LISTENING).group(2))

    def vm_size_kib():
        with open(f"/proc/{server.pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))

    before = vm_size_kib()
    for batch in range(10):
        clients = [LineSocket(port) for _ in range(20)]
        for client in clients:
            client.send(b"end\n")
        for client in clients:
            assert client.line() == b"end"
            client.close()
    wait_until(lambda: (server.pump(0.05), server.err.count(b"disconnected: end"))[1] == 200, 30, "200 ends")
    # Every thread that was never joined would keep its stack mapped (8 MiB each, 1.6 GiB for 200).
    wait_until(lambda: vm_size_kib() - before < 256 * 1024, 10, "thread stacks to be released")
    assert_served(port)


def test_sigint_without_clients_exits_0():
    server, _ = echo_server()
    server.signal(signal.SIGINT)
    assert server.wait(timeout=5) == 0


if __name__ == "__main__":
    run_tests(globals())
