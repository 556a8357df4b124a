"""Container benchmarks at scale, through each engine's own front door as in
containers.py (berthd and a private dockerd driven by the docker client,
podman by its command line), one engine at a time on the same busybox.

- `density`: N containers of `busybox httpd` with `--network host` and
  `--log-driver none` (the Raspberry Pi challenge), each serving on its own
  port of 127.0.0.1, started one `run -d` after the other; the time to start
  them all, the engine's memory (PSS of every engine process: the daemon and
  the shims or monitors that hold the containers) and threads with them
  running, and the time to stop and remove them all (`rm -f`).  An engine
  that cannot reach N is stopped there, with how far it got and why, and the
  others go on.
- `api-scale`: `ps -a`, `images` and `inspect CONTAINER` with 1,000
  created containers in the engine.
"""

import concurrent.futures
import http.client
import os
import re
import resource
import subprocess
import time

from ..core import FAILED, OK, SKIPPED, Subject, SubjectError
from ..report import grid
from .containers import IMAGE, ContainerBenchmark, _engine_processes, _run_flags
from .images import _run


def _sizes(var, default):
    """A list of container counts from the environment ("100,1000")."""
    text = os.environ.get(var, default)
    try:
        sizes = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise SystemExit(f"{var}: not a list of numbers: {text!r}") from None
    if any(n < 1 for n in sizes):
        raise SystemExit(f"{var}: every count must be at least 1: {text!r}")
    return sizes


DENSITY = _sizes("BERTH_BENCH_DENSITY", "100,1000")
DENSITY_BERTH = _sizes("BERTH_BENCH_DENSITY_BERTH", "")
QUICK_DENSITY = [10]
SCALE_CONTAINERS = _sizes("BERTH_BENCH_SCALE", "1000")[0]
QUICK_SCALE_CONTAINERS = 10

# The ports of the density containers: from PORT_BASE up, below the
# kernel's ephemeral range, skipping any port the host already uses.
PORT_BASE = int(os.environ.get("BERTH_BENCH_PORT_BASE", "20000"))
# An engine is stopped before the machine is: when less memory than this is
# available, or when fewer task ids than this are left under pid_max.
MIN_AVAILABLE_KIB = 1 << 20
MIN_FREE_TASKS = 1000
# Per container: the seconds its `run -d` may take, and the seconds on
# average the whole start may take (plus a minute).
RUN_TIMEOUT = 120.0
START_BUDGET = 2.0
# Names per `rm -f` command.
RM_CHUNK = 500
# Daemons; every other engine process holds containers (berth-shim,
# containerd-shim-runc-v2, conmon).
DAEMONS = ("berthd", "dockerd", "containerd")


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _meminfo(key):
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _tasks_left():
    """Task ids left under kernel.pid_max (threads count as tasks)."""
    try:
        total = int(_read("/proc/loadavg").split()[3].split("/")[1])
        return int(_read("/proc/sys/kernel/pid_max")) - total
    except (IndexError, ValueError):
        return MIN_FREE_TASKS + 1


def _used_ports():
    used = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6"):
        for line in _read(table).splitlines()[1:]:
            fields = line.split()
            if len(fields) > 1:
                used.add(int(fields[1].rsplit(":", 1)[1], 16))
    return used


def free_ports(n):
    """N ports of 127.0.0.1 that nothing on the host uses, from PORT_BASE
    up to the start of the ephemeral range."""
    try:
        top = int(_read("/proc/sys/net/ipv4/ip_local_port_range").split()[0])
    except (IndexError, ValueError):
        top = 32768
    used = _used_ports()
    ports = [p for p in range(PORT_BASE, top) if p not in used][:n]
    if len(ports) < n:
        raise SubjectError(f"only {len(ports)} free ports from {PORT_BASE} to {top - 1}")
    return ports


def engine_usage(engine):
    """The engine's processes (every process whose command line names its
    private directory): PSS in KiB, threads, and how many of each are the
    daemons' and the monitors' (shims, conmons)."""
    u = {"pss_kib": 0, "threads": 0, "daemon_pss_kib": 0, "daemon_threads": 0,
         "daemon_fds": 0, "daemons": 0, "monitors": 0}
    for pid in _engine_processes(engine):
        pss = threads = None
        for line in _read(f"/proc/{pid}/smaps_rollup").splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
        for line in _read(f"/proc/{pid}/status").splitlines():
            if line.startswith("Threads:"):
                threads = int(line.split()[1])
        if pss is None or threads is None:
            continue  # gone in between
        daemon = _read(f"/proc/{pid}/comm").strip() in DAEMONS
        u["pss_kib"] += pss
        u["threads"] += threads
        if daemon:
            u["daemon_pss_kib"] += pss
            u["daemon_threads"] += threads
            try:
                u["daemon_fds"] += len(os.listdir(f"/proc/{pid}/fd"))
            except OSError:
                pass
        u["daemons" if daemon else "monitors"] += 1
    return u


def _get(port, wait=5.0):
    """GET /passwd of the httpd on PORT: its container's /etc/passwd.  An
    httpd that was just started has WAIT seconds to listen."""
    deadline = time.monotonic() + wait
    while True:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            c.request("GET", "/passwd")
            r = c.getresponse()
            body = r.read()
            break
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise SubjectError(f"GET 127.0.0.1:{port}/passwd: connection refused") from None
            time.sleep(0.1)
        except OSError as e:
            raise SubjectError(f"GET 127.0.0.1:{port}/passwd: {e}") from None
        finally:
            c.close()
    if r.status != 200 or not body.startswith(b"root:"):
        raise SubjectError(f"GET 127.0.0.1:{port}/passwd: {r.status} {body[:60]!r}")


def _sample(items, k):
    """K items spread evenly over ITEMS, the first and the last included."""
    if len(items) <= k:
        return list(items)
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


def _client(engine):
    return "podman" if engine.name == "podman" else "docker"


def _podman_limits(engine):
    """podman's containers ask for the limits its own process can give (see
    _run_flags in containers.py), without its network flag."""
    flags = _run_flags(engine)
    return flags[2:] if flags[:2] == ["--network", "none"] else flags


def _rm(engine, names):
    """rm -f NAMES: kill at once and remove.  podman waits for its stop
    timeout (10 s) after SIGTERM first, which httpd as PID 1 ignores: -t 0
    makes it do what docker rm -f does."""
    return engine.cmd("rm", "-f", *(["-t", "0"] if engine.name == "podman" else []), *names)


def _raise_nofile():
    """Open files up to the hard limit, for the engines started from here."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _unmount_under(top):
    """Unmounts what a stopped engine left mounted under TOP (dockerd keeps
    its bind mount of the host's network namespace for host networking,
    exec/netns/default, after it exits), deepest first."""
    points = []
    for line in _read("/proc/self/mountinfo").splitlines():
        fields = line.split()
        if len(fields) > 4:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
            if point.startswith(top.rstrip("/") + "/"):
                points.append(point)
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", point], capture_output=True)


class ScaleBenchmark(ContainerBenchmark):
    """What density and api-scale share: the engines, a raised open file
    limit, and removal of every container the benchmark named."""

    prefix = ""
    settle = 0.0  # lists and inspects leave nothing running

    def setup(self, ctx):
        _raise_nofile()
        self.named = {}
        return super().setup(ctx)

    def remove_all(self, engine, names):
        """rm -f NAMES in chunks (every one must exist); returns the wall
        time in seconds, raises SubjectError when a command fails."""
        start = time.perf_counter()
        for k in range(0, len(names), RM_CHUNK):
            chunk = names[k:k + RM_CHUNK]
            _run(_rm(engine, chunk), env=engine.env, timeout=60 + len(chunk))
        return time.perf_counter() - start

    def sweep(self, engine, names):
        """Removes whichever of NAMES (and of the benchmark's prefix) the
        engine still has, errors aside; returns the names left."""
        wanted = set(names)
        try:
            present = self.container_names(engine)
            todo = sorted(x for x in present if x in wanted or x.startswith(self.prefix))
        except SubjectError:
            todo = sorted(wanted)
        for k in range(0, len(todo), RM_CHUNK):
            chunk = todo[k:k + RM_CHUNK]
            try:
                subprocess.run(_rm(engine, chunk), capture_output=True,
                               env=engine.env, timeout=60 + 5 * len(chunk))
            except subprocess.TimeoutExpired:
                pass
        try:
            gone = wanted | set(todo)
            return [x for x in self.container_names(engine) if x in gone]
        except SubjectError:
            return todo

    def teardown(self, ctx):
        for e in self.started:
            try:
                left = self.sweep(e, self.named.get(e.name, ()))
                if left:
                    print(f"{self.name}: {e.name} kept {len(left)} containers: {left[:5]}")
            except Exception as err:  # the engine is stopped all the same
                print(f"{self.name}: removing {e.name}'s containers: {err}")
            try:
                e.stop()
            except Exception as err:
                print(f"{self.name}: stopping {e.name}: {err}")
        self.started = []
        _unmount_under(ctx.workdir)


    def container_names(self, engine):
        out = _run(engine.cmd("ps", "-a", "--format", "{{.Names}}"), env=engine.env,
                   timeout=300)
        return out.split()


class Density(ScaleBenchmark):
    name = "density"
    prefix = "density"
    summary = (
        "N containers of `busybox httpd -f -p 127.0.0.1:PORT -h /etc` (`run -d --network "
        "host --log-driver none`, one port each), started one after the other by "
        "the client, for N in " + ", ".join(map(str, DENSITY)) + f" ({QUICK_DENSITY[0]} with "
        "--quick), one engine at a time: the time to start them all and the median `run -d`; "
        "the engine's memory with them running (PSS of every process whose command line "
        "names the engine's directory or that works under it: berthd and its berth-shims; "
        "dockerd, containerd and its shims; podman's conmons), idle, per container and per "
        "shim or monitor; its threads (all, and the daemons' alone); the time of `rm -f` "
        "(podman: `rm -f -t 0`) of them all.  Ratios: start "
        "time, engine PSS, removal time.  An engine that cannot reach N stops there, "
        "with the reason."
    )

    def plan(self, ctx):
        sizes = self.sizes(ctx)
        extra = [] if ctx.quick else DENSITY_BERTH
        return (f"N = {', '.join(map(str, sizes))}"
                + (f"; berth alone also N = {', '.join(map(str, extra))}" if extra else ""))

    def sizes(self, ctx):
        return QUICK_DENSITY if ctx.quick else DENSITY

    def subject(self, ctx, engine):
        return Subject(name=engine.name, role=engine.role, argv=lambda i: [],
                       command=f"{_client(engine)} run -d --network host --log-driver none "
                               f"--name densityI {IMAGE} httpd -f -p 127.0.0.1:PORT -h /etc")

    def measure(self, ctx, subjects):
        self.records = []
        engines = {e.name: e for e in self.started}
        active = [s for s in subjects if s.status == OK and s.name in engines]
        stopped = {}
        plan = [(n, active) for n in self.sizes(ctx)]
        if not ctx.quick:
            plan += [(n, [s for s in active if s.role == "berth"]) for n in DENSITY_BERTH]
        for k, (n, subs) in enumerate(plan):
            extension = k >= len(self.sizes(ctx))
            # Each engine takes each place in the order in turn.
            order = subs[k % len(subs):] + subs[:k % len(subs)] if subs else []
            for s in order:
                if s.name in stopped:
                    self.records.append({"engine": s.name, "containers": n, "started": 0,
                                         "error": f"not run: {stopped[s.name]}"})
                    continue
                print(f"density: {s.name}, {n} containers", flush=True)
                rec = self.run_engine(ctx, engines[s.name], n)
                rec["extension"] = extension
                self.records.append(rec)
                if rec["error"]:
                    stopped[s.name] = f"stopped at N={n}"
                    if not extension:
                        s.fail(FAILED, f"N={n}: {rec['error']}")
                ctx.log(f"{s.name} N={n}: " + ", ".join(
                    f"{key} {v}" for key, v in rec.items() if key != "start_samples_ms"))

    def run_engine(self, ctx, engine, n):
        rec = {"engine": engine.name, "containers": n, "started": 0, "error": ""}
        names = [f"density{i}" for i in range(n)]
        self.named[engine.name] = names + ["densitywarm"]
        created = 0
        flags = ["--network", "host", "--log-driver", "none", *_podman_limits(engine)]

        def run(name, port):
            _run(engine.cmd("run", "-d", *flags, "--name", name, IMAGE, "httpd", "-f", "-p",
                            f"127.0.0.1:{port}", "-h", "/etc"),
                 env=engine.env, timeout=max(ctx.timeout, RUN_TIMEOUT))

        try:
            ports = free_ports(n)
            # One container first, untimed: the engine can run the workload,
            # and its idle memory is that of an engine that has run one.
            try:
                run("densitywarm", ports[0])
                _get(ports[0])
                self.remove_all(engine, ["densitywarm"])
            except SubjectError as e:
                raise SubjectError(f"first container: {e}") from None
            time.sleep(1)
            idle = engine_usage(engine)
            samples = []
            deadline = time.monotonic() + 60 + START_BUDGET * n
            t0 = time.perf_counter()
            try:
                for i in range(n):
                    if _meminfo("MemAvailable") < MIN_AVAILABLE_KIB:
                        raise SubjectError(f"less than {MIN_AVAILABLE_KIB >> 20} GiB of memory "
                                           "left on the host")
                    if _tasks_left() < MIN_FREE_TASKS:
                        raise SubjectError(f"fewer than {MIN_FREE_TASKS} task ids left under "
                                           "kernel.pid_max")
                    if time.monotonic() > deadline:
                        raise SubjectError(f"took longer than {60 + START_BUDGET * n:g} s")
                    created = i + 1
                    t = time.perf_counter()
                    run(names[i], ports[i])
                    samples.append(time.perf_counter() - t)
                    rec["started"] = i + 1
            except SubjectError as e:
                rec["error"] = f"container {rec['started'] + 1}: {e}"
            start_s = time.perf_counter() - t0
            started = rec["started"]
            ms = sorted(x * 1000 for x in samples)
            rec.update({
                "start_s": round(start_s, 3),
                "run_median_ms": round(ms[len(ms) // 2], 2) if ms else None,
                "start_samples_ms": [round(x * 1000, 3) for x in samples],
                "idle_pss_kib": idle["pss_kib"],
                "idle_threads": idle["threads"],
                "idle_daemon_threads": idle["daemon_threads"],
            })
            if started:
                time.sleep(1)  # the last ones settle
                usage = engine_usage(engine)
                rec.update({
                    "pss_kib": usage["pss_kib"],
                    "pss_per_container_kib": round((usage["pss_kib"] - idle["pss_kib"])
                                                   / started, 1),
                    "daemon_pss_kib": usage["daemon_pss_kib"],
                    "monitors": usage["monitors"],
                    "monitor_pss_kib": round((usage["pss_kib"] - usage["daemon_pss_kib"])
                                             / max(usage["monitors"], 1), 1),
                    "threads": usage["threads"],
                    "daemon_threads": usage["daemon_threads"],
                    "daemon_open_files": usage["daemon_fds"],
                    "processes": usage["daemons"] + usage["monitors"],
                })
                try:
                    self.check(engine, names[:started], ports[:started])
                except SubjectError as e:
                    rec["error"] = rec["error"] or f"check: {e}"
                try:
                    rec["remove_s"] = round(self.remove_all(engine, names[:started]), 3)
                    mine = set(names)
                    left = [x for x in self.container_names(engine) if x in mine]
                    if left:
                        rec["error"] = rec["error"] or f"{len(left)} left after rm -f"
                except SubjectError as e:
                    rec["error"] = rec["error"] or f"rm -f: {e}"
        except SubjectError as e:
            rec["error"] = rec["error"] or str(e)
        finally:
            # Whatever happened, nothing of this N stays for the next one.
            left = self.sweep(engine, names[:created] + ["densitywarm"])
            if left:
                rec["error"] = rec["error"] or f"{len(left)} left after rm -f"
        return rec

    def check(self, engine, names, ports):
        """Every container running, and a sample of them serving."""
        running = set(_run(engine.cmd("ps", "--format", "{{.Names}}"), env=engine.env,
                           timeout=300).split())
        missing = [x for x in names if x not in running]
        if missing:
            raise SubjectError(f"{len(missing)} of {len(names)} not running (first: "
                               f"{missing[0]})")
        for port in _sample(ports, 10):
            _get(port)

    def results(self):
        return getattr(self, "records", None)

    def table(self, subjects):
        recs = getattr(self, "records", [])
        done = {(r["engine"], r["containers"]): r for r in recs
                if not r["error"] and r["started"] == r["containers"]}
        measured = {r["engine"] for r in recs if r["started"]}
        peers = [s.name for s in subjects if s.role == "peer" and s.name in measured]
        head = ["subject", "N", "started", "start all s", "run -d median ms",
                "engine PSS MiB", "idle PSS MiB", "PSS per container KiB",
                "shims or monitors: PSS KiB each", "threads",
                "daemon threads", "rm -f all s"]
        head += [f"vs {p} (start · PSS · rm)" for p in peers]
        rows = []
        role = {s.name: s.role for s in subjects}
        place = {s.name: k for k, s in enumerate(subjects)}
        for r in sorted(recs, key=lambda r: (r["containers"], place.get(r["engine"], 0))):
            name = f"**{r['engine']}**" if role.get(r["engine"]) == "berth" else r["engine"]
            row = [name, str(r["containers"]), str(r["started"])]
            if not r["started"]:
                rows.append(row + [r["error"] if r["error"].startswith("not run")
                                   else f"stopped: {r['error']}"])
                continue

            def num(key, scale=1, fmt="{:.1f}"):
                v = r.get(key)
                return "—" if v is None else fmt.format(v / scale if scale != 1 else v)

            row += [num("start_s"), num("run_median_ms"), num("pss_kib", 1024),
                    num("idle_pss_kib", 1024), num("pss_per_container_kib"),
                    f"{num('monitors', fmt='{}')}: {num('monitor_pss_kib')}",
                    num("threads", fmt="{}"),
                    f"{r.get('daemon_threads', '—')} (idle {r['idle_daemon_threads']})",
                    num("remove_s")]
            for p in peers:
                mine, theirs = done.get((r["engine"], r["containers"])), \
                    done.get((p, r["containers"]))
                if p == r["engine"]:
                    row.append("—")
                elif mine and theirs:
                    row.append(" · ".join(
                        f"{mine[k] / theirs[k]:.2f}×" if theirs.get(k) else "—"
                        for k in ("start_s", "pss_kib", "remove_s")))
                else:
                    row.append("")
            rows.append(row)
            if r["error"]:
                rows.append(["", "", "", f"stopped: {r['error']}"])
        skipped = [s for s in subjects if s.status == SKIPPED]
        rows += [[s.name, "", "", f"skipped: {s.error}"] for s in skipped]
        return grid(head, rows)


class ApiScale(ScaleBenchmark):
    name = "api-scale"
    prefix = "scale"
    summary = (
        f"Wall time of `CLIENT ps -a`, `CLIENT images` and `CLIENT inspect CONTAINER` with "
        f"{SCALE_CONTAINERS} created busybox containers in the engine ({QUICK_SCALE_CONTAINERS} "
        "with --quick; created, not started): the docker client against berthd and against "
        "a private dockerd, and podman.  Ratios within each command."
    )
    OPERATIONS = (("ps -a", ("ps", "-a")), ("images", ("images",)),
                  ("inspect", ("inspect", "CONTAINER")))

    def count(self, ctx):
        return QUICK_SCALE_CONTAINERS if ctx.quick else SCALE_CONTAINERS

    def plan(self, ctx):
        return (f"{self.count(ctx)} containers; {ctx.runs} runs after {ctx.warmup} warm-up "
                "rounds")

    def setup(self, ctx):
        self.by_name, self.create_errors = {}, {}
        engines = super().setup(ctx)
        # One subject per engine and command, grouped by command.
        subjects = []
        for op, args in self.OPERATIONS:
            for s in engines:
                subjects.append(self.op_subject(ctx, s, op, args))
        return subjects

    def subject(self, ctx, engine):
        self.by_name[engine.name] = engine
        return Subject(name=engine.name, role=engine.role, argv=lambda i: [], command="")

    def prepare_engine(self, ctx, engine):
        n = self.count(ctx)
        names = [f"scale{i}" for i in range(n)]
        self.named[engine.name] = names
        ctx.log(f"{engine.name}: creating {n} containers")

        def create(name):
            _run(engine.cmd("create", *_run_flags(engine), "--name", name, IMAGE, "true"),
                 env=engine.env, timeout=max(ctx.timeout, RUN_TIMEOUT))

        # Untimed: four clients at once.  An engine that cannot hold them
        # all fails (its containers are removed at the end).
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(create, x) for x in names]
        errors = [f.exception() for f in futures if f.exception()]
        if errors:
            self.create_errors[engine.name] = (f"created {n - len(errors)} of {n} containers: "
                                               f"{errors[0]}")

    def op_subject(self, ctx, engine_subject, op, args):
        s0 = engine_subject
        n = self.count(ctx)
        target = f"scale{n // 2}"
        args = [target if a == "CONTAINER" else a for a in args]
        s = Subject(name=f"{s0.name} {op}", role=s0.role, label=s0.name, group=op,
                    version=s0.version, argv=lambda i: [],
                    command=f"{'podman' if s0.name == 'podman' else 'docker'} "
                            + " ".join(args))
        if s0.status != OK:
            s.fail(s0.status, s0.error)
            return s
        if s0.name in self.create_errors:
            s.fail(FAILED, self.create_errors[s0.name])
            return s
        engine = self.by_name[s0.name]
        argv = engine.cmd(*args)
        s.argv = lambda i: argv

        def check():
            out = _run(argv, env=engine.env)
            if op == "ps -a":
                got = len(self.container_names(engine))
                if got != n:
                    raise SubjectError(f"ps -a lists {got} containers, not {n}")
            elif op == "images":
                if "busybox" not in out:
                    raise SubjectError("images does not list busybox")
            elif f'"/{target}"' not in out and f'"{target}"' not in out:
                raise SubjectError(f"inspect {target} does not name it")

        s.check = check
        return s
