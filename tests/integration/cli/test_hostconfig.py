"""What `berth run`'s HostConfig flags do, seen from inside the container as
a user would check it: the seccomp mode (Docker's default profile, or none
with seccomp=unconfined), the effective capabilities with --cap-add and
--cap-drop, no_new_privs, a read-only root, the memory limit in the
container's cgroup, --init as PID 1, -v and --tmpfs mounts, the host's
network with --network host, the host's PID, IPC and UTS namespaces and a
private cgroup namespace, a privileged container; and Docker's messages for
what is refused."""

import os
import re
from pathlib import Path

IMAGE = "busybox"

CAP_NET_RAW = 13
CAP_SYS_ADMIN = 21
CAP_CHOWN = 0


def status_field(out, name):
    m = re.search(rf"^{name}:\s*(\S+)$", out, re.M)
    assert m, f"{name} not in {out!r}"
    return m.group(1)


def run_ok(ctr, *args):
    res = ctr.run("--rm", *args)
    assert res.rc == 0, str(res)
    return res.out


def test_seccomp_default_and_unconfined(ctr):
    out = run_ok(ctr, IMAGE, "cat", "/proc/self/status")
    assert status_field(out, "Seccomp") == "2"
    assert status_field(out, "NoNewPrivs") == "0"
    # New namespaces only with CAP_SYS_ADMIN, which also opens them in
    # Docker's profile.
    res = ctr.run("--rm", IMAGE, "unshare", "-n", "true")
    assert res.rc != 0, str(res)
    run_ok(ctr, "--cap-add", "SYS_ADMIN", IMAGE, "unshare", "-n", "true")
    out = run_ok(ctr, "--security-opt", "seccomp=unconfined", IMAGE, "cat", "/proc/self/status")
    assert status_field(out, "Seccomp") == "0"
    out = run_ok(ctr, "--security-opt", "no-new-privileges", IMAGE, "cat", "/proc/self/status")
    assert status_field(out, "NoNewPrivs") == "1"


def test_cap_add_and_drop(ctr):
    eff = int(status_field(run_ok(ctr, IMAGE, "cat", "/proc/self/status"), "CapEff"), 16)
    assert eff & (1 << CAP_NET_RAW) and eff & (1 << CAP_CHOWN)
    assert not eff & (1 << CAP_SYS_ADMIN)
    out = run_ok(ctr, "--cap-add", "sys_admin", "--cap-drop", "CAP_NET_RAW", IMAGE, "cat",
                 "/proc/self/status")
    eff = int(status_field(out, "CapEff"), 16)
    assert eff & (1 << CAP_SYS_ADMIN)
    assert not eff & (1 << CAP_NET_RAW)
    out = run_ok(ctr, "--cap-drop", "ALL", IMAGE, "cat", "/proc/self/status")
    assert int(status_field(out, "CapEff"), 16) == 0


def test_read_only_root_and_tmpfs(ctr):
    res = ctr.run("--rm", "--read-only", "--tmpfs", "/run:rw,size=1m", IMAGE, "sh", "-c",
                  "touch /run/ok && echo ok; touch /x")
    assert res.rc == 1, str(res)
    assert res.out == "ok\n"
    assert "Read-only file system" in res.err
    out = run_ok(ctr, "--tmpfs", "/run:size=1m", IMAGE, "grep", " /run ", "/proc/mounts")
    assert out.startswith("tmpfs /run tmpfs ") and "size=1024k" in out and "noexec" in out


def test_memory_limit(ctr):
    out = run_ok(ctr, "-m", "64m", IMAGE, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
    assert out == f"{64 * 1024 * 1024}\n"
    cid = ctr.create("-m", "64m", IMAGE)
    hc = ctr.inspect(cid)["HostConfig"]
    assert hc["Memory"] == 64 * 1024 * 1024
    res = ctr.run("--rm", "-m", "1k", IMAGE, "true")
    assert res.rc == 125
    assert "Minimum memory limit allowed is 6MB" in res.err


def test_init_is_pid_1(ctr):
    out = run_ok(ctr, "--init", IMAGE, "cat", "/proc/1/cmdline")
    assert out.split("\0")[:3] == ["/sbin/docker-init", "--", "cat"]
    cid = ctr.create("--init", IMAGE)
    assert ctr.inspect(cid)["HostConfig"]["Init"] is True


def test_bind_volume(ctr, tmp_path):
    (tmp_path / "f").write_text("from the host\n")
    out = run_ok(ctr, "-v", f"{tmp_path}:/data:ro", IMAGE, "sh", "-c",
                 "cat /data/f; touch /data/g 2>/dev/null || echo refused")
    assert out == "from the host\nrefused\n"
    run_ok(ctr, "-v", f"{tmp_path}:/data", IMAGE, "sh", "-c", "echo back > /data/g")
    assert (tmp_path / "g").read_text() == "back\n"
    cid = ctr.create("-v", f"{tmp_path}:/data:ro", IMAGE)
    info = ctr.inspect(cid)
    assert info["HostConfig"]["Binds"] == [f"{tmp_path}:/data:ro"]
    assert info["Mounts"] == [{"Type": "bind", "Source": str(tmp_path), "Destination": "/data",
                               "Mode": "ro", "RW": False, "Propagation": "rprivate"}]
    res = ctr.run("--rm", "-v", "/nonexistent-berth-src:/x", IMAGE, "true")
    assert res.rc == 125
    assert ('invalid mount config for type "bind": bind source path does not exist: '
            "/nonexistent-berth-src") in res.err


def test_network_modes(ctr):
    host_links = sorted(p.name for p in Path("/sys/class/net").iterdir())
    out = run_ok(ctr, "--network", "host", IMAGE, "ls", "/sys/class/net")
    assert sorted(out.split()) == host_links
    out = run_ok(ctr, IMAGE, "ls", "/sys/class/net")
    assert out.split() == ["lo"]
    cid = ctr.create("--network", "host", IMAGE)
    info = ctr.inspect(cid)
    assert info["HostConfig"]["NetworkMode"] == "host"
    assert list(info["NetworkSettings"]["Networks"]) == ["host"]
    res = ctr.run("--rm", "--network", "container:other", IMAGE, "true")
    assert res.rc == 125 and "cannot join network of a non running container: other" in res.err
    res = ctr.run("--rm", "--network", "container:other", "-p", "80:80", IMAGE, "true")
    assert res.rc == 125 and "conflicting options: port publishing" in res.err


def test_namespace_modes(ctr):
    # --pid, --ipc and --uts host share the host's namespace of that kind;
    # --cgroupns private roots the container's cgroups at its own.
    host = {n: Path(f"/proc/self/ns/{n}").readlink().name for n in ("pid", "ipc", "uts")}
    out = run_ok(ctr, "--pid", "host", "--ipc", "host", "--uts", "host", IMAGE, "sh", "-c",
                 "for n in pid ipc uts; do readlink /proc/self/ns/$n; done")
    assert out.split() == [host["pid"], host["ipc"], host["uts"]]
    out = run_ok(ctr, IMAGE, "readlink", "/proc/self/ns/pid")
    assert out.strip() != host["pid"]
    # The host's /dev/shm comes with its IPC namespace; none has none.
    marker = Path("/dev/shm") / f"berth-test-{os.getpid()}"
    marker.write_text("shared")
    try:
        out = run_ok(ctr, "--ipc", "host", IMAGE, "cat", f"/dev/shm/{marker.name}")
        assert out == "shared"
    finally:
        marker.unlink()
    out = run_ok(ctr, "--ipc", "none", IMAGE, "sh", "-c", "grep -c ' /dev/shm ' /proc/mounts; true")
    assert out.strip() == "0"
    out = run_ok(ctr, "--cgroupns", "private", IMAGE, "cat", "/proc/self/cgroup")
    assert all(line.endswith(":/") for line in out.split()), out
    res = ctr.run("--rm", "--pid", "bogus", IMAGE, "true")
    assert res.rc == 125 and "invalid PID mode: bogus" in res.err, str(res)


def test_privileged(ctr):
    out = run_ok(ctr, "--privileged", IMAGE, "sh", "-c",
                 "grep -E '^(Seccomp|CapEff):' /proc/self/status; grep ' /sys ' /proc/mounts")
    assert status_field(out, "Seccomp") == "0"
    assert int(status_field(out, "CapEff"), 16) & (1 << CAP_SYS_ADMIN)
    assert re.search(r"^sysfs /sys sysfs rw,", out, re.M), out


def test_refused_flags(ctr):
    res = ctr.run("--rm", "--cap-add", "FOO", IMAGE, "true")
    assert res.rc == 125
    assert 'invalid CapAdd: unknown capability: "CAP_FOO"' in res.err
    res = ctr.run("--rm", "--security-opt", "foo", IMAGE, "true")
    assert res.rc == 125
    assert 'invalid --security-opt 1: "foo"' in res.err
    # Nothing stays of a refused create.
    assert ctr.ids() == []


def test_hostconfig_shape(ctr):
    cid = ctr.create(IMAGE)
    hc = ctr.inspect(cid)["HostConfig"]
    assert hc["LogConfig"] == {"Type": "json-file", "Config": {}}
    assert hc["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0}
    assert hc["ShmSize"] == 67108864
    assert hc["Runtime"] == "runc"
    assert hc["IpcMode"] == "private" and hc["CgroupnsMode"] == "host"
    assert hc["Binds"] is None and hc["PidsLimit"] is None
    assert "Init" not in hc and "Tmpfs" not in hc
