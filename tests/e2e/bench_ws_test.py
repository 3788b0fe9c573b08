"""dschat bench --ws end to end: the real load generator speaks WebSocket to the web port of serve --mode
async over loopback (and, for echo, to a Python WebSocket echo peer: dschat's web port is a chat room) and
must report what really happened — every line delivered once and in order, idle connections held, a server
that goes away or does not speak WebSocket named in one line."""

import signal

from bench_test import (SMALL, bench, check_clean_load, check_server_figures, check_usage_errors,
                        end_server_mid_run, start_peer)
from harness import run, run_tests
from web_test import web_server


def test_broadcast_over_websocket_delivers_every_line_once():
    server, _, web = web_server("--rate", 0)
    result, data = bench("broadcast", "--port", web, *SMALL, "--server-pid", server.pid, "--ws")
    check_clean_load(result, data, 5, 4)
    check_server_figures(data, server.pid)
    assert data["ws"] is True and data["tls"] is False and data["proto"] == "line", data
    assert f"broadcast 127.0.0.1:{web} (WebSocket)".encode() in result.stdout, result.stdout


def test_paced_broadcast_over_websocket_with_a_client_that_never_reads():
    server, _, web = web_server("--rate", 0)
    result, data = bench("broadcast", "--port", web, "--clients", 4, "--senders", 2, "--rate", 400,
                         "--stuck", 1, "--duration", 1, "--warmup", 0.2, "--ws")
    assert result.returncode == 0 and data["error"] is None, result
    assert data["sent"] > 0 and data["delivered"] == data["expected"] == data["sent"] * 3, data
    assert data["duplicates"] == 0 and data["order_violations"] == 0 and data["unexpected"] == 0, data


def test_echo_over_websocket_against_a_python_echo_peer():
    peer, port = start_peer("py_ws_echo.py")
    result, data = bench("echo", "--port", port, *SMALL, "--ws")
    check_clean_load(result, data, 5, 1)
    assert data["ws"] is True, data


def test_plain_bench_reports_no_websocket():
    server, port, _ = web_server("--rate", 0)
    result, data = bench("broadcast", "--port", port, *SMALL)
    check_clean_load(result, data, 5, 4)
    assert data["ws"] is False and b"(WebSocket)" not in result.stdout, data


def test_idle_over_websocket_holds_every_connection():
    server, _, web = web_server()
    result, data = bench("idle", "--port", web, "--clients", 200, "--duration", 1, "--server-pid", server.pid,
                         "--ws")
    assert result.returncode == 0 and result.stderr == b"", result
    assert data["opened"] == 200 and data["held"] == 200 and data["error"] is None, data
    assert data["ws"] is True and data["first_failure"] is None, data
    # All in: every client read the chat's welcome as a WebSocket message.
    assert 0 < data["all_in_s"] < data["generator"]["wall_s"], data
    assert data["server"]["rss_bytes_per_connection"] is not None, data
    assert b"200 opened, 200 held, all in after " in result.stdout, result.stdout


def test_websocket_to_the_chat_port_is_refused_with_one_line():
    server, port, _ = web_server()
    for scenario in ("broadcast", "echo", "idle"):
        result = run("bench", scenario, "--port", port, "--clients", 2, "--duration", 1, "--ws", timeout=40)
        assert result.returncode == 1, (scenario, result)
        prefix = f"dschat: cannot connect to 127.0.0.1:{port}: WebSocket upgrade refused: the server answered "
        assert result.stderr.startswith(prefix.encode()), result.stderr
        assert result.stderr.count(b"\n") == 1 and result.stdout == b"", result


def test_server_shutdown_mid_run_is_reported_with_its_close_code():
    server, _, web = web_server("--rate", 0, "-v")
    load = end_server_mid_run(server, web, signal.SIGTERM, "--ws")
    assert load.err.startswith(f"dschat: WebSocket to 127.0.0.1:{web} ended during the run: ".encode()), load.err
    assert b"(1001" in load.err and load.err.count(b"\n") == 1, load.err
    # The server ends on its own: the teardown must not find it still closing and signal it again.
    assert server.wait(timeout=10) == 0, server.err[-2000:]


def test_ws_usage_errors_exit_2():
    check_usage_errors(("broadcast", "--port", 1, "--ws", "--proto", "nats"),
                       ("echo", "--port", 1, "--ws", "--proto", "redis"),
                       ("idle", "--port", 1, "--ws", "--tls"),
                       ("broadcast", "--port", 1, "--ws", "--tls-insecure"))
    result = run("bench", "broadcast", "--port", 1, "--ws", "--proto", "nats")
    assert result.stderr == b"dschat: --ws works with --proto line only\n", result.stderr


if __name__ == "__main__":
    run_tests(globals())
