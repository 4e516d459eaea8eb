"""Native transactions of the VRP/Comware drivers against the CLI simulator over real SSH: VRP8
two-stage commit (`commit trial`, `abort trial`, commit ids), Comware 7 `configuration commit
delay`, the dialog table, and netgen killed mid-change (the device's own timer must restore it).

The simulator's timers run at `SCALE` device seconds per real second, so a 60 s `commit trial`
(the device's minimum) fires after ~1 s. Configs are small and hand-written here so that these
tests do not move with the templates.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netgen.deploy.drivers.cli import CommandRejected
from netgen.deploy.drivers.vrp import VrpDriver

from .cli_sim import SimDevice, SimServer
from .cli_sim.lab import SimLab

SCALE = 1 / 60          # a device minute is a real second
REPO = Path(__file__).resolve().parents[2]
MODE = {"huawei_vrp": "two-stage", "h3c_comware": "commit-delay"}
BEFORE = {
    "huawei_vrp": "sysname sim-pe\ninterface GigabitEthernet0/0/1\n description old uplink\n undo shutdown\n"
                  "ntp-service unicast-server 10.0.0.1\n",
    "h3c_comware": "sysname sim-pe\ninterface GigabitEthernet1/0/1\n description old uplink\n"
                   "ntp-service unicast-server 10.0.0.1\n",
}


def after(platform: str) -> str:
    return BEFORE[platform].replace("old uplink", "new uplink") + "ntp-service unicast-server 10.0.0.2\n"


class Lab(SimLab):
    """Devices start from BEFORE, in their native mode (VRP two-stage), on device time."""

    def device(self, platform: str, **kwargs) -> tuple[SimDevice, SimServer]:
        if platform == "huawei_vrp":
            kwargs.setdefault("commit_mode", "two-stage")
        return super().device(platform, BEFORE[platform], time_scale=SCALE, **kwargs)

    def driver(self, platform: str, server: SimServer, mode: str | None = None):
        return super().driver(platform, server, commit_mode=mode or MODE[platform])


@pytest.fixture
def lab():
    lab = Lab()
    yield lab
    lab.close()


def running(driver) -> str:
    return driver.get_config(retrieve="running")["running"]


def wait_until(predicate, timeout: float = 15.0) -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


# ------------------------------------------------------------------------------ modes


def test_mode_comes_from_optional_args_and_is_checked():
    assert VrpDriver("h", "u", "p", optional_args={"commit_mode": "two-stage"}).native_commit_confirm is True
    assert VrpDriver("h", "u", "p").native_commit_confirm is False          # netgen-held by default
    with pytest.raises(ValueError, match="commit-delay"):
        VrpDriver("h", "u", "p", optional_args={"commit_mode": "commit-delay"})   # not a VRP mode


# ------------------------------------------------------------------------------ VRP8 two-stage


def test_two_stage_trial_then_confirm(lab):
    device, server = lab.device("huawei_vrp")
    driver = lab.driver("huawei_vrp", server)
    driver.load_replace_candidate(config=after("huawei_vrp"))
    driver.commit_config(revert_in=60)
    assert device.tx.trial is not None and "new uplink" in running(driver)
    assert driver.has_pending_commit()
    driver.confirm_commit()
    assert device.tx.trial is None and not driver.has_pending_commit()
    time.sleep(60 * SCALE + 0.5)                            # past the trial: nothing reverts
    assert "new uplink" in running(driver) and "new uplink" in device.saved_text


def test_two_stage_unconfirmed_trial_reverts_by_itself(lab):
    device, server = lab.device("huawei_vrp")
    driver = lab.driver("huawei_vrp", server)
    before = running(driver)
    driver.load_replace_candidate(config=after("huawei_vrp"))
    driver.commit_config(revert_in=60)
    wait_until(lambda: device.tx.events == ["trial expired: reverted"])
    assert running(driver) == before
    driver.rollback()                 # the trial is gone already: the rollback only checks
    assert running(driver) == before and not driver.has_pending_commit()


def test_two_stage_push_without_commit_changes_nothing(lab):
    device, server = lab.device("huawei_vrp")
    driver = lab.driver("huawei_vrp", server)
    before = running(driver)
    driver.load_replace_candidate(config=after("huawei_vrp"))
    driver._push(driver.candidate_commands(reveal_secrets=True))     # no `commit` at the end
    assert "ntp-service unicast-server 10.0.0.2" in device.commands   # it was typed …
    assert running(driver) == before                                  # … and discarded at `return`


def test_two_stage_rollback_after_confirmed_commit_uses_commit_id(lab):
    device, server = lab.device("huawei_vrp")
    driver = lab.driver("huawei_vrp", server)
    before = running(driver)
    first = device.tx.points[-1][0]
    driver.load_replace_candidate(config=after("huawei_vrp"))
    driver.commit_config()
    assert "new uplink" in running(driver) and device.tx.points[-1][1] == "CLI"
    driver.rollback()
    assert device.tx.points[-1][1] == "ROLLBACK" and driver._pre_commit_id == str(first)
    assert running(driver) == before and "old uplink" in device.saved_text


def test_rejected_line_in_two_stage_leaves_running_untouched(lab):
    device, server = lab.device("huawei_vrp")
    device.reject(r"^ntp-service unicast-server 10\.0\.0\.2$")
    driver = lab.driver("huawei_vrp", server)
    before = running(driver)
    driver.load_replace_candidate(config=after("huawei_vrp"))
    with pytest.raises(CommandRejected, match="pre-change config is restored"):
        driver.commit_config(revert_in=60)
    assert running(driver) == before and device.tx.trial is None


# ------------------------------------------------------------------------------ dialogs


@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware"])
def test_unexpected_prompt_stops_the_push_and_rolls_back(lab, platform):
    device, server = lab.device(platform, commit_mode=None) if platform == "huawei_vrp" else lab.device(platform)
    device.ask(r"^description new uplink$", "Warning: This will reset the port. Continue? [Y/N]:")
    driver = lab.driver(platform, server, mode="netgen-held")
    before = running(driver)
    driver.load_replace_candidate(config=after(platform))
    with pytest.raises(CommandRejected) as caught:
        driver.commit_config()
    assert "unexpected prompt" in str(caught.value) and "reset the port" in str(caught.value)
    assert running(driver) == before                 # declined (n), and nothing else stayed


# ------------------------------------------------------------------------------ Comware commit delay


def test_comware_commit_delay_confirm_and_expiry(lab):
    device, server = lab.device("h3c_comware")
    driver = lab.driver("h3c_comware", server)
    before = running(driver)
    driver.load_replace_candidate(config=after("h3c_comware"))
    driver.commit_config(revert_in=30)                   # rounded up to 1 minute
    assert device.commands[0] == "configuration commit delay 1" and device.tx.delay is not None
    driver.confirm_commit()
    assert device.tx.delay is None and "new uplink" in running(driver)
    driver.rollback()
    assert running(driver) == before
    driver.load_replace_candidate(config=after("h3c_comware"))
    driver.commit_config(revert_in=60)
    wait_until(lambda: device.tx.events == ["commit delay expired: reverted"])
    assert running(driver) == before


# ------------------------------------------------------------------------------ netgen killed


_PUSHER = """
import json, sys, time
from netgen.deploy.drivers.comware import ComwareDriver
from netgen.deploy.drivers.vrp import VrpDriver
a = json.loads(sys.argv[1])
cls = VrpDriver if a["platform"] == "huawei_vrp" else ComwareDriver
d = cls("127.0.0.1", a["user"], a["password"], timeout=10,
        optional_args={"port": a["port"], "read_timeout": 10, "commit_mode": a["mode"],
                       "known_hosts": a["known_hosts"]})
d.open()
d.load_replace_candidate(config=a["config"])
d.commit_config(revert_in=60)
print("pending", flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware"])
@pytest.mark.parametrize("when", ["after-commit", "mid-push"])
def test_netgen_killed_the_device_restores_itself(lab, platform, when):
    device, server = lab.device(platform)
    reader = lab.driver(platform, server)
    before = running(reader)
    if when == "mid-push":
        device.command_delay = 0.3
    args = json.dumps({"platform": platform, "user": server.username, "password": server.password,
                       "port": server.port, "mode": MODE[platform], "config": after(platform),
                       "known_hosts": lab.known_hosts})
    proc = subprocess.Popen([sys.executable, "-c", _PUSHER, args], stdout=subprocess.PIPE, text=True,
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        if when == "after-commit":
            assert proc.stdout.readline().strip() == "pending"
            assert "new uplink" in running(reader)
        else:
            wait_until(lambda: "description new uplink" in device.commands)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    device.command_delay = 0.0
    if platform == "h3c_comware" or when == "after-commit":
        wait_until(lambda: len(device.tx.events) == 1)   # the device's own timer fired
    time.sleep(60 * SCALE + 0.3)                        # and nothing else happens after it
    assert running(reader) == before
