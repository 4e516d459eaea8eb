"""Remediation rules per CLI platform, as data (huawei_vrp.yaml, h3c_comware.yaml beside this file).

Each YAML row carries a `ref:` naming its vendor (or independent) source. `load()` checks the
file's shape and returns a `Rules`: the hier_config rule objects (negation_sub, idempotent
commands, ordering) for the platform driver, plus netgen's own rule kinds that hier_config has
no equivalent for (view openers, permanent sections, re-send after a change, BGP peer removal).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from hier_config.models import IdempotentCommandsRule, MatchRule, NegationSubRule, OrderingRule

HERE = Path(__file__).resolve().parent
_MATCH_KEYS = {"equals", "startswith", "endswith", "contains", "re_search"}


@dataclass(frozen=True)
class Resend:
    """When a `trigger` child of a section matching `lineage` is added or removed, the intended
    children matching `resend` are sent again after it (the device cleared them)."""
    lineage: tuple[MatchRule, ...]
    trigger: re.Pattern
    resend: re.Pattern


@dataclass(frozen=True)
class Rules:
    view_openers: tuple[tuple[int | None, re.Pattern], ...]
    negation_sub: tuple[NegationSubRule, ...]
    idempotent: tuple[IdempotentCommandsRule, ...]
    ordering: tuple[OrderingRule, ...]
    permanent: tuple[re.Pattern, ...]
    resend: tuple[Resend, ...]
    peer_view: re.Pattern


class RulesError(ValueError):
    """A rules file that does not have the expected shape."""


def _lineage(row: dict, where: str) -> tuple[MatchRule, ...]:
    lineage = row.get("lineage")
    if not isinstance(lineage, list) or not lineage:
        raise RulesError(f"{where}: `lineage` must be a non-empty list")
    out = []
    for level in lineage:
        if not isinstance(level, dict) or not level or set(level) - _MATCH_KEYS:
            raise RulesError(f"{where}: lineage levels take {sorted(_MATCH_KEYS)}, got {level!r}")
        out.append(MatchRule(**level))
    return tuple(out)


def _rows(doc: dict, key: str, platform: str) -> list[dict]:
    rows = doc.get(key) or []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not str(row.get("ref") or "").strip():
            raise RulesError(f"{platform}.yaml {key}[{i}]: every rule needs a `ref:` naming its source")
    return rows


@lru_cache(maxsize=None)
def load(platform: str) -> Rules:
    """The rules of `platform` ("huawei_vrp" or "h3c_comware"), parsed once."""
    path = HERE / f"{platform}.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = lambda key, i: f"{path.name} {key}[{i}]"  # noqa: E731
    peer = doc.get("peer_removal") or {}
    if not peer.get("view") or not peer.get("ref"):
        raise RulesError(f"{path.name}: peer_removal needs `view` and `ref`")
    return Rules(
        view_openers=tuple((r.get("depth"), re.compile(r["re_search"])) for r in _rows(doc, "view_openers", platform)),
        negation_sub=tuple(NegationSubRule(match_rules=_lineage(r, where("negation_sub", i)), search=r["search"],
                                           replace=r["replace"])
                           for i, r in enumerate(_rows(doc, "negation_sub", platform))),
        idempotent=tuple(IdempotentCommandsRule(match_rules=_lineage(r, where("idempotent", i)))
                         for i, r in enumerate(_rows(doc, "idempotent", platform))),
        ordering=tuple(OrderingRule(match_rules=_lineage(r, where("ordering", i)), weight=int(r["weight"]))
                       for i, r in enumerate(_rows(doc, "ordering", platform))),
        permanent=tuple(re.compile(r["re_search"]) for r in _rows(doc, "permanent", platform)),
        resend=tuple(Resend(_lineage(r, where("resend", i)), re.compile(r["trigger"]), re.compile(r["resend"]))
                     for i, r in enumerate(_rows(doc, "resend", platform))),
        peer_view=re.compile(peer["view"]),
    )
