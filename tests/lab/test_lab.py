"""`netgen lab`: real namespaces, real FRR daemons, real sshd — up, up again, change, down, crash."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


from netgen.lab import down, status, up
from netgen.lab.state import LabState, lab_dir, prefix_for
from netgen.lab.system import alive, existing_netns, processes_in
from netgen.model import resolve

from ..labkit import leftovers, needs_root, ssh

pytestmark = needs_root
REPO = Path(__file__).resolve().parents[2]


def test_up_is_idempotent_and_down_leaves_nothing(lab, intent_dir):
    name = lab("a")
    net = resolve(intent_dir.root).network
    first = up(net, name, ["jx-nc"], str(intent_dir.root), design="lite")
    assert first.added == ["jx-nc-ncx-lt-ce1", "jx-nc-ncx-pe1", "jx-nc-pe1", "jx-nc-pe2"] and not first.kept
    state = LabState.load(name)
    pids = {r: [p for p, _ in procs] for r, procs in state.processes.items()}
    # Real SSH into the router's own namespaces: its host name, its FRR, its interfaces.
    uplink = next(f"eth{i.port}" for i in net.devices["jx-nc-ncx-pe1"].interfaces if i.kind == "uplink")
    p = ssh(name, "jx-nc-ncx-pe1", f"hostname; vtysh -c 'show version' | head -1; ip -o link show {uplink}")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == "jx-nc-ncx-pe1" and "FRRouting 8" in p.stdout and uplink in p.stdout
    # The routers start minimal: plan/apply do the real work.
    run = ssh(name, "jx-nc-pe1", "vtysh -c 'show running-config'").stdout
    assert "hostname jx-nc-pe1" in run and "router bgp" not in run and "interface" not in run
    # A department host on its LAN, its gateway the router's access interface.
    hosts = [n for n in existing_netns() if n.startswith(prefix_for(name) + "-h.hrss@jx-nc-ncx.")]
    assert sorted(h.rsplit(".", 1)[1] for h in hosts) == ["internet", "public"]

    again = up(net, name, ["jx-nc"], str(intent_dir.root), design="lite")
    assert again.added == [] and again.kept == first.added
    assert {r: [p for p, _ in procs] for r, procs in LabState.load(name).processes.items()} == pids

    st, routers = status(name)
    assert st is not None and all(all(r.daemons.values()) for r in routers)
    recorded = [(p, s) for procs in LabState.load(name).processes.values() for p, s in procs]
    down(name)
    assert leftovers(name) == [] and not any(alive(p, s) for p, s in recorded)


def test_an_intent_change_adds_the_new_router_and_keeps_the_others_running(lab, intent_dir):
    name = lab("b")
    up(resolve(intent_dir.root).network, name, ["jx-nc"], design="lite")
    before = LabState.load(name).processes
    new = intent_dir.add_county()
    second = up(resolve(intent_dir.root).network, name, ["jx-nc"], design="lite")
    assert second.added == [new] and len(second.kept) == 4
    after = LabState.load(name).processes
    assert all(after[r] == before[r] for r in before)
    net = resolve(intent_dir.root).network
    port = next(i.port for i in net.devices["jx-nc-pe2"].interfaces if i.peer_device == new)
    p = ssh(name, "jx-nc-pe2", f"ip -o link show eth{port}")  # the new link's port on the city PE
    assert p.returncode == 0, p.stderr


def test_down_after_a_killed_up_removes_everything(lab):
    name = lab("c")
    proc = subprocess.Popen([sys.executable, "-m", "netgen", "lab", "up", str(REPO / "inventory"), "--design", "lite", "--name", name,
                             "--scope", "jx"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state_file = lab_dir(name) / "state.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill it once routers are starting: the messiest moment
        try:
            if json.loads(state_file.read_text()).get("processes"):
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    ours = {n for n in existing_netns() if n.startswith(prefix_for(name) + "-")}
    assert ours, "the killed run had created nothing: the test did not test anything"
    running = processes_in(ours)
    assert running
    down(name)
    assert leftovers(name) == []
    assert not any(alive(p, s) for p, s in running)


def test_a_zone_new_on_a_running_router_becomes_its_vrf(lab, intent_dir):
    """An intent change that brings a zone to a router already running: the lab adds the VRF's
    namespace to the router's private /run/netns, and zebra adopts it."""
    name = lab("d")
    up(resolve(intent_dir.root).network, name, ["jx-nc-ncx"], design="lite")
    assert "ZW-TREASURY" not in ssh(name, "jx-nc-ncx-pe1", "ls /run/netns").stdout
    intent_dir.replace("departments.yaml", "      - {site: gx-nn-la}\n",
                       "      - {site: gx-nn-la}\n      - {site: jx-nc-ncx, zones: [treasury]}\n")  # finance: a new zone here
    res = resolve(intent_dir.root)
    assert res.ok, [d.message for d in res.errors]
    second = up(res.network, name, ["jx-nc-ncx"], design="lite")
    assert second.added == []
    deadline = time.monotonic() + 10
    while "ZW-TREASURY" not in (out := ssh(name, "jx-nc-ncx-pe1", "vtysh -c 'show vrf'").stdout):
        assert time.monotonic() < deadline, out
        time.sleep(0.5)
    assert "ZW-TREASURY" in ssh(name, "jx-nc-ncx-pe1", "ls /run/netns").stdout
