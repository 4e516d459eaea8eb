"""The lock file: every allocation ever made, kept beside the intent and committed with it.

`netgen.lock` is JSON with one allocation per line, sorted, so a review shows exactly which
addresses a change allocated. Keys name what owns the value (`ipv4/pool/jx-nc`,
`ipv4/loopback/jx-pe1`, `ipv4/link/jx-nc-pe1~jx-pe1`, `ipv4/lan/audit@jx/audit`). An entry
whose owner left the intent stays reserved until the operator releases it.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import tempfile
from bisect import bisect_left
from json.decoder import scanstring
from json.encoder import encode_basestring_ascii
from pathlib import Path

LOCK_NAME = "netgen.lock"
FORMAT = 1


class LockError(Exception):
    pass


class Lock:
    """The lock file's entries. Read from a file, they are parsed when first used: a build
    whose allocation comes from the cache (alloc_cache.py) needs only the file's digest."""

    def __init__(self, entries: dict[str, str] | None = None, path: Path | None = None, raw: bytes | None = None):
        self.path = path
        self.raw = raw  # the file's bytes, while `entries` are what it holds
        self._entries = dict(entries) if entries is not None else None
        self._sha256: str | None = None

    @classmethod
    def read(cls, intent_dir: Path, lazy: bool = False) -> "Lock":
        """The lock file beside the intent (empty when there is none). Unless `lazy`, it is
        parsed now; else a broken file raises LockError when its entries are first used."""
        path = (intent_dir if intent_dir.is_dir() else intent_dir.parent) / LOCK_NAME
        if not path.exists():
            return cls({}, path, b"")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise LockError(f"{path}: unreadable lock file ({exc.strerror}); restore it from version control") \
                from exc
        lock = cls(None, path, raw)
        if not lazy:
            lock.entries  # noqa: B018 - parsed now, so errors show here
        return lock

    @property
    def entries(self) -> dict[str, str]:
        if self._entries is None:
            self._entries = _parse(self.raw or b"", self.path)
        return self._entries

    @entries.setter
    def entries(self, value: dict[str, str]) -> None:
        self._entries, self.raw, self._sha256 = value, None, None

    @property
    def sha256(self) -> str | None:
        """Digest of the file's bytes as read; None once the entries were replaced."""
        if self._sha256 is None and self.raw is not None:
            self._sha256 = hashlib.sha256(self.raw).hexdigest()
        return self._sha256

    def dumps(self) -> str:
        q = encode_basestring_ascii  # what json.dumps does to a string, without its per-call set-up
        body = ",\n".join(f"  {q(k)}: {q(v)}" for k, v in sorted(self.entries.items()))
        return '{\n "format": %d,\n "allocations": {\n%s\n }\n}\n' % (FORMAT, body) if body else \
            '{\n "format": %d,\n "allocations": {}\n}\n' % FORMAT

    def write(self, added: dict[str, str] | None = None) -> None:
        """Atomically replace the lock file (write a temporary file, then rename). With `added`,
        entries it does not hold are added first: their lines are put into the file's text
        where dumps() puts them, which gives dumps()'s bytes without formatting the 30 MB of
        the others again."""
        assert self.path is not None
        raw = self._with(added) if added and self.raw else None
        if raw is not None:
            if self._entries is not None:
                self._entries.update(added)
        else:
            if added:
                self.entries = {**self.entries, **added}
            raw = self.dumps().encode("utf-8")
        fd, tmp = tempfile.mkstemp(prefix=".netgen.lock.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
            os.replace(tmp, self.path)
        except BaseException:
            os.unlink(tmp)
            raise
        self.raw, self._sha256 = raw, None  # the file's bytes again

    def _with(self, added: dict[str, str]) -> bytes | None:
        """The file's text with `added` in it, as dumps() writes it; None when the file is not
        as dumps() writes it, or holds one of them already."""
        try:
            lines = self.raw.decode("ascii").split("\n")  # dumps() writes ASCII only
        except UnicodeDecodeError:
            return None
        body = lines[3:-3]
        if lines[:3] != ["{", f' "format": {FORMAT},', ' "allocations": {'] or lines[-3:] != [" }", "}", ""] or \
                not body or not all(line.startswith('  "') for line in (body[0], body[-1])):
            return None
        body[-1] += ","  # every line a comma, until the last is known
        if not all(line.endswith(",") for line in body):
            return None
        q, out, at = encode_basestring_ascii, [], 0
        for k in sorted(added):
            try:
                here = bisect_left(body, k, lo=at, key=_key)
                if here < len(body) and _key(body[here]) == k:
                    return None
            except ValueError:  # a line that is not an entry
                return None
            out += body[at:here]
            out.append(f"  {q(k)}: {q(added[k])},")
            at = here
        out += body[at:]
        out[-1] = out[-1][:-1]
        return "\n".join([*lines[:3], *out, *lines[-3:]]).encode("ascii")

    def release(self, patterns: list[str]) -> list[str]:
        """Drop entries whose key, or any owner named in it, matches a pattern; returns the keys dropped.

        `jx-nc-xyz*` thus frees a site's pool and LANs, its devices' loopbacks, links and ports,
        and the ports its neighbours gave to those links."""
        gone = [k for k in self.entries if any(fnmatch.fnmatchcase(name, p) for name in _names(k) for p in patterns)]
        for k in gone:
            del self.entries[k]
        if gone:
            self.raw, self._sha256 = None, None  # no longer the file's text
        return sorted(gone)


def _parse(raw: bytes, path: Path | None) -> dict[str, str]:
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LockError(f"{path}: unreadable lock file ({exc}); restore it from version control") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("allocations"), dict):
        raise LockError(f"{path}: not a netgen lock file of format {FORMAT}; restore it from version control")
    entries = data["allocations"]
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in entries.items()):
        raise LockError(f"{path}: allocations must map names to values")
    return dict(entries)


def _key(line: str) -> str:
    """The key of an entry's line (`  "key": "value",`)."""
    return scanstring(line, 3)[0]


def _names(key: str) -> set[str]:
    """The key and the owners it names (never its family or kind): `ipv4/pool/jx-nc` → jx-nc;
    `ipv4/link/a~b` → a~b, a, b; `ipv4/lan/audit@jx/audit` → audit@jx/audit, audit, jx;
    `port/jx-pe1/link:a~b` → jx-pe1, a~b, a, b; `port/jx-pe1/access:audit` → jx-pe1, audit."""
    parts = key.split("/", 2)
    names = {key}
    if parts[0] == "port" and len(parts) == 3:
        names.add(parts[1])
        owner = parts[2].split(":", 1)[-1]
    else:
        owner = parts[-1]
    names.add(owner)
    if "@" in owner:
        dept, _, rest = owner.partition("@")
        names |= {dept, rest.split("/", 1)[0]}
    else:
        names |= set(owner.split("#")[0].split("~"))
    return names
