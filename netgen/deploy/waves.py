"""The order apply changes devices in: a canary first, then the hierarchy level by level.

Default: from the edge to the core (township → … → central), so a bad change reaches the few
users of one edge device (the canary) before it can touch a province or the centre. `--order
core-first` reverses it; `--wave-size` splits a level into waves of at most N devices. Within a
wave devices change in parallel; the next wave starts only if failures stay under
`--max-failures`.
"""
from __future__ import annotations

from dataclasses import dataclass

LEVEL_ORDER = ("central", "province", "city", "county", "township", "village")


@dataclass(frozen=True)
class Wave:
    name: str
    devices: tuple[str, ...]


def plan_waves(devices: dict[str, str], canary: int = 1, order: str = "edge-first",
               wave_size: int | None = None) -> list[Wave]:
    """`devices`: name → level. Returns the waves, every device exactly once."""
    if order not in ("edge-first", "core-first"):
        raise ValueError(f"unknown wave order `{order}` (edge-first or core-first)")
    if canary < 0 or (wave_size is not None and wave_size < 1):
        raise ValueError("--canary must be ≥ 0 and --wave-size ≥ 1")
    levels = LEVEL_ORDER[::-1] if order == "edge-first" else LEVEL_ORDER
    rank = {lvl: i for i, lvl in enumerate(levels)}
    ordered = sorted(devices, key=lambda n: (rank.get(devices[n], len(rank)), n))
    waves: list[Wave] = []
    if canary and len(ordered) > canary:
        waves.append(Wave("canary", tuple(ordered[:canary])))
        ordered = ordered[canary:]
    for lvl in [*levels, None]:
        members = [n for n in ordered if (devices[n] if devices[n] in rank else None) == lvl]
        size = wave_size or len(members) or 1
        for i in range(0, len(members), size):
            part = f" {i // size + 1}" if len(members) > size else ""
            waves.append(Wave(f"{lvl or 'other'}{part}", tuple(members[i:i + size])))
    return waves
