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


@pytest.mark.skipif(not shutil.which("bash"), reason="no bash")
def test_completion_flag_values(bb, tmp_path):
    """The values docker's completion offers: restart policies, networks
    (container:NAME too), log levels, ps and images filters with their
    values, signals, security options, capabilities, ulimits, inspect's
    types, and files for the flags that take one.  A "key=value" is
    completed whole, or after the "=" or ":" bash splits it at."""
    host = ["-H", "unix://" + bb.d.sock]
    assert bb.run("docker", "run", "-d", "--name", "web1", "busybox", "sleep", "60"
                  ).returncode == 0
    assert bb.run("docker", "create", "--name", "idle1", "busybox", "true").returncode == 0
    assert complete(bb, "run", "--restart", "") == [
        "always", "no", "on-failure", "on-failure:", "unless-stopped"]
    assert complete(bb, "update", "--restart", "un") == ["unless-stopped"]
    assert complete(bb, "run", "--restart", "on-failure:") == []
    assert complete(bb, "run", "--network", "") == ["bridge", "container:", "host", "none"]
    assert complete(bb, *host, "run", "--network", "container:w") == ["container:web1"]
    assert complete(bb, *host, "create", "--net", "container", ":", "") == ["idle1", "web1"]
    assert complete(bb, *host, "run", "--network", "container", ":") == [":idle1", ":web1"]
    assert complete(bb, "-l", "") == ["debug", "error", "fatal", "info", "warn"]
    assert complete(bb, "--log-level", "w") == ["warn"]
    assert complete(bb, "run", "-l", "") == []  # --label there
    keys = ["ancestor=", "before=", "exited=", "expose=", "health=", "id=", "is-task=",
            "label=", "name=", "network=", "publish=", "since=", "status=", "volume="]
    assert complete(bb, "ps", "--filter", "") == keys
    assert complete(bb, "container", "ls", "-f", "") == keys
    assert complete(bb, "ps", "-f", "st") == ["status="]
    assert complete(bb, "ps", "--filter", "status=r") == [
        "status=removing", "status=restarting", "status=running"]
    assert complete(bb, "ps", "--filter", "status", "=", "ex") == ["exited"]
    assert complete(bb, "ps", "-f", "health=") == [
        "health=healthy", "health=none", "health=starting", "health=unhealthy"]
    assert complete(bb, "ps", "-f", "is-task=") == ["is-task=false", "is-task=true"]
    assert complete(bb, *host, "ps", "--filter", "name=w") == ["name=web1"]
    assert complete(bb, *host, "ps", "--filter", "ancestor=bu") == ["ancestor=busybox:latest"]
    assert complete(bb, "images", "--filter", "dangling=") == ["dangling=false",
                                                               "dangling=true"]
    signals = ["CONT", "HUP", "INT", "KILL", "QUIT", "STOP", "TERM", "USR1", "USR2"]
    assert complete(bb, "kill", "-s", "") == sorted(signals + ["SIG" + s for s in signals])
    assert complete(bb, "kill", "--signal", "ki") == ["KILL"]
    assert complete(bb, "run", "--stop-signal", "SIGT") == ["SIGTERM"]
    assert complete(bb, "stop", "-s", "SIGK") == ["SIGKILL"]
    assert complete(bb, "run", "--security-opt", "") == [
        "apparmor=", "label=", "no-new-privileges", "seccomp=", "systempaths=unconfined"]
    assert complete(bb, "run", "--cap-add", "net_") == ["NET_ADMIN", "NET_BROADCAST"]
    assert complete(bb, "run", "--cap-add", "SYS_AD") == ["SYS_ADMIN"]
    assert complete(bb, "create", "--cap-drop", "CAP_NET") == ["CAP_NET_BIND_SERVICE",
                                                              "CAP_NET_RAW"]
    assert "CHOWN" in complete(bb, "run", "--cap-drop", "")
    assert complete(bb, "run", "--ulimit", "no") == ["nofile="]
    assert complete(bb, "run", "--ulimit", "nofile=") == []
    assert complete(bb, "inspect", "--type", "") == ["container", "image"]
    for name in ("env.list", "labels.txt"):
        (tmp_path / name).write_text("")
    for flag in ("--env-file", "--label-file", "-v", "--volume"):
        assert complete(bb, "run", flag, str(tmp_path) + "/") == [
            str(tmp_path / "env.list"), str(tmp_path / "labels.txt")], flag
