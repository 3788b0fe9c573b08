"""Chaos case: clients that never read (--max-queue, docs/protocol.md). One stuck client is watched while its queue
fills: it stays until the queue holds --max-queue bytes, then it is cut. Clients that do read are not cut
when the server, held up for a second, wakes to a backlog. Then 1, 10 and 100 stuck clients sit in the room
while 50 others chat: the 50 get every line and keep their latency, every stuck client is cut off during
the chat, and the server's memory stays bounded by the queue limit."""

import re
import signal
import socket
import time

from chaos import (ESTABLISHED, BackgroundBench, assert_latency_kept, assert_no_loss, bench,  # puts tests/e2e on the path
                   chat_server, figure, raise_fd_limit, sanitizer, scaled, tcp_socket, unread_bytes, vm_rss_kib)  # puts tests/e2e on the path
from chat_helpers import lines_until, log_count, stop_cleanly  # isort: skip
from harness import LineSocket, run_tests, wait_until  # isort: skip

MAX_QUEUE = 64 * 1024
LIMIT = ("--max-queue", "64KiB")
TOO_SLOW = b"too slow: send queue over 64 KiB"
LEFT = b"* guest-1 left (" + TOO_SLOW + b")"
LOGGED = re.compile(rb"([+-]) 127\.0\.0\.1:(\d+) (?:connected as (\S+)|(\S+) disconnected: (.+?) after ([\d.]+) s, )")

# The chat while the stuck clients sit in the room: 10 lines/s per chatter, within the default --rate.
# The payload is large enough that each stuck client is sent some 130-200 KB/s and fills up within the run.
CHATTERS = scaled(50, 20)
LOAD = ("--clients", CHATTERS, "--rate", scaled(500, 200), "--payload", scaled(256, 1024),
        "--duration", scaled(4, 3), "--warmup", 0.5)
STUCK_COUNTS = scaled((1, 10, 100), (1, 10))
PAUSE_S = 1.0
# Resident memory the server may add over the calm run with N stuck clients: each one's full queue twice
# over (a queued line also costs bookkeeping and allocator overhead), 64 KiB per connection for buffers
# (and, threaded, its two threads' stacks), and allocator slack — larger under AddressSanitizer.
PER_STUCK_KIB = 2 * MAX_QUEUE // 1024 + 64
SLACK_KIB = scaled(8 * 1024, 48 * 1024)


def stuck_client(port):
    """A client that never reads, with a 4 KiB receive buffer and 536-byte segments, as from a slow distant
    client. Linux sizes the server's send buffer from the segment size: with loopback's 64 KiB segments the
    kernel alone would take some 3 MB per stuck client before the server's queue grew at all."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    return sock


def unsent_in_kernel(sock, server_port):
    """Bytes the server has written to the kernel for sock that sock has not read (its receive queue plus
    the server side's send queue); None when the server's end is no longer established."""
    unread = unread_bytes(sock)
    side = tcp_socket(server_port, sock.getsockname()[1])
    if side is None or side[0] != ESTABLISHED:
        return None
    return unread + side[1]


def connections(server):
    """{client port: (name, reason or None, seconds connected or None)} from the server's log so far."""
    server.pump(0.01)
    seen = {}
    for event in LOGGED.finditer(server.err):  # in order: a port may be used again by a later client
        if event[1] == b"+":
            seen[int(event[2])] = (event[3], None, None)
        else:
            seen[int(event[2])] = (event[4], event[5], float(event[6]))
    return seen


def reason(server, sock):
    """Why the server disconnected sock, or None while it has not."""
    return connections(server).get(sock.getsockname()[1], (None, None, None))[1]


def wait_connected(server, sock):
    """Waits until the server has logged sock's connection (the threaded server may log them out of
    order); returns its name."""
    wait_until(lambda: sock.getsockname()[1] in connections(server), 10, "a connection")
    return connections(server)[sock.getsockname()[1]][0]


def reported(server, measure):
    """bench's figures from measure(); a failed run also reports the server's state and log."""
    try:
        return measure()
    except AssertionError as failure:
        server.pump(0.5)
        raise AssertionError(f"{failure}; server exit status {server.popen.poll()}, log ends "
                             f"{server.err[-3000:]!r}") from None


def test_a_stuck_client_stays_until_its_queue_holds_max_queue():
    server, port = chat_server(*LIMIT, "--rate", 0)
    stuck = stuck_client(port)
    assert wait_connected(server, stuck) == b"guest-1"
    writer = LineSocket(port)
    welcome = writer.line()
    reader = LineSocket(port)
    reader.line()
    joined = writer.line()
    assert joined == b"* guest-3 joined", joined
    # The stuck client (guest-1) has a welcome of the writer's length and two notices of this length.
    sent_to_stuck = len(welcome) + 1 + 2 * (len(joined) + 1)
    wait_until(lambda: unsent_in_kernel(stuck, port) == sent_to_stuck, 10, "the stuck client's notices")

    # Lines of 111 bytes as relayed, 16 at a time; after each batch the reader has them all, so the server
    # has queued them for the stuck client too: what the kernel does not hold is in the server's queue.
    relayed = 111
    batch = 16
    queued_before_cut = 0
    left_seen = False
    held = 0
    sent = 0
    for first in range(0, (MAX_QUEUE + 8 * 1024 * 1024) // relayed, batch):
        lines = [f"{i:06d} ".ljust(relayed - 11, "s") for i in range(first, first + batch)]
        writer.send("".join(line + "\n" for line in lines))
        for line in lines:
            got = reader.line()
            if got == LEFT:  # the cut may come between two lines of a batch
                left_seen = True
                got = reader.line()
            assert got == f"<guest-2> {line}".encode(), got[:60]
        sent = first + batch
        sent_to_stuck += batch * relayed
        in_kernel = unsent_in_kernel(stuck, port)
        if left_seen or in_kernel is None or reason(server, stuck) is not None:
            break  # cut
        if sent_to_stuck - in_kernel > MAX_QUEUE + batch * relayed:
            break  # past the limit: the cut must follow at once
        held = in_kernel
        queued_before_cut = max(queued_before_cut, sent_to_stuck - in_kernel)
    wait_until(lambda: reason(server, stuck) is not None, 5, "the stuck client's cut")
    name, why, _ = connections(server)[stuck.getsockname()[1]]
    assert (name, why) == (b"guest-1", TOO_SLOW), (name, why, sent)
    figure("one stuck client: queued by the server when cut", f"{queued_before_cut / 1024:.1f}", "KiB")
    figure("one stuck client: held by the kernel when cut", f"{held / 1024:.1f}", "KiB")
    # Cut only once its queue was (nearly) full: the threaded server also counts a blocked write's lines
    # (up to 64 of them) that the kernel has partly taken, so allow that much and two batches.
    assert queued_before_cut >= MAX_QUEUE - 64 * relayed - 2 * batch * relayed, queued_before_cut

    assert left_seen or lines_until(reader, LEFT) == []
    writer.send("still fine\n")
    assert reader.line() == b"<guest-2> still fine"
    stop_cleanly(server, stuck, writer, reader)


def test_readers_that_keep_up_are_not_cut_after_a_server_pause():
    # A server held up (descheduled, swapping) wakes to a backlog of lines and fans it all out at once:
    # whoever reads is not too slow, whatever its writer had no turn to send yet.
    server, port = chat_server(*LIMIT)
    load = ("--clients", 20, "--rate", 200, "--payload", 1024, "--duration", 3, "--warmup", 0.5)
    chat = BackgroundBench("broadcast", "--port", port, *load, "--server-pid", server.pid)
    wait_until(lambda: chat.running() and log_count(server, b" connected as ") >= 20, 20, "the chatters")
    pump_for(server, chat, 1.0)  # into the measured part of the chat
    server.signal(signal.SIGSTOP)
    try:
        pump_for(server, chat, PAUSE_S)  # the chatters go on sending: 200 KB of lines wait
    finally:
        server.signal(signal.SIGCONT)
    chat.pump_until_done(server)
    cut = server.err.count(TOO_SLOW)
    figure(f"server paused {PAUSE_S:g} s under a chat: readers cut", cut)
    assert cut == 0, server.err[-2000:]
    assert_no_loss(reported(server, chat.result))
    stop_cleanly(server)


def pump_for(server, chat, seconds):
    """Lets seconds pass while draining the server's and bench's output."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        chat.running()
        server.pump(min(0.05, max(0.0, deadline - time.monotonic())))


def stuck_phase(count):
    """One server: a calm chat, then the same chat with `count` stuck clients in the room."""
    raise_fd_limit(2 * (count + CHATTERS) + 64)
    server, port = chat_server(*LIMIT)
    calm = reported(server, lambda: bench("broadcast", "--port", port, *LOAD, "--server-pid", server.pid))
    assert_no_loss(calm)
    rss_calm = vm_rss_kib(server.pid)

    stuck = [stuck_client(port) for _ in range(count)]
    ports = [sock.getsockname()[1] for sock in stuck]
    wait_until(lambda: all(p in connections(server) for p in ports), 10, f"{count} stuck clients")
    attacked_chat = BackgroundBench("broadcast", "--port", port, *LOAD, "--server-pid", server.pid)
    attacked_chat.pump_until_done(server)
    attacked = reported(server, attacked_chat.result)
    assert_no_loss(attacked)
    what = f"{count} stuck"

    wait_until(lambda: all(connections(server)[p][1] is not None for p in ports), 5, "every stuck client's cut")
    seen = connections(server)
    cut = [seen[p] for p in ports if seen[p][1] == TOO_SLOW]
    figure(f"{what}: stuck clients cut", f"{len(cut)} of {count}")
    assert len(cut) == count, [seen[p] for p in ports if seen[p][1] != TOO_SLOW]
    assert server.err.count(TOO_SLOW) == count, "a chatter was cut too"
    for p in ports:  # the server let go of them, whatever they do
        side = tcp_socket(port, p)
        assert side is None or side[0] != ESTABLISHED, side
    slowest = max((seconds for _, _, seconds in cut), default=0)
    figure(f"{what}: slowest cut after connecting", f"{slowest:.2f}", "s")

    peak, after = attacked["server"]["peak_rss_kib"], attacked["server"]["rss_after_kib"]
    bound = rss_calm + count * PER_STUCK_KIB + SLACK_KIB
    figure(f"{what}: server peak RSS", f"{peak / 1024:.1f}", "MiB")
    figure(f"{what}: server RSS growth over calm", f"{(max(peak, after) - rss_calm) / 1024:.1f}", "MiB")
    if sanitizer() == "tsan":  # its shadow memory and thread histories, not the queues, set the RSS
        print(f"note: {what}: memory bound not checked under ThreadSanitizer", flush=True)
    else:
        assert peak <= bound and after <= bound, (rss_calm, peak, after, bound)
    stop_cleanly(server, *stuck)
    assert_latency_kept(calm, attacked, what)


def test_stuck_readers_are_cut_while_the_others_chat():
    for count in STUCK_COUNTS:
        stuck_phase(count)


if __name__ == "__main__":
    run_tests(globals())
