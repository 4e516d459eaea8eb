"""netgen/deploy/drivers/parsers.py on real device output (tests/deploy/captures/, from
ntc-templates' Apache-2.0 test corpus — see the README there): every parser on every capture,
the values asserted read off the capture by eye; the hand-written fallbacks held to the
ntc-templates results on the same captures; case and spacing variants; and the simulator's
replies (cli_sim/display.py) accepted by the same templates."""
from __future__ import annotations

import pytest
from napalm.base import models
from napalm.base.test.helpers import test_model as napalm_model_ok

from netgen.deploy.drivers import parsers
from tests.deploy.cli_sim.device import SimDevice
from tests.deploy.cli_sim.display import capture

DAY, WEEK = 86400, 604800


@pytest.fixture(params=[True, False], ids=["ntc-template", "by-hand"])
def by_template(request, monkeypatch):
    """Run a test twice: through ntc-templates, and with every template refusing (the
    hand-written fallback), which must read the same values."""
    if not request.param:
        monkeypatch.setattr(parsers, "template", lambda platform, command, text: None)
    return request.param


# ------------------------------------------------------------------------------ facts

VRP_VERSIONS = [
    ("huawei_vrp_display_version.raw", "8.180 (NE40E V800R011C00SPC200)", "NE40E-X2-M8A", 161 * DAY + 20 * 60),
    ("huawei_vrp_display_version1.raw", "8.100 (CX600 V800R007C10SPC100)", "CX600-M2E",
     266 * DAY + 8 * 3600 + 59 * 60),
    ("huawei_vrp_display_version2.raw", "8.180 (ATN 910C-B V300R003C10SPC500)", "ATN 910C-B",
     358 * DAY + 16 * 3600 + 59 * 60),
    ("huawei_vrp_display_version3.raw", "5.170 (AR6280 V300R019C10SPC300)", "AR6280",
     60 * WEEK + 4 * DAY + 11 * 3600 + 20 * 60),
]


@pytest.mark.parametrize("name, version, model, uptime", VRP_VERSIONS)
def test_vrp_version(by_template, name, version, model, uptime):
    facts = parsers.vrp_version(capture("huawei_vrp", "display version", name))
    assert facts == {"os_version": version, "model": model, "uptime": float(uptime)}


@pytest.mark.parametrize("name, version, model, uptime", [
    ("hp_comware_display_version_cw7_1.raw", "7.1.070, Release 6710P01-US", "FF 5945 32QSFP28",
     84 * WEEK + 2 * DAY + 3 * 3600 + 51 * 60),
    ("hp_comware_display_version_cw7_2.raw", "7.1.045, Feature 2427", "FF 5930-32QSFP+",
     384 * WEEK + 5 * DAY + 8 * 3600 + 51 * 60),
    ("hp_comware_display_version_cw7_3.raw", "7.1.045, Release 1118P02", "5130 48G 4SFP+ 1-slot HI Switch JH324A",
     497 * WEEK + 5 * DAY + 15 * 3600 + 4 * 60),
])
def test_comware_version(name, version, model, uptime):
    facts = parsers.comware_version(capture("hp_comware", "display version", name))
    # the chassis line, not a slot's `Uptime is …` further down
    assert facts == {"os_version": version, "model": model, "uptime": float(uptime)}


def test_version_variants():
    vrp = ("Huawei Versatile Routing Platform Software\nVRP (R) software, version 8.210 (NE8000 V800R022C00)\n"
           "huawei  NE8000 M8   uptime is 1 day, 2 hours, 3 minutes\n")   # case and spacing off
    assert parsers.vrp_version(vrp) == {"os_version": "8.210 (NE8000 V800R022C00)", "model": "NE8000 M8",
                                        "uptime": float(DAY + 2 * 3600 + 180)}
    comware = "H3C Comware Software, Version 7.1.070, Release 7585P05\r\nH3C SR6608-X uptime is 0 weeks, 1 day\n"
    assert parsers.comware_version(comware)["model"] == "SR6608-X"
    assert parsers.comware_version(comware)["os_version"] == "7.1.070, Release 7585P05"
    assert parsers.vrp_version("Error: Unrecognized command found at '^' position.\n") == {
        "os_version": "", "model": "", "uptime": -1.0}


@pytest.mark.parametrize("name, serial", [
    ("hp_comware_display_device_manuinfo_5930.raw", "CN43GG2001"),   # the slot, not its fans
    ("hp_comware_display_device_manuinfo_5200.raw", "xxxx"),
])
def test_comware_serial(by_template, name, serial):
    assert parsers.comware_serial(capture("hp_comware", "display device manuinfo", name)) == serial


def test_comware_serial_skips_fans_and_power(by_template):
    fan = "Fan 1\nDEVICE_NAME : F\nDEVICE_SERIAL_NUMBER : FAN1\nVENDOR_NAME : H3C\n"
    power = "Power 1\nDEVICE_NAME : P\nMANU SERIAL NUMBER : PSU1\nVENDOR_NAME : H3C\n"
    slot = " Slot 1 CPU 0:\nDEVICE_NAME : S\nDEVICE_SERIAL_NUMBER : BOX1\nVENDOR_NAME : H3C\n"
    assert parsers.comware_serial(fan + power + slot) == "BOX1"
    assert parsers.comware_serial(fan + power) == ""


@pytest.mark.parametrize("text", [
    "ESN of slot 1: 6T2380029201\n",            # forms VRP boxes print (CE, S, AR series)
    " ESN of device: 6T2380029201\n",
    "ESN of slot 1: 6T2380029201\nESN of slot 2: 6R23C0039593\n",
    "esn OF master :6T2380029201\n",
    "ESN of slot 0:\n    6T2380029201\n",       # the value on its own line
])
def test_vrp_serial(text):
    assert parsers.vrp_serial(text) == "6T2380029201"


# ------------------------------------------------------------------------------ BGP


def _check_models(table):
    """napalm's get_bgp_neighbors models (test_model cannot check the address-family mapping)."""
    for vrf in table.values():
        assert set(vrf) == set(models.BGPStateNeighborsPerVRFDict.__annotations__)
        for peer in vrf["peers"].values():
            assert set(peer) == set(models.BGPStateNeighborDict.__annotations__)
            scalars = {k: t for k, t in models.BGPStateNeighborDict.__annotations__.items() if k != "address_family"}
            assert all(isinstance(peer[k], t) for k, t in scalars.items()), peer
            for af in peer["address_family"].values():
                assert napalm_model_ok(models.BGPStateAddressFamilyDict, af)


@pytest.mark.parametrize("name, peers", [
    ("huawei_vrp_display_bgp_peer.raw", {"10.1.1.1": (100, "Idle", 7), "10.2.2.2": (200, "Established", 17 * 60 + 49)}),
    ("huawei_vrp_display_bgp_peer2.raw", {"10.1.1.1": (100, "Idle", 7), "10.2.5.6": (200, "Established", 17 * 60 + 49)}),
])
def test_vrp_bgp_peer(by_template, name, peers):
    table = parsers.vrp_bgp_peers(capture("huawei_vrp", "display bgp peer", name), "ipv4")
    assert list(table) == ["global"] and table["global"]["router_id"] == "10.2.3.4"
    got = table["global"]["peers"]
    assert {ip: (p["remote_as"], p["is_up"], p["uptime"]) for ip, p in got.items()} == {
        ip: (asn, state == "Established", up) for ip, (asn, state, up) in peers.items()}
    assert all(p["local_as"] == 10 and p["address_family"]["ipv4"]["received_prefixes"] == 0 for p in got.values())
    _check_models(table)


@pytest.mark.parametrize("name, rid, asn, peers", [
    ("hp_comware_display_bgp_peer_ipv4.raw", "1.2.3.4", 4259844162,
     {"12.123.123.189": (100, True, 286 * 3600 + 47 * 60, 1), "2.114.82.34": (100, False, 129 * 3600 + 15 * 60, 0),
      "2.114.82.38": (100, False, 129 * 3600 + 15 * 60, 0), "2.114.82.42": (100, True, 129 * 3600 + 14 * 60, 1),
      "2.114.82.46": (100, True, 129 * 3600 + 14 * 60, 1)}),
    ("hp_comware_display_bgp_peer_ipv4_low_uptime.raw", "1.2.3.74", 4259844944,
     {"2.2.2.129": (100, True, 2998 * 3600 + 36 * 60, 1), "2.2.2.133": (100, True, 2998 * 3600 + 36 * 60, 1),
      "2.2.2.30": (200, True, 8 * 3600 + 30 * 60 + 47, 1)}),
])
def test_comware_bgp_peer(by_template, name, rid, asn, peers):
    table = parsers.comware_bgp_peers(capture("hp_comware", "display bgp peer ipv4", name), "vpnv4", vrf="ZW-PUB")
    assert list(table) == ["ZW-PUB"] and table["ZW-PUB"]["router_id"] == rid
    got = table["ZW-PUB"]["peers"]
    assert {ip: (p["remote_as"], p["is_up"], p["uptime"], p["address_family"]["vpnv4"]["received_prefixes"])
            for ip, p in got.items()} == peers
    assert {p["local_as"] for p in got.values()} == {asn}
    _check_models(table)


# `display bgp vpnv4 all peer` in the layout of Huawei's NE40E configuration guide (public
# table, `Peer of IPv4-family for vpn instance :`, a `VPN-Instance NAME, router ID X:` line
# per instance — printed `Router ID` or `router ID` — with or without its own column line),
# the rows' cells from the ntc-templates captures above; trailing blanks as devices print them.
VPNV4_ALL = """
 BGP local router ID : 10.2.3.4
 Local AS number : 10
 Total number of peers : 3                 Peers in established state : 2

  Peer            V          AS  MsgRcvd  MsgSent  OutQ  Up/Down       State  PrefRcv
  10.2.2.2        4          10       32       35     0 00:17:49 Established        4   

  Peer of IPv4-family for vpn instance :   

  VPN-Instance ZW-PUB, router ID 10.2.3.4:
  Peer            V          AS  MsgRcvd  MsgSent  OutQ  Up/Down       State  PrefRcv
  10.1.1.1        4         100        0        0     0 00:00:07        Idle        0
  VPN-Instance ZW-DED, Router ID 10.2.3.4:
  10.2.5.6        4       65001       32       35     0 0026h03m Established        1
"""


def test_vrp_vpnv4_all_peer(by_template):
    table = parsers.vrp_bgp_peers(VPNV4_ALL, "vpnv4")
    assert set(table) == {"global", "ZW-PUB", "ZW-DED"}
    assert table["global"]["peers"]["10.2.2.2"]["address_family"] == {
        "vpnv4": {"received_prefixes": 4, "accepted_prefixes": -1, "sent_prefixes": -1}}
    assert table["ZW-PUB"]["peers"]["10.1.1.1"]["is_up"] is False
    assert table["ZW-PUB"]["peers"]["10.1.1.1"]["remote_as"] == 100
    dedicated = table["ZW-DED"]["peers"]["10.2.5.6"]
    assert dedicated["is_up"] and dedicated["uptime"] == 26 * 3600 + 3 * 60 and "ipv4" in dedicated["address_family"]
    assert {vrf["router_id"] for vrf in table.values()} == {"10.2.3.4"}
    _check_models(table)


def test_peer_table_variants():
    # a state no template knows (`Idle(Admin)`: shut down), IPv6 peers, upper-case headers
    vrp = (" BGP LOCAL ROUTER ID : 10.0.0.1\n LOCAL AS NUMBER : 65000\n\n"
           "  PEER V AS MSGRCVD MSGSENT OUTQ UP/DOWN STATE PREFRCV\n"
           "  10.0.0.2   4   65001   0   0   0   0001h02m   Idle(Admin)   0\n"
           "  2001:DB8::2   4   65002   9   9   0   00:00:09   Established   3\n")
    table = parsers.vrp_bgp_peers(vrp, "ipv4")["global"]
    assert table["router_id"] == "10.0.0.1"
    shut = table["peers"]["10.0.0.2"]
    assert (shut["is_enabled"], shut["is_up"], shut["uptime"], shut["local_as"]) == (False, False, 3720, 65000)
    assert table["peers"]["2001:DB8::2"]["is_up"] and table["peers"]["2001:DB8::2"]["uptime"] == 9
    # Comware: a dynamically created peer is marked `*`
    comware = (" BGP local router ID: 1.1.1.1\n Local AS number: 100\n\n  * - Dynamically created peer\n"
               "  Peer                    AS  MsgRcvd  MsgSent OutQ PrefRcv Up/Down  State\n\n"
               "  *10.1.1.2              200       13       16    0       0 00:10:34 Established\n")
    assert parsers.comware_bgp_peers(comware, "ipv4")["global"]["peers"]["10.1.1.2"]["remote_as"] == 200
    assert parsers.vrp_bgp_peers("", "ipv4") == {"global": {"router_id": "", "peers": {}}}


def test_merge_keeps_every_family_and_up_if_any():
    ipv4 = parsers.vrp_bgp_peers(capture("huawei_vrp", "display bgp peer", "huawei_vrp_display_bgp_peer.raw"), "ipv4")
    merged = parsers.merge_bgp([ipv4, parsers.vrp_bgp_peers(VPNV4_ALL, "vpnv4")])
    assert set(merged["global"]["peers"]["10.2.2.2"]["address_family"]) == {"ipv4", "vpnv4"}
    assert set(merged) == {"global", "ZW-PUB", "ZW-DED"}


@pytest.mark.parametrize("token, seconds", [
    ("00:17:49", 1069), ("0286h47m", 286 * 3600 + 47 * 60), ("1d02h", DAY + 7200), ("0026H03M", 26 * 3600 + 180),
    ("never", -1), ("12x", -1)])
def test_duration(token, seconds):
    assert parsers.duration(token) == seconds


# ------------------------------------------------------------------------------ the simulator

SIM_CONFIG = {
    "huawei_vrp": ("sysname pe1\nbgp 4200360000\n router-id 10.255.36.11\n peer 10.255.36.1 as-number 4200360000\n"
                   " peer 10.255.0.16 as-number 4200360000\n ipv4-family unicast\n  peer 10.255.36.1 enable\n"
                   "  peer 10.255.0.16 enable\n ipv4-family vpnv4\n  peer 10.255.36.1 enable\n"
                   " ipv4-family vpn-instance ZW-PUB\n  peer 10.36.1.2 as-number 65001\n"),
    "h3c_comware": ("sysname pe1\nbgp 4200360000\n router-id 10.255.36.11\n peer 10.255.36.1 as-number 4200360000\n"
                    " peer 10.255.0.16 as-number 4200360000\n address-family ipv4\n  peer 10.255.36.1 enable\n"
                    "  peer 10.255.0.16 enable\n address-family vpnv4\n  peer 10.255.36.1 enable\n"
                    " ip vpn-instance ZW-PUB\n  peer 10.36.1.2 as-number 65001\n"),
}


@pytest.mark.parametrize("platform, commands", [
    ("huawei_vrp", ["display bgp peer", "display bgp vpnv4 all peer"]),
    ("h3c_comware", ["display bgp peer ipv4", "display bgp peer vpnv4", "display bgp peer ipv4 vpn-instance ZW-PUB"]),
])
def test_simulator_tables_pass_the_templates(platform, commands):
    """The simulator's tables are in the captured layout: ntc-templates reads every row (for VRP
    each section of `vpnv4 all`), with the device's own peers and states."""
    device = SimDevice(platform, SIM_CONFIG[platform])
    device.bgp_state.update({"10.255.0.16": "Idle", "10.36.1.2": "Active"})
    ntc = "huawei_vrp" if platform == "huawei_vrp" else "hp_comware"
    seen = {}
    for command in commands:
        text = device.display(command)
        sections = text.split("Peer of IPv4-family for vpn instance :")
        for section in sections[:1] + [s.split(":\n", 1)[1] for s in sections[1:]]:
            rows = parsers.template(ntc, "display bgp peer" if ntc == "huawei_vrp" else "display bgp peer ipv4", section)
            assert rows, section
            seen.update({r["peer"]: r["state"] for r in rows})
    assert seen == {"10.255.36.1": "Established", "10.255.0.16": "Idle", "10.36.1.2": "Active"}


def test_simulator_facts_pass_the_parsers():
    vrp, comware = SimDevice("huawei_vrp", "sysname a\n"), SimDevice("h3c_comware", "sysname b\n")
    assert parsers.template("huawei_vrp", "display version", vrp.display("display version"))
    assert parsers.vrp_version(vrp.display("display version"))["model"] == "NE40E-X8A"
    assert parsers.vrp_serial(vrp.display("display esn")) == "2102351931P0K8000123"
    assert parsers.template("hp_comware", "display device manuinfo", comware.display("display device manuinfo"))
    assert parsers.comware_serial(comware.display("display device manuinfo")) == "219801A0CNH123000001"
    assert parsers.comware_version(comware.display("display version"))["os_version"] == "7.1.070, Release 7585P05"
