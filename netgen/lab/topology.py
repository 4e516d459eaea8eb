"""What the lab builds, derived from the network model alone: routers, veth pairs, hosts.

Pure data, no side effects: `lab.up` creates exactly this, `verify` probes from its hosts, and
tests can check it without root. Names follow the FRR platform descriptor, so the interface a
rendered FRR config names is the veth the lab created:

- router R: netns `<prefix>-R` (global table) + one netns per VRF, `<prefix>-R.<VRF>`, which
  the router sees as `/run/netns/<VRF>` inside its private mount namespace (LAB-NOTES);
- a link: one veth pair `eth<port>` in the global tables, plus one pair `e<port>v<vpn-id>` per
  zone the link carries, in that zone's VRF namespaces (VRF-lite: no MPLS on these machines);
- a department's LAN in one zone: a host namespace whose `eth0` faces the router's access
  interface, addressed from the model's LAN (gateway = the router's address);
- Internet exits: one shared `<prefix>-inet` namespace (the Internet), one veth per exit, the
  ISP gateway address on its side and a route to the exit's NAT pool only — so a reply from
  the Internet comes back only if the exit translated the source. Each exit also gets an
  "attacker" address on the Internet whose traffic is routed into that exit whatever its
  destination (policy routing), so that only the exit's firewall keeps it out.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..model.types import Device, Network
from ..render.platform import load_platform

# The lab's own Internet addresses: the first of these blocks that nothing in the model uses
# (an intent may well give its exits documentation addresses). In it, .1 is "a server on the
# Internet" and .64–.127 the attackers, one per exit (the first 64 exits).
INTERNET_BLOCKS = tuple(ipaddress.IPv4Network(b) for b in (
    "198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24", "198.18.255.0/24", "100.127.255.0/24"))


@dataclass(frozen=True)
class RouterSpec:
    name: str
    netns: str
    vrfs: tuple[str, ...]  # VRF names; each has its own netns
    igp: str  # isis | ospf: which IGP daemon to start

    def vrf_netns(self, vrf: str) -> str:
        return f"{self.netns}.{vrf}"

    @property
    def namespaces(self) -> tuple[str, ...]:
        return (self.netns, *(self.vrf_netns(v) for v in self.vrfs))


@dataclass(frozen=True)
class Veth:
    ns_a: str
    if_a: str
    ns_b: str
    if_b: str


@dataclass(frozen=True)
class HostSpec:
    """A department's LAN in one zone, seen from one host on it."""

    netns: str
    department: str
    site: str
    zone: str
    router: str
    ipv4: ipaddress.IPv4Interface | None
    gateway4: ipaddress.IPv4Address | None
    ipv6: ipaddress.IPv6Interface | None
    gateway6: ipaddress.IPv6Address | None

    @property
    def label(self) -> str:
        return f"{self.department}@{self.site}/{self.zone}"


@dataclass(frozen=True)
class ExitSpec:
    """An Internet exit: the router side (in its internet VRF) and the Internet side."""

    router: str
    vrf_netns: str
    ifname: str  # on the router, in the internet VRF
    inet_ifname: str  # in the Internet namespace
    address: ipaddress.IPv4Interface
    gateway: ipaddress.IPv4Address
    nat_pool: ipaddress.IPv4Network
    nat_first: ipaddress.IPv4Address
    nat_last: ipaddress.IPv4Address
    index: int = 0
    internet_block: ipaddress.IPv4Network = INTERNET_BLOCKS[0]

    @property
    def attacker(self) -> ipaddress.IPv4Address | None:
        """The Internet address whose packets go into this exit, whatever their destination."""
        return self.internet_block[64 + self.index] if self.index < 64 else None

    @property
    def attacker_table(self) -> int:
        return 100 + self.index


@dataclass
class Topology:
    prefix: str
    routers: dict[str, RouterSpec] = field(default_factory=dict)
    veths: list[Veth] = field(default_factory=list)
    hosts: list[HostSpec] = field(default_factory=list)
    exits: list[ExitSpec] = field(default_factory=list)

    internet_block: ipaddress.IPv4Network = INTERNET_BLOCKS[0]

    @property
    def internet_netns(self) -> str:
        return f"{self.prefix}-inet"

    @property
    def internet_server(self) -> ipaddress.IPv4Address:
        return self.internet_block[1]

    @property
    def namespaces(self) -> list[str]:
        out = [ns for r in self.routers.values() for ns in r.namespaces]
        out += [h.netns for h in self.hosts]
        if self.exits:
            out.append(self.internet_netns)
        return out


def in_scope(network: Network, scope: list[str] | None) -> set[str]:
    """Device names at the scoped sites and every site below them (all devices without scope)."""
    if not scope:
        return set(network.devices)
    unknown = [s for s in scope if s not in network.sites]
    if unknown:
        raise ValueError(f"unknown site(s) in --scope: {', '.join(unknown)}")
    children: dict[str, list[str]] = {}
    for s in network.sites.values():
        if s.parent:
            children.setdefault(s.parent, []).append(s.id)
    sites, todo = set(), list(scope)
    while todo:
        sid = todo.pop()
        if sid not in sites:
            sites.add(sid)
            todo.extend(children.get(sid, ()))
    return {d for sid in sites for d in network.sites[sid].devices}


def _second_host(iface):
    """The host's own address on a LAN whose first address is the router's."""
    if iface is None:
        return None
    return type(iface)((int(iface.ip) + 1, iface.network.prefixlen))


def build_topology(network: Network, prefix: str, scope: list[str] | None = None) -> Topology:
    frr = load_platform("frr")
    devices = in_scope(network, scope)
    topo = Topology(prefix, internet_block=_free_internet_block(network))
    for name in sorted(devices):
        d = network.devices[name]
        vrfs = tuple(dict.fromkeys(v.name for v in (*d.vrfs, *d.transit_vrfs)))  # two zones may share one
        topo.routers[name] = RouterSpec(name, f"{prefix}-{name}", vrfs, d.igp)

    for link in network.links:
        if link.a not in devices or link.b not in devices:
            continue
        ra, rb = topo.routers[link.a], topo.routers[link.b]
        da, db = network.devices[link.a], network.devices[link.b]
        topo.veths.append(Veth(ra.netns, frr.ifname(link.a_port), rb.netns, frr.ifname(link.b_port)))
        for zone in link.zones:
            va, vb = da.zone_vrf(zone), db.zone_vrf(zone)
            topo.veths.append(Veth(ra.vrf_netns(va.name), frr.ifname(link.a_port, va.vpn_id),
                                   rb.vrf_netns(vb.name), frr.ifname(link.b_port, vb.vpn_id)))

    for name in sorted(devices):
        d = network.devices[name]
        r = topo.routers[name]
        for a in d.attachments:
            vrf = d.zone_vrf(a.zone).name
            host = HostSpec(f"{prefix}-h.{a.department}@{a.site}.{a.zone}", a.department, a.site, a.zone, name,
                            _second_host(a.ipv4), a.ipv4.ip if a.ipv4 else None,
                            _second_host(a.ipv6), a.ipv6.ip if a.ipv6 else None)
            topo.hosts.append(host)
            topo.veths.append(Veth(r.vrf_netns(vrf), frr.ifname(a.port, a.vlan), host.netns, "eth0"))
        if d.internet is not None:
            _exit(topo, d, r, frr)
    return topo


def _free_internet_block(network: Network) -> ipaddress.IPv4Network:
    used = [i.ipv4.network for d in network.devices.values() for i in d.interfaces if i.ipv4]
    used += [d.internet.nat_pool for d in network.devices.values() if d.internet]
    used += [ipaddress.IPv4Network(f"{d.internet.gateway}/32") for d in network.devices.values() if d.internet]
    for block in INTERNET_BLOCKS:
        if not any(block.overlaps(u) for u in used):
            return block
    raise ValueError("every block the lab's Internet could use is taken by the intent: "
                     + ", ".join(map(str, INTERNET_BLOCKS)))


def _exit(topo: Topology, d: Device, r: RouterSpec, frr) -> None:
    x = d.internet
    port = next(i for i in d.interfaces if i.kind == "internet")
    n = len(topo.exits)
    spec = ExitSpec(d.name, r.vrf_netns(d.zone_vrf(port.vrf).name), frr.ifname(x.port), f"x{n}",
                    x.address, x.gateway, x.nat_pool, x.nat_first, x.nat_last, n, topo.internet_block)
    topo.exits.append(spec)
    topo.veths.append(Veth(spec.vrf_netns, spec.ifname, topo.internet_netns, spec.inet_ifname))
