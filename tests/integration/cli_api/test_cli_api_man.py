"""The manual pages doc/berth.1 and doc/berthd.8: groff renders them
without a warning, and they name every command, subcommand and flag the
programs' --help lists, so that the two do not drift apart."""

import re
import shutil
import subprocess

import pytest

from berthd_testlib import BUILD, REPO

PAGES = {"berth": REPO / "doc" / "berth.1", "berthd": REPO / "doc" / "berthd.8"}


def render(page):
    """The page as plain text; groff's warnings (-ww) make it fail."""
    res = subprocess.run(["groff", "-man", "-Tascii", "-P-c", "-ww", str(page)],
                         capture_output=True, text=True, timeout=60)
    assert (res.returncode, res.stderr) == (0, ""), res.stderr
    # Bold and underline as the terminal would show them: overstrikes out.
    return re.sub(r".\x08", "", res.stdout)


def help_text(*args):
    res = subprocess.run([str(BUILD / args[0]), *args[1:], "--help"], capture_output=True,
                         text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr
    return res.stdout


def listed_commands(text):
    """The names under "Commands:" of a --help."""
    block = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.strip()]


def long_flags(text):
    return set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z-]*)", text, re.M))


@pytest.mark.skipif(not shutil.which("groff"), reason="no groff")
def test_man_pages_render_and_match_help():
    text = render(PAGES["berth"])
    entries = set(re.findall(r"^ {7}(\S+)", text, re.M))
    top = help_text("berth")
    for command in listed_commands(top):
        assert command in entries, f"berth {command} is not in berth(1)"
    for group in ("container", "image", "system"):
        section = re.search(rf"^ {{7}}{group}(?![\w-])(.*?)\n\n", text, re.M | re.S)[1]
        for sub in listed_commands(help_text("berth", group)):
            # Named in the group's entry, or one of the commands above.
            assert re.search(rf"(?<![\w-]){sub}(?![\w-])", section) or sub in entries, \
                f"berth {group} {sub} is not in berth(1)"
    for flag in long_flags(top):
        assert flag in text, f"berth {flag} is not in berth(1)"
    for name in ("BERTH_HOST", "DOCKER_HOST", "BERTH_DATA_ROOT", "DOCKER_CERT_PATH",
                 "DOCKER_TLS_VERIFY", "/run/berth.sock", "125", "126", "127"):
        assert name in text

    text = render(PAGES["berthd"])
    for flag in long_flags(help_text("berthd")) | {"--help"}:
        assert flag in text, f"berthd {flag} is not in berthd(8)"
    for key in ("hosts", "data-root", "exec-root", "pidfile", "log-level", "live-restore",
                "tlsverify", "tlscacert", "tlscert", "tlskey", "SIGTERM", "SIGHUP"):
        assert key in text


@pytest.mark.skipif(not shutil.which("man"), reason="no man")
def test_man_reads_the_pages():
    for page in PAGES.values():
        res = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True,
                             timeout=60, env={"PATH": "/usr/bin:/bin", "MANPAGER": "cat",
                                              "MANWIDTH": "80", "LC_ALL": "C.UTF-8"})
        assert res.returncode == 0 and res.stderr == "", res.stderr
        assert "SYNOPSIS" in res.stdout
