"""run and create flags: the container berth creates is the one docker
creates (compared through inspect), and a malformed value gets docker's
message and status with nothing created."""

import os

import pytest

from test_cli_api import first_line, names

CASES = [
    (["-p", "8080:80", "-p", "127.0.0.1::53/udp", "-p", "9000-9001:90-91", "-P"],
     "{{json .HostConfig.PortBindings}} {{json .Config.ExposedPorts}} "
     "{{.HostConfig.PublishAllPorts}}"),
    (["--restart", "on-failure:3"], "{{json .HostConfig.RestartPolicy}}"),
    (["--restart", "unless-stopped"], "{{.HostConfig.RestartPolicy.Name}}"),
    (["-l", "a=1", "--label", "b", "--label-file", "{labels}"], "{{json .Config.Labels}}"),
    (["--env-file", "{env}", "-e", "Z=last"], "{{json .Config.Env}}"),
    (["--ulimit", "nofile=1024:2048", "--ulimit", "nproc=512"],
     "{{json .HostConfig.Ulimits}}"),
    (["--health-cmd", "true", "--health-interval", "5s", "--health-retries", "2",
      "--health-timeout", "1m30s", "--health-start-period", "100ms"],
     "{{json .Config.Healthcheck}}"),
    (["--no-healthcheck"], "{{json .Config.Healthcheck}}"),
    (["--stop-signal", "SIGUSR1", "--stop-timeout", "7"],
     "{{.Config.StopSignal}} {{.Config.StopTimeout}}"),
    (["--hostname", "box", "--add-host", "db:10.0.0.2", "--dns", "1.1.1.1"],
     "{{.Config.Hostname}} {{json .HostConfig.ExtraHosts}} {{json .HostConfig.Dns}}"),
    (["--device", "/dev/null:/dev/nul2:r"], "{{json .HostConfig.Devices}}"),
    (["--pids-limit", "50", "--cpuset-cpus", "0", "-c", "512", "--cpus", "1.5", "-m", "64m",
      "--memory-swap", "128m", "--oom-kill-disable"],
     "{{.HostConfig.PidsLimit}} {{.HostConfig.CpusetCpus}} {{.HostConfig.CpuShares}} "
     "{{.HostConfig.NanoCpus}} {{.HostConfig.MemorySwap}} {{.HostConfig.OomKillDisable}}"),
    (["--mount", "type=bind,source=/tmp,target=/h,readonly", "--mount",
      "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770"],
     "{{json .HostConfig.Mounts}}"),
]


@pytest.mark.parametrize("flags,tmpl", CASES)
def test_create_flags(bb, tmp_path, flags, tmpl):
    (tmp_path / "labels").write_text("# labels\nc=3\n\nd=4\n")
    (tmp_path / "env").write_text("A=1\n# no\nB=two words\n")
    flags = [f.format(labels=tmp_path / "labels", env=tmp_path / "env") for f in flags]
    out = {}
    for client in ["berth", "docker"]:
        res = bb.run(client, "create", "--name", "fl-" + client, *flags, "busybox", "true")
        assert res.returncode == 0, (client, res.stderr)
        res = bb.run("docker", "inspect", "-f", tmpl, "fl-" + client)
        assert res.returncode == 0, res.stderr
        out[client] = res.stdout
    assert out["berth"] == out["docker"]


def test_run_with_flags(bb):
    """What the flags set is seen inside the container."""
    for client in ["berth", "docker"]:
        res = bb.run(client, "run", "--rm", "--add-host", "db:10.0.0.2", "--ulimit",
                     "nofile=1024:2048", "--mount", "type=tmpfs,target=/t", "-l", "x=y",
                     "busybox", "sh", "-c",
                     "grep db /etc/hosts; ulimit -n; grep -c ' /t tmpfs' /proc/mounts")
        assert (res.returncode, res.stdout) == (0, b"10.0.0.2\tdb\n1024\n1\n"), \
            (client, res.stdout, res.stderr)


def test_volumes_from_and_link(bb):
    # berthd keeps both as given (it mounts no volumes from another
    # container yet): the two clients send the same.
    assert bb.run("docker", "run", "-d", "--name", "src", "busybox", "sleep", "60"
                  ).returncode == 0
    out = {}
    for client in ["berth", "docker"]:
        res = bb.run(client, "create", "--name", "vf-" + client, "--volumes-from", "src:ro",
                     "--link", "src:db", "busybox", "true")
        assert res.returncode == 0, res.stderr
        out[client] = bb.run("docker", "inspect", "-f",
                             "{{json .HostConfig.VolumesFrom}} {{json .HostConfig.Links}}",
                             "vf-" + client).stdout
    assert out["berth"] == out["docker"]


@pytest.mark.parametrize("args", [
    ["-p", "abc"],
    ["-p", "80:abc"],
    ["-p", "1.2.3:80:80"],
    ["-p", "99999:80"],
    ["-p", "80/bogus"],
    ["--restart", "on-failure:x"],
    ["--restart", "always", "--rm"],
    ["--ulimit", "nofile"],
    ["--ulimit", "nofile=a"],
    ["--ulimit", "bogus=1"],
    ["--ulimit", "nofile=10:5"],
    ["--health-interval", "5"],
    ["--health-timeout", "x"],
    ["--health-retries", "x"],
    ["--health-cmd", "x", "--no-healthcheck"],
    ["--stop-timeout", "x"],
    ["--pids-limit", "x"],
    ["--cpus", "x"],
    ["-c", "x"],
    ["--memory-swap", "x"],
    ["-m", "1x"],
    ["--add-host", "bad"],
    ["--add-host", "h:notanip"],
    ["--dns", "x"],
    ["--mount", "type=bind"],
    ["--mount", "foo"],
    ["--mount", "type=tmpfs,target=/t,tmpfs-size=zz"],
    ["--device", "/dev/null:rel"],
    ["--env-file", "/nonexistent"],
    ["--label-file", "/nonexistent"],
])
def test_bad_flag_values(bb, args):
    for command in ["run", "create"]:
        b, d = bb.both(command, *args, "busybox", "true")
        assert b.returncode == d.returncode == 125, (b, d)
        assert first_line(b.stderr) == first_line(d.stderr)
        assert b.stderr.decode().replace("berth", "docker") == d.stderr.decode()
    assert names(bb) == []


def test_daemon_refusals(bb):
    """What only the daemon refuses: its message, docker's status."""
    for args in (["--restart", "bogus"], ["--device", "/dev/nonexistent"],
                 ["--mount", "type=bogus,target=/x"]):
        b, d = bb.both("run", "-d", *args, "busybox", "true")
        assert b.returncode == d.returncode == 125
        assert first_line(b.stderr) == first_line(d.stderr)
    assert names(bb) == []


def test_exec_env_file(bb, tmp_path):
    (tmp_path / "env").write_text("# vars\nA=from file\n\nB=2\n")
    assert bb.run("docker", "run", "-d", "--name", "ex", "busybox", "sleep", "60"
                  ).returncode == 0
    b, d = bb.both("exec", "-e", "B=flag", "--env-file", str(tmp_path / "env"), "ex", "sh",
                   "-c", 'echo "$A|$B"')
    assert (b.returncode, b.stdout) == (d.returncode, d.stdout) == (0, b"from file|flag\n")
    b, d = bb.both("exec", "--env-file", "/nonexistent", "ex", "true")
    assert b.returncode == d.returncode != 0
    assert first_line(b.stderr) == first_line(d.stderr)
