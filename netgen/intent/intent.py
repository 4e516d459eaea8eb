"""The whole intent, assembled from its files, with the indexes every later stage needs.

Files each hold some of the sections (`network`, `zones`, `departments`, `sites`); this joins
them. Indexes keep the first of duplicate ids — the uniqueness rules report the rest.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..diagnostics import Diagnostic, Location, Severity
from .load import Document
from .schema import LEVELS
from .tree import Map

LEVEL_RANK = {lvl: i for i, lvl in enumerate(LEVELS)}


def vrf_name(zone: Map) -> str:
    """The VRF (vpn-instance) a zone is on every device: its own `vrf`, else ZW-<ID>."""
    return zone.get("vrf") or f"ZW-{zone['id'].upper()}"


@dataclass
class Intent:
    network: Map
    zones: list[Map] = field(default_factory=list)
    departments: list[Map] = field(default_factory=list)
    sites: list[Map] = field(default_factory=list)
    files: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.memo: dict[str, object] = {}  # derived data shared by several rules, computed once
        self.site: dict[str, Map] = {}
        self.zone: dict[str, Map] = {}
        self.department: dict[str, Map] = {}
        self.device: dict[str, tuple[Map, Map]] = {}  # name → (site, device)
        self.devices: list[tuple[Map, Map]] = []
        for s in self.sites:
            self.site.setdefault(s["id"], s)
            for d in s["devices"]:
                self.devices.append((s, d))
                self.device.setdefault(d["name"], (s, d))
        for z in self.zones:
            self.zone.setdefault(z["id"], z)
        for d in self.departments:
            self.department.setdefault(d["id"], d)

    # ------------------------------------------------------------------ hierarchy

    def parent(self, site: Map) -> Map | None:
        return self.site.get(site.get("parent")) if site.get("parent") else None

    def ancestors(self, site: Map) -> list[Map]:
        """Parent first, up to the root; stops at a cycle (reported by hierarchy.cycle)."""
        out, seen, cur = [], {site["id"]}, self.parent(site)
        while cur is not None and cur["id"] not in seen:
            out.append(cur)
            seen.add(cur["id"])
            cur = self.parent(cur)
        return out

    @cached_property
    def children(self) -> dict[str, list[Map]]:
        out: dict[str, list[Map]] = {}
        for s in self.sites:
            if s.get("parent"):
                out.setdefault(s["parent"], []).append(s)
        return out

    # ------------------------------------------------------------------ zones and departments

    def zones_of_kind(self, kind: str) -> list[Map]:
        return [z for z in self.zones if z["kind"] == kind]

    def department_zones(self, dept: Map) -> list[str]:
        """Zone ids a department joins: explicit `zones`, or those of its access class."""
        if dept.get("zones") is not None:
            return list(dept["zones"])
        spec = self.network["access_classes"].get(dept.get("class"), {"zones": []})
        out: list[str] = []
        for kind in spec["zones"]:
            if kind == "dedicated":
                out.extend(dept["dedicated"])
            else:
                out.extend(z["id"] for z in self.zones_of_kind(kind)[:1])
        return out

    def attachment_zones(self, dept: Map, attach: Map) -> list[str]:
        return list(attach["zones"]) if attach.get("zones") is not None else self.department_zones(dept)

    def exit_mode(self, dept: Map) -> str:
        """'own' when the department brings its own Internet exit, else 'unified'."""
        spec = self.network["access_classes"].get(dept.get("class"), {})
        return spec.get("exit", "unified")

    @cached_property
    def site_mlps(self) -> dict[str, int]:
        """Effective MLPS level per site: the site's own (or its level's default), raised by
        any business system that runs there."""
        out = {s["id"]: s.get("mlps") or self.network["mlps"][s["level"]] for s in self.sites}
        for dept in self.departments:
            attached = [a["site"] for a in dept["attach"]]
            for system in dept["systems"]:
                for sid in system.get("sites") or attached:
                    if sid in out:
                        out[sid] = max(out[sid], system["mlps"])
        return out


def assemble(docs: list[Document]) -> tuple[Intent | None, list[Diagnostic]]:
    """Join the files' sections; exactly one file must hold `network`."""
    networks = [(d, d.data["network"]) for d in docs if "network" in d.data]
    diags: list[Diagnostic] = []
    if not networks:
        where = Location(docs[0].path, 1, 1) if docs else Location("(intent)")
        diags.append(Diagnostic("intent.network-missing", Severity.ERROR, "no file holds the `network:` section",
                                where, "add network-wide settings (see inventory/network.yaml in the example)"))
        return None, diags
    for doc, _ in networks[1:]:
        diags.append(Diagnostic("intent.network-duplicate", Severity.ERROR, "`network:` is defined in more than one file",
                                doc.data.where("network", of="key"), "keep network-wide settings in one file",
                                (networks[0][0].data.where("network", of="key"),)))
    intent = Intent(
        network=networks[0][1],
        zones=[z for d in docs for z in d.data.get("zones", [])],
        departments=[x for d in docs for x in d.data.get("departments", [])],
        sites=[s for d in docs for s in d.data.get("sites", [])],
        files=tuple(d.path for d in docs),
    )
    return intent, diags
