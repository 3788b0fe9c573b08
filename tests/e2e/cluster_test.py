"""serve --mode async --relay: several dschat servers share one room through a real nats-server that the
test starts on a free loopback port (docs/cluster.md). Heartbeats are 200 ms, so a dead server is found
within 0.7 s and every test takes seconds."""

import re
import signal
import time

from chat_helpers import WELCOME, async_server, lines_until, wait_log
from cluster_helpers import (HEARTBEAT, ROOM, cluster, lines_seen, member, next_line, start_broker, views_until,
                             who_until)
from harness import LineSocket, assert_silent, assert_timing, run, run_tests


def test_relay_flags_are_checked():
    for args, text in [
        (["serve", "--mode", "threaded", "--relay", "nats://127.0.0.1:4222/r", "--node", "a"], b"async only"),
        (["serve", "--mode", "async", "--relay", "nats://127.0.0.1/r", "--node", "a"], b"bad URL"),
        (["serve", "--mode", "async", "--relay", "http://127.0.0.1:4222/r", "--node", "a"], b"bad URL"),
        (["serve", "--mode", "async", "--relay", "nats://127.0.0.1:4222/r", "--node", "A_b"], b"bad name"),
        (["serve", "--mode", "async", "--relay", "nats://127.0.0.1:4222/r"], b"needs --node"),
        (["serve", "--mode", "async", "--node", "a"], b"need --relay"),
        (["serve", "--mode", "async", "--service", "echo", "--relay", "nats://h:1/r", "--node", "a"],
         b"chat service only"),
        (["serve", "--mode", "async", "--relay", "nats://h:1/r", "--node", "a", "--relay-heartbeat", "5"],
         b"--relay-heartbeat"),
    ]:
        result = run(*args, "--port", 0)
        assert result.returncode == 2, (args, result)
        assert result.stderr.count(b"\n") == 1 and text in result.stderr, (args, result.stderr)


def test_broker_down_at_start_is_not_fatal():
    broker, broker_port = start_broker()
    broker.stop()  # a port nobody listens on now
    proc, port = async_server("--relay", f"nats://127.0.0.1:{broker_port}/{ROOM}", "--node", "a",
                              "--relay-heartbeat", "200ms")
    wait_log(proc, "relay: cannot reach")
    one, _ = member(port)
    two, two_name = member(port)
    two.send("still here\n")
    assert next_line(one, b"<") == f"<{two_name}> still here".encode()
    # The broker comes up on that port: the server finds it by itself.
    start_broker(broker_port)
    wait_log(proc, "relay: connected to", timeout=10)


def test_chat_crosses_servers_once_in_order_without_echo():
    _, _, servers, clients = cluster(["a", "b", "c"])
    a, b, c = clients["a"], clients["b"], clients["c"]
    assert sorted(who_until(b, 3)) == ["guest-1@a", "guest-1@b", "guest-1@c"]
    for i in range(30):
        a.send(f"line {i}\n")
    b.send("/me waves\n")
    lines_of_a = [f"<guest-1@a> line {i}".encode() for i in range(30)]
    assert [next_line(b, b"<") for _ in range(30)] == lines_of_a
    # c hears both: each sender's lines in its order, however the two interleave.
    got = [next_line(c, b"<") for _ in range(31)]
    assert [line for line in got if line.startswith(b"<guest-1@a>")] == lines_of_a, got
    assert [line for line in got if line.startswith(b"<guest-1@b>")] == [b"<guest-1@b> *waves*"], got
    assert next_line(a, b"<") == b"<guest-1@b> *waves*"
    # No duplicates and no echo: after a marker from c, nothing else of a's or b's came or comes.
    c.send("marker\n")
    assert lines_until(a, b"<guest-1@c> marker") == []
    assert_silent(a, wait=0.3)
    assert_silent(c, wait=0.1)
    # Names are unique across the servers.
    a.send("/nick alice\n")
    assert next_line(b, b"* guest-1@a") == b"* guest-1@a is now alice"
    assert next_line(a, b"* guest-1@a") == b"* guest-1@a is now alice"
    c.send("/nick Alice\n")
    assert next_line(c, b"! ").startswith(b"! name taken: Alice")
    assert sorted(who_until(c, 3)) == ["alice", "guest-1@b", "guest-1@c"]
    # A newcomer's welcome counts every server.
    late = LineSocket(servers["b"][1])
    match = WELCOME.match(late.line())
    assert match and match.group(2) == b"4", match


def test_one_name_granted_on_two_servers_at_once_stays_with_one():
    broker, _, _, clients = cluster(["a", "b", "c"])
    a, b, c = clients["a"], clients["b"], clients["c"]
    # Both servers grant alice before either hears of the other's claim: the broker holds both claims
    # (for milliseconds, far inside the ping deadline) so that the two are concurrent in every run.
    broker.signal(signal.SIGSTOP)
    try:
        a.send("/nick alice\n")
        b.send("/nick alice\n")
        assert next_line(a, b"* guest-1@a") == b"* guest-1@a is now alice"
        assert next_line(b, b"* guest-1@b") == b"* guest-1@b is now alice"
    finally:
        broker.signal(signal.SIGCONT)
    # The earlier claim (clock, then node name) keeps alice everywhere; the other member is renamed back.
    taken = {node: next_line(client, b"* alice ") for node, client in (("a", a), ("b", b))}
    losers = [node for node, line in taken.items() if b" is taken on server " in line]
    assert len(losers) == 1, taken
    loser = losers[0]
    winner = "b" if loser == "a" else "a"
    assert taken[loser] == f"* alice is taken on server {winner} \u2014 you are guest-1@{loser} again".encode()
    assert taken[winner] == f"* alice is now guest-1@{loser}".encode()
    seen = lines_seen(c, b"* guest-1@a is now alice", b"* guest-1@b is now alice", b"* alice is now guest-1@")
    assert seen[-1] == f"* alice is now guest-1@{loser}".encode(), seen
    views_until([a, b, c], ["alice", f"guest-1@{loser}", "guest-1@c"])
    # /who NAME answers from the cluster's view: members of the other servers are online.
    for query, answer in [("ALICE", "* alice is online"), (f"guest-1@{loser}", f"* guest-1@{loser} is online"),
                          (f"guest-1@{winner}", f"! guest-1@{winner} is not online"),
                          ("guest-1@c", "* guest-1@c is online"), ("bob", "! bob is not online")]:
        c.send(f"/who {query}\n")
        assert next_line(c, answer[:2].encode()) == answer.encode(), query


def test_kill_9_leaves_in_one_notice_within_three_and_a_half_heartbeats():
    _, _, servers, clients = cluster(["a", "b"])
    second, _ = member(servers["b"][1])
    who_until(clients["a"], 3)
    killed_at = time.monotonic()
    servers["b"][0].kill()
    line = next_line(clients["a"], b"* 2 left")
    took = time.monotonic() - killed_at
    assert line == b"* 2 left (server b unreachable)", line
    assert_timing(took <= 3.5 * HEARTBEAT + 0.3, f"dead server found after {took:.2f} s")
    assert_silent(clients["a"], wait=4 * HEARTBEAT)  # one notice, no more
    assert who_until(clients["a"], 1) == ["guest-1@a"]


def test_sigterm_says_bye_at_once():
    _, _, servers, clients = cluster(["a", "b"])
    stopped_at = time.monotonic()
    servers["b"][0].signal(signal.SIGTERM)
    line = next_line(clients["a"], b"* 1 left")
    took = time.monotonic() - stopped_at
    assert line == b"* 1 left (server b shutting down)", line
    assert_timing(took < 3.5 * HEARTBEAT, f"bye took {took:.2f} s")
    assert servers["b"][0].wait() == 0


def test_broker_restart_local_chat_goes_on_and_the_link_comes_back():
    broker, broker_port, servers, clients = cluster(["a", "b"])
    local, local_name = member(servers["a"][1])
    who_until(clients["a"], 3)
    broker.kill()
    local.send("during the outage\n")
    assert next_line(clients["a"], b"<") == f"<{local_name}> during the outage".encode()
    next_line(clients["a"], b"* lost the link to the other servers")
    next_line(clients["b"], b"* lost the link to the other servers")
    start_broker(broker_port)
    restored = next_line(clients["a"], b"* link restored")
    # The counts are what a knows half a second after its reconnect: b may come back later.
    assert re.fullmatch(rb"\* link restored \xe2\x80\x94 [12] servers?, [23] online", restored), restored
    next_line(clients["b"], b"* link restored")
    who_until(clients["a"], 3)
    who_until(clients["b"], 3)
    clients["b"].send("after\n")
    assert next_line(clients["a"], b"<guest-1@b>") == b"<guest-1@b> after"
    assert next_line(local, b"<guest-1@b>") == b"<guest-1@b> after"


def test_stopped_broker_is_found_by_the_ping_deadline():
    broker, _, servers, clients = cluster(["a", "b"])
    broker.signal(signal.SIGSTOP)  # its TCP connections stay open: only the missing PONGs tell
    try:
        wait_log(servers["a"][0], "relay: lost the link to .*no PONG from the broker", timeout=10)
        next_line(clients["a"], b"* lost the link to the other servers")
    finally:
        broker.signal(signal.SIGCONT)
    next_line(clients["a"], b"* link restored", timeout=15)
    who_until(clients["a"], 2)
    clients["b"].send("back\n")
    assert next_line(clients["a"], b"<guest-1@b>") == b"<guest-1@b> back"


if __name__ == "__main__":
    run_tests(globals())
