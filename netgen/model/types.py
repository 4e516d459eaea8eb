"""The resolved network model: typed, immutable, deterministically ordered.

This is the only thing templates see. Every number a device needs is spelled out here —
templates print, they never compute. Interfaces carry their physical port as the device model
names it (`port_name`, from its hardware profile) and its place in the model's port list
(`port`); each platform's descriptor picks one (VRP/Comware print the name, the lab's FRR
routers use eth<port>).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..hardware import Hardware

IPv4Interface = ipaddress.IPv4Interface
IPv6Interface = ipaddress.IPv6Interface
IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a resolved value came from: `intent` (file:line), `default` (the schema),
    `allocated` (new, from a pool), `lock` (kept from the lock file) or `derived` (a formula)."""

    kind: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}" if self.detail else self.kind


@dataclass(frozen=True, slots=True)
class Vrf:
    """A zone instantiated on a device."""

    zone: str
    name: str  # VRF / vpn-instance name, e.g. ZW-PUBLIC
    kind: str  # zone kind
    vpn_id: int
    rd: str  # <loopback>:<vpn-id>
    rt: str  # <central AS>:<vpn-id>


@dataclass(frozen=True, slots=True)
class Interface:
    port: int  # the port's place in the device model's port list, 1-based; 0 for the loopback
    kind: str  # loopback | uplink | downlink | access | internet
    description: str
    ipv4: IPv4Interface | None = None
    ipv6: IPv6Interface | None = None
    vrf: str | None = None  # zone id; None = the global table (backbone)
    vlan: int | None = None  # access sub-interface per zone
    peer_device: str | None = None
    peer_port: int | None = None
    bandwidth: str | None = None
    transport: str = "leased"  # leased | internet
    ipsec: bool = False
    igp: bool = False  # runs the IGP (and LDP) on this interface
    nat: bool = False  # the Internet side of an exit
    # Zones present beyond this link (VRF-lite platforms carry one copy of the link per zone;
    # MPLS platforms ignore it — labels carry the VPNs).
    zones: tuple[str, ...] = ()
    port_name: str | None = None  # the physical port as the model names it (10GE1/0/3); None: loopback
    cost: int | None = None  # IGP cost from the link's bandwidth (routing.reference_bandwidth); IGP links only


@dataclass(frozen=True, slots=True)
class Link:
    """A point-to-point link between two devices (one per uplink)."""

    a: str
    a_port: int
    b: str
    b_port: int
    ipv4: ipaddress.IPv4Network | None
    ipv6: ipaddress.IPv6Network | None
    bandwidth: str
    carrier: str | None
    transport: str
    ipsec: bool
    inter_as: bool
    zones: tuple[str, ...] = ()  # see Interface.zones


@dataclass(frozen=True, slots=True)
class BgpSession:
    peer: str  # peer device name
    peer_address: str  # loopback (iBGP, multihop eBGP) or link address
    remote_as: int
    kind: str  # rr-client | rr-mesh | to-reflector | ebgp-vpn | ebgp-link
    families: tuple[str, ...]  # ipv4-unicast, vpnv4, vpnv6
    update_source_loopback: bool = True


@dataclass(frozen=True, slots=True)
class Attachment:
    """A department's LAN in one zone at one site: an access sub-interface in the zone's VRF."""

    department: str
    site: str
    device: str
    zone: str
    port: int
    vlan: int
    ipv4: IPv4Interface | None  # the gateway address on the LAN
    ipv6: IPv6Interface | None


@dataclass(frozen=True, slots=True)
class InternetExit:
    isp: str
    address: IPv4Interface
    gateway: ipaddress.IPv4Address
    nat_pool: ipaddress.IPv4Network
    port: int
    firewall: bool
    # zones whose traffic may leave through NAT (from the internet zone's `allow`)
    nat_from: tuple[str, ...] = ()
    # the NAT pool as the address range platforms configure (first and last address of nat_pool)
    nat_first: ipaddress.IPv4Address | None = None
    nat_last: ipaddress.IPv4Address | None = None


@dataclass(frozen=True, slots=True)
class Management:
    """The security baseline as one device gets it (MLPS level decides what is required)."""

    mlps: int
    ntp: tuple[str, ...]
    syslog: tuple[str, ...]
    aaa_servers: tuple[str, ...]
    aaa_protocol: str
    aaa_key: str | None  # a secret reference, resolved at deploy time
    snmp_managers: tuple[str, ...]
    snmp_user: str | None
    snmp_auth: str
    snmp_auth_key: str | None
    snmp_priv: str
    snmp_priv_key: str | None
    ssh_only: bool
    max_failures: int
    lockout_minutes: int
    # the period in which max_failures count (VRP `retry-interval`) [design: the lockout period]
    failure_window_minutes: int
    idle_timeout_minutes: int
    password_min_length: int
    acl: tuple[str, ...]
    banner: str
    address: str | None  # the device's management address


@dataclass(frozen=True, slots=True)
class Device:
    name: str
    site: str
    site_name: str  # printed in the config's header: its templates need not look the site up
    level: str
    role: str
    reflector: bool
    platform: str
    vendor: str
    model: str
    asn: int
    loopback4: ipaddress.IPv4Address
    loopback6: ipaddress.IPv6Address | None
    router_id: str
    isis_net: str
    igp: str
    interfaces: tuple[Interface, ...]
    vrfs: tuple[Vrf, ...]  # zones attached here (or exits' NAT zones)
    # zones that only pass through (on links, not attached); VRF-lite platforms need them too
    transit_vrfs: tuple[Vrf, ...]
    bgp: tuple[BgpSession, ...]
    attachments: tuple[Attachment, ...]
    internet: InternetExit | None
    management: Management
    hardware: Hardware  # the model's profile: software generation, commit mode, kind

    # Derived look-ups, so templates print instead of searching.
    def zone_vrf(self, zone: str) -> Vrf:
        """The VRF a zone has on this device, attached or transit (VRF-lite platforms name a
        zone's copy of a link and its VRF by it)."""
        for v in (*self.vrfs, *self.transit_vrfs):
            if v.zone == zone:
                return v
        raise KeyError(f"{self.name}: zone {zone!r} has no VRF on this device")

    def sessions(self, family: str) -> tuple[BgpSession, ...]:
        """This device's BGP sessions that carry `family` (ipv4-unicast, vpnv4, vpnv6), in model order."""
        return tuple(s for s in self.bgp if family in s.families)


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    name: str
    level: str
    code: int
    parent: str | None
    mlps: int
    asn: int
    pool4: ipaddress.IPv4Network | None
    pool6: ipaddress.IPv6Network | None
    devices: tuple[str, ...]


@dataclass(frozen=True)
class Network:
    name: str
    sites: dict[str, Site]  # in site-id order
    devices: dict[str, Device]  # in device-name order
    links: tuple[Link, ...]
    # (object, field) → Origin, for `netgen show`; e.g. ("device", "jx-pe1", "loopback4")
    origins: dict[tuple[str, str, str], Origin] = field(default_factory=dict, compare=False, repr=False)
