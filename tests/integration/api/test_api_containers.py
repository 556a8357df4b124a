"""Containers over berthd with the real docker client: run with exit codes,
detached servers, exec, stop/kill/restart/wait, pause, restart policies,
and containers outliving a berthd killed with SIGKILL."""

import ctypes
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from berthd_testlib import BUILD, parent_of, seeds_of, standby_shims, wait_for


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


def test_removed_containers_leave_no_directory(bb):
    # A removal renames the directory into a trash that berthd empties
    # right after it answered: neither stays.
    ctrs = bb.data_root / "containers"

    def names():
        return {p.name for p in ctrs.glob("[!.]*")}

    before = names()
    bb.docker("run", "--rm", "busybox", "sh", "-c", "echo x > /f")
    cid = bb.docker("run", "-d", "busybox", "true").stdout.strip()
    bb.docker("wait", cid)
    bb.docker("rm", cid)

    def settled():
        trash = ctrs / ".trash"
        return names() == before and (not trash.exists() or not any(trash.iterdir()))

    assert wait_for(settled)


def test_removed_containers_leave_no_runtime_state_or_cgroup(bb, tmp_path):
    # The runtime's delete of an auto-removed container comes after the
    # answer: its state and cgroups go all the same.
    cidfile = tmp_path / "cid"
    bb.docker("run", "--rm", "--cidfile", str(cidfile), "busybox", "true")
    cid = cidfile.read_text().strip()
    runtime = bb.exec_root / "runtime"

    def settled():
        trash = runtime / ".trash"
        cgroups = list(Path("/sys/fs/cgroup").glob(f"*/berth/{cid}")) + \
            list(Path("/sys/fs/cgroup").glob(f"berth/{cid}"))
        return (not (runtime / cid).exists() and not cgroups
                and (not trash.exists() or not any(trash.iterdir())))

    assert wait_for(settled)
    # A daemon stopped at once after the removal tidies before it goes,
    # and leaves no removed container's root file system mounted.
    cidfile.unlink()
    bb.docker("run", "--rm", "--cidfile", str(cidfile), "busybox", "true")
    cid = cidfile.read_text().strip()
    bb.stop()
    assert settled()
    assert not [line for line in Path("/proc/self/mountinfo").read_text().splitlines()
                if f"/containers/.trash/{cid}/" in line.split()[4] + "/"]
    bb.start()


def test_a_create_takes_the_spare_files_and_a_start_its_run_dir(bb):
    # berthd makes a container's directory ahead with the files a create
    # writes, so that a create writes into them; what belongs to a run (the
    # bundle's config, the shim's sockets and record of the end) lives in
    # a run directory under the exec root, removed with the container.
    spare = bb.data_root / "containers" / ".spare"
    names = ["hostname", "hosts", "resolv.conf", "spare-json.log"]
    wait_for(lambda: all((spare / n).is_file() for n in names))
    inodes = {n: (spare / n).stat().st_ino for n in names}
    cid = bb.docker("create", "busybox", "sh", "-c", "echo logged; cat /etc/hostname").stdout.strip()
    own = bb.data_root / "containers" / cid
    for n in ["hostname", "hosts", "resolv.conf"]:
        assert (own / n).stat().st_ino == inodes[n], n
    assert (own / "hostname").read_text() == cid[:12] + "\n"
    assert "localhost" in (own / "hosts").read_text()
    log = own / f"{cid}-json.log"
    assert log.stat().st_ino == inodes["spare-json.log"]
    assert not (own / "spare-json.log").exists()
    bb.docker("start", "-a", cid)
    assert bb.docker("logs", cid).stdout == f"logged\n{cid[:12]}\n"
    run_dir = bb.exec_root / "containers" / cid
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.json", "exit.json",
                                                         "waiter.lock"]
    assert json.loads((run_dir / "config.json").read_text())["root"]["path"] == \
        str(own / "merged")
    assert not (own / "config.json").exists()
    bb.docker("rm", cid)
    assert not run_dir.exists()
    # Renamed into a trash that the tidy empties.
    wait_for(lambda: not (bb.exec_root / "containers" / ".trash" / cid).exists())
    # A container without a log has no log file.
    wait_for(lambda: (spare / "spare-json.log").is_file())
    cid = bb.docker("create", "--log-driver", "none", "busybox", "true").stdout.strip()
    own = bb.data_root / "containers" / cid
    assert not any(p.name.endswith("json.log") for p in own.iterdir())
    bb.docker("rm", cid)


def mount_id(path):
    """The id of the mount at PATH, unique for the boot where the kernel
    has one (statx's STATX_MNT_ID_UNIQUE; the reused STATX_MNT_ID before)."""
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(256)
    if libc.statx(-100, str(path).encode(), 0, 0x4000 | 0x1000, buf) != 0:
        raise OSError(ctypes.get_errno(), str(path))
    return int.from_bytes(buf.raw[144:152], "little")


def test_a_start_takes_the_root_file_system_mounted_ahead(bb, tmp_path):
    # After a start, berthd mounts that root file system ahead on the next
    # container's spare directory; a start of the same image and flags
    # takes it as it is, one of others or changed by a copy gets its own,
    # and a stopped daemon leaves no mount behind.
    spare_merged = bb.data_root / "containers" / ".spare" / "merged"
    bb.docker("run", "--rm", "busybox", "true")
    wait_for(lambda: (spare_merged / "bin" / "busybox").exists())
    assert os.path.ismount(spare_merged)
    ahead = mount_id(spare_merged)
    cid = bb.docker("run", "-d", "--rm", "busybox", "sleep", "60").stdout.strip()
    merged = bb.data_root / "containers" / cid / "merged"
    assert mount_id(merged) == ahead
    assert bb.docker("exec", cid, "sh", "-c", "echo ok > /new; cat /new").stdout == "ok\n"
    assert (bb.data_root / "containers" / cid / "upper" / "new").read_text() == "ok\n"
    bb.docker("rm", "-f", cid)
    # Mounted ahead "volatile" (for --rm), taken by one that is not.
    wait_for(lambda: os.path.ismount(spare_merged))
    res = bb.docker("run", "--name", "kept", "busybox", "sh", "-c", "echo kept > /k; cat /k")
    assert res.stdout == "kept\n"
    bb.docker("rm", "kept")
    # A copy into a created container lands in what its start mounts.
    wait_for(lambda: os.path.ismount(spare_merged))
    (tmp_path / "hello").write_text("copied\n")
    cid = bb.docker("create", "busybox", "cat", "/hello").stdout.strip()
    bb.docker("cp", str(tmp_path / "hello"), f"{cid}:/hello")
    assert bb.docker("start", "-a", cid).stdout == "copied\n"
    bb.docker("rm", cid)
    # One created with it, and the next spare, let go of theirs when the
    # daemon stops.
    wait_for(lambda: os.path.ismount(spare_merged))
    cid = bb.docker("create", "busybox", "true").stdout.strip()
    wait_for(lambda: os.path.ismount(spare_merged))
    assert os.path.ismount(bb.data_root / "containers" / cid / "merged")
    bb.stop()
    assert not [line for line in Path("/proc/self/mountinfo").read_text().splitlines()
                if str(bb.data_root) in line.split()[4]]
    bb.start()
    bb.docker("start", "-a", cid)


def test_start_deletes_what_the_runtime_trash_kept(bb):
    # A daemon stopped before its sweep leaves the runtime's trash to the
    # next one; a state cut short (no state.json) goes too.
    trash = bb.exec_root / "runtime" / ".trash"
    (trash / "leftover").mkdir(parents=True, exist_ok=True)
    (trash / "leftover" / "config.json").write_text("{}")
    bb.stop()
    bb.start()
    assert wait_for(lambda: not (trash / "leftover").exists())


def spare_netns(pid):
    """The network namespace a standby made ahead for its container."""
    fds = Path(f"/proc/{pid}/fd")
    links = [os.readlink(fds / n) for n in os.listdir(fds)]
    return next((link for link in links if link.startswith("net:")), None)


def spare_cgroup(pid):
    """The cgroup a standby made ahead for its container (v1 hosts)."""
    return Path(f"/sys/fs/cgroup/pids/berth/.spare-{pid}")


def sched_policy(pid):
    """The scheduling policy of PID (field 41 of its stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[38])


def test_a_standby_shim_waits_for_the_next_start(bb):
    # berthd keeps one shim started ahead, with a cgroup made ahead on a
    # v1 host; a start takes both, another comes, and one killed meanwhile
    # only means a start spawns its own.
    v1 = Path("/sys/fs/cgroup/pids").is_dir()
    # Ready once its seed is made, the last of what it makes ahead.
    seeds = wait_for(lambda: seeds_of(standby_shims()))
    ours = {parent_of(s) for s in seeds}
    # It runs in the exec root, not wherever berthd was started.
    assert any(os.readlink(f"/proc/{p}/cwd") == str(bb.exec_root) for p in ours)
    spares = {}
    if v1:
        assert all(spare_cgroup(p).is_dir() for p in ours)
        spares = {p: spare_cgroup(p).stat().st_ino for p in ours}
    netns = {p: spare_netns(p) for p in ours}
    cid = bb.docker("run", "-d", "busybox", "sleep", "60").stdout.strip()
    taken = wait_for(lambda: ours - standby_shims())
    # Its process was made ahead too: the seed of the standby it took, now
    # pid 1 of the container's own namespaces, running its command.
    pid = inspect(bb, cid)["State"]["Pid"]
    assert pid in seeds
    assert Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x0060\x00"
    # Made while its standby idled, it runs as any process does: not at
    # the idle priority the standby had.
    assert sched_policy(pid) == os.SCHED_OTHER
    assert bb.docker("exec", cid, "cat", "/proc/1/cmdline").stdout == "sleep\x0060\x00"
    assert bb.docker("exec", cid, "hostname").stdout.strip() == cid[:12]
    # Its network namespace, made ahead with lo up, became the container's.
    assert os.readlink(f"/proc/{pid}/ns/net") in {netns[p] for p in taken}
    assert bb.docker("exec", cid, "cat", "/sys/class/net/lo/flags").stdout.strip() == "0x9"
    if v1:
        # The spare became the container's cgroup: renamed, not made anew.
        own = Path(f"/sys/fs/cgroup/pids/berth/{cid}")
        assert own.stat().st_ino in {spares[p] for p in taken}
        assert all(not spare_cgroup(p).exists() for p in taken)
    bb.docker("rm", "-f", cid)
    ours = wait_for(lambda: standby_shims())
    res = bb.docker("run", "--rm", "busybox", "sh", "-c", "echo from standby; exit 4",
                    check=False)
    assert res.returncode == 4 and res.stdout == "from standby\n", res.stderr
    # A container whose config does not fit a seed (the host's pid
    # namespace, a terminal) gets a process made as before; the seed goes.
    for args in (["--pid", "host"], ["-t"]):
        seeds = wait_for(lambda: seeds_of(standby_shims()))
        res = bb.docker("run", "--rm", *args, "busybox", "sh", "-c", "echo fallback")
        assert res.stdout.strip() == "fallback", args
        assert wait_for(lambda: not any(Path(f"/proc/{s}").exists() for s in seeds)), args
    ours = standby_shims()
    after = wait_for(lambda: standby_shims() - ours)
    for pid in after:
        os.kill(pid, signal.SIGKILL)
    res = bb.docker("run", "--rm", "busybox", "echo", "spawned")
    assert res.stdout == "spawned\n"
    wait_for(lambda: standby_shims() - ours - after)
    # The next standby removed the spares of the killed ones.
    if v1:
        assert wait_for(lambda: all(not spare_cgroup(p).exists() for p in after))
    # Its daemon's stop ends the standby.
    waiting = {parent_of(s) for s in wait_for(lambda: seeds_of(standby_shims()))}
    bb.stop()
    assert wait_for(lambda: not waiting & standby_shims())
    # Its spare cgroup goes with it.
    assert wait_for(lambda: all(not spare_cgroup(p).exists() for p in waiting))
    bb.start()


def test_a_running_containers_shim_goes_on_as_a_new_image(bb):
    # A shim whose container still runs after a moment re-executes itself
    # (its memory of the start is not kept); output before and after goes
    # to the log all the same.
    cid = bb.docker("run", "-d", "busybox", "sh", "-c",
                    "echo before; sleep 1; echo after; sleep 60").stdout.strip()
    pid = inspect(bb, cid)["State"]["Pid"]

    def shim_argv():
        ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        return Path(f"/proc/{ppid}/cmdline").read_bytes().split(b"\0")

    assert wait_for(lambda: shim_argv()[1:2] == [b"serve"])
    assert wait_for(lambda: bb.docker("logs", cid).stdout == "before\nafter\n")
    bb.docker("rm", "-f", cid)


def test_each_capability_set_gets_its_own_seccomp_profile(bb):
    # berthd keeps the default profile's form for the last capability set:
    # one with CAP_SYS_ADMIN, whose profile allows unshare (which a user
    # namespace needs no capability for), in between others must not leak
    # its profile to them, nor theirs to it.
    def unshare(*flags):
        return bb.docker("run", "--rm", *flags, "busybox", "unshare", "-U", "true",
                         check=False).returncode

    assert unshare() != 0
    assert unshare("--cap-add", "SYS_ADMIN") == 0
    assert unshare() != 0
    assert unshare("--cap-add", "SYS_ADMIN") == 0
    # An exec gets its container's profile too (from the same kept program).
    plain = bb.docker("run", "-d", "busybox", "sleep", "60").stdout.strip()
    admin = bb.docker("run", "-d", "--cap-add", "SYS_ADMIN", "busybox", "sleep",
                      "60").stdout.strip()
    for _ in range(2):
        assert bb.docker("exec", plain, "unshare", "-U", "true", check=False).returncode != 0
        assert bb.docker("exec", admin, "unshare", "-U", "true", check=False).returncode == 0
    bb.docker("rm", "-f", plain, admin)


def test_start_empties_what_the_trash_kept(bb):
    # A daemon stopped before its sweep leaves the trash to the next one.
    trash = bb.data_root / "containers" / ".trash"
    (trash / "left" / "upper").mkdir(parents=True, exist_ok=True)
    (trash / "left" / "upper" / "file").write_text("x")
    bb.stop()
    bb.start()
    assert wait_for(lambda: not (trash / "left").exists())


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


def test_a_waiter_that_leaves_keeps_the_restart_policy(bb):
    # A client that waits and leaves as the container ends (what the
    # docker client does) must not cost the restarts still due.
    for _ in range(5):
        res = bb.request("POST", "/containers/create?name=leaver", body=json.dumps({
            "Image": "busybox", "Cmd": ["sh", "-c", "exit 3"],
            "HostConfig": {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2}}}),
            headers={"Content-Type": "application/json"})
        assert res.status == 201, res
        waiter = bb.connection()
        waiter.request("POST", "/containers/leaver/wait?condition=next-exit")
        assert bb.request("POST", "/containers/leaver/start").status == 204
        waiter.close()

        def settled():
            doc = inspect(bb, "leaver")
            st = doc["State"]
            return doc if st["Status"] == "exited" and doc["RestartCount"] == 2 else None

        doc = wait_for(settled)
        assert doc["State"]["ExitCode"] == 3
        bb.docker("rm", "-f", "leaver")


def test_waits_by_full_id(bb):
    # What docker run sends: the full ID, for the next exit or the removal.
    missing = "0" * 64
    for cond in ("next-exit", "removed"):
        res = bb.request("POST", f"/containers/{missing}/wait?condition={cond}")
        assert res.status == 404, res
        assert res.json()["message"] == f"No such container: {missing}"
    for cond, then in (("next-exit", "start"), ("removed", "remove")):
        res = bb.request("POST", "/containers/create", body=json.dumps({
            "Image": "busybox", "Cmd": ["sh", "-c", "exit 6"]}),
            headers={"Content-Type": "application/json"})
        cid = res.json()["Id"]
        if then == "remove":
            assert bb.request("POST", f"/containers/{cid}/start").status == 204
            wait_for(lambda: not inspect(bb, cid)["State"]["Running"])
        waiter = bb.connection()
        waiter.request("POST", f"/containers/{cid}/wait?condition={cond}")
        resp = waiter.getresponse()
        assert resp.status == 200
        if then == "start":
            assert bb.request("POST", f"/containers/{cid}/start").status == 204
        else:
            assert bb.request("DELETE", f"/containers/{cid}").status == 204
        assert json.loads(resp.read())["StatusCode"] == 6
        waiter.close()
    bb.docker("rm", "-f", cid, check=False)


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
    # Its end was recorded in full: nothing of it stays mounted or in the
    # runtime.
    short_id = inspect(bb, "short")["Id"]
    merged = bb.data_root / "containers" / short_id / "merged"
    wait_for(lambda: not os.path.ismount(merged))
    listed = subprocess.run([str(BUILD / "berth-runc"), "--root", str(bb.exec_root / "runtime"),
                             "list", "-q"], capture_output=True, text=True).stdout.split()
    assert short_id not in listed
    bb.docker("stop", "live")
    assert inspect(bb, "live")["State"]["ExitCode"] == 9


def test_interactive_tty_session(bb):
    """docker run -it through a pseudo-terminal: the shell sees a terminal of
    the client's size, reads what is typed, and its exit code comes back."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
        os.execvpe("docker", ["docker", "run", "-it", "--rm", "busybox", "sh"], bb.env())
    out = b""

    def read_until(token, timeout=15):
        nonlocal out
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
                if token in out:
                    return True
        return False

    try:
        assert read_until(b"# "), out
        os.write(fd, b"tty; stty size; echo $((6*7))\r")
        assert read_until(b"42\r\n"), out
        assert b"/dev/pts/0" in out and b"33 101" in out
        os.write(fd, b"exit 5\r")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 5
    finally:
        os.close(fd)


def test_logs_of_a_detached_server_followed(bb):
    bb.docker("run", "-d", "--name", "talker", "busybox", "sh", "-c",
              "for i in 1 2 3; do echo line$i; echo oops$i >&2; sleep 0.3; done")
    res = bb.docker("logs", "-f", "talker")
    assert res.stdout.split() == ["line1", "line2", "line3"]
    assert res.stderr.split() == ["oops1", "oops2", "oops3"]
    # The last entry of the log, whichever stream it came on.
    res = bb.docker("logs", "--tail", "1", "-t", "talker")
    assert res.stdout == "" and res.stderr.strip().endswith(" oops3")
    assert res.stderr.startswith("20")
    follower = subprocess.Popen(["docker", "logs", "-f", "--since", "0", "talker"],
                                env=bb.env(), stdout=subprocess.PIPE, text=True)
    out, _ = follower.communicate(timeout=20)
    assert out.split() == ["line1", "line2", "line3"]
    res = bb.request("GET", "/containers/talker/logs")
    assert res.status == 400 and "choose at least one stream" in res.json()["message"]


def test_oom_kill_in_inspect_and_events(bb):
    since = str(time.time())
    res = bb.docker("run", "--name", "hog", "-m", "16m", "--memory-swap", "16m", "busybox",
                    "tail", "/dev/zero", check=False)
    assert res.returncode == 137
    state = inspect(bb, "hog")["State"]
    assert state["OOMKilled"] is True and state["ExitCode"] == 137
    assert inspect(bb, "hog")["HostConfig"]["Memory"] == 16 * 1024 * 1024
    res = bb.docker("events", "--since", since, "--until", str(time.time() + 1), "--filter",
                    "container=hog", "--format", "{{.Action}}")
    actions = res.stdout.split()
    assert "oom" in actions and actions.index("oom") < actions.index("die")


def test_health_turns_healthy_then_unhealthy(bb):
    since = str(time.time())
    bb.docker("run", "-d", "--name", "doc", "--health-cmd", "test -f /tmp/ok",
              "--health-interval", "200ms", "--health-retries", "2", "busybox", "sh", "-c",
              "touch /tmp/ok; sleep 2; rm /tmp/ok; sleep 300")
    wait_for(lambda: inspect(bb, "doc")["State"]["Health"]["Status"] == "healthy")
    health = wait_for(lambda: (h := inspect(bb, "doc")["State"]["Health"])["Status"]
                      == "unhealthy" and h, timeout=20)
    assert health["FailingStreak"] >= 2 and health["Log"][-1]["ExitCode"] == 1
    res = bb.docker("events", "--since", since, "--until", str(time.time()), "--filter",
                    "event=health_status", "--format", "{{.Action}}")
    statuses = res.stdout.splitlines()
    assert "health_status: healthy" in statuses and "health_status: unhealthy" in statuses
    bb.docker("rm", "-f", "doc")


def test_events_with_since_until_and_filters(bb):
    since = str(time.time())
    bb.docker("run", "--rm", "--name", "evented", "busybox", "true")
    bb.docker("create", "--name", "other", "busybox", "true")
    until = str(time.time() + 0.5)
    res = bb.docker("events", "--since", since, "--until", until, "--format",
                    "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}")
    lines = res.stdout.splitlines()
    assert lines[:4] == ["container create evented", "container start evented",
                         "container die evented", "container destroy evented"]
    assert "container create other" in lines
    res = bb.docker("events", "--since", since, "--until", until, "--filter",
                    "container=evented", "--filter", "event=die", "--format",
                    "{{json .}}")
    (event,) = [json.loads(line) for line in res.stdout.splitlines()]
    assert event["status"] == "die" and event["from"] == "busybox"
    assert event["Actor"]["Attributes"]["exitCode"] == "0" and event["timeNano"] > 0
    res = bb.request("GET", "/events?filters=" + '{"nope":["x"]}')
    assert res.status == 400 and "invalid filter 'nope'" in res.json()["message"]
    res = bb.request("GET", "/events?since=yesterday")
    assert res.status == 400


def test_docker_py_drives_containers(bb):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url="unix://" + bb.sock, version="1.41")
    assert client.containers.run("busybox", ["sh", "-c", "echo hi"], remove=True) == b"hi\n"
    c = client.containers.run("busybox", ["sleep", "300"], detach=True, name="py")
    c.reload()
    assert c.status == "running"
    code, out = c.exec_run(["sh", "-c", "echo $X; exit 3"], environment={"X": "y"})
    assert (code, out) == (3, b"y\n")
    c.stop(timeout=1)
    assert c.wait()["StatusCode"] == 137
    c.remove()
    with pytest.raises(docker.errors.NotFound):
        client.containers.get("py")
    client.close()


def test_ps_with_filters(bb):
    bb.docker("run", "-d", "--name", "web1", "--label", "tier=front", "busybox", "sleep", "300")
    bb.docker("run", "--name", "failed2", "busybox", "sh", "-c", "exit 2", check=False)
    bb.docker("create", "--name", "fresh", "busybox", "true")

    def names(*args):
        return bb.docker("ps", *args, "--format", "{{.Names}}").stdout.split()

    assert names() == ["web1"]
    assert names("-a") == ["fresh", "failed2", "web1"]
    assert names("-a", "--filter", "exited=2") == ["failed2"]
    assert names("-a", "--filter", "status=created") == ["fresh"]
    assert names("--filter", "label=tier=front") == ["web1"]
    assert names("-a", "--filter", "name=^/fail") == ["failed2"]
    assert names("-a", "--filter", "ancestor=busybox", "--filter", "status=running") == ["web1"]
    assert names("-a", "--filter", "since=web1") == ["fresh", "failed2"]
    assert names("-a", "--filter", "before=fresh") == ["failed2", "web1"]
    assert names("-a", "-n", "1") == ["fresh"]
    row = bb.docker("ps", "-a", "--filter", "name=failed2", "--format",
                    "{{.Command}}|{{.Status}}").stdout.strip()
    assert row.startswith('"sh -c \'exit 2\'"|Exited (2) ')
    listed = bb.request("GET", "/containers/json?all=1&size=1").json()
    assert {c["Names"][0] for c in listed} == {"/web1", "/failed2", "/fresh"}
    assert all(c["SizeRootFs"] >= c["SizeRw"] >= 0 for c in listed)
    res = bb.docker("ps", "--filter", "status=sleeping", check=False)
    assert res.returncode != 0 and "Invalid filter 'status=sleeping'" in res.stderr
    res = bb.docker("ps", "--filter", "colour=red", check=False)
    assert res.returncode != 0 and "invalid filter 'colour'" in res.stderr
    bb.docker("rm", "-f", "web1")


def test_stats_and_top(bb):
    bb.docker("run", "-d", "--name", "busy", "-m", "64m", "busybox", "sh", "-c",
              "while :; do :; done")
    row = bb.docker("stats", "--no-stream", "--format",
                    "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}", "busy").stdout.strip()
    name, cpu, mem, pids = row.split("|")
    assert name == "busy" and float(cpu.rstrip("%")) > 20 and mem.endswith("/ 64MiB")
    assert pids == "1"
    # Streamed: one object a second, each with the previous sample's CPU.
    conn = bb.connection()
    conn.request("GET", "/containers/busy/stats")
    resp = conn.getresponse()
    first, second = (json.loads(resp.readline()) for _ in range(2))
    conn.close()
    assert second["precpu_stats"]["cpu_usage"]["total_usage"] == \
        first["cpu_stats"]["cpu_usage"]["total_usage"]
    assert second["memory_stats"]["limit"] == 64 << 20
    top = bb.docker("top", "busy", "-o", "pid,comm").stdout.split()
    assert top[:2] == ["PID", "COMMAND"] and top[3] == "sh"
    pid = inspect(bb, "busy")["State"]["Pid"]
    assert int(top[2]) == pid
    bb.docker("stop", "-t", "0", "busy")
    res = bb.docker("top", "busy", check=False)
    assert res.returncode != 0 and "is not running" in res.stderr


def test_prune_and_df(bb):
    bb.docker("run", "-d", "--name", "keeper", "busybox", "sleep", "300")
    bb.docker("run", "--name", "done1", "--label", "keep=no", "busybox", "true")
    bb.docker("run", "--name", "done2", "--label", "keep=yes", "busybox", "true")
    df = bb.request("GET", "/system/df").json()
    assert {c["Names"][0] for c in df["Containers"]} == {"/keeper", "/done1", "/done2"}
    assert df["Images"][0]["RepoTags"] == ["busybox:latest"] and df["LayersSize"] > 0
    res = bb.request("POST", '/containers/prune?filters={"label":["keep=no"]}').json()
    assert len(res["ContainersDeleted"]) == 1
    assert bb.request("GET", "/containers/done1/json").status == 404
    bb.docker("container", "prune", "-f")
    names = bb.docker("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert names == ["keeper"]
    # busybox is in use: even an "all" prune keeps it.
    res = bb.request("POST", '/images/prune?filters={"dangling":["false"]}').json()
    assert res["ImagesDeleted"] is None
    bb.docker("rm", "-f", "keeper")
    res = bb.request("POST", '/images/prune?filters={"dangling":["false"]}').json()
    assert {"Untagged": "busybox:latest"} in res["ImagesDeleted"]
    assert bb.docker("images", "-q").stdout == ""
    res = bb.request("POST", '/containers/prune?filters={"colour":["red"]}')
    assert res.status == 400


def test_image_events(bb, busybox_archive, tmp_path):
    since = str(time.time())
    bb.docker("load", "-i", str(busybox_archive))
    bb.docker("tag", "busybox", "mine:1")
    bb.docker("rmi", "mine:1")
    bb.docker("save", "-o", str(tmp_path / "saved.tar"), "busybox")
    res = bb.docker("events", "--since", since, "--until", str(time.time() + 0.5), "--filter",
                    "type=image", "--format", "{{.Action}} {{.Actor.Attributes.name}}")
    assert res.stdout.splitlines() == ["load busybox:latest", "tag mine:1", "untag mine:1",
                                       "save busybox"]
    res = bb.docker("events", "--since", since, "--until", str(time.time() + 0.5), "--filter",
                    "event=tag", "--format", "{{.ID}}")
    assert res.stdout.strip() == inspect_image_id(bb)


def inspect_image_id(d):
    return d.request("GET", "/images/busybox/json").json()["Id"]


def test_update_resources_and_restart_policy(bb):
    cid = bb.docker("run", "-d", "--name", "upd", "-m", "64m", "busybox", "sleep",
                    "300").stdout.strip()
    bb.docker("update", "-m", "32m", "--memory-swap", "64m", "--pids-limit", "50",
              "--restart", "on-failure:3", "upd")
    hc = inspect(bb, "upd")["HostConfig"]
    assert hc["Memory"] == 32 << 20 and hc["PidsLimit"] == 50
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    limit = f"/sys/fs/cgroup/memory/berth/{cid}/memory.limit_in_bytes"
    with open(limit) as f:
        assert int(f.read()) == 32 << 20
    res = bb.docker("update", "-m", "1k", "upd", check=False)
    assert res.returncode != 0 and "Minimum memory limit allowed is 6MB" in res.stderr
    assert inspect(bb, "upd")["HostConfig"]["Memory"] == 32 << 20
    bb.docker("rm", "-f", "upd")


def test_exec_tty_gets_the_clients_size(bb):
    import fcntl
    import os
    import pty
    import struct
    import termios

    bb.docker("run", "-d", "--name", "ttybox", "busybox", "sleep", "300")
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.execvpe("docker", ["docker", "exec", "-it", "ttybox", "sh", "-c",
                              "sleep 0.5; stty size; exit 3"], bb.env())
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert b"40 120" in out, out
    assert os.waitstatus_to_exitcode(status) == 3
    bb.docker("rm", "-f", "ttybox")


def test_piped_stdin_is_data_to_its_end(bb):
    """Without a terminal there are no detach keys: ctrl-p ctrl-q bytes
    are data; and an exec's input ends when its client's does."""
    import hashlib

    data = b"head\x10\x11tail" + os.urandom(64 * 1024) + b"\x10\x11"
    want = hashlib.md5(data).hexdigest()
    res = subprocess.run(["docker", "run", "-i", "--rm", "busybox", "md5sum"], input=data,
                         env=bb.env(), capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[0].decode() == want
    bb.docker("run", "-d", "--name", "web", "busybox", "sleep", "1000")
    res = subprocess.run(["docker", "exec", "-i", "web", "md5sum"], input=data,
                         env=bb.env(), capture_output=True, timeout=30)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[0].decode() == want


def test_detached_runs_hold_no_connection(bb):
    """docker run -d asks for the next exit, then leaves: its wait is let
    go with it, so the daemon holds nothing per container but the watch
    of its shim."""
    def sockets():
        """berthd's sockets once its next standby is ready (one of them
        is its socket to that standby)."""
        wait_for(lambda: seeds_of(standby_shims()))
        fds = f"/proc/{bb.proc.pid}/fd"
        links = []
        for n in os.listdir(fds):
            try:
                links.append(os.readlink(f"{fds}/{n}"))
            except FileNotFoundError:
                pass  # closed meanwhile by one of the daemon's threads
        return sum(link.startswith("socket:") for link in links)

    bb.docker("run", "-d", "busybox", "sleep", "1000")
    base = sockets()
    for _ in range(5):
        bb.docker("run", "-d", "busybox", "sleep", "1000")
    wait_for(lambda: sockets() <= base)
    # A wait whose client stays is still answered.
    cid = bb.docker("run", "-d", "busybox", "sleep", "1000").stdout.strip()
    waiting = subprocess.Popen(["docker", "wait", cid], env=bb.env(), stdout=subprocess.PIPE,
                               text=True)
    time.sleep(0.5)
    bb.docker("kill", cid)
    assert waiting.communicate(timeout=30)[0].strip() == "137"


def test_exec_of_a_command_that_cannot_run(bb):
    bb.docker("run", "-d", "--name", "web", "busybox", "sleep", "1000")
    res = bb.docker("exec", "web", "nosuch", check=False)
    assert res.returncode == 127
    assert 'exec: "nosuch": executable file not found in $PATH' in res.stdout
    res = bb.docker("exec", "-t", "web", "nosuch", check=False)
    assert res.returncode == 127
    res = bb.docker("exec", "web", "/etc/passwd", check=False)
    assert res.returncode == 126
    # The container goes on, and so do its execs.
    assert bb.docker("exec", "web", "echo", "still").stdout == "still\n"


def test_events_of_restart_top_update_resize_and_cp(bb, tmp_path):
    bb.docker("run", "-d", "-t", "--name", "ev", "busybox", "sleep", "1000")
    since = str(time.time())
    bb.docker("restart", "-t", "0", "ev")
    bb.docker("top", "ev")
    bb.docker("update", "--memory", "64m", "--memory-swap", "128m", "ev")
    assert bb.request("POST", "/containers/ev/resize?h=30&w=100").status == 200
    bb.docker("cp", "ev:/etc/hostname", str(tmp_path / "h"))
    bb.docker("cp", str(tmp_path / "h"), "ev:/tmp/")
    until = str(time.time() + 0.5)
    res = bb.docker("events", "--since", since, "--until", until, "--filter", "container=ev",
                    "--format", "{{.Action}}")
    actions = res.stdout.split()
    for action in ("kill", "die", "stop", "start", "restart", "top", "update", "resize",
                   "archive-path", "extract-to-dir"):
        assert action in actions, (action, actions)
    assert actions.index("stop") < actions.index("start") < actions.index("restart")
    res = bb.docker("events", "--since", since, "--until", until, "--filter", "event=resize",
                    "--format", "{{.Actor.Attributes.height}}x{{.Actor.Attributes.width}}")
    assert res.stdout.split() == ["30x100"]


def attach_raw(d, name, query, send=b"", until=None):
    """POST attach with an upgrade over a raw socket (docker-py's buffered
    reader can swallow what comes with the answer's head); the frames
    after the head as (stream, bytes), read to the end or to UNTIL."""
    import socket as socketlib

    s = socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM)
    s.settimeout(20)
    s.connect(d.sock)
    s.sendall(f"POST /v1.41/containers/{name}/attach?{query} HTTP/1.1\r\nHost: x\r\n"
              "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n".encode())
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(4096)
    head, got = got.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    if send:
        s.sendall(send)
    while until is None or until not in got:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    frames = []
    while len(got) >= 8:
        n = int.from_bytes(got[4:8], "big")
        frames.append((got[0], got[8:8 + n]))
        got = got[8 + n:]
    return frames


def test_attach_with_logs(bb):
    """logs=1 gives what the container logged so far (docker-py and compose
    attach with it), then, with stream=1, what comes next."""
    bb.docker("run", "--name", "done", "busybox", "sh", "-c", "echo one; echo two >&2")
    assert attach_raw(bb, "done", "logs=1&stdout=1&stderr=1") == [(1, b"one\n"),
                                                                   (2, b"two\n")]
    assert attach_raw(bb, "done", "logs=1&stderr=1") == [(2, b"two\n")]
    bb.docker("run", "-d", "-i", "--name", "live", "busybox", "sh", "-c",
              "echo before; read x; echo after $x")
    wait_for(lambda: "before" in bb.docker("logs", "live").stdout)
    frames = attach_raw(bb, "live", "logs=1&stream=1&stdin=1&stdout=1", send=b"now\n",
                        until=b"after now")
    assert frames == [(1, b"before\n"), (1, b"after now\n")]
    assert bb.docker("wait", "live").stdout.strip() == "0"


def test_live_restore_off_stops_containers_and_policies_bring_them_back(bb):
    bb.stop()
    bb.start("--live-restore=false")
    for name, policy in (("always", "always"), ("unless", "unless-stopped"),
                         ("manual", "unless-stopped"), ("none", "no")):
        bb.docker("run", "-d", "--name", name, "--restart", policy, "--stop-timeout", "1",
                  "busybox", "sleep", "1000")
    bb.docker("stop", "manual")
    # The daemon's stop stops what runs before it goes.
    bb.stop()
    listed = subprocess.run([str(BUILD / "berth-runc"), "--root", str(bb.exec_root / "runtime"),
                             "list", "-q"], capture_output=True, text=True)
    assert listed.stdout.split() == []
    bb.start()
    wait_for(lambda: inspect(bb, "always")["State"]["Running"] and
             inspect(bb, "unless")["State"]["Running"])
    assert inspect(bb, "manual")["State"]["Running"] is False
    none = inspect(bb, "none")["State"]
    assert none["Running"] is False and none["ExitCode"] == 137
    # A user's stop is kept across the daemon's restarts, not shown.
    assert "HasBeenManuallyStopped" not in inspect(bb, "manual")
    bb.docker("start", "manual")
    assert inspect(bb, "manual")["State"]["Running"] is True


def test_rm_containers_mount_volatile(bb):
    """A container removed at its end has its upper dir mounted volatile
    (no sync of the file system at its unmount); others not."""
    def options_of(cid):
        with open("/proc/self/mountinfo") as f:
            for line in f:
                if f"/containers/{cid}/merged " in line:
                    return line.split(" - ")[1].split()[2].split(",")
        return None

    gone = bb.docker("run", "-d", "--rm", "busybox", "sleep", "1000").stdout.strip()
    kept = bb.docker("run", "-d", "busybox", "sleep", "1000").stdout.strip()
    # Newer kernels show it as "fsync=volatile".
    assert any(o in ("volatile", "fsync=volatile") for o in options_of(gone))
    assert not any("volatile" in o for o in options_of(kept))
    bb.docker("kill", gone)
    wait_for(lambda: bb.request("GET", f"/containers/{gone}/json").status == 404)
    assert options_of(gone) is None


def test_kill_of_a_container_removed_at_its_end(bb):
    """A kill answers 204 even when the container it ended is removed before
    the answer.  As Docker's, a killed "always" container comes back, an
    "unless-stopped" one does not."""
    for _ in range(15):
        cid = bb.docker("run", "-d", "--rm", "busybox", "sleep", "1000").stdout.strip()
        bb.docker("kill", cid)
        wait_for(lambda: bb.request("GET", f"/containers/{cid}/json").status == 404)
    bb.docker("run", "-d", "--name", "back", "--restart", "always", "busybox", "sleep", "1000")
    bb.docker("run", "-d", "--name", "down", "--restart", "unless-stopped", "busybox", "sleep",
              "1000")
    bb.docker("kill", "back", "down")
    wait_for(lambda: inspect(bb, "back")["RestartCount"] == 1
             and inspect(bb, "back")["State"]["Running"])
    wait_for(lambda: inspect(bb, "down")["State"]["Status"] == "exited")
    time.sleep(0.5)
    assert inspect(bb, "down")["State"]["Status"] == "exited"
    assert inspect(bb, "down")["RestartCount"] == 0


def test_attach_with_detach_keys(bb):
    """An attach to a running terminal with its own detach keys: they end
    the attach, the container goes on."""
    import socket as socketlib

    bb.docker("run", "-dit", "--name", "term", "busybox", "sh")
    s = socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM)
    s.settimeout(20)
    s.connect(bb.sock)
    s.sendall(b"POST /v1.41/containers/term/attach?stream=1&stdin=1&stdout=1"
              b"&detachKeys=ctrl-a,ctrl-b HTTP/1.1\r\nHost: x\r\n"
              b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(4096)
    assert got.startswith(b"HTTP/1.1 101"), got
    s.sendall(b"echo attached-$((40+2))\n")
    while b"attached-42" not in got:
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    s.sendall(b"\x01\x02")
    while s.recv(4096):
        pass
    s.close()
    assert inspect(bb, "term")["State"]["Running"] is True


def test_create_checks_stop_signal_and_cpuset_and_update_keeps_what_it_is_not_given(bb):
    res = bb.docker("create", "--stop-signal", "BOGUS", "busybox", "true", check=False)
    assert res.returncode == 1 and "Invalid signal: BOGUS" in res.stderr
    res = bb.docker("create", "--cpuset-cpus", "abc", "busybox", "true", check=False)
    assert res.returncode == 1 and "Invalid value abc for cpuset cpus" in res.stderr
    res = bb.docker("create", "--cpuset-cpus", "0-4096", "busybox", "true", check=False)
    assert res.returncode == 1 and "Requested CPUs are not available" in res.stderr
    assert bb.docker("ps", "-aq").stdout.split() == []
    bb.docker("create", "--name", "sig", "--stop-signal", "SIGUSR1", "--cpuset-cpus", "0",
              "busybox", "true")
    # docker update sends every member; zero ones change nothing.
    bb.docker("run", "-d", "--name", "upd", "-m", "64m", "--restart", "on-failure:3",
              "busybox", "sleep", "1000")
    bb.docker("update", "--cpus", "0.5", "upd")
    hc = inspect(bb, "upd")["HostConfig"]
    assert hc["Memory"] == 64 * 1024 * 1024 and hc["NanoCpus"] == 500000000
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    res = bb.docker("system", "prune", "-f")
    assert "Total reclaimed space" in res.stdout


def test_cgroupns_private_shows_the_containers_cgroup_as_the_root(bb):
    # Docker's --cgroupns: private gives the container a cgroup namespace
    # rooted at its own cgroup, whose files it still sees; host (the
    # default on a v1 host) shows the host's paths.
    own = bb.docker("run", "--rm", "--cgroupns", "private", "--pids-limit", "7", "busybox",
                    "sh", "-c", "cat /proc/self/cgroup; cat /sys/fs/cgroup/pids/pids.max "
                    "2>/dev/null || cat /sys/fs/cgroup/pids.max")
    lines = own.stdout.split()
    assert lines[-1] == "7", own.stdout
    assert all(line.endswith(":/") for line in lines[:-1]), own.stdout
    host = bb.docker("run", "--rm", "busybox", "cat", "/proc/self/cgroup").stdout
    assert "/berth/" in host, host


def test_pid_ipc_and_uts_modes_share_the_hosts_namespaces(bb):
    # --pid, --ipc and --uts host: the container is in the host's
    # namespace of that kind, and in its own of the others.
    def namespaces(*args):
        out = bb.docker("run", "--rm", *args, "busybox", "sh", "-c",
                        "for n in pid ipc uts; do readlink /proc/self/ns/$n; done").stdout
        return dict(zip(["pid", "ipc", "uts"], out.split()))

    host = {n: os.readlink(f"/proc/self/ns/{n}") for n in ("pid", "ipc", "uts")}
    for kind in ("pid", "ipc", "uts"):
        got = namespaces(f"--{kind}", "host")
        for other in ("pid", "ipc", "uts"):
            assert (got[other] == host[other]) == (other == kind), (kind, got, host)
    # Docker's other values are refused with its message; another
    # container's namespace is not there yet.
    for key, value, status, message in (
            ("PidMode", "bogus", 400, "invalid PID mode: bogus"),
            ("IpcMode", "bogus", 400, "invalid IPC mode: bogus"),
            ("UTSMode", "container:x", 400, "invalid UTS mode: container:x"),
            ("IpcMode", "container:x", 501, "not supported yet")):
        res = bb.request("POST", "/containers/create",
                         body=json.dumps({"Image": "busybox", "HostConfig": {key: value}}),
                         headers={"Content-Type": "application/json"})
        assert res.status == status and message in res.json()["message"], (key, value, res)


def test_pid_mode_joins_another_running_containers_namespace(bb):
    # --pid container:X: the processes of X are the container's to see (a
    # debugging sidecar's ps); X must exist and run when it starts.
    app = bb.docker("run", "-d", "busybox", "sleep", "300").stdout.strip()
    res = bb.docker("run", "--rm", "--pid", f"container:{app[:12]}", "busybox", "ps", "-o",
                    "pid,args")
    assert ["1", "sleep", "300"] in [line.split() for line in res.stdout.splitlines()], res.stdout
    pid = inspect(bb, app)["State"]["Pid"]
    joined = bb.docker("run", "--rm", "--pid", f"container:{app}", "busybox", "readlink",
                       "/proc/self/ns/pid").stdout.strip()
    assert joined == os.readlink(f"/proc/{pid}/ns/pid")
    res = bb.docker("run", "--rm", "--pid", "container:no-such", "busybox", "true", check=False)
    assert res.returncode == 125 and "cannot join PID of a non running container" in res.stderr
    bb.docker("rm", "-f", app)
    stopped = bb.docker("create", "busybox", "true").stdout.strip()
    res = bb.docker("run", "--rm", "--pid", f"container:{stopped}", "busybox", "true",
                    check=False)
    assert res.returncode == 125 and "non running container" in res.stderr, res.stderr


def test_network_mode_joins_another_running_containers_network(bb):
    # --network container:X (compose's network_mode: service:x): X's
    # network namespace, its host name, hosts and resolv.conf; what would
    # change X's network is Docker's conflict.
    web = bb.docker("run", "-d", "--hostname", "webhost", "busybox", "httpd", "-f", "-p",
                    "127.0.0.1:8080", "-h", "/etc").stdout.strip()
    res = bb.docker("run", "--rm", "--network", f"container:{web}", "busybox", "sh", "-c",
                    "hostname; wget -qO- http://127.0.0.1:8080/hostname; "
                    "readlink /proc/self/ns/net; cat /etc/hosts")
    lines = res.stdout.splitlines()
    pid = inspect(bb, web)["State"]["Pid"]
    assert lines[:3] == ["webhost", "webhost", os.readlink(f"/proc/{pid}/ns/net")], lines
    hosts = bb.docker("exec", web, "cat", "/etc/hosts").stdout
    assert "\n".join(lines[3:]) + "\n" == hosts
    sidecar = bb.docker("create", "--network", f"container:{web}", "busybox",
                        "true").stdout.strip()
    assert inspect(bb, sidecar)["NetworkSettings"]["Networks"] == {}
    # Started, it records X's host name as its own, as Docker does.
    assert inspect(bb, sidecar)["Config"]["Hostname"] != "webhost"
    bb.docker("start", "-a", sidecar)
    assert inspect(bb, sidecar)["Config"]["Hostname"] == "webhost"
    bb.docker("rm", sidecar)
    for args, message in ((["-p", "80:80"], "conflicting options: port publishing"),
                          (["--dns", "1.1.1.1"], "conflicting options: dns"),
                          (["--add-host", "a:1.2.3.4"],
                           "conflicting options: custom host-to-IP mapping"),
                          (["--hostname", "x"], "conflicting options: hostname")):
        res = bb.docker("create", "--network", f"container:{web}", *args, "busybox", "true",
                        check=False)
        assert res.returncode != 0 and message in res.stderr, (args, res.stderr)
    bb.docker("rm", "-f", web)
    res = bb.docker("run", "--rm", "--network", f"container:{web}", "busybox", "true",
                    check=False)
    assert res.returncode == 125 and "cannot join network of a non running" in res.stderr
