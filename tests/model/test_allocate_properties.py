"""Allocation over random hierarchies (hypothesis).

A strategy draws a valid intent — a centre and 1–4 provinces with reflector pairs, cities,
counties (some administered directly by the province, `skip_level`), townships with GB/T 2260
shaped codes, one or two uplinks per device, four departments over the public and office zones
and three dedicated zones (two sharing one department-planned block, one without a block) — and
writes it as an intent directory in the real format, one file per province and per city.
Properties, checked on what `resolve` allocates and records in the lock:

- nothing overlaps within one address space; child pools nest in their parent's pool (provinces
  in the national block: the central site's pool is nobody's parent); LANs nest in their
  site's pool or their dedicated zone's own block;
- adding, deleting, reordering and moving sites never changes another owner's value; a deleted
  site's entries stay reserved as orphans until released, and only then may be reused;
- the lock round-trips exactly and its text does not depend on insertion order; the same intent
  and lock give the same lock text and the same model.
"""
from __future__ import annotations

import copy
import dataclasses
import ipaddress
import itertools
import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings, strategies as st

import netgen
from netgen.intent.cache import Cache
from netgen.model import alloc_cache, resolve
from netgen.model.allocate import Allocator, allocate
from netgen.model.lock import LOCK_NAME, Lock

FAMS = ("ipv4", "ipv6")
LEVEL_LETTER = {"central": "z", "province": "p", "city": "c", "county": "k", "township": "t"}

POOL_LENGTH = {"ipv4": {"province": 16, "city": 20, "county": 24, "township": 27},
               "ipv6": {"province": 40, "city": 44, "county": 48, "township": 52}}
NETWORK = """network:
  id: prop
  name: property test network
  asn: {{scheme: per-province, base: 4200000000}}
  addressing:
    ipv4: {{national: 10.0.0.0/8, loopbacks: 10.255.0.0/16, links: 10.254.0.0/16, management: 10.253.0.0/16}}
    ipv6: {{national: "fd00:1::/32", loopbacks: "fd00:1:ff00::/40", links: "fd00:1:fe00::/40",
           management: "fd00:1:fd00::/40"}}
    pool_length:
      ipv4: {{central: 16, province: 16, city: {ipv4[city]}, county: {ipv4[county]}, township: {ipv4[township]}, village: 29}}
      ipv6: {{central: 40, province: 40, city: {ipv6[city]}, county: {ipv6[county]}, township: {ipv6[township]}, village: 56}}
    lan_length:
      ipv4: {{central: 24, province: 24, city: 25, county: 28, township: 30, village: 30}}
  mlps: {{central: 3, province: 3, city: 2, county: 2, township: 2, village: 2}}
""".format(**POOL_LENGTH)

ZONES = """zones:
  - {id: public, name: 公用网络区, kind: public, vpn_id: 100}
  - {id: office, name: 政府系统办公业务区, kind: office, vpn_id: 300}
  - {id: za, name: 专网甲, kind: dedicated, vpn_id: 1001, members: [d-a], ipv4: 172.20.0.0/16, ipv6: "fd20::/48"}
  - {id: zb, name: 专网乙, kind: dedicated, vpn_id: 1002, members: [d-b], ipv4: 172.20.0.0/16, ipv6: "fd20::/48"}
  - {id: zc, name: 专网丙, kind: dedicated, vpn_id: 1003, members: [d-c]}
"""

# department → its zones; each attaches at the centre (pinned, overlapping across za/zb) and
# at random sites
DEPARTMENTS = {"d-pub": ["public", "office"], "d-a": ["public", "za"], "d-b": ["zb"], "d-c": ["public", "zc"]}
CENTRE_PINS = {"d-a": "{za: 172.20.200.0/24}", "d-b": "{zb: 172.20.200.0/24}"}
PROVINCE_CODES = [11, 13, 32, 36, 44, 45, 51, 65]
# The same 20 cases in every run (a few seconds); raise max_examples to search more widely.
SETTINGS = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ====================================================================== the intent, as data


@dataclass
class Dev:
    name: str
    role: str
    uplinks: list[str]
    reflector: bool = False


@dataclass
class SiteSpec:
    id: str
    level: str
    code: int
    parent: str | None
    devices: list[Dev]
    skip: bool = False


@dataclass
class Plan:
    sites: dict[str, SiteSpec] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)  # file → site ids, in file order
    attach: dict[str, list[str]] = field(default_factory=dict)  # department → sites (centre first)

    def copy(self) -> "Plan":
        return copy.deepcopy(self)

    def children(self, sid: str) -> list[str]:
        return [s.id for s in self.sites.values() if s.parent == sid]

    def file_of(self, sid: str) -> str:
        return next(f for f, ids in self.files.items() if sid in ids)

    def devices(self, sid: str) -> list[str]:
        return [d.name for d in self.sites[sid].devices]

    # ------------------------------------------------------------------ editing

    def add(self, site: SiteSpec, file: str | None = None) -> None:
        self.sites[site.id] = site
        self.files.setdefault(file or self.file_of(site.parent), []).append(site.id)

    def remove(self, sid: str) -> None:
        assert not self.children(sid), "only a leaf can go"
        del self.sites[sid]
        f = self.file_of(sid)
        self.files[f].remove(sid)
        if not self.files[f]:
            del self.files[f]
        for sites in self.attach.values():
            if sid in sites:
                sites.remove(sid)

    # ------------------------------------------------------------------ writing

    def write(self, root: Path) -> None:
        """(Re)write the intent files; the lock file, if any, is left alone."""
        root.mkdir(parents=True, exist_ok=True)
        if (root / "sites").exists():
            shutil.rmtree(root / "sites")
        (root / "network.yaml").write_text(NETWORK, encoding="utf-8")
        (root / "zones.yaml").write_text(ZONES, encoding="utf-8")
        rows = ["departments:"]
        for dept, zones in DEPARTMENTS.items():
            rows += [f"  - id: {dept}", f"    name: 部门 {dept}", f"    zones: [{', '.join(zones)}]", "    attach:"]
            for sid in self.attach[dept]:
                pin = f", prefixes: {CENTRE_PINS[dept]}" if sid == "central" and dept in CENTRE_PINS else ""
                rows.append(f"      - {{site: {sid}{pin}}}")
        (root / "departments.yaml").write_text("\n".join(rows) + "\n", encoding="utf-8")
        for rel, ids in self.files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("sites:\n" + "".join(_site_yaml(self.sites[s]) for s in ids), encoding="utf-8")


def _site_yaml(s: SiteSpec) -> str:
    out = [f"  - id: {s.id}", f"    name: 站点 {s.id}", f"    level: {s.level}", f"    code: {s.code}"]
    if s.parent:
        out.append(f"    parent: {s.parent}")
    if s.skip:
        out.append("    skip_level: true")
    out.append("    devices:")
    for d in s.devices:
        out += [f"      - name: {d.name}", f"        role: {d.role}"]
        if d.reflector:
            out.append("        reflector: true")
        out += ["        platform: huawei_vrp", "        vendor: huawei", "        model: NE40E-X16A"]
        if d.uplinks:
            out.append("        uplinks:")
            out += [f"          - {{peer: {p}, bandwidth: 1G}}" for p in d.uplinks]
    return "\n".join(out) + "\n\n"


def site_id(level: str, code: int) -> str:
    return f"{LEVEL_LETTER[level]}{code}"


def make_site(draw, level: str, code: int, parent: SiteSpec, skip: bool = False) -> SiteSpec:
    """A site below `parent`: one or two devices (one CE at a township), each with one or two
    uplinks to distinct devices of the parent."""
    sid = site_id(level, code)
    n = 1 if level == "township" else draw(st.integers(1, 2))
    role = "ce" if level == "township" else "pe"
    parents = [d.name for d in parent.devices]
    devs = []
    for i in range(1, n + 1):
        k = draw(st.integers(1, min(2, len(parents))))
        ups = draw(st.permutations(parents))[:k]
        devs.append(Dev(f"{sid}-{role}{i}", role, list(ups)))
    return SiteSpec(sid, level, code, parent.id, devs, skip)


def province(code2: int) -> SiteSpec:
    sid = site_id("province", code2 * 10000)
    return SiteSpec(sid, "province", code2 * 10000, "central", [
        Dev(f"{sid}-pe1", "pe", ["central-pe1"], True),
        Dev(f"{sid}-pe2", "pe", ["central-pe2", f"{sid}-pe1"], True)])


@st.composite
def plans(draw) -> Plan:
    plan = Plan()
    central = SiteSpec("central", "central", 100000, None,
                       [Dev("central-pe1", "pe", [], True), Dev("central-pe2", "pe", [], True)])
    plan.add(central, "sites/central.yaml")
    for p2 in draw(st.lists(st.sampled_from(PROVINCE_CODES), min_size=1, max_size=4, unique=True)):
        prov = province(p2)
        pfile = f"sites/{prov.id}/province.yaml"
        plan.add(prov, pfile)
        for kk in draw(st.lists(st.integers(1, 99), max_size=1, unique=True)):  # 省直管县
            county = make_site(draw, "county", p2 * 10000 + 9000 + kk, prov, skip=True)
            plan.add(county, pfile)
            for t in draw(st.lists(st.integers(1, 199), max_size=2, unique=True)):
                plan.add(make_site(draw, "township", county.code * 1000 + t, county), pfile)
        for cc in draw(st.lists(st.integers(1, 20), max_size=3, unique=True)):
            city = make_site(draw, "city", p2 * 10000 + cc * 100, prov)
            cfile = f"sites/{prov.id}/{city.id}.yaml"
            plan.add(city, cfile)
            for kk in draw(st.lists(st.integers(1, 40), max_size=3, unique=True)):
                county = make_site(draw, "county", city.code + kk, city)
                plan.add(county, cfile)
                for t in draw(st.lists(st.integers(1, 199), max_size=3, unique=True)):
                    plan.add(make_site(draw, "township", county.code * 1000 + t, county), cfile)
    ids = sorted(plan.sites)
    for dept in DEPARTMENTS:
        extra = draw(st.lists(st.sampled_from(ids), max_size=4, unique=True))
        plan.attach[dept] = ["central", *sorted(s for s in extra if s != "central")]
    return plan


def new_site(draw, plan: Plan, like: SiteSpec | None = None) -> SiteSpec | None:
    """A new site somewhere in the plan (a township, county, city or province); `like` asks for a
    sibling of that (removed) site that prefers the same pool slot."""
    def used(code):
        return any(s.code == code for s in plan.sites.values())

    if like is not None:
        parent = plan.sites.get(like.parent)
        if parent is None or like.level not in CODE_UNIT or like.skip:
            return None
        step = same_slot_step(like.level)
        code = like.code + step
        while used(code) or (like.level == "township" and code % 1000 == 0):
            code += step
        if like.level == "township" and code // 1000 != like.code // 1000 or \
                like.level == "county" and code // 100 != like.code // 100 or \
                like.level == "city" and code // 10000 != like.code // 10000:
            return None  # the code would leave the parent's code range
        return make_site(draw, like.level, code, parent, like.skip)
    counties = sorted(s.id for s in plan.sites.values() if s.level == "county")
    cities = sorted(s.id for s in plan.sites.values() if s.level == "city")
    provinces = sorted(s.id for s in plan.sites.values() if s.level == "province")
    kinds = [k for k, pool in (("township", counties), ("county", cities), ("city", provinces)) if pool]
    kind = draw(st.sampled_from(kinds + ["province"]))
    if kind == "province":
        free = [c for c in PROVINCE_CODES if not used(c * 10000)]
        if not free:
            kind = "township" if counties else "city"
        else:
            return province(draw(st.sampled_from(free)))
    pool = {"township": counties, "county": cities, "city": provinces}[kind]
    parent = plan.sites[draw(st.sampled_from(pool))]
    for _ in range(50):
        if kind == "township":
            code = parent.code * 1000 + draw(st.integers(1, 999))
        elif kind == "county":
            code = parent.code + draw(st.integers(1, 99))
        else:
            code = parent.code + draw(st.integers(1, 89)) * 100
        if not used(code):
            return make_site(draw, kind, code, parent)
    return None


CODE_UNIT = {"city": 100, "county": 1, "township": 1}  # what one pool slot is in a site's code
PARENT_LEVEL = {"city": "province", "county": "city", "township": "county"}


def same_slot_step(level: str) -> int:
    """The code distance between siblings that prefer the same pool slot in both families.

    A site prefers slot `its digits % slots`, and the slot count differs per family (a county's
    /24 holds 8 township /27s, its /48 holds 16 /52s): only a multiple of both keeps the slot."""
    slots = math.lcm(*(2 ** (POOL_LENGTH[fam][level] - POOL_LENGTH[fam][PARENT_LEVEL[level]]) for fam in FAMS))
    return slots * CODE_UNIT[level]


def add_new(plan: Plan, site: SiteSpec) -> None:
    if site.level == "province":
        plan.add(site, f"sites/{site.id}/province.yaml")
    else:
        plan.add(site)


# ====================================================================== checks


def validated_resolution(root: Path, locked: bool = False):
    v = netgen.validate(root)
    assert v.ok and not v.diagnostics, "generated intent is invalid:\n" + "\n".join(
        f"{d.location}: {d.rule}: {d.message}" for d in v.diagnostics)
    res = resolve(root, locked=locked)
    assert res.ok, "\n".join(f"{d.location}: {d.rule}: {d.message}" for d in res.diagnostics)
    return res


def owned_by(key: str, site: str, devices: list[str]) -> bool:
    """Whether a lock key belongs to `site` or one of its devices (written independently of
    the lock module's own matching)."""
    parts = key.split("/")
    if parts[0] == "port":
        rest = "/".join(parts[2:])
        ends = rest[5:].split("#")[0].split("~") if rest.startswith("link:") else []
        return parts[1] in devices or any(d in ends for d in devices)
    fam, kind, owner = key.split("/", 2)
    if kind == "pool":
        return owner == site
    if kind == "lan":
        return owner.split("@")[1].split("/")[0] == site
    if kind == "loopback":
        return owner in devices
    return any(d in owner.split("#")[0].split("~") for d in devices)


def space_of(res, key: str) -> str:
    """The address space a lock key's value lives in: a dedicated zone's own block, or national."""
    fam, kind, owner = key.split("/", 2)
    if kind == "lan":
        zid = owner.rsplit("/", 1)[1]
        zone = res.intent.zone.get(zid)
        if zone is not None and zone.get(fam):
            return f"zone:{zid}"
    return "national"


def disjoint(blocks: list[tuple[str, ipaddress._BaseNetwork]], what: str) -> None:
    """No two blocks overlap (one sort, neighbours compared: CIDR blocks nest or are disjoint)."""
    items = sorted(blocks, key=lambda kv: (int(kv[1].network_address), -kv[1].prefixlen))
    for (k1, n1), (k2, n2) in zip(items, items[1:]):
        assert not n1.overlaps(n2), f"{what}: {k1} = {n1} overlaps {k2} = {n2}"


def check_allocation(res) -> None:
    """Every demanded value is allocated, and nothing overlaps that may not."""
    intent, alloc = res.intent, res.allocation
    orphans = set(alloc.orphans)
    live = {k: v for k, v in alloc.values.items() if k not in orphans}
    addressing = intent.network["addressing"]
    lan_keys = [(f"{d['id']}@{a['site']}/{z}", a["site"], z) for d in intent.departments for a in d["attach"]
                for z in intent.attachment_zones(d, a)]
    uplinks = [(dev["name"], up["peer"]) for _, dev in intent.devices for up in dev["uplinks"]]

    def pool_ancestors(sid):
        return {a["id"] for a in intent.ancestors(intent.site[sid]) if a["level"] != "central"}

    for fam in FAMS:
        plan = addressing[fam]
        national = ipaddress.ip_network(plan["national"])
        infra = {n: ipaddress.ip_network(plan[n]) for n in ("loopbacks", "links", "management")}
        pools = {sid: live[f"{fam}/pool/{sid}"] for sid in intent.site}
        for sid, net in pools.items():
            s = intent.site[sid]
            assert net.prefixlen == addressing["pool_length"][fam][s["level"]]
            outer = national if s["level"] in ("central", "province") else pools[s["parent"]]
            assert net.subnet_of(outer), f"{fam} pool of {sid} {net} is not inside {outer}"
            for name, block in infra.items():
                assert not net.overlaps(block), f"{fam} pool of {sid} {net} overlaps the {name} pool"
        for (a, na), (b, nb) in itertools.combinations(sorted(pools.items()), 2):
            if na.overlaps(nb):
                assert a in pool_ancestors(b) or b in pool_ancestors(a), f"{fam} pools of {a} {na} and {b} {nb}"
        centre = next(s["id"] for s in intent.sites if s["level"] == "central")
        for s in intent.sites:
            if s["level"] == "province":
                assert not pools[centre].overlaps(pools[s["id"]]), "the central pool holds only its own LANs"

        lans: dict[str, list] = {}
        for lk, sid, zid in lan_keys:
            key = f"{fam}/lan/{lk}"
            net = live[key]
            space = space_of(res, key)
            lans.setdefault(space, []).append((key, net))
            if space == "national":
                site = intent.site[sid]
                assert net.prefixlen == addressing["lan_length"][fam][site["level"]]
                assert net.subnet_of(pools[sid]), f"{key} {net} is not inside the pool of {sid} {pools[sid]}"
                for other, pnet in pools.items():  # not in a child's (or anybody else's) pool
                    if other != sid and other not in pool_ancestors(sid):
                        assert not net.overlaps(pnet), f"{key} {net} overlaps the pool of {other} {pnet}"
            else:
                assert net.subnet_of(ipaddress.ip_network(intent.zone[zid][fam])), (key, net)
        for space, items in lans.items():
            disjoint(items, f"{fam} LANs in {space}")

        loops = [(f"{fam}/loopback/{d['name']}", live[f"{fam}/loopback/{d['name']}"]) for _, d in intent.devices]
        assert all(n.prefixlen == national.max_prefixlen and n.subnet_of(infra["loopbacks"]) for _, n in loops)
        assert len({n for _, n in loops}) == len(loops), "loopbacks are unique"
        links = [(k, v) for k, v in live.items() if k.startswith(f"{fam}/link/")]
        assert len(links) == len(uplinks)
        assert all(n.prefixlen == addressing["link_length"][fam] and n.subnet_of(infra["links"]) for _, n in links)
        disjoint(links, f"{fam} links")

    # the model says the same: each site's pool, each link's two ends on its subnet
    net = res.network
    for sid, site in net.sites.items():
        assert site.pool4 == live[f"ipv4/pool/{sid}"] and site.pool6 == live[f"ipv6/pool/{sid}"]
    for link in net.links:
        a = next(i for i in net.devices[link.a].interfaces if i.port == link.a_port)
        b = next(i for i in net.devices[link.b].interfaces if i.port == link.b_port)
        assert {a.ipv4.ip, b.ipv4.ip} == set(link.ipv4) and {a.ipv6.ip, b.ipv6.ip} == set(link.ipv6)
    for dev in net.devices.values():  # ports on one device are distinct
        ports = [(i.port, i.vlan) for i in dev.interfaces]
        assert len(ports) == len(set(ports)), dev.name


def check_not_reusing(res, keys: set[str], reserved: dict[str, str]) -> None:
    """The values of `keys` overlap none of the `reserved` lock entries (addresses in the same
    space; port numbers on the same device)."""
    for key in keys:
        for rkey, rval in reserved.items():
            if key.startswith("port/") or rkey.startswith("port/"):
                if key.split("/")[:2] == rkey.split("/")[:2]:
                    assert res.allocation.ports[key] != rval, f"new {key} reuses unreleased port {rkey}"
                continue
            net, rnet = res.allocation.values[key], ipaddress.ip_network(rval)
            if rnet.version == net.version and space_of(res, rkey) == space_of(res, key):
                assert not net.overlaps(rnet), f"new {key} = {net} reuses unreleased {rkey} = {rnet}"


def lock_of(root: Path) -> dict[str, str]:
    return dict(Lock.read(root).entries)


def model_state(network, origins: bool = True):
    """The whole model as plain data (with or without where each value came from) and its repr."""
    state = dataclasses.asdict(network)
    if not origins:
        del state["origins"]
    return state, repr(network)


# ====================================================================== properties


@SETTINGS
@given(plan=plans(), order=st.randoms(use_true_random=False))
def test_fresh_allocation_is_disjoint_nested_deterministic_and_round_trips(plan, order):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "intent"
        plan.write(root)
        res = validated_resolution(root)
        check_allocation(res)
        pinned = {"ipv4/lan/d-a@central/za", "ipv4/lan/d-b@central/zb"}
        assert set(res.allocation.new) == set(res.allocation.lock_entries()) - pinned and not res.allocation.orphans

        # lock round trip: what is written is what is read, byte for byte whatever the order
        assert res.write_lock()
        entries = res.allocation.lock_entries()
        assert lock_of(root) == entries
        text = (root / LOCK_NAME).read_text(encoding="utf-8")
        shuffled = list(entries.items())
        order.shuffle(shuffled)
        assert Lock(dict(shuffled)).dumps() == text == Lock(lock_of(root)).dumps()

        # same intent + lock → the same lock text and the same model; nothing new, nothing written
        again = validated_resolution(root, locked=True)
        assert again.allocation.new == [] and not again.lock_changed and not again.write_lock()
        assert Lock(again.allocation.lock_entries()).dumps() == text
        # the values are those allocated; only their origin now says `lock` instead of `allocated`
        assert model_state(again.network, origins=False) == model_state(res.network, origins=False)
        assert {k: o.kind for k, o in again.network.origins.items()} == \
            {k: "lock" if o.kind == "allocated" else o.kind for k, o in res.network.origins.items()}
        third = resolve(root)
        assert model_state(third.network) == model_state(again.network)
        assert (root / LOCK_NAME).read_text(encoding="utf-8") == text


@SETTINGS
@given(plan=plans(), data=st.data())
def test_reordering_sites_and_moving_one_to_another_file_changes_nothing(plan, data):
    with tempfile.TemporaryDirectory() as tmp:
        root, fresh = Path(tmp) / "intent", Path(tmp) / "fresh"
        plan.write(root)
        first = validated_resolution(root)
        first.write_lock()
        before = lock_of(root)

        moved = plan.copy()
        for f in moved.files:
            moved.files[f] = data.draw(st.permutations(moved.files[f]), label=f"order of {f}")
        for dept in moved.attach:
            moved.attach[dept] = data.draw(st.permutations(moved.attach[dept]))
        candidates = sorted(s for s in moved.sites if s != "central")
        sid = data.draw(st.sampled_from(candidates), label="moved site")
        target = data.draw(st.sampled_from(sorted({*moved.files, "sites/moved/elsewhere.yaml"} - {moved.file_of(sid)})))
        moved.files[moved.file_of(sid)].remove(sid)
        moved.files = {f: ids for f, ids in moved.files.items() if ids}
        moved.files.setdefault(target, []).insert(data.draw(st.integers(0, len(moved.files.get(target, [])))), sid)
        moved.write(root)

        res = validated_resolution(root, locked=True)
        assert res.allocation.lock_entries() == before and res.allocation.new == []
        assert res.network == first.network and repr(res.network) == repr(first.network)

        # and a fresh plan does not depend on the order either
        moved.write(fresh)
        assert validated_resolution(fresh).allocation.lock_entries() == before


@SETTINGS
@given(plan=plans(), data=st.data())
def test_insert_delete_and_release_leave_every_other_allocation_alone(plan, data):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "intent"
        plan.write(root)
        validated_resolution(root).write_lock()
        l0 = lock_of(root)

        # (a) insert a new site somewhere: only its own values (and its uplink ports) are new
        event(f"sites: {len(plan.sites) // 10 * 10}+")
        grown = plan.copy()
        site = new_site(data.draw, grown)
        event(f"inserted: {site.level if site else None}")
        if site is not None:
            add_new(grown, site)
            grown.write(root)
            res = validated_resolution(root)
            now = res.allocation.lock_entries()
            assert {k: now[k] for k in l0} == l0, "an existing allocation moved"
            assert set(res.allocation.new) == {k for k in now if owned_by(k, site.id, grown.devices(site.id))}
            assert res.allocation.new and not res.allocation.orphans
            check_allocation(res)
            res.write_lock()
        l1 = lock_of(root)

        # (b) delete a leaf site (and its department attachments): nothing moves, its entries
        # stay in the lock as orphans
        leaves = sorted(s for s in grown.sites if s != "central" and not grown.children(s))
        leaf = data.draw(st.sampled_from(leaves), label="deleted leaf")
        gone_site, gone_devs = grown.sites[leaf], grown.devices(leaf)
        event(f"deleted: {gone_site.level}{' (skip_level)' if gone_site.skip else ''}")
        shrunk = grown.copy()
        shrunk.remove(leaf)
        if not any(s.level == "province" for s in shrunk.sites.values()):
            return  # the last province cannot go: a network of one centre is not what this tests
        shrunk.write(root)
        res = validated_resolution(root)
        assert res.allocation.lock_entries() == l1 and res.allocation.new == []
        owned = {k for k in l1 if owned_by(k, leaf, gone_devs)}
        assert owned and set(res.allocation.orphans) == owned
        check_allocation(res)
        assert not res.write_lock()  # orphans are kept: the lock is unchanged
        assert lock_of(root) == l1

        # (a') a new sibling that prefers the very slot the deleted site held does not get it
        # (nor anything else still reserved by an orphan)
        sibling = new_site(data.draw, shrunk, like=gone_site) or new_site(data.draw, shrunk)
        if sibling is not None and sibling.id == leaf:  # the deleted site back: its entries are live again
            sibling = None
        again = shrunk.copy()
        if sibling is not None:
            add_new(again, sibling)
            again.write(root)
            res = validated_resolution(root)
            now = res.allocation.lock_entries()
            assert {k: now[k] for k in l1} == l1
            check_allocation(res)
            check_not_reusing(res, set(res.allocation.new), {k: l1[k] for k in owned})
            res.write_lock()
        l3 = lock_of(root)

        # release the deleted site's entries (what `netgen release` does): exactly those go
        lock = Lock.read(root)
        assert set(lock.release([leaf, *gone_devs])) == owned
        lock.write()
        res = validated_resolution(root, locked=True)
        assert res.allocation.orphans == [] and res.allocation.new == []
        assert res.allocation.lock_entries() == {k: v for k, v in l3.items() if k not in owned}

        # (a'') now the space may be reused: a sibling preferring the same slot gets exactly it
        third = new_site(data.draw, again, like=gone_site)
        event(f"released space reused by a same-slot sibling: {third is not None}")
        if third is not None:
            add_new(again, third)
            again.write(root)
            res = validated_resolution(root)
            now = res.allocation.lock_entries()
            assert {k: now[k] for k in l3 if k not in owned} == {k: v for k, v in l3.items() if k not in owned}
            check_allocation(res)
            for fam in FAMS:
                assert now[f"{fam}/pool/{third.id}"] == l1[f"{fam}/pool/{leaf}"], f"released {fam} space is reused"


def allocation_state(alloc) -> tuple:
    """An allocation as comparable data (dicts compared as dicts; `new` and orphans in order)."""
    return (alloc.blocks, alloc.ports, alloc.origins, alloc.new, alloc.orphans, alloc.diagnostics,
            alloc.lock_entries())


@SETTINGS
@given(plan=plans(), data=st.data())
def test_an_addition_extends_the_allocation_exactly_as_allocating_again(plan, data):
    """Sites, new attachments (at new or existing sites) and, between additions, a deleted leaf
    (whose orphans the next extension must respect): each time, extending the allocation the
    lock file was written from gives exactly what allocating the whole network gives."""
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = Path(tmp) / "intent", Cache(Path(tmp) / "cache")
        plan.write(root)
        resolve(root, cache=cache).write_lock()  # the lock file's base is cached
        extended = 0
        for step in range(data.draw(st.integers(1, 3), label="steps")):
            if step and data.draw(st.booleans(), label="delete a leaf first"):
                leaves = sorted(s for s in plan.sites if plan.sites[s].level not in ("central", "province")
                                and not plan.children(s))
                if leaves:
                    plan.remove(data.draw(st.sampled_from(leaves), label="deleted leaf"))
                    plan.write(root)
                    assert not validated_resolution(root).write_lock()  # orphans: the lock stays
                    resolve(root, cache=cache)  # the allocation with orphans is the base now
            for _ in range(data.draw(st.integers(1, 3), label="new sites")):
                site = new_site(data.draw, plan)
                if site is not None and site.id not in plan.sites:
                    add_new(plan, site)
            for dept in data.draw(st.lists(st.sampled_from(sorted(DEPARTMENTS)), max_size=2, unique=True)):
                free = sorted(set(plan.sites) - set(plan.attach[dept]))
                if free:
                    plan.attach[dept].append(data.draw(st.sampled_from(free), label=f"{dept} attaches at"))
            plan.write(root)
            v = netgen.validate(root)
            assert v.ok and not v.diagnostics, [f"{d.location}: {d.message}" for d in v.diagnostics]
            intent, lock = v.intent, Lock.read(root)
            full = Allocator(intent, lock).run()
            # no base when a pin moved in its file (a department's, below a new attachment);
            # None from the extension when it cannot be one (tests/model/test_alloc_cache.py)
            base = alloc_cache.base(cache, intent, lock)
            grown = Allocator(intent, lock, base).run() if base is not None else None
            if grown is not None:
                extended += 1
                assert allocation_state(grown) == allocation_state(full)
            assert allocation_state(allocate(intent, lock, cache)) == allocation_state(full)
            if full.diagnostics:  # the additions exhausted a pool: reported as the full run reports it
                event("exhausted")
                break
            res = resolve(root, cache=cache)
            assert allocation_state(res.allocation) == allocation_state(full)
            res.write_lock()
        event(f"extended: {extended}")


def small_plan(towns: list[int]) -> tuple[Plan, SiteSpec]:
    """A centre, Hebei, one city and one county with the given township numbers (one CE each)."""
    plan = Plan()
    plan.add(SiteSpec("central", "central", 100000, None,
                      [Dev("central-pe1", "pe", [], True), Dev("central-pe2", "pe", [], True)]), "sites/central.yaml")
    prov = province(13)
    plan.add(prov, "sites/p130000/province.yaml")
    plan.add(SiteSpec("c130700", "city", 130700, prov.id, [Dev("c130700-pe1", "pe", [f"{prov.id}-pe1"])]),
             "sites/p130000/c130700.yaml")
    county = SiteSpec("k130723", "county", 130723, "c130700", [Dev("k130723-pe1", "pe", ["c130700-pe1"])])
    plan.add(county)
    for t in towns:
        add_township(plan, county, t)
    plan.attach = {d: ["central"] for d in DEPARTMENTS}
    return plan, county


def add_township(plan: Plan, county: SiteSpec, number: int) -> str:
    code = county.code * 1000 + number
    plan.add(SiteSpec(f"t{code}", "township", code, county.id, [Dev(f"t{code}-ce1", "ce", [f"{county.id}-pe1"])]))
    return f"t{code}"


def test_a_released_slot_goes_to_the_next_site_that_prefers_it_in_both_families(tmp_path):
    """Townships 078 and 094 prefer the same IPv4 slot (78 % 8 == 94 % 8) and IPv6 slot (% 16).
    078 leaves; its slots stay reserved (a newcomer preferring them, 110, goes elsewhere); once
    released, the next one preferring them (126) gets exactly them."""
    plan, county = small_plan([173, 94, 78])
    plan.write(tmp_path)
    validated_resolution(tmp_path).write_lock()
    gone = lock_of(tmp_path)
    plan.remove("t130723078")
    add_township(plan, county, 110)
    plan.write(tmp_path)
    res = validated_resolution(tmp_path)
    res.write_lock()
    for fam in FAMS:
        assert res.allocation.lock_entries()[f"{fam}/pool/t130723110"] != gone[f"{fam}/pool/t130723078"]
    lock = Lock.read(tmp_path)
    lock.release(["t130723078", "t130723078-ce1"])
    lock.write()
    add_township(plan, county, 126)
    plan.write(tmp_path)
    now = validated_resolution(tmp_path).allocation.lock_entries()
    for fam in FAMS:
        assert now[f"{fam}/pool/t130723126"] == gone[f"{fam}/pool/t130723078"]


def test_an_exhausted_pool_names_the_pool_the_request_and_the_free_space(tmp_path):
    plan, _ = small_plan(list(range(1, 10)))  # 9 townships, 8 slots of /27 in a county's /24
    plan.write(tmp_path)
    assert netgen.validate(tmp_path).ok
    res = resolve(tmp_path)
    found = [d for d in res.diagnostics if d.rule == "allocate.exhausted"]
    assert found, [d.message for d in res.diagnostics]
    assert "/27" in found[0].message and "pool of site k130723" in found[0].message and "full" in found[0].message
    assert found[0].location.file.endswith("c130700.yaml") and found[0].location.line > 0


def test_the_generator_draws_valid_intent_of_every_shape(tmp_path):
    """One fixed draw with every level present validates without a single diagnostic."""
    plan = Plan()
    centre = SiteSpec("central", "central", 100000, None,
                      [Dev("central-pe1", "pe", [], True), Dev("central-pe2", "pe", [], True)])
    plan.add(centre, "sites/central.yaml")
    prov = province(36)
    plan.add(prov, "sites/p360000/province.yaml")
    gqc = SiteSpec("k369082", "county", 369082, prov.id, [Dev("k369082-pe1", "pe", [f"{prov.id}-pe1"])], True)
    plan.add(gqc)
    city = SiteSpec("c360100", "city", 360100, prov.id,
                    [Dev("c360100-pe1", "pe", [f"{prov.id}-pe1", f"{prov.id}-pe2"])])
    plan.add(city, "sites/p360000/c360100.yaml")
    county = SiteSpec("k360121", "county", 360121, city.id, [Dev("k360121-pe1", "pe", ["c360100-pe1"])])
    plan.add(county)
    plan.add(SiteSpec("t360121100", "township", 360121100, county.id, [Dev("t360121100-ce1", "ce", ["k360121-pe1"])]))
    plan.attach = {d: ["central", "t360121100", "k369082"] for d in DEPARTMENTS}
    plan.write(tmp_path)
    res = validated_resolution(tmp_path)
    check_allocation(res)
    # the two dedicated zones that share a block both hold the centre's pinned LAN
    assert str(res.allocation.values["ipv4/lan/d-a@central/za"]) == "172.20.200.0/24"
    assert str(res.allocation.values["ipv4/lan/d-b@central/zb"]) == "172.20.200.0/24"
