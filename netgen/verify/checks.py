"""Running the expectations: napalm getters through nornir (production or lab), pings in the lab.

Every check becomes a Finding — passed or not — naming the device or the source and destination
and the zones involved, so a violation says exactly what leaked or what is missing. A Finding
keeps the check (or probe) it came from, so that settling re-runs exactly what failed.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from nornir.core.task import Result, Task

from ..deploy.drivers.base import IgpReadingDriver, MplsReadingDriver
from .expect import IgpCheck, LdpCheck, Probe, RouteCheck, SessionCheck, VpnPathCheck

VPN_LOOKUPS = 16  # per device and pass: BGP lookups to say why a VPN path is broken (each a vtysh call)


@dataclass
class Finding:
    check: str  # session | igp | ldp | vpn-path | route | device | ipsec | reach | isolation | internet
    subject: str  # device, or "source → destination"
    zones: str
    ok: bool
    detail: str
    source: object = field(default=None, repr=False, compare=False)  # the check, probe or DeviceRead

    def as_dict(self) -> dict:
        return {"check": self.check, "subject": self.subject, "zones": self.zones, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class DeviceRead:
    """A device whose state could not be read: re-running it re-runs every check it takes part in."""

    device: str


@dataclass
class GetterChecks:
    sessions: list[SessionCheck] = field(default_factory=list)
    routes: list[RouteCheck] = field(default_factory=list)
    igp: list[IgpCheck] = field(default_factory=list)
    ldp: list[LdpCheck] = field(default_factory=list)
    vpn: list[VpnPathCheck] = field(default_factory=list)

    def all(self) -> list:
        return [*self.sessions, *self.routes, *self.igp, *self.ldp, *self.vpn]

    def devices(self) -> set[str]:
        return {d for c in self.all() for d in c.devices}

    def only(self, wanted) -> "GetterChecks":
        wanted = set(wanted)
        return GetterChecks(*([c for c in group if c in wanted]
                              for group in (self.sessions, self.routes, self.igp, self.ldp, self.vpn)))

    def involving(self, device: str) -> list:
        return [c for c in self.all() if device in c.devices]


# ------------------------------------------------------------------ getters


def read_device(drv, name: str, checks: GetterChecks) -> dict:
    """What this device's checks need from it, no more (in the lab guest every vtysh costs ~1 s)."""
    mine = lambda group: [c for c in group if name in c.devices]  # noqa: E731
    out: dict = {}
    if mine(checks.sessions):
        out["established"] = {str(peer) for data in (drv.get_bgp_neighbors() or {}).values()
                              for peer, info in (data.get("peers") or {}).items() if info.get("is_up")}
    if igp := mine(checks.igp):
        # only what runs: no ospfd on the MPLS design
        out["igp"] = (drv.get_igp_neighbors(tuple(sorted({c.protocol for c in igp})))
                      if isinstance(drv, IgpReadingDriver) else None)
    if routes := mine(checks.routes):
        try:
            out["routed"] = {(rc.vrf, rc.destination): routes_into(drv, rc.destination, rc.vrf, rc.exact)
                             for rc in routes}
        except NotImplementedError:  # a driver without route getters: said in the report, not guessed
            out["routed"] = None
    vpn = mine(checks.vpn)
    if mine(checks.ldp) or vpn:
        out["ldp"] = drv.get_ldp_neighbors() if isinstance(drv, MplsReadingDriver) else None
    if vpn:
        out["vpn"] = _vpn_state(drv, vpn, out["ldp"]) if out["ldp"] is not None else None
    return out


def _collect(task: Task, checks: GetterChecks) -> Result:
    from ..deploy.session import connection

    return Result(task.host, result=read_device(connection(task), task.host.name, checks))


def _vpn_state(drv, vpn: list[VpnPathCheck], ldp: list[dict]) -> dict:
    """(check, prefix) → what breaks that VPN path (None: it holds), from one read of the VRF tables
    and, for the broken ones, BGP's VPNv4 view of the prefix."""
    tables = drv.get_vrf_routes() or {}
    up = {n["neighbor"] for n in ldp if n.get("up")}
    out, lookups = {}, 0
    for c in vpn:
        for prefix in c.prefixes:
            route = (tables.get(c.vrf) or {}).get(prefix)
            paths = imported = None
            if not labelled(route) and lookups < VPN_LOOKUPS:
                lookups += 1
                paths = drv.get_vpn_route(prefix)
                if any(p["rd"] == c.rd and p["valid"] for p in paths) and not (route and route.get("installed")):
                    imported = drv.get_vrf_bgp_paths(c.vrf, prefix)  # in the VRF's BGP table, but unusable?
            out[(c, prefix)] = diagnose(c, prefix, route, up, paths, imported)
    return out


def labelled(route: dict | None) -> bool:
    return bool(route and route.get("installed") and route.get("labels"))


def diagnose(c: VpnPathCheck, prefix: str, route: dict | None, ldp_up: set[str],
             paths: list[dict] | None, imported: list[dict] | None = None) -> str | None:
    """Where the VPN path from c.source to `prefix` (c.destination's LAN) breaks, or None. In the
    order a path is built: the VPNv4 route reaches the source (reflection, RD/RT), is valid and best
    (its next hop resolves), is imported into the VRF with a label, and leaves over an interface
    whose neighbour gives a transport label (LDP)."""
    if labelled(route):
        hop = next((h for h in c.hops if h.interface == route.get("interface")), None)
        if hop is None or hop.peer == c.destination:
            return None  # towards the destination itself its LDP label is implicit null: the VPN label alone
        if hop.peer_id not in ldp_up:
            return (f"no LDP session with {hop.peer} ({hop.peer_id}), the next hop on {hop.interface}: "
                    f"no transport label towards {c.destination}")
        if len(route["labels"]) < 2 and route.get("next_hop") != hop.peer_loopback:
            return (f"only the VPN label on the path via {hop.interface} ({hop.peer}): no transport label to "
                    f"next hop {route.get('next_hop')}")
        return None
    if paths is None:
        return f"no labelled route in VRF {c.vrf} (not looked up further: too many broken paths)"
    mine = [p for p in paths if p["rd"] == c.rd]
    if not mine:
        return (f"no VPNv4 route with RD {c.rd} on {c.source}: {c.destination} does not export it or the "
                f"reflectors do not pass it on (it should carry RT {c.rt})")
    best = next((p for p in mine if p["valid"] and p["best"]), None)
    if best is None:
        hop = mine[0]["next_hop"]
        return (f"VPNv4 route (RD {c.rd}) not valid/best: next hop {hop} "
                f"{'unresolved' if not mine[0]['accessible'] else 'not chosen'} — no labelled path (LDP / inter-AS)")
    if not (route and route.get("installed")):
        if imported and not any(p["valid"] for p in imported):
            # imported, but BGP holds the VRF's copy invalid, its next hop inaccessible (seen in the
            # lab guest: no route — or no labelled one — to the far PE's loopback)
            hop = imported[0]["next_hop"] or best["next_hop"]
            return (f"VPNv4 route (RD {c.rd}) imported into VRF {c.vrf} but unusable: next hop {hop} "
                    f"({c.destination}'s loopback) inaccessible — no labelled path to it (LDP within an AS; "
                    f"across ASes, the inter-AS design)")
        if c.rt not in best["route_targets"]:
            return (f"VPNv4 route (RD {c.rd}) carries RT {', '.join(best['route_targets']) or 'none'}, "
                    f"not {c.rt}: route-target mismatch")
        return f"VPNv4 route (RD {c.rd}, RT {c.rt}) valid but not in VRF {c.vrf}: the VRF does not import RT {c.rt}"
    return f"route in VRF {c.vrf} has no MPLS label (remote VPN label {best['remote_label']})"


def routes_into(drv, block: str, vrf: str, exact: bool = False) -> list[str]:
    """Routes in `vrf` that would carry traffic into `block`: one covering it (the longest match
    for its first address, the default route aside) or one inside it (the block and its
    more-specific prefixes). With `exact`, only a route to the block itself."""
    net = ipaddress.ip_network(block)
    if exact:
        found = drv.get_route_to(destination=str(net), protocol="", longer=False, vrf=vrf) or {}
        return sorted(p for p, entries in found.items() if ipaddress.ip_network(p, strict=False) == net
                      and not _reject(entries))
    found = dict(drv.get_route_to(destination=str(net.network_address), protocol="", longer=False, vrf=vrf) or {})
    found.update(drv.get_route_to(destination=str(net), protocol="", longer=True, vrf=vrf) or {})
    out = set()
    for prefix, entries in found.items():
        try:
            p = ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            continue
        # get_route_to searches the named VRF; a driver that answers for all VRFs says which.
        if any(e.get("routing_table") not in (None, "", vrf) for e in entries or []):
            continue
        if _reject(entries):
            continue
        # A default route is not a way into the block: where it may exist (the Internet zone) it
        # leads to the Internet, and everywhere else the default-route check reports it.
        if p.version == net.version and p.prefixlen > 0 and (net.subnet_of(p) or p.subnet_of(net)):
            out.add(str(p))
    return sorted(out)


def _reject(entries) -> bool:
    """A reject route leads nowhere: every next hop without address or interface — the unreachable
    default that closes a kernel VRF's table (FRR 8.4 JSON: nexthops [{"unreachable": true,
    "reject": true}], no "ip", no "interfaceName"; seen in the lab guest)."""
    return bool(entries) and all(e.get("next_hop", None) == "" and e.get("outgoing_interface", None) == ""
                                 for e in entries)


def getter_findings(nr, checks: GetterChecks, secrets=None) -> list[Finding]:
    """Read every device the checks involve (in parallel, through nornir), then judge each check."""
    from ..deploy.session import describe

    wanted = checks.devices()
    results = nr.filter(filter_func=lambda h: h.name in wanted).run(
        lambda task: _collect(task, checks), name="verify", on_failed=True)
    state: dict[str, dict] = {}
    out: list[Finding] = []
    for name, multi in sorted(results.items()):
        r = multi[0]
        if r.failed:
            out.append(Finding("device", name, "", False, f"could not read state: {describe(r.exception, secrets)}",
                               DeviceRead(name)))
            nr.inventory.hosts[name].close_connections()  # the next read starts on a fresh connection
        else:
            state[name] = r.result
    return out + judge(checks, state)


def judge(checks: GetterChecks, state: dict[str, dict]) -> list[Finding]:
    """Findings of the checks whose devices were all read (`state`: read_device per device); a
    device that could not be read has its own finding."""
    readable = lambda c: all(d in state for d in c.devices)  # noqa: E731
    out = []
    for s in filter(readable, checks.sessions):
        ok = s.address in state[s.device]["established"]
        out.append(Finding("session", f"{s.device} → {s.peer}", "", ok,
                           f"BGP {s.kind} to {s.address} " + ("established" if ok else "NOT established"), s))
    out += _igp_findings([c for c in checks.igp if readable(c)], state)
    out += _route_findings([c for c in checks.routes if readable(c)], state)
    out += _ldp_findings([c for c in checks.ldp if readable(c)], state)
    out += _vpn_findings([c for c in checks.vpn if readable(c)], state)
    return out


def _not_checked(check: str, devices, why: str) -> list[Finding]:
    return [Finding(check, d, "", True, f"not checked: {why}") for d in sorted(set(devices))]


def _route_findings(checks: list[RouteCheck], state: dict) -> list[Finding]:
    out = _not_checked("route", (c.device for c in checks if state[c.device]["routed"] is None),
                       "the driver has no get_route_to")
    for rc in (c for c in checks if state[c.device]["routed"] is not None):
        hits = state[rc.device]["routed"][(rc.vrf, rc.destination)]
        out.append(Finding("route", f"{rc.device} vrf {rc.vrf}", rc.zone, not hits,
                           f"no route to {rc.destination}" if not hits else
                           f"LEAK: route(s) {', '.join(hits)} to {rc.destination} ({rc.why})", rc))
    return out


def _igp_findings(checks: list[IgpCheck], state: dict) -> list[Finding]:
    out = _not_checked("igp", (c.device for c in checks if state[c.device]["igp"] is None),
                       "the driver has no IGP getter")
    for c in (c for c in checks if state[c.device]["igp"] is not None):
        up = {(a["protocol"], a["vrf"], a["interface"], a["neighbor"]) for a in state[c.device]["igp"] if a.get("up")}
        ok = (c.protocol, c.vrf, c.interface, c.neighbor) in up
        where = f"vrf {c.vrf} " if c.vrf != "default" else ""
        out.append(Finding("igp", f"{c.device} → {c.peer} ({where}{c.interface})", c.zone, ok,
                           f"{c.protocol.upper()} adjacency " + ("up" if ok else "NOT up"), c))
    return out


def _ldp_findings(checks: list[LdpCheck], state: dict) -> list[Finding]:
    blind = {d for c in checks for d in c.devices if state[d]["ldp"] is None}
    out = _not_checked("ldp", blind, "the driver has no LDP getter")
    for c in checks:
        missing = []
        for me, peer, peer_id in ((c.a, c.b, c.b_id), (c.b, c.a, c.a_id)):
            if me in blind:
                continue
            seen = {n["neighbor"]: n for n in state[me]["ldp"]}
            if not seen.get(peer_id, {}).get("up"):
                why = seen[peer_id]["state"] if peer_id in seen else "no session"
                missing.append(f"{me} has {why} with {peer} ({peer_id})")
        if len(blind & set(c.devices)) == 2:
            continue
        out.append(Finding("ldp", f"{c.a} ↔ {c.b}", "", not missing,
                           "LDP session OPERATIONAL" if not missing else "LDP session NOT operational: " +
                           "; ".join(missing), c))
    return out


def _vpn_findings(checks: list[VpnPathCheck], state: dict) -> list[Finding]:
    out = _not_checked("vpn-path", (c.source for c in checks if state[c.source]["vpn"] is None),
                       "the driver has no LDP / VRF route getters")
    for c in (c for c in checks if state[c.source]["vpn"] is not None):
        broken = [(p, why) for p in c.prefixes if (why := state[c.source]["vpn"][(c, p)])]
        detail = (f"labelled route(s) to {', '.join(c.prefixes)}" if not broken else
                  "; ".join(f"{p}: {why}" for p, why in broken))
        out.append(Finding("vpn-path", f"{c.source} → {c.destination}", c.zone, not broken, detail, c))
    return out


# ------------------------------------------------------------------ lab probes

PARALLEL = 16  # pings at once in the lab
# One line per probe on stdin: INDEX NETNS TRIES ADDRESS SOURCE ("-": none); one line out: INDEX 0|1.
# A positive expectation gets a retry (first-packet loss is not a fault); a negative one needs none —
# a single answer is already the violation.
_PING = ("i=$1 ns=$2 tries=$3 dst=$4; src=; [ \"$5\" = - ] || src=\"-I $5\"; ok=0; n=0; "
         "while [ $n -lt $tries ]; do if ip netns exec $ns ping -n -q -c 1 -W 1 $src $dst >/dev/null 2>&1; "
         "then ok=1; break; fi; n=$((n+1)); done; echo \"$i $ok\"")


def ping_script(probes: list[Probe], internet_netns: str) -> str:
    """Every probe as one shell script: bounded parallel jobs (xargs -P), one result line each."""
    lines = [f"{k} {p.source.netns if p.source else internet_netns} {2 if p.expect else 1} {p.destination} "
             f"{p.source_address or '-'}" for k, p in enumerate(probes)]
    return (f"xargs -P {PARALLEL} -L 1 sh -c '{_PING}' _ <<'EOF'\n" + "\n".join(lines) + "\nEOF\n")


def probe_findings(probes: list[Probe], internet_netns: str, runner) -> list[Finding]:
    """The probes, run where the lab's namespaces are (`runner`: this host, or the lab guest)."""
    if not probes:
        return []
    # each wave of PARALLEL pings takes at most 2 x 1 s (+ process starts, slow under TCG)
    p = runner.script(ping_script(probes, internet_netns), timeout=60 + 5 * (len(probes) // PARALLEL + 1))
    reached = {}
    for line in p.stdout.splitlines():
        k, _, ok = line.partition(" ")
        if k.isdigit() and ok in ("0", "1"):
            reached[int(k)] = ok == "1"
    return [_probe_finding(pr, reached.get(k)) for k, pr in enumerate(probes)]


def _probe_finding(p: Probe, reached: bool | None) -> Finding:
    check = "reach" if p.expect else "internet" if "(Internet)" in (p.src_zone, p.dst_zone) else "isolation"
    src_label = p.source.label if p.source else f"the Internet ({p.source_address or 'server'})"
    zones = p.src_zone if p.src_zone == p.dst_zone else f"{p.src_zone} → {p.dst_zone}"
    if reached is None:  # never a silent pass for an isolation probe
        return Finding(check, f"{src_label} → {p.dest_label} ({p.destination})", zones, False,
                       "NOT RUN: the probe script printed no result for it", p)
    if reached == p.expect:
        detail = ("reaches" if reached else "cannot reach") + f" ({p.why})"
    elif p.expect:
        detail = f"UNREACHABLE: expected to reach ({p.why})"
    else:
        detail = f"LEAK: reached, but {p.why}"
    return Finding(check, f"{src_label} → {p.dest_label} ({p.destination})", zones, reached == p.expect, detail, p)


# ------------------------------------------------------------------ lab IPsec


def ipsec_findings(runner, links: list) -> list[Finding]:
    """Each Internet-carried link of the lab: its SAs up at both ends, ESP seen on the Internet and
    nothing else but IKE (the lab's Internet namespace counts; netgen/lab/ipsec.py)."""
    from ..lab import ipsec

    by_name = {x.name: x for x in links}
    out = []
    for s in ipsec.check(runner, links):
        why = "; ".join(s.problems())
        out.append(Finding("ipsec", s.link, "", s.ok, "IPsec up, only ESP and IKE on the Internet" if s.ok else why,
                           source=by_name.get(s.link)))
    return out
