"""The build directory: configs plus manifest.json, changed only when a whole build succeeded.

- A first build is written into a staging directory beside it and renamed into place.
- Later builds change only what changed, in place: each changed config is renamed over its old
  file (so a reader never sees half a file), a removed device's file is deleted, and the
  manifest is written last. An unchanged config keeps its file (same inode and mtime), so tools
  watching the build see only real changes. A marker file says an update is under way: a build
  that finds it (the previous one was killed) trusts no manifest hash and compares bytes.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from pathlib import Path

MANIFEST = "manifest.json"
PARTIAL = ".netgen-partial"  # inside the build directory while an in-place update runs


def fingerprint(paths: list[Path], root: Path | None = None) -> str:
    """sha256 over files' names and bytes, in sorted order. With `root`, names are relative to
    it, so the same tree gives the same hash whatever path it was reached by."""
    h = hashlib.sha256()
    if root is not None:
        root = Path(root).resolve()
        named = sorted((Path(p).resolve().relative_to(root).as_posix(), Path(p)) for p in paths)
    else:
        named = sorted((str(p), Path(p)) for p in paths)
    for name, p in named:
        h.update(name.encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


def staging(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"


@dataclass
class Previous:
    """What the build directory holds now, as far as it can be trusted."""

    devices: dict  # manifest entries: device → {file, platform, sha256}
    files: set[str]  # names present in the directory
    trusted: bool  # the manifest's hashes describe the files (no update was interrupted)

    def same(self, out_dir: Path, name: str, file: str, sha: str, text: bytes | None) -> bool:
        """Whether the directory already holds exactly this config for this device."""
        prev = self.devices.get(name)
        if not prev or prev.get("file") != file or file not in self.files:
            return False
        if self.trusted:
            return prev.get("sha256") == sha
        try:
            return text is not None and (out_dir / file).read_bytes() == text
        except OSError:
            return False


def previous(out_dir: Path) -> Previous:
    _recover(out_dir)
    try:
        files = set(os.listdir(out_dir))
    except OSError:
        return Previous({}, set(), True)
    try:
        devices = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8")).get("devices", {})
    except (OSError, ValueError, AttributeError):
        devices = {}
    return Previous(devices if isinstance(devices, dict) else {}, files, PARTIAL not in files)


def commit(out_dir: Path, stage: Path, manifest: str, removed: list[str]) -> None:
    """Make the build directory hold the new build: the configs in `stage` replace (or add to)
    what is there, `removed` are the files to delete. Then the manifest (its text)."""
    if not out_dir.exists():
        (stage / MANIFEST).write_text(manifest, encoding="utf-8")
        os.rename(stage, out_dir)
        return
    marker = out_dir / PARTIAL
    marker.touch()
    for f in os.listdir(stage):
        os.replace(stage / f, out_dir / f)
    for f in removed:
        try:
            os.unlink(out_dir / f)
        except FileNotFoundError:
            pass
    try:
        unchanged = (out_dir / MANIFEST).read_text(encoding="utf-8") == manifest
    except OSError:
        unchanged = False
    if not unchanged:
        (stage / MANIFEST).write_text(manifest, encoding="utf-8")
        os.replace(stage / MANIFEST, out_dir / MANIFEST)
    marker.unlink()
    shutil.rmtree(stage, ignore_errors=True)


# manifest.json is what json.dumps(manifest, indent=1, sort_keys=True) writes, plus a newline
# (BuildResult.manifest reads it back), written directly from each device's entry, made where
# the device was rendered (json's indenting encoder is pure Python: a quarter of a second at
# 50,000 devices).

def manifest_entry(name: str, file: str, platform: str, sha256: str) -> str:
    """A device's entry in manifest.json (TypeError for a value that is not a string)."""
    q = encode_basestring_ascii  # json.dumps of a string
    return f'  {q(name)}: {{\n   "file": {q(file)},\n   "platform": {q(platform)},\n   "sha256": {q(sha256)}\n  }}'


def manifest_document(entries: list[str], intent_sha256: str, netgen: str, templates_sha256: str) -> str:
    """manifest.json from its devices' entries (manifest_entry; runs of them joined by ",\\n"),
    in device name order."""
    q = encode_basestring_ascii
    devices = "{\n" + ",\n".join(entries) + "\n }" if entries else "{}"
    return (f'{{\n "devices": {devices},\n "intent_sha256": {q(intent_sha256)},\n "netgen": {q(netgen)},\n'
            f' "templates_sha256": {q(templates_sha256)}\n}}\n')


def _recover(out_dir: Path) -> None:
    """A build of an older netgen, killed between its two renames, left `.NAME.old-*`: put it back."""
    if out_dir.exists():
        return
    for old in sorted(out_dir.parent.glob(f".{out_dir.name}.old-*")):
        os.rename(old, out_dir)
        return
