"""The HostConfig that `berth container inspect` shows has the members and
zero values of Docker 20.10's, checked against a private dockerd given the
same `create` flags."""

import json

import pytest

FLAG_SETS = [
    [],
    ["--init", "-m", "64m", "--read-only", "--tmpfs", "/run:size=1m", "--cap-add",
     "NET_ADMIN", "--cap-drop", "CHOWN", "--security-opt", "no-new-privileges"],
]

# What berth shows of its own on purpose: the daemon-less CLI has no bridge
# ("none"), and one more masked path.
OWN = {"NetworkMode", "MaskedPaths"}


@pytest.mark.parametrize("flags", FLAG_SETS, ids=["plain", "flags"])
def test_hostconfig_matches_dockerd(dockerd, berth, busybox_rootfs_tar, flags):
    berth.ok("import", "-c", 'CMD ["sh"]', str(busybox_rootfs_tar), "busybox")
    bid = berth.ok("create", *flags, "busybox").strip()
    did = dockerd.ok("create", *flags, dockerd.IMAGE).strip()
    try:
        ours = json.loads(berth.ok("container", "inspect", bid))[0]["HostConfig"]
        theirs = json.loads(dockerd.ok("inspect", did))[0]["HostConfig"]
    finally:
        berth("rm", "-f", bid)
        dockerd("rm", "-f", did)
    assert list(ours) == list(theirs)
    for key in theirs:
        if key not in OWN:
            assert ours[key] == theirs[key], key
