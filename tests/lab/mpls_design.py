"""The production design's FRR rendering (`frr_mpls`) on a small scope of the example, for the lab
guest test: a reflector and two PEs that carry one zone between department LANs, wired in the
guest from the model itself.

- Routers: one network namespace each, named as the device; each link of the scope a veth pair
  `eth<port>` ↔ the peer's `eth<port>` (Interface.port, Link.a_port/b_port).
- Zones: one kernel VRF device per Vrf (table = the zone's VPN id, closed by an unreachable
  default, local table below the VRF rule: isolation is the host's part); access LANs are 802.1q
  sub-interfaces `eth<port>.<vlan>` enslaved to it. The two chosen LANs' ports are veths into host
  namespaces `h1`/`h2` (tagged frames, the host on `eth0.<vlan>` with the next address after the
  gateway); every other access port is a dummy parent (its LAN exists, no host behind it).
- Addresses come from the rendered FRR configs (zebra sets them), not from here.
- Test-only additions, appended to what is loaded, never in the rendered file: fast timers
  (IS-IS/LDP hellos 1 s, BGP connect retry 2 s; LAB-NOTES: ~34 s to converge with defaults).
"""
from __future__ import annotations

import ipaddress
import itertools
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from netgen.lab.guest import missing_tools

DAEMONS = ["zebra", "isisd", "ldpd", "bgpd"]
needs_guest = pytest.mark.skipif(
    os.geteuid() != 0 or bool(missing_tools()) or not Path("/usr/lib/frr/ldpd").exists(),
    reason="needs root, frr and the lab guest's packages (qemu-system-x86, busybox-static: bash scripts/setup)")


@dataclass(frozen=True)
class Lan:
    host: str  # the host namespace
    device: str
    port: int
    vlan: int
    vrf: str
    gateway: ipaddress.IPv4Interface

    @property
    def address(self) -> str:
        return str(self.gateway.ip + 1)


@dataclass(frozen=True)
class Scope:
    reflector: str
    pes: tuple[str, str]
    zone: str
    lans: tuple[Lan, Lan]

    @property
    def routers(self) -> tuple[str, ...]:
        return (self.reflector, *self.pes)


def choose(network) -> Scope:
    """The first reflector (by name) with two IGP neighbours that are its clients and each have a
    department LAN (IPv4) in a zone they share."""
    for r in sorted(n for n, d in network.devices.items() if d.reflector):
        dev = network.devices[r]
        near = [i.peer_device for i in dev.interfaces if i.igp and i.peer_device]
        clients = [n for n in near if any(s.peer == r for s in network.devices[n].bgp)]
        for a, b in itertools.combinations(sorted(clients), 2):
            da, db = network.devices[a], network.devices[b]
            for att_a in da.attachments:
                att_b = next((x for x in db.attachments if x.zone == att_a.zone and x.ipv4), None)
                if att_a.ipv4 and att_b:
                    lans = tuple(Lan(h, d.name, x.port, x.vlan, d.zone_vrf(x.zone).name, x.ipv4)
                                 for h, d, x in (("h1", da, att_a), ("h2", db, att_b)))
                    return Scope(r, (a, b), att_a.zone, lans)
    raise LookupError("the model has no reflector with two client PEs sharing a zone")


def build_script(network, scope: Scope) -> str:
    """Namespaces, veths, VRF devices, VLANs and MPLS sysctls: one `ip -batch` per namespace."""
    routers = set(scope.routers)
    out = ["set -e", *[f"ip netns add {n}" for n in [*scope.routers, *(lan.host for lan in scope.lans)]]]
    for link in network.links:
        if link.a in routers and link.b in routers:
            out.append(f"ip link add eth{link.a_port} netns {link.a} type veth peer name eth{link.b_port} "
                       f"netns {link.b}")
    hosts = {(lan.device, lan.port): lan for lan in scope.lans}
    for lan in scope.lans:
        out.append(f"ip link add eth{lan.port} netns {lan.device} type veth peer name eth0 netns {lan.host}")
    for r in scope.routers:
        d = network.devices[r]
        # Linux VRF isolation (kernel Documentation/networking/vrf.rst): the local table's rule moves
        # below the l3mdev rule, and each VRF table ends in an unreachable default, or a LAN host
        # reaches the PE's own loopback (local table first) and lookups fall through to main (seen)
        # (`ip -batch` lines take no -6: the family comes from the prefix, the v6 rules run apart)
        out.append(f"ip -n {r} -6 rule add pref 32765 table local && ip -n {r} -6 rule del pref 0")
        lines = ["link set lo up", "rule add pref 32765 table local", "rule del pref 0"]
        for v in d.vrfs:
            lines += [f"route add unreachable 0.0.0.0/0 table {v.vpn_id} metric 4278198272",
                      f"route add unreachable ::/0 table {v.vpn_id} metric 4278198272"]
        mpls = [f"eth{i.port}" for i in d.interfaces if i.igp and i.kind != "loopback" and i.peer_device in routers]
        for v in d.vrfs:
            lines += [f"link add {v.name} type vrf table {v.vpn_id}", f"link set {v.name} up"]
        parents = sorted({i.port for i in d.interfaces if i.kind in ("access", "internet")})
        for port in parents:
            if (r, port) not in hosts:
                lines.append(f"link add eth{port} type dummy")
            lines.append(f"link set eth{port} up")
        for i in d.interfaces:
            if i.kind == "access":
                sub = f"eth{i.port}.{i.vlan}"
                lines += [f"link add link eth{i.port} name {sub} type vlan id {i.vlan}",
                          f"link set {sub} master {d.zone_vrf(i.vrf).name}", f"link set {sub} up"]
            elif i.kind == "internet":
                lines.append(f"link set eth{i.port} master {d.zone_vrf(i.vrf).name}")
        lines += [f"link set {m} up" for m in mpls]
        out.append(f"ip -n {r} -batch - <<'EOF'\n" + "\n".join(lines) + "\nEOF")
        # labelled packets are accepted only where input is on: core links, and VRF devices (the
        # per-VRF VPN label pops into the VRF's table)
        sysctls = ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", "net.mpls.platform_labels=100000",
                   *[f"net.mpls.conf.{m}.input=1" for m in mpls], *[f"net.mpls.conf.{v.name}.input=1" for v in d.vrfs]]
        out.append(f"ip netns exec {r} sysctl -q -w {' '.join(sysctls)}")
    for lan in scope.lans:
        sub = f"eth0.{lan.vlan}"
        lines = ["link set lo up", "link set eth0 up", f"link add link eth0 name {sub} type vlan id {lan.vlan}",
                 f"addr add {lan.address}/{lan.gateway.network.prefixlen} dev {sub}", f"link set {sub} up",
                 f"route add default via {lan.gateway.ip}"]
        out.append(f"ip -n {lan.host} -batch - <<'EOF'\n" + "\n".join(lines) + "\nEOF")
    return "\n".join(out) + "\n"


def start_script(scope: Scope) -> str:
    """Four FRR daemons per router, each router its own pathspace (`-N`) in its namespace, with the
    profile the rendered config names (`frr defaults datacenter`: set at start, like frrinit does)."""
    out = ["set -e"]
    for r in scope.routers:
        out.append(f"mkdir -p /etc/frr/{r} /run/frr/{r} && touch /etc/frr/{r}/vtysh.conf && "
                   f"chown frr:frr /etc/frr/{r} /run/frr/{r}")
        out += [f"ip netns exec {r} /usr/lib/frr/{d} -d -N {r} -P 0 -F datacenter" for d in DAEMONS]
    return "\n".join(out) + "\n"


def fast_timers(network, router: str, scope: Scope) -> str:
    """Test-only lines appended to a rendered config: 1 s IS-IS and LDP hellos on the scope's
    core links, BGP connect retry 2 s (with the datacenter profile's 3/9 s keepalive/hold)."""
    d = network.devices[router]
    lines = ["! --- test-only: fast timers (tests/lab/mpls_design.py) ---"]
    for i in d.interfaces:
        if i.igp and i.kind != "loopback" and i.peer_device in scope.routers:
            lines += [f"interface eth{i.port}", " isis hello-interval 1", " isis hello-multiplier 3", "exit"]
    lines += ["mpls ldp", " discovery hello holdtime 3", " discovery hello interval 1", "exit"]
    if d.bgp:
        lines += [f"router bgp {d.asn}", *[f" neighbor {s.peer_address} timers connect 2" for s in d.bgp], "exit"]
    return "\n".join(lines) + "\n"


def load_command(router: str, path: str) -> str:
    return f"vtysh -N {shlex.quote(router)} -f {shlex.quote(path)}"
