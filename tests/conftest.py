"""Shared fixtures: a private copy of the example intent that a test may edit."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["tests.labkit"]  # the `lab` fixture, for every test that runs a lab

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "inventory"


NEW_COUNTY = """
  - id: jx-nc-xj
    name: 新建区
    level: county
    code: 360112
    parent: jx-nc
    devices:
      - name: jx-nc-xj-pe1
        role: pe
        platform: huawei_vrp
        vendor: huawei
        model: AR6280
        funding: local
        uplinks:
          - {peer: jx-nc-pe2, bandwidth: 1G, carrier: china-unicom}
"""


class IntentDir:
    """A writable copy of the example intent with small text-edit helpers."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read(self, rel: str) -> str:
        return self.path(rel).read_text(encoding="utf-8")

    def write(self, rel: str, text: str) -> Path:
        p = self.path(rel)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        return p

    def replace(self, rel: str, old: str, new: str, count: int = 1) -> None:
        """Replace text in a file; fails loudly if `old` is not there (so a test cannot pass vacuously)."""
        text = self.read(rel)
        assert old in text, f"{old!r} not found in {rel}"
        self.write(rel, text.replace(old, new, count))

    def add_county(self) -> str:
        """The everyday change: a new county (新建区) under Nanchang with a department on it.
        Returns the new device's name."""
        self.write("sites/jiangxi/nanchang.yaml", self.read("sites/jiangxi/nanchang.yaml") + NEW_COUNTY)
        self.replace("departments.yaml", "      - {site: jx-nc-ncx-lt}\n",
                     "      - {site: jx-nc-ncx-lt}\n      - {site: jx-nc-xj}\n")
        return "jx-nc-xj-pe1"

    def line_of(self, rel: str, needle: str, nth: int = 1) -> int:
        """1-based line number of the nth line containing `needle`."""
        seen = 0
        for i, line in enumerate(self.read(rel).splitlines(), 1):
            if needle in line:
                seen += 1
                if seen == nth:
                    return i
        raise AssertionError(f"{needle!r} not found in {rel}")


@pytest.fixture
def intent_dir(tmp_path) -> IntentDir:
    dst = tmp_path / "inventory"
    shutil.copytree(EXAMPLE, dst)
    return IntentDir(dst)
