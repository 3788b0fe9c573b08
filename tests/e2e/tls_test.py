"""TLS on the async server's chat port (--tls, --tls-cert/--tls-key) and in the clients (dschat chat and
dschat client --tls, --tls-ca, --tls-fingerprint, --tls-insecure). The peers are Python's ssl module, driven
over plain sockets through memory BIOs so that a test controls every byte (half a ClientHello, a close
without close_notify); certificates for --tls-cert come from the openssl command line in a temp dir."""

import hashlib
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import time

from chat_helpers import WELCOME, async_server, wait_log
from harness import Skip, connect, reset, run, run_tests

FINGERPRINT = re.compile(rb"tls fingerprint (SHA256:[0-9a-f]{64})\n")


def tls_server(*flags):
    """Starts serve --mode async with TLS (--tls unless flags name certificate files); returns (proc, port,
    fingerprint as printed)."""
    server, port = async_server(*(flags if "--tls-cert" in flags else ("--tls", *flags)))
    match = server.wait_output(FINGERPRINT, timeout=10)
    return server, port, match.group(1).decode()


class TlsClient:
    """A TLS client over a plain socket through memory BIOs: every byte it sends is the test's choice."""

    def __init__(self, port, context=None, server_hostname=None, timeout=10):
        if context is None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self.sock = connect(port, timeout=timeout)
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname=server_hostname)
        self.buffer = b""
        self.timeout = timeout

    def flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def receive(self, deadline):
        """Feeds what the socket has to the TLS object; False at the peer's end of stream."""
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        data = self.sock.recv(65536)
        if not data:
            self.incoming.write_eof()
            return False
        self.incoming.write(data)
        return True

    def handshake(self):
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self.tls.do_handshake()
                self.flush()
                return self
            except ssl.SSLWantReadError:
                self.flush()
                if not self.receive(deadline):
                    raise EOFError("closed during the handshake")

    def certificate_der(self):
        return self.tls.getpeercert(binary_form=True)

    def send(self, text):
        self.tls.write(text.encode() if isinstance(text, str) else text)
        self.flush()

    def line(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\n" not in self.buffer:
            if time.monotonic() > deadline:
                raise AssertionError(f"no line within deadline; have {self.buffer!r}")
            try:
                self.buffer += self.tls.read(65536)
                continue
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLZeroReturnError:
                raise EOFError(f"close_notify; have {self.buffer!r}") from None
            if not self.receive(deadline):
                raise EOFError(f"connection closed; have {self.buffer!r}")
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def close_notify(self):
        try:
            self.tls.unwrap()
        except ssl.SSLWantReadError:
            pass  # the server's close_notify is not waited for
        self.flush()
        self.sock.close()

    def close_without_notify(self):
        self.sock.close()


def join_tls(port, context=None, server_hostname=None):
    client = TlsClient(port, context, server_hostname).handshake()
    line = client.line()
    match = WELCOME.match(line)
    assert match, line
    return client, match.group(1).decode()


def line_matching(client, pattern, timeout=10):
    """Reads lines until one matches pattern (join notices may come first); returns it."""
    deadline = time.monotonic() + timeout
    while True:
        line = client.line(timeout=max(0.01, deadline - time.monotonic()))
        if re.match(pattern, line):
            return line


def refused(*args, code):
    """Runs dschat with args, which must fail with exit code `code`; returns its one stderr line."""
    result = run(*args, timeout=20)
    assert result.returncode == code, (args, result)
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dschat: "), (args, lines)
    return lines[0]


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_test_ca(directory):
    """A test CA and a certificate it signed for DNS:localhost only; returns their paths."""
    if shutil.which("openssl") is None:
        raise Skip("the openssl command is not installed")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", "/CN=dschat test CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=directory)
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr", cwd=directory)
    with open(os.path.join(directory, "ext.cnf"), "w", encoding="utf-8") as ext:
        ext.write("subjectAltName=DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "1", "-extfile", "ext.cnf", "-out", "server.pem", cwd=directory)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", "/CN=other", "-keyout", "other.key", "-out", "other.pem", cwd=directory)
    return {name: os.path.join(directory, name) for name in ("ca.pem", "server.pem", "server.key", "other.key")}


def test_two_tls_clients_chat_and_the_fingerprint_is_the_certificates():
    server, port, fingerprint = tls_server("-v")
    alice, first = join_tls(port)
    bob, second = join_tls(port)
    der = alice.certificate_der()
    assert fingerprint == "SHA256:" + hashlib.sha256(der).hexdigest(), fingerprint
    assert alice.tls.version() in ("TLSv1.2", "TLSv1.3"), alice.tls.version()
    assert alice.line() == f"* {second} joined".encode()
    alice.send("hello over tls\n")
    assert bob.line() == f"<{first}> hello over tls".encode()
    bob.send("/who\n")
    assert bob.line().startswith(b"* 2 online")
    # The port is TLS only: a plaintext client is closed, logged, and the room goes on.
    plain = connect(port)
    plain.sendall(b"hello in clear\n")
    plain.settimeout(10)
    assert plain.recv(4096) == b""
    wait_log(server, rb"disconnected: client does not speak TLS: it sent \"hello in clear")
    bob.send("still here\n")
    assert alice.line() == f"<{second}> still here".encode()
    alice.close_notify()
    bob.close_notify()


def test_certificate_files_from_a_test_ca_and_verifying_clients():
    with tempfile.TemporaryDirectory() as directory:
        files = make_test_ca(directory)
        server, port, fingerprint = tls_server("--tls-cert", files["server.pem"], "--tls-key",
                                               files["server.key"])
        context = ssl.create_default_context(cafile=files["ca.pem"])
        client, _ = join_tls(port, context, server_hostname="localhost")
        assert fingerprint == "SHA256:" + hashlib.sha256(client.certificate_der()).hexdigest()
        # dschat chat verifies the name against the CA, sends its input and quits.
        chat = run("chat", "--host", "localhost", "--port", port, "--tls-ca", files["ca.pem"],
                   input=b"from dschat chat\n")
        assert chat.returncode == 0, chat
        assert WELCOME.match(chat.stdout.splitlines()[0]), chat.stdout
        line_matching(client, rb"<guest-\d+> from dschat chat$")
        # The certificate names localhost only: by address, the host name check fails.
        why = refused("chat", "--host", "127.0.0.1", "--port", port, "--tls-ca", files["ca.pem"], code=1)
        assert "certificate verify failed" in why and "127.0.0.1" in why, why
        # System CAs do not know the test CA.
        why = refused("client", "--host", "localhost", "--port", port, "--tls", "hi", code=1)
        assert "certificate verify failed" in why, why
        # A key that is not the certificate's, and a file that is not there: exit 1, the file named.
        why = refused("serve", "--mode", "async", "--port", 0, "--tls-cert", files["server.pem"],
                      "--tls-key", files["other.key"], code=1)
        assert "other.key" in why or "server.pem" in why, why
        missing = os.path.join(directory, "missing.pem")
        why = refused("serve", "--mode", "async", "--port", 0, "--tls-cert", missing, "--tls-key",
                      files["server.key"], code=1)
        assert "missing.pem" in why, why


def test_clients_pin_the_fingerprint():
    server, port, fingerprint = tls_server("--service", "echo")
    reply = run("client", "--port", port, "--tls-fingerprint", fingerprint, "echo", "me")
    assert reply.returncode == 0 and reply.stdout == b"echo me\n", reply
    chat = run("chat", "--port", port, "--tls-fingerprint", fingerprint, input=b"line one\n")
    assert chat.returncode == 0 and b"line one" in chat.stdout, chat
    wrong = "SHA256:" + "00" * 32
    why = refused("client", "--port", port, "--tls-fingerprint", wrong, "hi", code=1)
    assert "does not match the pinned" in why, why
    why = refused("chat", "--port", port, "--tls-fingerprint", wrong, code=1)
    assert "does not match the pinned" in why, why
    insecure = run("client", "--port", port, "--tls-insecure", "hi")
    assert insecure.returncode == 0 and insecure.stdout == b"hi\n", insecure
    assert b"--tls-insecure" in insecure.stderr, insecure.stderr


def test_half_a_client_hello_meets_the_handshake_deadline():
    server, port, _ = tls_server("--handshake-timeout", "1", "--max-clients", "2")
    stalled = TlsClient(port)
    try:
        stalled.tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = stalled.outgoing.read()
    stalled.sock.sendall(hello[: len(hello) // 2])
    # Handshaking connections count against --max-clients: with one stalled, one more fits.
    member, _ = join_tls(port)
    start = time.monotonic()
    stalled.sock.settimeout(10)
    assert stalled.sock.recv(4096) == b""
    elapsed = time.monotonic() - start
    assert elapsed < 5, elapsed
    wait_log(server, rb"disconnected: TLS handshake timed out")
    member.send("/who\n")
    assert member.line().startswith(b"* 1 online")


def test_a_reset_mid_handshake_is_logged_and_the_server_goes_on():
    server, port, _ = tls_server()
    member, _ = join_tls(port)
    broken = TlsClient(port)
    try:
        broken.tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = broken.outgoing.read()
    broken.sock.sendall(hello[:20])
    reset(broken.sock)
    wait_log(server, rb"disconnected: connection reset")
    member.send("/who\n")
    assert member.line().startswith(b"* 1 online")


def test_truncation_drops_the_unterminated_last_line():
    server, port, _ = tls_server("-v")
    listener, _ = join_tls(port)
    cut, name = join_tls(port)
    cut.send("whole line\nhalf a li")
    line_matching(listener, re.escape(f"<{name}> whole line".encode()) + b"$")
    cut.close_without_notify()
    wait_log(server, rb"disconnected: closed without TLS close_notify")
    # With close_notify the last bytes are a line, as over TCP.
    clean, other = join_tls(port)
    clean.send("last words")
    clean.close_notify()
    lines = []
    while (line := listener.line()) != f"<{other}> last words".encode():
        lines.append(line)
    assert not any(b"half a li" in line for line in lines), lines


def test_a_client_that_never_reads_is_cut_at_max_queue():
    server, port, _ = tls_server("--max-queue", "64KiB", "--rate", "0")
    stuck, name = join_tls(port)
    sender, _ = join_tls(port)
    line = "x" * 1000 + "\n"
    deadline = time.monotonic() + 20
    while b"too slow" not in server.err and time.monotonic() < deadline:
        sender.send(line * 64)
        server.pump(0.01)
    wait_log(server, rf"{name} disconnected: too slow: send queue over 64 KiB".encode())
    sender.send("/who\n")
    while (reply := sender.line()).startswith(b"<") or reply.startswith(b"* guest"):
        pass
    assert reply.startswith(b"* 1 online"), reply


def test_many_handshakes_at_once_while_others_chat():
    server, port, _ = tls_server()
    alice, first = join_tls(port)
    bob, _ = join_tls(port)
    crowd = []
    for _ in range(100):
        client = TlsClient(port)
        try:
            client.tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        client.flush()  # the ClientHello: the server works on all of them at once
        crowd.append(client)
    alice.send("through the crowd\n")
    assert bob.line() == f"<{first}> through the crowd".encode()
    for client in crowd:
        client.handshake()
        assert WELCOME.match(client.line()), "a crowd member got no welcome"
    bob.send("/who\n")
    while not (reply := bob.line()).startswith(b"* 102 online"):
        assert reply.startswith(b"* "), reply
    for client in crowd:
        client.close_notify()


def test_tls_flags_are_checked():
    why = refused("serve", "--mode", "threaded", "--port", 0, "--tls", code=2)
    assert "--tls" in why and "async" in why, why
    why = refused("serve", "--mode", "async", "--port", 0, "--tls-cert", "x.pem", code=2)
    assert "--tls-key" in why, why
    why = refused("serve", "--mode", "async", "--port", 0, "--handshake-timeout", "2", code=2)
    assert "--handshake-timeout" in why, why
    why = refused("chat", "--port", 1, "--tls-fingerprint", "SHA256:12", code=2)
    assert "--tls-fingerprint" in why, why
    why = refused("client", "--port", 1, "--tls-ca", "ca.pem", "--tls-insecure", "hi", code=2)
    assert "exclude each other" in why, why


if __name__ == "__main__":
    run_tests(globals())
