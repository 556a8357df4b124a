"""Interactive use through a pseudo-terminal: run -it, a resize seen
inside, ctrl-p ctrl-q detaching, the terminal restored afterwards."""

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

CLIENTS = ["berth", "docker"]


class Pty:
    """A client started on the slave side of a new pty, as its controlling
    terminal; the test reads and writes the master side."""

    def __init__(self, argv, env, rows=24, cols=80):
        self.master, self.slave = os.openpty()
        self.winsize(rows, cols)
        self.before = termios.tcgetattr(self.slave)
        self.proc = subprocess.Popen(argv, env=env, stdin=self.slave, stdout=self.slave,
                                     stderr=self.slave, start_new_session=True,
                                     preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        self.out = b""

    def winsize(self, rows, cols):
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def resize(self, rows, cols):
        self.winsize(rows, cols)
        self.proc.send_signal(signal.SIGWINCH)

    def write(self, data):
        os.write(self.master, data)

    def expect(self, pattern, timeout=15):
        deadline = time.monotonic() + timeout
        while pattern not in self.out:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{pattern!r} not seen in {self.out!r}")
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"{pattern!r} not seen before EOF in {self.out!r}")
                self.out += chunk
        at = self.out.index(pattern) + len(pattern)
        seen, self.out = self.out[:at], self.out[at:]
        return seen

    def drain(self, timeout=0.3):
        while True:
            r, _, _ = select.select([self.master], [], [], timeout)
            if not r:
                return
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.out += chunk

    def wait(self, timeout=20):
        rc = self.proc.wait(timeout=timeout)
        self.drain(0.2)
        return rc

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def spawn(bb):
    ptys = []

    def start(client, *args, rows=24, cols=80):
        p = Pty(bb.argv(client, args), bb.env, rows, cols)
        ptys.append(p)
        return p

    yield start
    for p in ptys:
        p.close()


def state(bb, name):
    res = bb.run("docker", "inspect", "-f", "{{.State.Status}}", name)
    return res.stdout.decode().strip()


@pytest.mark.parametrize("client", CLIENTS)
def test_run_it_size_resize_detach(bb, spawn, client):
    name = "it-" + client
    p = spawn(client, "run", "-it", "--name", name, "busybox", "sh", rows=33, cols=101)
    p.expect(b"/ # ")
    time.sleep(0.3)  # docker sends the size after the prompt may show
    p.write(b"stty size; echo M''ARK1\r")
    assert b"33 101" in p.expect(b"MARK1")
    p.resize(45, 132)
    time.sleep(0.3)
    p.write(b"stty size; echo M''ARK2\r")
    assert b"45 132" in p.expect(b"MARK2")
    # Raw mode: the local terminal does not echo nor cook; ctrl-c goes to
    # the container's shell, not to the client.
    assert p.proc.poll() is None
    p.write(b"\x10\x11")
    assert p.wait() == 0
    assert b"read escape sequence" not in p.out
    assert termios.tcgetattr(p.slave) == p.before
    assert state(bb, name) == "running"
    bb.run("docker", "rm", "-f", name)


@pytest.mark.parametrize("client", CLIENTS)
def test_attach_detach(bb, spawn, client):
    name = "at-" + client
    res = bb.run(client, "run", "-dit", "--name", name, "busybox", "sh")
    assert res.returncode == 0, res.stderr
    p = spawn(client, "attach", name, rows=20, cols=70)
    time.sleep(0.5)
    p.write(b"stty size; echo M''ARK1\r")
    assert b"20 70" in p.expect(b"MARK1")
    # ctrl-p then another key is no detach: both reach the shell (ctrl-p
    # recalls the last line there).
    p.write(b"\x10x\x15echo M''ARK2\r")
    p.expect(b"MARK2")
    p.write(b"\x10\x11")
    assert p.wait() == 1
    assert p.out.endswith(b"read escape sequence\r\n"), p.out
    assert termios.tcgetattr(p.slave) == p.before
    assert state(bb, name) == "running"


@pytest.mark.parametrize("client", CLIENTS)
def test_run_it_detach_keys_and_exit(bb, spawn, client):
    name = "dk-" + client
    p = spawn(client, "run", "-it", "--detach-keys", "ctrl-x,y", "--name", name, "busybox",
              "sh")
    p.write(b"echo M''ARK1\r")
    p.expect(b"MARK1")
    p.write(b"\x18y")
    assert p.wait() == 0
    assert termios.tcgetattr(p.slave) == p.before
    assert state(bb, name) == "running"
    # start -ai: attached again, then the shell's own end is the status.
    p = spawn(client, "start", "-ai", name)
    time.sleep(0.5)
    p.write(b"echo M''ARK2; exit 7\r")
    p.expect(b"MARK2")
    assert p.wait() == 7
    assert termios.tcgetattr(p.slave) == p.before
    assert state(bb, name) == "exited"


@pytest.mark.parametrize("client", CLIENTS)
def test_exec_it(bb, spawn, client):
    name = "ex-" + client
    assert bb.run(client, "run", "-d", "--name", name, "busybox", "sleep", "100").returncode == 0
    p = spawn(client, "exec", "-it", name, "sh", rows=30, cols=90)
    p.expect(b"/ # ")
    time.sleep(0.3)  # docker sends the size after the prompt may show
    p.write(b"stty size; echo M''ARK1\r")
    assert b"30 90" in p.expect(b"MARK1")
    p.resize(31, 91)
    time.sleep(0.3)
    p.write(b"stty size; echo M''ARK2\r")
    assert b"31 91" in p.expect(b"MARK2")
    p.write(b"exit 5\r")
    assert p.wait() == 5
    assert termios.tcgetattr(p.slave) == p.before
    # ctrl-p ctrl-q leaves an exec too (as attach, with the escape as the
    # error), its shell still running.
    p = spawn(client, "exec", "-it", name, "sh")
    p.expect(b"/ # ")
    p.write(b"\x10\x11")
    assert p.wait() == 1
    assert p.out.endswith(b"read escape sequence\r\n")
    assert termios.tcgetattr(p.slave) == p.before
    assert b"sh" in bb.run("docker", "top", name).stdout.split(b"\n", 1)[1]


def test_terminal_restored_on_signal(bb, spawn):
    # docker ignores SIGTERM here; berth gives the terminal back and ends
    # as the signal ends it.
    p = spawn("berth", "run", "-it", "--rm", "busybox", "sh")
    p.write(b"echo M''ARK1\r")
    p.expect(b"MARK1")
    assert termios.tcgetattr(p.slave) != p.before
    p.proc.terminate()
    assert p.wait() == -15
    assert termios.tcgetattr(p.slave) == p.before


def test_tty_needs_a_terminal(bb):
    b, d = bb.both("run", "-it", "--rm", "busybox", "true")
    assert (b.returncode, b.stderr) == (d.returncode, d.stderr) == (1, b"the input device is "
                                                                     b"not a TTY\n")
    # Without -i a terminal is the container's only: the output is raw.
    b, d = bb.both("run", "-t", "--rm", "busybox", "sh", "-c", "echo a; exit 3")
    assert (b.returncode, b.stdout) == (d.returncode, d.stdout) == (3, b"a\r\n")


# docker 28's start -a ends (143) on the signal, at times before it has sent
# it on: only berth's is checked there.
@pytest.mark.parametrize("client,how", [("berth", ["run"]), ("docker", ["run"]),
                                        ("berth", ["start", "-a"])])
def test_sig_proxy(bb, client, how):
    script = 'trap "exit 42" TERM; echo ready; sleep 100 & wait'
    if how[0] == "run":
        argv = bb.argv(client, ["run", "--name", "sp-" + client, "busybox", "sh", "-c", script])
    else:
        res = bb.run(client, "create", "--name", "sp-" + client, "busybox", "sh", "-c", script)
        assert res.returncode == 0, res.stderr
        argv = bb.argv(client, ["start", "-a", "sp-" + client])
    proc = subprocess.Popen(argv, env=bb.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"ready\n"
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 42
    res = bb.run("docker", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}",
                 "sp-" + client)
    assert res.stdout == b"exited 42\n"


def test_no_sig_proxy(bb):
    """--sig-proxy=false: the signal is berth's own."""
    proc = subprocess.Popen(bb.argv("berth", ["run", "--sig-proxy=false", "--name", "nsp",
                                              "busybox", "sh", "-c", "echo ready; sleep 100"]),
                            env=bb.env, stdout=subprocess.PIPE)
    assert proc.stdout.readline() == b"ready\n"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == -15
    assert state(bb, "nsp") == "running"
    bb.run("docker", "rm", "-f", "nsp")
