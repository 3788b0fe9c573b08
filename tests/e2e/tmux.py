"""A private tmux server for the tests that need a real terminal: send-keys types, capture-pane reads."""

import itertools
import os
import shutil
import subprocess
import time

_sessions = itertools.count()


class Tmux:
    """A private tmux server (its own socket) running one command in a detached window."""

    def __init__(self, command, width=120, height=30):
        if shutil.which("tmux") is None:
            raise AssertionError("tmux is not installed (scripts/setup-debian installs it)")
        self.socket = f"dschat-chat-test-{os.getpid()}-{next(_sessions)}"
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), command)

    def tmux(self, *args):
        return subprocess.run(["tmux", "-u", "-f", "/dev/null", "-L", self.socket, *args], check=True,
                              capture_output=True, timeout=10).stdout

    def type(self, text):
        """Types text literally, without Enter."""
        self.tmux("send-keys", "-l", text)

    def keys(self, *names):
        """Presses named keys: Enter, Up, C-c, C-d ..."""
        self.tmux("send-keys", *names)

    def screen(self, escapes=False, joined=False):
        """The visible lines, trailing blanks dropped; with escapes, colours as SGR sequences; joined puts
        wrapped rows back together."""
        options = (["-e"] if escapes else []) + (["-J"] if joined else [])
        text = self.tmux("capture-pane", "-p", *options).decode()
        return [line.rstrip() for line in text.rstrip("\n").split("\n")]

    def cursor(self):
        x, y = self.tmux("display-message", "-p", "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def wait_cursor_x(self, x, timeout=15):
        """Waits until the cursor is in column x (after keys that only move it)."""
        deadline = time.monotonic() + timeout
        while self.cursor()[0] != x:
            if time.monotonic() > deadline:
                raise AssertionError(f"cursor at {self.cursor()}, expected column {x}")
            time.sleep(0.05)

    def tty(self):
        return self.tmux("display-message", "-p", "#{pane_tty}").decode().strip()

    def wait_screen(self, condition, what, timeout=15):
        """Waits until condition(screen lines) is true; returns those lines."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.screen()
            if condition(lines):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen:\n" + "\n".join(lines))
            time.sleep(0.05)

    def kill(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)
