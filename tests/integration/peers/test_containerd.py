"""containerd drives the runtime under test through its runc shim
(containerd-shim-runc-v2, `ctr run --runc-binary`): create/start/delete with
--log-format json, exec --process, kill [--all], pause/resume, ps and
--console-socket.  Each test has a private containerd (see conftest.py).
"""

import json
import subprocess
import threading
import time

from peerlib import cgroup_frozen, run, run_in_pty, wait_for


def test_run_output_and_exit_code(containerd):
    cid = containerd.new_id()
    res = run(containerd.run_argv(cid, "/bin/sh", "-c", "echo hello; exit 7", flags=["--rm"]))
    assert res.stdout == "hello\n", res.stderr
    assert res.returncode == 7, res.stderr


def test_run_stdin_reaches_the_container(containerd):
    # ctr does not pass the end of its stdin on to the task, so the
    # container reads one line rather than waiting for EOF.
    cid = containerd.new_id()
    res = run(
        containerd.run_argv(cid, "/bin/sh", "-c", "read line; echo got $line", flags=["--rm"]),
        input="ping\n",
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout == "got ping\n"


def test_run_namespaces(containerd):
    """The process is PID 1 of its own PID namespace and has its own network
    namespace (only lo)."""
    cid = containerd.new_id()
    res = run(
        containerd.run_argv(cid, "/bin/sh", "-c", "echo $$; ls /sys/class/net", flags=["--rm"])
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["1", "lo"]


class Events:
    """`ctr events` read on a thread, so that a test can wait for one."""

    def __init__(self, containerd):
        self.lines = []
        self.proc = subprocess.Popen(
            ["ctr", "--address", containerd.sock, "events"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_exit(self, cid, timeout=30):
        """The /tasks/exit event of task cid, as a dict (an exit status of
        0 is left out of the event, as protobuf leaves out zero values)."""

        def find():
            for line in self.lines:
                if "/tasks/exit" in line and "{" in line:
                    event = json.loads(line[line.index("{") :])
                    if event.get("container_id") == cid:
                        return event
            return None

        return wait_for(find, timeout=timeout, what=f"exit event of {cid}")

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.thread.join(timeout=5)


def run_detached(containerd, cid, *cmd):
    res = run(containerd.run_argv(cid, *cmd, flags=["--detach"]))
    assert res.returncode == 0, res.stderr
    status = wait_for(lambda: containerd.task_status(cid), what=f"task {cid}")
    assert status[1] == "RUNNING", status
    return status[0]


def task_pids(containerd, cid):
    res = containerd.ctr("task", "ps", cid)
    assert res.returncode == 0, res.stderr
    return [int(line.split()[0]) for line in res.stdout.splitlines()[1:] if line.strip()]


def delete_task(containerd, cid):
    res = containerd.ctr("task", "delete", cid)
    assert res.returncode == 0, res.stderr
    res = containerd.ctr("container", "rm", cid)
    assert res.returncode == 0, res.stderr


def test_detached_kill_and_exit_status(containerd):
    cid = containerd.new_id()
    events = Events(containerd)
    try:
        pid = run_detached(containerd, cid, "/bin/sleep", "1000")
        assert task_pids(containerd, cid) == [pid]
        res = containerd.ctr("task", "kill", "--signal", "SIGKILL", cid)
        assert res.returncode == 0, res.stderr
        assert events.wait_exit(cid).get("exit_status", 0) == 137
    finally:
        events.close()
    assert containerd.task_status(cid)[1] == "STOPPED"
    delete_task(containerd, cid)


def test_kill_default_signal_is_term(containerd):
    """ctr task kill sends SIGTERM, which the container's handler turns into
    exit status 3."""
    cid = containerd.new_id()
    events = Events(containerd)
    try:
        run_detached(
            containerd, cid, "/bin/sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.1; done"
        )
        # Two processes (the shell and a sleep) means the trap is in place.
        wait_for(lambda: len(task_pids(containerd, cid)) >= 2, what="the shell's loop")
        res = containerd.ctr("task", "kill", cid)
        assert res.returncode == 0, res.stderr
        assert events.wait_exit(cid).get("exit_status", 0) == 3
    finally:
        events.close()
    delete_task(containerd, cid)


def test_kill_all_reaches_every_process(containerd):
    """PID 1 of a namespace ignores a SIGTERM it has no handler for, so only
    --all, which signals every process of the container, ends the sleeps;
    then the shell's wait returns and it exits 0."""
    cid = containerd.new_id()
    events = Events(containerd)
    try:
        run_detached(containerd, cid, "/bin/sh", "-c", "sleep 1000 & sleep 1000 & wait")
        wait_for(lambda: len(task_pids(containerd, cid)) == 3, what="three processes")
        res = containerd.ctr("task", "kill", "--all", "--signal", "SIGTERM", cid)
        assert res.returncode == 0, res.stderr
        assert events.wait_exit(cid).get("exit_status", 0) == 0
    finally:
        events.close()
    delete_task(containerd, cid)


def test_exec_into_running_container(containerd):
    cid = containerd.new_id()
    run_detached(containerd, cid, "/bin/sleep", "1000")
    res = containerd.ctr(
        "task", "exec", "--fifo-dir", containerd.fifo_dir, "--exec-id", "exec1",
        cid, "/bin/sh", "-c", "echo in-exec $$; exit 3",
    )
    assert res.returncode == 3, res.stderr
    words = res.stdout.split()
    assert words[0] == "in-exec"
    # The exec'd shell lives in the container's PID namespace, not PID 1.
    assert int(words[1]) > 1
    res = containerd.ctr("task", "delete", "--force", cid)
    assert res.returncode == 0, res.stderr


def test_pause_and_resume(containerd):
    cid = containerd.new_id()
    run_detached(containerd, cid, "/bin/sleep", "1000")
    cgroup = f"{containerd.scratch.cgroup}/{cid}"
    assert cgroup_frozen(cgroup) is False
    res = containerd.ctr("task", "pause", cid)
    assert res.returncode == 0, res.stderr
    assert containerd.task_status(cid)[1] == "PAUSED"
    assert cgroup_frozen(cgroup) is True
    res = containerd.ctr("task", "resume", cid)
    assert res.returncode == 0, res.stderr
    assert containerd.task_status(cid)[1] == "RUNNING"
    assert cgroup_frozen(cgroup) is False
    res = containerd.ctr("task", "delete", "--force", cid)
    assert res.returncode == 0, res.stderr


def test_tty_through_console_socket(containerd):
    cid = containerd.new_id()
    status, out = run_in_pty(
        containerd.run_argv(cid, "/bin/sh", "-c", "tty; exit 5", flags=["--rm", "--tty"])
    )
    assert "/dev/pts/0" in out.split(), out
    assert status == 5, out


def test_failed_create_is_reported(containerd):
    """A command that does not exist fails the create; ctr reports the
    runtime's error and no task is left."""
    cid = containerd.new_id()
    started = time.monotonic()
    res = run(containerd.run_argv(cid, "/no/such/command", flags=["--rm"]))
    assert res.returncode != 0
    assert "/no/such/command" in res.stderr
    assert time.monotonic() - started < 30
    assert containerd.task_status(cid) is None
