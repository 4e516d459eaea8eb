"""The production design as netgen renders it for FRR (`--platform frr_mpls`), running in the lab
guest: a reflector and two client PEs of the example carrying one zone between two department
LANs (802.1q into host namespaces). LDP sessions come up between neighbours, each PE's VPN route
to the other's LAN carries labels, the two hosts reach each other, and a host reaches no core
address. Wiring: tests/lab/mpls_design.py; skip rules and fixture discipline as test_guest.py."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from netgen.lab.guest import Guest
from netgen.lab.system import alive
from netgen.model import resolve
from netgen.render.build import build

from ..labkit import lab_name
from . import mpls_design
from .mpls_design import needs_guest

REPO = Path(__file__).resolve().parents[2]
pytestmark = needs_guest


@pytest.fixture(scope="module")
def network():
    res = resolve(REPO / "inventory")
    assert res.ok, [str(d.message) for d in res.errors]
    return res.network


@pytest.fixture(scope="module")
def guest():
    g = Guest(lab_name("m"))
    try:
        g.up()
        yield g
    finally:
        recorded = json.loads(g.state_file.read_text()) if g.state_file.exists() else {}
        g.down()
        assert not any(alive(*p) for p in (recorded.get("qemu"), recorded.get("master")) if p), \
            "a qemu or ssh of the guest outlived down()"
        assert not g.dir.exists()


@pytest.fixture(scope="module")
def vpn(network, guest, tmp_path_factory):
    """The scope built, FRR started and the rendered configs (+ fast timers) loaded."""
    scope = mpls_design.choose(network)
    out = tmp_path_factory.mktemp("frr_mpls") / "build"
    result = build(network, out, platform="frr_mpls", jobs=1)
    assert result.ok, [d.message for d in result.diagnostics]
    guest.put("/tmp/mpls/build.sh", mpls_design.build_script(network, scope))
    guest.put("/tmp/mpls/start.sh", mpls_design.start_script(scope))
    for r in scope.routers:
        rendered = (out / f"{r}.conf").read_text(encoding="utf-8")
        guest.put(f"/tmp/mpls/{r}.conf", rendered + mpls_design.fast_timers(network, r, scope))
    t = time.monotonic()
    guest.run("sh /tmp/mpls/build.sh", timeout=180, check=True)
    guest.run("sh /tmp/mpls/start.sh", timeout=180, check=True)
    for r in scope.routers:
        p = guest.run(mpls_design.load_command(r, f"/tmp/mpls/{r}.conf"), timeout=120)
        said = (p.stdout + p.stderr).strip()
        assert p.returncode == 0 and "%" not in said, f"{r}: FRR refused its rendered config:\n{said}"
    print(f"\n[mpls] {', '.join(scope.routers)}: built, started and loaded in {time.monotonic() - t:.1f} s; "
          f"zone {scope.zone}: {scope.lans[0].address} ↔ {scope.lans[1].address}")
    return scope


def _until(guest, cmd: str, ok, timeout: float = 90) -> str:
    """Run `cmd` in the guest until ok(stdout) or the timeout; the last output."""
    deadline, out = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        out = guest.run(cmd, timeout=60).stdout
        if ok(out):
            return out
        time.sleep(2)
    return out


def test_ldp_sessions_come_up_between_neighbours(network, guest, vpn):
    rr = vpn.reflector
    ids = [network.devices[pe].router_id for pe in vpn.pes]
    cmd = f"vtysh -N {rr} -c 'show mpls ldp neighbor'"
    out = _until(guest, cmd, lambda o: all(re.search(rf"{re.escape(i)}\s+OPERATIONAL", o) for i in ids))
    for i in ids:
        assert re.search(rf"ipv4\s+{re.escape(i)}\s+OPERATIONAL", out), f"{rr}: no LDP session with {i}:\n{out}"


def test_each_pe_has_the_other_lans_route_with_labels(network, guest, vpn):
    for pe, lan, other in ((vpn.pes[0], vpn.lans[0], vpn.lans[1]), (vpn.pes[1], vpn.lans[1], vpn.lans[0])):
        prefix = str(other.gateway.network)
        far = network.devices[other.device].loopback4
        out = _until(guest, f"ip -n {pe} route show vrf {lan.vrf}",
                     lambda o: re.search(rf"^{re.escape(prefix)} .*encap mpls", o, re.M) is not None)
        m = re.search(rf"^{re.escape(prefix)} .*encap mpls\s+(\S+)", out, re.M)
        assert m, f"{pe}: no labelled route to {prefix} in VRF {lan.vrf}:\n{out}"
        # two labels: LDP's to the far PE's loopback (the reflector is P between them), then the VPN label
        assert len(m.group(1).split("/")) == 2, m.group(0)
        bgp = guest.run(f"vtysh -N {pe} -c 'show bgp ipv4 vpn {prefix}'").stdout
        # the VPN route as BGP holds it: next hop the far PE's loopback (reflected unchanged), a label
        assert str(far) in bgp and re.search(r"Remote label: \d+", bgp), f"{pe}: {prefix}:\n{bgp}"


def test_the_zones_department_hosts_reach_each_other_and_no_core_address(network, guest, vpn):
    a, b = vpn.lans
    ping = guest.run(f"for i in $(seq 60); do ip netns exec {a.host} ping -c1 -W1 {b.address} >/dev/null && exit 0;"
                     " done; exit 1", timeout=150)
    if ping.returncode != 0:
        state = guest.run(f"ip -n {a.device} route show vrf {a.vrf}; ip -n {vpn.reflector} -M route;"
                          f"vtysh -N {a.device} -c 'show bgp ipv4 vpn' -c 'show mpls ldp neighbor'").stdout
        pytest.fail(f"zone {vpn.zone}: {a.host} ({a.device}) cannot reach {b.address} ({b.device}):\n{state}")
    assert guest.run(f"ip netns exec {b.host} ping -c1 -W1 {a.address}").returncode == 0
    core = [str(network.devices[r].loopback4) for r in vpn.routers]
    for target in core:
        p = guest.run(f"ip netns exec {a.host} ping -c1 -W1 {target}")
        assert p.returncode != 0, f"{a.host} in zone {vpn.zone} reaches the core address {target}"
