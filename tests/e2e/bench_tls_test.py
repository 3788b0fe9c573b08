"""dschat bench --tls end to end: the real load generator speaks TLS to serve --mode async --tls over
loopback and must report what really happened — every line delivered once and in order, idle connections
held, and a server that does not speak TLS (or is not the one pinned) refused with one clear line."""

import re

from bench_test import SMALL, bench, check_clean_load, check_server_figures, check_usage_errors
from harness import run, run_tests, start_server

FINGERPRINT = re.compile(rb"tls fingerprint (SHA256:[0-9a-f]{64})\n")
INSECURE = b"dschat: warning: --tls-insecure: the server's certificate is not verified\n"


def tls_server(*flags):
    """Starts serve --mode async --tls; returns (proc, port, fingerprint as printed)."""
    server, port = start_server("serve", "--mode", "async", "--tls", "--rate", 0, "--port", 0, *flags)
    match = server.wait_output(FINGERPRINT, timeout=10)
    return server, port, match.group(1).decode()


def without_insecure_warning(result):
    """The run's output with the one warning --tls-insecure must print removed (it is checked here)."""
    assert result.stderr.startswith(INSECURE), result.stderr
    result.stderr = result.stderr[len(INSECURE):]
    return result


def test_broadcast_over_tls_delivers_every_line_once():
    server, port, _ = tls_server("--service", "chat")
    result, data = bench("broadcast", "--port", port, *SMALL, "--server-pid", server.pid, "--tls",
                         "--tls-insecure")
    check_clean_load(without_insecure_warning(result), data, 5, 4)
    check_server_figures(data, server.pid)
    assert data["tls"] is True and data["proto"] == "line", data
    assert f"broadcast 127.0.0.1:{port} (TLS)".encode() in result.stdout, result.stdout


def test_echo_over_tls_with_the_pinned_fingerprint():
    server, port, fingerprint = tls_server("--service", "echo")
    result, data = bench("echo", "--port", port, *SMALL, "--server-pid", server.pid, "--tls-fingerprint",
                         fingerprint)
    check_clean_load(result, data, 5, 1)
    assert data["tls"] is True, data


def test_plaintext_bench_reports_no_tls():
    server, port = start_server("serve", "--mode", "async", "--service", "echo", "--rate", 0, "--port", 0)
    result, data = bench("echo", "--port", port, "--clients", 2, "--duration", 0.5, "--warmup", 0.1)
    check_clean_load(result, data, 2, 1)
    assert data["tls"] is False and b"(TLS)" not in result.stdout, data


def test_idle_over_tls_holds_every_connection():
    server, port, _ = tls_server()
    result, data = bench("idle", "--port", port, "--clients", 200, "--duration", 1, "--server-pid",
                         server.pid, "--tls-insecure")
    without_insecure_warning(result)
    assert result.returncode == 0 and result.stderr == b"", result
    assert data["opened"] == 200 and data["held"] == 200 and data["error"] is None, data
    assert data["tls"] is True and data["first_failure"] is None, data
    # All in: each client decrypted the chat server's welcome.
    assert 0 < data["all_in_s"] < data["generator"]["wall_s"], data
    assert b"200 opened, 200 held, all in after " in result.stdout, result.stdout


def test_tls_against_a_plaintext_server_fails_with_one_line():
    server, port = start_server("serve", "--mode", "async", "--rate", 0, "--port", 0)
    for scenario in ("broadcast", "echo", "idle"):
        result = run("bench", scenario, "--port", port, "--clients", 2, "--duration", 1, "--tls",
                     "--tls-insecure", timeout=40)
        assert result.returncode == 1, (scenario, result)
        err = without_insecure_warning(result).stderr
        assert err.startswith(f"dschat: cannot connect to 127.0.0.1:{port}: TLS handshake failed: ".encode()), err
        assert err.count(b"\n") == 1, err
        assert result.stdout == b"", result.stdout


def test_a_server_with_another_certificate_is_refused():
    server, port, fingerprint = tls_server()
    other = "SHA256:" + ("0" if fingerprint[-1] != "0" else "1") * 64
    result = run("bench", "broadcast", "--port", port, "--clients", 2, "--duration", 1, "--tls-fingerprint",
                 other, timeout=40)
    assert result.returncode == 1, result
    assert re.fullmatch(rb"dschat: cannot connect to 127\.0\.0\.1:\d+: TLS handshake failed: [^\n]+\n",
                        result.stderr), result.stderr
    assert b"fingerprint" in result.stderr, result.stderr


def test_tls_usage_errors_exit_2():
    check_usage_errors(("broadcast", "--port", 1, "--tls", "--proto", "nats"),
                       ("echo", "--port", 1, "--tls-insecure", "--proto", "redis"),
                       ("idle", "--port", 1, "--tls-insecure", "--tls-fingerprint", "SHA256:" + "0" * 64),
                       ("broadcast", "--port", 1, "--tls-fingerprint", "not-a-fingerprint"))
    result = run("bench", "broadcast", "--port", 1, "--tls", "--proto", "nats")
    assert result.stderr == b"dschat: --tls works with --proto line only\n", result.stderr


if __name__ == "__main__":
    run_tests(globals())
