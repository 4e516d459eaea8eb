"""An address pool: aligned blocks carved out of one prefix.

Used space is a sorted list of disjoint intervals (bisect), so reserving and finding a free
block are O(log n) per step; lowest-first allocation keeps a per-size cursor so that filling
a pool of n blocks costs O(n log n), not O(n²). Everything inside works on integers: the
ipaddress properties (`broadcast_address`, `subnet_of`, `num_addresses`) build a mask object
per call, which at national scale (≈ 350,000 blocks) cost more than the allocation itself.
"""
from __future__ import annotations

import ipaddress
import socket
from bisect import bisect_right
from itertools import compress, islice, repeat
from operator import add, ne

from .address import network4, network6

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


class PoolExhausted(Exception):
    pass


Block = tuple[int, int, int]  # a network as integers: (first address, prefix length, address bits)


def span(net: Net) -> tuple[int, int]:
    """First and last address of a block, as integers."""
    first = int(net.network_address)
    return first, first + (1 << (net.max_prefixlen - net.prefixlen)) - 1


def block(net: Net) -> Block:
    return int(net.network_address), net.prefixlen, net.max_prefixlen


def network(b: Block) -> Net:
    return (network4 if b[2] == 32 else network6)(b[0], b[1])


def block_text(b: Block) -> str:
    """str(network(b)), as the lock file writes it, from the C address formatter: a cold
    national build writes 350,000 of these (1.2 s through ipaddress, 0.2 s so). The C one
    writes an IPv6 address whose upper 80 bits are zero the IPv4 way (::1.2.3.4); ipaddress
    does not, so those go through ipaddress."""
    first, length, bits = b
    if bits == 32:
        return f"{socket.inet_ntoa(first.to_bytes(4, 'big'))}/{length}"
    if first >> 48:
        return f"{socket.inet_ntop(socket.AF_INET6, first.to_bytes(16, 'big'))}/{length}"
    return str(network(b))


def last(b: Block) -> int:
    return b[0] + (1 << (b[2] - b[1])) - 1


def parse_block(text: str) -> Block:
    """A network from `address/length`, strict like ipaddress.ip_network (host bits must be clear).

    The lock file holds hundreds of thousands of these: the C address parser is ten times
    faster than ipaddress's, and no network object is made; anything it does not take goes to
    ipaddress, which raises the usual ValueError."""
    addr, _, length = text.partition("/")
    v6 = ":" in addr
    bits = 128 if v6 else 32
    if length.isdigit() and length.isascii() and int(length) <= bits:
        try:
            value = int.from_bytes(socket.inet_pton(socket.AF_INET6 if v6 else socket.AF_INET, addr), "big")
        except OSError:
            value = None
        plen = int(length)
        if value is not None and not value & ((1 << (bits - plen)) - 1):
            return value, plen, bits
    return block(ipaddress.ip_network(text))


class Pool:
    def __init__(self, name: str, net: Net):
        self.name, self.net = name, net
        self.bits = net.max_prefixlen
        self.first, self.last = span(net)
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.owners: list[str] = []
        self._cursor: dict[int, int] = {}  # block size → no free block of that size below this

    def __repr__(self) -> str:
        return f"Pool({self.name}, {self.net})"

    def holds(self, b: Block) -> bool:
        """Whether block `b` lies inside this pool (same family)."""
        return b[2] == self.bits and self.first <= b[0] and last(b) <= self.last

    def _overlapping(self, start: int, end: int) -> int:
        """Index of an interval overlapping [start, end], or -1."""
        i = bisect_right(self.starts, end) - 1
        return i if i >= 0 and self.ends[i] >= start else -1

    def owner_of(self, net: Net) -> str | None:
        return self.owner_of_span(*span(net))

    def owner_of_span(self, start: int, end: int) -> str | None:
        i = self._overlapping(start, end)
        return self.owners[i] if i >= 0 else None

    def reserve(self, net: Net, owner: str) -> str | None:
        """Mark `net` used by `owner`; returns the owner of what it collides with, if anything."""
        return self.reserve_span(*span(net), owner)

    def reserve_span(self, start: int, end: int, owner: str) -> str | None:
        """reserve() for the block from address `start` to `end` (integers)."""
        i = bisect_right(self.starts, end) - 1  # the last interval starting at or before `end`
        if i >= 0 and self.ends[i] >= start:
            return self.owners[i]
        pos = i + 1  # it ends before `start`, and the next one starts after `end`
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
            raise PoolExhausted(self.describe_free(length, f"a /{length} is larger than {self.name} {self.net} itself"))
        size = 1 << (self.bits - length)
        slots = (self.last - self.first + 1) // size
        if prefer is not None:
            for k in range(slots):
                start = self.first + ((prefer + k) % slots) * size
                if self._fits(start, size):
                    return self._take(start, length, owner)
            raise PoolExhausted(self.describe_free(length))
        pos = max(self._cursor.get(size, self.first), self.first)
        # Walk the used intervals upward from the first that may overlap. A pool filled from the
        # bottom has tens of thousands of them below the first gap, each abutting the next: a
        # run of those is one span, whose end is found at C speed, and the walk goes on past it.
        starts, ends, n = self.starts, self.ends, len(self.starts)
        i = max(bisect_right(starts, pos) - 1, 0)
        if i < n and starts[i] <= pos <= ends[i]:
            j = next(compress(range(i, n - 1), map(ne, islice(starts, i + 1, None), map(add, islice(ends, i, n - 1),
                                                                                        repeat(1)))), n - 1)
            pos, i = -(-(ends[j] + 1 - self.first) // size) * size + self.first, j + 1  # past it, aligned up
        while pos + size - 1 <= self.last:
            while i < n and ends[i] < pos:
                i += 1
            if i < n and starts[i] <= pos + size - 1:  # overlaps: go past it
                pos = -(-(ends[i] + 1 - self.first) // size) * size + self.first  # align up
                continue
            self._cursor[size] = pos + size
            return self._take(pos, length, owner)
        self._cursor[size] = self.last + 1
        raise PoolExhausted(self.describe_free(length))

    def _take(self, start: int, length: int, owner: str) -> Net:
        self.reserve_span(start, start + (1 << (self.bits - length)) - 1, owner)
        return (ipaddress.IPv4Network if self.bits == 32 else ipaddress.IPv6Network)((start, length))

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

    def describe_free(self, length: int, head: str | None = None) -> str:
        head = head or f"no free /{length} in {self.name} {self.net}"
        free = self.free()
        if not free:
            return f"{head}: the pool is full"
        shown = ", ".join(str(n) for n in free[:4]) + (f" and {len(free) - 4} smaller" if len(free) > 4 else "")
        return f"{head}; largest free blocks: {shown}"
