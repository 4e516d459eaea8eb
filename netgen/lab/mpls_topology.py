"""What the production-design lab builds, from the network model alone (pure data, no side effects).

The design netgen deploys — IS-IS + LDP core, MP-BGP VPNv4, a kernel VRF per zone, department LANs
on 802.1q — as the `frr_mpls` platform renders it, so every interface a rendered config names is
one this lab made:

- router R: one network namespace `<prefix>-R`; a VRF device per zone it carries (table = the
  zone's VPN id); MPLS input on its IGP links and VRF devices is its config's (`mpls enable`);
- a link: one veth pair `eth<port>` ↔ the peer's `eth<port>` (labels carry the zones: no copies);
- a department's LAN: an 802.1q sub-interface `eth<port>.<vlan>` in its zone's VRF on the router;
  the port's other end, of the same name, is a trunk in the router's switch namespace
  `<prefix>-R.lan`, whose VLAN `eth<port>.<vlan>` is moved into the department host's namespace as
  `eth0` — real tagged frames on the wire (names from the router and port alone: stable when the
  intent grows);
- an Internet-carried link (`ipsec`): `eth<port>` is a gretap on both ends whose underlay crosses
  the Internet namespace inside ESP (strongSwan IKEv2; ipsec.py) — routing runs over it unchanged;
- an exit's Internet port: `eth<port>` in the Internet zone's VRF, its peer in the lab's Internet
  namespace (as in the VRF-lite lab: the ISP gateway, a server, a route to the NAT pool only).

Hosts, exits and the Internet reuse the VRF-lite lab's specs (HostSpec, ExitSpec), so verify's
probes are the same for both designs.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from ..model.types import Network
from ..render.platform import load_platform
from .topology import ExitSpec, HostSpec, Topology, Veth, _free_internet_block, _second_host, in_scope

PLATFORM = "frr_mpls"


@dataclass(frozen=True)
class Vlan:
    """A LAN's 802.1q sub-interface on the router, in a zone's VRF."""

    parent: str  # eth<port>
    vlan: int
    vrf: str


@dataclass(frozen=True)
class MplsRouter:
    name: str
    netns: str
    igp: str  # isis | ospf
    vrfs: tuple[tuple[str, int], ...]  # (VRF device, routing table)
    core: tuple[str, ...]  # IGP/LDP interfaces
    vlans: tuple[Vlan, ...] = ()
    in_vrf: tuple[tuple[str, str], ...] = ()  # (port, VRF): an exit's Internet port
    dummies: tuple[str, ...] = ()  # access ports with no host behind (a LAN without IPv4/IPv6)

    @property
    def namespaces(self) -> tuple[str, ...]:
        return (self.netns,)

    @property
    def daemons(self) -> list[str]:
        return ["zebra", "staticd", "isisd" if self.igp == "isis" else "ospfd", "ldpd", "bgpd"]


@dataclass
class Trunk:
    """An access port's far end (same name) in its router's switch namespace, and the host each
    VLAN leads to."""

    netns: str  # the switch namespace: <router netns>.lan
    router: str
    port: str  # eth<port>, on the router and in the switch namespace
    vlans: dict[int, str] = field(default_factory=dict)  # VLAN → host namespace


@dataclass
class MplsTopology(Topology):
    design: str = "mpls"
    trunks: list[Trunk] = field(default_factory=list)
    ipsec: list[Veth] = field(default_factory=list)  # links carried over the Internet in IPsec (ipsec.py)

    @property
    def namespaces(self) -> list[str]:
        out = [r.netns for r in self.routers.values()] + [h.netns for h in self.hosts]
        out += list(dict.fromkeys(t.netns for t in self.trunks))
        if self.exits or self.ipsec:
            out.append(self.internet_netns)
        return out


def build_mpls_topology(network: Network, prefix: str, scope: list[str] | None = None) -> MplsTopology:
    frr = load_platform(PLATFORM)
    devices = in_scope(network, scope)
    topo = MplsTopology(prefix, internet_block=_free_internet_block(network))
    for link in network.links:
        if link.a in devices and link.b in devices:
            ends = Veth(f"{prefix}-{link.a}", frr.ifname(link.a_port), f"{prefix}-{link.b}", frr.ifname(link.b_port))
            (topo.ipsec if link.ipsec else topo.veths).append(ends)
    for name in sorted(devices):
        d = network.devices[name]
        netns = f"{prefix}-{name}"
        vrfs = tuple(dict.fromkeys((v.name, v.vpn_id) for v in d.vrfs))
        core = tuple(frr.ifname(i.port) for i in d.interfaces
                     if i.igp and i.kind != "loopback" and i.peer_device in devices)
        vlans, in_vrf, trunks = [], [], {}
        for i in d.interfaces:
            if i.kind == "access":
                vlans.append(Vlan(frr.ifname(i.port), i.vlan, d.zone_vrf(i.vrf).name))
            elif i.kind == "internet":
                in_vrf.append((frr.ifname(i.port), d.zone_vrf(i.vrf).name))
        for a in d.attachments:
            if not (a.ipv4 or a.ipv6):
                continue
            port = frr.ifname(a.port)
            trunk = trunks.get(port)
            if trunk is None:
                trunk = trunks[port] = Trunk(f"{netns}.lan", name, port)
                topo.trunks.append(trunk)
            if a.vlan in trunk.vlans:  # two departments on one LAN: one host stands for both
                continue
            host = HostSpec(f"{prefix}-h.{a.department}@{a.site}.{a.zone}", a.department, a.site, a.zone, name,
                            _second_host(a.ipv4), a.ipv4.ip if a.ipv4 else None,
                            _second_host(a.ipv6), a.ipv6.ip if a.ipv6 else None)
            trunk.vlans[a.vlan] = host.netns
            topo.hosts.append(host)
        dummies = tuple(sorted({v.parent for v in vlans} - set(trunks)))
        topo.routers[name] = MplsRouter(name, netns, d.igp, vrfs, core, tuple(vlans), tuple(in_vrf), dummies)
        for t in trunks.values():
            topo.veths.append(Veth(netns, t.port, t.netns, t.port))
        if d.internet is not None:
            x = d.internet
            n = len(topo.exits)
            # the Internet side named from the device (≤ 15 characters, stable when exits are added)
            inet_if = f"x{zlib.crc32(name.encode()):08x}"
            spec = ExitSpec(name, netns, frr.ifname(x.port), inet_if, x.address, x.gateway, x.nat_pool,
                            x.nat_first, x.nat_last, n, topo.internet_block)
            topo.exits.append(spec)
            topo.veths.append(Veth(netns, spec.ifname, topo.internet_netns, spec.inet_ifname))
    return topo
