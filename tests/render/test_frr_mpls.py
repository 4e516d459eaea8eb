"""The `frr_mpls` templates (the production design on FRR 8.4: IS-IS + LDP, MP-BGP VPNv4/VPNv6
through the reflectors, kernel VRFs, 802.1q department LANs): FRR's own parser accepts every
rendered config of the example, goldens pin the text, and the stanzas say what the model says.

Parser: `vtysh -C -f FILE` with a private, empty config dir (as tests/render/test_frr.py).
Goldens: tests/render/golden/frr_mpls/<device>.conf; `NETGEN_UPDATE_GOLDEN=1 pytest
tests/render/test_frr_mpls.py` rewrites them (and drops goldens of devices that no longer exist).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from netgen.model import resolve
from netgen.render.build import build
from netgen.render.platform import load_platform

from .conftest import check_goldens, check_ospf_variant

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory"
GOLDEN = Path(__file__).parent / "golden" / "frr_mpls"


@pytest.fixture(scope="module")
def network():
    res = resolve(EXAMPLE)
    assert res.ok, [str(d.message) for d in res.errors]
    return res.network


@pytest.fixture(scope="module")
def configs(network, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("frr_mpls") / "build"
    result = build(network, out, platform="frr_mpls", jobs=1)
    assert result.ok, [f"{d.location}: {d.message}" for d in result.diagnostics]
    return {p.name[:-len(".conf")]: p for p in sorted(out.glob("*.conf"))}


def _blocks(text: str) -> dict[str, list[str]]:
    """Top-level blocks by their opening line → their indented lines (stripped)."""
    out: dict[str, list[str]] = {}
    head = None
    for line in text.splitlines():
        if not line or line.startswith("!"):
            continue
        if line.startswith(" "):
            out[head].append(line.strip())
        else:
            head = line
            out.setdefault(head, [])
    return out


def test_the_platform_is_an_mpls_platform_with_8021q_sub_interfaces():
    p = load_platform("frr_mpls")
    assert (p.napalm_driver, p.suffix, p.vrf_lite, p.loopback) == ("netgen_frr", ".conf", False, "lo")
    assert p.ifname(3) == "eth3" and p.ifname(57, 100) == "eth57.100" and p.ifname(0, kind="loopback") == "lo"


def test_vtysh_accepts_every_rendered_config(network, configs, vtysh_check):
    assert sorted(configs) == sorted(network.devices), "one config per device"
    failures = [f"{n}: {said}" for n, path in configs.items() for ok, said in [vtysh_check(path)] if not ok]
    assert not failures, "vtysh -C rejected:\n" + "\n".join(failures)


def test_vtysh_check_rejects_a_broken_config(configs, vtysh_check, tmp_path):
    text = configs["jx-gqc-pe1"].read_text(encoding="utf-8")
    assert "  label vpn export auto\n" in text
    broken = tmp_path / "broken.conf"
    broken.write_text(text.replace("  label vpn export auto\n", "  label vpn export automatic\n", 1))
    ok, said = vtysh_check(broken)
    assert not ok and "automatic" in said, said


def test_vtysh_accepts_the_ospf_backbone_variant(network, vtysh_check, tmp_path):
    check_ospf_variant(network, "frr_mpls", vtysh_check, tmp_path)


def test_frr_mpls_configs_match_the_goldens(configs):
    check_goldens(GOLDEN, configs)


def test_each_pe_has_its_zones_as_kernel_vrfs_with_the_models_rd_and_rt(network, configs):
    for name, path in configs.items():
        device, blocks = network.devices[name], _blocks(path.read_text(encoding="utf-8"))
        assert not any(line.startswith("netns") for b in blocks.values() for line in b), name  # VRF devices
        assert {h.split()[1] for h in blocks if h.startswith("vrf ")} <= {v.name for v in device.vrfs}, name
        assert {h.split()[-1] for h in blocks if h.startswith(f"router bgp {device.asn} vrf ")} == \
            {v.name for v in device.vrfs}, name
        for v in device.vrfs:
            body = blocks[f"router bgp {device.asn} vrf {v.name}"]
            for line in ("redistribute connected", "label vpn export auto", f"rd vpn export {v.rd}",
                         f"rt vpn both {v.rt}", "export vpn", "import vpn"):
                assert line in body, (name, v.name, line)
        # no per-zone copies of links (VRF-lite); every access LAN is an 802.1q sub-interface (in its
        # zone's VRF device: the kernel's, tests/lab/test_mpls_topology.py), with MPLS input on each VRF
        for i in device.interfaces:
            if i.kind == "access":
                assert f"interface eth{i.port}.{i.vlan}" in blocks, (name, i)
        for v in device.vrfs:
            assert blocks[f"interface {v.name}"] == ["mpls enable"], (name, v.name)
        assert not [h for h in blocks if re.match(r"interface e\d+v\d+", h)], name


def test_igp_links_run_isis_with_the_models_cost_and_ldp_from_the_loopback(network, configs):
    for name, path in configs.items():
        device, blocks = network.devices[name], _blocks(path.read_text(encoding="utf-8"))
        assert f"net {device.isis_net}" in blocks["router isis 1"] and "is-type level-2-only" in blocks["router isis 1"]
        core = [i for i in device.interfaces if i.igp and i.kind != "loopback"]
        ldp = blocks.get("mpls ldp", [])
        for i in device.interfaces:
            body = blocks.get(f"interface eth{i.port}", [])
            if i in core:
                want = {"ip router isis 1", "isis network point-to-point", "mpls enable"}
                assert want <= set(body), (name, i)
                # the model's cost; FRR's default (10) is left out, as FRR's running config does
                metric = [line for line in body if line.startswith("isis metric")]
                assert metric == ([] if i.cost == 10 else [f"isis metric {i.cost}"]), (name, i)
                assert ("ipv6 router isis 1" in body) == bool(i.ipv6)
                assert f"interface eth{i.port}" in ldp, (name, i.port)
            elif i.kind in ("uplink", "downlink"):  # inter-AS: neither IGP nor LDP
                assert not any("isis" in line for line in body) and f"interface eth{i.port}" not in ldp, (name, i)
        if core:
            assert f"router-id {device.router_id}" in ldp and "label local allocate host-routes" in ldp
            assert f"discovery transport-address {device.loopback4}" in ldp


def test_bgp_sessions_are_the_models(network, configs):
    for name, path in configs.items():
        device, blocks = network.devices[name], _blocks(path.read_text(encoding="utf-8"))
        body = blocks.get(f"router bgp {device.asn}", [])
        for s in device.bgp:
            assert f"neighbor {s.peer_address} remote-as {s.remote_as}" in body, (name, s)
            assert (f"neighbor {s.peer_address} update-source lo" in body) == s.update_source_loopback
            assert (f"neighbor {s.peer_address} ebgp-multihop 255" in body) == (s.kind == "ebgp-vpn")
            assert (f"neighbor {s.peer_address} route-reflector-client" in body) == (s.kind == "rr-client")
            assert (f"neighbor {s.peer_address} activate" in body)
        assert bool(body) == bool(device.bgp), name


def test_the_isis_instance_precedes_the_interfaces_that_join_it(configs):
    """FRR validates each interface as it is loaded: `isis metric` above 63 needs the instance (and
    its wide metrics) to exist, else the whole interface is rejected (seen loading in the guest)."""
    for name, path in configs.items():
        text = path.read_text(encoding="utf-8")
        if "isis metric" in text:
            assert text.index("router isis 1\n") < text.index("ip router isis 1"), name
