"""docker cp and the mounts of a stopped container: its binds (and what it
took with --volumes-from) are where the container has them, both ways, a
read-only one refuses what is copied in, its hostname file is its own;
and none of it shows in the host's mount table, during or after a copy
that worked or failed."""

import io
import os
import tarfile

import pytest


def host_mounts(*needles):
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if any(n in line for n in needles)]


def cid(d, name):
    return d.docker("inspect", "-f", "{{.Id}}", name).stdout.strip()


def tar_of(name, data, uid=0, gid=0):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.uid, info.gid = uid, gid
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def stopped(bb, tmp_path):
    """A container that never ran, with a bind, a read-only bind, a bind
    of a file and a bind nested in another, at places its image lacks."""
    vol = tmp_path / "vol"
    (vol / "sub").mkdir(parents=True)
    (vol / "in-volume").write_text("from the host\n")
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "r").write_text("read only\n")
    nested = tmp_path / "nested"
    nested.mkdir()
    (nested / "n").write_text("nested\n")
    single = tmp_path / "single"
    single.write_text("one file\n")
    bb.docker("create", "--name", "idle", "-v", f"{vol}:/data", "-v", f"{ro}:/ro:ro",
              "-v", f"{nested}:/data/sub/deeper", "-v", f"{single}:/opt/single",
              "busybox", "true")
    return vol, ro, nested, single


def test_cp_out_of_a_stopped_containers_binds(bb, stopped, tmp_path):
    vol, ro, nested, single = stopped
    idle = cid(bb, "idle")
    before = host_mounts(idle, str(tmp_path))
    bb.docker("cp", "idle:/data/in-volume", str(tmp_path / "out"))
    assert (tmp_path / "out").read_text() == "from the host\n"
    bb.docker("cp", "idle:/ro/r", str(tmp_path / "r"))
    assert (tmp_path / "r").read_text() == "read only\n"
    bb.docker("cp", "idle:/data/sub/deeper/n", str(tmp_path / "n"))
    assert (tmp_path / "n").read_text() == "nested\n"
    bb.docker("cp", "idle:/opt/single", str(tmp_path / "s"))
    assert (tmp_path / "s").read_text() == "one file\n"
    # A directory with a mount inside comes whole.
    bb.docker("cp", "idle:/data", str(tmp_path / "whole"))
    assert (tmp_path / "whole" / "sub" / "deeper" / "n").read_text() == "nested\n"
    # The stat header sees through the bind too.
    res = bb.request("HEAD", "/containers/idle/archive?path=/data/in-volume")
    assert res.status == 200, res
    # The container's own hostname file, as Docker mounts it for the copy.
    bb.docker("cp", "idle:/etc/hostname", str(tmp_path / "hostname"))
    assert (tmp_path / "hostname").read_text().strip() == idle[:12]
    # A failed copy leaves nothing mounted either.
    res = bb.docker("cp", "idle:/data/nope", str(tmp_path / "nope"), check=False)
    assert res.returncode == 1
    assert "Could not find the file /data/nope in container idle" in res.stderr
    assert host_mounts(idle, str(tmp_path)) == before
    # The image is untouched: only the mount points were made.
    assert bb.docker("diff", "idle").stdout.splitlines() == [
        "A /data", "A /opt", "A /opt/single", "A /ro"]


def test_cp_into_a_stopped_containers_binds(bb, stopped, tmp_path):
    vol, ro, nested, single = stopped
    idle = cid(bb, "idle")
    before = host_mounts(idle, str(tmp_path))
    f = tmp_path / "note"
    f.write_text("copied in\n")
    bb.docker("cp", str(f), "idle:/data/")
    assert (vol / "note").read_text() == "copied in\n"
    bb.docker("cp", str(f), "idle:/data/sub/deeper/")
    assert (nested / "note").read_text() == "copied in\n"

    res = bb.docker("cp", str(f), "idle:/ro/", check=False)
    assert res.returncode == 1
    assert "mounted volume is marked read-only" in res.stderr
    res = bb.request("PUT", "/containers/idle/archive?path=/ro", body=tar_of("x", b"x"))
    assert res.status == 403, res
    assert res.json()["message"] == "mounted volume is marked read-only"
    assert sorted(os.listdir(ro)) == ["r"]
    # A broken archive fails, and unmounts as well.
    res = bb.request("PUT", "/containers/idle/archive?path=/data", body=b"not a tar" * 100)
    assert res.status == 400, res
    assert host_mounts(idle, str(tmp_path)) == before


def test_cp_through_volumes_from_of_a_stopped_container(bb, tmp_path):
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "f").write_text("shared\n")
    bb.docker("create", "--name", "src", "-v", f"{vol}:/shared:ro", "busybox", "true")
    bb.docker("create", "--name", "dep", "--volumes-from", "src", "busybox", "true")
    bb.docker("cp", "dep:/shared/f", str(tmp_path / "f"))
    assert (tmp_path / "f").read_text() == "shared\n"
    res = bb.docker("cp", str(tmp_path / "f"), "dep:/shared/", check=False)
    assert "mounted volume is marked read-only" in res.stderr
    assert host_mounts(cid(bb, "dep"), str(tmp_path)) == []


def test_cp_of_a_container_that_ran(bb, tmp_path):
    vol = tmp_path / "vol"
    vol.mkdir()
    bb.docker("run", "--name", "ran", "-v", f"{vol}:/out", "busybox", "sh", "-c",
              "echo result > /out/result")
    bb.docker("cp", "ran:/out/result", str(tmp_path / "result"))
    assert (tmp_path / "result").read_text() == "result\n"
    (tmp_path / "input").write_text("for the next run\n")
    bb.docker("cp", str(tmp_path / "input"), "ran:/out/")
    assert (vol / "input").read_text() == "for the next run\n"
    bb.docker("start", "ran")
    assert bb.docker("wait", "ran").stdout.strip() == "0"
    assert host_mounts(cid(bb, "ran"), str(tmp_path)) == []


def test_cp_when_a_bind_cannot_be_mounted(bb, tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    bb.docker("create", "--name", "broken", "-v", f"{gone}:/gone", "busybox", "true")
    gone.rmdir()
    res = bb.docker("cp", "broken:/etc/hostname", str(tmp_path / "h"), check=False)
    assert res.returncode == 1
    assert f"stat {gone}" in res.stderr
    res = bb.request("PUT", "/containers/broken/archive?path=/tmp", body=tar_of("x", b"x"))
    assert res.status == 500, res
    assert host_mounts(cid(bb, "broken"), str(tmp_path)) == []
