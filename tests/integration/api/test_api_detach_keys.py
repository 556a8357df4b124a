"""Detach keys of an attach made before the container runs (docker run -it,
docker start -ai, docker-py and compose attach first, then start) and of
an exec: the client's own keys end its session and the container goes on,
ctrl-p ctrl-q is then input like any other; only a terminal has detach
keys, piped input is data."""

import fcntl
import json
import os
import select
import socket
import struct
import termios
import time


def state(d, name):
    return d.docker("inspect", "-f", "{{.State.Status}}", name).stdout.strip()


class Pty:
    """The docker client on the slave side of a new pty, its controlling
    terminal; the test reads and writes the master side."""

    def __init__(self, d, *args):
        import subprocess

        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.proc = subprocess.Popen(["docker", *args], env=d.env(), stdin=self.slave,
                                     stdout=self.slave, stderr=self.slave,
                                     start_new_session=True,
                                     preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        self.out = b""

    def write(self, data):
        os.write(self.master, data)

    def expect(self, pattern, timeout=15):
        deadline = time.monotonic() + timeout
        while pattern not in self.out:
            left = deadline - time.monotonic()
            assert left > 0, f"{pattern!r} not seen in {self.out!r}"
            if select.select([self.master], [], [], left)[0]:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                assert chunk, f"{pattern!r} not seen before EOF in {self.out!r}"
                self.out += chunk
        at = self.out.index(pattern) + len(pattern)
        self.out = self.out[at:]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        os.close(self.slave)


def test_docker_run_it_with_detach_keys(bb):
    p = Pty(bb, "run", "-it", "--detach-keys", "ctrl-a,x", "--name", "dk", "busybox", "sh")
    try:
        p.expect(b"/ # ")
        # The default keys are input now: the session goes on.
        p.write(b"\x10\x11")
        time.sleep(0.5)
        assert p.proc.poll() is None
        p.write(b"\x15echo M''ARK1\r")
        p.expect(b"MARK1")
        p.write(b"\x01x")
        assert p.proc.wait(timeout=20) == 0
        assert state(bb, "dk") == "running"
    finally:
        p.close()


def test_docker_start_ai_with_detach_keys(bb):
    bb.docker("create", "-it", "--name", "dk", "busybox", "sh")
    p = Pty(bb, "start", "-ai", "--detach-keys", "ctrl-a,x", "dk")
    try:
        time.sleep(0.5)
        p.write(b"echo M''ARK1\r")
        p.expect(b"MARK1")
        p.write(b"\x10\x11")
        time.sleep(0.5)
        assert p.proc.poll() is None
        p.write(b"\x15echo M''ARK2\r")
        p.expect(b"MARK2")
        p.write(b"\x01x")
        p.proc.wait(timeout=20)
        assert state(bb, "dk") == "running"
    finally:
        p.close()


def hijack(d, path, body=None):
    """POST PATH with an upgrade on a raw socket; returns the socket past
    the answer's head."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(d.sock)
    data = json.dumps(body).encode() if body is not None else b""
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
              f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
              .encode() + data)
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    head, rest = got.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s, rest


def read_until(s, got, token):
    while token not in got:
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    return got


def read_to_end(s, got=b""):
    while True:
        chunk = s.recv(4096)
        if not chunk:
            return got
        got += chunk


def create(d, name, tty=True):
    body = {"Image": "busybox", "Cmd": ["sh"] if tty else ["cat"], "Tty": tty,
            "OpenStdin": True, "AttachStdin": True, "AttachStdout": True}
    res = d.request("POST", f"/v1.41/containers/create?name={name}", body=json.dumps(body),
                    headers={"Content-Type": "application/json"})
    assert res.status == 201, res


def test_parked_attach_takes_its_keys_to_the_start(bb):
    """As docker-py and compose do it, over the API: attach, then start."""
    create(bb, "term")
    s, got = hijack(bb, "/v1.41/containers/term/attach?stream=1&stdin=1&stdout=1"
                    "&detachKeys=ctrl-a,x")
    assert bb.request("POST", "/v1.41/containers/term/start").status == 204
    s.sendall(b"\x10\x11echo M''ARK1\n")
    got = read_until(s, got, b"MARK1")
    s.sendall(b"\x01x")
    read_to_end(s)
    s.close()
    assert state(bb, "term") == "running"
    # Without keys of its own, ctrl-p ctrl-q detaches, as ever.
    bb.docker("stop", "-t", "1", "term")
    s, got = hijack(bb, "/v1.41/containers/term/attach?stream=1&stdin=1&stdout=1")
    assert bb.request("POST", "/v1.41/containers/term/start").status == 204
    s.sendall(b"echo M''ARK2\n")
    got = read_until(s, got, b"MARK2")
    s.sendall(b"\x10\x11")
    read_to_end(s)
    s.close()
    assert state(bb, "term") == "running"


def test_piped_input_has_no_detach_keys(bb):
    create(bb, "pipe", tty=False)
    s, got = hijack(bb, "/v1.41/containers/pipe/attach?stream=1&stdin=1&stdout=1"
                    "&detachKeys=ctrl-a,x")
    assert bb.request("POST", "/v1.41/containers/pipe/start").status == 204
    s.sendall(b"\x01x\x10\x11 went through\n")
    got = read_until(s, got, b"went through\n")
    assert b"\x01x\x10\x11 went through\n" in got
    s.close()


def test_exec_takes_its_detach_keys(bb):
    bb.docker("run", "-d", "--name", "web", "busybox", "sleep", "1000")
    res = bb.request("POST", "/v1.41/containers/web/exec", body=json.dumps(
        {"Cmd": ["sh"], "Tty": True, "AttachStdin": True, "AttachStdout": True,
         "DetachKeys": "ctrl-a,x"}), headers={"Content-Type": "application/json"})
    assert res.status == 201, res
    exec_id = res.json()["Id"]
    s, got = hijack(bb, f"/v1.41/exec/{exec_id}/start", {"Detach": False, "Tty": True})
    s.sendall(b"\x10\x11echo M''ARK1\n")
    got = read_until(s, got, b"MARK1")
    s.sendall(b"\x01x")
    read_to_end(s)
    s.close()
    # Left behind, the exec's shell still runs.
    assert bb.request("GET", f"/v1.41/exec/{exec_id}/json").json()["Running"] is True


def test_bad_detach_keys_are_refused(bb):
    create(bb, "term")
    res = bb.request("POST", "/v1.41/containers/term/attach?stream=1&stdin=1&stdout=1"
                     "&detachKeys=ctrl-,x")
    assert res.status == 400, res
    assert res.json()["message"] == "Invalid detach keys (ctrl-,x) provided"
    bb.docker("start", "term")
    res = bb.request("POST", "/v1.41/containers/term/exec", body=json.dumps(
        {"Cmd": ["sh"], "DetachKeys": "ctrl-P"}), headers={"Content-Type": "application/json"})
    assert res.status == 400, res
    assert res.json()["message"] == "Invalid escape keys (ctrl-P) provided"
