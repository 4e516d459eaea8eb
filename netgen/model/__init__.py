"""Resolution: validated intent + lock file → the network model (and the updated lock)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import Diagnostic, Location, Severity
from ..intent.validate import Validation, validate
from .allocate import Allocation, allocate
from .lock import Lock, LockError
from .resolve import resolve_model
from .types import Network


@dataclass
class Resolution(Validation):
    network: Network | None = None
    allocation: Allocation | None = None
    lock: Lock | None = None

    @property
    def lock_changed(self) -> bool:
        return self.allocation is not None and self.lock is not None and \
            self.allocation.lock_entries() != self.lock.entries

    def write_lock(self) -> bool:
        """Record this run's allocations in the lock file; returns whether it changed."""
        if not self.lock_changed:
            return False
        self.lock.entries = self.allocation.lock_entries()
        self.lock.write()
        return True


def resolve(path: str | Path, locked: bool = False) -> Resolution:
    """Validate and resolve the intent in `path`. With `locked`, anything new to allocate is an
    error (CI: the committed lock file must already hold every allocation)."""
    v = validate(path)
    out = Resolution(diagnostics=v.diagnostics, intent=v.intent)
    if v.intent is None:
        return out
    try:
        out.lock = Lock.read(Path(path))
    except LockError as exc:
        out.diagnostics.append(Diagnostic("lock.unreadable", Severity.ERROR, str(exc),
                                          Location(str(Path(path) / "netgen.lock")), fatal=True))
        return out
    out.allocation = allocate(v.intent, out.lock)
    out.diagnostics += out.allocation.diagnostics
    if not out.ok:
        return out
    if locked and out.lock_changed:
        new = ", ".join(out.allocation.new[:5]) + (" …" if len(out.allocation.new) > 5 else "")
        out.diagnostics.append(Diagnostic(
            "lock.outdated", Severity.ERROR, f"the lock file lacks {len(out.allocation.new)} allocation(s): {new}",
            Location(str(out.lock.path)), "run `netgen lock` and commit netgen.lock with the intent"))
        return out
    out.network = resolve_model(v.intent, out.allocation)
    return out
