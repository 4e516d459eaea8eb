"""Digests for the render cache's keys: sha256 of plain values, and model objects made plain.

A config is a function of its device, whatever the templates read through `net`, the
templates and netgen's code; a digest of all of it names the config. From a LazyNetwork the
device and what was read come as specs, plain already (model/specs.py); the objects of a
plain Network are flattened here into tuples of plain values (one generated function per
dataclass, made when first met: repr or pickle cost twice as much, 50,000 times per build).
Serialised with marshal format 0, which writes equal values as equal bytes (later formats
mark interned strings and shared objects).
"""
from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import marshal
from collections.abc import Mapping
from typing import Any, Callable

from ..model import address

_FLAT: dict[type, Callable[[Any], Any]] = {}
_PLAIN = (str, int, bool, float, bytes, type(None))
_IP: dict[type, Callable[[Any], tuple]] = {
    ipaddress.IPv4Address: lambda x: ("4a", int(x)),
    ipaddress.IPv6Address: lambda x: ("6a", int(x)),
    ipaddress.IPv4Interface: lambda x: ("4i", int(x), x.network.prefixlen),
    ipaddress.IPv6Interface: lambda x: ("6i", int(x), x.network.prefixlen),
    ipaddress.IPv4Network: lambda x: ("4n", int(x.network_address), x.prefixlen),
    ipaddress.IPv6Network: lambda x: ("6n", int(x.network_address), x.prefixlen),
}
_IP.update({address.Interface4: _IP[ipaddress.IPv4Interface], address.Interface6: _IP[ipaddress.IPv6Interface],
            address.Network4: _IP[ipaddress.IPv4Network], address.Network6: _IP[ipaddress.IPv6Network]})


def flat(value: Any) -> Any:
    """A model value as nested tuples of plain values, equal exactly when the values are."""
    t = type(value)
    if t in _PLAIN:
        return value
    f = _FLAT.get(t)
    if f is not None:
        return f(value)
    if t is tuple or t is list:
        return tuple([flat(v) for v in value])
    if isinstance(value, Mapping):
        return ("dict", *[(flat(k), flat(v)) for k, v in value.items()])
    ip = _IP.get(t)
    if ip is not None:
        return ip(value)
    if dataclasses.is_dataclass(value):
        f = _FLAT[t] = _compile(t)
        return f(value)
    raise TypeError(f"no digest for a {t.__name__}")  # digest() then says "not cacheable"


# Fields declared as these hold plain values already (marshal refuses anything else, and the
# digest is then None: a wrong declaration costs a render, never a stale config).
_PLAIN_TYPES = {"str", "int", "bool", "float", "str | None", "int | None", "tuple[str, ...]"}


def _compile(cls: type) -> Callable[[Any], tuple]:
    """(class name, each field flattened), as straight-line code."""
    fields = dataclasses.fields(cls)
    body = ", ".join(f"o.{f.name}" if f.type in _PLAIN_TYPES else f"flat(o.{f.name})" for f in fields)
    scope: dict[str, Any] = {"flat": flat}
    exec(f"def flat_{cls.__name__}(o):\n    return ({cls.__name__!r}, {body})\n", scope)
    return scope[f"flat_{cls.__name__}"]


def digest(*values: Any) -> bytes | None:
    """sha256 of plain values (flattened objects, specs); None when one is not plain — its
    config is then simply rendered every time."""
    try:
        return hashlib.sha256(marshal.dumps(values, 0)).digest()  # format 0: equal values, equal bytes
    except ValueError:
        return None
