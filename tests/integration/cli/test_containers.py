"""The container commands of the berth CLI on a private data root: run in the
foreground (output, exit status, Docker's 125/126/127), run --rm leaving
nothing, -e/-w/-u/--hostname/--entrypoint as Docker merges them, create and
start (attached and detached), ps, rm, diff, commit, export, container
inspect, the image in use that rmi refuses, and a container seen by
berth-runc under <exec-root>/runtime."""

import io
import json
import os
import pty
import re
import signal
import subprocess
import tarfile
from pathlib import Path


IMAGE = "busybox"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def lines(text):
    return [ln for ln in text.splitlines() if ln]


# ---- run


def test_run_prints_output_and_returns_exit_code(ctr):
    res = ctr.run(IMAGE, "echo", "hello", "world")
    assert res.rc == 0, str(res)
    assert res.out == "hello world\n"

    res = ctr.run(IMAGE, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert res.rc == 3, str(res)
    assert res.out == "out\n"
    assert res.err == "err\n"



def test_run_rm_leaves_nothing(ctr):
    res = ctr.run("--rm", "--name", "gone", IMAGE, "cat", "/etc/hostname")
    assert res.rc == 0, str(res)
    short = res.out.strip()
    assert re.fullmatch(r"[0-9a-f]{12}", short), str(res)
    assert ctr.ids() == []
    assert ctr("container", "inspect", "gone").rc == 1
    assert list(ctr.containers_dir.iterdir()) == []
    # The runtime's own cache (a dot name, as `list` passes over) stays.
    assert not ctr.runtime_dir.exists() or [
        p for p in ctr.runtime_dir.iterdir() if not p.name.startswith(".")] == []
    assert [m for m in Path("/proc/self/mountinfo").read_text().splitlines()
            if str(ctr.berth.data_root) in m] == []
    for hier in Path("/sys/fs/cgroup").iterdir():
        parent = hier / "berth"
        if parent.is_dir():
            assert [d for d in parent.iterdir() if d.name.startswith(short)] == []
    # A failing --rm run goes too, and so does one whose command is missing.
    assert ctr.run("--rm", IMAGE, "false").rc == 1
    assert ctr.run("--rm", IMAGE, "nosuch").rc == 127
    assert ctr.ids() == []


def berth_with_env(ctr, env, *args):
    """`berth ARGS` with ENV as berth's own environment."""
    argv = [str(ctr.berth.binary), "--data-root", str(ctr.berth.data_root), "--exec-root",
            str(ctr.berth.exec_root), *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)


def test_run_env_workdir_user_hostname(ctr):
    env = dict(os.environ, FROM_HOST="host value")
    env.pop("UNSET_HERE", None)
    # "-e NAME" takes NAME from berth's own environment, as docker does.
    p = berth_with_env(ctr, env, "run", "-e", "A=1", "-e", "FROM_HOST", "-e", "UNSET_HERE",
                       "-w", "/work/dir", "-u", "nobody", "--hostname", "box1", IMAGE, "sh",
                       "-c",
                       'echo "$A|$FROM_HOST|${UNSET_HERE-unset}|$HOME|$HOSTNAME|$PATH"; pwd; '
                       "id; hostname; stat -c %U /work/dir")
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert out[0] == f"1|host value|unset|/nonexistent|box1|{DEFAULT_PATH}"
    assert out[1] == "/work/dir"
    assert out[2] == "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)"
    assert out[3] == "box1"
    # Docker makes a missing working dir, owned by root.
    assert out[4] == "root"

    res = ctr.run("-u", "1234:5678", IMAGE, "sh", "-c", "id -u; id -g; echo $HOME")
    assert res.rc == 0, str(res)
    assert lines(res.out) == ["1234", "5678", "/"]

    # The default host name is the short id.
    res = ctr.run("--name", "named", IMAGE, "hostname")
    assert res.out.strip() == ctr.inspect("named")["Id"][:12]

    res = ctr.run("-u", "ghost", IMAGE, "true")
    assert res.rc == 125, str(res)
    assert "unable to find user ghost: no matching entries in passwd file" in res.err

    res = ctr.run("-w", "relative", IMAGE, "true")
    assert res.rc == 125, str(res)
    assert "the working directory 'relative' is invalid" in res.err


def test_run_root_has_dockers_capabilities_and_no_network(ctr):
    res = ctr.run(IMAGE, "sh", "-c", "grep -E '^Cap(Eff|Bnd)' /proc/self/status; "
                  "ls /sys/class/net; cat /proc/1/comm; cat /etc/hosts")
    assert res.rc == 0, str(res)
    out = lines(res.out)
    # Docker's 14 default capabilities.
    assert out[0].split() == ["CapEff:", "00000000a80425fb"]
    assert out[1].split() == ["CapBnd:", "00000000a80425fb"]
    # A network namespace of its own with only the loopback.
    assert out[2] == "lo"
    # The command is PID 1 of a pid namespace of its own.
    assert out[3] == "sh"
    assert out[4] == "127.0.0.1\tlocalhost"


def test_run_entrypoint(ctr):
    res = ctr.run("--entrypoint", "/bin/echo", IMAGE, "a", "b")
    assert (res.rc, res.out) == (0, "a b\n"), str(res)
    # --entrypoint "" with a command runs the command alone.
    res = ctr.run("--entrypoint", "", IMAGE, "echo", "c")
    assert (res.rc, res.out) == (0, "c\n"), str(res)


def test_run_missing_binary_is_127_and_not_executable_126(ctr):
    res = ctr.run("--name", "missing", IMAGE, "nosuch")
    assert res.rc == 127, str(res)
    assert 'exec: "nosuch": executable file not found in $PATH' in res.err
    state = ctr.state("missing")
    # As Docker records it: never started, with the code and the error.
    assert state["Status"] == "created"
    assert state["ExitCode"] == 127
    assert "executable file not found" in state["Error"]

    res = ctr.run(IMAGE, "/etc/passwd")
    assert res.rc == 126, str(res)
    assert "permission denied" in res.err

    res = ctr.run(IMAGE, "/no/such/file")
    assert res.rc == 127, str(res)

    res = ctr.run("nosuchimage", "true")
    assert res.rc == 125, str(res)
    assert "No such image: nosuchimage" in res.err


def test_run_name_conflict(ctr):
    assert ctr.run("--name", "dup", IMAGE, "true").rc == 0
    cid = ctr.inspect("dup")["Id"]
    res = ctr.run("--name", "dup", IMAGE, "true")
    assert res.rc == 125, str(res)
    assert (f'Conflict. The container name "/dup" is already in use by container "{cid}". '
            "You have to remove (or rename) that container to be able to reuse that name."
            in res.err), str(res)
    res = ctr.run("--name", "x", IMAGE, "true")
    assert res.rc == 125
    assert "Invalid container name (x)" in res.err
    assert len(ctr.ids()) == 1


def test_run_forwards_signals(ctr):
    argv = [str(ctr.berth.binary), "--data-root", str(ctr.berth.data_root), "--exec-root",
            str(ctr.berth.exec_root), "run", "--name", "sig", IMAGE, "sh", "-c",
            "trap 'echo got TERM; exit 42' TERM; echo ready; while :; do sleep 0.1; done"]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        assert p.stdout.readline() == "ready\n"
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 42, err
    assert out == "got TERM\n"
    assert ctr.state("sig")["ExitCode"] == 42

    # A container killed by a signal: 128 + the signal, as a shell says.
    argv[argv.index("sig")] = "sig9"
    argv[-1] = "echo ready; while :; do sleep 0.1; done"
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        assert p.stdout.readline() == "ready\n"
        os.kill(ctr.state("sig9")["Pid"], signal.SIGKILL)
        p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 128 + signal.SIGKILL
    assert ctr.state("sig9")["ExitCode"] == 128 + signal.SIGKILL


# ---- create, start, ps, rm


def test_create_and_start_attached(ctr):
    cid = ctr.create("--name", "later", IMAGE, "sh", "-c", "echo started; exit 5")
    ps = lines(ctr.ok("ps", "-a"))
    assert ps[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS",
                             "PORTS", "NAMES"]
    assert ps[1].startswith(cid[:12] + "   busybox   ")
    assert '"sh -c \'echo started…"' in ps[1]
    assert "Created" in ps[1] and ps[1].endswith("later")
    state = ctr.state(cid)
    assert state["Status"] == "created" and state["StartedAt"] == "0001-01-01T00:00:00Z"

    res = ctr("start", "-a", "later")
    assert (res.rc, res.out) == (5, "started\n"), str(res)
    state = ctr.state("later")
    assert state["Status"] == "exited" and state["ExitCode"] == 5
    assert state["StartedAt"] < state["FinishedAt"]
    # Started again, the same container runs again.
    res = ctr("start", "-a", cid[:8])
    assert (res.rc, res.out) == (5, "started\n"), str(res)


def test_start_detached_and_run_detached(ctr):
    ctr.create("--name", "bg1", IMAGE, "sh", "-c", "exit 4")
    res = ctr("start", "bg1")
    assert (res.rc, res.out) == (0, "bg1\n"), str(res)
    ctr.wait_status("bg1", "exited")
    assert ctr.state("bg1")["ExitCode"] == 4

    res = ctr("run", "-d", "--name", "bg2", IMAGE, "sleep", "100")
    assert res.rc == 0, str(res)
    cid = res.out.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    state = ctr.state("bg2")
    assert state["Status"] == "running" and state["Running"] and state["Pid"] > 0
    # A running container starts without a word.
    assert ctr("start", "bg2").out == "bg2\n"

    # The runtime under <exec-root>/runtime knows it.
    runc = Path(ctr.berth.binary).parent / "berth-runc"
    if runc.exists():
        listed = subprocess.run([str(runc), "--root", str(ctr.runtime_dir), "list", "-q"],
                                capture_output=True, text=True, timeout=30).stdout.split()
        assert cid in listed

    ps = lines(ctr.ok("ps"))
    assert len(ps) == 2 and ps[1].endswith("bg2") and " Up " in ps[1]
    assert ctr.ok("ps", "-q").split() == [cid[:12]]
    assert ctr.ok("ps", "-q", "--no-trunc").split() == [cid]
    names = lines(ctr.ok("ps", "-a", "--format", "{{.Names}} {{.State}}"))
    assert names == ["bg2 running", "bg1 exited"]

    # Killed behind berth's back, it ends as exited all the same.
    os.kill(state["Pid"], signal.SIGKILL)
    ctr.wait_status("bg2", "exited")
    assert ctr.state("bg2")["ExitCode"] == 137
    assert not (ctr.runtime_dir / cid).exists()


def test_rm(ctr):
    ctr.run("--name", "done1", IMAGE, "true")
    cid = ctr.ok("run", "-d", "--name", "busy", IMAGE, "sleep", "100").strip()
    res = ctr("rm", "busy")
    assert res.rc == 1
    assert (f"You cannot remove a running container {cid}. Stop the container before "
            "attempting removal or force remove") in res.err
    res = ctr("rm", "-f", "busy", "done1", "nosuch")
    assert res.rc == 1
    assert res.out == "busy\ndone1\n"
    assert "No such container: nosuch" in res.err
    assert ctr.ids() == []
    assert not (ctr.containers_dir / cid).exists()
    assert [d for d in ctr.cgroup_dirs(cid) if d.exists()] == []


# ---- diff, commit, export, inspect


def test_diff(ctr):
    ctr.run("--name", "quiet", IMAGE, "true")
    # The mount points and the container's own files are no changes.
    assert ctr.ok("diff", "quiet") == ""

    res = ctr.run("--name", "busy", IMAGE, "sh", "-c",
                  "echo x > /tmp/f; rm /bin/ls; mkdir -p /data/sub; echo y >> /etc/passwd")
    assert res.rc == 0, str(res)
    assert lines(ctr.ok("diff", "busy")) == [
        "C /bin", "D /bin/ls", "A /data", "A /data/sub", "C /etc", "C /etc/passwd",
        "C /tmp", "A /tmp/f",
    ]
    assert ctr("diff", "nosuch").rc == 1


def test_commit_then_run_the_new_image(ctr):
    res = ctr.run("--name", "maker", "-e", "K=v", IMAGE, "sh", "-c",
                  "echo made > /hello")
    assert res.rc == 0, str(res)
    out = ctr.ok("commit", "-m", "with hello", "-a", "me", "-c", 'CMD ["cat", "/hello"]',
                 "maker", "made:1")
    image_id = out.strip()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", image_id)
    info = ctr.berth.inspect("made:1")
    assert info["Id"] == image_id
    assert info["Comment"] == "with hello"
    assert info["Author"] == "me"
    assert info["Config"]["Cmd"] == ["cat", "/hello"]
    # The container's own config goes into the image, its changes into a
    # layer on top of the image's.
    assert "K=v" in info["Config"]["Env"]
    base = ctr.berth.inspect(IMAGE)["RootFS"]["Layers"]
    assert info["RootFS"]["Layers"][:-1] == base
    assert len(info["RootFS"]["Layers"]) == len(base) + 1
    history = lines(ctr.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}", "made:1"))
    assert history[0] == "sh -c echo made > /hello"

    res = ctr.run("--rm", "made:1")
    assert (res.rc, res.out) == (0, "made\n"), str(res)
    res = ctr.run("--rm", "made:1", "sh", "-c", "echo $K")
    assert res.out == "v\n"


def test_export(ctr, tmp_path):
    ctr.run("--name", "exp", IMAGE, "sh", "-c", "echo exported > /root/file")
    out = tmp_path / "exp.tar"
    assert ctr("export", "-o", str(out), "exp").rc == 0
    with tarfile.open(out) as tar:
        names = {n.lstrip("./").rstrip("/") for n in tar.getnames()}
        member = next(m for m in tar.getmembers() if m.name.lstrip("./") == "root/file")
        assert tar.extractfile(member).read() == b"exported\n"
    assert {"bin/busybox", "etc/passwd", "etc/hostname", "proc", "sys"} <= names

    # To standard output, when it is not a terminal.
    p = subprocess.run([str(ctr.berth.binary), "--data-root", str(ctr.berth.data_root),
                        "--exec-root", str(ctr.berth.exec_root), "export", "exp"],
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    with tarfile.open(fileobj=io.BytesIO(p.stdout)) as tar:
        assert any(n.lstrip("./") == "root/file" for n in tar.getnames())

    # Never to a terminal.
    master, slave = pty.openpty()
    try:
        p = subprocess.run([str(ctr.berth.binary), "--data-root", str(ctr.berth.data_root),
                            "--exec-root", str(ctr.berth.exec_root), "export", "exp"],
                           stdout=slave, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    assert p.returncode == 1
    assert b"cowardly refusing to save to a terminal. Use the -o flag or redirect" in p.stderr


def test_container_inspect(ctr):
    res = ctr.run("--name", "insp", "-e", "A=1", IMAGE, "sh", "-c", "exit 2")
    assert res.rc == 2
    info = ctr.inspect("insp")
    assert re.fullmatch(r"[0-9a-f]{64}", info["Id"])
    assert info["Name"] == "/insp"
    assert info["Path"] == "sh" and info["Args"] == ["-c", "exit 2"]
    assert info["Image"] == ctr.berth.inspect(IMAGE)["Id"]
    assert info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 2
    cfg = info["Config"]
    assert cfg["Image"] == IMAGE
    assert cfg["Cmd"] == ["sh", "-c", "exit 2"]
    assert cfg["Env"] == ["A=1"]
    assert cfg["Hostname"] == info["Id"][:12]
    assert info["HostConfig"]["NetworkMode"] == "none"
    assert info["HostConfig"]["AutoRemove"] is False
    gd = info["GraphDriver"]
    assert gd["Name"] == "overlay2"
    cdir = ctr.containers_dir / info["Id"]
    assert gd["Data"]["UpperDir"] == str(cdir / "upper")
    assert gd["Data"]["MergedDir"] == str(cdir / "merged")
    # The init layer all containers share, on top of the image's.
    assert gd["Data"]["LowerDir"].split(":")[0] == str(ctr.containers_dir.parent / "init-layer")
    assert info["HostnamePath"] == str(cdir / "hostname")
    assert (cdir / "hostname").read_text() == info["Id"][:12] + "\n"

    # `berth inspect` of a container name, and --format.
    both = json.loads(ctr.ok("inspect", "insp"))
    assert both[0]["Id"] == info["Id"]
    assert ctr.ok("container", "inspect", "-f", "{{.State.ExitCode}} {{.Name}}",
                  "insp") == "2 /insp\n"
    res = ctr("container", "inspect", "insp", "nosuch")
    assert res.rc == 1
    assert "No such container: nosuch" in res.err
    assert len(json.loads(res.out)) == 1


def test_rmi_of_an_image_in_use_is_refused(ctr):
    image_id = ctr.berth.inspect(IMAGE)["Id"]
    ctr.run("--name", "user1", IMAGE, "true")
    cid = json.loads(ctr.ok("container", "inspect", "user1"))[0]["Id"]
    res = ctr("rmi", IMAGE)
    assert res.rc == 1
    assert (f'conflict: unable to remove repository reference "{IMAGE}" (must force) - '
            f"container {cid[:12]} is using its referenced image {image_id[7:19]}") in res.err, \
        str(res)
    res = ctr("rmi", image_id)
    assert res.rc == 1
    assert (f"conflict: unable to delete {image_id[7:19]} (must be forced) - image is being "
            f"used by stopped container {cid[:12]}") in res.err, str(res)
    assert ctr.berth.inspect(IMAGE)
    # Forced, the tag goes; the image stays for the container's file system.
    res = ctr("rmi", "-f", IMAGE)
    assert res.rc == 0 and res.out == f"Untagged: {IMAGE}:latest\n", str(res)
    assert ctr.berth.inspect(image_id)["RepoTags"] == []
    assert ctr.run("--rm", image_id, "true").rc == 0

    assert ctr("rm", "user1").rc == 0
    assert ctr("rmi", image_id).rc == 0
