"""The production-design lab's topology and scripts, from the example's model (no root needed):
the interfaces it makes are the ones the frr_mpls configs name, each LAN is a VLAN into its own
host, each sub-interface lands in its zone's VRF."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from netgen.lab import mpls
from netgen.lab.mpls_topology import build_mpls_topology
from netgen.model import resolve
from netgen.render.build import render_device

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def network():
    res = resolve(REPO / "inventory")
    assert res.ok
    return res.network


@pytest.fixture(scope="module")
def topo(network):
    return build_mpls_topology(network, "ngx")


def test_every_interface_a_rendered_config_names_exists_in_the_lab(network, topo):
    made: dict[str, set[str]] = {}
    for v in (*topo.veths, *topo.ipsec):  # an IPsec link's ends are gretaps of that name
        made.setdefault(v.ns_a, set()).add(v.if_a)
        made.setdefault(v.ns_b, set()).add(v.if_b)
    for name, r in topo.routers.items():
        have = made.get(r.netns, set()) | set(r.dummies) | {f"{v.parent}.{v.vlan}" for v in r.vlans}
        have |= {vrf for vrf, _ in r.vrfs} | {"lo"}
        named = set(re.findall(r"^interface (\S+)", render_device(network.devices[name], network, "frr_mpls"), re.M))
        assert named <= have, (name, sorted(named - have))


def test_links_are_one_veth_per_model_link_and_core_ports_run_the_igp(network, topo):
    router_veths = [v for v in (*topo.veths, *topo.ipsec) if v.ns_b.removeprefix("ngx-") in network.devices]
    assert len(router_veths) == len(network.links)
    # Internet-carried links go through IPsec, every other one is a plain veth
    assert [(v.ns_a, v.ns_b) for v in topo.ipsec] == [(f"ngx-{x.a}", f"ngx-{x.b}") for x in network.links if x.ipsec]
    assert topo.ipsec and topo.internet_netns in topo.namespaces
    for link in network.links:
        assert any(v.ns_a == f"ngx-{link.a}" and v.if_a == f"eth{link.a_port}" and v.ns_b == f"ngx-{link.b}"
                   and v.if_b == f"eth{link.b_port}" for v in router_veths), link
    for name, r in topo.routers.items():
        igp = {f"eth{i.port}" for i in network.devices[name].interfaces if i.igp and i.kind != "loopback"}
        assert set(r.core) == igp, name
        assert r.daemons == ["zebra", "staticd", "isisd", "ldpd", "bgpd"]


def test_each_lan_is_a_vlan_of_a_trunk_into_its_own_host_in_its_zones_vrf(network, topo):
    hosts = {h.netns: h for h in topo.hosts}
    assert len(hosts) == len(topo.hosts)  # one namespace per LAN
    attachments = [(d.name, a) for d in network.devices.values() for a in d.attachments if a.ipv4 or a.ipv6]
    assert len(topo.hosts) == len({(n, a.port, a.vlan) for n, a in attachments})
    for t in topo.trunks:
        r = topo.routers[t.router]
        d = network.devices[t.router]
        for vlan, netns in t.vlans.items():
            h = hosts[netns]
            a = next(a for a in d.attachments if f"eth{a.port}" == t.port and a.vlan == vlan)
            assert (h.zone, h.gateway4, h.router) == (a.zone, a.ipv4.ip, t.router)
            assert mpls_vlan(r, t.port, vlan) == d.zone_vrf(a.zone).name


def mpls_vlan(r, port: str, vlan: int) -> str:
    return next(v.vrf for v in r.vlans if v.parent == port and v.vlan == vlan)


def test_vrf_tables_are_the_zones_vpn_ids_closed_by_an_unreachable_default(network, topo):
    r = topo.routers["jx-pe1"]
    assert dict(r.vrfs) == {v.name: v.vpn_id for v in network.devices["jx-pe1"].vrfs}
    lines = mpls.router_lines(r)
    for vrf, table in r.vrfs:
        assert f"link add {vrf} type vrf table {table}" in lines
        assert f"route replace unreachable 0.0.0.0/0 table {table} metric {mpls.VRF_DEFAULT_METRIC}" in lines
    # the VLAN exists before it is put in its VRF, and the VRF before that
    for v in r.vlans:
        sub = f"{v.parent}.{v.vlan}"
        add, master = lines.index(f"link add link {v.parent} name {sub} type vlan id {v.vlan}"), \
            lines.index(f"link set {sub} master {v.vrf}")
        assert lines.index(f"link add {v.vrf} type vrf table {dict(r.vrfs)[v.vrf]}") < add < master


def test_a_forced_batch_ignores_what_exists_but_keeps_its_here_document_intact():
    text = mpls.batch("ns", ["link add a type dummy"], force=True)
    first, *body = text.splitlines()
    assert first.endswith("<<'EOF' 2>/dev/null || true") and body == ["link add a type dummy", "EOF"]
    assert mpls.batch("ns", ["x"]).splitlines()[0] == "ip -n ns -batch - <<'EOF'"


def test_exits_face_the_internet_namespace_from_their_internet_vrf(network, topo):
    exits = {x.router: x for x in topo.exits}
    assert set(exits) == {n for n, d in network.devices.items() if d.internet}
    for name, x in exits.items():
        r = topo.routers[name]
        assert (x.ifname, network.devices[name].zone_vrf("internet").name) in r.in_vrf
        rules = mpls.exit_firewall(x)
        assert f'iifname "{x.ifname}" counter drop' in rules and f"snat ip to {x.nat_first}-{x.nat_last}" in rules


def test_scope_limits_the_lab_to_a_subtree(network):
    t = build_mpls_topology(network, "ngx", ["gx"])
    assert set(t.routers) == {n for n in network.devices if n.startswith("gx-")}
    assert all(v.ns_a.startswith("ngx-gx") for v in t.veths)


def test_names_stay_when_the_intent_grows(network):
    """`up` after an intent change creates only what is new: every name the lab made before must
    come out the same (a counter in a name would shift when a county is added in front)."""
    whole, part = build_mpls_topology(network, "ngx"), build_mpls_topology(network, "ngx", ["gx"])
    assert set(part.veths) <= set(whole.veths) and set(part.namespaces) <= set(whole.namespaces)
