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

    __slots__ = ("file", "line", "col", "_locs")

    def __init__(self, file: str = "", line: int = 0, col: int = 0):
        super().__init__()
        self.file, self.line, self.col = file, line, col
        self._locs: dict[str, tuple[int, int, int, int]] | tuple = {}

    @property
    def locs(self) -> dict[str, tuple[int, int, int, int]]:
        if type(self._locs) is tuple:  # as unpickled: unpacked when first asked for (rarely: to report)
            flat = iter(self._locs)
            self._locs = {k: (a, b, c, d) for k, a, b, c, d in zip(flat, flat, flat, flat, flat)}
        return self._locs

    @locs.setter
    def locs(self, value: dict[str, tuple[int, int, int, int]]) -> None:
        self._locs = value

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

    def __reduce__(self):
        """Pickled as plain parts, positions as one flat tuple: the default for a dict subclass
        with slots is five times slower to load, and a tuple per position twice."""
        locs = self._locs
        packed = locs if type(locs) is tuple else tuple(x for k, v in locs.items() for x in (k, *v))
        return _map, (self.file, self.line, self.col, dict(self), packed)

    def written(self, key: str) -> bool:
        """True when the key was written in the intent, False when a default filled it."""
        return key in self.locs


class Seq(list):
    """A YAML sequence. `locs[i] = (line, col)` of item i, 1-based."""

    __slots__ = ("file", "line", "col", "_locs")

    def __init__(self, file: str = "", line: int = 0, col: int = 0):
        super().__init__()
        self.file, self.line, self.col = file, line, col
        self._locs: list[tuple[int, int]] | tuple = []

    @property
    def locs(self) -> list[tuple[int, int]]:
        if type(self._locs) is tuple:  # as unpickled (see Map.locs)
            flat = iter(self._locs)
            self._locs = list(zip(flat, flat))
        return self._locs

    @locs.setter
    def locs(self, value: list[tuple[int, int]]) -> None:
        self._locs = value

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

    def __reduce__(self):
        locs = self._locs
        packed = locs if type(locs) is tuple else tuple(x for pos in locs for x in pos)
        return _seq, (self.file, self.line, self.col, list(self), packed)

    def where(self, index: int | None = None) -> Location:
        if index is None or not 0 <= index < len(self.locs):
            return Location(self.file, self.line, self.col)
        line, col = self.locs[index]
        return Location(self.file, line, col)


def _map(file: str, line: int, col: int, items: dict, locs: tuple) -> Map:
    out = Map(file, line, col)
    dict.update(out, items)
    out._locs = locs
    return out


def _seq(file: str, line: int, col: int, items: list, locs: tuple) -> Seq:
    out = Seq(file, line, col)
    list.extend(out, items)
    out._locs = locs
    return out


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
