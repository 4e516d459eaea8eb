"""Resolve validated intent into the network model: the one place implicit values are derived.

Network-wide facts come first (allocation, AS domains, reflectors, where each zone is present),
then each device is built from them, on its own: its spec (every value it is made of, plain:
specs.py) is gathered from the facts, and the device built from the spec. So any process can
build any device (lazy.py), and a spec names its device for the render cache. Output order is
deterministic: sites and devices by name, interfaces by port, sessions by peer. At national
scale the model has 50,000 devices and 350,000 addresses; what many devices share (the
management baseline, the zones below a device) is computed once.
"""
from __future__ import annotations

import socket
from ipaddress import IPv4Interface

from ..hardware import mbps, profile
from ..intent.intent import Intent, vrf_name
from ..intent.tree import Map
from . import specs
from .allocate import Allocation, link_keys
from .pool import Block, network
from .ports import access_device
from .types import Device, Link, Network, Origin, Site

ALLOCATED, DERIVED = Origin("allocated"), Origin("derived")
_OCTET = tuple(f"{i:03d}" for i in range(256))  # an IS-IS system id's digits
_LINK_MEMO = 8192  # link ends made with the other end and not yet asked for, kept at most


def _host(b: Block | None, index: int) -> tuple[int, int] | None:
    """The index-th address of a block, with the block's length: /31 and /127 use both
    addresses, others skip the network address."""
    if b is None:
        return None
    first, length, bits = b
    return first + (0 if bits - length <= 1 else 1) + index, length


def _session_order(session: tuple) -> tuple:
    """BGP sessions by kind, then peer."""
    return session[3], session[0]


def _with_rd(parts: tuple, loopback: str) -> tuple:
    """A device's VRFs from their parts (Resolver.vrf_parts): the RD is its loopback and the VPN id."""
    return tuple([(zid, vrf, kind, vpn, f"{loopback}:{vpn}", rt) for zid, vrf, kind, vpn, rt in parts])


def _index(model: str, port: str) -> int:
    """A port's place in its model's port list (allocation only gives ports the profile has)."""
    return profile(model).by_name[port].index


def _hardware(model: str) -> tuple:
    """A device model's profile as the spec holds it (specs.hardware)."""
    hw = profile(model).hardware
    return hw.model, hw.platform, hw.kind, hw.software, hw.release, hw.commit, hw.mgmt_port


def _text(address: int) -> str:
    """An IPv4 address as text."""
    return socket.inet_ntoa(address.to_bytes(4, "big"))


class _LoopbackText(dict):
    """Device → its IPv4 loopback as text, made when first asked for: a BGP session needs its
    peer's, and only reflectors have many peers (all 50,000 up front cost every build 0.1 s)."""

    def __init__(self, blocks: dict[str, Block]):
        super().__init__()
        self.blocks = blocks

    def __missing__(self, name: str) -> str:
        text = self[name] = _text(self.blocks[f"ipv4/loopback/{name}"][0])
        return text


class Resolver:
    def __init__(self, intent: Intent, alloc: Allocation):
        self.i, self.a = intent, alloc
        net = intent.network
        self.origins: dict[tuple[str, str, str], Origin] = {}
        self.fams = [f for f in ("ipv4", "ipv6") if f in net["addressing"]]
        self.central = next((s for s in intent.sites if s["level"] == "central"), None)
        self.domain: dict[str, str] = {}  # site → its AS domain site (province or centre)
        for s in intent.sites:
            self._domain(s)
        self.asn = {d: self._asn(intent.site[d]) for d in set(self.domain.values())}
        self.by_name = sorted(intent.devices, key=lambda sd: sd[1]["name"])
        self.reflectors: dict[str, list[str]] = {}
        self.members: dict[str, list[str]] = {}  # AS domain → BGP speakers in it, by name
        for site, dev in self.by_name:
            if dev["reflector"] or dev["role"] == "rr":
                self.reflectors.setdefault(self.domain[site["id"]], []).append(dev["name"])
            if dev["role"] != "firewall":
                self.members.setdefault(self.domain[site["id"]], []).append(dev["name"])
        self.links = link_keys(intent)
        self.internet_zone = next((z for z in intent.zones if z["kind"] == "internet"), None)
        self.vpn_id = {zid: z["vpn_id"] for zid, z in intent.zone.items()}
        central_asn = self.asn.get(self.central["id"]) if self.central else net["asn"]["base"]
        # A zone's VRF on any device but its RD: (zone, name, kind, VPN id, RT).
        self.vrf_parts = {zid: (zid, vrf_name(z), z["kind"], z["vpn_id"], z.get("rt") or f"{central_asn}:{z['vpn_id']}")
                          for zid, z in intent.zone.items()}
        self._ordered: dict[frozenset, tuple[str, ...]] = {}
        self.attachments = [(dept, a, access_device(intent, a)) for dept in intent.departments for a in dept["attach"]]
        self.zones_on = self._zones_on_devices()
        self.zones_below = self._zones_below()
        self._mgmt_cache: dict[tuple, tuple] = {}
        self._client_bgp: dict[str, tuple] = {}  # AS domain → its reflectors' clients' sessions
        self._area: dict[str, str] = {}  # AS domain → IS-IS area
        self._vrf_zone_parts: dict[tuple, tuple[tuple, tuple]] = {}  # see _vrf_zones
        self._link_memo: dict[int, tuple] = {}  # link × 2 + upward → (interface, session)
        self.vpn_families = ("vpnv4", "vpnv6") if "ipv6" in self.fams else ("vpnv4",)
        # Per device, the links it is an end of (link index, whether it is the lower end), in
        # link order, and the attachments it is the access device of.
        self.links_of: dict[str, list[tuple[int, bool]]] = {}
        for index, (_, _, dev, up) in enumerate(self.links):
            if up["peer"] in intent.device:
                self.links_of.setdefault(dev["name"], []).append((index, True))
                self.links_of.setdefault(intent.device[up["peer"]][1]["name"], []).append((index, False))
        self.attached_at: dict[str, list[tuple[Map, Map]]] = {}
        for dept, a, dev in self.attachments:
            if dev is not None:
                self.attached_at.setdefault(dev["name"], []).append((dept, a))
        self.loopbacks = _LoopbackText(alloc.blocks)
        self.nat_from = tuple(p["from"] for p in self.internet_zone["allow"] if p["via"] == "nat-firewall") \
            if self.internet_zone else ()
        self.igp = net["routing"]["igp"]
        self.reference_mbps = mbps(net["routing"]["reference_bandwidth"])
        self._costs: dict[str, int] = {}  # bandwidth → IGP cost
        self.isis_area = net["routing"].get("isis_area")
        self.isis_origin = Origin("intent", "area from routing.isis_area") if self.isis_area \
            else Origin("derived", "area 49.00PP from the province code; system id from the loopback")

    # ------------------------------------------------------------------ network-wide facts

    def _domain(self, site: Map) -> str:
        """The AS domain of a site: its province (or the centre); memoised down the tree."""
        sid = site["id"]
        if sid not in self.domain:
            self.domain[sid] = sid  # stands until the chain is known (and breaks a cycle)
            if site["level"] not in ("province", "central"):
                parent = self.i.parent(site)
                if parent is not None:
                    self.domain[sid] = self._domain(parent)
        return self.domain[sid]

    def _asn(self, dom: Map) -> int:
        cfg = self.i.network["asn"]
        if dom.get("asn"):
            self.origins[("site", dom["id"], "asn")] = Origin("intent", str(dom.where("asn")))
            return dom["asn"]
        if cfg["scheme"] == "single":
            self.origins[("site", dom["id"], "asn")] = Origin("intent", str(cfg.where("backbone")))
            return cfg["backbone"]
        self.origins[("site", dom["id"], "asn")] = Origin("derived", f"asn.base {cfg['base']} + code {dom['code']}")
        return cfg["base"] + dom["code"]

    def _zones_on_devices(self) -> dict[str, set[str]]:
        """Zones each device carries: its attachments', plus public+internet on Internet exits."""
        out: dict[str, set[str]] = {name: set() for name in self.i.device}
        for dept, a, dev in self.attachments:
            if dev is not None:
                out[dev["name"]].update(self.i.attachment_zones(dept, a))
        for _, dev in self.i.devices:
            if dev.get("internet") and self.internet_zone is not None:
                out[dev["name"]].add(self.internet_zone["id"])
                out[dev["name"]].update(p["from"] for p in self.internet_zone["allow"] if p["via"] == "nat-firewall")
        return out

    def _zones_below(self) -> dict[str, tuple[str, ...]]:
        """Zones on a device or on anything that reaches the backbone through it (its uplink
        children, transitively), in VPN-id order. A link carries the zones below its lower end."""
        children: dict[str, list[str]] = {}
        for _, dev in self.i.devices:
            for up in dev["uplinks"]:
                children.setdefault(up["peer"], []).append(dev["name"])
        # most devices: nothing reaches the backbone through them
        below: dict[str, frozenset[str]] = {name: frozenset(zones) for name, zones in self.zones_on.items()
                                            if name not in children}
        for root in self.i.device:  # iterative post-order DFS over the rest; a same-site loop is cut
            if root in below:
                continue
            stack, on_path = [(root, iter(children.get(root, ())))], {root}
            while stack:
                name, it = stack[-1]
                child = next(it, None)
                if child is None:
                    stack.pop()
                    on_path.discard(name)
                    acc = set(self.zones_on[name])
                    for c in children.get(name, ()):
                        acc |= below.get(c, frozenset())
                    below[name] = frozenset(acc)
                elif child not in below and child not in on_path:
                    on_path.add(child)
                    stack.append((child, iter(children.get(child, ()))))
        for name, zones in below.items():
            below[name] = self.by_vpn_id(zones)  # type: ignore[assignment]
        return below  # type: ignore[return-value]

    # ------------------------------------------------------------------ each device's spec
    # A device is gathered into a spec of plain values (specs.py) and built from it; a process
    # that renders some devices gathers only those (see lazy.py), and a cached config whose
    # spec did not change is not even built.

    def _vrf_zones(self, name: str, ifaces: list[tuple]) -> tuple[tuple, tuple]:
        """The VRF parts (vrf_parts) of the zones on a device and of those its interfaces only
        carry, each in VPN-id order; the same few pairs recur on 50,000 devices."""
        own = self.by_vpn_id(self.zones_on[name])
        key = (own, *[x[14] for x in ifaces if x[14]])
        found = self._vrf_zone_parts.get(key)
        if found is None:
            carried = {z for zones in key[1:] for z in zones}.difference(own)
            found = self._vrf_zone_parts[key] = (tuple(map(self.vrf_parts.__getitem__, own)),
                                                 tuple(map(self.vrf_parts.__getitem__, self.by_vpn_id(carried))))
        return found

    def by_vpn_id(self, zones) -> tuple[str, ...]:
        """Zone ids in VPN-id order (a handful of distinct sets recur on 50,000 devices)."""
        key = frozenset(zones)
        found = self._ordered.get(key)
        if found is None:
            found = self._ordered[key] = tuple(sorted(key, key=self.vpn_id.__getitem__))
        return found

    def _bgp(self, site: Map, dev: Map, asn: int) -> tuple:
        """The VPN sessions, in session order; a reflector's client has its domain's, shared."""
        if dev["role"] == "firewall":
            return ()
        dom = self.domain[site["id"]]
        rrs = self.reflectors.get(dom, [])
        if dev["name"] in rrs:
            return tuple(sorted(self._reflector_bgp(dom, dev["name"], asn), key=_session_order))
        found = self._client_bgp.get(dom)
        if found is None:
            found = self._client_bgp[dom] = tuple(sorted(
                [(peer, self.loopbacks[peer], asn, "to-reflector", self.vpn_families, True) for peer in rrs],
                key=_session_order))
        return found

    def _reflector_bgp(self, dom: str, me: str, asn: int) -> list[tuple]:
        """A reflector's sessions: its domain's other reflectors and their clients, and the
        centre's reflectors (at the centre: every province's)."""
        loopbacks, fams, rrs = self.loopbacks, self.vpn_families, self.reflectors[dom]
        out: list[tuple] = []
        for peer in rrs:
            if peer != me:
                out.append((peer, loopbacks[peer], asn, "rr-mesh", fams, True))
        rr_set = set(rrs)
        for peer in self.members.get(dom, []):
            if peer not in rr_set:
                out.append((peer, loopbacks[peer], asn, "rr-client", fams, True))
        central = self.central["id"] if self.central else None
        if central and dom != central:  # a province's reflectors peer with the centre's
            for peer in self.reflectors.get(central, []):
                ebgp = self.asn[central] != asn
                out.append((peer, loopbacks[peer], self.asn[central], "ebgp-vpn" if ebgp else "to-reflector",
                            fams, True))
        elif central and dom == central:
            for other, prrs in sorted(self.reflectors.items()):
                if other != central:
                    for peer in prrs:
                        ebgp = self.asn[other] != asn
                        out.append((peer, loopbacks[peer], self.asn[other], "ebgp-vpn" if ebgp else "rr-client",
                                    fams, True))
        return out

    def _management(self, site: Map, dev: Map) -> tuple:
        """The baseline differs between devices only in MLPS level and address: one per pair."""
        key = (self.i.site_mlps[site["id"]], dev.get("mgmt"))
        if key not in self._mgmt_cache:
            sec = self.i.network["security"]
            addr = {s["id"]: s["address"] for s in self.i.network["servers"]}
            aaa, snmp, login = sec.get("aaa") or {}, sec.get("snmp") or {}, sec["login"]
            self._mgmt_cache[key] = (
                key[0], tuple(addr[x] for x in sec["ntp"] if x in addr), tuple(addr[x] for x in sec["syslog"] if x in addr),
                tuple(addr[x] for x in aaa.get("servers", []) if x in addr), aaa.get("protocol", "hwtacacs"),
                aaa.get("key"), tuple(addr[x] for x in snmp.get("managers", []) if x in addr), snmp.get("user"),
                snmp.get("auth", "sha256"), snmp.get("auth_key"), snmp.get("priv", "aes128"), snmp.get("priv_key"),
                login["ssh_only"], login["max_failures"], login["lockout_minutes"],
                login["lockout_minutes"],  # failure_window_minutes [design: the lockout period]
                login["idle_timeout_minutes"], login["password_min_length"], tuple(sec["management_acl"]),
                sec["banner"], key[1])
        return self._mgmt_cache[key]

    def _isis_net(self, site: Map, loopback: int) -> str:
        """Area, then the loopback's four octets as three digits each, in groups of four."""
        dom = self.domain[site["id"]]
        area = self._area.get(dom)
        if area is None:
            area = self._area[dom] = self.isis_area or f"49.{self.i.site[dom]['code'] // 10000:04d}"
        d = _OCTET[loopback >> 24] + _OCTET[loopback >> 16 & 255] + _OCTET[loopback >> 8 & 255] + _OCTET[loopback & 255]
        return f"{area}.{d[0:4]}.{d[4:8]}.{d[8:12]}.00"

    def link(self, key: str, site: Map, dev: Map, up: Map) -> Link | None:
        """The point-to-point link an uplink makes (None when its peer does not exist)."""
        ends = self._link_ends(key, site, dev, up)
        if ends is None:
            return None
        n4, n6, ap, bp, pdev, inter_as, _, _ = ends
        return Link(dev["name"], _index(dev["model"], ap), pdev["name"], _index(pdev["model"], bp),
                    None if n4 is None else network(n4),
                    None if n6 is None else network(n6), up["bandwidth"], up.get("carrier"), up["transport"],
                    up["ipsec"], inter_as, self.zones_below[dev["name"]])

    def _link_ends(self, key: str, site: Map, dev: Map, up: Map):
        peer = self.i.device.get(up["peer"])
        if peer is None:
            return None
        a = self.a
        psite, pdev = peer
        n4, n6 = a.blocks.get(f"ipv4/link/{key}"), a.blocks.get(f"ipv6/link/{key}")
        ap, bp = a.ports[f"port/{dev['name']}/link:{key}"], a.ports[f"port/{pdev['name']}/link:{key}"]
        a_as, b_as = self.asn[self.domain[site["id"]]], self.asn[self.domain[psite["id"]]]
        inter_as = self.domain[site["id"]] != self.domain[psite["id"]] and a_as != b_as
        return n4, n6, ap, bp, pdev, inter_as, a_as, b_as

    def _link_side(self, name: str, ifaces: list[tuple], link_bgp: list[tuple]) -> None:
        """The interfaces, and eBGP sessions of inter-AS links, a device has on its links."""
        memo = self._link_memo
        for index, upward in self.links_of.get(name, ()):
            # The two ends of a link are made together: its devices are mostly near in name
            # order, so the second one is usually gathered soon after, by the same process.
            ends = memo.pop(2 * index + upward, None)
            if ends is None:
                ends = self._link_pair(index)
                if len(memo) >= _LINK_MEMO:
                    memo.clear()
                memo[2 * index + (not upward)] = ends[0 if upward else 1]
                ends = ends[1 if upward else 0]
            ifaces.append(ends[0])
            if ends[1] is not None:
                link_bgp.append(ends[1])

    def _link_pair(self, index: int) -> tuple[tuple, tuple]:
        """(interface, eBGP session or None) of a link's upper end, then its lower end's."""
        key, site, dev, up = self.links[index]
        n4, n6, ap, bp, pdev, inter_as, a_as, b_as = self._link_ends(key, site, dev, up)
        name, peer = dev["name"], pdev["name"]
        ai, bi = _index(dev["model"], ap), _index(pdev["model"], bp)
        rest = (up["bandwidth"], up["transport"], up["ipsec"], not inter_as, False, self.zones_below[name])
        cost = None if inter_as else self._cost(up["bandwidth"])
        upper = (bi, "downlink", f"to {name} {ap}", _host(n4, 1), _host(n6, 1), None, None, name, ai, *rest, bp, cost)
        lower = (ai, "uplink", f"to {peer} {bp}", _host(n4, 0), _host(n6, 0), None, None, peer, bi, *rest, ap, cost)
        if inter_as and n4 is not None:  # carries the loopbacks the multihop VPNv4 sessions need
            return ((upper, (name, _text(lower[3][0]), a_as, "ebgp-link", ("ipv4-unicast",), False)),
                    (lower, (peer, _text(upper[3][0]), b_as, "ebgp-link", ("ipv4-unicast",), False)))
        return (upper, None), (lower, None)

    def _cost(self, bandwidth: str) -> int:
        """The IGP cost of a link: the reference bandwidth over the link's, at least 1 and at
        most IS-IS's widest interface metric (16,777,214)."""
        cost = self._costs.get(bandwidth)
        if cost is None:
            cost = self._costs[bandwidth] = min(16_777_214, max(1, round(self.reference_mbps / mbps(bandwidth))))
        return cost

    def _access(self, name: str, ifaces: list[tuple]) -> list[tuple]:
        """One access sub-interface per department attachment at a device and zone, in the zone's VRF."""
        i, a = self.i, self.a
        out: list[tuple] = []
        model = i.device[name][1]["model"]
        for dept, at in self.attached_at.get(name, ()):
            port_name = a.ports[f"port/{name}/access:{dept['id']}"]
            port = _index(model, port_name)
            for zid in i.attachment_zones(dept, at):
                lk = f"{dept['id']}@{at['site']}/{zid}"
                vlan = self.vpn_id[zid]
                g4, g6 = _host(a.blocks.get(f"ipv4/lan/{lk}"), 0), _host(a.blocks.get(f"ipv6/lan/{lk}"), 0)
                out.append((dept["id"], at["site"], name, zid, port, vlan, g4, g6))
                ifaces.append((port, "access", f"{dept['name']} ({dept['id']}) {zid}", g4, g6, zid, vlan, None, None,
                               None, "leased", False, False, False, (), port_name))
        return out

    def _internet(self, name: str, dev: Map, ifaces: list[tuple]) -> tuple | None:
        if not dev.get("internet") or self.internet_zone is None:
            return None
        x = dev["internet"]
        port_name = self.a.ports[f"port/{name}/internet"]
        port = _index(dev["model"], port_name)
        address = IPv4Interface(x["address"])
        ifaces.append((port, "internet", f"Internet via {x['isp']}", (int(address), address.network.prefixlen), None,
                       self.internet_zone["id"], None, None, None, None, "leased", False, False, True, (), port_name))
        return x["isp"], x["address"], x["gateway"], x["nat_pool"], port, dev["firewall"], self.nat_from

    def device_spec(self, site: Map, dev: Map) -> tuple:
        """Everything a device is made of, as plain values (see specs.device)."""
        name, a = dev["name"], self.a
        asn = self.asn[self.domain[site["id"]]]
        loop4, loop6 = a.blocks.get(f"ipv4/loopback/{name}"), a.blocks.get(f"ipv6/loopback/{name}")
        lb4 = None if loop4 is None else loop4[0]
        lb6 = None if loop6 is None else loop6[0]
        lb4_text = "None" if loop4 is None else _text(lb4)
        ifaces: list[tuple] = [(0, "loopback", "router id", None if lb4 is None else (lb4, 32),
                                None if lb6 is None else (lb6, 128), None, None, None, None, None, "leased", False,
                                True, False, ())]
        link_bgp: list[tuple] = []
        self._link_side(name, ifaces, link_bgp)
        attachments = self._access(name, ifaces)
        inet = self._internet(name, dev, ifaces)
        own, transit = self._vrf_zones(name, ifaces)
        bgp = self._bgp(site, dev, asn)
        return (name, site["id"], site["name"], site["level"], dev["role"], dev["reflector"] or dev["role"] == "rr",
                dev["platform"], dev["vendor"], dev["model"], asn, lb4, lb6, lb4_text,
                self._isis_net(site, lb4) if lb4 is not None else "", self.igp,
                tuple(sorted(ifaces, key=lambda x: (x[0], x[6] or 0))),
                _with_rd(own, lb4_text), _with_rd(transit, lb4_text),
                tuple(sorted((*bgp, *link_bgp), key=_session_order)) if link_bgp else bgp,
                tuple(sorted(attachments, key=lambda x: (x[4], x[5]))), inet, self._management(site, dev),
                _hardware(dev["model"]))

    def device(self, site: Map, dev: Map) -> Device:
        return specs.device(self.device_spec(site, dev))

    def site_spec(self, s: Map) -> tuple:
        a, sid = self.a, s["id"]
        p4, p6 = a.blocks.get(f"ipv4/pool/{sid}"), a.blocks.get(f"ipv6/pool/{sid}")
        return (sid, s["name"], s["level"], s["code"], s.get("parent"), self.i.site_mlps[sid], self.asn[self.domain[sid]],
                None if p4 is None else p4[:2], None if p6 is None else p6[:2],
                tuple(sorted(d["name"] for d in s["devices"])))

    def site(self, s: Map) -> Site:
        return specs.site(self.site_spec(s))

    def run(self) -> Network:
        a, origins = self.a, self.origins
        links = []
        for key, site, dev, up in self.links:
            link = self.link(key, site, dev, up)
            if link is None:
                continue
            links.append(link)
            for fam, n in (("ipv4", link.ipv4), ("ipv6", link.ipv6)):
                if n is not None:
                    origins[("link", key, fam)] = a.origins.get(f"{fam}/link/{key}", ALLOCATED)
        devices: dict[str, Device] = {}
        for site, dev in self.by_name:
            name = dev["name"]
            if name in devices:
                continue
            devices[name] = self.device(site, dev)
            for fam in self.fams:
                origins[("device", name, f"loopback.{fam}")] = a.origins.get(f"{fam}/loopback/{name}", ALLOCATED)
            origins[("device", name, "asn")] = origins.get(("site", self.domain[site["id"]], "asn"), DERIVED)
            origins[("device", name, "isis_net")] = self.isis_origin
        return Network(self.i.network["name"], self._sites(), devices,
                       tuple(sorted(links, key=lambda l: (l.a, l.b, l.a_port))), origins)

    def _sites(self) -> dict[str, Site]:
        i, a = self.i, self.a
        sites: dict[str, Site] = {}
        default_mlps = {lvl: Origin("default", f"network.mlps.{lvl}") for lvl in i.network["mlps"]}
        raised = Origin("derived", "raised by a business system running here")
        for s in sorted(i.sites, key=lambda s: s["id"]):
            sid = s["id"]
            sites[sid] = self.site(s)
            for fam in self.fams:
                self.origins[("site", sid, f"pool.{fam}")] = a.origins.get(f"{fam}/pool/{sid}", ALLOCATED)
            self.origins.setdefault(("site", sid, "asn"), self.origins.get(("site", self.domain[sid], "asn"), DERIVED))
            self.origins[("site", sid, "mlps")] = (
                Origin("intent", str(s.where("mlps"))) if s.get("mlps") else default_mlps[s["level"]])
            if i.site_mlps[sid] != (s.get("mlps") or i.network["mlps"][s["level"]]):
                self.origins[("site", sid, "mlps")] = raised
        return sites


def resolve_model(intent: Intent, alloc: Allocation) -> Network:
    return Resolver(intent, alloc).run()
