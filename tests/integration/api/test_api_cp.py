"""docker cp against berthd: files and directories in and out of running
and stopped containers, binary data kept, volumes seen, symlinks copied as
links, Docker's stat header, and the refusals (a missing path, a file
where a directory must be, a read-only root file system)."""

import base64
import hashlib
import io
import json
import os
import tarfile
import time

import docker


def mounts_of(container_id):
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if container_id in line]


def tar_of(name, data):
    """A tar of one file NAME holding DATA."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def cid(d, name):
    return d.docker("inspect", "-f", "{{.Id}}", name).stdout.strip()


def test_cp_in_and_out_of_a_running_container(bb, tmp_path):
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "in-volume").write_text("from the host\n")
    bb.docker("run", "-d", "--name", "web", "-v", f"{vol}:/data", "busybox", "sleep", "1000")

    out = tmp_path / "hostname"
    bb.docker("cp", "web:/etc/hostname", str(out))
    assert out.read_text().strip() == cid(bb, "web")[:12]

    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    blob = os.urandom(300 * 1024) + b"\0\r\n\x1b"
    (src / "sub" / "blob").write_bytes(blob)
    (src / "note").write_text("hello\n")
    bb.docker("cp", str(src), "web:/tmp/")
    found = bb.docker("exec", "web", "find", "/tmp/src").stdout.split()
    assert sorted(found) == ["/tmp/src", "/tmp/src/note", "/tmp/src/sub", "/tmp/src/sub/blob"]
    sums = bb.docker("exec", "web", "md5sum", "/tmp/src/sub/blob").stdout.split()[0]
    assert sums == hashlib.md5(blob).hexdigest()

    back = tmp_path / "back"
    bb.docker("cp", "web:/tmp/src", str(back))
    assert (back / "sub" / "blob").read_bytes() == blob
    assert (back / "note").read_text() == "hello\n"

    contents = tmp_path / "contents"
    contents.mkdir()
    bb.docker("cp", "web:/tmp/src/.", str(contents))
    assert sorted(os.listdir(contents)) == ["note", "sub"]

    # What a volume holds is the container's too, both ways.
    bb.docker("cp", "web:/data/in-volume", str(tmp_path / "from-volume"))
    assert (tmp_path / "from-volume").read_text() == "from the host\n"
    bb.docker("cp", str(out), "web:/data/")
    assert (vol / "hostname").read_text() == out.read_text()

    # A symlink comes out as the link itself.
    bb.docker("cp", "web:/bin/sh", str(tmp_path / "sh"))
    assert os.readlink(tmp_path / "sh") == "busybox"


def test_cp_with_a_stopped_container_leaves_no_mount(bb, tmp_path):
    bb.docker("create", "--name", "idle", "busybox", "cat", "/tmp/greeting")
    greeting = tmp_path / "greeting"
    greeting.write_text("hi from cp\n")
    bb.docker("cp", str(greeting), "idle:/tmp/")
    bb.docker("cp", "idle:/tmp/greeting", str(tmp_path / "again"))
    assert (tmp_path / "again").read_text() == "hi from cp\n"
    assert mounts_of(cid(bb, "idle")) == []
    assert bb.docker("diff", "idle").stdout.split() == ["C", "/tmp", "A", "/tmp/greeting"]
    res = bb.docker("start", "-a", "idle")
    assert res.stdout == "hi from cp\n"
    # What the run changed is there to copy once it ended.
    bb.docker("run", "--name", "ended", "busybox", "sh", "-c", "echo done > /result")
    bb.docker("cp", "ended:/result", str(tmp_path / "result"))
    assert (tmp_path / "result").read_text() == "done\n"
    assert mounts_of(cid(bb, "ended")) == []


def test_cp_refusals(bb, tmp_path):
    bb.docker("run", "-d", "--name", "web", "busybox", "sleep", "1000")
    f = tmp_path / "f"
    f.write_text("x")

    res = bb.docker("cp", "web:/nope", str(tmp_path / "x"), check=False)
    assert res.returncode == 1
    assert "Could not find the file /nope in container web" in res.stderr
    assert not (tmp_path / "x").exists()

    res = bb.request("PUT", "/containers/web/archive?path=/nope", body=b"")
    assert res.status == 404, res
    assert res.json()["message"] == "Could not find the file /nope in container web"

    res = bb.request("PUT", "/containers/web/archive?path=/etc/hostname", body=tar_of("f", b"y"))
    assert res.status == 400, res
    assert res.json()["message"] == "extraction point is not a directory"

    res = bb.request("PUT", "/containers/web/archive?path=/tmp", body=b"not a tar at all" * 64)
    assert res.status == 400, res
    res = bb.request("GET", "/containers/web/archive")
    assert res.status == 400, res
    assert res.json()["message"] == "bad parameter: path cannot be empty"
    res = bb.request("HEAD", "/containers/nobody/archive?path=/")
    assert res.status == 404, res

    # An archive may not reach out of the directory it is extracted into.
    res = bb.request("PUT", "/containers/web/archive?path=/tmp", body=tar_of("../escape", b"z"))
    assert res.status == 400, res
    assert bb.docker("exec", "web", "ls", "/").stdout.split().count("escape") == 0

    bb.docker("run", "--read-only", "--name", "ro", "busybox", "true")
    res = bb.docker("cp", str(f), "ro:/tmp/", check=False)
    assert res.returncode == 1
    assert "container rootfs is marked read-only" in res.stderr
    assert bb.docker("ps", "-aq").stdout.split().__len__() == 2


def test_stat_header_and_docker_py_archives(bb):
    bb.docker("run", "-d", "--name", "web", "busybox", "sleep", "1000")
    res = bb.request("HEAD", "/v1.41/containers/web/archive?path=/etc/hostname")
    assert res.status == 200, res
    stat = json.loads(base64.b64decode(res.headers["X-Docker-Container-Path-Stat"]))
    assert stat["name"] == "hostname"
    assert stat["size"] == 13
    assert stat["mode"] == 0o644
    assert stat["linkTarget"] == ""
    assert stat["mtime"].endswith("Z")

    client = docker.DockerClient(base_url="unix://" + bb.sock, version="1.41")
    try:
        ctr = client.containers.get("web")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            info = tarfile.TarInfo("dir/file.bin")
            data = bytes(range(256)) * 10
            info.size = len(data)
            info.mode = 0o600
            info.uid = 1234
            t.addfile(info, io.BytesIO(data))
        assert ctr.put_archive("/tmp", buf.getvalue())
        res = ctr.exec_run(["stat", "-c", "%a %u %s", "/tmp/dir/file.bin"])
        assert res.output.decode().split() == ["600", "1234", "2560"]

        stream, st = ctr.get_archive("/tmp/dir")
        assert st["name"] == "dir"
        assert st["mode"] & (1 << 31)  # Go's os.ModeDir
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as t:
            assert sorted(t.getnames()) == ["dir", "dir/file.bin"]
            assert t.extractfile("dir/file.bin").read() == data

        _, st = ctr.get_archive("/bin/sh")
        assert st["mode"] & (1 << 27)  # Go's os.ModeSymlink
        assert st["linkTarget"] == "/bin/busybox"
    finally:
        client.close()


def test_symlinks_resolve_inside_the_container(bb, tmp_path):
    """A symlink that climbs past the root stays at the container's root,
    both ways, as it would for the container itself."""
    bb.docker("run", "-d", "--name", "web", "busybox", "sh", "-c",
              "ln -s ../../../../../.. /tmp/up && ln -s /etc /tmp/etc-link && sleep 1000")
    deadline = time.monotonic() + 10
    while bb.docker("exec", "web", "ls", "/tmp").stdout.split() != ["etc-link", "up"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    bb.docker("cp", "web:/tmp/up/etc/hostname", str(tmp_path / "h"))
    assert (tmp_path / "h").read_text().strip() == cid(bb, "web")[:12]
    marker = tmp_path / f"berth-cp-marker-{os.getpid()}"
    marker.write_text("inside\n")
    bb.docker("cp", str(marker), "web:/tmp/up/tmp/")
    assert not os.path.exists(f"/tmp/{marker.name}")
    assert bb.docker("exec", "web", "cat", f"/tmp/{marker.name}").stdout == "inside\n"
    # A path through a symlinked directory, and the link's own stat.
    bb.docker("cp", "web:/tmp/etc-link/hostname", str(tmp_path / "h2"))
    assert (tmp_path / "h2").read_text() == (tmp_path / "h").read_text()
    res = bb.request("HEAD", "/containers/web/archive?path=/tmp/up")
    stat = json.loads(base64.b64decode(res.headers["X-Docker-Container-Path-Stat"]))
    assert stat["linkTarget"] == "/"
