"""Identifiers and pinned values that must be unique network-wide. One pass each, O(n)."""
from __future__ import annotations

import ipaddress
from typing import Iterable, Iterator

from ..intent import Intent, vrf_name
from ..tree import Map
from . import Finding, rule


def _duplicates(items: Iterable[tuple[object, Map, str]], what: str, hint: str) -> Iterator[Finding]:
    """Each (value, mapping, key) whose value repeats an earlier one's; located only when
    reported (a Location for each of 50,000 devices would cost more than the check)."""
    first: dict[object, tuple[Map, str]] = {}
    for value, m, key in items:
        if value in first:
            yield Finding(m.where(key), f"duplicate {what} `{value}`", hint, (first[value][0].where(first[value][1]),))
        else:
            first[value] = (m, key)


def _by(items: Iterable[Map], key: str) -> Iterator[tuple[object, Map, str]]:
    return ((m[key], m, key) for m in items)


@rule("unique.site-id", "site ids are unique")
def site_id(intent: Intent):
    yield from _duplicates(_by(intent.sites, "id"), "site id", "give each site its own id")


@rule("unique.site-code", "administrative codes are unique")
def site_code(intent: Intent):
    yield from _duplicates(_by(intent.sites, "code"), "administrative code", "each site has its own GB/T 2260 code")


@rule("unique.device-name", "device names are unique network-wide")
def device_name(intent: Intent):
    yield from _duplicates(_by((d for _, d in intent.devices), "name"), "device name",
                           "device names are host names: make each one unique")


@rule("unique.zone", "zone ids and VPN ids are unique")
def zone(intent: Intent):
    yield from _duplicates(_by(intent.zones, "id"), "zone id", "rename one of the zones")
    yield from _duplicates(_by(intent.zones, "vpn_id"), "vpn_id", "each zone is its own VPN: give it its own vpn_id")


@rule("unique.vrf", "each zone has its own VRF name and route target")
def vrf(intent: Intent):
    """Two zones in one VRF (or importing each other's routes through one pinned RT) are one
    network on every device that carries both: the isolation between them is gone."""
    hint = "each zone is its own VPN: give it its own `{}` (or none: the default is derived from the zone)"
    yield from _duplicates(((vrf_name(z), z, "vrf") for z in intent.zones),
                           "VRF name", hint.format("vrf"))
    yield from _duplicates(((z["rt"], z, "rt") for z in intent.zones if z.get("rt")), "route target",
                           hint.format("rt"))


@rule("unique.department-id", "department ids are unique")
def department_id(intent: Intent):
    yield from _duplicates(_by(intent.departments, "id"), "department id", "merge the two entries, or rename one")


@rule("unique.server-id", "server ids are unique")
def server_id(intent: Intent):
    yield from _duplicates(_by(intent.network["servers"], "id"), "server id", "rename one of the servers")


@rule("unique.asn", "pinned AS numbers are unique")
def asn(intent: Intent):
    yield from _duplicates(_by((s for s in intent.sites if s.get("asn")), "asn"), "AS number",
                           "two provinces cannot share an AS: remove one pin")


def _pinned_addresses(intent: Intent) -> Iterator[tuple[str, Map, str]]:
    for site, dev in intent.devices:
        for fam in ("ipv4", "ipv6"):
            if dev.get("loopback", {}).get(fam):
                yield str(ipaddress.ip_address(dev["loopback"][fam])), dev["loopback"], fam
        if dev.get("mgmt"):
            yield str(ipaddress.ip_address(dev["mgmt"])), dev, "mgmt"
    for srv in intent.network["servers"]:
        yield str(ipaddress.ip_address(srv["address"])), srv, "address"


@rule("unique.address", "pinned host addresses (loopbacks, management, servers) are unique")
def address(intent: Intent):
    yield from _duplicates(_pinned_addresses(intent), "address", "every host address is used once: change one")
