"""--volumes-from against berthd: a container gets the mounts of another
(stopped, or never started) at the same places, read-only when the
source's are or when asked with :ro, its own binds winning; inspect shows
them; the source may go without taking them away; an unknown source or a
bad mode is refused at create as dockerd refuses it."""

import json


def mounts(d, name):
    return {m["Destination"]: m
            for m in json.loads(d.docker("inspect", "-f", "{{json .Mounts}}", name).stdout)}


def test_volumes_from_a_stopped_container(bb, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "file").write_text("shared\n")
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "r").write_text("read only\n")
    own = tmp_path / "own"
    own.mkdir()
    (own / "file").write_text("own\n")
    # The source never runs.
    bb.docker("create", "--name", "src", "-v", f"{data}:/data", "-v", f"{ro}:/ro:ro",
              "busybox", "true")

    res = bb.docker("run", "--rm", "--volumes-from", "src", "busybox", "cat", "/data/file",
                    "/ro/r")
    assert res.stdout == "shared\nread only\n"
    bb.docker("run", "--rm", "--volumes-from", "src:rw", "busybox", "sh", "-c",
              "echo written > /data/new")
    assert (data / "new").read_text() == "written\n"
    # The source's read-only mount stays so, whatever the mode.
    res = bb.docker("run", "--rm", "--volumes-from", "src:rw", "busybox", "touch", "/ro/x",
                    check=False)
    assert res.returncode == 1
    assert "Read-only file system" in res.stderr
    assert not (ro / "x").exists()
    # :ro makes every mount read-only.
    res = bb.docker("run", "--rm", "--volumes-from", "src:ro", "busybox", "sh", "-c",
                    "cat /data/file && touch /data/x", check=False)
    assert res.returncode == 1
    assert res.stdout == "shared\n"
    assert "Read-only file system" in res.stderr
    assert not (data / "x").exists()
    # A bind of the container's own at the same place wins.
    res = bb.docker("run", "--rm", "--volumes-from", "src", "-v", f"{own}:/data", "busybox",
                    "cat", "/data/file", "/ro/r")
    assert res.stdout == "own\nread only\n"

    bb.docker("create", "--name", "dep", "--volumes-from", "src:ro", "busybox", "cat",
              "/data/file")
    m = mounts(bb, "dep")
    assert sorted(m) == ["/data", "/ro"]
    assert m["/data"]["Type"] == "bind"
    assert m["/data"]["Source"] == str(data)
    assert m["/data"]["RW"] is False
    assert m["/ro"]["Source"] == str(ro)
    assert m["/ro"]["RW"] is False
    hc = json.loads(bb.docker("inspect", "-f", "{{json .HostConfig.VolumesFrom}}", "dep").stdout)
    assert hc == ["src:ro"]
    # What a container took from another passes on to the next.
    bb.docker("create", "--name", "next", "--volumes-from", "dep", "busybox", "sh", "-c",
              "cat /data/file; touch /data/y")
    assert mounts(bb, "next")["/data"]["RW"] is False

    # Docker does not keep the source for its dependents: it goes, and
    # they keep its mounts.
    bb.docker("rm", "src")
    res = bb.docker("start", "-a", "dep")
    assert res.stdout == "shared\n"
    res = bb.docker("start", "-a", "next", check=False)
    assert res.stdout == "shared\n"
    assert "Read-only file system" in res.stderr
    assert not (data / "y").exists()


def test_volumes_from_a_running_container(bb, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    bb.docker("run", "-d", "--name", "web", "-v", f"{data}:/srv", "busybox", "sleep", "1000")
    bb.docker("run", "--rm", "--volumes-from", "web", "busybox", "sh", "-c",
              "echo from-dep > /srv/f")
    assert bb.docker("exec", "web", "cat", "/srv/f").stdout == "from-dep\n"
    # Several sources; the container's own mount points stay.
    other = tmp_path / "other"
    other.mkdir()
    (other / "o").write_text("o\n")
    bb.docker("create", "--name", "other", "-v", f"{other}:/other", "busybox", "true")
    res = bb.docker("run", "--rm", "--volumes-from", "web", "--volumes-from", "other",
                    "--tmpfs", "/scratch", "busybox", "sh", "-c",
                    "cat /srv/f /other/o && mount | grep -c ' /scratch '")
    assert res.stdout == "from-dep\no\n1\n"


def test_volumes_from_refusals(bb, tmp_path):
    bb.docker("create", "--name", "src", "-v", f"{tmp_path}:/data", "busybox", "true")
    body = {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"VolumesFrom": ["nope"]}}
    res = bb.request("POST", "/v1.41/containers/create", body=json.dumps(body),
                     headers={"Content-Type": "application/json"})
    assert res.status == 404, res
    assert res.json()["message"] == "No such container: nope"
    for spec, mode in [("src:rx", "rx"), ("src:ro,rw", "ro,rw"), ("src:rprivate", "rprivate"),
                       ("src:nocopy", "nocopy")]:
        body["HostConfig"]["VolumesFrom"] = [spec]
        res = bb.request("POST", "/v1.41/containers/create", body=json.dumps(body),
                         headers={"Content-Type": "application/json"})
        assert res.status == 400, (spec, res)
        assert res.json()["message"] == f"invalid mode: {mode}"
    res = bb.docker("create", "--volumes-from", "src:bogus", "busybox", "true", check=False)
    assert res.returncode != 0
    assert "invalid mode: bogus" in res.stderr
    # Nothing was made of the refused ones.
    assert bb.docker("ps", "-aq").stdout.split().__len__() == 1
