"""The lab's topology is derived from the model alone: every interface a rendered FRR config
names exists, in the namespace of the VRF the config puts it in. No root needed."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

from netgen.lab.topology import build_topology, in_scope
from netgen.model import resolve
from netgen.render.build import render_device

EXAMPLE = Path(__file__).resolve().parents[2] / "inventory"


@lru_cache(maxsize=None)
def network():
    return resolve(EXAMPLE).network


def test_every_interface_of_every_rendered_config_exists_in_its_vrf_namespace():
    net = network()
    topo = build_topology(net, "ngt")
    ends = {(v.ns_a, v.if_a) for v in topo.veths} | {(v.ns_b, v.if_b) for v in topo.veths}
    for name, d in net.devices.items():
        r = topo.routers[name]
        for m in re.finditer(r"^interface (\S+)(?: vrf (\S+))?$", render_device(d, net, "frr"), re.M):
            ifname, vrf = m.groups()
            if ifname == "lo":
                continue
            ns = r.vrf_netns(vrf) if vrf else r.netns
            assert vrf is None or vrf in r.vrfs, f"{name}: vrf {vrf} has no namespace"
            assert (ns, ifname) in ends, f"{name}: {ifname} (vrf {vrf}) is not created by the lab"


def test_links_carry_one_veth_per_zone_and_hosts_sit_on_their_lans():
    net = network()
    topo = build_topology(net, "ngt")
    expected = sum(1 + len(link.zones) for link in net.links)
    expected += sum(len(d.attachments) for d in net.devices.values())
    expected += sum(1 for d in net.devices.values() if d.internet)
    assert len(topo.veths) == expected
    assert len({(v.ns_a, v.if_a) for v in topo.veths}) == len(topo.veths)  # no interface twice
    for h in topo.hosts:  # the host's address and the router's gateway share the LAN
        assert h.ipv4.network.prefixlen < 32 and h.gateway4 in h.ipv4.network and h.gateway4 != h.ipv4.ip
    assert len(topo.namespaces) == len(set(topo.namespaces))


def test_scope_takes_a_subtree_and_drops_links_leaving_it():
    net = network()
    assert in_scope(net, ["jx-nc"]) == {"jx-nc-pe1", "jx-nc-pe2", "jx-nc-ncx-pe1", "jx-nc-ncx-lt-ce1"}
    topo = build_topology(net, "ngt", ["jx-nc"])
    assert set(topo.routers) == in_scope(net, ["jx-nc"])
    inside = {ns for r in topo.routers.values() for ns in r.namespaces} | {h.netns for h in topo.hosts}
    assert all(v.ns_a in inside and v.ns_b in inside for v in topo.veths)
    with pytest.raises(ValueError, match="unknown site"):
        in_scope(net, ["jx-nowhere"])


def test_the_labs_internet_uses_a_block_nothing_in_the_intent_uses():
    """The example gives its exits addresses in all three documentation blocks: the lab's own
    Internet server and attackers must not land in an exit's NAT pool (replies would stay there)."""
    net = network()
    topo = build_topology(net, "ngt")
    used = [d.internet.nat_pool for d in net.devices.values() if d.internet]
    used += [i.ipv4.network for d in net.devices.values() for i in d.interfaces if i.ipv4]
    assert not any(topo.internet_block.overlaps(u) for u in used)
    assert topo.internet_server in topo.internet_block
    assert all(x.attacker in topo.internet_block for x in topo.exits)
    assert len({x.attacker for x in topo.exits}) == len(topo.exits)
