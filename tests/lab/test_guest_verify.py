"""verify's MPLS checks on the running production design in the lab guest: the reflector and two
PEs of tests/lab/mpls_design.py (its fixtures, from test_guest_mpls). netgen's FRR driver reads
each router (its commands sent to that router's FRR pathspace in the guest); verify's own
expectations, reading, judging and settling decide. Then a route-target import is deleted on one
PE and verify names the broken pair, zone and prefixes. Probes run through the guest's runner."""
from __future__ import annotations

import dataclasses
import time

from netgen.deploy.drivers.frr import FrrDriver
from netgen.deploy.drivers.frr_ssh import Result
from netgen.lab.runner import GuestRunner
from netgen.lab.topology import HostSpec
from netgen.render.platform import load_platform
from netgen.verify import expect
from netgen.verify.checks import GetterChecks, judge, probe_findings, read_device
from netgen.verify.settle import settle

from .mpls_design import needs_guest
from .test_guest_mpls import guest, network, vpn  # noqa: F401 (fixtures: one guest, the scope loaded)

pytestmark = needs_guest
MPLS = load_platform("frr_mpls")


class GuestFrr(FrrDriver):
    """netgen's FRR driver, its vtysh sent to one router's pathspace in the guest (mpls_design runs
    FRR with `-N ROUTER`, not an sshd per router)."""

    def __init__(self, vm, router: str):
        super().__init__(router, "", "")
        self.vm = vm

    def _run(self, command: str, stdin=None, timeout=None) -> Result:
        assert command.startswith("vtysh "), command
        p = self.vm.run(f"vtysh -N {self.hostname} {command[len('vtysh '):]}", timeout=timeout or 60)
        return Result(p.returncode, p.stdout, p.stderr)


def checks_of(net, scope, vm) -> GetterChecks:
    routers = set(scope.routers)
    # IS-IS names a neighbour by its host name; mpls_design's routers share the guest's (no UTS
    # namespace each, unlike the lab's), so that is the name every adjacency shows here
    host = vm.run("hostname", check=True).stdout.strip()
    igp = [dataclasses.replace(c, neighbor=host) for c in expect.igp(net, routers, lambda d: MPLS)]
    return GetterChecks(igp=igp, ldp=expect.ldp(net, routers, lambda d: MPLS),
                        vpn=expect.vpn_paths(net, routers, lambda d: MPLS))


def verify_settled(vm, checks: GetterChecks, timeout: float):
    drivers = {r: GuestFrr(vm, r) for r in checks.devices()}

    def run(cs: GetterChecks):
        return judge(cs, {r: read_device(drivers[r], r, cs) for r in cs.devices()})
    return settle(run(checks), lambda failed: run(checks.only(f.source for f in failed)), timeout, interval=2)


def test_ldp_and_vpn_paths_hold_once_settled(network, guest, vpn):  # noqa: F811
    checks = checks_of(network, vpn, guest)
    a, b = vpn.pes
    assert {(c.a, c.b) for c in checks.ldp} == {tuple(sorted((pe, vpn.reflector))) for pe in vpn.pes}
    t = time.monotonic()
    findings, waited, settled = verify_settled(guest, checks, timeout=120)
    print(f"\n[verify] {len(findings)} findings, settled={settled} after {waited:.0f} s "
          f"({time.monotonic() - t:.0f} s with reading)")
    bad = [f"{f.check} {f.subject} [{f.zones}]: {f.detail}" for f in findings if not f.ok]
    assert settled, "\n".join(bad)
    # IS-IS only (no ospfd runs: asking for OSPF would fail the whole read), both ends of both links
    assert sorted(f.subject.split(" (")[0] for f in findings if f.check == "igp" and f.ok) == sorted(
        [f"{pe} → {vpn.reflector}" for pe in vpn.pes] + [f"{vpn.reflector} → {pe}" for pe in vpn.pes])
    ldp = [f for f in findings if f.check == "ldp"]
    assert len(ldp) == 2 and all(f.ok and f.detail == "LDP session OPERATIONAL" for f in ldp)
    pair = {f.subject: f for f in findings if f.check == "vpn-path" and f.zones == vpn.zone}
    assert pair[f"{a} → {b}"].ok and pair[f"{b} → {a}"].ok


def test_probes_run_in_the_guest_through_its_runner(network, guest, vpn):  # noqa: F811
    assert verify_settled(guest, checks_of(network, vpn, guest), timeout=120)[2]
    h1, h2 = vpn.lans
    src = HostSpec(h1.host, "dept", "site", vpn.zone, h1.device, None, None, None, None)
    core = str(network.devices[vpn.reflector].loopback4)
    plist = [expect.Probe(src, h2.address, "h2", vpn.zone, vpn.zone, True, "same zone"),
             expect.Probe(src, core, "the core", vpn.zone, "(core)", False, "no zone reaches the core")]
    t = time.monotonic()
    reach, core_probe = probe_findings(plist, "none", GuestRunner(guest))
    print(f"\n[verify] 2 probes in {time.monotonic() - t:.1f} s")
    assert reach.ok and reach.subject == f"dept@site/{vpn.zone} → h2 ({h2.address})", reach
    assert core_probe.ok and core_probe.check == "isolation", core_probe


def test_a_deleted_route_target_import_is_named(network, guest, vpn):  # noqa: F811
    a, b = vpn.pes
    vrf = network.devices[a].zone_vrf(vpn.zone)
    bgp = f"vtysh -N {a} -c 'conf t' -c 'router bgp {network.devices[a].asn} vrf {vrf.name}' " \
          "-c 'address-family ipv4 unicast'"
    checks = checks_of(network, vpn, guest)
    one = checks.only(c for c in checks.vpn if (c.source, c.destination, c.zone) == (a, b, vpn.zone))
    assert verify_settled(guest, one, timeout=120)[2]
    # a's VRF stops importing the zone's route target: b's LANs leave it, the VPNv4 routes stay
    guest.run(f"{bgp} -c 'no rt vpn import {vrf.rt}'", check=True)
    try:
        findings, waited, settled = verify_settled(guest, one, timeout=10)
        (f,) = findings
        assert not settled and not f.ok and (f.check, f.subject, f.zones) == ("vpn-path", f"{a} → {b}", vpn.zone)
        lan = str(vpn.lans[1].gateway.network)
        assert f"{lan}: VPNv4 route (RD {network.devices[b].zone_vrf(vpn.zone).rd}, RT {vrf.rt}) valid but not " \
               f"in VRF {vrf.name}: the VRF does not import RT {vrf.rt}" in f.detail, f.detail
    finally:
        guest.run(f"{bgp} -c 'rt vpn import {vrf.rt}'", check=True)
