"""The production-design lab's contracts on a small scope (a county PE and its township CE, in the
lab guest): `up` twice changes nothing, a guest whose qemu died is rebuilt by the next `up`, and
`down` after a killed `up` leaves nothing — no qemu, no file. The whole story (plan, apply,
verify) runs in tests/e2e/test_mpls_story.py."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from netgen.lab import down, up
from netgen.lab.guest import Guest
from netgen.lab.state import LabState, lab_dir
from netgen.model import resolve

from ..labkit import leftovers, ssh
from .mpls_design import needs_guest

REPO = Path(__file__).resolve().parents[2]
SCOPE = ["jx-nc-ncx"]
pytestmark = needs_guest


def test_up_is_idempotent_and_rebuilds_a_guest_whose_qemu_died(lab):
    name = lab("q")
    net = resolve(REPO / "inventory").network
    first = up(net, name, SCOPE, str(REPO / "inventory"))
    routers = sorted(first.added)
    assert routers == ["jx-nc-ncx-lt-ce1", "jx-nc-ncx-pe1"]
    state = LabState.load(name)
    assert (state.design, state.where) == ("mpls", "guest")
    # the router is what the design needs: VRF devices with the zones' tables, LAN VLANs enslaved
    links = ssh(name, "jx-nc-ncx-pe1", "ip -d -o link show").stdout
    for v in net.devices["jx-nc-ncx-pe1"].vrfs:
        assert f"{v.name}: " in links and f"vrf table {v.vpn_id}" in links, v.name
    assert "eth1.100@eth1" in links and "master ZW-PUB" in links
    again = up(net, name, SCOPE, str(REPO / "inventory"))
    assert again.added == [] and sorted(again.kept) == routers

    guest = json.loads((Guest(name).state_file).read_text())
    os.kill(guest["qemu"][0], signal.SIGKILL)
    rebuilt = up(net, name, SCOPE, str(REPO / "inventory"))
    assert sorted(rebuilt.kept) == routers  # restarted: their daemons had died with the guest
    assert ssh(name, "jx-nc-ncx-pe1", "vtysh -c 'show version'").returncode == 0
    down(name)
    assert leftovers(name) == []


def test_down_after_a_killed_up_leaves_nothing(lab):
    name = lab("k")
    proc = subprocess.Popen([sys.executable, "-m", "netgen", "lab", "up", str(REPO / "inventory"), "--name", name,
                             "--scope", *SCOPE], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state_file = lab_dir(name) / "state.json"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # killed once the guest runs and namespaces are being made
        try:
            if json.loads(state_file.read_text()).get("namespaces"):
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert any(x.startswith("qemu") for x in leftovers(name)), "nothing was running: the test tested nothing"
    down(name)
    assert leftovers(name) == []
