"""dschat bench --connect: clients spread round robin over several servers, here two real dschat servers
joined through a real nats-server (docs/cluster.md); the report gives same-server and cross-server latency
apart, and a correct cluster loses, duplicates and reorders nothing."""

from bench_test import bench, check_latency
from cluster_helpers import start_broker, start_node
from harness import run, run_tests


def refused(*args):
    result = run("bench", "broadcast", *args)
    assert result.returncode == 2, result
    assert result.stdout == b"", result
    assert result.stderr.count(b"\n") == 1, result.stderr
    return result.stderr.decode().rstrip("\n")


def test_connect_flag_errors_exit_2_with_one_line():
    assert refused("--connect", "127.0.0.1") == \
        "dschat: --connect: bad server '127.0.0.1': no :PORT (HOST:PORT, comma-separated)"
    assert refused("--connect", "127.0.0.1:0") == \
        "dschat: --connect: bad server '127.0.0.1:0': the port must be 1-65535 (HOST:PORT, comma-separated)"
    assert refused("--connect", "127.0.0.1:8001,,127.0.0.1:8002") == \
        "dschat: --connect: empty server in the list (HOST:PORT, comma-separated)"
    assert refused("--connect", "127.0.0.1:8001", "--port", "8002").startswith(
        "dschat: --connect replaces --host and --port")
    assert refused("--clients", "3") == "dschat: --port is required (see dschat bench --help)"
    assert "broadcast and echo only" in run("bench", "idle", "--connect", "127.0.0.1:1,127.0.0.1:2").stderr.decode()


def test_broadcast_over_two_clustered_servers_reports_both_latency_groups():
    broker, broker_port = start_broker()
    # --rate 0: no per-client flood limit, as in bench_test.
    nodes = [start_node(broker_port, node, "--rate", 0) for node in ("a", "b")]
    ports = [port for _, port in nodes]
    targets = ",".join(f"127.0.0.1:{port}" for port in ports)
    clients = 6
    pids = [proc.pid for proc, _ in nodes] + [broker.pid]
    result, data = bench("broadcast", "--connect", targets, "--clients", clients, "--rate", 300,
                         "--duration", 1.5, "--warmup", 0.5, "--drain", 5,
                         *(arg for pid in pids for arg in ("--server-pid", pid)))
    assert result.returncode == 0, result
    assert data is not None and data["error"] is None, data
    assert data["target"] == targets and data["servers"] == 2, data
    assert data["sent"] > 0 and data["expected"] == data["sent"] * (clients - 1), data
    # No loss, no duplicate, no reordering per sender, nothing echoed to its sender.
    assert data["delivered"] == data["expected"] and data["lost"] == 0, data
    assert data["duplicates"] == 0 and data["order_violations"] == 0 and data["unexpected"] == 0, data
    same, cross = data["same_server_latency_ns"], data["cross_server_latency_ns"]
    check_latency(same)
    check_latency(cross)
    # Round robin: clients 0, 2, 4 on a, 1, 3, 5 on b; each line reaches 2 on its server, 3 on the other.
    assert same["count"] + cross["count"] == data["delivered"], data
    assert same["count"] * 3 == cross["count"] * 2, data
    text = result.stdout.decode()
    assert f"broadcast {targets}" in text and "lost 0 " in text, text
    assert "\nsame-server  p50 " in text and "\ncross-server p50 " in text, text
    # Every --server-pid is measured over the same window, in the order given: both servers relay (each
    # used CPU), and so does the broker.
    measured = [data["server"]] + data["more_servers"]
    assert [process["pid"] for process in measured] == pids, data
    for process in measured:
        assert process["cpu_s"] > 0 and process["cpu_s_per_1m"] > 0 and process["peak_rss_kib"] > 0, process
        assert f"server       pid {process['pid']}: " in text, text


if __name__ == "__main__":
    run_tests(globals())
