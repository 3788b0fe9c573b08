"""Joins and leaves that cost the room nothing (docs/protocol.md, "Joins and leaves"): a join is announced
after the newcomer's first second or with its first line, a connection that comes and goes silently is
never announced, and in a room over --big-room members joins and leaves become one summary every 10 s."""

import time

from chat_helpers import join, lines_until, log_count, raw_welcome, stop_cleanly
from harness import connect, run_tests, start_server, wait_until

SILENT_CYCLES = 100  # connections that come and go without a line


def chat_server(mode, *flags):
    return start_server("serve", "--mode", mode, "--service", "chat", "--port", 0, *flags)


def silent_churn_is_never_announced(mode):
    server, port = chat_server(mode)
    canary, _ = join(port)
    for _ in range(SILENT_CYCLES):
        sock = connect(port)
        raw_welcome(sock)
        sock.close()
    wait_until(lambda: log_count(server, b" disconnected: ") == SILENT_CYCLES, 10, "the silent ones gone")
    talker, name = join(port)
    talker.send(b"hi\n")
    # The talker is announced with its first line; none of the hundred before it is, nor their leaving.
    assert canary.line() == f"* {name} joined".encode()
    assert canary.line() == f"<{name}> hi".encode()

    # A newcomer that stays silent is announced after a second, to those who were there before it only.
    started = time.monotonic()
    _, quiet = join(port)
    assert canary.line(timeout=5) == f"* {quiet} joined".encode()
    assert time.monotonic() - started >= 0.9
    assert talker.line() == f"* {quiet} joined".encode()
    stop_cleanly(server, canary, talker)


def test_async_silent_churn_is_never_announced():
    silent_churn_is_never_announced("async")


def test_threaded_silent_churn_is_never_announced():
    silent_churn_is_never_announced("threaded")


def big_room_gets_a_summary(mode):
    server, port = chat_server(mode, "--big-room", 5)
    canary, _ = join(port)
    members = [join(port) for _ in range(7)]
    for client, _ in members:
        client.send(b"hello\n")  # announced at once: in a room of 8 over 5, counted for the summary
    # Chat lines still go one by one (from different senders, in any order in the threaded server).
    got = sorted(canary.line() for _ in members)
    assert got == sorted(f"<{name}> hello".encode() for _, name in members), got
    for client, _ in members[:2]:
        client.close()
    # No notice one by one: one summary, 10 s after the first join it counts. The canary's own join is
    # among them: it was announced after its first second, when the room already had 8 members.
    summary = "* 8 joined, 2 left in the last 10 s \u2014 6 online".encode()
    assert lines_until(canary, summary, timeout=15) == []
    before = lines_until(members[2][0], summary, timeout=5)
    assert len(before) == 6 and all(line.endswith(b"> hello") for line in before), before
    stop_cleanly(server, canary, *(client for client, _ in members[2:]))


def test_async_big_room_gets_a_summary():
    big_room_gets_a_summary("async")


def test_threaded_big_room_gets_a_summary():
    big_room_gets_a_summary("threaded")


if __name__ == "__main__":
    run_tests(globals())
