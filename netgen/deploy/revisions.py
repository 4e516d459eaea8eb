"""`netgen diff`: the config impact of an intent change, offline, between two git revisions.

Each side is exported from git (`git archive`: the intent directory, and the repository's
`templates/` if it has its own) into a temporary directory and built there by `netgen build` in
a child process — the same code path as a real build, and no template cache shared between the
two sides. Head defaults to the working tree as it is (uncommitted edits included).
"""
from __future__ import annotations

import difflib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .session import DeployError


@dataclass
class DeviceDiff:
    name: str
    status: str  # changed | added | removed
    diff: str


@dataclass
class RevisionDiff:
    base: str
    head: str
    devices: list[DeviceDiff] = field(default_factory=list)

    def exit_code(self) -> int:
        return 2 if self.devices else 0


def _git(repo: Path, *args: str, binary: bool = False):
    p = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=not binary)
    if p.returncode != 0:
        err = p.stderr.decode(errors="replace") if binary else p.stderr
        raise DeployError(f"git {' '.join(args[:2])}: {err.strip()[:300]}")
    return p.stdout


def _export(repo: Path, rev: str, paths: list[str], into: Path) -> None:
    existing = [p for p in paths if _git(repo, "ls-tree", "--name-only", rev, "--", p).strip()]
    if not existing:
        raise DeployError(f"revision {rev} has no {paths[0]}")
    data = _git(repo, "archive", "--format=tar", rev, "--", *existing, binary=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")


def _build(intent: Path, out: Path, templates: Path | None, platform: str | None, label: str) -> dict[str, str]:
    env = dict(os.environ)
    if templates is not None:
        env["NETGEN_TEMPLATES"] = str(templates)
    cmd = [sys.executable, "-m", "netgen", "build", str(intent), "-o", str(out), *(["--platform", platform]
                                                                                   if platform else [])]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise DeployError(f"{label} does not build:\n{(p.stdout + p.stderr).strip()[:3000]}")
    return {f.stem: f.read_text(encoding="utf-8") for f in out.iterdir() if f.suffix in (".cfg", ".conf")}


def diff_revisions(intent_dir: str | Path, base: str, head: str | None = None, platform: str | None = None,
                   context: int = 3) -> RevisionDiff:
    intent_dir = Path(intent_dir).resolve()
    if not intent_dir.is_dir():
        raise DeployError(f"{intent_dir}: no such intent directory")
    repo = Path(_git(intent_dir, "rev-parse", "--show-toplevel").strip())
    rel = intent_dir.relative_to(repo).as_posix()
    has_templates = (repo / "templates").is_dir() or bool(_git(repo, "ls-tree", "--name-only", base, "--",
                                                               "templates").strip())
    with tempfile.TemporaryDirectory(prefix="netgen-diff-") as tmp:
        tmp = Path(tmp)
        sides = {}
        for side, rev in (("base", base), ("head", head)):
            root = tmp / side
            root.mkdir()
            if rev is None:  # the working tree
                shutil.copytree(intent_dir, root / rel, dirs_exist_ok=True)
                if has_templates and (repo / "templates").is_dir():
                    shutil.copytree(repo / "templates", root / "templates")
            else:
                _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
                _export(repo, rev, [rel, *(["templates"] if has_templates else [])], root)
            templates = root / "templates" if (root / "templates").is_dir() else None
            sides[side] = _build(root / rel, tmp / f"{side}-build", templates, platform,
                                 f"the intent at {rev or 'the working tree'}")
    out = RevisionDiff(base, head or "working tree")
    old, new = sides["base"], sides["head"]
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        status = "added" if a is None else "removed" if b is None else "changed"
        lines = difflib.unified_diff((a or "").splitlines(), (b or "").splitlines(), f"{name} @ {base}",
                                     f"{name} @ {head or 'working tree'}", n=context, lineterm="")
        out.devices.append(DeviceDiff(name, status, "\n".join(lines)))
    return out


def markdown(d: RevisionDiff) -> str:
    """For a pull-request comment: a summary table, then each device's diff folded."""
    if not d.devices:
        return f"**netgen diff** `{d.base}` → `{d.head}`: no device config changes.\n"
    rows = ["| device | change | lines |", "|---|---|---|"]
    for x in d.devices:
        plus = sum(1 for line in x.diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
        minus = sum(1 for line in x.diff.splitlines() if line.startswith("-") and not line.startswith("---"))
        rows.append(f"| `{x.name}` | {x.status} | +{plus} −{minus} |")
    parts = [f"**netgen diff** `{d.base}` → `{d.head}`: {len(d.devices)} device config(s) change.\n", *rows, ""]
    for x in d.devices:
        fence = "````" if "```" in x.diff else "```"
        parts += [f"<details><summary><code>{x.name}</code> ({x.status})</summary>\n", f"{fence}diff", x.diff,
                  fence, "</details>\n"]
    return "\n".join(parts)
