"""dschat bench end to end: the real binary loads real servers over loopback (dschat's own, and where
installed the peers it is compared with: the Python reference servers, ncat --chat) and must report what
they really did — no loss against a correct server, consistent JSON, a server that dies or stalls
reported instead of a hang or a crash."""

import json
import re
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import harness
from harness import Proc, Skip, dschat, free_port, run, run_tests, start_server

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PEERS = os.path.join(ROOT, "bench", "peers")  # the Python reference servers
# A short flat-out run still carries thousands of lines, enough for every check of check_clean_load.
SMALL = ("--clients", 5, "--duration", 0.5, "--warmup", 0.1)


def bench(*args, timeout=60):
    """Runs dschat bench with a JSON file; returns (CompletedProcess, parsed JSON or None)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "result.json")
        result = run("bench", *args, "--json", path, timeout=timeout)
        data = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        return result, data


def check_latency(latency):
    assert latency["count"] > 0, latency
    assert 0 < latency["min"] <= latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["p999"] \
        <= latency["max"], latency


def check_clean_load(result, data, clients, fanout):
    """A correct server under a small load: every measured line arrives, once, in order, and the JSON
    agrees with itself and with the summary."""
    assert result.returncode == 0, result
    assert result.stderr == b"", result.stderr  # a pipe gets no progress line
    assert data is not None and data["error"] is None, data
    assert data["clients"] == clients and data["senders"] == clients
    assert data["sent"] > 0, data
    assert data["expected"] == data["sent"] * fanout, data
    assert data["delivered"] == data["expected"] and data["lost"] == 0 and data["loss_ratio"] == 0, data
    assert data["order_violations"] == 0 and data["duplicates"] == 0 and data["unexpected"] == 0, data
    assert data["measured_s"] > 0
    assert abs(data["deliveries_per_s"] - data["delivered"] / data["measured_s"]) < 1e-6 * data["delivered"]
    check_latency(data["latency_ns"])
    assert data["latency_ns"]["count"] == data["delivered"]
    assert data["generator"]["cpu_s"] >= 0 and data["generator"]["wall_s"] > 0
    assert f"lost 0 ".encode() in result.stdout, result.stdout


def check_server_figures(data, pid):
    server = data["server"]
    assert server is not None and server["pid"] == pid, data
    assert server["cpu_s"] >= 0 and server["peak_rss_kib"] > 0, server
    assert server["cpu_s_per_1m"] is not None and server["cpu_s_per_1m"] >= 0, server


def start_peer(script):
    """Starts a Python reference server from bench/peers on a free port."""
    path = os.path.join(PEERS, script)
    port = free_port()
    proc = Proc([sys.executable, "-u", path, str(port), "127.0.0.1"])
    proc.wait_output(r"listening on")
    return proc, port


def test_broadcast_against_dschat_async_chat():
    server, port = start_server("serve", "--mode", "async", "--service", "chat", "--rate", 0, "--port", 0)
    result, data = bench("broadcast", "--port", port, *SMALL, "--server-pid", server.pid)
    check_clean_load(result, data, 5, 4)
    check_server_figures(data, server.pid)
    assert data["scenario"] == "broadcast" and data["window"] == 32 and data["payload"] == 64
    for text in (b"broadcast 127.0.0.1:", b"deliveries", b"p99", b"CPU-s per 1M deliveries", b"generator"):
        assert text in result.stdout, result.stdout


def test_broadcast_flat_out_against_dschat_threaded_chat():
    # Client threads queue for each other and one of them writes for all (the combining flush): under a
    # flat-out load no line may be left waiting in a queue that nobody writes. On one core (the threads
    # inherit the main thread's affinity), as the comparison runs it, where a woken writer can find its
    # work done by another thread before it runs.
    server, port = start_server("serve", "--mode", "threaded", "--service", "chat", "--rate", 0, "--port", 0)
    os.sched_setaffinity(server.pid, {min(os.sched_getaffinity(0))})
    result, data = bench("broadcast", "--port", port, "--clients", 10, "--duration", 2, "--warmup", 0.3,
                         "--drain", 5, "--server-pid", server.pid)
    check_clean_load(result, data, 10, 9)
    check_server_figures(data, server.pid)


def test_broadcast_paced_with_fewer_senders():
    server, port = start_server("serve", "--mode", "async", "--rate", 0, "--port", 0)
    result, data = bench("broadcast", "--port", port, "--clients", 6, "--senders", 2, "--rate", 200,
                         "--duration", 1.5, "--warmup", 0.3, "--payload", 100)
    assert result.returncode == 0, result
    assert data["senders"] == 2 and data["rate"] == 200
    assert data["expected"] == data["sent"] * 5 and data["lost"] == 0, data
    # 200 msgs/s for 1.5 s: the schedule, not the server, sets how many were sent.
    assert 150 <= data["sent"] <= 310, data
    check_latency(data["latency_ns"])
    assert b"200 msgs/s offered" in result.stdout


def test_broadcast_with_a_client_that_never_reads():
    server, port = start_server("serve", "--mode", "async", "--rate", 0, "--port", 0)
    result, data = bench("broadcast", "--port", port, "--clients", 4, "--stuck", 1, "--rate", 400,
                         "--duration", 1.5, "--warmup", 0, "--server-pid", server.pid)
    assert result.returncode == 0, result
    assert data["stuck"] == 1 and data["clients"] == 4, data
    assert data["expected"] == data["sent"] * 3 and data["lost"] == 0, data  # the stuck one is not counted
    assert b"4 clients (+1 that never read)" in result.stdout, result.stdout
    assert data["server"]["rss_before_kib"] > 0 and data["server"]["rss_after_kib"] > 0
    # The stuck client connected first (guest-1) and never sent a line.
    server.wait_output(rb"guest-1 disconnected: [^\n]*, 0 lines in", stream="err")


def test_broadcast_against_python_chat_peer():
    server, port = start_peer("py_chat_server.py")
    result, data = bench("broadcast", "--port", port, *SMALL, "--server-pid", server.pid)
    check_clean_load(result, data, 5, 4)  # tokens are found behind its "HOST:PORT: " prefix
    check_server_figures(data, server.pid)


def test_broadcast_against_ncat_chat():
    if shutil.which("ncat") is None:
        raise Skip("ncat not installed")
    port = free_port()
    server = Proc(["ncat", "-l", "127.0.0.1", str(port), "--chat"])
    deadline = time.monotonic() + 10
    while True:  # ncat says nothing when it is ready: wait until it accepts
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "ncat did not start"
            time.sleep(0.05)
    # ncat prefixes whole read chunks ("<user3> " before several lines) and announces joins.
    result, data = bench("broadcast", "--port", port, *SMALL)
    check_clean_load(result, data, 5, 4)


def test_echo_against_dschat_echo_services():
    for mode in ("async", "threaded"):
        server, port = start_server("serve", "--mode", mode, "--service", "echo", "--rate", 0, "--port", 0)
        result, data = bench("echo", "--port", port, *SMALL, "--server-pid", server.pid)
        check_clean_load(result, data, 5, 1)
        check_server_figures(data, server.pid)
        assert data["window"] == 1
        assert b"round trips" in result.stdout and b"rtt" in result.stdout, result.stdout
        server.signal(signal.SIGTERM)
        assert server.wait(10) == 0, server.err[-2000:]


def test_echo_against_python_threaded_peer():
    server, port = start_peer("py_threaded_echo.py")
    result, data = bench("echo", "--port", port, *SMALL, "--window", 4)
    check_clean_load(result, data, 5, 1)


def test_the_floor_servers_relay_and_echo_every_line():
    # dschat-floor is the yardstick of scripts/bench-compare: a floor that lost or mangled lines would make
    # every comparison with it wrong.
    floor = os.environ.get("DSCHAT_FLOOR") or os.path.join(os.path.dirname(harness.DSCHAT), "dschat-floor")
    if not os.path.exists(floor):
        raise Skip(f"{floor} not built")
    for kind, scenario, fanout in (("relay", "broadcast", 4), ("echo", "echo", 1)):
        server = Proc([floor, kind, "0"])
        port = int(server.wait_output(harness.LISTENING).group(2))
        result, data = bench(scenario, "--port", port, *SMALL, "--server-pid", server.pid)
        check_clean_load(result, data, 5, fanout)
        check_server_figures(data, server.pid)
        server.signal(signal.SIGTERM)
        assert server.wait(10) == 0
    result = subprocess.run([floor, "gossip"], capture_output=True, timeout=10)
    assert result.returncode == 2 and b"usage: dschat-floor echo|relay [PORT]" in result.stderr, result


def test_bench_compare_quick_writes_its_report_with_the_servers_taking_turns():
    # scripts/bench-compare end to end, kept short: one quick case measured for half a second, two runs,
    # dschat's async chat server, the floor built beside it and the NATS broker (measured with --proto nats),
    # taking turns within each run.
    if shutil.which("nats-server") is None:
        raise Skip("nats-server not installed")
    script = os.path.join(ROOT, "scripts", "bench-compare")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "benchmarks.md")
        result = subprocess.run(
            [sys.executable, script, "--quick", "--runs", "2", "--duration", "0.5", "--only", "^broadcast-10$",
             "--servers",
             "^(dschat async|floor.*|NATS)$", "--dschat", harness.DSCHAT, "--out", out, "--no-pin"],
            capture_output=True, timeout=180)
        assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:])
        order = re.findall(rb"broadcast-10 \xc2\xb7 (.+?) \xc2\xb7 run (\d)/2", result.stdout)
        servers = [b"dschat async", b"floor (minimal relay)", b"NATS"]
        assert order == [(name, run) for run in (b"1", b"2") for name in servers], result.stdout
        with open(out, encoding="utf-8") as f:
            report = f.read()
        assert "broadcast, 10 clients all sending flat out" in report, report
        assert "dschat async" in report and "NATS" in report, report
        assert "scripts/bench-compare --quick --runs 2 --duration 0.5" in report, report
        with open(os.path.splitext(out)[0] + ".json", encoding="utf-8") as f:
            saved = json.load(f)
    names = sorted(entry["server"]["name"] for entry in saved["results"])
    assert names == ["NATS", "dschat async", "floor (minimal relay)"], names  # none other, none skipped
    for entry in saved["results"]:
        assert entry["skipped"] is None and len(entry["runs"]) == 2, entry
        for run in entry["runs"]:
            assert run["exit"] == 0 and run["error"] is None, run
            assert run["proto"] == entry["server"]["proto"], run
            assert run["sent"] > 0 and run["delivered"] == run["expected"] and run["lost"] == 0, run
            assert run["server"]["cpu_s_per_1m"] is not None, run


def test_idle_holds_connections_and_measures_memory():
    server, port = start_server("serve", "--mode", "async", "--port", 0)
    result, data = bench("idle", "--port", port, "--clients", 200, "--duration", 1,
                         "--server-pid", server.pid)
    assert result.returncode == 0, result
    assert data["scenario"] == "idle" and data["opened"] == 200 and data["held"] == 200, data
    assert data["first_failure"] is None and data["error"] is None
    s = data["server"]
    assert s["rss_before_kib"] > 0 and s["rss_after_kib"] > 0, s
    assert s["rss_bytes_per_connection"] == (s["rss_after_kib"] - s["rss_before_kib"]) * 1024 / 200, s
    assert b"200 opened, 200 held, all in after " in result.stdout, result.stdout
    # All in: every client got the chat server's welcome, after the run began and before it ended.
    assert 0 < data["all_in_s"] < data["generator"]["wall_s"], data


def test_idle_against_a_silent_server_reports_no_all_in_time():
    server, port = start_server("serve", "--mode", "async", "--service", "echo", "--port", 0)
    result, data = bench("idle", "--port", port, "--clients", 20, "--duration", 0.5)
    assert result.returncode == 0, result
    assert data["held"] == 20 and data["all_in_s"] is None, data
    assert b"all in" not in result.stdout, result.stdout


def start_nats():
    """A NATS broker on a free port of its own choosing (-p -1), read from its ports file."""
    if shutil.which("nats-server") is None:
        raise Skip("nats-server not installed")
    folder = tempfile.mkdtemp()
    broker = Proc(["nats-server", "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", folder])
    deadline = time.monotonic() + 10
    while True:
        names = [name for name in os.listdir(folder) if name.endswith(".ports")]
        if names:
            with open(os.path.join(folder, names[0]), encoding="utf-8") as f:
                text = f.read()
            if text.strip():
                shutil.rmtree(folder)
                return broker, int(json.loads(text)["nats"][0].rsplit(":", 1)[1])
        assert time.monotonic() < deadline and broker.popen.poll() is None, broker.err[-2000:]
        broker.pump(0.05)  # waiting for the ports file, with the broker's output collected meanwhile


def start_redis():
    """A Redis server on a free port, without persistence."""
    if shutil.which("redis-server") is None:
        raise Skip("redis-server not installed")
    port = free_port()
    broker = Proc(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no"])
    broker.wait_output(r"Ready to accept connections")
    return broker, port


def test_the_brokers_relay_echo_and_hold_every_client():
    for start, proto in ((start_nats, "nats"), (start_redis, "redis")):
        broker, port = start()
        result, data = bench("broadcast", "--proto", proto, "--port", port, *SMALL, "--server-pid", broker.pid)
        check_clean_load(result, data, 5, 4)  # Redis also sends a sender its own lines: not counted
        check_server_figures(data, broker.pid)
        assert data["proto"] == proto and f"({proto})".encode() in result.stdout, result.stdout
        result, data = bench("echo", "--proto", proto, "--port", port, *SMALL)
        check_clean_load(result, data, 5, 1)
        result, data = bench("idle", "--proto", proto, "--port", port, "--clients", 50, "--duration", 0.5)
        assert result.returncode == 0 and data["held"] == 50, data
        assert data["all_in_s"] is not None and data["all_in_s"] > 0, data  # every subscription confirmed
        broker.stop()


class ClosingServer:
    """A server that accepts everyone but closes every connection after the first `keep`."""

    def __init__(self, keep):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.keep = keep
        self.kept = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            while True:
                conn, _ = self.listener.accept()
                if len(self.kept) < self.keep:
                    self.kept.append(conn)
                else:
                    conn.close()
        except OSError:
            pass

    def close(self):
        for conn in self.kept:
            conn.close()
        self.listener.close()


def test_idle_reports_connections_the_server_closed():
    server = ClosingServer(keep=6)
    try:
        result, data = bench("idle", "--port", server.port, "--clients", 10, "--duration", 1)
    finally:
        server.close()
    assert result.returncode == 1, result
    assert data["opened"] == 10 and data["held"] == 6, data
    assert data["first_failure"] == "closed by the server", data
    expected = f"dschat: 127.0.0.1:{server.port} held 6 of 10 connections\n"
    assert result.stderr == expected.encode(), result.stderr


def test_connection_refused_exits_1():
    port = free_port()
    for scenario in ("broadcast", "echo", "idle"):
        result = run("bench", scenario, "--port", port, "--duration", 1)
        assert result.returncode == 1, result
        expected = f"dschat: cannot connect to 127.0.0.1:{port}: connection refused\n"
        assert result.stderr == expected.encode(), result.stderr
        assert result.stdout == b""


def end_server_mid_run(server, port, how, *flags):
    """Starts a 30 s broadcast load against port, ends server (started with -v) with signal how once its
    lines are relayed, and checks the load fails at once with exit 1; returns the load."""
    load = dschat("bench", "broadcast", "--port", port, "--clients", 4, "--rate", 400, "--duration", 30,
                  "--warmup", 0, *flags)
    server.wait_output(r"#b:\d+:\d+:", stream="err", timeout=20)  # load lines are being relayed
    started = time.monotonic()
    server.signal(how)
    assert load.wait(timeout=15) == 1, load.err
    assert time.monotonic() - started < 10  # reported at once, not at the end of --duration
    return load


def test_server_killed_mid_run_is_reported():
    server, port = start_server("serve", "--mode", "async", "--rate", 0, "--port", 0, "-v")
    load = end_server_mid_run(server, port, signal.SIGKILL)
    assert load.err.startswith(f"dschat: connection to 127.0.0.1:{port} ".encode()), load.err
    assert b"during the run" in load.err and load.err.count(b"\n") == 1, load.err
    assert b"broadcast 127.0.0.1:" in load.out  # what was measured so far is still shown


def test_stalled_server_is_bounded_by_drain_and_reports_loss():
    server, port = start_server("serve", "--mode", "async", "--rate", 0, "--port", 0, "-v")
    load = dschat("bench", "broadcast", "--port", port, "--clients", 3, "--rate", 300, "--duration", 2,
                  "--warmup", 0, "--drain", 0.5)
    server.wait_output(r"#b:\d+:\d+:", stream="err", timeout=20)
    server.signal(signal.SIGSTOP)
    try:
        assert load.wait(timeout=20) == 0, load.err
    finally:
        server.signal(signal.SIGCONT)
    assert re.search(rb"lost [1-9]\d* ", load.out), load.out


def test_wrong_kind_of_server_is_named():
    server, port = start_server("serve", "--mode", "async", "--service", "echo", "--rate", 0, "--port", 0)
    result = run("bench", "broadcast", "--port", port, "--clients", 3, "--duration", 1, timeout=40)
    assert result.returncode == 1, result
    assert result.stderr == (f"dschat: 127.0.0.1:{port} did not relay a line to every other client within "
                             f"10 s: is it a chat server?\n").encode(), result.stderr


def check_usage_errors(*cases):
    """Each case (the arguments after `dschat bench`) is refused with exit 2 and one line on stderr."""
    for args in cases:
        result = run("bench", *args)
        assert result.returncode == 2, (args, result)
        assert result.stderr.startswith(b"dschat: "), (args, result.stderr)
        assert result.stderr.count(b"\n") == 1, (args, result.stderr)


def test_usage_errors_exit_2():
    check_usage_errors(("broadcast",), ("broadcast", "--port", 1, "--clients", 1), ("bogus", "--port", 1),
                       ("echo", "--port", 1, "--window", 0), ("idle", "--port", 1, "--server-pid", -3))


def test_missing_server_pid_is_an_error():
    server, port = start_server("serve", "--mode", "async", "--port", 0)
    result = run("bench", "idle", "--port", port, "--server-pid", 999999999)
    assert result.returncode == 1, result
    assert result.stderr == b"dschat: no process 999999999 to measure (--server-pid)\n", result.stderr


if __name__ == "__main__":
    run_tests(globals())
