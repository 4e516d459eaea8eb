"""Physical ports: which ports each device needs, and stable physical ports for them.

A port is named as the device names it (`10GE1/0/3`, `Ten-GigabitEthernet1/0/3`), from the
device model's hardware profile (netgen/hardware): a link takes a port of the speed its
bandwidth needs — the slowest line rate of the model that carries it — and a department LAN
trunk or an Internet port a gigabit one [design: the intent gives them no bandwidth]. Like
addresses, ports are pinned in the intent (`port: 10GE1/0/3`), else kept from the lock file
(while the port still has the speed the link needs), else the first free port of that speed
in the profile's order; a port whose owner left the intent stays taken until its lock entry
is released (the cable is still plugged in). A lock entry of an older netgen (a bare number)
is replaced by a named port.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostic, Severity
from ..hardware import describe_free, mbps, profile, speed_text
from ..intent import schema
from ..intent.intent import Intent
from ..intent.tree import Map
from .lock import Lock
from .types import Origin

if TYPE_CHECKING:
    from .allocate import Allocation

ORPHAN_PORT = Origin("lock", "orphan: its owner left the intent; release it to free the port")
PORT_FROM_LOCK = Origin("lock")
# What a port's name looks like, in the intent and the lock file (anything else there is dropped)
PORT_NAME = re.compile(schema.PORT_NAME)
TRUNK_MBPS = 1000  # a department LAN trunk or an Internet port: a gigabit port [design]


def port_demands(intent: Intent, links: list, devices: set[str] | None = None
                 ) -> dict[str, list[tuple[str, str | None, tuple, float]]]:
    """Per device (of `devices`, else every one), the ports it needs: (lock key, pinned port
    name or None, where it was asked, the bandwidth it carries in Mbit/s)."""
    out: dict[str, list] = {name: [] for name in intent.device if devices is None or name in devices}
    for key, _, dev, up in links:
        need = mbps(up["bandwidth"])
        if dev["name"] in out:
            out[dev["name"]].append((f"port/{dev['name']}/link:{key}", up.get("port"), (up, "port" if up.get("port")
                                                                                       else "peer"), need))
        if up["peer"] in out:
            out[up["peer"]].append((f"port/{up['peer']}/link:{key}", up.get("peer_port"),
                                    (up, "peer_port" if up.get("peer_port") else "peer"), need))
    for _, dev in intent.devices:
        if dev.get("internet") and dev["name"] in out:
            out[dev["name"]].append((f"port/{dev['name']}/internet", None, (dev, "internet"), TRUNK_MBPS))
    for dept in intent.departments:
        for a in dept["attach"]:
            dev = access_device(intent, a)
            if dev is not None and dev["name"] in out:
                out[dev["name"]].append((f"port/{dev['name']}/access:{dept['id']}", None, (a, "site"), TRUNK_MBPS))
    return out


def access_device(intent: Intent, attach: Map, without: frozenset[str] = frozenset()) -> Map | None:
    """The device a department attachment plugs into: the one named, else the site's first CE,
    else PE (as it was before the devices named in `without` were added)."""
    site = intent.site.get(attach["site"])
    if site is None:
        return None
    if attach.get("device"):
        found = intent.device.get(attach["device"])
        return found[1] if found and found[1]["name"] not in without else None
    for role in ("ce", "pe"):
        for dev in site["devices"]:
            if dev["role"] == role and dev["name"] not in without:
                return dev
    return None


def allocate_ports(intent: Intent, lock: Lock, alloc: "Allocation", demands: dict[str, list],
                   base: "Allocation | None" = None) -> None:
    """A physical port for every demand (port_demands), recorded in `alloc` (ports, origins,
    new, orphans). Extending `base` (allocate.Allocator), only the devices that need a new port.
    A device whose model has no profile gets none (the rule equipment.model reports it)."""
    demanded = {key for wants in demands.values() for key, *_ in wants}
    locked = base.ports if base is not None else \
        {k: v for k, v in lock.entries.items() if k.startswith("port/") and PORT_NAME.fullmatch(v)}
    used_by: dict[str, dict[str, str]] = {}  # device → port name → key, orphans first
    for key, value in locked.items():
        if key not in demanded:
            used_by.setdefault(key.split("/")[1], {})[value] = key
            if base is None:  # an extension keeps the base's orphans
                alloc.ports[key] = value
                alloc.origins[key] = ORPHAN_PORT
                alloc.orphans.append(key)
    needing = None if base is None else {key.split("/")[1] for key in demanded - locked.keys()}
    for dev, wants in demands.items():
        if needing is not None and dev not in needing:
            continue
        prof = profile(intent.device[dev][1]["model"])
        if prof is None:
            continue
        ports = prof.by_name
        used = used_by.setdefault(dev, {})
        pending = []
        for key, pinned, at, need in wants:
            speed = prof.speed_for(need)
            value = pinned if pinned is not None else locked.get(key)
            if pinned is None and value is not None and (value not in ports or ports[value].speed != speed):
                value = None  # an older netgen's number, another model's port, or the link changed speed
            if value is None:
                pending.append((key, speed, at))
                continue
            if value in used:
                alloc.diagnostics.append(Diagnostic(
                    "allocate.port", Severity.ERROR, f"port {value} of `{dev}` is given to both `{used[value]}` "
                    f"and `{key}`", at[0].where(at[1]), f"pin another port, or release one of them "
                    f"(`netgen release {key}`)"))
                continue
            used[value] = key
            alloc.ports[key] = value
            alloc.origins[key] = Origin("intent", str(at[0].where(at[1]))) if pinned is not None else PORT_FROM_LOCK
        if not pending:
            continue
        free = {s: iter([p.name for p in prof.ports if p.speed == s]) for s in {s for _, s, _ in pending}}
        for key, speed, at in sorted(pending, key=lambda x: x[0]):
            name = next((n for n in free[speed] if n not in used), None) if speed is not None else None
            if name is None:
                alloc.diagnostics.append(_exhausted(dev, prof, key, speed, at, used))
                continue
            used[name] = key
            alloc.ports[key] = name
            alloc.origins[key] = Origin("allocated", f"first free {speed_text(speed)} port of {dev}")
            alloc.new.append(key)


def _exhausted(dev: str, prof, key: str, speed: int | None, at: tuple, used: dict[str, str]) -> Diagnostic:
    model = prof.hardware.model
    if speed is None:
        fastest = speed_text(prof.speeds()[-1]) if prof.ports else "none"
        return Diagnostic("allocate.port", Severity.ERROR, f"`{dev}` ({model}) has no port fast enough for "
                          f"`{key}` (its fastest: {fastest})", at[0].where(at[1]),
                          "lower the bandwidth, or choose a model with faster ports")
    return Diagnostic("allocate.port", Severity.ERROR, f"`{dev}` ({model}) has no {speed_text(speed)} port left for "
                      f"`{key}`: {describe_free(prof, set(used), speed)}", at[0].where(at[1]),
                      "free one (`netgen release KEY` of a port whose cable is gone), pin a port of another speed "
                      "(`port:`), or choose a model with more ports of that speed")
