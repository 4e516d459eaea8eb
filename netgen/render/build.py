"""Render every device's config into a build directory, atomically and incrementally.

- One process per core (fork: workers inherit the model, nothing is pickled but names and text).
- Output goes to a staging directory that replaces the previous build only when every device
  rendered; a failed build leaves the last good one untouched.
- A device whose config is byte-identical to the previous build keeps its file (hard-linked
  from the old build: same inode, same mtime), so tools watching the build see only real changes.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path

import jinja2

from .. import __version__
from ..diagnostics import Diagnostic, Location, Result, Severity
from ..model.types import Network
from .environment import make_environment
from .platform import Platform, PlatformError, load_platform

MANIFEST = "manifest.json"
_NETWORK: Network | None = None  # set before forking workers
_OVERRIDE: str | None = None


@dataclass
class BuildResult(Result):
    out_dir: Path | None = None
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)


@lru_cache(maxsize=None)
def _template(platform_name: str) -> jinja2.Template:
    return make_environment(load_platform(platform_name)).get_template("device.j2")


def render_device(device, network: Network, platform: str | None = None) -> str:
    """One device's config text for its own platform, or for `platform` (e.g. frr for the lab)."""
    return _template(platform or device.platform).render(d=device, net=network)


def _template_error(name: str, exc: BaseException) -> Diagnostic:
    """Point at the template line that failed, not at netgen's code."""
    where = Location(f"templates/{name}")
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2"):
            where = Location(os.path.relpath(frame.filename), frame.lineno or 0, 1)
            break
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        where = Location(os.path.relpath(exc.filename), exc.lineno or 0, 1)
    return Diagnostic("render.template", Severity.ERROR, f"{name}: {type(exc).__name__}: {exc}", where,
                      "fix the template; templates only print values the model provides")


def _render_chunk(names: list[str]) -> list[tuple[str, str | None, Diagnostic | None]]:
    out = []
    for name in names:
        device = _NETWORK.devices[name]
        try:
            out.append((name, render_device(device, _NETWORK, _OVERRIDE), None))
        except Exception as exc:  # a template bug becomes a diagnostic naming the template line
            out.append((name, None, _template_error(name, exc)))
    return out


def fingerprint(paths: list[Path]) -> str:
    """sha256 over files' relative names and bytes, in sorted order."""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


def _read_manifest(out_dir: Path) -> dict:
    try:
        return json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _recover(out_dir: Path) -> None:
    """A build killed between its two renames leaves `.NAME.old-*`: put it back."""
    if out_dir.exists():
        return
    for old in sorted(out_dir.parent.glob(f".{out_dir.name}.old-*")):
        os.rename(old, out_dir)
        return


def build(network: Network, out_dir: Path, platform: str | None = None, jobs: int | None = None,
          intent_fingerprint: str = "", progress: bool = False) -> BuildResult:
    global _NETWORK, _OVERRIDE
    out_dir = Path(out_dir)
    result = BuildResult(out_dir=out_dir)
    names = list(network.devices)
    try:
        platforms = {platform} if platform else {d.platform for d in network.devices.values()}
        descriptors: dict[str, Platform] = {p: load_platform(p) for p in sorted(platforms)}
    except PlatformError as exc:
        result.diagnostics.append(Diagnostic("render.platform", Severity.ERROR, str(exc), Location("templates"),
                                             "render with --platform frr, or add templates for that platform"))
        return result

    _NETWORK, _OVERRIDE = network, platform
    jobs = jobs or os.cpu_count() or 1
    texts: dict[str, str] = {}
    chunks = [names[i:i + 256] for i in range(0, len(names), 256)]
    bar = _progress(len(names)) if progress else None
    if jobs > 1 and len(names) > 200:
        with ProcessPoolExecutor(jobs, mp_context=get_context("fork")) as pool:
            results = pool.map(_render_chunk, chunks)
            for chunk in results:
                _collect(chunk, texts, result, bar)
    else:
        for chunk in chunks:
            _collect(_render_chunk(chunk), texts, result, bar)
    if bar is not None:
        bar.stop()
    _NETWORK = None
    if not result.ok:
        return result

    _recover(out_dir)
    old = _read_manifest(out_dir).get("devices", {})
    stage = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    manifest_devices = {}
    try:
        for name in names:
            desc = descriptors[platform or network.devices[name].platform]
            data = texts[name].encode("utf-8")
            digest = hashlib.sha256(data).hexdigest()
            fname = name + desc.suffix
            prev = old.get(name)
            target = stage / fname
            if prev and prev.get("sha256") == digest and prev.get("file") == fname and (out_dir / fname).is_file():
                try:
                    os.link(out_dir / fname, target)
                except OSError:
                    shutil.copy2(out_dir / fname, target)
                result.unchanged.append(name)
            else:
                target.write_bytes(data)
                result.written.append(name)
            manifest_devices[name] = {"file": fname, "platform": desc.name, "sha256": digest}
        result.removed = sorted(set(old) - set(manifest_devices))
        result.manifest = {
            "netgen": __version__,
            "intent_sha256": intent_fingerprint,
            "templates_sha256": fingerprint([p for d in descriptors.values() for p in d.directory.rglob("*")
                                             if p.is_file()]),
            "devices": manifest_devices,
        }
        (stage / MANIFEST).write_text(json.dumps(result.manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        if out_dir.exists():
            retired = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
            os.rename(out_dir, retired)
            os.rename(stage, out_dir)
            shutil.rmtree(retired)
        else:
            os.rename(stage, out_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        _recover(out_dir)
        raise
    return result


def _collect(chunk, texts: dict, result: BuildResult, bar) -> None:
    for name, text, diag in chunk:
        if diag is not None:
            result.diagnostics.append(diag)
        else:
            texts[name] = text
    if bar is not None:
        bar.advance(len(chunk))


class _progress:
    """A rich progress bar on stderr, only at a terminal."""

    def __init__(self, total: int):
        self.p = None
        if sys.stderr.isatty() and total > 200:
            from rich.progress import Progress

            self.p = Progress(transient=True)
            self.p.start()
            self.task = self.p.add_task("rendering", total=total)

    def advance(self, n: int) -> None:
        if self.p:
            self.p.advance(self.task, n)

    def stop(self) -> None:
        if self.p:
            self.p.stop()
