"""Read intent YAML safely into Map/Seq trees with a source map.

Values are built from libyaml's event stream (the C parser) rather than PyYAML's composer:
that is several times faster, keeps every position, and lets us refuse what a safe intent
format must not contain — duplicate keys (PyYAML silently keeps the last), YAML 1.1 readings
that surprise people (`no` → false, `0755` → 493, `1:20` → 80), tags (never code), anchors
and aliases (the "billion laughs" bomb), and nesting deep enough to exhaust a stack (the C
composer segfaults on it).
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..diagnostics import Diagnostic, Location, Severity, relpath
from .tree import Map, Seq

try:  # the C parser; the pure-Python one gives identical events, only slower
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is part of PyYAML's wheels
    from yaml import SafeLoader as _Loader

MAX_DEPTH = 32  # the intent format nests about 6 deep
MAX_FILE_BYTES = 64 * 1024 * 1024
SUFFIXES = (".yaml", ".yml")

_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+\.[0-9]*)([eE][-+]?[0-9]+)?\Z|[-+]?[0-9]+[eE][-+]?[0-9]+\Z")
# Plain scalars a YAML 1.1 reader (PyYAML, Ansible, many tools) turns into something else.
_YAML11_BOOL = re.compile(r"(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)\Z")
_YAML11_NUMBER = re.compile(
    r"[-+]?0[0-7_]+\Z"  # octal: 0755 → 493
    r"|[-+]?0[0-9_]+\Z"  # leading zero
    r"|[-+]?0[xob][0-9a-fA-F_]+\Z"  # base prefixes
    r"|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?\Z"  # sexagesimal: 1:20 → 80
    r"|[-+]?[0-9][0-9_]*_[0-9_]*\Z"  # 1_000 → 1000
)
# Keys whose values are secrets wherever they appear; their values are never printed.
SECRET_KEY_RE = re.compile(r"(password|passwd|secret|community|psk|pre[-_]?shared|token|(^|[-_])key)$", re.I)
# What YAML's reader refuses (YAML 1.1 §5.1, libyaml's reader): C0/C1 controls, surrogates, U+FFFE/FFFF.
_NOT_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
_SPECIAL_FLOAT = {".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", ".nan", ".NaN", ".NAN"}
_STR_TAGS = {"tag:yaml.org,2002:str", "!"}  # `!!str 0755` and `! 0755` force a string


@dataclass
class Document:
    """One intent file: its display path and its top-level mapping."""

    path: str
    data: Map


def _diag(rule: str, message: str, loc: Location, hint: str = "", fatal: bool = False,
          related: tuple[Location, ...] = ()) -> Diagnostic:
    return Diagnostic(rule, Severity.ERROR, message, loc, hint, related, fatal)


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _resolve_plain(text: str, shown: str | None = None) -> tuple[Any, tuple[str, str] | None]:
    """Value of a plain (unquoted) scalar, or why it is ambiguous between YAML readers and what to do.

    `shown` replaces the text in the explanation (a secret's value is never printed).
    """
    if text in _NULL:
        return None, None
    if text in _TRUE:
        return True, None
    if text in _FALSE:
        return False, None
    if _INT.match(text):
        return int(text), None
    quoted = f'"{text}"' if shown is None else "in quotes"
    shown = f"`{text}`" if shown is None else shown
    if _YAML11_BOOL.match(text):
        return None, (f"{shown} is read as a boolean by YAML 1.1 tools",
                      f"write true/false, or quote it ({quoted}) if you mean the word")
    if _YAML11_NUMBER.match(text):
        return None, (f"{shown} is read as a number other than it looks by YAML 1.1 tools",
                      f"quote it ({quoted}) for text, or write the number in plain decimal")
    if _FLOAT.match(text) or text in _SPECIAL_FLOAT:
        return float(text.replace(".inf", "inf").replace(".Inf", "inf").replace(".INF", "inf")
                     .replace(".nan", "nan").replace(".NaN", "nan").replace(".NAN", "nan")), None
    return text, None


class _KeyHolder:
    """Stands in for a parent while a collection that was used as a mapping key is skipped."""


def _syntax_hint(problem: str, line_text: str, column: int, context_line: int | None) -> str:
    """What to do about a YAML syntax error, in the terms a person editing the file thinks in."""
    if "\t" in line_text[: column + 1] or "tab" in problem:
        return "indent with spaces: YAML does not allow tabs for indentation"
    if "mapping values are not allowed" in problem:
        return "quote a value that contains `: `, or check this line's indentation"
    if "did not find expected key" in problem or "'-' indicator" in problem or "<block end>" in problem:
        return "check this line's indentation: the keys of one mapping, and the items of one list, line up"
    if "end of stream" in problem and context_line:
        return f"close the quote or bracket opened at line {context_line}"
    if "expected ',' or" in problem and context_line:
        return f"close the bracket opened at line {context_line}, or separate its items with commas"
    return "fix the YAML syntax at this position"


def _build(text: str, path: str, diags: list[Diagnostic]) -> tuple[Any, Location]:
    """Turn the event stream into Map/Seq/scalars. Appends to diags; returns the root (or None)
    and where it starts."""
    stack: list[list] = []  # frames: [container, pending_key or _NO_KEY]
    no_key = object()
    bad_key = object()
    root: Any = None
    root_loc = Location(path, 1, 1)
    docs = 0

    def loc(mark) -> Location:
        return Location(path, mark.line + 1, mark.column + 1)

    def add(value: Any, mark) -> None:
        nonlocal root, root_loc
        if not stack:
            root, root_loc = value, loc(mark)
            return
        frame = stack[-1]
        cont = frame[0]
        if isinstance(cont, Seq):
            cont.append(value)
            cont.locs.append((mark.line + 1, mark.column + 1))
            return
        if isinstance(cont, _KeyHolder):
            return
        key = frame[1]
        if key is no_key:  # this value is a key
            frame[1] = value
            frame[2] = mark
            return
        frame[1] = no_key
        if key is bad_key:
            return
        kmark = frame[2]
        if key in cont:
            first = cont.where(key, of="key")
            diags.append(_diag("yaml.duplicate-key", f"duplicate key `{key}` (first defined at line {first.line})",
                               loc(kmark), "remove one of them: YAML would silently keep only the last",
                               related=(first,)))
            return
        cont[key] = value
        cont.locs[key] = (kmark.line + 1, kmark.column + 1, mark.line + 1, mark.column + 1)

    def check_node(ev) -> None:
        if ev.anchor is not None:
            diags.append(_diag("yaml.anchor", f"anchor `&{ev.anchor}` is not allowed in intent files",
                               loc(ev.start_mark), "write the value out: anchors and aliases hide what a "
                               "reviewer reads and can expand without bound"))

    try:
        for ev in yaml.parse(text, Loader=_Loader):
            kind = type(ev)
            if kind is yaml.ScalarEvent:
                check_node(ev)
                expecting_key = bool(stack) and isinstance(stack[-1][0], Map) and stack[-1][1] is no_key
                if expecting_key:
                    if ev.tag not in (None, *_STR_TAGS):
                        diags.append(_diag("yaml.tag", f"tag `{_short_tag(ev.tag)}` is not allowed", loc(ev.start_mark),
                                           "remove the tag: intent files hold plain data only"))
                    if ev.value == "<<" and ev.implicit[0]:
                        diags.append(_diag("yaml.merge-key", "merge keys (`<<`) are not allowed", loc(ev.start_mark),
                                           "write the merged values out"))
                        add(bad_key, ev.start_mark)
                        continue
                    add(ev.value, ev.start_mark)
                    continue
                if ev.tag in _STR_TAGS:
                    value = ev.value
                elif ev.tag is not None:
                    diags.append(_diag("yaml.tag", f"tag `{_short_tag(ev.tag)}` is not allowed", loc(ev.start_mark),
                                       "remove the tag: intent files hold plain data only, never code"))
                    value = None
                elif ev.implicit[0]:  # plain scalar
                    key = stack[-1][1] if stack and isinstance(stack[-1][0], Map) else None
                    secret = isinstance(key, str) and SECRET_KEY_RE.search(key)
                    value, ambiguity = _resolve_plain(ev.value, f"the value of `{key}`" if secret else None)
                    if ambiguity:
                        diags.append(_diag("yaml.ambiguous", ambiguity[0], loc(ev.start_mark), ambiguity[1]))
                else:
                    value = ev.value
                add(value, ev.start_mark)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                check_node(ev)
                if ev.tag is not None and ev.tag not in ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
                    diags.append(_diag("yaml.tag", f"tag `{_short_tag(ev.tag)}` is not allowed", loc(ev.start_mark),
                                       "remove the tag: intent files hold plain data only, never code"))
                if len(stack) >= MAX_DEPTH:
                    diags.append(_diag("yaml.too-deep", f"nesting deeper than {MAX_DEPTH} levels",
                                       loc(ev.start_mark), "the intent format nests a few levels only: "
                                       "check the indentation", fatal=True))
                    return None, root_loc
                m = ev.start_mark
                if stack and isinstance(stack[-1][0], Map) and stack[-1][1] is no_key:
                    diags.append(_diag("yaml.complex-key", "a mapping key must be a plain string",
                                       loc(m), "write the key as text"))
                    add(bad_key, m)
                    stack.append([_KeyHolder(), no_key, None])
                    continue
                cont = Map(path, m.line + 1, m.column + 1) if kind is yaml.MappingStartEvent \
                    else Seq(path, m.line + 1, m.column + 1)
                add(cont, m)
                stack.append([cont, no_key, None])
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                stack.pop()
            elif kind is yaml.AliasEvent:
                diags.append(_diag("yaml.alias", f"alias `*{ev.anchor}` is not allowed in intent files",
                                   loc(ev.start_mark), "write the value out instead of referring to an anchor"))
                add(None, ev.start_mark)
            elif kind is yaml.DocumentStartEvent:
                docs += 1
                if docs > 1:
                    diags.append(_diag("yaml.multi-document", "more than one YAML document in one file",
                                       loc(ev.start_mark), "split the documents into separate files", fatal=True))
                    return None, root_loc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        lines = text.splitlines()
        line_text = lines[mark.line] if mark and mark.line < len(lines) else ""
        # Where the unfinished construct (quote, bracket, block) began, when that is elsewhere.
        start = exc.context_mark if exc.context_mark and mark and (exc.context_mark.line, exc.context_mark.column) \
            != (mark.line, mark.column) else None
        ctx = f" ({exc.context}{f' started at line {start.line + 1}' if start else ''})" if exc.context else ""
        hint = _syntax_hint(problem, line_text, mark.column if mark else 0, start.line + 1 if start else None)
        if mark and start and mark.line >= len(lines):  # the file ended first: point at the opening
            where, related = loc(start), ()
        else:
            where, related = (loc(mark) if mark else Location(path)), ((loc(start),) if start else ())
        diags.append(_diag("yaml.syntax", f"YAML syntax error: {problem}{ctx}", where, hint, fatal=True,
                           related=related))
        return None, root_loc
    except yaml.YAMLError as exc:  # the reader refuses a character; find it in the text (the C
        bad = _NOT_PRINTABLE.search(text)  # reader counts UTF-8 bytes, the Python one characters)
        if bad is None:  # pragma: no cover - every reader error is a refused character
            diags.append(_diag("yaml.syntax", f"unreadable YAML: {exc}", Location(path), fatal=True))
            return None, root_loc
        pos = bad.start()
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        diags.append(_diag("yaml.syntax", f"unreadable YAML: control character U+{ord(bad.group()):04X} is not "
                           "allowed", Location(path, line, col), "remove the character (or, inside a quoted "
                           "string, write it as an escape such as \\x1b)", fatal=True))
        return None, root_loc
    return root, root_loc


def load_file(file: Path, display: str | None = None) -> tuple[Document | None, list[Diagnostic]]:
    """Load one intent file. Returns (document or None, diagnostics); never raises on bad input."""
    path = display or relpath(str(file))
    diags: list[Diagnostic] = []
    try:
        st = file.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block, /dev/zero never end
            return None, [_diag("load.unreadable", "not a regular file (a device, pipe, socket or directory)",
                                Location(path), "intent files are plain files; remove it or rename it", fatal=True)]
        if st.st_size > MAX_FILE_BYTES:
            return None, [_diag("load.too-large", f"file is {st.st_size} bytes; the limit is {MAX_FILE_BYTES}",
                                Location(path), "split it into one file per region", fatal=True)]
        raw = file.read_bytes()
    except OSError as exc:
        return None, [_diag("load.unreadable", f"cannot read file: {exc.strerror}", Location(path),
                            "check that the file exists and is readable", fatal=True)]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        utf16 = raw[:2] in (b"\xff\xfe", b"\xfe\xff")
        return None, [_diag("load.encoding", f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded",
                            Location(path, line, col), "save the file as UTF-8" + (
                                " (it is UTF-16, as some Windows editors save)" if utf16 else ""), fatal=True)]
    root, root_loc = _build(text, path, diags)
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


def load_dir(directory: Path) -> tuple[list[Document], list[Diagnostic]]:
    """Load every intent file in `directory`; all files are read even when some fail."""
    if not directory.exists():
        return [], [_diag("load.no-intent", f"intent directory `{directory}` does not exist",
                          Location(str(directory)), "pass the directory that holds the intent YAML files",
                          fatal=True)]
    if directory.is_file():
        files = [directory]
    else:
        files = discover(directory)
    if not files:
        return [], [_diag("load.no-intent", f"no intent files (*.yaml, *.yml) in `{directory}`",
                          Location(str(directory)), "pass the directory that holds the intent", fatal=True)]
    docs: list[Document] = []
    diags: list[Diagnostic] = []
    for f in files:
        doc, d = load_file(f)
        diags.extend(d)
        if doc is not None:
            docs.append(doc)
    return docs, diags
