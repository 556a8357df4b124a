"""Named and anonymous volumes against berthd, as dockerd 20.10 (API 1.41)
has them: create (201, the same answer for a name that exists), list with
its filters, inspect and remove over raw HTTP, the docker CLI and docker-py,
with Docker's 400/404/409 and messages; volumes made by run -v NAME:/path,
--mount type=volume and -v /path, and for an image's VOLUME, the image's
content (owners and modes too) copied into a new or empty volume at create
and not into one with files or with nocopy; the Mode, RW and Source of
inspect's Mounts; rm -v and run --rm taking the anonymous ones only; prune;
the volume events; /system/df's Volumes; and a volume's directory under the
data root (volumes/NAME/_data) gone with it."""

import json
import os
import re
import stat
import time
import urllib.parse

import pytest


HEX64 = re.compile(r"^[0-9a-f]{64}$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
VOLUME_KEYS = ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"]
INVALID_NAME = ('create {0}: "{0}" includes invalid characters for a local volume name, only '
                '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
                'directory, use absolute path')


def post(d, path, body):
    return d.request("POST", path, body=json.dumps(body),
                     headers={"Content-Type": "application/json"})


def filters(**f):
    return urllib.parse.quote(json.dumps(f))


def names(d, query=""):
    res = d.request("GET", "/v1.41/volumes" + query)
    assert res.status == 200, res
    return sorted(v["Name"] for v in res.json()["Volumes"])


def volume_dir(d, name):
    return d.data_root / "volumes" / name


def mounts(d, name):
    return {m["Destination"]: m
            for m in json.loads(d.docker("inspect", "-f", "{{json .Mounts}}", name).stdout)}


def volume_events(d, since, until):
    res = d.docker("events", "--since", since, "--until", until, "--filter", "type=volume",
                   "--format", "{{json .}}")
    return [json.loads(line) for line in res.stdout.splitlines()]


def test_create_inspect_list_and_remove_over_http(bb):
    res = post(bb, "/v1.41/volumes/create", {"Name": "v1", "Labels": {"a": "b"}})
    assert res.status == 201, res
    vol = res.json()
    assert sorted(vol) == VOLUME_KEYS
    assert RFC3339.match(vol["CreatedAt"]), vol
    mountpoint = volume_dir(bb, "v1") / "_data"
    assert {k: v for k, v in vol.items() if k != "CreatedAt"} == {
        "Driver": "local", "Labels": {"a": "b"}, "Mountpoint": str(mountpoint), "Name": "v1",
        "Options": None, "Scope": "local"}
    assert mountpoint.is_dir() and not any(mountpoint.iterdir())
    # A name that exists is no error: the same 201 and the volume as it is,
    # whatever labels or options come with it.
    for body in [{"Name": "v1"}, {"Name": "v1", "Labels": {"c": "d"}},
                 {"Name": "v1", "Driver": "local"}]:
        res = post(bb, "/v1.41/volumes/create", body)
        assert res.status == 201, res
        assert res.json() == vol
    res = bb.request("GET", "/v1.41/volumes/v1")
    assert res.status == 200, res
    assert res.json() == vol

    # No name: a 64 hex digit one, no labels.
    res = post(bb, "/v1.41/volumes/create", {})
    assert res.status == 201, res
    anon = res.json()
    assert HEX64.match(anon["Name"]), anon
    assert anon["Labels"] is None and anon["Options"] is None
    assert anon["Mountpoint"] == str(volume_dir(bb, anon["Name"]) / "_data")

    res = bb.request("GET", "/v1.41/volumes")
    assert res.status == 200, res
    listed = res.json()
    assert sorted(listed) == ["Volumes", "Warnings"]
    assert listed["Warnings"] is None
    assert sorted(listed["Volumes"], key=lambda v: v["Name"]) == \
        sorted([vol, anon], key=lambda v: v["Name"])

    res = bb.request("GET", "/v1.41/volumes/nosuch")
    assert res.status == 404, res
    assert res.json()["message"] == "get nosuch: no such volume"

    res = bb.request("DELETE", "/v1.41/volumes/v1")
    assert res.status == 204, res
    assert res.body == b""
    assert not volume_dir(bb, "v1").exists()
    assert bb.request("GET", "/v1.41/volumes/v1").status == 404
    res = bb.request("DELETE", "/v1.41/volumes/v1")
    assert res.status == 404, res
    assert res.json()["message"] == "get v1: no such volume"
    # force makes a missing volume no error.
    assert bb.request("DELETE", "/v1.41/volumes/v1?force=1").status == 204
    assert bb.request("DELETE", "/v1.41/volumes/v1?force=true").status == 204
    assert bb.request("DELETE", "/v1.41/volumes/" + anon["Name"]).status == 204
    assert not volume_dir(bb, anon["Name"]).exists()
    assert names(bb) == []


def test_create_refusals(bb):
    for name in ["bad name", "a/b", "-x", "_ab", "a:b"]:
        res = post(bb, "/v1.41/volumes/create", {"Name": name})
        assert res.status == 400, (name, res)
        assert res.json()["message"] == INVALID_NAME.format(name), name
    res = post(bb, "/v1.41/volumes/create", {"Name": "x"})
    assert res.status == 400, res
    assert res.json()["message"] == \
        "create x: volume name is too short, names should be at least two alphanumeric characters"
    res = post(bb, "/v1.41/volumes/create", {"Name": "vo", "DriverOpts": {"bogus": "1"}})
    assert res.status == 400, res
    assert res.json()["message"] == 'create vo: invalid option: "bogus"'
    res = post(bb, "/v1.41/volumes/create", {"Name": "vn", "Driver": "nosuch"})
    assert res.status == 404, res
    assert res.json()["message"] == \
        'create vn: error looking up volume plugin nosuch: plugin "nosuch" not found'
    res = bb.request("POST", "/v1.41/volumes/create", body=b"notjson",
                     headers={"Content-Type": "application/json"})
    assert res.status == 400, res
    # Names of two characters and more of the allowed ones are fine.
    assert post(bb, "/v1.41/volumes/create", {"Name": "a.b_c-d"}).status == 201
    assert names(bb) == ["a.b_c-d"]
    assert sorted(p.name for p in (bb.data_root / "volumes").iterdir()
                  if p.is_dir() and not p.name.startswith(".")) == ["a.b_c-d"]

    res = bb.docker("volume", "create", "bad name", check=False)
    assert res.returncode == 1
    assert res.stderr == "Error response from daemon: " + INVALID_NAME.format("bad name") + "\n"
    res = bb.docker("volume", "create", "x", check=False)
    assert res.returncode == 1
    assert "volume name is too short" in res.stderr


def test_list_filters_over_http(bb):
    post(bb, "/v1.41/volumes/create", {"Name": "v1", "Labels": {"a": "b"}})
    post(bb, "/v1.41/volumes/create", {"Name": "v2", "Labels": {"a": "c", "z": ""}})
    post(bb, "/v1.41/volumes/create", {"Name": "other"})
    bb.docker("create", "--name", "user", "-v", "v2:/data", "busybox", "true")

    assert names(bb, "?filters=" + filters(name=["v1"])) == ["v1"]
    assert names(bb, "?filters=" + filters(name=["v"])) == ["v1", "v2"]
    assert names(bb, "?filters=" + filters(name=["nope"])) == []
    assert names(bb, "?filters=" + filters(label=["a"])) == ["v1", "v2"]
    assert names(bb, "?filters=" + filters(label=["a=b"])) == ["v1"]
    assert names(bb, "?filters=" + filters(label=["a=x"])) == []
    assert names(bb, "?filters=" + filters(label=["a", "z"])) == ["v2"]
    assert names(bb, "?filters=" + filters(dangling=["true"])) == ["other", "v1"]
    assert names(bb, "?filters=" + filters(dangling=["1"])) == ["other", "v1"]
    assert names(bb, "?filters=" + filters(dangling=["false"])) == ["v2"]
    assert names(bb, "?filters=" + filters(driver=["local"])) == ["other", "v1", "v2"]
    assert names(bb, "?filters=" + filters(driver=["nosuch"])) == []
    res = bb.request("GET", "/v1.41/volumes?filters=" + filters(bogus=["x"]))
    assert res.status == 400, res
    assert res.json()["message"] == "Invalid filter 'bogus'"
    res = bb.request("GET", "/v1.41/volumes?filters=" + filters(dangling=["maybe"]))
    assert res.status == 400, res
    assert res.json()["message"] == "Invalid filter 'dangling=[maybe]'"
    res = bb.request("GET", "/v1.41/volumes?filters=" + filters(label=["x"]))
    assert res.json() == {"Volumes": [], "Warnings": None}


def test_volume_commands_of_the_docker_cli(bb):
    res = bb.docker("volume", "create", "--name", "v5", "--label", "x=y")
    assert res.stdout == "v5\n"
    assert bb.docker("volume", "create", "v6").stdout == "v6\n"
    assert bb.docker("volume", "create", "v6").stdout == "v6\n"
    res = bb.docker("volume", "ls")
    assert res.stdout == "DRIVER    VOLUME NAME\nlocal     v5\nlocal     v6\n"
    assert bb.docker("volume", "ls", "--filter", "label=x=y", "-q").stdout == "v5\n"
    assert bb.docker("volume", "ls", "--filter", "name=v6", "-q").stdout == "v6\n"
    assert bb.docker("volume", "ls", "--filter", "dangling=true", "-q").stdout == "v5\nv6\n"
    res = bb.docker("volume", "ls", "--format",
                    "{{.Name}}|{{.Driver}}|{{.Labels}}|{{.Scope}}|{{.Mountpoint}}")
    assert res.stdout == (f"v5|local|x=y|local|{volume_dir(bb, 'v5')}/_data\n"
                          f"v6|local||local|{volume_dir(bb, 'v6')}/_data\n")
    res = bb.docker("volume", "ls", "--filter", "bogus=1", check=False)
    assert res.returncode == 1
    assert res.stderr == "Error response from daemon: Invalid filter 'bogus'\n"

    anon = bb.docker("volume", "create").stdout.strip()
    assert HEX64.match(anon)
    assert bb.docker("volume", "ls", "-q").stdout.split() == [anon, "v5", "v6"]

    (v5,) = json.loads(bb.docker("volume", "inspect", "v5").stdout)
    assert sorted(v5) == VOLUME_KEYS
    assert v5["Labels"] == {"x": "y"} and v5["Name"] == "v5" and v5["Driver"] == "local"
    assert v5["Mountpoint"] == str(volume_dir(bb, "v5") / "_data")
    res = bb.docker("volume", "inspect", "-f", "{{.Name}} {{.Labels}} {{.Mountpoint}}", "v5")
    assert res.stdout == f"v5 map[x:y] {volume_dir(bb, 'v5')}/_data\n"
    res = bb.docker("volume", "inspect", "nosuch", check=False)
    assert res.returncode == 1
    assert res.stdout == "[]\n"
    assert res.stderr == "Error response from daemon: get nosuch: no such volume\n"
    res = bb.docker("volume", "inspect", "v5", "nosuch", check=False)
    assert res.returncode == 1
    assert [v["Name"] for v in json.loads(res.stdout)] == ["v5"]

    res = bb.docker("volume", "rm", "nosuch", check=False)
    assert res.returncode == 1
    assert res.stderr == "Error response from daemon: get nosuch: no such volume\n"
    res = bb.docker("volume", "rm", "-f", "nosuch")
    assert res.stdout == "nosuch\n"
    assert bb.docker("volume", "rm", "v5", "v6", anon).stdout == f"v5\nv6\n{anon}\n"
    assert bb.docker("volume", "ls", "-q").stdout == ""
    for name in ["v5", "v6", anon]:
        assert not volume_dir(bb, name).exists()


def test_run_makes_the_named_volume_and_its_data_stays(bb):
    bb.docker("run", "--name", "writer", "-v", "data1:/data", "busybox", "sh", "-c",
              "echo hello > /data/f")
    vol = bb.request("GET", "/v1.41/volumes/data1").json()
    assert vol["Name"] == "data1" and vol["Driver"] == "local" and vol["Labels"] is None
    assert vol["Mountpoint"] == str(volume_dir(bb, "data1") / "_data")
    assert (volume_dir(bb, "data1") / "_data" / "f").read_text() == "hello\n"
    # Other containers see it, through -v and --mount alike, and add to it.
    res = bb.docker("run", "--rm", "-v", "data1:/data", "busybox", "sh", "-c",
                    "cat /data/f; echo more >> /data/f")
    assert res.stdout == "hello\n"
    res = bb.docker("run", "--rm", "--mount", "type=volume,src=data1,dst=/m", "busybox",
                    "cat", "/m/f")
    assert res.stdout == "hello\nmore\n"
    # The volume outlives its containers.
    bb.docker("rm", "writer")
    assert names(bb) == ["data1"]
    # --mount makes a missing volume as -v does.
    bb.docker("run", "--rm", "--mount", "type=volume,source=data2,target=/d", "busybox", "sh",
              "-c", "echo two > /d/g")
    assert (volume_dir(bb, "data2") / "_data" / "g").read_text() == "two\n"
    assert names(bb) == ["data1", "data2"]


def test_read_only_volume_mounts(bb):
    bb.docker("run", "--rm", "-v", "ro1:/data", "busybox", "sh", "-c", "echo kept > /data/f")
    for args in [["-v", "ro1:/data:ro"], ["--mount", "type=volume,src=ro1,dst=/data,readonly"]]:
        res = bb.docker("run", "--rm", *args, "busybox", "sh", "-c",
                        "cat /data/f && touch /data/x", check=False)
        assert res.returncode == 1, args
        assert res.stdout == "kept\n"
        assert "Read-only file system" in res.stderr
    assert sorted(os.listdir(volume_dir(bb, "ro1") / "_data")) == ["f"]


def test_inspect_mounts_of_volumes(bb):
    def one(*args):
        cid = bb.docker("create", *args, "busybox", "true").stdout.strip()
        info = json.loads(bb.docker("inspect", cid).stdout)[0]
        (m,) = info["Mounts"]
        bb.docker("rm", "-v", cid)
        return m, info["Config"].get("Volumes"), info["HostConfig"].get("Binds"), \
            info["HostConfig"].get("Mounts")

    def entry(name, dest, mode, rw):
        return {"Type": "volume", "Name": name,
                "Source": str(volume_dir(bb, name) / "_data"), "Destination": dest,
                "Driver": "local", "Mode": mode, "RW": rw, "Propagation": ""}

    assert one("-v", "v2:/data") == (entry("v2", "/data", "z", True), None, ["v2:/data"], None)
    assert one("-v", "v2:/data:ro") == (entry("v2", "/data", "ro", False), None,
                                        ["v2:/data:ro"], None)
    assert one("-v", "v2:/data:rw") == (entry("v2", "/data", "rw", True), None,
                                        ["v2:/data:rw"], None)
    assert one("-v", "v2:/data:nocopy") == (entry("v2", "/data", "nocopy", True), None,
                                            ["v2:/data:nocopy"], None)
    assert one("-v", "v2:/data:ro,nocopy") == (entry("v2", "/data", "ro,nocopy", False), None,
                                               ["v2:/data:ro,nocopy"], None)
    assert one("--mount", "type=volume,src=v3,dst=/d") == (
        entry("v3", "/d", "z", True), None, None,
        [{"Type": "volume", "Source": "v3", "Target": "/d"}])
    assert one("--mount", "type=volume,src=v3,dst=/d,readonly") == (
        entry("v3", "/d", "z", False), None, None,
        [{"Type": "volume", "Source": "v3", "Target": "/d", "ReadOnly": True}])
    m, config_volumes, binds, hc_mounts = one("--mount", "type=volume,src=v3,dst=/d,volume-nocopy")
    assert m == entry("v3", "/d", "z", True)
    assert hc_mounts == [{"Type": "volume", "Source": "v3", "Target": "/d",
                          "VolumeOptions": {"NoCopy": True, "DriverConfig": {}}}]
    # Anonymous: a 64 hex digit name; -v /path goes in Config.Volumes with
    # Mode "", --mount without a source in HostConfig.Mounts with Mode "z".
    m, config_volumes, binds, hc_mounts = one("-v", "/data")
    assert HEX64.match(m["Name"])
    assert m == entry(m["Name"], "/data", "", True)
    assert (config_volumes, binds, hc_mounts) == ({"/data": {}}, None, None)
    m, config_volumes, binds, hc_mounts = one("--mount", "type=volume,dst=/d")
    assert HEX64.match(m["Name"])
    assert m == entry(m["Name"], "/d", "z", True)
    assert (config_volumes, binds, hc_mounts) == (None, None, [{"Type": "volume", "Target": "/d"}])
    # Binds of a bare path over the API make an anonymous volume too.
    res = post(bb, "/v1.41/containers/create", {"Image": "busybox", "Cmd": ["true"],
                                                "HostConfig": {"Binds": ["/data"]}})
    assert res.status == 201, res
    cid = res.json()["Id"]
    m = mounts(bb, cid)["/data"]
    assert HEX64.match(m["Name"])
    assert m == entry(m["Name"], "/data", "z", True)
    bb.docker("rm", "-v", cid)
    # The anonymous ones went with their containers (rm -v); the named stay.
    assert names(bb) == ["v2", "v3"]


def test_rm_v_and_run_rm_take_anonymous_volumes_only(bb):
    bb.docker("run", "--rm", "-v", "keep1:/n", "-v", "/anon", "busybox", "true")
    assert names(bb) == ["keep1"]
    bb.docker("run", "--rm", "--mount", "type=volume,dst=/a2", "--mount",
              "type=volume,src=keep2,dst=/k", "busybox", "true")
    assert names(bb) == ["keep1", "keep2"]

    bb.docker("create", "--name", "plain", "-v", "keep3:/n", "-v", "/anon", "busybox", "true")
    anon = mounts(bb, "plain")["/anon"]["Name"]
    assert names(bb) == sorted([anon, "keep1", "keep2", "keep3"])
    # Without -v even the anonymous one stays.
    bb.docker("rm", "plain")
    assert names(bb) == sorted([anon, "keep1", "keep2", "keep3"])
    assert volume_dir(bb, anon).is_dir()
    bb.docker("volume", "rm", anon)

    bb.docker("create", "--name", "withv", "-v", "keep3:/n", "-v", "/anon", "busybox", "true")
    anon = mounts(bb, "withv")["/anon"]["Name"]
    assert volume_dir(bb, anon).is_dir()
    bb.docker("rm", "-v", "withv")
    assert names(bb) == ["keep1", "keep2", "keep3"]
    assert not volume_dir(bb, anon).exists()
    assert volume_dir(bb, "keep3").is_dir()
    # The same over the API: ?v=1.
    bb.docker("create", "--name", "api", "-v", "/anon", "busybox", "true")
    anon = mounts(bb, "api")["/anon"]["Name"]
    assert bb.request("DELETE", "/v1.41/containers/api?v=1").status == 204
    assert not volume_dir(bb, anon).exists()
    assert names(bb) == ["keep1", "keep2", "keep3"]


def test_a_volume_in_use_is_not_removed(bb):
    bb.docker("volume", "create", "busy")
    cid = bb.docker("create", "-v", "busy:/data", "busybox", "true").stdout.strip()
    message = f"remove busy: volume is in use - [{cid}]"
    # Neither force nor the container being stopped makes a difference.
    for query in ["", "?force=1", "?force=true"]:
        res = bb.request("DELETE", "/v1.41/volumes/busy" + query)
        assert res.status == 409, (query, res)
        assert res.json()["message"] == message
    for args in [["busy"], ["-f", "busy"]]:
        res = bb.docker("volume", "rm", *args, check=False)
        assert res.returncode == 1
        assert res.stderr == f"Error response from daemon: {message}\n"
    assert volume_dir(bb, "busy").is_dir()
    bb.docker("rm", cid)

    bb.docker("volume", "create", "idle")
    run = bb.docker("run", "-d", "-v", "busy:/data", "busybox", "sleep", "300").stdout.strip()
    res = bb.request("DELETE", "/v1.41/volumes/busy?force=1")
    assert res.status == 409, res
    assert res.json()["message"] == f"remove busy: volume is in use - [{run}]"
    # Each removal of a list is its own: the idle one goes.
    res = bb.docker("volume", "rm", "idle", "busy", check=False)
    assert res.returncode == 1
    assert res.stdout == "idle\n"
    assert res.stderr == f"Error response from daemon: remove busy: volume is in use - [{run}]\n"
    other = bb.docker("create", "-v", "busy:/x", "busybox", "true").stdout.strip()
    res = bb.request("DELETE", "/v1.41/volumes/busy")
    assert res.status == 409, res
    found = re.fullmatch(r"remove busy: volume is in use - \[(.*)\]", res.json()["message"])
    assert found and sorted(found.group(1).split(", ")) == sorted([run, other])
    bb.docker("rm", "-f", run, other)
    assert bb.request("DELETE", "/v1.41/volumes/busy").status == 204
    assert not volume_dir(bb, "busy").exists()
    assert names(bb) == []


def make_volume_image(bb):
    """volimg: busybox with /vol (0711) holding f (hi, 33:44, 0644) and sub
    (1000:2000, 0750), and VOLUME /vol."""
    bb.docker("run", "--name", "maker", "busybox", "sh", "-c",
              "mkdir -p /vol/sub && echo hi > /vol/f && chown 33:44 /vol/f && "
              "chown 1000:2000 /vol/sub && chmod 750 /vol/sub && chmod 711 /vol")
    bb.docker("commit", "--change", "VOLUME /vol", "maker", "volimg")
    bb.docker("rm", "maker")
    res = bb.docker("image", "inspect", "-f", "{{json .Config.Volumes}}", "volimg")
    assert json.loads(res.stdout) == {"/vol": {}}


LISTING = "hi\n711 0:0\n644 33:44\n750 1000:2000\n"
LIST_VOL = 'cat /vol/f; stat -c "%a %u:%g" /vol /vol/f /vol/sub'


def test_an_image_volume_gets_the_image_content(bb, tmp_path):
    make_volume_image(bb)
    bb.docker("create", "--name", "iv", "volimg", "sh", "-c", LIST_VOL)
    info = json.loads(bb.docker("inspect", "iv").stdout)[0]
    assert info["Config"]["Volumes"] == {"/vol": {}}
    (m,) = info["Mounts"]
    assert HEX64.match(m["Name"])
    data = volume_dir(bb, m["Name"]) / "_data"
    assert m == {"Type": "volume", "Name": m["Name"], "Source": str(data),
                 "Destination": "/vol", "Driver": "local", "Mode": "", "RW": True,
                 "Propagation": ""}
    # Copied at create, before any start, with owners and modes, the
    # volume's own directory taking those of the image's.
    assert (data / "f").read_text() == "hi\n"
    st = (data / "sub").stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1000, 2000, 0o750)
    st = (data / "f").stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (33, 44, 0o644)
    assert stat.S_IMODE(data.stat().st_mode) == 0o711
    assert bb.docker("start", "-a", "iv").stdout == LISTING
    bb.docker("rm", "-v", "iv")
    assert not volume_dir(bb, m["Name"]).exists()
    assert names(bb) == []

    # run --rm takes it away; a bind or a tmpfs at the place make none.
    assert bb.docker("run", "--rm", "volimg", "sh", "-c", LIST_VOL).stdout == LISTING
    assert names(bb) == []
    res = bb.docker("run", "--rm", "--tmpfs", "/vol", "volimg", "ls", "-A", "/vol")
    assert res.stdout == ""
    (tmp_path / "h").write_text("host\n")
    res = bb.docker("run", "--rm", "-v", f"{tmp_path}:/vol", "volimg", "ls", "-A", "/vol")
    assert res.stdout == "h\n"
    assert sorted(os.listdir(tmp_path)) == ["h"]
    assert names(bb) == []


def test_copy_into_named_volumes(bb):
    make_volume_image(bb)
    # A new named volume gets the image's content, at create.
    bb.docker("create", "--name", "c1", "-v", "fresh:/vol", "volimg", "sh", "-c", LIST_VOL)
    assert (volume_dir(bb, "fresh") / "_data" / "f").read_text() == "hi\n"
    assert bb.docker("start", "-a", "c1").stdout == LISTING
    res = bb.docker("run", "--rm", "--mount", "type=volume,src=fresh2,dst=/vol", "volimg", "sh",
                    "-c", LIST_VOL)
    assert res.stdout == LISTING
    # So does an existing one with nothing in it, read-only mounts too ...
    bb.docker("volume", "create", "empty")
    res = bb.docker("run", "--rm", "-v", "empty:/vol:ro", "volimg", "ls", "-A", "/vol")
    assert res.stdout == "f\nsub\n"
    # ... but not one with files: those stay as they are, alone.
    bb.docker("volume", "create", "full")
    (volume_dir(bb, "full") / "_data" / "g").write_text("mine\n")
    res = bb.docker("run", "--rm", "-v", "full:/vol", "volimg", "sh", "-c",
                    "ls -A /vol; stat -c %a /vol")
    assert res.stdout == "g\n755\n"
    assert sorted(os.listdir(volume_dir(bb, "full") / "_data")) == ["g"]
    # nocopy keeps it empty, through -v and --mount.
    res = bb.docker("run", "--rm", "-v", "nc1:/vol:nocopy", "volimg", "ls", "-A", "/vol")
    assert res.stdout == ""
    res = bb.docker("run", "--rm", "--mount", "type=volume,src=nc2,dst=/vol,volume-nocopy",
                    "volimg", "ls", "-A", "/vol")
    assert res.stdout == ""
    assert not any((volume_dir(bb, "nc1") / "_data").iterdir())
    # A volume is copied into whenever it is empty, also after a nocopy
    # mount, or after its files were removed.
    res = bb.docker("run", "--rm", "-v", "nc1:/vol", "volimg", "ls", "-A", "/vol")
    assert res.stdout == "f\nsub\n"
    bb.docker("run", "--rm", "-v", "fresh:/vol", "busybox", "sh", "-c", "rm -rf /vol/*")
    res = bb.docker("run", "--rm", "-v", "fresh:/vol", "volimg", "ls", "-A", "/vol")
    assert res.stdout == "f\nsub\n"
    # Any path of the image is copied, not only its VOLUMEs.
    res = bb.docker("run", "--rm", "-v", "bins:/bin", "busybox", "ls", "/bin")
    assert "busybox" in res.stdout.split()
    assert (volume_dir(bb, "bins") / "_data" / "busybox").exists()
    # The image's volume was not made where a named one is mounted.
    assert names(bb) == ["bins", "empty", "fresh", "fresh2", "full", "nc1", "nc2"]


def test_events_of_volumes(bb):
    since = str(time.time())
    bb.docker("volume", "create", "ev1")
    cid = bb.docker("run", "-d", "-v", "ev1:/data:ro", "busybox", "true").stdout.strip()
    bb.docker("wait", cid)
    bb.docker("rm", cid)
    bb.docker("volume", "rm", "ev1")
    ctr2 = bb.docker("create", "--mount", "type=volume,dst=/anon", "busybox",
                     "true").stdout.strip()
    bb.docker("start", "-a", ctr2)
    anon = mounts(bb, ctr2)["/anon"]["Name"]
    bb.docker("rm", "-v", ctr2)
    events = volume_events(bb, since, str(time.time() + 0.5))

    def actor(e):
        return e["Actor"]["ID"], e["Action"], e["Actor"]["Attributes"]

    assert all(e["Type"] == "volume" and e["scope"] == "local" and e["timeNano"] > 0
               for e in events)
    ours = [actor(e) for e in events]
    local = {"driver": "local"}
    # A container's create names the volume again: one more create event.
    assert [a for a in ours if a[0] == "ev1"] == [
        ("ev1", "create", local),
        ("ev1", "create", local),
        ("ev1", "mount", {"container": cid, "destination": "/data", "driver": "local",
                          "propagation": "", "read/write": "false"}),
        ("ev1", "unmount", {"container": cid, "driver": "local"}),
        ("ev1", "destroy", local)]
    assert [a for a in ours if a[0] == anon] == [
        (anon, "create", local),
        (anon, "mount", {"container": ctr2, "destination": "/anon", "driver": "local",
                         "propagation": "", "read/write": "true"}),
        (anon, "unmount", {"container": ctr2, "driver": "local"}),
        (anon, "destroy", local)]
    assert len(ours) == 9
    res = bb.docker("events", "--since", since, "--until", str(time.time()), "--filter",
                    "type=volume", "--filter", "event=mount", "--format",
                    "{{.Actor.ID}} {{.Actor.Attributes.destination}}")
    assert res.stdout == f"ev1 /data\n{anon} /anon\n"


def test_prune(bb):
    bb.docker("volume", "create", "--label", "keep=1", "pk1")
    bb.docker("volume", "create", "--label", "keep=0", "pk0")
    bb.docker("volume", "create", "pn1")
    (volume_dir(bb, "pn1") / "_data" / "f").write_text("hello\n")
    anon = post(bb, "/v1.41/volumes/create", {}).json()["Name"]
    bb.docker("create", "--name", "user", "-v", "pused:/x", "-v", "/anon", "busybox", "true")
    used_anon = mounts(bb, "user")["/anon"]["Name"]

    res = bb.request("POST", "/v1.41/volumes/prune?filters=" + filters(label=["keep=1"]))
    assert res.status == 200, res
    assert res.json() == {"VolumesDeleted": ["pk1"], "SpaceReclaimed": 0}
    for bad in ["bogus", "all"]:
        res = bb.request("POST", "/v1.41/volumes/prune?filters=" + filters(**{bad: ["true"]}))
        assert res.status == 400, res
        assert res.json()["message"] == f"Invalid filter '{bad}'"
    res = bb.request("POST", "/v1.41/volumes/prune?filters=" + filters(**{"label!": ["keep"]}))
    assert res.status == 200, res
    report = res.json()
    assert sorted(report) == ["SpaceReclaimed", "VolumesDeleted"]
    assert sorted(report["VolumesDeleted"]) == sorted([anon, "pn1"])
    assert report["SpaceReclaimed"] == 6
    assert not volume_dir(bb, "pn1").exists() and not volume_dir(bb, anon).exists()
    # API 1.41 prunes named and anonymous volumes alike, none in use.
    since = str(time.time())
    res = bb.request("POST", "/v1.41/volumes/prune")
    assert res.json() == {"VolumesDeleted": ["pk0"], "SpaceReclaimed": 0}
    assert names(bb) == sorted(["pused", used_anon])
    res = bb.request("POST", "/v1.41/volumes/prune")
    assert res.json() == {"VolumesDeleted": [], "SpaceReclaimed": 0}
    # A prune has one event, of what it reclaimed, and none of destroy.
    events = volume_events(bb, since, str(time.time() + 0.5))
    assert [(e["Action"], e["Actor"]) for e in events] == [
        ("prune", {"ID": "", "Attributes": {"reclaimed": "0"}}),
        ("prune", {"ID": "", "Attributes": {"reclaimed": "0"}})]

    bb.docker("volume", "create", "pp1")
    (volume_dir(bb, "pp1") / "_data" / "f").write_text("abc\n")
    res = bb.docker("volume", "prune", "-f")
    assert res.stdout == "Deleted Volumes:\npp1\n\nTotal reclaimed space: 4B\n"
    assert bb.docker("volume", "prune", "-f").stdout == "Total reclaimed space: 0B\n"
    bb.docker("volume", "create", "--label", "k=v", "pp2")
    bb.docker("volume", "create", "pp3")
    res = bb.docker("volume", "prune", "-f", "--filter", "label=k=v")
    assert res.stdout == "Deleted Volumes:\npp2\n\nTotal reclaimed space: 0B\n"
    bb.docker("rm", "user")
    assert names(bb) == sorted(["pp3", "pused", used_anon])


def test_system_df_volumes(bb):
    bb.docker("volume", "create", "dfa")
    data = volume_dir(bb, "dfa") / "_data"
    (data / "z").write_bytes(b"\0" * 1000)
    (data / "sub").mkdir()
    (data / "sub" / "y").write_bytes(b"\0" * 24)
    bb.docker("create", "--name", "c1", "-v", "dfa:/a", "-v", "dfb:/b", "busybox", "true")
    bb.docker("create", "--name", "c2", "-v", "dfa:/a", "busybox", "true")
    bb.docker("volume", "create", "idle")
    res = bb.request("GET", "/v1.41/system/df")
    assert res.status == 200, res
    vols = {v["Name"]: v for v in res.json()["Volumes"]}
    assert sorted(vols) == ["dfa", "dfb", "idle"]
    assert sorted(vols["dfa"]) == sorted(VOLUME_KEYS + ["UsageData"])
    # Size: the bytes of its files.
    assert vols["dfa"]["UsageData"] == {"RefCount": 2, "Size": 1024}
    assert vols["dfb"]["UsageData"] == {"RefCount": 1, "Size": 0}
    assert vols["idle"]["UsageData"] == {"RefCount": 0, "Size": 0}
    assert vols["dfa"]["Mountpoint"] == str(data)
    res = bb.docker("system", "df", "--format", "{{json .}}")
    rows = {r["Type"]: r for r in map(json.loads, res.stdout.splitlines())}
    assert rows["Local Volumes"] == {"Active": "2", "Reclaimable": "0B (0%)",
                                    "Size": "1.024kB", "TotalCount": "3",
                                    "Type": "Local Volumes"}
    out = bb.docker("system", "df", "-v").stdout
    part = out.split("Local Volumes space usage:\n\n")[1].split("\n\n")[0].splitlines()
    assert part[0] == "VOLUME NAME   LINKS     SIZE"
    assert sorted(part[1:]) == ["dfa           2         1.024kB", "dfb           1         0B",
                                "idle          0         0B"]


def test_bad_volume_specifications(bb):
    for spec, name in [("bad name:/x", "bad name"), ("a/b:/x", "a/b"), ("-x:/x", "-x")]:
        res = bb.docker("run", "--rm", "-v", spec, "busybox", "true", check=False)
        assert res.returncode == 125, spec
        assert "Error response from daemon: " + INVALID_NAME.format(name) in res.stderr
    res = bb.docker("run", "--rm", "--mount", "type=volume,src=bad/name,dst=/x", "busybox",
                    "true", check=False)
    assert res.returncode == 125
    assert INVALID_NAME.format("bad/name") in res.stderr
    for spec, message in [
            ("vv:rel", "invalid volume specification: 'vv:rel': invalid mount config for type "
                       "\"volume\": invalid mount path: 'rel' mount path must be absolute"),
            ("vv:/", "invalid volume specification: 'vv:/': invalid mount config for type "
                     "\"volume\": invalid specification: destination can't be '/'"),
            ("vv:/x:bogus", "invalid mode: bogus"),
            ("vv:/x:ro,rw", "invalid mode: ro,rw"),
            ("/data:ro", "invalid volume specification: '/data:ro'")]:
        res = bb.docker("run", "--rm", "-v", spec, "busybox", "true", check=False)
        assert res.returncode == 125, spec
        assert f"Error response from daemon: {message}\n" in res.stderr, (spec, res.stderr)
    relative = ("invalid mount config for type \"volume\": invalid mount path: 'rel' mount "
                "path must be absolute")
    res = bb.docker("run", "--rm", "--mount", "type=volume,src=vv,dst=rel", "busybox", "true",
                    check=False)
    assert res.returncode == 125
    assert f"Error response from daemon: {relative}\n" in res.stderr

    def create(host_config):
        return post(bb, "/v1.41/containers/create",
                    {"Image": "busybox", "Cmd": ["true"], "HostConfig": host_config})

    res = create({"Binds": ["a/b:/x"]})
    assert res.status == 400, res
    assert res.json()["message"] == INVALID_NAME.format("a/b")
    res = create({"Binds": ["x:/x"]})
    assert res.status == 400, res
    assert res.json()["message"] == \
        "create x: volume name is too short, names should be at least two alphanumeric characters"
    res = create({"Mounts": [{"Type": "volume", "Source": "a/b", "Target": "/x"}]})
    assert res.status == 400, res
    assert res.json()["message"] == INVALID_NAME.format("a/b")
    res = create({"Mounts": [{"Type": "volume", "Source": "vv", "Target": "rel"}]})
    assert res.status == 400, res
    assert res.json()["message"] == relative
    res = create({"Mounts": [{"Type": "volume", "Source": "vv", "Target": "/x",
                              "BindOptions": {"Propagation": "shared"}}]})
    assert res.status == 400, res
    assert res.json()["message"] == \
        "invalid mount config for type \"volume\": field BindOptions must not be specified"
    # Nothing was made of the refused ones.
    assert bb.docker("ps", "-aq").stdout == ""
    assert names(bb) == []


def test_volumes_from_a_container_with_volumes(bb):
    bb.docker("create", "--name", "src", "-v", "vf1:/n", "-v", "vf2:/r:ro", "-v", "/anon",
              "busybox", "true")
    anon = mounts(bb, "src")["/anon"]["Name"]
    bb.docker("run", "--rm", "-v", "vf1:/n", "busybox", "sh", "-c", "echo shared > /n/f")
    bb.docker("create", "--name", "dep", "--volumes-from", "src", "busybox", "sh", "-c",
              "cat /n/f; echo dep > /anon/g")
    bb.docker("create", "--name", "depro", "--volumes-from", "src:ro", "busybox", "true")

    def entry(name, dest, rw):
        return {"Type": "volume", "Name": name, "Source": str(volume_dir(bb, name) / "_data"),
                "Destination": dest, "Driver": "local", "Mode": "", "RW": rw,
                "Propagation": ""}

    # What a container takes from another has Mode "".
    assert mounts(bb, "dep") == {"/n": entry("vf1", "/n", True),
                                 "/r": entry("vf2", "/r", False),
                                 "/anon": entry(anon, "/anon", True)}
    assert mounts(bb, "depro") == {"/n": entry("vf1", "/n", False),
                                   "/r": entry("vf2", "/r", False),
                                   "/anon": entry(anon, "/anon", False)}
    assert mounts(bb, "src")["/n"]["Mode"] == "z"
    assert bb.docker("start", "-a", "dep").stdout == "shared\n"
    assert (volume_dir(bb, anon) / "_data" / "g").read_text() == "dep\n"


def test_docker_py_volumes(bb):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url="unix://" + bb.sock, version="1.41")
    vol = client.volumes.create(name="pyvol", driver="local", labels={"k": "v"})
    assert vol.name == "pyvol"
    assert vol.attrs["Labels"] == {"k": "v"}
    assert vol.attrs["Mountpoint"] == str(volume_dir(bb, "pyvol") / "_data")
    assert client.volumes.get("pyvol").attrs == vol.attrs
    client.volumes.create()
    assert len(client.volumes.list()) == 2
    assert [v.name for v in client.volumes.list(filters={"label": "k=v"})] == ["pyvol"]

    out = client.containers.run("busybox", ["sh", "-c", "echo py > /data/f; cat /data/f"],
                                volumes={"pyvol": {"bind": "/data", "mode": "rw"}}, remove=True)
    assert out == b"py\n"
    assert (volume_dir(bb, "pyvol") / "_data" / "f").read_text() == "py\n"
    c = client.containers.create("busybox", ["sh", "-c", "cat /data/f; touch /data/x"],
                                 volumes={"pyvol": {"bind": "/data", "mode": "ro"}})
    (m,) = c.attrs["Mounts"]
    assert (m["Name"], m["Mode"], m["RW"]) == ("pyvol", "ro", False)
    c.start()
    assert c.wait()["StatusCode"] == 1
    assert b"Read-only file system" in c.logs()
    with pytest.raises(docker.errors.APIError) as err:
        vol.remove()
    assert err.value.status_code == 409
    assert err.value.explanation == f"remove pyvol: volume is in use - [{c.id}]"
    c.remove()
    vol.remove()
    with pytest.raises(docker.errors.NotFound):
        client.volumes.get("pyvol")
    assert not volume_dir(bb, "pyvol").exists()
    report = client.volumes.prune()
    assert len(report["VolumesDeleted"]) == 1 and report["SpaceReclaimed"] == 0
    assert client.volumes.list() == []
    client.close()
