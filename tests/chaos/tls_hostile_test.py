"""Chaos case: hostile TLS clients (async mode only: TLS belongs to the async server). Against serve --tls,
waves of clients each do one hostile thing, picked at random with a fixed seed: plaintext bytes on the TLS
port, half a ClientHello then silence, a RST in the middle of the handshake, a completed handshake and then
never a read while the room chats, a stream cut without close_notify in the middle of a line. Meanwhile
well-behaved TLS clients (dschat bench --tls) chat and a TLS watcher reads the room. The chatters get every
line once and in order, nothing of a cut line is relayed, every hostile connection is closed and logged
with its reason, and the server answers and holds the descriptors and members it held before."""

import collections
import random
import re
import socket
import ssl
import threading
import time

from chaos import (MODE, BackgroundBench, assert_no_loss, chat_server, figure, open_fds,  # puts tests/e2e on the path
                   raise_fd_limit, reset, scaled)
from chat_helpers import log_count, stop_cleanly, wait_log  # isort: skip
from harness import connect, run_tests, wait_until  # isort: skip
from tls_test import FINGERPRINT, TlsClient, join_tls, line_matching  # isort: skip

HOSTILE = scaled(200, 40)
WAVE = scaled(20, 8)  # hostile clients started together
WAVE_GAP_S = 0.3  # between two waves: the attack lasts HOSTILE / WAVE x this, within the chat
HANDSHAKE_TIMEOUT_S = 2
CHATTERS = scaled(10, 5)
CHAT_S = HOSTILE // WAVE * WAVE_GAP_S + 3  # the chat outlasts the attack
LOAD = ("--clients", CHATTERS, "--rate", 20, "--duration", CHAT_S, "--warmup", 1)
SEED = 20261207
KINDS = ("plaintext", "half a ClientHello", "RST mid-handshake", "never reads", "cut mid-line")
PLAINTEXT = (b"hello in clear\n", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00\x01\x02\x03", b"/nick mallory\n")
DISCONNECTED = re.compile(rb" disconnected: (.+?)(?:: it sent .*)? after [\d.]+ s, ")
CUT_MARK = b"cut-partial"  # in every line that a stream cut without close_notify leaves unterminated


def hello_part(rng, client):
    """Starts client's handshake and returns its ClientHello cut at a random byte (never whole)."""
    try:
        client.tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = client.outgoing.read()
    return hello[:rng.randint(1, len(hello) - 1)]


class Watcher(threading.Thread):
    """A TLS member that reads the room in a thread of its own until stopped, keeping every line."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.client, self.name = join_tls(port)
        self.lines = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                self.lines.append(self.client.line(timeout=0.2))
            except (AssertionError, TimeoutError):
                pass  # nothing within 0.2 s: look at halt again

    def stop(self):
        """Stops the thread; the client is the caller's from then on."""
        self.halt.set()
        self.join(timeout=10)
        assert not self.is_alive()


class Attack:
    """The hostile clients: each wave starts WAVE of them, each doing what its kind says."""

    def __init__(self, port):
        self.port = port
        self.rng = random.Random(SEED)
        self.counts = dict.fromkeys(KINDS, 0)
        self.to_be_closed = []  # raw sockets the server must close: plaintext, half hellos, cut streams
        self.never_reading = []  # TlsClients with a completed handshake that read nothing
        self.cut = []  # (name, number) of the clients cut mid-line

    def wave(self, first, count):
        for number in range(first, first + count):
            kind = self.rng.choice(KINDS)
            self.counts[kind] += 1
            if kind == "plaintext":
                sock = connect(self.port)
                sock.sendall(self.rng.choice(PLAINTEXT))
                self.to_be_closed.append(sock)
            elif kind == "half a ClientHello":
                client = TlsClient(self.port)
                client.sock.sendall(hello_part(self.rng, client))
                self.to_be_closed.append(client.sock)
            elif kind == "RST mid-handshake":
                client = TlsClient(self.port)
                client.sock.sendall(hello_part(self.rng, client))
                reset(client.sock)
            elif kind == "never reads":
                self.never_reading.append(TlsClient(self.port).handshake())
            else:
                client, name = join_tls(self.port)
                client.send(b"whole %d\n%s %d" % (number, CUT_MARK, number))
                # The TCP stream ends without close_notify. A FIN, not a close(): with the room's lines
                # unread, close() would send a RST, and a cut is what this client is about.
                client.sock.shutdown(socket.SHUT_WR)
                self.to_be_closed.append(client.sock)
                self.cut.append((name, number))

    def assert_all_closed_by_the_server(self, timeout):
        """Every socket in to_be_closed is closed by the server (EOF, or a RST for one that sent bytes the
        server did not read) within timeout, reading and dropping what it was sent."""
        deadline = time.monotonic() + timeout
        for sock in self.to_be_closed:
            while True:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    if not sock.recv(65536):
                        break
                except ConnectionResetError:
                    break
            sock.close()


def test_hostile_tls_clients_while_others_chat():
    assert MODE == "async", "TLS is the async server's: this case runs in async mode only"
    raise_fd_limit(HOSTILE + CHATTERS + 64)
    server, port = chat_server("--tls", "--handshake-timeout", HANDSHAKE_TIMEOUT_S)
    server.wait_output(FINGERPRINT)
    watcher = Watcher(port)
    fds_before = open_fds(server.pid)
    watcher.start()
    before = log_count(server, b" connected as ")
    chat = BackgroundBench("broadcast", "--port", port, *LOAD, "--tls", "--tls-insecure", "--server-pid",
                           server.pid)
    wait_until(lambda: chat.running() and log_count(server, b" connected as ") >= before + CHATTERS, 30,
               "the chatters")

    attack = Attack(port)
    started = time.monotonic()
    for first in range(0, HOSTILE, WAVE):
        attack.wave(first, min(WAVE, HOSTILE - first))
        due = time.monotonic() + WAVE_GAP_S
        while (left := due - time.monotonic()) > 0:
            chat.running()  # drains bench's output
            server.pump(left)
    attack_s = time.monotonic() - started
    attack.assert_all_closed_by_the_server(HANDSHAKE_TIMEOUT_S + 10)
    chat.pump_until_done(server)
    chatted = chat.result()
    assert_no_loss(chatted, "the TLS chatters")  # every line, once, in order

    for client in attack.never_reading:
        reset(client.sock)
    watcher.stop()
    seen = watcher.lines
    for name, number in attack.cut:
        assert f"<{name}> whole {number}".encode() in seen, (name, number)
    assert not any(CUT_MARK in line for line in seen), [line for line in seen if CUT_MARK in line][:5]

    expected = {"client does not speak TLS": attack.counts["plaintext"],
                "TLS handshake timed out": attack.counts["half a ClientHello"]}
    for name, _ in attack.cut:
        wait_log(server, re.escape(f"{name} disconnected: closed without TLS close_notify".encode()))
    for reason, count in expected.items():
        wait_until(lambda: log_count(server, f" disconnected: {reason}".encode()) == count, 10,
                   f"{count} x '{reason}' in the log")
    resets = attack.counts["RST mid-handshake"] + attack.counts["never reads"]
    wait_until(lambda: log_count(server, b" disconnected: connection reset") >= resets, 10,
               f"{resets} resets in the log")
    reasons = collections.Counter(reason.decode() for reason in DISCONNECTED.findall(server.err))
    print(f"disconnect reasons: {dict(reasons)}", flush=True)

    # The server answers, with the members and descriptors it had before.
    wait_until(lambda: open_fds(server.pid) == fds_before, 30, f"server descriptors back to {fds_before}")
    watcher.client.send("/who\n")
    assert line_matching(watcher.client, rb"\* \d+ online") == f"* 1 online: {watcher.name}".encode()
    newcomer, name = join_tls(port)
    newcomer.send("still answering\n")
    line_matching(watcher.client, re.escape(f"<{name}> still answering".encode()) + b"$")
    newcomer.close_notify()
    for kind, count in attack.counts.items():
        figure(f"tls hostile: {kind}", count, "clients")
    figure("tls hostile: attack length", f"{attack_s:.1f}", "s")
    figure("tls hostile: chat lines delivered under attack", chatted["delivered"])
    watcher.client.close_notify()
    stop_cleanly(server)


if __name__ == "__main__":
    run_tests(globals())
