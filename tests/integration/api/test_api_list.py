"""The container list (GET /containers/json, `docker ps`) over berthd: each
entry agrees with the container's inspect after every kind of change
(create, start, stop, an end of its own, rename, update, restart, health
status, pause, removal), after berthd is restarted with live restore and
after a database of the previous schema is migrated; and every filter of
Docker's, with size, limit and all."""

import json
import os
import signal
import sqlite3
import time
from urllib.parse import quote

import pytest

from berthd_testlib import BUILD, wait_for


def api(d, method, path, body=None, want=None):
    headers = {}
    if body is not None:
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    res = d.request(method, path, body=body, headers=headers)
    if want is not None:
        assert res.status == want, res
    return res


def create(d, name, cmd, **config):
    body = {"Image": "busybox", "Cmd": cmd, **config}
    return api(d, "POST", f"/containers/create?name={name}", body, 201).json()["Id"]


def inspect(d, name):
    return api(d, "GET", f"/containers/{name}/json", want=200).json()


def listed(d, query="all=1"):
    res = api(d, "GET", f"/containers/json?{query}", want=200)
    assert res.headers["Content-Type"] == "application/json"
    assert res.body.endswith(b"]\n")
    return res.json()


def names(d, query="all=1"):
    return [c["Names"][0][1:] for c in listed(d, query)]


def filtered(d, filters, extra="all=1"):
    return names(d, f"{extra}&filters={quote(json.dumps(filters))}")


def unix_seconds(rfc3339):
    """Seconds of Docker's time (nanoseconds, "Z")."""
    whole = rfc3339.split(".")[0].rstrip("Z")
    return int(time.mktime(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) - time.timezone)


def command_of(insp):
    """Docker's Command: an argument with a space in single quotes."""
    return " ".join([insp["Path"]] + [f"'{a}'" if " " in a else a for a in insp["Args"]])


def status_agrees(status, state):
    """The Status words say what State says."""
    health = (state.get("Health") or {}).get("Status")
    if state["Status"] == "created":
        return status == "Created"
    if state["Status"] == "restarting":
        return status.startswith(f"Restarting ({state['ExitCode']}) ")
    if state["Status"] == "paused":
        return status.startswith("Up ") and status.endswith(" (Paused)")
    if state["Status"] == "running":
        if not health:
            return status.startswith("Up ") and "(" not in status
        words = "health: starting" if health == "starting" else health
        return status.startswith("Up ") and status.endswith(f" ({words})")
    return status.startswith(f"Exited ({state['ExitCode']}) ") and status.endswith(" ago")


def check_list(d):
    """Every entry of the list is what the container's inspect says, and
    the list holds every container, newest first."""
    entries = listed(d)
    by_created = []
    for e in entries:
        insp = inspect(d, e["Id"])
        st = insp["State"]
        assert e["Names"] == [insp["Name"]]
        assert e["Image"] == insp["Config"]["Image"]
        assert e["ImageID"] == insp["Image"]
        assert e["Command"] == command_of(insp)
        assert e["Created"] == unix_seconds(insp["Created"])
        assert e["Labels"] == (insp["Config"]["Labels"] or {})
        assert e["State"] == st["Status"], (e, st)
        assert status_agrees(e["Status"], st), (e["Status"], st)
        assert e["HostConfig"] == {"NetworkMode": insp["HostConfig"]["NetworkMode"]}
        assert e["Mounts"] == insp["Mounts"]
        assert e["Ports"] == [] and e["NetworkSettings"] == {"Networks": {}}
        by_created.append(e["Created"])
    assert by_created == sorted(by_created, reverse=True)
    running = [e["Id"] for e in entries if e["State"] in ("running", "paused")]
    assert [e["Id"] for e in listed(d, "all=0")] == running
    return {e["Names"][0][1:]: e for e in entries}


def stable(entries):
    """An entry without what time changes (the Status words' durations)."""
    return {name: {k: v for k, v in e.items() if k != "Status"} | {
        "Status": e["Status"].split(" ")[0]} for name, e in entries.items()}


def test_list_follows_every_change(bb, tmp_path):
    assert listed(bb) == []
    (tmp_path / "data").mkdir()
    create(bb, "plain", ["sleep", "300"])
    create(bb, "fancy", ["sh", "-c", "echo 'a b'; sleep 300"],
           Labels={"tier": "front", "q\"uote": "\u00e9\n\t"}, ExposedPorts={"80/tcp": {}},
           HostConfig={"Binds": [f"{tmp_path / 'data'}:/data:ro"]})
    create(bb, "dies", ["sh", "-c", "sleep 0.3; exit 3"])
    create(bb, "checked", ["sleep", "300"],
           Healthcheck={"Test": ["CMD-SHELL", "test -e /tmp/ok"], "Interval": 100_000_000,
                        "Retries": 1})
    entries = check_list(bb)
    assert entries["fancy"]["Labels"] == {"tier": "front", "q\"uote": "\u00e9\n\t"}
    assert entries["fancy"]["Command"] == "sh -c 'echo 'a b'; sleep 300'"
    assert entries["fancy"]["Mounts"][0]["Destination"] == "/data"
    assert {e["State"] for e in entries.values()} == {"created"}

    for name in ("plain", "fancy", "dies", "checked"):
        api(bb, "POST", f"/containers/{name}/start", want=204)
    check_list(bb)
    # An end of its own.
    assert api(bb, "POST", "/containers/dies/wait", want=200).json()["StatusCode"] == 3
    assert check_list(bb)["dies"]["Status"].startswith("Exited (3) ")

    # Health: starting, unhealthy, healthy.
    wait_for(lambda: inspect(bb, "checked")["State"]["Health"]["Status"] == "unhealthy")
    assert "(unhealthy)" in check_list(bb)["checked"]["Status"]
    assert filtered(bb, {"health": ["unhealthy"]}) == ["checked"]
    ex = api(bb, "POST", "/containers/checked/exec", {"Cmd": ["touch", "/tmp/ok"]}, 201)
    assert api(bb, "POST", f"/exec/{ex.json()['Id']}/start", {"Detach": True}).status < 300
    wait_for(lambda: inspect(bb, "checked")["State"]["Health"]["Status"] == "healthy")
    assert check_list(bb)["checked"]["Status"].endswith(" (healthy)")
    assert filtered(bb, {"health": ["healthy"]}) == ["checked"]

    api(bb, "POST", "/containers/plain/stop?t=0", want=204)
    assert check_list(bb)["plain"]["Status"].startswith("Exited (137) ")
    api(bb, "POST", "/containers/plain/rename?name=renamed", want=204)
    entries = check_list(bb)
    assert "plain" not in entries and entries["renamed"]["State"] == "exited"
    api(bb, "POST", "/containers/renamed/update",
        {"CpuShares": 512}, 200)
    check_list(bb)
    api(bb, "POST", "/containers/renamed/restart?t=0", want=204)
    assert check_list(bb)["renamed"]["State"] == "running"
    api(bb, "POST", "/containers/fancy/pause", want=204)
    entries = check_list(bb)
    assert entries["fancy"]["State"] == "paused" and entries["fancy"]["Status"].endswith(
        " (Paused)")
    assert "fancy" in names(bb, "all=0")
    api(bb, "POST", "/containers/fancy/unpause", want=204)
    assert check_list(bb)["fancy"]["State"] == "running"
    api(bb, "POST", "/containers/dies/start", want=204)
    api(bb, "POST", "/containers/dies/wait", want=200)
    api(bb, "DELETE", "/containers/dies", want=204)
    entries = check_list(bb)
    assert set(entries) == {"renamed", "fancy", "checked"}

    # berthd restarted (live restore): the same list; a container whose
    # process ended meanwhile shows its end.
    before = stable(entries)
    bb.stop()
    bb.start()
    assert stable(check_list(bb)) == before
    pid = inspect(bb, "renamed")["State"]["Pid"]
    bb.stop()
    os.kill(pid, signal.SIGKILL)
    bb.start()
    entries = wait_for(lambda: (lambda e: e["renamed"]["State"] == "exited" and e)(
        check_list(bb)))
    assert entries["renamed"]["Status"].startswith("Exited (137) ")
    assert names(bb, "all=0") == ["checked", "fancy"]
    for name in ("fancy", "checked"):
        api(bb, "DELETE", f"/containers/{name}?force=1", want=204)
    assert set(check_list(bb)) == {"renamed"}


def v3_schema(db):
    """Takes berth.db back to schema version 3: containers without the
    list's columns."""
    con = sqlite3.connect(db)
    con.executescript(
        "CREATE TABLE containers_v3 ("
        " id TEXT PRIMARY KEY NOT NULL"
        "  CHECK (length(id) = 64 AND id NOT GLOB '*[^0-9a-f]*'),"
        " name TEXT NOT NULL UNIQUE CHECK (name <> ''),"
        " image_id TEXT NOT NULL REFERENCES images(id),"
        " created INTEGER NOT NULL,"
        " doc TEXT NOT NULL);"
        "INSERT INTO containers_v3 (rowid, id, name, image_id, created, doc)"
        " SELECT rowid, id, name, image_id, created, doc FROM containers;"
        "DROP TABLE containers;"
        "ALTER TABLE containers_v3 RENAME TO containers;"
        "CREATE INDEX containers_image ON containers(image_id);"
        "PRAGMA user_version = 3;")
    con.close()


def test_list_after_migration_from_schema_3(bb):
    create(bb, "one", ["sleep", "300"], Labels={"a": "1"})
    create(bb, "two", ["true"])
    create(bb, "three", ["sh", "-c", "exit 4"])
    api(bb, "POST", "/containers/one/start", want=204)
    api(bb, "POST", "/containers/three/start", want=204)
    api(bb, "POST", "/containers/three/wait", want=200)
    before = stable(check_list(bb))
    bb.stop()
    v3_schema(bb.data_root / "berth.db")
    con = sqlite3.connect(bb.data_root / "berth.db")
    columns = [r[1] for r in con.execute("PRAGMA table_xinfo(containers)")]
    con.close()
    assert "status" not in columns
    bb.start()
    assert stable(check_list(bb)) == before
    con = sqlite3.connect(bb.data_root / "berth.db")
    assert con.execute("PRAGMA user_version").fetchone()[0] >= 4
    con.close()
    # Writes after the migration keep the list with the record.
    api(bb, "POST", "/containers/one/stop?t=0", want=204)
    api(bb, "POST", "/containers/two/rename?name=deux", want=204)
    entries = check_list(bb)
    assert entries["one"]["State"] == "exited" and "deux" in entries


def test_list_filters(bb, tmp_path):
    (tmp_path / "vol").mkdir()
    web = create(bb, "web", ["sleep", "300"], Labels={"tier": "front", "team": "a"},
                 ExposedPorts={"80/tcp": {}, "53/udp": {}},
                 HostConfig={"Binds": [f"{tmp_path / 'vol'}:/data"]})
    api(bb, "POST", "/containers/web/start", want=204)
    create(bb, "failed2", ["sh", "-c", "exit 2"], Labels={"tier": "back"})
    api(bb, "POST", "/containers/failed2/start", want=204)
    api(bb, "POST", "/containers/failed2/wait", want=200)
    create(bb, "fresh", ["true"], Labels={"tier": "front"}, HostConfig={"NetworkMode": "host"})
    image = inspect(bb, "web")["Image"]

    assert names(bb) == ["fresh", "failed2", "web"]
    assert names(bb, "all=0") == ["web"]
    assert names(bb, "all=1&limit=2") == ["fresh", "failed2"]
    # limit=1 is `docker ps -l`: stopped ones too.
    assert names(bb, "limit=1") == ["fresh"]
    cases = [
        ({"id": [web[:12]]}, ["web"]),
        ({"id": [web]}, ["web"]),
        ({"name": ["^/fr"]}, ["fresh"]),
        ({"name": ["fail", "web"]}, ["failed2", "web"]),
        ({"name": ["[unclosed"]}, []),
        ({"label": ["tier"]}, ["fresh", "failed2", "web"]),
        ({"label": ["tier=front"]}, ["fresh", "web"]),
        ({"label": ["tier=front", "team=a"]}, ["web"]),
        ({"label": ["nosuch"]}, []),
        ({"exited": ["2"]}, ["failed2"]),
        ({"exited": ["0"]}, []),
        ({"status": ["created"]}, ["fresh"]),
        ({"status": ["running", "exited"]}, ["failed2", "web"]),
        ({"status": ["paused"]}, []),
        ({"ancestor": ["busybox"]}, ["fresh", "failed2", "web"]),
        ({"ancestor": ["busybox:latest"]}, ["fresh", "failed2", "web"]),
        ({"ancestor": [image]}, ["fresh", "failed2", "web"]),
        ({"ancestor": [image.split(":")[1][:12]]}, ["fresh", "failed2", "web"]),
        ({"ancestor": ["nosuch"]}, []),
        ({"before": ["fresh"]}, ["failed2", "web"]),
        ({"since": ["web"]}, ["fresh", "failed2"]),
        ({"since": ["web"], "before": ["fresh"]}, ["failed2"]),
        ({"volume": ["/data"]}, ["web"]),
        ({"volume": [str(tmp_path / "vol")]}, ["web"]),
        ({"volume": ["/nosuch"]}, []),
        ({"network": ["host"]}, ["fresh"]),
        ({"network": ["bridge"]}, ["failed2", "web"]),
        ({"publish": ["80"]}, []),
        ({"expose": ["80"]}, ["web"]),
        ({"expose": ["53/udp"]}, ["web"]),
        ({"expose": ["53"]}, []),
        ({"health": ["none"]}, ["fresh", "failed2", "web"]),
        ({"health": ["starting"]}, []),
        ({"isolation": ["default"]}, ["fresh", "failed2", "web"]),
        ({"is-task": ["false"]}, ["fresh", "failed2", "web"]),
        ({"is-task": ["true"]}, []),
        ({"status": ["exited"], "label": ["tier=back"], "exited": ["2"]}, ["failed2"]),
    ]
    for filters, want in cases:
        assert filtered(bb, filters) == want, filters
    # Without all, only what runs (status, exited, before and since look
    # at everything, as in Docker).
    assert filtered(bb, {"label": ["tier=front"]}, "all=0") == ["web"]
    assert filtered(bb, {"status": ["exited"]}, "all=0") == ["failed2"]
    assert filtered(bb, {"since": ["web"]}, "all=0") == ["fresh", "failed2"]
    assert filtered(bb, {"label": ["tier"]}, "all=1&limit=1") == ["fresh"]

    sized = {c["Names"][0]: c for c in listed(bb, "all=1&size=1")}
    assert all(c["SizeRootFs"] >= c["SizeRw"] >= 0 for c in sized.values())
    assert sized["/web"]["SizeRootFs"] > 0
    assert "SizeRw" not in listed(bb)[0]

    for filters, status, message in [
        ({"status": ["sleeping"]}, 400, "Invalid filter 'status=sleeping'"),
        ({"health": ["sick"]}, 400, "Unrecognised filter value for health: sick"),
        ({"exited": ["x"]}, 400, "invalid filter 'exited=x'"),
        ({"is-task": ["maybe"]}, 400, "Invalid filter 'is-task=maybe'"),
        ({"colour": ["red"]}, 400, "invalid filter 'colour'"),
        ({"before": ["nosuch"]}, 404, "No such container: nosuch"),
    ]:
        res = api(bb, "GET", f"/containers/json?all=1&filters={quote(json.dumps(filters))}")
        assert res.status == status and message in res.json()["message"], res

    # The docker client's view of the same list.
    rows = bb.docker("ps", "-a", "--no-trunc", "--format",
                     "{{.Names}}|{{.Command}}|{{.Labels}}|{{.Mounts}}").stdout.split("\n")
    assert rows[0] == 'fresh|"true"|tier=front|'
    assert rows[2].startswith('web|"sleep 300"|') and rows[2].endswith(f"|{tmp_path / 'vol'}")
    assert bb.docker("ps", "-q", "--no-trunc").stdout.split() == [web]
    assert bb.docker("ps", "-l", "--format", "{{.Names}}").stdout.split() == ["fresh"]
    info = api(bb, "GET", "/info", want=200).json()
    assert (info["Containers"], info["ContainersRunning"], info["ContainersPaused"],
            info["ContainersStopped"]) == (3, 1, 0, 2)
    api(bb, "DELETE", "/containers/web?force=1", want=204)


@pytest.mark.parametrize("n", [300])
def test_list_of_many(bb, n):
    """Many containers: every one listed once, in order, with its labels;
    and the list takes a small fraction of a second."""
    ids = [create(bb, f"c{i}", ["true"], Labels={"i": str(i)}) for i in range(n)]
    entries = listed(bb)
    assert [e["Id"] for e in entries] == ids[::-1]
    assert [e["Labels"] for e in entries] == [{"i": str(i)} for i in reversed(range(n))]
    assert filtered(bb, {"label": [f"i={n // 2}"]}) == [f"c{n // 2}"]
    took = min(timed(lambda: listed(bb)) for _ in range(5))
    assert took < 0.5, took


def timed(fn):
    start = time.monotonic()
    fn()
    return time.monotonic() - start
