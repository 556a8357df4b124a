"""Fixtures of the berth-over-the-API suite: a private berthd (the Engine
API suite's Daemon) with busybox loaded, and the two clients run against
it, build/berth -H unix://SOCK and the real docker client."""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

from berthd_testlib import BUILD, REPO, Daemon, remove_containers  # noqa: E402


@pytest.fixture(scope="session")
def busybox_archive():
    """A docker-archive of busybox:latest, made offline with berth."""
    work = Path(tempfile.mkdtemp(prefix="berth-cliapi-bb-"))
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


class Clients:
    """Runs the same command line through berth and through docker."""

    def __init__(self, d):
        self.d = d
        self.env = d.env()
        self.env.pop("BERTH_DATA_ROOT", None)
        self.env.pop("BERTH_HOST", None)

    def argv(self, client, args):
        if client == "berth":
            return [str(BUILD / "berth"), "-H", "unix://" + self.d.sock, *args]
        return ["docker", *args]

    def run(self, client, *args, input=None, timeout=60):
        return subprocess.run(self.argv(client, args), env=self.env, capture_output=True,
                              input=input, timeout=timeout)

    def both(self, *args, input=None):
        """(berth's result, docker's result)."""
        return self.run("berth", *args, input=input), self.run("docker", *args, input=input)


@pytest.fixture
def bb(busybox_archive):
    root = tempfile.mkdtemp(prefix="berth-cliapi-")
    d = Daemon(root)
    try:
        d.start()
        d.load(busybox_archive)
        yield Clients(d)
        d.stop()
    finally:
        if d.proc:
            d.proc.kill()
            d.proc.wait()
        remove_containers(d)
        shutil.rmtree(root, ignore_errors=True)
