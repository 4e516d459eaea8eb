"""The `frr` templates: FRR's own parser accepts every rendered config, goldens pin the text,
and builds are deterministic, incremental and atomic (a template error names its file and line).

FRR's parser is `vtysh -C -f FILE` (offline dry run, exit 2 on a syntax error; no daemons, no
root). It runs with a private `--config_dir` holding an empty vtysh.conf, so neither the
machine's /etc/frr (root-only on Debian) nor its contents affect the result.

Goldens: tests/render/golden/frr/<device>.conf; `NETGEN_UPDATE_GOLDEN=1 pytest tests/render`
rewrites them (and drops goldens of devices that no longer exist). Review the diff.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from netgen.model import resolve
from netgen.render import build as build_mod
from netgen.render.build import build
from netgen.render.platform import load_platform

from .conftest import check_goldens, check_ospf_variant

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory"
GOLDEN = Path(__file__).parent / "golden" / "frr"


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def network():
    res = resolve(EXAMPLE)  # resolve() never writes the lock; only `netgen build/lock` do
    assert res.ok, [str(d.message) for d in res.errors]
    return res.network


@pytest.fixture(scope="module")
def frr_build(network, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("frr") / "build"
    result = build(network, out, platform="frr", jobs=1)
    assert result.ok, [f"{d.location}: {d.message}" for d in result.diagnostics]
    return out


def _configs(out: Path) -> dict[str, Path]:
    return {p.name[:-len(".conf")]: p for p in sorted(out.glob("*.conf"))}


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int, int]]:
    """name → (bytes, inode, mtime_ns) of every file in a build directory."""
    return {p.name: (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted(directory.iterdir())}


@pytest.fixture
def clean_template_caches():
    """load_platform and the compiled device template are lru_cached per platform name: a test
    that points NETGEN_TEMPLATES elsewhere must clear them before and after."""
    load_platform.cache_clear()
    build_mod._template.cache_clear()
    yield
    load_platform.cache_clear()
    build_mod._template.cache_clear()


# ----------------------------------------------------------------------- FRR's own parser


def test_vtysh_accepts_every_rendered_config(network, frr_build, vtysh_check):
    configs = _configs(frr_build)
    assert sorted(configs) == sorted(network.devices), "one config per device"
    failures = []
    for name, path in configs.items():
        ok, said = vtysh_check(path)
        if not ok:
            failures.append(f"{name}: {said}")
    assert not failures, "vtysh -C rejected:\n" + "\n".join(failures)


@pytest.mark.parametrize("old, new, bad", [
    # an unknown keyword inside an address family
    ("  neighbor 10.255.0.10 route-reflector-client\n", "  neighbor 10.255.0.10 route-reflector-clientx\n",
     "route-reflector-clientx"),
    # an address that is not one
    (" ip address 10.254.0.21/31\n", " ip address 10.254.0.300/31\n", "10.254.0.300/31"),
    # an interface-level command at the top level
    ("router isis 1\n", "ip router isis 1\nrouter isis 1\n", "ip router isis 1"),
])
def test_vtysh_check_rejects_a_broken_config(frr_build, vtysh_check, tmp_path, old, new, bad):
    """The parser check can fail: a deliberately broken copy of a real config is rejected."""
    text = (frr_build / "jx-pe1.conf").read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "broken.conf"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    ok, said = vtysh_check(broken)
    assert not ok, f"vtysh accepted a broken config ({bad}):\n{said}"
    assert bad in said, said


def test_vtysh_accepts_the_ospf_backbone_variant(network, vtysh_check, tmp_path):
    """routing.igp: ospf renders a different igp/bgp path; FRR must accept that too."""
    check_ospf_variant(network, "frr", vtysh_check, tmp_path)


# ---------------------------------------------------------------------------------- goldens


def test_frr_configs_match_the_goldens(frr_build):
    check_goldens(GOLDEN, _configs(frr_build))


# ------------------------------------------------------------- what the configs must say


def _blocks(text: str) -> list[list[str]]:
    """Top-level blocks: a line at column 0 and its indented lines."""
    out: list[list[str]] = []
    for line in text.splitlines():
        if not line or line.startswith("!"):
            continue
        if line.startswith(" "):
            out[-1].append(line.strip())
        else:
            out.append([line])
    return out


TOP_LEVEL = ("frr ", "hostname ", "log ", "service ", "vrf ", "exit-vrf", "interface ", "router ", "exit",
             "banner ", "end", "!")


def test_every_line_sits_in_its_context(frr_build):
    """vtysh -C does not care about indentation, but frr-reload.py builds its contexts from it:
    only context openers and one-line globals may start at column 0."""
    for name, path in _configs(frr_build).items():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert line == line.rstrip(), f"{name}:{n}: trailing blank"
            assert line.startswith((" ", *TOP_LEVEL)), f"{name}:{n}: `{line}` outside its context"


def test_every_vrf_used_is_declared_with_its_netns_line(frr_build):
    """LAB-NOTES: without `vrf X` + ` netns /run/netns/X`, frr-reload.py sends `no netns` and the
    VRF goes inactive; interfaces in a VRF are written `interface IF vrf X`."""
    for name, path in _configs(frr_build).items():
        blocks = _blocks(path.read_text(encoding="utf-8"))
        declared = {b[0].split()[1] for b in blocks
                    if b[0].startswith("vrf ") and f"netns /run/netns/{b[0].split()[1]}" in b[1:]}
        used = set()
        for b in blocks:
            m = re.fullmatch(r"(?:interface \S+|router ospf) vrf (\S+)", b[0])
            if m:
                used.add(m.group(1))
            elif b[0].startswith("vrf "):
                used.add(b[0].split()[1])
        assert used <= declared, f"{name}: VRFs without `vrf X` / ` netns /run/netns/X`: {used - declared}"


def test_zones_ride_their_own_copy_of_each_link_on_both_ends(network, frr_build):
    """VRF-lite: a link carrying zone Z has `e{port}v{vpn}` in Z's VRF at both ends, with the
    link's own addresses, in OSPF area 0 of that VRF; no other zone is on that copy."""
    texts = {n: p.read_text(encoding="utf-8") for n, p in _configs(frr_build).items()}
    for link in network.links:
        for zone in link.zones:
            for dev, port in ((link.a, link.a_port), (link.b, link.b_port)):
                v = network.devices[dev].zone_vrf(zone)
                iface = next(i for i in network.devices[dev].interfaces if i.port == port and i.kind != "access")
                block = next((b for b in _blocks(texts[dev]) if b[0] == f"interface e{port}v{v.vpn_id} vrf {v.name}"),
                             None)
                assert block is not None, f"{dev}: no copy of port {port} for zone {zone}"
                assert f"ip address {iface.ipv4}" in block and "ip ospf area 0" in block, (dev, block)


def test_only_internet_exits_originate_a_default_and_only_into_the_internet_zone(network, frr_build):
    for name, path in _configs(frr_build).items():
        device = network.devices[name]
        blocks = _blocks(path.read_text(encoding="utf-8"))
        originating = {b[0] for b in blocks if "default-information originate always" in b}
        statics = [(b[0], line) for b in blocks for line in b[1:] if line.startswith(("ip route ", "ipv6 route "))]
        if device.internet is None:
            assert not originating and not statics, name
        else:
            inet = device.zone_vrf(next(i.vrf for i in device.interfaces if i.kind == "internet")).name
            assert originating == {f"router ospf vrf {inet}"}, (name, originating)
            assert statics == [(f"vrf {inet}", f"ip route 0.0.0.0/0 {device.internet.gateway}")], statics


def test_nothing_rendered_that_running_config_never_shows(frr_build):
    """frr-reload.py diffs the file against `show running-config`, which omits defaults: a line
    FRR 8.4 (datacenter profile) never prints would be re-applied on every reload."""
    never_shown = {
        "ip forwarding": "zebra prints only `no ip forwarding`",
        "ipv6 forwarding": "zebra prints only `no ipv6 forwarding`",
        "no bgp ebgp-requires-policy": "already off in the datacenter profile",
        "bgp log-neighbor-changes": "already on in the datacenter profile",
        "metric-style wide": "the frr-isisd YANG default",
        "frr version 8.4": "FRR 8.4.4 prints its own version, 8.4.4",
    }
    for name, path in _configs(frr_build).items():
        lines = {line.strip() for line in path.read_text(encoding="utf-8").splitlines()}
        for line, why in never_shown.items():
            assert line not in lines, f"{name}: renders `{line}` ({why})"


def test_zone_vrf_lookup_names_the_device_and_zone(network):
    device = network.devices["jx-pe1"]
    assert device.zone_vrf("public").name == "ZW-PUB"
    with pytest.raises(KeyError, match="jx-pe1.*no-such-zone"):
        device.zone_vrf("no-such-zone")
    transit = network.devices["central-pe2"]
    assert transit.vrfs == () and transit.zone_vrf("public") in transit.transit_vrfs


# ------------------------------------------------------------------------------ determinism


def test_two_builds_are_byte_identical(network, frr_build, tmp_path):
    again = tmp_path / "again"
    assert build(network, again, platform="frr", jobs=1).ok
    first = {p.name: p.read_bytes() for p in frr_build.iterdir()}
    second = {p.name: p.read_bytes() for p in again.iterdir()}
    assert first == second


def test_builds_are_identical_across_processes_and_hash_seeds(intent_dir, frr_build, tmp_path):
    """Set or dict order leaking into the output would differ between interpreter runs."""
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        r = subprocess.run([sys.executable, "-m", "netgen", "build", str(intent_dir.root), "-o", str(out),
                            "--platform", "frr", "--locked", "--jobs", "1"],
                           capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        outs.append({p.name: p.read_bytes() for p in out.glob("*.conf")})
    assert outs[0] == outs[1]
    assert outs[0] == {p.name: p.read_bytes() for p in frr_build.glob("*.conf")}


def test_second_build_leaves_every_file_untouched(network, tmp_path):
    out = tmp_path / "build"
    first = build(network, out, platform="frr", jobs=1)
    assert first.ok and sorted(first.written) == sorted(network.devices)
    before = _snapshot(out)
    second = build(network, out, platform="frr", jobs=1)
    assert second.ok
    assert second.written == [] and sorted(second.unchanged) == sorted(network.devices)
    after = _snapshot(out)
    devices = {n for n in before if n.endswith(".conf")}
    assert devices == {n for n in after if n.endswith(".conf")} and len(devices) == len(network.devices)
    for n in devices:
        assert after[n] == before[n], f"{n}: bytes, inode or mtime changed"
    assert after["manifest.json"][0] == before["manifest.json"][0]


@pytest.mark.parametrize("breakage, kind", [
    ("{{ d.no_such_field }}", "UndefinedError"),
    ("{% if %}", "TemplateSyntaxError"),
])
def test_a_failing_template_names_its_line_and_keeps_the_previous_build(
        network, tmp_path, monkeypatch, clean_template_caches, breakage, kind):
    out = tmp_path / "build"
    assert build(network, out, platform="frr", jobs=1).ok
    before = _snapshot(out)

    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    bgp = templates / "frr" / "bgp.j2"
    lines = bgp.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith(" bgp router-id")) + 1
    lines.insert(at, breakage + "\n")
    bgp.write_text("".join(lines), encoding="utf-8")
    monkeypatch.setenv("NETGEN_TEMPLATES", str(templates))
    load_platform.cache_clear()
    build_mod._template.cache_clear()

    result = build(network, out, platform="frr", jobs=1)
    assert not result.ok
    errors = result.errors
    assert {d.rule for d in errors} == {"render.template"}
    assert all(kind in d.message for d in errors), [d.message for d in errors]
    # every device with BGP sessions trips over it, each pointing at the broken line
    assert {d.location.file.replace(os.sep, "/").rsplit("/", 2)[-2:] == ["frr", "bgp.j2"] for d in errors} == {True}
    assert {d.location.line for d in errors} == {at + 1}, [str(d.location) for d in errors]
    assert _snapshot(out) == before, "a failed build must leave the previous build byte-for-byte intact"
    assert not list(tmp_path.glob(".build.*")), "no staging directory may be left behind"
