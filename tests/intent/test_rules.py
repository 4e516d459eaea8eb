"""Every semantic rule: the example is clean, and a minimal edit makes the rule fire at the right line.

Each case edits a private copy of the example intent, validates it, and asserts that the rule
reports at the line of `needle` (computed on the edited file, never hard-coded) with a hint.
"""
from __future__ import annotations

import pytest

import netgen
from netgen.diagnostics import Severity
from netgen.intent.rules import RULES

JX, NC = "sites/jiangxi/province.yaml", "sites/jiangxi/nanchang.yaml"
GX, NN, CEN = "sites/guangxi/province.yaml", "sites/guangxi/nanning.yaml", "sites/central.yaml"
DEP, ZON, NET = "departments.yaml", "zones.yaml", "network.yaml"
GQC_SKIP = "    skip_level: true          # administered directly by the province (省直管)\n"

# rule id → (edits [(file, old, new)], file reported, needle on the reported line, nth occurrence)
CASES = {
    "address.overlap": ([(JX, GQC_SKIP, GQC_SKIP + "    prefix: {ipv4: 10.36.16.0/24}\n")],
                        JX, "prefix: {ipv4: 10.36.16.0/24}", 1),
    "address.outside-national": ([(GX, "prefix: {ipv4: 10.45.0.0/16}", "prefix: {ipv4: 172.16.0.0/16}")],
                                 GX, "prefix: {ipv4: 172.16.0.0/16}", 1),
    "address.pool": ([(JX, "loopback: {ipv4: 10.255.36.1}", "loopback: {ipv4: 10.36.200.1}")],
                     JX, "loopback: {ipv4: 10.36.200.1}", 1),
    "address.child-pool": ([(NC, "prefix: {ipv4: 10.36.16.0/20}", "prefix: {ipv4: 10.37.16.0/20}")],
                           NC, "prefix: {ipv4: 10.37.16.0/20}", 1),
    "address.zone-space": ([(DEP, "prefixes: {audit: 172.20.36.0/24}", "prefixes: {audit: 172.21.36.0/24}")],
                           DEP, "prefixes: {audit: 172.21.36.0/24}", 1),
    "department.attach": ([(DEP, "- {site: gx-nn-la-cx}", "- {site: gx-nn-la-zz}")], DEP, "{site: gx-nn-la-zz}", 1),
    "department.zones": ([(DEP, "zones: [public]}", "zones: [public, office]}")], DEP, "zones: [public, office]", 1),
    "department.system": ([(DEP, "zone: public, mlps: 2}", "zone: office, mlps: 2}")], DEP, "zone: office, mlps: 2", 1),
    "equipment.domestic": ([(CEN, "        vendor: huawei\n        model: NE40E-X16A",
                             "        vendor: cisco\n        model: NE40E-X16A")], CEN, "vendor: cisco", 1),
    "equipment.platform-vendor": ([(NN, "        vendor: huawei\n        model: AR6140",
                                    "        vendor: zte\n        model: AR6140")], NN, "platform: huawei_vrp", 3),
    "equipment.model": ([(NN, "        model: AR6140", "        model: AR6141")], NN, "model: AR6141", 1),
    "equipment.port": ([(NC, "{peer: jx-pe1, bandwidth: 10G, carrier: china-telecom}",
                         "{peer: jx-pe1, bandwidth: 10G, carrier: china-telecom, port: Ten-GigabitEthernet9/9/9}")],
                       NC, "port: Ten-GigabitEthernet9/9/9", 1),
    "transport.internet": ([(NC, "ipsec: true}", "ipsec: false}")], NC, "transport: internet", 1),
    "security.server-ref": ([(NET, "ntp: [ntp1, ntp2]", "ntp: [ntp1, ntp9]")], NET, "ntp: [ntp1, ntp9]", 1),
    "security.banner-ascii": ([(NET, "banner: \"Guojia Dianzi Zhengwu Waiwang (national e-government extranet)",
                                 "banner: \"国家电子政务外网")], NET, "banner:", 1),
    "hierarchy.central": ([(CEN, "    code: 100000\n", "    code: 100000\n    parent: jx\n")], CEN, "parent: jx", 1),
    "hierarchy.parent": ([(NN, "    parent: gx\n", "    parent: gx-zz\n")], NN, "parent: gx-zz", 1),
    "hierarchy.parent-level": ([(JX, GQC_SKIP, "")], JX, "parent: jx", 1),
    "hierarchy.uplink-peer": ([(NC, "peer: jx-pe2,", "peer: jx-pe9,")], NC, "peer: jx-pe9", 1),
    "hierarchy.no-uplink": ([(JX, "        uplinks:\n          - {peer: jx-pe1, bandwidth: 1G, carrier: china-telecom}\n",
                              "")], JX, "- name: jx-gqc-pe1", 1),
    "hierarchy.code-prefix": ([(NC, "code: 360121\n", "code: 360221\n")], NC, "code: 360221", 1),
    "redundancy.uplinks": ([(NC, "peer: jx-pe2,", "peer: jx-pe1,")], NC, "- name: jx-nc-pe1", 1),
    "redundancy.rr-pair": ([(GX, "        reflector: true\n        platform: h3c_comware", "        platform: h3c_comware")],
                           GX, "- name: gx-pe1", 1),
    "redundancy.carriers": ([(JX, "{peer: central-pe2, bandwidth: 10G, carrier: china-unicom}",
                              "{peer: central-pe2, bandwidth: 10G, carrier: china-telecom}")],
                            JX, "peer: central-pe2, bandwidth: 10G, carrier: china-telecom", 1),
    "unique.site-id": ([(NN, "- id: gx-nn-la\n", "- id: gx-nn\n")], NN, "- id: gx-nn", 2),
    "unique.site-code": ([(NN, "code: 450123\n", "code: 450100\n")], NN, "code: 450100", 2),
    "unique.device-name": ([(NN, "- name: gx-nn-pe2", "- name: gx-nn-pe1")], NN, "- name: gx-nn-pe1", 2),
    "unique.zone": ([(ZON, "vpn_id: 1002", "vpn_id: 1001")], ZON, "vpn_id: 1001", 2),
    "unique.vrf": ([(ZON, "    vpn_id: 1003\n", "    vpn_id: 1003\n    vrf: ZW-AUDIT\n")], ZON, "vrf: ZW-AUDIT", 1),
    "unique.department-id": ([(DEP, "- id: stats", "- id: samr")], DEP, "- id: samr", 2),
    "unique.server-id": ([(NET, "{id: ntp2,", "{id: ntp1,")], NET, "{id: ntp1,", 2),
    "unique.asn": ([(GX, "    region: guangxi\n", "    region: guangxi\n    asn: 4200360000\n"),
                    (JX, "    region: jiangxi\n", "    region: jiangxi\n    asn: 4200360000\n")],
                   JX, "asn: 4200360000", 1),
    "unique.address": ([(CEN, "mgmt: 10.253.0.102", "mgmt: 10.253.0.101")], CEN, "mgmt: 10.253.0.101", 2),
    "zone.intranet": ([(JX, "        model: AR6280\n",
                        "        model: AR6280\n        external:\n          - {peer: neiwang-gw, network: intranet}\n")],
                      JX, "network: intranet", 1),
    "zone.singleton": ([(ZON, "  - id: office\n", "  - id: public2\n    name: 第二公用区\n    kind: public\n"
                         "    vpn_id: 101\n\n  - id: office\n")], ZON, "kind: public", 2),
    "zone.ref": ([(ZON, "{from: internet, via: secure-access}", "{from: intranetx, via: secure-access}")],
                 ZON, "from: intranetx", 1),
    "zone.isolation": ([(ZON, "    vpn_id: 300 ", "    allow: [{from: internet, via: firewall}]\n    vpn_id: 300 ")],
                       ZON, "from: internet, via: firewall", 1),
    "zone.dedicated-member": ([(ZON, "    members: [audit]\n", "    members: [finance]\n")],
                              DEP, "dedicated: [audit]", 1),
    "zone.exit-firewall": ([(JX, "        firewall: true\n", "")], JX, "role: exit", 1),
    "zone.internet-exit": ([(DEP, "{site: gx-nn, exit: gx-nn-samr-fw1}", "{site: gx-nn}")], DEP, "- {site: gx-nn}", 3),
    "hierarchy.cycle": ([(NC, "    parent: jx\n", "    parent: jx-nc-ncx-lt\n")], NC, "parent: jx-nc-ncx-lt", 1),
}


def test_example_is_clean():
    result = netgen.validate("inventory")
    assert result.ok and result.diagnostics == [], result.diagnostics


def test_every_rule_has_a_case():
    assert set(CASES) == set(RULES), f"rules without a test case: {sorted(set(RULES) - set(CASES))}"


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_at_the_edited_line(rule_id, intent_dir):
    edits, file, needle, nth = CASES[rule_id]
    for rel, old, new in edits:
        intent_dir.replace(rel, old, new)
    result = netgen.validate(intent_dir.root)
    line = intent_dir.line_of(file, needle, nth)
    found = [d for d in result.diagnostics if d.rule == rule_id]
    assert found, f"{rule_id} did not fire; got {[(d.rule, d.message) for d in result.diagnostics]}"
    assert any(d.location.file.endswith(file) and d.location.line == line for d in found), \
        f"{rule_id} expected at {file}:{line}, got {[str(d.location) for d in found]}"
    assert all(d.hint for d in found)
    if RULES[rule_id].severity is Severity.ERROR:
        assert not result.ok and result.exit_code() == 1
    else:
        assert all(d.severity is Severity.WARNING for d in found)


# Legal situations that look suspicious: no rule may fire.

def test_dedicated_zones_may_share_space(intent_dir):
    text = intent_dir.read(DEP)
    assert text.count("172.20.36.0/24") == 2  # audit and emergency, both at jx
    assert netgen.validate(intent_dir.root).diagnostics == []


def test_two_zones_pinned_to_one_route_target_are_one_vpn(intent_dir):
    intent_dir.replace(ZON, "    vpn_id: 1001\n", "    vpn_id: 1001\n    rt: \"65000:77\"\n")
    intent_dir.replace(ZON, "    vpn_id: 1002\n", "    vpn_id: 1002\n    rt: \"65000:77\"\n")
    found = [d for d in netgen.validate(intent_dir.root).diagnostics if d.rule == "unique.vrf"]
    assert len(found) == 1 and "route target `65000:77`" in found[0].message
    assert found[0].location.line == intent_dir.line_of(ZON, "rt: \"65000:77\"", 2) and found[0].related


def test_same_lan_twice_in_one_dedicated_zone_is_an_overlap(intent_dir):
    intent_dir.replace(DEP, "        prefixes: {audit: 172.20.36.0/24}\n      - {site: jx-nc}\n",
                       "        prefixes: {audit: 172.20.36.0/24}\n      - site: jx-nc\n"
                       "        prefixes: {audit: 172.20.36.0/24}\n")
    found = [d for d in netgen.validate(intent_dir.root).diagnostics if d.rule == "address.overlap"]
    assert found and found[0].related


def test_directly_administered_county_is_legal_only_with_skip_level(intent_dir):
    assert "skip_level: true" in intent_dir.read(JX)
    assert netgen.validate(intent_dir.root).ok


def test_province_pools_need_not_lie_in_the_central_pool(intent_dir):
    assert "prefix: {ipv4: 10.0.0.0/16" in intent_dir.read(CEN) and "10.36.0.0/16" in intent_dir.read(JX)
    assert not [d for d in netgen.validate(intent_dir.root).diagnostics if d.rule.startswith("address.")]


def test_level_three_system_raises_a_county_to_two_uplinks(intent_dir):
    intent_dir.replace(DEP, "sites: [jx, gx, gx-nn]}", "sites: [jx, gx, gx-nn, gx-nn-la]}")
    found = [d for d in netgen.validate(intent_dir.root).diagnostics if d.rule == "redundancy.uplinks"]
    assert [d.message for d in found] and "gx-nn-la" in found[0].message and "level 3" in found[0].message


def test_clear_text_secret_is_never_echoed(intent_dir):
    intent_dir.replace(NET, "key: secret:aaa-shared-key", "key: Sup3rSecret!")
    result = netgen.validate(intent_dir.root)
    found = [d for d in result.diagnostics if d.rule == "secret.cleartext"]
    assert found and found[0].location.line == intent_dir.line_of(NET, "key: Sup3rSecret!")
    assert all("Sup3rSecret" not in d.message + d.hint for d in result.diagnostics)


def test_an_unknown_model_names_the_nearest_and_a_wrong_platform_the_right_one(intent_dir):
    intent_dir.replace(NN, "        model: AR6140", "        model: AR-6140")
    intent_dir.replace(JX, "        platform: huawei_vrp\n        vendor: huawei\n        model: AR6280",
                       "        platform: h3c_comware\n        vendor: huawei\n        model: AR6280")
    found = {d.message: d.hint for d in netgen.validate(intent_dir.root).diagnostics if d.rule == "equipment.model"}
    assert found["`gx-nn-la-pe1`: no hardware profile for model `AR-6140`"].startswith("did you mean `AR6140`?")
    assert "set `platform: huawei_vrp`" in found["`jx-gqc-pe1`: model `AR6280` runs huawei_vrp, not h3c_comware"]


def test_a_pinned_port_slower_than_its_link_is_refused(intent_dir):
    intent_dir.replace(NC, "{peer: jx-pe1, bandwidth: 10G, carrier: china-telecom}",
                       "{peer: jx-pe1, bandwidth: 10G, carrier: china-telecom, port: GigabitEthernet2/0/3}")
    found = [d for d in netgen.validate(intent_dir.root).diagnostics if d.rule == "equipment.port"]
    assert [d.message for d in found] == ["port `GigabitEthernet2/0/3` of `jx-nc-pe1` runs at 1G, less than the "
                                          "link's 10G"]
