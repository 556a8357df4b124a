"""pause/resume and exec into a running container.

A paused container's processes must stop making progress and start again on
resume; an exec'd process must join the container (same namespaces and
cgroup), get the env, cwd and user it asks for, and pass its exit status back.
"""

import json
import os
import time
from pathlib import Path

COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /out/count; sleep 0.02; done"


def read_count(out):
    try:
        return int((out / "count").read_text() or 0)
    except (OSError, ValueError):
        return 0


def test_pause_freezes_and_resume_thaws(runtime, make_bundle):
    out = runtime.mkdir("out", 0o777)
    b = make_bundle(["sh", "-c", COUNTER])
    b.bind(out, "/out")
    b.write()
    runtime.run_detached(b)
    runtime.wait_for(lambda: read_count(out) > 3, what="counter running")

    runtime.ok("pause", b.id)
    assert runtime.status(b.id) == "paused"
    assert (b.cgroup_dir("freezer") / "freezer.state").read_text().strip() == "FROZEN"
    time.sleep(0.1)  # a write in flight when the freeze landed may still finish
    frozen_at = read_count(out)
    time.sleep(0.5)
    assert read_count(out) == frozen_at, "counter advanced while paused"
    pid = runtime.state(b.id)["pid"]
    stat = Path(f"/proc/{pid}/stat").read_text()
    assert stat[stat.rindex(")") + 2] in "DS"  # frozen tasks sleep in the freezer

    runtime.ok("resume", b.id)
    assert runtime.status(b.id) == "running"
    runtime.wait_for(lambda: read_count(out) > frozen_at + 3, what="counter advancing")


def test_pause_of_created_container_fails_or_is_harmless(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    runtime.create(b)
    runtime("pause", b.id)
    runtime("resume", b.id)
    runtime.start(b.id)
    assert runtime.status(b.id) == "running"


def test_resume_of_running_container_fails(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    runtime.run_detached(b)
    res = runtime("resume", b.id)
    assert res.rc != 0, str(res)
    assert runtime.status(b.id) == "running"


def test_exec_env_cwd_user(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    runtime.run_detached(b)
    res = runtime.exec(b.id, "sh", "-c", 'echo "$FOO|$BAZ"; pwd; id -u; id -g',
                       opts=["--env", "FOO=bar", "--env", "BAZ=two words", "--cwd", "/etc",
                             "--user", "1000:1001"])
    assert res.rc == 0, str(res)
    assert res.out.splitlines() == ["bar|two words", "/etc", "1000", "1001"]


def test_exec_inherits_container_env(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    b.process["env"].append("FROM_CONFIG=yes")
    b.write()
    runtime.run_detached(b)
    res = runtime.exec(b.id, "sh", "-c", "echo $FROM_CONFIG")
    assert res.rc == 0, str(res)
    assert res.out == "yes\n"


def test_exec_joins_container_namespaces_and_cgroup(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    st = runtime.run_detached(b)
    pid = st["pid"]
    names = ["pid", "net", "mnt", "ipc", "uts"]
    script = ("for n in " + " ".join(names) + "; do readlink /proc/self/ns/$n; done; "
              "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$; cat /proc/self/cgroup")
    res = runtime.exec(b.id, "sh", "-c", script)
    assert res.rc == 0, str(res)
    lines = res.out.splitlines()
    assert lines[:5] == [os.readlink(f"/proc/{pid}/ns/{n}") for n in names]
    assert lines[5] == "sleep 300 "
    assert int(lines[6]) > 1  # a pid of the container's namespace, not pid 1
    cgroups = lines[7:]
    assert any(line.endswith(":" + b.cgroups_path) and ":memory" in line for line in cgroups)


def test_exec_exit_code_passes_through(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    runtime.run_detached(b)
    assert runtime.exec(b.id, "sh", "-c", "exit 7").rc == 7
    assert runtime.exec(b.id, "true").rc == 0
    # Killed by a signal: 128+N.
    assert runtime.exec(b.id, "sh", "-c", "kill -9 $$").rc == 137


def test_exec_process_file(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    runtime.run_detached(b)
    proc_file = runtime.workdir / "process.json"
    proc_file.write_text(json.dumps({
        "terminal": False,
        "user": {"uid": 1000, "gid": 1000, "additionalGids": [20]},
        "args": ["sh", "-c", 'echo "$PF_VAR"; pwd; id -u; grep ^Groups: /proc/self/status; '
                 "grep ^CapEff: /proc/self/status; exit 4"],
        "env": ["PATH=/bin", "PF_VAR=from-file"],
        "cwd": "/tmp",
        "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                         "permitted": ["CAP_KILL"], "ambient": ["CAP_KILL"],
                         "inheritable": ["CAP_KILL"]},
        "noNewPrivileges": True,
    }))
    res = runtime.exec(b.id, opts=["--process", proc_file])
    assert res.rc == 4, str(res)
    lines = res.out.splitlines()
    assert lines[:3] == ["from-file", "/tmp", "1000"]
    assert lines[3].split() == ["Groups:", "20"]
    assert int(lines[4].split()[1], 16) == 1 << 5  # CAP_KILL


def test_exec_detach_pid_file(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    st = runtime.run_detached(b)
    pid_file = runtime.workdir / "exec.pid"
    res = runtime.exec(b.id, "sleep", "301", opts=["--detach", "--pid-file", pid_file])
    assert res.rc == 0, str(res)
    pid = int(pid_file.read_text())
    assert Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x00301\x00"
    assert os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(f"/proc/{st['pid']}/ns/pid")
    ps = json.loads(runtime.ok("ps", "--format", "json", b.id).out)
    assert pid in ps and st["pid"] in ps


def test_exec_tty_via_console_socket(runtime, make_bundle, console_socket):
    b = make_bundle(["sleep", "300"])
    runtime.run_detached(b)
    cs = console_socket()
    res = runtime.exec(b.id, "sh", opts=["--tty", "--detach", "--console-socket", cs.path])
    assert res.rc == 0, str(res)
    pty = cs.receive()
    pty.write("[ -t 0 ] && echo exec-tty-$((20+22)); cat /proc/1/cmdline | tr '\\0' ' '\n")
    pty.read_until(r"exec-tty-42")
    pty.read_until(r"sleep 300")
    pty.write("exit\n")
    # The container keeps running after the exec'd shell leaves.
    time.sleep(0.2)
    assert runtime.status(b.id) == "running"


def test_exec_killed_with_container(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    runtime.run_detached(b)
    pid_file = runtime.workdir / "exec.pid"
    res = runtime.exec(b.id, "sleep", "302", opts=["-d", "--pid-file", pid_file])
    assert res.rc == 0, str(res)
    pid = int(pid_file.read_text())
    runtime.kill(b.id, "KILL")
    runtime.wait_status(b.id, "stopped")
    # Killing pid 1 of a pid namespace kills every process in it.
    runtime.wait_for(lambda: not Path(f"/proc/{pid}/cmdline").exists() or
                     Path(f"/proc/{pid}/cmdline").read_bytes() == b"",
                     what="exec'd process gone")
