"""Fixtures of the Engine API suite: berthd started on a private socket,
data root, exec root and pid file, and stopped with SIGTERM at the end of
each test, which then checks that it exited 0 and left neither its socket
nor its pid file; a busybox archive made once per session with the berth
CLI; and a small HTTP client over the unix socket (stdlib only)."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from berthd_testlib import BUILD, REPO, Daemon, remove_containers


@pytest.fixture(scope="session")
def busybox_archive():
    """A docker-archive of busybox:latest, made offline with the berth CLI."""
    work = Path(tempfile.mkdtemp(prefix="berth-api-bb-"))
    try:
        data = work / "data"
        subprocess.run([str(REPO / "scripts" / "mkimage-busybox"), str(BUILD / "berth"),
                        "--data-root", str(data)], check=True, capture_output=True,
                       timeout=120)
        archive = work / "busybox.tar"
        subprocess.run([str(BUILD / "berth"), "--data-root", str(data), "save", "-o",
                        str(archive), "busybox"], check=True, capture_output=True, timeout=60)
        yield archive
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def berthd():
    """A running berthd on private roots; stopped and checked at the end."""
    root = tempfile.mkdtemp(prefix="berth-api-")
    d = Daemon(root)
    try:
        d.start()
        yield d
        d.stop()
    finally:
        if d.proc:
            d.proc.kill()
            d.proc.wait()
        remove_containers(d)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def bb(berthd, busybox_archive):
    """berthd with busybox:latest loaded."""
    berthd.load(busybox_archive)
    return berthd
