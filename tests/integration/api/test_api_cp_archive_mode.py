"""docker cp -a (copyUIDGID): what is copied in belongs to the container's
user, a uid:gid or names found in the container's own /etc/passwd and
/etc/group, running or stopped; without -a, or for a container without a
user, the archive's owners stay, as dockerd keeps them."""

import os


def owned_tree(tmp_path):
    """A file and a directory holding a file, all owned by 4321:4321."""
    f = tmp_path / "f"
    f.write_text("file\n")
    d = tmp_path / "d"
    d.mkdir()
    (d / "x").write_text("x\n")
    for p in (f, d, d / "x"):
        os.chown(p, 4321, 4321)
    return f, d


def test_cp_a_to_a_numeric_user(bb, tmp_path):
    f, d = owned_tree(tmp_path)
    bb.docker("run", "-d", "--name", "num", "-u", "1000:1001", "busybox", "sleep", "1000")
    bb.docker("cp", "-a", str(f), "num:/tmp/")
    bb.docker("cp", "--archive", str(d), "num:/tmp/")
    res = bb.docker("exec", "num", "stat", "-c", "%u %g %n", "/tmp/f", "/tmp/d", "/tmp/d/x")
    assert res.stdout.splitlines() == ["1000 1001 /tmp/f", "1000 1001 /tmp/d",
                                       "1000 1001 /tmp/d/x"]
    # Without -a the archive's owners stay.
    bb.docker("cp", str(f), "num:/tmp/g")
    assert bb.docker("exec", "num", "stat", "-c", "%u %g", "/tmp/g").stdout == "4321 4321\n"
    # A uid alone: its group is 0 when the container's passwd lacks it.
    bb.docker("run", "-d", "--name", "uid", "-u", "1234", "busybox", "sleep", "1000")
    bb.docker("cp", "-a", str(f), "uid:/tmp/")
    assert bb.docker("exec", "uid", "stat", "-c", "%u %g", "/tmp/f").stdout == "1234 0\n"


def test_cp_a_to_a_named_user_of_a_stopped_container(bb, tmp_path):
    f, d = owned_tree(tmp_path)
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                "app:x:2000:2001:app:/home/app:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\napp:x:2001:\nstaff:x:50:app\n")
    for user, want in [("app", "2000 2001"), ("app:staff", "2000 50"), ("2000:app", "2000 2001")]:
        name = "named-" + user.replace(":", "-")
        bb.docker("create", "--name", name, "-u", user, "busybox", "stat", "-c", "%u %g",
                  "/tmp/f", "/tmp/d", "/tmp/d/x")
        bb.docker("cp", f"{etc}/.", f"{name}:/etc/")
        bb.docker("cp", "-a", str(f), f"{name}:/tmp/")
        bb.docker("cp", "-a", str(d), f"{name}:/tmp/")
        res = bb.docker("start", "-a", name)
        assert res.stdout.splitlines() == [want] * 3, user


def test_cp_a_without_a_user_and_to_an_unknown_one(bb, tmp_path):
    f, _ = owned_tree(tmp_path)
    bb.docker("run", "-d", "--name", "root", "busybox", "sleep", "1000")
    bb.docker("cp", "-a", str(f), "root:/tmp/")
    assert bb.docker("exec", "root", "stat", "-c", "%u %g", "/tmp/f").stdout == "4321 4321\n"

    bb.docker("create", "--name", "ghostly", "-u", "ghost", "busybox", "true")
    res = bb.docker("cp", "-a", str(f), "ghostly:/tmp/", check=False)
    assert res.returncode == 1
    assert "unable to find user ghost" in res.stderr
    res = bb.request("PUT", "/containers/ghostly/archive?path=/tmp&copyUIDGID=true",
                     body=b"")
    assert res.status == 400, res
    # Nothing was copied.
    res = bb.request("HEAD", "/containers/ghostly/archive?path=/tmp/f")
    assert res.status == 404, res
