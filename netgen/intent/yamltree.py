"""Safe YAML text → Map/Seq trees that know where every value was written.

Values are built from libyaml's event stream (the C parser) rather than PyYAML's composer:
that is several times faster, keeps every position, and lets us refuse what a safe intent
format must not contain — duplicate keys (PyYAML silently keeps the last), YAML 1.1 readings
that surprise people (`no` → false, `0755` → 493, `1:20` → 80), tags (never code), anchors
and aliases (the "billion laughs" bomb), and nesting deep enough to exhaust a stack (the C
composer segfaults on it). The builder is a recursive descent over the events, one call per
collection, so the per-value cost is little more than libyaml's own.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

from ..diagnostics import Diagnostic, Location, Severity
from .tree import Map, Seq

try:  # the C parser; the pure-Python one gives identical events, only slower
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is part of PyYAML's wheels
    from yaml import SafeLoader as _Loader

MAX_DEPTH = 32  # the intent format nests about 6 deep

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
# A plain scalar starting with a letter is text unless it is one of YAML's words (above).
_WORDS = _NULL | _TRUE | _FALSE | {w for w in _YAML11_BOOL.pattern[1:-3].split("|")}
# Keys whose values are secrets wherever they appear; their values are never printed.
SECRET_KEY_RE = re.compile(r"(password|passwd|secret|community|psk|pre[-_]?shared|token|(^|[-_])key)$", re.I)
# What YAML's reader refuses (YAML 1.1 §5.1, libyaml's reader): C0/C1 controls, surrogates, U+FFFE/FFFF.
_NOT_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
_SPECIAL_FLOAT = {".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", ".nan", ".NaN", ".NAN"}
_STR_TAGS = {"tag:yaml.org,2002:str", "!"}  # `!!str 0755` and `! 0755` force a string
_COLLECTION_TAGS = {None, "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _diag(rule: str, message: str, loc: Location, hint: str = "", fatal: bool = False,
          related: tuple[Location, ...] = ()) -> Diagnostic:
    return Diagnostic(rule, Severity.ERROR, message, loc, hint, related, fatal)


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def resolve_plain(text: str, shown: str | None = None) -> tuple[Any, tuple[str, str] | None]:
    """Value of a plain (unquoted) scalar, or why it is ambiguous between YAML readers and what to do.

    `shown` replaces the text in the explanation (a secret's value is never printed).
    """
    if text[:1].isalpha() and text not in _WORDS:  # most scalars: names, models, descriptions
        return text, None
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


class _Stop(Exception):
    """A fatal finding: the rest of the file is not read."""


_SKIP = object()  # a key that was refused (merge key, collection as key): its value is dropped
_Scalar, _MapStart, _SeqStart, _Alias = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent, \
    yaml.AliasEvent
_MapEnd, _SeqEnd = yaml.MappingEndEvent, yaml.SequenceEndEvent


class _Builder:
    def __init__(self, path: str, diags: list[Diagnostic], all_secret: bool = False):
        self.path, self.diags, self.all_secret = path, diags, all_secret
        self.root_loc = Location(path, 1, 1)  # where the root value starts, once it does
        self.secret: dict[str, bool] = {}  # key → whether its values are secrets (few distinct keys)

    def read(self, text: str) -> tuple[Any, Location]:
        self.next = _Loader(text).get_event  # the pure-Python reader refuses bad characters here
        return self.document()

    def loc(self, mark) -> Location:
        return Location(self.path, mark.line + 1, mark.column + 1)

    def refuse(self, ev) -> None:
        """Anchors and tags on a scalar or collection."""
        if ev.anchor is not None:
            self.diags.append(_diag("yaml.anchor", f"anchor `&{ev.anchor}` is not allowed in intent files",
                                    self.loc(ev.start_mark), "write the value out: anchors and aliases hide what "
                                    "a reviewer reads and can expand without bound"))

    def document(self) -> tuple[Any, Location]:
        """The root value and where it starts; a stream with no document gives None."""
        root, docs = None, 0
        while True:
            ev = self.next()
            kind = type(ev)
            if kind is yaml.DocumentStartEvent:
                docs += 1
                if docs > 1:
                    self.diags.append(_diag("yaml.multi-document", "more than one YAML document in one file",
                                            self.loc(ev.start_mark), "split the documents into separate files",
                                            fatal=True))
                    raise _Stop
                ev = self.next()
                self.root_loc = self.loc(ev.start_mark)
                root = self.value(ev, 0, None)
            elif kind is yaml.StreamEndEvent or ev is None:
                return root, self.root_loc

    def value(self, ev, depth: int, key) -> Any:
        """The value that starts with event `ev`, `depth` collections deep; `key` is the mapping
        key it belongs to (a secret's value is never shown in a message)."""
        kind = type(ev)
        if kind is _Scalar:
            if ev.anchor is not None:
                self.refuse(ev)
            tag = ev.tag
            if tag is None:
                if not ev.implicit[0]:  # quoted
                    return ev.value
                if self.all_secret:
                    secret = True
                elif isinstance(key, str):
                    secret = self.secret.get(key)
                    if secret is None:
                        secret = self.secret[key] = bool(SECRET_KEY_RE.search(key))
                else:
                    secret = False
                value, ambiguity = resolve_plain(ev.value, f"the value of `{key}`" if secret and key is not None
                                                 else "a value" if secret else None)
                if ambiguity:
                    self.diags.append(_diag("yaml.ambiguous", ambiguity[0], self.loc(ev.start_mark), ambiguity[1]))
                return value
            if tag in _STR_TAGS:
                return ev.value
            self.diags.append(_diag("yaml.tag", f"tag `{_short_tag(tag)}` is not allowed", self.loc(ev.start_mark),
                                    "remove the tag: intent files hold plain data only, never code"))
            return None
        if kind is _MapStart or kind is _SeqStart:
            self.open(ev, depth)
            return self.mapping(ev, depth) if kind is _MapStart else self.sequence(ev, depth)
        if kind is _Alias:
            self.diags.append(_diag("yaml.alias", f"alias `*{ev.anchor}` is not allowed in intent files",
                                    self.loc(ev.start_mark), "write the value out instead of referring to an anchor"))
            return None
        raise AssertionError(f"unexpected YAML event {ev}")  # pragma: no cover - libyaml's grammar

    def open(self, ev, depth: int) -> None:
        """Checks on a collection about to be read."""
        self.refuse(ev)
        if ev.tag not in _COLLECTION_TAGS:
            self.diags.append(_diag("yaml.tag", f"tag `{_short_tag(ev.tag)}` is not allowed", self.loc(ev.start_mark),
                                    "remove the tag: intent files hold plain data only, never code"))
        if depth >= MAX_DEPTH:
            self.diags.append(_diag("yaml.too-deep", f"nesting deeper than {MAX_DEPTH} levels",
                                    self.loc(ev.start_mark), "the intent format nests a few levels only: check the "
                                    "indentation", fatal=True))
            raise _Stop

    def mapping(self, start, depth: int) -> Map:
        m = start.start_mark
        out = Map(self.path, m.line + 1, m.column + 1)
        locs, nxt = out.locs, self.next
        while True:
            ev = nxt()
            kind = type(ev)
            if kind is _MapEnd:
                return out
            kmark = ev.start_mark
            key = self.key(ev, kind, depth)
            ev = nxt()
            value = self.value(ev, depth + 1, key)
            if key is _SKIP:
                continue
            if key in out:
                first = out.where(key, of="key")
                self.diags.append(_diag("yaml.duplicate-key", f"duplicate key `{key}` (first defined at line "
                                        f"{first.line})", self.loc(kmark), "remove one of them: YAML would "
                                        "silently keep only the last", related=(first,)))
                continue
            out[key] = value
            vmark = ev.start_mark
            locs[key] = (kmark.line + 1, kmark.column + 1, vmark.line + 1, vmark.column + 1)

    def key(self, ev, kind, depth: int):
        if kind is _Scalar:
            if ev.anchor is not None:
                self.refuse(ev)
            if ev.tag not in (None, *_STR_TAGS):
                self.diags.append(_diag("yaml.tag", f"tag `{_short_tag(ev.tag)}` is not allowed",
                                        self.loc(ev.start_mark), "remove the tag: intent files hold plain data only"))
            if ev.value == "<<" and ev.implicit[0]:
                self.diags.append(_diag("yaml.merge-key", "merge keys (`<<`) are not allowed",
                                        self.loc(ev.start_mark), "write the merged values out"))
                return _SKIP
            return ev.value
        if kind is _MapStart or kind is _SeqStart:
            self.open(ev, depth + 1)
            self.diags.append(_diag("yaml.complex-key", "a mapping key must be a plain string",
                                    self.loc(ev.start_mark), "write the key as text"))
            self.drop(depth + 1)
            return _SKIP
        return self.value(ev, depth + 1, None)  # an alias: reported, and the key is None

    def drop(self, depth: int) -> None:
        """The rest of a collection used as a key: every item read as a value (so still
        checked), kept nowhere; the value it keys is dropped too."""
        while True:
            ev = self.next()
            if type(ev) is _MapEnd or type(ev) is _SeqEnd:
                return
            self.value(ev, depth + 1, None)

    def sequence(self, start, depth: int) -> Seq:
        m = start.start_mark
        out = Seq(self.path, m.line + 1, m.column + 1)
        locs, nxt, append = out.locs, self.next, out.append
        while True:
            ev = nxt()
            if type(ev) is _SeqEnd:
                return out
            mark = ev.start_mark
            append(self.value(ev, depth + 1, None))
            locs.append((mark.line + 1, mark.column + 1))


def build(text: str, path: str, diags: list[Diagnostic], all_secret: bool = False) -> tuple[Any, Location]:
    """Turn YAML text into Map/Seq/scalars. Appends to diags; returns the root (or None) and
    where it starts. With `all_secret` (a secrets file) no message shows a value."""
    builder = _Builder(path, diags, all_secret)
    try:
        return builder.read(text)
    except _Stop:
        return None, builder.root_loc
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
            where, related = builder.loc(start), ()
        else:
            where, related = (builder.loc(mark) if mark else Location(path)), ((builder.loc(start),) if start else ())
        diags.append(_diag("yaml.syntax", f"YAML syntax error: {problem}{ctx}", where, hint, fatal=True,
                           related=related))
        return None, builder.root_loc
    except yaml.YAMLError as exc:  # the reader refuses a character; find it in the text (the C
        bad = _NOT_PRINTABLE.search(text)  # reader counts UTF-8 bytes, the Python one characters)
        if bad is None:  # pragma: no cover - every reader error is a refused character
            diags.append(_diag("yaml.syntax", f"unreadable YAML: {exc}", Location(path), fatal=True))
            return None, builder.root_loc
        pos = bad.start()
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        diags.append(_diag("yaml.syntax", f"unreadable YAML: control character U+{ord(bad.group()):04X} is not "
                           "allowed", Location(path, line, col), "remove the character (or, inside a quoted "
                           "string, write it as an escape such as \\x1b)", fatal=True))
        return None, builder.root_loc
