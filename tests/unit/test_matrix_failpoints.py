"""Failpoints are no-ops unless a test harness installs the file-armed ones;
an armed failpoint fires once, at its own name only."""

import pytest

from diabot import failpoints


class Died(Exception):
    pass


def test_production_failpoints_do_nothing(tmp_path, monkeypatch):
    armed = tmp_path / "failpoint"
    armed.write_text("crash-before-token-save")
    monkeypatch.setenv("DIABOT_FAILPOINT_FILE", str(armed))  # the old switch: no longer read
    failpoints.hit("crash-before-token-save")
    assert armed.exists()


def test_a_file_armed_failpoint_fires_once_at_its_name(tmp_path, monkeypatch):
    def die(status):
        raise Died(status)

    monkeypatch.setattr(failpoints.os, "_exit", die)
    armed = tmp_path / "failpoint"
    monkeypatch.setattr(failpoints, "_active", failpoints.Failpoints())
    failpoints.install(failpoints.FileFailpoints(armed))
    failpoints.hit("after-create-room:x")  # not armed: nothing
    armed.write_text("after-create-room:direct:@a:x")
    failpoints.hit("after-create-room:x")
    with pytest.raises(Died, match="137"):
        failpoints.hit("after-create-room:direct:@a:x")
    assert not armed.exists()  # the restart runs normally
    failpoints.hit("after-create-room:direct:@a:x")
