"""Regression tests for the classes of container escape an OCI runtime must
defend against, each named after the CVE that made the class famous.
"""

import hashlib
import os
import uuid
from pathlib import Path

import pytest


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def runtime_binaries(runtime):
    """The runtime binary and the berth-init next to it, if any."""
    paths = [runtime.binary.resolve()]
    init = runtime.binary.resolve().parent / "berth-init"
    if init.exists():
        paths.append(init)
    return paths


ATTACK = r"""
for target in /proc/1/exe /proc/[0-9]*/exe; do
    [ -e "$target" ] || continue
    echo "target $target"
    if printf 'BERTH-CVE-2019-5736' >> "$target" 2>/dev/null; then echo "appended $target"; fi
    if dd if=/dev/zero of="$target" bs=1 count=16 conv=notrunc 2>/dev/null; then
        echo "overwrote $target"
    fi
    if (exec 7<>"$target") 2>/dev/null; then echo "opened-rw $target"; fi
done
echo attack-done
"""


def test_cve_2019_5736_runtime_binary_not_writable(runtime, make_bundle):
    """An exec'd process of a created container must not reach the runtime binary.

    While the container is in "created" state its pid 1 is the runtime's own
    helper; the process opens /proc/1/exe (and every other /proc/N/exe it can
    see) for writing, and the binaries on the host must come out unchanged."""
    before = {p: sha256(p) for p in runtime_binaries(runtime)}
    b = make_bundle(["sleep", "300"])
    runtime.create(b)
    assert runtime.status(b.id) == "created"

    # A runtime helper that is not dumpable hides /proc/1/exe altogether,
    # which is a defence too: the loop then only meets the exec'd processes.
    res = runtime.exec(b.id, "sh", "-c", ATTACK)
    assert "attack-done" in res.out, str(res)
    # Attack again once the container runs, while the runtime execs into it.
    runtime.start(b.id)
    res2 = runtime.exec(b.id, "sh", "-c", ATTACK)
    assert "attack-done" in res2.out, str(res2)

    for path, digest in before.items():
        assert sha256(path) == digest, f"{path} was modified from inside the container"


def fd_numbers(out):
    return sorted(int(x) for x in out.split())


def test_cve_2024_21626_no_leaked_fds(runtime, make_bundle):
    """The container process, and a process exec'd into it, inherit only stdio:
    no descriptor of the runtime (a cgroup or state dir) to climb out through."""
    b = make_bundle(["ls", "/proc/self/fd"])
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    fds = fd_numbers(res.out)
    # 0, 1, 2 and the directory ls itself is reading.
    assert fds[:3] == [0, 1, 2] and len(fds) <= 4, fds

    out = runtime.mkdir("fds", 0o777)
    detached = make_bundle(["sh", "-c", "ls /proc/self/fd > /out/fds; exec sleep 300"])
    detached.bind(out, "/out")
    detached.write()
    runtime.run_detached(detached)
    runtime.wait_for(lambda: (out / "fds").exists() and (out / "fds").read_text(),
                     what="fd list of the detached container")
    fds = fd_numbers((out / "fds").read_text())
    assert fds[:3] == [0, 1, 2] and len(fds) <= 4, fds

    res = runtime.exec(detached.id, "ls", "/proc/self/fd")
    assert res.rc == 0, str(res)
    fds = fd_numbers(res.out)
    assert fds[:3] == [0, 1, 2] and len(fds) <= 4, fds


def host_markers(runtime, b):
    """Names that exist only on the host side: if a listing inside the container
    shows one, a leaked descriptor led out of the rootfs."""
    marker = f"host-only-{uuid.uuid4().hex[:8]}"
    (b.path / marker).write_text("host\n")
    runtime.root.mkdir(parents=True, exist_ok=True)
    (runtime.root / marker).write_text("host\n")
    names = {marker, "config.json", "cgroup.procs", "tasks", "berth-test", "notify_on_release"}
    names |= {p.name for p in Path("/").iterdir()} - {p.name for p in b.rootfs.iterdir()}
    return names


PROBE = "pwd; ls -a . ..; ls -a ../..; ls -a ../../..; ls -a ../../../.."


@pytest.mark.parametrize("fd", range(3, 10))
def test_cve_2024_21626_no_leaked_fds_as_cwd(runtime, make_bundle, fd):
    b = make_bundle(["sh", "-c", PROBE])
    b.process["cwd"] = f"/proc/self/fd/{fd}"
    b.write()
    markers = host_markers(runtime, b)
    res = runtime.run(b)
    if res.rc == 0:
        seen = set(res.out.split())
        assert not seen & markers, f"host files visible from the container: {seen & markers}"
        assert res.out.startswith("/"), str(res)
        assert "(unreachable)" not in res.out


@pytest.mark.parametrize("fd", [3, 4, 5, 6, 7, 8, 9])
def test_cve_2024_21626_no_leaked_fds_as_exec_cwd(runtime, make_bundle, fd):
    b = make_bundle(["sleep", "300"])
    markers = host_markers(runtime, b)
    runtime.run_detached(b)
    res = runtime.exec(b.id, "sh", "-c", PROBE, opts=["--cwd", f"/proc/self/fd/{fd}"])
    if res.rc == 0:
        seen = set(res.out.split())
        assert not seen & markers, f"host files visible from the container: {seen & markers}"
        assert "(unreachable)" not in res.out


def test_symlink_in_image_cannot_redirect_mount(runtime, make_bundle):
    """A mount destination under an image symlink must land inside the rootfs."""
    host_target = Path(f"/tmp/host-target-{uuid.uuid4().hex}")
    host_target.mkdir(mode=0o755)
    runtime.on_teardown(lambda: host_target.rmdir())
    bind_src = runtime.mkdir("bind-src")
    (bind_src / "payload").write_text("payload\n")

    # Inside, the link resolves within the rootfs: the mounts show up at
    # <host_target>/x and /y of the container's tree.
    b = make_bundle(["sh", "-c", f"grep -cE ' {host_target}/(x|y) ' /proc/self/mountinfo; "
                                 "cat /mnt/y/payload; echo inside > /mnt/x/written"],
                    readonly=False)
    mnt = b.rootfs / "mnt"
    if mnt.exists():
        mnt.rmdir()
    os.symlink(str(host_target), mnt)
    b.add_mount("/mnt/x", "tmpfs", "tmpfs", ["size=1m"])
    b.bind(bind_src, "/mnt/y")
    b.write()

    res = runtime.run(b)
    # Failing the create is a valid defence; mounting outside the rootfs is not.
    assert list(host_target.iterdir()) == [], "the mount landed on the host"
    mountinfo = Path("/proc/self/mountinfo").read_text()
    assert str(host_target) not in mountinfo
    if res.rc == 0:
        assert res.out.splitlines() == ["2", "payload"], str(res)
        # The mount points were made under the rootfs, following the link there.
        inside = b.rootfs / str(host_target).lstrip("/")
        assert (inside / "x").is_dir() and (inside / "y").is_dir()
        assert not (inside / "x" / "written").exists()  # it went to the tmpfs


def test_symlink_to_host_proc_cannot_redirect_proc_mount(runtime, make_bundle):
    """A rootfs whose /proc is a symlink out of the rootfs must not get the host's proc
    mounted elsewhere on the host."""
    host_target = Path(f"/tmp/host-target-{uuid.uuid4().hex}")
    host_target.mkdir(mode=0o755)
    runtime.on_teardown(lambda: host_target.rmdir())
    b = make_bundle(["true"], readonly=False)
    (b.rootfs / "proc").rmdir()
    os.symlink(str(host_target), b.rootfs / "proc")
    runtime.run(b)
    assert list(host_target.iterdir()) == []
    assert str(host_target) not in Path("/proc/self/mountinfo").read_text()
