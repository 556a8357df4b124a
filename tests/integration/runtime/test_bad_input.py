"""Bad input must fail cleanly: a non-zero exit, a message on stderr, and
nothing left behind (no state entry, cgroup, mount or process), checked right
after the failing command rather than after the teardown's force delete.
"""

import json
import os

import pytest


def assert_failed_clean(runtime, res, bundle, cid=None):
    assert res.rc != 0, str(res)
    assert res.err.strip(), "no error message on stderr"
    assert runtime.leftovers(cid if cid is not None else bundle.id, bundle) == []


def root_entries(runtime):
    return sorted(os.listdir(runtime.root)) if runtime.root.is_dir() else []


def test_malformed_config_json(runtime, make_bundle):
    b = make_bundle(["true"])
    (b.path / "config.json").write_text('{"ociVersion": "1.0.2", "process": {')
    res = runtime.create(b, check=False)
    assert_failed_clean(runtime, res, b)
    assert root_entries(runtime) == []


def test_config_json_not_an_object(runtime, make_bundle):
    b = make_bundle(["true"])
    (b.path / "config.json").write_text("[1, 2, 3]")
    res = runtime.create(b, check=False)
    assert_failed_clean(runtime, res, b)


def test_missing_config_json(runtime, make_bundle):
    b = make_bundle(["true"])
    (b.path / "config.json").unlink()
    res = runtime.create(b, check=False)
    assert_failed_clean(runtime, res, b)


def test_unknown_namespace_type(runtime, make_bundle):
    b = make_bundle(["true"])
    b.linux["namespaces"].append({"type": "bogus"})
    b.write()
    res = runtime.create(b, check=False)
    assert_failed_clean(runtime, res, b)
    assert root_entries(runtime) == []


def test_namespace_path_that_does_not_exist(runtime, make_bundle):
    b = make_bundle(["true"])
    b.set_namespace("network", runtime.workdir / "no-such-netns")
    b.write()
    res = runtime.create(b, check=False)
    assert_failed_clean(runtime, res, b)


def test_missing_rootfs(runtime, make_bundle):
    b = make_bundle(["true"])
    b.config["root"]["path"] = "no-such-rootfs"
    b.write()
    res = runtime.create(b, check=False)
    assert_failed_clean(runtime, res, b)
    assert not (b.path / "no-such-rootfs").exists()


def test_missing_executable(runtime, make_bundle):
    b = make_bundle(["/no/such/binary"])
    res = runtime.run(b)
    assert res.rc != 0, str(res)
    assert runtime.leftovers(b.id, b) == []


@pytest.mark.parametrize("bad_id", ["../x", "a/b", "", "..", ".", "/abs"])
def test_invalid_container_id(runtime, make_bundle, bad_id):
    b = make_bundle(["sleep", "300"])
    res = runtime.create(b, cid=bad_id, check=False)
    assert res.rc != 0, str(res)
    assert res.err.strip()
    assert root_entries(runtime) == []
    # Nothing was made next to the state root or in the bundle either.
    assert not (runtime.root.parent / "x").exists()
    assert sorted(os.listdir(b.path)) == ["config.json", "rootfs"]
    assert runtime.leftovers(None, b) == []


def test_id_already_in_use(runtime, make_bundle):
    first = make_bundle(["sleep", "300"])
    second = make_bundle(["sh", "-c", "echo second"])
    runtime.create(first)
    pid = runtime.state(first.id)["pid"]

    res = runtime.create(second, cid=first.id, check=False)
    assert res.rc != 0, str(res)
    assert res.err.strip()
    # The second config got nowhere: no cgroup, no process.
    assert runtime.leftovers(None, second) == []
    # The first container is untouched and still works.
    st = runtime.state(first.id)
    assert st["status"] == "created" and st["pid"] == pid
    assert os.path.realpath(st["bundle"]) == os.path.realpath(first.path)
    runtime.start(first.id)
    assert runtime.status(first.id) == "running"


def test_start_nonexistent_id(runtime):
    res = runtime("start", "no-such-container")
    assert res.rc != 0, str(res)
    assert res.err.strip()
    assert root_entries(runtime) == []


def test_start_twice_fails(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    runtime.create(b)
    runtime.start(b.id)
    res = runtime("start", b.id)
    assert res.rc != 0, str(res)
    assert runtime.status(b.id) == "running"


@pytest.mark.parametrize("cmd", [["state"], ["kill"], ["delete"], ["pause"], ["resume"],
                                 ["ps"], ["exec", "true"]])
def test_commands_on_nonexistent_id(runtime, cmd):
    args = [cmd[0], "no-such-container", *cmd[1:]]
    res = runtime(*args)
    assert res.rc != 0, str(res)
    assert res.err.strip()


def test_exec_into_stopped_container(runtime, make_bundle):
    b = make_bundle(["true"])
    runtime.create(b)
    runtime.start(b.id)
    runtime.wait_status(b.id, "stopped")
    marker = f"exec-{b.id}"
    res = runtime.exec(b.id, "sh", "-c", f"echo {marker}; sleep 300")
    assert res.rc != 0, str(res)
    assert marker not in res.out
    # Still there, still stopped, and no process of the container running.
    assert runtime.status(b.id) == "stopped"
    assert [x for x in runtime.leftovers(b.id, b) if x.startswith("process")] == []


def test_kill_unknown_signal(runtime, make_bundle):
    b = make_bundle(["sleep", "300"])
    runtime.run_detached(b)
    res = runtime("kill", b.id, "NOSUCHSIG")
    assert res.rc != 0, str(res)
    assert runtime.status(b.id) == "running"


def test_bundle_that_does_not_exist(runtime):
    res = runtime("create", "--bundle", runtime.workdir / "no-bundle", "bt-nobundle")
    runtime.track("bt-nobundle")
    assert res.rc != 0, str(res)
    assert runtime.leftovers("bt-nobundle") == []


def test_unknown_command(runtime):
    res = runtime("no-such-command")
    assert res.rc != 0, str(res)


@pytest.mark.berth_only(reason="berth's error format")
def test_error_message_format(runtime):
    res = runtime("start", "no-such-container")
    assert res.rc == 1, str(res)
    assert res.err.startswith("berth-runc: "), str(res)
    assert "no-such-container" in res.err


@pytest.mark.berth_only(reason="berth's error format")
def test_error_message_format_bad_config(runtime, make_bundle):
    b = make_bundle(["true"])
    (b.path / "config.json").write_text("{")
    res = runtime.create(b, check=False)
    assert res.rc == 1, str(res)
    assert res.err.startswith("berth-runc: "), str(res)
    assert "config.json" in res.err


@pytest.mark.berth_only(reason="berth's --log file")
def test_error_goes_to_log_file(runtime, make_bundle):
    log = runtime.workdir / "runtime.log"
    res = runtime("--log", log, "--log-format", "json", "start", "no-such-container")
    assert res.rc == 1, str(res)
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any("no-such-container" in json.dumps(r) for r in records), records
