"""Mounts, masked and read-only paths, the read-only rootfs and sysctls.

Every check reads /proc/self/mountinfo or touches the files from inside the
container, and looks at the host afterwards where the host could be harmed.
"""

import os
import subprocess
from pathlib import Path


def mountinfo(text):
    """{mount point: (options, fs type, super options)} from mountinfo text."""
    mounts = {}
    for line in text.splitlines():
        fields = line.split()
        sep = fields.index("-")
        mounts[fields[4]] = (fields[5].split(","), fields[sep + 1], fields[sep + 3].split(","))
    return mounts


def run_ok(runtime, bundle):
    res = runtime.run(bundle)
    assert res.rc == 0, str(res)
    return res.out


def test_mount_proc(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "cat /proc/self/mountinfo; echo ---; cat /proc/self/comm"])
    out = run_ok(runtime, b)
    info, _, comm = out.partition("---\n")
    mounts = mountinfo(info)
    assert mounts["/proc"][1] == "proc"
    assert comm == "cat\n"


def test_default_mounts(runtime, make_bundle):
    b = make_bundle(["cat", "/proc/self/mountinfo"])
    mounts = mountinfo(run_ok(runtime, b))
    assert mounts["/dev"][1] == "tmpfs"
    assert mounts["/dev/pts"][1] == "devpts"
    assert mounts["/dev/shm"][1] == "tmpfs"
    assert mounts["/dev/mqueue"][1] == "mqueue"
    assert mounts["/sys"][1] == "sysfs"
    assert "ro" in mounts["/sys"][0]
    for opt in ("nosuid", "noexec", "nodev"):
        assert opt in mounts["/dev/shm"][0]


def test_mount_tmpfs_with_size(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "grep ' /scratch ' /proc/self/mountinfo; "
                                 "dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>&1; "
                                 "echo rc=$?; du -k /scratch/big"])
    b.add_mount("/scratch", "tmpfs", "tmpfs", ["size=1m", "mode=1777", "nodev"])
    b.write()
    lines = run_ok(runtime, b).splitlines()
    mp = mountinfo(lines[0])["/scratch"]
    assert mp[1] == "tmpfs"
    assert "size=1024k" in mp[2]
    assert "nodev" in mp[0]
    assert any("No space left on device" in line for line in lines)
    assert "rc=1" in lines
    assert int(lines[-1].split()[0]) <= 1024


def test_bind_mount_host_dir(runtime, make_bundle):
    host = runtime.mkdir("bind-src")
    (host / "from-host").write_text("hello from host\n")
    b = make_bundle(["sh", "-c", "cat /data/from-host; echo from-container > /data/new"])
    b.bind(host, "/data")
    b.write()
    assert run_ok(runtime, b) == "hello from host\n"
    assert (host / "new").read_text() == "from-container\n"


def test_readonly_bind_refuses_writes(runtime, make_bundle):
    host = runtime.mkdir("ro-src")
    (host / "file").write_text("keep\n")
    b = make_bundle(["sh", "-c", "cat /ro/file; echo x > /ro/file; echo rc=$?; "
                                 "touch /ro/new; echo rc=$?"])
    b.bind(host, "/ro", "ro")
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    assert res.out.splitlines() == ["keep", "rc=1", "rc=1"]
    assert "Read-only file system" in res.err
    assert (host / "file").read_text() == "keep\n"
    assert not (host / "new").exists()


def host_submount(runtime):
    """A host dir with a tmpfs mounted on its 'sub' dir (unmounted at teardown)."""
    host = runtime.mkdir("rbind-src")
    (host / "top").write_text("top\n")
    sub = host / "sub"
    sub.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "berth-test", str(sub)],
                   check=True)
    runtime.on_teardown(lambda: subprocess.run(["umount", "-l", str(sub)], check=True))
    (sub / "in-submount").write_text("sub\n")
    return host


def test_rbind_includes_submounts(runtime, make_bundle):
    host = host_submount(runtime)
    b = make_bundle(["sh", "-c", "cat /r/top /r/sub/in-submount"])
    b.add_mount("/r", "bind", host, ["rbind"])
    b.write()
    assert run_ok(runtime, b) == "top\nsub\n"


def test_plain_bind_excludes_submounts(runtime, make_bundle):
    host = host_submount(runtime)
    b = make_bundle(["sh", "-c", "cat /r/top; ls -A /r/sub | wc -l"])
    b.bind(host, "/r")
    b.write()
    assert run_ok(runtime, b).split() == ["top", "0"]


def test_masked_paths(runtime, make_bundle):
    # Masked files read empty and masked dirs list empty.  /proc/kcore is in
    # the default list but absent on some kernels: check whichever exist.
    files = [f for f in ("/proc/kcore", "/proc/timer_list", "/proc/keys")
             if os.path.exists(f)] + ["/secret-file"]
    dirs = ["/sys/firmware", "/secret"]
    script = "".join(f"echo {f} $(cat {f} | wc -c); " for f in files)
    script += "".join(f"echo {d} $(ls -A {d} | wc -l); " for d in dirs)
    script += "echo x > /secret/new; echo rc=$?"
    b = make_bundle(["sh", "-c", script], readonly=False)
    (b.rootfs / "secret").mkdir()
    (b.rootfs / "secret" / "hidden").write_text("do not show\n")
    (b.rootfs / "secret-file").write_text("do not show\n")
    b.linux["maskedPaths"] += ["/secret", "/secret-file"]
    b.write()
    assert os.listdir("/sys/firmware"), "host /sys/firmware is empty: the check proves nothing"
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    lines = res.out.splitlines()
    assert lines == [f"{p} 0" for p in files + dirs] + ["rc=1"]
    assert (b.rootfs / "secret" / "hidden").read_text() == "do not show\n"
    assert not (b.rootfs / "secret" / "new").exists()


def test_readonly_paths(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "cat /proc/sys/kernel/ostype; "
                                 "echo other > /proc/sys/kernel/hostname; echo rc=$?; "
                                 "grep ' /proc/sys ' /proc/self/mountinfo"])
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    lines = res.out.splitlines()
    assert lines[0] == "Linux"
    assert lines[1] == "rc=1"
    assert "Read-only file system" in res.err
    assert "ro" in mountinfo(lines[2])["/proc/sys"][0]


def test_readonly_rootfs(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "touch /newfile; echo rc=$?; echo x > /tmp/f; echo rc=$?; "
                                 "awk '$5 == \"/\"' /proc/self/mountinfo"])
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    lines = res.out.splitlines()
    assert lines[:2] == ["rc=1", "rc=1"]
    assert "Read-only file system" in res.err
    assert "ro" in mountinfo(lines[2])["/"][0]
    assert not (b.rootfs / "newfile").exists()


def test_writable_rootfs(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "echo written > /newfile"], readonly=False)
    run_ok(runtime, b)
    assert (b.rootfs / "newfile").read_text() == "written\n"


def test_sysctl_in_new_netns(runtime, make_bundle):
    host_before = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    b = make_bundle(["sh", "-c", "cat /proc/sys/net/ipv4/ip_forward "
                                 "/proc/sys/net/ipv4/conf/lo/rp_filter"])
    want = "0" if host_before.strip() == "1" else "1"
    b.linux["sysctl"] = {"net.ipv4.ip_forward": want, "net.ipv4.conf.lo.rp_filter": "2"}
    b.write()
    assert run_ok(runtime, b).split() == [want, "2"]
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == host_before


def test_cwd_is_created_inside_rootfs(runtime, make_bundle):
    b = make_bundle(["pwd"], readonly=False)
    cwd = f"/{b.id}/dir"
    b.process["cwd"] = cwd
    b.write()
    assert run_ok(runtime, b) == cwd + "\n"
    assert (b.rootfs / b.id / "dir").is_dir()
    assert not os.path.exists(f"/{b.id}")
