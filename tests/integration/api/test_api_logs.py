"""Followed logs against berthd: many clients following a quiet
container hold no daemon thread and all get its next line, rotations are
followed without losing a line, and every follower's response ends with
the container."""

import os
import socket
import subprocess
import time

from berthd_testlib import parent_of, standby_shims, wait_for


def threads_of(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def follow(d, name):
    """A raw client following NAME's logs (the response's headers come with
    the first byte, so the socket is returned unread)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(d.sock)
    s.sendall(f"GET /v1.41/containers/{name}/logs?follow=1&stdout=1&stderr=1 HTTP/1.1\r\n"
              "Host: x\r\n\r\n".encode())
    return s


def read_to_end(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def read_until(s, needle, got=b""):
    while needle not in got:
        chunk = s.recv(65536)
        assert chunk, f"closed before {needle!r}: {got!r}"
        got += chunk
    return got


def test_many_followers_hold_no_daemon_thread(bb):
    bb.docker("run", "-d", "--name", "quiet", "busybox", "sleep", "1000")
    base = threads_of(bb.proc.pid)
    clients = [follow(bb, "quiet") for _ in range(40)]
    try:
        time.sleep(1)
        # More followers than the daemon has pool threads: it still answers.
        started = time.monotonic()
        assert bb.request("GET", "/containers/json?all=1").status == 200
        assert bb.docker("inspect", "-f", "{{.State.Running}}", "quiet").stdout.strip() == "true"
        assert time.monotonic() - started < 10
        assert threads_of(bb.proc.pid) <= base + 4
        bb.docker("exec", "quiet", "sh", "-c", "echo wake-up > /proc/1/fd/1")
        for c in clients:
            read_until(c, b"wake-up")
        bb.docker("kill", "quiet")
        for c in clients:
            c.settimeout(20)
            assert b"0\r\n\r\n" in read_until(c, b"0\r\n\r\n")
    finally:
        for c in clients:
            c.close()


def test_follow_goes_on_across_rotations(bb):
    script = ("sleep 1; i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); "
              "usleep 5000; done")
    bb.docker("run", "-d", "--name", "chatty", "--log-opt", "max-size=1k", "--log-opt",
              "max-file=3", "busybox", "sh", "-c", script)
    res = subprocess.run(["docker", "logs", "-f", "chatty"], env=bb.env(), capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [f"line-{i}" for i in range(400)]
    # Rotated away meanwhile: what is left is the tail.
    left = bb.docker("logs", "chatty").stdout.split()
    assert left and left[-1] == "line-399" and len(left) < 400


def open_fds(d):
    """The daemon's sockets and pipes: not the loop's inotify fd, made on
    first use, nor the store connections kept for later jobs (one at most
    per pool thread)."""
    pid = d.proc.pid
    names = []
    for n in os.listdir(f"/proc/{pid}/fd"):
        try:
            names.append(os.readlink(f"/proc/{pid}/fd/{n}"))
        except FileNotFoundError:
            pass  # closed meanwhile by one of the daemon's threads
    return [n for n in names if n.startswith(("socket:", "pipe:"))]


def test_a_follower_that_leaves_is_let_go(bb):
    bb.docker("run", "-d", "--name", "quiet", "busybox", "sleep", "1000")
    # The next standby shim (and berthd's socket to it) comes a moment
    # after the start, whose own shim was the last one.
    pid = int(bb.docker("inspect", "-f", "{{.State.Pid}}", "quiet").stdout)
    wait_for(lambda: standby_shims() - {parent_of(pid)})
    base = open_fds(bb)
    clients = [follow(bb, "quiet") for _ in range(10)]
    deadline = time.monotonic() + 20
    while len(open_fds(bb)) < len(base) + 20:  # a socket and a pipe each
        assert time.monotonic() < deadline, ("followers hold no fds", base, open_fds(bb))
        time.sleep(0.1)
    for c in clients:
        c.close()
    deadline = time.monotonic() + 20
    while len(open_fds(bb)) > len(base):
        assert time.monotonic() < deadline, ("followers that left hold their fds", base,
                                             open_fds(bb))
        time.sleep(0.1)


def test_followers_end_when_the_daemon_stops(bb):
    bb.docker("run", "-d", "--name", "quiet", "busybox", "sleep", "1000")
    clients = [follow(bb, "quiet") for _ in range(3)]
    try:
        time.sleep(0.5)
        bb.stop()
        for c in clients:
            read_to_end(c)  # ends instead of hanging
    finally:
        for c in clients:
            c.close()
