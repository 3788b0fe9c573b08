"""Chaos case: SIGTERM under full load. Clients chat flat out when the server is told to stop: every client
is told, the server exits 0 within the 2 s flush budget with no sanitizer report, and the load generator
reports the server going away instead of crashing or hanging."""

import re
import selectors
import signal
import threading
import time

from chaos import chat_server, figure, raise_fd_limit, scaled  # puts tests/e2e on the path
from chat_helpers import join, log_count  # isort: skip
from harness import assert_no_sanitizer_report, dschat, run_tests, wait_until  # isort: skip

SHUTDOWN = b"* server shutting down"
LOAD_CLIENTS = scaled(50, 10)
READERS = scaled(5, 3)
REPEATS = scaled(5, 2)
LOAD_LINE = re.compile(rb"^<guest-\d+> #b:")


class Readers:
    """Chat clients read by one thread until the server closes each of them: they keep up with the load,
    so that none of them is cut off as too slow before the shutdown notice."""

    def __init__(self, clients):
        self.clients = clients
        self.received = {id(client): bytearray(client.buffer) for client in clients}
        self.load_lines = {id(client): 0 for client in clients}
        self.error = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            selector = selectors.DefaultSelector()
            for client in self.clients:
                client.sock.setblocking(False)
                selector.register(client.sock, selectors.EVENT_READ, client)
            deadline = time.monotonic() + 120
            while selector.get_map() and time.monotonic() < deadline:
                for key, _ in selector.select(timeout=0.1):
                    chunk = key.fileobj.recv(1 << 16)
                    data = self.received[id(key.data)]
                    if not chunk:
                        selector.unregister(key.fileobj)
                        key.fileobj.close()  # as nc and dschat chat do on EOF: nobody waits for our FIN
                        continue
                    self.load_lines[id(key.data)] += chunk.count(b"> #b:")
                    data += chunk
        except Exception as error:  # noqa: BLE001 - handed to the test by join()
            self.error = error

    def join(self, timeout):
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the readers were not closed by the server"
        if self.error is not None:
            raise self.error

    def lines(self, client):
        return bytes(self.received[id(client)]).split(b"\n")


def shutdown_under_load():
    """One round: load, SIGTERM, checks. Returns the seconds from the signal to the server's exit and to the
    load generator's, and how many load lines each reader got before the notice."""
    server, port = chat_server("--rate", 0)
    readers = [join(port)[0] for _ in range(READERS)]
    reading = Readers(readers)
    load = dschat("bench", "broadcast", "--port", port, "--clients", LOAD_CLIENTS, "--rate", 0,
                  "--duration", 60, "--warmup", 0)
    try:
        # Full load: every load client is in and each reader has seen a good share of the load's lines.
        wait_until(lambda: log_count(server, b" connected as ") >= READERS + LOAD_CLIENTS, 30,
                   "the load clients")
        wait_until(lambda: min(reading.load_lines.values()) >= 2000, 30, "the load to flow")
        assert load.popen.poll() is None, load.err
        started = time.monotonic()
        server.signal(signal.SIGTERM)
        code = server.wait(timeout=10)
        elapsed = time.monotonic() - started
        reading.join(timeout=10)
        load_code = load.wait(timeout=15)
        load_after = time.monotonic() - started
    finally:
        load.stop()

    assert code == 0, server.err[-2000:]
    assert_no_sanitizer_report(server)
    for index, client in enumerate(readers):
        lines = reading.lines(client)
        assert lines[-1] == b"", f"reader {index} got a cut line: {lines[-1][:60]!r}"
        assert SHUTDOWN in lines, f"reader {index}: no shutdown notice; last lines {lines[-4:]}"
        # The notice is the last line: no chat line, no leave notice after it.
        after = lines[lines.index(SHUTDOWN) + 1:-1]
        assert after == [], f"reader {index}: {len(after)} lines after the notice, first {after[:3]}"
        before = lines[:lines.index(SHUTDOWN)]
        assert sum(1 for line in before if LOAD_LINE.match(line)) >= 2000, f"reader {index}: little load"
    # Everyone was disconnected by the shutdown, none cut off as too slow before it. (A load client may
    # leave on its own in the meantime: the generator quits at the first connection the server closes.)
    disconnects = re.findall(rb"disconnected: ([^\n]*?) after", server.err)
    assert len(disconnects) == READERS + LOAD_CLIENTS, server.err[-3000:]
    allowed = {b"server shutting down", b"shutdown", b"eof", b"connection reset"}
    assert set(disconnects) <= allowed, disconnects
    assert disconnects.count(b"server shutting down") + disconnects.count(b"shutdown") >= READERS, disconnects

    # The load generator noticed the server going away at once, said so in one line and did not crash.
    assert load_code == 1, (load_code, load.err)
    assert re.fullmatch(rf"dschat: connection to 127\.0\.0\.1:{port} closed by the server during the run\n"
                        .encode(), load.err), load.err
    assert load_after < 10, f"the load generator ran {load_after:.1f} s after the signal"
    assert b"broadcast 127.0.0.1:" in load.out, load.out
    delivered = sum(reading.load_lines.values()) // READERS
    return elapsed, load_after, delivered


def test_sigterm_under_full_load_tells_everyone_and_exits_in_time():
    raise_fd_limit(LOAD_CLIENTS + READERS + 64)
    rounds = [shutdown_under_load() for _ in range(REPEATS)]
    slowest = max(elapsed for elapsed, _, _ in rounds)
    figure(f"shutdown under load: rounds of {LOAD_CLIENTS} flat-out clients + {READERS} readers", REPEATS)
    figure("shutdown under load: least load lines per reader before the notice",
           min(delivered for _, _, delivered in rounds))
    figure("shutdown under load: slowest exit after SIGTERM", f"{slowest:.2f}", "s")
    figure("shutdown under load: slowest load generator exit after SIGTERM",
           f"{max(load_after for _, load_after, _ in rounds):.2f}", "s")
    assert slowest < 2.0, f"exit {slowest:.2f} s after SIGTERM"


if __name__ == "__main__":
    run_tests(globals())
