"""Fixtures shared by berth's integration suites.

The OCI runtime under test is the binary named by BERTH_RUNC (default
<repo>/build/berth-runc), driven through runc's command line.  Because the
command line is runc's, every suite can be checked against runc itself
(BERTH_RUNC=/usr/sbin/runc); tests of behaviour only berth promises carry the
``berth_only`` marker and are skipped then.

Each test gets its own state root (``--root``), bundles made from one busybox
root file system built per session by scripts/mkrootfs, and a teardown that
force-deletes what the test left and then fails the test if any process,
state entry, cgroup or mount of its containers survived.
"""

import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CGROUP_ROOT = Path("/sys/fs/cgroup")
# Every bundle made here puts its container in /berth-test/<bundle id>.
TEST_CGROUP_PARENT = "berth-test"
# berth's own default when a config has no cgroupsPath (checked for leaks too).
DEFAULT_CGROUP_PARENT = "berth"
TAG_VAR = "BERTH_TEST_ID"
COMMAND_TIMEOUT = 30

DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def runtime_binary():
    """Path of the runtime under test (BERTH_RUNC or the default build)."""
    env = os.environ.get("BERTH_RUNC")
    if env:
        return Path(env)
    return REPO / "build" / "berth-runc"


_IS_RUNC = None


def runtime_is_runc():
    """True when the runtime under test is runc rather than berth-runc."""
    global _IS_RUNC
    if _IS_RUNC is None:
        binary = runtime_binary()
        try:
            out = subprocess.run([str(binary), "--version"], capture_output=True,
                                 text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        _IS_RUNC = out.startswith("runc version")
    return _IS_RUNC


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "berth_only(reason=...): checks what berth promises and the runc "
        "used for validation does not; skipped when the runtime under test is runc")


def pytest_collection_modifyitems(config, items):
    if not runtime_is_runc():
        return
    for item in items:
        mark = item.get_closest_marker("berth_only")
        if mark:
            reason = mark.kwargs.get("reason", "berth-specific behaviour")
            item.add_marker(pytest.mark.skip(reason=f"{reason} (runtime is runc)"))


def default_config(args, tag):
    """The config `runc spec` writes, with terminal off and ARGS as the process."""
    return {
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": list(args),
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm",
                f"{TAG_VAR}={tag}",
            ],
            "cwd": "/",
            "capabilities": {
                "bounding": list(DEFAULT_CAPS),
                "effective": list(DEFAULT_CAPS),
                "permitted": list(DEFAULT_CAPS),
                "ambient": list(DEFAULT_CAPS),
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "runc",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                         "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
        ],
        "linux": {
            "cgroupsPath": f"/{TEST_CGROUP_PARENT}/{tag}",
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
            ],
            "readonlyPaths": [
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
            ],
        },
    }


def new_id(prefix="bt"):
    return f"{prefix}-{secrets.token_hex(5)}"


class Result:
    """Outcome of one runtime command.  Assertion messages should use str(result):
    pytest shortens the repr of objects but prints strings whole."""

    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def __str__(self):
        return (f"<{' '.join(map(str, self.argv))}: rc={self.rc}\n"
                f"--- stdout\n{self.out}--- stderr\n{self.err}>")

    __repr__ = __str__


class Bundle:
    """An OCI bundle: a private copy of the busybox rootfs and a config dict."""

    def __init__(self, path, tag, config):
        self.path = path
        self.id = tag
        self.config = config

    @property
    def rootfs(self):
        return self.path / self.config["root"]["path"]

    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config["linux"]

    @property
    def cgroups_path(self):
        return self.linux.get("cgroupsPath")

    def cgroup_dir(self, controller):
        return CGROUP_ROOT / controller / self.cgroups_path.lstrip("/")

    def write(self):
        (self.path / "config.json").write_text(json.dumps(self.config, indent=1))
        return self

    def add_mount(self, destination, mtype, source, options=None):
        m = {"destination": destination, "type": mtype, "source": str(source)}
        if options is not None:
            m["options"] = list(options)
        self.config["mounts"].append(m)
        return m

    def bind(self, host_path, destination, *options):
        return self.add_mount(destination, "bind", host_path, ["bind", *options])

    def namespace(self, ns_type):
        for ns in self.linux["namespaces"]:
            if ns["type"] == ns_type:
                return ns
        return None

    def set_namespace(self, ns_type, path=None):
        ns = self.namespace(ns_type)
        if ns is None:
            ns = {"type": ns_type}
            self.linux["namespaces"].append(ns)
        if path is not None:
            ns["path"] = str(path)
        return ns

    def resources(self):
        return self.linux.setdefault("resources", {})


def _proc_start_time(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return fields[0], fields[19]  # state, starttime


class Runtime:
    """Runs the runtime under test with a private --root and tracks what it made."""

    def __init__(self, binary, workdir, base_rootfs):
        self.binary = Path(binary)
        self.workdir = workdir
        self.root = workdir / "state"
        self.base_rootfs = base_rootfs
        self.is_runc = runtime_is_runc()
        self.ids = []
        self.bundles = []
        self.pids = {}
        self.popens = []
        self.finalizers = []

    # ---- running commands

    def argv(self, *args):
        return [str(self.binary), "--root", str(self.root), *map(str, args)]

    def __call__(self, *args, timeout=COMMAND_TIMEOUT, input=None, env=None, cwd=None):
        """Runs the runtime with ARGS; returns a Result once the runtime has exited.

        Output goes through files, not pipes: a container started by the
        command inherits them and may hold them open long after."""
        argv = self.argv(*args)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            stdin = subprocess.DEVNULL
            if input is not None:
                stdin = tempfile.TemporaryFile()
                stdin.write(input.encode())
                stdin.seek(0)
            try:
                proc = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=err, env=env,
                                        cwd=cwd, start_new_session=True)
            finally:
                if input is not None:
                    stdin.close()
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                rc = None
            out.seek(0)
            err.seek(0)
            res = Result(argv, rc, out.read().decode(errors="replace"),
                         err.read().decode(errors="replace"))
        if rc is None:
            raise AssertionError(f"timed out after {timeout}s: {res}")
        return res

    def ok(self, *args, **kw):
        res = self(*args, **kw)
        assert res.rc == 0, str(res)
        return res

    def popen(self, *args, **kw):
        """Starts the runtime in the background (output discarded unless redirected)."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        proc = subprocess.Popen(self.argv(*args), start_new_session=True, **kw)
        self.popens.append(proc)
        return proc

    # ---- lifecycle shortcuts

    def track(self, cid, bundle=None):
        if cid not in self.ids:
            self.ids.append(cid)
        if bundle is not None and bundle not in self.bundles:
            self.bundles.append(bundle)

    def create(self, bundle, *extra, cid=None, check=True, **kw):
        cid = bundle.id if cid is None else cid
        self.track(cid, bundle)
        res = self("create", "--bundle", bundle.path, *extra, cid, **kw)
        if check:
            assert res.rc == 0, str(res)
        return res

    def start(self, cid, check=True):
        res = self("start", cid)
        if check:
            assert res.rc == 0, str(res)
        return res

    def run(self, bundle, *extra, cid=None, **kw):
        """`run` in the foreground; the result carries the container's output."""
        cid = bundle.id if cid is None else cid
        self.track(cid, bundle)
        return self("run", "--bundle", bundle.path, *extra, cid, **kw)

    def run_detached(self, bundle, *extra, cid=None):
        """`run --detach`; returns the state of the running container."""
        cid = bundle.id if cid is None else cid
        self.track(cid, bundle)
        res = self("run", "--detach", "--bundle", bundle.path, *extra, cid)
        assert res.rc == 0, str(res)
        return self.state(cid)

    def state(self, cid):
        res = self.ok("state", cid)
        st = json.loads(res.out)
        if st.get("pid"):
            self._remember_pid(cid, st["pid"])
        return st

    def status(self, cid):
        res = self("state", cid)
        if res.rc != 0:
            return None
        return json.loads(res.out).get("status")

    def kill(self, cid, sig="KILL", *extra):
        return self.ok("kill", *extra, cid, sig)

    def delete(self, cid, force=False):
        return self.ok("delete", *(["--force"] if force else []), cid)

    def exec(self, cid, *cmd, opts=(), **kw):
        """`exec [OPTS] CID CMD...`: options go before the id, as runc wants them."""
        return self("exec", *opts, cid, *cmd, **kw)

    def wait_status(self, cid, want, timeout=10):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.status(cid)
            if last == want:
                return
            time.sleep(0.05)
        raise AssertionError(f"container {cid} is {last!r}, wanted {want!r} within {timeout}s")

    @staticmethod
    def wait_for(predicate, timeout=10, interval=0.05, what="condition"):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what} not reached within {timeout}s")
            time.sleep(interval)

    def _remember_pid(self, cid, pid):
        st = _proc_start_time(pid)
        if st is not None:
            self.pids.setdefault((cid, pid), st[1])

    # ---- host-side helpers

    def mkdir(self, name, mode=0o755):
        d = self.workdir / name
        d.mkdir(parents=True, exist_ok=True)
        d.chmod(mode)
        return d

    def on_teardown(self, fn):
        """Runs FN (no arguments) before the leak checks, last registered first."""
        self.finalizers.append(fn)

    # ---- leak checks

    def leftovers(self, cid, bundle=None):
        """What CID (and BUNDLE) left on the host: a list of descriptions, empty if clean."""
        found = []
        if self.root.is_dir():
            for entry in self.root.iterdir():
                if cid and cid in entry.name:
                    found.append(f"state entry {entry}")
        for d in self._cgroup_dirs(cid, bundle):
            if d.exists():
                found.append(f"cgroup {d}")
        for mp in self._mounts(cid, bundle):
            found.append(f"mount {mp}")
        for pid, why in self._processes(cid, bundle):
            found.append(f"process {pid} ({why})")
        return found

    def _cgroup_dirs(self, cid, bundle):
        dirs = []
        for hier in sorted(CGROUP_ROOT.iterdir()):
            if cid and "/" not in cid and cid not in (".", ".."):
                dirs.append(hier / DEFAULT_CGROUP_PARENT / cid)
            if bundle is not None:
                dirs.append(hier / TEST_CGROUP_PARENT / bundle.id)
        return dirs

    def _mounts(self, cid, bundle):
        needles = []
        if bundle is not None:
            needles.append(str(bundle.path))
        needles.append(str(self.root))
        found = []
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            mp = line.split()[4]
            if any(mp == n or mp.startswith(n + "/") for n in needles):
                found.append(mp)
        return found

    def _processes(self, cid, bundle):
        tags = set()
        if bundle is not None:
            tags.add(f"{TAG_VAR}={bundle.id}".encode())
        found = []
        me = os.getpid()
        for p in Path("/proc").iterdir():
            if not p.name.isdigit() or int(p.name) == me:
                continue
            try:
                environ = (p / "environ").read_bytes().split(b"\0")
                cmdline = (p / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if tags & set(environ):
                found.append((int(p.name), "tagged environment"))
            elif cid and len(cid) >= 6 and cid.encode() in cmdline:
                found.append((int(p.name), b" ".join(cmdline).decode(errors="replace")))
        for (pcid, pid), start in self.pids.items():
            if pcid != cid:
                continue
            st = _proc_start_time(pid)
            if st is not None and st[1] == start and st[0] != "Z" and \
                    all(pid != f[0] for f in found):
                found.append((pid, "container process"))
        return found

    # ---- teardown

    def teardown(self):
        for fn in reversed(self.finalizers):
            try:
                fn()
            except Exception:  # noqa: BLE001 - the leak check below still runs
                pass
        for proc in self.popens:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        ids = list(self.ids)
        if self.root.is_dir():
            ids += [e.name for e in self.root.iterdir() if e.is_dir() and e.name not in ids]
        for cid in ids:
            if cid and "/" not in cid and cid not in (".", ".."):
                try:
                    self("delete", "--force", cid, timeout=20)
                except AssertionError:
                    pass
        by_id = {b.id: b for b in self.bundles}
        keys = [(cid, by_id.pop(cid, None)) for cid in ids] + [(None, b) for b in by_id.values()]
        leaks = []
        deadline = time.monotonic() + 3
        while True:
            leaks = sorted({x for cid, b in keys for x in self.leftovers(cid, b)})
            if not leaks or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        for cid, b in keys:
            force_cleanup(self, cid, b)
        return leaks


def force_cleanup(rt, cid, bundle):
    """Removes by force what the runtime left: processes, cgroups, mounts."""
    for pid, _ in rt._processes(cid, bundle):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for d in rt._cgroup_dirs(cid, bundle):
        remove_cgroup(d)
    for mp in sorted(rt._mounts(cid, bundle), key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], capture_output=True)


def remove_cgroup(d):
    """Thaws, empties and removes cgroup directory D and its children."""
    if not d.is_dir():
        return
    for child in sorted((p for p in d.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        remove_cgroup(child)
    freezer = d / "freezer.state"
    if freezer.exists():
        try:
            freezer.write_text("THAWED")
        except OSError:
            pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            pids = (d / "cgroup.procs").read_text().split()
        except OSError:
            pids = []
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            d.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def runtime_bin():
    """The runtime binary under test; the session fails if it is missing."""
    binary = runtime_binary()
    if not os.access(binary, os.X_OK):
        pytest.fail(f"runtime {binary} not found: build it (make) or set BERTH_RUNC")
    return binary


@pytest.fixture(scope="session")
def test_base_dir():
    """A session directory every test's work dir lives in.

    Mode 0711 so that a container whose root is a mapped (non-host-root) user
    can still reach its bundle."""
    base = Path(tempfile.mkdtemp(prefix="berth-it-", dir=os.environ.get("BERTH_TEST_TMPDIR",
                                                                         "/tmp")))
    base.chmod(0o711)
    yield base
    for line in reversed(Path("/proc/self/mountinfo").read_text().splitlines()):
        mp = line.split()[4]
        if mp.startswith(str(base) + "/"):
            subprocess.run(["umount", "-l", mp], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)
    for hier in CGROUP_ROOT.iterdir():
        try:
            (hier / TEST_CGROUP_PARENT).rmdir()
        except OSError:
            pass


@pytest.fixture(scope="session")
def base_rootfs(test_base_dir):
    """A busybox root file system made once per session by scripts/mkrootfs."""
    rootfs = test_base_dir / "rootfs"
    subprocess.run([str(REPO / "scripts" / "mkrootfs"), str(rootfs)], check=True,
                   capture_output=True)
    return rootfs


_TEST_COUNTER = iter(range(1, 1 << 30))


@pytest.fixture
def runtime(runtime_bin, test_base_dir, base_rootfs, request):
    """A Runtime with its own --root; teardown force-deletes and checks for leaks."""
    workdir = test_base_dir / f"t{next(_TEST_COUNTER):03d}"
    workdir.mkdir()
    workdir.chmod(0o711)
    (workdir / "test-name").write_text(request.node.nodeid + "\n")
    rt = Runtime(runtime_bin, workdir, base_rootfs)
    yield rt
    leaks = rt.teardown()
    if leaks:
        pytest.fail("left behind after force delete:\n  " + "\n  ".join(leaks), pytrace=False)


@pytest.fixture
def make_bundle(runtime):
    """make_bundle(args, **kw) -> Bundle with runc-spec defaults and a private rootfs.

    Keyword arguments: terminal (bool), readonly (root.readonly, default True as
    in `runc spec`), write (default True: write config.json now; tests that
    change bundle.config afterwards call bundle.write() again)."""

    def make(args=("true",), terminal=False, readonly=True, write=True, tag=None):
        tag = tag or new_id()
        path = runtime.workdir / tag
        path.mkdir()
        path.chmod(0o711)
        subprocess.run(["cp", "-a", str(runtime.base_rootfs), str(path / "rootfs")], check=True)
        config = default_config(args, tag)
        config["process"]["terminal"] = terminal
        config["root"]["readonly"] = readonly
        bundle = Bundle(path, tag, config)
        runtime.bundles.append(bundle)
        if write:
            bundle.write()
        return bundle

    return make


class Pty:
    """The master side of a container's terminal, as received over a console socket."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = b""

    def write(self, text):
        os.write(self.fd, text.encode())

    def read_until(self, pattern, timeout=10):
        """Reads until regex PATTERN matches the output so far; returns the match."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"terminal never printed {pattern!r}; got {self.buf!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:  # EIO: every slave side is closed
                chunk = b""
            if not chunk:
                raise AssertionError(f"terminal closed before {pattern!r}; got {self.buf!r}")
            self.buf += chunk

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class ConsoleSocket:
    """A unix socket server that receives a pty master fd with SCM_RIGHTS."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(1)
        self.ptys = []

    def receive(self, timeout=15):
        """Waits for the runtime to send the terminal; returns a Pty."""
        self.sock.settimeout(timeout)
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(timeout)
            _msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 4)
        assert fds, "console socket: no file descriptor received"
        for extra in fds[1:]:
            os.close(extra)
        pty = Pty(fds[0])
        self.ptys.append(pty)
        return pty

    def close(self):
        for pty in self.ptys:
            pty.close()
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


@pytest.fixture
def console_socket(runtime):
    """console_socket() -> ConsoleSocket listening in the test's work dir."""
    made = []

    def make():
        cs = ConsoleSocket(runtime.workdir / f"cs{len(made)}.sock")
        made.append(cs)
        return cs

    yield make
    for cs in made:
        cs.close()


# --- the berth command line, daemon-less, on a private data root ---------

STORE_TABLES = ("images", "layers", "image_layers", "image_references", "image_users")


def berth_binary():
    """Path of the berth CLI under test (BERTH or <repo>/build/berth)."""
    return Path(os.environ.get("BERTH") or REPO / "build" / "berth")


class Berth:
    """`berth --data-root D --exec-root E ...` on directories of its own.
    Calls return a Result; ok() asserts success and returns stdout."""

    def __init__(self, binary, base):
        self.binary = binary
        self.base = base
        self.data_root = base / "data"
        self.exec_root = base / "exec"

    def __call__(self, *args, input=None, stdin=None, timeout=COMMAND_TIMEOUT * 4):
        argv = [str(self.binary), "--data-root", str(self.data_root), "--exec-root",
                str(self.exec_root), *map(str, args)]
        if stdin is not None:
            p = subprocess.run(argv, stdin=stdin, capture_output=True, timeout=timeout)
        else:
            p = subprocess.run(argv, input=input, capture_output=True, timeout=timeout)
        return Result(argv, p.returncode, p.stdout.decode(errors="replace"),
                      p.stderr.decode(errors="replace"))

    def ok(self, *args, **kw):
        res = self(*args, **kw)
        assert res.rc == 0, str(res)
        return res.out

    def inspect(self, name):
        return json.loads(self.ok("image", "inspect", name))[0]

    def import_busybox(self, tag="busybox:latest"):
        """Makes busybox:latest with scripts/mkimage-busybox; returns its id."""
        p = subprocess.run([str(REPO / "scripts" / "mkimage-busybox"), str(self.binary),
                            "--data-root", str(self.data_root), "--exec-root",
                            str(self.exec_root)], capture_output=True, text=True,
                           timeout=COMMAND_TIMEOUT * 4)
        assert p.returncode == 0, p.stderr
        image_id = p.stdout.strip()
        if tag != "busybox:latest":
            self.ok("tag", image_id, tag)
            self.ok("rmi", "busybox:latest")
        return image_id

    def snapshot(self):
        """What the store holds: every row of the image tables and every file
        under blobs/, layers/ and tmp/ (names only), for "nothing changed"
        checks after a refused operation."""
        import sqlite3

        state = {}
        db = self.data_root / "berth.db"
        if db.exists():
            con = sqlite3.connect(db)
            try:
                for table in STORE_TABLES:
                    state[table] = sorted(con.execute(f"SELECT * FROM {table}").fetchall())
            finally:
                con.close()
        for sub in ("blobs", "layers", "tmp"):
            top = self.data_root / sub
            names = []
            if top.exists():
                for dirpath, dirnames, filenames in os.walk(top):
                    rel = os.path.relpath(dirpath, top)
                    names += [os.path.normpath(os.path.join(rel, n)) for n in dirnames + filenames]
                    if sub == "layers":
                        dirnames.clear()  # a layer's own files are not the store's
            state[sub] = sorted(names)
        return state


def unmount_below(path):
    """Detaches every mount at or under PATH, deepest first; returns them."""
    prefix = str(path)
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            target = line.split()[4]
            if target == prefix or target.startswith(prefix + "/"):
                mounts.append(target)
    for target in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", target], capture_output=True)
    return mounts


@pytest.fixture
def berth():
    """A Berth on a fresh data root; after the test nothing of it may stay
    mounted, and the directories go."""
    binary = berth_binary()
    if not binary.exists():
        pytest.skip(f"berth not built: {binary}")
    base = Path(tempfile.mkdtemp(prefix="berth-cli-", dir="/tmp"))
    b = Berth(binary, base)
    yield b
    left = unmount_below(base)
    shutil.rmtree(base, ignore_errors=True)
    assert not left, f"mounts left behind: {left}"


@pytest.fixture(scope="session")
def busybox_rootfs_tar(tmp_path_factory):
    """A tar of the busybox root file system of scripts/mkrootfs."""
    d = tmp_path_factory.mktemp("busybox-tar")
    subprocess.run([str(REPO / "scripts" / "mkrootfs"), str(d / "rootfs")], check=True)
    tar = d / "rootfs.tar"
    subprocess.run(["tar", "-C", str(d / "rootfs"), "--numeric-owner", "-cf", str(tar), "."],
                   check=True)
    return tar
