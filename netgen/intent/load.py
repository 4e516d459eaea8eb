"""Read intent files: safe YAML (yamltree.py) into documents with a source map.

A file is read whole, checked for what is not a regular UTF-8 file, and built into a Map/Seq
tree whose every value knows its `file:line:col`.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import Diagnostic, Location, Severity, relpath
from .tree import Map, Seq
from .yamltree import build

MAX_FILE_BYTES = 64 * 1024 * 1024
SUFFIXES = (".yaml", ".yml")


@dataclass
class Document:
    """One intent file: its display path and its top-level mapping."""

    path: str
    data: Map


def _diag(rule: str, message: str, loc: Location, hint: str = "", fatal: bool = False) -> Diagnostic:
    return Diagnostic(rule, Severity.ERROR, message, loc, hint, (), fatal)


def load_file(file: Path, display: str | None = None) -> tuple[Document | None, list[Diagnostic]]:
    """Load one intent file. Returns (document or None, diagnostics); never raises on bad input."""
    path = display or relpath(str(file))
    raw, diags = read_bytes(file, path)
    return (None, diags) if raw is None else load_bytes(raw, path)


def read_bytes(file: Path, path: str) -> tuple[bytes | None, list[Diagnostic]]:
    """A file's bytes, or why it cannot be read (`path` is how reports name it)."""
    try:
        st = file.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block, /dev/zero never end
            return None, [_diag("load.unreadable", "not a regular file (a device, pipe, socket or directory)",
                                Location(path), "intent files are plain files; remove it or rename it", fatal=True)]
        if st.st_size > MAX_FILE_BYTES:
            return None, [_diag("load.too-large", f"file is {st.st_size} bytes; the limit is {MAX_FILE_BYTES}",
                                Location(path), "split it into one file per region", fatal=True)]
        return file.read_bytes(), []
    except OSError as exc:
        return None, [_diag("load.unreadable", f"cannot read file: {exc.strerror}", Location(path),
                            "check that the file exists and is readable", fatal=True)]


def load_bytes(raw: bytes, path: str) -> tuple[Document | None, list[Diagnostic]]:
    """An intent file's bytes as a document (None when unusable), and what is wrong with them."""
    diags: list[Diagnostic] = []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        utf16 = raw[:2] in (b"\xff\xfe", b"\xfe\xff")
        return None, [_diag("load.encoding", f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded",
                            Location(path, line, col), "save the file as UTF-8" + (
                                " (it is UTF-16, as some Windows editors save)" if utf16 else ""), fatal=True)]
    root, root_loc = build(text, path, diags)
    if any(d.fatal for d in diags):
        return None, diags
    if root is None:
        diags.append(_diag("load.empty", "file holds no intent (empty, or only comments)", Location(path, 1, 1),
                           "add content or delete the file"))
        return None, diags
    if not isinstance(root, Map):
        what = "a list" if isinstance(root, Seq) else f"a single value ({type(root).__name__})"
        diags.append(_diag("load.not-mapping", f"the top level is {what}, not a mapping", root_loc,
                           "start the file with section keys such as `sites:` or `zones:`"))
        return None, diags
    return Document(path, root), diags


def discover(directory: Path) -> list[Path]:
    """Intent files below `directory`, in a stable order; hidden files and folders are skipped."""
    found = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(SUFFIXES) and not name.startswith("."):
                found.append(Path(dirpath) / name)
    return found
