"""Lines a Huawei device accepts, per software generation (the references are cited in the
templates, templates/huawei_vrp/*.j2):

- the system-view `ipv6` precedes every interface IPv6 line on VRP5 (AR, USG) and is absent on
  VRP8 (NE40E V800R012C10 has no such command);
- IS-IS IPv6 runs in the standard topology (the one the Comware templates' single-topology
  `address-family ipv6 unicast` can meet on a mixed link), never `topology ipv6`;
- each IS-IS link carries `isis cost` = the model's cost from its bandwidth, within the wide range;
- SNMPv3 algorithm keywords are ones the device's software offers;
- the login banner is printable ASCII without the `"` delimiter;
- the login-failure lockout uses the generation's own command.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from netgen.model import resolve
from netgen.render.build import render_device

EXAMPLE = Path(__file__).resolve().parents[2] / "inventory"
# Keywords each software generation's `snmp-agent usm-user` offers (see security.j2).
SNMP_AUTH = {"vrp8": {"md5", "sha", "sha2-224", "sha2-256", "sha2-384", "sha2-512"}, "vrp5": {"sha", "sha2-256"}}
SNMP_PRIV = {"vrp8": {"des56", "3des168", "aes128", "aes192", "aes256"}, "vrp5": {"aes128", "aes256"}}


@lru_cache(maxsize=None)
def _network():
    res = resolve(EXAMPLE)
    assert res.ok, [str(d.message) for d in res.errors]
    return res.network


@lru_cache(maxsize=None)
def _config(name: str) -> list[str]:
    net = _network()
    return render_device(net.devices[name], net).splitlines()


NAMES = sorted(n for n, d in _network().devices.items() if d.platform == "huawei_vrp")


def _device(name):
    return _network().devices[name]


def _blocks(lines: list[str]) -> dict[str, list[str]]:
    """Top-level `interface X` stanzas: name → their indented lines."""
    out, current = {}, None
    for line in lines:
        if line.startswith("interface "):
            current = out.setdefault(line.split(" ", 1)[1], [])
        elif line.startswith(" ") and current is not None:
            current.append(line.strip())
        else:
            current = None
    return out


def test_the_example_has_both_generations():
    """The checks below mean something only if both VRP5 and VRP8 devices are rendered."""
    assert {_device(n).hardware.software for n in NAMES} == {"vrp5", "vrp8"}


@pytest.mark.parametrize("name", NAMES)
def test_global_ipv6_precedes_interface_ipv6_on_vrp5_only(name):
    lines = _config(name)
    v6 = [i for i, line in enumerate(lines) if line.strip().startswith("ipv6 ") and line.startswith(" ")]
    globals_ = [i for i, line in enumerate(lines) if line == "ipv6"]
    if _device(name).hardware.software == "vrp5" and v6:
        assert len(globals_) == 1 and globals_[0] < min(v6)
    else:
        assert globals_ == []


@pytest.mark.parametrize("name", NAMES)
def test_isis_ipv6_in_the_standard_topology(name):
    lines = _config(name)
    topo = [line.strip() for line in lines if line.strip().startswith("ipv6 enable topology")]
    if _device(name).loopback6 and _device(name).igp != "ospf":
        assert topo == ["ipv6 enable topology standard"]
    else:
        assert topo == []


@pytest.mark.parametrize("name", NAMES)
def test_isis_cost_on_each_link_is_the_models_cost(name):
    d = _device(name)
    if d.igp == "ospf":
        pytest.skip("OSPF device")
    blocks = _blocks(_config(name))
    links = [i for i in d.interfaces if i.igp and i.kind != "loopback"]
    assert links, "an IS-IS device with no IS-IS link"
    assert all(isinstance(i.cost, int) and 1 <= i.cost <= 16_777_214 for i in links)  # cost-style wide
    # one `isis cost` per IS-IS link, and the multiset of values is the model's
    rendered = sorted(int(line.split()[2]) for block in blocks.values() for line in block if line.startswith("isis cost "))
    assert rendered == sorted(i.cost for i in links)


def test_isis_cost_follows_bandwidth():
    """A slower link costs more: 1G and 10G links of the example differ by the bandwidth ratio."""
    by_bw = {}
    for name in NAMES:
        for i in _device(name).interfaces:
            if i.igp and i.kind != "loopback" and i.bandwidth:
                by_bw.setdefault(i.bandwidth, set()).add(i.cost)
    assert by_bw.get("1G") and by_bw.get("10G")
    assert by_bw["1G"] == {10 * c for c in by_bw["10G"]}


@pytest.mark.parametrize("name", NAMES)
def test_snmpv3_algorithms_supported_by_the_software(name):
    sw = _device(name).hardware.software
    for line in _config(name):
        words = line.split()
        if line.startswith("snmp-agent usm-user") and "authentication-mode" in words:
            assert words[words.index("authentication-mode") + 1] in SNMP_AUTH[sw]
        if line.startswith("snmp-agent usm-user") and "privacy-mode" in words:
            assert words[words.index("privacy-mode") + 1] in SNMP_PRIV[sw]


@pytest.mark.parametrize("name", NAMES)
def test_banner_is_printable_ascii(name):
    headers = [line for line in _config(name) if line.startswith("header login information ")]
    assert len(headers) == 1
    text = headers[0][len("header login information "):]
    assert text[0] == text[-1] == '"' and '"' not in text[1:-1]
    assert all(" " <= ch <= "~" for ch in text), text
    assert "authorised use only" in text  # the ASCII part of the intent's banner is kept


@pytest.mark.parametrize("name", NAMES)
def test_lockout_in_the_generations_own_form(name):
    lines = [line.strip() for line in _config(name)]
    if _device(name).hardware.software == "vrp8":
        assert any(line.startswith("user-block failed-times ") for line in lines)
        assert not any(line.startswith("local-aaa-user wrong-password") for line in lines)
    else:
        assert any(line.startswith("local-aaa-user wrong-password") for line in lines)
        assert not any(line.startswith("user-block ") for line in lines)


def test_a_chinese_banner_keeps_its_ascii_part_only():
    """What VRP prints of a banner that is not ASCII (the rule security.banner-ascii warns of it)."""
    from netgen.text import ascii_text
    assert ascii_text('国家电子政务外网 — "authorised" use only.', '"') == "authorised use only."
