"""Integration tests for berth-init, the container init.

berth-init runs as PID 1 of a new PID namespace (``unshare --pid --fork
--mount-proc``) and, in the second half, as a plain process that registers as
child subreaper.  The commands it runs are small shell scripts that report
what they saw through files in a temporary directory.
"""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
BUILD = Path(os.environ.get("BERTH_BUILD", "build"))
if not BUILD.is_absolute():
    BUILD = REPO / BUILD
BERTH_INIT = BUILD / "berth-init"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for PID namespaces"),
    pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare"),
    pytest.mark.skipif(not BERTH_INIT.exists(), reason=f"{BERTH_INIT} is not built"),
]

WAIT = 20  # seconds any berth-init run may take before the test fails


def proc_states(pids="[0-9]*"):
    """Shell text that prints "STATE PPID" for the processes PIDS (a glob or
    a shell word); the command name may hold spaces, so the fields are taken
    after the last ')'."""
    return (f"cat /proc/{pids}/stat 2>/dev/null"
            r" | sed -n 's/^.*) \([A-Za-z]\) \([0-9]*\) .*$/\1 \2/p'")


# Makes 100 orphans that exit at once: each subshell starts one in the
# background and exits, so the orphan is re-parented to the init (or
# subreaper) and becomes its zombie when it exits.
MAKE_ORPHANS = """
i=0
while [ $i -lt 100 ]; do
    ( sh -c 'exit 0' & )
    i=$((i + 1))
done
"""


def proc_parent(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def descendants(root):
    """Every process below ROOT, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            ppid = proc_parent(int(entry.name))
            if ppid is not None:
                parents[int(entry.name)] = ppid
    found = []
    for pid in parents:
        p, depth = pid, 0
        while p in parents and p not in (0, 1, root) and depth < 256:
            p, depth = parents[p], depth + 1
        if p == root and pid != root:
            found.append(pid)
    return found


def alive(pid):
    """True while PID exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def kill_pid(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def workdir(tmp_path):
    return tmp_path


def _default_signals():
    for sig in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


class Runner:
    """Starts berth-init and ends whatever is still running at teardown."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []
        self.pidfiles = []

    def start(self, args, pid1=True, env=None, **kwargs):
        cmd = [str(BERTH_INIT), *args]
        if pid1:
            cmd = ["unshare", "--pid", "--fork", "--mount-proc", *cmd]
        full_env = {k: v for k, v in os.environ.items() if k != "BERTH_INIT_VERBOSE"}
        full_env.update(env or {})
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        # A test run started in the background inherits SIGINT and SIGQUIT
        # ignored, and a shell cannot trap what it was started ignoring:
        # the commands get the default dispositions back.
        kwargs.setdefault("preexec_fn", _default_signals)
        proc = subprocess.Popen(cmd, env=full_env, text=True, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def run(self, args, pid1=True, **kwargs):
        proc = self.start(args, pid1=pid1, **kwargs)
        out, err = proc.communicate(timeout=WAIT)
        return proc.returncode, out, err

    def script(self, name, body):
        path = self.workdir / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(0o755)
        return str(path)

    def pidfile(self, name):
        """A file a script writes background pids to; they are killed at
        teardown if the test left them alive."""
        path = self.workdir / name
        self.pidfiles.append(path)
        return path

    def cleanup(self):
        # Recorded background processes first: they may hold the pipes.
        for path in self.pidfiles:
            if path.exists():
                for word in path.read_text().split():
                    if word.isdigit() and alive(int(word)):
                        kill_pid(int(word))
        for proc in self.procs:
            if proc.poll() is None:
                for pid in descendants(proc.pid):
                    kill_pid(pid)
                kill_pid(proc.pid)
                proc.wait(timeout=WAIT)
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()


@pytest.fixture
def runner(workdir):
    r = Runner(workdir)
    yield r
    r.cleanup()


def init_pid_under(unshare_pid):
    """The host pid of berth-init, which unshare --fork starts."""
    children = Path(f"/proc/{unshare_pid}/task/{unshare_pid}/children")
    for _ in range(200):
        pids = children.read_text().split()
        if pids:
            return int(pids[0])
        time.sleep(0.01)
    raise AssertionError("unshare did not start berth-init")


def wait_for_file(path, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return path.read_text()


# --- berth-init as PID 1 ----------------------------------------------------


ZOMBIE_CHECK = (
    MAKE_ORPHANS
    + f"""
tries=0
while :; do
    zombies=$({proc_states()} | grep -c '^Z ')
    [ "$zombies" -eq 0 ] && break
    tries=$((tries + 1))
    if [ $tries -ge 50 ]; then echo "zombies left: $zombies"; exit 1; fi
    sleep 0.1
done
echo "no zombies"
"""
)


def test_pid1_reaps_orphaned_zombies(runner):
    script = runner.script("zombies.sh", ZOMBIE_CHECK)
    rc, out, err = runner.run([script])
    assert (rc, out.strip()) == (0, "no zombies"), err


def test_zombie_check_fails_without_a_reaping_init(runner):
    """The check above must see zombies when PID 1 does not reap them."""
    script = runner.script("zombies.sh", ZOMBIE_CHECK)
    proc = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", "/usr/bin/python3", "-c",
         "import subprocess, sys; sys.exit(subprocess.call([sys.argv[1]]))", script],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 1
    assert proc.stdout.startswith("zombies left:")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1])
def test_pid1_forwards_signal_to_child(runner, sig):
    script = runner.script(
        "trap.sh",
        f"trap 'exit 42' {sig.name[3:]}\necho ready\nwhile :; do sleep 0.05; done\n",
    )
    proc = runner.start([script])
    assert proc.stdout.readline().strip() == "ready"
    os.kill(init_pid_under(proc.pid), sig)
    assert proc.wait(timeout=WAIT) == 42


def test_pid1_forwarded_sigterm_kills_untrapped_child(runner):
    proc = runner.start(["sh", "-c", "echo ready; exec sleep 1000"])
    assert proc.stdout.readline().strip() == "ready"
    os.kill(init_pid_under(proc.pid), signal.SIGTERM)
    assert proc.wait(timeout=WAIT) == 128 + signal.SIGTERM


@pytest.mark.parametrize("code", [0, 1, 3, 255])
def test_pid1_exit_code_passthrough(runner, code):
    rc, _, err = runner.run(["sh", "-c", f"exit {code}"])
    assert rc == code, err


@pytest.mark.parametrize("sig,code", [("KILL", 137), ("TERM", 143), ("USR1", 138)])
def test_pid1_death_by_signal(runner, sig, code):
    rc, _, err = runner.run(["sh", "-c", f"kill -{sig} $$"])
    assert rc == code, err


def test_pid1_command_not_found(runner):
    rc, _, err = runner.run(["/nonexistent/berth-cmd"])
    assert rc == 127
    assert "/nonexistent/berth-cmd" in err
    rc, _, err = runner.run(["berth-no-such-command"])
    assert rc == 127
    assert "berth-no-such-command" in err


def test_pid1_command_not_executable(runner, workdir):
    plain = workdir / "plain.sh"
    plain.write_text("#!/bin/sh\nexit 0\n")
    plain.chmod(0o644)
    rc, _, err = runner.run([str(plain)])
    assert rc == 126
    assert str(plain) in err


def test_pid1_arguments_reach_child(runner, workdir):
    out = workdir / "args"
    rc, _, err = runner.run(["--", "sh", "-c", 'printf "%s|" "$@" > "$0"', str(out),
                             "-v", "a b", ""])
    assert rc == 0, err
    assert out.read_text() == "-v|a b||"


def test_pid1_leftovers_get_sigterm(runner, workdir):
    """The main command exits while a background process runs: berth-init
    sends it SIGTERM (the kernel would only SIGKILL it when PID 1 exits)."""
    got = workdir / "got-term"
    ready = workdir / "ready"
    script = runner.script(
        "leftover.sh",
        f"""
sh -c 'trap "echo term > {got}; exit 0" TERM; sleep 1000 & echo ok > {ready}; wait' &
while [ ! -s {ready} ]; do sleep 0.02; done
exit 5
""",
    )
    start = time.monotonic()
    rc, _, err = runner.run([script])
    assert rc == 5, err
    assert got.read_text() == "term\n"
    assert time.monotonic() - start < 2.0  # it ended on SIGTERM, not after the grace


def test_pid1_is_verbose_on_request(runner):
    rc, _, err = runner.run(["-v", "true"])
    assert rc == 0
    assert "berth-init: started true as" in err
    rc, _, err = runner.run(["true"], env={"BERTH_INIT_VERBOSE": "1"})
    assert "berth-init: started true as" in err
    rc, _, err = runner.run(["true"])
    assert err == ""


# --- berth-init as child subreaper --------------------------------------------


def test_subreaper_reaps_orphans(runner, workdir):
    orphan = runner.pidfile("orphan.pid")
    script = runner.script(
        "zombies.sh",
        f"""
( sleep 0.5 & echo $! > {orphan} )
ppid=$({proc_states(f"$(cat {orphan})")} | cut -d' ' -f2)
if [ "$ppid" != "$PPID" ]; then echo "orphan went to $ppid, not $PPID"; exit 1; fi
{MAKE_ORPHANS}
tries=0
while :; do
    zombies=$({proc_states()} | grep -c "^Z $PPID\\$")
    [ "$zombies" -eq 0 ] && break
    tries=$((tries + 1))
    if [ $tries -ge 50 ]; then echo "zombies left: $zombies"; exit 1; fi
    sleep 0.1
done
echo "no zombies"
""",
    )
    rc, out, err = runner.run([script], pid1=False)
    assert (rc, out.strip()) == (0, "no zombies"), err


def test_subreaper_forwards_sigterm(runner):
    proc = runner.start(
        ["sh", "-c", "trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done"],
        pid1=False)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=WAIT) == 42


def test_subreaper_ends_background_processes(runner):
    pids = runner.pidfile("bg.pid")
    rc, _, err = runner.run(
        ["sh", "-c", f"sleep 1000 & echo $! > {pids}; ( sleep 1000 & echo $! >> {pids} ); exit 7"],
        pid1=False)
    assert rc == 7, err
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) == 2
    for pid in started:
        assert not alive(pid), f"background process {pid} still runs"


def test_subreaper_kills_what_ignores_sigterm(runner):
    pids = runner.pidfile("stubborn.pid")
    script = runner.script(
        "stubborn.sh",
        f"""
sh -c 'trap "" TERM; echo $$ > {pids}; while :; do sleep 0.1; done' &
while [ ! -s {pids} ]; do sleep 0.02; done
exit 0
""",
    )
    start = time.monotonic()
    rc, _, err = runner.run(["-v", script], pid1=False)
    took = time.monotonic() - start
    assert rc == 0, err
    assert "sending SIGKILL" in err
    assert 1.5 <= took < 8
    assert not alive(int(pids.read_text()))


def test_subreaper_flag(runner):
    rc, _, err = runner.run(["-s", "-v", "true"], pid1=False)
    assert rc == 0
    assert "registered as child subreaper" in err


def test_usage(runner):
    rc, out, _ = runner.run(["-h"], pid1=False)
    assert rc == 0 and out.startswith("Usage: berth-init")
    rc, _, err = runner.run([], pid1=False)
    assert rc == 2 and "Usage" in err
    rc, _, err = runner.run(["-x", "true"], pid1=False)
    assert rc == 2
    rc, out, _ = runner.run(["--version"], pid1=False)
    assert rc == 0 and out.startswith("berth-init ")
