"""The container process: args, env, cwd, user, umask, capabilities, rlimits,
no_new_privs and oom_score_adj, each read back from inside the container
(mostly from /proc/self/status).
"""

import re

import pytest

CAP_BITS = {
    "CAP_CHOWN": 0,
    "CAP_DAC_OVERRIDE": 1,
    "CAP_FOWNER": 3,
    "CAP_KILL": 5,
    "CAP_SETGID": 6,
    "CAP_SETUID": 7,
    "CAP_NET_BIND_SERVICE": 10,
    "CAP_NET_RAW": 13,
    "CAP_SYS_ADMIN": 21,
    "CAP_AUDIT_WRITE": 29,
}


def cap_mask(names):
    mask = 0
    for name in names:
        mask |= 1 << CAP_BITS[name]
    return mask


def status_fields(text):
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key] = value.strip()
    return fields


def run_status(runtime, bundle):
    res = runtime.run(bundle)
    assert res.rc == 0, str(res)
    return status_fields(res.out)


def test_process_args(runtime, make_bundle):
    b = make_bundle(["sh", "-c", 'for a in "$@"; do echo "[$a]"; done', "argv0", "a b", "",
                     "c\"d", "*"])
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    assert res.out.splitlines() == ["[a b]", "[]", "[c\"d]", "[*]"]


def test_process_env(runtime, make_bundle):
    b = make_bundle(["env"])
    b.process["env"] = ["PATH=/bin", "FOO=bar baz", "EMPTY=", "BERTH_TEST_ID=" + b.id]
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    env = set(res.out.splitlines())
    given = set(b.process["env"])
    assert given <= env
    # Nothing of the runtime's own environment leaks in; HOME may be added
    # from /etc/passwd when the config has none (runc does).
    assert env - given <= {"HOME=/root"}, env - given


def test_process_cwd(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "pwd; ls"])
    b.process["cwd"] = "/etc"
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    lines = res.out.split()
    assert lines[0] == "/etc"
    assert "passwd" in lines and "group" in lines


def test_process_uid_gid_additional_gids(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "id -u; id -g; grep -E '^(Uid|Gid|Groups):' /proc/self/status"])
    b.process["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [10, 20, 30]}
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    lines = res.out.splitlines()
    assert lines[:2] == ["1000", "1001"]
    st = status_fields("\n".join(lines[2:]))
    assert st["Uid"].split() == ["1000"] * 4
    assert st["Gid"].split() == ["1001"] * 4
    assert set(st["Groups"].split()) == {"10", "20", "30"}


def test_process_root_has_no_supplementary_groups_by_default(runtime, make_bundle):
    b = make_bundle(["grep", "^Groups:", "/proc/self/status"])
    st = run_status(runtime, b)
    # runc adds the groups from /etc/group for the user; our busybox /etc/group
    # lists no member, so the set is empty or the primary gid alone.
    assert set(st["Groups"].split()) <= {"0"}


def test_process_umask(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "umask; grep ^Umask: /proc/self/status"])
    b.process["user"]["umask"] = 0o027
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    lines = res.out.splitlines()
    assert lines[0] == "0027"
    assert status_fields(lines[1])["Umask"] == "0027"


def test_capabilities_match_request(runtime, make_bundle):
    bounding = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE",
                "CAP_SETUID"]
    inheritable = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
    ambient = ["CAP_KILL"]
    b = make_bundle(["grep", "^Cap", "/proc/self/status"])
    b.process["capabilities"] = {"bounding": bounding, "effective": bounding,
                                 "permitted": bounding, "inheritable": inheritable,
                                 "ambient": ambient}
    b.write()
    st = run_status(runtime, b)
    assert int(st["CapBnd"], 16) == cap_mask(bounding)
    assert int(st["CapEff"], 16) == cap_mask(bounding)
    assert int(st["CapPrm"], 16) == cap_mask(bounding)
    assert int(st["CapInh"], 16) == cap_mask(inheritable)
    assert int(st["CapAmb"], 16) == cap_mask(ambient)


def test_capabilities_of_non_root_user_via_ambient(runtime, make_bundle):
    caps = ["CAP_NET_BIND_SERVICE"]
    b = make_bundle(["grep", "^Cap", "/proc/self/status"])
    b.process["user"] = {"uid": 1000, "gid": 1000}
    b.process["capabilities"] = {k: list(caps) for k in ("bounding", "effective", "permitted",
                                                         "inheritable", "ambient")}
    b.write()
    st = run_status(runtime, b)
    for field in ("CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb"):
        assert int(st[field], 16) == cap_mask(caps), field


def test_no_capabilities(runtime, make_bundle):
    b = make_bundle(["grep", "^Cap", "/proc/self/status"])
    b.process["capabilities"] = {}
    b.write()
    st = run_status(runtime, b)
    for field in ("CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd"):
        assert int(st[field], 16) == 0, field


CHOWN_SCRIPT = "touch /tmp/f && chown 1000:1000 /tmp/f; echo rc=$?; stat -c %u /tmp/f"


@pytest.mark.parametrize("with_chown", [True, False], ids=["kept", "dropped"])
def test_cap_chown(runtime, make_bundle, with_chown):
    b = make_bundle(["sh", "-c", CHOWN_SCRIPT])
    b.add_mount("/tmp", "tmpfs", "tmpfs", ["size=1m", "mode=1777"])
    caps = ["CAP_KILL"] + (["CAP_CHOWN"] if with_chown else [])
    b.process["capabilities"] = {k: list(caps) for k in ("bounding", "effective", "permitted")}
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    if with_chown:
        assert res.out.split() == ["rc=0", "1000"]
    else:
        assert res.out.split() == ["rc=1", "0"]
        assert "Operation not permitted" in res.err


@pytest.mark.parametrize("with_net_raw", [True, False], ids=["kept", "dropped"])
def test_cap_net_raw(runtime, make_bundle, with_net_raw):
    # Without CAP_NET_RAW busybox ping cannot open its raw socket.  Whether a
    # ping with the socket gets an answer depends on lo being up in the new
    # network namespace, which is not the point here.
    b = make_bundle(["sh", "-c", "ping -c 1 -W 1 127.0.0.1; echo rc=$?"])
    caps = ["CAP_KILL"] + (["CAP_NET_RAW"] if with_net_raw else [])
    b.process["capabilities"] = {k: list(caps) for k in ("bounding", "effective", "permitted")}
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    denied = "ermission denied" in res.err or "Operation not permitted" in res.err
    assert denied != with_net_raw, str(res)
    if not with_net_raw:
        assert "rc=1" in res.out


def test_rlimits(runtime, make_bundle):
    b = make_bundle(["sh", "-c", "ulimit -n; ulimit -Hn; ulimit -Sn; ulimit -c; "
                                 "grep -E 'Max (open files|core file size)' /proc/self/limits"])
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 333, "hard": 444},
                            {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    lines = res.out.splitlines()
    assert lines[:4] == ["333", "444", "333", "0"]
    limits = {re.split(r"\s{2,}", line)[0]: re.split(r"\s{2,}", line)[1:3] for line in lines[4:]}
    assert limits["Max open files"] == ["333", "444"]
    assert limits["Max core file size"] == ["0", "0"]


@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privileges(runtime, make_bundle, nnp):
    b = make_bundle(["grep", "^NoNewPrivs:", "/proc/self/status"])
    b.process["noNewPrivileges"] = nnp
    b.write()
    st = run_status(runtime, b)
    assert st["NoNewPrivs"] == ("1" if nnp else "0")


def test_oom_score_adj(runtime, make_bundle):
    b = make_bundle(["cat", "/proc/self/oom_score_adj"])
    b.process["oomScoreAdj"] = 321
    b.write()
    res = runtime.run(b)
    assert res.rc == 0, str(res)
    assert res.out.strip() == "321"
