"""dschat chat on a real terminal: tmux runs it, send-keys types, capture-pane reads the screen. Checks that
incoming messages never clobber the line being typed, history, colours, and every way of leaving."""

import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

from harness import DSCHAT, LineSocket, run_tests, start_server
from tmux import Tmux

WELCOME = re.compile(rb"\* welcome (guest-\d+) ")


class ChatInTmux:
    """dschat chat in tmux behind a wrapper that writes its exit code to a file and keeps the pane open."""

    def __init__(self, port, env=""):
        """env: arguments for env(1) before the command, such as "-u NO_COLOR" or "NO_COLOR=1"."""
        self.port = port
        self.rc_file = tempfile.NamedTemporaryFile(prefix="dschat-chat-rc-", delete=False).name
        os.unlink(self.rc_file)
        # EDITRC: a developer's ~/.editrc (vi mode, say) must not change what the keys do.
        chat = f"env {env} EDITRC=/dev/null {shlex.quote(DSCHAT)} chat --port {port}"
        # After the exit code, whether the terminal's shared open file was left non-blocking (1).
        nonblock = "import fcntl, os; print(int(bool(fcntl.fcntl(0, fcntl.F_GETFL) & os.O_NONBLOCK)))"
        rc_file = shlex.quote(self.rc_file)
        wrapper = (f"{chat}; code=$?; {shlex.quote(sys.executable)} -c {shlex.quote(nonblock)} > {rc_file}.nb; "
                   f"mv {rc_file}.nb {rc_file}.flags; echo $code > {rc_file}; exec sleep 600")
        self.tmux = Tmux(f"bash -c {shlex.quote(wrapper)}")

    def exit_code(self, timeout=10):
        deadline = time.monotonic() + timeout
        while not (code := self._read_code()):
            if time.monotonic() > deadline:
                raise AssertionError("chat did not exit; screen:\n" + "\n".join(self.tmux.screen()))
            time.sleep(0.05)
        return int(code)

    def _read_code(self):
        try:
            with open(self.rc_file) as handle:
                return handle.read().strip()
        except FileNotFoundError:
            return ""

    def assert_terminal_restored(self):
        """Line mode with echo again, and standard input blocking (call after exit_code())."""
        settings = subprocess.run(["stty", "-a", "-F", self.tmux.tty()], capture_output=True, text=True,
                                  check=True).stdout.split()
        assert "icanon" in settings and "echo" in settings, settings
        with open(self.rc_file + ".flags") as flags:
            assert flags.read().strip() == "0", "standard input left non-blocking"

    def close(self):
        self.tmux.kill()
        for path in (self.rc_file, self.rc_file + ".flags", self.rc_file + ".nb"):
            if os.path.exists(path):
                os.unlink(path)


def setup(env=""):
    """A chat server, dschat chat in tmux joined to it, and a socket client; returns all and both names."""
    server, port = start_server("serve", "--mode", "async", "--port", 0)
    chat = ChatInTmux(port, env)
    try:
        chat.tmux.wait_screen(lambda lines: any(line.startswith("* welcome") for line in lines), "welcome")
        me = re.search(r"\* welcome (guest-\d+) ", "\n".join(chat.tmux.screen())).group(1)
        other = LineSocket(port)
        other_name = WELCOME.match(other.line()).group(1).decode()
        chat.tmux.wait_screen(lambda lines: f"* {other_name} joined" in lines, "join notice")
    except BaseException:
        chat.close()
        raise
    return server, chat, other, me, other_name


def test_tty_partial_line_survives_incoming_messages():
    server, chat, other, me, other_name = setup()
    try:
        screen = chat.tmux
        screen.type("half typed wörds")
        screen.wait_screen(lambda lines: lines[-1] == "> half typed wörds", "partial input")
        messages = [f"message {i} from the other side" for i in range(1, 6)]
        for text in messages:
            other.send(text + "\n")
        lines = screen.wait_screen(lambda lines: f"<{other_name}> {messages[-1]}" in lines, "messages")
        for text in messages:
            assert f"<{other_name}> {text}" in lines, lines
        # The partial input is still whole, alone on the last line, with the cursor right after it.
        assert lines[-1] == "> half typed wörds", lines
        assert lines[-2] == f"<{other_name}> {messages[-1]}", lines
        assert screen.cursor() == (len("> half typed wörds"), len(lines) - 1)

        screen.type(" done")
        screen.keys("Enter")
        assert other.line() == f"<{me}> half typed wörds done".encode()

        screen.keys("C-c")
        assert chat.exit_code() == 130
        chat.assert_terminal_restored()
        assert other.line() == f"* {me} left".encode()
    finally:
        chat.close()


def test_tty_long_wrapped_input_survives_incoming_messages():
    server, chat, other, me, other_name = setup()
    try:
        screen = chat.tmux
        long_text = ("a partial line longer than the terminal is wide, so it wraps " * 3).strip()
        screen.type(long_text)
        screen.keys("C-a", "Right", "Right")  # the cursor on the first of the wrapped rows
        screen.wait_cursor_x(4)
        other.send("interrupting message\n")
        screen.wait_screen(lambda lines: f"<{other_name}> interrupting message" in lines, "message")
        lines = screen.screen(joined=True)
        assert lines[-2:] == [f"<{other_name}> interrupting message", "> " + long_text], lines
        screen.keys("C-e")  # now on the last of the wrapped rows
        screen.wait_cursor_x((len("> ") + len(long_text)) % 120)
        other.send("second interruption\n")
        screen.wait_screen(lambda lines: f"<{other_name}> second interruption" in lines, "message")
        lines = screen.screen(joined=True)
        assert lines[-3:] == [f"<{other_name}> interrupting message", f"<{other_name}> second interruption",
                              "> " + long_text], lines
        screen.keys("C-a", "Right", "Right")
        screen.wait_cursor_x(4)
        screen.type("X")
        screen.keys("Enter")
        assert other.line() == f"<{me}> a X{long_text[2:]}".encode()
        screen.keys("C-d")
        assert chat.exit_code() == 0
    finally:
        chat.close()


def test_tty_history_colours_and_ctrl_d():
    server, chat, other, me, other_name = setup("-u NO_COLOR")
    try:
        screen = chat.tmux
        screen.type("first line")
        screen.keys("Enter")
        assert other.line() == f"<{me}> first line".encode()
        screen.type("second")
        screen.keys("Enter")
        assert other.line() == f"<{me}> second".encode()
        screen.keys("Up", "Up", "Enter")  # history: back to the first line
        assert other.line() == f"<{me}> first line".encode()

        other.send("colourful\n")
        screen.wait_screen(lambda lines: f"<{other_name}> colourful" in lines, "message")
        coloured = "\n".join(screen.screen(escapes=True))
        assert re.search(r"\x1b\[[0-9;]*m<" + other_name + r">\x1b\[", coloured), coloured
        assert re.search(r"\x1b\[[0-9;]*m\* welcome " + me, coloured), coloured  # notices too

        screen.keys("C-d")
        assert chat.exit_code() == 0
        chat.assert_terminal_restored()
        assert other.line() == f"* {me} left".encode()
    finally:
        chat.close()


def test_tty_no_color_and_quit_command():
    server, chat, other, me, other_name = setup("NO_COLOR=1")
    try:
        screen = chat.tmux
        other.send("plain please\n")
        screen.wait_screen(lambda lines: f"<{other_name}> plain please" in lines, "message")
        assert "\x1b" not in "\n".join(screen.screen(escapes=True))
        screen.type("/quit")
        screen.keys("Enter")
        assert chat.exit_code() == 0
        chat.assert_terminal_restored()
        assert other.line() == f"* {me} left".encode()
    finally:
        chat.close()


def test_tty_server_closing_restores_the_terminal():
    server, chat, other, me, other_name = setup()
    try:
        screen = chat.tmux
        screen.type("unsent")
        screen.wait_screen(lambda lines: lines[-1] == "> unsent", "partial input")
        server.signal(signal.SIGTERM)
        assert chat.exit_code() == 0
        lines = screen.wait_screen(lambda lines: "closed by the server" in lines[-1], "close message")
        assert lines[-2:] == ["* server shutting down",
                              f"dschat: connection to 127.0.0.1:{chat.port} closed by the server"], lines
        chat.assert_terminal_restored()
        assert server.wait() == 0
    finally:
        chat.close()


if __name__ == "__main__":
    run_tests(globals())
