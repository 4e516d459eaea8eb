"""An address pool: aligned blocks carved out of one prefix.

Used space is a sorted list of disjoint intervals (bisect), so reserving and finding a free
block are O(log n) per step; lowest-first allocation keeps a per-size cursor so that filling
a pool of n blocks costs O(n log n), not O(n²).
"""
from __future__ import annotations

import ipaddress
from bisect import bisect_right, insort

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


class PoolExhausted(Exception):
    pass


class Pool:
    def __init__(self, name: str, net: Net):
        self.name, self.net = name, net
        self.bits = net.max_prefixlen
        self.first = int(net.network_address)
        self.last = int(net.broadcast_address)
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.owners: list[str] = []
        self._cursor: dict[int, int] = {}  # block size → no free block of that size below this

    def __repr__(self) -> str:
        return f"Pool({self.name}, {self.net})"

    def _overlapping(self, start: int, end: int) -> int:
        """Index of an interval overlapping [start, end], or -1."""
        i = bisect_right(self.starts, end) - 1
        return i if i >= 0 and self.ends[i] >= start else -1

    def owner_of(self, net: Net) -> str | None:
        i = self._overlapping(int(net.network_address), int(net.broadcast_address))
        return self.owners[i] if i >= 0 else None

    def reserve(self, net: Net, owner: str) -> str | None:
        """Mark `net` used by `owner`; returns the owner of what it collides with, if anything."""
        start, end = int(net.network_address), int(net.broadcast_address)
        i = self._overlapping(start, end)
        if i >= 0:
            return self.owners[i]
        pos = bisect_right(self.starts, start)
        self.starts.insert(pos, start)
        self.ends.insert(pos, end)
        self.owners.insert(pos, owner)
        return None

    def _fits(self, start: int, size: int) -> bool:
        return start + size - 1 <= self.last and self._overlapping(start, start + size - 1) < 0

    def allocate(self, length: int, owner: str, prefer: int | None = None) -> Net:
        """A free /length block. `prefer` is a slot index (block number inside the pool) to try
        first — e.g. derived from an administrative code — probing upward from it."""
        if length < self.net.prefixlen:
            raise PoolExhausted(f"a /{length} does not fit in {self.net}")
        size = 1 << (self.bits - length)
        slots = (self.last - self.first + 1) // size
        if prefer is not None:
            for k in range(slots):
                start = self.first + ((prefer + k) % slots) * size
                if self._fits(start, size):
                    return self._take(start, length, owner)
            raise PoolExhausted(self.describe_free(length))
        pos = max(self._cursor.get(size, self.first), self.first)
        while pos + size - 1 <= self.last:
            i = bisect_right(self.starts, pos + size - 1) - 1
            if i >= 0 and self.ends[i] >= pos:
                pos = -(-(self.ends[i] + 1 - self.first) // size) * size + self.first  # align up
                continue
            self._cursor[size] = pos + size
            return self._take(pos, length, owner)
        self._cursor[size] = self.last + 1
        raise PoolExhausted(self.describe_free(length))

    def _take(self, start: int, length: int, owner: str) -> Net:
        cls = ipaddress.IPv4Network if self.bits == 32 else ipaddress.IPv6Network
        net = cls((start, length))
        self.reserve(net, owner)
        return net

    def free(self) -> list[Net]:
        """The free space as CIDR blocks, largest first."""
        out: list[Net] = []
        pos = self.first
        addr = ipaddress.IPv4Address if self.bits == 32 else ipaddress.IPv6Address
        for s, e in zip(self.starts, self.ends):
            if s > pos:
                out += ipaddress.summarize_address_range(addr(pos), addr(s - 1))
            pos = max(pos, e + 1)
        if pos <= self.last:
            out += ipaddress.summarize_address_range(addr(pos), addr(self.last))
        return sorted(out, key=lambda n: (n.prefixlen, int(n.network_address)))

    def describe_free(self, length: int) -> str:
        free = self.free()
        if not free:
            return f"no free /{length} in {self.name} {self.net}: the pool is full"
        shown = ", ".join(str(n) for n in free[:4]) + (f" and {len(free) - 4} smaller" if len(free) > 4 else "")
        return f"no free /{length} in {self.name} {self.net}; largest free blocks: {shown}"
