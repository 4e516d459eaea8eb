"""Physical ports: which ports each device needs, and stable port numbers for them.

Like addresses, port numbers are pinned in the intent, else kept from the lock file, else the
lowest free number on the device; a port whose owner left the intent stays taken until its
lock entry is released (the cable is still plugged in).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..diagnostics import Diagnostic, Location, Severity
from ..intent.intent import Intent
from ..intent.tree import Map
from .lock import Lock
from .types import Origin

if TYPE_CHECKING:
    from .allocate import Allocation

ORPHAN_PORT = Origin("lock", "orphan: its owner left the intent; release it to free the port")
PORT_FROM_LOCK = Origin("lock")


def port_demands(intent: Intent, links: list, devices: set[str] | None = None
                 ) -> dict[str, list[tuple[str, int | None, Location]]]:
    """Per device (of `devices`, else every one), the ports it needs: (lock key, pinned port or
    None, where it was asked)."""
    out: dict[str, list] = {name: [] for name in intent.device if devices is None or name in devices}
    for key, _, dev, up in links:
        if dev["name"] in out:
            out[dev["name"]].append((f"port/{dev['name']}/link:{key}", up.get("port"), (up, "peer")))
        if up["peer"] in out:
            out[up["peer"]].append((f"port/{up['peer']}/link:{key}", up.get("peer_port"), (up, "peer")))
    for _, dev in intent.devices:
        if dev.get("internet") and dev["name"] in out:
            out[dev["name"]].append((f"port/{dev['name']}/internet", None, (dev, "internet")))
    for dept in intent.departments:
        for a in dept["attach"]:
            dev = access_device(intent, a)
            if dev is not None and dev["name"] in out:
                out[dev["name"]].append((f"port/{dev['name']}/access:{dept['id']}", None, (a, "site")))
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
    """Port numbers for every demand (port_demands), recorded in `alloc` (ports, origins, new,
    orphans). Extending `base` (allocate.Allocator), only the devices that need a new port."""
    demanded = {key for wants in demands.values() for key, _, _ in wants}
    locked = base.ports if base is not None else \
        {k: int(v) for k, v in lock.entries.items() if k.startswith("port/") and v.isdigit()}
    used_by: dict[str, dict[int, str]] = {}  # device → port → key, orphans first
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
        used = used_by.setdefault(dev, {})
        pending = []
        for key, pinned, at in wants:
            value = pinned if pinned is not None else locked.get(key)
            if value is None:
                pending.append(key)
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
        free = 1
        for key in sorted(pending):
            while free in used:
                free += 1
            used[free] = key
            alloc.ports[key] = free
            alloc.origins[key] = Origin("allocated", f"lowest free port of {dev}")
            alloc.new.append(key)
