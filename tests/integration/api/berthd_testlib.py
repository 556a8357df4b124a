"""Helpers of the Engine API suite, importable by its tests: berthd run on
a private socket, data root, exec root and pid file (Daemon), a small
HTTP client over the unix socket (stdlib only), test certificates made
with the openssl command (make_test_certs) and a free TCP port."""


import http.client
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path


REPO = Path(__file__).resolve().parents[3]
BUILD = REPO / os.environ.get("BERTH_BUILD", "build")


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix stream socket."""

    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.path)
        self.sock = sock


class Response:
    def __init__(self, resp, body):
        self.status = resp.status
        self.headers = resp.headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def stream(self):
        """The objects of a JSON message stream."""
        return [json.loads(line) for line in self.body.decode().splitlines() if line.strip()]

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Daemon:
    def __init__(self, root):
        self.root = Path(root)
        self.sock = str(self.root / "berth.sock")
        self.pidfile = self.root / "berth.pid"
        self.data_root = self.root / "data"
        self.exec_root = self.root / "exec"
        self.config = self.root / "daemon.json"
        self.log = self.root / "berthd.log"
        self.proc = None

    def argv(self, *extra):
        return [str(BUILD / "berthd"), "-H", "unix://" + self.sock, "--data-root",
                str(self.data_root), "--exec-root", str(self.exec_root), "--pidfile",
                str(self.pidfile), "--config-file", str(self.config), *extra]

    def start(self, *extra):
        if not self.config.exists():
            self.config.write_text("{}")
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.argv(*extra), stdout=self.logf, stderr=self.logf)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"berthd exited {self.proc.returncode}: "
                                     f"{self.log.read_text()}")
            try:
                if self.request("GET", "/_ping").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise AssertionError("berthd did not answer /_ping")

    def stop(self):
        """SIGTERM; the daemon must exit 0 and remove its socket and pid file."""
        if not self.proc:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("berthd did not stop on SIGTERM")
        finally:
            self.logf.close()
            self.proc = None
        assert rc == 0, f"berthd exited {rc}: {self.log.read_text()}"
        assert not os.path.exists(self.sock), "the socket was left behind"
        assert not self.pidfile.exists(), "the pid file was left behind"

    def connection(self, timeout=30):
        return UnixHTTPConnection(self.sock, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return Response(resp, resp.read())
        finally:
            conn.close()

    def load(self, archive):
        with open(archive, "rb") as f:
            res = self.request("POST", "/v1.41/images/load?quiet=1", body=f,
                               headers={"Content-Type": "application/x-tar",
                                        "Content-Length": str(os.path.getsize(archive))})
        assert res.status == 200, res
        return res.stream()

    def env(self):
        env = dict(os.environ)
        env["DOCKER_HOST"] = "unix://" + self.sock
        env.pop("DOCKER_CONTEXT", None)
        env["DOCKER_CONFIG"] = str(self.root / "docker-config")
        return env

    def docker(self, *args, check=True, stdin=None):
        res = subprocess.run(["docker", *args], env=self.env(), capture_output=True,
                             text=True, timeout=60, stdin=stdin)
        if check:
            assert res.returncode == 0, f"docker {args}: {res.stderr}"
        return res


def wait_for(predicate, timeout=15, step=0.05):
    """PREDICATE's first true value within TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


def standby_processes():
    """The pids of the processes of berth-shim standbys of this build, each
    with its name: the standbys, and the seeds they forked."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            comm = (proc / "comm").read_text().strip()
        except OSError:
            continue
        if argv[:2] == [str(BUILD / "berth-shim").encode(), b"standby"]:
            found[int(proc.name)] = comm
    return found


def standby_shims():
    """The pids of berth-shim standbys of this build."""
    return {pid for pid, comm in standby_processes().items() if comm != "berth-seed"}


def seeds_of(standbys):
    """The seeds (container processes made ahead) of STANDBYS, by pid."""
    return {pid for pid, comm in standby_processes().items()
            if comm == "berth-seed" and parent_of(pid) in standbys}


def parent_of(pid):
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def remove_containers(d):
    """Takes down whatever containers a test left: their shims, runtime
    state and root file system mounts (live restore keeps them running past
    the daemon's stop)."""
    ctrs = d.data_root / "containers"
    if not ctrs.is_dir():
        return
    # What a daemon killed with SIGKILL mounted ahead on the spare.
    subprocess.run(["umount", str(ctrs / ".spare" / "merged")], capture_output=True)
    for entry in ctrs.iterdir():
        cid = entry.name
        if cid.startswith("."):
            continue
        subprocess.run(["pkill", "-KILL", "-f", f"berth-shim .*--id {cid}"],
                       capture_output=True)
        subprocess.run([str(BUILD / "berth-runc"), "--root", str(d.exec_root / "runtime"),
                        "delete", "--force", cid], capture_output=True)
        merged = entry / "merged"
        for _ in range(3):
            if subprocess.run(["umount", str(merged)], capture_output=True).returncode:
                break


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", f"{name}-key.pem", "-out", f"{name}.pem", "-days", "2",
            "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def make_cert(d, ca, name, cn, ext):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=d)
    (d / f"{name}.ext").write_text(ext)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}-key.pem",
            "-set_serial", str(int(time.time() * 1000)), "-days", "2", "-out",
            f"{name}-cert.pem", "-extfile", f"{name}.ext", cwd=d)


def make_test_certs(d):
    """In D: ca.pem, server-{cert,key}.pem (127.0.0.1 and localhost),
    client-{cert,key}.pem of the same CA, rogue-ca.pem and
    rogue-{cert,key}.pem of it."""
    make_ca(d, "ca")
    make_ca(d, "rogue-ca")
    make_cert(d, "ca", "server", "localhost",
              "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    make_cert(d, "ca", "client", "berth-client", "extendedKeyUsage=clientAuth\n")
    make_cert(d, "rogue-ca", "rogue", "berth-client", "extendedKeyUsage=clientAuth\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
