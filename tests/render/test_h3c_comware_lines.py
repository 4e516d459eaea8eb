"""The `h3c_comware` templates write lines a Comware 7 device accepts and that mean what the
model means. Each test names the command reference it holds the config to (the templates cite
the same in their comments):

- IS-IS IPv6 in the standard (single) topology: `address-family ipv6 unicast` in `isis 1` and no
  `multi-topology` (H3C Comware V7 IPv6 IS-IS commands: MTR is off until `multi-topology`), the
  mode the VRP side also runs, so a mixed Huawei-H3C link carries IPv6;
- per-link `isis cost` = the model's cost from the link bandwidth (IS-IS commands: `isis cost
  value [level-1|level-2]`, 1..16777215 with `cost-style wide`);
- no global `ipv6` (Comware 7 has none; VRP does);
- SNMPv3 `usm-user` algorithms the release accepts (SNMP commands: md5|sha, aes128|3des|des56);
- SecPath zones spelled as the device displays its built-in zones (Local, Trust, DMZ, Untrust);
- `header login` (every model) rather than `header motd` (model-dependent);
- `ntp-service enable` (NTP is off by default on Comware 7) before the servers.
"""
from __future__ import annotations

import re

import pytest

from netgen.model import resolve
from netgen.render.build import build

from .test_vrp_comware import _example

PLATFORM = "h3c_comware"
SNMP_AUTH = {"md5", "sha"}  # Comware 7 SNMP commands: authentication-mode { md5 | sha }
SNMP_PRIV = {"aes128", "3des", "des56"}  # privacy-mode { aes128 | 3des | des56 }
BUILTIN_ZONES = {"Local", "Trust", "DMZ", "Untrust"}


def _texts(network, out) -> dict[str, str]:
    result = build(network, out, jobs=1)
    assert result.ok, [str(d.message) for d in result.diagnostics]
    return {n: (out / f"{n}.cfg").read_text(encoding="utf-8")
            for n, d in network.devices.items() if d.platform == PLATFORM}


@pytest.fixture(scope="module")
def network():
    return _example()


@pytest.fixture(scope="module")
def configs(network, tmp_path_factory) -> dict[str, str]:
    texts = _texts(network, tmp_path_factory.mktemp("comware") / "build")
    assert texts, "the example has Comware devices"
    return texts


def _block(text: str, header: str) -> list[str]:
    """The lines of the top-level block that starts with `header` (up to its `#`)."""
    lines = text.split(f"\n{header}\n", 1)[1].split("\n#", 1)[0]
    return lines.splitlines()


def _iface(text: str, description: str) -> list[str]:
    """The lines of the interface block whose description is `description`."""
    blocks = [b.split("\n#", 1)[0].splitlines() for b in text.split("\ninterface ")[1:]]
    found = [b for b in blocks if f" description {description}" in b]
    assert len(found) == 1, description
    return found[0]


def test_isis_ipv6_single_topology(configs, network):
    for name, text in configs.items():
        d = network.devices[name]
        if d.igp != "isis":
            continue
        isis = _block(text, "isis 1")
        assert " cost-style wide" in isis, name
        assert (" address-family ipv6 unicast" in isis) == bool(d.loopback6), name
        assert "multi-topology" not in text, name  # MTR would split IPv6 off VRP's topology
        for i in d.interfaces:
            if i.igp and i.ipv6:
                block = _iface(text, i.description)
                assert " isis enable 1" in block and " isis ipv6 enable 1" in block, (name, i)


def test_isis_cost_per_link_from_the_model(configs, network):
    seen = 0
    for name, text in configs.items():
        d = network.devices[name]
        for i in d.interfaces:
            if not i.igp or i.kind == "loopback":
                continue
            costs = [line for line in _iface(text, i.description) if line.startswith(" isis cost ")]
            assert costs == [f" isis cost {i.cost}"], (name, i.description, costs)
            assert 1 <= i.cost <= 16_777_215  # the wide-metric range
            seen += 1
    assert seen


def test_isis_cost_follows_bandwidth(configs, network):
    """A 1G link costs ten times a 10G link (cost = reference / bandwidth)."""
    text = configs["jx-nc-pe1"]
    by_bw = {}
    for line in text.split("\ninterface ")[1:]:
        bw = re.search(r"^ bandwidth (\d+)$", line, re.M)
        cost = re.search(r"^ isis cost (\d+)$", line, re.M)
        if bw and cost:
            by_bw[int(bw.group(1))] = int(cost.group(1))
    assert by_bw[1_000_000] == 10 * by_bw[10_000_000], by_bw


def test_no_global_ipv6_command(configs):
    for name, text in configs.items():
        assert "ipv6" not in [line.strip() for line in text.splitlines() if not line.startswith(" ")], name


def test_snmpv3_algorithms_the_release_accepts(configs):
    for name, text in configs.items():
        m = re.search(r"^snmp-agent usm-user v3 \S+ \S+ simple authentication-mode (\S+) \S+ privacy-mode (\S+) \S+$",
                      text, re.M)
        assert m, name
        assert m.group(1) in SNMP_AUTH and m.group(2) in SNMP_PRIV, (name, m.groups())


def test_snmpv3_intent_algorithm_kept_when_accepted(intent_dir, tmp_path):
    """An intent asking sha/aes128 gets exactly that, and no downgrade note."""
    intent_dir.replace("network.yaml", "      user: netgen-nms\n", "      user: netgen-nms\n      auth: sha\n")
    res = resolve(intent_dir.root)
    assert res.ok, [str(d.message) for d in res.errors]
    for name, text in _texts(res.network, tmp_path / "b").items():
        assert " authentication-mode sha <<" in text and "# SNMPv3:" not in text, name


def test_snmpv3_downgrade_is_said_in_the_config(configs, network):
    for name, text in configs.items():
        m = network.devices[name].management
        noted = "# SNMPv3: the intent asks" in text
        assert noted == (m.snmp_auth not in SNMP_AUTH or m.snmp_priv not in SNMP_PRIV), name


def test_security_zones_as_the_device_spells_them(configs, network):
    firewalls = [n for n in configs if network.devices[n].internet and network.devices[n].internet.firewall]
    assert firewalls
    for name in firewalls:
        text = configs[name]
        zones = set(re.findall(r"^security-zone name (\S+)$", text, re.M))
        zones |= set(re.findall(r"^  (?:source|destination)-zone (\S+)$", text, re.M))
        assert zones and zones <= BUILTIN_ZONES, (name, zones)


def test_banner_and_ntp_forms(configs):
    for name, text in configs.items():
        assert "header motd" not in text and re.search(r"^header login %[^%]+%$", text, re.M), name
        lines = text.splitlines()
        assert lines.index("ntp-service enable") < lines.index(
            next(line for line in lines if line.startswith("ntp-service unicast-server "))), name
