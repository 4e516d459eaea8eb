"""Read an intent directory: every file loaded (YAML) and structure-checked (schema) once.

The two per-file stages depend on nothing but the file's bytes and the name it is reported
under, so their result is kept in the cache keyed by exactly that: an unchanged file is never
parsed again, an edited one always is. Files not in the cache are read in parallel, one process
per core, when there is enough of them to pay for the processes; each worker hands back the
pickled result, which is also what the cache stores. The cache hands back only entries that
passed its check (cache.py), and even those are unpickled allowing nothing but the classes a
result is made of; a file rejected for a clear-text secret is never kept in it.
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from ..diagnostics import Diagnostic, Location, Severity, relpath
from .cache import Cache
from .load import Document, discover, load_bytes, read_bytes
from .structure import check_document

PARALLEL_BYTES = 2 * 1024 * 1024  # below this, starting processes costs more than it saves
KEEP_FILES = 20_000  # cached files kept (a national intent is a few hundred; several checkouts fit)
_PENDING: list[tuple[bytes, str]] = []  # what forked workers read (set before the pool starts)
# What a pickled FileResult may name: its own classes, nothing that could run (defence in depth).
_ALLOWED = {("netgen.intent.read", "FileResult"), ("netgen.intent.load", "Document"),
            ("netgen.intent.tree", "_map"), ("netgen.intent.tree", "_seq"),
            ("netgen.diagnostics", "Diagnostic"), ("netgen.diagnostics", "Location"),
            ("netgen.diagnostics", "Severity")}
UNCACHED_RULES = {"secret.cleartext"}  # a file holding a secret in clear text stays out of the cache


@dataclass
class FileResult:
    """One file: its document (None when it could not be used) and each stage's findings."""

    doc: Document | None
    load: list[Diagnostic] = field(default_factory=list)
    structure: list[Diagnostic] = field(default_factory=list)


def _process(raw: bytes, path: str) -> FileResult:
    doc, diags = load_bytes(raw, path)
    if doc is None or any(d.severity is Severity.ERROR for d in diags):
        return FileResult(None, diags)
    return FileResult(doc, diags, check_document(doc))


def _process_pending(index: int) -> bytes:  # in a worker process
    return pickle.dumps(_process(*_PENDING[index]), protocol=pickle.HIGHEST_PROTOCOL)


def _files(directory: Path) -> tuple[list[Path], list[Diagnostic]]:
    def fatal(message: str, hint: str) -> list[Diagnostic]:
        return [Diagnostic("load.no-intent", Severity.ERROR, message, Location(str(directory)), hint, (), True)]

    try:
        is_dir = directory.is_dir()  # follows a symlink given on the command line
        exists = is_dir or os.path.lexists(directory)
    except OSError as exc:  # e.g. a parent folder that cannot be searched
        return [], fatal(f"cannot open `{directory}`: {exc.strerror}", "check the path and that it is readable")
    if not exists:
        return [], fatal(f"intent directory `{directory}` does not exist",
                         "pass the directory that holds the intent YAML files")
    if not is_dir:  # one file (read_bytes refuses what is not a regular file)
        return [directory], []
    files, problems = discover(directory)
    if problems:  # a part of the tree left out would remove its devices: nothing is read
        return [], problems
    if not files:
        return [], fatal(f"no intent files (*.yaml, *.yml) in `{directory}`", "pass the directory that holds the intent")
    return files, []


def read_dir(directory: Path, cache: Cache | None = None, jobs: int | None = None
             ) -> tuple[list[FileResult], list[Diagnostic]]:
    """Every intent file in `directory`, in discovery order, and what is wrong with the
    directory itself (missing, no intent files)."""
    files, problems = _files(directory)
    results: list[FileResult | None] = [None] * len(files)
    pending: list[tuple[int, bytes, str, str]] = []  # (index, bytes, display path, content key)
    for i, file in enumerate(files):
        path = relpath(str(file))
        raw, diags = read_bytes(file, path)
        if raw is None:
            results[i] = FileResult(None, diags)
            continue
        key = hashlib.sha256(raw).hexdigest()
        hit = _cached(cache, file, path, key)
        if hit is not None:
            results[i] = hit
        else:
            pending.append((i, raw, path, key))
    for (i, _, path, key), (result, blob) in zip(pending, _run(pending, jobs, cache is not None)):
        results[i] = result
        if cache is not None and not any(d.rule in UNCACHED_RULES for d in result.load + result.structure):
            cache.write("parse", f"{files[i].resolve()}\0{path}", key.encode() + b"\n" + blob)
    if pending and cache is not None:
        cache.trim("parse", KEEP_FILES)
    return results, problems  # type: ignore[return-value]


def _cached(cache: Cache | None, file: Path, path: str, key: str) -> FileResult | None:
    """The cached result for these exact bytes under this name, if there is one."""
    if cache is None:
        return None
    entry = cache.read("parse", f"{file.resolve()}\0{path}")  # one slot per file: an edit replaces it
    if entry is None or not entry.startswith(key.encode() + b"\n"):
        return None
    try:
        result = _Restricted(io.BytesIO(entry[len(key) + 1:])).load()
    except Exception:  # an entry of another shape (it passed the check: netgen's own bug) is a miss
        return None
    return result if isinstance(result, FileResult) else None


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a parsed file")
        return super().find_class(module, name)


def _run(pending: list[tuple[int, bytes, str, str]], jobs: int | None, pickled: bool
         ) -> list[tuple[FileResult, bytes | None]]:
    """The results for the files not in the cache, in order, with their pickled form when it
    is wanted (for the cache) or made anyway (by a worker process)."""
    global _PENDING
    jobs = jobs or os.cpu_count() or 1
    if jobs > 1 and len(pending) > 1 and sum(len(raw) for _, raw, _, _ in pending) > PARALLEL_BYTES:
        _PENDING = [(raw, path) for _, raw, path, _ in pending]
        try:
            with ProcessPoolExecutor(min(jobs, len(pending)), mp_context=get_context("fork")) as pool:
                return [(pickle.loads(blob), blob) for blob in pool.map(_process_pending, range(len(pending)))]
        finally:
            _PENDING = []
    out = []
    for _, raw, path, _ in pending:
        result = _process(raw, path)
        out.append((result, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL) if pickled else None))
    return out
