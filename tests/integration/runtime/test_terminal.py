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
