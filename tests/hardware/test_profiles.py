"""Hardware profiles (netgen/hardware): the shipped ones load and are consistent, a broken one is
refused with its file and model, and allocation gives each link a port of the speed it needs,
named as the model names it, stably."""
from __future__ import annotations

import json

import pytest

import netgen.hardware as hw
from netgen.model import resolve
from netgen.render.build import render_device


@pytest.fixture
def profiles(tmp_path, monkeypatch):
    """A private profile directory: write(text) puts one file there and clears the loader's cache."""
    def write(text: str) -> None:
        (tmp_path / "test.yaml").write_text(text, encoding="utf-8")
        hw.all_models.cache_clear()

    monkeypatch.setattr(hw, "DIRECTORY", tmp_path)
    monkeypatch.setattr(hw, "FILES", ("test.yaml",))
    yield write
    hw.all_models.cache_clear()


GOOD = """models:
  BOX-1:
    platform: huawei_vrp
    kind: router
    software: vrp8
    release: V800R021C10
    commit: two-stage
    mgmt_port: GigabitEthernet0/0/0
    reserved_slots: [9]
    ports:
      - {name: "GigabitEthernet{slot}/0/{port}", slots: [1, 2], first: 0, count: 2, speed: 10G}
      - {name: "100GE{slot}/0/{port}", slots: [3], first: 0, count: 1, speed: 100G}
"""


def test_the_shipped_profiles_load_and_cover_every_platform():
    models = hw.all_models()
    for platform in ("huawei_vrp", "h3c_comware", "frr"):
        assert hw.models_of(platform), platform
    for name, prof in models.items():
        assert prof.ports, name
        assert [p.index for p in prof.ports] == list(range(1, len(prof.ports) + 1))
        assert prof.hardware.software in hw.SOFTWARE and prof.hardware.commit in hw.COMMIT
    # software decides the commit mode a model can have (VRP5 has no commit trial)
    assert {p.hardware.commit for p in models.values() if p.hardware.software == "vrp5"} == {"netgen-held"}
    assert {p.hardware.commit for p in models.values() if p.hardware.software == "vrp8"} == {"two-stage"}


def test_every_model_the_example_and_the_generator_use_has_a_profile():
    from benchmarks.gen_intent import LADDERS, MODELS
    res = resolve("inventory")
    assert res.ok
    used = {d.model for d in res.network.devices.values()} | {m for p in MODELS.values() for m in p.values()}
    used |= {m for p in LADDERS.values() for ladder in p.values() for m in ladder}
    assert sorted(m for m in used if hw.profile(m) is None) == []


def test_ports_expand_in_order_with_their_speed(profiles):
    profiles(GOOD)
    prof = hw.profile("BOX-1")
    assert [(p.name, p.speed, p.index) for p in prof.ports] == [
        ("GigabitEthernet1/0/0", 10_000, 1), ("GigabitEthernet1/0/1", 10_000, 2),
        ("GigabitEthernet2/0/0", 10_000, 3), ("GigabitEthernet2/0/1", 10_000, 4), ("100GE3/0/0", 100_000, 5)]
    # the slowest line rate that carries a bandwidth; none when no port is fast enough
    assert [prof.speed_for(hw.mbps(b)) for b in ("100M", "1G", "10G", "40G", "400G")] == \
        [10_000, 10_000, 10_000, 100_000, None]
    assert prof.hardware.mgmt_port == "GigabitEthernet0/0/0" and prof.hardware.commit == "two-stage"


@pytest.mark.parametrize("broken, message", [
    (GOOD.replace("slots: [3]", "slots: [9]"), r"slot\(s\) \[9\], which the chassis reserves"),
    (GOOD.replace("speed: 100G", "speed: 100Gb"), r"speed '100Gb' is not one of"),
    (GOOD.replace("100GE{slot}/0/{port}", "GigabitEthernet{slot}/0/{port}").replace("slots: [3]", "slots: [2]"),
     r"port GigabitEthernet2/0/0 listed twice"),
    (GOOD.replace("commit: two-stage", "commit: maybe"), r"commit 'maybe' is not one of"),
    (GOOD.replace("    kind: router\n", "    kind: router\n    colour: red\n"), r"unknown key\(s\) \['colour'\]"),
    (GOOD.replace("    software: vrp8\n", ""), r"missing \['software'\]"),
])
def test_a_broken_profile_is_refused_naming_the_file_and_model(profiles, broken, message):
    profiles(broken)
    with pytest.raises(hw.ProfileError, match=message) as err:
        hw.all_models()
    assert "test.yaml" in str(err.value) and "BOX-1" in str(err.value)


def test_links_take_ports_of_their_speed_named_as_the_model_names_them():
    net = resolve("inventory").network
    for d in net.devices.values():
        prof = hw.profile(d.model)
        for i in d.interfaces:
            if i.kind in ("uplink", "downlink"):
                port = prof.by_name[i.port_name]
                assert port.speed == prof.speed_for(hw.mbps(i.bandwidth)), (d.name, i.port_name, i.bandwidth)
                assert port.index == i.port
    # the naming differs per vendor for the same speed: a 10G port is GigabitEthernet on an
    # NE40E (DOMAIN.md §7) and Ten-GigabitEthernet on an H3C router
    jx_pe1 = {i.peer_device: i.port_name for i in net.devices["jx-pe1"].interfaces if i.peer_device}
    jx_nc_pe1 = {i.peer_device: i.port_name for i in net.devices["jx-nc-pe1"].interfaces if i.peer_device}
    assert jx_pe1["jx-nc-pe1"].startswith("GigabitEthernet")
    assert jx_nc_pe1["jx-pe1"].startswith("Ten-GigabitEthernet")
    text = render_device(net.devices["jx-nc-pe1"], net)
    assert f"interface {jx_nc_pe1['jx-pe1']}\n description to jx-pe1 {jx_pe1['jx-nc-pe1']}\n" in text


def test_a_bandwidth_within_the_speed_keeps_its_port_and_one_beyond_moves_it(intent_dir):
    nc = "sites/jiangxi/nanchang.yaml"
    key = "port/jx-nc-pe1/link:jx-nc-pe1~jx-pe1"
    resolve(intent_dir.root).write_lock()
    before = json.loads(intent_dir.read("netgen.lock"))["allocations"][key]
    intent_dir.replace(nc, "{peer: jx-pe1, bandwidth: 10G,", "{peer: jx-pe1, bandwidth: 5G,")
    res = resolve(intent_dir.root)
    assert res.ok and not res.lock_changed and res.allocation.ports[key] == before
    intent_dir.replace(nc, "{peer: jx-pe1, bandwidth: 5G,", "{peer: jx-pe1, bandwidth: 1G,")
    res = resolve(intent_dir.root)
    moved = res.allocation.ports[key]
    assert res.ok and key in res.allocation.new and moved != before
    assert hw.profile("SR6608-X").by_name[moved].speed == 1000


def test_a_model_with_no_port_of_the_speed_left_names_the_device_and_what_is_free(intent_dir):
    """The township CE (an MSR3610: three gigabit ports) has its uplink and one department LAN;
    two more departments attached there need one port more than it has."""
    intent_dir.replace("departments.yaml", "      - {site: jx-gqc}\n      - {site: gx-nn-la-cx}",
                       "      - {site: jx-gqc}\n      - {site: gx-nn-la-cx}\n      - {site: jx-nc-ncx-lt}")
    intent_dir.replace("departments.yaml", "      - {site: jx-gqc, zones: [public]}",
                       "      - {site: jx-gqc, zones: [public]}\n      - {site: jx-nc-ncx-lt, zones: [public]}")
    res = resolve(intent_dir.root)
    found = [d for d in res.diagnostics if d.rule == "allocate.port"]
    assert not res.ok and len(found) == 1, [str(d) for d in res.diagnostics]
    assert found[0].message == ("`jx-nc-ncx-lt-ce1` (MSR3610) has no 1G port left for "
                                "`port/jx-nc-ncx-lt-ce1/access:stats`: all 3 1G ports of the model are in use")
    assert found[0].location.file.endswith("departments.yaml")


def test_a_port_number_in_an_older_lock_is_replaced_by_a_named_port(intent_dir):
    resolve(intent_dir.root).write_lock()
    lock = json.loads(intent_dir.read("netgen.lock"))
    key = "port/jx-pe1/link:jx-pe1~central-pe1"
    named = lock["allocations"][key]
    lock["allocations"][key] = "3"  # what netgen wrote before hardware profiles
    intent_dir.write("netgen.lock", json.dumps(lock))
    res = resolve(intent_dir.root)
    assert res.ok and res.lock_changed and res.allocation.ports[key] == named


def test_a_profile_change_is_a_change_of_code_for_the_caches(tmp_path, monkeypatch):
    """Allocation and rendering read the profiles as they read netgen's code: an edited profile
    must not meet entries cached by the old one (they sit below a digest of code and profiles)."""
    import shutil

    import netgen.intent.cache as cache_mod
    package = tmp_path / "netgen"
    shutil.copytree(cache_mod.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache_mod, "PACKAGE", package)
    before = cache_mod.code_fingerprint.__wrapped__()
    (package / "hardware" / "huawei.yaml").write_text(
        (package / "hardware" / "huawei.yaml").read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert cache_mod.code_fingerprint.__wrapped__() != before
