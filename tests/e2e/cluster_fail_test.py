"""serve --mode async --relay when things fail (docs/cluster.md, failure matrix): a server restarted after
kill -9, a stopped server cut by the broker as a slow consumer, and partitions through a pausable TCP
proxy between one server and the broker. Real nats-server, 200 ms heartbeats."""

import re
import signal

from chat_helpers import lines_past_kernel_buffers, wait_log
from cluster_helpers import cluster, lines_seen, member, next_line, start_broker, start_node, views_until
from harness import TcpProxy, run_tests

LOST = re.compile(rb"^\* (\d+) lines? or membership changes? from server (\w+) (?:was|were) lost$")


def lost_from(lines, node):
    """How many events the lost notices among lines report missing from node."""
    return sum(int(m.group(1)) for m in map(LOST.match, lines) if m and m.group(2) == node.encode())


def test_restart_after_kill_9_is_a_new_epoch_without_ghosts():
    _, broker_port, servers, clients = cluster(["a", "b"])
    a = clients["a"]
    old, _ = member(servers["b"][1])  # guest-2@b of the old start, connected until the kill
    views_until([a], ["guest-1@a", "guest-1@b", "guest-2@b"])
    servers["b"][0].kill()
    old.close()
    # Restarted at once, with the same node name: its guest numbers start again at 1.
    _, port = start_node(broker_port, "b")
    fresh, fresh_name = member(port)
    assert fresh_name == "guest-1@b"
    # The old start's members leave in one notice: at once for the new epoch, or after 3.5 heartbeats when
    # the restart took longer than that.
    left = next_line(a, b"* 2 left")
    assert left in (b"* 2 left (server b restarted)", b"* 2 left (server b unreachable)"), left
    views_until([a, fresh], ["guest-1@a", "guest-1@b"])
    a.send("to the new b\n")
    assert next_line(fresh, b"<") == b"<guest-1@a> to the new b"
    fresh.send("to a\n")
    assert next_line(a, b"<") == b"<guest-1@b> to a"
    # No ghost comes back later either (a late roster or heartbeat of the old start).
    views_until([a, fresh], ["guest-1@a", "guest-1@b"])


def test_stopped_server_is_cut_as_a_slow_consumer_and_comes_back():
    # A broker that gives a client little room: 256 KiB pending, or a write stuck for 100 ms, is too slow.
    broker, broker_port = start_broker(config='write_deadline: "100ms"\nmax_payload: 65536\nmax_pending: 262144\n')
    servers = {node: start_node(broker_port, node, "--rate", "0") for node in ("a", "b")}
    a, _ = member(servers["a"][1])
    b, _ = member(servers["b"][1])
    views_until([a, b], ["guest-1@a", "guest-1@b"])
    stopped = servers["b"][0]
    stopped.signal(signal.SIGSTOP)
    text = "x" * 4000
    count = lines_past_kernel_buffers(len(text) + 100)  # bounded: a few MB, more than the sockets hold
    try:
        next_line(a, b"* 1 left (server b unreachable)")
        for i in range(count):
            a.send(f"{i} {text}\n")
        broker.wait_output("Slow Consumer Detected", stream="err")
    finally:
        stopped.signal(signal.SIGCONT)
    # b finds its connection closed, reconnects by itself and is back on a; chat goes both ways.
    wait_log(stopped, "(?s)relay: lost the link to .*relay: connected to")
    next_line(a, b"* 1 are back (server b)")
    a.send("after\n")
    # What b shows of the flood is true: a's lines in order, none twice, and the rest reported lost.
    got = []
    lost = 0
    while (line := b.line()) != b"<guest-1@a> after":
        if line.startswith(b"<guest-1@a> "):
            got.append(line)
        else:
            lost += lost_from([line], "a")
    # (a's own queue may still hold lines when b comes back: those arrive after the gap, in order.)
    numbers = [int(line.split(b" ")[1]) for line in got]
    assert got == [f"<guest-1@a> {i} {text}".encode() for i in numbers], len(got)
    assert numbers == sorted(set(numbers)), numbers
    assert lost > 0 and len(got) + lost == count, (len(got), lost, count)
    b.send("back\n")
    assert next_line(a, b"<") == b"<guest-1@b> back"
    views_until([a, b], ["guest-1@a", "guest-1@b"])


def partition_then_heal(heal):
    """Server a on the broker, server b behind a TcpProxy, three members each. The proxy holds every byte:
    both sides find the other gone and go on locally (members leave, join, chat, and both grant alice);
    then heal(proxy) ends the partition and both sides must end with one view: no duplicate names, no
    ghosts, chat across."""
    _, broker_port = start_broker()
    proxy = TcpProxy(broker_port)
    ports = {"a": start_node(broker_port, "a")[1], "b": start_node(proxy.port, "b")[1]}
    members = {node: [member(port)[0] for _ in range(2)] for node, port in ports.items()}
    a, b = members["a"][0], members["b"][0]
    views_until([a, b], ["guest-1@a", "guest-2@a", "guest-1@b", "guest-2@b"])
    proxy.pause()
    lines_seen(a, b"* 2 left (server b unreachable)")
    lines_seen(b, b"* 2 left (server a unreachable)", b"* lost the link to the other servers")
    for node, client in (("a", a), ("b", b)):
        members[node][1].close()  # guest-2 leaves: it must not stay anywhere as a ghost
        next_line(client, f"* guest-2@{node} left".encode())
        newcomer, name = member(ports[node])
        members[node].append(newcomer)  # kept open: it stays
        assert name == f"guest-3@{node}"
        newcomer.send(f"only on {node}\n")
        assert next_line(client, b"<") == f"<guest-3@{node}> only on {node}".encode()
        client.send("/nick alice\n")  # nobody holds it on this side
        assert next_line(client, f"* guest-1@{node}".encode()) == f"* guest-1@{node} is now alice".encode()
    heal(proxy)
    # One alice keeps the name; the other member is renamed back, and told.
    seen = {node: lines_seen(client, b"* alice is ") for node, client in (("a", a), ("b", b))}
    taken = {node: lines[-1] for node, lines in seen.items()}
    # b missed a's four events of the partition (a leave, a join, a line, a nick), and is told just that;
    # b's own were queued while its link was down and reach a late.
    assert lost_from(seen["b"], "a") == 4, seen["b"]
    assert lost_from(seen["a"], "b") == 0, seen["a"]
    losers = [node for node, line in taken.items() if b" is taken on server " in line]
    assert len(losers) == 1, taken
    loser = losers[0]
    assert taken[loser].endswith(f"you are guest-1@{loser} again".encode()), taken
    views_until([a, b], ["alice", f"guest-1@{loser}", "guest-3@a", "guest-3@b"])
    names = {node: "alice" if node != loser else f"guest-1@{node}" for node in ("a", "b")}
    a.send("reunited\n")
    assert next_line(b, f"<{names['a']}> ".encode()) == f"<{names['a']}> reunited".encode()
    b.send("reunited too\n")
    assert next_line(a, f"<{names['b']}> ".encode()) == f"<{names['b']}> reunited too".encode()


def test_partition_through_a_paused_proxy_heals_on_resume():
    partition_then_heal(lambda proxy: proxy.resume())


def test_partition_healed_by_cutting_the_connections_then_resuming():
    def heal(proxy):
        proxy.cut()  # what the proxy held is dropped, not delivered late
        proxy.resume()

    partition_then_heal(heal)


if __name__ == "__main__":
    run_tests(globals())
