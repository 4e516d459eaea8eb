"""The validation pipeline as a list of named stages (load → structure → assemble → rules).

Each stage gathers all its findings; the pipeline stops at the first stage that reported an
error, because later stages rely on what earlier ones guarantee.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import Result
from .intent import Intent, assemble
from .load import load_dir
from .rules import run_rules
from .structure import check_structure


@dataclass
class Validation(Result):
    intent: Intent | None = None


def validate(path: str | Path) -> Validation:
    """Validate the intent in directory `path`; `.intent` is set when it is valid."""
    out = Validation()
    docs, diags = load_dir(Path(path))
    out.diagnostics += diags
    if not out.ok:
        return out
    out.diagnostics += check_structure(docs)
    if not out.ok:
        return out
    intent, diags = assemble(docs)
    out.diagnostics += diags
    if intent is None or not out.ok:
        return out
    out.diagnostics += run_rules(intent)
    if out.ok:
        out.intent = intent
    return out
