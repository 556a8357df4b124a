"""Fixtures for the peer suites: a busybox root file system, and containerd
and podman each started privately for one test (own config, sockets, storage,
state and cgroup parent under a scratch directory) with berth-runc as their
OCI runtime.  Teardown stops the peer, removes everything it made, and fails
the test when the peer or the runtime left a process or a populated cgroup.
"""

import json
import os
import resource
import shutil
import signal
import subprocess
import tarfile
import uuid

import pytest

from peerlib import (
    REPO,
    Scratch,
    run,
    run_in_pty,
    runtime_under_test,
    wait_for,
)

# Directories outside a scratch area that the peers create on first use and
# never remove: containerd's shim sockets and podman's blob-info cache.  They
# are removed after the last test when it was this test run that made them.
HOST_DIRS = ("/run/containerd", "/var/lib/containers", "/run/docker", "/var/lib/docker",
             "/etc/docker")


def _require(*commands):
    missing = [c for c in commands if shutil.which(c) is None]
    if missing:
        pytest.skip(f"peer not installed: {', '.join(missing)} (apt-get install containerd podman)")


@pytest.fixture(scope="session", autouse=True)
def _host_dirs():
    made = [d for d in HOST_DIRS if not os.path.exists(d)]
    yield
    for d in made:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def peer_runtime():
    """Absolute path of the OCI runtime under test ($BERTH_RUNC).  (Named so
    as not to shadow the `runtime` fixture of tests/integration/conftest.py.)"""
    if os.geteuid() != 0:
        pytest.skip("the peer suites need root")
    path = runtime_under_test().resolve()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.skip(f"runtime under test not built: {path} (build it or set BERTH_RUNC)")
    return path


@pytest.fixture(scope="session")
def busybox_rootfs():
    """A busybox root file system made by scripts/mkrootfs; removed after
    the last test."""
    scratch = Scratch("rootfs")
    rootfs = scratch.path / "rootfs"
    res = run([REPO / "scripts" / "mkrootfs", rootfs])
    if res.returncode != 0:
        scratch.sweep()
        pytest.skip(f"cannot make a busybox rootfs: {res.stderr.strip()}")
    yield rootfs
    scratch.sweep()


@pytest.fixture(scope="session")
def busybox_tar(busybox_rootfs):
    """The busybox root file system as a tar archive, for podman import."""
    path = busybox_rootfs.parent / "rootfs.tar"
    with tarfile.open(path, "w") as tar:
        tar.add(busybox_rootfs, arcname=".")
    return path


def _finish(scratch, leaks, ids, runtime, root=None):
    """Sweeps scratch and checks that the runtime no longer knows any of the
    containers ids; fails the test with everything that was left behind."""
    base = [runtime] + (["--root", root] if root else [])
    try:
        for cid in ids:
            res = run([*base, "state", cid], timeout=20)
            if res.returncode == 0 and _state_id(res.stdout) == cid:
                state = " ".join(res.stdout.split())[:300]
                leaks.append(f"runtime still has container {cid}: {state}")
                run([*base, "delete", "--force", cid], timeout=20)
    except AssertionError as e:  # the runtime hung: still sweep
        leaks.append(str(e))
    leaks += scratch.sweep()
    if leaks:
        pytest.fail("left behind:\n  " + "\n  ".join(leaks), pytrace=False)


def _state_id(text):
    try:
        return json.loads(text).get("id")
    except (ValueError, AttributeError):
        return None


class Containerd:
    """A containerd daemon of its own: config, sockets, root, state, the
    runtime's --root and the containers' cgroups all under one scratch area."""

    def __init__(self, scratch, runtime, rootfs):
        self.scratch = scratch
        self.runtime = runtime
        self.rootfs = rootfs
        d = scratch.path
        self.sock = d / "containerd.sock"
        self.runtime_root = d / "runtime"
        self.fifo_dir = d / "fifo"
        self.ids = []
        self.proc = None
        config = d / "config.toml"
        config.write_text(
            f"""version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = "{self.sock}"

[ttrpc]
  address = "{self.sock}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
"""
        )
        self.config = config

    def start(self):
        log = open(self.scratch.path / "containerd.log", "wb")
        self.proc = subprocess.Popen(
            ["containerd", "--config", self.config, "--address", self.sock],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"containerd exited:\n{self.log()}")
            return self.sock.exists() and self.ctr("version", timeout=10).returncode == 0

        wait_for(up, timeout=30, what="containerd to serve")

    def log(self):
        return (self.scratch.path / "containerd.log").read_text(errors="replace")

    def ctr(self, *args, input=None, timeout=60):
        return run(["ctr", "--address", self.sock, *args], input=input, timeout=timeout)

    def new_id(self):
        cid = "peer-" + uuid.uuid4().hex[:12]
        self.ids.append(cid)
        return cid

    def run_flags(self, cid):
        """ctr run flags that send the container to the runtime under test,
        with its state, fifos and cgroup inside the scratch area."""
        return [
            "--runc-binary",
            self.runtime,
            "--runc-root",
            self.runtime_root,
            "--fifo-dir",
            self.fifo_dir,
            "--cgroup",
            f"{self.scratch.cgroup}/{cid}",
        ]

    def run_argv(self, cid, *cmd, flags=()):
        return ["ctr", "--address", self.sock, "run", *flags, *self.run_flags(cid),
                "--rootfs", self.rootfs, cid, *cmd]

    def task_status(self, cid):
        """(pid, STATUS) of task cid as `ctr task ls` shows it, or None."""
        for line in self.ctr("task", "ls").stdout.splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 3 and fields[0] == cid:
                return int(fields[1]), fields[2]
        return None

    def stop(self):
        """Deletes every task and container, then stops the daemon.
        Returns what could not be stopped cleanly."""
        leaks = []
        if self.proc is None:
            return leaks
        if self.proc.poll() is None:
            try:
                for cid in self.ctr("task", "ls", "-q").stdout.split():
                    res = self.ctr("task", "delete", "--force", cid)
                    if res.returncode != 0:
                        leaks.append(f"ctr task delete --force {cid}: {res.stderr.strip()}")
                for cid in self.ctr("container", "ls", "-q").stdout.split():
                    self.ctr("container", "rm", cid)
            except AssertionError as e:  # a timeout: stop the daemon anyway
                leaks.append(str(e))
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            leaks.append("containerd ignored SIGTERM")
            self.proc.kill()
            self.proc.wait()
        return leaks


@pytest.fixture
def containerd(peer_runtime, busybox_rootfs):
    """A running private containerd whose containers use the runtime under
    test; stopped and swept after the test."""
    _require("containerd", "ctr", "containerd-shim-runc-v2")
    scratch = Scratch("containerd")
    daemon = Containerd(scratch, peer_runtime, busybox_rootfs)
    try:
        daemon.start()
    except BaseException:
        daemon.stop()
        scratch.sweep()
        raise
    yield daemon
    leaks = daemon.stop()
    _finish(scratch, leaks, daemon.ids, peer_runtime, root=daemon.runtime_root / "default")


class Podman:
    """podman with storage, run root, tmpdir, lock files and events of its
    own, the cgroupfs manager, no network, and the runtime under test."""

    IMAGE = "localhost/berth-busybox:peers"

    def __init__(self, scratch, runtime):
        self.scratch = scratch
        self.runtime = runtime
        d = scratch.path
        (d / "containers.conf").write_text(
            f"""[containers]
netns = "none"
# podman's default limits (nofile 1048576) exceed what a process without
# CAP_SYS_RESOURCE may set, and podman lowers its own nproc limit to 32768
# when it cannot raise it: ask for no more than the runtime may give.
default_ulimits = ["nofile={_hard_nofile()}:{_hard_nofile()}", "nproc=32768:32768"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
lock_type = "file"
runtime_supports_json = ["crun", "runc", "{runtime.name}"]
"""
        )
        driver = "overlay" if _has_overlayfs() else "vfs"
        (d / "storage.conf").write_text(
            f"""[storage]
driver = "{driver}"
graphroot = "{d}/root"
runroot = "{d}/runroot"
"""
        )
        self.env = dict(
            os.environ,
            CONTAINERS_CONF=str(d / "containers.conf"),
            CONTAINERS_STORAGE_CONF=str(d / "storage.conf"),
            CONTAINERS_REGISTRIES_CONF=str(d / "registries.conf"),
        )
        (d / "registries.conf").write_text("unqualified-search-registries = []\n")
        self.global_flags = [
            "--root", d / "root",
            "--runroot", d / "runroot",
            "--tmpdir", d / "tmp",
            "--storage-driver", driver,
            "--cgroup-manager", "cgroupfs",
            "--events-backend", "file",
            "--runtime", runtime,
        ]

    def __call__(self, *args, input=None, timeout=60):
        return run(["podman", *self.global_flags, *args], env=self.env, input=input,
                   timeout=timeout)

    def in_pty(self, *args, timeout=60):
        """Runs podman ARGS on a new terminal; returns (status, output)."""
        return run_in_pty(["podman", *self.global_flags, *args], env=self.env, timeout=timeout)

    def run_flags(self):
        """Flags for podman run/create: no network, cgroups in the scratch."""
        return ["--network", "none", "--cgroup-parent", self.scratch.cgroup]

    def container_ids(self):
        """Every container this podman made, removed ones included, from its
        event log."""
        ids = []
        log = self.scratch.path / "tmp" / "events" / "events.log"
        if log.exists():
            for line in log.read_text().splitlines():
                event = json.loads(line)
                if event.get("Type") == "container" and event["ID"] not in ids:
                    ids.append(event["ID"])
        return ids

    def inspect(self, name, fmt):
        res = self("inspect", "--format", fmt, name)
        assert res.returncode == 0, res.stderr
        return res.stdout.strip()

    def cgroup_of(self, name):
        """The container's cgroup path relative to each hierarchy."""
        cid = self.inspect(name, "{{.Id}}")
        return f"{self.scratch.cgroup}/libpod-{cid}"


def _hard_nofile():
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def _has_overlayfs():
    with open("/proc/filesystems") as f:
        if any(line.split()[-1] == "overlay" for line in f):
            return True
    try:
        return subprocess.run(["modprobe", "-q", "overlay"], capture_output=True).returncode == 0
    except OSError:
        return False


@pytest.fixture
def podman(peer_runtime, busybox_tar):
    """A private podman with the busybox image imported, using the runtime
    under test; every container is removed and the storage swept after."""
    _require("podman", "conmon")
    scratch = Scratch("podman")
    pm = Podman(scratch, peer_runtime)
    try:
        res = pm("import", busybox_tar, Podman.IMAGE, timeout=120)
        if res.returncode != 0:
            raise AssertionError(f"podman import failed: {res.stderr}")
        yield pm
    finally:
        leaks = []
        try:
            res = pm("rm", "--all", "--force", "--time", "0", timeout=120)
            if res.returncode != 0:
                leaks.append(f"podman rm --all --force: {res.stderr.strip()}")
        except AssertionError as e:
            leaks.append(str(e))
        _finish(scratch, leaks, pm.container_ids(), peer_runtime)



class Dockerd:
    """Debian's dockerd with everything of its own under one scratch area:
    socket, data root, exec root (its managed containerd lives there), pid
    file, client config, and the containers' cgroups; no bridge, no iptables,
    so it leaves the host's network alone.  Its runtime is runc."""

    IMAGE = "busybox:latest"

    def __init__(self, scratch):
        self.scratch = scratch
        d = scratch.path
        self.sock = d / "docker.sock"
        self.env = dict(os.environ, DOCKER_HOST=f"unix://{self.sock}",
                        DOCKER_CONFIG=str(d / "client"))
        self.log = open(d / "dockerd.log", "wb")
        self.proc = subprocess.Popen(
            ["dockerd", "--data-root", d / "data", "--exec-root", d / "exec",
             "--pidfile", d / "dockerd.pid", "-H", f"unix://{self.sock}",
             "--bridge", "none", "--iptables=false", "--ip6tables=false",
             "--cgroup-parent", scratch.cgroup, "--log-level", "warn"],
            stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        wait_for(lambda: self.proc.poll() is not None or
                 run(["docker", "version"], env=self.env).returncode == 0,
                 timeout=60, what="dockerd to answer")
        if self.proc.poll() is not None:
            raise AssertionError("dockerd exited: " + (d / "dockerd.log").read_text())

    def __call__(self, *args, input=None, timeout=120):
        return run(["docker", *args], env=self.env, input=input, timeout=timeout)

    def ok(self, *args, **kw):
        res = self(*args, **kw)
        assert res.returncode == 0, f"docker {args}: {res.stderr}"
        return res.stdout

    def stop(self):
        leaks = []
        res = self("ps", "-aq")
        if res.returncode == 0 and res.stdout.strip():
            leaks.append(f"dockerd still has containers: {res.stdout.split()}")
            self("rm", "-f", *res.stdout.split())
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        return leaks


@pytest.fixture(scope="session")
def dockerd(busybox_tar):
    """A private dockerd (one per session: it takes seconds to start) with
    busybox:latest imported offline from the busybox root file system."""
    _require("dockerd", "docker")
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    scratch = Scratch("dockerd")
    daemon = Dockerd(scratch)
    try:
        daemon.ok("import", "--change", 'CMD ["sh"]', busybox_tar, Dockerd.IMAGE)
    except BaseException:
        daemon.stop()
        scratch.sweep()
        raise
    yield daemon
    leaks = daemon.stop()
    leaks += scratch.sweep()
    if leaks:
        pytest.fail("dockerd left behind:\n  " + "\n  ".join(leaks), pytrace=False)
