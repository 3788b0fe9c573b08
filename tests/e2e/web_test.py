"""serve --mode async --web-port: the chat page over HTTP and the room over WebSocket (RFC 6455), tested with
a small raw-socket client that does what browsers do, and what they never do, over real loopback sockets."""

import base64
import hashlib
import os
import re
import struct
import time

from chat_helpers import WELCOME, join, lines_past_kernel_buffers, lines_until, stop_cleanly, wait_log
from harness import LineSocket, assert_silent, connect, dschat, read_to_eof, run, run_tests, wait_until

WEB_LISTENING = re.compile(rb"^web listening on (\S+):(\d+)( \(https\))?$", re.M)
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def web_server(*flags):
    """Starts the async chat server with a web endpoint on free ports; returns (proc, tcp port, web port)."""
    proc = dschat("serve", "--mode", "async", "--port", 0, "--web-port", 0, *flags)
    proc.wait_output(WEB_LISTENING)
    return (proc, *web_ports(proc))


def web_ports(proc):
    """(tcp port, web port) of a server that has printed `web listening on …`."""
    web = WEB_LISTENING.search(proc.out)
    tcp = re.search(rb"^listening on \S+:(\d+)$", proc.out, re.M)
    assert web and tcp and proc.out.index(b"listening on") < proc.out.index(b"web listening"), proc.out
    return int(tcp.group(1)), int(web.group(2))


def http(port, request, tls=None):
    """Sends a raw request; returns (status, headers as a lower-case dict, body) of the answer. tls: an
    ssl.SSLContext to speak https with."""
    sock = connect(port)
    if tls is not None:
        sock = tls.wrap_socket(sock)
    sock.sendall(request)
    data = read_to_eof(sock)
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode()] = value.strip().decode()
    return status, headers, body


def get(port, path, method="GET", extra=b"", tls=None):
    return http(port, f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode() + extra + b"\r\n", tls)


class WsClient(LineSocket):
    """A WebSocket client as a browser is one: a random key, masked frames; it can also misbehave. Its reads
    are LineSocket's; line() reads a text message rather than bytes up to an LF. tls: an ssl.SSLContext
    to speak wss with (its socket is then an ssl.SSLSocket, read and written the same way)."""

    def __init__(self, port, origin=None, path="/ws", rcvbuf=None, tls=None):
        super().__init__(port, rcvbuf=rcvbuf)  # rcvbuf: a small window, a client that reads slowly
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock)
        self.key = base64.b64encode(os.urandom(16))
        origin = origin or f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n"
                          "Sec-WebSocket-Key: ".encode() + self.key + b"\r\n\r\n")
        head = self.read_until(b"\r\n\r\n") + b"\r\n"
        self.status = int(head.split(b" ")[1])
        self.head = head
        if self.status == 101:
            accept = base64.b64encode(hashlib.sha1(self.key + GUID).digest())
            assert b"\r\nSec-WebSocket-Accept: " + accept in head + b"\r\n", head

    def frame(self, timeout=10):
        """The next frame from the server: (opcode, payload); server frames must be final and unmasked."""
        deadline = time.monotonic() + timeout
        first, second = self.read_exactly(2, deadline)
        assert first & 0x80 and not second & 0x80, (first, second)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self.read_exactly(2, deadline))[0]
        elif length == 127:
            length = struct.unpack("!Q", self.read_exactly(8, deadline))[0]
        return first & 0x0F, self.read_exactly(length, deadline)

    def line(self, timeout=10):
        """The next text message, as a line."""
        opcode, payload = self.frame(timeout)
        assert opcode == 1, (opcode, payload)
        return payload

    def close_code(self, timeout=10):
        """Reads until a close frame; returns its code."""
        while True:
            opcode, payload = self.frame(timeout)
            if opcode == 8:
                return struct.unpack("!H", payload[:2])[0]

    def send_frame(self, opcode, payload, mask=True, fin=True):
        payload = payload if isinstance(payload, bytes) else payload.encode()
        head = bytes([(0x80 if fin else 0) | opcode])
        bit = 0x80 if mask else 0
        if len(payload) < 126:
            head += bytes([bit | len(payload)])
        elif len(payload) < 65536:
            head += bytes([bit | 126]) + struct.pack("!H", len(payload))
        else:
            head += bytes([bit | 127]) + struct.pack("!Q", len(payload))
        if mask:
            key = os.urandom(4)
            head += key
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + payload)

    def send(self, text):
        self.send_frame(1, text)

    def welcome(self):
        """Reads the welcome; returns the member's name."""
        match = WELCOME.match(self.line())
        assert match
        return match.group(1).decode()

    def assert_eof(self, timeout=10):
        self.read_to_eof(timeout)


def test_the_page_is_served_with_its_content_security_policy():
    server, _, web = web_server()
    status, headers, body = get(web, "/")
    assert status == 200, (status, headers)
    assert headers["content-security-policy"] == "default-src 'self'", headers
    assert headers["content-type"].startswith("text/html"), headers
    assert int(headers["content-length"]) == len(body) and b"<html" in body.lower(), body[:200]
    assert headers["connection"] == "close", headers
    status, headers, body = get(web, "/app.js")
    assert status == 200 and "javascript" in headers["content-type"] and body, headers
    status, headers, body = get(web, "/style.css")
    assert status == 200 and headers["content-type"].startswith("text/css") and body, headers
    stop_cleanly(server)


def test_other_paths_methods_and_bad_requests_get_errors():
    server, _, web = web_server()
    assert get(web, "/nothing-here")[0] == 404
    status, headers, _ = get(web, "/", method="POST", extra=b"Content-Length: 0\r\n")
    assert status == 405 and headers["allow"] == "GET", headers
    bad_key = (b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
               b"Sec-WebSocket-Key: short\r\nOrigin: http://127.0.0.1\r\n")
    status, _, body = get(web, "/ws", extra=bad_key)
    assert status == 400 and body.startswith(b"400"), (status, body)
    status, _, _ = http(web, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
    assert status == 431, status
    stop_cleanly(server)


def test_a_websocket_from_another_origin_is_refused():
    server, _, web = web_server("--web-origin", "https://chat.example")
    assert WsClient(web, origin="http://evil.example").status == 403
    allowed = WsClient(web, origin="https://chat.example")
    assert allowed.status == 101 and WELCOME.match(allowed.line())
    own = WsClient(web)  # the page's own origin, as the browser sends it
    assert own.status == 101 and WELCOME.match(own.line())
    stop_cleanly(server, allowed, own)


def test_an_unfinished_request_is_closed_after_the_handshake_deadline():
    server, _, web = web_server()
    sock = connect(web, timeout=15)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and nothing more
    start = time.monotonic()
    assert read_to_eof(sock, timeout=15) == b""
    assert 9 < time.monotonic() - start < 13
    sock.close()
    stop_cleanly(server)


def test_a_browser_and_a_tcp_client_chat_both_ways():
    server, port, web = web_server()
    tcp, tcp_name = join(port)
    ws = WsClient(web)
    ws_name = ws.welcome()
    assert tcp.line() == f"* {ws_name} joined".encode()
    ws.send("hello from the browser")
    assert tcp.line() == f"<{ws_name}> hello from the browser".encode()
    tcp.send("hello from nc\n")
    assert ws.line() == f"<{tcp_name}> hello from nc".encode()
    ws.send("one\ntwo\n")  # one message, two lines
    assert [tcp.line(), tcp.line()] == [f"<{ws_name}> one".encode(), f"<{ws_name}> two".encode()]
    ws.send("/nick webby")
    assert ws.line() == f"* {ws_name} is now webby".encode()
    assert tcp.line() == f"* {ws_name} is now webby".encode()
    ws.send("/who")
    who = ws.line().decode()
    assert who.startswith("* 2 online: ") and sorted(who[12:].split(", ")) == sorted([tcp_name, "webby"]), who
    ws.send_frame(9, b"are you there")
    assert ws.frame() == (10, b"are you there")
    ws.send_frame(8, struct.pack("!H", 1000))
    assert ws.close_code() == 1000
    ws.assert_eof()
    assert tcp.line() == b"* webby left"
    assert_silent(tcp)
    stop_cleanly(server, tcp)


def test_protocol_errors_close_with_their_codes():
    server, port, web = web_server()
    tcp, _ = join(port)
    for misdeed, code in [
        (lambda ws: ws.send_frame(1, "unmasked", mask=False), 1002),
        (lambda ws: ws.send_frame(2, b"\x00\x01"), 1003),
        (lambda ws: ws.send_frame(1, b"\xff\xfe not utf-8"), 1007),
    ]:
        ws = WsClient(web)
        ws.welcome()
        misdeed(ws)
        assert ws.close_code() == code
        ws.assert_eof()
        ws.close()
    stop_cleanly(server, tcp)


def test_an_overlong_message_gets_the_error_line_and_the_connection_stays():
    server, port, web = web_server("--max-line", "100")
    tcp, _ = join(port)
    ws = WsClient(web)
    name = ws.welcome()
    tcp.line()  # the join notice
    ws.send("x" * 101)
    assert ws.line() == b"! line too long (max 100 bytes)"
    ws.send("still here")
    assert tcp.line() == f"<{name}> still here".encode()
    stop_cleanly(server, tcp, ws)


def test_long_messages_are_paced_by_their_bytes_as_tcp_lines_are():
    # 8 messages of 2,000 bytes: far below 100 lines/s, but 16 KB against 8 KiB at once and 8 KiB/s after.
    server, port, web = web_server("--rate-bytes", "8KiB", "--burst-bytes", "8KiB")
    reader, _ = join(port)
    flooder = WsClient(web)
    name = flooder.welcome()
    flooder.send("hi")
    lines_until(reader, f"<{name}> hi".encode())
    lines = [b"%02d" % i + b"x" * 1998 for i in range(8)]
    started = time.monotonic()
    for line in lines:
        flooder.send(line)
    # While the flooder's last frames wait for the budget, a TCP client's burst goes through the loop's
    # shared read buffer: the waiting frames must not be read from it.
    assert flooder.line() == b"! slow down: more than 8 KiB/s, reading paused"
    burst = [b"%02d" % i + b"y" * 2000 for i in range(8)]  # 16 KB: read at once, over the waiting frames
    reader.send(b"".join(line + b"\n" for line in burst))
    got = []
    while len(got) < len(lines):  # the reader's own burst gets it a slow-down notice too
        line = reader.line()
        if not line.startswith(b"! slow down"):
            got.append(line)
    assert got == [f"<{name}> ".encode() + line for line in lines]  # none dropped, none garbled
    assert [flooder.line()[-2002:] for _ in burst] == burst
    # Four and a half fit in the burst; the rest (about 5.8 KB) waits for the budget: about 0.7 s.
    assert time.monotonic() - started >= 0.5
    server.wait_output(rb"127\.0\.0\.1:\d+ paced: more than 8 KiB/s, reading paused", stream="err")
    stop_cleanly(server, reader, flooder)


def test_a_browser_that_does_not_read_is_cut_off_as_too_slow():
    server, port, web = web_server("--max-queue", "64KiB", "--rate", "0")
    writer, _ = join(port)
    slow = WsClient(web, rcvbuf=4096)
    name = slow.welcome()  # and never reads again
    lines_until(writer, f"* {name} joined".encode())  # a member that leaves before this is never announced
    payload = b"y" * 1000
    total = lines_past_kernel_buffers(1000) + 100  # more than the kernel buffers and the outbox hold
    for first in range(0, total, 30):
        writer.send(b"".join(b"%d " % i + payload + b"\n" for i in range(first, first + 30)))
    lines_until(writer, f"* {name} left (too slow: send queue over 64 KiB)".encode(), timeout=60)
    wait_log(server, f"{name} disconnected: too slow: send queue over 64 KiB".encode())
    stop_cleanly(server, writer, slow)


def test_shutdown_tells_the_browser_and_closes_with_1001():
    server, _, web = web_server()
    ws = WsClient(web)
    ws.welcome()
    server.signal(15)
    assert ws.line() == b"* server shutting down"
    assert ws.close_code() == 1001
    ws.assert_eof()
    assert server.wait(timeout=10) == 0, server.err[-2000:]


def test_a_silent_browser_is_closed_by_the_idle_timeout():
    server, _, web = web_server("--idle-timeout", "1.5")
    ws = WsClient(web)
    name = ws.welcome()
    assert ws.line(timeout=10) == b"! closing: no line for 1.5 s"
    assert ws.close_code() == 1000
    ws.assert_eof()
    wait_log(server, f"{name} disconnected: idle timeout".encode())
    stop_cleanly(server)


def test_the_server_pings_and_closes_a_browser_that_does_not_answer():
    server, _, web = web_server("--web-ping", "1s")
    answering, silent = WsClient(web), WsClient(web)
    answering.welcome()
    name = silent.welcome()
    for _ in range(2):  # every second (5 s timeouts: not the default 30 s); answered each time
        while (frame := answering.frame(timeout=5))[0] == 1:
            pass  # notices
        assert frame == (9, b""), frame
        answering.send_frame(10, b"")
    while (frame := silent.frame(timeout=5))[0] != 8:
        assert frame[0] in (1, 9), frame  # notices, then the ping it never answers
    assert struct.unpack("!H", frame[1][:2])[0] == 1008, frame
    silent.assert_eof()
    wait_log(server, f"{name} disconnected: no answer to ping".encode())
    stop_cleanly(server, answering, silent)


def test_web_connections_count_against_max_clients():
    server, port, web = web_server("--max-clients", "1")
    ws = WsClient(web)
    ws.welcome()
    assert get(web, "/")[0] == 503
    tcp = LineSocket(port)
    assert tcp.line() == b"! server full"
    stop_cleanly(server, ws, tcp)


def test_web_flags_are_refused_where_they_mean_nothing():
    for args, why in [
        (("serve", "--mode", "once", "--web-port", "0"), "--web-port applies to --mode async only"),
        (("serve", "--mode", "threaded", "--web-port", "0"), "--web-port applies to --mode async only"),
        (("threaded-server", "--web-port", "0"), "--web-port applies to --mode async only"),
        (("serve", "--mode", "async", "--service", "echo", "--web-port", "0"),
         "--web-port applies to the chat service only"),
        (("serve", "--mode", "async", "--web-origin", "http://x"), "--web-origin needs --web-port"),
        (("serve", "--mode", "threaded", "--web-ping", "1s"), "--web-ping applies to --mode async only"),
        (("serve", "--mode", "async", "--web-ping", "1s"), "--web-ping needs --web-port"),
        (("serve", "--mode", "async", "--web-port", "0", "--web-ping", "10"),
         "--web-ping expects a time such as 30s or 500ms (100ms to 3600s)"),
        (("serve", "--mode", "async", "--web-port", "0", "--web-ping", "50ms"),
         "--web-ping expects a time such as 30s or 500ms (100ms to 3600s)"),
        (("serve", "--mode", "async", "--web-port", "0", "--web-ping", "2h"),
         "--web-ping expects a time such as 30s or 500ms (100ms to 3600s)"),
    ]:
        result = run(*args, "--port", "0")
        assert result.returncode == 2, (args, result)
        lines = result.stderr.decode().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"dschat: {why} (see dschat "), (args, lines)


if __name__ == "__main__":
    run_tests(globals())
