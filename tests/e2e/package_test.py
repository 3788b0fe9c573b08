"""Packaging: `meson install` puts the binary and a manual that renders; the Dockerfile's runtime stage
installs every shared library the binary needs. Arguments: DSCHAT BUILD_ROOT SOURCE_ROOT."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

from harness import run_tests

DSCHAT, BUILD_ROOT, SOURCE_ROOT = (os.path.abspath(a) for a in sys.argv[1:4])


def find(root, name):
    for folder, _, files in os.walk(root):
        if name in files:
            return os.path.join(folder, name)
    return None


def test_meson_install_binary_and_manual():
    with tempfile.TemporaryDirectory() as destdir:
        subprocess.run(["meson", "install", "-C", BUILD_ROOT, "--destdir", destdir, "--no-rebuild", "--quiet"],
                       check=True, capture_output=True, timeout=120)
        binary = find(destdir, "dschat")
        manual = find(destdir, "dschat.1")
        assert binary and os.access(binary, os.X_OK), os.listdir(destdir)
        assert manual and os.path.basename(os.path.dirname(manual)) == "man1", manual
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
        assert version.returncode == 0 and version.stdout.startswith("dschat "), version
        env = dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0")
        page = subprocess.run(["man", "-l", manual], capture_output=True, text=True, timeout=30, env=env)
        assert page.returncode == 0, page.stderr
        text = re.sub(r".\x08", "", page.stdout)  # drop bold/underline overstrikes
        assert "DSCHAT(1)" in text and "SUBCOMMANDS" in text, text[:500]
        # Every subcommand the program lists is documented with its flags.
        listed = re.findall(r"^  ([\w-]+)", subprocess.run([binary, "--help"], capture_output=True, text=True).stdout,
                            re.M)
        for name in [n for n in listed if not n.startswith("-")]:
            assert f"dschat {name}" in text, name
            for flag in re.findall(r"^  (?:-\w,)?(--[\w-]+)", subprocess.run([binary, name, "--help"],
                                   capture_output=True, text=True).stdout, re.M):
                assert flag in text, (name, flag)


def runtime_packages():
    """Packages installed by the Dockerfile's runtime stage."""
    with open(os.path.join(SOURCE_ROOT, "Dockerfile"), encoding="utf-8") as handle:
        dockerfile = handle.read()
    runtime = dockerfile.split(" AS runtime", 1)[1].replace("\\\n", " ")
    match = re.search(r"apt-get install -y --no-install-recommends ([^&\n]+)", runtime)
    assert match, "runtime stage installs its libraries with apt-get"
    return set(match.group(1).split())


def test_dockerfile_runtime_has_every_shared_library():
    if shutil.which("dpkg") is None:
        raise AssertionError("dpkg is needed to map libraries to packages")
    libraries = re.findall(r"=> (/\S+)", subprocess.run(["ldd", DSCHAT], capture_output=True, text=True,
                                                        check=True).stdout)
    assert libraries, "dschat links shared libraries"
    wanted = set()
    for library in libraries:
        owner = None
        for path in (library, os.path.realpath(library)):
            result = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
            if result.returncode == 0:
                owner = result.stdout.split(":")[0]
                break
        assert owner, f"no package owns {library}"
        wanted.add(owner)
    wanted.discard("libc6")  # part of every Debian image
    # Sanitizer builds link their runtimes; the image is built without sanitizers.
    wanted = {p for p in wanted if not re.fullmatch(r"lib(a|ub|t|l)san\d*", p)}
    missing = wanted - runtime_packages()
    assert not missing, f"Dockerfile runtime stage lacks {sorted(missing)}"


def test_dockerignore_and_gitignore_exclude_builds():
    for name in (".dockerignore", ".gitignore"):
        with open(os.path.join(SOURCE_ROOT, name), encoding="utf-8") as handle:
            patterns = handle.read().split()
        assert any(p.lstrip("/").startswith("build") for p in patterns), name
    # The tests run from a git checkout: without its metadata nothing says what is tracked, a failure.
    tracked = subprocess.run(["git", "-C", SOURCE_ROOT, "ls-files"], capture_output=True, text=True)
    assert tracked.returncode == 0, f"git ls-files failed (no git metadata?): {tracked.stderr}"
    assert tracked.stdout.split(), "git ls-files lists no file"
    assert not [f for f in tracked.stdout.split() if f.startswith("build") or f.endswith((".o", ".a"))]


if __name__ == "__main__":
    run_tests(globals())
