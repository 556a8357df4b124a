"""Device nodes and the /dev symlinks a container gets.

The default devices must be character devices with the right numbers and
modes, linux.devices must be created as configured, and the usual /dev
symlinks must point into /proc/self/fd.
"""

DEFAULT_DEVICES = {
    "/dev/null": (1, 3),
    "/dev/zero": (1, 5),
    "/dev/full": (1, 7),
    "/dev/random": (1, 8),
    "/dev/urandom": (1, 9),
    "/dev/tty": (5, 0),
}

# busybox stat: name, file type, major and minor in hex, octal mode, uid, gid.
STAT_FMT = "'%n|%F|%t|%T|%a|%u|%g'"


def stat_lines(out):
    result = {}
    for line in out.splitlines():
        name, ftype, major, minor, mode, uid, gid = line.split("|")
        result[name] = (ftype, int(major, 16), int(minor, 16), int(mode, 8), int(uid), int(gid))
    return result


def test_default_devices(runtime, make_bundle):
    b = make_bundle(["stat", "-c", STAT_FMT.strip("'"), *DEFAULT_DEVICES])
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    seen = stat_lines(res.out)
    for path, (major, minor) in DEFAULT_DEVICES.items():
        ftype, got_major, got_minor, mode, _, _ = seen[path]
        assert ftype == "character special file", path
        assert (got_major, got_minor) == (major, minor), path
        assert mode == 0o666, path


def test_default_devices_work(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "echo discard > /dev/null && echo null-ok; "
                                 "head -c 3 /dev/zero | od -An -tx1; "
                                 "head -c 16 /dev/urandom | wc -c; "
                                 "echo x > /dev/full; echo full-rc=$?"])
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    assert res.out.split("\n")[:4] == ["null-ok", " 00 00 00", "16", "full-rc=1"], str(res)
    assert "No space left on device" in res.err


def test_linux_devices_custom(runtime, make_bundle):
    b = make_bundle(["sh", "-c", f"stat -c {STAT_FMT} /dev/mydev; "
                                 "head -c 4 /dev/mydev | od -An -tx1; "
                                 "echo x > /dev/mydev; echo rc=$?"])
    b.linux["devices"] = [{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 7,
                           "fileMode": 0o640, "uid": 0, "gid": 5}]
    b.resources()["devices"].append({"allow": True, "type": "c", "major": 1, "minor": 7,
                                     "access": "rwm"})
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    lines = res.out.splitlines()
    assert stat_lines(lines[0])["/dev/mydev"] == ("character special file", 1, 7, 0o640, 0, 5)
    # 1:7 is the "full" device: zeros to read, ENOSPC to write.
    assert lines[1].split() == ["00"] * 4
    assert lines[2] == "rc=1"
    assert "No space left on device" in res.err


def test_dev_symlinks(runtime, make_bundle):
    # ">>": stdout may be a regular file, which ">" through /proc/self/fd/1 truncates.
    links = ["/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/ptmx"]
    b = make_bundle(["sh", "-c", "for l in " + " ".join(links) +
                     "; do echo $l $(readlink $l); done; echo via-fd >> /dev/stdout"])
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    got = dict(line.split(" ", 1) for line in res.out.splitlines()[:-1])
    assert got == {
        "/dev/fd": "/proc/self/fd",
        "/dev/stdin": "/proc/self/fd/0",
        "/dev/stdout": "/proc/self/fd/1",
        "/dev/stderr": "/proc/self/fd/2",
        "/dev/ptmx": "pts/ptmx",
    }, str(res)
    assert res.out.splitlines()[-1] == "via-fd"


def test_dev_is_private_tmpfs(runtime, make_bundle):
    # Only what the spec asks for: no host device such as a disk shows up.
    b = make_bundle(["ls", "-A", "/dev"])
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    names = set(res.out.split())
    assert {"null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "mqueue",
            "fd", "stdin", "stdout", "stderr", "ptmx"} <= names
    assert not any(n.startswith(("vd", "sd", "nvme", "loop", "mem", "kmsg")) for n in names)
