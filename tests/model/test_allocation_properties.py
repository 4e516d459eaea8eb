"""Allocation over random hierarchies: no overlap, children inside parents, stable under change.

A strategy draws a site tree (provinces → cities → counties → townships with real-shaped
codes), writes it as an intent directory, and the properties are checked on what `resolve`
allocates — against the lock file exactly as an operator would use it.
"""
from __future__ import annotations

import ipaddress
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

import netgen
from netgen.model import resolve
from netgen.model.lock import Lock

NETWORK = """network:
  id: test
  name: test network
  asn: {scheme: per-province, base: 4200000000}
  addressing:
    ipv4: {national: 10.0.0.0/8, loopbacks: 10.255.0.0/16, links: 10.254.0.0/16, management: 10.253.0.0/16}
    ipv6: {national: "fd00:1::/32", loopbacks: "fd00:1:ffff::/48", links: "fd00:1:fffe::/48",
           management: "fd00:1:fffd::/48"}
  mlps: {central: 2, province: 2, city: 2, county: 2, township: 2, village: 2}
zones:
  - {id: public, name: 公用网络区, kind: public, vpn_id: 100}
"""

PROVINCES = [11, 12, 13, 36, 45, 51, 62]


def _device(name, role, uplinks, reflector=False):
    ups = ", ".join(f"{{peer: {p}, bandwidth: 1G}}" for p in uplinks)
    rr = ", reflector: true" if reflector else ""
    return (f"      - {{name: {name}, role: {role}{rr}, platform: huawei_vrp, vendor: huawei, model: NE40E, "
            f"uplinks: [{ups}]}}\n")


def _site(sid, level, code, parent, devices):
    parent_line = f"    parent: {parent}\n" if parent else ""
    return f"  - id: {sid}\n    name: {sid}\n    level: {level}\n    code: {code}\n{parent_line}    devices:\n{devices}"


def write_intent(root: Path, tree: list, attach: set[str], order: int = 1) -> list[str]:
    """Write the tree as one file per province; returns the site ids (leaves last)."""
    root.mkdir(parents=True, exist_ok=True)
    for f in root.glob("sites-*.yaml"):
        f.unlink()
    (root / "network.yaml").write_text(NETWORK, encoding="utf-8")
    central = _site("c", "central", 100000, None,
                    _device("c-pe1", "pe", [], True) + _device("c-pe2", "pe", [], True))
    (root / "sites-central.yaml").write_text("sites:\n" + central, encoding="utf-8")
    ids = ["c"]
    for prov, cities in tree:
        p = f"p{prov}"
        blocks = [_site(p, "province", prov * 10000, "c", _device(f"{p}-pe1", "pe", ["c-pe1"], True)
                        + _device(f"{p}-pe2", "pe", ["c-pe2", f"{p}-pe1"], True))]
        ids.append(p)
        for city, counties in cities:
            cid, ccode = f"{p}-{city}", prov * 10000 + city * 100
            blocks.append(_site(cid, "city", ccode, p, _device(f"{cid}-pe1", "pe", [f"{p}-pe1"])))
            ids.append(cid)
            for county, towns in counties:
                kid = f"{cid}-{county}"
                blocks.append(_site(kid, "county", ccode + county, cid, _device(f"{kid}-pe1", "pe", [f"{cid}-pe1"])))
                ids.append(kid)
                for town in towns:
                    tid = f"{kid}-{town}"
                    blocks.append(_site(tid, "township", (ccode + county) * 1000 + town, kid,
                                        _device(f"{tid}-ce1", "ce", [f"{kid}-pe1"])))
                    ids.append(tid)
        (root / f"sites-{p}.yaml").write_text("sites:\n" + "".join(blocks[::order]), encoding="utf-8")
    live = [s for s in sorted(attach) if s in ids]
    if live:
        rows = "".join(f"      - {{site: {s}}}\n" for s in live)
        (root / "departments.yaml").write_text(f"departments:\n  - id: d1\n    name: 部门\n    class: A\n    attach:\n"
                                               f"{rows}", encoding="utf-8")
    elif (root / "departments.yaml").exists():
        (root / "departments.yaml").unlink()
    return ids


def write_with_attachments(root: Path, tree: list, bits: int) -> tuple[list[str], set[str]]:
    """Write the tree with department d1 attached at the sites the bits select."""
    ids = write_intent(root, tree, set())
    attach = {s for i, s in enumerate(ids) if bits >> (i % 16) & 1}
    write_intent(root, tree, attach)
    return ids, attach


towns = st.lists(st.integers(100, 130), max_size=2, unique=True)
counties = st.lists(st.tuples(st.integers(1, 40), towns), max_size=3, unique_by=lambda t: t[0])
cities = st.lists(st.tuples(st.integers(1, 20), counties), min_size=1, max_size=3, unique_by=lambda t: t[0])
trees = st.lists(st.tuples(st.sampled_from(PROVINCES), cities), min_size=1, max_size=3, unique_by=lambda t: t[0])
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _nets(alloc, kind):
    return {k: v for k, v in alloc.values.items() if k.split("/")[1] == kind}


def check_invariants(res):
    alloc, intent = res.allocation, res.intent
    pools = _nets(alloc, "pool")
    for key, net in pools.items():
        fam, _, sid = key.split("/")
        parents = [a for a in intent.ancestors(intent.site[sid]) if a["level"] != "central"]
        outer = pools[f"{fam}/pool/{parents[0]['id']}"] if parents else \
            ipaddress.ip_network(intent.network["addressing"][fam]["national"])
        assert net.subnet_of(outer), f"{key} {net} not inside {outer}"
    items = sorted(pools.items())
    for i, (k1, n1) in enumerate(items):
        for k2, n2 in items[i + 1:]:
            if n1.version != n2.version or not n1.overlaps(n2):
                continue
            s1, s2 = k1.split("/")[2], k2.split("/")[2]
            anc1 = {a["id"] for a in intent.ancestors(intent.site[s1])}
            anc2 = {a["id"] for a in intent.ancestors(intent.site[s2])}
            assert s1 in anc2 or s2 in anc1, f"{k1} {n1} overlaps unrelated {k2} {n2}"
    for kind in ("loopback", "link", "lan"):
        nets = sorted(_nets(alloc, kind).values(), key=lambda n: (n.version, int(n.network_address)))
        for a, b in zip(nets, nets[1:]):
            assert a.version != b.version or not a.overlaps(b), f"{kind}s {a} and {b} overlap"
    for key, net in _nets(alloc, "lan").items():
        fam, _, owner = key.split("/", 2)
        site = owner.split("@")[1].split("/")[0]
        assert net.subnet_of(pools[f"{fam}/pool/{site}"])


@SETTINGS
@given(tree=trees, attach_bits=st.integers(0, 2 ** 16))
def test_allocations_never_overlap_and_nest_in_their_parents(tree, attach_bits):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "intent"
        _, attach = write_with_attachments(root, tree, attach_bits)
        res = resolve(root)
        assert res.ok, [str(d.location) + " " + d.message for d in res.diagnostics]
        check_invariants(res)


@SETTINGS
@given(tree=trees, new_town=st.integers(131, 199), attach_bits=st.integers(0, 2 ** 16))
def test_insert_delete_reorder_leave_every_other_allocation_alone(tree, new_town, attach_bits):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "intent"
        ids, attach = write_with_attachments(root, tree, attach_bits)
        first = resolve(root)
        assert first.ok
        first.write_lock()
        before = dict(Lock.read(root).entries)

        # determinism and round trip: same intent + lock → same lock text, same model
        again = resolve(root)
        assert not again.lock_changed and repr(again.network.devices) == repr(first.network.devices)
        assert Lock(dict(reversed(list(before.items())))).dumps() == Lock(before).dumps()

        # reorder sites within their files: nothing changes
        write_intent(root, tree, attach, order=-1)
        assert resolve(root).allocation.lock_entries() == before

        # insert a township under the first county (or a county under the first city)
        prov, cities_ = tree[0]
        city, counties_ = cities_[0]
        grown = [(prov, [(city, counties_ + [(41, [])] if not counties_ else
                          [(counties_[0][0], counties_[0][1] + [new_town])] + counties_[1:])] + cities_[1:])] + tree[1:]
        write_intent(root, grown, attach)
        res = resolve(root)
        assert res.ok, [d.message for d in res.diagnostics]
        after = res.allocation.lock_entries()
        assert all(after[k] == v for k, v in before.items()), "an existing allocation moved"
        check_invariants(res)

        # delete the last site (a leaf): its entries stay reserved as orphans
        leaf = ids[-1]
        shrunk_ids = write_intent(root, tree, attach - {leaf})
        if leaf in shrunk_ids:  # the tree could not lose it (e.g. only the province): nothing to check
            return
        res = resolve(root)
        assert res.ok
        assert all(res.allocation.lock_entries()[k] == v for k, v in before.items())
        assert f"ipv4/pool/{leaf}" in res.allocation.orphans


def test_a_removed_sites_space_is_not_reused_until_released(tmp_path):
    root = tmp_path / "intent"
    tree = [(36, [(1, [(21, [100, 101])])])]
    write_intent(root, tree, set())
    res = resolve(root)
    res.write_lock()
    gone = Lock.read(root).entries["ipv4/pool/p36-1-21-101"]
    write_intent(root, [(36, [(1, [(21, [100])])])], set())  # township 101 removed
    res = resolve(root)
    res.write_lock()
    assert "ipv4/pool/p36-1-21-101" in res.allocation.orphans
    write_intent(root, [(36, [(1, [(21, [100, 109])])])], set())  # 109 prefers the same slot (109 % 8 == 101 % 8)
    res = resolve(root)
    assert res.allocation.lock_entries()["ipv4/pool/p36-1-21-109"] != gone
    lock = Lock.read(root)
    assert lock.release(["p36-1-21-101"]) and (lock.write() or True)
    res = resolve(root)
    assert res.allocation.lock_entries()["ipv4/pool/p36-1-21-109"] == gone


def test_exhausted_pool_names_the_pool_the_request_and_the_free_space(tmp_path):
    root = tmp_path / "intent"
    write_intent(root, [(36, [(1, [(21, list(range(100, 109)))])])], set())  # 9 townships, 8 slots of /27 in a /24
    res = resolve(root)
    found = [d for d in res.diagnostics if d.rule == "allocate.exhausted"]
    assert found, [d.message for d in res.diagnostics]
    msg = found[0].message
    assert "/27" in msg and "pool of site p36-1-21" in msg and "full" in msg
    assert found[0].location.file.endswith("sites-p36.yaml") and found[0].location.line > 0


def test_generated_intent_is_valid(tmp_path):
    write_intent(tmp_path / "i", [(36, [(1, [(21, [100])])]), (45, [(1, [])])], {"p36-1-21-100", "p45"})
    assert netgen.validate(tmp_path / "i").diagnostics == []
    shutil.rmtree(tmp_path / "i")
