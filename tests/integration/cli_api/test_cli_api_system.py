"""port, update, stats, the prunes and system df: berth's output is the
docker client's against the same berthd."""

import pytest

from test_cli_api import mask, names


def same(bb, *args, input=None):
    b, d = bb.both(*args, input=input)
    assert (b.returncode, b.stdout, b.stderr.replace(b"berth", b"docker")) == \
        (d.returncode, d.stdout, d.stderr), (b, d)
    return b


def test_port(bb):
    assert bb.run("docker", "run", "-d", "--name", "pp", "-p", "8080:80", "-p",
                  "127.0.0.1::53/udp", "busybox", "sleep", "60").returncode == 0
    for args in (["pp"], ["pp", "80"], ["pp", "53/udp"], ["pp", "81"], ["pp", "x"],
                 ["nosuch"]):
        same(bb, "port", *args)


def test_update(bb):
    assert bb.run("docker", "run", "-d", "--name", "up", "busybox", "sleep", "60"
                  ).returncode == 0
    same(bb, "update", "up")
    # Each on new containers: the docker client sends every resource,
    # zeros included, and berthd applies them (see the report).
    for i, args in enumerate((["-m", "64m", "--memory-swap", "128m"],
                              ["--cpus", "0.5", "-c", "256"],
                              ["--pids-limit", "40", "--cpuset-cpus", "0"],
                              ["--restart", "on-failure:2"], ["--restart", "always"])):
        out = []
        for client in ["berth", "docker"]:
            name = f"up{i}-{client}"
            assert bb.run("docker", "run", "-d", "--name", name, "busybox", "sleep", "60"
                          ).returncode == 0
            res = bb.run(client, "update", *args, name)
            assert (res.returncode, res.stdout) == (0, f"{name}\n".encode()), \
                (client, res.stderr)
            res = bb.run("docker", "inspect", "-f", {
                "-m": "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}",
                "--cpus": "{{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}}",
                "--pids-limit": "{{.HostConfig.PidsLimit}} {{.HostConfig.CpusetCpus}}",
                "--restart": "{{json .HostConfig.RestartPolicy}}"}[args[0]], name)
            out.append(res.stdout)
        assert out[0] == out[1]
    for args in (["--cpus", "x"], ["-c", "x"], ["--restart", "on-failure:x"], ["-m", "1q"]):
        b, d = bb.both("update", *args, "up")
        assert b.returncode == d.returncode != 0
    same(bb, "update", "-m", "64m", "nosuch")


def test_stats(bb):
    for n in ("s1", "s2"):
        assert bb.run("docker", "run", "-d", "--name", n, "busybox", "sleep", "60"
                      ).returncode == 0
    assert bb.run("docker", "create", "--name", "s3", "busybox", "true").returncode == 0
    same(bb, "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}} {{.Container}}")
    same(bb, "stats", "--no-stream", "-a", "--format", "{{.Name}} {{.ID}}")
    same(bb, "stats", "--no-stream", "--format", "table {{.Name}}\t{{.PIDs}}", "s1", "s2")
    same(bb, "stats", "--no-stream", "nosuch")
    b, d = bb.both("stats", "--no-stream")
    assert b.returncode == d.returncode == 0
    head = [r.stdout.decode().splitlines()[0].split() for r in (b, d)]
    assert head[0] == head[1]
    assert len(b.stdout.splitlines()) == len(d.stdout.splitlines()) == 3


def test_container_prune(bb):
    for client in ["berth", "docker"]:
        for n in ("a", "b"):
            assert bb.run("docker", "run", "--name", f"{n}-{client}", "busybox", "true"
                          ).returncode == 0
        assert bb.run("docker", "run", "-d", "--name", "up-" + client, "busybox", "sleep",
                      "60").returncode == 0
    # Declined: nothing goes.
    b, d = bb.both("container", "prune", input=b"n\n")
    assert b.stdout == d.stdout and b.returncode == d.returncode
    assert len(names(bb)) == 6
    b = bb.run("berth", "container", "prune", "--filter", "label=nosuch", "-f")
    assert (b.returncode, b.stdout) == (0, b"Total reclaimed space: 0B\n")
    res = bb.run("berth", "container", "prune", "-f")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(b"Deleted Containers:\n")
    assert len(res.stdout.splitlines()) == 1 + 4 + 2
    assert names(bb) == ["up-berth", "up-docker"]
    same(bb, "container", "prune", "-f")


def test_image_prune_and_df(bb):
    same(bb, "system", "df")
    same(bb, "system", "df", "--format", "{{.Type}}: {{.TotalCount}} {{.Reclaimable}}")
    same(bb, "image", "prune", "-f")
    same(bb, "image", "prune", input=b"no\n")
    assert bb.run("docker", "tag", "busybox", "other:1").returncode == 0
    b, d = bb.both("image", "prune", "-f", "-a", "--filter", "label=nosuch")
    assert (b.returncode, b.stdout) == (d.returncode, d.stdout)


def test_df_verbose(bb):
    """system df -v and its --format forms: images with the layers they
    share and the containers they serve (berthd's /system/df gives
    SharedSize and Containers as dockerd does), containers with their own
    size, empty volume and build cache sections."""
    for args in (["run", "-d", "--name", "up", "busybox", "sleep", "60"],
                 ["run", "--name", "wrote", "busybox", "sh", "-c", "echo hi >/f"],
                 ["create", "--name", "new", "-l", "a=<b&c>", "busybox", "true"],
                 ["commit", "wrote", "child:1"], ["tag", "busybox", "other:2"]):
        res = bb.run("docker", *args)
        assert res.returncode == 0, (args, res.stderr)
    df = bb.d.request("GET", "/v1.41/system/df").json()
    by_tag = {i["RepoTags"][0]: i for i in df["Images"]}
    assert by_tag["busybox:latest"]["Containers"] == 3
    assert by_tag["child:1"]["Containers"] == 0
    base = by_tag["busybox:latest"]["Size"]
    assert by_tag["busybox:latest"]["SharedSize"] == by_tag["child:1"]["SharedSize"] == base
    assert df["LayersSize"] == by_tag["child:1"]["Size"]
    for args in (["system", "df"], ["system", "df", "-v"],
                 ["system", "df", "--format", "json"], ["system", "df", "--format", "raw"],
                 ["system", "df", "--format", "{{.Type}} {{.Active}} {{json .}}"],
                 ["system", "df", "-v", "--format", "json"],
                 ["system", "df", "-v", "--format", "raw"],
                 ["system", "df", "-v", "--format",
                  "{{range .Images}}{{.Repository}}:{{.Tag}} {{.SharedSize}} "
                  "{{.UniqueSize}} {{.Containers}};{{end}}"],
                 ["system", "df", "-v", "--format",
                  "{{range .Containers}}{{.Names}} {{.Size}} {{.Labels}};{{end}}"
                  "{{len .Volumes}} {{json .BuildCache}}"],
                 ["system", "df", "-v", "--format", "{{json .Containers}}"]):
        b, d = bb.both(*args)
        assert (b.returncode, b.stderr.replace(b"berth", b"docker")) == \
            (d.returncode, d.stderr), (args, b, d)
        assert mask(b.stdout.decode()) == mask(d.stdout.decode()), args


def test_system_prune(bb):
    """docker's calls in docker's order; berthd answers the network prune
    with 404 (it has no networks API), so both clients end there."""
    for client in ["berth", "docker"]:
        assert bb.run("docker", "run", "--name", "x-" + client, "busybox", "true"
                      ).returncode == 0
    b = bb.run("berth", "system", "prune", "-f")
    assert names(bb) == []
    assert bb.run("docker", "run", "--name", "yy", "busybox", "true").returncode == 0
    d = bb.run("docker", "system", "prune", "-f")
    assert b.returncode == d.returncode
    assert mask(b.stdout.decode()).count("<ID>") == 2
    assert b.stderr == d.stderr
