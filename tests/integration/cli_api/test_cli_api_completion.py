"""The bash completion script completes commands, flags and the names the
daemon it is pointed at knows."""

import shutil
import subprocess

import pytest

from berthd_testlib import BUILD, REPO

SCRIPT = REPO / "cmd" / "berth" / "berth.bash"


def complete(bb, *words):
    prog = f"""
source {SCRIPT}
COMP_WORDS=("$@"); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMPREPLY=()
_berth
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    env = dict(bb.env, PATH=f"{BUILD}:{bb.env['PATH']}")
    res = subprocess.run(["bash", "-c", prog, "bash", "berth", *words], env=env,
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return sorted(res.stdout.split())


@pytest.mark.skipif(not shutil.which("bash"), reason="no bash")
def test_completion(bb):
    host = ["-H", "unix://" + bb.d.sock]
    assert bb.run("docker", "run", "-d", "--name", "web1", "busybox", "sleep", "60"
                  ).returncode == 0
    assert bb.run("docker", "create", "--name", "idle1", "busybox", "true").returncode == 0
    assert complete(bb, "sta") == ["start", "stats"]
    assert complete(bb, "run", "--publ") == ["--publish", "--publish-all"]
    assert complete(bb, *host, "rm", "") == ["idle1", "web1"]
    assert complete(bb, *host, "exec", "") == ["web1"]
    assert complete(bb, *host, "run", "bus") == ["busybox:latest"]
    assert complete(bb, "container", "pr") == ["prune"]
    assert complete(bb, "system", "") == ["df", "events", "info", "prune"]
