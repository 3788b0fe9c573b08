"""Chaos case: 10,000 idle connections (`dschat bench idle`) sit in the chat room while a normal conversation
goes on. Every connection is held, the conversation loses nothing and counts the idle members online, and
the server's resident memory per held connection stays within the bound of its concurrency model."""

import time

from chaos import (MODE, BackgroundBench, bench, chat_server, cpu_seconds, figure, open_fds, raise_fd_limit,
                   sanitizer, scaled, thread_count, vm_rss_kib)  # puts tests/e2e on the path
from chat_helpers import WELCOME, log_count, stop_cleanly  # isort: skip
from harness import LineSocket, run_tests, wait_until  # isort: skip

IDLE = scaled(10000, 300)
TALKERS = 3  # clients of this test that join one after another and talk
# The conversation while the idle ones are held: every line also goes to each idle member, so half a line
# per second per chatter is already some 50,000 deliveries/s at full size.
CHATTERS = 10
LOAD = ("--clients", CHATTERS, "--rate", 5, "--duration", 4, "--warmup", 0.5)
HOLD_S = scaled(60, 30)  # how long bench holds them once connected: covers their acceptance and the conversation
OPEN_S = 120  # for all of them to be accepted and logged
# Resident memory per held connection, without a sanitizer's allocator. async: a session's heap is some
# 1.5 KiB — its one pending readiness wait (no coroutine while it is silent), the Session with its framer
# and limiter (0.6 KiB), its outbox's one kept block, epoll state, its room entry — plus the blocks freed
# after a burst of join notices, which the allocator keeps for reuse (2.4 KiB in all, debug build).
# threaded: the same state and two threads, the reader's with the 16 KiB read buffer on its stack, each
# with the stack pages it touched and glibc's thread descriptor and TLS.
MAX_KIB_PER_CONNECTION = {"async": 5.0, "threaded": 48.0}[MODE]


def join(port, online):
    """A talker: connects, and its welcome must count `online` members; returns (client, name)."""
    client = LineSocket(port, timeout=30)
    welcome = client.line()
    match = WELCOME.match(welcome)
    assert match, welcome
    assert int(match.group(2)) == online, f"welcome counts {match.group(2)} online, expected {online}"
    return client, match.group(1).decode()


def wait_quiet(server, timeout=120):
    """Waits until the server has used under 2 % of a core for 0.5 s: the join notices are all sent."""
    deadline = time.monotonic() + timeout
    while True:
        before = cpu_seconds(server.pid)
        server.pump(0.5)  # with nothing logged, this is the half second
        if cpu_seconds(server.pid) - before <= 0.01:
            return
        assert time.monotonic() < deadline, "the server never went quiet"


def talk_lines(client, count, talkers, timeout=30):
    """The next `count` lines from talkers that client receives, skipping notices and bench's lines."""
    prefixes = tuple(f"<{name}> ".encode() for _, name in talkers)
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        line = client.line(timeout=max(0.01, deadline - time.monotonic()))
        if line.startswith(prefixes):
            got.append(line)
    return got


def test_idle_connections_are_held_while_others_talk():
    raise_fd_limit(IDLE + 100)  # bench and the server inherit it (each raises its own further if it can)
    server, port = chat_server("--max-clients", IDLE + 100)
    # The same conversation once before: what it allocates for good (buffers, allocator pools) is then part
    # of the baseline, not charged to the idle connections.
    bench("broadcast", "--port", port, *LOAD)
    wait_until(lambda: log_count(server, b" disconnected: ") == CHATTERS, 30, "the first chatters' leave")
    wait_quiet(server)
    rss_before = vm_rss_kib(server.pid)

    idle = BackgroundBench("idle", "--port", port, "--clients", IDLE, "--duration", HOLD_S,
                           "--server-pid", server.pid)
    started = time.monotonic()
    while (joined := log_count(server, b" connected as ") - CHATTERS) < IDLE:
        late = f"{joined} of {IDLE} idle clients joined the room within {time.monotonic() - started:.0f} s"
        assert idle.running(), f"{late}, then bench let them go: {idle.proc.out!r} {idle.proc.err!r}"
        assert time.monotonic() - started < OPEN_S, late
        server.pump(0.1)
    opened_s = time.monotonic() - started
    figure(f"{IDLE} idle clients joined the room in", f"{opened_s:.1f}", "s")
    wait_quiet(server)  # every member has been sent every join notice
    rss_idle = vm_rss_kib(server.pid)
    per_connection_kib = (rss_idle - rss_before) / IDLE
    figure("server RSS before the idle connections", rss_before, "KiB")
    figure(f"server RSS with {IDLE} idle connections", rss_idle, "KiB")
    figure("server RSS per idle connection", f"{per_connection_kib:.2f}", "KiB")
    figure(f"server threads with {IDLE} idle connections", thread_count(server.pid))

    # Joining one after another, each talker is counted with every idle member.
    talkers = [join(port, IDLE + k) for k in range(1, TALKERS + 1)]
    for index, (client, _) in enumerate(talkers):
        client.send(f"hello from talker {index}\n")
    for index, (client, name) in enumerate(talkers):
        expected = {f"<{other}> hello from talker {i}".encode()
                    for i, (_, other) in enumerate(talkers) if i != index}
        assert set(talk_lines(client, TALKERS - 1, talkers)) == expected

    talk = bench("broadcast", "--port", port, *LOAD, "--server-pid", server.pid)
    assert talk["sent"] > 0 and talk["error"] is None, talk
    assert talk["delivered"] == talk["expected"] == talk["sent"] * (CHATTERS - 1), talk
    assert talk["lost"] == 0 and talk["order_violations"] == 0 and talk["duplicates"] == 0, talk
    figure(f"conversation beside {IDLE} idle: p99", f"{talk['latency_ns']['p99'] / 1e6:.2f}", "ms")
    figure(f"conversation beside {IDLE} idle: server CPU", f"{talk['server']['cpu_s']:.2f}", "s")

    # Still all held at the end of the conversation, as the server sees it too.
    assert idle.running(), "the idle connections were let go before the conversation ended"
    fds = open_fds(server.pid)
    assert fds >= IDLE + TALKERS, f"the server has {fds} descriptors open for {IDLE + TALKERS} clients"
    if MODE == "threaded":
        threads = thread_count(server.pid)
        assert threads >= 2 * (IDLE + TALKERS), threads  # a reader and a writer per client

    idle.pump_until_done(server, timeout=HOLD_S + 120)
    held = idle.result()
    assert held["error"] is None and held["first_failure"] is None, held
    assert held["opened"] == IDLE and held["held"] == IDLE, held
    figure("server RSS per idle connection after the conversation",
           f"{held['server']['rss_bytes_per_connection'] / 1024:.2f}", "KiB")
    checker = sanitizer()
    if checker:
        print(f"{checker}: its allocator's redzones and shadow memory, not the server's, set RSS: no bound")
    else:
        assert per_connection_kib <= MAX_KIB_PER_CONNECTION, \
            f"{per_connection_kib:.2f} KiB per connection > {MAX_KIB_PER_CONNECTION} KiB"

    wait_until(lambda: log_count(server, b" disconnected: ") >= 2 * CHATTERS + IDLE, 120,
               "every idle disconnection")
    stop_cleanly(server, *(client for client, _ in talkers))


if __name__ == "__main__":
    run_tests(globals())
