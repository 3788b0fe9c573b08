"""Command-line flags: every numeric flag refuses NaN, infinities, negatives and out-of-range values with one
plain line and exit 2; flags that mean nothing for a mode are refused; each alias's --help shows only its
own mode's defaults."""

from harness import run, run_concurrently, run_tests, start_server


def refused(*args):
    """Runs dschat with args, which must be refused as a usage error; returns its one stderr line."""
    result = run(*args, timeout=10)
    assert result.returncode == 2, (args, result)
    assert result.stdout == b"", (args, result.stdout)
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dschat: "), (args, lines)
    return lines[0]


def refused_each(cases, check=lambda args, line: None):
    """refused(*args) for each args of cases, a few at a time, then check(args, line) on its line; returns
    the lines in the order of cases. A failure names its case (run_concurrently)."""
    def one(args):
        line = refused(*args)
        check(args, line)
        return line
    return run_concurrently(one, cases)


def test_numeric_flags_refuse_nan_infinity_and_out_of_range():
    cases = [
        ("serve", "--mode", "async", "--burst"),
        ("serve", "--mode", "async", "--rate"),
        ("threads-demo", "--max-sleep"),
        ("bench", "broadcast", "--port", "1", "--rate"),
        ("bench", "broadcast", "--port", "1", "--duration"),
        ("bench", "broadcast", "--port", "1", "--warmup"),
        ("bench", "broadcast", "--port", "1", "--drain"),
        ("bench", "broadcast", "--port", "1", "--connect-rate"),
    ]

    def plain_and_naming_the_flag(args, line):
        assert args[-2] in line, line
        assert "Value" not in line and "UINT" not in line and "FLOAT" not in line, line

    refused_each([(*prefix, value) for prefix in cases
                  for value in ("nan", "NaN", "inf", "-inf", "infinity", "-1", "1e400", "abc", "")],
                 plain_and_naming_the_flag)


def test_integer_flags_refuse_negatives_fractions_and_junk():
    cases = [
        ("serve", "--port"),
        ("serve", "--max-line"),
        ("serve", "--mode", "async", "--max-clients"),
        ("serve", "--mode", "async", "--max-queue"),
        ("serve", "--mode", "async", "--big-room"),
        ("client", "--port"),
        ("chat", "--port"),
        ("threads-demo", "--threads"),
        ("threads-demo", "--seed"),
        ("bench", "echo", "--port"),
        ("bench", "echo", "--port", "1", "--clients"),
        ("bench", "echo", "--port", "1", "--stuck"),
        ("bench", "echo", "--port", "1", "--senders"),
        ("bench", "echo", "--port", "1", "--window"),
        ("bench", "echo", "--port", "1", "--payload"),
        ("bench", "echo", "--port", "1", "--server-pid"),
    ]

    def plain_and_naming_the_flag(args, line):
        assert args[-2] in line, line
        assert "Value" not in line and "UINT" not in line and "could not be converted" not in line, line

    refused_each([(*prefix, value) for prefix in cases
                  for value in ("-1", "1.5", "nan", "inf", "abc", "99999999999999999999999")],
                 plain_and_naming_the_flag)


def test_errors_speak_plainly():
    port, sleep, seed, required = refused_each([("serve", "--port", "70000"), ("threads-demo", "--max-sleep", "nan"),
                                                ("threads-demo", "--seed", "-1"), ("bench", "echo")])
    assert port == "dschat: --port expects a TCP port from 0 to 65535, got '70000' (see dschat serve --help)", port
    assert sleep == ("dschat: --max-sleep expects a number of seconds from 0 to 3600, got 'nan' "
                     "(see dschat threads-demo --help)"), sleep
    assert "--seed expects a whole number from 0 to 18446744073709551615, got '-1'" in seed, seed
    assert required == "dschat: --port is required (see dschat bench --help)", required


def test_a_repeated_flag_takes_its_last_value():
    result = run("threads-demo", "--threads", "5", "--threads", "1", "--max-sleep", "0", "--seed", "1")
    assert result.returncode == 0, result
    assert result.stdout.decode().count("Hi, I'm thread") == 1, result.stdout


def test_flags_that_mean_nothing_for_the_mode_are_refused():
    cases = [
        (("serve", "--mode", "once", "--raw"), "--raw"),
        (("serve", "--mode", "once", "--rate", "5"), "--rate"),
        (("serve", "--mode", "once", "--burst", "5"), "--burst"),
        (("serve", "--mode", "once", "--max-queue", "2048"), "--max-queue"),
        (("serve", "--mode", "once", "--max-clients", "5"), "--max-clients"),
        (("serve", "--mode", "threaded", "--raw"), "--raw"),
        (("serve", "--mode", "threaded", "--service", "echo", "--raw"), "--raw"),
        (("serve", "--mode", "async", "--service", "echo", "--raw"), "--raw"),
        (("threaded-server", "--raw"), "--raw"),
        (("async-server", "--service", "echo", "--raw"), "--raw"),
        (("serve", "--mode", "once", "--big-room", "5"), "--big-room"),
        (("serve", "--mode", "threaded", "--big-room", "5"), "--big-room"),
        (("serve", "--mode", "async", "--service", "echo", "--big-room", "5"), "--big-room"),
    ]
    lines = dict(zip((args for args, _ in cases), refused_each([(*args, "--port", "0") for args, _ in cases])))
    for args, flag in cases:
        assert flag in lines[args], (args, lines[args])
    line = lines["serve", "--mode", "once", "--raw"]
    assert line == "dschat: --raw means nothing for --mode once: it serves echo only (see dschat serve --help)", line
    line = lines["serve", "--mode", "async", "--service", "echo", "--raw"]
    assert line == "dschat: --raw applies to the chat service only (see dschat serve --help)", line
    # The same flags where they mean something start a server.
    for args in (("serve", "--mode", "async", "--raw"), ("threaded-server", "--service", "chat", "--raw")):
        start_server(*args, "--port", 0)[0].stop()


def test_bench_idle_refuses_the_load_flags():
    def names_the_flag(args, line):
        flag = args[-2]
        assert line == (f"dschat: {flag} means nothing for bench idle: it only opens and holds connections "
                        "(see dschat bench --help)"), line

    refused_each([("bench", "idle", "--port", "1", flag, value)
                  for flag, value in (("--rate", "10"), ("--senders", "1"), ("--window", "4"), ("--payload", "100"),
                                      ("--stuck", "1"), ("--warmup", "1"), ("--drain", "1"))],
                 names_the_flag)


def test_alias_help_shows_only_its_own_mode():
    once, threaded, asynchronous, serve = run_concurrently(
        lambda command: run(command, "--help").stdout.decode(),
        ("echo-once", "threaded-server", "async-server", "serve"))
    assert "8080" in once and "8888" not in once and "async" not in once, once
    assert "--raw" not in once and "--rate" not in once, once
    assert "=8080" in threaded and "8888" not in threaded and "async" not in threaded, threaded
    assert "=echo" in threaded, threaded
    assert "=8888" in asynchronous and "8080" not in asynchronous and "threaded" not in asynchronous, asynchronous
    assert "=chat" in asynchronous, asynchronous
    assert "8080" in serve and "8888" in serve, serve


if __name__ == "__main__":
    run_tests(globals())
