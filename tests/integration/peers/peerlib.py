"""Helpers for the peer suites, which drive berth-runc through real containerd
and podman.  A Scratch is a private directory and cgroup parent for one peer;
its sweep undoes whatever the peer or the runtime left behind (processes,
mounts, cgroups, files) and reports what should not have been there.
"""

import ctypes
import errno
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
TIMEOUT = 60
MNT_DETACH = 2

_libc = ctypes.CDLL(None, use_errno=True)


def runtime_under_test():
    """The runtime binary the suites test: $BERTH_RUNC, else the build's."""
    return Path(os.environ.get("BERTH_RUNC") or REPO / "build" / "berth-runc")


def run(argv, *, env=None, input=None, timeout=TIMEOUT):
    """Runs argv to completion and returns the CompletedProcess (text mode).
    A command still running after timeout seconds is killed and the test
    fails with what it printed so far."""
    try:
        return subprocess.run(
            [str(a) for a in argv],
            env=env,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        raise AssertionError(
            f"timed out after {timeout}s: {' '.join(map(str, argv))}\n"
            f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}"
        ) from None


def run_in_pty(argv, *, env=None, timeout=TIMEOUT):
    """Runs argv with a new pseudo-terminal as its stdin, stdout and stderr,
    the way a user at a terminal would.  Returns (exit status, output with
    CRLF turned into LF)."""
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(
            [str(a) for a in argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
    finally:
        os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise AssertionError(f"timed out after {timeout}s in a pty: {argv}\n{bytes(out)!r}")
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError as e:
                # EIO: every holder of the terminal's other end is gone.
                if e.errno != errno.EIO:
                    raise
                break
            if not data:
                break
            out += data
        status = proc.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        os.close(master)
    return status, out.decode(errors="replace").replace("\r\n", "\n")


def wait_for(predicate, *, timeout=20, interval=0.05, what="condition"):
    """Polls predicate until it returns a true value, which it returns."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _unescape_mountinfo(field):
    # mountinfo escapes space, tab, newline and backslash as \ooo.
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _mountinfo():
    """Yields (mount point, file system type) for each mount of this process."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            yield _unescape_mountinfo(left.split()[4]), right.split()[0]


def mounts_under(prefix):
    """Mount points at or below directory prefix, deepest first."""
    prefix = str(prefix).rstrip("/")
    found = [m for m, _ in _mountinfo() if m == prefix or m.startswith(prefix + "/")]
    return sorted(found, key=len, reverse=True)


def unmount_under(prefix):
    """Detaches every mount at or below prefix; returns the mount points."""
    found = mounts_under(prefix)
    for mnt in found:
        if _libc.umount2(os.fsencode(mnt), MNT_DETACH) != 0:
            err = ctypes.get_errno()
            if err not in (errno.EINVAL, errno.ENOENT):
                raise OSError(err, os.strerror(err), mnt)
    return found


def cgroup_hierarchies():
    """Mount points of the cgroup hierarchies (v1 controllers and v2)."""
    return [m for m, fstype in _mountinfo() if fstype in ("cgroup", "cgroup2")]


def cgroup_dirs(relpath):
    """Existing directories of cgroup relpath, one per hierarchy."""
    rel = relpath.strip("/")
    return [Path(h, rel) for h in cgroup_hierarchies() if Path(h, rel).is_dir()]


def cgroup_pids(relpath):
    """Pids of every process in cgroup relpath or below, in any hierarchy."""
    pids = set()
    for top in cgroup_dirs(relpath):
        for d, _, _ in os.walk(top):
            try:
                with open(Path(d, "cgroup.procs")) as f:
                    pids.update(int(x) for x in f.read().split())
            except OSError:
                pass
    return pids


def cgroup_frozen(relpath):
    """True when cgroup relpath is frozen (v1 freezer or v2 cgroup.freeze),
    False when it is not, None when no hierarchy can tell."""
    for d in cgroup_dirs(relpath):
        state = d / "freezer.state"
        if state.exists():
            return state.read_text().strip() == "FROZEN"
        events = d / "cgroup.events"
        if (d / "cgroup.freeze").exists() and events.exists():
            return "frozen 1" in events.read_text().splitlines()
    return None


def _thaw(relpath):
    for top in cgroup_dirs(relpath):
        for d, _, _ in os.walk(top):
            for name, value in (("freezer.state", "THAWED"), ("cgroup.freeze", "0")):
                try:
                    Path(d, name).write_text(value)
                except OSError:
                    pass


def kill_pids(pids, timeout=10):
    """SIGKILLs pids and waits until they are gone."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    for pid in pids:
        while Path(f"/proc/{pid}").exists() and _state(pid) != "Z":
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0]
    except OSError:
        return None


def cgroup_remove(relpath):
    """Removes cgroup relpath and everything below it in every hierarchy,
    killing what still runs there first.  Returns the pids it had to kill."""
    pids = cgroup_pids(relpath)
    if pids:
        _thaw(relpath)
        kill_pids(pids)
    for top in cgroup_dirs(relpath):
        for d, _, _ in sorted(os.walk(top), key=lambda w: len(w[0]), reverse=True):
            deadline = time.monotonic() + 5
            while True:
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    # EBUSY while a killed task is still leaving the cgroup.
                    if e.errno != errno.EBUSY or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
    return pids


def processes_mentioning(text):
    """(pid, command line) of every process whose command line contains text."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if text in cmdline and _state(int(entry)) != "Z":
            found.append((int(entry), cmdline))
    return found


class Scratch:
    """A private directory under /tmp and a top-level cgroup of the same
    name, for one peer.  Everything the peer makes goes under them, so that
    sweep() can find and undo it."""

    def __init__(self, tag):
        self.path = Path(tempfile.mkdtemp(prefix=f"berth-{tag}-", dir="/tmp"))
        self.cgroup = "/" + self.path.name

    def sweep(self, grace=10):
        """Kills, unmounts and removes what is left under the scratch area.
        Returns a description of each leftover that a well-behaved peer and
        runtime would not have left (empty when all is clean).  Processes get
        grace seconds to finish (conmon and podman's cleanup run on after
        `podman rm`).  Storage mounts and empty cgroup directories are
        expected: the peers leave them by design."""
        leaks = []
        deadline = time.monotonic() + grace
        while processes_mentioning(str(self.path)) or cgroup_pids(self.cgroup):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        stray = processes_mentioning(str(self.path))
        if stray:
            leaks += [f"process {pid} still running: {cmd}" for pid, cmd in stray]
            kill_pids([pid for pid, _ in stray])
        killed = cgroup_remove(self.cgroup)
        if killed:
            leaks.append(f"processes {sorted(killed)} still in cgroup {self.cgroup}")
        unmount_under(self.path)
        shutil.rmtree(self.path, ignore_errors=True)
        if self.path.exists():
            leaks.append(f"could not remove {self.path}")
        return leaks
