"""cgroups (v1 hierarchies, as on the test host) of a container.

Limits must reach the container's cgroup files and bite inside the container:
an allocation over the memory limit is OOM-killed, a fork loop stops at the
pids limit, a device outside the allow list cannot be opened.  Every
hierarchy's cgroup must go away on delete.
"""

import os
from pathlib import Path

import pytest

MiB = 1024 * 1024
V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct", "cpuset", "devices", "freezer", "blkio")


def controllers():
    return [c for c in V1_CONTROLLERS if (Path("/sys/fs/cgroup") / c / "cgroup.procs").exists()]


def need(controller):
    if controller not in controllers():
        pytest.skip(f"no cgroup v1 {controller} hierarchy on this host")


def read(path):
    return Path(path).read_text().strip()


def memory_bundle(make_bundle, args, limit):
    b = make_bundle(args)
    mem = {"limit": limit}
    if (Path("/sys/fs/cgroup/memory") / "memory.memsw.limit_in_bytes").exists():
        mem["swap"] = limit  # memory+swap: no swap to escape to
    b.resources()["memory"] = mem
    b.write()
    return b


def test_container_joins_its_cgroups(runtime, make_bundle):
    b = make_bundle(["cat", "/proc/self/cgroup"])
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    # Without a cgroup namespace the container sees its full path.
    paths = {}
    for line in res.out.splitlines():
        _, ctrls, path = line.split(":", 2)
        for ctrl in ctrls.split(","):
            paths[ctrl] = path
    for ctrl in controllers():
        assert paths[ctrl] == b.cgroups_path, (ctrl, paths)


def test_cgroup_namespace_hides_host_path(runtime, make_bundle):
    b = make_bundle(["cat", "/proc/self/cgroup"])
    b.set_namespace("cgroup")
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    for line in res.out.splitlines():
        _, ctrls, path = line.split(":", 2)
        if ctrls.split(",")[0] in controllers():
            assert path == "/", line


def test_memory_limit(runtime, make_bundle):
    need("memory")
    b = memory_bundle(make_bundle, ["sleep", "300"], 64 * MiB)
    runtime.run_detached(b)
    assert int(read(b.cgroup_dir("memory") / "memory.limit_in_bytes")) == 64 * MiB
    pid = runtime.state(b.id)["pid"]
    assert str(pid) in read(b.cgroup_dir("memory") / "cgroup.procs").split()


def test_memory_oom_foreground_exits_137(runtime, make_bundle):
    need("memory")
    # busybox tail keeps the last lines in memory and /dev/zero has no newline.
    b = memory_bundle(make_bundle, ["tail", "/dev/zero"], 32 * MiB)
    res = runtime.run(b, timeout=60)
    assert res.rc == 137, str(res)


def test_memory_oom_inside_shell_kills_only_the_hog(runtime, make_bundle):
    need("memory")
    b = memory_bundle(make_bundle, ["sh", "-c", "tail /dev/zero; echo hog-status=$?"], 32 * MiB)
    res = runtime.run(b, timeout=60)
    assert res.rc == 0, str(res)
    assert res.out.strip() == "hog-status=137"


def oom_detached(runtime, make_bundle):
    b = memory_bundle(make_bundle, ["tail", "/dev/zero"], 32 * MiB)
    runtime.run_detached(b)
    runtime.wait_status(b.id, "stopped", timeout=30)
    # The kernel's own count proves it was the OOM killer, not something else.
    oom = dict(line.split() for line in read(b.cgroup_dir("memory") /
                                             "memory.oom_control").splitlines())
    assert int(oom["oom_kill"]) >= 1
    return b


def test_memory_oom_detached_container_is_stopped(runtime, make_bundle):
    need("memory")
    b = oom_detached(runtime, make_bundle)
    st = runtime.state(b.id)
    assert st["status"] == "stopped" and st["id"] == b.id


@pytest.mark.berth_only(reason="oomKilled is a berth addition to the state")
def test_memory_oom_detached_state_reports_oom_killed(runtime, make_bundle):
    need("memory")
    b = oom_detached(runtime, make_bundle)
    assert runtime.state(b.id)["oomKilled"] is True


@pytest.mark.berth_only(reason="oomKilled is a berth addition to the state")
def test_state_without_oom_has_no_oom_killed(runtime, make_bundle):
    b = make_bundle(["true"])
    runtime.run_detached(b)
    runtime.wait_status(b.id, "stopped")
    assert runtime.state(b.id).get("oomKilled", False) is False


def test_pids_limit_stops_fork_loop(runtime, make_bundle):
    need("pids")
    out = runtime.mkdir("out", 0o777)
    script = ("for i in $(seq 100); do sleep 30 & done 2>/out/err; echo loop-done >/out/done; "
              "sleep 300")
    b = make_bundle(["sh", "-c", script])
    b.bind(out, "/out")
    b.resources()["pids"] = {"limit": 10}
    b.write()
    runtime.run_detached(b)
    pids_dir = b.cgroup_dir("pids")
    runtime.wait_for(lambda: (out / "err").exists() and "fork" in (out / "err").read_text(),
                     what="a fork failure reported inside the container")
    assert int(read(pids_dir / "pids.max")) == 10
    assert int(read(pids_dir / "pids.current")) <= 10
    assert len(read(pids_dir / "cgroup.procs").split()) <= 10
    events = dict(line.split() for line in read(pids_dir / "pids.events").splitlines())
    assert int(events["max"]) > 0
    assert "can't fork" in (out / "err").read_text()


def test_cpu_shares_quota_period(runtime, make_bundle):
    need("cpu")
    b = make_bundle(["sleep", "300"])
    b.resources()["cpu"] = {"shares": 512, "quota": 25000, "period": 100000}
    b.write()
    runtime.run_detached(b)
    cpu = b.cgroup_dir("cpu")
    assert read(cpu / "cpu.shares") == "512"
    assert read(cpu / "cpu.cfs_quota_us") == "25000"
    assert read(cpu / "cpu.cfs_period_us") == "100000"


def test_cpuset(runtime, make_bundle):
    need("cpuset")
    cpus = read("/sys/fs/cgroup/cpuset/cpuset.effective_cpus")
    first = cpus.replace("-", ",").split(",")[0]
    mems = read("/sys/fs/cgroup/cpuset/cpuset.effective_mems").replace("-", ",").split(",")[0]
    b = make_bundle(["grep", "-E", "^(Cpus|Mems)_allowed_list:", "/proc/self/status"])
    b.resources()["cpu"] = {"cpus": first, "mems": mems}
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    lines = dict(line.split(":\t") for line in res.out.splitlines())
    assert lines["Cpus_allowed_list"] == first
    assert lines["Mems_allowed_list"] == mems


def test_cpuset_files(runtime, make_bundle):
    need("cpuset")
    cpus = read("/sys/fs/cgroup/cpuset/cpuset.effective_cpus")
    first = cpus.replace("-", ",").split(",")[0]
    b = make_bundle(["sleep", "300"])
    b.resources()["cpu"] = {"cpus": first, "mems": "0"}
    b.write()
    runtime.run_detached(b)
    assert read(b.cgroup_dir("cpuset") / "cpuset.cpus") == first
    assert read(b.cgroup_dir("cpuset") / "cpuset.mems") == "0"


def blkio_weight_file():
    """The blkio weight file a child cgroup gets here, or None.

    With BFQ the root cgroup has no weight file while its children do, so a
    throwaway child is made to look."""
    probe = Path("/sys/fs/cgroup/blkio") / f"berth-test-probe-{os.getpid()}"
    probe.mkdir()
    try:
        for name in ("blkio.weight", "blkio.bfq.weight"):
            if (probe / name).exists():
                return name
        return None
    finally:
        probe.rmdir()


def test_blkio_weight(runtime, make_bundle):
    need("blkio")
    name = blkio_weight_file()
    if name is None:
        pytest.skip("this kernel's blkio hierarchy has no weight file (no CFQ/BFQ)")
    b = make_bundle(["sleep", "300"])
    b.resources()["blockIO"] = {"weight": 300}
    b.write()
    runtime.run_detached(b)
    value = read(b.cgroup_dir("blkio") / name)
    # bfq.weight reads "default 300".
    assert value.split()[-1] == "300", value


def test_devices_cgroup_denies_unlisted_device(runtime, make_bundle):
    need("devices")
    b = make_bundle(["sh", "-c", "head -c 1 /dev/fuse; echo denied-rc=$?; "
                                 "echo x > /dev/null && echo null-ok"])
    # The node exists in /dev, but the cgroup allows only /dev/null (and the
    # runtime's own defaults).
    b.linux["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                           "fileMode": 0o666}]
    b.resources()["devices"] = [{"allow": False, "access": "rwm"},
                                {"allow": True, "type": "c", "major": 1, "minor": 3,
                                 "access": "rwm"}]
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    assert res.out.splitlines() == ["denied-rc=1", "null-ok"]
    assert "Operation not permitted" in res.err


def test_devices_cgroup_allows_listed_device(runtime, make_bundle):
    need("devices")
    b = make_bundle(["sh", "-c", "(exec 3</dev/fuse); echo rc=$?"])
    b.linux["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                           "fileMode": 0o666}]
    b.resources()["devices"] = [{"allow": False, "access": "rwm"},
                                {"allow": True, "type": "c", "major": 10, "minor": 229,
                                 "access": "rwm"}]
    b.write()
    res = runtime.run(b)
    # Open may still fail in the driver (no fuse module), but not with EPERM.
    assert "Operation not permitted" not in res.err, str(res)
    assert res.rc == 0, str(res)


def test_devices_cgroup_list(runtime, make_bundle):
    need("devices")
    b = make_bundle(["sleep", "300"])
    runtime.run_detached(b)
    rules = read(b.cgroup_dir("devices") / "devices.list").splitlines()
    assert "a *:* rwm" not in rules
    assert "c 1:3 rwm" in rules


def test_cgroup_removed_on_delete(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    b.resources()["memory"] = {"limit": 64 * MiB}
    b.resources()["pids"] = {"limit": 50}
    b.write()
    runtime.run_detached(b)
    present = [c for c in controllers() if b.cgroup_dir(c).is_dir()]
    assert set(present) == set(controllers())
    runtime.kill(b.id, "KILL")
    runtime.wait_status(b.id, "stopped")
    runtime.delete(b.id)
    for ctrl in controllers():
        assert not b.cgroup_dir(ctrl).exists(), ctrl
    # Nothing of the container is left in the parent either.
    for ctrl in controllers():
        parent = b.cgroup_dir(ctrl).parent
        if parent.exists():
            assert b.id not in os.listdir(parent)
