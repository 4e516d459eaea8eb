"""The resolved example: pinned values, derived numbers, sessions, links, and clean errors."""
from __future__ import annotations

import ipaddress
import json
import subprocess
import sys

import pytest

from netgen.model import resolve


@pytest.fixture(scope="module")
def net():
    res = resolve("inventory", locked=True)  # the committed lock already holds everything
    assert res.ok, res.diagnostics
    return res.network


def test_pinned_values_are_honoured(net):
    assert str(net.sites["jx"].pool4) == "10.36.0.0/16"
    assert str(net.devices["jx-pe1"].loopback4) == "10.255.36.1"
    lans = {(a.department, a.zone): a.ipv4 for a in net.devices["jx-pe1"].attachments}
    assert str(lans[("audit", "audit")].network) == str(lans[("emergency", "emergency")].network) == "172.20.36.0/24"


def test_derived_numbers_follow_the_national_scheme(net):
    assert net.devices["jx-nc-pe1"].asn == 4200360000 and net.devices["central-pe1"].asn == 4200100000
    d = net.devices["jx-nc-pe1"]
    assert d.isis_net.startswith("49.0036.") and d.isis_net.endswith(".00")
    for v in d.vrfs:
        assert v.rd == f"{d.loopback4}:{v.vpn_id}" and v.rt == f"4200100000:{v.vpn_id}"


def test_reflectors_serve_their_province_and_peer_with_the_centre(net):
    jx = {n for n, d in net.devices.items() if d.site in ("jx", "jx-gqc") or d.site.startswith("jx-")}
    sessions = net.devices["jx-pe1"].bgp
    clients = {b.peer for b in sessions if b.kind == "rr-client"}
    assert clients == jx - {"jx-pe1", "jx-pe2"}
    assert {b.peer for b in sessions if b.kind == "ebgp-vpn"} == {"central-pe1", "central-pe2"}
    assert {b.peer for b in sessions if b.kind == "rr-mesh"} == {"jx-pe2"}
    assert {b.peer for b in net.devices["jx-nc-pe1"].bgp} == {"jx-pe1", "jx-pe2"}


def test_link_ends_take_the_two_addresses_of_the_subnet(net):
    for link in net.links:
        a = next(i for i in net.devices[link.a].interfaces if i.port == link.a_port)
        b = next(i for i in net.devices[link.b].interfaces if i.port == link.b_port)
        assert {a.ipv4.ip, b.ipv4.ip} == set(link.ipv4) and a.ipv4.network == link.ipv4
        assert a.peer_device == link.b and b.peer_device == link.a


def test_a_device_is_the_same_whatever_order_devices_are_gathered_in(net, monkeypatch):
    """A link's two ends are made together and the second kept until asked for: gathered in
    any order, twice, or after the memo was emptied, every device is the full model's."""
    import random

    res = resolve("inventory", locked=True, model=False)
    names = list(net.devices)
    random.Random(7).shuffle(names)
    lazy = res.lazy_network()
    assert all(lazy.resolver.device(*lazy._devices[n]) == net.devices[n] for n in names + names[:5])
    monkeypatch.setattr(sys.modules["netgen.model.resolve"], "_LINK_MEMO", 1)  # one end kept at a time
    lazy = res.lazy_network()
    assert all(lazy.resolver.device(*lazy._devices[n]) == net.devices[n] for n in reversed(names))


def test_corrupted_lock_is_a_clean_error(intent_dir):
    intent_dir.write("netgen.lock", "{not json")
    res = resolve(intent_dir.root)
    assert not res.ok and res.exit_code() == 2
    assert res.diagnostics[-1].rule == "lock.unreadable" and "restore it" in res.diagnostics[-1].message


def netgen(*args):
    return subprocess.run([sys.executable, "-m", "netgen", *args], capture_output=True, text=True, timeout=120)


def test_show_gives_each_value_its_origin(intent_dir):
    r = netgen("show", "jx-pe1", str(intent_dir.root))
    line = intent_dir.line_of("sites/jiangxi/province.yaml", "loopback: {ipv4: 10.255.36.1}")
    assert r.returncode == 0 and "10.255.36.1" in r.stdout
    assert f"province.yaml:{line}:" in r.stdout and "lock: netgen.lock" in r.stdout
    data = json.loads(netgen("show", "jx-nc", str(intent_dir.root), "--format", "json").stdout)
    assert data["values"]["pool4"] == "10.36.16.0/20" and data["origins"]["pool.ipv4"].startswith("intent:")
    miss = netgen("show", "jx-pe", str(intent_dir.root))
    assert miss.returncode == 1 and "did you mean" in miss.stdout


def test_lock_check_lock_and_release(intent_dir):
    assert netgen("lock", str(intent_dir.root), "--check").returncode == 0
    intent_dir.write("sites/guangxi/extra.yaml", "sites:\n  - id: gx-nn-la-nx\n    name: 那桐镇\n    level: township\n"
                     "    code: 450123101\n    parent: gx-nn-la\n    devices:\n      - {name: gx-nn-la-nx-ce1, role: ce, "
                     "platform: h3c_comware, vendor: h3c, model: MSR2630, uplinks: [{peer: gx-nn-la-pe1, bandwidth: 100M}]}\n")
    r = netgen("lock", str(intent_dir.root), "--check")
    assert r.returncode == 1 and "lock.outdated" in r.stdout
    assert netgen("lock", str(intent_dir.root)).returncode == 0
    assert netgen("lock", str(intent_dir.root), "--check").returncode == 0
    pool = json.loads(intent_dir.read("netgen.lock"))["allocations"]["ipv4/pool/gx-nn-la-nx"]
    assert ipaddress.ip_network(pool).subnet_of(ipaddress.ip_network("10.45.23.0/24"))
    r = netgen("release", "gx-nn-la-nx*", "-C", str(intent_dir.root))
    assert r.returncode == 0 and "ipv4/pool/gx-nn-la-nx" in r.stdout
    assert "gx-nn-la-nx" not in intent_dir.read("netgen.lock")
    assert netgen("release", "no-such-thing", "-C", str(intent_dir.root)).returncode == 1


def test_release_matches_owner_names_never_structure():
    from netgen.model.lock import Lock

    lock = Lock({"ipv4/pool/jx-nc": "10.36.16.0/20", "ipv4/lan/audit@jx-nc/audit": "172.20.2.0/25",
                 "ipv4/lan/hrss@jx/public": "10.36.9.0/24", "port/jx-pe1/link:jx-nc-pe1~jx-pe1": "7",
                 "port/jx-pe1/access:audit": "1", "ipv4/loopback/jx-pe1": "10.255.36.1/32"})
    assert lock.release(["lan", "pool", "ipv4", "public"]) == []
    assert lock.release(["jx-nc"]) == ["ipv4/lan/audit@jx-nc/audit", "ipv4/pool/jx-nc"]
    assert lock.release(["jx-nc-pe1"]) == ["port/jx-pe1/link:jx-nc-pe1~jx-pe1"]
    assert lock.release(["audit"]) == ["port/jx-pe1/access:audit"]
    assert sorted(lock.entries) == ["ipv4/lan/hrss@jx/public", "ipv4/loopback/jx-pe1"]
