"""Seccomp filters as the container process meets them.

A denied syscall must fail with the configured errno (per rule and through
defaultErrnoRet), and an argument condition must deny only the matching
calls.  busybox's mkdir and chmod applets call mkdir(2) and chmod(2).
"""

import errno
import os
import platform
import re
from pathlib import Path

import pytest

EXDEV_MSG = os.strerror(errno.EXDEV)  # "Invalid cross-device link"
ENOTSUP_MSG = os.strerror(errno.EOPNOTSUPP)


def unistd_syscalls():
    """Every syscall name the installed kernel headers know for this machine."""
    headers = {"x86_64": "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
               "aarch64": "/usr/include/asm-generic/unistd.h"}
    path = Path(headers.get(platform.machine(), "/nonexistent"))
    if not path.exists():
        return []
    return sorted(set(re.findall(r"#define __NR_([a-z0-9_]+)\s+\d+", path.read_text())))


def test_seccomp_errno_ret(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "mkdir /tmp/denied; echo rc=$?; ls -d /tmp/denied; "
                                 "touch /tmp/file && echo touch-ok"])
    b.add_mount("/tmp", "tmpfs", "tmpfs", ["size=1m"])
    b.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": errno.EXDEV}],
    }
    b.write()
    res = runtime.run(b)
    assert res.out.splitlines() == ["rc=1", "touch-ok"], str(res)
    assert f"can't create directory '/tmp/denied': {EXDEV_MSG}" in res.err


def test_seccomp_errno_default_is_eperm(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "mkdir /tmp/denied; echo rc=$?"])
    b.add_mount("/tmp", "tmpfs", "tmpfs", ["size=1m"])
    b.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
    }
    b.write()
    res = runtime.run(b)
    assert res.out.splitlines() == ["rc=1"], str(res)
    assert os.strerror(errno.EPERM) in res.err


def test_seccomp_default_errno_ret(runtime, make_bundle):
    names = unistd_syscalls()
    if not names:
        pytest.skip("no kernel syscall header for this machine to build an allow list")
    b = make_bundle(["sh", "-c", "mkdir /tmp/denied; echo rc=$?; touch /tmp/f && echo ok"])
    b.add_mount("/tmp", "tmpfs", "tmpfs", ["size=1m"])
    # Everything is allowed by name except mkdir, which falls to the default.
    allowed = [n for n in names if n not in ("mkdir", "mkdirat")]
    b.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": errno.EOPNOTSUPP,
        "syscalls": [{"names": allowed, "action": "SCMP_ACT_ALLOW"}],
    }
    b.write()
    res = runtime.run(b)
    assert res.out.splitlines() == ["rc=1", "ok"], str(res)
    assert f"can't create directory '/tmp/denied': {ENOTSUP_MSG}" in res.err


def test_seccomp_argument_condition(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "touch /tmp/f; chmod 700 /tmp/f; echo rc=$?; "
                                 "chmod 750 /tmp/f; echo rc=$?; stat -c %a /tmp/f"])
    b.add_mount("/tmp", "tmpfs", "tmpfs", ["size=1m"])
    # The mode is chmod's second argument and fchmodat's third.
    b.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV,
             "args": [{"index": 1, "value": 0o700, "op": "SCMP_CMP_EQ"}]},
            {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV,
             "args": [{"index": 2, "value": 0o700, "op": "SCMP_CMP_EQ"}]},
        ],
    }
    b.write()
    res = runtime.run(b)
    assert res.out.splitlines() == ["rc=1", "rc=0", "750"], str(res)
    assert EXDEV_MSG in res.err


def test_seccomp_kill_action(runtime, make_bundle):
    b = make_bundle(["mkdir", "/tmp/denied"])
    b.add_mount("/tmp", "tmpfs", "tmpfs", ["size=1m"])
    b.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL"}],
    }
    b.write()
    res = runtime.run(b)
    assert res.rc == 128 + 31, str(res)  # SIGSYS


def test_seccomp_filter_status_inside(runtime, make_bundle):
    b = make_bundle(["grep", "^Seccomp:", "/proc/self/status"])
    b.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}],
    }
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    assert res.out.split() == ["Seccomp:", "2"]


# struct seccomp_notif is 80 bytes, struct seccomp_notif_resp 24 (linux/seccomp.h).
SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101


def test_seccomp_notify_listener_gets_fd_and_answers(runtime, make_bundle, tmp_path):
    """SCMP_ACT_NOTIFY: the listener at listenerPath receives the notification
    fd with the container process state, and its answer is what the
    container's syscall returns."""
    import fcntl
    import json
    import socket
    import struct
    import threading

    path = str(tmp_path / "listener.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    server.settimeout(20)
    got = {}

    def supervise():
        conn, _ = server.accept()
        with conn:
            msg, fds, _, _ = socket.recv_fds(conn, 65536, 1)
            got["state"] = json.loads(msg)
            notify_fd = fds[0]
            try:
                buf = bytearray(80)
                fcntl.ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, buf)
                notif_id, _pid, _flags, nr = struct.unpack_from("=QIIi", buf)
                got["nr"] = nr
                resp = bytearray(struct.pack("=QqiI", notif_id, 0, -errno.EXDEV, 0))
                fcntl.ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, resp)
            finally:
                os.close(notify_fd)

    thread = threading.Thread(target=supervise, daemon=True)
    thread.start()
    b = make_bundle(["sh", "-c", "mkdir /tmp/watched; echo rc=$?; touch /tmp/f && echo ok"])
    b.add_mount("/tmp", "tmpfs", "tmpfs", ["size=1m"])
    b.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": path,
        "listenerMetadata": "berth-test",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}],
    }
    b.write()
    res = runtime.run(b)
    thread.join(10)
    server.close()
    assert res.out.splitlines() == ["rc=1", "ok"], str(res)
    assert EXDEV_MSG in res.err
    state = got["state"]
    assert state["fds"] == ["seccompFd"]
    assert state["metadata"] == "berth-test"
    assert state["state"]["id"] == b.id
    assert state["pid"] > 1
    assert got["nr"] in (83, 258)  # mkdir, mkdirat on x86_64
