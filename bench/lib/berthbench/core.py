"""The measuring core: a benchmark offers subjects (berth and its peers, each
one command line to time), and measure() runs them in interleaved rounds so
that drift in the machine's state (caches, frequency, other load) falls on
every subject alike.  A subject that cannot run is skipped or failed with its
reason, and the others go on.
"""

import os
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


class SubjectError(Exception):
    """A subject failed its check or a timed run."""


@dataclass
class Subject:
    """One row of a benchmark's table: a command line timed once per round.

    name:    short row label ("berth-runc", "runc", "floor")
    role:    "berth", "peer" or "floor"; ratios are computed against the
             peers and the floor
    argv:    function of the iteration number returning the command line
    command: the command line as the report shows it
    check:   run once before timing; raises SubjectError when the subject
             does not do the work it is timed for
    prepare: run before each timed command, untimed, with the iteration
             number (to reset state the command changes); raises
             SubjectError
    cleanup: run after the rounds (and after a failure), never raises
    call:    instead of argv, a function of the iteration number timed in
             this process (an API client's requests); raises SubjectError
    group:   the operation the row times, when a benchmark times several
             (ratios are taken within a group only)
    label:   the engine the row belongs to, as the ratio columns name it
             (default: name)
    """

    name: str
    role: str
    argv: Callable[[int], List[str]]
    command: str
    version: str = ""
    check: Optional[Callable[[], None]] = None
    prepare: Optional[Callable[[int], None]] = None
    cleanup: Optional[Callable[[], None]] = None
    call: Optional[Callable[[int], None]] = None
    group: str = ""
    label: str = ""
    status: str = OK
    error: str = ""
    samples: List[float] = field(default_factory=list)

    @property
    def engine(self):
        return self.label or self.name

    def fail(self, status, error):
        self.status, self.error = status, error

    def stats(self):
        """Summary of the samples in milliseconds (empty without samples)."""
        if not self.samples:
            return {}
        ms = sorted(s * 1000.0 for s in self.samples)
        if len(ms) >= 2:
            q1, _, q3 = statistics.quantiles(ms, n=4, method="inclusive")
        else:
            q1 = q3 = ms[0]
        return {
            "median_ms": statistics.median(ms),
            "mean_ms": statistics.fmean(ms),
            "stdev_ms": statistics.stdev(ms) if len(ms) >= 2 else 0.0,
            "min_ms": ms[0],
            "max_ms": ms[-1],
            "q1_ms": q1,
            "q3_ms": q3,
            "iqr_ms": q3 - q1,
            "runs": len(ms),
        }

    def to_json(self):
        return {
            "name": self.name,
            "role": self.role,
            **({"group": self.group, "label": self.engine} if self.group else {}),
            "command": self.command,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "samples_ms": [round(s * 1000.0, 4) for s in self.samples],
            **{k: round(v, 4) if isinstance(v, float) else v for k, v in self.stats().items()},
        }


RUN_DIR = "run"


def mount_run_dir(workdir):
    """A tmpfs at WORKDIR/run, as /run is on a host: where the engines keep
    their runtime state (exec roots, podman's runroot).  Nothing when the
    harness may not mount one; the engines then keep it in their own
    directories."""
    path = os.path.join(workdir, RUN_DIR)
    os.makedirs(path, exist_ok=True)
    if os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "berth-bench-run", path],
                       capture_output=True)


def run_dir(workdir):
    """WORKDIR/run when mount_run_dir() mounted it, else None."""
    path = os.path.join(workdir, RUN_DIR)
    return path if os.path.ismount(path) else None


def unmount_workdir(workdir):
    """Detaches every mount left under WORKDIR, deepest first: the run
    tmpfs, and what an engine left mounted in its own directory (podman
    keeps its storage's overlay directory bound on itself)."""
    points = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                point = line.split()[4].replace("\\040", " ")
                if point == workdir or point.startswith(workdir.rstrip("/") + "/"):
                    points.append(point)
    except OSError:
        return
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


@dataclass
class Context:
    """What every benchmark may use: the repository, the binaries under
    test, a private work directory, and the run's settings."""

    repo: str
    workdir: str
    berth: str
    berth_runc: str
    runc: str
    runs: int
    warmup: int
    timeout: float
    quick: bool
    verbose: bool = False

    def log(self, msg):
        if self.verbose:
            print(f"  {msg}", flush=True)


class Benchmark:
    """Base of every benchmark.  A subclass sets name and summary, returns
    its subjects from setup() (already skipped where a peer is missing) and
    undoes everything in teardown()."""

    name = ""
    summary = ""
    # What a benchmark measured besides time, per subject name: {metric:
    # value}, shown as a second table (memory, threads...).
    findings: dict = {}
    # Seconds of rest before each timed command, so that what the command
    # before it left running (an engine's clean-up after its answer) does
    # not take the CPU from this one.
    settle = 0.0

    def setup(self, ctx: Context) -> List[Subject]:
        raise NotImplementedError

    def plan(self, ctx: Context) -> str:
        """What the run will do, printed as it starts."""
        rest = f", each {self.settle:g} s after the one before" if self.settle else ""
        return f"{ctx.runs} runs after {ctx.warmup} warm-up rounds{rest}"

    def measure(self, ctx: Context, subjects: List[Subject]) -> None:
        """Times the subjects (interleaved rounds of one command each); a
        benchmark that measures something else overrides it."""
        measure(ctx, subjects, self.settle)

    def table(self, subjects: List[Subject]) -> Optional[str]:
        """The benchmark's own Markdown table, instead of the table of
        timed rounds; None for the usual one."""
        return None

    def results(self) -> Optional[list]:
        """What the benchmark's own table shows, every sample included, for
        the JSON file; None when it has no table of its own."""
        return None

    def teardown(self, ctx: Context) -> None:
        pass


def last_line(text):
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def run_once(subject, i, timeout):
    """Runs the subject's command for iteration i; returns the wall time in
    seconds or raises SubjectError."""
    if subject.call:
        start = time.perf_counter()
        subject.call(i)
        return time.perf_counter() - start
    argv = subject.argv(i)
    start = time.perf_counter()
    try:
        res = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise SubjectError(f"timed out after {timeout:g}s: {' '.join(argv)}") from None
    except OSError as e:
        raise SubjectError(f"{argv[0]}: {e.strerror}") from None
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        err = last_line(res.stderr.decode(errors="replace")) or "(no message)"
        raise SubjectError(f"exit status {res.returncode}: {err}")
    return elapsed


def measure(ctx, subjects, settle=0.0):
    """Checks each runnable subject, then times ctx.warmup + ctx.runs rounds.
    Round r runs the subjects rotated by r, so that each takes each place in
    the order equally often; each command starts SETTLE seconds after the
    one before.  Samples of the warm-up rounds are dropped."""
    for s in subjects:
        if s.status != OK or s.check is None:
            continue
        try:
            s.check()
        except SubjectError as e:
            s.fail(FAILED, f"check: {e}")
    active = [s for s in subjects if s.status == OK]
    rounds = ctx.warmup + ctx.runs
    for r in range(rounds):
        k = r % len(active) if active else 0
        for s in active[k:] + active[:k]:
            if s.status != OK:
                continue
            try:
                if s.prepare:
                    s.prepare(r)
                time.sleep(settle)
                elapsed = run_once(s, r, ctx.timeout)
            except SubjectError as e:
                s.fail(FAILED, f"round {r + 1}: {e}")
                continue
            if r >= ctx.warmup:
                s.samples.append(elapsed)
        ctx.log(f"round {r + 1}/{rounds} done")
    for s in subjects:
        if s.status == FAILED:
            s.samples.clear()


def ratios(subjects):
    """{subject: {other: median ratio}} between every measured subject and
    each measured peer or floor of its group (a ratio above 1 means slower);
    the other is named by its label."""
    measured = [s for s in subjects if s.status == OK and s.samples]
    med = {s.name: s.stats()["median_ms"] for s in measured}
    out = {}
    for s in measured:
        out[s.name] = {
            b.engine: med[s.name] / med[b.name]
            for b in measured
            if b.role in ("peer", "floor") and b.group == s.group and b is not s
            and med[b.name] > 0
        }
    return out
