"""The harness's own promises: after each test every server is stopped with SIGTERM and must exit 0 with no
sanitizer text on stderr, a server killed on purpose is exempt, and a skip is never a pass (exit 77, and a
failure under CI). Each case runs a small test file in a child Python against a fake server."""

import os
import subprocess
import sys
import tempfile
import textwrap

from harness import DSCHAT, dschat, run_tests, start_server

HERE = os.path.dirname(os.path.abspath(__file__))

# A fake server: says it listens, then on SIGTERM does what argv[1] names.
FAKE_SERVER = textwrap.dedent('''
    import signal, sys, time
    how = sys.argv[1]
    def on_term(signum, frame):
        if how == "asan":
            sys.stderr.write("==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020\\n")
        if how == "leak":
            sys.stderr.write("==4242==ERROR: LeakSanitizer: detected memory leaks\\n")
        if how == "ubsan":
            sys.stderr.write("chat_room.cpp:12:3: runtime error: signed integer overflow\\n")
        if how == "tsan":
            sys.stderr.write("WARNING: ThreadSanitizer: data race (pid=4242)\\n")
        sys.stderr.flush()
        sys.exit(3 if how == "exit3" else 0)
    signal.signal(signal.SIGTERM, on_term)
    print("listening on 127.0.0.1:1", flush=True)
    if how == "exit3-now":
        sys.exit(3)
    for _ in range(600):  # bounded: at most a minute
        time.sleep(0.1)
''')

# A test file for the child: argv[1] is the fake server, argv[2] what the test does.
CHILD = textwrap.dedent('''
    import sys
    sys.path.insert(0, {here!r})
    import harness
    from harness import Proc, Skip, run_tests, wait_until
    fake, how, action = sys.argv[1], sys.argv[2], sys.argv[3]

    def test_case():
        server = Proc([sys.executable, fake, how], check=True)
        server.wait_output("listening on")
        if action == "kill":
            server.kill()
        if action == "exited":
            wait_until(lambda: server.popen.poll() is not None, 10, "the fake server to exit")
        if action == "skip":
            raise Skip("a tool is missing")

    run_tests(globals())
''')


def run_child(how, action="none", ci=False):
    with tempfile.TemporaryDirectory() as tmp:
        fake = os.path.join(tmp, "fake_server.py")
        child = os.path.join(tmp, "child_test.py")
        with open(fake, "w") as f:
            f.write(FAKE_SERVER)
        with open(child, "w") as f:
            f.write(CHILD.format(here=HERE))
        env = dict(os.environ, CI="true" if ci else "")
        return subprocess.run([sys.executable, child, fake, how, action], capture_output=True, timeout=60,
                              env=env)


def test_a_server_that_exits_0_on_sigterm_passes():
    result = run_child("clean")
    assert result.returncode == 0, result
    assert b"PASS test_case" in result.stdout, result


def test_a_sanitizer_report_at_teardown_fails_the_test():
    for how, text in (("asan", b"AddressSanitizer"), ("leak", b"LeakSanitizer"), ("ubsan", b"runtime error:"),
                      ("tsan", b"ThreadSanitizer")):
        result = run_child(how)
        assert result.returncode == 1, (how, result)
        assert b"FAIL test_case" in result.stdout, (how, result)
        assert b"teardown" in result.stderr and text in result.stderr, (how, result)


def test_a_nonzero_exit_after_sigterm_fails_the_test():
    result = run_child("exit3")
    assert result.returncode == 1, result
    assert b"exited 3 after SIGTERM" in result.stderr, result


def test_a_server_that_exited_unobserved_with_an_error_fails_the_test():
    result = run_child("exit3-now", "exited")
    assert result.returncode == 1, result
    assert b"exited 3 on its own" in result.stderr, result


def test_a_server_killed_on_purpose_is_exempt_from_the_exit_code():
    result = run_child("clean", "kill")
    assert result.returncode == 0, result


def test_a_skip_exits_77_and_fails_under_ci():
    result = run_child("clean", "skip")
    assert result.returncode == 77, result
    assert b"SKIP test_case: a tool is missing" in result.stdout, result
    result = run_child("clean", "skip", ci=True)
    assert result.returncode == 1, result
    assert b"a failure under CI" in result.stdout, result


def test_dschat_servers_are_checked_and_clients_are_not():
    server, _ = start_server("serve", "--mode", "async", "--port", 0)  # the teardown stops it: exit 0
    client = dschat("client", "--port", 1)
    assert server.check and not client.check
    assert os.path.exists(DSCHAT)


if __name__ == "__main__":
    run_tests(globals())
