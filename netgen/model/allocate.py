"""Network-wide allocation: site pools, loopbacks, links and department LANs, per family.

Facts first, for the whole network at once (the pyavd pattern); `resolve` then builds each
device from them. Stability comes from two things:
- every value ever allocated is kept in the lock file and reserved before anything new is
  allocated, so adding, removing or reordering sites never moves another site's values;
- new site pools prefer the slot their administrative code names (Jiangxi 36 → 10.36.0.0/16
  in 10.0.0.0/8), so even a fresh plan is readable and largely order-independent.
Order of work: pinned and locked values are reserved before new ones are allocated; new
ones are taken in sorted-key order, so the same intent and lock give the same result anywhere.
"""
from __future__ import annotations

import ipaddress
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, Location, Severity
from ..intent.intent import LEVEL_RANK, Intent
from ..intent.tree import Map
from .lock import Lock
from .pool import Net, Pool, PoolExhausted
from .types import Origin

FAMILIES = ("ipv4", "ipv6")


@dataclass
class Allocation:
    values: dict[str, Net] = field(default_factory=dict)  # lock key → block
    ports: dict[str, int] = field(default_factory=dict)  # lock key → port number
    origins: dict[str, Origin] = field(default_factory=dict)
    new: list[str] = field(default_factory=list)  # keys allocated in this run
    orphans: list[str] = field(default_factory=list)  # locked keys no longer in the intent
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def get(self, key: str) -> Net | None:
        return self.values.get(key)

    def lock_entries(self) -> dict[str, str]:
        """What the lock file should hold now: every live value plus the unreleased orphans."""
        out = {k: str(v) for k, v in self.values.items()}
        out.update((k, str(v)) for k, v in self.ports.items())
        return out


def link_keys(intent: Intent) -> list[tuple[str, Map, Map, Map]]:
    """(key, site, device, uplink) for every uplink; a second link between the same pair gets `#2`."""
    out, seen = [], {}
    for site, dev in intent.devices:
        for up in dev["uplinks"]:
            base = f"{dev['name']}~{up['peer']}"
            seen[base] = seen.get(base, 0) + 1
            out.append((base if seen[base] == 1 else f"{base}#{seen[base]}", site, dev, up))
    return out


def lan_keys(intent: Intent) -> list[tuple[str, Map, Map, str]]:
    """(key, department, attachment, zone id) for every department LAN."""
    out = []
    for dept in intent.departments:
        for a in dept["attach"]:
            for zid in intent.attachment_zones(dept, a):
                out.append((f"{dept['id']}@{a['site']}/{zid}", dept, a, zid))
    return out


def slot_of(site: Map) -> int:
    """The pool slot an administrative code prefers: its own digits at its level."""
    code, level = site["code"], site["level"]
    if level == "central":
        return 0
    if level == "province":
        return code // 10000
    if level == "city":
        return code // 100 % 100
    if level == "county":
        return code % 100
    return code % 1000


class _Family:
    """Allocation state for one address family."""

    def __init__(self, alloc: "Allocator", fam: str):
        self.a, self.fam = alloc, fam
        plan = alloc.intent.network["addressing"][fam]
        self.plan = plan
        orphans = sorted((v for k, v in alloc.locked.items() if k.startswith(fam + "/") and k not in alloc.demanded),
                         key=lambda n: (int(n.network_address), n.prefixlen))
        self.orphans = orphans
        self.orphan_starts = [int(n.network_address) for n in orphans]
        self.national = self.pool("national block", ipaddress.ip_network(plan["national"]))
        self.infra = {}
        for name in ("loopbacks", "links", "management"):
            net = ipaddress.ip_network(plan[name])
            self.national.reserve(net, f"{name} pool")
            self.infra[name] = self.pool(f"{name} pool", net)
        self.site_pools: dict[str, Pool] = {}
        self.zone_pools: dict[str, Pool] = {}

    def pool(self, name: str, net: Net) -> Pool:
        """A new pool with the orphaned lock entries inside it already reserved."""
        p = Pool(name, net)
        lo = bisect_left(self.orphan_starts, int(net.network_address))
        hi = bisect_right(self.orphan_starts, int(net.broadcast_address))
        for orphan in self.orphans[lo:hi]:
            if orphan != net and orphan.subnet_of(net):
                p.reserve(orphan, "an unreleased lock entry")
        return p

    def key(self, kind: str, name: str) -> str:
        return f"{self.fam}/{kind}/{name}"


class Allocator:
    def __init__(self, intent: Intent, lock: Lock):
        self.intent, self.lock = intent, lock
        self.out = Allocation()
        self.locked: dict[str, Net] = {}
        for k, v in lock.entries.items():
            if not k.startswith(FAMILIES):
                continue
            try:
                self.locked[k] = ipaddress.ip_network(v)
            except ValueError:
                self._diag("allocate.lock", f"lock entry `{k}` holds `{v}`, which is not a network",
                           Location(str(lock.path)), "restore the lock file from version control, or release the entry")
        self.demanded: set[str] = set()
        self.failed: set[str] = set()  # keys already reported, so one problem is reported once

    def _diag(self, rule: str, msg: str, loc: Location, hint: str, related=()) -> None:
        self.out.diagnostics.append(Diagnostic(rule, Severity.ERROR, msg, loc, hint, tuple(related)))

    # -------------------------------------------------------------------- one value

    def _fixed(self, fam: _Family, key: str, pinned: str | None, where: Location) -> Net | None:
        """The pinned or locked value for key, checking they agree; None when it is new."""
        locked = self.locked.get(key)
        if pinned is not None:
            net = ipaddress.ip_network(pinned, strict=False)
            if locked is not None and locked != net:
                self.failed.add(key)
                self._diag("allocate.pin-lock", f"`{key}` is pinned to {net} but the lock file holds {locked}",
                           where, f"to move it, run `netgen release {key}` and build again; or pin {locked}")
            self.out.origins[key] = Origin("intent", str(where))
            return net
        if locked is not None:
            self.out.origins[key] = Origin("lock", f"{self.lock.path.name if self.lock.path else 'lock'}")
        return locked

    def _reserve(self, pool: Pool, key: str, net: Net, where: Location) -> None:
        if net.version != pool.net.version or not net.subnet_of(pool.net):
            self.failed.add(key)
            self._diag("allocate.outside", f"`{key}` = {net} is outside {pool.name} {pool.net}", where,
                       "pin a value inside the pool, or release the lock entry")
            return
        clash = pool.reserve(net, key)
        if clash is not None:
            self.failed.add(key)
            self._diag("allocate.conflict", f"`{key}` = {net} collides with `{clash}` in {pool.name} {pool.net}",
                       where, f"release one of them (`netgen release {key}`) or pin another value")
            return
        self.out.values[key] = net

    def _new(self, pool: Pool, key: str, length: int, where: Location, prefer: int | None = None) -> None:
        try:
            self.out.values[key] = pool.allocate(length, key, prefer)
        except PoolExhausted as exc:
            self.failed.add(key)
            self._diag("allocate.exhausted", f"cannot allocate a /{length} for `{key}`: {exc}", where,
                       "enlarge the pool (addressing / pool_length), pin a value elsewhere, or release "
                       "unused lock entries")
            return
        self.out.origins[key] = Origin("allocated", f"{pool.name} {pool.net}")
        self.out.new.append(key)

    # -------------------------------------------------------------------- the whole network

    def run(self) -> Allocation:
        intent = self.intent
        fams = [f for f in FAMILIES if f in intent.network["addressing"]]
        links, lans = link_keys(intent), lan_keys(intent)
        for fam in fams:
            self.demanded |= {f"{fam}/pool/{s['id']}" for s in intent.sites}
            self.demanded |= {f"{fam}/loopback/{d['name']}" for _, d in intent.devices}
            self.demanded |= {f"{fam}/link/{k}" for k, *_ in links}
            self.demanded |= {f"{fam}/lan/{k}" for k, *_ in lans}
        for fam in fams:
            self._family(_Family(self, fam), links, lans)
        for k, v in self.locked.items():
            if k not in self.demanded and k.split("/", 1)[0] in fams:
                self.out.values[k] = v
                self.out.orphans.append(k)
                self.out.origins[k] = Origin("lock", "orphan: its owner left the intent; release it to free the space")
        return self.out

    def _family(self, fam: _Family, links, lans) -> None:
        intent, net_cfg = self.intent, self.intent.network["addressing"]
        lengths = net_cfg["pool_length"][fam.fam]
        pinned_key = "prefixes" if fam.fam == "ipv4" else "prefixes6"

        for zone in intent.zones:  # dedicated zones with their own (department-planned) block
            if zone.get(fam.fam):
                fam.zone_pools[zone["id"]] = fam.pool(f"block of zone {zone['id']}", ipaddress.ip_network(zone[fam.fam]))

        # Site pools, top-down; each level's fixed values before its new ones, and each new
        # pool's fixed LANs before the next level carves child pools out of it.
        by_level = sorted(intent.site.values(), key=lambda s: (LEVEL_RANK[s["level"]], s["id"]))
        lans_by_site: dict[str, list] = {}
        for item in lans:
            lans_by_site.setdefault(item[2]["site"], []).append(item)
        level_groups: dict[int, list[Map]] = {}
        for s in by_level:
            level_groups.setdefault(LEVEL_RANK[s["level"]], []).append(s)
        for rank in sorted(level_groups):
            sites = level_groups[rank]
            pending = []
            for s in sites:
                key = fam.key("pool", s["id"])
                pinned = (s.get("prefix") or {}).get(fam.fam)
                loc = s["prefix"].where(fam.fam) if pinned else s.where()
                value = self._fixed(fam, key, pinned, loc)
                parent = self._parent_pool(fam, s)
                if value is None:
                    pending.append((s, key, parent))
                elif parent is not None:
                    self._reserve(parent, key, value, loc)
            for s, key, parent in pending:
                if parent is None:
                    continue
                length = (s.get("pool_length") or {}).get(fam.fam) or lengths[s["level"]]
                self._new(parent, key, length, s.where(), prefer=slot_of(s))
            for s in sites:
                value = self.out.values.get(fam.key("pool", s["id"]))
                if value is None:
                    continue
                fam.site_pools[s["id"]] = fam.pool(f"pool of site {s['id']}", value)
                for lkey, dept, a, zid in lans_by_site.get(s["id"], []):
                    self._lan(fam, lkey, dept, a, zid, pinned_key, fixed_only=True)

        for name, items, kind in (("loopbacks", [(d["name"], d) for _, d in intent.devices], "loopback"),
                                  ("links", [(k, up) for k, _, _, up in links], "link")):
            pool = fam.infra[name]
            pending = []
            for owner, node in items:
                key = fam.key(kind, owner)
                if kind == "loopback":
                    pinned = (node.get("loopback") or {}).get(fam.fam)
                    loc = node["loopback"].where(fam.fam) if pinned else node.where("name")
                else:
                    pinned = node.get(fam.fam)
                    loc = node.where(fam.fam) if pinned else node.where("peer")
                value = self._fixed(fam, key, pinned, loc)
                if value is None:
                    pending.append((key, loc))
                else:
                    self._reserve(pool, key, value, loc)
            length = fam.national.bits if kind == "loopback" else net_cfg["link_length"][fam.fam]
            for key, loc in sorted(pending):
                self._new(pool, key, length, loc)

        for lkey, dept, a, zid in lans:
            self._lan(fam, lkey, dept, a, zid, pinned_key, fixed_only=True, zone_only=True)
        for lkey, dept, a, zid in sorted(lans, key=lambda t: t[0]):
            self._lan(fam, lkey, dept, a, zid, pinned_key, fixed_only=False)

    def _parent_pool(self, fam: _Family, site: Map) -> Pool | None:
        if site["level"] in ("central", "province"):
            return fam.national
        parent = self.intent.parent(site)
        return fam.site_pools.get(parent["id"]) if parent is not None else None

    def _lan(self, fam: _Family, lkey: str, dept: Map, a: Map, zid: str, pinned_key: str,
             fixed_only: bool, zone_only: bool = False) -> None:
        """One department LAN: reserve it if fixed, else (second pass) allocate it."""
        key = fam.key("lan", lkey)
        if key in self.out.values or key in self.failed:
            return
        in_zone = zid in fam.zone_pools
        if zone_only != in_zone and fixed_only:
            return
        pool = fam.zone_pools[zid] if in_zone else fam.site_pools.get(a["site"])
        if pool is None:
            return
        pinned = (a.get(pinned_key) or {}).get(zid)
        loc = a[pinned_key].where(zid) if pinned else a.where("site")
        if fixed_only:
            value = self._fixed(fam, key, pinned, loc)
            if value is not None:
                self._reserve(pool, key, value, loc)
            return
        site = self.intent.site[a["site"]]
        self._new(pool, key, self.intent.network["addressing"]["lan_length"][fam.fam][site["level"]], loc)


def allocate(intent: Intent, lock: Lock) -> Allocation:
    alloc = Allocator(intent, lock).run()
    allocate_ports(intent, lock, alloc)
    return alloc


def port_demands(intent: Intent, links: list) -> dict[str, list[tuple[str, int | None, Location]]]:
    """Per device, the ports it needs: (lock key, pinned port or None, where it was asked)."""
    out: dict[str, list] = {name: [] for name in intent.device}
    for key, _, dev, up in links:
        out[dev["name"]].append((f"port/{dev['name']}/link:{key}", up.get("port"), up.where("peer")))
        if up["peer"] in out:
            out[up["peer"]].append((f"port/{up['peer']}/link:{key}", up.get("peer_port"), up.where("peer")))
    for _, dev in intent.devices:
        if dev.get("internet"):
            out[dev["name"]].append((f"port/{dev['name']}/internet", None, dev.where("internet")))
    for dept in intent.departments:
        for a in dept["attach"]:
            dev = access_device(intent, a)
            if dev is not None:
                out[dev["name"]].append((f"port/{dev['name']}/access:{dept['id']}", None, a.where("site")))
    return out


def access_device(intent: Intent, attach: Map) -> Map | None:
    """The device a department attachment plugs into: the one named, else the site's first CE, else PE."""
    site = intent.site.get(attach["site"])
    if site is None:
        return None
    if attach.get("device"):
        found = intent.device.get(attach["device"])
        return found[1] if found else None
    for role in ("ce", "pe"):
        for dev in site["devices"]:
            if dev["role"] == role:
                return dev
    return None


def allocate_ports(intent: Intent, lock: Lock, alloc: Allocation) -> None:
    """Physical port numbers, stable like addresses: pinned, else locked, else the lowest free.
    A port whose owner left the intent stays taken until its lock entry is released."""
    demands = port_demands(intent, link_keys(intent))
    demanded = {key for wants in demands.values() for key, _, _ in wants}
    orphans: dict[str, list[tuple[str, int]]] = {}
    for key, value in lock.entries.items():
        if key.startswith("port/") and key not in demanded and value.isdigit():
            orphans.setdefault(key.split("/")[1], []).append((key, int(value)))
            alloc.orphans.append(key)
    for dev, wants in demands.items():
        used: dict[int, str] = {}
        for key, value in orphans.get(dev, []):
            used[value] = key
            alloc.ports[key] = value
            alloc.origins[key] = Origin("lock", "orphan: its owner left the intent; release it to free the port")
        pending = []
        for key, pinned, where in wants:
            locked = lock.entries.get(key)
            value = pinned if pinned is not None else int(locked) if locked and locked.isdigit() else None
            if value is None:
                pending.append(key)
                continue
            if value in used:
                alloc.diagnostics.append(Diagnostic(
                    "allocate.port", Severity.ERROR, f"port {value} of `{dev}` is given to both `{used[value]}` "
                    f"and `{key}`", where, f"pin another port, or release one of them (`netgen release {key}`)"))
                continue
            used[value] = key
            alloc.ports[key] = value
            alloc.origins[key] = Origin("intent", str(where)) if pinned is not None else Origin("lock")
        free = 1
        for key in sorted(pending):
            while free in used:
                free += 1
            used[free] = key
            alloc.ports[key] = free
            alloc.origins[key] = Origin("allocated", f"lowest free port of {dev}")
            alloc.new.append(key)
