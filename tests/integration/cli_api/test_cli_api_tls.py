"""berth and the docker client over TLS, side by side against one berthd
serving tcp://127.0.0.1:PORT with --tlsverify: version, ps, run with its
exit code, run -i with binary stdin, run -it, logs and logs -f, events,
exec; the settings from DOCKER_CERT_PATH, DOCKER_TLS_VERIFY and
DOCKER_CONFIG; and the failures, which must read as docker's: no client
certificate, a server certificate of another CA, missing and bad files,
plain HTTP to the TLS port.  Certificates are made with the openssl
command."""

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from berthd_testlib import BUILD, Daemon, free_port, make_test_certs, remove_containers
from test_cli_api_tty import Pty

CLIENTS = ["berth", "docker"]


@pytest.fixture(scope="module")
def certs():
    """ca.pem, server-{cert,key}.pem (127.0.0.1 and localhost),
    client-{cert,key}.pem of the same CA, rogue-ca.pem, rogue-{cert,key}.pem
    of it, and dcp/ with ca.pem, cert.pem and key.pem (DOCKER_CERT_PATH)."""
    d = Path(tempfile.mkdtemp(prefix="berth-cli-tls-certs-"))
    try:
        make_test_certs(d)
        (d / "junk.pem").write_text("not a certificate\n")
        dcp = d / "dcp"
        dcp.mkdir()
        for src, dst in (("ca.pem", "ca.pem"), ("client-cert.pem", "cert.pem"),
                         ("client-key.pem", "key.pem")):
            shutil.copy(d / src, dcp / dst)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


class TLSClients:
    """Runs the same command line through berth and docker at the TLS
    port, with the client certificate unless told otherwise."""

    def __init__(self, d, certs, port):
        self.d = d
        self.certs = certs
        self.host = f"tcp://127.0.0.1:{port}"
        self.env = d.env()
        for k in ("DOCKER_HOST", "BERTH_HOST", "BERTH_DATA_ROOT", "DOCKER_TLS",
                  "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
            self.env.pop(k, None)
        # An empty configuration directory: no default certificates.
        self.config = d.root / "docker-config"
        self.config.mkdir(exist_ok=True)
        self.env["DOCKER_CONFIG"] = str(self.config)

    def flags(self, ca="ca", client="client"):
        c = self.certs
        flags = ["--tlsverify", "--tlscacert", str(c / f"{ca}.pem")]
        if client:
            flags += ["--tlscert", str(c / f"{client}-cert.pem"), "--tlskey",
                      str(c / f"{client}-key.pem")]
        return flags

    def argv(self, client, args, flags=None, host=True):
        prog = [str(BUILD / "berth")] if client == "berth" else ["docker"]
        return [*prog, *(["-H", self.host] if host else []),
                *(self.flags() if flags is None else flags), *args]

    def run(self, client, *args, flags=None, env=None, host=True, input=None, timeout=60):
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run(self.argv(client, args, flags, host), env=e,
                              capture_output=True, input=input, timeout=timeout)

    def both(self, *args, **kw):
        return self.run("berth", *args, **kw), self.run("docker", *args, **kw)

    def unix(self, *args):
        """docker over the daemon's plain unix socket, to look behind."""
        return subprocess.run(["docker", "-H", "unix://" + self.d.sock, *args], env=self.env,
                              capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def tls(certs, busybox_archive):
    root = tempfile.mkdtemp(prefix="berth-cli-tls-")
    d = Daemon(root)
    port = free_port()
    try:
        d.start("-H", f"tcp://127.0.0.1:{port}", "--tlsverify", "--tlscacert",
                str(certs / "ca.pem"), "--tlscert", str(certs / "server-cert.pem"),
                "--tlskey", str(certs / "server-key.pem"))
        d.load(busybox_archive)
        yield TLSClients(d, certs, port)
        d.stop()
    finally:
        if d.proc:
            d.proc.kill()
            d.proc.wait()
        remove_containers(d)
        shutil.rmtree(root, ignore_errors=True)


def text(b):
    return b.decode(errors="replace")


def url_masked(b):
    """The message with the request's URL masked: the clients ask for
    different paths and API versions.  Go's HTTP transport now and then
    names the loop that saw the error first: that prefix goes too."""
    t = re.sub(r'(Get|Post|Head) "https://[^"]*"', "<request>", text(b))
    return t.replace("readLoopPeekFailLocked: ", "").strip()


def as_berth(b):
    return text(b).replace("docker", "berth").strip()


def test_version_and_ps(tls):
    b, d = tls.both("version", "--format", "{{.Server.Version}} {{.Server.Os}}")
    assert b.returncode == d.returncode == 0, (b.stderr, d.stderr)
    assert b.stdout == d.stdout == b"0.1.0 linux\n"
    b, d = tls.both("ps", "-a")
    assert b.returncode == d.returncode == 0, (b.stderr, d.stderr)
    assert b.stdout == d.stdout
    assert b.stdout.startswith(b"CONTAINER ID")


def test_run_exit_code_and_streams(tls):
    b, d = tls.both("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert b.returncode == d.returncode == 3, (b.stderr, d.stderr)
    assert (b.stdout, b.stderr) == (d.stdout, d.stderr) == (b"out\n", b"err\n")
    b, d = tls.both("run", "--rm", "busybox", "nosuchcommand")
    assert b.returncode == d.returncode == 127


def test_run_stdin_binary(tls):
    data = os.urandom(300_000) + bytes(range(256))
    for client in CLIENTS:
        res = tls.run(client, "run", "-i", "--rm", "busybox", "cat", input=data)
        assert res.returncode == 0, res.stderr
        assert res.stdout == data, client
        res = tls.run(client, "run", "-i", "--rm", "busybox", "sh", "-c", "cat >&2",
                      input=data)
        assert (res.stdout, res.stderr) == (b"", data), client


@pytest.mark.parametrize("client", CLIENTS)
def test_logs_follow_and_exec(tls, client):
    name = "lx-" + client
    res = tls.run(client, "run", "-d", "--name", name, "busybox", "sh", "-c",
                  "echo one; echo two >&2; while [ ! -e /tmp/stop ]; do sleep 0.1; done; "
                  "echo three")
    assert res.returncode == 0, res.stderr
    try:
        deadline = time.monotonic() + 10
        while tls.run(client, "logs", name).stdout != b"one\n":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        res = tls.run(client, "logs", name)
        assert (res.returncode, res.stdout, res.stderr) == (0, b"one\n", b"two\n")
        # A followed log, streamed while the container goes on.
        follow = subprocess.Popen(tls.argv(client, ["logs", "-f", name]), env=tls.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        data = os.urandom(100_000)
        res = tls.run(client, "exec", "-i", name, "cat", input=data)
        assert (res.returncode, res.stdout) == (0, data), res.stderr
        res = tls.run(client, "exec", name, "sh", "-c", "echo x; echo y >&2; exit 5")
        assert (res.returncode, res.stdout, res.stderr) == (5, b"x\n", b"y\n")
        res = tls.run(client, "exec", name, "touch", "/tmp/stop")
        assert res.returncode == 0, res.stderr
        out, err = follow.communicate(timeout=30)
        assert (follow.returncode, out, err) == (0, b"one\nthree\n", b"two\n")
    finally:
        tls.unix("rm", "-f", name)


def test_events_stream(tls):
    since = str(int(time.time()) - 1)
    res = tls.run("docker", "run", "--rm", "--name", "ev", "busybox", "true")
    assert res.returncode == 0, res.stderr
    until = str(int(time.time()) + 1)
    b, d = tls.both("events", "--since", since, "--until", until, "--filter",
                    "container=ev", "--format", "{{.Type}} {{.Action}}")
    assert b.returncode == d.returncode == 0, (b.stderr, d.stderr)
    assert b.stdout == d.stdout
    assert b"container start" in b.stdout and b"container destroy" in b.stdout
    # A stream that stays open until the client is stopped.
    for client in CLIENTS:
        p = subprocess.Popen(tls.argv(client, ["events", "--filter", "container=ev2",
                                               "--format", "{{.Action}}"]),
                             env=tls.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        got = []
        reader = threading.Thread(target=lambda: got.append(p.stdout.readline()))
        reader.start()
        time.sleep(0.5)
        res = tls.run(client, "create", "--name", "ev2", "busybox", "true")
        assert res.returncode == 0, res.stderr
        reader.join(timeout=15)
        p.kill()
        p.wait()
        assert got == [b"create\n"], client
        tls.unix("rm", "-f", "ev2")


@pytest.mark.parametrize("client", CLIENTS)
def test_run_it(tls, client):
    p = Pty(tls.argv(client, ["run", "-it", "--rm", "busybox", "sh"]), tls.env)
    try:
        p.expect(b"/ # ")
        p.write(b"echo M''ARK1\r")
        p.expect(b"MARK1")
        p.write(b"exit 7\r")
        assert p.wait() == 7
    finally:
        p.close()


def test_env_cert_path_and_verify(tls):
    env = {"DOCKER_HOST": tls.host, "DOCKER_TLS_VERIFY": "1",
           "DOCKER_CERT_PATH": str(tls.certs / "dcp")}
    b, d = tls.both("ps", "--format", "{{.Names}}", flags=[], env=env, host=False)
    assert b.returncode == d.returncode == 0, (b.stderr, d.stderr)
    assert b.stdout == d.stdout
    b, d = tls.both("run", "--rm", "busybox", "sh", "-c", "exit 4", flags=[], env=env,
                    host=False)
    assert b.returncode == d.returncode == 4, (b.stderr, d.stderr)
    # Without DOCKER_CERT_PATH the files are DOCKER_CONFIG's.
    env = {"DOCKER_CONFIG": str(tls.certs / "dcp")}
    b, d = tls.both("version", "--format", "{{.Server.Os}}", flags=["--tlsverify"], env=env)
    assert b.returncode == d.returncode == 0, (b.stderr, d.stderr)
    assert b.stdout == d.stdout == b"linux\n"
    # DOCKER_TLS_VERIFY alone, with the files missing: docker's message.
    b, d = tls.both("ps", flags=[], env={"DOCKER_TLS_VERIFY": "1"})
    assert b.returncode == d.returncode == 1
    assert as_berth(b.stderr) == as_berth(d.stderr)
    assert "ca.pem: no such file or directory" in text(b.stderr)


def test_default_tls_host(tls):
    """With TLS and no host, both go to tcp://localhost:2376."""
    env = {"DOCKER_CERT_PATH": str(tls.certs / "dcp")}
    b, d = tls.both("ps", flags=["--tlsverify"], env=env, host=False)
    assert b.returncode == d.returncode == 1
    assert "daemon at tcp://localhost:2376." in text(b.stderr)
    assert "daemon at tcp://localhost:2376." in text(d.stderr)


def test_refused_without_client_certificate(tls):
    b, d = tls.both("ps", flags=tls.flags(client=None))
    assert b.returncode == d.returncode == 1
    assert url_masked(b.stderr) == url_masked(d.stderr) == (
        "error during connect: <request>: remote error: tls: certificate required")
    b, d = tls.both("run", "--rm", "busybox", "true", flags=tls.flags(client=None))
    assert b.returncode == d.returncode == 125
    assert "remote error: tls: certificate required" in text(b.stderr)
    assert "remote error: tls: certificate required" in text(d.stderr)
    # A certificate of another CA is refused too.
    b, d = tls.both("ps", flags=tls.flags(client="rogue"))
    assert b.returncode == d.returncode == 1
    assert url_masked(b.stderr).startswith("error during connect: <request>: remote error: tls:")
    assert url_masked(d.stderr).startswith("error during connect: <request>: remote error: tls:")
    # The daemon serves whoever comes next.
    assert tls.run("berth", "ps").returncode == 0


def test_server_of_another_ca(tls):
    b, d = tls.both("ps", flags=tls.flags(ca="rogue-ca"))
    assert b.returncode == d.returncode == 1
    assert url_masked(b.stderr) == url_masked(d.stderr) == (
        "error during connect: <request>: tls: failed to verify certificate: x509: "
        "certificate signed by unknown authority")
    b, d = tls.both("run", "--rm", "busybox", "true", flags=tls.flags(ca="rogue-ca"))
    assert b.returncode == d.returncode == 125
    assert "certificate signed by unknown authority" in text(b.stderr)
    # --tls without --tlsverify does not check the daemon's certificate.
    flags = ["--tls", *tls.flags(ca="rogue-ca")[1:]]
    b, d = tls.both("ps", "--format", "{{.Names}}", flags=flags)
    assert b.returncode == d.returncode == 0, (b.stderr, d.stderr)
    assert b.stdout == d.stdout


def test_missing_and_bad_files(tls):
    c = tls.certs
    cases = [
        ["--tlsverify", "--tlscacert", "/nonexistent/ca.pem"],
        ["--tlsverify", "--tlscacert", str(c / "ca.pem"), "--tlscert", "/nonexistent/cert.pem",
         "--tlskey", str(c / "client-key.pem")],
        ["--tlsverify", "--tlscacert", str(c / "junk.pem")],
        ["--tlsverify", "--tlscacert", str(c / "ca.pem"), "--tlscert", str(c / "junk.pem"),
         "--tlskey", str(c / "client-key.pem")],
        ["--tlsverify", "--tlscacert", str(c / "ca.pem"), "--tlscert",
         str(c / "client-cert.pem"), "--tlskey", str(c / "junk.pem")],
        ["--tlsverify", "--tlscacert", str(c / "ca.pem"), "--tlscert",
         str(c / "client-cert.pem"), "--tlskey", str(c / "rogue-key.pem")],
    ]
    for flags in cases:
        b, d = tls.both("ps", flags=flags)
        assert b.returncode == d.returncode == 1, flags
        assert as_berth(b.stderr) == as_berth(d.stderr), flags
        assert text(b.stderr).startswith("Failed to initialize: "), flags
    # As docker, run too ends with 1: nothing was tried yet.
    b, d = tls.both("run", "--rm", "busybox", "true", flags=cases[0])
    assert b.returncode == d.returncode == 1
    assert as_berth(b.stderr) == as_berth(d.stderr)


def test_plain_http_to_the_tls_port(tls):
    b, d = tls.both("ps", flags=[])
    assert b.returncode == d.returncode == 1
    assert b.stderr == d.stderr == (
        b"Error response from daemon: Client sent an HTTP request to an HTTPS server.\n")
