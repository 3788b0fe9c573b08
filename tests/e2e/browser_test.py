"""The chat page in a real headless Chromium (driven by playwright-core from tests/browser/) chatting with a
TCP client. Skipped when node, the browser or tests/browser/node_modules (npm install there) is missing."""

import os
import shutil
import subprocess
import sys
import time

from chat_helpers import join, stop_cleanly
from harness import Skip, run_tests
from web_test import web_server

BROWSER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def test_a_browser_and_a_tcp_client_chat_through_the_page():
    node = shutil.which("node")
    if node is None or not os.access(CHROMIUM, os.X_OK):
        raise Skip("needs node and chromium")
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        raise Skip("tests/browser/node_modules is missing: run scripts/setup-debian (npm ci there)")
    server, port, web = web_server()
    tcp, tcp_name = join(port)
    browser = subprocess.Popen(
        [node, "chat.mjs", f"http://127.0.0.1:{web}/", "hello from chromium", "hello from nc"],
        cwd=BROWSER_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "CHROMIUM": CHROMIUM})
    try:
        first = browser.stdout.readline().decode().strip()
        assert first.startswith("name "), (first, browser.stderr.read() if browser.poll() is not None else "")
        name = first[5:]
        deadline = time.monotonic() + 20
        while (line := tcp.line(timeout=max(0.01, deadline - time.monotonic()))) != f"<{name}> hello from chromium".encode():
            assert line.startswith(b"* "), line  # its join notice
        tcp.send("hello from nc\n")
        out, err = browser.communicate(timeout=20)
        assert browser.returncode == 0 and out.decode().strip() == "seen", (browser.returncode, out, err)
    finally:
        if browser.poll() is None:
            browser.kill()
            browser.wait()
    stop_cleanly(server, tcp)


if __name__ == "__main__":
    run_tests(globals())
