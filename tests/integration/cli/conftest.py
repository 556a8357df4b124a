"""Fixtures of the container suites of the berth CLI.

``ctr`` gives a test the ``berth`` fixture's private data and exec roots
(tests/integration/conftest.py) with a busybox image imported from the
session's busybox rootfs tar, and helpers to run containers and read their
state.  Its teardown force-removes every container the test made, then fails
the test if any of them left something on the host: its directory, its
runtime state, a cgroup /sys/fs/cgroup/<hierarchy>/berth/<id>, a process or a
mount; what was left is removed by force so that the host stays clean.
"""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

CGROUP_ROOT = Path("/sys/fs/cgroup")
# The cgroup parent of berth's containers: /berth/<id> in every hierarchy.
CGROUP_PARENT = "berth"
IMAGE = "busybox"


def cgroup_dirs(cid):
    """Where the container CID's cgroups would be."""
    if not CGROUP_ROOT.is_dir():
        return []
    return [h / CGROUP_PARENT / cid for h in sorted(CGROUP_ROOT.iterdir()) if h.is_dir()]


def cgroup_pids(cid):
    pids = set()
    for d in cgroup_dirs(cid):
        try:
            pids.update(int(p) for p in (d / "cgroup.procs").read_text().split())
        except OSError:
            pass
    return sorted(pids)


def mounts_under(path):
    prefix = str(path)
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mp = line.split()[4]
        if mp == prefix or mp.startswith(prefix + "/"):
            found.append(mp)
    return found


class Containers:
    """Runs containers with a Berth (the ``berth`` fixture) on the image
    ``busybox``; every command returns the Berth's Result."""

    def __init__(self, berth):
        self.berth = berth
        self.seen = set()

    @property
    def containers_dir(self):
        return self.berth.data_root / "containers"

    @property
    def runtime_dir(self):
        return self.berth.exec_root / "runtime"

    def __call__(self, *args, **kw):
        return self.berth(*args, **kw)

    def ok(self, *args, **kw):
        return self.berth.ok(*args, **kw)

    def run(self, *args, **kw):
        """`berth run ARGS`: the container's output, status and berth's errors."""
        return self.berth("run", *args, **kw)

    def create(self, *args):
        cid = self.ok("create", *args).strip()
        assert re.fullmatch(r"[0-9a-f]{64}", cid), cid
        self.seen.add(cid)
        return cid

    def ids(self):
        out = self.ok("ps", "-a", "-q", "--no-trunc")
        ids = out.split()
        self.seen.update(ids)
        return ids

    def inspect(self, name):
        info = json.loads(self.ok("container", "inspect", name))
        assert len(info) == 1
        self.seen.add(info[0]["Id"])
        return info[0]

    def state(self, name):
        return self.inspect(name)["State"]

    def wait_for(self, predicate, timeout=10, what="condition"):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what} not reached within {timeout}s")
            time.sleep(0.05)

    def wait_status(self, name, status, timeout=10):
        return self.wait_for(lambda: self.state(name)["Status"] == status, timeout,
                             f"container {name} {status}")

    @staticmethod
    def cgroup_dirs(cid):
        return cgroup_dirs(cid)

    def leftovers(self, cid):
        """What container CID left on the host, as descriptions."""
        found = []
        if (self.containers_dir / cid).exists():
            found.append(f"container dir {self.containers_dir / cid}")
        if (self.runtime_dir / cid).exists():
            found.append(f"runtime state {self.runtime_dir / cid}")
        found += [f"cgroup {d}" for d in cgroup_dirs(cid) if d.exists()]
        found += [f"process {p}" for p in cgroup_pids(cid)]
        found += [f"mount {m}" for m in mounts_under(self.containers_dir / cid)]
        return found

    def force_cleanup(self, cid):
        for pid in cgroup_pids(cid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for m in sorted(mounts_under(self.containers_dir / cid), key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        for d in cgroup_dirs(cid):
            deadline = time.monotonic() + 5
            while d.exists() and time.monotonic() < deadline:
                try:
                    d.rmdir()
                except OSError:
                    time.sleep(0.05)


@pytest.fixture
def ctr(berth, busybox_rootfs_tar):
    """Containers on a fresh data root holding the image busybox (CMD sh,
    no ENV: the PATH comes from berth's default)."""
    berth.ok("import", "-c", 'CMD ["sh"]', str(busybox_rootfs_tar), IMAGE)
    c = Containers(berth)
    yield c
    try:
        ids = c.ids()
    except AssertionError:
        ids = []
    if ids:
        berth("rm", "-f", *ids)
    leaks = []
    deadline = time.monotonic() + 5
    while True:
        leaks = sorted({x for cid in c.seen for x in c.leftovers(cid)})
        if not leaks or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for cid in c.seen:
        c.force_cleanup(cid)
    assert not leaks, f"left behind: {leaks}"
