"""The content-hash cache netgen keeps between runs: parsed intent files, rendered-config keys.

An entry is found by what it was made from — the bytes of an intent file, the data a config was
rendered from — never by a timestamp, and every entry sits below a directory named by a digest
of netgen's own code and the libraries it parses and renders with: code that changed never
reads what other code wrote. The cache only ever saves work; without it (`--no-cache`,
NETGEN_CACHE_DIR=off, an unwritable directory) every result is the same.

Where: $NETGEN_CACHE_DIR, else $XDG_CACHE_HOME/netgen, else ~/.cache/netgen.

Nothing read from it is trusted unchecked: every entry carries an HMAC-SHA256 over netgen's code
fingerprint, the entry's kind and name, and its bytes, under a random key kept (0600) in the
code version's directory. An entry that was truncated, flipped, swapped with another, copied from
another cache or written by anyone without the key fails the check and is a miss (counted in
`rejected`, logged at debug, deleted, then rebuilt) — callers unpickle or unmarshal only what
passed it. A cache directory owned by another user, or writable by group or others, is not used
at all (one warning line): whoever can write it could otherwise replace the key too.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import shutil
import stat
import sys
import tempfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
# What a cached result depends on besides its inputs: the stages up to rendering (deploy and the
# lab do not make what is cached), and the libraries that parse, check and render.
CODE = ("__init__.py", "diagnostics.py", "text.py", "intent", "model", "render", "hardware")
LIBRARIES = ("PyYAML", "Cerberus", "Jinja2", "MarkupSafe")
KEEP = 3  # code versions whose entries are kept (a developer switching branches keeps theirs)
MAGIC = b"NGC1"  # an entry: MAGIC, its HMAC-SHA256 tag, the bytes kept
TAG = 32
KEY_FILE, KEY_BYTES = "key", 32
log = logging.getLogger("netgen.cache")
_WARNED: set[str] = set()  # directories already warned about (once per process)
_OPEN: dict[str, "Cache"] = {}  # code-version directory → its Cache (environment.py finds its key here)


def _is_version(name: str) -> bool:
    return len(name) == 24 and all(c in "0123456789abcdef" for c in name)


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


def _warn(what: str, why: str, fix: str) -> None:
    """One line on stderr, once per process for each refused directory or key."""
    if what not in _WARNED:
        _WARNED.add(what)
        print(f"netgen: warning: {what} {why}; not using the cache (results are the same, only slower) — {fix}",
              file=sys.stderr)


def _own_dir(directory: Path) -> bool:
    """Make `directory` (0700) if it is missing; True when it is ours alone to write."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=0o700, exist_ok=True)
        st = os.stat(directory)  # through a symlink: what is written to is what counts
    except OSError as exc:  # cannot be made (read-only home, ...): run without, as before
        log.debug("cache directory %s not usable: %s", directory, exc)
        return False
    other = "set NETGEN_CACHE_DIR to a directory of your own (or NETGEN_CACHE_DIR=off)"
    if not stat.S_ISDIR(st.st_mode):
        _warn(f"cache directory {directory}", "is not a directory", other)
    elif st.st_uid != os.geteuid():
        _warn(f"cache directory {directory}", f"belongs to uid {st.st_uid}, not to you (uid {os.geteuid()})", other)
    elif st.st_mode & 0o022:
        _warn(f"cache directory {directory}", "is writable by group or others", f"run `chmod 700 {directory}`, or {other}")
    else:
        return True
    return False


def _key(directory: Path) -> bytes | None:
    """The directory's signing key, made on first use; None (warned) if it is not ours alone."""
    path = directory / KEY_FILE
    for _ in range(3):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            _new_key(directory)  # then read whichever key won a race to be made
            continue
        except OSError as exc:
            log.debug("cache key %s not usable: %s", path, exc)
            break
        try:
            st, key = os.fstat(fd), os.read(fd, KEY_BYTES + 1)
        finally:
            os.close(fd)
        if st.st_uid != os.geteuid() or st.st_mode & 0o077 or not stat.S_ISREG(st.st_mode):
            _warn(f"cache key {path}", "is not yours alone", f"delete it, or run `chmod 600 {path}`")
            return None
        if len(key) == KEY_BYTES:
            return key
        log.debug("cache key %s damaged: a new one (every entry is rebuilt)", path)
        path.unlink(missing_ok=True)
    return None


def _new_key(directory: Path) -> None:
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".key-", dir=directory)  # 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(KEY_BYTES))
        os.link(tmp, directory / KEY_FILE)  # whole, and never over one another process made
    except OSError:
        pass
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


class Cache:
    """A directory of entries, each a file named by the digest of its name, written atomically
    and signed; `enabled` is False when the directory was refused (then nothing is read or kept)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.dir = self.root / code_fingerprint()[:24]
        self.rejected = 0  # entries that failed their check this run
        self._secret: bytes | None = None
        if not _own_dir(self.root):
            return
        if self.dir.is_dir():
            try:
                os.utime(self.dir)  # marks this code version used (for _prune only)
            except OSError:
                pass
        else:
            self._prune()
        if _own_dir(self.dir):
            self._secret = _key(self.dir)
        if self._secret is not None:
            _OPEN[str(self.dir)] = self

    @property
    def enabled(self) -> bool:
        return self._secret is not None

    @classmethod
    def at(cls, directory: str | Path) -> "Cache | None":
        """The open cache a directory of it (`dir / kind`) belongs to, if any."""
        return _OPEN.get(str(Path(directory).parent))

    @classmethod
    def default(cls, enabled: bool = True) -> "Cache | None":
        """The user's cache, or None when it is turned off."""
        env = os.environ.get("NETGEN_CACHE_DIR")
        if not enabled or (env or "").lower() in ("off", "0", "no", "false"):
            return None
        xdg = os.environ.get("XDG_CACHE_HOME")
        cache = cls(Path(env) if env else (Path(xdg) if xdg else Path.home() / ".cache") / "netgen")
        return cache if cache.enabled else None

    def path(self, kind: str, name: str) -> Path:
        return self.dir / kind / digest(name)[:32]

    def _tag(self, kind: str, name: str, data: bytes) -> bytes:
        """What binds an entry to its key, its code version, its kind and name (each part's length
        first: names hold NULs)."""
        mac = hmac.new(self._secret or b"", digestmod=hashlib.sha256)
        for part in (MAGIC, code_fingerprint().encode(), kind.encode(), name.encode("utf-8", "surrogateescape")):
            mac.update(len(part).to_bytes(8, "big") + part)
        mac.update(data)
        return mac.digest()

    def seal(self, kind: str, name: str, data: bytes) -> bytes:
        """An entry's bytes as stored: checked by unseal() before anything reads them."""
        return MAGIC + self._tag(kind, name, data) + data

    def unseal(self, kind: str, name: str, blob: bytes, path: Path | None = None) -> bytes | None:
        """The bytes kept in `blob` if it is an entry made here for exactly this kind and name;
        else None, and the entry at `path` is deleted (so that it is rebuilt)."""
        if not self.enabled:
            return None
        head = len(MAGIC) + TAG
        if blob[:len(MAGIC)] == MAGIC and len(blob) >= head:
            data = blob[head:]
            if hmac.compare_digest(blob[len(MAGIC):head], self._tag(kind, name, data)):
                return data
        self.rejected += 1
        log.debug("cache: %s entry %s failed its check; ignored and rebuilt", kind, path or name)
        if path is not None:
            try:
                path.unlink()
            except OSError:
                pass
        return None

    def read(self, kind: str, name: str) -> bytes | None:
        """An entry's bytes, only once they passed the check."""
        if not self.enabled:
            return None
        path = self.path(kind, name)
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        return self.unseal(kind, name, blob, path)

    def write(self, kind: str, name: str, data: bytes) -> None:
        """Replace an entry atomically; a cache that cannot be written is simply not used."""
        if not self.enabled:
            return
        target, tmp = self.path(kind, name), None
        try:
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(self.seal(kind, name, data))
            os.replace(tmp, target)
        except OSError:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    def touch(self, kind: str, name: str) -> None:
        """Mark an entry used now, so trim() keeps it (entries other entries build on)."""
        if not self.enabled:
            return
        try:
            os.utime(self.path(kind, name))
        except OSError:
            pass

    def trim(self, kind: str, keep: int) -> None:
        """Bound a kind's entries: past `keep`, the oldest go, down to half of it (old checkouts,
        temporary directories and edited files leave entries nobody will ask for again)."""
        if not self.enabled:
            return
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
            # code-version directories only: others (the lab guest's kernels) are not ours to prune
            others = sorted((p for p in self.root.iterdir() if p.is_dir() and _is_version(p.name)),
                            key=lambda p: p.stat().st_mtime)
        except OSError:
            return
        for old in others[:-(KEEP - 1) or None]:
            shutil.rmtree(old, ignore_errors=True)
