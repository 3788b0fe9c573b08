"""The manual page dschat.1, rendered with man(1) as a reader sees it: every subcommand has its own section
with every one of its flags, and the chat commands, NO_COLOR, the protocol and the exit codes are there."""

import os
import re
import subprocess
import sys

from harness import LineSocket, run, run_tests, start_server

MANUAL = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("DSCHAT_MANUAL", "")


def rendered():
    env = dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0", LC_ALL="C.UTF-8")
    page = subprocess.run(["man", "-l", MANUAL], capture_output=True, text=True, timeout=30, env=env)
    assert page.returncode == 0, page.stderr
    assert page.stderr == "", page.stderr  # groff warns about broken markup here
    return re.sub(r".\x08", "", page.stdout)  # drop bold/underline overstrikes


def subcommands():
    """Each subcommand and alias `dschat --help` lists, by its first name (chat, not "chat,")."""
    names = []
    section = None
    for line in run("--help").stdout.decode().splitlines():
        if re.fullmatch(r"[A-Z][A-Za-z ]*:", line):
            section = line[:-1]
        elif section in ("Subcommands", "Aliases") and (match := re.match(r"  ([\w-]+)", line)):
            names.append(match.group(1))
    return names


def test_every_subcommand_has_a_section_with_each_of_its_flags():
    text = rendered()
    names = subcommands()
    assert "chat" in names and "bench" in names and "echo-once" in names, names
    assert "dschat chat," not in text
    headings = [(name, text.find(f"\n   dschat {name}\n")) for name in names]
    for name, start in headings:
        assert start >= 0, f"no section for dschat {name}"
    ordered = sorted(headings, key=lambda h: h[1])
    for i, (name, start) in enumerate(ordered):
        end = ordered[i + 1][1] if i + 1 < len(ordered) else len(text)
        section = text[start:end]
        help_text = run(name, "--help")
        assert help_text.returncode == 0, (name, help_text)
        flags = re.findall(r"^  (?:-\w,)?(--[\w-]+)", help_text.stdout.decode(), re.M)
        assert "--help" in flags and len(flags) > 1, (name, flags)
        for flag in flags:
            assert flag in section, (name, flag)


def test_chat_commands_protocol_colour_and_exit_codes():
    text = rendered()
    for heading in ("CHAT COMMANDS", "PROTOCOL", "ENVIRONMENT", "EXIT STATUS"):
        assert re.search(rf"^{heading}$", text, re.M), heading
    assert "NO_COLOR" in text
    # Every command the server's own /help lists is documented.
    server, port = start_server("async-server", "--port", 0)
    client = LineSocket(port)
    try:
        client.line()
        client.send(b"/help\n")
        commands = re.findall(r"(//?[a-z]+)", client.line().decode())
    finally:
        client.close()
        server.stop()
    assert "/nick" in commands and "/quit" in commands, commands
    for command in commands:
        assert command in text, command
    exits = text[text.index("\nEXIT STATUS\n"):]
    for code in ("0", "1", "2", "130"):
        assert re.search(rf"^\s+{code}\s", exits, re.M), (code, exits[:600])
    for form in ("<name> text", "* ", "! "):
        assert form in text[text.index("\nPROTOCOL\n"):], form


if __name__ == "__main__":
    run_tests(globals())
