"""The MPLS design's checks: the FRR getters read real FRR 8.4 output (recorded in the lab guest,
see captures/README.md), what the example intent expects (LDP sessions, VPN paths), and how a
broken VPN path is diagnosed — from the same recorded states."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from netgen.deploy.drivers import frr_getters as g
from netgen.model import resolve
from netgen.render.platform import load_platform
from netgen.verify import expect
from netgen.verify.checks import GetterChecks, diagnose, judge, read_device

EXAMPLE = Path(__file__).resolve().parents[2] / "inventory"
CAPTURES = Path(__file__).parent / "captures"
MPLS = load_platform("frr_mpls")


@lru_cache(maxsize=None)
def network():
    return resolve(EXAMPLE).network


def capture(name: str) -> str:
    return (CAPTURES / name).read_text()


# ------------------------------------------------------------------ parsers


def test_ldp_neighbors_as_the_reflector_saw_its_two_clients():
    got = g.ldp_neighbors(capture("ldp_neighbor_reflector.json"))
    assert [(n["neighbor"], n["state"], n["up"]) for n in got] == [("10.255.0.11", "OPERATIONAL", True),
                                                                  ("10.255.0.14", "OPERATIONAL", True)]
    assert got[0]["transport_address"] == "10.255.0.11" and got[0]["address_family"] == "ipv4"
    assert g.ldp_neighbors(capture("ldp_neighbor_none.json")) == []  # `{}`: no "neighbors" key at all


def test_vrf_routes_carry_the_label_stack_of_the_installed_hop():
    tables = g.vrf_routes(capture("ip_route_vrf_all.json"))
    assert set(tables) == {"default", "ZW-PUB"}
    pub = tables["ZW-PUB"]
    # across the reflector (a P router between the PEs): LDP label for the far PE's loopback, then the VPN label
    assert pub["10.36.16.128/25"] == {"protocol": "bgp", "selected": True, "installed": True,
                                      "next_hop": "10.255.0.14", "interface": "eth3", "labels": [18, 80]}
    # towards the adjacent PE: LDP's implicit null (3) and the VPN label
    assert pub["10.36.1.0/24"]["labels"] == [3, 80] and pub["10.36.1.0/24"]["next_hop"] == "10.255.36.1"
    assert pub["10.36.82.0/26"]["protocol"] == "connected" and pub["10.36.82.0/26"]["labels"] == []
    assert g.vrf_routes(capture("ip_route_vrf_pub.json")) == {"ZW-PUB": pub}
    assert g.vrf_routes(capture("ip_route_vrf_pub_absent.json")) == {}


def test_vpn_paths_name_rd_label_route_targets_and_next_hop():
    assert g.vpn_paths(capture("bgp_vpn_prefix.json")) == [{
        "rd": "10.255.0.14:100", "prefix": "10.36.16.128/25", "valid": True, "best": True,
        "next_hop": "10.255.0.14", "accessible": True, "remote_label": 80, "route_targets": ["4200100000:100"],
        "originator": "10.255.0.14"}]
    assert g.vpn_paths(capture("bgp_vpn_prefix_absent.json")) == []


# ------------------------------------------------------------------ expectations


def test_one_ldp_check_per_igp_neighbour_pair_on_mpls_platforms_only():
    net = network()
    checks = expect.ldp(net, set(net.devices), lambda d: MPLS)
    # the example: 16 IGP links (the inter-AS links run no IGP), no two between the same pair
    pairs = {tuple(sorted((link.a, link.b))) for link in net.links if not link.inter_as}
    assert len(pairs) == 16 and {(c.a, c.b) for c in checks} == pairs and len(checks) == 16
    c = next(c for c in checks if (c.a, c.b) == ("jx-gqc-pe1", "jx-pe1"))
    assert (c.a_id, c.b_id) == (net.devices["jx-gqc-pe1"].router_id, net.devices["jx-pe1"].router_id)
    # VRF-lite (the lab's `frr`) runs no LDP; a scope without one end has no session to check
    assert expect.ldp(net, set(net.devices), lambda d: load_platform("frr")) == []
    assert not any("jx-pe1" in c.devices for c in expect.ldp(net, set(net.devices) - {"jx-pe1"}, lambda d: MPLS))


def test_vpn_paths_between_every_two_pes_of_a_zone():
    net = network()
    checks = expect.vpn_paths(net, set(net.devices), lambda d: MPLS)
    pes: dict[str, set[str]] = {}
    for d in net.devices.values():
        for a in d.attachments:
            if a.ipv4:
                pes.setdefault(a.zone, set()).add(d.name)
    # every zone of the example has at most MESH PEs: each ordered pair once (10·9 + 8·7 + … = 178)
    assert max(map(len, pes.values())) <= expect.MESH
    assert len(checks) == sum(len(s) * (len(s) - 1) for s in pes.values()) == 178
    c = next(c for c in checks if (c.source, c.destination, c.zone) == ("jx-gqc-pe1", "jx-nc-pe1", "public"))
    far, near = net.devices["jx-nc-pe1"], net.devices["jx-gqc-pe1"]
    assert c.prefixes == tuple(sorted(str(a.ipv4.network) for a in far.attachments if a.zone == "public"))
    assert (c.vrf, c.rd, c.rt) == ("ZW-PUB", far.zone_vrf("public").rd, near.zone_vrf("public").rt)
    assert [(h.interface, h.peer) for h in c.hops] == [("eth3", "jx-pe1")]


def test_a_big_zone_is_checked_in_a_ring(monkeypatch):
    net = network()
    monkeypatch.setattr(expect, "MESH", 5)
    checks = expect.vpn_paths(net, set(net.devices), lambda d: MPLS)
    public = [c for c in checks if c.zone == "public"]
    assert len(public) == 10 * expect.RING  # 10 PEs in the public zone, each → the next RING
    assert {c.source for c in public} == {c.destination for c in public}


# ------------------------------------------------------------------ diagnosis, on recorded states


def gqc_to_nc() -> expect.VpnPathCheck:
    net = network()
    return next(c for c in expect.vpn_paths(net, set(net.devices), lambda d: MPLS)
                if (c.source, c.destination, c.zone) == ("jx-gqc-pe1", "jx-nc-pe1", "public"))


class Recorded:
    """A driver answering with the recorded outputs: converged, or after one change."""

    def __init__(self, routes="ip_route_vrf_all.json", ldp="ldp_neighbor_client.json"):
        self.routes, self.ldp, self.lookups = routes, ldp, []

    def get_ldp_neighbors(self):
        return g.ldp_neighbors(capture(self.ldp))

    def get_vrf_routes(self, vrf=""):
        return g.vrf_routes(capture(self.routes))

    def get_vpn_route(self, prefix):
        self.lookups.append(prefix)
        # recorded for 10.36.16.128/25; jx-nc-pe1's other public LANs are exported the same way
        return [dict(p, prefix=prefix) for p in g.vpn_paths(capture("bgp_vpn_prefix.json"))]

    def get_vrf_bgp_paths(self, vrf, prefix):  # as the lab showed it, "(inaccessible) … invalid"
        return [] if self.reachable else [{"valid": False, "best": False, "next_hop": "10.255.0.14",
                                           "accessible": False}]

    reachable = True


def test_converged_paths_pass_and_need_no_bgp_lookup():
    c = gqc_to_nc()
    drv = Recorded()
    state = read_device(drv, "jx-gqc-pe1", GetterChecks(vpn=[c]))
    (f,) = judge(GetterChecks(vpn=[c]), {"jx-gqc-pe1": state})
    assert f.ok and (f.check, f.subject, f.zones) == ("vpn-path", "jx-gqc-pe1 → jx-nc-pe1", "public"), f
    assert drv.lookups == []


def test_a_route_target_not_imported_is_named_with_zone_prefix_and_rt():
    c = gqc_to_nc()
    drv = Recorded(routes="ip_route_vrf_pub_absent.json")  # recorded after `no rt vpn import …`
    (f,) = judge(GetterChecks(vpn=[c]), {"jx-gqc-pe1": read_device(drv, "jx-gqc-pe1", GetterChecks(vpn=[c]))})
    assert not f.ok and f.zones == "public"
    assert f"10.36.16.128/25: VPNv4 route (RD {c.rd}, RT {c.rt}) valid but not in VRF ZW-PUB: the VRF does not " \
           f"import RT {c.rt}" in f.detail


def test_a_next_hop_with_no_route_is_named_as_the_missing_labelled_path():
    """Seen on the example's MPLS lab: the VPNv4 route of a PE in another AS is valid (on the
    reflector's word) and imported, but the VRF's copy is invalid, its next hop inaccessible: no
    labelled path to that PE's loopback — the inter-AS design."""
    c = gqc_to_nc()
    drv = Recorded(routes="ip_route_vrf_pub_absent.json")
    drv.reachable = False
    (f,) = judge(GetterChecks(vpn=[c]), {"jx-gqc-pe1": read_device(drv, "jx-gqc-pe1", GetterChecks(vpn=[c]))})
    assert not f.ok and "imported into VRF ZW-PUB but unusable: next hop 10.255.0.14 (jx-nc-pe1's loopback) " \
        "inaccessible — no labelled path" in f.detail


def test_diagnosis_order_vpn_route_validity_label_ldp():
    c = gqc_to_nc()
    prefix = "10.36.16.128/25"
    route = g.vrf_routes(capture("ip_route_vrf_pub.json"))["ZW-PUB"][prefix]
    path = g.vpn_paths(capture("bgp_vpn_prefix.json"))[0]
    assert diagnose(c, prefix, route, {"10.255.36.1"}, None) is None
    # the LDP session towards the next hop on eth3 is gone (ldp_neighbor_none.json)
    assert "no LDP session with jx-pe1 (10.255.36.1), the next hop on eth3" in diagnose(c, prefix, route, set(), None)
    unlabelled = dict(route, labels=[])
    assert diagnose(c, prefix, unlabelled, set(), [path]) == "route in VRF ZW-PUB has no MPLS label (remote VPN label 80)"
    invalid = dict(path, valid=False, accessible=False)
    assert "next hop 10.255.0.14 unresolved — no labelled path" in diagnose(c, prefix, None, set(), [invalid])
    other_rd = dict(path, rd="10.255.0.99:100")
    assert f"no VPNv4 route with RD {c.rd} on jx-gqc-pe1" in diagnose(c, prefix, None, set(), [other_rd])
    wrong_rt = dict(path, route_targets=["4200100000:999"])
    assert "carries RT 4200100000:999, not 4200100000:100" in diagnose(c, prefix, None, set(), [wrong_rt])


def test_ldp_findings_from_both_ends():
    c = expect.LdpCheck("jx-gqc-pe1", "jx-pe1", "10.255.0.11", "10.255.36.1")
    up = [{"neighbor": "10.255.36.1", "state": "OPERATIONAL", "up": True}]
    pe1 = g.ldp_neighbors(capture("ldp_neighbor_reflector.json"))
    (f,) = judge(GetterChecks(ldp=[c]), {"jx-gqc-pe1": {"ldp": up}, "jx-pe1": {"ldp": pe1}})
    assert f.ok and f.subject == "jx-gqc-pe1 ↔ jx-pe1"
    none = g.ldp_neighbors(capture("ldp_neighbor_none.json"))
    (f,) = judge(GetterChecks(ldp=[c]), {"jx-gqc-pe1": {"ldp": none}, "jx-pe1": {"ldp": pe1}})
    assert not f.ok and f.detail == "LDP session NOT operational: jx-gqc-pe1 has no session with jx-pe1 (10.255.36.1)"
    # a driver without the getter (VRP, Comware): said, not guessed
    fs = judge(GetterChecks(ldp=[c]), {"jx-gqc-pe1": {"ldp": None}, "jx-pe1": {"ldp": None}})
    assert [(f.subject, f.ok, f.detail) for f in fs] == [
        (d, True, "not checked: the driver has no LDP getter") for d in ("jx-gqc-pe1", "jx-pe1")]
