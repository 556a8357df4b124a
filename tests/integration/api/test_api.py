"""berthd's Engine API against raw HTTP over its unix socket, the docker
CLI and docker-py: the system routes, the image routes and their errors
with Docker's statuses and messages, limits, misbehaving clients, and the
daemon's own start and stop rules (pid file, daemon.json)."""

import io
import json
import os
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
from urllib.parse import quote

import pytest

from berthd_testlib import Daemon

DOCKER_HEADERS = {"Api-Version": "1.41", "Docker-Experimental": "false", "Ostype": "linux"}


def assert_alive(d):
    assert d.request("GET", "/_ping").body == b"OK"


def rootfs_tar():
    """A tiny root file system as a tar, in memory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = b"hello from import\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# System routes.

def test_ping_get_and_head(berthd):
    for path in ("/_ping", "/v1.24/_ping", "/v1.41/_ping"):
        res = berthd.request("GET", path)
        assert res.status == 200 and res.body == b"OK"
        for k, v in DOCKER_HEADERS.items():
            assert res.headers[k] == v
        assert res.headers["Server"].startswith("berth/") and "(linux)" in res.headers["Server"]
        assert res.headers["Cache-Control"] == "no-cache, no-store, must-revalidate"
        assert res.headers["Pragma"] == "no-cache"
    res = berthd.request("HEAD", "/_ping")
    assert res.status == 200 and res.body == b""
    assert res.headers["Api-Version"] == "1.41"


def test_version_shape(berthd):
    v = berthd.request("GET", "/version").json()
    assert v["ApiVersion"] == "1.41" and v["MinAPIVersion"] == "1.24"
    assert v["Os"] == "linux" and v["GoVersion"] == ""
    assert v["KernelVersion"] == os.uname().release
    engine = v["Components"][0]
    assert engine["Name"] == "Engine" and engine["Version"] == v["Version"]
    assert engine["Details"]["ApiVersion"] == "1.41"
    assert "Name" in v["Platform"]
    for key in ("GitCommit", "Arch", "BuildTime"):
        assert key in v


def test_info_shape(bb):
    info = bb.request("GET", "/v1.41/info").json()
    assert info["Images"] == 1 and info["Containers"] == 0
    assert info["Driver"] == "overlay2" and info["LoggingDriver"] == "json-file"
    assert info["CgroupDriver"] == "cgroupfs" and info["CgroupVersion"] in ("1", "2")
    assert info["OSType"] == "linux" and info["Architecture"] == os.uname().machine
    assert info["DockerRootDir"] == str(bb.data_root)
    assert info["Runtimes"] == {"runc": {"path": "berth-runc"}}
    assert info["DefaultRuntime"] == "runc"
    assert info["Swarm"]["LocalNodeState"] == "inactive"
    assert info["InitBinary"] == "berth-init"
    assert info["SecurityOptions"] == ["name=seccomp,profile=default"]
    assert info["Warnings"] == [] and info["LiveRestoreEnabled"] is True
    assert info["NCPU"] == os.cpu_count() and info["MemTotal"] > 0
    assert info["Name"] == socket.gethostname()
    assert info["NEventsListener"] == 0
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.connect(bb.sock)
    listener.sendall(b"GET /v1.41/events HTTP/1.1\r\nHost: x\r\n\r\n")
    assert listener.recv(1024).startswith(b"HTTP/1.1 200")
    assert bb.request("GET", "/info").json()["NEventsListener"] == 1
    listener.close()
    deadline = time.monotonic() + 10
    while bb.request("GET", "/info").json()["NEventsListener"] != 0:
        assert time.monotonic() < deadline, "the listener that left is still counted"
        time.sleep(0.05)
    # The ID stays across restarts.
    first = info["ID"]
    bb.stop()
    bb.start("--live-restore=false")
    info = bb.request("GET", "/info").json()
    assert info["ID"] == first and info["LiveRestoreEnabled"] is False


def test_versions_and_unknown_routes(berthd):
    res = berthd.request("GET", "/v1.12/version")
    assert res.status == 400
    assert res.json() == {"message": "client version 1.12 is too old. Minimum supported API "
                          "version is 1.24, please upgrade your client to a newer version"}
    res = berthd.request("GET", "/v1.99/version")
    assert res.status == 400
    assert res.json() == {"message": "client version 1.99 is too new. Maximum supported API "
                          "version is 1.41"}
    res = berthd.request("GET", "/v1.41/nothing/here")
    assert res.status == 404 and res.json() == {"message": "page not found"}
    assert res.headers["Content-Type"] == "application/json"
    assert_alive(berthd)


# Image routes over raw HTTP.

def test_images_list_inspect_history(bb):
    images = bb.request("GET", "/v1.41/images/json").json()
    assert len(images) == 1 and images[0]["RepoTags"] == ["busybox:latest"]
    image_id = images[0]["Id"]
    info = bb.request("GET", "/v1.41/images/busybox/json").json()
    assert info["Id"] == image_id and info["Config"]["Cmd"] == ["sh"]
    hist = bb.request("GET", "/images/busybox:latest/history").json()
    assert hist[0]["Id"] == image_id and hist[0]["Tags"] == ["busybox:latest"]
    res = bb.request("GET", "/v1.41/images/nope/json")
    assert res.status == 404 and res.json()["message"].startswith("No such image: nope")


def test_image_names_with_slashes(bb):
    res = bb.request("POST", "/v1.41/images/busybox/tag?repo=localhost:5000/tools/bb&tag=1")
    assert res.status == 201, res
    info = bb.request("GET", "/v1.41/images/localhost:5000/tools/bb:1/json").json()
    assert "localhost:5000/tools/bb:1" in info["RepoTags"]
    hist = bb.request("GET", "/v1.41/images/localhost:5000/tools/bb:1/history")
    assert hist.status == 200


def test_images_filters(bb):
    q = quote(json.dumps({"dangling": ["true"]}))
    res = bb.request("GET", "/images/json?filters=" + q)
    assert res.status == 200 and res.json() == []
    q = quote(json.dumps({"reference": {"busy*": True}}))
    res = bb.request("GET", "/images/json?filters=" + q)
    assert [i["RepoTags"] for i in res.json()] == [["busybox:latest"]]
    res = bb.request("GET", "/images/json?filters=%7B%22bogus%22:[%22x%22]%7D")
    assert res.status == 400 and "invalid filter 'bogus'" in res.json()["message"]
    res = bb.request("GET", "/images/json?filters=notjson")
    assert res.status == 400
    assert_alive(bb)


def test_tag_and_delete(bb):
    assert bb.request("POST", "/images/busybox/tag?repo=mine&tag=2").status == 201
    res = bb.request("DELETE", "/v1.41/images/mine:2")
    assert res.status == 200 and res.json() == [{"Untagged": "mine:2"}]
    image_id = bb.request("GET", "/images/busybox/json").json()["Id"]
    # An image in two repositories cannot go by id without force (409).
    assert bb.request("POST", "/images/busybox/tag?repo=other").status == 201
    res = bb.request("DELETE", "/images/" + image_id[7:19])
    assert res.status == 409, res
    assert "must be forced" in res.json()["message"]
    res = bb.request("DELETE", "/images/" + image_id[7:19] + "?force=1")
    assert res.status == 200
    body = res.json()
    assert {"Deleted": image_id} in body
    assert {"Untagged": "busybox:latest"} in body and {"Untagged": "other:latest"} in body
    assert bb.request("GET", "/images/json").json() == []
    res = bb.request("DELETE", "/images/busybox")
    assert res.status == 404
    res = bb.request("POST", "/images/nope/tag?repo=x")
    assert res.status == 404


def test_load_errors_in_stream(berthd):
    res = berthd.request("POST", "/images/load", body=b"this is no tar archive" * 100)
    assert res.status == 200 and res.headers["Content-Type"] == "application/json"
    msgs = res.stream()
    assert msgs[-1]["error"] and msgs[-1]["errorDetail"]["message"] == msgs[-1]["error"]
    assert berthd.request("GET", "/images/json").json() == []
    assert_alive(berthd)


def test_save_and_load_back(bb, tmp_path):
    res = bb.request("GET", "/v1.41/images/get?names=busybox")
    assert res.status == 200 and res.headers["Content-Type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(res.body)) as t:
        manifest = json.load(t.extractfile("manifest.json"))
    assert manifest[0]["RepoTags"] == ["busybox:latest"]
    one = bb.request("GET", "/images/busybox/get")
    assert one.status == 200 and len(one.body) == len(res.body)
    # An unknown name fails before the first byte: a plain error.
    res2 = bb.request("GET", "/images/get?names=busybox&names=nope")
    assert res2.status == 404 and "No such image: nope" in res2.json()["message"]
    assert bb.request("DELETE", "/images/busybox").status == 200
    archive = tmp_path / "bb.tar"
    archive.write_bytes(res.body)
    assert bb.load(archive) == [{"stream": "Loaded image: busybox:latest\n"}]


def test_import_create(berthd):
    res = berthd.request("POST", "/images/create?fromSrc=-&repo=imp&tag=1&message=hi"
                         "&changes=ENV%20A%3D1&changes=CMD%20%5B%22sh%22%5D", body=rootfs_tar())
    assert res.status == 200, res
    msgs = res.stream()
    assert msgs[0]["status"].startswith("sha256:")
    info = berthd.request("GET", "/images/imp:1/json").json()
    assert info["Id"] == msgs[0]["status"]
    assert "A=1" in info["Config"]["Env"] and info["Config"]["Cmd"] == ["sh"]
    assert info["Comment"] == "hi"
    res = berthd.request("POST", "/images/create?fromImage=busybox&tag=latest")
    assert res.status == 501 and "pull" in res.json()["message"]
    assert_alive(berthd)


# Limits and misbehaving clients.

def test_body_over_limit(bb):
    res = bb.request("POST", "/images/busybox/tag?repo=x", body=b"x" * (2 * 1024 * 1024))
    assert res.status == 413
    assert_alive(bb)


def raw(d, data, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(d.sock)
    s.sendall(data)
    return s


def read_all(s):
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        out += chunk
    return out


def test_stalled_clients_do_not_block_others(bb):
    half_headers = raw(bb, b"GET /images/json HTTP/1.1\r\nHost: x\r\nX-Half: ")
    half_body = raw(bb, b"POST /images/load HTTP/1.1\r\nContent-Length: 10000000\r\n\r\nabc")
    half_json = raw(bb, b"POST /images/busybox/tag HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
    try:
        t0 = time.monotonic()
        for _ in range(3):
            assert bb.request("GET", "/images/json", timeout=5).status == 200
            assert bb.request("GET", "/v1.41/info", timeout=5).status == 200
        assert time.monotonic() - t0 < 5
    finally:
        for s in (half_headers, half_body, half_json):
            s.close()
    assert_alive(bb)


def test_garbage_closes_the_connection(berthd):
    s = raw(berthd, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")
    out = read_all(s)
    s.close()
    assert out.startswith(b"HTTP/1.1 400 ")
    s = raw(berthd, b"GET /_ping HTTP/1.1\r\n\r\nGET /_ping HTTP/1.1\r\n\r\n")
    s.shutdown(socket.SHUT_WR)
    out = read_all(s)
    s.close()
    assert out.count(b"HTTP/1.1 200 OK") == 2
    assert_alive(berthd)


def test_keep_alive_and_pipelining(bb):
    conn = bb.connection()
    try:
        for path in ("/_ping", "/images/json", "/version", "/images/busybox/json"):
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200
    finally:
        conn.close()


# The real docker client and docker-py.

def test_docker_cli(bb, tmp_path, busybox_archive):
    out = bb.docker("version").stdout
    assert "berth" in out and "1.41" in out
    out = bb.docker("info").stdout
    assert "Storage Driver: overlay2" in out and "Images: 1" in out
    out = bb.docker("images").stdout
    assert "busybox" in out and "latest" in out
    info = json.loads(bb.docker("image", "inspect", "busybox").stdout)
    assert info[0]["RepoTags"] == ["busybox:latest"]
    image_id = info[0]["Id"]
    assert image_id[7:19] in bb.docker("history", "busybox").stdout
    bb.docker("tag", "busybox", "cli:1")
    assert "cli" in bb.docker("images").stdout
    out = bb.docker("rmi", "cli:1").stdout
    assert "Untagged: cli:1" in out
    res = bb.docker("image", "inspect", "nope", check=False)
    assert res.returncode != 0 and "No such image: nope" in res.stderr
    archive = tmp_path / "saved.tar"
    bb.docker("save", "-o", str(archive), "busybox")
    assert tarfile.is_tarfile(archive)
    bb.docker("rmi", "busybox")
    out = bb.docker("load", "-i", str(archive)).stdout
    assert "Loaded image: busybox:latest" in out
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(rootfs_tar())
    out = bb.docker("import", str(rootfs), "imported:1").stdout
    assert out.strip().startswith("sha256:")
    assert "imported" in bb.docker("images").stdout
    res = bb.docker("load", "-i", str(rootfs), check=False)
    assert res.returncode != 0


def test_docker_py(bb, busybox_archive):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url="unix://" + bb.sock, version="1.41")
    try:
        assert client.version()["ApiVersion"] == "1.41"
        assert client.ping()
        images = client.images.list()
        assert [i.tags for i in images] == [["busybox:latest"]]
        img = client.images.get("busybox")
        assert img.tags == ["busybox:latest"]
        data = b"".join(img.save(named=True))
        client.images.remove("busybox")
        loaded = client.images.load(data)
        assert [i.tags for i in loaded] == [["busybox:latest"]]
        # Saved by id (docker-py's default), the image comes back untagged.
        data = b"".join(img.save())
        loaded = client.images.load(data)
        assert loaded[0].id == img.id
        with pytest.raises(docker.errors.ImageNotFound):
            client.images.get("nope")
    finally:
        client.close()


# The daemon's process.

def test_pidfile_refuses_second_daemon(berthd):
    other = subprocess.run(berthd.argv(), capture_output=True, text=True, timeout=10)
    assert other.returncode != 0
    assert "pid file found, ensure berthd is not running or delete" in other.stderr
    assert_alive(berthd)


def test_config_file_rules(tmp_path):
    d = Daemon(tmp_path)
    d.config.write_text(json.dumps({"log-level": "debug", "bogus": 1}))
    res = subprocess.run(d.argv(), capture_output=True, text=True, timeout=10)
    assert res.returncode == 1
    assert "the following directives don't match any configuration option: bogus" in res.stderr
    d.config.write_text(json.dumps({"data-root": "/tmp/x"}))
    res = subprocess.run(d.argv(), capture_output=True, text=True, timeout=10)
    assert res.returncode == 1
    assert "specified both as a flag and in the configuration file: data-root" in res.stderr
    assert not d.pidfile.exists() and not os.path.exists(d.sock)


def test_config_hosts_and_sighup(tmp_path):
    d = Daemon(tmp_path)
    d.config.write_text(json.dumps({"log-level": "info", "live-restore": True}))
    d.start()
    try:
        d.config.write_text(json.dumps({"log-level": "debug", "live-restore": True}))
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.2)
        assert d.request("GET", "/info").json()["LiveRestoreEnabled"] is True
        assert d.request("GET", "/info").json()["Debug"] is True
    finally:
        d.stop()
