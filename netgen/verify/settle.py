"""Waiting for the network to settle: right after a change, adjacencies and routes are still
forming, so a first failure is not yet a violation. Re-run only what failed, every few seconds,
until everything passes or the time is up; what still fails then is the answer."""
from __future__ import annotations

import time
from typing import Callable

from .checks import Finding

ORDER = {k: n for n, k in enumerate(("device", "session", "igp", "route", "ldp", "vpn-path", "ipsec",
                                     "reach", "isolation", "internet"))}


def settle(findings: list[Finding], rerun: Callable[[list[Finding]], list[Finding]], timeout: float,
           interval: float = 3.0, progress: Callable[[str], None] | None = None,
           clock=time.monotonic, sleep=time.sleep) -> tuple[list[Finding], float, bool]:
    """→ (findings, seconds waited, settled). `rerun(failed)` returns the findings of re-running
    the failed ones (a device that could not be read comes back as all its checks' findings)."""
    start = clock()
    while True:
        failed = [f for f in findings if not f.ok]
        waited = clock() - start
        if not failed or waited >= timeout:
            return sorted(findings, key=lambda f: ORDER.get(f.check, len(ORDER))), waited, not failed
        if progress:
            progress(f"{len(failed)} check(s) still failing after {waited:.0f} s; re-checking them "
                     f"(settling for up to {timeout:.0f} s)")
        sleep(min(interval, timeout - waited))
        findings = [f for f in findings if f.ok] + rerun(failed)
