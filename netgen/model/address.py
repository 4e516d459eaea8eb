"""The model's addresses: ipaddress's own types, made without ipaddress's parsing.

A national model holds ~350,000 interface addresses and 90,000 site pools, built from
integers the allocator already checked. `ipaddress.IPv4Interface((int, length))` parses and
validates its argument and builds an address, a network and a netmask up front — 3 µs, a
fifth of building a device — while templates mostly print the address. These subclasses are
the same types for everything that reads them (isinstance, ==, hash, str, repr, pickle,
every property), made from integers in a tenth of the time: an interface's network and
netmask are made when first asked for. tests/model/test_address.py holds them to ipaddress's
own objects for every prefix length of both families.
"""
from __future__ import annotations

from functools import cached_property
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network

_new = object.__new__


class Interface4(IPv4Interface):
    network = cached_property(lambda self: IPv4Network((self._ip, self._prefixlen), strict=False))
    netmask = cached_property(lambda self: self.network.netmask)

    def __repr__(self) -> str:
        return f"IPv4Interface({str(self)!r})"


class Interface6(IPv6Interface):
    network = cached_property(lambda self: IPv6Network((self._ip, self._prefixlen), strict=False))
    netmask = cached_property(lambda self: self.network.netmask)

    def __repr__(self) -> str:
        return f"IPv6Interface({str(self)!r})"


class Network4(IPv4Network):
    def __repr__(self) -> str:
        return f"IPv4Network({str(self)!r})"


class Network6(IPv6Network):
    def __repr__(self) -> str:
        return f"IPv6Network({str(self)!r})"


def interface4(ip: int, length: int) -> IPv4Interface:
    """IPv4Interface((ip, length)); `ip` an int, `length` a valid prefix length."""
    x = _new(Interface4)
    x._ip, x._prefixlen = ip, length
    return x


def interface6(ip: int, length: int) -> IPv6Interface:
    x = _new(Interface6)
    x._ip, x._scope_id, x._prefixlen = ip, None, length
    return x


def _network(cls, address, first: int, length: int, bits: int):
    x = _new(cls)
    x.network_address, (x.netmask, x._prefixlen) = address(first), cls._make_netmask(length)
    if length == bits - 1:  # as ipaddress does: a /31's (/127's) hosts are both addresses,
        x.hosts = x.__iter__
    elif length == bits:  # a /32's (/128's) its one
        x.hosts = lambda: [address(first)]
    return x


def network4(first: int, length: int) -> IPv4Network:
    """IPv4Network((first, length)); `first` an int with no host bits set."""
    return _network(Network4, IPv4Address, first, length, 32)


def network6(first: int, length: int) -> IPv6Network:
    return _network(Network6, IPv6Address, first, length, 128)
