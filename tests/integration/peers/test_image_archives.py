"""Image archives between berth and real peers: what `docker save` writes
loads into berth and runs with the same output; what berth saves loads into
dockerd and into podman and runs; berth's OCI layout is read by umoci and
skopeo.  Each peer is private (see conftest.py); berth runs on its own data
root (the `berth` fixture of tests/integration/conftest.py)."""

import json
import shutil
import subprocess
import tarfile

import pytest

from peerlib import run

# A command whose output depends on the image's files, links and config.
PROBE = ["sh", "-c", "echo hello; wc -l </etc/passwd; ls /bin | wc -l; "
         "cat /etc/motd 2>&1; ls /etc/group 2>&1; echo $PATH"]


def berth_run(berth, image, argv=PROBE):
    res = berth("run", "--rm", image, *argv)
    assert res.rc == 0, str(res)
    return res.out


def docker_run(dockerd, image, argv=PROBE):
    return dockerd.ok("run", "--rm", "--network", "none", image, *argv)


def docker_layered(dockerd, name):
    """An image of two layers whose top one adds /etc/motd and deletes
    /etc/group (a whiteout), made with docker commit."""
    dockerd.ok("run", "--name", "mk-layered", "--network", "none", "busybox:latest",
               "sh", "-c", "echo layered >/etc/motd && rm /etc/group")
    dockerd.ok("commit", "mk-layered", name)
    dockerd.ok("rm", "mk-layered")


def test_docker_save_loads_into_berth_and_runs_alike(dockerd, berth, tmp_path):
    docker_layered(dockerd, "layered:1")
    archive = tmp_path / "docker.tar"
    dockerd.ok("save", "-o", str(archive), "busybox:latest", "layered:1")
    try:
        out = berth.ok("load", "-i", archive)
        assert sorted(out.splitlines()) == ["Loaded image: busybox:latest",
                                            "Loaded image: layered:1"]
        for image in ("busybox:latest", "layered:1"):
            theirs = json.loads(dockerd.ok("image", "inspect", image))[0]
            ours = berth.inspect(image)
            for key in ("Id", "RepoTags", "Created", "Container", "ContainerConfig",
                        "DockerVersion", "Author", "Comment", "Config", "Architecture", "Os",
                        "RootFS", "Size"):
                assert ours[key] == theirs[key], f"{image} {key}: {ours[key]!r} != {theirs[key]!r}"
            assert berth_run(berth, image) == docker_run(dockerd, image)
        assert "layered" in berth_run(berth, "layered:1")
        assert len(berth.inspect("layered:1")["RootFS"]["Layers"]) == 2
    finally:
        dockerd("rmi", "layered:1")


def berth_layered(berth, name):
    """berth's own two-layer image: busybox plus a committed change."""
    berth.import_busybox()
    res = berth("run", "--name", "mk-layered", "busybox", "sh", "-c",
                "echo layered >/etc/motd && rm /etc/group")
    assert res.rc == 0, str(res)
    berth.ok("commit", "mk-layered", name)
    berth.ok("rm", "mk-layered")


def test_berth_save_loads_into_docker_and_runs_alike(dockerd, berth, tmp_path):
    berth_layered(berth, "berth-layered:1")
    archive = tmp_path / "berth.tar"
    berth.ok("save", "-o", archive, "berth-layered:1")
    try:
        out = dockerd.ok("load", "-i", str(archive))
        assert "Loaded image: berth-layered:1" in out
        docker_id = dockerd.ok("image", "inspect", "-f", "{{.Id}}", "berth-layered:1").strip()
        assert docker_id == berth.inspect("berth-layered:1")["Id"]
        assert docker_run(dockerd, "berth-layered:1") == berth_run(berth, "berth-layered:1")
        assert "layered" in berth_run(berth, "berth-layered:1")
    finally:
        dockerd("rmi", "berth-layered:1")


def test_berth_save_loads_into_podman_and_runs(podman, berth, tmp_path):
    berth_layered(berth, "localhost/berth-layered:1")
    for fmt in ("docker-archive", "oci-archive"):
        archive = tmp_path / f"{fmt}.tar"
        berth.ok("save", "--format", fmt, "-o", archive, "localhost/berth-layered:1")
        res = podman("load", "-i", archive, timeout=120)
        assert res.returncode == 0, res.stderr
        assert "localhost/berth-layered:1" in res.stdout + res.stderr
        res = podman("run", "--rm", *podman.run_flags(), "localhost/berth-layered:1", *PROBE)
        assert res.returncode == 0, res.stderr
        assert res.stdout == berth_run(berth, "localhost/berth-layered:1")
        assert podman("rmi", "localhost/berth-layered:1").returncode == 0


def test_berth_oci_layout_read_by_umoci_and_skopeo(berth, tmp_path):
    for tool in ("umoci", "skopeo"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (apt-get install {tool})")
    image_id = berth.import_busybox()
    archive = tmp_path / "oci.tar"
    berth.ok("save", "--format", "oci-archive", "-o", archive, "busybox:latest")
    layout = tmp_path / "layout"
    with tarfile.open(archive) as t:
        t.extractall(layout)

    res = run(["skopeo", "inspect", f"oci:{layout}:latest"])
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["Os"] == "linux" and len(info["Layers"]) == 1
    res = run(["skopeo", "inspect", "--config", f"oci:{layout}:latest"])
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["config"]["Cmd"] == ["sh"]
    res = run(["skopeo", "inspect", f"oci-archive:{archive}:latest"])
    assert res.returncode == 0, res.stderr

    res = run(["umoci", "ls", "--layout", layout])
    assert res.returncode == 0, res.stderr
    assert "latest" in res.stdout.split()
    res = run(["umoci", "stat", "--image", f"{layout}:latest", "--json"])
    assert res.returncode == 0, res.stderr
    bundle = tmp_path / "bundle"
    res = run(["umoci", "unpack", "--image", f"{layout}:latest", bundle])
    assert res.returncode == 0, res.stderr
    assert (bundle / "rootfs" / "bin" / "busybox").is_file()
    assert (bundle / "rootfs" / "bin" / "sh").is_symlink()
    config = json.loads((bundle / "config.json").read_text())
    assert config["process"]["args"] == ["sh"]
    # The config umoci saw is the one whose digest is the image id.
    manifest_digest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
    manifest = json.loads((layout / "blobs" / "sha256" / manifest_digest[7:]).read_text())
    assert manifest["config"]["digest"] == image_id
