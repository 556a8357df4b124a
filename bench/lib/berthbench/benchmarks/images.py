"""The `load` and `save` benchmarks: `berth load` / `berth save` of one
multi-layer image against `docker load` / `docker save` of a private dockerd
and `podman load` / `podman save` of a private podman, on the same
docker-archive.  The archive is generated here (random files, so nothing
compresses or deduplicates): 5 layers of about 80 MB each (4 MB in --quick),
each one large file and many small ones.  Every peer keeps its data under the
benchmark's work directory, which is removed at the end.
"""

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import time

from ..core import OK, SKIPPED, Benchmark, Subject, SubjectError, last_line, run_dir
from ..machine import version_of

TAG = "bench/big:1"
LAYERS = 5
LAYER_BYTES = 80 << 20
QUICK_LAYER_BYTES = 4 << 20


def _layer_tar(path, index, size):
    """A layer of SIZE bytes of random content: one file of half of it and
    small files (4 to 64 KiB) for the rest.  Returns the DiffID."""
    rnd = os.urandom
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        d = tarfile.TarInfo(f"layer{index}")
        d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 0
        t.addfile(d)
        big = tarfile.TarInfo(f"layer{index}/big.bin")
        big.size, big.mode, big.mtime = size // 2, 0o644, 0
        t.addfile(big, io.BytesIO(rnd(big.size)))
        left, n = size - big.size, 0
        while left > 0:
            chunk = min(left, 4096 << (n % 5))
            f = tarfile.TarInfo(f"layer{index}/small/{n:05d}")
            f.size, f.mode, f.mtime = chunk, 0o644, 0
            t.addfile(f, io.BytesIO(rnd(chunk)))
            left -= chunk
            n += 1
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def make_archive(workdir, layer_bytes):
    """Writes a docker-archive of TAG (what `docker save` of Docker 20.10
    writes) at workdir/image.tar; returns (path, image id)."""
    stage = os.path.join(workdir, "archive")
    os.makedirs(stage)
    diff_ids, layer_paths = [], []
    for i in range(LAYERS):
        os.makedirs(os.path.join(stage, f"l{i}"))
        rel = f"l{i}/layer.tar"
        diff_ids.append(_layer_tar(os.path.join(stage, rel), i, layer_bytes))
        layer_paths.append(rel)
        with open(os.path.join(stage, f"l{i}", "VERSION"), "w") as f:
            f.write("1.0")
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
        "config": {"Cmd": ["sh"], "Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2026-01-01T00:00:00Z", "created_by": f"layer {i}"}
                    for i in range(LAYERS)],
    }, separators=(",", ":")).encode()
    image_id = "sha256:" + hashlib.sha256(config).hexdigest()
    with open(os.path.join(stage, image_id[7:] + ".json"), "wb") as f:
        f.write(config)
    with open(os.path.join(stage, "manifest.json"), "w") as f:
        json.dump([{"Config": image_id[7:] + ".json", "RepoTags": [TAG],
                    "Layers": layer_paths}], f)
    path = os.path.join(workdir, "image.tar")
    with tarfile.open(path, "w") as t:
        for name in sorted(os.listdir(stage)):
            t.add(os.path.join(stage, name), arcname=name)
    shutil.rmtree(stage)
    return path, image_id


def _run(argv, env=None, timeout=600):
    try:
        res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SubjectError(f"timed out: {' '.join(argv)}") from None
    except OSError as e:
        raise SubjectError(f"{argv[0]}: {e.strerror}") from None
    if res.returncode != 0:
        raise SubjectError(f"{' '.join(argv[:4])}...: {last_line(res.stderr) or res.returncode}")
    return res.stdout


class Engine:
    """One image engine the benchmark drives through its command line."""

    name = ""
    role = "peer"

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, self.name)
        # State that a host keeps in /run (a tmpfs): the run's tmpfs when
        # the harness could mount one (see core.run_dir), else the engine's
        # own directory.
        run = run_dir(workdir)
        self.run = os.path.join(run, self.name) if run else self.dir
        self.env = None
        self.error = None

    def cmd(self, *args):
        raise NotImplementedError

    def start(self):
        pass

    def stop(self):
        pass

    def image_id(self, ref):
        """The image id with its "sha256:" (podman prints the hex alone)."""
        out = _run(self.cmd("image", "inspect", "--format", "{{.Id}}", ref),
                   env=self.env).strip()
        return out if out.startswith("sha256:") else "sha256:" + out

    def remove(self, ref):
        subprocess.run(self.cmd("rmi", "-f", ref), capture_output=True, env=self.env,
                       timeout=300)


class BerthEngine(Engine):
    name = "berth"
    role = "berth"

    def __init__(self, workdir, binary):
        super().__init__(workdir)
        self.binary = binary
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            self.error = f"not built: {binary}"

    def cmd(self, *args):
        return [self.binary, "--data-root", os.path.join(self.dir, "data"), "--exec-root",
                os.path.join(self.run, "exec"), *args]

    def version(self, repo):
        return version_of([self.binary, "--version"], repo=repo)


class Dockerd(Engine):
    name = "docker"

    def __init__(self, workdir):
        super().__init__(workdir)
        self.sock = os.path.join(self.dir, "docker.sock")
        self.proc = None
        if not (shutil.which("dockerd") and shutil.which("docker")):
            self.error = "not installed (apt-get install docker.io)"

    def cmd(self, *args):
        return ["docker", "-H", f"unix://{self.sock}", *args]

    def start(self):
        os.makedirs(self.dir)
        self.log = open(os.path.join(self.dir, "dockerd.log"), "wb")
        # No bridge and no iptables: the host's network stays as it is.
        self.proc = subprocess.Popen(
            ["dockerd", "--data-root", os.path.join(self.dir, "data"), "--exec-root",
             os.path.join(self.run, "exec"), "--pidfile", os.path.join(self.dir, "pid"),
             "-H", f"unix://{self.sock}", "--bridge", "none", "--iptables=false",
             "--ip6tables=false", "--log-level", "error"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SubjectError("dockerd exited at start")
            if subprocess.run(self.cmd("version"), capture_output=True).returncode == 0:
                return
            time.sleep(0.2)
        raise SubjectError("dockerd did not answer within 60 s")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()

    def version(self, repo):
        out = subprocess.run(self.cmd("version", "--format", "{{.Server.Version}}"),
                             capture_output=True, text=True).stdout.strip()
        return f"dockerd {out}" if out else "dockerd"


class Podman(Engine):
    name = "podman"

    def __init__(self, workdir):
        super().__init__(workdir)
        if not shutil.which("podman"):
            self.error = "not installed (apt-get install podman)"

    def start(self):
        os.makedirs(self.dir)

    def cmd(self, *args):
        # podman refuses a runroot longer than 50 characters: on the run
        # tmpfs, the engine's run directory itself.
        runroot = self.run if self.run != self.dir else os.path.join(self.dir, "runroot")
        return ["podman", "--root", os.path.join(self.dir, "root"), "--runroot", runroot,
                "--tmpdir", os.path.join(self.dir, "tmp"),
                "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs",
                "--events-backend", "file", *args]

    def stop(self):
        # podman's overlay storage stays mounted until it is told to let go.
        if os.path.isdir(self.dir):
            subprocess.run(self.cmd("system", "reset", "--force"), capture_output=True,
                           env=self.env, timeout=300)

    def version(self, repo):
        return version_of(["podman", "--version"])


class ImageArchiveBenchmark(Benchmark):
    """What load and save share: the archive and the three engines."""

    def setup(self, ctx):
        self.engines = [BerthEngine(ctx.workdir, ctx.berth), Dockerd(ctx.workdir),
                        Podman(ctx.workdir)]
        self.started = []
        reason = "needs root" if os.geteuid() != 0 else None
        if not reason:
            size = QUICK_LAYER_BYTES if ctx.quick else LAYER_BYTES
            ctx.log(f"generating a {LAYERS}-layer archive of {LAYERS * size >> 20} MB")
            self.archive, self.image_id = make_archive(ctx.workdir, size)
        subjects = []
        for e in self.engines:
            s = self.subject(ctx, e)
            if reason or e.error:
                s.fail(SKIPPED, reason or e.error)
            else:
                try:
                    e.start()
                    self.started.append(e)
                    s.version = e.version(ctx.repo)
                    self.prepare_engine(e)
                except SubjectError as err:
                    s.fail(SKIPPED if s.status == OK else s.status, f"start: {err}")
            subjects.append(s)
        return subjects

    def prepare_engine(self, engine):
        pass

    def check_loaded(self, engine):
        got = engine.image_id(TAG)
        if got != self.image_id:
            raise SubjectError(f"{TAG} is {got!r}, expected {self.image_id}")

    def teardown(self, ctx):
        for e in self.started:
            e.stop()


class ImageLoad(ImageArchiveBenchmark):
    name = "load"
    summary = (
        f"Wall time of `ENGINE load -i ARCHIVE` of a docker-archive of {LAYERS} layers of "
        f"random files (~{LAYERS * LAYER_BYTES >> 20} MB; {LAYERS * QUICK_LAYER_BYTES >> 20} MB "
        "with --quick) into a store without the image: berth, a private dockerd, a private "
        "podman.  The image is removed, untimed, before each run."
    )

    def subject(self, ctx, engine):
        def check():
            engine.remove(TAG)
            _run(engine.cmd("load", "-i", self.archive), env=engine.env)
            self.check_loaded(engine)

        return Subject(
            name=engine.name, role=engine.role,
            argv=lambda i: engine.cmd("load", "-q", "-i", self.archive),
            command=f"{engine.name} load -q -i ARCHIVE",
            check=check, prepare=lambda i: engine.remove(TAG))


class ImageSave(ImageArchiveBenchmark):
    name = "save"
    summary = (
        "Wall time of `ENGINE save -o FILE IMAGE` of the image of the load benchmark, "
        "already loaded, to a new file: berth, a private dockerd, a private podman."
    )

    def prepare_engine(self, engine):
        _run(engine.cmd("load", "-i", self.archive), env=engine.env)
        self.check_loaded(engine)

    def subject(self, ctx, engine):
        out = os.path.join(ctx.workdir, f"saved-{engine.name}.tar")

        def check():
            _run(engine.cmd("save", "-o", out, TAG), env=engine.env)
            with tarfile.open(out) as t:
                names = t.getnames()
            if "manifest.json" not in names:
                raise SubjectError("the saved archive has no manifest.json")

        def prepare(i):
            if os.path.exists(out):
                os.unlink(out)

        return Subject(
            name=engine.name, role=engine.role,
            argv=lambda i: engine.cmd("save", "-o", out, TAG),
            command=f"{engine.name} save -o FILE {TAG}",
            check=check, prepare=prepare,
            cleanup=lambda: os.path.exists(out) and os.unlink(out))
