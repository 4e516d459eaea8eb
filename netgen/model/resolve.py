"""Resolve validated intent into the network model: the one place implicit values are derived.

Network-wide facts come first (allocation, AS domains, reflectors, where each zone is present),
then each device is built from them. Output order is deterministic: sites and devices by name,
interfaces by port, sessions by peer.
"""
from __future__ import annotations

import ipaddress
from ..intent.intent import Intent
from ..intent.tree import Map
from .allocate import Allocation, access_device, link_keys
from .types import (Attachment, BgpSession, Device, Interface, InternetExit, Link, Management, Network, Origin,
                    Site, Vrf)


def _host(net, index: int):
    """The index-th address of a block: /31 and /127 use both addresses, others skip the network address."""
    if net is None:
        return None
    base = 0 if net.num_addresses <= 2 else 1
    return ipaddress.ip_interface((int(net.network_address) + base + index, net.prefixlen)) if net.version == 4 \
        else ipaddress.IPv6Interface((int(net.network_address) + base + index, net.prefixlen))


class Resolver:
    def __init__(self, intent: Intent, alloc: Allocation):
        self.i, self.a = intent, alloc
        net = intent.network
        self.origins: dict[tuple[str, str, str], Origin] = {}
        self.fams = [f for f in ("ipv4", "ipv6") if f in net["addressing"]]
        self.central = next((s for s in intent.sites if s["level"] == "central"), None)
        self.domain = {s["id"]: self._domain(s) for s in intent.sites}  # site → AS domain site
        self.asn = {d: self._asn(intent.site[d]) for d in set(self.domain.values())}
        self.reflectors: dict[str, list[str]] = {}
        for site, dev in sorted(intent.devices, key=lambda sd: sd[1]["name"]):
            if dev["reflector"] or dev["role"] == "rr":
                self.reflectors.setdefault(self.domain[site["id"]], []).append(dev["name"])
        self.members: dict[str, list[str]] = {}  # AS domain → BGP speakers in it, by name
        for site, dev in sorted(intent.devices, key=lambda sd: sd[1]["name"]):
            if dev["role"] != "firewall":
                self.members.setdefault(self.domain[site["id"]], []).append(dev["name"])
        self.links = link_keys(intent)
        self.internet_zone = next((z for z in intent.zones if z["kind"] == "internet"), None)
        self.zones_on = self._zones_on_devices()
        self.zones_below = self._zones_below()

    # ------------------------------------------------------------------ network-wide facts

    def _domain(self, site: Map) -> str:
        """The AS domain of a site: its province (or the centre)."""
        for s in [site, *self.i.ancestors(site)]:
            if s["level"] in ("province", "central"):
                return s["id"]
        return site["id"]

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
        for dept in self.i.departments:
            for a in dept["attach"]:
                dev = access_device(self.i, a)
                if dev is not None:
                    out[dev["name"]].update(self.i.attachment_zones(dept, a))
        for _, dev in self.i.devices:
            if dev.get("internet") and self.internet_zone is not None:
                out[dev["name"]].add(self.internet_zone["id"])
                out[dev["name"]].update(p["from"] for p in self.internet_zone["allow"] if p["via"] == "nat-firewall")
        return out

    def _zones_below(self) -> dict[str, frozenset[str]]:
        """Zones on a device or on anything that reaches the backbone through it (its uplink
        children, transitively). A link carries the zones below its lower end."""
        children: dict[str, list[str]] = {}
        for _, dev in self.i.devices:
            for up in dev["uplinks"]:
                children.setdefault(up["peer"], []).append(dev["name"])
        out: dict[str, frozenset[str]] = {}
        for root in self.i.device:  # iterative post-order DFS; a same-site loop is cut
            stack, on_path = [(root, iter(children.get(root, ())))], {root}
            while stack:
                name, it = stack[-1]
                child = next(it, None)
                if child is None:
                    stack.pop()
                    on_path.discard(name)
                    acc = set(self.zones_on[name])
                    for c in children.get(name, ()):
                        acc |= out.get(c, frozenset())
                    out[name] = frozenset(acc)
                elif child not in out and child not in on_path:
                    on_path.add(child)
                    stack.append((child, iter(children.get(child, ()))))
        return out

    # ------------------------------------------------------------------ per device

    def _vrfs(self, zones, loopback) -> tuple[Vrf, ...]:
        central_asn = self.asn.get(self.central["id"]) if self.central else self.i.network["asn"]["base"]
        out = []
        for zid in sorted(zones, key=lambda z: self.i.zone[z]["vpn_id"]):
            z = self.i.zone[zid]
            out.append(Vrf(zid, z.get("vrf") or f"ZW-{zid.upper()}", z["kind"], z["vpn_id"],
                           f"{loopback}:{z['vpn_id']}", z.get("rt") or f"{central_asn}:{z['vpn_id']}"))
        return tuple(out)

    def _bgp(self, site: Map, dev: Map, asn: int, loopbacks: dict[str, str]) -> tuple[BgpSession, ...]:
        if dev["role"] == "firewall":
            return ()
        dom = self.domain[site["id"]]
        fams = ("vpnv4", "vpnv6") if "ipv6" in self.fams else ("vpnv4",)
        rrs = self.reflectors.get(dom, [])
        me = dev["name"]
        out: list[BgpSession] = []
        if me in rrs:
            for peer in rrs:
                if peer != me:
                    out.append(BgpSession(peer, loopbacks[peer], asn, "rr-mesh", fams))
            for peer in self.members.get(dom, []):
                if peer not in rrs:
                    out.append(BgpSession(peer, loopbacks[peer], asn, "rr-client", fams))
            central = self.central["id"] if self.central else None
            if central and dom != central:  # a province's reflectors peer with the centre's
                for peer in self.reflectors.get(central, []):
                    ebgp = self.asn[central] != asn
                    out.append(BgpSession(peer, loopbacks[peer], self.asn[central],
                                          "ebgp-vpn" if ebgp else "to-reflector", fams))
            elif central and dom == central:
                for other, prrs in sorted(self.reflectors.items()):
                    if other != central:
                        for peer in prrs:
                            ebgp = self.asn[other] != asn
                            out.append(BgpSession(peer, loopbacks[peer], self.asn[other],
                                                  "ebgp-vpn" if ebgp else "rr-client", fams))
        else:
            for peer in rrs:
                out.append(BgpSession(peer, loopbacks[peer], asn, "to-reflector", fams))
        return tuple(out)

    def _management(self, site: Map, dev: Map) -> Management:
        sec = self.i.network["security"]
        addr = {s["id"]: s["address"] for s in self.i.network["servers"]}
        aaa, snmp, login = sec.get("aaa") or {}, sec.get("snmp") or {}, sec["login"]
        return Management(
            mlps=self.i.site_mlps[site["id"]],
            ntp=tuple(addr[x] for x in sec["ntp"] if x in addr),
            syslog=tuple(addr[x] for x in sec["syslog"] if x in addr),
            aaa_servers=tuple(addr[x] for x in aaa.get("servers", []) if x in addr),
            aaa_protocol=aaa.get("protocol", "hwtacacs"), aaa_key=aaa.get("key"),
            snmp_managers=tuple(addr[x] for x in snmp.get("managers", []) if x in addr),
            snmp_user=snmp.get("user"), snmp_auth=snmp.get("auth", "sha256"), snmp_auth_key=snmp.get("auth_key"),
            snmp_priv=snmp.get("priv", "aes128"), snmp_priv_key=snmp.get("priv_key"),
            ssh_only=login["ssh_only"], max_failures=login["max_failures"], lockout_minutes=login["lockout_minutes"],
            failure_window_minutes=login["lockout_minutes"],
            idle_timeout_minutes=login["idle_timeout_minutes"], password_min_length=login["password_min_length"],
            acl=tuple(sec["management_acl"]), banner=sec["banner"], address=dev.get("mgmt"),
        )

    def _isis_net(self, site: Map, loopback) -> str:
        area = self.i.network["routing"].get("isis_area")
        if not area:
            dom = self.i.site[self.domain[site["id"]]]
            area = f"49.{dom['code'] // 10000:04d}"
        digits = "".join(f"{int(o):03d}" for o in str(loopback).split("."))
        return f"{area}.{digits[0:4]}.{digits[4:8]}.{digits[8:12]}.00"

    def run(self) -> Network:
        i, a = self.i, self.a
        loop4 = {d["name"]: a.get(f"ipv4/loopback/{d['name']}") for _, d in i.devices}
        loopbacks = {n: str(v.network_address) for n, v in loop4.items() if v is not None}
        ifaces: dict[str, list[Interface]] = {name: [] for name in i.device}
        links: list[Link] = []
        link_bgp: dict[str, list[BgpSession]] = {name: [] for name in i.device}
        for key, site, dev, up in self.links:
            peer = i.device.get(up["peer"])
            if peer is None:
                continue
            psite, pdev = peer
            n4, n6 = a.get(f"ipv4/link/{key}"), a.get(f"ipv6/link/{key}")
            ap, bp = a.ports[f"port/{dev['name']}/link:{key}"], a.ports[f"port/{pdev['name']}/link:{key}"]
            inter_as = self.domain[site["id"]] != self.domain[psite["id"]] and \
                self.asn[self.domain[site["id"]]] != self.asn[self.domain[psite["id"]]]
            carried = tuple(sorted(self.zones_below[dev["name"]], key=lambda z: self.i.zone[z]["vpn_id"]))
            common = dict(bandwidth=up["bandwidth"], transport=up["transport"], ipsec=up["ipsec"], igp=not inter_as,
                          zones=carried)
            ifaces[dev["name"]].append(Interface(ap, "uplink", f"to {pdev['name']} port {bp}", _host(n4, 0),
                                                 _host(n6, 0), peer_device=pdev["name"], peer_port=bp, **common))
            ifaces[pdev["name"]].append(Interface(bp, "downlink", f"to {dev['name']} port {ap}", _host(n4, 1),
                                                  _host(n6, 1), peer_device=dev["name"], peer_port=ap, **common))
            links.append(Link(dev["name"], ap, pdev["name"], bp, n4, n6, up["bandwidth"], up.get("carrier"),
                              up["transport"], up["ipsec"], inter_as, carried))
            if inter_as and n4 is not None:  # carries the loopbacks the multihop VPNv4 sessions need
                a_as, b_as = self.asn[self.domain[site["id"]]], self.asn[self.domain[psite["id"]]]
                link_bgp[dev["name"]].append(BgpSession(pdev["name"], str(_host(n4, 1).ip), b_as, "ebgp-link",
                                                        ("ipv4-unicast",), False))
                link_bgp[pdev["name"]].append(BgpSession(dev["name"], str(_host(n4, 0).ip), a_as, "ebgp-link",
                                                         ("ipv4-unicast",), False))
            for fam, n in (("ipv4", n4), ("ipv6", n6)):
                if n is not None:
                    self.origins[("link", key, fam)] = a.origins.get(f"{fam}/link/{key}", Origin("allocated"))
        attachments: dict[str, list[Attachment]] = {name: [] for name in i.device}
        for dept in i.departments:
            for at in dept["attach"]:
                dev = access_device(i, at)
                if dev is None:
                    continue
                port = a.ports[f"port/{dev['name']}/access:{dept['id']}"]
                for zid in i.attachment_zones(dept, at):
                    lk = f"{dept['id']}@{at['site']}/{zid}"
                    n4, n6 = a.get(f"ipv4/lan/{lk}"), a.get(f"ipv6/lan/{lk}")
                    vlan = i.zone[zid]["vpn_id"]
                    g4, g6 = _host(n4, 0), _host(n6, 0)
                    attachments[dev["name"]].append(Attachment(dept["id"], at["site"], dev["name"], zid, port, vlan,
                                                               g4, g6))
                    ifaces[dev["name"]].append(Interface(port, "access", f"{dept['name']} ({dept['id']}) {zid}", g4,
                                                         g6, vrf=zid, vlan=vlan))
        devices: dict[str, Device] = {}
        nat_from = tuple(p["from"] for p in self.internet_zone["allow"] if p["via"] == "nat-firewall") \
            if self.internet_zone else ()
        for site, dev in sorted(i.devices, key=lambda sd: sd[1]["name"]):
            name = dev["name"]
            if name in devices:
                continue
            asn = self.asn[self.domain[site["id"]]]
            lb4 = loop4[name].network_address if loop4[name] is not None else None
            lb6n = a.get(f"ipv6/loopback/{name}")
            inet = None
            if dev.get("internet") and self.internet_zone is not None:
                x = dev["internet"]
                port = a.ports[f"port/{name}/internet"]
                pool = ipaddress.IPv4Network(x["nat_pool"])
                inet = InternetExit(x["isp"], ipaddress.IPv4Interface(x["address"]), ipaddress.IPv4Address(x["gateway"]),
                                    pool, port, dev["firewall"], nat_from, pool.network_address, pool.broadcast_address)
                ifaces[name].append(Interface(port, "internet", f"Internet via {x['isp']}",
                                              ipaddress.IPv4Interface(x["address"]), vrf=self.internet_zone["id"],
                                              nat=True))
            loop_if = Interface(0, "loopback", "router id", ipaddress.IPv4Interface(f"{lb4}/32") if lb4 else None,
                                ipaddress.IPv6Interface(f"{lb6n.network_address}/128") if lb6n else None, igp=True)
            devices[name] = Device(
                name=name, site=site["id"], level=site["level"], role=dev["role"],
                reflector=dev["reflector"] or dev["role"] == "rr", platform=dev["platform"], vendor=dev["vendor"],
                model=dev["model"], asn=asn, loopback4=lb4, loopback6=lb6n.network_address if lb6n else None,
                router_id=str(lb4), isis_net=self._isis_net(site, lb4) if lb4 else "",
                igp=i.network["routing"]["igp"],
                interfaces=tuple(sorted([loop_if, *ifaces[name]], key=lambda x: (x.port, x.vlan or 0))),
                vrfs=self._vrfs(self.zones_on[name], lb4),
                transit_vrfs=self._vrfs({z for x in ifaces[name] for z in x.zones} - self.zones_on[name], lb4),
                bgp=tuple(sorted((*self._bgp(site, dev, asn, loopbacks), *link_bgp[name]), key=lambda b: (b.kind, b.peer))),
                attachments=tuple(sorted(attachments[name], key=lambda x: (x.port, x.vlan))),
                internet=inet, management=self._management(site, dev),
            )
            for fam in self.fams:
                self.origins[("device", name, f"loopback.{fam}")] = a.origins.get(f"{fam}/loopback/{name}",
                                                                                  Origin("allocated"))
            self.origins[("device", name, "asn")] = self.origins.get(("site", self.domain[site["id"]], "asn"),
                                                                     Origin("derived"))
            self.origins[("device", name, "isis_net")] = Origin(
                "intent" if i.network["routing"].get("isis_area") else "derived",
                "area from routing.isis_area" if i.network["routing"].get("isis_area")
                else "area 49.00PP from the province code; system id from the loopback")
        sites: dict[str, Site] = {}
        for s in sorted(i.sites, key=lambda s: s["id"]):
            p4, p6 = a.get(f"ipv4/pool/{s['id']}"), a.get(f"ipv6/pool/{s['id']}")
            sites[s["id"]] = Site(s["id"], s["name"], s["level"], s["code"], s.get("parent"),
                                  i.site_mlps[s["id"]], self.asn[self.domain[s["id"]]], p4, p6,
                                  tuple(sorted(d["name"] for d in s["devices"])))
            for fam in self.fams:
                self.origins[("site", s["id"], f"pool.{fam}")] = a.origins.get(f"{fam}/pool/{s['id']}",
                                                                               Origin("allocated"))
            self.origins.setdefault(("site", s["id"], "asn"), self.origins.get(("site", self.domain[s["id"]], "asn"),
                                                                           Origin("derived")))
            self.origins[("site", s["id"], "mlps")] = (
                Origin("intent", str(s.where("mlps"))) if s.get("mlps") else Origin("default", f"network.mlps.{s['level']}"))
            if i.site_mlps[s["id"]] != (s.get("mlps") or i.network["mlps"][s["level"]]):
                self.origins[("site", s["id"], "mlps")] = Origin("derived", "raised by a business system running here")
        return Network(i.network["name"], sites, devices,
                       tuple(sorted(links, key=lambda l: (l.a, l.b, l.a_port))), self.origins)


def resolve_model(intent: Intent, alloc: Allocation) -> Network:
    return Resolver(intent, alloc).run()

