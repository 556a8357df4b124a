"""OCI bundles for the runtime benchmarks: a busybox root file system made by
scripts/mkrootfs, config.json files in the shape `runc spec` writes (with the
mounts containerd adds by default), and removal of the cgroups the measured
runtimes leave behind.
"""

import errno
import json
import os
import signal
import subprocess
import time

CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
NAMESPACES = ["pid", "network", "ipc", "uts", "mount"]


def make_rootfs(repo, path):
    """Makes a busybox root file system at path; returns None or the error."""
    res = subprocess.run(
        [os.path.join(repo, "scripts", "mkrootfs"), path], capture_output=True, text=True
    )
    if res.returncode != 0:
        return (res.stderr or res.stdout).strip() or f"mkrootfs exit status {res.returncode}"
    return None


def config(rootfs, args, hostname, cgroups_path):
    """A config.json dict: a read-only root, no terminal, the usual mounts,
    its own pid, network, ipc, uts and mount namespaces."""
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "cwd": "/",
            "capabilities": {k: CAPS for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": rootfs, "readonly": True},
        "hostname": hostname,
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            {
                "destination": "/dev/pts",
                "type": "devpts",
                "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
            },
            {
                "destination": "/dev/shm",
                "type": "tmpfs",
                "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            },
            {
                "destination": "/dev/mqueue",
                "type": "mqueue",
                "source": "mqueue",
                "options": ["nosuid", "noexec", "nodev"],
            },
            {
                "destination": "/sys",
                "type": "sysfs",
                "source": "sysfs",
                "options": ["nosuid", "noexec", "nodev", "ro"],
            },
        ],
        "linux": {
            "cgroupsPath": cgroups_path,
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in NAMESPACES],
            "maskedPaths": [
                "/proc/acpi",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/sched_debug",
                "/sys/firmware",
                "/proc/scsi",
            ],
            "readonlyPaths": [
                "/proc/bus",
                "/proc/fs",
                "/proc/irq",
                "/proc/sys",
                "/proc/sysrq-trigger",
            ],
        },
    }


def write_bundle(path, cfg):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    return path


def _cgroup_hierarchies():
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] in ("cgroup", "cgroup2"):
                found.append(left.split()[4])
    return found


def remove_cgroup(relpath):
    """Removes cgroup relpath and everything below it in every hierarchy,
    thawing and killing what still runs there first.  Returns the number of
    processes it had to kill."""
    tops = [os.path.join(h, relpath.strip("/")) for h in _cgroup_hierarchies()]
    tops = [t for t in tops if os.path.isdir(t)]
    pids = set()
    for top in tops:
        for d, _, _ in os.walk(top):
            for name, value in (("freezer.state", "THAWED"), ("cgroup.freeze", "0")):
                try:
                    with open(os.path.join(d, name), "w") as f:
                        f.write(value)
                except OSError:
                    pass
            try:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    pids.update(int(p) for p in f.read().split())
            except OSError:
                pass
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for top in tops:
        for d, _, _ in sorted(os.walk(top), key=lambda w: len(w[0]), reverse=True):
            deadline = time.monotonic() + 5
            while True:
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    if e.errno != errno.EBUSY or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
    return len(pids)
