"""Helpers the cluster tests share (docs/cluster.md): a real nats-server on a free loopback port, dschat
servers in one room with 200 ms heartbeats, members, /who and notices. Not a test file."""

import glob
import json
import os
import re
import shutil
import tempfile
import time

from chat_helpers import WELCOME, async_server, wait_log
from harness import LineSocket, Proc, Skip

HEARTBEAT = 0.2
ROOM = "lobby"
WHO = re.compile(rb"^\* (\d+) online \((\d+) here\): (.*)$")


def nats_server():
    path = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if not os.access(path, os.X_OK):
        raise Skip("nats-server is not installed (Debian package nats-server)")
    return path


def start_broker(port=None, config=None):
    """Starts nats-server on 127.0.0.1 (a free port, or port), with the settings of config (the text of a
    nats-server configuration file) if given; returns (proc, port) once it listens."""
    directory = tempfile.mkdtemp(prefix="dschat-nats-")
    args = [nats_server(), "-a", "127.0.0.1", "-p", str(port or -1), "--ports_file_dir", directory]
    if config is not None:
        path = os.path.join(directory, "nats.conf")
        with open(path, "w", encoding="utf-8") as file:
            file.write(config)
        args += ["-c", path]
    proc = Proc(args)  # not a dschat server: the teardown ends it by pid with SIGKILL
    deadline = time.monotonic() + 10
    while True:
        files = glob.glob(os.path.join(directory, "nats-server_*.ports"))
        if files:
            try:
                with open(files[0], encoding="utf-8") as ports:
                    url = json.load(ports)["nats"][0]
                break
            except (ValueError, KeyError, IndexError):
                pass  # written but not complete yet
        assert proc.popen.poll() is None, proc.err
        assert time.monotonic() < deadline, f"nats-server wrote no ports file; stderr={proc.err!r}"
        proc.pump(0.02)
    return proc, int(url.rsplit(":", 1)[1])


def start_node(broker_port, node, *flags):
    """Starts a dschat server in the room as node; returns (proc, port) once it is connected to the broker."""
    proc, port = async_server("--relay", f"nats://127.0.0.1:{broker_port}/{ROOM}", "--node", node,
                              "--relay-heartbeat", f"{int(HEARTBEAT * 1000)}ms", *flags)
    wait_log(proc, f"relay: connected to nats://127.0.0.1:{broker_port} \\(room {ROOM}, node {node}\\)")
    return proc, port


def member(port):
    """A chat client that has said something (so it is announced at once); returns (client, name)."""
    client = LineSocket(port)
    match = WELCOME.match(client.line())
    assert match
    client.send("/help\n")  # speaking announces a newcomer without the second's wait
    client.line()
    return client, match.group(1).decode()


def who(client):
    """Asks /who; returns (total, names)."""
    client.send("/who\n")
    line = client.line()
    while not line.startswith(b"* ") or b" online (" not in line:
        line = client.line()  # notices of others joining may come first
    match = WHO.match(line)
    assert match, line
    return int(match.group(1)), match.group(3).decode().split(", ")


def who_until(client, total, timeout=10):
    """Asks /who until it counts total members; returns the names it lists."""
    deadline = time.monotonic() + timeout
    while True:
        count, names = who(client)
        if count == total:
            return names
        assert time.monotonic() < deadline, f"/who never counted {total}: {names}"
        time.sleep(0.05)


def views_until(clients, names, timeout=10):
    """Asks /who on each client (one per server) until every one lists exactly names, in any order."""
    deadline = time.monotonic() + timeout
    for client in clients:
        while True:
            count, listed = who(client)
            if count == len(names) and sorted(listed) == sorted(names):
                break
            assert time.monotonic() < deadline, f"/who never listed {sorted(names)}: {sorted(listed)}"
            time.sleep(0.05)


def next_line(client, prefix, timeout=10):
    """Skips lines until one that starts with prefix; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        line = client.line(timeout=max(0.01, deadline - time.monotonic()))
        if line.startswith(prefix):
            return line


def lines_seen(client, *prefixes, timeout=10):
    """Reads lines until one starting with each prefix has come, in any order; returns every line read."""
    deadline = time.monotonic() + timeout
    lines = []
    waiting = list(prefixes)
    while waiting:
        line = client.line(timeout=max(0.01, deadline - time.monotonic()))
        lines.append(line)
        waiting = [prefix for prefix in waiting if not line.startswith(prefix)]
    return lines


def cluster(nodes):
    """A broker and one server per node name, each with one member; waits until every /who lists all."""
    broker, broker_port = start_broker()
    servers = {}
    for node in nodes:
        servers[node] = start_node(broker_port, node)
    clients = {node: member(port)[0] for node, (proc, port) in servers.items()}
    for client in clients.values():
        who_until(client, len(nodes))
    return broker, broker_port, servers, clients
