"""Shared pieces of the chaos suite: every case file runs as `python3 <case>_test.py DSCHAT MODE` and
attacks the real server in MODE (async or threaded) with bounded hostile load, then asserts figures.

DSCHAT_CHAOS_SIZE=small (the sanitizer builds) shrinks every count; FIGURE lines in the output are the
numbers docs/robustness.md quotes."""

import fcntl
import json
import os
import resource
import struct
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))

from harness import (assert_timing, cpu_seconds, read_to_eof, reset, run, sanitizer_build,  # noqa: E402,F401
                     start_server, vm_rss_kib)  # (re-exported)

MODE = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("DSCHAT_MODE", "async")
SMALL = os.environ.get("DSCHAT_CHAOS_SIZE", "full") == "small"

# p99 under attack may be at most LATENCY_FACTOR x the calm p99 measured just before on the same server,
# plus LATENCY_SLACK_MS. On a shared 2-core machine identical calm runs give a p99 anywhere from 0.7 to
# 5 ms with outliers past 10 ms, so a tighter bound fails without any attack; this one still fails on what
# the peers do under the same attacks (a room frozen for seconds). The sanitizer builds (small size) are
# slower and noisier still: there the bound is printed, not asserted (harness.assert_timing).
LATENCY_FACTOR = 2.0
LATENCY_SLACK_MS = 20.0 if SMALL else 10.0


def scaled(full, small):
    """The count for this run's size."""
    return small if SMALL else full


def raise_fd_limit(needed):
    """Lets this test process open `needed` sockets; fails the test clearly when the machine cannot."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))
        soft = min(needed, hard)
    assert soft >= needed, f"open-file limit {soft} < {needed} needed"


def chat_server(*extra):
    """Starts `dschat serve --mode MODE --service chat --port 0 …`; returns (proc, port)."""
    return start_server("serve", "--mode", MODE, "--service", "chat", "--port", "0", *extra)


def bench(*args, timeout=120):
    """Runs `dschat bench …` with --json; returns the parsed figures (asserting it exited 0)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "result.json")
        result = run("bench", *args, "--json", path, timeout=timeout)
        assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
        with open(path, encoding="utf-8") as f:
            return json.load(f)


def p99_ms(figures):
    """The p99 fan-out latency (or RTT) of a bench result, in milliseconds."""
    return figures["latency_ns"]["p99"] / 1e6


def latency_limit_ms(calm):
    """The highest p99 an attacked run may have, given the calm run's figures."""
    return LATENCY_FACTOR * p99_ms(calm) + LATENCY_SLACK_MS


def assert_latency_kept(calm, attacked, what):
    """The attacked p99 is within LATENCY_FACTOR x calm (+ slack); both are printed as figures."""
    calm_ms, attacked_ms = p99_ms(calm), p99_ms(attacked)
    figure(f"{what}: p99 calm", f"{calm_ms:.2f}", "ms")
    figure(f"{what}: p99 under attack", f"{attacked_ms:.2f}", "ms")
    limit = latency_limit_ms(calm)
    assert_timing(attacked_ms <= limit, f"{what}: p99 {attacked_ms:.2f} ms > {limit:.2f} ms (calm {calm_ms:.2f} ms)")


def assert_no_loss(figures, what=""):
    """A bench run that sent something and got every line to every other client once, in order."""
    assert figures["error"] is None, (what, figures["error"])
    assert figures["sent"] > 0 and figures["delivered"] == figures["expected"], (what, figures)
    assert figures["lost"] == 0 and figures["order_violations"] == 0 and figures["duplicates"] == 0, (what, figures)


def open_fds(pid):
    """How many descriptors process pid has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def thread_count(pid):
    """How many threads process pid runs."""
    return len(os.listdir(f"/proc/{pid}/task"))


def figure(name, value, unit=""):
    """Prints one measured figure: `FIGURE [mode size] name = value unit`."""
    size = "small" if SMALL else "full"
    print(f"FIGURE [{MODE} {size}] {name} = {value} {unit}".rstrip(), flush=True)


class BackgroundBench:
    """`dschat bench … --json` running while the case does other work (attacks, reads the server's log):
    call running() in the case's loop, which also drains bench's output, and result() at the end."""

    def __init__(self, *args):
        from harness import dschat  # a harness Proc: ended by pid when the case ends, like the servers

        self._dir = tempfile.TemporaryDirectory()
        self._path = os.path.join(self._dir.name, "result.json")
        self.proc = dschat("bench", *args, "--json", self._path)

    def running(self):
        """True until bench has exited."""
        self.proc.pump(0)
        return self.proc.popen.poll() is None

    def pump_until_done(self, server, timeout=120):
        """Drains server's log (its pipe must not fill) until bench has finished, for at most timeout s."""
        deadline = time.monotonic() + timeout
        while self.running():
            assert time.monotonic() < deadline, f"bench still running after {timeout} s"
            server.pump(0.05)

    def result(self, timeout=120):
        """Waits for bench; returns its parsed figures (asserting it exited 0)."""
        code = self.proc.wait(timeout)
        assert code == 0, (code, self.proc.out, self.proc.err)
        with open(self._path, encoding="utf-8") as f:
            figures = json.load(f)
        self._dir.cleanup()
        return figures


def sanitizer():
    """The sanitizer ("asan" or "tsan") the dschat under test is built with, else None: a sanitizer's
    allocator (redzones, quarantine, shadow memory) then sets the server's RSS, so memory bounds do not apply,
    and its instrumentation sets the pace, so timing bounds are only printed."""
    return sanitizer_build()


def settled_thread_count(pid, timeout=30):
    """The thread count of process pid once it has not changed for a second: the threaded server's client
    threads end just after their disconnection is logged, and ThreadSanitizer adds a thread of its own."""
    deadline = time.monotonic() + timeout
    count, since = thread_count(pid), time.monotonic()
    while time.monotonic() - since < 1:
        assert time.monotonic() < deadline, f"the thread count of {pid} never settled"
        time.sleep(0.05)
        if thread_count(pid) != count:
            count, since = thread_count(pid), time.monotonic()
    return count


def unread_bytes(sock):
    """Bytes waiting in sock's receive queue."""
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4))[0]


ESTABLISHED = "01"  # a TCP state as /proc/net/tcp shows it


def tcp_socket(local_port, remote_port):
    """The kernel's view of the loopback socket local_port -> remote_port, from /proc/net/tcp(6):
    (state, bytes in its send queue, bytes in its receive queue), or None once it is gone."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as f:
            for row in f.readlines()[1:]:
                fields = row.split()
                local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
                if int(local, 16) == local_port and int(remote, 16) == remote_port:
                    tx, rx = fields[4].split(":")
                    return fields[3], int(tx, 16), int(rx, 16)
    return None
