"""Intent values that remember where they came from.

`Map` and `Seq` are a dict and a list that also carry their file and the line and column of
every entry, so any value — and any error about it — can be traced to `file:line:col`. They
are plain dict/list otherwise, so cerberus and the rules treat them as ordinary data.
"""
from __future__ import annotations

from typing import Any

from ..diagnostics import Location


class Map(dict):
    """A YAML mapping. `locs[key] = (key_line, key_col, value_line, value_col)`, 1-based."""

    __slots__ = ("file", "line", "col", "locs")

    def __init__(self, file: str = "", line: int = 0, col: int = 0):
        super().__init__()
        self.file, self.line, self.col = file, line, col
        self.locs: dict[str, tuple[int, int, int, int]] = {}

    def where(self, key: str | None = None, of: str = "value") -> Location:
        """Location of `key`'s value (or the key itself with of="key"); the mapping if absent.

        A key filled in by a schema default has no location of its own: it reports the
        mapping it was added to, which is where a person would write it.
        """
        loc = self.locs.get(key) if key is not None else None
        if loc is None:
            return Location(self.file, self.line, self.col)
        return Location(self.file, loc[0], loc[1]) if of == "key" else Location(self.file, loc[2], loc[3])

    def __copy__(self) -> "Map":
        out = Map(self.file, self.line, self.col)
        out.update(self)
        out.locs = self.locs
        return out

    def __deepcopy__(self, memo) -> "Map":
        from copy import deepcopy

        out = Map(self.file, self.line, self.col)
        for k, v in self.items():
            out[k] = deepcopy(v, memo)
        out.locs = dict(self.locs)
        return out

    def written(self, key: str) -> bool:
        """True when the key was written in the intent, False when a default filled it."""
        return key in self.locs


class Seq(list):
    """A YAML sequence. `locs[i] = (line, col)` of item i, 1-based."""

    __slots__ = ("file", "line", "col", "locs")

    def __init__(self, file: str = "", line: int = 0, col: int = 0):
        super().__init__()
        self.file, self.line, self.col = file, line, col
        self.locs: list[tuple[int, int]] = []

    def __copy__(self) -> "Seq":
        out = Seq(self.file, self.line, self.col)
        out.extend(self)
        out.locs = self.locs
        return out

    def __deepcopy__(self, memo) -> "Seq":
        from copy import deepcopy

        out = Seq(self.file, self.line, self.col)
        out.extend(deepcopy(v, memo) for v in self)
        out.locs = list(self.locs)
        return out

    def where(self, index: int | None = None) -> Location:
        if index is None or not 0 <= index < len(self.locs):
            return Location(self.file, self.line, self.col)
        line, col = self.locs[index]
        return Location(self.file, line, col)


def locate(root: Any, path: tuple, fallback: Location) -> Location:
    """Location of the value at `path` (keys and indexes) below `root`.

    Walks as far as the path exists; a path that ends at a missing key reports the mapping
    that should hold it.
    """
    node, loc = root, fallback
    for step in path:
        if isinstance(node, Map):
            if step not in node:
                return node.where(step)
            loc, node = node.where(step), node[step]
        elif isinstance(node, Seq) and isinstance(step, int) and 0 <= step < len(node):
            loc, node = node.where(step), node[step]
        else:
            return loc
    return loc


def plain(value: Any) -> Any:
    """Strip the source map: plain dicts and lists (for JSON output and hashing)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
