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
    # docker names the column too (":1:2:").
    prefix = b"template parsing error: template: :1"
    assert b.stderr.startswith(prefix) and d.stderr.startswith(prefix)
