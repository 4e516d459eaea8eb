"""Semantic rules: each has a stable id, a severity and a one-line summary.

A rule is a function `(intent) -> Iterable[Finding]`, registered with @rule; the registry
turns findings into Diagnostics. Rules only read the intent; all run, and their findings are
reported together. Every rule runs in O(n log n) or better over sites and devices.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from ...diagnostics import Diagnostic, Location, Severity
from ..intent import Intent


@dataclass(frozen=True)
class Finding:
    location: Location
    message: str
    hint: str = ""
    related: tuple[Location, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    check: Callable[[Intent], Iterable[Finding]]


RULES: dict[str, Rule] = {}


def rule(rule_id: str, summary: str, severity: Severity = Severity.ERROR):
    def register(fn: Callable[[Intent], Iterable[Finding]]):
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} registered twice")
        RULES[rule_id] = Rule(rule_id, severity, summary, fn)
        return fn

    return register


def run_rules(intent: Intent) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for r in RULES.values():
        for f in r.check(intent):
            out.append(Diagnostic(r.id, r.severity, f.message, f.location, f.hint, f.related))
    return out


# Importing the modules registers their rules.
from . import addressing, departments, equipment, hierarchy, redundancy, uniqueness, zones  # noqa: E402,F401
