"""Small helpers for end-to-end tests: start the real dschat binary, talk to it over loopback sockets,
wait for conditions with deadlines, and always end what was started (by pid).

After every test run_tests ends what the test started: a server (a `dschat serve` or one of its aliases,
or any process started with check=True) still running gets SIGTERM and must exit 0; every server's stderr
must be free of sanitizer reports. A test that kills a server on purpose says so with Proc.kill()."""

import concurrent.futures
import os
import re
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

DSCHAT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.environ.get("DSCHAT", "dschat")
LISTENING = re.compile(rb"listening on (\S+):(\d+)")
SERVER_COMMANDS = ("serve", "echo-once", "threaded-server", "async-server")
# What AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer and ThreadSanitizer print.
SANITIZER_TEXT = (b"AddressSanitizer", b"LeakSanitizer", b"UndefinedBehaviorSanitizer", b"ThreadSanitizer",
                  b"runtime error:", b"Sanitizer", b"internal error")
# How long a server may take to exit after the teardown's SIGTERM (sanitizer builds are slow).
TEARDOWN_SECONDS = 20

_started = []


class Proc:
    """A started process whose stdout/stderr are collected without blocking."""

    def __init__(self, args, stdin=subprocess.DEVNULL, env=None, check=False):
        self.args = args
        self.check = check  # a server: stopped with SIGTERM after the test, exit 0 and no sanitizer text
        self.killed = False  # killed on purpose by the test: exempt from the exit-code check
        self.waited = False  # the test read the exit code itself
        self.popen = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      env=env)
        _started.append(self)
        self.out = b""
        self.err = b""
        self.read_to = 0  # how much of out line() has returned
        self._selector = selectors.DefaultSelector()
        for stream in (self.popen.stdout, self.popen.stderr):
            os.set_blocking(stream.fileno(), False)
            self._selector.register(stream, selectors.EVENT_READ)

    @property
    def pid(self):
        return self.popen.pid

    def pump(self, timeout):
        """Reads whatever output is available within timeout seconds."""
        if not self._selector.get_map():
            time.sleep(min(timeout, 0.05))
            return
        for key, _ in self._selector.select(timeout):
            data = key.fileobj.read()
            if not data:
                self._selector.unregister(key.fileobj)
                continue
            if key.fileobj is self.popen.stdout:
                self.out += data
            else:
                self.err += data

    def wait_output(self, pattern, timeout=10, stream="out"):
        """Waits until stdout (or stderr) matches pattern; returns the match."""
        if isinstance(pattern, str):
            pattern = pattern.encode()
        regex = re.compile(pattern)
        return self.pump_until(lambda: regex.search(self.out if stream == "out" else self.err), timeout, pattern)

    def line(self, timeout=10):
        """The next line of stdout not returned yet, without its LF."""
        end = self.pump_until(lambda: (at if (at := self.out.find(b"\n", self.read_to)) >= 0 else None),
                              timeout, "a line")
        line, self.read_to = self.out[self.read_to:end], end + 1
        return line

    def pump_until(self, found, timeout, what):
        """Collects output until found() returns something other than None, and returns that; raises at the
        deadline, or as soon as the process has exited and its output is all read."""
        deadline = time.monotonic() + timeout
        while (result := found()) is None:
            if self.popen.poll() is not None and not self._selector.get_map():
                raise AssertionError(f"exited {self.popen.returncode} without printing {what!r}; "
                                     f"stdout={self.out!r} stderr={self.err!r}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what!r}; stdout={self.out!r} stderr={self.err!r}")
            self.pump(min(left, 0.2))
        return result

    def wait(self, timeout=10):
        """Waits for exit, collecting output; returns the exit code."""
        deadline = time.monotonic() + timeout
        while self.popen.poll() is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.args} still running after {timeout} s; stderr={self.err!r}")
            self.pump(min(left, 0.1))
        while self._selector.get_map():
            self.pump(0.1)
        self.waited = True
        return self.popen.returncode

    def signal(self, signum):
        if signum == signal.SIGKILL:
            self.killed = True
        if self.popen.poll() is None:
            os.kill(self.pid, signum)

    def kill(self):
        """SIGKILL on purpose: the teardown then does not require exit 0."""
        self.signal(signal.SIGKILL)

    def stop(self):
        """SIGKILL (on purpose, like kill()) and closes the pipes."""
        if self.popen.poll() is None:
            self.killed = True
            os.kill(self.pid, signal.SIGKILL)
            self.popen.wait()
        for stream in (self.popen.stdout, self.popen.stderr):
            try:
                self._selector.unregister(stream)
            except (KeyError, ValueError):
                pass  # already unregistered at its end of file
            stream.close()

    def finish(self):
        """Ends the process after a test; returns what was wrong with a server's end ("" when nothing).
        A server still running gets SIGTERM and must exit 0 within TEARDOWN_SECONDS; one that exited
        without the test reading its code must have exited 0; no server's stderr may hold sanitizer text."""
        if not self.check:
            self.stop()
            return ""
        problems = []
        try:
            if self.popen.poll() is None and not self.killed:
                os.kill(self.pid, signal.SIGTERM)
                code = self.wait(timeout=TEARDOWN_SECONDS)
                if code != 0:
                    problems.append(f"exited {code} after SIGTERM")
            elif not self.killed and not self.waited:
                code = self.wait(timeout=TEARDOWN_SECONDS)
                if code != 0:
                    problems.append(f"exited {code} on its own")
            else:
                if self.popen.poll() is None:
                    os.kill(self.pid, signal.SIGKILL)
                self.wait(timeout=TEARDOWN_SECONDS)  # collects the rest of its output
        except AssertionError as error:
            problems.append(str(error).partition(";")[0])
        finally:
            self.stop()
        problems += sanitizer_reports(self.err)
        if not problems:
            return ""
        return f"server {self.args} (pid {self.pid}): {'; '.join(problems)}; stderr tail={self.err[-3000:]!r}"


class TcpProxy:
    """A TCP proxy from a free loopback port to 127.0.0.1:target_port, for partitions. pause() stops
    forwarding both ways (connections stay open and new ones are accepted, but no byte passes: a network
    that holds its packets); resume() forwards again, what was held included; cut() closes both sides of
    every connection so far (what was held is dropped). The teardown closes it (it is in the started list)."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.connections = 0  # accepted so far
        self._cond = threading.Condition()
        self._paused = False
        self._pairs = []  # [client, upstream, cut]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()
        _started.append(self)

    def pause(self):
        with self._cond:
            self._paused = True

    def resume(self):
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def cut(self):
        with self._cond:
            pairs, self._pairs = self._pairs, []
            for pair in pairs:
                pair[2] = True
            self._cond.notify_all()
        for client, upstream, _ in pairs:
            for sock in (client, upstream):
                _shut(sock)

    def finish(self):
        """Closes the listener and every connection, and waits for the threads; never a problem to report."""
        _shut(self.listener)
        self.cut()
        for thread in self._threads:
            thread.join(timeout=5)
        return ""

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed by finish()
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()  # the target is down: so is the way through
                continue
            upstream.settimeout(None)
            pair = [client, upstream, False]
            with self._cond:
                self._pairs.append(pair)
                self.connections += 1
            for source, sink in ((client, upstream), (upstream, client)):
                thread = threading.Thread(target=self._pump, args=(pair, source, sink), daemon=True)
                self._threads.append(thread)
                thread.start()

    def _pump(self, pair, source, sink):
        try:
            while data := source.recv(65536):
                with self._cond:
                    self._cond.wait_for(lambda: not self._paused or pair[2])
                    if pair[2]:
                        return
                sink.sendall(data)
        except OSError:
            pass  # one side is gone: so is the other
        finally:
            for sock in (source, sink):
                _shut(sock)


def _shut(sock):
    """Shuts sock down both ways (waking a thread blocked on it) and closes it."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # not connected, or already shut
    sock.close()


def sanitizer_reports(err):
    """The sanitizer texts that occur in a process's stderr."""
    return [f"sanitizer text {text.decode()!r} on stderr" for text in SANITIZER_TEXT if text in err]


def assert_no_sanitizer_report(server):
    server.pump(0.01)
    assert not sanitizer_reports(server.err), server.err[-4000:]


def dschat(*args, stdin=subprocess.DEVNULL, env=None, check=None):
    """Starts dschat with args; a server subcommand is checked at teardown (see Proc.finish)."""
    args = [str(arg) for arg in args]
    if check is None:
        check = bool(args) and args[0] in SERVER_COMMANDS
    return Proc([DSCHAT, *args], stdin=stdin, env=env, check=check)


def start_server(*args):
    """Starts dschat with args (which should include --port 0); returns (proc, port) once it listens."""
    proc = dschat(*args)
    match = proc.wait_output(LISTENING)
    return proc, int(match.group(2))


def run(*args, input=None, timeout=20):
    """Runs dschat to completion; returns CompletedProcess with bytes output."""
    return subprocess.run([DSCHAT, *map(str, args)], input=input, capture_output=True, timeout=timeout)


def run_concurrently(check, cases, workers=None):
    """check(case) for every case, a few at a time (for independent runs of dschat to completion, such as
    run()): returns the results in the order of cases. Every case runs; then one AssertionError names each
    case whose check raised, with what it raised."""
    cases = list(cases)
    workers = workers or min(8, 2 * (os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(check, case) for case in cases]
    failures = [f"{case!r}: {type(future.exception()).__name__}: {future.exception()}"
                for case, future in zip(cases, futures) if future.exception() is not None]
    if failures:
        raise AssertionError(f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures))
    return [future.result() for future in futures]


def connect(port, host="127.0.0.1", timeout=10, rcvbuf=None):
    """A connected client socket; rcvbuf: its receive buffer, set before connecting so that the window the
    server sees is small from the start (a client that reads slowly)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect((host, port))
    return sock


class LineSocket:
    """A client socket that reads whole lines (or any delimited or counted bytes) with a deadline."""

    def __init__(self, port, host="127.0.0.1", timeout=10, rcvbuf=None):
        self.sock = connect(port, host, timeout, rcvbuf)
        self.buffer = b""
        self.timeout = timeout

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def fill(self, deadline):
        """Adds what arrives next to the buffer, before deadline (time.monotonic()); EOFError at the end."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"nothing within the deadline; have {self.buffer!r}")
        self.sock.settimeout(left)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError(f"connection closed; have {self.buffer!r}")
        self.buffer += chunk

    def read_until(self, end, timeout=None):
        """The bytes before the next end (which is consumed)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while end not in self.buffer:
            self.fill(deadline)
        head, _, self.buffer = self.buffer.partition(end)
        return head

    def read_exactly(self, n, deadline):
        """The next n bytes, before deadline (time.monotonic())."""
        while len(self.buffer) < n:
            self.fill(deadline)
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def line(self, timeout=None):
        return self.read_until(b"\n", timeout)

    def read_to_eof(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            while True:
                self.fill(deadline)
        except EOFError:
            data, self.buffer = self.buffer, b""
            return data

    def close(self):
        self.sock.close()


def reset(sock):
    """Closes sock with SO_LINGER 0: the kernel sends a RST instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def read_to_eof(sock, timeout=10):
    """Everything a raw socket receives until the peer's FIN (raises on a reset or at the deadline)."""
    data = b""
    deadline = time.monotonic() + timeout
    while chunk := (sock.settimeout(max(0.01, deadline - time.monotonic())), sock.recv(65536))[1]:
        data += chunk
    return data


def sigterm_exits_0_within(server, seconds=2.0):
    """SIGTERM: the server must exit 0, and within seconds."""
    start = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=5) == 0, server.err[-2000:]
    elapsed = time.monotonic() - start
    assert elapsed < seconds, f"exit {elapsed:.2f} s after SIGTERM"


def cpu_seconds(pid):
    """User plus system CPU time process pid has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def free_port():
    """A port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def vm_rss_kib(pid):
    """The resident memory of process pid, from /proc."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def assert_silent(client, wait=0.2):
    """Nothing arrives on a LineSocket for a while (used only where something arriving is the failure)."""
    client.sock.settimeout(wait)
    try:
        data = client.sock.recv(4096)
    except socket.timeout:
        data = None
    assert data is None and client.buffer == b"", (data, client.buffer)


def wait_until(condition, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


_sanitizer = []


def sanitizer_build():
    """The sanitizer ("asan" or "tsan") the dschat under test is built with, else None (read once from the
    binary: each runtime has its init symbol)."""
    if not _sanitizer:
        with open(DSCHAT, "rb") as binary:
            code = binary.read()
        _sanitizer.append(next((name for name in ("asan", "tsan") if f"__{name}_init".encode() in code), None))
    return _sanitizer[0]


def assert_timing(ok, message):
    """A timing or rate bound: asserted in the normal and release builds; in a sanitizer build, whose
    instrumentation sets the pace, only printed (the test asserts correctness alone there)."""
    if sanitizer_build() is None:
        assert ok, message
    elif not ok:
        print(f"TIMING not asserted under {sanitizer_build()}: {message}", flush=True)


class Skip(Exception):
    """Raised by a test that cannot run on this machine (a peer or a tool is missing)."""


SKIP_EXIT = 77  # what Meson shows as SKIP


def end_started():
    """Ends every process the test started (newest first); raises if a server did not end cleanly."""
    problems = []
    while _started:
        problem = _started.pop().finish()
        if problem:
            problems.append(problem)
    if problems:
        raise AssertionError("teardown:\n" + "\n".join(problems))


def run_tests(namespace):
    """Runs every test_* function in namespace, then ends what it started (end_started); a test fails when
    it raises or its teardown finds a server that did not exit 0 on SIGTERM or printed a sanitizer report.
    Exits 1 if any test failed; else 77 (Meson's SKIP) if any was skipped, so a skip is never shown as a
    pass; under CI (CI=true), where everything a test needs is installed, a skip exits 1."""
    failed = 0
    skipped = 0
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    tests = [(name, fn) for name, fn in namespace.items() if name.startswith("test_") and callable(fn)]
    for name, fn in tests:
        start = time.monotonic()
        outcome = "PASS"
        try:
            fn()
        except Skip as why:
            outcome = f"SKIP {name}: {why}" + (" (a failure under CI)" if in_ci else "")
        except Exception:  # noqa: BLE001 - report every failure and go on
            outcome = "FAIL"
            traceback.print_exc()
        try:
            end_started()
        except Exception:  # noqa: BLE001
            outcome = "FAIL"
            traceback.print_exc()
        if outcome == "PASS":
            print(f"PASS {name} ({time.monotonic() - start:.2f} s)", flush=True)
        elif outcome == "FAIL":
            failed += 1
            print(f"FAIL {name}", flush=True)
        else:
            skipped += 1
            print(outcome, flush=True)
    print(f"{len(tests) - failed - skipped}/{len(tests)} passed" + (f", {skipped} skipped" if skipped else ""),
          flush=True)
    if failed or (skipped and in_ci):
        sys.exit(1)
    sys.exit(SKIP_EXIT if skipped else 0)
