"""The allocation cache: a national allocation taken from the cache when nothing it reads changed.

Allocation (allocate.py, ports.py) is a function of the lock file and of a small part of the
intent: the address plan, zones' blocks, the site tree and its codes, device names, roles and
models, uplinks' peers and the port speed their bandwidth takes, department attachments, and
every pinned value with where it was pinned (a pin's origin names its file:line). An everyday
edit — a bandwidth within the same port speed, a name, a description, a business system —
changes none of it, so the ~350,000 values of a national allocation, ~4 s
of CPU to derive, are loaded instead (~0.3 s).

`inputs()` is that part of the intent, read the way the allocator reads it. It must cover
every value the allocator reads: tests/model/test_alloc_cache.py runs the allocator on
intents that take each of its paths, records every value it reads, and fails on any one
`inputs()` does not read too. Only clean allocations are kept (a diagnostic names a location,
which is not an input), under a digest of the inputs, the lock file's bytes and netgen's code
(the cache's directory).

An addition (a township, a device, an attachment) does change the inputs. For it, the
allocation a lock file was written from is kept as that lock file's *base*, with its inputs:
when the intent now only adds to them (`additions`), the allocator extends the base instead of
allocating the whole network again (allocate.py).
"""
from __future__ import annotations

import marshal
from functools import lru_cache
from typing import Any

from ..hardware import mbps, profile
from ..intent.cache import Cache, digest
from ..intent.intent import Intent
from ..intent.tree import Map, plain
from .allocate import Additions, Allocation, Base, from_lock
from .lock import Lock
from .ports import PORT_FROM_LOCK
from .types import Origin

KIND = "allocation"
BASE = "allocation-base"  # lock file → the allocation it holds exactly, and its intent's inputs
KEEP = 6  # entries kept (a whole one is ~50 MB at national scale): the last few intents and locks built
# Extensions kept on top of one another before one is kept whole again. An entry and those it
# builds on are the newest (loading touches them), and trim() keeps the KEEP // 2 newest.
DEPTH = KEEP // 2 - 1


def _pinned(m: Map, key: str) -> Any:
    """A mapping of pinned values (`prefix`, `loopback`, `prefixes`), each with where it is."""
    sub = m.get(key)
    return None if not sub else tuple((k, v, str(sub.where(k))) for k, v in sub.items())


@lru_cache(maxsize=4096)  # a few models × a few bandwidths, asked for 100,000 link ends
def _speed(model: str | None, bandwidth: str) -> int | None:
    """The port speed a link takes on a model (hardware.Profile.speed_for): what allocation
    reads of a bandwidth, so that an edit that keeps the speed keeps the cache."""
    prof = profile(model) if model is not None else None
    return None if prof is None else prof.speed_for(mbps(bandwidth))


def _uplink(intent: Intent, model: str, up: Map) -> tuple:
    v4, v6, port, peer_port = up.get("ipv4"), up.get("ipv6"), up.get("port"), up.get("peer_port")
    peer = intent.device.get(up["peer"])
    return (up["peer"], v4, v6, port, peer_port,
            str(up.where("ipv4")) if v4 else None, str(up.where("ipv6")) if v6 else None,
            str(up.where("port")) if port is not None else None,
            str(up.where("peer_port")) if peer_port is not None else None,
            _speed(model, up["bandwidth"]), _speed(peer[1]["model"] if peer else None, up["bandwidth"]))


def inputs(intent: Intent) -> tuple:
    """Everything allocation reads from the intent, as plain values."""
    net = intent.network
    return (
        plain(net["addressing"]), plain(net.get("access_classes")),
        tuple((z["id"], z["kind"], z.get("ipv4"), z.get("ipv6")) for z in intent.zones),
        tuple((d["id"], plain(d.get("zones")), d.get("class"), plain(d.get("dedicated")),
               tuple((a["site"], a.get("device"), plain(a.get("zones")), _pinned(a, "prefixes"),
                      _pinned(a, "prefixes6")) for a in d["attach"]))
              for d in intent.departments),
        tuple((s["id"], s["level"], s["code"], s.get("parent"), _pinned(s, "prefix"), plain(s.get("pool_length")),
               tuple((d["name"], d["role"], d["model"], _pinned(d, "loopback"), bool(d.get("internet")),
                      tuple(_uplink(intent, d["model"], u) for u in d["uplinks"])) for d in s["devices"]))
              for s in intent.sites),
    )


def additions(old: tuple, new: tuple) -> Additions | None:
    """What inputs `new` add to `old`, by where it is in the intent now: sites, devices, and
    (department, attachment) positions. None unless `new` is `old` plus sites, devices,
    departments or attachments, and nothing else changed: the plan, zones, and every site,
    device and department (but for its attachments) as they were."""
    if old[:3] != new[:3]:
        return None
    depts, sites = _added(old[3], new[3], 4), _added(old[4], new[4], 6)
    if depts is None or sites is None:
        return None

    def items(records: tuple, field: int, added: dict) -> set[tuple[int, int]]:
        return {(i, j) for i, which in added.items()
                for j in (range(len(records[i][field])) if which is None else which)}

    return Additions(frozenset(new[4][i][0] for i, which in sites.items() if which is None),
                     frozenset(new[4][i][6][j][0] for i, j in items(new[4], 6, sites)),
                     frozenset(items(new[3], 4, depts)))


def _added(old: tuple, new: tuple, field: int) -> dict[int, list[int] | None] | None:
    """Records of `new` (by position) that `old` lacks (None), or that have entries in their
    field `field` (the last) that `old`'s lacked (their positions); None unless every record of
    `old` (by its id, first) is in `new`, the same or with more entries in that field. marshal's
    bytes stand in for unhashable values."""
    position = {r[0]: i for i, r in enumerate(new)}
    out: dict[int, list[int] | None] = dict.fromkeys(range(len(new)))
    for r in old:
        i = position.get(r[0])
        if i is None:
            return None
        now = new[i]
        if now == r:
            del out[i]
            continue
        if now[:field] != r[:field]:
            return None
        had = {marshal.dumps(x, 0) for x in r[field]}
        entries = [marshal.dumps(x, 0) for x in now[field]]
        if not had <= set(entries):
            return None
        out[i] = [j for j, x in enumerate(entries) if x not in had]
    return out


def _inputs(intent: Intent) -> tuple | None:
    """inputs(), and their digest, made once per intent (None: not cacheable)."""
    if "alloc_inputs" not in intent.memo:  # asked for again when the lock file is written
        value = inputs(intent)
        try:
            body = marshal.dumps(value, 0)  # format 0: equal values, equal bytes
        except ValueError:  # a value marshal cannot write: allocate without the cache
            intent.memo["alloc_inputs"] = None
        else:
            intent.memo["alloc_inputs"] = value, digest(body)
    return intent.memo["alloc_inputs"]  # type: ignore[return-value]


def key(intent: Intent, lock: Lock) -> str | None:
    """The cache key of this intent's allocation with this lock file (None: not cacheable)."""
    made = _inputs(intent)
    body = None if made is None else made[1]
    if body is None or lock.sha256 is None:
        return None
    return digest(str(body), lock.sha256, from_lock(lock).detail)  # the lock file's name is in origins


def load(cache: Cache, name: str, lock: Lock) -> Allocation | None:
    found = _entry(cache, name, 0)
    if found is None:
        return None
    out, depth, holds = found
    out.known, out.entry = (lock.sha256, holds), (name, depth)
    return out


def _entry(cache: Cache, name: str, hops: int) -> tuple[Allocation, int, bool] | None:
    """An entry's allocation, how many extensions deep it is, and whether the lock file holds it."""
    blob = cache.read(KIND, name) if hops <= DEPTH else None
    if blob is None:
        return None
    cache.touch(KIND, name)  # in use: what extends it needs it
    try:
        body = marshal.loads(blob)
        if body[0] == "extends":  # the entry it extends, and what it added
            _, under, blocks, ports, origin_keys, which, origin_list, lock_text = body
            found = _entry(cache, under, hops + 1)
            if found is None:
                return None
            out, depth, _ = found
            out.blocks.update(blocks)
            out.ports.update(ports)
            out.origins.update(_origins(origin_keys, which, origin_list))
            out.lock_text.update(lock_text)
            return out, depth + 1, True
        return _from_columns(body), 0, body[-1]
    except (EOFError, ValueError, TypeError, IndexError):  # a damaged entry only costs an allocation
        return None


# A whole entry is kept as columns: the keys, their values, origins (each an index into the few
# hundred distinct ones) and lock-file texts. marshal writes a key met again as a reference, so
# this loads in two-thirds of the time three dicts of 350,000 keys each take.

def _columns(alloc: Allocation, holds: bool) -> tuple:
    keys, port_keys = list(alloc.blocks), list(alloc.ports)
    return ("whole", keys, list(alloc.blocks.values()), port_keys, list(alloc.ports.values()),
            *_indexed(alloc.origins), [alloc.lock_text.get(k) for k in keys], alloc.new, alloc.orphans, holds)


def _from_columns(body: tuple) -> Allocation:
    _, keys, blocks, port_keys, ports, origin_keys, which, origin_list, texts, new, orphans, _ = body
    lock_text = dict(zip(keys, texts)) if None not in texts else {k: t for k, t in zip(keys, texts) if t is not None}
    return Allocation(dict(zip(keys, blocks)), dict(zip(port_keys, ports)), _origins(origin_keys, which, origin_list),
                      new, orphans, [], lock_text)


def _indexed(origins: dict[str, Origin]) -> tuple[list[str], list[int], list]:
    """Origins as their keys, each key's index into the distinct ones, and those."""
    index: dict[Origin, int] = {}
    which = [index.setdefault(o, len(index)) for o in origins.values()]
    return list(origins), which, [(o.kind, o.detail) for o in index]


def _origins(keys: list[str], which: list[int], origin_list: list) -> dict[str, Origin]:
    kinds = [Origin(kind, detail) for kind, detail in origin_list]
    return dict(zip(keys, map(kinds.__getitem__, which)))


def store(cache: Cache, name: str, lock: Lock, alloc: Allocation, intent: Intent) -> None:
    """Keep a clean allocation (one with diagnostics is never reused); one the lock file holds
    exactly is also the lock file's base."""
    if alloc.diagnostics or lock.sha256 is None:
        return
    holds = alloc.holds(lock)
    cache.write(KIND, name, marshal.dumps(_columns(alloc, holds)))
    cache.trim(KIND, KEEP)
    if holds:
        _store_base(cache, name, lock, intent)


def _store_base(cache: Cache, name: str, lock: Lock, intent: Intent) -> None:
    """Entry `name` is what the lock file holds: the base of the intent's additions."""
    made = _inputs(intent)
    if made is not None:
        cache.write(BASE, _base_name(lock), marshal.dumps((name, made[0])))
        cache.trim(BASE, KEEP)


def _base_name(lock: Lock) -> str:
    return digest(str(lock.sha256), from_lock(lock).detail)


def base(cache: Cache, intent: Intent, lock: Lock) -> Base | None:
    """The allocation `lock` holds exactly, and what this intent adds to the one it was made
    for, when it only adds to it."""
    made = _inputs(intent)
    blob = cache.read(BASE, _base_name(lock)) if made is not None and lock.sha256 is not None else None
    if blob is None:
        return None
    try:
        name, old = marshal.loads(blob)
    except (EOFError, ValueError, TypeError):
        return None
    added = additions(old, made[0])
    if added is None:
        return None
    found = load(cache, name, lock)
    return Base(found, added) if found is not None and found.known == (lock.sha256, True) else None


def relocked(alloc: Allocation, lock: Lock) -> Allocation:
    """What allocating again gives once `lock` was written from `alloc`: the same values, the
    new ones now kept from the lock file (their origin says so), nothing new, and the lock
    file's text for every address (tests/model/test_alloc_cache.py compares it with allocating
    again)."""
    origins = {**alloc.origins, **_now_kept(alloc, lock)}
    text = {k: v for k, v in alloc.lock_entries().items() if not k.startswith("port/")}  # what `lock` holds
    out = Allocation(dict(alloc.blocks), dict(alloc.ports), origins, [], sorted(alloc.orphans), [], text)
    out.known = (lock.sha256, True)
    return out


def _now_kept(alloc: Allocation, lock: Lock) -> dict[str, Origin]:
    """The origins of `alloc`'s new values once `lock` was written from it."""
    address_from_lock = from_lock(lock)
    return {k: PORT_FROM_LOCK if k.startswith("port/") else address_from_lock for k in alloc.new}


def store_relocked(cache: Cache, intent: Intent, lock: Lock, alloc: Allocation) -> None:
    """Keep, for the lock file just written from `alloc`, what the next run would allocate."""
    name = key(intent, lock)
    if name is None or alloc.diagnostics or lock.sha256 is None:
        return
    if alloc.entry is None or alloc.entry[1] >= DEPTH or not alloc.new:
        store(cache, name, lock, relocked(alloc, lock), intent)
        return
    # an extension: the entry it extends, and what it added, now kept from the lock file
    added = [k for k in alloc.new if not k.startswith("port/")]
    body = ("extends", alloc.entry[0], {k: alloc.blocks[k] for k in added},
            {k: alloc.ports[k] for k in alloc.new if k.startswith("port/")}, *_indexed(_now_kept(alloc, lock)),
            alloc.entries_of(added))  # what `lock` holds for them
    cache.write(KIND, name, marshal.dumps(body))
    cache.trim(KIND, KEEP)
    _store_base(cache, name, lock, intent)
