"""What a template reads from the network, so a cached config knows everything it came from.

Templates get the device (`d`) and the whole network (`net`). A device's digest covers `d`;
`NetworkReads` stands in for `net` while a config renders and notes each site or device looked
up (`net.sites[d.site]`), or a whole field when one is iterated or printed. The render cache
keys a config by the device and the current values of exactly what it read: change a site's
name and every config that printed it renders again, and no other.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Iterator

from ..model.lazy import LazyNetwork
from ..model.types import Network
from .digest import digest, flat

Read = tuple[str, ...]  # (field,) the whole field; (field, key) one entry of a mapping field


class _MappingReads(Mapping):
    def __init__(self, data: dict, field: str, reads: set[Read]):
        self._data, self._field, self._reads = data, field, reads

    def __getitem__(self, key):
        self._reads.add((self._field, key))
        return self._data[key]

    def __contains__(self, key) -> bool:
        self._reads.add((self._field, key))
        return key in self._data

    def __iter__(self) -> Iterator:
        self._reads.add((self._field,))
        return iter(self._data)

    def __len__(self) -> int:
        self._reads.add((self._field,))
        return len(self._data)


class NetworkReads:
    """The network, read-only, noting what is read from it."""

    def __init__(self, network: Network):
        self._network = network
        self.reads: set[Read] = set()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._network, name)
        if isinstance(value, Mapping):
            return _MappingReads(value, name, self.reads)
        self.reads.add((name,))
        return value


class ReadValues:
    """What the cache key is made of: a device's digest, and the current value of each read, as
    plain values. From a LazyNetwork these are specs (nothing is built); from a Network, the
    objects flattened. A whole field is digested once per process."""

    def __init__(self, network: Network | LazyNetwork):
        self.network = network
        self.lazy = isinstance(network, LazyNetwork)
        self._whole: dict[str, bytes | None] = {}

    def device(self, name: str, context: str) -> bytes | None:
        """The device and `context` (its templates, netgen's code), digested together (None: not
        cacheable): made while its spec is fresh, a digest keeps it for the key made after
        rendering at the cost of 32 bytes — and is that key when the templates read nothing else."""
        if self.lazy:
            return digest(context, "spec", self.network.spec("devices", name))
        return digest(context, "object", flat(self.network.devices[name]))

    def value(self, read: Read) -> Any:
        field = read[0]
        if len(read) == 2:
            if self.lazy and field in ("sites", "devices"):
                return "spec", self.network.spec(field, read[1])
            return "object", flat(getattr(self.network, field).get(read[1]))
        if field not in self._whole:
            whole = getattr(self.network, field)
            if self.lazy and field in ("sites", "devices"):
                self._whole[field] = digest(*(self.network.spec(field, k) for k in whole))
            else:
                self._whole[field] = digest(flat(whole))
        return self._whole[field]
