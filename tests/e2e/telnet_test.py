"""The real telnet client (inetutils or netkit) typing Cyrillic, Greek and a check mark, driven in tmux,
against every server mode: what is typed arrives intact, no telnet byte reaches anyone else."""

import os
import shutil
import subprocess
import time

from harness import LineSocket, Skip, run_tests, start_server

TEXT = "уя σ ✓ first"  # 0x83, 0x8F, 0x83 and 0x9C among the bytes: telnet mangles them
LATER = "и ещё: σύνολο ✓✓"


class Telnet:
    """telnet 127.0.0.1 PORT in a tmux session on a private server socket of its own."""

    def __init__(self, port):
        if not shutil.which("tmux") or not shutil.which("telnet"):
            raise Skip("tmux and telnet are needed (scripts/setup-debian installs them)")
        self.socket = f"dschat-telnet-{os.getpid()}-{time.monotonic_ns()}"
        env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
        # The pane outlives telnet, so that what it printed last can still be read.
        self.tmux("new-session", "-d", "-x", "100", "-y", "30", f"telnet 127.0.0.1 {port}; sleep 60", env=env)
        self.pid = int(self.tmux("display-message", "-p", "#{pid}").strip())  # the tmux server's
        self.wait_screen("Escape character is")

    def tmux(self, *args, env=None):
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True,
                              env=env, timeout=10).stdout

    def type_line(self, text):
        self.tmux("send-keys", "-t", "0", "-l", text)
        self.tmux("send-keys", "-t", "0", "Enter")

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "0")

    def wait_screen(self, text, count=1, timeout=10):
        deadline = time.monotonic() + timeout
        while self.screen().count(text) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on the telnet screen {count} times:\n{self.screen()}")
            time.sleep(0.05)

    def close(self):
        try:
            os.kill(self.pid, 15)  # the tmux server we started, and the telnet in it
        except ProcessLookupError:
            pass


def chat_line_from_telnet(*server_args):
    server, port = start_server(*server_args, "--port", 0)
    observer = LineSocket(port)
    assert observer.line().startswith(b"* welcome guest-1")
    telnet = Telnet(port)
    try:
        assert observer.line() == b"* guest-2 joined"
        telnet.type_line(TEXT)
        assert observer.line() == f"<guest-2> {TEXT}".encode()
        telnet.type_line(LATER)
        assert observer.line() == f"<guest-2> {LATER}".encode()
        observer.send("hi telnet ✓\n")
        telnet.wait_screen("<guest-1> hi telnet ✓")  # the timing marks were answered: telnet still prints
        assert b"\xff" not in observer.buffer
    finally:
        telnet.close()
    observer.close()
    server.stop()


def test_async_chat_relays_telnet_text_intact():
    chat_line_from_telnet("serve", "--mode", "async")


def test_threaded_chat_relays_telnet_text_intact():
    chat_line_from_telnet("serve", "--mode", "threaded", "--service", "chat")


def echo_to_telnet(*server_args):
    server, port = start_server(*server_args, "--port", 0)
    telnet = Telnet(port)
    try:
        telnet.type_line(TEXT)
        telnet.wait_screen(TEXT, count=2)  # what telnet shows as typed, and the echo
        telnet.type_line(LATER)
        telnet.wait_screen(LATER, count=2)
        telnet.type_line("end")
        telnet.wait_screen("Connection closed by foreign host")
    finally:
        telnet.close()
    server.wait_output(rb"disconnected: end after [\d.]+ s, 3 lines in, 3 out", stream="err")
    server.stop()


def test_threaded_echo_echoes_telnet_text_and_end_works():
    echo_to_telnet("serve", "--mode", "threaded")


def test_async_echo_echoes_telnet_text_and_end_works():
    echo_to_telnet("serve", "--mode", "async", "--service", "echo")


def test_once_prints_and_echoes_telnet_text():
    server, port = start_server("serve", "--mode", "once", "--port", 0)
    telnet = Telnet(port)
    try:
        telnet.type_line(TEXT)
        server.wait_output(f": {TEXT}\n".encode())
        telnet.wait_screen(TEXT, count=2)
        assert server.wait(timeout=5) == 0
    finally:
        telnet.close()


if __name__ == "__main__":
    run_tests(globals())
