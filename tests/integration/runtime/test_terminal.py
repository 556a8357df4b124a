"""Terminals handed over a console socket.

With process.terminal the runtime sends the pty master over --console-socket
(SCM_RIGHTS); the test then talks to the container's shell through it, as
containerd's shim does.
"""


def test_terminal_via_console_socket(runtime, make_bundle, console_socket):
    b = make_bundle(["sh"], terminal=True)
    cs = console_socket()
    runtime.create(b, "--console-socket", cs.path)
    pty = cs.receive()
    runtime.start(b.id)
    pty.write("[ -t 0 ] && [ -t 1 ] && echo tty-$((40+2)); tty\n")
    pty.read_until(r"tty-42")
    pty.read_until(r"/dev/pts/\d+")
    # Patterns are built so that the terminal's echo of the input cannot match.
    pty.write("echo $((6*7))-''done\n")
    pty.read_until(r"42-done")
    pty.write("exit 5\n")
    runtime.wait_status(b.id, "stopped")


def test_terminal_run_detached(runtime, make_bundle, console_socket):
    b = make_bundle(["sh"], terminal=True)
    cs = console_socket()
    res = runtime("run", "--detach", "--console-socket", cs.path, "--bundle", b.path, b.id)
    runtime.track(b.id, b)
    assert res.rc == 0, str(res)
    pty = cs.receive()
    pty.write("echo $$ $(cat /proc/self/comm)\n")
    pty.read_until(r"1 cat")
    pty.write("exit\n")
    runtime.wait_status(b.id, "stopped")


def test_terminal_is_controlling_and_console_exists(runtime, make_bundle, console_socket):
    b = make_bundle(["sh"], terminal=True)
    cs = console_socket()
    runtime.create(b, "--console-socket", cs.path)
    pty = cs.receive()
    runtime.start(b.id)
    # /dev/tty opens only when the pty is the controlling terminal.
    pty.write("echo via-dev-tty > /dev/tty && echo ctty-''ok; "
              "[ -c /dev/console ] && echo console-''ok\n")
    pty.read_until(r"ctty-ok")
    pty.read_until(r"console-ok")
    pty.write("exit\n")
    runtime.wait_status(b.id, "stopped")


def test_run_foreground_relays_local_terminal(runtime, make_bundle):
    """`run` of a terminal process without --console-socket relays the
    caller's own terminal: input reaches the shell, the window size is
    passed on, and the exit status comes back."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import subprocess
    import termios
    import time

    b = make_bundle(["sh"], terminal=True)
    runtime.track(b.id, b)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
    proc = subprocess.Popen(runtime.argv("run", "--bundle", b.path, b.id), stdin=slave,
                            stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    os.write(master, b"echo size=$(stty size); exit 7\n")
    out = b""
    deadline = time.monotonic() + 20
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                out += os.read(master, 4096)
            except OSError:
                break
    rc = proc.wait(timeout=10)
    os.close(master)
    assert rc == 7, out
    assert b"size=33 101" in out
