"""threads-demo end to end: every thread greets, then says goodbye; lines never interleave."""

import os
import re

from harness import dschat, run, run_tests

HI = re.compile(rb"Hi, I'm thread (\d+)")
TID = re.compile(rb"Thread (\d+) is kernel thread (\d+)")
BYE = re.compile(rb"Bye from thread (\d+) after sleeping (\d+\.\d{3}) s")


def parse(output):
    events = []
    for line in output.splitlines():
        if m := HI.fullmatch(line):
            events.append(("hi", int(m[1]), None, None))
        elif m := TID.fullmatch(line):
            events.append(("tid", int(m[1]), m[2], None))
        elif m := BYE.fullmatch(line):
            events.append(("bye", int(m[1]), None, m[2]))
        else:
            raise AssertionError(f"malformed line {line!r}")
    return events


def test_threads_demo_default_three():
    result = run("threads-demo", "--max-sleep", "0.2")
    assert result.returncode == 0, result
    events = parse(result.stdout)
    assert sorted(e[1] for e in events if e[0] == "hi") == [1, 2, 3]
    assert sorted(e[1] for e in events if e[0] == "bye") == [1, 2, 3]


def test_threads_demo_greeting_first_and_ids_match():
    result = run("threads-demo", "--threads", 8, "--max-sleep", "0.3", "--seed", 42)
    assert result.returncode == 0, result
    events = parse(result.stdout)
    assert len(events) == 24
    for number in range(1, 9):
        mine = [e for e in events if e[1] == number]
        assert [e[0] for e in mine] == ["hi", "tid", "bye"], mine
    tids = {e[2] for e in events if e[0] == "tid"}
    assert len(tids) == 8, "the threads ran at the same time, each with its own id"


def test_threads_demo_shows_the_kernel_thread_ids_ps_shows():
    # Long sleeps keep the threads alive while /proc (what ps -L and top -H read) is compared.
    demo = dschat("threads-demo", "--threads", 3, "--max-sleep", 3600, "--seed", 1)
    demo.wait_output(rb"(?s)(?:.*?Thread \d+ is kernel thread \d+\n){3}", timeout=10)
    tids = {int(m[2]) for m in TID.finditer(demo.out)}
    assert len(tids) == 3, demo.out
    assert tids <= {int(t) for t in os.listdir(f"/proc/{demo.pid}/task")}, (tids, demo.out)
    assert demo.pid not in tids, "the worker threads are not the main thread"
    demo.stop()


def test_threads_demo_seed_reproduces_sleeps():
    def sleeps(output):
        return sorted((e[1], e[3]) for e in parse(output) if e[0] == "bye")

    first = run("threads-demo", "--threads", 4, "--max-sleep", "0.2", "--seed", 7)
    second = run("threads-demo", "--threads", 4, "--max-sleep", "0.2", "--seed", 7)
    assert first.returncode == second.returncode == 0, (first.stderr, second.stderr)
    assert len(sleeps(first.stdout)) == 4, first.stdout
    assert sleeps(first.stdout) == sleeps(second.stdout)
    assert all(float(s) <= 0.2 for _, s in sleeps(first.stdout))


if __name__ == "__main__":
    run_tests(globals())
