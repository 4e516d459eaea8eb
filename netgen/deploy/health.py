"""Post-change health checks: is the device still manageable, did its BGP sessions come back?

"Back" means: every session that was established before the change and that the new config
still has is established again within the timeout. Sessions the change adds are not required
here — their peer may only be changed in a later wave; `netgen verify` checks the whole intent
once everything is applied.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from .session import describe, fresh_driver


@dataclass
class Health:
    ok: bool
    reason: str = ""


def established(driver) -> set[tuple[str, str]]:
    """(vrf, peer address) of every established BGP session."""
    out = set()
    for vrf, data in (driver.get_bgp_neighbors() or {}).items():
        for peer, info in (data.get("peers") or {}).items():
            if info.get("is_up"):
                out.add((vrf, str(peer)))
    return out


def snapshot(driver) -> set[tuple[str, str]]:
    try:
        return established(driver)
    except Exception:  # a device whose BGP cannot be read now has nothing to come back
        return set()


def check(host, driver, before: set[tuple[str, str]], keep: set[str], timeout: float = 60.0,
          interval: float = 2.0) -> Health:
    """`keep`: peer addresses the new config still has."""
    try:
        fresh = fresh_driver(host)
        try:
            fresh.get_facts()
        finally:
            fresh.close()
    except Exception as exc:
        return Health(False, f"management unreachable after the change ({describe(exc)})")
    expected = {(vrf, peer) for vrf, peer in before if peer in keep}
    if not expected:
        return Health(True)
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        try:
            missing = expected - established(driver)
            last_error = ""
        except Exception as exc:
            missing, last_error = expected, describe(exc)
        if not missing:
            return Health(True)
        if time.monotonic() >= deadline:
            peers = ", ".join(sorted(p for _, p in missing)[:6])
            why = f"; reading BGP failed: {last_error}" if last_error else ""
            return Health(False, f"BGP session(s) not back within {timeout:.0f} s: {peers}{why}")
        time.sleep(interval)
