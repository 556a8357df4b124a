"""The same scenarios through berth over berthd's Engine API and through
the docker client against the same berthd: what a user sees must match
(exit codes, columns, --format output, inspect -f, logs with stdout and
stderr apart, binary data through run -i and cp, errors)."""

import hashlib
import io
import os
import re
import subprocess
import tarfile
import time

import pytest

from berthd_testlib import BUILD

CLIENTS = ["berth", "docker"]


def mask(text):
    """Ids, times and random names masked: they legitimately differ."""
    text = re.sub(r"\b[0-9a-f]{64}\b", "<ID>", text)
    text = re.sub(r"\b[0-9a-f]{12}\b", "<id>", text)
    text = re.sub(r"(Less than a second|About a minute|About an hour|\d+ \w+) ago", "<ago>",
                  text)
    text = re.sub(r"Up (Less than a second|About a minute|\d+ \w+)", "Up <t>", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)", "<time>", text)
    return re.sub(r"  +", "  ", text)


def first_line(b):
    line = b.decode(errors="replace").strip().splitlines()
    line = line[0] if line else ""
    return line.replace("docker: ", "berth: ").replace("docker", "berth")


def names(c):
    res = c.run("docker", "ps", "-a", "--format", "{{.Names}}")
    assert res.returncode == 0
    return sorted(res.stdout.decode().split())


def test_version_and_info(bb):
    b = bb.run("berth", "version", "--format", "{{.Server.ApiVersion}} {{.Server.Os}}")
    assert (b.returncode, b.stdout) == (0, b"1.41 linux\n")
    assert bb.run("berth", "version").returncode == 0
    b, d = bb.both("info", "--format", "{{.Containers}} {{.Images}} {{.OSType}}")
    assert (b.returncode, b.stdout) == (d.returncode, d.stdout)
    info = bb.run("berth", "info")
    assert info.returncode == 0 and b" Images: 1\n" in info.stdout


@pytest.mark.parametrize("args,code", [
    (["sh", "-c", "echo out; echo err >&2; exit 3"], 3),
    (["true"], 0),
    (["nosuchcommand"], 127),
    (["/etc"], 126),
])
def test_run_exit_codes_and_streams(bb, args, code):
    b, d = bb.both("run", "--rm", "busybox", *args)
    assert b.returncode == d.returncode == code, (b, d)
    assert b.stdout == d.stdout
    if code < 100:
        assert b.stderr == d.stderr
    else:
        assert first_line(b.stderr) == first_line(d.stderr)
    assert names(bb) == []


def test_run_stdin_binary(bb):
    data = os.urandom(300_000) + bytes(range(256))
    for client in CLIENTS:
        res = bb.run(client, "run", "-i", "--rm", "busybox", "cat", input=data)
        assert res.returncode == 0, res.stderr
        assert res.stdout == data, client
        res = bb.run(client, "run", "-i", "--rm", "busybox", "sh", "-c", "cat >&2",
                     input=data)
        assert res.stdout == b"" and res.stderr == data, client


def test_run_detached_and_lists(bb):
    for client in CLIENTS:
        res = bb.run(client, "run", "-d", "--name", f"{client}-up", "busybox", "sleep", "60")
        assert res.returncode == 0, res.stderr
        assert re.fullmatch(rb"[0-9a-f]{64}\n", res.stdout)
        res = bb.run(client, "create", "--name", f"{client}-new", "busybox", "echo", "a b")
        assert res.returncode == 0, res.stderr
        res = bb.run(client, "run", "--name", f"{client}-done", "busybox", "sh", "-c",
                     "exit 2")
        assert res.returncode == 2
    for args in (["ps"], ["ps", "-a"], ["ps", "-a", "--no-trunc"], ["ps", "-q"],
                 ["ps", "-aq"], ["ps", "-n", "2"], ["ps", "-l"], ["ps", "-a", "-s"],
                 ["ps", "-a", "--filter", "status=exited"],
                 ["ps", "-a", "--filter", "name=docker-"],
                 ["ps", "-a", "--format", "{{.Names}} {{.Image}} {{.Command}} {{.State}}"],
                 ["ps", "-a", "--format", "table {{.Names}}\\t{{.Status}}"],
                 ["ps", "-a", "--format", "{{json .Names}}"],
                 ["images"], ["images", "-a"], ["images", "-q"], ["images", "--no-trunc"],
                 ["images", "--filter", "dangling=false"], ["images", "busybox"],
                 ["images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"],
                 ["images", "--format", "table {{.Repository}}\\t{{.ID}}"],
                 ["history", "busybox"], ["history", "-q", "busybox"]):
        b, d = bb.both(*args)
        assert b.returncode == d.returncode == 0, (args, b.stderr, d.stderr)
        assert mask(b.stdout.decode()) == mask(d.stdout.decode()), args
    for client in CLIENTS:
        assert bb.run(client, "rm", "-f", f"{client}-up", f"{client}-new",
                      f"{client}-done").returncode == 0


def test_inspect_format(bb):
    bb.run("docker", "create", "--name", "ins", "-e", "A=1", "-w", "/tmp", "busybox", "sleep",
           "1")
    for fmt in ("{{.State.Status}} {{.Config.Cmd}} {{json .Config.Env}}",
                "{{.Name}} {{.Config.WorkingDir}} {{.HostConfig.AutoRemove}}",
                "{{json .Config}}"):
        b, d = bb.both("inspect", "-f", fmt, "ins")
        assert (b.returncode, b.stdout) == (d.returncode, d.stdout), fmt
        b, d = bb.both("container", "inspect", "--format", fmt, "ins")
        assert (b.returncode, b.stdout) == (d.returncode, d.stdout), fmt
    for args in (["inspect", "-f", "{{.Id}} {{.Config.Cmd}}", "busybox"],
                 ["inspect", "--type", "image", "-f", "{{.RepoTags}}", "busybox"],
                 ["image", "inspect", "-f", "{{.Os}}", "busybox"]):
        b, d = bb.both(*args)
        assert (b.returncode, b.stdout) == (d.returncode, d.stdout), args
    b, d = bb.both("inspect", "ins")
    assert b.returncode == d.returncode == 0
    assert b.stdout == d.stdout
    b, d = bb.both("inspect", "-f", "{{.Name}}", "ins", "nosuch")
    assert b.returncode == d.returncode == 1
    assert b.stdout == d.stdout
    assert first_line(b.stderr) == first_line(d.stderr)


def test_logs_apart(bb):
    res = bb.run("docker", "run", "--name", "lg", "busybox", "sh", "-c",
                 "for i in 1 2 3; do echo out$i; echo err$i >&2; done")
    assert res.returncode == 0
    for args in (["logs", "lg"], ["logs", "--tail", "1", "lg"], ["logs", "-n", "2", "lg"],
                 ["logs", "--since", "1h", "lg"], ["logs", "--until", "1h", "lg"]):
        b, d = bb.both(*args)
        assert b.returncode == d.returncode == 0, args
        assert b.stdout == d.stdout, args
        assert b.stderr == d.stderr, args
    b, d = bb.both("logs", "lg")
    assert b.stdout == b"out1\nout2\nout3\n" and b.stderr == b"err1\nerr2\nerr3\n"
    b, d = bb.both("logs", "-t", "lg")
    assert mask(b.stdout.decode()) == mask(d.stdout.decode())
    b, d = bb.both("logs", "nosuch")
    assert b.returncode == d.returncode == 1
    assert first_line(b.stderr) == first_line(d.stderr)


def test_logs_follow(bb):
    bb.run("docker", "run", "-d", "--name", "fl", "busybox", "sh", "-c",
           "echo a; sleep 1; echo b >&2; sleep 1; echo c")
    b, d = bb.both("logs", "-f", "fl")
    assert b.returncode == d.returncode == 0
    assert (b.stdout, b.stderr) == (d.stdout, d.stderr) == (b"a\nc\n", b"b\n")


def test_lifecycle(bb):
    for client in CLIENTS:
        n = f"{client}-lc"
        assert bb.run(client, "create", "--name", n, "busybox", "sleep", "60").returncode == 0
        steps = [(["start", n], 0, n + "\n"), (["pause", n], 0, n + "\n"),
                 (["unpause", n], 0, n + "\n"), (["restart", "-t", "1", n], 0, n + "\n"),
                 (["kill", "-s", "KILL", n], 0, n + "\n"), (["wait", n], 0, "137\n"),
                 (["start", n], 0, n + "\n"), (["stop", "-t", "1", n], 0, n + "\n"),
                 (["rename", n, n + "2"], 0, ""), (["rm", "-v", n + "2"], 0, n + "2\n"),
                 (["rm", n + "2"], 1, "")]
        for args, code, out in steps:
            res = bb.run(client, *args)
            assert res.returncode == code, (client, args, res.stderr)
            assert res.stdout.decode() == out, (client, args)
    b, d = bb.both("stop", "nosuch1", "nosuch2")
    assert b.returncode == d.returncode == 1
    assert sorted(b.stderr.decode().splitlines()) == sorted(d.stderr.decode().splitlines())


def test_start_attach(bb):
    for client in CLIENTS:
        bb.run(client, "create", "-i", "--name", f"{client}-sa", "busybox", "sh", "-c",
               "cat; echo e >&2; exit 5")
        res = bb.run(client, "start", "-a", "-i", f"{client}-sa", input=b"in\n")
        assert (res.returncode, res.stdout, res.stderr) == (5, b"in\n", b"e\n"), client
        bb.run(client, "rm", f"{client}-sa")


def test_exec(bb):
    bb.run("docker", "run", "-d", "--name", "ex", "busybox", "sleep", "60")
    for args in (["exec", "ex", "sh", "-c", "echo o; echo e >&2; exit 7"],
                 ["exec", "-e", "X=1", "-w", "/tmp", "-u", "1:2", "ex", "sh", "-c",
                  "echo $X $(pwd) $(id -u):$(id -g)"],
                 ["exec", "-d", "ex", "sleep", "1"],
                 ["exec", "ex", "nosuchcmd"],
                 ["exec", "ex", "/etc/passwd"],
                 ["exec", "nosuch", "true"]):
        b, d = bb.both(*args)
        assert b.returncode == d.returncode, (args, b, d)
        assert (b.stdout, b.stderr) == (d.stdout, d.stderr) or \
            first_line(b.stderr) == first_line(d.stderr), args
    data = os.urandom(100_000)
    for client in CLIENTS:
        res = bb.run(client, "exec", "-i", "ex", "cat", input=data)
        assert res.returncode == 0 and res.stdout == data
    bb.run("docker", "rm", "-f", "ex")


def test_top_diff_commit_export(bb):
    bb.run("docker", "run", "-d", "--name", "tp", "busybox", "sleep", "60")
    b, d = bb.both("top", "tp")
    assert b.returncode == d.returncode == 0
    assert b.stdout.decode().split("\n")[0].split() == d.stdout.decode().split("\n")[0].split()
    bb.run("docker", "run", "--name", "df", "busybox", "sh", "-c", "echo x > /new; rm /etc/group")
    b, d = bb.both("diff", "df")
    assert (b.returncode, b.stdout) == (d.returncode, d.stdout)
    res = bb.run("berth", "commit", "-c", "CMD [\"cat\", \"/new\"]", "-m", "msg", "df",
                 "committed:1")
    assert res.returncode == 0 and res.stdout.startswith(b"sha256:"), res.stderr
    b, d = bb.both("run", "--rm", "committed:1")
    assert b.stdout == d.stdout == b"x\n"
    b, d = bb.both("export", "df")
    assert b.returncode == d.returncode == 0
    names_b = sorted(tarfile.open(fileobj=io.BytesIO(b.stdout)).getnames())
    names_d = sorted(tarfile.open(fileobj=io.BytesIO(d.stdout)).getnames())
    assert names_b == names_d and "new" in names_b
    bb.run("docker", "rm", "-f", "tp", "df")


def test_cp_both_ways(bb, tmp_path):
    bb.run("docker", "run", "-d", "--name", "cp", "busybox", "sleep", "60")
    data = os.urandom(200_000)
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "f").write_bytes(b"in a dir")
    for client in CLIENTS:
        res = bb.run(client, "cp", str(src), f"cp:/tmp/{client}.bin")
        assert res.returncode == 0, res.stderr
        res = bb.run(client, "cp", str(tmp_path / "dir"), f"cp:/tmp/{client}-dir")
        assert res.returncode == 0, res.stderr
        res = bb.run("docker", "exec", "cp", "sha256sum", f"/tmp/{client}.bin")
        assert res.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest(), client
        res = bb.run("docker", "exec", "cp", "cat", f"/tmp/{client}-dir/f")
        assert res.stdout == b"in a dir", client
    for client in CLIENTS:
        out = tmp_path / f"back-{client}.bin"
        res = bb.run(client, "cp", "cp:/tmp/berth.bin", str(out))
        assert res.returncode == 0, res.stderr
        assert out.read_bytes() == data, client
        outdir = tmp_path / f"into-{client}"
        outdir.mkdir()
        res = bb.run(client, "cp", "cp:/tmp/docker-dir", str(outdir))
        assert res.returncode == 0, res.stderr
        assert (outdir / "docker-dir" / "f").read_bytes() == b"in a dir"
    b, d = bb.both("cp", "cp:/nosuch", str(tmp_path / "x"))
    assert b.returncode == d.returncode == 1
    bb.run("docker", "rm", "-f", "cp")


def test_images_tag_rmi_save_load_import(bb, tmp_path):
    for client in CLIENTS:
        assert bb.run(client, "tag", "busybox", f"{client}/bb:t").returncode == 0
    b, d = bb.both("images", "--format", "{{.Repository}} {{.Tag}}")
    assert sorted(b.stdout.split(b"\n")) == sorted(d.stdout.split(b"\n"))
    b, d = bb.both("rmi", "berth/bb:t")
    assert b.returncode == 0 and b.stdout == b"Untagged: berth/bb:t\n"
    assert d.returncode == 1
    assert first_line(d.stderr) == first_line(bb.run("berth", "rmi", "berth/bb:t").stderr)
    for client in CLIENTS:
        out = tmp_path / f"{client}.tar"
        assert bb.run(client, "save", "-o", str(out), "busybox").returncode == 0
        assert "manifest.json" in tarfile.open(out).getnames()
    res = bb.run("berth", "save", "busybox")
    assert res.returncode == 0 and res.stdout == (tmp_path / "berth.tar").read_bytes()
    bb.run("docker", "rmi", "docker/bb:t")
    b = bb.run("berth", "load", "-i", str(tmp_path / "docker.tar"))
    d = bb.run("docker", "load", "-i", str(tmp_path / "berth.tar"))
    assert b.returncode == d.returncode == 0
    assert b.stdout == d.stdout
    b = bb.run("berth", "load", input=(tmp_path / "docker.tar").read_bytes())
    assert b.returncode == 0 and b"busybox:latest" in b.stdout
    bb.run("docker", "create", "--name", "exp", "busybox")
    tarball = bb.run("docker", "export", "exp").stdout
    for client in CLIENTS:
        res = bb.run(client, "import", "-", f"imp-{client}:1", input=tarball)
        assert res.returncode == 0, res.stderr
        assert res.stdout.startswith(b"sha256:")
    b, d = bb.both("images", "--format", "{{.Repository}}:{{.Tag}}", "imp-*")
    assert b.stdout == d.stdout
    bb.run("docker", "rm", "exp")


def test_events(bb):
    since = bb.run("docker", "version", "-f", "{{.Server.Version}}")
    assert since.returncode == 0
    bb.run("docker", "run", "--name", "ev", "busybox", "true")
    bb.run("docker", "rm", "ev")
    args = ["events", "--since", "0", "--until", str(int(time.time()) + 1), "--filter",
            "container=ev"]
    b, d = bb.both(*args)
    assert b.returncode == d.returncode == 0
    assert mask(b.stdout.decode()) == mask(d.stdout.decode())
    b, d = bb.both(*args, "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}")
    assert b.stdout == d.stdout and b"container destroy ev" in b.stdout


@pytest.mark.parametrize("args", [
    ["run", "--bogus", "busybox", "true"],
    ["run", "-m", "lots", "busybox", "true"],
    ["run", "--memory=12x", "busybox", "true"],
    ["run", "-v", "", "busybox", "true"],
    ["run", "-v", "relative:/x:zz:yy", "busybox", "true"],
    ["create", "nosuchimage:1"],
    ["run", "nosuchimage"],
    ["ps", "--bogus"],
    ["ps", "--format", "{{.ID"],
    ["images", "--format", "{{.ID"],
    ["inspect", "-f", "{{.Name", "busybox"],
    ["rm"],
    ["logs"],
])
def test_bad_input(bb, args):
    b, d = bb.both(*args)
    assert b.returncode == d.returncode, (args, b.stderr, d.stderr)
    assert b.returncode != 0
    assert b.stderr.strip(), args
    if "{{" in " ".join(args):
        assert "template" in first_line(b.stderr) and "unclosed action" in first_line(b.stderr)
    elif args[0] not in ("rm", "logs") and "-v" not in args:
        assert first_line(b.stderr).split(":")[0] == first_line(d.stderr).split(":")[0], \
            (b.stderr, d.stderr)
    assert names(bb) == []


def test_missing_daemon(tmp_path):
    sock = f"unix://{tmp_path}/nobody.sock"
    env = dict(os.environ)
    env.pop("BERTH_DATA_ROOT", None)
    env["DOCKER_CONFIG"] = str(tmp_path / "dc")
    for args, code in ((["run", "busybox"], 125), (["ps"], 1), (["images"], 1)):
        res = subprocess.run([str(BUILD / "berth"), "-H", sock, *args], env=env,
                             capture_output=True, timeout=30)
        assert res.returncode == code, args
        assert (f"Cannot connect to the berth daemon at {sock}. Is berthd running?"
                in res.stderr.decode())
        env["DOCKER_HOST"] = sock
        dres = subprocess.run(["docker", *args], env=env, capture_output=True, timeout=30)
        assert dres.returncode == code
        del env["DOCKER_HOST"]
    res = subprocess.run([str(BUILD / "berth"), "ps"], capture_output=True, timeout=30,
                         env={**env, "BERTH_HOST": sock})
    assert res.returncode == 1 and b"Is berthd running?" in res.stderr
    res = subprocess.run([str(BUILD / "berth"), "-H", sock, "--data-root", str(tmp_path), "ps"],
                         capture_output=True, timeout=30, env=env)
    assert res.returncode == 125
