"""Resolution: validated intent + lock file → the network model (and the updated lock)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import Diagnostic, Location, Severity
from ..intent.cache import Cache
from ..intent.gcpause import without_gc
from ..intent.validate import Validation, validate
from . import alloc_cache
from .allocate import Allocation, allocate
from .lazy import LazyNetwork
from .lock import Lock, LockError
from .resolve import Resolver, resolve_model
from .types import Network


@dataclass
class Resolution(Validation):
    network: Network | None = None
    allocation: Allocation | None = None
    lock: Lock | None = None
    resolver: Resolver | None = None  # the network-wide facts devices are built from
    cache: Cache | None = None

    @property
    def lock_changed(self) -> bool:
        return self.allocation is not None and self.lock is not None and not self.allocation.holds(self.lock)

    def lazy_network(self) -> LazyNetwork:
        """The model built on demand (for `netgen build`'s workers); needs a valid allocation."""
        return LazyNetwork(self.resolver or Resolver(self.intent, self.allocation))

    def write_lock(self) -> bool:
        """Record this run's allocations in the lock file; returns whether it changed."""
        if not self.lock_changed:
            return False
        alloc = self.allocation
        if alloc.extends_lock:  # the new values' lines put into the file's text
            self.lock.write(added=alloc.entries_of(alloc.new))
        else:
            self.lock.entries = alloc.lock_entries()
            self.lock.write()
        alloc.known = (self.lock.sha256, True)  # what it holds now
        if self.cache is not None:  # what the next run, reading this lock file, allocates
            alloc_cache.store_relocked(self.cache, self.intent, self.lock, self.allocation)
        return True


@without_gc
def resolve(path: str | Path, locked: bool = False, cache: Cache | None = None, jobs: int | None = None,
            model: bool = True) -> Resolution:
    """Validate and resolve the intent in `path`. With `locked`, anything new to allocate is an
    error (CI: the committed lock file must already hold every allocation). `cache` and `jobs`
    are validate's. Without `model`, stop after allocation (`.network` stays None)."""
    def allocation(intent):  # runs alongside the semantic rules on a large intent
        try:
            lock = Lock.read(Path(path), lazy=True)
            alloc = allocate(intent, lock, cache)
        except LockError as exc:
            return exc, None, None
        return lock, alloc, None if alloc.diagnostics else Resolver(intent, alloc)

    v = validate(path, cache, jobs, speculate=allocation)
    out = Resolution(diagnostics=v.diagnostics, intent=v.intent, cache=cache)
    if v.intent is None:
        return out
    lock, out.allocation, out.resolver = v.speculated
    if isinstance(lock, LockError):
        out.diagnostics.append(Diagnostic("lock.unreadable", Severity.ERROR, str(lock),
                                          Location(str(Path(path) / "netgen.lock")), fatal=True))
        return out
    out.lock = lock
    out.diagnostics += out.allocation.diagnostics
    if not out.ok:
        return out
    if locked and out.lock_changed:
        new = ", ".join(out.allocation.new[:5]) + (" …" if len(out.allocation.new) > 5 else "")
        out.diagnostics.append(Diagnostic(
            "lock.outdated", Severity.ERROR, f"the lock file lacks {len(out.allocation.new)} allocation(s): {new}",
            Location(str(out.lock.path)), "run `netgen lock` and commit netgen.lock with the intent"))
        return out
    if model:
        out.network = out.resolver.run() if out.resolver else resolve_model(v.intent, out.allocation)
    return out
