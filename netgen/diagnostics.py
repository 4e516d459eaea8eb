"""Diagnostics: the one error type every stage reports, and its formatters.

A stage never raises on bad input: it returns Diagnostics, which the pipeline gathers and
reports together at the stage boundary (the netlab pattern, without global error state).
"""
from __future__ import annotations

import enum
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote
from typing import Iterable


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, order=True)
class Location:
    """A place in an intent file; line and column are 1-based (0 = unknown)."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.col or 1}"


@dataclass(frozen=True)
class Diagnostic:
    rule: str  # stable id, e.g. "hierarchy.parent-level"
    severity: Severity
    message: str
    location: Location
    hint: str = ""
    related: tuple[Location, ...] = ()
    # "load" diagnostics mean the input could not be read at all (exit 2).
    fatal: bool = False

    def sort_key(self):
        return (self.location.file, self.location.line, self.location.col, self.rule, self.message)


@dataclass
class Result:
    """What a stage hands back: its diagnostics, plus whatever it produced."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    def exit_code(self) -> int:
        """0 valid, 1 invalid, 2 unusable input (a file could not be read as YAML at all)."""
        if any(d.fatal for d in self.diagnostics):
            return 2
        return 1 if self.errors else 0


def relpath(path: str) -> str:
    """Paths in reports are relative to the working directory when that is shorter."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # other drive on Windows
        return path
    return rel if not rel.startswith("../../") and len(rel) < len(path) else path


# --------------------------------------------------------------------------- formatters

def _counts(diags: list[Diagnostic]) -> dict[str, int]:
    out = {s.value: 0 for s in Severity}
    for d in diags:
        out[d.severity.value] += 1
    return out


def format_text(diags: list[Diagnostic], color: bool = False) -> str:
    """`file:line:col: error[rule]: message` plus an indented hint: what compilers print."""
    styles = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.NOTE: "bold cyan"}
    lines: list[str] = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        head = f"{d.location}: {d.severity.value}[{d.rule}]: {d.message}"
        if color:
            from rich.markup import escape

            head = (f"[bold]{escape(str(d.location))}[/]: [{styles[d.severity]}]{d.severity.value}[/]"
                    f"[dim]\\[{escape(d.rule)}][/]: {escape(d.message)}")
        lines.append(head)
        for rel in d.related:
            lines.append(f"    see {rel}")
        if d.hint:
            lines.append(f"    hint: {d.hint}")
    c = _counts(diags)
    lines.append(f"{c['error']} error(s), {c['warning']} warning(s)")
    return "\n".join(lines)


def format_json(diags: list[Diagnostic]) -> str:
    items = [
        {
            "rule": d.rule,
            "severity": d.severity.value,
            "message": d.message,
            "file": d.location.file,
            "line": d.location.line,
            "col": d.location.col,
            "hint": d.hint,
            "related": [{"file": r.file, "line": r.line, "col": r.col} for r in d.related],
        }
        for d in sorted(diags, key=Diagnostic.sort_key)
    ]
    return json.dumps({"diagnostics": items, "summary": _counts(diags)}, ensure_ascii=False, indent=2)


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(diags: list[Diagnostic]) -> str:
    """GitHub Actions workflow commands: each diagnostic becomes an annotation on the file."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}
    out = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        props = [f"file={_gh_escape(d.location.file, True)}"]
        if d.location.line:
            props += [f"line={d.location.line}", f"col={d.location.col or 1}"]
        props.append(f"title={_gh_escape(d.rule, True)}")
        msg = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        out.append(f"::{level[d.severity]} {','.join(props)}::{_gh_escape(msg)}")
    return "\n".join(out)


def _uri(path: str) -> str:
    """A path as a URI reference (SARIF requires one): percent-encoded, `file:` when absolute."""
    if os.path.isabs(path):
        return Path(path).as_uri()
    return quote(path.replace(os.sep, "/"), safe="/", errors="surrogateescape")


def format_sarif(diags: list[Diagnostic], rule_docs: dict[str, str] | None = None) -> str:
    """SARIF 2.1.0, the format code-scanning tools ingest."""
    from . import __version__

    rule_docs = rule_docs or {}
    rule_ids = sorted({d.rule for d in diags})
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}

    def loc(l: Location) -> dict:
        phys: dict = {"artifactLocation": {"uri": _uri(l.file)}}
        if l.line:
            phys["region"] = {"startLine": l.line, "startColumn": l.col or 1}
        return {"physicalLocation": phys}

    results = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        r = {
            "ruleId": d.rule,
            "ruleIndex": rule_ids.index(d.rule),
            "level": level[d.severity],
            "message": {"text": d.message + (f" Hint: {d.hint}" if d.hint else "")},
            "locations": [loc(d.location)],
        }
        if d.related:
            r["relatedLocations"] = [dict(loc(x), id=i) for i, x in enumerate(d.related)]
        results.append(r)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "netgen",
                "version": __version__,
                "rules": [{"id": r, "shortDescription": {"text": rule_docs.get(r, r)}} for r in rule_ids],
            }},
            "results": results,
        }],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


FORMATS = ("text", "json", "github", "sarif")


def render(diags: Iterable[Diagnostic], fmt: str, color: bool = False, rule_docs=None) -> str:
    diags = list(diags)
    if fmt == "json":
        return format_json(diags)
    if fmt == "github":
        return format_github(diags)
    if fmt == "sarif":
        return format_sarif(diags, rule_docs)
    return format_text(diags, color=color)
