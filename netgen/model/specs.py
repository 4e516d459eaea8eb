"""Model objects from their specs: plain tuples that hold everything an object is made of.

The resolver first gathers a device's (or site's) spec — strings, integers, booleans, None and
tuples of them, addresses as (integer, prefix length) — and then builds the object from the
spec alone, with the functions here, which read nothing else. So a spec names its object
exactly: the render cache keys a config by the digest of the specs it was made from, and
checking a key costs gathering a spec, not building a device (a quarter of the work).
Field order follows the dataclasses in types.py.
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from itertools import starmap
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address
from typing import Callable, TypeVar

from ..hardware import Hardware
from . import types
from .address import interface4, interface6, network4, network6

Spec = tuple  # nested tuples of str, int, bool, None
T = TypeVar("T")


def maker(cls: type[T]) -> Callable[..., T]:
    """`cls(...)` for a frozen, slotted dataclass, five times faster. A frozen dataclass's
    __init__ sets each field through object.__setattr__ (its own refuses): ~1 µs for fifteen
    fields, and a national build makes 500,000 such objects. A mutable twin with the same slots
    sets them directly and then makes the object a `cls` — Python allows that between classes
    of the same layout — as immutable as one made by `cls` itself."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    twin = dataclasses.dataclass(slots=True)(type(cls.__name__, (), {
        "__annotations__": {f.name: f.type for f in fields},
        **{f.name: f.default for f in fields if f.default is not dataclasses.MISSING}}))
    if twin.__slots__ != getattr(cls, "__slots__", None) or \
            any(f.default_factory is not dataclasses.MISSING for f in fields):
        raise TypeError(f"{cls.__name__}: not a frozen, slotted dataclass of plain defaults")
    # The twin's own __init__, plus the change of class: one call per object, no wrapper.
    params = ", ".join(f.name if f.default is dataclasses.MISSING else f"{f.name}=_default_{f.name}" for f in fields)
    body = "".join(f"    self.{f.name} = {f.name}\n" for f in fields)
    scope = {"_cls": cls, **{f"_default_{f.name}": f.default for f in fields}}
    exec(f"def __init__(self, {params}):\n{body}    self.__class__ = _cls\n", scope)  # noqa: S102 - our own fields
    twin.__init__ = scope["__init__"]
    twin.__doc__ = f"A {cls.__name__}, made as {cls.__name__}(...) makes it."
    return twin


Attachment, BgpSession, Device, Interface = (maker(c) for c in (types.Attachment, types.BgpSession, types.Device,
                                                                   types.Interface))
InternetExit, Management, Site, Vrf = (maker(c) for c in (types.InternetExit, types.Management, types.Site, types.Vrf))


def _iface4(a):
    return None if a is None else interface4(*a)


def _iface6(a):
    return None if a is None else interface6(*a)


def interface(s: Spec) -> types.Interface:
    """(port, kind, description, ipv4, ipv6, vrf, vlan, peer_device, peer_port, bandwidth,
    transport, ipsec, igp, nat, zones, port name, cost); addresses as (integer, prefix length)."""
    return Interface(s[0], s[1], s[2], _iface4(s[3]), _iface6(s[4]), *s[5:])


def attachment(s: Spec) -> types.Attachment:
    """(department, site, device, zone, port, vlan, ipv4, ipv6)"""
    return Attachment(*s[:6], _iface4(s[6]), _iface6(s[7]))


def internet(s: Spec | None) -> types.InternetExit | None:
    """(isp, address, gateway, NAT pool, port, firewall, NAT-from zones): the first three as text."""
    if s is None:
        return None
    pool = IPv4Network(s[3])
    return InternetExit(s[0], IPv4Interface(s[1]), IPv4Address(s[2]), pool, s[4], s[5], s[6], pool.network_address,
                        pool.broadcast_address)


@lru_cache(maxsize=256)
def hardware(s: Spec) -> Hardware:
    """(model, platform, kind, software, release, commit, management port); one per model."""
    return Hardware(*s)


@lru_cache(maxsize=256)
def management(s: Spec) -> types.Management:
    """Management's fields in order; devices with the same baseline share one object."""
    return Management(*s)


def device(s: Spec) -> types.Device:
    """(name, site, site name, level, role, reflector, platform, vendor, model, asn, loopback4,
    loopback6, router id, IS-IS NET, IGP, interfaces, VRFs, transit VRFs, BGP sessions,
    attachments, Internet exit, management, hardware); loopbacks as integers, the rest as the
    parts above."""
    (name, site, site_name, level, role, reflector, platform, vendor, model, asn, lb4, lb6, router_id, isis_net, igp,
     interfaces, vrfs, transit, bgp, attachments, inet, mgmt, hw) = s
    return Device(name, site, site_name, level, role, reflector, platform, vendor, model, asn,
                  None if lb4 is None else IPv4Address(lb4), None if lb6 is None else IPv6Address(lb6), router_id,
                  isis_net, igp, tuple(map(interface, interfaces)), tuple(starmap(Vrf, vrfs)),
                  tuple(starmap(Vrf, transit)), tuple(starmap(BgpSession, bgp)), tuple(map(attachment, attachments)),
                  internet(inet), management(mgmt), hardware(hw))


def site(s: Spec) -> types.Site:
    """(id, name, level, code, parent, mlps, asn, pool4, pool6, devices); pools as (integer, length)."""
    return Site(*s[:7], None if s[7] is None else network4(*s[7]), None if s[8] is None else network6(*s[8]), s[9])
