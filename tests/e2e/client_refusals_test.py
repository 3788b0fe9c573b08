"""dschat client with the servers a student points it at by mistake, and on a terminal: a chat server
that never answers its sender, a full server, an error reply, and lines typed ahead of a closing server."""

import shlex
import signal
import time

from harness import DSCHAT, LineSocket, run, run_tests, start_server
from tmux import Tmux


def stop(server):
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=10) == 0, server.err[-2000:]


def test_a_server_that_does_not_answer_times_out_with_a_hint():
    server, port = start_server("serve", "--mode", "async", "--port", 0)  # chat: no reply to the sender
    started = time.monotonic()
    result = run("client", "--port", port, "--timeout", "0.5", input=b"hello\nanyone?\n")
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result
    assert result.stdout.startswith(b"* welcome guest-1"), result  # the welcome came back to "hello"
    assert result.stderr == (f"dschat: no reply from 127.0.0.1:{port} within 0.5 s (a chat server does not "
                             "answer its sender: try dschat chat)\n").encode(), result
    assert elapsed < 5, elapsed
    stop(server)


def test_a_full_server_exits_1():
    server, port = start_server("serve", "--mode", "async", "--service", "echo", "--max-clients", 1, "--port", 0)
    holder = LineSocket(port)
    holder.send(b"here\n")
    assert holder.line() == b"here"
    result = run("client", "--port", port, "hello")
    assert result.returncode == 1, result
    assert result.stdout == b"! server full\n", result
    holder.close()
    stop(server)


def test_an_error_reply_exits_1_after_the_rest():
    server, port = start_server("serve", "--mode", "threaded", "--max-line", 8, "--port", 0)
    result = run("client", "--port", port, input=b"fine\nmuch too long\nend\n")
    assert result.returncode == 1, result
    assert result.stdout == b"fine\n! line too long (max 8 bytes)\nend\n", result
    stop(server)


def test_terminal_prompt_and_no_typed_ahead_line_reaches_the_shell():
    server, port = start_server("echo-once", "--port", 0)  # replies once, then closes
    shell = Tmux("env -i PS1='$ ' TERM=xterm bash --norc --noprofile")
    try:
        shell.wait_screen(lambda lines: lines and lines[-1].startswith("$"), "the shell prompt")
        shell.type(f"{shlex.quote(DSCHAT)} client --port {port}\n")
        server.wait_output(b" connected", stream="err")
        # Typed at once while the client runs: the lines after the first wait in the terminal, and the
        # client ends (the server closes) before it reads the last one.
        shell.type("first\nsecond\necho TYPED''AHEAD\n")
        shell.wait_screen(lambda lines: any("closed by the server" in line for line in lines), "the close")
        shell.type("echo DO''NE\n")
        lines = shell.wait_screen(lambda lines: "DONE" in lines, "the shell to run a new command")
        assert "TYPEDAHEAD" not in lines, "\n".join(lines)  # the shell did not run the line typed ahead
        assert "> first" in lines, "\n".join(lines)  # the prompt, the line typed, then its reply
        assert "first" in lines, "\n".join(lines)
    finally:
        shell.kill()
    assert server.wait(timeout=10) == 0, server.err


if __name__ == "__main__":
    run_tests(globals())
