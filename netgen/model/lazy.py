"""The network model built on demand, for processes that each need only some of it.

`netgen build` renders devices in several processes. Building all 50,000 devices of a national
network in the main process, only for each worker to use a share of them, would cost more than
rendering; so the main process computes the network-wide facts (allocation, AS domains,
reflectors, zones: the Resolver) and each worker builds the devices it renders — and any site
or device a template looks up — from them. Every object is the one `Resolver.run()` builds, so
templates see the same values either way; `resolve_model` remains the way to get it all at once.

What is built is kept (a process's share of a national model: ~120 MB). Keeping only the last
few thousand cost a national build a twentieth more time, not less memory worth having: freeing
objects as it goes is work, and the objects made next, in the freed pieces, lie scattered in
memory and render slower than objects made in order.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import cache, cached_property
from typing import Callable, Iterator

from . import specs
from .resolve import Resolver
from .types import Device, Link, Origin, Site


class _OnDemand(Mapping):
    """Keys known up front; each value built when first asked for, and kept."""

    def __init__(self, keys: list[str], make: Callable):
        self._keys, self._index = keys, set(keys)
        self._make = cache(make)

    def __getitem__(self, key):
        if key not in self._index:
            raise KeyError(key)
        return self._make(key)

    def __contains__(self, key) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class LazyNetwork:
    """Reads like `Network` (name, sites, devices, links, origins), built on demand; `spec`
    gives what a site or device is made of without building it (specs.py)."""

    def __init__(self, resolver: Resolver):
        self.resolver = resolver
        intent = resolver.i
        self.name: str = intent.network["name"]
        self._devices = {dev["name"]: (site, dev) for site, dev in reversed(resolver.by_name)}  # first one wins
        self._platform = {name: dev["platform"] for name, (_, dev) in self._devices.items()}
        self.spec = cache(self._gather)
        self.devices: Mapping[str, Device] = _OnDemand(sorted(self._devices),
                                                       lambda name: specs.device(self.spec("devices", name)))
        self.sites: Mapping[str, Site] = _OnDemand(sorted(intent.site),
                                                   lambda sid: specs.site(self.spec("sites", sid)))

    def _gather(self, field: str, key: str) -> tuple | None:
        """The spec of device or site `key` (None when there is none)."""
        if field == "devices":
            found = self._devices.get(key)
            return None if found is None else self.resolver.device_spec(*found)
        if field == "sites":
            site = self.resolver.i.site.get(key)
            return None if site is None else self.resolver.site_spec(site)
        raise KeyError(field)

    def platform(self, name: str) -> str:
        """A device's platform, without building the device."""
        return self._platform[name]

    def platforms(self) -> set[str]:
        """Every device's platform, without building any."""
        return set(self._platform.values())

    @cached_property
    def links(self) -> tuple[Link, ...]:
        links = (self.resolver.link(*x) for x in self.resolver.links)
        return tuple(sorted((x for x in links if x is not None), key=lambda l: (l.a, l.b, l.a_port)))

    @cached_property
    def origins(self) -> dict[tuple[str, str, str], Origin]:
        return self.resolver.run().origins
