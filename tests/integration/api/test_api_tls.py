"""berthd's TCP listener under TLS, as dockerd's --tls and --tlsverify: the
docker client and docker-py with client certificates, streamed responses
and attach and exec sessions through TLS, clients refused at the handshake (no certificate, one of
another CA, plain HTTP, not TLS at all) without harm to anyone else, --tls
without client verification, the keys of daemon.json, and a start that
stops on a bad file.  Certificates are made with the openssl command; the
listener binds 127.0.0.1 on a free port."""

import http.client
import io
import json
import shutil
import socket
import ssl
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

from berthd_testlib import BUILD, Daemon, free_port, make_test_certs, remove_containers

docker = pytest.importorskip("docker")


@pytest.fixture(scope="module")
def certs():
    """ca.pem, server-{cert,key}.pem (127.0.0.1 and localhost),
    client-{cert,key}.pem of the same CA, rogue-{cert,key}.pem of another."""
    d = Path(tempfile.mkdtemp(prefix="berth-tls-certs-"))
    try:
        make_test_certs(d)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


class TLSDaemon(Daemon):
    def __init__(self, root, certs):
        super().__init__(root)
        self.certs = certs
        self.port = free_port()
        self.tcp = f"tcp://127.0.0.1:{self.port}"

    def verify_args(self):
        c = self.certs
        return ["--tlsverify", "--tlscacert", str(c / "ca.pem"), "--tlscert",
                str(c / "server-cert.pem"), "--tlskey", str(c / "server-key.pem")]

    def start_tls(self, *extra):
        self.start("-H", self.tcp, *extra)

    def tcp_docker(self, *args, check=True):
        env = self.env()
        env.pop("DOCKER_HOST", None)
        env.pop("DOCKER_TLS_VERIFY", None)
        env.pop("DOCKER_CERT_PATH", None)
        res = subprocess.run(["docker", "-H", self.tcp, *args], env=env, capture_output=True,
                             text=True, timeout=60)
        if check:
            assert res.returncode == 0, f"docker {args}: {res.stderr}"
        return res

    def verify_flags(self, client="client"):
        c = self.certs
        return ["--tlsverify", "--tlscacert", str(c / "ca.pem"), "--tlscert",
                str(c / f"{client}-cert.pem"), "--tlskey", str(c / f"{client}-key.pem")]

    def context(self, client="client", verify_server=True):
        ctx = ssl.create_default_context(cafile=str(self.certs / "ca.pem"))
        if not verify_server:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if client:
            ctx.load_cert_chain(str(self.certs / f"{client}-cert.pem"),
                                str(self.certs / f"{client}-key.pem"))
        return ctx

    def tls_request(self, method, path, client="client", body=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                           context=self.context(client))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read()
        finally:
            conn.close()

    def py(self, client="client"):
        c = self.certs
        tls = docker.tls.TLSConfig(
            client_cert=(str(c / f"{client}-cert.pem"), str(c / f"{client}-key.pem")),
            ca_cert=str(c / "ca.pem"), verify=True)
        return docker.DockerClient(base_url=f"https://127.0.0.1:{self.port}", tls=tls,
                                   version="1.41", timeout=60)


@pytest.fixture
def tlsd(certs):
    """A berthd on a private unix socket, to be started with a TLS TCP
    listener by the test; stopped and checked at the end."""
    root = tempfile.mkdtemp(prefix="berth-api-tls-")
    d = TLSDaemon(root, certs)
    try:
        yield d
        d.stop()
    finally:
        if d.proc:
            d.proc.kill()
            d.proc.wait()
        remove_containers(d)
        shutil.rmtree(root, ignore_errors=True)


def assert_refused(d, client):
    """A TLS client of certificate CLIENT (None: none) gets no answer."""
    with pytest.raises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
        d.tls_request("GET", "/_ping", client=client)


def assert_alive(d):
    status, _, body = d.tls_request("GET", "/_ping")
    assert (status, body) == (200, b"OK")
    assert d.request("GET", "/_ping").body == b"OK"


def test_docker_cli_with_client_certificate(tlsd):
    tlsd.start_tls(*tlsd.verify_args())
    res = tlsd.tcp_docker(*tlsd.verify_flags(), "version", "--format",
                          "{{.Server.APIVersion}}")
    assert res.stdout.strip() == "1.41"
    res = tlsd.tcp_docker(*tlsd.verify_flags(), "images", "-q")
    assert res.stdout.strip() == ""
    res = tlsd.tcp_docker(*tlsd.verify_flags(), "ps", "-a", "-q")
    assert res.stdout.strip() == ""
    # The unix socket stays plain.
    assert tlsd.request("GET", "/_ping").body == b"OK"
    assert "TLS connection from 127.0.0.1" not in tlsd.log.read_text()


def tar_contents(data):
    """The members of a tar and the bytes of its files, times aside."""
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return {m.name: t.extractfile(m).read() if m.isfile() else m.type for m in t}


def test_docker_py_and_streamed_responses(tlsd, busybox_archive, monkeypatch):
    # requests prefers these to the client's own CA.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    tlsd.start_tls(*tlsd.verify_args(), "--log-level", "debug")
    tlsd.load(busybox_archive)
    client = tlsd.py()
    try:
        assert client.version()["ApiVersion"] == "1.41"
        assert client.ping()
        tags = [t for i in client.images.list() for t in i.tags]
        assert tags == ["busybox:latest"]
        # A body streamed from a pipe (api_reply_fd_begin), megabytes
        # through TLS, the same archive as the unix socket gives.
        saved = b"".join(client.images.get("busybox").save(chunk_size=None, named=True))
        plain = tlsd.request("GET", "/v1.41/images/busybox:latest/get").body
        assert len(saved) > 1000000 and tar_contents(saved) == tar_contents(plain)
        assert "manifest.json" in tar_contents(saved)
        # A request body streamed into a pipe, megabytes through TLS.
        client.images.get("busybox").tag("busybox", "before-load")
        client.images.remove("busybox:latest")
        loaded = client.images.load(saved)
        assert [i.tags for i in loaded] and "busybox:latest" in loaded[0].tags
        # A stream written from the loop (api_reply_stream_*).
        since = int(time.time()) - 60
        client.images.get("busybox").tag("busybox", "tls")
        events = list(client.events(since=since, until=int(time.time()) + 1, decode=True))
        assert any(e.get("Action") == "tag" for e in events), events
        # A request body through TLS.
        ctr = client.containers.create("busybox", ["true"], name="over-tls")
        assert client.containers.get("over-tls").id == ctr.id
        ctr.remove()
    finally:
        client.close()
    log = tlsd.log.read_text()
    assert "TLS connection from 127.0.0.1" in log and "CN=berth-client" in log, log[-2000:]


def test_run_attach_and_exec_over_tls(tlsd, busybox_archive):
    """Hijacked streams (attach, exec) go through the TLS session: output,
    binary input to its end, exit codes."""
    import hashlib
    import os

    tlsd.start_tls(*tlsd.verify_args())
    tlsd.load(busybox_archive)
    flags = tlsd.verify_flags()
    res = tlsd.tcp_docker(*flags, "run", "--rm", "busybox", "sh", "-c",
                          "echo out; echo err >&2; exit 3", check=False)
    assert (res.returncode, res.stdout, res.stderr) == (3, "out\n", "err\n")
    data = os.urandom(200 * 1024) + b"\x10\x11"
    env = dict(tlsd.env())
    env.pop("DOCKER_HOST", None)
    res = subprocess.run(["docker", "-H", tlsd.tcp, *flags, "run", "-i",
                          "--rm", "busybox", "md5sum"], input=data, env=env,
                         capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[0].decode() == hashlib.md5(data).hexdigest()
    tlsd.tcp_docker(*flags, "run", "-d", "--name", "web", "busybox", "sleep", "1000")
    res = subprocess.run(["docker", "-H", tlsd.tcp, *flags, "exec", "-i",
                          "web", "md5sum"], input=data, env=env, capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[0].decode() == hashlib.md5(data).hexdigest()
    res = tlsd.tcp_docker(*flags, "exec", "web", "sh", "-c", "exit 7", check=False)
    assert res.returncode == 7
    tlsd.tcp_docker(*flags, "rm", "-f", "web")
    assert_alive(tlsd)
    # Nothing of the sessions is left: no connection, no tunnel.
    deadline = time.monotonic() + 10
    while tlsd.request("GET", "/v1.41/containers/json?all=1").json():
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_no_client_certificate_is_refused(tlsd):
    tlsd.start_tls(*tlsd.verify_args())
    assert_refused(tlsd, None)
    # The docker client with --tls (it reads a CA, not to verify with)
    # sends no certificate either.
    res = tlsd.tcp_docker("--tls", "--tlscacert", str(tlsd.certs / "ca.pem"), "version",
                          check=False)
    assert res.returncode != 0
    assert "certificate" in res.stderr, res.stderr
    assert_alive(tlsd)
    log = tlsd.log.read_text()
    assert "TLS handshake failed: peer did not return a certificate" in log, log[-2000:]


def test_certificate_of_another_ca_is_refused(tlsd):
    tlsd.start_tls(*tlsd.verify_args())
    assert_refused(tlsd, "rogue")
    res = tlsd.tcp_docker(*tlsd.verify_flags("rogue"), "version", check=False)
    assert res.returncode != 0
    assert_alive(tlsd)
    log = tlsd.log.read_text()
    assert "TLS handshake failed: client certificate verify failed" in log, log[-2000:]


def read_until_closed(sock):
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_plain_http_and_garbage_are_closed(tlsd):
    tlsd.start_tls(*tlsd.verify_args())
    # A connection that never says anything stays out of the others' way.
    idle = socket.create_connection(("127.0.0.1", tlsd.port), timeout=10)
    with socket.create_connection(("127.0.0.1", tlsd.port), timeout=10) as s:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = read_until_closed(s)
    assert data.startswith(b"HTTP/1.0 400 Bad Request")
    assert b"Client sent an HTTP request to an HTTPS server" in data
    with socket.create_connection(("127.0.0.1", tlsd.port), timeout=10) as s:
        s.sendall(b"\x00hello, this is not TLS\r\n" * 20)
        try:
            data = read_until_closed(s)
        except ConnectionResetError:
            data = b""
        assert b"HTTP" not in data
    # Half a ClientHello, then the client goes away.
    with socket.create_connection(("127.0.0.1", tlsd.port), timeout=10) as s:
        s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    assert_alive(tlsd)
    tlsd.tcp_docker(*tlsd.verify_flags(), "version")
    idle.close()
    assert_alive(tlsd)
    assert "the client sent plain HTTP to the TLS port" in tlsd.log.read_text()


def test_tls_without_verify_accepts_clients_without_certificate(tlsd):
    c = tlsd.certs
    tlsd.start_tls("--tls", "--tlscert", str(c / "server-cert.pem"), "--tlskey",
                   str(c / "server-key.pem"))
    status, _, body = tlsd.tls_request("GET", "/_ping", client=None)
    assert (status, body) == (200, b"OK")
    res = tlsd.tcp_docker("--tls", "--tlscacert", str(c / "ca.pem"), "version", "--format",
                          "{{.Server.APIVersion}}")
    assert res.stdout.strip() == "1.41"
    res = tlsd.tcp_docker("--tlsverify", "--tlscacert", str(c / "ca.pem"), "ps")
    assert res.returncode == 0
    # A certificate sent anyway is not looked at.
    status, _, _ = tlsd.tls_request("GET", "/_ping", client="rogue")
    assert status == 200
    # A plain HTTP client is still not served: it gets Go's answer.
    conn = http.client.HTTPConnection("127.0.0.1", tlsd.port, timeout=10)
    try:
        conn.request("GET", "/_ping")
        resp = conn.getresponse()
        assert resp.status == 400
        assert b"HTTP request to an HTTPS server" in resp.read()
    finally:
        conn.close()


def test_daemon_json_keys(tlsd):
    c = tlsd.certs
    tlsd.config.write_text(json.dumps({
        "tlsverify": True,
        "tlscacert": str(c / "ca.pem"),
        "tlscert": str(c / "server-cert.pem"),
        "tlskey": str(c / "server-key.pem"),
    }))
    tlsd.start_tls()
    tlsd.tcp_docker(*tlsd.verify_flags(), "version")
    assert_refused(tlsd, None)
    assert_alive(tlsd)


def start_fails(d, *extra, env=None):
    res = subprocess.run(d.argv("-H", d.tcp, *extra), capture_output=True, text=True,
                         timeout=30, env=env)
    assert res.returncode != 0
    assert not d.pidfile.exists()
    return res.stderr


def test_bad_files_stop_the_start(tlsd):
    c = tlsd.certs
    tlsd.config.write_text("{}")
    missing = str(tlsd.root / "nowhere" / "cert.pem")
    err = start_fails(tlsd, "--tlsverify", "--tlscacert", str(c / "ca.pem"), "--tlscert",
                      missing, "--tlskey", str(c / "server-key.pem"))
    assert missing in err and "--tlscert" in err and "No such file" in err, err
    # A key that is no key, named.
    err = start_fails(tlsd, "--tlsverify", "--tlscacert", str(c / "ca.pem"), "--tlscert",
                      str(c / "server-cert.pem"), "--tlskey", str(c / "ca.pem"))
    assert str(c / "ca.pem") in err and "--tlskey" in err, err
    # A key of another certificate.
    err = start_fails(tlsd, "--tls", "--tlscert", str(c / "server-cert.pem"), "--tlskey",
                      str(c / "client-key.pem"))
    assert "mismatch" in err and str(c / "client-key.pem") in err and "--tlskey" in err, err
    # A CA file that holds no certificate.
    bad_ca = tlsd.root / "bad-ca.pem"
    bad_ca.write_text("not a certificate\n")
    err = start_fails(tlsd, "--tlsverify", "--tlscacert", str(bad_ca), "--tlscert",
                      str(c / "server-cert.pem"), "--tlskey", str(c / "server-key.pem"))
    assert str(bad_ca) in err and "--tlscacert" in err, err
    # Files not named are dockerd's defaults in $DOCKER_CERT_PATH.
    empty = tlsd.root / "empty-cert-path"
    empty.mkdir()
    env = {"PATH": "/usr/bin:/bin", "DOCKER_CERT_PATH": str(empty)}
    err = start_fails(tlsd, "--tlsverify", env=env)
    assert str(empty / "cert.pem") in err and "--tlscert" in err, err
    err = start_fails(tlsd, "--tlsverify=maybe")
    assert "--tlsverify" in err
    # Keys given both as flags and in daemon.json: Docker's conflict.
    tlsd.config.write_text(json.dumps({"tlsverify": True}))
    err = start_fails(tlsd, "--tlsverify")
    assert "tlsverify" in err and "both as a flag" in err, err
    assert not Path(tlsd.sock).exists()
