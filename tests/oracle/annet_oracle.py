"""annet (Yandex, https://github.com/annetutil/annet) as an outside oracle for netgen's VRP and
Comware output: its tabparser, its vendor rulebooks (annet/rulebook/texts/huawei.rul, h3c.rul)
and its patch engine (annet.annlib.patching: make_diff → make_pre → make_patch), driven the way
`annet file-patch` drives them (annet/api/__init__.py: _read_old_new_diff_patch), without the
CLI, storage or generators.

Two things are compared with netgen:
- `unmatched()`: rows of a config annet's rulebook would drop from a diff. annet.annlib.patching
  .apply_diff_rb pops every row `_match_row_to_rules` does not match, so such a row is invisible
  to annet's patching — "ignored". Both rulebooks end with a catch-all (`undo ~ %global`,
  `~ %global`: negate with `undo`), so a row not ignored is at least handled generically;
  `generic_rows()` lists those, for messages only.
- `patch_pairs()` / `netgen_pairs()`: a patch as a set of (context path, command), the
  normalised form both engines' outputs are compared in (see `pairs_from_lines`).
"""
from __future__ import annotations

import re
from functools import lru_cache

from annet import hardware
from annet.annlib import patching
from annet.annlib.netdev.views.hardware import HardwareView
from annet.annlib.patching import _match_row_to_rules  # private: why pyproject pins annet to 4.8.x
from annet.rulebook import DefaultRulebookProvider
from annet.vendors import registry_connector, tabparser

from netgen.deploy.remediation import remediation

VENDOR = {"huawei_vrp": "Huawei", "h3c_comware": "H3C"}
CATCH_ALL = ("~", "undo ~")  # the rules a .rul file's last lines hold

Pair = tuple[tuple[str, ...], str]


def _connectors() -> None:
    """What `annet.annet.main` sets before anything runs (the connectors have no default)."""
    if hardware.hardware_connector.is_default():
        hardware.hardware_connector.set(hardware.AnnetHardwareProvider)


@lru_cache(maxsize=None)
def _provider() -> DefaultRulebookProvider:
    _connectors()
    provider = DefaultRulebookProvider()
    # the rulebooks shipped in the package, whatever a ~/.annet/context.yml may point at
    provider.rulebook_module = DefaultRulebookProvider.DEFAULT_RULEBOOK_MODULE
    return provider


@lru_cache(maxsize=None)
def hw_view(platform: str, model: str) -> HardwareView:
    """annet's hardware view: vendor word + model, parsed against annet's devdb
    ("Huawei NE40E-X8A" → Huawei.NE.NE40E, whose rulebook branches differ from other VRP boxes)."""
    _connectors()
    return HardwareView(f"{VENDOR[platform]} {model}", "")


def rulebook(hw: HardwareView):
    return _provider().get_rulebook(hw)


def parse(hw: HardwareView, text: str):
    """A config text as annet's tree (OrderedDict row → children). A top-level `return` is an
    end marker netgen drops too (netgen.deploy.remediation.parse), never a command."""
    body = "\n".join(line for line in text.splitlines() if line.rstrip() != "return")
    formatter = registry_connector.get().match(hw).make_formatter()
    return tabparser.parse_to_tree(body, formatter.split)


def _walk(tree, rules, path=()):
    for row, children in tree.items():
        match, child_rules = _match_row_to_rules(row, rules)
        yield path + (row,), match
        if match:
            yield from _walk(children, child_rules, path + (row,))


def unmatched(hw: HardwareView, text: str) -> list[tuple[str, ...]]:
    """Paths of the rows annet's rulebook ignores (drops from any diff)."""
    return [path for path, match in _walk(parse(hw, text), rulebook(hw)["patching"]) if not match]


def generic_rows(hw: HardwareView, text: str) -> list[tuple[str, ...]]:
    """Paths of the rows only the catch-all rule knows."""
    return [path for path, match in _walk(parse(hw, text), rulebook(hw)["patching"])
            if match and match["rule"] in CATCH_ALL]


def row_count(text: str) -> int:
    """Config lines that are commands: not blank, not a `#` separator or comment, not `return`."""
    return sum(1 for line in text.splitlines()
               if line.strip() and not line.lstrip().startswith("#") and line.strip() != "return")


def tree_size(tree) -> int:
    return sum(1 + tree_size(children) for children in tree.values())


# ---------------------------------------------------------------------------------- patches


def _norm(row: str) -> str:
    # annet's HuaweiFormatter.split collapses inner runs of spaces; do the same on both sides
    return re.sub(r"\s+", " ", row.strip())


def patch_tree(hw: HardwareView, before: str, after: str):
    """annet's patch before → after, as `annet file-patch` computes it (no ACL filter)."""
    rb = rulebook(hw)
    diff = patching.strip_unchanged(patching.make_diff(parse(hw, before), parse(hw, after), rb, []))
    pre = patching.make_pre(diff)
    orderer = patching.Orderer(rb["ordering"], hw.vendor)
    return patching.make_patch(pre=pre, rb=rb, hw=hw, add_comments=False, orderer=orderer)


def patch_lines(hw: HardwareView, before: str, after: str) -> list[str]:
    """annet's patch as indented lines in its order (one space per level; for messages)."""
    out: list[str] = []

    def walk(tree, depth: int) -> None:
        for item in tree.itms:
            out.append(" " * depth + item.row)
            if item.child:
                walk(item.child, depth + 1)

    walk(patch_tree(hw, before, after), 0)
    return out


def pairs_from_lines(lines) -> set[Pair]:
    """Indented patch lines (one or more leading spaces per view level, as netgen's flattened
    remediation and `patch_lines` give them) as {(context path, command)}.

    The normalisation: `quit` (leaving a view: netgen writes it, annet's formatter adds it when
    printing) is dropped; `commit` is dropped too (where a commit goes is the driver's business:
    netgen's VRP driver commits once per push, annet inserts one after a `force_commit` rule such
    as `undo bgp`); whitespace inside a row is collapsed. Order is not compared. A view line
    appears as its own pair (path, opener) as well as being every child's context."""
    pairs: set[Pair] = set()
    stack: list[tuple[int, str]] = []
    for line in lines:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        row = _norm(line)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if row in ("quit", "commit"):
            continue
        pairs.add((tuple(r for _, r in stack), row))
        stack.append((indent, row))
    return pairs


def annet_pairs(hw: HardwareView, before: str, after: str) -> set[Pair]:
    return pairs_from_lines(patch_lines(hw, before, after))


def netgen_lines(platform: str, before: str, after: str) -> list[str]:
    return remediation(platform, before, after)


def netgen_pairs(platform: str, before: str, after: str) -> set[Pair]:
    return pairs_from_lines(netgen_lines(platform, before, after))
