"""Container benchmarks through each engine's own front door, side by side:
berthd (driven by the docker client on its private socket, and by an
Engine API client in this process), a private dockerd (the same two ways)
and podman (its command line; it has no daemon).  Every engine gets the
same busybox image, made offline by scripts/mkimage-busybox and saved by
berth, and keeps everything under the benchmark's work directory.

- `run`: `run --rm busybox true`, through the command line.
- `run-api`: the same through the Engine API alone (create with AutoRemove,
  wait for removal, start), timed in this process: what the daemon costs
  without a client program's start-up.
- `exec`: `exec CONTAINER true` into a running container.
- `idle`: N idle running containers (`sleep`); the engine's memory (PSS of
  every process of the engine: berthd and its shims; dockerd, containerd
  and its shims; podman's conmons) and threads, and the time of `ps -a`.
"""

import json
import os
import resource
import shutil
import socket
import subprocess
import time

from ..core import OK, SKIPPED, Benchmark, Subject, SubjectError
from ..machine import version_of
from .images import Dockerd, Podman, _run

IMAGE = "busybox:latest"
IDLE_CONTAINERS = int(os.environ.get("BERTH_BENCH_CONTAINERS", "200"))
QUICK_IDLE_CONTAINERS = 10


def _busybox_archive(ctx):
    """busybox:latest as a docker-archive, made with the berth CLI."""
    data = os.path.join(ctx.workdir, "mkimage")
    _run([os.path.join(ctx.repo, "scripts", "mkimage-busybox"), ctx.berth, "--data-root",
          data, "--exec-root", os.path.join(ctx.workdir, "mkimage-exec")], timeout=300)
    path = os.path.join(ctx.workdir, "busybox.tar")
    _run([ctx.berth, "--data-root", data, "save", "-o", path, IMAGE])
    shutil.rmtree(data, ignore_errors=True)
    return path


class Berthd(Dockerd):
    """berthd on a private socket, driven by the docker client."""

    name = "berth"
    role = "berth"

    def __init__(self, workdir, berthd):
        super().__init__(workdir)
        self.sock = os.path.join(self.dir, "berth.sock")
        self.binary = berthd
        self.error = None if os.access(berthd, os.X_OK) else f"not built: {berthd}"
        if not self.error and not shutil.which("docker"):
            self.error = "no docker client (apt-get install docker.io)"

    def start(self):
        os.makedirs(self.dir)
        with open(os.path.join(self.dir, "daemon.json"), "w") as f:
            f.write("{}")
        self.log = open(os.path.join(self.dir, "berthd.log"), "wb")
        self.proc = subprocess.Popen(
            [self.binary, "-H", f"unix://{self.sock}", "--data-root",
             os.path.join(self.dir, "data"), "--exec-root", os.path.join(self.run, "exec"),
             "--pidfile", os.path.join(self.dir, "pid"), "--config-file",
             os.path.join(self.dir, "daemon.json"), "--log-level", "error"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SubjectError("berthd exited at start")
            if subprocess.run(self.cmd("version"), capture_output=True).returncode == 0:
                return
            time.sleep(0.05)
        raise SubjectError("berthd did not answer within 30 s")

    def version(self, repo):
        return version_of([self.binary, "--version"], repo=repo)


def _run_flags(engine):
    """podman would make a bridge and firewall rules on the host for its
    default network: its containers get none (berthd's and the private
    dockerd's, started with --bridge none, have only loopback too).  Its
    default limits (nofile 1048576) are above what a process without
    CAP_SYS_RESOURCE may set, and it lowers its own nproc to 32768 when it
    cannot raise it: its containers ask for no more."""
    if engine.name != "podman":
        return []
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return ["--network", "none", "--ulimit", f"nofile={nofile}:{nofile}", "--ulimit",
            "nproc=32768:32768"]


def _engine_processes(engine):
    """The pids of ENGINE's own processes, not its containers': those of
    this pid namespace whose command line names one of its directories (its
    work directory or its /run one: the daemons, containerd's shims,
    podman's conmons) or whose working directory is under one (a
    berth-shim, which re-executes itself with a short command line in its
    container's directory)."""
    markers = {engine.dir, engine.run}
    pids = []
    try:
        own_ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        own_ns = None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if own_ns and os.readlink(f"/proc/{entry}/ns/pid") != own_ns:
                continue  # a container's
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
            if any(m in cmdline for m in markers):
                pids.append(int(entry))
                continue
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if any(cwd == m or cwd.startswith(m + "/") for m in markers):
            pids.append(int(entry))
    return pids


def _pss_kib_and_threads(pids):
    pss = threads = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("Threads:"):
                        threads += int(line.split()[1])
        except OSError:
            continue
    return pss, threads


class ContainerBenchmark(Benchmark):
    """What the container benchmarks share: the engines with busybox."""

    # An engine goes on working after it answers (dockerd's containerd and
    # shims, berthd's tidy): a command timed right after another engine's
    # would pay for that.
    settle = 0.25

    def setup(self, ctx):
        self.findings = {}
        berthd = os.path.join(os.path.dirname(ctx.berth), "berthd")
        self.engines = [Berthd(ctx.workdir, berthd), Dockerd(ctx.workdir), Podman(ctx.workdir)]
        self.started = []
        reason = "needs root" if os.geteuid() != 0 else None
        archive = None
        if not reason:
            try:
                archive = _busybox_archive(ctx)
            except SubjectError as e:
                reason = f"no busybox image: {e}"
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
                    _run(e.cmd("load", "-i", archive), env=e.env)
                    self.prepare_engine(ctx, e)
                except SubjectError as err:
                    s.fail(SKIPPED if s.status == OK else s.status, f"start: {err}")
            subjects.append(s)
        return subjects

    def prepare_engine(self, ctx, engine):
        pass

    def teardown(self, ctx):
        for e in self.started:
            # The names the benchmark gave too: an engine whose list fails
            # must not keep them running.
            ids = set(self.container_ids(e)) | {"bench-exec"} | {
                f"idle{i}" for i in range(IDLE_CONTAINERS)}
            subprocess.run(e.cmd("rm", "-f", *sorted(ids)), capture_output=True, env=e.env,
                           timeout=600)
            e.stop()

    def container_ids(self, engine):
        res = subprocess.run(engine.cmd("ps", "-aq"), capture_output=True, text=True,
                             env=engine.env, timeout=300)
        return res.stdout.split()


class ContainerRun(ContainerBenchmark):
    name = "run"
    summary = ("Wall time of `CLIENT run --rm busybox true`: the docker client against "
               "berthd and against a private dockerd, and podman.")

    def subject(self, ctx, engine):
        argv = engine.cmd("run", "--rm", *_run_flags(engine), IMAGE, "true")

        def check():
            out = _run(engine.cmd("run", "--rm", *_run_flags(engine), IMAGE, "echo", "ok"),
                       env=engine.env)
            if out.strip() != "ok":
                raise SubjectError(f"run printed {out!r}")

        return Subject(name=engine.name, role=engine.role, argv=lambda i: argv,
                       command=" ".join(["docker" if engine.name != "podman" else "podman",
                                         "run", "--rm", IMAGE, "true"]),
                       check=check)


class ApiConnection:
    """One HTTP/1.1 connection to the Engine API over a unix socket, kept
    open across requests. It reads only what an answer needs (status,
    length or chunks) so that the client's own time, the same for every
    engine, weighs as little as it can in the figure."""

    def __init__(self, sock):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(sock)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        head = (f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
        self.sock.sendall(head.encode() + data)

    def _fill(self):
        more = self.sock.recv(65536)
        if not more:
            raise SubjectError("the engine closed the connection before its answer")
        self.buf += more

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def head(self, method, path):
        """The status line and header of the answer to the request sent
        last: its status and fields; SubjectError for a status of 300 or
        more."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip()
        if status >= 300:
            body = self.body(fields) if b"content-length" in fields else b""
            raise SubjectError(f"{method} {path}: {status} {body[:200]!r}")
        return fields

    def body(self, fields):
        """The body that the header FIELDS announce, parsed as JSON."""
        if b"content-length" in fields:
            data = self._take(int(fields[b"content-length"]))
        elif fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            data = b""
            while True:
                size = int(self._line().split(b";")[0], 16)
                data += self._take(size)
                self._line()
                if size == 0:
                    break
        else:
            data = b""
        return json.loads(data) if data.strip() else None

    def request(self, method, path, body=None):
        self.send(method, path, body)
        return self.body(self.head(method, path))


class ApiClient:
    """The Engine API over a unix socket. Connections go back to a pool
    after their answer and serve the next command, as a long-lived client
    (docker-py, compose) keeps its own; one left idle longer than an engine
    may keep it is closed instead."""

    IDLE_MAX_S = 30

    def __init__(self, sock):
        self.sock = sock
        self.idle = []

    def _take(self):
        while self.idle:
            conn, since = self.idle.pop()
            if time.monotonic() - since < self.IDLE_MAX_S:
                return conn
            conn.close()
        return ApiConnection(self.sock)

    def _give(self, conn):
        self.idle.append((conn, time.monotonic()))

    def run_rm(self, cmd):
        """What `docker run --rm` does without attaching: create, wait for
        the removal, start, read the exit code; create and start on one
        connection, the wait on a second."""
        conn = self._take()
        wait = None
        try:
            cid = conn.request("POST", "/v1.41/containers/create",
                               {"Image": IMAGE, "Cmd": cmd,
                                "HostConfig": {"AutoRemove": True}})["Id"]
            wait = self._take()
            wait_path = f"/v1.41/containers/{cid}/wait?condition=removed"
            wait.send("POST", wait_path)
            # The engine answers the header once it waits: only then may
            # the container start, or its removal could come first.
            fields = wait.head("POST", wait_path)
            conn.request("POST", f"/v1.41/containers/{cid}/start")
            status = wait.body(fields)
        except BaseException:
            conn.close()
            if wait:
                wait.close()
            raise
        self._give(conn)
        self._give(wait)
        if status.get("StatusCode") != 0:
            raise SubjectError(f"exit code {status.get('StatusCode')}")


class ContainerRunApi(ContainerBenchmark):
    name = "run-api"
    summary = ("Wall time of `run --rm busybox true` through the Engine API alone (create "
               "with AutoRemove, wait for the removal, start), by a client in the benchmark's "
               "process that keeps its connections from one command to the next: berthd and "
               "a private dockerd (podman has no daemon here).")

    def subject(self, ctx, engine):
        if engine.name == "podman":
            s = Subject(name=engine.name, role=engine.role, argv=lambda i: [],
                        command="(no daemon)")
            s.fail(SKIPPED, "podman runs without a daemon: see the run benchmark")
            engine.error = engine.error or "no daemon"
            return s
        client = ApiClient(engine.sock)
        return Subject(name=engine.name, role=engine.role, argv=lambda i: [],
                       call=lambda i: client.run_rm(["true"]),
                       command="POST create, POST wait?condition=removed, POST start",
                       check=lambda: client.run_rm(["true"]))


class ContainerExec(ContainerBenchmark):
    name = "exec"
    summary = ("Wall time of `CLIENT exec CONTAINER true` into a running busybox container: "
               "the docker client against berthd and a private dockerd, and podman.")

    def prepare_engine(self, ctx, engine):
        _run(engine.cmd("run", "-d", *_run_flags(engine), "--name", "bench-exec", IMAGE,
                        "sleep", "100000"), env=engine.env)

    def subject(self, ctx, engine):
        def check():
            out = _run(engine.cmd("exec", "bench-exec", "sh", "-c", "echo $((6*7))"),
                       env=engine.env)
            if out.strip() != "42":
                raise SubjectError(f"exec printed {out!r}")

        return Subject(name=engine.name, role=engine.role,
                       argv=lambda i: engine.cmd("exec", "bench-exec", "true"),
                       command=f"{'podman' if engine.name == 'podman' else 'docker'} exec "
                               "CONTAINER true",
                       check=check)


class ContainerIdle(ContainerBenchmark):
    name = "idle"
    settle = 0.0  # a `ps -a` leaves nothing running
    summary = (f"{IDLE_CONTAINERS} idle running containers (`sleep`; {QUICK_IDLE_CONTAINERS} "
               "with --quick) per engine: the engine's memory (PSS of every process whose "
               "command line names the engine's directory or that works under it: berthd "
               "and its shims; dockerd, "
               "containerd and its shims; podman's conmons) and threads, before and with the "
               "containers; timed: `CLIENT ps -a` listing them.")

    def prepare_engine(self, ctx, engine):
        n = QUICK_IDLE_CONTAINERS if ctx.quick else IDLE_CONTAINERS
        pss0, threads0 = _pss_kib_and_threads(_engine_processes(engine))
        t0 = time.monotonic()
        for i in range(n):
            _run(engine.cmd("run", "-d", *_run_flags(engine), "--name", f"idle{i}", IMAGE,
                            "sleep", "1000000"), env=engine.env)
        started = time.monotonic() - t0
        time.sleep(1)
        pss, threads = _pss_kib_and_threads(_engine_processes(engine))
        self.findings[engine.name] = {
            "containers": n,
            "engine PSS, none (KiB)": pss0,
            f"engine PSS, {n} (KiB)": pss,
            "PSS per container (KiB)": round((pss - pss0) / n, 1),
            "threads, none": threads0,
            f"threads, {n}": threads,
            f"time to start {n} (s)": round(started, 1),
        }

    def subject(self, ctx, engine):
        def check():
            listed = self.container_ids(engine)
            want = QUICK_IDLE_CONTAINERS if ctx.quick else IDLE_CONTAINERS
            if len(listed) != want:
                raise SubjectError(f"ps -a listed {len(listed)} containers, not {want}")

        return Subject(name=engine.name, role=engine.role,
                       argv=lambda i: engine.cmd("ps", "-a"),
                       command=f"{'podman' if engine.name == 'podman' else 'docker'} ps -a",
                       check=check)
