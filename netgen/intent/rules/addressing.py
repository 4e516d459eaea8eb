"""Pinned addresses: inside the national blocks and their pools, no overlap within a space.

An address *space* is what must be unique: the national space (site pools, infrastructure,
public/office/management LANs) or a dedicated zone's own department-planned block, which may
overlap anything outside that zone. Overlaps are found with one sort and a stack sweep per
space — CIDR blocks either nest or are disjoint, so each block's immediate container is the
top of the stack — never pairwise.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterator

from ...diagnostics import Location
from ..intent import Intent
from . import Finding, rule

Net = ipaddress.IPv4Network | ipaddress.IPv6Network
INFRA = ("loopbacks", "links", "management")
LEAF_POOL = {"loopback": "loopbacks", "link": "links", "mgmt": "management"}


@dataclass(frozen=True)
class Block:
    net: Net
    kind: str  # national-pool kinds: loopbacks/links/management; site; zone; lan; loopback; link; mgmt
    space: str  # "national", "zone:<id>" or "internet"
    owner: str | None  # site id for site pools and LANs
    label: str
    loc: Location


def _net(text: str, host: bool = False) -> Net:
    return ipaddress.ip_network(text, strict=not host)


def blocks(intent: Intent) -> list[Block]:
    """Every pinned block in the intent, labelled with what it is and where it was written."""
    if "blocks" not in intent.memo:
        intent.memo["blocks"] = list(_collect(intent))
    return intent.memo["blocks"]  # type: ignore[return-value]


def _collect(intent: Intent) -> Iterator[Block]:
    addr = intent.network["addressing"]
    for fam in ("ipv4", "ipv6"):
        for pool in INFRA:
            if fam in addr:
                yield Block(_net(addr[fam][pool]), pool, "national", None, f"{pool} pool", addr[fam].where(pool))
    for z in intent.zones:
        for fam in ("ipv4", "ipv6"):
            if z.get(fam):
                yield Block(_net(z[fam]), "zone", f"zone:{z['id']}", None, f"zone `{z['id']}` block", z.where(fam))
    for s in intent.sites:
        for fam, text in (s.get("prefix") or {}).items():
            yield Block(_net(text), "site", "national", s["id"], f"pool of site `{s['id']}`", s["prefix"].where(fam))
        for d in s["devices"]:
            for fam, text in (d.get("loopback") or {}).items():
                yield Block(_net(text), "loopback", "national", s["id"], f"loopback of `{d['name']}`",
                            d["loopback"].where(fam))
            if d.get("mgmt"):
                yield Block(_net(d["mgmt"]), "mgmt", "national", s["id"], f"management address of `{d['name']}`",
                            d.where("mgmt"))
            for up in d["uplinks"]:
                for fam in ("ipv4", "ipv6"):
                    if up.get(fam):
                        yield Block(_net(up[fam]), "link", "national", s["id"],
                                    f"link `{d['name']}`–`{up['peer']}`", up.where(fam))
            inet = d.get("internet")
            if inet:
                yield Block(_net(inet["address"], host=True), "lan", "internet", None,
                            f"Internet address of `{d['name']}`", inet.where("address"))
                yield Block(_net(inet["nat_pool"]), "lan", "internet", None, f"NAT pool of `{d['name']}`",
                            inet.where("nat_pool"))
    for srv in intent.network["servers"]:
        yield Block(_net(srv["address"]), "mgmt", "national", None, f"server `{srv['id']}`", srv.where("address"))
    for dept in intent.departments:
        for a in dept["attach"]:
            for key in ("prefixes", "prefixes6"):
                for zid, text in (a.get(key) or {}).items():
                    zone = intent.zone.get(zid)
                    own = zone is not None and zone.get("ipv4" if key == "prefixes" else "ipv6")
                    space = f"zone:{zid}" if own else "national"
                    yield Block(_net(text), "lan", space, a["site"], f"LAN of `{dept['id']}` at `{a['site']}` in "
                                f"zone `{zid}`", a[key].where(zid))


def pool_ancestors(intent: Intent, site) -> list:
    """Sites whose pool a site's pool is carved from: its ancestors below the centre.

    Provinces draw from the national block; the central site's pool holds only its own LANs.
    """
    return [a for a in intent.ancestors(site) if a["level"] != "central"]


def _may_contain(intent: Intent, outer: Block, inner: Block, ancestors) -> bool:
    if outer.kind in INFRA:
        return LEAF_POOL.get(inner.kind) == outer.kind
    if outer.kind == "zone":
        return inner.kind == "lan"
    if outer.kind == "site" and inner.kind in ("site", "lan") and inner.owner is not None:
        return inner.owner == outer.owner and inner.kind == "lan" or outer.owner in ancestors(inner.owner)
    return False


@rule("address.overlap", "no two pinned blocks overlap within one address space, except a pool and what it holds")
def overlap(intent: Intent):
    cache: dict[str, set[str]] = {}

    def ancestors(site_id: str) -> set[str]:
        if site_id not in cache:
            site = intent.site.get(site_id)
            cache[site_id] = {a["id"] for a in pool_ancestors(intent, site)} if site else set()
        return cache[site_id]

    groups: dict[tuple[int, str], list[tuple[int, int, int, Block]]] = {}
    for b in blocks(intent):
        first, last = int(b.net.network_address), int(b.net.broadcast_address)
        groups.setdefault((b.net.version, b.space), []).append((first, -last, len(groups), b))
    for items in groups.values():
        items.sort(key=lambda t: (t[0], t[1]))
        stack: list[tuple[int, Block]] = []  # (last address, block)
        for first, neg_last, _, b in items:
            while stack and stack[-1][0] < first:
                stack.pop()
            if stack:
                outer = stack[-1][1]
                if not _may_contain(intent, outer, b, ancestors):
                    rel = "is the same as" if outer.net == b.net else "overlaps"
                    yield Finding(b.loc, f"{b.net} ({b.label}) {rel} {outer.net} ({outer.label})",
                                  "give one of them another block: within one zone every address has one owner",
                                  (outer.loc,))
            stack.append((-neg_last, b))


@rule("address.outside-national", "national-space blocks lie inside the national block")
def outside_national(intent: Intent):
    addr = intent.network["addressing"]
    national = {fam: _net(addr[fam]["national"]) for fam in ("ipv4", "ipv6") if fam in addr}
    for b in blocks(intent):
        if b.space != "national":
            continue
        nat = national.get(f"ipv{b.net.version}")
        if nat is None:
            yield Finding(b.loc, f"{b.label} is IPv{b.net.version}, but no IPv{b.net.version} plan is declared",
                          f"add network.addressing.ipv{b.net.version}")
        elif not b.net.subnet_of(nat):
            yield Finding(b.loc, f"{b.net} ({b.label}) is outside the national block {nat}",
                          "use an address from the national plan")


@rule("address.pool", "loopbacks, links and management addresses lie in their infrastructure pools")
def in_pool(intent: Intent):
    addr = intent.network["addressing"]
    for b in blocks(intent):
        pool_name = LEAF_POOL.get(b.kind)
        fam = f"ipv{b.net.version}"
        if pool_name and fam in addr:
            pool = _net(addr[fam][pool_name])
            if not b.net.subnet_of(pool):
                yield Finding(b.loc, f"{b.net} ({b.label}) is outside the {pool_name} pool {pool}",
                              f"pick an address inside {pool}, or leave it out to have one allocated")


@rule("address.child-pool", "a site's pinned pool and LANs lie inside the nearest pinned pool above them")
def child_pool(intent: Intent):
    for b in blocks(intent):
        if b.space != "national" or b.kind not in ("site", "lan") or b.owner not in intent.site:
            continue
        site = intent.site[b.owner]
        chain = pool_ancestors(intent, site) if b.kind == "site" else [site, *pool_ancestors(intent, site)]
        fam = f"ipv{b.net.version}"
        for anc in chain:
            pinned = (anc.get("prefix") or {}).get(fam)
            if pinned:
                if not b.net.subnet_of(_net(pinned)):
                    yield Finding(b.loc, f"{b.net} ({b.label}) is not inside {pinned}, the pool of `{anc['id']}`",
                                  "a child's addresses come from its parent's pool", (anc["prefix"].where(fam),))
                break


@rule("address.zone-space", "a LAN in a dedicated zone with its own block lies inside that block")
def zone_space(intent: Intent):
    for b in blocks(intent):
        if b.kind == "lan" and b.space.startswith("zone:"):
            zone = intent.zone[b.space[5:]]
            block = _net(zone["ipv4" if b.net.version == 4 else "ipv6"])
            if not b.net.subnet_of(block):
                yield Finding(b.loc, f"{b.net} ({b.label}) is outside the zone's block {block}",
                              "use an address from the zone's department-planned block", (zone.where("ipv4"),))
