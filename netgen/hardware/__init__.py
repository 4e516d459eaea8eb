"""Hardware profiles: what each device model really has, as data (huawei.yaml, h3c.yaml, frr.yaml).

A profile names a model's ports — slot by slot, with their line rate and the interface names its
software prints — the software generation it runs (VRP5, VRP8, Comware 7: commands differ) and
how a change is committed on it (VRP8's two-stage `commit trial`, Comware 7's `configuration
commit delay`, or netgen holding the rollback itself). Allocation gives a link a port of the
speed its bandwidth needs (model/ports.py); templates print the names and branch on the
software; deploy picks the commit mode. The profiles are the one home of these facts: every
other part asks `profile(model)`.

Loading checks each file whole (unknown keys, duplicate port names, a card in a slot the
chassis reserves, a speed not on the list): a broken profile is netgen's bug, reported with
its file, never a silent default. An unknown *model* in the intent is the user's error: the
rule `equipment.model` reports it with the known models of that platform.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DIRECTORY = Path(__file__).resolve().parent
FILES = ("huawei.yaml", "h3c.yaml", "frr.yaml")
SOFTWARE = ("vrp5", "vrp8", "comware7", "frr")
COMMIT = ("two-stage", "commit-delay", "netgen-held", "frr-reload")
KINDS = ("router", "firewall", "server")
# Line rates a port group may have, in Mbit/s (a bandwidth is written the same way: 100M, 10G).
SPEEDS = {"100M": 100, "1G": 1000, "10G": 10_000, "25G": 25_000, "40G": 40_000, "50G": 50_000,
          "100G": 100_000, "200G": 200_000, "400G": 400_000}
_UNIT = {"K": 0.001, "M": 1, "G": 1000, "T": 1_000_000}
_MODEL_KEYS = {"platform", "kind", "software", "release", "commit", "mgmt_port", "reserved_slots", "ref", "ports"}
_GROUP_KEYS = {"name", "slots", "first", "count", "speed", "ref"}


class ProfileError(Exception):
    """A hardware profile file that netgen cannot use (netgen's own data is wrong)."""


@dataclass(frozen=True, slots=True)
class Port:
    name: str  # as the device names it: 10GE1/0/3, Ten-GigabitEthernet1/0/3
    speed: int  # line rate, Mbit/s
    index: int  # 1-based place in the model's port list: the lab's eth<index>


@dataclass(frozen=True, slots=True)
class Hardware:
    """One device model as templates and deploy see it (`d.hardware`)."""

    model: str
    platform: str
    kind: str  # router | firewall | server
    software: str  # vrp5 | vrp8 | comware7 | frr
    release: str  # the release the profile and the templates assume, e.g. V800R021C10
    commit: str  # two-stage | commit-delay | netgen-held | frr-reload
    mgmt_port: str | None  # out-of-band management port, if the model has one


class Profile:
    """A model's hardware and its ports, with the look-ups allocation makes per link (made once:
    a national build asks them for 100,000 link ends)."""

    __slots__ = ("hardware", "ports", "source", "by_name", "_speeds")

    def __init__(self, hardware: Hardware, ports: tuple[Port, ...], source: str):
        self.hardware, self.ports, self.source = hardware, ports, source  # ports in allocation order
        self.by_name: dict[str, Port] = {p.name: p for p in ports}
        self._speeds = tuple(sorted({p.speed for p in ports}))

    def speeds(self) -> tuple[int, ...]:
        return self._speeds

    def speed_for(self, mbps: float) -> int | None:
        """The line rate a link of `mbps` takes on this model: the slowest port speed that
        carries it (a 100M circuit on a GE port, a 2G one on 10GE); None when none does."""
        i = bisect_left(self._speeds, mbps)
        return self._speeds[i] if i < len(self._speeds) else None


def mbps(bandwidth: str) -> float:
    """A bandwidth as the intent writes it (`100M`, `2.5G`) in Mbit/s."""
    return float(bandwidth[:-1]) * _UNIT[bandwidth[-1]]


def speed_text(value: int) -> str:
    """Mbit/s as the profiles and the intent write it: 10000 → 10G."""
    return f"{value // 1000}G" if value >= 1000 and value % 1000 == 0 else f"{value}M"


def _expand(model: str, group: dict, reserved: set[int], where: str) -> list[tuple[str, int]]:
    extra = set(group) - _GROUP_KEYS
    if extra or not _GROUP_KEYS - {"ref"} <= set(group):
        raise ProfileError(f"{where}: model {model}: a port group needs {sorted(_GROUP_KEYS)}, has {sorted(group)}")
    if group["speed"] not in SPEEDS:
        raise ProfileError(f"{where}: model {model}: speed {group['speed']!r} is not one of {', '.join(SPEEDS)}")
    clash = reserved & set(group["slots"])
    if clash:
        raise ProfileError(f"{where}: model {model}: a line card in slot(s) {sorted(clash)}, which the chassis "
                           "reserves (MPU/SFU)")
    out = []
    for slot in group["slots"]:
        for port in range(group["first"], group["first"] + group["count"]):
            out.append((group["name"].format(slot=slot, port=port), SPEEDS[group["speed"]]))
    return out


def _profile(model: str, data: dict, where: str) -> Profile:
    extra, missing = set(data) - _MODEL_KEYS, _MODEL_KEYS - {"mgmt_port", "reserved_slots", "ref"} - set(data)
    if extra or missing:
        raise ProfileError(f"{where}: model {model}: unknown key(s) {sorted(extra)}, missing {sorted(missing)}")
    for key, allowed in (("software", SOFTWARE), ("commit", COMMIT), ("kind", KINDS)):
        if data[key] not in allowed:
            raise ProfileError(f"{where}: model {model}: {key} {data[key]!r} is not one of {', '.join(allowed)}")
    reserved = set(data.get("reserved_slots") or ())
    ports: list[Port] = []
    seen: set[str] = set()
    for group in data["ports"]:
        for name, speed in _expand(model, group, reserved, where):
            if name in seen:
                raise ProfileError(f"{where}: model {model}: port {name} listed twice")
            seen.add(name)
            ports.append(Port(name, speed, len(ports) + 1))
    hw = Hardware(model, data["platform"], data["kind"], data["software"], str(data["release"]), data["commit"],
                  data.get("mgmt_port"))
    return Profile(hw, tuple(ports), where)


@lru_cache(maxsize=None)
def all_models() -> dict[str, Profile]:
    """Every model of every profile file, by model name."""
    out: dict[str, Profile] = {}
    for name in FILES:
        path = DIRECTORY / name
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ProfileError(f"{path}: cannot read the hardware profiles: {exc}") from exc
        for model, spec in (data or {}).get("models", {}).items():
            if model in out:
                raise ProfileError(f"{path}: model {model} is also in {out[model].source}")
            out[str(model)] = _profile(str(model), spec, str(path))
    return out


def profile(model: str) -> Profile | None:
    """The profile of `model`, or None when netgen has none (the rule equipment.model reports it)."""
    return all_models().get(model)


def models_of(platform: str) -> list[str]:
    return sorted(m for m, p in all_models().items() if p.hardware.platform == platform)




def describe_free(profile: Profile, used: set[str], speed: int) -> str:
    """What is left on a model, for an exhaustion message: how many ports of `speed` it has, all
    in use, and the free ports of other speeds."""
    total = sum(1 for p in profile.ports if p.speed == speed)
    free = Counter(p.speed for p in profile.ports if p.name not in used and p.speed != speed)
    text = f"all {total} {speed_text(speed)} ports of the model are in use"
    if free:
        text += "; free: " + ", ".join(f"{n} × {speed_text(s)}" for s, n in sorted(free.items()))
    return text
