"""bench/run's command line: picks the benchmarks, runs each in a private
work directory that is always removed, and writes the run's Markdown and JSON
files under bench/results/.
"""

import argparse
import datetime
import os
import shutil
import sys
import tempfile

from .benchmarks import BENCHMARKS
from .core import FAILED, OK, Context, mount_run_dir, unmount_workdir
from .machine import git_describe, machine
from .report import benchmark_json, markdown, write

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEFAULT_RUNS, QUICK_RUNS = 50, 10


def parse(argv):
    p = argparse.ArgumentParser(
        prog="bench/run",
        description="Benchmarks berth against its peers. With no NAME, runs them all.",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (see --list)")
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    p.add_argument("--quick", action="store_true",
                   help=f"{QUICK_RUNS} runs and one warm-up round, for a first look")
    p.add_argument("--runs", type=int, metavar="N",
                   help=f"timed runs per subject (default {DEFAULT_RUNS}, quick {QUICK_RUNS})")
    p.add_argument("--warmup", type=int, metavar="N",
                   help="untimed rounds first (default 2, quick 1)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S",
                   help="seconds one command may take before its subject fails (default 30)")
    default_berth = os.environ.get("BERTH_RUNC") or os.path.join(REPO, "build", "berth-runc")
    p.add_argument("--berth-runc", metavar="PATH", default=default_berth,
                   help="berth-runc to measure (default $BERTH_RUNC or build/berth-runc)")
    default_cli = os.environ.get("BERTH") or os.path.join(REPO, "build", "berth")
    p.add_argument("--berth", metavar="PATH", default=default_cli,
                   help="berth CLI to measure (default $BERTH or build/berth)")
    p.add_argument("--runc", metavar="PATH", default=os.environ.get("RUNC", "runc"),
                   help="runc to compare with (default $RUNC or runc on PATH)")
    p.add_argument("--out", metavar="DIR", default=os.path.join(REPO, "bench", "results"),
                   help="where the result files go (default bench/results)")
    p.add_argument("--strict", action="store_true",
                   help="exit with status 1 when a subject failed")
    p.add_argument("-v", "--verbose", action="store_true", help="report progress")
    args = p.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        p.error("--runs must be at least 1")
    if args.warmup is not None and args.warmup < 0:
        p.error("--warmup must not be negative")
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        p.error(f"unknown benchmark {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})")
    return args


def main(argv):
    args = parse(argv)
    if args.list:
        for name, cls in BENCHMARKS.items():
            print(f"{name}\n    {cls.summary}")
        return 0
    names = args.names or list(BENCHMARKS)
    runs = args.runs or (QUICK_RUNS if args.quick else DEFAULT_RUNS)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    now = datetime.datetime.now(datetime.timezone.utc)

    results, versions = [], {}
    for name in names:
        bench = BENCHMARKS[name]()
        workdir = tempfile.mkdtemp(prefix=f"berth-bench-{name}-")
        mount_run_dir(workdir)
        ctx = Context(
            repo=REPO,
            workdir=workdir,
            berth=args.berth,
            berth_runc=args.berth_runc,
            runc=args.runc,
            runs=runs,
            warmup=warmup,
            timeout=args.timeout,
            quick=args.quick,
            verbose=args.verbose,
        )
        print(f"{name}: {bench.plan(ctx)}", flush=True)
        subjects = []
        try:
            subjects = bench.setup(ctx)
            bench.measure(ctx, subjects)
        finally:
            for s in subjects:
                if s.cleanup:
                    try:
                        s.cleanup()
                    except Exception as e:  # cleanup must not hide the results
                        print(f"{name}: cleanup of {s.name}: {e}", file=sys.stderr)
            bench.teardown(ctx)
            unmount_workdir(workdir)
            shutil.rmtree(workdir, ignore_errors=True)
        for s in subjects:
            if s.status != OK:
                print(f"{name}: {s.name} {s.status}: {s.error}", flush=True)
            if s.version:
                versions[s.engine] = s.version
        results.append((bench, subjects))

    doc = {
        "date": now.isoformat(timespec="seconds"),
        "berth_commit": git_describe(REPO),
        "machine": machine(),
        "versions": versions,
        "runs": runs,
        "warmup": warmup,
        "quick": args.quick,
        "benchmarks": [benchmark_json(b, s) for b, s in results],
    }
    md = markdown(doc, results)
    stem = now.strftime("%Y%m%dT%H%M%SZ") + "-" + "-".join(names) + ("-quick" if args.quick else "")
    paths = write(args.out, stem, doc, md)
    print()
    print(md)
    print("written: " + ", ".join(os.path.relpath(p) for p in paths))
    failed = any(s.status == FAILED for _, subjects in results for s in subjects)
    return 1 if args.strict and failed else 0
