"""Namespaces as the container sees them.

New namespaces must differ from the host's, a namespace given by path must be
joined, hostname and domainname must be set in the new UTS namespace, and a
user namespace must map container root to the configured host ids.
"""

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

# /proc/self/ns/<name> for each spec namespace type.
NS_FILES = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts",
            "cgroup": "cgroup"}


def parse_ns_links(text):
    """{ns file name: link} from lines like 'net net:[4026532281]'."""
    links = {}
    for line in text.splitlines():
        name, _, link = line.partition(" ")
        links[name] = link
    return links


def test_new_namespaces_are_new(runtime, make_bundle):
    names = " ".join(NS_FILES.values())
    b = make_bundle(["sh", "-c", f"for n in {names}; do echo $n $(readlink /proc/self/ns/$n); "
                                 "done"])
    b.set_namespace("cgroup")
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    inside = parse_ns_links(res.out)
    for name in NS_FILES.values():
        host = os.readlink(f"/proc/self/ns/{name}")
        assert re.fullmatch(rf"{name}:\[\d+\]", inside[name]), inside
        assert inside[name] != host, f"{name} namespace is the host's"


def test_new_network_namespace_has_loopback_up(runtime, make_bundle):
    """As runc does, a new network namespace gets lo up (and nothing else),
    so a container without networking still reaches its own services."""
    b = make_bundle(["sh", "-c", "ls /sys/class/net; cat /sys/class/net/lo/flags; "
                                 "httpd -p 127.0.0.1:8080 -h /etc && "
                                 "wget -q -O - http://127.0.0.1:8080/passwd | head -n 1"])
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    ifaces, flags, reached = res.out.split()
    assert ifaces == "lo"
    assert int(flags, 16) & 0x1, f"lo is down: flags {flags}"
    assert reached.startswith("root:")


def test_pid_1_is_the_process(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "echo pid=$$; cat /proc/1/cmdline | tr '\\0' ' '; echo; "
                                 "ls /proc | grep -c '^[0-9]'"])
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    lines = res.out.splitlines()
    assert lines[0] == "pid=1"
    assert lines[1].startswith("sh -c echo pid=$$")
    # sh, cat and ls/grep: nothing of the host's process tree is visible.
    assert int(lines[2]) <= 4


def test_namespaces_absent_from_config_are_shared(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/ipc"])
    b.linux["namespaces"] = [ns for ns in b.linux["namespaces"]
                             if ns["type"] not in ("network", "ipc")]
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    assert res.out.split() == [os.readlink("/proc/self/ns/net"),
                               os.readlink("/proc/self/ns/ipc")]


def ns_holder(runtime, *flags):
    """A host process in fresh namespaces (unshare FLAGS); killed at teardown."""
    proc = subprocess.Popen(["unshare", *flags, "sleep", "300"], stdin=subprocess.DEVNULL)

    def stop():
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    runtime.on_teardown(stop)
    own = os.readlink("/proc/self/ns/net")
    runtime.wait_for(lambda: Path(f"/proc/{proc.pid}/cmdline").read_bytes().startswith(b"sleep")
                     and os.readlink(f"/proc/{proc.pid}/ns/net") != own,
                     what="unshare process ready")
    return proc.pid


def test_join_existing_namespace_by_path(runtime, make_bundle):
    holder = ns_holder(runtime, "--net", "--uts", "--ipc")
    b = make_bundle(["sh", "-c", "for n in net uts ipc; do readlink /proc/self/ns/$n; done"])
    for ns_type in ("network", "uts", "ipc"):
        b.set_namespace(ns_type, f"/proc/{holder}/ns/{NS_FILES[ns_type]}")
    # A UTS namespace joined by path is not ours to rename.
    b.config.pop("hostname", None)
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    want = [os.readlink(f"/proc/{holder}/ns/{n}") for n in ("net", "uts", "ipc")]
    assert res.out.split() == want
    assert want[0] != os.readlink("/proc/self/ns/net")


def test_join_netns_by_bind_mounted_path(runtime, make_bundle):
    holder = ns_holder(runtime, "--net")
    nsfile = runtime.workdir / "netns"
    nsfile.touch()
    subprocess.run(["mount", "--bind", f"/proc/{holder}/ns/net", str(nsfile)], check=True)
    runtime.on_teardown(lambda: subprocess.run(["umount", str(nsfile)], check=True))
    b = make_bundle(["readlink", "/proc/self/ns/net"])
    b.set_namespace("network", nsfile)
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    assert res.out.strip() == f"net:[{os.stat(nsfile).st_ino}]"


def test_hostname(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "hostname; cat /proc/sys/kernel/hostname"])
    b.config["hostname"] = "berth-box"
    b.write()
    host_before = Path("/proc/sys/kernel/hostname").read_text()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    assert res.out.splitlines() == ["berth-box", "berth-box"]
    assert Path("/proc/sys/kernel/hostname").read_text() == host_before


@pytest.mark.berth_only(reason="runc 1.1 ignores domainname")
def test_domainname(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "hostname; cat /proc/sys/kernel/domainname"])
    b.config["hostname"] = "berth-box"
    b.config["domainname"] = "berth.example"
    b.write()
    host_before = Path("/proc/sys/kernel/domainname").read_text()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    assert res.out.splitlines() == ["berth-box", "berth.example"]
    assert Path("/proc/sys/kernel/domainname").read_text() == host_before


def userns_bundle(make_bundle, args):
    b = make_bundle(args)
    b.set_namespace("user")
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    # A new user namespace may not mount sysfs of a network namespace it does
    # not own, nor the host's cgroup hierarchies: keep to what it can mount.
    b.config["mounts"] = [m for m in b.config["mounts"]
                          if m["destination"] not in ("/sys", "/sys/fs/cgroup")]
    b.config["mounts"].append({"destination": "/sys", "type": "none", "source": "/sys",
                               "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]})
    subprocess.run(["chown", "-R", "100000:100000", str(b.rootfs)], check=True)
    b.write()
    return b


def test_user_namespace_mappings(runtime, make_bundle):
    b = userns_bundle(make_bundle, ["sh", "-c", "id -u; id -g; cat /proc/self/uid_map "
                                    "/proc/self/gid_map; exec sleep 300"])
    out_file = runtime.workdir / "userns.out"
    with open(out_file, "w") as out:
        proc = runtime.popen("run", "--bundle", b.path, b.id, stdout=out)
    runtime.track(b.id, b)
    runtime.wait_for(lambda: runtime.status(b.id) == "running", what="container running")
    pid = runtime.state(b.id)["pid"]
    runtime.wait_for(lambda: Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x00300\x00",
                     what="container execs sleep")

    lines = out_file.read_text().splitlines()
    assert lines[0] == "0" and lines[1] == "0"
    assert lines[2].split() == ["0", "100000", "65536"]
    assert lines[3].split() == ["0", "100000", "65536"]

    # From the host the same process runs as uid/gid 100000.
    status = Path(f"/proc/{pid}/status").read_text()
    uid_line = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
    gid_line = re.search(r"^Gid:\s+(.*)$", status, re.M).group(1).split()
    assert uid_line == ["100000"] * 4
    assert gid_line == ["100000"] * 4
    assert os.readlink(f"/proc/{pid}/ns/user") != os.readlink("/proc/self/ns/user")
    runtime.kill(b.id, "KILL")
    proc.wait(timeout=20)


def test_user_namespace_root_cannot_touch_host_owned_files(runtime, make_bundle):
    shared = runtime.mkdir("host-owned", 0o755)
    (shared / "file").write_text("host\n")
    (shared / "file").chmod(0o644)
    b = userns_bundle(make_bundle, ["sh", "-c", "cat /shared/file; echo x >> /shared/file; "
                                    "echo rc=$?"])
    b.bind(shared, "/shared")
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    assert res.out.splitlines() == ["host", "rc=1"]
    assert (shared / "file").read_text() == "host\n"
