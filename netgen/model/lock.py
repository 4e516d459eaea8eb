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
import re
import stat
import tempfile
from bisect import bisect_left
from json.decoder import scanstring
from json.encoder import encode_basestring_ascii
from pathlib import Path

LOCK_NAME = "netgen.lock"
FORMAT = 1


RESTORE = "restore it from version control (`git checkout -- {path}`), or delete it and run `netgen lock` " \
    "to allocate afresh (addresses may then change)"
MAX_LOCK_BYTES = 1024 * 1024 * 1024  # a national network's lock is tens of MB


class LockError(Exception):
    """A lock file that cannot be used. str() is one line: the file (and line), what is wrong
    and what to do; `path`, `line` and `reason` are its parts."""

    def __init__(self, message: str, path: Path | None = None, line: int = 0, reason: str = ""):
        super().__init__(message)
        self.path, self.line, self.reason = path, line, reason or message


def _bad(path: Path | None, what: str, line: int = 0) -> LockError:
    where = f"{path}:{line}" if line else str(path)
    return LockError(f"{where}: {what}; {RESTORE.format(path=path)}", path, line, what)


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
        try:
            path = (intent_dir if intent_dir.is_dir() else intent_dir.parent) / LOCK_NAME
            st = path.stat()
        except FileNotFoundError:
            return cls({}, path, b"")
        except OSError as exc:
            raise _bad(intent_dir / LOCK_NAME, f"cannot read the lock file ({exc.strerror})") from None
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block, /dev/zero never end
            raise _bad(path, "the lock file is not a regular file")
        if st.st_size > MAX_LOCK_BYTES:
            raise _bad(path, f"the lock file is {st.st_size} bytes, more than any lock holds")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise _bad(path, f"cannot read the lock file ({exc.strerror})") from None
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
        replace_file(self.path, raw)
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


def replace_file(path: Path, data: bytes) -> None:
    """Atomically make `path` hold `data`: a temporary file beside it, flushed to disk, renamed
    over it, the directory flushed too — killed or out of space at any point, the file is the old
    one or the new one. The old file's mode (and owner, when we may) are kept: mkstemp's 0600
    would hide the lock from the team's other accounts. OSError names `path`."""
    try:
        old = os.stat(path)
        mode, owner = stat.S_IMODE(old.st_mode), (old.st_uid, old.st_gid)
    except FileNotFoundError:
        mask = os.umask(0o022)
        os.umask(mask)
        mode, owner = 0o666 & ~mask, None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fchmod(fd, mode)
            if owner is not None and owner != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(fd, *owner)
                except PermissionError:  # not ours to give away: the mode is kept at least
                    pass
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and not exc.filename:
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    try:
        dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # some filesystems cannot sync a directory; the rename is done
        pass


def _parse(raw: bytes, path: Path | None) -> dict[str, str]:
    """The allocations of a lock file, read as strictly as the intent: valid UTF-8 JSON, one
    object of exactly `format` and `allocations`, no duplicate key anywhere (JSON would keep
    the last silently), every allocation a non-empty string."""
    if not raw.strip():
        raise _bad(path, "the lock file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(path, f"not UTF-8 (byte 0x{raw[exc.start]:02x})", raw.count(b"\n", 0, exc.start) + 1) from None
    dups: list[str] = []

    def strict(pairs: list[tuple[str, object]]) -> dict:
        out = dict(pairs)
        if len(out) != len(pairs) and not dups:
            seen: set[str] = set()
            dups.append(next(k for k, _ in pairs if k in seen or seen.add(k)))
        return out

    try:
        data = json.loads(text, object_pairs_hook=strict)
    except json.JSONDecodeError as exc:
        raise _bad(path, f"not valid JSON ({exc.msg}, column {exc.colno})", exc.lineno) from None
    except RecursionError:
        raise _bad(path, "nested far deeper than a lock file is", _deep_line(text)) from None
    if dups:
        raise _bad(path, f"duplicate key `{dups[0]}` (JSON would silently keep the last)",
                   _line_of_key(text, dups[0], nth=2))
    if not isinstance(data, dict):
        raise _bad(path, f"the top level is {_kind(data)}, not an object", 1)
    for key in data:
        if key not in ("format", "allocations"):
            raise _bad(path, f"unknown key `{key}` (a lock file holds `format` and `allocations`)",
                       _line_of_key(text, key))
    fmt = data.get("format")
    if type(fmt) is not int or fmt != FORMAT:
        raise _bad(path, f"`format` is {_kind(fmt) if type(fmt) is not int else fmt}; this netgen reads format "
                   f"{FORMAT}", _line_of_key(text, "format") or 1)
    entries = data.get("allocations")
    if not isinstance(entries, dict):
        raise _bad(path, f"`allocations` is {_kind(entries)}, not an object", _line_of_key(text, "allocations") or 1)
    for k, v in entries.items():
        if type(v) is not str or not v or not k:
            what = "an empty name" if not k else f"`{k}` is {_kind(v)}, not a non-empty string"
            raise _bad(path, f"allocation {what}", _line_of_key(text, k))
    return entries


def _kind(value: object) -> str:
    """A JSON value's type as a message names it."""
    if value is None:
        return "null (missing)"
    if value == "":
        return "an empty string"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def _line_of_key(text: str, key: str, nth: int = 1) -> int:
    """The line of the nth occurrence of `key` as an object key (0 when it cannot be found:
    written with escapes other than json's). Only on the error path: it scans the whole text."""
    spelled = {json.dumps(key), json.dumps(key, ensure_ascii=False)}
    found = sorted(m.start(1) for q in spelled for m in re.finditer(r"[{,]\s*(" + re.escape(q) + r")\s*:", text))
    return text.count("\n", 0, found[nth - 1]) + 1 if len(found) >= nth else 0


def _deep_line(text: str, limit: int = 8) -> int:
    """The line where brackets first nest deeper than `limit` (strings skipped)."""
    depth = 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[{]|[\]}]', text):
        tok = m.group()
        if tok in "[{":
            depth += 1
            if depth > limit:
                return text.count("\n", 0, m.start()) + 1
        elif tok in "]}":
            depth -= 1
    return 0


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
