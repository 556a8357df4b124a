"""Describes where a benchmark ran: CPU, cores, memory, kernel, distribution,
cgroup layout, and the version of each binary that was measured, so that two
result files can be told apart and compared honestly.
"""

import os
import platform
import subprocess


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _cpu_model():
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _memory_gib():
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / (1024 * 1024), 1)
    return None


def _distribution():
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return ""


def _cgroups():
    kinds = set()
    for line in _read("/proc/self/mountinfo").splitlines():
        fstype = line.partition(" - ")[2].split()[:1]
        if fstype and fstype[0] in ("cgroup", "cgroup2"):
            kinds.add(fstype[0])
    if kinds == {"cgroup2"}:
        return "v2"
    if kinds == {"cgroup", "cgroup2"}:
        return "hybrid (v1 controllers, v2 tree)"
    return "v1" if kinds else "none"


def machine():
    """The host, as a dict for the JSON file and the Markdown header."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "kernel": platform.release(),
        "distribution": _distribution(),
        "cgroups": _cgroups(),
        "python": platform.python_version(),
    }


def version_of(argv, repo=None):
    """First line of `argv` (e.g. [runc, --version]); for a binary built from
    this repository that prints nothing useful, the repository's commit."""
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        first = (res.stdout or res.stderr).strip().splitlines()
        if res.returncode == 0 and first and first[0].strip():
            return first[0].strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    if repo:
        return "git " + git_describe(repo)
    return "unknown"


def git_describe(repo):
    try:
        res = subprocess.run(
            ["git", "-C", repo, "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return res.stdout.strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
