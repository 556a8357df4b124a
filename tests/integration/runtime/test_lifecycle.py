"""Container lifecycle through the runtime's command line.

create, start, state, kill, delete, run (foreground and detached), pid files,
list, ps, kill --all, delete --force, features and spec, each checked both in
the runtime's answers and in the processes it leaves on the host.
"""

import json
import time
from datetime import datetime, timezone
from pathlib import Path


def alive(pid):
    """True if PID exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def test_lifecycle_create_start_kill_delete(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    runtime.create(b)

    st = runtime.state(b.id)
    assert st["status"] == "created"
    assert st["id"] == b.id
    assert Path(st["bundle"]) == b.path
    assert st["pid"] > 0 and alive(st["pid"])
    assert st["ociVersion"]
    # The user process has not run yet: the created container's pid is still
    # the runtime's helper, which has not exec'd sleep.
    assert Path(f"/proc/{st['pid']}/cmdline").read_bytes() != b"sleep\x00300\x00"

    runtime.start(b.id)
    st = runtime.state(b.id)
    assert st["status"] == "running"
    runtime.wait_for(lambda: Path(f"/proc/{st['pid']}/cmdline").read_bytes() ==
                     b"sleep\x00300\x00", what="container process runs sleep")

    runtime.kill(b.id, "KILL")
    runtime.wait_status(b.id, "stopped")
    assert not alive(st["pid"])

    runtime.delete(b.id)
    res = runtime("state", b.id)
    assert res.rc != 0
    assert runtime.leftovers(b.id, b) == []


def test_state_json_fields(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    b.config["annotations"] = {"org.berth.test": "yes"}
    b.write()
    runtime.create(b)
    st = runtime.state(b.id)
    for key in ("ociVersion", "id", "status", "pid", "bundle"):
        assert key in st, st
    assert st["annotations"] == {"org.berth.test": "yes"}
    assert st["rootfs"] == str(b.rootfs)
    # RFC 3339 in UTC, made just now.
    created = datetime.fromisoformat(st["created"].replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - created).total_seconds()) < 120, st["created"]
    assert st["owner"] in ("", "root")


def test_kill_default_signal_is_term(runtime, make_bundle):
    out = runtime.mkdir("out", 0o777)
    b = make_bundle(["sh", "-c", "trap 'echo got-term > /out/sig; exit 0' TERM; "
                     "echo ready > /out/ready; while :; do sleep 0.05; done"])
    b.bind(out, "/out")
    b.write()
    runtime.run_detached(b)
    runtime.wait_for(lambda: (out / "ready").exists(), what="shell ready")
    runtime.ok("kill", b.id)
    runtime.wait_status(b.id, "stopped")
    assert (out / "sig").read_text() == "got-term\n"


def test_kill_signal_forms(runtime, make_bundle):
    for form in ("KILL", "SIGKILL", "9"):
        b = make_bundle(["sleep", "300"])
        runtime.run_detached(b)
        runtime.ok("kill", b.id, form)
        runtime.wait_status(b.id, "stopped")
        runtime.delete(b.id)


def test_run_foreground_exit_code_zero(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "echo out; echo err >&2; exit 0"])
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    assert res.out == "out\n"
    assert "err\n" in res.err
    # A foreground run deletes its container.
    assert runtime("state", b.id).rc != 0
    assert runtime.leftovers(b.id, b) == []


def test_run_foreground_inherits_stdin(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "read line; echo got:$line; cat"])
    res = runtime.run(b, input="first\nsecond\n")
    assert res.rc == 0, str(res)
    assert res.out == "got:first\nsecond\n"


def test_run_foreground_exit_code_three(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "exit 3"])
    res = runtime.run(b)
    assert res.rc == 3, str(res)
    assert runtime.leftovers(b.id, b) == []


def test_run_foreground_killed_by_signal(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    proc = runtime.popen("run", "--bundle", b.path, b.id)
    runtime.track(b.id, b)
    runtime.wait_for(lambda: runtime.status(b.id) == "running", what="container running")
    runtime.kill(b.id, "KILL")
    proc.wait(timeout=20)
    assert proc.returncode == 128 + 9
    assert runtime.leftovers(b.id, b) == []


def test_run_detach(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    t0 = time.monotonic()
    res = runtime("run", "--detach", "--bundle", b.path, b.id)
    runtime.track(b.id, b)
    assert res.rc == 0, str(res)
    assert time.monotonic() - t0 < 10
    st = runtime.state(b.id)
    assert st["status"] == "running"
    assert alive(st["pid"])
    assert Path(f"/proc/{st['pid']}/cmdline").read_bytes() == b"sleep\x00300\x00"


def test_pid_file_written(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    pid_file = runtime.workdir / "container.pid"
    runtime.create(b, "--pid-file", pid_file)
    text = pid_file.read_text()
    assert text.strip().isdigit()
    assert int(text) == runtime.state(b.id)["pid"]


def test_run_detach_pid_file_written(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    pid_file = runtime.workdir / "run.pid"
    st = runtime.run_detached(b, "--pid-file", pid_file)
    assert int(pid_file.read_text()) == st["pid"]


def test_list_shows_container(runtime, make_bundle):
    a = make_bundle(["sleep", "300"])
    b = make_bundle(["sleep", "300"])
    runtime.create(a)
    runtime.run_detached(b)

    table = runtime.ok("list").out.splitlines()
    assert table[0].split()[:3] == ["ID", "PID", "STATUS"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert rows[a.id][2] == "created"
    assert rows[b.id][2] == "running"

    listed = json.loads(runtime.ok("list", "--format", "json").out)
    by_id = {c["id"]: c for c in listed}
    assert set(by_id) == {a.id, b.id}
    assert by_id[b.id]["status"] == "running"
    assert by_id[b.id]["pid"] == runtime.state(b.id)["pid"]
    assert by_id[a.id]["bundle"] == str(a.path)

    quiet = runtime.ok("list", "-q").out.split()
    assert sorted(quiet) == sorted([a.id, b.id])


def test_list_empty_root(runtime):
    res = runtime.ok("list", "--format", "json")
    assert json.loads(res.out or "null") in (None, [])


def test_ps_lists_container_pids(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "sleep 300 & sleep 301 & wait"])
    st = runtime.run_detached(b)
    cgroup_procs = b.cgroup_dir("pids") / "cgroup.procs"
    runtime.wait_for(lambda: len(cgroup_procs.read_text().split()) == 3,
                     what="three processes in the container")
    pids = json.loads(runtime.ok("ps", "--format", "json", b.id).out)
    assert sorted(pids) == sorted(int(p) for p in cgroup_procs.read_text().split())
    assert st["pid"] in pids
    cmdlines = sorted(Path(f"/proc/{p}/cmdline").read_bytes() for p in pids)
    assert cmdlines == sorted([b"sh\x00-c\x00" + b.process["args"][2].encode() + b"\x00",
                               b"sleep\x00300\x00", b"sleep\x00301\x00"])

    table = runtime.ok("ps", b.id).out.splitlines()
    assert "PID" in table[0].split()
    assert len(table) == 4


def test_kill_all(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "sleep 300 & sleep 301 & wait"])
    runtime.run_detached(b)
    cgroup_procs = b.cgroup_dir("pids") / "cgroup.procs"
    runtime.wait_for(lambda: len(cgroup_procs.read_text().split()) == 3,
                     what="three processes in the container")
    pids = [int(p) for p in cgroup_procs.read_text().split()]
    runtime.ok("kill", "--all", b.id, "KILL")
    runtime.wait_for(lambda: not any(alive(p) for p in pids), what="every process gone")
    runtime.wait_status(b.id, "stopped")


def test_delete_running_without_force_fails(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    st = runtime.run_detached(b)
    res = runtime("delete", b.id)
    assert res.rc != 0
    assert runtime.status(b.id) == "running"
    assert alive(st["pid"])


def test_delete_force_running(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "sleep 300 & sleep 301 & wait"])
    st = runtime.run_detached(b)
    runtime.wait_for(lambda: len((b.cgroup_dir("pids") / "cgroup.procs").read_text().split())
                     == 3, what="three processes in the container")
    runtime.delete(b.id, force=True)
    assert not alive(st["pid"])
    assert runtime("state", b.id).rc != 0
    assert runtime.leftovers(b.id, b) == []


def test_delete_force_created(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    runtime.create(b)
    pid = runtime.state(b.id)["pid"]
    runtime.delete(b.id, force=True)
    assert not alive(pid)
    assert runtime.leftovers(b.id, b) == []


def test_features_json(runtime):
    feats = json.loads(runtime.ok("features").out)
    assert feats["ociVersionMin"].startswith("1.")
    assert feats["ociVersionMax"].startswith("1.")
    namespaces = set(feats["linux"]["namespaces"])
    assert {"pid", "network", "mount", "ipc", "uts", "user", "cgroup"} <= namespaces
    assert {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
            "poststop"} <= set(feats["hooks"])
    assert "CAP_SYS_ADMIN" in feats["linux"]["capabilities"]


def test_spec_writes_config_that_runs(runtime, make_bundle, console_socket):
    b = make_bundle(write=False)
    runtime.ok("spec", "--bundle", b.path)
    config = json.loads((b.path / "config.json").read_text())
    assert config["root"]["path"] == "rootfs"
    assert config["process"]["terminal"] is True
    ns_types = {ns["type"] for ns in config["linux"]["namespaces"]}
    assert {"pid", "mount", "network", "ipc", "uts"} <= ns_types

    # Run the generated config as it is (an interactive shell on a terminal);
    # only the cgroup is pinned so that the leak check knows where to look.
    config["linux"]["cgroupsPath"] = b.cgroups_path
    b.config = config
    b.write()
    cs = console_socket()
    runtime.create(b, "--console-socket", cs.path)
    pty = cs.receive()
    runtime.start(b.id)
    pty.write("echo spec-$((6*7))\n")
    pty.read_until(r"spec-42")
    pty.write("exit\n")
    runtime.wait_status(b.id, "stopped")


def test_spec_rootless(runtime):
    spec_dir = runtime.mkdir("rootless", 0o711)
    runtime.ok("spec", "--rootless", "--bundle", spec_dir)
    config = json.loads((spec_dir / "config.json").read_text())
    ns_types = {ns["type"] for ns in config["linux"]["namespaces"]}
    assert "user" in ns_types
    assert config["linux"]["uidMappings"][0]["containerID"] == 0
    assert config["linux"]["uidMappings"][0]["size"] >= 1
