"""Running the expectations: napalm getters through nornir (production or lab), pings in the lab.

Every check becomes a Finding — passed or not — naming the device or the source and destination
and the zones involved, so a violation says exactly what leaked or what is missing.
"""
from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from nornir.core.task import Result, Task

from ..deploy.drivers.base import IgpReadingDriver
from ..lab.system import run
from .expect import IgpCheck, Probe, RouteCheck, SessionCheck


@dataclass
class Finding:
    check: str  # session | route | reach | isolation | internet
    subject: str  # device, or "source → destination"
    zones: str
    ok: bool
    detail: str


# ------------------------------------------------------------------ getters


def _collect(task: Task, routes: list[RouteCheck]) -> Result:
    from ..deploy.session import connection

    drv = connection(task)
    established = set()
    for vrf, data in (drv.get_bgp_neighbors() or {}).items():
        for peer, info in (data.get("peers") or {}).items():
            if info.get("is_up"):
                established.add(str(peer))
    igp = drv.get_igp_neighbors() if isinstance(drv, IgpReadingDriver) else None
    routed: dict | None = {}
    try:
        for rc in routes:
            routed[(rc.vrf, rc.destination)] = routes_into(drv, rc.destination, rc.vrf, rc.exact)
    except NotImplementedError:  # a driver without route getters: said in the report, not guessed
        routed = None
    return Result(task.host, result={"established": established, "routed": routed, "igp": igp})


def routes_into(drv, block: str, vrf: str, exact: bool = False) -> list[str]:
    """Routes in `vrf` that would carry traffic into `block`: one covering it (the longest match
    for its first address, the default route aside) or one inside it (the block and its
    more-specific prefixes). With `exact`, only a route to the block itself."""
    net = ipaddress.ip_network(block)
    if exact:
        found = drv.get_route_to(destination=str(net), protocol="", longer=False, vrf=vrf) or {}
        return sorted(p for p in found if ipaddress.ip_network(p, strict=False) == net)
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
        # A default route is not a way into the block: where it may exist (the Internet zone) it
        # leads to the Internet, and everywhere else the default-route check reports it.
        if p.version == net.version and p.prefixlen > 0 and (net.subnet_of(p) or p.subnet_of(net)):
            out.add(str(p))
    return sorted(out)


def getter_findings(nr, sessions: list[SessionCheck], routes: list[RouteCheck], igp: list[IgpCheck],
                    secrets=None) -> list[Finding]:
    from ..deploy.session import describe

    by_dev: dict[str, list[RouteCheck]] = {}
    for rc in routes:
        by_dev.setdefault(rc.device, []).append(rc)
    results = nr.run(lambda task: _collect(task, by_dev.get(task.host.name, [])), name="verify", on_failed=True)
    out: list[Finding] = []
    for name, multi in sorted(results.items()):
        r = multi[0]
        if r.failed:
            out.append(Finding("device", name, "", False, f"could not read state: {describe(r.exception, secrets)}"))
            continue
        est, routed = r.result["established"], r.result["routed"]
        for s in (x for x in sessions if x.device == name):
            ok = s.address in est
            out.append(Finding("session", f"{name} → {s.peer}", "", ok,
                               f"BGP {s.kind} to {s.address} " + ("established" if ok else "NOT established")))
        if routed is None and by_dev.get(name):
            out.append(Finding("route", name, "", True, "not checked: the driver has no get_route_to"))
            continue
        out += _igp_findings(name, [c for c in igp if c.device == name], r.result["igp"])
        for rc in by_dev.get(name, []):
            hits = routed[(rc.vrf, rc.destination)]
            out.append(Finding("route", f"{name} vrf {rc.vrf}", rc.zone, not hits,
                               f"no route to {rc.destination}" if not hits else
                               f"LEAK: route(s) {', '.join(hits)} to {rc.destination} ({rc.why})"))
    return out


def _igp_findings(name: str, expected: list[IgpCheck], seen: list[dict] | None) -> list[Finding]:
    if not expected:
        return []
    if seen is None:
        return [Finding("igp", name, "", True, "not checked: the driver has no IGP getter")]
    up = {(a["protocol"], a["vrf"], a["interface"], a["neighbor"]) for a in seen if a.get("up")}
    out = []
    for c in expected:
        ok = (c.protocol, c.vrf, c.interface, c.neighbor) in up
        where = f"vrf {c.vrf} " if c.vrf != "default" else ""
        out.append(Finding("igp", f"{name} → {c.peer} ({where}{c.interface})", c.zone, ok,
                           f"{c.protocol.upper()} adjacency " + ("up" if ok else "NOT up")))
    return out


# ------------------------------------------------------------------ lab probes


def ping(netns: str, address: str, tries: int = 2, source: str = "") -> bool:
    for _ in range(tries):
        p = run(["ip", "netns", "exec", netns, "ping", "-n", "-q", "-c", "1", "-W", "1",
                 *(["-I", source] if source else []), address], check=False, timeout=10)
        if p.returncode == 0:
            return True
    return False


def probe_findings(probes: list[Probe], internet_netns: str, workers: int = 16) -> list[Finding]:
    def one(p: Probe) -> Finding:
        src = p.source.netns if p.source else internet_netns
        # A positive expectation gets a retry (first-packet loss is not a fault); a negative one
        # needs none — a single answer is already the violation.
        reached = ping(src, p.destination, tries=2 if p.expect else 1, source=p.source_address)
        check = "reach" if p.expect else "internet" if "(Internet)" in (p.src_zone, p.dst_zone) else "isolation"
        src_label = p.source.label if p.source else f"the Internet ({p.source_address or 'server'})"
        zones = p.src_zone if p.src_zone == p.dst_zone else f"{p.src_zone} → {p.dst_zone}"
        if reached == p.expect:
            detail = ("reaches" if reached else "cannot reach") + f" ({p.why})"
        elif p.expect:
            detail = f"UNREACHABLE: expected to reach ({p.why})"
        else:
            detail = f"LEAK: reached, but {p.why}"
        return Finding(check, f"{src_label} → {p.dest_label} ({p.destination})", zones, reached == p.expect, detail)

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, probes))
