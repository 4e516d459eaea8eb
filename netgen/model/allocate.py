"""Network-wide allocation: site pools, loopbacks, links and department LANs, per family.

Facts first, for the whole network at once (the pyavd pattern); `resolve` then builds each
device from them. Stability comes from two things:
- every value ever allocated is kept in the lock file and reserved before anything new is
  allocated, so adding, removing or reordering sites never moves another site's values;
- new site pools prefer the slot their administrative code names (Jiangxi 36 → 10.36.0.0/16
  in 10.0.0.0/8), so even a fresh plan is readable and largely order-independent.
Order of work: pinned and locked values are reserved before new ones are allocated; new
ones are taken in sorted-key order, so the same intent and lock give the same result anywhere.

At national scale there are ~350,000 values: they are kept as integers (pool.Block) and made
into ipaddress networks only when asked for, and on a large network the second address family
is allocated in a forked process while this one does the first.

An everyday addition (a township, a device, an attachment) is allocated as an extension of the
allocation the lock file was written from (alloc_cache.base): the values to add are those of
the sites, devices and attachments the intent adds (alloc_cache.additions), only the pools they
are taken from are opened, each exactly as a full run opens it — every fixed value that
belongs in it, then the orphans — and the new values are taken in the full run's order. So the result is
the full run's (tests/model/test_allocate_properties.py compares them on random additions); any
diagnostic sends it to the full run, which reports it as always.
"""
from __future__ import annotations

import ipaddress
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from operator import ge
from typing import NamedTuple

from ..diagnostics import Diagnostic, Location, Severity
from ..intent.background import InChild, cores
from ..intent.cache import Cache
from ..intent.intent import LEVEL_RANK, Intent
from ..intent.tree import Map
from .lock import Lock
from .pool import Block, Net, Pool, PoolExhausted, block, block_text, last, network, parse_block
from .ports import access_device, allocate_ports, port_demands
from .types import Origin

FAMILIES = ("ipv4", "ipv6")
PARALLEL_DEVICES = 5000  # below this a second process costs more than the second family
ORPHAN = Origin("lock", "orphan: its owner left the intent; release it to free the space")
# Where a value was asked for, resolved to a Location only when it is reported: a mapping and
# one of its keys (None: the mapping itself). Building 350,000 Locations up front costs seconds.
At = tuple[Map, "str | None"]


def from_lock(lock: Lock) -> Origin:
    """The origin of an address kept from the lock file (ports: ports.PORT_FROM_LOCK)."""
    return Origin("lock", lock.path.name if lock.path else "lock")


def where(at: At) -> Location:
    return at[0].where(at[1])


@dataclass
class Allocation:
    # lock key → network, as integers (pool.Block): `values` has them as ipaddress networks
    blocks: dict[str, Block] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)  # lock key → port number
    origins: dict[str, Origin] = field(default_factory=dict)
    new: list[str] = field(default_factory=list)  # keys allocated in this run
    orphans: list[str] = field(default_factory=list)  # locked keys no longer in the intent
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # the lock file's own text of values kept from it: writing 350,000 networks as text again
    # costs a second, and the text is what the lock holds anyway
    lock_text: dict[str, str] = field(default_factory=dict, repr=False)
    # (sha256 of a lock file's bytes, whether lock_entries() is exactly that file's): known
    # when the allocation came from the cache, so a lock file need not be parsed to tell
    known: tuple[str | None, bool] | None = field(default=None, repr=False)
    # (name, depth) of the allocation cache entry this one was loaded from or, an extension,
    # extends: it is then kept as that entry plus what it added (alloc_cache.store_relocked)
    entry: tuple[str, int] | None = field(default=None, repr=False)
    # an extension: the lock file holds exactly lock_entries() but for the new values
    extends_lock: bool = field(default=False, repr=False)

    @cached_property
    def values(self) -> dict[str, Net]:
        """lock key → network; made when first asked for (a build's main process never does)."""
        return {k: network(b) for k, b in self.blocks.items()}

    def get(self, key: str) -> Net | None:
        b = self.blocks.get(key)
        return None if b is None else network(b)

    def lock_entries(self) -> dict[str, str]:
        """What the lock file should hold now: every live value plus the unreleased orphans."""
        return dict(self._lock_entries)

    def entries_of(self, keys: list[str]) -> dict[str, str]:
        """lock_entries() of these keys only."""
        return self._texts(((k, self.blocks[k]) for k in keys if k in self.blocks),
                           ((k, self.ports[k]) for k in keys if k in self.ports))

    def _texts(self, blocks, ports) -> dict[str, str]:
        """Lock-file entries of (key, block) and (key, port) pairs."""
        text = self.lock_text
        out = {k: text.get(k) or block_text(b) for k, b in blocks}
        out.update((k, str(v)) for k, v in ports)
        return out

    def holds(self, lock: Lock) -> bool:
        """Whether the lock file holds exactly lock_entries() (nothing to record)."""
        if self.known is not None and lock.sha256 is not None and self.known[0] == lock.sha256:
            return self.known[1]
        if self.new:  # not in the lock file it was made from, by definition
            return False
        return self.holds_exactly(lock.entries)

    def holds_exactly(self, entries: dict[str, str]) -> bool:
        """Whether `entries` (a lock file's) are what lock_entries() gives, without making it:
        a value kept from the lock file is its own text there, so only the others are compared."""
        if len(entries) != len(self.blocks) + len(self.ports):
            return False
        text = self.lock_text
        return all(k in text or entries.get(k) == block_text(b) for k, b in self.blocks.items()) and \
            all(entries.get(k) == str(v) for k, v in self.ports.items())

    @cached_property
    def _lock_entries(self) -> dict[str, str]:  # asked for several times once allocation is done
        return self._texts(self.blocks.items(), self.ports.items())


@dataclass(frozen=True)
class Additions:
    """What an intent adds to the one an allocation was made for (alloc_cache.additions): by
    where each is in the intent now."""

    sites: frozenset[str]  # new sites' ids
    devices: frozenset[str]  # new devices' names (a new site's too)
    attachments: frozenset[tuple[int, int]]  # (department, attachment) positions


class Base(NamedTuple):
    """An allocation a lock file holds exactly, and what the intent adds to the one it was for."""

    allocation: Allocation
    additions: Additions


def link_keys(intent: Intent) -> list[tuple[str, Map, Map, Map]]:
    """(key, site, device, uplink) for every uplink; a second link between the same pair gets `#2`."""
    if "link_keys" not in intent.memo:  # allocation, ports and the resolver all walk them
        out, seen = [], {}
        for site, dev in intent.devices:
            for up in dev["uplinks"]:
                base = f"{dev['name']}~{up['peer']}"
                seen[base] = seen.get(base, 0) + 1
                out.append((base if seen[base] == 1 else f"{base}#{seen[base]}", site, dev, up))
        intent.memo["link_keys"] = out
    return intent.memo["link_keys"]  # type: ignore[return-value]


def lan_keys(intent: Intent) -> list[tuple[str, Map, Map, str]]:
    """(key, department, attachment, zone id) for every department LAN."""
    return [(lan_key(dept, a, zid), dept, a, zid) for dept in intent.departments for a in dept["attach"]
            for zid in intent.attachment_zones(dept, a)]


def lan_key(dept: Map, attach: Map, zone: str) -> str:
    return f"{dept['id']}@{attach['site']}/{zone}"


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
        # Orphans per address space: a LAN of a dedicated zone with its own block lives in that
        # zone's space only (zones may share a block), everything else in the national space.
        bits = 32 if fam == "ipv4" else 128
        zoned = {z["id"] for z in alloc.intent.zones if z.get(fam)}
        spaces: dict[str, list[Block]] = {}
        locked = alloc.locked
        orphans = (k for k in alloc.base.orphans if k.startswith(fam + "/")) if alloc.base is not None else \
            (k for k in locked if k.startswith(fam + "/") and k not in alloc.demanded)
        for k in orphans:
            b = locked[k]
            if b[2] == bits:
                parts = k.split("/")
                zone = parts[-1] if parts[1] == "lan" and len(parts) == 4 else None
                spaces.setdefault(f"zone:{zone}" if zone in zoned else "national", []).append(b)
        self.orphans = {s: sorted(bs) for s, bs in spaces.items()}  # by first address, outer blocks first
        self.orphan_starts = {s: [b[0] for b in bs] for s, bs in self.orphans.items()}
        self.national = Pool("national block", ipaddress.ip_network(plan["national"]))
        self.infra = {}
        for name in ("loopbacks", "links", "management"):
            net = ipaddress.ip_network(plan[name])
            self.national.reserve(net, f"{name} pool")
            self.infra[name] = Pool(f"{name} pool", net)
        self.site_pools: dict[str, Pool] = {}
        self.zone_pools: dict[str, Pool] = {}

    def reserve_orphans(self, p: Pool, space: str = "national") -> None:
        """Reserve the orphaned lock entries of `space` inside pool `p`. Called once the pool's
        live fixed (pinned and locked) blocks are reserved and before anything new is taken
        from it: an orphan inside a live block is left to that block's own pool (reserving it
        here would collide with the live block), every other orphan keeps its space."""
        orphans, starts = self.orphans.get(space), self.orphan_starts.get(space)
        if not orphans:
            return
        lo, hi = bisect_left(starts, p.first), bisect_right(starts, p.last)
        for orphan in orphans[lo:hi]:  # outer blocks sort before the blocks they contain
            if orphan != block(p.net) and p.holds(orphan) and p.owner_of_span(orphan[0], last(orphan)) is None:
                p.reserve_span(orphan[0], last(orphan), "an unreleased lock entry")


@dataclass
class _Scope:
    """What an extension opens in one family: the sites whose pools something new is taken from
    or carved out of, with the new sites themselves (`open`), those and the sites whose fixed
    pools they hold (`visit`), and whether the national block, infra pools and zone blocks are
    opened."""

    open: set[str]
    visit: set[str]
    national: bool
    infra: set[str]
    zones: bool


class Allocator:
    def __init__(self, intent: Intent, lock: Lock, base: Base | None = None):
        """`base`: an allocation whose lock entries are exactly `lock`'s, of an intent this one
        only adds to, and what it adds (alloc_cache.base); run() then extends it — taking over
        its dicts — or gives None where it cannot (leaving it as it was)."""
        self.intent, self.lock = intent, lock
        self.base, self.additions = base if base is not None else (None, None)
        self.out = Allocation()
        # lock key → its network; each family's read when it starts (an extension's: the base's)
        self.locked: dict[str, Block] = self.base.blocks if self.base is not None else {}
        self.demanded: set[str] = set()
        self.failed: set[str] = set()  # keys already reported, so one problem is reported once
        self.from_lock = from_lock(lock)
        self.from_pool: dict[Pool, Origin] = {}  # one Origin("allocated", …) per pool
        self.extends = True  # as an extension: whether the intent still asks for all the base holds

    def _read_lock(self, fam: str, keep: bool = True) -> None:
        """Parse the lock file's entries of one family (`keep`: for use, else only checked)."""
        prefix, text = fam + "/", self.out.lock_text
        for k, v in self.lock.entries.items():
            if not k.startswith(prefix):
                continue
            try:
                b = parse_block(v)
            except ValueError:
                self._diag("allocate.lock", f"lock entry `{k}` holds `{v}`, which is not a network",
                           Location(str(self.lock.path)), "restore the lock file from version control, or release "
                           "the entry")
                continue
            if keep:
                self.locked[k] = b
                text[k] = v

    def _diag(self, rule: str, msg: str, loc: Location, hint: str, related=()) -> None:
        self.out.diagnostics.append(Diagnostic(rule, Severity.ERROR, msg, loc, hint, tuple(related)))

    # -------------------------------------------------------------------- one value

    def _fixed(self, key: str, pinned: str | None, at: At) -> Block | None:
        """The pinned or locked value for key, checking they agree; None when it is new."""
        locked = self.locked.get(key)
        if pinned is not None:
            b = block(ipaddress.ip_network(pinned, strict=False))
            if locked is not None and locked != b:
                self.failed.add(key)
                self._diag("allocate.pin-lock", f"`{key}` is pinned to {network(b)} but the lock file holds "
                           f"{network(locked)}", where(at), f"to move it, run `netgen release {key}` and build again; "
                           f"or pin {network(locked)}")
            self.out.origins[key] = Origin("intent", str(where(at)))
            return b
        if locked is not None:
            self.out.origins[key] = self.from_lock
        return locked

    def _reserve(self, pool: Pool, key: str, b: Block, at: At) -> None:
        if not pool.holds(b):
            self.failed.add(key)
            self._diag("allocate.outside", f"`{key}` = {network(b)} is outside {pool.name} {pool.net}", where(at),
                       "pin a value inside the pool, or release the lock entry")
            return
        clash = pool.reserve_span(b[0], last(b), key)
        if clash is not None:
            self.failed.add(key)
            self._diag("allocate.conflict", f"`{key}` = {network(b)} collides with `{clash}` in {pool.name} "
                       f"{pool.net}", where(at), f"release one of them (`netgen release {key}`) or pin another value")
            return
        self.out.blocks[key] = b

    def _reserve_all(self, pool: Pool, items: list[tuple[str, Block, At]]) -> None:
        """_reserve each item, in order. Into an empty pool, when all fit and none overlaps (a
        lock file netgen wrote), that is one sort; otherwise one at a time, so that what is
        reported, and in which order, is the same."""
        if not self._reserve_sorted(pool, items):
            for item in items:
                self._reserve(pool, *item)

    def _reserve_sorted(self, pool: Pool, items: list[tuple[str, Block, At | None]]) -> bool:
        """_reserve_all's one sort; False (nothing done) when it does not apply."""
        if pool.starts or not items:
            return not pool.starts
        blocks = [b for _, b, _ in items]
        order = sorted(range(len(items)), key=[b[0] for b in blocks].__getitem__)
        starts = [blocks[i][0] for i in order]
        ends = [b[0] + (1 << (b[2] - b[1])) - 1 for b in map(blocks.__getitem__, order)]
        if starts[0] < pool.first or max(ends) > pool.last or any(b[2] != pool.bits for b in blocks) or \
                any(map(ge, ends, islice(starts, 1, None))):  # overlapping blocks
            return False
        pool.starts, pool.ends, pool.owners = starts, ends, [items[i][0] for i in order]
        self.out.blocks.update((key, b) for key, b, _ in items)
        return True

    def _new(self, pool: Pool, key: str, length: int, at: At, prefer: int | None = None) -> None:
        try:
            self.out.blocks[key] = block(pool.allocate(length, key, prefer))
        except PoolExhausted as exc:
            self.failed.add(key)
            self._diag("allocate.exhausted", f"cannot allocate a /{length} for `{key}`: {exc}", where(at),
                       "enlarge the pool (addressing / pool_length), pin a value elsewhere, or release "
                       "unused lock entries")
            return
        origin = self.from_pool.get(pool)
        if origin is None:
            origin = self.from_pool[pool] = Origin("allocated", f"{pool.name} {pool.net}")
        self.out.origins[key] = origin
        self.out.new.append(key)

    # -------------------------------------------------------------------- the whole network

    def run(self) -> Allocation | None:
        """Both families and the ports. The three share nothing: on a large network the second
        family is allocated in a forked copy of this process meanwhile (not an extension's: it
        costs less than the fork), and each part is merged in afterwards in the order a single
        process would have made it. As an extension of
        `base`: None when the intent no longer asks for something the base holds, or asks again
        for one of its orphans (only a full run turns values into orphans and back), or when
        anything is reported."""
        intent, base = self.intent, self.base
        fams = [f for f in FAMILIES if f in intent.network["addressing"]]
        links, lans = link_keys(intent), lan_keys(intent)
        if base is None:
            for fam in FAMILIES:
                if fam not in fams:
                    self._read_lock(fam, keep=False)
        other = InChild(lambda: self._family_part(fams[1], links, lans)) \
            if len(fams) == 2 and len(intent.devices) >= PARALLEL_DEVICES and cores() > 1 and base is None else None
        for fam in fams[:1] if other else fams:
            self._family(fam, links, lans)
        ports = Allocation()
        demands = port_demands(intent, links) if base is None else self._added_port_demands(links)
        if demands is None:
            self.extends = False
        elif self.extends:
            allocate_ports(intent, self.lock, ports, demands, base)
        if other is not None:
            parts, extends = other.result()
            self._merge(parts)
            self.extends &= extends
        self._merge(_parts(ports))
        if base is None:
            return self.out
        out = self.out
        if out.diagnostics or not self.extends:
            return None
        # the base's values with the new ones: its dicts, taken over (copying 350,000 entries costs)
        base.blocks.update(out.blocks)
        base.ports.update(out.ports)
        base.origins.update(out.origins)
        grown = Allocation(base.blocks, base.ports, base.origins, out.new, list(base.orphans), [], base.lock_text)
        grown.entry, grown.extends_lock = base.entry, True
        return grown

    def _family_part(self, fam: str, links, lans) -> tuple:
        """One family, in a process of its own: what it added to the allocation."""
        self._family(fam, links, lans)
        return _parts(self.out), self.extends

    def _merge(self, parts: tuple) -> None:
        blocks, ports, origins, new, orphans, diagnostics, lock_text = parts
        out = self.out
        out.blocks.update(blocks)
        out.ports.update(ports)
        out.origins.update(origins)
        out.new += new
        out.orphans += orphans
        out.diagnostics += diagnostics
        out.lock_text.update(lock_text)

    def _demand(self, f: str, links, lans) -> set[str]:
        """The lock keys of one family the intent asks for."""
        intent = self.intent
        return {*(f"{f}/pool/{s['id']}" for s in intent.sites), *(f"{f}/loopback/{d['name']}" for _, d in intent.devices),
                *(f"{f}/link/{k}" for k, *_ in links), *(f"{f}/lan/{k}" for k, *_ in lans)}

    def _added_demand(self, f: str, links) -> set[str]:
        """The lock keys of one family the additions ask for. The base's are all asked for still:
        a key is made of its own site's, device's or attachment's inputs only, and those of
        everything the base was made for are as they were (alloc_cache.additions)."""
        intent, add = self.intent, self.additions
        lans = ((intent.departments[i], intent.departments[i]["attach"][j]) for i, j in add.attachments)
        return {*(f"{f}/pool/{sid}" for sid in add.sites), *(f"{f}/loopback/{name}" for name in add.devices),
                *(f"{f}/link/{k}" for k, _, dev, _ in links if dev["name"] in add.devices),
                *(f"{f}/lan/{lan_key(dept, a, zid)}" for dept, a in lans for zid in intent.attachment_zones(dept, a))}

    def _added_port_demands(self, links) -> dict[str, list] | None:
        """port_demands of the devices the additions may give a new port (each with all it
        needs): their own, the peers of their uplinks, and the devices the new attachments
        plug into. None when an attachment the base was made for plugs into another device now
        (a CE added at its site) or the base's orphan port is asked for again: for the full
        run. The base's other ports are all asked for still (see _added_demand)."""
        intent, add = self.intent, self.additions
        devices = set(add.devices)
        devices.update(up["peer"] for _, _, dev, up in links if dev["name"] in add.devices)
        grown = {intent.device[name][0]["id"] for name in add.devices}  # sites with a device more
        for i, dept in enumerate(intent.departments):
            for j, a in enumerate(dept["attach"]):
                new = (i, j) in add.attachments
                if not new and a["site"] not in grown and a.get("device") not in add.devices:
                    continue  # plugs into what it did
                dev = access_device(intent, a)
                before = None if new else access_device(intent, a, add.devices)
                if before is not None and before is not dev:  # its port moves
                    return None
                if dev is not None:
                    devices.add(dev["name"])
        demands = port_demands(intent, links, devices)
        orphans = set(self.base.orphans)
        return None if any(key in orphans for wants in demands.values() for key, *_ in wants) else demands

    def _scope(self, f: str, new: set[str], lans, below: dict[str, list[Map]]) -> _Scope | None:
        """What extending the base allocates in family `f`, whose `new` keys it lacks (None: nothing)."""
        intent, sites = self.intent, self.intent.site
        if not new:
            return None
        head = len(f) + 1
        kinds = {k[head:k.index("/", head)] for k in new}
        new_sites = {k[head + 5:] for k in new if k.startswith("pool/", head)}
        zoned = {z["id"] for z in intent.zones if z.get(f)}
        new_lans = {(a["site"], zid) for k, _, a, zid in lans if f"{f}/lan/{k}" in new} if "lan" in kinds else set()
        top = {sid for sid in new_sites if sites[sid]["level"] in ("central", "province")}
        parents = {p["id"] for sid in new_sites - top if (p := intent.parent(sites[sid])) is not None}
        opened = parents | new_sites | {sid for sid, zid in new_lans if zid not in zoned}
        visit = opened | {c["id"] for sid in opened for c in below.get(sid, ())}
        if top:
            visit |= {s["id"] for s in intent.sites if s["level"] in ("central", "province")}
        return _Scope(opened, visit, bool(top), {f"{k}s" for k in kinds & {"loopback", "link"}},
                      any(zid in zoned for _, zid in new_lans))

    def _family(self, f: str, links, lans) -> None:
        """Every value of one family: pools top-down, loopbacks, links, LANs; then its orphans.
        Extending the base, only what its _scope names."""
        intent = self.intent
        if self.base is None:
            mine = self._demand(f, links, lans)
            self.demanded |= mine
            self._read_lock(f)
        else:
            mine = self._added_demand(f, links)
            if not mine.isdisjoint(self.base.orphans):  # an orphan asked for again
                self.extends = False
                return

        def rank(s: Map) -> tuple:
            return LEVEL_RANK[s["level"]], s["id"]

        # Sites below each site whose pool is carved from its pool, in (level, id) order (an
        # extension sorts only the sites it visits).
        by_level = sorted(intent.site.values(), key=rank) if self.base is None else list(intent.site.values())
        below: dict[str, list[Map]] = {}
        for s in by_level:
            if s["level"] not in ("central", "province") and s.get("parent"):
                below.setdefault(s["parent"], []).append(s)
        scope = self._scope(f, mine - self.locked.keys(), lans, below) if self.base is not None else None
        if scope is not None:
            by_level = sorted((intent.site[sid] for sid in scope.visit), key=rank)
            for sid in scope.open & below.keys():
                below[sid].sort(key=rank)
        if self.base is not None and scope is None:
            return
        fam = _Family(self, f)
        net_cfg = intent.network["addressing"]
        lengths = net_cfg["pool_length"][f]
        pinned_key = "prefixes" if f == "ipv4" else "prefixes6"
        for zone in intent.zones:  # dedicated zones with their own (department-planned) block
            if zone.get(f):
                fam.zone_pools[zone["id"]] = Pool(f"block of zone {zone['id']}", ipaddress.ip_network(zone[f]))
        # Each LAN once: (key, attachment, zone, pinned value, where); zone-block LANs apart.
        site_lans: dict[str, list] = {}
        zone_lans: list = []
        for lkey, _, a, zid in lans:
            pinned = (a.get(pinned_key) or {}).get(zid)
            item = (f"{f}/lan/{lkey}", a, zid, pinned, (a[pinned_key], zid) if pinned else (a, "site"))
            (zone_lans if zid in fam.zone_pools else site_lans.setdefault(a["site"], [])).append(item)

        # Site pools, top-down. Every fixed value goes into its pool before anything new is taken
        # from that pool: the national block gets the fixed centre and provinces first, and a
        # site's pool gets its children's fixed pools (of any level: a skip-level county sits
        # beside new cities), its fixed LANs and then the orphans inside it the moment it opens.
        # New pools are taken in (level, id) order. A pool nothing is reserved in or taken from
        # (most townships') is never made.
        fixed: dict[str, tuple] = {}
        for s in by_level if scope is None else (s for s in by_level if s["id"] in scope.visit):
            key = f"{f}/pool/{s['id']}"
            pinned = (s.get("prefix") or {}).get(f)
            at = (s["prefix"], f) if pinned else (s, None)
            value = self._fixed(key, pinned, at)
            if value is not None:
                fixed[s["id"]] = (key, value, at)
            if s["level"] in ("central", "province") and value is not None and (scope is None or scope.national):
                self._reserve(fam.national, key, value, at)
        if scope is None or scope.national:
            fam.reserve_orphans(fam.national)
        blocks = self.out.blocks
        for s in by_level if scope is None else (s for s in by_level if s["id"] in scope.open):
            sid = s["id"]
            key = f"{f}/pool/{sid}"
            if sid not in fixed:
                parent = self._parent_pool(fam, s)
                if parent is None:
                    continue
                length = (s.get("pool_length") or {}).get(f) or lengths[s["level"]]
                self._new(parent, key, length, (s, None), prefer=slot_of(s))
            # an extension opens a pool its parent's was not opened for: its fixed value stands
            value = blocks.get(key) or (fixed[sid][1] if scope is not None and sid in fixed else None)
            if value is None or (sid not in below and sid not in site_lans):
                continue
            pool = fam.site_pools[sid] = Pool(f"pool of site {sid}", network(value))
            self._reserve_all(pool, [fixed[c["id"]] for c in below.get(sid, ()) if c["id"] in fixed])
            for lan in site_lans.get(sid, ()):
                self._fixed_lan(pool, *lan)
            fam.reserve_orphans(pool)

        for name, kind in (("loopbacks", "loopback"), ("links", "link")):
            if scope is not None and name not in scope.infra:
                continue
            items = [(d["name"], d) for _, d in intent.devices] if kind == "loopback" else \
                [(k, up) for k, _, _, up in links]
            pool = fam.infra[name]
            pending, kept, held = [], [], []
            locked, origins, from_lock = self.locked, self.out.origins, self.from_lock
            if scope is not None:  # the base's values stand: only the others are looked at
                keys = [f"{f}/{kind}/{owner}" for owner, _ in items]
                held = [(key, locked[key], None) for key in keys if key in locked]
                items = [item for item, key in zip(items, keys) if key not in locked]
            for owner, node in items:
                key = f"{f}/{kind}/{owner}"
                if kind == "loopback":
                    pinned = (node.get("loopback") or {}).get(f)
                    at = (node["loopback"], f) if pinned else (node, "name")
                else:
                    pinned = node.get(f)
                    at = (node, f if pinned else "peer")
                if pinned is None:  # _fixed, for the 200,000 that are only locked
                    value = locked.get(key)
                    if value is not None:
                        origins[key] = from_lock
                else:
                    value = self._fixed(key, pinned, at)
                if value is None:
                    pending.append((key, at))
                else:
                    kept.append((key, value, at))
            if held:  # a clean allocation's values: one sort, or (never expected) the full run
                if not self._reserve_sorted(pool, held):
                    self.extends = False
                    return
                for item in kept:  # the new pins: a clash is reported, and the full run reports it again
                    self._reserve(pool, *item)
            else:
                self._reserve_all(pool, kept)
            fam.reserve_orphans(pool)
            length = fam.national.bits if kind == "loopback" else net_cfg["link_length"][f]
            for key, at in sorted(pending, key=lambda p: p[0]):
                self._new(pool, key, length, at)

        if scope is None or scope.zones:
            for key, a, zid, pinned, at in zone_lans:
                self._fixed_lan(fam.zone_pools[zid], key, a, zid, pinned, at)
            for zid, pool in fam.zone_pools.items():
                fam.reserve_orphans(pool, f"zone:{zid}")
        lan_length = net_cfg["lan_length"][f]
        locked = self.locked  # a locked LAN is in `blocks` now, or its pool failed
        new_lans = [lan for lans_ in (zone_lans, *site_lans.values()) for lan in lans_
                    if lan[0] not in blocks and lan[0] not in self.failed and lan[0] not in locked]
        for key, a, zid, _, at in sorted(new_lans, key=lambda lan: lan[0]):
            pool = fam.zone_pools[zid] if zid in fam.zone_pools else fam.site_pools.get(a["site"])
            if pool is not None:
                self._new(pool, key, lan_length[self.intent.site[a["site"]]["level"]], at)

        if scope is not None:  # the base's orphans are this allocation's (run() checked)
            return
        for k, b in self.locked.items():  # kept until released
            if k.startswith(f + "/") and k not in self.demanded:
                blocks[k] = b
                self.out.orphans.append(k)
                self.out.origins[k] = ORPHAN

    def _fixed_lan(self, pool: Pool, key: str, a: Map, zid: str, pinned: str | None, at: At) -> None:
        if key in self.out.blocks or key in self.failed:  # the same LAN asked for twice
            return
        value = self._fixed(key, pinned, at)
        if value is not None:
            self._reserve(pool, key, value, at)

    def _parent_pool(self, fam: _Family, site: Map) -> Pool | None:
        if site["level"] in ("central", "province"):
            return fam.national
        parent = self.intent.parent(site)
        return fam.site_pools.get(parent["id"]) if parent is not None else None


def _parts(a: Allocation) -> tuple:
    return a.blocks, a.ports, a.origins, a.new, a.orphans, a.diagnostics, a.lock_text


def allocate(intent: Intent, lock: Lock, cache: Cache | None = None) -> Allocation:
    """Every address and port of the network; with a cache, taken from it when the intent's
    allocation inputs and the lock file are ones already allocated, or extending the lock file's
    allocation when the intent only adds to it (alloc_cache.py)."""
    from . import alloc_cache

    name = alloc_cache.key(intent, lock) if cache is not None else None
    if name is not None:
        found = alloc_cache.load(cache, name, lock)
        if found is not None:
            return found
        base = alloc_cache.base(cache, intent, lock)
        extended = Allocator(intent, lock, base).run() if base is not None else None
        if extended is not None:
            if not extended.new:
                alloc_cache.store(cache, name, lock, extended, intent)
            return extended
    out = Allocator(intent, lock).run()
    if name is not None and not out.new:  # with new values the lock file changes: see store_relocked
        alloc_cache.store(cache, name, lock, out, intent)
    return out
