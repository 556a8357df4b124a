"""Containers over berthd with the real docker client: run with exit codes,
detached servers, exec, stop/kill/restart/wait, pause, restart policies,
and containers outliving a berthd killed with SIGKILL."""

import json
import signal
import time

import pytest


def wait_for(predicate, timeout=15, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


def inspect(d, name):
    res = d.request("GET", f"/containers/{name}/json")
    assert res.status == 200, res
    return res.json()


def test_run_prints_output_and_exit_code(bb):
    res = bb.docker("run", "--name", "one", "busybox", "sh", "-c",
                    "echo out; echo err >&2; exit 3", check=False)
    assert res.returncode == 3, res.stderr
    assert res.stdout == "out\n"
    assert res.stderr == "err\n"
    state = inspect(bb, "one")["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 3
    assert state["Running"] is False and state["FinishedAt"] > state["StartedAt"]


def test_run_rm_removes_the_container(bb):
    res = bb.docker("run", "--rm", "--name", "gone", "busybox", "sh", "-c", "echo bye; exit 7",
                    check=False)
    assert res.returncode == 7 and res.stdout == "bye\n", res.stderr
    assert bb.request("GET", "/containers/gone/json").status == 404


def test_run_of_a_missing_command_is_127(bb):
    res = bb.docker("run", "--rm", "busybox", "no-such-command", check=False)
    assert res.returncode == 127
    assert "executable file not found" in res.stderr


def test_detached_server_answers_exec(bb):
    cid = bb.docker("run", "-d", "--name", "web", "busybox", "sh", "-c",
                    "echo hello > /tmp/index.html; echo started; "
                    "exec httpd -f -p 8080 -h /tmp").stdout.strip()
    assert len(cid) == 64
    state = inspect(bb, "web")["State"]
    assert state["Running"] is True and state["Pid"] > 0
    page = wait_for(lambda: bb.docker("exec", "web", "wget", "-qO-", "http://127.0.0.1:8080/",
                                      check=False).stdout)
    assert page == "hello\n"
    bb.docker("rm", "-f", "web")
    assert bb.request("GET", "/containers/web/json").status == 404


def test_exec_with_env_workdir_and_user(bb):
    bb.docker("run", "-d", "--name", "box", "busybox", "sleep", "300")
    res = bb.docker("exec", "-e", "FOO=bar", "-w", "/tmp", "-u", "1000:1001", "box", "sh",
                    "-c", "echo $FOO; pwd; id -u; id -g")
    assert res.stdout.split() == ["bar", "/tmp", "1000", "1001"]
    res = bb.docker("exec", "box", "sh", "-c", "exit 42", check=False)
    assert res.returncode == 42
    res = bb.docker("exec", "box", "nope", check=False)
    assert res.returncode != 0
    bb.docker("rm", "-f", "box")


def test_exec_into_a_stopped_container_is_409(bb):
    bb.docker("create", "--name", "idle", "busybox", "true")
    res = bb.request("POST", "/containers/idle/exec", body=json.dumps({"Cmd": ["true"]}),
                     headers={"Content-Type": "application/json"})
    assert res.status == 409 and "is not running" in res.json()["message"]


def test_stop_kill_restart_and_wait(bb):
    bb.docker("run", "-d", "--name", "stopper", "busybox", "sleep", "300")
    t0 = time.monotonic()
    bb.docker("stop", "-t", "1", "stopper")
    assert time.monotonic() - t0 < 8
    state = inspect(bb, "stopper")["State"]
    # sleep ignores SIGTERM as PID 1: the stop ends with SIGKILL.
    assert state["Status"] == "exited" and state["ExitCode"] == 137
    # A second stop is a no-op: 304.
    assert bb.request("POST", "/containers/stopper/stop").status == 304

    bb.docker("start", "stopper")
    assert inspect(bb, "stopper")["State"]["Running"] is True
    bb.docker("kill", "stopper")
    assert bb.docker("wait", "stopper").stdout.strip() == str(128 + signal.SIGKILL)

    # A signal the process handles, by name.
    bb.docker("run", "-d", "--name", "trapper", "busybox", "sh", "-c",
              "trap 'exit 10' USR1; while true; do sleep 0.1; done")
    bb.docker("kill", "-s", "SIGUSR1", "trapper")
    assert bb.docker("wait", "trapper").stdout.strip() == "10"

    bb.docker("start", "stopper")
    pid = inspect(bb, "stopper")["State"]["Pid"]
    bb.docker("restart", "-t", "0", "stopper")
    state = inspect(bb, "stopper")["State"]
    assert state["Running"] is True and state["Pid"] != pid

    res = bb.request("POST", "/containers/stopper/kill?signal=NOPE")
    assert res.status == 400
    bb.docker("rm", "-f", "stopper")
    res = bb.request("POST", "/containers/stopper/kill")
    assert res.status == 404 and res.json()["message"] == "No such container: stopper"


def test_pause_and_unpause(bb):
    bb.docker("run", "-d", "--name", "pauser", "busybox", "sleep", "300")
    bb.docker("pause", "pauser")
    assert inspect(bb, "pauser")["State"]["Status"] == "paused"
    res = bb.request("POST", "/containers/pauser/pause")
    assert res.status == 409 and "already paused" in res.json()["message"]
    bb.docker("unpause", "pauser")
    assert inspect(bb, "pauser")["State"]["Status"] == "running"
    bb.docker("rm", "-f", "pauser")


def test_conflicts_and_bad_input(bb):
    bb.docker("run", "-d", "--name", "busy", "busybox", "sleep", "300")
    res = bb.docker("run", "--name", "busy", "busybox", "true", check=False)
    assert res.returncode != 0 and "is already in use" in res.stderr
    res = bb.request("DELETE", "/containers/busy")
    assert res.status == 409
    assert "You cannot remove a running container" in res.json()["message"]
    for body in (b"{", b"[]", b'{"Image": 5}', b""):
        res = bb.request("POST", "/containers/create", body=body,
                         headers={"Content-Type": "application/json"})
        assert res.status == 400, (body, res)
    res = bb.request("POST", "/containers/create",
                     body=json.dumps({"Image": "no-such-image"}),
                     headers={"Content-Type": "application/json"})
    assert res.status == 404 and "No such image" in res.json()["message"]
    assert bb.request("GET", "/containers/nope/json").status == 404
    res = bb.request("POST", "/containers/busy/wait?condition=bogus")
    assert res.status == 400
    # The daemon is still there.
    assert bb.request("GET", "/_ping").status == 200
    bb.docker("rm", "-f", "busy")


@pytest.mark.parametrize("policy,code,restarts", [
    ("on-failure:2", 1, 2),
    ("no", 1, 0),
    ("on-failure", 0, 0),
])
def test_restart_policies(bb, policy, code, restarts):
    bb.docker("run", "-d", "--name", "restarter", "--restart", policy, "busybox", "sh", "-c",
              f"exit {code}")

    def settled():
        doc = inspect(bb, "restarter")
        st = doc["State"]
        return doc if not st["Running"] and not st["Restarting"] else None

    # Backoff: 100 ms, 200 ms... give it time to do every restart.
    time.sleep(1.5)
    doc = wait_for(settled)
    assert doc["RestartCount"] == restarts
    assert doc["State"]["ExitCode"] == code
    bb.docker("rm", "-f", "restarter")


def test_restart_always_comes_back_until_stopped(bb):
    bb.docker("run", "-d", "--name", "always", "--restart", "always", "busybox", "sh", "-c",
              "sleep 0.2; exit 5")
    wait_for(lambda: inspect(bb, "always")["RestartCount"] >= 2, timeout=20)
    bb.docker("stop", "-t", "1", "always")
    count = inspect(bb, "always")["RestartCount"]
    time.sleep(1)
    doc = inspect(bb, "always")
    assert doc["State"]["Running"] is False and doc["RestartCount"] == count
    bb.docker("rm", "-f", "always")


def test_containers_outlive_a_killed_daemon(bb):
    bb.docker("run", "-d", "--name", "live", "busybox", "sh", "-c",
              "trap 'exit 9' TERM; while true; do sleep 0.1; done")
    bb.docker("run", "-d", "--name", "short", "busybox", "sh", "-c", "sleep 1; exit 4")
    pid = inspect(bb, "live")["State"]["Pid"]
    bb.proc.kill()
    bb.proc.wait()
    bb.logf.close()
    bb.proc = None
    # While the daemon is away, "short" ends.
    time.sleep(1.5)
    bb.start()
    state = inspect(bb, "live")["State"]
    assert state["Running"] is True and state["Pid"] == pid
    short = wait_for(lambda: (s := inspect(bb, "short")["State"])["Status"] == "exited" and s)
    assert short["ExitCode"] == 4
    bb.docker("stop", "live")
    assert inspect(bb, "live")["State"]["ExitCode"] == 9
