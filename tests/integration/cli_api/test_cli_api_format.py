"""--format templates: the forms people use with inspect and ps give what
the docker client gives (text/template with the docker CLI's functions)."""

import pytest

TEMPLATES = [
    '{{index .Config.Labels "com.example.k"}}',
    '{{index .Config.Labels "missing"}}|',
    '{{range .Config.Env}}[{{.}}]{{end}}',
    '{{range $i, $e := .Config.Cmd}}{{$i}}={{$e}} {{end}}',
    '{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}};{{end}}',
    '{{range .Config.Cmd}}{{.}}{{else}}none{{end}}',
    '{{range .HostConfig.Binds}}{{.}}{{else}}no binds{{end}}',
    '{{join .Config.Cmd ","}}',
    '{{upper .Name}} {{lower "ABC"}} {{title "hello world"}}',
    '{{printf "%s-%d|%5s|%-5s|%q|%v" .Name .State.ExitCode "ab" "cd" .Path .State.Running}}',
    '{{printf "%.3s" .Config.Image}}',
    '{{if .State.Running}}running{{else}}stopped{{end}}',
    '{{if eq .State.Status "created"}}new{{else if eq .State.Status "running"}}up'
    '{{else}}other{{end}}',
    '{{if and .Config.Labels (not .State.Running)}}yes{{end}}',
    '{{if or .State.Running .State.Paused}}a{{else}}b{{end}}',
    '{{with .Config.Labels}}{{index . "com.example.k"}}{{end}}',
    '{{with .State.Pid}}pid{{else}}no pid{{end}}',
    '{{len .Config.Cmd}} {{len .Config.Labels}}',
    '{{.Name | upper}} {{.Config.Cmd | printf "%v"}} {{"a" | printf "%s-%s" "b"}}',
    '{{json .Config.Labels}} {{json .Config.Cmd}}',
    '{{$n := .Name}}{{range .Config.Cmd}}{{$n}}:{{.}} {{end}}',
    '{{- .Name -}}   {{- "x" }}  ',
    '{{split "a,b,c" ","}} {{index (split "a,b,c" ",") 1}}',
    '{{.Config.Labels}} {{.Config.Cmd}}',
    '{{"}}"}} {{/* a comment */}}ok',
    '{{printf "%d%%" 5}} {{print 1 2 "a" "b"}}',
    '{{if gt (len .Config.Cmd) 1}}many{{end}} {{if lt .State.ExitCode 1}}zero{{end}}',
]


@pytest.fixture
def ctr(bb):
    res = bb.run("docker", "create", "--name", "fmt", "-l", "com.example.k=v1", "-l",
                 "b=2", "-e", "A=1", "busybox", "sh", "-c", "exit 0")
    assert res.returncode == 0, res.stderr
    return "fmt"


@pytest.mark.parametrize("tmpl", TEMPLATES)
def test_inspect_templates(bb, ctr, tmpl):
    b, d = bb.both("inspect", "-f", tmpl, ctr)
    assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr)
    assert b.returncode == 0


@pytest.mark.parametrize("tmpl", [
    "{{.Names}} {{upper .Image}} {{if .Status}}has status{{end}}",
    "table {{.Names}}\t{{lower .Image}}",
    "{{json .Names}}",
    '{{printf "%-8s|" .Names}}',
])
def test_ps_templates(bb, ctr, tmpl):
    b, d = bb.both("ps", "-a", "--format", tmpl)
    assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr)


@pytest.mark.parametrize("tmpl", [
    "{{nosuchfunc .Name}}",
    "{{.Name",
    "{{if .Name}}x",
    "{{end}}",
    '{{"abc}}',
])
def test_bad_templates(bb, ctr, tmpl):
    b, d = bb.both("inspect", "-f", tmpl, ctr)
    assert (b.returncode, b.stdout, b.stderr) == (d.returncode, d.stdout, d.stderr)
    assert b.returncode == 64


@pytest.mark.parametrize("tmpl", [
    "{{.NoSuchField}}",
    "{{.State.NoSuch}}",
    '{{.Config.Cmd | join "+"}}',
    "{{index .Config.Cmd 9}}",
])
def test_template_execution_errors(bb, ctr, tmpl):
    b, d = bb.both("inspect", "-f", tmpl, ctr)
    assert (b.returncode, b.stdout) == (d.returncode, d.stdout) == (1, b"\n")
    # The same message, line and column (":1:8:") included.
    assert b.stderr == d.stderr


# What docker's inspect prints where a document has no value: it runs the
# template on its typed struct first (a field the daemon left out is its
# zero value, a map's missing key "<no value>", index of a missing key
# the element's zero value, a nil map "map[]", a nil slice "[]"), then on
# the raw JSON when that fails (a missing key is an error there).
MISSING = [
    '{{index .Config.Labels "nope"}}|',
    '{{.Config.Labels.nope}}|',
    '{{.Config.Labels.a}}',
    '{{json .Config.Labels}} {{.Config.Labels}} {{len .Config.Labels}}',
    '{{if .Config.Labels.nope}}y{{else}}n{{end}}',
    '{{.Config.Labels.nope | printf "%q"}} {{index .Config.Labels "nope" | printf "%q"}}',
    '{{printf "%s %d %v" .Config.Labels.x .Config.Labels.y .Config.Labels.z}}',
    '{{index .Config.Labels 1}}',
    '{{upper .Config.Labels.x}}',
    '{{.State.Health}} {{json .State.Health}}',
    '{{with .State.Health}}h{{else}}none{{end}}',
    '{{.State.Health.Status}}',
    '{{.State}}',
    '{{.State.Nope}}',
    '{{index .State "Status"}} {{index .State "Nope"}}',
    '{{.State.Status.x}}',
    '{{.Config.Healthcheck}} {{json .Config.Healthcheck}}',
    '{{.Config.Healthcheck.Interval}} {{json .Config.Healthcheck}}',
    '{{.Config.ExposedPorts}} {{json .Config.ExposedPorts}}',
    '{{index .Config.ExposedPorts "80/tcp"}}',
    '{{.Config.Volumes}} {{.Config.Volumes.x}} {{index .Config.Volumes "x"}}',
    '{{.Config.Entrypoint}} {{json .Config.Entrypoint}} {{.Config.Shell}}',
    '{{.Config.Entrypoint.x}}',
    '{{.Config.StopTimeout}} {{.SizeRw}} {{.ImageManifestDescriptor}}',
    '{{.NetworkSettings.Ports}} {{json .NetworkSettings.Ports}}',
    '{{index .NetworkSettings.Ports "80/tcp"}}',
    '{{.NetworkSettings.Networks.nope}} {{index .NetworkSettings.Networks "nope"}}',
    '{{.NetworkSettings.Networks.bridge}}',
    '{{.NetworkSettings.Networks.bridge.IPAddress}}|{{json .NetworkSettings.Networks}}',
    '{{.HostConfig.LogConfig}} {{.HostConfig.LogConfig.Config.nope}}',
    '{{index .HostConfig.LogConfig.Config "nope"}}|{{.HostConfig.Tmpfs}} {{.HostConfig.Tmpfs.x}}',
    '{{.HostConfig.Init}} {{.HostConfig.Mounts}} {{.HostConfig.RestartPolicy}}',
    '{{.GraphDriver.Data.nope}} {{json .GraphDriver}}',
    '{{.Mounts}} {{json .Mounts}}',
    '{{.Config}}',
    '{{json .Config}}',
    '{{json .State}}',
    '{{.Metadata}} {{json .Metadata}} {{.Metadata.LastTagTime}}',
    '{{.RootFS}} {{json .RootFS}}',
    '{{.ContainerConfig}} {{.ContainerConfig.Labels.x}}',
    '{{.Descriptor}} {{.Manifests}} {{.Variant}}|{{.OsVersion}}',
    '{{.Nope}}',
    '{{.Nope.x}}',
    'x {{index .Config.Env 5}}',
    '{{json .Config .Config}}',
    '{{$x := .State}}{{$x.Nope}}',
    'a\nb {{.Nope}}',
    '{{with .State}}{{.Nope}}{{end}}',
    '{{range $k, $v := .State}}{{$k}}={{json $v}} {{end}}',
]


def test_inspect_missing_keys(bb):
    """Containers with and without labels, with a health check and ports,
    and an image: each form prints what docker prints, errors included."""
    for args in (["--name", "lab", "-l", "a=b"], ["--name", "nolab"],
                 ["--name", "hc", "--health-cmd", "true", "--health-interval", "90s",
                  "--health-start-period", "1500ms", "-p", "8081:80", "-v", "/tmp:/mnt:ro"]):
        res = bb.run("docker", "create", *args, "busybox", "true")
        assert res.returncode == 0, res.stderr
    differ = []
    for obj in ("lab", "nolab", "hc", "busybox"):
        for tmpl in MISSING:
            if (obj, tmpl) == ("hc", "{{.Config}}"):
                continue  # docker prints the address of the Healthcheck it holds
            b, d = bb.both("inspect", "-f", tmpl, obj)
            if (b.returncode, b.stdout, b.stderr) != (d.returncode, d.stdout, d.stderr):
                differ.append((obj, tmpl, b, d))
    assert [(o, t, b.stdout, d.stdout, b.stderr, d.stderr) for o, t, b, d in differ] == []
