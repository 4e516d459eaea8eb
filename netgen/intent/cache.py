"""The content-hash cache netgen keeps between runs: parsed intent files, rendered-config keys.

An entry is found by what it was made from — the bytes of an intent file, the data a config was
rendered from — never by a timestamp, and every entry sits below a directory named by a digest
of netgen's own code and the libraries it parses and renders with: code that changed never
reads what other code wrote. The cache only ever saves work; without it (`--no-cache`,
NETGEN_CACHE_DIR=off, an unwritable directory) every result is the same.

Where: $NETGEN_CACHE_DIR, else $XDG_CACHE_HOME/netgen, else ~/.cache/netgen.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
# What a cached result depends on besides its inputs: the stages up to rendering (deploy and the
# lab do not make what is cached), and the libraries that parse, check and render.
CODE = ("__init__.py", "diagnostics.py", "intent", "model", "render", "hardware")
LIBRARIES = ("PyYAML", "Cerberus", "Jinja2", "MarkupSafe")
KEEP = 3  # code versions whose entries are kept (a developer switching branches keeps theirs)


@lru_cache(maxsize=None)
def code_fingerprint() -> str:
    """sha256 over netgen's own source for the cached stages, the Python and library versions."""
    h = hashlib.sha256(sys.version.encode())
    for lib in LIBRARIES:
        try:
            h.update(f"\0{lib} {metadata.version(lib)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"\0{lib} -".encode())
    for part in CODE:
        root = PACKAGE / part
        # the code, and the data it reads as code does (the hardware profiles)
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".yaml")) if root.is_dir() else [root]:
            h.update(b"\0" + str(path.relative_to(PACKAGE)).encode() + b"\0")
            h.update(path.read_bytes())
    return h.hexdigest()


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogateescape") if isinstance(p, str) else p)  # file names need not be UTF-8
        h.update(b"\0")
    return h.hexdigest()


class Cache:
    """A directory of entries, each a file named by the digest of its name, written atomically."""

    def __init__(self, root: Path):
        self.root = root
        self.dir = root / code_fingerprint()[:24]
        try:
            os.utime(self.dir)  # marks this code version used (for _prune only)
        except OSError:
            self._prune()

    @classmethod
    def default(cls, enabled: bool = True) -> "Cache | None":
        """The user's cache, or None when it is turned off."""
        env = os.environ.get("NETGEN_CACHE_DIR")
        if not enabled or (env or "").lower() in ("off", "0", "no", "false"):
            return None
        if env:
            return cls(Path(env))
        xdg = os.environ.get("XDG_CACHE_HOME")
        return cls((Path(xdg) if xdg else Path.home() / ".cache") / "netgen")

    def path(self, kind: str, name: str) -> Path:
        return self.dir / kind / digest(name)[:32]

    def read(self, kind: str, name: str) -> bytes | None:
        try:
            return self.path(kind, name).read_bytes()
        except OSError:
            return None

    def write(self, kind: str, name: str, data: bytes) -> None:
        """Replace an entry atomically; a cache that cannot be written is simply not used."""
        target, tmp = self.path(kind, name), None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except OSError:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    def touch(self, kind: str, name: str) -> None:
        """Mark an entry used now, so trim() keeps it (entries other entries build on)."""
        try:
            os.utime(self.path(kind, name))
        except OSError:
            pass

    def trim(self, kind: str, keep: int) -> None:
        """Bound a kind's entries: past `keep`, the oldest go, down to half of it (old checkouts,
        temporary directories and edited files leave entries nobody will ask for again)."""
        try:
            entries = list(os.scandir(self.dir / kind))
            if len(entries) <= keep:
                return
            entries.sort(key=lambda e: e.stat().st_mtime_ns)
            for e in entries[:len(entries) - keep // 2]:
                os.unlink(e.path)
        except OSError:
            pass

    def _prune(self) -> None:
        """A new code version starts: keep the entries of the few most recently used others."""
        try:
            others = sorted((p for p in self.root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        except OSError:
            return
        for old in others[:-(KEEP - 1) or None]:
            shutil.rmtree(old, ignore_errors=True)
