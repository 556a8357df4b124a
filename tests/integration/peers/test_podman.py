"""podman drives the runtime under test through conmon (`podman --runtime`):
create/start with --log-format=json --log, exec --process --detach, kill
[--all], pause/resume, delete --force and --console-socket.  Each test has a
private podman store and cgroup parent (see conftest.py).
"""

import time

from peerlib import cgroup_frozen, wait_for


def run_detached(podman, name, *cmd):
    res = podman("run", "--detach", "--name", name, *podman.run_flags(), podman.IMAGE, *cmd)
    assert res.returncode == 0, res.stderr
    assert podman.inspect(name, "{{.State.Status}}") == "running"


def test_run_output_and_exit_code(podman):
    res = podman("run", "--rm", *podman.run_flags(), podman.IMAGE, "sh", "-c", "echo hello; exit 7")
    assert res.stdout == "hello\n", res.stderr
    assert res.returncode == 7, res.stderr


def test_run_stdin_reaches_the_container(podman):
    res = podman(
        "run", "--rm", "--interactive", *podman.run_flags(), podman.IMAGE,
        "sh", "-c", "cat; echo done",
        input="ping\npong\n",
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout == "ping\npong\ndone\n"


def test_run_namespaces_and_limits(podman):
    """PID 1 in its own PID namespace, only lo, and the rlimits podman put in
    the config."""
    res = podman(
        "run", "--rm", *podman.run_flags(), podman.IMAGE,
        "sh", "-c", "echo $$; ls /sys/class/net; ulimit -u",
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["1", "lo", "32768"]


def test_exec_into_detached_container(podman):
    run_detached(podman, "busy", "sleep", "1000")
    res = podman("exec", "busy", "sh", "-c", "echo in-exec $$; exit 3")
    assert res.returncode == 3, res.stderr
    words = res.stdout.split()
    assert words[0] == "in-exec" and int(words[1]) > 1, res.stdout

    res = podman(
        "exec", "--user", "1:1", "--env", "FOO=bar", "--workdir", "/tmp", "busy",
        "sh", "-c", 'id -u; id -g; echo "$FOO"; pwd',
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["1", "1", "bar", "/tmp"]


def test_exec_with_tty(podman):
    run_detached(podman, "busy", "sleep", "1000")
    status, out = podman.in_pty("exec", "--tty", "busy", "sh", "-c", "tty; exit 4")
    assert "/dev/pts/0" in out.split(), out
    assert status == 4, out


def test_run_with_tty(podman):
    status, out = podman.in_pty(
        "run", "--rm", "--tty", *podman.run_flags(), podman.IMAGE, "sh", "-c", "tty; exit 5"
    )
    assert "/dev/pts/0" in out.split(), out
    assert status == 5, out


def test_stop_delivers_sigterm(podman):
    run_detached(
        podman, "trapper", "sh", "-c",
        "trap 'exit 3' TERM; echo ready; while :; do sleep 0.1; done",
    )
    wait_for(lambda: "ready" in podman("logs", "trapper").stdout, what="the trap")
    started = time.monotonic()
    res = podman("stop", "--time", "20", "trapper")
    assert res.returncode == 0, res.stderr
    # Well before the 20 s after which podman would have sent SIGKILL.
    assert time.monotonic() - started < 10
    assert podman.inspect("trapper", "{{.State.Status}}") == "exited"
    assert podman.inspect("trapper", "{{.State.ExitCode}}") == "3"


def test_stop_escalates_to_sigkill(podman):
    """sleep as PID 1 has no SIGTERM handler, so only SIGKILL stops it."""
    run_detached(podman, "sleeper", "sleep", "1000")
    res = podman("stop", "--time", "1", "sleeper")
    assert res.returncode == 0, res.stderr
    assert podman.inspect("sleeper", "{{.State.ExitCode}}") == "137"


def test_pause_and_unpause(podman):
    run_detached(podman, "busy", "sleep", "1000")
    cgroup = podman.cgroup_of("busy")
    assert cgroup_frozen(cgroup) is False
    res = podman("pause", "busy")
    assert res.returncode == 0, res.stderr
    assert podman.inspect("busy", "{{.State.Status}}") == "paused"
    assert cgroup_frozen(cgroup) is True
    res = podman("unpause", "busy")
    assert res.returncode == 0, res.stderr
    assert podman.inspect("busy", "{{.State.Status}}") == "running"
    assert cgroup_frozen(cgroup) is False


def test_failed_start_is_reported(podman):
    res = podman("run", "--rm", *podman.run_flags(), podman.IMAGE, "/no/such/command")
    assert res.returncode != 0
    assert "/no/such/command" in res.stderr
