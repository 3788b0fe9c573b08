"""The chat's flood limit tells the paced client once, and logs it; nothing is dropped. Both chat servers.
It counts bytes as well as lines: long lines within the line rate are paced by their bytes."""

import time

from harness import LineSocket, run_tests, start_server

CHAT_SERVERS = {
    "async": ("serve", "--mode", "async"),
    "threaded": ("serve", "--mode", "threaded", "--service", "chat"),
}


def check_paced_member_is_told_once(mode):
    server, port = start_server(*CHAT_SERVERS[mode], "--rate", "40/s", "--burst", 5, "--port", 0)
    flooder = LineSocket(port, timeout=10)
    assert flooder.line().startswith(b"* welcome guest-1")
    reader = LineSocket(port, timeout=10)
    assert reader.line().startswith(b"* welcome guest-2")
    assert flooder.line() == b"* guest-2 joined"
    flooder.send(b"".join(b"flood %d\n" % i for i in range(30)))
    assert [reader.line() for _ in range(30)] == [b"<guest-1> flood %d" % i for i in range(30)]
    assert flooder.line() == b"! slow down: more than 40 lines/s, reading paused"
    flooder.send(b"/who\n")
    assert flooder.line().startswith(b"* 2 online")  # told once only: nothing else came in between
    server.wait_output(rb"127\.0\.0\.1:\d+ paced: more than 40 lines/s", stream="err")
    assert server.err.count(b" paced: ") == 1, server.err
    flooder.close()
    reader.close()
    server.stop()


def test_async_chat_tells_a_paced_member_once():
    check_paced_member_is_told_once("async")


def test_threaded_chat_tells_a_paced_member_once():
    check_paced_member_is_told_once("threaded")


def check_long_lines_are_paced_by_their_bytes(mode):
    # 12 lines of 2,000 bytes: far below 100 lines/s, but 24 KB against 8 KiB at once and 8 KiB/s after.
    server, port = start_server(*CHAT_SERVERS[mode], "--rate-bytes", "8KiB", "--burst-bytes", "8KiB",
                                "--port", 0)
    flooder = LineSocket(port, timeout=10)
    assert flooder.line().startswith(b"* welcome guest-1")
    reader = LineSocket(port, timeout=10)
    assert reader.line().startswith(b"* welcome guest-2")
    flooder.send(b"hi\n")
    assert reader.line() == b"<guest-1> hi"  # the reader is in the room
    lines = [b"%02d" % i + b"x" * 1998 for i in range(12)]
    started = time.monotonic()
    flooder.send(b"".join(line + b"\n" for line in lines))
    assert [reader.line() for _ in lines] == [b"<guest-1> " + line for line in lines]  # none dropped
    # The first four fit in the burst; the other eight (16 KB) wait for the budget: at least 1.5 s.
    assert time.monotonic() - started >= 1.5
    assert flooder.line() == b"! slow down: more than 8 KiB/s, reading paused"
    server.wait_output(rb"127\.0\.0\.1:\d+ paced: more than 8 KiB/s, reading paused", stream="err")
    flooder.close()
    reader.close()
    server.stop()


def test_async_chat_paces_long_lines_by_their_bytes():
    check_long_lines_are_paced_by_their_bytes("async")


def test_threaded_chat_paces_long_lines_by_their_bytes():
    check_long_lines_are_paced_by_their_bytes("threaded")


if __name__ == "__main__":
    run_tests(globals())
