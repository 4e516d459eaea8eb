"""What the intent says the running network must show — derived from the model and the zones'
policies, independent of how it is checked.

- sessions: every BGP session of the model (both ends in scope) is established, and every IGP
  adjacency — the backbone IGP per link and, on VRF-lite platforms, each zone's OSPF per link;
- MPLS design (platforms whose descriptor renders MPLS, `vrf_lite: false`): an LDP session up
  between the two ends of every IGP link, and between every two PEs that have department LANs in
  one zone, a labelled VPN route from each one's VRF to the other's LANs;
- routes: no zone VRF has a route into the management block; only the Internet zone's VRF has
  a default route (the Internet is reached only through an exit's NAT firewall);
- reachability (lab probes): within a zone every department LAN reaches every other; across
  zones nothing reaches anything unless the target zone's `allow` names the source zone (and
  then it must pass a controlled interface the lab does not emulate, so it is reported, not
  probed); Internet-zone LANs reach the Internet, no other zone does, and nothing on the
  Internet reaches a department LAN.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..lab.topology import HostSpec, Topology
from ..model.types import Network


MESH, RING = 12, 3


@dataclass(frozen=True)
class SessionCheck:
    device: str
    peer: str  # peer device
    address: str
    kind: str

    @property
    def devices(self) -> tuple[str, ...]:  # whose state decides it: what settle re-reads
        return (self.device,)


@dataclass(frozen=True)
class IgpCheck:
    device: str
    protocol: str  # isis | ospf
    vrf: str  # "default" for the global table
    interface: str
    neighbor: str  # as the protocol names it: IS-IS host name, OSPF router id
    peer: str  # the peer device
    zone: str = ""  # a zone's copy of a link (VRF-lite)

    @property
    def devices(self) -> tuple[str, ...]:  # whose state decides it: what settle re-reads
        return (self.device,)


@dataclass(frozen=True)
class LdpCheck:
    """One LDP session per IGP neighbour pair (sessions run between loopbacks: parallel links
    share one), operational as both ends see it."""

    a: str
    b: str
    a_id: str  # LSR id (= router id, templates/frr_mpls/mpls.j2)
    b_id: str

    @property
    def devices(self) -> tuple[str, ...]:
        return (self.a, self.b)


@dataclass(frozen=True)
class Hop:
    """An IGP neighbour of a VPN path's source: where its outgoing interface leads."""

    interface: str
    peer: str
    peer_id: str  # its LSR id
    peer_loopback: str


@dataclass(frozen=True)
class VpnPathCheck:
    """`source`'s VRF of `zone` has an installed, labelled route to each of `destination`'s LAN
    prefixes in that zone."""

    source: str
    destination: str
    zone: str
    vrf: str  # the source's VRF of the zone
    prefixes: tuple[str, ...]
    rd: str  # the RD the destination exports them with
    rt: str  # the route target the source must import
    hops: tuple[Hop, ...] = ()  # the source's IGP neighbours

    @property
    def devices(self) -> tuple[str, ...]:
        return (self.source,)


@dataclass(frozen=True)
class RouteCheck:
    device: str
    vrf: str
    zone: str
    destination: str  # a prefix that must NOT be routed in this VRF
    why: str
    exact: bool = False  # only this very prefix (the default route), not what covers or lies inside it

    @property
    def devices(self) -> tuple[str, ...]:  # whose state decides it: what settle re-reads
        return (self.device,)


@dataclass(frozen=True)
class Probe:
    source: HostSpec | None  # None: from the Internet, from `source_address`
    destination: str  # address
    dest_label: str
    src_zone: str
    dst_zone: str
    expect: bool  # True: must reach; False: must not
    why: str
    source_address: str = ""  # from the Internet: the attacker address routed into one exit


def sessions(network: Network, devices: set[str]) -> list[SessionCheck]:
    return [SessionCheck(name, s.peer, s.peer_address, s.kind)
            for name in sorted(devices) for s in network.devices[name].bgp if s.peer in devices]


def igp(network: Network, devices: set[str], platform_of) -> list[IgpCheck]:
    """An adjacency on every link whose both ends are in scope: the backbone IGP where the link
    runs it, and — on VRF-lite platforms (the lab's FRR) — OSPF on each zone's copy of the link.
    `platform_of(device)` → its platform descriptor (interface names)."""
    out = []
    for name in sorted(devices):
        d, desc = network.devices[name], platform_of(name)
        for i in d.interfaces:
            if i.kind not in ("uplink", "downlink") or i.peer_device not in devices:
                continue
            peer = network.devices[i.peer_device]
            if i.igp:
                out.append(IgpCheck(name, d.igp, "default", desc.ifname(i.port, None, i.kind, i.port_name), peer.name if d.igp == "isis"
                                    else peer.router_id, peer.name))
            if desc.vrf_lite:
                for zone in i.zones:
                    v = d.zone_vrf(zone)
                    out.append(IgpCheck(name, "ospf", v.name, desc.ifname(i.port, v.vpn_id, i.kind, i.port_name), peer.router_id,
                                        peer.name, zone))
    return out


def ldp(network: Network, devices: set[str], platform_of) -> list[LdpCheck]:
    """One session per IGP neighbour pair whose both ends are in scope and render MPLS."""
    pairs = set()
    for name in sorted(devices):
        if platform_of(name).vrf_lite:
            continue
        for i in network.devices[name].interfaces:
            p = i.peer_device
            if i.igp and i.kind in ("uplink", "downlink") and p in devices and not platform_of(p).vrf_lite:
                pairs.add(tuple(sorted((name, p))))
    rid = {n: network.devices[n].router_id for pair in pairs for n in pair}
    return [LdpCheck(a, b, rid[a], rid[b]) for a, b in sorted(pairs)]


def vpn_paths(network: Network, devices: set[str], platform_of) -> list[VpnPathCheck]:
    """Per zone, every ordered pair of MPLS-platform devices in scope that both have department
    LANs (IPv4) in it; a zone with more than MESH such devices: each checks the next RING in a
    ring (every device still a source and a destination), as the probes do."""
    lans: dict[str, dict[str, list[str]]] = {}
    for name in sorted(devices):
        if platform_of(name).vrf_lite:
            continue
        for a in network.devices[name].attachments:
            if a.ipv4:
                lans.setdefault(a.zone, {}).setdefault(name, []).append(str(a.ipv4.network))
    out = []
    for zone, by_dev in sorted(lans.items()):
        pes = sorted(by_dev)
        ahead = len(pes) - 1 if len(pes) <= MESH else RING
        for i, src in enumerate(pes):
            s, desc = network.devices[src], platform_of(src)
            hops = tuple(Hop(desc.ifname(x.port, None, x.kind, x.port_name), x.peer_device,
                             network.devices[x.peer_device].router_id, str(network.devices[x.peer_device].loopback4))
                         for x in s.interfaces if x.igp and x.kind in ("uplink", "downlink") and x.peer_device)
            for k in range(1, ahead + 1):
                dst = pes[(i + k) % len(pes)]
                d = network.devices[dst]
                out.append(VpnPathCheck(src, dst, zone, s.zone_vrf(zone).name, tuple(sorted(set(by_dev[dst]))),
                                        d.zone_vrf(zone).rd, s.zone_vrf(zone).rt, hops))
    return out


def routes(network: Network, devices: set[str], management: list[str], platform_of=None) -> list[RouteCheck]:
    """`platform_of(device)`: its platform descriptor. Zones only passing through a device have a
    VRF there on VRF-lite platforms only; on MPLS ones labels carry them (no VRF to look into)."""
    out = []
    for name in sorted(devices):
        d = network.devices[name]
        lite = platform_of is None or platform_of(name).vrf_lite
        for v in (*d.vrfs, *(d.transit_vrfs if lite else ())):
            for block in management:
                out.append(RouteCheck(name, v.name, v.zone, block, "nothing reaches the management zone"))
            if v.kind != "internet":
                out.append(RouteCheck(name, v.name, v.zone, "0.0.0.0/0",
                                      "only the Internet zone has a default route (no Internet from this zone)",
                                      exact=True))
    return out


def allowed(intent, src_zone: str, dst_zone: str) -> str | None:
    """The controlled interface traffic from src_zone into dst_zone must pass, or None (denied)."""
    z = intent.zone.get(dst_zone)
    for rule in (z.get("allow") or []) if z else []:
        if rule["from"] == src_zone:
            return rule["via"]
    return None


def probes(topo: Topology, intent, per_pair: int = 2) -> tuple[list[Probe], list[str]]:
    by_zone: dict[str, list[HostSpec]] = {}
    for h in topo.hosts:
        if h.ipv4:
            by_zone.setdefault(h.zone, []).append(h)
    zone_space = {z: {h.ipv4.ip for h in hs} for z, hs in by_zone.items()}
    out: list[Probe] = []
    not_probed: list[str] = []
    for zone, hosts in sorted(by_zone.items()):
        # Full mesh for a small zone; a big one: each LAN reaches the next few in a ring, which
        # still covers every LAN as source and as destination.
        ahead = len(hosts) - 1 if len(hosts) <= MESH else RING
        for i, a in enumerate(hosts):
            for k in range(1, ahead + 1):
                b = hosts[(i + k) % len(hosts)]
                out.append(Probe(a, str(b.ipv4.ip), b.label, zone, zone, True, "same zone"))
    for src, shosts in sorted(by_zone.items()):
        for dst, dhosts in sorted(by_zone.items()):
            if src == dst:
                continue
            via = allowed(intent, src, dst)
            if via:
                not_probed.append(f"{src} → {dst}: allowed via {via}, which the lab does not emulate")
                continue
            # Overlap across zones is legal: a destination address that also exists in the source's
            # own zone would be answered there, so it proves nothing.
            targets = [h for h in dhosts if h.ipv4.ip not in zone_space[src]][:per_pair]
            for i, b in enumerate(targets):
                a = shosts[i % len(shosts)]
                out.append(Probe(a, str(b.ipv4.ip), b.label, src, dst, False, f"zone {dst} denies {src}"))
    if topo.exits:
        inet = str(topo.internet_server)
        for zone, hosts in sorted(by_zone.items()):
            kind = intent.zone[zone]["kind"] if zone in intent.zone else ""
            for h in hosts if kind == "internet" else hosts[:per_pair]:
                out.append(Probe(h, inet, "the Internet", zone, "(Internet)", kind == "internet",
                                 "Internet access through an exit's NAT firewall" if kind == "internet"
                                 else f"zone {zone} has no Internet access"))
        # From the Internet, straight into each exit (policy routing): only its firewall stands
        # between the attacker and the Internet-zone LANs the exit routes to.
        targets = by_zone.get(next((z for z in by_zone if intent.zone.get(z, {}).get("kind") == "internet"), ""), [])
        for x in topo.exits:
            if x.attacker is None:
                continue
            for h in targets[:per_pair]:
                out.append(Probe(None, str(h.ipv4.ip), h.label, "(Internet)", h.zone, False,
                                 f"{x.router}'s firewall lets nothing in from the Internet", str(x.attacker)))
    return out, not_probed


def management_blocks(intent) -> list[str]:
    out = []
    for fam in ("ipv4",):
        block = intent.network["addressing"].get(fam, {}).get("management")
        if block:
            out.append(str(ipaddress.ip_network(block)))
    return out
