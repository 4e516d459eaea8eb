"""What verify expects, derived from the example intent — and how route answers are read.
No lab needed: the probes are checked as a list, the route logic against answers in napalm's
get_route_to shape."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from netgen.lab.topology import build_topology
from netgen.model import resolve
from netgen.verify import expect
from netgen.verify.checks import routes_into

EXAMPLE = Path(__file__).resolve().parents[2] / "inventory"


@lru_cache(maxsize=None)
def example():
    res = resolve(EXAMPLE)
    return res.network, res.intent


def probes():
    net, intent = example()
    return expect.probes(build_topology(net, "ngt"), intent)


def test_every_lan_reaches_and_is_reached_within_its_zone():
    plist, _ = probes()
    topo = build_topology(example()[0], "ngt")
    same = [p for p in plist if p.expect and p.src_zone == p.dst_zone]
    for h in topo.hosts:
        if len([x for x in topo.hosts if x.zone == h.zone]) == 1:
            continue  # alone in its zone: nothing to reach
        assert any(p.source.netns == h.netns for p in same), h.label
        assert any(p.destination == str(h.ipv4.ip) and p.dst_zone == h.zone for p in same), h.label
    public = [h for h in topo.hosts if h.zone == "public"]
    assert len(public) > expect.MESH  # a big zone: a ring, not a full mesh
    assert len([p for p in same if p.dst_zone == "public"]) == len(public) * expect.RING


def test_cross_zone_probes_expect_isolation_and_skip_overlapping_addresses():
    plist, not_probed = probes()
    cross = [p for p in plist if p.src_zone != p.dst_zone and "(Internet)" not in (p.src_zone, p.dst_zone)]
    assert cross and not any(p.expect for p in cross)
    pairs = {(p.src_zone, p.dst_zone) for p in cross}
    assert ("audit", "treasury") in pairs and ("office", "internet") in pairs
    # audit and emergency share 172.20.0.0/16 (legal: separate VPNs): a probe to an address the
    # source zone also has would be answered in the source zone — such targets are never used.
    topo = build_topology(example()[0], "ngt")
    space = {}
    for h in topo.hosts:
        space.setdefault(h.zone, set()).add(str(h.ipv4.ip))
    assert not any(p.destination in space[p.src_zone] for p in cross)
    # allowed paths through a controlled interface are named, not probed
    assert any("internet → public: allowed via secure-access" in n for n in not_probed)
    assert ("internet", "public") not in pairs


def test_only_the_internet_zone_is_expected_to_reach_the_internet():
    plist, _ = probes()
    out = [p for p in plist if p.dst_zone == "(Internet)"]
    assert {p.src_zone for p in out if p.expect} == {"internet"}
    assert any(not p.expect and p.src_zone == "office" for p in out)
    assert all(not p.expect for p in plist if p.source is None)  # nothing in from the Internet


def test_route_checks_cover_every_zone_vrf():
    net, intent = example()
    rc = expect.routes(net, set(net.devices), expect.management_blocks(intent))
    assert expect.management_blocks(intent) == ["10.253.0.0/16"]
    pe1 = [r for r in rc if r.device == "jx-pe1"]
    assert {r.zone for r in pe1} == {v.zone for v in (*net.devices["jx-pe1"].vrfs, *net.devices["jx-pe1"].transit_vrfs)}
    assert not any(r.exact and r.zone == "internet" for r in rc)  # the Internet zone may have a default
    # on the MPLS design a zone that only passes through has no VRF there: nothing to look into
    from netgen.render.platform import load_platform

    mpls = expect.routes(net, set(net.devices), expect.management_blocks(intent), lambda d: load_platform("frr_mpls"))
    for name, d in net.devices.items():
        assert {r.vrf for r in mpls if r.device == name} == {v.name for v in d.vrfs}, name


class Answers:
    """get_route_to answers keyed by (destination, longer)."""

    def __init__(self, table: dict):
        self.table = table

    def get_route_to(self, destination, protocol="", longer=False, vrf=""):
        return self.table.get((destination, longer), {})


def route(vrf="ZW-PUB"):
    return [{"routing_table": vrf, "protocol": "ospf"}]


def test_a_route_into_or_over_the_management_block_is_a_leak_but_a_default_route_is_not():
    block = "10.253.0.0/16"
    inside = Answers({("10.253.0.0/16", True): {"10.253.0.0/24": route()}})
    covering = Answers({("10.253.0.0", False): {"10.0.0.0/8": route()}})
    default = Answers({("10.253.0.0", False): {"0.0.0.0/0": route()}})
    other_vrf = Answers({("10.253.0.0/16", True): {"10.253.0.0/24": route("ZW-INTERNET")}})
    assert routes_into(inside, block, "ZW-PUB") == ["10.253.0.0/24"]
    assert routes_into(covering, block, "ZW-PUB") == ["10.0.0.0/8"]
    assert routes_into(default, block, "ZW-PUB") == []
    assert routes_into(other_vrf, block, "ZW-PUB") == []
    assert routes_into(default, "0.0.0.0/0", "ZW-PUB", exact=True) == []
    assert routes_into(Answers({("0.0.0.0/0", False): {"0.0.0.0/0": route()}}), "0.0.0.0/0", "ZW-PUB",
                       exact=True) == ["0.0.0.0/0"]
    # the unreachable default closing a kernel VRF's table carries nothing anywhere (FRR's driver
    # gives a reject next hop no address and no interface)
    reject = {"0.0.0.0/0": [{"routing_table": "ZW-PUB", "protocol": "kernel", "next_hop": "", "outgoing_interface": ""}]}
    assert routes_into(Answers({("0.0.0.0/0", False): reject}), "0.0.0.0/0", "ZW-PUB", exact=True) == []


def test_igp_expectations_cover_both_ends_of_every_link_and_each_zone_copy():
    from netgen.render.platform import load_platform

    net, _ = example()
    frr = load_platform("frr")
    checks = expect.igp(net, set(net.devices), lambda d: frr)
    backbone = [c for c in checks if c.vrf == "default"]
    igp_links = [link for link in net.links if not link.inter_as]
    assert len(backbone) == 2 * len(igp_links)
    assert len(checks) - len(backbone) == 2 * sum(len(link.zones) for link in net.links)
    c = next(c for c in checks if c.device == "jx-nc-ncx-pe1" and c.peer == "jx-nc-pe1" and c.vrf == "ZW-PUB")
    assert (c.protocol, c.neighbor, c.interface.startswith("e")) == ("ospf", net.devices["jx-nc-pe1"].router_id, True)
    # Production platforms run the zones over MPLS: only the backbone IGP is expected there.
    vrp = load_platform("huawei_vrp")
    assert all(c.vrf == "default" for c in expect.igp(net, set(net.devices), lambda d: vrp))


def test_frr_igp_neighbors_as_recorded_from_a_lab_router():
    from netgen.deploy.drivers.frr_getters import igp_neighbors

    data = Path(__file__).parent / "data"
    adj = igp_neighbors((data / "isis_neighbor.json").read_text(), (data / "ospf_vrf_all_neighbor.json").read_text())
    assert {"protocol": "isis", "vrf": "default", "interface": "eth3", "neighbor": "jx-nc-pe1", "up": True} in adj
    assert {(a["vrf"], a["interface"]) for a in adj if a["protocol"] == "ospf"} >= {("ZW-PUB", "e2v100"),
                                                                                   ("ZW-INTERNET", "e3v200")}
    # recorded while ZW-PUB's copy of eth2 was re-forming after the link went down and up
    assert [a["interface"] for a in adj if not a["up"]] == ["e2v100"]
