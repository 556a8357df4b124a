"""The command line's own cost: `berth version` and `berth ps` against an
idle berthd (one private daemon, no containers), side by side with the
docker client's `docker version` and `docker ps` against the same daemon.
The daemon's work is the same for both clients; what differs is the
client program: its start-up, its parsing, its connection and its
printing.  The floor is `true`, a process that does nothing.
"""

import os
import subprocess

from ..core import OK, SKIPPED, Benchmark, Subject, SubjectError
from ..machine import version_of
from .containers import Berthd


class CliCost(Benchmark):
    name = "cli"
    summary = ("Wall time of `CLIENT version` and `CLIENT ps` against an idle berthd: the "
               "berth CLI and the docker client on the same private daemon, and `true` as "
               "the floor.  Ratios within each command.")
    OPERATIONS = (("version", ("version",)), ("ps", ("ps",)))

    def setup(self, ctx):
        self.daemon = Berthd(ctx.workdir, os.path.join(os.path.dirname(ctx.berth), "berthd"))
        reason = self.daemon.error
        if not reason:
            try:
                self.daemon.start()
            except SubjectError as e:
                reason = f"start: {e}"
        host = f"unix://{self.daemon.sock}"
        env = dict(os.environ)
        env.pop("DOCKER_HOST", None)
        env.pop("BERTH_DATA_ROOT", None)
        env["DOCKER_CONFIG"] = os.path.join(ctx.workdir, "docker-config")
        clients = (("berth", "berth", [ctx.berth, "-H", host], version_of([ctx.berth,
                                                                           "--version"],
                                                                          repo=ctx.repo)),
                   ("docker", "peer", ["docker", "-H", host],
                    version_of(["docker", "--version"])))
        subjects = []
        for op, args in self.OPERATIONS:
            for label, role, prefix, version in clients:
                argv = [*prefix, *args]
                s = Subject(name=f"{label} {op}", role=role, label=label, group=op,
                            version=version, argv=lambda i, argv=argv: argv,
                            command=" ".join([label, *args]))
                if reason:
                    s.fail(SKIPPED, reason)
                else:
                    s.check = self.checker(argv, env, op)
                subjects.append(s)
            subjects.append(Subject(name=f"floor {op}", role="floor", label="floor", group=op,
                                    argv=lambda i: ["true"], command="true"))
        return subjects

    @staticmethod
    def checker(argv, env, op):
        def check():
            res = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30)
            if res.returncode != 0:
                raise SubjectError(res.stderr.strip() or f"exit {res.returncode}")
            want = "CONTAINER ID" if op == "ps" else "Server"
            if want not in res.stdout:
                raise SubjectError(f"{op} printed no {want!r}")
        return check

    def teardown(self, ctx):
        if self.daemon.proc:
            self.daemon.stop()
