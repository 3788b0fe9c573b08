"""The kernel's view of loopback TCP sockets (/proc/net/tcp and tcp6), for the benchmark scripts: they wait
for a condition with a deadline (a port listening, the connections a server holds, nothing left in flight)
rather than for a guessed time. Read from /proc, never tried with a connection: a chat server would count
(and announce) that connection as a client."""

import time

LISTEN = "0A"
ESTABLISHED = "01"


def sockets():
    """Every TCP socket as (local port, remote port, state, bytes in its send queue, bytes in its receive
    queue); state as /proc writes it (LISTEN, ESTABLISHED)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as f:
                rows = [line.split() for line in f.readlines()[1:]]
        except OSError:
            continue
        for row in rows:
            tx_queue, rx_queue = row[4].split(":")
            yield (int(row[1].rsplit(":", 1)[1], 16), int(row[2].rsplit(":", 1)[1], 16), row[3],
                   int(tx_queue, 16), int(rx_queue, 16))


def listening(port):
    """Whether a socket listens on port."""
    return any(local == port and state == LISTEN for local, _, state, _, _ in sockets())


def held(port):
    """The connections a server listening on port holds (established, counted at the server's end)."""
    return sum(1 for local, _, state, _, _ in sockets() if local == port and state == ESTABLISHED)


def in_flight(port):
    """Bytes on the connections to port that one end has written and the other not yet read (both ends'
    queues)."""
    return sum(tx + rx for local, remote, state, tx, rx in sockets()
               if port in (local, remote) and state == ESTABLISHED)


def wait_for(condition, timeout, what, poll=0.05):
    """Polls condition() until it is true; RuntimeError naming what after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not within {timeout:g} s")
        time.sleep(poll)
