"""Shared by the render tests: FRR's own parser as a fixture, and golden files of a platform."""
from __future__ import annotations

import difflib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

UPDATE = os.environ.get("NETGEN_UPDATE_GOLDEN") == "1"
VTYSH = shutil.which("vtysh") or ("/usr/bin/vtysh" if Path("/usr/bin/vtysh").is_file() else None)


@pytest.fixture(scope="module")
def vtysh_check(tmp_path_factory):
    """vtysh -C -f FILE with a private, empty config dir → (accepted, what vtysh printed)."""
    if VTYSH is None:
        pytest.skip("vtysh not installed (FRR's parser; `bash scripts/setup` as root installs frr)")
    confdir = tmp_path_factory.mktemp("vtysh-confdir")
    (confdir / "vtysh.conf").write_text("", encoding="utf-8")
    confdir.chmod(0o755)

    def check(path: Path) -> tuple[bool, str]:
        r = subprocess.run([VTYSH, "-C", "--config_dir", str(confdir), "-f", str(path)],
                           capture_output=True, text=True, timeout=60)
        said = (r.stdout + r.stderr).strip()
        # vtysh reports each rejected line as "line N: % ..."; a clean file prints nothing
        return r.returncode == 0 and "%" not in said, f"exit {r.returncode}\n{said}"

    return check


def check_goldens(golden: Path, configs: dict[str, Path]) -> None:
    """The rendered `configs` (device → file) equal the goldens in `golden` — one per device, none
    left of a device that is gone. With NETGEN_UPDATE_GOLDEN=1, rewrite them instead (and drop the
    stale ones): review the diff."""
    suffix = next(iter(configs.values())).suffix if configs else ".conf"
    kept = {p.stem for p in golden.glob(f"*{suffix}")}
    if UPDATE:
        golden.mkdir(parents=True, exist_ok=True)
        for stale in kept - set(configs):
            (golden / f"{stale}{suffix}").unlink()
        for name, path in configs.items():
            target = golden / f"{name}{suffix}"
            if not target.is_file() or target.read_bytes() != path.read_bytes():
                target.write_bytes(path.read_bytes())
        return
    missing = sorted(n for n in configs if not (golden / f"{n}{suffix}").is_file())
    assert not missing, f"no golden for {missing}: run NETGEN_UPDATE_GOLDEN=1 pytest tests/render and review"
    stale = sorted(kept - set(configs))
    assert not stale, f"goldens of devices that no longer exist: {stale} (NETGEN_UPDATE_GOLDEN=1 drops them)"
    diffs = []
    for name, path in configs.items():
        want = (golden / f"{name}{suffix}").read_text(encoding="utf-8")
        got = path.read_text(encoding="utf-8")
        if got != want:
            diffs.append("".join(difflib.unified_diff(
                want.splitlines(keepends=True), got.splitlines(keepends=True),
                fromfile=f"golden/{golden.name}/{name}{suffix}", tofile=f"rendered/{name}{suffix}")))
    assert not diffs, "rendered configs differ from the goldens (NETGEN_UPDATE_GOLDEN=1 to accept):\n" + \
        "\n".join(diffs)


def check_ospf_variant(network, platform: str, vtysh_check, directory: Path) -> None:
    """routing.igp: ospf renders another IGP path: FRR's parser must accept every device's too."""
    import dataclasses

    from netgen.render.build import render_device

    for name, device in network.devices.items():
        text = render_device(dataclasses.replace(device, igp="ospf"), network, platform)
        assert "router ospf\n" in text and "router isis" not in text
        path = directory / f"{name}.conf"
        path.write_text(text, encoding="utf-8")
        ok, said = vtysh_check(path)
        assert ok, f"{name}: {said}"
