"""berth volume (create, ls, inspect, rm, prune), inspect of a volume,
system prune --volumes and system df's volumes over berthd's Engine API:
what the user sees is what the docker client prints against the same
berthd, exit statuses included."""

import json
import re

from test_cli_api import mask


def norm(err):
    """berth's words for docker's: the program's name, and the daemon of
    the API version messages."""
    return err.replace(b"berth daemon", b"Docker daemon").replace(b"berth", b"docker")


def same(bb, *args, input=None):
    b, d = bb.both(*args, input=input)
    assert (b.returncode, b.stdout, norm(b.stderr)) == (d.returncode, d.stdout, d.stderr), \
        (args, b, d)
    return b


def ok(bb, client, *args, input=None):
    res = bb.run(client, *args, input=input)
    assert res.returncode == 0, (client, args, res.stderr)
    return res.stdout.decode()


def test_create_ls_inspect(bb):
    # What each client creates, the other sees the same way.
    # One label each where docker joins them (in its map's random order).
    assert ok(bb, "berth", "volume", "create", "--label", "a=b", "v10") == "v10\n"
    assert ok(bb, "docker", "volume", "create", "--label", "x=<a&b>", "v2") == "v2\n"
    assert ok(bb, "berth", "volume", "create", "--name", "v1") == "v1\n"
    anon = ok(bb, "berth", "volume", "create").strip()
    assert len(anon) == 64 and all(c in "0123456789abcdef" for c in anon)
    # The same name again is the same volume.
    assert ok(bb, "berth", "volume", "create", "v1") == "v1\n"

    # Listed in natural order: v1, v2, v10.
    listed = same(bb, "volume", "ls")
    assert listed.stdout.decode().splitlines() == [
        "DRIVER    VOLUME NAME", f"local     {anon}", "local     v1", "local     v2",
        "local     v10"]
    assert same(bb, "volume", "list", "-q").stdout.decode().split() == [anon, "v1", "v2", "v10"]
    for args in (["--format", "json"], ["--format", "raw"], ["-q", "--format", "raw"],
                 ["--format", "table"], ["-q", "--format", "table"],
                 ["--format", "table {{.Name}}\\t{{.Scope}}\\t{{.Labels}}", "-q"],
                 ["--format", "{{.Name}} {{.Driver}} {{.Mountpoint}} {{.Links}} {{.Size}} "
                  "{{.Group}} {{.Availability}} {{.Status}}"],
                 ["-f", "name=v1"], ["-f", "label=a"], ["-f", "label=a=b", "-q"],
                 ["-f", "dangling=true", "-q"], ["-f", "driver=local", "-q"],
                 ["-f", "label=x", "--format", "{{json .}}"],
                 ["-f", "bogus=1"], ["-f", "nokv"], ["x"], ["--cluster"], ["--nope"],
                 ["--format", "{{.Nope}}"], ["--format", "{{"]):
        same(bb, "volume", "ls", *args)
    ok(bb, "berth", "volume", "create", "--label", "c", "--label", "a=b", "--label", "b=1=2",
       "m1")
    row = json.loads(ok(bb, "berth", "volume", "ls", "-f", "name=m1", "--format", "json"))
    assert row["Labels"] == "a=b,b=1=2,c=" and row["Links"] == "N/A"

    # inspect: docker's Go struct, its fields in order and "<", ">", "&"
    # escaped; the daemon's error for a volume it does not have.
    doc = json.loads(same(bb, "volume", "inspect", "m1").stdout)
    assert doc[0]["Labels"] == {"a": "b", "b": "1=2", "c": ""} and doc[0]["Options"] is None
    assert b"\\u003ca\\u0026b\\u003e" in same(bb, "volume", "inspect", "v2").stdout
    for args in (["v1", "v2"], ["-f", "json", "v2", "v10"], ["nope"], ["v1", "nope", "v2"],
                 ["-f", "json", "nope"], ["-f", "{{.Name}}", "nope"], [""], [],
                 ["-f", "{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}} {{json .Labels}}", "v2"],
                 ["-f", "{{.Options}}|{{.Status}}|{{.UsageData}}|{{.ClusterVolume}}|"
                  "{{.Labels.a}}|{{.Labels.zz}}|{{index .Options \"x\"}}", "v10"],
                 ["-f", "{{json .}}", "v2"], ["-f", "{{.Nope}}", "v1"],
                 ["-f", "{{.UsageData.Size}}", "v1"], ["-f", "{{.Labels.a.b}}", "v10"],
                 ["-f", "{{if .Labels.a}}{{.Nope}}{{end}}x", "v10", "v1", "nope"],
                 ["-f", "{{", "v1"]):
        same(bb, "volume", "inspect", *args)
    res = bb.run("berth", "volume", "inspect", "nope")
    assert (res.returncode, res.stdout, res.stderr) == (
        1, b"[]\n", b"Error response from daemon: get nope: no such volume\n")
    # The generic inspect finds volumes too, after containers and images.
    for args in (["v2"], ["-f", "{{.Name}} {{.Options}}", "v10"], ["--type", "volume", "v1"],
                 ["--type", "volume", "nope"], ["-f", "json", "v2"], ["nope"]):
        same(bb, "inspect", *args)


def test_create_errors(bb):
    for args in (["--name", "a", "b"], ["a", "b"], ["--label", "=x", "e1"],
                 ["--label", " a b=1", "e2"], ["--label", "x y", "e3"], ["-o", "x=1", "e4"],
                 ["-o", "x", "e5"], ["-d", "nodrv", "e6"], ["bad/name"], ["-x"], ["--name"],
                 ["--label"], ["--group", "g", "e7"], ["--type", "block", "--group", "g", "e8"],
                 ["--", "--x"]):
        same(bb, "volume", "create", *args)
    assert ok(bb, "docker", "volume", "ls", "-q") == ""
    # A key with spaces around it is taken as given, as docker does.
    assert ok(bb, "berth", "volume", "create", "--label", " k=1", "-d", "", "e9") == "e9\n"
    assert ok(bb, "docker", "volume", "inspect", "-f", "{{json .Labels}} {{.Driver}}",
              "e9") == '{" k":"1"} local\n'


def test_rm(bb):
    for n in ("used", "free1", "free2", "free3"):
        ok(bb, "docker", "volume", "create", n)
    cid = ok(bb, "docker", "create", "-v", "used:/data", "busybox", "true").strip()
    # Each removed name printed, each failure reported at the end, 1.
    res = bb.run("berth", "volume", "rm", "used", "nope", "free1")
    assert res.returncode == 1 and res.stdout == b"free1\n"
    assert res.stderr.decode().splitlines() == [
        f"Error response from daemon: remove used: volume is in use - [{cid}]",
        "Error response from daemon: get nope: no such volume"]
    same(bb, "volume", "rm", "used", "nope")
    same(bb, "volume", "rm", "-f", "used")
    same(bb, "volume", "rm", "-f", "nope")
    same(bb, "volume", "rm", "")
    same(bb, "volume", "rm")
    same(bb, "volume", "remove", "--nope", "x")
    b = bb.run("berth", "volume", "remove", "free2")
    assert (b.returncode, b.stdout) == (0, b"free2\n")
    assert ok(bb, "docker", "volume", "ls", "-q").split() == ["free3", "used"]
    ok(bb, "docker", "rm", cid)
    assert ok(bb, "berth", "volume", "rm", "used", "free3") == "used\nfree3\n"
    assert ok(bb, "docker", "volume", "ls", "-q") == ""


def prune_setup(bb, tag):
    """A volume in use, one with 3 bytes in it, an empty one."""
    ok(bb, "docker", "volume", "create", f"kept-{tag}")
    ok(bb, "docker", "create", "--name", f"user-{tag}", "-v", f"kept-{tag}:/d", "busybox",
       "true")
    ok(bb, "docker", "run", "--rm", "-v", f"data-{tag}:/d", "busybox", "sh", "-c",
       "echo hi >/d/f")
    ok(bb, "docker", "volume", "create", "--label", "keep=1", f"empty-{tag}")


def test_prune(bb):
    prune_setup(bb, "x")
    # The question as docker asks it against an API 1.41 daemon; only
    # "y" (any case, spaces around) says yes.
    for answer in (b"n\n", b"yes\n", b"", b"no\n"):
        b = same(bb, "volume", "prune", input=answer)
        assert b.stdout == (b"WARNING! This will remove all local volumes not used by at least "
                            b"one container.\nAre you sure you want to continue? [y/N] ")
    for args in (["x"], ["-a"], ["--all", "x"], ["--filter", "nokv"], ["--filter", "all=1", "-f"],
                 ["--filter", "label=nosuch", "-f"], ["--nope"]):
        same(bb, "volume", "prune", *args)
    b = bb.run("berth", "volume", "prune", "--filter", "label!=keep", input=b" Y \n")
    assert b.returncode == 0, b.stderr
    assert b.stdout.decode().split("[y/N] ")[1] == (
        "Deleted Volumes:\ndata-x\n\nTotal reclaimed space: 3B\n")
    assert ok(bb, "docker", "volume", "ls", "-q").split() == ["empty-x", "kept-x"]
    # docker's run of the same on the same state prints the same.
    prune_setup(bb, "y")
    d = bb.run("docker", "volume", "prune", "--filter", "label!=keep", input=b"y\n")
    assert d.stdout.decode().replace("-y", "-x") == b.stdout.decode()
    b = bb.run("berth", "volume", "prune", "-f")
    assert (b.returncode, b.stdout) == (
        0, b"Deleted Volumes:\nempty-x\nempty-y\n\nTotal reclaimed space: 0B\n")
    same(bb, "volume", "prune", "-f")
    assert ok(bb, "docker", "volume", "ls", "-q").split() == ["kept-x", "kept-y"]


def test_system_prune_volumes_and_df(bb):
    prune_setup(bb, "x")
    ok(bb, "docker", "run", "-d", "--name", "up", "-v", "live:/d", "busybox", "sh", "-c",
       "echo hello >/d/f; sleep 60")
    for args in (["system", "df"], ["system", "df", "--format", "{{json .}}"],
                 ["system", "df", "-v"], ["system", "df", "-v", "--format",
                                          "{{range .Volumes}}{{json .}};{{end}}"]):
        b, d = bb.both(*args)
        assert (b.returncode, b.stderr) == (d.returncode, d.stderr) == (0, b""), args
        assert mask(b.stdout.decode()) == mask(d.stdout.decode()), args
    row = json.loads(ok(bb, "berth", "system", "df", "--format", "{{json .}}").splitlines()[2])
    assert (row["Type"], row["TotalCount"], row["Active"]) == ("Local Volumes", "4", "2")
    assert row["Reclaimable"].startswith("3B ")

    for args in (["--volumes"], ["--volumes", "-a"], ["--volumes", "--filter", "until=1h"],
                 ["--volumes", "-f", "--filter", "until=1h"], ["--volumes", "x"]):
        same(bb, "system", "prune", *args, input=b"n\n")
    b = bb.run("berth", "system", "prune", "-f", "--volumes")
    assert b.returncode == 0, b.stderr
    out = mask(b.stdout.decode())
    assert out.startswith("Deleted Containers:\n<ID>\n\nDeleted Volumes:\n")
    assert sorted(out.split("Deleted Volumes:\n")[1].split("\n\n")[0].split()) == [
        "data-x", "empty-x", "kept-x"]
    assert out.endswith("Total reclaimed space: 3B\n")
    assert ok(bb, "docker", "volume", "ls", "-q").split() == ["live"]
    # Without --volumes, volumes stay.
    ok(bb, "docker", "volume", "create", "spare")
    b = bb.run("berth", "system", "prune", "-f")
    assert b.returncode == 0, b.stderr
    assert ok(bb, "docker", "volume", "ls", "-q").split() == ["live", "spare"]
    out = []
    for client in ("berth", "docker"):
        ok(bb, "docker", "volume", "create", "spare")
        out.append(ok(bb, client, "system", "prune", "-f", "--volumes"))
        assert ok(bb, "docker", "volume", "ls", "-q").split() == ["live"]
    assert out[0] == out[1] == "Deleted Volumes:\nspare\n\nTotal reclaimed space: 0B\n"


def test_group_usage(bb):
    top = ok(bb, "berth", "--help")
    assert "  volume      Manage volumes\n" in top
    for args in (["volume", "foo"], ["volume", "ls", "x"], ["volume", "list", "x"],
                 ["volume", "rm"], ["volume", "inspect"], ["volume", "create", "a", "b"],
                 ["volume", "prune", "x"], ["volume", "ls", "--nope"],
                 ["volume", "update", "x"]):
        same(bb, *args)
    b, d = bb.both("volume")
    assert b.returncode == d.returncode == 0 and b.stdout == d.stdout == b""
    # berth's help keeps its leading empty line; the rest is docker's.
    assert norm(b.stderr).lstrip(b"\n") == d.stderr
    b = bb.run("berth", "volume", "--help")
    assert b.returncode == 0
    assert b"\n  create      Create a volume\n" in b.stdout
    for sub in ("create", "ls", "inspect", "rm", "prune"):
        b, d = bb.both("volume", sub, "--help")
        assert b.returncode == d.returncode == 0
        for flag in re.findall(r"--[a-z-]+", d.stdout.decode()):
            assert flag in b.stdout.decode(), (sub, flag)
