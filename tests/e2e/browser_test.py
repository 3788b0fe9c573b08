"""The chat page in a real headless Chromium, driven by playwright-core through tests/browser/tabs.mjs, in one
room with a real `nc` (netcat-openbsd): two tabs and nc chat with each other, `/nick` from the page, markup
sent by nc shown as text, a half-typed line kept while lines arrive, and the page reconnecting after a
server restart and taking back the name it had chosen (or showing why not: taken); and the page over
https, chatting over wss with a TLS chat client. Skipped when node, chromium, nc or
tests/browser/node_modules (npm ci there) is missing."""

import json
import os
import shutil
import signal
import subprocess
import tempfile

from chat_helpers import WELCOME, lines_until, stop_cleanly
from harness import Proc, Skip, dschat, run_tests
from tls_test import join_tls, line_matching, make_test_ca
from web_test import WEB_LISTENING, web_ports, web_server

BROWSER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD_PROMPT = "* password required — send /pass PASSWORD"


def node():
    """The node binary, or Skip when something the test needs is missing."""
    path = shutil.which("node")
    if path is None or not os.access(CHROMIUM, os.X_OK) or shutil.which("nc") is None:
        raise Skip("needs node, chromium and nc")
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        raise Skip("tests/browser/node_modules is missing: run scripts/setup-debian (npm ci there)")
    return path


class Nc:
    """An nc (netcat-openbsd) chat client: what it sends goes to nc's stdin, the room's lines come out of
    its stdout."""

    def __init__(self, port, password=None):
        self.proc = Proc(["nc", "127.0.0.1", str(port)], stdin=subprocess.PIPE)
        if password is not None:
            assert self.line() == PASSWORD_PROMPT.encode()
            self.send(f"/pass {password}")
        welcome = self.line()
        match = WELCOME.match(welcome)
        assert match, welcome
        self.name = match.group(1).decode()

    def line(self, timeout=10):
        return self.proc.line(timeout)

    def send(self, text):
        self.proc.popen.stdin.write(text.encode() + b"\n")
        self.proc.popen.stdin.flush()

    def close(self):
        self.proc.popen.stdin.close()
        self.proc.stop()


class Tabs:
    """`count` tabs of the page in one Chromium (tests/browser/tabs.mjs; each tab its own browser context).
    Closing it closes the browser; leaving its `with` block without an error also asserts that no tab had
    a page error, a Content-Security-Policy report or a failed load."""

    def __init__(self, web_port, count, scheme="http"):
        script = os.path.join(BROWSER_DIR, "tabs.mjs")
        self.url = f"{scheme}://127.0.0.1:{web_port}/"
        self.proc = Proc([node(), script, self.url, str(count)], stdin=subprocess.PIPE,
                         env={**os.environ, "CHROMIUM": CHROMIUM})
        self.names = self.reply(timeout=40)["names"]

    def reply(self, timeout):
        answer = json.loads(self.proc.line(timeout))
        assert "error" not in answer, json.dumps(answer, indent=1, ensure_ascii=False)
        return answer

    def ask(self, tab, request, timeout=10):
        self.proc.popen.stdin.write(json.dumps({**request, "tab": tab, "timeout": timeout * 1000}).encode() + b"\n")
        self.proc.popen.stdin.flush()
        return self.reply(timeout + 10)

    def send(self, tab, text):
        """Types text into the tab's input line and presses Enter."""
        self.ask(tab, {"do": "send", "text": text})

    def type(self, tab, text):
        """Types text into the tab's input line key by key, without Enter."""
        self.ask(tab, {"do": "type", "text": text})

    def press(self, tab, key):
        self.ask(tab, {"do": "press", "key": key})

    def see(self, tab, kind, text, name=None, timeout=10):
        """Waits until the tab shows a conversation entry of that kind (its classes) with that text and name."""
        entry = {"kind": kind, "text": text, **({"name": name} if name is not None else {})}
        self.ask(tab, {"do": "wait", "until": {"entry": entry}}, timeout)

    def wait(self, tab, timeout=10, **until):
        """Waits until the tab shows me=NAME, status=REGEX or online=[NAMES]."""
        self.ask(tab, {"do": "wait", "until": until}, timeout)

    def state(self, tab):
        return self.ask(tab, {"do": "state"})

    def chat(self, tab):
        """The tab's chat lines so far, as (classes, name, text)."""
        return [(entry["kind"], entry["name"], entry["text"]) for entry in self.state(tab)["entries"]
                if entry["kind"].startswith("chat")]

    def __enter__(self):
        return self

    def __exit__(self, error_type, *_):
        errors = [self.state(tab)["errors"] for tab in range(len(self.names))] if error_type is None else []
        self.proc.popen.stdin.close()  # tabs.mjs closes the browser and exits
        if error_type is None:
            assert self.proc.wait(timeout=20) == 0, self.proc.err[-2000:]
            assert errors == [[]] * len(self.names), errors
        else:  # the test's error is the one to report; the teardown kills tabs.mjs if it is still there
            try:
                self.proc.wait(timeout=20)
            except AssertionError:
                pass


def serve_again_on(web_port, attempts=20, env=None):
    """The server started again with its page on web_port (env: its environment); returns (proc, tcp port).
    While the port is still taken the start fails with "address already in use": it is tried again, at
    most `attempts` times."""
    for _ in range(attempts):
        server = dschat("serve", "--mode", "async", "--port", 0, "--web-port", web_port, env=env)
        try:
            server.wait_output(WEB_LISTENING)
            return server, web_ports(server)[0]
        except AssertionError:
            if server.popen.poll() is None:
                raise
        assert server.wait() == 1 and b"address already in use" in server.err, server.err
    raise AssertionError(f"port {web_port} still taken after {attempts} starts")


def two_tabs_and_nc_chat_with_each_other(tabs, nc):
    a, b = tabs.names
    for tab in (0, 1):
        tabs.wait(tab, online=[nc.name, a, b])
    tabs.send(0, "hello from tab one")
    tabs.see(0, "chat self", "hello from tab one", name=a)
    tabs.see(1, "chat", "hello from tab one", name=a)
    before = lines_until(nc, f"<{a}> hello from tab one".encode())
    tabs.send(1, "hello from tab two")
    tabs.see(0, "chat", "hello from tab two", name=b)
    before += lines_until(nc, f"<{b}> hello from tab two".encode())
    assert sorted(before) == sorted([f"* {a} joined".encode(), f"* {b} joined".encode()]), before
    nc.send("hello from nc")
    for tab in (0, 1):
        tabs.see(tab, "chat", "hello from nc", name=nc.name)
    # The server sends a line to everyone but its sender, in order: had it come back to its sender, it
    # would be there before the line that answered it.
    assert tabs.chat(0) == [("chat self", a, "hello from tab one"), ("chat", b, "hello from tab two"),
                            ("chat", nc.name, "hello from nc")]
    assert tabs.chat(1) == [("chat", a, "hello from tab one"), ("chat self", b, "hello from tab two"),
                            ("chat", nc.name, "hello from nc")]
    tabs.send(1, "bye from tab two")
    tabs.see(0, "chat", "bye from tab two", name=b)
    assert nc.line() == f"<{b}> bye from tab two".encode()  # and not nc's own line first


def a_half_typed_line_is_kept_while_lines_arrive(tabs, nc):
    a = tabs.names[0]
    tabs.type(0, "half a li")
    for n in range(3):
        nc.send(f"interrupting {n}")
    tabs.see(0, "chat", "interrupting 2", name=nc.name)
    state = tabs.state(0)
    assert state["input"] == "half a li" and state["focused"] == "line", state
    tabs.type(0, "ne")
    tabs.press(0, "Enter")
    assert nc.line() == f"<{a}> half a line".encode()
    tabs.see(1, "chat", "half a line", name=a)


def markup_from_nc_is_shown_as_text(tabs, nc):
    lines = ["<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=2">']
    for line in lines:
        nc.send(line)
    for tab in (0, 1):
        for line in lines:
            tabs.see(tab, "chat", line, name=nc.name)
        state = tabs.state(tab)
        # No element was made of them: only the page's own li and span in the conversation, no image, the
        # page's one script, and neither handler ran.
        assert state["foreign"] == [] and state["images"] == 0 and state["scripts"] == 1, state
        assert state["pwned"] == "undefined", state


def nick_from_the_page(tabs, nc):
    a, b = tabs.names
    tabs.send(0, "/nick alice")
    tabs.wait(0, me="alice")
    for tab in (0, 1):
        tabs.see(tab, "notice", f"* {a} is now alice")
        tabs.wait(tab, online=[nc.name, "alice", b])
    assert nc.line() == f"* {a} is now alice".encode()
    tabs.send(0, "hi as alice")
    tabs.see(0, "chat self", "hi as alice", name="alice")
    tabs.see(1, "chat", "hi as alice", name="alice")
    assert nc.line() == b"<alice> hi as alice"


def test_two_tabs_and_nc_in_one_room():
    """One Chromium with two tabs for all of these (starting it is the slow part), in turn."""
    server, port, web = web_server()
    nc = Nc(port)
    with Tabs(web, 2) as tabs:
        two_tabs_and_nc_chat_with_each_other(tabs, nc)
        a_half_typed_line_is_kept_while_lines_arrive(tabs, nc)
        markup_from_nc_is_shown_as_text(tabs, nc)
        nick_from_the_page(tabs, nc)
    stop_cleanly(server, nc)


def test_the_page_reconnects_after_a_server_restart():
    server, port, web = web_server()
    nc = Nc(port)
    with Tabs(web, 1) as tabs:
        (a,) = tabs.names
        tabs.send(0, "/nick alice")
        tabs.wait(0, me="alice")
        tabs.send(0, "before the restart")
        assert lines_until(nc, b"<alice> before the restart") in (
            [f"* {a} is now alice".encode()], [f"* {a} joined".encode(), f"* {a} is now alice".encode()],
            [b"* alice joined"])
        nc.close()
        server.signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0, server.err[-2000:]
        tabs.see(0, "notice", "* server shutting down")
        tabs.see(0, "local", "* disconnected (1001 server shutting down) — reconnecting in 1 s")
        # A line typed while the server is down stays in the input line, and Enter keeps it there.
        tabs.send(0, "typed while down")
        tabs.see(0, "local", "* not connected — your text is kept; press Enter again once connected")
        assert tabs.state(0)["input"] == "typed while down"

        server, port = serve_again_on(web)
        nc = Nc(port)
        tabs.wait(0, status="^connected$", timeout=30)
        # The new server welcomes a guest; the page asks for the name chosen before by itself, shows the
        # command as if typed and the server's answer.
        tabs.wait(0, me="alice")
        state = tabs.state(0)
        welcomes = [entry["text"] for entry in state["entries"] if entry["text"].startswith("* welcome ")]
        assert len(welcomes) == 2, state
        b = welcomes[1].removeprefix("* welcome ").split(" ")[0]
        assert b != "alice", state
        texts = [(entry["kind"], entry["text"]) for entry in state["entries"]]
        renamed = texts.index(("notice", f"* {b} is now alice"))
        assert texts[renamed - 1] == ("command", "/nick alice"), texts
        tabs.press(0, "Enter")
        tabs.send(0, "after the restart")
        # nc joined before or after the page and its /nick: it sees all of that, some or none of it.
        before = lines_until(nc, b"<alice> typed while down")
        seen = {f"* {b} joined".encode(), f"* {b} is now alice".encode(), b"* alice joined"}
        assert set(before) <= seen, before
        assert nc.line() == b"<alice> after the restart"
        nc.send("welcome back")
        tabs.see(0, "chat", "welcome back", name=nc.name)
        assert tabs.state(0)["input"] == ""

        # Once more, with a room password that holds the page at its prompt while nc takes the name: the
        # page shows the server's answer to the /nick it sends by itself.
        nc.close()
        server.signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0, server.err[-2000:]
        tabs.wait(0, status="^reconnecting in ")
        server, port = serve_again_on(web, env={**os.environ, "DSCHAT_PASSWORD": "secret"})
        nc = Nc(port, password="secret")
        nc.send("/nick alice")
        assert nc.line() == f"* {nc.name} is now alice".encode()
        tabs.see(0, "notice", PASSWORD_PROMPT, timeout=30)
        tabs.send(0, "/pass secret")
        tabs.see(0, "error", "! name taken: alice")
        state = tabs.state(0)
        welcomes = [entry["text"] for entry in state["entries"] if entry["text"].startswith("* welcome ")]
        assert len(welcomes) == 3 and welcomes[2].startswith(f"* welcome {state['me']} — "), state
        assert state["me"] != "alice", state
    stop_cleanly(server, nc)


def test_the_page_over_https_chats_over_wss_with_a_tls_client():
    with tempfile.TemporaryDirectory() as directory:
        files = make_test_ca(directory)
        server, port, web = web_server("--tls-cert", files["server.pem"], "--tls-key", files["server.key"])
        member, name = join_tls(port)
        with Tabs(web, 1, scheme="https") as tabs:  # its Chromium ignores certificate errors: tabs.mjs says why
            (a,) = tabs.names
            # Loaded over https from a port that speaks TLS only: its WebSocket is wss.
            assert tabs.state(0)["url"] == tabs.url and tabs.url.startswith("https://"), tabs.url
            tabs.wait(0, online=[name, a])
            tabs.send(0, "hello over wss")
            assert line_matching(member, rb"<") == f"<{a}> hello over wss".encode()
            member.send("hello over the TLS chat port\n")
            tabs.see(0, "chat", "hello over the TLS chat port", name=name)
        member.close_notify()
        stop_cleanly(server)


if __name__ == "__main__":
    run_tests(globals())
