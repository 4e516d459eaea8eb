"""The validation pipeline as a list of named stages (load → structure → assemble → rules).

Each stage gathers all its findings; the pipeline stops at the first stage that reported an
error, because later stages rely on what earlier ones guarantee.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..diagnostics import Result
from .background import InChild, cores
from .cache import Cache
from .gcpause import without_gc
from .intent import Intent, assemble
from .read import read_dir
from .rules import run_rules


PARALLEL_SITES = 2000  # below this the rules take less time than starting a process


@dataclass
class Validation(Result):
    intent: Intent | None = None
    speculated: Any = None  # what `speculate` returned, when the intent is valid


@without_gc
def validate(path: str | Path, cache: Cache | None = None, jobs: int | None = None,
             speculate: Callable[[Intent], Any] | None = None) -> Validation:
    """Validate the intent in directory `path`; `.intent` is set when it is valid. With a
    cache, files whose bytes it has seen are not read again; `jobs` caps the processes.

    `speculate(intent)` is what the caller does next with a valid intent (resolve: allocate).
    On a large intent with a core to spare it runs while the semantic rules run in a forked
    copy of this process, and its result is dropped if they find an error (an exception it
    raises then is the rules' business, not a failure); otherwise it runs after them."""
    out = Validation()
    files, problems = read_dir(Path(path), cache, jobs)
    out.diagnostics += problems
    out.diagnostics += [d for f in files for d in f.load]
    if not out.ok:
        return out
    out.diagnostics += [d for f in files for d in f.structure]
    if not out.ok:
        return out
    intent, diags = assemble([f.doc for f in files if f.doc is not None])
    out.diagnostics += diags
    if intent is None or not out.ok:
        return out
    if speculate is not None and len(intent.sites) >= PARALLEL_SITES and (jobs or cores()) > 1:
        rules = InChild(lambda: run_rules(intent))
        try:
            speculated, failure = speculate(intent), None
        except Exception as exc:  # noqa: BLE001 - see the docstring
            speculated, failure = None, exc
        out.diagnostics += rules.result()
        if out.ok and failure is not None:
            raise failure
    else:
        out.diagnostics += run_rules(intent)
        speculated = speculate(intent) if speculate is not None and out.ok else None
    if out.ok:
        out.intent, out.speculated = intent, speculated
    return out
