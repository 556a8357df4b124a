"""The image commands of the berth CLI on a private data root: import with
--change, images and its filters, inspect, history, tag, rmi, save and load
of both archive formats, and refused or killed loads leaving the store as it
was."""

import gzip
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import tarfile
import time

import pytest


def busybox(berth):
    return berth.import_busybox()


def test_busybox_base_image(berth):
    image_id = busybox(berth)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", image_id)
    info = berth.inspect("busybox")
    assert info["Id"] == image_id
    assert info["RepoTags"] == ["busybox:latest"]
    assert info["Config"]["Cmd"] == ["sh"]
    assert "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in \
        info["Config"]["Env"]
    assert info["RootFS"]["Type"] == "layers" and len(info["RootFS"]["Layers"]) == 1
    assert info["Os"] == "linux"
    # The id is the digest of the stored config, as in Docker.
    config = (berth.data_root / "blobs" / "sha256" / image_id[7:]).read_bytes()
    assert "sha256:" + hashlib.sha256(config).hexdigest() == image_id
    # Every applet is linked in the layer.
    layer = berth.data_root / "layers" / info["RootFS"]["Layers"][0][7:]
    applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True,
                             text=True).stdout.split()
    missing = [a for a in applets if not (layer / "bin" / a).is_symlink()
               and a != "busybox"]
    assert not missing


def test_import_from_stdin_with_changes(berth, busybox_rootfs_tar):
    with open(busybox_rootfs_tar, "rb") as f:
        out = berth.ok("import", "-c", "ENV A=1", "-c", "WORKDIR /srv",
                       "-c", 'ENTRYPOINT ["/bin/echo"]', "-c", "LABEL team=web",
                       "-c", "EXPOSE 8080", "-c", "USER nobody", "-c", "VOLUME /data",
                       "-c", "STOPSIGNAL SIGINT", "-m", "from stdin", "-", "web:1",
                       stdin=f)
    image_id = out.strip()
    info = berth.inspect("web:1")
    assert info["Id"] == image_id
    cfg = info["Config"]
    assert "A=1" in cfg["Env"]
    assert cfg["WorkingDir"] == "/srv"
    assert cfg["Entrypoint"] == ["/bin/echo"]
    assert cfg["Labels"] == {"team": "web"}
    assert cfg["ExposedPorts"] == {"8080/tcp": {}}
    assert cfg["User"] == "nobody"
    assert cfg["Volumes"] == {"/data": {}}
    assert cfg["StopSignal"] == "SIGINT"
    assert info["Comment"] == "from stdin"


def test_import_bad_change_is_refused_and_stores_nothing(berth, busybox_rootfs_tar):
    berth.ok("images")  # the store exists, empty
    before = berth.snapshot()
    res = berth("import", "-c", "FROB x", str(busybox_rootfs_tar), "bad:1")
    assert res.rc == 1
    assert "unknown instruction: FROB" in res.err, str(res)
    assert berth.snapshot() == before


def test_images_table_and_quiet(berth):
    image_id = busybox(berth)
    berth.ok("tag", "busybox", "localhost:5000/tools/bb:1.35")
    lines = berth.ok("images").splitlines()
    assert re.match(r"REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$", lines[0])
    rows = sorted(re.split(r"\s{2,}", line) for line in lines[1:])
    assert [r[:3] for r in rows] == [["busybox", "latest", image_id[7:19]],
                                     ["localhost:5000/tools/bb", "1.35", image_id[7:19]]]
    assert all(r[3].endswith("ago") and re.fullmatch(r"[\d.]+[kMG]?B", r[4]) for r in rows)
    assert berth.ok("images", "-q").split() == [image_id[7:19]] * 2
    assert berth.ok("images", "-q", "--no-trunc").split() == [image_id] * 2
    assert berth.ok("images", "--format", "{{.Id}} {{json .RepoTags}}", "bu*").strip() == \
        f'{image_id} ["busybox:latest"]'


def test_images_filters(berth, busybox_rootfs_tar):
    def imp(ref, *changes):
        args = []
        for c in changes:
            args += ["-c", c]
        out = berth.ok("import", *args, str(busybox_rootfs_tar), *([ref] if ref else []))
        time.sleep(1.1)  # created times one second apart, for before/since
        return out.strip()

    a = imp("app:1", "LABEL tier=front", "LABEL env=prod")
    b = imp("app:2", "LABEL tier=back")
    c = imp(None, "LABEL tier=front")  # untagged: dangling

    def ids(*filters):
        args = []
        for f in filters:
            args += ["-f", f]
        return set(berth.ok("images", "-q", "--no-trunc", *args).split())

    assert ids() == {a, b, c}
    assert ids("dangling=true") == {c}
    assert ids("dangling=false") == {a, b}
    assert ids("label=tier=front") == {a, c}
    assert ids("label=tier") == {a, b, c}
    assert ids("label=tier=front", "label=env=prod") == {a}
    assert ids("reference=app:1") == {a}
    assert ids("reference=app") == {a, b}
    assert ids("reference=ap*:2") == {b}
    assert ids("before=app:2") == {a}
    assert ids("since=app:1") == {b, c}
    assert set(berth.ok("images", "-q", "--no-trunc", "app").split()) == {a, b}
    res = berth("images", "-f", "colour=red")
    assert res.rc == 1 and "invalid filter 'colour'" in res.err, str(res)
    res = berth("images", "-f", "dangling=maybe")
    assert res.rc == 1 and "Invalid filter 'dangling=maybe'" in res.err, str(res)
    res = berth("images", "-f", "before=nosuch")
    assert res.rc == 1 and "No such image: nosuch" in res.err, str(res)


def test_history(berth):
    image_id = busybox(berth)
    lines = berth.ok("history", "busybox").splitlines()
    assert re.match(r"IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$", lines[0])
    assert len(lines) == 2
    assert lines[1].startswith(image_id[7:19])
    assert "import" in lines[1] and "busybox v1." in lines[1]
    assert berth.ok("history", "-q", "--no-trunc", "busybox").split() == [image_id]


def test_tag_and_rmi(berth):
    image_id = busybox(berth)
    berth.ok("tag", "busybox", "mine:v1")
    berth.ok("tag", image_id[7:19], "mine:v2")
    # By one of several tags, only that tag goes.
    assert berth.ok("rmi", "mine:v1") == "Untagged: mine:v1\n"
    # By id with several tags: docker wants force.
    res = berth("rmi", image_id[7:19])
    assert res.rc == 1
    assert ("conflict: unable to delete %s (must be forced) - image is referenced in "
            "multiple repositories" % image_id[7:19]) in res.err, str(res)
    res = berth("rmi", "nosuch:tag")
    assert res.rc == 1 and "No such image: nosuch:tag" in res.err
    res = berth("tag", "busybox", "Bad Name")
    assert res.rc == 1 and "invalid reference format" in res.err, str(res)
    out = berth.ok("rmi", "-f", image_id[7:19])
    assert sorted(out.splitlines()) == sorted(
        ["Untagged: busybox:latest", "Untagged: mine:v2", f"Deleted: {image_id}"])
    # The layer and blobs went with the last image.
    snap = berth.snapshot()
    assert snap["images"] == [] and snap["layers"] == [] and snap["blobs"] == ["sha256"]


def archive_members(path):
    with tarfile.open(path) as t:
        return {m.name: m for m in t.getmembers()}


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_save_and_load_round_trip(berth, tmp_path, fmt):
    image_id = busybox(berth)
    berth.ok("tag", "busybox", "other/name:2")
    archive = tmp_path / "images.tar"
    berth.ok("save", "--format", fmt, "-o", archive, "busybox", "other/name:2")
    names = archive_members(archive)
    if fmt == "docker-archive":
        assert "manifest.json" in names and "repositories" in names
    else:
        assert "oci-layout" in names and "index.json" in names
    berth.ok("rmi", "-f", image_id)
    assert berth.ok("images", "-q") == ""
    out = berth.ok("load", "-i", archive)
    assert sorted(out.splitlines()) == ["Loaded image: busybox:latest",
                                        "Loaded image: other/name:2"]
    assert berth.inspect("busybox")["Id"] == image_id
    assert berth.inspect("other/name:2")["Id"] == image_id


@pytest.mark.parametrize("compress", ["gzip", "zstd"])
def test_load_compressed_archive_from_stdin(berth, tmp_path, compress):
    image_id = busybox(berth)
    archive = tmp_path / "bb.tar"
    berth.ok("save", "-o", archive, "busybox")
    subprocess.run([compress, "-q", str(archive)], check=True)
    packed = next(tmp_path.glob("bb.tar.*"))
    berth.ok("rmi", "busybox")
    with open(packed, "rb") as f:
        assert berth.ok("load", stdin=f) == "Loaded image: busybox:latest\n"
    assert berth.inspect("busybox")["Id"] == image_id


def test_save_refuses_terminal_and_missing_image(berth, tmp_path):
    busybox(berth)
    res = berth("save", "-o", tmp_path / "x.tar", "busybox", "nosuch")
    assert res.rc == 1 and "No such image: nosuch" in res.err, str(res)
    assert not list(tmp_path.iterdir()), "a failed save left a file"


def rewrite_archive(src, dst, edit):
    """Copies the tar SRC to DST, passing each (member, data) through EDIT,
    which returns the pair to write or None to drop the member."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
        for m in tin.getmembers():
            data = tin.extractfile(m).read() if m.isfile() else None
            res = edit(m, data)
            if res is None:
                continue
            m, data = res
            if data is not None:
                m.size = len(data)
                tout.addfile(m, io.BytesIO(data))
            else:
                tout.addfile(m)


def evil_layer():
    """A layer tar with an entry that climbs out with '..'."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("../../escaped")
        payload = b"owned\n"
        info.size = len(payload)
        t.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def docker_archive(path, layers, tag):
    """Writes a docker-archive at PATH of one image whose layers are the tar
    bytes LAYERS, its config naming their true DiffIDs."""
    diff_ids = ["sha256:" + hashlib.sha256(layer).hexdigest() for layer in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    files = [(f"{i}/layer.tar", layer) for i, layer in enumerate(layers)]
    files.append((config_name, config))
    files.append(("manifest.json", json.dumps([{
        "Config": config_name, "RepoTags": [tag],
        "Layers": [f"{i}/layer.tar" for i in range(len(layers))]}]).encode()))
    with tarfile.open(path, "w") as t:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


EXPECTED_ERROR = {
    "truncated": "Truncated",
    "missing-layer": "layer.tar",
    "bad-blob-digest": "digest mismatch",
    "swapped-layer": "DiffID mismatch",
    "escaping-entry": "../../escaped",
    "bad-manifest": "manifest.json",
}


@pytest.mark.parametrize("damage", sorted(EXPECTED_ERROR))
def test_bad_archive_is_refused_and_store_unchanged(berth, tmp_path, damage):
    busybox(berth)
    good = tmp_path / "good.tar"
    fmt = "oci-archive" if damage == "bad-blob-digest" else "docker-archive"
    berth.ok("save", "--format", fmt, "-o", good, "busybox")
    berth.ok("tag", "busybox", "keep:1")
    berth.ok("rmi", "busybox")  # the layer stays, held by keep:1
    bad = tmp_path / "bad.tar"
    if damage == "truncated":
        data = good.read_bytes()
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "missing-layer":
        rewrite_archive(good, bad, lambda m, d: None if m.name.endswith("layer.tar")
                        else (m, d))
    elif damage == "bad-blob-digest":
        def flip(m, d):
            if m.name.startswith("blobs/sha256/") and d and d[:1] != b"{":
                d = d[:-1] + bytes([d[-1] ^ 1])
            return m, d
        rewrite_archive(good, bad, flip)
    elif damage == "swapped-layer":
        # The store has the layer the config names, but the archive's file
        # is another one: refused all the same, as Docker refuses it.
        def swap(m, d):
            if m.name.endswith("layer.tar"):
                return m, evil_layer()
            return m, d
        rewrite_archive(good, bad, swap)
    elif damage == "escaping-entry":
        docker_archive(bad, [evil_layer()], "evil:1")
    else:
        rewrite_archive(good, bad, lambda m, d: (m, b"[{") if m.name == "manifest.json"
                        else (m, d))
    before = berth.snapshot()
    res = berth("load", "-i", bad)
    assert res.rc == 1, str(res)
    assert res.err.startswith("Error: "), str(res)
    assert EXPECTED_ERROR[damage] in res.err, str(res)
    assert berth.snapshot() == before
    assert not (berth.data_root.parent / "escaped").exists()
    assert not os.path.exists("/escaped")


def test_killed_load_leaves_nothing_visible(berth, tmp_path):
    """A load killed half way shows no image, and the next command of berth
    removes what it left."""
    busybox(berth)
    big = tmp_path / "big"
    big.mkdir()
    (big / "data").write_bytes(os.urandom(64 << 20))
    subprocess.run(["tar", "-C", str(big), "-cf", str(tmp_path / "big.tar"), "."], check=True)
    berth.ok("import", tmp_path / "big.tar", "big:1")
    archive = tmp_path / "big-save.tar"
    berth.ok("save", "-o", archive, "big:1")
    berth.ok("rmi", "big:1")
    before = berth.snapshot()

    argv = [str(berth.binary), "--data-root", str(berth.data_root), "--exec-root",
            str(berth.exec_root), "load"]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    with open(archive, "rb") as f:
        p.stdin.write(f.read(40 << 20))
        p.stdin.flush()
    time.sleep(0.3)
    p.send_signal(signal.SIGKILL)
    p.wait()
    p.stdin.close()
    assert "big" not in berth.ok("images")
    # That command opened the store first: the leftovers are gone now.
    assert berth.snapshot() == before


def test_save_of_a_repository_saves_every_tag(berth, tmp_path):
    image_id = busybox(berth)
    berth.ok("tag", "busybox", "busybox:1.35")
    berth.ok("tag", "busybox", "other:1")
    archive = tmp_path / "repo.tar"
    berth.ok("save", "-o", archive, "busybox")
    with tarfile.open(archive) as t:
        manifest = json.load(t.extractfile("manifest.json"))
    assert sorted(manifest[0]["RepoTags"]) == ["busybox:1.35", "busybox:latest"]
    berth.ok("rmi", "-f", image_id)
    assert sorted(berth.ok("load", "-i", archive).splitlines()) == [
        "Loaded image: busybox:1.35", "Loaded image: busybox:latest"]
