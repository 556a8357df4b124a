"""The `runtime` benchmark: the wall time of one short-lived container, from
the runtime's start to its exit, for `berth-runc run` and `runc run` on the
same busybox `/bin/true` bundle, and for the floor: unshare(1) making the same
five namespaces and chroot(1) running /bin/true, with no mounts, cgroups or
capabilities at all.
"""

import os
import shutil
import subprocess

from ..core import SKIPPED, Benchmark, Subject, SubjectError, last_line
from ..machine import version_of
from ..oci import config, make_rootfs, remove_cgroup, write_bundle

HOSTNAME = "berth-bench"
# The check's output: PID 1 of a new PID namespace, the bundle's hostname,
# and a network namespace holding only lo.
CHECK_ARGS = ["/bin/sh", "-c", "echo $$; hostname; ls /sys/class/net"]
CHECK_EXPECT = ["1", HOSTNAME, "lo"]


def _executable(path):
    if os.sep not in path:
        path = shutil.which(path) or path
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


class RuntimeRun(Benchmark):
    name = "runtime"
    summary = (
        "Wall time of `RUNTIME run` of a busybox `/bin/true` bundle (read-only root, "
        "pid, mount, uts, ipc and network namespaces, cgroups at the bundle's "
        "cgroupsPath), each runtime with its own `--root`; the floor is `unshare --fork "
        "--pid --mount --uts --ipc --net chroot ROOTFS /bin/true`."
    )

    def setup(self, ctx):
        self.ctx = ctx
        self.cgroup = f"/berth-bench-{os.getpid()}"
        self.rootfs = os.path.join(ctx.workdir, "rootfs")
        self.cleanups = []
        reason = None
        if os.geteuid() != 0:
            reason = "needs root"
        else:
            err = make_rootfs(ctx.repo, self.rootfs)
            if err:
                reason = f"no busybox rootfs: {err}"
        subjects = [
            self._runtime(ctx, "berth-runc", ctx.berth_runc, "berth"),
            self._runtime(ctx, "runc", ctx.runc, "peer"),
            self._floor(ctx),
        ]
        for s in subjects:
            if reason and s.status != SKIPPED:
                s.fail(SKIPPED, reason)
        return subjects

    def _runtime(self, ctx, name, binary, role):
        path = _executable(binary)
        state = os.path.join(ctx.workdir, f"state-{name}")
        bundle = os.path.join(ctx.workdir, f"bundle-{name}")
        check_bundle = os.path.join(ctx.workdir, f"check-{name}")
        attempted = []

        def argv(i):
            cid = f"bench-{name}-{i}"
            attempted.append(cid)
            return [path, "--root", state, "run", "--bundle", bundle, cid]

        subject = Subject(
            name=name,
            role=role,
            argv=argv,
            command=f"{binary} --root STATE run --bundle BUNDLE ID",
        )
        if path is None:
            subject.fail(SKIPPED, f"not found: {binary}")
            return subject
        subject.version = version_of([path, "--version"], repo=ctx.repo)
        if os.geteuid() == 0:
            # The bundles differ only in cgroupsPath, so that a runtime that
            # leaves its cgroup behind cannot slow down the other.
            write_bundle(bundle, config(self.rootfs, ["/bin/true"], HOSTNAME,
                                        f"{self.cgroup}/{name}"))
            write_bundle(check_bundle, config(self.rootfs, CHECK_ARGS, HOSTNAME,
                                              f"{self.cgroup}/{name}-check"))

        def check():
            cid = f"check-{name}"
            attempted.append(cid)
            out = _run_checked([path, "--root", state, "run", "--bundle", check_bundle, cid],
                               ctx.timeout)
            if out.split() != CHECK_EXPECT:
                raise SubjectError(f"expected output {CHECK_EXPECT}, got {out.split()}")

        def cleanup():
            # A run that failed half way may leave its container behind.
            for cid in attempted[-2:]:
                subprocess.run([path, "--root", state, "delete", "--force", cid],
                               capture_output=True, timeout=30)

        subject.check = check
        subject.cleanup = cleanup
        return subject

    def _floor(self, ctx):
        unshare, chroot = _executable("unshare"), _executable("chroot")
        flags = ["--fork", "--pid", "--mount", "--uts", "--ipc", "--net"]
        subject = Subject(
            name="floor",
            role="floor",
            argv=lambda i: [unshare, *flags, chroot, self.rootfs, "/bin/true"],
            command=f"unshare {' '.join(flags)} chroot ROOTFS /bin/true",
        )
        if unshare is None or chroot is None:
            subject.fail(SKIPPED, "unshare or chroot not found (util-linux, coreutils)")
            return subject
        subject.version = version_of([unshare, "--version"])

        def check():
            out = _run_checked([unshare, *flags, chroot, self.rootfs, "/bin/sh", "-c", "echo $$"],
                               ctx.timeout)
            if out.split() != ["1"]:
                raise SubjectError(f"expected PID 1, got {out.split()}")

        subject.check = check
        return subject

    def teardown(self, ctx):
        killed = remove_cgroup(self.cgroup)
        if killed:
            print(f"runtime: killed {killed} processes left in cgroup {self.cgroup}")


def _run_checked(argv, timeout):
    try:
        res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SubjectError(f"timed out after {timeout:g}s") from None
    if res.returncode != 0:
        err = last_line(res.stderr) or "(no message)"
        raise SubjectError(f"exit status {res.returncode}: {err}")
    return res.stdout
