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


def discover(directory: Path) -> tuple[list[Path], list[Diagnostic]]:
    """Intent files below `directory` in a stable order, and what in the tree cannot be used.

    `validate`, `build` and every other command read the tree through this one function, so
    they see the same files. The rule, since a part silently left out would remove its devices:
    - names starting with `.` (files and folders) are skipped; *.yaml and *.yml files are
      intent; other regular files are ignored;
    - a folder that cannot be listed, an entry that cannot be examined, a FIFO, socket or device
      (whatever its name), a name that is not UTF-8, and a broken or looping symlink are errors;
    - a symlink, to a file or a folder, is followed only when its target is inside the intent
      directory and is not read by another path already (each file and folder is read once:
      no loops, no definitions read twice); any other symlink is an error.
    """
    found: list[Path] = []
    problems: list[Diagnostic] = []
    try:
        root = directory.resolve(strict=True)
        root_st = directory.stat()
    except (OSError, RuntimeError) as exc:
        return [], [_tree_diag(directory, f"cannot open the intent directory: {_why(exc)}",
                               "check the path and that it is readable")]
    seen_dirs = {(root_st.st_dev, root_st.st_ino): directory}
    seen_files: dict[tuple[int, int], Path] = {}
    stack = [directory]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                names = sorted(e.name for e in it)
        except OSError as exc:
            problems.append(_tree_diag(folder, f"cannot list folder: {_why(exc)}",
                                       "make it readable (chmod a+rx) for the user running netgen, or remove it"))
            continue
        subdirs = []
        for name in names:
            if name.startswith("."):
                continue
            path = folder / name
            if not _utf8(name):
                shown = os.fsencode(name).decode("utf-8", "backslashreplace")
                problems.append(_diag("load.name", f"name `{shown}` is not valid UTF-8", Location(_show(path)),
                                      "rename it: intent files and folders have UTF-8 names"))  # exit 1: fix it
                continue
            problem, st = _examine(path, root)
            if problem:
                problems.append(problem)
            elif st is None:  # a link to a file outside that is not intent: never read
                continue
            elif stat.S_ISDIR(st.st_mode):
                first = seen_dirs.setdefault((st.st_dev, st.st_ino), path)
                if first is not path:
                    if first.is_symlink() and not path.is_symlink():  # blame the link, not the folder
                        first, path = path, first
                    problems.append(_tree_diag(path, f"the same folder as `{_show(first)}`, read already (a "
                                               "symlink loop or a second link)", "remove the link", "load.symlink"))
                else:
                    subdirs.append(path)
            elif name.endswith(SUFFIXES):
                first = seen_files.setdefault((st.st_dev, st.st_ino), path)
                if first is not path:
                    problems.append(_tree_diag(path, f"the same file as `{_show(first)}`, read already",
                                               "remove the link: each file is read once", "load.symlink"))
                else:
                    found.append(path)
        stack.extend(reversed(subdirs))  # a folder's files, then its folders in order (as os.walk)
    return found, problems


def _examine(path: Path, root: Path) -> tuple[Diagnostic | None, os.stat_result | None]:
    """What `path` is (following a symlink that stays inside `root`), or why it cannot be used."""
    link = False
    try:
        st = path.lstat()
        link = stat.S_ISLNK(st.st_mode)
        if link:
            st = path.stat()  # a broken or looping link raises here
    except OSError as exc:
        if link:
            return _tree_diag(path, f"broken symlink: {_why(exc)}", "restore what it points to, or remove it"), None
        return _tree_diag(path, f"cannot examine: {_why(exc)}",
                          "make its folder searchable (chmod a+x) for the user running netgen"), None
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        return _tree_diag(path, "not a regular file or folder (a device, pipe or socket)",
                          "intent files are plain files; remove it from the intent directory"), None
    if link:
        target = Path(os.path.realpath(path))
        if target != root and root not in target.parents:
            if stat.S_ISREG(st.st_mode) and not path.name.endswith(SUFFIXES):
                return None, None  # not intent, never read: harmless
            return _tree_diag(path, f"symlink leads outside the intent directory (to `{_show(target)}`)",
                              "copy what it points to into the intent directory, or point the link inside it",
                              "load.symlink"), None
    return None, st


def _tree_diag(path: Path, message: str, hint: str, rule: str = "load.unreadable") -> Diagnostic:
    return _diag(rule, message, Location(_show(path)), hint, fatal=True)


def _show(path: Path) -> str:
    """A path as reports show it (relative when below the working directory). Bytes that are
    not UTF-8 stay as Python holds them; every output escapes them when it prints."""
    return relpath(str(path))


def _utf8(name: str) -> bool:
    try:
        os.fsencode(name).decode("utf-8")  # the bytes on disk, whatever the locale's encoding
    except UnicodeDecodeError:
        return False
    return True


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return "a symlink loop" if isinstance(exc, RuntimeError) else str(exc)
