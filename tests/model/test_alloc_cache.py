"""The allocation cache gives exactly what allocating gives, and only when nothing allocation
reads has changed: its key covers every value the allocator reads (checked by recording them).
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from netgen.intent.cache import Cache
from netgen.intent.tree import Map, Seq
from netgen.intent.validate import validate
from netgen.model import alloc_cache, resolve
from netgen.model.lock import Lock

from .test_allocation_paths import state

allocate_mod = importlib.import_module("netgen.model.allocate")

# Every path of the allocator, on top of what the example has (site, loopback and LAN pins,
# zones with their own block, orphans below): pinned link addresses in both families and pinned
# ports, an attachment naming its device and narrowing its zones, a site's own pool length.
PATHS = [
    ("sites/jiangxi/nanchang.yaml", "transport: internet, ipsec: true}",
     'transport: internet, ipsec: true, ipv4: 10.254.99.0/31, ipv6: "fd00:e9:fffe:99::/127", port: GigabitEthernet0/2, peer_port: GigabitEthernet1/0/9}'),
    ("departments.yaml", "      - {site: jx-nc-ncx}\n",
     "      - {site: jx-nc-ncx, device: jx-nc-ncx-pe1, zones: [public]}\n"),
    ("sites/jiangxi/nanchang.yaml", "    prefix: {ipv4: 10.36.16.0/20}\n",
     "    prefix: {ipv4: 10.36.16.0/20}\n    pool_length: {ipv6: 46}\n"),
]


@pytest.fixture
def every_path(intent_dir):
    for rel, old, new in PATHS:
        intent_dir.replace(rel, old, new)
    intent_dir.path("netgen.lock").unlink()  # the example's lock holds other link addresses
    return intent_dir


def rename_a_site(intent_dir) -> None:
    """A township under a new id: its old entries are orphans, its new ones new."""
    intent_dir.replace("sites/guangxi/nanning.yaml", "  - id: gx-nn-la-cx", "  - id: gx-nn-la-cy")
    intent_dir.replace("sites/guangxi/nanning.yaml", "name: gx-nn-la-cx-ce1", "name: gx-nn-la-cy-ce1")
    intent_dir.replace("departments.yaml", "{site: gx-nn-la-cx}", "{site: gx-nn-la-cy}")


# ---------------------------------------------------------------------- the key covers every read


class _Reads:
    seen: set = set()


class RecMap(Map):
    """A Map noting each key read (`*`: all of them) and each location asked for."""

    __slots__ = ()

    def __getitem__(self, k):
        _Reads.seen.add((id(self), k))
        return dict.__getitem__(self, k)

    def get(self, k, default=None):
        _Reads.seen.add((id(self), k))
        return dict.get(self, k, default)

    def __contains__(self, k):
        _Reads.seen.add((id(self), k))
        return dict.__contains__(self, k)

    def _all(self):
        _Reads.seen.add((id(self), "*"))

    def __iter__(self):
        self._all()
        return dict.__iter__(self)

    def keys(self):
        self._all()
        return dict.keys(self)

    def values(self):
        self._all()
        return dict.values(self)

    def items(self):
        self._all()
        return dict.items(self)

    def __len__(self):
        self._all()
        return dict.__len__(self)

    def where(self, key=None, of="value"):
        _Reads.seen.add(("where", id(self), key, of))
        return Map.where(self, key, of)


class RecSeq(Seq):
    __slots__ = ()

    def _all(self):
        _Reads.seen.add((id(self), "*"))

    def __iter__(self):
        self._all()
        return list.__iter__(self)

    def __getitem__(self, i):
        self._all()
        return list.__getitem__(self, i)

    def __len__(self):
        self._all()
        return list.__len__(self)


def _record(value) -> None:
    """Make every Map and Seq below `value` note what is read from it."""
    if isinstance(value, Map):
        for v in dict.values(value):
            _record(v)
        value.__class__ = RecMap
    elif isinstance(value, Seq):
        for v in list.__iter__(value):
            _record(v)
        value.__class__ = RecSeq


def _reads(fn) -> set:
    _Reads.seen = set()
    fn()
    return _Reads.seen


def _uncovered(allocator: set, key: set) -> list:
    """What the allocator read that the key did not (a whole mapping read covers its keys)."""
    return sorted((r for r in allocator if r not in key and not (r[0] != "where" and (r[0], "*") in key)), key=str)


@pytest.mark.parametrize("lock", ["no lock file", "locked, with orphans"])
def test_the_key_reads_everything_the_allocator_reads(every_path, lock):
    root = every_path.root
    assert resolve(root).ok
    if lock != "no lock file":
        resolve(root).write_lock()
        rename_a_site(every_path)
    res = resolve(root, model=False)
    assert res.ok, [str(d) for d in res.diagnostics]
    intent = res.intent
    assert len(intent.devices) < allocate_mod.PARALLEL_DEVICES  # both families in this process: all recorded
    intent.memo.clear()  # the link keys, made again while recording
    for m in (intent.network, *intent.zones, *intent.departments, *intent.sites):
        _record(m)
    lock_ = Lock.read(root)
    allocator = _reads(lambda: allocate_mod.Allocator(intent, lock_).run())
    key = _reads(lambda: alloc_cache.inputs(intent))
    assert len(allocator) > 500 and any(r[0] == "where" for r in allocator)  # the pins' origins name them
    assert _uncovered(allocator, key) == []
    alloc = allocate_mod.Allocator(intent, lock_).run()
    assert not alloc.diagnostics
    if lock != "no lock file":
        assert alloc.orphans and alloc.new


def test_a_read_the_key_misses_is_caught(every_path, monkeypatch):
    """The guard above fails when the key leaves out something allocation reads."""
    intent = resolve(every_path.root, model=False).intent
    intent.memo.clear()
    for m in (intent.network, *intent.zones, *intent.departments, *intent.sites):
        _record(m)
    monkeypatch.setattr(alloc_cache, "_uplink", lambda intent, model, up: up.get("ipv4"))  # forgets peers, ports, speeds, IPv6
    allocator = _reads(lambda: allocate_mod.Allocator(intent, Lock.read(every_path.root)).run())
    missed = _uncovered(allocator, _reads(lambda: alloc_cache.inputs(intent)))
    names = {r[2] if r[0] == "where" else r[1] for r in missed}
    assert {"peer", "port", "peer_port", "ipv6", "bandwidth"} <= names and \
        names <= {"peer", "port", "peer_port", "ipv4", "ipv6", "bandwidth"}


# ---------------------------------------------------------------------- hits, misses, equality


def _allocate(root: Path, cache: Cache):
    v = validate(root)
    assert v.ok
    return allocate_mod.allocate(v.intent, Lock.read(root, lazy=True), cache)


def test_a_cached_allocation_is_the_allocation(every_path, tmp_path, monkeypatch):
    root, cache = every_path.root, Cache(tmp_path / "cache")
    resolve(root).write_lock()
    rename_a_site(every_path)  # its lock entries become orphans
    assert _allocate(root, cache).new and not (cache.dir / alloc_cache.KIND).exists()  # the lock file will change
    resolve(root).write_lock()
    first = _allocate(root, cache)
    assert first.orphans and not first.new
    monkeypatch.setattr(allocate_mod.Allocator, "run", lambda self: pytest.fail("allocated again"))
    again = _allocate(root, cache)
    assert state(again) == state(first)
    assert again.holds(Lock.read(root, lazy=True))


def test_an_edit_allocation_does_not_read_is_a_hit_and_one_it_reads_a_miss(every_path, tmp_path, monkeypatch):
    root, cache = every_path.root, Cache(tmp_path / "cache")
    resolve(root).write_lock()
    _allocate(root, cache)
    runs = []
    real = allocate_mod.Allocator.run
    monkeypatch.setattr(allocate_mod.Allocator, "run", lambda self: runs.append(1) or real(self))
    nanchang = "sites/jiangxi/nanchang.yaml"
    # not read by allocation: a bandwidth that takes the same port speed (10G ports), a site's name
    every_path.replace(nanchang, "{peer: jx-pe1, bandwidth: 10G,", "{peer: jx-pe1, bandwidth: 5G,")
    every_path.replace(nanchang, "name: 南昌市", "name: 南昌")
    assert _allocate(root, cache) is not None and runs == []
    # read: a pin moving down a line (its origin names the line), a port, a peer, a bandwidth that
    # needs ports of another speed, the lock file
    for rel, old, new in [
        (nanchang, "{peer: jx-pe1, bandwidth: 5G,", "{peer: jx-pe1, bandwidth: 1G,"),
        (nanchang, "    prefix: {ipv4: 10.36.16.0/20}\n", "    # moved\n    prefix: {ipv4: 10.36.16.0/20}\n"),
        (nanchang, "port: GigabitEthernet0/2, peer_port: GigabitEthernet1/0/9", "port: GigabitEthernet0/1, peer_port: GigabitEthernet1/0/9"),
        ("departments.yaml", "device: jx-nc-ncx-pe1, ", ""),
    ]:
        before = len(runs)
        every_path.replace(rel, old, new)
        fresh = allocate_mod.Allocator(validate(root).intent, Lock.read(root)).run()
        assert state(_allocate(root, cache)) == state(fresh)
        assert len(runs) == before + 2, f"{old!r} → {new!r} was not a miss"
    lock = json.loads(every_path.read("netgen.lock"))
    lock["allocations"]["ipv4/loopback/jx-pe2"] = "10.255.99.99/32"
    every_path.write("netgen.lock", json.dumps(lock))
    before = len(runs)
    assert str(_allocate(root, cache).get("ipv4/loopback/jx-pe2")) == "10.255.99.99/32"
    assert len(runs) == before + 1


def test_a_damaged_entry_or_a_failed_allocation_is_never_used(every_path, tmp_path):
    root, cache = every_path.root, Cache(tmp_path / "cache")
    resolve(root).write_lock()
    first = _allocate(root, cache)
    for entry in (cache.dir / alloc_cache.KIND).iterdir():
        entry.write_bytes(entry.read_bytes()[:100])
    assert state(_allocate(root, cache)) == state(first)
    lock = json.loads(json.dumps({"format": 1, "allocations": {"ipv4/loopback/jx-pe2": "10.255.36.1/32"}}))
    every_path.write("netgen.lock", json.dumps(lock))  # collides with jx-pe1's pinned loopback
    for _ in range(2):
        bad = _allocate(root, cache)
        assert [d.rule for d in bad.diagnostics] == ["allocate.conflict"]


def test_a_warm_build_parses_no_lock_file(intent_dir, tmp_path, monkeypatch):
    """With the allocation cached, the lock file is only digested: `netgen build` neither
    parses nor rewrites it, and still notices when it must be written."""
    cache = Cache(tmp_path / "cache")
    resolve(intent_dir.root, cache=cache).write_lock()
    assert resolve(intent_dir.root, cache=cache, model=False).write_lock() is False
    parse = importlib.import_module("netgen.model.lock")._parse
    monkeypatch.setattr("netgen.model.lock._parse", lambda *a: pytest.fail("parsed"))
    res = resolve(intent_dir.root, cache=cache, model=False)
    assert res.ok and not res.lock_changed
    monkeypatch.setattr("netgen.model.lock._parse", parse)
    intent_dir.add_county()
    res = resolve(intent_dir.root, cache=cache, model=False)
    assert res.lock_changed and res.write_lock()
    assert "ipv4/loopback/jx-nc-xj-pe1" in Lock.read(intent_dir.root).entries


def test_after_the_lock_file_is_written_the_next_run_is_a_hit_and_the_same_as_allocating(every_path, tmp_path,
                                                                                         monkeypatch):
    root, cache = every_path.root, Cache(tmp_path / "cache")
    resolve(root).write_lock()
    rename_a_site(every_path)  # its lock entries become orphans
    every_path.add_county()  # new addresses in both families, new ports
    res = resolve(root, cache=cache, model=False)
    new = res.allocation.new
    assert any(k.startswith("port/") for k in new) and any(k.startswith("ipv6/") for k in new)
    assert res.allocation.orphans and res.write_lock()
    fresh = allocate_mod.Allocator(validate(root).intent, Lock.read(root)).run()
    monkeypatch.setattr(allocate_mod.Allocator, "run", lambda self: pytest.fail("allocated again"))
    monkeypatch.setattr("netgen.model.lock._parse", lambda *a: pytest.fail("parsed"))
    cached = _allocate(root, cache)
    assert cached.holds(Lock.read(root, lazy=True))
    monkeypatch.undo()
    assert (dict(cached.blocks), dict(cached.ports), dict(cached.origins), cached.new, cached.orphans,
            dict(cached.lock_text), cached.lock_entries()) == \
           (dict(fresh.blocks), dict(fresh.ports), dict(fresh.origins), fresh.new, fresh.orphans,
            dict(fresh.lock_text), fresh.lock_entries())
    assert fresh.new == [] and fresh.holds_exactly(Lock.read(root).entries)


# ---------------------------------------------------------------------- additions extend the lock file's allocation


def _spy_runs(monkeypatch) -> list:
    """Each Allocator.run from now on: True for an extension, False for a full allocation."""
    runs, real = [], allocate_mod.Allocator.run
    monkeypatch.setattr(allocate_mod.Allocator, "run", lambda self: runs.append(self.base is not None) or real(self))
    return runs


def _as_dicts(alloc) -> tuple:
    return (dict(alloc.blocks), dict(alloc.ports), dict(alloc.origins), alloc.new, alloc.orphans, alloc.diagnostics,
            alloc.lock_entries(), dict(alloc.lock_text))


@pytest.mark.parametrize("parallel", [False, True], ids=["one process", "full runs fork the second family"])
def test_an_addition_extends_the_lock_files_allocation(every_path, tmp_path, monkeypatch, parallel):
    """A new county (a PE, its uplink, a department's LANs and port) is allocated by extending
    the allocation the lock file was written from — the full allocator does not run — and the
    result is the full allocator's. Once the lock file is written, the extension is kept as the
    entry it extends plus what it added (up to DEPTH deep, then whole again), and the next run
    loads exactly what allocating again gives."""
    if parallel:
        monkeypatch.setattr(allocate_mod, "PARALLEL_DEVICES", 0)
        monkeypatch.setattr(allocate_mod, "cores", lambda: 2)
    root, cache = every_path.root, Cache(tmp_path / "cache")
    resolve(root, cache=cache).write_lock()
    rename_a_site(every_path)  # orphans in the base, to be respected
    resolve(root, cache=cache).write_lock()
    original = allocate_mod.Allocator.run
    for n in range(3):  # a county with a department on it, then townships below it
        if n == 0:
            every_path.add_county()
        else:
            every_path.write("sites/jiangxi/nanchang.yaml", every_path.read("sites/jiangxi/nanchang.yaml") + (
                f"\n  - id: jx-nc-xj-t{n}\n    name: 新镇{n}\n    level: township\n    code: {360112100 + n}\n"
                f"    parent: jx-nc-xj\n    devices:\n      - name: jx-nc-xj-t{n}-ce1\n        role: ce\n"
                f"        platform: h3c_comware\n        vendor: h3c\n        model: MSR2630\n"
                f"        uplinks:\n          - {{peer: jx-nc-xj-pe1, bandwidth: 100M}}\n"))
        runs = _spy_runs(monkeypatch)
        res = resolve(root, cache=cache, model=False)
        assert runs == [True] and res.allocation.new
        if n == 0:
            assert {k.split("/")[0] for k in res.allocation.new} == {"ipv4", "ipv6", "port"}
        assert _as_dicts(res.allocation) == _as_dicts(allocate_mod.Allocator(validate(root).intent,
                                                                             Lock.read(root)).run())
        assert res.write_lock() and not res.lock_changed and not res.write_lock()
        monkeypatch.setattr(allocate_mod.Allocator, "run", lambda self: pytest.fail("allocated again"))
        kept = _allocate(root, cache)
        monkeypatch.setattr(allocate_mod.Allocator, "run", original)
        assert _as_dicts(kept) == _as_dicts(allocate_mod.Allocator(validate(root).intent, Lock.read(root)).run())
        assert kept.entry[1] == (n + 1) % (alloc_cache.DEPTH + 1), "kept as an extension, or whole again"
    every_path.replace("sites/jiangxi/nanchang.yaml", "name: jx-nc-xj-t2-ce1", "name: jx-nc-xj-t2-ce9")
    runs = _spy_runs(monkeypatch)
    assert resolve(root, cache=cache, model=False).ok and runs == [False]  # a rename is no addition


def test_an_addition_with_pins_of_its_own_is_extended(every_path, tmp_path, monkeypatch):
    """A new township pinned to a free block of its county's pool, its uplink's ports and IPv4
    link pinned, and a department attached there: extended, and what the full allocator gives."""
    root, cache = every_path.root, Cache(tmp_path / "cache")
    resolve(root, cache=cache).write_lock()
    nanning = "sites/guangxi/nanning.yaml"
    every_path.write(nanning, every_path.read(nanning) + (
        "\n  - id: gx-nn-la-xx\n    name: 新镇\n    level: township\n    code: 450123199\n"
        "    parent: gx-nn-la\n    prefix: {ipv4: 10.45.23.160/27}\n    devices:\n      - name: gx-nn-la-xx-ce1\n"
        "        role: ce\n        platform: h3c_comware\n        vendor: h3c\n        model: MSR2630\n"
        "        uplinks:\n          - {peer: gx-nn-la-pe1, bandwidth: 100M, port: GigabitEthernet0/2, "
        "peer_port: GigabitEthernet0/0/10, "
        "ipv4: 10.254.99.10/31}\n"))
    every_path.replace("departments.yaml", "      - {site: gx-nn-la-cx}\n", "      - {site: gx-nn-la-cx}\n"
                       "      - {site: gx-nn-la-xx}\n")  # stats: the public zone only
    runs = _spy_runs(monkeypatch)
    res = resolve(root, cache=cache, model=False)
    assert res.ok and runs == [True]
    alloc = res.allocation
    assert str(alloc.get("ipv4/pool/gx-nn-la-xx")) == "10.45.23.160/27"
    assert alloc.ports["port/gx-nn-la-pe1/link:gx-nn-la-xx-ce1~gx-nn-la-pe1"] == "GigabitEthernet0/0/10"
    assert any(k.startswith("ipv4/lan/") and "@gx-nn-la-xx/" in k for k in alloc.new)
    assert _as_dicts(alloc) == _as_dicts(allocate_mod.Allocator(validate(root).intent, Lock.read(root)).run())


def test_the_additions_are_what_is_new(every_path, tmp_path):
    """A township with its CE, and a department attached there and (first in its list, so its
    other attachments move) at an existing site: the base names those, by where they are in the
    intent now, and the extension is what the full allocator gives."""
    root, cache = every_path.root, Cache(tmp_path / "cache")
    resolve(root, cache=cache).write_lock()
    every_path.write("sites/guangxi/nanning.yaml", every_path.read("sites/guangxi/nanning.yaml") + (
        "\n  - id: gx-nn-la-xx\n    name: 新镇\n    level: township\n    code: 450123199\n"
        "    parent: gx-nn-la\n    devices:\n      - name: gx-nn-la-xx-ce1\n        role: ce\n"
        "        platform: h3c_comware\n        vendor: h3c\n        model: MSR2630\n"
        "        uplinks:\n          - {peer: gx-nn-la-pe1, bandwidth: 100M}\n"))
    # stats (the public zone only) at the new township, and before its first attachment, at jx-nc
    text = every_path.read("departments.yaml").replace("      - {site: gx-nn-la-cx}\n", "      - {site: gx-nn-la-cx}\n"
                                                       "      - {site: gx-nn-la-xx}\n")
    text = text.replace("      - {site: jx-gqc}\n      - {site: gx-nn-la-cx}",
                        "      - {site: jx-nc}\n      - {site: jx-gqc}\n      - {site: gx-nn-la-cx}")
    every_path.write("departments.yaml", text)
    v = validate(root)
    assert v.ok, [f"{d.location}: {d.message}" for d in v.diagnostics]
    intent = v.intent
    found = alloc_cache.base(cache, intent, Lock.read(root))
    assert found is not None and found.allocation.known[1]
    added = found.additions
    assert added.sites == {"gx-nn-la-xx"} and added.devices == {"gx-nn-la-xx-ce1"}
    assert {(intent.departments[i]["id"], intent.departments[i]["attach"][j]["site"])
            for i, j in added.attachments} == {("stats", "gx-nn-la-xx"), ("stats", "jx-nc")}
    lock = Lock.read(root)
    assert _as_dicts(allocate_mod.Allocator(intent, lock, found).run()) == \
        _as_dicts(allocate_mod.Allocator(intent, lock).run())


def test_additions_compare_records_by_id_wherever_they_are():
    def dept(id_, *attach, zones=None):  # inputs()' department records and site records
        return id_, zones, None, None, attach

    def site(id_, *devices, code=0):
        return id_, "township", code, None, None, None, tuple((d, "ce", None, False, ()) for d in devices)

    plan = ((1,), (2,), (3,))
    old = (*plan, (dept("d", ("s1",), ("s2",)),), (site("a"), site("b", "b1")))
    assert alloc_cache.additions(old, old) == allocate_mod.Additions(frozenset(), frozenset(), frozenset())
    new = (*plan, (dept("e", ("s9",)), dept("d", ("s2",), ("s1",), ("s3",))),
           (site("c", "c1", "c2"), site("b", "b0", "b1"), site("a")))
    assert alloc_cache.additions(old, new) == allocate_mod.Additions(
        frozenset({"c"}), frozenset({"c1", "c2", "b0"}), frozenset({(0, 0), (1, 2)}))
    for changed in ((*plan[:2], (4,), *new[3:]),  # the plan
                    (*new[:4], new[4][:2]),  # a site gone
                    (*new[:4], (new[4][0], site("b", "b0", "b1", code=1), new[4][2])),  # a site changed
                    (*new[:4], (new[4][0], site("b", "b0"), new[4][2])),  # a device gone
                    (*plan, (new[3][0], dept("d", ("s2",), ("s3",))), new[4]),  # an attachment gone
                    (*plan, (new[3][0], dept("d", ("s2",), ("s1",), zones=("z",))), new[4])):  # a department changed
        assert alloc_cache.additions(old, changed) is None


@pytest.mark.parametrize("case", ["a CE takes over an attachment", "a new pin on an existing pool"])
def test_an_addition_the_extension_cannot_make_is_allocated_in_full(every_path, tmp_path, monkeypatch, case):
    """A CE added where an attachment had only a PE moves the attachment's port (the old one an
    orphan); a new site pinned onto an existing site's pool must be reported: both are left to
    the full allocator, whose result (and report) stands."""
    root, cache = every_path.root, Cache(tmp_path / "cache")
    resolve(root, cache=cache).write_lock()
    nanning = "sites/guangxi/nanning.yaml"
    if case == "a CE takes over an attachment":
        every_path.replace(nanning, "          - {peer: gx-nn-pe1, bandwidth: 1G, carrier: china-telecom}\n",
                           "          - {peer: gx-nn-pe1, bandwidth: 1G, carrier: china-telecom}\n"
                           "      - name: gx-nn-la-ce9\n        role: ce\n        platform: h3c_comware\n"
                           "        vendor: h3c\n        model: MSR2630\n"
                           "        uplinks:\n          - {peer: gx-nn-la-pe1, bandwidth: 100M}\n", count=1)
    else:
        taken = Lock.read(root).entries["ipv4/pool/gx-nn-la-cx"]
        every_path.write(nanning, every_path.read(nanning) + (
            f"\n  - id: gx-nn-la-xx\n    name: 新镇\n    level: township\n    code: 450123199\n"
            f"    parent: gx-nn-la\n    prefix: {{ipv4: {taken}}}\n    devices:\n      - name: gx-nn-la-xx-ce1\n"
            f"        role: ce\n        platform: h3c_comware\n        vendor: h3c\n        model: MSR2630\n"
            f"        uplinks:\n          - {{peer: gx-nn-la-pe1, bandwidth: 100M}}\n"))
    intent, lock = validate(root).intent, Lock.read(root)
    base = alloc_cache.base(cache, intent, lock)
    assert base is not None and allocate_mod.Allocator(intent, lock, base).run() is None
    fresh = allocate_mod.Allocator(intent, lock).run()
    assert _as_dicts(_allocate(root, cache)) == _as_dicts(fresh)
    if case == "a CE takes over an attachment":
        assert fresh.orphans == ["port/gx-nn-la-pe1/access:" + fresh.orphans[0].rsplit(":", 1)[1]]
    else:
        assert [d.rule for d in fresh.diagnostics] == ["allocate.conflict"]


def test_a_removal_is_no_addition(every_path, tmp_path):
    root, cache = every_path.root, Cache(tmp_path / "cache")
    resolve(root, cache=cache).write_lock()
    rename_a_site(every_path)
    intent = validate(root).intent
    assert alloc_cache.base(cache, intent, Lock.read(root)) is None
