"""The `huawei_vrp` and `h3c_comware` templates: goldens pin the text, hier_config parses every
config back to exactly its lines, remediation between two builds is exactly the change, and no
config ever holds a secret.

Goldens: tests/render/golden/<platform>/<device>.cfg; `NETGEN_UPDATE_GOLDEN=1 pytest
tests/render/test_vrp_comware.py` rewrites them (and drops goldens of devices that no longer
exist). Review the diff.

hier_config: VRP configs parse with Platform.HUAWEI_VRP as they are (its driver drops `#`
comment lines). Comware configs parse with Platform.HP_COMWARE5, whose driver has no comment
rule: a second `#` separator at the top level would be a duplicate child. `comware_driver()`
adds to that same driver the rule the VRP driver has (`#` lines are comments); nothing else.
"""
from __future__ import annotations

import difflib
import os
import re
from functools import lru_cache
from pathlib import Path

import pytest
from hier_config import HConfig, Platform, get_hconfig, get_hconfig_driver
from hier_config.models import PerLineSubRule

from netgen.deploy.remediation import remediation as deploy_remediation
from netgen.hardware import profile
from netgen.model import resolve
from netgen.render.build import build, render_device

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory"
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("NETGEN_UPDATE_GOLDEN") == "1"
PLATFORMS = ("huawei_vrp", "h3c_comware")
SECRET_REF = re.compile(r"\b(?:secret|env):[A-Za-z0-9_.-]+")


# ---------------------------------------------------------------------------------- helpers


def comware_driver():
    """Platform.HP_COMWARE5's driver, plus the comment rule Platform.HUAWEI_VRP's driver has."""
    driver = get_hconfig_driver(Platform.HP_COMWARE5)
    driver.rules.per_line_sub.append(PerLineSubRule(search=r"^\s*#.*", replace=""))
    return driver


def parse(platform: str, text: str) -> HConfig:
    if platform == "huawei_vrp":
        return get_hconfig(Platform.HUAWEI_VRP, text)
    return get_hconfig(comware_driver(), text)


def config_lines(text: str) -> list[str]:
    """The configuration lines of a rendered config: no comments, no blank lines."""
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def tree_lines(config: HConfig) -> list[str]:
    """A parsed tree back as lines, one leading space per level (VRP and Comware indentation)."""
    return [" " * (child.depth() - 1) + child.text for child in config.all_children()]


def remediation(platform: str, running: str, intended: str) -> list[str]:
    """The commands deploy sends to take `running` to `intended` (netgen.deploy.remediation, with
    the platform's rules), without the `quit`s that close each view."""
    return [line for line in deploy_remediation(platform, running, intended) if line.strip() != "quit"]


@lru_cache(maxsize=None)
def _example():
    res = resolve(EXAMPLE)  # resolve() never writes the lock
    assert res.ok, [str(d.message) for d in res.errors]
    return res.network


def _devices(platform: str) -> list[str]:
    return [name for name, d in _example().devices.items() if d.platform == platform]


ALL = [(p, name) for p in PLATFORMS for name in _devices(p)]


def _resolve(path: Path):
    res = resolve(path)
    assert res.ok, [f"{d.location}: {d.message}" for d in res.diagnostics]
    return res.network


def _build_texts(network, out: Path) -> dict[str, str]:
    result = build(network, out, jobs=1)
    assert result.ok, [f"{d.location}: {d.message}" for d in result.diagnostics]
    return {name: (out / f"{name}.cfg").read_text(encoding="utf-8")
            for name, d in network.devices.items() if d.platform in PLATFORMS}


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def network():
    return _example()


@pytest.fixture(scope="module")
def configs(network, tmp_path_factory) -> dict[str, str]:
    """The example built with every device on its own platform: device → config text."""
    return _build_texts(network, tmp_path_factory.mktemp("vrp-comware") / "build")


# ---------------------------------------------------------------------------------- goldens


def test_example_has_devices_on_both_platforms():
    assert _devices("huawei_vrp") and _devices("h3c_comware")


@pytest.mark.parametrize("platform,name", ALL)
def test_golden(configs, platform, name):
    golden = GOLDEN / platform / f"{name}.cfg"
    text = configs[name]
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        return
    assert golden.is_file(), f"no golden for {name}: run NETGEN_UPDATE_GOLDEN=1 pytest {__file__}"
    expected = golden.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), text.splitlines(keepends=True),
                                            f"golden/{platform}/{name}.cfg", f"rendered {name}.cfg"))
        pytest.fail(f"{name} differs from its golden (NETGEN_UPDATE_GOLDEN=1 rewrites it):\n{diff}")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_stale_goldens(platform):
    wanted = {f"{name}.cfg" for name in _devices(platform)}
    directory = GOLDEN / platform
    if UPDATE:
        for stale in directory.glob("*.cfg"):
            if stale.name not in wanted:
                stale.unlink()
    assert {p.name for p in directory.glob("*.cfg")} == wanted


def test_render_device_matches_build(network, configs):
    """build writes exactly what render_device returns (no post-processing between them)."""
    for name in _devices("huawei_vrp") + _devices("h3c_comware"):
        assert render_device(network.devices[name], network) == configs[name]


# ---------------------------------------------------------------------------------- content


def test_vrp_pe_reflector_content(configs, network):
    text = configs["jx-pe1"]
    lines = set(text.splitlines())
    for line in ("sysname jx-pe1", "ip vpn-instance ZW-PUB", "  route-distinguisher 10.255.36.1:100",
                 "  vpn-target 4200100000:100 export-extcommunity", "  vpn-target 4200100000:100 import-extcommunity",
                 "mpls lsr-id 10.255.36.1", "mpls", "mpls ldp", "isis 1", " is-level level-2", " cost-style wide",
                 " network-entity 49.0036.0102.5503.6001.00", "bgp 4200360000",
                 " peer 10.255.0.14 connect-interface LoopBack0", " ipv4-family vpnv4",
                 "  peer 10.255.0.14 reflect-client", " peer 10.255.0.1 ebgp-max-hop 255",
                 "  peer 10.254.0.35 enable", " dot1q termination vid 1001", " ip binding vpn-instance ZW-AUDIT",
                 "stelnet server enable", "undo telnet server enable", "user-interface vty 0 4",
                 " protocol inbound ssh", " idle-timeout 10 0", " acl 2001 inbound",
                 # VRP8 lockout (NE40E V8 command reference, user-block failed-times, aaa view)
                 " user-block failed-times 5 period 30", " user-block reactive 30",
                 "info-center loghost 10.253.0.21", "ntp-service unicast-server 10.253.0.11",
                 "snmp-agent sys-info version v3", "return"):
        assert line in lines, line
    # the inter-AS link (no IGP): MPLS for the labelled routes, no IS-IS and no LDP
    inter_as = next(i.port_name for i in network.devices["jx-pe1"].interfaces if i.peer_device == "central-pe1")
    block = text.split(f"interface {inter_as}\n", 1)[1].split("#\n", 1)[0]
    assert " mpls\n" in block and "isis" not in block and "mpls ldp" not in block


def test_firewall_exits_end_in_deny(configs, network):
    for name, d in network.devices.items():
        if d.platform not in PLATFORMS or not (d.internet and d.internet.firewall):
            continue
        text = configs[name]
        policy = text.split("security-policy", 1)[1].split("\n#", 1)[0].splitlines()
        assert policy[-1].strip() in ("action deny", "action drop"), (name, policy[-2:])
        assert f"{d.internet.nat_first} {d.internet.nat_last}" in text, name
        vrf = d.zone_vrf(next(i.vrf for i in d.interfaces if i.kind == "internet")).name
        assert re.search(rf"^ip route-static vpn-instance {vrf} 0\.0\.0\.0 0(\.0\.0\.0)? {d.internet.gateway} ",
                         text, re.M), name


def test_baseline_on_every_device(configs, network):
    """MLPS baseline: SSH only, lockout, idle timeout, vty ACL, loghost, NTP, SNMPv3 authPriv,
    and (all example sites have servers) AAA through the servers."""
    for name, text in configs.items():
        m = network.devices[name].management
        vrp = network.devices[name].platform == "huawei_vrp"
        assert "undo telnet server enable" in text
        assert f"idle-timeout {m.idle_timeout_minutes} 0" in text
        vrp8 = vrp and network.devices[name].hardware.software == "vrp8"
        assert ("user-block failed-times 5 period 30" if vrp8 else "retry-time 5 block-time 30" if vrp
                else "login-attempt 5 exceed lock-time 30") in text
        assert (" acl 2001 inbound" if vrp else "ssh server acl 2001") in text
        assert "info-center loghost 10.253.0.21" in text and "ntp-service unicast-server 10.253.0.12" in text
        assert " v3 privacy" in text
        assert ("hwtacacs-server template ZW-AAA" if vrp else "hwtacacs scheme ZW-AAA") in text


# ---------------------------------------------------------------------------------- hier_config


@pytest.mark.parametrize("platform,name", ALL)
def test_hier_config_parses_every_line(configs, platform, name):
    """Every configuration line lands in the tree at its own indentation, nothing is dropped
    or merged, and the tree serialises back to the same lines."""
    text = configs[name]
    tree = parse(platform, text)
    original = config_lines(text)
    back = tree_lines(tree)
    assert sorted(back) == sorted(original)
    # indentation: each level is exactly one space deeper than its parent
    for child in tree.all_children():
        if child.parent is not tree:
            assert child.real_indent_level == child.parent.real_indent_level + 1, child.path()


@pytest.mark.parametrize("platform,name", ALL)
def test_remediation_against_itself_is_empty(configs, platform, name):
    assert remediation(platform, configs[name], configs[name]) == []


def _unchanged(before: dict[str, str], after: dict[str, str], changed: set[str]) -> None:
    assert set(before) == set(after)
    for name in sorted(set(before) - changed):
        platform = _example().devices[name].platform
        assert remediation(platform, before[name], after[name]) == [], name


def test_remediation_uplink_bandwidth(intent_dir, tmp_path):
    """jx-gqc-pe1's uplink to jx-pe1 goes from 1G to 500M — the same gigabit ports: both ends
    change their `bandwidth` (a new value replaces the old: no undo, NE40E V8 command reference,
    bandwidth) and IS-IS cost, and nothing else anywhere."""
    net = _resolve(intent_dir.root)
    before = _build_texts(net, tmp_path / "before")
    port = {d: next(i.port_name for i in net.devices[d].interfaces if i.peer_device == peer)
            for d, peer in (("jx-gqc-pe1", "jx-pe1"), ("jx-pe1", "jx-gqc-pe1"))}
    intent_dir.replace("sites/jiangxi/province.yaml", "{peer: jx-pe1, bandwidth: 1G, carrier: china-telecom}",
                       "{peer: jx-pe1, bandwidth: 500M, carrier: china-telecom}")
    after = _build_texts(_resolve(intent_dir.root), tmp_path / "after")
    for name in port:
        assert remediation("huawei_vrp", before[name], after[name]) == [
            f"interface {port[name]}",
            " bandwidth 500",
            " isis cost 200",
        ]
    _unchanged(before, after, {"jx-gqc-pe1", "jx-pe1"})


def test_remediation_new_department_attachment(intent_dir, tmp_path):
    """统计 (stats, class A: public only) attaches at the county of 南昌县: jx-nc-ncx-pe1 gets one
    new sub-interface in ZW-PUB (which it already has) and no other device changes."""
    before = _build_texts(_resolve(intent_dir.root), tmp_path / "before")
    intent_dir.replace("departments.yaml", "      - {site: jx-gqc}\n      - {site: gx-nn-la-cx}",
                       "      - {site: jx-gqc}\n      - {site: gx-nn-la-cx}\n      - {site: jx-nc-ncx}")
    net = _resolve(intent_dir.root)
    after = _build_texts(net, tmp_path / "after")
    # the next free gigabit port of the MSR5680 (its first three: hrss, two links); the LAN is the
    # next /26 of the county pool
    ports = [p.name for p in profile("MSR5680").ports if p.speed == 1000]
    assert sorted({i.port_name for i in net.devices["jx-nc-ncx-pe1"].interfaces if i.kind == "access"}) == \
        [ports[0], ports[3]]
    assert remediation("h3c_comware", before["jx-nc-ncx-pe1"], after["jx-nc-ncx-pe1"]) == [
        f"interface {ports[3]}.100",
        " description 统计 (stats) public",
        " vlan-type dot1q vid 100",
        " ip binding vpn-instance ZW-PUB",
        " ip address 10.36.21.193 255.255.255.192",
        " ipv6 address fd00:e9:2415:2::1/64",
    ]
    _unchanged(before, after, {"jx-nc-ncx-pe1"})


# ---------------------------------------------------------------------------------- secrets


def _secret_refs(directory: Path) -> set[str]:
    refs = set()
    for path in directory.rglob("*.yaml"):
        refs |= set(SECRET_REF.findall(path.read_text(encoding="utf-8")))
    return refs


def test_no_secret_values_only_placeholders(configs):
    refs = _secret_refs(EXAMPLE)
    assert refs, "the example intent references secrets"
    placeholders = {f"<<{ref}>>" for ref in refs}
    for name, text in configs.items():
        # every reference appears only inside its placeholder
        for ref in refs:
            assert text.count(ref) == text.count(f"<<{ref}>>"), (name, ref)
        # nothing that looks like a placeholder is anything but a known reference
        assert set(re.findall(r"<<[^>]*>>", text)) <= placeholders, name
    used = {p for text in configs.values() for p in re.findall(r"<<[^>]*>>", text)}
    assert used == placeholders, "every secret the intent references is used, as a placeholder"


def test_secret_values_in_the_environment_never_reach_a_config(intent_dir, tmp_path, monkeypatch):
    """Even with the secrets' values present (as deploy would have them), a build holds none."""
    values = {"aaa-shared-key": "Tac@cs-Sh4red!", "snmp-auth": "Snmp-Auth-9x!", "snmp-priv": "Snmp-Priv-7y!"}
    for key, value in values.items():
        monkeypatch.setenv(key.upper().replace("-", "_"), value)
        monkeypatch.setenv(f"NETGEN_SECRET_{key.upper().replace('-', '_')}", value)
    texts = _build_texts(_resolve(intent_dir.root), tmp_path / "b")
    for name, text in texts.items():
        for value in values.values():
            assert value not in text, name


# ---------------------------------------------------------------------------------- variants


def _variant(intent_dir, tmp_path, *edits) -> dict[str, str]:
    for rel, old, new in edits:
        intent_dir.replace(rel, old, new)
    network = _resolve(intent_dir.root)
    texts = _build_texts(network, tmp_path / "b")
    for name, text in texts.items():  # every variant still parses line for line
        platform = network.devices[name].platform
        assert sorted(tree_lines(parse(platform, text))) == sorted(config_lines(text)), name
    return texts


def test_ospf_backbone(intent_dir, tmp_path):
    texts = _variant(intent_dir, tmp_path, ("network.yaml", "igp: isis", "igp: ospf"))
    for name, text in texts.items():
        assert "isis" not in text, name
        assert "ospf 1 router-id " in text and " area 0.0.0.0" in text and " ospf network-type p2p" in text, name
        assert " mpls ldp" in text, name
    assert "  network 10.255.36.1 0.0.0.0\n" in texts["jx-pe1"]  # the loopback, by its wildcard
    assert "  import-route ospf 1\n" in texts["jx-pe1"]


def test_radius_aaa(intent_dir, tmp_path):
    texts = _variant(intent_dir, tmp_path, ("network.yaml", "protocol: hwtacacs", "protocol: radius"),
                     ("network.yaml", "services: [tacacs]", "services: [radius]"))
    vrp, comware = texts["jx-pe1"], texts["jx-nc-pe1"]
    assert "radius-server template ZW-AAA" in vrp and "  radius-server ZW-AAA" in vrp and "hwtacacs" not in vrp
    assert " radius-server shared-key cipher <<secret:aaa-shared-key>>" in vrp
    assert "radius scheme ZW-AAA" in comware and " authentication login radius-scheme ZW-AAA local" in comware
    assert "hwtacacs" not in comware


def test_minimal_baseline(intent_dir, tmp_path):
    """Without AAA servers, SNMP, management ACL or banner (a level-2-only network would allow
    it): those sections are simply absent; lockout, SSH and idle timeout remain."""
    text = intent_dir.read("network.yaml")
    start, end = text.index("    aaa:\n"), text.index("    login:\n")
    intent_dir.write("network.yaml", text[:start] + text[end:])
    intent_dir.replace("network.yaml", "    management_acl: [10.253.0.0/24]\n", "")
    intent_dir.replace("network.yaml", '    banner: "Guojia Dianzi Zhengwu Waiwang (national e-government extranet): '
                       'authorised use only. All sessions are logged."\n', "")
    intent_dir.replace("network.yaml", "  mlps: {central: 3, province: 3, city: 3, county: 2, township: 2, village: 2}",
                       "  mlps: {central: 2, province: 2, city: 2, county: 2, township: 2, village: 2}")
    intent_dir.replace("departments.yaml", "mlps: 3", "mlps: 2", count=10)
    res = resolve(intent_dir.root)
    if not res.ok:
        pytest.skip("the intent rules require AAA/ACL here: " + "; ".join(str(d.message) for d in res.errors))
    texts = _variant(intent_dir, tmp_path)
    for name, text in texts.items():
        for absent in ("hwtacacs", "snmp-agent", "acl 2001", "header ", "domain "):
            assert absent not in text, (name, absent)
        assert "undo telnet server enable" in text and "idle-timeout 10 0" in text, name


def test_router_exit_without_firewall(intent_dir, tmp_path):
    """An exit router whose site has a separate firewall (role: firewall): NAT by ACL on the
    Internet port, no zones or policy of its own."""
    intent_dir.replace("sites/central.yaml", "        firewall: true\n", "        firewall: false\n")
    intent_dir.replace("sites/central.yaml", "      - name: central-exit1\n", """      - name: central-fw1
        role: firewall
        platform: huawei_vrp
        vendor: huawei
        model: USG6680E
        funding: central-subsidy
        uplinks:
          - {peer: central-pe1, bandwidth: 10G}
      - name: central-exit1
""")
    text = _variant(intent_dir, tmp_path)["central-exit1"]
    assert "security-policy" not in text and "firewall zone" not in text
    assert "acl number 3000\n" in text and " rule 1 permit ip vpn-instance ZW-PUB\n" in text and " rule 1000 deny ip\n" in text
    assert "nat address-group 1 203.0.113.64 203.0.113.95\n" in text
    assert " nat outbound 3000 address-group 1\n" in text


def test_bandwidth_filters():
    """A bandwidth spelled in each platform's unit: Comware kbit/s, VRP Mbit/s (whole only)."""
    import jinja2

    from netgen.render.environment import FILTERS

    assert FILTERS["kbps"]("100M") == 100_000 and FILTERS["kbps"]("64K") == 64
    assert FILTERS["mbps"]("10G") == 10_000 and FILTERS["mbps"]("2.5G") == 2_500
    with pytest.raises(jinja2.UndefinedError):
        FILTERS["mbps"]("64K")
