"""Usage errors as docker 28 words them: a wrong number of arguments
("berth: 'berth run' requires at least 1 argument", the usage line, and
"See" or "Run 'berth run --help'"), an unknown flag or a flag without its
value, a bad flag value, an unknown command or subcommand, and the global
flags; the same text with "berth" for "docker" and the same exit status."""

CASES = [
    ["run"], ["create"], ["container", "run"], ["start"], ["exec"], ["exec", "c1"],
    ["attach"], ["ps", "x"], ["container", "ls", "x"], ["stop"], ["restart"], ["kill"],
    ["pause"], ["unpause"], ["wait"], ["rm"], ["container", "rm"], ["rename", "a"],
    ["logs"], ["logs", "a", "b"], ["top"], ["diff"], ["commit"], ["commit", "a", "b", "c"],
    ["export"], ["cp"], ["cp", "a"], ["cp", "a", "b", "c"], ["port"], ["port", "a", "b", "c"],
    ["update"], ["inspect"], ["container", "inspect"], ["image", "inspect"], ["images", "a", "b"],
    ["image", "ls", "a", "b"], ["tag", "a"], ["image", "tag", "a"], ["rmi"], ["image", "rm"],
    ["history"], ["image", "history"], ["save"], ["import"], ["import", "nosuch", "b", "c"],
    ["load", "x"], ["events", "x"], ["info", "x"], ["version", "x"],
    ["container", "prune", "x"], ["image", "prune", "x"], ["system", "prune", "x"],
    ["system", "df", "x"],
    # Unknown commands.
    ["foo"], ["container", "foo"], ["image", "foo"], ["system", "foo"],
    # Flags.
    ["run", "--x", "busybox"], ["create", "-d", "busybox"], ["ps", "--x"], ["rm", "--x"],
    ["container", "ls", "--nope"], ["image", "ls", "--nope"], ["system", "df", "--nope"],
    ["exec", "-z", "c", "true"], ["cp", "--nope", "a", "b"], ["stats", "--nope"],
    ["pause", "-x", "c"], ["ps", "--filter"], ["ps", "-f"], ["logs", "--tail"], ["kill", "-s"],
    # Flag values.
    ["stop", "-t", "x", "c"], ["ps", "-n", "x"], ["run", "--cpus", "x", "busybox"],
    # The global flags.
    ["--x"], ["-Z", "ps"], ["--log-level"], ["-l"], ["--tlsverify=x", "ps"],
]


def test_usage_errors(bb):
    differ = []
    for args in CASES:
        b, d = bb.both(*args)
        got = (b.returncode, b.stdout, b.stderr.replace(b"berth", b"docker"))
        if got != (d.returncode, d.stdout, d.stderr):
            differ.append((args, b, d))
    assert differ == []
