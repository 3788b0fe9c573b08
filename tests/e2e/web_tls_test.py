"""serve --mode async --web-port with --tls or --tls-cert/--tls-key: the page over https and the room over
wss with the chat port's certificate, tested with Python's ssl module around the raw-socket WebSocket client
of web_test.py and the TLS chat client of tls_test.py; and a TLS port never writes a plaintext byte, not
even to a connection it refuses."""

import hashlib
import re
import ssl
import tempfile
import time

from chat_helpers import stop_cleanly, wait_log
from harness import assert_timing, connect, read_to_eof, run_tests
from tls_test import FINGERPRINT, join_tls, line_matching, make_test_ca
from web_test import WsClient, get, web_server


def insecure_context():
    """A client context that accepts the ephemeral self-signed certificate (a browser asks the user); the
    tests compare its fingerprint with the printed one instead."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def https_server(*flags):
    """The async server with a web port and TLS (--tls unless flags name certificate files); returns (proc,
    chat port, web port, fingerprint as printed)."""
    server, port, web = web_server(*(flags if "--tls-cert" in flags else ("--tls", *flags)))
    assert re.search(rb"^web listening on \S+:\d+ \(https\)$", server.out, re.M), server.out
    return server, port, web, server.wait_output(FINGERPRINT).group(1).decode()


def web_certificate(web, context):
    """The DER certificate the web port presents."""
    with context.wrap_socket(connect(web)) as sock:
        return sock.getpeercert(binary_form=True)


def assert_no_byte_then_closed(port, timeout=5):
    """A raw TCP client that sends nothing must see the connection closed without a single byte."""
    sock = connect(port)
    start = time.monotonic()
    assert read_to_eof(sock, timeout=timeout) == b""
    sock.close()
    return time.monotonic() - start


def test_the_page_over_https_and_wss_chat_with_a_tls_chat_client():
    server, port, web, fingerprint = https_server("-v")
    context = insecure_context()
    status, headers, body = get(web, "/", tls=context)
    assert status == 200, (status, headers)
    assert headers["content-security-policy"] == "default-src 'self'", headers
    assert headers["content-type"].startswith("text/html") and b"<html" in body.lower(), headers
    # One certificate for both ports, the one whose fingerprint was printed.
    der = web_certificate(web, context)
    assert fingerprint == "SHA256:" + hashlib.sha256(der).hexdigest(), fingerprint
    # A wss member and a TLS chat member talk both ways.
    browser = WsClient(web, tls=context)
    assert browser.status == 101, browser.head
    assert browser.sock.version() in ("TLSv1.2", "TLSv1.3"), browser.sock.version()
    page = browser.welcome()
    terminal, name = join_tls(port)
    assert terminal.certificate_der() == der
    assert browser.line() == f"* {name} joined".encode()
    browser.send("hello from https")
    assert line_matching(terminal, rb"<") == f"<{page}> hello from https".encode()
    terminal.send("hello over the chat port\n")
    assert browser.line() == f"<{name}> hello over the chat port".encode()
    wait_log(server, rb"chat page at https://")
    terminal.close_notify()
    stop_cleanly(server, browser)


def test_certificate_files_serve_the_web_port_too():
    with tempfile.TemporaryDirectory() as directory:
        files = make_test_ca(directory)
        server, _, web, _ = https_server("--tls-cert", files["server.pem"], "--tls-key", files["server.key"])
        # A client that verifies (as a browser does with a real certificate) accepts the page by name.
        context = ssl.create_default_context(cafile=files["ca.pem"])
        with context.wrap_socket(connect(web), server_hostname="localhost") as sock:
            sock.sendall(f"GET / HTTP/1.1\r\nHost: localhost:{web}\r\n\r\n".encode())
            answer = read_to_eof(sock)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        stop_cleanly(server)


def test_plaintext_on_the_https_port_is_closed_without_a_byte_and_the_server_goes_on():
    server, _, web, _ = https_server("--handshake-timeout", "1")
    context = insecure_context()
    member = WsClient(web, tls=context)
    member.welcome()
    # A plaintext request: closed at once, no answer in clear, logged.
    plain = connect(web)
    plain.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{web}\r\n\r\n".encode())
    assert read_to_eof(plain, timeout=5) == b""
    plain.close()
    wait_log(server, rb"http: client does not speak TLS: it sent \"GET / HTTP/1.1")
    # A client that sends nothing: closed at the handshake deadline, without a byte.
    elapsed = assert_no_byte_then_closed(web)
    assert elapsed > 0.5, elapsed
    assert_timing(elapsed < 4, f"closed after {elapsed:.2f} s, the deadline being 1 s")
    wait_log(server, rb"http: TLS handshake timed out")
    # The member never noticed.
    member.send("/who")
    assert member.line().startswith(b"* 1 online")
    stop_cleanly(server, member)


def test_the_origin_check_holds_over_https():
    server, _, web, _ = https_server()
    context = insecure_context()
    own = WsClient(web, origin=f"https://127.0.0.1:{web}", tls=context)
    assert own.status == 101, own.head
    own.welcome()
    for origin in (f"http://127.0.0.1:{web}", "https://evil.example", f"https://127.0.0.1:{web + 1}"):
        other = WsClient(web, origin=origin, tls=context)
        assert other.status == 403, (origin, other.head)
        other.close()
    allowed = "https://chat.example"
    server2, _, web2, _ = https_server("--web-origin", allowed)
    listed = WsClient(web2, origin=allowed, tls=context)
    assert listed.status == 101, listed.head
    stop_cleanly(server, own)
    stop_cleanly(server2, listed)


def test_a_refused_tls_client_gets_no_plaintext():
    server, port, web, _ = https_server("--max-clients", "1")
    context = insecure_context()
    member = WsClient(web, tls=context)
    member.welcome()
    # Past --max-clients, on either port: closed before any byte, not `! server full` or a 503 in clear.
    assert_no_byte_then_closed(port)
    assert_no_byte_then_closed(web)
    wait_log(server, rb"disconnected: server full")
    wait_log(server, rb"https: server full")
    # A TLS client sees its handshake cut short, which is all a TLS client can be told before one.
    try:
        join_tls(port)
        raise AssertionError("a TLS client was let in past --max-clients")
    except (EOFError, ConnectionError):
        pass
    stop_cleanly(server, member)

    server, port, _, _ = https_server("--max-per-ip", "1")
    first, _ = join_tls(port)
    assert_no_byte_then_closed(port)
    wait_log(server, rb"disconnected: too many connections from this address")
    first.send("/who\n")
    assert line_matching(first, rb"\* \d+ online").startswith(b"* 1 online")
    first.close_notify()
    stop_cleanly(server)


def test_a_wss_member_cut_without_close_notify_is_logged_so():
    server, _, web, _ = https_server()
    context = insecure_context()
    stays = WsClient(web, tls=context)
    stays.welcome()
    cut = WsClient(web, tls=context)
    name = cut.welcome()
    assert stays.line() == f"* {name} joined".encode()
    cut.sock.close()  # an SSLSocket closes without close_notify (only unwrap() sends one)
    wait_log(server, rf"{name} disconnected: closed without TLS close_notify".encode())
    stop_cleanly(server, stays)


if __name__ == "__main__":
    run_tests(globals())
