"""Remediation in the forms each device takes (netgen/deploy/rules/<platform>.yaml), on netgen's
own rendered configs: jx-pe1 (Huawei VRP, a route reflector) and jx-nc-pe1 (H3C Comware 7).

Each test edits the rendered text the way a real change would (a peer leaves, a port is re-rated,
a zone is dropped, …) and asserts the exact commands sent. The objects edited are found in the
rendered text, so the tests follow template changes; the vendor source of each expected form is
named beside it (same references as the rules files).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

from netgen.deploy.remediation import remediation
from netgen.deploy.rules import RulesError, load
from netgen.model import resolve
from netgen.render.build import render_device

REPO = Path(__file__).resolve().parents[2]
DEVICE = {"huawei_vrp": "jx-pe1", "h3c_comware": "jx-nc-pe1"}


@lru_cache(maxsize=None)
def rendered(platform: str) -> str:
    res = resolve(REPO / "inventory")
    assert res.ok, [str(d.message) for d in res.errors]
    return render_device(res.network.devices[DEVICE[platform]], res.network)


def block(text: str, header_re: str) -> tuple[str, str]:
    """(header, whole block text incl. its trailing newline) of the first top-level block matching."""
    m = re.search(rf"^({header_re})\n(?:[ ].*\n)*", text, re.M)
    assert m, header_re
    return m.group(1), m.group(0)


def cut(text: str, part: str) -> str:
    assert text.count(part) == 1, part
    return text.replace(part, "")


def sub1(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def plan(platform: str, running: str, intended: str) -> list[str]:
    return [line.strip() for line in remediation(platform, running, intended)]


# ------------------------------------------------------------------------------ BGP


@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware"])
def test_removing_a_peer_is_one_undo_peer(platform):
    # VRP: NE8000 command reference peer-as(bgpom): `undo peer ipv4-address` deletes every setting
    # of the peer; Comware/VRP: annet rulebook h3c/bgp.py, huawei/bgp.py peer().
    text = rendered(platform)
    _, bgp = block(text, r"bgp \d+")
    peer = re.search(r"^ peer (\S+) as-number", bgp, re.M).group(1)
    lines = [l for l in bgp.splitlines(keepends=True) if not re.match(rf"\s+peer {re.escape(peer)} ", l)]
    assert len(lines) < len(bgp.splitlines())
    intended = text.replace(bgp, "".join(lines))
    header = bgp.splitlines()[0]
    assert plan(platform, text, intended) == [header, f"undo peer {peer}", "quit"]
    # and back: the peer is declared before its family lines (annet *.order: peer * as-number first)
    added = plan(platform, intended, text)
    assert added[0] == header and added[1] == f"peer {peer} as-number " + re.search(
        rf"^ peer {re.escape(peer)} as-number (\S+)", bgp, re.M).group(1)
    assert not any(l.startswith("undo") for l in added)


def test_peer_description_change_is_the_new_line_only():
    # annet huawei.rul: bgp / `peer * description` is keyed by the peer: the new value replaces it
    text = rendered("huawei_vrp")
    m = re.search(r"^ peer (\S+) description (.*)$", text, re.M)
    intended = sub1(text, m.group(0), f" peer {m.group(1)} description moved")
    assert plan("huawei_vrp", text, intended)[1:] == [f"peer {m.group(1)} description moved", "quit"]
    # removed: `undo peer X description` without the text (annet huawei.rul `peer * description`)
    removed = plan("huawei_vrp", text, cut(text, m.group(0) + "\n"))
    assert removed[1:] == [f"undo peer {m.group(1)} description", "quit"]

# ------------------------------------------------------------------------------ interfaces


def _rated_port(text: str) -> tuple[str, str, str]:
    m = re.search(r"^(interface \S+)\n(?:[ ].*\n)*?( bandwidth (\d+)\n)", text, re.M)
    assert m
    return m.group(1), m.group(2), m.group(3)


@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware"])
def test_bandwidth_change_and_removal(platform):
    # changed: the new value only (a port has one expected bandwidth; annet common.default);
    # removed: `undo bandwidth` without an argument (HPE Comware 7 `undo bandwidth`; VRP: the rule)
    text = rendered(platform)
    port, line, value = _rated_port(text)
    new = str(int(value) * 10)
    changed = text.replace(f"{port}\n", f"{port}\n", 1)
    start = changed.index(port + "\n")
    changed = changed[:start] + changed[start:].replace(line, f" bandwidth {new}\n", 1)
    assert plan(platform, text, changed) == [port, f"bandwidth {new}", "quit"]
    removed = text[:start] + text[start:].replace(line, "", 1)
    assert plan(platform, text, removed) == [port, "undo bandwidth", "quit"]


@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware"])
def test_department_sub_interface_added_and_removed(platform):
    # a sub-interface can be deleted whole (annet huawei/iface.py permanent(): sub-interfaces are
    # deletable, physical ports are not); adding one sends its lines in the rendered order, the
    # VPN binding before the addresses (annet *.order: interface * / ip binding, then ip address)
    text = rendered(platform)
    header, sub = block(text, r"interface \S+\.\d+")
    without = cut(text, sub)
    assert plan(platform, text, without) == [f"undo {header}"]
    added = plan(platform, without, text)
    body = [l.strip() for l in sub.splitlines()[1:]]
    assert added == [header, *body, "quit"]
    assert body.index(next(l for l in body if l.startswith("ip binding"))) < body.index(
        next(l for l in body if l.startswith("ip address")))


def test_a_physical_port_is_never_undone():
    # annet huawei/iface.py permanent(): a physical port stays; its lines are removed instead
    text = rendered("huawei_vrp")
    port, _, _ = _rated_port(text)
    _, blk = block(text, re.escape(port))
    out = plan("huawei_vrp", text, cut(text, blk))
    assert out[0] == port and f"undo {port}" not in out
    assert "undo bandwidth" in out and "shutdown" in out and "undo isis enable" in out   # `undo undo shutdown`


@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware"])
def test_rebinding_a_sub_interface_sends_its_addresses_again(platform):
    # annet huawei/iface.py binding_change() [NOCDEV-2180], h3c.rul `ip binding ~`: the device
    # drops the IP configuration when the VPN binding changes, so it is entered again after it
    text = rendered(platform)
    header, sub = block(text, r"interface \S+\.\d+")
    old = re.search(r"^ ip binding vpn-instance (\S+)$", sub, re.M).group(1)
    moved = text.replace(sub, sub.replace(f"ip binding vpn-instance {old}", "ip binding vpn-instance ZW-NEW"))
    addresses = [l.strip() for l in sub.splitlines() if re.match(r" (?:ip address|ipv6 address)", l)]
    if platform == "huawei_vrp":
        addresses = [l.strip() for l in sub.splitlines() if re.match(r" (?:ip address|ipv6 enable|ipv6 address)", l)]
    assert plan(platform, text, moved) == [header, f"undo ip binding vpn-instance {old}",
                                           "ip binding vpn-instance ZW-NEW", *addresses, "quit"]

# ------------------------------------------------------------------------------ VPN instances


def test_vrp_rd_change():
    # NE8000 route-distinguisher-af-ipv4(L3VPNOM): `undo route-distinguisher RD`; vpn-targets need
    # an RD (VRP vpn-target: Prerequisites), so they are sent again after the new one
    text = rendered("huawei_vrp")
    header, vpn = block(text, r"ip vpn-instance \S+")
    fam = re.search(r"^ (ipv4-family)\n((?:  .*\n)*)", vpn, re.M)
    rd = re.search(r"route-distinguisher (\S+)", fam.group(2)).group(1)
    targets = [l.strip() for l in fam.group(2).splitlines() if l.strip().startswith("vpn-target")]
    new_fam = fam.group(0).replace(f"route-distinguisher {rd}", "route-distinguisher 10.255.36.1:999")
    intended = text.replace(vpn, vpn.replace(fam.group(0), new_fam))
    assert plan("huawei_vrp", text, intended) == [
        header, "ipv4-family", f"undo route-distinguisher {rd}", "route-distinguisher 10.255.36.1:999",
        *targets, "quit", "quit"]


def test_comware_rd_change():
    # HPE Comware 7 MPLS command reference, route-distinguisher: delete the RD with `undo
    # route-distinguisher`, then configure the new one
    text = rendered("h3c_comware")
    header, vpn = block(text, r"ip vpn-instance \S+")
    rd = re.search(r"^ route-distinguisher (\S+)$", vpn, re.M).group(1)
    intended = text.replace(vpn, vpn.replace(f" route-distinguisher {rd}\n", " route-distinguisher 10.255.0.14:999\n"))
    assert plan("h3c_comware", text, intended) == [
        header, "undo route-distinguisher", "route-distinguisher 10.255.0.14:999", "quit"]


@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware"])
def test_dropping_a_zone_removes_its_users_before_the_vpn_instance(platform):
    # annet *.order: `undo interface *.N` and bgp families before `undo ip vpn-instance`
    text = rendered(platform)
    vpn_header, vpn = block(text, r"ip vpn-instance \S+")
    name = vpn_header.split()[-1]
    intended = cut(text, vpn)
    subs = [h for h in re.findall(r"^(interface \S+)\n(?:[ ].*\n)*", text, re.M)
            if re.search(rf"^{re.escape(h)}\n(?:[ ].*\n)*? ip binding vpn-instance {name}\n", text, re.M)]
    for h in subs:
        intended = cut(intended, block(intended, re.escape(h))[1])
    _, bgp = block(intended, r"bgp \d+")
    fam = re.compile(rf"^ (?:ipv[46]-family vpn-instance {name}|ip vpn-instance {name})\n(?:  .*\n)*", re.M)
    intended = intended.replace(bgp, fam.sub("", bgp))
    out = plan(platform, text, intended)
    assert out[-1] == f"undo {vpn_header}"
    assert [l for l in out if l.startswith("undo interface")] == [f"undo {h}" for h in subs]
    assert all(out.index(f"undo {h}") < out.index(f"undo {vpn_header}") for h in subs)

# ------------------------------------------------------------------------------ services


@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware"])
def test_ntp_server_removed(platform):
    # annet huawei.rul/h3c.rul: `ntp-service unicast-server *` (undo names the server)
    text = rendered(platform)
    line = re.findall(r"^ntp-service unicast-server .*$", text, re.M)[-1]
    server = line.split()[2]
    assert plan(platform, text, cut(text, line + "\n")) == [f"undo ntp-service unicast-server {server}"]


def test_comware_snmp_user_change():
    # HPE Comware 7 network management command reference, snmp-agent usm-user v3:
    # `undo snmp-agent usm-user v3 user-name local`, then the user as configured now
    text = rendered("h3c_comware")
    line = re.search(r"^snmp-agent usm-user v3 (\S+) (\S+) .*$", text, re.M)
    new = line.group(0).replace(f" {line.group(2)} ", " ZW-NMS2 ", 1)
    assert plan("h3c_comware", text, sub1(text, line.group(0), new)) == [
        f"undo snmp-agent usm-user v3 {line.group(1)} local", new]


def test_a_removed_vty_setting_is_undone_by_keyword():
    # annet huawei.rul user-interface ~ / idle-timeout (bare keyword); the vty view itself stays
    text = rendered("huawei_vrp")
    header, vty = block(text, r"user-interface vty .*")
    idle = re.search(r"^ idle-timeout .*\n", vty, re.M).group(0)
    assert plan("huawei_vrp", text, text.replace(vty, vty.replace(idle, ""))) == [header, "undo idle-timeout", "quit"]
    assert plan("huawei_vrp", text, cut(text, vty))[0] == header   # never `undo user-interface`

# ------------------------------------------------------------------------------ the rules files


def test_every_rule_names_its_source(tmp_path, monkeypatch):
    import netgen.deploy.rules as rules
    for platform in ("huawei_vrp", "h3c_comware"):
        assert load(platform).negation_sub
    bad = (rules.HERE / "h3c_comware.yaml").read_text().replace('ref: "annet-rul: `sysname` (bare keyword)"', "ref: ''")
    (tmp_path / "h3c_comware.yaml").write_text(bad)
    monkeypatch.setattr(rules, "HERE", tmp_path)
    rules.load.cache_clear()
    try:
        with pytest.raises(RulesError, match="needs a `ref:`"):
            rules.load("h3c_comware")
    finally:
        rules.load.cache_clear()
